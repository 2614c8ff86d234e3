/*-------------------------------------------------------------------------
 *
 * src/feed/history.c
 *	  Page URLs and page parsers of the exchanges' REST history.
 *
 * Candles on all four exchanges, one time window a page: the window holds
 * exactly as many bars as the exchange's page (Binance klines 1000, Bybit
 * kline 1000, OKX history-candles 100, Coinbase candles 300), so the page
 * is the same whether the exchange gives the oldest or the newest bars of
 * a wider range, and the next page starts at the window's end.  Trades on
 * Binance: aggTrades to find the first trade id at a time (startTime and
 * endTime at most an hour apart), then historicalTrades by id (1000 a
 * page; ids are contiguous, so a range of ids is exactly the trades in
 * it).  OKX history-trades and Coinbase's Exchange API trades page
 * backward, newest first, older than a trade id (OKX: 100 a page, the
 * first page older than a time; Coinbase: 1000, the first the newest of
 * all); Bybit's recent-trade has no cursor at all, only its latest 60
 * (spot) or 1000 (linear) trades, so anything older is a hole.
 * Binance's USD-M perpetuals (-PERP) are on fapi (futures_rest_url):
 * /fapi/v1/klines, 1500 a page, and /fapi/v1/aggTrades, whose aggregate
 * id is the trade id zvt stores for them (the stream's `a`): the first
 * id at a time with startTime and endTime (at most an hour apart), then
 * fromId 1000 a page (aggregate ids are contiguous too).  Funding history
 * is history_funding.c's.  Pure C: see history.h.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/history.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed/feed_json.h"
#include "feed/history_private.h"

#define BINANCE_PAGE 1000
#define BINANCE_PERP_KLINES 1500
#define OKX_TRADES_PAGE 100
#define COINBASE_TRADES_PAGE 1000
#define BYBIT_SPOT_TRADES 60
#define BYBIT_LINEAR_TRADES 1000
#define HOUR_MS INT64_C(3600000)

static const char *binance_interval(int32_t s);
static bool ends_with(const char *s, const char *tail);
static bool binance_perp(const HistoryRequest *r);


typedef enum HistoryExchange
{
	HX_BINANCE, HX_BYBIT, HX_OKX, HX_COINBASE, HX_OTHER
} HistoryExchange;

static HistoryExchange
exchange_of(const char *exchange)
{
	if (strcmp(exchange, "binance") == 0)
		return HX_BINANCE;
	if (strcmp(exchange, "bybit") == 0)
		return HX_BYBIT;
	if (strcmp(exchange, "okx") == 0)
		return HX_OKX;
	if (strcmp(exchange, "coinbase") == 0)
		return HX_COINBASE;
	return HX_OTHER;
}

HistoryKind
history_trades_kind(const char *exchange, bool *ids_ordered)
{
	switch (exchange_of(exchange))
	{
		case HX_OKX:
		case HX_COINBASE:
			*ids_ordered = true;
			return HISTORY_TRADES_BEFORE;
		case HX_BYBIT:
			/* spot ids are numbers, linear ones UUIDs */
			*ids_ordered = false;
			return HISTORY_RECENT_TRADES;
		default:
			*ids_ordered = true;
			return HISTORY_FIRST_ID;
	}
}

bool
history_supported(const char *exchange, HistoryKind kind, char *reason, size_t rlen)
{
	HistoryExchange x = exchange_of(exchange);
	bool		ordered;

	if (x == HX_OTHER)
	{
		snprintf(reason, rlen, "REST history of %s is not served by this version of zvt", exchange);
		return false;
	}
	if (kind == HISTORY_FUNDING)
	{
		if (history_funding_page_rows(exchange) > 0)
			return true;
		snprintf(reason, rlen, "%s has no perpetuals: no funding history", exchange);
		return false;
	}
	if (kind == HISTORY_CANDLES || kind == history_trades_kind(exchange, &ordered) ||
		(x == HX_BINANCE && kind == HISTORY_TRADES_BY_ID))
		return true;
	snprintf(reason, rlen, "%s's REST does not page trades that way", exchange);
	return false;
}

