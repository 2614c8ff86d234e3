/*
 * test/exsim/priv_okx.c
 *	  OKX v5's signed REST endpoints (private.h): POST /api/v5/trade/order
 *	  and /api/v5/trade/cancel-order, GET /api/v5/trade/order (by ordId or
 *	  clOrdId), /api/v5/trade/orders-pending, /api/v5/account/balance;
 *	  and the public GET /api/v5/public/time.
 *
 * Authentication as OKX does it (HTTP 401, {"msg","code"}):
 * OK-ACCESS-KEY (50103 absent, 50111 unknown), OK-ACCESS-PASSPHRASE
 * (50105), OK-ACCESS-SIGN = base64 HMAC-SHA256 of OK-ACCESS-TIMESTAMP ||
 * METHOD || path (with ?query) || body (50113), the ISO timestamp within
 * 30 s of the server's clock (50112 malformed, 50102 expired).  Spot
 * (tdMode cash) only; a market buy's sz is in the quote currency unless
 * tgtCcy is base_ccy; a post_only order that would take is accepted and
 * canceled.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "live/sign.h"

static int
okx_err(ExConn *c, int status, const char *code, const char *msg)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"msg\":\"%s\",\"code\":\"%s\"}", msg, code);
	return status;
}

static int
okx_data(ExConn *c, const char *code, const char *msg, const char *data)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"code\":\"%s\",\"msg\":\"%s\",\"data\":%s}", code, msg, data);
	return 200;
}

/* 2020-12-08T09:08:57.715Z as Unix ms; -1 if malformed */
static int64_t
okx_parse_ts(const char *s)
{
	struct tm	tm = {0};
	int			ms;
	char		z;

	if (strlen(s) != 24 ||
		sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm) * 1000 + ms;
}

static const char *
okx_state(PrivStatus s)
{
	static const char *names[] = {"live", "partially_filled", "filled", "canceled", "canceled", "canceled"};

	return names[s];
}

static void
okx_order_json(Exchange *ex, Buf *b, const PrivOrder *o)
{
	const MkSymbol *s = &ex->market.sym[o->si];

	buf_printf(b, "{\"instType\":\"SPOT\",\"instId\":\"%s-%s\",\"ordId\":\"%lld\",\"clOrdId\":\"%s\",\"tag\":\"\","
			   "\"px\":\"%s\",\"sz\":\"%s\",\"ordType\":\"%s\",\"side\":\"%s\",\"tdMode\":\"cash\",\"state\":\"%s\","
			   "\"accFillSz\":\"%s\",\"fillNotional\":\"%s\",\"fee\":\"-%s\",\"feeCcy\":\"%s\",\"cTime\":\"%lld\",\"uTime\":\"%lld\"}",
			   s->base, s->quote, (long long) o->id, o->client_id,
			   o->market ? "" : fmt_px(s, o->px, false, 0), fmt_qty(s, o->qty, false, 0),
			   o->market ? "market" : o->post_only ? "post_only" : o->tif[0] == 'i' ? "ioc" : o->tif[0] == 'f' ? "fok" : "limit",
			   o->buy ? "buy" : "sell", okx_state(o->status), fmt_qty(s, o->filled, false, 0),
			   priv_amount(o->cum_quote), priv_amount(o->fees), s->quote,
			   (long long) o->created_ms, (long long) o->updated_ms);
}

/* the account's index, or -1 with the reply set */
static int
okx_auth(Exchange *ex, ExConn *c, const PrivRequest *r, int *status)
{
	char		key[256],
				pass[128] = "",
				ts[40],
				sig[80],
				path[2400],
				want[SIGN_B64_LEN];
	int			a;
	int64_t		t;
	const PrivAccount *acc;

	if (!priv_header(r, "ok-access-key", key, sizeof(key)))
		return *status = okx_err(c, 401, "50103", "Request header OK-ACCESS-KEY cannot be empty"), -1;
	if ((a = priv_find_account(ex, key)) < 0)
		return *status = okx_err(c, 401, "50111", "Invalid OK-ACCESS-KEY"), -1;
	acc = &ex->priv->acct[a];
	if (!priv_header(r, "ok-access-timestamp", ts, sizeof(ts)) || (t = okx_parse_ts(ts)) < 0)
		return *status = okx_err(c, 401, "50112", "Invalid OK-ACCESS-TIMESTAMP"), -1;
	if (!priv_header(r, "ok-access-passphrase", pass, sizeof(pass)) || !sign_equal(pass, acc->passphrase))
		return *status = okx_err(c, 401, "50105", "Invalid OK-ACCESS-PASSPHRASE"), -1;
	snprintf(path, sizeof(path), "%s%s%s", r->path, r->args[0] ? "?" : "", r->args);
	if (!priv_header(r, "ok-access-sign", sig, sizeof(sig)) ||
		sign_okx(acc->secret, ts, r->method, path, r->body, want, sizeof(want)) < 0 || !sign_equal(want, sig))
		return *status = okx_err(c, 401, "50113", "Invalid Sign"), -1;
	if (llabs(now_sim_ms() - t) > 30000)
		return *status = okx_err(c, 401, "50102", "Timestamp request expired"), -1;
	return a;
}

