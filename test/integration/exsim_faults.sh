#!/usr/bin/env bash
# Every fault mode and keepalive rule of the simulator behaves as described:
# drops after N and every N messages, stalls, malformed and duplicated
# frames, skipped sequence numbers, rejected subscribes, REST 429/503,
# shutdown notices, Binance pings and its drop of a client without pong,
# the OKX idle cutoff and text ping, the Coinbase 5 s subscribe deadline,
# Bybit's 10-arg spot limit, and wss:// with a private CA.
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/exsim_faults
mkdir -p "$cap"
port=$(free_port_range 19400 4)
admin=$(free_port $((port + 10)))
cli="$top/zvt-exsim-client"
sims=()
trap 'kill ${sims[@]} 2>/dev/null' EXIT

start_sim() {
	"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT \
		--duration 120 "$@" >>"$cap/exsim.out" 2>&1 &
	sims+=($!)
	sim_up "${sims[-1]}" "$port" "$admin"
}
stop_sim() { kill "${sims[@]}" 2>/dev/null; wait "${sims[@]}" 2>/dev/null; sims=(); }
admin_get() { curl -s "http://127.0.0.1:$admin$1" >/dev/null || fail "admin $1"; }
# summary line of a client run: "messages N seconds S rate R/s closed C"
summary() { "$cli" "$@" 2>&1 >/dev/null | tail -1; }
BN="ws://127.0.0.1:$port/ws/btcusdt@trade"

# --- drops ------------------------------------------------------------
start_sim --rate 200 --drop-after 50
out=$(summary "$BN" --duration 5)
case "$out" in "messages 50 "*) ;; *) fail "drop-after 50: $out" ;; esac
echo "drop after 50: $out"
stop_sim

start_sim --rate 200
admin_get "/fault?exchange=binance&drop_every=30"
for i in 1 2; do
	out=$(summary "$BN" --duration 5)
	case "$out" in "messages 30 "*) ;; *) fail "drop_every 30, connection $i: $out" ;; esac
done
echo "drop every 30: two connections cut at 30"
admin_get "/reset"

# --- stall ------------------------------------------------------------
admin_get "/fault?exchange=binance&stall=2"
out=$(summary "$BN" --duration 1.5)
case "$out" in "messages 0 "*) ;; *) fail "stall: $out" ;; esac
sleep 1
out=$(summary "$BN" --duration 1)
case "$out" in "messages 0 "*) fail "no data after the stall: $out" ;; esac
echo "stall: silent for its length, then data again"

# --- malformed and duplicate frames --------------------------------------
admin_get "/fault?exchange=binance&malformed=0.2"
"$cli" "$BN" --count 500 --print >"$cap/malformed.ws" 2>/dev/null
bad=$(python3 -c "
import json,sys
n=0
for l in open('$cap/malformed.ws'):
    try: json.loads(l)
    except ValueError: n+=1
print(n)")
[ "$bad" -ge 50 ] && [ "$bad" -le 160 ] || fail "malformed 0.2 gave $bad of 500 bad frames"
echo "malformed 0.2: $bad of 500 frames are not JSON"
admin_get "/reset"
admin_get "/fault?exchange=binance&duplicate=0.2"
"$cli" "$BN" --count 500 --print >"$cap/dup.ws" 2>/dev/null
dups=$(python3 -c "
import json
ids=[json.loads(l)['t'] for l in open('$cap/dup.ws')]
print(len(ids)-len(set(ids)))")
[ "$dups" -ge 40 ] && [ "$dups" -le 140 ] || fail "duplicate 0.2 gave $dups duplicates in 500"
echo "duplicate 0.2: $dups of 500 frames repeat a trade"
admin_get "/reset"

# --- sequence skip ----------------------------------------------------
"$cli" "ws://127.0.0.1:$port/ws/btcusdt@depth@100ms" --duration 1.5 --print >"$cap/skip.ws" 2>/dev/null &
sleep 0.7
admin_get "/fault?exchange=binance&skip_seq=5"
wait $!
gaps=$(python3 -c "
import json
ev=[json.loads(l) for l in open('$cap/skip.ws')]
print(sum(1 for a,b in zip(ev,ev[1:]) if b['U']!=a['u']+1))")
[ "$gaps" = 1 ] || fail "skip_seq should leave exactly one gap, saw $gaps"
echo "skip_seq: one gap in the depth stream"

# --- rejected subscribes ------------------------------------------------
admin_get "/fault?exchange=bybit&reject_subscribe=1"
out=$("$cli" "ws://127.0.0.1:$((port + 1))/v5/public/spot" \
	--send '{"op":"subscribe","args":["publicTrade.BTCUSDT"]}' \
	--send '{"op":"subscribe","args":["publicTrade.BTCUSDT"]}' --count 2 --print 2>/dev/null)
echo "$out" | head -1 | grep -q '"success":false' || fail "reject_subscribe: $out"
echo "$out" | sed -n 2p | grep -q '"success":true' || fail "second subscribe: $out"
out=$("$cli" "ws://127.0.0.1:$((port + 1))/v5/public/spot" \
	--send '{"op":"subscribe","args":["a.1","a.2","a.3","a.4","a.5","a.6","a.7","a.8","a.9","a.10","a.11"]}' \
	--count 1 --print 2>/dev/null)
echo "$out" | grep -q '"ret_msg":"args size >10"' || fail "spot args limit: $out"
echo "subscribe errors: injected rejection and Bybit's 10-arg limit"

# --- REST 429 and 503 ---------------------------------------------------
admin_get "/fault?exchange=binance&rest_429=1"
code=$(curl -s -D "$cap/h429" -o "$cap/b429" -w '%{http_code}' "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT")
[ "$code" = 429 ] && grep -qi '^retry-after:' "$cap/h429" && grep -q '"code":-1003' "$cap/b429" || fail "rest_429: $code $(cat "$cap/b429")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT")
[ "$code" = 200 ] || fail "after 429: $code"
admin_get "/fault?exchange=okx&rest_5xx=1"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((port + 2))/api/v5/public/instruments?instType=SPOT")
[ "$code" = 503 ] || fail "rest_5xx: $code"
code=$(curl -s -o "$cap/bad" -w '%{http_code}' "http://127.0.0.1:$port/api/v3/depth?symbol=NOPE")
[ "$code" = 400 ] && grep -q '"code":-1121' "$cap/bad" || fail "unknown symbol: $code"
echo "REST: 429 with Retry-After and -1003, then 200; 503; -1121 for an unknown symbol"

# --- shutdown notices ------------------------------------------------------
"$cli" "$BN" --duration 3 --print >"$cap/shutdown.bn" 2>"$cap/shutdown.bn.err" &
c1=$!
"$cli" "ws://127.0.0.1:$((port + 2))/ws/v5/public" \
	--send '{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}' \
	--duration 3 --print >"$cap/shutdown.okx" 2>/dev/null &
c2=$!
sleep 0.5
admin_get "/shutdown?exchange=binance"
admin_get "/shutdown?exchange=okx"
wait $c1 $c2
tail -1 "$cap/shutdown.bn" | grep -q '"e":"serverShutdown"' || fail "no serverShutdown last: $(tail -1 "$cap/shutdown.bn")"
grep -q '"code":"64008"' "$cap/shutdown.okx" || fail "no OKX 64008 notice"
echo "shutdown: Binance serverShutdown and OKX 64008, then the connections close"
stop_sim

# --- keepalives ----------------------------------------------------------
start_sim --rate 5 --ping 1 --pong-timeout 3 --idle 2
# four clients at once, each on a connection of its own: one that never
# pongs, one that does, an idle OKX one, a Coinbase one that subscribes to
# nothing
python3 "$top/test/exsim/raw_ws.py" 127.0.0.1 "$port" /ws/btcusdt@trade 8 >"$cap/ka_silent" &
k1=$!
summary "$BN" --duration 5 >"$cap/ka_pong" &
k2=$!
summary "ws://127.0.0.1:$((port + 2))/ws/v5/public" --duration 60 >"$cap/ka_okx" &
k3=$!
summary "ws://127.0.0.1:$((port + 3))/" --duration 60 >"$cap/ka_coinbase" &
k4=$!
wait $k1 $k2 $k3 $k4
out=$(cat "$cap/ka_silent")
pings=$(echo "$out" | grep -c '^ping')
[ "$pings" -ge 2 ] || fail "Binance pings: $out"
echo "$out" | grep -q '^eof' || fail "Binance kept a client that never pongs: $out"
echo "Binance: $pings pings, then the silent client is dropped ($(echo "$out" | grep '^eof'))"
out=$(cat "$cap/ka_pong")
case "$out" in *"closed 0") ;; *"closed 1006"*) fail "a ponging client was dropped: $out" ;; esac

