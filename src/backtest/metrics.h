/*-------------------------------------------------------------------------
 *
 * src/backtest/metrics.h
 *	  The performance metrics of a backtest run, from its equity curve and
 *	  its closed trades.
 *
 * Pure C, no PostgreSQL header: the backtest engine (and the grid) fill an
 * equity curve bar by bar and a list of trades, then call bt_metrics().
 * Undefined values (a ratio over nothing, a volatility of fewer than two
 * days) are NaN, which the SQL glue turns into NULL.
 *
 * Definitions (test/unit/test_backtest_metrics.c works an example by hand):
 *	total_return   final / initial - 1
 *	cagr           (final / initial) ^ (365.25 days / span) - 1, span from
 *				   the first to the last point of the curve
 *	daily returns  equity at the last point of each UTC day over that of the
 *				   previous day (the initial equity before the first day)
 *	volatility     sample standard deviation of daily returns * sqrt(365)
 *	sharpe         mean / sample standard deviation * sqrt(365), risk-free 0
 *	sortino        mean / downside deviation * sqrt(365), downside deviation
 *				   = sqrt(sum(min(r, 0)^2) / n)
 *	max drawdown   the largest fall from a running peak of the curve, in
 *				   money and as a fraction of that peak, with the peak's and
 *				   the trough's times
 *	calmar         cagr / max drawdown fraction
 *	trades         win = pnl > 0; win rate = wins / trades; profit factor =
 *				   gross profit / |gross loss|; expectancy = mean pnl;
 *				   average win / loss; best / worst pnl; pnl is net of fees
 *	exposure       fraction of bars that ended with a position open
 *	market change  last close / first close - 1 over the same bars
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_METRICS_H
#define ZVT_BACKTEST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* one point of the equity curve, at the close of a bar */
typedef struct BtEquityPoint
{
	int64_t		ts;				/* microseconds since the Unix epoch */
	double		equity;
	bool		in_position;	/* a position was open at this point */
} BtEquityPoint;

/* one closed trade */
typedef struct BtTrade
{
	double		pnl;			/* net of fees */
	double		fees;			/* entry and exit fees */
} BtTrade;

typedef struct BtMetrics
{
	double		initial_equity;
	double		final_equity;
	double		total_return;
	double		cagr;
	double		volatility;
	double		sharpe;
	double		sortino;
	double		calmar;
	double		max_drawdown;	/* money */
	double		max_drawdown_pct;	/* fraction of the peak */
	int64_t		max_drawdown_start; /* ts of the peak, 0 if no drawdown */
	int64_t		max_drawdown_end;	/* ts of the trough */
	int64_t		trades;
	double		win_rate;
	double		profit_factor;
	double		expectancy;
	double		avg_win;
	double		avg_loss;
	double		best_trade;
	double		worst_trade;
	double		exposure;		/* fraction of points in position */
	double		fees;
	double		market_change;
} BtMetrics;

#define BT_USEC_PER_DAY INT64_C(86400000000)

/*
 * Compute every metric.  points must be in time order; first_close and
 * last_close are the first and last bars' closes (market change).
 */
extern void bt_metrics(BtMetrics *m, double initial_equity,
					   const BtEquityPoint *points, size_t npoints,
					   const BtTrade *trades, size_t ntrades,
					   double first_close, double last_close);

#endif							/* ZVT_BACKTEST_METRICS_H */
