#!/usr/bin/env bash
# test/integration/redis_fanout.sh: the Redis publisher (src/redis/) over
# the market event ring (src/bus/ring.c), against a real redis-server on
# loopback (an ACL user, database 3) with the simulator feeding Binance
# and repeating 5% of its frames (a repeat's row is stored once, and
# published once).
#
# A cluster of its own, run twice: with a ring big enough to hold what
# arrives while Redis is away, and with one of 256 events, too small.
# Each run subscribes trades (two symbols) and quotes, lets entries flow,
# pauses Redis's writes, reads every stream, kills redis-server with
# SIGKILL while the feed goes on, starts it again (empty: no persistence)
# and waits for the publisher to catch up; entries flow on, then the
# market ends (the simulator's GET /end).  Then, with the feed stopped:
#   big ring:   per stream, the entries before the kill followed by those
#               after it, deduplicated by their "id", equal the stored rows
#               (zvt.trades, zvt.quotes, closed zvt.candles) in order, and
#               zvt.redis_status.dropped is 0;
#   small ring: the entries are the stored rows in order with some left
#               out, and the number left out over all streams equals
#               zvt.redis_status.dropped exactly.
# Both: the last-value hash holds the last stored trade, the status shows
# the reconnect and the error, one publisher runs, nothing is skipped.
# The first run also checks order events (zvt.redis_private), error
# replies (WRONGTYPE) counted without a reconnect, one publisher after a
# launcher restart, a wrong password reported, and an empty URL stopping
# the worker.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
command -v redis-server >/dev/null || fail "redis-server is missing (Debian package redis-server)"
cap=$ZVT_TEST_DIR/redis_fanout
mkdir -p "$cap"
chmod 755 "$cap"
dir=$cap/cluster
db=redis_db
sport=$(free_port 21700)
rport=$(free_port $((sport + 10)))
xport=$(free_port $((rport + 10)))
mport=$(free_port $((xport + 10)))
aport=$(free_port $((mport + 10)))
sim=""
redis_pid=""

cleanup() {
	local rc=$?
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	[ "$rc" = 0 ] || grep -E 'zvt redis|zvt feed|ERROR|PANIC' "$dir/log" 2>/dev/null | tail -20 >&2
	cluster_stop "$dir"
}
trap cleanup EXIT

# --- Redis: an ACL user, no persistence --------------------------------------
cat >"$cap/redis.conf" <<CONF
port $rport
bind 127.0.0.1
save ""
appendonly no
daemonize no
dir $cap
user default off
user zvt on >s3cret ~* &* +@all
CONF
redis_start() {
	redis-server "$cap/redis.conf" >"$cap/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 100); do rcli PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
	fail "redis-server did not start"
}
rcli() { redis-cli -h 127.0.0.1 -p "$rport" --user zvt --pass s3cret --no-auth-warning -n 3 "$@"; }

# every stream entry and hash of database 3, as JSON lines, over RESP
cat >"$cap/dump.py" <<'PY'
# Dump zvt's streams and last-value hashes from Redis as JSON lines.
import json, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def cmd(*args):
    b = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        b += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(b)
    return reply()
def reply():
    line = f.readline().rstrip(b"\r\n")
    t, rest = line[:1], line[1:]
    if t in (b"+", b":"):
        return rest.decode()
    if t == b"-":
        raise SystemExit("redis: " + rest.decode())
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        d = f.read(n + 2)[:-2]
        return d.decode()
    if t == b"*":
        return [reply() for _ in range(int(rest))]
    raise SystemExit("bad reply %r" % line)
cmd("AUTH", "zvt", "s3cret")
cmd("SELECT", "3")
keys, cursor = [], "0"
while True:
    cursor, batch = cmd("SCAN", cursor, "MATCH", "zvt:*", "COUNT", "1000")
    keys += batch
    if cursor == "0":
        break
with open(out, "w") as o:
    for k in sorted(set(keys)):
        if cmd("TYPE", k) == "stream":
            for eid, fields in cmd("XRANGE", k, "-", "+"):
                o.write(json.dumps({"key": k, "entry": eid,
                                    "f": dict(zip(fields[::2], fields[1::2]))}) + "\n")
        else:
            h = cmd("HGETALL", k)
            o.write(json.dumps({"key": k, "hash": dict(zip(h[::2], h[1::2]))}) + "\n")
PY
dump() { python3 "$cap/dump.py" "$rport" "$1" || fail "could not read Redis"; }

