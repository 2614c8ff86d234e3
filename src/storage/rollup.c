/*-------------------------------------------------------------------------
 *
 * src/storage/rollup.c
 *	  Continuous candle roll-ups: the timeframe rule, rolling a range of
 *	  1-minute candles up (rollup_compute), and the trigger on zvt.candles
 *	  that fills the invalidation log.
 *
 * The invalidation log (zvt._candle_invalidations) says which ranges of
 * which instrument's 1-minute candles changed since the maintenance
 * worker last took it in (rollup_refresh.c), so that the materialized
 * bars of those ranges are recomputed and, until they are, zvt.ohlcv
 * (ohlcv.c) computes them on the fly.  The trigger is a row trigger on
 * zvt.candles (BEFORE), cloned by PostgreSQL to every chunk, so every write path
 * logs: the feeds' idempotent INSERT ... ON CONFLICT, COPY, backfills and
 * gap repairs, late data, UPDATE and DELETE, and writes straight into a
 * chunk; TRUNCATE of zvt.candles logs everything.  Logging is per hour:
 * a row logs [hour, hour + 1h) of its instrument unless this
 * (sub)transaction already logged that hour (a small cache in the
 * backend), so a bulk load of a year logs 8,760 rows an instrument, and a
 * feed's flush one per instrument.  A rolled-back subtransaction takes
 * its log rows with it, and its cache entries never match again (the
 * cache is keyed by subtransaction id, never reused in a transaction).
 *
 * The log row is written as the log's owner (storage_run_as, restricted):
 * a role that may write candles logs what it wrote, and nothing else,
 * since it holds no privilege on the log itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "core/zvt_time.h"
#include "storage/chunk.h"
#include "storage/rollup.h"

PG_FUNCTION_INFO_V1(zvt_check_timeframe);
PG_FUNCTION_INFO_V1(zvt_candles_invalidate);

#define USECS_PER_HOUR_64	INT64CONST(3600000000)
#define LOG_CACHE_SIZE		256
#define FETCH_ROWS			10000

/* one hour of one instrument this (sub)transaction has logged */
typedef struct LogCacheEntry
{
	LocalTransactionId lxid;	/* 0: empty */
	SubTransactionId subxid;
	int32		instrument_id;
	int64		hour;			/* its start */
} LogCacheEntry;

/* backend-local: valid for the (sub)transaction it names only */
static LogCacheEntry log_cache[LOG_CACHE_SIZE];

/* where the trigger finds its columns in the last relation it saw */
static Oid	cols_relid = InvalidOid;
static int	col_ts,
			col_instrument,
			col_timeframe;

/* the log's INSERT, prepared once per backend (replanned if the log changes) */
static SPIPlanPtr log_plan = NULL;

static void log_range(bool all, int32 instrument_id, TimestampTz lo, TimestampTz hi);
static void log_row(Relation rel, HeapTuple tup);

/* ----------------------------------------------------------------
 *		Timeframes and buckets
 * ----------------------------------------------------------------
 */

/*
 * The width in microseconds of a timeframe zvt rolls up (whole minutes
 * dividing a day, or a week; no months), else -1, or 22023 when raise.
 */
int64
rollup_width(const Interval *tf, bool raise)
{
	int64		w = -1;

	if (tf->month == 0 && tf->day >= 0 && tf->day <= 7)
	{
		w = (int64) tf->day * USECS_PER_DAY + tf->time;
		if (!candle_agg_width_ok(w))
			w = -1;
	}
	if (w < 0 && raise)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported timeframe %s",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(tf)))),
				 errhint("Use a whole number of minutes that divides a day (1m, 5m, 15m, 30m, 1h, 4h, ...), 1 day or 1 week.")));
	return w;
}

/* zvt._check_timeframe(interval): 22023 unless rollup_width accepts it */
Datum
zvt_check_timeframe(PG_FUNCTION_ARGS)
{
	(void) rollup_width(PG_GETARG_INTERVAL_P(0), true);
	PG_RETURN_VOID();
}

/*
 * The bucket of width holding ts, aligned as zvt.time_bucket's default
 * (2000-01-03); ts itself when it has none (the infinities).
 */
TimestampTz
rollup_bucket(TimestampTz ts, int64 width)
{
	int64_t		b;

	if (!zt_bucket_fixed(ts, width, ZT_DEFAULT_ORIGIN, &b))
		return ts;
	return (TimestampTz) b;
}

