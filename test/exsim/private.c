/*
 * test/exsim/private.c
 *	  The private API's shared core (private.h): accounts from
 *	  --accounts, orders, fills, balances and matching; and the request
 *	  helpers the four exchanges' signed endpoints share.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "live/sign.h"

static int	asset_index(PrivAccount *a, const char *name, bool create);
static void order_fill(Exchange *ex, int oi, int64_t px, int64_t qty, bool maker);
static void order_release(Exchange *ex, PrivOrder *o);

static const char *exchange_names[] = {"binance", "bybit", "okx", "coinbase"};

static __int128
pow10_128(int n)
{
	__int128	v = 1;

	while (n-- > 0)
		v *= 10;
	return v;
}

/* lots of s in 10^-12 base units */
static __int128
base_units(const MkSymbol *s, int64_t qty)
{
	return (__int128) qty * pow10_128(12 - s->qty_dec);
}

/* ticks x lots of s in 10^-12 quote units */
static __int128
quote_units(const MkSymbol *s, int64_t px, int64_t qty)
{
	return (__int128) px * qty * pow10_128(12 - s->px_dec - s->qty_dec);
}

/* for the private streams' events (priv_events.c) */
__int128
priv_notional(const MkSymbol *s, int64_t px, int64_t qty)
{
	return quote_units(s, px, qty);
}

__int128
priv_base_units(const MkSymbol *s, int64_t qty)
{
	return base_units(s, qty);
}

static __int128
fee_of(__int128 notional)
{
	return notional * 10 / 10000;
}

/* ------------------------------------------------------------------ */
/* accounts                                                            */
/* ------------------------------------------------------------------ */

/*
 * Load --accounts FILE: one JSON object a line, {"exchange":"okx",
 * "key":"..","secret":"..","passphrase":"..","balances":{"USDT":"10000"}}.
 * Returns the number of accounts, or -1 with *err set.
 */
int
priv_load_accounts(const char *file, const char **err)
{
	FILE	   *f = fopen(file, "r");
	char		line[8192];
	int			n = 0;

	if (f == NULL)
	{
		*err = "cannot open the accounts file";
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		json_t	   *j = json_loads(line, 0, NULL);
		const char *exname,
				   *key,
				   *secret,
				   *pass;
		json_t	   *bal;
		Exchange   *ex = NULL;
		PrivAccount *a;
		const char *asset;
		json_t	   *v;

		if (j == NULL)
			continue;
		exname = json_string_value(json_object_get(j, "exchange"));
		key = json_string_value(json_object_get(j, "key"));
		secret = json_string_value(json_object_get(j, "secret"));
		pass = json_string_value(json_object_get(j, "passphrase"));
		bal = json_object_get(j, "balances");
		for (int i = 0; exname && i < sim.nex; i++)
			if (strcmp(sim.ex[i].ad->name, exname) == 0)
				ex = &sim.ex[i];
		if (ex == NULL || key == NULL || secret == NULL || strlen(key) >= sizeof(a->key) ||
			strlen(secret) >= sizeof(a->secret) || (pass && strlen(pass) >= sizeof(a->passphrase)) ||
			ex->priv->naccounts >= PRIV_MAX_ACCOUNTS)
		{
			json_decref(j);
			fclose(f);
			*err = "bad line in the accounts file (exchange not served, key or secret missing or too long)";
			return -1;
		}
		a = &ex->priv->acct[ex->priv->naccounts];
		memset(a, 0, sizeof(*a));
		strcpy(a->key, key);
		strcpy(a->secret, secret);
		if (pass)
		{
			strcpy(a->passphrase, pass);
			a->has_passphrase = true;
		}
		if (strcmp(exname, "coinbase") == 0 && sign_public_pem(secret, a->pubpem, sizeof(a->pubpem)) < 0)
		{
			json_decref(j);
			fclose(f);
			*err = "a coinbase account's secret is not a private key";
			return -1;
		}
		if (json_is_string(json_object_get(j, "fees")) &&
			strcmp(json_string_value(json_object_get(j, "fees")), "received") == 0)
			a->fee_received = true;
		if (json_is_string(json_object_get(j, "bnb_price")))
		{
			int64_t		units;

			if (priv_parse_units(json_string_value(json_object_get(j, "bnb_price")), 12, &units) && units > 0)
				a->bnb_price = units;
		}
		json_object_foreach(bal, asset, v)
		{
			int			ai = asset_index(a, asset, true);
			int64_t		units;

			if (ai >= 0 && json_is_string(v) && priv_parse_units(json_string_value(v), 12, &units))
				a->free[ai] = units;
			else if (ai >= 0 && json_is_integer(v))
				a->free[ai] = (__int128) json_integer_value(v) * PRIV_SCALE;
		}
		ex->priv->naccounts++;
		n++;
		json_decref(j);
	}
	fclose(f);
	(void) exchange_names;
	return n;
}

