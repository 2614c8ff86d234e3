#!/usr/bin/env bash
# 16 sessions place orders at once on one account whose max_position_qty
# is 10: market buys that fill and limit buys that rest (both count toward
# the worst-case position).  The per-account advisory lock makes the risk
# check and the write one step, so exactly 10 orders of 1 are accepted,
# whatever the interleaving, and no session fails.
set -u
. "$(dirname "$0")/common.bash"

q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9301, 'binance', 'RACE-USDT', 'RACEUSDT', 'RACE', 'USDT', 'spot')
      ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'RACE-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "SELECT 1 FROM zvt.create_account('race1', initial_cash => 1000000000, maker_fee_bps => 0, taker_fee_bps => 0)" \
  -c "SELECT 1 FROM zvt.set_risk_limits('race1', max_position_qty => 10)" >/dev/null || fail "setup"

sessions=16
per=5
pids=()
for s in $(seq 1 $sessions); do
	(
		for ((n = 0; n < per; n++)); do
			if (( (s + n) % 2 )); then
				echo "SELECT status FROM zvt.place_order('race1', 'binance', 'RACE-USDT', 'buy', 1);"
			else
				echo "SELECT status FROM zvt.place_order('race1', 'binance', 'RACE-USDT', 'buy', 1, 'limit', price => 90);"
			fi
		done
	) | psql -X -qAt -v ON_ERROR_STOP=1 >"$ZVT_TEST_DIR/orace.$s.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || { cat "$ZVT_TEST_DIR"/orace.*.log; fail "a session failed"; }
done

total=$(cat "$ZVT_TEST_DIR"/orace.*.log | wc -l)
accepted=$(cat "$ZVT_TEST_DIR"/orace.*.log | grep -vc rejected)
echo "$total orders from $sessions sessions, $accepted accepted (limit 10)"
[ "$total" = $((sessions * per)) ] || fail "expected $((sessions * per)) answers, got $total"
[ "$accepted" = 10 ] || fail "expected exactly 10 accepted orders, got $accepted"
exposure=$(q -c "SELECT h.qty + e.buy_qty FROM zvt.holdings h JOIN zvt.exposure e USING (account_id, instrument_id)
                  JOIN zvt.accounts a USING (account_id) WHERE a.name = 'race1'")
[ "$exposure" = 10 ] || fail "position + open buys is $exposure, not 10"
[ "$(q -c "SELECT count(*) FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
            WHERE a.name = 'race1' AND o.status <> 'rejected'")" = 10 ] || fail "stored orders disagree"
[ "$(q -c "SELECT count(*) FROM zvt.cancel_all('race1')")" -ge 0 ] || fail "cancel_all"
exit 0
