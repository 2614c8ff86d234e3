/*
 * test/exsim/priv_bybit.c
 *	  Bybit v5's signed REST endpoints (private.h): POST /v5/order/create
 *	  and /v5/order/cancel, GET /v5/order/realtime (by orderId or
 *	  orderLinkId, else the open orders), GET /v5/account/wallet-balance;
 *	  and the public GET /v5/market/time.
 *
 * Authentication as Bybit does it: X-BAPI-API-KEY (retCode 10003 "API
 * key is invalid." when absent or unknown), X-BAPI-SIGN = hex
 * HMAC-SHA256 of X-BAPI-TIMESTAMP || key || X-BAPI-RECV-WINDOW ||
 * payload (the exact JSON body of a POST, the query of a GET; 10004),
 * and server - recv_window <= timestamp < server + 1000 (10002).  Errors
 * are HTTP 200 with Bybit's envelope.  Category spot only; a PostOnly
 * order that would take is accepted and canceled, as Bybit does.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/sign.h"

static int
by_reply(ExConn *c, int code, const char *msg, const char *result)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"retCode\":%d,\"retMsg\":\"%s\",\"result\":%s,\"retExtInfo\":{},\"time\":%lld}",
			   code, msg, result ? result : "{}", (long long) now_sim_ms());
	return 200;
}

static const char *
by_status(PrivStatus s)
{
	static const char *names[] = {"New", "PartiallyFilled", "Filled", "Cancelled", "Rejected", "Cancelled"};

	return names[s];
}

static void
by_order_json(Exchange *ex, Buf *b, const PrivOrder *o)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	__int128	avg = o->filled ? o->cum_quote / o->filled : 0;

	(void) avg;
	buf_printf(b, "{\"orderId\":\"%lld\",\"orderLinkId\":\"%s\",\"symbol\":\"%s%s\",\"price\":\"%s\",\"qty\":\"%s\","
			   "\"side\":\"%s\",\"orderStatus\":\"%s\",\"orderType\":\"%s\",\"timeInForce\":\"%s\","
			   "\"cumExecQty\":\"%s\",\"cumExecValue\":\"%s\",\"cumExecFee\":\"%s\",\"leavesQty\":\"%s\","
			   "\"rejectReason\":\"%s\",\"createdTime\":\"%lld\",\"updatedTime\":\"%lld\"}",
			   (long long) o->id, o->client_id, s->base, s->quote,
			   o->market ? "0" : fmt_px(s, o->px, false, 0), fmt_qty(s, o->qty, false, 0),
			   o->buy ? "Buy" : "Sell", by_status(o->status), o->market ? "Market" : "Limit",
			   o->post_only ? "PostOnly" : o->tif[0] == 'i' ? "IOC" : o->tif[0] == 'f' ? "FOK" : "GTC",
			   fmt_qty(s, o->filled, false, 0), priv_amount(o->cum_quote), priv_amount(o->fees),
			   priv_open(o) ? fmt_qty(s, o->qty - o->filled, false, 0) : "0",
			   o->post_only && o->status == PS_CANCELED && o->filled == 0 ? "EC_PostOnlyWillTakeLiquidity" : "EC_NoError",
			   (long long) o->created_ms, (long long) o->updated_ms);
}

/* the account's index, or -1 with the reply set */
static int
by_auth(Exchange *ex, ExConn *c, const PrivRequest *r, int *status)
{
	char		key[256],
				ts[32],
				sig[80],
				win[16] = "5000",
				want[SIGN_HEX_LEN];
	int			a;
	int64_t		t,
				w,
				now = now_sim_ms();
	bool		post = strcmp(r->method, "POST") == 0;

	if (!priv_header(r, "x-bapi-api-key", key, sizeof(key)) || (a = priv_find_account(ex, key)) < 0)
		return *status = by_reply(c, 10003, "API key is invalid.", NULL), -1;
	priv_header(r, "x-bapi-recv-window", win, sizeof(win));
	if (!priv_header(r, "x-bapi-timestamp", ts, sizeof(ts)) || !priv_header(r, "x-bapi-sign", sig, sizeof(sig)))
		return *status = by_reply(c, 10001, "Request parameter error.", NULL), -1;
	if (sign_bybit(ex->priv->acct[a].secret, ts, key, win, post ? r->body : r->args, want, sizeof(want)) < 0 ||
		!sign_equal(want, sig))
		return *status = by_reply(c, 10004, "Error sign, please check your signature generation algorithm.", NULL), -1;
	t = atoll(ts);
	w = atoll(win);
	if (t < now - w || t >= now + 1000)
		return *status = by_reply(c, 10002, "invalid request, please check your server timestamp or recv_window param", NULL), -1;
	return a;
}

