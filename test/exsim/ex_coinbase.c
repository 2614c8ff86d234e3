/*
 * test/exsim/ex_coinbase.c
 *	  Coinbase Advanced Trade: one WebSocket endpoint with channels
 *	  market_trades, ticker, candles, level2 (as l2_data), heartbeats and
 *	  status; subscriptions acks; REST products, candles and book.
 *
 * Facts from test/fixtures/exchanges/coinbase.md: every message has a
 * sequence_num counted per connection across channels; a subscribe must
 * come within 5 s; trades are batched over 250 ms and their "side" is the
 * MAKER's (a taker buy shows "SELL"); candles are 5-minute only, start in
 * Unix seconds, and carry no closed flag; level2 updates give absolute
 * sizes; errors are un-enveloped {"type":"error","message":...}.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUB_HEARTBEATS	(1u << 29)
#define SUB_STATUS		(1u << 28)
#define CB_BATCH_MS		250

static const char *const channels[] = {
	"market_trades", "ticker", "candles", "level2", "heartbeats", "status", NULL
};

/* trades waiting for the next 250 ms batch, per symbol */
static Buf	pending[MK_MAX_SYMBOLS];
static int64_t last_batch_ms;
static long heartbeat_counter;

static int
cb_symbol(Exchange *ex, const char *product)
{
	for (int i = 0; i < ex->market.nsymbols; i++)
		if (!ex->market.sym[i].perp && strcmp(ex->market.sym[i].name, product) == 0)
			return i;
	return -1;
}

static bool
cb_ws_accept(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	(void) ex;
	(void) c;
	(void) args;
	return strcmp(path, "/") == 0;
}

/*
 * Send events (a JSON array body) on channel with c's next sequence_num.
 * The real feed leaves client_id out of "subscriptions" messages.
 */
static void
cb_send(Exchange *ex, ExConn *c, const char *channel, const char *events, bool data)
{
	char		ts[40];

	fmt_rfc3339(ts, sizeof(ts), now_sim_ms(), true);
	buf_reset(&ex->scratch2);
	buf_printf(&ex->scratch2, "{\"channel\":\"%s\",%s\"timestamp\":\"%s\",\"sequence_num\":%lld,\"events\":%s}",
			   channel, strcmp(channel, "subscriptions") == 0 ? "" : "\"client_id\":\"\",",
			   ts, (long long) c->seq++, events);
	conn_send(c, ex->scratch2.data, ex->scratch2.len, data);
}

static void
cb_fanout(Exchange *ex, int si, uint32_t bit, const char *channel, const char *events)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->sub[si] & bit)
			cb_send(ex, c, channel, events, true);
}

static void
cb_trade_json(Buf *b, const MkSymbol *s, const MkTrade *t)
{
	char		ts[40];

	fmt_rfc3339(ts, sizeof(ts), t->ts, true);
	buf_printf(b, "%s{\"product_id\":\"%s\",\"trade_id\":\"%llu\",\"price\":\"%s\",\"size\":\"%s\",\"time\":\"%s\",\"side\":\"%s\"}",
			   b->len ? "," : "", s->name, (unsigned long long) t->id, fmt_px(s, t->px, false, 0),
			   fmt_qty(s, t->qty, false, 0), ts, t->taker_buy ? "SELL" : "BUY");
}

static void
cb_candle_json(Buf *b, const MkSymbol *s, const MkKline *k)
{
	buf_printf(b, "{\"start\":\"%lld\",\"high\":\"%s\",\"low\":\"%s\",\"open\":\"%s\",\"close\":\"%s\",\"volume\":\"%s\",\"product_id\":\"%s\"}",
			   (long long) (k->open_ts / 1000), fmt_px(s, k->h, false, 0), fmt_px(s, k->l, false, 0),
			   fmt_px(s, k->o, false, 0), fmt_px(s, k->c, false, 0), fmt_qty(s, k->vol, false, 0), s->name);
}

