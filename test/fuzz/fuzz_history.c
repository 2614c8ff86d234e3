/*
 * test/fuzz/fuzz_history.c
 *	  libFuzzer harness for the backfill's REST history pages
 *	  (src/feed/history_scan.c, json_scan.c, and history.c's jansson path).
 *
 * The first byte picks the exchange and kind of page (the eight that
 * history_url asks for) and whether the OKX symbol is a swap, the second
 * how many events fit; the rest is the body, with its exact length (not
 * NUL-terminated, as libcurl gives it).  Oracle: a page the scanner reads
 * is read by jansson's path too, into the same page and the same events
 * (bit for bit: decimals exactly as strtod reads them); history_parse
 * answers as jansson does; events' strings are terminated.
 */
#include "feed/history.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static FeedEvent a[1000],
			b[1000];

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct
	{
		const char *exchange;
		HistoryKind kind;
	}			kinds[] = {
		{"binance", HISTORY_TRADES_BY_ID}, {"binance", HISTORY_CANDLES},
		{"bybit", HISTORY_RECENT_TRADES}, {"bybit", HISTORY_CANDLES},
		{"okx", HISTORY_TRADES_BEFORE}, {"okx", HISTORY_CANDLES},
		{"coinbase", HISTORY_TRADES_BEFORE}, {"coinbase", HISTORY_CANDLES},
	};
	HistoryRequest r = {0};
	HistoryPage pa,
				pb,
				pc;
	char		why[256],
				why2[256];
	char	   *body;
	size_t		len;
	int			max;
	bool		scanned,
				json;

	if (size < 2)
		return 0;
	r.exchange = kinds[data[0] % 8].exchange;
	r.kind = kinds[data[0] % 8].kind;
	r.base = "http://127.0.0.1:1";
	r.symbol = (data[0] & 16) ? "BTC-USDT-PERP" : "BTC-USDT";
	r.raw_symbol = (data[0] & 8) ? "BTC-USDT-SWAP" : "BTCUSDT";
	r.contract_size = (data[0] & 32) ? 0.01 : 0;
	r.interval_s = 60;
	r.from_ms = (data[0] & 64) ? 1600000000000 : 0;
	r.to_ms = 1700000000000;
	r.before_id = -1;
	max = 1 + data[1] * 4;
	len = size - 2;
	body = malloc(len ? len : 1);
	memcpy(body, data + 2, len);

	scanned = history_scan(&r, body, len, a, max, &pa);
	json = history_parse_json(&r, body, len, b, max, &pb, why, sizeof(why));
	if (scanned && (!json || memcmp(&pa, &pb, sizeof(pa)) != 0 ||
					memcmp(a, b, sizeof(FeedEvent) * pa.n) != 0))
		abort();
	if (history_parse(&r, body, len, a, max, &pc, why2, sizeof(why2)) != json ||
		(!json && strcmp(why, why2) != 0))
		abort();
	for (int i = 0; json && i < pb.n; i++)
		if (!memchr(b[i].trade_id, '\0', sizeof(b[i].trade_id)) ||
			!memchr(b[i].symbol, '\0', sizeof(b[i].symbol)))
			abort();
	free(body);
	return 0;
}
