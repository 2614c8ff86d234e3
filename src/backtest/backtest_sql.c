/*-------------------------------------------------------------------------
 *
 * src/backtest/backtest_sql.c
 *	  zvt.backtest: the SQL face of the backtest engine.
 *
 * Checks the arguments, reads the strategy and common parameters from the
 * params jsonb, loads the closed candles of zvt.ohlcv through a cursor,
 * runs the built-in strategy through the fill engine (backtest_engine.c)
 * bar by bar, computes the metrics (backtest_metrics.c) and stores the run
 * with its trades and equity curve as `store` asks.  Everything runs as
 * the caller, through SPI, with every name schema-qualified.
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

#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/backtest_engine.h"
#include "backtest/backtest_metrics.h"
#include "backtest/backtest_strategy.h"

PG_FUNCTION_INFO_V1(zvt_backtest);

#define COMMON_PARAMS "size_pct, qty, allow_short, stop_loss_pct, take_profit_pct, trailing_stop_pct"

typedef enum StoreKind
{
	STORE_METRICS,
	STORE_TRADES,
	STORE_ALL
} StoreKind;

/* trades as the engine closes them */
typedef struct TradeList
{
	BtTradeRecord *t;
	int			n;
	int			cap;
} TradeList;

static void
keep_trade(void *arg, const BtTradeRecord *trade)
{
	TradeList  *l = arg;

	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 64;
		l->t = l->t ? repalloc_huge(l->t, sizeof(BtTradeRecord) * l->cap)
			: palloc(sizeof(BtTradeRecord) * l->cap);
	}
	l->t[l->n++] = *trade;
}

static double
numeric_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(n)));
}

static char *
text_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * Read params: the strategy's own (defaults first) and the common ones.
 * Unknown keys and wrong types are 22023 naming what is accepted.
 */
static void
read_params(Jsonb *params, const char *strategy, BtStrategyParams *sp, BtConfig *cfg)
{
	const char *const *names;
	const double *defaults;
	int			nparams;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {JsonbPGetDatum(params)};
	StringInfoData accepted;
	const char *why;

	if (strcmp(strategy, "signals") == 0)
	{
		sp->kind = BT_BUY_AND_HOLD; /* not stepped: the query gives targets */
		nparams = 0;
		names = NULL;
		defaults = NULL;
	}
	else if (!bt_strategy_lookup(strategy, &sp->kind, &names, &nparams, &defaults))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown strategy \"%s\"", strategy),
				 errhint("Strategies are %s, and signals with a signals query.",
						 bt_strategy_names())));
	for (int i = 0; i < nparams; i++)
		sp->p[i] = defaults[i];

	initStringInfo(&accepted);
	for (int i = 0; i < nparams; i++)
		appendStringInfo(&accepted, "%s, ", names[i]);
	appendStringInfoString(&accepted, COMMON_PARAMS);

	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object"),
				 errhint("Keys for %s are %s.", strategy, accepted.data)));

	if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value::pg_catalog.text"
							  " FROM pg_catalog.jsonb_each($1)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read backtest params");

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;
		char	   *key = SPI_getvalue(tup, td, 1);
		char	   *type = SPI_getvalue(tup, td, 2);
		char	   *value = SPI_getvalue(tup, td, 3);
		double		num = strcmp(type, "number") == 0 ? strtod(value, NULL) : NAN;
		bool		found = false;

		if (strcmp(key, "allow_short") == 0)
		{
			if (strcmp(type, "boolean") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params.allow_short must be true or false, not %s", value)));
			cfg->allow_short = strcmp(value, "true") == 0;
			sp->allow_short = cfg->allow_short;
			continue;
		}
		if (strcmp(type, "number") != 0)
		{
			for (int i = 0; i < nparams; i++)
				found |= strcmp(key, names[i]) == 0;
			if (found || strstr(COMMON_PARAMS, key))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params.%s must be a number, not %s", key, value)));
		}
		for (int i = 0; i < nparams && !found; i++)
			if (strcmp(key, names[i]) == 0)
			{
				sp->p[i] = num;
				found = true;
			}
		if (found)
			continue;
		if (strcmp(key, "size_pct") == 0)
		{
			if (!(num > 0 && num <= 100))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params.size_pct must be in (0, 100], not %s", value)));
			cfg->size_pct = num;
		}
		else if (strcmp(key, "qty") == 0)
		{
			if (!(num > 0 && isfinite(num)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params.qty must be a positive number, not %s", value)));
			cfg->qty = num;
		}
		else if (strcmp(key, "stop_loss_pct") == 0 ||
				 strcmp(key, "take_profit_pct") == 0 ||
				 strcmp(key, "trailing_stop_pct") == 0)
		{
			bool		tp = key[0] == 't' && key[1] == 'a';

			if (!(num > 0 && (tp ? isfinite(num) : num < 100)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params.%s must be a percentage %s, not %s", key,
								tp ? "> 0" : "in (0, 100)", value)));
			if (key[0] == 's')
				cfg->stop_loss_pct = num;
			else if (tp)
				cfg->take_profit_pct = num;
			else
				cfg->trailing_stop_pct = num;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown parameter \"%s\" for strategy %s", key, strategy),
					 errhint("Parameters are %s.", accepted.data)));
	}
	if (!bt_strategy_check(sp, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid parameters for %s: %s", strategy, why)));
}

/* parameter lists for SPI statements */
typedef struct Args
{
	int			n;
	Oid			types[48];
	Datum		values[48];
	char		nulls[48];
} Args;

static void
add(Args *a, Oid type, Datum v, bool isnull)
{
	a->types[a->n] = type;
	a->values[a->n] = v;
	a->nulls[a->n] = isnull ? 'n' : ' ';
	a->n++;
}

static void
add_f8(Args *a, double v)
{
	add(a, FLOAT8OID, Float8GetDatum(isnan(v) || isinf(v) ? 0 : v), isnan(v) || isinf(v));
}

static void
add_ts(Args *a, int64_t unix_us, bool isnull)
{
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(ZVT_UNIX_TO_TS(unix_us)), isnull);
}