static void
cb_ticker_json(Buf *b, const MkSymbol *s, const char *type)
{
	const MkKline *d = &s->cur[MK_IV_1D];

	buf_printf(b, "[{\"type\":\"%s\",\"tickers\":[{\"type\":\"ticker\",\"product_id\":\"%s\",\"price\":\"%s\","
			   "\"volume_24_h\":\"%s\",\"low_24_h\":\"%s\",\"high_24_h\":\"%s\",\"low_52_w\":\"%s\",\"high_52_w\":\"%s\","
			   "\"price_percent_chg_24_h\":\"0\",\"best_bid\":\"%s\",\"best_bid_quantity\":\"%s\","
			   "\"best_ask\":\"%s\",\"best_ask_quantity\":\"%s\"}]}]",
			   type, s->name, fmt_px(s, s->last_px, false, 0), fmt_qty(s, d->vol, false, 0),
			   fmt_px(s, d->l, false, 0), fmt_px(s, d->h, false, 0), fmt_px(s, d->l, false, 0),
			   fmt_px(s, d->h, false, 0), fmt_px(s, s->bid, false, 0), fmt_qty(s, s->bid_qty, false, 0),
			   fmt_px(s, s->ask, false, 0), fmt_qty(s, s->ask_qty, false, 0));
}

static void
cb_levels_json(Buf *b, const MkSymbol *s, const MkBook *book, const char *when)
{
	bool		first = true;

	for (int i = 0; i < book->nbids; i++, first = false)
		buf_printf(b, "%s{\"side\":\"bid\",\"event_time\":\"%s\",\"price_level\":\"%s\",\"new_quantity\":\"%s\"}",
				   first ? "" : ",", when, fmt_px(s, book->bids[i].px, false, 0), fmt_qty(s, book->bids[i].qty, false, 0));
	for (int i = 0; i < book->nasks; i++, first = false)
		buf_printf(b, "%s{\"side\":\"offer\",\"event_time\":\"%s\",\"price_level\":\"%s\",\"new_quantity\":\"%s\"}",
				   first ? "" : ",", when, fmt_px(s, book->asks[i].px, false, 0), fmt_qty(s, book->asks[i].qty, false, 0));
}

/* The "subscriptions" message: the connection's whole current state. */
static void
cb_send_state(Exchange *ex, ExConn *c)
{
	Buf			b = {0};
	static const uint32_t bits[] = {SUB_TRADE, SUB_TICKER, SUB_KLINE(MK_IV_5M), SUB_BOOK, SUB_HEARTBEATS, SUB_STATUS};
	bool		firstch = true;

	buf_add(&b, "[{\"subscriptions\":{", 19);
	for (int ch = 0; channels[ch]; ch++)
	{
		bool		first = true;

		for (int si = 0; si < ex->market.nsymbols; si++)
			if (c->sub[si] & bits[ch])
			{
				if (first)
					buf_printf(&b, "%s\"%s\":[", firstch ? "" : ",", channels[ch]);
				if (bits[ch] == SUB_HEARTBEATS)
				{
					buf_add(&b, "\"heartbeats\"", 12);
					first = false;
					break;
				}
				buf_printf(&b, "%s\"%s\"", first ? "" : ",", ex->market.sym[si].name);
				first = false;
			}
		if (!first)
		{
			buf_add(&b, "]", 1);
			firstch = false;
		}
	}
	buf_add(&b, "}}]", 3);
	cb_send(ex, c, "subscriptions", b.data, false);
	buf_free(&b);
}

static void
cb_error(ExConn *c, const char *message)
{
	char		buf[256];

	snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"message\":\"%s\"}", message);
	conn_send_str(c, buf, false);
}

