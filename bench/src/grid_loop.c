/*
 * bench/src/grid_loop.c
 *	  In-engine grid speed: the 4,851 sma_cross pairs of 2 <= fast < slow
 *	  <= 100 through sweep.c over N generated daily bars in
 *	  memory, on one core: the shared SMA series, then every combination
 *	  with its metrics.  Built and run by bench/grid.
 */
#include "backtest/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 3000;
	BtBar	   *bars = malloc(sizeof(BtBar) * n);
	BtSweepCombo *combos = malloc(sizeof(BtSweepCombo) * 4851);
	BtSweepResult *results = malloc(sizeof(BtSweepResult) * 4851);
	int32_t    *periods = malloc(sizeof(int32_t) * 2 * 4851);
	BtConfig	cfg = {10000, 10, 0, 100, 0, false, 0, 0, 0};
	double		px = 100,
				t0,
				t_series,
				t_runs,
				best = -1e300;
	unsigned	seed = 42;
	size_t		nc = 0,
				nseries;
	double	   *series;
	double		ring[101];
	BtSweep		sw;
	BtSweepWork w;

	for (long i = 0; i < n; i++)
	{
		double		o = px;

		seed = seed * 1103515245 + 12345;
		px *= 1 + ((int) ((seed >> 8) % 2001) - 980) / 50000.0;
		bars[i].ts = i * 86400000000LL;
		bars[i].open = o;
		bars[i].close = px;
		bars[i].high = (o > px ? o : px) * 1.01;
		bars[i].low = (o < px ? o : px) * 0.99;
	}
	for (int f = 2; f <= 100; f++)
		for (int s = f + 1; s <= 100; s++)
		{
			combos[nc].par = (BtStrategyParams) {BT_SMA_CROSS, {f, s, 0}, false};
			combos[nc].cfg = cfg;
			nc++;
		}

	t0 = now_sec();
	nseries = bt_sweep_periods(combos, nc, periods);
	series = malloc(sizeof(double) * nseries * n);
	bt_sweep_fill_series(BT_SMA_CROSS, bars, n, periods, nseries, series, ring);
	t_series = now_sec() - t0;

	sw = (BtSweep) {bars, (size_t) n, periods, nseries, series};
	w.points = malloc(sizeof(BtEquityPoint) * n);
	w.trades = malloc(sizeof(BtTrade) * n);
	w.ring = malloc(sizeof(double) * bt_sweep_ring_len(combos, nc));
	t0 = now_sec();
	for (size_t i = 0; i < nc; i++)
	{
		bt_sweep_run(&sw, &combos[i], &w, &results[i]);
		if (results[i].m.final_equity > best)
			best = results[i].m.final_equity;
	}
	t_runs = now_sec() - t0;

	printf("in-engine, one core: %zu series %.1f ms, %zu runs %.1f ms (%.1f M bar-runs/s),"
		   " best final equity %.6g\n",
		   nseries, t_series * 1e3, nc, t_runs * 1e3, n * nc / t_runs / 1e6, best);
	return 0;
}
