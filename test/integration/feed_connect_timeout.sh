#!/usr/bin/env bash
# A connect attempt has a bounded time (zvt.feed_watchdog): an endpoint
# that accepts TCP but never answers the WebSocket upgrade must not leave
# the feed `connecting` for good.  The attempt is abandoned, counted in
# zvt.feed_status.reconnects and logged, and retried with the backoff;
# once ws_url points at the simulator, data flows.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_connect_timeout
mkdir -p "$cap"
port=$(free_port_range 19760 4)
admin=$(free_port $((port + 10)))
silent=$(free_port $((admin + 1)))

# accepts every connection and says nothing, for 90 s at most
python3 - "$silent" >"$cap/silent.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
s.settimeout(1)
held = []
end = time.time() + 90
while time.time() < end:
    try:
        c, _ = s.accept()
        held.append(c)
        print("accepted", len(held), flush=True)
    except socket.timeout:
        pass
PY
silent_pid=$!
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT \
	--rate 20 --duration 90 >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim $silent_pid 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_ct s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_ct" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.feed_watchdog" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_up "$sim" "$port" "$admin"
for _ in $(seq 50); do port_taken "$silent" && break; sleep 0.2; done

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.feed_watchdog = '2s'" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_ct AS SELECT * FROM zvt.exchanges" \
  -c "TRUNCATE zvt.trades, zvt.feed_gaps" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$silent', rest_url = 'http://127.0.0.1:' || ($port + 2)
       WHERE name = 'okx'" >/dev/null || fail "setup"
q -c "SELECT zvt.subscribe('okx', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"

# the worker connects to the silent endpoint, which accepts
poll_until "SELECT state FROM zvt.feed_status WHERE exchange = 'okx'" connecting 30 \
	|| fail "the okx feed never tried the silent endpoint"
r0=$(q -c "SELECT reconnects FROM zvt.feed_status WHERE exchange = 'okx'")
# attempts time out and are retried: the count grows, the endpoint sees new connections
poll_until "SELECT reconnects >= $r0 + 2 FROM zvt.feed_status WHERE exchange = 'okx'" t 60 \
	|| fail "connect attempts to a silent endpoint are not abandoned and retried"
accepted=$(grep -c accepted "$cap/silent.out")
[ "$accepted" -ge 2 ] || fail "the silent endpoint saw $accepted connections, not a retry"
grep -q 'zvt feed okx: connection .* lost (connect timed out' "$ZVT_TEST_DIR/log" \
	|| fail "the connect timeout was not logged"
[ "$(q -c "SELECT count(*) FROM zvt.trades_v WHERE exchange = 'okx'")" = 0 ] || fail "trades from nowhere"

# pointed at the simulator, the next attempt connects and data flows
q -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + 2) WHERE name = 'okx'" \
  -c "SELECT zvt._subscriptions_changed('okx')" >/dev/null || fail "repoint"
poll_until "SELECT count(*) > 0 FROM zvt.trades_v WHERE exchange = 'okx'" t 60 \
	|| fail "no okx trades after ws_url points at the simulator"
poll_until "SELECT state FROM zvt.feed_status WHERE exchange = 'okx'" connected 20 || fail "okx not connected"
echo "connect timeout: $accepted silent connections abandoned and retried (reconnects $r0 -> $(q -c "SELECT reconnects FROM zvt.feed_status WHERE exchange = 'okx'")), then trades from the simulator"
