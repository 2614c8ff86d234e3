#!/usr/bin/env bash
# The paper matcher worker: it starts when a paper order comes to rest,
# fills it when a price on the bus reaches it (nobody calls
# zvt.paper_match() here), reports the delay from price to fill, stops
# once nothing rests and comes back for the next resting order.  Then
# (issue 11): a pass writes only the orders the market crossed, not the
# 20,000 far-from-market orders of another account, and an account whose
# lock another session holds is skipped, not waited for, and matched once
# that session ends.
set -u
. "$(dirname "$0")/common.bash"

running="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher'"
status() { q -c "SELECT status FROM zvt.orders WHERE client_order_id = '$1'"; }

q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9302, 'binance', 'PM-USDT', 'PMUSDT', 'PM', 'USDT', 'spot')
      ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'PM-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "SELECT 1 FROM zvt.create_account('pm1', initial_cash => 100000)" >/dev/null || fail "setup"
# other tests may have left orders resting: this one wants a matcher that can go idle
q -c "SELECT count(*) FROM zvt.accounts a, zvt.cancel_all(a.name)" >/dev/null || fail "cancel leftovers"

q -c "SELECT status FROM zvt.place_order('pm1', 'binance', 'PM-USDT', 'buy', 2, 'limit', price => 99, client_order_id => 'pm-a')" >/dev/null || fail "place"
poll_until "$running" 1 10 || fail "the matcher did not start for a resting order"

# a trade through the limit for part of it, then the ask reaching it for the rest
q -c "SELECT zvt.bus_publish('binance', 'PM-USDT', price => 98.9, qty => 0.5)" >/dev/null
poll_until "SELECT status || ' ' || filled_qty FROM zvt.orders WHERE client_order_id = 'pm-a'" "partially_filled 0.5" 10 \
	|| fail "no partial fill from the trade"
q -c "SELECT zvt.bus_publish('binance', 'PM-USDT', bid => 98.8, ask => 99, ask_qty => 5)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-a'" filled 10 || fail "not filled by the quote"
q -c "SELECT 'price to fill: ' || string_agg(round(extract(epoch FROM f.ts - f.price_ts) * 1000, 1) || ' ms', ', ' ORDER BY f.fill_id)
        FROM zvt.fills f JOIN zvt.orders o USING (order_id) WHERE o.client_order_id = 'pm-a'"

# a stop triggers on a trade and fills at the bid
q -c "SELECT status FROM zvt.place_order('pm1', 'binance', 'PM-USDT', 'sell', 1, 'stop', stop_price => 95, client_order_id => 'pm-stop')" >/dev/null || fail "stop"
q -c "SELECT zvt.bus_publish('binance', 'PM-USDT', price => 94.5, qty => 1, bid => 94.4, ask => 94.6)" >/dev/null
poll_until "SELECT status || ' ' || avg_fill_price FROM zvt.orders WHERE client_order_id = 'pm-stop'" "filled 94.4" 10 \
	|| fail "the stop did not fill"

# nothing rests now: the matcher leaves, and comes back for the next order
poll_until "$running" 0 10 || fail "the matcher did not stop with nothing resting"
q -c "SELECT status FROM zvt.place_order('pm1', 'binance', 'PM-USDT', 'buy', 1, 'limit', price => 90, client_order_id => 'pm-b')" >/dev/null || fail "place b"
poll_until "$running" 1 10 || fail "the matcher did not come back"
q -c "SELECT zvt.bus_publish('binance', 'PM-USDT', price => 89, qty => 3)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-b'" filled 10 || fail "pm-b not filled"
[ "$(q -c "SELECT qty FROM zvt.positions WHERE account = 'pm1'")" = 2 ] || fail "position should be 2 + 1 - 1 = 2"

