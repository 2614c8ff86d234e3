--
-- zvt.backtest: sma_cross against the same strategy computed independently
-- in plain SQL inside this file, stored trades and equity, buy_and_hold,
-- stops, and bad input
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
-- an instrument of our own, with an id that leaves the sequence alone
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9001, 'binance', 'BTX-USDT', 'BTXUSDT', 'BTX', 'USDT', 'spot');
-- 60 closed 1m candles of a wave; each opens at the previous close
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT ts, 9001, '1 minute', o, greatest(o, c) + 0.5, least(o, c) - 0.5, c, true
  FROM (SELECT timestamptz '2024-01-01 00:00+00' + (i - 1) * interval '1 minute' AS ts,
               round((100 + 10 * sin((i - 1) / 5.0))::numeric, 2)::float8 AS o,
               round((100 + 10 * sin(i / 5.0))::numeric, 2)::float8 AS c
          FROM generate_series(1, 60) i) s;

-- sma_cross(3, 8) without costs, every bar stored
SELECT strategy, bars, trades, store, open_at_end,
       first_bar, last_bar, fees_paid
  FROM zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute',
                    '2024-01-01', '2024-01-02', '{"fast": 3, "slow": 8}',
                    initial_cash => 10000, fee_bps => 0, store => 'all');

-- the same strategy in SQL: long while SMA3 > SMA8 at a close, filled at
-- the next open; a position open at the end is closed at the last close
CREATE TEMP VIEW ref_trades AS
WITH b AS (
    SELECT row_number() OVER w AS n, ts, open, close,
           avg(close) OVER (w ROWS 2 PRECEDING) AS f,
           avg(close) OVER (w ROWS 7 PRECEDING) AS s
      FROM zvt.candles WHERE instrument_id = 9001 WINDOW w AS (ORDER BY ts)
), held AS (            -- the position during bar n is the target at n - 1
    SELECT n, ts, open, close,
           coalesce(lag(CASE WHEN n >= 8 AND f > s THEN 1 ELSE 0 END) OVER (ORDER BY n), 0) AS pos
      FROM b
), edges AS (
    SELECT n, ts, open, close, pos, coalesce(lag(pos) OVER (ORDER BY n), 0) AS prev,
           n = max(n) OVER () AS last
      FROM held
), entries AS (
    SELECT row_number() OVER (ORDER BY n) AS k, ts, open AS price FROM edges WHERE pos = 1 AND prev = 0
), exits AS (
    SELECT row_number() OVER (ORDER BY n) AS k, ts, price, reason FROM (
        SELECT n, ts, open AS price, 'signal' AS reason FROM edges WHERE pos = 0 AND prev = 1
        UNION ALL
        SELECT n, ts, close, 'end' FROM edges WHERE last AND pos = 1) x
)
SELECT k AS trade_no, en.ts AS entry_ts, en.price AS entry_price,
       ex.ts AS exit_ts, ex.price AS exit_price, ex.reason
  FROM entries en JOIN exits ex USING (k);

SELECT (SELECT count(*) FROM ref_trades) AS ref_trades,
       count(*) AS engine_trades,
       count(*) FILTER (WHERE t.entry_ts = r.entry_ts AND t.entry_price = r.entry_price
                          AND t.exit_ts = r.exit_ts AND t.exit_price = r.exit_price
                          AND t.exit_reason = r.reason AND t.side = 'long') AS matching
  FROM zvt.backtest_trades t
  JOIN zvt.backtest_runs run USING (run_id)
  LEFT JOIN ref_trades r USING (trade_no)
 WHERE run.run_id = (SELECT max(run_id) FROM zvt.backtest_runs);

-- all-in without costs compounds exit / entry; equity rows match the run
SELECT abs(run.final_equity - 10000 * (SELECT exp(sum(ln(exit_price / entry_price))) FROM ref_trades)) < 1e-6
           AS final_equity_matches,
       (SELECT count(*) FROM zvt.backtest_equity e WHERE e.run_id = run.run_id) AS equity_rows,
       (SELECT equity FROM zvt.backtest_equity e WHERE e.run_id = run.run_id ORDER BY ts DESC LIMIT 1)
           = run.final_equity AS last_equity_is_final,
       abs(run.total_return - ((SELECT exp(sum(ln(exit_price / entry_price))) FROM ref_trades) - 1)) < 1e-9
           AS total_return_ok,
       run.market_change = 100 * (round((100 + 10 * sin(60 / 5.0))::numeric, 2)::float8
                                  / round((100 + 10 * sin(1 / 5.0))::numeric, 2)::float8 - 1) / 100
           AS market_change_ok
  FROM zvt.backtest_runs run WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);

