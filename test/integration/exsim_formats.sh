#!/usr/bin/env bash
# The simulator speaks each exchange's real formats: subscribe to every
# stream of the four exchanges with zvt-exsim-client, fetch the REST
# endpoints, and compare everything with the fixture samples field by
# field (check_formats.py); then check the market's own rules and the
# exchanges' sequencing rules (check_market.py).
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=${ZVT_FIXTURES:-$top/test/fixtures/exchanges}
[ -d "$fixtures" ] || fail "no fixtures at $fixtures"
cap=$ZVT_TEST_DIR/exsim_formats
mkdir -p "$cap"
port=$(free_port_range 19300 4)
admin=$(free_port $((port + 10)))

"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,ETH-USDT,BTC-USDT-PERP \
	--rate 40 --speed 120 --duration 30 --record "$cap/record.jsonl" >"$cap/exsim.out" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null' EXIT
sim_up "$sim" "$port" "$admin"
client() { "$top/zvt-exsim-client" "$@" --duration 4 --print 2>>"$cap/clients.err"; }

client "ws://127.0.0.1:$port/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@kline_1m/btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@depth5@100ms" \
	--send '{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1}' \
	--send '{"method":"LIST_SUBSCRIPTIONS","id":2}' \
	--send '{"method":"SUBSCRIBE","params":["BTC/USDT"],"id":3}' >"$cap/binance.ws" &
client "ws://127.0.0.1:$((port + 1))/v5/public/spot" \
	--send '{"op":"subscribe","req_id":"a","args":["publicTrade.BTCUSDT","kline.1.BTCUSDT","tickers.BTCUSDT","orderbook.50.BTCUSDT","orderbook.1.BTCUSDT"]}' \
	--send '{"op":"ping"}' \
	--send '{"op":"subscribe","req_id":"b","args":["publicTrade.NOPEUSDT"]}' >"$cap/bybit.spot.ws" &
client "ws://127.0.0.1:$((port + 1))/v5/public/linear" \
	--send '{"op":"subscribe","args":["publicTrade.BTCUSDT","tickers.BTCUSDT","kline.1.BTCUSDT"]}' \
	--send '{"req_id":"p","op":"ping"}' >"$cap/bybit.linear.ws" &
client "ws://127.0.0.1:$((port + 2))/ws/v5/public" \
	--send '{"id":"1","op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"},{"channel":"tickers","instId":"BTC-USDT"},{"channel":"books","instId":"BTC-USDT"},{"channel":"books5","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"candle1m","instId":"BTC-USDT"}]}' \
	>"$cap/okx.public.ws" &
client "ws://127.0.0.1:$((port + 2))/ws/v5/business" \
	--send '{"id":"2","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"},{"channel":"candle1m","instId":"BTC-USDT-SWAP"}]}' \
	>"$cap/okx.business.ws" &
client "ws://127.0.0.1:$((port + 3))/" \
	--send '{"type":"subscribe","product_ids":["BTC-USDT"],"channel":"market_trades"}' \
	--send '{"type":"subscribe","product_ids":["BTC-USDT"],"channel":"ticker"}' \
	--send '{"type":"subscribe","product_ids":["BTC-USDT"],"channel":"candles"}' \
	--send '{"type":"subscribe","product_ids":["BTC-USDT"],"channel":"level2"}' \
	--send '{"type":"subscribe","channel":"heartbeats"}' \
	--send '{"type":"subscribe","channel":"status"}' \
	--send '{"type":"subscribe","product_ids":["BTC-USDT"],"channel":"full"}' >"$cap/coinbase.ws" &
wait $(jobs -p | grep -v "^$sim$") 2>/dev/null
cat "$cap/bybit.spot.ws" "$cap/bybit.linear.ws" >"$cap/bybit.ws"
cat "$cap/okx.public.ws" "$cap/okx.business.ws" >"$cap/okx.ws"

