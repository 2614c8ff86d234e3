/*
 * test/unit/test_exsim_history.c
 *	  Unit tests of the simulator's past (test/exsim/history.c): pages
 *	  generated again from checkpoints equal the trades and klines of the
 *	  one run through the past, and the live market joins it.
 */
#include <stdlib.h>
#include <string.h>

#include "../exsim/history.h"
#include "unit_test.h"

#define NT 20000

static MkTrade trades[NT + 10];
static int	ntrades;
static MkKline klines[MK_NIV][NT];
static int	nklines[MK_NIV];

static void
on_trade(void *arg, MkSymbol *s, const MkTrade *t)
{
	(void) arg;
	(void) s;
	if (ntrades < NT + 10)
		trades[ntrades++] = *t;
}

static void
on_kline(void *arg, MkSymbol *s, int iv, const MkKline *k)
{
	(void) arg;
	(void) s;
	if (nklines[iv] < NT)
		klines[iv][nklines[iv]++] = *k;
}

static bool
same_kline(const MkKline *a, const MkKline *b)
{
	return a->open_ts == b->open_ts && a->o == b->o && a->h == b->h && a->l == b->l &&
		a->c == b->c && a->vol == b->vol && a->count == b->count &&
		a->quote_vol == b->quote_vol && a->first_id == b->first_id && a->last_id == b->last_id;
}

int
main(void)
{
	Market		m;
	const char *err = NULL;
	MkHistory	h;
	MkSink		sink = {NULL, on_trade, on_kline};
	int64_t		start = INT64_C(1700000000000) - 3 * 86400000;
	int64_t		end = INT64_C(1700000000000);
	static MkTrade out[1000];
	static MkKline kout[1000];
	int			n;
	bool		ok;

	CHECK(mk_init(&m, "BTC-USDT", 7, start, &err));
	/* three days at one trade every 15 s: 17280 trades */
	CHECK(hist_build(&h, &m.sym[0], start, end, 1.0 / 15, &sink));
	CHECK(h.ntrades == 17280 && ntrades == 17280);
	CHECK(hist_trade_ts(&h, 0) == start && hist_trade_ts(&h, h.ntrades - 1) < end);
	CHECK(hist_index_at(&h, start) == 0 && hist_index_at(&h, start + 1) == 1);
	CHECK(hist_index_at(&h, end) == h.ntrades);
	/* trades from anywhere, across checkpoints */
	for (int64_t from = 0; from < h.ntrades; from += 977)
	{
		n = hist_trades(&h, from, out, 1000);
		ok = n == (h.ntrades - from < 1000 ? h.ntrades - from : 1000);
		for (int i = 0; i < n && ok; i++)
			ok = out[i].id == trades[from + i].id && out[i].ts == trades[from + i].ts &&
				out[i].px == trades[from + i].px && out[i].qty == trades[from + i].qty &&
				out[i].taker_buy == trades[from + i].taker_buy;
		CHECK(ok);
	}
	/* klines of every interval from any minute */
	for (int iv = 0; iv < MK_NIV; iv++)
	{
		CHECK(nklines[iv] > 0);
		for (int k = 0; k < nklines[iv]; k += 331)
		{
			n = hist_klines(&h, iv, klines[iv][k].open_ts - 1, end, kout, 1000);
			ok = n == (nklines[iv] - k < 1000 ? nklines[iv] - k : 1000);
			for (int i = 0; i < n && ok; i++)
				ok = same_kline(&kout[i], &klines[iv][k + i]);
			CHECK(ok);
		}
	}
	/* the live market goes on from the past's end */
	ntrades = 0;
	mk_trade(&m.sym[0], end, &sink);
	CHECK(trades[0].id == h.first_id + (uint64_t) h.ntrades);
	hist_free(&h);
	mk_free(&m);
	return unit_summary("test_exsim_history");
}
