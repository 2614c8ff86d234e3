#!/usr/bin/env bash
# test/integration/metrics_front.sh: GET /metrics on the HTTP front
# (zvt.http_metrics, src/http/metrics_page.c), as an attacker too.
#
# Off (the default), /metrics is an ordinary API path: a view named
# metrics in zvt_api answers it.  Under pg_monitor the front serves the
# metrics worker's exposition instead (the view is shadowed, also as
# //metrics/): anonymous gets 401, a trader's token 403, a forged token
# 401, a token naming a pg_monitor member the authenticator may not
# become, or a superuser, is refused, and a role
# with pg_monitor's privileges gets text that passes promtool check
# metrics and whose key series (worker starts and restarts, orders by
# status, fills, gaps, backtest runs) equal the metrics port's; HEAD,
# other methods 405.  Under open anonymous gets it, and a trader's token
# gets the same series, with no account, role, order or symbol in it.
# With zvt.metrics_port 0 the launcher still runs the metrics worker for
# the front (no port is bound) and stops it when the front's /metrics is
# off again.  Each front /metrics is counted among the HTTP requests.
set -u
. "$(dirname "$0")/http_lib.bash"

command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"
mport=$(free_port $((PGPORT + 320)))
running="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt metrics'"
cleanup() {
	local rc=$?
	q -c "SET ROLE mfront_trader" -c "SELECT count(*) FROM zvt.cancel_all('$acct')" >/dev/null 2>&1
	q -c "DROP VIEW IF EXISTS zvt_api.metrics" -c "ALTER SYSTEM RESET zvt.metrics_port" \
	  -c "ALTER SYSTEM RESET zvt.http_metrics" -c "SELECT pg_reload_conf()" >/dev/null
	http_stop
	[ "$rc" = 0 ] || grep -E 'zvt metrics|zvt http|zvt launcher' "$ZVT_TEST_DIR/log" 2>/dev/null | tail -20 >&2
}
trap cleanup EXIT

acct=mfront_$$
q -c "SET client_min_messages = warning" \
  -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mfront_trader') THEN CREATE ROLE mfront_trader NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mfront_monitor') THEN CREATE ROLE mfront_monitor NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mfront_stranger') THEN CREATE ROLE mfront_stranger NOLOGIN; END IF;
      END \$\$" \
  -c "GRANT zvt_trader TO mfront_trader" -c "GRANT pg_monitor TO mfront_monitor, mfront_stranger" \
  -c "GRANT mfront_trader, mfront_monitor TO zvt_authenticator" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'MFRONT-USDT', 'MFRONTUSDT', 'MFRONT', 'USDT', 'spot') ON CONFLICT (exchange, symbol) DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'MFRONT-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "CREATE VIEW zvt_api.metrics AS SELECT 'the table'::text AS what" \
  -c "GRANT SELECT ON zvt_api.metrics TO zvt_anon, zvt_trader" >/dev/null || fail "setup"
q -c "SET ROLE mfront_trader" -c "SELECT 1 FROM zvt.create_account('$acct', initial_cash => 100000)" \
  -c "SELECT 1 FROM zvt.place_order('$acct', 'binance', 'MFRONT-USDT', 'buy', 1, 'limit', price => 50, client_order_id => 'mfront-rest')" \
  >/dev/null || fail "the trader's account and order"

q -c "ALTER SYSTEM SET zvt.metrics_port = $mport" -c "SELECT pg_reload_conf()" >/dev/null || fail "set the port"
http_start
poll_until "$running" 1 20 || fail "no metrics worker"
for ((i = 0; i < 50; i++)); do curl -fsS -o /dev/null "http://127.0.0.1:$mport/metrics" 2>/dev/null && break; sleep 0.2; done
trader=$(token '{"role": "mfront_trader"}')
monitor=$(token '{"role": "mfront_monitor"}')

