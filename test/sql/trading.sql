-- Trading core: accounts, every order type and tif against scripted bus
-- prices, positions and PnL worked out by hand, each risk limit exactly
-- at and just past its value, trading states, and bad input.
--
-- Prices come from zvt.bus_publish; pg_temp.tick() publishes and then
-- runs zvt.paper_match() (the paper matcher worker may get there first:
-- each bus update matches each order once, whoever runs it).
\set SHOW_CONTEXT never
SET client_min_messages = warning;

INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
OVERRIDING SYSTEM VALUE VALUES
    (9101, 'binance', 'TST-USDT', 'TSTUSDT', 'TST', 'USDT', 'spot', 0.01, 0.001),
    (9102, 'bybit', 'TST-USDT-PERP', 'TSTUSDT', 'TST', 'USDT', 'perp', 0.1, 0.01);

CREATE FUNCTION pg_temp.tick(last float8 DEFAULT NULL, qty float8 DEFAULT NULL,
                             bid float8 DEFAULT NULL, ask float8 DEFAULT NULL,
                             bid_qty float8 DEFAULT NULL, ask_qty float8 DEFAULT NULL,
                             ex text DEFAULT 'binance', sym text DEFAULT 'TST-USDT')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM zvt.bus_publish(ex, sym, last, qty, bid, bid_qty, ask, ask_qty);
    PERFORM zvt.paper_match();
END $$;

CREATE VIEW pg_temp.o AS
SELECT type, side, qty, price, stop_price AS stop, tif, status, filled_qty AS filled,
       avg_fill_price AS avg, fees, reason, client_order_id AS cid
  FROM zvt.orders;

-- ------------------------------------------------------------------
-- accounts
-- ------------------------------------------------------------------
SELECT name, kind, exchange, currency, owner, state, leverage, maker_fee_bps, taker_fee_bps, initial_cash
  FROM zvt.create_account('spot1', initial_cash => 10000, maker_fee_bps => 5, taker_fee_bps => 10,
                          slippage_bps => 10);
SELECT asset, amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id) WHERE a.name = 'spot1';
SELECT zvt.create_account('spot1');                        -- 42710
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('x', 'margin');                  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('x', initial_cash => -1);        -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('x', initial_cash => 'NaN');     -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('x', exchange => 'mtgox');       -- 42704
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('x', leverage => 200);           -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_account('', initial_cash => 1);          -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT name, kind FROM zvt.create_account('live1', 'live', initial_cash => 100);

-- ------------------------------------------------------------------
-- market orders: fill at once at the touch moved by slippage (10 bps), taker fee 10 bps
-- ------------------------------------------------------------------
SELECT pg_temp.tick(100, 1, 99.9, 100.1);
SELECT status, filled_qty AS filled, avg_fill_price AS avg, fees FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 2);
-- 100.1 * 1.001 = 100.2001; fee 2 * 100.2001 * 0.001 = 0.2004002
SELECT asset, amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id)
 WHERE a.name = 'spot1' ORDER BY asset;
SELECT status, filled_qty AS filled, avg_fill_price AS avg FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'sell', 1, tif => 'ioc');
-- 99.9 * 0.999 = 99.8001
SELECT status, filled_qty AS filled, avg_fill_price AS avg FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'sell', 0.5, tif => 'fok');
SELECT account, symbol, qty, avg_price, realized_pnl, mark_price, unrealized_pnl, notional
  FROM zvt.positions WHERE account = 'spot1';

