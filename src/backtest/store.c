/*-------------------------------------------------------------------------
 *
 * src/backtest/store.c
 *	  Every write to zvt.backtest_runs, backtest_trades and
 *	  backtest_equity, as the tables' owner.
 *
 * Users may read their own runs and delete them (row-level security by
 * created_by, zvt_admin members see all: sql/45_backtest.sql) but hold no
 * INSERT or UPDATE, so that no one can forge a run or put one in another
 * role's name.  zvt.backtest and zvt.backtest_grid compute a run as the
 * caller (the bars, signals queries and step functions are read and
 * called with the caller's rights) and store it here: writer_begin()
 * switches to the owner of zvt.backtest_runs (the extension's owner) with
 * SECURITY_LOCAL_USERID_CHANGE and SECURITY_RESTRICTED_OPERATION and
 * search_path = pg_catalog, pg_temp, runs the INSERTs, and
 * writer_end() switches back.  Nothing the caller wrote is evaluated in
 * between: every value is a parameter (created_by too, taken from
 * GetUserId() before the switch), every name is qualified, and the tables
 * have no triggers a user could add (they own none).  An error in between
 * needs no cleanup: transaction abort restores the user id, security
 * context and GUCs, as for SECURITY DEFINER functions.
 *
 * Runs of a grid are stored in batches: one INSERT of up to BT_RUN_BATCH
 * rows, the columns the runs share as scalars and the others unnested
 * from arrays in step.  NaN and infinite metrics are stored as NULL;
 * callers keep runs whose final equity or fees are not finite out
 * (bt_results_finite()), since those columns are NOT NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/store.h"

/* the switch to the tables' owner, between writer_begin() and writer_end() */
typedef struct Writer
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} Writer;

static Name caller_name(void);
static void writer_begin(Writer *w);
static void writer_end(Writer *w);
static void add(BtArgs *a, Oid type, Datum v, bool isnull);
static void add_f8(BtArgs *a, double v);
static void add_ts(BtArgs *a, int64_t unix_us, bool isnull);
static const char *run_insert_sql(void);
static bool varying(int col);
static char *batch_sql(void);

/* the role the caller acts as (current_user), as a palloc'd name */
static Name
caller_name(void)
{
	Name		n = palloc0(NAMEDATALEN);

	namestrcpy(n, GetUserNameFromId(GetUserId(), false));
	return n;
}

/*
 * Become the owner of zvt.backtest_runs for the writes that follow,
 * with search_path = pg_catalog, pg_temp; writer_end() undoes it.
 */
static void
writer_begin(Writer *w)
{
	Oid			nsp = get_namespace_oid("zvt", false);
	Oid			rel = get_relname_relid("backtest_runs", nsp);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for zvt.backtest_runs");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&w->save_userid, &w->save_sec_context);
	SetUserIdAndSecContext(owner, w->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	w->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* back to the caller after writer_begin() */
static void
writer_end(Writer *w)
{
	AtEOXact_GUC(true, w->save_nestlevel);
	SetUserIdAndSecContext(w->save_userid, w->save_sec_context);
}

/*
 * Whether a run can be stored: its final equity and fees, NOT NULL
 * columns, are finite.  Extreme prices against a large qty or
 * initial_cash can overflow them even within BT_MAX_AMOUNT.
 */
bool
bt_results_finite(const BtMetrics *m)
{
	return isfinite(m->final_equity) && isfinite(m->fees);
}

static void
add(BtArgs *a, Oid type, Datum v, bool isnull)
{
	a->types[a->n] = type;
	a->values[a->n] = v;
	a->nulls[a->n] = isnull ? 'n' : ' ';
	a->n++;
}

/* NaN and infinities (undefined metrics) are stored as NULL */
static void
add_f8(BtArgs *a, double v)
{
	add(a, FLOAT8OID, Float8GetDatum(isnan(v) || isinf(v) ? 0 : v), isnan(v) || isinf(v));
}

static void
add_ts(BtArgs *a, int64_t unix_us, bool isnull)
{
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(ZVT_UNIX_TO_TS(unix_us)), isnull);
}

/* INSERT of one backtest_runs row RETURNING it; bt_run_args() fills $1..$38 */
static const char *
run_insert_sql(void)
{
	return "INSERT INTO zvt.backtest_runs (" BT_RUN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6,"
		" $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,"
		" $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38) RETURNING *";
}

/*
 * The 38 arguments of a backtest_runs row for one run; a->n restarts at
 * 0.  Called as the caller (outside writer_begin()): created_by is the
 * current user, the role the caller acts as.
 */
void
bt_run_args(BtArgs *a, const BtRunDesc *d, const BtMetrics *m)
{
	a->n = 0;
	add(a, NAMEOID, NameGetDatum(caller_name()), false);
	add(a, TEXTOID, CStringGetTextDatum(d->strategy), false);
	add(a, TEXTOID, CStringGetTextDatum(d->market->exchange), false);
	add(a, TEXTOID, CStringGetTextDatum(d->market->symbol), false);
	add(a, INTERVALOID, d->market->timeframe, false);
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(d->market->start), false);
	add(a, TIMESTAMPTZOID, TimestampTzGetDatum(d->market->finish), false);
	add(a, JSONBOID, JsonbPGetDatum(d->params), false);
	add_f8(a, d->cfg->initial_cash);
	add_f8(a, d->cfg->fee_bps);
	add_f8(a, d->cfg->slippage_bps);
	add(a, TEXTOID, CStringGetTextDatum(d->store), false);
	add(a, INT8OID, Int64GetDatum(d->bars), false);
	add_ts(a, d->first_ts, false);
	add_ts(a, d->last_ts, false);
	add_f8(a, m->final_equity);
	add_f8(a, m->total_return);
	add_f8(a, m->cagr);
	add_f8(a, m->volatility);
	add_f8(a, m->sharpe);
	add_f8(a, m->sortino);
	add_f8(a, m->calmar);
	add_f8(a, m->max_drawdown);
	add_f8(a, m->max_drawdown_pct);
	add_ts(a, m->max_drawdown_start, m->max_drawdown == 0);
	add_ts(a, m->max_drawdown_end, m->max_drawdown == 0);
	add(a, INT8OID, Int64GetDatum(m->trades), false);
	add_f8(a, m->win_rate);
	add_f8(a, m->profit_factor);
	add_f8(a, m->expectancy);
	add_f8(a, m->avg_win);
	add_f8(a, m->avg_loss);
	add_f8(a, m->best_trade);
	add_f8(a, m->worst_trade);
	add_f8(a, m->exposure * 100);
	add(a, FLOAT8OID, Float8GetDatum(m->fees), false);
	add_f8(a, m->market_change);
	add(a, BOOLOID, BoolGetDatum(d->open_at_end), false);
}

