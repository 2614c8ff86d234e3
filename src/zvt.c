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
#include "bus/bus.h"
#include "compress/zc.h"
#include "core/zvt_time.h"
#include "feed/status.h"
#include "launcher/launcher.h"
#include "metrics/metrics.h"
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
int			zvt_metrics_port = 0;
char	   *zvt_metrics_listen = NULL;

/* true in the postmaster and its children when preloaded */
bool		zvt_preloaded = false;

/* true once this process has attached zvt's shared memory */
static bool zvt_shmem_attached = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void zvt_define_gucs(void);
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

	MarkGUCPrefixReserved("zvt");
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
	RequestAddinShmemSpace(matcher_shmem_size());
	RequestAddinShmemSpace(metrics_shmem_size());
}

static void
zvt_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	maintenance_shmem_init();
	bus_shmem_init();
	feed_shmem_init();
	matcher_shmem_init();
	metrics_shmem_init();
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
