#!/usr/bin/env bash
# test/integration/http_roles.sh: two traders and an anonymous client
# through the HTTP front (zvt_api, sql/60_http.sql), row-level security
# exactly as from psql.
#
# Each trader (a role in zvt_trader, granted to the authenticator) opens
# an account and places resting orders through /rpc; each sees only its
# own accounts and orders (also when it names the other's order in a
# filter), cannot place on, cancel or cancel_all the other's, and can
# cancel its own.  Account names carry the script's pid: the ledger keeps
# them.  The anonymous client reads market data and gets 401
# for every account, order and trading function.
set -u
. "$(dirname "$0")/http_lib.bash"

cleanup() {
	local rc=$?
	http_stop
	[ "$rc" = 0 ] || grep 'zvt http' "$ZVT_TEST_DIR/log" | tail -20 >&2
}
trap cleanup EXIT

q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'HTTPT-USDT', 'HTTPTUSDT', 'HTTPT', 'USDT', 'spot')
      ON CONFLICT (exchange, symbol) DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'HTTPT-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'http_t1') THEN CREATE ROLE http_t1 NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'http_t2') THEN CREATE ROLE http_t2 NOLOGIN; END IF;
      END \$\$" \
  -c "GRANT zvt_trader TO http_t1, http_t2" -c "GRANT http_t1, http_t2 TO zvt_authenticator" \
  >/dev/null || fail "setup"

http_start
t1=$(token '{"role": "http_t1"}')
t2=$(token '{"role": "http_t2"}')
as() { local t=$1; shift; hit -H "Authorization: Bearer $t" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

# --- each trader opens an account and places resting orders -----------------
for t in 1 2; do
	tok=t$t
	out=$(as "${!tok}" -X POST -d "{\"name\": \"http_t${t}_$$\", \"initial_cash\": 100000}" "$BASE/rpc/create_account")
	expect "trader $t opens an account" 200 "${out%% *}"
done
order() {
	as "$1" -X POST -d "{\"account\": \"$2\", \"exchange\": \"binance\", \"symbol\": \"HTTPT-USDT\",
		\"side\": \"buy\", \"qty\": 1, \"type\": \"limit\", \"price\": 50}" "$BASE/rpc/place_order"
}
out=$(order "$t1" http_t1_$$); expect "t1 places an order" 200 "${out%% *}"
o1=$(echo "${out#* }" | field '["order_id"]')
expect "it rests" accepted "$(echo "${out#* }" | field '["status"]')"
out=$(order "$t1" http_t1_$$); o1b=$(echo "${out#* }" | field '["order_id"]')
out=$(order "$t2" http_t2_$$); expect "t2 places an order" 200 "${out%% *}"
o2=$(echo "${out#* }" | field '["order_id"]')

# --- each sees only its own ----------------------------------------------------
# the owners of the accounts a trader sees, and whether every order it sees
# is on an account of its own (the ids the database has for that owner)
owners() { as "$1" "$BASE/accounts" | cut -d' ' -f2- | python3 -c 'import json,sys; print(" ".join(sorted({a["owner"] for a in json.load(sys.stdin)})))'; }
foreign() {
	local mine
	mine=$(q -c "SELECT string_agg(account_id::text, ',') FROM zvt.accounts WHERE owner = '$2'::regrole")
	as "$1" "$BASE/orders" | cut -d' ' -f2- |
		python3 -c "import json,sys; mine={$mine}; o=json.load(sys.stdin); print(len(o), sum(x['account_id'] not in mine for x in o))"
}
expect "t1 sees its accounts only" http_t1 "$(owners "$t1")"
expect "t2 sees its accounts only" http_t2 "$(owners "$t2")"
expect "t1 sees its orders only" "$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id) WHERE a.owner = 'http_t1'::regrole") 0" "$(foreign "$t1" http_t1)"
expect "t2 sees its orders only" "$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id) WHERE a.owner = 'http_t2'::regrole") 0" "$(foreign "$t2" http_t2)"
expect "t2 naming t1's order sees nothing" "200 []" "$(as "$t2" "$BASE/orders?order_id=eq.$o1")"
expect "psql agrees with HTTP" "$(foreign "$t2" http_t2 | cut -d' ' -f1)" \
	"$(q -c "SET ROLE http_t2" -c "SELECT count(*) FROM zvt_api.orders")"

# --- and acts only on its own ----------------------------------------------------
# (the ledger answers 42704, "unknown", for what the role may not see: 400)
code() { echo "${1%% *} $(echo "${1#* }" | field '["code"]')"; }
expect "t2 cannot place on t1's account" "400 42704" "$(code "$(order "$t2" http_t1_$$)")"
expect "t2 cannot cancel t1's order" "400 42704" \
	"$(code "$(as "$t2" -X POST -d "{\"order_id\": $o1}" "$BASE/rpc/cancel_order")")"
expect "t2 cannot cancel_all on t1's account" "400 42704" \
	"$(code "$(as "$t2" -X POST -d "{\"account\": \"http_t1_$$\"}" "$BASE/rpc/cancel_all")")"
expect "t1's orders are still open" "accepted accepted" \
	"$(q -c "SELECT string_agg(status, ' ' ORDER BY order_id) FROM zvt.orders WHERE order_id IN ($o1, $o1b)")"
out=$(as "$t1" -X POST -d "{\"order_id\": $o1}" "$BASE/rpc/cancel_order")
expect "t1 cancels its own order" "200 canceled" "${out%% *} $(echo "${out#* }" | field '["status"]')"
out=$(as "$t1" -X POST -d "{\"account\": \"http_t1_$$\"}" "$BASE/rpc/cancel_all")
expect "t1 cancels all of its own" "200 $o1b" "${out%% *} $(echo "${out#* }" | field '[0]["order_id"]')"
expect "t2's order untouched" accepted "$(q -c "SELECT status FROM zvt.orders WHERE order_id = $o2")"

# --- anonymous: market data yes, accounts no ----------------------------------------
out=$(hit "$BASE/instruments?symbol=eq.HTTPT-USDT")
expect "anon reads instruments" "200 HTTPT-USDT" "${out%% *} $(echo "${out#* }" | field '[0]["symbol"]')"
expect "anon reads candles" 200 "$(hit "$BASE/candles" | cut -d' ' -f1)"
expect "anon reads tickers" 200 "$(hit "$BASE/tickers" | cut -d' ' -f1)"
for r in accounts orders fills positions balances order_events risk_limits backtest_runs; do
	expect "anon gets 401 for $r" 401 "$(hit "$BASE/$r" | cut -d' ' -f1)"
done
out=$(hit -X POST -H 'Content-Type: application/json' -d '{"account": "http_t2_$$", "exchange": "binance", "symbol": "HTTPT-USDT", "side": "buy", "qty": 1}' "$BASE/rpc/place_order")
expect "anon cannot place an order" 401 "${out%% *}"
out=$(hit -X POST -H 'Content-Type: application/json' -d "{\"order_id\": $o2}" "$BASE/rpc/cancel_order")
expect "anon cannot cancel" 401 "${out%% *}"
expect "t2's order still untouched" accepted "$(q -c "SELECT status FROM zvt.orders WHERE order_id = $o2")"
echo "http_roles: all passed"
