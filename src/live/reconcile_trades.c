/*-------------------------------------------------------------------------
 *
 * src/live/reconcile_trades.c
 *	  Reconciliation's reading of the exchanges' fill histories
 *	  (recon_fetch.h), pure C: the signed GET of one page, and the page
 *	  read back into ReconTrade rows and the next page's position.
 *
 *	 Binance  GET /api/v3/myTrades?symbol=&fromId=&limit= (ascending from
 *			  fromId, at most 1000; per symbol)
 *	 Bybit	  GET /v5/execution/list?category=spot&limit=&cursor= (newest
 *			  first, at most 100, nextPageCursor)
 *	 OKX	  GET /api/v5/trade/fills?instType=SPOT&limit=&after= (newest
 *			  first, at most 100, after = the last bill id read)
 *	 Coinbase GET /api/v3/brokerage/orders/historical/fills?limit=&cursor=
 *			  (newest first, cursor)
 *
 * Requests are signed by route.c's live_build_get, as the lists are.  Fees are
 * read as positive charges in their asset (OKX reports a charge
 * negative).  Never aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "live/recon_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/zvt_time.h"
#include "live/json_text.h"

/* true if s is safe in a query string unescaped (ids, symbols, cursors of the exchanges) */
static bool
plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  *s == '-' || *s == '_' || *s == '.' || *s == '%'))
			return false;
	return true;
}

/*
 * The signed GET of one page of the fill history: symbol (Binance: the
 * exchange's symbol, required), from (Binance: fromId; Bybit, Coinbase:
 * the cursor; OKX: after, a bill id; "" for the first page) and limit.
 * 0, or -1 with *err.
 */
int
recon_build_trades(LiveExchange ex, const LiveCreds *cr, int64_t now_ms, const char *host,
				   const char *nonce_hex, const char *symbol, const char *from, int limit,
				   LiveRequest *out, const char **err)
{
	char		q[512];
	const char *path;
	const char *cur = from && from[0] ? from : "";

	memset(out, 0, sizeof(*out));
	if (cr == NULL || cr->api_key == NULL || cr->secret == NULL)
		return *err = "no credentials", -1;
	if ((symbol && !plain(symbol)) || !plain(cur) || strlen(cur) > 200)
		return *err = "a symbol or cursor the request cannot carry", -1;
	switch (ex)
	{
		case LX_BINANCE:
			if (symbol == NULL || symbol[0] == '\0')
				return *err = "no symbol", -1;
			path = "/api/v3/myTrades";
			snprintf(q, sizeof(q), "symbol=%s%s%s&limit=%d", symbol, cur[0] ? "&fromId=" : "", cur, limit);
			break;
		case LX_BYBIT:
			path = "/v5/execution/list";
			snprintf(q, sizeof(q), "category=spot&limit=%d%s%s", limit, cur[0] ? "&cursor=" : "", cur);
			break;
		case LX_OKX:
			path = "/api/v5/trade/fills";
			snprintf(q, sizeof(q), "instType=SPOT&limit=%d%s%s", limit, cur[0] ? "&after=" : "", cur);
			break;
		case LX_COINBASE:
			path = "/api/v3/brokerage/orders/historical/fills";
			snprintf(q, sizeof(q), "limit=%d%s%s", limit, cur[0] ? "&cursor=" : "", cur);
			break;
		default:
			return *err = "no such exchange", -1;
	}
	return live_build_get(ex, cr, path, q, now_ms, host, nonce_hex, out, err);
}

