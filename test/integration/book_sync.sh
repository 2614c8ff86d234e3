#!/usr/bin/env bash
# L2 order books against the simulator, on all four exchanges: after
# thousands of book messages zvt.book equals the book the simulator last
# published (its admin /book), level for level; an injected sequence skip
# (each exchange) and a corrupt OKX checksum each cause exactly one resync
# (zvt.feed_status.book_resyncs) and one zvt.feed_gaps row of channel
# book, after which the book is equal again; zvt.book_snapshots rows are
# written, and zvt.book_at returns a stored book level for level; paper
# market orders larger than the best level fill at the VWAP of the levels
# they take.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/book_sync
mkdir -p "$cap"
port=$(free_port_range 19760 4)
admin=$(free_port $((port + 10)))
exchanges="binance bybit okx coinbase"

# a book message every 5 ms per symbol and exchange (the simulator's tick)
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT \
	--rate 200 --book-ms 5 --duration 400 >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_book s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_book" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.book_snapshot_interval" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_up "$sim" "$port" "$admin"
fault() { curl -s "http://127.0.0.1:$admin/fault?$1" >/dev/null || fail "fault $1"; }

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.book_snapshot_interval = '200ms'" \
  -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_book AS SELECT * FROM zvt.exchanges" \
  -c "TRUNCATE zvt.feed_gaps, zvt.book_snapshots" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" >/dev/null || fail "setup"
q -c "SELECT zvt.sync_instruments(e) FROM unnest(string_to_array('$exchanges', ' ')) e" >/dev/null || fail "sync"
for ex in $exchanges; do
	q -c "SELECT zvt.subscribe('$ex', 'BTC-USDT', 'book')" >/dev/null || fail "subscribe $ex"
done
q -c "SELECT zvt.subscribe('bybit', 'ETH-USDT', 'book', depth => 200)" >/dev/null || fail "subscribe bybit depth 200"

resyncs() { q -c "SELECT book_resyncs FROM zvt.feed_status WHERE exchange = '$1'"; }
declare -A r0
for ex in $exchanges; do r0[$ex]=$(resyncs "$ex"); done

# thousands of messages applied on every exchange
poll_until "SELECT count(*) FROM zvt.books WHERE symbol = 'BTC-USDT' AND live AND updates >= 2000" 4 120 \
	|| { q -c "SELECT * FROM zvt.books"; fail "books did not reach 2000 updates"; }

# compare EX: pause the simulator's books, wait until zvt.book equals its last published book
compare() {
	local ex=$1 sym=${2:-BTC-USDT} i
	fault "exchange=$ex&book_pause=1"
	for ((i = 0; i < 100; i++)); do
		curl -s "http://127.0.0.1:$admin/book?exchange=$ex&symbol=$sym" >"$cap/sim_$ex.json"
		q -c "SELECT side, price, size FROM zvt.book('$ex', '$sym', 1000)" >"$cap/zvt_$ex.txt"
		python3 - "$cap/sim_$ex.json" "$cap/zvt_$ex.txt" <<'PY' && break
import json, sys
sim = json.load(open(sys.argv[1]))
want = [f"bid|{p}|{q}" for p, q in sim["bids"]] + [f"ask|{p}|{q}" for p, q in sim["asks"]]
got = open(sys.argv[2]).read().split()
sys.exit(0 if got == want and len(want) == 100 else 1)
PY
		sleep 0.1
	done
	[ $i -lt 100 ] || fail "$ex $sym: zvt.book differs from the simulator's book (see $cap/sim_$ex.json, $cap/zvt_$ex.txt)"
}
for ex in $exchanges; do compare "$ex"; done
echo "books equal on all four exchanges after $(q -c "SELECT min(updates) FROM zvt.books WHERE symbol = 'BTC-USDT'") messages or more"

# history: with the books paused, a snapshot row written since (every
# 200 ms) equals the live book
for ex in $exchanges; do
	live=$(q -c "SELECT string_agg(side || level || ':' || price || '@' || size, ' ') FROM zvt.book('$ex', 'BTC-USDT', 50)")
	[ -n "$live" ] || fail "$ex: no live book"
	poll_until "SELECT string_agg(side || level || ':' || price || '@' || size, ' ') FROM zvt.book_at('$ex', 'BTC-USDT', now())" \
		"$live" 20 || fail "$ex: zvt.book_at(now()) differs from the paused live book"
	at5=$(q -c "SELECT count(*) FROM zvt.book_at('$ex', 'BTC-USDT', now(), 5)")
	[ "$at5" = 10 ] || fail "$ex: book_at with depth 5 gave $at5 levels"
