/*-------------------------------------------------------------------------
 *
 * src/feed/backfill_worker.c
 *	  The "zvt backfill" worker: runs backfill jobs page by page over the
 *	  exchanges' REST APIs and repairs the gaps of zvt.feed_gaps.
 *
 * One worker for every exchange (backfill.c starts and wakes it).  Each
 * pass of its loop is a list of steps:
 *
 *	1. in a transaction: every gap row not yet seen gets a repair job
 *	   (trades, candles) or is closed as "not repairable" (quotes, books:
 *	   REST has no history of them);
 *	2. the next runnable job: repairs first, then by id; none ready but
 *	   some waiting for a rate limit: sleep until the first may go on;
 *	   none at all: record the idle generation and exit;
 *	3. a repair job's first step maps its gap (local receive times) onto
 *	   the exchange's ids or times through the rows stored either side
 *	   (waiting a few seconds for the feed's first row after it);
 *	4. one page over REST (zvt.rest_timeout bounds it), fetched and
 *	   parsed on a thread (history_fetch.c) while the last is written
 *	   (a backfill going forward: up to 8 pages ahead);
 *	   429/418 wait Retry-After, Binance's used weight near its limit the
 *	   next minute, both for every job of the exchange; other failures
 *	   back off and fail the job after ten;
 *	5. (backfill_jobs.c) its rows through ingest_flush (the feeds'
 *	   idempotent path) in the job's transaction, open while 4 and 5
 *	   repeat: 20,000 rows or a second, or the end, a wait or a failure
 *	   commit it with the job's cursor, so a restart resumes after the
 *	   last page committed; a finished repair marks its gap repaired.
 *
 * A cancel (zvt.cancel_backfill) is seen at the next commit, which moves
 * only an active job.  The worker reads zvt.exchanges and
 * zvt.instruments and writes zvt.trades, zvt.candles, zvt.feed_gaps and
 * zvt._backfill_jobs; no REST call runs on its thread in a transaction
 * (it may wait up to zvt.rest_timeout for the fetch thread in one).
 *
 * Wording: "cursor" is where the next page starts (a time, and for
 * trades by id the next id); a "hole" is a part of the range the
 * exchange's REST cannot serve.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "access/xact.h"
#include "base/runs.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/claim.h"
#include "core/zvt_time.h"
#include "feed/backfill.h"
#include "feed/backfill_private.h"
#include "feed/exchanges.h"
#include "feed/history.h"
#include "feed/history_fetch.h"
#include "feed/ingest.h"
#include "feed/rest_client.h"
#include "zvt.h"

PGDLLEXPORT void backfill_worker_main(Datum arg);

#define PAGE_EVENTS			1000
#define MAX_ERRORS			10

/*
 * The REST base of a job's symbol: a perpetual's is futures_rest_url
 * where the exchange has one (Binance USD-M, fapi), else rest_url.
 */
#define JOB_REST_URL(sym) \
	"CASE WHEN " sym " LIKE '%-PERP' AND e.futures_rest_url IS NOT NULL " \
	"     THEN e.futures_rest_url ELSE e.rest_url END"

/* What a pass did. */
typedef enum PassOutcome
{
	PASS_WORKED,				/* a step ran: go on at once */
	PASS_WAIT,					/* jobs wait for a rate limit: sleep */
	PASS_IDLE					/* nothing left: exit */
} PassOutcome;

/* When each exchange may be asked again (rate limits), per exchange index. */
static TimestampTz exchange_not_before[FEED_EXCHANGES];

MemoryContext backfill_pass_context = NULL;
static FeedEvent page_events[PAGE_EVENTS];

static void backfill_detach(int code, Datum arg);
static PassOutcome backfill_pass(long *sleep_ms);
static void schedule_repairs(void);
static bool next_job(Job *job, long *sleep_ms, bool *any);
static bool run_page(Job *job);

static void
backfill_detach(int code, Datum arg)
{
	backfill_shared->latch = NULL;
	zvt_release(&backfill_shared->owner);
}

