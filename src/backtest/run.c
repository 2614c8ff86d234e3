/*-------------------------------------------------------------------------
 *
 * src/backtest/run.c
 *	  zvt.backtest: the SQL face of the backtest engine.
 *
 * Checks the arguments, reads the strategy and common parameters from the
 * params jsonb (params.c), loads the closed candles (bars.c; through a
 * cursor for a step function), turns each bar's close into a target (a
 * built-in strategy, the rows of a signals query, or a step function:
 * stepfn.c), runs the fill engine (engine.c) bar by bar, computes the
 * metrics (metrics.c) and stores the run with its trades and equity curve
 * as `store` asks (store.c).  Everything but the storing runs as the
 * caller, through SPI, with every name schema-qualified; store.c writes
 * as the tables' owner in the caller's name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/bars.h"
#include "backtest/params.h"
#include "backtest/stepfn.h"
#include "backtest/store.h"

PG_FUNCTION_INFO_V1(zvt_backtest);

/* trades as the engine closes them */
typedef struct TradeList
{
	BtTradeRecord *t;
	int			n;
	int			cap;
} TradeList;

/* where a run's targets come from */
typedef struct TargetSource
{
	BtStrategy	strat;			/* a built-in strategy */
	int64	   *sig_ts;			/* or a signals query's rows */
	double	   *sig_target;
	uint64		nsig;
	uint64		next_sig;
	BtStepFn   *step;			/* or a step function */
} TargetSource;

/*
 * A run in progress: what each bar updates.  The arrays are allocated
 * before the bars are read and grown with repalloc, so they stay in the
 * function's memory context even when a bar is run from inside a query.
 */
typedef struct RunState
{
	BtEngine	eng;
	TradeList	trades;
	TargetSource src;
	bool		is_signals;
	bool		is_step;
	BtEquityPoint *points;		/* one per bar */
	double	   *cash;			/* after each bar; NULL for store => */
	double	   *pos;			/* 'metrics', which keeps no equity rows */
	int64		npoints;
	int64		cap;
	double		first_close;
	double		last_close;
	/* params funding: the instrument's funding times in [start, finish) */
	int64		nfunding;
	int64		next_funding;	/* the first not yet charged */
	int64	   *funding_ts;		/* us since the epoch, ascending */
	double	   *funding_mark;	/* NaN: the close before it */
	double	   *funding_rate;
} RunState;

static void keep_trade(void *arg, const BtTradeRecord *trade);
static void load_funding(RunState *st, const BtMarket *mk);
static void charge_funding(RunState *st, int64 upto);
static void run_bar(RunState *st, const BtBar *bar, HeapTuple row, TupleDesc row_desc);
static void load_signals(TargetSource *src, const char *signals);
static void set_target(BtEngine *eng, const char *source, double target, int64_t ts);

static void
keep_trade(void *arg, const BtTradeRecord *trade)
{
	TradeList  *l = arg;

	/* repalloc: l->t stays in its context, not the executor's */
	if (l->n == l->cap)
	{
		l->cap *= 2;
		l->t = repalloc_huge(l->t, sizeof(BtTradeRecord) * l->cap);
	}
	l->t[l->n++] = *trade;
}

/*
 * The funding times of mk's instrument in [start, finish), each at the
 * rate and mark zvt.settle_funding() would use (zvt._funding_events), in
 * the run's memory context.  Read as the caller: zvt.funding is public.
 */
