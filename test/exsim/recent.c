/*
 * test/exsim/recent.c
 *	  What an exchange of zvt-exsim has published, for its REST answers:
 *	  the trades kept per symbol (and the past's, from history.c), closed
 *	  klines by range, and the last book published with its sequence.
 */
#define _GNU_SOURCE
#include "exsim.h"

#include <stdlib.h>

/* trades kept per symbol for REST backfills: --recent (50000) */
#define RECENT_MAX	sim.recent_max

void
remember_trade(Exchange *ex, int si, const MkTrade *t)
{
	if (!ex->recent[si])
		ex->recent[si] = calloc(RECENT_MAX, sizeof(MkTrade));
	ex->recent[si][(ex->recent_head[si] + ex->recent_n[si]) % RECENT_MAX] = *t;
	if (ex->recent_n[si] == RECENT_MAX)
		ex->recent_head[si] = (ex->recent_head[si] + 1) % RECENT_MAX;
	else
		ex->recent_n[si]++;
}

/* The latest (up to max) trades of symbol si, oldest first. */
int
recent_trades(Exchange *ex, int si, const MkTrade **out, int max)
{
	int			n = ex->recent_n[si] < max ? ex->recent_n[si] : max;
	int			skip = ex->recent_n[si] - n;

	for (int i = 0; i < n; i++)
		out[i] = &ex->recent[si][(ex->recent_head[si] + skip + i) % RECENT_MAX];
	return n;
}

/* The i-th kept trade of symbol si, oldest first (0 <= i < recent_n). */
const MkTrade *
trade_at(Exchange *ex, int si, int i)
{
	return &ex->recent[si][(ex->recent_head[si] + i) % RECENT_MAX];
}

/*
 * Trades of symbol si with from_id <= id (when from_id >= 0) and
 * from_ts <= ts < to_ts, oldest first, at most max: from the past
 * (history.c, generated again into a buffer valid until the next call)
 * and then from the kept live trades.
 */
int
trades_since(Exchange *ex, int si, int64_t from_id, int64_t from_ts, int64_t to_ts,
			 const MkTrade **out, int max)
{
	static MkTrade pastbuf[1000];
	const MkHistory *h = ex->past[si];
	int			n = 0;

	if (h && max > 0)
	{
		int64_t		i = hist_index_at(h, from_ts);
		int			got;

		if (from_id >= 0 && from_id - (int64_t) h->first_id > i)
			i = from_id - (int64_t) h->first_id;
		got = hist_trades(h, i, pastbuf, max < 1000 ? max : 1000);
		for (int k = 0; k < got && n < max; k++)
			if (pastbuf[k].ts < to_ts)
				out[n++] = &pastbuf[k];
	}
	for (int i = 0; i < ex->recent_n[si] && n < max; i++)
	{
		const MkTrade *t = &ex->recent[si][(ex->recent_head[si] + i) % RECENT_MAX];

		if ((from_id < 0 || (int64_t) t->id >= from_id) && t->ts >= from_ts && t->ts < to_ts)
			out[n++] = t;
	}
	return n;
}

/*
 * Closed klines of interval iv of symbol si with open time in [from, to],
 * oldest first, at most max (<= 1500): the first max of the range, or the
 * last max when newest.  The past's come from history.c (into a buffer
 * valid until the next call), the rest from the live ring.
 */
int
ex_klines(Exchange *ex, int si, int iv, int64_t from, int64_t to, bool newest,
		  const MkKline **out, int max)
{
	static MkKline pastbuf[1500];
	static const MkKline *ring[MK_HISTORY];
	const MkHistory *h = ex->past[si];
	const MkSymbol *s = &ex->market.sym[si];
	int64_t		ivms = mk_interval_ms[iv];
	int64_t		past_end = h ? h->end_ms : INT64_MIN;
	int			nring = 0,
				npast = 0,
				n = 0,
				all;

	if (max > 1500)
		max = 1500;
	all = mk_history(s, iv, from, to, ring, MK_HISTORY);
	for (int i = 0; i < all; i++)
		if (!h || ring[i]->open_ts + ivms > past_end)
			ring[nring++] = ring[i];
	if (h && newest)
	{
		int			need = max - (nring < max ? nring : max);
		int64_t		upper = to < past_end - ivms ? to : past_end - ivms;
		int64_t		lo = (upper >= 0 ? upper / ivms : (upper - ivms + 1) / ivms) * ivms -
			(int64_t) (need - 1) * ivms;

		if (need > 0)
			npast = hist_klines(h, iv, lo > from ? lo : from, upper, pastbuf, need);
	}
	else if (h)
		npast = hist_klines(h, iv, from, to < past_end ? to : past_end, pastbuf, max);
	for (int i = 0; i < npast; i++)
		out[n++] = &pastbuf[i];
	if (newest)
	{
		int			skip = nring + n > max ? nring + n - max : 0;

		for (int i = skip; i < nring; i++)
			out[n++] = ring[i];
	}
	else
		for (int i = 0; i < nring && n < max; i++)
			out[n++] = ring[i];
	return n;
}

int
symbol_index(Exchange *ex, const MkSymbol *s)
{
	return (int) (s - ex->market.sym);
}

/*
 * Publish the current book of symbol si at depth: *delta gets the changes
 * since the last published book (everything on the first call, which
 * returns true as a snapshot), *prev_seq and *seq the sequence before and
 * after.  A pending skip_seq fault makes the sequence jump.
 */
bool
ex_book_update(Exchange *ex, int si, int depth, MkBook *delta,
			   uint64_t *prev_seq, uint64_t *seq)
{
	MkBook		now;
	bool		snapshot = !ex->book_valid[si];

	mk_book(&ex->market.sym[si], depth, &now);
	if (snapshot)
	{
		*delta = now;
		ex->book_seq[si] = ex->market.sym[si].book_seq;
	}
	else
		mk_book_diff(&ex->book[si], &now, delta);
	/* a skip loses updates between this message and the previous one */
	if (ex->faults.skip_seq > 0 && !snapshot)
	{
		ex->book_seq[si] += (uint64_t) ex->faults.skip_seq;
		ex->faults.skip_seq = 0;
	}
	*prev_seq = ex->book_seq[si];
	ex->book_seq[si]++;
	*seq = ex->book_seq[si];
	ex->book[si] = now;
	ex->book_valid[si] = true;
	return snapshot;
}

bool
ex_book_due(Exchange *ex, int64_t real_ms)
{
	return !ex->faults.book_pause && real_ms - ex->last_fast_ms >= sim.book_ms;
}
