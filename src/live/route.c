/*-------------------------------------------------------------------------
 *
 * src/live/route.c
 *	  What each exchange supports, the client order id, and the signed
 *	  requests that place, query and cancel an order, and the signed GET
 *	  of reconciliation's lists and fill histories (route.h).
 *
 * Every value put into a query string or a JSON body is checked to be
 * made of [A-Za-z0-9.-] (symbols, decimals, ids), so nothing needs
 * escaping and the bytes signed are the bytes sent.  Spot only: a
 * perpetual, a stop type or reduce_only is refused by live_unsupported()
 * with the feature it lacks, which place_order raises as 0A000 before it
 * writes anything.  Replies are read in route_parse.c.
 *
 *-------------------------------------------------------------------------
 */
#include "live/route.h"

#include <stdio.h>
#include <string.h>

#include "live/sign.h"

static const char *names[] = {"binance", "bybit", "okx", "coinbase"};

static bool plain(const char *s);
static bool decimal(const char *s);
static int	add_header(LiveRequest *r, const char *name, const char *value);

LiveExchange
live_exchange(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, names[i]) == 0)
			return (LiveExchange) i;
	return LX_NONE;
}

const char *
live_exchange_name(LiveExchange ex)
{
	return ex >= 0 && ex < 4 ? names[ex] : "unknown";
}

/*
 * NULL if the exchange takes the order as zvt would send it, else the
 * missing feature, for a message "<exchange> live orders do not support
 * <feature>".
 */
const char *
live_unsupported(LiveExchange ex, const LiveOrder *o)
{
	size_t		n = o->symbol ? strlen(o->symbol) : 0;

	if (ex == LX_NONE)
		return "this exchange";
	if (n > 5 && strcmp(o->symbol + n - 5, "-PERP") == 0)
		return "perpetuals (live routing is spot only)";
	if (strcmp(o->type, "stop") == 0 || strcmp(o->type, "stop_limit") == 0)
		return "stop orders";
	if (strcmp(o->type, "trailing_stop") == 0)
		return "trailing_stop orders";
	if (o->reduce_only)
		return "reduce_only (a spot account has no position to reduce)";
	if (o->post_only && strcmp(o->type, "limit") != 0)
		return "post_only on anything but a limit order";
	if (o->post_only && strcmp(o->tif, "gtc") != 0)
		return "post_only with ioc or fok";
	if (strcmp(o->type, "market") == 0 && strcmp(o->tif, "fok") == 0)
		return "fok market orders";
	return NULL;
}

/*
 * The client order id of zvt's order order_id in the database whose
 * system identifier is system_id: "zvt" + 8 hex digits of the system id
 * + "o" + the order id.  Alphanumeric, at most 32 characters, starting
 * with a letter, so every exchange takes it (OKX's clOrdId is the
 * strictest); the same order always gets the same id, so a resend is
 * recognised as the same order.
 */
int
live_client_order_id(uint64_t system_id, int64_t order_id, char *out, size_t outsz)
{
	uint32_t	h = (uint32_t) (system_id ^ (system_id >> 32));
	int			n;

	if (order_id <= 0)
		return -1;
	n = snprintf(out, outsz, "zvt%08xo%lld", (unsigned) h, (long long) order_id);
	return n > 0 && (size_t) n < outsz ? n : -1;
}

/* ----------------------------------------------------------------
 *		Requests
 * ----------------------------------------------------------------
 */

/* the exchange's spelling of a spot symbol BTC-USDT */
static int
exchange_symbol(LiveExchange ex, const char *symbol, char *out, size_t outsz)
{
	const char *dash = strchr(symbol, '-');
	size_t		o = 0;

	if (dash == NULL || strchr(dash + 1, '-') != NULL || strlen(symbol) + 1 > outsz)
		return -1;
	if (ex == LX_OKX || ex == LX_COINBASE)
	{
		strcpy(out, symbol);
		return 0;
	}
	for (const char *p = symbol; *p; p++)
		if (*p != '-')
			out[o++] = *p;
	out[o] = '\0';
	return 0;
}

