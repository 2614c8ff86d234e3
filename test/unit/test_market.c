/*
 * test/unit/test_market.c
 *	  Unit tests of the simulator's market (test/exsim/market.c): klines
 *	  aggregate their trades exactly, buckets close on time and emit empty
 *	  klines, the same seed gives the same market, book diffs rebuild the
 *	  new book, and decimals print exactly.
 */
#include "../exsim/market.h"
#include "unit_test.h"

#include <stdlib.h>
#include <string.h>

typedef struct Seen
{
	MkTrade		trades[20000];
	int			ntrades;
	MkKline		klines[200];
	int			ivs[200];
	int			nklines;
} Seen;

static void
on_trade(void *arg, MkSymbol *s, const MkTrade *t)
{
	Seen	   *seen = arg;

	(void) s;
	if (seen->ntrades < 20000)
		seen->trades[seen->ntrades++] = *t;
}

static void
on_kline(void *arg, MkSymbol *s, int iv, const MkKline *k)
{
	Seen	   *seen = arg;

	(void) s;
	if (seen->nklines < 200)
	{
		seen->ivs[seen->nklines] = iv;
		seen->klines[seen->nklines++] = *k;
	}
}

static void
test_klines_equal_trades(void)
{
	Market		m;
	const char *err = NULL;
	Seen	   *seen = calloc(1, sizeof(Seen));
	MkSink		sink = {seen, on_trade, on_kline};
	int64_t		t0 = 1700000000000;		/* 2023-11-14 22:13:20 UTC */
	int			checked = 0;

	CHECK(mk_init(&m, "BTC-USDT", 42, t0, &err));
	/* 10 minutes of trades, 9 a second */
	for (int64_t ts = t0; ts < t0 + 600000; ts += 111)
		mk_trade(&m.sym[0], ts, &sink);
	mk_advance(&m.sym[0], t0 + 700000, &sink);

	for (int i = 0; i < seen->nklines; i++)
	{
		const MkKline *k = &seen->klines[i];
		int64_t		end = k->open_ts + mk_interval_ms[seen->ivs[i]];
		int64_t		o = 0, h = INT64_MIN, l = INT64_MAX, c = 0, vol = 0, n = 0;
		__int128	qv = 0;

		if (seen->ivs[i] != MK_IV_1M || k->open_ts < t0)
			continue;
		for (int j = 0; j < seen->ntrades; j++)
		{
			const MkTrade *t = &seen->trades[j];

			if (t->ts < k->open_ts || t->ts >= end)
				continue;
			if (n == 0)
				o = t->px;
			h = t->px > h ? t->px : h;
			l = t->px < l ? t->px : l;
			c = t->px;
			vol += t->qty;
			qv += (__int128) t->px * t->qty;
			n++;
		}
		if (n == 0)
			continue;
		checked++;
		CHECK(k->o == o && k->h == h && k->l == l && k->c == c);
		CHECK(k->vol == vol && k->quote_vol == qv && k->count == n);
		CHECK(k->first_id + n - 1 == k->last_id);
	}
	CHECK(checked >= 9);
	/* 5m buckets closed twice in 10 minutes (one starts before t0) */
	{
		int			fives = 0;

		for (int i = 0; i < seen->nklines; i++)
			fives += seen->ivs[i] == MK_IV_5M;
		CHECK(fives == 2 || fives == 3);
	}
	mk_free(&m);
	free(seen);
}

static void
test_empty_buckets(void)
{
	Market		m;
	const char *err = NULL;
	Seen	   *seen = calloc(1, sizeof(Seen));
	MkSink		sink = {seen, on_trade, on_kline};
	int64_t		t0 = 1700000040000;		/* a minute boundary */

	CHECK(mk_init(&m, "ETH-USDT=3000", 7, t0, &err));
	mk_trade(&m.sym[0], t0 + 1000, &sink);
	/* three quiet minutes later: one full kline and two empty ones */
	mk_advance(&m.sym[0], t0 + 180000, &sink);
	{
		int			ones = 0,
					empty = 0;

		for (int i = 0; i < seen->nklines; i++)
			if (seen->ivs[i] == MK_IV_1M)
			{
				ones++;
				if (seen->klines[i].count == 0)
				{
					empty++;
					CHECK(seen->klines[i].o == seen->trades[0].px);
					CHECK(seen->klines[i].first_id == -1);
				}
			}
		CHECK(ones == 3 && empty == 2);
	}
	mk_free(&m);
	free(seen);
}

