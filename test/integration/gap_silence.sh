#!/usr/bin/env bash
# A drop followed by silence: the trades an exchange published while the
# connection was down are stored even when no trade follows the
# reconnection (a gap used to be written only when data resumed, so they
# stayed unknown).  Binance (trades by id, forward) and OKX (backward):
#
# 1. the simulator stalls (sends nothing, ignores requests) while its
#    market goes on; zvt's watchdog drops and reconnects; once trades were
#    published that zvt never received, the market ends (silence) and the
#    stall is lifted.  Every trade published since zvt's first is stored
#    exactly once, and the gaps are repaired with the missed rows.
# 2. a drop in the silent market: the reconnection writes a gap, whose
#    repair (one REST call: nothing newer than the last trade stored)
#    closes it with rows_repaired = 0; no gap is left open.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/gap_silence
mkdir -p "$cap"
port=$(free_port_range 19820 4)
admin=$(free_port $((port + 10)))

# the exchange's clock runs 10 s behind zvt's (as a loaded machine's
# feed lags its exchange): the trades missed in a gap are stamped before
# the gap's from_ts, so a repair must map by ids, never by local time
"$top/zvt-exsim" --exchanges binance,okx --port "$port" --admin-port "$admin" --symbols BTC-USDT \
	--start $(( $(date +%s) * 1000 - 10000 )) --rate 20 --record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_gs s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_gs" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.feed_watchdog" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_wait "$sim" "$port" $((port + 2)) "$admin" || fail "the simulator did not start"

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.feed_watchdog = '1s'" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_gs AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('okx', 2)) AS p (name, o)
       WHERE exchanges.name = p.name" \
  -c "SELECT zvt.sync_instruments(e) FROM unnest(ARRAY['binance', 'okx']) e" \
  -c "SELECT zvt.subscribe(e, 'BTC-USDT', 'trades') FROM unnest(ARRAY['binance', 'okx']) e" >/dev/null || fail "setup"
poll_until "SELECT count(DISTINCT instrument_id) FROM zvt.trades" 2 30 || fail "the feeds stored nothing"

# compare MODE: the record's trades of each exchange from the first one
# zvt stored on; MODE "missed" prints the fewest unreceived trades
# published after the newest stored one, "equal" prints ok when the
# stored trades are exactly those (else what differs)
compare() {
	q -c "COPY (SELECT exchange, trade_id FROM zvt.trades_v) TO STDOUT" >"$cap/db.tsv"
	python3 - "$cap" "$1" <<'PY'
import json, sys
from collections import Counter
cap, mode = sys.argv[1], sys.argv[2]
db = Counter()
for l in open(f"{cap}/db.tsv"):
    ex, tid = l.rstrip("\n").split("\t")
    db[(ex, int(tid))] += 1
rec = set()
for l in open(f"{cap}/record.jsonl"):
    r = json.loads(l)
    if r["channel"] == "trades":
        rec.add((r["exchange"], int(r["id"])))
out = []
for ex in ("binance", "okx"):
    ids = [t for (e, t) in db if e == ex]
    if not ids:
        out.append(f"{ex}: nothing stored")
        continue
    first, last = min(ids), max(ids)
    want = {t for (e, t) in rec if e == ex and t >= first}
    got = {t for (e, t) in db if e == ex}
    if mode == "missed":
        out.append(str(len([t for t in want if t > last])))
    else:
        twice = [t for (e, t), n in db.items() if e == ex and n > 1]
        if twice or want != got:
            out.append(f"{ex}: {len(want - got)} missing (e.g. {sorted(want - got)[:3]}), "
                       f"{len(got - want)} never published, {len(twice)} twice")
if mode == "missed":
    print(min(int(x) if x.isdigit() else 0 for x in out))
else:
    print("ok" if not out else "; ".join(out))
PY
}

# 1: a stall: the watchdog drops both connections and the new ones get
# nothing; the market goes on, then ends while nobody listens
r0=$(q -c "SELECT sum(reconnects) FROM zvt.feed_status WHERE exchange IN ('binance', 'okx')")
curl -s "http://127.0.0.1:$admin/fault?exchange=all&stall=600" >/dev/null
poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange IN ('binance', 'okx') AND reconnects > 0
              AND (SELECT sum(reconnects) FROM zvt.feed_status WHERE exchange IN ('binance', 'okx')) >= $r0 + 2" 2 60 \
	|| fail "the watchdog did not reconnect both feeds in the stall"
for _ in $(seq 150); do
	[ "$(compare missed)" -ge 10 ] && break
	sleep 0.2
done
[ "$(compare missed)" -ge 10 ] || fail "the simulator published no trades in the stall"
# no more drops by the watchdog: the market is about to be silent
q -c "ALTER SYSTEM SET zvt.feed_watchdog = '1h'" >/dev/null || fail "set zvt.feed_watchdog"
reload_conf
curl -s "http://127.0.0.1:$admin/end?exchange=all" >/dev/null
curl -s "http://127.0.0.1:$admin/reset" >/dev/null
missed=$(compare missed)
for _ in $(seq 300); do
	[ "$(compare equal)" = ok ] && break
	sleep 0.2
done
res=$(compare equal)
[ "$res" = ok ] || {
	q -c "SELECT * FROM zvt.feed_gaps ORDER BY id" -c "SELECT * FROM zvt.backfill_jobs ORDER BY id"
	fail "after a drop and silence: $res"
}
poll_until "SELECT count(*) FILTER (WHERE repaired_at IS NULL OR repair_error IS NOT NULL) FROM zvt.feed_gaps" 0 60 \
	|| { q -c "SELECT * FROM zvt.feed_gaps ORDER BY id"; fail "gaps left open after the silence"; }
[ "$(q -c "SELECT string_agg(exchange || ':' || (sum > 0), ',' ORDER BY exchange)
             FROM (SELECT exchange, sum(rows_repaired) FROM zvt.feed_gaps WHERE channel = 'trades' GROUP BY 1) s")" \
	= "binance:true,okx:true" ] || { q -c "SELECT * FROM zvt.feed_gaps ORDER BY id"; fail "the gaps were not repaired with the missed trades"; }
echo "a stall and silence: $missed+ trades published unseen on each exchange were repaired"

# 2: a drop in silence: nothing was missed; the gap is closed with 0 rows
g0=$(q -c "SELECT coalesce(max(id), 0) FROM zvt.feed_gaps")
n0=$(q -c "SELECT count(*) FROM zvt.trades")
curl -s "http://127.0.0.1:$admin/drop" >/dev/null
poll_until "SELECT string_agg(exchange || ':' || channel || ':' || rows_repaired || ':' || (repair_error IS NULL), ',' ORDER BY exchange)
              FROM zvt.feed_gaps WHERE id > $g0 AND repaired_at IS NOT NULL" "binance:trades:0:true,okx:trades:0:true" 60 \
	|| { q -c "SELECT * FROM zvt.feed_gaps WHERE id > $g0" -c "SELECT * FROM zvt.backfill_jobs ORDER BY id"; fail "a drop in silence left no closed gap"; }
[ "$(q -c "SELECT count(*) FROM zvt.feed_gaps WHERE repaired_at IS NULL")" = 0 ] || fail "a gap is open after a drop in silence"
[ "$(q -c "SELECT count(*) FROM zvt.trades")" = "$n0" ] || fail "trades changed after a drop in silence"
[ "$(compare equal)" = ok ] || fail "stored trades differ after a drop in silence"
echo "gap silence: missed trades before silence repaired; a drop in silence leaves a closed gap with 0 rows"
