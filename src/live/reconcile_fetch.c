/*-------------------------------------------------------------------------
 *
 * src/live/reconcile_fetch.c
 *	  Reconciliation's exchange core (recon_fetch.h): the signed requests
 *	  that list an account's open orders and balances, and their replies
 *	  read back.
 *
 * Requests are signed by route.c's live_build_get, as an order query is
 * (the same headers; Binance's signature= last; Bybit signs the query
 * string; OKX the path with its query; Coinbase a JWT whose uri has no
 * query).  Each listed order is read by route_parse.c's own reader
 * (live_parse_reply on the element wrapped as a query's reply), so a
 * list and a query can never disagree about a status or a filled
 * quantity.  A reply that is not the list (an error body, 5xx, no reply)
 * is classified by live_parse_reply too: auth, clock, rate, unknown.
 * Pure C (jansson); never aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "live/recon_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/json_text.h"

/*
 * The signed GET request listing what (open orders or balances) of the
 * account whose credentials are cr, at the exchange's clock now_ms.  host
 * and nonce_hex as for live_build (Coinbase).  0, or -1 with *err.
 */
int
recon_build(LiveExchange ex, ReconList what, const LiveCreds *cr, int64_t now_ms,
			const char *host, const char *nonce_hex, LiveRequest *out, const char **err)
{
	return recon_build_page(ex, what, cr, now_ms, host, nonce_hex, NULL, 0, out, err);
}

/*
 * The same, for the page of open orders at cursor (NULL or "": the first;
 * recon_orders_next gives the next) of limit orders (0: the exchange's
 * largest: Bybit 50, OKX 100, Coinbase 1000; Binance lists them all).
 */
int
recon_build_page(LiveExchange ex, ReconList what, const LiveCreds *cr, int64_t now_ms,
				 const char *host, const char *nonce_hex, const char *cursor, int limit,
				 LiveRequest *out, const char **err)
{
	char		more[300] = "";
	char		q[600];
	const char *path;
	bool		orders = what == RL_OPEN_ORDERS;

	memset(out, 0, sizeof(*out));
	if (cr == NULL || cr->api_key == NULL || cr->secret == NULL)
		return *err = "no credentials", -1;
	if (cursor && cursor[0])
	{
		if (strlen(cursor) > 200 || strspn(cursor, "0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_.%")
			!= strlen(cursor))
			return *err = "a cursor the request cannot carry", -1;
		snprintf(more, sizeof(more), "&%s=%s", ex == LX_OKX ? "after" : "cursor", cursor);
	}
	if (limit <= 0 || limit > (ex == LX_BYBIT ? 50 : ex == LX_OKX ? 100 : 1000))
		limit = ex == LX_BYBIT ? 50 : ex == LX_OKX ? 100 : 1000;
	switch (ex)
	{
		case LX_BINANCE:
			path = orders ? "/api/v3/openOrders" : "/api/v3/account";
			snprintf(q, sizeof(q), "%s", orders ? "" : "omitZeroBalances=true");
			break;
		case LX_BYBIT:
			path = orders ? "/v5/order/realtime" : "/v5/account/wallet-balance";
			if (orders)
				snprintf(q, sizeof(q), "category=spot&openOnly=0&limit=%d%s", limit, more);
			else
				snprintf(q, sizeof(q), "accountType=UNIFIED");
			break;
		case LX_OKX:
			path = orders ? "/api/v5/trade/orders-pending" : "/api/v5/account/balance";
			if (orders && limit != 100)
				snprintf(q, sizeof(q), "instType=SPOT&limit=%d%s", limit, more);
			else if (orders)
				snprintf(q, sizeof(q), "instType=SPOT%s", more);
			else
				q[0] = '\0';
			break;
		case LX_COINBASE:
			path = orders ? "/api/v3/brokerage/orders/historical/batch" : "/api/v3/brokerage/accounts";
			if (orders)
				snprintf(q, sizeof(q), "order_status=OPEN&limit=%d%s", limit, more);
			else
				snprintf(q, sizeof(q), "limit=250");
			break;
		default:
			return *err = "no such exchange", -1;
	}
	return live_build_get(ex, cr, path, q, now_ms, host, nonce_hex, out, err);
}

/* ----------------------------------------------------------------
 *		Replies
 * ----------------------------------------------------------------
 */

/* live_json_text, or a JSON real's text */
static void
set(char *dst, size_t n, json_t *v)
{
	if (json_is_real(v))
		snprintf(dst, n, "%.12g", json_real_value(v));
	else
		live_json_text(dst, n, v);
}

/*
 * The reply is not the list expected (what: "list", "fill history"):
 * why, in fail (the exchange's error as a query's, else "not the
 * expected <what>"); returns -1.
 */
