/*
 * test/exsim/ex_okx.c
 *	  OKX v5: /ws/v5/public (trades, tickers, books, books5, bbo-tbt) and
 *	  /ws/v5/business (candles, trades-all), one ack per arg, text
 *	  ping/pong, the 30 s idle cutoff, and the REST market endpoints.
 *
 * Facts from test/fixtures/exchanges/okx.md: every number is a string
 * except checksum, seqId and prevSeqId; perpetual swaps are BTC-USDT-SWAP
 * with sizes in contracts of ctVal base units (here one contract is 1000
 * lots: BTC 0.01, ETH 0.1, SOL 1, as on OKX); a candle channel on the
 * public URL gets error 60018; books send a snapshot (prevSeqId -1) then
 * updates chained by prevSeqId, with a CRC32 over the top 25 levels as
 * sent (or 0 in checksum_zero mode; one off by one per bad_checksum).
 */
#include "exsim.h"
#include "private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum
{
	OKX_PUBLIC, OKX_BUSINESS
};

static const char *const bar_names[MK_NIV] = {"1m", "5m", "15m", "1H", "4H", "1Dutc"};

#define SUB_TRADES_ALL	SUB_AGGTRADE	/* trades-all on /business */
#define SUB_BOOKS5		(1u << 30)

static void
okx_inst(const MkSymbol *s, char *out, size_t len)
{
	snprintf(out, len, "%s-%s%s", s->base, s->quote, s->perp ? "-SWAP" : "");
}

static int
okx_symbol(Exchange *ex, const char *inst)
{
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		char		name[48];

		okx_inst(&ex->market.sym[i], name, sizeof(name));
		if (strcmp(name, inst) == 0)
			return i;
	}
	return -1;
}

/* Size as OKX shows it: base units for spot, contracts for swaps. */
static const char *
okx_sz(const MkSymbol *s, int64_t qty)
{
	static char slots[8][48];
	static int	next;
	char	   *out = slots[next++ & 7];

	if (!s->perp)
		return fmt_qty(s, qty, false, 0);
	mk_fmt_units(out, 48, qty, 3, false);
	return out;
}

static const char *
okx_px(const MkSymbol *s, int64_t px)
{
	return fmt_px(s, px, false, 0);
}

static bool
okx_ws_accept(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	(void) ex;
	(void) args;
	if (strcmp(path, "/ws/v5/public") == 0)
		c->kind = OKX_PUBLIC;
	else if (strcmp(path, "/ws/v5/business") == 0)
		c->kind = OKX_BUSINESS;
	else
		return false;
	return true;
}

static void
okx_error(ExConn *c, const char *id, const char *code, const char *msg)
{
	Buf			b = {0};

	buf_add(&b, "{", 1);
	if (id)
		buf_printf(&b, "\"id\":\"%s\",", id);
	buf_printf(&b, "\"event\":\"error\",\"code\":\"%s\",\"msg\":\"%s\",\"connId\":\"%s\"}", code, msg, c->conn_id);
	conn_send(c, b.data, b.len, false);
	buf_free(&b);
}

static void okx_send_book_snapshot(Exchange *ex, ExConn *c, int si, bool five);

