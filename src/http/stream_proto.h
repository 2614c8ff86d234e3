/*-------------------------------------------------------------------------
 *
 * src/http/stream_proto.h
 *	  The /stream WebSocket's messages (pure C, jansson): a client's
 *	  command parsed into a StreamCommand, and every message the server
 *	  sends written as JSON text into a StreamBuf.
 *
 * The protocol is docs/http.md's "Live stream".  Nothing here knows a
 * socket, a role or the database: stream.c resolves symbols, checks
 * rights and queues what is written here.  Unit test:
 * test/unit/test_http_stream.c.
 *
 * Wording: a "channel" is what a client subscribes to (trades, quotes,
 * candles:1m, tickers, orders); an "event" is one entry of the market
 * event ring (bus/ring.h); a "message" is one WebSocket text frame.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_STREAM_PROTO_H
#define ZVT_HTTP_STREAM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/ring.h"

/* the most channels, or symbols, one command may name */
#define STREAM_MAX_LIST 256
/* the longest symbol accepted ("exchange:SYMBOL"), bytes */
#define STREAM_SYMBOL_MAX 128

typedef enum StreamOp
{
	STREAM_OP_SUBSCRIBE = 1,
	STREAM_OP_UNSUBSCRIBE,
	STREAM_OP_PING
} StreamOp;

typedef enum StreamKind
{
	STREAM_TRADES = 1,
	STREAM_QUOTES,
	STREAM_CANDLES,
	STREAM_TICKERS,
	STREAM_ORDERS				/* order events and fills of the role's accounts */
} StreamKind;

/* One channel: its kind and, for candles, the timeframe. */
typedef struct StreamChannel
{
	int			kind;			/* StreamKind */
	int			interval_s;		/* candles: the timeframe in seconds; else 0 */
} StreamChannel;

/* A client's command, as parsed. */
typedef struct StreamCommand
{
	int			op;				/* StreamOp */
	int			nchannels;
	StreamChannel channels[STREAM_MAX_LIST];
	int			nsymbols;		/* 0 when the command named none */
	char		symbols[STREAM_MAX_LIST][STREAM_SYMBOL_MAX];	/* "*" or "exchange:SYMBOL" */
} StreamCommand;

/* A growing message buffer; the text starts after pre bytes of headroom. */
typedef struct StreamBuf
{
	char	   *data;			/* malloc'd: pre bytes, then the text, NUL-terminated */
	size_t		pre;			/* headroom kept before the text (LWS_PRE) */
	size_t		len;			/* text bytes, without headroom and NUL */
	size_t		cap;			/* bytes allocated */
} StreamBuf;

/* in stream_proto.c */

/*
 * Parse one client message.  Returns true and fills cmd, or false with a
 * message in err (and what was wrong in detail, "" when nothing more
 * to say); cmd is then undefined.
 */
extern bool stream_parse_command(const char *text, size_t len, StreamCommand *cmd,
								 char *err, size_t errlen, char *detail, size_t detlen);

/* A channel's name ("candles:1m") into out; returns out. */
extern const char *stream_channel_name(const StreamChannel *c, char *out, size_t outlen);

/*
 * Parse a channel name; false when unknown.  Timeframes are N followed by
 * s, m, h or d, from 1 s to 7 d.
 */
extern bool stream_parse_channel(const char *name, StreamChannel *out);

/* Split "exchange:SYMBOL" (into exchange, symbol); false when malformed. */
extern bool stream_split_symbol(const char *s, char *exchange, size_t elen,
								char *symbol, size_t slen);

/* An empty buffer with pre bytes of headroom; aborts on malloc failure. */
extern void stream_buf_init(StreamBuf *b, size_t pre);
extern void stream_buf_reset(StreamBuf *b);
extern void stream_buf_free(StreamBuf *b);
/* The text written so far. */
extern const char *stream_buf_text(const StreamBuf *b);

/*
 * The messages.  Each appends one whole JSON object to b (which callers
 * reset between messages).  exchange and symbol name the event's
 * instrument (an order event has none: NULL leaves them out); times are PostgreSQL TimestampTz values written as
 * ISO-8601 UTC with microseconds; NaN numbers are written as null.
 */
extern void stream_write_event(StreamBuf *b, const BusEvent *ev,
							   const char *exchange, const char *symbol);
extern void stream_write_ticker(StreamBuf *b, const char *exchange, const char *symbol,
								double last, double bid, double ask, int64_t ts);
extern void stream_write_dropped(StreamBuf *b, uint64_t count);
extern void stream_write_pong(StreamBuf *b);
extern void stream_write_error(StreamBuf *b, const char *message, const char *detail);
extern void stream_write_ack(StreamBuf *b, const StreamCommand *cmd);

/* TimestampTz (microseconds since 2000-01-01 UTC) as ISO-8601 into out (32 bytes). */
extern void stream_iso_time(int64_t ts, char *out, size_t outlen);

#endif							/* ZVT_HTTP_STREAM_PROTO_H */
