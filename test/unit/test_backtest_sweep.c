/*
 * test/unit/test_backtest_sweep.c
 *	  Parameter sweeps (src/backtest/sweep.c): the distinct
 *	  periods of a grid, the shared series against the indicators fed one
 *	  by one, and every combination's metrics against a run made the way
 *	  zvt.backtest makes it (strategy and engine stepped together), for
 *	  the shared path (sma_cross, ema_cross, with shorts, stops and costs)
 *	  and the stepping path (rsi_reversion, donchian_breakout).
 */
#include "backtest/sweep.h"
#include "unit_test.h"

#include <math.h>
#include <stdlib.h>

#define NBARS 700

static BtBar bars[NBARS];

/* both equal, or both undefined */
static bool
same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static bool
same_metrics(const BtMetrics *a, const BtMetrics *b)
{
	return same(a->final_equity, b->final_equity) && same(a->total_return, b->total_return) &&
		same(a->cagr, b->cagr) && same(a->volatility, b->volatility) &&
		same(a->sharpe, b->sharpe) && same(a->sortino, b->sortino) &&
		same(a->calmar, b->calmar) && same(a->max_drawdown, b->max_drawdown) &&
		same(a->max_drawdown_pct, b->max_drawdown_pct) &&
		a->max_drawdown_start == b->max_drawdown_start &&
		a->max_drawdown_end == b->max_drawdown_end && a->trades == b->trades &&
		same(a->win_rate, b->win_rate) && same(a->profit_factor, b->profit_factor) &&
		same(a->expectancy, b->expectancy) && same(a->avg_win, b->avg_win) &&
		same(a->avg_loss, b->avg_loss) && same(a->best_trade, b->best_trade) &&
		same(a->worst_trade, b->worst_trade) && same(a->exposure, b->exposure) &&
		same(a->fees, b->fees) && same(a->market_change, b->market_change);
}

typedef struct RefTrades
{
	BtTrade		t[NBARS];
	size_t		n;
	bool		last_end;
} RefTrades;

static void
ref_trade(void *arg, const BtTradeRecord *trade)
{
	RefTrades  *r = arg;

	r->t[r->n].pnl = trade->pnl;
	r->t[r->n].fees = trade->fees;
	r->n++;
	r->last_end = trade->exit == BT_EXIT_END;
}

/* one run the way zvt.backtest makes it */
static void
reference(const BtSweepCombo *c, BtSweepResult *out)
{
	static BtEquityPoint points[NBARS];
	static RefTrades tr;
	double	   *ring = calloc(bt_strategy_ring_len(&c->par) + 1, sizeof(double));
	BtStrategy	s;
	BtEngine	e;

	tr.n = 0;
	tr.last_end = false;
	bt_strategy_init(&s, &c->par, ring);
	bt_engine_init(&e, &c->cfg, ref_trade, &tr);
	for (int i = 0; i < NBARS; i++)
	{
		points[i].ts = bars[i].ts;
		points[i].equity = bt_engine_bar(&e, &bars[i], &points[i].in_position);
		bt_engine_target(&e, bt_strategy_step(&s, bars[i].high, bars[i].low, bars[i].close));
	}
	points[NBARS - 1].equity = bt_engine_finish(&e);
	bt_metrics(&out->m, c->cfg.initial_cash, points, NBARS, tr.t, tr.n,
			   bars[0].close, bars[NBARS - 1].close);
	out->open_at_end = tr.n > 0 && tr.last_end;
	free(ring);
}

/*
 * Sweep every combination of the grid through bt_sweep_run (sharing
 * series when the strategy does) and count those equal to the reference;
 * *with_trades counts those that traded at all.
 */
static int
sweep_matches(BtSweepCombo *combos, size_t n, bool share, int *with_trades)
{
	int32_t    *periods = malloc(sizeof(int32_t) * 2 * n);
	size_t		nseries = share ? bt_sweep_periods(combos, n, periods) : 0;
	double	   *series = malloc(sizeof(double) * (nseries * NBARS + 1));
	double	   *ring = malloc(sizeof(double) * (NBARS + 1));
	BtSweep		sw = {bars, NBARS, periods, nseries, series};
	BtSweepWork w;
	int			matches = 0;

	if (nseries > 0)
		bt_sweep_fill_series(combos[0].par.kind, bars, NBARS, periods, nseries, series, ring);
	w.points = malloc(sizeof(BtEquityPoint) * NBARS);
	w.trades = malloc(sizeof(BtTrade) * NBARS);
	w.ring = malloc(sizeof(double) * bt_sweep_ring_len(combos, n));
	*with_trades = 0;
	for (size_t i = 0; i < n; i++)
	{
		BtSweepResult got,
					want;

		bt_sweep_run(&sw, &combos[i], &w, &got);
		reference(&combos[i], &want);
		if (same_metrics(&got.m, &want.m) && got.open_at_end == want.open_at_end)
			matches++;
		else
			fprintf(stderr, "combination %zu (%g, %g, %g) differs: %.17g vs %.17g\n", i,
					combos[i].par.p[0], combos[i].par.p[1], combos[i].par.p[2],
					got.m.final_equity, want.m.final_equity);
		if (want.m.trades > 0)
			(*with_trades)++;
	}
	free(periods);
	free(series);
	free(ring);
	free(w.points);
	free(w.trades);
	free(w.ring);
	return matches;
}

