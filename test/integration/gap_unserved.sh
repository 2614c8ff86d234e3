#!/usr/bin/env bash
# A gap repair paging backward by id (OKX, Coinbase) that meets an
# exchange no longer serving the gap's ids must record the hole, not mark
# the gap repaired with 0 rows.  The simulator keeps only its last 20
# live trades a symbol for REST (--recent 20) while publishing 60 a
# second, so by the time a repair asks, the trades of a reconnection's
# gap are gone.  Every trade id missing from zvt.trades must then lie in
# the "ids X to Y" range of a gap's repair_error; no gap of these feeds
# may be marked repaired while an id inside it is missing.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/gap_unserved
mkdir -p "$cap"
port=$(free_port_range 19820 4)
admin=$(free_port $((port + 10)))

"$top/zvt-exsim" --exchanges okx,coinbase --port "$port" --admin-port "$admin" --symbols BTC-USDT \
	--rate 60 --recent 20 --duration 120 >"$cap/exsim.out" 2>&1 &
sim=$!
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_gu s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_gu" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_wait "$sim" $((port + 2)) $((port + 3)) "$admin" || fail "the simulator did not start"

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" \
  -c "CREATE TABLE zvt_saved_ex_gu AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('okx', 2), ('coinbase', 3)) AS p (name, o) WHERE exchanges.name = p.name" \
  -c "SELECT zvt.sync_instruments(e) FROM unnest(ARRAY['okx', 'coinbase']) e" \
  -c "SELECT zvt.subscribe(e, 'BTC-USDT', 'trades') FROM unnest(ARRAY['okx', 'coinbase']) e" >/dev/null || fail "setup"
poll_until "SELECT count(DISTINCT exchange) FROM zvt.trades_v" 2 30 || fail "the feeds stored nothing"

# three disconnections, each once the feeds stored more trades
for k in 1 2 3; do
	n=$(q -c "SELECT count(*) FROM zvt.trades")
	poll_until "SELECT count(*) > $n + 100 FROM zvt.trades" t 30 || fail "no trades after drop $k"
	curl -s "http://127.0.0.1:$admin/drop" >/dev/null || fail "drop"
done
# each drop's gap row is written once data resumes: three on each exchange
poll_until "SELECT count(*) FILTER (WHERE exchange = 'okx') >= 3 AND count(*) FILTER (WHERE exchange = 'coinbase') >= 3
              FROM zvt.feed_gaps WHERE channel = 'trades' AND to_ts IS NOT NULL" t 60 \
	|| fail "the drops' gaps were not recorded on both exchanges"
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE channel = 'trades' AND repaired_at IS NULL AND repair_error IS NULL" \
	0 90 || fail "gap repairs did not finish"

q -c "SELECT exchange, id, from_ts, to_ts, repaired_at, rows_repaired, repair_error FROM zvt.feed_gaps ORDER BY id" >"$cap/gaps.txt"
q -c "COPY (SELECT exchange, trade_id FROM zvt.trades_v WHERE symbol = 'BTC-USDT') TO STDOUT" >"$cap/ids.tsv"
q -c "COPY (SELECT exchange, id, repaired_at IS NOT NULL, coalesce(rows_repaired, -1), coalesce(repair_error, '')
            FROM zvt.feed_gaps WHERE channel = 'trades') TO STDOUT" >"$cap/gaps.tsv"
python3 - "$cap" <<'PY' || { cat "$cap/gaps.txt" >&2; fail "trades the exchange no longer serves were not recorded as a hole"; }
import re, sys
from collections import defaultdict
cap = sys.argv[1]
ids = defaultdict(set)
for l in open(f"{cap}/ids.tsv"):
    ex, tid = l.rstrip("\n").split("\t")
    ids[ex].add(int(tid))
holes = defaultdict(list)
for l in open(f"{cap}/gaps.tsv"):
    ex, gid, repaired, rows, err = l.rstrip("\n").split("\t")
    m = re.search(r"no longer serves trades of BTC-USDT with ids (\d+) to (\d+)", err)
    if m:
        assert repaired == "f", f"{ex} gap {gid}: a hole and repaired"
        holes[ex].append((int(m.group(1)), int(m.group(2))))
    else:
        assert err == "", f"{ex} gap {gid}: unexpected repair_error {err!r}"
for ex in ("okx", "coinbase"):
    got = ids[ex]
    missing = [i for i in range(min(got), max(got)) if i not in got]
    outside = [i for i in missing if not any(a <= i <= b for a, b in holes[ex])]
    stored_in_hole = [i for a, b in holes[ex] for i in range(a, b + 1) if i in got]
    print(f"{ex}: {len(got)} stored, {len(missing)} missing, {len(holes[ex])} holes recorded, "
          f"{len(outside)} missing outside them")
    assert missing, f"{ex}: nothing missing: the test made no unserved gap"
    assert not outside, f"{ex}: ids {outside[:10]} missing but no gap says so"
    assert not stored_in_hole, f"{ex}: ids {stored_in_hole[:10]} stored yet reported as not served"
PY
echo "unserved ids: every missing okx and coinbase trade lies in a recorded hole"