-- buy_and_hold with fees: in at bar 2's open, out at the last close
SELECT trades, open_at_end, round(fees_paid::numeric, 6) AS fees_paid,
       round(exposure_pct::numeric, 4) AS exposure_pct
  FROM zvt.backtest('buy_and_hold', 'binance', 'BTX-USDT', '1 minute',
                    '2024-01-01', '2024-01-02', store => 'trades');
SELECT trade_no, entry_ts, entry_price, exit_ts, exit_price, exit_reason,
       round(qty::numeric, 6) AS qty, round(pnl::numeric, 6) AS pnl
  FROM zvt.backtest_trades WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);
-- store => 'trades' keeps one equity point per UTC day
SELECT count(*) AS daily_points FROM zvt.backtest_equity
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);

-- a 1% stop-loss on buy_and_hold exits inside the first falling bar
SELECT trades, open_at_end
  FROM zvt.backtest('buy_and_hold', 'binance', 'BTX-USDT', '1 minute',
                    '2024-01-01', '2024-01-02', '{"stop_loss_pct": 1}', fee_bps => 0,
                    store => 'metrics');
SELECT count(*) AS trades_stored_for_metrics_only FROM zvt.backtest_trades
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);
-- the same with its trade stored: in at bar 2's open, out at exactly 1%
-- below it, in the first bar whose low reaches that level
SELECT trades FROM zvt.backtest('buy_and_hold', 'binance', 'BTX-USDT', '1 minute',
                                '2024-01-01', '2024-01-02', '{"stop_loss_pct": 1}', fee_bps => 0,
                                store => 'trades');
SELECT t.entry_ts = timestamptz '2024-01-01 00:01+00' AS entry_bar_2,
       t.entry_price = (SELECT open FROM zvt.candles WHERE instrument_id = 9001
                         AND ts = timestamptz '2024-01-01 00:01+00') AS entry_at_open,
       abs(t.exit_price - t.entry_price * 0.99) < 1e-9 AS exit_at_stop_level,
       t.exit_reason,
       t.exit_ts = (SELECT min(ts) FROM zvt.candles WHERE instrument_id = 9001 AND ts > t.entry_ts
                       AND low <= t.entry_price * 0.99) AS exit_in_first_bar_reaching_it,
       t.exit_ts
  FROM zvt.backtest_trades t WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);

-- other timeframes come rolled up by zvt.ohlcv: 30 two-minute bars
SELECT bars, first_bar, last_bar, trades
  FROM zvt.backtest('buy_and_hold', 'binance', 'BTX-USDT', '2 minutes',
                    '2024-01-01', '2024-01-02', store => 'metrics');
-- 1-minute bars are read directly from the stored candles
SELECT bars FROM zvt.backtest('buy_and_hold', 'binance', 'BTX-USDT', '1 minute',
                              '2024-01-01 00:10', '2024-01-01 00:20', store => 'metrics');

-- where zvt built a candle from trades and the exchange sent none, it is
-- a bar; where both exist the exchange's wins (the 1000s below are never
-- seen); bars come in time order whatever order they are read in
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9003, 'binance', 'MIX-USDT', 'MIXUSDT', 'MIX', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed, source)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9003, interval '1 minute',
       100 + i::float8, 100 + i, 100 + i, 100 + i, true, 'exchange'
  FROM generate_series(0, 9) i WHERE i <> 5
UNION ALL
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9003, interval '1 minute',
       p, p, p, p, true, 'trades'
  FROM (VALUES (3, 1000::float8), (5, 105), (10, 110)) v (i, p);
SELECT bars, last_bar, round(market_change::numeric, 6) AS market_change
  FROM zvt.backtest('buy_and_hold', 'binance', 'MIX-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    fee_bps => 0, store => 'all');
SELECT ts, round(equity::numeric, 4) AS equity FROM zvt.backtest_equity
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs) ORDER BY ts;

-- no look-ahead: flat bars alternating 100, 110 (the moves happen between
-- bars); a signals query that peeks at the next close would double its
-- money filled at the signal bar's close, but fills at the next open lose
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9002, 'binance', 'ALT-USDT', 'ALTUSDT', 'ALT', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9002, '1 minute', p, p, p, p, true
  FROM (SELECT i, CASE WHEN i % 2 = 0 THEN 100 ELSE 110 END::float8 AS p
          FROM generate_series(0, 15) i) s;
CREATE TEMP VIEW peek AS
SELECT ts, CASE WHEN lead(close) OVER (ORDER BY ts) > close THEN 1 ELSE 0 END AS target, close,
       lead(close) OVER (ORDER BY ts) AS next_close
  FROM zvt.candles WHERE instrument_id = 9002;