int
history_trade_page_rows(const char *exchange, const char *symbol)
{
	switch (exchange_of(exchange))
	{
		case HX_BINANCE: return BINANCE_PAGE;
		case HX_OKX: return OKX_TRADES_PAGE;
		case HX_COINBASE: return COINBASE_TRADES_PAGE;
		case HX_BYBIT:
			return symbol && ends_with(symbol, "-PERP") ? BYBIT_LINEAR_TRADES : BYBIT_SPOT_TRADES;
		default: return 0;
	}
}

int64_t
history_window_ms(const char *exchange)
{
	return exchange_of(exchange) == HX_BINANCE ? HOUR_MS : INT64_MAX;
}

int
history_page_rows(const char *exchange, HistoryKind kind)
{
	if (kind == HISTORY_FIRST_ID)
		return 1;
	if (kind != HISTORY_CANDLES)
		return history_trade_page_rows(exchange, NULL);
	switch (exchange_of(exchange))
	{
		case HX_BINANCE: return BINANCE_PAGE;
		case HX_BYBIT: return 1000;
		case HX_OKX: return 100;
		case HX_COINBASE: return 300;
		default: return 0;
	}
}

int
history_weight_stop(const char *exchange, const char *symbol)
{
	if (exchange_of(exchange) != HX_BINANCE)
		return 0;
	return symbol && ends_with(symbol, "-PERP") ? 2400 - 240 : 6000 - 600;
}

int64_t
history_window_end(const HistoryRequest *r)
{
	int			rows = binance_perp(r) ? BINANCE_PERP_KLINES : history_page_rows(r->exchange, HISTORY_CANDLES);
	int64_t		span = (int64_t) rows * r->interval_s * 1000;

	return r->to_ms - r->from_ms > span ? r->from_ms + span : r->to_ms;
}

bool
history_next(const HistoryRequest *r, const HistoryPage *page, HistoryRequest *next)
{
	*next = *r;
	if (r->kind == HISTORY_TRADES_BY_ID)
	{
		if (!page->full || page->last_id < 0 || page->last_ms >= r->to_ms)
			return false;
		next->from_id = page->last_id + 1;
		return true;
	}
	if (r->kind == HISTORY_CANDLES)
	{
		int64_t		end = history_window_end(r);

		if (end >= r->to_ms)
			return false;
		next->from_ms = end;
		return true;
	}
	return false;
}

