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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "feed/ingest.h"
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
static TimestampTz
event_ts(const IngestEvent *e)
{
	return e->ev.ts ? (TimestampTz) (e->ev.ts - ZT_PG_EPOCH_OFFSET) : e->local_ts;
}

/*
 * Run one of the ingest path's statements through a plan prepared at its
 * first use and kept for the worker's life (the plan cache replans it if
 * the tables change): the flush path runs the same few statements many
 * times a second.
 */
static int
run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args)
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
		ts = event_ts(&b->events[i]);
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
		if (run_kept(&ensure_plans[which], psprintf("SELECT zvt._ensure_chunk('%s', $1)", table),
					 1, types, v) != SPI_OK_SELECT)
			elog(ERROR, "could not ensure a chunk of %s", table);
		slot->day = day;
		slot->at = now;
	}
}

static Datum
array_of(Datum *values, int n, Oid type)
{
	int16		typlen;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &typlen, &byval, &align);
	return PointerGetDatum(construct_array(values, n, type, typlen, byval, align));
}

/* A one-dimensional array of n values of type, some of them NULL. */
static Datum
array_with_nulls(Datum *values, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &byval, &align);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, typlen, byval, align));
}

/* ---- trades ------------------------------------------------------------- */

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
	TimestampTz ts = event_ts(e);

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
	TimestampTz ts = event_ts(e);

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
	TimestampTz ta = event_ts(a);
	TimestampTz tb = event_ts(b);

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
		ts = event_ts(e);
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
		args[k] = array_of(c[k], ng, elem[k]);
	if (run_kept(&plan,
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

/*
 * The plain path's writer: COPY FROM, fed the picked trades as a binary
 * COPY image from memory.  COPY's executor does what the statement would
 * (partition routing, constraints, indexes, triggers) but inserts in
 * multi-row batches per chunk and skips the planner and the unnest
 * tuplestore; binary input spares the text conversions.  A duplicate
 * raises unique_violation as the INSERT would.
 */
static StringInfoData copy_image;
static int	copy_image_pos;

/* COPY's data source callback: the next bytes of copy_image */
static int
copy_image_read(void *outbuf, int minread, int maxread)
{
	int			n = Min(maxread, copy_image.len - copy_image_pos);

	memcpy(outbuf, copy_image.data + copy_image_pos, n);
	copy_image_pos += n;
	return n;
}

static void
copy_image_text(StringInfo buf, const char *s)
{
	int			len = (int) strlen(s);

	pq_sendint32(buf, len);
	pq_sendbytes(buf, s, len);
}

static int64
copy_trades(IngestBatch *b, const bool *pick)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("zvt", "trades", -1), RowExclusiveLock, false);
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	CopyFromState cstate;
	List	   *columns = NIL;
	int64		rows;
	static const char *const names[] = {"ts", "instrument_id", "trade_id", "price", "qty", "side", "local_ts"};

	initStringInfo(&copy_image);
	appendBinaryStringInfo(&copy_image, "PGCOPY\n\377\r\n\0", 11);
	pq_sendint32(&copy_image, 0);	/* flags */
	pq_sendint32(&copy_image, 0);	/* header extension length */
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		pq_sendint16(&copy_image, 7);
		pq_sendint32(&copy_image, 8);
		pq_sendint64(&copy_image, event_ts(e));
		pq_sendint32(&copy_image, 4);
		pq_sendint32(&copy_image, e->instrument_id);
		copy_image_text(&copy_image, e->ev.trade_id);
		pq_sendint32(&copy_image, 8);
		pq_sendfloat8(&copy_image, e->ev.price);
		pq_sendint32(&copy_image, 8);
		pq_sendfloat8(&copy_image, e->ev.qty);
		copy_image_text(&copy_image, e->ev.taker_buy ? "buy" : "sell");
		pq_sendint32(&copy_image, 8);
		pq_sendint64(&copy_image, e->local_ts);
	}
	pq_sendint16(&copy_image, -1);
	copy_image_pos = 0;

	for (int k = 0; k < lengthof(names); k++)
		columns = lappend(columns, makeString(pstrdup(names[k])));
	rel = table_open(relid, RowExclusiveLock);
	/* COPY's executor state wants a range table entry for its target */
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_image_read, columns,
						   list_make1(makeDefElem("format", (Node *) makeString("binary"), -1)));
	rows = (int64) CopyFrom(cstate);
	EndCopyFrom(cstate);
	free_parsestate(pstate);
	table_close(rel, NoLock);
	pfree(copy_image.data);
	return rows;
}