/* One arg of a (un)subscribe; sends its ack or error. */
static void
okx_arg(Exchange *ex, ExConn *c, const char *id, json_t *arg, bool add)
{
	const char *channel = json_string_value(json_object_get(arg, "channel"));
	const char *inst = json_string_value(json_object_get(arg, "instId"));
	uint32_t	bit = 0;
	bool		business = false;
	int			si;
	char	   *argtext;
	char		msg[256];
	Buf			b = {0};

	if (!channel || !inst)
	{
		char	   *raw = json_dumps(arg, JSON_COMPACT);

		snprintf(msg, sizeof(msg), "Invalid request: %s", raw ? raw : "");
		free(raw);
		okx_error(c, id, "60012", msg);
		return;
	}
	if (strcmp(channel, "trades") == 0)
		bit = SUB_TRADE;
	else if (strcmp(channel, "tickers") == 0)
		bit = SUB_TICKER;
	else if (strcmp(channel, "bbo-tbt") == 0)
		bit = SUB_BBO;
	else if (strcmp(channel, "books") == 0)
		bit = SUB_BOOK;
	else if (strcmp(channel, "books5") == 0)
		bit = SUB_BOOKS5;
	else if (strcmp(channel, "trades-all") == 0)
		bit = SUB_TRADES_ALL, business = true;
	else if (strncmp(channel, "candle", 6) == 0)
	{
		business = true;
		for (int iv = 0; iv < MK_NIV; iv++)
			if (strcmp(channel + 6, bar_names[iv]) == 0 ||
				(iv == MK_IV_1D && strcmp(channel + 6, "1D") == 0))
				bit = SUB_KLINE(iv);
	}
	si = okx_symbol(ex, inst);
	if (!bit || si < 0 || business != (c->kind == OKX_BUSINESS) ||
		(add && ex->faults.reject_subscribe > 0))
	{
		if (add && ex->faults.reject_subscribe > 0)
			ex->faults.reject_subscribe--;
		snprintf(msg, sizeof(msg), "Wrong URL or channel:%s,instId:%s doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
				 channel, inst);
		okx_error(c, id, "60018", msg);
		return;
	}
	if (add)
		c->sub[si] |= bit;
	else
		c->sub[si] &= ~bit;
	argtext = json_dumps(arg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_add(&b, "{", 1);
	if (id)
		buf_printf(&b, "\"id\":\"%s\",", id);
	buf_printf(&b, "\"event\":\"%s\",\"arg\":%s,\"connId\":\"%s\"}", add ? "subscribe" : "unsubscribe",
			   argtext, c->conn_id);
	conn_send(c, b.data, b.len, false);
	free(argtext);
	buf_free(&b);
	c->subscribed = true;
	if (add && (bit == SUB_BOOK || bit == SUB_BOOKS5))
		okx_send_book_snapshot(ex, c, si, bit == SUB_BOOKS5);
}

static void
okx_ws_receive(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	json_t	   *req;
	const char *op;
	const char *id;
	json_t	   *args;
	size_t		i;
	json_t	   *a;

	if (len == 4 && memcmp(msg, "ping", 4) == 0)
	{
		conn_send(c, "pong", 4, false);
		return;
	}
	req = json_loadb(msg, len, 0, NULL);
	op = json_string_value(json_object_get(req, "op"));
	id = json_string_value(json_object_get(req, "id"));
	args = json_object_get(req, "args");
	if (!op || (strcmp(op, "subscribe") != 0 && strcmp(op, "unsubscribe") != 0) || !json_is_array(args))
	{
		char		m[512];

		snprintf(m, sizeof(m), "Invalid request: %.*s", (int) (len > 400 ? 400 : len), msg);
		for (char *p = m; *p; p++)
			if (*p == '"')
				*p = '\'';
		okx_error(c, id, "60012", m);
	}
	else
		json_array_foreach(args, i, a)
			okx_arg(ex, c, id, a, op[0] == 's');
	json_decref(req);
}

static void
okx_fanout(Exchange *ex, int si, uint32_t bit)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->sub[si] & bit)
		{
			conn_send(c, ex->scratch.data, ex->scratch.len, true);
			c->last_tx_ms = now_real_ms();
		}
}