# the stored rows each stream must carry, in the order they were stored
db_rows() {
	q -c "COPY (
	  SELECT 'zvt:' || exchange || ':' || symbol || ':trades', trade_id, price::text,
	         (extract(epoch FROM ts) * 1000000)::int8
	    FROM zvt.trades_v ORDER BY exchange, symbol, ts, trade_id::numeric) TO STDOUT" >"$1"
	q -c "COPY (
	  SELECT 'zvt:' || exchange || ':' || symbol || ':quotes',
	         (extract(epoch FROM ts) * 1000000)::int8 || ':' || seq, bid::text, 0
	    FROM zvt.quotes_v ORDER BY exchange, symbol, ts, seq) TO STDOUT" >>"$1"
	q -c "COPY (
	  SELECT 'zvt:' || exchange || ':' || symbol || ':candles_1m',
	         (extract(epoch FROM ts) * 1000000)::int8 || ':' || source, close::text, 0
	    FROM zvt.candles_v WHERE closed AND timeframe = '1 minute' ORDER BY exchange, symbol, ts, source) TO STDOUT" >>"$1"
}

# order events: none while zvt.redis_private is off; once on, the account's
# stream holds its committed events in order, and none of a rolled-back
# transaction or subtransaction (the account's name is long: its key too)
alpha=alpha_$(printf 'x%.0s' $(seq 200))
orders() {
	q -c "SELECT zvt.create_account('beta', initial_cash => 1000000)" \
	  -c "SELECT zvt.place_order('beta', 'binance', 'BTC-USDT', 'buy', 0.01)" >/dev/null || fail "beta's order"
	poll_until "SELECT lag_events FROM zvt.redis_status" 0 30 || fail "the publisher did not catch up"
	q -c "ALTER SYSTEM SET zvt.redis_private = on" -c "SELECT pg_reload_conf()" >/dev/null
	q -c "SELECT zvt.create_account('$alpha', initial_cash => 1000000)" \
	  -c "SELECT zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.01)" \
	  -c "SELECT zvt.cancel_order(order_id) FROM zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.01, 'limit', price => 1000)" \
	  -c "BEGIN" -c "SELECT zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.02)" -c "ROLLBACK" \
	  -c "BEGIN" -c "SAVEPOINT s" -c "SELECT zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.03)" \
	  -c "ROLLBACK TO s" -c "SELECT zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.04, 'limit', price => 2000, client_order_id => 'c1')" \
	  -c "COMMIT" >/dev/null || fail "alpha's orders"
	poll_until "SELECT lag_events FROM zvt.redis_status" 0 30 || fail "the publisher did not catch up"
	[ "$(rcli EXISTS zvt:account:beta:orders)" = 0 ] || fail "beta's order events were published with zvt.redis_private off"
	q -c "COPY (SELECT e.event_id, e.event, e.status, o.side, coalesce(o.client_order_id, '')
	              FROM zvt.order_events e JOIN zvt.orders o USING (order_id) JOIN zvt.accounts a ON a.account_id = e.account_id
	             WHERE a.name = '$alpha' ORDER BY e.event_id) TO STDOUT" >"$cap/orders_db.tsv"
	python3 "$cap/dump.py" "$rport" "$cap/orders_redis.jsonl" || fail "could not read Redis"
	python3 - "$cap" "$alpha" <<'PY' || fail "alpha's order stream differs from zvt.order_events"
import json, sys
cap, alpha = sys.argv[1], sys.argv[2]
db = [tuple(l.rstrip("\n").split("\t")) for l in open(f"{cap}/orders_db.tsv")]
got = [r["f"] for r in map(json.loads, open(f"{cap}/orders_redis.jsonl")) if r["key"] == f"zvt:account:{alpha}:orders"]
got = [(f["id"], f["event"], f["status"], f["side"], f.get("client_order_id", "")) for f in got]
assert got == db, (got, db)
assert len(db) == 8, f"expected new, accepted, fill, new, accepted, canceled, new, accepted: {db}"
print(f"ok {len(db)} order events of alpha, in order; none of beta or of what rolled back")
PY
}

