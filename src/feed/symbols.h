/*-------------------------------------------------------------------------
 *
 * src/feed/symbols.h
 *	  A feed worker's symbol map: every instrument of its exchange, by
 *	  zvt's symbol and by the exchange's raw symbol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_SYMBOLS_H
#define FEED_SYMBOLS_H

#include "feed/feed_event.h"

typedef struct FeedSymbol
{
	char		symbol[FEED_SYMBOL_LEN];	/* zvt's, "BTC-USDT-PERP" */
	char		raw[48];		/* the exchange's, "BTC-USDT-SWAP" */
	int32		id;				/* zvt.instruments.id */
	double		contract_size;	/* base units per contract, 0 unknown */
} FeedSymbol;

typedef struct FeedSymbolMap FeedSymbolMap;

/* in symbols.c */
extern FeedSymbolMap *feed_symbols_load(const char *exchange);
extern void feed_symbols_free(FeedSymbolMap *map);
extern const FeedSymbol *feed_symbols_find(const FeedSymbolMap *map, const char *symbol);
extern const FeedSymbol *feed_symbols_find_raw(const FeedSymbolMap *map, const char *raw);
extern int	feed_symbols_count(const FeedSymbolMap *map);

#endif							/* FEED_SYMBOLS_H */
