/*-------------------------------------------------------------------------
 *
 * src/backtest/backtest_glue.c
 *	  Argument and params checks, the bar cursor and the backtest_runs row,
 *	  shared by zvt.backtest and zvt.backtest_grid.
 *
 * Runs of a grid are stored in batches: one INSERT of up to BT_RUN_BATCH
 * rows, the columns the runs share as scalars and the others unnested
 * from arrays in step.
 *
 * Params are a jsonb object read through jsonb_each over SPI; each key is
 * applied by bt_apply_param(), which the grid also uses to check its
 * values.  Bars come through SPI: zvt.ohlcv rolls any timeframe up from
 * stored 1-minute candles and checks exchange, symbol and timeframe; for
 * 1-minute bars the stored candles are the bars, by the same rule (the
 * exchange's candle wins over one built from trades, closed ones only),
 * read by backtest_read.c without the executor unless it declines, then
 * by two plain range queries.  Everything runs as the caller in the
 * caller's SPI connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/backtest_glue.h"

static int32 instrument_id(const BtMarket *mk);
static void add(BtArgs *a, Oid type, Datum v, bool isnull);
static bool varying(int col);
static char *batch_sql(void);
static void add_f8(BtArgs *a, double v);
static void add_ts(BtArgs *a, int64_t unix_us, bool isnull);

static const char *const common_params[] = {
	"size_pct", "qty", "allow_short", "stop_loss_pct", "take_profit_pct", "trailing_stop_pct"
};

char *
bt_text_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

double
bt_numeric_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(n)));
}

/* 22023 unless initial_cash, fee_bps and slippage_bps are usable */
void
bt_check_costs(const BtConfig *cfg)
{
	if (!(cfg->initial_cash > 0 && isfinite(cfg->initial_cash)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial_cash must be positive")));
	if (!(cfg->fee_bps >= 0 && cfg->fee_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fee_bps must be between 0 and 10000, not %g", cfg->fee_bps)));
	if (!(cfg->slippage_bps >= 0 && cfg->slippage_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("slippage_bps must be between 0 and 10000, not %g", cfg->slippage_bps)));
}

/*
 * Look the strategy up and set its default params into *sp; pn gets the
 * names for the checks and hints.  user_kinds admits 'signals' and
 * 'step_fn' (whose targets come from outside, so they have no params of
 * their own).  An unknown strategy is 22023 listing the accepted ones.
 */
void
bt_lookup_strategy(const char *strategy, bool user_kinds,
				   BtStrategyParams *sp, BtParamNames *pn)
{
	const double *defaults = NULL;
	StringInfoData accepted;

	pn->strategy = strategy;
	pn->source = "params";
	pn->names = NULL;
	pn->nparams = 0;
	if (user_kinds && (strcmp(strategy, "signals") == 0 || strcmp(strategy, "step_fn") == 0))
		sp->kind = BT_BUY_AND_HOLD; /* not stepped: targets come from outside */
	else if (!bt_strategy_lookup(strategy, &sp->kind, &pn->names, &pn->nparams, &defaults))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown strategy \"%s\"", strategy),
				 user_kinds
				 ? errhint("Strategies are %s, signals with a signals query and step_fn with a step function.",
						   bt_strategy_names())
				 : errhint("Strategies are %s.", bt_strategy_names())));
	for (int i = 0; i < pn->nparams; i++)
		sp->p[i] = defaults[i];

	initStringInfo(&accepted);
	for (int i = 0; i < pn->nparams; i++)
		appendStringInfo(&accepted, "%s, ", pn->names[i]);
	appendStringInfoString(&accepted, BT_COMMON_PARAMS);
	pn->accepted = accepted.data;
}

static bool
is_common(const char *key)
{
	for (size_t i = 0; i < lengthof(common_params); i++)
		if (strcmp(key, common_params[i]) == 0)
			return true;
	return false;
}

/*
 * Apply one params key: type is jsonb_typeof's name for the value, value
 * its text.  Unknown keys, wrong types and out-of-range common params are
 * 22023; the strategy's own params are checked together later
 * (bt_strategy_check), since fast < slow is about two of them.
 */
void
bt_apply_param(const BtParamNames *pn, const char *key, const char *type,
			   const char *value, BtStrategyParams *sp, BtConfig *cfg)
{
	bool		number = strcmp(type, "number") == 0;
	double		num = number ? strtod(value, NULL) : NAN;
	int			own = -1;

	for (int i = 0; i < pn->nparams; i++)
		if (strcmp(key, pn->names[i]) == 0)
			own = i;
	if (own < 0 && !is_common(key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown parameter \"%s\" for strategy %s", key, pn->strategy),
				 errhint("Parameters are %s.", pn->accepted)));
	if (strcmp(key, "allow_short") == 0)
	{
		if (strcmp(type, "boolean") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.allow_short must be true or false, not %s", pn->source, value)));
		cfg->allow_short = strcmp(value, "true") == 0;
		sp->allow_short = cfg->allow_short;
		return;
	}
	if (!number)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s.%s must be a number, not %s", pn->source, key, value)));
	if (own >= 0)
		sp->p[own] = num;
	else if (strcmp(key, "size_pct") == 0)
	{
		if (!(num > 0 && num <= 100))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.size_pct must be in (0, 100], not %s", pn->source, value)));
		cfg->size_pct = num;
	}
	else if (strcmp(key, "qty") == 0)
	{
		if (!(num > 0 && isfinite(num)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.qty must be a positive number, not %s", pn->source, value)));
		cfg->qty = num;
	}
	else
	{
		/* stop_loss_pct, take_profit_pct, trailing_stop_pct */
		bool		tp = strcmp(key, "take_profit_pct") == 0;

		if (!(num > 0 && (tp ? isfinite(num) : num < 100)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.%s must be a percentage %s, not %s", pn->source, key,
							tp ? "> 0" : "in (0, 100)", value)));
		if (key[0] == 's')
			cfg->stop_loss_pct = num;
		else if (tp)
			cfg->take_profit_pct = num;
		else
			cfg->trailing_stop_pct = num;
	}
}

/*
 * Read params over the defaults in *sp and *cfg: the strategy's own and
 * the common ones, then the strategy's check (22023 with its reason).
 */
void
bt_read_params(Jsonb *params, const BtParamNames *pn, BtStrategyParams *sp, BtConfig *cfg)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {JsonbPGetDatum(params)};
	const char *why;

	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object"),
				 errhint("Keys for %s are %s.", pn->strategy, pn->accepted)));

	if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value::pg_catalog.text"
							  " FROM pg_catalog.jsonb_each($1)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read backtest params");

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;

		bt_apply_param(pn, SPI_getvalue(tup, td, 1), SPI_getvalue(tup, td, 2),
					   SPI_getvalue(tup, td, 3), sp, cfg);
	}
	if (!bt_strategy_check(sp, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid parameters for %s: %s", pn->strategy, why)));
}

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
 * Call fn for each closed bar of the market, straight from the executor:
 * no row is copied, which is most of what reading a bar costs.  The bars
 * come in time order only if ordered asks for it (a sort).  fn may raise
 * an error.  Returns the number of bars.
 */
/* run a bars query (bars_query's arguments) with fn called on each row */
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

int64
bt_scan_bars(const BtMarket *mk, bool ordered, BtBarFn fn, void *arg)
{
	return scan_query(mk, bars_query(mk, false, ordered), fn, arg);
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
		bt_scan_bars(mk, false, append_bar, &a);
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

static void
add(BtArgs *a, Oid type, Datum v, bool isnull)
{
	a->types[a->n] = type;
	a->values[a->n] = v;
	a->nulls[a->n] = isnull ? 'n' : ' ';
	a->n++;
}

/* NaN and infinities (undefined metrics) are stored as NULL */
static void
add_f8(BtArgs *a, double v)
{
	add(a, FLOAT8OID, Float8GetDatum(isnan(v) || isinf(v) ? 0 : v), isnan(v) || isinf(v));
}

static void
add_ts(BtArgs *a, int64_t unix_us, bool isnull)
{
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(ZVT_UNIX_TO_TS(unix_us)), isnull);
}

/* INSERT of one backtest_runs row RETURNING it; bt_run_args() fills $1..$37 */
const char *
bt_run_insert_sql(void)
{
	return "INSERT INTO zvt.backtest_runs (" BT_RUN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6,"
		" $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
		" $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37) RETURNING *";
}

/* the 37 arguments of bt_run_insert_sql() for one run; a->n restarts at 0 */
void
bt_run_args(BtArgs *a, const BtRunDesc *d, const BtMetrics *m)
{
	a->n = 0;
	add(a, TEXTOID, CStringGetTextDatum(d->strategy), false);
	add(a, TEXTOID, CStringGetTextDatum(d->market->exchange), false);
	add(a, TEXTOID, CStringGetTextDatum(d->market->symbol), false);
	add(a, INTERVALOID, d->market->timeframe, false);
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(d->market->start), false);
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(d->market->finish), false);
	add(a, JSONBOID, JsonbPGetDatum(d->params), false);
	add_f8(a, d->cfg->initial_cash);
	add_f8(a, d->cfg->fee_bps);
	add_f8(a, d->cfg->slippage_bps);
	add(a, TEXTOID, CStringGetTextDatum(d->store), false);
	add(a, INT8OID, Int64GetDatum(d->bars), false);
	add_ts(a, d->first_ts, false);
	add_ts(a, d->last_ts, false);
	add_f8(a, m->final_equity);
	add_f8(a, m->total_return);
	add_f8(a, m->cagr);
	add_f8(a, m->volatility);
	add_f8(a, m->sharpe);
	add_f8(a, m->sortino);
	add_f8(a, m->calmar);
	add_f8(a, m->max_drawdown);
	add_f8(a, m->max_drawdown_pct);
	add_ts(a, m->max_drawdown_start, m->max_drawdown == 0);
	add_ts(a, m->max_drawdown_end, m->max_drawdown == 0);
	add(a, INT8OID, Int64GetDatum(m->trades), false);
	add_f8(a, m->win_rate);
	add_f8(a, m->profit_factor);
	add_f8(a, m->expectancy);
	add_f8(a, m->avg_win);
	add_f8(a, m->avg_loss);
	add_f8(a, m->best_trade);
	add_f8(a, m->worst_trade);
	add_f8(a, m->exposure * 100);
	add(a, FLOAT8OID, Float8GetDatum(m->fees), false);
	add_f8(a, m->market_change);
	add(a, BOOLOID, BoolGetDatum(d->open_at_end), false);
}