/* ----------------------------------------------------------------
 *		Rolling a range up
 * ----------------------------------------------------------------
 */

/* one row of the minutes query as a CaMinute; *instrument its instrument */
static void
minute_from_row(HeapTuple tup, TupleDesc td, CaMinute *m, int32 *instrument)
{
	bool		isnull;

	m->ts = DatumGetTimestampTz(SPI_getbinval(tup, td, 1, &isnull));
	m->open = DatumGetFloat8(SPI_getbinval(tup, td, 2, &isnull));
	m->high = DatumGetFloat8(SPI_getbinval(tup, td, 3, &isnull));
	m->low = DatumGetFloat8(SPI_getbinval(tup, td, 4, &isnull));
	m->close = DatumGetFloat8(SPI_getbinval(tup, td, 5, &isnull));
	m->volume = DatumGetFloat8(SPI_getbinval(tup, td, 6, &isnull));
	m->quote_volume = DatumGetFloat8(SPI_getbinval(tup, td, 7, &isnull));
	m->has_quote_volume = !isnull;
	m->trade_count = DatumGetInt64(SPI_getbinval(tup, td, 8, &isnull));
	m->has_trade_count = !isnull;
	m->closed = DatumGetBool(SPI_getbinval(tup, td, 9, &isnull));
	m->exchange = DatumGetBool(SPI_getbinval(tup, td, 10, &isnull));
	m->local_ts = DatumGetTimestampTz(SPI_getbinval(tup, td, 11, &isnull));
	*instrument = DatumGetInt32(SPI_getbinval(tup, td, 12, &isnull));
}

/*
 * Roll the 1-minute candles with ts in [lo, hi) up into bars of width
 * (rollup_width's), calling fn on each in time order (per instrument, in
 * instrument order): of instrument_id when one, else of every instrument.
 * lo and hi should be bucket bounds (or infinities), so every bar is
 * whole.  The caller is connected to SPI; read_only as its other
 * queries.  22003 when a bucket's trade_count overflows.
 */
void
rollup_compute(bool one, int32 instrument_id, int64 width,
			   TimestampTz lo, TimestampTz hi, bool read_only,
			   RollupBarFn fn, void *arg)
{
	static const char *cols =
	"SELECT ts, open, high, low, close, volume, quote_volume, trade_count, closed,"
	" source = 'exchange', local_ts, instrument_id FROM zvt.candles"
	" WHERE timeframe = interval '1 minute' AND ts >= $2 AND ts < $3";
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3] = {Int32GetDatum(instrument_id), TimestampTzGetDatum(lo),
	TimestampTzGetDatum(hi)};
	Portal		portal;
	CaAcc		acc;
	CaBar		bar;
	int32		current = 0;
	bool		started = false;

	if (lo >= hi)
		return;
	candle_agg_init(&acc, width, ZT_DEFAULT_ORIGIN);
	portal = SPI_cursor_open_with_args(NULL,
									   one ? psprintf("%s AND instrument_id = $1 ORDER BY ts,"
													  " (source = 'exchange') DESC", cols)
									   : psprintf("%s AND $1 IS NOT NULL ORDER BY instrument_id,"
												  " ts, (source = 'exchange') DESC", cols),
									   3, types, args, NULL, read_only, 0);
	for (;;)
	{
		SPITupleTable *tt;
		uint64		nrows;

		/* fn may run queries of its own: keep this fetch's rows and count */
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		tt = SPI_tuptable;
		nrows = SPI_processed;
		if (nrows == 0)
			break;
		for (uint64 i = 0; i < nrows; i++)
		{
			CaMinute	m;
			int32		iid;
			CaStatus	st;

			minute_from_row(tt->vals[i], tt->tupdesc, &m, &iid);
			if (started && iid != current && candle_agg_finish(&acc, &bar))
				fn(arg, current, &bar);
			current = iid;
			started = true;
			st = candle_agg_push(&acc, &m, &bar);
			if (st == CA_BAR)
				fn(arg, current, &bar);
			else if (st == CA_OVERFLOW)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("trade_count of a candle bucket is out of range for type bigint")));
		}
		SPI_freetuptable(tt);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	if (started && candle_agg_finish(&acc, &bar))
		fn(arg, current, &bar);
}

/* ----------------------------------------------------------------
 *		The invalidation trigger
 * ----------------------------------------------------------------
 */

/*
 * Insert [lo, hi) of instrument_id (of every instrument when all) into
 * the log, as the log's owner.
 */
