#!/usr/bin/env bash
# The simulator's private API, driven by requests signed with zvt's own
# signers (zvt-exsim-private over src/live/sign.c and jwt.c), on all four
# exchanges: balances; a limit order that rests, is found by its client
# order id and among the open orders, and is canceled; a market order
# that fills at the touch and moves the balances by notional and fee; a
# duplicate client order id; a resting order filled by the market's own
# trades; a reply dropped after the exchange accepted (the order exists,
# found by client id); and the exchange's own refusals of a bad
# signature, a stale timestamp, an unknown key and (OKX) a wrong
# passphrase.
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$ZVT_TEST_DIR/exsim_private
mkdir -p "$work"
port=$(free_port_range 19600 4)
admin=$(free_port $((port + 10)))
sim_pid=
trap '[ -n "$sim_pid" ] && kill $sim_pid 2>/dev/null' EXIT

private_accounts "$work/accounts.jsonl" 100000 1
"$top/zvt-exsim" --port "$port" --admin-port "$admin" --symbols BTC-USDT,BTC-USD --rate 50 \
	--duration 300 --accounts "$work/accounts.jsonl" >"$work/exsim.out" 2>&1 &
sim_pid=$!
sim_wait "$sim_pid" "$port" $((port + 1)) $((port + 2)) $((port + 3)) "$admin" ||
	fail "the simulator did not start: $(cat "$work/exsim.out")"

# call EXCHANGE METHOD PATH QUERY BODY [SKEW_MS [BREAK]] -> "STATUS BODY"
call() {
	local ex=$1 base key secret pass=""
	shift
	case $ex in
	binance) base=http://127.0.0.1:$port key=bn-key secret=bn-secret ;;
	bybit) base=http://127.0.0.1:$((port + 1)) key=by-key secret=by-secret ;;
	okx) base=http://127.0.0.1:$((port + 2)) key=okx-key secret=okx-secret pass=okx-pass ;;
	coinbase) base=http://127.0.0.1:$((port + 3)) key=$cbkey secret=$(printf '%b' "$pem") ;;
	esac
	[ -n "${KEY_OVERRIDE:-}" ] && key=$KEY_OVERRIDE
	"$top/zvt-exsim-private" "$ex" "$base" "$key" "$secret" "$pass" "$@"
}
# expect WHAT OUTPUT STATUS JQ-FILTER: the status and a true filter on the body
expect() {
	local what=$1 out=$2 status=$3 filter=$4
	[ "${out%% *}" = "$status" ] || fail "$what: status ${out%% *}, want $status: $out"
	echo "${out#* }" | jq -e "$filter" >/dev/null 2>&1 || fail "$what: $filter does not hold for ${out#* }"
	echo "ok $what"
}
# wait_for WHAT SECONDS COMMAND...: until the command (an expect) passes
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		("$@") >/dev/null 2>&1 && { echo "ok $what"; return 0; }
		sleep 0.2
	done
	"$@"
	fail "$what: not within ${secs}s"
}
touch_price() { curl -s "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT&limit=5" | jq -r '.bids[0][0]'; }

# --- Binance ------------------------------------------------------------------
expect "binance balances" "$(call binance GET /api/v3/account "" "")" 200 \
	'[.balances[] | select(.asset=="USDT").free] == ["100000"]'
expect "binance limit rests" "$(call binance POST /api/v3/order "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000&newClientOrderId=bn-l1" "")" 200 \
	'.status == "NEW" and .clientOrderId == "bn-l1"'
expect "binance query by client id" "$(call binance GET /api/v3/order "symbol=BTCUSDT&origClientOrderId=bn-l1" "")" 200 \
	'.status == "NEW" and .price == "1000.00000000"'
expect "binance open orders" "$(call binance GET /api/v3/openOrders "" "")" 200 'map(.clientOrderId) == ["bn-l1"]'
expect "binance reserves the buy" "$(call binance GET /api/v3/account "" "")" 200 \
	'[.balances[] | select(.asset=="USDT").locked] == ["10.01"]'
expect "binance duplicate" "$(call binance POST /api/v3/order "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000&newClientOrderId=bn-l1" "")" 400 \
	'.code == -2010 and .msg == "Duplicate order sent."'
