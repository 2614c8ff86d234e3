#!/usr/bin/env bash
# The private streams (src/live/userstream*.c, router_stream.c,
# sql/59_userstream.sql) against the simulator's (test/exsim/priv_stream.c),
# on all four exchanges, with zvt.router_poll_interval at an hour, so that
# after the router's start (and each stream's coming up, which queries
# every unfinished order once) only a stream can book what happens:
# - a resting limit order filled by the simulator's market (a trade
#   through its price, admin /private?cross=) is booked from the stream:
#   one fill, with the exchange's trade id and fee (Coinbase's user
#   channel has neither: its cumulative quantity books it);
# - a partial fill, then a cancel done on the exchange's side: the order
#   ends canceled with the part filled;
# - the stream dropped and refused (down=1) while the market fills an
#   order: nothing is booked while it is down; after the reconnect the
#   query pass (or the fill history of the reconciliation the reconnect
#   makes due) books it, once, and it ends with the exchange's trade id
#   and fee;
# - every private message delivered twice (dup=): each fill booked once;
# - the ledger's balances moved exactly as the simulator's account, and
#   zvt.live_balances (what the stream last said) equals it.
# A bad key: the stream's login is refused with the exchange's error and
# orders still go through REST.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
live_setup live_streams 20800
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "${ZLS_KEEP:-}" ] || cluster_stop "$dir"
}
trap cleanup EXIT

private_accounts "$dir/accounts.jsonl" 1000000 10
"$top/zvt-exsim" --port "$sport" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 20 \
	--duration 900 --accounts "$dir/accounts.jsonl" >"$dir/exsim.out" 2>&1 &
sim_pid=$!
sim_up "$sim_pid" "$sport" "$admin"
priv() { curl -s "http://127.0.0.1:$admin/private?exchange=$1&$2"; }

openssl rand -hex 32 >"$dir/master.key"
chmod 600 "$dir/master.key"
[ "$(id -u)" = 0 ] && chown postgres: "$dir/master.key"
cluster_start "$dir" "$pgport" zls "zvt.feeds = off" "zvt.live_trading = on" \
	"zvt.key_file = '$dir/master.key'" "zvt.router_poll_interval = '1h'" "zvt.router_timeout = 10000" \
	"zvt.paper_matcher = off" >/dev/null || { tail -20 "$dir/log"; fail "cluster did not start"; }
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION zvt" >/dev/null || fail "CREATE EXTENSION"

port_of() { case $1 in binance) echo $sport ;; bybit) echo $((sport + 1)) ;; okx) echo $((sport + 2)) ;; *) echo $((sport + 3)) ;; esac; }
q -c "UPDATE zvt.exchanges SET rest_url = 'http://127.0.0.1:' || CASE name WHEN 'binance' THEN $sport
        WHEN 'bybit' THEN $sport + 1 WHEN 'okx' THEN $sport + 2 ELSE $sport + 3 END,
        ws_url = 'ws://127.0.0.1:' || CASE name WHEN 'binance' THEN $sport
        WHEN 'bybit' THEN $sport + 1 WHEN 'okx' THEN $sport + 2 ELSE $sport + 3 END" >/dev/null
for ex in binance bybit okx coinbase; do
	sym=BTC-USDT quote=USDT
	[ $ex = coinbase ] && sym=BTC-USD quote=USD
	q -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	      VALUES ('$ex', '$sym', replace('$sym', '-', ''), 'BTC', '$quote', 'spot') ON CONFLICT DO NOTHING" \
	  -c "SELECT zvt.bus_publish('$ex', '$sym', price => 60000, qty => 1, bid => 59999, ask => 60001)" \
	  -c "SELECT 1 FROM zvt.create_account('ls_$ex', 'live', '$ex', initial_cash => 1000000, currency => '$quote')" \
	  >/dev/null || fail "setup $ex"
done
live_keys ls

