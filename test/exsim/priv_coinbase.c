/*
 * test/exsim/priv_coinbase.c
 *	  Coinbase Advanced Trade's signed REST endpoints (private.h): POST
 *	  /api/v3/brokerage/orders and /orders/batch_cancel, GET
 *	  /orders/historical/{order_id}, /orders/historical/batch, /accounts;
 *	  and the public GET /api/v3/brokerage/time.
 *
 * Authentication as Coinbase does it: Authorization: Bearer <JWT>, ES256
 * or EdDSA under the key named by its sub claim (kid), iss "cdp",
 * nbf <= now < exp on the exchange's clock, and uri "<METHOD>
 * <Host header><path>"; anything else is HTTP 401
 * {"error":"UNAUTHORIZED","code":16,"message":"Unauthorized"}.  A
 * client_order_id seen before returns the order it placed (Coinbase's
 * idempotency).  order_configuration: market_market_ioc (base_size),
 * limit_limit_gtc (post_only), limit_limit_fok, sor_limit_ioc.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/sign.h"

static int
cb_unauthorized(ExConn *c)
{
	buf_reset(&c->body);
	buf_lit(&c->body, "{\"error\":\"UNAUTHORIZED\",\"code\":16,\"message\":\"Unauthorized\"}");
	return 401;
}

static const char *
cb_status(PrivStatus s)
{
	static const char *names[] = {"OPEN", "OPEN", "FILLED", "CANCELLED", "FAILED", "EXPIRED"};

	return names[s];
}

/* the account's index, or -1 (the reply is then a 401) */
static int
cb_auth(Exchange *ex, const PrivRequest *r)
{
	char		auth[2048],
				host[256],
				claims[1024],
				uri[600];
	const char *tok;
	const char *dot1,
			   *dot2;
	int			n,
				a;
	json_t	   *j;
	const char *sub,
			   *iss,
			   *juri;
	int64_t		nbf,
				exp,
				now = now_sim_ms() / 1000;
	bool		ok;

	if (!priv_header(r, "authorization", auth, sizeof(auth)) || strncmp(auth, "Bearer ", 7) != 0)
		return -1;
	tok = auth + 7;
	/* the key named by the (not yet verified) claims, then verify with it */
	if ((dot1 = strchr(tok, '.')) == NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return -1;
	n = sign_base64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), (unsigned char *) claims, sizeof(claims) - 1);
	if (n < 0)
		return -1;
	claims[n] = '\0';
	j = json_loads(claims, 0, NULL);
	sub = json_string_value(json_object_get(j, "sub"));
	if (!sub || (a = priv_find_account(ex, sub)) < 0 ||
		sign_jwt_verify(tok, ex->priv->acct[a].pubpem, claims, sizeof(claims)) < 0)
	{
		json_decref(j);
		return -1;
	}
	iss = json_string_value(json_object_get(j, "iss"));
	juri = json_string_value(json_object_get(j, "uri"));
	nbf = json_integer_value(json_object_get(j, "nbf"));
	exp = json_integer_value(json_object_get(j, "exp"));
	if (!priv_header(r, "host", host, sizeof(host)))
		host[0] = '\0';
	snprintf(uri, sizeof(uri), "%s %s%s", r->method, host, r->path);
	ok = iss && strcmp(iss, "cdp") == 0 && juri && strcmp(juri, uri) == 0 && nbf <= now && now < exp;
	json_decref(j);
	return ok ? a : -1;
}

static void
cb_order_json(Exchange *ex, Buf *b, const PrivOrder *o)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	char		created[40];
	const char *cfg = o->market ? "market_market_ioc" : o->tif[0] == 'f' ? "limit_limit_fok" :
		o->tif[0] == 'i' ? "sor_limit_ioc" : "limit_limit_gtc";

	fmt_rfc3339(created, sizeof(created), o->created_ms, true);
	buf_printf(b, "{\"order_id\":\"%lld\",\"product_id\":\"%s-%s\",\"user_id\":\"exsim\",\"order_configuration\":{\"%s\":{\"base_size\":\"%s\"",
			   (long long) o->id, s->base, s->quote, cfg, fmt_qty(s, o->qty, false, 0));
	if (!o->market)
		buf_printf(b, ",\"limit_price\":\"%s\"%s", fmt_px(s, o->px, false, 0),
				   o->tif[0] == 'g' ? (o->post_only ? ",\"post_only\":true" : ",\"post_only\":false") : "");
	buf_printf(b, "}},\"side\":\"%s\",\"client_order_id\":\"%s\",\"status\":\"%s\",\"time_in_force\":\"%s\","
			   "\"created_time\":\"%s\",\"filled_size\":\"%s\",\"filled_value\":\"%s\",\"total_fees\":\"%s\","
			   "\"number_of_fills\":\"%d\",\"order_type\":\"%s\"}",
			   o->buy ? "BUY" : "SELL", o->client_id, cb_status(o->status),
			   o->market || o->tif[0] == 'i' ? "IMMEDIATE_OR_CANCEL" : o->tif[0] == 'f' ? "FILL_OR_KILL" : "GOOD_UNTIL_CANCELLED",
			   created, fmt_qty(s, o->filled, false, 0), priv_amount(o->cum_quote), priv_amount(o->fees),
			   o->filled > 0, o->market ? "MARKET" : "LIMIT");
}

