#!/usr/bin/env bash
# A subscription change touches its own exchange's feed worker only: with
# binance and bybit streaming and okx and coinbase idle, subscribing on
# binance leaves bybit's worker as it was (pid, connected_since,
# reconnects) and starts no idle worker (which used to start and download
# its exchange's whole instrument list: okx's instruments.updated_at
# would move); then subscribing on okx starts okx's worker alone.  The
# okx ws_url is spelled like loopback and is not (ws://127.attacker.example),
# so that worker refuses to connect and says why.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_generation
mkdir -p "$cap"
port=$(free_port_range 19800 4)
admin=$(free_port $((port + 10)))
log=$ZVT_TEST_DIR/log

"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT \
	--rate 20 --duration 180 >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_gen s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_gen" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_up "$sim" "$port" "$admin"

q -c "CREATE TABLE zvt_saved_gen AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.attacker.example:$((port + 2))' WHERE name = 'okx'" >/dev/null || fail "setup"
q -c "SELECT zvt.sync_instruments(e) FROM unnest(ARRAY['binance', 'bybit', 'okx']) e" >/dev/null || fail "sync"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" -c "SELECT zvt.subscribe('bybit', 'BTC-USDT', 'trades')" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" >/dev/null || fail "subscribe"

poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange IN ('binance', 'bybit') AND state = 'connected'" 2 30 ||
	fail "binance and bybit did not connect"
poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange IN ('okx', 'coinbase') AND pid IS NULL" 2 30 ||
	fail "okx and coinbase did not go idle"
# the launcher has started the idle ones once (feeds switched on) and they left
sleep 1.5

snapshot() {
	q -c "SELECT string_agg(format('%s %s %s %s', exchange, pid, connected_since, reconnects), '; ' ORDER BY exchange)
	        FROM zvt.feed_status WHERE exchange = ANY (string_to_array('$1', ','))"
}
okx_synced() { q -c "SELECT max(updated_at) FROM zvt.instruments WHERE exchange = 'okx'"; }
bybit=$(snapshot bybit)
okx=$(okx_synced)

# a change on binance: binance streams it; nothing else moves
q -c "SELECT zvt.subscribe('binance', 'ETH-USDT', 'trades')" >/dev/null || fail "subscribe ETH-USDT"
poll_until "SELECT count(*) > 0 FROM zvt.trades_v WHERE exchange = 'binance' AND symbol = 'ETH-USDT'" t 30 ||
	fail "binance did not stream its new subscription"
sleep 1.5					# the launcher wakes every 0.5 s
[ "$(snapshot bybit)" = "$bybit" ] || fail "bybit's worker changed: $bybit -> $(snapshot bybit)"
[ "$(okx_synced)" = "$okx" ] || fail "a binance subscription started okx's idle worker (its instruments were synced again)"
[ "$(q -c "SELECT count(*) FROM zvt.feed_status WHERE exchange IN ('okx', 'coinbase') AND pid IS NOT NULL")" = 0 ] ||
	fail "an idle worker is running"
echo "ok a binance subscription left bybit's worker ($bybit) and the idle okx and coinbase alone"

# a change on okx starts okx's worker only, which refuses the disguised ws_url
both=$(snapshot binance,bybit)
q -c "SELECT zvt.subscribe('okx', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe okx"
msg="zvt feed okx: ws_url \"ws://127.attacker.example:$((port + 2))\" is neither wss:// nor ws:// to loopback; not connecting"
wait_log "$log" "$msg" 20 || { grep "zvt feed okx" "$log" | tail -5; fail "okx connected to a URL spelled like loopback"; }
[ "$(okx_synced)" != "$okx" ] || fail "okx's worker did not start (no instrument sync)"
sleep 1
[ "$(snapshot binance,bybit)" = "$both" ] || fail "an okx subscription changed binance or bybit: $both -> $(snapshot binance,bybit)"
[ "$(q -c "SELECT pid IS NULL FROM zvt.feed_status WHERE exchange = 'coinbase'")" = t ] || fail "coinbase started"
echo "ok an okx subscription started okx's worker alone; it refused ws://127.attacker.example"
