/*-------------------------------------------------------------------------
 *
 * src/backtest/engine.c
 *	  Fills, sizing, stops and trade bookkeeping for backtests (the rules
 *	  are in engine.h).
 *
 * Stops are checked in a signed price space y = side * price, in which
 * every position is long: the stop-loss and trailing levels lie below,
 * take-profit above, and one walk serves both sides.
 *
 *-------------------------------------------------------------------------
 */
#include "engine.h"

#include <math.h>
#include <string.h>

bool
bt_engine_check(const BtConfig *cfg, const char **why)
{
	if (!(cfg->initial_cash > 0 && cfg->initial_cash <= BT_MAX_AMOUNT))
	{
		*why = "initial_cash must be positive and at most 1e15";
		return false;
	}
	if (!(cfg->qty == 0 || (cfg->qty > 0 && cfg->qty <= BT_MAX_AMOUNT)))
	{
		*why = "qty must be positive and at most 1e15";
		return false;
	}
	return true;
}

void
bt_engine_init(BtEngine *e, const BtConfig *cfg, BtTradeSink on_trade, void *arg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->on_trade = on_trade;
	e->arg = arg;
	e->cash = cfg->initial_cash;
}

bool
bt_engine_target(BtEngine *e, double target)
{
	if (isnan(target) || target < -1 || target > 1)
		return false;
	if (target < 0 && !e->cfg.allow_short)
		return false;
	e->pending = target;
	return true;
}

const char *
bt_exit_name(BtExit exit)
{
	switch (exit)
	{
		case BT_EXIT_SIGNAL:
			return "signal";
		case BT_EXIT_STOP_LOSS:
			return "stop_loss";
		case BT_EXIT_TAKE_PROFIT:
			return "take_profit";
		case BT_EXIT_TRAILING_STOP:
			return "trailing_stop";
		case BT_EXIT_END:
			return "end";
	}
	return "?";
}

/* trade dq units (signed) at market price; slippage against the trader */
static void
fill(BtEngine *e, double dq, double price, int64_t ts, BtExit reason)
{
	int			dir = dq > 0 ? 1 : -1;
	double		px = price * (1 + dir * e->cfg.slippage_bps / 10000);
	double		fee = fabs(dq) * px * e->cfg.fee_bps / 10000;

	if (dq == 0)
		return;
	if (e->pos == 0)
	{
		memset(&e->cur, 0, sizeof(e->cur));
		e->cur.entry_ts = ts;
		e->cur.side = dir;
		e->open_qty = e->open_notional = 0;
		e->close_qty = e->close_notional = 0;
		e->flow = 0;
		e->best = price;
	}
	if (dir == e->cur.side)
	{
		e->open_qty += fabs(dq);
		e->open_notional += fabs(dq) * px;
	}
	else
	{
		e->close_qty += fabs(dq);
		e->close_notional += fabs(dq) * px;
	}
	e->cash -= dq * px + fee;
	e->fees += fee;
	e->cur.fees += fee;
	e->flow -= dq * px + fee;
	e->pos += dq;
	if (fabs(e->pos) > e->cur.qty)
		e->cur.qty = fabs(e->pos);
	if (e->pos == 0)
	{
		e->cur.exit_ts = ts;
		e->cur.entry_price = e->open_notional / e->open_qty;
		e->cur.exit_price = e->close_notional / e->close_qty;
		e->cur.pnl = e->flow;
		e->cur.exit = reason;
		if (e->on_trade)
			e->on_trade(e->arg, &e->cur);
	}
}

/* the position the target in effect asks for at price p */
static double
wanted(const BtEngine *e, double p)
{
	double		equity = e->cash + e->pos * p;

	if (e->cfg.qty > 0)
		return e->target * e->cfg.qty;
	if (equity <= 0)
		return 0;				/* nothing left to trade with */
	return e->target * (e->cfg.size_pct / 100) * equity /
		(p * (1 + e->cfg.slippage_bps / 10000) * (1 + e->cfg.fee_bps / 10000));
}