# one publisher after a launcher restart; a wrong password is reported;
# an empty URL stops the worker
lifecycle() {
	local errs reconnects
	# a key another program made a string: WRONGTYPE, counted, and the publisher goes on
	rcli SET "zvt:account:$alpha:orders" taken >/dev/null
	read -r errs reconnects <<<"$(q -F ' ' -c "SELECT reply_errors, reconnects FROM zvt.redis_status")"
	q -c "SELECT zvt.place_order('$alpha', 'binance', 'BTC-USDT', 'buy', 0.01)" >/dev/null || fail "an order"
	poll_until "SELECT reply_errors = $errs + 3 AND last_error LIKE 'Redis replied: WRONGTYPE%' AND lag_events = 0
	              AND connected AND reconnects = $reconnects FROM zvt.redis_status" t 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "WRONGTYPE replies were not counted, or the publisher stalled"; }
	restart_launcher_expect_one "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt redis'" \
		"Redis publishers"
	q -c "ALTER SYSTEM SET zvt.redis_url = 'redis://zvt:wrong@127.0.0.1:$rport/3'" -c "SELECT pg_reload_conf()" >/dev/null
	poll_until "SELECT NOT connected AND last_error LIKE 'AUTH failed: WRONGPASS%' FROM zvt.redis_status" t 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "a wrong password was not reported"; }
	q -c "ALTER SYSTEM SET zvt.redis_url = ''" -c "SELECT pg_reload_conf()" >/dev/null
	poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt redis'" 0 30 ||
		fail "the publisher did not stop when zvt.redis_url was emptied"
	q -c "ALTER SYSTEM RESET zvt.redis_url" -c "SELECT pg_reload_conf()" >/dev/null
	echo "ok error replies counted; one publisher after a launcher restart; a wrong password reported; an empty URL stops it"
}

# run RING_SIZE: one round as the header says
run() {
	local ring=$1 tag=r$1 dropped skipped sent reconnects
	redis_start
	cluster_start "$dir" "$sport" "$db" "zvt.maintenance_naptime = 1" "zvt.event_ring_size = $ring" \
		"zvt.redis_url = 'redis://zvt:s3cret@127.0.0.1:$rport/3'" "zvt.redis_maxlen = 0" \
		"zvt.metrics_port = $mport" >/dev/null || { tail -5 "$dir/log"; fail "cluster did not start"; }
	q -c "CREATE EXTENSION IF NOT EXISTS zvt" \
	  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$xport', rest_url = 'http://127.0.0.1:$xport' WHERE name = 'binance'" \
	  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot'),
	             ('binance', 'ETH-USDT', 'ETHUSDT', 'ETH', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
	  -c "TRUNCATE zvt.trades, zvt.quotes, zvt.candles" >/dev/null || fail "setup"
	poll_until "SELECT connected AND ring_size = $ring FROM zvt.redis_status" t 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "the publisher did not connect"; }

	# the market streams until the test ends it (GET /end, below)
	"$top/zvt-exsim" --port "$xport" --exchanges binance --symbols BTC-USDT,ETH-USDT --rate 150 \
		--duration 120 --admin-port "$aport" --duplicate 0.05 >"$cap/exsim.$tag.out" 2>&1 &
	sim=$!
	sim_wait "$sim" "$xport" "$aport" || fail "the simulator did not start"
	q -c "SELECT zvt.subscribe('binance', s, 'trades') FROM unnest(ARRAY['BTC-USDT', 'ETH-USDT']) s" \
	  -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'quotes')" >/dev/null || fail "subscribe"
	poll_until "SELECT events_sent > 300 FROM zvt.redis_status" t 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "no entries reached Redis"; }

	# freeze Redis's writes, read what it has, kill it; the feed goes on
	rcli CLIENT PAUSE 60000 WRITE >/dev/null || fail "CLIENT PAUSE"
	dump "$cap/before.$tag.jsonl"
	kill -9 "$redis_pid"
	wait "$redis_pid" 2>/dev/null
	redis_pid=""
	poll_until "SELECT connected FROM zvt.redis_status" f 20 || fail "the publisher did not notice Redis go"
	head=$(q -c "SELECT ring_head FROM zvt.redis_status")
	poll_until "SELECT ring_head > $head + 600 FROM zvt.redis_status" t 60 ||
		fail "the feed did not go on while Redis was away"
	redis_start
	poll_until "SELECT connected AND reconnects >= 1 AND last_error IS NOT NULL FROM zvt.redis_status" t 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "the publisher did not reconnect"; }

	# entries flow on after the reconnect; then the market ends, the last
	# frames land, the simulator goes; stop the feed, let the publisher catch up
	head=$(q -c "SELECT ring_head FROM zvt.redis_status")
	poll_until "SELECT ring_head > $head + 300 FROM zvt.redis_status" t 60 ||
		fail "the feed did not go on after the reconnect"
	curl -fs "http://127.0.0.1:$aport/end?exchange=all" >/dev/null || fail "end the market"
	sleep 1
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
	sim=""
	q -c "ALTER SYSTEM SET zvt.feeds = off" -c "SELECT pg_reload_conf()" >/dev/null
	poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'zvt feed%'" 0 30 || fail "the feed did not stop"
	poll_until "SELECT lag_events FROM zvt.redis_status" 0 30 || {
		q -c "SELECT * FROM zvt.redis_status"; fail "the publisher did not catch up"; }
	dump "$cap/after.$tag.jsonl"
	db_rows "$cap/db.$tag.tsv"
	q -c "SELECT price::text FROM zvt.trades_v WHERE symbol = 'BTC-USDT' ORDER BY ts DESC, trade_id::numeric DESC LIMIT 1" \
		>"$cap/last.$tag.txt"
	read -r dropped skipped sent reconnects <<<"$(q -F ' ' -c "SELECT dropped, skipped, events_sent, reconnects FROM zvt.redis_status")"
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt redis'")" = 1 ] ||
		fail "not exactly one publisher"
	[ "$skipped" = 0 ] || fail "$skipped events skipped"
	# the metrics endpoint says the same
	curl -fsS --max-time 10 "http://127.0.0.1:$mport/metrics" >"$cap/metrics.$tag.txt" || fail "GET /metrics"
	[ "$(awk '$1 == "zvt_redis_dropped_total" {print $2}' "$cap/metrics.$tag.txt")" = "$dropped" ] &&
	[ "$(awk '$1 == "zvt_redis_entries_sent_total" {print $2}' "$cap/metrics.$tag.txt")" = "$sent" ] &&
	[ "$(awk '$1 == "zvt_redis_connected" {print $2}' "$cap/metrics.$tag.txt")" = 1 ] ||
		fail "the metrics differ from zvt.redis_status: $(grep '^zvt_redis' "$cap/metrics.$tag.txt" | tr '\n' ' ')"

	python3 - "$cap" "$tag" "$dropped" "$([ "$ring" -ge 65536 ] && echo big || echo small)" <<'PY' || fail "ring $ring: Redis differs from PostgreSQL"
