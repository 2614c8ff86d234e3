/*-------------------------------------------------------------------------
 *
 * src/http/stream_proto.c
 *	  The /stream WebSocket's messages (stream_proto.h): parsing a
 *	  client's command, writing the server's JSON.
 *
 * Pure C (jansson for parsing only; the output is written by hand, which
 * is both faster per event and free of jansson's json_object(), whose
 * name the server also exports).  Parsing never longjmps and never
 * accepts a partial command: a message is applied whole or answered with
 * an error.  Doubles are written with the fewest digits that read back
 * the same (15 to 17), so a client parsing the JSON gets the exact value
 * the ring carried.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "http/stream_proto.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch) */
#define STREAM_EPOCH_SHIFT_US INT64_C(946684800000000)

static void buf_reserve(StreamBuf *b, size_t more);
static void buf_put(StreamBuf *b, const char *s, size_t n);
static void buf_puts(StreamBuf *b, const char *s);
static void buf_printf(StreamBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void put_string(StreamBuf *b, const char *s);
static void put_number(StreamBuf *b, double v);
static void put_time(StreamBuf *b, int64_t ts);
static void put_head(StreamBuf *b, const char *op, const char *exchange, const char *symbol);

/* ----------------------------------------------------------------
 *		Parsing
 * ----------------------------------------------------------------
 */

bool
stream_parse_channel(const char *name, StreamChannel *out)
{
	static const struct
	{
		const char *name;
		int			kind;
	}			plain[] = {
		{"trades", STREAM_TRADES}, {"quotes", STREAM_QUOTES},
		{"tickers", STREAM_TICKERS}, {"orders", STREAM_ORDERS},
	};
	const char *p;
	char	   *end;
	long		n;
	long		unit;

	out->interval_s = 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(name, plain[i].name) == 0)
		{
			out->kind = plain[i].kind;
			return true;
		}
	if (strncmp(name, "candles:", 8) != 0)
		return false;
	p = name + 8;
	if (*p < '1' || *p > '9')
		return false;
	n = strtol(p, &end, 10);
	if (end[0] == '\0' || end[1] != '\0' || n > 1000000)
		return false;
	switch (end[0])
	{
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return false;
	}
	if (n * unit > 7 * 86400)
		return false;
	out->kind = STREAM_CANDLES;
	out->interval_s = (int) (n * unit);
	return true;
}

const char *
stream_channel_name(const StreamChannel *c, char *out, size_t outlen)
{
	switch (c->kind)
	{
		case STREAM_TRADES:
			snprintf(out, outlen, "trades");
			break;
		case STREAM_QUOTES:
			snprintf(out, outlen, "quotes");
			break;
		case STREAM_TICKERS:
			snprintf(out, outlen, "tickers");
			break;
		case STREAM_ORDERS:
			snprintf(out, outlen, "orders");
			break;
		default:
			if (c->interval_s % 86400 == 0)
				snprintf(out, outlen, "candles:%dd", c->interval_s / 86400);
			else if (c->interval_s % 3600 == 0)
				snprintf(out, outlen, "candles:%dh", c->interval_s / 3600);
			else if (c->interval_s % 60 == 0)
				snprintf(out, outlen, "candles:%dm", c->interval_s / 60);
			else
				snprintf(out, outlen, "candles:%ds", c->interval_s);
	}
	return out;
}

bool
stream_split_symbol(const char *s, char *exchange, size_t elen, char *symbol, size_t slen)
{
	const char *colon = strchr(s, ':');
	size_t		n;

	if (colon == NULL || colon == s || colon[1] == '\0' || strchr(colon + 1, ':'))
		return false;
	n = (size_t) (colon - s);
	if (n >= elen || strlen(colon + 1) >= slen)
		return false;
	memcpy(exchange, s, n);
	exchange[n] = '\0';
	strcpy(symbol, colon + 1);
	return true;
}

/* Fill err (and detail) and return false. */
static bool
refuse(char *err, size_t errlen, char *detail, size_t detlen, const char *message,
	   const char *what)
{
	snprintf(err, errlen, "%s", message);
	snprintf(detail, detlen, "%s", what ? what : "");
	return false;
}

