/*-------------------------------------------------------------------------
 *
 * src/feed/backfill_jobs.c
 *	  The backfill worker's writes of a job: a page's rows with the job's
 *	  new cursor, a wait, a failure, and the holes and gaps they record.
 *
 * Step 5 of backfill_worker.c (see its head): each runs in its own
 * transaction when called outside one.  Rows go through the feeds'
 * idempotent ingest path (ingest_flush).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "feed/backfill.h"
#include "feed/backfill_private.h"
#include "feed/ingest.h"
#include "zvt.h"

static IngestBatch batch;

/*
 * Pages read but not yet committed: their rows are in the open
 * transaction or still in batch (written every BACKFILL_WRITE_ROWS), and
 * where the job stands after the last of them is here.
 * The transaction is committed with the job's cursor (backfill_job_flush),
 * so what a restart resumes from is exactly what was committed: pages
 * written since are read again.
 */
typedef struct Pending
{
	int64		job_id;
	int			pages;			/* > 0: the transaction is open */
	int64		fetched;		/* rows kept of those pages */
	int64		written;		/* rows they really inserted so far */
	TimestampTz since;			/* when the first of them was read */
	bool		done;
	int64		cursor_ms;
	bool		has_next_id;
	int64		next_id;
	int64		hole_to_ms;
} Pending;

static Pending pending;

/* a repair's ids the exchange did not serve: repair_error when it finishes; "" = none */
static char id_hole[320];

static void flush_pending(const Job *job);
static bool job_update_begin(const Job *job);
static void job_update_end(bool own);
static void record_hole(const Job *job, int64 hole_to_ms);

/*
 * Run a statement of the worker's through a plan prepared once and kept
 * (planning the job's statements again for every page cost several
 * per cent of a backfill).  sql must be a string constant: its address
 * is the key.  Returns SPI's code as SPI_execute_with_args does.
 */
int
backfill_spi(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
			 bool read_only, long count)
{
	static const char *keys[16];
	static SPIPlanPtr plans[16];
	int			i;

	for (i = 0; i < 16 && keys[i] && keys[i] != sql; i++)
		;
	if (i == 16)
		return SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, count);
	if (!keys[i])
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare a statement of the backfill worker: %s",
				 SPI_result_code_string(SPI_result));
		plans[i] = plan;
		keys[i] = sql;
	}
	return SPI_execute_plan(plans[i], values, nulls, read_only, count);
}

TimestampTz
backfill_ms_ts(int64 ms)
{
	return ZVT_UNIX_TO_TS(ms * 1000);
}

/* ---- step 5: the page's rows and the job's progress -------------------- */

/*
 * Before a job's row changes state: what was read before is committed
 * first (the job's progress is kept), then, outside a transaction, one is
 * begun for the change (true: job_update_end commits it).
 */
static bool
job_update_begin(const Job *job)
{
	flush_pending(job);
	if (IsTransactionState())
		return false;
	/* now() is the start of this transaction, not of the worker's first */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	return true;
}

static void
job_update_end(bool own)
{
	if (!own)
		return;
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(backfill_pass_context);
}

