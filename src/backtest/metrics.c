/*-------------------------------------------------------------------------
 *
 * src/backtest/metrics.c
 *	  Backtest performance metrics (definitions in metrics.h).
 *
 * One pass over the curve for drawdown, exposure and the daily returns'
 * running sums; one pass over the trades.  No allocation.
 *
 *-------------------------------------------------------------------------
 */
#include "metrics.h"

#include <math.h>
#include <string.h>

/* floor division, so days before 1970 land in the right day */
static int64_t
day_of(int64_t ts)
{
	int64_t		d = ts / BT_USEC_PER_DAY;

	if (ts < 0 && d * BT_USEC_PER_DAY != ts)
		d--;
	return d;
}

/* running sums of daily returns */
typedef struct DailySums
{
	int64_t		n;
	double		sum;
	double		sum_sq;
	double		down_sq;
} DailySums;

static void
add_return(DailySums *s, double prev, double cur)
{
	double		r = prev != 0 ? cur / prev - 1 : 0;

	s->n++;
	s->sum += r;
	s->sum_sq += r * r;
	if (r < 0)
		s->down_sq += r * r;
}

void
bt_metrics(BtMetrics *m, double initial_equity,
		   const BtEquityPoint *points, size_t npoints,
		   const BtTrade *trades, size_t ntrades,
		   double first_close, double last_close)
{
	DailySums	d = {0, 0, 0, 0};
	double		peak = initial_equity;
	int64_t		peak_ts = npoints > 0 ? points[0].ts : 0;
	double		day_start_equity = initial_equity;
	int64_t		day_end;
	size_t		in_position = 0;
	double		gross_win = 0,
				gross_loss = 0,
				pnl_sum = 0;
	int64_t		wins = 0,
				losses = 0;

	memset(m, 0, sizeof(*m));
	m->initial_equity = initial_equity;
	m->final_equity = npoints > 0 ? points[npoints - 1].equity : initial_equity;
	m->total_return = initial_equity != 0 ? m->final_equity / initial_equity - 1 : NAN;

	/* where the current UTC day ends: one division a day, not two a point */
	day_end = npoints > 0 ? (day_of(points[0].ts) + 1) * BT_USEC_PER_DAY : 0;
	for (size_t i = 0; i < npoints; i++)
	{
		const BtEquityPoint *p = &points[i];
		double		dd;

		if (p->in_position)
			in_position++;
		if (p->equity > peak)
		{
			peak = p->equity;
			peak_ts = p->ts;
		}
		dd = peak - p->equity;
		if (dd > m->max_drawdown)
		{
			m->max_drawdown = dd;
			m->max_drawdown_pct = peak > 0 ? dd / peak : NAN;
			m->max_drawdown_start = peak_ts;
			m->max_drawdown_end = p->ts;
		}
		/* the last point of a UTC day closes that day */
		if (i + 1 == npoints || points[i + 1].ts >= day_end)
		{
			add_return(&d, day_start_equity, p->equity);
			day_start_equity = p->equity;
			/* daily bars move on one day at a time: no division */
			if (i + 1 < npoints && points[i + 1].ts < day_end + BT_USEC_PER_DAY)
				day_end += BT_USEC_PER_DAY;
			else if (i + 1 < npoints)
				day_end = (day_of(points[i + 1].ts) + 1) * BT_USEC_PER_DAY;
		}
	}

	m->exposure = npoints > 0 ? (double) in_position / npoints : NAN;

	if (npoints >= 2 && initial_equity > 0 && m->final_equity > 0 &&
		points[npoints - 1].ts > points[0].ts)
	{
		double		years = (double) (points[npoints - 1].ts - points[0].ts) /
			(365.25 * BT_USEC_PER_DAY);

		m->cagr = pow(m->final_equity / initial_equity, 1 / years) - 1;
	}
	else
		m->cagr = NAN;

	if (d.n >= 2)
	{
		double		mean = d.sum / d.n;
		double		var = (d.sum_sq - d.n * mean * mean) / (d.n - 1);
		double		sd = var > 0 ? sqrt(var) : 0;
		double		down = sqrt(d.down_sq / d.n);

		m->volatility = sd * sqrt(365.0);
		m->sharpe = sd > 0 ? mean / sd * sqrt(365.0) : NAN;
		m->sortino = down > 0 ? mean / down * sqrt(365.0) : NAN;
	}
	else
	{
		m->volatility = NAN;
		m->sharpe = NAN;
		m->sortino = NAN;
	}
	m->calmar = m->max_drawdown_pct > 0 ? m->cagr / m->max_drawdown_pct : NAN;

	m->trades = (int64_t) ntrades;
	m->best_trade = ntrades > 0 ? trades[0].pnl : NAN;
	m->worst_trade = m->best_trade;
	for (size_t i = 0; i < ntrades; i++)
	{
		double		pnl = trades[i].pnl;

		pnl_sum += pnl;
		m->fees += trades[i].fees;
		if (pnl > 0)
		{
			wins++;
			gross_win += pnl;
		}
		else if (pnl < 0)
		{
			losses++;
			gross_loss -= pnl;
		}
		if (pnl > m->best_trade)
			m->best_trade = pnl;
		if (pnl < m->worst_trade)
			m->worst_trade = pnl;
	}
	m->win_rate = ntrades > 0 ? (double) wins / ntrades : NAN;
	m->profit_factor = gross_loss > 0 ? gross_win / gross_loss : NAN;
	m->expectancy = ntrades > 0 ? pnl_sum / ntrades : NAN;
	m->avg_win = wins > 0 ? gross_win / wins : NAN;
	m->avg_loss = losses > 0 ? -gross_loss / losses : NAN;
	m->market_change = first_close != 0 ? last_close / first_close - 1 : NAN;
}