SELECT round(exp(sum(ln(next_close / close)))::numeric, 4) AS at_signal_close_would_grow
  FROM peek WHERE target = 1;
SELECT trades, total_return < 0 AS loses, round(total_return::numeric, 4) AS total_return
  FROM zvt.backtest('signals', 'binance', 'ALT-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    fee_bps => 0, signals => 'SELECT ts, target FROM peek');
SELECT trade_no, entry_ts, round(entry_price::numeric, 6) AS entry_price, exit_ts,
       round(exit_price::numeric, 6) AS exit_price, exit_reason
  FROM zvt.backtest_trades
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs) ORDER BY trade_no;

-- bad input
\set VERBOSITY default
SELECT zvt.backtest('sma', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '{"speed": 3}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '{"fast": "3"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '{"fast": 30, "slow": 10}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-02', '2024-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2023-01-01', '2023-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', fee_bps => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', store => 'everything');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '{"allow_short": 1}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '[1]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- sizes beyond 1e15 (1e308 overflowed into a NOT NULL violation), and
-- results that overflow however the sizes were checked
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', initial_cash => 1e308);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02', '{"qty": 1e308}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9004, 'binance', 'HUGE-USDT', 'HUGEUSDT', 'HUGE', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9004, '1 minute',
       1e300 * (2 + sin(i)), 1e300 * 3, 1e300, 1e300 * (2 + sin(i + 1)), true
  FROM generate_series(0, 59) i;
SELECT zvt.backtest('sma_cross', 'binance', 'HUGE-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"fast": 2, "slow": 3, "qty": 1e15}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'NOPE-USDT', '1 minute', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('signals', 'binance', 'ALT-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    signals => 'SELECT ts, -target FROM peek');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('signals', 'binance', 'ALT-USDT', '1 minute', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'ALT-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    signals => 'SELECT ts, target FROM peek');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the failed runs stored nothing
SELECT count(*) AS runs FROM zvt.backtest_runs;
-- the largest sizes are allowed
SELECT initial_cash, params, final_equity IS NOT NULL AS stored
  FROM zvt.backtest('sma_cross', 'binance', 'BTX-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"qty": 1e15}', initial_cash => 1e15, store => 'metrics');

-- the direct read of 1m candles: chunks, the default partition, many
-- instruments (index reads), null patterns, timeframes spelled otherwise,
-- and the SQL path (row-level security on) giving the same runs
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9011, 'binance', 'RD1-USDT', 'RD1USDT', 'RD1', 'USDT', 'spot'),
                               (9012, 'binance', 'RD2-USDT', 'RD2USDT', 'RD2', 'USDT', 'spot');
SELECT chunk IS NOT NULL AS chunked FROM zvt._ensure_chunk('zvt.candles', '2011-03-01');
-- One transaction from here to the rows' removal, holding zvt.candles
-- against the maintenance worker: it would otherwise move the rows left
-- in the default partition into a new chunk at any moment (then listed
-- below, and no longer read from the default partition).  It waits for
-- the lock and then finds nothing to move.  (The chunk is made above:
-- the worker may hold the chunk lock while it waits for this one.)
BEGIN;
LOCK TABLE zvt.candles IN ACCESS EXCLUSIVE MODE;
-- RD1: 4 days across the chunk's end (2011-03-27 00:00 UTC; later rows
-- stay in the default partition); every 7th minute open, every 5th and
-- 3rd with volumes (null patterns), every 11th only built from trades,
-- every 13th also built from trades (the exchange's wins if closed)
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close,
                         quote_volume, trade_count, closed, source)
SELECT timestamptz '2011-03-25 00:00+00' + i * interval '1 minute', 9011,
       CASE WHEN i % 17 = 0 THEN interval '60 seconds' WHEN i % 19 = 0 THEN interval '1 day -23:59:00'
            ELSE interval '1 minute' END,
       100 + sin(i / 50.0) * 10, 100 + sin(i / 50.0) * 10 + 1, 100 + sin(i / 50.0) * 10 - 1,
       100 + sin((i + 1) / 50.0) * 10,
       CASE WHEN i % 5 = 0 THEN 12.5 END, CASE WHEN i % 3 = 0 THEN 7 END,
       i % 7 <> 0, CASE WHEN i % 11 = 0 THEN 'trades' ELSE 'exchange' END
  FROM generate_series(0, 4 * 1440 - 1) i;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed, source)
SELECT timestamptz '2011-03-25 00:00+00' + i * interval '1 minute', 9011, '1 minute',
       50, 51, 49, 50, true, 'trades'
  FROM generate_series(0, 4 * 1440 - 1, 13) i WHERE i % 11 <> 0;
