#!/usr/bin/env bash
# Feed workers under the simulator's faults: malformed frames (counted and
# skipped), duplicated frames, exchange error replies, connections dropped
# every N messages, and kill -9 of a feed worker (the cluster resets; the
# worker comes back, and the time it was down is a gap), and a user
# trigger on zvt.trades for a while (the worker then writes through COPY,
# which fires it).  Afterwards no trade is stored twice, and every trade
# the simulator sent that is missing from zvt.trades lies inside a
# zvt.feed_gaps interval of its stream or was in a malformed frame (each
# counted in zvt.feed_status.parse_errors and logged).
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_faults
mkdir -p "$cap"
port=$(free_port_range 19700 4)
admin=$(free_port $((port + 10)))

"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT \
	--rate 40 --count 800 --duration 120 --record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex2 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex2" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "DROP TRIGGER IF EXISTS zvt_trigger_seen ON zvt.trades" -c "DROP TABLE IF EXISTS public.zvt_trigger_seen" \
	  -c "DROP FUNCTION IF EXISTS public.zvt_trigger_seen_f()" \
	  -c "ALTER SYSTEM RESET zvt.feed_watchdog" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_up "$sim" "$port" "$admin"

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET zvt.feed_watchdog = '3s'" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex2 AS SELECT * FROM zvt.exchanges" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" >/dev/null || fail "setup"
q -c "SELECT zvt.sync_instruments(e) FROM unnest(ARRAY['binance','okx']) e" \
  -c "SELECT zvt.subscribe(e, s, 'trades') FROM unnest(ARRAY['binance','okx']) e, unnest(ARRAY['BTC-USDT','ETH-USDT']) s" \
  >/dev/null || fail "subscribe"
poll_until "SELECT count(DISTINCT exchange) FROM zvt.trades_v" 2 20 || fail "no trades"

# 0: a user trigger on zvt.trades: the worker's direct chunk writes step
# aside and COPY's executor, which fires triggers, writes the new trades
q -c "CREATE TABLE public.zvt_trigger_seen (trade_id text)" \
  -c "CREATE FUNCTION public.zvt_trigger_seen_f() RETURNS trigger LANGUAGE plpgsql AS
        \$\$BEGIN INSERT INTO public.zvt_trigger_seen VALUES (NEW.trade_id); RETURN NULL; END\$\$" \
  -c "CREATE TRIGGER zvt_trigger_seen AFTER INSERT ON zvt.trades FOR EACH ROW EXECUTE FUNCTION public.zvt_trigger_seen_f()" \
  >/dev/null || fail "trigger setup"
poll_until "SELECT count(*) > 0 FROM public.zvt_trigger_seen" t 120 || fail "the trigger on zvt.trades saw no feed rows"
# DROP TRIGGER can deadlock with a flush writing through the trigger; the
# feed (shorter deadlock_timeout) is the one to give way, and retries
q -c "SET deadlock_timeout = '5min'" -c "DROP TRIGGER zvt_trigger_seen ON zvt.trades" >/dev/null || fail "drop trigger"
seen=$(q -c "SELECT count(*) FROM public.zvt_trigger_seen")
[ "$seen" -gt 0 ] || fail "the trigger on zvt.trades saw no feed rows"
unseen=$(q -c "SELECT count(*) FROM public.zvt_trigger_seen s WHERE NOT EXISTS (SELECT FROM zvt.trades t WHERE t.trade_id = s.trade_id)")
[ "$unseen" = 0 ] || fail "$unseen rows the trigger saw are not in zvt.trades"
q -c "DROP TABLE public.zvt_trigger_seen" -c "DROP FUNCTION public.zvt_trigger_seen_f()" >/dev/null

# 1: kill -9 of a feed worker resets the cluster; the worker comes back
pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'okx'")
[ -n "$pid" ] || fail "no okx feed pid"
kill -9 "$pid"
sleep 2
for _ in $(seq 100); do psql -X -qAt -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
poll_until "SELECT state FROM zvt.feed_status WHERE exchange = 'okx'" connected 30 || fail "okx feed not back after kill -9"
before=$(q -c "SELECT count(*) FROM zvt.trades_v WHERE exchange = 'okx'")
poll_until "SELECT count(*) > $before FROM zvt.trades_v WHERE exchange = 'okx'" t 120 ||
	fail "no okx data after the reset (still $before rows)"

