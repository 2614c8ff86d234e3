/*-------------------------------------------------------------------------
 *
 * src/feed/backfill_repair.c
 *	  Step 3 of a backfill pass (backfill_worker.c): where a gap repair
 *	  starts and ends, from the rows the feed stored on either side of the
 *	  gap, waiting a moment for the feed's next row when none came after.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "feed/backfill.h"
#include "feed/backfill_private.h"
#include "feed/history.h"
#include "zvt.h"

#define REPAIR_SETTLE_MS	5000	/* a repair waits this long for the feed's next row */


/*
 * Whether a repair whose feed has stored nothing after its gap (or any
 * repair of trades by id) may be mapped now: REPAIR_SETTLE_MS after the
 * gap's end (polled each second for candles), the feed's first row after
 * it, which bounds the repair, has had time to come; a feed still quiet
 * is mapped without it (one REST call when little or nothing was
 * missed).  False (the job set waiting) while it may not.
 */
static bool
settled(Job *job)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz until = TimestampTzPlusMilliseconds(job->gap_to, REPAIR_SETTLE_MS);
	bool		trades = strcmp(job->channel, "trades") == 0;

	if (now >= until)
		return true;
	if (!trades)
		until = Min(until, TimestampTzPlusMilliseconds(now, 1000));
	backfill_job_wait(job, until, false,
					  trades ? "waiting for the feed's first trade after the gap" :
					  strcmp(job->channel, "funding") == 0 ?
					  "waiting for the feed's first funding row after the gap" :
					  "waiting for the feed's first candle after the gap");
	return false;
}

/*
 * The lowest trade id of the run of consecutive ids stored for the
 * instrument that ends at the highest id stored since lo_ts (the exchange
 * time of the last trade before the gap) until a day after the gap's end,
 * among the rows received before the symbol's next gap began (a later
 * gap's hole is its own repair's): everything from it up to there is
 * stored.  The feed's rows after a gap start such a run (one connection's
 * trades, every id), so any hole the gap left lies below it, whatever a
 * backfill wrote into the gap after it ended (those rows, stamped with
 * the time they were written, look received after the gap too).  False
 * when no numeric id is stored there.
 */
