#!/usr/bin/env bash
# Perpetuals and funding against the simulator's Binance USD-M futures
# (its own port, zvt.exchanges.futures_ws_url / futures_rest_url):
# sync_instruments lists BTC-USDT-PERP from /fapi/v1/exchangeInfo; the
# feed stores its trades (aggTrade) and its funding (markPrice@1s) equal
# to the simulator's record; a paper position held across at least three
# funding times (4 s apart here) pays exactly what the simulator's record
# says each settled at (qty x mark x rate, longs paying a positive rate),
# visible in zvt.funding_payments, the balance and zvt.portfolio; the
# cluster restarted in the middle pays nothing twice.  History of the
# perpetual over fapi: a backfill of 1m klines and of a range of trades
# equal the simulator's past (--record-history); a stall of the futures
# feed across two funding times (the watchdog reconnects) leaves trade and
# funding gaps that are repaired from /fapi/v1/aggTrades and
# /fapi/v1/fundingRate, so every trade is stored once and every funding
# time settles exactly as the simulator's record says, the stalled ones
# included (their settlement waits for the repair).
#
# Own cluster (it is restarted), maintenance every second.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/funding
mkdir -p "$cap"
chmod 755 "$cap"
port=$(free_port 19700)
while port_taken $((port + 4)); do port=$(free_port $((port + 5))); done
admin=$(free_port $((port + 10)))
pgport=$(free_port $((PGPORT + 420)))
dir=$cap/cluster

"$top/zvt-exsim" --port "$port" --admin-port "$admin" --exchanges binance,binance-futures \
	--symbols BTC-USDT,BTC-USDT-PERP --rate 10 --funding-interval 4 --duration 200 \
	--history 2h --history-rate 1 --record-history \
	--record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	cluster_stop "$dir"
}
trap cleanup EXIT
(cluster_start "$dir" "$pgport" funding_db "zvt.maintenance_naptime = 1" "zvt.feeds = on") >/dev/null ||
	fail "cluster did not start"
export PGHOST=$dir/sock PGPORT=$pgport PGDATABASE=funding_db
for _ in $(seq 50); do curl -s "http://127.0.0.1:$admin/stats" >/dev/null 2>&1 && break; sleep 0.1; done
grep -q "^binance-futures ws://127.0.0.1:$((port + 4)) " "$cap/exsim.out" || fail "no futures port: $(cat "$cap/exsim.out")"

q -c "CREATE EXTENSION zvt" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port',
             futures_ws_url = 'ws://127.0.0.1:$((port + 4))', futures_rest_url = 'http://127.0.0.1:$((port + 4))'
       WHERE name = 'binance'" >/dev/null || fail "setup"
q -c "SELECT zvt.sync_instruments('binance')" >/dev/null || fail "sync_instruments"
[ "$(q -c "SELECT kind, raw_symbol FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'BTC-USDT-PERP'")" = "perp|BTCUSDT" ] ||
	fail "BTC-USDT-PERP not listed from /fapi/v1/exchangeInfo"
echo "ok sync_instruments lists the perpetual from the futures REST"

# backfills of the perpetual's past: 30 1m klines and 5 minutes of trades (fapi)
base=$(q -c "SELECT (extract(epoch FROM date_trunc('minute', now())) * 1000)::int8")
kfrom=$((base - 100 * 60000)); kto=$((base - 70 * 60000))
tfrom=$((base - 90 * 60000 + 123)); tto=$((base - 85 * 60000 + 456))
q -c "SELECT zvt.backfill('binance', 'BTC-USDT-PERP', 'candles', to_timestamp($kfrom / 1000.0), to_timestamp($kto / 1000.0))" \
  -c "SELECT zvt.backfill('binance', 'BTC-USDT-PERP', 'trades', to_timestamp($tfrom / 1000.0), to_timestamp($tto / 1000.0))" \
	>/dev/null || fail "backfill of the perpetual"
