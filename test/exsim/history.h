/*
 * test/exsim/history.h
 *	  The simulator's past: trades and klines before the simulated start,
 *	  generated deterministically from the seed, for the REST history
 *	  endpoints (backfill, gap repair, the demo's 90 days).
 *
 * Plain C, no I/O.  A symbol's past is the same random walk as its live
 * market (market.c's mk_trade), run from start_ms to end_ms at a fixed
 * pace of `rate` trades a second; the live market then carries on from
 * where the past ended, so ids, prices and klines join without a seam.
 * Nothing of the past is kept but a checkpoint of the generator every
 * HIST_CHECKPOINT trades: a page of trades or klines is generated again
 * from the nearest checkpoint, so a past of 10M trades costs kilobytes.
 *
 * Wording: "index" is a trade's position in the past (0 = the first);
 * its id is first_id + index and its time start_ms + index * period.
 */
#ifndef EXSIM_HISTORY_H
#define EXSIM_HISTORY_H

#include "market.h"

#define HIST_CHECKPOINT 4096

typedef struct MkCheckpoint
{
	uint64_t	rng;
	int64_t		last_px;		/* ticks, after the trade before */
	uint64_t	next_trade_id;
} MkCheckpoint;

typedef struct MkHistory
{
	MkSymbol	proto;			/* the symbol as it was at start_ms (no rings) */
	int64_t		start_ms;		/* first trade's time */
	int64_t		end_ms;			/* the past ends here: live trades are >= */
	int64_t		period_us;		/* between two trades, us */
	int64_t		ntrades;
	uint64_t	first_id;
	MkCheckpoint *ck;			/* ntrades / HIST_CHECKPOINT + 1 */
} MkHistory;

/*
 * Generate the past of s over [start_ms, end_ms) at rate trades a second
 * (> 0), through mk_trade on s itself (so s is left where the past ends,
 * its live rings holding the past's last klines) and the sink (may be
 * NULL).  Returns false when out of memory.
 */
extern bool hist_build(MkHistory *h, MkSymbol *s, int64_t start_ms, int64_t end_ms,
					   double rate, const MkSink *sink);
extern void hist_free(MkHistory *h);

/* Time of the past's trade at index i. */
extern int64_t hist_trade_ts(const MkHistory *h, int64_t i);

/* Index of the first trade at or after ts (ntrades when none). */
extern int64_t hist_index_at(const MkHistory *h, int64_t ts);

/*
 * Trades of the past from index `from` on, at most max, into out (oldest
 * first).  Returns how many.
 */
extern int	hist_trades(const MkHistory *h, int64_t from, MkTrade *out, int max);

/*
 * Closed klines of interval iv of the past with open time in
 * [from_ms, to_ms] that ended by end_ms, oldest first, at most max.
 * Returns how many.
 */
extern int	hist_klines(const MkHistory *h, int iv, int64_t from_ms, int64_t to_ms,
						MkKline *out, int max);

#endif
