/*-------------------------------------------------------------------------
 *
 * src/feed/adapter_coinbase.c
 *	  Coinbase Advanced Trade frames -> FeedEvents: market_trades, candles
 *	  (5 minutes), ticker (the best bid/ask), level2 (books, as l2_data);
 *	  subscriptions, heartbeats and error replies; the connection's
 *	  sequence_num.
 *
 * Wire facts (test/fixtures/exchanges/coinbase.md): envelope {"channel",
 * "timestamp","sequence_num","events":[...]}; a trade's "side" is the
 * MAKER's, so the taker bought when it says SELL; candle "start" is Unix
 * seconds and there is no closed flag: a bucket is final once a later one
 * appears, which the worker tracks (events come with closed = false);
 * errors are {"type":"error","message":...}.
 *
 *-------------------------------------------------------------------------
 */
#include "feed_json.h"
#include "feed_subscribe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
parse_trades(json_t *events, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i,
				j;
	json_t	   *ev,
			   *t;
	int			n = 0;

	json_array_foreach(events, i, ev)
	{
		json_t	   *trades = json_object_get(ev, "trades");

		if (!json_is_array(trades))
			return feed_reject(frame, "market_trades: event without \"trades\"");
		json_array_foreach(trades, j, t)
		{
			FeedEvent  *e = &out[n];
			const char *product,
					   *id,
					   *side,
					   *time;

			if (n == max)
				return n;
			memset(e, 0, sizeof(*e));
			if (!fj_str(t, "product_id", &product) ||
				!feed_normalize_dashed(product, e->symbol, sizeof(e->symbol)))
				return feed_reject(frame, "market_trades: bad \"product_id\"");
			if (!fj_str(t, "trade_id", &id) || !*id || !fj_str(t, "time", &time) ||
				!feed_parse_rfc3339(time, &e->ts))
				return feed_reject(frame, "market_trades: bad \"trade_id\" or \"time\"");
			if (!fj_decimal(t, "price", &e->price) || !fj_decimal(t, "size", &e->qty) ||
				e->price <= 0 || e->qty <= 0)
				return feed_reject(frame, "market_trades: bad \"price\" or \"size\"");
			if (!fj_str(t, "side", &side) || (strcmp(side, "BUY") != 0 && strcmp(side, "SELL") != 0))
				return feed_reject(frame, "market_trades: bad \"side\"");
			e->kind = FEED_TRADE;
			snprintf(e->trade_id, sizeof(e->trade_id), "%s", id);
			/* the maker's side: a SELL maker met a buying taker */
			e->taker_buy = side[0] == 'S';
			e->quote_volume = NAN;
			e->trade_count = -1;
			n++;
		}
	}
	return n;
}

static int
parse_candles(json_t *events, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i,
				j;
	json_t	   *ev,
			   *c;
	int			n = 0;

	json_array_foreach(events, i, ev)
	{
		json_t	   *candles = json_object_get(ev, "candles");

		if (!json_is_array(candles))
			return feed_reject(frame, "candles: event without \"candles\"");
		json_array_foreach(candles, j, c)
		{
			FeedEvent  *e = &out[n];
			const char *product;
			int64_t		start;

			if (n == max)
				return n;
			memset(e, 0, sizeof(*e));
			if (!fj_str(c, "product_id", &product) ||
				!feed_normalize_dashed(product, e->symbol, sizeof(e->symbol)))
				return feed_reject(frame, "candles: bad \"product_id\"");
			if (!fj_int(c, "start", &start) || !feed_secs(start, &e->ts) || !fj_decimal(c, "open", &e->open) ||
				!fj_decimal(c, "high", &e->high) || !fj_decimal(c, "low", &e->low) ||
				!fj_decimal(c, "close", &e->close) || !fj_decimal(c, "volume", &e->volume) ||
				e->low > e->high)
				return feed_reject(frame, "candles: bad values");
			e->kind = FEED_CANDLE;
			e->interval_s = 300;
			e->quote_volume = NAN;
			e->trade_count = -1;
			e->closed = false;
			e->closes_earlier = true;
			n++;
		}
	}
	return n;
}