/* whether a column of bt_run_args() differs between the runs of a grid */
static bool
varying(int col)
{
	return col == BT_RUN_PARAMS_ARG || col >= BT_RUN_METRICS_ARG;
}

/*
 * The INSERT of a batch: the fixed columns as scalars, the varying ones
 * unnested from arrays in step, in their order (so run ids follow it).
 */
static char *
batch_sql(void)
{
	StringInfoData q;
	bool		first = true;

	initStringInfo(&q);
	appendStringInfoString(&q, "INSERT INTO zvt.backtest_runs (" BT_RUN_COLUMNS ") SELECT ");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		appendStringInfo(&q, varying(c) ? "%su.c%d" : "%s$%d", c ? ", " : "",
						 varying(c) ? c : c + 1);
	appendStringInfoString(&q, " FROM ROWS FROM (");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			appendStringInfo(&q, "%spg_catalog.unnest($%d)", first ? "" : ", ", c + 1);
			first = false;
		}
	appendStringInfoString(&q, ") WITH ORDINALITY AS u (");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
			appendStringInfo(&q, "c%d, ", c);
	appendStringInfoString(&q, "ord) ORDER BY u.ord RETURNING *");
	return q.data;
}

/* an empty batch, its arrays in the current memory context */
void
bt_run_batch_init(BtRunBatch *b)
{
	b->n = 0;
	b->sql = batch_sql();
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			b->values[c] = palloc(sizeof(Datum) * BT_RUN_BATCH);
			b->nulls[c] = palloc(sizeof(bool) * BT_RUN_BATCH);
		}
}