Datum
zvt_backtest(PG_FUNCTION_ARGS)
{
	char	   *strategy = text_arg(fcinfo, 0, "strategy");
	char	   *exchange = text_arg(fcinfo, 1, "exchange");
	char	   *symbol = text_arg(fcinfo, 2, "symbol");
	Datum		timeframe = PG_GETARG_DATUM(3);
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(4);
	TimestampTz finish = PG_GETARG_TIMESTAMPTZ(5);
	Jsonb	   *params;
	char	   *store_s;
	StoreKind	store;
	BtConfig	cfg = {0};
	BtStrategyParams sp = {0};
	BtStrategy	strat;
	BtEngine	eng;
	TradeList	trades = {NULL, 0, 0};
	BtEquityPoint *points = NULL;
	double	   *cash = NULL,
			   *pos = NULL;
	int64		npoints = 0,
				cap = 0;
	double		first_close = 0,
				last_close = 0;
	BtTrade    *bt;
	BtMetrics	m;
	Portal		portal;
	Args		a = {0};
	Oid			load_types[5] = {TEXTOID, TEXTOID, INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		load_args[5];
	int64		run_id;
	Datum		result;
	HeapTuple	row;
	bool		isnull;
	char	   *signals;
	int64	   *sig_ts = NULL;
	double	   *sig_target = NULL;
	uint64		nsig = 0,
				next_sig = 0;

	for (int i = 3; i <= 6; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null",
							i == 3 ? "timeframe" : i == 4 ? "start" : i == 5 ? "finish" : "params")));
	params = PG_GETARG_JSONB_P(6);
	cfg.initial_cash = numeric_arg(fcinfo, 7, "initial_cash");
	cfg.fee_bps = numeric_arg(fcinfo, 8, "fee_bps");
	cfg.slippage_bps = numeric_arg(fcinfo, 9, "slippage_bps");
	cfg.size_pct = 100;
	signals = PG_ARGISNULL(10) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(10));
	store_s = text_arg(fcinfo, 11, "store");
	if ((signals != NULL) != (strcmp(strategy, "signals") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(signals ? "signals => needs strategy 'signals', not \"%s\""
						: "strategy \"%s\" needs a signals => query", strategy)));

	if (finish <= start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("finish must be later than start")));
	if (!(cfg.initial_cash > 0 && isfinite(cfg.initial_cash)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial_cash must be positive")));
	if (!(cfg.fee_bps >= 0 && cfg.fee_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fee_bps must be between 0 and 10000, not %g", cfg.fee_bps)));
	if (!(cfg.slippage_bps >= 0 && cfg.slippage_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("slippage_bps must be between 0 and 10000, not %g", cfg.slippage_bps)));
	if (strcmp(store_s, "metrics") == 0)
		store = STORE_METRICS;
	else if (strcmp(store_s, "trades") == 0)
		store = STORE_TRADES;
	else if (strcmp(store_s, "all") == 0)
		store = STORE_ALL;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown store \"%s\"", store_s),
				 errhint("store is metrics, trades or all.")));

	SPI_connect();
	read_params(params, strategy, &sp, &cfg);

	/*
	 * A signals query runs first, as the caller; row (ts, target) is the
	 * target decided at the close of the bar opening at ts (or the latest
	 * bar before ts).
	 */
	if (signals)
	{
		StringInfoData q;

		initStringInfo(&q);
		appendStringInfo(&q, "SELECT s.ts::pg_catalog.timestamptz, s.target::pg_catalog.float8"
						 " FROM (%s) s (ts, target) ORDER BY 1", signals);
		if (SPI_execute(q.data, true, 0) != SPI_OK_SELECT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("signals must be a query returning (ts, target)")));
		nsig = SPI_processed;
		sig_ts = palloc(sizeof(int64) * (nsig + 1));
		sig_target = palloc(sizeof(double) * (nsig + 1));
		for (uint64 r = 0; r < nsig; r++)
		{
			bool		n1,
						n2;
			Datum		ts = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &n1);
			Datum		tg = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &n2);

			if (n1 || n2)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("signals returned a NULL ts or target")));
			sig_ts[r] = ZVT_TS_TO_UNIX(DatumGetTimestampTz(ts));
			sig_target[r] = DatumGetFloat8(tg);
		}
		SPI_freetuptable(SPI_tuptable);
	}

	/*
	 * The bars, through a cursor.  zvt.ohlcv rolls up any timeframe and
	 * checks exchange, symbol and timeframe; for 1-minute bars the stored
	 * candles are the bars, so they are read directly with the same rule
	 * (the exchange's candle wins over one built from trades, closed only).
	 */
	load_args[0] = CStringGetTextDatum(exchange);
	load_args[1] = CStringGetTextDatum(symbol);
	load_args[2] = timeframe;
	load_args[3] = TimestampTzGetDatum(start);
	load_args[4] = TimestampTzGetDatum(finish);
	{
		Interval   *tf = DatumGetIntervalP(timeframe);

		if (tf->month == 0 && tf->day == 0 && tf->time == USECS_PER_MINUTE)
		{
			if (SPI_execute_with_args("SELECT zvt._instrument_id($1, $2)", 2, load_types,
									  load_args, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not look up the instrument");
			load_args[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			load_types[0] = INT4OID;
			portal = SPI_cursor_open_with_args(NULL,
											   "SELECT ts, open, high, low, close FROM ("
											   " SELECT DISTINCT ON (c.ts) c.ts, c.open, c.high, c.low, c.close, c.closed"
											   " FROM zvt.candles c WHERE c.instrument_id = $1"
											   " AND c.timeframe = $3 AND c.ts >= $4 AND c.ts < $5"
											   " ORDER BY c.ts, (c.source = 'exchange') DESC) m"
											   " WHERE m.closed ORDER BY m.ts",
											   5, load_types, load_args, NULL, true, 0);
		}
		else
			portal = SPI_cursor_open_with_args(NULL,
											   "SELECT ts, open, high, low, close FROM zvt.ohlcv($1, $2, $3, $4, $5)"
											   " WHERE closed ORDER BY ts",
											   5, load_types, load_args, NULL, true, 0);
	}

	{
		double	   *ring = palloc0(sizeof(double) * (bt_strategy_ring_len(&sp) + 1));

		bt_strategy_init(&strat, &sp, ring);
	}
	bt_engine_init(&eng, &cfg, keep_trade, &trades);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			BtBar		bar;
			bool		inpos;
			double		eq;

			bar.ts = ZVT_TS_TO_UNIX(DatumGetTimestampTz(SPI_getbinval(tup, td, 1, &isnull)));
			bar.open = DatumGetFloat8(SPI_getbinval(tup, td, 2, &isnull));
			bar.high = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
			bar.low = DatumGetFloat8(SPI_getbinval(tup, td, 4, &isnull));
			bar.close = DatumGetFloat8(SPI_getbinval(tup, td, 5, &isnull));

			eq = bt_engine_bar(&eng, &bar, &inpos);
			if (npoints == cap)
			{
				cap = cap ? cap * 2 : 1024;
				points = points ? repalloc_huge(points, sizeof(BtEquityPoint) * cap)
					: palloc(sizeof(BtEquityPoint) * cap);
				cash = cash ? repalloc_huge(cash, sizeof(double) * cap)
					: palloc(sizeof(double) * cap);
				pos = pos ? repalloc_huge(pos, sizeof(double) * cap)
					: palloc(sizeof(double) * cap);
			}
			points[npoints].ts = bar.ts;
			points[npoints].equity = eq;
			points[npoints].in_position = inpos;
			cash[npoints] = eng.cash;
			pos[npoints] = eng.pos;
			npoints++;
			if (npoints == 1)
				first_close = bar.close;
			last_close = bar.close;
			if (!signals)
				bt_engine_target(&eng, bt_strategy_step(&strat, bar.high, bar.low, bar.close));
			else if (next_sig < nsig && sig_ts[next_sig] <= bar.ts)
			{
				double		target = 0;

				while (next_sig < nsig && sig_ts[next_sig] <= bar.ts)
					target = sig_target[next_sig++];
				if (!bt_engine_target(&eng, target))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("signal target %g at %s is out of range", target,
									DatumGetCString(DirectFunctionCall1(timestamptz_out,
																		TimestampTzGetDatum(ZVT_UNIX_TO_TS(bar.ts))))),
							 errhint(cfg.allow_short ? "Targets lie in [-1, 1]."
									 : "Targets lie in [0, 1]; negative ones need \"allow_short\": true.")));
			}
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);

	if (npoints == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no closed candles for %s %s %s in [%s, %s)", exchange, symbol,
						DatumGetCString(DirectFunctionCall1(interval_out, timeframe)),
						DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(start))),
						DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(finish))))));

	/* close what is open at the last close; the curve ends after its costs */
	points[npoints - 1].equity = bt_engine_finish(&eng);
	cash[npoints - 1] = eng.cash;
	pos[npoints - 1] = 0;

	bt = palloc(sizeof(BtTrade) * (trades.n + 1));
	for (int i = 0; i < trades.n; i++)
	{
		bt[i].pnl = trades.t[i].pnl;
		bt[i].fees = trades.t[i].fees;
	}
	bt_metrics(&m, cfg.initial_cash, points, npoints, bt, trades.n, first_close, last_close);

	/* the run */
	add(&a, TEXTOID, CStringGetTextDatum(strategy), false);
	add(&a, TEXTOID, CStringGetTextDatum(exchange), false);
	add(&a, TEXTOID, CStringGetTextDatum(symbol), false);
	add(&a, INTERVALOID, timeframe, false);
	add(&a, TIMESTAMPTZOID, TimestampTzGetDatum(start), false);
	add(&a, TIMESTAMPTZOID, TimestampTzGetDatum(finish), false);
	add(&a, JSONBOID, JsonbPGetDatum(params), false);
	add_f8(&a, cfg.initial_cash);
	add_f8(&a, cfg.fee_bps);
	add_f8(&a, cfg.slippage_bps);
	add(&a, TEXTOID, CStringGetTextDatum(store_s), false);
	add(&a, INT8OID, Int64GetDatum(npoints), false);
	add_ts(&a, points[0].ts, false);
	add_ts(&a, points[npoints - 1].ts, false);
	add_f8(&a, m.final_equity);
	add_f8(&a, m.total_return);
	add_f8(&a, m.cagr);
	add_f8(&a, m.volatility);
	add_f8(&a, m.sharpe);
	add_f8(&a, m.sortino);
	add_f8(&a, m.calmar);
	add_f8(&a, m.max_drawdown);
	add_f8(&a, m.max_drawdown_pct);
	add_ts(&a, m.max_drawdown_start, m.max_drawdown == 0);
	add_ts(&a, m.max_drawdown_end, m.max_drawdown == 0);
	add(&a, INT8OID, Int64GetDatum(m.trades), false);
	add_f8(&a, m.win_rate);
	add_f8(&a, m.profit_factor);
	add_f8(&a, m.expectancy);
	add_f8(&a, m.avg_win);
	add_f8(&a, m.avg_loss);
	add_f8(&a, m.best_trade);
	add_f8(&a, m.worst_trade);
	add_f8(&a, m.exposure * 100);
	add(&a, FLOAT8OID, Float8GetDatum(m.fees), false);
	add_f8(&a, m.market_change);
	add(&a, BOOLOID, BoolGetDatum(trades.n > 0 && trades.t[trades.n - 1].exit == BT_EXIT_END), false);

	if (SPI_execute_with_args("INSERT INTO zvt.backtest_runs (strategy, exchange, symbol, timeframe,"
							  " start, finish, params, initial_cash, fee_bps, slippage_bps, store, bars,"
							  " first_bar, last_bar, final_equity, total_return, cagr, volatility, sharpe,"
							  " sortino, calmar, max_drawdown, max_drawdown_pct, max_drawdown_start,"
							  " max_drawdown_end, trades, win_rate, profit_factor, expectancy, avg_win,"
							  " avg_loss, best_trade, worst_trade, exposure_pct, fees_paid, market_change,"
							  " open_at_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
							  " $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,"
							  " $28, $29, $30, $31, $32, $33, $34, $35, $36, $37) RETURNING *",
							  a.n, a.types, a.values, a.nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the backtest run");
	row = SPI_copytuple(SPI_tuptable->vals[0]);
	{
		bool		isnull;

		run_id = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
	}
	result = PointerGetDatum(SPI_returntuple(row, SPI_tuptable->tupdesc));

	if (store != STORE_METRICS)
	{
		Oid			tt[11] = {INT8OID, INT4OID, TIMESTAMPTZOID, FLOAT8OID, TIMESTAMPTZOID,
		FLOAT8OID, FLOAT8OID, TEXTOID, FLOAT8OID, FLOAT8OID, TEXTOID};
		Oid			et[6] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
		SPIPlanPtr	tplan = SPI_prepare("INSERT INTO zvt.backtest_trades VALUES"
										" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, tt);
		SPIPlanPtr	eplan = SPI_prepare("INSERT INTO zvt.backtest_equity VALUES"
										" ($1, $2, $3, $4, $5, $6)", 6, et);
		double		peak = cfg.initial_cash;

		for (int i = 0; i < trades.n; i++)
		{
			BtTradeRecord *t = &trades.t[i];
			Datum		v[11];

			v[0] = Int64GetDatum(run_id);
			v[1] = Int32GetDatum(i + 1);
			v[2] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(t->entry_ts));
			v[3] = Float8GetDatum(t->entry_price);
			v[4] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(t->exit_ts));
			v[5] = Float8GetDatum(t->exit_price);
			v[6] = Float8GetDatum(t->qty);
			v[7] = CStringGetTextDatum(t->side > 0 ? "long" : "short");
			v[8] = Float8GetDatum(t->pnl);
			v[9] = Float8GetDatum(t->fees);
			v[10] = CStringGetTextDatum(bt_exit_name(t->exit));
			if (SPI_execute_plan(tplan, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not store a backtest trade");
		}
		for (int64 i = 0; i < npoints; i++)
		{
			Datum		v[6];
			double		eq = points[i].equity;

			if (eq > peak)
				peak = eq;
			/* daily: the last bar of each UTC day */
			if (store == STORE_TRADES && i + 1 < npoints &&
				points[i + 1].ts / BT_USEC_PER_DAY == points[i].ts / BT_USEC_PER_DAY)
				continue;
			v[0] = Int64GetDatum(run_id);
			v[1] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(points[i].ts));
			v[2] = Float8GetDatum(eq);
			v[3] = Float8GetDatum(cash[i]);
			v[4] = Float8GetDatum(pos[i]);
			v[5] = Float8GetDatum(peak > 0 ? (peak - eq) / peak : 0);
			if (SPI_execute_plan(eplan, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not store a backtest equity point");
			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}

	SPI_finish();
	PG_RETURN_DATUM(result);
}
