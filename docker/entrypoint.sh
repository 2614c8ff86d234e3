#!/usr/bin/env bash
# docker/entrypoint.sh: the zvt image's ENTRYPOINT; starts PostgreSQL 15
# with zvt in the foreground.
#
#   entrypoint.sh [postgres] [-c name=value ...]   the server (the default command)
#   entrypoint.sh COMMAND [ARGS...]                 anything else runs as given
#                                                   (zvt-exsim, psql, bash)
#
# Started as root, it makes the data and socket directories, hands them to
# postgres and runs itself again as postgres (setpriv: same pid, so the
# signals docker sends reach it).  Then:
#   1. first start (no $PGDATA/PG_VERSION): initdb in UTF-8 with the
#      superuser's password, trust on the local socket and the password
#      (scram-sha-256) over TCP, and the image's settings (zvt.conf, copied
#      into the data directory and included from postgresql.conf);
#   2. every start: a private server on the socket only, feeds off, that
#      creates $ZVT_DATABASE and the extension when they are missing, runs
#      /docker-entrypoint-initdb.d/*.sql|*.sh once after initdb, and points
#      zvt.exchanges at the simulator when ZVT_EXSIM_URL is set (so the feed
#      workers never reach a real exchange first); it is then stopped;
#   3. the server in the foreground, as this script's child: SIGTERM and
#      SIGINT make a fast shutdown (clients are disconnected, a checkpoint
#      is written, exit 0), SIGQUIT an immediate one.  The script exits
#      with the server's status.
#
# Environment (all optional):
#   PGDATA                      data directory (/var/lib/postgresql/data)
#   PGPORT                      port (5432)
#   POSTGRES_PASSWORD           the postgres role's password, set by initdb
#   POSTGRES_HOST_AUTH_METHOD   TCP authentication (scram-sha-256; "trust"
#                               allows a start without a password)
#   POSTGRES_INITDB_ARGS        more initdb options (e.g. --data-checksums)
#   ZVT_DATABASE                the database the workers serve (zvt)
#   ZVT_LISTEN_ADDRESSES        overrides zvt.conf's listen_addresses ('*')
#   ZVT_SOCKET_DIR              unix socket directory (/var/run/postgresql)
#   ZVT_EXSIM_URL               simulator base, e.g. ws://127.0.0.1:19100:
#                               binance on that port, bybit +1, okx +2,
#                               coinbase +3 (http/https for REST)
#   ZVT_CA_FILE                 zvt.ca_file (a CA for a wss:// simulator)
#   ZVT_METRICS_PORT            zvt.metrics_port (Prometheus /metrics)
#   ZVT_METRICS_LISTEN          zvt.metrics_listen (default 0.0.0.0 when the port is set)
#   ZVT_REDIS_URL               zvt.redis_url (the Redis fan-out)
#   ZVT_HTTP_PORT               zvt.http_port (the HTTP front: REST, /stream)
#   ZVT_HTTP_ADMIN_PORT         zvt.http_admin_port (/live, /ready: zvt-healthcheck)
#   ZVT_HTTP_LISTEN             zvt.http_listen (default 0.0.0.0 when the port is set)
#   ZVT_START_TIMEOUT           seconds to wait for the private server (120)
#   PG_CONFIG                   another PostgreSQL 15 (its bindir is used)
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
PGPORT=${PGPORT:-5432}
ZVT_DATABASE=${ZVT_DATABASE:-zvt}
ZVT_SOCKET_DIR=${ZVT_SOCKET_DIR:-/var/run/postgresql}
export PGDATA PGPORT
if [ -n "${PG_CONFIG:-}" ]; then PGBIN=$("$PG_CONFIG" --bindir); else PGBIN=/usr/lib/postgresql/15/bin; fi

