/*
 * test/exsim/ex_bybit.c
 *	  Bybit v5: /v5/public/spot and /v5/public/linear, op subscribe with
 *	  one ack per request, JSON ping/pong, and the REST market endpoints.
 *
 * Facts from test/fixtures/exchanges/bybit.md: spot and linear share
 * symbol names (BTCUSDT) and differ by URL; spot prices are not padded,
 * linear prices are padded to the tick; "S" is the taker side; klines
 * carry confirm = true once closed; order books send a snapshot then
 * deltas with u + 1 each, and level 1 is snapshot-only; spot allows at
 * most 10 args per subscribe.
 */
#include "exsim.h"
#include "private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum
{
	BY_SPOT, BY_LINEAR
};

static const char *const iv_names[MK_NIV] = {"1", "5", "15", "60", "240", "D"};

/* The connection's symbol named raw ("BTCUSDT") for its category, or -1. */
static int
by_symbol(Exchange *ex, int kind, const char *raw)
{
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		MkSymbol   *s = &ex->market.sym[i];
		char		name[40];

		if (s->perp != (kind == BY_LINEAR))
			continue;
		snprintf(name, sizeof(name), "%s%s", s->base, s->quote);
		if (strcmp(name, raw) == 0)
			return i;
	}
	return -1;
}

static void
by_raw(const MkSymbol *s, char *out, size_t len)
{
	snprintf(out, len, "%s%s", s->base, s->quote);
}

/* Spot trade ids are decimal, linear ones UUIDs, as on Bybit. */
static void
by_trade_id(const MkSymbol *s, const MkTrade *t, char *buf, size_t len)
{
	if (s->perp)
		snprintf(buf, len, "%08llx-d8dd-5b31-9112-%012llx", (unsigned long long) (t->id >> 16),
				 (unsigned long long) t->id);
	else
		snprintf(buf, len, "%llu", (unsigned long long) t->id);
}

static const char *
by_px(int kind, const MkSymbol *s, int64_t px)
{
	return fmt_px(s, px, kind == BY_LINEAR, s->px_dec);
}

static bool
by_ws_accept(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	(void) ex;
	(void) args;
	if (strcmp(path, "/v5/public/spot") == 0)
		c->kind = BY_SPOT;
	else if (strcmp(path, "/v5/public/linear") == 0)
		c->kind = BY_LINEAR;
	else
		return false;
	return true;
}

/*
 * Apply a topic; returns NULL on success, else the error text (a static
 * or scratch string).
 */
static const char *
by_topic(Exchange *ex, ExConn *c, const char *topic, bool add)
{
	static char msg[256];
	const char *dot = strrchr(topic, '.');
	uint32_t	bit = 0;
	int			depth = 0;
	int			si;

	if (!dot)
	{
		snprintf(msg, sizeof(msg), "error:handler not found,topic:%s", topic);
		return msg;
	}
	if (strncmp(topic, "publicTrade.", 12) == 0 && dot == topic + 11)
		bit = SUB_TRADE;
	else if (strncmp(topic, "tickers.", 8) == 0 && dot == topic + 7)
		bit = SUB_TICKER;
	else if (strncmp(topic, "kline.", 6) == 0)
	{
		for (int iv = 0; iv < MK_NIV; iv++)
		{
			size_t		n = strlen(iv_names[iv]);

			if (strncmp(topic + 6, iv_names[iv], n) == 0 && topic + 6 + n == dot)
				bit = SUB_KLINE(iv);
		}
	}
	else if (strncmp(topic, "orderbook.", 10) == 0)
	{
		depth = atoi(topic + 10);
		if (depth == 1)
			bit = SUB_BBO;
		else if (depth == 50 || depth == 200 || depth == 1000)
			bit = SUB_BOOK;
	}
	if (!bit)
	{
		snprintf(msg, sizeof(msg), "error:handler not found,topic:%s", topic);
		return msg;
	}
	si = by_symbol(ex, c->kind, dot + 1);
	if (si < 0)
	{
		snprintf(msg, sizeof(msg), "Invalid symbol :[%s]", topic);
		return msg;
	}
	if (add)
	{
		c->sub[si] |= bit;
		if (depth > 1)
			c->book_depth[si] = depth;
	}
	else
		c->sub[si] &= ~bit;
	return NULL;
}