poll_until "SELECT count(*) FILTER (WHERE state = 'done') FROM zvt.backfill_jobs WHERE gap_id IS NULL" 2 60 ||
	{ q -c "SELECT * FROM zvt.backfill_jobs"; fail "the perpetual's backfills did not finish"; }
[ "$(q -c "SELECT count(*) FROM zvt._backfill_jobs WHERE gap_id IS NULL AND rest_url = 'http://127.0.0.1:$((port + 4))'")" = 2 ] ||
	fail "the perpetual's backfills did not ask futures_rest_url"
q -c "COPY (SELECT (extract(epoch FROM ts) * 1000)::int8, open, high, low, close, volume, quote_volume, trade_count
             FROM zvt.candles_v WHERE symbol = 'BTC-USDT-PERP' AND source = 'exchange' AND timeframe = '1 minute'
              AND ts < to_timestamp($kto / 1000.0) ORDER BY ts) TO STDOUT" >"$cap/db_backfill_candles.tsv"
q -c "COPY (SELECT trade_id, (extract(epoch FROM ts) * 1000)::int8, price, qty, side FROM zvt.trades_v
             WHERE symbol = 'BTC-USDT-PERP' AND ts < to_timestamp($tto / 1000.0) + interval '1 minute'
             ORDER BY ts) TO STDOUT" >"$cap/db_backfill_trades.tsv"
echo "$kfrom $kto $tfrom $tto" >"$cap/backfill_range.txt"
echo "ok backfills of the perpetual's klines and trades from fapi"

q -c "SELECT zvt.subscribe('binance', 'BTC-USDT-PERP', c) FROM unnest(ARRAY['trades', 'quotes', 'funding', 'candles_1m', 'book']) c" \
  -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
poll_until "SELECT count(*) > 2 FROM zvt.funding_v WHERE symbol = 'BTC-USDT-PERP'" t 30 ||
	{ grep "zvt feed" "$dir/log" | tail -20; fail "no funding rows"; }
poll_until "SELECT count(DISTINCT symbol) FROM zvt.trades_v" 2 30 || fail "no trades of both"
poll_until "SELECT mark_price IS NOT NULL AND next_funding_time IS NOT NULL FROM zvt.funding_now WHERE symbol = 'BTC-USDT-PERP'" t 10 ||
	fail "no funding on the bus"
poll_until "SELECT count(*) > 0 FROM zvt.candles_v WHERE symbol = 'BTC-USDT-PERP' AND source = 'exchange'" t 20 ||
	fail "no klines of the perpetual"
poll_until "SELECT live FROM zvt.books WHERE exchange = 'binance' AND symbol = 'BTC-USDT-PERP'" t 20 ||
	fail "the perpetual's book (fapi depth snapshot, pu) is not live"
[ "$(q -c "SELECT count(*) FROM zvt.book('binance', 'BTC-USDT-PERP', 5)")" = 10 ] || fail "no book levels"
echo "ok trades, klines, quotes, a live book and funding of BTC-USDT-PERP stored; funding on the bus"

# a paper long, then a partial close between funding times
q -c "SELECT name FROM zvt.create_account('perp', initial_cash => 100000)" >/dev/null || fail "account"
q -c "SELECT status FROM zvt.place_order('perp', 'binance', 'BTC-USDT-PERP', 'buy', 0.5)" | grep -qx filled ||
	fail "the buy did not fill"
poll_until "SELECT count(*) >= 1 FROM zvt.funding_payments" t 30 || fail "no first payment"
q -c "SELECT status FROM zvt.place_order('perp', 'binance', 'BTC-USDT-PERP', 'sell', 0.2)" | grep -qx filled ||
	fail "the sell did not fill"
poll_until "SELECT count(*) >= 2 FROM zvt.funding_payments" t 30 || fail "no second payment"