get() { curl -sS --max-time 5 "$2" >"$cap/$1.rest" || fail "GET $2"; }
get binance.depth "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT&limit=10"
get binance.klines "http://127.0.0.1:$port/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5"
get binance.exchangeinfo "http://127.0.0.1:$port/api/v3/exchangeInfo"
get bybit.kline "http://127.0.0.1:$((port + 1))/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1&limit=5"
get bybit.instruments_spot "http://127.0.0.1:$((port + 1))/v5/market/instruments-info?category=spot"
get bybit.instruments_linear "http://127.0.0.1:$((port + 1))/v5/market/instruments-info?category=linear"
get okx.candles "http://127.0.0.1:$((port + 2))/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=5"
get okx.instruments "http://127.0.0.1:$((port + 2))/api/v5/public/instruments?instType=SPOT"
# trades by id and by time, for gap repair
get binance.historical "http://127.0.0.1:$port/api/v3/historicalTrades?symbol=BTCUSDT&fromId=0&limit=5"
get binance.aggtrades "http://127.0.0.1:$port/api/v3/aggTrades?symbol=BTCUSDT&startTime=0&limit=5"
get okx.history "http://127.0.0.1:$((port + 2))/api/v5/market/history-trades?instId=BTC-USDT&limit=5"
python3 - "$cap" <<'PY' || fail "trade history endpoints"
import json, sys
cap = sys.argv[1]
h = json.load(open(f"{cap}/binance.historical.rest"))
a = json.load(open(f"{cap}/binance.aggtrades.rest"))
o = json.load(open(f"{cap}/okx.history.rest"))["data"]
assert len(h) == 5 and [t["id"] for t in h] == sorted(t["id"] for t in h), h
assert len(a) == 5 and all(x["f"] == x["l"] for x in a), a
assert len(o) == 5 and int(o[0]["tradeId"]) > int(o[-1]["tradeId"]), o
PY
kill $sim 2>/dev/null
wait $sim 2>/dev/null

python3 "$top/test/exsim/check_formats.py" "$fixtures" "$cap" || fail "formats differ from the fixtures"
python3 "$top/test/exsim/check_market.py" "$fixtures" "$cap" "$cap/record.jsonl" || fail "market rules broken"

# zvt's own parsers understand every frame, and read the same trades the
# simulator recorded (id, price, size in base units, taker side)
for x in binance:binance bybit-linear:bybit.linear bybit:bybit.spot okx:okx coinbase:coinbase; do
	"$top/zvt-feed-parse" "${x%%:*}" <"$cap/${x#*:}.ws" >"$cap/${x#*:}.events" 2>"$cap/${x#*:}.parse" ||
		fail "zvt's ${x%%:*} parser rejected simulator frames: $(grep malformed "$cap/${x#*:}.parse" | head -3)"
done
python3 - "$cap" <<'PY' || fail "parsed trades differ from the record"
import json, sys
from decimal import Decimal
cap = sys.argv[1]
rec = {}
for l in open(f"{cap}/record.jsonl"):
    r = json.loads(l)
    if r["channel"] == "trades":
        rec[(r["exchange"], r["symbol"], r["id"])] = r
checked = 0
for ex, f in [("binance", "binance"), ("bybit", "bybit.linear"), ("bybit", "bybit.spot"),
              ("okx", "okx"), ("coinbase", "coinbase")]:
    for l in open(f"{cap}/{f}.events"):
        e = json.loads(l)
        if e["kind"] != "trade":
            continue
        r = rec.get((ex, e["symbol"], e["id"]))
        assert r, f"{ex} trade {e} not in the record"
        assert abs(e["price"] - float(r["price"])) < 1e-9 * e["price"], (e, r)
        assert abs(e["qty"] - float(r["qty"])) < 1e-9 * max(e["qty"], 1), (e, r)
        assert e["side"] == r["side"], (e, r)
        assert e["ts"] == r["ts"] * 1000, (e, r)
        checked += 1
assert checked > 100, checked
print(f"ok zvt's parsers read {checked} simulator trades exactly as recorded")
PY