/* What a new subscriber gets first: recent trades, the candle, the book. */
static void
cb_snapshot(Exchange *ex, ExConn *c, int si, uint32_t bit)
{
	MkSymbol   *s = &ex->market.sym[si];
	Buf			b = {0};

	if (bit == SUB_TRADE)
	{
		const MkTrade *rows[50];
		int			n = recent_trades(ex, si, rows, 50);
		Buf			t = {0};

		for (int i = n - 1; i >= 0; i--)
			cb_trade_json(&t, s, rows[i]);
		buf_printf(&b, "[{\"type\":\"snapshot\",\"trades\":[%s]}]", t.data ? t.data : "");
		buf_free(&t);
		cb_send(ex, c, "market_trades", b.data, true);
	}
	else if (bit == SUB_KLINE(MK_IV_5M))
	{
		buf_add(&b, "[{\"type\":\"snapshot\",\"candles\":[", 31);
		cb_candle_json(&b, s, &s->cur[MK_IV_5M]);
		buf_add(&b, "]}]", 3);
		cb_send(ex, c, "candles", b.data, true);
	}
	else if (bit == SUB_TICKER)
	{
		cb_ticker_json(&b, s, "snapshot");
		cb_send(ex, c, "ticker", b.data, true);
	}
	else if (bit == SUB_BOOK)
	{
		MkBook		delta;
		uint64_t	prev,
					seq;

		if (!ex->book_valid[si])
			ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
		buf_printf(&b, "[{\"type\":\"snapshot\",\"product_id\":\"%s\",\"updates\":[", s->name);
		cb_levels_json(&b, s, &ex->book[si], "1970-01-01T00:00:00Z");
		buf_add(&b, "]}]", 3);
		cb_send(ex, c, "l2_data", b.data, true);
	}
	buf_free(&b);
}

/* The status channel's snapshot: every product and its trading rules. */
static void
cb_status(Exchange *ex, ExConn *c)
{
	Buf			b = {0};
	bool		first = true;

	buf_add(&b, "[{\"type\":\"snapshot\",\"products\":[", 32);
	for (int si = 0; si < ex->market.nsymbols; si++)
	{
		MkSymbol   *s = &ex->market.sym[si];

		if (s->perp)
			continue;
		buf_printf(&b, "%s{\"product_type\":\"SPOT\",\"id\":\"%s\",\"base_currency\":\"%s\",\"quote_currency\":\"%s\","
				   "\"base_increment\":\"%s\",\"quote_increment\":\"%s\",\"display_name\":\"%s/%s\",\"status\":\"online\","
				   "\"status_message\":\"\",\"min_market_funds\":\"1\"}",
				   first ? "" : ",", s->name, s->base, s->quote, fmt_qty(s, 1, true, 0),
				   fmt_px(s, 1, true, 0), s->base, s->quote);
		first = false;
	}
	buf_add(&b, "]}]", 3);
	cb_send(ex, c, "status", b.data, true);
	buf_free(&b);
}

static void
cb_ws_receive(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	json_t	   *req = json_loadb(msg, len, 0, NULL);
	const char *type = json_string_value(json_object_get(req, "type"));
	const char *channel = json_string_value(json_object_get(req, "channel"));
	json_t	   *products = json_object_get(req, "product_ids");
	uint32_t	bit = 0;
	bool		add;
	size_t		i;
	json_t	   *p;

	if (!type || (strcmp(type, "subscribe") != 0 && strcmp(type, "unsubscribe") != 0) || !channel)
	{
		cb_error(c, "failure to subscribe");
		json_decref(req);
		return;
	}
	add = type[0] == 's';
	if (strcmp(channel, "user") == 0 && ex->priv)
	{
		/* the private channel: priv_stream.c checks the JWT */
		pstream_coinbase_user(ex, c, json_string_value(json_object_get(req, "jwt")), add);
		json_decref(req);
		return;
	}
	if (strcmp(channel, "market_trades") == 0)
		bit = SUB_TRADE;
	else if (strcmp(channel, "ticker") == 0)
		bit = SUB_TICKER;
	else if (strcmp(channel, "candles") == 0)
		bit = SUB_KLINE(MK_IV_5M);
	else if (strcmp(channel, "level2") == 0)
		bit = SUB_BOOK;
	else if (strcmp(channel, "heartbeats") == 0)
		bit = SUB_HEARTBEATS;
	else if (strcmp(channel, "status") == 0)
		bit = SUB_STATUS;
	if (!bit)
	{
		/* what the real feed answers to an unknown channel name */
		cb_error(c, "authentication failure");
		json_decref(req);
		return;
	}
	if (add && ex->faults.reject_subscribe > 0)
	{
		ex->faults.reject_subscribe--;
		cb_error(c, "failure to subscribe");
		json_decref(req);
		return;
	}
	if (bit == SUB_HEARTBEATS || (bit == SUB_STATUS && !json_is_array(products)))
	{
		for (int si = 0; si < ex->market.nsymbols; si++)
			c->sub[si] = add ? c->sub[si] | bit : c->sub[si] & ~bit;
		if (add && bit == SUB_STATUS)
			cb_status(ex, c);
	}
	else if (!json_is_array(products))
	{
		/* no product_ids: unsubscribe drops the whole channel */
		if (add)
		{
			cb_error(c, "failure to subscribe");
			json_decref(req);
			return;
		}
		for (int si = 0; si < ex->market.nsymbols; si++)
			c->sub[si] &= ~bit;
	}
	else
	{
		json_array_foreach(products, i, p)
		{
			int			si = json_is_string(p) ? cb_symbol(ex, json_string_value(p)) : -1;

			if (si < 0)
			{
				cb_error(c, "failure to subscribe");
				json_decref(req);
				return;
			}
		}
		json_array_foreach(products, i, p)
		{
			int			si = cb_symbol(ex, json_string_value(p));
			bool		had = (c->sub[si] & bit) != 0;

			c->sub[si] = add ? c->sub[si] | bit : c->sub[si] & ~bit;
			if (add && !had)
				cb_snapshot(ex, c, si, bit);
		}
	}
	c->subscribed = true;
	cb_send_state(ex, c);
	json_decref(req);
}

