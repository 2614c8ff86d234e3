#!/usr/bin/env bash
# The simulator's HTTP side takes any request without a crash, a hang or
# a second answer, on every exchange's port and the admin port: a DELETE
# with a body (private endpoints too) gets exactly one answer, after its
# body (Binance's listenKey in a DELETE's body is dropped); a GET with a
# body is answered once; a chunked body gets the exchange's 411, a body
# over 1 MB its 413, a path no method has its 404, each in the
# exchange's own error format; a POST without Content-Length is
# answered; requests pipelined behind a body get one answer and the
# connection closed, and the simulator serves on.  (Before: a DELETE's
# body was answered twice, the second answer written into the first;
# chunked bodies and POSTs without a length were never answered.)
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$ZVT_TEST_DIR/exsim_http
mkdir -p "$work"
port=$(free_port_range 19640 4)
admin=$(free_port $((port + 10)))
sim_pid=
trap '[ -n "$sim_pid" ] && kill $sim_pid 2>/dev/null' EXIT

private_accounts "$work/accounts.jsonl" 100000 1
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 5 \
	--duration 300 --accounts "$work/accounts.jsonl" >"$work/exsim.out" 2>&1 &
sim_pid=$!
sim_wait "$sim_pid" "$port" $((port + 1)) $((port + 2)) $((port + 3)) "$admin" ||
	fail "the simulator did not start: $(cat "$work/exsim.out")"

raw() { python3 "$top/test/exsim/raw_http.py" 60 "$@"; }
# one WHAT PORT STATUS JQ-FILTER [--pipeline] REQUEST...: adds a case,
# exactly one answer with that status and a JSON body the filter holds
# for, then the connection closed; run_cases sends them (one Python for
# all) and checks them, and that the simulator lives
cw=() cs=() cf=() cargs=()
one() {
	cw+=("$1") cs+=("$3") cf+=("$4")
	cargs+=(--next "$2" "${@:5}")
}
run_cases() {
	local out line i
	out=$(raw "${cargs[@]:1}")
	for i in "${!cw[@]}"; do
		line=$(sed -n "$((i + 1))p" <<<"$out")
		jq -e --argjson st "${cs[i]}" '(.answers | length) == 1 and .answers[0].status == $st and .garbage == "" and .eof' \
			>/dev/null <<<"$line" || fail "${cw[i]}: want one answer ${cs[i]} and the close, got: $line"
		jq -e "${cf[i]}" >/dev/null 2>&1 <<<"$(jq -r '.answers[0].body' <<<"$line")" ||
			fail "${cw[i]}: ${cf[i]} does not hold for $line"
		echo "ok ${cw[i]}"
	done
	kill -0 "$sim_pid" 2>/dev/null || fail "the simulator died: $(tail -5 "$work/exsim.out")"
	cw=() cs=() cf=() cargs=()
}

# each exchange's port, a private endpoint (DELETE where it has one), a
# public GET and its error format
BN=$port BY=$((port + 1)) OKX=$((port + 2)) CB=$((port + 3))
bn_err='(.code | type) == "number" and (.msg | type) == "string"'
by_err='(.retCode | type) == "number" and .retCode != 0 and (.retMsg | type) == "string"'
okx_err='(.code | type) == "string" and .code != "0" and (.msg | type) == "string"'
cb_err='(.error | type) == "string" and (.message | type) == "string"'
adm_err='(.error | type) == "string"'

# --- a DELETE with a body: one answer, after the body -------------------------
one "binance DELETE order with a body: its own auth error, once" "$BN" 401 "$bn_err and .code == -2014" \
	'DELETE|/api/v3/order|--body|symbol=BTCUSDT&orderId=1'
one "bybit DELETE with a body: its own auth error, once" "$BY" 200 "$by_err and .retCode == 10003" \
	'DELETE|/v5/order/cancel|--body|{"category":"spot"}'
one "okx DELETE with a body: its own auth error, once" "$OKX" 401 "$okx_err and .code == \"50103\"" \
	'DELETE|/api/v5/trade/cancel-order|--body|{"instId":"BTC-USDT"}'
