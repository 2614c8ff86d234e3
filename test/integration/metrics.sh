#!/usr/bin/env bash
# test/integration/metrics.sh: the Prometheus endpoint (src/metrics/).
#
# zvt.metrics_port, set with ALTER SYSTEM and a reload, starts the "zvt
# metrics" worker on 127.0.0.1; GET /metrics passes `promtool check
# metrics`, has the format's Content-Type, and its values move with what
# happens (a resting and a filled paper order, a bus write, maintenance
# passes); other paths are 404, other methods 405, a malformed request
# 400, an oversized head 431; a silent client does not hold up the
# others; the HTTP front's requests are counted by method, status class
# and duration; a locked table makes the SQL part time out (zvt_sql_up 0) and
# the rest is still served; a restarted launcher does not start a second
# worker (its slot is claimed); a second cluster reports the port in use,
# moves to another on reload, and without the extension serves
# zvt_extension_installed 0; resetting the port stops the worker.
set -u
. "$(dirname "$0")/http_lib.bash"

command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"
mport=$(free_port $((PGPORT + 300)))
base=http://127.0.0.1:$mport
running="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt metrics'"
cleanup() {
	local rc=$?
	exec 3>&- 2>/dev/null
	q -c "ALTER SYSTEM RESET zvt.metrics_port" -c "SELECT pg_reload_conf()" >/dev/null
	http_stop
	# on failure, what the server said about the endpoint
	[ "$rc" = 0 ] || grep -E 'zvt metrics|zvt launcher' "$ZVT_TEST_DIR/log" 2>/dev/null | tail -20 >&2
}
trap cleanup EXIT

scrape() { curl -sS --max-time 10 "$base/metrics"; }
# the value of one series, as written (name{labels} value)
val() { scrape | awk -v m="$1" '$1 == m {print $2}'; }
code() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }

q -c "ALTER SYSTEM SET zvt.metrics_port = $mport" -c "SELECT pg_reload_conf()" >/dev/null || fail "set the port"
poll_until "$running" 1 20 || fail "no metrics worker after setting zvt.metrics_port"
for i in $(seq 1 50); do curl -fsS -o /dev/null "$base/metrics" 2>/dev/null && break; sleep 0.2; done

# --- format ----------------------------------------------------------------
out=$(scrape) || fail "GET /metrics failed"
echo "$out" | promtool check metrics || fail "promtool check metrics rejects the output"
[ "$(curl -sS -o /dev/null -w '%{content_type}' "$base/metrics")" = "text/plain; version=0.0.4; charset=utf-8" ] \
	|| fail "wrong Content-Type"
for m in 'zvt_feed_messages_total{exchange="binance"}' 'zvt_feed_state{exchange="okx",state="stopped"}' \
	'zvt_feed_receive_to_commit_seconds_count{exchange="bybit"}' 'zvt_maintenance_passes_total' \
	'zvt_paper_matcher_passes_total' 'zvt_bus_updates_total' 'zvt_orders{status="filled"}' \
	'zvt_fills_total' 'zvt_reconciliations_total{kind="balance"}' 'zvt_reconciliation_runs_failed_total' 'zvt_backtest_runs' 'zvt_sql_up' 'zvt_launcher_up' \
	'zvt_http_requests_total{method="GET",status="2xx"}' 'zvt_http_requests_in_flight' \
	'zvt_http_request_duration_seconds_count' 'zvt_http_stream_clients' \
	'zvt_http_stream_messages_sent_total' 'zvt_http_stream_messages_dropped_total'; do
	echo "$out" | grep -qF "$m " || fail "no $m in the output"
done
[ "$(echo "$out" | awk '$1 == "zvt_sql_up" {print $2}')" = 1 ] || fail "zvt_sql_up is not 1"
[ "$(echo "$out" | awk '$1 == "zvt_extension_installed" {print $2}')" = 1 ] || fail "extension not seen"
echo "ok promtool accepts $(echo "$out" | grep -vc '^#') samples"

