/*-------------------------------------------------------------------------
 *
 * src/live/route_parse.c
 *	  The exchanges' replies to place, query and cancel, read into one
 *	  LiveReply (route.h).
 *
 * The kinds, per exchange (codes from the exchange notes in test/fixtures/exchanges and
 * the exchanges' error lists):
 *	 auth	 Binance -2014 -2015 -1022; Bybit 10003 10004; OKX 50103 50105
 *			 50111 50113; Coinbase HTTP 401
 *	 clock	 Binance -1021; Bybit 10002; OKX 50102 50112
 *	 rate	 HTTP 429 or 418; Bybit 10006; OKX 50011
 *	 unknown HTTP 5xx, no status (0), a body that is not the expected JSON
 * Anything else the exchange refuses is LR_REJECTED with its code and
 * message as the reason.  A query that finds nothing is LR_NOT_FOUND
 * (Binance -2013, Bybit an empty list, OKX 51603, Coinbase none with the
 * client order id), which after a lost reply means the order never
 * reached the exchange.  Pure C (jansson); never aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "live/route.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "live/json_text.h"

static void
set(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}


static void
reason(LiveReply *r, const char *code, const char *msg)
{
	snprintf(r->reason, sizeof(r->reason), "%s: %s", code ? code : "?", msg ? msg : "");
}

/* ----------------------------------------------------------------
 *		Binance
 * ----------------------------------------------------------------
 */
static void
parse_binance(LiveOp op, long http, json_t *j, LiveReply *r)
{
	json_t	   *code = json_object_get(j, "code");
	const char *st = json_string_value(json_object_get(j, "status"));

	if (json_is_integer(code))
	{
		long long	c = json_integer_value(code);
		char		cs[24];

		snprintf(cs, sizeof(cs), "%lld", c);
		reason(r, cs, json_string_value(json_object_get(j, "msg")));
		r->kind = c == -2014 || c == -2015 || c == -1022 ? LR_AUTH :
			c == -1021 ? LR_CLOCK : c == -1003 ? LR_RATE :
			op == LO_QUERY && c == -2013 ? LR_NOT_FOUND : LR_REJECTED;
		return;
	}
	if (http != 200 || st == NULL)
		return;
	r->kind = LR_OK;
	live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(j, "orderId"));
	live_json_text(r->filled_qty, sizeof(r->filled_qty), json_object_get(j, "executedQty"));
	live_json_text(r->filled_quote, sizeof(r->filled_quote), json_object_get(j, "cummulativeQuoteQty"));
	set(r->status, sizeof(r->status),
		strcmp(st, "NEW") == 0 ? "new" : strcmp(st, "PARTIALLY_FILLED") == 0 ? "partially_filled" :
		strcmp(st, "FILLED") == 0 ? "filled" : strcmp(st, "CANCELED") == 0 ? "canceled" :
		strcmp(st, "REJECTED") == 0 ? "rejected" : strcmp(st, "EXPIRED") == 0 ||
		strcmp(st, "EXPIRED_IN_MATCH") == 0 ? "expired" : "");
}

/* ----------------------------------------------------------------
 *		Bybit
 * ----------------------------------------------------------------
 */
static const char *
bybit_status(const char *s, const char *filled)
{
	if (s == NULL)
		return "";
	if (strcmp(s, "New") == 0 || strcmp(s, "Untriggered") == 0)
		return "new";
	if (strcmp(s, "PartiallyFilled") == 0)
		return "partially_filled";
	if (strcmp(s, "Filled") == 0)
		return "filled";
	if (strcmp(s, "Rejected") == 0)
		return "rejected";
	if (strcmp(s, "Cancelled") == 0 || strcmp(s, "PartiallyFilledCanceled") == 0 || strcmp(s, "Deactivated") == 0)
		return "canceled";
	(void) filled;
	return "";
}

