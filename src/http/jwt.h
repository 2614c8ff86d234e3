/*-------------------------------------------------------------------------
 *
 * src/http/jwt.h
 *	  JSON Web Tokens for the HTTP front, as PostgREST checks them: HS256
 *	  with zvt.jwt_secret, RS256/ES256 with the keys of a JWKS file,
 *	  exp/nbf/iat with 30 s of skew, aud against zvt.jwt_aud, and the
 *	  role found by zvt.jwt_role_claim_key.  Pure C (OpenSSL, jansson),
 *	  unit-tested in test/unit/test_http_jwt.c.
 *
 *	  Errors carry PostgREST 14's code and message, so the transport
 *	  answers 401 with them and WWW-Authenticate as PostgREST does:
 *	  PGRST301 for a token that cannot be decoded or verified, PGRST303
 *	  for claims that fail validation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_JWT_H
#define ZVT_HTTP_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the clock skew PostgREST allows on exp, nbf and iat, seconds */
#define JWT_SKEW_SECONDS 30

/* the longest message of a JwtError */
#define JWT_ERROR_LEN 160

typedef struct JwtError
{
	const char *code;			/* "PGRST301" or "PGRST303" */
	char		message[JWT_ERROR_LEN];
} JwtError;

/* The keys tokens are checked with (opaque; jwt.c). */
typedef struct JwtKeys JwtKeys;

/* in jwt.c */

/*
 * Keys from an HS256 secret (NULL or "" for none) and the text of a JWKS
 * document (NULL for none; RSA and P-256 EC keys are used, others are
 * skipped).  Returns NULL and a reason in err when the JWKS text is not a
 * JWKS document; never NULL otherwise.
 */
extern JwtKeys *jwt_keys_new(const char *secret, const char *jwks,
							 char *err, size_t errlen);
extern void jwt_keys_free(JwtKeys *keys);

/*
 * Verify token (len bytes) at Unix time now: its signature with keys,
 * then its claims (exp, nbf, iat, and aud when aud is not NULL/"").
 * On success returns the claims as compact JSON (malloc'd) and sets
 * *role to the role claim found by role_path (malloc'd, NULL when the
 * token has none); on failure returns NULL and fills *e.
 */
extern char *jwt_verify(const JwtKeys *keys, const char *token, size_t len,
						int64_t now, const char *aud, const char *role_path,
						char **role, JwtError *e);

/*
 * Whether role_path is a valid role claim key (".role",
 * ".\"https://example.com/claims\".roles[0]").
 */
extern bool jwt_role_path_valid(const char *role_path);

/*
 * Sign claims_json (a JSON object's text) with HS256 and secret; returns
 * the token (malloc'd) or NULL when claims_json is not a JSON object.
 */
extern char *jwt_sign_hs256(const char *secret, const char *claims_json);

/* Compare a[0..n) and b[0..n) in time independent of their contents. */
extern bool jwt_equal_ct(const unsigned char *a, const unsigned char *b, size_t n);

#endif							/* ZVT_HTTP_JWT_H */