/*
 * The plain path's fast writer: the new trades straight into their chunks
 * with heap_multi_insert and the executor's index insertion, as COPY does
 * but without its per-call costs (a slot made and dropped per row, the
 * binary input functions).  Each row is routed by the hypertable's
 * partition bounds; constraints are checked with ExecConstraints; a
 * duplicate raises unique_violation from the unique index, as the INSERT
 * would.  It declines (returns -1, having written nothing) whenever COPY
 * must do the work: a row for the default partition, a trigger on the
 * hypertable or a chunk, or a chunk whose columns are not the ones its
 * slots were made for.
 */
#define DIRECT_SLOTS 256
#define TRADE_COLUMNS 7

static TupleDesc direct_desc;	/* a private copy: slots outlive transactions */
static TupleTableSlot *direct_slots[DIRECT_SLOTS];

/* Same physical columns as the slots were made for? */
static bool
direct_desc_matches(TupleDesc d)
{
	if (direct_desc == NULL || d->natts != direct_desc->natts)
		return false;
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(d, i);
		Form_pg_attribute b = TupleDescAttr(direct_desc, i);

		if (a->atttypid != b->atttypid || a->attlen != b->attlen || a->attbyval != b->attbyval ||
			a->attalign != b->attalign || a->attisdropped != b->attisdropped ||
			a->atttypmod != b->atttypmod || strcmp(NameStr(a->attname), NameStr(b->attname)) != 0)
			return false;
	}
	return true;
}

/* The column numbers (0-based) of the trades' columns in d; false if any is missing. */
static bool
trade_columns(TupleDesc d, int *col)
{
	static const char *const names[TRADE_COLUMNS] = {"ts", "instrument_id", "trade_id", "price", "qty", "side", "local_ts"};

	for (int k = 0; k < TRADE_COLUMNS; k++)
	{
		col[k] = -1;
		for (int i = 0; i < d->natts; i++)
			if (!TupleDescAttr(d, i)->attisdropped && strcmp(NameStr(TupleDescAttr(d, i)->attname), names[k]) == 0)
				col[k] = i;
		if (col[k] < 0)
			return false;
	}
	return true;
}

/* Write rows [0, n) of one chunk; rows[] index the batch. */
static void
direct_write_chunk(Oid chunk, IngestBatch *b, const int *rows, int n, const int *col)
{
	Relation	rel = table_open(chunk, RowExclusiveLock);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	EState	   *estate = CreateExecutorState();
	CommandId	cid = GetCurrentCommandId(true);
	Datum		sides[2] = {CStringGetTextDatum("sell"), CStringGetTextDatum("buy")};

	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	for (int done = 0; done < n;)
	{
		int			m = Min(n - done, DIRECT_SLOTS);

		for (int k = 0; k < m; k++)
		{
			IngestEvent *e = &b->events[rows[done + k]];
			TupleTableSlot *slot = direct_slots[k];

			ExecClearTuple(slot);
			memset(slot->tts_isnull, true, sizeof(bool) * direct_desc->natts);
			slot->tts_values[col[0]] = TimestampTzGetDatum(event_ts(e));
			slot->tts_values[col[1]] = Int32GetDatum(e->instrument_id);
			slot->tts_values[col[2]] = CStringGetTextDatum(e->ev.trade_id);
			slot->tts_values[col[3]] = Float8GetDatum(e->ev.price);
			slot->tts_values[col[4]] = Float8GetDatum(e->ev.qty);
			slot->tts_values[col[5]] = sides[e->ev.taker_buy ? 1 : 0];
			slot->tts_values[col[6]] = TimestampTzGetDatum(e->local_ts);
			for (int c = 0; c < TRADE_COLUMNS; c++)
				slot->tts_isnull[col[c]] = false;
			ExecStoreVirtualTuple(slot);
			if (rel->rd_att->constr)
				ExecConstraints(rri, slot, estate);
		}
		table_multi_insert(rel, direct_slots, m, cid, 0, NULL);
		for (int k = 0; k < m; k++)
		{
			if (rri->ri_NumIndices > 0)
				ExecInsertIndexTuples(rri, direct_slots[k], estate, false, false, NULL, NIL);
			ResetPerTupleExprContext(estate);
			ExecClearTuple(direct_slots[k]);
		}
		done += m;
	}
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
}

