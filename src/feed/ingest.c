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
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "bus/events.h"
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
	b->events[b->n].stored = false;
	b->n++;
	return true;
}

/*
 * After a flush: an empty batch whose array grew far beyond what this
 * flush needed (a burst after a stall, flushes slowed by a loaded
 * machine) gives it back, so the worker's memory returns to what its
 * steady load needs instead of keeping its largest batch for good.
 * used is how many events the flush had.
 */
void
ingest_batch_trim(IngestBatch *b, int used)
{
	int			cap = 1024;
	IngestEvent *p;

	if (b->n != 0 || b->cap <= INGEST_KEEP_EVENTS || used > b->cap / 4)
		return;
	while (cap < used * 2)
		cap *= 2;
	p = malloc(sizeof(IngestEvent) * cap);
	if (p == NULL)
		return;					/* keep the big one */
	free(b->events);
	b->events = p;
	b->cap = cap;
#ifdef __GLIBC__

	/*
	 * glibc keeps what free() got back in its heap when an earlier burst
	 * raised its mmap threshold (the array's smaller predecessors and the
	 * flush's large pallocs then came from the heap): give the free pages
	 * back to the system, as this happens only after a burst.
	 */
	malloc_trim(0);
#endif
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

static EnsuredDay ensured[4][ENSURED_SLOTS];

static void
ensure_chunks(const char *table, IngestBatch *b, FeedEventKind kind)
{
	static SPIPlanPtr ensure_plans[4];
	TimestampTz done[16];
	int			ndone = 0;
	Oid			types[1] = {TIMESTAMPTZOID};
	int			which = strcmp(table, "zvt.trades") == 0 ? 0 : strcmp(table, "zvt.candles") == 0 ? 1 :
		strcmp(table, "zvt.quotes") == 0 ? 2 : 3;
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
	for (int i = 0; i < b->n; i++)
		b->events[i].stored = false;	/* a retry: only this transaction's rows count */
	if (b->n == 0)
		return;
	ensure_chunks("zvt.trades", b, FEED_TRADE);
	ensure_chunks("zvt.candles", b, FEED_TRADE);	/* the 1m candles built from trades */
	ensure_chunks("zvt.candles", b, FEED_CANDLE);
	ensure_chunks("zvt.quotes", b, FEED_QUOTE);
	ensure_chunks("zvt.funding", b, FEED_FUNDING);
	res->trades = ingest_flush_trades(b);
	res->candles = ingest_flush_candles(b);
	res->quotes = ingest_flush_quotes(b);
	res->funding = ingest_flush_funding(b);
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

/*
 * Mark trade-built 1m candles closed once their minute is over; the rows
 * it closes are published after the commit (b->closed).
 *
 * The statement closes every exchange's candles (so that those of an
 * exchange whose feed stopped are closed too), at the end of a flush that
 * holds its own candles' rows: it must never wait for a row.  It used to
 * (issue 16): after a stall, feeds flushing late batches each upserted
 * open candles of past minutes and then waited in this UPDATE for the
 * others' rows, a cycle the deadlock detector broke by rolling back
 * 200,000-event flushes one after another.  So the rows are locked with
 * SKIP LOCKED first: a candle another transaction is writing is left for
 * the next pass, a second later (test/integration/feed_candle_close.sh).
 */
void
ingest_close_trade_candles(IngestBatch *b)
{
	if (SPI_execute("WITH l AS MATERIALIZED ("
					"  SELECT l.instrument_id AS lid, l.ts AS lts FROM zvt.candles l "
					"   WHERE l.source = 'trades' AND l.timeframe = '1 minute' AND NOT l.closed "
					"     AND l.ts >= now() - interval '1 day' "
					"     AND l.ts < zvt.time_bucket('1 minute', now() - interval '2 seconds') "
					"     FOR UPDATE SKIP LOCKED) "
					"UPDATE zvt.candles c SET closed = true FROM l "
					" WHERE c.instrument_id = l.lid AND c.ts = l.lts AND c.source = 'trades' "
					"   AND c.timeframe = '1 minute' AND NOT c.closed "
					"   AND c.ts >= now() - interval '1 day' "
					"   AND c.ts < zvt.time_bucket('1 minute', now() - interval '2 seconds') "
					"RETURNING true, " INGEST_CLOSED_COLUMNS,
					false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not close trade candles");
	ingest_note_closed_candles(b, 1);
}

/* ---- publishing what was committed -------------------------------------- */

/*
 * Keep the candles of SPI_tuptable that the statement closed, to publish
 * after the commit.  Its columns, from first_column (1-based): a bool
 * "publish this row", then INGEST_CLOSED_COLUMNS.  Rows are copied into
 * the malloc'd b->closed; on out of memory they are not published (the
 * ring's readers cannot tell; the row is stored all the same).
 */
void
ingest_note_closed_candles(IngestBatch *b, int first_column)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		int			c = first_column;
		bool		isnull;
		BusEvent   *e;

		if (!DatumGetBool(SPI_getbinval(t, desc, c, &isnull)) || isnull)
			continue;
		if (b->nclosed == b->capclosed)
		{
			int			cap = b->capclosed ? b->capclosed * 2 : 64;
			BusEvent   *p = realloc(b->closed, sizeof(BusEvent) * cap);

			if (p == NULL)
				return;
			b->closed = p;
			b->capclosed = cap;
		}
		e = &b->closed[b->nclosed++];
		memset(e, 0, sizeof(*e));
		e->kind = BUS_EVENT_CANDLE;
		e->ts = DatumGetTimestampTz(SPI_getbinval(t, desc, c + 1, &isnull));
		e->instrument_id = DatumGetInt32(SPI_getbinval(t, desc, c + 2, &isnull));
		e->u.candle.interval_s = DatumGetInt32(SPI_getbinval(t, desc, c + 3, &isnull));
		e->u.candle.open = DatumGetFloat8(SPI_getbinval(t, desc, c + 4, &isnull));
		e->u.candle.high = DatumGetFloat8(SPI_getbinval(t, desc, c + 5, &isnull));
		e->u.candle.low = DatumGetFloat8(SPI_getbinval(t, desc, c + 6, &isnull));
		e->u.candle.close = DatumGetFloat8(SPI_getbinval(t, desc, c + 7, &isnull));
		e->u.candle.volume = DatumGetFloat8(SPI_getbinval(t, desc, c + 8, &isnull));
		e->u.candle.quote_volume = DatumGetFloat8(SPI_getbinval(t, desc, c + 9, &isnull));
		if (isnull)
			e->u.candle.quote_volume = get_float8_nan();
		e->u.candle.trade_count = DatumGetInt64(SPI_getbinval(t, desc, c + 10, &isnull));
		if (isnull)
			e->u.candle.trade_count = -1;
		e->u.candle.from_trades = DatumGetBool(SPI_getbinval(t, desc, c + 11, &isnull));
		e->local_ts = GetCurrentTransactionStartTimestamp();
	}
}

/* Forget what a transaction that is starting (or was rolled back) meant to publish. */
void
ingest_publish_reset(IngestBatch *b)
{
	b->nclosed = 0;
	for (int i = 0; i < b->n; i++)
		b->events[i].stored = false;
}

/*
 * After the flush's transaction committed: append to the event ring every
 * trade and quote of the batch whose row it inserted, in the order they
 * arrived, then the candles it closed.  install is the installation the
 * rows belong to (bus_install(), read in that transaction).  Runs outside
 * any transaction and allocates nothing but a stack buffer.
 */
void
ingest_publish(IngestBatch *b, Oid install)
{
	BusEvent	buf[BUS_RING_BATCH];
	int			n = 0;

	if (bus_events_ring() == NULL || !OidIsValid(install))
		return;
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *x = &b->events[i];
		BusEvent   *e = &buf[n];

		if (!x->stored)
			continue;
		memset(e, 0, sizeof(BusEvent));
		e->install = install;
		e->instrument_id = x->instrument_id;
		e->ts = ingest_event_ts(x);
		e->local_ts = x->local_ts;
		if (x->ev.kind == FEED_TRADE)
		{
			e->kind = BUS_EVENT_TRADE;
			e->u.trade.price = x->ev.price;
			e->u.trade.qty = x->ev.qty;
			e->u.trade.taker_buy = x->ev.taker_buy;
			strlcpy(e->u.trade.trade_id, x->ev.trade_id, sizeof(e->u.trade.trade_id));
		}
		else
		{
			e->kind = BUS_EVENT_QUOTE;
			e->u.quote.seq = x->ev.seq;
			e->u.quote.bid = x->ev.bid;
			e->u.quote.bid_qty = x->ev.bid_qty;
			e->u.quote.ask = x->ev.ask;
			e->u.quote.ask_qty = x->ev.ask_qty;
		}
		if (++n == BUS_RING_BATCH)
		{
			bus_events_append(buf, n);
			n = 0;
		}
	}
	bus_events_append(buf, n);
	for (int i = 0; i < b->nclosed; i++)
		b->closed[i].install = install;
	bus_events_append(b->closed, b->nclosed);
	ingest_publish_reset(b);
}