static int
cb_create(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	json_t	   *j = json_loads(r->body, 0, NULL);
	const char *cid = json_string_value(json_object_get(j, "client_order_id"));
	const char *prod = json_string_value(json_object_get(j, "product_id"));
	const char *side = json_string_value(json_object_get(j, "side"));
	json_t	   *cfgs = json_object_get(j, "order_configuration");
	const char *kind = NULL;
	json_t	   *cfg = NULL;
	const char *size,
			   *px,
			   *err = NULL,
			   *reason = NULL;
	int			si,
				oi = -1;
	int64_t		q = 0,
				p = 0;
	bool		market,
				post_only;
	MkSymbol   *s;

	json_object_foreach(cfgs, kind, cfg) break;
	if (!j || !cid || !cid[0] || !side || !kind || !prod || (si = priv_symbol(ex, prod, true)) < 0)
	{
		json_decref(j);
		buf_lit(&c->body, "{\"error\":\"INVALID_ARGUMENT\",\"code\":3,\"message\":\"invalid request\"}");
		return 400;
	}
	s = &ex->market.sym[si];
	/* a client_order_id seen before: that order again */
	if ((oi = priv_find_order(ex, a, 0, cid)) < 0)
	{
		market = strcmp(kind, "market_market_ioc") == 0;
		size = json_string_value(json_object_get(cfg, "base_size"));
		px = json_string_value(json_object_get(cfg, "limit_price"));
		post_only = json_is_true(json_object_get(cfg, "post_only"));
		if (!market && strcmp(kind, "limit_limit_gtc") != 0 && strcmp(kind, "limit_limit_fok") != 0 &&
			strcmp(kind, "sor_limit_ioc") != 0)
			reason = "UNSUPPORTED_ORDER_CONFIGURATION";
		else if (!size || !priv_parse_units(size, s->qty_dec, &q) ||
				 (!market && (!px || !priv_parse_units(px, s->px_dec, &p))))
			reason = "INVALID_SIZE_PRECISION";
		else
		{
			oi = priv_place(ex, a, si, cid, strcmp(side, "BUY") == 0, market, p, q,
							market || kind[0] == 's' ? "ioc" : strcmp(kind, "limit_limit_fok") == 0 ? "fok" : "gtc",
							post_only ? PRIV_PO_REFUSE : 0, &err);
			if (oi < 0)
				reason = strcmp(err, "balance") == 0 ? "INSUFFICIENT_FUND" :
					strcmp(err, "post_only") == 0 ? "INVALID_LIMIT_PRICE_POST_ONLY" : "INVALID_SIZE_PRECISION";
		}
	}
	json_decref(j);
	if (oi < 0)
	{
		buf_printf(&c->body, "{\"success\":false,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":\"\","
				   "\"error_response\":{\"error\":\"%s\",\"message\":\"%s\",\"error_details\":\"\",\"preview_failure_reason\":\"PREVIEW_%s\"}}",
				   reason, reason, reason);
		return 200;
	}
	if (priv_take_drop(ex))
		c->drop_reply = true;
	{
		const PrivOrder *o = &ex->priv->orders[oi];

		buf_printf(&c->body, "{\"success\":true,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":\"%lld\","
				   "\"success_response\":{\"order_id\":\"%lld\",\"product_id\":\"%s-%s\",\"side\":\"%s\",\"client_order_id\":\"%s\"}}",
				   (long long) o->id, (long long) o->id, s->base, s->quote, o->buy ? "BUY" : "SELL", o->client_id);
	}
	return 200;
}