done
n=$(q -c "SELECT count(*) FROM zvt.book_snapshots")
[ "$n" -gt 8 ] || fail "only $n book snapshot rows"
fault "exchange=all&book_pause=0"

# one sequence skip per exchange: exactly one resync and one gap each
for ex in $exchanges; do
	[ "$(resyncs "$ex")" = "${r0[$ex]}" ] || fail "$ex resynced without a fault"
	fault "exchange=$ex&skip_seq=3"
done
for ex in $exchanges; do
	poll_until "SELECT book_resyncs FROM zvt.feed_status WHERE exchange = '$ex'" $((r0[$ex] + 1)) 30 \
		|| fail "$ex: a sequence skip did not resync"
	# (a feed started after earlier tests' rows also opens a "feed worker
	# restarted" gap per subscription: not this one)
	poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE exchange = '$ex' AND channel = 'book' AND to_ts IS NOT NULL
	             AND reason <> 'feed worker restarted'" 1 30 \
		|| fail "$ex: no book gap recorded"
done
sleep 1
for ex in $exchanges; do
	[ "$(resyncs "$ex")" = $((r0[$ex] + 1)) ] || fail "$ex: more than one resync for one skip"
	q -c "SELECT reason FROM zvt.feed_gaps WHERE exchange = '$ex' AND channel = 'book'" | grep -q 'sequence gap' \
		|| fail "$ex: the gap does not say sequence gap"
	compare "$ex"
	fault "exchange=$ex&book_pause=0"
done

# a corrupt OKX checksum: one more resync and one more gap
fault "exchange=okx&bad_checksum=1"
poll_until "SELECT book_resyncs FROM zvt.feed_status WHERE exchange = 'okx'" $((r0[okx] + 2)) 30 \
	|| fail "okx: a corrupt checksum did not resync"
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE exchange = 'okx' AND channel = 'book' AND reason LIKE 'checksum mismatch%'" 1 30 \
	|| fail "okx: no checksum gap"
sleep 1
[ "$(resyncs okx)" = $((r0[okx] + 2)) ] || fail "okx: more than one resync for one corrupt checksum"
compare okx

# a deeper book on Bybit: 50 levels a side is all the simulator has
compare bybit ETH-USDT
[ "$(q -c "SELECT depth FROM zvt.books WHERE exchange = 'bybit' AND symbol = 'ETH-USDT'")" = 200 ] || fail "bybit depth"

# paper fills walk the book: with Binance's book paused, a market order
# larger than the best level fills across levels at their VWAP
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'quotes')" \
  -c "SELECT 1 FROM zvt.create_account('bookwalk', exchange => 'binance', initial_cash => 1e9)" >/dev/null \
	|| fail "paper account"
poll_until "SELECT zvt.last_price('binance', 'BTC-USDT') IS NOT NULL OR EXISTS (SELECT FROM zvt.tickers WHERE exchange = 'binance' AND ask IS NOT NULL)" t 20 \
	|| fail "no binance quote on the bus"
