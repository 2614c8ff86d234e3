#!/usr/bin/env bash
# Late data into compressed chunks never stops a feed: the simulator's
# clock starts three days ago, inside chunks of zvt.trades and
# zvt.candles that are compressed and already hold bars (not closed, as
# an earlier outage would leave them) for the minutes it streams.  The
# Binance feed writes its trades (INSERT ... ON CONFLICT DO NOTHING),
# upserts its 1-minute candles (ON CONFLICT DO UPDATE over the compressed
# bars, then over their new versions) and its trade-built candles (new
# rows, then updated) into them: the same feed worker runs throughout, no flush is retried,
# no gap is recorded, the chunks stay compressed, every trade the
# simulator recorded from the first one stored on is stored exactly once
# and every closed candle equals the simulator's kline.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/compression_late
mkdir -p "$cap"
chmod 777 "$cap"
port=$(free_port_range 19970 4)
sim=""

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex6 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex6" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

day="date_trunc('day', now()) - interval '3 days'"
start_ms=$(q -c "SELECT (extract(epoch FROM $day + interval '6 hours') * 1000)::int8")
q -c "CREATE TABLE zvt_saved_ex6 AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps" >/dev/null || fail "setup"
# the day's chunks with older trades and unfinished bars, then compressed
q <<SQL >/dev/null || fail "old rows"
SELECT zvt._ensure_chunk('zvt.trades', $day), zvt._ensure_chunk('zvt.candles', $day);
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
SELECT $day + i * interval '2 seconds', zvt._instrument_id('binance', 'BTC-USDT'), 'old-' || i, 60000 + i % 100, 0.01, 'buy'
  FROM generate_series(0, 9000) i;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, trade_count, closed, source)
SELECT $day + interval '6 hours' + i * interval '1 minute', zvt._instrument_id('binance', 'BTC-USDT'), '1 minute',
       1, 1, 1, 1, 0, 0, false, 'exchange'
  FROM generate_series(-5, 40) i;
SQL
late="NOT is_default AND range_start <= $day AND range_end > $day
      AND hypertable IN ('zvt.trades'::regclass, 'zvt.candles'::regclass)"
q -c "SELECT zvt.compress_chunk(chunk) FROM zvt.chunks WHERE $late" >/dev/null || fail "compress"
q -c "SELECT count(*) FILTER (WHERE compressed) FROM zvt.chunks WHERE $late" | grep -qx 2 ||
	fail "the late day's chunks are not compressed"

log_from=$(($(wc -c <"$ZVT_TEST_DIR/log") + 1))
q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" >/dev/null
# 1200 trades over 10 simulated minutes (2 a simulated second) in 15 s
"$top/zvt-exsim" --port "$port" --exchanges binance --symbols BTC-USDT --rate 80 --speed 40 \
	--start "$start_ms" --count 1200 --duration 120 --record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$port" || fail "the simulator did not start"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" \
  -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'candles_1m')" >/dev/null || fail "subscribe"
poll_until "SELECT count(*) > 0 FROM zvt.trades WHERE trade_id NOT LIKE 'old-%'" t 20 || {
	q -c "SELECT * FROM zvt.feed_status"; grep "zvt feed" "$ZVT_TEST_DIR/log" | tail -20; fail "no late trades from the feed"; }
pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")

# the simulator leaves once every trade is sent; the last batches land
for _ in $(seq 1200); do kill -0 "$sim" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sim" 2>/dev/null && fail "the simulator did not finish"
sim=""
stored=-1
for _ in $(seq 50); do
	n=$(q -c "SELECT count(*), sum(volume) FROM zvt.candles WHERE closed")
	[ "$n" = "$stored" ] && break
	stored=$n
	sleep 0.3
done
now_pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_pid" = "$pid" ] || fail "the feed worker was replaced ($pid -> $now_pid)"
now_retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_retries" = "$retries" ] || fail "the feed retried flushes ($retries -> $now_retries)"
# (a worker that starts after other tests' recent rows opens a "feed worker
# restarted" gap for the time it was off: that one is not this test's)
q -c "SELECT count(*) FROM zvt.feed_gaps WHERE exchange = 'binance' AND reason <> 'feed worker restarted'" \
	| grep -qx 0 || fail "the feed recorded a gap: $(q -c "SELECT reason FROM zvt.feed_gaps WHERE exchange = 'binance'")"
