#!/usr/bin/env bash
# What a gap repair reads does not grow with the table (bench/soak: after
# 53 minutes each repair took seconds of every core and place_order's p99
# went from milliseconds to seconds).  Mapping a gap onto the exchange's
# ids looked for the last trade received before it and the first after
# by ordering the instrument's trades of two days by local_ts: every one
# of them read and sorted, four times, in parallel workers with JIT.
#
# Here the instrument has ZVT_COST_ROWS (300,000) older trades within a
# day of the gap; the Binance feed streams, the simulator drops its
# connection, the backfill worker repairs the gap and exits.  The tuples
# the repair read from zvt.trades' partitions (pg_stat_all_tables, which
# the worker and any parallel workers report as they exit) must be far
# fewer than those rows: a count, not a time.  The repair itself is
# checked too: the gap is repaired and no trade is stored twice.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/gap_repair_cost
mkdir -p "$cap"
port=$(free_port_range 19860 4)
admin=$(free_port $((port + 10)))
rows=${ZVT_COST_ROWS:-300000}

"$top/zvt-exsim" --exchanges binance --port "$port" --admin-port "$admin" --symbols BTC-USDT \
	--rate 20 >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_gc s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_gc" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" \
	  -c "TRUNCATE zvt.trades, zvt.candles, zvt.feed_gaps, zvt._backfill_jobs" >/dev/null 2>&1
}
trap cleanup EXIT
sim_wait "$sim" "$port" "$admin" || fail "the simulator did not start"

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_gc AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "SELECT zvt.sync_instruments('binance')" >/dev/null || fail "setup"
# the older trades: received when they happened, 20 to 1 hours ago
q -c "SELECT zvt._ensure_chunk('zvt.trades', now() - interval '20 hours'), zvt._ensure_chunk('zvt.trades', now() - interval '1 hour')" \
  -c "INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
      SELECT t, i.id, 'old' || g, 100, 1, 'buy', t
        FROM zvt.instruments i, generate_series(1, $rows) g,
             LATERAL (SELECT now() - interval '20 hours' + (g * interval '19 hours') / $rows AS t) x
       WHERE i.exchange = 'binance' AND i.symbol = 'BTC-USDT'" \
  -c "ANALYZE zvt.trades" >/dev/null || fail "loading the older trades"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
poll_until "SELECT count(*) > 20 FROM zvt.trades WHERE trade_id NOT LIKE 'old%'" t 60 || fail "the feed stored nothing"

# tuples read from zvt.trades' partitions, as reported so far
reads="SELECT sum(coalesce(s.seq_tup_read, 0) + coalesce(s.idx_tup_fetch, 0))
         FROM pg_stat_all_tables s JOIN pg_inherits i ON i.inhrelid = s.relid
        WHERE i.inhparent = 'zvt.trades'::regclass"
before=$(q -c "$reads")
curl -s "http://127.0.0.1:$admin/drop?exchange=binance" >/dev/null || fail "the simulator's admin port"
# (the older trades, received an hour ago, also give the feed's start a
# restart gap, repaired at once: the drop's is the one to wait for)
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE channel = 'trades' AND reason <> 'feed worker restarted'
              AND repaired_at IS NOT NULL" 1 120 \
	|| { q -c "SELECT * FROM zvt.feed_gaps" -c "SELECT * FROM zvt._backfill_jobs" >&2; fail "the gap was not repaired"; }
# the worker (and any parallel worker) reports its reads as it exits
poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('zvt backfill', 'parallel worker')" 0 60 \
	|| fail "the backfill worker did not exit"
after=$(q -c "$reads")
read_rows=$(( after - before ))
echo "the repair read $read_rows tuples of zvt.trades ($rows older trades of the instrument)"
[ "$read_rows" -lt $(( rows / 10 )) ] || fail "the repair read $read_rows tuples: it scans the instrument's trades"

# a gap the feed opened after the first (a second reconnect) is repaired too, in its turn
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE channel = 'trades' AND repaired_at IS NULL AND repair_error IS NULL" 0 120 \
	|| { q -c "SELECT * FROM zvt.feed_gaps" -c "SELECT * FROM zvt._backfill_jobs" >&2; fail "a later gap was not repaired"; }
q -c "SELECT count(*) - count(DISTINCT trade_id) FROM zvt.trades" | grep -qx 0 || fail "a trade stored twice"
q -c "SELECT count(*) FROM zvt.feed_gaps WHERE channel = 'trades' AND (repair_error IS NOT NULL OR repaired_at IS NULL)" \
	| grep -qx 0 || fail "a gap failed: $(q -c "SELECT id, from_ts, to_ts, reason, repaired_at, repair_error FROM zvt.feed_gaps")"
echo "ok"