static int
build_binance(LiveOp op, const LiveCreds *cr, const LiveOrder *o, const char *sym,
			  int64_t now_ms, LiveRequest *r)
{
	char		q[1024];
	char		sig[SIGN_HEX_LEN];
	int			n;

	if (op == LO_PLACE)
	{
		bool		market = strcmp(o->type, "market") == 0;

		n = snprintf(q, sizeof(q), "symbol=%s&side=%s&type=%s%s%s&quantity=%s%s%s&newClientOrderId=%s"
					 "&newOrderRespType=RESULT&recvWindow=5000&timestamp=%lld",
					 sym, o->buy ? "BUY" : "SELL",
					 market ? "MARKET" : o->post_only ? "LIMIT_MAKER" : "LIMIT",
					 market || o->post_only ? "" : "&timeInForce=",
					 market || o->post_only ? "" : strcmp(o->tif, "ioc") == 0 ? "IOC" : strcmp(o->tif, "fok") == 0 ? "FOK" : "GTC",
					 o->qty, market ? "" : "&price=", market ? "" : o->price,
					 o->client_id, (long long) now_ms);
		strcpy(r->method, "POST");
	}
	else
	{
		n = snprintf(q, sizeof(q), "symbol=%s&origClientOrderId=%s&recvWindow=5000&timestamp=%lld",
					 sym, o->client_id, (long long) now_ms);
		strcpy(r->method, op == LO_QUERY ? "GET" : "DELETE");
	}
	if (n < 0 || (size_t) n >= sizeof(q) || sign_binance(cr->secret, q, "", sig, sizeof(sig)) < 0)
		return -1;
	snprintf(r->path_query, sizeof(r->path_query), "/api/v3/order?%s&signature=%s", q, sig);
	return add_header(r, "X-MBX-APIKEY", cr->api_key);
}

static int
build_bybit(LiveOp op, const LiveCreds *cr, const LiveOrder *o, const char *sym,
			int64_t now_ms, LiveRequest *r)
{
	char		ts[24];
	char		sig[SIGN_HEX_LEN];
	const char *payload;
	int			n = 0;

	snprintf(ts, sizeof(ts), "%lld", (long long) now_ms);
	if (op == LO_PLACE)
	{
		bool		market = strcmp(o->type, "market") == 0;

		n = snprintf(r->body, sizeof(r->body),
					 "{\"category\":\"spot\",\"symbol\":\"%s\",\"side\":\"%s\",\"orderType\":\"%s\",\"qty\":\"%s\"%s%s%s,"
					 "\"timeInForce\":\"%s\",\"orderLinkId\":\"%s\",\"marketUnit\":\"baseCoin\"}",
					 sym, o->buy ? "Buy" : "Sell", market ? "Market" : "Limit", o->qty,
					 market ? "" : ",\"price\":\"", market ? "" : o->price, market ? "" : "\"",
					 o->post_only ? "PostOnly" : strcmp(o->tif, "ioc") == 0 || market ? "IOC" :
					 strcmp(o->tif, "fok") == 0 ? "FOK" : "GTC", o->client_id);
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/v5/order/create");
		payload = r->body;
	}
	else if (op == LO_CANCEL)
	{
		n = snprintf(r->body, sizeof(r->body), "{\"category\":\"spot\",\"symbol\":\"%s\",\"orderLinkId\":\"%s\"}",
					 sym, o->client_id);
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/v5/order/cancel");
		payload = r->body;
	}
	else
	{
		n = snprintf(r->path_query, sizeof(r->path_query), "/v5/order/realtime?category=spot&symbol=%s&orderLinkId=%s",
					 sym, o->client_id);
		strcpy(r->method, "GET");
		payload = strchr(r->path_query, '?') + 1;
	}
	if (n < 0 || (size_t) n >= sizeof(r->body) ||
		sign_bybit(cr->secret, ts, cr->api_key, "5000", payload, sig, sizeof(sig)) < 0)
		return -1;
	if (add_header(r, "X-BAPI-API-KEY", cr->api_key) < 0 || add_header(r, "X-BAPI-TIMESTAMP", ts) < 0 ||
		add_header(r, "X-BAPI-RECV-WINDOW", "5000") < 0 || add_header(r, "X-BAPI-SIGN", sig) < 0)
		return -1;
	return add_header(r, "Content-Type", "application/json");
}

