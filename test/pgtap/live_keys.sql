-- test/pgtap/live_keys.sql: API keys of live accounts, written as the
-- attacker.  No role reads a secret back (not even the owner), a role
-- that is not the owner cannot set, replace or check another account's
-- key, the sealed rows hold no plaintext and do not open once moved to
-- another account, the view shows only the public face, and rotating
-- the master key re-seals every row.  The harness sets zvt.key_file
-- (scripts/test); the rotation's second key file is written here.
BEGIN;
SET client_min_messages = warning;
SELECT plan(46);

CREATE ROLE zvt_tap_kalice;
CREATE ROLE zvt_tap_kbob;
CREATE ROLE zvt_tap_kcarol;
CREATE ROLE zvt_tap_kdave;
GRANT zvt_admin TO zvt_tap_kcarol;

-- alice has live accounts on three exchanges and a paper one; dave may trade one
SET ROLE zvt_tap_kalice;
SELECT lives_ok($$SELECT zvt.create_account('tap_k_bn', 'live', 'binance')$$, 'alice opens a live binance account');
SELECT zvt.create_account('tap_k_okx', 'live', 'okx');
SELECT zvt.create_account('tap_k_cb', 'live', 'coinbase');
SELECT zvt.create_account('tap_k_paper');
SELECT zvt.grant_account('tap_k_bn', 'zvt_tap_kdave');

-- ---------------------------------------------------------------------
-- the owner sets keys; what comes back is the public face only
-- ---------------------------------------------------------------------
SELECT is((zvt.set_api_key('tap_k_bn', 'tap-alice-key', 'tap-alice-secret-0001')).fingerprint,
          substr(encode(sha256('tap-alice-key'::bytea), 'hex'), 1, 16),
          'set_api_key returns the fingerprint of the API key');
SELECT is((zvt.set_api_key('tap_k_okx', 'tap-okx-key', 'tap-okx-secret-0002', 'tap-okx-pass-0003')).exchange,
          'okx', 'an okx key is stored with its passphrase');
SELECT lives_ok($$SELECT zvt.set_api_key('tap_k_cb', 'organizations/test-organization/apiKeys/test-api-key',
    E'-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n-----END EC PRIVATE KEY-----\n')$$,
    'a coinbase P-256 PEM key is accepted');
SELECT is((SELECT count(*)::int FROM zvt.api_keys), 3, 'the owner sees her three keys');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'zvt.api_keys'::regclass AND attnum > 0),
          ARRAY['account', 'exchange', 'key_id', 'fingerprint', 'created_at', 'account_id'],
          'the view has no column for a secret');
SELECT is((zvt.check_api_key('tap_k_okx')).fingerprint,
          substr(encode(sha256('tap-okx-key'::bytea), 'hex'), 1, 16),
          'the owner''s key opens under the master key');
SELECT throws_ok($$SELECT * FROM zvt._api_keys$$, '42501', NULL, 'even the owner cannot read the sealed table');
SELECT throws_ok($$SELECT zvt._check_api_key(0, 'tap_k_bn')$$, '42501', NULL, 'nor call a body directly');

-- replacing: a new key id, still one row
SELECT cmp_ok((zvt.set_api_key('tap_k_bn', 'tap-alice-key2', 'tap-alice-secret-0004')).key_id,
              '>', (SELECT key_id FROM zvt.api_keys WHERE account = 'tap_k_bn'), 'the owner replaces her key');
SELECT is((SELECT count(*)::int FROM zvt.api_keys WHERE account = 'tap_k_bn'), 1, 'one key per account');

-- ---------------------------------------------------------------------
-- what the owner may not store
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_okx', 'k', 's')$$, '22023', 'an okx API key needs its passphrase',
                 'okx without a passphrase');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', 'k', 's', 'p')$$, '22023', 'binance API keys have no passphrase',
                 'binance with a passphrase');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', 'k', '')$$, '22023', 'secret must not be empty', 'an empty secret');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', NULL, 's')$$, '22023', 'api_key must not be empty', 'a NULL key');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', E'k\r\nX-Evil: 1', 's')$$, '22023',
                 'api_key holds a character that is not printable ASCII', 'a header injection in the key');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_cb', 'k', 'not a key')$$, '22023',
                 'the secret is not a Coinbase API private key', 'a coinbase secret that is no key');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_paper', 'k', 's')$$, '55000',
                 'account "tap_k_paper" is a paper account', 'a paper account has no API key');
SELECT throws_ok($$SELECT zvt.check_api_key('tap_k_paper')$$, '55000', NULL, 'nor checks one');

-- ---------------------------------------------------------------------
-- bob, another role: no door opens
-- ---------------------------------------------------------------------
SET ROLE zvt_tap_kbob;
SELECT is((SELECT count(*)::int FROM zvt.api_keys), 0, 'bob sees none of alice''s keys');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', 'bob-key', 'bob-secret')$$, '42704',
                 'unknown account "tap_k_bn"', 'bob cannot replace alice''s key (and learns nothing)');
SELECT throws_ok($$SELECT zvt.check_api_key('tap_k_bn')$$, '42704', 'unknown account "tap_k_bn"',
                 'bob cannot use alice''s key');
SELECT throws_ok($$SELECT zvt.set_api_key('no_such_account', 'k', 's')$$, '42704',
                 'unknown account "no_such_account"', 'a missing account gives the same error');
SELECT throws_ok($$SELECT * FROM zvt._api_keys$$, '42501', NULL, 'bob cannot read the sealed table');
SELECT throws_ok($$UPDATE zvt._api_keys SET account_id = 1$$, '42501', NULL, 'nor move a sealed row');
SELECT throws_ok($$SELECT zvt._set_api_key('zvt_tap_kalice'::regrole, 'tap_k_bn', 'k', 's', NULL)$$, '42501', NULL,
                 'nor call the body as alice');
