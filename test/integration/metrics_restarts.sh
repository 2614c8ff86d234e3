#!/usr/bin/env bash
# test/integration/metrics_restarts.sh: zvt_worker_starts_total,
# zvt_worker_restarts_total and zvt_crash_restarts_total (base/runs.c),
# on a cluster of its own so that kill -9 resets only it.
#
# A binance feed streams from the simulator and a resting paper order
# keeps the paper matcher running.  kill -9 of the feed worker makes the
# postmaster restart every process: the feed's and the matcher's starts
# and restarts each move by exactly one, and so does
# zvt_crash_restarts_total (the counts live in memory the postmaster
# mapped once, which the crash restart does not reset).  Then kill -9 of
# the matcher: again one each.  SIGTERM of the matcher (an exit with an
# error, no crash restart) moves only the matcher's counts; a clean exit
# (a feed worker's on SIGTERM, the metrics worker's when its port is
# reset) is a start when it comes back, not a restart.  Each scrape passes promtool check metrics.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
expect() { [ "$3" = "$2" ] || fail "$1: want [$2], got [$3]"; echo "ok $1"; }

command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"
dir=$ZVT_TEST_DIR/metrics_restarts
sim_pid=
cleanup() {
	local rc=$?
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ "$rc" = 0 ] || grep -E 'zvt|terminated|reinitializing' "$dir/log" 2>/dev/null | tail -25 >&2
	cluster_stop "$dir"
}
trap cleanup EXIT
rm -rf "$dir"
mkdir -p "$dir"

simport=$(free_port_range $((PGPORT % 20000 + 6200)) 4)
"$top/zvt-exsim" --port "$simport" --symbols BTC-USDT --rate 20 --duration 3600 >"$dir/exsim.out" 2>&1 &
sim_pid=$!
sim_up "$sim_pid" "$simport"

port=$(free_port $((PGPORT % 20000 + 6300)))
mport=$(free_port $((port + 1)))
cluster_start "$dir" "$port" zvt_runs "zvt.metrics_port = $mport" "zvt.maintenance_naptime = 1" \
	|| fail "cluster did not start"
q -f - >/dev/null <<SQL || fail "setup"
SET client_min_messages = warning;
CREATE EXTENSION zvt;
UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$simport', rest_url = 'http://127.0.0.1:$simport'
 WHERE name = 'binance';
SELECT zvt.sync_instruments('binance');
SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades');
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9601, 'binance', 'RS-USDT', 'RSUSDT', 'RS', 'USDT', 'spot');
SELECT zvt.bus_publish('binance', 'RS-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1);
SELECT zvt.create_account('rs', initial_cash => 100000);
SELECT zvt.place_order('rs', 'binance', 'RS-USDT', 'buy', 1, 'limit', price => 50, client_order_id => 'rs-rest');
SQL

feed_pid="SELECT pid FROM zvt.feed_status WHERE exchange = 'binance' AND pid IS NOT NULL"
matcher_pid="SELECT pid FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher'"
# up: the feed streams, the matcher runs and the endpoint answers
up() {
	local i
	for ((i = 0; i < 300; i++)); do
		if [ -n "$(q -c "$feed_pid" 2>/dev/null)" ] && [ -n "$(q -c "$matcher_pid" 2>/dev/null)" ] &&
			curl -fsS -o /dev/null "http://127.0.0.1:$mport/metrics" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
scrape() { curl -sS --max-time 10 "http://127.0.0.1:$mport/metrics"; }
# counts: "feed_starts feed_restarts matcher_starts matcher_restarts crash_restarts" of one scrape
counts() {
	local out
	out=$(scrape) || return 1
	echo "$out" | promtool check metrics >&2 || { echo "promtool"; return 1; }
	echo "$out" | awk '
		$1 == "zvt_worker_starts_total{kind=\"feed\",name=\"binance\"}" {fs = $2}
		$1 == "zvt_worker_restarts_total{kind=\"feed\",name=\"binance\"}" {fr = $2}
		$1 == "zvt_worker_starts_total{kind=\"paper_matcher\"}" {ms = $2}
		$1 == "zvt_worker_restarts_total{kind=\"paper_matcher\"}" {mr = $2}
		$1 == "zvt_crash_restarts_total" {c = $2}
		END {print fs + 0, fr + 0, ms + 0, mr + 0, c + 0}'
}
# plus A DELTAS: the counts A moved by DELTAS, field by field
plus() { local -a a=($1) d=($2); echo $((a[0] + d[0])) $((a[1] + d[1])) $((a[2] + d[2])) $((a[3] + d[3])) $((a[4] + d[4])); }
# expect_counts WHAT WANT: poll (bounded) until the counts are WANT, then
# check that they stay so while the launcher goes round its loop
expect_counts() {
	local what=$1 want=$2 got i
	for ((i = 0; i < 300; i++)); do
		got=$(counts 2>/dev/null)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	[ "$got" = "$want" ] || fail "$what: want [$want] (feed starts, restarts, matcher starts, restarts, crash restarts), got [$got]"
	up || fail "$what: the feed or the matcher is not running"
	sleep 1
	got=$(counts) || fail "$what: scrape"
	[ "$got" = "$want" ] || fail "$what: counts moved on to [$got] from [$want]"
	echo "ok $what: $got"
}
up || fail "the feed, the matcher or the endpoint did not come up"
c0=$(counts) || fail "scrape"
case "$c0" in [1-9]*" 0 "[1-9]*" 0 0") ;; *) fail "first counts [$c0]: want starts and no restart" ;; esac
echo "ok first counts: $c0"
out=$(scrape) || fail "scrape"
echo "$out" | promtool check metrics || fail "promtool check metrics"
for m in 'zvt_worker_starts_total{kind="launcher"}' 'zvt_worker_starts_total{kind="metrics"}' \
	'zvt_worker_restarts_total{kind="http",name="0"}' 'zvt_worker_starts_total{kind="router",name="okx"}' \
	'zvt_worker_starts_total{kind="maintenance"}' 'zvt_worker_restarts_total{kind="redis"}' \
	'zvt_worker_restarts_total{kind="backfill"}' 'zvt_worker_starts_total{kind="feed",name="coinbase"}'; do
	echo "$out" | grep -qF "$m " || fail "no $m in the output"
