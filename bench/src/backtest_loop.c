/*
 * bench/src/backtest_loop.c
 *	  In-engine backtest speed: sma_cross(fast, slow) through the fill
 *	  engine over N generated 1-minute bars held in memory, versus the
 *	  reference loop that only reads the same bars (sums their closes).
 *	  Built and run by bench/backtest_engine.
 */
#include "backtest/engine.h"
#include "backtest/strategy.h"

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

static void
count_trade(void *arg, const BtTradeRecord *t)
{
	(void) t;
	(*(long *) arg)++;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 10000000;
	int			fast = argc > 2 ? atoi(argv[2]) : 10;
	int			slow = argc > 3 ? atoi(argv[3]) : 50;
	BtBar	   *bars = malloc(sizeof(BtBar) * n);
	double		px = 60000,
				sum = 0,
				t0,
				t_ref,
				t_run,
				equity = 0;
	unsigned	seed = 42;
	long		trades = 0;
	BtStrategyParams par = {BT_SMA_CROSS, {fast, slow, 0}, false};
	BtConfig	cfg = {10000, 10, 5, 100, 0, false, 0, 0, 0};
	double	   *ring = malloc(sizeof(double) * bt_strategy_ring_len(&par));
	BtStrategy	s;
	BtEngine	e;

	for (long i = 0; i < n; i++)
	{
		double		o = px;

		seed = seed * 1103515245 + 12345;
		px *= 1 + ((int) ((seed >> 8) % 2001) - 1000) / 1e6;
		bars[i].ts = i * 60000000LL;
		bars[i].open = o;
		bars[i].close = px;
		bars[i].high = (o > px ? o : px) * 1.0002;
		bars[i].low = (o < px ? o : px) * 0.9998;
	}

	t0 = now_sec();
	for (long i = 0; i < n; i++)
		sum += bars[i].close;
	t_ref = now_sec() - t0;

	t0 = now_sec();
	bt_strategy_init(&s, &par, ring);
	bt_engine_init(&e, &cfg, count_trade, &trades);
	for (long i = 0; i < n; i++)
	{
		equity = bt_engine_bar(&e, &bars[i], NULL);
		bt_engine_target(&e, bt_strategy_step(&s, bars[i].high, bars[i].low, bars[i].close));
	}
	equity = bt_engine_finish(&e);
	t_run = now_sec() - t0;

	printf("bars                      %ld\n", n);
	printf("reference (read bars)     %.1f M bars/s (checksum %.0f)\n", n / t_ref / 1e6, sum / n);
	printf("sma_cross(%d, %d) engine  %.1f M bars/s, %ld trades, final equity %.6g\n",
		   fast, slow, n / t_run / 1e6, trades, equity);
	printf("goal 20 M bars/s: %.2fx the goal; engine / reference time %.1f\n",
		   n / t_run / 20e6, t_run / t_ref);
	free(bars);
	free(ring);
	return 0;
}
