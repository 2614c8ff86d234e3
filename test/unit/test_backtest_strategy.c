/*
 * test/unit/test_backtest_strategy.c
 *	  The built-in strategies (src/backtest/strategy.c): the
 *	  target after each bar of short series worked out by hand, and the
 *	  parameter checks.
 */
#include "backtest/strategy.h"
#include "unit_test.h"

#include <stdlib.h>

/* run a strategy over closes (high = low = close); targets into out */
static void
run(BtStrategyKind kind, double a, double b, double c, bool allow_short,
	const double *closes, int n, double *out)
{
	BtStrategyParams par = {kind, {a, b, c}, allow_short};
	BtStrategy	s;
	size_t		len = bt_strategy_ring_len(&par);
	double	   *ring = calloc(len ? len : 1, sizeof(double));

	bt_strategy_init(&s, &par, ring);
	for (int i = 0; i < n; i++)
		out[i] = bt_strategy_step(&s, closes[i], closes[i], closes[i]);
	free(ring);
}

static bool
same(const double *got, const double *want, int n)
{
	for (int i = 0; i < n; i++)
		if (got[i] != want[i])
		{
			fprintf(stderr, "bar %d: got %g, want %g\n", i, got[i], want[i]);
			return false;
		}
	return true;
}

int
main(void)
{
	double		out[16];
	BtStrategyKind kind;
	const char *const *names;
	int			nparams;
	const char *why;
	const double *defs;

	/* sma_cross(2, 3): SMA2 vs SMA3 from bar 2 */
	{
		double		c[] = {1, 2, 3, 4, 3, 2, 1, 2, 3};
		double		want[] = {0, 0, 1, 1, 1, 0, 0, 0, 1};
		double		want_short[] = {0, 0, 1, 1, 1, -1, -1, -1, 1};

		run(BT_SMA_CROSS, 2, 3, 0, false, c, 9, out);
		CHECK(same(out, want, 9));
		run(BT_SMA_CROSS, 2, 3, 0, true, c, 9, out);
		CHECK(same(out, want_short, 9));
	}
	/* ema_cross(2, 3): seeds at bars 1 and 2; EMA2 (2/3) leads EMA3 (1/2) */
	{
		double		c[] = {1, 2, 3, 4, 1, 1};
		double		want[] = {0, 0, 1, 1, 0, 0};

		/* bar 4: ema2 = 3.5 + (1 - 3.5) * 2/3 = 1.833, ema3 = 3 + (1 - 3) / 2 = 2 */
		run(BT_EMA_CROSS, 2, 3, 0, false, c, 6, out);
		CHECK(same(out, want, 6));
	}
	/* rsi_reversion(2, 30, 70): RSI 0, 50, 75, 87.5 from bar 2 */
	{
		double		c[] = {10, 9, 8, 9, 10, 11};
		double		want[] = {0, 0, 1, 1, 0, 0};
		double		want_short[] = {0, 0, 1, 1, -1, -1};

		run(BT_RSI_REVERSION, 2, 30, 70, false, c, 6, out);
		CHECK(same(out, want, 6));
		run(BT_RSI_REVERSION, 2, 30, 70, true, c, 6, out);
		CHECK(same(out, want_short, 6));
	}
	/* bollinger_breakout(3, 1): 13 breaks 12.41; 12 holds above mid; 11 exits */
	{
		double		c[] = {10, 10, 10, 13, 12, 11};
		double		want[] = {0, 0, 0, 1, 1, 0};

		run(BT_BOLLINGER_BREAKOUT, 3, 1, 0, false, c, 6, out);
		CHECK(same(out, want, 6));
	}
	/* donchian_breakout(3, 2): in above the previous 3 highs, out below the previous 2 lows */
	{
		double		c[] = {1, 2, 3, 4, 3, 2, 1, 2, 3, 5};
		double		want[] = {0, 0, 0, 1, 1, 0, 0, 0, 1, 1};
		double		want_short[] = {0, 0, 0, 1, 1, -1, -1, -1, 1, 1};

		run(BT_DONCHIAN_BREAKOUT, 3, 2, 0, false, c, 10, out);
		CHECK(same(out, want, 10));
		/*
		 * short at bar 5 (2 < 3, the floor of the previous 3 lows), held at
		 * 7 (2 is not above 2, the previous 2 highs' top), long at 8
		 */
		run(BT_DONCHIAN_BREAKOUT, 3, 2, 0, true, c, 10, out);
		CHECK(same(out, want_short, 10));
	}
	/* buy_and_hold */
	{
		double		c[] = {5, 1, 9};
		double		want[] = {1, 1, 1};

		run(BT_BUY_AND_HOLD, 0, 0, 0, false, c, 3, out);
		CHECK(same(out, want, 3));
	}

	/* lookup and checks */
	CHECK(bt_strategy_lookup("rsi_reversion", &kind, &names, &nparams, &defs) &&
		  kind == BT_RSI_REVERSION && nparams == 3);
	CHECK_STR(names[2], "upper");
	CHECK(defs[0] == 14 && defs[1] == 30 && defs[2] == 70);
	CHECK(!bt_strategy_lookup("sma", &kind, &names, &nparams, NULL));
	CHECK(strstr(bt_strategy_names(), "donchian_breakout") != NULL);
	{
		BtStrategyParams p = {BT_SMA_CROSS, {20, 10, 0}, false};

		CHECK(!bt_strategy_check(&p, &why) && strstr(why, "less than slow"));
		p.p[0] = 2.5;
		CHECK(!bt_strategy_check(&p, &why) && strstr(why, "whole numbers"));
		p.p[0] = 5;
		CHECK(bt_strategy_check(&p, &why));
		p = (BtStrategyParams) {BT_RSI_REVERSION, {14, 70, 30}, false};
		CHECK(!bt_strategy_check(&p, &why) && strstr(why, "lower < upper"));
		p = (BtStrategyParams) {BT_BOLLINGER_BREAKOUT, {20, 0, 0}, false};
		CHECK(!bt_strategy_check(&p, &why) && strstr(why, "k must"));
		p = (BtStrategyParams) {BT_DONCHIAN_BREAKOUT, {0, 10, 0}, false};
		CHECK(!bt_strategy_check(&p, &why));
	}

	return unit_summary("test_backtest_strategy");
}
