/*
 * test/unit/test_feed_funding.c
 *	  Perpetuals in the adapters: Binance USD-M futures frames (markPrice,
 *	  aggTrade, bookTicker, depth with pu, kline) on the futures endpoint,
 *	  Bybit linear tickers, OKX funding-rate and mark-price, each fixture
 *	  line to the normalized values written here by hand; the funding
 *	  channel's stream names; malformed variants rejected with a reason.
 *
 *	  usage: test_feed_funding.bin FIXTURES_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/feed_event.h"
#include "feed/feed_subscribe.h"
#include "unit_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fixtures = "test/fixtures/exchanges";
static FeedEvent ev[64];
static FeedFrame fr;

/* Line `lineno` (1-based) of a fixture file, malloc'd, or NULL. */
static char *
fixture_line(const char *file, int lineno)
{
	char		path[1024];
	char	   *line = NULL;
	size_t		cap = 0;
	FILE	   *f;
	int			i = 0;

	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0)
		if (++i == lineno)
		{
			fclose(f);
			line[strcspn(line, "\n")] = '\0';
			return line;
		}
	fclose(f);
	free(line);
	return NULL;
}

static int
parse_fixture(FeedParser parser, const char *file, int lineno, const FeedContext *ctx)
{
	char	   *line = fixture_line(file, lineno);
	int			n;

	if (!line)
	{
		CHECK(!"fixture line missing");
		return -1;
	}
	memset(&fr, 0, sizeof(fr));
	n = parser(line, strlen(line), ctx, ev, 64, &fr);
	free(line);
	return n;
}

static int
parse_text(FeedParser parser, const char *text, const FeedContext *ctx)
{
	memset(&fr, 0, sizeof(fr));
	return parser(text, strlen(text), ctx, ev, 64, &fr);
}

#define NEAR(a, b) (fabs((a) - (double) (b)) <= 1e-12 * fmax(1.0, fabs((double) (b))))

static void
test_binance_futures(void)
{
	FeedContext fut = {true, NULL, NULL};
	FeedContext spot = {false, NULL, NULL};
	int			n;

	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 1, &fut);
	CHECK(n == 1 && ev[0].kind == FEED_FUNDING);
	CHECK(strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(ev[0].ts == INT64_C(1562305380000) * 1000);
	CHECK(NEAR(ev[0].mark_price, 11794.15) && NEAR(ev[0].index_price, 11784.62659091));
	CHECK(NEAR(ev[0].funding_rate, 0.00038167));
	CHECK(ev[0].funding_ts == INT64_C(1562306400000) * 1000);
	CHECK(isnan(ev[0].open_interest));	/* Binance streams none */

	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 2, &fut);
	CHECK(n == 1 && ev[0].kind == FEED_TRADE && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(strcmp(ev[0].trade_id, "5933014") == 0 && ev[0].ts == INT64_C(123456785) * 1000);
	CHECK(NEAR(ev[0].price, 0.001) && NEAR(ev[0].qty, 100) && !ev[0].taker_buy);
	/* spot's aggTrade is not stored (spot stores @trade) */
	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 2, &spot);
	CHECK(n == 0 && fr.kind == FEED_FRAME_IGNORED);

	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 3, &fut);
	CHECK(n == 1 && ev[0].kind == FEED_QUOTE && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(ev[0].seq == 400900217 && NEAR(ev[0].bid, 25.3519) && NEAR(ev[0].ask_qty, 40.66));

	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 4, &fut);
	CHECK(n == 3 && ev[0].kind == FEED_BOOK && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(ev[0].seq == 160 && ev[0].book_first == 157 && ev[0].book_prev == 149);	/* U, pu */

	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 5, &fut);
	CHECK(n == 1 && ev[0].kind == FEED_CANDLE && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(ev[0].interval_s == 60 && !ev[0].closed && NEAR(ev[0].high, 0.0025));

	/* a delivery contract's mark: not a perpetual, not stored */
	n = parse_fixture(binance_parse, "binance_futures_stream.jsonl", 6, &fut);
	CHECK(n == 0 && fr.kind == FEED_FRAME_IGNORED);

	/* malformed marks */
	n = parse_text(binance_parse, "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"p\":\"x\",\"r\":\"0.1\",\"T\":5}", &fut);
	CHECK(n == 0 && fr.kind == FEED_FRAME_MALFORMED && strstr(fr.reason, "\"p\""));
	n = parse_text(binance_parse, "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"p\":\"1\",\"r\":\"0.1\",\"T\":0}", &fut);
	CHECK(n == 0 && fr.kind == FEED_FRAME_MALFORMED && strstr(fr.reason, "\"T\""));
	n = parse_text(binance_parse, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":5,\"u\":6,\"pu\":6,\"b\":[],\"a\":[]}", &fut);
	CHECK(n == 0 && fr.kind == FEED_FRAME_MALFORMED);
}

