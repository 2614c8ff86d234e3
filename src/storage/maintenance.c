/*-------------------------------------------------------------------------
 *
 * src/storage/maintenance.c
 *	  The launcher and maintenance background workers, and their counters.
 *
 * The launcher is registered by _PG_init and connects to no database, so
 * it can watch for zvt.database to appear (it reads the shared catalog
 * pg_database) and never blocks DROP DATABASE.  Every
 * zvt.maintenance_naptime it starts a short-lived "zvt maintenance" worker
 * connected to zvt.database.  That worker returns at once if the extension
 * is not installed; otherwise it runs zvt._maintain_hypertable() for each
 * hypertable, which does the table's work as its owner under
 * SECURITY_RESTRICTED_OPERATION (as_owner.c), one transaction per
 * hypertable so that one failing table does not hold back the others (the
 * error is logged with the table's name and counted), logs what was done,
 * and exits.  Because
 * it is connected only for the length of a pass, CREATE EXTENSION, DROP
 * EXTENSION and DROP DATABASE all work while zvt runs.
 *
 * The launcher is restarted 5 s after a crash; a maintenance worker is
 * never restarted (the next pass comes anyway).
 *
 * Counters in ZvtSharedState are protected by its lock; chunk creation and
 * drops are counted where they happen (chunk.c), whoever triggered them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "bus/bus.h"
#include "feed/exchanges.h"
#include "feed/status.h"
#include "zvt.h"

PGDLLEXPORT void maintenance_launcher_main(Datum arg);
PGDLLEXPORT void maintenance_worker_main(Datum arg);

PG_FUNCTION_INFO_V1(zvt_maintenance_status);

static Oid	launcher_database_oid(void);
static bool launcher_start_pass(Oid dboid, BackgroundWorkerHandle **handle);
static void launcher_start_feeds(BackgroundWorkerHandle **handles);
static void launcher_start_matcher(BackgroundWorkerHandle **handle);
static void zvt_worker_init(BackgroundWorker *worker, const char *function,
							const char *name, int restart_time);
static List *worker_hypertables(void);
static bool worker_maintain_one(Oid relid, int64 *created, int64 *moved,
								int64 *dropped, char *error, size_t errorlen);
static void worker_error_context(void *arg);

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

void
maintenance_register_launcher(void)
{
	BackgroundWorker worker;

	zvt_worker_init(&worker, "maintenance_launcher_main", "zvt launcher", 5);
	RegisterBackgroundWorker(&worker);
}

/* ----------------------------------------------------------------
 *		Launcher
 * ----------------------------------------------------------------
 */