one "coinbase DELETE with a body: its own auth error, once" "$CB" 401 '.error == "UNAUTHORIZED"' \
	'DELETE|/api/v3/brokerage/orders|--body|{"order_ids":["x"]}'
one "binance DELETE with a body on no path: its 404, once" "$BN" 404 "$bn_err" 'DELETE|/nothing|--body|a=b'
one "bybit DELETE with a body on no path: its 404, once" "$BY" 404 "$by_err" 'DELETE|/nothing|--body|{}'
one "okx DELETE with a body on no path: its 404, once" "$OKX" 404 "$okx_err" 'DELETE|/nothing|--body|{}'
one "coinbase DELETE with a body on no path: its 404, once" "$CB" 404 "$cb_err" 'DELETE|/nothing|--body|{}'
one "admin DELETE with a body: one 404" "$admin" 404 "$adm_err" 'DELETE|/nothing|--body|a=b'
one "admin GET /stats with a body: answered once" "$admin" 200 '.binance.port > 0' 'GET|/stats|--body|exchange=all'
# signed private endpoints the same way: the body is part of what is signed
one "bybit POST order with a body (unsigned): its auth error, once" "$BY" 200 "$by_err and .retCode == 10003" \
	'POST|/v5/order/create|--body|{"category":"spot"}'
one "okx POST order with a body (unsigned): its auth error, once" "$OKX" 401 "$okx_err and .code == \"50103\"" \
	'POST|/api/v5/trade/order|--body|{"instId":"BTC-USDT"}'
one "coinbase POST order with a body (unsigned): its auth error, once" "$CB" 401 '.error == "UNAUTHORIZED"' \
	'POST|/api/v3/brokerage/orders|--body|{}'

run_cases

# Binance's listenKey: dropped by a DELETE that carries it in its body
out=$(raw "$BN" 'POST|/api/v3/userDataStream|X-MBX-APIKEY: bn-key')
lk=$(jq -r '.answers[0].body' <<<"$out" | jq -r .listenKey)
[ "${#lk}" = 60 ] || fail "binance POST userDataStream without Content-Length: $out"
echo "ok binance POST without Content-Length answered (a listenKey)"
one "binance PUT keeps the listenKey from its body" "$BN" 200 '. == {}' \
	"PUT|/api/v3/userDataStream|X-MBX-APIKEY: bn-key|Content-Type: application/x-www-form-urlencoded|--body|listenKey=$lk"
one "binance DELETE drops the listenKey in its body" "$BN" 200 '. == {}' \
	"DELETE|/api/v3/userDataStream|X-MBX-APIKEY: bn-key|Content-Type: application/x-www-form-urlencoded|--body|listenKey=$lk"
one "binance the dropped listenKey is gone" "$BN" 400 "$bn_err and .code == -1125" \
	"PUT|/api/v3/userDataStream|X-MBX-APIKEY: bn-key|--body|listenKey=$lk"
run_cases

# --- a GET with a body: answered once, the body ignored -----------------------
one "binance GET with a body" "$BN" 200 '.serverTime > 0' 'GET|/api/v3/time|--body|symbol=BTCUSDT'
one "bybit GET with a body" "$BY" 200 '.retCode == 0' 'GET|/v5/market/time|--body|{}'
one "okx GET with a body" "$OKX" 200 '.code == "0"' 'GET|/api/v5/market/books?instId=BTC-USDT|--body|{}'
one "coinbase GET with a body" "$CB" 200 '.products | length > 0' 'GET|/api/v3/brokerage/market/products|--body|{}'

# --- chunked bodies: 411 in the exchange's format -----------------------------
for m in POST DELETE GET PUT; do
	one "binance $m chunked: 411" "$BN" 411 "$bn_err" "$m|/api/v3/order|--chunked|symbol=BTCUSDT"
	one "bybit $m chunked: 411" "$BY" 411 "$by_err" "$m|/v5/order/create|--chunked|{}"
	one "okx $m chunked: 411" "$OKX" 411 "$okx_err" "$m|/api/v5/trade/order|--chunked|{}"
	one "coinbase $m chunked: 411" "$CB" 411 "$cb_err" "$m|/api/v3/brokerage/orders|--chunked|{}"
	one "admin $m chunked: 411" "$admin" 411 "$adm_err" "$m|/stats|--chunked|{}"
