--
-- zvt.backtest with a step function: sma_cross written as a PL/pgSQL step
-- function keeping its closes in the state gives the built-in's trades and
-- equity; a counter in the state; the checks on the function and its
-- targets
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
-- an instrument of our own, with an id that leaves the sequence alone
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9101, 'binance', 'STP-USDT', 'STPUSDT', 'STP', 'USDT', 'spot');
-- 60 closed 1m candles of a wave; each opens at the previous close
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
SELECT ts, 9101, '1 minute', o, greatest(o, c) + 0.5, least(o, c) - 0.5, c, i, true
  FROM (SELECT i, timestamptz '2024-01-01 00:00+00' + (i - 1) * interval '1 minute' AS ts,
               round((100 + 10 * sin((i - 1) / 5.0))::numeric, 2)::float8 AS o,
               round((100 + 10 * sin(i / 5.0))::numeric, 2)::float8 AS c
          FROM generate_series(1, 60) i) s;

-- sma_cross(3, 8) as a step function: the last 8 closes live in the state
CREATE FUNCTION sma_step(bar zvt.candles_v, INOUT state jsonb, OUT target float8)
LANGUAGE plpgsql AS $$
DECLARE
    closes float8[] := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(
                                        coalesce(state->'closes', '[]'))::float8) || bar.close;
BEGIN
    closes := closes[greatest(1, cardinality(closes) - 7):];
    target := 0;
    IF cardinality(closes) = 8 AND (SELECT avg(x) FROM unnest(closes[6:8]) x)
                                   > (SELECT avg(x) FROM unnest(closes) x) THEN
        target := 1;
    END IF;
    state := pg_catalog.jsonb_build_object('closes', pg_catalog.to_jsonb(closes));
END;
$$;

SELECT strategy, bars, trades, open_at_end, params
  FROM zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'sma_step(zvt.candles_v, jsonb)', store => 'all');
SELECT strategy, bars, trades, open_at_end
  FROM zvt.backtest('sma_cross', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"fast": 3, "slow": 8}', store => 'all');

-- the two runs: the same trades, the same equity bar by bar, the same metrics
CREATE TEMP VIEW two AS
SELECT max(run_id) FILTER (WHERE strategy = 'step_fn') AS step_run,
       max(run_id) FILTER (WHERE strategy = 'sma_cross') AS builtin_run
  FROM zvt.backtest_runs;
-- (full joins of the two runs' rows: a row of only one run counts, unequal)
SELECT count(*) AS trades,
       count(*) FILTER (WHERE s.entry_ts = b.entry_ts AND s.entry_price = b.entry_price
                          AND s.exit_ts = b.exit_ts AND s.exit_price = b.exit_price
                          AND s.qty = b.qty AND s.pnl = b.pnl AND s.exit_reason = b.exit_reason)
           AS identical
  FROM (SELECT * FROM zvt.backtest_trades WHERE run_id = (SELECT step_run FROM two)) s
  FULL JOIN (SELECT * FROM zvt.backtest_trades WHERE run_id = (SELECT builtin_run FROM two)) b
    USING (trade_no);
SELECT count(*) AS equity_points,
       count(*) FILTER (WHERE s.equity = b.equity AND s.cash = b.cash AND s.position = b.position)
           AS identical
  FROM (SELECT * FROM zvt.backtest_equity WHERE run_id = (SELECT step_run FROM two)) s
  FULL JOIN (SELECT * FROM zvt.backtest_equity WHERE run_id = (SELECT builtin_run FROM two)) b
    USING (ts);
SELECT (s.final_equity, s.total_return, s.cagr, s.volatility, s.sharpe, s.sortino, s.calmar,
        s.max_drawdown, s.max_drawdown_pct, s.max_drawdown_start, s.max_drawdown_end, s.trades,
        s.win_rate, s.profit_factor, s.expectancy, s.avg_win, s.avg_loss, s.best_trade,
        s.worst_trade, s.exposure_pct, s.fees_paid, s.market_change, s.open_at_end)
       IS NOT DISTINCT FROM
       (b.final_equity, b.total_return, b.cagr, b.volatility, b.sharpe, b.sortino, b.calmar,
        b.max_drawdown, b.max_drawdown_pct, b.max_drawdown_start, b.max_drawdown_end, b.trades,
        b.win_rate, b.profit_factor, b.expectancy, b.avg_win, b.avg_loss, b.best_trade,
        b.worst_trade, b.exposure_pct, b.fees_paid, b.market_change, b.open_at_end) AS same_metrics,
       s.total_return > 0 AS made_money
  FROM two, zvt.backtest_runs s, zvt.backtest_runs b
 WHERE s.run_id = two.step_run AND b.run_id = two.builtin_run;

-- the state carries over: a counter; long from the 10th bar, and each
-- call sees the bar as zvt.candles_v (volume is i for the i-th bar)
CREATE TABLE step_log (n int, ts timestamptz, volume float8, exchange text);
CREATE FUNCTION count_step(bar zvt.candles_v, INOUT state jsonb, OUT target float8)
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce((state->>'n')::int, 0) + 1;
BEGIN
    INSERT INTO step_log VALUES (n, bar.ts, bar.volume, bar.exchange);
    state := state || pg_catalog.jsonb_build_object('n', n);
    target := CASE WHEN n >= 10 THEN 1 END;    -- NULL keeps the last target
END;
$$;
SELECT bars, trades, round(exposure_pct::numeric, 4) AS exposure_pct
  FROM zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'count_step'::regproc::regprocedure, store => 'trades');
