/*
 * test/unit/test_http_jwt.c
 *	  Unit tests of src/http/jwt.c: HS256 signing and verifying, each claim
 *	  check with its PostgREST message, alg none, the role claim key, and
 *	  RS256/ES256 tokens checked with the keys of a JWKS document (keys made
 *	  here with OpenSSL, tokens signed here).
 */
#include "http/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "unit_test.h"

static const char *secret = "0123456789abcdef0123456789abcdef";
static const int64_t now = 1700000000;

/* verify with only the HS256 secret; returns the message or "ok:<role>" */
static const char *
check(const JwtKeys *keys, const char *token, const char *aud, const char *path)
{
	static char out[256];
	JwtError	e;
	char	   *role = NULL;
	char	   *claims = jwt_verify(keys, token, strlen(token), now, aud, path, &role, &e);

	if (claims == NULL)
		snprintf(out, sizeof(out), "%s %s", e.code, e.message);
	else
		snprintf(out, sizeof(out), "ok:%s", role ? role : "(none)");
	free(claims);
	free(role);
	return out;
}

static const char *
hs(const char *claims)
{
	static char tok[1024];
	char	   *t = jwt_sign_hs256(secret, claims);

	snprintf(tok, sizeof(tok), "%s", t);
	free(t);
	return tok;
}

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *) out, in, (int) n);
	for (char *p = out; *p; p++)
	{
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
	}
}

static void
bn_b64url(EVP_PKEY *k, const char *param, char *out)
{
	BIGNUM	   *bn = NULL;
	unsigned char buf[600];
	int			n;

	EVP_PKEY_get_bn_param(k, param, &bn);
	n = BN_bn2bin(bn, buf);
	b64url(buf, n, out);
	BN_free(bn);
}

/* sign "header.payload" with k; ES256 as r||s */
static void
sign_pkey(EVP_PKEY *k, bool ec, const char *header, const char *claims, char *tok)
{
	char		h[256],
				p[512],
				s[600];
	unsigned char sig[600];
	size_t		siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	b64url((const unsigned char *) header, strlen(header), h);
	b64url((const unsigned char *) claims, strlen(claims), p);
	sprintf(tok, "%s.%s", h, p);
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(md, sig, &siglen, (unsigned char *) tok, strlen(tok));
	EVP_MD_CTX_free(md);
	if (ec)
	{
		const unsigned char *q = sig;
		ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &q, siglen);
		unsigned char rs[64] = {0};

		BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
		ECDSA_SIG_free(es);
		memcpy(sig, rs, 64);
		siglen = 64;
	}
	b64url(sig, siglen, s);
	strcat(tok, ".");
	strcat(tok, s);
}

