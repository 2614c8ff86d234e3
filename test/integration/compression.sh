#!/usr/bin/env bash
# Compressed chunks with the workers and pg_dump:
#  - a feed keeps running across compression policy runs: the Binance
#    feed streams trades from the simulator into today's chunk while the
#    maintenance worker compresses older chunks of zvt.trades and
#    zvt.candles by their policies; the same feed worker runs on, no flush
#    is retried, and every trade the simulator recorded from the first
#    one stored on is in zvt.trades exactly once;
#  - late trades written the feeds' way (INSERT ... ON CONFLICT DO
#    NOTHING) into the compressed range go in, duplicates are skipped,
#    and the worker merges them by compressing the chunk again;
#  - pg_dump / pg_restore of a database with a compressed chunk: the
#    restored chunk is compressed, holds the same rows, and the
#    maintenance worker of the restored database merges its restored
#    batches.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/compression
mkdir -p "$cap"
chmod 777 "$cap"
port=$(free_port_range 19950 4)
admin=$(free_port $((port + 10)))
sim=""
BIN=$PGBIN

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex5 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex5" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "SELECT zvt.remove_compression_policy('zvt.trades', true)" \
	  -c "SELECT zvt.remove_compression_policy('zvt.candles', true)" \
	  -c "SELECT pg_reload_conf()" >/dev/null 2>&1
	q -d postgres -c "DROP DATABASE IF EXISTS zcz_src WITH (FORCE)" -c "DROP DATABASE IF EXISTS zcz_copy WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

# --- a feed across policy runs ------------------------------------------------
q -c "CREATE TABLE zvt_saved_ex5 AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles" >/dev/null || fail "setup"
# old rows: three days ending two days ago, in chunks made the feeds' way
q <<'SQL' >/dev/null || fail "old rows"
SELECT zvt._ensure_chunk('zvt.trades', d), zvt._ensure_chunk('zvt.candles', d)
  FROM generate_series(date_trunc('day', now()) - interval '4 days', date_trunc('day', now()) - interval '2 days', '1 day') d;
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
SELECT date_trunc('day', now()) - interval '4 days' + i * interval '13 seconds',
       zvt._instrument_id('binance', 'BTC-USDT'), 'old-' || i, 60000 + i % 100, 0.01, 'buy'
  FROM generate_series(0, 19000) i;
SQL
q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" >/dev/null
# the market streams until the policy runs below are over (GET /end)
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --exchanges binance --symbols BTC-USDT --rate 100 \
	--duration 300 --record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$port" "$admin" || fail "the simulator did not start"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
poll_until "SELECT count(*) > 0 FROM zvt.trades WHERE ts > now() - interval '1 hour'" t 20 || fail "no trades from the feed"
pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
q -c "SELECT zvt.add_compression_policy('zvt.trades', '1 day')" \
  -c "SELECT zvt.add_compression_policy('zvt.candles', '1 day')" >/dev/null || fail "policies"
old="hypertable = 'zvt.trades'::regclass AND NOT is_default AND range_end <= date_trunc('day', now()) - interval '1 day'"
poll_until "SELECT count(*) FILTER (WHERE NOT compressed) = 0 AND count(*) >= 3 FROM zvt.chunks WHERE $old" t 60 ||
	fail "the worker did not compress the old chunks"
q -c "SELECT sum(rows_after) FROM zvt.chunks WHERE $old" | grep -qx 19001 || fail "compressed chunks lost rows"

# late trades the feeds' way: a duplicate is skipped, a new one goes in
q -c "INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
      SELECT ts, instrument_id, trade_id, price, qty, side FROM zvt.trades WHERE trade_id = 'old-7'
      UNION ALL SELECT date_trunc('day', now()) - interval '3 days', zvt._instrument_id('binance', 'BTC-USDT'), 'late-1', 1, 1, 'sell'
      ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING" >/dev/null || fail "late trades"
q -c "SELECT count(*) FROM zvt.trades WHERE trade_id IN ('old-7', 'late-1')" | grep -qx 2 || fail "late trades not stored once"
# once late rows reach 5% of their chunk's rows, a pass compresses it again
q -c "INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
      SELECT date_trunc('day', now()) - interval '3 days' + i * interval '1 ms', zvt._instrument_id('binance', 'BTC-USDT'),
             'late-m' || i, 2, 2, 'buy' FROM generate_series(1, 400) i
      ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING" >/dev/null || fail "more late trades"
poll_until "SELECT sum(late_rows) FROM zvt.chunks WHERE $old" 0 60 || fail "the worker did not merge the late rows"