static void
parse_bybit(LiveOp op, long http, json_t *j, LiveReply *r)
{
	json_t	   *code = json_object_get(j, "retCode");
	json_t	   *res = json_object_get(j, "result");
	long long	c;
	char		cs[24];

	if (http != 200 || !json_is_integer(code))
		return;
	c = json_integer_value(code);
	if (c != 0)
	{
		snprintf(cs, sizeof(cs), "%lld", c);
		reason(r, cs, json_string_value(json_object_get(j, "retMsg")));
		r->kind = c == 10003 || c == 10004 || c == 10005 ? LR_AUTH : c == 10002 ? LR_CLOCK :
			c == 10006 ? LR_RATE : op == LO_CANCEL && (c == 170213 || c == 110001) ? LR_REJECTED :
			LR_REJECTED;
		return;
	}
	if (op == LO_QUERY)
	{
		json_t	   *o = json_array_get(json_object_get(res, "list"), 0);
		const char *f;

		if (o == NULL)
		{
			r->kind = LR_NOT_FOUND;
			return;
		}
		live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(o, "orderId"));
		live_json_text(r->filled_qty, sizeof(r->filled_qty), json_object_get(o, "cumExecQty"));
		live_json_text(r->filled_quote, sizeof(r->filled_quote), json_object_get(o, "cumExecValue"));
		f = r->filled_qty;
		set(r->status, sizeof(r->status), bybit_status(json_string_value(json_object_get(o, "orderStatus")), f));
		set(r->reason, sizeof(r->reason), json_string_value(json_object_get(o, "rejectReason")));
		r->kind = LR_OK;
		return;
	}
	/* create and cancel answer with ids only */
	r->kind = LR_OK;
	live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(res, "orderId"));
	set(r->status, sizeof(r->status), op == LO_CANCEL ? "canceled" : "");
}

/* ----------------------------------------------------------------
 *		OKX
 * ----------------------------------------------------------------
 */
static void
parse_okx(LiveOp op, long http, json_t *j, LiveReply *r)
{
	const char *code = json_string_value(json_object_get(j, "code"));
	json_t	   *d = json_array_get(json_object_get(j, "data"), 0);

	if (code == NULL)
		return;
	if (strcmp(code, "0") != 0 && strcmp(code, "1") != 0 && strcmp(code, "2") != 0)
	{
		reason(r, code, json_string_value(json_object_get(j, "msg")));
		r->kind = strcmp(code, "50103") == 0 || strcmp(code, "50105") == 0 || strcmp(code, "50111") == 0 ||
			strcmp(code, "50113") == 0 ? LR_AUTH :
			strcmp(code, "50102") == 0 || strcmp(code, "50112") == 0 ? LR_CLOCK :
			strcmp(code, "50011") == 0 ? LR_RATE :
			op == LO_QUERY && strcmp(code, "51603") == 0 ? LR_NOT_FOUND :
			http >= 500 ? LR_UNKNOWN : LR_REJECTED;
		return;
	}
	if (d == NULL)
		return;
	if (op == LO_QUERY)
	{
		const char *st = json_string_value(json_object_get(d, "state"));

		r->kind = LR_OK;
		live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(d, "ordId"));
		live_json_text(r->filled_qty, sizeof(r->filled_qty), json_object_get(d, "accFillSz"));
		live_json_text(r->filled_quote, sizeof(r->filled_quote), json_object_get(d, "fillNotional"));
		set(r->status, sizeof(r->status),
			st == NULL ? "" : strcmp(st, "live") == 0 ? "new" : strcmp(st, "partially_filled") == 0 ? "partially_filled" :
			strcmp(st, "filled") == 0 ? "filled" : strncmp(st, "canceled", 8) == 0 || strcmp(st, "mmp_canceled") == 0 ? "canceled" : "");
		return;
	}
	if (strcmp(code, "0") != 0)
	{
		r->kind = LR_REJECTED;
		reason(r, json_string_value(json_object_get(d, "sCode")), json_string_value(json_object_get(d, "sMsg")));
		return;
	}
	r->kind = LR_OK;
	live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(d, "ordId"));
	set(r->status, sizeof(r->status), op == LO_CANCEL ? "canceled" : "");
}

/* ----------------------------------------------------------------
 *		Coinbase
 * ----------------------------------------------------------------
 */
