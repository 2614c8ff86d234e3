#!/usr/bin/env bash
# A feed worker maps every instrument of its exchange: with 5,000 binance
# instruments in zvt.instruments and a subscription to the one with the
# highest id, its trades stream into zvt.trades (the worker used to map
# the first 512 and drop the rest without a word).  An event the worker
# cannot map (the simulator's ABCUSD-T comes back from Binance as ABCUSDT,
# which zvt reads as ABC-USDT) is counted in zvt.feed_status.unmapped and
# logged.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/feed_instruments
mkdir -p "$cap"
port=$(free_port_range 19700 4)
admin=$(free_port $((port + 10)))
log=$ZVT_TEST_DIR/log

"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols ABCUSD-T=50,ZLAST-USDT=100 \
	--rate 20 --duration 120 >"$cap/exsim.out" 2>&1 &
sim=$!
mine="exchange = 'binance' AND (symbol LIKE 'FILL%' OR symbol IN ('ZLAST-USDT', 'ABCUSD-T', 'ABC-USDT'))"
cleanup() {
	kill $sim 2>/dev/null
	q -c "DELETE FROM zvt.subscriptions" \
	  -c "DELETE FROM zvt.trades WHERE instrument_id IN (SELECT id FROM zvt.instruments WHERE $mine)" \
	  -c "DELETE FROM zvt.candles WHERE instrument_id IN (SELECT id FROM zvt.instruments WHERE $mine)" \
	  -c "DELETE FROM zvt.instruments WHERE $mine" \
	  -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_inst s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_inst" -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
}
trap cleanup EXIT
sim_up "$sim" "$port" "$admin"

q -c "CREATE TABLE zvt_saved_inst AS SELECT * FROM zvt.exchanges" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:$port', rest_url = 'http://127.0.0.1:$port' WHERE name = 'binance'" \
  -c "DELETE FROM zvt.instruments WHERE $mine" >/dev/null || fail "setup"
# 4,998 others first, then the simulator's two; ZLAST-USDT gets the highest id
# of all (the regress tests leave instruments with ids set by hand)
q -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      SELECT 'binance', 'FILL' || g || '-USDT', 'FILL' || g || 'USDT', 'FILL' || g, 'USDT', 'spot'
        FROM generate_series(1, 4998) g" \
  -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
      VALUES ('binance', 'ABCUSD-T', 'ABCUSDT', 'ABCUSD', 'T', 'spot')" \
  -c "INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind) OVERRIDING SYSTEM VALUE
      SELECT max(id) + 1, 'binance', 'ZLAST-USDT', 'ZLASTUSDT', 'ZLAST', 'USDT', 'spot' FROM zvt.instruments" \
	>/dev/null || fail "instruments"
got=$(q -c "SELECT count(*) >= 5000 AND max(id) = (SELECT id FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'ZLAST-USDT')
              FROM zvt.instruments WHERE exchange = 'binance'")
[ "$got" = t ] || fail "ZLAST-USDT is not the last of 5,000 instruments: $(q -c "SELECT count(*), max(id) FROM zvt.instruments WHERE exchange = 'binance'") $(q -c "SELECT id, symbol FROM zvt.instruments WHERE exchange = 'binance' ORDER BY id DESC LIMIT 3")"

q -c "SELECT zvt.subscribe('binance', 'ZLAST-USDT', 'trades')" \
  -c "SELECT zvt.subscribe('binance', 'ABCUSD-T', 'trades')" \
  -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" >/dev/null || fail "subscribe"

poll_until "SELECT count(*) >= 5 FROM zvt.trades_v WHERE exchange = 'binance' AND symbol = 'ZLAST-USDT'" t 40 || {
	q -c "SELECT * FROM zvt.feed_status"; grep "zvt feed binance" "$log" | tail -5; fail "no trades of the last of 5,000 instruments"; }
echo "ok trades of the instrument with the highest of $(q -c "SELECT count(*) FROM zvt.instruments WHERE exchange = 'binance'") ids stream"

# what the worker cannot map is counted and logged, and never stored under another id
poll_until "SELECT unmapped > 0 FROM zvt.feed_status WHERE exchange = 'binance'" t 30 || fail "unmapped events not counted"
for _ in $(seq 50); do
	grep -q 'zvt feed binance: skipped [0-9]* events of symbols not in zvt.instruments, such as "ABC-USDT"' "$log" && break
	sleep 0.2
done
grep -q 'zvt feed binance: skipped [0-9]* events of symbols not in zvt.instruments, such as "ABC-USDT"' "$log" ||
	fail "unmapped events not logged"
# (the gap repair asks REST by the instrument's raw symbol, which maps
# exactly: what it stores under ABCUSD-T is the backfill's, counted in its jobs)
[ "$(q -c "SELECT count(*) - (SELECT coalesce(sum(rows_written), 0) FROM zvt.backfill_jobs WHERE symbol = 'ABCUSD-T')
             FROM zvt.trades_v WHERE exchange = 'binance' AND symbol IN ('ABCUSD-T', 'ABC-USDT')")" = 0 ] ||
	fail "trades of an unmapped symbol were stored"
echo "ok $(q -c "SELECT unmapped FROM zvt.feed_status WHERE exchange = 'binance'") events of an unmappable symbol counted in feed_status.unmapped and logged"
