/*-------------------------------------------------------------------------
 *
 * src/live/sign.h
 *	  Request signing for the four exchanges' private REST and WebSocket
 *	  APIs, pure C over OpenSSL 3 (no PostgreSQL header).
 *
 * Every function writes into a caller buffer and returns the length
 * written (without the terminating NUL, which is always written), or -1
 * when the buffer is too small, an argument is malformed or OpenSSL
 * fails; on -1 the buffer's contents are unspecified.  No function
 * keeps a secret beyond the call: intermediate MACs and decoded keys
 * live on the stack and are wiped with OPENSSL_cleanse before returning.
 *
 * What each exchange signs (src/live/README.md, the exchanges' docs):
 *	 Binance	hex HMAC-SHA256(secret, query || body), sent as signature=
 *	 Bybit v5	hex HMAC-SHA256(secret, ts || key || recv_window || payload)
 *	 OKX		base64 HMAC-SHA256(secret, iso_ts || METHOD || path || body)
 *	 Coinbase	a JWT per request (ES256 with a P-256 key, EdDSA with an
 *				Ed25519 key), header {alg,kid,nonce,typ} and claims
 *				{sub,iss,nbf,exp[,uri]}; the legacy Exchange API signs
 *				base64 HMAC-SHA256(base64-decoded secret, ts || METHOD ||
 *				path || body)
 *
 * Wording: a "secret" is the exchange's API secret as the exchange
 * printed it (Coinbase: a PEM key, or base64 of a raw Ed25519 key).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_SIGN_H
#define LIVE_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* lengths of the fixed-size results, with their NUL */
#define SIGN_HEX_LEN		65	/* hex of a SHA-256 MAC */
#define SIGN_B64_LEN		45	/* base64 of a SHA-256 MAC */
#define SIGN_ISO_TS_LEN		25	/* 2020-12-08T09:08:57.715Z */

/* in sign.c: encodings */
extern int	sign_hex(const unsigned char *in, size_t n, char *out, size_t outsz);
extern int	sign_base64(const unsigned char *in, size_t n, char *out, size_t outsz);
extern int	sign_base64url(const unsigned char *in, size_t n, char *out, size_t outsz);
extern int	sign_base64_decode(const char *in, size_t inlen, unsigned char *out,
							   size_t outsz);
extern int	sign_base64url_decode(const char *in, size_t inlen, unsigned char *out,
								  size_t outsz);
extern int	sign_iso_timestamp(int64_t unix_ms, char *out, size_t outsz);
extern int	sign_equal(const char *a, const char *b);

/* in sign.c: the MAC every HMAC exchange builds on */
extern int	sign_hmac_sha256(const void *key, size_t keylen,
							 const char *const *parts, int nparts,
							 unsigned char mac[32]);

/* in sign.c: one function per exchange */
extern int	sign_binance(const char *secret, const char *query, const char *body,
						 char *out, size_t outsz);
extern int	sign_bybit(const char *secret, const char *timestamp_ms,
					   const char *api_key, const char *recv_window,
					   const char *payload, char *out, size_t outsz);
extern int	sign_bybit_ws(const char *secret, const char *expires_ms,
						  char *out, size_t outsz);
extern int	sign_okx(const char *secret, const char *iso_ts, const char *method,
					 const char *path, const char *body, char *out, size_t outsz);
extern int	sign_okx_ws(const char *secret, const char *unix_s, char *out,
						size_t outsz);
extern int	sign_coinbase_exchange(const char *b64_secret, const char *timestamp,
								   const char *method, const char *path,
								   const char *body, char *out, size_t outsz);

/* in jwt.c: Coinbase Advanced Trade */
extern int	sign_coinbase_jwt(const char *secret, const char *key_name,
							  const char *nonce_hex, int64_t now_s,
							  const char *uri, char *out, size_t outsz);
extern int	sign_jwt_verify(const char *token, const char *public_pem,
							char *claims, size_t claimsz);
extern int	sign_public_pem(const char *secret, char *out, size_t outsz);

#endif							/* LIVE_SIGN_H */
