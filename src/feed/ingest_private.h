/*-------------------------------------------------------------------------
 *
 * src/feed/ingest_private.h
 *	  What the ingest writers (ingest.c, trades.c, trade_writes.c,
 *	  candles.c, quotes.c, funding.c) share; not for the rest of zvt.
 *
 * Every function here runs inside the flush's transaction and SPI
 * connection (ingest_flush's caller makes them) and allocates in the
 * current memory context, which the worker resets after each flush.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_INGEST_PRIVATE_H
#define ZVT_INGEST_PRIVATE_H

#include "executor/spi.h"
#include "feed/ingest.h"

/* in ingest.c */
extern TimestampTz ingest_event_ts(const IngestEvent *e);
extern int	ingest_run_kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args);
extern Datum ingest_array(Datum *values, int n, Oid type);
extern Datum ingest_array_with_nulls(Datum *values, bool *nulls, int n, Oid type);
/*
 * The columns of a statement's RETURNING that names closed candles, in
 * this order, for ingest_note_closed_candles.
 */
#define INGEST_CLOSED_COLUMNS \
	"ts, instrument_id, extract(epoch FROM timeframe)::int4, open, high, low, close, " \
	"volume, quote_volume, trade_count, source = 'trades'"
extern void ingest_note_closed_candles(IngestBatch *b, int first_column);

/* in trades.c */
extern int64 ingest_flush_trades(IngestBatch *b);

/* in trade_writes.c: -1 from ingest_direct_trades means "use COPY" */
extern int64 ingest_copy_trades(IngestBatch *b, const bool *pick);
extern int64 ingest_direct_trades(IngestBatch *b, const bool *pick);

/* in candles.c */
extern int64 ingest_flush_candles(IngestBatch *b);

/* in quotes.c */
extern int64 ingest_flush_quotes(IngestBatch *b);

/* in funding.c */
extern int64 ingest_flush_funding(IngestBatch *b);

#endif
