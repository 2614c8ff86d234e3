#!/usr/bin/env bash
# Automatic gap repair: trade feeds of Binance, OKX and Coinbase (two
# symbols each) whose connections the simulator drops every
# ZVT_REPAIR_DROP messages, and whose workers are killed with kill -9
# twice (the cluster resets; the batches in memory are lost).  Every
# zvt.feed_gaps row is repaired from REST (trades by id: Binance's
# forward, OKX's and Coinbase's backward from the first trade after the
# gap), and afterwards the stored trades equal the
# simulator's record exactly: the same count, ids, prices, sizes and
# sides, none twice; what the simulator published before the subscription
# comes from a zvt.backfill queued right after it.  A quotes subscription's gaps are closed as not
# repairable.  Default: 6 x 3000 trades, a drop every 1000 messages;
# ZVT_REPAIR_TRADES is the total (ZVT_REPAIR_TRADES=1000000
# ZVT_REPAIR_DROP=50000 ZVT_REPAIR_RATE=1000 runs the issue's size: 1M
# trades, 166,667 a symbol); ZVT_REPAIR_EXCHANGES="binance" runs one.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/gap_repair
mkdir -p "$cap"
port=$(free_port_range 19780 4)
admin=$(free_port $((port + 10)))
read -r -a exchanges <<<"${ZVT_REPAIR_EXCHANGES:-binance okx coinbase}"
nsym=$(( 2 * ${#exchanges[@]} ))
total=${ZVT_REPAIR_TRADES:-18000}
count=$(( (total + nsym - 1) / nsym ))	# trades a symbol
drop=${ZVT_REPAIR_DROP:-1000}
rate=${ZVT_REPAIR_RATE:-300}
# a minute, and a second for every 2000 trades (a run of the issue's size takes long)
slack=$(( 60 + nsym * count / 2000 ))
# the simulator serves REST well past the waits below (its linger ends it
# if the test dies; cleanup kills it): the feeds' 30-s watchdog reconnects
# after the market's end are gaps repaired from REST too
start_ms=$(( $(date +%s) * 1000 ))
exlist=$(IFS=,; echo "${exchanges[*]}")
exarr="ARRAY[$(printf "'%s'," "${exchanges[@]}" | sed 's/,$//')]"

"$top/zvt-exsim" --exchanges "$exlist" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT \
	--start "$start_ms" --rate "$rate" --count "$count" --linger $(( slack * 4 )) --drop-every "$drop" \
	--record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_gr s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_gr" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_wait "$sim" "$port" "$admin" || fail "the simulator did not start"

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_gr AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" \
  -c "SELECT zvt.sync_instruments(e) FROM unnest($exarr) e" \
  -c "SELECT zvt.subscribe(e, s, 'trades') FROM unnest($exarr) e, unnest(ARRAY['BTC-USDT', 'ETH-USDT']) s" \
  -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'quotes')" >/dev/null || fail "setup"
# what was published before the subscription, once the feed streams (so
# the two overlap: the first connection is no gap)
poll_until "SELECT count(DISTINCT instrument_id) FROM zvt.trades" $nsym 30 || fail "the feeds stored nothing"
q -c "SELECT zvt.backfill(e, s, 'trades', to_timestamp($start_ms / 1000.0) - interval '1 minute', now())
        FROM unnest($exarr) e, unnest(ARRAY['BTC-USDT', 'ETH-USDT']) s" >/dev/null || fail "backfill"

reset_wait() {
	sleep 1
	for _ in $(seq 150); do psql -X -qAt -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
}
# two kill -9 of the feed workers, each once they have stored more trades
for k in 1 2; do
	want=$(( nsym * count * k * 2 / 5 ))
	poll_until "SELECT count(*) >= $want FROM zvt.trades" t $(( slack * 2 )) || fail "the feeds stored fewer than $want trades"
	pids=$(q -c "SELECT string_agg(pid::text, ' ') FROM zvt.feed_status WHERE exchange = ANY ($exarr) AND pid IS NOT NULL")
	[ -n "$pids" ] || fail "no feed pid"
	kill -9 $pids
	reset_wait
done

# no drops in the last third: a gap row is written when data resumes, and
# after the market's last trade (--count) none does
curl -s "http://127.0.0.1:$admin/reset" >/dev/null

# the market ends (--count); every gap is repaired and nothing is missing
poll_until "SELECT count(*) FROM zvt.trades" $(( nsym * count )) $slack \
	|| { q -c "SELECT * FROM zvt.backfill_jobs WHERE state <> 'done'"
	     q -c "SELECT exchange, symbol, count(*), min(trade_id::numeric), max(trade_id::numeric) FROM zvt.trades_v GROUP BY 1, 2"
	     q -c "SELECT g.exchange, g.symbol, g.from_ts, g.to_ts, g.reason, g.rows_repaired, g.repair_error FROM zvt.feed_gaps g
	            WHERE g.channel = 'trades' ORDER BY g.exchange, g.symbol, g.from_ts"
	     fail "trades missing after repair"; }
poll_until "SELECT count(*) FILTER (WHERE repaired_at IS NULL) FROM zvt.feed_gaps" 0 $slack \
	|| { q -c "SELECT * FROM zvt.feed_gaps WHERE repaired_at IS NULL"; fail "gaps left unrepaired"; }
q -c "COPY (SELECT exchange, symbol, trade_id, (extract(epoch FROM ts) * 1000)::int8, price, qty, side FROM zvt.trades_v) TO STDOUT" >"$cap/db.tsv"
q -c "COPY (SELECT channel, reason, repair_error, rows_repaired, exchange FROM zvt.feed_gaps) TO STDOUT" >"$cap/gaps.tsv"
python3 "$top/test/integration/trades_exact.py" "$cap" $(( nsym * count )) || fail "stored trades differ from the record"
python3 - "$cap" "$nsym" <<'PY' || fail "gaps not repaired as they should be"
import sys
from collections import Counter
cap, nsym = sys.argv[1], int(sys.argv[2])
gaps = [l.rstrip("\n").split("\t") for l in open(f"{cap}/gaps.tsv")]
trade_gaps = [g for g in gaps if g[0] == "trades"]
restarts = [g for g in trade_gaps if g[1] == "feed worker restarted"]
repaired = sum(int(g[3]) for g in trade_gaps)
assert len(restarts) >= 2 * nsym, f"{len(restarts)} restart gaps (two kills, {nsym} symbols)"
assert all(g[2] == "\\N" for g in trade_gaps), "a trade gap has a repair error"
assert all(g[2] == "not repairable" for g in gaps if g[0] == "quotes"), "a quotes gap is not closed as not repairable"
assert repaired > 0, "no gap needed a row"
print(f"ok: {len(trade_gaps)} trade gaps ({len(restarts)} from restarts, "
      f"{dict(Counter(g[4] for g in trade_gaps))}) "
      f"repaired with {repaired} rows; {len(gaps) - len(trade_gaps)} quotes gaps closed as not repairable")
PY
# the 1m candles built from trades count the repaired ones in their place:
# open and close are the minute's first and last stored trades
read -r groups wrong <<<"$(q -F ' ' -c "
  WITH t AS (SELECT instrument_id, zvt.time_bucket('1 minute', ts) AS m,
                    (array_agg(price ORDER BY ts, trade_id COLLATE \"C\"))[1] AS o, max(price) AS h, min(price) AS l,
                    (array_agg(price ORDER BY ts DESC, trade_id COLLATE \"C\" DESC))[1] AS cl,
                    sum(qty) AS v, count(*) AS n
               FROM zvt.trades GROUP BY 1, 2)
  SELECT count(*), count(*) FILTER (WHERE c.ts IS NULL OR c.open <> t.o OR c.high <> t.h OR c.low <> t.l
                                       OR c.close <> t.cl OR abs(c.volume - t.v) > 1e-9 * t.v OR c.trade_count <> t.n)
    FROM t LEFT JOIN zvt.candles c ON c.instrument_id = t.instrument_id AND c.ts = t.m
                                  AND c.timeframe = '1 minute' AND c.source = 'trades'")"
[ "${groups:-0}" -gt 0 ] && [ "$wrong" = 0 ] || fail "candles from trades after repair: $groups minutes, $wrong wrong"
echo "gap repair: every gap repaired, stored trades equal the record, $groups trade-built candles agree"
