#!/usr/bin/env bash
# test/integration/http_workers.sh: the HTTP workers (src/http/worker.c)
# on a cluster of their own, so that kill -9 resets only it.
#
# zvt.http_workers = 3 workers all listen on one port (SO_REUSEPORT: each
# has its own socket) and each connects as zvt_authenticator; keep-alive
# connections are spread evenly over them (balance.c).  A client
# sending requests one after another on new connections keeps getting
# answers while one worker is terminated (SIGTERM): the others serve,
# and the postmaster starts the dead one again.  kill -9 of a worker
# makes the postmaster reset shared memory and restart every backend
# (PostgreSQL treats any process killed by a signal as a crash); the
# launcher then brings all the HTTP workers back and requests are served
# again.  An authenticator that is a superuser is refused: the worker
# serves nothing and says why.  Each worker waits on its connections
# through epoll (libev), not poll() over them all, and moves to another
# port on reload.
set -u
. "$(dirname "$0")/http_lib.bash"

dir=$ZVT_TEST_DIR/http_workers
main_env=$(declare -p PGHOST PGPORT PGDATABASE)
cleanup() {
	local rc=$?
	[ -n "${loop_pid:-}" ] && kill "$loop_pid" 2>/dev/null
	[ "$rc" = 0 ] || grep -E 'zvt http|postmaster|terminated' "$dir/log" 2>/dev/null | tail -20 >&2
	cluster_stop "$dir"
}
trap cleanup EXIT

rm -rf "$dir"
port=$(free_port $((PGPORT % 20000 + 5000)))
hport=$(free_port $((port + 1)))
cluster_start "$dir" "$port" zvt_workers "zvt.feeds = off" "zvt.http_port = $hport" \
	"zvt.http_workers = 3" "zvt.jwt_secret = '$HTTP_SECRET'" || fail "second cluster did not start"
q -c "CREATE EXTENSION zvt" >/dev/null || fail "create extension"
BASE=http://127.0.0.1:$hport
workers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt http' AND usename = 'zvt_authenticator'"
pids() { q -c "SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'zvt http'"; }
poll_until "$workers" 3 20 || fail "three HTTP workers did not start as zvt_authenticator"
for ((i = 0; i < 100; i++)); do curl -fsS -o /dev/null "$BASE/instruments" 2>/dev/null && break; sleep 0.1; done
expect "three workers share the port" 3 "$(ss -Hltn "sport = :$hport" | wc -l)"