static bool
top_run_first(Job *job, TimestampTz lo_ts, int64 *first)
{
	Oid			types[7] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		v[7] = {Int32GetDatum(job->instrument_id), TimestampTzGetDatum(lo_ts),
		TimestampTzGetDatum(job->gap_to), CStringGetTextDatum(job->exchange),
		CStringGetTextDatum(job->symbol), CStringGetTextDatum(job->channel),
	Int64GetDatum(job->id)};
	bool		isnull;
	Datum		d;

	/*
	 * Ids in descending order: the run from the top is where id equals
	 * the highest id + 1 - its rank; after the first missing id it never
	 * does again.  The next gap's start is the receive time of the last
	 * message before it: the feed's rows before it are at or before.
	 */
	if (SPI_execute_with_args("SELECT min(r.id) FROM ("
							  "  SELECT d.id, max(d.id) OVER () + 1 - row_number() OVER (ORDER BY d.id DESC) AS want "
							  "    FROM (SELECT DISTINCT t.trade_id::int8 AS id FROM zvt.trades t "
							  "           WHERE t.instrument_id = $1 AND t.ts >= $2 AND t.ts < $3 + interval '1 day' "
							  "             AND t.trade_id ~ '^[0-9]{1,18}$' "
							  "             AND t.local_ts <= coalesce((SELECT min(g.from_ts) FROM zvt.feed_gaps g "
							  "                                          WHERE g.exchange = $4 AND g.symbol = $5 "
							  "                                            AND g.channel = $6 AND g.from_ts >= $3 "
							  "                                            AND g.id IS DISTINCT FROM "
							  "                                                (SELECT j.gap_id FROM zvt._backfill_jobs j WHERE j.id = $7)), "
							  "                                        'infinity')) d) r "
							  " WHERE r.id = r.want",
							  7, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not find the trades stored after a feed gap");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return false;
	*first = DatumGetInt64(d);
	return true;
}

/*
 * A gap is from the last message received before a disconnection to the
 * reconnection, in zvt's clock; the exchange's ids and times of the rows
 * stored either side say what is missing.  Trades on an exchange whose
 * ids are contiguous (Binance): the ids strictly between the last trade
 * received before and the first of the feed's after (top_run_first(): a
 * row received after the gap may be a backfill's; up to the newest when
 * none came after: a quiet market); on exchanges paging backward by id
 * (OKX, Coinbase) the same ids, from the newer end; else (Bybit), and for
 * candles and funding, the times between those rows (funding: the
 * funding times from the last row before to the first after).  Rows are
 * looked for a day either side of the gap in exchange time (a simulator
 * may run its clock ahead).  Returns false when the job must wait for
 * the feed's first row after the gap (settled()).
 */
bool
backfill_map_repair(Job *job)
{
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[3] = {Int32GetDatum(job->instrument_id), TimestampTzGetDatum(job->gap_from),
	TimestampTzGetDatum(job->gap_to)};
	bool		trades = strcmp(job->channel, "trades") == 0;
	char	   *interval = job->interval_s > 0 ? psprintf("%d seconds", job->interval_s) : NULL;
	char	   *sql;
	bool		lo_null,
				hi_null;
	int64		lo_id = 0,
				hi_id = 0;
	TimestampTz lo_ts = 0,
				hi_ts = 0;
	bool		ordered = false;
	HistoryKind kind = history_trades_kind(job->exchange, &ordered);

	/*
	 * The last trade stored before the gap is the newest by exchange time
	 * among those received by then, the first after it the oldest at or
	 * after that one received since: both walk the (instrument_id, ts)
	 * index from the gap and stop at the first match, so the cost is the
	 * rows stored since the gap, not the day's (ordering by local_ts read
	 * and sorted every row of the instrument's two days, seconds of a
	 * core per gap, which grew with the table).  Within a millisecond the
	 * highest id comes last: a frame of many trades shares its receive
	 * time.
	 */
	if (trades)
		sql = "SELECT lo.trade_id, lo.ts, hi.trade_id, hi.ts FROM (SELECT 1) x "
			"  LEFT JOIN LATERAL (SELECT t.trade_id, t.ts FROM zvt.trades t WHERE t.instrument_id = $1 "
			"          AND t.ts > $2 - interval '1 day' AND t.ts < $3 + interval '1 day' AND t.local_ts <= $2 "
			"        ORDER BY t.ts DESC, length(t.trade_id) DESC, t.trade_id DESC LIMIT 1) lo ON true "
			"  LEFT JOIN LATERAL (SELECT t.trade_id, t.ts FROM zvt.trades t WHERE t.instrument_id = $1 "
			"          AND t.ts >= coalesce(lo.ts, $2 - interval '1 day') AND t.ts < $3 + interval '1 day' "
			"          AND t.local_ts >= $3 "
			"        ORDER BY t.ts, length(t.trade_id), t.trade_id LIMIT 1) hi ON true";
	else if (strcmp(job->channel, "funding") == 0)
		sql = "SELECT NULL::text, (SELECT f.ts FROM zvt.funding f WHERE f.instrument_id = $1 "
			"          AND f.ts > $2 - interval '1 day' AND f.ts < $3 + interval '1 day' "
			"          AND f.local_ts <= $2 ORDER BY f.ts DESC LIMIT 1), "
			"       NULL::text, (SELECT f.ts FROM zvt.funding f WHERE f.instrument_id = $1 "
			"          AND f.ts > $2 - interval '1 day' AND f.ts < $3 + interval '1 day' "
			"          AND f.local_ts >= $3 ORDER BY f.ts LIMIT 1)";
	else
		sql = psprintf("SELECT NULL::text, (SELECT c.ts FROM zvt.candles c WHERE c.instrument_id = $1 "
					   "          AND c.timeframe = '%s' AND c.source = 'exchange' "
					   "          AND c.ts > $2 - interval '1 day' AND c.ts < $3 + interval '1 day' "
					   "          AND c.local_ts <= $2 ORDER BY c.ts DESC LIMIT 1), "
					   "       NULL::text, (SELECT c.ts FROM zvt.candles c WHERE c.instrument_id = $1 "
					   "          AND c.timeframe = '%s' AND c.source = 'exchange' "
					   "          AND c.ts > $2 - interval '1 day' AND c.ts < $3 + interval '1 day' "
					   "          AND c.local_ts >= $3 ORDER BY c.ts LIMIT 1)", interval, interval);
	if (SPI_execute_with_args(sql, 3, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not find the rows around a feed gap");
	if (trades && ordered)
	{
		char	   *lo = backfill_col_text(1),
				   *hi = backfill_col_text(3);
		bool		isnull;

		lo_null = lo == NULL || !backfill_id_value(lo, &lo_id);
		hi_null = hi == NULL || !backfill_id_value(hi, &hi_id);
		if (!lo_null)
			lo_ts = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

		/*
		 * Mapped REPAIR_SETTLE_MS after the gap's end even when a row came
		 * after it: that row may be a backfill's, and the feed's own first
		 * rows after the gap (which show where the hole ends) have had the
		 * time to be stored by then.
		 */
		if (!settled(job))
			return false;
		if (!lo_null)
		{
			Oid			t3[3] = {INT8OID, INT8OID, INT8OID};
			Datum		v3[3] = {Int64GetDatum(job->id), Int64GetDatum(lo_id + 1), Int64GetDatum(hi_id)};
			char		n3[3] = {' ', ' ', hi_null ? 'n' : ' '};
			const char *sql_ids;
			int64		run_first;

			/*
			 * The first row after the gap by receive time need not be the
			 * feed's: a backfill (or another gap's repair) that wrote the
			 * trades just after lo once the gap had ended put its rows
			 * there, and a range ending at them left the trades between
			 * its last row and the feed's first after the gap unrepaired
			 * for good (issue 16).  The range ends where the stored ids
			 * run without a hole to the newest instead: every id from lo
			 * up to there is repaired (those stored already are not
			 * written twice), and no hole at all means nothing is missing.
			 */
			if (!hi_null && top_run_first(job, lo_ts, &run_first))
			{
				hi_id = Max(run_first, lo_id + 1);
				v3[2] = Int64GetDatum(hi_id);
			}

			/*
			 * ids (lo, hi): nothing between them means nothing is missing.
			 * Forward (Binance): from lo + 1 up to hi.  Backward (OKX,
			 * Coinbase): older than hi (the newest first when no trade came
			 * after yet: the range's end then moves a day on) down to lo.
			 */
			if (kind == HISTORY_FIRST_ID)
				sql_ids = "UPDATE zvt._backfill_jobs SET next_id = $2, end_id = $3, "
					"  state = CASE WHEN $3 IS NOT NULL AND $3 <= $2 THEN 'done' ELSE 'running' END, "
					"  finished_at = CASE WHEN $3 IS NOT NULL AND $3 <= $2 THEN now() END, "
					"  started_at = coalesce(started_at, now()) "
					" WHERE id = $1 AND state IN ('queued', 'running', 'waiting')";
			else
				sql_ids = "UPDATE zvt._backfill_jobs SET next_id = $3, end_id = $2 - 1, "
					"  finish_ts = CASE WHEN $3 IS NULL THEN finish_ts + interval '1 day' ELSE finish_ts END, "
					"  state = CASE WHEN $3 IS NOT NULL AND $3 <= $2 THEN 'done' ELSE 'running' END, "
					"  finished_at = CASE WHEN $3 IS NOT NULL AND $3 <= $2 THEN now() END, "
					"  started_at = coalesce(started_at, now()) "
					" WHERE id = $1 AND state IN ('queued', 'running', 'waiting')";
			if (SPI_execute_with_args(sql_ids, 3, t3, v3, n3, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not map a feed gap");
			if (!hi_null && hi_id <= lo_id + 1 &&
				SPI_execute_with_args("UPDATE zvt.feed_gaps SET repaired_at = now(), rows_repaired = 0 "
									  " WHERE id = (SELECT gap_id FROM zvt._backfill_jobs WHERE id = $1)",
									  1, t3, v3, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not close a feed gap");
			return true;
		}
		/* nothing stored before the gap: by time from its start */
	}
	{
		bool		isnull;
		Datum		d2 = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &lo_null);
		Datum		d4 = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &hi_null);
		Oid			t3[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		v3[3];

		(void) isnull;
		if (hi_null && !settled(job))
			return false;
		lo_ts = lo_null ? job->gap_from : DatumGetTimestampTz(d2);
		hi_ts = hi_null ? job->gap_to : DatumGetTimestampTz(d4);

		/*
		 * The bar before may have been stored open: fetch it again, and the
		 * one after; with none after (a quiet feed), the bars ended by the
		 * reconnection: the one open then is the feed's.
		 */
		if (!trades && !hi_null && job->interval_s > 0)
			hi_ts += (TimestampTz) job->interval_s * USECS_PER_SEC;
		else
			hi_ts += 1000;
		if (hi_ts <= lo_ts)
			hi_ts = lo_ts + 1000;
		v3[0] = Int64GetDatum(job->id);
		v3[1] = TimestampTzGetDatum(lo_ts);
		v3[2] = TimestampTzGetDatum(hi_ts);
		if (SPI_execute_with_args("UPDATE zvt._backfill_jobs SET start_ts = $2, finish_ts = $3, cursor_ts = $2, "
								  "  state = 'running', started_at = coalesce(started_at, now()) "
								  " WHERE id = $1 AND state IN ('queued', 'running', 'waiting')",
								  3, t3, v3, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not map a feed gap");
	}
	return true;
}
