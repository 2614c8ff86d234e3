/*-------------------------------------------------------------------------
 *
 * src/http/limits.c
 *	  What the HTTP front adds around a request besides the API: rate
 *	  limits per role and per client address (zvt.http_rate_limit), CORS
 *	  (zvt.http_cors_origins), the access log line (zvt.http_log_level)
 *	  and the Server-Timing header.
 *
 * Rate limits.  A token bucket per key in shared memory ("zvt http",
 * worker.c), shared by all workers: each key ("r:<role>", "a:<address>")
 * hashes to one of HTTP_RATE_BUCKETS slots; the bucket refills at
 * zvt.http_rate_limit tokens per second up to one second's worth, and a
 * request takes one token from its role's bucket and one from its
 * address's.  Without a token the request gets 429 and Retry-After (the
 * seconds until a token is back, rounded up).  Two keys that share a
 * slot are told apart by their full 64-bit hash: the newcomer takes the
 * slot over with a full bucket, so a collision can only be lenient.
 * rate_lock (a spinlock: a few arithmetic steps) protects the buckets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "http/transport.h"
#include "zvt.h"

/* ----------------------------------------------------------------
 *		Rate limits
 * ----------------------------------------------------------------
 */

static uint64
key_hash(const char *kind, const char *key)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key, (int) strlen(key),
										(uint64) (unsigned char) kind[0]);

	return h ? h : 1;
}

/*
 * Take a token from the bucket of key; false and *wait_s (seconds until
 * one is back) when there is none.
 */
static bool
bucket_take(uint64 key, int rate, int64 now_us, int *wait_s)
{
	HttpBucket *b = &http_shared->buckets[key & (HTTP_RATE_BUCKETS - 1)];
	bool		ok;

	SpinLockAcquire(&http_shared->rate_lock);
	if (b->key != key)
	{
		b->key = key;
		b->tokens = rate;
		b->at_us = now_us;
	}
	b->tokens = Min((double) rate, b->tokens + (now_us - b->at_us) * (double) rate / 1e6);
	b->at_us = now_us;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*wait_s = (int) ceil((1.0 - b->tokens) / rate);
	SpinLockRelease(&http_shared->rate_lock);
	return ok;
}

/* Whether the request may run; false with a 429 in resp otherwise. */
bool
http_rate_allow(const HttpRequest *req, const HttpContext *cx, HttpResponse *resp)
{
	int			rate = zvt_http_rate_limit;
	int64		now_us = cx->start_us;
	int			wait_s = 1;
	char		retry[16];

	if (rate <= 0)
		return true;
	if (bucket_take(key_hash("r", req->role), rate, now_us, &wait_s) &&
		bucket_take(key_hash("a", cx->peer), rate, now_us, &wait_s))
		return true;
	snprintf(retry, sizeof(retry), "%d", Max(wait_s, 1));
	http_response_error(resp, 429, NULL, "too many requests",
						psprintf("At most %d requests per second per role and per client address.", rate),
						"Retry after the time Retry-After gives.");
	http_response_header(resp, "Retry-After", retry, true);
	return false;
}

/* ----------------------------------------------------------------
 *		CORS
 * ----------------------------------------------------------------
 */

/* Whether origin is in zvt.http_cors_origins ("*" allows any). */
static bool
origin_allowed(const char *origin)
{
	const char *list = zvt_http_cors_origins;
	size_t		n = strlen(origin);

	if (list == NULL || list[0] == '\0')
		return false;
	while (*list)
	{
		const char *end = strchr(list, ',');
		size_t		len = end ? (size_t) (end - list) : strlen(list);

		while (len > 0 && *list == ' ')
			list++, len--;
		while (len > 0 && list[len - 1] == ' ')
			len--;
		if ((len == 1 && *list == '*') || (len == n && strncmp(list, origin, n) == 0))
			return true;
		if (end == NULL)
			break;
		list = end + 1;
	}
	return false;
}

/*
 * Add CORS headers to resp for an allowed Origin; true when the request
 * is a preflight, now answered in resp.
 */
bool
http_cors(const HttpRequest *req, HttpResponse *resp)
{
	const char *origin = http_request_header(req, "origin");
	const char *want;

	if (origin == NULL || strpbrk(origin, "\r\n") || !origin_allowed(origin))
		return false;
	http_response_header(resp, "Access-Control-Allow-Origin", origin, true);
	http_response_header(resp, "Access-Control-Allow-Credentials", "true", true);
	http_response_header(resp, "Vary", "Origin", true);
	want = http_request_header(req, "access-control-request-method");
	if (strcmp(req->method, "OPTIONS") != 0 || want == NULL)
	{
		http_response_header(resp, "Access-Control-Expose-Headers",
							 "Content-Encoding, Content-Location, Content-Range, Content-Type, "
							 "Date, Location, Server, Transfer-Encoding, Range-Unit", true);
		return false;
	}
	resp->status = 200;
	http_response_header(resp, "Access-Control-Allow-Methods",
						 "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD", true);
	http_response_header(resp, "Access-Control-Allow-Headers",
						 http_request_header(req, "access-control-request-headers") ?
						 http_request_header(req, "access-control-request-headers") :
						 "Authorization, Content-Type, Accept, Accept-Profile, Content-Profile, Prefer, Range",
						 true);
	http_response_header(resp, "Access-Control-Max-Age", "86400", true);
	return true;
}

/* ----------------------------------------------------------------
 *		Access log and Server-Timing
 * ----------------------------------------------------------------
 */

/*
 * query with each token= value (a JWT, as the /stream page sends it) as
 * "redacted": tokens never reach the server log.
 */
static const char *
redact_token(const char *query)
{
	StringInfoData out;
	const char *p = query;

	if (strstr(query, "token=") == NULL)
		return query;
	initStringInfo(&out);
	while (*p)
	{
		size_t		n = strcspn(p, "&");

		if (strncmp(p, "token=", 6) == 0)
			appendStringInfoString(&out, "token=redacted");
		else
			appendBinaryStringInfo(&out, p, (int) n);
		p += n;
		if (*p == '&')
			appendStringInfoChar(&out, *p++);
	}
	return out.data;
}

/*
 * One line per request in the server log, in the Apache combined format
 * PostgREST writes, filtered by zvt.http_log_level: crit none, error the
 * 5xx, warn the 4xx and 5xx, info and debug all.
 */
void
http_access_log(const HttpRequest *req, const HttpContext *cx, const HttpResponse *resp)
{
	int			level = zvt_http_log_level;
	const char *referer = http_request_header(req, "referer");
	const char *agent = http_request_header(req, "user-agent");

	if (level == 0 || (level == 1 && resp->status < 500) ||
		(level == 2 && resp->status < 400))
		return;
	ereport(LOG,
			(errhidestmt(true),
			 errmsg_internal("%s - %s \"%s %s%s%s %s\" %d %zu \"%s\" \"%s\"",
							 cx->peer, req->role ? req->role : "-",
							 req->method, req->path, req->query && req->query[0] ? "?" : "",
							 req->query ? redact_token(req->query) : "", cx->version,
							 resp->status, resp->body_len,
							 referer ? referer : "", agent ? agent : "")));
}

/* Server-Timing: the token check and the transaction, milliseconds. */
void
http_server_timing(HttpResponse *resp, double jwt_ms, double tx_ms)
{
	char		v[96];

	snprintf(v, sizeof(v), "jwt;dur=%.1f, transaction;dur=%.1f", jwt_ms, tx_ms);
	http_response_header(resp, "Server-Timing", v, true);
}
