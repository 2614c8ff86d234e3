--
-- zvt.backtest_grid: every combination equals its own zvt.backtest run,
-- with and without parallel workers; sorting; skipped combinations;
-- progress; bad grids; cancellation leaves nothing behind
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
-- an instrument of our own, with an id that leaves the sequence alone
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9201, 'binance', 'GRD-USDT', 'GRDUSDT', 'GRD', 'USDT', 'spot'),
                               (9202, 'binance', 'BIG-USDT', 'BIGUSDT', 'BIG', 'USDT', 'spot');
-- 600 closed 1m candles of two waves, each opening at the previous close;
-- 1-minute bars are read as stored, so spacing them 6 hours apart makes
-- 150 days of them for the daily metrics (Sharpe, Sortino, ...)
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT ts, 9201, '1 minute', o, greatest(o, c) * 1.002, least(o, c) * 0.998, c, true
  FROM (SELECT timestamptz '2024-01-01 00:00+00' + i * interval '6 hours' AS ts,
               100 + 10 * sin(i / 40.0) + 3 * sin(i / 7.0) AS o,
               100 + 10 * sin((i + 1) / 40.0) + 3 * sin((i + 1) / 7.0) AS c
          FROM generate_series(0, 599) i) s;

-- a 3 x 3 grid of sma_cross with shorts; (8, 8) is no pair and is skipped
CREATE TEMP TABLE g AS
SELECT * FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                '{"fast": [2, 4, 8], "slow": [8, 16, 30]}',
                                params => '{"allow_short": true}', fee_bps => 5) WITH ORDINALITY;
SELECT ordinality, params, strategy, store, bars, trades, round(sharpe::numeric, 6) AS sharpe
  FROM g ORDER BY ordinality;
-- sorted by sharpe, best first; run ids follow the order
SELECT bool_and(sharpe <= prev_sharpe) AS sorted, bool_and(run_id > prev_run) AS ids_in_order
  FROM (SELECT sharpe, run_id, lag(sharpe) OVER w AS prev_sharpe, lag(run_id) OVER w AS prev_run
          FROM g WINDOW w AS (ORDER BY ordinality)) s;

-- each combination is exactly the run zvt.backtest makes with its params
CREATE TEMP VIEW metrics AS
SELECT run_id, params, fee_bps, bars, first_bar, last_bar,
       (final_equity, total_return, cagr, volatility, sharpe, sortino, calmar, max_drawdown,
        max_drawdown_pct, max_drawdown_start, max_drawdown_end, trades, win_rate, profit_factor,
        expectancy, avg_win, avg_loss, best_trade, worst_trade, exposure_pct, fees_paid,
        market_change, open_at_end)::text AS m
  FROM zvt.backtest_runs;
CREATE TEMP TABLE one AS
SELECT g.run_id AS grid_run, b.run_id
  FROM g, zvt.backtest('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                       g.params, fee_bps => 5, store => 'metrics') b;
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE m1.m = mg.m AND m1.bars = mg.bars AND m1.params = mg.params
                          AND m1.first_bar = mg.first_bar AND m1.last_bar = mg.last_bar)
           AS identical,
       count(DISTINCT mg.m) AS distinct_results
  FROM one
  JOIN metrics m1 ON m1.run_id = one.run_id
  JOIN metrics mg ON mg.run_id = one.grid_run;

-- the same for ema_cross (shared EMA series) and rsi_reversion (each
-- combination steps its own RSI), with stops and slippage
CREATE TEMP TABLE g2 AS
SELECT * FROM zvt.backtest_grid('ema_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                '{"fast": [3, 6], "slow": [12, 26], "stop_loss_pct": [2]}',
                                slippage_bps => 3)
UNION ALL
SELECT * FROM zvt.backtest_grid('rsi_reversion', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                '{"period": [5, 14], "lower": [25, 35]}',
                                params => '{"upper": 65, "allow_short": true}', slippage_bps => 3);
CREATE TEMP TABLE one2 AS
SELECT g2.run_id AS grid_run, b.run_id
  FROM g2, zvt.backtest(g2.strategy, 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                        g2.params, slippage_bps => 3, store => 'metrics') b;
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE m1.m = mg.m AND m1.params = mg.params) AS identical,
       count(DISTINCT mg.m) AS distinct_results,
       count(*) FILTER (WHERE g2.trades > 0) AS combinations_that_traded
  FROM one2
  JOIN g2 ON g2.run_id = one2.grid_run
  JOIN metrics m1 ON m1.run_id = one2.run_id
  JOIN metrics mg ON mg.run_id = one2.grid_run;

-- without workers the leader runs them all, to the same results
CREATE TEMP TABLE s AS
SELECT * FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                '{"fast": [2, 4, 8], "slow": [8, 16, 30]}',
                                params => '{"allow_short": true}', fee_bps => 5, workers => 0)
                                WITH ORDINALITY;
