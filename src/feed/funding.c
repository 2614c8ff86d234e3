/*-------------------------------------------------------------------------
 *
 * src/feed/funding.c
 *	  Funding events of a batch -> zvt.funding, ON CONFLICT DO NOTHING.
 *
 * A perpetual's mark price, index price, funding rate, next funding time
 * and open interest arrive as FEED_FUNDING events.  Binance sends them
 * all in every markPriceUpdate; Bybit's tickers deltas and OKX's two
 * channels (funding-rate, mark-price) carry only some, the others NaN.
 * So that every row says the whole state at its time, a field an event
 * lacks is taken from the last event of its instrument (this worker's
 * cache, a small open-addressing table keyed by instrument id, kept for
 * the worker's life); a row that still lacks a funding rate or a next
 * funding time (OKX's mark before its first funding-rate message) is
 * stored with NULLs there.  One INSERT ... SELECT FROM unnest() per
 * flush, keyed by (instrument_id, ts): a replayed message is stored once.
 *
 *-------------------------------------------------------------------------
 */

#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

#define FUNDING_CACHE 1024		/* instruments; past it, no completion */

typedef struct FundingLast
{
	int32		instrument_id;	/* 0: free */
	double		mark_price;
	double		index_price;
	double		funding_rate;
	int64		funding_ts;		/* Unix us, 0 = none */
	double		open_interest;
} FundingLast;

static FundingLast funding_last[FUNDING_CACHE];

/* The cache slot of instrument_id (claimed when free), or NULL when full. */
static FundingLast *
last_of(int32 instrument_id)
{
	uint32		h = (uint32) instrument_id * 2654435761u;

	for (int k = 0; k < FUNDING_CACHE; k++)
	{
		FundingLast *f = &funding_last[(h + k) % FUNDING_CACHE];

		if (f->instrument_id == instrument_id)
			return f;
		if (f->instrument_id == 0)
		{
			f->instrument_id = instrument_id;
			f->mark_price = f->index_price = f->funding_rate = f->open_interest = NAN;
			f->funding_ts = 0;
			return f;
		}
	}
	return NULL;
}

/* Fill e's missing fields from the instrument's last event, and remember e's. */
static void
complete(IngestEvent *e)
{
	FundingLast *f = last_of(e->instrument_id);
	FeedEvent  *v = &e->ev;

	if (f == NULL)
		return;
#define FILL(field, missing) \
	do { if (missing) v->field = f->field; else f->field = v->field; } while (0)
	FILL(mark_price, isnan(v->mark_price));
	FILL(index_price, isnan(v->index_price));
	FILL(funding_rate, isnan(v->funding_rate));
	FILL(funding_ts, v->funding_ts == 0);
	FILL(open_interest, isnan(v->open_interest));
#undef FILL
}

/* Funding events: every one of the batch, ON CONFLICT DO NOTHING; returns rows inserted. */
int64
ingest_flush_funding(IngestBatch *b)
{
	static SPIPlanPtr funding_plan;
	int			n = 0;
	Datum	   *c[8];
	bool	   *nulls[8];
	Oid			elem[8] = {TIMESTAMPTZOID, INT4OID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	TIMESTAMPTZOID, FLOAT8OID, TIMESTAMPTZOID};
	Oid			types[8] = {TIMESTAMPTZARRAYOID, INT4ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[8];
	int			ret;

	for (int i = 0; i < b->n; i++)
		if (b->events[i].ev.kind == FEED_FUNDING)
			n++;
	if (n == 0)
		return 0;
	for (int k = 0; k < 8; k++)
	{
		c[k] = palloc(sizeof(Datum) * n);
		nulls[k] = palloc0(sizeof(bool) * n);
	}
	n = 0;
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		double		f[3];

		if (e->ev.kind != FEED_FUNDING)
			continue;
		complete(e);
		f[0] = e->ev.mark_price;
		f[1] = e->ev.index_price;
		f[2] = e->ev.funding_rate;
		c[0][n] = TimestampTzGetDatum(ingest_event_ts(e));
		c[1][n] = Int32GetDatum(e->instrument_id);
		for (int k = 0; k < 3; k++)
		{
			c[2 + k][n] = Float8GetDatum(f[k]);
			nulls[2 + k][n] = isnan(f[k]);
		}
		c[5][n] = TimestampTzGetDatum((TimestampTz) (e->ev.funding_ts - ZT_PG_EPOCH_OFFSET));
		nulls[5][n] = e->ev.funding_ts == 0;
		c[6][n] = Float8GetDatum(e->ev.open_interest);
		nulls[6][n] = isnan(e->ev.open_interest);
		c[7][n] = TimestampTzGetDatum(e->local_ts);
		n++;
	}
	for (int k = 0; k < 8; k++)
		args[k] = ingest_array_with_nulls(c[k], nulls[k], n, elem[k]);
	ret = ingest_run_kept(&funding_plan,
						  "INSERT INTO zvt.funding (ts, instrument_id, mark_price, index_price, funding_rate, "
						  "                         next_funding_time, open_interest, local_ts) "
						  "SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) "
						  "ON CONFLICT (instrument_id, ts) DO NOTHING",
						  8, types, args);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert funding rows: %s", SPI_result_code_string(ret));
	return (int64) SPI_processed;
}
