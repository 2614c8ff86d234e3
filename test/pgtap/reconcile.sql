-- test/pgtap/reconcile.sql: zvt.reconciliations (sql/59_reconcile.sql),
-- written as the attacker: a role reads only the reconciliations of the
-- accounts it may use (as zvt.orders: the owner, grantees, zvt_admin),
-- nobody writes them or calls the router's functions, not even the
-- owner; and a balance run's arithmetic: tracked assets are set to the
-- exchange's total with the adjustment recorded, an untracked one is
-- recorded once per total and never applied.
BEGIN;
SET client_min_messages = warning;
SELECT plan(26);

CREATE ROLE zvt_tap_ralice;
CREATE ROLE zvt_tap_rbob;
CREATE ROLE zvt_tap_rcarol;
CREATE ROLE zvt_tap_rdave;
GRANT zvt_admin TO zvt_tap_rcarol;

SET ROLE zvt_tap_ralice;
SELECT zvt.create_account('tap_r_alice', 'live', 'binance', initial_cash => 10, currency => 'USDT');
SELECT zvt.grant_account('tap_r_alice', 'zvt_tap_rdave');
RESET ROLE;
SET ROLE zvt_tap_rbob;
SELECT zvt.create_account('tap_r_bob', 'live', 'binance', initial_cash => 10, currency => 'USDT');
RESET ROLE;

-- what a router would write (it runs as the bootstrap superuser): a run of each account
CREATE TEMP TABLE r AS
SELECT a.name, a.account_id, zvt._reconcile_begin(a.account_id, 'start') AS run_id
  FROM zvt.accounts a WHERE a.name IN ('tap_r_alice', 'tap_r_bob');
GRANT SELECT ON r TO PUBLIC;
SELECT is(zvt._reconcile_balances((SELECT run_id FROM r WHERE name = 'tap_r_alice'),
          '[{"asset": "USDT", "free": "5", "locked": "1"}, {"asset": "ETH", "free": "2", "locked": "0"}]'),
          2, 'two balances differ: USDT (tracked) and ETH (not tracked)');
SELECT is((SELECT amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id)
            WHERE a.name = 'tap_r_alice' AND b.asset = 'USDT'), 6::numeric,
          'the tracked asset is set to the exchange''s total (free + locked)');
SELECT is((SELECT amount::text || ' ' || applied FROM zvt.reconciliations
            WHERE run_id = (SELECT run_id FROM r WHERE name = 'tap_r_alice') AND asset = 'USDT'),
          '-4 true', 'its row holds the adjustment, applied');
SELECT is((SELECT applied FROM zvt.reconciliations
            WHERE run_id = (SELECT run_id FROM r WHERE name = 'tap_r_alice') AND asset = 'ETH'),
          false, 'the untracked asset is recorded, not applied');
SELECT is((SELECT count(*)::int FROM zvt.balances b JOIN zvt.accounts a USING (account_id)
            WHERE a.name = 'tap_r_alice' AND b.asset = 'ETH'), 0, 'and the ledger gets no ETH balance');
SELECT is(zvt._reconcile_balances((SELECT run_id FROM r WHERE name = 'tap_r_alice'),
          '[{"asset": "USDT", "free": "6", "locked": "0"}, {"asset": "ETH", "free": "2", "locked": "0"}]'),
          0, 'the same balances again: nothing new to record');
SELECT lives_ok($$SELECT zvt._reconcile_orders((SELECT run_id FROM r WHERE name = 'tap_r_bob'),
    '[{"order_id": null, "client_id": "manual", "exchange_id": "77", "symbol": "BTCUSDT", "side": "buy",
       "qty": "1", "price": "5", "status": "new", "filled": "0", "filled_quote": "0"}]', 1000, 1000)$$,
    'an order bob placed outside zvt');
