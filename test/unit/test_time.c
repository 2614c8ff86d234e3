/*
 * test/unit/test_time.c
 *	  Unit tests of src/core/zvt_time.c: civil dates, time buckets, chunk
 *	  ranges, names and literals.  Expected values were worked out by hand
 *	  (and agree with PostgreSQL's own date arithmetic).
 */
#include "core/zvt_time.h"
#include "unit_test.h"

#include <stdint.h>

/*
 * The instant (microseconds since 2000-01-01 UTC) of a UTC date and time;
 * astronomical years (0 = 1 BC, -4713 = 4714 BC).
 */
static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return (zt_days_from_civil(y, mo, d) - ZT_PG_EPOCH_DAYS) * ZT_USECS_PER_DAY +
		((int64_t) h * 3600 + mi * 60 + s) * ZT_USECS_PER_SEC;
}

static void
test_civil(void)
{
	int32_t		y,
				m,
				d;

	CHECK(zt_days_from_civil(1970, 1, 1) == 0);
	CHECK(zt_days_from_civil(2000, 1, 1) == 10957);
	CHECK(zt_days_from_civil(1969, 12, 31) == -1);
	CHECK(zt_days_from_civil(2000, 3, 1) - zt_days_from_civil(2000, 2, 28) == 2);	/* leap */
	CHECK(zt_days_from_civil(1900, 3, 1) - zt_days_from_civil(1900, 2, 28) == 1);	/* not leap */
	zt_civil_from_days(-719528, &y, &m, &d);	/* 0000-01-01 */
	CHECK(y == 0 && m == 1 && d == 1);
	zt_civil_from_days(zt_days_from_civil(2100, 1, 1), &y, &m, &d);
	CHECK(y == 2100 && m == 1 && d == 1);
	for (int64_t day = -800000; day < 800000; day += 997)
	{
		zt_civil_from_days(day, &y, &m, &d);
		if (zt_days_from_civil(y, m, d) != day)
		{
			CHECK(!"civil round trip");
			break;
		}
	}
	CHECK(utc(2000, 1, 1, 0, 0, 0) == 0);
	CHECK(utc(1970, 1, 1, 0, 0, 0) == ZT_UNIX_EPOCH);
	CHECK(-ZT_UNIX_EPOCH == ZT_PG_EPOCH_OFFSET);
	/* PostgreSQL's range: 4714-11-24 BC to 294276-12-31 */
	CHECK(utc(-4713, 11, 24, 0, 0, 0) == ZT_TS_MIN);
	CHECK(utc(294277, 1, 1, 0, 0, 0) == ZT_TS_END);
}

static void
test_floor_div(void)
{
	CHECK(zt_floor_div(7, 2) == 3);
	CHECK(zt_floor_div(-7, 2) == -4);
	CHECK(zt_floor_div(-8, 2) == -4);
	/* a negative divisor floors too */
	CHECK(zt_floor_div(7, -2) == -4);
	CHECK(zt_floor_div(-7, -2) == 3);
	CHECK(zt_floor_div(8, -2) == -4);
	CHECK(zt_floor_div(0, 5) == 0);
	CHECK(zt_floor_div(INT64_MIN, 1) == INT64_MIN);
}

