#!/usr/bin/env bash
# 16 sessions place orders at once on one account whose max_position_qty
# is 10: market buys that fill and limit buys that rest (both count toward
# the worst-case position), at each isolation level.  Each order is a
# transaction that reads the account first (so that under REPEATABLE READ
# and SERIALIZABLE its snapshot is taken before it waits for the account's
# lock) and then places the order; a serialization failure (40001) is
# retried as a client would.  Whatever the level and the interleaving,
# exactly 10 orders of 1 are accepted, every session gets an answer for
# every order, and the ledger agrees: position + open buys = 10, and
# cancel_all cancels exactly the resting ones.
set -u
. "$(dirname "$0")/common.bash"

sessions=16
per=5

q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9301, 'binance', 'RACE-USDT', 'RACEUSDT', 'RACE', 'USDT', 'spot')
      ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'RACE-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  >/dev/null || fail "setup"

# one order as a transaction at isolation level $1 on account $2, retried
# on 40001 (and 40P01); prints its status, and "retry" once per retry
place() {
	local level=$1 acct=$2 order=$3 out tries
	for ((tries = 0; tries < 500; tries++)); do
		out=$(psql -X -qAt -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate 2>&1 <<-SQL
			BEGIN ISOLATION LEVEL $level;
			SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id) WHERE a.name = '$acct' \g /dev/null
			SELECT status FROM zvt.place_order('$acct', 'binance', 'RACE-USDT', 'buy', 1$order);
			COMMIT;
		SQL
		)
		case "$out" in
		*ERROR:*40001* | *ERROR:*40P01*) echo retry ;;
		*ERROR:*) echo "error: $out"; return 1 ;;
		*) echo "$out"; return 0 ;;
		esac
	done
	echo "error: 500 serialization failures in a row"
	return 1
}

race() {
	local level=$1 acct=$2 pids=() s n total accepted retries resting canceled
	q -c "SET client_min_messages = warning" \
	  -c "SELECT 1 FROM zvt.create_account('$acct', initial_cash => 1000000000, maker_fee_bps => 0, taker_fee_bps => 0)" \
	  -c "SELECT 1 FROM zvt.set_risk_limits('$acct', max_position_qty => 10)" >/dev/null || fail "setup $acct"
	for s in $(seq 1 $sessions); do
		(
			for ((n = 0; n < per; n++)); do
				if (( (s + n) % 2 )); then
					place "$level" "$acct" "" || exit 1
				else
					place "$level" "$acct" ", 'limit', price => 90" || exit 1
				fi
			done
		) >"$ZVT_TEST_DIR/orace.$acct.$s.log" 2>&1 &
		pids+=($!)
	done
	for s in "${pids[@]}"; do
		wait "$s" || { cat "$ZVT_TEST_DIR"/orace."$acct".*.log; fail "$level: a session failed"; }
	done

	total=$(cat "$ZVT_TEST_DIR"/orace."$acct".*.log | grep -vc retry)
	accepted=$(cat "$ZVT_TEST_DIR"/orace."$acct".*.log | grep -v retry | grep -vc rejected)
	retries=$(cat "$ZVT_TEST_DIR"/orace."$acct".*.log | grep -c retry)
	echo "$level: $total orders from $sessions sessions, $accepted accepted (limit 10), $retries retries after 40001"
	[ "$total" = $((sessions * per)) ] || fail "$level: expected $((sessions * per)) answers, got $total"
	[ "$accepted" = 10 ] || fail "$level: expected exactly 10 accepted orders, got $accepted"
	[ "$(q -c "SELECT coalesce(h.qty, 0) + coalesce(e.buy_qty, 0)
	             FROM zvt.accounts a
	             LEFT JOIN zvt.holdings h ON h.account_id = a.account_id
	             LEFT JOIN zvt.exposure e ON e.account_id = a.account_id
	            WHERE a.name = '$acct'")" = 10 ] || fail "$level: position + open buys is not 10"
	[ "$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
	            WHERE a.name = '$acct' AND o.status <> 'rejected'")" = 10 ] || fail "$level: stored orders disagree"
	resting=$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
	                 WHERE a.name = '$acct' AND o.status = 'accepted'")
	[ "$resting" = "$(q -c "SELECT coalesce(sum(e.open_orders), 0) FROM zvt.exposure e
	                          JOIN zvt.accounts a USING (account_id) WHERE a.name = '$acct'")" ] ||
		fail "$level: zvt.exposure does not count the $resting resting orders"
	canceled=$(q -c "SELECT count(*) FROM zvt.cancel_all('$acct')")
	[ "$canceled" = "$resting" ] || fail "$level: cancel_all canceled $canceled orders, $resting rested"
	[ "$(q -c "SELECT coalesce(sum(e.open_orders), 0) || ' ' || coalesce(sum(e.buy_qty), 0)
	            FROM zvt.exposure e JOIN zvt.accounts a USING (account_id) WHERE a.name = '$acct'")" = "0 0" ] ||
		fail "$level: exposure left after cancel_all"
}

race "READ COMMITTED" race_rc
race "REPEATABLE READ" race_rr
race "SERIALIZABLE" race_ser
exit 0
