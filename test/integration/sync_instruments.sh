#!/usr/bin/env bash
# zvt.sync_instruments() against the simulator, in the test cluster: each
# exchange's list lands in zvt.instruments with its rules; a re-sync
# updates and marks vanished instruments delisted; rate limiting, an
# unreachable exchange, an unknown exchange and plain http to a
# non-loopback host (also one spelled like loopback) are errors with their
# SQLSTATEs and write nothing; a sync cancelled mid-body leaks nothing.
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
cap=$ZVT_TEST_DIR/sync_instruments
mkdir -p "$cap"
port=$(free_port_range 19500 4)
admin=$(free_port $((port + 10)))
sim=""
start_sim() {
	"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols "$1" --rate 5 --duration 120 \
		>>"$cap/exsim.out" 2>&1 &
	sim=$!
	sim_up "$sim" "$port" "$admin"
}
stop_sim() { kill $sim 2>/dev/null; wait $sim 2>/dev/null; }
# every instrument but those the trading tests' orders keep (the ledger is never deleted)
forget="DELETE FROM zvt.instruments i WHERE NOT EXISTS (SELECT 1 FROM zvt.orders o WHERE o.instrument_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM zvt.holdings h WHERE h.instrument_id = i.id)
          AND NOT EXISTS (SELECT 1 FROM zvt.risk_limits r WHERE r.instrument_id = i.id)"
trap 'stop_sim; q -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_exchanges s WHERE s.name = e.name" -c "DROP TABLE IF EXISTS zvt_saved_exchanges" -c "$forget" >/dev/null 2>&1' EXIT

q -c "CREATE TABLE zvt_saved_exchanges AS SELECT * FROM zvt.exchanges" \
  -c "$forget" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" >/dev/null || fail "setup"

