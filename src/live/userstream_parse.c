/*-------------------------------------------------------------------------
 *
 * src/live/userstream_parse.c
 *	  The private streams' messages read into UsEvents, and the messages
 *	  zvt sends on them (login, subscribe, ping) built (userstream.h).
 *
 * Read, per exchange:
 *	 Binance   executionReport (x = TRADE carries t, l, L, n, N, m; C is
 *			   the original client order id of a cancel), outboundAccount-
 *			   Position (B: a, f, l), listenKeyExpired
 *	 Bybit	   op auth / subscribe acks (success, ret_msg), topics order
 *			   (orderLinkId, orderStatus, cumExecQty, cumExecValue),
 *			   execution (execId, execQty, execPrice, execFee, feeCurrency,
 *			   isMaker, leavesQty), wallet (coin[]: walletBalance, locked)
 *	 OKX	   event login / subscribe / error, channels orders (clOrdId,
 *			   state, accFillSz, avgPx; tradeId, fillSz, fillPx, fillFee
 *			   negative when paid, fillFeeCcy, execType T/M) and account
 *			   (details[]: ccy, availBal, frozenBal)
 *	 Coinbase  channel subscriptions, type error, channel user (events[]
 *			   .orders[]: client_order_id, status, cumulative_quantity,
 *			   filled_value; no trade ids: the user channel reports
 *			   cumulative amounts only)
 * Statuses are normalized as route_parse.c's.  Pure C (jansson, OpenSSL
 * through sign.h); never aborts on any input (fuzz_userstream).
 *
 *-------------------------------------------------------------------------
 */
#include "live/userstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "live/json_text.h"
#include "live/sign.h"

static void
set(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}


