/*-------------------------------------------------------------------------
 *
 * src/http/jwt.c
 *	  Verifying and signing JSON Web Tokens (jwt.h): base64url, the JOSE
 *	  header, HS256/RS256/ES256 signatures with OpenSSL, a JWKS document's
 *	  RSA and P-256 keys, PostgREST's claim checks and its role claim key.
 *
 * The order of the checks, and each message, follow PostgREST 14
 * (PostgREST.Auth.Jwt): three parts, then the algorithm and a key for
 * it, then the signature, then the claims (exp, nbf, iat, aud) and last
 * the role.  An HMAC is compared with CRYPTO_memcmp, in time independent
 * of where it differs; "alg": "none" is refused like any algorithm
 * without a key.  A JWKS key with a "kid" is used only for tokens whose
 * header names that kid (tokens without a kid try every key of their
 * type).
 *
 *-------------------------------------------------------------------------
 */
#include "http/jwt.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_MAX_KEYS 16

typedef struct JwtKey
{
	int			type;			/* EVP_PKEY_RSA or EVP_PKEY_EC */
	char	   *kid;			/* malloc'd; NULL when the key has none */
	EVP_PKEY   *pkey;
} JwtKey;

struct JwtKeys
{
	unsigned char *secret;		/* the HS256 secret; NULL when none */
	size_t		secret_len;
	EVP_MAC_CTX *hmac;			/* HMAC-SHA256 keyed with the secret, copied
								 * for each token (fetching the algorithm and
								 * keying it cost more than the MAC); NULL when
								 * no secret or it could not be made */
	JwtKey		keys[JWT_MAX_KEYS];
	int			nkeys;
};

/* strdup is not C11; a malloc failure aborts (the worker is restarted) */
static char *
dup_string(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *d = malloc(n);

	if (d == NULL)
		abort();
	return memcpy(d, s, n);
}

static void
set_error(JwtError *e, const char *code, const char *message)
{
	e->code = code;
	snprintf(e->message, sizeof(e->message), "%s", message);
}

