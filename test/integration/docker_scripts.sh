#!/usr/bin/env bash
# test/integration/docker_scripts.sh: the Docker image's steps, run on this
# host (no Docker engine needed).
#
#  - shellcheck passes on docker/*.sh and on the shell of every RUN line of
#    docker/Dockerfile;
#  - the Dockerfile, the compose file and prometheus.yml agree on the
#    entrypoint's path, the simulator's port and the metrics port;
#  - docker/install.sh (deps, then build into a scratch DESTDIR against
#    PG_CONFIG) runs no apt-get when every package is present, installs
#    zvt, the simulator, the entrypoint and the image's settings, lists the
#    run-time packages, and gives the same stage when run again; its
#    runtime step asks apt-get only for what is missing (dry run);
#  - the installed entrypoint, started as root like the image's, makes a
#    cluster as postgres in a temporary directory with the image's
#    settings on a free loopback port, creates the database and the
#    extension, points zvt.exchanges at zvt-exsim, and a subscription's
#    trades land in zvt.trades; TCP needs the password;
#  - with the HTTP front on (ZVT_HTTP_PORT, ZVT_HTTP_ADMIN_PORT), the
#    installed health check (zvt-healthcheck, what compose runs) turns
#    healthy once /ready answers 200, and is unhealthy for a port where
#    nothing answers and once the server is stopped;
#  - SIGTERM stops it with a fast shutdown even with a client connected:
#    exit 0, cluster state "shut down"; a second start makes no new
#    cluster, keeps the rows, and stops the same way.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$ZVT_TEST_DIR/docker_scripts
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"
stage=$work/stage
data=$work/data
sock=$work/sock
port=$(free_port 26100)
simport=$(free_port_range 19800 4)
hport=$(free_port 26200)
hadmin=$(free_port $((hport + 1)))
bindir=$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)
sim=""
ep=""