SELECT throws_ok($$SELECT zvt.rotate_key_file('/tmp/x')$$, '42501', NULL, 'nor rotate the master key');
SELECT throws_ok($$SHOW zvt.key_file$$, '42501', NULL, 'nor see where the master key lives');
SELECT is((SELECT count(*)::int FROM pg_settings WHERE name = 'zvt.key_file' AND setting <> ''), 0,
          'pg_settings does not tell bob either');

-- dave may trade alice's account: he checks its key, never sets it
SET ROLE zvt_tap_kdave;
SELECT is((SELECT count(*)::int FROM zvt.api_keys), 1, 'a grantee sees the key of the account he may use');
SELECT lives_ok($$SELECT zvt.check_api_key('tap_k_bn')$$, 'a grantee may use the key');
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', 'dave-key', 'dave-secret')$$, '42501',
                 'permission denied for account "tap_k_bn"', 'a grantee cannot replace it');

-- carol, zvt_admin, sees every account but owns none of them
SET ROLE zvt_tap_kcarol;
SELECT throws_ok($$SELECT zvt.set_api_key('tap_k_bn', 'carol-key', 'carol-secret')$$, '42501',
                 'permission denied for account "tap_k_bn"', 'zvt_admin cannot replace an owner''s key');

-- ---------------------------------------------------------------------
-- the sealed rows, as a superuser
-- ---------------------------------------------------------------------
RESET ROLE;
SELECT is((SELECT count(*)::int FROM zvt._api_keys
            WHERE position('tap-alice-secret'::bytea IN sealed) > 0 OR position('tap-okx'::bytea IN sealed) > 0
               OR position('tap-alice-key'::bytea IN sealed) > 0 OR position('tap-okx-pass'::bytea IN nonce) > 0),
          0, 'no sealed row holds a plaintext key, secret or passphrase');
SELECT is((SELECT count(DISTINCT nonce)::int FROM zvt._api_keys), 3, 'every row has its own nonce');

-- a row moved to another account does not open there
UPDATE zvt._api_keys k SET sealed = o.sealed, nonce = o.nonce
  FROM zvt._api_keys o JOIN zvt.accounts oa ON oa.account_id = o.account_id AND oa.name = 'tap_k_okx'
 WHERE k.account_id = (SELECT account_id FROM zvt.accounts WHERE name = 'tap_k_bn');
SET ROLE zvt_tap_kalice;
SELECT throws_ok($$SELECT zvt.check_api_key('tap_k_bn')$$, '55000',
                 format('the API key of account %s does not authenticate',
                        (SELECT account_id FROM zvt.accounts WHERE name = 'tap_k_bn')),
                 'another account''s sealed row does not open (account id is the associated data)');
SELECT lives_ok($$SELECT zvt.set_api_key('tap_k_bn', 'tap-alice-key', 'tap-alice-secret-0005')$$,
                'the owner sets it again');
RESET ROLE;

-- ---------------------------------------------------------------------
-- rotating the master key
-- ---------------------------------------------------------------------
-- the harness keeps a second key beside zvt.key_file's (scripts/test)
CREATE TEMP TABLE next_key AS SELECT current_setting('zvt.key_file') || '.next' AS path,
    substr(encode(sha256(decode(pg_read_file(current_setting('zvt.key_file') || '.next', 0, 64), 'hex')), 'hex'), 1, 16) AS fp;
SELECT is(zvt.rotate_key_file((SELECT path FROM next_key)), 3, 'rotation re-seals every row');
SELECT is((SELECT array_agg(DISTINCT master_fp) FROM zvt._api_keys), ARRAY[(SELECT fp FROM next_key)],
          'every row is sealed under the new master key');
SET ROLE zvt_tap_kalice;
SELECT throws_ok($$SELECT zvt.check_api_key('tap_k_okx')$$, '55000', NULL,
                 'until zvt.key_file names the new file, keys do not open');
RESET ROLE;
SELECT throws_ok($$SELECT zvt.rotate_key_file(current_setting('zvt.key_file'))$$, '55000', NULL,
                 'rows under a key that is neither file''s are not touched');
SELECT is(zvt.rotate_key_file(current_setting('zvt.key_file'), old_path => (SELECT path FROM next_key)), 3,
          'rotating back to zvt.key_file''s key, the old one named');
SET ROLE zvt_tap_kalice;
SELECT is((zvt.check_api_key('tap_k_okx')).fingerprint,
          substr(encode(sha256('tap-okx-key'::bytea), 'hex'), 1, 16), 'the keys open again after rotation');
RESET ROLE;
SELECT throws_ok($$SELECT zvt.rotate_key_file('/nonexistent/zvt.key')$$, '58P01', NULL,
                 'a missing new key file is refused');
SELECT throws_ok($$SELECT zvt.rotate_key_file(current_setting('data_directory') || '/PG_VERSION')$$, '55000',
                 'the master key file named by new_path does not hold a key', 'a file that holds no key is refused');
-- COPY TO writes files others may read: a key there is refused
DO $$
BEGIN
    EXECUTE format('COPY (SELECT %L) TO %L', repeat('5a', 32),
                   current_setting('data_directory') || '/zvt_tap_readable.key');
END
$$;
SELECT throws_ok($$SELECT zvt.rotate_key_file(current_setting('data_directory') || '/zvt_tap_readable.key')$$, '55000',
                 'the master key file named by new_path has group or world access', 'a key file others may read is refused');

SELECT * FROM finish();
ROLLBACK;
