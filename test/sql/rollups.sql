--
-- rollups: materialized candle roll-ups equal a roll-up from scratch,
-- before and after the refresh, after random late writes to 1-minute
-- candles (inside materialized buckets and in the tail); add and remove
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET client_min_messages = warning;

INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('okx', 'SOL-USDT', 'SOL-USDT', 'SOL', 'USDT', 'spot'),
       ('okx', 'XRP-USDT', 'XRP-USDT', 'XRP', 'USDT', 'spot')
ON CONFLICT DO NOTHING;

-- The roll-up from scratch, written here the plain way (one row per
-- minute, the exchange's first; sums in time order), as a reference.
CREATE FUNCTION pg_temp.scratch(sym text, tf interval, s timestamptz, f timestamptz)
RETURNS TABLE (ts timestamptz, open float8, high float8, low float8, close float8,
               volume float8, quote_volume float8, trade_count int8, closed bool,
               source text, local_ts timestamptz)
LANGUAGE sql STABLE AS $$
    WITH minute AS (
        SELECT DISTINCT ON (c.ts) c.*
          FROM zvt.candles c
         WHERE c.instrument_id = zvt._instrument_id('okx', sym)
           AND c.timeframe = interval '1 minute'
         ORDER BY c.ts, (c.source = 'exchange') DESC
    )
    SELECT zvt.time_bucket(tf, m.ts) AS b,
           (array_agg(m.open ORDER BY m.ts))[1], max(m.high), min(m.low),
           (array_agg(m.close ORDER BY m.ts DESC))[1],
           sum(m.volume ORDER BY m.ts), sum(m.quote_volume ORDER BY m.ts),
           sum(m.trade_count)::int8,
           bool_and(m.closed) AND count(*) = extract(epoch FROM tf) / 60,
           CASE WHEN bool_and(m.source = 'exchange') THEN 'exchange' ELSE 'trades' END,
           max(m.local_ts)
      FROM minute m
     GROUP BY 1
    HAVING zvt.time_bucket(tf, m.ts) >= s AND zvt.time_bucket(tf, m.ts) < f
$$;

-- Rows of zvt.ohlcv and of the reference that differ, over every
-- materialized timeframe and 30m, for both symbols, over a range that
-- starts and ends inside buckets.
CREATE FUNCTION pg_temp.differences(s timestamptz, f timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM (
        SELECT sym, tf, d.* FROM unnest(ARRAY['SOL-USDT', 'XRP-USDT']) sym,
               unnest(ARRAY['5 min', '15 min', '30 min', '1 hour', '4 hours', '1 day']::interval[]) tf,
               LATERAL (
                 (SELECT o.ts, o.open, o.high, o.low, o.close, o.volume, o.quote_volume,
                         o.trade_count, o.closed, o.source, o.local_ts
                    FROM zvt.ohlcv('okx', sym, tf, s, f) o
                  EXCEPT ALL
                  SELECT * FROM pg_temp.scratch(sym, tf, s, f))
                 UNION ALL
                 (SELECT * FROM pg_temp.scratch(sym, tf, s, f)
                  EXCEPT ALL
                  SELECT o.ts, o.open, o.high, o.low, o.close, o.volume, o.quote_volume,
                         o.trade_count, o.closed, o.source, o.local_ts
                    FROM zvt.ohlcv('okx', sym, tf, s, f) o)
               ) d
    ) x
$$;

-- Three days of minutes in 2024 (all below every watermark once
-- refreshed) and the last three hours up to an hour ahead (the tail),
-- values exact in binary so that any summation order agrees; every 7th
-- minute also built from trades, every 11th missing, every 13th open.
CREATE FUNCTION pg_temp.load(sym text, t0 timestamptz, n int) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                             quote_volume, trade_count, closed, source)
    SELECT date_trunc('minute', t0) + i * interval '1 minute', zvt._instrument_id('okx', sym),
           '1 minute', 100 + i % 17, 104 + i % 17, 98 + i % 17, 101 + i % 19,
           0.25 * (1 + i % 9), 25 * (1 + i % 9), CASE WHEN i % 5 <> 0 THEN 10 + i % 4 END,
           i % 13 <> 0, 'exchange'
      FROM generate_series(0, n - 1) i WHERE i % 11 <> 3;
    INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                             quote_volume, trade_count, closed, source)
    SELECT date_trunc('minute', t0) + i * interval '1 minute', zvt._instrument_id('okx', sym),
           '1 minute', 50, 60, 40, 55, 2, NULL, 3, true, 'trades'
      FROM generate_series(0, n - 1) i WHERE i % 7 = 0;
