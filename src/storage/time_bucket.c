/*-------------------------------------------------------------------------
 *
 * src/storage/time_bucket.c
 *	  SQL glue for zvt.time_bucket over timestamptz and timestamp.
 *
 * The arithmetic lives in src/core/zvt_time.c, which counts instants as
 * PostgreSQL does (microseconds since 2000-01-01), so timestamps pass
 * through unconverted and the result is exact over PostgreSQL's whole
 * range; this file validates the width and raises the SQLSTATEs of API.md:
 * 22023 for a bad width, 22008 when the bucket's start (or the width) is
 * outside what a timestamp can hold.  A timestamptz is bucketed in UTC
 * whatever the session's TimeZone, as TimescaleDB does; a timestamp is
 * bucketed as written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "core/zvt_time.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_time_bucket);

static Timestamp bucket_timestamp(Interval *width, Timestamp ts,
								  bool has_origin, Timestamp origin);

/*
 * time_bucket(bucket_width interval, ts timestamptz|timestamp,
 *             origin DEFAULT NULL): declared non-strict so that a NULL
 * origin means the default origin; NULL width or ts gives NULL.
 */
Datum
zvt_time_bucket(PG_FUNCTION_ARGS)
{
	Interval   *width;
	Timestamp	ts;
	bool		has_origin;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	width = PG_GETARG_INTERVAL_P(0);
	ts = PG_GETARG_TIMESTAMP(1);
	has_origin = PG_NARGS() > 2 && !PG_ARGISNULL(2);

	PG_RETURN_TIMESTAMP(bucket_timestamp(width, ts, has_origin,
										 has_origin ? PG_GETARG_TIMESTAMP(2) : 0));
}

/*
 * TimestampTz and Timestamp share one representation, so one routine
 * serves both; infinities pass through unchanged.
 */
static Timestamp
bucket_timestamp(Interval *width, Timestamp ts, bool has_origin,
				 Timestamp origin)
{
	int64_t		result;
	int64		usecs = 0;
	bool		ok;

	if (width->month != 0)
	{
		if (width->day != 0 || width->time != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bucket width cannot mix months with days or time"),
					 errhint("Use a width of whole months, such as '3 months', or one without months, such as '7 days'.")));
		if (width->month < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bucket width must be greater than zero")));
	}
	else
	{
		if (width->day < 0 || width->time < 0 ||
			(width->day == 0 && width->time == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bucket width must be greater than zero")));
		if (pg_mul_s64_overflow((int64) width->day, USECS_PER_DAY, &usecs) ||
			pg_add_s64_overflow(usecs, width->time, &usecs))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("bucket width out of range"),
					 errdetail("A width of days and time must be shorter than 292,000 years.")));
	}

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	if (has_origin && TIMESTAMP_NOT_FINITE(origin))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("origin must be finite")));

	if (width->month != 0)
		ok = zt_bucket_months(ts, width->month,
							  has_origin ? origin : ZT_DEFAULT_MONTH_ORIGIN, &result);
	else
		ok = zt_bucket_fixed(ts, usecs, has_origin ? origin : ZT_DEFAULT_ORIGIN, &result);

	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range"),
				 errdetail("The bucket holding it would start before 4714-11-24 BC, the earliest timestamp.")));
	return (Timestamp) result;
}
