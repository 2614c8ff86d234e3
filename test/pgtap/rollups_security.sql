-- test/pgtap/rollups_security.sql: the candle roll-ups as an attacker
-- sees them: a plain role, and a role that may write candles (a backfill
-- job), try to corrupt the materialized candles, their watermarks and
-- the invalidation log, to change the roll-ups, and to write a log entry
-- that hides a change; readers still get exact candles.
BEGIN;
SELECT plan(24);

INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('okx', 'ADA-USDT', 'ADA-USDT', 'ADA', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
SELECT timestamptz '2024-05-01' + i * interval '1 minute', zvt._instrument_id('okx', 'ADA-USDT'),
       '1 minute', 1, 2, 0.5, 1.5, 1, true
  FROM generate_series(0, 119) i;
SELECT lives_ok($$SELECT zvt._refresh_candle_rollups()$$, 'the owner refreshes');

CREATE ROLE zvt_tap_plain;
CREATE ROLE zvt_tap_backfill;
GRANT INSERT, UPDATE ON zvt.candles TO zvt_tap_backfill;

SET ROLE zvt_tap_plain;
SELECT is((SELECT count(*)::int FROM zvt.ohlcv('okx', 'ADA-USDT', '1 hour', '2024-05-01', '2024-05-02')),
          2, 'a plain role reads the hourly candles');
SELECT throws_ok($$UPDATE zvt._rollup_candles SET high = 1e9$$, '42501', NULL,
                 'a plain role cannot change materialized candles');
SELECT throws_ok($$INSERT INTO zvt._rollup_candles VALUES (1, '1 hour', '2024-05-01 05:00', 1, 1, 1, 1, 1, NULL, NULL, true, 'exchange', now())$$,
                 '42501', NULL, 'nor add one');
SELECT throws_ok($$DELETE FROM zvt._rollup_candles$$, '42501', NULL, 'nor delete them');
SELECT throws_ok($$TRUNCATE zvt._rollup_candles$$, '42501', NULL, 'nor truncate them');
SELECT throws_ok($$DELETE FROM zvt._candle_invalidations$$, '42501', NULL,
                 'a plain role cannot drop pending invalidations');
SELECT throws_ok($$INSERT INTO zvt._candle_invalidations (instrument_id, lo, hi) VALUES (1, '-infinity', 'infinity')$$,
                 '42501', NULL, 'nor log any');
SELECT throws_ok($$UPDATE zvt._rollup_state SET materialized_until = 'infinity'$$, '42501', NULL,
                 'nor move a watermark');
SELECT throws_ok($$INSERT INTO zvt.candle_rollups (timeframe) VALUES ('2 hours')$$, '42501', NULL,
                 'nor add a timeframe by hand');
SELECT throws_ok($$SELECT zvt.add_candle_rollup('2 hours')$$, '42501', NULL,
                 'nor through add_candle_rollup');
SELECT throws_ok($$SELECT zvt.remove_candle_rollup('1 hour')$$, '42501', NULL,
                 'nor remove one');
SELECT throws_ok($$SELECT zvt._refresh_candle_rollups()$$, '42501', NULL,
                 'nor run the refresh');
SELECT throws_ok($$SELECT zvt._candles_invalidate()$$, '42501', NULL,
                 'nor call the trigger function');
SELECT lives_ok($$CALL zvt.run_maintenance()$$,
                'run_maintenance by a plain role skips the roll-ups');
RESET ROLE;

-- a role that may write candles: its late write is logged (as the log's
-- owner), so readers see it at once, and it still cannot touch the log
SET ROLE zvt_tap_backfill;
SELECT lives_ok($$UPDATE zvt.candles SET high = 7 WHERE ts = '2024-05-01 00:30+00'
                    AND instrument_id = zvt._instrument_id('okx', 'ADA-USDT')$$,
                'the backfill role repairs a minute');
SELECT is((SELECT high FROM zvt.ohlcv('okx', 'ADA-USDT', '1 hour', '2024-05-01', '2024-05-01 01:00')),
          7::float8, 'readers see the repair at once');
SELECT throws_ok($$DELETE FROM zvt._candle_invalidations$$, '42501', NULL,
                 'the backfill role cannot hide its write from the roll-ups');
SELECT throws_ok($$UPDATE zvt._rollup_candles SET high = 2$$, '42501', NULL,
                 'nor write the roll-ups');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM zvt._candle_invalidations
            WHERE instrument_id = zvt._instrument_id('okx', 'ADA-USDT')),
          1, 'the repair was logged once, as the log''s owner');
SELECT lives_ok($$SELECT zvt._refresh_candle_rollups()$$, 'the owner refreshes again');
SELECT is((SELECT high FROM zvt._rollup_candles
            WHERE instrument_id = zvt._instrument_id('okx', 'ADA-USDT')
              AND timeframe = '1 hour' AND ts = '2024-05-01'),
          7::float8, 'the materialized hour took the repair in');

-- a trigger of the owner cannot be fooled by a role renaming columns:
-- only the owner of zvt.candles may alter it
SET ROLE zvt_tap_backfill;
SELECT throws_ok($$ALTER TABLE zvt.candles DISABLE TRIGGER candles_invalidate$$, '42501', NULL,
                 'the backfill role cannot switch the logging off');
RESET ROLE;
SELECT ok((SELECT tgenabled = 'O' FROM pg_trigger
            WHERE tgrelid = 'zvt.candles'::regclass AND tgname = 'candles_invalidate'),
          'the logging trigger is enabled');

SELECT * FROM finish();
ROLLBACK;