static void
log_range(bool all, int32 instrument_id, TimestampTz lo, TimestampTz hi)
{
	Oid			logrel = get_relname_relid("_candle_invalidations",
										   get_namespace_oid("zvt", false));
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3] = {Int32GetDatum(instrument_id), TimestampTzGetDatum(lo),
	TimestampTzGetDatum(hi)};
	char		nulls[3] = {all ? 'n' : ' ', ' ', ' '};
	StorageUserSave save;

	if (!OidIsValid(logrel))
		elog(ERROR, "zvt._candle_invalidations is missing");
	storage_run_as(chunk_rel_owner(logrel), &save);
	SPI_connect();
	if (log_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("INSERT INTO zvt._candle_invalidations"
									" (instrument_id, lo, hi) VALUES ($1, $2, $3)", 3, types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the invalidation log's insert");
		log_plan = p;
	}
	if (SPI_execute_plan(log_plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the candle invalidation log");
	SPI_finish();
	storage_run_as_end(&save);
}

/* the hour of a 1-minute candle row, logged unless already logged */
static void
log_row(Relation rel, HeapTuple tup)
{
	TupleDesc	td = RelationGetDescr(rel);
	bool		isnull;
	Datum		d;
	Interval   *tf;
	TimestampTz ts;
	int32		iid;
	int64		hour;
	LogCacheEntry *e;

	if (RelationGetRelid(rel) != cols_relid)
	{
		col_ts = SPI_fnumber(td, "ts");
		col_instrument = SPI_fnumber(td, "instrument_id");
		col_timeframe = SPI_fnumber(td, "timeframe");
		if (col_ts <= 0 || col_instrument <= 0 || col_timeframe <= 0)
			elog(ERROR, "relation \"%s\" is not like zvt.candles", RelationGetRelationName(rel));
		cols_relid = RelationGetRelid(rel);
	}
	d = heap_getattr(tup, col_timeframe, td, &isnull);
	if (isnull)
		return;
	tf = DatumGetIntervalP(d);
	if (tf->month != 0 || (int64) tf->day * USECS_PER_DAY + tf->time != USECS_PER_MINUTE)
		return;					/* only 1-minute candles are rolled up */
	ts = DatumGetTimestampTz(heap_getattr(tup, col_ts, td, &isnull));
	if (isnull)
		return;
	iid = DatumGetInt32(heap_getattr(tup, col_instrument, td, &isnull));
	if (isnull)
		return;
	if (TIMESTAMP_NOT_FINITE(ts))
		return;					/* no bucket holds it: never rolled up */
	hour = rollup_bucket(ts, USECS_PER_HOUR_64);

	e = &log_cache[(uint32) (iid * 2654435761U ^ (uint32) (hour / USECS_PER_HOUR_64)) % LOG_CACHE_SIZE];
	if (e->lxid == MyProc->lxid && e->subxid == GetCurrentSubTransactionId() &&
		e->instrument_id == iid && e->hour == hour)
		return;
	log_range(false, iid, hour, hour + USECS_PER_HOUR_64);
	e->lxid = MyProc->lxid;
	e->subxid = GetCurrentSubTransactionId();
	e->instrument_id = iid;
	e->hour = hour;
}

/*
 * zvt._candles_invalidate() RETURNS trigger
 *
 * BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW on zvt.candles (and so
 * on each chunk): the old and the new row's hour are logged, and the row
 * goes ahead unchanged; AFTER TRUNCATE FOR EACH STATEMENT: everything
 * is.  A BEFORE trigger sees the row without fetching it again, as an
 * AFTER one would; a row it logs that is then not written (a conflict
 * skipped) only costs a needless recomputation of its hour.
 */
Datum
zvt_candles_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("zvt._candles_invalidate() must be called as a trigger")));
	if (TRIGGER_FIRED_BY_TRUNCATE(trig->tg_event))
	{
		log_range(true, 0, DT_NOBEGIN, DT_NOEND);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(trig->tg_event))
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(trig->tg_event))
	{
		log_row(trig->tg_relation, trig->tg_trigtuple);
		log_row(trig->tg_relation, trig->tg_newtuple);
		return PointerGetDatum(trig->tg_newtuple);
	}
	/* INSERT: the new row; DELETE: the old one (either goes ahead) */
	log_row(trig->tg_relation, trig->tg_trigtuple);
	return PointerGetDatum(trig->tg_trigtuple);
}
