/*-------------------------------------------------------------------------
 *
 * src/feed/history.c
 *	  Page URLs and page parsers of the exchanges' REST history.
 *
 * Binance: klines (1000 a page, by open time), aggTrades to find the
 * first trade id at a time (startTime/endTime at most an hour apart),
 * historicalTrades by id (1000 a page; ids are contiguous, so a range of
 * ids is exactly the trades in it).  Bybit, OKX and Coinbase are not
 * served yet: history_supported says so and the job or gap records why.
 * Pure C: see history.h.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/history.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "feed/feed_json.h"

#define BINANCE_PAGE 1000
#define HOUR_MS INT64_C(3600000)

static bool
is_binance(const char *exchange)
{
	return strcmp(exchange, "binance") == 0;
}

bool
history_supported(const char *exchange, HistoryKind kind, char *reason, size_t rlen)
{
	(void) kind;				/* Binance serves every kind; the others none yet */
	if (is_binance(exchange))
		return true;
	snprintf(reason, rlen, "REST history of %s is not served by this version of zvt (Binance only)",
			 exchange);
	return false;
}

int64_t
history_window_ms(const char *exchange)
{
	return is_binance(exchange) ? HOUR_MS : INT64_MAX;
}

int
history_page_rows(const char *exchange, HistoryKind kind)
{
	if (kind == HISTORY_FIRST_ID)
		return 1;
	return is_binance(exchange) ? BINANCE_PAGE : 0;
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

bool
history_url(const HistoryRequest *r, char *url, size_t len, char *reason, size_t rlen)
{
	int			n = -1;

	if (!history_supported(r->exchange, r->kind, reason, rlen))
		return false;
	switch (r->kind)
	{
		case HISTORY_CANDLES:
			{
				const char *iv = binance_interval(r->interval_s);

				if (!iv)
				{
					snprintf(reason, rlen, "Binance serves no %d-second klines", (int) r->interval_s);
					return false;
				}
				n = snprintf(url, len, "%s/api/v3/klines?symbol=%s&interval=%s&startTime=%" PRId64
							 "&endTime=%" PRId64 "&limit=%d", r->base, r->raw_symbol, iv,
							 r->from_ms, r->to_ms - 1, BINANCE_PAGE);
				break;
			}
		case HISTORY_FIRST_ID:
			{
				int64_t		to = r->to_ms - r->from_ms > HOUR_MS ? r->from_ms + HOUR_MS : r->to_ms;

				n = snprintf(url, len, "%s/api/v3/aggTrades?symbol=%s&startTime=%" PRId64
							 "&endTime=%" PRId64 "&limit=1", r->base, r->raw_symbol,
							 r->from_ms, to - 1);
				break;
			}
		case HISTORY_TRADES_BY_ID:
			n = snprintf(url, len, "%s/api/v3/historicalTrades?symbol=%s&fromId=%" PRId64
						 "&limit=%d", r->base, r->raw_symbol, r->from_id, BINANCE_PAGE);
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

/* One historicalTrades row: {"id", "price", "qty", "time", "isBuyerMaker"}. */
static bool
binance_trade(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *id, int64_t *ms)
{
	bool		m;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(row) || !fj_int(row, "id", id) || !fj_int(row, "time", ms) ||
		!feed_ms(*ms, &e->ts) || !fj_decimal(row, "price", &e->price) ||
		!fj_decimal(row, "qty", &e->qty) || e->price <= 0 || e->qty <= 0 ||
		!fj_bool(row, "isBuyerMaker", &m))
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
	json_error_t jerr;
	json_t	   *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	size_t		rows;

	memset(page, 0, sizeof(*page));
	page->last_ms = page->last_id = page->first_id = -1;
	if (!root || !json_is_array(root))
	{
		snprintf(reason, rlen, "%s page is not a JSON array%s%s", r->exchange,
				 root ? "" : ": ", root ? "" : jerr.text);
		if (root)
			json_decref(root);
		return false;
	}
	rows = json_array_size(root);
	page->rows = (int) rows;
	page->full = (int) rows >= history_page_rows(r->exchange, r->kind);
	for (size_t i = 0; i < rows; i++)
	{
		json_t	   *row = json_array_get(root, i);
		FeedEvent	e;
		int64_t		ms,
					id;
		bool		ok = false;

		switch (r->kind)
		{
			case HISTORY_CANDLES:
				ok = binance_kline(row, r, &e, &ms);
				if (ok)
				{
					page->last_ms = ms;
					/* a bar that had not ended by to_ms is not history yet */
					if (ms >= r->from_ms && ms + (int64_t) r->interval_s * 1000 <= r->to_ms &&
						page->n < max)
						out[page->n++] = e;
				}
				break;
			case HISTORY_FIRST_ID:
				ok = json_is_object(row) && fj_int(row, "f", &id);
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
