/*
 * test/unit/test_http_stream.c
 *	  The /stream WebSocket's messages (src/http/stream_proto.c): client
 *	  commands parsed or refused with the right error, channel names,
 *	  and every server message byte for byte (numbers that read back
 *	  exactly, ISO times, escapes, NaN as null).
 */
#include "http/stream_proto.h"
#include "unit_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool
parse(const char *text, StreamCommand *cmd, char *err, char *detail)
{
	return stream_parse_command(text, strlen(text), cmd, err, 128, detail, 256);
}

/* the error a text gets ("" when it parses) */
static const char *
refusal(const char *text)
{
	static StreamCommand cmd;
	static char err[128];
	char		detail[256];

	if (parse(text, &cmd, err, detail))
		return "";
	return err;
}

static void
test_commands(void)
{
	StreamCommand *cmd = malloc(sizeof(StreamCommand));
	char		err[128];
	char		detail[256];

	CHECK(parse("{\"op\":\"subscribe\",\"channels\":[\"trades\",\"candles:1m\",\"tickers\"],"
				"\"symbols\":[\"binance:BTC-USDT\",\"*\"]}", cmd, err, detail));
	CHECK(cmd->op == STREAM_OP_SUBSCRIBE);
	CHECK(cmd->nchannels == 3 && cmd->channels[0].kind == STREAM_TRADES);
	CHECK(cmd->channels[1].kind == STREAM_CANDLES && cmd->channels[1].interval_s == 60);
	CHECK(cmd->nsymbols == 2);
	CHECK_STR(cmd->symbols[0], "binance:BTC-USDT");
	CHECK_STR(cmd->symbols[1], "*");
	CHECK(parse("{\"op\":\"unsubscribe\",\"channels\":[\"orders\"]}", cmd, err, detail));
	CHECK(cmd->op == STREAM_OP_UNSUBSCRIBE && cmd->nsymbols == 0);
	CHECK(parse("{\"op\":\"ping\"}", cmd, err, detail) && cmd->op == STREAM_OP_PING);

	CHECK(!parse("{\"op\":\"frob\"}", cmd, err, detail));
	CHECK_STR(err, "unknown op");
	CHECK_STR(detail, "frob");
	CHECK(!parse("{\"op\":\"subscribe\",\"channels\":[\"candles:0m\"],\"symbols\":[\"*\"]}", cmd, err, detail));
	CHECK_STR(err, "unknown channel");
	CHECK_STR(detail, "candles:0m");
	CHECK_STR(refusal("{oops"), "invalid JSON");
	CHECK_STR(refusal("[1]"), "a message must be a JSON object");
	CHECK_STR(refusal("{\"op\":1}"), "a message needs \"op\", a string");
	CHECK_STR(refusal("{\"op\":\"subscribe\"}"), "\"channels\" must be a non-empty array of strings");
	CHECK_STR(refusal("{\"op\":\"subscribe\",\"channels\":[]}"), "\"channels\" must be a non-empty array of strings");
	CHECK_STR(refusal("{\"op\":\"subscribe\",\"channels\":[1]}"), "\"channels\" must be a non-empty array of strings");
	CHECK_STR(refusal("{\"op\":\"subscribe\",\"channels\":[\"trades\"],\"symbols\":\"x\"}"),
			  "\"symbols\" must be an array of strings");
	CHECK_STR(refusal("{\"op\":\"subscribe\",\"channels\":[\"trades\"],\"symbols\":[\"BTC-USDT\"]}"),
			  "a symbol is \"exchange:SYMBOL\" or \"*\"");
	CHECK_STR(refusal("{\"op\":\"subscribe\",\"channels\":[\"trades\"],\"symbols\":[\"a:b:c\"]}"),
			  "a symbol is \"exchange:SYMBOL\" or \"*\"");
	CHECK_STR(refusal("{\"op\":\"ping\",\"op\":\"ping\"}"), "invalid JSON");
	{
		/* found by the fuzzer: a symbol longer than the command holds */
		char		msg[512];

		snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"channels\":[\"trades\"],\"symbols\":[\"%0120d:BTC-USDT\"]}", 0);
		CHECK_STR(refusal(msg), "a symbol is at most 127 bytes");
	}
	{
		/* 257 channels: too many */
		char	   *big = malloc(20 * 300);

		strcpy(big, "{\"op\":\"subscribe\",\"channels\":[");
		for (int i = 0; i < 257; i++)
			strcat(big, i ? ",\"trades\"" : "\"trades\"");
		strcat(big, "],\"symbols\":[\"*\"]}");
		CHECK_STR(refusal(big), "too many channels in one message");
		free(big);
	}
	free(cmd);
}