int
priv_coinbase(Exchange *ex, ExConn *c, const PrivRequest *r)
{
	const char *hist = "/api/v3/brokerage/orders/historical/";
	int			a,
				oi;

	if (strcmp(r->path, "/api/v3/brokerage/time") == 0)
	{
		char		iso[40];
		int64_t		now = now_sim_ms();

		fmt_rfc3339(iso, sizeof(iso), now, false);
		buf_printf(&c->body, "{\"iso\":\"%s\",\"epochSeconds\":\"%lld\",\"epochMillis\":\"%lld\"}",
				   iso, (long long) (now / 1000), (long long) now);
		return 200;
	}
	if (strncmp(r->path, "/api/v3/brokerage/orders", 24) != 0 && strcmp(r->path, "/api/v3/brokerage/accounts") != 0)
		return 0;
	if ((a = cb_auth(ex, r)) < 0)
		return cb_unauthorized(c);
	if (strcmp(r->path, "/api/v3/brokerage/orders") == 0 && strcmp(r->method, "POST") == 0)
		return cb_create(ex, c, r, a);
	if (strcmp(r->path, "/api/v3/brokerage/orders/batch_cancel") == 0 && strcmp(r->method, "POST") == 0)
	{
		json_t	   *j = json_loads(r->body, 0, NULL);
		json_t	   *id;
		size_t		i;

		buf_lit(&c->body, "{\"results\":[");
		json_array_foreach(json_object_get(j, "order_ids"), i, id)
		{
			const char *v = json_string_value(id);
			int			k = v ? priv_find_order(ex, a, atoll(v), NULL) : -1;
			bool		ok = k >= 0 && priv_cancel(ex, k) == 0;

			buf_printf(&c->body, "%s{\"success\":%s,\"failure_reason\":\"%s\",\"order_id\":\"%s\"}",
					   i ? "," : "", ok ? "true" : "false",
					   ok ? "UNKNOWN_CANCEL_FAILURE_REASON" : k >= 0 ? "DUPLICATE_CANCEL_REQUEST" : "UNKNOWN_CANCEL_ORDER",
					   v ? v : "");
		}
		buf_lit(&c->body, "]}");
		json_decref(j);
		return 200;
	}
	if (strcmp(r->path, "/api/v3/brokerage/orders/historical/fills") == 0)
		return priv_trades_coinbase(ex, c, r, a);	/* priv_trades.c */
	if (strcmp(r->path, "/api/v3/brokerage/orders/historical/batch") == 0)
	{
		char		st[16] = "",
					cur[32] = "";
		bool		first = true;
		int			lim = priv_page_limit(r, "limit", 1000, 1000),
					skip,
					n = 0;

		url_arg(r->args, "order_status", st, sizeof(st));
		url_arg(r->args, "cursor", cur, sizeof(cur));
		skip = atoi(cur);
		if (lim == 0)
			lim = 1000;
		/* newest first, limit a page, the cursor an offset */
		buf_lit(&c->body, "{\"orders\":[");
		for (int i = ex->priv->norders - 1; i >= 0; i--)
		{
			const PrivOrder *o = &ex->priv->orders[i];

			if (o->acct != a || (st[0] && strcmp(st, cb_status(o->status)) != 0))
				continue;
			if (n++ < skip || n > skip + lim)
				continue;
			if (!first)
				buf_lit(&c->body, ",");
			cb_order_json(ex, &c->body, o);
			first = false;
		}
		if (n > skip + lim)
			buf_printf(&c->body, "],\"sequence\":\"0\",\"has_next\":true,\"cursor\":\"%d\"}", skip + lim);
		else
			buf_lit(&c->body, "],\"sequence\":\"0\",\"has_next\":false,\"cursor\":\"\"}");
		return 200;
	}
	if (strncmp(r->path, hist, strlen(hist)) == 0)
	{
		if ((oi = priv_find_order(ex, a, atoll(r->path + strlen(hist)), NULL)) < 0)
		{
			buf_lit(&c->body, "{\"error\":\"NOT_FOUND\",\"code\":5,\"message\":\"order with this orderID was not found\"}");
			return 404;
		}
		buf_lit(&c->body, "{\"order\":");
		cb_order_json(ex, &c->body, &ex->priv->orders[oi]);
		buf_lit(&c->body, "}");
		return 200;
	}
	if (strcmp(r->path, "/api/v3/brokerage/accounts") == 0)
	{
		const PrivAccount *acc = &ex->priv->acct[a];

		buf_lit(&c->body, "{\"accounts\":[");
		for (int i = 0; i < acc->nassets; i++)
			buf_printf(&c->body, "%s{\"uuid\":\"exsim-%d-%s\",\"name\":\"%s Wallet\",\"currency\":\"%s\","
					   "\"available_balance\":{\"value\":\"%s\",\"currency\":\"%s\"},\"default\":true,\"active\":true,"
					   "\"type\":\"ACCOUNT_TYPE_CRYPTO\",\"ready\":true,\"hold\":{\"value\":\"%s\",\"currency\":\"%s\"}}",
					   i ? "," : "", a, acc->asset[i], acc->asset[i], acc->asset[i],
					   priv_amount(acc->free[i]), acc->asset[i], priv_amount(acc->locked[i]), acc->asset[i]);
		buf_printf(&c->body, "],\"has_next\":false,\"cursor\":\"\",\"size\":%d}", acc->nassets);
		return 200;
	}
	buf_lit(&c->body, "{\"error\":\"NOT_FOUND\",\"code\":5,\"message\":\"Not Found\"}");
	return 404;
}
