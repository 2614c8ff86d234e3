/*
 * test/unit/test_history.c
 *	  Unit tests of src/feed/history.c: history page URLs of the four
 *	  exchanges, pages parsed into events (trade pages of Bybit, OKX and
 *	  Coinbase from test/fixtures/exchanges), and what a malformed page says.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/history.h"
#include "unit_test.h"

static HistoryRequest
req(HistoryKind kind)
{
	HistoryRequest r = {0};

	r.kind = kind;
	r.exchange = "binance";
	r.base = "http://127.0.0.1:1";
	r.raw_symbol = "BTCUSDT";
	r.symbol = "BTC-USDT";
	r.interval_s = 60;
	r.from_ms = 60000;
	r.to_ms = 240000;
	r.from_id = 42;
	return r;
}

static void
test_urls(void)
{
	char		url[512],
				why[256];
	HistoryRequest r = req(HISTORY_CANDLES);

	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=60000&endTime=239999&limit=1000");
	r = req(HISTORY_FIRST_ID);
	r.to_ms = 60000 + 7200000;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	/* Binance allows an hour between startTime and endTime */
	CHECK_STR(url, "http://127.0.0.1:1/api/v3/aggTrades?symbol=BTCUSDT&startTime=60000&endTime=3659999&limit=1");
	r = req(HISTORY_TRADES_BY_ID);
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v3/historicalTrades?symbol=BTCUSDT&fromId=42&limit=1000");
	r = req(HISTORY_CANDLES);
	r.interval_s = 7;
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK(strstr(why, "7-second") != NULL);
	r = req(HISTORY_TRADES_BY_ID);
	r.exchange = "okx";
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK(strstr(why, "does not page trades that way") != NULL);
	/* Binance perpetuals: fapi, aggregate ids (the stream's trade id), klines 1500 a page */
	r = req(HISTORY_TRADES_BY_ID);
	r.symbol = "BTC-USDT-PERP";
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=42&limit=1000");
	r = req(HISTORY_FIRST_ID);
	r.symbol = "BTC-USDT-PERP";
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=60000&endTime=239999&limit=1");
	r = req(HISTORY_CANDLES);
	r.symbol = "BTC-USDT-PERP";
	r.to_ms = 1000000000;
	CHECK(history_window_end(&r) == 60000 + 1500 * 60000);
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=60000&endTime=90059999&limit=1500");
	/* the weight budgets: spot 6000, fapi 2400, each stopped a tenth short */
	CHECK(history_weight_stop("binance", "BTC-USDT") == 5400);
	CHECK(history_weight_stop("binance", "BTC-USDT-PERP") == 2160);
	CHECK(history_weight_stop("okx", "BTC-USDT-PERP") == 0);
	/* candles elsewhere: one page's window of bars */
	r = req(HISTORY_CANDLES);
	r.exchange = "bybit";
	r.symbol = "BTC-USDT-PERP";
	r.to_ms = 1000000000;
	CHECK(history_window_end(&r) == 60000 + 1000 * 60000);
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&start=60000&end=60059999&limit=1000");
	r.exchange = "okx";
	r.raw_symbol = "BTC-USDT-SWAP";
	r.interval_s = 3600;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v5/market/history-candles?instId=BTC-USDT-SWAP&bar=1H&after=360060000&before=59999&limit=100");
	r.exchange = "coinbase";
	r.raw_symbol = "BTC-USD";
	r.interval_s = 300;
	r.to_ms = 360000;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v3/brokerage/market/products/BTC-USD/candles?start=60&end=359&granularity=FIVE_MINUTE&limit=350");
	r.interval_s = 14400;
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	r = req(HISTORY_CANDLES);
	r.exchange = "kraken";
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK(strstr(why, "not served") != NULL);
	r = req(HISTORY_CANDLES);
	CHECK(!history_url(&r, url, 20, why, sizeof(why)));
}

