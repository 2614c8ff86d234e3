/*-------------------------------------------------------------------------
 *
 * src/feed/history_scan.c
 *	  The REST history pages of trades and candles read without jansson:
 *	  history_parse's fast path.
 *
 * jansson's tree of a page of 1000 trades cost the backfill about as much
 * CPU as writing the trades.  This reads the page once, in place, with
 * json_scan.c, straight into FeedEvents: Binance historicalTrades and
 * klines, OKX history-trades and history-candles, Coinbase's Exchange API
 * trades and candles, Bybit recent-trade and kline.  It accepts a page
 * only when every row is well formed, and then fills the page exactly as
 * history.c's jansson path would (same fields, same checks, decimals read
 * as strtod reads them); anything else (an error reply, a malformed row,
 * an escape in a string, a number it does not read exactly) returns false
 * and history_parse reads the page with jansson, which decides and says
 * why.  test/fuzz/fuzz_history.c holds both paths to that.
 * Pure C: see history.h.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/history.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed/feed_json.h"
#include "feed/json_scan.h"

#define SCAN_ROWS 1000			/* a longer page goes to jansson */

typedef enum ScanExchange
{
	SX_BINANCE, SX_BYBIT, SX_OKX, SX_COINBASE
} ScanExchange;

typedef struct ScanCtx
{
	const HistoryRequest *r;
	ScanExchange x;
	bool		swap;			/* OKX swap: sizes in contracts */
	FeedEvent  *out;
	int			max;
	int			n;				/* rows read, in the page's order */
	int64_t		ms[SCAN_ROWS];
	int64_t		id[SCAN_ROWS];
} ScanCtx;

/* The values of names in the object at s (each at most once). */
static bool
object_fields(JsScan *s, const char *const *names, int nnames, JsTok *got, bool *have)
{
	JsKeys		keys;

	keys.n = 0;
	memset(have, 0, sizeof(bool) * nnames);
	if (!js_eat(s, '{'))
		return false;
	if (js_eat(s, '}'))
		return true;
	do
	{
		JsTok		k,
					v;

		if (!js_string(s, &k) || !js_key_new(&keys, k.s, k.len) || !js_eat(s, ':') || !js_value(s, &v))
			return false;
		for (int i = 0; i < nnames; i++)
			if (js_is(&k, names[i]))
			{
				got[i] = v;
				have[i] = true;
				break;
			}
	} while (js_eat(s, ','));
	return js_eat(s, '}');
}

/* The items of the array at s, the first cap of them into items. */
static bool
array_items(JsScan *s, JsTok *items, int cap, int *n)
{
	*n = 0;
	if (!js_eat(s, '['))
		return false;
	if (js_eat(s, ']'))
		return true;
	do
	{
		JsTok		v;

		if (!js_value(s, &v))
			return false;
		if (*n < cap)
			items[*n] = v;
		(*n)++;
	} while (js_eat(s, ','));
	return js_eat(s, ']');
}

/* A trade row of history.c's binance_trade or other_trade. */
static bool
trade_row(JsScan *s, ScanCtx *c, FeedEvent *e, int64_t *ms, int64_t *id)
{
	static const char *const names[4][5] = {
		{"id", "price", "qty", "isBuyerMaker", "time"},
		{"execId", "price", "size", "side", "time"},
		{"tradeId", "px", "sz", "side", "ts"},
		{"trade_id", "price", "size", "side", "time"},
	};
	JsTok		f[5];
	bool		have[5];
	char		idbuf[FEED_ID_LEN];
	const char *idtext = idbuf;
	size_t		idlen;

	memset(e, 0, sizeof(*e));
	if (!object_fields(s, names[c->x], 5, f, have) || !have[0] || !have[1] || !have[2] ||
		!have[3] || !have[4] || !js_decimal(&f[1], &e->price) || !js_decimal(&f[2], &e->qty))
		return false;
	switch (c->x)
	{
		case SX_BINANCE:
			{
				bool		m;

				if (!js_int(&f[0], id) || !js_int(&f[4], ms) || !feed_ms(*ms, &e->ts) ||
					!js_bool(&f[3], &m))
					return false;
				snprintf(idbuf, sizeof(idbuf), "%" PRId64, *id);
				e->taker_buy = !m;
				break;
			}
		case SX_BYBIT:
		case SX_OKX:
			if (f[0].type != JS_STRING || f[3].type != JS_STRING || !js_int(&f[4], ms) ||
				!feed_ms(*ms, &e->ts))
				return false;
			if (c->x == SX_BYBIT ? !js_is(&f[3], "Buy") && !js_is(&f[3], "Sell") :
				!js_is(&f[3], "buy") && !js_is(&f[3], "sell"))
				return false;
			if (c->swap)
			{
				if (!(c->r->contract_size > 0))
					return false;
				e->qty *= c->r->contract_size;
			}
			e->taker_buy = f[3].s[0] == 'B' || f[3].s[0] == 'b';
			idtext = f[0].s;
			break;
		case SX_COINBASE:
			{
				int64_t		n;
				char		when[64];

				if (!js_int(&f[0], &n) || n < 0 || f[3].type != JS_STRING ||
					f[4].type != JS_STRING || f[4].len >= sizeof(when) ||
					(!js_is(&f[3], "buy") && !js_is(&f[3], "sell")))
					return false;
				memcpy(when, f[4].s, f[4].len);
				when[f[4].len] = '\0';
				if (!feed_parse_rfc3339(when, &e->ts))
					return false;
				snprintf(idbuf, sizeof(idbuf), "%" PRId64, n);
				*ms = e->ts >= 0 ? e->ts / 1000 : -((-e->ts + 999) / 1000);
				/* the maker's side: a buy maker met a selling taker */
				e->taker_buy = f[3].s[0] == 's';
				break;
			}
	}
	idlen = idtext == idbuf ? strlen(idbuf) : f[0].len;
	if (e->price <= 0 || e->qty <= 0 || idlen == 0 || idlen >= sizeof(e->trade_id))
		return false;
	e->kind = FEED_TRADE;
	snprintf(e->symbol, sizeof(e->symbol), "%s", c->r->symbol);
	memcpy(e->trade_id, idtext, idlen);
	e->trade_id[idlen] = '\0';
	if (c->x != SX_BINANCE)
		*id = history_id_number(e->trade_id);
	return true;
}

