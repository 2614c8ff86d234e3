/*-------------------------------------------------------------------------
 *
 * src/feed/trades.c
 *	  Trades of a batch: which are new (the high-water mark), the ON CONFLICT
 *	  path for the others, and the 1-minute candles built from them.
 *
 * ingest_flush_trades() splits the batch's trades: those above their
 * instrument's high-water mark cannot be stored yet and go, without
 * repeats within the batch, to the fast writers of trade_writes.c in a
 * subtransaction (a unique violation there, from another writer or a
 * clock going backwards, rolls it back and sends them here too); the
 * others take INSERT ... ON CONFLICT DO NOTHING.  Either way the 1-minute
 * candles (source 'trades') count only rows really inserted.  The marks
 * live in this process's memory for the worker's life; nothing here is
 * shared.
 *
 *-------------------------------------------------------------------------
 */

#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

static uint32 trade_key_hash(int32 instrument_id, TimestampTz ts, const char *trade_id);
static bool duplicate_in_batch(IngestBatch *b, int i, int *table, int size);
static void mark_inserted_trades(IngestBatch *b, const bool *pick);
static void reorder_trade_candles(IngestBatch *b, const bool *pick);

/* ---- the high-water mark ------------------------------------------------ */

/*
 * Per-instrument high-water marks: the newest trade time this worker has
 * stored, and the ids of the trades it stored at exactly that time (one
 * market order sweeping the book makes many trades in one millisecond).
 * A trade newer than its instrument's mark, or at the mark with an id not
 * among those, cannot be in the table yet (trades arrive in time order):
 * it takes the plain path (COPY).  Anything else (replays after a
 * reconnect, a backfill) takes INSERT ... ON CONFLICT DO NOTHING.  The
 * ids are kept as 64-bit hashes: a collision only sends a new trade down
 * the safe path.  Unknown instruments (a fresh worker) start with no
 * mark: ON CONFLICT.
 */
#define HWM_SLOTS 4096

typedef struct Hwm
{
	int32		id;				/* 0 = free */
	TimestampTz ts;
	uint64	   *tids;			/* open addressing, 0 = empty; malloc'd */
	int			ntids;
	int			cap;			/* a power of two, or 0 */
	bool		partial;		/* some ids at ts were not kept (no memory) */
} Hwm;

static Hwm hwm[HWM_SLOTS];

bool		ingest_trades_in_order = true;

static Hwm *
hwm_slot(int32 id)
{
	uint32		h = (uint32) id * 2654435761u;

	for (int i = 0; i < HWM_SLOTS; i++)
	{
		Hwm		   *m = &hwm[(h + i) % HWM_SLOTS];

		if (m->id == id || m->id == 0)
			return m;
	}
	return NULL;				/* full: every trade takes the safe path */
}

static uint64
trade_id_hash(const char *tid)
{
	uint64		h = hash_bytes_extended((const unsigned char *) tid, (int) strlen(tid), 0);

	return h ? h : 1;
}

/* Is a trade with this id hash stored at the mark's time? */
static bool
hwm_has(const Hwm *m, uint64 h)
{
	if (m->cap == 0)
		return false;
	for (int i = (int) (h & (m->cap - 1));; i = (i + 1) & (m->cap - 1))
	{
		if (m->tids[i] == h)
			return true;
		if (m->tids[i] == 0)
			return false;
	}
}

/* Note a stored trade at the mark's time; false when out of memory. */
static bool
hwm_add(Hwm *m, uint64 h)
{
	if ((m->ntids + 1) * 2 > m->cap)
	{
		int			cap = m->cap ? m->cap * 2 : 64;
		uint64	   *t = calloc(cap, sizeof(uint64));
		uint64	   *old = m->tids;
		int			oldcap = m->cap;

		if (t == NULL)
			return false;
		m->tids = t;
		m->cap = cap;
		m->ntids = 0;
		for (int i = 0; i < oldcap; i++)
			if (old[i] != 0)
				hwm_add(m, old[i]);
		free(old);
	}
	for (int i = (int) (h & (m->cap - 1));; i = (i + 1) & (m->cap - 1))
	{
		if (m->tids[i] == h)
			return true;
		if (m->tids[i] == 0)
		{
			m->tids[i] = h;
			m->ntids++;
			return true;
		}
	}
}