static void
cb_on_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	int			si = symbol_index(ex, s);
	uint32_t	want = 0;

	for (ExConn *c = ex->conns; c; c = c->next)
		want |= c->sub[si];
	if (want & SUB_TRADE)
		cb_trade_json(&pending[si], s, t);
	if (want & SUB_TICKER)
	{
		buf_reset(&ex->scratch);
		cb_ticker_json(&ex->scratch, s, "update");
		cb_fanout(ex, si, SUB_TICKER, "ticker", ex->scratch.data);
		record_quote(ex, s, s->book_seq);
	}
}

static void
cb_on_kline_closed(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	if (iv != MK_IV_5M)
		return;
	buf_reset(&ex->scratch);
	buf_add(&ex->scratch, "[{\"type\":\"update\",\"candles\":[", 29);
	cb_candle_json(&ex->scratch, s, k);
	buf_add(&ex->scratch, "]}]", 3);
	cb_fanout(ex, symbol_index(ex, s), SUB_KLINE(MK_IV_5M), "candles", ex->scratch.data);
}

static void
cb_on_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms)
{
	/* trades in 250 ms batches */
	if (real_ms - last_batch_ms >= CB_BATCH_MS)
	{
		last_batch_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			if (pending[si].len == 0)
				continue;
			buf_reset(&ex->scratch);
			buf_printf(&ex->scratch, "[{\"type\":\"update\",\"trades\":[%s]}]", pending[si].data);
			cb_fanout(ex, si, SUB_TRADE, "market_trades", ex->scratch.data);
			buf_reset(&pending[si]);
		}
	}
	/* level2 every 100 ms */
	if (ex_book_due(ex, real_ms))
	{
		char		when[40];

		ex->last_fast_ms = real_ms;
		fmt_rfc3339(when, sizeof(when), sim_ms, true);
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			bool		any = false;
			MkBook		delta;
			uint64_t	prev,
						seq,
						before;

			for (ExConn *c = ex->conns; c && !any; c = c->next)
				any = (c->sub[si] & SUB_BOOK) != 0;
			if (!any)
				continue;
			before = ex->book_seq[si];
			ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
			/* a skip_seq fault: the message's sequence_num skips as many */
			if (ex->book_valid[si] && prev != before && before != 0)
				for (ExConn *c = ex->conns; c; c = c->next)
					if (c->sub[si] & SUB_BOOK)
						c->seq += (int64_t) (prev - before);
			buf_reset(&ex->scratch);
			buf_printf(&ex->scratch, "[{\"type\":\"update\",\"product_id\":\"%s\",\"updates\":[", ex->market.sym[si].name);
			cb_levels_json(&ex->scratch, &ex->market.sym[si], &delta, when);
			buf_add(&ex->scratch, "]}]", 3);
			cb_fanout(ex, si, SUB_BOOK, "l2_data", ex->scratch.data);
		}
	}
	/* candles and heartbeats every second; a subscribe is due within 5 s */
	if (real_ms - ex->last_push_ms >= 1000)
	{
		char		now[128];
		time_t		secs = (time_t) (sim_ms / 1000);
		struct tm	tm;

		ex->last_push_ms = real_ms;
		heartbeat_counter++;
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			buf_reset(&ex->scratch);
			buf_add(&ex->scratch, "[{\"type\":\"update\",\"candles\":[", 29);
			cb_candle_json(&ex->scratch, &ex->market.sym[si], &ex->market.sym[si].cur[MK_IV_5M]);
			buf_add(&ex->scratch, "]}]", 3);
			cb_fanout(ex, si, SUB_KLINE(MK_IV_5M), "candles", ex->scratch.data);
		}
		gmtime_r(&secs, &tm);
		snprintf(now, sizeof(now), "%04d-%02d-%02d %02d:%02d:%02d.%06d +0000 UTC m=+%ld.000000001",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (sim_ms % 1000) * 1000, heartbeat_counter);
		for (ExConn *c = ex->conns; c; c = c->next)
		{
			if (ex->market.nsymbols > 0 && (c->sub[0] & SUB_HEARTBEATS))
			{
				buf_reset(&ex->scratch);
				buf_printf(&ex->scratch, "[{\"current_time\":\"%s\",\"heartbeat_counter\":%ld}]", now, heartbeat_counter);
				cb_send(ex, c, "heartbeats", ex->scratch.data, true);
			}
			if (!c->subscribed && real_ms - c->connected_ms > 5000)
				conn_close(c, 1008);
		}
	}
}