/* An interval in seconds as each exchange names it; NULL when it has none. */
static const char *
interval_name(HistoryExchange x, int32_t s)
{
	static const int32_t secs[] = {60, 300, 900, 3600, 14400, 86400};
	static const char *const names[][6] = {
		{"1m", "5m", "15m", "1h", "4h", "1d"},
		{"1", "5", "15", "60", "240", "D"},
		{"1m", "5m", "15m", "1H", "4H", "1Dutc"},
		{"ONE_MINUTE", "FIVE_MINUTE", "FIFTEEN_MINUTE", "ONE_HOUR", NULL, "ONE_DAY"},
	};

	if (x == HX_OTHER)
		return NULL;
	for (int i = 0; i < 6; i++)
		if (secs[i] == s)
			return names[x][i];
	return x == HX_BINANCE ? binance_interval(s) : NULL;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t		n = strlen(s),
				t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* A Binance USD-M perpetual: its history is fapi's */
static bool
binance_perp(const HistoryRequest *r)
{
	return exchange_of(r->exchange) == HX_BINANCE && r->symbol && ends_with(r->symbol, "-PERP");
}

/* "1m" "5m" "15m" "1h" "4h" "1d" for a Binance interval in seconds. */
static const char *
binance_interval(int32_t s)
{
	switch (s)
	{
		case 60: return "1m";
		case 180: return "3m";
		case 300: return "5m";
		case 900: return "15m";
		case 1800: return "30m";
		case 3600: return "1h";
		case 7200: return "2h";
		case 14400: return "4h";
		case 21600: return "6h";
		case 28800: return "8h";
		case 43200: return "12h";
		case 86400: return "1d";
		case 259200: return "3d";
		case 604800: return "1w";
		default: return NULL;
	}
}

/* The URL of a window of candles; see the file head. */
static int
candles_url(const HistoryRequest *r, HistoryExchange x, const char *iv, char *url, size_t len)
{
	int64_t		from = r->from_ms;
	int64_t		to = history_window_end(r);

	switch (x)
	{
		case HX_BINANCE:
			return snprintf(url, len, "%s%s?symbol=%s&interval=%s&startTime=%" PRId64
							"&endTime=%" PRId64 "&limit=%d", r->base,
							binance_perp(r) ? "/fapi/v1/klines" : "/api/v3/klines", r->raw_symbol, iv,
							from, to - 1, binance_perp(r) ? BINANCE_PERP_KLINES : BINANCE_PAGE);
		case HX_BYBIT:
			return snprintf(url, len, "%s/v5/market/kline?category=%s&symbol=%s&interval=%s&start=%" PRId64
							"&end=%" PRId64 "&limit=1000", r->base,
							ends_with(r->symbol, "-PERP") ? "linear" : "spot", r->raw_symbol, iv,
							from, to - 1);
		case HX_OKX:
			/* after: older than; before: newer than (both exclusive) */
			return snprintf(url, len, "%s/api/v5/market/history-candles?instId=%s&bar=%s&after=%" PRId64
							"&before=%" PRId64 "&limit=100", r->base, r->raw_symbol, iv, to, from - 1);
		case HX_COINBASE:
			return snprintf(url, len, "%s/api/v3/brokerage/market/products/%s/candles?start=%" PRId64
							"&end=%" PRId64 "&granularity=%s&limit=350", r->base, r->raw_symbol,
							from / 1000, (to - 1) / 1000, iv);
		default:
			return -1;
	}
}

/*
 * Coinbase's trades by id are its Exchange API's (api.exchange.coinbase.com,
 * /products/{id}/trades), the host next to the Advanced Trade one that
 * zvt.exchanges names; any other rest_url (a simulator) serves both.
 */
static const char *
coinbase_trades_base(const char *base)
{
	if (strcmp(base, "https://api.coinbase.com:443") == 0 || strcmp(base, "https://api.coinbase.com") == 0)
		return "https://api.exchange.coinbase.com";
	return base;
}

/* Trades older than before_id (or to_ms), newest first; see the file head. */
static int
trades_before_url(const HistoryRequest *r, HistoryExchange x, char *url, size_t len)
{
	if (x == HX_OKX)
	{
		/* type 1: after is a trade id; type 2: a time (ms); both exclusive */
		if (r->before_id >= 0)
			return snprintf(url, len, "%s/api/v5/market/history-trades?instId=%s&type=1&after=%" PRId64
							"&limit=%d", r->base, r->raw_symbol, r->before_id, OKX_TRADES_PAGE);
		return snprintf(url, len, "%s/api/v5/market/history-trades?instId=%s&type=2&after=%" PRId64
						"&limit=%d", r->base, r->raw_symbol, r->to_ms, OKX_TRADES_PAGE);
	}
	if (r->before_id >= 0)
		return snprintf(url, len, "%s/products/%s/trades?limit=%d&after=%" PRId64,
						coinbase_trades_base(r->base), r->raw_symbol, COINBASE_TRADES_PAGE, r->before_id);
	return snprintf(url, len, "%s/products/%s/trades?limit=%d", coinbase_trades_base(r->base),
					r->raw_symbol, COINBASE_TRADES_PAGE);
}

bool
history_url(const HistoryRequest *r, char *url, size_t len, char *reason, size_t rlen)
{
	HistoryExchange x = exchange_of(r->exchange);
	int			n = -1;

	if (!history_supported(r->exchange, r->kind, reason, rlen))
		return false;
	switch (r->kind)
	{
		case HISTORY_CANDLES:
			{
				const char *iv = interval_name(x, r->interval_s);

				if (!iv)
				{
					snprintf(reason, rlen, "%s serves no %d-second candles", r->exchange, (int) r->interval_s);
					return false;
				}
				n = candles_url(r, x, iv, url, len);
				break;
			}
		case HISTORY_FIRST_ID:
			{
				int64_t		to = r->to_ms - r->from_ms > HOUR_MS ? r->from_ms + HOUR_MS : r->to_ms;

				n = snprintf(url, len, "%s%s?symbol=%s&startTime=%" PRId64
							 "&endTime=%" PRId64 "&limit=1", r->base,
							 binance_perp(r) ? "/fapi/v1/aggTrades" : "/api/v3/aggTrades",
							 r->raw_symbol, r->from_ms, to - 1);
				break;
			}
		case HISTORY_TRADES_BY_ID:
			n = snprintf(url, len, "%s%s?symbol=%s&fromId=%" PRId64
						 "&limit=%d", r->base,
						 binance_perp(r) ? "/fapi/v1/aggTrades" : "/api/v3/historicalTrades",
						 r->raw_symbol, r->from_id, BINANCE_PAGE);
			break;
		case HISTORY_FUNDING:
			n = history_funding_url(r, url, len);
			break;
		case HISTORY_TRADES_BEFORE:
			n = trades_before_url(r, x, url, len);
			break;
		case HISTORY_RECENT_TRADES:
			n = snprintf(url, len, "%s/v5/market/recent-trade?category=%s&symbol=%s&limit=%d",
						 r->base, ends_with(r->symbol, "-PERP") ? "linear" : "spot", r->raw_symbol,
						 history_trade_page_rows(r->exchange, r->symbol));
			break;
	}
	if (n < 0 || (size_t) n >= len)
	{
		snprintf(reason, rlen, "URL too long");
		return false;
	}
	return true;
}

/* One kline row: [open, "o", "h", "l", "c", "v", close, "q", n, ...]. */
static bool
binance_kline(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *open_ms)
{
	int64_t		n;

	memset(e, 0, sizeof(*e));
	if (!json_is_array(row) || !fj_int_at(row, 0, open_ms) || !feed_ms(*open_ms, &e->ts) ||
		!fj_decimal_at(row, 1, &e->open) || !fj_decimal_at(row, 2, &e->high) ||
		!fj_decimal_at(row, 3, &e->low) || !fj_decimal_at(row, 4, &e->close) ||
		!fj_decimal_at(row, 5, &e->volume) || !fj_decimal_at(row, 7, &e->quote_volume) ||
		!fj_int_at(row, 8, &n) || e->low > e->high)
		return false;
	e->kind = FEED_CANDLE;
	snprintf(e->symbol, sizeof(e->symbol), "%s", r->symbol);
	e->interval_s = r->interval_s;
	e->trade_count = n;
	e->closed = true;
	return true;
}

/* One Bybit kline row: ["start", "o", "h", "l", "c", "volume", "turnover"]. */
static bool
bybit_kline(json_t *row, FeedEvent *e, int64_t *open_ms)
{
	memset(e, 0, sizeof(*e));
	if (!json_is_array(row) || !fj_int_at(row, 0, open_ms) || !feed_ms(*open_ms, &e->ts) ||
		!fj_decimal_at(row, 1, &e->open) || !fj_decimal_at(row, 2, &e->high) ||
		!fj_decimal_at(row, 3, &e->low) || !fj_decimal_at(row, 4, &e->close) ||
		!fj_decimal_at(row, 5, &e->volume) || !fj_decimal_at(row, 6, &e->quote_volume) ||
		e->low > e->high)
		return false;
	e->trade_count = -1;
	return true;
}

/*
 * One OKX candle row: ["ts", "o", "h", "l", "c", "vol", "volCcy",
 * "volCcyQuote", "confirm"]; vol is contracts for swaps, whose base
 * volume is volCcy.
 */
static bool
okx_candle(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *open_ms)
{
	double		vol,
				vol_ccy;

	memset(e, 0, sizeof(*e));
	if (!json_is_array(row) || !fj_int_at(row, 0, open_ms) || !feed_ms(*open_ms, &e->ts) ||
		!fj_decimal_at(row, 1, &e->open) || !fj_decimal_at(row, 2, &e->high) ||
		!fj_decimal_at(row, 3, &e->low) || !fj_decimal_at(row, 4, &e->close) ||
		!fj_decimal_at(row, 5, &vol) || !fj_decimal_at(row, 6, &vol_ccy) ||
		!fj_decimal_at(row, 7, &e->quote_volume) || e->low > e->high)
		return false;
	e->volume = ends_with(r->raw_symbol, "-SWAP") ? vol_ccy : vol;
	e->trade_count = -1;
	return true;
}

/* One Coinbase candle: {"start" (s), "low", "high", "open", "close", "volume"}. */
static bool
coinbase_candle(json_t *row, FeedEvent *e, int64_t *open_ms)
{
	int64_t		start;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(row) || !fj_int(row, "start", &start) || !feed_secs(start, &e->ts) ||
		!fj_decimal(row, "open", &e->open) || !fj_decimal(row, "high", &e->high) ||
		!fj_decimal(row, "low", &e->low) || !fj_decimal(row, "close", &e->close) ||
		!fj_decimal(row, "volume", &e->volume) || e->low > e->high)
		return false;
	*open_ms = start * 1000;
	e->quote_volume = NAN;
	e->trade_count = -1;
	return true;
}