static void
okx_on_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	int			si = symbol_index(ex, s);
	char		inst[48];
	uint32_t	want = 0;

	for (ExConn *c = ex->conns; c; c = c->next)
		want |= c->sub[si];
	okx_inst(s, inst, sizeof(inst));
	if (want & SUB_TRADE)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"arg\":{\"channel\":\"trades\",\"instId\":\"%s\"},\"data\":[{\"instId\":\"%s\",\"tradeId\":\"%llu\","
				   "\"px\":\"%s\",\"sz\":\"%s\",\"side\":\"%s\",\"ts\":\"%lld\",\"count\":\"1\",\"seqId\":%llu}]}",
				   inst, inst, (unsigned long long) t->id, okx_px(s, t->px), okx_sz(s, t->qty),
				   t->taker_buy ? "buy" : "sell", (long long) t->ts, (unsigned long long) s->book_seq);
		okx_fanout(ex, si, SUB_TRADE);
	}
	if (want & SUB_TRADES_ALL)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"arg\":{\"channel\":\"trades-all\",\"instId\":\"%s\"},\"data\":[{\"instId\":\"%s\",\"tradeId\":\"%llu\","
				   "\"px\":\"%s\",\"sz\":\"%s\",\"side\":\"%s\",\"ts\":\"%lld\"}]}",
				   inst, inst, (unsigned long long) t->id, okx_px(s, t->px), okx_sz(s, t->qty),
				   t->taker_buy ? "buy" : "sell", (long long) t->ts);
		okx_fanout(ex, si, SUB_TRADES_ALL);
	}
	if (want & SUB_BBO)
	{
		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"%s\"},\"data\":[{\"asks\":[[\"%s\",\"%s\",\"0\",\"2\"]],"
				   "\"bids\":[[\"%s\",\"%s\",\"0\",\"2\"]],\"ts\":\"%lld\",\"seqId\":%llu}]}",
				   inst, okx_px(s, s->ask), okx_sz(s, s->ask_qty), okx_px(s, s->bid), okx_sz(s, s->bid_qty),
				   (long long) t->ts, (unsigned long long) s->book_seq);
		okx_fanout(ex, si, SUB_BBO);
		record_quote(ex, s, s->book_seq);
	}
	if (want & SUB_TICKER)
	{
		const MkKline *d = &s->cur[MK_IV_1D];

		buf_reset(&ex->scratch);
		buf_printf(&ex->scratch,
				   "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"%s\"},\"data\":[{\"instType\":\"%s\",\"instId\":\"%s\","
				   "\"last\":\"%s\",\"lastSz\":\"%s\",\"askPx\":\"%s\",\"askSz\":\"%s\",\"bidPx\":\"%s\",\"bidSz\":\"%s\","
				   "\"open24h\":\"%s\",\"high24h\":\"%s\",\"low24h\":\"%s\",\"sodUtc0\":\"%s\",\"sodUtc8\":\"%s\","
				   "\"volCcy24h\":\"%s\",\"vol24h\":\"%s\",\"ts\":\"%lld\"}]}",
				   inst, s->perp ? "SWAP" : "SPOT", inst, okx_px(s, t->px), okx_sz(s, t->qty),
				   okx_px(s, s->ask), okx_sz(s, s->ask_qty), okx_px(s, s->bid), okx_sz(s, s->bid_qty),
				   okx_px(s, d->o), okx_px(s, d->h), okx_px(s, d->l), okx_px(s, d->o), okx_px(s, d->o),
				   fmt_quote_vol(s, d->quote_vol, false, 0), okx_sz(s, d->vol), (long long) t->ts);
		okx_fanout(ex, si, SUB_TICKER);
	}
}

/* One candle row: [ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]. */
static void
okx_candle_row(Buf *b, const MkSymbol *s, const MkKline *k, bool closed)
{
	const char *vol_ccy = s->perp ? fmt_qty(s, k->vol, false, 0) : fmt_quote_vol(s, k->quote_vol, false, 0);

	buf_printf(b, "[\"%lld\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]",
			   (long long) k->open_ts, okx_px(s, k->o), okx_px(s, k->h), okx_px(s, k->l), okx_px(s, k->c),
			   okx_sz(s, k->vol), vol_ccy, fmt_quote_vol(s, k->quote_vol, false, 0), closed ? "1" : "0");
}

static void
okx_push_candle(Exchange *ex, MkSymbol *s, int iv, const MkKline *k, bool closed)
{
	int			si = symbol_index(ex, s);
	char		inst[48];
	bool		any = false;

	for (ExConn *c = ex->conns; c && !any; c = c->next)
		any = (c->sub[si] & SUB_KLINE(iv)) != 0;
	if (!any)
		return;
	okx_inst(s, inst, sizeof(inst));
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch, "{\"arg\":{\"channel\":\"candle%s\",\"instId\":\"%s\"},\"data\":[", bar_names[iv], inst);
	okx_candle_row(&ex->scratch, s, k, closed);
	buf_add(&ex->scratch, "]}", 2);
	okx_fanout(ex, si, SUB_KLINE(iv));
}

static void
okx_on_kline_closed(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	okx_push_candle(ex, s, iv, k, true);
}

/*
 * Levels as OKX sends them, and the checksum string of the top 25:
 * bid0px:bid0sz:ask0px:ask0sz:bid1px:...
 */
static void
okx_levels(Buf *b, const MkSymbol *s, const MkLevel *lv, int n)
{
	buf_add(b, "[", 1);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s[\"%s\",\"%s\",\"0\",\"%d\"]", i ? "," : "", okx_px(s, lv[i].px),
				   okx_sz(s, lv[i].qty), lv[i].qty ? 1 + (int) (lv[i].px % 7) : 0);
	buf_add(b, "]", 1);
}

