-- ===================================================================
-- Live trading, part 1: API keys of live accounts, sealed at rest.
--
-- zvt._api_keys holds one row per live account: the exchange API key,
-- secret and passphrase sealed with AES-256-GCM under the master key of
-- the file zvt.key_file names (a superuser-only setting), a fresh nonce
-- per row and the account id as associated data (src/live/vault.c).  No
-- role reads the table; zvt.api_keys shows the public face of the keys
-- of the accounts a role may use.  The functions are zvt_ledger_call
-- trampolines (sql/50_trading.sql) whose C bodies (src/live/keys.c) run
-- as the extension's owner and check the caller's right themselves.
-- ===================================================================

CREATE TABLE zvt._api_keys (
    key_id      pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  pg_catalog.int4 NOT NULL UNIQUE REFERENCES zvt.accounts ON DELETE CASCADE,
    fingerprint pg_catalog.text NOT NULL,   -- first 8 bytes of SHA-256(api key), hex
    master_fp   pg_catalog.text NOT NULL,   -- same of the master key that sealed it
    nonce       pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(nonce) = 12),
    sealed      pg_catalog.bytea NOT NULL,  -- AES-256-GCM ciphertext || 16-byte tag
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt._api_keys IS
    'Internal: the API key, secret and passphrase of each live account, sealed with AES-256-GCM under the master key (zvt.key_file); readable by no role.';
-- nobody reads or writes the sealed rows but zvt's own functions
REVOKE ALL ON zvt._api_keys FROM PUBLIC;
-- pg_dump keeps the sealed rows (ciphertext only) with the ledger
SELECT pg_catalog.pg_extension_config_dump('zvt._api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('zvt._api_keys_key_id_seq', '');

-- the public face of the caller's keys: read as the table's owner, non-secret columns only
CREATE FUNCTION zvt._api_key_list()
    RETURNS TABLE (account pg_catalog.text, exchange pg_catalog.text, key_id pg_catalog.int8,
                   fingerprint pg_catalog.text, created_at pg_catalog.timestamptz, account_id pg_catalog.int4)
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'zvt_api_key_list';
COMMENT ON FUNCTION zvt._api_key_list() IS
    'Internal: key id, fingerprint and creation time of the API keys of the accounts the calling role may use (the zvt.api_keys view).';

CREATE VIEW zvt.api_keys WITH (security_invoker = true) AS
SELECT account, exchange, key_id, fingerprint, created_at, account_id FROM zvt._api_key_list();
COMMENT ON VIEW zvt.api_keys IS
    'The API keys of the accounts you may use: key id, fingerprint of the exchange API key, creation time; never a secret.';
-- every role sees the keys of its own accounts (the function filters)
GRANT SELECT ON zvt.api_keys TO PUBLIC;

CREATE FUNCTION zvt._set_api_key(caller pg_catalog.oid, account pg_catalog.text, api_key pg_catalog.text,
                                 secret pg_catalog.text, passphrase pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_set_api_key';
COMMENT ON FUNCTION zvt._set_api_key(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text) IS 'Internal: zvt.set_api_key''s body.';
REVOKE ALL ON FUNCTION zvt._set_api_key(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.set_api_key(account pg_catalog.text, api_key pg_catalog.text, secret pg_catalog.text,
                                passphrase pg_catalog.text DEFAULT NULL)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_api_key(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Store a live account''s exchange API key, secret and passphrase (OKX), sealed under the master key, in place of the previous ones; the account''s owner only.';

CREATE FUNCTION zvt._check_api_key(caller pg_catalog.oid, account pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_check_api_key';
COMMENT ON FUNCTION zvt._check_api_key(pg_catalog.oid, pg_catalog.text) IS 'Internal: zvt.check_api_key''s body.';
REVOKE ALL ON FUNCTION zvt._check_api_key(pg_catalog.oid, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.check_api_key(account pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.check_api_key(pg_catalog.text) IS
    'Prove that a live account''s API key opens under the current master key and return its public face (55000 if not); for roles that may use the account.';

CREATE FUNCTION zvt.rotate_key_file(new_path pg_catalog.text, old_path pg_catalog.text DEFAULT NULL)
    RETURNS pg_catalog.int4
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'zvt_rotate_key_file';
COMMENT ON FUNCTION zvt.rotate_key_file(pg_catalog.text, pg_catalog.text) IS
    'Re-seal every API key from the master key in old_path (default zvt.key_file) under the one in new_path (superusers only); then set zvt.key_file to new_path and reload.';
-- the master key is a superuser's business (the function checks too)
REVOKE ALL ON FUNCTION zvt.rotate_key_file(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
