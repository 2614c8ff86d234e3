/*-------------------------------------------------------------------------
 *
 * src/feed/ingest.c
 *	  Write a batch of feed events in one transaction, idempotently.
 *
 * The feed worker collects events between timer ticks and calls
 * ingest_flush() inside a transaction.  Rows are written many at a time,
 * never one INSERT per message:
 *	- trades that cannot be stored yet (above their instrument's high-water
 *	  mark) go straight into their chunks with heap_multi_insert, or
 *	  through COPY's executor, in a subtransaction, and their 1-minute
 *	  candles (source 'trades') are built in C from the batch; the others
 *	  (replays after a reconnect) take INSERT ... SELECT FROM unnest(...)
 *	  ON CONFLICT DO NOTHING on (instrument_id, trade_id, ts), whose
 *	  RETURNING rows alone are rolled into candles, so a duplicate never
 *	  counts twice;
 *	- candles from the exchange: deduplicated in the batch (the last update
 *	  of a bar wins, as ON CONFLICT DO UPDATE may not touch a row twice),
 *	  then upserted; a closed bar is never reopened by a stale update;
 *	- quotes: ON CONFLICT DO NOTHING on (instrument_id, ts, seq).
 * Chunks for every time range in the batch are ensured first, before the
 * transaction's first write (the rule of src/storage/chunk.c).
 *
 * This file holds the batch, the flush's order of steps and the helpers
 * the writers share (ingest_private.h); the writers are trades.c (the
 * high-water mark, ON CONFLICT and trade-built candles), trade_writes.c
 * (direct inserts into chunks and COPY), candles.c and quotes.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

bool
ingest_add(IngestBatch *b, const FeedEvent *ev, int32 instrument_id, TimestampTz local_ts)
{
	if (b->n == b->cap)
	{
		int			cap = b->cap ? b->cap * 2 : 1024;
		IngestEvent *p = realloc(b->events, sizeof(IngestEvent) * cap);

		if (!p)
			return false;
		b->events = p;
		b->cap = cap;
	}
	b->events[b->n].ev = *ev;
	b->events[b->n].instrument_id = instrument_id;
	b->events[b->n].local_ts = local_ts;
	b->n++;
	return true;
}

/* Event time as TimestampTz; the receive time when the exchange gave none. */
TimestampTz
ingest_event_ts(const IngestEvent *e)
{
	return e->ev.ts ? (TimestampTz) (e->ev.ts - ZT_PG_EPOCH_OFFSET) : e->local_ts;
}

/*
 * Run one of the ingest path's statements through a plan prepared at its
 * first use and kept for the worker's life (the plan cache replans it if
 * the tables change): the flush path runs the same few statements many
 * times a second.
 */
int
ingest_run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args)
{
	if (*plan == NULL)
	{
		/* generic: the arrays' contents do not change the best plan */
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "could not keep the plan of \"%s\"", sql);
		*plan = p;
	}
	return SPI_execute_plan(*plan, args, NULL, false, 0);
}

/*
 * Days whose chunks this worker ensured lately, per table: ensuring costs
 * a catalog query, and a flush every few milliseconds would pay it each
 * time for the same day.  An entry is trusted for ENSURED_TTL_US; should
 * the chunk be dropped meanwhile, rows land in the default partition, and
 * the next ensure after that moves them into a new chunk.
 */
#define ENSURED_SLOTS 16
#define ENSURED_TTL_US INT64CONST(10000000)

typedef struct EnsuredDay
{
	TimestampTz day;
	int64		at;				/* when ensured, GetCurrentTimestamp() */
} EnsuredDay;

static EnsuredDay ensured[3][ENSURED_SLOTS];

static void
ensure_chunks(const char *table, IngestBatch *b, FeedEventKind kind)
{
	static SPIPlanPtr ensure_plans[3];
	TimestampTz done[16];
	int			ndone = 0;
	Oid			types[1] = {TIMESTAMPTZOID};
	int			which = strcmp(table, "zvt.trades") == 0 ? 0 : strcmp(table, "zvt.candles") == 0 ? 1 : 2;
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < b->n; i++)
	{
		TimestampTz ts;
		TimestampTz day;
		bool		seen = false;
		Datum		v[1];
		EnsuredDay *slot = &ensured[which][0];

		if (b->events[i].ev.kind != kind)
			continue;
		ts = ingest_event_ts(&b->events[i]);
		/* one call per UTC day is enough for day-sized or longer chunks */
		day = ts - ((ts % USECS_PER_DAY) + USECS_PER_DAY) % USECS_PER_DAY;
		for (int j = 0; j < ndone && !seen; j++)
			seen = done[j] == day;
		for (int j = 0; j < ENSURED_SLOTS && !seen; j++)
		{
			EnsuredDay *d = &ensured[which][j];

			seen = d->day == day && d->at != 0 && now - d->at < ENSURED_TTL_US;
			if (d->at < slot->at)
				slot = d;		/* the oldest entry makes room */
		}
		if (seen)
			continue;
		if (ndone < 16)
			done[ndone++] = day;
		v[0] = TimestampTzGetDatum(ts);
		if (ingest_run_kept(&ensure_plans[which], psprintf("SELECT zvt._ensure_chunk('%s', $1)", table),
					 1, types, v) != SPI_OK_SELECT)
			elog(ERROR, "could not ensure a chunk of %s", table);
		slot->day = day;
		slot->at = now;
	}
}

Datum
ingest_array(Datum *values, int n, Oid type)
{
	int16		typlen;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &typlen, &byval, &align);
	return PointerGetDatum(construct_array(values, n, type, typlen, byval, align));
}

/* A one-dimensional array of n values of type, some of them NULL. */
Datum
ingest_array_with_nulls(Datum *values, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &byval, &align);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, typlen, byval, align));
}



/*
 * Write b in the current transaction (the caller starts and commits it,
 * inside SPI_connect).  b is left as it is: the caller empties it once the
 * transaction has committed, and writes it again when the transaction
 * fails for a transient reason (a deadlock, a serialization failure, a
 * lock timeout; ingest_flush_failed first).
 */
void
ingest_flush(IngestBatch *b, IngestResult *res)
{
	memset(res, 0, sizeof(*res));
	if (b->n == 0)
		return;
	ensure_chunks("zvt.trades", b, FEED_TRADE);
	ensure_chunks("zvt.candles", b, FEED_TRADE);	/* the 1m candles built from trades */
	ensure_chunks("zvt.candles", b, FEED_CANDLE);
	ensure_chunks("zvt.quotes", b, FEED_QUOTE);
	res->trades = ingest_flush_trades(b);
	res->candles = ingest_flush_candles(b);
	res->quotes = ingest_flush_quotes(b);
}

/*
 * The flush's transaction rolled back: forget the chunks it ensured, as it
 * may have created them.  The high-water marks of trades.c moved past the
 * rolled-back trades, which thus take INSERT ... ON CONFLICT DO NOTHING
 * when written again: slower, never wrong.
 */
void
ingest_flush_failed(void)
{
	memset(ensured, 0, sizeof(ensured));
}

/* Mark trade-built 1m candles closed once their minute is over. */
void
ingest_close_trade_candles(void)
{
	if (SPI_execute("UPDATE zvt.candles SET closed = true "
					" WHERE source = 'trades' AND timeframe = '1 minute' AND NOT closed "
					"   AND ts >= now() - interval '1 day' "
					"   AND ts < zvt.time_bucket('1 minute', now() - interval '2 seconds')",
					false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not close trade candles");
}

