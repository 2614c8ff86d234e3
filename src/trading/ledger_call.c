/*-------------------------------------------------------------------------
 *
 * src/trading/ledger_call.c
 *	  Entry point of the trading functions: note who called, then run the
 *	  function's body as the owner of the ledger.
 *
 * Users hold no INSERT, UPDATE or DELETE on the ledger (accounts, orders,
 * fills, balances, holdings, order_events).  Each public trading function,
 * zvt.place_order for example, is declared in SQL as this C function.  It
 * takes the caller from GetUserId(), switches to the owner of the body
 * zvt._place_order (the extension's owner) and calls the body with the
 * caller's oid as a first argument before the public arguments.  The body
 * checks the caller's right to the account, then writes.
 *
 * A SECURITY DEFINER body alone could not do this: inside it the caller is
 * no longer visible (current_user is the definer, and session_user ignores
 * SET ROLE).  The body also runs with search_path = pg_catalog, pg_temp,
 * set here once for the whole call instead of by a SET clause on every
 * helper it calls.  Errors need no cleanup here: transaction and
 * subtransaction abort restore the user id, security context and GUCs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "executor/tuptable.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "base/export.h"

PG_FUNCTION_INFO_V1(zvt_ledger_call);

typedef struct LedgerBody LedgerBody;
static LedgerBody *ledger_body_find(FmgrInfo *flinfo, MemoryContext mcxt);

/* What a public function calls, cached in its FmgrInfo. */
struct LedgerBody
{
	FmgrInfo	flinfo;			/* zvt._<name>(oid, <public arguments>) */
	Oid			owner;			/* who the body runs as */
	int			nargs;			/* public arguments */
};

/*
 * The bodies found so far, per backend, keyed by the public function's
 * oid: every execution of a prepared statement makes a new FmgrInfo, and
 * looking the body up by name each time is a good part of a short call.
 * Any change to pg_proc empties it (at the next call, so that no entry
 * goes while in use); calls use copies of the entries.
 */
typedef struct LedgerBodyEntry
{
	Oid			fn_oid;			/* the public function */
	LedgerBody	body;			/* flinfo.fn_extra stays NULL here */
} LedgerBodyEntry;

static MemoryContext body_cache_cxt = NULL;
static List *body_cache = NIL;
static bool body_cache_stale = false;
static bool body_cache_callback = false;

static void
body_cache_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	body_cache_stale = true;
}

/*
 * Find the body of the public function fn_oid: same schema, its name with
 * a leading underscore, an oid first and then the same argument types.
 */
static LedgerBody *
ledger_body_lookup(FmgrInfo *flinfo)
{
	LedgerBodyEntry *entry;
	ListCell   *lc;
	LedgerBody *body;
	MemoryContext old;

	if (!body_cache_callback)
	{
		CacheRegisterSyscacheCallback(PROCOID, body_cache_invalidate, (Datum) 0);
		body_cache_callback = true;
	}
	if (body_cache_stale && body_cache_cxt != NULL)
	{
		MemoryContextDelete(body_cache_cxt);
		body_cache_cxt = NULL;
		body_cache = NIL;
	}
	body_cache_stale = false;
	foreach(lc, body_cache)
	{
		entry = (LedgerBodyEntry *) lfirst(lc);
		if (entry->fn_oid == flinfo->fn_oid)
		{
			body = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(LedgerBody));
			*body = entry->body;
			body->flinfo.fn_mcxt = flinfo->fn_mcxt;
			flinfo->fn_extra = body;
			return body;
		}
	}
	if (body_cache_cxt == NULL)
		body_cache_cxt = AllocSetContextCreate(TopMemoryContext, "zvt ledger bodies",
											   ALLOCSET_SMALL_SIZES);
	body = ledger_body_find(flinfo, body_cache_cxt);
	if (body_cache_stale)
	{
		/* pg_proc changed while looking: use it this once, cache nothing */
		LedgerBody *copy = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(LedgerBody));

		*copy = *body;
		copy->flinfo.fn_mcxt = flinfo->fn_mcxt;
		flinfo->fn_extra = copy;
		return copy;
	}
	old = MemoryContextSwitchTo(body_cache_cxt);
	entry = palloc(sizeof(LedgerBodyEntry));
	entry->fn_oid = flinfo->fn_oid;
	entry->body = *body;
	body_cache = lappend(body_cache, entry);
	MemoryContextSwitchTo(old);
	body = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(LedgerBody));
	*body = entry->body;
	body->flinfo.fn_mcxt = flinfo->fn_mcxt;
	flinfo->fn_extra = body;
	return body;
}

