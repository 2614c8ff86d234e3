/*
 * test/unit/test_live_userstream.c
 *	  The private streams' pure core (src/live/userstream_parse.c): the
 *	  four exchanges' order updates, executions, balances and login
 *	  answers (test/fixtures/exchanges/EXCHANGE_user_stream.jsonl, shaped as the
 *	  exchanges document them) read into UsEvents; the login and
 *	  subscribe messages, signed as the exchanges check them; our client
 *	  order ids read back.
 */
#include <stdlib.h>

#include "live/sign.h"
#include "live/userstream.h"
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

static UsEvent ev[US_MAX_EVENTS];

static int
parse(LiveExchange ex, const char *file, int line)
{
	const char *m = fixture_line(file, line);

	return us_parse(ex, m, strlen(m), ev, US_MAX_EVENTS);
}

static void
test_binance(void)
{
	const char *f = "binance_user_stream.jsonl";

	CHECK(parse(LX_BINANCE, f, 1) == 1);
	CHECK(ev[0].kind == UE_ORDER);
	CHECK_STR(ev[0].client_id, "mUvoqJxFIILMdfAW5iGSOW");
	CHECK_STR(ev[0].exchange_id, "4293153");
	CHECK_STR(ev[0].status, "new");
	CHECK_STR(ev[0].trade_id, "");
	CHECK_STR(ev[0].filled_qty, "0.00000000");

	CHECK(parse(LX_BINANCE, f, 2) == 1);
	CHECK_STR(ev[0].status, "partially_filled");
	CHECK_STR(ev[0].trade_id, "77");
	CHECK_STR(ev[0].last_qty, "0.40000000");
	CHECK_STR(ev[0].last_px, "0.10264410");
	CHECK_STR(ev[0].fee, "0.00004106");
	CHECK_STR(ev[0].fee_asset, "BTC");
	CHECK_STR(ev[0].liquidity, "maker");
	CHECK_STR(ev[0].filled_qty, "0.40000000");
	CHECK_STR(ev[0].filled_quote, "0.04105764");

	/* a cancel names the order in C, the cancel request in c */
	CHECK(parse(LX_BINANCE, f, 3) == 1);
	CHECK_STR(ev[0].client_id, "mUvoqJxFIILMdfAW5iGSOW");
	CHECK_STR(ev[0].status, "canceled");

	CHECK(parse(LX_BINANCE, f, 4) == 2);
	CHECK(ev[0].kind == UE_BALANCE && ev[1].kind == UE_BALANCE);
	CHECK_STR(ev[1].asset, "BTC");
	CHECK_STR(ev[1].free, "0.9589");
	CHECK_STR(ev[1].locked, "0.0411");

	CHECK(parse(LX_BINANCE, f, 5) == 1);
	CHECK(ev[0].kind == UE_EXPIRED);
}

static void
test_bybit(void)
{
	const char *f = "bybit_user_stream.jsonl";

	CHECK(parse(LX_BYBIT, f, 1) == 1 && ev[0].kind == UE_LOGGED_IN);
	CHECK(parse(LX_BYBIT, f, 2) == 1 && ev[0].kind == UE_AUTH_FAILED);
	CHECK_STR(ev[0].reason, "Params Error");
	CHECK(parse(LX_BYBIT, f, 3) == 1 && ev[0].kind == UE_SUBSCRIBED);
	CHECK(parse(LX_BYBIT, f, 4) == 0);	/* a pong */

	CHECK(parse(LX_BYBIT, f, 5) == 1);
	CHECK(ev[0].kind == UE_ORDER);
	CHECK_STR(ev[0].client_id, "zvt1a2b3c4do42");
	CHECK_STR(ev[0].status, "partially_filled");
	CHECK_STR(ev[0].filled_qty, "0.01");
	CHECK_STR(ev[0].filled_quote, "160");
	CHECK_STR(ev[0].trade_id, "");

	CHECK(parse(LX_BYBIT, f, 6) == 1);
	CHECK_STR(ev[0].trade_id, "0ab1bdf7-4219-438b-b30a-32ec863018f7");
	CHECK_STR(ev[0].last_qty, "0.01");
	CHECK_STR(ev[0].last_px, "16000");
	CHECK_STR(ev[0].fee, "0.16");
	CHECK_STR(ev[0].fee_asset, "USDT");
	CHECK_STR(ev[0].leaves_qty, "0.01");
	CHECK_STR(ev[0].liquidity, "maker");
	CHECK_STR(ev[0].status, "");	/* an execution says nothing of the order's state */

	CHECK(parse(LX_BYBIT, f, 7) == 1);
	CHECK(ev[0].kind == UE_BALANCE);
	CHECK_STR(ev[0].asset, "BTC");
	CHECK_STR(ev[0].free, "0.00102964");
}

static void
test_okx(void)
{
	const char *f = "okx_user_stream.jsonl";

	CHECK(parse(LX_OKX, f, 1) == 1 && ev[0].kind == UE_LOGGED_IN);
	CHECK(parse(LX_OKX, f, 2) == 1 && ev[0].kind == UE_AUTH_FAILED);
	CHECK_STR(ev[0].reason, "60009: Login failed.");
	CHECK(parse(LX_OKX, f, 3) == 1 && ev[0].kind == UE_SUBSCRIBED);
	CHECK(us_parse(LX_OKX, "pong", 4, ev, US_MAX_EVENTS) == 0);

	CHECK(parse(LX_OKX, f, 4) == 1);
	CHECK_STR(ev[0].client_id, "zvt1a2b3c4do43");
	CHECK_STR(ev[0].exchange_id, "452197707845865472");
	CHECK_STR(ev[0].status, "filled");
	CHECK_STR(ev[0].filled_qty, "0.001");
	CHECK_STR(ev[0].avg_px, "31527.1");
	CHECK_STR(ev[0].trade_id, "242589207");
	CHECK_STR(ev[0].fee, "0.02522168");	/* OKX's -0.025 is a charge: paid 0.025 */
	CHECK_STR(ev[0].fee_asset, "USDT");
	CHECK_STR(ev[0].liquidity, "maker");

	CHECK(parse(LX_OKX, f, 5) == 1);
	CHECK_STR(ev[0].asset, "BTC");
	CHECK_STR(ev[0].free, "0.9");
	CHECK_STR(ev[0].locked, "0.1");
}

