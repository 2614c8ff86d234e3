/*-------------------------------------------------------------------------
 *
 * src/launcher/launcher.c
 *	  The launcher: the static background worker that starts every other
 *	  zvt worker, and the set-up they all share.
 *
 * _PG_init registers it; it connects to no database, so it can watch for
 * zvt.database to appear (a heap scan of the shared catalog pg_database)
 * and never blocks CREATE/DROP EXTENSION or DROP DATABASE.  On every
 * wake-up (half a second at most, or a worker's exit, or a reload) its
 * loop runs these steps:
 *
 *	1. does zvt.database exist;
 *	2. a maintenance pass (storage/maintenance.c) when one is due and the
 *	   last is over;
 *	3. each exchange's feed worker (feed/worker.c) unless it runs or last
 *	   found nothing to stream at its exchange's current subscription
 *	   generation (feed/status.c);
 *	   and the backfill worker (feed/backfill_worker.c) unless it runs or
 *	   last found no job and no gap at the current backfill generation;
 *	4. the paper matcher (trading/paper_matcher.c) unless it runs or last
 *	   found nothing resting at the current paper generation;
 *	4b. while zvt.live_trading is on, each exchange's order router
 *	   (live/router.c) unless it runs or last found no live order to
 *	   finish at its exchange's current live generation;
 *	5. the metrics worker (metrics/worker.c) while zvt.metrics_port is
 *	   set, unless it runs;
 *	5b. the Redis publisher (redis/worker.c) while zvt.redis_url is set
 *	   and the event ring exists, unless it runs;
 *	5c. the HTTP workers (http/worker.c), zvt.http_workers of them, while
 *	   zvt.http_port is set and their authenticator role exists, each
 *	   unless it runs or was started less than 5 s ago;
 *	6. sleep; reload the configuration on SIGHUP.
 *
 * "Runs" is the worker's claimed slot in its part's shared memory
 * (base/claim.h), not only the launcher's handle: a launcher restarted
 * after an error has no handles, and the postmaster restarts a crashed
 * dynamic worker by itself, so the launcher would otherwise start a
 * second copy.  A worker that finds its slot taken exits 0.
 *
 * The launcher has no shared memory of its own: it records its pid with
 * the maintenance counters (zvt.maintenance_status shows it).  It is
 * restarted 5 s after it exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "base/runs.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "feed/backfill.h"
#include "feed/exchanges.h"
#include "feed/status.h"
#include "http/http.h"
#include "launcher/launcher.h"
#include "bus/events.h"
#include "metrics/metrics.h"
#include "redis/redis.h"
#include "storage/maintenance.h"
#include "trading/matcher.h"
#include "live/route.h"
#include "live/router.h"
#include "zvt.h"

PGDLLEXPORT void launcher_main(Datum arg);

static Oid	launcher_database_oid(void);
static bool launcher_start_pass(Oid dboid, BackgroundWorkerHandle **handle);
static void launcher_start_feeds(BackgroundWorkerHandle **handles);
static void launcher_start_matcher(BackgroundWorkerHandle **handle);
static void launcher_start_routers(BackgroundWorkerHandle **handles);
static void launcher_start_backfill(BackgroundWorkerHandle **handle);
static void launcher_start_metrics(BackgroundWorkerHandle **handle);
static void launcher_start_redis(BackgroundWorkerHandle **handle);
static void launcher_start_http(BackgroundWorkerHandle **handles, TimestampTz *last);
static bool launcher_role_exists(const char *name);
static void zvt_worker_init(BackgroundWorker *worker, const char *function,
							const char *name, int restart_time);
static void launcher_detach(int code, Datum arg);

static void
launcher_detach(int code, Datum arg)
{
	maintenance_set_launcher(0);
}

/*
 * Fill worker as every zvt worker is: shared memory and a database
 * connection, started once recovery is over, in zvt's library; name is
 * its bgw_name and bgw_type.
 */
static void
zvt_worker_init(BackgroundWorker *worker, const char *function, const char *name,
				int restart_time)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = restart_time;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "zvt");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", name);
}

