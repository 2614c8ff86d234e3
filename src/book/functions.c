/*-------------------------------------------------------------------------
 *
 * src/book/functions.c
 *	  SQL functions over the live order books: zvt.book(exchange, symbol,
 *	  depth) and zvt._books() (the zvt.books view).
 *
 * Both read shared memory only (store.c): no table, no lock a writer
 * holds.  Prices and sizes leave as numeric with the fewest decimals
 * that keep them exact (they are 10^-8 units inside).  Books are public
 * market data: everyone may read them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "book/store.h"

PG_FUNCTION_INFO_V1(zvt_book);
PG_FUNCTION_INFO_V1(zvt_books);

/*
 * The copy zvt.book reads into: 32 kB, above palloc's chunk limit, so a
 * fresh one per call would be a malloc and a free; one per backend, in
 * TopMemoryContext, is reused (the function does not recurse).
 */
static BookCopy *book_copy = NULL;

/* v (10^-8 units) as an exact numeric without trailing zeros. */
static Datum
units_numeric(int64 v)
{
	int			scale = BOOK_SCALE_DIGITS;

	while (scale > 0 && v % 10 == 0)
	{
		v /= 10;
		scale--;
	}
	return NumericGetDatum(int64_div_fast_to_numeric(v, scale));
}

static void
put_side(ReturnSetInfo *rsinfo, const char *side, const int64 *px, const int64 *qty, int n)
{
	for (int i = 0; i < n; i++)
	{
		Datum		v[4];
		bool		nulls[4] = {false};

		v[0] = CStringGetTextDatum(side);
		v[1] = Int32GetDatum(i + 1);
		v[2] = units_numeric(px[i]);
		v[3] = units_numeric(qty[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

/*
 * zvt.book(exchange text, symbol text, depth int DEFAULT 10) RETURNS TABLE
 * (side text, level int, price numeric, size numeric): the bids best
 * first, then the asks; no rows when the book is not subscribed or has
 * had no snapshot yet.
 */
Datum
zvt_book(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *exchange = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *symbol = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		depth = PG_GETARG_INT32(2);
	BookCopy   *copy;

	if (depth < 1 || depth > BOOK_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("depth must be between 1 and %d", BOOK_MAX_DEPTH)));
	InitMaterializedSRF(fcinfo, 0);
	if (book_copy == NULL)
		book_copy = MemoryContextAlloc(TopMemoryContext, sizeof(BookCopy));
	copy = book_copy;
	if (book_store_read(exchange, symbol, depth, copy))
	{
		put_side(rsinfo, "bid", copy->bid_px, copy->bid_qty, copy->nbids);
		put_side(rsinfo, "ask", copy->ask_px, copy->ask_qty, copy->nasks);
	}
	PG_RETURN_VOID();
}

/*
 * zvt._books() RETURNS TABLE (exchange text, symbol text, depth int,
 *   live bool, seq bigint, updated_at timestamptz, updates bigint,
 *   level_updates bigint, resyncs bigint, bids int, asks int)
 */
Datum
zvt_books(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BookCopy   *all;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = book_store_list(&all);
	for (int i = 0; i < n; i++)
	{
		Datum		v[11];
		bool		nulls[11] = {false};

		v[0] = CStringGetTextDatum(all[i].exchange);
		v[1] = CStringGetTextDatum(all[i].symbol);
		v[2] = Int32GetDatum(all[i].depth);
		v[3] = BoolGetDatum(all[i].live);
		v[4] = Int64GetDatum(all[i].seq);
		v[5] = TimestampTzGetDatum(all[i].updated_at);
		nulls[5] = all[i].updated_at == 0;
		v[6] = Int64GetDatum(all[i].updates);
		v[7] = Int64GetDatum(all[i].level_updates);
		v[8] = Int64GetDatum(all[i].resyncs);
		v[9] = Int32GetDatum(all[i].nbids);
		v[10] = Int32GetDatum(all[i].nasks);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	PG_RETURN_VOID();
}
