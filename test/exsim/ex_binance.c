/*
 * test/exsim/ex_binance.c
 *	  Binance Spot's market streams: /ws/<stream>, /stream?streams=...,
 *	  the JSON control protocol, server pings; with ex->futures, Binance
 *	  USD-M futures' (fstream) the same way; and the exchange's adapter.
 *	  The REST market data is ex_binance_rest.c's, the signed endpoints
 *	  priv_binance.c's.
 *
 * The futures exchange serves the perpetuals of the symbol list under
 * their concatenated names (BTCUSDT), trades as aggTrade only (id a =
 * trade id - 500000, also the record's id), bookTicker with "e" and
 * times, depthUpdate with "pu", @markPrice[@1s] (ex_funding.c)
 * (test/fixtures/exchanges/binance_futures.md).
 *
 * Facts from test/fixtures/exchanges/binance.md: prices and sizes are
 * strings with 8 decimals, ids and times numbers; "m" is "buyer is the
 * maker" (taker sold); bookTicker has no event type or time; klines push
 * every 2 s and once more closed (x = true); the depth stream's U/u share
 * the id space of the REST snapshot's lastUpdateId; the server pings every
 * 20 s and drops a client silent for a minute; more than 5 client
 * messages a second is a disconnect.
 */
#include "exsim.h"
#include "private.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum
{
	BN_RAW, BN_COMBINED
};

const char *const binance_iv_names[MK_NIV] = {"1m", "5m", "15m", "1h", "4h", "1d"};

/* Market symbol of a lowercase stream symbol ("btcusdt"), or -1. */
int
binance_symbol(Exchange *ex, const char *lower, size_t n)
{
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		MkSymbol   *s = &ex->market.sym[i];
		char		raw[40];

		if (s->perp != ex->futures)
			continue;			/* spot has no perpetuals, futures only them */
		snprintf(raw, sizeof(raw), "%s%s", s->base, s->quote);
		for (char *p = raw; *p; p++)
			*p = (char) tolower((unsigned char) *p);
		if (strlen(raw) == n && strncmp(raw, lower, n) == 0)
			return i;
	}
	return -1;
}

/*
 * Apply one stream name to c (add or remove).  Returns false when the
 * name is malformed; a well-formed name of an unknown symbol is accepted
 * and yields nothing, as on the real exchange.
 */
static bool
bn_stream(Exchange *ex, ExConn *c, const char *name, bool add)
{
	const char *at = strchr(name, '@');
	const char *type;
	uint32_t	bit = 0;
	int			depth = 0;
	int			si;

	if (!at || at == name)
		return false;
	for (const char *p = name; p < at; p++)
		if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p))
			return false;
	type = at + 1;
	if (strcmp(type, "trade") == 0 && !ex->futures)
		bit = SUB_TRADE;
	else if (strcmp(type, "aggTrade") == 0)
		bit = SUB_AGGTRADE;
	else if (strcmp(type, "bookTicker") == 0)
		bit = SUB_BBO;
	else if (strcmp(type, "depth") == 0 || strcmp(type, "depth@100ms") == 0)
		bit = SUB_BOOK;
	else if (strncmp(type, "depth", 5) == 0 &&
			 (atoi(type + 5) == 5 || atoi(type + 5) == 10 || atoi(type + 5) == 20))
	{
		depth = atoi(type + 5);
		bit = SUB_TICKER;		/* partial book: a snapshot every 100 ms */
	}
	else if (ex->futures && (strcmp(type, "markPrice") == 0 || strcmp(type, "markPrice@1s") == 0))
		bit = SUB_MARK;
	else if (strncmp(type, "kline_", 6) == 0)
	{
		for (int iv = 0; iv < MK_NIV; iv++)
			if (strcmp(type + 6, binance_iv_names[iv]) == 0)
				bit = SUB_KLINE(iv);
		if (!bit)
			return false;
	}
	else
		return false;
	si = binance_symbol(ex, name, (size_t) (at - name));
	if (si < 0)
		return true;
	if (add)
	{
		c->sub[si] |= bit;
		if (depth)
			c->book_depth[si] = depth;
	}
	else
		c->sub[si] &= ~bit;
	return true;
}

