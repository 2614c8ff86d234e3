/*-------------------------------------------------------------------------
 *
 * src/zvt.h
 *	  What all of zvt's PostgreSQL glue shares: the GUC variables (defined
 *	  in zvt.c), the preload check and the time conversions.
 *
 * Each part declares its own entry points and shared memory in its own
 * header (launcher/launcher.h, storage/maintenance.h, feed/status.h,
 * trading/matcher.h, bus/bus.h...).  Only files that include postgres.h
 * include this header; the pure-C core has headers of its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_H
#define ZVT_H

#include "datatype/timestamp.h"

/*
 * How many background workers a fully configured zvt runs (launcher,
 * maintenance, four feeds, backfill, paper matcher, two HTTP workers,
 * Redis, metrics, four live-order routers), and the max_worker_processes
 * below which _PG_init warns (leaving room for parallel query).
 */
#define ZVT_WORKERS_NEEDED			16
#define ZVT_MIN_WORKER_PROCESSES	20

/* in zvt.c */
extern char *zvt_database;
extern int	zvt_maintenance_naptime;
extern int	zvt_chunks_ahead;
extern char *zvt_ca_file;
extern int	zvt_flush_interval;
extern bool zvt_feeds;
extern int	zvt_feed_watchdog;
extern bool zvt_feed_parse_thread;
extern int	zvt_bus_size;
extern int	zvt_rest_timeout;
extern bool zvt_paper_matcher;
extern int	zvt_metrics_port;
extern char *zvt_metrics_listen;
extern int	zvt_event_ring_size;
extern char *zvt_redis_url;
extern int	zvt_redis_maxlen;
extern bool zvt_redis_private;
extern char *zvt_redis_tls_ca_file;
extern char *zvt_redis_tls_cert_file;
extern char *zvt_redis_tls_key_file;

/* the HTTP front's transport (src/http/) */
extern int	zvt_http_port;
extern char *zvt_http_listen;
extern int	zvt_http_workers;
extern char *zvt_http_authenticator;
extern char *zvt_http_anon_role;
extern char *zvt_http_pre_request;
extern char *zvt_http_tls_cert;
extern char *zvt_http_tls_key;
extern int	zvt_http_max_body;
extern int	zvt_http_max_connections;
extern int	zvt_http_idle_timeout;
extern int	zvt_http_stream_queue;
extern int	zvt_http_stream_max_subscriptions;
extern int	zvt_http_statement_timeout;
extern int	zvt_http_rate_limit;
extern char *zvt_http_cors_origins;
extern int	zvt_http_log_level;
extern int	zvt_http_metrics;		/* ZVT_HTTP_METRICS_* */
#define ZVT_HTTP_METRICS_OFF 0
#define ZVT_HTTP_METRICS_PG_MONITOR 1
#define ZVT_HTTP_METRICS_OPEN 2
extern int	zvt_http_admin_port;
extern bool zvt_http_ui;
extern char *zvt_http_ui_dir;
extern char *zvt_jwt_secret;
extern char *zvt_jwt_jwks_file;
extern char *zvt_jwt_aud;
extern char *zvt_jwt_role_claim_key;

extern char *zvt_http_schemas;
extern int	zvt_book_snapshot_interval;
extern char *zvt_key_file;
extern bool zvt_live_trading;
extern int	zvt_router_poll_interval;
extern int	zvt_reconcile_interval;
extern int	zvt_reconcile_page_limit;
extern int	zvt_router_timeout;
extern int	zvt_router_rate_limit;
extern bool zvt_router_clock_sync;
extern bool zvt_preloaded;
extern void zvt_require_preload(const char *what);

/* Conversions between TimestampTz and the core's Unix microseconds. */
#define ZVT_TS_TO_UNIX(ts)	((int64_t) (ts) + ZT_PG_EPOCH_OFFSET)
#define ZVT_UNIX_TO_TS(us)	((TimestampTz) ((us) - ZT_PG_EPOCH_OFFSET))

#endif							/* ZVT_H */
