/*
 * test/unit/test_candle_agg.c
 *	  Unit tests of src/core/candle_agg.c: the 1-minute roll-up against a
 *	  naive reference (group by bucket, first/last, sums in time order)
 *	  over random minutes, and the edge cases by hand.
 */
#include "core/candle_agg.h"
#include "core/zvt_time.h"
#include "unit_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define MIN_US ZT_USECS_PER_MINUTE

static CaMinute
minute(int64_t i, double o, bool closed, bool exchange)
{
	CaMinute	m = {0};

	m.ts = i * MIN_US;
	m.open = o;
	m.high = o + 2;
	m.low = o - 1;
	m.close = o + 1;
	m.volume = 1 + i % 7;
	m.quote_volume = 100.0 * (1 + i % 7);
	m.has_quote_volume = true;
	m.trade_count = 10 + i % 5;
	m.has_trade_count = true;
	m.local_ts = 1000 - i;
	m.closed = closed;
	m.exchange = exchange;
	return m;
}

/* all bars of n minutes, by push and finish; returns how many */
static int
roll(const CaMinute *in, int n, int64_t width, CaBar *out)
{
	CaAcc		acc;
	int			k = 0;

	candle_agg_init(&acc, width, ZT_DEFAULT_ORIGIN);
	for (int i = 0; i < n; i++)
		if (candle_agg_push(&acc, &in[i], &out[k]) == CA_BAR)
			k++;
	if (candle_agg_finish(&acc, &out[k]))
		k++;
	return k;
}

static void
test_by_hand(void)
{
	CaMinute	in[12];
	CaBar		out[12];
	int			n = 0;
	int			k;

	/* minutes 0..9, minute 3 twice (exchange first), 5 missing, 9 open */
	for (int i = 0; i < 10; i++)
	{
		if (i == 5)
			continue;
		in[n++] = minute(i, 100 + i, i < 9, true);
		if (i == 3)
		{
			in[n] = minute(i, 999, true, false);
			in[n].high = 5000;
			n++;
		}
	}
	k = roll(in, n, 5 * MIN_US, out);
	CHECK(k == 2);
	CHECK(out[0].ts == 0 && out[0].open == 100 && out[0].close == 105);
	CHECK(out[0].high == 106 && out[0].low == 99);	/* the duplicate is skipped */
	CHECK(out[0].minutes == 5 && out[0].closed && out[0].exchange);
	CHECK(out[0].volume == 1 + 2 + 3 + 4 + 5);
	CHECK(out[0].trade_count == 10 + 11 + 12 + 13 + 14);
	CHECK(out[0].local_ts == 1000);
	CHECK(out[1].ts == 5 * MIN_US && out[1].open == 106 && out[1].minutes == 4);
	CHECK(!out[1].closed);		/* minute 5 missing, minute 9 open */

	/* a bucket of trades-built minutes is 'trades', quote_volume absent */
	in[0] = minute(0, 1, true, false);
	in[0].has_quote_volume = false;
	in[0].has_trade_count = false;
	k = roll(in, 1, MIN_US, out);
	CHECK(k == 1 && !out[0].exchange && !out[0].has_quote_volume &&
		  !out[0].has_trade_count && out[0].closed);

	/* NaN: max is NaN, min ignores it */
	in[0] = minute(0, 10, true, true);
	in[1] = minute(1, 10, true, true);
	in[1].high = NAN;
	in[1].low = NAN;
	k = roll(in, 2, 5 * MIN_US, out);
	CHECK(k == 1 && isnan(out[0].high) && out[0].low == 9);
}

