/*-------------------------------------------------------------------------
 *
 * src/backtest/backtest_glue.h
 *	  PostgreSQL glue shared by zvt.backtest (backtest_sql.c), its step
 *	  functions (backtest_stepfn.c) and zvt.backtest_grid
 *	  (backtest_grid.c): argument and params checks, the bar cursor and
 *	  the backtest_runs row.
 *
 * Every function here runs inside an SPI connection made by the caller,
 * as the caller (no SECURITY DEFINER anywhere), and reports bad input with
 * ereport 22023 / 22004 / 42704 as docs/backtesting.md lists.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_GLUE_H
#define ZVT_BACKTEST_GLUE_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "backtest/backtest_engine.h"
#include "backtest/backtest_metrics.h"
#include "backtest/backtest_strategy.h"

/* the params every strategy takes, for hints */
#define BT_COMMON_PARAMS \
	"size_pct, qty, allow_short, stop_loss_pct, take_profit_pct, trailing_stop_pct"

/* the market a run reads: (exchange, symbol, timeframe) in [start, finish) */
typedef struct BtMarket
{
	char	   *exchange;
	char	   *symbol;
	Datum		timeframe;		/* interval */
	TimestampTz start;
	TimestampTz finish;
} BtMarket;

/* a strategy's parameter names, as bt_strategy_lookup() gives them */
typedef struct BtParamNames
{
	const char *strategy;
	const char *source;			/* "params" or "grid", for messages */
	const char *const *names;
	int			nparams;
	char	   *accepted;		/* "fast, slow, size_pct, ...", palloc'd */
} BtParamNames;

/* what a stored run row holds besides its metrics */
typedef struct BtRunDesc
{
	const char *strategy;
	const BtMarket *market;
	Jsonb	   *params;
	const BtConfig *cfg;
	const char *store;
	int64		bars;
	int64_t		first_ts;		/* Unix microseconds */
	int64_t		last_ts;
	bool		open_at_end;
} BtRunDesc;

/*
 * The columns of a backtest_runs row that bt_run_args() gives, in its
 * order: $1..$14 describe the run, $15..$37 are its metrics.
 */
#define BT_RUN_COLUMNS "strategy, exchange, symbol, timeframe, start, finish, params," \
	" initial_cash, fee_bps, slippage_bps, store, bars, first_bar, last_bar, final_equity," \
	" total_return, cagr, volatility, sharpe, sortino, calmar, max_drawdown, max_drawdown_pct," \
	" max_drawdown_start, max_drawdown_end, trades, win_rate, profit_factor, expectancy," \
	" avg_win, avg_loss, best_trade, worst_trade, exposure_pct, fees_paid, market_change," \
	" open_at_end"
#define BT_RUN_NARGS 37
#define BT_RUN_PARAMS_ARG 6		/* $7, the params (0-based) */
#define BT_RUN_METRICS_ARG 14	/* $15..$37, the metrics */

/* parameter lists for SPI statements */
typedef struct BtArgs
{
	int			n;
	Oid			types[48];
	Datum		values[48];
	char		nulls[48];
} BtArgs;

/* rows stored by one INSERT; bounds the memory of the arrays */
#define BT_RUN_BATCH 8192

/*
 * Runs waiting to be stored: the arguments bt_run_args() gives each of
 * them, the columns that differ between the runs of a grid (params and
 * the metrics) gathered into arrays, the others taken from the last run.
 */
typedef struct BtRunBatch
{
	int			n;
	Datum	   *values[BT_RUN_NARGS];	/* BT_RUN_BATCH each, varying */
	bool	   *nulls[BT_RUN_NARGS];	/* columns only */
	BtArgs		last;			/* the last run's arguments */
	char	   *sql;			/* the INSERT */
} BtRunBatch;

/* a growing array of bars, palloc'd (huge allowed) */
typedef struct BtBarArray
{
	BtBar	   *bars;
	int64		n;				/* bars in it */
	int64		cap;			/* room for, at least 1 */
} BtBarArray;

/* called for each bar by bt_scan_bars(); may raise an error */
typedef void (*BtBarFn) (void *arg, const BtBar *bar);

/* in backtest_glue.c */
extern char *bt_text_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern double bt_numeric_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern void bt_check_costs(const BtConfig *cfg);
extern void bt_lookup_strategy(const char *strategy, bool user_kinds,
							   BtStrategyParams *sp, BtParamNames *pn);
extern void bt_apply_param(const BtParamNames *pn, const char *key, const char *type,
						   const char *value, BtStrategyParams *sp, BtConfig *cfg);
extern void bt_read_params(Jsonb *params, const BtParamNames *pn,
						   BtStrategyParams *sp, BtConfig *cfg);
extern Portal bt_open_bars(const BtMarket *mk);
extern void bt_bar_from_tuple(HeapTuple tup, TupleDesc td, BtBar *bar);
extern int64 bt_scan_bars(const BtMarket *mk, bool ordered, BtBarFn fn, void *arg);
extern BtBar *bt_load_bars(const BtMarket *mk, int64 *nbars);
extern void bt_no_bars_error(const BtMarket *mk) pg_attribute_noreturn();
extern char *bt_ts_text(int64_t unix_us);
extern const char *bt_run_insert_sql(void);
extern void bt_run_args(BtArgs *a, const BtRunDesc *d, const BtMetrics *m);
extern void bt_run_batch_init(BtRunBatch *b);
extern void bt_run_batch_add(BtRunBatch *b, const BtArgs *a);
extern void bt_run_batch_flush(BtRunBatch *b, Tuplestorestate *out);

/* in backtest_read.c */
extern bool bt_read_1m_bars(const BtMarket *mk, int32 instrument_id,
							BtBarArray *exch, BtBarArray *trades);

/*
 * A step function: f(bar zvt.candles_v, INOUT state jsonb, OUT target
 * float8), called once per closed bar through fmgr with a state kept
 * between calls.
 */
typedef struct BtStepFn
{
	Oid			fn;
	char	   *name;			/* for messages */
	FmgrInfo	flinfo;
	FunctionCallInfo fcinfo;	/* two args, reused for every bar */
	TupleDesc	bar_desc;		/* zvt.candles_v */
	TupleDesc	result_desc;	/* target float8 and state jsonb */
	int			target_att;		/* their positions in result_desc */
	int			state_att;
	Datum		state;			/* in the caller's context, or NULL */
	bool		state_null;
	MemoryContext call_cxt;		/* reset before each call */
} BtStepFn;

/* in backtest_stepfn.c */
extern void bt_stepfn_open(BtStepFn *s, Oid fn);
extern bool bt_stepfn_call(BtStepFn *s, HeapTuple row, TupleDesc row_desc, double *target);
extern void bt_stepfn_close(BtStepFn *s);

#endif							/* ZVT_BACKTEST_GLUE_H */
