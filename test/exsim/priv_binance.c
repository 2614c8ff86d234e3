/*
 * test/exsim/priv_binance.c
 *	  Binance's signed REST endpoints (private.h): POST/DELETE/GET
 *	  /api/v3/order, GET /api/v3/openOrders, GET /api/v3/account.
 *
 * Authentication as Binance does it: X-MBX-APIKEY names the key (-2014
 * when absent, -2015 when unknown, HTTP 401); signature= is hex
 * HMAC-SHA256 of the query string without it followed by the form body
 * (-1022 when wrong); timestamp must satisfy timestamp < server + 1000
 * and server - timestamp <= recvWindow (default 5000, at most 60000;
 * -1021).  Error bodies are Binance's {"code":..,"msg":".."}.  Limits:
 * the query is taken as libwebsockets hands it over, so a client must
 * sign only unreserved characters (symbols, digits, ids); types MARKET,
 * LIMIT and LIMIT_MAKER.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include "live/sign.h"

static int
bn_err(ExConn *c, int status, int code, const char *msg)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"code\":%d,\"msg\":\"%s\"}", code, msg);
	return status;
}

static const char *
bn_status(PrivStatus s)
{
	static const char *names[] = {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"};

	return names[s];
}

/* the order object of GET /api/v3/order (RESULT fields) */
static void
bn_order_json(Exchange *ex, Buf *b, const PrivOrder *o)
{
	const MkSymbol *s = &ex->market.sym[o->si];

	buf_printf(b, "{\"symbol\":\"%s%s\",\"orderId\":%lld,\"orderListId\":-1,\"clientOrderId\":\"%s\","
			   "\"price\":\"%s\",\"origQty\":\"%s\",\"executedQty\":\"%s\",\"cummulativeQuoteQty\":\"%s\","
			   "\"status\":\"%s\",\"timeInForce\":\"%s\",\"type\":\"%s\",\"side\":\"%s\","
			   "\"stopPrice\":\"0.00000000\",\"icebergQty\":\"0.00000000\",\"time\":%lld,\"updateTime\":%lld,"
			   "\"isWorking\":true,\"workingTime\":%lld,\"origQuoteOrderQty\":\"0.00000000\",\"selfTradePreventionMode\":\"NONE\"}",
			   s->base, s->quote, (long long) o->id, o->client_id,
			   fmt_px(s, o->px, true, 8), fmt_qty(s, o->qty, true, 8), fmt_qty(s, o->filled, true, 8),
			   priv_amount(o->cum_quote), bn_status(o->status),
			   o->tif[0] == 'i' ? "IOC" : o->tif[0] == 'f' ? "FOK" : "GTC",
			   o->market ? "MARKET" : o->post_only ? "LIMIT_MAKER" : "LIMIT", o->buy ? "BUY" : "SELL",
			   (long long) o->created_ms, (long long) o->updated_ms, (long long) o->created_ms);
}

/* the signed payload: the query without its signature= parameter, then the body */
static bool
bn_check_signature(const PrivAccount *a, const PrivRequest *r)
{
	char		query[2048];
	char		want[SIGN_HEX_LEN];
	char		got[80] = "";
	size_t		o = 0;
	const char *p = r->args;

	query[0] = '\0';
	while (*p)
	{
		const char *end = strchr(p, '&');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (strncmp(p, "signature=", 10) == 0)
		{
			if (n - 10 < sizeof(got))
			{
				memcpy(got, p + 10, n - 10);
				got[n - 10] = '\0';
			}
		}
		else if (o + n + 2 < sizeof(query))
		{
			if (o > 0)
				query[o++] = '&';
			memcpy(query + o, p, n);
			o += n;
			query[o] = '\0';
		}
		else
			return false;
		p += n;
		if (*p == '&')
			p++;
	}
	if (got[0] == '\0' || sign_binance(a->secret, query, r->body, want, sizeof(want)) < 0)
		return false;
	for (char *q = got; *q; q++)		/* hex is case-insensitive here */
		if (*q >= 'A' && *q <= 'F')
			*q = (char) (*q - 'A' + 'a');
	return sign_equal(want, got);
}

