/*-------------------------------------------------------------------------
 *
 * src/core/zvt_time.h
 *	  Pure-C calendar and bucketing arithmetic shared by time_bucket and
 *	  the hypertable chunk logic.
 *
 * Every instant here is an int64 count of microseconds since the Unix
 * epoch (1970-01-01 00:00:00 UTC).  The PostgreSQL glue converts to and
 * from TimestampTz (microseconds since 2000-01-01) at the boundary, so
 * this file includes no PostgreSQL header and is unit-tested on its own.
 *
 * All functions are total: they report overflow through their return
 * value and never abort.
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

/* TimescaleDB's default origins: 2000-01-03 (a Monday) and 2000-01-01. */
#define ZT_DEFAULT_ORIGIN	(ZT_PG_EPOCH_OFFSET + 2 * ZT_USECS_PER_DAY)
#define ZT_DEFAULT_MONTH_ORIGIN	ZT_PG_EPOCH_OFFSET

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

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
extern int64_t zt_days_from_civil(int32_t year, int32_t month, int32_t day);
extern void zt_civil_from_days(int64_t days, int32_t *year, int32_t *month,
							   int32_t *day);

/* Split an instant into its UTC calendar fields, and join them again. */
extern void zt_to_civil(int64_t ts, ZtCivil *out);
extern bool zt_from_civil(const ZtCivil *c, int64_t *out);

/*
 * Bucket of fixed width (width > 0 microseconds) containing ts, aligned
 * on origin: origin + floor((ts - origin) / width) * width.
 *
 * Returns false (and leaves *out alone) on overflow.
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
 * Returns false (and leaves *out alone) on overflow.
 */
extern bool zt_bucket_months(int64_t ts, int32_t months, int64_t origin,
							 int64_t *out);

/* origin shifted by a signed number of calendar months (clamping the day). */
extern bool zt_add_months(int64_t ts, int64_t months, int64_t *out);

/*
 * The chunk of width `interval` (> 0 us) holding ts: [*start, *end), both
 * multiples of interval from the Unix epoch.  Returns false on overflow.
 */
extern bool zt_chunk_range(int64_t ts, int64_t interval, int64_t *start,
						   int64_t *end);

/*
 * Name suffix of the chunk starting at start: "p20261125" when the chunk
 * starts at midnight and interval is whole days, else "p20261125_130000"
 * (with "_123456" microseconds appended when not whole seconds).  Years
 * outside 0..9999 get a sign and as many digits as needed.  Writes at most
 * buflen bytes including the terminator; returns the length it needed.
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
