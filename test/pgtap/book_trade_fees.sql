-- test/pgtap/book_trade_fees.sql: a live fill's fee charged in the base
-- asset (sql/59_trades.sql, zvt._fill_exchange_fee; zvt._hold in
-- sql/55_orders.sql).  The account holds the quantity traded less the fee,
-- so the position does too: the fee's base leaves the position as a sale
-- at the fill's price whose proceeds are the fee (against a long: fee x
-- average price realized as a loss, the average price unchanged), on a
-- buy and on a sell, booked with the trade or when a trade the ledger had
-- booked without its id is identified; a fee in a third asset (BNB) or in
-- the quote moves no position; the risk check sees the reduced position;
-- positions, realized PnL and the day's PnL equal a replay of the fills
-- (test/chaos/invariants.sql's).  Every figure exact.  And as the
-- attacker: nobody but the ledger moves a position.
BEGIN;
SET client_min_messages = warning;
SELECT plan(27);

CREATE ROLE zvt_tap_bf;
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('bybit', 'TAPF-USDT', 'TAPFUSDT', 'TAPF', 'USDT', 'spot'),
       ('bybit', 'TAPG-USDT', 'TAPGUSDT', 'TAPG', 'USDT', 'spot');
SET ROLE zvt_tap_bf;
SELECT zvt.create_account('tap_bf', 'live', 'bybit', initial_cash => 100000, currency => 'USDT',
                          maker_fee_bps => 10, taker_fee_bps => 20);
RESET ROLE;
CREATE TEMP TABLE acct AS SELECT account_id AS id FROM zvt.accounts WHERE name = 'tap_bf';

-- a live order as place_order and the router leave it: new on the exchange, counted in zvt.exposure
CREATE FUNCTION pg_temp.ord(sym text, side text, qty numeric, px numeric) RETURNS int8 LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
BEGIN
    INSERT INTO zvt.orders (account_id, instrument_id, exchange, symbol, side, type, qty, price, tif, status,
                            reserve_price)
    SELECT (SELECT id FROM acct), i.id, 'bybit', sym, side, 'limit', qty, px, 'gtc', 'new', px
      FROM zvt.instruments i WHERE i.exchange = 'bybit' AND i.symbol = sym
    RETURNING * INTO o;
    PERFORM zvt._exposure(o, 1, qty, px);
    INSERT INTO zvt._live_orders (order_id, account_id, exchange_id, sent_at, acked_at)
    VALUES (o.order_id, o.account_id, 'x' || o.order_id, now(), now());
    RETURN o.order_id;
END;
$$;
CREATE FUNCTION pg_temp.iid(sym text) RETURNS int4 LANGUAGE sql
AS $$ SELECT id FROM zvt.instruments WHERE exchange = 'bybit' AND symbol = sym $$;
CREATE FUNCTION pg_temp.pos(sym text) RETURNS text LANGUAGE sql
AS $$ SELECT qty || ' ' || avg_price || ' ' || realized_pnl FROM zvt.holdings
       WHERE account_id = (SELECT id FROM acct) AND instrument_id = pg_temp.iid(sym) $$;
CREATE FUNCTION pg_temp.bal(a text) RETURNS numeric LANGUAGE sql
AS $$ SELECT coalesce((SELECT amount FROM zvt.balances WHERE account_id = (SELECT id FROM acct) AND asset = a), 0) $$;
CREATE FUNCTION pg_temp.fill(oid8 int8) RETURNS text LANGUAGE sql
AS $$ SELECT string_agg(qty || ' ' || fee || ' ' || fee_asset || ' ' || fee_source || ' ' || realized_pnl, ', '
                        ORDER BY fill_id)
        FROM zvt.fills WHERE order_id = oid8 $$;
CREATE TEMP TABLE o (name text PRIMARY KEY, id int8);

-- ---- a buy whose fee is in the base asset it received (Bybit, OKX, Binance) ----
INSERT INTO o VALUES ('b1', pg_temp.ord('TAPF-USDT', 'buy', 1, 100));
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 'b1'), 'b1', 1, 100, 0.001, 'TAPF', 'taker', NULL), 'booked',
          'a buy of 1 at 100, its fee 0.001 in the base');