int
priv_find_account(Exchange *ex, const char *key)
{
	for (int i = 0; i < ex->priv->naccounts; i++)
		if (sign_equal(ex->priv->acct[i].key, key))
			return i;
	return -1;
}

static int
asset_index(PrivAccount *a, const char *name, bool create)
{
	for (int i = 0; i < a->nassets; i++)
		if (strcmp(a->asset[i], name) == 0)
			return i;
	if (!create || a->nassets >= PRIV_MAX_ASSETS || strlen(name) >= sizeof(a->asset[0]))
		return -1;
	strcpy(a->asset[a->nassets], name);
	a->free[a->nassets] = a->locked[a->nassets] = 0;
	return a->nassets++;
}

__int128
priv_balance(Exchange *ex, int acct, const char *asset, bool locked)
{
	PrivAccount *a = &ex->priv->acct[acct];
	int			i = asset_index(a, asset, false);

	return i < 0 ? 0 : locked ? a->locked[i] : a->free[i];
}

/* an amount of 10^-12 units as the shortest exact decimal (static buffer) */
const char *
priv_amount(__int128 v)
{
	static char bufs[8][64];
	static int	k = 0;
	char	   *b = bufs[k = (k + 1) % 8];
	__int128	ip,
				fp;
	char		digits[48];
	int			n = 0,
				o = 0;

	if (v < 0)
	{
		b[o++] = '-';
		v = -v;
	}
	ip = v / PRIV_SCALE;
	fp = v % PRIV_SCALE;
	do
	{
		digits[n++] = (char) ('0' + (int) (ip % 10));
		ip /= 10;
	} while (ip > 0);
	while (n > 0)
		b[o++] = digits[--n];
	if (fp > 0)
	{
		char		frac[13];

		for (int i = 11; i >= 0; i--)
		{
			frac[i] = (char) ('0' + (int) (fp % 10));
			fp /= 10;
		}
		frac[12] = '\0';
		for (int i = 11; i >= 0 && frac[i] == '0'; i--)
			frac[i] = '\0';
		b[o++] = '.';
		strcpy(b + o, frac);
		o += (int) strlen(frac);
	}
	b[o] = '\0';
	return b;
}

/*
 * A decimal string as an integer count of 10^-dec units; false if it is
 * not a plain non-negative decimal or has non-zero digits past dec
 * decimals (Binance pads prices and sizes with zeros).
 */
bool
priv_parse_units(const char *s, int dec, int64_t *out)
{
	int64_t		v = 0;
	int			frac = -1;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s == '.' && frac < 0)
		{
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || v > INT64_MAX / 10 - 10)
			return false;
		if (frac >= 0 && ++frac > dec)
		{
			if (*s != '0')
				return false;
			frac = dec;
			continue;
		}
		v = v * 10 + (*s - '0');
	}
	for (int i = frac < 0 ? 0 : frac; i < dec; i++)
	{
		if (v > INT64_MAX / 10)
			return false;
		v *= 10;
	}
	*out = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* orders and matching                                                 */
/* ------------------------------------------------------------------ */

bool
priv_open(const PrivOrder *o)
{
	return o->status == PS_NEW || o->status == PS_PARTIAL;
}

/* an order of acct by exchange id (id > 0) or client id; -1 if none */
int
priv_find_order(Exchange *ex, int acct, int64_t id, const char *client_id)
{
	for (int i = ex->priv->norders - 1; i >= 0; i--)
	{
		PrivOrder  *o = &ex->priv->orders[i];

		if (o->acct != acct || o->forgotten)
			continue;
		if ((id > 0 && o->id == id) ||
			(id <= 0 && client_id && client_id[0] && strcmp(o->client_id, client_id) == 0))
			return i;
	}
	return -1;
}

/*
 * Place an order for acct on symbol si.  Returns its index, or -1 with
 * *err one of "qty", "price", "duplicate", "balance", "post_only",
 * "liquidity", "full".  An order the balance does not cover is not
 * created; a post-only order that would take is refused (post_only
 * PRIV_PO_REFUSE, Binance, Coinbase) or created canceled
 * (PRIV_PO_CANCEL, Bybit, OKX).
 */
