#!/usr/bin/env bash
# Reconciliation of live accounts (src/live/reconcile.c,
# sql/59_reconcile.sql) against the simulator's private API, on all four
# exchanges, on a cluster of its own with zvt.live_trading on:
# - while the routers are stopped, on the exchange: one order fills (a
#   fill the router missed), one fills in part, one is canceled outside
#   zvt, an order is placed outside zvt, and the quote balance changes
#   (a deposit); at the routers' start each appears in
#   zvt.reconciliations (order_missing, fill_missed, order_unknown,
#   balance), the ledger's orders, balances and positions equal the
#   simulator's account, and the chaos invariants (balances = initial cash + fills +
#   applied adjustments) hold;
# - while an account reconciles (its open-orders list held by the
#   simulator until the router times out), a new order commits as
#   pending_new and is not sent; it goes out once the run ended, and the
#   REST outage makes a second run (trigger reconnect) that completes;
# - zvt.reconcile_interval: a running router reconciles again by itself.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/live_lib.bash"

live_begin live_reconcile 21800 zlc rc
live_sim_start
live_cluster_start
live_accounts
runs_done_after() { # EXCHANGE MARK: runs of rc_EXCHANGE finished after recon_id MARK
	q -c "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $(acct "$1") AND kind = 'run'
	        AND recon_id > $2 AND finished_at IS NOT NULL"
}

# ---- three resting orders per exchange; the first runs ------------------
declare -A o1 o2 o3
for ex in $exchanges; do
	o1[$ex]=$(place "$ex" 0.01 1000)
	o2[$ex]=$(place "$ex" 0.01 1001)
	o3[$ex]=$(place "$ex" 0.01 1002)
done
for ex in $exchanges; do
	poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN (${o1[$ex]}, ${o2[$ex]}, ${o3[$ex]}) AND status = 'new'" \
		3 30 || fail "$ex: orders not acknowledged"
	[ "$(runs_done_after "$ex" 0)" -ge 1 ] || fail "$ex: no reconciliation at the router's start"
	n=$(q -c "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $(acct "$ex") AND kind = 'run'
	            AND applied AND details->>'trigger' = 'start' AND details->>'error' IS NULL")
	[ "$n" -ge 1 ] || fail "$ex: the start's run did not complete: $(q -c "SELECT details FROM zvt.reconciliations
	    WHERE account_id = $(acct "$ex") AND kind = 'run'")"
	agree "$ex"
done
echo "ok every router reconciled its account at its start, before sending"

# ---- the routers stopped; the exchange moves on without zvt ---------------
setting live_trading off
poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'zvt router%'" 0 30 || fail "routers still run"
m=$(mark)
for ex in $exchanges; do
	sim fill "$ex" "account=0&client_id=zvt${sysid}o${o1[$ex]}" >/dev/null
	sim fill "$ex" "account=0&client_id=zvt${sysid}o${o2[$ex]}&qty=0.004" >/dev/null
	sim cancel "$ex" "account=0&client_id=zvt${sysid}o${o3[$ex]}" >/dev/null
	sim order "$ex" "account=0&symbol=$(sym_of "$ex")&side=buy&qty=0.02&price=900&client_id=ext1" >/dev/null
	sim balance "$ex" "account=0&asset=$(quote_of "$ex")&delta=123.45" >/dev/null
done
setting live_trading on
for ex in $exchanges; do
	poll_until "SELECT count(*) >= 1 FROM zvt.reconciliations WHERE account_id = $(acct "$ex") AND kind = 'run'
	              AND recon_id > $m AND finished_at IS NOT NULL" t 60 || fail "$ex: no run after the restart"
	a=$(acct "$ex")
	row() { q -c "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $a AND recon_id > $m AND $1"; }
	[ "$(row "kind = 'run' AND applied AND details->>'error' IS NULL")" -ge 1 ] ||
		fail "$ex: the run failed: $(q -c "SELECT details FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m")"
	[ "$(row "kind = 'order_missing' AND order_id = ${o1[$ex]} AND applied AND details->>'status' = 'filled'")" = 1 ] ||
		fail "$ex: the filled order is not recorded missing"
	[ "$(row "kind = 'fill_missed' AND order_id = ${o1[$ex]} AND applied AND (details->>'booked')::numeric = 0.01")" = 1 ] ||
		fail "$ex: the missed fill of the filled order is not recorded"
	[ "$(row "kind = 'fill_missed' AND order_id = ${o2[$ex]} AND applied AND (details->>'booked')::numeric = 0.004")" = 1 ] ||
		fail "$ex: the missed part fill is not recorded"
	[ "$(row "kind = 'order_missing' AND order_id = ${o3[$ex]} AND applied AND details->>'status' = 'canceled'")" = 1 ] ||
		fail "$ex: the order canceled outside zvt is not recorded"
	[ "$(row "kind = 'order_unknown' AND NOT applied AND details->>'client_order_id' = 'ext1'
	          AND (details->>'qty')::numeric = 0.02")" = 1 ] || fail "$ex: the order placed outside zvt is not recorded"
	[ "$(row "kind = 'balance' AND applied AND asset = '$(quote_of "$ex")' AND amount = 123.45")" = 1 ] ||
		fail "$ex: the deposit is not recorded: $(q -c "SELECT string_agg(asset || ' ' || amount, ', ') FROM zvt.reconciliations
		      WHERE account_id = $a AND kind = 'balance'")"
	[ "$(row "kind NOT IN ('run', 'order_missing', 'fill_missed', 'order_unknown', 'balance')")" = 0 ] || fail "$ex: other rows"
	expect="filled 0.01|new 0.004|canceled 0"
	got=$(q -c "SELECT string_agg(status || ' ' || trim_scale(filled_qty), '|' ORDER BY order_id) FROM zvt.orders
	             WHERE order_id IN (${o1[$ex]}, ${o2[$ex]}, ${o3[$ex]})")
	[ "$got" = "$expect" ] || fail "$ex: orders after reconciliation [$got], want [$expect]"
	n=$(q -c "SELECT count(*) FROM zvt.orders WHERE account_id = $a AND client_order_id = 'ext1'")
	[ "$n" = 0 ] || fail "$ex: the unknown order was adopted into the ledger"
	agree "$ex"
	echo "ok $ex: missed fill, part fill, cancel outside zvt, unknown order and deposit reconciled"
done
# the ledger explains itself: balances = initial cash + fills + applied adjustments
invariants
echo "ok the ledger's invariants hold, reconciliation's adjustments included"

# ---- an account's new orders wait while it reconciles ---------------------
# the binance router restarts (terminated); its run's open-orders request
# is held by the simulator until zvt.router_timeout: an order placed
# meanwhile stays pending_new until the run has ended
setting router_timeout 8000
m=$(mark)
a=$(acct binance)
sim hold binance n=1 >/dev/null
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'zvt router binance'" >/dev/null
poll_until "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m
              AND finished_at IS NULL" 1 30 || fail "binance: no run under way"
# the held run itself: the outage it ends with starts a second run (trigger
# reconnect), and the order may go out between the two
r1=$(q -c "SELECT min(recon_id) FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m")
w=$(place binance 0.01 1003)
seen=0
for i in $(seq 1 600); do
	s=$(q -c "SELECT status || ' ' || EXISTS (SELECT 1 FROM zvt.reconciliations WHERE recon_id = $r1 AND finished_at IS NULL)
	            FROM zvt.orders WHERE order_id = $w")
	case "$s" in
	"pending_new true") seen=$((seen + 1)) ;;
	*" true") fail "binance: order $w is [$s] while its account reconciles" ;;
	*" false") break ;;
	esac
	sleep 0.1