static int
build_okx(LiveOp op, const LiveCreds *cr, const LiveOrder *o, const char *sym,
		  int64_t now_ms, LiveRequest *r)
{
	char		ts[SIGN_ISO_TS_LEN];
	char		sig[SIGN_B64_LEN];
	int			n;

	if (cr->passphrase == NULL || sign_iso_timestamp(now_ms, ts, sizeof(ts)) < 0)
		return -1;
	if (op == LO_PLACE)
	{
		bool		market = strcmp(o->type, "market") == 0;

		n = snprintf(r->body, sizeof(r->body),
					 "{\"instId\":\"%s\",\"tdMode\":\"cash\",\"clOrdId\":\"%s\",\"side\":\"%s\",\"ordType\":\"%s\",\"sz\":\"%s\"%s%s%s}",
					 sym, o->client_id, o->buy ? "buy" : "sell",
					 market ? "market" : o->post_only ? "post_only" : strcmp(o->tif, "ioc") == 0 ? "ioc" :
					 strcmp(o->tif, "fok") == 0 ? "fok" : "limit", o->qty,
					 market ? ",\"tgtCcy\":\"base_ccy\"" : ",\"px\":\"", market ? "" : o->price, market ? "" : "\"");
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/api/v5/trade/order");
	}
	else if (op == LO_CANCEL)
	{
		n = snprintf(r->body, sizeof(r->body), "{\"instId\":\"%s\",\"clOrdId\":\"%s\"}", sym, o->client_id);
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/api/v5/trade/cancel-order");
	}
	else
	{
		n = snprintf(r->path_query, sizeof(r->path_query), "/api/v5/trade/order?instId=%s&clOrdId=%s", sym, o->client_id);
		strcpy(r->method, "GET");
	}
	if (n < 0 || (size_t) n >= sizeof(r->body) ||
		sign_okx(cr->secret, ts, r->method, r->path_query, r->body, sig, sizeof(sig)) < 0)
		return -1;
	if (add_header(r, "OK-ACCESS-KEY", cr->api_key) < 0 || add_header(r, "OK-ACCESS-SIGN", sig) < 0 ||
		add_header(r, "OK-ACCESS-TIMESTAMP", ts) < 0 || add_header(r, "OK-ACCESS-PASSPHRASE", cr->passphrase) < 0)
		return -1;
	return add_header(r, "Content-Type", "application/json");
}

static int
build_coinbase(LiveOp op, const LiveCreds *cr, const LiveOrder *o, const char *sym,
			   const char *exchange_id, int64_t now_ms, const char *host,
			   const char *nonce_hex, LiveRequest *r)
{
	char		uri[600];
	char		jwt[2048];
	char		bearer[2100];
	const char *q;
	int			n;

	if (op == LO_PLACE)
	{
		bool		market = strcmp(o->type, "market") == 0;

		if (market)
			n = snprintf(r->body, sizeof(r->body),
						 "{\"client_order_id\":\"%s\",\"product_id\":\"%s\",\"side\":\"%s\","
						 "\"order_configuration\":{\"market_market_ioc\":{\"base_size\":\"%s\"}}}",
						 o->client_id, sym, o->buy ? "BUY" : "SELL", o->qty);
		else
			n = snprintf(r->body, sizeof(r->body),
						 "{\"client_order_id\":\"%s\",\"product_id\":\"%s\",\"side\":\"%s\","
						 "\"order_configuration\":{\"%s\":{\"base_size\":\"%s\",\"limit_price\":\"%s\"%s}}}",
						 o->client_id, sym, o->buy ? "BUY" : "SELL",
						 strcmp(o->tif, "ioc") == 0 ? "sor_limit_ioc" : strcmp(o->tif, "fok") == 0 ? "limit_limit_fok" : "limit_limit_gtc",
						 o->qty, o->price,
						 strcmp(o->tif, "gtc") != 0 ? "" : o->post_only ? ",\"post_only\":true" : ",\"post_only\":false");
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/api/v3/brokerage/orders");
	}
	else if (op == LO_CANCEL)
	{
		if (exchange_id == NULL || !plain(exchange_id))
			return -1;			/* Coinbase cancels by its own order id */
		n = snprintf(r->body, sizeof(r->body), "{\"order_ids\":[\"%s\"]}", exchange_id);
		strcpy(r->method, "POST");
		strcpy(r->path_query, "/api/v3/brokerage/orders/batch_cancel");
	}
	else
	{
		/* by client order id: the account's orders (live_parse_reply picks it) */
		n = 0;
		if (exchange_id && exchange_id[0] && plain(exchange_id))
			snprintf(r->path_query, sizeof(r->path_query), "/api/v3/brokerage/orders/historical/%s", exchange_id);
		else
			strcpy(r->path_query, "/api/v3/brokerage/orders/historical/batch");
		strcpy(r->method, "GET");
	}
	if (n < 0 || (size_t) n >= sizeof(r->body))
		return -1;
	q = strchr(r->path_query, '?');
	snprintf(uri, sizeof(uri), "%s %s%.*s", r->method, host,
			 (int) (q ? (size_t) (q - r->path_query) : strlen(r->path_query)), r->path_query);
	if (sign_coinbase_jwt(cr->secret, cr->api_key, nonce_hex, now_ms / 1000, uri, jwt, sizeof(jwt)) < 0)
		return -1;
	snprintf(bearer, sizeof(bearer), "Bearer %s", jwt);
	if (add_header(r, "Authorization", bearer) < 0)
		return -1;
	return add_header(r, "Content-Type", "application/json");
}