/*
 * Move to the target in effect at price p (a bar's open): a new side or
 * flat closes the position first, so a flip is sized on the equity left
 * after the closing fill's costs.
 */
static void
rebalance(BtEngine *e, double p, int64_t ts)
{
	double		want = wanted(e, p);

	if (e->pos != 0 && (want == 0 || (want > 0) != (e->pos > 0)))
	{
		fill(e, -e->pos, p, ts, BT_EXIT_SIGNAL);
		want = wanted(e, p);
	}
	if (want != e->pos)
		fill(e, want - e->pos, p, ts, BT_EXIT_SIGNAL);
}

/*
 * The stop that point y (signed space) has reached, if any; *level is
 * where it fills.  from is the previous point (NAN at the open: a gap
 * fills at the open itself).
 */
static bool
stop_hit(const BtEngine *e, double from, double y, double *level, BtExit *why)
{
	double		entry = e->cur.side * (e->open_notional / e->open_qty);
	double		best = e->cur.side * e->best;
	double		down = -INFINITY;
	BtExit		down_why = BT_EXIT_STOP_LOSS;

	if (e->cfg.stop_loss_pct > 0)
		down = entry - fabs(entry) * e->cfg.stop_loss_pct / 100;
	if (e->cfg.trailing_stop_pct > 0)
	{
		double		trail = best - fabs(best) * e->cfg.trailing_stop_pct / 100;

		if (trail > down)
		{
			down = trail;
			down_why = BT_EXIT_TRAILING_STOP;
		}
	}
	if (y <= down)
	{
		*level = isnan(from) ? y : down;
		*why = down_why;
		return true;
	}
	if (e->cfg.take_profit_pct > 0)
	{
		double		up = entry + fabs(entry) * e->cfg.take_profit_pct / 100;

		if (y >= up)
		{
			*level = isnan(from) ? y : up;
			*why = BT_EXIT_TAKE_PROFIT;
			return true;
		}
	}
	return false;
}

/* walk open, nearer extreme, farther extreme, close; exit at a stop */
static void
check_stops(BtEngine *e, const BtBar *bar)
{
	double		path[4];
	double		prev = NAN;

	path[0] = bar->open;
	if (bar->high - bar->open <= bar->open - bar->low)
	{
		path[1] = bar->high;
		path[2] = bar->low;
	}
	else
	{
		path[1] = bar->low;
		path[2] = bar->high;
	}
	path[3] = bar->close;

	for (int i = 0; i < 4; i++)
	{
		int			side = e->cur.side;
		double		y = side * path[i];
		double		level;
		BtExit		why;

		if (stop_hit(e, prev, y, &level, &why))
		{
			fill(e, -e->pos, side * level, bar->ts, why);
			e->stopped = true;
			return;
		}
		if (side * path[i] > side * e->best)
			e->best = path[i];
		prev = y;
	}
}

double
bt_engine_bar(BtEngine *e, const BtBar *bar, bool *in_position)
{
	if (e->pending != e->target)
	{
		e->target = e->pending;
		e->stopped = false;
		rebalance(e, bar->open, bar->ts);
	}
	if (e->pos != 0 &&
		(e->cfg.stop_loss_pct > 0 || e->cfg.take_profit_pct > 0 ||
		 e->cfg.trailing_stop_pct > 0))
		check_stops(e, bar);
	e->last_close = bar->close;
	e->last_ts = bar->ts;
	if (in_position)
		*in_position = e->pos != 0;
	return e->cash + e->pos * bar->close;
}

double
bt_engine_funding(BtEngine *e, double mark, double rate)
{
	double		amount = -(e->pos * mark * rate);

	if (e->pos == 0 || !isfinite(amount))
		return 0;
	e->cash += amount;
	e->flow += amount;			/* the round trip's pnl includes it */
	e->funding += amount;
	return amount;
}

double
bt_engine_finish(BtEngine *e)
{
	if (e->pos != 0)
		fill(e, -e->pos, e->last_close, e->last_ts, BT_EXIT_END);
	return e->cash;
}
