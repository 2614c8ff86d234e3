#!/usr/bin/env bash
# test/integration/http_limits.sh: what the HTTP front adds around the API
# (src/http/limits.c, server.c, run.c): /live and /ready on the admin
# port, keep-alive, HEAD, the URL reaching the API layer as the client
# encoded it, the body limit (413), oversized heads, the statement
# timeout (504), rate limits (429 with Retry-After), CORS, Server-Timing,
# the access log, and idle connections closed.
set -u
. "$(dirname "$0")/http_lib.bash"

cleanup() {
	local rc=$?
	http_stop
	q -c "SET client_min_messages = warning" \
	  -c "DROP FUNCTION IF EXISTS zvt_api.http_slow()" -c "DROP VIEW IF EXISTS zvt_api.http_echo" \
	  -c "DROP TABLE IF EXISTS zvt_api.http_rows" >/dev/null
	[ "$rc" = 0 ] || grep 'zvt http' "$ZVT_TEST_DIR/log" | tail -20 >&2
}
trap cleanup EXIT

q -c "CREATE VIEW zvt_api.http_echo AS SELECT 'a&b=c d+e%/?#'::text AS s" \
  -c "GRANT SELECT ON zvt_api.http_echo TO zvt_anon" \
  -c "CREATE FUNCTION zvt_api.http_slow() RETURNS text LANGUAGE plpgsql AS \$\$
      BEGIN
        -- sleeps only in a worker that has the test's timeout (reloads reach
        -- each worker on its own time)
        IF current_setting('zvt.http_statement_timeout') <> '300ms' THEN RETURN 'waiting'; END IF;
        PERFORM pg_sleep(30);
        RETURN 'slept';
      END \$\$" \
  -c "GRANT EXECUTE ON FUNCTION zvt_api.http_slow() TO zvt_anon" \
  -c "CREATE TABLE zvt_api.http_rows (id int PRIMARY KEY)" -c "INSERT INTO zvt_api.http_rows VALUES (1), (2), (3)" \
  -c "GRANT SELECT, DELETE ON zvt_api.http_rows TO zvt_anon" >/dev/null || fail "setup"
http_start "zvt.http_max_body = 4096" \
	"zvt.http_cors_origins = 'https://app.example, https://other.example'" "zvt.http_idle_timeout = 2"

# --- admin port ------------------------------------------------------------------
expect "/live" 200 "$(hit "$ADMIN/live" | cut -d' ' -f1)"
expect "/ready" 200 "$(hit "$ADMIN/ready" | cut -d' ' -f1)"
expect "other admin path" 404 "$(hit "$ADMIN/metrics" | cut -d' ' -f1)"
expect "POST on the admin port" 405 "$(hit -X POST "$ADMIN/live" | cut -d' ' -f1)"
expect "the API port has no /live" 404 "$(hit "$BASE/live/x" | cut -d' ' -f1)"

# --- keep-alive, HEAD, the URL as encoded -----------------------------------------
reused=$(curl -sv -o /dev/null -o /dev/null "$BASE/instruments" "$BASE/instruments" 2>&1 | grep -c 'Re-using existing connection')
expect "keep-alive: the second request reuses the connection" 1 "$reused"
expect "HEAD: no body" "200 " "$(hit -I "$BASE/instruments" -o /dev/null | head -c 4)"
expect "escaped &, =, space, +, %, /, ?, # reach the API as sent" '200 [{"s":"a&b=c d+e%/?#"}]' \
	"$(hit "$BASE/http_echo?s=eq.a%26b%3Dc%20d%2Be%25%2F%3F%23")"
expect "an unescaped + is a space, as in a form" '200 []' "$(hit "$BASE/http_echo?s=eq.a+b")"

# --- sizes -------------------------------------------------------------------------
big=$(head -c 5000 /dev/zero | tr '\0' 'x')
expect "body over zvt.http_max_body" 413 \
	"$(hit -X POST -H 'Content-Type: application/json' -d "{\"x\": \"$big\"}" "$BASE/rpc/whoami" | cut -d' ' -f1)"