static int
parse_tickers(json_t *events, int64_t ts, int64_t seq, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i,
				j;
	json_t	   *ev,
			   *t;
	int			n = 0;

	json_array_foreach(events, i, ev)
	{
		json_t	   *tickers = json_object_get(ev, "tickers");

		if (!json_is_array(tickers))
			return feed_reject(frame, "ticker: event without \"tickers\"");
		json_array_foreach(tickers, j, t)
		{
			FeedEvent  *e = &out[n];
			const char *product;

			if (n == max)
				return n;
			memset(e, 0, sizeof(*e));
			if (!fj_str(t, "product_id", &product) ||
				!feed_normalize_dashed(product, e->symbol, sizeof(e->symbol)))
				return feed_reject(frame, "ticker: bad \"product_id\"");
			if (!fj_decimal(t, "best_bid", &e->bid) || !fj_decimal(t, "best_bid_quantity", &e->bid_qty) ||
				!fj_decimal(t, "best_ask", &e->ask) || !fj_decimal(t, "best_ask_quantity", &e->ask_qty))
				return feed_reject(frame, "ticker: bad best bid or ask");
			e->kind = FEED_QUOTE;
			e->ts = ts;
			e->seq = seq;
			e->quote_volume = NAN;
			e->trade_count = -1;
			n++;
		}
	}
	return n;
}

/*
 * l2_data: each event is one product's snapshot or update, its levels
 * objects {side: bid|offer, price_level, new_quantity (absolute)}.
 * Continuity is the connection's sequence_num (the caller's).
 */
static int
parse_level2(json_t *events, int64_t ts, FeedEvent *out, int max, FeedFrame *frame)
{
	size_t		i;
	json_t	   *ev;
	int			n = 0;

	json_array_foreach(events, i, ev)
	{
		const char *type = "",
				   *product = "";
		json_t	   *updates = json_object_get(ev, "updates");
		json_t	   *bids = json_array(),
				   *asks = json_array();
		size_t		k;
		json_t	   *u;
		int			m = 0;
		char		sym[FEED_SYMBOL_LEN];

		if (!fj_str(ev, "type", &type) || (strcmp(type, "snapshot") != 0 && strcmp(type, "update") != 0) ||
			!fj_str(ev, "product_id", &product) || !json_is_array(updates))
			m = -1;
		else if (!feed_normalize_dashed(product, sym, sizeof(sym)))
		{
			/* a product zvt does not stream (INTX perpetuals): not ours */
			json_decref(bids);
			json_decref(asks);
			continue;
		}
		/* regroup as [price, size] pairs per side, the shape feed_book_levels reads */
		json_array_foreach(updates, k, u)
		{
			const char *side;
			json_t	   *pair;

			if (m < 0)
				break;
			if (!fj_str(u, "side", &side) || (strcmp(side, "bid") != 0 && strcmp(side, "offer") != 0))
			{
				m = -1;
				break;
			}
			pair = json_pack("[OO]", json_object_get(u, "price_level"), json_object_get(u, "new_quantity"));
			if (!pair)
			{
				m = -1;
				break;
			}
			json_array_append_new(side[0] == 'b' ? bids : asks, pair);
		}
		if (m == 0)
			m = feed_book_levels("level2", sym, bids, asks, out + n, max - n, frame);
		else
			feed_reject(frame, "level2: bad event, product, side or updates");
		json_decref(bids);
		json_decref(asks);
		if (m <= 0)
			return 0;
		out[n].book_snapshot = strcmp(type, "snapshot") == 0;
		out[n].ts = ts;
		n += m;
	}
	if (n == 0 && frame->kind == FEED_FRAME_DATA)
		frame->kind = FEED_FRAME_IGNORED;
	return n;
}