static void
test_hs256(void)
{
	JwtKeys    *k = jwt_keys_new(secret, NULL, NULL, 0);
	JwtKeys    *other = jwt_keys_new("another secret, 32 characters long", NULL, NULL, 0);
	JwtKeys    *none = jwt_keys_new(NULL, NULL, NULL, 0);
	char		tok[1024];

	CHECK_STR(check(k, hs("{\"role\":\"alice\"}"), NULL, ".role"), "ok:alice");
	CHECK_STR(check(k, hs("{\"sub\":1}"), NULL, ".role"), "ok:(none)");
	CHECK_STR(check(other, hs("{\"role\":\"alice\"}"), NULL, ".role"),
			  "PGRST301 JWT cryptographic operation failed");
	CHECK_STR(check(none, hs("{\"role\":\"alice\"}"), NULL, ".role"),
			  "PGRST301 No suitable key or wrong key type");
	CHECK_STR(check(k, "a.b", NULL, ".role"), "PGRST301 Expected 3 parts in JWT; got 2");
	CHECK_STR(check(k, "", NULL, ".role"), "PGRST301 Empty JWT is sent in Authorization header");
	CHECK_STR(check(k, "!!.??.##", NULL, ".role"), "PGRST301 JWT cryptographic operation failed");

	/* a payload changed after signing */
	snprintf(tok, sizeof(tok), "%s", hs("{\"role\":\"alice\"}"));
	{
		char	   *dot = strchr(tok, '.');
		char		forged[64];

		b64url((const unsigned char *) "{\"role\":\"admin\"}", 16, forged);
		memmove(dot + 1 + strlen(forged), strchr(dot + 1, '.'), strlen(strchr(dot + 1, '.')) + 1);
		memcpy(dot + 1, forged, strlen(forged));
		CHECK_STR(check(k, tok, NULL, ".role"), "PGRST301 JWT cryptographic operation failed");
	}

	/* alg none, with and without a signature */
	{
		char		h[64],
					p[64];

		b64url((const unsigned char *) "{\"alg\":\"none\"}", 14, h);
		b64url((const unsigned char *) "{\"role\":\"postgres\"}", 19, p);
		snprintf(tok, sizeof(tok), "%s.%s.", h, p);
		CHECK_STR(check(k, tok, NULL, ".role"), "PGRST301 Wrong or unsupported encoding algorithm");
		b64url((const unsigned char *) "{\"alg\":\"HS512\"}", 15, h);
		snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
		CHECK_STR(check(k, tok, NULL, ".role"), "PGRST301 Wrong or unsupported encoding algorithm");
	}

	/* time claims, 30 s of skew */
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"exp\":%lld}", (long long) now - 31);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "PGRST303 JWT expired");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"exp\":%lld}", (long long) now - 29);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "ok:a");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"nbf\":%lld}", (long long) now + 31);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "PGRST303 JWT not yet valid");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"nbf\":%lld}", (long long) now + 29);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "ok:a");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"iat\":%lld}", (long long) now + 31);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "PGRST303 JWT issued at future");
	/* exactly at the skew's edge is still valid, for each claim */
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"iat\":%lld}", (long long) now + 30);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "ok:a");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"nbf\":%lld}", (long long) now + 30);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "ok:a");
	snprintf(tok, sizeof(tok), "{\"role\":\"a\",\"exp\":%lld}", (long long) now - 30);
	CHECK_STR(check(k, hs(tok), NULL, ".role"), "ok:a");
	CHECK_STR(check(k, hs("{\"exp\":\"soon\"}"), NULL, ".role"),
			  "PGRST303 The JWT 'exp' claim must be a number");

	/* audience */
	CHECK_STR(check(k, hs("{\"role\":\"a\",\"aud\":\"zvt\"}"), "zvt", ".role"), "ok:a");
	CHECK_STR(check(k, hs("{\"role\":\"a\",\"aud\":\"other\"}"), "zvt", ".role"),
			  "PGRST303 JWT not in audience");
	CHECK_STR(check(k, hs("{\"role\":\"a\",\"aud\":[\"x\",\"zvt\"]}"), "zvt", ".role"), "ok:a");
	CHECK_STR(check(k, hs("{\"role\":\"a\",\"aud\":[\"x\"]}"), "zvt", ".role"),
			  "PGRST303 JWT not in audience");
	CHECK_STR(check(k, hs("{\"role\":\"a\",\"aud\":5}"), "zvt", ".role"),
			  "PGRST303 The JWT 'aud' claim must be a string or an array of strings");
	CHECK_STR(check(k, hs("{\"role\":\"a\"}"), "zvt", ".role"), "ok:a");

	/* role claim keys */
	CHECK_STR(check(k, hs("{\"app\":{\"roles\":[\"r0\",\"r1\"]}}"), NULL, ".app.roles[1]"), "ok:r1");
	CHECK_STR(check(k, hs("{\"https://x.io/c\":{\"role\":\"q\"}}"), NULL, ".\"https://x.io/c\".role"), "ok:q");
	CHECK(jwt_role_path_valid(".role"));
	CHECK(jwt_role_path_valid(".a.\"b c\"[0]"));
	CHECK(!jwt_role_path_valid("role"));
	CHECK(!jwt_role_path_valid(".a["));
	CHECK(!jwt_role_path_valid(""));

	CHECK(jwt_sign_hs256(secret, "[1]") == NULL);
	CHECK(jwt_equal_ct((const unsigned char *) "abc", (const unsigned char *) "abc", 3));
	CHECK(!jwt_equal_ct((const unsigned char *) "abc", (const unsigned char *) "abd", 3));
	jwt_keys_free(k);
	jwt_keys_free(other);
	jwt_keys_free(none);
}

static void
test_jwks(void)
{
	EVP_PKEY   *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	EVP_PKEY   *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY   *ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char		n[600],
				e[16],
				x[64],
				y[64];
	char		jwks[2000];
	char		tok[2000];
	char		err[128];
	JwtKeys    *k;

	bn_b64url(rsa, OSSL_PKEY_PARAM_RSA_N, n);
	bn_b64url(rsa, OSSL_PKEY_PARAM_RSA_E, e);
	bn_b64url(ec, OSSL_PKEY_PARAM_EC_PUB_X, x);
	bn_b64url(ec, OSSL_PKEY_PARAM_EC_PUB_Y, y);
	snprintf(jwks, sizeof(jwks),
			 "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"n\":\"%s\",\"e\":\"%s\"},"
			 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e1\",\"x\":\"%s\",\"y\":\"%s\"},"
			 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}]}", n, e, x, y);
	k = jwt_keys_new(NULL, jwks, err, sizeof(err));
	CHECK(k != NULL);

	sign_pkey(rsa, false, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", "{\"role\":\"rs\"}", tok);
	CHECK_STR(check(k, tok, NULL, ".role"), "ok:rs");
	sign_pkey(rsa, false, "{\"alg\":\"RS256\"}", "{\"role\":\"rs\"}", tok);
	CHECK_STR(check(k, tok, NULL, ".role"), "ok:rs");
	sign_pkey(rsa, false, "{\"alg\":\"RS256\",\"kid\":\"e1\"}", "{\"role\":\"rs\"}", tok);
	CHECK_STR(check(k, tok, NULL, ".role"), "PGRST301 No suitable key or wrong key type");
	sign_pkey(ec, true, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", "{\"role\":\"es\"}", tok);
	CHECK_STR(check(k, tok, NULL, ".role"), "ok:es");
	sign_pkey(ec2, true, "{\"alg\":\"ES256\"}", "{\"role\":\"es\"}", tok);
	CHECK_STR(check(k, tok, NULL, ".role"), "PGRST301 JWT cryptographic operation failed");
	/* an HS256 token against a key set without a secret: no HMAC with a public key */
	CHECK_STR(check(k, hs("{\"role\":\"a\"}"), NULL, ".role"),
			  "PGRST301 No suitable key or wrong key type");
	jwt_keys_free(k);

	CHECK(jwt_keys_new(NULL, "{\"nokeys\":1}", err, sizeof(err)) == NULL);
	CHECK(jwt_keys_new(NULL, "not json", err, sizeof(err)) == NULL);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
}

int
main(void)
{
	test_hs256();
	test_jwks();
	return unit_summary("http_jwt");
}
