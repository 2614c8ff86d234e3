# test/integration/live_lib.bash: sourced by live_fills.sh and
# live_reconcile.sh: a cluster of the test's own with live trading on,
# the simulator's private API on all four exchanges (test/exsim), one
# live account an exchange with its key, and the helpers that compare the
# ledger with the simulator's account.  Every wait is bounded.
#
# In order:
#   live_begin NAME BASE TAG PREFIX  the test's dir and ports (live_setup,
#       common.bash), the EXIT trap (stops the simulator and the cluster,
#       which ${TAG^^}_KEEP=1 leaves up), and the private accounts'
#       file "$dir/accounts.jsonl" (10 BTC, 1000000 of the quote), which
#       the test may change before:
#   live_sim_start                   the simulator on those accounts;
#   live_cluster_start [SETTING ...] the cluster (database TAG), with the
#       master key, zvt.live_trading on, feeds and the paper matcher off,
#       reconciliation only at the routers' start, and the SETTINGs;
#   live_accounts                    the exchanges' REST addresses, the
#       instruments BTC-USDT (BTC-USD on Coinbase) at 60000 on the bus,
#       accounts PREFIX_<exchange> (live, 1000000 of the quote) and their
#       keys (live_keys, common.bash: sets sysid).

. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
exchanges="binance bybit okx coinbase"
sim_pid=

live_cleanup() {
	local keep=${live_tag^^}_KEEP
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "${!keep:-}" ] || cluster_stop "$dir"
}

live_begin() {
	live_setup "$1" "$2"
	live_tag=$3
	live_prefix=$4
	trap live_cleanup EXIT
	private_accounts "$dir/accounts.jsonl" 1000000 10
}

live_sim_start() {
	"$top/zvt-exsim" --port "$sport" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 20 \
		--duration 600 --accounts "$dir/accounts.jsonl" >"$dir/exsim.out" 2>&1 &
	sim_pid=$!
	sim_up "$sim_pid" "$sport" "$admin"
}

live_cluster_start() {
	openssl rand -hex 32 >"$dir/master.key"
	chmod 600 "$dir/master.key"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir/master.key"
	cluster_start "$dir" "$pgport" "$live_tag" "zvt.feeds = off" "zvt.live_trading = on" \
		"zvt.key_file = '$dir/master.key'" "zvt.router_poll_interval = 200" "zvt.router_timeout = 10000" \
		"zvt.reconcile_interval = 0" "zvt.paper_matcher = off" "$@" >/dev/null ||
		{ tail -20 "$dir/log"; fail "cluster did not start"; }
	q -c "SET client_min_messages = warning" -c "CREATE EXTENSION zvt" >/dev/null || fail "CREATE EXTENSION"
}

live_accounts() {
	local ex p=$live_prefix
	q -c "UPDATE zvt.exchanges SET rest_url = 'http://127.0.0.1:' || CASE name WHEN 'binance' THEN $sport
	        WHEN 'bybit' THEN $sport + 1 WHEN 'okx' THEN $sport + 2 ELSE $sport + 3 END" >/dev/null
	for ex in $exchanges; do
		q -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
		      VALUES ('$ex', '$(sym_of "$ex")', replace('$(sym_of "$ex")', '-', ''), 'BTC', '$(quote_of "$ex")', 'spot')
		      ON CONFLICT DO NOTHING" \
		  -c "SELECT zvt.bus_publish('$ex', '$(sym_of "$ex")', price => 60000, qty => 1, bid => 59999, ask => 60001)" \
		  -c "SELECT 1 FROM zvt.create_account('${p}_$ex', 'live', '$ex', initial_cash => 1000000,
		                                       currency => '$(quote_of "$ex")')" \
		  >/dev/null || fail "setup $ex"
	done
	live_keys "$p"
}