static int
by_create(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	json_t	   *j = json_loads(r->body, 0, NULL);
	const char *cat = json_string_value(json_object_get(j, "category"));
	const char *sym = json_string_value(json_object_get(j, "symbol"));
	const char *side = json_string_value(json_object_get(j, "side"));
	const char *type = json_string_value(json_object_get(j, "orderType"));
	const char *qty = json_string_value(json_object_get(j, "qty"));
	const char *px = json_string_value(json_object_get(j, "price"));
	const char *tif = json_string_value(json_object_get(j, "timeInForce"));
	const char *link = json_string_value(json_object_get(j, "orderLinkId"));
	const char *err = NULL;
	int			si,
				oi;
	int64_t		q,
				p = 0;
	bool		market;
	MkSymbol   *s;
	Buf			res = {0};
	int			st;

	if (!j || !cat || strcmp(cat, "spot") != 0 || !side || !type || !qty)
		return json_decref(j), by_reply(c, 10001, "Request parameter error.", NULL);
	if (!sym || (si = priv_symbol(ex, sym, false)) < 0)
		return json_decref(j), by_reply(c, 170121, "Invalid symbol.", NULL);
	s = &ex->market.sym[si];
	market = strcmp(type, "Market") == 0;
	if (!priv_parse_units(qty, s->qty_dec, &q) ||
		(!market && (!px || !priv_parse_units(px, s->px_dec, &p))) ||
		(strcmp(side, "Buy") != 0 && strcmp(side, "Sell") != 0))
		return json_decref(j), by_reply(c, 10001, "Request parameter error.", NULL);
	if (!tif)
		tif = market ? "IOC" : "GTC";
	oi = priv_place(ex, a, si, link, side[0] == 'B', market, p, q,
					strcmp(tif, "IOC") == 0 ? "ioc" : strcmp(tif, "FOK") == 0 ? "fok" : "gtc",
					strcmp(tif, "PostOnly") == 0 ? PRIV_PO_CANCEL : 0, &err);
	json_decref(j);
	if (oi < 0)
		return strcmp(err, "duplicate") == 0 ? by_reply(c, 10001, "Duplicate orderLinkId", NULL) :
			strcmp(err, "balance") == 0 ? by_reply(c, 170131, "Insufficient balance.", NULL) :
			by_reply(c, 170136, "Order quantity exceeded lower limit.", NULL);
	if (priv_take_drop(ex))
		c->drop_reply = true;
	buf_printf(&res, "{\"orderId\":\"%lld\",\"orderLinkId\":\"%s\"}",
			   (long long) ex->priv->orders[oi].id, ex->priv->orders[oi].client_id);
	st = by_reply(c, 0, "OK", res.data);
	buf_free(&res);
	return st;
}

/* the order a body or query names by orderId or orderLinkId; -1 if none */
static int
by_find(Exchange *ex, int a, const char *order_id, const char *link)
{
	if (order_id && order_id[0])
		return priv_find_order(ex, a, atoll(order_id), NULL);
	if (link && link[0])
		return priv_find_order(ex, a, 0, link);
	return -1;
}