start_sim BTC-USDT,ETH-USDT,SOL-USDT,BTC-USDT-PERP
got=$(q -c "SELECT string_agg(x::text, ',') FROM (SELECT zvt.sync_instruments(e) x FROM unnest(ARRAY['binance','bybit','okx','coinbase']) e) s")
# spot everywhere, the perpetual on Bybit and OKX only
[ "$got" = "3,4,4,3" ] || fail "instrument counts $got"
got=$(q -c "SELECT string_agg(format('%s %s %s %s %s %s %s', exchange, symbol, raw_symbol, kind, tick_size, lot_size, coalesce(contract_size::text, '-')), '; ' ORDER BY exchange, symbol)
              FROM zvt.instruments WHERE symbol LIKE 'BTC-%'")
want="binance BTC-USDT BTCUSDT spot 0.01000000 0.00001000 -; bybit BTC-USDT BTCUSDT spot 0.01 0.00001 -; bybit BTC-USDT-PERP BTCUSDT perp 0.01 0.00001 1; coinbase BTC-USDT BTC-USDT spot 0.01 0.00001 -; okx BTC-USDT BTC-USDT spot 0.01 0.00001 -; okx BTC-USDT-PERP BTC-USDT-SWAP perp 0.01 0.00001 0.01"
[ "$got" = "$want" ] || fail "instrument rules:
got  $got
want $want"
echo "synced 3+4+4+3 instruments with their tick, lot and contract sizes"

# Bybit's linear list comes in pages (1,000 a page there): served one
# perpetual a page, the sync follows nextPageCursor to the last one
stop_sim
start_sim BTC-USDT,BTC-USDT-PERP,ETH-USDT-PERP,SOL-USDT-PERP
curl -s "http://127.0.0.1:$admin/fault?exchange=bybit&page_size=1" >/dev/null || fail "page_size fault"
[ "$(q -c "SELECT zvt.sync_instruments('bybit')")" = 4 ] || fail "a paged sync missed instruments"
got=$(q -c "SELECT string_agg(symbol, ',' ORDER BY symbol) FROM zvt.instruments WHERE exchange = 'bybit' AND kind = 'perp' AND status = 'trading'")
[ "$got" = "BTC-USDT-PERP,ETH-USDT-PERP,SOL-USDT-PERP" ] || fail "perpetuals after a paged sync: $got"
echo "a paged Bybit list was followed to its last page"

# once instruments are known, subscribe checks the symbol
out=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT zvt.subscribe('okx', 'DOGE-USDT', 'trades')" 2>&1)
[ "$out" = "ERROR:  42704" ] || fail "subscribe to an unlisted symbol: $out"

# a re-sync after SOL-USDT disappeared: it stays, delisted
stop_sim
start_sim BTC-USDT,ETH-USDT,BTC-USDT-PERP
[ "$(q -c "SELECT zvt.sync_instruments('binance')")" = 2 ] || fail "re-sync count"
[ "$(q -c "SELECT status FROM zvt.instruments WHERE exchange = 'binance' AND symbol = 'SOL-USDT'")" = delisted ] ||
	fail "SOL-USDT not delisted"
[ "$(q -c "SELECT count(*) FROM zvt.instruments WHERE exchange = 'binance' AND status = 'trading'")" = 2 ] || fail "trading count"

# a cancelled sync leaks nothing: 4 MB of body arrive, the last byte never
# does, statement_timeout cancels; ten times in one backend, whose memory
# must not grow by what it received (it grew by the ten bodies before)
curl -s "http://127.0.0.1:$admin/fault?exchange=binance&rest_partial=11" >/dev/null
out=$(psql -X -qAt -v ON_ERROR_STOP=0 2>&1 <<'SQL'
SET statement_timeout = '1s';
SELECT zvt.sync_instruments('binance');
SELECT 'before ' || substring(pg_read_file('/proc/self/status') from 'RssAnon:\s+(\d+)');
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT zvt.sync_instruments('binance') FROM generate_series(1, 1);
SELECT 'after ' || substring(pg_read_file('/proc/self/status') from 'RssAnon:\s+(\d+)');
SQL
)
[ "$(echo "$out" | grep -c 'canceling statement due to statement timeout')" = 11 ] || fail "partial bodies not cancelled: $out"
rss_before=$(echo "$out" | sed -n 's/^before //p')
rss_after=$(echo "$out" | sed -n 's/^after //p')
[ -n "$rss_before" ] && [ -n "$rss_after" ] || fail "no RssAnon: $out"
if pg_has_asan; then
	# ASan keeps freed memory in its quarantine (256 MB) and adds redzones:
	# RSS says nothing there (docs/testing.md)
	echo "ok ten syncs cancelled (RSS bound not checked under ASan: grew $((rss_after - rss_before)) kB)"
else
	[ $((rss_after - rss_before)) -lt 20480 ] || fail "ten cancelled syncs grew the backend by $((rss_after - rss_before)) kB"
	echo "ok ten syncs cancelled after 4 MB each grew the backend by $((rss_after - rss_before)) kB"
fi

# errors write nothing
before=$(q -c "SELECT count(*) || '/' || max(updated_at) FROM zvt.instruments")
curl -s "http://127.0.0.1:$admin/fault?exchange=okx&rest_429=1" >/dev/null
out=$(psql -X -qAt -c "\\set VERBOSITY default" -c "SELECT zvt.sync_instruments('okx')" 2>&1)
echo "$out" | grep -q 'ERROR:  exchange "okx" answered HTTP 429 to an instruments request' || fail "429: $out"
echo "$out" | grep -q 'HINT:  The exchange is rate limiting' || fail "429 hint: $out"
state=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT zvt.sync_instruments('kraken')" 2>&1)
[ "$state" = "ERROR:  42704" ] || fail "unknown exchange: $state"
stop_sim
state=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT zvt.sync_instruments('bybit')" 2>&1)
[ "$state" = "ERROR:  08006" ] || fail "unreachable exchange: $state"
q -c "UPDATE zvt.exchanges SET rest_url = 'http://example.com:80' WHERE name = 'coinbase'" >/dev/null
state=$(psql -X -qAt -c "\\set VERBOSITY sqlstate" -c "SELECT zvt.sync_instruments('coinbase')" 2>&1)
[ "$state" = "ERROR:  22023" ] || fail "plain http to a remote host: $state"
# as an attacker: URLs that merely look like loopback (a prefix, userinfo)
# are refused before any request; the old prefix check let the first through
for url in 'http://127.attacker.example:80' 'http://127.0.0.1@attacker.example' 'http://localhost.attacker.example:19500'; do
	q -c "UPDATE zvt.exchanges SET rest_url = '$url' WHERE name = 'coinbase'" >/dev/null
	out=$(psql -X -qAt -c "\\set VERBOSITY verbose" -c "SELECT zvt.sync_instruments('coinbase')" 2>&1)
	echo "$out" | grep -q "ERROR:  22023: rest_url \"$url\" uses plain text to a host that is not loopback" ||
		fail "plain http to $url: $out"
done
[ "$(q -c "SELECT count(*) || '/' || max(updated_at) FROM zvt.instruments")" = "$before" ] || fail "a failed sync wrote rows"
echo "429, unreachable, unknown exchange and plain-text remote URLs (also disguised as loopback) fail cleanly"
