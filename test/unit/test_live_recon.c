/*
 * test/unit/test_live_recon.c
 *	  Reconciliation's exchange core (src/live/reconcile_fetch.c,
 *	  reconcile_trades.c): the signed list and fill-history requests of
 *	  each exchange, byte for byte where the signature is deterministic,
 *	  and the lists, fill-history pages (in the exchanges' documented
 *	  shapes) and error bodies read back.
 */
#include <stdlib.h>

#include "live/recon_fetch.h"
#include "live/sign.h"
#include "unit_test.h"

static ReconOrder orders[8];
static ReconBalance bal[8];

static int
parse_orders(LiveExchange ex, long http, const char *body, bool *more, LiveReply *fail)
{
	return recon_parse_orders(ex, http, body, strlen(body), orders, 8, more, fail);
}

static int
parse_bal(LiveExchange ex, long http, const char *body, LiveReply *fail)
{
	return recon_parse_balances(ex, http, body, strlen(body), bal, 8, fail);
}

static void
test_build(const char *ec_key)
{
	LiveCreds	bn = {"bn-key", "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", NULL};
	LiveCreds	by = {"by-key", "by-secret", NULL};
	LiveCreds	okx = {"okx-key", "okx-secret", "okx-pass"};
	LiveCreds	cb = {"organizations/test-organization/apiKeys/test-api-key", ec_key, NULL};
	LiveRequest r;
	const char *err;
	char		sig[SIGN_HEX_LEN],
				b64[SIGN_B64_LEN],
				want[1024],
				pem[1024],
				claims[1024];

	CHECK(recon_build(LX_BINANCE, RL_OPEN_ORDERS, &bn, INT64_C(1499827319559), NULL, NULL, &r, &err) == 0);
	sign_binance(bn.secret, "recvWindow=5000&timestamp=1499827319559", "", sig, sizeof(sig));
	snprintf(want, sizeof(want), "/api/v3/openOrders?recvWindow=5000&timestamp=1499827319559&signature=%s", sig);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.path_query, want);
	CHECK_STR(r.headers[0], "X-MBX-APIKEY: bn-key");
	CHECK(recon_build(LX_BINANCE, RL_BALANCES, &bn, 1, NULL, NULL, &r, &err) == 0);
	sign_binance(bn.secret, "omitZeroBalances=true&recvWindow=5000&timestamp=1", "", sig, sizeof(sig));
	snprintf(want, sizeof(want), "/api/v3/account?omitZeroBalances=true&recvWindow=5000&timestamp=1&signature=%s", sig);
	CHECK_STR(r.path_query, want);

	CHECK(recon_build(LX_BYBIT, RL_OPEN_ORDERS, &by, INT64_C(1672211918471), NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.path_query, "/v5/order/realtime?category=spot&openOnly=0&limit=50");
	sign_bybit("by-secret", "1672211918471", "by-key", "5000", "category=spot&openOnly=0&limit=50", sig, sizeof(sig));
	snprintf(want, sizeof(want), "X-BAPI-SIGN: %s", sig);
	CHECK_STR(r.headers[3], want);
	CHECK(recon_build(LX_BYBIT, RL_BALANCES, &by, 1, NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.path_query, "/v5/account/wallet-balance?accountType=UNIFIED");

	CHECK(recon_build(LX_OKX, RL_OPEN_ORDERS, &okx, INT64_C(1607418537715), NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.path_query, "/api/v5/trade/orders-pending?instType=SPOT");
	sign_okx("okx-secret", "2020-12-08T09:08:57.715Z", "GET", "/api/v5/trade/orders-pending?instType=SPOT", "",
			 b64, sizeof(b64));
	snprintf(want, sizeof(want), "OK-ACCESS-SIGN: %s", b64);
	CHECK_STR(r.headers[1], want);
	CHECK(recon_build(LX_OKX, RL_BALANCES, &okx, INT64_C(1607418537715), NULL, NULL, &r, &err) == 0);
	/* the documented vector: GET /api/v5/account/balance at this timestamp */
	sign_okx("okx-secret", "2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance", "", b64, sizeof(b64));
	snprintf(want, sizeof(want), "OK-ACCESS-SIGN: %s", b64);
	CHECK_STR(r.headers[1], want);
	okx.passphrase = NULL;
	CHECK(recon_build(LX_OKX, RL_BALANCES, &okx, 1, NULL, NULL, &r, &err) == -1 && err != NULL);

	CHECK(recon_build(LX_COINBASE, RL_OPEN_ORDERS, &cb, INT64_C(1700000000000), "api.coinbase.com", "00ff", &r, &err) == 0);
	CHECK_STR(r.path_query, "/api/v3/brokerage/orders/historical/batch?order_status=OPEN&limit=1000");
	CHECK(sign_public_pem(ec_key, pem, sizeof(pem)) > 0);
	CHECK(strncmp(r.headers[0], "Authorization: Bearer ", 22) == 0);
	CHECK(sign_jwt_verify(r.headers[0] + 22, pem, claims, sizeof(claims)) > 0);
	/* the uri claim has no query string */
	CHECK(strstr(claims, "\"uri\":\"GET api.coinbase.com/api/v3/brokerage/orders/historical/batch\"") != NULL);
	CHECK(recon_build(LX_COINBASE, RL_BALANCES, &cb, INT64_C(1700000000000), "api.coinbase.com", "00ff", &r, &err) == 0);
	CHECK(sign_jwt_verify(r.headers[0] + 22, pem, claims, sizeof(claims)) > 0);
	CHECK(strstr(claims, "\"uri\":\"GET api.coinbase.com/api/v3/brokerage/accounts\"") != NULL);

	CHECK(recon_build(LX_NONE, RL_BALANCES, &bn, 1, NULL, NULL, &r, &err) == -1);
	CHECK(recon_build(LX_BINANCE, RL_BALANCES, NULL, 1, NULL, NULL, &r, &err) == -1);
}

static void
test_orders(void)
{
	bool		more;
	LiveReply	fail;

	/* Binance GET /api/v3/openOrders: an array of order objects */
	CHECK(parse_orders(LX_BINANCE, 200, "[{\"symbol\":\"LTCBTC\",\"orderId\":1,\"orderListId\":-1,\"clientOrderId\":\"myOrder1\","
					   "\"price\":\"0.1\",\"origQty\":\"1.0\",\"executedQty\":\"0.4\",\"cummulativeQuoteQty\":\"0.04\","
					   "\"status\":\"PARTIALLY_FILLED\",\"timeInForce\":\"GTC\",\"type\":\"LIMIT\",\"side\":\"BUY\"},"
					   "{\"symbol\":\"BTCUSDT\",\"orderId\":2,\"clientOrderId\":\"x\",\"price\":\"1\",\"origQty\":\"2\","
					   "\"executedQty\":\"0\",\"cummulativeQuoteQty\":\"0\",\"status\":\"NEW\",\"side\":\"SELL\"}]",
					   &more, &fail) == 2);
	CHECK(!more);
	CHECK_STR(orders[0].client_id, "myOrder1");
	CHECK_STR(orders[0].symbol, "LTCBTC");
	CHECK_STR(orders[0].side, "buy");
	CHECK_STR(orders[0].qty, "1.0");
	CHECK_STR(orders[0].price, "0.1");
	CHECK_STR(orders[0].rep.exchange_id, "1");
	CHECK_STR(orders[0].rep.status, "partially_filled");
	CHECK_STR(orders[0].rep.filled_qty, "0.4");
	CHECK_STR(orders[0].rep.filled_quote, "0.04");
	CHECK_STR(orders[1].side, "sell");
	CHECK_STR(orders[1].rep.status, "new");
	CHECK(parse_orders(LX_BINANCE, 401, "{\"code\":-2015,\"msg\":\"Invalid API-key, IP, or permissions for action.\"}",
					   &more, &fail) == -1);
	CHECK(fail.kind == LR_AUTH);
	CHECK(parse_orders(LX_BINANCE, 400, "{\"code\":-1021,\"msg\":\"Timestamp for this request is outside of the recvWindow.\"}",
					   &more, &fail) == -1);
	CHECK(fail.kind == LR_CLOCK);
	CHECK(parse_orders(LX_BINANCE, 0, "", &more, &fail) == -1);
	CHECK(fail.kind == LR_UNKNOWN);
	CHECK(parse_orders(LX_BINANCE, 200, "{\"not\":\"a list\"}", &more, &fail) == -1);
	CHECK(fail.kind == LR_UNKNOWN);

	/* Bybit GET /v5/order/realtime: result.list, and a cursor when there is more */
	CHECK(parse_orders(LX_BYBIT, 200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"spot\",\"nextPageCursor\":\"page2\","
					   "\"list\":[{\"orderId\":\"1321\",\"orderLinkId\":\"zvt1o5\",\"symbol\":\"BTCUSDT\",\"side\":\"Buy\","
					   "\"qty\":\"0.01\",\"price\":\"1000\",\"orderStatus\":\"PartiallyFilled\",\"cumExecQty\":\"0.004\","
					   "\"cumExecValue\":\"4\"}]}}", &more, &fail) == 1);
	CHECK(more);
	CHECK_STR(orders[0].client_id, "zvt1o5");
	CHECK_STR(orders[0].rep.exchange_id, "1321");
	CHECK_STR(orders[0].rep.status, "partially_filled");
	CHECK_STR(orders[0].rep.filled_qty, "0.004");
	CHECK_STR(orders[0].rep.filled_quote, "4");
	CHECK(parse_orders(LX_BYBIT, 200, "{\"retCode\":0,\"result\":{\"nextPageCursor\":\"\",\"list\":[]}}", &more, &fail) == 0);
	CHECK(!more);
	CHECK(parse_orders(LX_BYBIT, 200, "{\"retCode\":10003,\"retMsg\":\"API key is invalid.\",\"result\":{}}", &more, &fail) == -1);
	CHECK(fail.kind == LR_AUTH);

	/* OKX GET /api/v5/trade/orders-pending: data[] */
	CHECK(parse_orders(LX_OKX, 200, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT\",\"ordId\":\"312269865356374016\","
					   "\"clOrdId\":\"b15\",\"side\":\"sell\",\"sz\":\"2\",\"px\":\"2.15\",\"state\":\"live\",\"accFillSz\":\"0\","
					   "\"fillNotional\":\"0\"}]}", &more, &fail) == 1);
	CHECK_STR(orders[0].client_id, "b15");
	CHECK_STR(orders[0].symbol, "BTC-USDT");
	CHECK_STR(orders[0].side, "sell");
	CHECK_STR(orders[0].qty, "2");
	CHECK_STR(orders[0].rep.exchange_id, "312269865356374016");
	CHECK_STR(orders[0].rep.status, "new");
	CHECK(parse_orders(LX_OKX, 401, "{\"code\":\"50113\",\"msg\":\"Invalid Sign\",\"data\":[]}", &more, &fail) == -1);
	CHECK(fail.kind == LR_AUTH);

	/* Coinbase GET .../orders/historical/batch: orders[], has_next */
	CHECK(parse_orders(LX_COINBASE, 200, "{\"orders\":[{\"order_id\":\"0000-1\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\","
					   "\"client_order_id\":\"ext1\",\"status\":\"OPEN\",\"order_configuration\":{\"limit_limit_gtc\":"
					   "{\"base_size\":\"0.02\",\"limit_price\":\"900\",\"post_only\":false}},\"filled_size\":\"0.005\","
					   "\"filled_value\":\"4.5\"}],\"sequence\":\"0\",\"has_next\":true,\"cursor\":\"c\"}", &more, &fail) == 1);
	CHECK(more);
	CHECK_STR(orders[0].client_id, "ext1");
	CHECK_STR(orders[0].qty, "0.02");
	CHECK_STR(orders[0].price, "900");
	CHECK_STR(orders[0].rep.status, "partially_filled");
	CHECK_STR(orders[0].rep.filled_qty, "0.005");
	CHECK(parse_orders(LX_COINBASE, 401, "{\"error\":\"UNAUTHORIZED\",\"code\":16,\"message\":\"Unauthorized\"}",
					   &more, &fail) == -1);
	CHECK(fail.kind == LR_AUTH);
	CHECK(parse_orders(LX_COINBASE, 503, "{}", &more, &fail) == -1);
	CHECK(fail.kind == LR_UNKNOWN);
}

static void
test_balances(void)
{
	LiveReply	fail;

	CHECK(parse_bal(LX_BINANCE, 200, "{\"makerCommission\":15,\"balances\":[{\"asset\":\"BTC\",\"free\":\"4723846.89208129\","
					"\"locked\":\"0.00000000\"},{\"asset\":\"LTC\",\"free\":\"4763368.68006011\",\"locked\":\"1.5\"}]}",
					&fail) == 2);
	CHECK_STR(bal[1].asset, "LTC");
	CHECK_STR(bal[1].free, "4763368.68006011");
	CHECK_STR(bal[1].locked, "1.5");
	CHECK(parse_bal(LX_BYBIT, 200, "{\"retCode\":0,\"result\":{\"list\":[{\"accountType\":\"UNIFIED\",\"coin\":[{\"coin\":\"USDT\","
					"\"walletBalance\":\"1000.5\",\"locked\":\"10\",\"free\":\"990.5\"}]}]}}", &fail) == 1);
	CHECK_STR(bal[0].asset, "USDT");
	CHECK_STR(bal[0].free, "1000.5");	/* walletBalance: the total */
	CHECK_STR(bal[0].locked, "0");
	CHECK(parse_bal(LX_OKX, 200, "{\"code\":\"0\",\"data\":[{\"uTime\":\"1\",\"details\":[{\"ccy\":\"BTC\",\"cashBal\":\"2.5\","
					"\"availBal\":\"2\",\"frozenBal\":\"0.5\"}]}]}", &fail) == 1);
	CHECK_STR(bal[0].asset, "BTC");
	CHECK_STR(bal[0].free, "2.5");		/* cashBal: the total */
	CHECK(parse_bal(LX_COINBASE, 200, "{\"accounts\":[{\"uuid\":\"u\",\"currency\":\"USD\",\"available_balance\":"
					"{\"value\":\"100\",\"currency\":\"USD\"},\"hold\":{\"value\":\"7.25\",\"currency\":\"USD\"}}],"
					"\"has_next\":false}", &fail) == 1);
	CHECK_STR(bal[0].free, "100");
	CHECK_STR(bal[0].locked, "7.25");
	CHECK(parse_bal(LX_COINBASE, 401, "{\"error\":\"UNAUTHORIZED\"}", &fail) == -1);
	CHECK(fail.kind == LR_AUTH);
	CHECK(parse_bal(LX_OKX, 200, "{\"code\":\"50102\",\"msg\":\"Timestamp request expired\",\"data\":[]}", &fail) == -1);
	CHECK(fail.kind == LR_CLOCK);
}

/* the fill histories (src/live/reconcile_trades.c): requests and pages in the documented shapes */
static void
test_trades(void)
{
	static ReconTrade tr[8];
	LiveCreds	bn = {"bn-key", "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", NULL};
	LiveCreds	by = {"by-key", "by-secret", NULL};
	LiveCreds	okx = {"okx-key", "okx-secret", "okx-pass"};
	LiveRequest r;
	LiveReply	fail;
	const char *err;
	char		next[256];
	char		sig[SIGN_HEX_LEN],
				want[1024];
	const char *b;

	/* Binance: symbol, fromId, limit, signed like every request */
	CHECK(recon_build_trades(LX_BINANCE, &bn, 1499827319559LL, "", "", "BTCUSDT", "28457", 1000, &r, &err) == 0);
	sign_binance(bn.secret, "symbol=BTCUSDT&fromId=28457&limit=1000&recvWindow=5000&timestamp=1499827319559", "",
				 sig, sizeof(sig));
	snprintf(want, sizeof(want), "/api/v3/myTrades?symbol=BTCUSDT&fromId=28457&limit=1000&recvWindow=5000"
			 "&timestamp=1499827319559&signature=%s", sig);
	CHECK_STR(r.path_query, want);
	CHECK(recon_build_trades(LX_BINANCE, &bn, 1, "", "", "", "", 1000, &r, &err) == -1);	/* a symbol it needs */
	CHECK(recon_build_trades(LX_BINANCE, &bn, 1, "", "", "BTC&x=1", "", 1000, &r, &err) == -1);
	/* Binance's documented reply; a full page: the next one from the last id + 1 */
	b = "[{\"symbol\":\"BNBBTC\",\"id\":28457,\"orderId\":100234,\"orderListId\":-1,\"price\":\"4.00000100\","
		"\"qty\":\"12.00000000\",\"quoteQty\":\"48.000012\",\"commission\":\"10.10000000\",\"commissionAsset\":\"BNB\","
		"\"time\":1499865549590,\"isBuyer\":true,\"isMaker\":false,\"isBestMatch\":true}]";
	CHECK(recon_parse_trades(LX_BINANCE, 200, b, strlen(b), 1, tr, 8, next, sizeof(next), &fail) == 1);
	CHECK_STR(tr[0].trade_id, "28457");
	CHECK_STR(tr[0].order_id, "100234");
	CHECK_STR(tr[0].fee, "10.10000000");
	CHECK_STR(tr[0].fee_asset, "BNB");
	CHECK(tr[0].maker == 0 && tr[0].ts == 1499865549590LL);
	CHECK_STR(next, "28458");
	CHECK(recon_parse_trades(LX_BINANCE, 200, b, strlen(b), 1000, tr, 8, next, sizeof(next), &fail) == 1);
	CHECK_STR(next, "");		/* short page: the last */
	b = "{\"code\":-1021,\"msg\":\"Timestamp for this request is outside of the recvWindow.\"}";
	CHECK(recon_parse_trades(LX_BINANCE, 400, b, strlen(b), 1000, tr, 8, next, sizeof(next), &fail) == -1);
	CHECK(fail.kind == LR_CLOCK);

	/* Bybit: the cursor as given; only trades (execType Trade) */
	CHECK(recon_build_trades(LX_BYBIT, &by, 1672211918471LL, "", "", NULL, "132766%3A2%2C132766%3A2", 100, &r, &err) == 0);
	CHECK_STR(r.path_query, "/v5/execution/list?category=spot&limit=100&cursor=132766%3A2%2C132766%3A2");
	b = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"nextPageCursor\":\"132766%3A2%2C132766%3A2\",\"category\":\"spot\","
		"\"list\":[{\"symbol\":\"BTCUSDT\",\"orderType\":\"Limit\",\"orderLinkId\":\"zvt1o7\",\"side\":\"Buy\","
		"\"orderId\":\"1\",\"leavesQty\":\"0\",\"execTime\":\"1672211918471\",\"feeCurrency\":\"BTC\",\"isMaker\":true,"
		"\"execFee\":\"0.00001\",\"feeRate\":\"0.001\",\"execId\":\"e-1\",\"execPrice\":\"16500\",\"orderQty\":\"0.01\","
		"\"orderPrice\":\"16500\",\"execValue\":\"165\",\"execType\":\"Trade\",\"execQty\":\"0.01\",\"seq\":1},"
		"{\"symbol\":\"BTCUSDT\",\"orderId\":\"2\",\"execId\":\"f-1\",\"execType\":\"Funding\",\"execQty\":\"1\","
		"\"execPrice\":\"1\"}]},\"retExtInfo\":{},\"time\":1672211918500}";
	CHECK(recon_parse_trades(LX_BYBIT, 200, b, strlen(b), 100, tr, 8, next, sizeof(next), &fail) == 1);
	CHECK_STR(tr[0].trade_id, "e-1");
	CHECK_STR(tr[0].client_id, "zvt1o7");
	CHECK_STR(tr[0].fee_asset, "BTC");
	CHECK(tr[0].maker == 1 && tr[0].ts == 1672211918471LL);
	CHECK_STR(next, "132766%3A2%2C132766%3A2");

	/* OKX: after = a bill id; a charge is negative there, read positive; a rebate is not a fee */
	CHECK(recon_build_trades(LX_OKX, &okx, 1597026383085LL, "", "", NULL, "389", 100, &r, &err) == 0);
	CHECK_STR(r.path_query, "/api/v5/trade/fills?instType=SPOT&limit=100&after=389");
	b = "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instType\":\"SPOT\",\"instId\":\"BTC-USDT\",\"tradeId\":\"123\","
		"\"ordId\":\"312269865356374016\",\"clOrdId\":\"b16\",\"billId\":\"1111\",\"fillPx\":\"999\",\"fillSz\":\"3\","
		"\"side\":\"buy\",\"execType\":\"M\",\"feeCcy\":\"BTC\",\"fee\":\"-0.003\",\"ts\":\"1597026383085\"},"
		"{\"instType\":\"SPOT\",\"instId\":\"BTC-USDT\",\"tradeId\":\"121\",\"ordId\":\"31\",\"clOrdId\":\"\",\"billId\":\"1110\","
		"\"fillPx\":\"998\",\"fillSz\":\"1\",\"side\":\"sell\",\"execType\":\"T\",\"feeCcy\":\"USDT\",\"fee\":\"0.5\","
		"\"ts\":\"1597026383000\"}]}";
	CHECK(recon_parse_trades(LX_OKX, 200, b, strlen(b), 2, tr, 8, next, sizeof(next), &fail) == 2);
	CHECK_STR(tr[0].fee, "0.003");
	CHECK_STR(tr[0].fee_asset, "BTC");
	CHECK(tr[0].maker == 1 && tr[0].seq == 1111);
	CHECK_STR(tr[1].fee, "");	/* a rebate */
	CHECK(tr[1].maker == 0);
	CHECK_STR(next, "1110");	/* a full page: after its last bill */
	CHECK(recon_parse_trades(LX_OKX, 200, b, strlen(b), 100, tr, 8, next, sizeof(next), &fail) == 2);
	CHECK_STR(next, "");

	/* Coinbase: the quote currency's fee, trade_time as ms, the cursor */
	b = "{\"fills\":[{\"entry_id\":\"22222\",\"trade_id\":\"1111\",\"order_id\":\"0000-000000-000000\","
		"\"trade_time\":\"2021-05-31T09:59:59.123456Z\",\"trade_type\":\"FILL\",\"price\":\"10000.00\",\"size\":\"0.001\","
		"\"commission\":\"1.25\",\"product_id\":\"BTC-USD\",\"sequence_timestamp\":\"2021-05-31T09:58:59.000Z\","
		"\"liquidity_indicator\":\"MAKER\",\"size_in_quote\":false,\"user_id\":\"3333-333333-3333333\",\"side\":\"BUY\"}],"
		"\"cursor\":\"789100\"}";
	CHECK(recon_parse_trades(LX_COINBASE, 200, b, strlen(b), 100, tr, 8, next, sizeof(next), &fail) == 1);
	CHECK_STR(tr[0].fee_asset, "USD");
	CHECK_STR(tr[0].fee, "1.25");
	CHECK(tr[0].maker == 1);
	CHECK(tr[0].ts == 1622455199123LL);
	CHECK_STR(next, "789100");
	b = "{\"error\":\"UNAUTHORIZED\"}";
	CHECK(recon_parse_trades(LX_COINBASE, 401, b, strlen(b), 100, tr, 8, next, sizeof(next), &fail) == -1);
	CHECK(fail.kind == LR_AUTH);

	/* the open orders' pages: the cursor, OKX after the last order of a full page */
	CHECK(recon_build_page(LX_BYBIT, RL_OPEN_ORDERS, &by, 1, "", "", "page%3A2", 2, &r, &err) == 0);
	CHECK_STR(r.path_query, "/v5/order/realtime?category=spot&openOnly=0&limit=2&cursor=page%3A2");
	CHECK(recon_build_page(LX_OKX, RL_OPEN_ORDERS, &okx, 1, "", "", "590908157585625111", 0, &r, &err) == 0);
	CHECK_STR(r.path_query, "/api/v5/trade/orders-pending?instType=SPOT&after=590908157585625111");
	CHECK(recon_build_page(LX_OKX, RL_OPEN_ORDERS, &by, 1, "", "", "x y", 0, &r, &err) == -1);
	b = "{\"retCode\":0,\"result\":{\"nextPageCursor\":\"page%3A2\",\"list\":[]}}";
	recon_orders_next(LX_BYBIT, b, strlen(b), 0, next, sizeof(next));
	CHECK_STR(next, "page%3A2");
	b = "{\"code\":\"0\",\"data\":[{\"ordId\":\"12\"},{\"ordId\":\"11\"}]}";
	recon_orders_next(LX_OKX, b, strlen(b), 2, next, sizeof(next));
	CHECK_STR(next, "11");
	recon_orders_next(LX_OKX, b, strlen(b), 0, next, sizeof(next));
	CHECK_STR(next, "");		/* a page short of 100: the last */
	b = "{\"orders\":[],\"has_next\":true,\"cursor\":\"789\"}";
	recon_orders_next(LX_COINBASE, b, strlen(b), 0, next, sizeof(next));
	CHECK_STR(next, "789");
	recon_orders_next(LX_BINANCE, "[]", 2, 0, next, sizeof(next));
	CHECK_STR(next, "");
}

int
main(int argc, char **argv)
{
	const char *fixtures = argc > 1 ? argv[1] : "test/fixtures/exchanges";
	char		path[1024];
	char		line[2048];
	char		ec_key[1024] = "";
	FILE	   *f;

	/* the Coinbase SDK's public test key (its \n spelled out) */
	snprintf(path, sizeof(path), "%s/coinbase_test_keys.txt", fixtures);
	if ((f = fopen(path, "r")) != NULL)
	{
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "TEST_API_SECRET = ", 18) == 0)
			{
				size_t		o = 0;

				for (const char *p = line + 18; *p && *p != '\n' && o + 1 < sizeof(ec_key); p++)
				{
					if (p[0] == '\\' && p[1] == 'n')
					{
						ec_key[o++] = '\n';
						p++;
					}
					else
						ec_key[o++] = *p;
				}
				ec_key[o] = '\0';
			}
		fclose(f);
	}
	CHECK(ec_key[0] != '\0');
	test_build(ec_key);
	test_orders();
	test_balances();
	test_trades();
	return unit_summary("live_recon");
}