-- 5m candles of RD1 and a crowd of RD2 1m candles
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT timestamptz '2011-03-25 00:00+00' + i * interval '5 minutes', 9011, '5 minutes', 1, 1, 1, 1, true
  FROM generate_series(0, 4 * 288 - 1) i;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed, source)
SELECT timestamptz '2011-03-25 00:00+00' + i * interval '1 minute', 9012, '1 minute', 7, 8, 6, 7, true, s
  FROM generate_series(0, 2 * 1440 - 1) i, unnest(ARRAY['exchange', 'trades']) s;
ANALYZE zvt.candles;
SELECT range_start, range_end, is_default FROM zvt._chunks('zvt.candles')
 WHERE (range_start >= '2011-01-01' AND range_start < '2012-01-01') OR is_default
 ORDER BY range_start;
CREATE ROLE zvt_read_user;
CREATE TEMP TABLE read_runs (how text, start timestamptz, finish timestamptz, bars int8,
                             first_bar timestamptz, last_bar timestamptz, final_equity float8, trades int8);
GRANT ALL ON read_runs TO zvt_read_user;
-- the ranges each way reads: all of it, across the chunk bound, inside, partial chunks
CREATE TEMP TABLE read_ranges (s timestamptz, f timestamptz);
INSERT INTO read_ranges VALUES ('2011-03-23', '2011-03-31'), ('2011-03-26 23:00+00', '2011-03-27 01:00+00'),
  ('2011-03-27 00:00+00', '2011-03-27 00:30+00'), ('2011-03-25 12:00+00', '2011-03-28 12:00+00');
GRANT SELECT ON read_ranges TO zvt_read_user;
SET ROLE zvt_read_user;
INSERT INTO read_runs
SELECT 'direct', s, f, r.bars, r.first_bar, r.last_bar, r.final_equity, r.trades
  FROM read_ranges v (s, f),
       zvt.backtest('sma_cross', 'binance', 'RD1-USDT', '1 minute', s, f, '{"fast": 3, "slow": 8}') r;
-- the sequential reads shared with a parallel worker, however small
SET min_parallel_table_scan_size = 0;
INSERT INTO read_runs
SELECT 'parallel', s, f, r.bars, r.first_bar, r.last_bar, r.final_equity, r.trades
  FROM read_ranges v (s, f),
       zvt.backtest('sma_cross', 'binance', 'RD1-USDT', '1 minute', s, f, '{"fast": 3, "slow": 8}') r;
RESET min_parallel_table_scan_size;
RESET ROLE;
-- with row-level security on (a policy admitting every row) the SQL reads
ALTER TABLE zvt.candles ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON zvt.candles FOR SELECT USING (true);
SET ROLE zvt_read_user;
INSERT INTO read_runs
SELECT 'sql', s, f, r.bars, r.first_bar, r.last_bar, r.final_equity, r.trades
  FROM read_ranges v (s, f),
       zvt.backtest('sma_cross', 'binance', 'RD1-USDT', '1 minute', s, f, '{"fast": 3, "slow": 8}') r;
RESET ROLE;
DROP POLICY read_all ON zvt.candles;
ALTER TABLE zvt.candles DISABLE ROW LEVEL SECURITY;
-- one row a range: the three reads agree
SELECT start, finish, bars, first_bar, last_bar, trades, count(*) AS reads
  FROM read_runs GROUP BY start, finish, bars, first_bar, last_bar, final_equity, trades
 ORDER BY start, finish;
-- without SELECT on zvt.candles: 42501, as before
SAVEPOINT revoked;
REVOKE SELECT ON zvt.candles FROM PUBLIC;
SET ROLE zvt_read_user;
SELECT bars FROM zvt.backtest('sma_cross', 'binance', 'RD1-USDT', '1 minute', '2011-03-23', '2011-03-31');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT revoked;
RESET ROLE;
DROP TABLE read_runs, read_ranges;
DROP ROLE zvt_read_user;
DELETE FROM zvt.candles WHERE instrument_id IN (9011, 9012);
COMMIT;

-- leave the database as we found it
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.candles WHERE instrument_id IN (9001, 9002, 9003, 9004, 9011, 9012);
DELETE FROM zvt.instruments WHERE id IN (9001, 9002, 9003, 9004, 9011, 9012);
SELECT count(*) AS dropped
  FROM zvt.drop_chunks('zvt.candles', older_than => timestamptz '2011-03-27 00:00+00',
                       newer_than => timestamptz '2011-02-25 00:00+00');
