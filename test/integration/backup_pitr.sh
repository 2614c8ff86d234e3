#!/usr/bin/env bash
# Base backup, WAL archiving and point-in-time recovery of a running zvt
# (docs/operations.md).  On a cluster of its own with archive_mode on, a
# feed streams trades and quotes from the simulator and paper orders are
# placed (market orders on a spot and a perpetual account, resting
# limits, a partial fill by the paper matcher) while pg_basebackup runs.
# A target time is taken just after a marker row commits, with the ledger
# as it is then; more orders and a second marker follow; the WAL is
# switched and archived and the cluster stopped.  The backup is restored
# into a new data directory with restore_command and
# recovery_target_time, and promoted.  Checked: recovery stopped at the
# target (the first marker and every order before it are there, the
# second marker and the later orders are not, no trade received between
# the target and the restart), the ledger equals its state at the target
# and is consistent (fills sum to each order's filled quantity and fees,
# events to its status, positions equal a replay of the fills, balances
# the initial cash plus the fills, open-order totals the open orders);
# zvt's workers start only once recovery is over; the feed resumes and
# records the downtime in zvt.feed_gaps; the paper matcher fills the
# restored resting orders; maintenance passes run; /metrics answers.  A
# fast restart (what a new zvt.so needs) then costs the feed a reconnect
# and one more gap row per subscription, and leaves the ledger consistent.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$ZVT_TEST_DIR/pitr
dir2=$ZVT_TEST_DIR/pitr_restored
arch=$dir/archive
db=pitr
port=$(free_port $((PGPORT + 40)))
port2=$(free_port $((port + 1)))
mport=$(free_port $((PGPORT + 340)))
sport=$(free_port_range 19800 4)
admin=$(free_port $((sport + 10)))
# the archive exists before the server's first segment is ready for it
mkdir -p "$arch" "$dir2"
[ "$(id -u)" = 0 ] && chown postgres: "$dir" "$arch" "$dir2"

"$top/zvt-exsim" --port "$sport" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT,ETH-USDT-PERP \
	--rate 20 --duration 150 >"$ZVT_TEST_DIR/pitr_exsim.out" 2>&1 &
sim=$!
cleanup() {
	local rc=$?
	kill $sim 2>/dev/null
	[ "$rc" = 0 ] || { tail -30 "$dir/log" "$dir2/log" 2>/dev/null >&2; }
	cluster_stop "$dir"
	cluster_stop "$dir2"
}
trap cleanup EXIT
sim_up "$sim" "$sport" "$admin"

(
	cluster_start "$dir" "$port" "$db" "zvt.maintenance_naptime = 1" "wal_level = replica" \
		"archive_mode = on" "archive_command = 'test ! -f $arch/%f && cp %p $arch/%f'" \
		"zvt.metrics_port = $mport"
) >/dev/null || fail "cluster did not start"
export PGHOST=$dir/sock PGPORT=$port PGDATABASE=$db

# --- the running system: a feed from the simulator, two paper accounts ------
q >/dev/null <<SQL || fail "setup"
SET client_min_messages = warning;
CREATE EXTENSION zvt;
CREATE TABLE public.pitr_marks (mark text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp());
UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($sport + o), rest_url = 'http://127.0.0.1:' || ($sport + o)
  FROM (VALUES ('binance', 0), ('bybit', 1)) AS p (name, o) WHERE exchanges.name = p.name;
SELECT zvt.sync_instruments('binance');
SELECT zvt.sync_instruments('bybit');
SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades');
SELECT zvt.subscribe('binance', 'BTC-USDT', 'quotes');
SELECT 1 FROM zvt.create_account('pitr_spot', initial_cash => 1000000);
SELECT 1 FROM zvt.create_account('pitr_perp', initial_cash => 1000000, maker_fee_bps => 2, taker_fee_bps => 5);
SQL
poll_until "SELECT count(*) > 0 FROM zvt.trades_v WHERE exchange = 'binance'" t 30 || fail "no trades from the simulator"