# --- only crossed orders are touched -------------------------------------
# pmfar rests 20,000 orders far from the market (100): buy limits and sell
# stops at 50-60, sell limits and buy stops at 140-150, and ten sell
# trailing stops 50 % under the high.  Each row's version (xmin, ctid) is
# kept in pm_far; a pass that writes a row changes it.
q -c "SET client_min_messages = warning" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
      OVERRIDING SYSTEM VALUE VALUES (9303, 'binance', 'PX-USDT', 'PXUSDT', 'PX', 'USDT', 'spot')
      ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.bus_publish('binance', 'PX-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" \
  -c "SELECT count(*) FROM unnest('{pmfar,pmnear,pmA,pmB}'::text[]) n, zvt.create_account(n, initial_cash => 1e9)" \
  -c "SELECT status FROM zvt.place_order('pmfar', 'binance', 'PX-USDT', 'buy', 20)" \
  -c "DROP TABLE IF EXISTS pm_far, pm_release" >/dev/null || fail "setup far"
far() {
	q -c "SELECT status || ' ' || count(*) FROM generate_series(1, $1) i,
	        zvt.place_order('pmfar', 'binance', 'PX-USDT', '$2', 0.001, '$3', $4,
	                        client_order_id => 'far-$2-$3-' || i) GROUP BY status"
}
[ "$(far 5000 buy limit "price => 50 + (i % 1000) / 100.0")" = "accepted 5000" ] || fail "far buy limits"
[ "$(far 5000 sell limit "price => 140 + (i % 1000) / 100.0")" = "accepted 5000" ] || fail "far sell limits"
[ "$(far 5000 sell stop "stop_price => 50 + (i % 1000) / 100.0")" = "accepted 5000" ] || fail "far sell stops"
[ "$(far 4990 buy stop "stop_price => 140 + (i % 1000) / 100.0")" = "accepted 4990" ] || fail "far buy stops"
[ "$(far 10 sell trailing_stop "trail_pct => 50")" = "accepted 10" ] || fail "far trailing stops"
q -c "CREATE TABLE pm_far AS SELECT o.order_id, o.type, o.xmin::text AS xmin0, o.ctid AS ctid0
        FROM zvt.orders o JOIN zvt.accounts a USING (account_id)
       WHERE a.name = 'pmfar' AND o.status = 'accepted'" || fail "pm_far"
rewritten="SELECT count(*) FROM zvt.orders o JOIN pm_far f USING (order_id)
            WHERE o.xmin::text <> f.xmin0 OR o.ctid <> f.ctid0"
[ "$(q -c "SELECT count(*) FROM pm_far")" = 20000 ] || fail "20,000 far orders should rest, not $(q -c "SELECT count(*) FROM pm_far")"

# another account's order is crossed by a trade and filled; no far row moved
q -c "SELECT status FROM zvt.place_order('pmnear', 'binance', 'PX-USDT', 'buy', 1, 'limit', price => 99, client_order_id => 'pm-near')" >/dev/null \
	|| fail "near"
q -c "SELECT zvt.bus_publish('binance', 'PX-USDT', price => 98.9, qty => 5)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-near'" filled 30 || fail "pm-near not filled"
[ "$(q -c "$rewritten")" = 0 ] || fail "a pass wrote $(q -c "$rewritten") of the 20,000 far orders it did not cross"
# a new high moves the ten trailing stops (50 % under 101), and nothing else
q -c "SELECT zvt.bus_publish('binance', 'PX-USDT', price => 101, qty => 1)" >/dev/null
poll_until "SELECT count(*) FROM zvt.orders o JOIN pm_far f USING (order_id)
             WHERE o.type = 'trailing_stop' AND o.stop_price = 50.5" 10 30 \
	|| fail "the trailing stops did not follow the high"
[ "$(q -c "$rewritten")" = 10 ] || fail "a new high wrote $(q -c "$rewritten") far orders, not the 10 trailing stops"

# --- a busy account is skipped, not waited for -----------------------------
# pmA's resting buy comes before pmB's; a session then places an order on
# pmA and keeps its transaction (and so pmA's lock) open until told.
q -c "CREATE TABLE pm_release (done bool)" || fail "pm_release"
q -c "SELECT status FROM zvt.place_order('pmA', 'binance', 'PX-USDT', 'buy', 1, 'limit', price => 99, client_order_id => 'pm-lock-a')" >/dev/null \
	|| fail "pm-lock-a"
q -c "SELECT status FROM zvt.place_order('pmB', 'binance', 'PX-USDT', 'buy', 1, 'limit', price => 99, client_order_id => 'pm-lock-b')" >/dev/null \
	|| fail "pm-lock-b"
q >/dev/null <<'SQL' &
BEGIN;
SELECT zvt.place_order('pmA', 'binance', 'PX-USDT', 'buy', 0.1, 'limit', price => 90, client_order_id => 'pm-lock-a2');
DO $$
BEGIN
    FOR i IN 1..600 LOOP                -- 60 s at most
        EXIT WHEN EXISTS (SELECT 1 FROM pm_release);
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
COMMIT;
SQL
holder=$!
release() { q -c "INSERT INTO pm_release VALUES (true)" >/dev/null 2>&1; wait "$holder"; }
trap release EXIT
poll_until "SELECT count(*) FROM pg_locks l JOIN zvt.accounts a ON l.objid = a.account_id
             WHERE l.locktype = 'advisory' AND l.objsubid = 101 AND l.granted AND a.name = 'pmA'" 1 30 \
	|| fail "the session did not take pmA's lock"
q -c "SELECT zvt.bus_publish('binance', 'PX-USDT', price => 98.9, qty => 5)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-lock-b'" filled 30 \
	|| fail "a session holding pmA's lock delayed pmB's fill"
[ "$(status pm-lock-a)" = accepted ] || fail "pm-lock-a was matched under another session's lock"
release
trap - EXIT
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-lock-a'" filled 30 \
	|| fail "pm-lock-a not filled once pmA's session ended"
[ "$(status pm-lock-a2)" = accepted ] || fail "pm-lock-a2 (90) should rest"

# An attacker: a plain role holding every advisory lock it can name for
# pmB's account id (the old key 8025716, "zvt" in hex, with the id; the id
# alone as int8 and with 0 and 101) cannot delay pmB's fill: zvt's locks
# are in a class no SQL function reaches.
bid=$(q -c "SELECT account_id FROM zvt.accounts WHERE name = 'pmB'")
q -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS zvt_pm_attacker" -c "CREATE ROLE zvt_pm_attacker" \
  -c "DELETE FROM pm_release" -c "GRANT SELECT ON pm_release TO zvt_pm_attacker" >/dev/null || fail "attacker role"
q -c "SELECT status FROM zvt.place_order('pmB', 'binance', 'PX-USDT', 'buy', 1, 'limit', price => 97, client_order_id => 'pm-attack-b')" >/dev/null \
	|| fail "pm-attack-b"
q >/dev/null <<SQL &
SET ROLE zvt_pm_attacker;
SELECT pg_advisory_lock(8025716, $bid), pg_advisory_lock($bid::int8),
       pg_advisory_lock(0, $bid), pg_advisory_lock(101, $bid);
DO \$\$
BEGIN
    FOR i IN 1..600 LOOP                -- 60 s at most
        EXIT WHEN EXISTS (SELECT 1 FROM pm_release);
        PERFORM pg_sleep(0.1);
    END LOOP;
END \$\$;
SQL
holder=$!
trap release EXIT
poll_until "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE l.locktype = 'advisory' AND l.granted AND a.usename = 'postgres' AND l.objid = $bid
               AND l.objsubid IN (1, 2)" 4 30 || fail "the attacker did not take its locks"
q -c "SELECT zvt.bus_publish('binance', 'PX-USDT', price => 96.9, qty => 5)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'pm-attack-b'" filled 30 \
	|| fail "a role holding advisory locks delayed pmB's fill"
release
trap - EXIT
q -c "REVOKE ALL ON pm_release FROM zvt_pm_attacker" -c "DROP ROLE zvt_pm_attacker" >/dev/null || fail "drop attacker"
echo "an attacker's advisory locks on pmB's id did not delay its fill"

q -c "SELECT count(*) FROM unnest('{pmfar,pmnear,pmA,pmB}'::text[]) n, zvt.cancel_all(n)" \
  -c "DROP TABLE pm_far, pm_release" >/dev/null || fail "cleanup"
exit 0