/*
 * The array of rows in an exchange's page, or NULL with reason set (an
 * error reply says its code and message).
 */
static json_t *
page_rows(const HistoryRequest *r, json_t *root, char *reason, size_t rlen)
{
	const char *msg = NULL;
	json_t	   *rows = NULL;
	HistoryExchange x = exchange_of(r->exchange);

	/* Binance's trade pages and Coinbase's Exchange API's are bare arrays */
	if (r->kind == HISTORY_FIRST_ID || r->kind == HISTORY_TRADES_BY_ID ||
		(r->kind == HISTORY_TRADES_BEFORE && x == HX_COINBASE))
		x = HX_BINANCE;
	switch (x)
	{
		case HX_BINANCE:
			rows = root;
			if (!json_is_array(rows) && !fj_str(root, "msg", &msg))
				fj_str(root, "message", &msg);
			break;
		case HX_BYBIT:
			{
				int64_t		code = -1;

				if (fj_int(root, "retCode", &code) && code == 0)
					rows = json_object_get(json_object_get(root, "result"), "list");
				else
					fj_str(root, "retMsg", &msg);
				break;
			}
		case HX_OKX:
			{
				const char *code = NULL;

				if (fj_str(root, "code", &code) && strcmp(code, "0") == 0)
					rows = json_object_get(root, "data");
				else
					fj_str(root, "msg", &msg);
				break;
			}
		case HX_COINBASE:
			rows = json_object_get(root, "candles");
			if (!rows)
				fj_str(root, "message", &msg);
			break;
		default:
			break;
	}
	if (!json_is_array(rows))
	{
		snprintf(reason, rlen, "%s page is not a list of rows%s%s", r->exchange,
				 msg ? ": " : "", msg ? msg : "");
		return NULL;
	}
	return rows;
}

