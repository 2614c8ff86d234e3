/*-------------------------------------------------------------------------
 *
 * src/storage/rollup_refresh.c
 *	  zvt._refresh_candle_rollups(): take in the invalidation log and
 *	  move each roll-up's watermark up; what the maintenance worker does
 *	  every pass (maintenance.c), as the roll-ups' owner.
 *
 * One transaction, holding EXCLUSIVE on zvt._rollup_state (one refresh
 * at a time; readers, who take ACCESS SHARE, go on):
 *
 *	1. DELETE ... RETURNING every log entry this snapshot sees, merged
 *	   per instrument.  Entries committed later stay for the next pass.
 *	2. For each timeframe T with watermark W (none: -infinity):
 *	   a. each logged range, widened to T's buckets and cut at W, is
 *	      recomputed from the 1-minute candles: its bars deleted and
 *	      written again (a range above W is the tail: nothing to do);
 *	   b. the buckets from W to the one holding now() are computed and
 *	      written (the first pass computes all history), and W moves to
 *	      the bucket holding now().
 *
 * Why results stay exact (ohlcv.c reads materialized bars only below W
 * and outside every log entry it sees): a write commits with its log
 * entry.  A write this refresh's snapshot saw is in what it computed; one
 * it did not see left its entry in the log (step 1 deleted only entries
 * it saw), so readers that see the write also see the entry and compute
 * that range on the fly, and the next pass recomputes it.
 *
 * The caller must have the privileges of the owner of zvt._rollup_candles
 * (42501); everything runs as that owner under SECURITY_RESTRICTED_
 * OPERATION (storage_run_as), so a superuser's pass runs no other role's
 * code with its rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "storage/chunk.h"
#include "storage/rollup.h"

PG_FUNCTION_INFO_V1(zvt_refresh_candle_rollups);

#define BATCH_BARS	5000
#define NCOLS		12

/* a logged range, merged: [lo, hi) of one instrument, or of all */
typedef struct Inval
{
	bool		all;
	int32		instrument_id;
	TimestampTz lo;
	TimestampTz hi;
} Inval;

/* bars waiting to be written, as column arrays for one INSERT */
typedef struct Batch
{
	Datum		timeframe;
	int			n;
	int64		written;		/* bars written in total */
	Datum		cols[NCOLS][BATCH_BARS];
	bool		nulls[NCOLS][BATCH_BARS];
} Batch;

static const Oid col_types[NCOLS] = {INT4OID, TIMESTAMPTZOID, FLOAT8OID, FLOAT8OID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, INT8OID, BOOLOID, TEXTOID, TIMESTAMPTZOID};

static int	inval_cmp(const void *a, const void *b);
static int	take_log(Inval **out, int *merged);
static void recompute(Batch *batch, bool one, int32 instrument_id, int64 width,
					  TimestampTz lo, TimestampTz hi);
static void batch_add(void *arg, int32 instrument_id, const CaBar *bar);
static void batch_flush(Batch *batch);

static int
inval_cmp(const void *a, const void *b)
{
	const Inval *x = a;
	const Inval *y = b;

	if (x->all != y->all)
		return x->all ? -1 : 1;
	if (x->instrument_id != y->instrument_id)
		return x->instrument_id < y->instrument_id ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/*
 * Step 1: every log entry this snapshot sees, deleted, sorted and merged
 * (overlapping or adjacent ranges of one instrument become one) into a
 * palloc'd array of *merged ranges; returns the number of entries taken.
 */
static int
take_log(Inval **out, int *merged)
{
	Inval	   *v;
	int			n;
	int			k = 0;

	if (SPI_execute("DELETE FROM zvt._candle_invalidations"
					" RETURNING instrument_id, lo, hi", false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "could not take the candle invalidation log");
	n = (int) SPI_processed;
	v = palloc(sizeof(Inval) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;

		v[i].instrument_id = DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull));
		v[i].all = isnull;
		if (isnull)
			v[i].instrument_id = 0;
		v[i].lo = DatumGetTimestampTz(SPI_getbinval(tup, td, 2, &isnull));
		v[i].hi = DatumGetTimestampTz(SPI_getbinval(tup, td, 3, &isnull));
	}
	qsort(v, n, sizeof(Inval), inval_cmp);
	for (int i = 0; i < n; i++)
	{
		if (k > 0 && v[k - 1].all == v[i].all &&
			v[k - 1].instrument_id == v[i].instrument_id && v[i].lo <= v[k - 1].hi)
		{
			v[k - 1].hi = Max(v[k - 1].hi, v[i].hi);
			continue;
		}
		v[k++] = v[i];
	}
	*out = v;
	*merged = k;
	return n;
}

