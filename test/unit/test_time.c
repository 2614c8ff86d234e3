/*
 * test/unit/test_time.c
 *	  Unit tests of src/core/zvt_time.c: civil dates, time buckets, chunk
 *	  ranges, names and literals.  Expected values were worked out by hand
 *	  (and agree with PostgreSQL's own date arithmetic).
 */
#include "core/zvt_time.h"
#include "unit_test.h"

#include <stdint.h>

/* Unix microseconds of a UTC date and time. */
static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return zt_days_from_civil(y, mo, d) * ZT_USECS_PER_DAY +
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
	CHECK(ZT_PG_EPOCH_OFFSET == utc(2000, 1, 1, 0, 0, 0));
}

static void
test_floor_div(void)
{
	CHECK(zt_floor_div(7, 2) == 3);
	CHECK(zt_floor_div(-7, 2) == -4);
	CHECK(zt_floor_div(-8, 2) == -4);
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
	CHECK(s == utc(1969, 12, 31, 0, 0, 0) && e == 0);
	/* 30-day chunks count from 1970-01-01, not from month starts */
	CHECK(zt_chunk_range(utc(2026, 11, 25, 0, 0, 0), 30 * ZT_USECS_PER_DAY, &s, &e));
	CHECK(s % (30 * ZT_USECS_PER_DAY) == 0 && s <= utc(2026, 11, 25, 0, 0, 0) &&
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

int
main(void)
{
	test_civil();
	test_floor_div();
	test_bucket_fixed();
	test_bucket_months();
	test_chunk_range();
	test_names_and_literals();
	return unit_summary("test_time");
}