-- an order of bob's in doubt (its reply lost): his balances are not compared
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('binance', 'TAPR-USDT', 'TAPRUSDT', 'TAPR', 'USDT', 'spot');
INSERT INTO zvt.orders (account_id, instrument_id, exchange, symbol, side, type, qty, price, tif, status)
SELECT r.account_id, i.id, 'binance', 'TAPR-USDT', 'buy', 'limit', 1, 5, 'gtc', 'unknown'
  FROM r, zvt.instruments i WHERE r.name = 'tap_r_bob' AND i.symbol = 'TAPR-USDT';
SELECT is(zvt._reconcile_balances((SELECT run_id FROM r WHERE name = 'tap_r_bob'),
          '[{"asset": "USDT", "free": "1", "locked": "0"}]'), -1,
          'balances are not compared while an order is in doubt (it may have executed unseen)');
SELECT is((SELECT amount FROM zvt.balances b JOIN r USING (account_id) WHERE r.name = 'tap_r_bob' AND b.asset = 'USDT'),
          10::numeric, 'and the ledger''s balance is left as it was');
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE kind = 'run' AND finished_at IS NULL
            AND run_id IN (SELECT run_id FROM r)), 2, 'both runs are under way');
SELECT zvt._reconcile_end(run_id, NULL, '{}') FROM r;
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE run_id IN (SELECT run_id FROM r)
            AND finished_at IS NULL), 0, 'ending a run finishes every row of it');

-- ---------------------------------------------------------------------
-- who reads what
-- ---------------------------------------------------------------------
SET ROLE zvt_tap_ralice;
SELECT is((SELECT count(*)::int FROM zvt.reconciliations), 3, 'alice sees her run and its two balance rows');
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE kind = 'order_unknown'), 0,
          'alice does not see bob''s unknown order');
SELECT throws_ok($$UPDATE zvt.reconciliations SET applied = true$$, '42501', NULL,
                 'even the owner cannot rewrite a reconciliation');
SELECT throws_ok($$DELETE FROM zvt.reconciliations$$, '42501', NULL, 'nor delete one');
RESET ROLE;

SET ROLE zvt_tap_rbob;
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE account_id =
            (SELECT account_id FROM r WHERE name = 'tap_r_alice')), 0, 'bob sees none of alice''s rows by id');
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE kind = 'balance'), 0,
          'bob does not see alice''s balances');
SELECT is((SELECT count(*)::int FROM zvt.reconciliations), 2, 'bob sees his own run and unknown order only');
SELECT throws_ok($$INSERT INTO zvt.reconciliations (run_id, account_id, exchange, started_at, kind)
                   SELECT 1, account_id, 'binance', now(), 'run' FROM zvt.accounts$$, '42501', NULL,
                 'bob cannot insert a reconciliation');
SELECT throws_ok($$TRUNCATE zvt.reconciliations$$, '42501', NULL, 'bob cannot truncate them');
SELECT throws_ok($$SELECT zvt._reconcile_begin(1, 'start')$$, '42501', NULL,
                 'bob cannot start a run (which would hold an account''s orders)');
SELECT throws_ok($$SELECT zvt._reconcile_balances(1, '[]')$$, '42501', NULL, 'bob cannot set balances through a run');
SELECT throws_ok($$SELECT zvt._reconcile_note(1, 'balance', NULL, '{}', true, 'USDT', 1)$$, '42501', NULL,
                 'bob cannot forge a difference');
SELECT throws_ok($$SELECT zvt._reconcile_end(1, NULL, '{}')$$, '42501', NULL, 'bob cannot end a run');
RESET ROLE;

SET ROLE zvt_tap_rdave;
SELECT is((SELECT count(*)::int FROM zvt.reconciliations), 3, 'a grantee of alice''s account sees its rows, as its orders');
RESET ROLE;
SET ROLE zvt_tap_rcarol;
SELECT is((SELECT count(*)::int FROM zvt.reconciliations WHERE run_id IN (SELECT run_id FROM r)), 5,
          'zvt_admin sees every account''s');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
