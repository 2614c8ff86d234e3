#!/usr/bin/env bash
# zvt.feed_parse_thread: a feed worker parses on a second thread (two
# threads in /proc) by default and on its main thread (one) when the
# setting is off; either way every trade the simulator sent (ids in its
# record) is stored exactly once, the 1m candles built from the trades
# count them all, and a burst at full speed (the parser thread's ring
# full, the worker waiting on it) loses nothing.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_parse_thread
mkdir -p "$cap"
port=$(free_port_range 19800 4)
sim=""

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex3 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex3" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.feed_parse_thread" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

q -c "CREATE TABLE zvt_saved_ex3 AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  >/dev/null || fail "setup"

# run MODE COUNT RATE: one simulator run of COUNT trades at RATE (0: full
# speed) with zvt.feed_parse_thread = MODE; checks threads and the rows
run() {
	local mode=$1 count=$2 rate=$3 pid threads stored distinct want candle_trades
	q -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" -c "TRUNCATE zvt.trades, zvt.candles" \
	  -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.feed_parse_thread = $mode" \
	  -c "SELECT pg_reload_conf()" >/dev/null || fail "settings"
	# the worker leaves when nothing is subscribed; the setting counts at its start
	poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0" 0 20 ||
		fail "the binance feed did not stop"
	rm -f "$cap/record.jsonl"
	"$top/zvt-exsim" --port "$port" --exchanges binance --symbols BTC-USDT --rate "$rate" \
		--count "$count" --duration 60 --record "$cap/record.jsonl" >"$cap/exsim.$mode.out" 2>&1 &
	sim=$!
	sim_wait "$sim" "$port" || fail "the simulator did not start"
	q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
	poll_until "SELECT count(*) > 0 FROM zvt.trades" t 20 || fail "$mode: no trades"
	pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
	threads=$(ls "/proc/$pid/task" | wc -l)
	if [ "$mode" = on ]; then
		[ "$threads" = 2 ] || fail "parse thread on: the worker has $threads threads, not 2"
	else
		[ "$threads" = 1 ] || fail "parse thread off: the worker has $threads threads, not 1"
	fi
	# the simulator leaves once every trade is sent and its queues drained
	for _ in $(seq 600); do kill -0 "$sim" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$sim" 2>/dev/null && fail "$mode: the simulator did not finish"
	sim=""
	# every recorded trade from the first one stored on lands (a loaded
	# machine can stall the feed for seconds: wait for the count, not for
	# the rows to look still)
	want=$(python3 - "$cap/record.jsonl" "$(q -c "SELECT min(trade_id) FROM zvt.trades")" <<'PY'
import json, sys
first = int(sys.argv[2])
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["channel"] == "trades" and int(json.loads(l)["id"]) >= first))
PY
)
	poll_until "SELECT count(*) >= $want FROM zvt.trades" t 120 || fail "$mode: fewer than the $want recorded trades stored"
	read -r stored distinct < <(q -F ' ' -c "SELECT count(*), count(DISTINCT trade_id) FROM zvt.trades")
	[ "$stored" = "$distinct" ] || fail "$mode: $stored trades stored, $distinct distinct"
	q -c "COPY (SELECT trade_id FROM zvt.trades) TO STDOUT" >"$cap/db.txt"
	# every trade from the first one stored on (the simulator trades before the subscription too)
	python3 - "$cap" <<'PY' || fail "$mode: stored trades differ from the record"
import json, sys
cap = sys.argv[1]
db = {int(l) for l in open(f"{cap}/db.txt")}
rec = {int(json.loads(l)["id"]) for l in open(f"{cap}/record.jsonl") if json.loads(l)["channel"] == "trades"}
first = min(db)
rec = {i for i in rec if i >= first}
assert rec == db, f"{len(rec - db)} recorded trades missing, {len(db - rec)} stored but not recorded"
print(f"{len(db)} trades match the record")
PY
	candle_trades=$(q -c "SELECT sum(trade_count) FROM zvt.candles WHERE source = 'trades'")
	[ "$candle_trades" = "$stored" ] || fail "$mode: the trade-built candles count $candle_trades trades, not $stored"
	echo "ok parse thread $mode: $threads thread(s), $stored trades at rate $rate stored once, candles count them all"
}

run on 3000 500
run off 3000 500
run on 100000 0
echo "feed_parse_thread: on and off, exactly once, a full-speed burst without loss"
