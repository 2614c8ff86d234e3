/*-------------------------------------------------------------------------
 *
 * src/book/walk.c
 *	  Walking a live order book for a taker: the volume-weighted price of
 *	  the displayed levels an order of a given size takes.
 *
 * Paper fills use it (place_order's taker path and the paper matcher's
 * triggered stops, through zvt._book_fill_price) whenever the
 * instrument's book is subscribed and in step with the exchange; without
 * one they keep filling at the touch.  The walk reads a copy of the book
 * from shared memory (store.c) and does its arithmetic in numeric, so the
 * price is exactly sum(level price x size taken) / qty, as SQL computes
 * it.  The walk consumes nothing: like the quote before it, the displayed
 * book is the exchange's, and the next order sees the same levels.
 *
 * Past the displayed depth: a limit takes the rest at its own price (the
 * worst it accepts); a market order at the last level it reached (the
 * book shows nothing worse).  A side with no level gives no price.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "base/export.h"
#include "base/side.h"
#include "book/store.h"
#include "book/walk.h"

PG_FUNCTION_INFO_V1(zvt_book_fill_price);

/*
 * v (10^-8 units) as numeric without trailing zeros: the value zvt.book
 * shows, so that the walk's numeric arithmetic (whose result scales follow
 * its operands') is the one SQL does over zvt.book.
 */
static Datum
units(int64 v)
{
	int			scale = BOOK_SCALE_DIGITS;

	while (scale > 0 && v % 10 == 0)
	{
		v /= 10;
		scale--;
	}
	return NumericGetDatum(int64_div_fast_to_numeric(v, scale));
}

static int
cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/*
 * The price a taker of qty (numeric, > 0) pays on instrument_id's live
 * book, buying (dir 1) or selling (dir -1), at most (at least) limit when
 * has_limit.  True with *price (numeric, trailing zeros trimmed) when the
 * book is live and its side has a level; false otherwise.
 */
bool
book_walk_price(int32 instrument_id, int dir, Datum qty, bool has_limit, Datum limit, Datum *price)
{
	static BookCopy *b = NULL;	/* 32 kB, reused: see book_copy in functions.c */
	const int64 *px,
			   *sz;
	int			n;
	Datum		zero = units(0);
	Datum		left = qty;
	Datum		notional = zero;
	Datum		worst = (Datum) 0;

	if (b == NULL)
		b = MemoryContextAlloc(TopMemoryContext, sizeof(BookCopy));
	if (!book_store_read_id(instrument_id, BOOK_MAX_DEPTH, b) || !b->live)
		return false;
	px = dir == 1 ? b->ask_px : b->bid_px;
	sz = dir == 1 ? b->ask_qty : b->bid_qty;
	n = dir == 1 ? b->nasks : b->nbids;
	if (n == 0 || cmp(qty, zero) <= 0)
		return false;
	for (int i = 0; i < n && cmp(left, zero) > 0; i++)
	{
		Datum		lp = units(px[i]);
		Datum		take;

		/* a limit takes no level beyond its price */
		if (has_limit && dir * cmp(lp, limit) > 0)
			break;
		take = units(sz[i]);
		if (cmp(take, left) > 0)
			take = left;
		notional = DirectFunctionCall2(numeric_add, notional,
									   DirectFunctionCall2(numeric_mul, lp, take));
		left = DirectFunctionCall2(numeric_sub, left, take);
		worst = lp;
	}
	if (cmp(left, zero) > 0)
	{
		Datum		rest = has_limit ? limit : worst;

		if (rest == (Datum) 0)
			return false;		/* a limit the book's first level is already beyond */
		notional = DirectFunctionCall2(numeric_add, notional,
									   DirectFunctionCall2(numeric_mul, rest, left));
	}
	*price = DirectFunctionCall1(numeric_trim_scale,
								 DirectFunctionCall2(numeric_div, notional, qty));
	return true;
}

/*
 * zvt._book_fill_price(instrument_id int, side text, qty numeric,
 *   limit_price numeric) RETURNS numeric: book_walk_price for SQL (the
 * paper matcher); NULL without a live book, or when an argument but
 * limit_price is NULL.
 */
Datum
zvt_book_fill_price(PG_FUNCTION_ARGS)
{
	char	   *side;
	int			dir;
	Datum		price;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	side = text_to_cstring(PG_GETARG_TEXT_PP(1));
	dir = zvt_side_dir(side);
	if (!book_walk_price(PG_GETARG_INT32(0), dir, PG_GETARG_DATUM(2), !PG_ARGISNULL(3),
						 PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), &price))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(price);
}
