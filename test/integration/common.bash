# test/integration/common.bash: sourced by the integration scripts.
#
# They run against the cluster scripts/test started (PGHOST, PGPORT,
# PGUSER, PGDATABASE are exported) and may start clusters of their own
# under $ZVT_TEST_DIR with scripts/lib.sh.  Every wait is bounded.

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

q() { psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# poll_until SQL EXPECTED SECONDS: true once SQL prints EXPECTED.  The
# bound is multiplied by ZVT_WAIT_SCALE (scripts/test sets 3 for an ASan
# build, where the server runs several times slower): a bound only says
# when to give up, so a longer one weakens no check.
poll_until() {
	local sql=$1 want=$2 secs=$(($3 * ${ZVT_WAIT_SCALE:-1})) got="" i
	for ((i = 0; i < secs * 5; i++)); do
		got=$(q -c "$sql" 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	echo "waited ${secs}s for [$sql] = [$want], last saw [$got]" >&2
	return 1
}

# wait_log FILE TEXT SECONDS: true once the server log FILE has a line
# containing TEXT (a fixed string); the bound is scaled as poll_until's.
wait_log() {
	local file=$1 text=$2 secs=$(($3 * ${ZVT_WAIT_SCALE:-1})) i
	for ((i = 0; i < secs * 5; i++)); do
		grep -qF -- "$text" "$file" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "waited ${secs}s for [$text] in $file" >&2
	return 1
}

# reload_conf: pg_reload_conf(), then wait until a new session has the
# settings the postmaster read (its pg_conf_load_time() is later than
# before).  By then the postmaster has signalled every process, and each
# zvt worker reads the files at the top of its next step: whatever a
# worker does after the caller's next commit uses the new settings.
reload_conf() {
	local t
	t=$(q -c "SELECT pg_conf_load_time()") || fail "pg_conf_load_time"
	q -c "SELECT pg_reload_conf()" >/dev/null || fail "pg_reload_conf"
	poll_until "SELECT pg_conf_load_time() > '$t'" t 30 || fail "the postmaster did not read the settings"
}

# restart_launcher_expect_one SQL WHAT: kill the launcher, wait until its
# successor has been round its loop (a pass it started has ended), then
# check, ten times over a second, that SQL (a count of workers) is 1: a
# new launcher has none of the old one's handles and must not start a
# second copy of a running worker.
restart_launcher_expect_one() {
	local sql=$1 what=$2 pid passes n i
	pid=$(q -c "SELECT launcher_pid FROM zvt.maintenance_status()")
	passes=$(q -c "SELECT passes FROM zvt.maintenance_status()")
	kill -TERM "$pid"
	poll_until "SELECT launcher_pid IS NOT NULL AND launcher_pid <> $pid FROM zvt.maintenance_status()" t 20 \
		|| fail "launcher not restarted"
	poll_until "SELECT passes > $passes + 1 FROM zvt.maintenance_status()" t 20 || fail "no pass from the new launcher"
	for i in $(seq 1 10); do
		n=$(q -c "$sql")
		[ "$n" = 1 ] || fail "$n $what run after a launcher restart"
		sleep 0.1
	done
}

# sim_up PID PORT [ADMIN]: wait (sim_wait, scripts/lib.sh) for a simulator
# serving all four exchanges from PORT, and for its admin port if given;
# fails the test if it does not come up.
sim_up() {
	sim_wait "$1" "$2" $(($2 + 1)) $(($2 + 2)) $(($2 + 3)) ${3:+"$3"} || fail "the simulator did not start"
}

# private_accounts FILE QUOTE_BALANCE BASE_BALANCE: the simulator's
# live_setup NAME BASE: for the live-trading tests, dir (a fresh
# $ZVT_TEST_DIR/NAME the server may write), sport (four consecutive free
# ports from BASE: the simulator's four exchanges), admin (its admin
# port) and pgport (the test's own cluster).
live_setup() {
	dir=$ZVT_TEST_DIR/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	sport=$(free_port_range "$2" 4)
	while port_taken $((sport + 1)) || port_taken $((sport + 2)) || port_taken $((sport + 3)); do
		sport=$(free_port $((sport + 4)))
	done
	admin=$(free_port $((sport + 10)))
	pgport=$(free_port $((admin + 1)))
}

# private-API accounts (--accounts FILE), one per exchange, with the test
# keys (Coinbase's from test/fixtures/exchanges/coinbase_test_keys.txt);
# sets pem and cbkey, the Coinbase key's secret and name.
private_accounts() {
	local file=$1 quote=$2 base=$3
	pem=$(sed -n 's/^TEST_API_SECRET = //p' "$(dirname "${BASH_SOURCE[0]}")/../fixtures/exchanges/coinbase_test_keys.txt")
	cbkey=organizations/test-organization/apiKeys/test-api-key
	cat >"$file" <<JSON
{"exchange":"binance","key":"bn-key","secret":"bn-secret","balances":{"USDT":"$quote","BTC":"$base"}}
{"exchange":"bybit","key":"by-key","secret":"by-secret","balances":{"USDT":"$quote","BTC":"$base"}}
{"exchange":"okx","key":"okx-key","secret":"okx-secret","passphrase":"okx-pass","balances":{"USDT":"$quote","BTC":"$base"}}
{"exchange":"coinbase","key":"$cbkey","secret":"$pem","balances":{"USD":"$quote","BTC":"$base"}}
JSON
}

# live_keys PREFIX: the simulator's keys (private_accounts) as the API keys
# of zvt's accounts PREFIX_binance, PREFIX_bybit, PREFIX_okx and
# PREFIX_coinbase; sets sysid, the database's part of zvt's client order
# ids (zvt<sysid>o<order id>).
live_keys() {
	local p=$1
	q -c "SELECT 1 FROM zvt.set_api_key('${p}_binance', 'bn-key', 'bn-secret')" \
	  -c "SELECT 1 FROM zvt.set_api_key('${p}_bybit', 'by-key', 'by-secret')" \
	  -c "SELECT 1 FROM zvt.set_api_key('${p}_okx', 'okx-key', 'okx-secret', 'okx-pass')" \
	  -c "SELECT 1 FROM zvt.set_api_key('${p}_coinbase', '$cbkey', E'$(printf '%s' "$pem" | sed "s/'/''/g")')" \
	  >/dev/null || fail "set_api_key"
	sysid=$(q -c "SELECT lpad(to_hex(((system_identifier # (system_identifier >> 32)) & 4294967295)::bigint), 8, '0')
	              FROM pg_control_system()")
}

# --- the shared cluster's Binance feed from a simulator of the script's own
# (feed_deadlock.sh, feed_candle_close.sh, feed_burst_memory.sh)
#
# binance_sim_setup NAME BASE SYMBOLS [SETTING...]: sets cap (a new
# $ZVT_TEST_DIR/NAME) and port (four free ports from BASE); keeps
# zvt.exchanges in zvt_saved_NAME, points Binance at the port, lists the
# SYMBOLS (comma-separated, e.g. BTC-USDT,ETH-USDT: Binance spot), drops
# every subscription, turns the feeds on with each SETTING ("name =
# value", by ALTER SYSTEM), and waits until no Binance feed runs.  The EXIT
# trap binance_sim_cleanup undoes all that and stops the simulator (a
# script with more to undo calls it from its own trap).
binance_sim_setup() {
	local name=$1 s
	sim_name=$name
	sim_settings=()
	shift
	port=$(free_port_range "$1" 4)
	local symbols=$2
	shift 2
	cap=$ZVT_TEST_DIR/$name
	mkdir -p "$cap"
	sim=""
	trap binance_sim_cleanup EXIT
	local set=(-c "ALTER SYSTEM SET zvt.feeds = on")
	for s in "$@"; do
		sim_settings+=("${s%% *}")
		set+=(-c "ALTER SYSTEM SET $s")
	done
	q -c "CREATE TABLE zvt_saved_$name AS SELECT * FROM zvt.exchanges" \
	  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
	  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	      SELECT 'binance', s, replace(s, '-', ''), split_part(s, '-', 1), split_part(s, '-', 2), 'spot'
	        FROM unnest(string_to_array('$symbols', ',')) s ON CONFLICT DO NOTHING" \
	  -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" \
	  "${set[@]}" -c "SELECT pg_reload_conf()" >/dev/null || fail "setup"
	poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0" 0 60 ||
		fail "the binance feed did not stop"
}

binance_sim_cleanup() {
	local s reset=()
	[ -n "${sim:-}" ] && kill "$sim" 2>/dev/null
	for s in "${sim_settings[@]}"; do reset+=(-c "ALTER SYSTEM RESET $s"); done
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_$sim_name s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_$sim_name" -c "ALTER SYSTEM RESET zvt.feeds" \
	  "${reset[@]}" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
	return 0
}

# binance_sim_start ARG...: zvt-exsim serving Binance on $port with ARGs
# (its output in $cap/exsim.out); sets sim to its pid once it listens.
binance_sim_start() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	"$top/zvt-exsim" --port "$port" --exchanges binance "$@" >"$cap/exsim.out" 2>&1 &
	sim=$!
	sim_wait "$sim" "$port" || fail "the simulator did not start"
}

# binance_sim_subscribe SYMBOL: subscribes SYMBOL's trades and waits for
# this feed's own connection (earlier scripts leave a stopped feed's row
# behind) and for new rows from it; sets pid to the feed worker's pid.
binance_sim_subscribe() {
	local n0
	n0=$(q -c "SELECT count(*) FROM zvt.trades")
	q -c "SELECT zvt.subscribe('binance', '$1', 'trades')" >/dev/null || fail "subscribe"
	poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0 AND state = 'connected'" 1 60 ||
		fail "the binance feed did not connect"
	pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
	[ -n "$pid" ] && [ -r "/proc/$pid/status" ] || fail "no binance feed process (pid '$pid')"
	poll_until "SELECT count(*) > $n0 FROM zvt.trades" t 60 || fail "no trades"
}