SELECT is(pg_temp.pos('TAPF-USDT'), '0.999 100 -0.1',
          'the position is what the account holds, 0.999; the fee''s cost, 0.001 x 100, is realized; the average price stays');
SELECT is(pg_temp.bal('TAPF'), 0.999, 'the base balance: the same 0.999');
SELECT is(pg_temp.bal('USDT'), 99900::numeric, 'the quote paid the notional, no fee (the schedule''s is given back)');
SELECT is(pg_temp.fill((SELECT id FROM o WHERE name = 'b1')), '1 0.001 TAPF exchange -0.1',
          'the fill: the quantity traded, the exchange''s fee in the base, its realized PnL');
SELECT is((SELECT realized || ' ' || fees FROM zvt.daily_pnl WHERE account_id = (SELECT id FROM acct)), '-0.1 0',
          'the day: the fee''s cost realized, no quote fee');

-- ---- a second buy: the average price moves with the fill only ----------
INSERT INTO o VALUES ('b2', pg_temp.ord('TAPF-USDT', 'buy', 1.001, 110));
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 'b2'), 'b2', 1.001, 110, 0.001001, 'TAPF', 'maker', NULL),
          'booked', 'a buy of 1.001 at 110, its fee 0.001001 in the base');
-- avg (0.999 x 100 + 1.001 x 110) / 2 = 105.005; the fee's cost 0.001001 x 105.005 = 0.105110005
SELECT is(pg_temp.pos('TAPF-USDT'), '1.998999 105.005 -0.205110005',
          'the position: 2 bought less 0.002001 of fees; the second fee''s cost at the average price');

-- ---- a sell whose fee is in the base: the fee is more base gone ----------
INSERT INTO o VALUES ('s1', pg_temp.ord('TAPF-USDT', 'sell', 0.5, 120));
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 's1'), 's1', 0.5, 120, 0.0005, 'TAPF', 'taker', NULL),
          'booked', 'a sell of 0.5 at 120, its fee 0.0005 in the base');
-- the sale realizes 0.5 x (120 - 105.005) = 7.4975, the fee costs 0.0005 x 105.005 = 0.0525025
SELECT is(pg_temp.pos('TAPF-USDT'), '1.498499 105.005 7.239887495',
          'the position gives the 0.5 sold and the 0.0005 fee; the sale''s PnL less the fee''s cost realized');
SELECT is(pg_temp.fill((SELECT id FROM o WHERE name = 's1')), '0.5 0.0005 TAPF exchange 7.4449975',
          'the sell''s fill carries both');
SELECT is(pg_temp.bal('TAPF'), 1.498499, 'the base balance equals the position');
SELECT is(pg_temp.bal('USDT'), 99849.89, 'the quote: 100000 - 100 - 110.11 + 60');

-- ---- the risk check sees the position the account holds ------------------
INSERT INTO zvt.risk_limits (account_id, max_position_qty) SELECT id, 1.5 FROM acct;
SELECT is(zvt._risk_check((SELECT id FROM acct), pg_temp.iid('TAPF-USDT'), 'buy', 0.001501, 'limit', 'gtc', 100,
                          false, 100, 100), NULL, 'max_position_qty 1.5: a buy of 0.001501 reaches it exactly');
SELECT matches(zvt._risk_check((SELECT id FROM acct), pg_temp.iid('TAPF-USDT'), 'buy', 0.001502, 'limit', 'gtc', 100,
                               false, 100, 100), '^max_position_qty: limit 1.5, position would reach 1.500001',
               'one more unit goes past it');
DELETE FROM zvt.risk_limits WHERE account_id = (SELECT id FROM acct);

-- ---- fees in the quote and in a third asset move no position -------------
INSERT INTO o VALUES ('s2', pg_temp.ord('TAPF-USDT', 'sell', 0.5, 120));
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 's2'), 's2', 0.5, 120, 0.06, 'USDT', 'taker', NULL), 'booked',
          'a sell of 0.5 at 120, its fee 0.06 in the quote');
SELECT is(pg_temp.pos('TAPF-USDT'), '0.998499 105.005 14.737387495',
          'the position gives the 0.5 sold only; the fee is the order''s and the day''s, not realized');