static void
test_klines(void)
{
	/* the bar at 240000 ends after to_ms: not history yet */
	const char *body = "[[60000,\"1.0\",\"2.0\",\"0.5\",\"1.5\",\"10\",119999,\"15.5\",7,\"5\",\"7\",\"0\"],"
		"[120000,\"1.5\",\"1.5\",\"1.5\",\"1.5\",\"0\",179999,\"0\",0,\"0\",\"0\",\"0\"],"
		"[240000,\"1.5\",\"1.6\",\"1.5\",\"1.6\",\"1\",299999,\"1.6\",1,\"0\",\"0\",\"0\"]]";
	HistoryRequest r = req(HISTORY_CANDLES);
	FeedEvent	ev[4];
	HistoryPage page;
	char		why[256];

	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.rows == 3 && !page.full && page.last_ms == 240000);
	CHECK(ev[0].kind == FEED_CANDLE && ev[0].ts == 60000000 && ev[0].closed);
	CHECK(ev[0].open == 1.0 && ev[0].high == 2.0 && ev[0].low == 0.5 && ev[0].close == 1.5);
	CHECK(ev[0].volume == 10 && ev[0].quote_volume == 15.5 && ev[0].trade_count == 7);
	CHECK(ev[0].interval_s == 60);
	CHECK_STR(ev[0].symbol, "BTC-USDT");
	CHECK(ev[1].trade_count == 0);
	/* low above high, a row that is not an array, not JSON */
	body = "[[60000,\"1.0\",\"0.5\",\"2.0\",\"1.5\",\"10\",119999,\"15.5\",7]]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "row 0") != NULL);
	body = "[{}]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	body = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "not a list of rows") != NULL);
	body = "[[60000,";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
}

static void
test_other_candles(void)
{
	HistoryRequest r = req(HISTORY_CANDLES);
	FeedEvent	ev[4];
	HistoryPage page;
	char		why[256];
	const char *body;

	/* newest first on Bybit, OKX and Coinbase: events come oldest first */
	r.exchange = "bybit";
	body = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":["
		"[\"120000\",\"2\",\"3\",\"1\",\"2.5\",\"4\",\"9\"],"
		"[\"60000\",\"1\",\"2\",\"1\",\"2\",\"3\",\"5\"]]}}";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && ev[0].ts == 60000000 && ev[1].ts == 120000000);
	CHECK(ev[1].volume == 4 && ev[1].quote_volume == 9 && ev[1].trade_count == -1 && ev[1].closed);
	body = "{\"retCode\":10001,\"retMsg\":\"params error\",\"result\":{}}";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "params error") != NULL);

	r.exchange = "okx";
	r.raw_symbol = "BTC-USDT-SWAP";
	body = "{\"code\":\"0\",\"msg\":\"\",\"data\":[[\"60000\",\"1\",\"2\",\"1\",\"2\",\"300\",\"3\",\"5\",\"1\"]]}";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 1 && ev[0].volume == 3 && ev[0].quote_volume == 5);
	r.raw_symbol = "BTC-USDT";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 1 && ev[0].volume == 300);
	body = "{\"code\":\"51001\",\"msg\":\"Instrument ID doesn't exist.\",\"data\":[]}";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));

	r.exchange = "coinbase";
	body = "{\"candles\":[{\"start\":\"120\",\"low\":\"1\",\"high\":\"2\",\"open\":\"1\",\"close\":\"2\",\"volume\":\"7\"},"
		"{\"start\":\"60\",\"low\":\"1\",\"high\":\"1\",\"open\":\"1\",\"close\":\"1\",\"volume\":\"0\"}]}";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && ev[0].ts == 60000000 && ev[1].volume == 7 && page.last_ms == 120000);
}

static void
test_trades(void)
{
	const char *body = "[{\"id\":42,\"price\":\"60000.10\",\"qty\":\"0.5\",\"quoteQty\":\"30000.05\",\"time\":1000,"
		"\"isBuyerMaker\":true,\"isBestMatch\":true},"
		"{\"id\":43,\"price\":\"60000.20\",\"qty\":\"0.25\",\"quoteQty\":\"1\",\"time\":1001,"
		"\"isBuyerMaker\":false,\"isBestMatch\":true}]";
	HistoryRequest r = req(HISTORY_TRADES_BY_ID);
	FeedEvent	ev[4];
	HistoryPage page;
	char		why[256];

	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.last_id == 43 && page.last_ms == 1001 && !page.full);
	CHECK(ev[0].kind == FEED_TRADE && ev[0].ts == 1000000 && !ev[0].taker_buy && ev[1].taker_buy);
	CHECK_STR(ev[0].trade_id, "42");
	CHECK(ev[0].price == 60000.10 && ev[0].qty == 0.5);
	/* a zero size is not a trade */
	body = "[{\"id\":42,\"price\":\"1\",\"qty\":\"0\",\"time\":1000,\"isBuyerMaker\":true}]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	/* the first id of an aggTrades page, or none */
	r = req(HISTORY_FIRST_ID);
	body = "[{\"a\":7,\"p\":\"1\",\"q\":\"1\",\"f\":1234,\"l\":1236,\"T\":5,\"m\":true,\"M\":true}]";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.first_id == 1234 && page.n == 0 && page.full);
	CHECK(history_parse(&r, "[]", 2, ev, 4, &page, why, sizeof(why)));
	CHECK(page.first_id == -1 && !page.full);
}