/* ------------------------------------------------------------------ */
/* REST                                                                */
/* ------------------------------------------------------------------ */

#define CB_PREFIX "/api/v3/brokerage/market"

static void
cb_product_json(Buf *b, const MkSymbol *s)
{
	buf_printf(b, "{\"product_id\":\"%s\",\"price\":\"%s\",\"price_percentage_change_24h\":\"0\",\"volume_24h\":\"%s\","
			   "\"base_increment\":\"%s\",\"quote_increment\":\"%s\",\"quote_min_size\":\"1\",\"quote_max_size\":\"150000000\","
			   "\"base_min_size\":\"%s\",\"base_max_size\":\"3400\",\"base_name\":\"%s\",\"quote_name\":\"%s\",\"status\":\"online\","
			   "\"cancel_only\":false,\"limit_only\":false,\"post_only\":false,\"trading_disabled\":false,\"product_type\":\"SPOT\","
			   "\"quote_currency_id\":\"%s\",\"base_currency_id\":\"%s\",\"price_increment\":\"%s\",\"display_name\":\"%s\","
			   "\"alias_to\":[]}",
			   s->name, fmt_px(s, s->last_px, false, 0), fmt_qty(s, s->cur[MK_IV_1D].vol, false, 0),
			   fmt_qty(s, 1, true, 0), fmt_px(s, 1, true, 0), fmt_qty(s, s->min_qty, true, 0),
			   s->base, s->quote, s->quote, s->base, fmt_px(s, 1, true, 0), s->name);
}

static int
cb_not_found(ExConn *c, const char *what)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"error\":\"NOT_FOUND\",\"error_details\":\"%s\",\"message\":\"%s\"}", what, what);
	return 404;
}

/*
 * The Exchange API's trades (api.exchange.coinbase.com, served on the same
 * port): GET /products/{id}/trades?limit=&after=&before=, newest first,
 * `after` older than that trade id, `before` newer; limit 1 to 1000
 * (default 1000); a bare array of {time, trade_id (a number), price, size,
 * side (the maker's, lower case)}; CB-AFTER is not sent (ids are the
 * cursor).
 */