int
recon_not_a_list(LiveExchange ex, long http, const char *body, size_t len, const char *what,
				 LiveReply *fail)
{
	live_parse_reply(ex, LO_QUERY, http, body, len, "", fail);
	if (fail->kind == LR_OK || fail->kind == LR_NOT_FOUND)
	{
		fail->kind = LR_UNKNOWN;
		snprintf(fail->reason, sizeof(fail->reason), "HTTP %ld: not the expected %s", http, what);
	}
	return -1;
}

/* read one listed order as a query's reply: wrap it as the exchange wraps a query's answer */
static void
read_order(LiveExchange ex, json_t *o, ReconOrder *r)
{
	json_t	   *w;
	char	   *s;
	const char *side;

	memset(r, 0, sizeof(*r));
	switch (ex)
	{
		case LX_BINANCE:
			w = json_incref(o);
			set(r->client_id, sizeof(r->client_id), json_object_get(o, "clientOrderId"));
			set(r->symbol, sizeof(r->symbol), json_object_get(o, "symbol"));
			set(r->qty, sizeof(r->qty), json_object_get(o, "origQty"));
			set(r->price, sizeof(r->price), json_object_get(o, "price"));
			break;
		case LX_BYBIT:
			w = json_pack("{s:i,s:{s:[O]}}", "retCode", 0, "result", "list", o);
			set(r->client_id, sizeof(r->client_id), json_object_get(o, "orderLinkId"));
			set(r->symbol, sizeof(r->symbol), json_object_get(o, "symbol"));
			set(r->qty, sizeof(r->qty), json_object_get(o, "qty"));
			set(r->price, sizeof(r->price), json_object_get(o, "price"));
			break;
		case LX_OKX:
			w = json_pack("{s:s,s:[O]}", "code", "0", "data", o);
			set(r->client_id, sizeof(r->client_id), json_object_get(o, "clOrdId"));
			set(r->symbol, sizeof(r->symbol), json_object_get(o, "instId"));
			set(r->qty, sizeof(r->qty), json_object_get(o, "sz"));
			set(r->price, sizeof(r->price), json_object_get(o, "px"));
			break;
		default:
			{
				const char *k;
				json_t	   *cfg;

				w = json_pack("{s:O}", "order", o);
				set(r->client_id, sizeof(r->client_id), json_object_get(o, "client_order_id"));
				set(r->symbol, sizeof(r->symbol), json_object_get(o, "product_id"));
				json_object_foreach(json_object_get(o, "order_configuration"), k, cfg)
				{
					set(r->qty, sizeof(r->qty), json_object_get(cfg, "base_size"));
					set(r->price, sizeof(r->price), json_object_get(cfg, "limit_price"));
					break;
				}
			}
			break;
	}
	side = json_string_value(json_object_get(o, "side"));
	snprintf(r->side, sizeof(r->side), "%s", side == NULL ? "" : (side[0] == 'B' || side[0] == 'b') ? "buy" : "sell");
	s = w ? json_dumps(w, JSON_COMPACT) : NULL;
	if (s)
		live_parse_reply(ex, LO_QUERY, 200, s, strlen(s), r->client_id, &r->rep);
	else
	{
		r->rep.kind = LR_UNKNOWN;
		snprintf(r->rep.reason, sizeof(r->rep.reason), "unreadable order");
	}
	free(s);
	json_decref(w);
}

/*
 * The open orders in a reply to RL_OPEN_ORDERS: up to max into out, the
 * count returned; *more when the exchange has another page (the run notes
 * it).  -1 with fail set when the reply is not the list.
 */
int
recon_parse_orders(LiveExchange ex, long http, const char *body, size_t len,
				   ReconOrder *out, int max, bool *more, LiveReply *fail)
{
	json_t	   *j = (http == 200 && body) ? json_loadb(body, len, 0, NULL) : NULL;
	json_t	   *list = NULL;
	json_t	   *o;
	size_t		i;
	int			n = 0;

	memset(fail, 0, sizeof(*fail));
	*more = false;
	switch (ex)
	{
		case LX_BINANCE:
			list = json_is_array(j) ? j : NULL;
			break;
		case LX_BYBIT:
			if (json_integer_value(json_object_get(j, "retCode")) == 0 && json_is_integer(json_object_get(j, "retCode")))
			{
				json_t	   *res = json_object_get(j, "result");
				const char *cur = json_string_value(json_object_get(res, "nextPageCursor"));

				list = json_object_get(res, "list");
				*more = cur && cur[0];
			}
			break;
		case LX_OKX:
			if (json_string_value(json_object_get(j, "code")) &&
				strcmp(json_string_value(json_object_get(j, "code")), "0") == 0)
				list = json_object_get(j, "data");
			*more = json_array_size(list) >= 100;
			break;
		case LX_COINBASE:
			list = json_object_get(j, "orders");
			*more = json_is_true(json_object_get(j, "has_next"));
			break;
		default:
			break;
	}
	if (!json_is_array(list))
	{
		json_decref(j);
		return recon_not_a_list(ex, http, body, len, "list", fail);
	}
	json_array_foreach(list, i, o)
	{
		if (n >= max)
		{
			*more = true;
			break;
		}
		read_order(ex, o, &out[n]);
		if (out[n].rep.kind == LR_OK)
			n++;
	}
	json_decref(j);
	return n;
}