/* RollupBarFn: queue a bar, writing a full batch */
static void
batch_add(void *arg, int32 instrument_id, const CaBar *bar)
{
	Batch	   *b = arg;
	int			i = b->n;

	if (i == BATCH_BARS)
	{
		batch_flush(b);
		i = 0;
	}
	for (int c = 0; c < NCOLS; c++)
		b->nulls[c][i] = false;
	b->cols[0][i] = Int32GetDatum(instrument_id);
	b->cols[1][i] = TimestampTzGetDatum(bar->ts);
	b->cols[2][i] = Float8GetDatum(bar->open);
	b->cols[3][i] = Float8GetDatum(bar->high);
	b->cols[4][i] = Float8GetDatum(bar->low);
	b->cols[5][i] = Float8GetDatum(bar->close);
	b->cols[6][i] = Float8GetDatum(bar->volume);
	b->cols[7][i] = Float8GetDatum(bar->quote_volume);
	b->nulls[7][i] = !bar->has_quote_volume;
	b->cols[8][i] = Int64GetDatum(bar->trade_count);
	b->nulls[8][i] = !bar->has_trade_count;
	b->cols[9][i] = BoolGetDatum(bar->closed);
	b->cols[10][i] = CStringGetTextDatum(bar->exchange ? "exchange" : "trades");
	b->cols[11][i] = TimestampTzGetDatum(bar->local_ts);
	b->n = i + 1;
}