/* A candle row of history.c's binance_kline, bybit_kline, okx_candle, coinbase_candle. */
static bool
candle_row(JsScan *s, ScanCtx *c, FeedEvent *e, int64_t *ms)
{
	JsTok		it[9];
	int			n;

	memset(e, 0, sizeof(*e));
	e->trade_count = -1;
	if (c->x == SX_COINBASE)
	{
		static const char *const names[6] = {"start", "open", "high", "low", "close", "volume"};
		bool		have[6];
		int64_t		start;

		if (!object_fields(s, names, 6, it, have) || !have[0] || !have[1] || !have[2] ||
			!have[3] || !have[4] || !have[5] || !js_int(&it[0], &start) || !feed_secs(start, &e->ts) ||
			!js_decimal(&it[1], &e->open) || !js_decimal(&it[2], &e->high) ||
			!js_decimal(&it[3], &e->low) || !js_decimal(&it[4], &e->close) ||
			!js_decimal(&it[5], &e->volume))
			return false;
		*ms = start * 1000;
		e->quote_volume = NAN;
	}
	else
	{
		double		vol_ccy;

		if (!array_items(s, it, 9, &n) ||
			n < (c->x == SX_BINANCE ? 9 : c->x == SX_BYBIT ? 7 : 8) ||
			!js_int(&it[0], ms) || !feed_ms(*ms, &e->ts) || !js_decimal(&it[1], &e->open) ||
			!js_decimal(&it[2], &e->high) || !js_decimal(&it[3], &e->low) ||
			!js_decimal(&it[4], &e->close) || !js_decimal(&it[5], &e->volume))
			return false;
		if (c->x == SX_BINANCE &&
			(!js_decimal(&it[7], &e->quote_volume) || !js_int(&it[8], &e->trade_count)))
			return false;
		if (c->x == SX_BYBIT && !js_decimal(&it[6], &e->quote_volume))
			return false;
		if (c->x == SX_OKX)
		{
			if (!js_decimal(&it[6], &vol_ccy) || !js_decimal(&it[7], &e->quote_volume))
				return false;
			if (c->swap)
				e->volume = vol_ccy;
		}
	}
	if (e->low > e->high)
		return false;
	e->kind = FEED_CANDLE;
	snprintf(e->symbol, sizeof(e->symbol), "%s", c->r->symbol);
	e->interval_s = c->r->interval_s;
	e->closed = true;
	return true;
}

/* The array of rows at s into c, in the page's order. */
static bool
scan_rows(JsScan *s, ScanCtx *c)
{
	bool		candles = c->r->kind == HISTORY_CANDLES;

	if (c->n >= 0 || !js_eat(s, '['))
		return false;			/* (a second list is a repeated key anyway) */
	c->n = 0;
	if (js_eat(s, ']'))
		return true;
	do
	{
		FeedEvent  *e = &c->out[c->n];

		if (c->n >= c->max || c->n >= SCAN_ROWS)
			return false;
		if (candles ? !candle_row(s, c, e, &c->ms[c->n]) :
			!trade_row(s, c, e, &c->ms[c->n], &c->id[c->n]))
			return false;
		c->n++;
	} while (js_eat(s, ','));
	return js_eat(s, ']');
}

/*
 * An object whose member rows_key holds the rows; Bybit's sits in
 * "result", and its "retCode" must be 0; OKX's "code" must be "0".
 */
