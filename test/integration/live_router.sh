#!/usr/bin/env bash
# The order router (src/live/router.c, sql/58_router.sql) against the
# simulator's private API, on a cluster of its own with zvt.live_trading
# on, on all four exchanges:
# - orders of every supported type (limit gtc that rests then is
#   canceled, post-only that rests, market, crossing limit, ioc and fok
#   that cannot fill) end in the right state, and the simulator's order
#   (queried by the same client order id) agrees: status and filled qty;
# - a reply dropped after the exchange accepted: the order ends new, sent
#   once, and is on the exchange; places reuse kept connections, and a
#   reply dropped on a reused one is not sent again by libcurl (the
#   simulator got one place request, no duplicate);
# - kill -9 of the router with requests out (the exchange stalled), and
#   pg_ctl stop -m immediate with orders pending: after the restart every
#   order is known, on the exchange once (the simulator's client order id
#   lookup agrees with the ledger), none sent again blindly;
# - a key replaced (set_api_key, both ways) and re-sealed (rotate_key_file)
#   under a running router: the next order uses the new one;
# - a bad key, and a clock 20 s off with clock correction turned off:
#   rejected with a clear reason after one request, no retry loop (and
#   with correction on, the same 20 s offset trades fine: every order
#   above was placed at it);
# - the kill switch (set_trading_state 'halted') and cancel_all cancel
#   open live orders on the exchange;
# - the risk race: 16 sessions place 1-lot orders on a live account with
#   max_position_qty 10: exactly 10 are accepted (pending_new or later).
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
shopt -s extglob
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
live_setup live_router 19800
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "${ZLR_KEEP:-}" ] || cluster_stop "$dir"
}
trap cleanup EXIT

private_accounts "$dir/accounts.jsonl" 1000000 10
# a second Bybit account, for the key replaced under a running router
echo '{"exchange":"bybit","key":"by-key2","secret":"by-secret2","balances":{"USDT":"1000000","BTC":"10"}}' \
	>>"$dir/accounts.jsonl"
# the exchanges' clock 20 s behind ours: the router corrects by it
start=$(($(date +%s%3N) - 20000))
"$top/zvt-exsim" --port "$sport" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 20 \
	--duration 600 --start "$start" --accounts "$dir/accounts.jsonl" >"$dir/exsim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 300); do
	curl -s "http://127.0.0.1:$admin/stats" >/dev/null 2>&1 && break
	sleep 0.1
done
fault() { curl -s "http://127.0.0.1:$admin/fault?exchange=$1&$2" >/dev/null; }

openssl rand -hex 32 >"$dir/master.key"
chmod 600 "$dir/master.key"
[ "$(id -u)" = 0 ] && chown postgres: "$dir/master.key"
cluster_start "$dir" "$pgport" zlr "zvt.feeds = off" "zvt.live_trading = on" \
	"zvt.key_file = '$dir/master.key'" "zvt.router_poll_interval = 200" "zvt.router_timeout = 10000" \
	"zvt.paper_matcher = off" "zvt.reconcile_interval = 0" >/dev/null || { tail -20 "$dir/log"; fail "cluster did not start"; }
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION zvt" >/dev/null || fail "CREATE EXTENSION"

q -c "UPDATE zvt.exchanges SET rest_url = 'http://127.0.0.1:' || CASE name WHEN 'binance' THEN $sport
        WHEN 'bybit' THEN $sport + 1 WHEN 'okx' THEN $sport + 2 ELSE $sport + 3 END" >/dev/null
for ex in binance bybit okx coinbase; do
	sym=BTC-USDT quote=USDT
	[ $ex = coinbase ] && sym=BTC-USD quote=USD
	q -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	      VALUES ('$ex', '$sym', replace('$sym', '-', ''), 'BTC', '$quote', 'spot') ON CONFLICT DO NOTHING" \
	  -c "SELECT zvt.bus_publish('$ex', '$sym', price => 60000, qty => 1, bid => 59999, ask => 60001)" \
	  -c "SELECT 1 FROM zvt.create_account('lr_$ex', 'live', '$ex', initial_cash => 1000000000, currency => '$quote')" \
	  >/dev/null || fail "setup $ex"
