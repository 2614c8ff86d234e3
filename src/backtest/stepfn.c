/*-------------------------------------------------------------------------
 *
 * src/backtest/stepfn.c
 *	  Step functions of zvt.backtest: a user's function called once per
 *	  closed bar with the bar and a jsonb state, returning the target and
 *	  the next state.
 *
 * The function must be f(zvt.candles_v, jsonb) returning a row of a
 * float8 named target and a jsonb named state (in either order: PL/pgSQL
 * wants f(bar zvt.candles_v, INOUT state jsonb, OUT target float8)), through
 * OUT parameters or a composite type; anything else
 * is 42883 (the arguments) or 22023 (the result), said before any bar is
 * read.  It runs as an ordinary call by the caller: EXECUTE is checked
 * (42501) and the function's own rights apply inside.  fmgr_info is done
 * once; each bar reuses one FunctionCallInfo, builds the bar as a
 * zvt.candles_v row in a context reset before each call, and copies the
 * returned state into the caller's context (freeing the previous one), so
 * memory stays flat however many bars there are.  The state starts as
 * '{}'; a NULL target keeps the last one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "backtest/stepfn.h"

#define STEP_FN_SIGNATURE "f(bar zvt.candles_v, INOUT state jsonb, OUT target float8)"

static Oid	candles_v_type(void);
static void check_result(BtStepFn *s);

/* the row type of zvt.candles_v */
static Oid
candles_v_type(void)
{
	TypeName   *tn = makeTypeNameFromNameList(list_make2(makeString("zvt"),
														 makeString("candles_v")));

	return typenameTypeId(NULL, tn);
}

/*
 * 22023 unless the function returns one row of a float8 named target and a
 * jsonb named state, in either order (INOUT state jsonb puts state first).
 */
static void
check_result(BtStepFn *s)
{
	Oid			rettype;
	TupleDesc	td = NULL;
	bool		ok = false;

	if (get_func_result_type(s->fn, &rettype, &td) == TYPEFUNC_COMPOSITE && td->natts == 2)
	{
		s->target_att = -1;
		s->state_att = -1;
		for (int i = 0; i < 2; i++)
		{
			Form_pg_attribute att = TupleDescAttr(td, i);

			if (strcmp(NameStr(att->attname), "target") == 0 && att->atttypid == FLOAT8OID)
				s->target_att = i;
			else if (strcmp(NameStr(att->attname), "state") == 0 && att->atttypid == JSONBOID)
				s->state_att = i;
		}
		ok = s->target_att >= 0 && s->state_att >= 0;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step_fn %s must return (target float8, state jsonb)", s->name),
				 errdetail("It returns %s.", td ? "a row of other columns" : format_type_be(rettype)),
				 errhint("Declare it as %s.", STEP_FN_SIGNATURE)));
	s->result_desc = CreateTupleDescCopy(td);
}

/*
 * Check fn and prepare the calls; the state starts as '{}'.  Allocates in
 * the current memory context, which must last until bt_stepfn_close().
 */
void
bt_stepfn_open(BtStepFn *s, Oid fn)
{
	HeapTuple	proctup;
	Form_pg_proc proc;
	Oid			bar_type = candles_v_type();
	AclResult	acl;

	memset(s, 0, sizeof(*s));
	s->fn = fn;
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(proctup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("step_fn function with OID %u does not exist", fn)));
	proc = (Form_pg_proc) GETSTRUCT(proctup);
	s->name = format_procedure(fn);
	if (proc->prokind != PROKIND_FUNCTION || proc->proretset || proc->pronargs != 2 ||
		proc->proargtypes.values[0] != bar_type || proc->proargtypes.values[1] != JSONBOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("step_fn %s must be a function of (zvt.candles_v, jsonb) returning one row",
						s->name),
				 errhint("Declare it as %s.", STEP_FN_SIGNATURE)));
	ReleaseSysCache(proctup);
	check_result(s);

	acl = pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FUNCTION, get_func_name(fn));
	InvokeFunctionExecuteHook(fn);

	fmgr_info(fn, &s->flinfo);
	s->fcinfo = palloc0(SizeForFunctionCallInfo(2));
	InitFunctionCallInfoData(*s->fcinfo, &s->flinfo, 2, InvalidOid, NULL, NULL);
	s->bar_desc = lookup_rowtype_tupdesc_copy(bar_type, -1);
	s->state = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	s->state_null = false;
	s->call_cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt step_fn call",
										ALLOCSET_DEFAULT_SIZES);
}

/*
 * Call the function for one bar: row is a row of bt_open_bars(),
 * whose columns are those of zvt.candles_v.  Returns false when the
 * target is NULL (keep the last one), else sets *target.  The new state
 * replaces the old.
 */
bool
bt_stepfn_call(BtStepFn *s, HeapTuple row, TupleDesc row_desc, double *target)
{
	MemoryContext outer = MemoryContextSwitchTo(s->call_cxt);
	Datum	   *values;
	bool	   *nulls;
	Datum		result;
	Datum		old_state = s->state;
	bool		old_null = s->state_null;
	Datum		out[2] = {0, 0};
	bool		out_null[2] = {true, true};
	int			ti = s->target_att;
	int			si = s->state_att;

	MemoryContextReset(s->call_cxt);
	values = palloc(sizeof(Datum) * row_desc->natts);
	nulls = palloc(sizeof(bool) * row_desc->natts);
	heap_deform_tuple(row, row_desc, values, nulls);

	s->fcinfo->args[0].value = HeapTupleGetDatum(heap_form_tuple(s->bar_desc, values, nulls));
	s->fcinfo->args[0].isnull = false;
	s->fcinfo->args[1].value = s->state;
	s->fcinfo->args[1].isnull = s->state_null;
	s->fcinfo->isnull = false;
	if (s->flinfo.fn_strict && s->state_null)
		result = (Datum) 0;		/* a strict function is not called with NULL */
	else
	{
		result = FunctionCallInvoke(s->fcinfo);
		if (!s->fcinfo->isnull)
		{
			HeapTupleHeader th = DatumGetHeapTupleHeader(result);
			HeapTupleData tmp;

			tmp.t_len = HeapTupleHeaderGetDatumLength(th);
			ItemPointerSetInvalid(&tmp.t_self);
			tmp.t_tableOid = InvalidOid;
			tmp.t_data = th;
			heap_deform_tuple(&tmp, s->result_desc, out, out_null);
		}
	}

	/* copy first: the function may have returned the state it was given */
	MemoryContextSwitchTo(outer);
	s->state_null = out_null[si];
	s->state = out_null[si] ? (Datum) 0 : datumCopy(out[si], false, -1);
	if (!old_null)
		pfree(DatumGetPointer(old_state));
	if (out_null[ti])
		return false;
	*target = DatumGetFloat8(out[ti]);
	return true;
}

void
bt_stepfn_close(BtStepFn *s)
{
	MemoryContextDelete(s->call_cxt);
}