INSERT INTO o VALUES ('b3', pg_temp.ord('TAPF-USDT', 'buy', 1, 100));
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 'b3'), 'b3', 1, 100, 0.0002, 'BNB', 'maker', NULL), 'booked',
          'a buy of 1 at 100, its fee 0.0002 in BNB');
SELECT is((SELECT qty || ' ' || realized_pnl FROM zvt.holdings
            WHERE account_id = (SELECT id FROM acct) AND instrument_id = pg_temp.iid('TAPF-USDT')),
          '1.998499 14.737387495', 'a BNB fee: the position gains the 1 bought, nothing is realized');

-- ---- a fill booked without its id, identified with a fee in the base -----
INSERT INTO o VALUES ('b4', pg_temp.ord('TAPF-USDT', 'buy', 2, 100));
SELECT is(zvt._router_apply((SELECT id FROM o WHERE name = 'b4'), 'query', 'ok', 'partially_filled',
                            'x' || (SELECT id FROM o WHERE name = 'b4'), 1, 100, '', 1000, 1000),
          'new', 'a query reply books 1 of it, without a trade id, the schedule''s fee in the quote');
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 'b4'), 'b4', 1, 100, 0.001, 'TAPF', 'maker', NULL),
          'identified', 'the trade, with its fee in the base, identifies it');
SELECT is(pg_temp.bal('TAPF') || ' ' || (SELECT qty FROM zvt.holdings
                                          WHERE account_id = (SELECT id FROM acct)
                                            AND instrument_id = pg_temp.iid('TAPF-USDT')),
          '2.997499 2.997499', 'the fee leaves the position when the trade is identified: it equals the balance');

-- ---- a fee in the base learned once the position is flat -------------------
INSERT INTO o VALUES ('g1', pg_temp.ord('TAPG-USDT', 'buy', 1, 100)), ('g2', pg_temp.ord('TAPG-USDT', 'sell', 1, 100));
SELECT zvt._router_apply(id, 'query', 'ok', 'filled', 'x' || id, 1, 100, '', 1000, 1000) FROM o WHERE name IN ('g1', 'g2');
SELECT is(zvt._book_trade((SELECT id FROM o WHERE name = 'g1'), 'g1', 1, 100, 0.001, 'TAPG', 'taker', NULL),
          'identified', 'bought 1 and sold 1 (flat), then the buy''s trade says its fee was 0.001 in the base');
SELECT is(pg_temp.pos('TAPG-USDT') || ' / ' || pg_temp.bal('TAPG'), '-0.001 100 -0.1 / -0.001',
          'the position is short what the fee took, opened at the fill''s price; the fee''s value realized');

-- ---- the replay: positions, realized PnL and the day's equal the fills ----
SELECT is((SELECT count(*) FROM zvt.holdings h
             JOIN zvt.instruments i ON i.id = h.instrument_id
            CROSS JOIN LATERAL (
                SELECT sum(CASE f.side WHEN 'buy' THEN f.qty ELSE -f.qty END
                           - CASE WHEN f.fee_asset = i.base THEN f.fee ELSE 0 END) AS qty,
                       sum(f.realized_pnl) AS realized
                  FROM zvt.fills f WHERE f.account_id = h.account_id AND f.instrument_id = h.instrument_id) r
            WHERE h.account_id = (SELECT id FROM acct)
              AND (h.qty IS DISTINCT FROM r.qty OR h.realized_pnl IS DISTINCT FROM r.realized)),
          0::bigint, 'every position and its realized PnL equal a replay of the fills, their base fees taken');
SELECT is((SELECT sum(realized) || ' ' || sum(fees) FROM zvt.daily_pnl WHERE account_id = (SELECT id FROM acct)),
          (SELECT sum(f.realized_pnl) || ' ' || sum(f.fee) FILTER (WHERE f.fee_asset = i.quote)
             FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id
            WHERE f.account_id = (SELECT id FROM acct)),
          'the day''s realized PnL and fees equal the fills''');

-- ---- as the attacker (the account's owner included) --------------------------
SET ROLE zvt_tap_bf;
SELECT throws_ok($$SELECT zvt._hold(1, 1, 5, 1, 0)$$, '42501', NULL, 'the owner cannot move a position');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
