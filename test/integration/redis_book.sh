#!/usr/bin/env bash
# test/integration/redis_book.sh: a live order book's top reaches Redis.
#
# The feed worker appends a book event to the market event ring each time
# a live book's best bid or ask (price or size) moves; the Redis publisher
# writes it to the stream zvt:{exchange}:{symbol}:book.  With a Binance
# book subscribed from the simulator: entries flow, each with bid, ask and
# their sizes; once the simulator's book is paused, the stream's last
# entry is zvt.book's top level for level, and no two consecutive entries
# carry the same top.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
command -v redis-server >/dev/null || fail "redis-server is missing (Debian package redis-server)"
cap=$ZVT_TEST_DIR/redis_book
mkdir -p "$cap"
rport=$(free_port 21760)
xport=$(free_port $((rport + 10)))
admin=$(free_port $((xport + 10)))
redis_pid=""
sim=""
cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_rb s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_rb" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.redis_url" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$cap" >"$cap/redis.log" 2>&1 &
redis_pid=$!
rcli() { redis-cli -h 127.0.0.1 -p "$rport" -n 4 "$@"; }
for _ in $(seq 100); do rcli PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
rcli PING | grep -q PONG || fail "redis-server did not start"

"$top/zvt-exsim" --port "$xport" --admin-port "$admin" --exchanges binance --symbols BTC-USDT --rate 20 \
	--duration 300 >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$xport" "$admin" || fail "the simulator did not start"
q -c "CREATE TABLE zvt_saved_ex_rb AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$xport', rest_url = 'http://127.0.0.1:$xport' WHERE name = 'binance'" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.redis_url = 'redis://127.0.0.1:$rport/4'" \
  -c "SELECT pg_reload_conf()" >/dev/null || fail "setup"
poll_until "SELECT connected FROM zvt.redis_status" t 30 || fail "the publisher did not connect"
q -c "SELECT zvt.sync_instruments('binance')" -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'book', depth => 20)" \
	>/dev/null || fail "subscribe"
key=zvt:binance:BTC-USDT:book
poll_until "SELECT live FROM zvt.books WHERE exchange = 'binance' AND symbol = 'BTC-USDT'" t 60 || fail "the book is not live"
for _ in $(seq 100); do [ "$(rcli XLEN "$key")" -ge 20 ] 2>/dev/null && break; sleep 0.2; done
[ "$(rcli XLEN "$key")" -ge 20 ] || fail "fewer than 20 book entries in Redis: $(rcli XLEN "$key")"

# the simulator's book stops; the last entry is zvt.book's top
curl -fs "http://127.0.0.1:$admin/fault?exchange=binance&book_pause=1" >/dev/null || fail "pause the book"
# (both read again each time: an update already on its way when the book
# paused moves both)
got="" expect=""
for _ in $(seq $((100 * ${ZVT_WAIT_SCALE:-1}))); do
	want=$(q -F ' ' -c "SELECT string_agg(price::float8::text || ' ' || size::float8::text, ' ' ORDER BY side)
	                     FROM zvt.book('binance', 'BTC-USDT', 1)")
	[ -n "$want" ] || fail "zvt.book has no top"
	expect=$(echo "$want" | python3 -c "import sys; print(' '.join(str(float(x)) for x in sys.stdin.read().split()))")
	got=$(rcli --raw XREVRANGE "$key" + - COUNT 1 | python3 -c "
import sys
l = [x.strip() for x in sys.stdin if x.strip()]
f = dict(zip(l[1::2], l[2::2]))
print(float(f['ask']), float(f['ask_qty']), float(f['bid']), float(f['bid_qty']))")
	[ "$got" = "$expect" ] && break
	sleep 0.2
done
[ "$got" = "$expect" ] || fail "the last book entry [$got] is not zvt.book's top [$expect]"
# an entry only when the top moved
rcli --raw XRANGE "$key" - + | python3 -c "
import sys
lines = [x.strip() for x in sys.stdin if x.strip()]
entries, cur = [], None
for x in lines:
    if '-' in x and x.replace('-', '').isdigit():
        cur = {}
        entries.append(cur)
        last = None
    elif last is None:
        last = x
    else:
        cur[last] = x
        last = None
tops = [(e.get('bid'), e.get('bid_qty'), e.get('ask'), e.get('ask_qty')) for e in entries]
same = sum(1 for a, b in zip(tops, tops[1:]) if a == b)
assert same == 0, f'{same} entries repeat the top before them'
print(f'ok {len(tops)} book entries, each a new top')
" || fail "book entries repeat their top"
echo "ok the book's top reaches Redis ($key), the last entry equal to zvt.book"
