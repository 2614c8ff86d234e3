#!/usr/bin/env bash
# The simulator's Coinbase frames over its 64 kB write batch (market_trades
# in 250 ms batches at 6,000 trades/s a symbol: ~200 kB each) reach a
# client that stops reading for seconds at a time, all of them: the
# connection stays up and every trade id arrives once, in order (it was
# cut, 1006, when lws kept part of a big frame and the simulator wrote
# behind it).  A client that reads nothing at all is disconnected once its
# queue passes --queue-max (1008, a log line, /stats slow_closed), while
# one reading along on the same simulator is not.
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/exsim_big_frames
rm -rf "$cap"
mkdir -p "$cap"
port=$(free_port_range 19460 4)
admin=$(free_port $((port + 10)))
cb=$((port + 3))
slow="python3 $top/test/exsim/slow_ws.py"
sims=()
clients=()
trap 'kill ${sims[@]} ${clients[@]} 2>/dev/null' EXIT

start_sim() {
	"$top/zvt-exsim" --exchanges coinbase --port "$port" --admin-port "$admin" \
		--symbols BTC-USDT,ETH-USDT --rate 6000 --duration 300 "$@" >"$cap/exsim.out" 2>&1 &
	sims+=($!)
	sim_wait "${sims[-1]}" "$cb" "$admin" || fail "the simulator did not start"
}
stop_sim() { kill "${sims[@]}" 2>/dev/null; wait "${sims[@]}" 2>/dev/null; sims=(); }
stat() {
	curl -s "http://127.0.0.1:$admin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['coinbase']['$1'])"
}
# field NAME: from the reader's summary line
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$1'])" "$out"; }

# --- a slow reader: two pauses, the default bound (256 MB) -----------
start_sim
$slow read "$cb" BTC-USDT,ETH-USDT 10 2:3 6:3 >"$cap/read.json" 2>"$cap/read.err" &
clients+=($!)
# the largest backlog seen while it pauses (for the record)
peak=0
while kill -0 "${clients[-1]}" 2>/dev/null; do
	b=$(stat backlog 2>/dev/null) || b=0
	[ "${b:-0}" -gt "$peak" ] && peak=$b
	sleep 0.5
done
wait "${clients[-1]}"
rc=$?
out=$(cat "$cap/read.json")
echo "slow reader: $out"
echo "largest backlog queued while it paused: $((peak / 1024)) kB"
[ -n "$out" ] || fail "the slow reader printed nothing: $(cat "$cap/read.err")"
[ "$(field end)" = open ] || fail "the slow reader was disconnected: $(field end)"
[ "$(field errors)" = "[]" ] || fail "trades missing, repeated or out of order: $(field errors)"
[ "$(field big_frames)" -ge 4 ] || fail "too few frames over 64 kB to test them: $(field big_frames)"
[ "$(field trades)" -ge 10000 ] || fail "too few trades: $(field trades)"
[ "$peak" -gt 65536 ] || fail "nothing backed up in the simulator while the client paused ($peak bytes)"
[ "$(stat slow_closed)" = 0 ] || fail "the simulator counted a slow client"
! grep -q "slow client" "$cap/exsim.out" || fail "slow-client log line: $(grep "slow client" "$cap/exsim.out")"
stop_sim

# --- a stalled client over the bound (8 MB), a reader beside it -------
start_sim --queue-max 8
$slow read "$cb" BTC-USDT,ETH-USDT 600 >"$cap/read2.json" 2>"$cap/read2.err" &
reader=$!
clients+=($reader)
sleep 1
$slow stall "$cb" BTC-USDT,ETH-USDT "$cap/go" >"$cap/stall.out" 2>"$cap/stall.err" &
staller=$!
clients+=($staller)
for ((i = 0; i < 1200; i++)); do
	[ "$(stat slow_closed 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
[ "$(stat slow_closed)" = 1 ] || fail "the stalled client was not disconnected (backlog $(stat backlog))"
grep "slow client disconnected (1008)" "$cap/exsim.out" || fail "no log line for the stalled client"
# its connection goes (a close frame it cannot read, then cut after 10 s)
for ((i = 0; i < 600; i++)); do
	[ "$(stat connections)" = 1 ] && break
	sleep 0.1
done
[ "$(stat connections)" = 1 ] || fail "the stalled client's connection is still there: $(stat connections)"
touch "$cap/go"
wait $staller
end=$(cat "$cap/stall.out")
echo "stalled client, reading at last: $end"
case "$end" in eof | reset | "close 1008 slow consumer") ;; *) fail "stalled client's end: $end" ;; esac
kill -0 $reader 2>/dev/null || fail "the reader beside it ended: $(cat "$cap/read2.json")"
kill $reader
wait $reader
out=$(cat "$cap/read2.json")
[ -n "$out" ] || fail "the reader beside it printed nothing: $(cat "$cap/read2.err")"
echo "reader beside it: $out"
[ "$(field end)" = open ] || fail "the reader beside the stalled client was disconnected: $(field end)"
[ "$(field errors)" = "[]" ] || fail "the reader beside it: $(field errors)"
[ "$(stat slow_closed)" = 1 ] || fail "more slow clients counted: $(stat slow_closed)"
stop_sim
echo "ok"