/* The mark moves to ts: forget the ids of the old time. */
static void
hwm_advance(Hwm *m, TimestampTz ts)
{
	m->ts = ts;
	m->partial = false;
	if (m->ntids > 0)
	{
		if (m->cap > 65536)
		{
			/* a burst made it big: do not keep that much for one millisecond */
			free(m->tids);
			m->tids = NULL;
			m->cap = 0;
		}
		else
			memset(m->tids, 0, sizeof(uint64) * m->cap);
		m->ntids = 0;
	}
}

/* Can this trade not be in the table yet, by its instrument's mark? */
static bool
hwm_new_trade(const IngestEvent *e)
{
	Hwm		   *m = hwm_slot(e->instrument_id);
	TimestampTz ts = ingest_event_ts(e);

	if (m == NULL || m->id != e->instrument_id)
		return false;
	return ts > m->ts ||
		(ts == m->ts && !m->partial && !hwm_has(m, trade_id_hash(e->ev.trade_id)));
}

/* The trade is stored: move its instrument's mark. */
static void
hwm_note(const IngestEvent *e)
{
	Hwm		   *m = hwm_slot(e->instrument_id);
	TimestampTz ts = ingest_event_ts(e);

	if (m == NULL)
		return;
	if (m->id == 0)
	{
		m->id = e->instrument_id;
		hwm_advance(m, ts);
	}
	else if (ts > m->ts)
		hwm_advance(m, ts);
	if (ts == m->ts && !hwm_add(m, trade_id_hash(e->ev.trade_id)))
		m->partial = true;		/* the mark's time takes the safe path */
}

/* ---- the 1-minute candles of trades ------------------------------------- */

/* One 1-minute candle built from the trades of a batch. */
typedef struct TradeCandle
{
	int32		instrument_id;
	TimestampTz ts;				/* the minute */
	const IngestEvent *first;	/* by (time, trade id) */
	const IngestEvent *last;
	double		high, low, volume, quote_volume;
	int64		count;
} TradeCandle;

/* a before b in the order the candles take open and close by */
static bool
trade_before(const IngestEvent *a, const IngestEvent *b)
{
	TimestampTz ta = ingest_event_ts(a);
	TimestampTz tb = ingest_event_ts(b);

	return ta < tb || (ta == tb && strcmp(a->ev.trade_id, b->ev.trade_id) < 0);
}

/*
 * Upsert the 1m candles of the picked trades, all of which were inserted
 * (the plain INSERT path: a conflict would have raised).  Built here in
 * one pass instead of aggregating the INSERT's RETURNING rows in SQL.
 */