static void
by_ack(ExConn *c, const char *op, const char *req_id, bool ok, const char *ret_msg)
{
	char		buf[512];

	if (!ok)
		snprintf(buf, sizeof(buf), "{\"success\":false,\"ret_msg\":\"%s\",\"conn_id\":\"%s\",\"req_id\":\"%s\",\"op\":\"%s\"}",
				 ret_msg, c->conn_id, req_id, op);
	else if (c->kind == BY_SPOT)
		snprintf(buf, sizeof(buf), "{\"success\":true,\"ret_msg\":\"%s\",\"conn_id\":\"%s\",\"req_id\":\"%s\",\"op\":\"%s\"}",
				 ret_msg, c->conn_id, req_id, op);
	else
		snprintf(buf, sizeof(buf), "{\"success\":true,\"ret_msg\":\"%s\",\"conn_id\":\"%s\",\"req_id\":\"%s\",\"op\":\"%s\"}",
				 strcmp(op, "ping") == 0 ? "pong" : "", c->conn_id, req_id, op);
	conn_send_str(c, buf, false);
}

static void by_send_book_snapshot(Exchange *ex, ExConn *c, int si);

static void
by_ws_receive(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	json_t	   *req = json_loadb(msg, len, 0, NULL);
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *req_id = json_string_value(json_object_get(req, "req_id"));
	json_t	   *args = json_object_get(req, "args");

	if (!req_id)
		req_id = "";
	if (!op)
		by_ack(c, "", req_id, false, "Invalid request");
	else if (strcmp(op, "ping") == 0)
	{
		char		buf[256];

		if (c->kind == BY_SPOT)
			snprintf(buf, sizeof(buf), "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"%s\",\"op\":\"ping\"}", c->conn_id);
		else
			snprintf(buf, sizeof(buf), "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"%s\",\"req_id\":\"%s\",\"op\":\"ping\"}",
					 c->conn_id, req_id);
		conn_send_str(c, buf, false);
	}
	else if (strcmp(op, "subscribe") == 0 || strcmp(op, "unsubscribe") == 0)
	{
		bool		add = op[0] == 's';
		const char *error = NULL;
		size_t		i;
		json_t	   *a;
		uint32_t	before[MK_MAX_SYMBOLS];

		memcpy(before, c->sub, sizeof(before));
		if (!json_is_array(args))
			error = "Invalid request";
		else if (c->kind == BY_SPOT && json_array_size(args) > 10)
			error = "args size >10";
		else if (add && ex->faults.reject_subscribe > 0)
		{
			ex->faults.reject_subscribe--;
			error = "Invalid symbol :[injected]";
		}
		json_array_foreach(args, i, a)
			if (!error)
				error = json_is_string(a) ? by_topic(ex, c, json_string_value(a), add) : "Invalid request";
		if (error)
		{
			memcpy(c->sub, before, sizeof(before));
			by_ack(c, op, req_id, false, error);
		}
		else
		{
			/* a real capture shows the snapshot may precede the ack */
			by_ack(c, op, req_id, true, c->kind == BY_SPOT ? op : "");
			c->subscribed = true;
			for (int si = 0; add && si < ex->market.nsymbols; si++)
				if ((c->sub[si] & SUB_BOOK) && !(before[si] & SUB_BOOK))
					by_send_book_snapshot(ex, c, si);
		}
	}
	else
		by_ack(c, op, req_id, false, "Invalid request");
	json_decref(req);
}

static void
by_fanout(Exchange *ex, int si, uint32_t bit, int kind)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if ((c->sub[si] & bit) && c->kind == kind)
			conn_send(c, ex->scratch.data, ex->scratch.len, true);
}