/* write the queued bars with one INSERT ... SELECT FROM unnest(arrays) */
static void
batch_flush(Batch *b)
{
	Oid			types[NCOLS + 1];
	Datum		args[NCOLS + 1];
	int			dims[1] = {b->n};
	int			lbs[1] = {1};

	if (b->n == 0)
		return;
	types[0] = INTERVALOID;
	args[0] = b->timeframe;
	for (int c = 0; c < NCOLS; c++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(col_types[c], &typlen, &typbyval, &typalign);
		types[c + 1] = get_array_type(col_types[c]);
		args[c + 1] = PointerGetDatum(construct_md_array(b->cols[c], b->nulls[c], 1, dims, lbs,
														 col_types[c], typlen, typbyval, typalign));
	}
	if (SPI_execute_with_args("INSERT INTO zvt._rollup_candles (instrument_id, timeframe, ts,"
							  " open, high, low, close, volume, quote_volume, trade_count, closed,"
							  " source, local_ts)"
							  " SELECT u.i, $1, u.ts, u.o, u.h, u.l, u.c, u.v, u.qv, u.tc, u.cl,"
							  " u.src, u.lts FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10,"
							  " $11, $12, $13) AS u(i, ts, o, h, l, c, v, qv, tc, cl, src, lts)",
							  NCOLS + 1, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write candle roll-ups");
	b->written += b->n;
	b->n = 0;
}

/*
 * Replace the bars of the timeframe in [lo, hi) (bucket bounds) of
 * instrument_id (of every instrument unless one) by bars computed anew.
 */
static void
recompute(Batch *b, bool one, int32 instrument_id, int64 width,
		  TimestampTz lo, TimestampTz hi)
{
	Oid			types[4] = {INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID};
	Datum		args[4] = {b->timeframe, TimestampTzGetDatum(lo), TimestampTzGetDatum(hi),
	Int32GetDatum(instrument_id)};

	if (lo >= hi)
		return;
	if (SPI_execute_with_args(one ?
							  "DELETE FROM zvt._rollup_candles WHERE timeframe = $1"
							  " AND ts >= $2 AND ts < $3 AND instrument_id = $4" :
							  "DELETE FROM zvt._rollup_candles WHERE timeframe = $1"
							  " AND ts >= $2 AND ts < $3 AND $4 IS NOT NULL",
							  4, types, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete stale candle roll-ups");
	rollup_compute(one, instrument_id, width, lo, hi, false, batch_add, b);
	batch_flush(b);
}

/*
 * zvt._refresh_candle_rollups(OUT invalidations int8, OUT buckets int8)
 *
 * Steps in the file head.  invalidations: log entries taken; buckets:
 * bars written.
 */
Datum
zvt_refresh_candle_rollups(PG_FUNCTION_ARGS)
{
	Oid			datarel = get_relname_relid("_rollup_candles", get_namespace_oid("zvt", false));
	Oid			owner;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	StorageUserSave save;
	Inval	   *inv;
	int			ninv;
	int			taken;
	int			ntf;
	Datum	   *tfs;
	TimestampTz *marks;
	Batch	   *b;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (!OidIsValid(datarel))
		elog(ERROR, "zvt._rollup_candles is missing");
	owner = chunk_rel_owner(datarel);
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to refresh the candle roll-ups"),
				 errdetail("The roll-ups are refreshed as their owner, by the maintenance worker or a role with the owner's privileges.")));

	storage_run_as(owner, &save);
	SPI_connect();
	if (SPI_execute("LOCK TABLE zvt._rollup_state IN EXCLUSIVE MODE", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not lock zvt._rollup_state");
	taken = take_log(&inv, &ninv);

	if (SPI_execute("SELECT r.timeframe, s.materialized_until FROM zvt.candle_rollups r"
					" LEFT JOIN zvt._rollup_state s ON s.timeframe = r.timeframe"
					" ORDER BY r.timeframe", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.candle_rollups");
	ntf = (int) SPI_processed;
	tfs = palloc(sizeof(Datum) * Max(ntf, 1));
	marks = palloc(sizeof(TimestampTz) * Max(ntf, 1));
	for (int t = 0; t < ntf; t++)
	{
		bool		isnull;

		tfs[t] = datumCopy(SPI_getbinval(SPI_tuptable->vals[t], SPI_tuptable->tupdesc, 1, &isnull),
						   false, sizeof(Interval));
		marks[t] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[t],
													 SPI_tuptable->tupdesc, 2, &isnull));
		if (isnull)
			marks[t] = DT_NOBEGIN;
	}

	b = palloc0(sizeof(Batch));
	for (int t = 0; t < ntf; t++)
	{
		int64		w = rollup_width(DatumGetIntervalP(tfs[t]), true);
		TimestampTz mark = marks[t];
		TimestampTz next = rollup_bucket(now, w);
		Oid			types[2] = {INTERVALOID, TIMESTAMPTZOID};
		Datum		args[2];

		b->timeframe = tfs[t];
		/* step 2a: logged ranges below the watermark */
		for (int i = 0; i < ninv; i++)
		{
			TimestampTz lo = rollup_bucket(inv[i].lo, w);
			TimestampTz hi = TIMESTAMP_NOT_FINITE(inv[i].hi) ? inv[i].hi
				: rollup_bucket(inv[i].hi - 1, w) + w;

			recompute(b, !inv[i].all, inv[i].instrument_id, w, lo, Min(hi, mark));
		}
		/* step 2b: the watermark up to the current bucket */
		if (next > mark)
		{
			recompute(b, false, 0, w, mark, next);
			args[0] = tfs[t];
			args[1] = TimestampTzGetDatum(next);
			if (SPI_execute_with_args("INSERT INTO zvt._rollup_state (timeframe, materialized_until)"
									  " VALUES ($1, $2) ON CONFLICT (timeframe)"
									  " DO UPDATE SET materialized_until = excluded.materialized_until",
									  2, types, args, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not move the roll-up watermark");
		}
	}
	values[0] = Int64GetDatum(taken);
	values[1] = Int64GetDatum(b->written);
	SPI_finish();
	storage_run_as_end(&save);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
