/*-------------------------------------------------------------------------
 *
 * src/feed/book_parse.c
 *	  The part of a book message every exchange writes the same way: a
 *	  list of [price, size, ...] string pairs per side, turned into one
 *	  FEED_BOOK event and a FEED_BOOK_LEVEL event per level.
 *
 * Pure C (jansson).  Prices and sizes go through book_parse_decimal, so
 * they stay exact and keep the decimals as written (OKX's checksum is over
 * the strings).  A frame with more levels than the parser has room for is
 * malformed, never cut short: a book missing levels would be wrong.
 *
 *-------------------------------------------------------------------------
 */
#include "feed_json.h"

#include <stdio.h>
#include <string.h>

static int
add_side(const char *what, json_t *side, bool bid, FeedEvent *out, int n, int max,
		 FeedFrame *frame)
{
	size_t		i;
	json_t	   *lv;

	if (side == NULL)
		return n;
	if (!json_is_array(side))
		return -feed_reject(frame, "%s: %s is not an array", what, bid ? "bids" : "asks") - 1;
	json_array_foreach(side, i, lv)
	{
		const char *px = json_string_value(json_array_get(lv, 0));
		const char *sz = json_string_value(json_array_get(lv, 1));
		FeedEvent  *e;

		if (n >= max)
			return -feed_reject(frame, "%s: more than %d levels in one frame", what, max - 1) - 1;
		e = &out[n];
		memset(e, 0, sizeof(*e));
		if (!book_parse_decimal(px, &e->level.lv.px, &e->level.lv.pxd) ||
			!book_parse_decimal(sz, &e->level.lv.qty, &e->level.lv.qd) || e->level.lv.px == 0)
			return -feed_reject(frame, "%s: bad level [%s, %s]", what, px ? px : "?", sz ? sz : "?") - 1;
		e->kind = FEED_BOOK_LEVEL;
		e->level.bid = bid;
		n++;
	}
	return n;
}

int
feed_book_levels(const char *what, const char *symbol, json_t *bids, json_t *asks,
				 FeedEvent *out, int max, FeedFrame *frame)
{
	FeedEvent  *h = &out[0];
	int			n;

	if (max < 1)
		return feed_reject(frame, "%s: more levels than one frame may hold", what);
	memset(h, 0, sizeof(*h));
	h->kind = FEED_BOOK;
	snprintf(h->symbol, sizeof(h->symbol), "%s", symbol);
	n = add_side(what, bids, true, out, 1, max, frame);
	if (n >= 0)
		n = add_side(what, asks, false, out, n, max, frame);
	if (n < 0)
		return 0;
	h->book_levels = n - 1;
	return n;
}