void
maintenance_launcher_main(Datum arg)
{
	BackgroundWorkerHandle *handle = NULL;
	BackgroundWorkerHandle *feeds[FEED_EXCHANGES] = {NULL};
	BackgroundWorkerHandle *matcher = NULL;
	TimestampTz next_pass = 0;
	bool		said_missing = false;
	bool		have_db = false;
	Oid			dboid;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	LWLockAcquire(zvt_shared->lock, LW_EXCLUSIVE);
	zvt_shared->launcher_pid = MyProcPid;
	LWLockRelease(zvt_shared->lock);

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

		/* step 3b: the paper matcher while paper orders rest */
		if (have_db && zvt_paper_matcher)
			launcher_start_matcher(&matcher);

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
 * subscriptions starts that exchange's worker only).  A feed that crashes
 * is restarted by the postmaster after 5 s; one that exits 0 comes back
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
		if (feed_is_idle(i, gen))
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
	if (zvt_shared->matcher_idle_generation == gen + 1)
		return;
	if (*handle)
		pfree(*handle);
	*handle = NULL;
	zvt_worker_init(&worker, "paper_matcher_main", "zvt paper matcher", 5);
	worker.bgw_notify_pid = MyProcPid;
	/* idle until it says otherwise, so a slow start is not doubled */
	zvt_shared->matcher_idle_generation = gen + 1;
	if (!RegisterDynamicBackgroundWorker(&worker, handle))
	{
		zvt_shared->matcher_idle_generation = 0;
		*handle = NULL;
		ereport(LOG,
				(errmsg("zvt could not start the paper matcher"),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * Register one maintenance worker for dboid; false (with a LOG line) when
 * no worker slot is free.
 */
static bool
launcher_start_pass(Oid dboid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	zvt_worker_init(&worker, "maintenance_worker_main", "zvt maintenance", BGW_NEVER_RESTART);
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

/* ----------------------------------------------------------------
 *		Maintenance worker
 * ----------------------------------------------------------------
 */

void
maintenance_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	List	   *hypertables;
	ListCell   *lc;
	int64		created = 0;
	int64		moved = 0;
	int64		dropped = 0;
	int			failed = 0;
	char		error[256] = "";

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("zvt maintenance");
	/* nothing a user put on the path can capture a name; names print qualified */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	LWLockAcquire(zvt_shared->lock, LW_EXCLUSIVE);
	zvt_shared->last_pass_start = GetCurrentTimestamp();
	LWLockRelease(zvt_shared->lock);

	hypertables = worker_hypertables();
	foreach(lc, hypertables)
	{
		CHECK_FOR_INTERRUPTS();
		if (!worker_maintain_one(lfirst_oid(lc), &created, &moved, &dropped,
								 error, sizeof(error)))
			failed++;
	}

	if (created > 0 || moved > 0 || dropped > 0)
		ereport(DEBUG1,
				(errmsg("zvt maintenance pass: created %lld chunks, moved %lld rows, dropped %lld chunks",
						(long long) created, (long long) moved, (long long) dropped)));
	maintenance_record_pass(failed, failed > 0 ? error : NULL);
	proc_exit(0);
}

/*
 * Hypertables to maintain, in a transaction of their own; NIL when the
 * extension is not installed (yet).  The list lives in TopMemoryContext.
 */
static List *
worker_hypertables(void)
{
	List	   *result = NIL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (OidIsValid(get_extension_oid("zvt", true)))
	{
		uint64		i;

		SPI_connect();
		if (SPI_execute("SELECT relid::oid FROM zvt._hypertables ORDER BY relid",
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not list hypertables");
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			result = lappend_oid(result, DatumGetObjectId(d));
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return result;
}

/* Error context of one hypertable's pass: which table failed. */
static void
worker_error_context(void *arg)
{
	errcontext("zvt maintenance of hypertable \"%s\"", (const char *) arg);
}

/*
 * One hypertable's pass in its own transaction.  An error is logged (with
 * the table's name as its context), the transaction rolled back, "<table>:
 * <message>" written to error (errorlen bytes), and false returned so the
 * pass goes on with the next table.
 */
static bool
worker_maintain_one(Oid relid, int64 *created, int64 *moved, int64 *dropped,
					char *error, size_t errorlen)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;
	char		name[2 * NAMEDATALEN + 2];
	ErrorContextCallback errcallback;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "zvt maintenance pass");
	/* the name, for the log, outlives the transaction */
	{
		char	   *rel = get_rel_name(relid);
		char	   *nsp = rel ? get_namespace_name(get_rel_namespace(relid)) : NULL;

		snprintf(name, sizeof(name), "%s.%s", nsp ? nsp : "?", rel ? rel : "?");
	}
	PG_TRY();
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		values[1] = {ObjectIdGetDatum(relid)};
		int64		c = 0;
		int64		m = 0;
		int64		d = 0;

		/* pushed inside PG_TRY, whose end restores the stack as it found it */
		errcallback.callback = worker_error_context;
		errcallback.arg = name;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;

		SPI_connect();
		if (SPI_execute_with_args("SELECT chunks_created, rows_moved, chunks_dropped "
								  "  FROM zvt._maintain_hypertable($1)",
								  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run zvt._maintain_hypertable");
		if (SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;

			c = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			m = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
			d = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		}
		SPI_finish();
		error_context_stack = errcallback.previous;

		if (c > 0 || m > 0 || d > 0)
			ereport(LOG,
					(errmsg("zvt maintenance of \"%s\": created %lld chunks, moved %lld rows, dropped %lld chunks",
							name, (long long) c, (long long) m, (long long) d)));
		*created += c;
		*moved += m;
		*dropped += d;
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		snprintf(error, errorlen, "%s: %s", name, edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/* ----------------------------------------------------------------
 *		Counters
 * ----------------------------------------------------------------
 */

/*
 * Count one finished pass in which `failed` hypertables failed (chunk
 * counts are added by chunk.c as they happen); error, the latest failure's
 * text, is kept when not NULL.
 */
void
maintenance_record_pass(int64 failed, const char *error)
{
	if (zvt_shared == NULL)
		return;
	LWLockAcquire(zvt_shared->lock, LW_EXCLUSIVE);
	zvt_shared->passes++;
	zvt_shared->last_pass_end = GetCurrentTimestamp();
	zvt_shared->failures += failed;
	if (error)
	{
		strlcpy(zvt_shared->last_error, error, sizeof(zvt_shared->last_error));
	}
	LWLockRelease(zvt_shared->lock);
}

void
chunk_count_created(int64 created, int64 moved)
{
	if (zvt_shared == NULL)
		return;
	LWLockAcquire(zvt_shared->lock, LW_EXCLUSIVE);
	zvt_shared->chunks_created += created;
	zvt_shared->rows_moved += moved;
	LWLockRelease(zvt_shared->lock);
}

void
chunk_count_dropped(int64 dropped)
{
	if (zvt_shared == NULL)
		return;
	LWLockAcquire(zvt_shared->lock, LW_EXCLUSIVE);
	zvt_shared->chunks_dropped += dropped;
	LWLockRelease(zvt_shared->lock);
}

/*
 * zvt.maintenance_status() RETURNS TABLE (launcher_pid int, passes bigint,
 *   failures bigint, chunks_created bigint, rows_moved bigint,
 *   chunks_dropped bigint, last_pass_start timestamptz,
 *   last_pass_end timestamptz, last_error text)
 *
 * Counters since server start; 55000 unless preloaded.
 */
Datum
zvt_maintenance_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9];
	ZvtSharedState copy;

	zvt_require_preload("zvt.maintenance_status");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	LWLockAcquire(zvt_shared->lock, LW_SHARED);
	copy = *zvt_shared;
	LWLockRelease(zvt_shared->lock);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int32GetDatum(copy.launcher_pid);
	nulls[0] = copy.launcher_pid == 0;
	values[1] = Int64GetDatum(copy.passes);
	values[2] = Int64GetDatum(copy.failures);
	values[3] = Int64GetDatum(copy.chunks_created);
	values[4] = Int64GetDatum(copy.rows_moved);
	values[5] = Int64GetDatum(copy.chunks_dropped);
	values[6] = TimestampTzGetDatum(copy.last_pass_start);
	nulls[6] = copy.last_pass_start == 0;
	values[7] = TimestampTzGetDatum(copy.last_pass_end);
	nulls[7] = copy.last_pass_end == 0;
	values[8] = CStringGetTextDatum(copy.last_error);
	nulls[8] = copy.last_error[0] == '\0';
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
