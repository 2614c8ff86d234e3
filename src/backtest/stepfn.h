/*-------------------------------------------------------------------------
 *
 * src/backtest/stepfn.h
 *	  A user's step function for zvt.backtest: f(bar zvt.candles_v, INOUT
 *	  state jsonb, OUT target float8), called once per closed bar through
 *	  fmgr with a state kept between calls (stepfn.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_STEPFN_H
#define ZVT_BACKTEST_STEPFN_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"

typedef struct BtStepFn
{
	Oid			fn;
	char	   *name;			/* for messages */
	FmgrInfo	flinfo;
	FunctionCallInfo fcinfo;	/* two args, reused for every bar */
	TupleDesc	bar_desc;		/* zvt.candles_v */
	TupleDesc	result_desc;	/* target float8 and state jsonb */
	int			target_att;		/* their positions in result_desc */
	int			state_att;
	Datum		state;			/* in the caller's context, or NULL */
	bool		state_null;
	MemoryContext call_cxt;		/* reset before each call */
} BtStepFn;

/* in stepfn.c */
extern void bt_stepfn_open(BtStepFn *s, Oid fn);
extern bool bt_stepfn_call(BtStepFn *s, HeapTuple row, TupleDesc row_desc, double *target);
extern void bt_stepfn_close(BtStepFn *s);

#endif							/* ZVT_BACKTEST_STEPFN_H */