static void
by_on_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	int			si = symbol_index(ex, s);
	int			kind = s->perp ? BY_LINEAR : BY_SPOT;
	char		raw[40];
	bool		want_trade = false,
				want_bbo = false;

	for (ExConn *c = ex->conns; c; c = c->next)
	{
		want_trade |= (c->sub[si] & SUB_TRADE) != 0;
		want_bbo |= (c->sub[si] & SUB_BBO) != 0;
	}
	by_raw(s, raw, sizeof(raw));
	if (want_trade)
	{
		char		id[64];

		by_trade_id(s, t, id, sizeof(id));
		buf_reset(&ex->scratch);
		if (kind == BY_SPOT)
			buf_printf(&ex->scratch,
					   "{\"topic\":\"publicTrade.%s\",\"ts\":%lld,\"type\":\"snapshot\",\"data\":[{\"i\":\"%llu\","
					   "\"T\":%lld,\"p\":\"%s\",\"v\":\"%s\",\"S\":\"%s\",\"seq\":%llu,\"s\":\"%s\",\"BT\":false,\"RPI\":false}]}",
					   raw, (long long) t->ts + 1, (unsigned long long) t->id, (long long) t->ts,
					   by_px(kind, s, t->px), fmt_qty(s, t->qty, false, 0), t->taker_buy ? "Buy" : "Sell",
					   (unsigned long long) s->book_seq, raw);
		else
			buf_printf(&ex->scratch,
					   "{\"topic\":\"publicTrade.%s\",\"type\":\"snapshot\",\"ts\":%lld,\"data\":[{\"T\":%lld,"
					   "\"s\":\"%s\",\"S\":\"%s\",\"v\":\"%s\",\"p\":\"%s\",\"L\":\"%s\",\"i\":\"%s\","
					   "\"BT\":false,\"seq\":%llu}]}",
					   raw, (long long) t->ts + 1, (long long) t->ts, raw, t->taker_buy ? "Buy" : "Sell",
					   fmt_qty(s, t->qty, true, s->qty_dec), by_px(kind, s, t->px),
					   t->taker_buy ? "PlusTick" : "MinusTick", id, (unsigned long long) s->book_seq);
		by_fanout(ex, si, SUB_TRADE, kind);
	}
	if (want_bbo)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"topic\":\"orderbook.1.%s\",\"ts\":%lld,\"type\":\"snapshot\",\"data\":{\"s\":\"%s\","
				   "\"b\":[[\"%s\",\"%s\"]],\"a\":[[\"%s\",\"%s\"]],\"u\":%llu,\"seq\":%llu},\"cts\":%lld}",
				   raw, (long long) t->ts + 1, raw, by_px(kind, s, s->bid), fmt_qty(s, s->bid_qty, false, 0),
				   by_px(kind, s, s->ask), fmt_qty(s, s->ask_qty, false, 0),
				   (unsigned long long) s->book_seq, (unsigned long long) s->book_seq * 3,
				   (long long) t->ts);
		by_fanout(ex, si, SUB_BBO, kind);
		record_quote(ex, s, s->book_seq);
	}
}

static void
by_push_kline(Exchange *ex, MkSymbol *s, int iv, const MkKline *k, bool closed, int64_t ts)
{
	int			si = symbol_index(ex, s);
	int			kind = s->perp ? BY_LINEAR : BY_SPOT;
	char		raw[40];
	bool		any = false;

	for (ExConn *c = ex->conns; c && !any; c = c->next)
		any = (c->sub[si] & SUB_KLINE(iv)) != 0;
	if (!any)
		return;
	by_raw(s, raw, sizeof(raw));
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch,
			   "{\"topic\":\"kline.%s.%s\",\"data\":[{\"start\":%lld,\"end\":%lld,\"interval\":\"%s\","
			   "\"open\":\"%s\",\"close\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"volume\":\"%s\","
			   "\"turnover\":\"%s\",\"confirm\":%s,\"timestamp\":%lld}],\"ts\":%lld,\"type\":\"snapshot\"}",
			   iv_names[iv], raw, (long long) k->open_ts,
			   (long long) (k->open_ts + mk_interval_ms[iv] - 1), iv_names[iv],
			   by_px(kind, s, k->o), by_px(kind, s, k->c), by_px(kind, s, k->h), by_px(kind, s, k->l),
			   fmt_qty(s, k->vol, false, 0), fmt_quote_vol(s, k->quote_vol, false, 0),
			   closed ? "true" : "false", (long long) (k->last_trade_ts ? k->last_trade_ts : k->open_ts),
			   (long long) ts);
	by_fanout(ex, si, SUB_KLINE(iv), kind);
}

static void
by_on_kline_closed(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	by_push_kline(ex, s, iv, k, true, k->open_ts + mk_interval_ms[iv] + 1);
}