static void
upsert_trade_candles(IngestBatch *b, const bool *pick)
{
	static SPIPlanPtr plan;
	TradeCandle *g = palloc(sizeof(TradeCandle) * b->n);
	int			ng = 0;
	Oid			types[9] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT8ARRAYOID};
	Oid			elem[9] = {TIMESTAMPTZOID, INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, INT8OID};
	Datum	   *c[9];
	Datum		args[9];

	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		TimestampTz ts;
		TradeCandle *t = NULL;

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts = ingest_event_ts(e);
		ts -= ((ts % USECS_PER_MINUTE) + USECS_PER_MINUTE) % USECS_PER_MINUTE;
		for (int k = ng - 1; k >= 0 && !t; k--)
			if (g[k].instrument_id == e->instrument_id && g[k].ts == ts)
				t = &g[k];
		if (t == NULL)
		{
			t = &g[ng++];
			t->instrument_id = e->instrument_id;
			t->ts = ts;
			t->first = t->last = e;
			t->high = t->low = e->ev.price;
			t->volume = t->quote_volume = 0;
			t->count = 0;
		}
		if (trade_before(e, t->first))
			t->first = e;
		if (trade_before(t->last, e))
			t->last = e;
		t->high = Max(t->high, e->ev.price);
		t->low = Min(t->low, e->ev.price);
		t->volume += e->ev.qty;
		t->quote_volume += e->ev.price * e->ev.qty;
		t->count++;
	}
	if (ng == 0)
		return;
	for (int k = 0; k < 9; k++)
		c[k] = palloc(sizeof(Datum) * ng);
	for (int k = 0; k < ng; k++)
	{
		c[0][k] = TimestampTzGetDatum(g[k].ts);
		c[1][k] = Int32GetDatum(g[k].instrument_id);
		c[2][k] = Float8GetDatum(g[k].first->ev.price);
		c[3][k] = Float8GetDatum(g[k].high);
		c[4][k] = Float8GetDatum(g[k].low);
		c[5][k] = Float8GetDatum(g[k].last->ev.price);
		c[6][k] = Float8GetDatum(g[k].volume);
		c[7][k] = Float8GetDatum(g[k].quote_volume);
		c[8][k] = Int64GetDatum(g[k].count);
	}
	for (int k = 0; k < 9; k++)
		args[k] = ingest_array(c[k], ng, elem[k]);
	if (ingest_run_kept(&plan,
				 "INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, "
				 "  volume, quote_volume, trade_count, closed, source) "
				 "SELECT ts, id, '1 minute', o, h, l, cl, v, qv, n, false, 'trades' "
				 "  FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) AS u (ts, id, o, h, l, cl, v, qv, n) "
				 "ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE "
				 "  SET high = greatest(c.high, excluded.high), low = least(c.low, excluded.low), "
				 "      close = excluded.close, volume = c.volume + excluded.volume, "
				 "      quote_volume = c.quote_volume + excluded.quote_volume, "
				 "      trade_count = c.trade_count + excluded.trade_count, local_ts = now()",
				 9, types, args) != SPI_OK_INSERT)
		elog(ERROR, "could not upsert the candles of trades");
}

/* ---- writing ------------------------------------------------------------ */

/*
 * Take the open and close of the 1m candles of the picked trades again
 * from the minute's stored trades (which this statement sees, unlike an
 * INSERT's CTE): a trade written out of time order (a gap repair, a
 * backfill) set the close to its own, or the open, whatever was stored.
 */
static void
reorder_trade_candles(IngestBatch *b, const bool *pick)
{
	static SPIPlanPtr reorder_plan;
	Datum	   *ts = palloc(sizeof(Datum) * b->n),
			   *id = palloc(sizeof(Datum) * b->n);
	Oid			types[2] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID};
	Datum		args[2];
	int			n = 0;

	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts[n] = TimestampTzGetDatum(ingest_event_ts(e));
		id[n] = Int32GetDatum(e->instrument_id);
		n++;
	}
	if (n == 0)
		return;
	args[0] = ingest_array(ts, n, TIMESTAMPTZOID);
	args[1] = ingest_array(id, n, INT4OID);
	if (ingest_run_kept(&reorder_plan,
						"UPDATE zvt.candles c SET open = f.o, close = f.cl "
						"  FROM (SELECT m.id, m.m, "
						"               (SELECT t.price FROM zvt.trades t WHERE t.instrument_id = m.id "
						"                   AND t.ts >= m.m AND t.ts < m.m + interval '1 minute' "
						"                 ORDER BY t.ts, t.trade_id LIMIT 1) AS o, "
						"               (SELECT t.price FROM zvt.trades t WHERE t.instrument_id = m.id "
						"                   AND t.ts >= m.m AND t.ts < m.m + interval '1 minute' "
						"                 ORDER BY t.ts DESC, t.trade_id DESC LIMIT 1) AS cl "
						"          FROM (SELECT DISTINCT u.id, zvt.time_bucket('1 minute', u.ts) AS m "
						"                  FROM unnest($1, $2) AS u (ts, id)) m) f "
						" WHERE c.instrument_id = f.id AND c.ts = f.m AND c.timeframe = '1 minute' "
						"   AND c.source = 'trades' AND (c.open, c.close) IS DISTINCT FROM (f.o, f.cl)",
						2, types, args) != SPI_OK_UPDATE)
		elog(ERROR, "could not reorder the candles of trades");
}


/*
 * The rows of SPI_tuptable (instrument_id, trade_id, ts) are the picked
 * trades an INSERT ... ON CONFLICT DO NOTHING really inserted: mark each
 * one's first occurrence among the picked events stored (a repeat within
 * the batch was skipped as a conflict with that first one).
 */