static const char *fixtures = "test/fixtures/exchanges";

/* Line n (from 1) of a fixture file into buf. */
static const char *
fixture_line(const char *file, int n, char *buf, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	f = fopen(path, "r");
	buf[0] = '\0';
	if (!f)
	{
		CHECK(f != NULL);
		return buf;
	}
	for (int i = 0; i < n && fgets(buf, (int) len, f); i++)
		;
	fclose(f);
	return buf;
}

static void
test_trade_urls(void)
{
	char		url[512],
				why[256];
	HistoryRequest r = req(HISTORY_TRADES_BEFORE);
	bool		ordered;

	CHECK(history_trades_kind("binance", &ordered) == HISTORY_FIRST_ID && ordered);
	CHECK(history_trades_kind("okx", &ordered) == HISTORY_TRADES_BEFORE && ordered);
	CHECK(history_trades_kind("coinbase", &ordered) == HISTORY_TRADES_BEFORE && ordered);
	CHECK(history_trades_kind("bybit", &ordered) == HISTORY_RECENT_TRADES && !ordered);
	/* OKX: older than a time first, then older than the oldest id */
	r.exchange = "okx";
	r.raw_symbol = "BTC-USDT";
	r.before_id = -1;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v5/market/history-trades?instId=BTC-USDT&type=2&after=240000&limit=100");
	r.before_id = 242720720;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=242720720&limit=100");
	/* Coinbase: the Exchange API, on its own host for the real exchange */
	r.exchange = "coinbase";
	r.raw_symbol = "BTC-USD";
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/products/BTC-USD/trades?limit=1000&after=242720720");
	r.base = "https://api.coinbase.com:443";
	r.before_id = -1;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "https://api.exchange.coinbase.com/products/BTC-USD/trades?limit=1000");
	/* Bybit: the latest 60 on spot, 1000 on linear */
	r = req(HISTORY_RECENT_TRADES);
	r.exchange = "bybit";
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/v5/market/recent-trade?category=spot&symbol=BTCUSDT&limit=60");
	r.symbol = "BTC-USDT-PERP";
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=1000");
	CHECK(history_trade_page_rows("bybit", "BTC-USDT") == 60 && history_trade_page_rows("okx", NULL) == 100);
	/* the kinds an exchange does not page by */
	r.kind = HISTORY_TRADES_BEFORE;
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	r = req(HISTORY_RECENT_TRADES);
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
}