static void
test_bucket_fixed(void)
{
	int64_t		out = 0;
	int64_t		week = 7 * ZT_USECS_PER_DAY;

	/* weeks start on Monday (2000-01-03 origin); 2026-11-25 is a Wednesday */
	CHECK(zt_bucket_fixed(utc(2026, 11, 25, 13, 0, 0), week, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(2026, 11, 23, 0, 0, 0));
	/* before 1970 and before the origin: floor, not truncation */
	CHECK(zt_bucket_fixed(utc(1969, 12, 31, 23, 59, 0), 15 * ZT_USECS_PER_MINUTE,
						  ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(1969, 12, 31, 23, 45, 0));
	CHECK(zt_bucket_fixed(utc(1969, 12, 31, 12, 0, 0), ZT_USECS_PER_DAY, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(1969, 12, 31, 0, 0, 0));
	/* an explicit origin shifts the grid */
	CHECK(zt_bucket_fixed(utc(2026, 11, 25, 13, 7, 0), 10 * ZT_USECS_PER_MINUTE,
						  utc(2000, 1, 1, 0, 3, 0), &out));
	CHECK(out == utc(2026, 11, 25, 13, 3, 0));
	CHECK(zt_bucket_fixed(utc(2026, 11, 25, 13, 2, 59), 10 * ZT_USECS_PER_MINUTE,
						  utc(2000, 1, 1, 0, 3, 0), &out));
	CHECK(out == utc(2026, 11, 25, 12, 53, 0));
	/* exact boundaries stay put */
	CHECK(zt_bucket_fixed(utc(2026, 11, 23, 0, 0, 0), week, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(2026, 11, 23, 0, 0, 0));
	/* invalid widths and overflow are reported, not undefined */
	CHECK(!zt_bucket_fixed(0, 0, 0, &out));
	CHECK(!zt_bucket_fixed(INT64_MIN, 3, 1, &out));
}

static void
test_bucket_months(void)
{
	int64_t		out = 0;

	CHECK(zt_bucket_months(utc(2026, 11, 25, 13, 0, 0), 1, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(2026, 11, 1, 0, 0, 0));
	CHECK(zt_bucket_months(utc(2026, 11, 25, 0, 0, 0), 3, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(2026, 10, 1, 0, 0, 0));
	CHECK(zt_bucket_months(utc(2026, 2, 14, 0, 0, 0), 12, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(2026, 1, 1, 0, 0, 0));
	/* before 1970 */
	CHECK(zt_bucket_months(utc(1969, 12, 31, 23, 0, 0), 1, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(1969, 12, 1, 0, 0, 0));
	CHECK(zt_bucket_months(utc(1969, 5, 10, 0, 0, 0), 3, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(1969, 4, 1, 0, 0, 0));
	/* origin mid-month: buckets run 15th to 15th */
	CHECK(zt_bucket_months(utc(2026, 11, 10, 0, 0, 0), 1, utc(2000, 1, 15, 0, 0, 0), &out));
	CHECK(out == utc(2026, 10, 15, 0, 0, 0));
	CHECK(zt_bucket_months(utc(2026, 11, 15, 0, 0, 0), 1, utc(2000, 1, 15, 0, 0, 0), &out));
	CHECK(out == utc(2026, 11, 15, 0, 0, 0));
	/* day clamping: origin on the 31st */
	CHECK(zt_add_months(utc(2000, 1, 31, 0, 0, 0), 1, &out));
	CHECK(out == utc(2000, 2, 29, 0, 0, 0));
	CHECK(zt_add_months(utc(2000, 3, 31, 0, 0, 0), -1, &out));
	CHECK(out == utc(2000, 2, 29, 0, 0, 0));
	CHECK(!zt_bucket_months(0, 0, 0, &out));
}

static void
test_chunk_range(void)
{
	int64_t		s = 0,
				e = 0;

	CHECK(zt_chunk_range(utc(2026, 11, 25, 13, 0, 0), ZT_USECS_PER_DAY, &s, &e));
	CHECK(s == utc(2026, 11, 25, 0, 0, 0) && e == utc(2026, 11, 26, 0, 0, 0));
	CHECK(zt_chunk_range(utc(1969, 12, 31, 12, 0, 0), ZT_USECS_PER_DAY, &s, &e));
	CHECK(s == utc(1969, 12, 31, 0, 0, 0) && e == ZT_UNIX_EPOCH);
	/* 30-day chunks count from 1970-01-01, not from month starts */
	CHECK(zt_chunk_range(utc(2026, 11, 25, 0, 0, 0), 30 * ZT_USECS_PER_DAY, &s, &e));
	CHECK((s - ZT_UNIX_EPOCH) % (30 * ZT_USECS_PER_DAY) == 0 && s <= utc(2026, 11, 25, 0, 0, 0) &&
		  e > utc(2026, 11, 25, 0, 0, 0) && e - s == 30 * ZT_USECS_PER_DAY);
	CHECK(!zt_chunk_range(INT64_MAX, ZT_USECS_PER_DAY, &s, &e));
	CHECK(!zt_chunk_range(0, 0, &s, &e));
}

static void
test_names_and_literals(void)
{
	char		buf[64];

	zt_chunk_suffix(utc(2026, 11, 25, 0, 0, 0), ZT_USECS_PER_DAY, buf, sizeof(buf));
	CHECK_STR(buf, "p20261125");
	zt_chunk_suffix(utc(2026, 11, 25, 13, 0, 0), 3600 * ZT_USECS_PER_SEC, buf, sizeof(buf));
	CHECK_STR(buf, "p20261125_130000");
	zt_chunk_suffix(utc(2026, 11, 25, 0, 0, 0), 3600 * ZT_USECS_PER_SEC, buf, sizeof(buf));
	CHECK_STR(buf, "p20261125_000000");
	zt_chunk_suffix(utc(1969, 12, 31, 0, 0, 0), ZT_USECS_PER_DAY, buf, sizeof(buf));
	CHECK_STR(buf, "p19691231");
	zt_chunk_suffix(utc(2026, 1, 1, 0, 0, 1) + 5, 7, buf, sizeof(buf));
	CHECK_STR(buf, "p20260101_000001_000005");
	/* truncation reports the length needed */
	CHECK(zt_chunk_suffix(utc(2026, 11, 25, 0, 0, 0), ZT_USECS_PER_DAY, buf, 4) == 9);
	CHECK_STR(buf, "p20");

	zt_format_iso(utc(2026, 11, 25, 13, 5, 9), true, buf, sizeof(buf));
	CHECK_STR(buf, "2026-11-25 13:05:09+00");
	zt_format_iso(utc(1969, 12, 31, 0, 0, 0) + 250000, false, buf, sizeof(buf));
	CHECK_STR(buf, "1969-12-31 00:00:00.250000");
	zt_format_iso(utc(0, 1, 1, 0, 0, 0), true, buf, sizeof(buf));
	CHECK_STR(buf, "0001-01-01 00:00:00+00 BC");
}

/*
 * The ends of PostgreSQL's range: exact buckets where the result is a
 * valid timestamp, false where it is not, and no chunk whose bounds a
 * partition could not state.
 */
static void
test_range_edges(void)
{
	int64_t		out = 0;
	int64_t		s = 0,
				e = 0;
	int64_t		last_sec = utc(294276, 12, 31, 23, 59, 59);
	int64_t		week = 7 * ZT_USECS_PER_DAY;
	int64_t		days = zt_days_from_civil(294276, 12, 31);
	/* 1970-01-01 was a Thursday: 0 = Monday */
	int64_t		weekday = ((days + 3) % 7 + 7) % 7;

	/* the example: 294276-12-31 23:59:59 is in the bucket of that day */
	CHECK(zt_bucket_fixed(last_sec, ZT_USECS_PER_DAY, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(294276, 12, 31, 0, 0, 0));
	CHECK(zt_bucket_fixed(ZT_TS_END - 1, ZT_USECS_PER_MINUTE, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(294276, 12, 31, 23, 59, 0));
	CHECK(zt_bucket_fixed(last_sec, week, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == utc(294276, 12, 31, 0, 0, 0) - weekday * ZT_USECS_PER_DAY);
	CHECK(zt_bucket_months(last_sec, 1, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(294276, 12, 1, 0, 0, 0));
	CHECK(zt_bucket_months(last_sec, 12, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(out == utc(294276, 1, 1, 0, 0, 0));
	CHECK(zt_bucket_months(ZT_TS_END - 1, 1, utc(2000, 1, 31, 0, 0, 0), &out));
	CHECK(out == utc(294276, 12, 31, 0, 0, 0));

	/* 4714-11-24 BC is a Monday and a midnight: day and week buckets hold */
	CHECK(zt_bucket_fixed(ZT_TS_MIN + 1, ZT_USECS_PER_DAY, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == ZT_TS_MIN);
	CHECK(zt_bucket_fixed(ZT_TS_MIN + 1, week, ZT_DEFAULT_ORIGIN, &out));
	CHECK(out == ZT_TS_MIN);
	/* ... but its month began before the range, and so did a 5-hour bucket */
	CHECK(!zt_bucket_months(ZT_TS_MIN, 1, ZT_DEFAULT_MONTH_ORIGIN, &out));
	CHECK(!zt_bucket_fixed(ZT_TS_MIN, 5 * 3600 * ZT_USECS_PER_SEC, ZT_DEFAULT_ORIGIN, &out));
	/* a width wider than the range */
	CHECK(!zt_bucket_fixed(0, INT64_MAX, ZT_DEFAULT_ORIGIN, &out));
	CHECK(zt_bucket_fixed(0, INT64_MAX, 0, &out) && out == 0);

	/* months past the end */
	CHECK(zt_add_months(utc(294276, 11, 30, 0, 0, 0), 1, &out));
	CHECK(out == utc(294276, 12, 30, 0, 0, 0));
	CHECK(!zt_add_months(utc(294276, 12, 15, 0, 0, 0), 1, &out));
	CHECK(!zt_add_months(0, INT64_MAX, &out));

	/* chunks: the last whole day has one, the very last day does not */
	CHECK(zt_chunk_range(utc(294276, 12, 30, 12, 0, 0), ZT_USECS_PER_DAY, &s, &e));
	CHECK(s == utc(294276, 12, 30, 0, 0, 0) && e == utc(294276, 12, 31, 0, 0, 0));
	CHECK(!zt_chunk_range(last_sec, ZT_USECS_PER_DAY, &s, &e));
	CHECK(!zt_chunk_range(ZT_TS_END - 1, ZT_USECS_PER_DAY, &s, &e));
	CHECK(zt_chunk_range(ZT_TS_MIN, ZT_USECS_PER_DAY, &s, &e) && s == ZT_TS_MIN);
	/* weeks from 1970 (a Thursday): the Thursday before 4714-11-24 BC is out */
	CHECK(!zt_chunk_range(ZT_TS_MIN, week, &s, &e));
	CHECK(!zt_chunk_range(INT64_MAX, ZT_USECS_PER_DAY, &s, &e));
	CHECK(!zt_chunk_range(INT64_MIN, ZT_USECS_PER_DAY, &s, &e));
	/* one chunk from 1970 to past 292000 AD still has bounds */
	CHECK(zt_chunk_range(0, INT64_MAX, &s, &e) && s == ZT_UNIX_EPOCH);

	/* names and literals of the far years */
	{
		char		buf[64];

		zt_chunk_suffix(utc(294276, 12, 30, 0, 0, 0), ZT_USECS_PER_DAY, buf, sizeof(buf));
		CHECK_STR(buf, "p2942761230");
		zt_chunk_suffix(ZT_TS_MIN, ZT_USECS_PER_DAY, buf, sizeof(buf));
		CHECK_STR(buf, "pm47131124");
		zt_format_iso(utc(294276, 12, 31, 0, 0, 0), true, buf, sizeof(buf));
		CHECK_STR(buf, "294276-12-31 00:00:00+00");
		zt_format_iso(ZT_TS_MIN, true, buf, sizeof(buf));
		CHECK_STR(buf, "4714-11-24 00:00:00+00 BC");
	}
}

/* drop_chunks' window of instants whose chunks lie wholly inside. */
static void
test_chunk_window(void)
{
	int64_t		lo = 0,
				hi = 0;
	int64_t		day = ZT_USECS_PER_DAY;

	CHECK(zt_chunk_window(day, true, utc(2026, 11, 25, 13, 0, 0), false, 0, &lo, &hi));
	CHECK(lo == ZT_TS_MIN && hi == utc(2026, 11, 25, 0, 0, 0));
	CHECK(zt_chunk_window(day, false, 0, true, utc(2026, 11, 25, 13, 0, 0), &lo, &hi));
	CHECK(lo == utc(2026, 11, 26, 0, 0, 0) && hi == utc(294276, 12, 31, 0, 0, 0));
	CHECK(zt_chunk_window(day, true, utc(2026, 11, 27, 0, 0, 0), true,
						  utc(2026, 11, 25, 0, 0, 0), &lo, &hi));
	CHECK(lo == utc(2026, 11, 25, 0, 0, 0) && hi == utc(2026, 11, 27, 0, 0, 0));
	/* a window narrower than a chunk holds none */
	CHECK(!zt_chunk_window(day, true, utc(2026, 11, 25, 13, 0, 0), true,
						   utc(2026, 11, 25, 1, 0, 0), &lo, &hi));
	/* infinities: everything that has a chunk, or nothing */
	CHECK(zt_chunk_window(day, true, INT64_MAX, false, 0, &lo, &hi));
	CHECK(lo == ZT_TS_MIN && hi == utc(294276, 12, 31, 0, 0, 0));
	CHECK(!zt_chunk_window(day, true, INT64_MIN, false, 0, &lo, &hi));
	CHECK(!zt_chunk_window(day, false, 0, true, INT64_MAX, &lo, &hi));
	CHECK(zt_chunk_window(day, false, 0, true, INT64_MIN, &lo, &hi) && lo == ZT_TS_MIN);
	/* weeks: the first whole chunk starts on the Thursday after 4714-11-24 BC */
	CHECK(zt_chunk_window(7 * day, false, 0, false, 0, &lo, &hi));
	CHECK(lo == ZT_TS_MIN + 3 * day);
	CHECK(!zt_chunk_window(INT64_MAX, false, 0, false, 0, &lo, &hi));
	CHECK(!zt_chunk_window(0, false, 0, false, 0, &lo, &hi));
}

/*
 * Every function on extreme inputs: results are valid timestamps and
 * buckets never lie after ts (UBSan fails the run on any overflow).
 */
static void
test_total(void)
{
	const int64_t vals[] = {INT64_MIN, INT64_MIN + 1, ZT_TS_MIN - 1, ZT_TS_MIN, -1, 0,
	ZT_TS_END - 1, ZT_TS_END, INT64_MAX - 1, INT64_MAX};
	const int64_t widths[] = {1, 7, ZT_USECS_PER_DAY, 30 * ZT_USECS_PER_DAY,
	INT64_MAX / 3, INT64_MAX};
	const int32_t months[] = {1, 5, 12, INT32_MAX};
	size_t		nv = sizeof(vals) / sizeof(vals[0]);
	int			bad = 0;

	for (size_t i = 0; i < nv; i++)
		for (size_t j = 0; j < nv; j++)
		{
			int64_t		out,
						lo,
						hi;

			for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++)
			{
				if (zt_bucket_fixed(vals[i], widths[k], vals[j], &out) &&
					(!ZT_TS_VALID(out) || out > vals[i]))
					bad++;
				if (zt_chunk_range(vals[i], widths[k], &lo, &hi) &&
					(!ZT_TS_VALID(lo) || !ZT_TS_VALID(hi) || lo > vals[i] || hi <= vals[i]))
					bad++;
				if (zt_chunk_window(widths[k], true, vals[i], true, vals[j], &lo, &hi) &&
					(!ZT_TS_VALID(lo) || !ZT_TS_VALID(hi) || lo >= hi))
					bad++;
			}
			for (size_t k = 0; k < sizeof(months) / sizeof(months[0]); k++)
				if (zt_bucket_months(vals[i], months[k], vals[j], &out) &&
					(!ZT_TS_VALID(out) || out > vals[i]))
					bad++;
			if (zt_add_months(vals[i], vals[j], &out) && !ZT_TS_VALID(out))
				bad++;
		}
	CHECK(bad == 0);
}

int
main(void)
{
	test_civil();
	test_floor_div();
	test_bucket_fixed();
	test_bucket_months();
	test_chunk_range();
	test_names_and_literals();
	test_range_edges();
	test_chunk_window();
	test_total();
	return unit_summary("test_time");
}
