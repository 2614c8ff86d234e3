/*-------------------------------------------------------------------------
 *
 * src/backtest/store.h
 *	  Every write to zvt.backtest_runs, backtest_trades and
 *	  backtest_equity: one run with its trades and equity (zvt.backtest),
 *	  batches of runs (zvt.backtest_grid).
 *
 * Users hold SELECT on the three tables and DELETE on their own runs, no
 * INSERT or UPDATE; these functions write as the tables' owner, with
 * created_by the calling role (see store.c).  They run inside the
 * caller's SPI connection.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_STORE_H
#define ZVT_BACKTEST_STORE_H

#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "backtest/bars.h"
#include "backtest/engine.h"
#include "backtest/metrics.h"

/* what a run keeps besides its backtest_runs row */
typedef enum BtStoreKind
{
	BT_STORE_METRICS,			/* the row only */
	BT_STORE_TRADES,			/* and trades, and daily equity */
	BT_STORE_ALL				/* and trades, and equity at every bar */
} BtStoreKind;

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
 * order: $1 is the caller, $2..$15 describe the run, $16..$38 are its
 * metrics.
 */
#define BT_RUN_COLUMNS "created_by, strategy, exchange, symbol, timeframe, start, finish," \
	" params, initial_cash, fee_bps, slippage_bps, store, bars, first_bar, last_bar," \
	" final_equity, total_return, cagr, volatility, sharpe, sortino, calmar, max_drawdown," \
	" max_drawdown_pct, max_drawdown_start, max_drawdown_end, trades, win_rate," \
	" profit_factor, expectancy, avg_win, avg_loss, best_trade, worst_trade, exposure_pct," \
	" fees_paid, market_change, open_at_end"
#define BT_RUN_NARGS 38
#define BT_RUN_PARAMS_ARG 7		/* $8, the params (0-based) */
#define BT_RUN_METRICS_ARG 15	/* $16..$38, the metrics */

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

/* in store.c */
extern bool bt_results_finite(const BtMetrics *m);
extern void bt_run_args(BtArgs *a, const BtRunDesc *d, const BtMetrics *m);
extern HeapTuple bt_store_run(const BtArgs *a, TupleDesc *desc, int64 *run_id);
extern void bt_store_details(int64 run_id, BtStoreKind store,
							 const BtTradeRecord *trades, int ntrades,
							 const BtEquityPoint *points, const double *cash,
							 const double *pos, int64 npoints, double initial_cash);
extern void bt_run_batch_init(BtRunBatch *b);
extern void bt_run_batch_add(BtRunBatch *b, const BtArgs *a);
extern void bt_run_batch_flush(BtRunBatch *b, Tuplestorestate *out);

#endif							/* ZVT_BACKTEST_STORE_H */