static void
test_other_trades(void)
{
	char		line[4096],
				why[256];
	HistoryRequest r = req(HISTORY_RECENT_TRADES);
	FeedEvent	ev[4];
	HistoryPage page;
	const char *body;

	/* Bybit: newest first, taker side, spot ids numbers, linear UUIDs */
	r.exchange = "bybit";
	body = fixture_line("bybit_rest_recent_trade.reconstructed.jsonl", 1, line, sizeof(line));
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.rows == 2 && !page.full);
	CHECK_STR(ev[0].trade_id, "2100000000007764263");
	CHECK(ev[0].ts == INT64_C(1672052955758000) && ev[0].taker_buy && ev[0].price == 16618.49 && ev[0].qty == 0.00012);
	CHECK(!ev[1].taker_buy && ev[1].qty == 0.0015);
	CHECK(page.oldest_ms == INT64_C(1672052955758) && page.oldest_id == INT64_C(2100000000007764263));
	CHECK(page.last_ms == INT64_C(1672052955760));
	r.symbol = "BTC-USDT-PERP";
	body = fixture_line("bybit_rest_recent_trade.reconstructed.jsonl", 2, line, sizeof(line));
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 1 && page.oldest_id == -1);
	CHECK_STR(ev[0].trade_id, "20f43950-d8dd-5b31-9112-a178eb6023af");
	body = fixture_line("bybit_rest_recent_trade.reconstructed.jsonl", 3, line, sizeof(line));
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "symbol invalid") != NULL);

	/* OKX: newest first; swap sizes are contracts */
	r = req(HISTORY_TRADES_BEFORE);
	r.exchange = "okx";
	r.raw_symbol = "BTC-USDT";
	body = fixture_line("okx_rest_history_trades.reconstructed.jsonl", 1, line, sizeof(line));
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.oldest_id == 242720720 && page.last_id == 242720721);
	CHECK(ev[0].taker_buy && !ev[1].taker_buy && ev[0].qty == 0.0002 && ev[1].price == 29963.2);
	r.raw_symbol = "BTC-USDT-SWAP";
	r.symbol = "BTC-USDT-PERP";
	body = fixture_line("okx_rest_history_trades.reconstructed.jsonl", 2, line, sizeof(line));
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));	/* no contract size */
	r.contract_size = 0.01;
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 1 && ev[0].qty > 0.0299999 && ev[0].qty < 0.0300001);
	body = fixture_line("okx_rest_history_trades.reconstructed.jsonl", 3, line, sizeof(line));
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "doesn't exist") != NULL);
	/* oldest first after reversal, or the page is not what OKX sends */
	body = "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT\",\"side\":\"buy\",\"sz\":\"1\",\"px\":\"1\","
		"\"tradeId\":\"1\",\"ts\":\"1\"},{\"instId\":\"BTC-USDT\",\"side\":\"buy\",\"sz\":\"1\",\"px\":\"1\",\"tradeId\":\"2\",\"ts\":\"2\"}]}";
	r.raw_symbol = "BTC-USDT";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));

	/* Coinbase's Exchange API: a bare array, the maker's side, RFC 3339 */
	r = req(HISTORY_TRADES_BEFORE);
	r.exchange = "coinbase";
	r.raw_symbol = "BTC-USD";
	body = fixture_line("coinbase_rest_trades.reconstructed.jsonl", 1, line, sizeof(line));
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.oldest_id == 74 && page.last_id == 75);
	CHECK_STR(ev[0].trade_id, "74");
	CHECK(ev[0].ts == INT64_C(1415398768200000) && !ev[0].taker_buy && ev[1].taker_buy);
	CHECK(ev[1].ts == INT64_C(1415398768578544) && page.last_ms == INT64_C(1415398768578));
	body = fixture_line("coinbase_rest_trades.reconstructed.jsonl", 2, line, sizeof(line));
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(strstr(why, "NotFound") != NULL);
}

/* Binance perpetual trades: aggTrades rows, the id is "a" */
static void
test_perp_trades(void)
{
	HistoryRequest r = req(HISTORY_TRADES_BY_ID);
	HistoryPage page;
	FeedEvent	ev[4];
	char		why[256];
	const char *body = "[{\"a\":26129,\"p\":\"0.01633102\",\"q\":\"4.70443515\",\"f\":27781,\"l\":27781,"
		"\"T\":1498793709153,\"m\":true},{\"a\":26130,\"p\":\"0.01633103\",\"q\":\"1\",\"f\":27782,"
		"\"l\":27783,\"T\":1498793709160,\"m\":false}]";

	r.symbol = "BTC-USDT-PERP";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && page.last_id == 26130 && page.last_ms == INT64_C(1498793709160) && !page.full);
	CHECK_STR(ev[0].trade_id, "26129");
	CHECK(strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0 && !ev[0].taker_buy && ev[1].taker_buy);
	CHECK(fabs(ev[0].qty - 4.70443515) < 1e-12 && ev[0].ts == INT64_C(1498793709153000));
	/* a spot historicalTrades row is not an aggregate */
	body = "[{\"id\":1,\"price\":\"1\",\"qty\":\"1\",\"time\":1,\"isBuyerMaker\":true}]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	/* the first id at a time: the aggregate's own id */
	r = req(HISTORY_FIRST_ID);
	r.symbol = "BTC-USDT-PERP";
	body = "[{\"a\":500,\"p\":\"1\",\"q\":\"1\",\"f\":9000,\"l\":9001,\"T\":1,\"m\":true}]";
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)) && page.first_id == 500);
}