-- ------------------------------------------------------------------
-- limit orders and tif
-- ------------------------------------------------------------------
-- not marketable: gtc rests, ioc and fok expire
SELECT status, reason FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 99, client_order_id => 'b99');
SELECT status, reason FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 99, tif => 'ioc');
SELECT status, reason FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 99, tif => 'fok');
-- marketable: taker at the touch, not at the limit (no slippage on limits)
SELECT status, filled_qty AS filled, avg_fill_price AS avg FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.5, 'limit', price => 101, tif => 'ioc');
SELECT status, filled_qty AS filled, avg_fill_price AS avg FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.5, 'limit', price => 101, tif => 'fok');
-- post_only: marketable is rejected, resting is accepted
SELECT status, reason FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 100.5, post_only => true);
SELECT status, reason FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'sell', 0.5, 'limit', price => 101, post_only => true, client_order_id => 's101');
-- the resting buy at 99 fills as maker in parts: a trade through it (0.3),
-- the ask reaching it (0.5 shown), then a trade at it for the rest (0.2)
SELECT pg_temp.tick(98.9, 0.3);
SELECT status, filled, avg, fees FROM pg_temp.o WHERE cid = 'b99';
SELECT pg_temp.tick(bid => 98.5, ask => 99, bid_qty => 1, ask_qty => 0.5);
SELECT status, filled, avg, fees FROM pg_temp.o WHERE cid = 'b99';
SELECT pg_temp.tick(99, 5);
SELECT status, filled, avg, fees FROM pg_temp.o WHERE cid = 'b99';
-- the same prices again fill nothing more: each bus update matches once
SELECT pg_temp.tick(99, 5);
SELECT status, filled FROM pg_temp.o WHERE cid IN ('b99', 's101') ORDER BY cid;
-- the resting sell at 101 (post_only) fills when a trade prints at or above it
SELECT pg_temp.tick(101.5, 2, 101, 101.6);
SELECT status, filled, avg, fees FROM pg_temp.o WHERE cid = 's101';
SELECT o.client_order_id AS cid, f.side, f.qty, f.price, f.fee, f.liquidity, f.realized_pnl
  FROM zvt.fills f JOIN zvt.orders o USING (order_id) ORDER BY f.fill_id;

-- ------------------------------------------------------------------
-- stops and trailing stops
-- ------------------------------------------------------------------
SELECT pg_temp.tick(100, 1, 99.9, 100.1);
-- stop sell (stop-loss) at 95: 96 does not trigger, 95 does; then a market sell at the bid - 10 bps
SELECT type, status, stop_price AS stop FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'sell', 0.5, 'stop', stop_price => 95, client_order_id => 'stop95');
SELECT pg_temp.tick(96, 1, 95.9, 96.1);
SELECT status, filled FROM pg_temp.o WHERE cid = 'stop95';
SELECT pg_temp.tick(95, 1, 94.9, 95.1);
SELECT status, filled, avg FROM pg_temp.o WHERE cid = 'stop95';
-- stop_limit buy: stop 105, limit 106; triggers on a trade at 105.5 while the ask (106.5)
-- is above the limit, so it rests as a limit and fills as maker when the ask reaches 106
SELECT type, status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.2, 'stop_limit', price => 106, stop_price => 105, client_order_id => 'sl105');
SELECT pg_temp.tick(104.9, 1, 104.8, 105);
SELECT status, filled FROM pg_temp.o WHERE cid = 'sl105';
SELECT pg_temp.tick(105.5, 1, 105.4, 106.5);
SELECT status, filled FROM pg_temp.o WHERE cid = 'sl105';
SELECT pg_temp.tick(bid => 105.8, ask => 106, ask_qty => 10);
SELECT status, filled, avg FROM pg_temp.o WHERE cid = 'sl105';
-- trailing stop sell 5 %: starts at 5 % under the mark (100 -> 95), follows the
-- high (110 -> 104.5), does not move down, triggers when a trade reaches 104.5
SELECT pg_temp.tick(100, 1, 99.9, 100.1);
SELECT type, status, stop_price AS stop FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'sell', 0.5, 'trailing_stop', trail_pct => 5, client_order_id => 'trail5');
SELECT pg_temp.tick(110, 1, 109.9, 110.1);
SELECT status, stop FROM pg_temp.o WHERE cid = 'trail5';
SELECT pg_temp.tick(105, 1, 104.9, 105.1);
SELECT status, stop FROM pg_temp.o WHERE cid = 'trail5';
SELECT pg_temp.tick(104.5, 1, 104.4, 104.6);
SELECT status, stop, filled, avg FROM pg_temp.o WHERE cid = 'trail5';
-- a buy trailing stop follows the low
SELECT stop_price AS stop FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.1, 'trailing_stop', trail_pct => 10, client_order_id => 'trail10');
SELECT pg_temp.tick(90, 1, 89.9, 90.1);
SELECT status, stop FROM pg_temp.o WHERE cid = 'trail10';
SELECT pg_temp.tick(99, 1, 98.9, 99.1);
SELECT status, stop, filled, avg FROM pg_temp.o WHERE cid = 'trail10';
SELECT event, status, qty, price, reason FROM zvt.order_events
 WHERE order_id IN (SELECT order_id FROM zvt.orders WHERE client_order_id IN ('trail5', 'trail10')) ORDER BY event_id;
