#!/usr/bin/env bash
# Four sessions insert into ranges that have no chunk yet while chunks are
# being created under them (run_maintenance in a loop and direct
# _ensure_chunk calls): no statement fails and every row is there once,
# in its chunk.
set -u
. "$(dirname "$0")/common.bash"

q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS race" -c "CREATE TABLE race (ts timestamptz NOT NULL, writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n, ts))" \
  -c "SELECT relation FROM zvt.create_hypertable('race', 'ts', '1 hour')" >/dev/null || fail "setup"

rows=400
pids=()
for w in 1 2 3 4; do
	(
		for ((n = 0; n < rows; n++)); do
			# spread over 6 hours of 2031 so chunks keep appearing
			echo "INSERT INTO race VALUES (timestamptz '2031-03-03 00:00+00' + ($n % 6) * interval '1 hour' + $w * interval '1 second' + $n * interval '1 ms', $w, $n);"
		done
	) | psql -X -q -v ON_ERROR_STOP=1 >"$ZVT_TEST_DIR/race.$w.log" 2>&1 &
	pids+=($!)
done
(
	for i in $(seq 1 30); do
		echo "CALL zvt.run_maintenance();"
		echo "SELECT zvt._ensure_chunk('race', timestamptz '2031-03-03 00:00+00' + ($i % 8) * interval '1 hour');"
	done
) | psql -X -q -v ON_ERROR_STOP=1 >"$ZVT_TEST_DIR/race.m.log" 2>&1 &
mpid=$!

for p in "${pids[@]}"; do
	wait "$p" || { cat "$ZVT_TEST_DIR"/race.*.log; fail "a writer failed"; }
done
wait "$mpid" || { cat "$ZVT_TEST_DIR/race.m.log"; fail "maintenance failed"; }

[ "$(q -c "SELECT count(*) FROM race")" = $((4 * rows)) ] || fail "row count $(q -c 'SELECT count(*) FROM race')"
[ "$(q -c "SELECT count(DISTINCT (writer, n)) FROM race")" = $((4 * rows)) ] || fail "duplicates"
q -c "CALL zvt.run_maintenance()" || fail "final maintenance"
[ "$(q -c "SELECT count(*) FROM race t JOIN zvt._chunks('race') c ON c.chunk = t.tableoid WHERE c.is_default")" = 0 ] || fail "rows left in default"
[ "$(q -c "SELECT count(*) FROM zvt.show_chunks('race', older_than => '2031-03-03 06:00+00'::timestamptz, newer_than => '2031-03-03'::timestamptz)")" = 6 ] || fail "expected 6 hourly chunks"
q -c "DROP TABLE race"
echo "4 writers x $rows rows, all present once"
