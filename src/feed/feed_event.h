/*-------------------------------------------------------------------------
 *
 * src/feed/feed_event.h
 *	  The normalized market events every exchange adapter produces, and the
 *	  parser contract they share.
 *
 * Pure C (jansson, no PostgreSQL header): the feed worker hands each
 * received text frame to its exchange's parser, which fills FeedEvents
 * (trade, candle, quote; a book message as one FEED_BOOK event followed
 * by its FEED_BOOK_LEVEL events; a perpetual's mark price and funding as
 * FEED_FUNDING) and says what else the frame was (an
 * ack, an error reply, a reconnect notice, garbage).  One normalization path: the
 * worker never looks at exchange JSON itself.
 *
 * Wording: "taker_buy" is true when the aggressor bought; times are Unix
 * microseconds; quantities are base units (OKX swap contracts are
 * converted with ctVal through the context).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_EVENT_H
#define FEED_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book/book.h"

#define FEED_SYMBOL_LEN		40
#define FEED_ID_LEN			64
#define FEED_REASON_LEN		256

typedef enum FeedEventKind
{
	FEED_TRADE,
	FEED_CANDLE,
	FEED_QUOTE,
	FEED_BOOK,					/* one book message; its levels follow */
	FEED_BOOK_LEVEL,			/* one level of the FEED_BOOK before it */
	FEED_FUNDING				/* a perpetual's mark, index, funding rate */
} FeedEventKind;

typedef struct FeedEvent
{
	FeedEventKind kind;
	char		symbol[FEED_SYMBOL_LEN];	/* normalized: BTC-USDT, BTC-USDT-PERP */
	int64_t		ts;				/* exchange event time, us; 0 = none given */
	/* trade */
	char		trade_id[FEED_ID_LEN];
	double		price;
	double		qty;			/* base units */
	bool		taker_buy;
	/* candle */
	int32_t		interval_s;		/* timeframe in seconds */
	double		open, high, low, close;
	double		volume;			/* base units */
	double		quote_volume;	/* NaN when the exchange does not say */
	int64_t		trade_count;	/* -1 when the exchange does not say */
	bool		closed;
	bool		closes_earlier; /* no closed flag: this bar closes the stream's earlier ones (Coinbase) */
	/* quote */
	int64_t		seq;			/* the exchange's update id; 0 = none */
	double		bid, bid_qty, ask, ask_qty;
	/* book: seq is the last update id (Binance u, Bybit u, OKX seqId) */
	bool		book_snapshot;
	int64_t		book_first;		/* Binance U; else = seq */
	int64_t		book_prev;		/* OKX prevSeqId (-1 on a snapshot); Binance futures pu; else 0 */
	bool		book_has_checksum;	/* OKX sent a checksum other than 0 */
	int32_t		book_checksum;
	int32_t		book_levels;	/* FEED_BOOK_LEVEL events that follow */
	BookUpdate	level;			/* FEED_BOOK_LEVEL: side, price, size as sent */
	/* funding (NaN: the message did not carry it; 0 funding_ts: none) */
	double		mark_price;
	double		index_price;
	double		funding_rate;	/* the rate of the next funding time, a fraction */
	int64_t		funding_ts;		/* the next funding time, Unix us */
	double		open_interest;	/* base units */
} FeedEvent;

/* What a frame was, besides its events. */
typedef enum FeedFrameKind
{
	FEED_FRAME_DATA,			/* market data (events may still be 0) */
	FEED_FRAME_CONTROL,			/* ack, pong, heartbeat, subscription list */
	FEED_FRAME_ERROR,			/* the exchange's error reply: see reason */
	FEED_FRAME_RECONNECT,		/* shutdown notice: reconnect now */
	FEED_FRAME_IGNORED,			/* a well-formed stream zvt does not store */
	FEED_FRAME_MALFORMED		/* not what the exchange sends: see reason */
} FeedFrameKind;