static bool
scan_wrapped(JsScan *s, ScanCtx *c, const char *rows_key, int level)
{
	JsKeys		keys;
	bool		ok = c->x == SX_COINBASE || level > 0;

	keys.n = 0;
	if (!js_eat(s, '{') || js_eat(s, '}'))
		return false;
	do
	{
		JsTok		k,
					v;
		int64_t		code;

		if (!js_string(s, &k) || !js_key_new(&keys, k.s, k.len) || !js_eat(s, ':'))
			return false;
		/* Bybit's rows are in result.list, the others' at the top */
		if ((c->x == SX_BYBIT) == (level == 1) && js_is(&k, rows_key))
		{
			if (!scan_rows(s, c))
				return false;
			continue;
		}
		if (c->x == SX_BYBIT && level == 0 && js_is(&k, "result"))
		{
			if (!scan_wrapped(s, c, rows_key, 1))
				return false;
			continue;
		}
		if (!js_value(s, &v))
			return false;
		if (level == 0 && c->x == SX_BYBIT && js_is(&k, "retCode"))
			ok = js_int(&v, &code) && code == 0;
		else if (level == 0 && c->x == SX_OKX && js_is(&k, "code"))
			ok = v.type == JS_STRING && js_is(&v, "0");
	} while (js_eat(s, ','));
	return js_eat(s, '}') && ok && c->n >= 0;
}

bool
history_scan(const HistoryRequest *r, const char *body, size_t len,
			 FeedEvent *out, int max, HistoryPage *page)
{
	ScanCtx		c;
	JsScan		s = {body, body + len};
	bool		reversed;
	bool		bare;

	memset(page, 0, sizeof(*page));
	page->last_ms = page->last_id = page->first_id = -1;
	page->oldest_ms = page->oldest_id = -1;
	if (strcmp(r->exchange, "binance") == 0)
		c.x = SX_BINANCE;
	else if (strcmp(r->exchange, "bybit") == 0)
		c.x = SX_BYBIT;
	else if (strcmp(r->exchange, "okx") == 0)
		c.x = SX_OKX;
	else if (strcmp(r->exchange, "coinbase") == 0)
		c.x = SX_COINBASE;
	else
		return false;
	/*
	 * the pages history_url asks for; the first id's has one row: jansson's
	 * is as good, and so for a Binance perpetual's aggTrades rows
	 */
	if (c.x == SX_BINANCE && r->kind != HISTORY_CANDLES && r->symbol &&
		strlen(r->symbol) >= 5 && strcmp(r->symbol + strlen(r->symbol) - 5, "-PERP") == 0)
		return false;
	if (!(r->kind == HISTORY_CANDLES ||
		  (r->kind == HISTORY_TRADES_BY_ID && c.x == SX_BINANCE) ||
		  (r->kind == HISTORY_TRADES_BEFORE && (c.x == SX_OKX || c.x == SX_COINBASE)) ||
		  (r->kind == HISTORY_RECENT_TRADES && c.x == SX_BYBIT)))
		return false;
	c.r = r;
	c.swap = c.x == SX_OKX && strlen(r->raw_symbol) >= 5 &&
		strcmp(r->raw_symbol + strlen(r->raw_symbol) - 5, "-SWAP") == 0;
	c.out = out;
	c.max = max;
	c.n = -1;
	/* Binance's pages and Coinbase's Exchange API trades are bare arrays */
	bare = c.x == SX_BINANCE || (c.x == SX_COINBASE && r->kind != HISTORY_CANDLES);
	if (bare ? !scan_rows(&s, &c) :
		!scan_wrapped(&s, &c, c.x == SX_BYBIT ? "list" : c.x == SX_OKX ? "data" : "candles", 0))
		return false;
	if (!js_at_end(&s))
		return false;

	page->rows = c.n;
	page->full = c.n >= (r->kind == HISTORY_RECENT_TRADES ?
						 history_trade_page_rows(r->exchange, r->symbol) :
						 history_page_rows(r->exchange, r->kind));
	/* Bybit, OKX and Coinbase list the newest first: read them oldest first */
	reversed = (r->kind == HISTORY_CANDLES && c.x != SX_BINANCE) ||
		r->kind == HISTORY_TRADES_BEFORE || r->kind == HISTORY_RECENT_TRADES;
	for (int i = 0, j = c.n - 1; reversed && i < j; i++, j--)
	{
		FeedEvent	e = out[i];
		int64_t		t = c.ms[i];

		out[i] = out[j];
		out[j] = e;
		c.ms[i] = c.ms[j];
		c.ms[j] = t;
		t = c.id[i];
		c.id[i] = c.id[j];
		c.id[j] = t;
	}
	/* as history.c's loop; rows are compacted in place (page->n <= k) */
	for (int k = 0; k < c.n; k++)
	{
		int64_t		ms = c.ms[k];

		if (r->kind == HISTORY_CANDLES)
		{
			if (ms > page->last_ms)
				page->last_ms = ms;
			if (ms >= r->from_ms && ms + (int64_t) r->interval_s * 1000 <= r->to_ms)
				out[page->n++] = out[k];
			continue;
		}
		if (r->kind != HISTORY_TRADES_BY_ID)
		{
			if (k == 0)
			{
				page->oldest_ms = ms;
				page->oldest_id = c.id[k];
			}
			else if (ms < page->last_ms)
				return false;	/* not newest first: jansson's path says so */
		}
		page->last_ms = ms;
		page->last_id = c.id[k];
		out[page->n++] = out[k];
	}
	return true;
}
