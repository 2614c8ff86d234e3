#!/usr/bin/env bash
# The maintenance worker (not a CALL) applies a retention policy: chunks
# older than the policy go, newer ones stay; stray rows reach their chunks.
# Then the attacker: a plain role owning a hypertable with a retention
# policy and triggers that try ALTER ROLE ... SUPERUSER when the worker
# (the bootstrap superuser) deletes or moves its rows: the role stays
# without superuser and the triggers ran as the role.
set -u
. "$(dirname "$0")/common.bash"

q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS kept" \
  -c "CREATE TABLE kept (ts timestamptz NOT NULL, v int)" \
  -c "SELECT relation FROM zvt.create_hypertable('kept', 'ts', '1 day')" \
  -c "INSERT INTO kept SELECT now() - d * interval '1 day', d FROM generate_series(0, 9) d" \
  -c "INSERT INTO kept VALUES ('2001-02-03 04:05:06+00', 100)" >/dev/null || fail "setup"
passes=$(q -c "SELECT passes FROM zvt.maintenance_status()")

# strays first: the worker moves them into chunks
poll_until "SELECT count(*) FROM kept t JOIN zvt._chunks('kept') c ON c.chunk = t.tableoid WHERE c.is_default" 0 30 \
	|| fail "rows stayed in the default partition"
# chunks wholly older than the cutoff: the 2001 one and the days of rows
# 6..9 days old, and of the row 5 days old too in the afternoon (UTC)
[ "$(q -c "SELECT count(*) FROM zvt.show_chunks('kept', older_than => now() - interval '4 days 12 hours')")" -ge 5 ] || fail "old chunks missing before the policy"

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

q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS evil, evil_log" \
  -c "DROP FUNCTION IF EXISTS evil_trigger()" -c "DROP ROLE IF EXISTS zvt_evil" >/dev/null
q >/dev/null <<'SQL' || fail "attacker setup"
CREATE ROLE zvt_evil;
GRANT CREATE ON SCHEMA public TO zvt_evil;
SET ROLE zvt_evil;
CREATE TABLE evil (ts timestamptz NOT NULL, v int);
CREATE TABLE evil_log (trigger_name name, ran_as name, outcome text);
SELECT relation FROM zvt.create_hypertable('evil', 'ts', '1 day');
SELECT zvt.add_retention_policy('evil', interval '30 days');
CREATE FUNCTION evil_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        ALTER ROLE zvt_evil SUPERUSER;
        INSERT INTO public.evil_log VALUES (TG_NAME, current_user, 'escalated');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.evil_log VALUES (TG_NAME, current_user, SQLSTATE);
    END;
    RETURN NULL;
END;
$$;
CREATE TRIGGER evil_row AFTER DELETE ON evil FOR EACH ROW EXECUTE FUNCTION evil_trigger();
-- expired (deleted by retention from the default partition) and stray (moved)
INSERT INTO evil VALUES (now() - interval '100 days', 1), ('2036-06-06', 2);
SQL
failures=$(q -c "SELECT failures FROM zvt.maintenance_status()")
poll_until "SELECT string_agg(v::text, ',' ORDER BY v) FROM evil" 2 30 || fail "the worker did not apply evil's retention"
poll_until "SELECT count(*) FROM evil t JOIN zvt._chunks('evil') c ON c.chunk = t.tableoid WHERE c.is_default" 0 30 \
	|| fail "the worker did not move evil's stray row"
[ "$(q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'zvt_evil'")" = f ] || fail "zvt_evil became superuser"
[ "$(q -c "SELECT count(*) FROM evil_log WHERE outcome = 'escalated'")" = 0 ] || fail "a trigger altered the role"
ran_as=$(q -c "SELECT string_agg(DISTINCT ran_as::text, ',') FROM evil_log")
[ "$ran_as" = zvt_evil ] || fail "the trigger ran as [$ran_as], not as the owner"
[ "$(q -c "SELECT failures = $failures FROM zvt.maintenance_status()")" = t ] || fail "evil's pass failed"
q -c "DROP TABLE evil, evil_log" -c "DROP FUNCTION evil_trigger()" \
  -c "REVOKE CREATE ON SCHEMA public FROM zvt_evil" -c "DROP ROLE zvt_evil" >/dev/null
echo "the attacker's triggers ran as the attacker"

# a table whose every pass fails: a stray row whose chunk would overlap a
# partition of its own off the chunk grid
failures=$(q -c "SELECT failures FROM zvt.maintenance_status()")
q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS broken, fine" >/dev/null
q >/dev/null <<'SQL' || fail "broken setup"
BEGIN;
CREATE TABLE broken (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
CREATE TABLE broken_odd PARTITION OF broken FOR VALUES FROM ('2040-01-01 12:00+00') TO ('2040-01-01 13:00+00');
SELECT relation FROM zvt.create_hypertable('broken', 'ts', '1 day');
INSERT INTO broken VALUES ('2040-01-01 03:00+00', 1);
CREATE TABLE fine (ts timestamptz NOT NULL, v int);
SELECT relation FROM zvt.create_hypertable('fine', 'ts', '1 day');
COMMIT;
SQL
poll_until "SELECT failures > $failures FROM zvt.maintenance_status()" t 30 || fail "the failing pass was not counted"
q -c "INSERT INTO fine VALUES ('2037-07-07', 1)" >/dev/null
poll_until "SELECT count(*) FROM fine t JOIN zvt._chunks('fine') c ON c.chunk = t.tableoid WHERE NOT c.is_default" 1 30 \
	|| fail "a failing hypertable stopped the others"
last=$(q -c "SELECT last_error FROM zvt.maintenance_status()")
case "$last" in
	public.broken:*overlaps*) ;;
	*) fail "last_error: $last" ;;
esac
grep -q 'zvt maintenance of hypertable "public.broken"' "$ZVT_TEST_DIR/log" || fail "the log does not name the failing table"
# another role's table and error are not for every role to read
q -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS zvt_nosy" -c "CREATE ROLE zvt_nosy" >/dev/null
seen=$(q -c "SET ROLE zvt_nosy" -c "SELECT coalesce(last_error, 'hidden') FROM zvt.maintenance_status()")
[ "$seen" = hidden ] || fail "a plain role reads last_error: $seen"
seen=$(q -c "GRANT pg_read_all_stats TO zvt_nosy" -c "SET ROLE zvt_nosy" -c "SELECT last_error FROM zvt.maintenance_status()")
case "$seen" in public.broken:*) ;; *) fail "pg_read_all_stats does not read last_error: $seen" ;; esac
q -c "DROP ROLE zvt_nosy" >/dev/null
q -c "DROP TABLE broken, fine" >/dev/null
echo "a failing hypertable was logged and counted, the others maintained"