# --- shellcheck -------------------------------------------------------------
shellcheck "$top"/docker/*.sh || fail "shellcheck on docker/*.sh"
# each RUN of the Dockerfile (shell form, continuation lines joined) as /bin/sh
awk -v dir="$work" '
	/^RUN / { n++; f = dir "/run" n ".sh"; print "#!/bin/sh" > f; sub(/^RUN /, "") ; inrun = 1 }
	inrun { print > f; if ($0 !~ /\\$/) { inrun = 0; close(f) } }
' "$top/docker/Dockerfile"
runs=("$work"/run*.sh)
[ -f "${runs[0]}" ] || fail "no RUN lines found in docker/Dockerfile"
shellcheck -s sh "${runs[@]}" || fail "shellcheck on the Dockerfile's RUN lines"
echo "ok shellcheck: docker/*.sh and ${#runs[@]} RUN lines of the Dockerfile"

# --- the files agree with each other ----------------------------------------
compose=$top/docker/docker-compose.yml
grep -q '^ENTRYPOINT \["/usr/local/bin/zvt-entrypoint"\]$' "$top/docker/Dockerfile" ||
	fail "the Dockerfile's ENTRYPOINT is not where install.sh puts the entrypoint"
url_port=$(sed -n 's|^ *ZVT_EXSIM_URL: ws://127.0.0.1:\([0-9]*\)$|\1|p' "$compose")
sim_port=$(sed -n 's|.*"zvt-exsim", "--port", "\([0-9]*\)".*|\1|p' "$compose")
[ -n "$url_port" ] && [ "$url_port" = "$sim_port" ] ||
	fail "compose: ZVT_EXSIM_URL's port ($url_port) is not the simulator's ($sim_port)"
metrics=$(sed -n 's|^ *ZVT_METRICS_PORT: "\([0-9]*\)"$|\1|p' "$compose")
[ -n "$metrics" ] && grep -q "targets: \[\"zvt:$metrics\"\]" "$top/docker/prometheus.yml" ||
	fail "prometheus.yml does not scrape zvt:$metrics, the compose file's ZVT_METRICS_PORT"
grep -q 'network_mode: "service:zvt"' "$compose" || fail "compose: the simulator is not in zvt's network namespace"
grep -q 'test: \["CMD", "zvt-healthcheck"\]' "$compose" || fail "compose: zvt's health check is not zvt-healthcheck"
grep -q '^HEALTHCHECK .*CMD \["zvt-healthcheck"\]$' "$top/docker/Dockerfile" || fail "the Dockerfile has no HEALTHCHECK with zvt-healthcheck"
http=$(sed -n 's|^ *ZVT_HTTP_PORT: "\([0-9]*\)"$|\1|p' "$compose")
admin=$(sed -n 's|^ *ZVT_HTTP_ADMIN_PORT: "\([0-9]*\)"$|\1|p' "$compose")
[ -n "$http" ] && [ -n "$admin" ] && [ "$http" != "$admin" ] ||
	fail "compose: ZVT_HTTP_PORT ($http) and ZVT_HTTP_ADMIN_PORT ($admin) must be set and differ"
grep -q "\"127.0.0.1:\${ZVT_HTTP_HOST_PORT:-3000}:$http\"" "$compose" || fail "compose: the HTTP port $http is not published"
echo "ok the Dockerfile, compose file and prometheus.yml agree on the entrypoint and the ports"

# --- install.sh -------------------------------------------------------------
out=$(DESTDIR=$stage ZVT_JOBS=1 "$top/docker/install.sh" 2>&1) || fail "install.sh: $out"
echo "$out" | grep -q "packages present" || fail "install.sh did not check the build packages: $out"
! echo "$out" | grep -q "installing:" || fail "install.sh installed packages that are present: $out"
pkglib=$stage$("${PG_CONFIG:-pg_config}" --pkglibdir)
ext=$stage$("${PG_CONFIG:-pg_config}" --sharedir)/extension
ver=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/zvt.control")
for f in "$pkglib/zvt.so" "$ext/zvt.control" "$ext/zvt--$ver.sql" "$stage/usr/local/bin/zvt-exsim" \
	"$stage/usr/local/bin/zvt-entrypoint" "$stage/usr/local/bin/zvt-healthcheck" "$stage/usr/local/share/zvt/zvt.conf"; do
	[ -s "$f" ] || fail "install.sh did not install $f"
done
cmp -s "$top/docker/zvt.conf" "$stage/usr/local/share/zvt/zvt.conf" || fail "the staged zvt.conf differs from docker/zvt.conf"
for p in libcurl4 libjansson4 libwebsockets17; do
	grep -qx "$p" "$stage/usr/local/share/zvt/runtime-packages" ||
		fail "run-time packages lack $p: $(tr '\n' ' ' <"$stage/usr/local/share/zvt/runtime-packages")"
done
(cd "$stage" && find . -type f -exec sha256sum {} + | sort) >"$work/stage1.sum"
out=$(DESTDIR=$stage ZVT_JOBS=1 "$top/docker/install.sh" 2>&1) || fail "install.sh, second run: $out"
(cd "$stage" && find . -type f -exec sha256sum {} + | sort) >"$work/stage2.sum"
cmp -s "$work/stage1.sum" "$work/stage2.sum" || fail "a second install.sh gives another stage: $(diff "$work/stage1.sum" "$work/stage2.sum" | head -5)"
cp "$stage/usr/local/share/zvt/runtime-packages" "$work/runtime-list"
echo zvt-no-such-package >>"$work/runtime-list"
out=$(ZVT_DRY_RUN=1 "$top/docker/install.sh" runtime "$work/runtime-list" 2>&1) || fail "install.sh runtime: $out"
echo "$out" | grep -q "would run: .*apt-get install .* zvt-no-such-package$" ||
	fail "install.sh runtime did not ask for the one missing package only: $out"
echo "ok install.sh: no apt-get when nothing is missing, a stage of $(wc -l <"$work/stage1.sum") files, the same twice"

# --- the entrypoint ---------------------------------------------------------
"$top/zvt-exsim" --port "$simport" --admin-port -1 --symbols BTC-USDT,ETH-USDT --rate 20 --duration 120 \
	>"$work/exsim.out" 2>&1 &
sim=$!
sim_up "$sim" "$simport"

# start_entrypoint LOG: the staged entrypoint with the image's settings,
# here on loopback, in the background; sets ep to its pid
start_entrypoint() {
	PGDATA=$data PGPORT=$port ZVT_SOCKET_DIR=$sock ZVT_LISTEN_ADDRESSES=127.0.0.1 \
		POSTGRES_PASSWORD=zvt-secret POSTGRES_INITDB_ARGS=--no-sync ZVT_EXSIM_URL="ws://127.0.0.1:$simport" \
		ZVT_HTTP_PORT=$hport ZVT_HTTP_ADMIN_PORT=$hadmin ZVT_HTTP_LISTEN=127.0.0.1 \
		"$stage/usr/local/bin/zvt-entrypoint" -c fsync=off >"$1" 2>&1 &
	ep=$!
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$ep" 2>/dev/null || { cat "$1"; fail "the entrypoint exited"; }
		grep -q "zvt-entrypoint: starting PostgreSQL" "$1" &&
			"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres && return 0
		sleep 0.2
	done
	cat "$1"
	fail "the server did not come up in 120 s"
}

# stop_entrypoint LOG: SIGTERM with a client connected; true once the
# entrypoint exited 0 after a fast shutdown and the cluster is shut down
stop_entrypoint() {
	local i rc=0
	"$bindir/psql" -X -h "$sock" -p "$port" -U postgres -d zvt -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
	local client=$!
	poll_until "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'" 1 20 ||
		fail "the waiting client did not connect"
	kill -TERM "$ep"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$ep" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$ep" 2>/dev/null && fail "the entrypoint did not stop within 120 s of SIGTERM"
	wait "$ep" || rc=$?
	ep=""
	wait "$client" 2>/dev/null
	[ "$rc" = 0 ] || { tail -20 "$1"; fail "the entrypoint exited with status $rc after SIGTERM"; }
	grep -q "received fast shutdown request" "$1" || fail "SIGTERM did not make a fast shutdown"
	grep -q "zvt-entrypoint: PostgreSQL exited with status 0" "$1" || fail "the entrypoint did not report a clean exit"
	"$bindir/pg_controldata" "$data" | grep -q "^Database cluster state: *shut down$" ||
		fail "the cluster is not shut down: $("$bindir/pg_controldata" "$data" | grep state)"
	[ ! -e "$data/postmaster.pid" ] || fail "postmaster.pid is still there"
}

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	if [ -n "$ep" ] && kill -0 "$ep" 2>/dev/null; then
		kill -TERM "$ep"
		for _ in $(seq 100); do kill -0 "$ep" 2>/dev/null || break; sleep 0.2; done
	fi
	[ -f "$data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
	return 0
}
trap cleanup EXIT

start_entrypoint "$work/first.log"
export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=zvt
grep -q "creating the cluster" "$work/first.log" || fail "the first start made no cluster"
got=$(q -F ' ' -c "SELECT current_setting('shared_preload_libraries'), current_setting('max_worker_processes'),
                          current_setting('listen_addresses'), current_setting('zvt.database'),
                          (SELECT extversion FROM pg_extension WHERE extname = 'zvt')")
[ "$got" = "zvt 24 127.0.0.1 zvt $ver" ] || fail "settings and extension: $got"
if [ "$(id -u)" = 0 ]; then
	owner=$(ps -o user= -p "$(head -1 "$data/postmaster.pid")")
	[ "$owner" = postgres ] || fail "the server runs as $owner, not postgres"
fi
got=$(q -c "SELECT string_agg(name || '=' || ws_url || ',' || rest_url, ' ' ORDER BY name) FROM zvt.exchanges")
want="binance=ws://127.0.0.1:$simport,http://127.0.0.1:$simport bybit=ws://127.0.0.1:$((simport + 1)),http://127.0.0.1:$((simport + 1))"
want="$want coinbase=ws://127.0.0.1:$((simport + 3)),http://127.0.0.1:$((simport + 3)) okx=ws://127.0.0.1:$((simport + 2)),http://127.0.0.1:$((simport + 2))"
[ "$got" = "$want" ] || fail "zvt.exchanges not pointed at the simulator: $got"
PGPASSWORD=zvt-secret "$bindir/psql" -X -qAt -h 127.0.0.1 -p "$port" -U postgres -d zvt -c "SELECT 1" >/dev/null ||
	fail "TCP with the password refused"
! PGPASSWORD=wrong "$bindir/psql" -X -qAt -h 127.0.0.1 -p "$port" -U postgres -d zvt -c "SELECT 1" >/dev/null 2>&1 ||
	fail "TCP with a wrong password accepted"
echo "ok the entrypoint made the cluster with the image's settings, the extension and the simulator's URLs"

# the health check: healthy once the HTTP front's /ready answers 200
healthy() { ZVT_HTTP_ADMIN_PORT=$1 "$stage/usr/local/bin/zvt-healthcheck"; }
for ((i = 0; i < 150; i++)); do healthy "$hadmin" && break; sleep 0.2; done
healthy "$hadmin" || fail "zvt-healthcheck is not healthy with the HTTP front up"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hadmin/ready")" = 200 ] || fail "/ready is not 200"
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt http'")" -ge 1 ] || fail "no HTTP worker"
! healthy "$(free_port 26300)" || fail "zvt-healthcheck is healthy for a port where nothing answers"
echo "ok zvt-healthcheck follows the HTTP front's /ready"

q -c "SELECT zvt.sync_instruments('binance')" -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null ||
	fail "subscribe"
poll_until "SELECT count(*) >= 5 FROM zvt.trades_v WHERE exchange = 'binance' AND symbol = 'BTC-USDT'" t 60 || {
	q -c "SELECT * FROM zvt.feed_status"; tail -20 "$work/first.log"; fail "no trades from the simulator"; }
n=$(q -c "SELECT count(*) FROM zvt.trades")
echo "ok $n trades streamed from zvt-exsim into zvt.trades"

stop_entrypoint "$work/first.log"
! healthy "$hadmin" || fail "zvt-healthcheck is healthy with the server stopped"
echo "ok SIGTERM with a client connected: fast shutdown, exit 0, cluster shut down, unhealthy"

start_entrypoint "$work/second.log"
! grep -q "creating the cluster" "$work/second.log" || fail "the second start made a new cluster"
got=$(q -c "SELECT count(*) >= $n FROM zvt.trades")
[ "$got" = t ] || fail "the second start lost trades: $(q -c "SELECT count(*) FROM zvt.trades") of $n"
stop_entrypoint "$work/second.log"
echo "ok a second start keeps the cluster and its rows, and stops cleanly"
