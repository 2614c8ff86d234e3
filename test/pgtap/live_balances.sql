-- test/pgtap/live_balances.sql: zvt.live_balances and zvt._stream_balances
-- (sql/59_userstream.sql), written as the attacker: the balances a
-- router wrote from an account's private stream are read by the roles
-- that may use the account (its owner, its grantees), by no one else,
-- and written by no one through SQL, not even the owner.
BEGIN;
SET client_min_messages = warning;
SELECT plan(8);

CREATE ROLE zvt_tap_lbalice;
CREATE ROLE zvt_tap_lbmallory;
CREATE ROLE zvt_tap_lbdave;

SET ROLE zvt_tap_lbalice;
SELECT zvt.create_account('tap_lb_alice', 'live', 'binance', initial_cash => 10, currency => 'USDT');
SELECT zvt.grant_account('tap_lb_alice', 'zvt_tap_lbdave');
RESET ROLE;

-- what a router writes (as the bootstrap superuser)
INSERT INTO zvt._stream_balances (account_id, asset, free, locked)
SELECT account_id, 'BTC', 1.5, 0.25 FROM zvt.accounts WHERE name = 'tap_lb_alice';

SET ROLE zvt_tap_lbalice;
SELECT is((SELECT free::text || ' ' || locked::text FROM zvt.live_balances WHERE account = 'tap_lb_alice'),
          '1.5 0.25', 'the owner reads its account''s stream balances');
RESET ROLE;
SET ROLE zvt_tap_lbdave;
SELECT is((SELECT count(*) FROM zvt.live_balances), 1::bigint, 'a grantee reads them');
RESET ROLE;

SET ROLE zvt_tap_lbmallory;
SELECT is((SELECT count(*) FROM zvt.live_balances), 0::bigint, 'another role sees none through the view');
SELECT is((SELECT count(*) FROM zvt._stream_balances), 0::bigint, 'nor in the table under it');
SELECT throws_ok($$INSERT INTO zvt._stream_balances (account_id, asset, free, locked)
                   SELECT account_id, 'USDT', 1e9, 0 FROM zvt.accounts WHERE name = 'tap_lb_alice'$$,
                 '42501', NULL, 'it cannot forge a balance');
SELECT throws_ok('DELETE FROM zvt._stream_balances', '42501', NULL, 'nor delete them');
RESET ROLE;

SET ROLE zvt_tap_lbalice;
SELECT throws_ok('UPDATE zvt._stream_balances SET free = 1e9', '42501', NULL,
                 'the owner cannot rewrite what the exchange said');
SELECT throws_ok('TRUNCATE zvt._stream_balances', '42501', NULL, 'nor truncate it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