SELECT entry_ts, exit_ts, exit_reason FROM zvt.backtest_trades
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);
SELECT count(*) AS calls, min(n), max(n), bool_and(volume = n) AS bar_is_the_nth,
       bool_and(exchange = 'binance') AS exchange_set,
       min(ts) AS first_ts, max(ts) AS last_ts
  FROM step_log;
-- the state starts as '{}', a 2-minute bar comes rolled up by zvt.ohlcv
TRUNCATE step_log;
SELECT bars FROM zvt.backtest('step_fn', 'binance', 'STP-USDT', '2 minutes', '2024-01-01', '2024-01-02',
                              step_fn => 'count_step(zvt.candles_v, jsonb)', store => 'metrics');
SELECT count(*) AS calls, max(n), sum(volume) AS volume FROM step_log;

-- API.md's form, with an input and an output both named state, is fine
-- in SQL: long while the bar rose, the state counting the bars
CREATE FUNCTION rise_step(bar zvt.candles_v, state jsonb, OUT target float8, OUT state jsonb)
    LANGUAGE sql
    AS $$ SELECT CASE WHEN bar.close > bar.open THEN 1 ELSE 0 END::float8,
                 pg_catalog.jsonb_build_object('n', coalesce(($2->>'n')::int, 0) + 1) $$;
SELECT bars, trades, round(exposure_pct::numeric, 4) AS exposure_pct,
       round(final_equity::numeric, 6) AS final_equity
  FROM zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'rise_step(zvt.candles_v, jsonb)', fee_bps => 0, store => 'metrics');
-- the same rule as a signals query: the same run
SELECT trades, round(exposure_pct::numeric, 4) AS exposure_pct,
       round(final_equity::numeric, 6) AS final_equity
  FROM zvt.backtest('signals', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    fee_bps => 0, store => 'metrics',
                    signals => $$SELECT ts, CASE WHEN close > open THEN 1 ELSE 0 END
                                  FROM zvt.candles WHERE instrument_id = 9101$$);

-- bad step functions and targets
\set VERBOSITY default
CREATE FUNCTION wrong_args(bar zvt.candles_v, OUT target float8) LANGUAGE sql AS 'SELECT 1::float8';
CREATE FUNCTION wrong_result(bar zvt.candles_v, state jsonb) RETURNS float8 LANGUAGE sql AS 'SELECT 1::float8';
CREATE FUNCTION wrong_names(bar zvt.candles_v, state jsonb, OUT t float8, OUT s jsonb)
    LANGUAGE sql AS 'SELECT 1::float8, state';
CREATE FUNCTION go_short(bar zvt.candles_v, INOUT state jsonb, OUT target float8)
    LANGUAGE sql AS 'SELECT state, -0.5::float8';
CREATE FUNCTION too_big(bar zvt.candles_v, INOUT state jsonb, OUT target float8)
    LANGUAGE sql AS 'SELECT state, 1.5::float8';
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'wrong_args(zvt.candles_v)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'wrong_result(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'wrong_names(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'go_short(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'too_big(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('sma_cross', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'sma_step(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"fast": 3}', step_fn => 'sma_step(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- shorts are fine with allow_short
SELECT trades, open_at_end
  FROM zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"allow_short": true}', step_fn => 'go_short(zvt.candles_v, jsonb)');
SELECT side, entry_ts, exit_reason FROM zvt.backtest_trades
 WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);
-- the function runs as an ordinary call by the caller: EXECUTE is checked
CREATE ROLE zvt_step_user;
REVOKE EXECUTE ON FUNCTION sma_step(zvt.candles_v, jsonb) FROM PUBLIC;
SET ROLE zvt_step_user;
SELECT zvt.backtest('step_fn', 'binance', 'STP-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    step_fn => 'sma_step(zvt.candles_v, jsonb)');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
-- the failed runs stored nothing
SELECT count(*) AS runs FROM zvt.backtest_runs;

-- leave the database as we found it
DROP ROLE zvt_step_user;
DROP TABLE step_log;
DROP FUNCTION sma_step, count_step, rise_step, wrong_args, wrong_result, wrong_names, go_short, too_big;
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.candles WHERE instrument_id = 9101;
DELETE FROM zvt.instruments WHERE id = 9101;
