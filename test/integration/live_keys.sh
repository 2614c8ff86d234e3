#!/usr/bin/env bash
# API keys of live accounts leave no secret behind: the server log of
# failed set_api_key calls (another role's account, a missing passphrase,
# a passphrase where none belongs, a bad Coinbase key) holds the errors
# but neither the statement nor the secret, and pg_dump of the database
# holds the sealed row and not the secret.  (test/pgtap/live_keys.sql
# covers who may do what; its errors are caught inside pgTAP and never
# reach the log, so the log is checked here.)
set -u
. "$(dirname "$0")/common.bash"

log=$ZVT_TEST_DIR/log
work=$ZVT_TEST_DIR/live_keys
mkdir -p "$work"
cleanup() {
	q -c "DO \$\$ BEGIN
	        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zlk_alice') THEN
	          DELETE FROM zvt._api_keys WHERE account_id IN (SELECT account_id FROM zvt.accounts WHERE name LIKE 'zlk\_%');
	        END IF; END \$\$" >/dev/null 2>&1
	q -c "DROP ROLE IF EXISTS zlk_bob" >/dev/null 2>&1
}
trap cleanup EXIT

secret=zlk-SECRET-$RANDOM$RANDOM
q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zlk_alice') THEN CREATE ROLE zlk_alice; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zlk_bob') THEN CREATE ROLE zlk_bob; END IF;
      END \$\$" >/dev/null
before=$(wc -c <"$log")

# alice stores a key; the calls that fail are logged at ERROR
q -c "SET ROLE zlk_alice" \
	-c "SELECT zvt.create_account('zlk_bn_$$', 'live', 'binance')" \
	-c "SELECT zvt.create_account('zlk_okx_$$', 'live', 'okx')" \
	-c "SELECT zvt.create_account('zlk_cb_$$', 'live', 'coinbase')" \
	-c "SELECT key_id FROM zvt.set_api_key('zlk_bn_$$', 'zlk-key', '$secret-stored')" >/dev/null ||
	fail "alice could not store her key"
fails=0
for call in \
	"SET ROLE zlk_bob; SELECT zvt.set_api_key('zlk_bn_$$', 'zlk-key', '$secret-bob')" \
	"SET ROLE zlk_bob; SELECT zvt.check_api_key('zlk_bn_$$')" \
	"SET ROLE zlk_alice; SELECT zvt.set_api_key('zlk_okx_$$', 'zlk-key', '$secret-nopass')" \
	"SET ROLE zlk_alice; SELECT zvt.set_api_key('zlk_bn_$$', 'zlk-key', '$secret-pass', '$secret-passphrase')" \
	"SET ROLE zlk_alice; SELECT zvt.set_api_key('zlk_cb_$$', 'zlk-key', '$secret-notakey')" \
	"SET ROLE zlk_alice; SELECT zvt.set_api_key('zlk_bn_$$', E'zlk\\nkey', '$secret-newline')"; do
	if psql -X -qAt -c "$call" >/dev/null 2>&1; then fail "should have failed: ${call%%(*}"; fi
	fails=$((fails + 1))
done
# the log is written by the server asynchronously to the client's error: wait for the last one
for i in $(seq 1 50); do
	tail -c +$((before + 1)) "$log" | grep -q 'api_key holds a character' && break
	sleep 0.1
done
new=$(tail -c +$((before + 1)) "$log")
errors=$(echo "$new" | grep -c 'ERROR:.*\(unknown account "zlk_bn_\|okx API key needs\|binance API keys have no\|not a Coinbase API private key\|api_key holds a character\)')
[ "$errors" = 6 ] || fail "expected the 6 errors in the log, found $errors"
echo "$new" | grep -q "$secret" && fail "the server log holds a secret: $(echo "$new" | grep "$secret" | head -3)"
echo "$new" | grep -q 'STATEMENT:.*set_api_key' && fail "the server log quotes a set_api_key statement"

# nor does the log of the whole suite so far hold a secret pgTAP's live_keys set
grep -qE 'tap-alice-secret|tap-okx-secret|tap-okx-pass|MHcCAQEEIKwf3Uox' "$log" && fail "the server log holds a secret of test/pgtap/live_keys.sql"

# pg_dump keeps the sealed row, never the secret
pg_dump "$PGDATABASE" >"$work/dump.sql" || fail "pg_dump failed"
grep -q '^COPY zvt._api_keys ' "$work/dump.sql" || fail "pg_dump left the sealed keys out"
grep -q "$secret" "$work/dump.sql" && fail "pg_dump shows a secret"
grep -q 'zlk-key' "$work/dump.sql" && fail "pg_dump shows an API key"
echo "ok $fails failed calls logged without statement or secret; pg_dump holds ciphertext only"
