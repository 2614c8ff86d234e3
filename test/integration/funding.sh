#!/usr/bin/env bash
# Perpetuals and funding against the simulator's Binance USD-M futures
# (its own port, zvt.exchanges.futures_ws_url / futures_rest_url):
# sync_instruments lists BTC-USDT-PERP from /fapi/v1/exchangeInfo; the
# feed stores its trades (aggTrade) and its funding (markPrice@1s) equal
# to the simulator's record; a paper position held across at least three
# funding times (4 s apart here) pays exactly what the simulator's record
# says each settled at (qty x mark x rate, longs paying a positive rate),
# visible in zvt.funding_payments, the balance and zvt.portfolio; the
# cluster restarted in the middle pays nothing twice.
#
# Own cluster (it is restarted), maintenance every second.
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
	--symbols BTC-USDT,BTC-USDT-PERP --rate 10 --funding-interval 4 --duration 150 \
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

# a restart in the middle: nothing is paid twice
before=$(q -c "SELECT count(*) FROM zvt.funding_payments")
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart >/dev/null || fail "restart"
back=$(q -c "SELECT now()")
for _ in $(seq 3); do q -c "SELECT zvt.settle_funding()" >/dev/null || fail "settle_funding by hand"; done
# two funding times after the restart (the simulator's clock is this one at --speed 1)
poll_until "SELECT count(*) >= 2 FROM zvt.funding_payments WHERE funding_time > '$back'" t 40 ||
	fail "no payments after the restart"
q -c "SELECT zvt.unsubscribe('binance', 'BTC-USDT-PERP', 'funding')" >/dev/null
sleep 2.5 # two maintenance passes: the last funding times settle
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
# every stored funding row is one the simulator published, field by field
rows = [l.rstrip("\n").split("\t") for l in open(f"{cap}/db_funding.tsv")]
assert len(rows) >= 10, f"only {len(rows)} funding rows"
for ts, mark, index, rate, nxt in rows:
    r = pub.get(int(ts))
    assert r, f"funding row at {ts} not in the record"
    assert (D(mark), D(index), D(rate), int(nxt)) == (D(r["mark"]), D(r["index"]), D(r["rate"]), r["next_funding"]), (ts, r)
# and every one published while the feed ran (before the restart) is stored
stored = {int(r[0]) for r in rows}
first = min(stored)
# the updates the feed missed lie in one hole between two stored rows (the restart)
srt = sorted(stored)
holes = set()
for t in pub:
    if first < t < srt[-1] and t not in stored:
        holes.add(max(x for x in srt if x < t))
assert len(holes) <= 1, f"published funding updates missing in {len(holes)} places: {sorted(holes)[:5]}"
# trades: each stored one is the simulator's (aggregate ids)
n = 0
for l in open(f"{cap}/db_trades.tsv"):
    tid, ts, px, qty, side = l.rstrip("\n").split("\t")
    r = trades[tid]
    assert (int(ts), D(px), D(qty), side) == (r["ts"], D(r["price"]), D(r["qty"]), r["side"]), (tid, r)
    n += 1
assert n > 0
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
    # the feed was down across a funding time's last update only around the restart
    if (D(mark), D(rate)) == (D(s["mark"]), D(s["rate"])):
        exact += 1
        assert D(amount) == -(pos(t) * D(s["mark"]) * D(s["rate"]))
    else:
        assert s["source_ts"] not in stored, f"{t}: stored the simulator's source row yet settled otherwise"
    total += D(amount)
due = sorted(t for t in sett if t > int(fills[0][0]) and t <= max(int(p[0]) for p in pays))
assert [int(p[0]) for p in pays] == due, f"payments at {[p[0] for p in pays]}, settlements at {due}"
assert exact >= 3, f"only {exact} payments equal the simulator's settlement"
bal, realized, fees, fill_pnl, cash, port_realized = open(f"{cap}/db_money.txt").read().split()
assert D(realized) == D(fill_pnl) + total, (realized, fill_pnl, total)
assert D(bal) == D(100000) - D(fees) + D(fill_pnl) + total, (bal, fees, fill_pnl, total)
assert (D(cash), D(port_realized)) == (D(bal), D(realized)), (cash, port_realized)
print(f"ok {len(rows)} funding rows equal the record; {n} perpetual trades; {len(pays)} payments "
      f"({exact} at the simulator's settlement exactly), total {total}, each funding time once")
PY
