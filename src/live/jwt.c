/*-------------------------------------------------------------------------
 *
 * src/live/jwt.c
 *	  Coinbase Advanced Trade's per-request JWT: build and sign one (ES256
 *	  or EdDSA), verify one (the simulator's side), and the public key of
 *	  a secret.
 *
 * The token is the one coinbase-advanced-py's jwt_generator builds:
 * header {"alg","kid","nonce","typ"} (PyJWT sorts header keys), claims
 * {"sub","iss":"cdp","nbf","exp" = nbf + 120[,"uri"]} in that order,
 * both compact JSON, base64url without padding.  "uri" is
 * "<METHOD> <host><path>" for REST and absent for WebSocket tokens.
 * ES256 signatures are JOSE's raw r || s (64 bytes), not DER, and are
 * randomized; EdDSA (Ed25519) is deterministic, so a token built from
 * the same header and claims reproduces the SDK's byte for byte
 * (test/unit/test_live_sign.c).
 *
 * The secret is a PEM private key (SEC1 "EC PRIVATE KEY" or PKCS#8), or
 * base64 of a raw Ed25519 key (32-byte seed, or seed || public key).
 * Strings put into the JSON are refused (-1) if they hold a quote, a
 * backslash or a control character, so no escaping is ever needed.
 *
 *-------------------------------------------------------------------------
 */
#include "live/sign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define JWT_MAX_PART	2048	/* longest header or claims JSON we build */

static EVP_PKEY *load_private(const char *secret);
static int	json_safe(const char *s);
static int	sign_bytes(EVP_PKEY *key, const unsigned char *msg, size_t len,
					   unsigned char *sig, size_t *siglen);
static int	verify_bytes(EVP_PKEY *key, const unsigned char *msg, size_t len,
						 const unsigned char *sig, size_t siglen);

/*
 * Build and sign the JWT for one request (uri "POST api.coinbase.com/
 * api/v3/brokerage/orders"), or for a WebSocket subscribe (uri NULL).
 * nonce_hex is the header's random nonce, chosen by the caller
 * (RAND_bytes in production, fixed in tests).  Returns the token's
 * length, or -1.
 */
int
sign_coinbase_jwt(const char *secret, const char *key_name, const char *nonce_hex,
				  int64_t now_s, const char *uri, char *out, size_t outsz)
{
	EVP_PKEY   *key;
	char		header[JWT_MAX_PART];
	char		claims[JWT_MAX_PART];
	unsigned char sig[80];
	size_t		siglen = sizeof(sig);
	int			n,
				pos,
				rc = -1;

	if (!json_safe(key_name) || !json_safe(nonce_hex) || (uri && !json_safe(uri)))
		return -1;
	key = load_private(secret);
	if (key == NULL)
		return -1;
	n = snprintf(header, sizeof(header),
				 "{\"alg\":\"%s\",\"kid\":\"%s\",\"nonce\":\"%s\",\"typ\":\"JWT\"}",
				 EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? "EdDSA" : "ES256",
				 key_name, nonce_hex);
	if (n < 0 || n >= (int) sizeof(header))
		goto done;
	n = snprintf(claims, sizeof(claims),
				 "{\"sub\":\"%s\",\"iss\":\"cdp\",\"nbf\":%lld,\"exp\":%lld%s%s%s}",
				 key_name, (long long) now_s, (long long) (now_s + 120),
				 uri ? ",\"uri\":\"" : "", uri ? uri : "", uri ? "\"" : "");
	if (n < 0 || n >= (int) sizeof(claims))
		goto done;

	/* header.claims, then sign those bytes */
	if ((pos = sign_base64url((unsigned char *) header, strlen(header), out, outsz)) < 0 ||
		(size_t) pos + 1 >= outsz)
		goto done;
	out[pos++] = '.';
	if ((n = sign_base64url((unsigned char *) claims, strlen(claims), out + pos, outsz - pos)) < 0)
		goto done;
	pos += n;
	if (sign_bytes(key, (unsigned char *) out, (size_t) pos, sig, &siglen) < 0 ||
		(size_t) pos + 1 >= outsz)
		goto done;
	out[pos++] = '.';
	if ((n = sign_base64url(sig, siglen, out + pos, outsz - pos)) < 0)
		goto done;
	rc = pos + n;
done:
	EVP_PKEY_free(key);
	return rc;
}

/*
 * Verify a JWT's signature with a public key in PEM (SubjectPublicKeyInfo)
 * and copy its decoded claims JSON into claims (NUL-terminated).  The
 * header's alg must be the key's (ES256 for P-256, EdDSA for Ed25519).
 * Returns the claims' length, or -1 if the token is malformed, the
 * signature does not verify or a buffer is too small.  Checking the
 * claims (sub, nbf, exp, uri) is the caller's business.
 */