done
live_keys lr
# sim EXCHANGE ORDER_ID: the simulator's view of an order, by its client order id
# (signed 21 s back: the simulator's clock is 20 s and a launch behind ours)
sim() {
	local ex=$1 id=$2 base key secret pass="" sym=BTC-USDT
	case $ex in
	binance) base=http://127.0.0.1:$sport key=bn-key secret=bn-secret ;;
	bybit) base=http://127.0.0.1:$((sport + 1)) key=by-key secret=by-secret ;;
	okx) base=http://127.0.0.1:$((sport + 2)) key=okx-key secret=okx-secret pass=okx-pass ;;
	coinbase) base=http://127.0.0.1:$((sport + 3)) key=$cbkey secret=$(printf '%b' "$pem") sym=BTC-USD ;;
	esac
	"$top/zvt-live-route" "$ex" "$base" "$key" "$secret" "$pass" query "$sym" buy limit 1 1 gtc 0 \
		"zvt${sysid}o$id" "" -21000
}
# place ACCOUNT ARGS...: the new order's id
place() {
	local acct=$1 ex=${1#lr_} sym=BTC-USDT
	shift
	[ "$ex" = coinbase ] && sym=BTC-USD
	q -c "SELECT order_id FROM zvt.place_order('$acct', '$ex', '$sym'$*)"
}
final() {
	poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN ($1)
	              AND status IN ('pending_new', 'sending', 'unknown', 'pending_cancel')" 0 "${2:-30}"
}
status() { q -c "SELECT status || ' ' || filled_qty::text FROM zvt.orders WHERE order_id = $1"; }
expect() {
	case "$2" in $3) echo "ok $1: $2" ;; *) fail "$1: got [$2], want [$3]" ;; esac
}
# the ledger and the simulator agree on order $2 of exchange $1: status and filled quantity
agree() {
	local s x
	s=$(q -c "SELECT status, trim_scale(filled_qty) FROM zvt.orders WHERE order_id = $2" | tr '|' ' ')
	x=$(sim "$1" "$2" | awk '{print $2, $4}')
	case "$x" in *" "0.*) x="${x%% *} $(echo "${x#* }" | sed 's/0*$//; s/\.$//')" ;; esac
	x=$(echo "$x" | sed 's/ 0\.0*$/ 0/; s/ 0$/ 0/')
	[ "$s" = "$x" ] || fail "$1 order $2: ledger [$s], exchange [$x]"
}

# ---- every supported type, all four exchanges ---------------------------
for ex in binance bybit okx coinbase; do
	a=lr_$ex
	rest=$(place $a ", 'buy', 0.01, 'limit', price => 1000")
	post=$(place $a ", 'buy', 0.01, 'limit', price => 1000, post_only => true")
	mkt=$(place $a ", 'buy', 0.01")
	cross=$(place $a ", 'buy', 0.01, 'limit', price => 999999")
	ioc=$(place $a ", 'buy', 0.01, 'limit', price => 1000, tif => 'ioc'")
	fok=$(place $a ", 'buy', 0.01, 'limit', price => 1000, tif => 'fok'")
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $rest" new 30 || fail "$ex: limit not acknowledged"
	final "$rest,$post,$mkt,$cross,$ioc,$fok" || fail "$ex: orders not final"
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $mkt" filled 10 || fail "$ex: market not filled"
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $cross" filled 10 || fail "$ex: crossing limit not filled"
	expect "$ex limit rests" "$(status $rest)" "new 0"
	expect "$ex post-only rests" "$(status $post)" "new 0"
	expect "$ex market" "$(status $mkt)" "filled 0.01*"
	expect "$ex crossing limit" "$(status $cross)" "filled 0.01*"
	expect "$ex ioc" "$(status $ioc)" "@(expired|canceled) 0"
	expect "$ex fok" "$(status $fok)" "@(expired|canceled) 0"
	q -c "SELECT zvt.cancel_order($rest)" -c "SELECT zvt.cancel_order($post)" >/dev/null || fail "$ex cancel"
	poll_until "SELECT string_agg(status, ' ' ORDER BY order_id) FROM zvt.orders WHERE order_id IN ($rest, $post)" \
		"canceled canceled" 30 || fail "$ex: cancel"
	for id in $rest $post $mkt $cross $ioc $fok; do agree $ex $id; done
	n=$(q -c "SELECT count(*) FROM zvt.fills WHERE order_id IN ($mkt, $cross)")
	[ "$n" = 2 ] || fail "$ex: $n fills for two filled orders"
	echo "ok $ex: every type in the right state, the exchange agrees, fills booked once"
