#!/usr/bin/env bash
# test/integration/dashboard.sh: the dashboard (/ui/, docs/dashboard.md)
# in Debian's headless Chromium against a live system like the demo's:
# this cluster with the simulator streaming Binance BTC-USDT (trades,
# quotes, 1m candles, book) and two days of backfilled 1m candles, the
# HTTP front, a trader role with a paper account and risk limits.
# test/browser/dashboard.mjs (puppeteer-core from ui/node_modules,
# installed here with `npm ci` when missing) drives the pages; it saves
# screenshots under $ZVT_TEST_DIR/dashboard and prints the first paint
# and the frame rate.  First, ui/dist must equal a fresh build of ui/src.
set -u
. "$(dirname "$0")/http_lib.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
out=$ZVT_TEST_DIR/dashboard
mkdir -p "$out"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (apt-get install nodejs npm)"
[ -x /usr/bin/chromium ] || fail "Debian's chromium is needed (apt-get install chromium)"

# --- the committed bundle is what the sources build -------------------------------------
if [ ! -d "$top/ui/node_modules" ] || ! cmp -s "$top/ui/package-lock.json" "$top/ui/node_modules/.package-lock.json.ci" 2>/dev/null; then
	(cd "$top/ui" && npm ci --no-audit --no-fund --loglevel=error >"$out/npm.log" 2>&1) ||
		{ cat "$out/npm.log" >&2; fail "npm ci in ui/"; }
	cp "$top/ui/package-lock.json" "$top/ui/node_modules/.package-lock.json.ci"
fi
(cd "$top/ui" && node build.mjs "$out/dist") || fail "building ui/"
diff -r "$top/ui/dist" "$out/dist" >/dev/null || fail "ui/dist differs from a build of ui/src: run make ui and commit ui/dist"
echo "ok ui/dist equals a fresh build of ui/src"

# --- a live system ------------------------------------------------------------------------
port=$(free_port_range 19860 4)
"$top/zvt-exsim" --port "$port" --admin-port -1 --symbols BTC-USDT,ETH-USDT --rate 5 \
	--history 3d --history-rate 0.05 --duration 900 >"$out/exsim.log" 2>&1 &
sim=$!
cleanup() {
	local rc=$?
	kill $sim 2>/dev/null
	http_stop
	q -c "UPDATE zvt.exchanges e SET ws_url = s.ws_url, rest_url = s.rest_url FROM zvt_saved_ex_ui s WHERE s.name = e.name" \
	  -c "DROP TABLE IF EXISTS zvt_saved_ex_ui" -c "DELETE FROM zvt.subscriptions" \
	  -c "ALTER SYSTEM RESET zvt.feeds" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
	[ "$rc" = 0 ] || tail -20 "$out/exsim.log" >&2
}
trap cleanup EXIT
for _ in $(seq 300); do grep -q '^coinbase' "$out/exsim.log" 2>/dev/null && break; sleep 0.2; done

q -c "ALTER SYSTEM SET zvt.feeds = on" -c "SELECT pg_reload_conf()" \
  -c "DROP TABLE IF EXISTS zvt_saved_ex_ui" -c "CREATE TABLE zvt_saved_ex_ui AS SELECT * FROM zvt.exchanges" \
  -c "TRUNCATE zvt.trades, zvt.candles, zvt.quotes, zvt.feed_gaps, zvt._backfill_jobs" \
  -c "DELETE FROM zvt.subscriptions" \
  -c "UPDATE zvt.exchanges SET ws_url = 'ws://127.0.0.1:' || ($port + o), rest_url = 'http://127.0.0.1:' || ($port + o)
        FROM (VALUES ('binance', 0), ('bybit', 1), ('okx', 2), ('coinbase', 3)) AS p (name, o)
       WHERE exchanges.name = p.name" \
  -c "SELECT zvt.sync_instruments('binance')" \
  -c "SELECT zvt.subscribe('binance', s, c) FROM unnest(ARRAY['BTC-USDT', 'ETH-USDT']) s,
             unnest(ARRAY['trades', 'quotes', 'candles_1m', 'book']) c" \
  -c "SELECT zvt.backfill('binance', 'BTC-USDT', 'candles', now() - interval '2 days', now())" >/dev/null || fail "setup"
poll_until "SELECT count(*) FROM zvt.backfill_jobs WHERE state IN ('done')" 1 180 ||
	{ q -c "SELECT * FROM zvt.backfill_jobs"; fail "backfill did not finish"; }
poll_until "SELECT count(*) > 0 FROM zvt.tickers WHERE exchange = 'binance' AND last IS NOT NULL" t 30 || fail "no live trades"

# a trader with a paper account and risk limits, whom the HTTP workers may become
q -c "SET client_min_messages = warning" \
  -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zvt_ui_trader') THEN CREATE ROLE zvt_ui_trader NOLOGIN; END IF; END \$\$" \
  -c "GRANT zvt_trader TO zvt_ui_trader" -c "GRANT zvt_ui_trader TO zvt_authenticator" \
  -c "SET ROLE zvt_ui_trader" \
  -c "SELECT zvt.create_account('ui', initial_cash => 100000) WHERE NOT EXISTS (SELECT 1 FROM zvt.accounts WHERE name = 'ui')" \
  -c "SELECT zvt.set_risk_limits('ui', max_order_notional => 50000, max_position_qty => 1)" >/dev/null || fail "the trader"
http_start
tok=$(token '{"role": "zvt_ui_trader"}')

# --- the browser --------------------------------------------------------------------------
# until the HTTP front serves /stream (src/http/stream.c), the live
# check is skipped and says so; with it, it is required
stream=0
[ -f "$top/src/http/stream.c" ] && stream=1
[ "$stream" = 1 ] || echo "# /stream is not in this build: the live check is skipped"
STREAM=$stream BASE=$BASE TOKEN=$tok ACCOUNT=ui OUT=$out timeout 600 node "$top/test/browser/dashboard.mjs" | tee "$out/browser.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "the browser test (screenshots in $out)"
echo "ok the browser test; screenshots in $out"