int
sign_jwt_verify(const char *token, const char *public_pem, char *claims, size_t claimsz)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	char		header[JWT_MAX_PART];
	unsigned char sig[80];
	BIO		   *bio;
	EVP_PKEY   *key;
	int			hlen,
				clen,
				slen,
				rc = -1;
	const char *want;

	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return -1;
	hlen = sign_base64url_decode(token, dot1 - token, (unsigned char *) header, sizeof(header) - 1);
	clen = sign_base64url_decode(dot1 + 1, dot2 - dot1 - 1, (unsigned char *) claims,
								 claimsz > 0 ? claimsz - 1 : 0);
	slen = sign_base64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig));
	if (hlen < 0 || clen < 0 || slen < 0)
		return -1;
	header[hlen] = '\0';
	claims[clen] = '\0';

	bio = BIO_new_mem_buf(public_pem, -1);
	key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key == NULL)
		return -1;
	want = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? "\"alg\":\"EdDSA\"" : "\"alg\":\"ES256\"";
	if (strstr(header, want) != NULL &&
		verify_bytes(key, (const unsigned char *) token, (size_t) (dot2 - token),
					 sig, (size_t) slen) == 0)
		rc = clen;
	EVP_PKEY_free(key);
	return rc;
}

/*
 * The public key of a secret (as sign_coinbase_jwt takes it) in PEM,
 * for registering a key with the simulator.  Returns its length or -1.
 */
int
sign_public_pem(const char *secret, char *out, size_t outsz)
{
	EVP_PKEY   *key = load_private(secret);
	BIO		   *bio;
	char	   *data;
	long		len;
	int			rc = -1;

	if (key == NULL)
		return -1;
	bio = BIO_new(BIO_s_mem());
	if (bio && PEM_write_bio_PUBKEY(bio, key))
	{
		len = BIO_get_mem_data(bio, &data);
		if (len > 0 && (size_t) len < outsz)
		{
			memcpy(out, data, (size_t) len);
			out[len] = '\0';
			rc = (int) len;
		}
	}
	BIO_free(bio);
	EVP_PKEY_free(key);
	return rc;
}

/* ----------------------------------------------------------------
 *		Keys and raw signatures
 * ----------------------------------------------------------------
 */

/* the private key of a secret: PEM, or base64 of a raw Ed25519 key */
static EVP_PKEY *
load_private(const char *secret)
{
	unsigned char raw[64];
	EVP_PKEY   *key = NULL;
	int			n;

	if (secret == NULL)
		return NULL;
	if (strncmp(secret, "-----BEGIN", 10) == 0)
	{
		BIO		   *bio = BIO_new_mem_buf(secret, -1);

		key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (key && EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519 &&
			!EVP_PKEY_is_a(key, "EC"))
		{
			EVP_PKEY_free(key);
			key = NULL;
		}
		return key;
	}
	n = sign_base64_decode(secret, strlen(secret), raw, sizeof(raw));
	if (n == 32 || n == 64)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
	OPENSSL_cleanse(raw, sizeof(raw));
	return key;
}

/* no quote, backslash or control character: safe inside a JSON string */
static int
json_safe(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char) *s < 0x20)
			return 0;
	return 1;
}

/*
 * Sign msg: Ed25519 as is, ECDSA over SHA-256 converted from DER to the
 * 64-byte r || s JOSE wants.
 */
static int
sign_bytes(EVP_PKEY *key, const unsigned char *msg, size_t len,
		   unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int			ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	unsigned char der[128];
	size_t		derlen = sizeof(der);
	int			rc = -1;

	if (md == NULL ||
		EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, key) != 1)
		goto done;
	if (ed)
	{
		if (EVP_DigestSign(md, sig, siglen, msg, len) == 1)
			rc = 0;
	}
	else if (EVP_DigestSign(md, der, &derlen, msg, len) == 1 && *siglen >= 64)
	{
		const unsigned char *p = der;
		ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &p, (long) derlen);
		const BIGNUM *r,
				   *s;

		if (es)
		{
			ECDSA_SIG_get0(es, &r, &s);
			if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32)
			{
				*siglen = 64;
				rc = 0;
			}
			ECDSA_SIG_free(es);
		}
	}
done:
	EVP_MD_CTX_free(md);
	return rc;
}

/* 0 if sig (Ed25519, or ECDSA as r || s) is msg's signature under key */
static int
verify_bytes(EVP_PKEY *key, const unsigned char *msg, size_t len,
			 const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int			ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	unsigned char *der = NULL;
	ECDSA_SIG  *es = NULL;
	int			derlen,
				rc = -1;

	if (md == NULL ||
		EVP_DigestVerifyInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, key) != 1)
		goto done;
	if (ed)
	{
		rc = EVP_DigestVerify(md, sig, siglen, msg, len) == 1 ? 0 : -1;
		goto done;
	}
	if (siglen != 64 || (es = ECDSA_SIG_new()) == NULL)
		goto done;
	{
		BIGNUM	   *r = BN_bin2bn(sig, 32, NULL);
		BIGNUM	   *s = BN_bin2bn(sig + 32, 32, NULL);

		if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
		{
			BN_free(r);
			BN_free(s);
			goto done;
		}
	}
	derlen = i2d_ECDSA_SIG(es, &der);
	if (derlen > 0 && EVP_DigestVerify(md, der, (size_t) derlen, msg, len) == 1)
		rc = 0;
done:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}
