/*-------------------------------------------------------------------------
 *
 * src/feed/adapter_okx.c
 *	  OKX v5 frames -> FeedEvents: trades / trades-all, candle*, bbo-tbt,
 *	  books (seqId/prevSeqId and the CRC32 checksum); events (subscribe acks, errors, the 64008 notice) and text pong.
 *
 * Wire facts (test/fixtures/exchanges/okx.md): {"arg":{channel,instId},
 * "data":[...]}; every number is a string except seqId/checksum; "side"
 * is the taker side; candle rows are [ts,o,h,l,c,vol,volCcy,volCcyQuote,
 * confirm] where for swaps vol is in contracts and volCcy in base units;
 * swap sizes are contracts of ctVal base units, which the context gives.
 * A swap's "funding" subscription is two channels under one topic:
 * funding-rate (fundingRate for fundingTime, the coming settlement) and
 * mark-price (markPx); each gives a FEED_FUNDING event with the fields it
 * has, the ingest completing the rest from the symbol's last row.
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
bar_seconds(const char *bar)
{
	char	   *end;
	long		n = strtol(bar, &end, 10);

	if (n <= 0 || n > 1000)		/* no exchange bar is longer: keeps n * 604800 in range */
		return 0;
	if (strcmp(end, "s") == 0)
		return (int32_t) n;
	if (strcmp(end, "m") == 0)
		return (int32_t) n * 60;
	if (strcmp(end, "H") == 0 || strcmp(end, "Hutc") == 0)
		return (int32_t) n * 3600;
	if (strcmp(end, "Dutc") == 0)
		return (int32_t) n * 86400;
	if (strcmp(end, "Wutc") == 0)
		return (int32_t) n * 604800;
	return 0;					/* 1D, 1W are UTC+8-aligned: not zvt candles */
}

/* Base units per size unit of inst: 1 for spot, ctVal for swaps, 0 unknown. */
static double
size_unit(const FeedContext *ctx, const char *inst)
{
	size_t		n = strlen(inst);

	if (n < 5 || strcmp(inst + n - 5, "-SWAP") != 0)
		return 1;
	return ctx && ctx->contract_size ? ctx->contract_size(ctx->arg, inst) : 0;
}

static int
parse_trades(json_t *data, const FeedContext *ctx, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i;
	json_t	   *t;
	int			n = 0;

	json_array_foreach(data, i, t)
	{
		FeedEvent  *e = &out[n];
		const char *inst,
				   *id,
				   *side;
		int64_t		ts;
		double		unit;

		if (n == max)
			break;
		memset(e, 0, sizeof(*e));
		if (!fj_str(t, "instId", &inst) || !feed_normalize_dashed(inst, e->symbol, sizeof(e->symbol)))
			return feed_reject(frame, "trades: bad or missing \"instId\"");
		if ((unit = size_unit(ctx, inst)) <= 0)
			return feed_reject(frame, "trades: contract size of %s unknown", inst);
		if (!fj_str(t, "tradeId", &id) || !*id || !fj_int(t, "ts", &ts) || !feed_ms(ts, &e->ts))
			return feed_reject(frame, "trades: bad \"tradeId\" or \"ts\"");
		if (!fj_decimal(t, "px", &e->price) || !fj_decimal(t, "sz", &e->qty) || e->price <= 0 || e->qty <= 0)
			return feed_reject(frame, "trades: bad \"px\" or \"sz\"");
		if (!fj_str(t, "side", &side) || (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0))
			return feed_reject(frame, "trades: bad \"side\"");
		e->kind = FEED_TRADE;
		snprintf(e->trade_id, sizeof(e->trade_id), "%s", id);
		e->qty *= unit;
		e->taker_buy = side[0] == 'b';
		e->quote_volume = NAN;
		e->trade_count = -1;
		n++;
	}
	return n;
}

