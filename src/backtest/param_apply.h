/*-------------------------------------------------------------------------
 *
 * src/backtest/param_apply.h
 *	  One key of a backtest's params or grid applied to a strategy's
 *	  params and the engine's config: pure C, no PostgreSQL header, so it
 *	  is unit-tested and fuzzed outside the server
 *	  (test/unit/test_backtest_params.c, test/fuzz/fuzz_backtest_params.c).
 *	  src/backtest/params.c reads the jsonb and raises what this returns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_PARAM_APPLY_H
#define ZVT_BACKTEST_PARAM_APPLY_H

#include <stddef.h>

#include "backtest/engine.h"
#include "backtest/strategy.h"

/* the longest message of a refused key */
#define BT_PARAM_MSG_LEN 256

/* whom a key is applied for, as messages name them */
typedef struct BtParamSpec
{
	const char *strategy;
	const char *source;			/* "params" or "grid" */
	const char *const *names;	/* the strategy's own params */
	int			nparams;
} BtParamSpec;

typedef enum BtParamStatus
{
	BT_PARAM_OK,
	BT_PARAM_UNKNOWN,			/* not a key of the strategy nor a common one */
	BT_PARAM_BAD				/* wrong type or out of range */
} BtParamStatus;

/* in param_apply.c */

/*
 * Apply key, whose value has JSON type type (jsonb_typeof's name) and
 * text value, to *sp or *cfg.  Returns BT_PARAM_OK, or the refusal with
 * its message in msg (msglen bytes; *sp and *cfg are then unaltered).
 * The strategy's own params are only stored: bt_strategy_check() judges
 * them together.
 */
extern BtParamStatus bt_param_apply(const BtParamSpec *spec, const char *key, const char *type,
									const char *value, BtStrategyParams *sp, BtConfig *cfg,
									char *msg, size_t msglen);

#endif							/* ZVT_BACKTEST_PARAM_APPLY_H */
