#!/usr/bin/env bash
# test/integration/redis_tls.sh: the Redis publisher over rediss://.
#
# A test CA signs a server certificate for 127.0.0.1 (its only name) and
# a client certificate; redis-server listens on a TLS port only and
# requires a client certificate.  With zvt.redis_tls_ca_file,
# zvt.redis_tls_cert_file and zvt.redis_tls_key_file set, the simulator's
# Binance trades reach the stream zvt:binance:BTC-USDT:trades, each a
# stored trade, and zvt.redis_status names the server with "(TLS)".
# Refused, each with its reason in zvt.redis_status and nothing sent: a
# CA that did not sign the server's certificate, a URL naming the server
# by a name its certificate does not carry (localhost), no client
# certificate, and a plain redis:// to the TLS port.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
command -v redis-server >/dev/null || fail "redis-server is missing (Debian package redis-server)"
cap=$ZVT_TEST_DIR/redis_tls
rm -rf "$cap"
mkdir -p "$cap"
chmod 755 "$cap"
rport=$(free_port 21860)
xport=$(free_port $((rport + 10)))
admin=$(free_port $((xport + 10)))
redis_pid=""
sim=""
cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	[ -n "$redis_pid" ] && kill -9 "$redis_pid" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_rt s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_rt" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET zvt.redis_url" -c "ALTER SYSTEM RESET zvt.redis_tls_ca_file" \
	  -c "ALTER SYSTEM RESET zvt.redis_tls_cert_file" -c "ALTER SYSTEM RESET zvt.redis_tls_key_file" \
	  -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