/* Register the launcher (from _PG_init, while preloading). */
void
launcher_register(void)
{
	BackgroundWorker worker;

	zvt_worker_init(&worker, "launcher_main", "zvt launcher", 5);
	RegisterBackgroundWorker(&worker);
}

void
launcher_main(Datum arg)
{
	BackgroundWorkerHandle *handle = NULL;
	BackgroundWorkerHandle *feeds[FEED_EXCHANGES] = {NULL};
	BackgroundWorkerHandle *matcher = NULL;
	BackgroundWorkerHandle *routers[ROUTER_EXCHANGES] = {NULL};
	BackgroundWorkerHandle *metrics = NULL;
	BackgroundWorkerHandle *redis = NULL;
	BackgroundWorkerHandle *http[HTTP_MAX_WORKERS] = {NULL};
	TimestampTz http_started[HTTP_MAX_WORKERS] = {0};
	BackgroundWorkerHandle *backfill = NULL;
	TimestampTz next_pass = 0;
	bool		said_missing = false;
	bool		have_db = false;
	Oid			dboid;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	maintenance_set_launcher(MyProcPid);
	before_shmem_exit(launcher_detach, 0);
	zvt_run_begin(ZVT_RUN_LAUNCHER, 0);

	ereport(LOG,
			(errmsg("zvt launcher started for database \"%s\"", zvt_database)));

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		pid_t		pid;
		long		sleep_ms;

		/* step 1: does the database exist (checked every wake-up: it is cheap) */
		dboid = launcher_database_oid();
		have_db = OidIsValid(dboid);
		if (!have_db && !said_missing)
		{
			ereport(LOG,
					(errmsg("zvt database \"%s\" does not exist; waiting for it", zvt_database)));
			said_missing = true;
		}
		else if (have_db && said_missing)
		{
			said_missing = false;
			next_pass = 0;		/* it just appeared: maintain it now */
		}

		/* step 2: start a pass when due and the previous one is over */
		if (have_db && now >= next_pass &&
			(handle == NULL ||
			 GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED))
		{
			if (handle)
				pfree(handle);
			handle = NULL;
			launcher_start_pass(dboid, &handle);
			next_pass = TimestampTzPlusMilliseconds(now, zvt_maintenance_naptime * 1000L);
		}

		/* step 3: feed workers for exchanges with subscriptions */
		if (have_db && zvt_feeds)
			launcher_start_feeds(feeds);

		/* step 3a: the backfill worker while jobs or gaps wait */
		if (have_db && zvt_feeds)
			launcher_start_backfill(&backfill);

		/* step 3b: the paper matcher while paper orders rest */
		if (have_db && zvt_paper_matcher)
			launcher_start_matcher(&matcher);

		/* step 3b': the order routers while live orders wait */
		if (have_db && zvt_live_trading)
			launcher_start_routers(routers);

		/* step 3c: the metrics endpoint while it has a port */
		if (have_db && (zvt_metrics_port != 0 || http_metrics_front_on()))
			launcher_start_metrics(&metrics);

		/* step 3d: the Redis publisher while it has a server and a ring to read */
		if (have_db && zvt_redis_url[0] != '\0' && bus_events_ring() != NULL)
			launcher_start_redis(&redis);
		/* step 3e: the HTTP workers while the front has a port */
		if (have_db && zvt_http_port != 0 && launcher_role_exists(zvt_http_authenticator))
			launcher_start_http(http, http_started);

		/* step 4: sleep until the next pass, a reload, a worker exit, or half a second */
		sleep_ms = Min(500, Max(1, (next_pass - now) / 1000));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		/* step 5: reload; a shorter naptime takes effect now */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			next_pass = Min(next_pass,
							TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														zvt_maintenance_naptime * 1000L));
		}
	}
}

/*
 * Oid of zvt.database, or InvalidOid while it does not exist.  Without a
 * database of our own only a plain heap scan of the shared catalog works
 * (as in the autovacuum launcher); index scans need pg_class.
 */
static Oid
launcher_database_oid(void)
{
	Oid			dboid = InvalidOid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), zvt_database) == 0)
		{
			dboid = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dboid;
}