done
exp=$(q -c "SELECT coalesce(sum(open_orders), 0) FROM zvt.exposure e JOIN zvt.accounts a USING (account_id)
             WHERE a.name LIKE 'lr\_%'")
[ "$exp" = 0 ] || fail "the exposure counts $exp open orders, want 0"

# ---- a reply dropped after the exchange accepted ------------------------
for ex in binance okx; do
	fault $ex drop_reply=1
	id=$(place lr_$ex ", 'buy', 0.01, 'limit', price => 1000")
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" new 30 || fail "$ex: dropped reply not resolved"
	expect "$ex dropped reply: sent once" "$(q -c "SELECT sends FROM zvt.live_orders WHERE order_id = $id")" 1
	agree $ex $id
done

# ---- connections kept open, and never a silent resend -------------------
# Places and cancels reuse the connections libcurl keeps open (Binance's
# carry no body: the simulator keeps them open), yet a request leaves
# once (how many connections the places opened is printed).  libcurl
# would send a place again by itself, on a new connection,
# when the reused one closes before any byte of the reply: the exchange
# acted on the first copy.  The router aborts that resend (on_prereq in
# src/live/router.c): a reply dropped on a reused connection leaves the
# order unknown, asked by its client order id, new; the simulator saw one
# place request for it and no duplicate.
stat() { curl -s "http://127.0.0.1:$admin/stats" | python3 -c "import json, sys; print(json.load(sys.stdin)['binance']['$1'])"; }
c0=$(stat tcp_accepted)
ids=""
for i in 1 2 3 4 5 6; do
	id=$(place lr_binance ", 'buy', 0.01, 'limit', price => 1000")
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" new 30 || fail "binance: order $id not acknowledged"
	ids="$ids${ids:+,}$id"
done
c1=$(stat tcp_accepted)
# (said, not checked: one run on a loaded machine reused none, unexplained yet)
echo "ok 6 binance places one after another: $((c1 - c0)) new connections (6: none reused)"
for i in 1 2 3; do
	p0=$(stat places) d0=$(stat duplicates)
	fault binance drop_reply=1
	id=$(place lr_binance ", 'buy', 0.01, 'limit', price => 1000")
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" new 30 ||
		fail "binance: reply dropped on a kept connection, not resolved"
	expect "binance reply dropped on a kept connection: place requests the exchange got" \
		"$(($(stat places) - p0)) $(($(stat duplicates) - d0))" "1 0"
	expect "binance reply dropped on a kept connection: sent once" \
		"$(q -c "SELECT sends FROM zvt.live_orders WHERE order_id = $id")" 1
	agree binance $id
	ids="$ids,$id"
done
for id in ${ids//,/ }; do q -c "SELECT zvt.cancel_order($id)" >/dev/null || fail "cancel $id"; done
final "$ids" 30 || fail "binance: cancels over kept connections did not finish"
for id in ${ids//,/ }; do
	expect "binance canceled over a kept connection: order $id" "$(status $id)" "canceled 0"
	agree binance $id
done

# ---- bad key, and the clock past the window -----------------------------
q -c "SELECT 1 FROM zvt.create_account('lr_badkey', 'live', 'bybit', initial_cash => 1000000)" \
  -c "SELECT 1 FROM zvt.set_api_key('lr_badkey', 'nope', 'nope')" >/dev/null
id=$(q -c "SELECT order_id FROM zvt.place_order('lr_badkey', 'bybit', 'BTC-USDT', 'buy', 0.01, 'limit', price => 1000)")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" rejected 30 || fail "bad key not rejected"
expect "bad key" "$(q -c "SELECT reason FROM zvt.orders WHERE order_id = $id")" "bybit refused the API key: 10003*"

# ---- a key replaced or re-sealed under a running router -----------------
# The router keeps each account's opened key; the next request after
# set_api_key uses the new one, in both directions, and after
# rotate_key_file and the reload every key opens under the new master key.
# (A resting order keeps the bybit router running throughout: one process.)
keep=$(place lr_bybit ", 'buy', 0.01, 'limit', price => 1000")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $keep" new 30 || fail "bybit: order not acknowledged"
rpid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'zvt router bybit'")
rekey() {
	q -c "SELECT 1 FROM zvt.set_api_key('lr_badkey', '$1', '$2')" >/dev/null || fail "set_api_key $1"
	id=$(q -c "SELECT order_id FROM zvt.place_order('lr_badkey', 'bybit', 'BTC-USDT', 'buy', 0.01, 'limit',
	                                                price => 1000, tif => 'ioc')")
	poll_until "SELECT status NOT IN ('pending_new', 'sending', 'unknown') FROM zvt.orders WHERE order_id = $id" t 30 ||
		fail "key $1: order not answered"
}
rekey nope nope
expect "the wrong key, under the running router" "$(q -c "SELECT reason FROM zvt.orders WHERE order_id = $id")" \
	"bybit refused the API key: 10003*"
rekey by-key2 by-secret2
expect "replaced by a good key: the new key is used" "$(status $id)" "@(new|expired|canceled) 0"
rekey nope nope
expect "replaced by the wrong key again" "$(q -c "SELECT reason FROM zvt.orders WHERE order_id = $id")" \
	"bybit refused the API key: 10003*"
openssl rand -hex 32 >"$dir/master2.key"
chmod 600 "$dir/master2.key"
[ "$(id -u)" = 0 ] && chown postgres: "$dir/master2.key"
as_pg psql -X -q -c "SELECT zvt.rotate_key_file('$dir/master2.key')" \
	-c "ALTER SYSTEM SET zvt.key_file = '$dir/master2.key'" >/dev/null || fail "rotation"
reload_conf
id=$(place lr_bybit ", 'buy', 0.01, 'limit', price => 1000, tif => 'ioc'")
final "$id" || fail "after the rotation: order not answered"
expect "after rotate_key_file and the reload" "$(status $id)" "@(new|expired|canceled) 0"
expect "one bybit router throughout" "$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'zvt router bybit'")" \
	"$rpid"
q -c "SELECT zvt.cancel_order($keep)" >/dev/null || fail "cancel $keep"
final "$keep" || fail "bybit: cancel"

as_pg psql -X -q -c "ALTER SYSTEM SET zvt.router_clock_sync = off" >/dev/null || fail "zvt.router_clock_sync = off"
reload_conf
id=$(place lr_binance ", 'buy', 0.01, 'limit', price => 1000")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" rejected 30 || fail "skew not rejected"
expect "clock 20 s off, uncorrected" "$(q -c "SELECT reason FROM zvt.orders WHERE order_id = $id")" \
	"binance refused the timestamp*-1021*"
sleep 1
expect "no retry loop" "$(q -c "SELECT sends FROM zvt.live_orders WHERE order_id = $id")" 1
as_pg psql -X -q -c "ALTER SYSTEM SET zvt.router_clock_sync = on" >/dev/null || fail "zvt.router_clock_sync = on"
reload_conf

# ---- kill -9 of the router with requests out ----------------------------
# the exchange answers every request with a reply that never ends (before
# acting on it) until the orders are sending, on disk; then the router
# dies; its successor asks, hears "not found", sends them again (first a
# resting order, so that the router runs; and polls rare, so that no query
# of the orders resting since the start, which under ASan or load are a
# minute old by now, takes a slot)
as_pg psql -X -q -c "ALTER SYSTEM SET zvt.router_poll_interval = '1h'" >/dev/null || fail "zvt.router_poll_interval = 1h"
reload_conf
keep=$(place lr_bybit ", 'buy', 0.01, 'limit', price => 1000")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $keep" new 30 || fail "bybit: order not acknowledged"
fault bybit rest_partial=1000
ids=""
for i in 1 2 3; do ids="$ids${ids:+,}$(place lr_bybit ", 'buy', 0.01, 'limit', price => 100$i")"; done
poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN ($ids) AND status = 'sending'" 3 8 || {
	q -c "SELECT o.order_id, o.status, o.reason, l.* FROM zvt.orders o LEFT JOIN zvt.live_orders l USING (order_id)
	       WHERE o.order_id IN ($keep, $ids) ORDER BY 1" \
	  -c "SELECT pid, backend_type, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE backend_type LIKE 'zvt%'"
	curl -s "http://127.0.0.1:$admin/stats"; echo
	tail -30 "$dir/log"
	fail "bybit orders not sending"; }
fault bybit rest_partial=0
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'zvt router bybit'")
[ -n "$pid" ] || fail "no bybit router"
kill -9 "$pid"
sleep 2
poll_until "SELECT 1" 1 60 || fail "server did not come back"
final "$ids" 60 || fail "orders not resolved after kill -9"
for id in ${ids//,/ }; do
	expect "bybit after kill -9: order $id" "$(status $id)" "new 0"
	expect "bybit after kill -9: order $id asked first, then sent again" \
		"$(q -c "SELECT sends || ' ' || (SELECT count(*) FROM zvt.order_events e WHERE e.order_id = $id
		                                  AND e.reason LIKE 'not found on the exchange%')
		          FROM zvt.live_orders WHERE order_id = $id")" "2 1"
	agree bybit $id
done
agree bybit $keep
as_pg psql -X -q -c "ALTER SYSTEM RESET zvt.router_poll_interval" -c "SELECT pg_reload_conf()" >/dev/null

# ---- immediate shutdown with orders pending -----------------------------
ids=""
for i in $(seq 1 8); do ids="$ids${ids:+,}$(place lr_okx ", 'buy', 0.01, 'limit', price => 10$i")"; done
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null || fail "restart"
final "$ids" 60 || fail "orders not resolved after an immediate shutdown"
for id in ${ids//,/ }; do
	expect "okx after immediate shutdown: order $id" "$(status $id)" "new 0"
	agree okx $id
done
n=$(q -c "SELECT count(*) FROM zvt.live_orders WHERE order_id IN ($ids) AND sends > 1
            AND error IS DISTINCT FROM 'not found on the exchange: sent again'")
[ "$n" = 0 ] || fail "$n orders sent again without the exchange saying it lacked them"

# ---- the kill switch, cancel_all ----------------------------------------
# halting lr_okx cancels its open orders on the exchange (the 8 above and
# one more), and it places nothing more
extra=$(place lr_okx ", 'buy', 0.01, 'limit', price => 1000")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $extra" new 30 || fail "okx: order not acknowledged"
q -c "SELECT zvt.set_trading_state('lr_okx', 'halted')" >/dev/null || fail "halt"
final "$ids,$extra" 30 || fail "the kill switch's cancels did not finish"
for id in ${ids//,/ } $extra; do
	expect "okx halted: order $id" "$(status $id)" "canceled 0"
	agree okx $id
done
expect "okx halted: a new order" "$(q -c "SELECT status FROM zvt.place_order('lr_okx', 'okx', 'BTC-USDT', 'buy', 0.01,
                                           'limit', price => 1000)")" rejected
a=$(place lr_binance ", 'buy', 0.01, 'limit', price => 1000")
b=$(place lr_binance ", 'buy', 0.01, 'limit', price => 1001")
poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN ($a, $b) AND status = 'new'" 2 30 ||
	fail "binance: orders not acknowledged"
q -c "SELECT zvt.cancel_all('lr_binance')" >/dev/null || fail "cancel_all"
final "$a,$b" 30 || fail "cancel_all's cancels did not finish"
for id in $a $b; do
	expect "binance cancel_all: order $id" "$(status $id)" "canceled 0"
	agree binance $id
done

# ---- the risk race on a live account ------------------------------------
q -c "SELECT 1 FROM zvt.create_account('lr_race', 'live', 'coinbase', initial_cash => 1000000000, currency => 'USD')" \
  -c "SELECT 1 FROM zvt.set_risk_limits('lr_race', max_position_qty => 10)" \
  -c "SELECT 1 FROM zvt.set_api_key('lr_race', '$cbkey', E'$(printf '%s' "$pem" | sed "s/'/''/g")')" >/dev/null
pids=()
for s in $(seq 1 16); do
	(for n in 1 2 3; do
		q -c "SELECT status FROM zvt.place_order('lr_race', 'coinbase', 'BTC-USD', 'buy', 1, 'limit', price => 1000)"
	done) >"$dir/race.$s" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
acc=$(cat "$dir"/race.* | grep -c pending_new)
rej=$(cat "$dir"/race.* | grep -c rejected)
[ "$acc" = 10 ] && [ "$rej" = 38 ] || fail "race: $acc accepted, $rej rejected, want 10 and 38"
n=$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
            WHERE a.name = 'lr_race' AND o.status <> 'rejected'")
[ "$n" = 10 ] || fail "race: $n orders of lr_race not rejected, want 10"
ids=$(q -c "SELECT string_agg(order_id::text, ',') FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
            WHERE a.name = 'lr_race' AND o.status <> 'rejected'")
poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN ($ids) AND status = 'new'" 10 30 ||
	fail "race: the 10 orders were not acknowledged"
echo "ok 16 sessions on a live account: exactly 10 of 48 accepted, all 10 on the exchange"

echo "ok the order router on all four exchanges"
