/*-------------------------------------------------------------------------
 *
 * src/feed/quotes.c
 *	  Quotes of a batch: best bid and ask, ON CONFLICT DO NOTHING.
 *
 * One INSERT ... SELECT FROM unnest() per flush, keyed by (instrument_id,
 * ts, seq), so a replayed quote is stored once.
 *
 *-------------------------------------------------------------------------
 */

#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/timestamp.h"

#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

static uint32
quote_key_hash(int32 instrument_id, TimestampTz ts, int64 seq)
{
	return (uint32) instrument_id * 2654435761u ^ (uint32) ts ^ (uint32) (ts >> 32) ^
		(uint32) seq * 40503u ^ (uint32) (seq >> 32);
}

/*
 * The rows of SPI_tuptable (instrument_id, ts, seq) are the quotes the
 * INSERT really inserted: mark each one's first occurrence in the batch
 * stored (rows are inserted in the batch's order, so a repeat within the
 * batch is the one that met the conflict).
 */
static void
mark_inserted_quotes(IngestBatch *b)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	int			size = b->n * 2 + 1;
	int		   *table = palloc(sizeof(int) * size);

	memset(table, -1, sizeof(int) * size);
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		uint32		h;

		if (e->ev.kind != FEED_QUOTE)
			continue;
		h = quote_key_hash(e->instrument_id, ingest_event_ts(e), e->ev.seq);
		for (int k = 0; k < size; k++)
		{
			int		   *slot = &table[(h + k) % size];
			IngestEvent *o;

			if (*slot < 0)
			{
				*slot = i;
				break;
			}
			o = &b->events[*slot];
			if (o->instrument_id == e->instrument_id && o->ev.seq == e->ev.seq &&
				ingest_event_ts(o) == ingest_event_ts(e))
				break;			/* a repeat: the first one stands for it */
		}
	}
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		bool		isnull;
		int32		id = DatumGetInt32(SPI_getbinval(t, desc, 1, &isnull));
		TimestampTz ts = DatumGetTimestampTz(SPI_getbinval(t, desc, 2, &isnull));
		int64		seq = DatumGetInt64(SPI_getbinval(t, desc, 3, &isnull));
		uint32		h = quote_key_hash(id, ts, seq);

		for (int k = 0; k < size; k++)
		{
			int			slot = table[(h + k) % size];
			IngestEvent *o;

			if (slot < 0)
				break;
			o = &b->events[slot];
			if (o->instrument_id == id && o->ev.seq == seq && ingest_event_ts(o) == ts)
			{
				o->stored = true;
				break;
			}
		}
	}
}

/* Quotes: every one of the batch, ON CONFLICT DO NOTHING; returns rows inserted. */
int64
ingest_flush_quotes(IngestBatch *b)
{
	static SPIPlanPtr quote_plan;
	int			n = 0;
	Datum	   *c[8];
	bool	   *nulls[8];
	Oid			elem[8] = {TIMESTAMPTZOID, INT4OID, INT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, TIMESTAMPTZOID};
	Oid			types[8] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, INT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[8];

	for (int k = 0; k < 8; k++)
	{
		c[k] = palloc(sizeof(Datum) * b->n);
		nulls[k] = palloc0(sizeof(bool) * b->n);
	}
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		double		f[4] = {e->ev.bid, e->ev.bid_qty, e->ev.ask, e->ev.ask_qty};

		if (e->ev.kind != FEED_QUOTE)
			continue;
		c[0][n] = TimestampTzGetDatum(ingest_event_ts(e));
		c[1][n] = Int32GetDatum(e->instrument_id);
		c[2][n] = Int64GetDatum(e->ev.seq);
		for (int k = 0; k < 4; k++)
		{
			c[3 + k][n] = Float8GetDatum(f[k]);
			nulls[3 + k][n] = isnan(f[k]);
		}
		c[7][n] = TimestampTzGetDatum(e->local_ts);
		n++;
	}
	if (n == 0)
		return 0;
	for (int k = 0; k < 8; k++)
		args[k] = ingest_array_with_nulls(c[k], nulls[k], n, elem[k]);
	if (ingest_run_kept(&quote_plan,
				 "INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, bid_qty, ask, ask_qty, local_ts) "
				 "SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) "
				 "ON CONFLICT (instrument_id, ts, seq) DO NOTHING "
				 "RETURNING instrument_id, ts, seq",
				 8, types, args) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert quotes");
	mark_inserted_quotes(b);
	return (int64) SPI_processed;
}