# --- off: /metrics is an API path -----------------------------------------------
expect "off: /metrics is the view" '200 [{"what":"the table"}]' "$(hit "$BASE/metrics")"
expect "off: no metrics worker beyond the port's" 1 "$(q -c "$running")"
# openapi WHAT JQ-FILTER [CURL ARGS]: the filter holds for the OpenAPI document at /
openapi() {
	local out
	out=$(curl -sS --max-time 10 "${@:3}" "$BASE/")
	expect "$1" true "$(jq -c "$2" <<<"$out" 2>&1)"
}
view_listed='(.paths["/metrics"].get.tags == ["metrics"]) and (.definitions.metrics.properties | has("what"))'
exposition='.paths["/metrics"].get.produces == ["text/plain; version=0.0.4"] and (.definitions | has("metrics") | not)'
nothing='(.paths | has("/metrics") | not) and (.definitions | has("metrics") | not)'
openapi "off: OpenAPI lists the view at /metrics" "$view_listed"

# --- pg_monitor -----------------------------------------------------------------
q -c "ALTER SYSTEM SET zvt.http_metrics = pg_monitor" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 50; i++)); do [ "$(hit "$BASE/metrics" | cut -d' ' -f1)" = 401 ] && break; sleep 0.1; done
out=$(hit "$BASE/metrics")
expect "pg_monitor: anonymous gets 401" 401 "${out%% *}"
case "$out" in *zvt_*) fail "the 401 carries metrics: $out" ;; *"the table"*) fail "the 401 is the view's" ;; esac
expect "the 401 asks for a token" Bearer "$(header WWW-Authenticate "$BASE/metrics")"
out=$(hit -H "Authorization: Bearer $trader" "$BASE/metrics")
expect "pg_monitor: a trader's token gets 403" 403 "${out%% *}"
case "$out" in *zvt_*) fail "the 403 carries metrics: $out" ;; esac
forged="${monitor%.*}.$(echo -n forged | base64 | tr '+/' '-_' | tr -d '=')"
expect "a forged monitor token gets 401" 401 "$(hit -H "Authorization: Bearer $forged" "$BASE/metrics" | cut -d' ' -f1)"
for role in mfront_stranger postgres; do
	t=$(token "{\"role\": \"$role\"}")
	out=$(hit -H "Authorization: Bearer $t" "$BASE/metrics")
	case "${out%% *}" in 401 | 403) ;; *) fail "a token naming $role got ${out%% *}" ;; esac
	case "$out" in *zvt_*) fail "a token naming $role got metrics" ;; esac
done
echo "ok pg_monitor: anonymous 401, trader 403, forged 401, a monitor not granted to the authenticator and a superuser refused"
openapi "pg_monitor: OpenAPI for anonymous has neither the shadowed view nor /metrics" "$nothing"
openapi "pg_monitor: OpenAPI for the trader has neither" "$nothing" -H "Authorization: Bearer $trader"
openapi "pg_monitor: OpenAPI for the monitor lists /metrics as the exposition, not the view" "$exposition" \
	-H "Authorization: Bearer $monitor"

get=$(curl -sS "http://127.0.0.1:$mport/metrics" | awk '$1 == "zvt_http_requests_total{method=\"GET\",status=\"2xx\"}" {print $2}')
front() { curl -sS --max-time 10 -H "Authorization: Bearer $monitor" "$@"; }
# the matcher the resting order started runs (its start is among the key series)
poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher'" 1 20 || fail "no matcher"
key() {
	grep -E '^zvt_(worker_(starts|restarts)_total|crash_restarts_total|orders|orders_rejected|fills_total|backtest_runs|feed_gaps|extension_installed|sql_up)[{ ]' |
		grep -v 'kind="maintenance"' | sort
}
# key series equal the port's (maintenance passes may start between two
# scrapes, other workers rarely: three tries)
for try in 1 2 3; do
	port_out=$(curl -sS --max-time 10 "http://127.0.0.1:$mport/metrics") || fail "metrics port"
	front_out=$(front "$BASE/metrics") || fail "front /metrics"
	[ "$(echo "$port_out" | key)" = "$(echo "$front_out" | key)" ] && break
done
echo "$front_out" | promtool check metrics || fail "promtool check metrics rejects the front's /metrics"
expect "the front's Content-Type" "text/plain; version=0.0.4; charset=utf-8" \
	"$(header Content-Type -H "Authorization: Bearer $monitor" "$BASE/metrics")"
case "$front_out" in *"the table"*) fail "the view answered under pg_monitor" ;; esac
[ "$(echo "$front_out" | key | wc -l)" -gt 40 ] || fail "few key series on the front: $(echo "$front_out" | key | wc -l)"
[ "$(echo "$port_out" | key)" = "$(echo "$front_out" | key)" ] ||
	fail "key series differ: $(diff <(echo "$port_out" | key) <(echo "$front_out" | key) | grep '^[<>]' | head -5 | tr '\n' ' ')"
