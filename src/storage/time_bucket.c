/*-------------------------------------------------------------------------
 *
 * src/storage/time_bucket.c
 *	  SQL glue for zvt.time_bucket over timestamptz and timestamp.
 *
 * The arithmetic lives in src/core/zvt_time.c; this file validates the
 * width, converts PostgreSQL timestamps (microseconds since 2000-01-01) to
 * the core's Unix microseconds and back, and raises the SQLSTATEs of
 * API.md.  A timestamptz is bucketed in UTC whatever the session's
 * TimeZone, as TimescaleDB does; a timestamp is bucketed as written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
	else if (width->time + (int64) width->day * USECS_PER_DAY <= 0 ||
			 width->day < 0 || width->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket width must be greater than zero")));

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	if (has_origin && TIMESTAMP_NOT_FINITE(origin))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("origin must be finite")));

	if (width->month != 0)
		ok = zt_bucket_months(ZVT_TS_TO_UNIX(ts), width->month,
							  has_origin ? ZVT_TS_TO_UNIX(origin) : ZT_DEFAULT_MONTH_ORIGIN,
							  &result);
	else
		ok = zt_bucket_fixed(ZVT_TS_TO_UNIX(ts),
							 width->time + (int64) width->day * USECS_PER_DAY,
							 has_origin ? ZVT_TS_TO_UNIX(origin) : ZT_DEFAULT_ORIGIN,
							 &result);

	if (!ok || !IS_VALID_TIMESTAMP(ZVT_UNIX_TO_TS(result)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return ZVT_UNIX_TO_TS(result);
}
