/*-------------------------------------------------------------------------
 *
 * src/feed/adapter_binance.c
 *	  Binance Spot and USD-M futures frames -> FeedEvents: trade,
 *	  aggTrade (futures), kline, bookTicker, depth, markPriceUpdate
 *	  (futures); acks, errors and serverShutdown.
 *
 * Wire facts (test/fixtures/exchanges/binance.md): combined streams wrap
 * the payload as {"stream","data"}; prices and sizes are strings, ids and
 * times numbers in ms; "m" = buyer is the maker, so the taker sold; the
 * trade time is T (not E); bookTicker carries only the update id u, so the
 * worker stamps its time; kline "x" is the closed flag.  The depth stream
 * (depthUpdate, U = first and u = last update id) becomes book messages;
 * its REST snapshot (/api/v3/depth, lastUpdateId) is parsed here too.
 *
 * USD-M futures (fstream, the exchange's futures_ws_url; endpoint 1, the
 * context's linear flag) send the same symbols ("BTCUSDT"), which are
 * perpetuals there: BTC-USDT-PERP.  Trades come as aggTrade (the id is the
 * aggregate id "a"), bookTicker carries "e" and times, depthUpdate adds
 * "pu" (the previous message's u: each diff's pu must be the last u,
 * BOOK_RULE_BINANCE_FUTURES), and markPriceUpdate carries mark "p", index "i", funding rate
 * "r" and the next funding time "T" (ms).  Futures facts:
 * test/fixtures/exchanges/binance_futures.md.
 *
 *-------------------------------------------------------------------------
 */
#include "feed_json.h"
#include "feed_subscribe.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1m" "5m" "15m" "1h" "4h" "1d" ... -> seconds, 0 when unknown (see feed_event.h). */
int32_t
binance_interval_seconds(const char *i)
{
	char	   *end;
	long		n = strtol(i, &end, 10);

	/* the unit is one character after the number: "5" has none */
	if (n <= 0 || n > 1000 || end[0] == '\0' || end[1] != '\0')
		return 0;
	switch (*end)
	{
		case 's': return (int32_t) n;
		case 'm': return (int32_t) n * 60;
		case 'h': return (int32_t) n * 3600;
		case 'd': return (int32_t) n * 86400;
		case 'w': return (int32_t) n * 604800;
		default: return 0;		/* "1M" months have no fixed length */
	}
}