static void
coinbase_order(json_t *o, LiveReply *r)
{
	const char *st = json_string_value(json_object_get(o, "status"));
	const char *filled = json_string_value(json_object_get(o, "filled_size"));
	bool		some = filled && strspn(filled, "0.") != strlen(filled);

	r->kind = LR_OK;
	live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(o, "order_id"));
	set(r->filled_qty, sizeof(r->filled_qty), filled);
	set(r->filled_quote, sizeof(r->filled_quote), json_string_value(json_object_get(o, "filled_value")));
	set(r->status, sizeof(r->status),
		st == NULL ? "" : strcmp(st, "OPEN") == 0 || strcmp(st, "PENDING") == 0 || strcmp(st, "QUEUED") == 0 ?
		(some ? "partially_filled" : "new") :
		strcmp(st, "FILLED") == 0 ? "filled" : strcmp(st, "CANCELLED") == 0 ? "canceled" :
		strcmp(st, "EXPIRED") == 0 ? "expired" : strcmp(st, "FAILED") == 0 ? "rejected" : "");
}

static void
parse_coinbase(LiveOp op, long http, json_t *j, const char *client_id, LiveReply *r)
{
	if (http == 401)
	{
		r->kind = LR_AUTH;
		reason(r, "401", json_string_value(json_object_get(j, "message")));
		return;
	}
	if (op == LO_PLACE && http == 200 && json_is_boolean(json_object_get(j, "success")))
	{
		if (json_is_true(json_object_get(j, "success")))
		{
			r->kind = LR_OK;
			live_json_text(r->exchange_id, sizeof(r->exchange_id),
					 json_object_get(json_object_get(j, "success_response"), "order_id"));
		}
		else
		{
			json_t	   *e = json_object_get(j, "error_response");

			r->kind = LR_REJECTED;
			reason(r, json_string_value(json_object_get(e, "error")), json_string_value(json_object_get(e, "message")));
		}
		return;
	}
	if (op == LO_CANCEL && http == 200)
	{
		json_t	   *res = json_array_get(json_object_get(j, "results"), 0);

		if (res == NULL)
			return;
		live_json_text(r->exchange_id, sizeof(r->exchange_id), json_object_get(res, "order_id"));
		if (json_is_true(json_object_get(res, "success")))
		{
			r->kind = LR_OK;
			set(r->status, sizeof(r->status), "canceled");
		}
		else
		{
			r->kind = LR_REJECTED;
			reason(r, json_string_value(json_object_get(res, "failure_reason")), "cancel refused");
		}
		return;
	}
	if (op == LO_QUERY && http == 404)
	{
		r->kind = LR_NOT_FOUND;
		return;
	}
	if (op == LO_QUERY && http == 200)
	{
		json_t	   *one = json_object_get(j, "order");
		json_t	   *o;
		size_t		i;

		if (one)
		{
			coinbase_order(one, r);
			return;
		}
		r->kind = LR_NOT_FOUND;
		json_array_foreach(json_object_get(j, "orders"), i, o)
		{
			const char *cid = json_string_value(json_object_get(o, "client_order_id"));

			if (cid && client_id && strcmp(cid, client_id) == 0)
			{
				coinbase_order(o, r);
				return;
			}
		}
	}
}

/*
 * Read the reply to op: http_status (0 when no reply came) and its body.
 * client_id names the order a Coinbase list query looks for.  *out is
 * always filled; anything unreadable is LR_UNKNOWN.
 */
void
live_parse_reply(LiveExchange ex, LiveOp op, long http_status, const char *body,
				 size_t len, const char *client_id, LiveReply *out)
{
	json_t	   *j;

	memset(out, 0, sizeof(*out));
	out->kind = LR_UNKNOWN;
	if (http_status == 429 || http_status == 418)
	{
		out->kind = LR_RATE;
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld", http_status);
		return;
	}
	if (http_status == 0 || http_status >= 500 || body == NULL)
	{
		snprintf(out->reason, sizeof(out->reason), http_status ? "HTTP %ld" : "no reply", http_status);
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	switch (ex)
	{
		case LX_BINANCE:
			parse_binance(op, http_status, j, out);
			break;
		case LX_BYBIT:
			parse_bybit(op, http_status, j, out);
			break;
		case LX_OKX:
			parse_okx(op, http_status, j, out);
			break;
		case LX_COINBASE:
			parse_coinbase(op, http_status, j, client_id, out);
			break;
		default:
			break;
	}
	if (out->kind == LR_UNKNOWN && out->reason[0] == '\0')
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld: unreadable reply", http_status);
	json_decref(j);
}