expect "binance cancel" "$(call binance DELETE /api/v3/order "symbol=BTCUSDT&origClientOrderId=bn-l1" "")" 200 '.status == "CANCELED"'
expect "binance cancel again" "$(call binance DELETE /api/v3/order "symbol=BTCUSDT&origClientOrderId=bn-l1" "")" 400 '.code == -2011'
out=$(call binance POST /api/v3/order "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.5&newClientOrderId=bn-m1" "")
expect "binance market fills" "$out" 200 '.status == "FILLED" and (.fills | length) == 1'
quote=$(echo "${out#* }" | jq -r .cummulativeQuoteQty) fee=$(echo "${out#* }" | jq -r .fills[0].commission)
want=$(python3 -c "from decimal import Decimal as D; print(D('100000') + D('$quote') - D('$fee'))")
expect "binance balances after the fill" "$(call binance GET /api/v3/account "" "")" 200 \
	"[.balances[] | select(.asset==\"USDT\").free | tonumber] == [$want] and [.balances[] | select(.asset==\"BTC\").free] == [\"0.5\"]"
expect "binance bad signature" "$(call binance GET /api/v3/account "" "" 0 sig)" 400 \
	'.code == -1022 and .msg == "Signature for this request is not valid."'
expect "binance stale timestamp" "$(call binance GET /api/v3/account "" "" -6000)" 400 \
	'.code == -1021 and .msg == "Timestamp for this request is outside of the recvWindow."'
expect "binance future timestamp" "$(call binance GET /api/v3/account "" "" 2000)" 400 '.code == -1021'
expect "binance unknown key" "$(KEY_OVERRIDE=nope call binance GET /api/v3/account "" "")" 401 '.code == -2015'
# with no depth stream open, REST depth is the market now, not the book
# the first call found (the buy below was placed under a stale bid and
# filled at once when the market had fallen since)
u1=$(curl -s "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT&limit=5" | jq .lastUpdateId)
u2=$(curl -s "http://127.0.0.1:$port/api/v3/depth?symbol=BTCUSDT&limit=5" | jq .lastUpdateId)
[ "$u2" -gt "$u1" ] || fail "binance REST depth is republished without a depth stream ($u1, then $u2)"
echo "ok binance REST depth is the current book without a depth stream ($u1, then $u2)"
# a buy at the bid rests, then fills when the market trades down to it
# (a few ticks under the bid, so that it rests; again lower if the market
# got there between the two calls)
for i in $(seq 1 20); do
	px=$(python3 -c "from decimal import Decimal as D; print(D('$(touch_price)') - D('0.05') * $i)")
	out=$(call binance POST /api/v3/order "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=$px&newClientOrderId=bn-r$i" "")
	echo "${out#* }" | jq -e '.status == "NEW"' >/dev/null && break
done
expect "binance buy under the bid rests" "$out" 200 '.status == "NEW" and (.fills | length) == 0'
cid=$(echo "${out#* }" | jq -r .clientOrderId)
filled() { expect fill "$(call binance GET /api/v3/order "symbol=BTCUSDT&origClientOrderId=$cid" "")" 200 '.status != "NEW"'; }
wait_for "binance resting order filled by the market's trades" 60 filled
# the reply is lost after the exchange accepted: the order is there
curl -s "http://127.0.0.1:$admin/fault?exchange=binance&drop_reply=1" >/dev/null
out=$(call binance POST /api/v3/order "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000&newClientOrderId=bn-lost" "")
case $out in 000*) echo "ok binance reply dropped ($out)" ;; *) fail "binance reply was not dropped: $out" ;; esac
expect "binance lost order found by client id" "$(call binance GET /api/v3/order "symbol=BTCUSDT&origClientOrderId=bn-lost" "")" 200 '.status == "NEW"'

# --- Bybit --------------------------------------------------------------------
J='{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"1000","timeInForce":"GTC","orderLinkId":"by-l1"}'
expect "bybit balances" "$(call bybit GET /v5/account/wallet-balance accountType=UNIFIED "")" 200 \
	'.retCode == 0 and [.result.list[0].coin[] | select(.coin=="USDT").walletBalance] == ["100000"]'
