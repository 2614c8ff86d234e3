/*-------------------------------------------------------------------------
 *
 * src/storage/ohlcv.c
 *	  zvt.ohlcv(exchange, symbol, timeframe, start, finish): candles of a
 *	  timeframe, from the materialized roll-ups where they are current
 *	  and from the 1-minute candles elsewhere.
 *
 * The bars asked for are the buckets opening in [start, finish): the
 * aligned range [first, upper), first the first bucket start >= start,
 * upper the end of the bucket holding finish - 1us.  For a timeframe in
 * zvt.candle_rollups with watermark W:
 *
 *	- below W, the materialized bars, except in the buckets a log entry
 *	  of zvt._candle_invalidations for this instrument (or for all)
 *	  touches: those are stale or may be, and are computed;
 *	- from W on (the tail), bars are computed.
 *
 * Other timeframes are computed over the whole range.  "Computed" is the
 * roll-up of rollup.c's rollup_compute over the 1-minute candles, the
 * same kernel that made the materialized bars, so a bar is the same bit
 * for bit either way.  Every read is a read-only SPI query under one
 * snapshot, taken after locking zvt.candles (see zvt_ohlcv), so the
 * roll-ups, the log and the candles are seen as of one instant: see
 * rollup_refresh.c for why that makes the result exact.  It runs as the caller, who needs
 * SELECT on zvt.candles and the roll-up tables (granted to PUBLIC).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/heapam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "base/export.h"
#include "storage/rollup.h"

PG_FUNCTION_INFO_V1(zvt_ohlcv);

/* bars gathered before they are sorted and returned */
typedef struct BarList
{
	CaBar	   *bars;
	int64		n;
	int64		cap;
} BarList;

/* a range of buckets [lo, hi) */
typedef struct Range
{
	TimestampTz lo;
	TimestampTz hi;
} Range;

static void bar_add(void *arg, int32 instrument_id, const CaBar *bar);
static int	bar_cmp(const void *a, const void *b);
static int	stale_cmp(const void *a, const void *b);
static int	stale_ranges(int32 iid, int64 width, TimestampTz lo, TimestampTz hi, Range **out);
static void read_materialized(int32 iid, Datum tf, TimestampTz lo, TimestampTz hi,
							  const Range *stale, int nstale, BarList *out);

/* RollupBarFn: gather */
static void
bar_add(void *arg, int32 instrument_id, const CaBar *bar)
{
	BarList    *l = arg;

	if (l->n == l->cap)
	{
		l->cap *= 2;
		l->bars = repalloc_huge(l->bars, sizeof(CaBar) * l->cap);
	}
	l->bars[l->n++] = *bar;
}

static int
bar_cmp(const void *a, const void *b)
{
	int64		x = ((const CaBar *) a)->ts;
	int64		y = ((const CaBar *) b)->ts;

	return (x > y) - (x < y);
}

static int
stale_cmp(const void *a, const void *b)
{
	TimestampTz x = ((const Range *) a)->lo;
	TimestampTz y = ((const Range *) b)->lo;

	return (x > y) - (x < y);
}

/*
 * The ranges of buckets in [lo, hi) that a pending log entry of instrument
 * iid (or of all) touches, widened to whole buckets, sorted and merged,
 * in a palloc'd array; returns how many.
 */
static int
stale_ranges(int32 iid, int64 width, TimestampTz lo, TimestampTz hi, Range **out)
{
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3] = {Int32GetDatum(iid), TimestampTzGetDatum(lo), TimestampTzGetDatum(hi)};
	Range	   *r;
	int			n;
	int			k = 0;

	if (SPI_execute_with_args("SELECT lo, hi FROM zvt._candle_invalidations"
							  " WHERE (instrument_id = $1 OR instrument_id IS NULL)"
							  " AND hi > $2 AND lo < $3",
							  3, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the candle invalidation log");
	n = (int) SPI_processed;
	r = palloc(sizeof(Range) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		TimestampTz a = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 1, &isnull));
		TimestampTz b = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 2, &isnull));

		r[i].lo = Max(rollup_bucket(a, width), lo);
		r[i].hi = TIMESTAMP_NOT_FINITE(b) ? hi : Min(rollup_bucket(b - 1, width) + width, hi);
	}
	qsort(r, n, sizeof(Range), stale_cmp);
	for (int i = 0; i < n; i++)
	{
		if (k > 0 && r[i].lo <= r[k - 1].hi)
			r[k - 1].hi = Max(r[k - 1].hi, r[i].hi);
		else
			r[k++] = r[i];
	}
	*out = r;
	return k;
}