say() { printf 'zvt-entrypoint: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The image's settings: installed beside this script (share/zvt/ next to
# bin/), or docker/zvt.conf when run from the source tree.
here=$(cd "$(dirname "$0")" && pwd)
ZVT_CONF=${ZVT_CONF:-}
for c in "$here/../share/zvt/zvt.conf" "$here/zvt.conf"; do
	[ -z "$ZVT_CONF" ] && [ -f "$c" ] && ZVT_CONF=$c
done
[ -n "$ZVT_CONF" ] || die "cannot find the image's settings (zvt.conf); set ZVT_CONF"

# postgres [args] or only -options: the server; anything else: run it
if [ "$#" = 0 ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi
shift

# --- as root: directories, then again as postgres --------------------------
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" "$ZVT_SOCKET_DIR"
	chown postgres:postgres "$PGDATA" "$ZVT_SOCKET_DIR"
	chmod 700 "$PGDATA"
	chmod 2775 "$ZVT_SOCKET_DIR"
	# from / so that postgres can always enter its working directory
	cd /
	exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
		bash "$here/$(basename "$0")" postgres "$@"
fi

# the settings that come from the environment, given at every start
settings=(-p "$PGPORT" -c "unix_socket_directories=$ZVT_SOCKET_DIR" -c "zvt.database=$ZVT_DATABASE")
[ -n "${ZVT_LISTEN_ADDRESSES:-}" ] && settings+=(-c "listen_addresses=$ZVT_LISTEN_ADDRESSES")
[ -n "${ZVT_CA_FILE:-}" ] && settings+=(-c "zvt.ca_file=$ZVT_CA_FILE")
[ -n "${ZVT_METRICS_PORT:-}" ] && settings+=(-c "zvt.metrics_port=$ZVT_METRICS_PORT")
# Prometheus scrapes from its own container: the container's addresses by default
[ -n "${ZVT_METRICS_PORT:-}" ] && settings+=(-c "zvt.metrics_listen=${ZVT_METRICS_LISTEN:-0.0.0.0}")
[ -n "${ZVT_REDIS_URL:-}" ] && settings+=(-c "zvt.redis_url=$ZVT_REDIS_URL")
[ -n "${ZVT_HTTP_PORT:-}" ] && settings+=(-c "zvt.http_port=$ZVT_HTTP_PORT")
# clients come from outside the container: its addresses by default; the
# admin port (the health check) listens on the same addresses
[ -n "${ZVT_HTTP_PORT:-}" ] && settings+=(-c "zvt.http_listen=${ZVT_HTTP_LISTEN:-0.0.0.0}")
[ -n "${ZVT_HTTP_ADMIN_PORT:-}" ] && settings+=(-c "zvt.http_admin_port=$ZVT_HTTP_ADMIN_PORT")

# --- 1. initdb on the first start ------------------------------------------
first_start=0
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
		die "set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow TCP clients without one)"
	fi
	say "creating the cluster in $PGDATA"
	pwopt=()
	pwfile=
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		# a private file (not every system has /dev/fd for <(...)), removed at once
		pwfile=$(umask 077 && mktemp)
		printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
		pwopt=(--pwfile="$pwfile")
	fi
	rc=0
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options
	"$PGBIN/initdb" -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host="$method" "${pwopt[@]}" ${POSTGRES_INITDB_ARGS:-} >/dev/null || rc=$?
	[ -n "$pwfile" ] && rm -f "$pwfile"
	[ "$rc" = 0 ] || die "initdb failed"
	cp "$ZVT_CONF" "$PGDATA/zvt.conf"
	printf "\n# the zvt image's settings (docker/zvt.conf)\ninclude 'zvt.conf'\n" >>"$PGDATA/postgresql.conf"
	printf '\n# the zvt image: clients on any address, with %s\nhost all all all %s\n' \
		"$method" "$method" >>"$PGDATA/pg_hba.conf"
	first_start=1
fi

# --- 2. the private server: database, extension, simulator -----------------
# psql on the private server's socket; SQL comes on stdin, -v sets variables
pq() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$ZVT_SOCKET_DIR" -p "$PGPORT" -U postgres "$@"; }

# wait_ready PID: true once the server of PID accepts connections
wait_ready() {
	local i
	for ((i = 0; i < ${ZVT_START_TIMEOUT:-120} * 5; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		"$PGBIN/pg_isready" -q -h "$ZVT_SOCKET_DIR" -p "$PGPORT" -d postgres && return 0
		sleep 0.2
	done
	return 1
}

# stop_private: fast shutdown of the private server, if it runs
stop_private() {
	[ -n "${private:-}" ] || return 0
	kill -INT "$private" 2>/dev/null || :
	wait "$private"
}

export PGHOST=$ZVT_SOCKET_DIR PGUSER=postgres PGDATABASE=$ZVT_DATABASE
"$PGBIN/postgres" -D "$PGDATA" "${settings[@]}" -c listen_addresses= -c zvt.feeds=off "$@" &
private=$!
# an error or a stop request from here on still stops the private server
trap 'stop_private' EXIT
trap 'exit 143' TERM INT
wait_ready "$private" || die "the server did not start (see the log above)"

pq -d postgres -v db="$ZVT_DATABASE" <<'SQL'
SELECT pg_catalog.format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db') \gexec
SQL
pq -d "$ZVT_DATABASE" -c "CREATE EXTENSION IF NOT EXISTS zvt"

if [ "$first_start" = 1 ] && [ -d /docker-entrypoint-initdb.d ]; then
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
			*.sql) say "running $f"; pq -d "$ZVT_DATABASE" -f "$f" ;;
			*.sh) say "running $f"; bash "$f" ;;
			*) ;;
		esac
	done
fi

if [ -n "${ZVT_EXSIM_URL:-}" ]; then
	re='^(wss?)://([^/:]+|\[[0-9a-fA-F:]+\]):([0-9]+)/?$'
	[[ $ZVT_EXSIM_URL =~ $re ]] || die "ZVT_EXSIM_URL must look like ws://host:port, not \"$ZVT_EXSIM_URL\""
	ws=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]}
	rest=http
	[ "$ws" = wss ] && rest=https
	say "pointing zvt.exchanges at the simulator at $ws://$host:$port"
	pq -d "$ZVT_DATABASE" -v ws="$ws" -v rest="$rest" -v host="$host" -v port="$port" <<'SQL'