static int
cb_exchange_trades(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	const char *rest = path + 10;
	const char *slash = strchr(rest, '/');
	char		product[40];
	char		v[64];
	char		ts[40];
	const MkTrade *rows[1000];
	int			si,
				n,
				limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 1000;
	int64_t		after = url_arg(args, "after", v, sizeof(v)) ? atoll(v) : INT64_MAX;
	int64_t		before = url_arg(args, "before", v, sizeof(v)) ? atoll(v) : INT64_MIN;
	MkSymbol   *s;

	snprintf(product, sizeof(product), "%.*s", (int) (slash - rest), rest);
	if ((si = cb_symbol(ex, product)) < 0)
	{
		buf_reset(&c->body);
		buf_printf(&c->body, "{\"message\":\"NotFound\"}");
		return 404;
	}
	if (limit < 1 || limit > 1000)
	{
		buf_reset(&c->body);
		buf_printf(&c->body, "{\"message\":\"Invalid limit\"}");
		return 400;
	}
	s = &ex->market.sym[si];
	n = trades_older(ex, si, false, after, before, rows, limit);
	buf_add(&c->body, "[", 1);
	for (int i = 0; i < n; i++)
	{
		fmt_rfc3339(ts, sizeof(ts), rows[i]->ts, true);
		buf_printf(&c->body, "%s{\"time\":\"%s\",\"trade_id\":%llu,\"price\":\"%s\",\"size\":\"%s\",\"side\":\"%s\"}",
				   i ? "," : "", ts, (unsigned long long) rows[i]->id, fmt_px(s, rows[i]->px, false, 0),
				   fmt_qty(s, rows[i]->qty, false, 0), rows[i]->taker_buy ? "sell" : "buy");
	}
	buf_add(&c->body, "]", 1);
	return 200;
}

