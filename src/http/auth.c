/*-------------------------------------------------------------------------
 *
 * src/http/auth.c
 *	  Authentication of HTTP requests as PostgREST does it: the bearer
 *	  token of the Authorization header checked with the worker's keys
 *	  (jwt.c), its role claim, or zvt.http_anon_role without a token.
 *
 * The keys (zvt.jwt_secret and the JWKS file zvt.jwt_jwks_file) are
 * built when the worker starts and on every reload, in malloc'd memory
 * (jwt.c) that lives as long as the process.  A JWKS file that cannot be
 * read or parsed is logged and leaves the worker with the secret only.
 *
 * Failures answer 401 with PostgREST's code and message and its
 * WWW-Authenticate header: 'Bearer error="invalid_token",
 * error_description="..."' for a bad token, plain 'Bearer' when a token
 * is required (no anonymous role).  Only the role is decided here;
 * whether the authenticator may become it is PostgreSQL's check, in
 * the request's transaction (run.c).
 *
 * A token verified in the current second is not verified again in that
 * second: jwt_verify's answer depends only on the keys, zvt.jwt_aud and
 * zvt.jwt_role_claim_key (which change only on reload, which empties the
 * cache), the token and the time in whole seconds, so the cached answer
 * is the one verifying would give.  HTTP_JWT_CACHE slots, picked by a
 * hash of the token; only tokens that verified are kept, and the token
 * is compared in constant time (a timing difference must not tell an
 * attacker how much of another client's token they guessed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <time.h>

#include "common/hashfn.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "http/settings.h"
#include "http/transport.h"
#include "zvt.h"

/* the largest JWKS file read, bytes */
#define HTTP_MAX_JWKS 1048576

/* tokens verified in the current second (a power of two) */
#define HTTP_JWT_CACHE 64

typedef struct CachedToken
{
	char	   *token;			/* malloc'd; NULL: an empty slot */
	size_t		len;
	int64_t		now;			/* the second it was verified in */
	char	   *role;			/* malloc'd, or NULL: no role claim */
	char	   *claims;			/* malloc'd JSON */
} CachedToken;

static JwtKeys *keys = NULL;
static CachedToken cache[HTTP_JWT_CACHE];

static void
slot_clear(CachedToken *c)
{
	free(c->token);
	free(c->role);
	free(c->claims);
	memset(c, 0, sizeof(*c));
}

static char *
dup_or_null(const char *s)
{
	char	   *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		elog(ERROR, "zvt http: out of memory");
	return d;
}

/*
 * jwt_verify with the worker's keys and settings, through the cache:
 * claims (malloc'd JSON) and *role (malloc'd or NULL), or NULL and *e.
 */
static char *
verify(const char *token, size_t len, char **role, JwtError *e)
{
	int64_t		now = (int64_t) time(NULL);
	CachedToken *c = &cache[hash_bytes((const unsigned char *) token, (int) len) & (HTTP_JWT_CACHE - 1)];
	char	   *claims;

	if (c->token && c->len == len && c->now == now && CRYPTO_memcmp(c->token, token, len) == 0)
	{
		*role = dup_or_null(c->role);
		return dup_or_null(c->claims);
	}
	claims = jwt_verify(keys, token, len, now, zvt_jwt_aud, zvt_jwt_role_claim_key, role, e);
	if (claims == NULL)
		return NULL;
	/* kept only when every copy could be made */
	slot_clear(c);
	c->token = malloc(len);
	c->role = *role ? strdup(*role) : NULL;
	c->claims = strdup(claims);
	if (c->token == NULL || (*role && c->role == NULL) || c->claims == NULL)
		slot_clear(c);
	else
	{
		memcpy(c->token, token, len);
		c->len = len;
		c->now = now;
	}
	return claims;
}

/* The JWKS file's text (palloc'd), or NULL (logged) when it cannot be read. */
static char *
read_jwks(const char *path)
{
	FILE	   *f = AllocateFile(path, "r");
	char	   *buf;
	size_t		n;

	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("zvt http could not open zvt.jwt_jwks_file \"%s\": %m", path)));
		return NULL;
	}
	buf = palloc(HTTP_MAX_JWKS + 1);
	n = fread(buf, 1, HTTP_MAX_JWKS, f);
	FreeFile(f);
	buf[n] = '\0';
	return buf;
}

/* Build the keys again from the current settings. */
void
http_auth_reload(void)
{
	char	   *jwks = NULL;
	char		err[256];
	JwtKeys    *k;

	if (zvt_jwt_jwks_file && zvt_jwt_jwks_file[0])
		jwks = read_jwks(zvt_jwt_jwks_file);
	k = jwt_keys_new(zvt_jwt_secret, jwks, err, sizeof(err));
	if (k == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt http could not read the keys of zvt.jwt_jwks_file \"%s\"",
						zvt_jwt_jwks_file),
				 errdetail_internal("%s", err)));
		k = jwt_keys_new(zvt_jwt_secret, NULL, err, sizeof(err));
	}
	jwt_keys_free(keys);
	keys = k;
	/* the keys and the settings may have changed */
	for (int i = 0; i < HTTP_JWT_CACHE; i++)
		slot_clear(&cache[i]);
	if (jwks)
		pfree(jwks);
}

/* A 401 as PostgREST answers a JWT failure. */
static void
unauthorized(HttpResponse *resp, const char *code, const char *message, bool invalid_token)
{
	http_response_error(resp, 401, code, message, NULL, NULL);
	if (invalid_token)
	{
		char	   *h = psprintf("Bearer error=\"invalid_token\", error_description=\"%s\"", message);

		http_response_header(resp, "WWW-Authenticate", h, true);
	}
	else
		http_response_header(resp, "WWW-Authenticate", "Bearer", true);
}

/*
 * Decide the request's role (req->role, req->anonymous) and its claims
 * (*claims, malloc'd JSON).  False when resp holds a 401.
 */
bool
http_authenticate(HttpRequest *req, HttpResponse *resp, char **claims)
{
	const char *auth = http_request_header(req, "authorization");
	const char *anon = zvt_http_anon_role;
	char	   *role = NULL;
	JwtError	e;

	*claims = NULL;
	if (auth && pg_strncasecmp(auth, "bearer ", 7) == 0)
	{
		const char *token = auth + 7;

		while (*token == ' ')
			token++;
		*claims = verify(token, strlen(token), &role, &e);
		if (*claims == NULL)
		{
			unauthorized(resp, e.code, e.message, true);
			return false;
		}
		if (role == NULL && (anon == NULL || anon[0] == '\0'))
		{
			free(*claims);
			*claims = NULL;
			unauthorized(resp, "PGRST302", "Anonymous access is disabled", false);
			return false;
		}
		req->role = pstrdup(role ? role : anon);
		req->anonymous = false;
		free(role);
		return true;
	}
	if (anon == NULL || anon[0] == '\0')
	{
		unauthorized(resp, "PGRST302", "Anonymous access is disabled", false);
		return false;
	}
	*claims = http_role_claims(anon);
	req->role = pstrdup(anon);
	req->anonymous = true;
	return true;
}