static void
load_funding(RunState *st, const BtMarket *mk)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[4] = {CStringGetTextDatum(mk->exchange), CStringGetTextDatum(mk->symbol),
	TimestampTzGetDatum(mk->start), TimestampTzGetDatum(mk->finish)};
	MemoryContext cxt = CurrentMemoryContext;

	if (SPI_execute_with_args("SELECT (extract(epoch FROM e.funding_time) * 1000000)::int8, e.mark_price, e.funding_rate"
							  "  FROM zvt._funding_events(zvt._instrument_id($1, $2), $3, $4) e"
							  " ORDER BY e.funding_time",
							  4, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the funding of %s %s", mk->exchange, mk->symbol);
	st->nfunding = (int64) SPI_processed;
	st->funding_ts = MemoryContextAlloc(cxt, sizeof(int64) * (st->nfunding + 1));
	st->funding_mark = MemoryContextAlloc(cxt, sizeof(double) * (st->nfunding + 1));
	st->funding_rate = MemoryContextAlloc(cxt, sizeof(double) * (st->nfunding + 1));
	for (int64 i = 0; i < st->nfunding; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		x;

		st->funding_ts[i] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		x = SPI_getbinval(t, d, 2, &isnull);
		st->funding_mark[i] = isnull ? NAN : DatumGetFloat8(x);
		st->funding_rate[i] = DatumGetFloat8(SPI_getbinval(t, d, 3, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
}

/* Charge the funding times at or before upto (us since the epoch). */
static void
charge_funding(RunState *st, int64 upto)
{
	for (; st->next_funding < st->nfunding && st->funding_ts[st->next_funding] <= upto; st->next_funding++)
	{
		double		mark = st->funding_mark[st->next_funding];

		/* OKX's funding-rate channel has no mark: the last close before */
		bt_engine_funding(&st->eng, isnan(mark) ? st->eng.last_close : mark,
						  st->funding_rate[st->next_funding]);
	}
}

/*
 * One bar: the engine fills at its open and walks it, its close is
 * recorded, then the target decided at that close goes to the engine for
 * the next open.  row is the bar's zvt.candles_v row for a step function.
 */
static void
run_bar(RunState *st, const BtBar *bar, HeapTuple row, TupleDesc row_desc)
{
	TargetSource *src = &st->src;
	bool		inpos;
	double		eq;
	double		target = 0;

	/* funding times up to this open: paid by the position held through them */
	charge_funding(st, bar->ts);
	eq = bt_engine_bar(&st->eng, bar, &inpos);

	if (st->npoints == st->cap)
	{
		st->cap *= 2;
		st->points = repalloc_huge(st->points, sizeof(BtEquityPoint) * st->cap);
		if (st->cash)
		{
			st->cash = repalloc_huge(st->cash, sizeof(double) * st->cap);
			st->pos = repalloc_huge(st->pos, sizeof(double) * st->cap);
		}
	}
	st->points[st->npoints].ts = bar->ts;
	st->points[st->npoints].equity = eq;
	st->points[st->npoints].in_position = inpos;
	if (st->cash)
	{
		st->cash[st->npoints] = st->eng.cash;
		st->pos[st->npoints] = st->eng.pos;
	}
	st->npoints++;
	if (st->npoints == 1)
		st->first_close = bar->close;
	st->last_close = bar->close;

	if (st->is_step)
	{
		if (bt_stepfn_call(src->step, row, row_desc, &target))
			set_target(&st->eng, "step_fn", target, bar->ts);
	}
	else if (st->is_signals)
	{
		if (src->next_sig < src->nsig && src->sig_ts[src->next_sig] <= bar->ts)
		{
			while (src->next_sig < src->nsig && src->sig_ts[src->next_sig] <= bar->ts)
				target = src->sig_target[src->next_sig++];
			set_target(&st->eng, "signal", target, bar->ts);
		}
	}
	else
		bt_engine_target(&st->eng, bt_strategy_step(&src->strat, bar->high, bar->low, bar->close));
}


/*
 * Run the signals query as the caller; row (ts, target) is the target
 * decided at the close of the bar opening at ts (or the latest bar before
 * ts).
 */
static void
load_signals(TargetSource *src, const char *signals)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q, "SELECT s.ts::pg_catalog.timestamptz, s.target::pg_catalog.float8"
					 " FROM (%s) s (ts, target) ORDER BY 1", signals);
	if (SPI_execute(q.data, true, 0) != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("signals must be a query returning (ts, target)")));
	src->nsig = SPI_processed;
	src->sig_ts = palloc(sizeof(int64) * (src->nsig + 1));
	src->sig_target = palloc(sizeof(double) * (src->nsig + 1));
	for (uint64 r = 0; r < src->nsig; r++)
	{
		bool		n1,
					n2;
		Datum		ts = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &n1);
		Datum		tg = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &n2);

		if (n1 || n2)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("signals returned a NULL ts or target")));
		src->sig_ts[r] = ZVT_TS_TO_UNIX(DatumGetTimestampTz(ts));
		src->sig_target[r] = DatumGetFloat8(tg);
	}
	SPI_freetuptable(SPI_tuptable);
}