/* the materialized bars in [lo, hi) outside every stale range */
static void
read_materialized(int32 iid, Datum tf, TimestampTz lo, TimestampTz hi,
				  const Range *stale, int nstale, BarList *out)
{
	Oid			types[4] = {INT4OID, INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4] = {Int32GetDatum(iid), tf, TimestampTzGetDatum(lo), TimestampTzGetDatum(hi)};
	int			s = 0;

	if (lo >= hi)
		return;
	if (SPI_execute_with_args("SELECT ts, open, high, low, close, volume, quote_volume,"
							  " trade_count, closed, source = 'exchange', local_ts"
							  " FROM zvt._rollup_candles WHERE instrument_id = $1"
							  " AND timeframe = $2 AND ts >= $3 AND ts < $4 ORDER BY ts",
							  4, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the candle roll-ups");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		v[11];
		bool		n[11];
		CaBar		b;

		/* one pass over the tuple: the nullable columns make getattr walk it */
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, v, n);
		b.ts = DatumGetTimestampTz(v[0]);
		while (s < nstale && stale[s].hi <= b.ts)
			s++;
		if (s < nstale && stale[s].lo <= b.ts)
			continue;			/* computed instead */
		b.open = DatumGetFloat8(v[1]);
		b.high = DatumGetFloat8(v[2]);
		b.low = DatumGetFloat8(v[3]);
		b.close = DatumGetFloat8(v[4]);
		b.volume = DatumGetFloat8(v[5]);
		b.has_quote_volume = !n[6];
		b.quote_volume = n[6] ? 0 : DatumGetFloat8(v[6]);
		b.has_trade_count = !n[7];
		b.trade_count = n[7] ? 0 : DatumGetInt64(v[7]);
		b.closed = DatumGetBool(v[8]);
		b.exchange = DatumGetBool(v[9]);
		b.local_ts = DatumGetTimestampTz(v[10]);
		b.minutes = 0;
		bar_add(out, iid, &b);
	}
	SPI_freetuptable(SPI_tuptable);
}

