-- test/pgtap/trading_security.sql: one role's accounts are invisible and
-- untouchable to another, and no error tells it they exist; nobody writes
-- the ledger directly or takes an account's lock; an account whose owner
-- role was dropped is frozen until zvt_admin reassigns it; the order audit
-- is append-only even for its owner.
BEGIN;
SELECT plan(54);

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
-- each answer is exactly the one for an account that does not exist
SELECT throws_ok($$SELECT zvt.place_order('tap_alice', 'binance', 'SEC-USDT', 'buy', 1)$$, '42704',
                 'unknown account "tap_alice"', 'bob cannot trade alice''s account, nor learn it exists');
SELECT throws_ok($$SELECT zvt.place_order('tap_nobody', 'binance', 'SEC-USDT', 'buy', 1)$$, '42704',
                 'unknown account "tap_nobody"', 'an account nobody has: the same answer');
SELECT throws_ok(format('SELECT zvt.cancel_order(%s)', :alice_order), '42704',
                 format('unknown order %s', :alice_order), 'bob cannot cancel alice''s order, nor learn it exists');
SELECT throws_ok($$SELECT zvt.cancel_order(999999999)$$, '42704', 'unknown order 999999999',
                 'an order nobody has: the same answer');
SELECT throws_ok($$SELECT * FROM zvt.cancel_all('tap_alice')$$, '42704', 'unknown account "tap_alice"',
                 'bob cannot cancel all of alice''s orders');
SELECT throws_ok($$SELECT * FROM zvt.portfolio('tap_alice')$$, '42704', 'unknown account "tap_alice"',
                 'bob cannot read alice''s portfolio');
SELECT throws_ok($$SELECT zvt.grant_account('tap_alice', 'zvt_tap_bob')$$, '42704', 'unknown account "tap_alice"',
                 'bob cannot grant himself alice''s account');
SELECT throws_ok($$SELECT zvt.set_risk_limits('tap_alice', max_order_qty => 1000)$$, '42704',
                 'unknown account "tap_alice"', 'bob cannot change alice''s limits');
SELECT throws_ok($$SELECT zvt.set_trading_state('tap_alice', 'halted')$$, '42704',
                 'unknown account "tap_alice"', 'bob cannot halt alice''s account');
SELECT throws_ok($$SELECT zvt.reassign_account('tap_alice', 'zvt_tap_bob')$$, '42501', NULL,
                 'bob cannot take alice''s account over');
-- nor hold any account's lock, which would stall its trading and fills
SELECT throws_ok($$SELECT zvt._lock_account(1)$$, '42501', NULL, 'bob cannot take an account''s lock');
SELECT throws_ok($$SELECT zvt._try_lock_account(1)$$, '42501', NULL, 'bob cannot try an account''s lock');
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
CREATE FUNCTION pg_temp.error_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END;
$$;
SELECT unalike(pg_temp.error_detail($$SELECT zvt.set_risk_limits('tap_alice', max_order_qty => 1)$$),
              '%zvt_tap_alice%', 'the grantee''s error does not name the owner');
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

-- an account whose owner role is dropped is frozen, whoever it was granted to
CREATE ROLE zvt_tap_dave;
SET ROLE zvt_tap_dave;
SELECT lives_ok($$SELECT zvt.create_account('tap_dave', initial_cash => 1000)$$, 'dave opens an account');
SELECT lives_ok($$SELECT zvt.grant_account('tap_dave', 'zvt_tap_bob')$$, 'and shares it with bob');
RESET ROLE;
SET ROLE zvt_tap_bob;
SELECT is((zvt.place_order('tap_dave', 'binance', 'SEC-USDT', 'buy', 1, 'limit', price => 8)).status,
          'accepted', 'the grantee trades it while dave exists');
RESET ROLE;
DROP ROLE zvt_tap_dave;
SET ROLE zvt_tap_bob;
SELECT results_eq($$SELECT status, reason FROM zvt.place_order('tap_dave', 'binance', 'SEC-USDT', 'buy', 1, 'limit', price => 8)$$,
                  $$VALUES ('rejected', 'trading state: account tap_dave is halted: its owner role no longer exists (zvt_admin can zvt.reassign_account it)')$$,
                  'once dave is dropped the grantee''s orders are rejected as halted, saying why');
SELECT is((zvt.cancel_order((SELECT max(order_id) FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
                              WHERE a.name = 'tap_dave' AND o.status = 'accepted'))).status,
          'canceled', 'the grantee may still cancel what rests');
SELECT throws_ok($$SELECT zvt.reassign_account('tap_dave', 'zvt_tap_bob')$$, '42501', NULL,
                 'the grantee cannot take the orphaned account over');
RESET ROLE;
SET ROLE zvt_tap_carol;
SELECT throws_ok($$SELECT zvt.reassign_account('tap_nobody', 'zvt_tap_bob')$$, '42704', NULL,
                 'reassigning an unknown account is 42704');
SELECT throws_ok($$SELECT zvt.reassign_account('tap_dave', NULL)$$, '22023', NULL,
                 'a new owner is needed');
SELECT is((zvt.reassign_account('tap_dave', 'zvt_tap_bob')).owner::text, 'zvt_tap_bob',
          'zvt_admin gives the account a new owner');
RESET ROLE;
SET ROLE zvt_tap_bob;
SELECT is((zvt.place_order('tap_dave', 'binance', 'SEC-USDT', 'buy', 1, 'limit', price => 8)).status,
          'accepted', 'the new owner trades it again');
RESET ROLE;

-- the audit is append-only even for the owner of the table
SELECT throws_ok($$UPDATE zvt.order_events SET reason = 'x'$$, '55000', NULL, 'UPDATE of order_events raises for its owner');
SELECT throws_ok($$DELETE FROM zvt.order_events$$, '55000', NULL, 'DELETE of order_events raises for its owner');
SELECT throws_ok($$TRUNCATE zvt.order_events$$, '55000', NULL, 'TRUNCATE of order_events raises for its owner');

SELECT * FROM finish();
ROLLBACK;
