-- Perpetual funding: zvt.funding is market data anyone reads; at each
-- funding time that stored funding data has passed, zvt.settle_funding()
-- charges every paper perpetual position -(qty x mark x rate) once, from
-- the last row before the time that announced it; payments land in the
-- balance, the position's realized PnL, the day's PnL and zvt.portfolio,
-- and each role sees only its accounts' payments.  Amounts are worked
-- out by hand in the comments.
\set SHOW_CONTEXT never
SET client_min_messages = warning;

INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
OVERRIDING SYSTEM VALUE VALUES
    (9457, 'bybit', 'FND-USDT-PERP', 'FNDUSDT', 'FND', 'USDT', 'perp', 0.01, 0.001);
CREATE ROLE zvt_fund_long;
CREATE ROLE zvt_fund_short;
CREATE ROLE zvt_fund_other;
SET ROLE zvt_fund_long;
SELECT name FROM zvt.create_account('fund_long', initial_cash => 10000, taker_fee_bps => 0);
RESET ROLE;
SET ROLE zvt_fund_short;
SELECT name FROM zvt.create_account('fund_short', initial_cash => 10000, taker_fee_bps => 0);
RESET ROLE;

-- a long of 2 and a short of 1 at 100
SELECT zvt.bus_publish('bybit', 'FND-USDT-PERP', 100, 1, 99.99, 5, 100, 5);
SET ROLE zvt_fund_long;
SELECT status, avg_fill_price FROM zvt.place_order('fund_long', 'bybit', 'FND-USDT-PERP', 'buy', 2);
RESET ROLE;
SET ROLE zvt_fund_short;
SELECT status, avg_fill_price FROM zvt.place_order('fund_short', 'bybit', 'FND-USDT-PERP', 'sell', 1);
RESET ROLE;

-- market data: nobody but zvt writes it; settling is an administrator's
SET ROLE zvt_fund_other;
INSERT INTO zvt.funding (ts, instrument_id) VALUES (now(), 9457);                -- 42501
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.settle_funding();                                                      -- 42501
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;

-- funding rows after the fills: T1 = +1 h, T2 = +2 h, T3 = +3 h, written
-- and settled in one transaction (the maintenance worker settles too)
CREATE TEMP TABLE t0 AS SELECT max(ts) AS f FROM zvt.fills WHERE instrument_id = 9457;
BEGIN;
INSERT INTO zvt.funding (ts, instrument_id, mark_price, index_price, funding_rate, next_funding_time)
SELECT t0.f + o, 9457, m, m - 0.5, r, t0.f + n
  FROM t0, (VALUES (interval '30 min', 100.0, 0.0001, interval '1 hour'),
                   (interval '59 min', 101.0, 0.0002, interval '1 hour'),    -- T1: mark 101, rate 0.0002
                   (interval '61 min', 102.0, -0.0003, interval '2 hours'),
                   (interval '119 min', 103.5, -0.0003, interval '2 hours'), -- T2: mark 103.5, rate -0.0003
                   (interval '121 min', 104.0, 0.0001, interval '3 hours')) AS v (o, m, r, n);

-- T1 and T2 are due (rows exist at or after them); T3 is not yet
SELECT zvt.settle_funding() AS payments;
COMMIT;
-- T1: long  -(2 x 101 x 0.0002) = -0.0404; short -(-1 x 101 x 0.0002) = 0.0202
-- T2: long  -(2 x 103.5 x -0.0003) = 0.0621; short -(-1 x 103.5 x -0.0003) = -0.03105
SELECT a.name, p.funding_time - t0.f AS at, p.qty, p.mark_price, p.funding_rate, p.amount, p.asset
  FROM zvt.funding_payments p JOIN zvt.accounts a USING (account_id), t0
 ORDER BY p.funding_time, a.name;
SELECT funding_time - t0.f AS at, funding_rate, mark_price, source_ts - t0.f AS source, payments
  FROM zvt.funding_settlements, t0 WHERE instrument_id = 9457 ORDER BY funding_time;
-- once only: a second run pays nothing
SELECT zvt.settle_funding() AS payments;
SELECT count(*) FROM zvt.funding_payments;

-- the money: balance, the position's realized PnL, zvt.portfolio
-- long: 10000 - 0.0404 + 0.0621 = 10000.0217; short: 10000 + 0.0202 - 0.03105 = 9999.98915
SELECT a.name, b.amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id)
 WHERE a.name LIKE 'fund_%' ORDER BY 1;
SELECT account, qty, realized_pnl FROM zvt.positions WHERE symbol = 'FND-USDT-PERP' ORDER BY 1;
SELECT cash, realized_pnl FROM zvt.portfolio('fund_long');