# ok_count N: N requests one after another, each on a new connection; prints
# how many got 200 (a failed connection is not retried)
ok_count() {
	local n=$1 ok=0 i
	for ((i = 0; i < n; i++)); do
		[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/instruments")" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok"
}
expect "all requests served" 50 "$(ok_count 50)"

# --- keep-alive connections are spread evenly (balance.c) ---------------------------
# 12 connections opened one after another, each answered and held: the
# kernel's hash alone gives 4/4/4 one time in 15; a worker handing a new
# connection to one holding fewer gives it every time.
python3 - "$hport" "$dir/held" <<'PY' &
import socket, sys, time
held = []
for i in range(12):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /instruments HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(10)
    ok = s.recv(65536).startswith(b"HTTP/1.1 200")
    held.append(s)
    if not ok:
        break
open(sys.argv[2], "w").write(str(len(held)) if ok else "failed")
time.sleep(60)
PY
loop_pid=$!
for ((i = 0; i < 100; i++)); do [ -s "$dir/held" ] && break; sleep 0.1; done
expect "12 keep-alive connections answered" 12 "$(cat "$dir/held" 2>/dev/null)"
spread=$(ss -Htnp state established "sport = :$hport" | grep -o 'pid=[0-9]*' | sort | uniq -c |
	awk '{print $1}' | sort | tr '\n' ' ')
expect "each of the 3 workers holds 4 of the 12 connections" "4 4 4 " "$spread"
# each worker waits in epoll (libev, server.c), not poll(): the most
# descriptors any of its epoll sets watches covers its 4 connections and
# its listening socket (PostgreSQL's own latch set watches 2)
epolled=""
for p in $(pids); do
	most=0
	for f in /proc/"$p"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[eventpoll]" ] || continue
		n=$(grep -c '^tfd:' "/proc/$p/fdinfo/${f##*/}" 2>/dev/null)
		[ "${n:-0}" -gt "$most" ] && most=$n
	done
	epolled="$epolled$([ "$most" -ge 5 ] && echo y || echo "n($most)") "
done
expect "each worker waits on its connections through epoll" "y y y " "$epolled"
expect "no worker fell back to poll()" 0 "$(grep -c 'serves through poll()' "$dir/log")"
kill "$loop_pid"
wait "$loop_pid" 2>/dev/null
loop_pid=

# --- SIGTERM one worker: the others keep serving; it comes back -----------------
before=$(pids)
victim=$(echo "$before" | cut -d' ' -f1)
ok_count 400 > "$dir/ok" &
loop_pid=$!
sleep 0.3
kill -TERM "$victim"
wait "$loop_pid"
loop_pid=
served=$(cat "$dir/ok")
# a connection the dying worker had accepted but not answered is reset; that
# is at most a few in flight, never the service
[ "$served" -ge 395 ] || fail "only $served of 400 requests served while a worker was terminated"
echo "ok $served of 400 requests served while a worker was terminated"
poll_until "$workers" 3 20 || fail "the terminated worker did not come back"
after=$(pids)
case " $after " in *" $victim "*) fail "the terminated worker is still there" ;; esac
echo "ok the terminated worker came back ($before -> $after)"
expect "served after the restart" 50 "$(ok_count 50)"

# --- kill -9: a crash restart of the cluster, then the workers come back -------------
victim=$(pids | cut -d' ' -f2)
resets=$(grep -c "all server processes terminated; reinitializing" "$dir/log")
t0=$(date +%s%N)
kill -KILL "$victim"
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c "all server processes terminated; reinitializing" "$dir/log")" -gt "$resets" ] && break
	sleep 0.05
done
[ "$i" -lt 200 ] || fail "no crash restart after kill -9"
for ((i = 0; i < 300; i++)); do
	[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$BASE/instruments")" = 200 ] && break
	sleep 0.1
done
[ "$i" -lt 300 ] || fail "the HTTP front did not come back after kill -9"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
poll_until "$workers" 3 30 || fail "three HTTP workers not back after kill -9"
echo "ok after kill -9 and the crash restart the front served again (${ms} ms after the kill)"
expect "served after kill -9" 50 "$(ok_count 50)"

# --- a reload with another port: the same workers serve there ---------------------
# (server.c destroys the lws context and its event loop and makes both again)
before=$(pids)
hport2=$(free_port $((hport + 1)))
q -c "ALTER SYSTEM SET zvt.http_port = $hport2" -c "SELECT pg_reload_conf()" >/dev/null
listening() { echo "$(ss -Hltn "sport = :$hport2" | wc -l) $(ss -Hltn "sport = :$hport" | wc -l)"; }
for ((i = 0; i < 100; i++)); do [ "$(listening)" = "3 0" ] && break; sleep 0.1; done
expect "a reload with another port: 3 workers listen there, none on the old one" "3 0" "$(listening)"
BASE=http://127.0.0.1:$hport2
expect "served on the new port" 50 "$(ok_count 50)"
expect "by the same workers" "$before" "$(pids)"

# --- a superuser authenticator is refused ------------------------------------------
q -c "ALTER SYSTEM SET zvt.http_authenticator = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c 'refuses to serve as superuser "postgres"' "$dir/log")" -ge 3 ] && break
	sleep 0.1
done
[ "$i" -lt 100 ] || fail "no refusal of a superuser authenticator in the log"
expect "nothing served as a superuser" 000 "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$BASE/instruments")"
echo "ok a superuser authenticator serves nothing"
eval "$main_env"
echo "http_workers: all passed"
