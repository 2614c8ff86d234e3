/*-------------------------------------------------------------------------
 *
 * src/core/zvt_time.c
 *	  Calendar arithmetic, time buckets and chunk ranges in plain C.
 *
 * The civil-date conversions are Howard Hinnant's days_from_civil /
 * civil_from_days algorithms (public domain descriptions), valid for any
 * proleptic Gregorian date whose day count fits in int64.  Bucketing
 * follows TimescaleDB's time_bucket: fixed widths are floor divisions on
 * an origin reduced modulo the width (so huge origins cannot overflow),
 * month widths count calendar months from the origin.
 *
 * Instants are PostgreSQL's (microseconds since 2000-01-01 UTC), so the
 * whole PostgreSQL range fits int64; every step that could leave int64
 * uses the __builtin_*_overflow checks, and every instant handed back is
 * checked against PostgreSQL's range (ZT_TS_VALID), so a caller never
 * sees a wrapped value.  See zvt_time.h for each function's contract.
 *
 *-------------------------------------------------------------------------
 */
#include "zvt_time.h"

#include <inttypes.h>
#include <stdio.h>

static int32_t days_in_month(int32_t year, int32_t month);
static bool align_down(int64_t ts, int64_t width, int64_t origin, int64_t *out);
static bool add_months_raw(int64_t ts, int64_t months, int64_t *out);