SELECT count(*) AS combinations,
       count(*) FILTER (WHERE serial.m = parallel.m AND s.ordinality = g.ordinality) AS identical
  FROM s JOIN g USING (params)
  JOIN metrics serial ON serial.run_id = s.run_id
  JOIN metrics parallel ON parallel.run_id = g.run_id;

-- any metric column sorts, either way, NULLs last; common params sweep
-- too (buy_and_hold under stops of 0.5 and 4 %, half or all in)
SELECT params, trades, round(max_drawdown_pct::numeric, 6) AS max_drawdown_pct
  FROM zvt.backtest_grid('buy_and_hold', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"stop_loss_pct": [0.5, 4], "size_pct": [50, 100]}',
                         sort_by => 'max_drawdown_pct', descending => false);
SELECT params, trades, round(win_rate::numeric, 4) AS win_rate, round(avg_win::numeric, 4) AS avg_win
  FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"take_profit_pct": [1, 30], "stop_loss_pct": [0.2, 20]}',
                         params => '{"fast": 5, "slow": 20}', sort_by => 'avg_win');
-- a stop hit at once leaves no winner: avg_win is NULL, last either way
SELECT params, trades, round(avg_win::numeric, 4) AS avg_win
  FROM zvt.backtest_grid('buy_and_hold', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"stop_loss_pct": [0.5, 50]}', sort_by => 'avg_win');
SELECT params, trades, round(avg_win::numeric, 4) AS avg_win
  FROM zvt.backtest_grid('buy_and_hold', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"stop_loss_pct": [0.5, 50]}', sort_by => 'avg_win', descending => false);

-- 100 combinations report each tenth; a grid with nothing valid returns nothing
SELECT count(*) AS runs, count(DISTINCT params) AS distinct_params
  FROM zvt.backtest_grid('ema_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         (SELECT jsonb_build_object('fast', jsonb_agg(i), 'slow', jsonb_agg(i + 10))
                            FROM generate_series(2, 11) i));
SELECT count(*) AS runs
  FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"fast": [50], "slow": [10, 20]}');

-- bad input
\set VERBOSITY default
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"fast": [2]}', sort_by => 'luck');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '[2, 3]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"fast": [2], "slow": []}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"fast": [2, "3"]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"fast": 2}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"speed": [2]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"allow_short": [true, false]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"size_pct": [50, 0]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('signals', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"size_pct": [50]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       '{"fast": [2]}', workers => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2023-01-01', '2023-01-02',
                                       '{"fast": [2]}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                                       NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a cancel (here statement_timeout) stops leader and workers, and the
-- sizes beyond 1e15 and runs whose results overflow are skipped with a
-- NOTICE, as other invalid combinations are; the others are stored
SELECT params, final_equity IS NOT NULL AS stored
  FROM zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"qty": [1, 1e308]}', params => '{"fast": 4, "slow": 16}', workers => 0);
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9203, 'binance', 'HUG-USDT', 'HUGUSDT', 'HUG', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9203, '1 minute',
       1e300 * (2 + sin(i)), 1e300 * 3, 1e300, 1e300 * (2 + sin(i + 1)), true
  FROM generate_series(0, 59) i;
SELECT params, final_equity IS NOT NULL AS stored
  FROM zvt.backtest_grid('sma_cross', 'binance', 'HUG-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"qty": [1, 1e15]}', params => '{"fast": 2, "slow": 3}');
SELECT zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"fast": [2, 4]}', initial_cash => 1e308);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest_grid('sma_cross', 'binance', 'GRD-USDT', '1 minute', '2024-01-01', '2025-01-01',
                         '{"fast": [2, 4]}', params => '{"qty": 1e308}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- runs are stored only after every combination is done: nothing remains.
-- 4,851 pairs over 20,000 bars take seconds; the timeout is 200 ms.
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT ts, 9202, '1 minute', o, greatest(o, c), least(o, c), c, true
  FROM (SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute' AS ts,
               100 + 10 * sin(i / 400.0) + 3 * sin(i / 70.0) AS o,
               100 + 10 * sin((i + 1) / 400.0) + 3 * sin((i + 1) / 70.0) AS c
          FROM generate_series(0, 19999) i) s;
SELECT count(*) AS runs_before FROM zvt.backtest_runs \gset
SET client_min_messages = warning;
SET statement_timeout = '200ms';
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'binance', 'BIG-USDT', '1 minute', '2024-01-01', '2024-02-01',
                                       (SELECT jsonb_build_object('fast', jsonb_agg(i), 'slow', jsonb_agg(i))
                                          FROM generate_series(2, 100) i));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET statement_timeout;
RESET client_min_messages;
SELECT count(*) - :runs_before AS runs_added FROM zvt.backtest_runs;

-- leave the database as we found it
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.candles WHERE instrument_id IN (9201, 9202, 9203);
DELETE FROM zvt.instruments WHERE id IN (9201, 9202, 9203);
