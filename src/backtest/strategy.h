/*-------------------------------------------------------------------------
 *
 * src/backtest/strategy.h
 *	  The built-in strategies: each turns a bar's close into a target for
 *	  the fill engine (engine.h), stepping indicators.c.
 *
 * Pure C, no PostgreSQL header.  Rules (a target of 1 is long, -1 short,
 * 0 flat; -1 only with allow_short, else those cases are 0):
 *	sma_cross(fast, slow)	1 while SMA(fast) > SMA(slow), -1 while below,
 *							0 until both exist or when equal
 *	ema_cross(fast, slow)	the same with EMAs
 *	rsi_reversion(period, lower, upper)
 *							enter long when RSI < lower and hold until RSI
 *							> upper; short mirrors (enter above upper, hold
 *							until below lower)
 *	bollinger_breakout(period, k)
 *							enter long when close > upper band, hold until
 *							close < mid; short mirrors with the lower band
 *	donchian_breakout(entry, exit)
 *							enter long when close > the highest high of the
 *							previous `entry` bars, hold until close < the
 *							lowest low of the previous `exit` bars; short
 *							mirrors
 *	buy_and_hold			1 from the first bar
 *
 * Buffers: bt_strategy_ring_len() doubles, allocated by the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_STRATEGY_H
#define ZVT_BACKTEST_STRATEGY_H

#include "indicators.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum BtStrategyKind
{
	BT_SMA_CROSS,
	BT_EMA_CROSS,
	BT_RSI_REVERSION,
	BT_BOLLINGER_BREAKOUT,
	BT_DONCHIAN_BREAKOUT,
	BT_BUY_AND_HOLD
} BtStrategyKind;

/* parameters by position, as named in the comment above */
typedef struct BtStrategyParams
{
	BtStrategyKind kind;
	double		p[3];
	bool		allow_short;
} BtStrategyParams;

typedef struct BtStrategy
{
	BtStrategyParams par;
	double		target;			/* the last target */
	int64_t		bars;
	IndSma		sma_fast,
				sma_slow;
	IndEma		ema_fast,
				ema_slow;
	IndRsi		rsi;
	IndBollinger boll;
	double	   *highs;			/* donchian: the last `entry` highs */
	double	   *lows;			/* and the last `exit` lows */
} BtStrategy;

/*
 * Look a strategy up by name; false if unknown.  names[] gets the
 * parameter names in order, nparams their count, defaults (if not NULL)
 * their default values: sma_cross 10, 30; ema_cross 12, 26; rsi_reversion
 * 14, 30, 70; bollinger_breakout 20, 2; donchian_breakout 20, 10.
 */
extern bool bt_strategy_lookup(const char *name, BtStrategyKind *kind,
							   const char *const **names, int *nparams,
							   const double **defaults);

/* the accepted names, comma-separated, for error messages */
extern const char *bt_strategy_names(void);

/*
 * Check the parameters; on failure *why says what is allowed (a static
 * string).
 */
extern bool bt_strategy_check(const BtStrategyParams *par, const char **why);

extern size_t bt_strategy_ring_len(const BtStrategyParams *par);
extern void bt_strategy_init(BtStrategy *s, const BtStrategyParams *par, double *ring);

/*
 * The rule of sma_cross and ema_cross from the two averages: 0 unless ok
 * (both exist) or when equal, else 1 when fast > slow and -1 (0 without
 * allow_short) when below.  The grid (sweep.c) applies it to
 * shared series.
 */
extern double bt_strategy_cross(bool ok, double fast, double slow, bool allow_short);

/* feed one closed bar; returns the target for the next bar's open */
extern double bt_strategy_step(BtStrategy *s, double high, double low, double close);

#endif							/* ZVT_BACKTEST_STRATEGY_H */