expect "413 body" '{"code":null,"details":null,"hint":"Send at most zvt.http_max_body bytes.","message":"request body too large"}' \
	"$(hit -X POST -H 'Content-Type: application/json' -d "{\"x\": \"$big\"}" "$BASE/rpc/whoami" | cut -d' ' -f2-)"
huge=$(head -c 9000 /dev/zero | tr '\0' 'y')
expect "a 9 kB header" 431 \
	"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "User-Agent: $huge" "$BASE/instruments")"
expect "a 9 kB query" 431 "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/instruments?id=eq.$huge")"
huge=$(head -c 20000 /dev/zero | tr '\0' 'y')
expect "a 20 kB header: the connection is closed" 000 \
	"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "X-Big: $huge" "$BASE/instruments")"
expect "still serving after it" 200 "$(hit "$BASE/instruments" | cut -d' ' -f1)"

# --- Prefer: max-affected ----------------------------------------------------------------
expect "max-affected exceeded with handling=strict" \
	'400 {"code":"PGRST124","details":"The query affects 3 rows","hint":null,"message":"Query result exceeds max-affected preference constraint"}' \
	"$(hit -X DELETE -H 'Prefer: handling=strict, max-affected=2' "$BASE/http_rows?id=gt.0")"
expect "nothing deleted" 3 "$(q -c "SELECT count(*) FROM zvt_api.http_rows")"
expect "max-affected without handling=strict is ignored" 204 \
	"$(hit -X DELETE -H 'Prefer: max-affected=1' "$BASE/http_rows?id=eq.3" | cut -d' ' -f1)"
expect "within max-affected" 204 \
	"$(hit -X DELETE -H 'Prefer: handling=strict, max-affected=2' "$BASE/http_rows?id=gt.0" | cut -d' ' -f1)"
expect "deleted" 0 "$(q -c "SELECT count(*) FROM zvt_api.http_rows")"
q -c "INSERT INTO zvt_api.http_rows VALUES (7)" >/dev/null
expect "the count asked for max-affected is not shown" "*/*" \
	"$(header Content-Range -X DELETE -H 'Prefer: handling=strict, max-affected=2' "$BASE/http_rows?id=eq.7")"

# --- Server-Timing and the access log -----------------------------------------------------
st=$(header Server-Timing "$BASE/instruments")
[[ "$st" =~ ^jwt\;dur=[0-9.]+,\ transaction\;dur=[0-9.]+$ ]] || fail "Server-Timing [$st]"
echo "ok Server-Timing: $st"
curl -s -o /dev/null -A "zvt-limits-$$" "$BASE/instruments?id=eq.-1"
for ((i = 0; i < 50; i++)); do
	grep -q "zvt_anon \"GET /instruments?id=eq.-1 HTTP/1.1\" 200 2 \"\" \"zvt-limits-$$\"" "$ZVT_TEST_DIR/log" && break
	sleep 0.1
done
[ "$i" -lt 50 ] || fail "no access log line"
echo "ok access log line"
# a token in the query (as the /stream page sends it) never reaches the log
curl -s -o /dev/null -A "zvt-limits-tok-$$" "$BASE/instruments?token=sekret-$$.x.y&id=eq.-1"
for ((i = 0; i < 50; i++)); do
	grep -q "\"GET /instruments?token=redacted&id=eq.-1 HTTP/1.1\" [0-9]* [0-9]* \"\" \"zvt-limits-tok-$$\"" "$ZVT_TEST_DIR/log" && break
	sleep 0.1
done
[ "$i" -lt 50 ] || fail "no access log line for a request with a token"
! grep -q "sekret-$$" "$ZVT_TEST_DIR/log" || fail "a token reached the server log"
echo "ok a query's token is redacted in the access log"

