#!/usr/bin/env bash
# The market bus belongs to one installation of zvt in one database.
# After DROP EXTENSION and CREATE EXTENSION in the database the workers
# serve, a new instrument that gets the old one's id 1 has no price
# (zvt.last_price is NULL, zvt.tickers is empty) and a paper limit buy at
# 10 rests, with the paper matcher running, instead of filling at the old
# instrument's price of 5; another database sees none of these prices and
# its own stay its own.  With a bus of 64 slots (48 instruments), a full
# bus reclaims the entries of the dropped installation and, once it is
# dropped, of the other database.  On a cluster of its own, since it drops
# the extension under the workers.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"

dir=$ZVT_TEST_DIR/bus_install
db=zvt_bus
other=zvt_bus_other
port=$(free_port $((PGPORT + 50)))
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" "$db" "zvt.feeds = off" "zvt.bus_size = 64" >/dev/null || { tail -5 "$dir/log"; fail "cluster did not start"; }

instrument() {	# instrument DB SYMBOL: its id
	q -d "$1" -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	              VALUES ('binance', '$2', replace('$2', '-', ''), split_part('$2', '-', 1), 'USDT', 'spot')
	              RETURNING id"
}
last() { q -d "$1" -c "SELECT coalesce(zvt.last_price('binance', '$2')::text, 'NULL')"; }
fill() {	# fill DB PREFIX N: N more instruments with a price
	q -d "$1" -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
	              SELECT 'binance', '$2' || g || '-USDT', '$2' || g || 'USDT', '$2' || g, 'USDT', 'spot'
	                FROM generate_series(1, $3) g" \
	      -c "SELECT count(zvt.bus_publish('binance', symbol, price => 2)) FROM zvt.instruments
	           WHERE symbol LIKE '$2%'" >/dev/null
}
full() { grep -c "the market bus is full"; }	# how many warnings on stdin
matcher="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher'"

# the first installation: instrument 1 trades at 5
q -c "CREATE EXTENSION zvt" || fail "create extension"
[ "$(instrument $db OLD-USDT)" = 1 ] || fail "the first instrument should get id 1"
q -c "SELECT zvt.bus_publish('binance', 'OLD-USDT', price => 5, qty => 100, bid => 4.9, ask => 5.1)" >/dev/null \
	|| fail "publish"
[ "$(last $db OLD-USDT)" = 5 ] || fail "no price for the first instrument"
fill $db FILL 47 || fail "fill"
[ "$(q -c "SELECT zvt.bus_publish('binance', 'FILL1-USDT', price => 3)" 2>&1 | full)" = 0 ] \
	|| fail "a known instrument should still publish on a full bus"
[ "$(fill $db MORE 1 2>&1 | full)" = 1 ] || fail "the 49th instrument should find the bus full"

# the second installation: instrument 1 again, which never traded
q -c "DROP EXTENSION zvt" -c "CREATE EXTENSION zvt" || fail "drop and create extension"
[ "$(instrument $db NEW-USDT)" = 1 ] || fail "the new instrument should get id 1 again"
got=$(last $db NEW-USDT)
[ "$got" = NULL ] || fail "the new instrument 1 reports the old one's price: $got"
[ "$(q -c "SELECT count(*) FROM zvt.tickers")" = 0 ] || fail "zvt.tickers shows the old installation's prices"

q -c "SELECT 1 FROM zvt.create_account('bus1', initial_cash => 1000)" >/dev/null || fail "account"
got=$(q -c "SELECT status FROM zvt.place_order('bus1', 'binance', 'NEW-USDT', 'buy', 1, 'limit', price => 10,
                                                client_order_id => 'bus-a')")
[ "$got" = accepted ] || fail "a limit buy at 10 on a market that never traded should rest, not be $got"
# the matcher starts for the resting order and matches it on the next price anywhere;
# that price finds the bus full of the old installation's entries and reclaims them
poll_until "$matcher" 1 10 || fail "the paper matcher did not start"
[ "$(instrument $db ELSE-USDT)" = 2 ] || fail "second instrument"
[ "$(q -c "SELECT zvt.bus_publish('binance', 'ELSE-USDT', price => 1, qty => 1)" 2>&1 | full)" = 0 ] \
	|| fail "the old installation's entries were not reclaimed"
[ "$(q -c "SELECT coalesce(zvt.paper_match(), -1)")" = 0 ] || fail "a match pass changed an order with no price"
got=$(q -c "SELECT status FROM zvt.orders WHERE client_order_id = 'bus-a'")
[ "$got" = accepted ] || fail "the resting buy was matched against a foreign price: $got"
# its own first trade fills it, as ever
q -c "SELECT zvt.bus_publish('binance', 'NEW-USDT', price => 9.5, qty => 3)" >/dev/null || fail "publish new"
poll_until "SELECT status || ' ' || avg_fill_price FROM zvt.orders WHERE client_order_id = 'bus-a'" "filled 10" 10 \
	|| fail "the matcher did not fill the buy on its own market's trade"

# another database: its instrument 1 has no price of ours, and ours none of its
psql -X -q -d postgres -c "CREATE DATABASE $other" || fail "create database"
q -d $other -c "CREATE EXTENSION zvt" || fail "create extension in $other"
[ "$(instrument $other FAR-USDT)" = 1 ] || fail "instrument 1 in $other"
got=$(last $other FAR-USDT)
[ "$got" = NULL ] || fail "$other sees $db's price of instrument 1: $got"
q -d $other -c "SELECT zvt.bus_publish('binance', 'FAR-USDT', price => 777, qty => 1)" >/dev/null || fail "publish far"
[ "$(last $other FAR-USDT)" = 777 ] || fail "$other lost its own price"
got=$(last $db NEW-USDT)
[ "$got" = 9.5 ] || fail "$other's trade of its instrument 1 changed $db's price to $got"
[ "$(q -c "SELECT string_agg(symbol || ' ' || last, ', ' ORDER BY symbol) FROM zvt.tickers")" = \
  "ELSE-USDT 1, NEW-USDT 9.5" ] || fail "zvt.tickers of $db shows more than its own instruments"

# the other database fills the bus: nothing of it is reclaimed while it exists
fill $other FAR 45 || fail "fill $other"
[ "$(fill $db THIRD 1 2>&1 | full)" = 1 ] || fail "a live database's entries were reclaimed"
psql -X -q -d postgres -c "DROP DATABASE $other" || fail "drop database"
[ "$(q -c "SELECT zvt.bus_publish('binance', 'THIRD1-USDT', price => 4)" 2>&1 | full)" = 0 ] \
	|| fail "a dropped database's entries were not reclaimed"
[ "$(last $db THIRD1-USDT)" = 4 ] || fail "no price after reclaiming"
exit 0