void
backfill_worker_main(Datum arg)
{
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	/*
	 * A background repair keeps to its one process: no parallel workers
	 * (they took the cores orders and feeds run on) and no JIT (compiled
	 * for each statement, and its memory stayed with the worker).
	 */
	SetConfigOption("max_parallel_workers_per_gather", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("zvt backfill");

	/*
	 * A repair's trades newer than the last this worker wrote may still be
	 * older than the feed's of their minute: the plain path would set the
	 * minute's close to this page's last trade (ingest.h).
	 */
	ingest_trades_in_order = false;

	if (!zvt_claim(&backfill_shared->owner))
	{
		ereport(LOG, (errmsg("zvt backfill is already running; this one exits")));
		proc_exit(0);
	}
	before_shmem_exit(backfill_detach, 0);
	zvt_run_begin(ZVT_RUN_BACKFILL, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!OidIsValid(get_extension_oid("zvt", true)))
	{
		CommitTransactionCommand();
		backfill_mark_idle(backfill_generation());
		proc_exit(0);
	}
	CommitTransactionCommand();

	backfill_mark_idle(PG_UINT64_MAX);	/* running: restart me if I stop */
	backfill_shared->latch = MyLatch;
	backfill_pass_context = AllocSetContextCreate(TopMemoryContext, "zvt backfill pass",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		/* read before the pass: a job queued after it moves it on */
		uint64		generation = backfill_generation();
		long		sleep_ms = 1000;
		PassOutcome outcome;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!zvt_feeds)
			break;
		MemoryContextReset(backfill_pass_context);
		outcome = backfill_pass(&sleep_ms);
		if (outcome == PASS_IDLE)
		{
			/* the launcher starts us again when a job or a gap comes */
			backfill_mark_idle(generation);
			break;
		}
		if (outcome == PASS_WAIT)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Max(sleep_ms, 1), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	proc_exit(0);
}

/* Steps 1 to 5 for one job; see the file head. */
static PassOutcome
backfill_pass(long *sleep_ms)
{
	Job			job;
	bool		any = false;
	bool		found;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(backfill_pass_context);
	schedule_repairs();
	found = next_job(&job, sleep_ms, &any);
	if (found && job.is_repair && !job.mapped)
	{
		/* the mapping is a step of its own, committed with the job */
		bool		ready = backfill_map_repair(&job);

		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		MemoryContextSwitchTo(backfill_pass_context);
		if (!ready)
			return PASS_WAIT;
		return PASS_WORKED;
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(backfill_pass_context);
	if (!found)
		return any ? PASS_WAIT : PASS_IDLE;
	/* page after page until they are written (the pass then looks again) */
	while (run_page(&job))
		CHECK_FOR_INTERRUPTS();
	(void) backfill_job_flush(&job);
	return PASS_WORKED;
}

/* ---- step 1: repairs for new gaps ------------------------------------ */

static void
schedule_repairs(void)
{
	/* quotes and books have no REST history: closed at once, said so */
	if (backfill_spi("UPDATE zvt.feed_gaps SET repaired_at = now(), rows_repaired = 0, "
					"       repair_error = 'not repairable' "
					" WHERE repaired_at IS NULL AND repair_error IS NULL "
					"   AND channel NOT IN ('trades', 'funding') AND channel NOT LIKE 'candles\\_%'",
					0, NULL, NULL, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not close the gaps of quotes");
	if (backfill_spi("INSERT INTO zvt._backfill_jobs (exchange, symbol, channel, start_ts, finish_ts, gap_id, rest_url) "
					"SELECT g.exchange, g.symbol, g.channel, g.from_ts, "
					"       greatest(g.to_ts, g.from_ts + interval '1 millisecond'), g.id, "
					JOB_REST_URL("g.symbol")
					"  FROM zvt.feed_gaps g JOIN zvt.exchanges e ON e.name = g.exchange "
					" WHERE g.repaired_at IS NULL AND g.repair_error IS NULL AND g.to_ts IS NOT NULL "
					"   AND (g.channel IN ('trades', 'funding') OR g.channel LIKE 'candles\\_%') "
					"   AND NOT EXISTS (SELECT 1 FROM zvt._backfill_jobs j WHERE j.gap_id = g.id) "
					" ORDER BY g.id",
					0, NULL, NULL, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the repairs of feed gaps");
}

/* ---- step 2: the next job -------------------------------------------- */

static int64
ts_ms(TimestampTz ts)
{
	return (int64) floor((double) ZVT_TS_TO_UNIX(ts) / 1000.0);
}

/*
 * The next job that may run now into *job; false when none.  *any says
 * whether some job is still active (waiting), *sleep_ms how long until
 * the first of them may go on.  Jobs of an exchange under a rate-limit
 * wait are skipped.  A job whose instrument is unknown fails here.
 */
static bool
next_job(Job *job, long *sleep_ms, bool *any)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz first_wait = 0;
	char		blocked[256] = "{}";
	int			nb = 0;
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		isnull;

	/* exchanges under a rate-limit wait, as a text[] literal */
	for (int i = 0; i < FEED_EXCHANGES; i++)
		if (exchange_not_before[i] > now)
		{
			snprintf(blocked + (nb ? strlen(blocked) - 1 : 1), sizeof(blocked) - strlen(blocked),
					 "%s%s}", nb ? "," : "", feed_exchanges[i].name);
			nb++;
			if (first_wait == 0 || exchange_not_before[i] < first_wait)
				first_wait = exchange_not_before[i];
		}
	v[0] = CStringGetTextDatum(blocked);
	if (backfill_spi("SELECT j.id, j.exchange, j.symbol, j.channel, "
							  "       i.id, i.raw_symbol, " JOB_REST_URL("j.symbol") ", "
							  "       j.start_ts, j.finish_ts, coalesce(j.cursor_ts, j.start_ts), "
							  "       j.next_id, j.end_id, j.gap_id IS NOT NULL, "
							  "       (j.next_id IS NOT NULL OR j.cursor_ts IS NOT NULL OR j.end_id IS NOT NULL), "
							  "       g.from_ts, g.to_ts, j.errors, j.rest_url IS DISTINCT FROM " JOB_REST_URL("j.symbol") ", "
							  "       i.contract_size::float8 "
							  "  FROM zvt._backfill_jobs j "
							  "  JOIN zvt.exchanges e ON e.name = j.exchange "
							  "  LEFT JOIN zvt.instruments i ON i.exchange = j.exchange AND i.symbol = j.symbol "
							  "  LEFT JOIN zvt.feed_gaps g ON g.id = j.gap_id "
							  " WHERE j.state IN ('queued', 'running', 'waiting') "
							  "   AND coalesce(j.wait_until, '-infinity') <= now() "
							  "   AND j.exchange <> ALL ($1::text[]) "
							  " ORDER BY j.gap_id IS NULL, j.id LIMIT 1",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the backfill jobs");
	if (SPI_processed == 0)
	{
		/* active jobs left: sleep until the first may go on */
		if (SPI_execute("SELECT min(coalesce(wait_until, now())) FROM zvt._backfill_jobs "
						" WHERE state IN ('queued', 'running', 'waiting')",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read the backfill jobs");
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			*any = !isnull;
			if (!isnull && (first_wait == 0 || DatumGetTimestampTz(d) < first_wait))
				first_wait = DatumGetTimestampTz(d);
		}
		if (*any)
			*sleep_ms = Max(1, Min(1000, (first_wait - now) / 1000));
		return false;
	}
	*any = true;
	memset(job, 0, sizeof(*job));
	job->id = backfill_col_int64(1, &isnull);
	snprintf(job->exchange, sizeof(job->exchange), "%s", backfill_col_text(2));
	snprintf(job->symbol, sizeof(job->symbol), "%s", backfill_col_text(3));
	snprintf(job->channel, sizeof(job->channel), "%s", backfill_col_text(4));
	if (backfill_col_text(5) == NULL)
	{
		backfill_job_fail(job, psprintf("unknown symbol \"%s\" on exchange \"%s\"", job->symbol, job->exchange), false);
		return false;
	}
	if (strcmp(backfill_col_text(18), "t") == 0)
	{
		/* another source now: its ids and history are not the ones queued for */
		backfill_job_fail(job, "the exchange's rest_url changed since the job was queued", false);
		return false;
	}
	job->instrument_id = (int32) pg_strtoint32(backfill_col_text(5));
	snprintf(job->raw_symbol, sizeof(job->raw_symbol), "%s", backfill_col_text(6));
	job->rest_url = MemoryContextStrdup(backfill_pass_context, backfill_col_text(7));
	job->start_ms = ts_ms(DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8, &isnull)));
	job->finish_ms = ts_ms(DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull)));
	job->cursor_ms = ts_ms(DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 10, &isnull)));
	job->next_id = backfill_col_int64(11, &isnull);
	job->has_next_id = !isnull;
	job->end_id = backfill_col_int64(12, &isnull);
	job->has_end_id = !isnull;
	job->is_repair = strcmp(backfill_col_text(13), "t") == 0;
	/*
	 * A repair is mapped once its range is set (next_id, end_id or
	 * cursor_ts): not by its state, as one waiting for the feed's first row
	 * after the gap (backfill_repair.c) is 'waiting' and still unmapped;
	 * taken as mapped, it ran by time from the gap's start in zvt's clock
	 * and lost the trades the exchange stamped before it.
	 */
	job->mapped = strcmp(backfill_col_text(14), "t") == 0;
	if (job->is_repair)
	{
		job->gap_from = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 15, &isnull));
		job->gap_to = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 16, &isnull));
	}
	job->errors = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 17, &isnull));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 19, &isnull);

		job->contract_size = isnull ? 0 : DatumGetFloat8(d);
	}
	if (strncmp(job->channel, "candles_", 8) == 0)
		job->interval_s = binance_interval_seconds(job->channel + 8);
	return true;
}

