/*
 * test/exsim/priv_reconcile.c
 *	  Test-only admin endpoints of the private API, for reconciliation
 *	  tests (test/integration/live_reconcile.sh): what happens on an
 *	  exchange account outside zvt, and a fault that holds the open-orders
 *	  list a reconciliation reads.
 *
 * On the admin port (server.c hands over every /priv/ path), all GET,
 * the account named by key= (or account=N, default 0) of exchange=:
 *	 /priv/order?symbol=BTC-USDT&side=buy&qty=0.02&price=900&client_id=x
 *			   a limit gtc order placed directly (not through zvt)
 *	 /priv/cancel?client_id=x	  cancel an order (zvt's or not)
 *	 /priv/fill?client_id=x[&qty=q]  fill it (all that is left, or q) at its
 *			   price as a maker, as a market trade would
 *	 /priv/forget?client_id=x  a closed order the exchange no longer
 *			   answers for (archived: queries say it does not exist); its
 *			   trades stay in the fill history
 *	 /priv/balance?asset=USDT&delta=-12.5  a deposit or withdrawal
 *	 /priv/account  {"balances":{asset: total}, "orders":[{client_id,
 *			   status, filled}]}: what a test compares the ledger with
 *	 /priv/hold?n=N  the next N open-order list requests (openOrders,
 *			   realtime without an id, orders-pending, historical/batch
 *			   with order_status) get a reply that never ends, so a
 *			   reconciliation is under way until the client times out
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

static int	hold[16];

static int
admin_err(ExConn *c, int status, const char *msg)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"error\":\"%s\"}", msg);
	return status;
}

static int
admin_asset(PrivAccount *a, const char *name)
{
	for (int i = 0; i < a->nassets; i++)
		if (strcmp(a->asset[i], name) == 0)
			return i;
	if (a->nassets >= PRIV_MAX_ASSETS || strlen(name) >= sizeof(a->asset[0]))
		return -1;
	strcpy(a->asset[a->nassets], name);
	a->free[a->nassets] = a->locked[a->nassets] = 0;
	return a->nassets++;
}

static void
admin_account(Exchange *ex, ExConn *c, int a)
{
	const PrivAccount *acc = &ex->priv->acct[a];
	bool		first = true;

	buf_lit(&c->body, "{\"balances\":{");
	for (int i = 0; i < acc->nassets; i++)
		buf_printf(&c->body, "%s\"%s\":\"%s\"", i ? "," : "", acc->asset[i],
				   priv_amount(acc->free[i] + acc->locked[i]));
	buf_lit(&c->body, "},\"orders\":[");
	for (int i = 0; i < ex->priv->norders; i++)
	{
		const PrivOrder *o = &ex->priv->orders[i];
		static const char *st[] = {"new", "partially_filled", "filled", "canceled", "rejected", "expired"};

		if (o->acct != a)
			continue;
		buf_printf(&c->body, "%s{\"client_id\":\"%s\",\"status\":\"%s\",\"filled\":\"%s\"}", first ? "" : ",",
				   o->client_id, st[o->status], fmt_qty(&ex->market.sym[o->si], o->filled, false, 0));
		first = false;
	}
	buf_lit(&c->body, "]}");
}

/* an admin request for path under /priv/; the HTTP status */
int
priv_admin(ExConn *c, const char *path, const char *args)
{
	char		v[256],
				cid[64] = "";
	Exchange   *ex = NULL;
	int			a = 0,
				oi;

	if (url_arg(args, "exchange", v, sizeof(v)))
		for (int i = 0; i < sim.nex; i++)
			if (strcmp(sim.ex[i].label, v) == 0)
				ex = &sim.ex[i];
	if (ex == NULL || ex->priv == NULL)
		return admin_err(c, 404, "unknown exchange");
	if (strcmp(path, "/priv/hold") == 0)
	{
		hold[(ex - sim.ex) % 16] = url_arg(args, "n", v, sizeof(v)) ? atoi(v) : 1;
		buf_lit(&c->body, "{\"ok\":true}");
		return 200;
	}
	if (url_arg(args, "key", v, sizeof(v)))
		a = priv_find_account(ex, v);
	else if (url_arg(args, "account", v, sizeof(v)))
		a = atoi(v);
	if (a < 0 || a >= ex->priv->naccounts)
		return admin_err(c, 404, "unknown account");
	url_arg(args, "client_id", cid, sizeof(cid));
	oi = cid[0] ? priv_find_order(ex, a, 0, cid) : -1;

	if (strcmp(path, "/priv/order") == 0)
	{
		char		sym[48] = "",
					side[8] = "",
					qty[40] = "",
					px[40] = "";
		int			si;
		int64_t		q,
					p;
		const char *err = NULL;

		url_arg(args, "symbol", sym, sizeof(sym));
		url_arg(args, "side", side, sizeof(side));
		url_arg(args, "qty", qty, sizeof(qty));
		url_arg(args, "price", px, sizeof(px));
		if ((si = priv_symbol(ex, sym, true)) < 0 ||
			!priv_parse_units(qty, ex->market.sym[si].qty_dec, &q) ||
			!priv_parse_units(px, ex->market.sym[si].px_dec, &p))
			return admin_err(c, 400, "symbol, qty or price");
		oi = priv_place(ex, a, si, cid, strcmp(side, "sell") != 0, false, p, q, "gtc", 0, &err);
		if (oi < 0)
			return admin_err(c, 400, err);
		buf_printf(&c->body, "{\"order_id\":\"%lld\",\"client_id\":\"%s\"}",
				   (long long) ex->priv->orders[oi].id, ex->priv->orders[oi].client_id);
		return 200;
	}
	if (strcmp(path, "/priv/cancel") == 0)
	{
		if (oi < 0 || priv_cancel(ex, oi) < 0)
			return admin_err(c, 404, "no such open order");
		buf_lit(&c->body, "{\"ok\":true}");
		return 200;
	}
	if (strcmp(path, "/priv/fill") == 0)
	{
		PrivOrder  *o = oi >= 0 ? &ex->priv->orders[oi] : NULL;
		int64_t		q;

		if (o == NULL || !priv_open(o) || o->market)
			return admin_err(c, 404, "no such open limit order");
		q = o->qty - o->filled;
		if (url_arg(args, "qty", v, sizeof(v)) &&
			(!priv_parse_units(v, ex->market.sym[o->si].qty_dec, &q) || q <= 0 || q > o->qty - o->filled))
			return admin_err(c, 400, "qty");
		priv_fill(ex, oi, o->px, q, true);
		buf_printf(&c->body, "{\"filled\":\"%s\"}", fmt_qty(&ex->market.sym[o->si], o->filled, false, 0));
		return 200;
	}
	if (strcmp(path, "/priv/forget") == 0)
	{
		if (oi < 0 || priv_open(&ex->priv->orders[oi]))
			return admin_err(c, 404, "no such closed order");
		ex->priv->orders[oi].forgotten = true;
		buf_lit(&c->body, "{\"ok\":true}");
		return 200;
	}
	if (strcmp(path, "/priv/balance") == 0)
	{
		char		asset[16] = "";
		bool		neg;
		int64_t		units;
		int			ai;
		PrivAccount *acc = &ex->priv->acct[a];

		url_arg(args, "asset", asset, sizeof(asset));
		if (!url_arg(args, "delta", v, sizeof(v)))
			return admin_err(c, 400, "delta");
		neg = v[0] == '-';
		if (!asset[0] || (ai = admin_asset(acc, asset)) < 0 || !priv_parse_units(v + neg, 12, &units))
			return admin_err(c, 400, "asset or delta");
		if (neg && acc->free[ai] < units)
			return admin_err(c, 400, "not that much free");
		acc->free[ai] += neg ? -(__int128) units : (__int128) units;
		buf_printf(&c->body, "{\"free\":\"%s\"}", priv_amount(acc->free[ai]));
		return 200;
	}
	if (strcmp(path, "/priv/account") == 0)
	{
		admin_account(ex, c, a);
		return 200;
	}
	return admin_err(c, 404, "unknown admin path");
}

/*
 * The /priv/hold fault: true (one fewer left) when this request lists
 * the open orders and is to be held.
 */
bool
priv_hold_take(Exchange *ex, const char *path, const char *args)
{
	int		   *h = &hold[(ex - sim.ex) % 16];
	char		v[64];
	bool		list;

	if (*h <= 0)
		return false;
	list = strcmp(path, "/api/v3/openOrders") == 0 ||
		strcmp(path, "/api/v5/trade/orders-pending") == 0 ||
		(strcmp(path, "/v5/order/realtime") == 0 && !url_arg(args, "orderId", v, sizeof(v)) &&
		 !url_arg(args, "orderLinkId", v, sizeof(v))) ||
		(strcmp(path, "/api/v3/brokerage/orders/historical/batch") == 0 &&
		 url_arg(args, "order_status", v, sizeof(v)));
	if (!list)
		return false;
	(*h)--;
	return true;
}