/* the watermark of a materialized timeframe (*mark), or false */
static bool
rollup_mark(Datum tf, TimestampTz *mark)
{
	Oid			types[1] = {INTERVALOID};
	Datum		args[1] = {tf};
	bool		isnull;

	if (SPI_execute_with_args("SELECT s.materialized_until FROM zvt.candle_rollups r"
							  " LEFT JOIN zvt._rollup_state s ON s.timeframe = r.timeframe"
							  " WHERE r.timeframe = $1", 1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.candle_rollups");
	if (SPI_processed == 0)
		return false;
	*mark = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		*mark = DT_NOBEGIN;
	return true;
}

/* the instrument of (exchange, symbol): zvt._instrument_id raises 42704 */
static int32
instrument_of(Datum exchange, bool exnull, Datum symbol, bool synull)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2] = {exchange, symbol};
	char		nulls[2] = {exnull ? 'n' : ' ', synull ? 'n' : ' '};
	bool		isnull;
	Datum		d;

	/* the plain lookup first; zvt._instrument_id says what is unknown */
	if (SPI_execute_with_args("SELECT i.id FROM zvt.instruments i"
							  " WHERE i.exchange = $1 AND i.symbol = $2", 2, types, args, nulls,
							  true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the instrument");
	if (SPI_processed != 1 &&
		(SPI_execute_with_args("SELECT zvt._instrument_id($1, $2)", 2, types, args, nulls,
							   true, 1) != SPI_OK_SELECT || SPI_processed != 1))
		elog(ERROR, "could not look up the instrument");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "could not look up the instrument");
	return DatumGetInt32(d);
}

/*
 * zvt.ohlcv(exchange text, symbol text, timeframe interval,
 *           start timestamptz, finish timestamptz) RETURNS SETOF zvt.candles_v
 *
 * 22023 for a NULL timeframe, start or finish, finish <= start or an
 * unsupported timeframe; 42704 for an unknown exchange or symbol.
 */
Datum
zvt_ohlcv(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		tf;
	TimestampTz start;
	TimestampTz finish;
	int64		w;
	int32		iid;
	TimestampTz first;
	TimestampTz upper;
	TimestampTz mark;
	BarList		bars;
	MemoryContext caller = CurrentMemoryContext;

	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeframe, start and finish must not be null")));
	tf = PG_GETARG_DATUM(2);
	start = PG_GETARG_TIMESTAMPTZ(3);
	finish = PG_GETARG_TIMESTAMPTZ(4);
	if (finish <= start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("finish (%s) must be after start (%s)",
						DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(finish))),
						DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(start))))));
	w = rollup_width(DatumGetIntervalP(tf), true);

	InitMaterializedSRF(fcinfo, 0);

	/*
	 * zvt.candles first, then a snapshot taken after that lock: a
	 * maintenance pass moving rows out of the default partition into a new
	 * chunk holds ACCESS EXCLUSIVE until it commits, and the caller's
	 * snapshot, older than that commit, with the partition list of after
	 * it would see the moved rows in neither place.  Every read below uses
	 * this one snapshot (the transaction's under REPEATABLE READ).
	 */
	LockRelationOid(get_relname_relid("candles", get_namespace_oid("zvt", false)), AccessShareLock);
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	iid = instrument_of(PG_GETARG_DATUM(0), PG_ARGISNULL(0), PG_GETARG_DATUM(1), PG_ARGISNULL(1));

	/* the buckets opening in [start, finish) are [first, upper) */
	first = rollup_bucket(start, w);
	if (first < start && !TIMESTAMP_NOT_FINITE(start))
		first += w;
	upper = TIMESTAMP_NOT_FINITE(finish) ? finish : rollup_bucket(finish - 1, w) + w;

	bars.cap = 1024;
	bars.n = 0;
	bars.bars = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(CaBar) * bars.cap);
	if (rollup_mark(tf, &mark) && mark > first)
	{
		TimestampTz below = Min(mark, upper);
		Range	   *stale;
		int			nstale = stale_ranges(iid, w, first, below, &stale);

		read_materialized(iid, tf, first, below, stale, nstale, &bars);
		for (int i = 0; i < nstale; i++)
			rollup_compute(true, iid, w, stale[i].lo, stale[i].hi, true, bar_add, &bars);
		if (nstale > 0)
			qsort(bars.bars, bars.n, sizeof(CaBar), bar_cmp);
		first = below;
	}
	rollup_compute(true, iid, w, first, upper, true, bar_add, &bars);

	/* the rows, in the caller's memory: the tuplestore outlives SPI */
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);
		Datum		exch = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
		Datum		sym = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);

		for (int64 i = 0; i < bars.n; i++)
		{
			const CaBar *b = &bars.bars[i];
			Datum		values[15];
			bool		nulls[15] = {false};

			values[0] = TimestampTzGetDatum(b->ts);
			values[1] = exch;
			values[2] = sym;
			values[3] = Int32GetDatum(iid);
			values[4] = tf;
			values[5] = Float8GetDatum(b->open);
			values[6] = Float8GetDatum(b->high);
			values[7] = Float8GetDatum(b->low);
			values[8] = Float8GetDatum(b->close);
			values[9] = Float8GetDatum(b->volume);
			values[10] = Float8GetDatum(b->quote_volume);
			nulls[10] = !b->has_quote_volume;
			values[11] = Int64GetDatum(b->trade_count);
			nulls[11] = !b->has_trade_count;
			values[12] = BoolGetDatum(b->closed);
			values[13] = CStringGetTextDatum(b->exchange ? "exchange" : "trades");
			values[14] = TimestampTzGetDatum(b->local_ts);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			CHECK_FOR_INTERRUPTS();
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	PopActiveSnapshot();
	return (Datum) 0;
}