-- a trailing stop's trigger is rounded to the tick size (0.01) toward the mark, so
-- that it never trails by more than trail_pct: 100.07 * 1.03 = 103.0721 -> 103.07
SELECT pg_temp.tick(100.07, 1, 100.06, 100.08);
SELECT stop_price AS stop FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.1, 'trailing_stop', trail_pct => 3, client_order_id => 'trail3');
SELECT status FROM zvt.cancel_order((SELECT order_id FROM zvt.orders WHERE client_order_id = 'trail3'));
-- the matcher rounds the same way when it moves the trigger: a buy trailing the
-- low 99.93 by 3 % -> 102.9279 -> 102.92 (down, toward the mark)
SELECT stop_price AS stop FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.1, 'trailing_stop', trail_pct => 3, client_order_id => 'trail3m');
SELECT pg_temp.tick(99.93, 1, 99.92, 99.94);
SELECT status, stop FROM pg_temp.o WHERE cid = 'trail3m';
SELECT status FROM zvt.cancel_order((SELECT order_id FROM zvt.orders WHERE client_order_id = 'trail3m'));
SELECT pg_temp.tick(99, 1, 98.9, 99.1);
-- the same rule for the matcher: a sell 100.07 * 0.97 = 97.0679 -> 97.07; on a 0.1 tick
-- 100.05 * 0.9999 = 100.039995 would round onto the mark (100.1 >= 100.05) and goes the
-- other way (100), a buy likewise (100.1); no tick size, no rounding
SELECT zvt._trailing_stop_price(100.07, 3, 'sell', 0.01) AS sell, zvt._trailing_stop_price(100.07, 3, 'buy', 0.01) AS buy,
       zvt._trailing_stop_price(100.05, 0.01, 'sell', 0.1) AS sell_near, zvt._trailing_stop_price(100.05, 0.01, 'buy', 0.1) AS buy_near,
       zvt._trailing_stop_price(100.07, 3, 'sell', NULL) AS no_tick;

-- ------------------------------------------------------------------
-- cancel
-- ------------------------------------------------------------------
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 50, client_order_id => 'c50');
SELECT status, filled_qty FROM zvt.cancel_order((SELECT order_id FROM zvt.orders WHERE client_order_id = 'c50'));
SELECT zvt.cancel_order((SELECT order_id FROM zvt.orders WHERE client_order_id = 'c50'));   -- 55000: canceled
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.cancel_order((SELECT order_id FROM zvt.orders WHERE client_order_id = 'b99'));   -- 55000: filled
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.cancel_order(999999);                           -- 42704
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 50);
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 51);
SELECT price, status FROM zvt.cancel_all('spot1', 'binance', 'TST-USDT');
SELECT price, status FROM zvt.cancel_all('spot1');
SELECT open_orders, buy_qty, sell_qty, buy_notional, sell_notional FROM zvt.exposure
 WHERE account_id = (SELECT account_id FROM zvt.accounts WHERE name = 'spot1');

-- client_order_id: a retry returns the original; other arguments are 23505
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => 'c-1');
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => 'c-1');
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 2, 'limit', price => 60, client_order_id => 'c-1');  -- 23505
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.orders WHERE client_order_id = 'c-1';
-- 1 to 64 characters, as exchanges allow: longer (however long) or empty is 22023
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => repeat('é', 64));
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => repeat('x', 65));  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => repeat('x', 10000000));  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 60, client_order_id => '');  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM zvt.cancel_all('spot1');

-- the whole story of the account
SELECT currency, cash, equity, exposure, unrealized_pnl, realized_pnl, fees, pnl_today, pnl_total, open_orders
  FROM zvt.portfolio('spot1');