/* hand a user's target to the engine; 22023 naming the bar if it is bad */
static void
set_target(BtEngine *eng, const char *source, double target, int64_t ts)
{
	if (!bt_engine_target(eng, target))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s target %g at %s is out of range", source, target, bt_ts_text(ts)),
				 errhint(eng->cfg.allow_short ? "Targets lie in [-1, 1]."
						 : "Targets lie in [0, 1]; negative ones need \"allow_short\": true.")));
}

/*
 * zvt.backtest(strategy, exchange, symbol, timeframe, start, finish,
 * params, initial_cash, fee_bps, slippage_bps, signals, step_fn, store)
 */
Datum
zvt_backtest(PG_FUNCTION_ARGS)
{
	char	   *strategy = bt_text_arg(fcinfo, 0, "strategy");
	BtMarket	mk;
	Jsonb	   *params;
	char	   *store_s;
	BtStoreKind store;
	BtConfig	cfg = {0};
	BtStrategyParams sp = {0};
	BtParamNames pn;
	RunState   *st = palloc0(sizeof(RunState));
	BtStepFn	step;
	BtTrade    *bt;
	BtMetrics	m;
	BtArgs		a;
	BtRunDesc	desc;
	int64		run_id;
	Datum		result;
	HeapTuple	row;
	TupleDesc	row_desc;
	char	   *signals;
	bool		is_signals = strcmp(strategy, "signals") == 0;
	bool		is_step = strcmp(strategy, "step_fn") == 0;

	mk.exchange = bt_text_arg(fcinfo, 1, "exchange");
	mk.symbol = bt_text_arg(fcinfo, 2, "symbol");
	for (int i = 3; i <= 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null",
							i == 3 ? "timeframe" : i == 4 ? "start" : i == 5 ? "finish" : "params")));
	mk.timeframe = PG_GETARG_DATUM(3);
	mk.start = PG_GETARG_TIMESTAMPTZ(4);
	mk.finish = PG_GETARG_TIMESTAMPTZ(5);
	params = PG_GETARG_JSONB_P(6);
	cfg.initial_cash = bt_numeric_arg(fcinfo, 7, "initial_cash");
	cfg.fee_bps = bt_numeric_arg(fcinfo, 8, "fee_bps");
	cfg.slippage_bps = bt_numeric_arg(fcinfo, 9, "slippage_bps");
	cfg.size_pct = 100;
	signals = PG_ARGISNULL(10) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(10));
	store_s = bt_text_arg(fcinfo, 12, "store");
	if ((signals != NULL) != is_signals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(signals ? "signals => needs strategy 'signals', not \"%s\""
						: "strategy \"%s\" needs a signals => query", strategy)));
	if (!PG_ARGISNULL(11) != is_step)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(is_step ? "strategy \"%s\" needs a step_fn => function"
						: "step_fn => needs strategy 'step_fn', not \"%s\"", strategy),
				 errhint("A step function is declared as"
						 " f(bar zvt.candles_v, INOUT state jsonb, OUT target float8).")));

	if (mk.finish <= mk.start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("finish must be later than start")));
	bt_check_costs(&cfg);
	if (strcmp(store_s, "metrics") == 0)
		store = BT_STORE_METRICS;
	else if (strcmp(store_s, "trades") == 0)
		store = BT_STORE_TRADES;
	else if (strcmp(store_s, "all") == 0)
		store = BT_STORE_ALL;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown store \"%s\"", store_s),
				 errhint("store is metrics, trades or all.")));

	SPI_connect();
	bt_lookup_strategy(strategy, true, &sp, &pn);
	bt_read_params(params, &pn, &sp, &cfg);
	st->is_signals = is_signals;
	st->is_step = is_step;
	if (is_signals)
		load_signals(&st->src, signals);
	if (is_step)
	{
		bt_stepfn_open(&step, PG_GETARG_OID(11));
		st->src.step = &step;
	}
	else
	{
		double	   *ring = palloc0(sizeof(double) * (bt_strategy_ring_len(&sp) + 1));

		bt_strategy_init(&st->src.strat, &sp, ring);
	}
	st->cap = 1024;
	st->points = palloc(sizeof(BtEquityPoint) * st->cap);
	if (store != BT_STORE_METRICS)
	{
		/* kept for the equity rows only */
		st->cash = palloc(sizeof(double) * st->cap);
		st->pos = palloc(sizeof(double) * st->cap);
	}
	st->trades.cap = 64;
	st->trades.t = palloc(sizeof(BtTradeRecord) * st->trades.cap);
	bt_engine_init(&st->eng, &cfg, keep_trade, &st->trades);
	if (cfg.funding)
		load_funding(st, &mk);

	/*
	 * The bars: loaded at once for the built-ins and signals (the fastest
	 * read: no row copied, no sort); through a cursor for a step function,
	 * which is called between fetches rather than inside the bars' query.
	 */
	if (!is_step)
	{
		int64		nbars;
		BtBar	   *bars = bt_load_bars(&mk, &nbars);

		for (int64 i = 0; i < nbars; i++)
			run_bar(st, &bars[i], NULL, NULL);
		pfree(bars);
	}
	else
	{
		Portal		portal = bt_open_bars(&mk);

		for (;;)
		{
			SPITupleTable *tt;
			uint64		nrows;

			SPI_cursor_fetch(portal, true, 1000);
			/* kept: the step function's own SPI calls come in between */
			tt = SPI_tuptable;
			nrows = SPI_processed;
			if (nrows == 0)
				break;
			for (uint64 r = 0; r < nrows; r++)
			{
				BtBar		bar;

				bt_bar_from_tuple(tt->vals[r], tt->tupdesc, &bar);
				run_bar(st, &bar, tt->vals[r], tt->tupdesc);
				CHECK_FOR_INTERRUPTS();
			}
			SPI_freetuptable(tt);
		}
		SPI_cursor_close(portal);
		bt_stepfn_close(&step);
	}
	if (st->npoints == 0)
		bt_no_bars_error(&mk);

	/* funding times after the last open, then close what is open at the last close */
	charge_funding(st, PG_INT64_MAX);
	st->points[st->npoints - 1].equity = bt_engine_finish(&st->eng);
	if (st->cash)
	{
		st->cash[st->npoints - 1] = st->eng.cash;
		st->pos[st->npoints - 1] = 0;
	}

	bt = palloc(sizeof(BtTrade) * (st->trades.n + 1));
	for (int i = 0; i < st->trades.n; i++)
	{
		bt[i].pnl = st->trades.t[i].pnl;
		bt[i].fees = st->trades.t[i].fees;
	}
	bt_metrics(&m, cfg.initial_cash, st->points, st->npoints, bt, st->trades.n,
			   st->first_close, st->last_close);
	if (!bt_results_finite(&m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backtest results out of range: final equity %g, fees %g",
						m.final_equity, m.fees),
				 errdetail("The prices of %s %s multiplied by the position overflow a float8.",
						   mk.exchange, mk.symbol),
				 errhint("Use a smaller initial_cash or qty.")));

	/* the run */
	desc.strategy = strategy;
	desc.market = &mk;
	desc.params = params;
	desc.cfg = &cfg;
	desc.store = store_s;
	desc.bars = st->npoints;
	desc.first_ts = st->points[0].ts;
	desc.last_ts = st->points[st->npoints - 1].ts;
	desc.open_at_end = st->trades.n > 0 && st->trades.t[st->trades.n - 1].exit == BT_EXIT_END;
	bt_run_args(&a, &desc, &m);
	row = bt_store_run(&a, &row_desc, &run_id);
	result = PointerGetDatum(SPI_returntuple(row, row_desc));

	if (store != BT_STORE_METRICS)
		bt_store_details(run_id, store, st->trades.t, st->trades.n, st->points,
						 st->cash, st->pos, st->npoints, cfg.initial_cash);

	SPI_finish();
	PG_RETURN_DATUM(result);
}
