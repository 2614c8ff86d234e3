/*
 * test/unit/test_live_route.c
 *	  The router's exchange core (src/live/route.c, route_parse.c): what
 *	  each exchange supports, the client order id, the signed requests
 *	  byte for byte, and the exchanges' replies (the fixtures' samples and
 *	  their error bodies) read into one result.
 */
#include <stdlib.h>

#include "live/route.h"
#include "live/sign.h"
#include "unit_test.h"

static const char *fixtures;

/* line n (1-based) of a fixture file, in a static buffer */
static const char *
fixture_line(const char *file, int n)
{
	static char line[8192];
	char		path[1024];
	FILE	   *f;
	int			i = 0;

	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	line[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return line;
	while (fgets(line, sizeof(line), f) && ++i < n)
		;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static LiveOrder
order(const char *type, const char *tif, bool post_only)
{
	LiveOrder	o = {"BTC-USDT", true, type, "0.01", "50000", tif, post_only, false, "zvt0000abcdo42"};

	if (strcmp(type, "market") == 0)
		o.price = NULL;
	return o;
}

static void
test_support(void)
{
	LiveOrder	o = order("limit", "gtc", false);

	for (int ex = 0; ex < 4; ex++)
	{
		CHECK(live_unsupported(ex, &o) == NULL);
		o = order("market", "ioc", false);
		CHECK(live_unsupported(ex, &o) == NULL);
		o = order("limit", "fok", false);
		CHECK(live_unsupported(ex, &o) == NULL);
		o = order("limit", "gtc", true);
		CHECK(live_unsupported(ex, &o) == NULL);
		o = order("stop", "gtc", false);
		CHECK_STR(live_unsupported(ex, &o), "stop orders");
		o = order("trailing_stop", "gtc", false);
		CHECK_STR(live_unsupported(ex, &o), "trailing_stop orders");
		o = order("limit", "ioc", true);
		CHECK_STR(live_unsupported(ex, &o), "post_only with ioc or fok");
		o = order("limit", "gtc", false);
		o.reduce_only = true;
		CHECK(live_unsupported(ex, &o) != NULL);
		o = order("limit", "gtc", false);
		o.symbol = "BTC-USDT-PERP";
		CHECK(live_unsupported(ex, &o) != NULL);
		o = order("limit", "gtc", false);
	}
	CHECK(live_exchange("okx") == LX_OKX && live_exchange("kraken") == LX_NONE);
	CHECK_STR(live_exchange_name(LX_COINBASE), "coinbase");
}

static void
test_client_id(void)
{
	char		a[64],
				b[64];

	CHECK(live_client_order_id(UINT64_C(7318265190345567890), 42, a, sizeof(a)) > 0);
	CHECK(live_client_order_id(UINT64_C(7318265190345567890), 42, b, sizeof(b)) > 0);
	CHECK_STR(a, b);			/* deterministic */
	CHECK(strncmp(a, "zvt", 3) == 0 && strlen(a) <= 32);
	CHECK(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(a));
	CHECK(live_client_order_id(UINT64_C(7318265190345567890), 43, b, sizeof(b)) > 0 && strcmp(a, b) != 0);
	CHECK(live_client_order_id(1, INT64_MAX, a, sizeof(a)) > 0 && strlen(a) <= 32);
	CHECK(live_client_order_id(1, 0, a, sizeof(a)) == -1);
	CHECK(live_client_order_id(1, 5, a, 8) == -1);
}

static void
test_build(const char *ec_key)
{
	LiveCreds	bn = {"bn-key", "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", NULL};
	LiveCreds	okx = {"okx-key", "okx-secret", "okx-pass"};
	LiveCreds	cb = {"organizations/test-organization/apiKeys/test-api-key", ec_key, NULL};
	LiveOrder	o = order("limit", "gtc", false);
	LiveRequest r;
	const char *err;
	char		sig[SIGN_HEX_LEN],
				b64[SIGN_B64_LEN],
				pem[1024],
				claims[1024];
	const char *q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000"
		"&newClientOrderId=zvt0000abcdo42&newOrderRespType=RESULT&recvWindow=5000&timestamp=1499827319559";
	char		want[2048];

	/* Binance: the query, signed, then its signature */
	CHECK(live_build(LX_BINANCE, LO_PLACE, &bn, &o, NULL, INT64_C(1499827319559), NULL, NULL, &r, &err) == 0);
	sign_binance(bn.secret, q, "", sig, sizeof(sig));
	snprintf(want, sizeof(want), "/api/v3/order?%s&signature=%s", q, sig);
	CHECK_STR(r.method, "POST");
	CHECK_STR(r.path_query, want);
	CHECK(r.nheaders == 1);
	CHECK_STR(r.headers[0], "X-MBX-APIKEY: bn-key");
	o = order("limit", "gtc", true);
	CHECK(live_build(LX_BINANCE, LO_PLACE, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == 0);
	CHECK(strstr(r.path_query, "type=LIMIT_MAKER&quantity") != NULL);
	o = order("market", "ioc", false);
	CHECK(live_build(LX_BINANCE, LO_PLACE, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == 0);
	CHECK(strstr(r.path_query, "type=MARKET&quantity=0.01&newClientOrderId") != NULL);
	CHECK(live_build(LX_BINANCE, LO_QUERY, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.method, "GET");
	CHECK(strncmp(r.path_query, "/api/v3/order?symbol=BTCUSDT&origClientOrderId=zvt0000abcdo42&recvWindow=5000&timestamp=1&signature=", 100) == 0);
	CHECK(live_build(LX_BINANCE, LO_CANCEL, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.method, "DELETE");

	/* OKX: the exact body, signed with the ISO timestamp */
	o = order("limit", "gtc", false);
	CHECK(live_build(LX_OKX, LO_PLACE, &okx, &o, NULL, INT64_C(1607418537715), NULL, NULL, &r, &err) == 0);
	CHECK_STR(r.body, "{\"instId\":\"BTC-USDT\",\"tdMode\":\"cash\",\"clOrdId\":\"zvt0000abcdo42\",\"side\":\"buy\",\"ordType\":\"limit\",\"sz\":\"0.01\",\"px\":\"50000\"}");
	sign_okx("okx-secret", "2020-12-08T09:08:57.715Z", "POST", "/api/v5/trade/order", r.body, b64, sizeof(b64));
	snprintf(want, sizeof(want), "OK-ACCESS-SIGN: %s", b64);
	CHECK_STR(r.headers[1], want);
	CHECK_STR(r.headers[2], "OK-ACCESS-TIMESTAMP: 2020-12-08T09:08:57.715Z");
	CHECK_STR(r.headers[3], "OK-ACCESS-PASSPHRASE: okx-pass");
	okx.passphrase = NULL;
	CHECK(live_build(LX_OKX, LO_PLACE, &okx, &o, NULL, 1, NULL, NULL, &r, &err) == -1 && err != NULL);
	o = order("market", "ioc", false);
	okx.passphrase = "okx-pass";
	CHECK(live_build(LX_OKX, LO_PLACE, &okx, &o, NULL, 1, NULL, NULL, &r, &err) == 0);
	CHECK(strstr(r.body, "\"ordType\":\"market\",\"sz\":\"0.01\",\"tgtCcy\":\"base_ccy\"}") != NULL);

	/* Coinbase: a JWT whose uri is the method, host and path */
	o = order("limit", "gtc", true);
	CHECK(live_build(LX_COINBASE, LO_PLACE, &cb, &o, NULL, INT64_C(1700000000000), "127.0.0.1:19603", "00ff", &r, &err) == 0);
	CHECK(strstr(r.body, "\"limit_limit_gtc\":{\"base_size\":\"0.01\",\"limit_price\":\"50000\",\"post_only\":true}") != NULL);
	CHECK(sign_public_pem(ec_key, pem, sizeof(pem)) > 0);
	CHECK(strncmp(r.headers[0], "Authorization: Bearer ", 22) == 0);
	CHECK(sign_jwt_verify(r.headers[0] + 22, pem, claims, sizeof(claims)) > 0);
	CHECK(strstr(claims, "\"uri\":\"POST 127.0.0.1:19603/api/v3/brokerage/orders\"") != NULL);
	CHECK(live_build(LX_COINBASE, LO_CANCEL, &cb, &o, NULL, 1, "h", "00", &r, &err) == -1);
	CHECK(live_build(LX_COINBASE, LO_CANCEL, &cb, &o, "17", 1, "h", "00", &r, &err) == 0);
	CHECK_STR(r.body, "{\"order_ids\":[\"17\"]}");

	/* refused before anything is signed */
	o = order("limit", "gtc", false);
	o.client_id = "zvt\"1";
	CHECK(live_build(LX_BYBIT, LO_PLACE, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == -1);
	o = order("trailing_stop", "gtc", false);
	CHECK(live_build(LX_BYBIT, LO_PLACE, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == -1);
	o = order("limit", "gtc", false);
	o.qty = "1e5";
	CHECK(live_build(LX_BYBIT, LO_PLACE, &bn, &o, NULL, 1, NULL, NULL, &r, &err) == -1);
}

static LiveReply
parse(LiveExchange ex, LiveOp op, long http, const char *body, const char *cid)
{
	LiveReply	r;

	live_parse_reply(ex, op, http, body, body ? strlen(body) : 0, cid, &r);
	return r;
}

static void
test_parse(void)
{
	LiveReply	r;

	/* the fixtures' replies */
	r = parse(LX_BINANCE, LO_PLACE, 200, fixture_line("binance_rest_order.jsonl", 3), NULL);
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.exchange_id, "28");
	CHECK_STR(r.status, "filled");
	CHECK_STR(r.filled_qty, "10.00000000");
	CHECK_STR(r.filled_quote, "10.00000000");	/* cummulativeQuoteQty: the fills' price */
	r = parse(LX_BYBIT, LO_PLACE, 200, fixture_line("bybit_rest_order.jsonl", 2), NULL);
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.exchange_id, "1321003749386327552");
	r = parse(LX_OKX, LO_PLACE, 200, fixture_line("okx_rest_order.jsonl", 2), NULL);
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.exchange_id, "312269865356374016");

	/* Binance's refusals */
	r = parse(LX_BINANCE, LO_PLACE, 400, "{\"code\":-1021,\"msg\":\"Timestamp for this request is outside of the recvWindow.\"}", NULL);
	CHECK(r.kind == LR_CLOCK);
	CHECK_STR(r.reason, "-1021: Timestamp for this request is outside of the recvWindow.");
	CHECK(parse(LX_BINANCE, LO_PLACE, 400, "{\"code\":-1022,\"msg\":\"x\"}", NULL).kind == LR_AUTH);
	CHECK(parse(LX_BINANCE, LO_PLACE, 401, "{\"code\":-2015,\"msg\":\"x\"}", NULL).kind == LR_AUTH);
	CHECK(parse(LX_BINANCE, LO_PLACE, 400, "{\"code\":-2010,\"msg\":\"Account has insufficient balance for requested action.\"}", NULL).kind == LR_REJECTED);
	CHECK(parse(LX_BINANCE, LO_QUERY, 400, "{\"code\":-2013,\"msg\":\"Order does not exist.\"}", NULL).kind == LR_NOT_FOUND);
	CHECK(parse(LX_BINANCE, LO_PLACE, 429, "{\"code\":-1003,\"msg\":\"x\"}", NULL).kind == LR_RATE);
	CHECK(parse(LX_BINANCE, LO_PLACE, 503, "{}", NULL).kind == LR_UNKNOWN);
	CHECK(parse(LX_BINANCE, LO_PLACE, 0, NULL, NULL).kind == LR_UNKNOWN);
	CHECK(parse(LX_BINANCE, LO_PLACE, 200, "{\"symbol\":", NULL).kind == LR_UNKNOWN);

	/* Bybit */
	CHECK(parse(LX_BYBIT, LO_PLACE, 200, "{\"retCode\":10002,\"retMsg\":\"invalid request, please check your server timestamp or recv_window param\",\"result\":{}}", NULL).kind == LR_CLOCK);
	CHECK(parse(LX_BYBIT, LO_PLACE, 200, "{\"retCode\":10004,\"retMsg\":\"Error sign\",\"result\":{}}", NULL).kind == LR_AUTH);
	CHECK(parse(LX_BYBIT, LO_QUERY, 200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[]}}", NULL).kind == LR_NOT_FOUND);
	r = parse(LX_BYBIT, LO_QUERY, 200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[{\"orderId\":\"9\",\"orderStatus\":\"PartiallyFilled\",\"cumExecQty\":\"0.5\",\"cumExecValue\":\"30000.5\"}]}}", NULL);
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.status, "partially_filled");
	CHECK_STR(r.filled_qty, "0.5");
	CHECK_STR(r.filled_quote, "30000.5");

	/* OKX */
	CHECK(parse(LX_OKX, LO_PLACE, 401, "{\"msg\":\"Invalid OK-ACCESS-PASSPHRASE\",\"code\":\"50105\"}", NULL).kind == LR_AUTH);
	CHECK(parse(LX_OKX, LO_PLACE, 401, "{\"msg\":\"Timestamp request expired\",\"code\":\"50102\"}", NULL).kind == LR_CLOCK);
	r = parse(LX_OKX, LO_PLACE, 200, "{\"code\":\"1\",\"msg\":\"All operations failed\",\"data\":[{\"clOrdId\":\"\",\"ordId\":\"\",\"sCode\":\"51008\",\"sMsg\":\"Order failed. Insufficient balance.\"}]}", NULL);
	CHECK(r.kind == LR_REJECTED);
	CHECK_STR(r.reason, "51008: Order failed. Insufficient balance.");
	CHECK(parse(LX_OKX, LO_QUERY, 200, "{\"code\":\"51603\",\"msg\":\"Order does not exist\",\"data\":[]}", NULL).kind == LR_NOT_FOUND);
	r = parse(LX_OKX, LO_QUERY, 200, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ordId\":\"5\",\"state\":\"partially_filled\",\"accFillSz\":\"0.2\",\"fillNotional\":\"12000.4\"}]}", NULL);
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.status, "partially_filled");
	CHECK_STR(r.filled_quote, "12000.4");

	/* Coinbase */
	CHECK(parse(LX_COINBASE, LO_PLACE, 401, "{\"error\":\"UNAUTHORIZED\",\"code\":16,\"message\":\"Unauthorized\"}", NULL).kind == LR_AUTH);
	r = parse(LX_COINBASE, LO_PLACE, 200, "{\"success\":false,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"error_response\":{\"error\":\"INSUFFICIENT_FUND\",\"message\":\"Insufficient balance in source account\"}}", NULL);
	CHECK(r.kind == LR_REJECTED);
	CHECK_STR(r.reason, "INSUFFICIENT_FUND: Insufficient balance in source account");
	r = parse(LX_COINBASE, LO_QUERY, 200, "{\"orders\":[{\"order_id\":\"1\",\"client_order_id\":\"a\",\"status\":\"OPEN\",\"filled_size\":\"0\"},{\"order_id\":\"2\",\"client_order_id\":\"b\",\"status\":\"OPEN\",\"filled_size\":\"0.25\",\"filled_value\":\"15000\"}]}", "b");
	CHECK(r.kind == LR_OK);
	CHECK_STR(r.exchange_id, "2");
	CHECK_STR(r.status, "partially_filled");
	CHECK_STR(r.filled_quote, "15000");
	CHECK(parse(LX_COINBASE, LO_QUERY, 200, "{\"orders\":[]}", "b").kind == LR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
	char		path[1024];
	char		line[2048];
	char		ec_key[1024] = "";
	FILE	   *f;

	fixtures = argc > 1 ? argv[1] : "test/fixtures/exchanges";
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
	test_support();
	test_client_id();
	test_build(ec_key);
	test_parse();
	return unit_summary("live_route");
}