import json, sys
from collections import defaultdict
cap, tag, dropped, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
db = defaultdict(list)
for l in open(f"{cap}/db.{tag}.tsv"):
    key, ident, val, ts = l.rstrip("\n").split("\t")
    db[key].append((ident, val))
# before the kill nothing was sent twice: a frame the simulator repeated
# (its row already stored) must not be published again
ids = defaultdict(list)
for l in open(f"{cap}/before.{tag}.jsonl"):
    r = json.loads(l)
    if "f" in r:
        ids[r["key"]].append(r["f"]["id"])
for key, v in ids.items():
    assert len(v) == len(set(v)), f"{key}: {len(v) - len(set(v))} entries published twice"
streams = defaultdict(list)
hashes = {}
for part in ("before", "after"):
    for l in open(f"{cap}/{part}.{tag}.jsonl"):
        r = json.loads(l)
        if "hash" in r:
            hashes[r["key"]] = r["hash"]
            continue
        f = r["f"]
        val = f.get("price", f.get("bid", f.get("close")))
        streams[r["key"]].append((f["id"], val))
assert set(streams) <= set(db), f"streams with no stored rows: {set(streams) - set(db)}"
assert {k for k in db if k.endswith(":trades")} <= set(streams), "a trade stream is missing"
left_out = 0
for key, rows in db.items():
    seen, got = set(), []
    for e in streams.get(key, []):      # an entry sent again across a reconnect
        if e[0] not in seen:
            seen.add(e[0])
            got.append(e)
    if kind == "big":
        assert got == rows, (key, len(got), len(rows),
                             next(((i, a, b) for i, (a, b) in enumerate(zip(got, rows)) if a != b), None))
    else:
        # the entries are the stored rows in order, with some left out
        i = 0
        for e in got:
            while i < len(rows) and rows[i] != e:
                i += 1
            assert i < len(rows), (key, "entry out of order or not stored", e)
            i += 1
        left_out += len(rows) - len(got)
    print(f"{tag} {key}: {len(rows)} rows, {len(got)} entries")
if kind == "big":
    assert dropped == 0, f"{dropped} dropped with a big ring"
else:
    assert dropped > 0, "the small ring did not overrun"
    assert left_out == dropped, f"{left_out} rows missing from the streams, the publisher reports {dropped} dropped"
last = open(f"{cap}/last.{tag}.txt").read().strip()
h = hashes.get("zvt:last:binance:BTC-USDT", {})
assert h.get("price") == last, f"last-value hash {h} vs last stored trade {last}"
assert "bid" in h and "ask" in h, f"no quote in the last-value hash {h}"
print(f"ok {tag}: {sum(len(v) for v in db.values())} stored rows, {left_out} left out, {dropped} reported dropped")
PY
	echo "ok ring $ring: $sent entries sent, $dropped dropped, $reconnects reconnects"
	[ "$ring" -ge 65536 ] && { orders; lifecycle; }
	cluster_stop "$dir"
	rm -rf "$dir"
	kill -9 "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=""
}

run 65536
run 256
echo "redis fan-out: streams equal the stored rows; a Redis restart loses nothing or counts its drops exactly"
