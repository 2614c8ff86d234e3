/*-------------------------------------------------------------------------
 *
 * src/feed/candles.c
 *	  Exchange candles of a batch: deduplicated, upserted, never reopened.
 *
 * An exchange sends many updates of the bar in progress; only the last
 * one of each bar in a batch is written (ON CONFLICT DO UPDATE may not
 * touch a row twice in one statement).  A closed bar is never reopened by
 * a stale update, and an adapter that marks its candles closes_earlier
 * (Coinbase) closes the bars a later bucket supersedes.  A bar written
 * again unchanged (a backfill over stored rows, a replay) is left alone:
 * no new row version, and it does not count as written.
 *
 *-------------------------------------------------------------------------
 */

#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/timestamp.h"

#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

/* Candles: the last update of each bar in the batch, upserted. */
int64
ingest_flush_candles(IngestBatch *b)
{
	int			n = 0;
	int			cap = b->n;
	Datum	   *c[12];
	Oid			types[12] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID,
		FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	INT8ARRAYOID, BOOLARRAYOID, TIMESTAMPTZARRAYOID};
	Oid			elem[12] = {TIMESTAMPTZOID, INT4OID, INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID, INT8OID, BOOLOID, TIMESTAMPTZOID};
	bool	   *nulls[12];
	Datum		args[12];
	int64		written;
	static SPIPlanPtr upsert_plan;
	static SPIPlanPtr close_plan;
	bool	   *later_nulls = palloc0(sizeof(bool) * Max(b->n, 1));
	Datum	   *later_d = palloc(sizeof(Datum) * Max(b->n, 1));
	bool		any_closes_earlier = false;
	Oid			later_types[4] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, INT4ARRAYOID, BOOLARRAYOID};
	Datum		later_args[4];

	for (int k = 0; k < 12; k++)
	{
		c[k] = palloc(sizeof(Datum) * cap);
		nulls[k] = palloc0(sizeof(bool) * cap);
	}
	for (int i = b->n - 1; i >= 0; i--)
	{
		IngestEvent *e = &b->events[i];
		bool		later = false;

		if (e->ev.kind != FEED_CANDLE)
			continue;
		/* walking backwards: a later update of the same bar already won */
		for (int j = i + 1; j < b->n && !later; j++)
			later = b->events[j].ev.kind == FEED_CANDLE &&
				b->events[j].instrument_id == e->instrument_id &&
				b->events[j].ev.interval_s == e->ev.interval_s && b->events[j].ev.ts == e->ev.ts;
		if (later)
			continue;
		c[0][n] = TimestampTzGetDatum(ingest_event_ts(e));
		c[1][n] = Int32GetDatum(e->instrument_id);
		c[2][n] = Int32GetDatum(e->ev.interval_s);
		c[3][n] = Float8GetDatum(e->ev.open);
		c[4][n] = Float8GetDatum(e->ev.high);
		c[5][n] = Float8GetDatum(e->ev.low);
		c[6][n] = Float8GetDatum(e->ev.close);
		c[7][n] = Float8GetDatum(e->ev.volume);
		c[8][n] = Float8GetDatum(e->ev.quote_volume);
		nulls[8][n] = isnan(e->ev.quote_volume);
		c[9][n] = Int64GetDatum(e->ev.trade_count);
		nulls[9][n] = e->ev.trade_count < 0;
		c[10][n] = BoolGetDatum(e->ev.closed);
		c[11][n] = TimestampTzGetDatum(e->local_ts);
		later_d[n] = BoolGetDatum(e->ev.closes_earlier);
		any_closes_earlier |= e->ev.closes_earlier;
		n++;
	}
	if (n == 0)
		return 0;
	for (int k = 0; k < 12; k++)
		args[k] = ingest_array_with_nulls(c[k], nulls[k], n, elem[k]);
	later_args[0] = args[0];
	later_args[1] = args[1];
	later_args[2] = args[2];
	later_args[3] = ingest_array_with_nulls(later_d, later_nulls, n, BOOLOID);
	/*
	 * The rows written, each with whether this statement closed it: the
	 * main query's NOT EXISTS reads the snapshot from before the INSERT (a
	 * data-modifying WITH's effects are invisible to its siblings), so a
	 * closed bar updated again (a replay) is not published twice.
	 */
	if (ingest_run_kept(&upsert_plan,
							  "WITH w AS ("
							  "INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, "
							  "  volume, quote_volume, trade_count, closed, local_ts, source) "
							  "SELECT ts, id, make_interval(secs => s), o, h, l, cl, v, qv, n, x, lts, 'exchange' "
							  "  FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
							  "       AS u (ts, id, s, o, h, l, cl, v, qv, n, x, lts) "
							  "ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE "
							  "  SET open = excluded.open, high = excluded.high, low = excluded.low, "
							  "      close = excluded.close, volume = excluded.volume, "
							  "      quote_volume = excluded.quote_volume, trade_count = excluded.trade_count, "
							  "      closed = excluded.closed, local_ts = excluded.local_ts "
							  "  WHERE (NOT c.closed OR excluded.closed) "
							  "    AND (c.open, c.high, c.low, c.close, c.volume, c.quote_volume, "
							  "         c.trade_count, c.closed) IS DISTINCT FROM "
							  "        (excluded.open, excluded.high, excluded.low, excluded.close, "
							  "         excluded.volume, excluded.quote_volume, excluded.trade_count, "
							  "         excluded.closed) "
							  "RETURNING *) "
							  "SELECT closed AND NOT EXISTS (SELECT FROM zvt.candles o "
							  "    WHERE o.instrument_id = w.instrument_id AND o.timeframe = w.timeframe "
							  "      AND o.source = 'exchange' AND o.ts = w.ts AND o.closed), "
							  INGEST_CLOSED_COLUMNS " FROM w",
				 12, types, args) != SPI_OK_SELECT)
		elog(ERROR, "could not upsert candles");
	written = (int64) SPI_processed;
	ingest_note_closed_candles(b, 1);

	/*
	 * Where the exchange sends no closed flag (Coinbase), a bar is final
	 * once a later one of the same stream appears.  Exchanges with the flag
	 * are left alone: a bar whose closing update was lost stays open for
	 * the repair to fix rather than closed with stale values.
	 */
	if (any_closes_earlier &&
		ingest_run_kept(&close_plan,
							  "UPDATE zvt.candles c SET closed = true "
							  "  FROM (SELECT id, s, max(ts) AS ts FROM unnest($1, $2, $3, $4) AS u (ts, id, s, later) "
							  "         WHERE later GROUP BY id, s) n "
							  " WHERE c.instrument_id = n.id AND c.timeframe = make_interval(secs => n.s) "
							  "   AND c.source = 'exchange' AND NOT c.closed AND c.ts < n.ts "
							  "   AND c.ts >= n.ts - make_interval(secs => n.s * 10) "
							  "RETURNING true, c.ts, c.instrument_id, extract(epoch FROM c.timeframe)::int4, "
							  "  c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trade_count, false",
				 4, later_types, later_args) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not close superseded candles");
	if (any_closes_earlier)
		ingest_note_closed_candles(b, 1);
	return written + (any_closes_earlier ? (int64) SPI_processed : 0);
}
