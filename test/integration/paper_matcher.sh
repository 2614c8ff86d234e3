#!/usr/bin/env bash
# The paper matcher worker: it starts when a paper order comes to rest,
# fills it when a price on the bus reaches it (nobody calls
# zvt.paper_match() here), reports the delay from price to fill, stops
# once nothing rests and comes back for the next resting order.
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
exit 0