place() {
	local ex=$1 sym=BTC-USDT
	shift
	[ "$ex" = coinbase ] && sym=BTC-USD
	q -c "SELECT order_id FROM zvt.place_order('ls_$ex', '$ex', '$sym'$*)"
}
status() { q -c "SELECT status || ' ' || trim_scale(filled_qty)::text FROM zvt.orders WHERE order_id = $1"; }
expect() {
	case "$2" in $3) echo "ok $1: $2" ;; *) fail "$1: got [$2], want [$3]" ;; esac
}
# cross EX PRICE QTY: a trade of the simulator's market through PRICE
cross() {
	local sym=BTC-USDT
	[ "$1" = coinbase ] && sym=BTC-USD
	priv "$1" "cross=$2&qty=$3&symbol=$sym" | grep -q '"ok":true' || fail "$1: cross $2 $3"
}
# the stream is up: the account's stream said something since the router began (a balance or an order)
acked() { poll_until "SELECT status FROM zvt.orders WHERE order_id = $1" new 30 || fail "order $1 not acknowledged"; }
# stream_up EX: the running router of EX has logged in ls_EX's private stream
# (it then queried every unfinished order once: from now on only the
# stream tells)
stream_up() {
	local ex=$1 pid acct i
	acct=$(q -c "SELECT account_id FROM zvt.accounts WHERE name = 'ls_$ex'")
	for ((i = 0; i < 150; i++)); do
		pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'zvt router $ex'")
		[ -n "$pid" ] && grep -q "zvt router $ex (pid $pid), account $acct: private stream up" "$dir/log" && {
			# and the query pass that followed it is booked
			poll_until "SELECT count(*) FROM zvt._live_orders l JOIN zvt.orders o USING (order_id)
			             WHERE o.exchange = '$ex' AND o.status IN ('sending', 'unknown', 'new', 'pending_cancel')
			               AND l.next_at IS NULL" 0 20 || fail "$ex: the query pass after the stream came up"
			return 0
		}
		sleep 0.2
	done
	fail "$ex: the private stream of ls_$ex did not come up"
}
fills() { q -c "SELECT count(*) || ' ' || count(exchange_trade_id) || ' ' || count(*) FILTER (WHERE fee_source = 'exchange')
                FROM zvt.fills WHERE order_id = $1"; }
# sim_total EX ASSET: the simulator's balance (free + locked) of ls_EX's account
sim_total() {
	local ex=$1 a=$2 base key secret pass="" out
	base=http://127.0.0.1:$(port_of "$ex")
	case $ex in
	binance) key=bn-key secret=bn-secret
		out=$("$top/zvt-exsim-private" binance "$base" "$key" "$secret" "" GET /api/v3/account "" "")
		echo "${out#* }" | jq -r "[.balances[] | select(.asset==\"$a\") | (.free|tonumber) + (.locked|tonumber)] | add" ;;
	bybit) key=by-key secret=by-secret
		out=$("$top/zvt-exsim-private" bybit "$base" "$key" "$secret" "" GET /v5/account/wallet-balance accountType=UNIFIED "")
		echo "${out#* }" | jq -r "[.result.list[0].coin[] | select(.coin==\"$a\") | .walletBalance | tonumber] | add" ;;
	okx) key=okx-key secret=okx-secret pass=okx-pass
		out=$("$top/zvt-exsim-private" okx "$base" "$key" "$secret" "$pass" GET /api/v5/account/balance "" "")
		echo "${out#* }" | jq -r "[.data[0].details[] | select(.ccy==\"$a\") | .cashBal | tonumber] | add" ;;
	coinbase)
		out=$("$top/zvt-exsim-private" coinbase "$base" "$cbkey" "$(printf '%b' "$pem")" "" GET /api/v3/brokerage/accounts "" "")
		echo "${out#* }" | jq -r "[.accounts[] | select(.currency==\"$a\") | (.available_balance.value|tonumber) + ((.hold.value // \"0\")|tonumber)] | add" ;;
	esac
}

