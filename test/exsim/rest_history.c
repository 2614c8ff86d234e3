/*
 * test/exsim/rest_history.c
 *	  Trades older than a cursor, newest first: the backward paging of
 *	  OKX's history-trades and Coinbase's Exchange API trades.
 *
 * The kept live trades (server.c's ring) come first, newest to oldest,
 * then the past (history.c, generated again from its checkpoints), so a
 * client paging back from now walks without a seam into the simulator's
 * past.  A live trade that fell out of the ring (RECENT_MAX) is not served
 * any more, like an exchange's window.
 */
#include "exsim.h"
#include "history.h"

/*
 * Trades of symbol si whose key (the id, or with by_ts the time in ms) is
 * below `after` and above `before`, newest first, at most max (<= 1000).
 * The past's are in a buffer valid until the next call.
 */
int
trades_older(Exchange *ex, int si, bool by_ts, int64_t after, int64_t before,
			 const MkTrade **out, int max)
{
	static MkTrade pastbuf[1000];
	const MkHistory *h = ex->past[si];
	int			n = 0;

	if (max > 1000)
		max = 1000;
	for (int i = ex->recent_n[si] - 1; i >= 0 && n < max; i--)
	{
		const MkTrade *t = trade_at(ex, si, i);
		int64_t		key = by_ts ? t->ts : (int64_t) t->id;

		if (key <= before)
			return n;			/* the ring is in id and time order */
		if (key < after)
			out[n++] = t;
	}
	if (h && h->ntrades > 0 && n < max)
	{
		int64_t		hi;
		int64_t		lo;
		int			got;

		if (by_ts)
			hi = hist_index_at(h, after) - 1;
		else
			hi = after - (int64_t) h->first_id - 1;
		if (hi > h->ntrades - 1)
			hi = h->ntrades - 1;
		if (hi < 0)
			return n;
		lo = hi - (max - n) + 1;
		if (lo < 0)
			lo = 0;
		got = hist_trades(h, lo, pastbuf, (int) (hi - lo + 1));
		for (int k = got - 1; k >= 0 && n < max; k--)
		{
			int64_t		key = by_ts ? pastbuf[k].ts : (int64_t) pastbuf[k].id;

			if (key <= before)
				break;
			out[n++] = &pastbuf[k];
		}
	}
	return n;
}
