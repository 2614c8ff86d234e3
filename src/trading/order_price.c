/*-------------------------------------------------------------------------
 *
 * src/trading/order_price.c
 *	  Pricing an order from the market bus: the touch, the mark, a
 *	  trailing stop's trigger (rounded to the tick size), the reference
 *	  price its notional counts at, and whether it is marketable; on a
 *	  subscribed order book, the VWAP a market order would pay
 *	  (src/book/walk.c).
 *
 * The bus (src/bus) keeps float8 prices in shared memory; the ledger
 * keeps numeric.  A price is converted only where the order uses it, and
 * the last few conversions are kept, since prices change far less often
 * than orders come.  Arithmetic is the numeric type's own (order.h), so
 * every value is the one SQL would compute.
 *
 * A trailing stop's trigger is mark × (1 ∓ trail_pct/100), rounded to the
 * instrument's tick size toward the mark, so that the stop never trails
 * by more than trail_pct (for a sell, up; for a buy, down); when that
 * would put it on the mark itself, it is rounded the other way.
 * zvt._trailing_stop_price() is the same rule for SQL (the paper matcher
 * moves the trigger as the price runs).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"

#include "base/export.h"
#include "base/side.h"
#include "book/walk.h"
#include "trading/order.h"

PG_FUNCTION_INFO_V1(zvt_trailing_stop_price);

/*
 * v::numeric, from a cache of the last four conversions (float8_numeric
 * prints and parses).  The result lives in TopMemoryContext until it is
 * evicted: callers use it within the call only.
 */
static Datum
float_num(double v)
{
	static double seen[4];
	static Datum numeric[4];
	static int	nseen = 0;
	static int	next = 0;
	int			slot = next;
	Datum		converted;
	MemoryContext old;

	for (int i = 0; i < nseen; i++)
		if (memcmp(&seen[i], &v, sizeof(double)) == 0)
			return numeric[i];
	converted = DirectFunctionCall1(float8_numeric, Float8GetDatum(v));
	old = MemoryContextSwitchTo(TopMemoryContext);
	converted = datumCopy(converted, false, -1);
	MemoryContextSwitchTo(old);
	if (nseen == lengthof(seen))
		pfree(DatumGetPointer(numeric[slot]));
	else
		nseen++;
	seen[slot] = v;
	numeric[slot] = converted;
	next = (slot + 1) % lengthof(seen);
	return numeric[slot];
}

/*
 * The bus's prices for order o on instrument ins into p: the touch of the
 * order's side (else the last trade) and the mark (last trade, else mid).
 * A market or trailing order needs both: 55000 when the bus has none.
 */
void
order_prices_read(const OrderArgs *o, const OrderInstrument *ins, OrderPrices *p)
{
	int			dir = o->dir;

	memset(p, 0, sizeof(OrderPrices));
	p->have_bus = bus_get(ins->id, &p->e);
	p->has_bid = p->have_bus && !isnan(p->e.bid);
	p->has_ask = p->have_bus && !isnan(p->e.ask);
	p->has_last = p->have_bus && !isnan(p->e.last);
	/* as numeric only where used: the touch of this side, and the mid without a trade */
	if (p->has_bid && (dir == -1 || !p->has_last))
		p->bid = float_num(p->e.bid);
	if (p->has_ask && (dir == 1 || !p->has_last))
		p->ask = float_num(p->e.ask);
	if (p->has_last)
		p->last = float_num(p->e.last);
	p->has_mkt = p->has_last || (p->has_bid && p->has_ask);
	if (p->has_last)
		p->mkt = p->last;
	else if (p->has_mkt)
		p->mkt = num_div(num_add(p->bid, p->ask), num_int(2));
	if (dir == 1)
	{
		p->has_touch = p->has_ask || p->has_last;
		p->touch = p->has_ask ? p->ask : p->last;
	}
	else
	{
		p->has_touch = p->has_bid || p->has_last;
		p->touch = p->has_bid ? p->bid : p->last;
	}
	/* a market order on a subscribed book pays for the depth it takes */
	if (o->type == ORDER_MARKET)
		p->has_walk = book_walk_price(ins->id, dir, o->qty, false, (Datum) 0, &p->walk);
	if ((o->type == ORDER_MARKET || o->type == ORDER_TRAILING_STOP) &&
		(!p->has_touch || !p->has_mkt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no price for %s %s on the market bus", ins->exchange, ins->symbol),
				 errdetail("A %s order needs the market price.", order_type_names[o->type]),
				 errhint("Prices come from the feed workers (zvt.subscribe) or from zvt.bus_publish.")));
}

/* v rounded down (up: false) to a multiple of m > 0, for v > 0 */
static Datum
round_to(Datum v, Datum m, bool down)
{
	Datum		q = DirectFunctionCall2(numeric_div_trunc, v, m);

	if (!down && num_cmp0(DirectFunctionCall2(numeric_mod, v, m)) != 0)
		q = num_add(q, num_int(1));
	return num_trim(num_mul(q, m));
}

/*
 * A trailing stop's trigger trail_pct % from mark: below it for a sell
 * (dir -1), above it for a buy; rounded to the tick size toward the mark
 * when the instrument has one (see the file's head).
 */
Datum
order_trailing_stop(Datum mark, Datum trail_pct, int dir, bool has_tick, Datum tick_size)
{
	Datum		raw = num_trim(num_mul(mark, num_add(num_int(1),
													 num_div(num_mul(num_int(dir), trail_pct),
															 num_int(100)))));
	Datum		stop;

	if (!has_tick || num_cmp0(tick_size) <= 0 || num_cmp0(raw) <= 0)
		return raw;
	stop = round_to(raw, tick_size, dir == 1);
	/* toward the mark, but never onto (or past) it */
	if (dir * num_cmp(stop, mark) <= 0)
		stop = round_to(raw, tick_size, dir != 1);
	return stop;
}

/*
 * The price o's notional counts at: coalesce(price, the book's VWAP or
 * else the touch for a market order, stop_price, touch).
 */
Datum
order_reference_price(const OrderArgs *o, const OrderPrices *p, bool has_stop, Datum stop_price)
{
	if (o->has_price)
		return o->price;
	if (o->type == ORDER_MARKET && p->has_walk)
		return p->walk;
	if (o->type == ORDER_MARKET && p->has_touch)
		return p->touch;
	if (has_stop)
		return stop_price;
	if (p->has_touch)
		return p->touch;
	elog(ERROR, "zvt order has no reference price");
	return (Datum) 0;
}

/* A market order, or a limit the touch already reaches: it fills at once as taker. */
bool
order_marketable(const OrderArgs *o, const OrderPrices *p)
{
	if (o->type == ORDER_MARKET)
		return true;
	return o->type == ORDER_LIMIT && p->has_touch &&
		num_cmp0(num_mul(num_int(o->dir), num_sub(p->touch, o->price))) <= 0;
}

/*
 * zvt._trailing_stop_price(mark numeric, trail_pct numeric, side text,
 *   tick_size numeric) RETURNS numeric: order_trailing_stop for SQL;
 * NULL when mark, trail_pct or side is, unrounded when tick_size is.
 */
Datum
zvt_trailing_stop_price(PG_FUNCTION_ARGS)
{
	char	   *side;
	int			dir;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	side = text_to_cstring(PG_GETARG_TEXT_PP(2));
	dir = zvt_side_dir(side);
	PG_RETURN_DATUM(order_trailing_stop(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), dir,
										!PG_ARGISNULL(3), PG_ARGISNULL(3) ? (Datum) 0 :
										PG_GETARG_DATUM(3)));
}
