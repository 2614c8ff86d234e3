/*-------------------------------------------------------------------------
 *
 * src/backtest/indicators_sql.c
 *	  zvt.ema, zvt.rsi, zvt.macd, zvt.bollinger, zvt.atr and zvt.vwap as
 *	  aggregates over the indicators of indicators.c.
 *
 * Each aggregate keeps its indicator in an internal state allocated in
 * the aggregate's memory context on the first row; the step function feeds
 * one row, the final function reads without changing the state, so as a
 * window aggregate over a frame from UNBOUNDED PRECEDING PostgreSQL calls
 * the step once per row and the whole window costs O(n).  NULL inputs are
 * skipped; results are NULL until the indicator has enough rows.  Bad
 * periods are 22023 on the first row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "backtest/indicators.h"
#include "base/export.h"

typedef struct IndState
{
	union
	{
		IndEma		ema;
		IndRsi		rsi;
		IndMacd		macd;
		IndBollinger bb;
		IndAtr		atr;
		IndVwap		vwap;
	}			u;
	double		ring[FLEXIBLE_ARRAY_MEMBER];	/* Bollinger's window */
} IndState;

PG_FUNCTION_INFO_V1(zvt_ema_step);
PG_FUNCTION_INFO_V1(zvt_ema_final);
PG_FUNCTION_INFO_V1(zvt_rsi_step);
PG_FUNCTION_INFO_V1(zvt_rsi_final);
PG_FUNCTION_INFO_V1(zvt_macd_step);
PG_FUNCTION_INFO_V1(zvt_macd_final);
PG_FUNCTION_INFO_V1(zvt_bollinger_step);
PG_FUNCTION_INFO_V1(zvt_bollinger_final);
PG_FUNCTION_INFO_V1(zvt_atr_step);
PG_FUNCTION_INFO_V1(zvt_atr_final);
PG_FUNCTION_INFO_V1(zvt_vwap_step);
PG_FUNCTION_INFO_V1(zvt_vwap_final);

#define MAX_PERIOD 100000

/* A new state of `extra` ring slots in the aggregate's context. */
static IndState *
state_new(FunctionCallInfo fcinfo, int extra)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "indicator step function called outside an aggregate");
	return MemoryContextAllocZero(aggcxt, offsetof(IndState, ring) + sizeof(double) * extra);
}

/* Argument argno as a period, or 22023 naming what is allowed. */
static int
period_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int			n;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be null", what)));
	n = PG_GETARG_INT32(argno);
	if (n < 1 || n > MAX_PERIOD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 and %d, not %d", what, MAX_PERIOD, n)));
	return n;
}

/* ---- ema ---------------------------------------------------------------- */

Datum
zvt_ema_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
	{
		s = state_new(fcinfo, 0);
		ind_ema_init(&s->u.ema, period_arg(fcinfo, 2, "period"));
	}
	if (!PG_ARGISNULL(1))
		ind_ema_step(&s->u.ema, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

Datum
zvt_ema_final(PG_FUNCTION_ARGS)
{
	double		v;

	if (PG_ARGISNULL(0) || !ind_ema_read(&((IndState *) PG_GETARG_POINTER(0))->u.ema, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* ---- rsi ---------------------------------------------------------------- */

Datum
zvt_rsi_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
	{
		s = state_new(fcinfo, 0);
		ind_rsi_init(&s->u.rsi, period_arg(fcinfo, 2, "period"));
	}
	if (!PG_ARGISNULL(1))
		ind_rsi_step(&s->u.rsi, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

Datum
zvt_rsi_final(PG_FUNCTION_ARGS)
{
	double		v;

	if (PG_ARGISNULL(0) || !ind_rsi_read(&((IndState *) PG_GETARG_POINTER(0))->u.rsi, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* ---- macd --------------------------------------------------------------- */

Datum
zvt_macd_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
	{
		int			fast = period_arg(fcinfo, 2, "fast period");
		int			slow = period_arg(fcinfo, 3, "slow period");
		int			signal = period_arg(fcinfo, 4, "signal period");

		if (fast >= slow)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fast period (%d) must be shorter than slow period (%d)", fast, slow)));
		s = state_new(fcinfo, 0);
		ind_macd_init(&s->u.macd, fast, slow, signal);
	}
	if (!PG_ARGISNULL(1))
		ind_macd_step(&s->u.macd, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

Datum
zvt_macd_final(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[3];
	bool		nulls[3] = {false, false, false};
	double		line,
				signal = 0,
				hist = 0;
	bool		has_signal;

	if (PG_ARGISNULL(0) ||
		!ind_macd_read(&((IndState *) PG_GETARG_POINTER(0))->u.macd, &line, &signal, &hist, &has_signal))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	v[0] = Float8GetDatum(line);
	v[1] = Float8GetDatum(signal);
	v[2] = Float8GetDatum(hist);
	nulls[1] = nulls[2] = !has_signal;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}

/* ---- bollinger ---------------------------------------------------------- */

Datum
zvt_bollinger_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
	{
		int			n = period_arg(fcinfo, 2, "period");
		double		k = PG_ARGISNULL(3) ? NAN : PG_GETARG_FLOAT8(3);

		if (!(k >= 0) || isinf(k))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("band width must be a finite number of standard deviations >= 0")));
		s = state_new(fcinfo, n);
		ind_bollinger_init(&s->u.bb, n, k, s->ring);
	}
	if (!PG_ARGISNULL(1))
		ind_bollinger_step(&s->u.bb, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

Datum
zvt_bollinger_final(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[3];
	bool		nulls[3] = {false, false, false};
	double		mid,
				upper,
				lower;

	if (PG_ARGISNULL(0) ||
		!ind_bollinger_read(&((IndState *) PG_GETARG_POINTER(0))->u.bb, &mid, &upper, &lower))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	v[0] = Float8GetDatum(mid);
	v[1] = Float8GetDatum(upper);
	v[2] = Float8GetDatum(lower);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}

/* ---- atr ---------------------------------------------------------------- */

Datum
zvt_atr_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
	{
		s = state_new(fcinfo, 0);
		ind_atr_init(&s->u.atr, period_arg(fcinfo, 4, "period"));
	}
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !PG_ARGISNULL(3))
		ind_atr_step(&s->u.atr, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3));
	PG_RETURN_POINTER(s);
}

Datum
zvt_atr_final(PG_FUNCTION_ARGS)
{
	double		v;

	if (PG_ARGISNULL(0) || !ind_atr_read(&((IndState *) PG_GETARG_POINTER(0))->u.atr, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* ---- vwap --------------------------------------------------------------- */

Datum
zvt_vwap_step(PG_FUNCTION_ARGS)
{
	IndState   *s = PG_ARGISNULL(0) ? NULL : (IndState *) PG_GETARG_POINTER(0);

	if (!s)
		s = state_new(fcinfo, 0);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		ind_vwap_step(&s->u.vwap, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
	PG_RETURN_POINTER(s);
}

Datum
zvt_vwap_final(PG_FUNCTION_ARGS)
{
	double		v;

	if (PG_ARGISNULL(0) || !ind_vwap_read(&((IndState *) PG_GETARG_POINTER(0))->u.vwap, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}