static void
test_channels(void)
{
	StreamChannel c;
	char		name[32];

	CHECK(stream_parse_channel("candles:5m", &c) && c.interval_s == 300);
	CHECK(stream_parse_channel("candles:1h", &c) && c.interval_s == 3600);
	CHECK(stream_parse_channel("candles:1d", &c) && c.interval_s == 86400);
	CHECK(stream_parse_channel("candles:30s", &c) && c.interval_s == 30);
	CHECK(!stream_parse_channel("candles:8d", &c));
	CHECK(!stream_parse_channel("candles:1", &c));
	CHECK(!stream_parse_channel("candles:1mm", &c));
	CHECK(!stream_parse_channel("candles:-1m", &c));
	CHECK(!stream_parse_channel("Trades", &c));
	c.kind = STREAM_CANDLES;
	c.interval_s = 3600;
	CHECK_STR(stream_channel_name(&c, name, sizeof(name)), "candles:1h");
	c.interval_s = 90;
	CHECK_STR(stream_channel_name(&c, name, sizeof(name)), "candles:90s");
}

static void
test_messages(void)
{
	StreamBuf	b;
	BusEvent	ev;
	StreamCommand cmd;
	char		iso[40];

	stream_buf_init(&b, 16);
	memset(&ev, 0, sizeof(ev));
	ev.seq = 42;
	ev.kind = BUS_EVENT_TRADE;
	ev.ts = 0;					/* 2000-01-01 */
	ev.appended_at = 1500;
	ev.u.trade.price = 0.1 + 0.2;	/* needs 17 digits */
	ev.u.trade.qty = 2;
	ev.u.trade.taker_buy = true;
	strcpy(ev.u.trade.trade_id, "7\"x");
	stream_write_event(&b, &ev, "binance", "BTC-USDT");
	CHECK_STR(stream_buf_text(&b),
			  "{\"op\":\"trade\",\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\","
			  "\"ts\":\"2000-01-01T00:00:00.000000Z\",\"price\":0.30000000000000004,\"qty\":2,"
			  "\"side\":\"buy\",\"trade_id\":\"7\\\"x\",\"seq\":42,"
			  "\"appended_at\":\"2000-01-01T00:00:00.001500Z\"}");
	CHECK(strtod(strstr(stream_buf_text(&b), "price\":") + 7, NULL) == 0.1 + 0.2);

	stream_buf_reset(&b);
	ev.kind = BUS_EVENT_QUOTE;
	ev.ts = -1;					/* before the epoch: microseconds still right */
	ev.u.quote.bid = 1.5;
	ev.u.quote.bid_qty = NAN;
	ev.u.quote.ask = 2;
	ev.u.quote.ask_qty = 3;
	stream_write_event(&b, &ev, "okx", "ETH-USDT");
	CHECK_STR(stream_buf_text(&b),
			  "{\"op\":\"quote\",\"exchange\":\"okx\",\"symbol\":\"ETH-USDT\","
			  "\"ts\":\"1999-12-31T23:59:59.999999Z\",\"bid\":1.5,\"bid_qty\":null,\"ask\":2,"
			  "\"ask_qty\":3,\"seq\":42,\"appended_at\":\"2000-01-01T00:00:00.001500Z\"}");

	stream_buf_reset(&b);
	memset(&ev.u, 0, sizeof(ev.u));
	ev.kind = BUS_EVENT_CANDLE;
	ev.ts = 60000000;
	ev.u.candle.interval_s = 60;
	ev.u.candle.open = 1;
	ev.u.candle.high = 4;
	ev.u.candle.low = 0.5;
	ev.u.candle.close = 3;
	ev.u.candle.volume = 10;
	ev.u.candle.from_trades = true;
	stream_write_event(&b, &ev, "binance", "BTC-USDT");
	CHECK(strstr(stream_buf_text(&b), "\"op\":\"candle\"") != NULL);
	CHECK(strstr(stream_buf_text(&b), "\"timeframe\":\"1m\",\"ts\":\"2000-01-01T00:01:00.000000Z\","
				 "\"open\":1,\"high\":4,\"low\":0.5,\"close\":3,\"volume\":10,\"closed\":true,"
				 "\"source\":\"trades\"") != NULL);

	stream_buf_reset(&b);
	memset(&ev.u, 0, sizeof(ev.u));
	ev.kind = BUS_EVENT_ORDER;
	ev.u.order.event_id = 9;
	ev.u.order.order_id = 8;
	ev.u.order.account_id = 7;
	ev.u.order.qty = 0.5;
	ev.u.order.price = NAN;
	strcpy(ev.u.order.event, "fill");
	strcpy(ev.u.order.status, "filled");
	stream_write_event(&b, &ev, NULL, NULL);
	CHECK(strncmp(stream_buf_text(&b), "{\"op\":\"fill\",\"account_id\":7,\"order_id\":8,\"event_id\":9,"
				  "\"event\":\"fill\",\"status\":\"filled\",\"qty\":0.5,\"price\":null,", 100) == 0);
	stream_buf_reset(&b);
	strcpy(ev.u.order.event, "accepted");
	stream_write_event(&b, &ev, NULL, NULL);
	CHECK(strncmp(stream_buf_text(&b), "{\"op\":\"order\",", 14) == 0);

	stream_buf_reset(&b);
	stream_write_ticker(&b, "binance", "BTC-USDT", 100, NAN, 101.25, 0);
	CHECK_STR(stream_buf_text(&b),
			  "{\"op\":\"ticker\",\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\",\"last\":100,"
			  "\"bid\":null,\"ask\":101.25,\"ts\":\"2000-01-01T00:00:00.000000Z\"}");
	stream_buf_reset(&b);
	stream_write_dropped(&b, 12);
	CHECK_STR(stream_buf_text(&b), "{\"op\":\"dropped\",\"count\":12}");
	stream_buf_reset(&b);
	stream_write_error(&b, "unknown symbol", "x:\n");
	CHECK_STR(stream_buf_text(&b), "{\"op\":\"error\",\"message\":\"unknown symbol\",\"detail\":\"x:\\u000a\"}");
	stream_buf_reset(&b);
	stream_write_error(&b, "invalid JSON", "");
	CHECK_STR(stream_buf_text(&b), "{\"op\":\"error\",\"message\":\"invalid JSON\",\"detail\":null}");
	stream_buf_reset(&b);
	CHECK(parse("{\"op\":\"subscribe\",\"channels\":[\"candles:60m\",\"quotes\"],\"symbols\":[\"a:B\"]}",
				&cmd, iso, iso));
	stream_write_ack(&b, &cmd);
	CHECK_STR(stream_buf_text(&b),
			  "{\"op\":\"subscribed\",\"channels\":[\"candles:1h\",\"quotes\"],\"symbols\":[\"a:B\"]}");
	/* a long message grows the buffer; the headroom stays */
	stream_buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		stream_write_pong(&b);
	CHECK(b.len == 1000 * strlen("{\"op\":\"pong\"}"));
	stream_buf_free(&b);

	stream_iso_time(INT64_C(851222096789012), iso, sizeof(iso));	/* 2026-12-22 */
	CHECK_STR(iso, "2026-12-22T02:34:56.789012Z");
}

int
main(void)
{
	test_commands();
	test_channels();
	test_messages();
	return unit_summary("test_http_stream");
}
