/*-------------------------------------------------------------------------
 *
 * src/zvt.c
 *	  Module entry point: GUCs, shared memory and background workers.
 *
 * _PG_init defines every zvt.* GUC (so SET and ALTER SYSTEM work in any
 * backend), and, only when the library is loaded through
 * shared_preload_libraries, requests the shared memory and registers the
 * launcher worker.  Backends forked from that postmaster inherit
 * zvt_preloaded = true; a backend that merely ran CREATE EXTENSION has it
 * false, and functions that need the workers say so (55000) through
 * zvt_require_preload().
 *
 * Shared memory follows pg_stat_statements in PostgreSQL 15: sizes and
 * LWLock tranches are requested from shmem_request_hook, the structs are
 * created or attached in shmem_startup_hook under AddinShmemInitLock.
 * Each part owns its struct (maintenance, bus, feeds, matcher;
 * docs/architecture.md): this file only calls their size and init
 * functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "base/export.h"
#include "base/runs.h"
#include "book/store.h"
#include "bus/bus.h"
#include "bus/events.h"
#include "compress/zc.h"
#include "core/zvt_time.h"
#include "feed/backfill.h"
#include "feed/status.h"
#include "http/http.h"
#include "http/jwt.h"
#include "launcher/launcher.h"
#include "live/router.h"
#include "metrics/metrics.h"
#include "redis/redis.h"
#include "storage/maintenance.h"
#include "storage/restore.h"
#include "trading/matcher.h"
#include "zvt.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

/* GUC variables; see docs/configuration.md */
char	   *zvt_database = NULL;
int			zvt_maintenance_naptime = 60;
int			zvt_chunks_ahead = 1;
char	   *zvt_ca_file = NULL;
int			zvt_flush_interval = 2;
bool		zvt_feeds = true;
int			zvt_feed_watchdog = 30000;
bool		zvt_feed_parse_thread = true;
int			zvt_bus_size = 4096;
int			zvt_rest_timeout = 10000;
bool		zvt_paper_matcher = true;
bool		zvt_live_trading = false;
int			zvt_router_poll_interval = 1000;
int			zvt_reconcile_interval = 60000;
int			zvt_reconcile_page_limit = 0;
int			zvt_router_timeout = 10000;
int			zvt_router_rate_limit = 50;
bool		zvt_router_clock_sync = true;
int			zvt_metrics_port = 0;
char	   *zvt_metrics_listen = NULL;
int			zvt_event_ring_size = 65536;
char	   *zvt_redis_url = NULL;
int			zvt_redis_maxlen = 100000;
bool		zvt_redis_private = false;
char	   *zvt_redis_tls_ca_file = NULL;
char	   *zvt_redis_tls_cert_file = NULL;
char	   *zvt_redis_tls_key_file = NULL;

/* the HTTP front's transport (src/http/; docs/http.md) */
int			zvt_http_port = 0;
char	   *zvt_http_listen = NULL;
int			zvt_http_workers = 2;
char	   *zvt_http_authenticator = NULL;
char	   *zvt_http_anon_role = NULL;
char	   *zvt_http_pre_request = NULL;
char	   *zvt_http_tls_cert = NULL;
char	   *zvt_http_tls_key = NULL;
int			zvt_http_max_body = 1048576;
int			zvt_http_max_connections = 1024;
int			zvt_http_idle_timeout = 60;
int			zvt_http_stream_queue = 4096;
int			zvt_http_stream_max_subscriptions = 256;
int			zvt_http_statement_timeout = 10000;
int			zvt_http_rate_limit = 0;
char	   *zvt_http_cors_origins = NULL;
int			zvt_http_log_level = 1;
int			zvt_http_metrics = ZVT_HTTP_METRICS_OFF;
int			zvt_http_admin_port = 0;
bool		zvt_http_ui = true;
char	   *zvt_http_ui_dir = NULL;
char	   *zvt_jwt_secret = NULL;
char	   *zvt_jwt_jwks_file = NULL;
char	   *zvt_jwt_aud = NULL;
char	   *zvt_jwt_role_claim_key = NULL;

/* HTTP front, API layer (src/http/schema.c) */
char	   *zvt_http_schemas = NULL;
int			zvt_book_snapshot_interval = 1000;
char	   *zvt_key_file = NULL;

/* true in the postmaster and its children when preloaded */
bool		zvt_preloaded = false;

