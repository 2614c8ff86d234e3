#!/usr/bin/env bash
# A gap's repair bounds are not fooled by rows a backfill wrote after the
# gap (issue 16: gap_repair.sh lost 106 Binance trades once, and 6
# Coinbase trades a symbol another time, on a loaded machine; the gap
# closed with rows_repaired = 0).  A repair's range ended at "the first
# row after the gap": the oldest stored after the last one before it,
# among rows received at or after the gap's end (local_ts >= to_ts).  A
# backfill's rows carry the time they were written, so a backfill (or
# another gap's repair) writing the trades just after the gap's start
# once the gap had ended put its first row there: the repair then
# covered nothing, or only the hole up to that row, and the trades
# between the backfill's last row and the feed's first after the gap
# were never stored.
#
# Deterministic: the simulator's market (three exchanges, paging forward
# by id on Binance, backward on OKX and Coinbase, OKX 100 trades a page)
# is backfilled whole, then each symbol's rows are made what the feed
# and a backfill would have left, and a feed_gaps row is added:
#   BTC: received before the gap, a backfill's rows written after it,
#        a hole, the feed's rows after the gap (80 missing);
#   SOL: before, a hole, a backfill's rows, a hole, after (80 missing);
#   ETH: before, a backfill's rows, after: nothing missing.
# After the repair every trade of the market is stored exactly once, the
# rows_repaired are 80, 80 and 0, and the stored trades equal the
# simulator's record.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/gap_repair_bounds
mkdir -p "$cap"
port=$(free_port_range 19880 4)
admin=$(free_port $((port + 10)))
count=400	# trades a symbol
start_ms=$(( $(date +%s) * 1000 ))

"$top/zvt-exsim" --exchanges binance,okx,coinbase --port "$port" --admin-port "$admin" \
	--symbols BTC-USDT,ETH-USDT,SOL-USDT --start "$start_ms" --rate 400 --count "$count" --linger 300 \
	--record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_gb s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_gb" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" \
	  -c "TRUNCATE zvt.trades, zvt.candles, zvt.feed_gaps, zvt._backfill_jobs" >/dev/null 2>&1
}
trap cleanup EXIT
sim_wait "$sim" "$port" $((port + 2)) $((port + 3)) "$admin" || fail "the simulator did not start"

# zvt.feeds on (the launcher runs the backfill worker), no subscription (no feed)
q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_gb AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" \
  -c "SELECT zvt.sync_instruments(e) FROM unnest(ARRAY['binance', 'okx', 'coinbase']) e" >/dev/null || fail "setup"

# the whole market (it ends after $count trades a symbol), backfilled
for _ in $(seq 300); do
	[ "$(curl -s "http://127.0.0.1:$admin/stats" | grep -o "\"trades\":$count," | wc -l)" = 3 ] && break
	sleep 0.2
done
q -c "SELECT zvt.backfill(e, s, 'trades', to_timestamp($start_ms / 1000.0) - interval '1 minute', now())
        FROM unnest(ARRAY['binance', 'okx', 'coinbase']) e, unnest(ARRAY['BTC-USDT', 'ETH-USDT', 'SOL-USDT']) s" >/dev/null \
	|| fail "backfill"
poll_until "SELECT count(*) FROM zvt.backfill_jobs WHERE state = 'done'" 9 120 \
	|| { q -c "SELECT * FROM zvt.backfill_jobs"; fail "the market was not backfilled"; }
poll_until "SELECT count(*) FROM zvt.trades" $(( 9 * count )) 30 \
	|| { q -c "SELECT exchange, symbol, count(*) FROM zvt.trades_v GROUP BY 1, 2"; fail "the backfill missed trades"; }

# what the feed and a backfill left: rows by position in id order (0-based),
# received (local_ts) before the gap, by the feed after it, or written by
# a backfill after it
now=$(q -c "SELECT now()")
pos="SELECT t.instrument_id, t.trade_id, t.ts, i.symbol,
             row_number() OVER (PARTITION BY t.instrument_id ORDER BY t.trade_id::int8) - 1 AS pos
        FROM zvt.trades t JOIN zvt.instruments i ON i.id = t.instrument_id"
q -c "DELETE FROM zvt.trades t USING ($pos) r
       WHERE t.instrument_id = r.instrument_id AND t.trade_id = r.trade_id AND t.ts = r.ts
         AND ((r.symbol = 'BTC-USDT' AND r.pos BETWEEN 120 AND 199)
           OR (r.symbol = 'SOL-USDT' AND (r.pos BETWEEN 100 AND 119 OR r.pos BETWEEN 140 AND 199)))" \
  -c "UPDATE zvt.trades t
         SET local_ts = '$now'::timestamptz - CASE WHEN r.pos < 100 THEN interval '60 s'   -- received before the gap
                                     WHEN r.pos < 200 THEN interval '20 s'   -- a backfill's, written after it
                                     ELSE interval '40 s' END                -- the feed's after the gap
        FROM ($pos) r WHERE t.instrument_id = r.instrument_id AND t.trade_id = r.trade_id AND t.ts = r.ts" \
  >/dev/null || fail "shaping the rows"
missing=$(q -c "SELECT 9 * $count - count(*) FROM zvt.trades")
[ "$missing" = $(( 3 * 160 )) ] || fail "$missing trades removed, not 480"
q -c "INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason)
      SELECT e, s, 'trades', '$now'::timestamptz - interval '60 s', '$now'::timestamptz - interval '40 s',
             'feed worker restarted'
        FROM unnest(ARRAY['binance', 'okx', 'coinbase']) e, unnest(ARRAY['BTC-USDT', 'ETH-USDT', 'SOL-USDT']) s" \
  -c "SELECT zvt._backfill_wake()" >/dev/null || fail "gap rows"	# as the feed does when it writes them
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE repaired_at IS NOT NULL OR repair_error IS NOT NULL" 9 120 \
	|| { q -c "SELECT * FROM zvt.feed_gaps" -c "SELECT * FROM zvt.backfill_jobs WHERE gap_id IS NOT NULL"; fail "gaps not repaired"; }
q -c "SELECT exchange, symbol, rows_repaired, repair_error FROM zvt.feed_gaps ORDER BY 1, 2" >"$cap/gaps.txt"
want="binance|BTC-USDT|80|
binance|ETH-USDT|0|
binance|SOL-USDT|80|
coinbase|BTC-USDT|80|
coinbase|ETH-USDT|0|
coinbase|SOL-USDT|80|
okx|BTC-USDT|80|
okx|ETH-USDT|0|
okx|SOL-USDT|80|"
[ "$(cat "$cap/gaps.txt")" = "$want" ] || { cat "$cap/gaps.txt"; q -c "SELECT exchange, symbol, count(*) FROM zvt.trades_v GROUP BY 1, 2 ORDER BY 1, 2"; fail "rows repaired (exchange|symbol|rows|error) differ from 80, 0, 80"; }

# exactly the simulator's record (written out when it exits), none twice
q -c "COPY (SELECT exchange, symbol, trade_id, (extract(epoch FROM ts) * 1000)::int8, price, qty, side FROM zvt.trades_v) TO STDOUT" >"$cap/db.tsv"
kill $sim
wait $sim 2>/dev/null
python3 "$top/test/integration/trades_exact.py" "$cap" $(( 9 * count )) || fail "stored trades differ from the record"
echo "gap repair bounds: rows a backfill wrote after a gap do not end its repair early"