static void
test_deterministic(void)
{
	Market		a,
				b;
	const char *err = NULL;
	Seen	   *sa = calloc(1, sizeof(Seen));
	Seen	   *sb = calloc(1, sizeof(Seen));
	MkSink		ka = {sa, on_trade, NULL};
	MkSink		kb = {sb, on_trade, NULL};

	CHECK(mk_init(&a, "BTC-USDT,ETH-USDT", 99, 0, &err));
	/* another symbol list must not change BTC-USDT's market */
	CHECK(mk_init(&b, "SOL-USDT,BTC-USDT", 99, 0, &err));
	for (int i = 0; i < 1000; i++)
	{
		mk_trade(&a.sym[0], 1000 + i, &ka);
		mk_trade(&b.sym[1], 1000 + i, &kb);
	}
	CHECK(memcmp(sa->trades, sb->trades, sizeof(MkTrade) * 1000) == 0);
	CHECK(sa->trades[999].id == sa->trades[0].id + 999);
	mk_free(&b);
	CHECK(!mk_init(&b, "BTC-USDT,BTCUSDT", 1, 0, &err));
	mk_free(&a);
	free(sa);
	free(sb);
}

static void
test_book_diff(void)
{
	Market		m;
	const char *err = NULL;
	MkBook		before,
				after,
				delta;

	CHECK(mk_init(&m, "BTC-USDT", 5, 0, &err));
	for (int round = 0; round < 200; round++)
	{
		MkLevel		rebuilt[4 * MK_BOOK_DEPTH];
		int			n = 0;
		bool		ok = true;

		mk_book(&m.sym[0], MK_BOOK_DEPTH, &before);
		for (int i = 0; i < 1 + round % 70; i++)
			mk_trade(&m.sym[0], 1000 + round * 100 + i, NULL);
		mk_book(&m.sym[0], MK_BOOK_DEPTH, &after);
		mk_book_diff(&before, &after, &delta);
		/* apply the bid changes to the old bids: the new bids come out */
		for (int i = 0; i < before.nbids; i++)
			rebuilt[n++] = before.bids[i];
		for (int d = 0; d < delta.nbids; d++)
		{
			int			j;

			for (j = 0; j < n && rebuilt[j].px != delta.bids[d].px; j++)
				;
			if (j == n)
				rebuilt[n++] = delta.bids[d];
			else
				rebuilt[j].qty = delta.bids[d].qty;
		}
		for (int i = 0; i < after.nbids; i++)
		{
			int			j;

			for (j = 0; j < n && rebuilt[j].px != after.bids[i].px; j++)
				;
			ok &= j < n && rebuilt[j].qty == after.bids[i].qty;
		}
		for (int j = 0, live = 0; j < n; j++)
			live += rebuilt[j].qty != 0, ok &= j < n - 1 || live == after.nbids;
		CHECK(ok);
		CHECK(after.bids[0].px < after.asks[0].px);
	}
	mk_free(&m);
}

static void
test_fmt_units(void)
{
	char		buf[64];

	mk_fmt_units(buf, sizeof(buf), 6000012, 2, true);
	CHECK_STR(buf, "60000.12");
	mk_fmt_units(buf, sizeof(buf), 6000010, 2, false);
	CHECK_STR(buf, "60000.1");
	mk_fmt_units(buf, sizeof(buf), 6000000, 2, false);
	CHECK_STR(buf, "60000");
	mk_fmt_units(buf, sizeof(buf), 5, 5, true);
	CHECK_STR(buf, "0.00005");
	mk_fmt_units(buf, sizeof(buf), 5, 5, false);
	CHECK_STR(buf, "0.00005");
	mk_fmt_units(buf, sizeof(buf), 0, 8, true);
	CHECK_STR(buf, "0.00000000");
	mk_fmt_units(buf, sizeof(buf), (__int128) 6000000000 * 100000000, 7, true);
	CHECK_STR(buf, "60000000000.0000000");
	CHECK(mk_fmt_units(buf, 4, 123456, 2, true) == 0);
}

int
main(void)
{
	test_klines_equal_trades();
	test_empty_buckets();
	test_deterministic();
	test_book_diff();
	test_fmt_units();
	return unit_summary("test_market");
}
