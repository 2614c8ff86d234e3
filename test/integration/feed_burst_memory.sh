#!/usr/bin/env bash
# A feed gives back the memory of a burst (issue 16).  The soak's feeds
# went from 13 to 73 MB of RssAnon holding 200,000-event batches after a
# stall.  Here the Binance feed streams 8,000 trades a second while a
# session holds zvt.trades for 20 s: every flush fails on the lock timeout
# and keeps its batch, which grows with what arrives (as the soak's did
# while its flushes waited); the retries' LOG lines are rate-limited (one
# at once, then at most every 10 s with the retries in between counted).
# Once the lock goes, the batch is written, the next small flush gives its
# array back (ingest_batch_trim) and glibc its free heap pages
# (malloc_trim): the worker's RssAnon must come back to within a quarter of
# the burst's rise above what it was before.  Prints the figures.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_burst_memory
mkdir -p "$cap"
port=$(free_port_range 19930 4)
sim=""
lk=""

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	[ -n "$lk" ] && kill "$lk" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex6 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex6" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET lock_timeout" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

rss() { awk '/RssAnon/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

q -c "CREATE TABLE zvt_saved_ex6 AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET lock_timeout = '200ms'" \
  -c "SELECT pg_reload_conf()" >/dev/null || fail "setup"
poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0" 0 20 ||
	fail "the binance feed did not stop"
loglines=$(wc -l <"$ZVT_TEST_DIR/log")
t0=$(q -c "SELECT now()")   # earlier scripts' trades reuse these ids: look at this run's only

"$top/zvt-exsim" --port "$port" --exchanges binance --symbols BTC-USDT --rate 8000 \
	--duration 300 >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$port" || fail "the simulator did not start"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
# earlier scripts leave trades and a stopped feed's row behind: wait for
# this feed's own connection and for rows from it
poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0 AND state = 'connected'" 1 60 ||
	fail "the binance feed did not connect"
pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ -n "$pid" ] && [ -r "/proc/$pid/status" ] || fail "no binance feed process (pid '$pid')"
n0=$(q -c "SELECT count(*) FROM zvt.trades")
poll_until "SELECT count(*) > $n0 FROM zvt.trades" t 60 || fail "no trades"
sleep 5
before=$(rss "$pid")

q -c "BEGIN" -c "SET LOCAL lock_timeout = 0" -c "LOCK TABLE zvt.trades IN SHARE MODE" \
  -c "SELECT pg_sleep(20)" -c "COMMIT" >/dev/null &
lk=$!
peak=0
for _ in $(seq 40); do
	sleep 0.5
	r=$(rss "$pid")
	[ "$r" -gt "$peak" ] && peak=$r
done
wait "$lk" || fail "the locking session failed"
lk=""
# the batch is written, then a few small flushes
poll_until "SELECT count(*) FROM pg_locks WHERE relation = 'zvt.trades'::regclass AND NOT granted" 0 30 ||
	fail "the feed still waits for zvt.trades"
for _ in $(seq 20); do
	sleep 0.5
	r=$(rss "$pid")
	[ "$r" -gt "$peak" ] && peak=$r
done
after=$(rss "$pid")
echo "feed RssAnon: $before MB before, $peak MB at the burst's peak, $after MB after"
[ $((peak - before)) -ge 20 ] || fail "no burst: the batch grew by only $((peak - before)) MB"
if pg_has_asan; then
	# ASan's allocator keeps freed memory in its quarantine (256 MB) and
	# malloc_trim does not reach it: RSS says nothing there (docs/testing.md)
	echo "ok (memory given back not checked under ASan)"
else
	[ $((after - before)) -le $(((peak - before) / 4)) ] ||
		fail "the burst's memory was not given back: $before -> $peak -> $after MB"
fi

now_pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_pid" = "$pid" ] || fail "the feed worker was replaced ($pid -> $now_pid)"
tail -n +"$((loglines + 1))" "$ZVT_TEST_DIR/log" | grep "zvt feed binance: could not write" >"$cap/retries.log"
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
lines=$(wc -l <"$cap/retries.log")
cat "$cap/retries.log"
[ "$lines" -ge 1 ] || fail "no retry was logged"
[ "$retries" -gt "$lines" ] || fail "$retries retries, $lines LOG lines: not rate-limited"
grep -q "more retries since the last such line" "$cap/retries.log" ||
	fail "the retries between two LOG lines were not counted"
read -r stored distinct < <(q -F ' ' -c "SELECT count(*), count(DISTINCT (instrument_id, trade_id)) FROM zvt.trades WHERE local_ts >= '$t0'")
[ "$stored" -gt 0 ] || fail "no trades stored by this run"
[ "$stored" = "$distinct" ] || fail "$stored trades stored, $distinct distinct"
echo "feed_burst_memory: $retries retries in $lines LOG lines$(pg_has_asan || echo "; the burst's memory given back")"