# docs/metrics.md lists exactly the families served; the Grafana dashboard
# uses only those
top=$(cd "$(dirname "$0")/../.." && pwd)
served=$(echo "$out" | awk '$1 == "#" && $2 == "TYPE" {print $3}' | sort -u)
documented=$(grep -o '^| `zvt_[a-z0-9_]*' "$top/docs/metrics.md" | sed 's/^| `//' | sort -u)
[ "$served" = "$documented" ] || fail "docs/metrics.md and the output differ: $(diff <(echo "$documented") <(echo "$served") | grep '^[<>]' | tr '\n' ' ')"
python3 -m json.tool "$top/docs/grafana/zvt.json" >/dev/null || fail "docs/grafana/zvt.json is not JSON"
for m in $(grep -o 'zvt_[a-z0-9_]*' "$top/docs/grafana/zvt.json" | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
	echo "$served" | grep -qx "$m" || fail "the dashboard uses $m, which is not served"
done
echo "ok docs/metrics.md lists the $(echo "$served" | wc -l) families served; the dashboard uses only those"

# --- values move -------------------------------------------------------------
passes=$(val zvt_maintenance_passes_total)
updates=$(val zvt_bus_updates_total)
entries=$(val zvt_bus_entries)
accepted=$(val 'zvt_orders{status="accepted"}')
fills=$(val zvt_fills_total)
placed=$(val zvt_place_order_duration_seconds_count)
q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9501, 'binance', 'MX-USDT', 'MXUSDT', 'MX', 'USDT', 'spot')
      ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'MX-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "SELECT 1 FROM zvt.create_account('mx', initial_cash => 100000)" \
  -c "SELECT status FROM zvt.place_order('mx', 'binance', 'MX-USDT', 'buy', 1, 'limit', price => 50, client_order_id => 'mx-rest')" \
  -c "SELECT status FROM zvt.place_order('mx', 'binance', 'MX-USDT', 'buy', 1, client_order_id => 'mx-fill')" >/dev/null \
	|| fail "orders"
[ "$(val zvt_bus_updates_total)" -gt "$updates" ] || fail "zvt_bus_updates_total did not move"
[ "$(val zvt_bus_entries)" -gt "$entries" ] || fail "zvt_bus_entries did not grow with a new instrument"
[ "$(val 'zvt_orders{status="accepted"}')" = $((accepted + 1)) ] || fail "accepted orders did not go up by one"
[ "$(val zvt_fills_total)" -gt "$fills" ] || fail "zvt_fills_total did not move"
[ "$(val zvt_place_order_duration_seconds_count)" = $((placed + 2)) ] || fail "two place_order calls are not two observations"
for i in $(seq 1 50); do [ "$(val zvt_maintenance_passes_total)" -gt "$passes" ] && break; sleep 0.2; done
[ "$(val zvt_maintenance_passes_total)" -gt "$passes" ] || fail "zvt_maintenance_passes_total did not move"
q -c "SELECT count(*) FROM zvt.cancel_all('mx')" >/dev/null || fail "cancel"
[ "$(val 'zvt_orders{status="accepted"}')" = "$accepted" ] || fail "a canceled order still counts as accepted"
# a rejection by a risk limit counts under that limit
rejected=$(val 'zvt_orders_rejected{limit="max_order_qty"}')
q -c "SELECT zvt.set_risk_limits('mx', max_order_qty => 1)" \
  -c "SELECT status FROM zvt.place_order('mx', 'binance', 'MX-USDT', 'buy', 2, 'limit', price => 50)" >/dev/null || fail "rejected order"
[ "$(val 'zvt_orders_rejected{limit="max_order_qty"}')" = $((rejected + 1)) ] || fail "a max_order_qty rejection was not counted"
echo "ok bus, orders, rejections by limit, fills, place_order latency and maintenance counters move"