int
priv_place(Exchange *ex, int acct, int si, const char *client_id, bool buy,
		   bool market, int64_t px, int64_t qty, const char *tif, int post_only,
		   const char **err)
{
	PrivState  *p = ex->priv;
	MkSymbol   *s = &ex->market.sym[si];
	PrivAccount *a = &p->acct[acct];
	int64_t		touch = buy ? s->ask : s->bid;
	bool		crosses;
	PrivOrder  *o;
	int			ai;
	__int128	need;

	p->places++;
	if (qty <= 0 || qty < s->min_qty)
		return *err = "qty", -1;
	if (!market && px <= 0)
		return *err = "price", -1;
	if (client_id && client_id[0] && priv_find_order(ex, acct, 0, client_id) >= 0)
	{
		p->duplicates++;
		return *err = "duplicate", -1;
	}
	if (touch <= 0)
		return *err = "liquidity", -1;
	crosses = market || (buy ? px >= touch : px <= touch);
	if (post_only == PRIV_PO_REFUSE && crosses)
		return *err = "post_only", -1;
	if (p->norders >= PRIV_MAX_ORDERS)
		return *err = "full", -1;

	/* reserve: a buy its notional and fee at its price, a sell its quantity */
	if (buy)
	{
		need = quote_units(s, market ? touch : px, qty);
		need += fee_of(need);
		ai = asset_index(a, s->quote, true);
	}
	else
	{
		need = base_units(s, qty);
		ai = asset_index(a, s->base, true);
	}
	if (ai < 0 || a->free[ai] < need)
		return *err = "balance", -1;
	a->free[ai] -= need;
	a->locked[ai] += need;

	o = &p->orders[p->norders];
	memset(o, 0, sizeof(*o));
	o->id = ++p->next_order_id;
	o->acct = acct;
	o->si = si;
	snprintf(o->client_id, sizeof(o->client_id), "%s", client_id ? client_id : "");
	o->buy = buy;
	o->market = market;
	o->post_only = post_only != 0;
	snprintf(o->tif, sizeof(o->tif), "%s", tif ? tif : "gtc");
	o->px = market ? 0 : px;
	o->qty = qty;
	o->reserved = need;
	o->status = PS_NEW;
	o->created_ms = o->updated_ms = now_sim_ms();
	p->norders++;
	pstream_order(ex, p->norders - 1, NULL);

	if (post_only && crosses)
	{
		o->status = PS_CANCELED;
		order_release(ex, o);
		pstream_order(ex, p->norders - 1, NULL);
	}
	else if (crosses)
		order_fill(ex, p->norders - 1, touch, qty, false);
	else if (strcmp(o->tif, "gtc") != 0)
	{
		o->status = PS_EXPIRED;
		order_release(ex, o);
		pstream_order(ex, p->norders - 1, NULL);
	}
	return p->norders - 1;
}

/* Cancel order o: 0, or -1 if it is no longer open. */
int
priv_cancel(Exchange *ex, int oi)
{
	PrivOrder  *o = &ex->priv->orders[oi];

	if (!priv_open(o))
		return -1;
	o->status = PS_CANCELED;
	o->updated_ms = now_sim_ms();
	order_release(ex, o);
	pstream_order(ex, oi, NULL);
	return 0;
}

/* A market trade on si fills the resting orders it reaches, at their price. */
void
priv_on_trade(Exchange *ex, int si, const MkTrade *t)
{
	PrivState  *p = ex->priv;
	int64_t		avail = t->qty;

	if (p == NULL)
		return;
	for (int i = 0; i < p->norders && avail > 0; i++)
	{
		PrivOrder  *o = &p->orders[i];
		int64_t		q;

		if (o->si != si || !priv_open(o) || o->market)
			continue;
		if (o->buy ? t->px > o->px : t->px < o->px)
			continue;
		q = o->qty - o->filled < avail ? o->qty - o->filled : avail;
		order_fill(ex, i, o->px, q, true);
		avail -= q;
	}
}