static void
test_bybit_tickers(void)
{
	FeedContext linear = {true, NULL, NULL};
	FeedContext spot = {false, NULL, NULL};
	int			n;

	/* a linear snapshot: every field */
	n = parse_fixture(bybit_parse, "bybit_ticker.jsonl", 4, &linear);
	CHECK(n == 1 && ev[0].kind == FEED_FUNDING && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(NEAR(ev[0].mark_price, 61875.25) && NEAR(ev[0].index_price, 61903.73));
	CHECK(NEAR(ev[0].funding_rate, 0.00008055) && ev[0].funding_ts == INT64_C(1715760000000) * 1000);
	CHECK(NEAR(ev[0].open_interest, 58117.022));
	/* a delta: the fields it has, the rest NaN for the ingest to fill */
	n = parse_fixture(bybit_parse, "bybit_ticker.jsonl", 5, &linear);
	CHECK(n == 1 && ev[0].kind == FEED_FUNDING);
	CHECK(NEAR(ev[0].mark_price, 61875.06) && isnan(ev[0].funding_rate) && ev[0].funding_ts == 0);
	CHECK(ev[0].ts == INT64_C(1715748763063) * 1000);
	/* a delta of the touch only: nothing */
	n = parse_fixture(bybit_parse, "bybit_ticker.jsonl", 7, &linear);
	CHECK(n == 0 && fr.kind == FEED_FRAME_IGNORED);
	/* spot tickers carry no funding */
	n = parse_fixture(bybit_parse, "bybit_ticker.jsonl", 1, &spot);
	CHECK(n == 0 && fr.kind == FEED_FRAME_IGNORED);
	n = parse_text(bybit_parse, "{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"ts\":1,\"data\":{\"fundingRate\":\"abc\"}}", &linear);
	CHECK(n == 0 && fr.kind == FEED_FRAME_MALFORMED && strstr(fr.reason, "fundingRate"));
}

static void
test_okx_funding(void)
{
	FeedContext ctx = {false, NULL, NULL};
	int			n;

	n = parse_fixture(okx_parse, "okx_funding.jsonl", 1, &ctx);
	CHECK(n == 1 && ev[0].kind == FEED_FUNDING && strcmp(ev[0].symbol, "BTC-USD-PERP") == 0);
	CHECK(NEAR(ev[0].funding_rate, 0.0001875391284828));
	CHECK(ev[0].funding_ts == INT64_C(1700726400000) * 1000 && isnan(ev[0].mark_price));
	n = parse_fixture(okx_parse, "okx_funding.jsonl", 2, &ctx);
	CHECK(n == 1 && ev[0].kind == FEED_FUNDING && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(NEAR(ev[0].mark_price, 42310.6) && isnan(ev[0].funding_rate));
	CHECK(ev[0].ts == INT64_C(1630049139746) * 1000);
	n = parse_text(okx_parse, "{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{\"markPx\":\"-1\",\"ts\":\"1\"}]}", &ctx);
	CHECK(n == 0 && fr.kind == FEED_FRAME_MALFORMED);
}

/* The funding channel's streams: perpetuals only, each exchange's name. */
static void
test_topics(void)
{
	char		t[FEED_TOPIC_LEN];
	int			ep = -1;

	CHECK(binance_spec.topic("BTC-USDT-PERP", "funding", &ep, t, sizeof(t)) &&
		  ep == 1 && strcmp(t, "btcusdt@markPrice@1s") == 0);
	CHECK(binance_spec.futures[1] && !binance_spec.futures[0] && binance_spec.linear[1]);
	CHECK(binance_spec.topic("BTC-USDT-PERP", "trades", &ep, t, sizeof(t)) &&
		  ep == 1 && strcmp(t, "btcusdt@aggTrade") == 0);
	CHECK(binance_spec.topic("BTC-USDT-PERP", "candles_1m", &ep, t, sizeof(t)) &&
		  ep == 1 && strcmp(t, "btcusdt@kline_1m") == 0);
	CHECK(binance_spec.topic("BTC-USDT", "trades", &ep, t, sizeof(t)) &&
		  ep == 0 && strcmp(t, "btcusdt@trade") == 0);
	CHECK(!binance_spec.topic("BTC-USDT", "funding", &ep, t, sizeof(t)));
	CHECK(bybit_spec.topic("BTC-USDT-PERP", "funding", &ep, t, sizeof(t)) &&
		  ep == 1 && strcmp(t, "tickers.BTCUSDT") == 0);
	CHECK(!bybit_spec.topic("BTC-USDT", "funding", &ep, t, sizeof(t)));
	CHECK(okx_spec.topic("BTC-USDT-PERP", "funding", &ep, t, sizeof(t)) && ep == 0 &&
		  strcmp(t, "{\"channel\":\"funding-rate\",\"instId\":\"BTC-USDT-SWAP\"},"
				 "{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"}") == 0);
	CHECK(!okx_spec.topic("BTC-USDT", "funding", &ep, t, sizeof(t)));
	CHECK(!coinbase_spec.topic("BTC-USD", "funding", &ep, t, sizeof(t)));
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		fixtures = argv[1];
	test_binance_futures();
	test_bybit_tickers();
	test_okx_funding();
	test_topics();
	return unit_summary("test_feed_funding");
}
