/*-------------------------------------------------------------------------
 *
 * src/storage/maintenance.c
 *	  The maintenance background worker and its counters.
 *
 * Every zvt.maintenance_naptime the launcher (src/launcher/launcher.c)
 * starts a short-lived "zvt maintenance" worker connected to
 * zvt.database.  That worker returns at once if the extension
 * is not installed; otherwise it runs zvt._maintain_hypertable() for each
 * hypertable, which does the table's work as its owner under
 * SECURITY_RESTRICTED_OPERATION (as_owner.c), one transaction per
 * hypertable so that one failing table does not hold back the others (the
 * error is logged with the table's name and counted), logs what was done,
 * then takes in the candle roll-ups' invalidation log and moves their
 * watermarks (zvt._refresh_candle_rollups, rollup_refresh.c, as the
 * roll-ups' owner) in a transaction of its own, settles the perpetuals'
 * funding times that passed (zvt.settle_funding(), sql/58_funding.sql:
 * paper positions' funding payments, exactly once by its unique keys) in
 * another, and exits.  Because
 * it is connected only for the length of a pass, CREATE EXTENSION, DROP
 * EXTENSION and DROP DATABASE all work while zvt runs.
 *
 * A maintenance worker is never restarted (the next pass comes anyway).
 *
 * Counters in shared memory ("zvt maintenance", MaintenanceShared) are
 * protected by its LWLock; chunk creation and drops are counted where
 * they happen (chunk.c, chunk_list.c), whoever triggered them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "base/locks.h"
#include "base/runs.h"
#include "catalog/pg_authid.h"
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
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "storage/maintenance.h"
#include "zvt.h"

PGDLLEXPORT void maintenance_worker_main(Datum arg);

/* how long a pass waits for one hypertable's locks (a GUC value, ms) */
#define MAINTENANCE_LOCK_TIMEOUT "1000"

PG_FUNCTION_INFO_V1(zvt_maintenance_status);

/*
 * Counters since server start, read by zvt.maintenance_status; the lock
 * protects every field.
 */
typedef struct MaintenanceShared
{
	LWLock	   *lock;
	int			launcher_pid;	/* set by the launcher, 0 when it is not running */
	int64		passes;			/* completed maintenance passes */
	int64		failures;		/* hypertables whose pass raised an error */
	int64		chunks_created;
	int64		rows_moved;		/* rows moved out of default partitions */
	int64		chunks_dropped;
	TimestampTz last_pass_start;
	TimestampTz last_pass_end;
	char		last_error[256];	/* "<table>: <message>" of the latest failure */
} MaintenanceShared;

static MaintenanceShared *maint_shared = NULL;

static List *worker_hypertables(void);
static bool worker_maintain_one(Oid relid, int64 *created, int64 *moved,
								int64 *dropped, char *error, size_t errorlen);
static void maintain_hypertable(Oid relid, int64 *created, int64 *moved,
								int64 *dropped);
static void worker_error_context(void *arg);
static bool worker_catch(MemoryContext oldcxt, const char *what, const char *name,
						 char *error, size_t errorlen);
static bool worker_run_step(const char *what, void (*step) (void),
							char *error, size_t errorlen);
