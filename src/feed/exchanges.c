/*-------------------------------------------------------------------------
 *
 * src/feed/exchanges.c
 *	  The exchange registry: one row per exchange zvt has an adapter for.
 *
 * Adding an exchange means an adapter (adapter_<name>.c with its FeedSpec),
 * an instruments parser (instruments.c), a row here and a row in
 * zvt.exchanges (sql/20_market.sql).  Everything else (the launcher, the
 * feed workers, zvt.feed_status, zvt.sync_instruments) iterates this
 * table.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#include "exchanges.h"

#include <string.h>

/*
 * REST paths of the instrument lists; instruments.c parses each answer.
 * A path under /fapi/ is Binance USD-M futures, asked of the exchange's
 * futures_rest_url (skipped when that is NULL).
 */
static const char *const binance_paths[] = {"/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo", NULL};
static const char *const bybit_paths[] = {
	"/v5/market/instruments-info?category=spot&limit=1000",
	"/v5/market/instruments-info?category=linear&limit=1000", NULL
};
static const char *const okx_paths[] = {
	"/api/v5/public/instruments?instType=SPOT",
	"/api/v5/public/instruments?instType=SWAP", NULL
};
static const char *const coinbase_paths[] = {"/api/v3/brokerage/market/products?product_type=SPOT", NULL};

const FeedExchange feed_exchanges[FEED_EXCHANGES] = {
	{"binance", &binance_spec, binance_paths},
	{"bybit", &bybit_spec, bybit_paths},
	{"okx", &okx_spec, okx_paths},
	{"coinbase", &coinbase_spec, coinbase_paths},
};

/* The index of the exchange called name, or -1 when zvt has no adapter for it. */
int
feed_exchange_index(const char *name)
{
	for (int i = 0; name && i < FEED_EXCHANGES; i++)
		if (strcmp(feed_exchanges[i].name, name) == 0)
			return i;
	return -1;
}
