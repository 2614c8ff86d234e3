/*-------------------------------------------------------------------------
 *
 * src/backtest/bars.c
 *	  The closed bars of a backtest's market, for zvt.backtest (run.c) and
 *	  zvt.backtest_grid (grid.c).
 *
 * zvt.ohlcv rolls any timeframe up from stored 1-minute candles, reading
 * the materialized roll-ups (src/storage/rollup.c) where they are
 * current, and checks exchange, symbol and timeframe; for 1-minute bars the stored
 * candles are the bars, by the same rule (the exchange's candle wins over
 * one built from trades, closed ones only), read by read.c without the
 * executor unless it declines, then by two plain range queries into a
 * DestReceiver.  Step functions get every column of zvt.candles_v through
 * a cursor instead.  Everything runs as the caller in the caller's SPI
 * connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/bars.h"

/* called for each bar by scan_query(); may raise an error */
typedef void (*BtBarFn) (void *arg, const BtBar *bar);

static int32 instrument_id(const BtMarket *mk);

/* the columns of zvt.candles_v, in its order, for step functions */
#define CANDLE_COLUMNS "m.ts, $1, $2, m.instrument_id, m.timeframe, m.open, m.high, m.low," \
	" m.close, m.volume, m.quote_volume, m.trade_count, m.closed, m.source, m.local_ts"
#define BAR_COLUMNS "m.ts, m.open, m.high, m.low, m.close"

/*
 * The query of the closed bars: $1 exchange, $2 symbol, $3 timeframe, $4
 * start, $5 finish, $6 the instrument id (1-minute bars).  Stored 1m
 * candles are the bars, an exchange's candle winning over one zvt built
 * from trades; written as two scans of the unique index (instrument_id,
 * timeframe, source, ts) and, unless ordered, without ORDER BY: sorting
 * a range of stored candles costs more than the rest of a backtest, and
 * the rows come in partition and index order, that is in time order,
 * unless trades-built candles or the default partition mix in, which
 * bt_load_bars() checks for.
 */
static char *
bars_query(const BtMarket *mk, bool full, bool ordered)
{
	Interval   *tf = DatumGetIntervalP(mk->timeframe);
	const char *cols = full ? CANDLE_COLUMNS : BAR_COLUMNS;

	if (!(tf->month == 0 && tf->day == 0 && tf->time == USECS_PER_MINUTE))
		return psprintf("SELECT %s FROM zvt.ohlcv($1, $2, $3, $4, $5) m WHERE m.closed ORDER BY m.ts",
						full ? "m.*" : BAR_COLUMNS);
	return psprintf("SELECT %s FROM zvt.candles m"
					" WHERE m.instrument_id = $6 AND m.timeframe = $3 AND m.source = 'exchange'"
					" AND m.ts >= $4 AND m.ts < $5 AND m.closed"
					" UNION ALL"
					" SELECT %s FROM zvt.candles m"
					" WHERE m.instrument_id = $6 AND m.timeframe = $3 AND m.source = 'trades'"
					" AND m.ts >= $4 AND m.ts < $5 AND m.closed"
					" AND NOT EXISTS (SELECT 1 FROM zvt.candles e WHERE e.instrument_id = $6"
					" AND e.timeframe = $3 AND e.source = 'exchange' AND e.ts = m.ts)%s",
					cols, cols, ordered ? " ORDER BY 1" : "");
}

/*
 * The arguments of bars_query(): for 1-minute bars the instrument is
 * looked up first (42704 naming what is unknown); zvt.ohlcv checks the
 * rest itself.
 */
static void
bars_args(const BtMarket *mk, Oid *types, Datum *args)
{
	Interval   *tf = DatumGetIntervalP(mk->timeframe);

	types[0] = TEXTOID;
	types[1] = TEXTOID;
	types[2] = INTERVALOID;
	types[3] = TIMESTAMPTZOID;
	types[4] = TIMESTAMPTZOID;
	types[5] = INT4OID;
	args[0] = CStringGetTextDatum(mk->exchange);
	args[1] = CStringGetTextDatum(mk->symbol);
	args[2] = mk->timeframe;
	args[3] = TimestampTzGetDatum(mk->start);
	args[4] = TimestampTzGetDatum(mk->finish);
	args[5] = Int32GetDatum(0);
	if (tf->month == 0 && tf->day == 0 && tf->time == USECS_PER_MINUTE)
		args[5] = Int32GetDatum(instrument_id(mk));
}