/* whether a column of bt_run_args() differs between the runs of a grid */
static bool
varying(int col)
{
	return col == BT_RUN_PARAMS_ARG || col >= BT_RUN_METRICS_ARG;
}

/*
 * The INSERT of a batch: the fixed columns as scalars, the varying ones
 * unnested from arrays in step, in their order (so run ids follow it).
 */
static char *
batch_sql(void)
{
	StringInfoData q;
	bool		first = true;

	initStringInfo(&q);
	appendStringInfoString(&q, "INSERT INTO zvt.backtest_runs (" BT_RUN_COLUMNS ") SELECT ");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		appendStringInfo(&q, varying(c) ? "%su.c%d" : "%s$%d", c ? ", " : "",
						 varying(c) ? c : c + 1);
	appendStringInfoString(&q, " FROM ROWS FROM (");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			appendStringInfo(&q, "%spg_catalog.unnest($%d)", first ? "" : ", ", c + 1);
			first = false;
		}
	appendStringInfoString(&q, ") WITH ORDINALITY AS u (");
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
			appendStringInfo(&q, "c%d, ", c);
	appendStringInfoString(&q, "ord) ORDER BY u.ord RETURNING *");
	return q.data;
}

/* an empty batch, its arrays in the current memory context */
void
bt_run_batch_init(BtRunBatch *b)
{
	b->n = 0;
	b->sql = batch_sql();
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			b->values[c] = palloc(sizeof(Datum) * BT_RUN_BATCH);
			b->nulls[c] = palloc(sizeof(bool) * BT_RUN_BATCH);
		}
}

/*
 * Keep one run's arguments, of the same grid as the others; they must
 * stay allocated until bt_run_batch_flush().  At most BT_RUN_BATCH.
 */
void
bt_run_batch_add(BtRunBatch *b, const BtArgs *a)
{
	for (int c = 0; c < BT_RUN_NARGS; c++)
		if (varying(c))
		{
			b->values[c][b->n] = a->values[c];
			b->nulls[c][b->n] = a->nulls[c] == 'n';
		}
	b->last = *a;
	b->n++;
}