/*
 * Start each feed worker that is not running, unless it last found nothing
 * to do and its exchange's subscriptions have not changed since (status.c
 * keeps a generation per exchange, so a change to one exchange's
 * subscriptions starts that exchange's worker only), or one runs that
 * this launcher did not start (feed_running).  A feed that crashes is
 * restarted by the postmaster after 5 s; one that exits 0 comes back
 * through here.
 */
static void
launcher_start_feeds(BackgroundWorkerHandle **handles)
{
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		BackgroundWorker worker;
		uint64		gen = feed_subscription_generation(i);
		pid_t		pid;
		char		name[BGW_MAXLEN];

		if (handles[i] && GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		if (feed_is_idle(i, gen) || feed_running(i))
			continue;
		if (handles[i])
			pfree(handles[i]);
		handles[i] = NULL;
		snprintf(name, sizeof(name), "zvt feed %s", feed_exchanges[i].name);
		zvt_worker_init(&worker, "feed_worker_main", name, 5);
		worker.bgw_main_arg = Int32GetDatum(i);
		worker.bgw_notify_pid = MyProcPid;
		/* mark idle until the worker says otherwise, so a slow start is not doubled */
		feed_mark_idle(i, gen);
		if (!RegisterDynamicBackgroundWorker(&worker, &handles[i]))
		{
			feed_mark_idle(i, PG_UINT64_MAX);
			handles[i] = NULL;
			ereport(LOG,
					(errmsg("zvt could not start the %s feed worker", feed_exchanges[i].name),
					 errhint("Raise max_worker_processes.")));
		}
	}
}

/*
 * Start the paper matcher unless it runs or last found no resting order
 * and none came to rest since.
 */