/*
 * The balances in a reply to RL_BALANCES: up to max into out, the count
 * returned; -1 with fail set when the reply is not the list.
 */
int
recon_parse_balances(LiveExchange ex, long http, const char *body, size_t len,
					 ReconBalance *out, int max, LiveReply *fail)
{
	json_t	   *j = (http == 200 && body) ? json_loadb(body, len, 0, NULL) : NULL;
	json_t	   *list = NULL;
	json_t	   *b;
	size_t		i;
	int			n = 0;

	memset(fail, 0, sizeof(*fail));
	switch (ex)
	{
		case LX_BINANCE:
			list = json_object_get(j, "balances");
			break;
		case LX_BYBIT:
			if (json_is_integer(json_object_get(j, "retCode")) && json_integer_value(json_object_get(j, "retCode")) == 0)
				list = json_object_get(json_array_get(json_object_get(json_object_get(j, "result"), "list"), 0), "coin");
			break;
		case LX_OKX:
			if (json_string_value(json_object_get(j, "code")) &&
				strcmp(json_string_value(json_object_get(j, "code")), "0") == 0)
				list = json_object_get(json_array_get(json_object_get(j, "data"), 0), "details");
			break;
		case LX_COINBASE:
			list = json_object_get(j, "accounts");
			break;
		default:
			break;
	}
	if (!json_is_array(list))
	{
		json_decref(j);
		return recon_not_a_list(ex, http, body, len, "list", fail);
	}
	json_array_foreach(list, i, b)
	{
		ReconBalance *r = &out[n];

		if (n >= max)
			break;
		memset(r, 0, sizeof(*r));
		switch (ex)
		{
			case LX_BINANCE:
				set(r->asset, sizeof(r->asset), json_object_get(b, "asset"));
				set(r->free, sizeof(r->free), json_object_get(b, "free"));
				set(r->locked, sizeof(r->locked), json_object_get(b, "locked"));
				break;
			case LX_BYBIT:
				set(r->asset, sizeof(r->asset), json_object_get(b, "coin"));
				set(r->free, sizeof(r->free), json_object_get(b, "walletBalance"));
				break;
			case LX_OKX:
				set(r->asset, sizeof(r->asset), json_object_get(b, "ccy"));
				set(r->free, sizeof(r->free), json_object_get(b, "cashBal"));
				break;
			default:
				set(r->asset, sizeof(r->asset), json_object_get(b, "currency"));
				set(r->free, sizeof(r->free), json_object_get(json_object_get(b, "available_balance"), "value"));
				set(r->locked, sizeof(r->locked), json_object_get(json_object_get(b, "hold"), "value"));
				break;
		}
		if (r->asset[0] == '\0')
			continue;
		if (r->free[0] == '\0')
			strcpy(r->free, "0");
		if (r->locked[0] == '\0')
			strcpy(r->locked, "0");
		n++;
	}
	json_decref(j);
	return n;
}

/*
 * Where the next page of open orders starts, from a page read by
 * recon_parse_orders: Bybit's nextPageCursor, Coinbase's cursor when
 * has_next, OKX the last order's id when the page was full (limit, 0:
 * 100); "" when this was the last page (and always for Binance).
 */
void
recon_orders_next(LiveExchange ex, const char *body, size_t len, int limit, char *next, size_t n)
{
	json_t	   *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t	   *list;

	next[0] = '\0';
	switch (ex)
	{
		case LX_BYBIT:
			set(next, n, json_object_get(json_object_get(j, "result"), "nextPageCursor"));
			break;
		case LX_OKX:
			list = json_object_get(j, "data");
			if (json_is_array(list) && json_array_size(list) >= (size_t) (limit > 0 ? limit : 100))
				set(next, n, json_object_get(json_array_get(list, json_array_size(list) - 1), "ordId"));
			break;
		case LX_COINBASE:
			if (json_is_true(json_object_get(j, "has_next")))
				set(next, n, json_object_get(j, "cursor"));
			break;
		default:
			break;
	}
	json_decref(j);
}