compare binance
s1=$(q -c "SELECT size FROM zvt.book('binance', 'BTC-USDT', 1) WHERE side = 'ask'")
t2=$(q -c "SELECT trunc(size / 2, 5) FROM zvt.book('binance', 'BTC-USDT', 2) WHERE side = 'ask' AND level = 2")
qty=$(q -c "SELECT $s1 + $t2")
want=$(q -c "WITH b AS (SELECT * FROM zvt.book('binance', 'BTC-USDT', 2) WHERE side = 'ask')
             SELECT trim_scale((min(price) FILTER (WHERE level = 1) * $s1 + min(price) FILTER (WHERE level = 2) * ($qty - $s1)) / $qty) FROM b")
# the fill's price (avg_fill_price is rounded to 10 decimals)
fill() {
	local id
	id=$(q -c "SELECT order_id FROM zvt.place_order($1)") \
		&& q -c "SELECT coalesce(string_agg(price::text, ','), (SELECT status || ': ' || coalesce(reason, '') FROM zvt.orders WHERE order_id = $id))
		           FROM zvt.fills WHERE order_id = $id"
}
got=$(fill "'bookwalk', 'binance', 'BTC-USDT', 'buy', $qty")
[ "$got" = "$want" ] || fail "market buy of $qty: got [$got], want the VWAP [$want]"
best=$(q -c "SELECT price FROM zvt.book('binance', 'BTC-USDT', 1) WHERE side = 'ask'")
[ "$(q -c "SELECT $want > $best")" = t ] || fail "the VWAP $want is not above the best ask $best"
# a sell across three bid levels, and a limit buy that may take only the first ask level
want=$(q -c "WITH b AS (SELECT * FROM zvt.book('binance', 'BTC-USDT', 3) WHERE side = 'bid')
             SELECT trim_scale(sum(price * size) / sum(size)) || ' ' || sum(size) FROM b")
sellqty=${want#* }
fill "'bookwalk', 'binance', 'BTC-USDT', 'buy', $sellqty" >/dev/null	# a spot account sells what it holds
got=$(fill "'bookwalk', 'binance', 'BTC-USDT', 'sell', $sellqty")
[ "$got" = "${want% *}" ] || fail "market sell of $sellqty: got [$got], want [${want% *}]"
# the limit is marketable by the bus's ask: stop the quotes so that it holds still
q -c "SELECT zvt.unsubscribe('binance', 'BTC-USDT', 'quotes')" >/dev/null
# the feed unsubscribes at its next tick: wait for a second without a new quote
q -c "SELECT quote_ts FROM zvt.tickers WHERE exchange = 'binance' AND symbol = 'BTC-USDT'" >"$cap/q1"
still=
for _ in $(seq $((20 * ${ZVT_WAIT_SCALE:-1}))); do
	sleep 1
	q -c "SELECT quote_ts FROM zvt.tickers WHERE exchange = 'binance' AND symbol = 'BTC-USDT'" >"$cap/q2"
	cmp -s "$cap/q1" "$cap/q2" && { still=1; break; }
	mv "$cap/q2" "$cap/q1"
done
[ -n "$still" ] || fail "the bus's quote still moves 20 s after unsubscribing"
lim=$(q -c "SELECT greatest(t.ask::numeric, b.price) FROM zvt.tickers t, zvt.book('binance', 'BTC-USDT', 1) b
             WHERE t.exchange = 'binance' AND t.symbol = 'BTC-USDT' AND b.side = 'ask'")
want=$(q -c "WITH a AS (SELECT * FROM zvt.book('binance', 'BTC-USDT', 50) WHERE side = 'ask' AND price <= $lim),
                  x AS (SELECT size FROM zvt.book('binance', 'BTC-USDT', 1) WHERE side = 'ask')
             SELECT trim_scale((sum(a.price * a.size) + $lim * x.size) / (sum(a.size) + x.size)) || ' ' || sum(a.size) + x.size
               FROM a, x GROUP BY x.size")
got=$(fill "'bookwalk', 'binance', 'BTC-USDT', 'buy', ${want#* }, 'limit', price => $lim")
[ "$got" = "${want% *}" ] || fail "marketable limit at $lim: got [$got], want [${want% *}]"
fault "exchange=binance&book_pause=0"
echo "paper: a market buy of $qty filled at the VWAP of two ask levels"

# unsubscribing gives the slot back
q -c "SELECT zvt.unsubscribe('coinbase', 'BTC-USDT', 'book')" >/dev/null
poll_until "SELECT count(*) FROM zvt.books WHERE exchange = 'coinbase'" 0 20 || fail "coinbase book still live after unsubscribe"
# a feed worker that stops leaves no live book behind (paper fills would walk it)
q -c "ALTER SYSTEM SET zvt.feeds = off" -c "SELECT pg_reload_conf()" >/dev/null
poll_until "SELECT count(*) FROM zvt.books WHERE live OR bids > 0" 0 30 || fail "books still live after the feeds stopped"
echo "book sync: equal books on four exchanges, one resync and one gap per skip and per bad checksum, book_at from snapshots"