static bool
bn_ws_accept(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	char		streams[2048];

	if (strcmp(path, "/ws") == 0 || strcmp(path, "/ws/") == 0)
	{
		c->kind = BN_RAW;
		return true;
	}
	if (strncmp(path, "/ws/", 4) == 0)
	{
		c->kind = BN_RAW;
		return bn_stream(ex, c, path + 4, true);
	}
	if (strcmp(path, "/stream") == 0)
	{
		char	   *save = NULL;

		c->kind = BN_COMBINED;
		c->combined = true;
		if (url_arg(args, "streams", streams, sizeof(streams)))
			for (char *tok = strtok_r(streams, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
				if (!bn_stream(ex, c, tok, true))
					return false;
		return true;
	}
	return false;
}

/* Send payload (a JSON object) as stream `stream` to c. */
static void
bn_send(Exchange *ex, ExConn *c, const char *stream, const char *payload, size_t len)
{
	if (!c->combined)
	{
		conn_send(c, payload, len, true);
		return;
	}
	buf_reset(&ex->scratch2);
	buf_printf(&ex->scratch2, "{\"stream\":\"%s\",\"data\":", stream);
	buf_add(&ex->scratch2, payload, len);
	buf_add(&ex->scratch2, "}", 1);
	conn_send(c, ex->scratch2.data, ex->scratch2.len, true);
}

void
binance_lower(const MkSymbol *s, char *out, size_t len)
{
	snprintf(out, len, "%s%s", s->base, s->quote);
	for (char *p = out; *p; p++)
		*p = (char) tolower((unsigned char) *p);
}

void
binance_upper(const MkSymbol *s, char *out, size_t len)
{
	snprintf(out, len, "%s%s", s->base, s->quote);
}

void
binance_fanout(Exchange *ex, int si, uint32_t bit, const char *stream)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->sub[si] & bit)
			bn_send(ex, c, stream, ex->scratch.data, ex->scratch.len);
}

static void
bn_on_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	int			si = symbol_index(ex, s);
	char		lower[40],
				upper[40],
				stream[64];
	bool		want_trade = false,
				want_agg = false,
				want_bbo = false;
	int64_t		e = t->ts + 1;

	if (s->perp != ex->futures)
		return;
	for (ExConn *c = ex->conns; c; c = c->next)
	{
		want_trade |= (c->sub[si] & SUB_TRADE) != 0;
		want_agg |= (c->sub[si] & SUB_AGGTRADE) != 0;
		want_bbo |= (c->sub[si] & SUB_BBO) != 0;
	}
	binance_lower(s, lower, sizeof(lower));
	binance_upper(s, upper, sizeof(upper));
	if (want_trade)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"e\":\"trade\",\"E\":%lld,\"s\":\"%s\",\"t\":%llu,\"p\":\"%s\",\"q\":\"%s\","
				   "\"T\":%lld,\"m\":%s,\"M\":true}",
				   (long long) e, upper, (unsigned long long) t->id,
				   fmt_px(s, t->px, true, BINANCE_DEC), fmt_qty(s, t->qty, true, BINANCE_DEC),
				   (long long) t->ts, t->taker_buy ? "false" : "true");
		snprintf(stream, sizeof(stream), "%s@trade", lower);
		binance_fanout(ex, si, SUB_TRADE, stream);
	}
	if (want_agg)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"e\":\"aggTrade\",\"E\":%lld,\"s\":\"%s\",\"a\":%llu,\"p\":\"%s\",\"q\":\"%s\","
				   "\"f\":%llu,\"l\":%llu,\"T\":%lld,\"m\":%s,\"M\":true}",
				   (long long) e, upper, (unsigned long long) (t->id - 1000000 + 500000),
				   fmt_px(s, t->px, true, BINANCE_DEC), fmt_qty(s, t->qty, true, BINANCE_DEC),
				   (unsigned long long) t->id, (unsigned long long) t->id,
				   (long long) t->ts, t->taker_buy ? "false" : "true");
		snprintf(stream, sizeof(stream), "%s@aggTrade", lower);
		binance_fanout(ex, si, SUB_AGGTRADE, stream);
	}
	if (want_bbo)
	{
		buf_reset(&ex->scratch);
		/* futures: with the event type and times */
		if (ex->futures)
			buf_printf(&ex->scratch, "{\"e\":\"bookTicker\",\"E\":%lld,\"T\":%lld,",
					   (long long) e, (long long) t->ts);
		else
			buf_add(&ex->scratch, "{", 1);
		buf_printf(&ex->scratch, "\"u\":%llu,\"s\":\"%s\",\"b\":\"%s\",\"B\":\"%s\",\"a\":\"%s\",\"A\":\"%s\"}",
				   (unsigned long long) s->book_seq, upper,
				   fmt_px(s, s->bid, true, BINANCE_DEC), fmt_qty(s, s->bid_qty, true, BINANCE_DEC),
				   fmt_px(s, s->ask, true, BINANCE_DEC), fmt_qty(s, s->ask_qty, true, BINANCE_DEC));
		snprintf(stream, sizeof(stream), "%s@bookTicker", lower);
		binance_fanout(ex, si, SUB_BBO, stream);
		record_quote(ex, s, s->book_seq);
	}
}