static void
launcher_start_matcher(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	uint64		gen = bus_paper_generation();
	pid_t		pid;

	if (*handle && GetBackgroundWorkerPid(*handle, &pid) != BGWH_STOPPED)
		return;
	if (matcher_is_idle(gen) || matcher_running())
		return;
	if (*handle)
		pfree(*handle);
	*handle = NULL;
	zvt_worker_init(&worker, "paper_matcher_main", "zvt paper matcher", 5);
	worker.bgw_notify_pid = MyProcPid;
	/* idle until it says otherwise, so a slow start is not doubled */
	matcher_mark_idle(gen);
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		matcher_mark_idle(PG_UINT64_MAX);
		*handle = NULL;
		ereport(LOG,
				(errmsg("zvt could not start the paper matcher"),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * Start each exchange's order router unless it runs or last found no
 * live order to finish at its exchange's live generation (a server start
 * starts each once: orders a crash left sending are queried).
 */
static void
launcher_start_routers(BackgroundWorkerHandle **handles)
{
	for (int i = 0; i < ROUTER_EXCHANGES; i++)
	{
		BackgroundWorker worker;
		uint64		gen = router_generation(i);
		pid_t		pid;
		char		name[BGW_MAXLEN];

		if (handles[i] && GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		if (router_is_idle(i, gen) || router_running(i))
			continue;
		if (handles[i])
			pfree(handles[i]);
		handles[i] = NULL;
		snprintf(name, sizeof(name), "zvt router %s", live_exchange_name((LiveExchange) i));
		zvt_worker_init(&worker, "router_main", name, 5);
		worker.bgw_main_arg = Int32GetDatum(i);
		worker.bgw_notify_pid = MyProcPid;
		router_mark_idle(i, gen);
		if (!RegisterDynamicBackgroundWorker(&worker, &handles[i]))
		{
			router_mark_idle(i, PG_UINT64_MAX);
			handles[i] = NULL;
			ereport(LOG,
					(errmsg("zvt could not start the %s order router", live_exchange_name((LiveExchange) i)),
					 errhint("Raise max_worker_processes.")));
		}
	}
}

/*
 * Start the backfill worker unless it runs or last found nothing to do
 * and no job or gap came since (feed/backfill.c).
 */
static void
launcher_start_backfill(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	uint64		gen = backfill_generation();
	pid_t		pid;

	if (*handle && GetBackgroundWorkerPid(*handle, &pid) != BGWH_STOPPED)
		return;
	if (backfill_is_idle(gen) || backfill_running())
		return;
	if (*handle)
		pfree(*handle);
	*handle = NULL;
	zvt_worker_init(&worker, BACKFILL_WORKER_MAIN, "zvt backfill", 5);
	worker.bgw_notify_pid = MyProcPid;
	/* idle until it says otherwise, so a slow start is not doubled */
	backfill_mark_idle(gen);
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		backfill_mark_idle(PG_UINT64_MAX);
		*handle = NULL;
		ereport(LOG,
				(errmsg("zvt could not start the backfill worker"),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * Start the metrics worker unless it runs (this launcher's or another's:
 * its slot says).  It exits by itself when the port is set back to 0.
 */
static void
launcher_start_metrics(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	pid_t		pid;

	if (*handle && GetBackgroundWorkerPid(*handle, &pid) != BGWH_STOPPED)
		return;
	if (metrics_running())
		return;
	if (*handle)
		pfree(*handle);
	*handle = NULL;
	zvt_worker_init(&worker, METRICS_WORKER_MAIN, "zvt metrics", 5);
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		*handle = NULL;
		ereport(LOG,
				(errmsg("zvt could not start the metrics worker"),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * Start the Redis publisher unless it runs (its slot says).  It exits by
 * itself when zvt.redis_url is set back to ''.
 */
static void
launcher_start_redis(BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	pid_t		pid;

	if (*handle && GetBackgroundWorkerPid(*handle, &pid) != BGWH_STOPPED)
		return;
	if (redis_running())
		return;
	if (*handle)
		pfree(*handle);
	*handle = NULL;
	zvt_worker_init(&worker, REDIS_WORKER_MAIN, "zvt redis", 5);
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		*handle = NULL;
		ereport(LOG,
				(errmsg("zvt could not start the Redis publisher"),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * Start each HTTP worker 0..zvt.http_workers-1 unless it runs (its slot
 * says) or was started less than 5 s ago (last[i]): a worker that fails
 * at once, say its database lacks what it needs, is not restarted in a
 * storm.  A worker exits by itself when the port is set back to 0 or it
 * is no longer among zvt.http_workers.
 */
static void
launcher_start_http(BackgroundWorkerHandle **handles, TimestampTz *last)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < Min(zvt_http_workers, HTTP_MAX_WORKERS); i++)
	{
		BackgroundWorker worker;
		pid_t		pid;
		char		name[BGW_MAXLEN];

		if (handles[i] && GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		if (http_worker_running(i) ||
			!TimestampDifferenceExceeds(last[i], now, 5000))
			continue;
		if (handles[i])
			pfree(handles[i]);
		handles[i] = NULL;
		last[i] = now;
		snprintf(name, sizeof(name), "zvt http %d", i);
		zvt_worker_init(&worker, HTTP_WORKER_MAIN, name, 5);
		snprintf(worker.bgw_type, BGW_MAXLEN, "zvt http");
		worker.bgw_main_arg = Int32GetDatum(i);
		worker.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&worker, &handles[i]))
		{
			handles[i] = NULL;
			ereport(LOG,
					(errmsg("zvt could not start HTTP worker %d", i),
					 errhint("Raise max_worker_processes.")));
			return;
		}
	}
}

/*
 * Whether a role of this name exists (the HTTP workers' authenticator is
 * made by CREATE EXTENSION): a heap scan of the shared catalog pg_authid,
 * as launcher_database_oid does for pg_database.
 */
static bool
launcher_role_exists(const char *name)
{
	bool		found = false;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(AuthIdRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		if (strcmp(NameStr(((Form_pg_authid) GETSTRUCT(tup))->rolname), name) == 0)
		{
			found = true;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

/*
 * Register one maintenance worker for dboid; false (with a LOG line) when
 * no worker slot is free.
 */
static bool
launcher_start_pass(Oid dboid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	zvt_worker_init(&worker, MAINTENANCE_WORKER_MAIN, "zvt maintenance", BGW_NEVER_RESTART);
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		ereport(LOG,
				(errmsg("zvt could not start a maintenance worker"),
				 errhint("Raise max_worker_processes.")));
		*handle = NULL;
		return false;
	}
	return true;
}