static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* is this decimal text zero (or empty)? */
static bool
zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* a fee as paid: "-0.5" (OKX's sign for a charge) becomes "0.5", "0.5" becomes "-0.5" */
static void
negate(char *s, size_t n)
{
	char		tmp[48];

	if (s[0] == '\0' || zero(s))
		return;
	if (s[0] == '-')
		memmove(s, s + 1, strlen(s));
	else
	{
		snprintf(tmp, sizeof(tmp), "-%s", s);
		set(s, n, tmp);
	}
}

static UsEvent *
next(UsEvent *out, int max, int *n)
{
	UsEvent    *e;

	if (*n >= max)
		return NULL;
	e = &out[(*n)++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* ----------------------------------------------------------------
 *		Binance
 * ----------------------------------------------------------------
 */
static const char *
binance_status(const char *s)
{
	if (is(s, "NEW") || is(s, "PENDING_NEW"))
		return "new";
	if (is(s, "PARTIALLY_FILLED"))
		return "partially_filled";
	if (is(s, "FILLED"))
		return "filled";
	if (is(s, "CANCELED") || is(s, "PENDING_CANCEL"))
		return "canceled";
	if (is(s, "REJECTED"))
		return "rejected";
	if (is(s, "EXPIRED") || is(s, "EXPIRED_IN_MATCH"))
		return "expired";
	return "";
}

static int
parse_binance(json_t *j, UsEvent *out, int max)
{
	const char *e = str(j, "e");
	int			n = 0;
	UsEvent    *ev;

	/* the WebSocket API's wrapping, {"subscriptionId":..,"event":{...}} */
	if (e == NULL && json_is_object(json_object_get(j, "event")))
	{
		j = json_object_get(j, "event");
		e = str(j, "e");
	}
	if (is(e, "executionReport"))
	{
		const char *orig = str(j, "C");

		if (!(ev = next(out, max, &n)))
			return n;
		ev->kind = UE_ORDER;
		set(ev->client_id, sizeof(ev->client_id), orig && orig[0] ? orig : str(j, "c"));
		live_json_text(ev->exchange_id, sizeof(ev->exchange_id), json_object_get(j, "i"));
		set(ev->status, sizeof(ev->status), binance_status(str(j, "X")));
		live_json_text(ev->filled_qty, sizeof(ev->filled_qty), json_object_get(j, "z"));
		live_json_text(ev->filled_quote, sizeof(ev->filled_quote), json_object_get(j, "Z"));
		if (is(str(j, "x"), "TRADE"))
		{
			live_json_text(ev->trade_id, sizeof(ev->trade_id), json_object_get(j, "t"));
			live_json_text(ev->last_qty, sizeof(ev->last_qty), json_object_get(j, "l"));
			live_json_text(ev->last_px, sizeof(ev->last_px), json_object_get(j, "L"));
			live_json_text(ev->fee, sizeof(ev->fee), json_object_get(j, "n"));
			live_json_text(ev->fee_asset, sizeof(ev->fee_asset), json_object_get(j, "N"));
			set(ev->liquidity, sizeof(ev->liquidity),
				json_is_true(json_object_get(j, "m")) ? "maker" : "taker");
		}
		set(ev->reason, sizeof(ev->reason), is(str(j, "r"), "NONE") ? "" : str(j, "r"));
	}
	else if (is(e, "outboundAccountPosition"))
	{
		size_t		i;
		json_t	   *b;

		json_array_foreach(json_object_get(j, "B"), i, b)
		{
			if (!(ev = next(out, max, &n)))
				break;
			ev->kind = UE_BALANCE;
			set(ev->asset, sizeof(ev->asset), str(b, "a"));
			live_json_text(ev->free, sizeof(ev->free), json_object_get(b, "f"));
			live_json_text(ev->locked, sizeof(ev->locked), json_object_get(b, "l"));
			if (!ev->asset[0])
				n--;
		}
	}
	else if (is(e, "listenKeyExpired") || is(e, "eventStreamTerminated"))
	{
		if ((ev = next(out, max, &n)))
		{
			ev->kind = UE_EXPIRED;
			set(ev->reason, sizeof(ev->reason), e);
		}
	}
	else if (json_is_object(json_object_get(j, "error")) || json_is_integer(json_object_get(j, "code")))
	{
		json_t	   *err = json_is_object(json_object_get(j, "error")) ? json_object_get(j, "error") : j;

		if ((ev = next(out, max, &n)))
		{
			ev->kind = UE_ERROR;
			snprintf(ev->reason, sizeof(ev->reason), "%" PRId64 ": %s",
					 (int64_t) json_integer_value(json_object_get(err, "code")),
					 str(err, "msg") ? str(err, "msg") : "");
		}
	}
	return n;
}

/* ----------------------------------------------------------------
 *		Bybit
 * ----------------------------------------------------------------
 */
static const char *
bybit_status(const char *s)
{
	if (is(s, "New") || is(s, "Created") || is(s, "Untriggered"))
		return "new";
	if (is(s, "PartiallyFilled"))
		return "partially_filled";
	if (is(s, "Filled"))
		return "filled";
	if (is(s, "Cancelled") || is(s, "PartiallyFilledCanceled") || is(s, "Deactivated"))
		return "canceled";
	if (is(s, "Rejected"))
		return "rejected";
	return "";
}

static int
parse_bybit(json_t *j, UsEvent *out, int max)
{
	const char *op = str(j, "op");
	const char *topic = str(j, "topic");
	int			n = 0;
	size_t		i;
	json_t	   *d;
	UsEvent    *ev;

	if (op)
	{
		bool		ok = json_is_true(json_object_get(j, "success"));

		if (!(is(op, "auth") || is(op, "subscribe")) || !(ev = next(out, max, &n)))
			return n;			/* pong, ping echo */
		ev->kind = is(op, "auth") ? (ok ? UE_LOGGED_IN : UE_AUTH_FAILED) : (ok ? UE_SUBSCRIBED : UE_ERROR);
		set(ev->reason, sizeof(ev->reason), str(j, "ret_msg"));
		return n;
	}
	if (is(topic, "order"))
		json_array_foreach(json_object_get(j, "data"), i, d)
		{
			if (!(ev = next(out, max, &n)))
				break;
			ev->kind = UE_ORDER;
			set(ev->client_id, sizeof(ev->client_id), str(d, "orderLinkId"));
			set(ev->exchange_id, sizeof(ev->exchange_id), str(d, "orderId"));
			set(ev->status, sizeof(ev->status), bybit_status(str(d, "orderStatus")));
			live_json_text(ev->filled_qty, sizeof(ev->filled_qty), json_object_get(d, "cumExecQty"));
			live_json_text(ev->filled_quote, sizeof(ev->filled_quote), json_object_get(d, "cumExecValue"));
			if (!is(str(d, "rejectReason"), "EC_NoError"))
				set(ev->reason, sizeof(ev->reason), str(d, "rejectReason"));
		}
	else if (is(topic, "execution"))
		json_array_foreach(json_object_get(j, "data"), i, d)
		{
			if (!is(str(d, "execType"), "Trade") || !(ev = next(out, max, &n)))
				continue;
			ev->kind = UE_ORDER;
			set(ev->client_id, sizeof(ev->client_id), str(d, "orderLinkId"));
			set(ev->exchange_id, sizeof(ev->exchange_id), str(d, "orderId"));
			set(ev->trade_id, sizeof(ev->trade_id), str(d, "execId"));
			set(ev->last_qty, sizeof(ev->last_qty), str(d, "execQty"));
			set(ev->last_px, sizeof(ev->last_px), str(d, "execPrice"));
			set(ev->fee, sizeof(ev->fee), str(d, "execFee"));
			set(ev->fee_asset, sizeof(ev->fee_asset), str(d, "feeCurrency"));
			set(ev->leaves_qty, sizeof(ev->leaves_qty), str(d, "leavesQty"));
			set(ev->liquidity, sizeof(ev->liquidity),
				json_is_true(json_object_get(d, "isMaker")) ? "maker" : "taker");
		}
	else if (is(topic, "wallet"))
		json_array_foreach(json_object_get(j, "data"), i, d)
		{
			size_t		k;
			json_t	   *c;

			json_array_foreach(json_object_get(d, "coin"), k, c)
			{
				if (!str(c, "coin") || !(ev = next(out, max, &n)))
					continue;
				ev->kind = UE_BALANCE;
				set(ev->asset, sizeof(ev->asset), str(c, "coin"));
				set(ev->free, sizeof(ev->free), str(c, "walletBalance"));
				set(ev->locked, sizeof(ev->locked), str(c, "locked"));
			}
		}
	return n;
}

/* ----------------------------------------------------------------
 *		OKX
 * ----------------------------------------------------------------
 */
static const char *
okx_status(const char *s)
{
	if (is(s, "live"))
		return "new";
	if (is(s, "partially_filled"))
		return "partially_filled";
	if (is(s, "filled"))
		return "filled";
	if (is(s, "canceled") || is(s, "mmp_canceled"))
		return "canceled";
	return "";
}

static int
parse_okx(json_t *j, UsEvent *out, int max)
{
	const char *event = str(j, "event");
	const char *channel = str(json_object_get(j, "arg"), "channel");
	int			n = 0;
	size_t		i;
	json_t	   *d;
	UsEvent    *ev;

	if (event)
	{
		const char *code = str(j, "code");

		if (!(ev = next(out, max, &n)))
			return n;
		if (is(event, "login"))
			ev->kind = is(code, "0") ? UE_LOGGED_IN : UE_AUTH_FAILED;
		else if (is(event, "subscribe"))
			ev->kind = UE_SUBSCRIBED;
		else if (is(event, "error"))
		{
			/* 60004 60005 60006 60007 60009 60024: the login's refusals */
			static const char *const auth[] = {"60004", "60005", "60006", "60007", "60009", "60024"};

			ev->kind = UE_ERROR;
			for (size_t k = 0; k < sizeof(auth) / sizeof(auth[0]); k++)
				if (is(code, auth[k]))
					ev->kind = UE_AUTH_FAILED;
		}
		else
			ev->kind = UE_NONE;
		snprintf(ev->reason, sizeof(ev->reason), "%s: %s", code ? code : "?", str(j, "msg") ? str(j, "msg") : "");
		if (ev->kind == UE_NONE)
			n--;
		return n;
	}
	if (is(channel, "orders"))
		json_array_foreach(json_object_get(j, "data"), i, d)
		{
			if (!(ev = next(out, max, &n)))
				break;
			ev->kind = UE_ORDER;
			set(ev->client_id, sizeof(ev->client_id), str(d, "clOrdId"));
			set(ev->exchange_id, sizeof(ev->exchange_id), str(d, "ordId"));
			set(ev->status, sizeof(ev->status), okx_status(str(d, "state")));
			set(ev->filled_qty, sizeof(ev->filled_qty), str(d, "accFillSz"));
			set(ev->avg_px, sizeof(ev->avg_px), str(d, "avgPx"));
			if (str(d, "tradeId") && str(d, "tradeId")[0] && str(d, "fillSz") && !zero(str(d, "fillSz")))
			{
				set(ev->trade_id, sizeof(ev->trade_id), str(d, "tradeId"));
				set(ev->last_qty, sizeof(ev->last_qty), str(d, "fillSz"));
				set(ev->last_px, sizeof(ev->last_px), str(d, "fillPx"));
				set(ev->fee, sizeof(ev->fee), str(d, "fillFee"));
				negate(ev->fee, sizeof(ev->fee));
				set(ev->fee_asset, sizeof(ev->fee_asset), str(d, "fillFeeCcy"));
				set(ev->liquidity, sizeof(ev->liquidity), is(str(d, "execType"), "M") ? "maker" : "taker");
			}
			if (str(d, "code") && !is(str(d, "code"), "0"))
				snprintf(ev->reason, sizeof(ev->reason), "%s: %s", str(d, "code"), str(d, "msg") ? str(d, "msg") : "");
		}
	else if (is(channel, "account"))
		json_array_foreach(json_object_get(j, "data"), i, d)
		{
			size_t		k;
			json_t	   *c;

			json_array_foreach(json_object_get(d, "details"), k, c)
			{
				if (!str(c, "ccy") || !(ev = next(out, max, &n)))
					continue;
				ev->kind = UE_BALANCE;
				set(ev->asset, sizeof(ev->asset), str(c, "ccy"));
				set(ev->free, sizeof(ev->free), str(c, "availBal"));
				set(ev->locked, sizeof(ev->locked), str(c, "frozenBal"));
			}
		}
	return n;
}

/* ----------------------------------------------------------------
 *		Coinbase
 * ----------------------------------------------------------------
 */
static const char *
coinbase_status(const char *s)
{
	if (is(s, "OPEN"))
		return "new";
	if (is(s, "FILLED"))
		return "filled";
	if (is(s, "CANCELLED") || is(s, "CANCEL_QUEUED"))
		return "canceled";
	if (is(s, "EXPIRED"))
		return "expired";
	if (is(s, "FAILED"))
		return "rejected";
	return "";
}

static int
parse_coinbase(json_t *j, UsEvent *out, int max)
{
	const char *channel = str(j, "channel");
	int			n = 0;
	size_t		i;
	json_t	   *e;
	UsEvent    *ev;

	if (is(str(j, "type"), "error"))
	{
		if ((ev = next(out, max, &n)))
		{
			ev->kind = is(str(j, "message"), "authentication failure") ? UE_AUTH_FAILED : UE_ERROR;
			set(ev->reason, sizeof(ev->reason), str(j, "message"));
		}
		return n;
	}
	if (is(channel, "subscriptions"))
	{
		/* the acknowledgement lists what is subscribed: ours if user is there */
		json_array_foreach(json_object_get(j, "events"), i, e)
			if (json_object_get(json_object_get(e, "subscriptions"), "user") && (ev = next(out, max, &n)))
			ev->kind = UE_SUBSCRIBED;
		return n;
	}
	if (!is(channel, "user"))
		return 0;
	json_array_foreach(json_object_get(j, "events"), i, e)
	{
		size_t		k;
		json_t	   *o;

		json_array_foreach(json_object_get(e, "orders"), k, o)
		{
			if (!(ev = next(out, max, &n)))
				return n;
			ev->kind = UE_ORDER;
			set(ev->client_id, sizeof(ev->client_id), str(o, "client_order_id"));
			set(ev->exchange_id, sizeof(ev->exchange_id), str(o, "order_id"));
			set(ev->status, sizeof(ev->status), coinbase_status(str(o, "status")));
			set(ev->filled_qty, sizeof(ev->filled_qty), str(o, "cumulative_quantity"));
			set(ev->filled_quote, sizeof(ev->filled_quote), str(o, "filled_value"));
			if (ev->filled_quote[0] == '\0' && str(o, "avg_price"))
				set(ev->avg_px, sizeof(ev->avg_px), str(o, "avg_price"));
			set(ev->reason, sizeof(ev->reason), str(o, "reject_reason") && str(o, "reject_reason")[0] ?
				str(o, "reject_reason") : str(o, "cancel_reason"));
		}
	}
	return n;
}

/*
 * Read one message of ex's private stream into at most max events;
 * returns how many (0 for pongs, heartbeats and anything not ours).
 */
int
us_parse(LiveExchange ex, const char *msg, size_t len, UsEvent *out, int max)
{
	json_t	   *j;
	int			n = 0;

	if (msg == NULL || len == 0 || max <= 0)
		return 0;
	j = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j))
	{
		json_decref(j);
		return 0;				/* "pong", or not JSON */
	}
	switch (ex)
	{
		case LX_BINANCE:
			n = parse_binance(j, out, max);
			break;
		case LX_BYBIT:
			n = parse_bybit(j, out, max);
			break;
		case LX_OKX:
			n = parse_okx(j, out, max);
			break;
		case LX_COINBASE:
			n = parse_coinbase(j, out, max);
			break;
		default:
			break;
	}
	json_decref(j);
	return n;
}

/* ----------------------------------------------------------------
 *		What zvt sends
 * ----------------------------------------------------------------
 */

/* dump j compactly into out; its length or -1 */
static int
dump(json_t *j, char *out, size_t outsz)
{
	size_t		n;

	if (j == NULL)
		return -1;
	n = json_dumpb(j, out, outsz, JSON_COMPACT);
	json_decref(j);
	if (n == 0 || n >= outsz)
		return -1;
	out[n] = '\0';
	return (int) n;
}

/*
 * The login message (Bybit auth, OKX login, Coinbase's subscribe to
 * user with a JWT); 0 when the exchange needs none (Binance: the
 * listenKey is the login), -1 when it cannot be built.  now_ms is the
 * exchange's clock as well as zvt knows it.
 */
int
us_login_message(LiveExchange ex, const LiveCreds *cr, int64_t now_ms, const char *nonce_hex,
				 char *out, size_t outsz)
{
	char		ts[32];
	char		sig[SIGN_HEX_LEN];
	char		jwt[2048];
	int			rc = -1;

	switch (ex)
	{
		case LX_BINANCE:
			out[0] = '\0';
			return 0;
		case LX_BYBIT:
			/* expires 10 s ahead; the exchange refuses a past one */
			snprintf(ts, sizeof(ts), "%" PRId64, now_ms + 10000);
			if (sign_bybit_ws(cr->secret, ts, sig, sizeof(sig)) < 0)
				return -1;
			rc = dump(json_pack("{s:s, s:s, s:[s, I, s]}", "req_id", "zvt-auth", "op", "auth",
								"args", cr->api_key, (json_int_t) (now_ms + 10000), sig), out, outsz);
			break;
		case LX_OKX:
			snprintf(ts, sizeof(ts), "%" PRId64, now_ms / 1000);
			if (sign_okx_ws(cr->secret, ts, sig, sizeof(sig)) < 0)
				return -1;
			rc = dump(json_pack("{s:s, s:[{s:s, s:s, s:s, s:s}]}", "op", "login", "args",
								"apiKey", cr->api_key, "passphrase", cr->passphrase ? cr->passphrase : "",
								"timestamp", ts, "sign", sig), out, outsz);
			break;
		case LX_COINBASE:
			if (sign_coinbase_jwt(cr->secret, cr->api_key, nonce_hex, now_ms / 1000, NULL,
								  jwt, sizeof(jwt)) < 0)
				return -1;
			rc = dump(json_pack("{s:s, s:[], s:s, s:s}", "type", "subscribe", "product_ids",
								"channel", "user", "jwt", jwt), out, outsz);
			break;
		default:
			break;
	}
	return rc;
}

/* The subscribe message after a login (Bybit, OKX); 0 when none is needed. */
int
us_subscribe_message(LiveExchange ex, const LiveCreds *cr, int64_t now_ms, const char *nonce_hex,
					 char *out, size_t outsz)
{
	(void) cr;
	(void) now_ms;
	(void) nonce_hex;
	out[0] = '\0';
	if (ex == LX_BYBIT)
		return dump(json_pack("{s:s, s:s, s:[s, s, s]}", "req_id", "zvt-sub", "op", "subscribe",
							  "args", "order", "execution", "wallet"), out, outsz);
	if (ex == LX_OKX)
		return dump(json_pack("{s:s, s:[{s:s, s:s}, {s:s}]}", "op", "subscribe", "args",
							  "channel", "orders", "instType", "SPOT", "channel", "account"), out, outsz);
	return 0;
}

/* The application-level ping the exchange wants every 20 s, or NULL. */
const char *
us_ping_message(LiveExchange ex)
{
	if (ex == LX_BYBIT)
		return "{\"req_id\":\"zvt-ping\",\"op\":\"ping\"}";
	if (ex == LX_OKX)
		return "ping";
	return NULL;
}

/* The private stream's path on the exchange's ws_url (Binance: + listenKey). */
const char *
us_ws_path(LiveExchange ex)
{
	switch (ex)
	{
		case LX_BINANCE:
			return "/ws/";
		case LX_BYBIT:
			return "/v5/private";
		case LX_OKX:
			return "/ws/v5/private";
		case LX_COINBASE:
			return "/";
		default:
			return "/";
	}
}

/*
 * The zvt order id in a client order id live_client_order_id() made for
 * this database (system_id), or -1 when it is not one of ours.
 */
int64_t
us_order_id(const char *client_id, uint64_t system_id)
{
	char		want[16];
	const char *p;
	int64_t		id = 0;

	if (client_id == NULL || strlen(client_id) < 13)
		return -1;
	snprintf(want, sizeof(want), "zvt%08xo", (unsigned) (uint32_t) (system_id ^ (system_id >> 32)));
	if (strncmp(client_id, want, 12) != 0)
		return -1;
	for (p = client_id + 12; *p; p++)
	{
		if (*p < '0' || *p > '9' || id > (INT64_MAX - 9) / 10)
			return -1;
		id = id * 10 + (*p - '0');
	}
	return id > 0 ? id : -1;
}