# --- certificates ---------------------------------------------------------------
(
	cd "$cap" || exit 1
	for ca in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.crt -days 2 -subj "/CN=zvt test $ca" 2>/dev/null || exit 1
	done
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=zvt test server" 2>/dev/null &&
	echo "subjectAltName=IP:127.0.0.1" >server.ext &&
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
		-extfile server.ext 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=zvt" 2>/dev/null &&
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 2>/dev/null
) || fail "making the test certificates"
chmod 644 "$cap"/*.crt
chmod 600 "$cap"/*.key
[ "$(id -u)" = 0 ] && chown postgres: "$cap/client.key"

redis-server --port 0 --tls-port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$cap" \
	--tls-cert-file "$cap/server.crt" --tls-key-file "$cap/server.key" --tls-ca-cert-file "$cap/ca.crt" \
	--tls-auth-clients yes >"$cap/redis.log" 2>&1 &
redis_pid=$!
rcli() { redis-cli --tls --cacert "$cap/ca.crt" --cert "$cap/client.crt" --key "$cap/client.key" \
	-h 127.0.0.1 -p "$rport" -n 5 "$@"; }
for _ in $(seq 100); do rcli PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
rcli PING | grep -q PONG || fail "redis-server did not start with TLS: $(tail -3 "$cap/redis.log")"

"$top/zvt-exsim" --port "$xport" --admin-port "$admin" --exchanges binance --symbols BTC-USDT --rate 20 \
	--duration 300 >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$xport" "$admin" || fail "the simulator did not start"

set_redis() {	# url ca cert key
	q -c "ALTER SYSTEM SET zvt.redis_url = '$1'" -c "ALTER SYSTEM SET zvt.redis_tls_ca_file = '$2'" \
	  -c "ALTER SYSTEM SET zvt.redis_tls_cert_file = '$3'" -c "ALTER SYSTEM SET zvt.redis_tls_key_file = '$4'" \
	  -c "SELECT pg_reload_conf()" >/dev/null || fail "settings"
}
# refused: the reason shows, nothing is connected
refused() {	# what url ca cert key pattern
	local what=$1 pattern=$6 err="" t0
	t0=$(q -c "SELECT clock_timestamp()")
	set_redis "$2" "$3" "$4" "$5"
	for _ in $(seq 100); do
		err=$(q -c "SELECT last_error FROM zvt.redis_status
		             WHERE NOT connected AND last_error_at > '$t0' AND last_error ~ '$pattern'")
		[ -n "$err" ] && break
		sleep 0.2
	done
	[ -n "$err" ] || fail "$what: no error matching '$pattern' (status: $(q -c "SELECT connected, last_error FROM zvt.redis_status"))"
	echo "ok $what: $err"
}

q -c "CREATE TABLE zvt_saved_ex_rt AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$xport', rest_url = 'http://127.0.0.1:$xport' WHERE name = 'binance'" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" >/dev/null || fail "setup"

refused "a CA that did not sign the server's certificate" "rediss://127.0.0.1:$rport/5" "$cap/other.crt" \
	"$cap/client.crt" "$cap/client.key" "certificate was refused: (self-signed certificate in certificate chain|unable to get local issuer certificate)"
refused "a name the server's certificate does not carry" "rediss://localhost:$rport/5" "$cap/ca.crt" \
	"$cap/client.crt" "$cap/client.key" "certificate was refused: (hostname|IP address) mismatch"
refused "no client certificate" "rediss://127.0.0.1:$rport/5" "$cap/ca.crt" "" "" \
	"(SELECT|connection|TLS)"
refused "plain redis:// to the TLS port" "redis://127.0.0.1:$rport/5" "" "" "" "."
[ "$(rcli DBSIZE)" = 0 ] || fail "something was written while every connection was refused"

set_redis "rediss://127.0.0.1:$rport/5" "$cap/ca.crt" "$cap/client.crt" "$cap/client.key"
poll_until "SELECT connected FROM zvt.redis_status" t 30 || fail "the publisher did not connect over TLS: $(q -c "SELECT last_error FROM zvt.redis_status")"
server=$(q -c "SELECT server FROM zvt.redis_status")
[ "$server" = "127.0.0.1:$rport/5 (TLS)" ] || fail "zvt.redis_status.server is '$server'"
echo "ok connected: $server"
q -c "SELECT zvt.sync_instruments('binance')" -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" \
	>/dev/null || fail "subscribe"
key=zvt:binance:BTC-USDT:trades
for _ in $(seq 150); do [ "$(rcli XLEN "$key")" -ge 50 ] 2>/dev/null && break; sleep 0.2; done
n=$(rcli XLEN "$key")
[ "$n" -ge 50 ] 2>/dev/null || fail "fewer than 50 trades reached Redis over TLS: $n"
# every entry is a stored trade
rcli --raw XRANGE "$key" - + | python3 -c "
import sys
l = [x.strip() for x in sys.stdin if x.strip()]
ids = [l[i + 1] for i in range(len(l) - 1) if l[i] == 'id']
print('\n'.join(ids))" >"$cap/ids"
sent=$(wc -l <"$cap/ids")
[ "$sent" -ge 50 ] || fail "the stream's entries carry no trade ids ($sent)"
missing=$(q -c "SELECT count(*) FROM unnest(string_to_array('$(paste -sd, "$cap/ids")', ',')) i
                 WHERE NOT EXISTS (SELECT 1 FROM zvt.trades_v t WHERE t.exchange = 'binance' AND t.trade_id = i)")
[ "$missing" = 0 ] || fail "$missing of the stream's trades are not stored"
echo "ok $sent trades reached Redis over TLS, each a stored trade"

# the relay survives the server going away: a restart, and the publisher catches up
kill -9 "$redis_pid"
wait "$redis_pid" 2>/dev/null
poll_until "SELECT NOT connected FROM zvt.redis_status" t 30 || fail "the publisher did not notice the server died"
redis-server --port 0 --tls-port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$cap" \
	--tls-cert-file "$cap/server.crt" --tls-key-file "$cap/server.key" --tls-ca-cert-file "$cap/ca.crt" \
	--tls-auth-clients yes >>"$cap/redis.log" 2>&1 &
redis_pid=$!
poll_until "SELECT connected FROM zvt.redis_status" t 60 || fail "the publisher did not reconnect over TLS"
for _ in $(seq 150); do [ "$(rcli XLEN "$key")" -ge 10 ] 2>/dev/null && break; sleep 0.2; done
[ "$(rcli XLEN "$key")" -ge 10 ] 2>/dev/null || fail "no trades after the server came back"
echo "ok reconnected over TLS after the server was killed; trades flow again"
echo "redis_tls: all passed"
