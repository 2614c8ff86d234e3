#!/usr/bin/env bash
# The maintenance worker (not a CALL) keeps the candle roll-ups current:
# 1-minute candles written, then a late repair inside a materialized hour,
# are taken in (the log empties, the materialized bars change), and the
# materialized bars equal a roll-up from scratch.
set -u
. "$(dirname "$0")/common.bash"

q >/dev/null <<'SQL' || fail "setup"
SET client_min_messages = warning;
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('okx', 'RUW-USDT', 'RUW-USDT', 'RUW', 'USDT', 'spot') ON CONFLICT DO NOTHING;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
SELECT timestamptz '2024-06-01' + i * interval '1 minute', zvt._instrument_id('okx', 'RUW-USDT'),
       '1 minute', 100 + i % 13, 110 + i % 13, 90 + i % 13, 101 + i % 7, 1 + i % 5, true
  FROM generate_series(0, 1439) i;
SQL
iid=$(q -c "SELECT zvt._instrument_id('okx', 'RUW-USDT')")
failures=$(q -c "SELECT failures FROM zvt.maintenance_status()")

# the worker takes the log in and materializes the day
poll_until "SELECT count(*) FROM zvt._candle_invalidations WHERE instrument_id = $iid" 0 30 \
	|| fail "the worker did not take the invalidation log in"
poll_until "SELECT count(*) FROM zvt._rollup_candles WHERE instrument_id = $iid AND timeframe = '1 hour'" 24 30 \
	|| fail "the worker did not materialize the hours"

# a late repair inside a materialized hour: the worker recomputes it
q -c "UPDATE zvt.candles SET high = 999 WHERE instrument_id = $iid AND ts = '2024-06-01 05:17+00'" >/dev/null
[ "$(q -c "SELECT high FROM zvt.ohlcv('okx', 'RUW-USDT', '1 hour', '2024-06-01 05:00', '2024-06-01 06:00')")" = 999 ] \
	|| fail "zvt.ohlcv did not see the repair at once"
poll_until "SELECT high FROM zvt._rollup_candles WHERE instrument_id = $iid AND timeframe = '1 hour' AND ts = '2024-06-01 05:00+00'" 999 30 \
	|| fail "the worker did not recompute the repaired hour"

# the materialized bars are the roll-up from scratch
diff=$(q <<SQL
SELECT count(*) FROM (
  SELECT zvt.time_bucket(tf, ts) b, (array_agg(open ORDER BY ts))[1] o, max(high) h, min(low) l,
         (array_agg(close ORDER BY ts DESC))[1] c, sum(volume ORDER BY ts) v, tf
    FROM zvt.candles, unnest(ARRAY['5 min', '15 min', '1 hour', '4 hours', '1 day']::interval[]) tf
   WHERE instrument_id = $iid AND timeframe = '1 minute' GROUP BY 1, tf
  EXCEPT
  SELECT ts, open, high, low, close, volume, timeframe FROM zvt._rollup_candles WHERE instrument_id = $iid) d
SQL
)
[ "$diff" = 0 ] || fail "$diff materialized bars differ from the roll-up from scratch"
[ "$(q -c "SELECT failures FROM zvt.maintenance_status()")" = "$failures" ] || fail "maintenance failures"

q -c "DELETE FROM zvt.candles WHERE instrument_id = $iid" -c "DELETE FROM zvt.instruments WHERE id = $iid" >/dev/null
echo "roll-ups kept current by the worker, a late repair included"