static int
okx_place(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	json_t	   *j = json_loads(r->body, 0, NULL);
	const char *inst = json_string_value(json_object_get(j, "instId"));
	const char *side = json_string_value(json_object_get(j, "side"));
	const char *type = json_string_value(json_object_get(j, "ordType"));
	const char *sz = json_string_value(json_object_get(j, "sz"));
	const char *px = json_string_value(json_object_get(j, "px"));
	const char *cl = json_string_value(json_object_get(j, "clOrdId"));
	const char *tgt = json_string_value(json_object_get(j, "tgtCcy"));
	const char *td = json_string_value(json_object_get(j, "tdMode"));
	const char *err = NULL;
	const char *scode = "0",
			   *smsg = "";
	int			si = -1,
				oi = -1;
	int64_t		q = 0,
				p = 0;
	bool		market = type && strcmp(type, "market") == 0;
	Buf			d = {0};
	int			st;

	if (!j || !side || !type || !sz || !td || strcmp(td, "cash") != 0)
		scode = "51000", smsg = "Parameter error";
	else if (!inst || (si = priv_symbol(ex, inst, true)) < 0)
		scode = "51001", smsg = "Instrument ID does not exist";
	else
	{
		MkSymbol   *s = &ex->market.sym[si];
		bool		buy = strcmp(side, "buy") == 0;

		if (market && buy && !(tgt && strcmp(tgt, "base_ccy") == 0))
		{
			int64_t		quote;

			/* sz in the quote currency: as much base as it buys at the ask */
			if (priv_parse_units(sz, s->px_dec + s->qty_dec, &quote) && s->ask > 0)
				q = quote / s->ask;
		}
		else if (!priv_parse_units(sz, s->qty_dec, &q))
			q = 0;
		if (!market && (!px || !priv_parse_units(px, s->px_dec, &p)))
			scode = "51000", smsg = "Parameter px error";
		else
		{
			oi = priv_place(ex, a, si, cl, buy, market, p, q,
							strcmp(type, "ioc") == 0 ? "ioc" : strcmp(type, "fok") == 0 ? "fok" : "gtc",
							strcmp(type, "post_only") == 0 ? PRIV_PO_CANCEL : 0, &err);
			if (oi < 0)
			{
				if (strcmp(err, "duplicate") == 0)
					scode = "51016", smsg = "Duplicated clOrdId";
				else if (strcmp(err, "balance") == 0)
					scode = "51008", smsg = "Order failed. Insufficient balance.";
				else
					scode = "51020", smsg = "Your order should meet or exceed the minimum order amount.";
			}
		}
	}
	json_decref(j);
	if (oi >= 0 && priv_take_drop(ex))
		c->drop_reply = true;
	{
		char		ord[24] = "";	/* a failed order has no ordId */

		if (oi >= 0)
			snprintf(ord, sizeof(ord), "%lld", (long long) ex->priv->orders[oi].id);
		buf_printf(&d, "[{\"clOrdId\":\"%s\",\"ordId\":\"%s\",\"tag\":\"\",\"ts\":\"%lld\",\"sCode\":\"%s\",\"sMsg\":\"%s\"}]",
				   oi >= 0 ? ex->priv->orders[oi].client_id : "", ord, (long long) now_sim_ms(), scode, smsg);
	}
	st = okx_data(c, oi >= 0 ? "0" : "1", oi >= 0 ? "" : "All operations failed", d.data);
	buf_free(&d);
	return st;
}

