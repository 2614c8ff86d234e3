/*
 * test/unit/test_backtest_metrics.c
 *	  Backtest metrics (src/backtest/metrics.c) on a small run
 *	  worked out by hand, and the undefined cases.
 */
#include "backtest/metrics.h"
#include "unit_test.h"

#include <math.h>

#define NEAR(a, b) (fabs((a) - (double) (b)) < 1e-9 * (1 + fabs((double) (b))))
#define HOUR INT64_C(3600000000)
#define DAY BT_USEC_PER_DAY

int
main(void)
{
	/*
	 * 100 initial; daily closes 100, 120, 90, 108, so daily returns are
	 * 0, 0.2, -0.25, 0.2: mean 0.0375, sample sd sqrt(0.045625), downside
	 * deviation sqrt(0.0625 / 4) = 0.125.
	 */
	BtEquityPoint pts[] = {
		{12 * HOUR, 110, true},
		{23 * HOUR, 100, true},
		{DAY + 12 * HOUR, 120, false},
		{2 * DAY + 12 * HOUR, 90, false},
		{3 * DAY + 12 * HOUR, 108, true},
	};
	BtTrade		trades[] = {{10, 1}, {-5, 1}, {20, 2}, {0, 0.5}};
	BtEquityPoint before_epoch[] = {
		{-DAY, 100, false},		/* 1969-12-31 00:00 */
		{-1, 50, false},		/* 1969-12-31 23:59:59.999999: same day */
		{0, 100, false},		/* 1970-01-01 */
	};
	BtMetrics	m;

	bt_metrics(&m, 100, pts, 5, trades, 4, 50, 55);
	CHECK(NEAR(m.final_equity, 108));
	CHECK(NEAR(m.total_return, 0.08));
	CHECK(NEAR(m.cagr, pow(1.08, 365.25 / 3) - 1));
	CHECK(NEAR(m.volatility, 4.080824058937116));
	CHECK(NEAR(m.sharpe, 3.354101966249685));
	CHECK(NEAR(m.sortino, 5.73149195236284));
	CHECK(NEAR(m.max_drawdown, 30));
	CHECK(NEAR(m.max_drawdown_pct, 0.25));
	CHECK(m.max_drawdown_start == DAY + 12 * HOUR);
	CHECK(m.max_drawdown_end == 2 * DAY + 12 * HOUR);
	CHECK(NEAR(m.calmar, m.cagr / 0.25));
	CHECK(NEAR(m.exposure, 0.6));
	CHECK(m.trades == 4);
	CHECK(NEAR(m.win_rate, 0.5));	/* 0 is not a win */
	CHECK(NEAR(m.profit_factor, 6));
	CHECK(NEAR(m.expectancy, 6.25));
	CHECK(NEAR(m.avg_win, 15));
	CHECK(NEAR(m.avg_loss, -5));
	CHECK(NEAR(m.best_trade, 20));
	CHECK(NEAR(m.worst_trade, -5));
	CHECK(NEAR(m.fees, 4.5));
	CHECK(NEAR(m.market_change, 0.1));

	/* nothing traded, one point: ratios over nothing are undefined */
	bt_metrics(&m, 100, pts + 2, 1, NULL, 0, 50, 50);
	CHECK(NEAR(m.total_return, 0.2));
	CHECK(isnan(m.cagr));
	CHECK(isnan(m.volatility) && isnan(m.sharpe) && isnan(m.sortino));
	CHECK(m.max_drawdown == 0 && m.max_drawdown_start == 0 && isnan(m.calmar));
	CHECK(m.trades == 0 && isnan(m.win_rate) && isnan(m.profit_factor));
	CHECK(isnan(m.expectancy) && isnan(m.best_trade) && isnan(m.avg_loss));
	CHECK(NEAR(m.market_change, 0));

	/* only winners: no profit factor, no average loss */
	bt_metrics(&m, 100, pts, 5, trades, 1, 50, 55);
	CHECK(NEAR(m.win_rate, 1) && isnan(m.profit_factor) && isnan(m.avg_loss));

	/*
	 * days before the epoch: the first two points share 1969-12-31, so the
	 * daily closes are 50 and 100 (returns -0.5 and 1), not three days
	 */
	bt_metrics(&m, 100, before_epoch, 3, NULL, 0, 1, 1);
	CHECK(NEAR(m.sortino, 0.25 / sqrt(0.25 / 2) * sqrt(365.0)));
	CHECK(NEAR(m.max_drawdown_pct, 0.5));
	CHECK(m.max_drawdown_start == -DAY && m.max_drawdown_end == -1);
	/* the same days with the first point at noon: its day still ends at 0 */
	{
		BtEquityPoint noon[] = {
			{-12 * HOUR, 100, false},	/* 1969-12-31 12:00 */
			{-1, 50, false},
			{0, 100, false},
		};

		bt_metrics(&m, 100, noon, 3, NULL, 0, 1, 1);
		CHECK(NEAR(m.sortino, 0.25 / sqrt(0.25 / 2) * sqrt(365.0)));
	}

	/* a flat curve: no volatility, so no Sharpe or Sortino */
	{
		BtEquityPoint flat[] = {{0, 100, false}, {DAY, 100, false}, {2 * DAY, 100, false}};

		bt_metrics(&m, 100, flat, 3, NULL, 0, 1, 1);
		CHECK(m.volatility == 0 && isnan(m.sharpe) && isnan(m.sortino));
		CHECK(NEAR(m.cagr, 0) && m.max_drawdown == 0);
	}

	return unit_summary("test_backtest_metrics");
}