/*
 * Keep one run's arguments, of the same grid as the others; they must
 * stay allocated until bt_run_batch_flush().  At most BT_RUN_BATCH.
 */
void
bt_run_batch_add(BtRunBatch *b, const BtArgs *a)
{
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			b->values[c][b->n] = a->values[c];
			b->nulls[c][b->n] = a->nulls[c] == 'n';
		}
	b->last = *a;
	b->n++;
}

/* store the batch and hand the stored rows to the tuplestore */
void
bt_run_batch_flush(BtRunBatch *b, Tuplestorestate *out)
{
	Datum		args[BT_RUN_NARGS];
	char		nulls[BT_RUN_NARGS];
	Oid			types[BT_RUN_NARGS];

	if (b->n == 0)
		return;
	for (int c = 0; c < BT_RUN_NARGS; c++)
	{
		Oid			elem = b->last.types[c];

		types[c] = elem;
		args[c] = b->last.values[c];
		nulls[c] = b->last.nulls[c];
		if (varying(c))
		{
			int16		typlen;
			bool		typbyval;
			char		typalign;
			int			dims[1] = {b->n};
			int			lbs[1] = {1};

			get_typlenbyvalalign(elem, &typlen, &typbyval, &typalign);
			types[c] = get_array_type(elem);
			args[c] = PointerGetDatum(construct_md_array(b->values[c], b->nulls[c], 1, dims, lbs,
														 elem, typlen, typbyval, typalign));
			nulls[c] = ' ';
		}
	}
	if (SPI_execute_with_args(b->sql, BT_RUN_NARGS, types, args, nulls, false, 0) !=
		SPI_OK_INSERT_RETURNING || SPI_processed != (uint64) b->n)
		elog(ERROR, "could not store the backtest_grid runs");
	for (uint64 r = 0; r < SPI_processed; r++)
		tuplestore_puttuple(out, SPI_tuptable->vals[r]);
	SPI_freetuptable(SPI_tuptable);
	b->n = 0;
}