/* Funding history of the three venues (history_funding.c). */
static void
test_funding(void)
{
	HistoryRequest r = req(HISTORY_FUNDING);
	HistoryPage page;
	FeedEvent	ev[4];
	char		url[512],
				why[256];
	const char *body;

	r.symbol = "BTC-USDT-PERP";
	r.from_ms = 1000;
	r.to_ms = 2000000000000;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	/* 1000 rows a page: a window of 1000 hours */
	CHECK_STR(url, "http://127.0.0.1:1/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=1000&endTime=3600000999&limit=1000");
	body = "[{\"symbol\":\"BTCUSDT\",\"fundingTime\":1698796800000,\"fundingRate\":\"0.00010000\","
		"\"markPrice\":\"34287.54619963\"},{\"symbol\":\"BTCUSDT\",\"fundingTime\":1698825600000,"
		"\"fundingRate\":\"-0.00003750\",\"markPrice\":\"\"}]";
	r.from_ms = 1698796800000;
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && ev[0].kind == FEED_FUNDING && strcmp(ev[0].symbol, "BTC-USDT-PERP") == 0);
	CHECK(ev[0].funding_ts == INT64_C(1698796800000000) && ev[0].ts == ev[0].funding_ts - 1000);
	CHECK(fabs(ev[0].funding_rate - 0.0001) < 1e-15 && fabs(ev[0].mark_price - 34287.54619963) < 1e-8);
	CHECK(isnan(ev[1].mark_price) && fabs(ev[1].funding_rate + 0.0000375) < 1e-15 && isnan(ev[1].index_price));
	/* not full: the next window starts where this one ends */
	CHECK(history_funding_next(&r, &page) == history_funding_window_end(&r));
	/* out of order, or a rate that is not a number: not Binance's page */
	body = "[{\"fundingTime\":1698825600000,\"fundingRate\":\"0.1\"},{\"fundingTime\":1698796800000,\"fundingRate\":\"0.1\"}]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	body = "[{\"fundingTime\":1698825600000,\"fundingRate\":\"x\"}]";
	CHECK(!history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));

	/* Bybit: newest first, 200 a page, no mark */
	r.exchange = "bybit";
	r.from_ms = 1000;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/v5/market/funding/history?category=linear&symbol=BTCUSDT&startTime=1000&endTime=720000999&limit=200");
	body = "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
		"{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0001\",\"fundingRateTimestamp\":\"28800000\"},"
		"{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"-0.0002\",\"fundingRateTimestamp\":\"0\"}]}}";
	r.from_ms = 0;
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 2 && ev[0].funding_ts == 0 && ev[1].funding_ts == INT64_C(28800000000) && isnan(ev[0].mark_price));
	CHECK(fabs(ev[0].funding_rate + 0.0002) < 1e-15);

	/* OKX: newest first, 100 a page; the realized rate where given */
	r.exchange = "okx";
	r.raw_symbol = "BTC-USDT-SWAP";
	r.from_ms = 1000;
	CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK_STR(url, "http://127.0.0.1:1/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP&before=999&after=360001000&limit=100");
	body = "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT-SWAP\",\"instType\":\"SWAP\","
		"\"fundingRate\":\"0.0002\",\"realizedRate\":\"0.00019\",\"fundingTime\":\"57600000\",\"method\":\"current_period\"}]}";
	r.from_ms = 0;
	CHECK(history_parse(&r, body, strlen(body), ev, 4, &page, why, sizeof(why)));
	CHECK(page.n == 1 && fabs(ev[0].funding_rate - 0.00019) < 1e-15 && ev[0].funding_ts == INT64_C(57600000000));

	/* Coinbase has no perpetuals */
	r.exchange = "coinbase";
	CHECK(!history_url(&r, url, sizeof(url), why, sizeof(why)));
	CHECK(strstr(why, "no funding history") != NULL);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		fixtures = argv[1];
	test_urls();
	test_klines();
	test_other_candles();
	test_trades();
	test_trade_urls();
	test_other_trades();
	test_perp_trades();
	test_funding();
	return unit_summary("test_history");
}