/* ----------------------------------------------------------------
 *		base64url
 * ----------------------------------------------------------------
 */

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decode base64url (no padding) of s[0..n) into a malloc'd buffer;
 * NULL when s is not base64url.  *outlen gets the length.
 */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out = malloc(n * 3 / 4 + 3);
	size_t		o = 0;
	unsigned int acc = 0;
	int			bits = 0;

	if (out == NULL)
		return NULL;
	if (n % 4 == 1)
	{
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
	{
		int			v = b64_value((unsigned char) s[i]);

		if (v < 0)
		{
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Encode in[0..n) as base64url without padding, appended at out. */
static size_t
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t		o = 0;
	size_t		i;

	for (i = 0; i + 2 < n; i += 3)
	{
		unsigned int v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1)
	{
		unsigned int v = in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
	}
	else if (n - i == 2)
	{
		unsigned int v = (in[i] << 16) | (in[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

bool
jwt_equal_ct(const unsigned char *a, const unsigned char *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* ----------------------------------------------------------------
 *		Keys
 * ----------------------------------------------------------------
 */

/* A JWK member decoded from base64url into a BIGNUM-ready buffer. */
static unsigned char *
jwk_bytes(json_t *jwk, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(jwk, name));

	return s ? b64url_decode(s, strlen(s), len) : NULL;
}

static EVP_PKEY *
jwk_rsa(json_t *jwk)
{
	size_t		nlen = 0,
				elen = 0;
	unsigned char *n = jwk_bytes(jwk, "n", &nlen);
	unsigned char *e = jwk_bytes(jwk, "e", &elen);
	BIGNUM	   *bn = NULL,
			   *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY   *pkey = NULL;

	if (n && e && (bn = BN_bin2bn(n, nlen, NULL)) && (be = BN_bin2bn(e, elen, NULL)) &&
		(bld = OSSL_PARAM_BLD_new()) &&
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
		(params = OSSL_PARAM_BLD_to_param(bld)) &&
		(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
		EVP_PKEY_fromdata_init(ctx) > 0)
		(void) EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pkey;
}

static EVP_PKEY *
jwk_ec(json_t *jwk)
{
	size_t		xlen = 0,
				ylen = 0;
	unsigned char *x = jwk_bytes(jwk, "x", &xlen);
	unsigned char *y = jwk_bytes(jwk, "y", &ylen);
	unsigned char point[65];
	char		group[] = "P-256";
	OSSL_PARAM	params[3];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY   *pkey = NULL;

	if (x && y && xlen == 32 && ylen == 32)
	{
		point[0] = 0x04;		/* uncompressed */
		memcpy(point + 1, x, 32);
		memcpy(point + 33, y, 32);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
		params[2] = OSSL_PARAM_construct_end();
		if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) &&
			EVP_PKEY_fromdata_init(ctx) > 0)
			(void) EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
		EVP_PKEY_CTX_free(ctx);
	}
	free(x);
	free(y);
	return pkey;
}

/* An HMAC-SHA256 context keyed with key, or NULL. */
static EVP_MAC_CTX *
hmac_keyed(const unsigned char *key, size_t keylen)
{
	EVP_MAC    *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM	params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	EVP_MAC_free(mac);			/* the context keeps its own reference */
	if (ctx && EVP_MAC_init(ctx, key, keylen, params) != 1)
	{
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

JwtKeys *
jwt_keys_new(const char *secret, const char *jwks, char *err, size_t errlen)
{
	JwtKeys    *k = calloc(1, sizeof(JwtKeys));
	json_t	   *doc;
	json_t	   *arr;
	json_error_t jerr;
	size_t		i;
	json_t	   *jwk;

	if (k == NULL)
		abort();
	if (secret && secret[0])
	{
		k->secret_len = strlen(secret);
		k->secret = (unsigned char *) dup_string(secret);
		k->hmac = hmac_keyed(k->secret, k->secret_len);
	}
	if (jwks == NULL)
		return k;
	doc = json_loads(jwks, 0, &jerr);
	arr = doc ? json_object_get(doc, "keys") : NULL;
	if (!json_is_array(arr))
	{
		snprintf(err, errlen, "%s", doc ? "the document has no \"keys\" array" : jerr.text);
		json_decref(doc);
		jwt_keys_free(k);
		return NULL;
	}
	json_array_foreach(arr, i, jwk)
	{
		const char *kty = json_string_value(json_object_get(jwk, "kty"));
		const char *kid = json_string_value(json_object_get(jwk, "kid"));
		const char *crv = json_string_value(json_object_get(jwk, "crv"));
		EVP_PKEY   *pkey = NULL;
		int			type = 0;

		if (k->nkeys >= JWT_MAX_KEYS || kty == NULL)
			continue;
		if (strcmp(kty, "RSA") == 0)
		{
			pkey = jwk_rsa(jwk);
			type = EVP_PKEY_RSA;
		}
		else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0)
		{
			pkey = jwk_ec(jwk);
			type = EVP_PKEY_EC;
		}
		if (pkey == NULL)
			continue;
		k->keys[k->nkeys].type = type;
		k->keys[k->nkeys].kid = kid ? dup_string(kid) : NULL;
		k->keys[k->nkeys].pkey = pkey;
		k->nkeys++;
	}
	json_decref(doc);
	return k;
}

void
jwt_keys_free(JwtKeys *keys)
{
	if (keys == NULL)
		return;
	if (keys->secret)
		OPENSSL_cleanse(keys->secret, keys->secret_len);
	free(keys->secret);
	EVP_MAC_CTX_free(keys->hmac);
	for (int i = 0; i < keys->nkeys; i++)
	{
		free(keys->keys[i].kid);
		EVP_PKEY_free(keys->keys[i].pkey);
	}
	free(keys);
}

/* ----------------------------------------------------------------
 *		Signatures
 * ----------------------------------------------------------------
 */

static bool
verify_hs256(const JwtKeys *keys, const char *input, size_t len,
			 const unsigned char *sig, size_t siglen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	EVP_MAC_CTX *ctx = keys->hmac ? EVP_MAC_CTX_dup(keys->hmac) : NULL;

	if (ctx)
	{
		size_t		n = 0;
		bool		ok = EVP_MAC_update(ctx, (const unsigned char *) input, len) == 1 &&
			EVP_MAC_final(ctx, mac, &n, sizeof(mac)) == 1;

		EVP_MAC_CTX_free(ctx);
		if (!ok)
			return false;
		maclen = (unsigned int) n;
	}
	else if (HMAC(EVP_sha256(), keys->secret, (int) keys->secret_len,
				  (const unsigned char *) input, len, mac, &maclen) == NULL)
		return false;
	return siglen == maclen && jwt_equal_ct(mac, sig, maclen);
}

/* ES256's r||s (64 bytes) as the DER ECDSA-Sig-Value OpenSSL verifies. */
static unsigned char *
es256_der(const unsigned char *sig, size_t siglen, size_t *derlen)
{
	ECDSA_SIG  *s;
	unsigned char *der = NULL;
	int			n;

	if (siglen != 64 || (s = ECDSA_SIG_new()) == NULL)
		return NULL;
	if (!ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)))
	{
		ECDSA_SIG_free(s);
		return NULL;
	}
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return NULL;
	*derlen = (size_t) n;
	return der;
}

static bool
verify_pkey(EVP_PKEY *pkey, int type, const char *input, size_t len,
			const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	size_t		derlen = 0;
	bool		ok = false;

	if (type == EVP_PKEY_EC)
	{
		der = es256_der(sig, siglen, &derlen);
		if (der == NULL)
		{
			EVP_MD_CTX_free(md);
			return false;
		}
		sig = der;
		siglen = derlen;
	}
	if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *) input, len) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok;
}

/*
 * Check the signature of input (header.payload) with a key for alg; false
 * with *e filled on failure.
 */
static bool
verify_signature(const JwtKeys *keys, const char *alg, const char *kid,
				 const char *input, size_t len,
				 const unsigned char *sig, size_t siglen, JwtError *e)
{
	int			type;
	bool		tried = false;

	if (strcmp(alg, "HS256") == 0)
	{
		if (keys->secret == NULL)
		{
			set_error(e, "PGRST301", "No suitable key or wrong key type");
			return false;
		}
		if (verify_hs256(keys, input, len, sig, siglen))
			return true;
		set_error(e, "PGRST301", "JWT cryptographic operation failed");
		return false;
	}
	if (strcmp(alg, "RS256") == 0)
		type = EVP_PKEY_RSA;
	else if (strcmp(alg, "ES256") == 0)
		type = EVP_PKEY_EC;
	else
	{
		set_error(e, "PGRST301", "Wrong or unsupported encoding algorithm");
		return false;
	}
	for (int i = 0; i < keys->nkeys; i++)
	{
		const JwtKey *k = &keys->keys[i];

		if (k->type != type || (kid && k->kid && strcmp(kid, k->kid) != 0))
			continue;
		tried = true;
		if (verify_pkey(k->pkey, type, input, len, sig, siglen))
			return true;
	}
	set_error(e, "PGRST301", tried ? "JWT cryptographic operation failed"
			  : "No suitable key or wrong key type");
	return false;
}

/* ----------------------------------------------------------------
 *		Claims
 * ----------------------------------------------------------------
 */

/* exp, nbf, iat: a number when present; false with *e on failure. */
static bool
check_time(json_t *claims, const char *name, int64_t now, JwtError *e)
{
	json_t	   *v = json_object_get(claims, name);
	double		t;
	char		msg[64];

	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_number(v))
	{
		snprintf(msg, sizeof(msg), "The JWT '%s' claim must be a number", name);
		set_error(e, "PGRST303", msg);
		return false;
	}
	t = json_number_value(v);
	if (strcmp(name, "exp") == 0 && (double) (now - JWT_SKEW_SECONDS) > t)
		set_error(e, "PGRST303", "JWT expired");
	else if (strcmp(name, "nbf") == 0 && (double) (now + JWT_SKEW_SECONDS) < t)
		set_error(e, "PGRST303", "JWT not yet valid");
	else if (strcmp(name, "iat") == 0 && (double) (now + JWT_SKEW_SECONDS) < t)
		set_error(e, "PGRST303", "JWT issued at future");
	else
		return true;
	return false;
}

static bool
check_aud(json_t *claims, const char *aud, JwtError *e)
{
	json_t	   *v = json_object_get(claims, "aud");
	size_t		i;
	json_t	   *a;
	bool		found = false;

	if (v == NULL || json_is_null(v))
		return true;
	if (json_is_string(v))
		found = aud == NULL || aud[0] == '\0' || strcmp(json_string_value(v), aud) == 0;
	else if (json_is_array(v))
	{
		json_array_foreach(v, i, a)
		{
			if (!json_is_string(a))
			{
				set_error(e, "PGRST303", "The JWT 'aud' claim must be a string or an array of strings");
				return false;
			}
			if (aud && aud[0] && strcmp(json_string_value(a), aud) == 0)
				found = true;
		}
		if (json_array_size(v) == 0 || aud == NULL || aud[0] == '\0')
			found = true;
	}
	else
	{
		set_error(e, "PGRST303", "The JWT 'aud' claim must be a string or an array of strings");
		return false;
	}
	if (!found)
		set_error(e, "PGRST303", "JWT not in audience");
	return found;
}

/*
 * Walk role_path (".a.\"b c\"[0]") through v; the value found, or NULL.
 * When validate_only, only check the syntax (v may be NULL).
 */
static json_t *
walk_path(json_t *v, const char *p, bool validate_only, bool *valid)
{
	char		key[256];

	*valid = false;
	if (*p == '\0')
		return NULL;
	while (*p)
	{
		size_t		n = 0;

		if (*p == '.')
		{
			p++;
			if (*p == '"')
			{
				p++;
				while (*p && *p != '"' && n < sizeof(key) - 1)
					key[n++] = *p++;
				if (*p != '"')
					return NULL;
				p++;
			}
			else
				while (*p && *p != '.' && *p != '[' && *p != '"' && n < sizeof(key) - 1)
					key[n++] = *p++;
			if (n == 0)
				return NULL;
			key[n] = '\0';
			if (!validate_only)
				v = json_is_object(v) ? json_object_get(v, key) : NULL;
		}
		else if (*p == '[')
		{
			long		idx = 0;

			p++;
			if (*p < '0' || *p > '9')
				return NULL;
			while (*p >= '0' && *p <= '9' && idx < 1000000)
				idx = idx * 10 + (*p++ - '0');
			if (*p != ']')
				return NULL;
			p++;
			if (!validate_only)
				v = json_is_array(v) ? json_array_get(v, (size_t) idx) : NULL;
		}
		else
			return NULL;
	}
	*valid = true;
	return v;
}

bool
jwt_role_path_valid(const char *role_path)
{
	bool		valid;

	(void) walk_path(NULL, role_path, true, &valid);
	return valid;
}

/* ----------------------------------------------------------------
 *		Verify and sign
 * ----------------------------------------------------------------
 */

char *
jwt_verify(const JwtKeys *keys, const char *token, size_t len, int64_t now,
		   const char *aud, const char *role_path, char **role, JwtError *e)
{
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (dot1 + 1 - token)) : NULL;
	unsigned char *hdr = NULL,
			   *payload = NULL,
			   *sig = NULL;
	size_t		hlen,
				plen,
				siglen;
	json_t	   *h = NULL,
			   *claims = NULL,
			   *r;
	const char *alg;
	char	   *out = NULL;
	bool		valid;
	int			parts = 1;

	*role = NULL;
	for (size_t i = 0; i < len; i++)
		parts += token[i] == '.';
	if (len == 0)
	{
		set_error(e, "PGRST301", "Empty JWT is sent in Authorization header");
		return NULL;
	}
	if (parts != 3)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "Expected 3 parts in JWT; got %d", parts);
		set_error(e, "PGRST301", msg);
		return NULL;
	}
	hdr = b64url_decode(token, dot1 - token, &hlen);
	payload = b64url_decode(dot1 + 1, dot2 - dot1 - 1, &plen);
	sig = b64url_decode(dot2 + 1, len - (dot2 + 1 - token), &siglen);
	h = hdr ? json_loadb((const char *) hdr, hlen, 0, NULL) : NULL;
	alg = json_string_value(json_object_get(h, "alg"));
	if (!payload || !sig || alg == NULL)
		set_error(e, "PGRST301", "JWT cryptographic operation failed");
	else if (verify_signature(keys, alg,
							  json_string_value(json_object_get(h, "kid")),
							  token, dot2 - token, sig, siglen, e))
	{
		claims = json_loadb((const char *) payload, plen, 0, NULL);
		if (!json_is_object(claims))
			set_error(e, "PGRST303", "Parsing claims failed");
		else if (check_time(claims, "exp", now, e) && check_time(claims, "nbf", now, e) &&
				 check_time(claims, "iat", now, e) && check_aud(claims, aud, e))
		{
			r = walk_path(claims, role_path, false, &valid);
			if (r && json_is_string(r))
				*role = dup_string(json_string_value(r));
			else if (r && !json_is_null(r))
				*role = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
			if (*role)
				json_object_set_new(claims, "role", json_string(*role));
			out = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
		}
	}
	json_decref(h);
	json_decref(claims);
	free(hdr);
	free(payload);
	free(sig);
	return out;
}

char *
jwt_sign_hs256(const char *secret, const char *claims_json)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	json_t	   *claims = json_loads(claims_json, 0, NULL);
	char	   *payload;
	size_t		plen;
	size_t		n;
	char	   *out;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (!json_is_object(claims))
	{
		json_decref(claims);
		return NULL;
	}
	payload = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(claims);
	if (payload == NULL)
		abort();
	plen = strlen(payload);
	out = malloc((sizeof(header) + plen) * 4 / 3 + 128);
	if (out == NULL)
		abort();
	n = b64url_encode((const unsigned char *) header, sizeof(header) - 1, out);
	out[n++] = '.';
	n += b64url_encode((const unsigned char *) payload, plen, out + n);
	free(payload);
	if (HMAC(EVP_sha256(), secret, (int) strlen(secret), (const unsigned char *) out, n,
			 mac, &maclen) == NULL)
		abort();
	out[n++] = '.';
	b64url_encode(mac, maclen, out + n);
	return out;
}
