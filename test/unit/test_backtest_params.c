/*
 * test/unit/test_backtest_params.c
 *	  One params/grid key applied (src/backtest/param_apply.c): the
 *	  strategy's own params stored, each common param at its bounds, wrong
 *	  types and unknown keys refused with docs/backtesting.md's messages
 *	  and nothing changed.
 */
#include "backtest/param_apply.h"
#include "unit_test.h"

#include <math.h>

static const char *const sma_names[] = {"fast", "slow"};
static const BtParamSpec sma = {"sma_cross", "params", sma_names, 2};
static BtStrategyParams sp;
static BtConfig cfg;
static char msg[BT_PARAM_MSG_LEN];

static BtParamStatus
apply(const char *key, const char *type, const char *value)
{
	msg[0] = '\0';
	return bt_param_apply(&sma, key, type, value, &sp, &cfg, msg, sizeof(msg));
}

int
main(void)
{
	memset(&sp, 0, sizeof(sp));
	memset(&cfg, 0, sizeof(cfg));

	/* the strategy's own, stored as given (checked together later) */
	CHECK(apply("fast", "number", "3") == BT_PARAM_OK && sp.p[0] == 3);
	CHECK(apply("slow", "number", "-8.5") == BT_PARAM_OK && sp.p[1] == -8.5);
	CHECK(apply("fast", "string", "3") == BT_PARAM_BAD);
	CHECK_STR(msg, "params.fast must be a number, not 3");

	/* unknown keys name the strategy */
	CHECK(apply("speed", "number", "3") == BT_PARAM_UNKNOWN);
	CHECK_STR(msg, "unknown parameter \"speed\" for strategy sma_cross");
	CHECK(apply("period", "number", "3") == BT_PARAM_UNKNOWN);

	/* allow_short: a boolean only */
	CHECK(apply("allow_short", "boolean", "true") == BT_PARAM_OK && cfg.allow_short && sp.allow_short);
	CHECK(apply("allow_short", "boolean", "false") == BT_PARAM_OK && !cfg.allow_short && !sp.allow_short);
	CHECK(apply("allow_short", "number", "1") == BT_PARAM_BAD);
	CHECK_STR(msg, "params.allow_short must be true or false, not 1");

	/* size_pct in (0, 100] */
	CHECK(apply("size_pct", "number", "100") == BT_PARAM_OK && cfg.size_pct == 100);
	CHECK(apply("size_pct", "number", "0.5") == BT_PARAM_OK && cfg.size_pct == 0.5);
	CHECK(apply("size_pct", "number", "100.0001") == BT_PARAM_BAD && cfg.size_pct == 0.5);
	CHECK_STR(msg, "params.size_pct must be in (0, 100], not 100.0001");
	CHECK(apply("size_pct", "number", "0") == BT_PARAM_BAD);

	/* qty > 0 and finite */
	CHECK(apply("qty", "number", "0.001") == BT_PARAM_OK && cfg.qty == 0.001);
	CHECK(apply("qty", "number", "0") == BT_PARAM_BAD && cfg.qty == 0.001);
	CHECK_STR(msg, "params.qty must be a positive number, not 0");
	CHECK(apply("qty", "number", "1e999") == BT_PARAM_BAD);

	/* stops in (0, 100); take-profit > 0 */
	CHECK(apply("stop_loss_pct", "number", "99.9") == BT_PARAM_OK && cfg.stop_loss_pct == 99.9);
	CHECK(apply("stop_loss_pct", "number", "100") == BT_PARAM_BAD && cfg.stop_loss_pct == 99.9);
	CHECK_STR(msg, "params.stop_loss_pct must be a percentage in (0, 100), not 100");
	CHECK(apply("trailing_stop_pct", "number", "5") == BT_PARAM_OK && cfg.trailing_stop_pct == 5);
	CHECK(apply("trailing_stop_pct", "number", "-1") == BT_PARAM_BAD);
	CHECK(apply("take_profit_pct", "number", "250") == BT_PARAM_OK && cfg.take_profit_pct == 250);
	CHECK(apply("take_profit_pct", "number", "0") == BT_PARAM_BAD);
	CHECK_STR(msg, "params.take_profit_pct must be a percentage > 0, not 0");
	CHECK(cfg.stop_loss_pct == 99.9 && cfg.trailing_stop_pct == 5);

	/* the grid's messages name it */
	{
		BtParamSpec grid = sma;

		grid.source = "grid";
		CHECK(bt_param_apply(&grid, "qty", "string", "\"x\"", &sp, &cfg, msg, sizeof(msg)) == BT_PARAM_BAD);
		CHECK_STR(msg, "grid.qty must be a number, not \"x\"");
	}
	return unit_summary("test_backtest_params");
}