static void
order_fill(Exchange *ex, int oi, int64_t px, int64_t qty, bool maker)
{
	PrivState  *p = ex->priv;
	PrivOrder  *o = &p->orders[oi];
	MkSymbol   *s = &ex->market.sym[o->si];
	PrivAccount *a = &p->acct[o->acct];
	__int128	notional = quote_units(s, px, qty);
	__int128	fee = fee_of(notional);
	int			qi = asset_index(a, s->quote, true);
	int			bi = asset_index(a, s->base, true);
	PrivFill   *f;
	int			fi = -1;
	__int128	charged = fee;

	/* the fee in BNB (while the account has it), or in the asset received */
	if (a->bnb_price > 0)
	{
		__int128	bnb = fee * 3 / 4 * PRIV_SCALE / a->bnb_price;
		int			ni = asset_index(a, "BNB", true);

		if (ni >= 0 && bnb > 0 && a->free[ni] >= bnb)
		{
			fi = ni;
			charged = bnb;
		}
	}
	else if (a->fee_received && o->buy)
	{
		fi = bi;
		charged = base_units(s, qty) * 10 / 10000;
	}
	if (o->buy)
	{
		a->locked[qi] -= notional + fee;
		o->reserved -= notional + fee;
		a->free[bi] += base_units(s, qty);
	}
	else
	{
		a->locked[bi] -= base_units(s, qty);
		o->reserved -= base_units(s, qty);
		a->free[qi] += notional - fee;
	}
	if (fi >= 0)
	{
		a->free[qi] += fee;		/* not charged in the quote after all */
		a->free[fi] -= charged;
	}
	else
		o->fees += fee;
	o->filled += qty;
	o->cum_quote += notional;
	o->updated_ms = now_sim_ms();
	o->status = o->filled == o->qty ? PS_FILLED : PS_PARTIAL;
	if (o->status == PS_FILLED)
		order_release(ex, o);
	if (p->nfills < PRIV_MAX_FILLS)
	{
		f = &p->fills[p->nfills++];
		f->order = oi;
		f->trade_id = ++p->next_trade_id;
		f->px = px;
		f->qty = qty;
		f->fee = charged;
		snprintf(f->fee_asset, sizeof(f->fee_asset), "%s", fi >= 0 ? a->asset[fi] : s->quote);
		f->maker = maker;
		f->ts = o->updated_ms;
		pstream_order(ex, oi, f);
	}
}

/* fill qty of order oi at px (priv_reconcile.c: a fill a test makes happen) */
void
priv_fill(Exchange *ex, int oi, int64_t px, int64_t qty, bool maker)
{
	order_fill(ex, oi, px, qty, maker);
}

/* give back what a closed order still holds */
static void
order_release(Exchange *ex, PrivOrder *o)
{
	MkSymbol   *s = &ex->market.sym[o->si];
	PrivAccount *a = &ex->priv->acct[o->acct];
	int			ai = asset_index(a, o->buy ? s->quote : s->base, true);

	a->locked[ai] -= o->reserved;
	a->free[ai] += o->reserved;
	o->reserved = 0;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */
/* ------------------------------------------------------------------ */

/* the value of request header name (lower case, no colon); false if absent */
bool
priv_header(const PrivRequest *r, const char *name, char *out, size_t len)
{
	char		key[64];
	int			n;

	if (strcmp(name, "authorization") == 0)
		return lws_hdr_copy(r->wsi, out, (int) len, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
	if (strcmp(name, "host") == 0)
		return lws_hdr_copy(r->wsi, out, (int) len, WSI_TOKEN_HOST) > 0;
	snprintf(key, sizeof(key), "%s:", name);
	n = lws_hdr_custom_copy(r->wsi, out, (int) len, key, (int) strlen(key));
	return n > 0;
}

/* the drop_reply fault: true (and one fewer left) if this reply is to be lost */
bool
priv_take_drop(Exchange *ex)
{
	if (ex->priv->drop_reply <= 0)
		return false;
	ex->priv->drop_reply--;
	return true;
}

/*
 * The spot symbol of the market named as the exchange names it: BTCUSDT
 * (dashed false) or BTC-USDT (dashed true), any case; -1 if none.
 */
int
priv_symbol(Exchange *ex, const char *name, bool dashed)
{
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		const MkSymbol *s = &ex->market.sym[i];
		char		raw[48];

		if (s->perp)
			continue;
		snprintf(raw, sizeof(raw), "%s%s%s", s->base, dashed ? "-" : "", s->quote);
		if (strcasecmp(raw, name) == 0)
			return i;
	}
	return -1;
}

/* a parameter from the query string, else from a form body */
bool
priv_param(const PrivRequest *r, const char *name, char *out, size_t len)
{
	return url_arg(r->args, name, out, len) || url_arg(r->body, name, out, len);
}

/*
 * The page size a list request asks for in parameter name: dflt when
 * absent, at most max (the exchange's own limits); 0 when it is not a
 * number from 1.
 */
int
priv_page_limit(const PrivRequest *r, const char *name, int dflt, int max)
{
	char		v[32];
	int			n;

	if (!priv_param(r, name, v, sizeof(v)))
		return dflt;
	n = atoi(v);
	if (n < 1)
		return 0;
	return n > max ? max : n;
}