# orders LABEL N: N rounds of a new bus price for ETH-USDT (spot, binance)
# and ETH-USDT-PERP (bybit), both between 2995 and 3005, then a market
# order on each: spot buys 0.02 and sells 0.01 in turn, the perpetual
# alternates sides with sizes that flip the position now and then.  The
# feed streams only BTC-USDT, so these prices are the only ones of the two
# instruments.  Each statement is a transaction of its own.
orders() {
	local label=$1 n=$2 i p side qty
	for ((i = 1; i <= n; i++)); do
		p=$((2995 + (i * 7 + ${#label}) % 11))
		echo "SELECT zvt.bus_publish('binance', 'ETH-USDT', price => $p, qty => 1, bid => $p - 0.5, ask => $p + 0.5);"
		echo "SELECT zvt.bus_publish('bybit', 'ETH-USDT-PERP', price => $p, qty => 1, bid => $p - 0.5, ask => $p + 0.5);"
		if ((i % 2)); then side=buy qty=0.02; else side=sell qty=0.01; fi
		echo "SELECT status FROM zvt.place_order('pitr_spot', 'binance', 'ETH-USDT', '$side', $qty, client_order_id => '$label-s$i');"
		if ((i % 2)); then side=buy; else side=sell; fi
		qty=0.0$((1 + (i * 3) % 5))
		echo "SELECT status FROM zvt.place_order('pitr_perp', 'bybit', 'ETH-USDT-PERP', '$side', $qty, client_order_id => '$label-p$i');"
	done | q >"$ZVT_TEST_DIR/pitr_orders.out" || fail "orders $label: $(tail -3 "$ZVT_TEST_DIR/pitr_orders.out")"
	grep -v '^filled$' "$ZVT_TEST_DIR/pitr_orders.out" | grep -q . && fail "orders $label did not all fill: $(sort "$ZVT_TEST_DIR/pitr_orders.out" | uniq -c)"
	return 0
}

# the ledger at a point: one md5 per table, in a fixed order
ledger="zvt.accounts zvt.balances zvt.orders zvt.order_events zvt.fills zvt.holdings zvt.exposure
	zvt.daily_pnl public.pitr_marks"
fingerprint() {
	local t
	for t in $ledger; do
		echo "$t $(q -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
		                 FROM $t x")"
	done
}

# The ledger's consistency, as SQL: each query returns the rows that break
# a rule, so all of them together print nothing on a consistent ledger.
ledger_problems() {
	q <<'SQL'
-- an order's fills sum to its filled quantity and fees; its average fill
-- price is theirs; its status says how much is filled
SELECT 'order ' || o.order_id || ' (' || o.status || '): filled ' || o.filled_qty || ' fees ' || o.fees
       || ', fills ' || coalesce(f.qty, 0) || ' fees ' || coalesce(f.fee, 0)
  FROM zvt.orders o
  LEFT JOIN (SELECT order_id, sum(qty) AS qty, sum(fee) AS fee, sum(qty * price) AS notional
               FROM zvt.fills GROUP BY 1) f USING (order_id)
 WHERE coalesce(f.qty, 0) <> o.filled_qty OR coalesce(f.fee, 0) <> o.fees
    OR abs(coalesce(f.notional / nullif(f.qty, 0), 0) - coalesce(o.avg_fill_price, 0)) > 1e-8
    OR (o.status = 'filled') <> (o.filled_qty = o.qty)
    OR (o.status = 'partially_filled' AND NOT (o.filled_qty > 0 AND o.filled_qty < o.qty))
    OR (o.status IN ('new', 'accepted', 'rejected') AND o.filled_qty <> 0);
-- the events: first 'new', one 'fill' event per fill with its quantity,
-- and the last one leaves the order in its status
SELECT 'order ' || o.order_id || ': events ' || e.first || '..' || e.last_status || ', '
       || e.fills || ' fill events for ' || e.qty
  FROM zvt.orders o
  JOIN (SELECT order_id, (array_agg(event ORDER BY event_id))[1] AS first,
               (array_agg(status ORDER BY event_id DESC))[1] AS last_status,
               count(*) FILTER (WHERE event = 'fill') AS fills,
               coalesce(sum(qty) FILTER (WHERE event = 'fill'), 0) AS qty
          FROM zvt.order_events GROUP BY 1) e USING (order_id)
 WHERE e.first <> 'new' OR e.last_status <> o.status OR e.qty <> o.filled_qty
    OR e.fills <> (SELECT count(*) FROM zvt.fills f WHERE f.order_id = o.order_id);
SELECT 'order ' || o.order_id || ' has no events' FROM zvt.orders o
 WHERE NOT EXISTS (SELECT FROM zvt.order_events e WHERE e.order_id = o.order_id);
-- positions: a replay of the fills in their order with the netting rules
-- (docs/trading.md) gives each holding's quantity, average price and
-- realized PnL, and each fill's realized PnL
WITH RECURSIVE f AS (
    SELECT account_id, instrument_id, fill_id, qty, price, realized_pnl,
           CASE side WHEN 'buy' THEN 1 ELSE -1 END AS dir,
           row_number() OVER (PARTITION BY account_id, instrument_id ORDER BY fill_id) AS n
      FROM zvt.fills),
r (account_id, instrument_id, n, q, avg, realized, bad_fills) AS (
    SELECT DISTINCT account_id, instrument_id, 0::int8, 0::numeric, 0::numeric, 0::numeric, 0
      FROM f
    UNION ALL
    SELECT r.account_id, r.instrument_id, f.n, trim_scale(r.q + f.dir * f.qty),
           CASE WHEN r.q = 0 OR sign(r.q) = f.dir
                THEN trim_scale(round((abs(r.q) * r.avg + f.qty * f.price) / (abs(r.q) + f.qty), 10))
                WHEN r.q + f.dir * f.qty = 0 THEN 0
                WHEN sign(r.q + f.dir * f.qty) = sign(r.q) THEN r.avg
                ELSE f.price END,
           r.realized + x.realized,
           r.bad_fills + (x.realized <> f.realized_pnl)::int
      FROM r
      JOIN f ON f.account_id = r.account_id AND f.instrument_id = r.instrument_id AND f.n = r.n + 1
     CROSS JOIN LATERAL (SELECT CASE WHEN r.q = 0 OR sign(r.q) = f.dir THEN 0
                                     ELSE least(f.qty, abs(r.q)) * (f.price - r.avg) * sign(r.q) END
                         AS realized) x),
replayed AS (SELECT DISTINCT ON (account_id, instrument_id) * FROM r ORDER BY account_id, instrument_id, n DESC)
SELECT 'holding ' || coalesce(h.account_id, p.account_id) || '/' || coalesce(h.instrument_id, p.instrument_id)
       || ': ' || coalesce(h.qty, 0) || ' @ ' || coalesce(h.avg_price, 0) || ' pnl ' || coalesce(h.realized_pnl, 0)
       || ', replay ' || coalesce(p.q, 0) || ' @ ' || coalesce(p.avg, 0) || ' pnl ' || coalesce(p.realized, 0)
       || ', ' || coalesce(p.bad_fills, 0) || ' fills with another PnL'
  FROM zvt.holdings h FULL JOIN replayed p USING (account_id, instrument_id)
 WHERE coalesce(h.qty, 0) <> coalesce(p.q, 0) OR coalesce(h.avg_price, 0) <> coalesce(p.avg, 0)
    OR coalesce(h.realized_pnl, 0) <> coalesce(p.realized, 0) OR coalesce(p.bad_fills, 0) <> 0;
-- balances: the initial cash, then per fill the quote asset moves by the
-- notional and the fee (spot) or the realized PnL and the fee
-- (perpetual), and the base asset by the quantity (spot)
WITH moves (account_id, asset, amount) AS (
    SELECT account_id, currency, initial_cash FROM zvt.accounts
    UNION ALL
    SELECT f.account_id, i.quote,
           CASE WHEN i.kind = 'spot'
                THEN -(CASE f.side WHEN 'buy' THEN 1 ELSE -1 END * f.qty * f.price) - f.fee
                ELSE f.realized_pnl - f.fee END
      FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id
    UNION ALL
    SELECT f.account_id, i.base, CASE f.side WHEN 'buy' THEN 1 ELSE -1 END * f.qty
      FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id WHERE i.kind = 'spot'),
expected AS (SELECT account_id, asset, sum(amount) AS amount FROM moves GROUP BY 1, 2)
SELECT 'balance ' || coalesce(b.account_id, e.account_id) || ' ' || coalesce(b.asset, e.asset)
       || ': ' || coalesce(b.amount, 0) || ', from the fills ' || coalesce(e.amount, 0)
  FROM zvt.balances b FULL JOIN expected e USING (account_id, asset)
 WHERE coalesce(b.amount, 0) <> coalesce(e.amount, 0);
-- daily PnL sums to the fills' realized PnL and fees
SELECT 'daily_pnl ' || a.account_id || ': ' || coalesce(d.realized, 0) || '/' || coalesce(d.fees, 0)
       || ', fills ' || coalesce(f.realized, 0) || '/' || coalesce(f.fees, 0)
  FROM zvt.accounts a
  LEFT JOIN (SELECT account_id, sum(realized) AS realized, sum(fees) AS fees FROM zvt.daily_pnl GROUP BY 1) d USING (account_id)
  LEFT JOIN (SELECT account_id, sum(realized_pnl) AS realized, sum(fee) AS fees FROM zvt.fills GROUP BY 1) f USING (account_id)
 WHERE coalesce(d.realized, 0) <> coalesce(f.realized, 0) OR coalesce(d.fees, 0) <> coalesce(f.fees, 0);
-- open-order totals: count, unfilled quantity and notional of the open
-- orders per account and instrument
WITH open AS (
    SELECT account_id, instrument_id, count(*) AS n,
           coalesce(sum(qty - filled_qty) FILTER (WHERE side = 'buy'), 0) AS buy_qty,
           coalesce(sum(qty - filled_qty) FILTER (WHERE side = 'sell'), 0) AS sell_qty,
           coalesce(sum((qty - filled_qty) * reserve_price) FILTER (WHERE side = 'buy'), 0) AS buy_notional,
           coalesce(sum((qty - filled_qty) * reserve_price) FILTER (WHERE side = 'sell'), 0) AS sell_notional
      FROM zvt.orders WHERE status IN ('accepted', 'partially_filled') GROUP BY 1, 2)
SELECT 'exposure ' || coalesce(x.account_id, o.account_id) || '/' || coalesce(x.instrument_id, o.instrument_id)
       || ': ' || coalesce(x.open_orders, 0) || ' open, ' || coalesce(x.buy_qty, 0) || '/' || coalesce(x.sell_qty, 0)
       || '; orders ' || coalesce(o.n, 0) || ' open, ' || coalesce(o.buy_qty, 0) || '/' || coalesce(o.sell_qty, 0)
  FROM zvt.exposure x FULL JOIN open o USING (account_id, instrument_id)
 WHERE coalesce(x.open_orders, 0) <> coalesce(o.n, 0)
    OR coalesce(x.buy_qty, 0) <> coalesce(o.buy_qty, 0) OR coalesce(x.sell_qty, 0) <> coalesce(o.sell_qty, 0)
    OR coalesce(x.buy_notional, 0) <> coalesce(o.buy_notional, 0)
    OR coalesce(x.sell_notional, 0) <> coalesce(o.sell_notional, 0);
SQL
}
check_ledger() {
	local out
	out=$(ledger_problems 2>&1)
	[ -z "$out" ] || fail "ledger inconsistent ($1):
$out"
}

# resting orders, and a trade at 2950 of 0.2 that the paper matcher fills
# against the 2950 buy; later prices stay above every resting buy and
# below the resting sell, so nothing but place_order writes the ledger
orders setup 6
q >/dev/null <<'SQL' || fail "resting orders"
SELECT status FROM zvt.place_order('pitr_spot', 'binance', 'ETH-USDT', 'buy', 0.5, 'limit', price => 2950,
                                   client_order_id => 'rest-a');
SELECT status FROM zvt.place_order('pitr_spot', 'binance', 'ETH-USDT', 'buy', 0.3, 'limit', price => 2900,
                                   client_order_id => 'rest-b');
SELECT status FROM zvt.place_order('pitr_perp', 'bybit', 'ETH-USDT-PERP', 'sell', 0.1, 'limit', price => 3100,
                                   client_order_id => 'rest-c');
SELECT zvt.bus_publish('binance', 'ETH-USDT', price => 2950, qty => 0.2, bid => 2999.5, ask => 3000.5);
SQL
poll_until "SELECT status || ' ' || filled_qty FROM zvt.orders WHERE client_order_id = 'rest-a'" "partially_filled 0.2" 20 \
	|| fail "the paper matcher did not fill 0.2 of rest-a"
orders pre 10

# --- a base backup while the feed writes and orders are placed ----------------
as_pg "$PGBIN/pg_basebackup" -h "$dir/sock" -p "$port" -U postgres -D "$dir/backup" --checkpoint=fast \
	>"$ZVT_TEST_DIR/pitr_basebackup.out" 2>&1 &
bb=$!
rounds=0
while :; do
	orders "bk$rounds" 3
	rounds=$((rounds + 1))
	kill -0 $bb 2>/dev/null || break
	[ $rounds -lt 50 ] || break
done
wait $bb || fail "pg_basebackup: $(cat "$ZVT_TEST_DIR/pitr_basebackup.out")"
orders post 5

# --- the target: just after the marker commits ------------------------------
q -c "INSERT INTO public.pitr_marks (mark) VALUES ('before')" >/dev/null || fail "marker before"
target=$(q -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
at_target=$(fingerprint)
check_ledger "before the backup's restore, at the target"
orders_at=$(q -c "SELECT count(*) || ' orders, ' || (SELECT count(*) FROM zvt.fills) || ' fills' FROM zvt.orders")
trades_at=$(q -c "SELECT count(*) FROM zvt.trades")

# --- after the target: more orders, a second marker; archive and stop -------
orders after 5
q -c "INSERT INTO public.pitr_marks (mark) VALUES ('after')" >/dev/null || fail "marker after"
poll_until "SELECT count(*) > $trades_at FROM zvt.trades" t 20 || fail "no trades after the target"
# the segment holding all of it, closed and handed to archive_command
seg=$(q -c "SELECT pg_walfile_name(pg_switch_wal())")
poll_until "SELECT coalesce(last_archived_wal, '') >= '$seg' FROM pg_stat_archiver" t 30 \
	|| fail "segment $seg not archived: $(q -c 'SELECT * FROM pg_stat_archiver')"
lost=$(q -c "SELECT count(*) FROM zvt.orders WHERE client_order_id LIKE 'after-%'")
cluster_stop "$dir"
[ -f "$dir/data/postmaster.pid" ] && fail "the cluster did not stop"
echo "backup taken during $rounds rounds of orders; at the target $orders_at; $lost orders after it"

# --- point-in-time recovery into a new data directory -----------------------
as_pg cp -a "$dir/backup" "$dir2/data"
as_pg mkdir -p "$dir2/sock"
as_pg tee -a "$dir2/data/postgresql.conf" >/dev/null <<CONF
port = $port2
unix_socket_directories = '$dir2/sock'
restore_command = 'cp $arch/%f %p'
recovery_target_time = '$target'
recovery_target_action = 'promote'
CONF
as_pg touch "$dir2/data/recovery.signal"
as_pg "$PGBIN/pg_ctl" -D "$dir2/data" -l "$dir2/log" -w -t 60 start >/dev/null || fail "the restored cluster did not start"
export PGHOST=$dir2/sock PGPORT=$port2
poll_until "SELECT pg_is_in_recovery()" f 60 || fail "recovery did not end"
grep -q "recovery stopping before commit of transaction [0-9]*, time" "$dir2/log" \
	|| fail "recovery did not stop at the target: $(grep -E 'recovery|redo' "$dir2/log")"

# zvt's workers start only once recovery is over (BgWorkerStart_RecoveryFinished)
ready=$(grep -n 'archive recovery complete' "$dir2/log" | head -1 | cut -d: -f1)
poll_until "SELECT launcher_pid IS NOT NULL FROM zvt.maintenance_status()" t 20 || fail "no launcher after recovery"
launched=$(grep -n 'zvt launcher started' "$dir2/log" | head -1 | cut -d: -f1)
[ -n "$ready" ] && [ -n "$launched" ] && [ "$launched" -gt "$ready" ] \
	|| fail "the launcher started at log line ${launched:-none}, recovery ended at line ${ready:-none}"

# the restored ledger is the one at the target, and consistent
[ "$(q -c "SELECT string_agg(mark, ',' ORDER BY mark) FROM public.pitr_marks")" = before ] \
	|| fail "markers after recovery: $(q -c 'SELECT string_agg(mark, $$,$$) FROM public.pitr_marks')"
got=$(fingerprint)
[ "$got" = "$at_target" ] || fail "the restored ledger differs from the ledger at the target:
$(diff <(echo "$at_target") <(echo "$got"))"
check_ledger "restored"
[ "$(q -c "SELECT count(*) FROM zvt.orders WHERE client_order_id LIKE 'after-%'")" = 0 ] || fail "orders after the target restored"
[ "$(q -c "SELECT count(*) FROM zvt.orders WHERE client_order_id LIKE 'bk%'")" = $((rounds * 6)) ] \
	|| fail "orders placed during the backup: $(q -c "SELECT count(*) FROM zvt.orders WHERE client_order_id LIKE 'bk%'") of $((rounds * 6))"
# market data: nothing received after the target and before the restart
start=$(q -c "SELECT pg_postmaster_start_time()")
[ "$(q -c "SELECT count(*) FROM zvt.trades WHERE local_ts > '$target' AND local_ts < '$start'")" = 0 ] \
	|| fail "trades received after the target were restored"
echo "recovered to $target: $orders_at, every ledger table equal to its state then, consistent"

# --- zvt after the restore ----------------------------------------------------
# the feed reconnects: new trades, and the downtime as a gap per subscription
poll_until "SELECT count(*) > 0 FROM zvt.trades WHERE local_ts > '$start'" t 30 || fail "no trades after the restore"
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE exchange = 'binance' AND symbol = 'BTC-USDT'
             AND reason = 'feed worker restarted' AND to_ts IS NOT NULL" 2 20 \
	|| fail "no gap rows for the downtime: $(q -c 'SELECT * FROM zvt.feed_gaps')"
# (the backfill worker repairs them from REST meanwhile: repaired_at may be set)
[ "$(q -c "SELECT bool_and(from_ts <= '$target' AND to_ts >= '$start')
            FROM zvt.feed_gaps WHERE reason = 'feed worker restarted'")" = t ] \
	|| fail "the gaps do not cover the downtime: $(q -c 'SELECT * FROM zvt.feed_gaps')"
gap=$(q -c "SELECT from_ts || ' .. ' || to_ts FROM zvt.feed_gaps WHERE reason = 'feed worker restarted' LIMIT 1")

# orders place, and the paper matcher fills the restored resting buys
out=$(q -c "SELECT zvt.bus_publish('binance', 'ETH-USDT', price => 3001, qty => 1, bid => 3000.5, ask => 3001.5)" \
        -c "SELECT status FROM zvt.place_order('pitr_spot', 'binance', 'ETH-USDT', 'buy', 0.02)" | tail -1)
[ "$out" = filled ] || fail "a market order after the restore: $out"
q -c "SELECT zvt.bus_publish('binance', 'ETH-USDT', price => 2900, qty => 1, bid => 2899.5, ask => 2900.5)" >/dev/null
poll_until "SELECT string_agg(client_order_id || ' ' || status, ',' ORDER BY client_order_id)
              FROM zvt.orders WHERE client_order_id LIKE 'rest-%'" "rest-a filled,rest-b filled,rest-c accepted" 20 \
	|| fail "the paper matcher did not fill the restored resting orders"
check_ledger "after orders and fills on the restored cluster"

# maintenance runs its passes: chunks from now to zvt.chunks_ahead (1) days
# ahead, nothing left in the default partition; /metrics answers
poll_until "SELECT passes > 0 AND failures = 0 FROM zvt.maintenance_status()" t 20 \
	|| fail "maintenance after the restore: $(q -c 'SELECT * FROM zvt.maintenance_status()')"
poll_until "SELECT count(*) FROM zvt._chunks('zvt.trades') c
             WHERE NOT c.is_default AND (now() <@ tstzrange(c.range_start, c.range_end)
                                         OR now() + interval '1 day' <@ tstzrange(c.range_start, c.range_end))" 2 20 \
	|| fail "no chunks for today and tomorrow after the restore"
poll_until "SELECT count(*) FROM ONLY _zvt_chunks.trades_default" 0 20 || fail "trades left in the default partition"
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$mport/metrics" >"$ZVT_TEST_DIR/pitr_metrics.txt" 2>/dev/null && break; sleep 0.2; done
# open until the backfill worker has repaired them from REST
grep -Eq '^zvt_feed_gaps\{exchange="binance",state="(open|repaired)"\} [1-9]' "$ZVT_TEST_DIR/pitr_metrics.txt" \
	|| fail "/metrics does not show the gaps: $(grep zvt_feed_gaps "$ZVT_TEST_DIR/pitr_metrics.txt")"
grep -Eq '^zvt_feed_received_bytes_total\{exchange="binance"\} [1-9]' "$ZVT_TEST_DIR/pitr_metrics.txt" \
	|| fail "/metrics counts no bytes of the streaming feed"
echo "after the restore: the feed resumed with a gap $gap, orders place, the matcher filled the restored resting orders"

# --- a restart, as for a new zvt.so (docs/operations.md, upgrades) ---------
# the feed writes what it received, stops, and after the restart reconnects
# with one more gap per subscription, from its last stored data on
q -c "CHECKPOINT" >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$dir2/data" -m fast -w -t 60 restart -l "$dir2/log" >/dev/null || fail "restart"
restarted=$(q -c "SELECT pg_postmaster_start_time()")
poll_until "SELECT count(*) FROM zvt.feed_gaps WHERE reason = 'feed worker restarted' AND to_ts IS NOT NULL
             AND from_ts < '$restarted' AND to_ts >= '$restarted'" 2 30 \
	|| fail "no gap rows for the restart: $(q -c 'SELECT * FROM zvt.feed_gaps')"
poll_until "SELECT count(*) > 0 FROM zvt.trades WHERE local_ts > '$restarted'" t 30 || fail "no trades after the restart"
[ "$(q -c "SELECT status FROM zvt.orders WHERE client_order_id = 'rest-c'")" = accepted ] || fail "rest-c after the restart"
check_ledger "after a restart"
gap2=$(q -c "SELECT max(to_ts - from_ts) FROM zvt.feed_gaps WHERE from_ts < '$restarted' AND to_ts >= '$restarted'")
echo "a fast restart: the feed was back after $gap2 (the gap row's length)"
