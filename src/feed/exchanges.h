/*-------------------------------------------------------------------------
 *
 * src/feed/exchanges.h
 *	  The exchanges zvt has adapters for, and what zvt knows of each.
 *
 * Pure C.  An exchange's index in feed_exchanges is its id inside zvt:
 * feed workers, their counters and their generations in shared memory are
 * numbered by it (never stored on disk; zvt.exchanges is keyed by name).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_EXCHANGES_H
#define FEED_EXCHANGES_H

#include "feed_subscribe.h"

#define FEED_EXCHANGES	4		/* binance, bybit, okx, coinbase */

typedef struct FeedExchange
{
	const char *name;			/* as in zvt.exchanges.name */
	const FeedSpec *spec;		/* WebSocket endpoints, streams, parser */
	const char *const *instrument_paths;	/* REST paths of its instrument
											 * lists, NULL-terminated */
} FeedExchange;

/* in exchanges.c */
extern const FeedExchange feed_exchanges[FEED_EXCHANGES];
extern int	feed_exchange_index(const char *name);

#endif							/* FEED_EXCHANGES_H */