/* trade (id "t") and, on futures, aggTrade (id "a"): the same fields else */
static int
parse_trade(json_t *p, bool perp, const char *idkey, FeedEvent *e, FeedFrame *frame)
{
	const char *s;
	int64_t		id,
				t;
	bool		m;

	if (!fj_str(p, "s", &s) || !feed_split_concat(s, perp, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "trade: bad or missing \"s\"");
	if (!fj_int(p, idkey, &id) || !fj_int(p, "T", &t) || !feed_ms(t, &e->ts))
		return feed_reject(frame, "trade: bad or missing \"%s\" or \"T\"", idkey);
	if (!fj_decimal(p, "p", &e->price) || !fj_decimal(p, "q", &e->qty) || e->price <= 0 || e->qty <= 0)
		return feed_reject(frame, "trade: bad \"p\" or \"q\"");
	if (!fj_bool(p, "m", &m))
		return feed_reject(frame, "trade: bad or missing \"m\"");
	e->kind = FEED_TRADE;
	snprintf(e->trade_id, sizeof(e->trade_id), "%lld", (long long) id);
	e->taker_buy = !m;
	return 1;
}

static int
parse_kline(json_t *p, bool perp, FeedEvent *e, FeedFrame *frame)
{
	json_t	   *k = json_object_get(p, "k");
	const char *s,
			   *i;
	int64_t		t,
				n;
	bool		x;

	if (!json_is_object(k))
		return feed_reject(frame, "kline: missing \"k\"");
	if (!fj_str(k, "s", &s) || !feed_split_concat(s, perp, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "kline: bad or missing \"k.s\"");
	if (!fj_str(k, "i", &i) || (e->interval_s = binance_interval_seconds(i)) == 0)
		return feed_reject(frame, "kline: unsupported interval");
	if (!fj_int(k, "t", &t) || !feed_ms(t, &e->ts) || !fj_int(k, "n", &n) || !fj_bool(k, "x", &x))
		return feed_reject(frame, "kline: bad \"t\", \"n\" or \"x\"");
	if (!fj_decimal(k, "o", &e->open) || !fj_decimal(k, "h", &e->high) ||
		!fj_decimal(k, "l", &e->low) || !fj_decimal(k, "c", &e->close) ||
		!fj_decimal(k, "v", &e->volume) || !fj_decimal(k, "q", &e->quote_volume))
		return feed_reject(frame, "kline: bad OHLCV");
	if (e->low > e->high)
		return feed_reject(frame, "kline: low above high");
	e->kind = FEED_CANDLE;
	e->trade_count = n;
	e->closed = x;
	return 1;
}

static int
parse_book_ticker(json_t *p, bool perp, FeedEvent *e, FeedFrame *frame)
{
	const char *s;

	if (!fj_str(p, "s", &s) || !feed_split_concat(s, perp, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "bookTicker: bad or missing \"s\"");
	if (!fj_int(p, "u", &e->seq))
		return feed_reject(frame, "bookTicker: bad or missing \"u\"");
	if (!fj_decimal(p, "b", &e->bid) || !fj_decimal(p, "B", &e->bid_qty) ||
		!fj_decimal(p, "a", &e->ask) || !fj_decimal(p, "A", &e->ask_qty))
		return feed_reject(frame, "bookTicker: bad prices or sizes");
	e->kind = FEED_QUOTE;
	e->ts = 0;					/* no time on the wire: the worker uses local time */
	return 1;
}

static int
parse_depth(json_t *p, bool perp, FeedEvent *out, int max, FeedFrame *frame)
{
	const char *s;
	char		sym[FEED_SYMBOL_LEN];
	int64_t		first,
				last,
				prev,
				t;
	int			n;

	if (!fj_str(p, "s", &s) || !feed_split_concat(s, perp, sym, sizeof(sym)))
		return feed_reject(frame, "depthUpdate: bad or missing \"s\"");
	if (!fj_int(p, "U", &first) || !fj_int(p, "u", &last) || first > last)
		return feed_reject(frame, "depthUpdate: bad \"U\" or \"u\"");
	/* futures: continuity is pu, the previous diff's u (BOOK_RULE_BINANCE_FUTURES) */
	prev = 0;
	if (fj_int(p, "pu", &prev) && prev >= last)
		return feed_reject(frame, "depthUpdate: \"pu\" not below \"u\"");
	n = feed_book_levels("depthUpdate", sym, json_object_get(p, "b"), json_object_get(p, "a"),
						 out, max, frame);
	if (n == 0)
		return 0;
	out[0].book_first = first;
	out[0].book_prev = prev;
	out[0].seq = last;
	if (fj_int(p, "E", &t))
		feed_ms(t, &out[0].ts);
	return n;
}

/*
 * markPriceUpdate (futures): mark "p", index "i", funding rate "r" and
 * next funding time "T"; a delivery contract's "r" is "" and its "T" 0,
 * which zvt does not store (it lists perpetuals only): IGNORED.
 */
static int
parse_mark_price(json_t *p, FeedEvent *e, FeedFrame *frame)
{
	const char *s,
			   *r;
	int64_t		t,
				next;

	if (fj_str(p, "r", &r) && r[0] == '\0')
	{
		frame->kind = FEED_FRAME_IGNORED;
		return 0;
	}
	if (!fj_str(p, "s", &s) || !feed_split_concat(s, true, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "markPriceUpdate: bad or missing \"s\"");
	if (!fj_int(p, "E", &t) || !feed_ms(t, &e->ts))
		return feed_reject(frame, "markPriceUpdate: bad or missing \"E\"");
	feed_funding_init(e);
	if (!fj_decimal(p, "p", &e->mark_price) || e->mark_price <= 0 ||
		!fj_decimal(p, "r", &e->funding_rate))
		return feed_reject(frame, "markPriceUpdate: bad \"p\" or \"r\"");
	if (!fj_int(p, "T", &next) || !feed_ms(next, &e->funding_ts) || next == 0)
		return feed_reject(frame, "markPriceUpdate: bad \"T\"");
	if (json_object_get(p, "i") && !fj_decimal(p, "i", &e->index_price))
		return feed_reject(frame, "markPriceUpdate: bad \"i\"");
	e->kind = FEED_FUNDING;
	return 1;
}

int
binance_parse_depth(const char *msg, size_t len, const char *symbol, FeedEvent *out,
					int max, FeedFrame *frame)
{
	json_t	   *root = feed_load(msg, len, frame);
	int64_t		id;
	int			n = 0;

	if (!root)
		return 0;
	if (!fj_int(root, "lastUpdateId", &id))
		feed_reject(frame, "depth snapshot: no \"lastUpdateId\"");
	else if (!json_is_array(json_object_get(root, "bids")) || !json_is_array(json_object_get(root, "asks")))
		feed_reject(frame, "depth snapshot: no \"bids\" or \"asks\"");
	else if ((n = feed_book_levels("depth snapshot", symbol, json_object_get(root, "bids"),
								   json_object_get(root, "asks"), out, max, frame)) > 0)
	{
		out[0].book_snapshot = true;
		out[0].book_first = out[0].seq = id;
	}
	json_decref(root);
	return n;
}

int
binance_parse(const char *msg, size_t len, const FeedContext *ctx, FeedEvent *out,
			  int max, FeedFrame *frame)
{
	json_t	   *root = feed_load(msg, len, frame);
	json_t	   *p;
	const char *e;
	int			n = 0;
	bool		perp = ctx && ctx->linear;	/* the futures endpoint */

	if (!root)
		return 0;
	p = json_object_get(root, "data");
	if (!json_is_object(p))
		p = root;
	memset(out, 0, sizeof(FeedEvent));
	out->quote_volume = NAN;
	out->trade_count = -1;

	if (json_object_get(root, "result") && json_object_get(root, "id"))
		frame->kind = FEED_FRAME_CONTROL;
	else if (json_object_get(root, "error") || (json_object_get(root, "code") && json_object_get(root, "msg")))
	{
		json_t	   *err = json_object_get(root, "error");
		const char *text = NULL;

		fj_str(json_is_object(err) ? err : root, "msg", &text);
		frame->kind = FEED_FRAME_ERROR;
		snprintf(frame->reason, sizeof(frame->reason), "%s", text ? text : "error");
	}
	else if (max < 1)
		n = 0;
	else if (fj_str(p, "e", &e))
	{
		if (strcmp(e, "trade") == 0)
			n = parse_trade(p, perp, "t", out, frame);
		else if (strcmp(e, "aggTrade") == 0 && perp)
			n = parse_trade(p, perp, "a", out, frame);
		else if (strcmp(e, "kline") == 0)
			n = parse_kline(p, perp, out, frame);
		else if (strcmp(e, "depthUpdate") == 0)
			n = parse_depth(p, perp, out, max, frame);
		else if (strcmp(e, "bookTicker") == 0)
			n = parse_book_ticker(p, perp, out, frame);
		else if (strcmp(e, "markPriceUpdate") == 0)
			n = parse_mark_price(p, out, frame);
		else if (strcmp(e, "aggTrade") == 0 ||
				 strcmp(e, "24hrTicker") == 0 || strcmp(e, "24hrMiniTicker") == 0)
			frame->kind = FEED_FRAME_IGNORED;
		else if (strcmp(e, "serverShutdown") == 0)
		{
			frame->kind = FEED_FRAME_RECONNECT;
			snprintf(frame->reason, sizeof(frame->reason), "serverShutdown");
		}
		else
			feed_reject(frame, "unexpected event type \"%s\"", e);
	}
	else if (json_object_get(p, "u") && json_object_get(p, "b"))
		n = parse_book_ticker(p, perp, out, frame);
	else if (json_object_get(p, "lastUpdateId"))
		frame->kind = FEED_FRAME_IGNORED;	/* partial depth */
	else
		feed_reject(frame, "neither an event, a bookTicker nor a reply");
	json_decref(root);
	return n;
}

/* ---- subscriptions ------------------------------------------------------ */

static bool
binance_topic(const char *symbol, const char *channel, int *endpoint, char *topic, size_t len)
{
	char		raw[40];
	size_t		o = 0;
	int			secs = feed_channel_seconds(channel);
	const char *perp = strstr(symbol, "-PERP");

	/* BTC-USDT -> btcusdt; BTC-USDT-PERP -> btcusdt on the futures endpoint */
	for (const char *p = symbol; *p && p != perp && o + 1 < sizeof(raw); p++)
		if (*p != '-')
			raw[o++] = (char) tolower((unsigned char) *p);
	raw[o] = '\0';
	*endpoint = perp ? 1 : 0;
	if (strcmp(channel, "funding") == 0)
		return perp && snprintf(topic, len, "%s@markPrice@1s", raw) < (int) len;
	if (strcmp(channel, "trades") == 0)
		return snprintf(topic, len, perp ? "%s@aggTrade" : "%s@trade", raw) < (int) len;
	if (strcmp(channel, "quotes") == 0)
		return snprintf(topic, len, "%s@bookTicker", raw) < (int) len;
	/* any depth: the diff stream carries every level, the REST snapshot sets the depth */
	if (strncmp(channel, "book", 4) == 0)
		return snprintf(topic, len, "%s@depth@100ms", raw) < (int) len;
	if (secs > 0)
		return snprintf(topic, len, "%s@kline_%s", raw, strchr(channel, '_') + 1) < (int) len;
	return false;
}

static int
binance_request(int endpoint, bool subscribe, const char *const *topics, int n, int id,
				char *buf, size_t len)
{
	size_t		o;
	int			done = 0;

	(void) endpoint;
	o = (size_t) snprintf(buf, len, "{\"method\":\"%s\",\"params\":[", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
	/* at most 200 streams a message, as Binance allows 1024 per connection */
	for (; done < n && done < 200; done++)
	{
		size_t		need = strlen(topics[done]) + 4;

		if (o + need + 32 >= len)
			break;
		o += (size_t) snprintf(buf + o, len - o, "%s\"%s\"", done ? "," : "", topics[done]);
	}
	if (done == 0)
		return 0;
	snprintf(buf + o, len - o, "],\"id\":%d}", id);
	return done;
}

const FeedSpec binance_spec = {
	.exchange = "binance",
	.nendpoints = 2,
	.paths = {"/stream", "/stream"},
	.futures = {false, true},	/* endpoint 1 on futures_ws_url (fstream) */
	.linear = {false, true},
	.parse = binance_parse,
	.topic = binance_topic,
	.request = binance_request,
	.keepalive = NULL,			/* the server pings; libwebsockets pongs */
};
