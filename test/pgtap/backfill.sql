-- test/pgtap/backfill.sql: zvt.backfill validates its arguments and only
-- queues a job (the worker does the work); cancel and resume move a job's
-- state once; a plain role may read zvt.backfill_jobs but not queue,
-- cancel or resume jobs; the repair columns of zvt.feed_gaps exist.
BEGIN;
SELECT plan(17);

CREATE ROLE zvt_tap_bf;
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9301, 'binance', 'BFL-USDT', 'BFLUSDT', 'BFL', 'USDT', 'spot');

SELECT throws_ok($$SELECT zvt.backfill('binance', 'BFL-USDT', 'quotes', now() - interval '1 day', now())$$,
                 '22023', 'cannot backfill channel "quotes"', 'quotes have no REST history');
SELECT throws_ok($$SELECT zvt.backfill('binance', 'BFL-USDT', 'book', now() - interval '1 day', now())$$,
                 '22023', NULL, 'books have no REST history');
SELECT throws_ok($$SELECT zvt.backfill('binance', 'BFL-USDT', 'candles_7m', now() - interval '1 day', now())$$,
                 '22023', NULL, 'an unknown timeframe');
SELECT throws_ok($$SELECT zvt.backfill('binance', 'BFL-USDT', 'trades', now(), now() - interval '1 day')$$,
                 '22023', NULL, 'an empty range');
SELECT throws_ok($$SELECT zvt.backfill('binance', 'NOPE-USDT', 'trades', now() - interval '1 day', now())$$,
                 '42704', NULL, 'a symbol not in zvt.instruments');
SELECT throws_ok($$SELECT zvt.backfill('nowhere', 'BFL-USDT', 'trades', now() - interval '1 day', now())$$,
                 NULL, NULL, 'an unknown exchange');

SELECT ok(zvt.backfill('binance', 'bfl-usdt', 'candles', now() - interval '2 days', now()) > 0,
          'a backfill returns its job id');
SELECT is((SELECT channel || ' ' || state || ' ' || rows_written FROM zvt.backfill_jobs
            WHERE symbol = 'BFL-USDT'), 'candles_1m queued 0',
          'candles means candles_1m; the job is queued, nothing written in the call');
SELECT is(zvt.cancel_backfill((SELECT id FROM zvt.backfill_jobs WHERE symbol = 'BFL-USDT')), true,
          'a queued job is canceled');
SELECT is(zvt.cancel_backfill((SELECT id FROM zvt.backfill_jobs WHERE symbol = 'BFL-USDT')), false,
          'a canceled job is not canceled again');
SELECT is(zvt.resume_backfill((SELECT id FROM zvt.backfill_jobs WHERE symbol = 'BFL-USDT')), true,
          'a canceled job is resumed');
SELECT is((SELECT state FROM zvt.backfill_jobs WHERE symbol = 'BFL-USDT'), 'queued',
          'a resumed job is queued again');

SET ROLE zvt_tap_bf;
SELECT is((SELECT count(*)::int FROM zvt.backfill_jobs WHERE symbol = 'BFL-USDT'), 1,
          'anyone may read the jobs');
SELECT throws_ok($$SELECT zvt.backfill('binance', 'BFL-USDT', 'trades', now() - interval '1 day', now())$$,
                 '42501', NULL, 'a plain role may not queue a backfill');
SELECT throws_ok($$SELECT zvt.cancel_backfill(1)$$, '42501', NULL, 'nor cancel one');
SELECT throws_ok($$UPDATE zvt._backfill_jobs SET state = 'done'$$, '42501', NULL, 'nor write the jobs');
RESET ROLE;

SELECT has_column('zvt', 'feed_gaps', 'rows_repaired', 'feed_gaps says how many rows a repair wrote');

SELECT * FROM finish();
ROLLBACK;