int32_t
okx_checksum(const MkSymbol *s, const MkBook *book)
{
	Buf			b = {0};
	uint32_t	crc;

	for (int i = 0; i < 25; i++)
	{
		if (i < book->nbids)
			buf_printf(&b, "%s%s:%s", b.len ? ":" : "", okx_px(s, book->bids[i].px), okx_sz(s, book->bids[i].qty));
		if (i < book->nasks)
			buf_printf(&b, "%s%s:%s", b.len ? ":" : "", okx_px(s, book->asks[i].px), okx_sz(s, book->asks[i].qty));
	}
	crc = (uint32_t) crc32(0L, (const Bytef *) (b.data ? b.data : ""), (uInt) b.len);
	buf_free(&b);
	return (int32_t) crc;
}

static void
okx_book_json(Exchange *ex, int si, const char *channel, const char *action, const MkBook *levels,
			  const MkBook *full, long long prev, unsigned long long seq)
{
	MkSymbol   *s = &ex->market.sym[si];
	char		inst[48];

	okx_inst(s, inst, sizeof(inst));
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch, "{\"arg\":{\"channel\":\"%s\",\"instId\":\"%s\"},", channel, inst);
	if (action)
		buf_printf(&ex->scratch, "\"action\":\"%s\",", action);
	buf_add(&ex->scratch, "\"data\":[{\"asks\":", 16);
	okx_levels(&ex->scratch, s, levels->asks, levels->nasks);
	buf_add(&ex->scratch, ",\"bids\":", 8);
	okx_levels(&ex->scratch, s, levels->bids, levels->nbids);
	if (action)
	{
		int32_t		sum = ex->faults.checksum_zero ? 0 : okx_checksum(s, full);

		/* a bad_checksum fault corrupts updates only: a snapshot is what a client resyncs from */
		if (prev >= 0 && ex->faults.bad_checksum > 0 && !ex->faults.checksum_zero)
		{
			sum ^= 1;
			ex->faults.bad_checksum--;
		}
		buf_printf(&ex->scratch, ",\"ts\":\"%lld\",\"checksum\":%d,\"prevSeqId\":%lld,\"seqId\":%llu}]}",
				   (long long) now_sim_ms(), sum, prev, seq);
	}
	else
		buf_printf(&ex->scratch, ",\"instId\":\"%s\",\"ts\":\"%lld\",\"seqId\":%llu}]}", inst,
				   (long long) now_sim_ms(), seq);
}

static void
okx_send_book_snapshot(Exchange *ex, ExConn *c, int si, bool five)
{
	MkBook		delta;
	uint64_t	prev,
				seq;

	if (!ex->book_valid[si])
		ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
	if (five)
	{
		MkBook		b = ex->book[si];

		b.nbids = b.nasks = 5;
		okx_book_json(ex, si, "books5", NULL, &b, NULL, 0, (unsigned long long) ex->book_seq[si]);
	}
	else
		okx_book_json(ex, si, "books", "snapshot", &ex->book[si], &ex->book[si], -1,
					  (unsigned long long) ex->book_seq[si]);
	conn_send(c, ex->scratch.data, ex->scratch.len, true);
}

static void
okx_on_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms)
{
	(void) sim_ms;
	if (ex_book_due(ex, real_ms))
	{
		ex->last_fast_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
		{
			uint32_t	want = 0;
			MkBook		delta;
			uint64_t	prev,
						seq;

			for (ExConn *c = ex->conns; c; c = c->next)
				want |= c->sub[si];
			if (want & SUB_BOOK)
			{
				ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
				okx_book_json(ex, si, "books", "update", &delta, &ex->book[si], (long long) prev,
							  (unsigned long long) seq);
				okx_fanout(ex, si, SUB_BOOK);
			}
			if (want & SUB_BOOKS5)
			{
				MkBook		b;

				mk_book(&ex->market.sym[si], 5, &b);
				okx_book_json(ex, si, "books5", NULL, &b, NULL, 0,
							  (unsigned long long) ex->market.sym[si].book_seq);
				okx_fanout(ex, si, SUB_BOOKS5);
			}
		}
	}
	if (real_ms - ex->last_push_ms >= 1000)
	{
		ex->last_push_ms = real_ms;
		for (int si = 0; si < ex->market.nsymbols; si++)
			for (int iv = 0; iv < MK_NIV; iv++)
				okx_push_candle(ex, &ex->market.sym[si], iv, &ex->market.sym[si].cur[iv], false);
	}
	/* no subscription, or nothing pushed, for idle_s: cut off */
	for (ExConn *c = ex->conns; c; c = c->next)
		if (real_ms - (c->subscribed ? c->last_tx_ms : c->connected_ms) > (int64_t) sim.idle_s * 1000 &&
			real_ms - c->last_rx_ms > (int64_t) sim.idle_s * 1000)
			conn_close(c, 4004);
}

