/*-------------------------------------------------------------------------
 *
 * src/core/zvt_time.h
 *	  Pure-C calendar and bucketing arithmetic shared by time_bucket and
 *	  the hypertable chunk logic.
 *
 * Every instant here is an int64 count of microseconds since 2000-01-01
 * 00:00:00 UTC, PostgreSQL's own TimestampTz representation.  Unix
 * microseconds would overflow int64 for PostgreSQL's last thirty years of
 * timestamps (after 294247), so the core counts from PostgreSQL's epoch:
 * every valid PostgreSQL timestamp, 4714-11-24 BC to 294276-12-31, fits,
 * and the glue passes TimestampTz values through unchanged.  Day numbers
 * (zt_days_from_civil) still count from 1970-01-01.
 *
 * All functions are total: they report overflow, and results outside
 * PostgreSQL's timestamp range, through their return value, never abort,
 * and use overflow-checked arithmetic for every step that could wrap.
 * This file includes no PostgreSQL header and is unit-tested on its own
 * (test/unit/test_time.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_TIME_H
#define ZVT_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZT_USECS_PER_SEC	INT64_C(1000000)
#define ZT_USECS_PER_MINUTE	INT64_C(60000000)
#define ZT_USECS_PER_DAY	INT64_C(86400000000)

/* Offset of the PostgreSQL epoch (2000-01-01) from the Unix epoch, in us. */
#define ZT_PG_EPOCH_OFFSET	INT64_C(946684800000000)
/* Days from 1970-01-01 to 2000-01-01. */
#define ZT_PG_EPOCH_DAYS	INT64_C(10957)
/* 1970-01-01 00:00:00 UTC as an instant: chunk ranges count from it. */
#define ZT_UNIX_EPOCH		(-ZT_PG_EPOCH_OFFSET)

/*
 * PostgreSQL's range of valid timestamps: ZT_TS_MIN (4714-11-24 00:00:00
 * BC, its MIN_TIMESTAMP) inclusive to ZT_TS_END (294277-01-01 00:00:00, its
 * END_TIMESTAMP) exclusive.  The int64 extremes stand for -infinity and
 * infinity, as in PostgreSQL.
 */
#define ZT_TS_MIN			INT64_C(-211813488000000000)
#define ZT_TS_END			INT64_C(9223371331200000000)
#define ZT_TS_VALID(ts)		((ts) >= ZT_TS_MIN && (ts) < ZT_TS_END)

/* TimescaleDB's default origins: 2000-01-03 (a Monday) and 2000-01-01. */
#define ZT_DEFAULT_ORIGIN	(2 * ZT_USECS_PER_DAY)
#define ZT_DEFAULT_MONTH_ORIGIN	INT64_C(0)

/* A broken-down UTC time. */
typedef struct ZtCivil
{
	int32_t		year;			/* proleptic Gregorian, astronomical (0 = 1 BC) */
	int32_t		month;			/* 1..12 */
	int32_t		day;			/* 1..31 */
	int64_t		usec_of_day;	/* 0 .. ZT_USECS_PER_DAY - 1 */
} ZtCivil;

/* floor(a / b) for b > 0, correct for negative a. */
extern int64_t zt_floor_div(int64_t a, int64_t b);

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, and back; exact for
 * every int32 year.
 */
extern int64_t zt_days_from_civil(int32_t year, int32_t month, int32_t day);
extern void zt_civil_from_days(int64_t days, int32_t *year, int32_t *month,
							   int32_t *day);

/*
 * Split an instant into its UTC calendar fields (any int64 works), and
 * join them again: false (and *out unaltered) when the result does not
 * fit int64.
 */
extern void zt_to_civil(int64_t ts, ZtCivil *out);
extern bool zt_from_civil(const ZtCivil *c, int64_t *out);

/*
 * Bucket of fixed width (width > 0 microseconds) containing ts, aligned
 * on origin: origin + floor((ts - origin) / width) * width.
 *
 * Returns false (and leaves *out alone) when width <= 0 or the bucket's
 * start is not a valid PostgreSQL timestamp.
 */
extern bool zt_bucket_fixed(int64_t ts, int64_t width, int64_t origin,
							int64_t *out);

/*
 * Bucket of `months` calendar months (months > 0) containing ts, aligned
 * on origin: the latest origin + k * months months (k any integer) that is
 * not after ts.  Adding months to a day-of-month past the end of the target
 * month clamps to the month's last day, as PostgreSQL's interval addition
 * does.
 *
 * Returns false (and leaves *out alone) when months <= 0 or the bucket's
 * start is not a valid PostgreSQL timestamp.
 */
extern bool zt_bucket_months(int64_t ts, int32_t months, int64_t origin,
							 int64_t *out);

/*
 * ts shifted by a signed number of calendar months (clamping the day);
 * false when the result is not a valid PostgreSQL timestamp.
 */
extern bool zt_add_months(int64_t ts, int64_t months, int64_t *out);

/*
 * The chunk of width `interval` (> 0 us) holding ts: [*start, *end), both
 * multiples of interval from 1970-01-01 UTC.  Returns false (outputs
 * unaltered) when there is no such chunk: interval <= 0, or a bound that
 * is not a valid PostgreSQL timestamp (so a partition bound could not say
 * it), which is the case for +-infinity and for the first and last
 * partial chunks of PostgreSQL's range.  Rows at such a ts have no chunk.
 */
extern bool zt_chunk_range(int64_t ts, int64_t interval, int64_t *start,
						   int64_t *end);

/*
 * The instants [*lo, *hi) whose chunks (of width interval) lie wholly
 * before `older` (when has_older) and wholly at or after `newer` (when
 * has_newer): what drop_chunks removes.  Chunkless instants (see
 * zt_chunk_range) are never inside.  older and newer may be any int64,
 * infinities included.  Returns false when the window is empty or
 * interval <= 0; *lo and *hi are then unaltered.  Both bounds, when
 * returned, are valid PostgreSQL timestamps.
 */
extern bool zt_chunk_window(int64_t interval, bool has_older, int64_t older,
							bool has_newer, int64_t newer, int64_t *lo,
							int64_t *hi);

/*
 * Name suffix of the chunk starting at start: "p20261125" when the chunk
 * starts at midnight and interval is whole days, else "p20261125_130000"
 * (with "_123456" microseconds appended when not whole seconds).  Years
 * outside 0..9999 get as many digits as needed, with "m" for minus
 * (astronomical years: "m4713" is 4714 BC).  Writes at most buflen bytes
 * including the terminator; returns the length it needed.
 */
extern size_t zt_chunk_suffix(int64_t start, int64_t interval, char *buf,
							  size_t buflen);

/*
 * ISO 8601 text of ts in UTC ("2026-11-25 13:00:00+00", with ".123456"
 * when needed, "+00" only when with_zone), stable whatever the session's
 * DateStyle or TimeZone, for use as a SQL literal.  Years before 1 get
 * PostgreSQL's " BC" suffix.  Same buffer contract as zt_chunk_suffix.
 */
extern size_t zt_format_iso(int64_t ts, bool with_zone, char *buf,
							size_t buflen);

#endif							/* ZVT_TIME_H */