/* the market's instrument id; 42704 naming what is unknown */
static int32
instrument_id(const BtMarket *mk)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	bool		isnull;

	args[0] = CStringGetTextDatum(mk->exchange);
	args[1] = CStringGetTextDatum(mk->symbol);
	if (SPI_execute_with_args("SELECT zvt._instrument_id($1, $2)", 2, types,
							  args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the instrument");
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Open a cursor over the closed bars of the market in time order, with
 * every column of zvt.candles_v (a step function's bar); the bar itself
 * is columns 1 and 6 to 9 (bt_bar_from_tuple).
 */
Portal
bt_open_bars(const BtMarket *mk)
{
	Oid			types[6];
	Datum		args[6];

	bars_args(mk, types, args);
	return SPI_cursor_open_with_args(NULL, bars_query(mk, true, true), 6, types, args, NULL, true, 0);
}

/* the bar of one row of bt_open_bars() */
void
bt_bar_from_tuple(HeapTuple tup, TupleDesc td, BtBar *bar)
{
	bool		isnull;

	bar->ts = ZVT_TS_TO_UNIX(DatumGetTimestampTz(SPI_getbinval(tup, td, 1, &isnull)));
	bar->open = DatumGetFloat8(SPI_getbinval(tup, td, 6, &isnull));
	bar->high = DatumGetFloat8(SPI_getbinval(tup, td, 7, &isnull));
	bar->low = DatumGetFloat8(SPI_getbinval(tup, td, 8, &isnull));
	bar->close = DatumGetFloat8(SPI_getbinval(tup, td, 9, &isnull));
}

/* a DestReceiver handing each row of the bars query to a BtBarFn */
typedef struct BarReceiver
{
	DestReceiver pub;
	BtBarFn		fn;
	void	   *arg;
	int64		n;				/* bars so far */
} BarReceiver;

static bool
bar_receive(TupleTableSlot *slot, DestReceiver *self)
{
	BarReceiver *r = (BarReceiver *) self;
	BtBar		bar;

	slot_getsomeattrs(slot, 5);
	bar.ts = ZVT_TS_TO_UNIX(DatumGetTimestampTz(slot->tts_values[0]));
	bar.open = DatumGetFloat8(slot->tts_values[1]);
	bar.high = DatumGetFloat8(slot->tts_values[2]);
	bar.low = DatumGetFloat8(slot->tts_values[3]);
	bar.close = DatumGetFloat8(slot->tts_values[4]);
	r->fn(r->arg, &bar);
	r->n++;
	return true;
}

static void
bar_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
bar_noop(DestReceiver *self)
{
}

/*
 * Run a bars query (bars_query's arguments) with fn called on each row,
 * straight from the executor: no row is copied, which is most of what
 * reading a bar costs.  fn may raise an error.  Returns the number of
 * bars.
 */
static int64
scan_query(const BtMarket *mk, const char *sql, BtBarFn fn, void *arg)
{
	Oid			types[6];
	Datum		args[6];
	ParamListInfo params = makeParamList(6);
	SPIExecuteOptions opts;
	BarReceiver r;

	bars_args(mk, types, args);
	for (int i = 0; i < 6; i++)
	{
		params->params[i].value = args[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = bar_receive;
	r.pub.rStartup = bar_startup;
	r.pub.rShutdown = bar_noop;
	r.pub.rDestroy = bar_noop;
	r.pub.mydest = DestNone;
	r.fn = fn;
	r.arg = arg;
	memset(&opts, 0, sizeof(opts));
	opts.params = params;
	opts.read_only = true;
	opts.dest = &r.pub;
	if (SPI_execute_extended(sql, &opts) < 0)
		elog(ERROR, "could not read the bars");
	return r.n;
}

/* bt_load_bars()'s BtBarFn: append to a growing array */
static void
append_bar(void *arg, const BtBar *bar)
{
	BtBarArray *a = arg;

	/* repalloc keeps the array in its own context, not the executor's */
	if (a->n == a->cap)
	{
		a->cap *= 2;
		a->bars = repalloc_huge(a->bars, sizeof(BtBar) * a->cap);
	}
	a->bars[a->n++] = *bar;
}

static int
cmp_bar_ts(const void *a, const void *b)
{
	int64_t		x = ((const BtBar *) a)->ts;
	int64_t		y = ((const BtBar *) b)->ts;

	return (x > y) - (x < y);
}

/* sort a's bars by time unless they already are (they come in index order) */
static void
sort_if_needed(BtBarArray *a)
{
	for (int64 i = 1; i < a->n; i++)
		if (a->bars[i - 1].ts >= a->bars[i].ts)
		{
			qsort(a->bars, a->n, sizeof(BtBar), cmp_bar_ts);
			return;
		}
}

/* the closed 1-minute bars of one source (bars_query's arguments) */
static char *
bars_source_query(const char *source)
{
	return psprintf("SELECT " BAR_COLUMNS " FROM zvt.candles m"
					" WHERE m.instrument_id = $6 AND m.timeframe = $3 AND m.source = '%s'"
					" AND m.ts >= $4 AND m.ts < $5 AND m.closed", source);
}

/*
 * All the closed bars of the market in time order in a palloc'd array
 * (huge allowed), their count in *nbars; 42704 when there are none.  They
 * are read without ORDER BY and sorted here only when they did not come
 * in order (chunks are read in time order, each in index or physical
 * order, which is time order for candles stored as they closed).
 */
BtBar *
bt_load_bars(const BtMarket *mk, int64 *nbars)
{
	Interval   *tf = DatumGetIntervalP(mk->timeframe);
	BtBarArray	a;
	BtBarArray	t;

	/* allocated here: the arrays must outlive the executor's memory */
	a.cap = t.cap = 4096;
	a.n = t.n = 0;
	a.bars = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BtBar) * a.cap);
	if (!(tf->month == 0 && tf->day == 0 && tf->time == USECS_PER_MINUTE))
	{
		/* other timeframes: zvt.ohlcv's roll-up, in order */
		scan_query(mk, bars_query(mk, false, false), append_bar, &a);
		if (a.n == 0)
			bt_no_bars_error(mk);
		*nbars = a.n;
		return a.bars;
	}

	/*
	 * Stored 1-minute bars: the exchange's and those built from trades,
	 * read straight from the chunks in one pass, or else each by a plain
	 * range query (an anti-join in SQL makes the planner hash every
	 * exchange bar even when no trades-built bar exists); a minute with
	 * both keeps the exchange's.
	 */
	t.bars = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BtBar) * t.cap);
	if (!bt_read_1m_bars(mk, instrument_id(mk), &a, &t))
	{
		scan_query(mk, bars_source_query("exchange"), append_bar, &a);
		scan_query(mk, bars_source_query("trades"), append_bar, &t);
	}
	sort_if_needed(&a);
	if (t.n > 0)
	{
		BtBarArray	m;
		int64		i = 0,
					j = 0;

		sort_if_needed(&t);
		m.cap = a.n + t.n;
		m.n = 0;
		m.bars = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BtBar) * Max(m.cap, 1));
		while (i < a.n || j < t.n)
		{
			if (j >= t.n || (i < a.n && a.bars[i].ts <= t.bars[j].ts))
			{
				if (j < t.n && a.bars[i].ts == t.bars[j].ts)
					j++;		/* the exchange's bar wins */
				m.bars[m.n++] = a.bars[i++];
			}
			else
				m.bars[m.n++] = t.bars[j++];
		}
		pfree(a.bars);
		a = m;
	}
	pfree(t.bars);
	if (a.n == 0)
		bt_no_bars_error(mk);
	*nbars = a.n;
	return a.bars;
}

void
bt_no_bars_error(const BtMarket *mk)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("no closed candles for %s %s %s in [%s, %s)", mk->exchange, mk->symbol,
					DatumGetCString(DirectFunctionCall1(interval_out, mk->timeframe)),
					DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(mk->start))),
					DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(mk->finish))))));
}

/* a bar's time as timestamptz text, for messages */
char *
bt_ts_text(int64_t unix_us)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out,
											   TimestampTzGetDatum(ZVT_UNIX_TO_TS(unix_us))));
}