[ "$(echo "$port_out" | grep '^# TYPE' | sort)" = "$(echo "$front_out" | grep '^# TYPE' | sort)" ] ||
	fail "the front and the port serve different families"
echo "$front_out" | grep -q '^zvt_orders{status="accepted"} [1-9]' || fail "the trader's resting order is not counted"
echo "ok pg_monitor: the monitor role gets $(echo "$front_out" | key | wc -l) key series equal to the metrics port's"
expect "//metrics/ is the front's too" 200 "$(front -o /dev/null -w '%{http_code}' "$BASE//metrics/")"
expect "HEAD" 200 "$(front -o /dev/null -w '%{http_code}' -I "$BASE/metrics")"
expect "POST is 405" 405 "$(front -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/metrics")"
expect "DELETE is 405" 405 "$(front -o /dev/null -w '%{http_code}' -X DELETE "$BASE/metrics")"
expect "the 405's Allow" "OPTIONS,GET,HEAD" "$(header Allow -H "Authorization: Bearer $monitor" -X PUT "$BASE/metrics")"
now=$(curl -sS "http://127.0.0.1:$mport/metrics" | awk '$1 == "zvt_http_requests_total{method=\"GET\",status=\"2xx\"}" {print $2}')
expect "the front's GET /metrics answered 200 are counted" $((get + try + 2)) "$now"

# --- open -----------------------------------------------------------------------
q -c "ALTER SYSTEM SET zvt.http_metrics = open" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 50; i++)); do [ "$(hit "$BASE/metrics" | cut -d' ' -f1)" = 200 ] && break; sleep 0.1; done
for try in 1 2 3; do
	anon_out=$(curl -sS --max-time 10 "$BASE/metrics") || fail "anonymous /metrics"
	trader_out=$(curl -sS --max-time 10 -H "Authorization: Bearer $trader" "$BASE/metrics") || fail "trader /metrics"
	[ "$(echo "$anon_out" | key)" = "$(echo "$trader_out" | key)" ] && break
done
echo "$anon_out" | promtool check metrics || fail "promtool rejects the anonymous /metrics"
echo "$anon_out" | grep -q '^zvt_fills_total ' || fail "open: anonymous does not get the exposition"
[ "$(echo "$anon_out" | key)" = "$(echo "$trader_out" | key)" ] || fail "open: a trader's token changes the series"
for s in "$acct" mfront_trader mfront_monitor MFRONT mfront-rest; do
	case "$anon_out$trader_out" in *"$s"*) fail "open: /metrics names $s" ;; esac
done
labels=$(echo "$anon_out$trader_out" | grep -v '^#' | grep -o '[{,][a-z_]*=' | tr -d '{,=' | sort -u | tr '\n' ' ')
expect "open: only these labels" "code exchange kind le limit method name state status " "$labels"
expect "open: a forged token still 401" 401 "$(hit -H "Authorization: Bearer $forged" "$BASE/metrics" | cut -d' ' -f1)"
openapi "open: OpenAPI for anonymous lists /metrics as the exposition, not the view" "$exposition"
openapi "open: OpenAPI for the trader too" "$exposition" -H "Authorization: Bearer $trader"

# --- no metrics port: the worker runs for the front alone ------------------------
q -c "ALTER SYSTEM RESET zvt.metrics_port" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 100; i++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/metrics")" = 000 ] && break
	sleep 0.1
done
expect "no port bound" 000 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/metrics")"
poll_until "$running" 1 20 || fail "no metrics worker for the front"
out=$(curl -sS --max-time 10 "$BASE/metrics")
echo "$out" | promtool check metrics || fail "promtool rejects the front's /metrics without a port"
echo "$out" | grep -q '^zvt_sql_up 1' || fail "no SQL counts without a port"
q -c "ALTER SYSTEM RESET zvt.http_metrics" -c "SELECT pg_reload_conf()" >/dev/null
poll_until "$running" 0 20 || fail "the metrics worker did not stop with the front's /metrics off"
expect "off again: /metrics is the view" '200 [{"what":"the table"}]' "$(hit "$BASE/metrics")"
