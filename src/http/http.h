/*-------------------------------------------------------------------------
 *
 * src/http/http.h
 *	  The HTTP front's workers as zvt.c and the launcher see them: the
 *	  shared memory of the transport ("zvt http": worker slots, rate-limit
 *	  buckets) and the entry point the launcher starts (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_H
#define ZVT_HTTP_H

/* the bgw_function_name the launcher starts each worker with */
#define HTTP_WORKER_MAIN "http_worker_main"

/* the most workers zvt.http_workers may ask for */
#define HTTP_MAX_WORKERS 64

/* HTTP request and /stream counters, summed over the workers (stats.c) */
#define HTTP_STATS_METHODS 8	/* http_stats_methods */
#define HTTP_STATS_CLASSES 5	/* 1xx .. 5xx */
#define HTTP_STATS_BOUNDS 12	/* http_stats_bounds_us */

typedef struct HttpStats
{
	int64		requests[HTTP_STATS_METHODS][HTTP_STATS_CLASSES];	/* answered */
	int64		in_flight;		/* requests being run now */
	int64		duration[HTTP_STATS_BOUNDS + 1];	/* per bucket (not cumulative); last +Inf */
	int64		duration_sum_us;
	int64		stream_clients; /* /stream connections open now */
	int64		stream_sent;	/* messages written to /stream clients */
	int64		stream_dropped; /* messages dropped from full queues or lost by a lagging worker */
	int			workers;		/* workers running */
} HttpStats;

/* in stats.c */
extern const char *const http_stats_methods[HTTP_STATS_METHODS];
extern const int64 http_stats_bounds_us[HTTP_STATS_BOUNDS];
extern void http_stats_read(HttpStats *out);

/* in metrics_page.c: the metrics worker's side of the front's /metrics */
extern bool http_metrics_front_on(void);
extern void http_metrics_render_start(void);
extern void http_metrics_render_stop(void);
extern uint64 http_metrics_wanted(void);
extern void http_metrics_publish(uint64 wanted, const char *text, size_t len, bool ok);

/* in worker.c */
extern Size http_shmem_size(void);
extern void http_shmem_init(void);
extern bool http_worker_running(int n);

#endif							/* ZVT_HTTP_H */