SELECT asset, amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id)
 WHERE a.name = 'spot1' ORDER BY asset;
SELECT qty, avg_price, realized_pnl FROM zvt.positions WHERE account = 'spot1';

-- ------------------------------------------------------------------
-- a perpetual, long then flipped short, then reduced: worked by hand
-- (taker 10 bps, no slippage, leverage 5)
-- ------------------------------------------------------------------
SELECT name, leverage FROM zvt.create_account('perp1', exchange => 'bybit', initial_cash => 10000, leverage => 5, taker_fee_bps => 10);
SELECT pg_temp.tick(100, 1, 99.9, 100.1, ex => 'bybit', sym => 'TST-USDT-PERP');
-- buy 2 at 100.1: fee 0.2002; position 2 @ 100.1
SELECT status, filled_qty AS filled, avg_fill_price AS avg, fees FROM zvt.place_order('perp1', 'bybit', 'TST-USDT-PERP', 'buy', 2);
SELECT pg_temp.tick(110, 1, 109.9, 110.1, ex => 'bybit', sym => 'TST-USDT-PERP');
-- sell 5 at 109.9: closes 2 for 2 * (109.9 - 100.1) = 19.6, flips to -3 @ 109.9; fee 0.5495
SELECT status, filled_qty AS filled, avg_fill_price AS avg, fees FROM zvt.place_order('perp1', 'bybit', 'TST-USDT-PERP', 'sell', 5);
SELECT pg_temp.tick(105, 1, 104.9, 105.1, ex => 'bybit', sym => 'TST-USDT-PERP');
-- buy 1 at 105.1: closes 1 of the short for 109.9 - 105.1 = 4.8; fee 0.1051
SELECT status, filled_qty AS filled, avg_fill_price AS avg, fees FROM zvt.place_order('perp1', 'bybit', 'TST-USDT-PERP', 'buy', 1);
SELECT f.side, f.qty, f.price, f.fee, f.realized_pnl FROM zvt.fills f
  JOIN zvt.accounts a USING (account_id) WHERE a.name = 'perp1' ORDER BY f.fill_id;
-- position -2 @ 109.9, realized 24.4, marked at 105: unrealized 9.8, notional 210
SELECT qty, avg_price, realized_pnl, mark_price, unrealized_pnl, notional FROM zvt.positions WHERE account = 'perp1';
-- cash 10000 + 24.4 - 0.8548 = 10023.5452; equity + 9.8 = 10033.3452
SELECT currency, cash, equity, exposure, unrealized_pnl, realized_pnl, fees, pnl_today, pnl_total
  FROM zvt.portfolio('perp1');
-- margin: free equity 10033.3452 - 210 / 5 = 9991.3452; an order needs notional / 5
SELECT status, reason FROM zvt.place_order('perp1', 'bybit', 'TST-USDT-PERP', 'buy', 476, 'limit', price => 105);
SELECT status, reason FROM zvt.place_order('perp1', 'bybit', 'TST-USDT-PERP', 'sell', 475, 'limit', price => 106);
SELECT count(*) FROM zvt.cancel_all('perp1');

-- ------------------------------------------------------------------
-- risk limits: accepted exactly at the limit, rejected just past it
-- (resting buys at 90 while the market is 100; no fees)
-- ------------------------------------------------------------------
SELECT name FROM zvt.create_account('risk1', initial_cash => 1000000, maker_fee_bps => 0, taker_fee_bps => 0);
SELECT pg_temp.tick(100, 1, 99.9, 100.1);
CREATE FUNCTION pg_temp.buy(qty numeric, price numeric DEFAULT 90, acct text DEFAULT 'risk1')
RETURNS text LANGUAGE sql AS $$
    SELECT status || coalesce(': ' || reason, '')
      FROM zvt.place_order(acct, 'binance', 'TST-USDT', 'buy', qty, 'limit', price => price)
$$;