bool
stream_parse_command(const char *text, size_t len, StreamCommand *cmd,
					 char *err, size_t errlen, char *detail, size_t detlen)
{
	json_error_t jerr;
	json_t	   *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t	   *op;
	json_t	   *list;
	const char *name;
	size_t		i;
	bool		ok = false;

	memset(cmd, 0, sizeof(*cmd));
	if (root == NULL)
		return refuse(err, errlen, detail, detlen, "invalid JSON", jerr.text);
	op = json_object_get(root, "op");
	name = json_is_string(op) ? json_string_value(op) : NULL;
	if (!json_is_object(root))
		refuse(err, errlen, detail, detlen, "a message must be a JSON object", NULL);
	else if (name == NULL)
		refuse(err, errlen, detail, detlen, "a message needs \"op\", a string", NULL);
	else if (strcmp(name, "ping") == 0)
	{
		cmd->op = STREAM_OP_PING;
		ok = true;
	}
	else if (strcmp(name, "subscribe") != 0 && strcmp(name, "unsubscribe") != 0)
		refuse(err, errlen, detail, detlen, "unknown op", name);
	else
	{
		cmd->op = strcmp(name, "subscribe") == 0 ? STREAM_OP_SUBSCRIBE : STREAM_OP_UNSUBSCRIBE;
		ok = true;
		list = json_object_get(root, "channels");
		if (!json_is_array(list) || json_array_size(list) == 0)
			ok = refuse(err, errlen, detail, detlen,
						"\"channels\" must be a non-empty array of strings", NULL);
		else if (json_array_size(list) > STREAM_MAX_LIST)
			ok = refuse(err, errlen, detail, detlen, "too many channels in one message",
						"at most 256");
		for (i = 0; ok && i < json_array_size(list); i++)
		{
			json_t	   *c = json_array_get(list, i);

			if (!json_is_string(c))
				ok = refuse(err, errlen, detail, detlen,
							"\"channels\" must be a non-empty array of strings", NULL);
			else if (!stream_parse_channel(json_string_value(c), &cmd->channels[cmd->nchannels++]))
				ok = refuse(err, errlen, detail, detlen, "unknown channel", json_string_value(c));
		}
		list = json_object_get(root, "symbols");
		if (ok && list != NULL && !json_is_array(list))
			ok = refuse(err, errlen, detail, detlen, "\"symbols\" must be an array of strings", NULL);
		else if (ok && list != NULL && json_array_size(list) > STREAM_MAX_LIST)
			ok = refuse(err, errlen, detail, detlen, "too many symbols in one message",
						"at most 256");
		for (i = 0; ok && list != NULL && i < json_array_size(list); i++)
		{
			json_t	   *s = json_array_get(list, i);
			const char *v = json_is_string(s) ? json_string_value(s) : NULL;
			char		e[STREAM_SYMBOL_MAX];
			char		y[STREAM_SYMBOL_MAX];

			if (v == NULL)
				ok = refuse(err, errlen, detail, detlen, "\"symbols\" must be an array of strings", NULL);
			else if (strlen(v) >= STREAM_SYMBOL_MAX)
				ok = refuse(err, errlen, detail, detlen, "a symbol is at most 127 bytes", NULL);
			else if (strcmp(v, "*") != 0 &&
					 !stream_split_symbol(v, e, sizeof(e), y, sizeof(y)))
				ok = refuse(err, errlen, detail, detlen,
							"a symbol is \"exchange:SYMBOL\" or \"*\"", v);
			else
				snprintf(cmd->symbols[cmd->nsymbols++], STREAM_SYMBOL_MAX, "%s", v);
		}
	}
	json_decref(root);
	return ok;
}

/* ----------------------------------------------------------------
 *		The buffer
 * ----------------------------------------------------------------
 */

void
stream_buf_init(StreamBuf *b, size_t pre)
{
	b->pre = pre;
	b->len = 0;
	b->cap = pre + 512;
	b->data = malloc(b->cap);
	if (b->data == NULL)
		abort();
	b->data[pre] = '\0';
}

void
stream_buf_reset(StreamBuf *b)
{
	b->len = 0;
	b->data[b->pre] = '\0';
}