static int
cb_rest(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	char		v[64];

	if (strcmp(path, "/__429") == 0)
	{
		buf_add(&c->body, "{\"error\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too many requests\"}", 61);
		return 429;
	}
	if (strcmp(path, CB_PREFIX "/products") == 0)
	{
		int			n = 0;

		buf_add(&c->body, "{\"products\":[", 13);
		for (int i = 0; i < ex->market.nsymbols; i++)
		{
			if (ex->market.sym[i].perp)
				continue;
			if (n++)
				buf_add(&c->body, ",", 1);
			cb_product_json(&c->body, &ex->market.sym[i]);
		}
		buf_printf(&c->body, "],\"num_products\":%d}", n);
		return 200;
	}
	if (strcmp(path, CB_PREFIX "/product_book") == 0)
	{
		int			si = url_arg(args, "product_id", v, sizeof(v)) ? cb_symbol(ex, v) : -1;
		MkBook		b;
		char		ts[40];
		MkSymbol   *s;

		if (si < 0)
			return cb_not_found(c, "product not found");
		s = &ex->market.sym[si];
		mk_book(s, MK_BOOK_DEPTH, &b);
		fmt_rfc3339(ts, sizeof(ts), now_sim_ms(), true);
		buf_printf(&c->body, "{\"pricebook\":{\"product_id\":\"%s\",\"bids\":[", s->name);
		for (int i = 0; i < b.nbids; i++)
			buf_printf(&c->body, "%s{\"price\":\"%s\",\"size\":\"%s\"}", i ? "," : "",
					   fmt_px(s, b.bids[i].px, false, 0), fmt_qty(s, b.bids[i].qty, false, 0));
		buf_add(&c->body, "],\"asks\":[", 10);
		for (int i = 0; i < b.nasks; i++)
			buf_printf(&c->body, "%s{\"price\":\"%s\",\"size\":\"%s\"}", i ? "," : "",
					   fmt_px(s, b.asks[i].px, false, 0), fmt_qty(s, b.asks[i].qty, false, 0));
		buf_printf(&c->body, "],\"time\":\"%s\"}}", ts);
		return 200;
	}
	if (strncmp(path, CB_PREFIX "/products/", strlen(CB_PREFIX "/products/")) == 0)
	{
		const char *rest = path + strlen(CB_PREFIX "/products/");
		const char *slash = strchr(rest, '/');
		char		product[40];
		int			si;
		MkSymbol   *s;

		snprintf(product, sizeof(product), "%.*s", (int) (slash ? slash - rest : (long) strlen(rest)), rest);
		si = cb_symbol(ex, product);
		if (si < 0)
			return cb_not_found(c, "product not found");
		s = &ex->market.sym[si];
		if (!slash)
		{
			cb_product_json(&c->body, s);
			return 200;
		}
		if (strcmp(slash, "/candles") == 0)
		{
			static const char *const gran[] = {"ONE_MINUTE", "FIVE_MINUTE", "FIFTEEN_MINUTE", "ONE_HOUR", NULL, "ONE_DAY"};
			int			iv = -1;
			int64_t		start,
						end;
			const MkKline *rows[MK_HISTORY + 1];
			int			n,
						out = 0;
			int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 350;

			if (url_arg(args, "granularity", v, sizeof(v)))
				for (int i = 0; i < MK_NIV; i++)
					if (gran[i] && strcmp(v, gran[i]) == 0)
						iv = i;
			if (iv < 0 || !url_arg(args, "start", v, sizeof(v)))
			{
				buf_add(&c->body, "{\"error\":\"INVALID_ARGUMENT\",\"error_details\":\"start, end and granularity are required\",\"message\":\"start, end and granularity are required\"}", 133);
				return 400;
			}
			start = atoll(v) * 1000;
			end = url_arg(args, "end", v, sizeof(v)) ? atoll(v) * 1000 : INT64_MAX;
			if (limit < 1 || limit > 350)
				limit = 350;
			n = ex_klines(ex, si, iv, start, end, true, rows, limit);
			if (s->cur[iv].open_ts >= start && s->cur[iv].open_ts <= end)
				rows[n++] = &s->cur[iv];
			buf_add(&c->body, "{\"candles\":[", 12);
			for (int i = n - 1; i >= 0 && out < limit; i--, out++)
			{
				const MkKline *k = rows[i];

				buf_printf(&c->body, "%s{\"start\":\"%lld\",\"low\":\"%s\",\"high\":\"%s\",\"open\":\"%s\",\"close\":\"%s\",\"volume\":\"%s\"}",
						   out ? "," : "", (long long) (k->open_ts / 1000), fmt_px(s, k->l, false, 0),
						   fmt_px(s, k->h, false, 0), fmt_px(s, k->o, false, 0), fmt_px(s, k->c, false, 0),
						   fmt_qty(s, k->vol, false, 0));
			}
			buf_add(&c->body, "]}", 2);
			return 200;
		}
		if (strcmp(slash, "/ticker") == 0)
		{
			const MkTrade *rows[100];
			int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
			int			n;
			Buf			t = {0};

			if (limit < 1 || limit > 100)
				limit = 100;
			n = recent_trades(ex, si, rows, limit);
			for (int i = n - 1; i >= 0; i--)
				cb_trade_json(&t, s, rows[i]);
			buf_printf(&c->body, "{\"trades\":[%s],\"best_bid\":\"%s\",\"best_ask\":\"%s\"}", t.data ? t.data : "",
					   fmt_px(s, s->bid, false, 0), fmt_px(s, s->ask, false, 0));
			buf_free(&t);
			return 200;
		}
	}
	if (strncmp(path, "/products/", 10) == 0 && strchr(path + 10, '/') &&
		strcmp(strchr(path + 10, '/'), "/trades") == 0)
		return cb_exchange_trades(ex, c, path, args);
	return cb_not_found(c, "route not found");
}

const ExAdapter coinbase_adapter = {
	.name = "coinbase",
	.ws_accept = cb_ws_accept,
	.ws_receive = cb_ws_receive,
	.on_trade = cb_on_trade,
	.on_kline_closed = cb_on_kline_closed,
	.on_tick = cb_on_tick,
	.rest = cb_rest,
	.http_error = "{\"error\":\"INVALID_ARGUMENT\",\"message\":\"%s\"}",
	.private_rest = priv_coinbase,
};