static void
test_errors(void)
{
	CaAcc		acc;
	CaMinute	m = minute(10, 1, true, true);
	CaBar		b;

	CHECK(!candle_agg_init(&acc, 0, 0));
	CHECK(!candle_agg_init(&acc, 90 * ZT_USECS_PER_SEC, 0));
	CHECK(candle_agg_init(&acc, MIN_US, 0));
	CHECK(candle_agg_push(&acc, &m, &b) == CA_NONE);
	m.ts -= MIN_US;
	CHECK(candle_agg_push(&acc, &m, &b) == CA_UNSORTED);
	m.ts += 2 * MIN_US;
	m.trade_count = INT64_MAX;
	CHECK(candle_agg_push(&acc, &m, &b) == CA_BAR);
	m.ts += MIN_US;
	CHECK(candle_agg_push(&acc, &m, &b) == CA_BAR);
	CHECK(candle_agg_init(&acc, 5 * MIN_US, 0));
	CHECK(candle_agg_push(&acc, &m, &b) == CA_NONE);
	m.ts += MIN_US;
	CHECK(candle_agg_push(&acc, &m, &b) == CA_OVERFLOW);
	m.ts = INT64_MAX;			/* infinity has no bucket */
	CHECK(candle_agg_push(&acc, &m, &b) == CA_RANGE);
	CHECK(candle_agg_finish(&acc, &b) && b.minutes == 1);
	CHECK(!candle_agg_finish(&acc, &b));

	CHECK(candle_agg_width_ok(MIN_US));
	CHECK(candle_agg_width_ok(4 * 60 * MIN_US));
	CHECK(candle_agg_width_ok(ZT_USECS_PER_DAY));
	CHECK(candle_agg_width_ok(7 * ZT_USECS_PER_DAY));
	CHECK(!candle_agg_width_ok(7 * MIN_US));
	CHECK(!candle_agg_width_ok(2 * ZT_USECS_PER_DAY));
}

/* the reference: bar of bucket [lo, lo + width) over deduplicated minutes */
static bool
reference(const CaMinute *in, int n, int64_t lo, int64_t width, CaBar *b)
{
	int			cnt = 0;
	bool		all_closed = true;
	int64_t		prev = INT64_MIN;

	for (int i = 0; i < n; i++)
	{
		const CaMinute *m = &in[i];

		if (m->ts == prev || m->ts < lo || m->ts >= lo + width)
		{
			prev = m->ts;
			continue;
		}
		prev = m->ts;
		if (cnt == 0)
		{
			b->ts = lo;
			b->open = m->open;
			b->high = m->high;
			b->low = m->low;
			b->volume = 0;
			b->trade_count = 0;
			b->local_ts = m->local_ts;
			b->exchange = true;
		}
		b->high = m->high > b->high ? m->high : b->high;
		b->low = m->low < b->low ? m->low : b->low;
		b->close = m->close;
		b->volume += m->volume;
		b->trade_count += m->trade_count;
		b->local_ts = m->local_ts > b->local_ts ? m->local_ts : b->local_ts;
		b->exchange = b->exchange && m->exchange;
		all_closed = all_closed && m->closed;
		cnt++;
	}
	b->minutes = cnt;
	b->closed = all_closed && cnt == width / MIN_US;
	return cnt > 0;
}

static void
test_random(void)
{
	enum
	{
		N = 3000
	};
	static CaMinute in[2 * N];
	static CaBar out[2 * N];
	const int64_t widths[] = {MIN_US, 5 * MIN_US, 15 * MIN_US, 60 * MIN_US,
	240 * MIN_US, ZT_USECS_PER_DAY, 7 * ZT_USECS_PER_DAY};
	int			bad = 0;

	srand(42);
	for (int round = 0; round < 20; round++)
	{
		int			n = 0;
		int64_t		t = (int64_t) (rand() % 100000) - 50000;

		for (int i = 0; i < N; i++)
		{
			t += 1 + (rand() % 8 == 0 ? rand() % 300 : 0);
			in[n] = minute(t, rand() % 1000 + (rand() % 100) / 64.0, rand() % 20 != 0, true);
			in[n].high = in[n].open + rand() % 50;
			in[n].local_ts = rand();
			n++;
			if (rand() % 10 == 0)
			{
				in[n] = minute(t, 5000, true, false);	/* a duplicate, skipped */
				n++;
			}
		}
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
		{
			int			k = roll(in, n, widths[w], out);

			for (int j = 0; j < k; j++)
			{
				CaBar		r;

				if (!reference(in, n, out[j].ts, widths[w], &r) ||
					r.open != out[j].open || r.high != out[j].high ||
					r.low != out[j].low || r.close != out[j].close ||
					r.volume != out[j].volume || r.trade_count != out[j].trade_count ||
					r.local_ts != out[j].local_ts || r.minutes != out[j].minutes ||
					r.closed != out[j].closed || r.exchange != out[j].exchange)
					bad++;
				if (j > 0 && out[j].ts <= out[j - 1].ts)
					bad++;
			}
		}
	}
	CHECK(bad == 0);
}

int
main(void)
{
	test_by_hand();
	test_errors();
	test_random();
	return unit_summary("candle_agg");
}