UPDATE zvt.exchanges AS e
   SET ws_url = :'ws' || '://' || :'host' || ':' || (:'port'::int4 + p.o),
       rest_url = :'rest' || '://' || :'host' || ':' || (:'port'::int4 + p.o)
  FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
 WHERE e.name = p.name;
SQL
fi

trap - EXIT
stop_private || die "the private server did not stop cleanly"
trap - TERM INT

# --- 3. the server in the foreground ---------------------------------------
say "starting PostgreSQL on port $PGPORT, zvt serving database \"$ZVT_DATABASE\""
"$PGBIN/postgres" -D "$PGDATA" "${settings[@]}" "$@" &
server=$!
# SIGTERM (docker stop) would be a smart shutdown, which waits for every
# client to leave; make it a fast one.  wait returns early on a trapped
# signal, so wait again until the server is gone.
trap 'kill -INT "$server" 2>/dev/null' TERM INT
trap 'kill -QUIT "$server" 2>/dev/null' QUIT
rc=
while [ -z "$rc" ]; do
	s=0
	wait "$server" || s=$?
	if [ "$s" -gt 128 ]; then
		# a trapped signal interrupted wait: the server is still there, or
		# it has just exited and a second wait returns its status
		kill -0 "$server" 2>/dev/null && continue
		s2=0
		wait "$server" 2>/dev/null || s2=$?
		[ "$s2" != 127 ] && s=$s2
	fi
	rc=$s
done
say "PostgreSQL exited with status $rc"
exit "$rc"
