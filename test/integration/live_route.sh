#!/usr/bin/env bash
# The router's exchange core (src/live/route.c, route_parse.c) against the
# simulator, on all four exchanges: the requests it builds are accepted
# by endpoints that verify signatures as the exchanges do, and it reads
# their replies into the right result: every supported order type (limit
# gtc/ioc/fok, post-only, market) ends in the right state; a client
# order id sent twice is one order; a reply lost after the exchange
# accepted leaves an order that the query by client order id finds (and
# one never sent is "not found"); a bad key is "auth" and a clock 10 s
# off is "clock" (Binance, Bybit, OKX: Coinbase answers both with 401).
set -u
shopt -s extglob
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$ZVT_TEST_DIR/live_route
mkdir -p "$work"
port=$(free_port_range 19700 4)
admin=$(free_port $((port + 10)))
sim_pid=
trap '[ -n "$sim_pid" ] && kill $sim_pid 2>/dev/null' EXIT

private_accounts "$work/accounts.jsonl" 1000000 10
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 20 \
	--duration 300 --accounts "$work/accounts.jsonl" >"$work/exsim.out" 2>&1 &
sim_pid=$!
sim_wait "$sim_pid" "$port" $((port + 1)) $((port + 2)) $((port + 3)) "$admin" ||
	fail "the simulator did not start: $(cat "$work/exsim.out")"

# route EXCHANGE OP SIDE TYPE QTY PRICE TIF POST_ONLY CLIENT_ID [EXCHANGE_ID [SKEW]]
route() {
	local ex=$1 base key secret pass="" sym=BTC-USDT
	shift
	case $ex in
	binance) base=http://127.0.0.1:$port key=bn-key secret=bn-secret ;;
	bybit) base=http://127.0.0.1:$((port + 1)) key=by-key secret=by-secret ;;
	okx) base=http://127.0.0.1:$((port + 2)) key=okx-key secret=okx-secret pass=okx-pass ;;
	coinbase) base=http://127.0.0.1:$((port + 3)) key=$cbkey secret=$(printf '%b' "$pem") sym=BTC-USD ;;
	esac
	[ -n "${KEY_OVERRIDE:-}" ] && key=$KEY_OVERRIDE
	local op=$1
	shift
	"$top/zvt-live-route" "$ex" "$base" "$key" "$secret" "$pass" "$op" "$sym" "$@"
}
# expect WHAT OUTPUT PATTERN: the output (KIND STATUS ID FILLED | REASON) matches the glob
expect() {
	case "$2" in $3) echo "ok $1: $2" ;; *) fail "$1: got [$2], want [$3]" ;; esac
}

for ex in binance bybit okx coinbase; do
	p=$ex$$
	expect "$ex limit rests" "$(route $ex place buy limit 0.01 1000 gtc 0 ${p}a)" "ok * * * | *"
	expect "$ex query by client id" "$(route $ex query buy limit 0.01 1000 gtc 0 ${p}a)" "ok new * 0* | *"
	id=$(route $ex query buy limit 0.01 1000 gtc 0 ${p}a | awk '{print $3}')
	expect "$ex cancel" "$(route $ex cancel buy limit 0.01 1000 gtc 0 ${p}a "$id")" "ok canceled * | *"
	expect "$ex canceled" "$(route $ex query buy limit 0.01 1000 gtc 0 ${p}a "$id")" "ok canceled * | *"
	expect "$ex market fills" "$(route $ex place sell market 0.1 "" ioc 0 ${p}b)" "ok * * * | *"
	expect "$ex market filled" "$(route $ex query sell market 0.1 "" ioc 0 ${p}b)" "ok filled * 0.1* | *"
	expect "$ex crossing limit fills" "$(route $ex place buy limit 0.01 999999 gtc 0 ${p}c)" "ok * * * | *"
	expect "$ex crossing limit filled" "$(route $ex query buy limit 0.01 999999 gtc 0 ${p}c)" "ok filled * | *"
	route $ex place buy limit 0.01 1000 ioc 0 ${p}d >/dev/null
	expect "$ex ioc that cannot fill" "$(route $ex query buy limit 0.01 1000 ioc 0 ${p}d)" "ok @(expired|canceled) * | *"
	route $ex place buy limit 0.01 1000 fok 0 ${p}e >/dev/null
	expect "$ex fok that cannot fill" "$(route $ex query buy limit 0.01 1000 fok 0 ${p}e)" "ok @(expired|canceled) * | *"
	# post-only that would take: refused (Binance, Coinbase) or canceled (Bybit, OKX)
	out=$(route $ex place buy limit 0.01 999999 gtc 1 ${p}f)
	case $ex in
	binance | coinbase) expect "$ex post-only that would take" "$out" "rejected - - - | *" ;;
	*) expect "$ex post-only that would take" "$(route $ex query buy limit 0.01 999999 gtc 1 ${p}f)" "ok canceled * | *" ;;
	esac
	expect "$ex post-only that rests" "$(route $ex place buy limit 0.01 1000 gtc 1 ${p}g)" "ok * * * | *"
	# the same client order id again is the same order, never a second one
	out=$(route $ex place buy limit 0.01 1000 gtc 0 ${p}g)
	case $ex in
	coinbase) expect "$ex same client id" "$out" "ok * * * | *" ;;
	*) expect "$ex same client id" "$out" "rejected * | *" ;;
	esac
	expect "$ex insufficient balance" "$(route $ex place sell market 1000 "" ioc 0 ${p}h)" "rejected * | *"
	# a reply lost after the exchange accepted: the query finds the order
	curl -s "http://127.0.0.1:$admin/fault?exchange=$ex&drop_reply=1" >/dev/null
	expect "$ex reply lost" "$(route $ex place buy limit 0.01 1000 gtc 0 ${p}i)" "unknown * | *"
	expect "$ex lost order found" "$(route $ex query buy limit 0.01 1000 gtc 0 ${p}i)" "ok new * | *"
	expect "$ex never sent" "$(route $ex query buy limit 0.01 1000 gtc 0 ${p}z)" "not_found * | *"
	expect "$ex bad key" "$(KEY_OVERRIDE=nope route $ex place buy limit 0.01 1000 gtc 0 ${p}j)" "auth * | *"
	case $ex in
	coinbase) expect "$ex clock 10 minutes off" "$(route $ex place buy limit 0.01 1000 gtc 0 ${p}k "" -600000)" "auth * | *" ;;
	okx) expect "$ex clock 40 s off" "$(route $ex place buy limit 0.01 1000 gtc 0 ${p}k "" -40000)" "clock * | *" ;;
	*) expect "$ex clock 10 s off (recvWindow 5 s)" "$(route $ex place buy limit 0.01 1000 gtc 0 ${p}k "" -10000)" "clock * | *" ;;
	esac
done
echo "ok the router's requests and replies on all four exchanges"
