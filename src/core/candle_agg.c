/*-------------------------------------------------------------------------
 *
 * src/core/candle_agg.c
 *	  The 1-minute to N-minute candle roll-up (rules in candle_agg.h).
 *
 * A streaming accumulator: memory stays one bar per timeframe whatever
 * the range, so a year of minutes is rolled up straight from a cursor.
 * No PostgreSQL header.
 *
 *-------------------------------------------------------------------------
 */
#include "core/candle_agg.h"

#include "core/zvt_time.h"

#define CA_WEEK		(7 * ZT_USECS_PER_DAY)

/*
 * max() and min() as PostgreSQL orders float8: NaN above every number, so
 * max() of a bucket with a NaN is NaN and min() ignores it unless all are.
 */
static inline double
pg_max(double a, double b)
{
	if (a != a)
		return a;
	return (b != b || b > a) ? b : a;
}

static inline double
pg_min(double a, double b)
{
	if (a != a)
		return b;
	return (b != b || a <= b) ? a : b;
}

bool
candle_agg_width_ok(int64_t width)
{
	if (width < ZT_USECS_PER_MINUTE || width % ZT_USECS_PER_MINUTE != 0)
		return false;
	return ZT_USECS_PER_DAY % width == 0 || width == CA_WEEK;
}

bool
candle_agg_init(CaAcc *acc, int64_t width, int64_t origin)
{
	acc->width = width;
	acc->origin = origin;
	acc->per_bucket = width > 0 ? width / ZT_USECS_PER_MINUTE : 0;
	acc->has_last = false;
	acc->open = false;
	acc->all_closed = true;
	return width >= ZT_USECS_PER_MINUTE && width % ZT_USECS_PER_MINUTE == 0;
}

/* The finished bar in progress: closed needs every minute, all closed. */
static void
bar_close(CaAcc *acc, CaBar *out)
{
	*out = acc->bar;
	out->closed = acc->all_closed && acc->bar.minutes == acc->per_bucket;
	acc->open = false;
}

/* A new bar of bucket `bucket` opened by minute m. */
static void
bar_open(CaAcc *acc, int64_t bucket, const CaMinute *m)
{
	CaBar	   *b = &acc->bar;

	b->ts = bucket;
	b->open = m->open;
	b->high = m->high;
	b->low = m->low;
	b->close = m->close;
	b->volume = m->volume;
	b->quote_volume = m->has_quote_volume ? m->quote_volume : 0;
	b->has_quote_volume = m->has_quote_volume;
	b->trade_count = m->has_trade_count ? m->trade_count : 0;
	b->has_trade_count = m->has_trade_count;
	b->local_ts = m->local_ts;
	b->minutes = 1;
	b->closed = false;
	b->exchange = m->exchange;
	acc->all_closed = m->closed;
	acc->open = true;
}

CaStatus
candle_agg_push(CaAcc *acc, const CaMinute *m, CaBar *out)
{
	int64_t		bucket;
	CaBar	   *b = &acc->bar;
	CaStatus	st = CA_NONE;

	if (acc->has_last && m->ts < acc->last_ts)
		return CA_UNSORTED;
	if (acc->has_last && m->ts == acc->last_ts)
		return CA_NONE;			/* the same minute again: the first wins */
	if (!zt_bucket_fixed(m->ts, acc->width, acc->origin, &bucket))
		return CA_RANGE;

	if (acc->open && bucket == b->ts)
	{
		int64_t		tc = b->trade_count;

		if (m->has_trade_count &&
			__builtin_add_overflow(tc, m->trade_count, &tc))
			return CA_OVERFLOW;
		b->high = pg_max(b->high, m->high);
		b->low = pg_min(b->low, m->low);
		b->close = m->close;
		b->volume += m->volume;
		if (m->has_quote_volume)
		{
			b->quote_volume += m->quote_volume;
			b->has_quote_volume = true;
		}
		if (m->has_trade_count)
		{
			b->trade_count = tc;
			b->has_trade_count = true;
		}
		if (m->local_ts > b->local_ts)
			b->local_ts = m->local_ts;
		b->minutes++;
		b->exchange = b->exchange && m->exchange;
		acc->all_closed = acc->all_closed && m->closed;
	}
	else
	{
		if (acc->open)
		{
			bar_close(acc, out);
			st = CA_BAR;
		}
		bar_open(acc, bucket, m);
	}
	acc->last_ts = m->ts;
	acc->has_last = true;
	return st;
}

bool
candle_agg_finish(CaAcc *acc, CaBar *out)
{
	bool		had = acc->open;

	if (had)
		bar_close(acc, out);
	acc->has_last = false;
	acc->all_closed = true;
	return had;
}
