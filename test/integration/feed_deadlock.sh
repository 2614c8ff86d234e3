#!/usr/bin/env bash
# A feed flush chosen as a deadlock victim loses nothing: a session holds
# zvt.candles (as a maintenance pass creating or dropping its chunks
# does), waits until the Binance feed's flush has written its trades and
# waits for zvt.candles in turn, then asks for zvt.trades: the deadlock
# detector cancels the flush (its deadlock_timeout is the shorter).  The
# worker rolls back, keeps its batch and writes it at the next tick: the
# same worker runs on, zvt.feed_status.flush_retries counts the retry, and
# every trade the simulator recorded from the first one stored on is in
# zvt.trades exactly once.  Before, the error ended the worker and the
# batch (and what arrived until the restart) was lost.
set -u
. "$(dirname "$0")/common.bash"

# the feed finds the deadlock (2 s), not the test's session (10 min)
binance_sim_setup feed_deadlock 19900 BTC-USDT "deadlock_timeout = '2s'"
q -c "TRUNCATE zvt.trades, zvt.candles" >/dev/null || fail "truncate"
binance_sim_start --symbols BTC-USDT --rate 200 --count 3000 --duration 90 --record "$cap/record.jsonl"
binance_sim_subscribe BTC-USDT
retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")

# the cycle: this session holds candles, the flush holds trades and waits
# for candles, this session waits for trades.  Should this session be the
# one cancelled after all (it joined the cycle after the feed's 2 s), try
# again: the feed must have been the victim when this session commits.
victim=no
for attempt in 1 2 3 4 5; do
	if q >"$cap/lock.$attempt.out" 2>&1 <<SQL
BEGIN;
SET LOCAL deadlock_timeout = '10min';
LOCK TABLE zvt.candles IN SHARE ROW EXCLUSIVE MODE;
DO \$\$
BEGIN
    FOR i IN 1 .. 3000 LOOP
        IF EXISTS (SELECT FROM pg_locks w WHERE w.pid = $pid AND NOT w.granted
                      AND w.relation = 'zvt.candles'::regclass)
           AND EXISTS (SELECT FROM pg_locks g WHERE g.pid = $pid AND g.granted
                          AND g.relation = 'zvt.trades'::regclass AND g.mode = 'RowExclusiveLock') THEN
            RETURN;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RAISE EXCEPTION 'the feed''s flush never waited for zvt.candles holding zvt.trades';
END
\$\$;
LOCK TABLE zvt.trades IN SHARE MODE;
COMMIT;
SQL
	then
		victim=yes
		break
	fi
	grep -q "deadlock detected" "$cap/lock.$attempt.out" || { cat "$cap/lock.$attempt.out"; fail "the locking session failed"; }
done
[ "$victim" = yes ] || fail "the feed's flush was never the deadlock victim"
grep -q "deadlock detected" "$ZVT_TEST_DIR/log" || fail "no deadlock in the server log"
# the feed's LOG line carries the deadlock's detail: who waited for what
grep -A8 "zvt feed binance: could not write .*deadlock detected" "$ZVT_TEST_DIR/log" >"$cap/retry.log"
grep -q "DETAIL:  Process [0-9]* waits for .* blocked by process [0-9]*" "$cap/retry.log" ||
	{ cat "$cap/retry.log"; fail "the feed's retry line lacks the deadlock's detail"; }
grep -q "CONTEXT:" "$cap/retry.log" || { cat "$cap/retry.log"; fail "the feed's retry line lacks the error's context"; }

# the simulator leaves once every trade is sent; the last batches land
for _ in $(seq 900); do kill -0 "$sim" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sim" 2>/dev/null && fail "the simulator did not finish"
sim=""
stored=-1
for _ in $(seq 50); do
	n=$(q -c "SELECT count(*) FROM zvt.trades")
	[ "$n" = "$stored" ] && break
	stored=$n
	sleep 0.3
done

now_pid=$(q -c "SELECT pid FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_pid" = "$pid" ] || fail "the feed worker was replaced ($pid -> $now_pid): the deadlock ended it"
now_retries=$(q -c "SELECT flush_retries FROM zvt.feed_status WHERE exchange = 'binance'")
[ "$now_retries" -gt "$retries" ] || fail "feed_status.flush_retries did not count the retry ($retries -> $now_retries)"
read -r stored distinct < <(q -F ' ' -c "SELECT count(*), count(DISTINCT trade_id) FROM zvt.trades")
[ "$stored" = "$distinct" ] || fail "$stored trades stored, $distinct distinct"
q -c "COPY (SELECT trade_id FROM zvt.trades) TO STDOUT" >"$cap/db.txt"
python3 - "$cap" <<'PY' || fail "stored trades differ from the record"
import json, sys
cap = sys.argv[1]
db = {int(l) for l in open(f"{cap}/db.txt")}
rec = {int(json.loads(l)["id"]) for l in open(f"{cap}/record.jsonl") if json.loads(l)["channel"] == "trades"}
first = min(db)
rec = {i for i in rec if i >= first}
assert rec == db, f"{len(rec - db)} recorded trades missing, {len(db - rec)} stored but not recorded"
print(f"{len(db)} trades match the record")
PY
candle_trades=$(q -c "SELECT sum(trade_count) FROM zvt.candles WHERE source = 'trades'")
[ "$candle_trades" = "$stored" ] || fail "the trade-built candles count $candle_trades trades, not $stored"
echo "feed_deadlock: the flush was the deadlock victim ($((now_retries - retries)) retries), worker $pid kept its batch, $stored trades stored once"
