-- test/pgtap/book_trade.sql: one fill per exchange trade
-- (sql/59_trades.sql).  A live order's fill booked from a cumulative
-- quantity (no trade id, the schedule's fee) is identified by the
-- exchange's trades, split one row per trade, at the trades' prices;
-- each trade's fee is the exchange's, in its asset (the quote, BNB, the
-- base), the balances following exactly; a trade id is booked once; a
-- trade the ledger never booked is booked; nothing past the order's
-- quantity.  And as the attacker: nobody but the routers calls these
-- functions or reads the marks.
BEGIN;
SET client_min_messages = warning;
SELECT plan(22);

CREATE ROLE zvt_tap_bt;
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('binance', 'TAPB-USDT', 'TAPBUSDT', 'TAPB', 'USDT', 'spot');
SET ROLE zvt_tap_bt;
SELECT zvt.create_account('tap_bt', 'live', 'binance', initial_cash => 100000, currency => 'USDT',
                          maker_fee_bps => 10, taker_fee_bps => 20);
RESET ROLE;
INSERT INTO zvt.orders (account_id, instrument_id, exchange, symbol, side, type, qty, price, tif, status, reserve_price)
SELECT a.account_id, i.id, 'binance', 'TAPB-USDT', 'buy', 'limit', 3, 102, 'gtc', 'new', 102
  FROM zvt.accounts a, zvt.instruments i WHERE a.name = 'tap_bt' AND i.symbol = 'TAPB-USDT';
CREATE TEMP TABLE o AS SELECT max(order_id) AS id, max(account_id) AS acct FROM zvt.orders
 WHERE symbol = 'TAPB-USDT';
INSERT INTO zvt._live_orders (order_id, account_id, exchange_id, sent_at, acked_at)
SELECT id, acct, '900', now(), now() FROM o;
CREATE FUNCTION pg_temp.bal(a text) RETURNS numeric LANGUAGE sql
AS $$ SELECT coalesce((SELECT amount FROM zvt.balances WHERE account_id = (SELECT acct FROM o) AND asset = a), 0) $$;

-- a query reply: 2 filled for 200.5 (two trades of the exchange's, the reply does not say)
SELECT is(zvt._router_apply((SELECT id FROM o), 'query', 'ok', 'partially_filled', '900', 2, 200.5, '', 1000, 1000),
          'new', 'a query reply books the cumulative quantity');
SELECT is((SELECT count(*) || ' ' || count(exchange_trade_id) || ' ' || min(price) || ' ' || min(fee_source)
             FROM zvt.fills WHERE order_id = (SELECT id FROM o)),
          '1 0 100.25 schedule', 'one fill without a trade id, at the average price, the schedule''s fee');

-- the first trade: identified, split off the anonymous fill
SELECT is(zvt._book_trade((SELECT id FROM o), 't1', 1, 100, 0.05, 'USDT', 'maker', NULL), 'identified',
          'a trade the ledger booked without its id is identified');
SELECT is((SELECT string_agg(coalesce(exchange_trade_id, '-') || ' ' || qty || ' ' || price, ', ' ORDER BY fill_id)
             FROM zvt.fills WHERE order_id = (SELECT id FROM o)),
          '- 1 100.25, t1 1 100', 'split: the trade''s own row at its price, the rest stays anonymous');
SELECT is((SELECT trim_scale(filled_qty) FROM zvt.orders WHERE order_id = (SELECT id FROM o)), 2::numeric,
          'the filled quantity does not move');
-- the second: the rest of the anonymous fill, its fee in BNB
SELECT is(zvt._book_trade((SELECT id FROM o), 't2', 1, 100.5, 0.001, 'BNB', 'maker', NULL), 'identified',
          'the second trade takes the rest');
SELECT is((SELECT count(*) || ' ' || count(exchange_trade_id) FROM zvt.fills WHERE order_id = (SELECT id FROM o)),
          '2 2', 'every fill has its trade id now');
SELECT is(zvt._book_trade((SELECT id FROM o), 't2', 1, 100.5, 0.001, 'BNB', 'maker', NULL), 'duplicate',
          'a trade id already booked: nothing');
-- the third: never booked; its fee in the base asset it brought
SELECT is(zvt._book_trade((SELECT id FROM o), 't3', 1, 101, 0.0001, 'TAPB', 'taker', NULL), 'booked',
          'a trade the ledger never booked is booked');
SELECT is((SELECT status || ' ' || trim_scale(filled_qty) || ' ' || trim_scale(avg_fill_price)
             FROM zvt.orders WHERE order_id = (SELECT id FROM o)),
          'filled 3 100.5', 'the order is filled, at the trades'' average price');
SELECT is(zvt._book_trade((SELECT id FROM o), 't4', 1, 101, 0.1, 'USDT', 'taker', NULL), 'nothing',
          'nothing past the order''s quantity');

-- the money: exactly the exchange's
SELECT is(pg_temp.bal('USDT'), 100000 - 100 - 100.5 - 101 - 0.05,
          'USDT: the trades'' notional and the one fee charged in USDT');
SELECT is(pg_temp.bal('BNB'), -0.001::numeric, 'BNB: the fee charged in BNB');
SELECT is(pg_temp.bal('TAPB'), 3 - 0.0001, 'TAPB: the quantity bought less the fee charged in it');
SELECT is((SELECT string_agg(exchange_trade_id || ' ' || fee || ' ' || fee_asset || ' ' || fee_source, ', '
                             ORDER BY exchange_trade_id)
             FROM zvt.fills WHERE order_id = (SELECT id FROM o)),
          't1 0.05 USDT exchange, t2 0.001 BNB exchange, t3 0.0001 TAPB exchange',
          'each fill carries the exchange''s fee in its asset');
SELECT is((SELECT fees FROM zvt.orders WHERE order_id = (SELECT id FROM o)), 0.05::numeric,
          'the order''s fees count the quote''s');
SELECT is((SELECT sum(fees) FROM zvt.daily_pnl WHERE account_id = (SELECT acct FROM o)), 0.05::numeric,
          'and so do the day''s');
SELECT is((SELECT qty FROM zvt.holdings WHERE account_id = (SELECT acct FROM o)), pg_temp.bal('TAPB'),
          'the position is what the account holds: the quantity traded less the fee charged in the base');

-- as the attacker (the account's owner included)
SET ROLE zvt_tap_bt;
SELECT throws_ok($$SELECT zvt._book_trade(1, 'x', 1, 1, 0, 'USDT', 'maker', NULL)$$, '42501', NULL,
                 'the owner cannot book a trade');
SELECT throws_ok($$SELECT zvt._reconcile_trades(1, '[]', '{}')$$, '42501', NULL,
                 'nor feed a fill history');
SELECT throws_ok($$SELECT zvt._fill_exchange_fee(1, 0, 'USDT')$$, '42501', NULL, 'nor set a fill''s fee');
SELECT throws_ok($$SELECT * FROM zvt._recon_marks$$, '42501', NULL, 'nor read the history marks');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