static void
bn_kline_json(Exchange *ex, MkSymbol *s, int iv, const MkKline *k, bool closed, int64_t e)
{
	char		upper[40];

	binance_upper(s, upper, sizeof(upper));
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch,
			   "{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\","
			   "\"i\":\"%s\",\"f\":%lld,\"L\":%lld,\"o\":\"%s\",\"c\":\"%s\",\"h\":\"%s\",\"l\":\"%s\","
			   "\"v\":\"%s\",\"n\":%lld,\"x\":%s,\"q\":\"%s\",\"V\":\"%s\",\"Q\":\"%s\",\"B\":\"0\"}}",
			   (long long) e, upper, (long long) k->open_ts,
			   (long long) (k->open_ts + mk_interval_ms[iv] - 1), upper, binance_iv_names[iv],
			   (long long) k->first_id, (long long) k->last_id,
			   fmt_px(s, k->o, true, BINANCE_DEC), fmt_px(s, k->c, true, BINANCE_DEC),
			   fmt_px(s, k->h, true, BINANCE_DEC), fmt_px(s, k->l, true, BINANCE_DEC),
			   fmt_qty(s, k->vol, true, BINANCE_DEC), (long long) k->count, closed ? "true" : "false",
			   fmt_quote_vol(s, k->quote_vol, true, BINANCE_DEC), fmt_qty(s, k->taker_buy_vol, true, BINANCE_DEC),
			   fmt_quote_vol(s, k->taker_buy_quote, true, BINANCE_DEC));
}

static void
bn_push_kline(Exchange *ex, MkSymbol *s, int iv, const MkKline *k, bool closed, int64_t e)
{
	int			si = symbol_index(ex, s);
	char		lower[40],
				stream[64];
	bool		any = false;

	for (ExConn *c = ex->conns; c && !any; c = c->next)
		any = (c->sub[si] & SUB_KLINE(iv)) != 0;
	if (!any || s->perp != ex->futures)
		return;
	bn_kline_json(ex, s, iv, k, closed, e);
	binance_lower(s, lower, sizeof(lower));
	snprintf(stream, sizeof(stream), "%s@kline_%s", lower, binance_iv_names[iv]);
	binance_fanout(ex, si, SUB_KLINE(iv), stream);
}

static void
bn_on_kline_closed(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	bn_push_kline(ex, s, iv, k, true, k->open_ts + mk_interval_ms[iv] + 1);
}

void
binance_levels(Buf *b, const MkSymbol *s, const MkLevel *lv, int n)
{
	buf_add(b, "[", 1);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s[\"%s\",\"%s\"]", i ? "," : "", fmt_px(s, lv[i].px, true, BINANCE_DEC),
				   fmt_qty(s, lv[i].qty, true, BINANCE_DEC));
	buf_add(b, "]", 1);
}

/* Whether a connection streams the diffs of symbol si's book. */
bool
binance_book_streamed(Exchange *ex, int si)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->sub[si] & SUB_BOOK)
			return true;
	return false;
}

static void
bn_push_books(Exchange *ex, int64_t sim_ms)
{
	for (int si = 0; si < ex->market.nsymbols; si++)
	{
		MkSymbol   *s = &ex->market.sym[si];
		bool		want_diff = false,
					want_partial = false;
		char		lower[40],
					upper[40],
					stream[64];

		for (ExConn *c = ex->conns; c; c = c->next)
		{
			want_diff |= (c->sub[si] & SUB_BOOK) != 0;
			want_partial |= (c->sub[si] & SUB_TICKER) != 0;
		}
		if (s->perp != ex->futures || (!want_diff && !want_partial))
			continue;
		binance_lower(s, lower, sizeof(lower));
		binance_upper(s, upper, sizeof(upper));
		if (want_diff)
		{
			MkBook		delta;
			uint64_t	prev,
						seq;

			ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
			buf_reset(&ex->scratch);
			buf_printf(&ex->scratch, "{\"e\":\"depthUpdate\",\"E\":%lld,\"s\":\"%s\",\"U\":%llu,\"u\":%llu,",
					   (long long) sim_ms, upper, (unsigned long long) (prev + 1),
					   (unsigned long long) seq);
			/* futures: pu, the previous message's u */
			if (ex->futures)
				buf_printf(&ex->scratch, "\"pu\":%llu,", (unsigned long long) prev);
			buf_add(&ex->scratch, "\"b\":", 4);
			binance_levels(&ex->scratch, s, delta.bids, delta.nbids);
			buf_add(&ex->scratch, ",\"a\":", 5);
			binance_levels(&ex->scratch, s, delta.asks, delta.nasks);
			buf_add(&ex->scratch, "}", 1);
			snprintf(stream, sizeof(stream), "%s@depth@100ms", lower);
			binance_fanout(ex, si, SUB_BOOK, stream);
		}
		for (ExConn *c = ex->conns; c && want_partial; c = c->next)
		{
			MkBook		b;
			int			d = c->book_depth[si];

			if (!(c->sub[si] & SUB_TICKER))
				continue;
			mk_book(s, d, &b);
			buf_reset(&ex->scratch);
			buf_printf(&ex->scratch, "{\"lastUpdateId\":%llu,\"bids\":", (unsigned long long) s->book_seq);
			binance_levels(&ex->scratch, s, b.bids, b.nbids);
			buf_add(&ex->scratch, ",\"asks\":", 8);
			binance_levels(&ex->scratch, s, b.asks, b.nasks);
			buf_add(&ex->scratch, "}", 1);
			snprintf(stream, sizeof(stream), "%s@depth%d@100ms", lower, d);
			bn_send(ex, c, stream, ex->scratch.data, ex->scratch.len);
		}
	}
}