expect "bybit limit rests" "$(call bybit POST /v5/order/create "" "$J")" 200 '.retCode == 0 and .result.orderLinkId == "by-l1"'
expect "bybit duplicate" "$(call bybit POST /v5/order/create "" "$J")" 200 '.retCode != 0'
expect "bybit query by client id" "$(call bybit GET /v5/order/realtime "category=spot&orderLinkId=by-l1" "")" 200 \
	'.result.list[0].orderStatus == "New"'
expect "bybit open orders" "$(call bybit GET /v5/order/realtime "category=spot" "")" 200 '[.result.list[].orderLinkId] == ["by-l1"]'
expect "bybit cancel" "$(call bybit POST /v5/order/cancel "" '{"category":"spot","symbol":"BTCUSDT","orderLinkId":"by-l1"}')" 200 '.retCode == 0'
expect "bybit canceled" "$(call bybit GET /v5/order/realtime "category=spot&orderLinkId=by-l1" "")" 200 \
	'.result.list[0].orderStatus == "Cancelled"'
expect "bybit market fills" "$(call bybit POST /v5/order/create "" '{"category":"spot","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.5","orderLinkId":"by-m1"}')" 200 '.retCode == 0'
expect "bybit filled" "$(call bybit GET /v5/order/realtime "category=spot&orderLinkId=by-m1" "")" 200 \
	'.result.list[0].orderStatus == "Filled" and .result.list[0].cumExecQty == "0.5"'
expect "bybit post-only that would take is canceled" "$(call bybit POST /v5/order/create "" '{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"999999","timeInForce":"PostOnly","orderLinkId":"by-p1"}')" 200 '.retCode == 0'
expect "bybit post-only reason" "$(call bybit GET /v5/order/realtime "category=spot&orderLinkId=by-p1" "")" 200 \
	'.result.list[0].rejectReason == "EC_PostOnlyWillTakeLiquidity"'
expect "bybit bad signature" "$(call bybit GET /v5/account/wallet-balance accountType=UNIFIED "" 0 sig)" 200 '.retCode == 10004'
expect "bybit stale timestamp" "$(call bybit GET /v5/account/wallet-balance accountType=UNIFIED "" -6000)" 200 \
	'.retCode == 10002 and .retMsg == "invalid request, please check your server timestamp or recv_window param"'
expect "bybit unknown key" "$(KEY_OVERRIDE=nope call bybit GET /v5/account/wallet-balance accountType=UNIFIED "")" 200 '.retCode == 10003'

# --- OKX ----------------------------------------------------------------------
expect "okx balances" "$(call okx GET /api/v5/account/balance "" "")" 200 \
	'.code == "0" and [.data[0].details[] | select(.ccy=="USDT").cashBal] == ["100000"]'
expect "okx limit rests" "$(call okx POST /api/v5/trade/order "" '{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"okxl1","side":"buy","ordType":"limit","px":"1000","sz":"0.01"}')" 200 \
	'.code == "0" and .data[0].sCode == "0"'
expect "okx duplicate" "$(call okx POST /api/v5/trade/order "" '{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"okxl1","side":"buy","ordType":"limit","px":"1000","sz":"0.01"}')" 200 \
	'.code == "1" and .data[0].sCode == "51016"'