int64_t
zt_floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t
zt_days_from_civil(int32_t year, int32_t month, int32_t day)
{
	int64_t		y = (int64_t) year - (month <= 2 ? 1 : 0);
	int64_t		era = (y >= 0 ? y : y - 399) / 400;
	int64_t		yoe = y - era * 400;
	int64_t		doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
zt_civil_from_days(int64_t days, int32_t *year, int32_t *month, int32_t *day)
{
	int64_t		z = days + 719468;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;
	int32_t		m = (int32_t) (mp < 10 ? mp + 3 : mp - 9);

	*day = (int32_t) (doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int32_t) (yoe + era * 400 + (m <= 2 ? 1 : 0));
}

static int32_t
days_in_month(int32_t year, int32_t month)
{
	static const int32_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return (month == 2 && leap) ? 29 : mdays[month - 1];
}

void
zt_to_civil(int64_t ts, ZtCivil *out)
{
	/* floor division that cannot overflow, even at INT64_MIN */
	int64_t		days = ts / ZT_USECS_PER_DAY;
	int64_t		usec = ts % ZT_USECS_PER_DAY;

	if (usec < 0)
	{
		usec += ZT_USECS_PER_DAY;
		days--;
	}
	out->usec_of_day = usec;
	zt_civil_from_days(days + ZT_PG_EPOCH_DAYS, &out->year, &out->month, &out->day);
}

bool
zt_from_civil(const ZtCivil *c, int64_t *out)
{
	int64_t		days = zt_days_from_civil(c->year, c->month, c->day) - ZT_PG_EPOCH_DAYS;
	int64_t		us;

	if (__builtin_mul_overflow(days, ZT_USECS_PER_DAY, &us) ||
		__builtin_add_overflow(us, c->usec_of_day, &us))
		return false;
	*out = us;
	return true;
}

/*
 * The latest origin + k * width (k any integer) not after ts, in int64
 * without a range check; false on int64 overflow.  width > 0.
 */
static bool
align_down(int64_t ts, int64_t width, int64_t origin, int64_t *out)
{
	/* reduce the origin into [0, width) so only ts can be large */
	int64_t		offset = origin % width;
	int64_t		shifted;
	int64_t		bucket;

	if (offset < 0)
		offset += width;
	if (__builtin_sub_overflow(ts, offset, &shifted) ||
		__builtin_mul_overflow(zt_floor_div(shifted, width), width, &bucket) ||
		__builtin_add_overflow(bucket, offset, &bucket))
		return false;
	*out = bucket;
	return true;
}

bool
zt_bucket_fixed(int64_t ts, int64_t width, int64_t origin, int64_t *out)
{
	int64_t		bucket;

	if (width <= 0 || !align_down(ts, width, origin, &bucket) || !ZT_TS_VALID(bucket))
		return false;
	*out = bucket;
	return true;
}

/* ts plus months calendar months, in int64 without a range check. */
static bool
add_months_raw(int64_t ts, int64_t months, int64_t *out)
{
	ZtCivil		c;
	int64_t		index;
	int32_t		dim;

	zt_to_civil(ts, &c);
	if (__builtin_add_overflow((int64_t) c.year * 12 + (c.month - 1), months, &index))
		return false;
	if (index / 12 > INT32_MAX / 2 || index / 12 < INT32_MIN / 2)
		return false;
	c.year = (int32_t) zt_floor_div(index, 12);
	c.month = (int32_t) (index - (int64_t) c.year * 12) + 1;
	dim = days_in_month(c.year, c.month);
	if (c.day > dim)
		c.day = dim;
	return zt_from_civil(&c, out);
}

bool
zt_add_months(int64_t ts, int64_t months, int64_t *out)
{
	int64_t		result;

	if (!add_months_raw(ts, months, &result) || !ZT_TS_VALID(result))
		return false;
	*out = result;
	return true;
}

bool
zt_bucket_months(int64_t ts, int32_t months, int64_t origin, int64_t *out)
{
	ZtCivil		t;
	ZtCivil		o;
	int64_t		diff;
	int64_t		candidate;

	if (months <= 0)
		return false;
	zt_to_civil(ts, &t);
	zt_to_civil(origin, &o);
	diff = ((int64_t) t.year * 12 + t.month) - ((int64_t) o.year * 12 + o.month);
	/* the origin's anniversary in ts's month may still lie after ts */
	if (!add_months_raw(origin, diff, &candidate))
		return false;
	if (candidate > ts)
		diff--;
	return zt_add_months(origin, zt_floor_div(diff, months) * months, out);
}

bool
zt_chunk_range(int64_t ts, int64_t interval, int64_t *start, int64_t *end)
{
	int64_t		s;
	int64_t		e;

	if (interval <= 0 || !align_down(ts, interval, ZT_UNIX_EPOCH, &s) ||
		__builtin_add_overflow(s, interval, &e))
		return false;
	if (!ZT_TS_VALID(s) || !ZT_TS_VALID(e))
		return false;
	*start = s;
	*end = e;
	return true;
}

bool
zt_chunk_window(int64_t interval, bool has_older, int64_t older,
				bool has_newer, int64_t newer, int64_t *lo, int64_t *hi)
{
	int64_t		first;			/* start of the first chunk that has bounds */
	int64_t		last;			/* end of the last one */
	int64_t		l;
	int64_t		h;

	if (interval <= 0 ||
		!align_down(ZT_TS_MIN, interval, ZT_UNIX_EPOCH, &first) ||
		!align_down(ZT_TS_END - 1, interval, ZT_UNIX_EPOCH, &last))
		return false;
	/* the chunk holding ZT_TS_END - 1 ends past the range: never a chunk */
	if (first < ZT_TS_MIN && __builtin_add_overflow(first, interval, &first))
		return false;
	if (first >= last)
		return false;

	/* first and last are aligned, so clamping into them keeps alignment */
	h = last;
	if (has_older)
	{
		int64_t		c = older < first ? first : (older > last ? last : older);

		if (!align_down(c, interval, ZT_UNIX_EPOCH, &h))
			return false;
	}
	l = first;
	if (has_newer)
	{
		int64_t		c = newer < first ? first : (newer > last ? last : newer);

		if (!align_down(c, interval, ZT_UNIX_EPOCH, &l))
			return false;
		if (l < c)
			l += interval;		/* <= last, which is aligned and above c */
	}
	if (l >= h)
		return false;
	*lo = l;
	*hi = h;
	return true;
}

size_t
zt_chunk_suffix(int64_t start, int64_t interval, char *buf, size_t buflen)
{
	ZtCivil		c;
	int64_t		secs;
	int			n;
	char		yearbuf[16];

	zt_to_civil(start, &c);
	if (c.year >= 0 && c.year <= 9999)
		snprintf(yearbuf, sizeof(yearbuf), "%04d", (int) c.year);
	else
		snprintf(yearbuf, sizeof(yearbuf), "%s%d", c.year < 0 ? "m" : "", (int) (c.year < 0 ? -c.year : c.year));

	if (c.usec_of_day == 0 && interval % ZT_USECS_PER_DAY == 0)
		n = snprintf(buf, buflen, "p%s%02d%02d", yearbuf, (int) c.month, (int) c.day);
	else
	{
		secs = c.usec_of_day / ZT_USECS_PER_SEC;
		if (c.usec_of_day % ZT_USECS_PER_SEC == 0)
			n = snprintf(buf, buflen, "p%s%02d%02d_%02d%02d%02d", yearbuf,
						 (int) c.month, (int) c.day, (int) (secs / 3600),
						 (int) (secs / 60 % 60), (int) (secs % 60));
		else
			n = snprintf(buf, buflen, "p%s%02d%02d_%02d%02d%02d_%06d", yearbuf,
						 (int) c.month, (int) c.day, (int) (secs / 3600),
						 (int) (secs / 60 % 60), (int) (secs % 60),
						 (int) (c.usec_of_day % ZT_USECS_PER_SEC));
	}
	return n < 0 ? 0 : (size_t) n;
}

size_t
zt_format_iso(int64_t ts, bool with_zone, char *buf, size_t buflen)
{
	ZtCivil		c;
	int64_t		secs;
	int32_t		year;
	bool		bc;
	char		frac[16] = "";
	int			n;

	zt_to_civil(ts, &c);
	/* astronomical year 0 is 1 BC */
	bc = c.year <= 0;
	year = bc ? 1 - c.year : c.year;
	secs = c.usec_of_day / ZT_USECS_PER_SEC;
	if (c.usec_of_day % ZT_USECS_PER_SEC != 0)
		snprintf(frac, sizeof(frac), ".%06d", (int) (c.usec_of_day % ZT_USECS_PER_SEC));
	n = snprintf(buf, buflen, "%04d-%02d-%02d %02d:%02d:%02d%s%s%s",
				 (int) year, (int) c.month, (int) c.day,
				 (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60),
				 frac, with_zone ? "+00" : "", bc ? " BC" : "");
	return n < 0 ? 0 : (size_t) n;
}