static int64_t
num(json_t *v)
{
	if (json_is_integer(v))
		return (int64_t) json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

/* 2024-01-02T03:04:05[.ffffff]Z as Unix ms; 0 if malformed */
static int64_t
rfc3339_ms(const char *s)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				n = 0;
	int64_t		ms = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return 0;
	if (s[n] == '.')
	{
		int			k = 0;

		for (n++; s[n] >= '0' && s[n] <= '9'; n++, k++)
			if (k < 3)
				ms = ms * 10 + (s[n] - '0');
		for (; k < 3; k++)
			ms *= 10;
	}
	return (zt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

/* the fee as a positive charge: OKX's are negative, a rebate is left out ("") */
static void
set_fee(ReconTrade *t, json_t *v, bool negated)
{
	live_json_text(t->fee, sizeof(t->fee), v);
	if (negated)
	{
		if (t->fee[0] == '-')
			memmove(t->fee, t->fee + 1, strlen(t->fee));
		else if (strspn(t->fee, "0.") != strlen(t->fee))
			t->fee[0] = '\0';	/* a rebate: the schedule's fee stays */
	}
}

/*
 * One page of the fill history: up to max trades into out, the count
 * returned; *next the next page's position for recon_build_trades
 * ("" when this was the last: a page shorter than limit, no cursor);
 * -1 with fail set when the reply is not the list.
 */
int
recon_parse_trades(LiveExchange ex, long http, const char *body, size_t len, int limit,
				   ReconTrade *out, int max, char *next, size_t nextlen, LiveReply *fail)
{
	json_t	   *j = (http == 200 && body) ? json_loadb(body, len, 0, NULL) : NULL;
	json_t	   *list = NULL;
	json_t	   *x;
	size_t		i;
	int			n = 0;

	memset(fail, 0, sizeof(*fail));
	next[0] = '\0';
	switch (ex)
	{
		case LX_BINANCE:
			list = json_is_array(j) ? j : NULL;
			break;
		case LX_BYBIT:
			if (json_is_integer(json_object_get(j, "retCode")) && json_integer_value(json_object_get(j, "retCode")) == 0)
			{
				list = json_object_get(json_object_get(j, "result"), "list");
				live_json_text(next, nextlen, json_object_get(json_object_get(j, "result"), "nextPageCursor"));
			}
			break;
		case LX_OKX:
			if (json_string_value(json_object_get(j, "code")) &&
				strcmp(json_string_value(json_object_get(j, "code")), "0") == 0)
				list = json_object_get(j, "data");
			break;
		case LX_COINBASE:
			list = json_object_get(j, "fills");
			live_json_text(next, nextlen, json_object_get(j, "cursor"));
			break;
		default:
			break;
	}
	if (!json_is_array(list))
	{
		json_decref(j);
		next[0] = '\0';
		return recon_not_a_list(ex, http, body, len, "fill history", fail);
	}
	json_array_foreach(list, i, x)
	{
		ReconTrade *t = &out[n];
		json_t	   *m;

		if (n >= max)
			break;
		memset(t, 0, sizeof(*t));
		switch (ex)
		{
			case LX_BINANCE:
				live_json_text(t->trade_id, sizeof(t->trade_id), json_object_get(x, "id"));
				live_json_text(t->order_id, sizeof(t->order_id), json_object_get(x, "orderId"));
				live_json_text(t->symbol, sizeof(t->symbol), json_object_get(x, "symbol"));
				live_json_text(t->qty, sizeof(t->qty), json_object_get(x, "qty"));
				live_json_text(t->px, sizeof(t->px), json_object_get(x, "price"));
				set_fee(t, json_object_get(x, "commission"), false);
				live_json_text(t->fee_asset, sizeof(t->fee_asset), json_object_get(x, "commissionAsset"));
				m = json_object_get(x, "isMaker");
				t->ts = num(json_object_get(x, "time"));
				t->seq = num(json_object_get(x, "id"));
				break;
			case LX_BYBIT:
				if (json_string_value(json_object_get(x, "execType")) &&
					strcmp(json_string_value(json_object_get(x, "execType")), "Trade") != 0)
					continue;	/* funding, settlement...: not a trade */
				live_json_text(t->trade_id, sizeof(t->trade_id), json_object_get(x, "execId"));
				live_json_text(t->order_id, sizeof(t->order_id), json_object_get(x, "orderId"));
				live_json_text(t->client_id, sizeof(t->client_id), json_object_get(x, "orderLinkId"));
				live_json_text(t->symbol, sizeof(t->symbol), json_object_get(x, "symbol"));
				live_json_text(t->qty, sizeof(t->qty), json_object_get(x, "execQty"));
				live_json_text(t->px, sizeof(t->px), json_object_get(x, "execPrice"));
				set_fee(t, json_object_get(x, "execFee"), false);
				live_json_text(t->fee_asset, sizeof(t->fee_asset), json_object_get(x, "feeCurrency"));
				m = json_object_get(x, "isMaker");
				t->ts = num(json_object_get(x, "execTime"));
				break;
			case LX_OKX:
				live_json_text(t->trade_id, sizeof(t->trade_id), json_object_get(x, "tradeId"));
				live_json_text(t->order_id, sizeof(t->order_id), json_object_get(x, "ordId"));
				live_json_text(t->client_id, sizeof(t->client_id), json_object_get(x, "clOrdId"));
				live_json_text(t->symbol, sizeof(t->symbol), json_object_get(x, "instId"));
				live_json_text(t->qty, sizeof(t->qty), json_object_get(x, "fillSz"));
				live_json_text(t->px, sizeof(t->px), json_object_get(x, "fillPx"));
				set_fee(t, json_object_get(x, "fee"), true);
				live_json_text(t->fee_asset, sizeof(t->fee_asset), json_object_get(x, "feeCcy"));
				m = json_object_get(x, "execType");
				m = json_string_value(m) ? (json_string_value(m)[0] == 'M' ? json_true() : json_false()) : NULL;
				t->ts = num(json_object_get(x, "ts"));
				t->seq = num(json_object_get(x, "billId"));
				break;
			default:
				live_json_text(t->trade_id, sizeof(t->trade_id), json_object_get(x, "trade_id"));
				live_json_text(t->order_id, sizeof(t->order_id), json_object_get(x, "order_id"));
				live_json_text(t->symbol, sizeof(t->symbol), json_object_get(x, "product_id"));
				live_json_text(t->qty, sizeof(t->qty), json_object_get(x, "size"));
				live_json_text(t->px, sizeof(t->px), json_object_get(x, "price"));
				set_fee(t, json_object_get(x, "commission"), false);
				/* Coinbase charges in the quote currency: the product's second half */
				if (strchr(t->symbol, '-'))
					snprintf(t->fee_asset, sizeof(t->fee_asset), "%s", strchr(t->symbol, '-') + 1);
				m = json_object_get(x, "liquidity_indicator");
				m = json_string_value(m) ? (strcmp(json_string_value(m), "MAKER") == 0 ? json_true() :
											strcmp(json_string_value(m), "TAKER") == 0 ? json_false() : NULL) : NULL;
				t->ts = rfc3339_ms(json_string_value(json_object_get(x, "trade_time")));
				if (json_is_true(json_object_get(x, "size_in_quote")))
					continue;	/* a size in quote units: not read, the order's cumulative books it */
				break;
		}
		t->maker = json_is_true(m) ? 1 : json_is_false(m) ? 0 : -1;
		if (t->trade_id[0] == '\0' || t->order_id[0] == '\0' || t->qty[0] == '\0' || t->px[0] == '\0')
			continue;
		n++;
	}
	/* the next page: Binance from the last id, OKX after the last bill; a short page is the last */
	if (ex == LX_BINANCE && json_array_size(list) >= (size_t) limit && n > 0)
		snprintf(next, nextlen, "%lld", (long long) (out[n - 1].seq + 1));
	else if (ex == LX_OKX && json_array_size(list) >= (size_t) limit && n > 0)
		snprintf(next, nextlen, "%lld", (long long) out[n - 1].seq);
	json_decref(j);
	return n;
}