static void
mark_inserted_trades(IngestBatch *b, const bool *pick)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	int			size = b->n * 2 + 1;
	int		   *table = palloc(sizeof(int) * size);

	memset(table, -1, sizeof(int) * size);
	/* the first picked occurrence of each key */
	for (int i = 0; i < b->n; i++)
		if (pick[i])
			(void) duplicate_in_batch(b, i, table, size);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		bool		isnull;
		int32		id = DatumGetInt32(SPI_getbinval(t, desc, 1, &isnull));
		char	   *tid = TextDatumGetCString(SPI_getbinval(t, desc, 2, &isnull));
		TimestampTz ts = DatumGetTimestampTz(SPI_getbinval(t, desc, 3, &isnull));
		uint32		h = trade_key_hash(id, ts, tid);

		for (int k = 0; k < size; k++)
		{
			int			slot = table[(h + k) % size];
			IngestEvent *o;

			if (slot < 0)
				break;
			o = &b->events[slot];
			if (o->instrument_id == id && ingest_event_ts(o) == ts && strcmp(o->ev.trade_id, tid) == 0)
			{
				o->stored = true;
				break;
			}
		}
	}
}

/*
 * Insert the picked trades; returns rows inserted.  on_conflict: ON
 * CONFLICT DO NOTHING, and the 1m candles count only the rows really
 * inserted (aggregated from RETURNING); otherwise COPY, which raises on
 * a conflict, and the candles are built from the batch.
 */
static int64
insert_trades(IngestBatch *b, const bool *pick, bool on_conflict)
{
	static SPIPlanPtr conflict_plan;
	int64		inserted;
	int			n = 0;
	Datum	   *ts = palloc(sizeof(Datum) * b->n),
			   *id = palloc(sizeof(Datum) * b->n),
			   *tid = palloc(sizeof(Datum) * b->n),
			   *px = palloc(sizeof(Datum) * b->n),
			   *qty = palloc(sizeof(Datum) * b->n),
			   *side = palloc(sizeof(Datum) * b->n),
			   *lts = palloc(sizeof(Datum) * b->n);
	Oid			types[7] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, TEXTARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[7];

	if (!on_conflict)
	{
		int64		rows = ingest_direct_trades(b, pick);

		if (rows < 0)
			rows = ingest_copy_trades(b, pick);

		upsert_trade_candles(b, pick);
		/* a backfill's trades may be older than the feed's of their minute */
		if (!ingest_trades_in_order)
			reorder_trade_candles(b, pick);
		/* all or nothing: were one a duplicate, the writer would have raised */
		for (int i = 0; i < b->n; i++)
			if (pick[i])
				b->events[i].stored = true;
		return rows;
	}
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts[n] = TimestampTzGetDatum(ingest_event_ts(e));
		id[n] = Int32GetDatum(e->instrument_id);
		tid[n] = CStringGetTextDatum(e->ev.trade_id);
		px[n] = Float8GetDatum(e->ev.price);
		qty[n] = Float8GetDatum(e->ev.qty);
		side[n] = CStringGetTextDatum(e->ev.taker_buy ? "buy" : "sell");
		lts[n] = TimestampTzGetDatum(e->local_ts);
		n++;
	}
	if (n == 0)
		return 0;
	args[0] = ingest_array(ts, n, TIMESTAMPTZOID);
	args[1] = ingest_array(id, n, INT4OID);
	args[2] = ingest_array(tid, n, TEXTOID);
	args[3] = ingest_array(px, n, FLOAT8OID);
	args[4] = ingest_array(qty, n, FLOAT8OID);
	args[5] = ingest_array(side, n, TEXTOID);
	args[6] = ingest_array(lts, n, TIMESTAMPTZOID);
	/* the 1m candles count only the rows this statement really inserted */
	if (ingest_run_kept(&conflict_plan, psprintf(
									   "WITH t AS ("
									   "  INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts) "
									   "  SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7) %s"
									   "  RETURNING ts, instrument_id, trade_id, price, qty), "
									   "c AS ("
									   "  INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, "
									   "    volume, quote_volume, trade_count, closed, source) "
									   "  SELECT zvt.time_bucket('1 minute', ts), instrument_id, '1 minute', "
									   "    (array_agg(price ORDER BY ts, trade_id))[1], max(price), min(price), "
									   "    (array_agg(price ORDER BY ts DESC, trade_id DESC))[1], sum(qty), sum(price * qty), "
									   "    count(*), false, 'trades' "
									   "    FROM t GROUP BY 1, 2 "
									   "  ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE "
									   "    SET high = greatest(c.high, excluded.high), low = least(c.low, excluded.low), "
									   "        close = excluded.close, volume = c.volume + excluded.volume, "
									   "        quote_volume = c.quote_volume + excluded.quote_volume, "
									   "        trade_count = c.trade_count + excluded.trade_count, local_ts = now() "
									   "  RETURNING 1) "
									   "SELECT instrument_id, trade_id, ts FROM t", "ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING "),
				 7, types, args) != SPI_OK_SELECT)
		elog(ERROR, "could not insert trades");
	inserted = (int64) SPI_processed;
	mark_inserted_trades(b, pick);

	/*
	 * Rows inserted here may be older than trades already stored in their
	 * minute (a gap repair, a backfill): the candle's open and close are
	 * then taken again from the minute's stored trades.
	 */
	if (inserted > 0)
		reorder_trade_candles(b, pick);
	return inserted;
}

