/*
 * test/fuzz/fuzz_http_jwt.c
 *	  libFuzzer harness for the HTTP front's JSON Web Tokens
 *	  (src/http/jwt.c): token decoding and checks, JWKS documents and
 *	  role claim paths.
 *
 * The first byte picks what the rest is: 0 a token checked with the
 * HS256 secret "fuzz-secret" at a fixed time, audience "zvt" and role
 * path ".role"; 1 a JWKS document (then a fixed token is checked with its
 * keys); 2 a role claim path (when valid, it picks the role of a fixed
 * token).  A verified token's claims must be a JSON object; a refusal
 * must carry a code and a message.
 */
#include "http/jwt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* the time tokens are checked at (the seeds' exp is later) */
#define FUZZ_NOW 1700000000

static JwtKeys *keys;
static char *fixed_token;

static void
check(const JwtKeys *k, const char *tok, size_t len, const char *aud, const char *path)
{
	char	   *role = NULL;
	JwtError	e;
	char	   *claims;

	memset(&e, 0, sizeof(e));
	claims = jwt_verify(k, tok, len, FUZZ_NOW, aud, path, &role, &e);
	if (claims)
	{
		json_t	   *j = json_loads(claims, 0, NULL);

		if (j == NULL || !json_is_object(j))
			abort();
		json_decref(j);
		free(claims);
		free(role);
	}
	else if (e.code == NULL || e.message[0] == '\0' || role != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char	   *s;
	char		err[160];

	if (keys == NULL)
	{
		keys = jwt_keys_new("fuzz-secret", NULL, err, sizeof(err));
		fixed_token = jwt_sign_hs256("fuzz-secret",
									 "{\"role\":\"r\",\"aud\":\"zvt\",\"exp\":1800000000,"
									 "\"x\":{\"roles\":[\"a\",\"b\"]},\"https://a.b/c\":{\"r\":\"q\"}}");
		if (keys == NULL || fixed_token == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3)
	{
		case 0:
			check(keys, s, size - 1, "zvt", ".role");
			break;
		case 1:
			{
				JwtKeys    *k = jwt_keys_new(NULL, s, err, sizeof(err));

				if (k)
				{
					check(k, fixed_token, strlen(fixed_token), NULL, ".role");
					jwt_keys_free(k);
				}
				else if (err[0] == '\0')
					abort();
			}
			break;
		case 2:
			if (jwt_role_path_valid(s))
				check(keys, fixed_token, strlen(fixed_token), "zvt", s);
			break;
	}
	free(s);
	return 0;
}