-- T3 once data passes it, but the feed lost funding messages across it (a
-- funding gap not repaired yet): T3 waits for the repair, which stores the
-- rate and mark the exchange settled at 1 ms before T3 (mark 106, rate
-- 0.0002): long -(2 x 106 x 0.0002) = -0.0424, not the 104 x 0.0001 seen
-- before the gap
BEGIN;
INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason)
SELECT 'bybit', 'FND-USDT-PERP', 'funding', t0.f + interval '150 min', t0.f + interval '185 min', 'test' FROM t0;
INSERT INTO zvt.funding (ts, instrument_id, mark_price, funding_rate, next_funding_time)
SELECT t0.f + interval '181 min', 9457, 105, 0.0001, t0.f + interval '4 hours' FROM t0;
SELECT zvt.settle_funding() AS payments;
COMMIT;
BEGIN;
INSERT INTO zvt.funding (ts, instrument_id, mark_price, funding_rate, next_funding_time)
SELECT t0.f + interval '3 hours' - interval '1 millisecond', 9457, 106, 0.0002, t0.f + interval '3 hours' FROM t0;
UPDATE zvt.feed_gaps SET repaired_at = now(), rows_repaired = 1 WHERE symbol = 'FND-USDT-PERP' AND channel = 'funding';
SELECT zvt.settle_funding() AS payments;
COMMIT;
DELETE FROM zvt.feed_gaps WHERE symbol = 'FND-USDT-PERP';
SELECT a.name, p.amount FROM zvt.funding_payments p JOIN zvt.accounts a USING (account_id), t0
 WHERE p.funding_time = t0.f + interval '3 hours' ORDER BY 1;

-- each role sees its own payments only
SET ROLE zvt_fund_long;
SELECT account_id IS NOT NULL AS mine, amount FROM zvt.funding_payments ORDER BY funding_time;
RESET ROLE;
SET ROLE zvt_fund_other;
SELECT count(*) AS funding_rows FROM zvt.funding_v WHERE symbol = 'FND-USDT-PERP';
SELECT count(*) AS others_see FROM zvt.funding_payments;
SELECT count(*) AS settlements_public FROM zvt.funding_settlements WHERE instrument_id = 9457;
RESET ROLE;

-- the channel
SELECT 'funding' IN (SELECT zvt.channels()) AS funding_channel;
SELECT zvt.subscribe('binance', 'FND-USDT', 'funding');                  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT name, futures_ws_url, futures_rest_url FROM zvt.exchanges WHERE futures_ws_url IS NOT NULL;


-- ------------------------------------------------------------------
-- backtests charge the stored funding with params {"funding": true}
-- ------------------------------------------------------------------
-- flat 1m bars at 100 from the minute after the fills for 4 hours;
-- buy_and_hold of 2 is in from the second bar's open, so it holds through
-- T1, T2, T3 (T4 is announced but no data passed it): the same payments
-- as the paper account, -0.0404 + 0.0621 - 0.0424 = -0.0207
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
SELECT date_trunc('minute', t0.f) + (i + 1) * interval '1 minute', 9457, '1 minute', 100, 100, 100, 100, 1, true
  FROM t0, generate_series(0, 239) i;
SELECT final_equity, fees_paid, trades
  FROM zvt.backtest('buy_and_hold', 'bybit', 'FND-USDT-PERP', '1 minute',
                    (SELECT date_trunc('minute', f) + interval '1 minute' FROM t0),
                    (SELECT date_trunc('minute', f) + interval '241 minutes' FROM t0),
                    '{"qty": 2, "funding": true}', fee_bps => 0, store => 'trades');
SELECT round(pnl::numeric, 10) AS pnl FROM zvt.backtest_trades WHERE run_id = (SELECT max(run_id) FROM zvt.backtest_runs);
SELECT final_equity
  FROM zvt.backtest('buy_and_hold', 'bybit', 'FND-USDT-PERP', '1 minute',
                    (SELECT date_trunc('minute', f) + interval '1 minute' FROM t0),
                    (SELECT date_trunc('minute', f) + interval '241 minutes' FROM t0),
                    '{"qty": 2}', fee_bps => 0);
SELECT final_equity
  FROM zvt.backtest('buy_and_hold', 'bybit', 'FND-USDT-PERP', '1 minute',
                    (SELECT date_trunc('minute', f) + interval '1 minute' FROM t0),
                    (SELECT date_trunc('minute', f) + interval '241 minutes' FROM t0),
                    '{"qty": 2, "funding": "yes"}', fee_bps => 0);                 -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.backtest_grid('sma_cross', 'bybit', 'FND-USDT-PERP', '1 minute',
                    (SELECT date_trunc('minute', f) + interval '1 minute' FROM t0),
                    (SELECT date_trunc('minute', f) + interval '241 minutes' FROM t0),
                    '{"fast": [2, 3]}', params => '{"funding": true}');              -- 0A000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