/* true once this process has attached zvt's shared memory */
static bool zvt_shmem_attached = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void zvt_define_gucs(void);
static void zvt_define_http_gucs(void);
static void zvt_shmem_request(void);
static void zvt_shmem_startup(void);

void
_PG_init(void)
{
	zvt_define_gucs();
	/* in every backend that loads zvt.so, preloaded or not (restore.c) */
	restore_hook_init();
	/* compressed chunks: their batches go with a dropped storage */
	compress_hook_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	zvt_preloaded = true;
	/* worker restart counts that outlive crash restarts (base/runs.c) */
	zvt_runs_map();

	if (max_worker_processes < ZVT_MIN_WORKER_PROCESSES)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_worker_processes is %d, too low for zvt",
						max_worker_processes),
				 errdetail("zvt runs up to %d background workers and parallel query needs more.",
						   ZVT_WORKERS_NEEDED),
				 errhint("Set max_worker_processes to %d or more.",
						 ZVT_MIN_WORKER_PROCESSES)));

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = zvt_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = zvt_shmem_startup;

	launcher_register();
}

/*
 * Every zvt.* GUC lives here, so docs/configuration.md has one place to
 * follow.
 */
static void
zvt_define_gucs(void)
{
	DefineCustomStringVariable("zvt.database",
							   "Database in which zvt's background workers run.",
							   "The workers wait until this database exists and has the zvt extension.",
							   &zvt_database,
							   "postgres",
	/* PGC_POSTMASTER may only be defined while preloading */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.maintenance_naptime",
							"Time between two passes of the maintenance worker.",
							"Each pass creates chunks ahead of now, moves rows out of default partitions and applies retention policies.",
							&zvt_maintenance_naptime,
							60,
							1,
							86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.chunks_ahead",
							"Number of chunks the maintenance pass creates after the current one.",
							NULL,
							&zvt_chunks_ahead,
							1,
							0,
							100,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zvt.ca_file",
							   "File of CA certificates that exchange certificates are verified against.",
							   "Empty means the system's CA bundle.  Tests point it at a private CA for the simulator.",
							   &zvt_ca_file,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.feeds",
							 "Whether feed workers run.",
							 "Off stops every feed worker (they finish their batch) and starts none: a switch for maintenance and for test clusters that must not reach the real exchanges.",
							 &zvt_feeds,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.paper_matcher",
							 "Whether the paper matcher fills resting paper orders as prices arrive.",
							 "Off leaves resting paper orders alone until zvt.paper_match() is called.",
							 &zvt_paper_matcher,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.flush_interval",
							"Time between two batch writes of a feed worker.",
							"Events received in between are written in one transaction.",
							&zvt_flush_interval,
							2,
							1,
							10000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.feed_watchdog",
							"Silence after which a feed connection is dropped and reconnected.",
							NULL,
							&zvt_feed_watchdog,
							30000,
							1000,
							3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.feed_parse_thread",
							 "Parse feed frames on a second thread of each feed worker.",
							 "The thread runs only the pure-C parsers; the worker's main thread receives and writes. "
							 "Takes effect when a feed worker starts.",
							 &zvt_feed_parse_thread,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.bus_size",
							"Number of instruments the market bus can hold.",
							"The bus keeps each instrument's last trade and best bid/ask in shared memory.",
							&zvt_bus_size,
							4096,
							64,
							1048576,
							process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.rest_timeout",
							"Longest time one REST request to an exchange may take.",
							NULL,
							&zvt_rest_timeout,
							10000,
							100,
							600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.metrics_port",
							"TCP port of the Prometheus metrics endpoint (GET /metrics); 0 turns it off.",
							"A worker, \"zvt metrics\", serves it on zvt.metrics_listen.",
							&zvt_metrics_port,
							0,
							0,
							65535,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zvt.metrics_listen",
							   "Address the metrics endpoint listens on.",
							   "An IP address or host name; the default keeps it on loopback. The endpoint has no authentication.",
							   &zvt_metrics_listen,
							   "127.0.0.1",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.event_ring_size",
							"Number of market events the shared event ring holds.",
							"Every committed trade, quote and closed candle goes through the ring to its readers "
							"(the Redis publisher); a reader more than this many events behind loses the oldest "
							"and counts them. 0 makes no ring. Rounded up to a power of two.",
							&zvt_event_ring_size,
							65536,
							0,
							16777216,
							process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zvt.redis_url",
							   "Redis server the market events are published to; empty turns publishing off.",
							   "redis[s]://[user:password@]host[:port][/db] (rediss: TLS). A worker, \"zvt redis\", publishes "
							   "to streams zvt:{exchange}:{symbol}:{channel} and hashes zvt:last:{exchange}:{symbol}.",
							   &zvt_redis_url,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   redis_url_check_hook, NULL, NULL);

	DefineCustomStringVariable("zvt.redis_tls_ca_file",
							   "CA certificates (PEM) that sign the Redis server's certificate, for rediss://.",
							   "Empty: the system's trust store. The server's name or IP address in the URL "
							   "must match its certificate.",
							   &zvt_redis_tls_ca_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.redis_tls_cert_file",
							   "Client certificate (PEM) zvt presents to Redis over rediss://.",
							   "For a server with tls-auth-clients; empty presents none.",
							   &zvt_redis_tls_cert_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.redis_tls_key_file",
							   "Private key (PEM) of zvt.redis_tls_cert_file.",
							   NULL,
							   &zvt_redis_tls_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.redis_maxlen",
							"Approximate length each Redis stream is trimmed to (XADD MAXLEN ~); 0 keeps everything.",
							NULL,
							&zvt_redis_maxlen,
							100000,
							0,
							INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.redis_private",
							 "Publish order events per account to Redis.",
							 "Streams zvt:account:{account}:orders; off by default, as order events are private.",
							 &zvt_redis_private,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	zvt_define_http_gucs();

	/* HTTP front, API layer: what the REST grammar exposes */
	DefineCustomStringVariable("zvt.http_schemas",
							   "Schemas the HTTP front exposes, comma-separated; the first is the default.",
							   "Accept-Profile and Content-Profile pick another of them. Only these schemas' tables, views and functions are reachable, and only as far as the request's role may use them.",
							   &zvt_http_schemas,
							   "zvt_api",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.book_snapshot_interval",
							"Time between two rows of a live order book in zvt.book_snapshots; 0 stores none.",
							"Each row keeps the top levels the subscription asked for (its depth).",
							&zvt_book_snapshot_interval,
							1000,
							0,
							86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zvt.key_file",
							   "File holding the master key that seals live accounts' API keys.",
							   "64 hex digits (32 bytes), readable by the server's user only; superusers alone see or set it. Change it with zvt.rotate_key_file (docs/live-trading.md).",
							   &zvt_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.live_trading",
							 "Whether live accounts' orders are placed and sent to their exchanges.",
							 "Off (the default): zvt.place_order on a live account raises 0A000 and no order router runs; orders already committed wait.",
							 &zvt_live_trading,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.router_poll_interval",
							"Time between two queries of a live order open on its exchange.",
							"The router learns fills and cancels of resting orders from these queries.",
							&zvt_router_poll_interval,
							1000, 10, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.reconcile_interval",
							"Time between two reconciliations of each live account against its exchange.",
							"The router also reconciles at its start and after an outage of the exchange's REST; 0: only then.",
							&zvt_reconcile_interval,
							60000, 0, 86400000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.reconcile_page_limit",
							"Page size of reconciliation's open-order and fill-history requests (0: each exchange's largest).",
							"Smaller pages mean more requests; the tests use it to read a history of a few trades in several pages.",
							&zvt_reconcile_page_limit,
							0, 0, 1000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.router_timeout",
							"Time an order router waits for an exchange's reply before the order is unknown.",
							"An unknown order is then queried by its client order id, never sent again blindly.",
							&zvt_router_timeout,
							10000, 100, 600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("zvt.router_clock_sync",
							 "Whether order routers correct their timestamps by the exchange's clock.",
							 "The offset is measured from each exchange's time endpoint once a minute; off signs with the local clock.",
							 &zvt_router_clock_sync,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("zvt.router_rate_limit",
							"Requests a second an order router sends to its exchange at most.",
							"A 429 or 418 reply also pauses the exchange's requests for its Retry-After (1 s without one).",
							&zvt_router_rate_limit,
							50, 1, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("zvt");
}

/* ----------------------------------------------------------------
 *		The HTTP front's transport: workers, roles, JWT, limits
 * ----------------------------------------------------------------
 */

static const struct config_enum_entry http_log_levels[] = {
	{"crit", 0, false},
	{"error", 1, false},
	{"warn", 2, false},
	{"info", 3, false},
	{"debug", 4, false},
	{NULL, 0, false}
};

/* zvt.http_metrics (src/http/metrics_page.c) */
static const struct config_enum_entry http_metrics_modes[] = {
	{"off", ZVT_HTTP_METRICS_OFF, false},
	{"pg_monitor", ZVT_HTTP_METRICS_PG_MONITOR, false},
	{"open", ZVT_HTTP_METRICS_OPEN, false},
	{NULL, 0, false}
};

/* zvt.jwt_secret: empty, or at least 32 characters as PostgREST asks */
static bool
check_jwt_secret(char **newval, void **extra, GucSource source)
{
	if (*newval && (*newval)[0] != '\0' && strlen(*newval) < 32)
	{
		GUC_check_errdetail("zvt.jwt_secret is %d characters long.", (int) strlen(*newval));
		GUC_check_errhint("Use a secret of at least 32 characters.");
		return false;
	}
	return true;
}

/* zvt.jwt_role_claim_key: a path such as .role or ."https://x".roles[0] */
static bool
check_role_claim_key(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || !jwt_role_path_valid(*newval))
	{
		GUC_check_errdetail("\"%s\" is not a role claim key.", *newval ? *newval : "");
		GUC_check_errhint("Write a path of .key, .\"quoted key\" and [index] steps, such as .role.");
		return false;
	}
	return true;
}

static void
zvt_define_http_gucs(void)
{
	DefineCustomIntVariable("zvt.http_port",
							"TCP port of the HTTP front (PostgREST's API over zvt.http_schemas); 0 turns it off.",
							"zvt.http_workers workers, \"zvt http N\", serve it on zvt.http_listen.",
							&zvt_http_port, 0, 0, 65535, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_listen",
							   "Address the HTTP front listens on.",
							   "An IP address; the default keeps it on loopback.",
							   &zvt_http_listen, "127.0.0.1", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_workers",
							"Number of HTTP worker processes, all serving zvt.http_port.",
							"Each holds one connection to zvt.database as zvt.http_authenticator.",
							&zvt_http_workers, 2, 1, 64, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_authenticator",
							   "Login role the HTTP workers connect as.",
							   "A NOINHERIT role with no privileges of its own, granted the roles requests may run as.",
							   &zvt_http_authenticator, "zvt_authenticator", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_anon_role",
							   "Role of HTTP requests without a token.",
							   "Empty: a request without a token gets 401.",
							   &zvt_http_anon_role, "zvt_anon", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_pre_request",
							   "Function called at the start of every HTTP request's transaction.",
							   "A schema-qualified function name taking no argument; empty for none.",
							   &zvt_http_pre_request, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_tls_cert",
							   "PEM certificate file of the HTTP front; with zvt.http_tls_key it serves HTTPS.",
							   NULL, &zvt_http_tls_cert, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_tls_key",
							   "PEM private key file of the HTTP front.",
							   NULL, &zvt_http_tls_key, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_max_body",
							"Largest HTTP request body accepted (413 above it).",
							NULL, &zvt_http_max_body, 1048576, 1024, 1073741823,
							PGC_SIGHUP, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_max_connections",
							"Most client connections each HTTP worker holds open.",
							"Past it a worker accepts no more until one closes.",
							&zvt_http_max_connections, 1024, 16, 65536, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_idle_timeout",
							"How long an idle keep-alive connection, or a client slow to send its request, is kept.",
							NULL, &zvt_http_idle_timeout, 60, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_stream_queue",
							"Messages each /stream client may have waiting to be sent.",
							"Past it the oldest are dropped and the client is told how many; a slow client never slows the feed or other clients.",
							&zvt_http_stream_queue, 4096, 16, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_stream_max_subscriptions",
							"Most subscriptions (channel and symbol pairs) one /stream client may hold.",
							NULL, &zvt_http_stream_max_subscriptions, 256, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_statement_timeout",
							"Longest an HTTP request's SQL may run (504 past it); 0 means no limit.",
							NULL, &zvt_http_statement_timeout, 10000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_rate_limit",
							"Requests per second allowed to each role and each client address; 0 means no limit.",
							"A token bucket in shared memory, a burst of one second's worth; past it 429 with Retry-After.",
							&zvt_http_rate_limit, 0, 0, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_cors_origins",
							   "Origins allowed by CORS, comma-separated, or * for any; empty sends no CORS headers.",
							   NULL, &zvt_http_cors_origins, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("zvt.http_log_level",
							 "Which HTTP requests get an access log line.",
							 "crit: none; error: 5xx; warn: 4xx and 5xx; info and debug: all (as PostgREST's log-level).",
							 &zvt_http_log_level, 1, http_log_levels, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("zvt.http_admin_port",
							"TCP port of the HTTP front's /live and /ready endpoints; 0 turns them off.",
							"Served by the HTTP workers on zvt.http_listen, as PostgREST's admin server.",
							&zvt_http_admin_port, 0, 0, 65535, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("zvt.http_metrics",
							 "Whether the HTTP front serves GET /metrics, and to whom.",
							 "off: /metrics is an ordinary API path; pg_monitor: served to requests whose role has the privileges of pg_monitor; open: to every request, as the metrics port.",
							 &zvt_http_metrics, ZVT_HTTP_METRICS_OFF, http_metrics_modes, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("zvt.http_ui",
							 "Whether the HTTP front serves the dashboard at /ui/.",
							 "Static files read from zvt.http_ui_dir by each HTTP worker at start and on reload.",
							 &zvt_http_ui, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.http_ui_dir",
							   "Directory of the dashboard's files; empty means $sharedir/extension/zvt/ui.",
							   "Only regular files directly inside it are served, never symbolic links.",
							   &zvt_http_ui_dir, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.jwt_secret",
							   "HS256 secret that HTTP tokens are signed with (at least 32 characters).",
							   "Visible to superusers only; zvt.jwt_sign signs with it.",
							   &zvt_jwt_secret, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
							   check_jwt_secret, NULL, NULL);
	DefineCustomStringVariable("zvt.jwt_jwks_file",
							   "JWKS file whose RSA and P-256 keys verify RS256 and ES256 tokens.",
							   "Read by each HTTP worker at start and on reload.",
							   &zvt_jwt_jwks_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.jwt_aud",
							   "Audience a token's aud claim must contain when it has one; empty checks none.",
							   NULL, &zvt_jwt_aud, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("zvt.jwt_role_claim_key",
							   "Path of the role claim in a token's claims.",
							   NULL, &zvt_jwt_role_claim_key, ".role", PGC_SIGHUP, 0,
							   check_role_claim_key, NULL, NULL);
}

static void
zvt_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	/* each part's own struct; see docs/architecture.md, "Shared memory" */
	maintenance_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(bus_shmem_size()));
	RequestNamedLWLockTranche("zvt bus", 1);
	RequestAddinShmemSpace(feed_shmem_size());
	RequestAddinShmemSpace(backfill_shmem_size());
	RequestAddinShmemSpace(matcher_shmem_size());
	RequestAddinShmemSpace(router_shmem_size());
	RequestAddinShmemSpace(metrics_shmem_size());
	RequestAddinShmemSpace(bus_events_shmem_size());
	RequestAddinShmemSpace(redis_shmem_size());
	RequestAddinShmemSpace(http_shmem_size());
	RequestAddinShmemSpace(MAXALIGN(book_shmem_size()));
	RequestNamedLWLockTranche("zvt book", 1);
}

static void
zvt_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	zvt_runs_shmem_reset();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	maintenance_shmem_init();
	bus_shmem_init();
	feed_shmem_init();
	backfill_shmem_init();
	matcher_shmem_init();
	router_shmem_init();
	metrics_shmem_init();
	bus_events_shmem_init();
	redis_shmem_init();
	http_shmem_init();
	book_shmem_init();
	LWLockRelease(AddinShmemInitLock);
	zvt_shmem_attached = true;
}

/*
 * Raise 55000 unless zvt was loaded through shared_preload_libraries:
 * `what` names the feature that needs the workers.
 */
void
zvt_require_preload(const char *what)
{
	if (!zvt_preloaded || !zvt_shmem_attached)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires zvt to be loaded via shared_preload_libraries", what),
				 errhint("Add zvt to shared_preload_libraries in postgresql.conf and restart the server.")));
}

PG_FUNCTION_INFO_V1(zvt_require_preload_sql);

/* zvt._require_preload(feature text): SQL face of zvt_require_preload. */
Datum
zvt_require_preload_sql(PG_FUNCTION_ARGS)
{
	zvt_require_preload(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