# the policy runs are over: the market ends (the simulator streamed all
# along), the last batches land, then the simulator goes
kill -0 "$sim" 2>/dev/null || fail "the simulator stopped before the policy runs were over"
curl -fs "http://127.0.0.1:$admin/end?exchange=all" >/dev/null || fail "end the market"
stored=-1
for _ in $(seq 50); do
	n=$(q -c "SELECT count(*) FROM zvt.trades WHERE ts > now() - interval '1 day'")
	[ "$n" = "$stored" ] && break
	stored=$n
	sleep 0.3
done
kill "$sim"
wait "$sim" 2>/dev/null
sim=""
now_pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_pid" = "$pid" ] || fail "the feed worker was replaced ($pid -> $now_pid)"
now_retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_retries" = "$retries" ] || fail "the feed retried flushes ($retries -> $now_retries)"
q -c "COPY (SELECT trade_id FROM zvt.trades WHERE ts > now() - interval '1 day') TO STDOUT" >"$cap/db.txt"
python3 - "$cap" <<'PY' || fail "stored trades differ from the record"
import json, sys
cap = sys.argv[1]
ids = [int(l) for l in open(f"{cap}/db.txt")]
db = set(ids)
assert len(ids) == len(db), "a trade is stored twice"
rec = {int(json.loads(l)["id"]) for l in open(f"{cap}/record.jsonl") if json.loads(l)["channel"] == "trades"}
rec = {i for i in rec if i >= min(db)}
assert rec == db, f"{len(rec - db)} recorded trades missing, {len(db - rec)} stored but not recorded"
print(f"{len(db)} streamed trades match the record")
PY
echo "ok the feed ran across the policy runs (worker $pid, no retries), late trades merged"
q -c "SELECT zvt.remove_compression_policy('zvt.trades')" -c "SELECT zvt.remove_compression_policy('zvt.candles')" \
  -c "DELETE FROM zvt.subscriptions" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null

# --- pg_dump and pg_restore ---------------------------------------------------
q -d postgres -c "CREATE DATABASE zcz_src" >/dev/null || fail "create zcz_src"
q -d zcz_src <<'SQL' >/dev/null || fail "fill zcz_src"
CREATE EXTENSION zvt;
CREATE TABLE ticks (ts timestamptz NOT NULL, sym text, px float8, note text, UNIQUE (sym, ts));
SELECT zvt.create_hypertable('ticks', 'ts', '1 day');
SELECT zvt._ensure_chunk('ticks', '2005-01-01');
INSERT INTO ticks SELECT '2005-01-01'::timestamptz + i * interval '1 s', 's' || (i % 3),
       CASE WHEN i % 50 = 0 THEN 'NaN' ELSE i * 0.5 END, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END
  FROM generate_series(1, 20000) i;
SELECT zvt.add_compression_policy('ticks', '30 days', segment_by => '{sym}');
SELECT zvt.compress_chunk(c) FROM zvt.show_chunks('ticks', older_than => timestamptz '2006-01-01') c;
SQL
sum="SELECT md5(string_agg(t::text, ',' ORDER BY ts, sym)) FROM ticks t"
want=$(q -d zcz_src -c "$sum")
"$BIN/pg_dump" -Fc -f "$cap/zcz.dump" zcz_src 2>"$cap/dump.err" || { cat "$cap/dump.err"; fail "pg_dump"; }
[ -s "$cap/dump.err" ] && { cat "$cap/dump.err"; fail "pg_dump wrote to stderr"; }
q -d postgres -c "CREATE DATABASE zcz_copy" >/dev/null
"$BIN/pg_restore" -d zcz_copy "$cap/zcz.dump" 2>"$cap/restore.err" || { cat "$cap/restore.err"; fail "pg_restore"; }
[ -s "$cap/restore.err" ] && { cat "$cap/restore.err"; fail "pg_restore wrote to stderr"; }
[ "$(q -d zcz_copy -c "$sum")" = "$want" ] || fail "the restored rows differ"
q -d zcz_copy -c "SELECT compressed, rows_after FROM zvt.chunks WHERE hypertable = 'ticks'::regclass AND NOT is_default
                  AND range_start = '2005-01-01'" | grep -qx 't|20000' || fail "the restored chunk is not compressed"
q -d zcz_copy -c "SELECT count(*) FROM zvt._compression_settings" | grep -qx 1 || fail "the policy was not restored"
# the restored rows came in as late batches: a maintenance pass merges them
q -d zcz_copy -c "CALL zvt.run_maintenance()" >/dev/null || fail "maintenance of the copy"
q -d zcz_copy -c "SELECT late_rows, rows_after FROM zvt.chunks WHERE hypertable = 'ticks'::regclass
                  AND range_start = '2005-01-01'" | grep -qx '0|20000' || fail "the copy's batches were not merged"
[ "$(q -d zcz_copy -c "$sum")" = "$want" ] || fail "the merged rows differ"
echo "ok pg_dump and pg_restore keep the compressed chunk, its rows and its policy"
