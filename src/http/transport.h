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

/*
 * One worker's counters (stats.c).  Only that worker writes them (plain
 * atomic stores: no read-modify-write contention); the metrics worker
 * reads them.  They survive a worker's restart, but the gauges, which
 * the new worker zeroes.
 */
typedef struct HttpWorkerStats
{
	pg_atomic_uint64 requests[8][5];	/* by method, by status class */
	pg_atomic_uint64 in_flight;
	pg_atomic_uint64 duration[13];	/* HTTP_STATS_BOUNDS + 1 buckets */
	pg_atomic_uint64 duration_sum_us;
	pg_atomic_uint64 stream_clients;
	pg_atomic_uint64 stream_sent;
	pg_atomic_uint64 stream_dropped;
} HttpWorkerStats;

/* The transport's shared memory ("zvt http"). */
typedef struct HttpShared
{
	pg_atomic_uint32 owner[64]; /* each worker slot's pid (base/claim.h) */
	pg_atomic_uint32 conns[64]; /* connections each worker holds, read as
								 * int32 (balance.c) */
	slock_t		rate_lock;		/* protects buckets only */
	HttpBucket	buckets[HTTP_RATE_BUCKETS];
	HttpWorkerStats stats[64];	/* per worker slot; see HttpWorkerStats */
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
extern void http_set_role(const char *role);

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

/* in metrics_page.c */
extern Size http_metrics_page_size(void);
extern void http_metrics_page_init(void);
extern bool http_metrics_route(const HttpRequest *req);
extern void http_metrics_serve(const HttpRequest *req, HttpResponse *resp);

/* in ui.c */
extern void http_ui_load(void);
extern bool http_ui_route(const HttpRequest *req, HttpResponse *resp,
						  const HttpContext *cx);

/* in stats.c */
extern void http_stats_init(HttpShared *sh);
extern void http_stats_worker_start(void);
extern void http_stats_begin(void);
extern void http_stats_end(const char *method, int status, int64 start_us, bool began);
extern void http_stats_stream_clients(int delta);
extern void http_stats_stream_sent(int64 n);
extern void http_stats_stream_dropped(int64 n);

/* in server.c */
struct lws_vhost;
extern struct lws_context *http_server_start(void);
extern void http_server_stop(struct lws_context *ctx);
extern void http_server_service(struct lws_context *ctx);

/* in listen.c (its callbacks in listen.h) */
extern void http_server_adopt(struct lws_vhost *vh, int c);

/* in balance.c */
extern void http_balance_start(struct lws_vhost *vh);
extern void http_balance_stop(void);
extern void http_balance_count(int delta);
extern bool http_balance_pass(int c);
extern void http_balance_receive(void);

#endif							/* ZVT_HTTP_TRANSPORT_H */