/* ---- step 4: one page ------------------------------------------------- */

/*
 * Fetch and parse the page after this one on the fetch thread
 * (history_fetch.c) while this one is written, and for a backfill going
 * forward the pages after it too (up to BACKFILL_AHEAD_PAGES waiting; the
 * thread stops at Binance's weight limit, an error or the range's end);
 * the next pass takes it if it asks for the same URL.  Not while the
 * exchange is to be left alone.
 */
static void
prefetch(const Job *job, const HistoryRequest *next, int exi)
{
	char		url[1024];
	char		reason[256];
	int			weight_stop = history_weight_stop(job->exchange, job->symbol);

	if (exi >= 0 && exchange_not_before[exi] > GetCurrentTimestamp())
		return;
	/* a backfill's pages run ahead; a repair's few stop at its end id, so not */
	if (history_url(next, url, sizeof(url), reason, sizeof(reason)))
		(void) history_fetch_start(url, next, rest_check_url(url, "URL"), (long) zvt_rest_timeout,
								   zvt_ca_file && zvt_ca_file[0] ? zvt_ca_file : NULL,
								   (volatile int *) &InterruptPending,
								   job->is_repair ? 0 : BACKFILL_AHEAD_PAGES,
								   weight_stop > 0 ? weight_stop : -1);
}