# 2: malformed and duplicated frames, and an exchange error reply
curl -s "http://127.0.0.1:$admin/fault?exchange=all&malformed=0.02&duplicate=0.05" >/dev/null
sleep 3
poll_until "SELECT sum(parse_errors) > 0 FROM zvt.feed_status" t 120 || fail "malformed frames were not counted"
curl -s "http://127.0.0.1:$admin/reset" >/dev/null
parse_errors=$(q -c "SELECT sum(parse_errors) FROM zvt.feed_status")
[ "$parse_errors" -gt 0 ] || fail "malformed frames were not counted"
grep -q 'skipped a malformed message' "$ZVT_TEST_DIR/log" || fail "malformed frames were not logged"

# 3: connections dropped every 60 messages for a while
curl -s "http://127.0.0.1:$admin/fault?exchange=binance&drop_every=60" >/dev/null
sleep 4
curl -s "http://127.0.0.1:$admin/reset" >/dev/null
curl -s "http://127.0.0.1:$admin/drop?exchange=binance" >/dev/null    # new connections forget drop_every
sleep 2

# 4: a stall longer than the watchdog: zvt reconnects by itself
curl -s "http://127.0.0.1:$admin/fault?exchange=okx&stall=5" >/dev/null
sleep 6

# the market ends; compare
for _ in $(seq 300); do kill -0 $sim 2>/dev/null || break; sleep 0.1; done
# the feeds' last flushes: wait until the stored count stops moving
n=-1
for _ in $(seq 60); do
	sleep 1.5
	m=$(q -c "SELECT count(*) FROM zvt.trades")
	[ "$m" = "$n" ] && break
	n=$m
done
q -c "SELECT * FROM zvt.feed_status" >"$cap/status.txt"
q -c "COPY (SELECT exchange, symbol, trade_id, (extract(epoch FROM ts) * 1000)::int8 FROM zvt.trades_v) TO STDOUT" >"$cap/db.tsv"
q -c "COPY (SELECT exchange, parse_errors FROM zvt.feed_status) TO STDOUT" >"$cap/errors.tsv"
q -c "COPY (SELECT exchange, symbol, channel, (extract(epoch FROM from_ts) * 1000)::int8, (extract(epoch FROM to_ts) * 1000)::int8, reason FROM zvt.feed_gaps WHERE to_ts IS NOT NULL) TO STDOUT" >"$cap/gaps.tsv"
python3 - "$cap" <<'PY' || fail "trades lost outside gaps, or stored twice"
import json, sys
from collections import defaultdict
cap = sys.argv[1]
rec = defaultdict(dict)
for l in open(f"{cap}/record.jsonl"):
    r = json.loads(l)
    if r["channel"] == "trades" and r["exchange"] in ("binance", "okx"):
        rec[(r["exchange"], r["symbol"])][r["id"]] = r["ts"]
db = defaultdict(list)
for l in open(f"{cap}/db.tsv"):
    ex, sym, tid, ts = l.split("\t")
    db[(ex, sym)].append(tid)
malformed = {l.split("\t")[0]: int(l.split("\t")[1]) for l in open(f"{cap}/errors.tsv")}
outside_by_exchange = defaultdict(int)
gaps = defaultdict(list)
for l in open(f"{cap}/gaps.tsv"):
    ex, sym, ch, f, t, reason = l.rstrip("\n").split("\t")
    gaps[(ex, sym)].append((int(f), int(t)))
for key, ids in db.items():
    assert len(ids) == len(set(ids)), f"{key}: duplicates"
    first = min(rec[key][i] for i in ids)
    last = max(rec[key][i] for i in ids)
    missing = [i for i, ts in rec[key].items() if first <= ts <= last and i not in set(ids)]
    # exchange time (trade ts) vs receive time (gap bounds) differ by the link's latency: 1 s slack
    outside = [i for i in missing
               if not any(f - 1000 <= rec[key][i] <= t + 1000 for f, t in gaps[key])]
    outside_by_exchange[key[0]] += len(outside)
    print(f"ok {key}: {len(ids)} stored once, {len(missing)} missed: {len(missing) - len(outside)} inside "
          f"{len(gaps[key])} gaps, {len(outside)} in malformed frames")
for ex, n in outside_by_exchange.items():
    # a malformed frame carries at most one trade here (one per message on these feeds)
    assert n <= malformed.get(ex, 0), f"{ex}: {n} trades lost outside gaps but only {malformed.get(ex, 0)} malformed frames"

assert gaps[("binance", "BTC-USDT")], "no binance gaps recorded"
PY
echo "faults: malformed counted ($parse_errors), no duplicates, every loss inside a recorded gap, back after kill -9, $seen rows through a user trigger"
