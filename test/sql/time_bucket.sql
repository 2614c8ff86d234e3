--
-- time_bucket: TimescaleDB semantics, computed in UTC whatever TimeZone says
--
\set SHOW_CONTEXT never
SET TimeZone = 'America/New_York';

-- fixed widths: floor on a grid through 2000-01-03 00:00 UTC
SELECT zvt.time_bucket('1 minute', '2026-11-25 13:07:59.999999+00'::timestamptz);
SELECT zvt.time_bucket('15 minutes', '2026-11-25 13:07:00+00'::timestamptz);
SELECT zvt.time_bucket('1 hour', '2026-11-25 13:59:59+00'::timestamptz);
-- a day bucket starts at midnight UTC, which is 19:00 the day before in New York
SELECT zvt.time_bucket('1 day', '2026-11-25 03:00:00+00'::timestamptz);

-- weeks start on Monday: 2026-11-25 is a Wednesday, 2026-11-23 a Monday
SELECT zvt.time_bucket('1 week', '2026-11-25 13:00:00+00'::timestamptz) AT TIME ZONE 'UTC' AS monday;
SELECT zvt.time_bucket('1 week', '2026-11-23 00:00:00+00'::timestamptz) AT TIME ZONE 'UTC' AS same_monday;
SELECT zvt.time_bucket('1 week', '2026-11-22 23:59:59+00'::timestamptz) AT TIME ZONE 'UTC' AS previous_monday;

-- before 1970 and before the origin: still floor, never truncation toward zero
SELECT zvt.time_bucket('1 day', '1969-12-31 12:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('15 minutes', '1969-12-31 23:59:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 week', '1969-12-31 00:00:00+00'::timestamptz) AT TIME ZONE 'UTC' AS monday_1969;
SELECT zvt.time_bucket('7 days', '1999-12-31 00:00:00+00'::timestamptz) AT TIME ZONE 'UTC' AS before_origin;

-- months: calendar months from 2000-01-01
SELECT zvt.time_bucket('1 month', '2026-11-25 13:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('3 months', '2026-11-25 13:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 year', '2026-11-25 13:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 month', '1969-12-31 23:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('2 months', '1969-12-31 23:00:00+00'::timestamptz) AT TIME ZONE 'UTC';

-- explicit origins
SELECT zvt.time_bucket('10 minutes', '2026-11-25 13:07:00+00'::timestamptz,
                       '2000-01-01 00:03:00+00') AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('10 minutes', '2026-11-25 13:02:59+00'::timestamptz,
                       '2000-01-01 00:03:00+00') AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 day', '2026-11-25 03:00:00+00'::timestamptz,
                       '2026-01-01 05:00:00+00') AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 month', '2026-11-10 00:00:00+00'::timestamptz,
                       '2000-01-15 00:00:00+00') AT TIME ZONE 'UTC';
-- an origin after ts works the same
SELECT zvt.time_bucket('1 hour', '2026-11-25 13:30:00+00'::timestamptz,
                       '2030-01-01 00:20:00+00') AT TIME ZONE 'UTC';

-- the result does not depend on the session TimeZone
SET TimeZone = 'Asia/Kolkata';
SELECT zvt.time_bucket('1 day', '2026-11-25 03:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 month', '2026-11-30 20:00:00+00'::timestamptz) AT TIME ZONE 'UTC';
RESET TimeZone;

-- timestamp without time zone is bucketed as written
SELECT zvt.time_bucket('1 hour', '2026-11-25 13:45:00'::timestamp);
SELECT zvt.time_bucket('1 week', '2026-11-25 13:45:00'::timestamp);

-- NULLs and infinities pass through; NULL origin means the default
SELECT zvt.time_bucket('1 hour', NULL::timestamptz) IS NULL AS null_ts;
SELECT zvt.time_bucket('1 hour', '2026-11-25 13:45:00+00'::timestamptz, NULL) AT TIME ZONE 'UTC';
SELECT zvt.time_bucket('1 hour', 'infinity'::timestamptz), zvt.time_bucket('1 hour', '-infinity'::timestamptz);

-- the ends of the timestamp range: exact, whatever the width (the last
-- second of 294276 once came back as 08:01:49.551616 of some other day)
SET TimeZone = 'UTC';
SELECT zvt.time_bucket('1 day', '294276-12-31 23:59:59+00'::timestamptz);
SELECT zvt.time_bucket('1 minute', '294276-12-31 23:59:59.999999+00'::timestamptz);
SELECT zvt.time_bucket('1 week', '294276-12-31 23:59:59+00'::timestamptz);
SELECT zvt.time_bucket('1 month', '294276-12-31 23:59:59+00'::timestamptz);
SELECT zvt.time_bucket('1 year', '294276-12-31 23:59:59+00'::timestamptz);
SELECT zvt.time_bucket('1 day', '294276-12-31 23:59:59'::timestamp);
SELECT zvt.time_bucket('1 day', '294276-12-31 23:59:59+00'::timestamptz, '294276-12-31 12:00+00');
SELECT zvt.time_bucket('1 week', '4714-11-24 12:00:00+00 BC'::timestamptz);
SELECT zvt.time_bucket('1 day', '4714-11-24 00:00:00+00 BC'::timestamptz);
-- a bucket that would start before 4714-11-24 BC, or a width past
-- 292,000 years, is 22008
\set VERBOSITY default
SELECT zvt.time_bucket('1 month', '4714-11-24 12:00:00+00 BC'::timestamptz);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('5 hours', '4714-11-24 00:00:00+00 BC'::timestamptz);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('2147483647 days', '2026-11-25 13:00+00'::timestamptz);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('1 day', '294276-12-31 23:59:59+00'::timestamptz, '4714-11-24 01:00+00 BC');
RESET TimeZone;

-- bad widths are 22023
\set VERBOSITY default
SELECT zvt.time_bucket('0 minutes', now());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('-1 hour', now());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('1 month 2 days', now());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('-1 month', now());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.time_bucket('1 hour', now(), 'infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