/* Look the body of flinfo's function up in the catalogs; the result in mcxt. */
static LedgerBody *
ledger_body_find(FmgrInfo *flinfo, MemoryContext mcxt)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	Oid			argtypes[FUNC_MAX_ARGS];
	char	   *bodyname;
	char	   *nspname;
	Oid			bodyoid;
	LedgerBody *body;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(flinfo->fn_oid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", flinfo->fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (proc->pronargs + 1 > FUNC_MAX_ARGS)
		elog(ERROR, "too many arguments for a ledger function");
	argtypes[0] = OIDOID;
	memcpy(&argtypes[1], proc->proargtypes.values, proc->pronargs * sizeof(Oid));
	bodyname = psprintf("_%s", NameStr(proc->proname));
	nspname = get_namespace_name(proc->pronamespace);

	body = MemoryContextAllocZero(mcxt, sizeof(LedgerBody));
	body->nargs = proc->pronargs;
	ReleaseSysCache(tup);

	bodyoid = LookupFuncName(list_make2(makeString(nspname), makeString(bodyname)),
							 body->nargs + 1, argtypes, false);
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(bodyoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", bodyoid);
	body->owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);

	fmgr_info_cxt(bodyoid, &body->flinfo, mcxt);
	return body;
}

Datum
zvt_ledger_call(PG_FUNCTION_ARGS)
{
	LedgerBody *body = (LedgerBody *) fcinfo->flinfo->fn_extra;
	FunctionCallInfo inner;
	Oid			caller = GetUserId();
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Datum		result;

	if (body == NULL)
		body = ledger_body_lookup(fcinfo->flinfo);

	inner = palloc(SizeForFunctionCallInfo(body->nargs + 1));
	InitFunctionCallInfoData(*inner, &body->flinfo, body->nargs + 1,
							 fcinfo->fncollation, NULL, NULL);
	inner->args[0].value = ObjectIdGetDatum(caller);
	inner->args[0].isnull = false;
	for (int i = 0; i < body->nargs; i++)
		inner->args[i + 1] = fcinfo->args[i];

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(body->owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	result = FunctionCallInvoke(inner);
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	fcinfo->isnull = inner->isnull;
	pfree(inner);
	return result;
}

/*
 * zvt._my_accounts() RETURNS int4[]
 *
 * The accounts the calling role may use: those whose owner's privileges
 * it has, those granted to a role whose privileges it has, or all of them
 * for members of zvt_admin.  The row-level security policies of the ledger
 * call it once per query (as an InitPlan) instead of checking every row.
 * It reads zvt.accounts and zvt.account_grants by plain heap scans, which
 * row-level security does not apply to: the policies of those very tables
 * call it.
 */
PG_FUNCTION_INFO_V1(zvt_my_accounts);

Datum
zvt_my_accounts(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			admin = get_role_oid("zvt_admin", true);
	bool		all = OidIsValid(admin) && has_privs_of_role(caller, admin);
	List	   *granted = NIL;
	List	   *mine = NIL;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Datum	   *ids;
	int			n = 0;
	ListCell   *lc;

	/* grants: (account_id, grantee, ...) */
	rel = table_open(get_relname_relid("account_grants", nsp), AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int32		account_id = DatumGetInt32(slot_getattr(slot, 1, &isnull));
		Oid			grantee = DatumGetObjectId(slot_getattr(slot, 2, &isnull));

		if (has_privs_of_role(caller, grantee))
			granted = lappend_int(granted, account_id);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);

	/* accounts: (account_id, ..., owner, ...) */
	rel = table_open(get_relname_relid("accounts", nsp), AccessShareLock);
	{
		int			owner_attno = 0;
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts; i++)
			if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), "owner") == 0)
				owner_attno = i + 1;
		if (owner_attno == 0)
			elog(ERROR, "zvt.accounts has no owner column");
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			int32		account_id = DatumGetInt32(slot_getattr(slot, 1, &isnull));
			Oid			owner = DatumGetObjectId(slot_getattr(slot, owner_attno, &isnull));

			if (all || has_privs_of_role(caller, owner) || list_member_int(granted, account_id))
				mine = lappend_int(mine, account_id);
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
	}
	table_close(rel, AccessShareLock);

	ids = palloc(sizeof(Datum) * (list_length(mine) + 1));
	foreach(lc, mine)
		ids[n++] = Int32GetDatum(lfirst_int(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