static void
by_levels(Buf *b, int kind, const MkSymbol *s, const MkLevel *lv, int n)
{
	buf_add(b, "[", 1);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s[\"%s\",\"%s\"]", i ? "," : "", by_px(kind, s, lv[i].px),
				   fmt_qty(s, lv[i].qty, false, 0));
	buf_add(b, "]", 1);
}

static void
by_book_json(Exchange *ex, int si, const char *type, const MkBook *b, uint64_t u, int depth)
{
	MkSymbol   *s = &ex->market.sym[si];
	int			kind = s->perp ? BY_LINEAR : BY_SPOT;
	char		raw[40];
	int64_t		ts = now_sim_ms();

	by_raw(s, raw, sizeof(raw));
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch, "{\"topic\":\"orderbook.%d.%s\",\"ts\":%lld,\"type\":\"%s\",\"data\":{\"s\":\"%s\",\"b\":",
			   depth, raw, (long long) ts, type, raw);
	by_levels(&ex->scratch, kind, s, b->bids, b->nbids);
	buf_add(&ex->scratch, ",\"a\":", 5);
	by_levels(&ex->scratch, kind, s, b->asks, b->nasks);
	buf_printf(&ex->scratch, ",\"u\":%llu,\"seq\":%llu},\"cts\":%lld}", (unsigned long long) u,
			   (unsigned long long) u * 3, (long long) ts - 2);
}

static void
by_send_book_snapshot(Exchange *ex, ExConn *c, int si)
{
	MkBook		delta;
	uint64_t	prev,
				seq;

	if (!ex->book_valid[si])
		ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
	by_book_json(ex, si, "snapshot", &ex->book[si], ex->book_seq[si],
				 c->book_depth[si] ? c->book_depth[si] : 50);
	conn_send(c, ex->scratch.data, ex->scratch.len, true);
}

static void
by_on_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms)
{
	if (ex_book_due(ex, real_ms))
	{
		ex->last_fast_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			bool		any = false;
			MkBook		delta;
			uint64_t	prev,
						seq;

			for (ExConn *c = ex->conns; c && !any; c = c->next)
				any = (c->sub[si] & SUB_BOOK) != 0;
			if (!any)
				continue;
			ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
			for (ExConn *c = ex->conns; c; c = c->next)
				if (c->sub[si] & SUB_BOOK)
				{
					by_book_json(ex, si, "delta", &delta, seq, c->book_depth[si]);
					conn_send(c, ex->scratch.data, ex->scratch.len, true);
				}
		}
	}
	if (real_ms - ex->last_push_ms >= 1000)
	{
		ex->last_push_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			MkSymbol   *s = &ex->market.sym[si];
			const MkKline *d = &s->cur[MK_IV_1D];
			char		raw[40];
			bool		any = false;

			for (int iv = 0; iv < MK_NIV; iv++)
				by_push_kline(ex, s, iv, &s->cur[iv], false, sim_ms);
			for (ExConn *c = ex->conns; c && !any; c = c->next)
				any = (c->sub[si] & SUB_TICKER) != 0;
			if (!any)
				continue;
			by_raw(s, raw, sizeof(raw));
			buf_reset(&ex->scratch);
			if (!s->perp)
				buf_printf(&ex->scratch,
						   "{\"topic\":\"tickers.%s\",\"ts\":%lld,\"type\":\"snapshot\",\"cs\":%llu,\"data\":{\"symbol\":\"%s\","
						   "\"lastPrice\":\"%s\",\"highPrice24h\":\"%s\",\"lowPrice24h\":\"%s\",\"prevPrice24h\":\"%s\","
						   "\"volume24h\":\"%s\",\"turnover24h\":\"%s\",\"price24hPcnt\":\"0.0000\",\"usdIndexPrice\":\"%s\"}}",
						   raw, (long long) sim_ms, (unsigned long long) s->book_seq, raw,
						   by_px(BY_SPOT, s, s->last_px), by_px(BY_SPOT, s, d->h), by_px(BY_SPOT, s, d->l),
						   by_px(BY_SPOT, s, d->o), fmt_qty(s, d->vol, false, 0),
						   fmt_quote_vol(s, d->quote_vol, false, 0), by_px(BY_SPOT, s, s->last_px));
			else
				buf_printf(&ex->scratch,
						   "{\"topic\":\"tickers.%s\",\"type\":\"snapshot\",\"data\":{\"symbol\":\"%s\",\"tickDirection\":\"PlusTick\","
						   "\"price24hPcnt\":\"0.000000\",\"lastPrice\":\"%s\",\"prevPrice24h\":\"%s\",\"highPrice24h\":\"%s\","
						   "\"lowPrice24h\":\"%s\",\"prevPrice1h\":\"%s\",\"markPrice\":\"%s\",\"indexPrice\":\"%s\","
						   "\"openInterest\":\"1000.000\",\"openInterestValue\":\"60000000.00\",\"turnover24h\":\"%s\","
						   "\"volume24h\":\"%s\",\"nextFundingTime\":\"%lld\",\"fundingRate\":\"0.0001\","
						   "\"bid1Price\":\"%s\",\"bid1Size\":\"%s\",\"ask1Price\":\"%s\",\"ask1Size\":\"%s\"},"
						   "\"cs\":%llu,\"ts\":%lld}",
						   raw, raw, by_px(BY_LINEAR, s, s->last_px), by_px(BY_LINEAR, s, d->o),
						   by_px(BY_LINEAR, s, d->h), by_px(BY_LINEAR, s, d->l), by_px(BY_LINEAR, s, d->o),
						   by_px(BY_LINEAR, s, s->last_px), by_px(BY_LINEAR, s, s->last_px),
						   fmt_quote_vol(s, d->quote_vol, false, 0), fmt_qty(s, d->vol, false, 0),
						   (long long) ((sim_ms / 28800000 + 1) * 28800000),
						   by_px(BY_LINEAR, s, s->bid), fmt_qty(s, s->bid_qty, false, 0),
						   by_px(BY_LINEAR, s, s->ask), fmt_qty(s, s->ask_qty, false, 0),
						   (unsigned long long) s->book_seq, (long long) sim_ms);
			by_fanout(ex, si, SUB_TICKER, s->perp ? BY_LINEAR : BY_SPOT);
		}
	}
}

