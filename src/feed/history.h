/*-------------------------------------------------------------------------
 *
 * src/feed/history.h
 *	  The exchanges' REST history for backfills and gap repair: the URL
 *	  of one page, and the page parsed into feed events.
 *
 * Pure C (jansson, no PostgreSQL header), like the adapters: the
 * backfill worker (backfill_worker.c) asks for a page, fetches it with
 * rest_client.c and writes the events through the feeds' ingest path.
 *
 * Wording: a "page" is one REST response; times are Unix ms here (the
 * REST APIs' unit), event times us as everywhere in feed_event.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_HISTORY_H
#define FEED_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed/feed_event.h"

typedef enum HistoryKind
{
	HISTORY_CANDLES,			/* candles with open time in [from_ms,
								 * history_window_end) that end by to_ms */
	HISTORY_FIRST_ID,			/* the id of the first trade at or after from_ms */
	HISTORY_TRADES_BY_ID,		/* trades from from_id on (Binance) */
	HISTORY_TRADES_BEFORE,		/* the newest page of trades older than
								 * before_id, or when it is < 0 than to_ms
								 * (OKX) or the newest of all (Coinbase) */
	HISTORY_RECENT_TRADES,		/* the latest trades, all there is (Bybit) */
	HISTORY_FUNDING				/* funding times in [from_ms,
								 * history_funding_window_end) with their
								 * settled rate (history_funding.c) */
} HistoryKind;

typedef struct HistoryRequest
{
	HistoryKind kind;
	const char *exchange;		/* "binance", ... */
	const char *base;			/* rest_url (Binance -PERP: futures_rest_url) */
	const char *raw_symbol;		/* the exchange's name: BTCUSDT */
	const char *symbol;			/* normalized: BTC-USDT */
	int32_t		interval_s;		/* candles */
	int64_t		from_ms;
	int64_t		to_ms;
	int64_t		from_id;		/* HISTORY_TRADES_BY_ID */
	int64_t		before_id;		/* HISTORY_TRADES_BEFORE; -1 when none */
	double		contract_size;	/* OKX swaps: base units a contract; 0 = 1 */
} HistoryRequest;

typedef struct HistoryPage
{
	int			n;				/* events written */
	int			rows;			/* rows in the page (some may be dropped) */
	bool		full;			/* as many rows as a page holds: ask for more */
	int64_t		last_ms;		/* newest candle open / trade time, ms; -1 if none */
	int64_t		last_id;		/* newest trade id; -1 if none */
	int64_t		first_id;		/* HISTORY_FIRST_ID: the id, -1 if none */
	int64_t		oldest_ms;		/* oldest trade time, ms; -1 if none */
	int64_t		oldest_id;		/* oldest trade id; -1 if none (or not a number) */
} HistoryPage;

/*
 * Whether the exchange's REST serves kind; false with reason set (the
 * job then fails, or the gap is closed, with that reason).
 */
extern bool history_supported(const char *exchange, HistoryKind kind, char *reason, size_t rlen);

/*
 * How the exchange's REST pages trades: HISTORY_FIRST_ID then
 * HISTORY_TRADES_BY_ID forward (Binance), HISTORY_TRADES_BEFORE backward
 * from the newest (OKX, Coinbase), or HISTORY_RECENT_TRADES, one page of
 * the latest (Bybit).  Whether its trade ids rise with time, so a gap's
 * ids bound its repair, is *ids_ordered.
 */
extern HistoryKind history_trades_kind(const char *exchange, bool *ids_ordered);

/*
 * Most time one HISTORY_FIRST_ID request may span, ms (Binance: an hour);
 * INT64_MAX when unbounded.
 */
extern int64_t history_window_ms(const char *exchange);

/*
 * The URL of the page of r into url (len bytes).  False with reason set
 * when it does not fit or the exchange does not serve the request.
 */
extern bool history_url(const HistoryRequest *r, char *url, size_t len, char *reason, size_t rlen);

/*
 * Parse the page body (len bytes) of request r into at most max events,
 * oldest first, candles with open time in [from_ms, to_ms) only and all
 * marked closed.  Returns true with *page filled, or false with reason
 * set when the page is not what the exchange sends.
 */
extern bool history_parse(const HistoryRequest *r, const char *body, size_t len,
						  FeedEvent *out, int max, HistoryPage *page,
						  char *reason, size_t rlen);

/*
 * history_parse's two paths: history_scan reads the usual pages of trades
 * and candles without jansson (history_scan.c) and returns false, having
 * decided nothing, for any page it does not read exactly as
 * history_parse_json (jansson) would; history_parse_json reads any page
 * and words what is wrong with it.
 */
extern bool history_scan(const HistoryRequest *r, const char *body, size_t len,
						 FeedEvent *out, int max, HistoryPage *page);
extern bool history_parse_json(const HistoryRequest *r, const char *body, size_t len,
							   FeedEvent *out, int max, HistoryPage *page,
							   char *reason, size_t rlen);

/* A trade id as a number, or -1 when it is not one (Bybit linear UUIDs). */
extern int64_t history_id_number(const char *s);

/*
 * Most rows one page of kind holds on the exchange (for Bybit's recent
 * trades it depends on the category: pass the normalized symbol, else
 * NULL).
 */
extern int	history_page_rows(const char *exchange, HistoryKind kind);
extern int	history_trade_page_rows(const char *exchange, const char *symbol);

/*
 * The request of the page after page (read for r) when the pages go
 * forward and more of r's range is left: trades by id after a full page
 * whose last trade is before to_ms, candles when the window ended before
 * to_ms.  False otherwise (backward paging, the end).
 */
extern bool history_next(const HistoryRequest *r, const HistoryPage *page, HistoryRequest *next);

/*
 * Where the candle page of r ends: from_ms plus as many bars as a page
 * holds, or to_ms when that is sooner.  The next page starts there.
 */
extern int64_t history_window_end(const HistoryRequest *r);

/*
 * Binance's used weight a minute (X-MBX-USED-WEIGHT-1M) past which the
 * next request waits for the next minute: 6000 less a tenth on spot, 2400
 * less a tenth on USD-M futures (the symbol's -PERP; another host, another
 * budget); 0 for exchanges zvt does not count weight on.
 */
extern int	history_weight_stop(const char *exchange, const char *symbol);

/*
 * Funding history (history_funding.c): where the page of r ends (from_ms
 * plus an hour a row of a page, or to_ms when sooner), and where the next
 * page starts after page (Binance: after a full page's last row).
 */
extern int64_t history_funding_window_end(const HistoryRequest *r);
extern int64_t history_funding_next(const HistoryRequest *r, const HistoryPage *page);

#endif							/* FEED_HISTORY_H */
