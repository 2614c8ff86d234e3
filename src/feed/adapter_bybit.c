/*-------------------------------------------------------------------------
 *
 * src/feed/adapter_bybit.c
 *	  Bybit v5 frames -> FeedEvents: publicTrade, kline, orderbook.1 (the
 *	  best bid/ask), orderbook.50/200/1000 (books: snapshot or delta, u
 *	  the update id); op replies (acks, pongs, errors).
 *
 * Wire facts (test/fixtures/exchanges/bybit.md): one envelope
 * {"topic","type","ts","data"}; trades and klines come as arrays; "S" is
 * the taker side; kline "confirm" is the closed flag and carries no trade
 * count; spot and linear share symbol names, so the connection (ctx) says
 * whether BTCUSDT is BTC-USDT or BTC-USDT-PERP; an error reply is
 * {"success":false,"ret_msg":...}.
 *
 *-------------------------------------------------------------------------
 */
#include "feed_json.h"
#include "feed_subscribe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t
interval_seconds(const char *i)
{
	if (strcmp(i, "D") == 0)
		return 86400;
	if (strcmp(i, "W") == 0)
		return 604800;
	{
		char	   *end;
		long		n = strtol(i, &end, 10);

		return (n > 0 && n <= 100000 && *end == '\0') ? (int32_t) n * 60 : 0;
	}
}

static bool
symbol_of(const char *topic, const FeedContext *ctx, char *out, size_t len)
{
	const char *dot = strrchr(topic, '.');

	return dot && feed_split_concat(dot + 1, ctx && ctx->linear, out, len);
}

static int
parse_trades(json_t *data, const FeedContext *ctx, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i;
	json_t	   *t;
	int			n = 0;

	if (!json_is_array(data))
		return feed_reject(frame, "publicTrade: \"data\" is not an array");
	json_array_foreach(data, i, t)
	{
		FeedEvent  *e = &out[n];
		const char *s,
				   *side,
				   *id;
		int64_t		ts;

		if (n == max)
			break;
		memset(e, 0, sizeof(*e));
		if (!fj_str(t, "s", &s) || !feed_split_concat(s, ctx && ctx->linear, e->symbol, sizeof(e->symbol)))
			return feed_reject(frame, "publicTrade: bad or missing \"s\"");
		if (!fj_str(t, "i", &id) || !*id || !fj_int(t, "T", &ts) || !feed_ms(ts, &e->ts))
			return feed_reject(frame, "publicTrade: bad \"i\" or \"T\"");
		if (!fj_decimal(t, "p", &e->price) || !fj_decimal(t, "v", &e->qty) || e->price <= 0 || e->qty <= 0)
			return feed_reject(frame, "publicTrade: bad \"p\" or \"v\"");
		if (!fj_str(t, "S", &side) || (strcmp(side, "Buy") != 0 && strcmp(side, "Sell") != 0))
			return feed_reject(frame, "publicTrade: bad \"S\"");
		e->kind = FEED_TRADE;
		snprintf(e->trade_id, sizeof(e->trade_id), "%s", id);
		e->taker_buy = side[0] == 'B';
		e->quote_volume = NAN;
		e->trade_count = -1;
		n++;
	}
	return n;
}

static int
parse_klines(const char *topic, json_t *data, const FeedContext *ctx, FeedEvent *out, int max,
			 FeedFrame *frame)
{
	size_t		i;
	json_t	   *k;
	int			n = 0;
	char		symbol[FEED_SYMBOL_LEN];

	if (!json_is_array(data) || !symbol_of(topic, ctx, symbol, sizeof(symbol)))
		return feed_reject(frame, "kline: bad topic or \"data\"");
	json_array_foreach(data, i, k)
	{
		FeedEvent  *e = &out[n];
		const char *iv;
		int64_t		start;

		if (n == max)
			break;
		memset(e, 0, sizeof(*e));
		snprintf(e->symbol, sizeof(e->symbol), "%s", symbol);
		if (!fj_str(k, "interval", &iv) || (e->interval_s = interval_seconds(iv)) == 0)
			return feed_reject(frame, "kline: bad \"interval\"");
		if (!fj_int(k, "start", &start) || !feed_ms(start, &e->ts) || !fj_bool(k, "confirm", &e->closed))
			return feed_reject(frame, "kline: bad \"start\" or \"confirm\"");
		if (!fj_decimal(k, "open", &e->open) || !fj_decimal(k, "high", &e->high) ||
			!fj_decimal(k, "low", &e->low) || !fj_decimal(k, "close", &e->close) ||
			!fj_decimal(k, "volume", &e->volume) || !fj_decimal(k, "turnover", &e->quote_volume))
			return feed_reject(frame, "kline: bad OHLCV");
		if (e->low > e->high)
			return feed_reject(frame, "kline: low above high");
		e->kind = FEED_CANDLE;
		e->trade_count = -1;
		n++;
	}
	return n;
}