/* A trade id as a number, or -1 when it is not one (Bybit linear UUIDs). */
int64_t
history_id_number(const char *s)
{
	int64_t		v = 0;

	if (!*s || strlen(s) > 19)
		return -1;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/*
 * One row of a trade page read backward or of recent trades, into e:
 * Bybit {"execId", "price", "size", "side" (taker, Buy|Sell), "time" (ms)};
 * OKX {"tradeId", "px", "sz" (contracts for swaps), "side" (taker), "ts"};
 * Coinbase's Exchange API {"trade_id" (a number), "price", "size", "side"
 * (the MAKER's: buy means the taker sold), "time" (RFC 3339)}.
 */
static bool
other_trade(json_t *row, const HistoryRequest *r, HistoryExchange x, FeedEvent *e, int64_t *ms)
{
	const char *id = NULL,
			   *side = NULL,
			   *time_s;
	int64_t		n;
	char		idbuf[24];

	memset(e, 0, sizeof(*e));
	if (!json_is_object(row))
		return false;
	if (x == HX_BYBIT)
	{
		if (!fj_str(row, "execId", &id) || !fj_decimal(row, "price", &e->price) ||
			!fj_decimal(row, "size", &e->qty) || !fj_str(row, "side", &side) ||
			!fj_int(row, "time", ms) || !feed_ms(*ms, &e->ts) ||
			(strcmp(side, "Buy") != 0 && strcmp(side, "Sell") != 0))
			return false;
		e->taker_buy = side[0] == 'B';
	}
	else if (x == HX_OKX)
	{
		if (!fj_str(row, "tradeId", &id) || !fj_decimal(row, "px", &e->price) ||
			!fj_decimal(row, "sz", &e->qty) || !fj_str(row, "side", &side) ||
			!fj_int(row, "ts", ms) || !feed_ms(*ms, &e->ts) ||
			(strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0))
			return false;
		if (ends_with(r->raw_symbol, "-SWAP"))
		{
			if (!(r->contract_size > 0))
				return false;
			e->qty *= r->contract_size;
		}
		e->taker_buy = side[0] == 'b';
	}
	else
	{
		if (!fj_int(row, "trade_id", &n) || n < 0 || !fj_decimal(row, "price", &e->price) ||
			!fj_decimal(row, "size", &e->qty) || !fj_str(row, "side", &side) ||
			!fj_str(row, "time", &time_s) || !feed_parse_rfc3339(time_s, &e->ts) ||
			(strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0))
			return false;
		snprintf(idbuf, sizeof(idbuf), "%" PRId64, n);
		id = idbuf;
		*ms = e->ts >= 0 ? e->ts / 1000 : -((-e->ts + 999) / 1000);
		/* the maker's side: a buy maker met a selling taker */
		e->taker_buy = side[0] == 's';
	}
	if (e->price <= 0 || e->qty <= 0 || strlen(id) >= sizeof(e->trade_id) || !*id)
		return false;
	e->kind = FEED_TRADE;
	snprintf(e->symbol, sizeof(e->symbol), "%s", r->symbol);
	snprintf(e->trade_id, sizeof(e->trade_id), "%s", id);
	return true;
}

/*
 * One historicalTrades row: {"id", "price", "qty", "time", "isBuyerMaker"};
 * of a perpetual, one aggTrades row: {"a", "p", "q", "f", "l", "T", "m"}.
 */
static bool
binance_trade(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *id, int64_t *ms)
{
	bool		m;
	bool		agg = binance_perp(r);

	memset(e, 0, sizeof(*e));
	if (!json_is_object(row) || !fj_int(row, agg ? "a" : "id", id) || !fj_int(row, agg ? "T" : "time", ms) ||
		!feed_ms(*ms, &e->ts) || !fj_decimal(row, agg ? "p" : "price", &e->price) ||
		!fj_decimal(row, agg ? "q" : "qty", &e->qty) || e->price <= 0 || e->qty <= 0 ||
		!fj_bool(row, agg ? "m" : "isBuyerMaker", &m))
		return false;
	e->kind = FEED_TRADE;
	snprintf(e->symbol, sizeof(e->symbol), "%s", r->symbol);
	snprintf(e->trade_id, sizeof(e->trade_id), "%" PRId64, *id);
	e->taker_buy = !m;
	return true;
}

bool
history_parse(const HistoryRequest *r, const char *body, size_t len,
			  FeedEvent *out, int max, HistoryPage *page, char *reason, size_t rlen)
{
	/* the usual page without jansson (history_scan.c); the rest, and every error, with it */
	if (history_scan(r, body, len, out, max, page))
		return true;
	return history_parse_json(r, body, len, out, max, page, reason, rlen);
}

bool
history_parse_json(const HistoryRequest *r, const char *body, size_t len,
				   FeedEvent *out, int max, HistoryPage *page, char *reason, size_t rlen)
{
	json_error_t jerr;
	json_t	   *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t	   *list;
	HistoryExchange x = exchange_of(r->exchange);
	size_t		rows;

	memset(page, 0, sizeof(*page));
	page->last_ms = page->last_id = page->first_id = -1;
	page->oldest_ms = page->oldest_id = -1;
	if (!root)
	{
		snprintf(reason, rlen, "%s page is not JSON: %s", r->exchange, jerr.text);
		return false;
	}
	if ((list = page_rows(r, root, reason, rlen)) == NULL)
	{
		json_decref(root);
		return false;
	}
	rows = json_array_size(list);
	page->rows = (int) rows;
	page->full = (int) rows >= (r->kind == HISTORY_RECENT_TRADES ?
								history_trade_page_rows(r->exchange, r->symbol) :
								r->kind == HISTORY_FUNDING ? history_funding_page_rows(r->exchange) :
								history_page_rows(r->exchange, r->kind));
	for (size_t k = 0; k < rows; k++)
	{
		/* Bybit, OKX and Coinbase list the newest first: read them oldest first */
		size_t		i = (((r->kind == HISTORY_CANDLES || r->kind == HISTORY_FUNDING) && x != HX_BINANCE) ||
						 r->kind == HISTORY_TRADES_BEFORE || r->kind == HISTORY_RECENT_TRADES) ?
			rows - 1 - k : k;
		json_t	   *row = json_array_get(list, i);
		FeedEvent	e;
		int64_t		ms,
					id;
		bool		ok = false;

		switch (r->kind)
		{
			case HISTORY_CANDLES:
				ok = x == HX_BINANCE ? binance_kline(row, r, &e, &ms) :
					x == HX_BYBIT ? bybit_kline(row, &e, &ms) :
					x == HX_OKX ? okx_candle(row, r, &e, &ms) : coinbase_candle(row, &e, &ms);
				if (ok)
				{
					e.kind = FEED_CANDLE;
					snprintf(e.symbol, sizeof(e.symbol), "%s", r->symbol);
					e.interval_s = r->interval_s;
					e.closed = true;
					if (ms > page->last_ms)
						page->last_ms = ms;
					/* a bar that had not ended by to_ms is not history yet */
					if (ms >= r->from_ms && ms + (int64_t) r->interval_s * 1000 <= r->to_ms &&
						page->n < max)
						out[page->n++] = e;
				}
				break;
			case HISTORY_FIRST_ID:
				/* spot: the first trade id of the aggregate; perpetuals: its id */
				ok = json_is_object(row) && fj_int(row, binance_perp(r) ? "a" : "f", &id);
				if (ok && page->first_id < 0)
					page->first_id = id;
				break;
			case HISTORY_TRADES_BY_ID:
				ok = binance_trade(row, r, &e, &id, &ms);
				if (ok)
				{
					page->last_ms = ms;
					page->last_id = id;
					if (page->n < max)
						out[page->n++] = e;
				}
				break;
			case HISTORY_FUNDING:
				ok = history_funding_row(row, r, &e, &ms) && ms >= page->last_ms;
				if (ok)
				{
					page->last_ms = ms;
					if (page->oldest_ms < 0)
						page->oldest_ms = ms;
					if (ms >= r->from_ms && ms < history_funding_window_end(r) && page->n < max)
						out[page->n++] = e;
				}
				break;
			case HISTORY_TRADES_BEFORE:
			case HISTORY_RECENT_TRADES:
				ok = other_trade(row, r, x, &e, &ms);
				if (ok)
				{
					id = history_id_number(e.trade_id);
					/* oldest first: the first row is the oldest */
					if (k == 0)
					{
						page->oldest_ms = ms;
						page->oldest_id = id;
					}
					else if (ms < page->last_ms)
						ok = false;	/* not newest first */
					page->last_ms = ms;
					page->last_id = id;
					if (ok && page->n < max)
						out[page->n++] = e;
				}
				break;
		}
		if (!ok)
		{
			snprintf(reason, rlen, "%s page row %zu is malformed", r->exchange, i);
			json_decref(root);
			return false;
		}
	}
	json_decref(root);
	return true;
}
