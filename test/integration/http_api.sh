#!/usr/bin/env bash
# test/integration/http_api.sh: the HTTP front's API layer.
#
# 1. The request-level suite (test/http/run.py, 300+ cases) against the
#    test cluster: through zvt._http_serve by default, over HTTP when
#    ZVT_HTTP_URL names a running front.
# 2. zvt._http_serve is for superusers only, as an attacker would try it.
# 3. The schema cache follows DDL without a reload: a table created, a
#    column added, a table renamed and back, a table dropped in the same
#    session show at once.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/integration/common.bash"

python3 "$top/test/http/run.py" || fail "request suite"

# --- superuser only ------------------------------------------------------
q -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS zvt_http_intruder" -c "CREATE ROLE zvt_http_intruder"
out=$(psql -X -qAt -c "SET ROLE zvt_http_intruder" \
	-c "SELECT status FROM zvt._http_serve('GET', '/clients', '', '{}', NULL, 'postgres', false)" 2>&1 || true)
echo "$out" | grep -q "permission denied for function _http_serve" \
	|| fail "a plain role called zvt._http_serve: $out"
q -c "GRANT EXECUTE ON FUNCTION zvt._http_serve(text, text, text, jsonb, text, text, boolean) TO zvt_http_intruder"
out=$(psql -X -qAt -c "SET ROLE zvt_http_intruder" \
	-c "SELECT status FROM zvt._http_serve('GET', '/clients', '', '{}', NULL, 'postgres', false)" 2>&1 || true)
q -c "REVOKE EXECUTE ON FUNCTION zvt._http_serve(text, text, text, jsonb, text, text, boolean) FROM zvt_http_intruder"
echo "$out" | grep -q "Only superusers may run HTTP requests from SQL" \
	|| fail "a plain role granted EXECUTE ran a request: $out"
q -c "DROP ROLE zvt_http_intruder"
echo "ok _http_serve refuses non-superusers, even with EXECUTE"

# --- the cache follows DDL -----------------------------------------------
serve="SELECT status || ' ' || coalesce(body, '') FROM zvt._http_serve('GET', '/later', '', '{}', NULL, 'zvt_test_anon')"
out=$(psql -X -qAt -v ON_ERROR_STOP=1 \
	-c "SET zvt.http_schemas = 'zvt_api_test'" \
	-c "$serve" \
	-c "CREATE TABLE zvt_api_test.later (id int)" \
	-c "INSERT INTO zvt_api_test.later VALUES (1)" \
	-c "GRANT SELECT ON zvt_api_test.later TO zvt_test_anon" \
	-c "$serve" \
	-c "ALTER TABLE zvt_api_test.later ADD COLUMN v text DEFAULT 'x'" \
	-c "$serve" \
	-c "ANALYZE zvt_api_test.items" \
	-c "ALTER TABLE zvt_api_test.later RENAME TO later2" \
	-c "$serve" \
	-c "ALTER TABLE zvt_api_test.later2 RENAME TO later" \
	-c "$serve" \
	-c "DROP TABLE zvt_api_test.later" \
	-c "$serve")
want='404 {"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table '"'"'zvt_api_test.later'"'"' in the schema cache"}
200 [{"id":1}]
200 [{"id":1,"v":"x"}]
404 {"code":"PGRST205","details":null,"hint":"Perhaps you meant the table '"'"'zvt_api_test.later2'"'"'","message":"Could not find the table '"'"'zvt_api_test.later'"'"' in the schema cache"}
200 [{"id":1,"v":"x"}]
404 {"code":"PGRST205","details":null,"hint":null,"message":"Could not find the table '"'"'zvt_api_test.later'"'"' in the schema cache"}'
[ "$out" = "$want" ] || fail "schema cache after DDL: got
$out"
echo "ok the schema cache follows CREATE, ALTER, RENAME and DROP in the same session"