static int
parse_candles(const char *channel, const char *inst, json_t *data, const FeedContext *ctx,
			  FeedEvent *out, int max, FeedFrame *frame)
{
	int32_t		secs = bar_seconds(channel + 6);
	bool		swap = size_unit(ctx, inst) != 1;
	size_t		i;
	json_t	   *row;
	int			n = 0;
	char		symbol[FEED_SYMBOL_LEN];

	if (secs == 0)
		return feed_reject(frame, "candles: unsupported channel \"%s\"", channel);
	if (!feed_normalize_dashed(inst, symbol, sizeof(symbol)))
		return feed_reject(frame, "candles: bad \"instId\"");
	json_array_foreach(data, i, row)
	{
		FeedEvent  *e = &out[n];
		int64_t		ts;
		double		contracts,
					base;
		const char *confirm = json_string_value(json_array_get(row, 8));

		if (n == max)
			break;
		memset(e, 0, sizeof(*e));
		if (!json_is_array(row) || json_array_size(row) < 9 || !confirm ||
			!fj_int_at(row, 0, &ts) || !feed_ms(ts, &e->ts) || !fj_decimal_at(row, 1, &e->open) ||
			!fj_decimal_at(row, 2, &e->high) || !fj_decimal_at(row, 3, &e->low) ||
			!fj_decimal_at(row, 4, &e->close) || !fj_decimal_at(row, 5, &contracts) ||
			!fj_decimal_at(row, 6, &base) || !fj_decimal_at(row, 7, &e->quote_volume))
			return feed_reject(frame, "candles: bad row");
		if (e->low > e->high || (strcmp(confirm, "0") != 0 && strcmp(confirm, "1") != 0))
			return feed_reject(frame, "candles: bad values");
		snprintf(e->symbol, sizeof(e->symbol), "%s", symbol);
		e->kind = FEED_CANDLE;
		e->interval_s = secs;
		/* spot: vol is base; swaps: vol is contracts and volCcy base */
		e->volume = swap ? base : contracts;
		e->trade_count = -1;
		e->closed = confirm[0] == '1';
		n++;
	}
	return n;
}

