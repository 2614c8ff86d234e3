#!/usr/bin/env bash
# Closing the trade-built 1-minute candles never waits for a row (issue
# 16).  Each flush ends by closing every exchange's open trade candles of
# past minutes, in the transaction that holds the rows it just wrote.
# After an I/O stall, three feeds flushing 200,000-event late batches each
# upserted open candles of past minutes and then waited in that UPDATE for
# the others' rows: the deadlock detector rolled the flushes back one
# after another (bench/soak, 2026-12-04 20:34).  Here a session plays the
# other feed: it holds the row of one open candle of a past minute of
# another instrument (FOR UPDATE) when the Binance feed's close comes
# round; a second open candle of that minute is free.  (Meanwhile the
# feed's flush waits for zvt.trades behind a third session, so that the
# candles are in and the row locked before any close; the session then
# ends that wait.)  The close must close the free one and leave the held
# one, without waiting; once the session commits, the next close takes
# it.  Should the feed wait for the session's row (the bug), the session
# asks for zvt.candles, which the flush holds: the deadlock of the soak,
# whose victim is the flush (the shorter deadlock_timeout), and the test
# fails.
set -u
. "$(dirname "$0")/common.bash"

blocker=zvt_candle_close_blocker
cleanup() {
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$blocker'" >/dev/null 2>&1
	binance_sim_cleanup
}
binance_sim_setup feed_candle_close 19920 BTC-USDT,ETH-USDT,SOL-USDT "deadlock_timeout = '200ms'"
trap cleanup EXIT
q -c "TRUNCATE zvt.trades, zvt.candles" >/dev/null || fail "truncate"
binance_sim_start --symbols BTC-USDT --rate 200 --duration 300
binance_sim_subscribe BTC-USDT
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
loglines=$(wc -l <"$ZVT_TEST_DIR/log")

# hold the feed's next flush up: a session holds zvt.trades until the one
# below ends it (pg_sleep bounds it), and the flush waits to write trades
PGAPPNAME=$blocker q -c "BEGIN" -c "LOCK TABLE zvt.trades IN SHARE MODE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
poll_until "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$blocker'
              AND pid = ANY (pg_blocking_pids($pid))" 1 30 ||
	fail "the feed's flush did not wait for zvt.trades"
# two open trade candles of a past minute, of instruments nobody streams:
# the feed's next close takes them
q -c "INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                               quote_volume, trade_count, closed, source)
      SELECT zvt.time_bucket('1 minute', now() - interval '3 minutes'), id, '1 minute', 1, 1, 1, 1, 1, 1, 1, false, 'trades'
        FROM zvt.instruments WHERE exchange = 'binance' AND symbol IN ('ETH-USDT', 'SOL-USDT')" \
	>/dev/null || fail "insert the open candles"
held="instrument_id = (SELECT id FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'ETH-USDT')"
free="instrument_id = (SELECT id FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'SOL-USDT')"

q >"$cap/session.out" 2>&1 <<SQL
BEGIN;
SET LOCAL deadlock_timeout = '10min';
SELECT 1 FROM zvt.candles WHERE $held AND source = 'trades' FOR UPDATE;
-- the flush goes on: its close comes round with this row held
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$blocker';
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
