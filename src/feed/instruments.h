/*-------------------------------------------------------------------------
 *
 * src/feed/instruments.h
 *	  Exchange instrument lists (REST) -> normalized instruments.
 *
 * Pure C (jansson).  Each exchange's list endpoint answers differently;
 * instruments_parse() turns one response body into FeedInstruments with
 * sizes as exact decimal text, ready to upsert into zvt.instruments.
 * Sizes are in base units: an OKX swap's lot (contracts) is multiplied by
 * its ctVal, which is also its contract_size.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_INSTRUMENTS_H
#define FEED_INSTRUMENTS_H

#include <stdbool.h>
#include <stddef.h>

#define INS_DEC_LEN 40

typedef struct FeedInstrument
{
	char		symbol[40];		/* BTC-USDT, BTC-USDT-PERP */
	char		raw_symbol[48];	/* the exchange's own name */
	char		base[24];
	char		quote[24];
	bool		perp;
	char		tick_size[INS_DEC_LEN];		/* decimal text; "" = unknown */
	char		lot_size[INS_DEC_LEN];
	char		min_notional[INS_DEC_LEN];
	char		contract_size[INS_DEC_LEN];
	char		status[16];		/* trading, halted, preopen, ... */
} FeedInstrument;

typedef void (*FeedInstrumentSink) (void *arg, const FeedInstrument *ins);

/*
 * Parse one response body of exchange, calling sink for each instrument
 * zvt can trade (spot, and linear perpetuals).  Returns the number passed
 * to sink, or -1 with reason set when the body is an error reply or not
 * the expected shape.
 */
extern int	instruments_parse(const char *exchange, const char *body, size_t len,
							  FeedInstrumentSink sink, void *arg,
							  char *reason, size_t reasonlen);

/*
 * The cursor of the page after this response, for exchanges whose lists
 * come in pages (Bybit's linear instruments: result.nextPageCursor).
 * Returns 1 with the cursor in cursor when there is a next page, 0 when
 * this was the last (or the exchange does not page), -1 with reason set
 * when the cursor is not URL-safe text (percent-encoded, as Bybit sends
 * it) or does not fit.
 */
extern int	instruments_next_page(const char *exchange, const char *body, size_t len,
								  char *cursor, size_t cursorlen,
								  char *reason, size_t reasonlen);

/* Exact product of two decimal texts into out; false on bad input or overflow. */
extern bool dec_mul(const char *a, const char *b, char *out, size_t outlen);

#endif