SELECT max_order_qty FROM zvt.set_risk_limits('risk1', max_order_qty => 5);
SELECT pg_temp.buy(5), pg_temp.buy(5.001);
-- an instrument's limit beside the account's: the stricter wins
SELECT symbol, max_order_qty FROM zvt.set_risk_limits('risk1', 'binance', 'TST-USDT', max_order_qty => 3);
SELECT pg_temp.buy(3), pg_temp.buy(4);
SELECT count(*) FROM zvt.set_risk_limits('risk1', 'binance', 'TST-USDT');
SELECT max_order_notional FROM zvt.set_risk_limits('risk1', max_order_notional => 450);
SELECT pg_temp.buy(5), pg_temp.buy(5.001);
SELECT count(*) FROM zvt.cancel_all('risk1');
-- open buys count toward the position: 4 + 4 + 2 = 10 fits, one more does not
SELECT max_position_qty FROM zvt.set_risk_limits('risk1', max_position_qty => 10);
SELECT pg_temp.buy(4), pg_temp.buy(4), pg_temp.buy(2), pg_temp.buy(0.001);
SELECT count(*) FROM zvt.cancel_all('risk1');
SELECT max_position_notional FROM zvt.set_risk_limits('risk1', max_position_notional => 900);
SELECT pg_temp.buy(5), pg_temp.buy(5), pg_temp.buy(0.001);
SELECT count(*) FROM zvt.cancel_all('risk1');
SELECT max_open_orders FROM zvt.set_risk_limits('risk1', max_open_orders => 2);
SELECT pg_temp.buy(1), pg_temp.buy(1), pg_temp.buy(1);
SELECT count(*) FROM zvt.cancel_all('risk1');
-- the band is around the last trade (100): 90 is exactly 10 % away
SELECT price_band_pct FROM zvt.set_risk_limits('risk1', price_band_pct => 10);
SELECT pg_temp.buy(1, 90), pg_temp.buy(1, 89.99), pg_temp.buy(1, 110), pg_temp.buy(1, 110.01);
SELECT count(*) FROM zvt.cancel_all('risk1');
-- a sliding second: three orders fit, the fourth in the same second does not
-- (an account of its own, so that only these orders are in its last second)
SELECT name FROM zvt.create_account('rate1', initial_cash => 1000000);
SELECT max_orders_per_sec FROM zvt.set_risk_limits('rate1', max_orders_per_sec => 3);
SELECT pg_temp.buy(1, acct => 'rate1') FROM generate_series(1, 4);
SELECT count(*) FROM zvt.cancel_all('rate1');
-- daily loss: bought 1 at 100.1 (the band test's buy at 110 filled at the ask) and 1 more:
-- marked at 90 the loss is 2 * 10.1 = 20.2: at the limit orders pass, past it only
-- orders that reduce the position do
SELECT max_daily_loss FROM zvt.set_risk_limits('risk1', max_daily_loss => 20.2);
SELECT status, avg_fill_price AS avg FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'buy', 1);
SELECT pg_temp.tick(90, 1, 89.9, 90.1);
SELECT pg_temp.buy(1, 80);
SELECT pg_temp.tick(89.99, 1, 89.9, 90.1);
SELECT pg_temp.buy(1, 80);
SELECT status FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'sell', 0.5, 'limit', price => 120);
SELECT count(*) FROM zvt.cancel_all('risk1');
SELECT count(*) FROM zvt.set_risk_limits('risk1');
-- trading states
SELECT state FROM zvt.set_trading_state('risk1', 'halted');
SELECT pg_temp.buy(1);
SELECT state FROM zvt.set_trading_state('risk1', 'reducing');
SELECT pg_temp.buy(1);
SELECT status FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'sell', 0.5, 'limit', price => 120);
SELECT status || coalesce(': ' || reason, '') FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'sell', 2, 'limit', price => 120);
SELECT state FROM zvt.set_trading_state('risk1', 'active');
SELECT zvt.set_trading_state('risk1', 'paused');           -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- reduce_only, spot oversell, cash
SELECT count(*) FROM zvt.cancel_all('risk1');
SELECT status || coalesce(': ' || reason, '') FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 80, reduce_only => true);
SELECT status || coalesce(': ' || reason, '') FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'sell', 1.001, 'limit', price => 120);
SELECT status || coalesce(': ' || reason, '') FROM zvt.place_order('risk1', 'binance', 'TST-USDT', 'sell', 1, 'limit', price => 120);
SELECT pg_temp.buy(11000, 90);
SELECT pg_temp.buy(11100, 90);
SELECT count(*) FROM zvt.cancel_all('risk1');
-- every rejection is in the audit with its reason
SELECT count(*) FILTER (WHERE event = 'rejected') AS rejected, count(*) FILTER (WHERE event = 'new') AS new
  FROM zvt.order_events e JOIN zvt.accounts a USING (account_id) WHERE a.name = 'risk1';