static void
okx_shutdown_notice(Exchange *ex, ExConn *c)
{
	char		buf[256];

	(void) ex;
	snprintf(buf, sizeof(buf), "{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be closed for a service upgrade. Please reconnect.\",\"connId\":\"%s\"}",
			 c->conn_id);
	conn_send_str(c, buf, false);
	conn_close(c, 1001);
}

/* ------------------------------------------------------------------ */
/* REST                                                                */
/* ------------------------------------------------------------------ */

static int
okx_error_body(ExConn *c, const char *code, const char *msg)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"code\":\"%s\",\"data\":[],\"msg\":\"%s\"}", code, msg);
	return 200;
}

static int
okx_rest(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	char		v[64];
	char		inst[48] = "";
	int			si = -1;

	if (strcmp(path, "/__429") == 0)
	{
		okx_error_body(c, "50011", "Too Many Requests");
		return 429;
	}
	if (url_arg(args, "instId", inst, sizeof(inst)))
		si = okx_symbol(ex, inst);
	if (strcmp(path, "/api/v5/public/instruments") == 0)
	{
		char		type[16] = "";
		bool		first = true;

		if (!url_arg(args, "instType", type, sizeof(type)) ||
			(strcmp(type, "SPOT") != 0 && strcmp(type, "SWAP") != 0))
			return okx_error_body(c, "51000", "Parameter instType error");
		buf_add(&c->body, "{\"code\":\"0\",\"data\":[", 20);
		for (int i = 0; i < ex->market.nsymbols; i++)
		{
			MkSymbol   *s = &ex->market.sym[i];
			char		name[48];

			if (s->perp != (strcmp(type, "SWAP") == 0) || (inst[0] && i != si))
				continue;
			okx_inst(s, name, sizeof(name));
			buf_printf(&c->body,
					   "%s{\"alias\":\"\",\"baseCcy\":\"%s\",\"category\":\"1\",\"ctMult\":\"%s\",\"ctType\":\"%s\","
					   "\"ctVal\":\"%s\",\"ctValCcy\":\"%s\",\"expTime\":\"\",\"instFamily\":\"%s\",\"instId\":\"%s\",\"instType\":\"%s\","
					   "\"lever\":\"%s\",\"listTime\":\"1606468572000\",\"lotSz\":\"%s\",\"maxLmtSz\":\"10000\",\"maxMktSz\":\"1000000\","
					   "\"minSz\":\"%s\",\"quoteCcy\":\"%s\",\"settleCcy\":\"%s\",\"state\":\"live\",\"tickSz\":\"%s\",\"uly\":\"%s\"}",
					   first ? "" : ",", s->perp ? "" : s->base, s->perp ? "1" : "", s->perp ? "linear" : "",
					   s->perp ? fmt_qty(s, 1000, false, 0) : "", s->perp ? s->base : "",
					   s->perp ? name : "", name, type, s->perp ? "100" : "10",
					   s->perp ? "0.001" : fmt_qty(s, 1, true, 0), s->perp ? "0.001" : fmt_qty(s, s->min_qty, false, 0),
					   s->perp ? "" : s->quote, s->perp ? s->quote : "", fmt_px(s, 1, true, 0),
					   s->perp ? name : "");
			first = false;
		}
		buf_add(&c->body, "],\"msg\":\"\"}", 11);
		return 200;
	}
	if (si < 0)
		return okx_error_body(c, "51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.");
	if (strcmp(path, "/api/v5/market/candles") == 0 || strcmp(path, "/api/v5/market/history-candles") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		int			iv = -1;
		int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
		int64_t		after = url_arg(args, "after", v, sizeof(v)) ? atoll(v) : INT64_MAX;
		int64_t		before = url_arg(args, "before", v, sizeof(v)) ? atoll(v) : -1;
		const MkKline *rows[MK_HISTORY + 1];
		int			n,
					out = 0;
		char		bar[16] = "1m";

		url_arg(args, "bar", bar, sizeof(bar));
		for (int i = 0; i < MK_NIV; i++)
			if (strcmp(bar, bar_names[i]) == 0 || (i == MK_IV_1D && strcmp(bar, "1D") == 0))
				iv = i;
		if (iv < 0)
			return okx_error_body(c, "51000", "Parameter bar error");
		if (limit < 1 || limit > 300)
			limit = 100;
		/* after: older than; before: newer than; newest first */
		n = ex_klines(ex, si, iv, before + 1, after - 1, true, rows, limit);
		if (strcmp(path, "/api/v5/market/candles") == 0 && s->cur[iv].open_ts > before &&
			s->cur[iv].open_ts < after)
			rows[n++] = &s->cur[iv];
		buf_add(&c->body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[", 29);
		for (int i = n - 1; i >= 0 && out < limit; i--, out++)
		{
			if (out)
				buf_add(&c->body, ",", 1);
			okx_candle_row(&c->body, s, rows[i], rows[i] != &s->cur[iv]);
		}
		buf_add(&c->body, "]}", 2);
		return 200;
	}
	if (strcmp(path, "/api/v5/market/books") == 0)
	{
		MkBook		b;
		int			sz = url_arg(args, "sz", v, sizeof(v)) ? atoi(v) : 1;

		mk_book(&ex->market.sym[si], sz < 1 ? 1 : sz, &b);
		buf_add(&c->body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":", 37);
		okx_levels(&c->body, &ex->market.sym[si], b.asks, b.nasks);
		buf_add(&c->body, ",\"bids\":", 8);
		okx_levels(&c->body, &ex->market.sym[si], b.bids, b.nbids);
		buf_printf(&c->body, ",\"ts\":\"%lld\"}]}", (long long) now_sim_ms());
		return 200;
	}
	if (strcmp(path, "/api/v5/market/history-trades") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		const MkTrade *rows[100];
		int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
		bool		by_ts = url_arg(args, "type", v, sizeof(v)) && strcmp(v, "2") == 0;
		int64_t		after = url_arg(args, "after", v, sizeof(v)) ? atoll(v) : INT64_MAX;
		int64_t		before = url_arg(args, "before", v, sizeof(v)) ? atoll(v) : INT64_MIN;
		int			n = 0;

		if (limit < 1 || limit > 100)
			limit = 100;
		/* newest first: after = older than, before = newer than (ids, or ts with type=2); the past too */
		n = trades_older(ex, si, by_ts, after, before, rows, limit);
		buf_add(&c->body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[", 29);
		for (int i = 0; i < n; i++)
			buf_printf(&c->body, "%s{\"instId\":\"%s\",\"side\":\"%s\",\"sz\":\"%s\",\"px\":\"%s\",\"source\":\"0\","
					   "\"tradeId\":\"%llu\",\"ts\":\"%lld\"}",
					   i ? "," : "", inst, rows[i]->taker_buy ? "buy" : "sell", okx_sz(s, rows[i]->qty),
					   okx_px(s, rows[i]->px), (unsigned long long) rows[i]->id, (long long) rows[i]->ts);
		buf_add(&c->body, "]}", 2);
		return 200;
	}
	if (strcmp(path, "/api/v5/market/trades") == 0)
	{
		MkSymbol   *s = &ex->market.sym[si];
		const MkTrade *rows[500];
		int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
		int			n;

		if (limit < 1 || limit > 500)
			limit = 100;
		n = recent_trades(ex, si, rows, limit);
		buf_add(&c->body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[", 29);
		for (int i = n - 1; i >= 0; i--)
			buf_printf(&c->body, "%s{\"instId\":\"%s\",\"side\":\"%s\",\"sz\":\"%s\",\"px\":\"%s\",\"source\":\"0\","
					   "\"tradeId\":\"%llu\",\"ts\":\"%lld\"}",
					   i < n - 1 ? "," : "", inst, rows[i]->taker_buy ? "buy" : "sell", okx_sz(s, rows[i]->qty),
					   okx_px(s, rows[i]->px), (unsigned long long) rows[i]->id, (long long) rows[i]->ts);
		buf_add(&c->body, "]}", 2);
		return 200;
	}
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"code\":\"404\",\"data\":[],\"msg\":\"unknown path %s\"}", path);
	return 404;
}

const ExAdapter okx_adapter = {
	.name = "okx",
	.ws_accept = okx_ws_accept,
	.ws_receive = okx_ws_receive,
	.on_trade = okx_on_trade,
	.on_kline_closed = okx_on_kline_closed,
	.on_tick = okx_on_tick,
	.rest = okx_rest,
	.http_error = "{\"code\":\"50000\",\"data\":[],\"msg\":\"%s\"}",
	.private_rest = priv_okx,
	.shutdown_notice = okx_shutdown_notice,
};