declare -A down
for ex in binance bybit okx coinbase; do
	quote=USDT
	[ $ex = coinbase ] && quote=USD

	# ---- a resting order filled by the market, learned from the stream ----
	id=$(place $ex ", 'buy', 0.01, 'limit', price => 1500")
	acked "$id"
	stream_up $ex
	cross $ex 1500 0.01
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" filled 20 || fail "$ex: the stream did not book the fill"
	if [ $ex = coinbase ]; then
		# (a reconciliation run since may have identified it from the fill history)
		expect "$ex fill from the user channel (cumulative, no trade ids there)" "$(fills $id)" "1 [01] [01]"
	else
		expect "$ex fill from the stream with the exchange's trade id and fee" "$(fills $id)" "1 1 1"
	fi
	expect "$ex filled" "$(status $id)" "filled 0.01"

	# ---- a partial fill, then a cancel on the exchange's side ----
	id=$(place $ex ", 'buy', 0.02, 'limit', price => 1400")
	acked "$id"
	stream_up $ex
	cross $ex 1400 0.01
	poll_until "SELECT trim_scale(filled_qty) FROM zvt.orders WHERE order_id = $id" 0.01 20 ||
		fail "$ex: the partial fill not booked"
	expect "$ex partial" "$(status $id)" "new 0.01"
	if [ $ex != coinbase ]; then
		# the same execution again, with no cumulative quantity to tell (as a
		# Bybit execution without leavesQty): its trade id alone keeps it out
		tid=$(q -c "SELECT exchange_trade_id FROM zvt.fills WHERE order_id = $id")
		q -c "SELECT zvt._stream_apply($id, '', NULL, NULL, NULL, NULL, NULL, '$tid', 0.01, 1400, 0.014, '$quote',
		                               'maker', '', 3600000)" >/dev/null || fail "$ex: _stream_apply"
		expect "$ex the same trade id again: booked once" "$(status $id) $(fills $id)" "new 0.01 1 1 1"
	fi
	priv $ex "cancel=zvt${sysid}o$id" | grep -q '"done":1' || fail "$ex: exchange-side cancel"
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" canceled 20 ||
		fail "$ex: the exchange's cancel not learned"
	expect "$ex canceled on the exchange, part filled" "$(status $id)" "canceled 0.01"

	# ---- the stream down while the market fills an order ----
	id=$(place $ex ", 'buy', 0.01, 'limit', price => 1300")
	down[$ex]=$id
	acked "$id"
	stream_up $ex
	priv $ex "down=1" >/dev/null
	cross $ex 1300 0.01
	sleep 1
	expect "$ex stream down: not booked" "$(status $id)" "new 0"
	priv $ex "down=0" >/dev/null
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" filled 30 ||
		fail "$ex: the fill made while the stream was down not booked after the reconnect"
	expect "$ex after the reconnect: booked once" "$(q -c "SELECT count(*) FROM zvt.fills WHERE order_id = $id")" 1
	# the stream came up again: a reconciliation reads the fill history, which
	# gives the fill the stream missed its trade id and the exchange's fee
	poll_until "SELECT count(exchange_trade_id) || ' ' || count(*) FILTER (WHERE fee_source = 'exchange')
	            FROM zvt.fills WHERE order_id = $id" "1 1" 30 ||
		fail "$ex: the fill made while the stream was down has no trade id after the reconnect's reconciliation"
	expect "$ex after the reconnect's reconciliation: still once" "$(fills $id)" "1 1 1"

	# ---- every private message twice ----
	priv $ex "dup=100" >/dev/null
	id=$(place $ex ", 'buy', 0.02, 'limit', price => 1200")
	acked "$id"
	stream_up $ex
	cross $ex 1200 0.01
	cross $ex 1200 0.01
	poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" filled 20 || fail "$ex: duplicated stream not booked"
	priv $ex "dup=0" >/dev/null
	if [ $ex = coinbase ]; then
		# two updates (one per trade), each delivered twice: two fills by cumulative quantity
		expect "$ex duplicates booked once" "$(fills $id)" "2 [012] [012]"
	else
		expect "$ex duplicates booked once" "$(fills $id)" "2 2 2"
	fi
	expect "$ex duplicates: the quantity once" "$(status $id)" "filled 0.02"

	# ---- the ledger equals the simulator's account ----
	for a in $quote BTC; do
		want=$(sim_total $ex $a)
		init=1000000
		[ $a = BTC ] && init=10
		# reconciliation may have booked the account's starting holdings
		# (the simulator's 10 BTC) once the ledger tracked the asset; any
		# other change must be the streams' fills: no other adjustment, no
		# fill that reconciliation found missing
		start=0
		[ $a = BTC ] && start=$init
		adj=$(q -c "SELECT trim_scale(coalesce(sum(r.amount), 0)) FROM zvt.reconciliations r JOIN zvt.accounts x USING (account_id)
		             WHERE x.name = 'ls_$ex' AND r.kind = 'balance' AND r.asset = '$a' AND r.applied")
		[ "$(echo "$adj == 0 || $adj == $start" | bc)" = 1 ] || fail "$ex $a: reconciliation adjusted $adj, not only the starting $start"
		got=$(q -c "SELECT trim_scale(coalesce((SELECT amount FROM zvt.balances b JOIN zvt.accounts x USING (account_id)
		                                         WHERE x.name = 'ls_$ex' AND b.asset = '$a'), 0)
		                          - CASE WHEN '$a' = '$quote' THEN 1000000 ELSE 0 END - $adj + $init)")
		[ "$(echo "$got == $want" | bc)" = 1 ] || fail "$ex $a: ledger $got, simulator $want"
		# (but the fill made while the stream was down, which the run its
		# reconnect made due may book before the query pass does, and trades
		# the fill history of a run read before the stream delivered them:
		# the stream's copy then finds its trade id booked)
		missed=$(q -c "SELECT count(*) FROM zvt.reconciliations r JOIN zvt.accounts x USING (account_id)
		                WHERE x.name = 'ls_$ex' AND r.kind = 'fill_missed' AND r.order_id <> ${down[$ex]}
		                  AND r.details->>'source' IS DISTINCT FROM 'fill_history'")
		[ "$missed" = 0 ] || fail "$ex: reconciliation found $missed fills the streams missed: $(q -c "SELECT
		    string_agg(r.order_id || ' ' || r.details::text, '; ') FROM zvt.reconciliations r JOIN zvt.accounts x USING (account_id)
		     WHERE x.name = 'ls_$ex' AND r.kind = 'fill_missed'")"
		echo "ok $ex $a: the ledger equals the simulator's account ($got), the streams booked every change"
		if [ $ex != coinbase ]; then
			st=$(q -c "SELECT trim_scale(free + locked) FROM zvt.live_balances WHERE account = 'ls_$ex' AND asset = '$a'")
			[ "$(echo "$st == $want" | bc)" = 1 ] || fail "$ex $a: the stream's balance $st, simulator $want"
		fi
	done
done

# ---- a bad key: the stream's login refused, orders still go by REST ----
q -c "SELECT 1 FROM zvt.create_account('ls_badkey', 'live', 'okx', initial_cash => 1000000)" \
  -c "SELECT 1 FROM zvt.set_api_key('ls_badkey', 'okx-key', 'okx-secret', 'wrong-pass')" >/dev/null
id=$(q -c "SELECT order_id FROM zvt.place_order('ls_badkey', 'okx', 'BTC-USDT', 'buy', 0.01, 'limit', price => 1000)")
poll_until "SELECT status FROM zvt.orders WHERE order_id = $id" rejected 30 || fail "bad passphrase not rejected"
for _ in $(seq 50); do
	grep -q "refused the private stream's login: 60024: Wrong passphrase" "$dir/log" && break
	sleep 0.2
done
grep -q "refused the private stream's login: 60024: Wrong passphrase" "$dir/log" ||
	fail "the stream's refused login is not in the log"
echo "ok a bad passphrase: the stream's login refused with OKX's 60024"
grep -q "okx-secret\|bn-secret\|by-secret" "$dir/log" && fail "a secret in the server log"

# ---- Binance's listenKey endpoints, as zvt's stream thread uses them ----
# (the listenKey in the form body: as zvt's keepalive sends it)
lk() { curl -s -m 10 -d "${3:+listenKey=$3}" -X "$1" -H "X-MBX-APIKEY: $2" "http://127.0.0.1:$sport/api/v3/userDataStream"; }
key=$(lk POST bn-key | jq -r .listenKey)
[ ${#key} = 60 ] || fail "no listenKey: $key"
[ "$(lk POST bn-key | jq -r .listenKey)" = "$key" ] || fail "a second POST gave another listenKey"
[ "$(lk PUT bn-key "$key")" = "{}" ] || fail "PUT did not keep the listenKey"
expect "an unknown listenKey" "$(lk PUT bn-key nope | jq -c .)" '{"code":-1125,"msg":"This listenKey does not exist."}'
expect "an unknown key" "$(lk POST nope | jq -r .code)" -2015

echo "ok the private streams on all four exchanges"
