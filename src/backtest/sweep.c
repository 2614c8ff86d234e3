/*-------------------------------------------------------------------------
 *
 * src/backtest/sweep.c
 *	  Many runs of one strategy over the same bars (see sweep.h).
 *
 * A run here mirrors zvt.backtest's loop (run.c): per bar the
 * engine fills at the open and the strategy's target at the close is
 * handed over for the next open; after the last bar the engine closes
 * what is open and the curve's last point takes the final equity.  Shared
 * series hold exactly the values the strategy's own SMA/EMA would read,
 * since they come from the same state machines fed the same closes.
 *
 *-------------------------------------------------------------------------
 */
#include "sweep.h"

#include <stdlib.h>
#include <string.h>

static int	cmp_int32(const void *a, const void *b);
static const double *find_series(const BtSweep *sw, int period);
static void sweep_trade(void *arg, const BtTradeRecord *trade);

bool
bt_sweep_shares(BtStrategyKind kind)
{
	return kind == BT_SMA_CROSS || kind == BT_EMA_CROSS;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

size_t
bt_sweep_periods(const BtSweepCombo *combos, size_t ncombos, int32_t *periods)
{
	size_t		n = 0,
				k = 0;

	for (size_t i = 0; i < ncombos; i++)
	{
		periods[n++] = (int32_t) combos[i].par.p[0];
		periods[n++] = (int32_t) combos[i].par.p[1];
	}
	if (n == 0)
		return 0;
	qsort(periods, n, sizeof(int32_t), cmp_int32);
	for (size_t i = 1; i < n; i++)
		if (periods[i] != periods[k])
			periods[++k] = periods[i];
	return k + 1;
}

void
bt_sweep_fill_series(BtStrategyKind kind, const BtBar *bars, size_t nbars,
					 const int32_t *periods, size_t nseries,
					 double *series, double *ring)
{
	for (size_t k = 0; k < nseries; k++)
	{
		double	   *out = series + k * nbars;
		IndSma		sma;
		IndEma		ema;

		if (kind == BT_SMA_CROSS)
			ind_sma_init(&sma, periods[k], ring);
		else
			ind_ema_init(&ema, periods[k]);
		for (size_t i = 0; i < nbars; i++)
		{
			double		v = 0;

			if (kind == BT_SMA_CROSS)
			{
				ind_sma_step(&sma, bars[i].close);
				ind_sma_read(&sma, &v);
			}
			else
			{
				ind_ema_step(&ema, bars[i].close);
				ind_ema_read(&ema, &v);
			}
			out[i] = v;
		}
	}
}

size_t
bt_sweep_ring_len(const BtSweepCombo *combos, size_t ncombos)
{
	size_t		len = 1;

	for (size_t i = 0; i < ncombos; i++)
	{
		size_t		l = bt_strategy_ring_len(&combos[i].par);

		if (l > len)
			len = l;
	}
	return len;
}

/* the shared series of a period, or NULL */
static const double *
find_series(const BtSweep *sw, int period)
{
	size_t		lo = 0,
				hi = sw->nseries;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (sw->periods[mid] < period)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sw->nseries && sw->periods[lo] == period)
		return sw->series + lo * sw->nbars;
	return NULL;
}

/* the engine's trade sink: pnl and fees are all the metrics need */
static void
sweep_trade(void *arg, const BtTradeRecord *trade)
{
	BtSweepWork *w = arg;

	w->trades[w->ntrades].pnl = trade->pnl;
	w->trades[w->ntrades].fees = trade->fees;
	w->ntrades++;
	w->last_end = trade->exit == BT_EXIT_END;
}

void
bt_sweep_run(const BtSweep *sw, const BtSweepCombo *c, BtSweepWork *w, BtSweepResult *out)
{
	const BtBar *bars = sw->bars;
	size_t		n = sw->nbars;
	const double *fs = NULL;
	const double *ss = NULL;
	size_t		fast = 0,
				slow = 0;
	BtStrategy	strat;
	BtEngine	e;

	if (sw->nseries > 0 && bt_sweep_shares(c->par.kind))
	{
		fast = (size_t) c->par.p[0];
		slow = (size_t) c->par.p[1];
		fs = find_series(sw, (int) fast);
		ss = find_series(sw, (int) slow);
	}
	if (fs == NULL || ss == NULL)
	{
		fs = ss = NULL;
		bt_strategy_init(&strat, &c->par, w->ring);
	}

	w->ntrades = 0;
	w->last_end = false;
	bt_engine_init(&e, &c->cfg, sweep_trade, w);
	for (size_t i = 0; i < n; i++)
	{
		bool		inpos;
		double		target;

		w->points[i].ts = bars[i].ts;
		w->points[i].equity = bt_engine_bar(&e, &bars[i], &inpos);
		w->points[i].in_position = inpos;
		if (fs)
			target = bt_strategy_cross(i + 1 >= fast && i + 1 >= slow, fs[i], ss[i],
									   c->par.allow_short);
		else
			target = bt_strategy_step(&strat, bars[i].high, bars[i].low, bars[i].close);
		bt_engine_target(&e, target);
	}
	w->points[n - 1].equity = bt_engine_finish(&e);
	bt_metrics(&out->m, c->cfg.initial_cash, w->points, n, w->trades, w->ntrades,
			   bars[0].close, bars[n - 1].close);
	out->open_at_end = w->ntrades > 0 && w->last_end;
}