int
priv_bybit(Exchange *ex, ExConn *c, const PrivRequest *r)
{
	int			status = 0,
				a,
				oi;
	Buf			res = {0};

	if (strcmp(r->path, "/v5/market/time") == 0)
	{
		int64_t		now = now_sim_ms();

		buf_printf(&res, "{\"timeSecond\":\"%lld\",\"timeNano\":\"%lld000000\"}",
				   (long long) (now / 1000), (long long) now);
		status = by_reply(c, 0, "OK", res.data);
		buf_free(&res);
		return status;
	}
	if (strncmp(r->path, "/v5/order/", 10) != 0 && strcmp(r->path, "/v5/account/wallet-balance") != 0 &&
		strcmp(r->path, "/v5/execution/list") != 0)
		return 0;
	if ((a = by_auth(ex, c, r, &status)) < 0)
		return status;
	if (strcmp(r->path, "/v5/order/create") == 0 && strcmp(r->method, "POST") == 0)
		return by_create(ex, c, r, a);
	if (strcmp(r->path, "/v5/order/cancel") == 0 && strcmp(r->method, "POST") == 0)
	{
		json_t	   *j = json_loads(r->body, 0, NULL);

		oi = by_find(ex, a, json_string_value(json_object_get(j, "orderId")),
					 json_string_value(json_object_get(j, "orderLinkId")));
		json_decref(j);
		if (oi < 0 || priv_cancel(ex, oi) < 0)
			return by_reply(c, 170213, "Order does not exist.", NULL);
		buf_printf(&res, "{\"orderId\":\"%lld\",\"orderLinkId\":\"%s\"}",
				   (long long) ex->priv->orders[oi].id, ex->priv->orders[oi].client_id);
	}
	else if (strcmp(r->path, "/v5/order/realtime") == 0)
	{
		char		id[32] = "",
					link[64] = "";
		bool		first = true;

		char		cur[32] = "";
		int			lim = priv_page_limit(r, "limit", 20, 50),
					skip,
					n = 0;

		url_arg(r->args, "orderId", id, sizeof(id));
		url_arg(r->args, "orderLinkId", link, sizeof(link));
		url_arg(r->args, "cursor", cur, sizeof(cur));
		skip = atoi(cur);
		if (lim == 0)
			lim = 20;
		oi = by_find(ex, a, id, link);
		/* newest first, limit a page (default 20, at most 50), the cursor an offset */
		buf_lit(&res, "{\"category\":\"spot\",\"list\":[");
		for (int i = ex->priv->norders - 1; i >= 0; i--)
		{
			const PrivOrder *o = &ex->priv->orders[i];

			if (o->acct != a || (id[0] || link[0] ? i != oi : !priv_open(o)))
				continue;
			if (n++ < skip || n > skip + lim)
				continue;
			if (!first)
				buf_lit(&res, ",");
			by_order_json(ex, &res, o);
			first = false;
		}
		if (n > skip + lim)
			buf_printf(&res, "],\"nextPageCursor\":\"%d\"}", skip + lim);
		else
			buf_lit(&res, "],\"nextPageCursor\":\"\"}");
	}
	else if (strcmp(r->path, "/v5/execution/list") == 0)
	{
		if (!priv_trades_bybit(ex, &res, r, a))	/* priv_trades.c */
		{
			buf_free(&res);
			return by_reply(c, 10001, "Request parameter error.", NULL);
		}
	}
	else if (strcmp(r->path, "/v5/account/wallet-balance") == 0)
	{
		const PrivAccount *acc = &ex->priv->acct[a];

		buf_lit(&res, "{\"list\":[{\"accountType\":\"UNIFIED\",\"coin\":[");
		for (int i = 0; i < acc->nassets; i++)
			buf_printf(&res, "%s{\"coin\":\"%s\",\"walletBalance\":\"%s\",\"locked\":\"%s\",\"free\":\"%s\"}",
					   i ? "," : "", acc->asset[i], priv_amount(acc->free[i] + acc->locked[i]),
					   priv_amount(acc->locked[i]), priv_amount(acc->free[i]));
		buf_lit(&res, "]}]}");
	}
	else
		return by_reply(c, 10001, "Request parameter error.", NULL);
	status = by_reply(c, 0, "OK", res.data);
	buf_free(&res);
	return status;
}