/* store the batch and hand the stored rows to the tuplestore */
void
bt_run_batch_flush(BtRunBatch *b, Tuplestorestate *out)
{
	Datum		args[BT_RUN_NARGS];
	char		nulls[BT_RUN_NARGS];
	Oid			types[BT_RUN_NARGS];
	Writer		w;

	if (b->n == 0)
		return;
	for (int c = 0; c < BT_RUN_NARGS; c++)
	{
		Oid			elem = b->last.types[c];

		types[c] = elem;
		args[c] = b->last.values[c];
		nulls[c] = b->last.nulls[c];
		if (varying(c))
		{
			int16		typlen;
			bool		typbyval;
			char		typalign;
			int			dims[1] = {b->n};
			int			lbs[1] = {1};

			get_typlenbyvalalign(elem, &typlen, &typbyval, &typalign);
			types[c] = get_array_type(elem);
			args[c] = PointerGetDatum(construct_md_array(b->values[c], b->nulls[c], 1, dims, lbs,
														 elem, typlen, typbyval, typalign));
			nulls[c] = ' ';
		}
	}
	writer_begin(&w);
	if (SPI_execute_with_args(b->sql, BT_RUN_NARGS, types, args, nulls, false, 0) !=
		SPI_OK_INSERT_RETURNING || SPI_processed != (uint64) b->n)
		elog(ERROR, "could not store the backtest_grid runs");
	writer_end(&w);
	for (uint64 r = 0; r < SPI_processed; r++)
		tuplestore_puttuple(out, SPI_tuptable->vals[r]);
	SPI_freetuptable(SPI_tuptable);
	b->n = 0;
}

/*
 * Store one run's row (bt_run_args()'s arguments) and return it, copied
 * into the caller's upper context by SPI_copytuple, with its descriptor
 * in *desc and its run_id in *run_id.
 */
HeapTuple
bt_store_run(const BtArgs *a, TupleDesc *desc, int64 *run_id)
{
	Writer		w;
	HeapTuple	row;
	bool		isnull;

	writer_begin(&w);
	if (SPI_execute_with_args(run_insert_sql(), a->n, (Oid *) a->types, (Datum *) a->values,
							  a->nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not store the backtest run");
	writer_end(&w);
	row = SPI_copytuple(SPI_tuptable->vals[0]);
	*desc = SPI_tuptable->tupdesc;
	*run_id = DatumGetInt64(SPI_getbinval(row, *desc, 1, &isnull));
	return row;
}

/*
 * Store the trades and the equity curve (all of it, or the last point of
 * each UTC day) of a stored run.  cash and pos are after each bar.
 */
void
bt_store_details(int64 run_id, BtStoreKind store,
				 const BtTradeRecord *trades, int ntrades,
				 const BtEquityPoint *points, const double *cash,
				 const double *pos, int64 npoints, double initial_cash)
{
	Oid			tt[11] = {INT8OID, INT4OID, TIMESTAMPTZOID, FLOAT8OID, TIMESTAMPTZOID,
	FLOAT8OID, FLOAT8OID, TEXTOID, FLOAT8OID, FLOAT8OID, TEXTOID};
	Oid			et[6] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
	SPIPlanPtr	tplan;
	SPIPlanPtr	eplan;
	double		peak = initial_cash;
	Writer		w;

	writer_begin(&w);
	tplan = SPI_prepare("INSERT INTO zvt.backtest_trades VALUES"
						" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, tt);
	eplan = SPI_prepare("INSERT INTO zvt.backtest_equity VALUES"
						" ($1, $2, $3, $4, $5, $6)", 6, et);
	for (int i = 0; i < ntrades; i++)
	{
		const BtTradeRecord *t = &trades[i];
		Datum		v[11];

		v[0] = Int64GetDatum(run_id);
		v[1] = Int32GetDatum(i + 1);
		v[2] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(t->entry_ts));
		v[3] = Float8GetDatum(t->entry_price);
		v[4] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(t->exit_ts));
		v[5] = Float8GetDatum(t->exit_price);
		v[6] = Float8GetDatum(t->qty);
		v[7] = CStringGetTextDatum(t->side > 0 ? "long" : "short");
		v[8] = Float8GetDatum(t->pnl);
		v[9] = Float8GetDatum(t->fees);
		v[10] = CStringGetTextDatum(bt_exit_name(t->exit));
		if (SPI_execute_plan(tplan, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not store a backtest trade");
	}
	for (int64 i = 0; i < npoints; i++)
	{
		Datum		v[6];
		double		eq = points[i].equity;

		if (eq > peak)
			peak = eq;
		/* daily: the last bar of each UTC day */
		if (store == BT_STORE_TRADES && i + 1 < npoints &&
			points[i + 1].ts / BT_USEC_PER_DAY == points[i].ts / BT_USEC_PER_DAY)
			continue;
		v[0] = Int64GetDatum(run_id);
		v[1] = TimestampTzGetDatum(ZVT_UNIX_TO_TS(points[i].ts));
		v[2] = Float8GetDatum(eq);
		v[3] = Float8GetDatum(cash[i]);
		v[4] = Float8GetDatum(pos[i]);
		v[5] = Float8GetDatum(peak > 0 ? (peak - eq) / peak : 0);
		if (SPI_execute_plan(eplan, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not store a backtest equity point");
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	writer_end(&w);
}