int
coinbase_parse(const char *msg, size_t len, const FeedContext *ctx, FeedEvent *out,
			   int max, FeedFrame *frame)
{
	json_t	   *root = feed_load(msg, len, frame);
	const char *channel,
			   *type,
			   *stamp;
	json_t	   *events;
	int64_t		ts = 0;
	int			n = 0;

	(void) ctx;
	if (!root)
		return 0;
	events = json_object_get(root, "events");
	if (fj_str(root, "type", &type) && strcmp(type, "error") == 0)
	{
		const char *text = "error";

		fj_str(root, "message", &text);
		frame->kind = FEED_FRAME_ERROR;
		snprintf(frame->reason, sizeof(frame->reason), "%s", text);
	}
	else if (!fj_str(root, "channel", &channel) || !json_is_array(events) ||
			 !fj_int(root, "sequence_num", &frame->conn_seq))
		feed_reject(frame, "no \"channel\", \"events\" or \"sequence_num\"");
	else if (fj_str(root, "timestamp", &stamp) && !feed_parse_rfc3339(stamp, &ts))
		feed_reject(frame, "bad \"timestamp\"");
	else if (strcmp(channel, "subscriptions") == 0 || strcmp(channel, "heartbeats") == 0 ||
			 strcmp(channel, "status") == 0)
		frame->kind = FEED_FRAME_CONTROL;
	else if (max < 1)
		n = 0;
	else if (strcmp(channel, "market_trades") == 0)
		n = parse_trades(events, out, max, frame);
	else if (strcmp(channel, "candles") == 0)
		n = parse_candles(events, out, max, frame);
	else if (strcmp(channel, "ticker") == 0)
		n = parse_tickers(events, ts, frame->conn_seq, out, max, frame);
	else if (strcmp(channel, "l2_data") == 0)
		n = parse_level2(events, ts, out, max, frame);
	else if (strcmp(channel, "ticker_batch") == 0)
		frame->kind = FEED_FRAME_IGNORED;
	else
		feed_reject(frame, "unexpected channel \"%s\"", channel);
	if (frame->kind == FEED_FRAME_MALFORMED)
		n = 0;
	json_decref(root);
	return n;
}

/* ---- subscriptions ------------------------------------------------------ */

/* Topics are "channel product": one channel per subscribe message. */
static bool
coinbase_topic(const char *symbol, const char *channel, int *endpoint, char *topic, size_t len)
{
	*endpoint = 0;
	if (strstr(symbol, "-PERP"))
		return false;
	if (strcmp(channel, "trades") == 0)
		return snprintf(topic, len, "market_trades %s", symbol) < (int) len;
	if (strcmp(channel, "quotes") == 0)
		return snprintf(topic, len, "ticker %s", symbol) < (int) len;
	if (strcmp(channel, "candles_5m") == 0)
		return snprintf(topic, len, "candles %s", symbol) < (int) len;
	if (strncmp(channel, "book", 4) == 0)
		return snprintf(topic, len, "level2 %s", symbol) < (int) len;
	return false;				/* other timeframes are built from trades */
}

static int
coinbase_request(int endpoint, bool subscribe, const char *const *topics, int n, int id,
				 char *buf, size_t len)
{
	const char *sp = strchr(topics[0], ' ');
	size_t		chlen = sp ? (size_t) (sp - topics[0]) : 0;
	size_t		o;
	int			done = 0;

	(void) endpoint;
	(void) id;
	if (!sp)
		return 0;
	o = (size_t) snprintf(buf, len, "{\"type\":\"%s\",\"product_ids\":[", subscribe ? "subscribe" : "unsubscribe");
	/* the leading run of topics on the same channel */
	for (; done < n; done++)
	{
		const char *t = topics[done];

		if (strncmp(t, topics[0], chlen + 1) != 0 || o + strlen(t) + 40 >= len)
			break;
		o += (size_t) snprintf(buf + o, len - o, "%s\"%s\"", done ? "," : "", t + chlen + 1);
	}
	snprintf(buf + o, len - o, "],\"channel\":\"%.*s\"}", (int) chlen, topics[0]);
	return done;
}

const FeedSpec coinbase_spec = {
	.exchange = "coinbase",
	.nendpoints = 1,
	.paths = {"/"},
	.parse = coinbase_parse,
	.topic = coinbase_topic,
	.request = coinbase_request,
	.keepalive = NULL,
	/* heartbeats keep quiet channels open and show the link is alive */
	.on_connect = "{\"type\":\"subscribe\",\"channel\":\"heartbeats\"}",
};