done

# kill -9 WHAT's pid: wait for the crash restart, and for everything to be up again
crash() {
	local pid resets i
	pid=$(q -c "$1")
	[ -n "$pid" ] || fail "no $2 to kill"
	resets=$(grep -c "all server processes terminated; reinitializing" "$dir/log")
	kill -KILL "$pid"
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c "all server processes terminated; reinitializing" "$dir/log")" -gt "$resets" ] && break
		sleep 0.05
	done
	[ "$i" -lt 200 ] || fail "no crash restart after kill -9 of $2"
	for ((i = 0; i < 300; i++)); do q -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
	up || fail "the feed or the matcher did not come back after kill -9 of $2"
}
crash "$feed_pid" "the binance feed worker"
expect_counts "kill -9 of the feed worker" "$(plus "$c0" "1 1 1 1 1")"
crash "$matcher_pid" "the paper matcher"
expect_counts "kill -9 of the matcher" "$(plus "$c0" "2 2 2 2 2")"

# SIGTERM: the matcher exits with an error (FATAL); no crash restart
pid=$(q -c "$matcher_pid")
q -c "SELECT pg_terminate_backend($pid)" >/dev/null
poll_until "SELECT count(*) FROM ($matcher_pid) m WHERE pid <> $pid" 1 30 || fail "the matcher did not come back after SIGTERM"
expect_counts "SIGTERM of the matcher" "$(plus "$c0" "2 2 3 3 2")"

# SIGTERM of a feed worker: it writes its batch and exits 0; the launcher
# starts it again: a start, not a restart
pid=$(q -c "$feed_pid")
q -c "SELECT pg_terminate_backend($pid)" >/dev/null
poll_until "SELECT count(*) FROM ($feed_pid) f WHERE pid <> $pid" 1 30 || fail "the feed did not come back after SIGTERM"
expect_counts "SIGTERM of the feed worker (a clean stop)" "$(plus "$c0" "3 2 3 3 2")"

# a clean exit, then a start: not a restart
ms() { scrape | awk -v m="zvt_worker_$1_total{kind=\"metrics\"}" '$1 == m {print $2}'; }
starts=$(ms starts)
restarts=$(ms restarts)
q -c "ALTER SYSTEM SET zvt.metrics_port = 0" -c "SELECT pg_reload_conf()" >/dev/null
poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt metrics'" 0 20 || fail "metrics worker did not stop"
q -c "ALTER SYSTEM RESET zvt.metrics_port" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 200; i++)); do curl -fsS -o /dev/null "http://127.0.0.1:$mport/metrics" 2>/dev/null && break; sleep 0.1; done
expect "metrics worker starts after a clean exit" $((starts + 1)) "$(ms starts)"
expect "metrics worker restarts after a clean exit" "$restarts" "$(ms restarts)"