done
[ "$seen" -ge 1 ] || fail "binance: the run ended before the order could be checked"
poll_until "SELECT status FROM zvt.orders WHERE order_id = $w" new 30 || fail "binance: the waiting order was not sent after the run"
got=$(q -c "SELECT sends FROM zvt.live_orders WHERE order_id = $w")
[ "$got" = 1 ] || fail "binance: the waiting order was sent $got times"
q -c "SELECT details->>'error' FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m
       ORDER BY recon_id LIMIT 1" | grep -q '^open orders: no answer' || fail "binance: the held run did not end with its error"
poll_until "SELECT count(*) >= 1 FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m
              AND details->>'trigger' = 'reconnect' AND applied" t 30 || fail "binance: no run after the outage"
echo "ok binance: an order placed while its account reconciled waited ($seen looks) and went out once after; the outage's run completed"
setting router_timeout 10000
agree binance

# ---- every zvt.reconcile_interval ----------------------------------------
m=$(mark)
setting reconcile_interval "'1s'"
sim order okx "account=0&symbol=BTC-USDT&side=buy&qty=0.03&price=800&client_id=ext2" >/dev/null
poll_until "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $(acct okx) AND recon_id > $m
              AND kind = 'order_unknown' AND details->>'client_order_id' = 'ext2'" 1 30 ||
	fail "okx: no periodic run found the new order placed outside zvt"
poll_until "SELECT count(*) >= 2 FROM zvt.reconciliations WHERE account_id = $(acct okx) AND recon_id > $m
              AND kind = 'run' AND details->>'trigger' = 'interval' AND applied" t 30 || fail "okx: no periodic runs"
n=$(q -c "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $(acct okx) AND kind = 'order_unknown'
            AND details->>'client_order_id' = 'ext2'")
[ "$n" = 1 ] || fail "okx: an unknown order recorded $n times, want once"
setting reconcile_interval 0
echo "ok okx: periodic runs, an unknown order recorded once"

echo "ok reconciliation on all four exchanges"
