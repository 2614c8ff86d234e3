/*-------------------------------------------------------------------------
 *
 * src/live/vault.h
 *	  API credentials sealed with AES-256-GCM under the master key, pure C
 *	  over OpenSSL 3 (no PostgreSQL header).
 *
 * A sealed row is a fresh random 12-byte nonce and the ciphertext of the
 * packed credentials followed by GCM's 16-byte tag.  The associated data
 * names the account ("zvt api key v1 account <id>"), so a row copied to
 * another account, or altered in any byte, does not open.  The master
 * key is 32 bytes, kept in the key file as 64 hex digits.
 *
 * Functions return 0 (or a length) on success and -1 on failure, and
 * wipe every intermediate buffer holding a secret (OPENSSL_cleanse).
 * Callers wipe what they get back (vault_creds_wipe).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_VAULT_H
#define LIVE_VAULT_H

#include <stddef.h>
#include <stdint.h>

#define VAULT_KEY_LEN		32
#define VAULT_NONCE_LEN		12
#define VAULT_TAG_LEN		16
#define VAULT_FIELD_MAX		4096	/* longest key, secret or passphrase */
#define VAULT_FP_LEN		17		/* 16 hex digits and a NUL */

/* Plain credentials, in caller memory; passphrase NULL when none. */
typedef struct VaultCreds
{
	char		api_key[VAULT_FIELD_MAX + 1];
	char		secret[VAULT_FIELD_MAX + 1];
	char		passphrase[VAULT_FIELD_MAX + 1];
	int			has_passphrase;
} VaultCreds;

/* in vault.c */
extern int	vault_parse_master(const char *text, size_t len,
							   unsigned char key[VAULT_KEY_LEN]);
extern void vault_fingerprint(const void *data, size_t len, char out[VAULT_FP_LEN]);
extern size_t vault_sealed_len(const char *api_key, const char *secret,
							   const char *passphrase);
extern int	vault_seal(const unsigned char key[VAULT_KEY_LEN], int32_t account_id,
					   const char *api_key, const char *secret,
					   const char *passphrase,
					   unsigned char nonce[VAULT_NONCE_LEN],
					   unsigned char *sealed, size_t sealedsz);
extern int	vault_open(const unsigned char key[VAULT_KEY_LEN], int32_t account_id,
					   const unsigned char nonce[VAULT_NONCE_LEN],
					   const unsigned char *sealed, size_t len, VaultCreds *out);
extern void vault_creds_wipe(VaultCreds *c);
extern void vault_wipe(void *p, size_t len);

#endif							/* LIVE_VAULT_H */