static void refresh_rollups_step(void);
static void settle_funding_step(void);

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
	zvt_run_begin(ZVT_RUN_MAINTENANCE, 0);
	/* nothing a user put on the path can capture a name; names print qualified */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	/*
	 * Chunk work takes ACCESS EXCLUSIVE on a hypertable (docs/architecture.md,
	 * "Locks and their order").  Queued behind a long query, that request
	 * would hold every new reader and writer of the table, the feeds among
	 * them, back with it: a pass waits at most MAINTENANCE_LOCK_TIMEOUT for
	 * a table's locks and leaves a busy table for the next pass (chunks are
	 * made zvt.chunks_ahead intervals early, so there is time).
	 */
	SetConfigOption("lock_timeout", MAINTENANCE_LOCK_TIMEOUT, PGC_SUSET, PGC_S_OVERRIDE);

	LWLockAcquire(maint_shared->lock, LW_EXCLUSIVE);
	maint_shared->last_pass_start = GetCurrentTimestamp();
	LWLockRelease(maint_shared->lock);

	hypertables = worker_hypertables();
	foreach(lc, hypertables)
	{
		CHECK_FOR_INTERRUPTS();
		if (!worker_maintain_one(lfirst_oid(lc), &created, &moved, &dropped,
								 error, sizeof(error)))
			failed++;
	}

	CHECK_FOR_INTERRUPTS();
	if (hypertables != NIL && !worker_run_step("candle roll-ups", refresh_rollups_step,
										   error, sizeof(error)))
		failed++;
	CHECK_FOR_INTERRUPTS();
	if (hypertables != NIL && !worker_run_step("funding settlement", settle_funding_step,
										   error, sizeof(error)))
		failed++;

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
 * The PG_CATCH of a maintenance step in its own transaction (oldcxt: the
 * context before it): the transaction rolled back and the error classed.
 * A lock held past lock_timeout is busy, not broken: logged as "zvt
 * <what> left for the next pass", not a failure, the next pass tries
 * again.  Any other error is reported, written to error as "<name>:
 * <message>", and false returned.
 */
static bool
worker_catch(MemoryContext oldcxt, const char *what, const char *name,
			 char *error, size_t errorlen)
{
	ErrorData  *edata;
	bool		ok = true;

	MemoryContextSwitchTo(oldcxt);
	edata = CopyErrorData();
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
	if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		ereport(LOG,
				(errmsg("zvt %s left for the next pass: %s", what, edata->message)));
	else
	{
		snprintf(error, errorlen, "%s: %s", name, edata->message);
		ok = false;
	}
	FreeErrorData(edata);
	return ok;
}

/*
 * Runs zvt._maintain_hypertable on relid (SPI connected, in the caller's
 * transaction) and reads back its three counts.
 */