typedef struct FeedFrame
{
	FeedFrameKind kind;
	int64_t		conn_seq;		/* Coinbase sequence_num, else -1 */
	char		reason[FEED_REASON_LEN];
} FeedFrame;

/*
 * What a parser may need to know about the connection.  contract_size
 * returns the base units of one contract of a derivative (OKX ctVal), or
 * 0 when unknown (then the frame is MALFORMED: sizes cannot be trusted).
 */
typedef struct FeedContext
{
	bool		linear;			/* Bybit /linear, Binance USD-M futures: perpetuals */
	double		(*contract_size) (void *arg, const char *raw_symbol);
	void	   *arg;
} FeedContext;

/*
 * Parse one text frame of len bytes into at most max events.  Returns the
 * number of events written; frame says what the frame was.  Never reads
 * past len, never allocates outside jansson, and never aborts: malformed
 * input gives 0 events, FEED_FRAME_MALFORMED and a reason naming the field.
 */
typedef int (*FeedParser) (const char *msg, size_t len, const FeedContext *ctx,
						   FeedEvent *out, int max, FeedFrame *frame);

extern int	binance_parse(const char *msg, size_t len, const FeedContext *ctx,
						  FeedEvent *out, int max, FeedFrame *frame);
extern int	bybit_parse(const char *msg, size_t len, const FeedContext *ctx,
						FeedEvent *out, int max, FeedFrame *frame);
extern int	okx_parse(const char *msg, size_t len, const FeedContext *ctx,
					  FeedEvent *out, int max, FeedFrame *frame);
extern int	coinbase_parse(const char *msg, size_t len, const FeedContext *ctx,
						   FeedEvent *out, int max, FeedFrame *frame);

/*
 * A Binance kline interval ("1m", "4h", "1d", ...) -> seconds; 0 for one
 * zvt does not store ("1M") or that is not NUMBER UNIT.  Reads no byte
 * past the string's terminator.
 */
extern int32_t binance_interval_seconds(const char *interval);

/*
 * A Binance REST depth snapshot (/api/v3/depth) of symbol (normalized) ->
 * one FEED_BOOK snapshot event (seq = lastUpdateId) and its levels.
 * Returns the number of events, as a parser does.
 */
extern int	binance_parse_depth(const char *msg, size_t len, const char *symbol,
								FeedEvent *out, int max, FeedFrame *frame);

/* in book_parse.c */

/*
 * Start a book message at out[0] (fills the FEED_BOOK event; the caller
 * sets its sequence fields) and append the levels of the JSON arrays
 * bids and asks ([[price, size, ...], ...], either may be NULL).  Returns
 * the number of events written (1 + levels), or 0 with frame malformed.
 */
struct json_t;
extern int	feed_book_levels(const char *what, const char *symbol, struct json_t *bids,
							 struct json_t *asks, FeedEvent *out, int max, FeedFrame *frame);

/* in feed_normalize.c */

/*
 * "BTCUSDT" -> "BTC-USDT" (or "BTC-USDT-PERP" when perp), splitting off a
 * known quote currency.  False when no known quote ends the symbol.
 */
extern bool feed_split_concat(const char *raw, bool perp, char *out, size_t outlen);

/* "BTC-USDT-SWAP" -> "BTC-USDT-PERP"; "BTC-USDT" stays.  False if not BASE-QUOTE[-SWAP]. */
extern bool feed_normalize_dashed(const char *raw, char *out, size_t outlen);

/* RFC 3339 UTC ("2026-09-30T01:41:25.375232Z", up to ns) -> Unix us. */
extern bool feed_parse_rfc3339(const char *s, int64_t *us);

/* Decimal text -> double; false unless the whole string is a finite number. */
extern bool feed_parse_decimal(const char *s, double *out);

/* Clear the funding fields of e (NaN, no funding time): nothing known yet. */
extern void feed_funding_init(FeedEvent *e);

#endif							/* FEED_EVENT_H */