static uint32
trade_key_hash(int32 instrument_id, TimestampTz ts, const char *trade_id)
{
	return (uint32) instrument_id * 2654435761u ^ (uint32) ts ^
		(uint32) hash_bytes((const unsigned char *) trade_id, (int) strlen(trade_id));
}

/*
 * Same (instrument, trade id, time) as an earlier trade of the batch?
 * table (size slots, -1 = free) remembers the first of each key.
 */
static bool
duplicate_in_batch(IngestBatch *b, int i, int *table, int size)
{
	IngestEvent *e = &b->events[i];
	uint32		h = trade_key_hash(e->instrument_id, ingest_event_ts(e), e->ev.trade_id);

	for (int k = 0; k < size; k++)
	{
		int		   *slot = &table[(h + k) % size];
		IngestEvent *o;

		if (*slot < 0)
		{
			*slot = i;
			return false;
		}
		o = &b->events[*slot];
		if (o->instrument_id == e->instrument_id && ingest_event_ts(o) == ingest_event_ts(e) &&
			strcmp(o->ev.trade_id, e->ev.trade_id) == 0)
			return true;
	}
	return true;				/* cannot happen: the table has room for every trade */
}

/*
 * Trades: older ones (at or below their instrument's mark) through ON
 * CONFLICT DO NOTHING first, then the new ones, without repeats within the
 * batch, with a plain INSERT in a subtransaction; should that meet a
 * conflict after all (another writer, a clock going backwards), it is
 * rolled back and those rows take ON CONFLICT too.
 */
int64
ingest_flush_trades(IngestBatch *b)
{
	bool	   *fast = palloc0(sizeof(bool) * b->n);
	bool	   *slow = palloc0(sizeof(bool) * b->n);
	int			size = b->n * 2 + 1;
	int		   *table = palloc(sizeof(int) * size);
	int			nfast = 0;
	int64		rows = 0;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	memset(table, -1, sizeof(int) * size);
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE)
			continue;
		if (hwm_new_trade(e))
		{
			/* a repeat within the batch (a duplicated frame) is simply dropped */
			if (!duplicate_in_batch(b, i, table, size))
			{
				fast[i] = true;
				nfast++;
			}
		}
		else
			slow[i] = true;
	}
	rows += insert_trades(b, slow, true);
	if (nfast > 0)
	{
		BeginInternalSubTransaction(NULL);
		PG_TRY();
		{
			rows += insert_trades(b, fast, false);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			ErrorData  *err;

			MemoryContextSwitchTo(oldcxt);
			err = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			if (err->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
				ReThrowError(err);
			FreeErrorData(err);
			rows += insert_trades(b, fast, true);
		}
		PG_END_TRY();
	}
	/* every trade of the batch is now stored */
	for (int i = 0; i < b->n; i++)
		if (b->events[i].ev.kind == FEED_TRADE)
			hwm_note(&b->events[i]);
	return rows;
}
