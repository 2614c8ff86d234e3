/*
 * test/unit/test_instruments.c
 *	  The instrument-list parsers (src/feed/instruments.c) against the real
 *	  samples in test/fixtures/exchanges, and exact decimal products.
 *
 *	  usage: test_instruments.bin FIXTURES_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/exchanges.h"
#include "feed/instruments.h"
#include "unit_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fixtures = "test/fixtures/exchanges";
static FeedInstrument got[16];
static int	ngot;

static void
sink(void *arg, const FeedInstrument *ins)
{
	(void) arg;
	if (ngot < 16)
		got[ngot++] = *ins;
}

static int
parse_line(const char *exchange, const char *file, int lineno, char *reason)
{
	char		path[1024];
	char	   *line = NULL;
	size_t		cap = 0;
	FILE	   *f;
	int			i = 0,
				n = -2;

	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	if (!(f = fopen(path, "r")))
		return -2;
	while (getline(&line, &cap, f) > 0)
		if (++i == lineno)
		{
			ngot = 0;
			n = instruments_parse(exchange, line, strlen(line), sink, NULL, reason, 256);
			break;
		}
	fclose(f);
	free(line);
	return n;
}

int
main(int argc, char **argv)
{
	char		reason[256];
	char		buf[64];

	if (argc > 1)
		fixtures = argv[1];

	/* Binance: the real 2021 response, first symbol ETHBTC */
	CHECK(parse_line("binance", "binance_rest_exchangeinfo.jsonl", 2, reason) == 1);
	CHECK_STR(got[0].symbol, "ETH-BTC");
	CHECK_STR(got[0].raw_symbol, "ETHBTC");
	CHECK_STR(got[0].tick_size, "0.00000100");
	CHECK_STR(got[0].lot_size, "0.00010000");
	CHECK_STR(got[0].min_notional, "0.00010000");
	CHECK_STR(got[0].status, "trading");
	CHECK(!got[0].perp && got[0].contract_size[0] == '\0');

	/* Binance USD-M futures: the perpetual only, not the quarterly */
	CHECK(parse_line("binance", "binance_futures_rest_exchangeinfo.jsonl", 1, reason) == 1);
	CHECK_STR(got[0].symbol, "BLZ-USDT-PERP");
	CHECK_STR(got[0].raw_symbol, "BLZUSDT");
	CHECK_STR(got[0].tick_size, "0.0001");
	CHECK_STR(got[0].lot_size, "1");
	CHECK_STR(got[0].min_notional, "5.0");
	CHECK(got[0].perp);

	/* Bybit spot and linear */
	CHECK(parse_line("bybit", "bybit_rest_instruments.jsonl", 1, reason) == 1);
	CHECK_STR(got[0].symbol, "BTC-USDT");
	CHECK_STR(got[0].tick_size, "0.1");
	CHECK_STR(got[0].lot_size, "0.000001");
	CHECK_STR(got[0].min_notional, "5");
	CHECK(parse_line("bybit", "bybit_rest_instruments.jsonl", 2, reason) == 1);
	CHECK_STR(got[0].symbol, "BTC-USDT-PERP");
	CHECK_STR(got[0].raw_symbol, "BTCUSDT");
	CHECK(got[0].perp);
	CHECK_STR(got[0].tick_size, "0.10");
	CHECK_STR(got[0].lot_size, "0.001");
	CHECK_STR(got[0].contract_size, "1");

	/* OKX: the real 2022 response with two spot instruments */
	CHECK(parse_line("okx", "okx_rest_instruments.jsonl", 2, reason) == 2);
	CHECK_STR(got[0].symbol, "BTC-USDT");
	CHECK_STR(got[1].symbol, "ETH-USDT");
	CHECK_STR(got[1].tick_size, "0.01");
	CHECK_STR(got[1].lot_size, "0.000001");
	CHECK_STR(got[0].status, "trading");

	/* an OKX linear swap: lot = lotSz contracts x ctVal base units */
	{
		const char *swap = "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instId\":\"BTC-USDT-SWAP\",\"instType\":\"SWAP\","
			"\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"settleCcy\":\"USDT\",\"lotSz\":\"0.1\",\"tickSz\":\"0.1\",\"state\":\"live\"},"
			"{\"instId\":\"BTC-USD-SWAP\",\"instType\":\"SWAP\",\"ctType\":\"inverse\",\"ctVal\":\"100\",\"settleCcy\":\"BTC\","
			"\"lotSz\":\"1\",\"tickSz\":\"0.1\",\"state\":\"live\"}]}";

		ngot = 0;
		CHECK(instruments_parse("okx", swap, strlen(swap), sink, NULL, reason, sizeof(reason)) == 1);
		CHECK_STR(got[0].symbol, "BTC-USDT-PERP");
		CHECK_STR(got[0].lot_size, "0.001");
		CHECK_STR(got[0].contract_size, "0.01");
	}

	/* error replies and garbage */
	{
		const char *e1 = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
		const char *e2 = "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{}}";
		const char *e3 = "<html>";

		CHECK(instruments_parse("binance", e1, strlen(e1), sink, NULL, reason, sizeof(reason)) == -1);
		CHECK_STR(reason, "Invalid symbol.");
		CHECK(instruments_parse("bybit", e2, strlen(e2), sink, NULL, reason, sizeof(reason)) == -1);
		CHECK_STR(reason, "Too many visits!");
		CHECK(instruments_parse("okx", e3, strlen(e3), sink, NULL, reason, sizeof(reason)) == -1);
		/* the registry: every exchange has its lists; others are unknown */
		CHECK(feed_exchange_index("kraken") == -1 && feed_exchange_index(NULL) == -1);
		for (int i = 0; i < FEED_EXCHANGES; i++)
			CHECK(feed_exchange_index(feed_exchanges[i].name) == i &&
				  feed_exchanges[i].instrument_paths[0] != NULL &&
				  strcmp(feed_exchanges[i].spec->exchange, feed_exchanges[i].name) == 0);
	}

	/* Bybit's linear list pages with result.nextPageCursor, percent-encoded */
	{
		char		cur[64];
		const char *last = "{\"retCode\":0,\"result\":{\"category\":\"linear\",\"list\":[],\"nextPageCursor\":\"\"}}";
		const char *more = "{\"retCode\":0,\"result\":{\"category\":\"linear\",\"list\":[],"
			"\"nextPageCursor\":\"first%3D10000%26last%3D1000SATSUSDT\"}}";
		const char *bad = "{\"retCode\":0,\"result\":{\"nextPageCursor\":\"a&symbol=X\"}}";
		const char *long_cur = "{\"retCode\":0,\"result\":{\"nextPageCursor\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}";

		CHECK(instruments_next_page("bybit", last, strlen(last), cur, sizeof(cur), reason, sizeof(reason)) == 0);
		CHECK(instruments_next_page("bybit", more, strlen(more), cur, sizeof(cur), reason, sizeof(reason)) == 1);
		CHECK_STR(cur, "first%3D10000%26last%3D1000SATSUSDT");
		CHECK(instruments_next_page("bybit", bad, strlen(bad), cur, sizeof(cur), reason, sizeof(reason)) == -1);
		CHECK(instruments_next_page("bybit", long_cur, strlen(long_cur), cur, sizeof(cur), reason, sizeof(reason)) == -1);
		CHECK(instruments_next_page("bybit", "not json", 8, cur, sizeof(cur), reason, sizeof(reason)) == 0);
		CHECK(instruments_next_page("binance", more, strlen(more), cur, sizeof(cur), reason, sizeof(reason)) == 0);
	}
	CHECK(dec_mul("0.1", "0.01", buf, sizeof(buf)));
	CHECK_STR(buf, "0.001");
	CHECK(dec_mul("12.50", "4", buf, sizeof(buf)));
	CHECK_STR(buf, "50");
	CHECK(dec_mul("0", "0.01", buf, sizeof(buf)));
	CHECK_STR(buf, "0");
	CHECK(!dec_mul("1e3", "1", buf, sizeof(buf)));
	CHECK(!dec_mul("-1", "1", buf, sizeof(buf)));
	return unit_summary("test_instruments");
}
