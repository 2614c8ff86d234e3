# test/integration/http_lib.bash: sourced by the http_*.sh scripts.
#
# http_start [SETTING = VALUE ...]: turn the HTTP front on (ALTER SYSTEM,
# reload) on a free port and an admin port, with a known JWT secret, and
# wait until every worker answers /live.  http_stop (run from the EXIT
# trap) resets what http_start set.  Every wait is bounded.

. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

HTTP_SECRET='zvt-test-secret-0123456789abcdefghijklmnop'
http_settings=(zvt.http_port zvt.http_admin_port zvt.jwt_secret zvt.http_log_level)

http_start() {
	local s i name
	HTTP_PORT=$(free_port $((PGPORT % 20000 + 3000)))
	ADMIN_PORT=$(free_port $((HTTP_PORT + 1)))
	BASE=http://127.0.0.1:$HTTP_PORT
	ADMIN=http://127.0.0.1:$ADMIN_PORT
	q -c "ALTER SYSTEM SET zvt.http_port = $HTTP_PORT" \
	  -c "ALTER SYSTEM SET zvt.http_admin_port = $ADMIN_PORT" \
	  -c "ALTER SYSTEM SET zvt.jwt_secret = '$HTTP_SECRET'" \
	  -c "ALTER SYSTEM SET zvt.http_log_level = 'info'" >/dev/null || fail "configure the HTTP front"
	for s in "$@"; do
		name=${s%% =*}
		http_settings+=("$name")
		q -c "ALTER SYSTEM SET $s" >/dev/null || fail "set $s"
	done
	q -c "SELECT pg_reload_conf()" >/dev/null
	poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt http'" \
		"$(q -c "SHOW zvt.http_workers")" 20 || fail "HTTP workers not started"
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "$ADMIN/ready" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the HTTP front is not ready"
}

http_stop() {
	local s
	for s in "${http_settings[@]}"; do
		q -c "ALTER SYSTEM RESET $s" >/dev/null
	done
	q -c "SELECT pg_reload_conf()" >/dev/null
}

# token CLAIMS-JSON: an HS256 token from zvt.jwt_sign
token() { q -c "SELECT zvt.jwt_sign('$1'::jsonb)"; }

# hit ARGS...: prints "STATUS BODY" of one request (curl ARGS)
hit() {
	local out
	out=$(curl -sS --max-time 10 -w '\n%{http_code}' "$@") || { echo "curl-failed"; return 0; }
	echo "${out##*$'\n'} ${out%$'\n'*}"
}

# header NAME ARGS...: the value of response header NAME (curl ARGS)
header() {
	local name=$1
	shift
	curl -sS --max-time 10 -D - -o /dev/null "$@" | tr -d '\r' |
		awk -v n="$(echo "$name" | tr A-Z a-z)" 'tolower(substr($0, 1, index($0, ":") - 1)) == n {print substr($0, index($0, ":") + 2)}'
}

# expect WHAT WANT GOT
expect() { [ "$3" = "$2" ] || fail "$1: want [$2], got [$3]"; echo "ok $1"; }