-- ------------------------------------------------------------------
-- bad input: errors, nothing written
-- ------------------------------------------------------------------
SELECT count(*) AS orders_before FROM zvt.orders \gset
SELECT zvt.place_order('nobody', 'binance', 'TST-USDT', 'buy', 1);                   -- 42704
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'mtgox', 'TST-USDT', 'buy', 1);                      -- 42704
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'NOPE-USDT', 'buy', 1);                   -- 42704
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0);                    -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', -1);                   -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 'NaN');                -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 'Infinity');           -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', NULL);                 -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'hold', 1);                   -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit');           -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'iceberg');         -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, tif => 'day');      -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, price => 100);      -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'stop');            -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'trailing_stop', trail_pct => 100);  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'stop', stop_price => 110, tif => 'ioc'); -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, post_only => true); -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.0001);               -- 22023 lot
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 90.001); -- 22023 tick
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('live1', 'binance', 'TST-USDT', 'buy', 1);                    -- 0A000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- what the exchange has no native form for is named, before anything is written
SELECT zvt.place_order('live1', 'binance', 'TST-USDT', 'sell', 1, 'trailing_stop', trail_pct => 2); -- 0A000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('live1', 'binance', 'TST-USDT', 'buy', 1, 'stop', stop_price => 110); -- 0A000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.place_order('live1', 'binance', 'TST-USDT', 'sell', 1, reduce_only => true); -- 0A000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS live_orders FROM zvt.orders o JOIN zvt.accounts a USING (account_id) WHERE a.kind = 'live';
SELECT zvt.place_order('perp1', 'binance', 'TST-USDT', 'buy', 1);                    -- 22023 other exchange
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9103, 'okx', 'NOPX-USDT', 'NOPX-USDT', 'NOPX', 'USDT', 'spot');
SELECT zvt.place_order('spot1', 'okx', 'NOPX-USDT', 'buy', 1);                       -- 55000 no price
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE zvt.instruments SET min_notional = 5 WHERE id = 9101;
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 0.01, 'limit', price => 90);  -- 22023 min notional
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE zvt.instruments SET min_notional = NULL WHERE id = 9101;
SELECT zvt.set_risk_limits('spot1', 'binance', max_order_qty => 1);                  -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.set_risk_limits('spot1', max_order_qty => 0);                             -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.cancel_all('spot1', symbol => 'TST-USDT');                                -- 22023
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) - :orders_before AS orders_written FROM zvt.orders;

-- order_events is append-only, even for its owner
UPDATE zvt.order_events SET reason = 'x' WHERE event_id = (SELECT min(event_id) FROM zvt.order_events);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM zvt.order_events WHERE event_id = (SELECT min(event_id) FROM zvt.order_events);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE zvt.order_events;
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- place_order writes the ledger directly: it refuses a table that grew a
-- trigger (or CHECK constraints) it would bypass
CREATE FUNCTION public.trading_test_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER trading_test_noop BEFORE INSERT ON zvt.orders FOR EACH ROW EXECUTE FUNCTION public.trading_test_noop();
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 50);       -- 55000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER trading_test_noop ON zvt.orders;
ALTER TABLE zvt.order_events ADD CONSTRAINT trading_test_check CHECK (qty IS NULL OR qty > 0);
SELECT zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 50);       -- 55000
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE zvt.order_events DROP CONSTRAINT trading_test_check;
DROP FUNCTION public.trading_test_noop();
SELECT status FROM zvt.place_order('spot1', 'binance', 'TST-USDT', 'buy', 1, 'limit', price => 50);
SELECT count(*) FROM zvt.cancel_all('spot1');
