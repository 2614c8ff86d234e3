#!/usr/bin/env bash
# Closing the trade-built 1-minute candles never waits for a row (issue
# 16).  Each flush ends by closing every exchange's open trade candles of
# past minutes, in the transaction that holds the rows it just wrote.
# After an I/O stall, three feeds flushing 200,000-event late batches each
# upserted open candles of past minutes and then waited in that UPDATE for
# the others' rows: the deadlock detector rolled the flushes back one
# after another (bench/soak, 2026-12-04 20:34).  Here a session plays the
# other feed: it holds the row of one open candle of another instrument
# (FOR UPDATE) while the Binance feed's close comes round; a second open
# candle of the same minute is free.  The close must close the free one
# and leave the held one, without waiting; once the session commits, the
# next close takes it.  Should the feed wait for the session's row (the
# bug), the session asks for zvt.candles, which the flush holds: the
# deadlock of the soak, whose victim is the flush (the shorter
# deadlock_timeout), and the test fails.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_candle_close
mkdir -p "$cap"
port=$(free_port_range 19920 4)
sim=""

cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex5 s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex5" -c "ALTER SYSTEM RESET zvt.feeds" \
	  -c "ALTER SYSTEM RESET deadlock_timeout" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT

q -c "CREATE TABLE zvt_saved_ex5 AS SELECT * FROM zvt.exchanges" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot'),
             ('binance', 'ETH-USDT', 'ETHUSDT', 'ETH', 'USDT', 'spot'),
             ('binance', 'SOL-USDT', 'SOLUSDT', 'SOL', 'USDT', 'spot') ON CONFLICT DO NOTHING" \
  -c "SELECT zvt.unsubscribe(exchange, symbol, channel) FROM zvt.subscriptions" \
  -c "TRUNCATE zvt.trades, zvt.candles" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "ALTER SYSTEM SET deadlock_timeout = '200ms'" \
  -c "SELECT pg_reload_conf()" >/dev/null || fail "setup"
poll_until "SELECT count(*) FROM zvt.feed_status WHERE exchange = 'binance' AND pid <> 0" 0 20 ||
	fail "the binance feed did not stop"

"$top/zvt-exsim" --port "$port" --exchanges binance --symbols BTC-USDT --rate 200 \
	--duration 300 >"$cap/exsim.out" 2>&1 &
sim=$!
sim_wait "$sim" "$port" || fail "the simulator did not start"
q -c "SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')" >/dev/null || fail "subscribe"
poll_until "SELECT count(*) > 0 FROM zvt.trades" t 20 || fail "no trades"
pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
loglines=$(wc -l <"$ZVT_TEST_DIR/log")

# two open trade candles of this minute, of instruments nobody streams:
# the feed may close them only once that minute is over, 10 to 70 s on
q -c "INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                               quote_volume, trade_count, closed, source)
      SELECT zvt.time_bucket('1 minute', now() + interval '10 seconds'), id, '1 minute', 1, 1, 1, 1, 1, 1, 1, false, 'trades'
        FROM zvt.instruments WHERE exchange = 'binance' AND symbol IN ('ETH-USDT', 'SOL-USDT')" \
	>/dev/null || fail "insert the open candles"
held="instrument_id = (SELECT id FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'ETH-USDT')"
free="instrument_id = (SELECT id FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'SOL-USDT')"

q >"$cap/session.out" 2>&1 <<SQL
BEGIN;
SET LOCAL deadlock_timeout = '10min';
SELECT 1 FROM zvt.candles WHERE $held AND source = 'trades' FOR UPDATE;
DO \$\$
BEGIN
    FOR i IN 1 .. 9000 LOOP
        IF pg_backend_pid() = ANY (pg_blocking_pids($pid)) THEN
            -- the close waits for this row: close the cycle as the other feed did
            LOCK TABLE zvt.candles IN SHARE MODE;
            RAISE NOTICE 'outcome: the close waited';
            RETURN;
        END IF;
        IF (SELECT closed FROM zvt.candles WHERE $free AND source = 'trades') THEN
            RAISE NOTICE 'outcome: the close skipped';
            RETURN;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
    RAISE EXCEPTION 'the feed never closed the free candle';
END
\$\$;
SELECT closed FROM zvt.candles WHERE $held AND source = 'trades';
COMMIT;
SQL
rc=$?
cat "$cap/session.out"
[ $rc = 0 ] || fail "the session failed"
if ! grep -q "outcome: the close skipped" "$cap/session.out"; then
	# the flush was the deadlock's victim: show its LOG line and detail
	for _ in $(seq 50); do
		tail -n +"$((loglines + 1))" "$ZVT_TEST_DIR/log" | grep -q "could not write" && break
		sleep 0.2
	done
	tail -n +"$((loglines + 1))" "$ZVT_TEST_DIR/log" | grep -A6 "could not write" >&2
	fail "the flush's candle close waited for another transaction's candle row (the cycle of issue 16)"
fi
grep -qx "f" "$cap/session.out" || fail "the held candle was closed under the session's lock"
poll_until "SELECT closed FROM zvt.candles WHERE $held AND source = 'trades'" t 30 ||
	fail "the held candle was not closed once the session committed"

now_pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_pid" = "$pid" ] || fail "the feed worker was replaced ($pid -> $now_pid)"
now_retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_retries" = "$retries" ] || fail "flushes were retried ($retries -> $now_retries)"
tail -n +"$((loglines + 1))" "$ZVT_TEST_DIR/log" | grep -E "could not write|deadlock detected" &&
	fail "a flush failed"
read -r stored distinct < <(q -F ' ' -c "SELECT count(*), count(DISTINCT trade_id) FROM zvt.trades")
[ "$stored" = "$distinct" ] || fail "$stored trades stored, $distinct distinct"
echo "feed_candle_close: the close skipped the held candle and closed it after the commit; no retry, $stored trades stored once"