done

# --- bodies over 1 MB: read to their end, then 413 ----------------------------
for m in POST DELETE GET; do
	one "binance $m of 2 MB: 413" "$BN" 413 "$bn_err" "$m|/api/v3/order|--bytes|2000000"
	one "bybit $m of 2 MB: 413" "$BY" 413 "$by_err" "$m|/v5/order/create|--bytes|2000000"
	one "okx $m of 2 MB: 413" "$OKX" 413 "$okx_err" "$m|/api/v5/trade/order|--bytes|2000000"
	one "coinbase $m of 2 MB: 413" "$CB" 413 "$cb_err" "$m|/api/v3/brokerage/orders|--bytes|2000000"
	one "admin $m of 2 MB: 413" "$admin" 413 "$adm_err" "$m|/fault|--bytes|2000000"
done
# exactly 1 MB is taken
one "binance POST of exactly 1 MB: read, answered by the API" "$BN" 401 "$bn_err and .code == -2014" \
	"POST|/api/v3/order|--bytes|1048576"
run_cases

# --- pipelined behind a body: one answer, then the connection closes ----------
one "bybit GET, body, pipelined behind: one answer" "$BY" 200 '.retCode == 0' --pipeline \
	'GET|/v5/market/time|--body|{}' 'GET|/v5/market/time|--body|{}' 'GET|/v5/market/time'
one "binance DELETE with a body, pipelined behind: one answer" "$BN" 401 "$bn_err" --pipeline \
	'DELETE|/api/v3/order|--body|symbol=BTCUSDT' 'POST|/api/v3/order|--body|a=b' 'GET|/api/v3/time'
run_cases
out=$(raw "$BY" --pipeline 'GET|/v5/market/time' 'GET|/v5/market/time' 'GET|/v5/market/time')
jq -e '([.answers[].status] == [200,200,200]) and .garbage == "" and .eof' >/dev/null <<<"$out" ||
	fail "three pipelined GETs without bodies: $out"
echo "ok three pipelined GETs without bodies get three answers"

# a never-ending reply (rest_partial) to a POST with a body keeps its
# (kept-alive, as libcurl's) connection: the client waits (here 3 s) for a
# last byte that never comes
curl -sf "http://127.0.0.1:$admin/fault?exchange=bybit&rest_partial=1" >/dev/null || fail "fault"
out=$(python3 "$top/test/exsim/raw_http.py" 3 "$BY" 'POST|/v5/order/create|Connection: keep-alive|--body|{}')
jq -e '(.answers | length) == 0 and (.garbage | startswith("HTTP/1.1 200 OK")) and (.eof | not)' >/dev/null <<<"$out" ||
	fail "rest_partial after a body: $(cut -c1-200 <<<"$out")"
echo "ok a never-ending reply after a body keeps its connection"

# --- and it still serves everyone --------------------------------------------
out=$(raw "$BN" 'GET|/api/v3/time' 'GET|/api/v3/time' --next "$BY" 'GET|/v5/market/time' 'GET|/v5/market/time' \
	--next "$OKX" 'GET|/api/v5/market/books?instId=BTC-USDT' 'GET|/api/v5/market/books?instId=BTC-USDT' \
	--next "$CB" 'GET|/api/v3/brokerage/market/products' 'GET|/api/v3/brokerage/market/products')
[ "$(jq -s '[.[] | select([.answers[].status] == [200,200] and .eof)] | length' <<<"$out")" = 4 ] ||
	fail "the exchanges after the abuse: $out"
curl -sf "http://127.0.0.1:$admin/stats" | jq -e '.binance.trades > 0' >/dev/null || fail "admin /stats after the abuse"
kill -0 "$sim_pid" || fail "the simulator died"
echo "ok the simulator serves every port after all of it"