static void
test_coinbase(void)
{
	const char *f = "coinbase_user_stream.jsonl";

	CHECK(parse(LX_COINBASE, f, 1) == 1 && ev[0].kind == UE_SUBSCRIBED);
	CHECK(parse(LX_COINBASE, f, 2) == 1 && ev[0].kind == UE_AUTH_FAILED);
	CHECK(parse(LX_COINBASE, f, 3) == 1);
	CHECK_STR(ev[0].client_id, "zvt1a2b3c4do44");
	CHECK_STR(ev[0].status, "new");
	CHECK_STR(ev[0].filled_qty, "0.01");
	CHECK_STR(ev[0].filled_quote, "500");
	CHECK_STR(ev[0].trade_id, "");
	CHECK(parse(LX_COINBASE, f, 4) == 1);
	CHECK_STR(ev[0].status, "canceled");
	CHECK_STR(ev[0].reason, "User requested cancel");
}

static void
test_messages(void)
{
	LiveCreds	by = {"api_key", "secret", NULL};
	LiveCreds	okx = {"k", "secret", "pass"};
	char		out[4096];
	char		want[SIGN_HEX_LEN];

	/* Bybit: expires = now + 10 s, hex HMAC of GET/realtime || expires */
	CHECK(us_login_message(LX_BYBIT, &by, 1662350390000, "", out, sizeof(out)) > 0);
	CHECK(sign_bybit_ws("secret", "1662350400000", want, sizeof(want)) > 0);
	CHECK(strstr(out, "\"op\":\"auth\"") != NULL);
	CHECK(strstr(out, "1662350400000") != NULL);
	CHECK(strstr(out, want) != NULL);
	/* OKX: unix seconds, base64 HMAC of ts || GET/users/self/verify */
	CHECK(us_login_message(LX_OKX, &okx, 1538054050123, "", out, sizeof(out)) > 0);
	CHECK(sign_okx_ws("secret", "1538054050", want, sizeof(want)) > 0);
	CHECK(strstr(out, "\"timestamp\":\"1538054050\"") != NULL);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "\"passphrase\":\"pass\"") != NULL);
	/* Binance: the listenKey is the login */
	CHECK(us_login_message(LX_BINANCE, &by, 0, "", out, sizeof(out)) == 0);
	CHECK(us_subscribe_message(LX_BYBIT, &by, 0, "", out, sizeof(out)) > 0);
	CHECK_STR(out, "{\"req_id\":\"zvt-sub\",\"op\":\"subscribe\",\"args\":[\"order\",\"execution\",\"wallet\"]}");
	CHECK(us_subscribe_message(LX_OKX, &okx, 0, "", out, sizeof(out)) > 0);
	CHECK_STR(out, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"orders\",\"instType\":\"SPOT\"},{\"channel\":\"account\"}]}");
	CHECK(us_subscribe_message(LX_COINBASE, &okx, 0, "", out, sizeof(out)) == 0);
	/* a key that would break the JSON is escaped, not spliced */
	{
		LiveCreds	q = {"a\"b", "s", NULL};

		CHECK(us_login_message(LX_BYBIT, &q, 0, "", out, sizeof(out)) > 0);
		CHECK(strstr(out, "a\\\"b") != NULL);
	}
	/* a buffer too small */
	CHECK(us_login_message(LX_BYBIT, &by, 0, "", out, 20) == -1);
}

static void
test_order_id(void)
{
	char		cid[40];
	uint64_t	sys = 0x1234567890abcdefULL;

	CHECK(live_client_order_id(sys, 42, cid, sizeof(cid)) > 0);
	CHECK(us_order_id(cid, sys) == 42);
	CHECK(us_order_id(cid, sys + 1) == -1);	/* another database's */
	CHECK(us_order_id("zvt", sys) == -1);
	CHECK(us_order_id("mUvoqJxFIILMdfAW5iGSOW", sys) == -1);
	cid[strlen(cid) - 1] = 'x';
	CHECK(us_order_id(cid, sys) == -1);
	CHECK(us_order_id(NULL, sys) == -1);
}

static void
test_garbage(void)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "{\"e\":\"executionReport\"}", "{\"topic\":\"order\",\"data\":{}}",
		"{\"arg\":{\"channel\":\"orders\"},\"data\":[1,2,{}]}", "{\"channel\":\"user\",\"events\":[{\"orders\":[null]}]}",
		"{\"e\":\"outboundAccountPosition\",\"B\":[{\"f\":1}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int x = 0; x < 4; x++)
			CHECK(us_parse((LiveExchange) x, bad[i], strlen(bad[i]), ev, US_MAX_EVENTS) <= US_MAX_EVENTS);
	/* max bounds the events */
	CHECK(us_parse(LX_BINANCE, fixture_line("binance_user_stream.jsonl", 4), strlen(fixture_line("binance_user_stream.jsonl", 4)), ev, 1) == 1);
}

int
main(int argc, char **argv)
{
	fixtures = argc > 1 ? argv[1] : "test/fixtures/exchanges";
	test_binance();
	test_bybit();
	test_okx();
	test_coinbase();
	test_messages();
	test_order_id();
	test_garbage();
	return unit_summary("live_userstream");
}