$$;
-- (The maintenance worker refreshes the roll-ups every second meanwhile:
-- what is checked holds whoever refreshes; a refresh called here waits
-- for the worker's and takes what the worker left.)
BEGIN;
-- chunks first, as zvt's writers make them: a maintenance pass moving
-- rows out of the default partition meanwhile would race the reference
-- (a plain SQL function under its caller's snapshot)
SELECT count(zvt._ensure_chunk('zvt.candles', d))
  FROM generate_series(timestamptz '2024-02-28', '2024-03-06', '1 day') d;
SELECT count(zvt._ensure_chunk('zvt.candles', now() + h * interval '1 hour'))
  FROM generate_series(-5, 2) h;
SELECT pg_temp.load('SOL-USDT', '2024-03-01', 3 * 1440);
SELECT pg_temp.load('XRP-USDT', '2024-03-01 07:00', 2 * 1440);
SELECT pg_temp.load('SOL-USDT', now() - interval '3 hours', 240);
SELECT pg_temp.load('XRP-USDT', now() - interval '3 hours', 240);
-- writes are logged by hour and instrument: 72 + 48 hours in 2024, and
-- 4 or 5 hours of each symbol lately
SELECT count(*) FILTER (WHERE lo < '2025-01-01') AS logged_2024,
       count(*) FILTER (WHERE lo > '2025-01-01') BETWEEN 8 AND 10 AS logged_lately,
       bool_and(hi - lo = interval '1 hour' AND date_trunc('hour', lo) = lo) AS by_hour
  FROM zvt._candle_invalidations
 WHERE instrument_id IN (zvt._instrument_id('okx', 'SOL-USDT'), zvt._instrument_id('okx', 'XRP-USDT'));
COMMIT;

-- exact before any refresh (everything computed), and after it
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS before_refresh;
SELECT pg_temp.differences(now() - interval '4 hours', now() + interval '2 hours') AS tail_before;
SELECT 1 AS refreshed FROM zvt._refresh_candle_rollups();
SELECT count(*) AS pending FROM zvt._candle_invalidations;
SELECT count(*) AS timeframes, bool_and(s.materialized_until <= now()) AS below_now
  FROM zvt.candle_rollups r JOIN zvt._rollup_state s USING (timeframe);
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS after_refresh;
SELECT pg_temp.differences(now() - interval '4 hours', now() + interval '2 hours') AS tail_after;

-- zvt.ohlcv reads the materialized bars: one changed behind its back
-- (as the owner may) shows, until a write to its minutes invalidates it
BEGIN;
UPDATE zvt._rollup_candles SET high = -1
 WHERE instrument_id = zvt._instrument_id('okx', 'SOL-USDT') AND timeframe = '1 hour'
   AND ts = '2024-03-02 10:00+00';
SELECT high FROM zvt.ohlcv('okx', 'SOL-USDT', '1 hour', '2024-03-02 10:00', '2024-03-02 11:00');
UPDATE zvt.candles SET volume = volume
 WHERE instrument_id = zvt._instrument_id('okx', 'SOL-USDT') AND ts = '2024-03-02 10:30+00';
SELECT high FROM zvt.ohlcv('okx', 'SOL-USDT', '1 hour', '2024-03-02 10:00', '2024-03-02 11:00');
COMMIT;
SELECT 1 AS refreshed FROM zvt._refresh_candle_rollups();
SELECT high FROM zvt._rollup_candles
 WHERE instrument_id = zvt._instrument_id('okx', 'SOL-USDT') AND timeframe = '1 hour'
   AND ts = '2024-03-02 10:00+00';

-- Random late writes, in rounds: updates of prices and volumes, late
-- minutes into gaps, deletes, trades-built minutes, minutes closing,
-- inside materialized buckets and in the tail; compared before and
-- after each refresh.
SELECT setseed(0.18);
CREATE FUNCTION pg_temp.late_writes(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz;
    sym text;
BEGIN
    FOR k IN 1 .. n LOOP
        sym := CASE WHEN random() < 0.5 THEN 'SOL-USDT' ELSE 'XRP-USDT' END;
        t := CASE WHEN random() < 0.7
                  THEN timestamptz '2024-03-01' + floor(random() * 3 * 1440) * interval '1 minute'
                  ELSE date_trunc('minute', now()) - floor(random() * 200 - 40) * interval '1 minute' END;
        CASE floor(random() * 5)
        WHEN 0 THEN
            UPDATE zvt.candles SET high = high + 8, close = close + 0.5, volume = volume + 0.25
             WHERE instrument_id = zvt._instrument_id('okx', sym) AND timeframe = '1 minute' AND ts = t;
        WHEN 1 THEN
            INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                                     quote_volume, trade_count, closed, source)
            VALUES (t, zvt._instrument_id('okx', sym), '1 minute', 70, 90, 1, 80, 1.5, 150, 7, true, 'exchange')
            ON CONFLICT (instrument_id, timeframe, source, ts)
            DO UPDATE SET low = excluded.low, closed = true;
        WHEN 2 THEN
            DELETE FROM zvt.candles
             WHERE instrument_id = zvt._instrument_id('okx', sym) AND timeframe = '1 minute' AND ts = t
               AND source = 'exchange';
        WHEN 3 THEN
            INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                                     closed, source)
            VALUES (t, zvt._instrument_id('okx', sym), '1 minute', 60, 61, 59, 60.5, 0.75, true, 'trades')
            ON CONFLICT DO NOTHING;
        ELSE
            UPDATE zvt.candles SET closed = NOT closed
             WHERE instrument_id = zvt._instrument_id('okx', sym) AND timeframe = '1 minute'
               AND ts >= t AND ts < t + interval '3 minutes';
        END CASE;
    END LOOP;
END;
$$;
SELECT pg_temp.late_writes(150);
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS round1_pending;
SELECT pg_temp.differences(now() - interval '4 hours', now() + interval '2 hours') AS round1_tail;
SELECT 1 AS refreshed FROM zvt._refresh_candle_rollups();
SELECT count(*) AS pending FROM zvt._candle_invalidations;
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS round1_refreshed;
SELECT pg_temp.late_writes(150);
-- a late write rolled back with its savepoint leaves no trace either way
BEGIN;
SAVEPOINT s;
UPDATE zvt.candles SET high = 1e6 WHERE ts >= '2024-03-02' AND ts < '2024-03-02 01:00';
ROLLBACK TO SAVEPOINT s;
UPDATE zvt.candles SET high = high + 1 WHERE ts >= '2024-03-02' AND ts < '2024-03-02 00:05';
COMMIT;
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS round2_pending;
CALL zvt.run_maintenance();
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS round2_refreshed;
SELECT pg_temp.differences(now() - interval '4 hours', now() + interval '2 hours') AS round2_tail;

-- add a roll-up: exact at once (computed), then materialized
SELECT timeframe, builtin FROM zvt.add_candle_rollup('30 minutes');
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS added_pending;
SELECT 1 AS refreshed FROM zvt._refresh_candle_rollups();
SELECT count(*) > 0 AS materialized FROM zvt._rollup_candles WHERE timeframe = '30 minutes';
SELECT pg_temp.differences('2024-02-29 23:07', '2024-03-04 05:00') AS added_refreshed;
SELECT timeframe, builtin FROM zvt.add_candle_rollup('30 minutes', if_not_exists => true);
\set VERBOSITY default
SELECT zvt.add_candle_rollup('30 minutes');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.add_candle_rollup('7 minutes');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.add_candle_rollup('1 minute');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.add_candle_rollup('1 month');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT zvt.remove_candle_rollup('30 minutes');
SELECT count(*) FROM zvt._rollup_candles WHERE timeframe = '30 minutes';
SELECT count(*) FROM zvt._rollup_state WHERE timeframe = '30 minutes';
SELECT zvt.remove_candle_rollup('30 minutes', if_exists => true);
SELECT zvt.remove_candle_rollup('30 minutes');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT timeframe, builtin FROM zvt.candle_rollups ORDER BY timeframe;

-- backtests over longer bars read the roll-ups through zvt.ohlcv
SELECT trades >= 0 AS ran
  FROM zvt.backtest('buy_and_hold', 'okx', 'SOL-USDT', '5 minutes', '2024-03-01', '2024-03-04', '{}');

-- TRUNCATE logs everything: nothing materialized is returned any more
TRUNCATE zvt.candles;
SELECT count(*) FROM zvt.ohlcv('okx', 'SOL-USDT', '1 hour', '2024-03-01', '2024-03-04');
SELECT 1 AS refreshed FROM zvt._refresh_candle_rollups();
SELECT count(*) FROM zvt._rollup_candles;
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.instruments;
