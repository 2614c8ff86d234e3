#!/usr/bin/env bash
# The maintenance worker (not a CALL) applies a retention policy: chunks
# older than the policy go, newer ones stay; stray rows reach their chunks.
set -u
. "$(dirname "$0")/common.bash"

q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS kept" \
  -c "CREATE TABLE kept (ts timestamptz NOT NULL, v int)" \
  -c "SELECT relation FROM zvt.create_hypertable('kept', 'ts', '1 day')" \
  -c "INSERT INTO kept SELECT now() - d * interval '1 day', d FROM generate_series(0, 9) d" \
  -c "INSERT INTO kept VALUES ('2001-02-03 04:05:06+00', 100)" >/dev/null || fail "setup"
passes=$(q -c "SELECT passes FROM zvt.maintenance_status()")

# strays first: the worker moves them into chunks
poll_until "SELECT count(*) FROM ONLY _zvt_chunks.public_kept_default" 0 30 || fail "rows stayed in the default partition"
[ "$(q -c "SELECT count(*) FROM zvt.show_chunks('kept', older_than => now() - interval '4 days 12 hours')")" -ge 6 ] || fail "old chunks missing before the policy"

q -c "SELECT zvt.add_retention_policy('kept', interval '4 days 12 hours')" >/dev/null
poll_until "SELECT count(*) FROM zvt.show_chunks('kept', older_than => now() - interval '4 days 12 hours')" 0 30 || fail "worker did not drop old chunks"
# rows 0..4 days old survive (each sits in a chunk ending after the cutoff), older ones are gone
got=$(q -c "SELECT string_agg(v::text, ',' ORDER BY v) FROM kept")
case "$got" in
	0,1,2,3,4|0,1,2,3,4,5) ;;
	*) fail "unexpected rows after retention: $got" ;;
esac
[ "$(q -c "SELECT passes > $passes AND failures = 0 FROM zvt.maintenance_status()")" = t ] || fail "maintenance status"
grep -q 'zvt maintenance of "public.kept": .*dropped [1-9]' "$ZVT_TEST_DIR/log" || fail "no log line for the drop"
q -c "DROP TABLE kept"
echo "retention applied by the worker: kept $got"