# a stall of the futures exchange across two funding times: the watchdog
# reconnects; the trades and funding published meanwhile are repaired from REST
g0=$(q -c "SELECT coalesce(max(id), 0) FROM zvt.feed_gaps")
q -c "ALTER SYSTEM SET zvt.feed_watchdog = '1s'" >/dev/null || fail "set zvt.feed_watchdog"
reload_conf
curl -s "http://127.0.0.1:$admin/fault?exchange=binance-futures&stall=9" >/dev/null
sleep 9
q -c "ALTER SYSTEM RESET zvt.feed_watchdog" -c "SELECT pg_reload_conf()" >/dev/null
poll_until "SELECT count(DISTINCT channel) FILTER (WHERE rows_repaired > 0) = 2 AND bool_and(repaired_at IS NOT NULL)
             FROM zvt.feed_gaps WHERE id > $g0 AND symbol = 'BTC-USDT-PERP' AND channel IN ('trades', 'funding')" t 60 ||
	{ q -c "SELECT * FROM zvt.feed_gaps ORDER BY id" -c "SELECT * FROM zvt.backfill_jobs ORDER BY id"; fail "the stall's gaps were not repaired"; }
[ "$(q -c "SELECT count(*) FROM zvt.feed_gaps WHERE symbol = 'BTC-USDT-PERP' AND channel IN ('trades', 'funding', 'candles_1m')
             AND repair_error IS NOT NULL")" = 0 ] || { q -c "SELECT * FROM zvt.feed_gaps ORDER BY id"; fail "a perpetual's gap was not repaired"; }
echo "ok the stall's trade and funding gaps of the perpetual repaired from fapi"

# a restart in the middle: nothing is paid twice
before=$(q -c "SELECT count(*) FROM zvt.funding_payments")
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart >/dev/null || fail "restart"
back=$(q -c "SELECT now()")
for _ in $(seq 3); do q -c "SELECT zvt.settle_funding()" >/dev/null || fail "settle_funding by hand"; done
# two funding times after the restart (the simulator's clock is this one at --speed 1)
poll_until "SELECT count(*) >= 2 FROM zvt.funding_payments WHERE funding_time > '$back'" t 40 ||
	fail "no payments after the restart"
q -c "SELECT zvt.unsubscribe('binance', 'BTC-USDT-PERP', 'funding')" >/dev/null
# two maintenance passes begun after this (the count is of passes ended):
# the last funding times settle
passes=$(q -c "SELECT passes FROM zvt.maintenance_status()")
poll_until "SELECT passes > $passes + 2 FROM zvt.maintenance_status()" t 30 || fail "no maintenance passes"
echo "ok payments went on after a restart"

q -c "COPY (SELECT (extract(epoch FROM ts) * 1000)::int8, mark_price, index_price, funding_rate,
                   (extract(epoch FROM next_funding_time) * 1000)::int8
             FROM zvt.funding_v WHERE symbol = 'BTC-USDT-PERP' ORDER BY ts) TO STDOUT" >"$cap/db_funding.tsv"
q -c "COPY (SELECT (extract(epoch FROM funding_time) * 1000)::int8, qty, mark_price, funding_rate, amount,
                   (SELECT count(*) FROM zvt.funding_payments x WHERE x.funding_time = p.funding_time)
             FROM zvt.funding_payments p ORDER BY funding_time) TO STDOUT" >"$cap/db_payments.tsv"
q -c "COPY (SELECT (extract(epoch FROM ts) * 1000)::int8, side, qty FROM zvt.fills ORDER BY ts) TO STDOUT" >"$cap/db_fills.tsv"
q -c "COPY (SELECT trade_id, (extract(epoch FROM ts) * 1000)::int8, price, qty, side FROM zvt.trades_v
             WHERE symbol = 'BTC-USDT-PERP') TO STDOUT" >"$cap/db_trades.tsv"
q -c "COPY (SELECT (extract(epoch FROM s.funding_time) * 1000)::int8, s.mark_price, s.funding_rate
             FROM zvt.funding_settlements s ORDER BY 1) TO STDOUT" >"$cap/db_settlements.tsv"
q -c "COPY (SELECT (extract(epoch FROM from_ts) * 1000)::int8, (extract(epoch FROM to_ts) * 1000)::int8
             FROM zvt.feed_gaps WHERE symbol = 'BTC-USDT-PERP' AND channel = 'funding') TO STDOUT" >"$cap/db_stall.tsv"