static int
parse_bbo(const char *topic, json_t *root, json_t *data, const FeedContext *ctx, FeedEvent *e,
		  FeedFrame *frame)
{
	json_t	   *b = json_array_get(json_object_get(data, "b"), 0);
	json_t	   *a = json_array_get(json_object_get(data, "a"), 0);
	int64_t		ts;

	memset(e, 0, sizeof(*e));
	if (!symbol_of(topic, ctx, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "orderbook.1: bad topic");
	if (!fj_int(data, "u", &e->seq) || !fj_int(root, "ts", &ts) || !feed_ms(ts, &e->ts))
		return feed_reject(frame, "orderbook.1: bad \"u\" or \"ts\"");
	/* an empty side has no level: NaN, not a made-up price */
	e->bid = e->bid_qty = e->ask = e->ask_qty = NAN;
	if (b && (!fj_decimal_at(b, 0, &e->bid) || !fj_decimal_at(b, 1, &e->bid_qty)))
		return feed_reject(frame, "orderbook.1: bad bid level");
	if (a && (!fj_decimal_at(a, 0, &e->ask) || !fj_decimal_at(a, 1, &e->ask_qty)))
		return feed_reject(frame, "orderbook.1: bad ask level");
	e->kind = FEED_QUOTE;
	e->quote_volume = NAN;
	e->trade_count = -1;
	return 1;
}

/*
 * tickers.<symbol> on the linear endpoint: markPrice, indexPrice,
 * fundingRate, nextFundingTime (ms, as a string) and openInterest (base
 * units), a snapshot first and then deltas of the fields that changed.
 * A field not in the message stays NaN (the ingest fills it from the
 * symbol's last row); a delta with none of them (only the touch moved)
 * and spot tickers (no funding) are IGNORED.
 */
static int
parse_ticker(const char *topic, json_t *root, json_t *data, const FeedContext *ctx, FeedEvent *e,
			 FeedFrame *frame)
{
	int64_t		ts,
				next;
	const char *nt;
	bool		any = false;
	struct
	{
		const char *key;
		double	   *to;
	}			fields[4] = {{"markPrice", &e->mark_price}, {"indexPrice", &e->index_price},
	{"fundingRate", &e->funding_rate}, {"openInterest", &e->open_interest}};

	memset(e, 0, sizeof(*e));
	feed_funding_init(e);
	if (!ctx || !ctx->linear)
	{
		frame->kind = FEED_FRAME_IGNORED;
		return 0;
	}
	if (!json_is_object(data) || !symbol_of(topic, ctx, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "tickers: bad topic or \"data\"");
	if (!fj_int(root, "ts", &ts) || !feed_ms(ts, &e->ts))
		return feed_reject(frame, "tickers: bad or missing \"ts\"");
	for (int i = 0; i < 4; i++)
	{
		const char *v;

		if (!json_object_get(data, fields[i].key))
			continue;
		/* a delivery contract's funding fields are "" */
		if (fj_str(data, fields[i].key, &v) && v[0] == '\0')
			continue;
		if (!fj_decimal(data, fields[i].key, fields[i].to))
			return feed_reject(frame, "tickers: bad \"%s\"", fields[i].key);
		any = true;
	}
	if (fj_str(data, "nextFundingTime", &nt) && nt[0] != '\0')
	{
		char	   *end;

		next = strtoll(nt, &end, 10);
		if (*end != '\0' || next <= 0 || !feed_ms(next, &e->funding_ts))
			return feed_reject(frame, "tickers: bad \"nextFundingTime\"");
		any = true;
	}
	if (!any)
	{
		frame->kind = FEED_FRAME_IGNORED;
		return 0;
	}
	if (!isnan(e->mark_price) && e->mark_price <= 0)
		return feed_reject(frame, "tickers: \"markPrice\" not above 0");
	e->kind = FEED_FUNDING;
	e->quote_volume = NAN;
	e->trade_count = -1;
	return 1;
}

static int
parse_book(const char *topic, json_t *root, json_t *data, const FeedContext *ctx, FeedEvent *out,
		   int max, FeedFrame *frame)
{
	char		sym[FEED_SYMBOL_LEN];
	const char *type;
	int64_t		u,
				ts;
	int			n;

	if (!json_is_object(data))
		return feed_reject(frame, "orderbook: \"data\" is not an object");
	if (!symbol_of(topic, ctx, sym, sizeof(sym)))
		return feed_reject(frame, "orderbook: bad topic");
	if (!fj_str(root, "type", &type) || (strcmp(type, "snapshot") != 0 && strcmp(type, "delta") != 0))
		return feed_reject(frame, "orderbook: \"type\" is neither snapshot nor delta");
	if (!fj_int(data, "u", &u))
		return feed_reject(frame, "orderbook: bad or missing \"u\"");
	n = feed_book_levels("orderbook", sym, json_object_get(data, "b"), json_object_get(data, "a"),
						 out, max, frame);
	if (n == 0)
		return 0;
	out[0].book_snapshot = strcmp(type, "snapshot") == 0;
	out[0].book_first = out[0].seq = u;
	if (fj_int(root, "ts", &ts))
		feed_ms(ts, &out[0].ts);
	return n;
}

int
bybit_parse(const char *msg, size_t len, const FeedContext *ctx, FeedEvent *out,
			int max, FeedFrame *frame)
{
	json_t	   *root = feed_load(msg, len, frame);
	const char *topic;
	json_t	   *data;
	int			n = 0;

	if (!root)
		return 0;
	data = json_object_get(root, "data");
	if (json_object_get(root, "op") || json_object_get(root, "success"))
	{
		bool		ok = true;
		const char *text = NULL;

		fj_bool(root, "success", &ok);
		fj_str(root, "ret_msg", &text);
		frame->kind = ok ? FEED_FRAME_CONTROL : FEED_FRAME_ERROR;
		if (!ok)
			snprintf(frame->reason, sizeof(frame->reason), "%s", text ? text : "error");
	}
	else if (!fj_str(root, "topic", &topic))
		feed_reject(frame, "no \"topic\" and not a reply");
	else if (max < 1)
		n = 0;
	else if (strncmp(topic, "publicTrade.", 12) == 0)
		n = parse_trades(data, ctx, out, max, frame);
	else if (strncmp(topic, "kline.", 6) == 0)
		n = parse_klines(topic, data, ctx, out, max, frame);
	else if (strncmp(topic, "orderbook.1.", 12) == 0)
		n = json_is_object(data) ? parse_bbo(topic, root, data, ctx, out, frame)
			: feed_reject(frame, "orderbook.1: \"data\" is not an object");
	else if (strncmp(topic, "orderbook.", 10) == 0)
		n = parse_book(topic, root, data, ctx, out, max, frame);
	else if (strncmp(topic, "tickers.", 8) == 0)
		n = parse_ticker(topic, root, data, ctx, out, frame);
	else
		feed_reject(frame, "unexpected topic \"%s\"", topic);
	if (frame->kind == FEED_FRAME_MALFORMED)
		n = 0;
	json_decref(root);
	return n;
}

/* ---- subscriptions ------------------------------------------------------ */

static bool
bybit_topic(const char *symbol, const char *channel, int *endpoint, char *topic, size_t len)
{
	static const char *const ivs[] = {"1", "5", "15", "60", "240", "D"};
	static const int secs_of[] = {60, 300, 900, 3600, 14400, 86400};
	char		raw[40];
	size_t		o = 0;
	bool		perp = strstr(symbol, "-PERP") != NULL;
	int			secs = feed_channel_seconds(channel);

	for (const char *p = symbol; *p && o + 1 < sizeof(raw); p++)
	{
		if (perp && strcmp(p, "-PERP") == 0)
			break;
		if (*p != '-')
			raw[o++] = *p;
	}
	raw[o] = '\0';
	*endpoint = perp ? 1 : 0;
	if (strcmp(channel, "funding") == 0)
		return perp && snprintf(topic, len, "tickers.%s", raw) < (int) len;
	if (strcmp(channel, "trades") == 0)
		return snprintf(topic, len, "publicTrade.%s", raw) < (int) len;
	if (strcmp(channel, "quotes") == 0)
		return snprintf(topic, len, "orderbook.1.%s", raw) < (int) len;
	if (strncmp(channel, "book_", 5) == 0)
	{
		/* the smallest of Bybit's depths that covers the one asked for */
		int			depth = atoi(channel + 5);

		return snprintf(topic, len, "orderbook.%d.%s", depth <= 50 ? 50 : depth <= 200 ? 200 : 1000,
						raw) < (int) len;
	}
	for (int i = 0; i < 6; i++)
		if (secs == secs_of[i])
			return snprintf(topic, len, "kline.%s.%s", ivs[i], raw) < (int) len;
	return false;
}

static int
bybit_request(int endpoint, bool subscribe, const char *const *topics, int n, int id,
			  char *buf, size_t len)
{
	size_t		o;
	int			done = 0;

	o = (size_t) snprintf(buf, len, "{\"req_id\":\"%d\",\"op\":\"%s\",\"args\":[", id,
						  subscribe ? "subscribe" : "unsubscribe");
	/* spot takes at most 10 args a request */
	for (; done < n && done < (endpoint == 0 ? 10 : 100); done++)
	{
		if (o + strlen(topics[done]) + 8 >= len)
			break;
		o += (size_t) snprintf(buf + o, len - o, "%s\"%s\"", done ? "," : "", topics[done]);
	}
	if (done == 0)
		return 0;
	snprintf(buf + o, len - o, "]}");
	return done;
}

const FeedSpec bybit_spec = {
	.exchange = "bybit",
	.nendpoints = 2,
	.paths = {"/v5/public/spot", "/v5/public/linear"},
	.linear = {false, true},
	.parse = bybit_parse,
	.topic = bybit_topic,
	.request = bybit_request,
	.keepalive = "{\"op\":\"ping\"}",
	.keepalive_s = 20,
};
