# scripts/lib.sh: shared by scripts/demo and scripts/test.
#
# Installs the Debian packages zvt needs, builds and installs zvt, and
# starts or stops a throwaway PostgreSQL 15 cluster of our own (its own
# data directory, socket directory and port, never Debian's 15/main).
# Works as root (the cluster runs as postgres through runuser) or as a
# user with sudo (the cluster runs as that user).

# PG_CONFIG names another PostgreSQL 15 installation (a relocated copy, say)
if [ -n "${PG_CONFIG:-}" ]; then PGBIN=$("$PG_CONFIG" --bindir); else PGBIN=/usr/lib/postgresql/15/bin; fi

ZVT_PACKAGES="build-essential postgresql-15 postgresql-server-dev-15
  postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
  clang-14 llvm-14 libclang-rt-14-dev libwebsockets-dev libcurl4-openssl-dev libssl-dev
  libjansson-dev zlib1g-dev libhiredis-dev libjwt-dev redis-server python3 curl iproute2 shellcheck prometheus
  nodejs npm chromium"

say() { printf '== %s\n' "$*"; }

# $PGBIN/postgres links the AddressSanitizer runtime (built with
# -fsanitize=address, as test/sanitize/build-postgres does)
pg_has_asan() {
	ldd "$PGBIN/postgres" 2>/dev/null | grep -q 'libasan\.so'
}

# Run as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Run as the cluster's owner: postgres when we are root, else ourselves.
as_pg() {
	# from / so that postgres can always enter its working directory
	if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Install the packages that are missing (apt-get update once, only then).
zvt_deps() {
	local missing="" p
	for p in $ZVT_PACKAGES; do
		# npm may come with another build of nodejs (its own package)
		[ "$p" = npm ] && command -v npm >/dev/null && continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing:$missing"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
	fi
	# Debian's own cluster is not ours; keep it from taking 5432 by surprise
	return 0
}

zvt_build() {
	say "building zvt"
	make -s -j2 >/dev/null
	as_root make -s install >/dev/null
}

# A free TCP port on loopback at or after $1.  Free means no socket of
# any state has it as its local port: a port an outgoing connection took
# from the ephemeral range (32768-60999 on Linux) accepts no connection,
# yet a listener cannot bind it.  Callers pick bases below that range.
#
# The side lane of scripts/test's integration layer (ZVT_PORT_LANE=side)
# runs beside the main lane: there a base at or above 19000 (every script
# names its bases in 19000-28000) is moved 17000 down, to 2000-11000, so
# that the two lanes never look for a port from the same base at once.
# A port found from another found port (port + 10) is below 19000 already
# and stays where it is.
lane_port() {
	if [ "${ZVT_PORT_LANE:-}" = side ] && [ "$1" -ge 19000 ]; then echo $(($1 - 17000)); else echo "$1"; fi
}

free_port() {
	local p
	p=$(lane_port "$1")
	while port_taken "$p"; do p=$((p + 1)); done
	echo "$p"
}

# The first of N consecutive free ports at or after $1 (the simulator
# listens on one port per exchange from its --port up).
free_port_range() {
	local p n=$2 k
	p=$(lane_port "$1")
	while :; do
		for ((k = 0; k < n; k++)); do
			port_taken $((p + k)) && break
		done
		[ "$k" = "$n" ] && break
		p=$((p + k + 1))
	done
	echo "$p"
}

port_taken() {
	if command -v ss >/dev/null; then
		[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# sim_wait PID PORT...: wait until the simulator PID (zvt-exsim) listens
# on every PORT (its exchange ports, its admin port), up to
# ZVT_SIM_TIMEOUT seconds (default 120: a loaded machine starts it late).
# The listener must be PID itself (ss -p), not another program that took
# the port first.  False, with a message on stderr, if PID exits first
# or time runs out.
sim_wait() {
	local pid=$1 p i
	shift
	for p in "$@"; do
		for ((i = 0; ; i++)); do
			sim_listens "$pid" "$p" && break
			if ! kill -0 "$pid" 2>/dev/null; then
				echo "sim_wait: simulator $pid exited before listening on port $p" >&2
				return 1
			fi
			if [ "$i" -ge $((${ZVT_SIM_TIMEOUT:-120} * 10)) ]; then
				echo "sim_wait: simulator $pid not listening on port $p after ${ZVT_SIM_TIMEOUT:-120}s" >&2
				return 1
			fi
			sleep 0.1
		done
	done
}

# sim_listens PID PORT: PID listens on 127.0.0.1:PORT (without ss, or
# without the right to see other users' sockets: anyone answers there)
sim_listens() {
	local out
	if command -v ss >/dev/null && [ "$(id -u)" = 0 ]; then
		out=$(ss -Htlnp "sport = :$2" 2>/dev/null)
		[[ "$out" == *"pid=$1,"* ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null
	fi
}

# cluster_start DIR PORT DBNAME [extra postgresql.conf lines...]
# Creates DIR/data, DIR/sock and DIR/log; exports PGHOST, PGPORT, PGUSER,
# PGDATABASE for the callers' clients and sets CLUSTER_PORT (PORT, or the
# next free port when another process took PORT meanwhile).
cluster_start() {
	local dir=$1 port=$2 db=$3
	shift 3
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as_pg mkdir -p "$dir/sock"
	as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
	as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
shared_preload_libraries = 'zvt'
zvt.database = '$db'
max_worker_processes = 20
max_locks_per_transaction = 1024
fsync = off
log_line_prefix = '%m [%p] %b '
$(printf '%s\n' "$@")
CONF
	# another process may bind the port between free_port and here (tests
	# run side by side): then move to the next free port, a few times
	local tries=0
	until as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -ge 10 ] || ! tail -5 "$dir/log" | grep -q 'could not create any TCP/IP sockets'; then
			return 1
		fi
		port=$(free_port $((port + 1)))
		as_pg sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
	done
	# the port the cluster listens on (it may differ from the one asked for)
	CLUSTER_PORT=$port
	export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres PGDATABASE=$db
	psql -q -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
}

# cluster_stop DIR: a fast shutdown of DIR's cluster.  Under a sanitizer
# run (scripts/test sets ZVT_SAN_KEPT and ZVT_SAN_PATTERN) it then keeps
# the sanitizer report lines of DIR/log, as `DIR/log:LINE:text` like
# scripts/test's own scan of the logs, in ZVT_SAN_KEPT, and a copy of the
# log beside it: a script may remove DIR (or make it outside
# $ZVT_TEST_DIR) before scripts/test reads the logs.
cluster_stop() {
	local dir=$1 hits
	if [ -d "$dir/data" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "${ZVT_SAN_KEPT:-}" ] && [ -f "$dir/log" ]; then
		hits=$(grep -H -n -E "$ZVT_SAN_PATTERN" "$dir/log" 2>/dev/null)
		if [ -n "$hits" ]; then
			echo "$hits" >>"$ZVT_SAN_KEPT"
			cp "$dir/log" "$ZVT_SAN_KEPT.$(basename "$dir").$$.$RANDOM" 2>/dev/null
		fi
	fi
	return 0
}