/*
 * Build the signed request for op on order o at the exchange's clock
 * now_ms.  host is the REST base's "host[:port]" (Coinbase signs it);
 * nonce_hex the JWT's nonce (Coinbase); exchange_id the exchange's id
 * when known (Coinbase needs it to cancel).  Returns 0, or -1 with *err.
 */
int
live_build(LiveExchange ex, LiveOp op, const LiveCreds *cr, const LiveOrder *o,
		   const char *exchange_id, int64_t now_ms, const char *host,
		   const char *nonce_hex, LiveRequest *out, const char **err)
{
	char		sym[64];
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (ex == LX_NONE || cr == NULL || cr->api_key == NULL || cr->secret == NULL)
		return *err = "no exchange or no credentials", -1;
	if (!plain(o->symbol) || !plain(o->client_id) ||
		(op == LO_PLACE && (!decimal(o->qty) || (strcmp(o->type, "market") != 0 && !decimal(o->price)))))
		return *err = "a symbol or client order id holds a character other than [A-Za-z0-9.-], or a quantity or price is not a plain decimal", -1;
	if (op == LO_PLACE && live_unsupported(ex, o) != NULL)
		return *err = "the exchange does not support this order", -1;
	if (exchange_symbol(ex, o->symbol, sym, sizeof(sym)) < 0)
		return *err = "not a spot symbol", -1;
	switch (ex)
	{
		case LX_BINANCE:
			rc = build_binance(op, cr, o, sym, now_ms, out);
			break;
		case LX_BYBIT:
			rc = build_bybit(op, cr, o, sym, now_ms, out);
			break;
		case LX_OKX:
			rc = build_okx(op, cr, o, sym, now_ms, out);
			break;
		case LX_COINBASE:
			rc = build_coinbase(op, cr, o, sym, exchange_id, now_ms, host ? host : "",
								nonce_hex ? nonce_hex : "00", out);
			break;
		default:
			break;
	}
	if (rc < 0)
		*err = "could not sign the request (bad secret, missing passphrase or exchange id, or a value too long)";
	return rc;
}

/*
 * The signed GET of path?query (query "" for none) at the exchange's clock
 * now_ms, as each exchange verifies a GET: Binance appends recvWindow,
 * timestamp and the signature of the query to it; Bybit signs the query
 * string; OKX the path with its query; Coinbase a JWT whose uri has the
 * path but not the query (host and nonce_hex as for live_build).  The
 * caller has checked that path and query need no escaping.  For
 * reconciliation's lists and fill histories (reconcile_fetch.c,
 * reconcile_trades.c).  0, or -1 with *err (a value too long, a signer
 * failure, no passphrase for OKX).
 */
