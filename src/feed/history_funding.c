/*-------------------------------------------------------------------------
 *
 * src/feed/history_funding.c
 *	  The exchanges' funding-rate history (HISTORY_FUNDING): page URLs and
 *	  pages -> FEED_FUNDING events, for the repair of zvt.funding gaps and
 *	  funding backfills.
 *
 * One time window a page, as for candles: the window spans as many hours
 * as a page holds rows (funding times are at least an hour apart on every
 * venue), so a page never loses a row whatever order the exchange lists
 * them in; Binance lists the oldest first and a full page moves the next
 * window to just after its last row, so its shorter intervals (the
 * simulator's seconds) are paged exactly too.
 *
 *	Binance USD-M  GET /fapi/v1/fundingRate?symbol&startTime&endTime&limit
 *				   (<= 1000, oldest first; both bounds inclusive):
 *				   [{"symbol","fundingTime","fundingRate","markPrice"}]
 *	Bybit		   GET /v5/market/funding/history?category=linear&symbol
 *				   &startTime&endTime&limit (<= 200, newest first):
 *				   result.list [{"symbol","fundingRate","fundingRateTimestamp"}]
 *	OKX			   GET /api/v5/public/funding-rate-history?instId&before&after
 *				   &limit (<= 100, newest first; after = older than, before =
 *				   newer than, both exclusive): data [{"instId","fundingRate",
 *				   "realizedRate","fundingTime", ...}]
 *
 * A row becomes the event zvt.funding stores for it: 1 ms before the
 * funding time T, the rate settled at T (OKX: realizedRate, the actual
 * one, where it is a number, else fundingRate) announced for T, and the
 * mark where the exchange gives one (Binance; "" in its oldest rows).  zvt
 * settles T at the row with next_funding_time T nearest at or before T
 * (58_funding.sql), which is then this one: what the exchange settled.
 * (Not at T itself: a streamed row at T, which announces the next funding
 * time, would take its key.)
 *
 * Pure C (jansson), called by history.c.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/history.h"
#include "feed/history_private.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed/feed_json.h"

#define HOUR_MS INT64_C(3600000)

int
history_funding_page_rows(const char *exchange)
{
	if (strcmp(exchange, "binance") == 0)
		return 1000;
	if (strcmp(exchange, "bybit") == 0)
		return 200;
	if (strcmp(exchange, "okx") == 0)
		return 100;
	return 0;
}

int64_t
history_funding_window_end(const HistoryRequest *r)
{
	int64_t		span = (int64_t) history_funding_page_rows(r->exchange) * HOUR_MS;

	return r->to_ms - r->from_ms > span ? r->from_ms + span : r->to_ms;
}

/* The page of funding times in [from_ms, window end). */
int
history_funding_url(const HistoryRequest *r, char *url, size_t len)
{
	int64_t		from = r->from_ms;
	int64_t		to = history_funding_window_end(r);
	int			rows = history_funding_page_rows(r->exchange);

	if (strcmp(r->exchange, "binance") == 0)
		return snprintf(url, len, "%s/fapi/v1/fundingRate?symbol=%s&startTime=%" PRId64
						"&endTime=%" PRId64 "&limit=%d", r->base, r->raw_symbol, from, to - 1, rows);
	if (strcmp(r->exchange, "bybit") == 0)
		return snprintf(url, len, "%s/v5/market/funding/history?category=linear&symbol=%s&startTime=%" PRId64
						"&endTime=%" PRId64 "&limit=%d", r->base, r->raw_symbol, from, to - 1, rows);
	if (strcmp(r->exchange, "okx") == 0)
		return snprintf(url, len, "%s/api/v5/public/funding-rate-history?instId=%s&before=%" PRId64
						"&after=%" PRId64 "&limit=%d", r->base, r->raw_symbol, from - 1, to, rows);
	return -1;
}

/* A decimal field, NaN when absent or "" (Binance's oldest markPrice). */
static bool
optional_decimal(json_t *row, const char *key, double *out)
{
	const char *s;

	*out = NAN;
	if (json_object_get(row, key) == NULL || (fj_str(row, key, &s) && s[0] == '\0'))
		return true;
	return fj_decimal(row, key, out);
}

/* One row of a funding page into e (kind, symbol, times, rate, mark); *ms its time. */
bool
history_funding_row(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *ms)
{
	double		realized;
	const char *time_key;

	memset(e, 0, sizeof(*e));
	feed_funding_init(e);
	if (!json_is_object(row))
		return false;
	time_key = strcmp(r->exchange, "binance") == 0 ? "fundingTime" :
		strcmp(r->exchange, "bybit") == 0 ? "fundingRateTimestamp" : "fundingTime";
	if (!fj_int(row, time_key, ms) || !feed_ms(*ms, &e->ts) ||
		!fj_decimal(row, "fundingRate", &e->funding_rate))
		return false;
	if (strcmp(r->exchange, "binance") == 0 && !optional_decimal(row, "markPrice", &e->mark_price))
		return false;
	if (strcmp(r->exchange, "okx") == 0 && optional_decimal(row, "realizedRate", &realized) &&
		!isnan(realized))
		e->funding_rate = realized;
	if (!isfinite(e->funding_rate) || (!isnan(e->mark_price) && !(e->mark_price > 0)))
		return false;
	e->kind = FEED_FUNDING;
	e->funding_ts = e->ts;
	e->ts -= 1000;
	snprintf(e->symbol, sizeof(e->symbol), "%s", r->symbol);
	return true;
}

int64_t
history_funding_next(const HistoryRequest *r, const HistoryPage *page)
{
	/* Binance lists the oldest first: a full page goes on after its last row */
	if (page->full && page->last_ms >= r->from_ms && strcmp(r->exchange, "binance") == 0)
		return page->last_ms + 1;
	return history_funding_window_end(r);
}
