-- test/pgtap/trading_security.sql: one role's accounts are invisible and
-- untouchable to another; nobody writes the ledger directly; the order
-- audit is append-only even for its owner.
BEGIN;
SELECT plan(37);

CREATE ROLE zvt_tap_alice;
CREATE ROLE zvt_tap_bob;
CREATE ROLE zvt_tap_carol;
GRANT zvt_admin TO zvt_tap_carol;

INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9201, 'binance', 'SEC-USDT', 'SECUSDT', 'SEC', 'USDT', 'spot');
SELECT zvt.bus_publish('binance', 'SEC-USDT', price => 10, qty => 1, bid => 9.9, ask => 10.1);

-- alice opens an account and places a resting order and a filled one
SET ROLE zvt_tap_alice;
SELECT is((zvt.create_account('tap_alice', initial_cash => 1000)).owner::text, 'zvt_tap_alice',
          'the creating role owns the account');
SELECT is((zvt.place_order('tap_alice', 'binance', 'SEC-USDT', 'buy', 1, 'limit', price => 9)).status,
          'accepted', 'the owner places an order');
SELECT is((zvt.place_order('tap_alice', 'binance', 'SEC-USDT', 'buy', 1)).status,
          'filled', 'the owner''s market order fills');
SELECT is((SELECT count(*)::int FROM zvt.orders), 2, 'the owner sees her orders');
SELECT is((SELECT count(*)::int FROM zvt.positions), 1, 'the owner sees her position');
SELECT throws_ok($$UPDATE zvt.order_events SET reason = 'x'$$, '42501', NULL,
                 'the owner may not change the audit');
SELECT throws_ok($$INSERT INTO zvt.balances (account_id, asset, amount)
                   SELECT account_id, 'USDT', 1e9 FROM zvt.accounts$$, '42501', NULL,
                 'the owner may not write balances');
RESET ROLE;
SELECT order_id AS alice_order FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
 WHERE a.name = 'tap_alice' AND o.status = 'accepted' \gset

-- bob sees nothing of hers and can do nothing with it
SET ROLE zvt_tap_bob;
SELECT is((SELECT count(*)::int FROM zvt.accounts WHERE name = 'tap_alice'), 0, 'bob does not see alice''s account');
SELECT is((SELECT count(*)::int FROM zvt.orders), 0, 'bob sees no orders of hers');
SELECT is((SELECT count(*)::int FROM zvt.order_events), 0, 'bob sees no order events of hers');
SELECT is((SELECT count(*)::int FROM zvt.fills), 0, 'bob sees no fills of hers');
SELECT is((SELECT count(*)::int FROM zvt.balances), 0, 'bob sees no balances of hers');
SELECT is((SELECT count(*)::int FROM zvt.positions), 0, 'bob sees no positions of hers (security_invoker view)');
SELECT throws_ok($$SELECT zvt.place_order('tap_alice', 'binance', 'SEC-USDT', 'buy', 1)$$, '42501', NULL,
                 'bob cannot trade alice''s account');
SELECT throws_ok(format('SELECT zvt.cancel_order(%s)', :alice_order), '42501', NULL,
                 'bob cannot cancel alice''s order');
SELECT throws_ok($$SELECT * FROM zvt.cancel_all('tap_alice')$$, '42501', NULL,
                 'bob cannot cancel all of alice''s orders');
SELECT throws_ok($$SELECT * FROM zvt.portfolio('tap_alice')$$, '42501', NULL,
                 'bob cannot read alice''s portfolio');
SELECT throws_ok($$SELECT zvt.grant_account('tap_alice', 'zvt_tap_bob')$$, '42501', NULL,
                 'bob cannot grant himself alice''s account');
SELECT throws_ok($$SELECT zvt.set_risk_limits('tap_alice', max_order_qty => 1000)$$, '42501', NULL,
                 'bob cannot change alice''s limits');
SELECT throws_ok($$INSERT INTO zvt.orders (account_id, instrument_id, exchange, symbol, side, type, qty, tif, status)
                   VALUES (1, 9201, 'binance', 'SEC-USDT', 'buy', 'market', 1, 'gtc', 'filled')$$, '42501', NULL,
                 'bob cannot insert orders directly');
SELECT throws_ok($$UPDATE zvt.orders SET status = 'canceled'$$, '42501', NULL, 'bob cannot update orders');
SELECT throws_ok($$DELETE FROM zvt.fills$$, '42501', NULL, 'bob cannot delete fills');
SELECT throws_ok($$UPDATE zvt.holdings SET qty = 0$$, '42501', NULL, 'bob cannot update holdings');
SELECT throws_ok($$INSERT INTO zvt.order_events (order_id, account_id, event, status) VALUES (1, 1, 'new', 'new')$$,
                 '42501', NULL, 'bob cannot insert order events');
SELECT throws_ok($$SELECT zvt._place_order('zvt_tap_alice'::regrole::oid, 'tap_alice', 'binance', 'SEC-USDT', 'buy', 1,
                   'market', NULL, NULL, NULL, 'gtc', NULL, false, false)$$, '42501', NULL,
                 'bob cannot call the body with a forged caller');
SELECT throws_ok($$SELECT zvt.bus_publish('binance', 'SEC-USDT', price => 1)$$, '42501', NULL,
                 'bob cannot move prices');
RESET ROLE;

-- shared: alice grants bob her account; he trades it but may not manage it
SET ROLE zvt_tap_alice;
SELECT lives_ok($$SELECT zvt.grant_account('tap_alice', 'zvt_tap_bob')$$, 'the owner grants her account');
RESET ROLE;
SET ROLE zvt_tap_bob;
SELECT is((SELECT count(*)::int FROM zvt.orders), 2, 'a grantee sees the account''s orders');
SELECT is((zvt.place_order('tap_alice', 'binance', 'SEC-USDT', 'buy', 1, 'limit', price => 8)).status,
          'accepted', 'a grantee trades the account');
SELECT throws_ok($$SELECT zvt.set_trading_state('tap_alice', 'active')$$, '42501', NULL,
                 'a grantee may not change the trading state');
RESET ROLE;
SET ROLE zvt_tap_alice;
SELECT lives_ok($$SELECT zvt.grant_account('tap_alice', 'zvt_tap_bob', allow => false)$$, 'the owner takes it back');
RESET ROLE;
SET ROLE zvt_tap_bob;
SELECT is((SELECT count(*)::int FROM zvt.orders), 0, 'after the revoke bob sees nothing again');
RESET ROLE;

-- zvt_admin sees and manages every account
SET ROLE zvt_tap_carol;
SELECT is((SELECT count(*)::int FROM zvt.accounts WHERE name = 'tap_alice'), 1, 'zvt_admin sees every account');
SELECT is((zvt.set_trading_state('tap_alice', 'halted')).state, 'halted', 'zvt_admin halts an account');
RESET ROLE;

-- the audit is append-only even for the owner of the table
SELECT throws_ok($$UPDATE zvt.order_events SET reason = 'x'$$, '55000', NULL, 'UPDATE of order_events raises for its owner');
SELECT throws_ok($$DELETE FROM zvt.order_events$$, '55000', NULL, 'DELETE of order_events raises for its owner');
SELECT throws_ok($$TRUNCATE zvt.order_events$$, '55000', NULL, 'TRUNCATE of order_events raises for its owner');

SELECT * FROM finish();
ROLLBACK;