int
live_build_get(LiveExchange ex, const LiveCreds *cr, const char *path, const char *query,
			   int64_t now_ms, const char *host, const char *nonce_hex, LiveRequest *out,
			   const char **err)
{
	char		q[1024];
	char		ts[SIGN_ISO_TS_LEN];
	char		hex[SIGN_HEX_LEN];
	char		b64[SIGN_B64_LEN];
	char		uri[600];
	char		jwt[2048];
	char		bearer[2100];
	int			n;

	memset(out, 0, sizeof(*out));
	strcpy(out->method, "GET");
	*err = "could not sign the request (bad secret, missing passphrase, or a value too long)";
	if (ex == LX_BINANCE)
	{
		n = snprintf(q, sizeof(q), "%s%srecvWindow=5000&timestamp=%lld", query, query[0] ? "&" : "",
					 (long long) now_ms);
		if (n < 0 || (size_t) n >= sizeof(q) || sign_binance(cr->secret, q, "", hex, sizeof(hex)) < 0)
			return -1;
		n = snprintf(out->path_query, sizeof(out->path_query), "%s?%s&signature=%s", path, q, hex);
		if (n < 0 || (size_t) n >= sizeof(out->path_query))
			return -1;
		return add_header(out, "X-MBX-APIKEY", cr->api_key);
	}
	n = snprintf(out->path_query, sizeof(out->path_query), "%s%s%s", path, query[0] ? "?" : "", query);
	if (n < 0 || (size_t) n >= sizeof(out->path_query))
		return -1;
	switch (ex)
	{
		case LX_BYBIT:
			snprintf(ts, sizeof(ts), "%lld", (long long) now_ms);
			if (sign_bybit(cr->secret, ts, cr->api_key, "5000", query, hex, sizeof(hex)) < 0)
				return -1;
			if (add_header(out, "X-BAPI-API-KEY", cr->api_key) < 0 || add_header(out, "X-BAPI-TIMESTAMP", ts) < 0 ||
				add_header(out, "X-BAPI-RECV-WINDOW", "5000") < 0 || add_header(out, "X-BAPI-SIGN", hex) < 0)
				return -1;
			return 0;
		case LX_OKX:
			if (cr->passphrase == NULL || sign_iso_timestamp(now_ms, ts, sizeof(ts)) < 0 ||
				sign_okx(cr->secret, ts, "GET", out->path_query, "", b64, sizeof(b64)) < 0)
				return -1;
			if (add_header(out, "OK-ACCESS-KEY", cr->api_key) < 0 || add_header(out, "OK-ACCESS-SIGN", b64) < 0 ||
				add_header(out, "OK-ACCESS-TIMESTAMP", ts) < 0 || add_header(out, "OK-ACCESS-PASSPHRASE", cr->passphrase) < 0)
				return -1;
			return 0;
		case LX_COINBASE:
			n = snprintf(uri, sizeof(uri), "GET %s%s", host ? host : "", path);
			if (n < 0 || (size_t) n >= sizeof(uri) ||
				sign_coinbase_jwt(cr->secret, cr->api_key, nonce_hex ? nonce_hex : "00", now_ms / 1000, uri,
								  jwt, sizeof(jwt)) < 0)
				return -1;
			snprintf(bearer, sizeof(bearer), "Bearer %s", jwt);
			return add_header(out, "Authorization", bearer);
		default:
			return *err = "no such exchange", -1;
	}
}

/* [A-Za-z0-9.-]+ */
static bool
plain(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
			  *s == '.' || *s == '-'))
			return false;
	return true;
}

/* digits with at most one '.', as the ledger prints a positive numeric */
static bool
decimal(const char *s)
{
	int			dots = 0,
				digits = 0;

	if (s == NULL)
		return false;
	for (; *s; s++)
	{
		if (*s == '.')
			dots++;
		else if (*s >= '0' && *s <= '9')
			digits++;
		else
			return false;
	}
	return digits > 0 && dots <= 1;
}

static int
add_header(LiveRequest *r, const char *name, const char *value)
{
	int			n;

	if (r->nheaders >= LIVE_MAX_HEADERS)
		return -1;
	n = snprintf(r->headers[r->nheaders], sizeof(r->headers[0]), "%s: %s", name, value);
	if (n < 0 || (size_t) n >= sizeof(r->headers[0]))
		return -1;
	r->nheaders++;
	return 0;
}