static int64
direct_trades(IngestBatch *b, const bool *pick)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("zvt", "trades", -1), RowExclusiveLock, false);
	Relation	parent = table_open(relid, RowExclusiveLock);
	PartitionKey key = RelationGetPartitionKey(parent);
	PartitionDesc pd = RelationGetPartitionDesc(parent, true);
	int		   *part = palloc(sizeof(int) * b->n);
	int		   *rows = palloc(sizeof(int) * b->n);
	bool	   *written = palloc0(sizeof(bool) * pd->nparts);
	int			col[TRADE_COLUMNS];
	int64		total = 0;
	int			last_part = -1;
	TimestampTz last_ts = 0;

	if (parent->trigdesc != NULL || key == NULL || key->strategy != PARTITION_STRATEGY_RANGE ||
		key->partnatts != 1 || pd->boundinfo == NULL)
	{
		table_close(parent, NoLock);
		return -1;
	}
	/* route: the partition of each picked row */
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		TimestampTz ts;
		Datum		v[1];
		bool		equal;
		int			off;

		part[i] = -1;
		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts = event_ts(e);
		if (last_part >= 0 && ts == last_ts)
		{
			part[i] = last_part;
			continue;
		}
		v[0] = TimestampTzGetDatum(ts);
		off = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, pd->boundinfo, 1, v, &equal);
		part[i] = pd->boundinfo->indexes[off + 1];
		if (part[i] < 0)
		{
			/* no chunk for this time: the default partition's rows go through COPY */
			table_close(parent, NoLock);
			return -1;
		}
		last_part = part[i];
		last_ts = ts;
	}
	/* check every chunk before writing anything, so that declining writes nothing */
	for (int i = 0; i < b->n; i++)
	{
		Relation	rel;
		bool		ok;

		if (part[i] < 0 || written[part[i]])
			continue;
		written[part[i]] = true;
		rel = table_open(pd->oids[part[i]], RowExclusiveLock);
		if (!direct_desc_matches(RelationGetDescr(rel)) && rel->trigdesc == NULL &&
			trade_columns(RelationGetDescr(rel), col))
		{
			/* (re)make the slots for this layout, in memory that outlives the flush */
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			for (int k = 0; k < DIRECT_SLOTS; k++)
				if (direct_slots[k])
					ExecDropSingleTupleTableSlot(direct_slots[k]);
			if (direct_desc)
				FreeTupleDesc(direct_desc);
			direct_desc = CreateTupleDescCopy(RelationGetDescr(rel));
			for (int k = 0; k < DIRECT_SLOTS; k++)
				direct_slots[k] = MakeSingleTupleTableSlot(direct_desc, &TTSOpsVirtual);
			MemoryContextSwitchTo(old);
		}
		ok = rel->trigdesc == NULL && direct_desc_matches(RelationGetDescr(rel));
		table_close(rel, NoLock);
		if (!ok)
		{
			table_close(parent, NoLock);
			return -1;
		}
	}
	if (direct_desc == NULL || !trade_columns(direct_desc, col))
	{
		table_close(parent, NoLock);
		return -1;
	}
	/* write, one chunk at a time */
	for (int p = 0; p < pd->nparts; p++)
	{
		int			n = 0;

		if (!written[p])
			continue;
		for (int i = 0; i < b->n; i++)
			if (part[i] == p)
				rows[n++] = i;
		direct_write_chunk(pd->oids[p], b, rows, n, col);
		total += n;
	}
	table_close(parent, NoLock);
	return total;
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
	bool		isnull;

	if (!on_conflict)
	{
		int64		rows = direct_trades(b, pick);

		if (rows < 0)
			rows = copy_trades(b, pick);

		upsert_trade_candles(b, pick);
		return rows;
	}
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts[n] = TimestampTzGetDatum(event_ts(e));
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
	args[0] = array_of(ts, n, TIMESTAMPTZOID);
	args[1] = array_of(id, n, INT4OID);
	args[2] = array_of(tid, n, TEXTOID);
	args[3] = array_of(px, n, FLOAT8OID);
	args[4] = array_of(qty, n, FLOAT8OID);
	args[5] = array_of(side, n, TEXTOID);
	args[6] = array_of(lts, n, TIMESTAMPTZOID);
	/* the 1m candles count only the rows this statement really inserted */
	if (run_kept(&conflict_plan, psprintf(
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
									   "SELECT count(*) FROM t", "ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING "),
				 7, types, args) != SPI_OK_SELECT)
		elog(ERROR, "could not insert trades");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Same (instrument, trade id, time) as an earlier trade of the batch? */