static void
bn_on_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms)
{
	if (ex->futures)
		funding_tick(ex, real_ms, sim_ms);
	/* depth every 100 ms, open klines every 2 s */
	if (ex_book_due(ex, real_ms))
	{
		ex->last_fast_ms = real_ms;
		bn_push_books(ex, sim_ms);
	}
	if (real_ms - ex->last_push_ms >= 2000)
	{
		ex->last_push_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
			for (int iv = 0; iv < MK_NIV; iv++)
				bn_push_kline(ex, &ex->market.sym[si], iv, &ex->market.sym[si].cur[iv], false, sim_ms);
	}
	/* keepalive: ping every ping_s, drop after pong_timeout_s without pong */
	for (ExConn *c = ex->conns; c; c = c->next)
	{
		if (real_ms - c->last_pong_ms > (int64_t) sim.pong_timeout_s * 1000)
			conn_close(c, 1008);
		else if (real_ms - c->last_ping_ms >= (int64_t) sim.ping_s * 1000 && !c->ping_due)
		{
			c->ping_due = true;
			c->last_ping_ms = real_ms;
			conn_wake(c);
		}
	}
}

static void
bn_reply(ExConn *c, json_t *id, const char *result_json)
{
	char	   *ids = id ? json_dumps(id, JSON_ENCODE_ANY) : strdup("null");
	char		buf[4096];

	snprintf(buf, sizeof(buf), "{\"result\":%s,\"id\":%s}", result_json, ids);
	free(ids);
	conn_send_str(c, buf, false);
}

static void
bn_error(ExConn *c, json_t *id, int code, const char *msg)
{
	char	   *ids = id ? json_dumps(id, JSON_ENCODE_ANY) : strdup("null");
	char		buf[1024];

	snprintf(buf, sizeof(buf), "{\"error\":{\"code\":%d,\"msg\":\"%s\"},\"id\":%s}", code, msg, ids);
	free(ids);
	conn_send_str(c, buf, false);
}