# --- CORS --------------------------------------------------------------------------------
expect "allowed origin" https://app.example \
	"$(header Access-Control-Allow-Origin -H 'Origin: https://app.example' "$BASE/instruments")"
expect "other origin gets no CORS header" "" \
	"$(header Access-Control-Allow-Origin -H 'Origin: https://evil.example' "$BASE/instruments")"
expect "preflight" 200 "$(hit -X OPTIONS -H 'Origin: https://other.example' \
	-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type, prefer' \
	"$BASE/rpc/place_order" | cut -d' ' -f1)"
expect "preflight methods" "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD" \
	"$(header Access-Control-Allow-Methods -X OPTIONS -H 'Origin: https://other.example' \
		-H 'Access-Control-Request-Method: POST' "$BASE/rpc/place_order")"
expect "preflight headers" "content-type, prefer" \
	"$(header Access-Control-Allow-Headers -X OPTIONS -H 'Origin: https://other.example' \
		-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type, prefer' \
		"$BASE/rpc/place_order")"

# --- idle connections are closed ---------------------------------------------------------
closed=$(python3 - "$HTTP_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(15)
t = time.time()
try:
    print("closed" if s.recv(1) == b"" else "data")
except (socket.timeout, ConnectionResetError) as e:
    print(type(e).__name__)
PY
)
expect "a silent connection is closed (zvt.http_idle_timeout)" closed "$closed"

# --- statement timeout -------------------------------------------------------------------
# 300 ms only here: the checks above run under the default (10 s), so that
# a new worker's first requests (schema and catalog caches) on a loaded or
# sanitized server are not cut.  Wait for a worker that has it (http_slow
# answers "waiting" until then), and after the reset for one that has not.
slow() { hit -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/http_slow"; }
q -c "ALTER SYSTEM SET zvt.http_statement_timeout = 300" -c "SELECT pg_reload_conf()" >/dev/null
http_settings+=(zvt.http_statement_timeout)
for ((i = 0; i < 100; i++)); do
	out=$(slow)
	[ "$out" != '200 "waiting"' ] && break
	sleep 0.1
done
expect "zvt.http_statement_timeout: 504" \
	'504 {"code":"57014","details":null,"hint":null,"message":"canceling statement due to statement timeout"}' "$out"
q -c "ALTER SYSTEM RESET zvt.http_statement_timeout" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 100; i++)); do
	out=$(slow)
	[ "$out" = '200 "waiting"' ] && break
	sleep 0.1
done
expect "served after a timeout" '200 "waiting"' "$out"

# --- rate limit (last: it changes the configuration) ---------------------------------------
q -c "ALTER SYSTEM SET zvt.http_rate_limit = 1" -c "SELECT pg_reload_conf()" >/dev/null
http_settings+=(zvt.http_rate_limit)
# three requests on one connection, then a fourth: at 1 request/s the
# fourth finds the bucket empty unless a second passed (then try again)
for ((i = 0; i < 20; i++)); do
	codes=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' "$BASE/tickers" "$BASE/tickers" "$BASE/tickers")
	out=$(curl -s -D - "$BASE/tickers" | tr -d '\r')
	[[ "$codes" == *429* ]] && echo "$out" | grep -q '^HTTP/1.1 429' && break
	sleep 0.1
done
[[ "$codes" == *429* ]] || fail "no 429 at 1 request/s: $codes"
echo "ok rate limited: $codes"
echo "$out" | grep -q '^HTTP/1.1 429' || fail "not limited right after"
ra=$(echo "$out" | awk -F': ' 'tolower($1) == "retry-after" {print $2}')
[ "$ra" = 1 ] || fail "Retry-After [$ra]"
echo "$out" | tail -1 | grep -q '"message":"too many requests"' || fail "429 body: $(echo "$out" | tail -1)"
echo "ok 429 with Retry-After: 1"
sleep "$ra"
expect "served again after Retry-After" 200 "$(hit "$BASE/tickers" | cut -d' ' -f1)"
echo "http_limits: all passed"