/* every (fast, slow) with lo <= fast < slow <= hi */
static size_t
pairs(BtSweepCombo *combos, BtStrategyKind kind, int lo, int hi, const BtConfig *cfg)
{
	size_t		n = 0;

	for (int f = lo; f <= hi; f++)
		for (int s = f + 1; s <= hi; s++)
		{
			combos[n].par = (BtStrategyParams) {kind, {f, s, 0}, cfg->allow_short};
			combos[n].cfg = *cfg;
			n++;
		}
	return n;
}

int
main(void)
{
	static BtSweepCombo combos[5000];
	BtConfig	plain = {10000, 10, 2, 100, 0, false, 0, 0, 0, false};
	BtConfig	shorts_stops = {10000, 5, 1, 50, 0, true, 2, 0, 1.5, false};
	unsigned	seed = 7;
	double		px = 100;
	size_t		n;
	int			traded;

	/* a random walk with swings, one bar a day so the daily metrics move */
	for (int i = 0; i < NBARS; i++)
	{
		double		o = px;

		seed = seed * 1103515245 + 12345;
		px *= 1 + (((int) ((seed >> 8) % 2001) - 1000) / 40000.0) + 0.01 * sin(i / 15.0) / 10;
		bars[i].ts = (int64_t) i * BT_USEC_PER_DAY;
		bars[i].open = o;
		bars[i].close = px;
		bars[i].high = (o > px ? o : px) * 1.004;
		bars[i].low = (o < px ? o : px) * 0.996;
	}

	/* distinct periods, sorted */
	{
		BtSweepCombo c[3] = {
			{{BT_SMA_CROSS, {10, 30, 0}, false}, plain},
			{{BT_SMA_CROSS, {5, 30, 0}, false}, plain},
			{{BT_SMA_CROSS, {10, 50, 0}, false}, plain},
		};
		int32_t		p[6];

		CHECK(bt_sweep_periods(c, 3, p) == 4);
		CHECK(p[0] == 5 && p[1] == 10 && p[2] == 30 && p[3] == 50);
		n = pairs(combos, BT_SMA_CROSS, 2, 100, &plain);
		CHECK(n == 4851);
		{
			int32_t    *pp = malloc(sizeof(int32_t) * 2 * n);

			CHECK(bt_sweep_periods(combos, n, pp) == 99);
			free(pp);
		}
	}

	/* a shared series holds what the indicator reads after each bar */
	{
		int32_t		p[2] = {3, 7};
		double	   *series = malloc(sizeof(double) * 2 * NBARS);
		double		ring[8];
		double		ring2[8];
		IndSma		sma;
		IndEma		ema;
		int			ok_sma = 0,
					ok_ema = 0;

		bt_sweep_fill_series(BT_SMA_CROSS, bars, NBARS, p, 2, series, ring);
		ind_sma_init(&sma, 7, ring2);
		for (int i = 0; i < NBARS; i++)
		{
			double		v = 0;

			ind_sma_step(&sma, bars[i].close);
			ind_sma_read(&sma, &v);
			ok_sma += series[NBARS + i] == v;
		}
		bt_sweep_fill_series(BT_EMA_CROSS, bars, NBARS, p, 2, series, ring);
		ind_ema_init(&ema, 3);
		for (int i = 0; i < NBARS; i++)
		{
			double		v = 0;

			ind_ema_step(&ema, bars[i].close);
			ind_ema_read(&ema, &v);
			ok_ema += series[i] == v;
		}
		CHECK(ok_sma == NBARS);
		CHECK(ok_ema == NBARS);
		CHECK(series[0] == 0 && series[2] != 0);	/* EMA(3) exists from bar 2 */
		free(series);
	}

	/* shared series give the runs zvt.backtest makes, bit for bit */
	n = pairs(combos, BT_SMA_CROSS, 2, 40, &plain);
	CHECK(sweep_matches(combos, n, true, &traded) == (int) n);
	CHECK(traded == (int) n);
	n = pairs(combos, BT_SMA_CROSS, 2, 25, &shorts_stops);
	CHECK(sweep_matches(combos, n, true, &traded) == (int) n);
	CHECK(traded == (int) n);
	n = pairs(combos, BT_EMA_CROSS, 2, 30, &shorts_stops);
	CHECK(sweep_matches(combos, n, true, &traded) == (int) n);

	/* a combination whose periods were not shared steps its strategy */
	n = pairs(combos, BT_SMA_CROSS, 2, 12, &plain);
	CHECK(sweep_matches(combos, n, false, &traded) == (int) n);

	/* strategies without shared series step per combination */
	n = 0;
	for (int period = 2; period <= 20; period += 3)
		for (int lower = 20; lower <= 40; lower += 10)
		{
			combos[n].par = (BtStrategyParams) {BT_RSI_REVERSION, {period, lower, 100 - lower}, true};
			combos[n].cfg = shorts_stops;
			n++;
		}
	CHECK(!bt_sweep_shares(BT_RSI_REVERSION));
	CHECK(sweep_matches(combos, n, false, &traded) == (int) n);
	CHECK(traded > 0);
	n = 0;
	for (int a = 5; a <= 40; a += 5)
		for (int b = 3; b <= 20; b += 4)
		{
			combos[n].par = (BtStrategyParams) {BT_DONCHIAN_BREAKOUT, {a, b, 0}, false};
			combos[n].cfg = plain;
			n++;
		}
	CHECK(sweep_matches(combos, n, false, &traded) == (int) n);
	CHECK(traded > 0);

	return unit_summary("test_backtest_sweep");
}
