#!/usr/bin/env bash
# test/integration/http_stream.sh: the /stream WebSocket of the HTTP front
# (src/http/stream*.c) against a live feed from the simulator.
#
# A cluster of its own (the feeds on, zvt.http_stream_queue = 4096: room
# for the reading clients to fall seconds behind on a loaded machine,
# while the one that never reads, with its socket's 128 kB, must lose
# most of the ~12,000 events; the
# metrics endpoint on), two traders st_a and st_b with an account each,
# then test/http/stream_check.py (its head lists the checks: refused
# upgrades, errors, trades in order without duplicates equal to the
# stored rows, a slow client told what it lost while the feed and the
# other clients lose nothing, each trader only its own order events,
# role claims with quotes and semicolons as values, never SQL; refused
# roles with PostgREST's errors,
# anonymous none, tickers, metrics).  Then the heartbeat: with
# zvt.http_idle_timeout = 2, a client that never answers is closed.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/http_lib.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/http_stream
mkdir -p "$cap"
chmod 755 "$cap"
dir=$cap/cluster
db=stream_db
sport=$(free_port 22700)
xport=$(free_port $((sport + 10)))
mport=$(free_port $((xport + 10)))

cleanup() {
	local rc=$?
	[ "$rc" = 0 ] || grep -E 'zvt http|zvt feed|ERROR|PANIC' "$dir/log" 2>/dev/null | tail -20 >&2
	cluster_stop "$dir"
}
trap cleanup EXIT

cluster_start "$dir" "$sport" "$db" "zvt.maintenance_naptime = 1" "zvt.http_stream_queue = 4096" \
	"zvt.metrics_port = $mport" >/dev/null || { tail -5 "$dir/log"; fail "cluster did not start"; }
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS zvt" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$xport', rest_url = 'http://127.0.0.1:$xport' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot'),
             ('binance', 'ETH-USDT', 'ETHUSDT', 'ETH', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'st_a') THEN CREATE ROLE st_a NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'st_b') THEN CREATE ROLE st_b NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'st_stranger') THEN CREATE ROLE st_stranger NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \$r\$st_q'\"; CREATE TABLE public.stream_pwned(); --\$r\$) THEN
          CREATE ROLE \"st_q'\"\"; CREATE TABLE public.stream_pwned(); --\" NOLOGIN;
        END IF;
      END \$\$" \
  -c "GRANT zvt_trader TO st_a, st_b, st_stranger, \"st_q'\"\"; CREATE TABLE public.stream_pwned(); --\"" \
  -c "GRANT st_a, st_b, \"st_q'\"\"; CREATE TABLE public.stream_pwned(); --\" TO zvt_authenticator" \
  -c "SET ROLE st_a" -c "SELECT zvt.create_account('st_a_acct', initial_cash => 1000000)" -c "RESET ROLE" \
  -c "SET ROLE st_b" -c "SELECT zvt.create_account('st_b_acct', initial_cash => 1000000)" -c "RESET ROLE" \
  >/dev/null || fail "setup"

http_start
export HTTP_PORT METRICS_PORT=$mport CAP=$cap ACCT_A=st_a_acct ACCT_B=st_b_acct
TOKEN_A=$(token '{"role": "st_a"}')
TOKEN_B=$(token '{"role": "st_b"}')
BAD_TOKEN=$(token '{"role": "st_a", "exp": 1000}')
# role claims with quotes and semicolons, as an attacker writes them (jsonb
# from a dollar-quoted literal: the names reach the token unchanged)
QUOTED="st_q'\"; CREATE TABLE public.stream_pwned(); --"
NOBODY="st_nobody'); CREATE TABLE public.stream_pwned2(); --"
dq_token() { q -c "SELECT zvt.jwt_sign(jsonb_build_object('role', \$n\$$1\$n\$::text))"; }
TOKEN_QUOTED=$(dq_token "$QUOTED")
TOKEN_NOBODY=$(dq_token "$NOBODY")
TOKEN_STRANGER=$(token '{"role": "st_stranger"}')
TOKEN_SUPER=$(token '{"role": "postgres"}')
export TOKEN_A TOKEN_B BAD_TOKEN QUOTED NOBODY TOKEN_QUOTED TOKEN_NOBODY TOKEN_STRANGER TOKEN_SUPER
export SIM="'$top/zvt-exsim' --port $xport --exchanges binance --symbols BTC-USDT,ETH-USDT --rate 200 \
	--count 3000 --duration 120 --admin-port -1 --duplicate 0.05"
python3 "$top/test/http/stream_check.py" || fail "stream_check.py"

# --- heartbeats: a client that never answers is closed --------------------------
q -c "ALTER SYSTEM SET zvt.http_idle_timeout = 2" >/dev/null || fail "set zvt.http_idle_timeout"
reload_conf
# the workers read it at their loop's next turn (every 100 ms)
sleep 1
python3 - "$top/test/http" <<'PY' || fail "idle client"
import os, socket, sys, time
sys.path.insert(0, sys.argv[1])
from wsclient import WsClient
port = int(os.environ["HTTP_PORT"])
# answers pings (recv does): stays open past the idle timeout
live = WsClient("127.0.0.1", port, "/stream")
# never reads, never writes: closed after zvt.http_idle_timeout
mute = WsClient("127.0.0.1", port, "/stream")
closed = None
deadline = time.time() + 30
while time.time() < deadline and closed is None:
    live.recv(timeout=0.2)
    mute.sock.setblocking(False)
    try:
        data = mute.sock.recv(65536)
        mute.buf += data
        if not data or b"\x88" in mute.buf:
            closed = time.time()
    except BlockingIOError:
        pass
assert closed is not None, "the silent client was not closed"
assert live.closed is None, "the client answering pings was closed"
live.send_json({"op": "ping"})
m = live.recv_json(timeout=5)
assert m == {"op": "pong"}, m
print("ok a silent client is closed; one answering pings stays")
PY
echo "http_stream: all passed"
