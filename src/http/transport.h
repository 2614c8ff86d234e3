/*-------------------------------------------------------------------------
 *
 * src/http/transport.h
 *	  What the transport's files share inside src/http: one request as the
 *	  socket loop (server.c) hands it to the request runner (run.c),
 *	  authentication (auth.c), the limits (limits.c) and the shared
 *	  memory they use (worker.c).  Includes postgres.h's world; the API
 *	  layer never includes it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_TRANSPORT_H
#define ZVT_HTTP_TRANSPORT_H

#include "http/jwt.h"
#include "http/request.h"
#include "port/atomics.h"
#include "storage/spin.h"

/* rate-limit buckets in shared memory (a power of two) */
#define HTTP_RATE_BUCKETS 4096

/* One token bucket; keyed by a 64-bit hash of "r:role" or "a:address". */
typedef struct HttpBucket
{
	uint64		key;			/* 0: unused */
	double		tokens;			/* requests that may start now */
	int64		at_us;			/* when tokens was last refilled, Unix us */
} HttpBucket;

/* The transport's shared memory ("zvt http"). */
typedef struct HttpShared
{
	pg_atomic_uint32 owner[64]; /* each worker slot's pid (base/claim.h) */
	pg_atomic_uint32 conns[64]; /* connections each worker holds, read as
								 * int32 (balance.c) */
	slock_t		rate_lock;		/* protects buckets only */
	HttpBucket	buckets[HTTP_RATE_BUCKETS];
} HttpShared;

/* What the transport knows of one request besides the HttpRequest. */
typedef struct HttpContext
{
	const char *peer;			/* client address */
	const char *version;		/* "HTTP/1.1" */
	int64		start_us;		/* when the request was complete, Unix us */
	bool		head;			/* HEAD: send the headers only */
} HttpContext;

/* in worker.c */
extern HttpShared *http_shared;
extern int	http_worker_number;

/* in run.c */
extern void http_exec(HttpRequest *req, HttpResponse *resp, const HttpContext *cx);
extern bool http_ready(void);

/* in auth.c */
extern void http_auth_reload(void);
extern bool http_authenticate(HttpRequest *req, HttpResponse *resp, char **claims);

/* in limits.c */
extern bool http_rate_allow(const HttpRequest *req, const HttpContext *cx,
							HttpResponse *resp);
extern bool http_cors(const HttpRequest *req, HttpResponse *resp);
extern void http_access_log(const HttpRequest *req, const HttpContext *cx,
							const HttpResponse *resp);
extern void http_server_timing(HttpResponse *resp, double jwt_ms, double tx_ms);

/* in server.c */
struct lws_vhost;
extern struct lws_context *http_server_start(void);
extern void http_server_stop(struct lws_context *ctx);
extern void http_server_adopt(struct lws_vhost *vh, int c);

/* in balance.c */
extern void http_balance_start(struct lws_vhost *vh);
extern void http_balance_stop(void);
extern void http_balance_count(int delta);
extern bool http_balance_pass(int c);
extern void http_balance_receive(void);

#endif							/* ZVT_HTTP_TRANSPORT_H */
