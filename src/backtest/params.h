/*-------------------------------------------------------------------------
 *
 * src/backtest/params.h
 *	  The arguments and params of zvt.backtest and zvt.backtest_grid:
 *	  NULL checks, costs, the strategy's lookup and each params key.
 *
 * Every function here raises ereport 22023 / 22004 on bad input, as
 * docs/backtesting.md lists; bt_read_params() needs an SPI connection.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_PARAMS_H
#define ZVT_BACKTEST_PARAMS_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "backtest/engine.h"
#include "backtest/strategy.h"

/* the params every strategy takes, for hints */
#define BT_COMMON_PARAMS \
	"size_pct, qty, allow_short, stop_loss_pct, take_profit_pct, trailing_stop_pct, funding"

/* a strategy's parameter names, as bt_strategy_lookup() gives them */
typedef struct BtParamNames
{
	const char *strategy;
	const char *source;			/* "params" or "grid", for messages */
	const char *const *names;
	int			nparams;
	char	   *accepted;		/* "fast, slow, size_pct, ...", palloc'd */
} BtParamNames;

/* in params.c */
extern char *bt_text_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern double bt_numeric_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern void bt_check_costs(const BtConfig *cfg);
extern void bt_check_config(const BtConfig *cfg);
extern void bt_lookup_strategy(const char *strategy, bool user_kinds,
							   BtStrategyParams *sp, BtParamNames *pn);
extern void bt_apply_param(const BtParamNames *pn, const char *key, const char *type,
						   const char *value, BtStrategyParams *sp, BtConfig *cfg);
extern void bt_read_params(Jsonb *params, const BtParamNames *pn,
						   BtStrategyParams *sp, BtConfig *cfg);

#endif							/* ZVT_BACKTEST_PARAMS_H */