/*
 * Read one page of job into its pending rows (backfill_job_page).  True:
 * read the next at once; false after a write, a wait or a failure.
 */
static bool
run_page(Job *job)
{
	HistoryRequest r = {0};
	HistoryPage page;
	RestResponse resp;
	char		url[1024];
	char		reason[256];
	bool		trades = strcmp(job->channel, "trades") == 0;
	bool		funding = strcmp(job->channel, "funding") == 0;
	int			weight_stop = history_weight_stop(job->exchange, job->symbol);
	bool		got;
	int			exi = feed_exchange_index(job->exchange);
	int			nkeep;
	bool		done;
	bool		ordered;
	HistoryFetch ahead;
	bool		have_ahead = false;

	r.exchange = job->exchange;
	r.base = job->rest_url;
	r.raw_symbol = job->raw_symbol;
	r.symbol = job->symbol;
	r.interval_s = job->interval_s;
	r.from_ms = job->cursor_ms;
	r.to_ms = job->finish_ms;
	r.from_id = job->next_id;
	r.before_id = job->has_next_id ? job->next_id : -1;
	r.contract_size = job->contract_size;
	r.kind = funding ? HISTORY_FUNDING :
		!trades ? HISTORY_CANDLES : history_trades_kind(job->exchange, &ordered);
	if (r.kind == HISTORY_FIRST_ID && job->has_next_id)
		r.kind = HISTORY_TRADES_BY_ID;
	if (!trades && !funding && job->interval_s <= 0)
	{
		backfill_job_fail(job, psprintf("unknown timeframe of channel \"%s\"", job->channel), false);
		return false;
	}
	if (!history_url(&r, url, sizeof(url), reason, sizeof(reason)))
	{
		backfill_job_fail(job, reason, false);
		return false;
	}
	/* the exchange is to be left alone for now: the pass waits */
	if (exi >= 0 && exchange_not_before[exi] > GetCurrentTimestamp())
		return false;

	if (history_fetch_take(url, &ahead))
	{
		/* fetched (and parsed) on the fetch thread while the last page was written */
		memset(&resp, 0, sizeof(resp));
		got = ahead.got;
		resp.status = ahead.status;
		resp.retry_after = ahead.retry_after;
		resp.used_weight = ahead.used_weight;
		snprintf(resp.error, sizeof(resp.error), "%s", ahead.error);
		resp.body = pstrdup(ahead.body ? ahead.body : "");
		resp.len = ahead.len;
		free(ahead.body);
		have_ahead = true;
		CHECK_FOR_INTERRUPTS();
	}
	else
	{
		/* no REST call on this thread with the job's transaction open */
		if (!backfill_job_flush(job))
			return false;
		got = rest_get(url, &resp);
	}
	if (got && exi >= 0 && weight_stop > 0 && resp.used_weight >= weight_stop)
	{
		/* near the weight limit: this page counts, the next waits a minute */
		TimestampTz now = GetCurrentTimestamp();
		int64		into = (ZVT_TS_TO_UNIX(now) / 1000) % 60000;

		exchange_not_before[exi] = TimestampTzPlusMilliseconds(now, 60000 - into + 100);
	}
	if (got && (resp.status == 429 || resp.status == 418))
	{
		int			secs = resp.retry_after > 0 ? resp.retry_after : resp.status == 418 ? 60 : 1;
		TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), secs * 1000L);

		if (exi >= 0)
			exchange_not_before[exi] = until;
		backfill_job_wait(job, until, true,
				 psprintf("HTTP %ld from %s: waiting %d s (Retry-After)", resp.status, job->exchange, secs));
		return false;
	}
	if (!got || resp.status >= 500)
	{
		long		backoff = 1000L << Min(job->errors, 6);
		const char *what = !got ? resp.error : psprintf("HTTP %ld", resp.status);

		if (job->errors + 1 >= MAX_ERRORS)
			backfill_job_fail(job, psprintf("%s (after %d attempts)", what, MAX_ERRORS), true);
		else
			backfill_job_wait(job, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff), false, what);
		return false;
	}
	if (resp.status != 200)
	{
		backfill_job_fail(job, psprintf("HTTP %ld from %s: %.200s", resp.status, job->exchange, resp.body), false);
		return false;
	}
	if (have_ahead && ahead.parsed && ahead.page.n <= PAGE_EVENTS)
	{
		page = ahead.page;
		memcpy(page_events, ahead.events, sizeof(FeedEvent) * page.n);
	}
	else if (have_ahead && !ahead.parsed)
	{
		backfill_job_fail(job, ahead.reason, true);
		return false;
	}
	else if (!history_parse(&r, resp.body, resp.len, page_events, PAGE_EVENTS, &page, reason, sizeof(reason)))
	{
		backfill_job_fail(job, reason, true);
		return false;
	}

	/* what to keep of the page and where the next starts */
	nkeep = page.n;
	if (r.kind == HISTORY_CANDLES)
	{
		/* one window a page: the next starts where this one ends */
		int64		window_end = history_window_end(&r);
		HistoryRequest next = r;

		next.from_ms = window_end;
		if (window_end < job->finish_ms)
			prefetch(job, &next, exi);
		return backfill_job_page(job, page_events, nkeep, window_end >= job->finish_ms, window_end, false, 0, -1);
	}
	else if (r.kind == HISTORY_FUNDING)
	{
		/* one window a page, as candles (history_funding.c) */
		int64		next_from = history_funding_next(&r, &page);
		HistoryRequest next = r;

		next.from_ms = next_from;
		if (next_from < job->finish_ms)
			prefetch(job, &next, exi);
		return backfill_job_page(job, page_events, nkeep, next_from >= job->finish_ms, next_from, false, 0, -1);
	}
	else if (r.kind == HISTORY_FIRST_ID)
	{
		int64		window = history_window_ms(job->exchange);
		int64		next = job->finish_ms - job->cursor_ms > window ? job->cursor_ms + window : job->finish_ms;

		if (page.first_id >= 0)
			return backfill_job_page(job, page_events, 0, false, job->cursor_ms, true, page.first_id, -1);
		else
			return backfill_job_page(job, page_events, 0, next >= job->finish_ms, next, false, 0, -1);
	}
	else if (r.kind == HISTORY_TRADES_BY_ID)
	{
		/* by id: up to end_id, or for a backfill up to finish */
		int64		last_ms = job->cursor_ms;

		done = !page.full;
		for (int i = 0; i < page.n; i++)
		{
			int64		id = pg_strtoint64(page_events[i].trade_id);
			int64		ms = page_events[i].ts / 1000;

			if ((job->has_end_id && id >= job->end_id) ||
				(!job->is_repair && ms >= job->finish_ms))
			{
				nkeep = i;
				done = true;
				break;
			}
			last_ms = ms;
		}
		if (!done)
		{
			HistoryRequest next = r;

			next.from_id = page.last_id + 1;
			prefetch(job, &next, exi);
		}
		return backfill_job_page(job, page_events, nkeep, done, last_ms, true, page.last_id + 1, -1);
	}
	else
	{
		/*
		 * Backward (OKX, Coinbase), or Bybit's one page of recent trades:
		 * keep what is in the range (above end_id for a repair mapped on
		 * ids, else at or after start), and for a backfill before finish.
		 * Backward goes on older than the page's oldest id until a trade
		 * below the range or a page that is not full (nothing older).
		 */
		bool		backward = r.kind == HISTORY_TRADES_BEFORE;
		bool		reached = false;	/* a trade at or below the range */
		int64		hole_to = -1;

		done = !backward || !page.full || page.rows == 0;
		nkeep = 0;
		for (int i = 0; i < page.n; i++)
		{
			int64		ms = page_events[i].ts / 1000;
			int64		id = -1;
			bool		below;

			if (backward && !backfill_id_value(page_events[i].trade_id, &id))
			{
				backfill_job_fail(job, psprintf("%s trade id \"%s\" is not a number", job->exchange,
									   page_events[i].trade_id), true);
				return false;
			}
			below = (backward && job->has_end_id) ? id <= job->end_id : ms < job->start_ms;
			if (below)
			{
				done = true;
				reached = true;
				continue;
			}
			if (!job->is_repair && ms >= job->finish_ms)
				continue;
			page_events[nkeep++] = page_events[i];
		}
		if (backward && !done && job->has_next_id && page.oldest_id >= job->next_id)
		{
			backfill_job_fail(job, psprintf("%s page of trades older than id %lld starts at id %lld",
								   job->exchange, (long long) job->next_id, (long long) page.oldest_id), true);
			return false;
		}
		if (backward && !done)
		{
			HistoryRequest next = r;

			next.before_id = page.oldest_id;
			prefetch(job, &next, exi);
		}
		/*
		 * A repair by id that ends before the trade stored before its gap:
		 * the ids between that one and the oldest served (or the page's
		 * cursor, for an empty page) are not served any more.  Only ids
		 * lo + 1 >= hi prove nothing missing, and those never page.
		 */
		if (backward && done && !reached && job->has_end_id)
		{
			int64		top = page.rows > 0 ? page.oldest_id : r.before_id;

			if (top < 0 || top > job->end_id + 1)
				backfill_job_id_hole(job, job->end_id + 1, top < 0 ? -1 : top - 1,
									 page.rows > 0 ? page.oldest_ms : -1);
		}
		/* Bybit: a full page older trades fell off; before its oldest is a hole */
		if (!backward && page.full && page.oldest_ms > job->start_ms)
			hole_to = page.oldest_ms;
		return backfill_job_page(job, page_events, nkeep, done, page.rows > 0 ? page.oldest_ms : job->cursor_ms,
				  backward && page.rows > 0, page.oldest_id, hole_to);
	}
}