tail -c "+$log_from" "$ZVT_TEST_DIR/log" | grep "ERROR" | grep -q "compressed chunk" &&
	fail "a write into a compressed chunk failed"
q -c "SELECT count(*) FILTER (WHERE compressed AND late_rows > 0) FROM zvt.chunks WHERE $late" | grep -qx 2 ||
	fail "the late rows did not go into the compressed chunks"

q -c "COPY (SELECT trade_id, (extract(epoch FROM ts) * 1000)::int8, price, qty, side FROM zvt.trades
            WHERE trade_id NOT LIKE 'old-%') TO STDOUT" >"$cap/db_trades.tsv"
q -c "COPY (SELECT (extract(epoch FROM ts) * 1000)::int8, open, high, low, close, volume FROM zvt.candles
            WHERE source = 'exchange' AND closed) TO STDOUT" >"$cap/db_candles.tsv"
q -c "SELECT count(*) FROM zvt.trades WHERE trade_id LIKE 'old-%'" | grep -qx 9001 || fail "older trades changed"
# trade-built bars are the stored trades, minute by minute
read -r groups wrong <<<"$(q -F ' ' -c "
  WITH t AS (SELECT zvt.time_bucket('1 minute', ts) AS m, max(price) AS h, min(price) AS l, count(*) AS n
               FROM zvt.trades WHERE trade_id NOT LIKE 'old-%' GROUP BY 1)
  SELECT count(*), count(*) FILTER (WHERE c.ts IS NULL OR c.high <> t.h OR c.low <> t.l OR c.trade_count <> t.n)
    FROM t LEFT JOIN zvt.candles c ON c.ts = t.m AND c.timeframe = '1 minute' AND c.source = 'trades'")"
[ "${groups:-0}" -gt 2 ] && [ "$wrong" = 0 ] || fail "candles from trades: $groups minutes, $wrong wrong"

python3 - "$cap" <<'PY' || fail "stored rows differ from the record"
import json, sys
cap = sys.argv[1]
rec_trades, rec_klines = {}, {}
for l in open(f"{cap}/record.jsonl"):
    r = json.loads(l)
    if r["channel"] == "trades":
        rec_trades[str(r["id"])] = r
    elif r["channel"] == "candles" and r["interval_ms"] == 60000:
        rec_klines[r["ts"]] = r
db = {}
for l in open(f"{cap}/db_trades.tsv"):
    tid, ts, px, qty, side = l.rstrip("\n").split("\t")
    assert tid not in db, f"trade {tid} stored twice"
    db[tid] = (int(ts), float(px), float(qty), side)
first = min(int(t) for t in db)
want = {t for t in rec_trades if int(t) >= first}
assert want == set(db), f"{len(want - set(db))} recorded trades missing, {len(set(db) - want)} not recorded"
for tid, (ts, px, qty, side) in db.items():
    r = rec_trades[tid]
    assert ts == r["ts"] and px == float(r["price"]) and qty == float(r["qty"]) and side == r["side"], (tid, r)
kl = 0
for l in open(f"{cap}/db_candles.tsv"):
    ts, o, h, lo, c, v = l.rstrip("\n").split("\t")
    r = rec_klines.get(int(ts))
    assert r, f"closed candle {ts} not in the record"
    for a, b in ((o, "open"), (h, "high"), (lo, "low"), (c, "close"), (v, "volume")):
        assert abs(float(a) - float(r[b])) <= 1e-9 * max(abs(float(a)), 1), (ts, b, a, r[b])
    kl += 1
assert kl >= 5, f"only {kl} closed candles"
print(f"ok {len(db)} late trades match the record, each once; {kl} closed candles equal the klines")
PY
echo "ok late trades and candle updates into compressed chunks: worker $pid ran on, no retries, no gap"