# --- HTTP ------------------------------------------------------------------
[ "$(code "$base/other")" = 404 ] || fail "other path is not 404"
[ "$(code "$base/")" = 404 ] || fail "/ is not 404"
[ "$(code -X POST "$base/metrics")" = 405 ] || fail "POST is not 405"
[ "$(code -X DELETE "$base/metrics")" = 405 ] || fail "DELETE is not 405"
curl -sS -D - -o /dev/null -X PUT "$base/metrics" | grep -qi '^Allow: GET, HEAD' || fail "405 without Allow"
[ "$(code -I "$base/metrics")" = 200 ] || fail "HEAD is not 200"
[ "$(code "$base/metrics?x=1")" = 200 ] || fail "a query string is not ignored"
status_of() {
	exec 4<>"/dev/tcp/127.0.0.1/$mport" || return 1
	printf '%b' "$1" >&4
	head -1 <&4 | tr -d '\r'
	exec 4>&-
}
[ "$(status_of 'get /metrics HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] || fail "bad request line is not 400"
big=$(head -c 9000 /dev/zero | tr '\0' a)
[ "$(status_of "GET /metrics HTTP/1.1\r\nX: $big\r\n\r\n")" = "HTTP/1.1 431 Request Header Fields Too Large" ] \
	|| fail "oversized head is not 431"

# a client that connects and says nothing does not hold up the next one
exec 3<>"/dev/tcp/127.0.0.1/$mport" || fail "connect"
[ "$(code "$base/metrics")" = 200 ] || fail "a silent client blocks the endpoint"
exec 3>&-
code400=$(val 'zvt_metrics_requests_total{code="400"}')
[ "${code400:-0}" -ge 1 ] || fail "the 400 is not counted"
echo "ok 404, 405 with Allow, HEAD, 400, 431, a silent client"

# --- the HTTP front's requests -------------------------------------------------
http_start
get=$(val 'zvt_http_requests_total{method="GET",status="2xx"}')
get4=$(val 'zvt_http_requests_total{method="GET",status="4xx"}')
post4=$(val 'zvt_http_requests_total{method="POST",status="4xx"}')
n=$(val zvt_http_request_duration_seconds_count)
for i in 1 2 3; do curl -sS -o /dev/null "$BASE/instruments?limit=1"; done
curl -sS -o /dev/null "$BASE/no_such_table"
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/no_such_function"
[ "$(val 'zvt_http_requests_total{method="GET",status="2xx"}')" = $((get + 3)) ] || fail "three GETs answered 200 are not counted"
[ "$(val 'zvt_http_requests_total{method="GET",status="4xx"}')" = $((get4 + 1)) ] || fail "a GET answered 404 is not counted"
[ "$(val 'zvt_http_requests_total{method="POST",status="4xx"}')" = $((post4 + 1)) ] || fail "a POST answered 404 is not counted"
[ "$(val zvt_http_request_duration_seconds_count)" = $((n + 5)) ] || fail "five requests are not five observations"
[ "$(val 'zvt_http_request_duration_seconds_bucket{le="+Inf"}')" = $((n + 5)) ] || fail "the +Inf bucket is not the count"
[ "$(val zvt_http_requests_in_flight)" = 0 ] || fail "requests still in flight"
[ "$(val zvt_http_workers)" = "$(q -c "SHOW zvt.http_workers")" ] || fail "zvt_http_workers is not zvt.http_workers"
scrape | promtool check metrics || fail "promtool rejects the output with the HTTP front on"
http_stop
echo "ok the HTTP front's requests are counted by method, status class and duration"

# --- a stuck SQL part is bounded: zvt_sql_up 0, the rest still served -------
q -c "SET application_name = 'metrics-lock'" -c "BEGIN" -c "LOCK TABLE zvt.orders IN ACCESS EXCLUSIVE MODE" \
  -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
poll_until "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'metrics-lock' AND l.relation = 'zvt.orders'::regclass AND l.granted" 1 20 \
	|| fail "no lock"
failures=$(val zvt_metrics_sql_failures_total)
out=$(scrape) || fail "no scrape while zvt.orders is locked"
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'metrics-lock'" >/dev/null
wait "$locker" 2>/dev/null
# gone from pg_stat_activity only after its locks are released
poll_until "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'metrics-lock'" 0 20 || fail "locker still there"
echo "$out" | promtool check metrics || fail "promtool rejects the output of a failed SQL part"
[ "$(echo "$out" | awk '$1 == "zvt_sql_up" {print $2}')" = 0 ] || fail "zvt_sql_up is not 0 while zvt.orders is locked"
! echo "$out" | grep -q '^zvt_orders' || fail "order counts written although the SQL part failed"
echo "$out" | grep -q '^zvt_bus_updates_total ' || fail "shared-memory metrics missing when the SQL part failed"
[ "$(echo "$out" | awk '$1 == "zvt_metrics_sql_failures_total" {print $2}')" = $((failures + 1)) ] || fail "the failure is not counted"
grep -q 'zvt metrics could not read the SQL counts: canceling statement due to statement timeout' "$ZVT_TEST_DIR/log" \
	|| fail "no statement timeout in the log"
[ "$(val zvt_sql_up)" = 1 ] || fail "zvt_sql_up not back to 1 after the lock"
echo "ok a locked table times the SQL part out (zvt_sql_up 0), the rest is served"

# --- one worker, even after the launcher restarts -----------------------
restart_launcher_expect_one "$running" "metrics workers"
[ "$(code "$base/metrics")" = 200 ] || fail "endpoint gone after the launcher restart"
echo "ok one metrics worker after a launcher restart"

# --- another cluster: the port taken, a reload to another, no extension ----
dir=$ZVT_TEST_DIR/metrics_scratch
sport=$(free_port $((PGPORT + 310)))
mport2=$(free_port $((mport + 1)))
(
	cluster_start "$dir" "$sport" metrics_db "zvt.metrics_port = $mport" "zvt.maintenance_naptime = 1"
) >/dev/null || fail "scratch cluster did not start"
trap 'cluster_stop "$dir"; cleanup' EXIT
wait_log "$dir/log" "zvt metrics could not listen on 127.0.0.1:$mport: Address already in use" 20 \
	|| fail "the second cluster did not report the port in use"
[ "$(code "$base/metrics")" = 200 ] || fail "the first cluster's endpoint is disturbed"
PGHOST=$dir/sock PGPORT=$sport PGDATABASE=metrics_db \
	q -c "ALTER SYSTEM SET zvt.metrics_port = $mport2" -c "SELECT pg_reload_conf()" >/dev/null || fail "scratch port"
for i in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$mport2/metrics" 2>/dev/null && break; sleep 0.2; done
out=$(curl -sS --max-time 10 "http://127.0.0.1:$mport2/metrics") || fail "no endpoint after a reload to another port"
echo "$out" | promtool check metrics || fail "promtool rejects the output without the extension"
[ "$(echo "$out" | awk '$1 == "zvt_extension_installed" {print $2}')" = 0 ] || fail "zvt_extension_installed is not 0"
[ "$(echo "$out" | awk '$1 == "zvt_sql_up" {print $2}')" = 0 ] || fail "zvt_sql_up is not 0 without the extension"
! echo "$out" | grep -q '^zvt_fills_total' || fail "SQL metrics written without the extension"
cluster_stop "$dir"
trap cleanup EXIT
echo "ok a taken port is reported and retried, a reload rebinds, no extension gives zvt_sql_up 0"

# --- off -----------------------------------------------------------------
q -c "ALTER SYSTEM RESET zvt.metrics_port" -c "SELECT pg_reload_conf()" >/dev/null
poll_until "$running" 0 20 || fail "the metrics worker did not stop with the port reset"
[ "$(code "$base/metrics" 2>/dev/null)" = 000 ] || fail "still serving with the port reset"
echo "ok the worker stops when zvt.metrics_port is reset"