static int
parse_bbo(json_t *data, const FeedContext *ctx, const char *inst, FeedEvent *e, FeedFrame *frame)
{
	json_t	   *d = json_array_get(data, 0);
	json_t	   *a = json_array_get(json_object_get(d, "asks"), 0);
	json_t	   *b = json_array_get(json_object_get(d, "bids"), 0);
	int64_t		ts;
	double		unit = size_unit(ctx, inst);

	memset(e, 0, sizeof(*e));
	if (!feed_normalize_dashed(inst, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "bbo-tbt: bad \"instId\"");
	if (unit <= 0)
		return feed_reject(frame, "bbo-tbt: contract size of %s unknown", inst);
	if (!json_is_object(d) || !fj_int(d, "ts", &ts) || !feed_ms(ts, &e->ts) || !fj_int(d, "seqId", &e->seq))
		return feed_reject(frame, "bbo-tbt: bad \"ts\" or \"seqId\"");
	e->bid = e->bid_qty = e->ask = e->ask_qty = NAN;
	if (b && (!fj_decimal_at(b, 0, &e->bid) || !fj_decimal_at(b, 1, &e->bid_qty)))
		return feed_reject(frame, "bbo-tbt: bad bid");
	if (a && (!fj_decimal_at(a, 0, &e->ask) || !fj_decimal_at(a, 1, &e->ask_qty)))
		return feed_reject(frame, "bbo-tbt: bad ask");
	e->bid_qty *= unit;
	e->ask_qty *= unit;
	e->kind = FEED_QUOTE;
	e->quote_volume = NAN;
	e->trade_count = -1;
	return 1;
}

/*
 * books: snapshot or update; sizes stay in the exchange's units (contracts
 * for swaps: the checksum is over the strings; the worker converts when it
 * publishes the book).
 */
static int
parse_book(const char *inst, json_t *root, json_t *data, FeedEvent *out, int max, FeedFrame *frame)
{
	json_t	   *d = json_array_get(data, 0);
	char		sym[FEED_SYMBOL_LEN];
	const char *action;
	int64_t		seq,
				prev,
				checksum = 0,
				ts;
	int			n;

	if (!feed_normalize_dashed(inst, sym, sizeof(sym)))
		return feed_reject(frame, "books: bad \"instId\"");
	if (!fj_str(root, "action", &action) || (strcmp(action, "snapshot") != 0 && strcmp(action, "update") != 0))
		return feed_reject(frame, "books: \"action\" is neither snapshot nor update");
	if (!json_is_object(d) || !fj_int(d, "seqId", &seq) || !fj_int(d, "prevSeqId", &prev))
		return feed_reject(frame, "books: bad \"seqId\" or \"prevSeqId\"");
	if (json_object_get(d, "checksum") && (!fj_int(d, "checksum", &checksum) ||
										   checksum < INT32_MIN || checksum > INT32_MAX))
		return feed_reject(frame, "books: bad \"checksum\"");
	n = feed_book_levels("books", sym, json_object_get(d, "bids"), json_object_get(d, "asks"),
						 out, max, frame);
	if (n == 0)
		return 0;
	out[0].book_snapshot = strcmp(action, "snapshot") == 0;
	out[0].book_first = out[0].seq = seq;
	out[0].book_prev = prev;
	out[0].book_has_checksum = checksum != 0;
	out[0].book_checksum = (int32_t) checksum;
	if (fj_int(d, "ts", &ts))
		feed_ms(ts, &out[0].ts);
	return n;
}

/* funding-rate and mark-price rows (one each per message) -> one FEED_FUNDING */
static int
parse_funding(const char *channel, const char *inst, json_t *data, FeedEvent *e, FeedFrame *frame)
{
	json_t	   *d = json_array_get(data, 0);
	int64_t		ts,
				t;

	memset(e, 0, sizeof(*e));
	feed_funding_init(e);
	e->quote_volume = NAN;
	e->trade_count = -1;
	if (!json_is_object(d) || !feed_normalize_dashed(inst, e->symbol, sizeof(e->symbol)))
		return feed_reject(frame, "%s: bad instId or \"data\"", channel);
	if (!fj_int(d, "ts", &ts) || !feed_ms(ts, &e->ts))
		return feed_reject(frame, "%s: bad or missing \"ts\"", channel);
	if (strcmp(channel, "mark-price") == 0)
	{
		if (!fj_decimal(d, "markPx", &e->mark_price) || e->mark_price <= 0)
			return feed_reject(frame, "mark-price: bad \"markPx\"");
	}
	else if (!fj_decimal(d, "fundingRate", &e->funding_rate) ||
			 !fj_int(d, "fundingTime", &t) || t <= 0 || !feed_ms(t, &e->funding_ts))
		return feed_reject(frame, "funding-rate: bad \"fundingRate\" or \"fundingTime\"");
	e->kind = FEED_FUNDING;
	return 1;
}

int
okx_parse(const char *msg, size_t len, const FeedContext *ctx, FeedEvent *out,
		  int max, FeedFrame *frame)
{
	json_t	   *root;
	const char *event;
	const char *channel;
	const char *inst;
	json_t	   *arg;
	json_t	   *data;
	int			n = 0;

	if (len == 4 && memcmp(msg, "pong", 4) == 0)
	{
		frame->kind = FEED_FRAME_CONTROL;
		frame->conn_seq = -1;
		frame->reason[0] = '\0';
		return 0;
	}
	if (!(root = feed_load(msg, len, frame)))
		return 0;
	arg = json_object_get(root, "arg");
	data = json_object_get(root, "data");
	if (fj_str(root, "event", &event))
	{
		const char *code = "",
				   *text = "";

		fj_str(root, "code", &code);
		fj_str(root, "msg", &text);
		if (strcmp(event, "error") == 0)
		{
			frame->kind = FEED_FRAME_ERROR;
			snprintf(frame->reason, sizeof(frame->reason), "%s %s", code, text);
		}
		else if (strcmp(event, "notice") == 0 && strcmp(code, "64008") == 0)
		{
			frame->kind = FEED_FRAME_RECONNECT;
			snprintf(frame->reason, sizeof(frame->reason), "64008 %s", text);
		}
		else
			frame->kind = FEED_FRAME_CONTROL;
	}
	else if (!fj_str(arg, "channel", &channel) || !fj_str(arg, "instId", &inst) || !json_is_array(data))
		feed_reject(frame, "no \"arg\" with channel and instId, or no \"data\" array");
	else if (max < 1)
		n = 0;
	else if (strcmp(channel, "trades") == 0 || strcmp(channel, "trades-all") == 0)
		n = parse_trades(data, ctx, out, max, frame);
	else if (strncmp(channel, "candle", 6) == 0)
		n = parse_candles(channel, inst, data, ctx, out, max, frame);
	else if (strcmp(channel, "bbo-tbt") == 0)
		n = parse_bbo(data, ctx, inst, out, frame);
	else if (strcmp(channel, "books") == 0)
		n = parse_book(inst, root, data, out, max, frame);
	else if (strcmp(channel, "funding-rate") == 0 || strcmp(channel, "mark-price") == 0)
		n = parse_funding(channel, inst, data, out, frame);
	else if (strcmp(channel, "tickers") == 0 || strncmp(channel, "books", 5) == 0)
		frame->kind = FEED_FRAME_IGNORED;
	else
		feed_reject(frame, "unexpected channel \"%s\"", channel);
	if (frame->kind == FEED_FRAME_MALFORMED)
		n = 0;
	json_decref(root);
	return n;
}

/* ---- subscriptions ------------------------------------------------------ */

/* Topics are the JSON args themselves: {"channel":..,"instId":..}. */
static bool
okx_topic(const char *symbol, const char *channel, int *endpoint, char *topic, size_t len)
{
	static const char *const bars[] = {"1m", "5m", "15m", "1H", "4H", "1Dutc"};
	static const int secs_of[] = {60, 300, 900, 3600, 14400, 86400};
	char		inst[48];
	size_t		n = strlen(symbol);
	int			secs = feed_channel_seconds(channel);

	if (n > 5 && strcmp(symbol + n - 5, "-PERP") == 0)
		snprintf(inst, sizeof(inst), "%.*s-SWAP", (int) (n - 5), symbol);
	else
		snprintf(inst, sizeof(inst), "%s", symbol);
	*endpoint = 0;
	/* two args in one topic: the request lists topics comma-separated */
	if (strcmp(channel, "funding") == 0)
		return n > 5 && strcmp(symbol + n - 5, "-PERP") == 0 &&
			snprintf(topic, len, "{\"channel\":\"funding-rate\",\"instId\":\"%s\"},"
					 "{\"channel\":\"mark-price\",\"instId\":\"%s\"}", inst, inst) < (int) len;
	if (strcmp(channel, "trades") == 0)
		return snprintf(topic, len, "{\"channel\":\"trades\",\"instId\":\"%s\"}", inst) < (int) len;
	if (strcmp(channel, "quotes") == 0)
		return snprintf(topic, len, "{\"channel\":\"bbo-tbt\",\"instId\":\"%s\"}", inst) < (int) len;
	/* 400 levels, the most OKX's public books give */
	if (strncmp(channel, "book", 4) == 0)
		return snprintf(topic, len, "{\"channel\":\"books\",\"instId\":\"%s\"}", inst) < (int) len;
	for (int i = 0; i < 6; i++)
		if (secs == secs_of[i])
		{
			*endpoint = 1;		/* candles live on /business */
			return snprintf(topic, len, "{\"channel\":\"candle%s\",\"instId\":\"%s\"}", bars[i], inst) < (int) len;
		}
	return false;
}

static int
okx_request(int endpoint, bool subscribe, const char *const *topics, int n, int id,
			char *buf, size_t len)
{
	size_t		o;
	int			done = 0;

	(void) endpoint;
	o = (size_t) snprintf(buf, len, "{\"id\":\"%d\",\"op\":\"%s\",\"args\":[", id,
						  subscribe ? "subscribe" : "unsubscribe");
	for (; done < n && done < 100; done++)
	{
		if (o + strlen(topics[done]) + 8 >= len)
			break;
		o += (size_t) snprintf(buf + o, len - o, "%s%s", done ? "," : "", topics[done]);
	}
	if (done == 0)
		return 0;
	snprintf(buf + o, len - o, "]}");
	return done;
}

const FeedSpec okx_spec = {
	.exchange = "okx",
	.nendpoints = 2,
	.paths = {"/ws/v5/public", "/ws/v5/business"},
	.parse = okx_parse,
	.topic = okx_topic,
	.request = okx_request,
	.keepalive = "ping",
	.keepalive_s = 20,
};