q -F ' ' -c "SELECT (SELECT amount FROM zvt.balances b JOIN zvt.accounts a USING (account_id) WHERE a.name = 'perp' AND asset = 'USDT'),
                    (SELECT realized_pnl FROM zvt.holdings h JOIN zvt.accounts a USING (account_id) WHERE a.name = 'perp'),
                    (SELECT sum(fee) FROM zvt.fills), (SELECT sum(realized_pnl) FROM zvt.fills),
                    p.cash, p.realized_pnl FROM zvt.portfolio('perp') p" >"$cap/db_money.txt"
kill $sim 2>/dev/null
wait $sim 2>/dev/null

python3 - "$cap" <<'PY' || fail "funding differs from the simulator's record"
import sys, json
from decimal import Decimal as D
cap = sys.argv[1]
pub, sett = {}, {}
trades = {}
klines = {}
for l in open(f"{cap}/record.jsonl"):
    r = json.loads(l)
    if r["exchange"] != "binance" or r["symbol"] != "BTC-USDT-PERP":
        continue
    if r["channel"] == "funding":
        pub[r["ts"]] = r
    elif r["channel"] == "funding_settlement":
        sett[r["funding_time"]] = r
    elif r["channel"] == "trades":
        trades[r["id"]] = r
    elif r["channel"] == "candles" and r["interval_ms"] == 60000:
        klines[r["ts"]] = r
# every stored funding row is one the simulator published, field by field,
# or (repaired from /fapi/v1/fundingRate) a funding time as it settled
rows = [l.rstrip("\n").split("\t") for l in open(f"{cap}/db_funding.tsv")]
assert len(rows) >= 10, f"only {len(rows)} funding rows"
repaired = []
for ts, mark, index, rate, nxt in rows:
    if int(ts) == int(nxt) - 1 and index == "\\N":
        s = sett.get(int(nxt))
        assert s, f"repaired funding row at {ts} is no settled funding time"
        assert (D(mark), D(rate)) == (D(s["mark"]), D(s["rate"])), (ts, mark, rate, s)
        repaired.append(int(nxt))
        continue
    r = pub.get(int(ts))
    assert r, f"funding row at {ts} not in the record"
    assert (D(mark), D(index), D(rate), int(nxt)) == (D(r["mark"]), D(r["index"]), D(r["rate"]), r["next_funding"]), (ts, r)
# the funding times inside the funding gaps (the stall's two, the restart's) were repaired
stall = [tuple(map(int, l.split())) for l in open(f"{cap}/db_stall.tsv")]
assert stall, "no funding gap"
for lo, hi in stall:
    inside = [t for t in sett if lo + 1000 < t < hi - 1000]
    assert all(t in repaired for t in inside), (lo, hi, inside, repaired)
assert len(repaired) >= 2, f"only {len(repaired)} funding times repaired"

rows = [r for r in rows if int(r[0]) + 1 not in repaired]
# every funding time settled as the simulator settled it
nset = 0
for l in open(f"{cap}/db_settlements.tsv"):
    t, mark, rate = l.rstrip("\n").split("\t")
    s = sett[int(t)]
    assert (D(mark), D(rate)) == (D(s["mark"]), D(s["rate"])), (t, mark, rate, s)
    nset += 1
assert nset >= 5, f"only {nset} settlements"
# the backfills: every 1m kline of the range and every trade of the range, as recorded
kfrom, kto, tfrom, tto = map(int, open(f"{cap}/backfill_range.txt").read().split())
want = {t: k for t, k in klines.items() if t >= kfrom and t + 60000 <= kto}
got = [l.rstrip("\n").split("\t") for l in open(f"{cap}/db_backfill_candles.tsv")]
assert len(want) == 30 and len(got) == len(want), (len(want), len(got))
for ts, o, h, lo_, c, v, qv, cnt in got:
    k = want[int(ts)]
    assert (D(o), D(h), D(lo_), D(c), D(v), D(qv), int(cnt)) == (D(k["open"]), D(k["high"]), D(k["low"]), D(k["close"]),
            D(k["volume"]), D(k["quote_volume"]), k["trade_count"]), (ts, k)