expect "okx query by client id" "$(call okx GET /api/v5/trade/order "instId=BTC-USDT&clOrdId=okxl1" "")" 200 '.data[0].state == "live"'
expect "okx open orders" "$(call okx GET /api/v5/trade/orders-pending "" "")" 200 '[.data[].clOrdId] == ["okxl1"]'
expect "okx cancel" "$(call okx POST /api/v5/trade/cancel-order "" '{"instId":"BTC-USDT","clOrdId":"okxl1"}')" 200 '.data[0].sCode == "0"'
expect "okx unknown order" "$(call okx GET /api/v5/trade/order "instId=BTC-USDT&clOrdId=none" "")" 200 '.code == "51603"'
expect "okx market fills" "$(call okx POST /api/v5/trade/order "" '{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"okxm1","side":"sell","ordType":"market","sz":"0.5"}')" 200 '.code == "0"'
expect "okx filled" "$(call okx GET /api/v5/trade/order "instId=BTC-USDT&clOrdId=okxm1" "")" 200 '.data[0].state == "filled" and .data[0].accFillSz == "0.5"'
expect "okx wrong passphrase" "$(call okx GET /api/v5/account/balance "" "" 0 pass)" 401 '.code == "50105" and .msg == "Invalid OK-ACCESS-PASSPHRASE"'
expect "okx bad signature" "$(call okx GET /api/v5/account/balance "" "" 0 sig)" 401 '.code == "50113" and .msg == "Invalid Sign"'
expect "okx stale timestamp" "$(call okx GET /api/v5/account/balance "" "" -40000)" 401 '.code == "50102"'
expect "okx unknown key" "$(KEY_OVERRIDE=nope call okx GET /api/v5/account/balance "" "")" 401 '.code == "50111"'

# --- Coinbase -----------------------------------------------------------------
L='{"client_order_id":"cb-l1","product_id":"BTC-USD","side":"BUY","order_configuration":{"limit_limit_gtc":{"base_size":"0.01","limit_price":"1000","post_only":false}}}'
expect "coinbase balances" "$(call coinbase GET /api/v3/brokerage/accounts "" "")" 200 \
	'[.accounts[] | select(.currency=="USD").available_balance.value] == ["100000"]'
out=$(call coinbase POST /api/v3/brokerage/orders "" "$L")
expect "coinbase limit rests" "$out" 200 '.success == true'
id=$(echo "${out#* }" | jq -r .success_response.order_id)
expect "coinbase same client id is the same order" "$(call coinbase POST /api/v3/brokerage/orders "" "$L")" 200 \
	".success == true and .success_response.order_id == \"$id\""
expect "coinbase query" "$(call coinbase GET /api/v3/brokerage/orders/historical/$id "" "")" 200 '.order.status == "OPEN" and .order.client_order_id == "cb-l1"'
expect "coinbase open orders" "$(call coinbase GET /api/v3/brokerage/orders/historical/batch order_status=OPEN "")" 200 '[.orders[].client_order_id] == ["cb-l1"]'
expect "coinbase cancel" "$(call coinbase POST /api/v3/brokerage/orders/batch_cancel "" "{\"order_ids\":[\"$id\"]}")" 200 '.results[0].success == true'
expect "coinbase post-only that would take" "$(call coinbase POST /api/v3/brokerage/orders "" '{"client_order_id":"cb-p1","product_id":"BTC-USD","side":"BUY","order_configuration":{"limit_limit_gtc":{"base_size":"0.01","limit_price":"999999","post_only":true}}}')" 200 \
	'.success == false and .error_response.error == "INVALID_LIMIT_PRICE_POST_ONLY"'
expect "coinbase market fills" "$(call coinbase POST /api/v3/brokerage/orders "" '{"client_order_id":"cb-m1","product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"base_size":"0.5"}}}')" 200 '.success == true'
expect "coinbase balances after the fill" "$(call coinbase GET /api/v3/brokerage/accounts "" "")" 200 \
	'[.accounts[] | select(.currency=="BTC").available_balance.value] == ["0.5"]'
expect "coinbase insufficient funds" "$(call coinbase POST /api/v3/brokerage/orders "" '{"client_order_id":"cb-big","product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"base_size":"5"}}}')" 200 \
	'.success == false and .error_response.error == "INSUFFICIENT_FUND"'
expect "coinbase bad signature" "$(call coinbase GET /api/v3/brokerage/accounts "" "" 0 sig)" 401 '.error == "UNAUTHORIZED"'
expect "coinbase expired token" "$(call coinbase GET /api/v3/brokerage/accounts "" "" -300000)" 401 '.error == "UNAUTHORIZED"'
expect "coinbase time" "200 $(curl -s "http://127.0.0.1:$((port + 3))/api/v3/brokerage/time")" 200 '.epochMillis | test("^[0-9]+$")'
echo "ok every private endpoint of the four exchanges"