/* ------------------------------------------------------------------ */
/* REST                                                                */
/* ------------------------------------------------------------------ */

static void
by_envelope_open(Buf *b)
{
	buf_add(b, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":", 36);
}

static void
by_envelope_close(Buf *b)
{
	buf_printf(b, ",\"retExtInfo\":{},\"time\":%lld}", (long long) now_sim_ms());
}

static int
by_error(ExConn *c, int code, const char *msg)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"retCode\":%d,\"retMsg\":\"%s\",\"result\":{},\"retExtInfo\":{},\"time\":%lld}",
			   code, msg, (long long) now_sim_ms());
	return 200;
}

static int
by_rest(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	char		cat[16] = "linear";
	char		sym[40] = "";
	char		v[64];
	int			kind;
	int			si = -1;

	if (strcmp(path, "/__429") == 0)
	{
		by_error(c, 10006, "Too many visits!");
		return 429;
	}
	url_arg(args, "category", cat, sizeof(cat));
	if (strcmp(cat, "spot") != 0 && strcmp(cat, "linear") != 0)
		return by_error(c, 10001, "params error: category invalid");
	kind = strcmp(cat, "spot") == 0 ? BY_SPOT : BY_LINEAR;
	if (url_arg(args, "symbol", sym, sizeof(sym)))
		si = by_symbol(ex, kind, sym);

	if (strcmp(path, "/v5/market/instruments-info") == 0)
	{
		bool		first = true;
		int			limit = 500;	/* Bybit's default */
		int			from = 0;		/* index among this category's symbols */
		int			k = 0;
		int			emitted = 0;
		char		cur[64];

		if (url_arg(args, "limit", v, sizeof(v)))
		{
			limit = atoi(v);
			if (limit < 1 || limit > 1000)
				return by_error(c, 10001, "params error: limit must be between 1 and 1000");
		}
		if (ex->faults.page_size > 0 && limit > ex->faults.page_size)
			limit = ex->faults.page_size;
		/*
		 * The cursor is sent percent-encoded, as Bybit's is (next%3D<index>);
		 * url_arg hands it back decoded.
		 */
		if (url_arg(args, "cursor", cur, sizeof(cur)) && kind == BY_LINEAR)
		{
			if (strncmp(cur, "next=", 5) != 0 || (from = atoi(cur + 5)) < 0)
				return by_error(c, 10001, "params error: cursor invalid");
		}

		by_envelope_open(&c->body);
		buf_printf(&c->body, "{\"category\":\"%s\",\"list\":[", cat);
		for (int i = 0; i < ex->market.nsymbols; i++)
		{
			MkSymbol   *s = &ex->market.sym[i];
			char		raw[40];

			if (s->perp != (kind == BY_LINEAR) || (sym[0] && i != si))
				continue;
			/* linear pages with a cursor; spot has no pagination */
			if (kind == BY_LINEAR)
			{
				if (k++ < from)
					continue;
				if (emitted >= limit)
					break;
			}
			emitted++;
			by_raw(s, raw, sizeof(raw));
			if (kind == BY_SPOT)
				buf_printf(&c->body,
						   "%s{\"symbol\":\"%s\",\"baseCoin\":\"%s\",\"quoteCoin\":\"%s\",\"innovation\":\"0\",\"status\":\"Trading\","
						   "\"marginTrading\":\"utaOnly\",\"stTag\":\"0\",\"lotSizeFilter\":{\"basePrecision\":\"%s\",\"quotePrecision\":\"0.0000001\","
						   "\"minOrderQty\":\"%s\",\"maxOrderQty\":\"9000\",\"minOrderAmt\":\"5\",\"maxOrderAmt\":\"8000000\"},"
						   "\"priceFilter\":{\"tickSize\":\"%s\"}}",
						   first ? "" : ",", raw, s->base, s->quote, fmt_qty(s, 1, true, 0),
						   fmt_qty(s, s->min_qty, false, 0), fmt_px(s, 1, true, 0));
			else
				buf_printf(&c->body,
						   "%s{\"symbol\":\"%s\",\"contractType\":\"LinearPerpetual\",\"status\":\"Trading\",\"baseCoin\":\"%s\","
						   "\"quoteCoin\":\"%s\",\"settleCoin\":\"%s\",\"priceScale\":\"%d\",\"priceFilter\":{\"minPrice\":\"%s\","
						   "\"maxPrice\":\"1999999.80\",\"tickSize\":\"%s\"},\"lotSizeFilter\":{\"maxOrderQty\":\"1190.000\","
						   "\"minOrderQty\":\"%s\",\"qtyStep\":\"%s\",\"minNotionalValue\":\"5\"},\"fundingInterval\":480}",
						   first ? "" : ",", raw, s->base, s->quote, s->quote, s->px_dec,
						   fmt_px(s, 1, true, 0), fmt_px(s, 1, true, 0),
						   fmt_qty(s, s->min_qty, true, 0), fmt_qty(s, 1, true, 0));
			first = false;
		}
		if (kind == BY_LINEAR)
		{
			/* a next page when symbols are left after this one */
			bool		more = false;

			for (int i = 0, j = 0; i < ex->market.nsymbols; i++)
				if (ex->market.sym[i].perp && !(sym[0] && i != si) && j++ >= from + emitted)
					more = true;
			if (more)
				buf_printf(&c->body, "],\"nextPageCursor\":\"next%%3D%d\"}", from + emitted);
			else
				buf_add(&c->body, "],\"nextPageCursor\":\"\"}", 22);
		}
		else
			buf_add(&c->body, "]}", 2);
		by_envelope_close(&c->body);
		return 200;
	}
	if (si < 0)
		return by_error(c, kind == BY_SPOT ? 170121 : 10001, kind == BY_SPOT ? "Invalid symbol." : "params error: symbol invalid");
	if (strcmp(path, "/v5/market/kline") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		int			iv = -1;
		int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 200;
		int64_t		start = url_arg(args, "start", v, sizeof(v)) ? atoll(v) : 0;
		int64_t		end = url_arg(args, "end", v, sizeof(v)) ? atoll(v) : INT64_MAX;
		const MkKline *rows[1001];
		int			n;

		if (url_arg(args, "interval", v, sizeof(v)))
			for (int i = 0; i < MK_NIV; i++)
				if (strcmp(v, iv_names[i]) == 0)
					iv = i;
		if (iv < 0)
			return by_error(c, 10001, "params error: interval invalid");
		if (limit < 1 || limit > 1000)
			limit = 200;
		n = ex_klines(ex, si, iv, start, end, start <= 0, rows, limit);
		if (s->cur[iv].open_ts >= start && s->cur[iv].open_ts <= end)
			rows[n++] = &s->cur[iv];
		by_envelope_open(&c->body);
		buf_printf(&c->body, "{\"symbol\":\"%s\",\"category\":\"%s\",\"list\":[", sym, cat);
		/* newest first; with start, the `limit` after start */
		{
			int			lo = start > 0 ? 0 : (n > limit ? n - limit : 0);
			int			hi = lo + limit < n ? lo + limit : n;

			for (int i = hi - 1; i >= lo; i--)
				buf_printf(&c->body, "%s[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]",
						   i < hi - 1 ? "," : "", (long long) rows[i]->open_ts,
						   by_px(kind, s, rows[i]->o), by_px(kind, s, rows[i]->h),
						   by_px(kind, s, rows[i]->l), by_px(kind, s, rows[i]->c),
						   fmt_qty(s, rows[i]->vol, false, 0), fmt_quote_vol(s, rows[i]->quote_vol, false, 0));
		}
		buf_add(&c->body, "]}", 2);
		by_envelope_close(&c->body);
		return 200;
	}
	if (strcmp(path, "/v5/market/orderbook") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		MkBook		b;

		mk_book(s, MK_BOOK_DEPTH, &b);
		by_envelope_open(&c->body);
		buf_printf(&c->body, "{\"s\":\"%s\",\"b\":", sym);
		by_levels(&c->body, kind, s, b.bids, b.nbids);
		buf_add(&c->body, ",\"a\":", 5);
		by_levels(&c->body, kind, s, b.asks, b.nasks);
		buf_printf(&c->body, ",\"ts\":%lld,\"u\":%llu,\"seq\":%llu,\"cts\":%lld}", (long long) now_sim_ms(),
				   (unsigned long long) s->book_seq, (unsigned long long) s->book_seq * 3,
				   (long long) now_sim_ms());
		by_envelope_close(&c->body);
		return 200;
	}
	if (strcmp(path, "/v5/market/recent-trade") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		const MkTrade *rows[1000];
		/* Bybit's limits: spot [1, 60] (default 60), others [1, 1000] (default 500) */
		int			most = kind == BY_SPOT ? 60 : 1000;
		int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : kind == BY_SPOT ? 60 : 500;
		int			n;
		char		id[64];

		if (limit < 1 || limit > most)
			return by_error(c, 10001, "params error: limit invalid");
		/* the latest, newest first, reaching into the past when the live market is young */
		n = trades_older(ex, si, false, INT64_MAX, INT64_MIN, rows, limit);
		by_envelope_open(&c->body);
		buf_printf(&c->body, "{\"category\":\"%s\",\"list\":[", cat);
		for (int i = 0; i < n; i++)
		{
			by_trade_id(s, rows[i], id, sizeof(id));
			buf_printf(&c->body, "%s{\"execId\":\"%s\",\"symbol\":\"%s\",\"price\":\"%s\",\"size\":\"%s\",\"side\":\"%s\","
					   "\"time\":\"%lld\",\"isBlockTrade\":false,\"isRPITrade\":false}",
					   i ? "," : "", id, sym, by_px(kind, s, rows[i]->px),
					   fmt_qty(s, rows[i]->qty, false, 0), rows[i]->taker_buy ? "Buy" : "Sell",
					   (long long) rows[i]->ts);
		}
		buf_add(&c->body, "]}", 2);
		by_envelope_close(&c->body);
		return 200;
	}
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"retCode\":10001,\"retMsg\":\"unknown path %s\"}", path);
	return 404;
}

const ExAdapter bybit_adapter = {
	.name = "bybit",
	.ws_accept = by_ws_accept,
	.ws_receive = by_ws_receive,
	.on_trade = by_on_trade,
	.on_kline_closed = by_on_kline_closed,
	.on_tick = by_on_tick,
	.rest = by_rest,
	.http_error = "{\"retCode\":10001,\"retMsg\":\"%s\",\"result\":{},\"retExtInfo\":{}}",
	.private_rest = priv_bybit,
	.trade_id = by_trade_id,
};