# the cut comes from the server (its close code), never before the idle
# time (the client's clock starts before it connects); no upper bound, as
# a loaded machine may serve the cut late
at_least() { awk -v s="$(echo "$1" | sed -n 's/.* seconds \([0-9.]*\) .*/\1/p')" -v m="$2" 'BEGIN { exit !(s != "" && s >= m) }'; }
out=$(cat "$cap/ka_okx")
case "$out" in *"closed 4004") ;; *) fail "OKX idle cutoff: $out" ;; esac
at_least "$out" 2 || fail "OKX idle cutoff before 2 s: $out"
out=$("$cli" "ws://127.0.0.1:$((port + 2))/ws/v5/public" --send ping --count 1 --print 2>/dev/null)
[ "$out" = pong ] || fail "OKX ping: $out"
echo "OKX: idle connection cut after ~2 s; text ping answered pong"

out=$(cat "$cap/ka_coinbase")
case "$out" in *"closed 1008") ;; *) fail "Coinbase subscribe deadline: $out" ;; esac
at_least "$out" 5 || fail "Coinbase subscribe deadline before 5 s: $out"
echo "Coinbase: no subscribe within 5 s, disconnected"
stop_sim

# --- TLS with a private CA ----------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=zvt test CA" \
	-keyout "$cap/ca.key" -out "$cap/ca.crt" >/dev/null 2>&1 || fail "CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$cap/server.key" -out "$cap/server.csr" >/dev/null 2>&1 || fail "CSR"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$cap/san.ext"
openssl x509 -req -in "$cap/server.csr" -CA "$cap/ca.crt" -CAkey "$cap/ca.key" -CAcreateserial \
	-days 2 -extfile "$cap/san.ext" -out "$cap/server.crt" >/dev/null 2>&1 || fail "server cert"
start_sim --rate 50 --tls-cert "$cap/server.crt" --tls-key "$cap/server.key"
out=$(summary "wss://127.0.0.1:$port/ws/btcusdt@trade" --ca "$cap/ca.crt" --count 10)
case "$out" in "messages 10 "*) ;; *) fail "wss with the CA: $out" ;; esac
code=$(curl -s --cacert "$cap/ca.crt" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/api/v3/exchangeInfo")
[ "$code" = 200 ] || fail "https with the CA: $code"
out=$(summary "wss://127.0.0.1:$port/ws/btcusdt@trade" --count 10)
case "$out" in "messages 0 "*) ;; *) fail "wss without the CA should fail verification: $out" ;; esac
echo "TLS: wss and https verify with the private CA, and fail without it"
stop_sim