static void
bn_ws_receive(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	json_error_t err;
	json_t	   *req;
	json_t	   *id;
	const char *method;
	json_t	   *params;

	/* more than 5 messages a second is a disconnect */
	if (c->last_rx_ms - c->rx_window_ms >= 1000)
	{
		c->rx_window_ms = c->last_rx_ms;
		c->rx_in_window = 0;
	}
	if (++c->rx_in_window > 5)
	{
		conn_close(c, 1008);
		return;
	}
	req = json_loadb(msg, len, 0, &err);
	if (!req || !json_is_object(req))
	{
		char		m[128];

		snprintf(m, sizeof(m), "Invalid JSON: expected value at line %d column %d",
				 err.line > 0 ? err.line : 1, err.column > 0 ? err.column : 1);
		bn_error(c, NULL, 3, m);
		json_decref(req);
		return;
	}
	id = json_object_get(req, "id");
	if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))
	{
		bn_error(c, id, 2, "Invalid request: request ID must be an unsigned integer");
		json_decref(req);
		return;
	}
	method = json_string_value(json_object_get(req, "method"));
	params = json_object_get(req, "params");
	if (!method)
		bn_error(c, id, 2, "Invalid request: missing field `method` at line 1 column 1");
	else if (strcmp(method, "SUBSCRIBE") == 0 || strcmp(method, "UNSUBSCRIBE") == 0)
	{
		bool		add = method[0] == 'S';
		bool		ok = json_is_array(params);
		size_t		i;
		json_t	   *p;

		if (ok && add && ex->faults.reject_subscribe > 0)
		{
			ex->faults.reject_subscribe--;
			ok = false;
		}
		json_array_foreach(params, i, p)
			if (!ok || !json_is_string(p) || !bn_stream(ex, c, json_string_value(p), add))
				ok = false;
		if (ok)
			bn_reply(c, id, "null");
		else
			bn_error(c, id, 2, "Invalid request: invalid stream");
	}
	else if (strcmp(method, "LIST_SUBSCRIPTIONS") == 0)
	{
		Buf			b = {0};

		buf_add(&b, "[", 1);
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			char		lower[40];

			binance_lower(&ex->market.sym[si], lower, sizeof(lower));
			if (c->sub[si] & SUB_TRADE)
				buf_printf(&b, "%s\"%s@trade\"", b.len > 1 ? "," : "", lower);
			if (c->sub[si] & SUB_AGGTRADE)
				buf_printf(&b, "%s\"%s@aggTrade\"", b.len > 1 ? "," : "", lower);
			if (c->sub[si] & SUB_BBO)
				buf_printf(&b, "%s\"%s@bookTicker\"", b.len > 1 ? "," : "", lower);
			if (c->sub[si] & SUB_BOOK)
				buf_printf(&b, "%s\"%s@depth@100ms\"", b.len > 1 ? "," : "", lower);
			if (c->sub[si] & SUB_MARK)
				buf_printf(&b, "%s\"%s@markPrice@1s\"", b.len > 1 ? "," : "", lower);
			for (int iv = 0; iv < MK_NIV; iv++)
				if (c->sub[si] & SUB_KLINE(iv))
					buf_printf(&b, "%s\"%s@kline_%s\"", b.len > 1 ? "," : "", lower, binance_iv_names[iv]);
		}
		buf_add(&b, "]", 1);
		bn_reply(c, id, b.data);
		buf_free(&b);
	}
	else if (strcmp(method, "SET_PROPERTY") == 0)
	{
		json_t	   *name = json_array_get(params, 0);
		json_t	   *value = json_array_get(params, 1);

		if (!json_is_string(name))
			bn_error(c, id, 2, "Invalid request: property name must be a string");
		else if (strcmp(json_string_value(name), "combined") != 0)
			bn_error(c, id, 0, "Unknown property");
		else if (!json_is_boolean(value))
			bn_error(c, id, 1, "Invalid value type: expected Boolean");
		else
		{
			c->combined = json_is_true(value);
			bn_reply(c, id, "null");
		}
	}
	else if (strcmp(method, "GET_PROPERTY") == 0)
	{
		json_t	   *name = json_array_get(params, 0);

		if (!json_is_string(name) || strcmp(json_string_value(name), "combined") != 0)
			bn_error(c, id, 0, "Unknown property");
		else
			bn_reply(c, id, c->combined ? "true" : "false");
	}
	else
	{
		char		m[256];

		snprintf(m, sizeof(m), "Invalid request: unknown variant `%.40s`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 28", method);
		bn_error(c, id, 2, m);
	}
	json_decref(req);
}

static void
bn_shutdown_notice(Exchange *ex, ExConn *c)
{
	char		buf[128];

	(void) ex;
	if (c->combined)
		snprintf(buf, sizeof(buf), "{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\",\"E\":%lld}}",
				 (long long) now_sim_ms());
	else
		snprintf(buf, sizeof(buf), "{\"e\":\"serverShutdown\",\"E\":%lld}", (long long) now_sim_ms());
	conn_send_str(c, buf, false);
	conn_close(c, 1001);
}

/* Futures trade ids are the aggregate ids (one trade per aggregate here). */
static void
bn_trade_id(const MkSymbol *s, const MkTrade *t, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long) (s->perp ? t->id - 1000000 + 500000 : t->id));
}

const ExAdapter binance_adapter = {
	.name = "binance",
	.trade_id = bn_trade_id,
	.ws_accept = bn_ws_accept,
	.ws_receive = bn_ws_receive,
	.on_trade = bn_on_trade,
	.on_kline_closed = bn_on_kline_closed,
	.on_tick = bn_on_tick,
	.rest = binance_rest,
	.http_error = "{\"code\":-1000,\"msg\":\"%s\"}",
	.private_rest = priv_binance,
	.shutdown_notice = bn_shutdown_notice,
};
