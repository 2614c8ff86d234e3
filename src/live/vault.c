/*-------------------------------------------------------------------------
 *
 * src/live/vault.c
 *	  Seal and open API credentials with AES-256-GCM (vault.h).
 *
 * Packed plaintext: for the key, the secret and the passphrase in turn,
 * a presence byte (1, or 0 for an absent passphrase), a 2-byte
 * big-endian length and the bytes.  The nonce comes from OpenSSL's
 * CSPRNG for every seal, so sealing the same credentials twice gives two
 * unrelated rows; with random 96-bit nonces the GCM bound of 2^32 seals
 * per key is far beyond what one master key ever sees.
 *
 *-------------------------------------------------------------------------
 */
#include "live/vault.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/hex.h"

static int	pack(const char *api_key, const char *secret, const char *passphrase,
				 unsigned char *out, size_t outsz);
static int	field(const unsigned char *in, size_t len, size_t *pos, char *out,
				  int *present);

/* associated data: the account the row belongs to */
static int
vault_aad(int32_t account_id, char *out, size_t outsz)
{
	return snprintf(out, outsz, "zvt api key v1 account %ld", (long) account_id);
}

/*
 * The master key from the key file's text: 64 hex digits, optionally
 * surrounded by white space.  Returns 0, or -1 if the text is anything
 * else.
 */
int
vault_parse_master(const char *text, size_t len, unsigned char key[VAULT_KEY_LEN])
{
	size_t		i = 0,
				n = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	for (; i < len && n < 2 * VAULT_KEY_LEN; i++, n++)
	{
		int			v = hex_digit_value((unsigned char) text[i]);

		if (v < 0)
			break;
		if (n % 2 == 0)
			key[n / 2] = (unsigned char) (v << 4);
		else
			key[n / 2] |= (unsigned char) v;
	}
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (n != 2 * VAULT_KEY_LEN || i != len)
	{
		OPENSSL_cleanse(key, VAULT_KEY_LEN);
		return -1;
	}
	return 0;
}

/*
 * The first 8 bytes of SHA-256(data) in hex: names a master key or an
 * API key without revealing it.
 */
void
vault_fingerprint(const void *data, size_t len, char out[VAULT_FP_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	int			i;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		memset(md, 0, sizeof(md));
	for (i = 0; i < 8; i++)
	{
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[16] = '\0';
}

/* Bytes vault_seal writes for these credentials (ciphertext and tag). */
size_t
vault_sealed_len(const char *api_key, const char *secret, const char *passphrase)
{
	return 9 + strlen(api_key) + strlen(secret) + (passphrase ? strlen(passphrase) : 0)
		+ VAULT_TAG_LEN;
}

/*
 * Seal the credentials of account_id: writes a fresh nonce and
 * vault_sealed_len() bytes to sealed.  Returns that length, or -1 (a
 * field empty or longer than VAULT_FIELD_MAX, a buffer too small, or
 * OpenSSL failing).
 */
int
vault_seal(const unsigned char key[VAULT_KEY_LEN], int32_t account_id,
		   const char *api_key, const char *secret, const char *passphrase,
		   unsigned char nonce[VAULT_NONCE_LEN], unsigned char *sealed, size_t sealedsz)
{
	unsigned char plain[3 * (VAULT_FIELD_MAX + 3)];
	char		aad[64];
	EVP_CIPHER_CTX *ctx = NULL;
	int			plen,
				n = 0,
				fin = 0,
				rc = -1;

	plen = pack(api_key, secret, passphrase, plain, sizeof(plain));
	if (plen < 0 || sealedsz < (size_t) plen + VAULT_TAG_LEN ||
		RAND_bytes(nonce, VAULT_NONCE_LEN) != 1)
		goto done;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN, NULL) != 1 ||
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
		EVP_EncryptUpdate(ctx, NULL, &n, (unsigned char *) aad,
						  vault_aad(account_id, aad, sizeof(aad))) != 1 ||
		EVP_EncryptUpdate(ctx, sealed, &n, plain, plen) != 1 ||
		EVP_EncryptFinal_ex(ctx, sealed + n, &fin) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_LEN, sealed + n + fin) != 1)
		goto done;
	rc = n + fin + VAULT_TAG_LEN;
done:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc;
}

/*
 * Open a sealed row of account_id into *out.  Returns 0, or -1 when the
 * row does not authenticate (wrong master key, another account's row, a
 * changed byte) or does not unpack; *out is wiped on -1.
 */
int
vault_open(const unsigned char key[VAULT_KEY_LEN], int32_t account_id,
		   const unsigned char nonce[VAULT_NONCE_LEN],
		   const unsigned char *sealed, size_t len, VaultCreds *out)
{
	unsigned char plain[3 * (VAULT_FIELD_MAX + 3)];
	char		aad[64];
	EVP_CIPHER_CTX *ctx = NULL;
	size_t		clen,
				pos = 0;
	int			n = 0,
				fin = 0,
				present = 0,
				rc = -1;

	memset(out, 0, sizeof(*out));
	if (len < VAULT_TAG_LEN || len - VAULT_TAG_LEN > sizeof(plain))
		return -1;
	clen = len - VAULT_TAG_LEN;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
		EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_LEN, NULL) != 1 ||
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &n, (unsigned char *) aad,
						  vault_aad(account_id, aad, sizeof(aad))) != 1 ||
		EVP_DecryptUpdate(ctx, plain, &n, sealed, (int) clen) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_LEN,
							(void *) (sealed + clen)) != 1 ||
		EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1)
		goto done;
	if (field(plain, clen, &pos, out->api_key, &present) < 0 || !present ||
		field(plain, clen, &pos, out->secret, &present) < 0 || !present ||
		field(plain, clen, &pos, out->passphrase, &out->has_passphrase) < 0 ||
		pos != clen)
		goto done;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (rc < 0)
		vault_creds_wipe(out);
	return rc;
}

void
vault_creds_wipe(VaultCreds *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

void
vault_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

/* the packed plaintext; -1 if a field is empty or too long */
static int
pack(const char *api_key, const char *secret, const char *passphrase,
	 unsigned char *out, size_t outsz)
{
	const char *f[3] = {api_key, secret, passphrase};
	size_t		pos = 0;
	int			i;

	for (i = 0; i < 3; i++)
	{
		size_t		len = f[i] ? strlen(f[i]) : 0;

		if ((i < 2 && f[i] == NULL) || (f[i] && (len == 0 || len > VAULT_FIELD_MAX)) ||
			pos + 3 + len > outsz)
			return -1;
		out[pos++] = f[i] ? 1 : 0;
		out[pos++] = (unsigned char) (len >> 8);
		out[pos++] = (unsigned char) (len & 255);
		if (len)
			memcpy(out + pos, f[i], len);
		pos += len;
	}
	return (int) pos;
}

/* one packed field into out (NUL-terminated); -1 if malformed */
static int
field(const unsigned char *in, size_t len, size_t *pos, char *out, int *present)
{
	size_t		n;

	if (*pos + 3 > len || in[*pos] > 1)
		return -1;
	*present = in[*pos];
	n = ((size_t) in[*pos + 1] << 8) | in[*pos + 2];
	*pos += 3;
	if (n > VAULT_FIELD_MAX || *pos + n > len || (!*present && n != 0))
		return -1;
	memcpy(out, in + *pos, n);
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		return -1;
	*pos += n;
	return 0;
}