/* key, signature, timestamp; the account's index or -1 with the reply set */
static int
bn_auth(Exchange *ex, ExConn *c, const PrivRequest *r, int *status)
{
	char		key[256];
	char		v[32];
	int			a;
	int64_t		ts,
				window = 5000,
				now = now_sim_ms();

	if (!priv_header(r, "x-mbx-apikey", key, sizeof(key)))
		return *status = bn_err(c, 401, -2014, "API-key format invalid."), -1;
	if ((a = priv_find_account(ex, key)) < 0)
		return *status = bn_err(c, 401, -2015, "Invalid API-key, IP, or permissions for action."), -1;
	if (!priv_param(r, "signature", v, sizeof(v)))
		return *status = bn_err(c, 400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."), -1;
	if (!bn_check_signature(&ex->priv->acct[a], r))
		return *status = bn_err(c, 400, -1022, "Signature for this request is not valid."), -1;
	if (!priv_param(r, "timestamp", v, sizeof(v)))
		return *status = bn_err(c, 400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."), -1;
	ts = atoll(v);
	if (priv_param(r, "recvWindow", v, sizeof(v)))
	{
		window = atoll(v);
		if (window <= 0 || window > 60000)
			return *status = bn_err(c, 400, -1131, "recvWindow must be less than 60000"), -1;
	}
	if (ts >= now + 1000 || now - ts > window)
		return *status = bn_err(c, 400, -1021, "Timestamp for this request is outside of the recvWindow."), -1;
	return a;
}

static int
bn_new_order(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	char		sym[40],
				side[8],
				type[16],
				tif[8] = "GTC",
				qty[40],
				px[40] = "",
				cid[64] = "",
				resp[8] = "";
	int			si,
				oi;
	int64_t		q,
				p = 0;
	const char *err = NULL;
	bool		market,
				maker;
	MkSymbol   *s;
	PrivOrder  *o;

	if (!priv_param(r, "symbol", sym, sizeof(sym)) || (si = priv_symbol(ex, sym, false)) < 0)
		return bn_err(c, 400, -1121, "Invalid symbol.");
	s = &ex->market.sym[si];
	if (!priv_param(r, "side", side, sizeof(side)) || (strcmp(side, "BUY") != 0 && strcmp(side, "SELL") != 0))
		return bn_err(c, 400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
	if (!priv_param(r, "type", type, sizeof(type)))
		return bn_err(c, 400, -1102, "Mandatory parameter 'type' was not sent, was empty/null, or malformed.");
	market = strcmp(type, "MARKET") == 0;
	maker = strcmp(type, "LIMIT_MAKER") == 0;
	if (!market && !maker && strcmp(type, "LIMIT") != 0)
		return bn_err(c, 400, -1116, "Invalid orderType.");
	if (!priv_param(r, "quantity", qty, sizeof(qty)) || !priv_parse_units(qty, s->qty_dec, &q))
		return bn_err(c, 400, -1013, "Filter failure: LOT_SIZE");
	if (!market && (!priv_param(r, "price", px, sizeof(px)) || !priv_parse_units(px, s->px_dec, &p) || p <= 0))
		return bn_err(c, 400, -1013, "Filter failure: PRICE_FILTER");
	if (strcmp(type, "LIMIT") == 0 && !priv_param(r, "timeInForce", tif, sizeof(tif)))
		return bn_err(c, 400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
	if (strcmp(tif, "GTC") != 0 && strcmp(tif, "IOC") != 0 && strcmp(tif, "FOK") != 0)
		return bn_err(c, 400, -1115, "Invalid timeInForce.");
	priv_param(r, "newClientOrderId", cid, sizeof(cid));
	priv_param(r, "newOrderRespType", resp, sizeof(resp));
	oi = priv_place(ex, a, si, cid, side[0] == 'B', market, p, q,
					market ? "ioc" : tif[0] == 'I' ? "ioc" : tif[0] == 'F' ? "fok" : "gtc",
					maker ? PRIV_PO_REFUSE : 0, &err);
	if (oi < 0)
	{
		if (strcmp(err, "duplicate") == 0)
			return bn_err(c, 400, -2010, "Duplicate order sent.");
		if (strcmp(err, "post_only") == 0)
			return bn_err(c, 400, -2010, "Order would immediately match and take.");
		if (strcmp(err, "balance") == 0)
			return bn_err(c, 400, -2010, "Account has insufficient balance for requested action.");
		if (strcmp(err, "qty") == 0)
			return bn_err(c, 400, -1013, "Filter failure: LOT_SIZE");
		return bn_err(c, 400, -2010, "Order rejected.");
	}
	if (priv_take_drop(ex))
		c->drop_reply = true;
	o = &ex->priv->orders[oi];
	if (strcmp(resp, "ACK") == 0)
	{
		buf_printf(&c->body, "{\"symbol\":\"%s%s\",\"orderId\":%lld,\"orderListId\":-1,\"clientOrderId\":\"%s\",\"transactTime\":%lld}",
				   s->base, s->quote, (long long) o->id, o->client_id, (long long) o->created_ms);
		return 200;
	}
	bn_order_json(ex, &c->body, o);
	/* FULL: the fills */
	c->body.len--;				/* reopen the object */
	buf_printf(&c->body, ",\"transactTime\":%lld,\"fills\":[", (long long) o->created_ms);
	for (int i = 0, first = 1; i < ex->priv->nfills; i++)
	{
		const PrivFill *f = &ex->priv->fills[i];

		if (f->order != oi)
			continue;
		buf_printf(&c->body, "%s{\"price\":\"%s\",\"qty\":\"%s\",\"commission\":\"%s\",\"commissionAsset\":\"%s\",\"tradeId\":%lld}",
				   first ? "" : ",", fmt_px(s, f->px, true, 8), fmt_qty(s, f->qty, true, 8),
				   priv_amount(f->fee), f->fee_asset, (long long) f->trade_id);
		first = 0;
	}
	buf_lit(&c->body, "]}");
	return 200;
}

/* the order named by orderId or origClientOrderId; -1 if none */
static int
bn_find(Exchange *ex, const PrivRequest *r, int a)
{
	char		v[64];

	if (priv_param(r, "orderId", v, sizeof(v)))
		return priv_find_order(ex, a, atoll(v), NULL);
	if (priv_param(r, "origClientOrderId", v, sizeof(v)))
		return priv_find_order(ex, a, 0, v);
	return -1;
}

int
priv_binance(Exchange *ex, ExConn *c, const PrivRequest *r)
{
	int			status = 0;
	int			a,
				oi;
	bool		order = strcmp(r->path, "/api/v3/order") == 0;

	if (strcmp(r->path, "/api/v3/userDataStream") == 0)
		return pstream_binance_rest(ex, c, r);	/* priv_stream.c */
	if (!order && strcmp(r->path, "/api/v3/openOrders") != 0 && strcmp(r->path, "/api/v3/account") != 0 &&
		strcmp(r->path, "/api/v3/myTrades") != 0)
		return 0;
	if ((a = bn_auth(ex, c, r, &status)) < 0)
		return status;
	if (strcmp(r->path, "/api/v3/myTrades") == 0)
		return priv_trades_binance(ex, c, r, a);	/* priv_trades.c */
	if (order && strcmp(r->method, "POST") == 0)
		return bn_new_order(ex, c, r, a);
	if (order && strcmp(r->method, "DELETE") == 0)
	{
		if ((oi = bn_find(ex, r, a)) < 0 || priv_cancel(ex, oi) < 0)
			return bn_err(c, 400, -2011, "Unknown order sent.");
		bn_order_json(ex, &c->body, &ex->priv->orders[oi]);
		return 200;
	}
	if (order)
	{
		if ((oi = bn_find(ex, r, a)) < 0)
			return bn_err(c, 400, -2013, "Order does not exist.");
		bn_order_json(ex, &c->body, &ex->priv->orders[oi]);
		return 200;
	}
	if (strcmp(r->path, "/api/v3/openOrders") == 0)
	{
		bool		first = true;

		buf_lit(&c->body, "[");
		for (int i = 0; i < ex->priv->norders; i++)
			if (ex->priv->orders[i].acct == a && priv_open(&ex->priv->orders[i]))
			{
				if (!first)
					buf_lit(&c->body, ",");
				bn_order_json(ex, &c->body, &ex->priv->orders[i]);
				first = false;
			}
		buf_lit(&c->body, "]");
		return 200;
	}
	/* /api/v3/account */
	{
		const PrivAccount *acc = &ex->priv->acct[a];

		buf_printf(&c->body, "{\"makerCommission\":10,\"takerCommission\":10,\"buyerCommission\":0,\"sellerCommission\":0,"
				   "\"canTrade\":true,\"canWithdraw\":true,\"canDeposit\":true,\"updateTime\":%lld,\"accountType\":\"SPOT\",\"balances\":[",
				   (long long) now_sim_ms());
		for (int i = 0; i < acc->nassets; i++)
			buf_printf(&c->body, "%s{\"asset\":\"%s\",\"free\":\"%s\",\"locked\":\"%s\"}", i ? "," : "",
					   acc->asset[i], priv_amount(acc->free[i]), priv_amount(acc->locked[i]));
		buf_lit(&c->body, "],\"permissions\":[\"SPOT\"]}");
		return 200;
	}
}