# sim PATH EXCHANGE [ARGS]: a test-only admin request of the private API (priv_reconcile.c)
sim() { curl -sf "http://127.0.0.1:$admin/priv/$1?exchange=$2${3:+&$3}" || fail "simulator: /priv/$1 $2 $3"; }
# setting NAME VALUE: ALTER SYSTEM SET zvt.NAME, reloaded
# setting NAME VALUE: ALTER SYSTEM SET zvt.NAME, read by every worker before its next step
setting() { as_pg psql -X -q -c "ALTER SYSTEM SET zvt.$1 = $2" >/dev/null || fail "set zvt.$1"; reload_conf; }
sym_of() { [ "$1" = coinbase ] && echo BTC-USD || echo BTC-USDT; }
quote_of() { [ "$1" = coinbase ] && echo USD || echo USDT; }
# place EXCHANGE QTY PRICE [SIDE]: a limit order of PREFIX_EXCHANGE (a buy by default); its id
place() {
	q -c "SELECT order_id FROM zvt.place_order('${live_prefix}_$1', '$1', '$(sym_of "$1")', '${4:-buy}', $2, 'limit',
	                                           price => $3)"
}
acct() { q -c "SELECT account_id FROM zvt.accounts WHERE name = '${live_prefix}_$1'"; }
mark() { q -c "SELECT coalesce(max(recon_id), 0) FROM zvt.reconciliations"; }
cid() { echo "zvt${sysid}o$1"; }

# agree EXCHANGE: the ledger's orders, balances and BTC position of
# PREFIX_EXCHANGE equal the simulator's account: the position is the
# exchange's BTC less the balance adjustments reconciliation applied (the
# starting holdings, deposits), fees charged in BTC included
agree() {
	local ex=$1 json bad
	json=$(sim account "$ex" account=0)
	bad=$(q -c "WITH x AS (SELECT '$json'::jsonb AS j), a AS (SELECT $(acct "$ex") AS id),
	  xb AS (SELECT key AS asset, value::numeric AS amount FROM x, jsonb_each_text(x.j->'balances')),
	  lb AS (SELECT asset, amount FROM zvt.balances, a WHERE account_id = a.id),
	  xo AS (SELECT o->>'client_id' AS cid, CASE o->>'status' WHEN 'partially_filled' THEN 'new' ELSE o->>'status' END AS status,
	                (o->>'filled')::numeric AS filled FROM x, jsonb_array_elements(x.j->'orders') o),
	  lo AS (SELECT 'zvt${sysid}o' || order_id AS cid, status, filled_qty AS filled FROM zvt.orders, a
	          WHERE account_id = a.id AND status NOT IN ('rejected', 'pending_new')),
	  xp AS (SELECT coalesce((SELECT amount FROM xb WHERE asset = 'BTC'), 0)
	                - coalesce((SELECT sum(r.amount) FROM zvt.reconciliations r, a WHERE r.account_id = a.id
	                              AND r.kind = 'balance' AND r.applied AND r.asset = 'BTC'), 0) AS qty),
	  lp AS (SELECT coalesce(sum(h.qty), 0) AS qty FROM zvt.holdings h JOIN zvt.instruments i ON i.id = h.instrument_id, a
	          WHERE h.account_id = a.id AND i.base = 'BTC')
	  SELECT string_agg(d, '; ') FROM (
	    SELECT 'balance ' || coalesce(xb.asset, lb.asset) || ': exchange ' || coalesce(xb.amount, 0) || ' ledger ' || coalesce(lb.amount, 0) AS d
	      FROM xb FULL JOIN lb USING (asset) WHERE coalesce(xb.amount, 0) <> coalesce(lb.amount, 0)
	    UNION ALL
	    SELECT 'order ' || lo.cid || ': exchange ' || coalesce(xo.status || ' ' || xo.filled, 'none') || ' ledger ' || lo.status || ' ' || lo.filled
	      FROM lo LEFT JOIN xo USING (cid) WHERE xo.status IS DISTINCT FROM lo.status OR xo.filled <> lo.filled
	    UNION ALL
	    SELECT 'position BTC: exchange ' || xp.qty || ' (less the adjustments) ledger ' || lp.qty
	      FROM xp, lp WHERE xp.qty <> lp.qty) s")
	[ -z "$bad" ] || fail "$ex: the ledger differs from the exchange: $bad"
	echo "ok $ex: the ledger's orders, balances and position equal the exchange's account"
}

# invariants: the ledger's (test/chaos/invariants.sql) hold
invariants() {
	local bad
	bad=$(q -f "$top/test/chaos/invariants.sql" | awk -F'|' '$2 != 0')
	[ -z "$bad" ] || fail "ledger invariants broken: $bad"
}