static void
maintain_hypertable(Oid relid, int64 *created, int64 *moved, int64 *dropped)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	if (SPI_execute_with_args("SELECT chunks_created, rows_moved, chunks_dropped "
							  "  FROM zvt._maintain_hypertable($1)",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run zvt._maintain_hypertable");
	if (SPI_processed != 1)
		return;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*created = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	*moved = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	*dropped = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
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
		int64		c = 0;
		int64		m = 0;
		int64		d = 0;

		/* pushed inside PG_TRY, whose end restores the stack as it found it */
		errcallback.callback = worker_error_context;
		errcallback.arg = name;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;

		SPI_connect();
		/* before or after a DROP EXTENSION, never during (base/locks.c) */
		if (zvt_lock_extension())
			maintain_hypertable(relid, &c, &m, &d);
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
		char		what[2 * NAMEDATALEN + 32];

		snprintf(what, sizeof(what), "maintenance of \"%s\"", name);
		ok = worker_catch(oldcxt, what, name, error, errorlen);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/*
 * One database-wide step of a pass (the roll-ups' refresh, the funding
 * settlement) in its own transaction, errors handled as
 * worker_maintain_one's: a lock held past lock_timeout leaves the step for
 * the next pass (nothing of it was written); any other error is logged
 * and reported in error as "<what>: <message>".
 */
static bool
worker_run_step(const char *what, void (*step) (void), char *error, size_t errorlen)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;
	char		activity[64];

	snprintf(activity, sizeof(activity), "zvt %s", what);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_TRY();
	{
		SPI_connect();
		/* before or after a DROP EXTENSION, never during (base/locks.c) */
		if (zvt_lock_extension())
			step();
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ok = worker_catch(oldcxt, what, what, error, errorlen);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/* The candle roll-ups' refresh: the invalidations taken, the bars written. */
static void
refresh_rollups_step(void)
{
	int64		inv = 0;
	int64		bars = 0;

	if (SPI_execute("SELECT invalidations, buckets FROM zvt._refresh_candle_rollups()",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run zvt._refresh_candle_rollups");
	if (SPI_processed == 1)
	{
		bool		isnull;

		inv = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		bars = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (bars > 0)
		ereport(DEBUG1,
				(errmsg("zvt candle roll-ups: took %lld invalidations, wrote %lld bars",
						(long long) inv, (long long) bars)));
}

/* The funding settlement of paper perpetual positions (zvt.settle_funding). */
static void
settle_funding_step(void)
{
	if (SPI_execute("SELECT zvt.settle_funding()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run zvt.settle_funding");
}

/* ----------------------------------------------------------------
 *		Counters
 * ----------------------------------------------------------------
 */

Size
maintenance_shmem_size(void)
{
	return MAXALIGN(sizeof(MaintenanceShared));
}

/* Called from zvt's shmem_request_hook. */
void
maintenance_shmem_request(void)
{
	RequestAddinShmemSpace(maintenance_shmem_size());
	RequestNamedLWLockTranche("zvt maintenance", 1);
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
maintenance_shmem_init(void)
{
	bool		found;

	maint_shared = ShmemInitStruct("zvt maintenance", sizeof(MaintenanceShared), &found);
	if (!found)
	{
		memset(maint_shared, 0, sizeof(MaintenanceShared));
		maint_shared->lock = &(GetNamedLWLockTranche("zvt maintenance"))->lock;
	}
}

/* The launcher says it runs (its pid) or has stopped (0). */
void
maintenance_set_launcher(int pid)
{
	LWLockAcquire(maint_shared->lock, LW_EXCLUSIVE);
	maint_shared->launcher_pid = pid;
	LWLockRelease(maint_shared->lock);
}

/*
 * Count one finished pass in which `failed` hypertables failed (chunk
 * counts are added by chunk.c as they happen); error, the latest failure's
 * text, is kept when not NULL.
 */
void
maintenance_record_pass(int64 failed, const char *error)
{
	if (maint_shared == NULL)
		return;
	LWLockAcquire(maint_shared->lock, LW_EXCLUSIVE);
	maint_shared->passes++;
	maint_shared->last_pass_end = GetCurrentTimestamp();
	maint_shared->failures += failed;
	if (error)
	{
		strlcpy(maint_shared->last_error, error, sizeof(maint_shared->last_error));
	}
	LWLockRelease(maint_shared->lock);
}

void
chunk_count_created(int64 created, int64 moved)
{
	if (maint_shared == NULL)
		return;
	LWLockAcquire(maint_shared->lock, LW_EXCLUSIVE);
	maint_shared->chunks_created += created;
	maint_shared->rows_moved += moved;
	LWLockRelease(maint_shared->lock);
}

void
chunk_count_dropped(int64 dropped)
{
	if (maint_shared == NULL)
		return;
	LWLockAcquire(maint_shared->lock, LW_EXCLUSIVE);
	maint_shared->chunks_dropped += dropped;
	LWLockRelease(maint_shared->lock);
}

/* Copy the counters into *out (all 0 when zvt is not preloaded). */
void
maintenance_counters(MaintenanceCounters *out)
{
	memset(out, 0, sizeof(*out));
	if (maint_shared == NULL)
		return;
	LWLockAcquire(maint_shared->lock, LW_SHARED);
	out->launcher_pid = maint_shared->launcher_pid;
	out->passes = maint_shared->passes;
	out->failures = maint_shared->failures;
	out->chunks_created = maint_shared->chunks_created;
	out->rows_moved = maint_shared->rows_moved;
	out->chunks_dropped = maint_shared->chunks_dropped;
	out->last_pass_end = maint_shared->last_pass_end;
	LWLockRelease(maint_shared->lock);
}

/*
 * zvt.maintenance_status() RETURNS TABLE (launcher_pid int, passes bigint,
 *   failures bigint, chunks_created bigint, rows_moved bigint,
 *   chunks_dropped bigint, last_pass_start timestamptz,
 *   last_pass_end timestamptz, last_error text)
 *
 * Counters since server start; 55000 unless preloaded.  last_error is
 * NULL for roles without pg_read_all_stats.
 */
Datum
zvt_maintenance_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9];
	MaintenanceShared copy;

	zvt_require_preload("zvt.maintenance_status");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	LWLockAcquire(maint_shared->lock, LW_SHARED);
	copy = *maint_shared;
	LWLockRelease(maint_shared->lock);

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

	/*
	 * The latest failure names another role's table and its error: shown,
	 * as pg_stat_activity shows other sessions' queries, only to roles
	 * with pg_read_all_stats (superusers have it).
	 */
	nulls[8] = copy.last_error[0] == '\0' ||
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