void
backfill_job_wait(const Job *job, TimestampTz until, bool rate_limit, const char *error)
{
	Oid			types[5] = {INT8OID, TIMESTAMPTZOID, BOOLOID, TEXTOID, BOOLOID};
	Datum		v[5] = {Int64GetDatum(job->id), TimestampTzGetDatum(until), BoolGetDatum(rate_limit),
	CStringGetTextDatum(error), BoolGetDatum(!rate_limit && job->mapped)};
	bool		own;

	own = job_update_begin(job);
	if (SPI_execute_with_args("UPDATE zvt._backfill_jobs SET state = 'waiting', wait_until = $2, "
							  "  rate_waits = rate_waits + $3::int, last_error = $4, "
							  "  errors = errors + $5::int, started_at = coalesce(started_at, now()) "
							  " WHERE id = $1 AND state IN ('queued', 'running', 'waiting')",
							  5, types, v, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update a backfill job");
	job_update_end(own);
}

/* The job failed for good; a repair's gap records why. */
void
backfill_job_fail(const Job *job, const char *error, bool count_error)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		v[2] = {Int64GetDatum(job->id), CStringGetTextDatum(error)};
	bool		own;

	own = job_update_begin(job);
	if (SPI_execute_with_args("UPDATE zvt._backfill_jobs SET state = 'failed', last_error = $2, "
							  "  finished_at = now(), wait_until = NULL, hole = coalesce(hole, "
							  "  CASE WHEN $2 LIKE 'REST history of % is not served%' "
							  "       THEN '[' || coalesce(cursor_ts, start_ts) || ', ' || finish_ts || ')' END) "
							  " WHERE id = $1 AND state IN ('queued', 'running', 'waiting')",
							  2, types, v, NULL, false, 0) != SPI_OK_UPDATE ||
		SPI_execute_with_args("UPDATE zvt.feed_gaps g SET repair_error = $2 "
							  "  FROM zvt._backfill_jobs j WHERE j.id = $1 AND g.id = j.gap_id",
							  2, types, v, NULL, false, 0) != SPI_OK_UPDATE ||
	/* a range REST cannot serve is a hole: an unrepairable gap says so */
		SPI_execute_with_args("INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason, repair_error) "
							  "SELECT j.exchange, j.symbol, j.channel, coalesce(j.cursor_ts, j.start_ts), j.finish_ts, "
							  "       'backfill job ' || j.id || ': not served by REST', $2 "
							  "  FROM zvt._backfill_jobs j "
							  " WHERE j.id = $1 AND j.gap_id IS NULL AND j.hole IS NOT NULL",
							  2, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not update a backfill job");
	job_update_end(own);
	ereport(LOG,
			(errmsg("zvt backfill job %lld failed", (long long) job->id),
			 errdetail_internal("%s", error)));
}


/*
 * Add the first nkeep events of a page to the job's open transaction
 * (begun at its first page; written every BACKFILL_WRITE_ROWS rows, while
 * the fetch thread gets the next pages) and move the job's cursor in
 * memory (job: as the next page must start); the transaction commits with the cursor
 * once BACKFILL_FLUSH_ROWS rows or BACKFILL_FLUSH_MS have gathered, or
 * the job is done or meets a hole (a transaction a page cost a third of a
 * backfill's time).  A hole_to_ms >= 0 says the exchange could not serve
 * the range before it (Bybit's recent trades).  Returns true when the
 * caller should read the job's next page now: not done, and not
 * committed (after a commit the pass looks at the jobs again: repairs
 * first, a cancel is seen).  Called outside a transaction but the job's.
 */
bool
backfill_job_page(Job *job, const FeedEvent *events, int nkeep, bool done,
				  int64 cursor_ms, bool has_next_id, int64 next_id, int64 hole_to_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	IngestResult res;

	Assert(pending.pages == 0 || pending.job_id == job->id);
	for (int i = 0; i < nkeep; i++)
		if (!ingest_add(&batch, &events[i], job->instrument_id, now))
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pending.pages == 0)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pending.job_id = job->id;
		pending.since = now;
		pending.fetched = pending.written = 0;
	}
	pending.pages++;
	pending.fetched += nkeep;
	pending.done = done;
	pending.cursor_ms = cursor_ms;
	pending.has_next_id = has_next_id;
	pending.next_id = next_id;
	pending.hole_to_ms = hole_to_ms;
	/* the job as the table will say once these pages are committed */
	job->cursor_ms = cursor_ms;
	job->has_next_id = has_next_id;
	job->next_id = has_next_id ? next_id : 0;
	job->mapped = true;
	job->errors = 0;
	if (done || hole_to_ms >= 0 || pending.fetched >= BACKFILL_FLUSH_ROWS ||
		now - pending.since >= BACKFILL_FLUSH_MS * INT64CONST(1000))
	{
		(void) backfill_job_flush(job);
		return false;
	}
	if (batch.n >= BACKFILL_WRITE_ROWS)
	{
		ingest_flush(&batch, &res);
		batch.n = 0;
		pending.written += res.trades + res.candles + res.funding;
		MemoryContextSwitchTo(backfill_pass_context);
	}
	return true;
}

/* The job's open transaction, if any, committed before its wait or failure. */
static void
flush_pending(const Job *job)
{
	if (pending.pages > 0 && pending.job_id == job->id)
		(void) backfill_job_flush(job);
}

/*
 * Commit the job's open transaction, its pages' rows with the job's new
 * cursor.  Only an active job is moved on (a cancel between fetch and
 * write keeps the rows, which are history either way, and stops the job).
 * A finished repair marks its gap repaired.  Returns false when the job
 * was no longer active; true otherwise, also when nothing was pending.
 */
bool
backfill_job_flush(const Job *job)
{
	Oid			types[7] = {INT8OID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID, BOOLOID, INT4OID};
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		active;

	if (pending.pages == 0)
		return true;
	Assert(pending.job_id == job->id && IsTransactionState());
	if (batch.n > 0)
	{
		IngestResult res;

		ingest_flush(&batch, &res);
		batch.n = 0;
		pending.written += res.trades + res.candles + res.funding;
	}
	v[0] = Int64GetDatum(job->id);
	v[1] = TimestampTzGetDatum(backfill_ms_ts(pending.cursor_ms));
	v[2] = Int64GetDatum(pending.next_id);
	nulls[2] = pending.has_next_id ? ' ' : 'n';
	v[3] = Int64GetDatum(pending.fetched);
	v[4] = Int64GetDatum(pending.written);
	v[5] = BoolGetDatum(pending.done);
	v[6] = Int32GetDatum(pending.pages);
	if (backfill_spi("UPDATE zvt._backfill_jobs SET cursor_ts = $2, next_id = $3, "
					 "  rows_fetched = rows_fetched + $4, rows_written = rows_written + $5, "
					 "  pages = pages + $7, errors = 0, last_error = NULL, wait_until = NULL, "
					 "  state = CASE WHEN $6 THEN 'done' ELSE 'running' END, "
					 "  started_at = coalesce(started_at, now()), "
					 "  finished_at = CASE WHEN $6 THEN now() END "
					 " WHERE id = $1 AND state IN ('queued', 'running', 'waiting')",
					 7, types, v, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update a backfill job");
	active = SPI_processed == 1;
	if (pending.done && active)
	{
		if (SPI_execute_with_args("UPDATE zvt.feed_gaps g SET repaired_at = now(), rows_repaired = j.rows_written "
								  "  FROM zvt._backfill_jobs j WHERE j.id = $1 AND g.id = j.gap_id",
								  1, types, v, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not mark a feed gap repaired");
		if (SPI_processed > 0)
			backfill_shared->gaps_repaired++;
		backfill_shared->jobs_done++;
		if (pending.hole_to_ms >= 0)
			record_hole(job, pending.hole_to_ms);
		if (id_hole[0])
		{
			Oid			t2[2] = {INT8OID, TEXTOID};
			Datum		v2[2] = {Int64GetDatum(job->id), CStringGetTextDatum(id_hole)};

			if (SPI_execute_with_args("UPDATE zvt._backfill_jobs SET last_error = $2 WHERE id = $1",
									  2, t2, v2, NULL, false, 0) != SPI_OK_UPDATE ||
				SPI_execute_with_args("UPDATE zvt.feed_gaps g SET repaired_at = NULL, repair_error = $2 "
									  "  FROM zvt._backfill_jobs j WHERE j.id = $1 AND g.id = j.gap_id",
									  2, t2, v2, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not record a hole of a gap repair");
			ereport(LOG, (errmsg("zvt backfill job %lld: %s", (long long) job->id, id_hole)));
		}
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(backfill_pass_context);
	backfill_shared->pages += pending.pages;
	pending.pages = 0;
	id_hole[0] = '\0';
	return active;
}

/*
 * The page the caller writes next ends a repair paging backward by id
 * (OKX, Coinbase) without reaching the trade stored before the gap: the
 * exchange no longer serves ids from_id..to_id (to_id < 0: any above
 * from_id - 1), the oldest it served being at oldest_ms (-1: none).  Those
 * trades are lost, not "nothing missed": the gap keeps repair_error
 * saying so instead of repaired_at (backfill_job_flush).
 */
void
backfill_job_id_hole(const Job *job, int64 from_id, int64 to_id, int64 oldest_ms)
{
	if (to_id < 0)
		snprintf(id_hole, sizeof(id_hole),
				 "%s's REST serves no trades of %s with ids from %lld on; they were not repaired",
				 job->exchange, job->symbol, (long long) from_id);
	else
		snprintf(id_hole, sizeof(id_hole),
				 "%s's REST no longer serves trades of %s with ids %lld to %lld (older than id %lld%s%s); "
				 "they were not repaired",
				 job->exchange, job->symbol, (long long) from_id, (long long) to_id,
				 (long long) to_id + 1, oldest_ms >= 0 ? " of " : "",
				 oldest_ms >= 0 ? timestamptz_to_str(backfill_ms_ts(oldest_ms)) : "");
}

/*
 * A finished job's range before hole_to_ms was not served: the job's
 * hole, and a gap's repair_error or, for a backfill, a zvt.feed_gaps row
 * that says so.  In the caller's transaction.
 */
static void
record_hole(const Job *job, int64 hole_to_ms)
{
	Oid			t3[3] = {INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		v3[3];

	v3[0] = Int64GetDatum(job->id);
	v3[1] = TimestampTzGetDatum(backfill_ms_ts(hole_to_ms));
	v3[2] = CStringGetTextDatum(psprintf("%s's REST serves only its latest %d trades of %s; "
										 "older ones are not served",
										 job->exchange,
										 history_trade_page_rows(job->exchange, job->symbol),
										 job->symbol));
	if (SPI_execute_with_args("UPDATE zvt._backfill_jobs SET hole = '[' || start_ts || ', ' || $2 || ']', "
							  "  last_error = $3 WHERE id = $1",
							  3, t3, v3, NULL, false, 0) != SPI_OK_UPDATE ||
		SPI_execute_with_args("UPDATE zvt.feed_gaps g SET repaired_at = NULL, "
							  "  repair_error = $3 || ': ' || j.hole "
							  "  FROM zvt._backfill_jobs j WHERE j.id = $1 AND g.id = j.gap_id",
							  3, t3, v3, NULL, false, 0) != SPI_OK_UPDATE ||
		SPI_execute_with_args("INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason, repair_error) "
							  "SELECT j.exchange, j.symbol, j.channel, j.start_ts, $2, "
							  "       'backfill job ' || j.id || ': not served by REST', $3 || ': ' || j.hole "
							  "  FROM zvt._backfill_jobs j WHERE j.id = $1 AND j.gap_id IS NULL",
							  3, t3, v3, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record a hole of a backfill job");
}

/* Text of column col of row 0 of the last SPI result, NULL if null; in SPI's memory, gone at SPI_finish. */
char *
backfill_col_text(int col)
{
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
}

/* Column col of row 0 of the last SPI result as int8; 0 and *isnull when null. */
int64
backfill_col_int64(int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/* A stored trade id as a number; false when it is not one. */
bool
backfill_id_value(const char *s, int64 *v)
{
	char	   *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0;
}