static bool
duplicate_in_batch(IngestBatch *b, int i, int *table, int size)
{
	IngestEvent *e = &b->events[i];
	uint32		h = (uint32) e->instrument_id * 2654435761u ^ (uint32) event_ts(e) ^
		(uint32) hash_bytes((const unsigned char *) e->ev.trade_id, (int) strlen(e->ev.trade_id));

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
		if (o->instrument_id == e->instrument_id && event_ts(o) == event_ts(e) &&
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
static int64
flush_trades(IngestBatch *b)
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

/* Candles: the last update of each bar in the batch, upserted. */
static int64
flush_candles(IngestBatch *b)
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
		c[0][n] = TimestampTzGetDatum(event_ts(e));
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
		args[k] = array_with_nulls(c[k], nulls[k], n, elem[k]);
	later_args[0] = args[0];
	later_args[1] = args[1];
	later_args[2] = args[2];
	later_args[3] = array_with_nulls(later_d, later_nulls, n, BOOLOID);
	if (run_kept(&upsert_plan,
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
							  "  WHERE NOT c.closed OR excluded.closed",
				 12, types, args) != SPI_OK_INSERT)
		elog(ERROR, "could not upsert candles");
	written = (int64) SPI_processed;

	/*
	 * Where the exchange sends no closed flag (Coinbase), a bar is final
	 * once a later one of the same stream appears.  Exchanges with the flag
	 * are left alone: a bar whose closing update was lost stays open for
	 * the repair to fix rather than closed with stale values.
	 */
	if (any_closes_earlier &&
		run_kept(&close_plan,
							  "UPDATE zvt.candles c SET closed = true "
							  "  FROM (SELECT id, s, max(ts) AS ts FROM unnest($1, $2, $3, $4) AS u (ts, id, s, later) "
							  "         WHERE later GROUP BY id, s) n "
							  " WHERE c.instrument_id = n.id AND c.timeframe = make_interval(secs => n.s) "
							  "   AND c.source = 'exchange' AND NOT c.closed AND c.ts < n.ts "
							  "   AND c.ts >= n.ts - make_interval(secs => n.s * 10)",
				 4, later_types, later_args) != SPI_OK_UPDATE)
		elog(ERROR, "could not close superseded candles");
	return written + (any_closes_earlier ? (int64) SPI_processed : 0);
}

static int64
flush_quotes(IngestBatch *b)
{
	static SPIPlanPtr quote_plan;
	int			n = 0;
	Datum	   *c[8];
	bool	   *nulls[8];
	Oid			elem[8] = {TIMESTAMPTZOID, INT4OID, INT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, TIMESTAMPTZOID};
	Oid			types[8] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, INT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[8];

	for (int k = 0; k < 8; k++)
	{
		c[k] = palloc(sizeof(Datum) * b->n);
		nulls[k] = palloc0(sizeof(bool) * b->n);
	}
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		double		f[4] = {e->ev.bid, e->ev.bid_qty, e->ev.ask, e->ev.ask_qty};

		if (e->ev.kind != FEED_QUOTE)
			continue;
		c[0][n] = TimestampTzGetDatum(event_ts(e));
		c[1][n] = Int32GetDatum(e->instrument_id);
		c[2][n] = Int64GetDatum(e->ev.seq);
		for (int k = 0; k < 4; k++)
		{
			c[3 + k][n] = Float8GetDatum(f[k]);
			nulls[3 + k][n] = isnan(f[k]);
		}
		c[7][n] = TimestampTzGetDatum(e->local_ts);
		n++;
	}
	if (n == 0)
		return 0;
	for (int k = 0; k < 8; k++)
		args[k] = array_with_nulls(c[k], nulls[k], n, elem[k]);
	if (run_kept(&quote_plan,
				 "INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, bid_qty, ask, ask_qty, local_ts) "
				 "SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) "
				 "ON CONFLICT (instrument_id, ts, seq) DO NOTHING",
				 8, types, args) != SPI_OK_INSERT)
		elog(ERROR, "could not insert quotes");
	return (int64) SPI_processed;
}

/*
 * Write b in the current transaction (the caller starts and commits it,
 * inside SPI_connect).  Empties b.
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
	res->trades = flush_trades(b);
	res->candles = flush_candles(b);
	res->quotes = flush_quotes(b);
	b->n = 0;
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
