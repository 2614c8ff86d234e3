/*-------------------------------------------------------------------------
 *
 * src/feed/symbols.c
 *	  A feed worker's symbol map: every instrument of its exchange in two
 *	  hash tables (PostgreSQL's simplehash), by symbol and by raw symbol.
 *
 * The worker maps each parsed event's symbol to its instrument id, and the
 * parser thread asks OKX contract sizes by raw symbol.  A map holds every
 * instrument zvt.instruments lists for the exchange (thousands after
 * zvt.sync_instruments), sized from the catalog when it is loaded; the
 * worker loads a fresh one whenever its subscriptions or the exchange's
 * instruments change, swaps it in, then frees the old one.
 *
 * Memory: a map lives in a memory context of its own (a child of
 * TopMemoryContext), so freeing it is one MemoryContextDelete.  Lookups
 * neither allocate nor raise, so the parser thread may call them (it holds
 * the parser's context lock, under which the worker swaps maps); loading
 * runs on the main thread only, inside a transaction with SPI connected.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "feed/symbols.h"

/* one hash entry: the key points into the map's FeedSymbol array */
typedef struct SymbolEntry
{
	const char *key;
	const FeedSymbol *sym;
	char		status;			/* simplehash's */
} SymbolEntry;

#define SH_PREFIX		symtab
#define SH_ELEMENT_TYPE	SymbolEntry
#define SH_KEY_TYPE		const char *
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	hash_bytes((const unsigned char *) (k), (int) strlen(k))
#define SH_EQUAL(tb, a, b)	(strcmp((a), (b)) == 0)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct FeedSymbolMap
{
	MemoryContext cxt;			/* holds everything below */
	FeedSymbol *syms;
	int			n;
	symtab_hash *by_symbol;
	symtab_hash *by_raw;
};

/*
 * Load every instrument of exchange from zvt.instruments into a new map.
 * The caller runs a transaction with SPI connected; the map is allocated
 * outside SPI's memory and outlives the transaction.  Errors raise (and
 * leak nothing: the map's context is deleted first).
 */
FeedSymbolMap *
feed_symbols_load(const char *exchange)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(exchange)};
	MemoryContext cxt;
	MemoryContext old;
	FeedSymbolMap *map;

	if (SPI_execute_with_args("SELECT symbol, raw_symbol, id, coalesce(contract_size, 0)::float8 "
							  "  FROM zvt.instruments WHERE exchange = $1 ORDER BY id",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.instruments");

	cxt = AllocSetContextCreate(TopMemoryContext, "zvt feed symbols", ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		old = MemoryContextSwitchTo(cxt);
		map = palloc0(sizeof(FeedSymbolMap));
		map->cxt = cxt;
		map->syms = palloc0(sizeof(FeedSymbol) * Max(SPI_processed, 1));
		/* sized from the catalog: no growth while filling */
		map->by_symbol = symtab_create(cxt, (uint32) Max(SPI_processed, 16), NULL);
		map->by_raw = symtab_create(cxt, (uint32) Max(SPI_processed, 16), NULL);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			FeedSymbol *s = &map->syms[map->n];
			bool		isnull;
			bool		found;
			SymbolEntry *e;

			strlcpy(s->symbol, SPI_getvalue(t, d, 1), sizeof(s->symbol));
			strlcpy(s->raw, SPI_getvalue(t, d, 2), sizeof(s->raw));
			s->id = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
			s->contract_size = DatumGetFloat8(SPI_getbinval(t, d, 4, &isnull));
			map->n++;
			e = symtab_insert(map->by_symbol, s->symbol, &found);
			e->sym = s;
			/* two symbols of one raw name (BTCUSDT spot and perp on Bybit): the first */
			e = symtab_insert(map->by_raw, s->raw, &found);
			if (!found)
				e->sym = s;
		}
		MemoryContextSwitchTo(old);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return map;
}

void
feed_symbols_free(FeedSymbolMap *map)
{
	if (map)
		MemoryContextDelete(map->cxt);
}

/* The instrument of zvt's symbol, or NULL (also for a NULL map). */
const FeedSymbol *
feed_symbols_find(const FeedSymbolMap *map, const char *symbol)
{
	SymbolEntry *e;

	if (map == NULL)
		return NULL;
	e = symtab_lookup(map->by_symbol, symbol);
	return e ? e->sym : NULL;
}

/* The instrument of the exchange's raw symbol, or NULL. */
const FeedSymbol *
feed_symbols_find_raw(const FeedSymbolMap *map, const char *raw)
{
	SymbolEntry *e;

	if (map == NULL)
		return NULL;
	e = symtab_lookup(map->by_raw, raw);
	return e ? e->sym : NULL;
}

int
feed_symbols_count(const FeedSymbolMap *map)
{
	return map ? map->n : 0;
}