int
priv_okx(Exchange *ex, ExConn *c, const PrivRequest *r)
{
	int			status = 0,
				a,
				oi;
	Buf			d = {0};
	char		id[32] = "",
				cl[64] = "";

	if (strcmp(r->path, "/api/v5/public/time") == 0)
	{
		buf_printf(&d, "[{\"ts\":\"%lld\"}]", (long long) now_sim_ms());
		status = okx_data(c, "0", "", d.data);
		buf_free(&d);
		return status;
	}
	if (strncmp(r->path, "/api/v5/trade/", 14) != 0 && strcmp(r->path, "/api/v5/account/balance") != 0)
		return 0;
	if ((a = okx_auth(ex, c, r, &status)) < 0)
		return status;
	if (strcmp(r->path, "/api/v5/trade/order") == 0 && strcmp(r->method, "POST") == 0)
		return okx_place(ex, c, r, a);
	if (strcmp(r->path, "/api/v5/trade/cancel-order") == 0 && strcmp(r->method, "POST") == 0)
	{
		json_t	   *j = json_loads(r->body, 0, NULL);
		const char *o_id = json_string_value(json_object_get(j, "ordId"));
		const char *o_cl = json_string_value(json_object_get(j, "clOrdId"));

		oi = o_id && o_id[0] ? priv_find_order(ex, a, atoll(o_id), NULL) :
			o_cl ? priv_find_order(ex, a, 0, o_cl) : -1;
		json_decref(j);
		if (oi < 0 || priv_cancel(ex, oi) < 0)
			status = okx_data(c, "1", "All operations failed",
							  "[{\"clOrdId\":\"\",\"ordId\":\"\",\"sCode\":\"51400\",\"sMsg\":\"Order cancellation failed as the order has been filled, canceled or does not exist\"}]");
		else
		{
			buf_printf(&d, "[{\"clOrdId\":\"%s\",\"ordId\":\"%lld\",\"sCode\":\"0\",\"sMsg\":\"\"}]",
					   ex->priv->orders[oi].client_id, (long long) ex->priv->orders[oi].id);
			status = okx_data(c, "0", "", d.data);
		}
		buf_free(&d);
		return status;
	}
	if (strcmp(r->path, "/api/v5/trade/order") == 0)
	{
		url_arg(r->args, "ordId", id, sizeof(id));
		url_arg(r->args, "clOrdId", cl, sizeof(cl));
		oi = id[0] ? priv_find_order(ex, a, atoll(id), NULL) : priv_find_order(ex, a, 0, cl);
		if (oi < 0)
			return okx_data(c, "51603", "Order does not exist", "[]");
		buf_lit(&d, "[");
		okx_order_json(ex, &d, &ex->priv->orders[oi]);
		buf_lit(&d, "]");
	}
	else if (strcmp(r->path, "/api/v5/trade/orders-pending") == 0)
	{
		bool		first = true;
		char		after[32] = "";
		int			lim = priv_page_limit(r, "limit", 100, 100),
					n = 0;

		/* newest first, at most limit (100), after: older than that order id */
		url_arg(r->args, "after", after, sizeof(after));
		if (lim == 0)
			return okx_data(c, "51000", "Parameter limit error", "[]");
		buf_lit(&d, "[");
		for (int i = ex->priv->norders - 1; i >= 0 && n < lim; i--)
			if (ex->priv->orders[i].acct == a && priv_open(&ex->priv->orders[i]) &&
				(!after[0] || ex->priv->orders[i].id < atoll(after)))
			{
				if (!first)
					buf_lit(&d, ",");
				okx_order_json(ex, &d, &ex->priv->orders[i]);
				first = false;
				n++;
			}
		buf_lit(&d, "]");
	}
	else if (strcmp(r->path, "/api/v5/trade/fills") == 0)
	{
		if (!priv_trades_okx(ex, &d, r, a))	/* priv_trades.c */
		{
			buf_free(&d);
			return okx_data(c, "51000", "Parameter limit error", "[]");
		}
	}
	else if (strcmp(r->path, "/api/v5/account/balance") == 0)
	{
		const PrivAccount *acc = &ex->priv->acct[a];

		buf_printf(&d, "[{\"uTime\":\"%lld\",\"details\":[", (long long) now_sim_ms());
		for (int i = 0; i < acc->nassets; i++)
			buf_printf(&d, "%s{\"ccy\":\"%s\",\"cashBal\":\"%s\",\"availBal\":\"%s\",\"frozenBal\":\"%s\",\"eq\":\"%s\"}",
					   i ? "," : "", acc->asset[i], priv_amount(acc->free[i] + acc->locked[i]),
					   priv_amount(acc->free[i]), priv_amount(acc->locked[i]),
					   priv_amount(acc->free[i] + acc->locked[i]));
		buf_lit(&d, "]}]");
	}
	else
		return okx_err(c, 404, "50000", "Not found");
	status = okx_data(c, "0", "", d.data);
	buf_free(&d);
	return status;
}
