/*-------------------------------------------------------------------------
 *
 * src/backtest/sweep.h
 *	  Parameter sweeps (zvt.backtest_grid): many runs of one built-in
 *	  strategy over the same bars, sharing the indicator work.
 *
 * Pure C, no PostgreSQL header, no allocation: every array is the
 * caller's, so the glue can put them in dynamic shared memory and let
 * several processes run combinations at once (all inputs are read-only;
 * each process has its own BtSweepWork).
 *
 * Sharing: sma_cross and ema_cross need one average per period, and a
 * grid over (fast, slow) names few distinct periods (4,851 pairs of 2 <=
 * fast < slow <= 100 name 99), so each distinct period's series is
 * computed once by bt_sweep_fill_series() with the same state machines as
 * the strategy (indicators.c), and each combination only compares two
 * series bar by bar.  Other strategies step their own state per
 * combination.  Either way a combination's run is the one zvt.backtest
 * makes: same targets, same engine, same metrics, bit for bit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_SWEEP_H
#define ZVT_BACKTEST_SWEEP_H

#include "engine.h"
#include "metrics.h"
#include "strategy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* one combination: the strategy's params and the engine's */
typedef struct BtSweepCombo
{
	BtStrategyParams par;
	BtConfig	cfg;
} BtSweepCombo;

typedef struct BtSweepResult
{
	BtMetrics	m;
	bool		open_at_end;	/* the last trade was closed by the end */
} BtSweepResult;

/* the inputs every combination shares, read-only */
typedef struct BtSweep
{
	const BtBar *bars;
	size_t		nbars;			/* > 0 */
	const int32_t *periods;		/* sorted, distinct; NULL when nseries is 0 */
	size_t		nseries;		/* 0: each combination steps its strategy */
	const double *series;		/* series k at series[k * nbars], the
								 * average after bar i at [i] */
} BtSweep;

/* one process's scratch buffers */
typedef struct BtSweepWork
{
	BtEquityPoint *points;		/* nbars */
	BtTrade    *trades;			/* nbars: a run has at most one entry a bar */
	double	   *ring;			/* bt_sweep_ring_len() */
	size_t		ntrades;
	bool		last_end;		/* the last trade closed at the end */
} BtSweepWork;

/* whether combinations of this strategy share series */
extern bool bt_sweep_shares(BtStrategyKind kind);

/*
 * The distinct periods (fast and slow) of the combinations, sorted, into
 * periods (room for 2 * ncombos); returns their count.
 */
extern size_t bt_sweep_periods(const BtSweepCombo *combos, size_t ncombos, int32_t *periods);

/*
 * Fill series (nseries * nbars) with the average of kind (SMA for
 * sma_cross, EMA for ema_cross) of each period over the closes; ring has
 * room for the largest period.  Bars before an average exists get 0 (the
 * run knows from the bar's index).
 */
extern void bt_sweep_fill_series(BtStrategyKind kind, const BtBar *bars, size_t nbars,
								 const int32_t *periods, size_t nseries,
								 double *series, double *ring);

/* the ring the largest combination needs when stepping, in doubles (>= 1) */
extern size_t bt_sweep_ring_len(const BtSweepCombo *combos, size_t ncombos);

/*
 * Run one combination (checked by bt_strategy_check) over the bars, into
 * *out.  Uses the shared series when sw has both of its periods, else
 * steps the strategy in w->ring.
 */
extern void bt_sweep_run(const BtSweep *sw, const BtSweepCombo *c, BtSweepWork *w,
						 BtSweepResult *out);

#endif							/* ZVT_BACKTEST_SWEEP_H */