void
stream_buf_free(StreamBuf *b)
{
	free(b->data);
	b->data = NULL;
}

const char *
stream_buf_text(const StreamBuf *b)
{
	return b->data + b->pre;
}

static void
buf_reserve(StreamBuf *b, size_t more)
{
	if (b->pre + b->len + more + 1 <= b->cap)
		return;
	while (b->pre + b->len + more + 1 > b->cap)
		b->cap *= 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
		abort();				/* the worker is restarted; as palloc would */
}

static void
buf_put(StreamBuf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->pre + b->len, s, n);
	b->len += n;
	b->data[b->pre + b->len] = '\0';
}

static void
buf_puts(StreamBuf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void
buf_printf(StreamBuf *b, const char *fmt,...)
{
	char		tmp[128];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_put(b, tmp, n < (int) sizeof(tmp) ? (size_t) n : sizeof(tmp) - 1);
}

/* A JSON string: quotes, backslash, control characters escaped. */
static void
put_string(StreamBuf *b, const char *s)
{
	buf_put(b, "\"", 1);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			char		e[2] = {'\\', (char) c};

			buf_put(b, e, 2);
		}
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_put(b, s, 1);
	}
	buf_put(b, "\"", 1);
}

/* The shortest decimal that reads back as v; null for NaN or infinity. */
static void
put_number(StreamBuf *b, double v)
{
	char		tmp[40];

	if (!isfinite(v))
	{
		buf_puts(b, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_puts(b, tmp);
}

void
stream_iso_time(int64_t ts, char *out, size_t outlen)
{
	int64_t		us = ts + STREAM_EPOCH_SHIFT_US;
	int64_t		secs = us / 1000000;
	int64_t		frac = us % 1000000;
	time_t		t;
	struct tm	tm;

	if (frac < 0)
	{
		frac += 1000000;
		secs--;
	}
	t = (time_t) secs;
	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac);
}

static void
put_time(StreamBuf *b, int64_t ts)
{
	char		iso[40];

	stream_iso_time(ts, iso, sizeof(iso));
	buf_put(b, "\"", 1);
	buf_puts(b, iso);
	buf_put(b, "\"", 1);
}

/* {"op":op,"exchange":...,"symbol":... (left open; no names when exchange is NULL) */
static void
put_head(StreamBuf *b, const char *op, const char *exchange, const char *symbol)
{
	buf_puts(b, "{\"op\":");
	put_string(b, op);
	if (exchange == NULL)
		return;
	buf_puts(b, ",\"exchange\":");
	put_string(b, exchange);
	buf_puts(b, ",\"symbol\":");
	put_string(b, symbol);
}

/* ----------------------------------------------------------------
 *		The messages
 * ----------------------------------------------------------------
 */

void
stream_write_event(StreamBuf *b, const BusEvent *ev, const char *exchange, const char *symbol)
{
	char		tf[32];
	StreamChannel c;

	switch (ev->kind)
	{
		case BUS_EVENT_TRADE:
			put_head(b, "trade", exchange, symbol);
			buf_puts(b, ",\"ts\":");
			put_time(b, ev->ts);
			buf_puts(b, ",\"price\":");
			put_number(b, ev->u.trade.price);
			buf_puts(b, ",\"qty\":");
			put_number(b, ev->u.trade.qty);
			buf_puts(b, ev->u.trade.taker_buy ? ",\"side\":\"buy\"" : ",\"side\":\"sell\"");
			buf_puts(b, ",\"trade_id\":");
			put_string(b, ev->u.trade.trade_id);
			break;
		case BUS_EVENT_QUOTE:
			put_head(b, "quote", exchange, symbol);
			buf_puts(b, ",\"ts\":");
			put_time(b, ev->ts);
			buf_puts(b, ",\"bid\":");
			put_number(b, ev->u.quote.bid);
			buf_puts(b, ",\"bid_qty\":");
			put_number(b, ev->u.quote.bid_qty);
			buf_puts(b, ",\"ask\":");
			put_number(b, ev->u.quote.ask);
			buf_puts(b, ",\"ask_qty\":");
			put_number(b, ev->u.quote.ask_qty);
			break;
		case BUS_EVENT_CANDLE:
			c.kind = STREAM_CANDLES;
			c.interval_s = ev->u.candle.interval_s;
			put_head(b, "candle", exchange, symbol);
			buf_puts(b, ",\"timeframe\":");
			put_string(b, stream_channel_name(&c, tf, sizeof(tf)) + 8);
			buf_puts(b, ",\"ts\":");
			put_time(b, ev->ts);
			buf_puts(b, ",\"open\":");
			put_number(b, ev->u.candle.open);
			buf_puts(b, ",\"high\":");
			put_number(b, ev->u.candle.high);
			buf_puts(b, ",\"low\":");
			put_number(b, ev->u.candle.low);
			buf_puts(b, ",\"close\":");
			put_number(b, ev->u.candle.close);
			buf_puts(b, ",\"volume\":");
			put_number(b, ev->u.candle.volume);
			buf_puts(b, ",\"closed\":true");
			buf_puts(b, ev->u.candle.from_trades ? ",\"source\":\"trades\"" : ",\"source\":\"exchange\"");
			break;
		case BUS_EVENT_ORDER:
			put_head(b, strcmp(ev->u.order.event, "fill") == 0 ? "fill" : "order", exchange, symbol);
			buf_printf(b, ",\"account_id\":%lld,\"order_id\":%lld,\"event_id\":%lld",
					   (long long) ev->u.order.account_id, (long long) ev->u.order.order_id,
					   (long long) ev->u.order.event_id);
			buf_puts(b, ",\"event\":");
			put_string(b, ev->u.order.event);
			buf_puts(b, ",\"status\":");
			put_string(b, ev->u.order.status);
			buf_puts(b, ",\"qty\":");
			put_number(b, ev->u.order.qty);
			buf_puts(b, ",\"price\":");
			put_number(b, ev->u.order.price);
			buf_puts(b, ",\"ts\":");
			put_time(b, ev->ts);
			break;
		default:
			buf_puts(b, "{\"op\":\"unknown\"");
	}
	buf_printf(b, ",\"seq\":%llu,\"appended_at\":", (unsigned long long) ev->seq);
	put_time(b, ev->appended_at);
	buf_puts(b, "}");
}

void
stream_write_ticker(StreamBuf *b, const char *exchange, const char *symbol,
					double last, double bid, double ask, int64_t ts)
{
	put_head(b, "ticker", exchange, symbol);
	buf_puts(b, ",\"last\":");
	put_number(b, last);
	buf_puts(b, ",\"bid\":");
	put_number(b, bid);
	buf_puts(b, ",\"ask\":");
	put_number(b, ask);
	buf_puts(b, ",\"ts\":");
	put_time(b, ts);
	buf_puts(b, "}");
}

void
stream_write_dropped(StreamBuf *b, uint64_t count)
{
	buf_printf(b, "{\"op\":\"dropped\",\"count\":%llu}", (unsigned long long) count);
}

void
stream_write_pong(StreamBuf *b)
{
	buf_puts(b, "{\"op\":\"pong\"}");
}

void
stream_write_error(StreamBuf *b, const char *message, const char *detail)
{
	buf_puts(b, "{\"op\":\"error\",\"message\":");
	put_string(b, message);
	buf_puts(b, ",\"detail\":");
	if (detail && detail[0])
		put_string(b, detail);
	else
		buf_puts(b, "null");
	buf_puts(b, "}");
}

void
stream_write_ack(StreamBuf *b, const StreamCommand *cmd)
{
	char		name[32];

	buf_puts(b, cmd->op == STREAM_OP_SUBSCRIBE ? "{\"op\":\"subscribed\",\"channels\":["
			 : "{\"op\":\"unsubscribed\",\"channels\":[");
	for (int i = 0; i < cmd->nchannels; i++)
	{
		if (i > 0)
			buf_puts(b, ",");
		put_string(b, stream_channel_name(&cmd->channels[i], name, sizeof(name)));
	}
	buf_puts(b, "],\"symbols\":[");
	for (int i = 0; i < cmd->nsymbols; i++)
	{
		if (i > 0)
			buf_puts(b, ",");
		put_string(b, cmd->symbols[i]);
	}
	buf_puts(b, "]}");
}