bt = {l.split("\t")[0] for l in open(f"{cap}/db_backfill_trades.tsv")}
want = {i for i, r in trades.items() if tfrom <= r["ts"] < tto}
assert len(want) >= 250 and bt == want, (len(want), len(bt), sorted(want ^ bt)[:5])
# and every one published while the feed ran (before the restart) is stored
stored = {int(r[0]) for r in rows}
first = min(stored)
# the updates the feed missed lie in one hole between two stored rows (the restart)
srt = sorted(stored)
holes = set()
for t in pub:
    if first < t < srt[-1] and t not in stored:
        holes.add(max(x for x in srt if x < t))
assert len(holes) <= 2, f"published funding updates missing in {len(holes)} places: {sorted(holes)[:5]}"
# trades: each stored one is the simulator's (aggregate ids); from the feed's
# first to its last every one is stored, the stall's and the restart's repaired
n = 0
live = set()
for l in open(f"{cap}/db_trades.tsv"):
    tid, ts, px, qty, side = l.rstrip("\n").split("\t")
    r = trades[tid]
    assert (int(ts), D(px), D(qty), side) == (r["ts"], D(r["price"]), D(r["qty"]), r["side"]), (tid, r)
    n += 1
    if tid not in bt:
        live.add(int(tid))
assert n > 0 and live
want = {int(i) for i in trades if min(live) <= int(i) <= max(live)}
assert live == want, f"{len(want - live)} trades missing, e.g. {sorted(want - live)[:5]}" 
# payments: one per funding time after the first fill, each what the simulator settled at
fills = [l.rstrip("\n").split("\t") for l in open(f"{cap}/db_fills.tsv")]
def pos(t):
    return sum((D(q) if s == "buy" else -D(q)) for ts, s, q in fills if int(ts) <= t)
pays = [l.rstrip("\n").split("\t") for l in open(f"{cap}/db_payments.tsv")]
assert all(int(p[5]) == 1 for p in pays), "a funding time paid twice"
exact = 0
total = D(0)
for t, qty, mark, rate, amount, _ in pays:
    t = int(t)
    assert D(qty) == pos(t), f"position at {t}: {qty} != {pos(t)}"
    assert D(amount) == -(D(qty) * D(mark) * D(rate)), (t, qty, mark, rate, amount)
    s = sett[t]
    # every funding time, the stalled ones and the restart's too (repaired before settling)
    assert (D(mark), D(rate)) == (D(s["mark"]), D(s["rate"])), (t, mark, rate, s)
    exact += 1
    assert D(amount) == -(pos(t) * D(s["mark"]) * D(s["rate"]))
    total += D(amount)
due = sorted(t for t in sett if t > int(fills[0][0]) and t <= max(int(p[0]) for p in pays))
assert [int(p[0]) for p in pays] == due, f"payments at {[p[0] for p in pays]}, settlements at {due}"
assert exact >= 3, f"only {exact} payments equal the simulator's settlement"
bal, realized, fees, fill_pnl, cash, port_realized = open(f"{cap}/db_money.txt").read().split()
assert D(realized) == D(fill_pnl) + total, (realized, fill_pnl, total)
assert D(bal) == D(100000) - D(fees) + D(fill_pnl) + total, (bal, fees, fill_pnl, total)
assert (D(cash), D(port_realized)) == (D(bal), D(realized)), (cash, port_realized)
print(f"ok {len(rows)} funding rows equal the record, {len(repaired)} repaired from fundingRate; {n} perpetual trades "
      f"({len(live)} live, complete; {len(bt)} backfilled); {nset} settlements; {len(pays)} payments "
      f"({exact} at the simulator's settlement exactly), total {total}, each funding time once")
PY
