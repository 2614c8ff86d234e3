#!/usr/bin/env bash
# Without shared_preload_libraries the extension installs and its storage
# functions work, and what needs the workers says so with 55000 and a hint.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

dir=$ZVT_TEST_DIR/nopreload
port=$(free_port $((PGPORT + 20)))
(
	cluster_start "$dir" "$port" plain_db "shared_preload_libraries = ''"
) >/dev/null || fail "cluster did not start"
export PGHOST=$dir/sock PGPORT=$port PGDATABASE=plain_db
trap 'cluster_stop "$dir"' EXIT

q -c "CREATE EXTENSION zvt" || fail "CREATE EXTENSION without preload"
q -c "CALL zvt.run_maintenance()" || fail "run_maintenance without preload"
[ "$(q -c "SELECT count(*) > 0 FROM zvt.show_chunks('zvt.trades')")" = t ] || fail "no chunks"
out=$(psql -X -qAt -c "\\set VERBOSITY default" -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" 2>&1)
echo "$out" | grep -q 'ERROR:  zvt.subscribe requires zvt to be loaded via shared_preload_libraries' || fail "subscribe: $out"
echo "$out" | grep -q 'HINT:  Add zvt to shared_preload_libraries' || fail "no hint: $out"
state=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" 2>&1)
[ "$state" = "ERROR:  55000" ] || fail "subscribe sqlstate: $state"
state=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM zvt.maintenance_status()" 2>&1)
[ "$state" = "ERROR:  55000" ] || fail "maintenance_status sqlstate: $state"
echo "without preload: storage works, workers' features raise 55000"
