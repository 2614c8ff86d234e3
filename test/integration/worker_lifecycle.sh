#!/usr/bin/env bash
# The launcher on a cluster of its own copes with the zvt database being
# absent, created, given the extension, having it dropped and re-created,
# and being dropped itself while zvt runs; it is restarted after being
# killed; and _PG_init warns when max_worker_processes is too low.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

dir=$ZVT_TEST_DIR/lifecycle
port=$(free_port $((PGPORT + 10)))
(
	cluster_start "$dir" "$port" lifecycle_db "zvt.maintenance_naptime = 1" "max_worker_processes = 8"
) >/dev/null || fail "cluster did not start"
export PGHOST=$dir/sock PGPORT=$port PGDATABASE=postgres
trap 'cluster_stop "$dir"' EXIT
log=$dir/log

# the too-low max_worker_processes warning
grep -q 'WARNING:  max_worker_processes is 8, too low for zvt' "$log" || fail "no max_worker_processes warning"

# cluster_start created the database; drop it so the launcher waits for it
q -c "DROP DATABASE lifecycle_db WITH (FORCE)" || fail "drop initial database"
wait_log "$log" 'zvt database "lifecycle_db" does not exist; waiting for it' 20 ||
	fail "launcher did not report the missing database"

# database without the extension: passes start and end quietly
q -c "CREATE DATABASE lifecycle_db"
export PGDATABASE=lifecycle_db
sleep 2
q -c "CREATE EXTENSION zvt"
# a pass creates the chunks ahead of now for the built-in hypertables
poll_until "SELECT count(*) > 0 FROM zvt.show_chunks('zvt.trades')" t 20 || fail "no pass after CREATE EXTENSION"

# DROP EXTENSION and CREATE EXTENSION again while the launcher runs
q -c "DROP EXTENSION zvt" || fail "drop extension"
sleep 1.5
q -c "CREATE EXTENSION zvt" || fail "re-create extension"
poll_until "SELECT count(*) > 0 FROM zvt.show_chunks('zvt.quotes')" t 20 || fail "no pass after re-creating the extension"

# the launcher is not connected to the database, and a pass lasts
# milliseconds, so DROP DATABASE (without FORCE) goes through
export PGDATABASE=postgres
dropped=no
for i in 1 2 3 4 5; do
	if q -c "DROP DATABASE lifecycle_db" 2>/dev/null; then dropped=yes; break; fi
	sleep 0.3
done
[ "$dropped" = yes ] || fail "DROP DATABASE kept failing while zvt runs"
q -c "CREATE DATABASE lifecycle_db"
PGDATABASE=lifecycle_db q -c "CREATE EXTENSION zvt"
PGDATABASE=lifecycle_db poll_until "SELECT count(*) > 0 FROM zvt.show_chunks('zvt.trades')" t 20 || fail "no pass after re-creating the database"

# a killed launcher comes back (bgw_restart_time 5 s)
pid=$(PGDATABASE=lifecycle_db q -c "SELECT launcher_pid FROM zvt.maintenance_status()")
[ -n "$pid" ] || fail "no launcher pid"
kill -TERM "$pid"
PGDATABASE=lifecycle_db poll_until "SELECT launcher_pid IS NOT NULL AND launcher_pid <> $pid FROM zvt.maintenance_status()" t 20 \
	|| fail "launcher not restarted"

# a restarted launcher has no handles of the workers the old one started:
# it must not start a second paper matcher beside the running one (each
# worker claims its slot in shared memory, and the launcher reads it)
export PGDATABASE=lifecycle_db
matchers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher'"
q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9401, 'binance', 'LC-USDT', 'LCUSDT', 'LC', 'USDT', 'spot')" \
  -c "SELECT zvt.bus_publish('binance', 'LC-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "SELECT 1 FROM zvt.create_account('lc', initial_cash => 1000)" \
  -c "SELECT status FROM zvt.place_order('lc', 'binance', 'LC-USDT', 'buy', 1, 'limit', price => 50)" >/dev/null \
	|| fail "resting order"
poll_until "$matchers" 1 20 || fail "no matcher for a resting order"
restart_launcher_expect_one "$matchers" "paper matchers"
echo "launcher survived database and extension churn and a kill; one matcher after its restart"
