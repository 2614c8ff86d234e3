/*-------------------------------------------------------------------------
 *
 * src/backtest/engine.h
 *	  The bar-by-bar fill engine every backtest strategy runs through.
 *
 * Pure C, no PostgreSQL header.  A strategy (built-in, a signals query or
 * a step function) looks at bar t's close and calls bt_engine_target();
 * bt_engine_bar() for bar t+1 fills that target at t+1's open, so no
 * signal can trade on the price it was computed from.  Rules:
 *
 *	fills		buys at price * (1 + slippage), sells at price * (1 -
 *				slippage); a fee of fee_bps on each fill's notional
 *	sizing		a target in [-1, 1] is the wanted position: target * qty
 *				units when a fixed qty is set, else target * size_pct % of
 *				the equity at the open, fees and slippage included
 *	changes		only a target different from the last one trades; a new
 *				sign (or 0) closes the position first, the same sign
 *				resizes it; a round trip from flat to flat is one trade
 *	stops		stop-loss and take-profit from the average entry price,
 *				trailing stop from the best price since entry, all as
 *				percentages; checked inside each bar along open, the
 *				extreme nearer the open (high on a tie), the other
 *				extreme, close; a stop crossed on a segment fills at its
 *				level, one passed at the open (a gap) fills at the open;
 *				after a stop the engine stays flat until the target changes
 *	funding		bt_engine_funding() at a perpetual's funding time: the
 *				position pays pos * mark * rate (a long pays a positive
 *				rate, a short receives it), into cash and the open round
 *				trip's pnl
 *	the end		bt_engine_finish() closes what is open at the last close
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_ENGINE_H
#define ZVT_BACKTEST_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct BtBar
{
	int64_t		ts;				/* open time, microseconds since the epoch */
	double		open;
	double		high;
	double		low;
	double		close;
} BtBar;

typedef enum BtExit
{
	BT_EXIT_SIGNAL,
	BT_EXIT_STOP_LOSS,
	BT_EXIT_TAKE_PROFIT,
	BT_EXIT_TRAILING_STOP,
	BT_EXIT_END					/* still open at the last bar */
} BtExit;

typedef struct BtTradeRecord
{
	int64_t		entry_ts;
	int64_t		exit_ts;
	double		entry_price;	/* average of the fills that opened */
	double		exit_price;		/* average of the fills that closed */
	double		qty;			/* the largest size held, > 0 */
	int			side;			/* +1 long, -1 short */
	double		pnl;			/* net of fees */
	double		fees;
	BtExit		exit;
} BtTradeRecord;

/*
 * The largest initial_cash and fixed qty: beyond it sums of money and
 * units lose whole units in a double (2^53 is about 9e15), and far beyond
 * it (1e308) they overflow to infinity.
 */
#define BT_MAX_AMOUNT 1e15

typedef struct BtConfig
{
	double		initial_cash;
	double		fee_bps;
	double		slippage_bps;
	double		size_pct;		/* of equity, when qty is 0 */
	double		qty;			/* fixed units, 0 for size_pct */
	bool		allow_short;
	double		stop_loss_pct;	/* 0 = off */
	double		take_profit_pct;
	double		trailing_stop_pct;
	bool		funding;		/* charge stored funding (perpetuals) */
} BtConfig;

typedef void (*BtTradeSink) (void *arg, const BtTradeRecord *trade);

typedef struct BtEngine
{
	BtConfig	cfg;
	BtTradeSink on_trade;
	void	   *arg;

	double		cash;
	double		pos;			/* signed units */
	double		target;			/* the target in effect */
	double		pending;		/* the target asked for at the last close */
	bool		stopped;		/* flat by a stop until the target changes */
	double		best;			/* best price since entry (trailing) */
	double		last_close;
	int64_t		last_ts;
	double		fees;			/* all fees paid */
	double		funding;		/* all funding received (> 0) or paid (< 0) */

	/* the open round trip */
	BtTradeRecord cur;
	double		open_qty;		/* units bought (long) or sold (short) */
	double		open_notional;
	double		close_qty;
	double		close_notional;
	double		flow;			/* cash in minus cash out, fees included */
} BtEngine;

/*
 * true if the sizes of cfg are usable: initial_cash in (0, BT_MAX_AMOUNT],
 * qty 0 (unset) or in (0, BT_MAX_AMOUNT].  Otherwise false with *why a
 * static sentence fragment naming the limit ("qty must be ...").  Fees,
 * slippage and the other params are checked where they are read.
 */
extern bool bt_engine_check(const BtConfig *cfg, const char **why);

extern void bt_engine_init(BtEngine *e, const BtConfig *cfg, BtTradeSink on_trade, void *arg);

/* false if target is outside [-1, 1], NaN, or negative without allow_short */
extern bool bt_engine_target(BtEngine *e, double target);

/* run one bar; returns the equity at its close, *in_position after it */
extern double bt_engine_bar(BtEngine *e, const BtBar *bar, bool *in_position);

/*
 * A funding time: the position pays pos * mark * rate, i.e. receives
 * -(pos * mark * rate), which is added to the cash, the total funding and
 * the open round trip's pnl.  Returns that amount; 0 when flat or when
 * mark or rate is not a number.
 */
extern double bt_engine_funding(BtEngine *e, double mark, double rate);

/* close what is open at the last close; returns the final equity */
extern double bt_engine_finish(BtEngine *e);

extern const char *bt_exit_name(BtExit exit);

#endif							/* ZVT_BACKTEST_ENGINE_H */
