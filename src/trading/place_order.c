/*-------------------------------------------------------------------------
 *
 * src/trading/place_order.c
 *	  zvt._place_order(): the body of zvt.place_order, in C.
 *
 * The trampoline (ledger_call.c) calls this as the ledger's owner with the
 * caller's oid first.  It validates the arguments, finds the account (and
 * checks the caller's right to it) and the instrument by direct index
 * scans, takes the account's lock (common/locks.c), answers client_order_id
 * retries, prices the order from the market bus, runs the risk check
 * (risk_sql.c) without going through SQL, and writes the order, its first
 * two events and its exposure straight into the heap and indexes (see
 * "writing the order" below).  The rare outcomes stay in PL/pgSQL: a taker
 * fills through zvt._fill and an ioc/fok remainder expires through
 * zvt._close_order.
 *
 * Messages, SQLSTATEs and every value written are those of the PL/pgSQL
 * body this replaced (test/sql/trading.sql is the specification); numeric
 * arithmetic goes through the numeric type's own functions so the results
 * are exactly those SQL computes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "common/locks.h"
#include "trading/trading.h"

PG_FUNCTION_INFO_V1(zvt_place_order);


/* The relations, indexes and sequences used here (an index follows its table). */
typedef enum PlaceRel
{
	P_ACCOUNTS,
	P_ACCOUNTS_NAME,
	P_GRANTS,
	P_GRANTS_PKEY,
	P_INSTRUMENTS,
	P_INSTRUMENTS_SYMBOL,
	P_ORDERS,
	P_ORDERS_CLIENT_ID,
	P_EXPOSURE,
	P_EXPOSURE_PKEY,
	P_EVENTS,
	P_ORDERS_SEQ,
	P_EVENTS_SEQ,
	P_COUNT
} PlaceRel;

static const char *const place_names[P_COUNT] = {
	"accounts", "accounts_name_key", "account_grants", "account_grants_pkey",
	"instruments", "instruments_exchange_symbol_key",
	"orders", "orders_account_id_client_order_id_key",
	"exposure", "exposure_pkey", "order_events",
	"orders_order_id_seq", "order_events_event_id_seq"
};

/*
 * Per backend: oids and the PL/pgSQL helpers.  Not per call site: the
 * trampoline's FmgrInfo, and so this function's, is made anew by every
 * execution of a prepared statement.  It
 * belongs to one version of zvt._place_order (fn_oid); a new one (the
 * extension dropped and created again) builds it again.
 */
typedef struct PlaceCache
{
	Oid			fn_oid;
	MemoryContext mcxt;
	Oid			nsp;
	Oid			oid[P_COUNT];
	FmgrInfo	fill;			/* zvt._fill */
	FmgrInfo	close;			/* zvt._close_order */
	RiskLedger *risk;
} PlaceCache;

/* ----------------------------------------------------------------
 * numeric arithmetic, exactly as SQL does it
 * ----------------------------------------------------------------
 */
static Datum
num_int(int64 v)
{
	return NumericGetDatum(int64_to_numeric(v));
}

static Datum
num_add(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_add, a, b);
}

static Datum
num_sub(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_sub, a, b);
}

static Datum
num_mul(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_mul, a, b);
}

static Datum
num_div(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_div, a, b);
}

static Datum
num_trim(Datum a)
{
	return DirectFunctionCall1(numeric_trim_scale, a);
}

static int
num_cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/* a compared with 0 (NaN sorts above everything, as in SQL) */
static int
num_cmp0(Datum a)
{
	return num_cmp(a, num_int(0));
}

static bool
num_nan(Datum a)
{
	return numeric_is_nan(DatumGetNumeric(a));
}

/* + or - Infinity */
static bool
num_inf(Datum a)
{
	return numeric_is_inf(DatumGetNumeric(a));
}

static char *
num_str(Datum a)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, a));
}

/* a % m <> 0 */
static bool
num_not_multiple(Datum a, Datum m)
{
	return num_cmp0(DirectFunctionCall2(numeric_mod, a, m)) != 0;
}

/*
 * v::numeric.  The bus's prices change far less often than orders come, so
 * the last few conversions are kept (float8_numeric prints and parses).
 */
static Datum
float_num(double v)
{
	static double seen[4];
	static Datum numeric[4];
	static int	nseen = 0;
	static int	next = 0;
	int			slot = next;
	Datum		converted;
	MemoryContext old;

	for (int i = 0; i < nseen; i++)
		if (memcmp(&seen[i], &v, sizeof(double)) == 0)
			return numeric[i];
	converted = DirectFunctionCall1(float8_numeric, Float8GetDatum(v));
	old = MemoryContextSwitchTo(TopMemoryContext);
	converted = datumCopy(converted, false, -1);
	MemoryContextSwitchTo(old);
	if (nseen == lengthof(seen))
		pfree(DatumGetPointer(numeric[slot]));
	else
		nseen++;
	seen[slot] = v;
	numeric[slot] = converted;
	next = (slot + 1) % lengthof(seen);
	return numeric[slot];
}

/* ----------------------------------------------------------------
 * reading rows
 * ----------------------------------------------------------------
 */

/* One row read by an index scan, copied out of the buffer. */
typedef struct Row
{
	HeapTuple	tuple;
	TupleDesc	desc;			/* a copy of the relation's */
	ItemPointerData tid;		/* where the row version read is */
	Datum	   *values;
	bool	   *nulls;
} Row;

static int
row_attno(Row *r, const char *name)
{
	for (int i = 0; i < r->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(r->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	elog(ERROR, "zvt relation has no column \"%s\"", name);
	return -1;
}

static Datum
row_get(Row *r, const char *name)
{
	return r->values[row_attno(r, name)];
}

/* a column that may be NULL: its value or (Datum) 0, *isnull set */
static Datum
row_get_null(Row *r, const char *name, bool *isnull)
{
	int			i = row_attno(r, name);

	*isnull = r->nulls[i];
	return *isnull ? (Datum) 0 : r->values[i];
}

static char *
row_text(Row *r, const char *name)
{
	int			i = row_attno(r, name);

	return r->nulls[i] ? NULL : TextDatumGetCString(r->values[i]);
}

/*
 * The first row of rel whose index idx matches keys (equality on the
 * leading columns, in the index's collation), under the active snapshot;
 * false when none.  The row and the descriptor are copied so that they
 * outlive the scan.  Locks here are kept until the transaction ends, as a
 * query's would: taking them again is then cheap.
 */
static bool
fetch_row(PlaceCache *c, PlaceRel rel, ScanKey keys, int nkeys, Row *out)
{
	Relation	r = table_open(c->oid[rel], AccessShareLock);
	Relation	idx = index_open(c->oid[rel + 1], AccessShareLock);
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(r, NULL);
	bool		found;

	for (int i = 0; i < nkeys; i++)
		keys[i].sk_collation = idx->rd_indcollation[i];
	scan = index_beginscan(r, idx, GetActiveSnapshot(), nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		out->tuple = ExecCopySlotHeapTuple(slot);
		out->tid = slot->tts_tid;
		out->desc = CreateTupleDescCopy(RelationGetDescr(r));
		out->values = palloc(sizeof(Datum) * out->desc->natts);
		out->nulls = palloc(sizeof(bool) * out->desc->natts);
		heap_deform_tuple(out->tuple, out->desc, out->values, out->nulls);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, NoLock);
	table_close(r, NoLock);
	return found;
}

/* may caller use account_id (granted to a role whose privileges it has)? */
static bool
granted(PlaceCache *c, int32 account_id, Oid caller)
{
	Relation	r = table_open(c->oid[P_GRANTS], AccessShareLock);
	Relation	idx = index_open(c->oid[P_GRANTS_PKEY], AccessShareLock);
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(r, NULL);
	ScanKeyData key;
	int			attno = -1;
	bool		ok = false;

	for (int i = 0; i < RelationGetDescr(r)->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(RelationGetDescr(r), i)->attname), "grantee") == 0)
			attno = i + 1;
	if (attno < 0)
		elog(ERROR, "zvt.account_grants has no column \"grantee\"");
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(account_id));
	scan = index_beginscan(r, idx, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (!ok && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		grantee = slot_getattr(slot, attno, &isnull);

		ok = !isnull && has_privs_of_role(caller, DatumGetObjectId(grantee));
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, NoLock);
	table_close(r, NoLock);
	return ok;
}

/* ----------------------------------------------------------------
 * the cache
 * ----------------------------------------------------------------
 */
static void
lookup_helper(PlaceCache *c, const char *name, int nargs, Oid *argtypes, FmgrInfo *out,
			  MemoryContext mcxt)
{
	Oid			fn = LookupFuncName(list_make2(makeString(get_namespace_name(c->nsp)),
											   makeString(pstrdup(name))),
									nargs, argtypes, false);

	fmgr_info_cxt(fn, out, mcxt);
}

static PlaceCache *place_cache_current = NULL;

static PlaceCache *
place_cache(FmgrInfo *flinfo)
{
	PlaceCache *c = place_cache_current;
	MemoryContext mcxt;
	Oid			fill_args[7];
	Oid			close_args[4];
	Oid			accounts_type;
	Oid			orders_type;

	if (c && c->fn_oid == flinfo->fn_oid)
		return c;
	if (c)
	{
		/* an older zvt._place_order's */
		place_cache_current = NULL;
		MemoryContextDelete(c->mcxt);
	}
	mcxt = AllocSetContextCreate(TopMemoryContext, "zvt place_order cache",
								 ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(mcxt, sizeof(PlaceCache));
	c->mcxt = mcxt;
	c->fn_oid = flinfo->fn_oid;
	c->nsp = get_func_namespace(flinfo->fn_oid);
	ledger_relation_oids(c->nsp, place_names, P_COUNT, c->oid);
	accounts_type = get_rel_type_id(c->oid[P_ACCOUNTS]);
	orders_type = get_rel_type_id(c->oid[P_ORDERS]);
	fill_args[0] = accounts_type;
	fill_args[1] = orders_type;
	fill_args[2] = NUMERICOID;
	fill_args[3] = NUMERICOID;
	fill_args[4] = TEXTOID;
	fill_args[5] = TIMESTAMPTZOID;
	fill_args[6] = BOOLOID;
	lookup_helper(c, "_fill", 7, fill_args, &c->fill, mcxt);
	close_args[0] = orders_type;
	close_args[1] = TEXTOID;
	close_args[2] = TEXTOID;
	close_args[3] = BOOLOID;
	lookup_helper(c, "_close_order", 4, close_args, &c->close, mcxt);
	c->risk = risk_ledger_create(c->nsp, mcxt);
	place_cache_current = c;
	return c;
}

/* call a PL/pgSQL helper returning zvt.orders */
static Datum
call_helper(FmgrInfo *fn, int nargs, Datum *args, bool *nulls)
{
	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, fn, nargs, InvalidOid, NULL, NULL);
	for (int i = 0; i < nargs; i++)
	{
		fcinfo->args[i].value = args[i];
		fcinfo->args[i].isnull = nulls[i];
	}
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "zvt helper %u returned NULL", fn->fn_oid);
	return result;
}

/* ----------------------------------------------------------------
 * writing the order
 *
 * Straight into the heap and the indexes, as the executor's INSERT would,
 * without its per-statement startup (plans, CHECK expressions read back
 * from the catalog, foreign key triggers running queries).  What those
 * would check holds by construction here:
 * - the CHECK constraints of zvt.orders (side, type, qty > 0, tif, status)
 *   and of zvt.order_events (event) are what the validation above allows;
 * - the foreign keys to zvt.accounts and zvt.instruments: their rows are
 *   locked FOR KEY SHARE here, as the triggers would, and an event's order
 *   is the row just written;
 * - unique indexes are checked by the index insertion itself.
 * Every write of an account's ledger happens under its account lock, so
 * the exposure row read here is the latest and updating it cannot race.
 * ----------------------------------------------------------------
 */

/* What write_order writes: the values of the new order. */
typedef struct OrderRow
{
	int32		account_id;
	int32		instrument_id;
	ItemPointerData account_tid;
	ItemPointerData instrument_tid;
	const char *exchange;
	const char *symbol;
	const char *side;
	const char *type;
	Datum		qty;
	bool		price_null;
	Datum		price;
	bool		stop_null;
	Datum		stop_price;
	bool		trail_null;
	Datum		trail_pct;
	const char *tif;
	bool		post_only;
	bool		reduce_only;
	const char *client_order_id;
	const char *reason;			/* NULL: accepted, else rejected */
	bool		trail_ref_null;
	Datum		trail_ref;
	Datum		ref;			/* reserve_price */
	bool		have_bus;
	int64		trades;
	int64		quotes;
	int			dir;
	bool		rests;
} OrderRow;

/* One relation written: its indexes, a slot and the row being built. */
typedef struct Target
{
	Relation	rel;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *nulls;
	bool	   *set;
	int			next;			/* where row_set looks first: columns come in order */
} Target;

/*
 * The direct writes stand for what an INSERT (and, with update, an
 * UPDATE) would run: refuse a table that has grown a user trigger on
 * those or CHECK constraints other than the checks this file knows
 * (checks of them), rather than bypass them.
 */
static void
target_guard(Relation rel, int checks, bool update)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	TriggerDesc *td = rel->trigdesc;
	bool		trigger = false;

	if (td)
		for (int i = 0; i < td->numtriggers; i++)
			if (!td->triggers[i].tgisinternal &&
				(TRIGGER_FOR_INSERT(td->triggers[i].tgtype) ||
				 (update && TRIGGER_FOR_UPDATE(td->triggers[i].tgtype))))
				trigger = true;
	if (trigger || (constr ? constr->num_check : 0) != checks)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("zvt.place_order cannot write zvt.%s: it has %s its direct writes would bypass",
						RelationGetRelationName(rel),
						trigger ? "a trigger" : "CHECK constraints"),
				 errdetail("place_order writes the ledger without the executor and checks what zvt defined itself."),
				 errhint("Remove the trigger or constraint added to zvt.%s.", RelationGetRelationName(rel))));
}

static void
target_open(EState *estate, Oid relid, Target *t, int checks, bool update)
{
	int			natts;

	t->rel = table_open(relid, RowExclusiveLock);
	target_guard(t->rel, checks, update);
	t->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(t->rri, t->rel, 0, NULL, 0);
	ExecOpenIndices(t->rri, false);
	t->slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->rel),
									 table_slot_callbacks(t->rel));
	natts = RelationGetDescr(t->rel)->natts;
	t->values = palloc(sizeof(Datum) * natts);
	t->nulls = palloc(sizeof(bool) * natts);
	t->set = palloc(sizeof(bool) * natts);
}

static void
target_close(Target *t)
{
	ExecCloseIndices(t->rri);
	table_close(t->rel, NoLock);
}

/* start a row: every column must then be set */
static void
row_begin(Target *t)
{
	int			natts = RelationGetDescr(t->rel)->natts;

	t->next = 0;
	for (int i = 0; i < natts; i++)
	{
		t->set[i] = TupleDescAttr(RelationGetDescr(t->rel), i)->attisdropped;
		t->nulls[i] = true;
		t->values[i] = (Datum) 0;
	}
}

static void
row_set(Target *t, const char *name, Datum v, bool isnull)
{
	TupleDesc	desc = RelationGetDescr(t->rel);

	for (int k = 0; k < desc->natts; k++)
	{
		int			i = (t->next + k) % desc->natts;
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			t->values[i] = v;
			t->nulls[i] = isnull;
			t->set[i] = true;
			t->next = i + 1;
			return;
		}
	}
	elog(ERROR, "zvt.%s has no column \"%s\"", RelationGetRelationName(t->rel), name);
}

static void
row_set_text(Target *t, const char *name, const char *v)
{
	row_set(t, name, v ? CStringGetTextDatum(v) : (Datum) 0, v == NULL);
}

/* the row as a slot, every column set */
static TupleTableSlot *
row_slot(Target *t)
{
	TupleDesc	desc = RelationGetDescr(t->rel);

	for (int i = 0; i < desc->natts; i++)
		if (!t->set[i])
			elog(ERROR, "zvt.%s column \"%s\" is not written by zvt._place_order",
				 RelationGetRelationName(t->rel), NameStr(TupleDescAttr(desc, i)->attname));
	ExecClearTuple(t->slot);
	memcpy(t->slot->tts_values, t->values, sizeof(Datum) * desc->natts);
	memcpy(t->slot->tts_isnull, t->nulls, sizeof(bool) * desc->natts);
	return ExecStoreVirtualTuple(t->slot);
}

/* insert the row and its index entries */
static void
row_insert(EState *estate, Target *t)
{
	TupleTableSlot *slot = row_slot(t);
	List	   *recheck;

	table_tuple_insert(t->rel, slot, GetCurrentCommandId(true), 0, NULL);
	recheck = ExecInsertIndexTuples(t->rri, slot, estate, false, false, NULL, NIL);
	list_free(recheck);
}

/*
 * Lock the referenced row at tid FOR KEY SHARE (its latest version), as
 * the foreign key trigger of the referencing insert would: it cannot go
 * while this transaction runs.
 */
static void
lock_referenced(Oid relid, ItemPointer tid, const char *constraint, const char *column,
				int32 key)
{
	Relation	rel = table_open(relid, RowShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TM_FailureData tmfd;
	TM_Result	res;
	ItemPointerData t = *tid;

	res = table_tuple_lock(rel, &t, GetActiveSnapshot(), slot, GetCurrentCommandId(false),
						   LockTupleKeyShare, LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	if (res == TM_Ok || res == TM_SelfModified)
		return;
	if (res == TM_Updated && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("insert or update on table \"orders\" violates foreign key constraint \"%s\"",
					constraint),
			 errdetail("Key (%s)=(%d) is not present in table \"%s\".", column, key,
					   get_rel_name(relid))));
}

/* add the resting order w to its account's open-order totals */
static void
add_exposure(PlaceCache *c, EState *estate, const OrderRow *w)
{
	Target		t;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *old;
	ScanKeyData keys[2];
	bool		found;
	Datum		zero = num_int(0);
	Datum		qty = w->qty;
	Datum		notional = num_mul(w->qty, w->ref);
	Datum		buy_qty = w->dir == 1 ? qty : zero;
	Datum		sell_qty = w->dir == 1 ? zero : qty;
	Datum		buy_notional = w->dir == 1 ? notional : zero;
	Datum		sell_notional = w->dir == 1 ? zero : notional;

	target_open(estate, c->oid[P_EXPOSURE], &t, 0, true);
	idx = index_open(c->oid[P_EXPOSURE_PKEY], AccessShareLock);
	old = table_slot_create(t.rel, NULL);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(w->account_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(w->instrument_id));
	scan = index_beginscan(t.rel, idx, GetActiveSnapshot(), 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, old);
	row_begin(&t);
	row_set(&t, "account_id", Int32GetDatum(w->account_id), false);
	row_set(&t, "instrument_id", Int32GetDatum(w->instrument_id), false);
	if (!found)
	{
		row_set(&t, "open_orders", Int32GetDatum(1), false);
		row_set(&t, "buy_qty", buy_qty, false);
		row_set(&t, "sell_qty", sell_qty, false);
		row_set(&t, "buy_notional", buy_notional, false);
		row_set(&t, "sell_notional", sell_notional, false);
		row_insert(estate, &t);
	}
	else
	{
		TupleDesc	desc = RelationGetDescr(t.rel);
		ItemPointerData otid = old->tts_tid;
		TM_FailureData tmfd;
		LockTupleMode lockmode;
		bool		update_indexes;
		TM_Result	res;
		bool		isnull;

		slot_getallattrs(old);

		/*
		 * ON CONFLICT DO UPDATE SET open_orders = x.open_orders + 1, buy_qty
		 * = trim_scale(x.buy_qty + EXCLUDED.buy_qty), ...
		 */
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			const char *name = NameStr(att->attname);
			Datum		v = old->tts_values[i];

			isnull = old->tts_isnull[i];
			if (att->attisdropped)
				continue;
			if (strcmp(name, "open_orders") == 0)
				v = Int32GetDatum(DatumGetInt32(DirectFunctionCall2(int4pl, v, Int32GetDatum(1))));
			else if (strcmp(name, "buy_qty") == 0)
				v = num_trim(num_add(v, buy_qty));
			else if (strcmp(name, "sell_qty") == 0)
				v = num_trim(num_add(v, sell_qty));
			else if (strcmp(name, "buy_notional") == 0)
				v = num_trim(num_add(v, buy_notional));
			else if (strcmp(name, "sell_notional") == 0)
				v = num_trim(num_add(v, sell_notional));
			else
				v = datumCopy(v, att->attbyval, att->attlen);
			if (strcmp(name, "account_id") != 0 && strcmp(name, "instrument_id") != 0)
				row_set(&t, name, v, isnull);
		}
		res = table_tuple_update(t.rel, &otid, row_slot(&t), GetCurrentCommandId(true),
								 GetActiveSnapshot(), InvalidSnapshot, true, &tmfd,
								 &lockmode, &update_indexes);
		if (res != TM_Ok)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
		if (update_indexes)
			list_free(ExecInsertIndexTuples(t.rri, t.slot, estate, true, false, NULL, NIL));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(old);
	index_close(idx, NoLock);
	target_close(&t);
}

/*
 * Write the order w (accepted, or rejected with its reason), its events
 * "new" and then "accepted" or "rejected", and, when it rests, its
 * exposure; returns the order as a zvt.orders value.
 */
static Datum
write_order(PlaceCache *c, const OrderRow *w)
{
	EState	   *estate = CreateExecutorState();
	Target		ot;
	Target		et;
	int64		order_id;
	const char *status = w->reason ? "rejected" : "accepted";
	Datum		result;
	TimestampTz now;

	lock_referenced(c->oid[P_ACCOUNTS], (ItemPointer) &w->account_tid,
					"orders_account_id_fkey", "account_id", w->account_id);
	lock_referenced(c->oid[P_INSTRUMENTS], (ItemPointer) &w->instrument_tid,
					"orders_instrument_id_fkey", "instrument_id", w->instrument_id);

	/* the order; defaults as the table declares them */
	target_open(estate, c->oid[P_ORDERS], &ot, 5, false);
	order_id = nextval_internal(c->oid[P_ORDERS_SEQ], false);
	row_begin(&ot);
	row_set(&ot, "order_id", Int64GetDatum(order_id), false);
	row_set(&ot, "account_id", Int32GetDatum(w->account_id), false);
	row_set(&ot, "instrument_id", Int32GetDatum(w->instrument_id), false);
	row_set_text(&ot, "exchange", w->exchange);
	row_set_text(&ot, "symbol", w->symbol);
	row_set_text(&ot, "side", w->side);
	row_set_text(&ot, "type", w->type);
	row_set(&ot, "qty", w->qty, false);
	row_set(&ot, "price", w->price, w->price_null);
	row_set(&ot, "stop_price", w->stop_price, w->stop_null);
	row_set(&ot, "trail_pct", w->trail_pct, w->trail_null);
	row_set_text(&ot, "tif", w->tif);
	row_set(&ot, "post_only", BoolGetDatum(w->post_only), false);
	row_set(&ot, "reduce_only", BoolGetDatum(w->reduce_only), false);
	row_set_text(&ot, "client_order_id", w->client_order_id);
	row_set_text(&ot, "status", status);
	row_set(&ot, "filled_qty", num_int(0), false);
	row_set(&ot, "avg_fill_price", (Datum) 0, true);
	row_set(&ot, "fees", num_int(0), false);
	row_set_text(&ot, "reason", w->reason);
	row_set(&ot, "triggered", BoolGetDatum(false), false);
	row_set(&ot, "trail_ref", w->trail_ref, w->trail_ref_null);
	row_set(&ot, "reserve_price", w->ref, false);
	row_set(&ot, "bus_trades_seen", Int64GetDatum(w->trades), !w->have_bus);
	row_set(&ot, "bus_quotes_seen", Int64GetDatum(w->quotes), !w->have_bus);
	now = GetCurrentTimestamp();
	row_set(&ot, "created_at", TimestampTzGetDatum(now), false);
	now = GetCurrentTimestamp();
	row_set(&ot, "updated_at", TimestampTzGetDatum(now), false);
	row_insert(estate, &ot);
	result = heap_copy_tuple_as_datum(ExecFetchSlotHeapTuple(ot.slot, false, NULL),
									  RelationGetDescr(ot.rel));

	/* its events: new, then accepted or rejected */
	target_open(estate, c->oid[P_EVENTS], &et, 1, false);
	for (int i = 0; i < 2; i++)
	{
		const char *event = i == 0 ? "new" : status;

		row_begin(&et);
		row_set(&et, "event_id", Int64GetDatum(nextval_internal(c->oid[P_EVENTS_SEQ], false)),
				false);
		row_set(&et, "order_id", Int64GetDatum(order_id), false);
		row_set(&et, "account_id", Int32GetDatum(w->account_id), false);
		row_set(&et, "ts", TimestampTzGetDatum(GetCurrentTimestamp()), false);
		row_set_text(&et, "event", event);
		row_set_text(&et, "status", event);
		row_set(&et, "qty", w->qty, false);
		row_set(&et, "price", w->price, w->price_null);
		row_set_text(&et, "reason", i == 0 ? NULL : w->reason);
		row_insert(estate, &et);
	}
	target_close(&et);
	target_close(&ot);

	if (w->rests)
		add_exposure(c, estate, w);

	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	/* what follows (zvt._fill, zvt._close_order) sees these rows */
	CommandCounterIncrement();
	return result;
}

/* ----------------------------------------------------------------
 * zvt._place_order
 * ----------------------------------------------------------------
 */

/* the text argument i, or NULL */
static char *
arg_text(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : TextDatumGetCString(PG_GETARG_DATUM(i));
}

static bool
streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* NULL or a value that is not a positive finite number */
static bool
not_positive_finite(bool isnull, Datum v)
{
	return isnull || num_nan(v) || num_inf(v) || num_cmp0(v) <= 0;
}

/*
 * zvt._place_order(caller oid, account text, exchange text, symbol text,
 *   side text, qty numeric, type text, price numeric, stop_price numeric,
 *   trail_pct numeric, tif text, client_order_id text, post_only bool,
 *   reduce_only bool) RETURNS zvt.orders
 */
Datum
zvt_place_order(PG_FUNCTION_ARGS)
{
	PlaceCache *c = place_cache(fcinfo->flinfo);
	Oid			caller = PG_GETARG_OID(0);
	char	   *account = arg_text(fcinfo, 1);
	char	   *exchange = arg_text(fcinfo, 2);
	char	   *symbol = arg_text(fcinfo, 3);
	char	   *side = arg_text(fcinfo, 4);
	bool		qty_null = PG_ARGISNULL(5);
	Datum		qty = qty_null ? (Datum) 0 : PG_GETARG_DATUM(5);
	char	   *type = arg_text(fcinfo, 6);
	bool		price_null = PG_ARGISNULL(7);
	Datum		price = price_null ? (Datum) 0 : PG_GETARG_DATUM(7);
	bool		stop_null = PG_ARGISNULL(8);
	Datum		stop_price = stop_null ? (Datum) 0 : PG_GETARG_DATUM(8);
	bool		trail_null = PG_ARGISNULL(9);
	Datum		trail_pct = trail_null ? (Datum) 0 : PG_GETARG_DATUM(9);
	char	   *tif = arg_text(fcinfo, 10);
	char	   *client_order_id = arg_text(fcinfo, 11);
	bool		post_only;
	bool		reduce_only;
	bool		limit_like;
	bool		stop_like;
	Row			a;
	Row			ins;
	bool		found;
	ScanKeyData keys[2];
	int32		account_id;
	char	   *account_name;
	char	   *account_kind;
	char	   *account_exchange;
	Oid			owner;
	Oid			admin;
	int32		instrument_id;
	char	   *ins_exchange;
	char	   *ins_symbol;
	char	   *ins_status;
	bool		lot_null,
				tick_null,
				min_null;
	Datum		lot_size,
				tick_size,
				min_notional;
	BusEntry	e;
	bool		have_e;
	int			dir;
	bool		bid_null,
				ask_null,
				last_null,
				mkt_null,
				touch_null;
	Datum		bid = 0,
				ask = 0,
				last = 0,
				mkt = 0,
				touch = 0;
	bool		trail_ref_null = true;
	Datum		trail_ref = 0;
	Datum		ref;
	char	   *reason;
	bool		marketable;
	bool		rests;
	Datum		o;

	/* arguments first: an invalid order writes nothing */
	if (!streq(side, "buy") && !streq(side, "sell"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("side must be buy or sell, not \"%s\"", side ? side : "NULL")));
	if (not_positive_finite(qty_null, qty))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty must be a positive finite number, not %s",
						qty_null ? "NULL" : num_str(qty))));
	if (!streq(type, "market") && !streq(type, "limit") && !streq(type, "stop") &&
		!streq(type, "stop_limit") && !streq(type, "trailing_stop"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown order type \"%s\"", type ? type : "NULL"),
				 errhint("Order types are market, limit, stop, stop_limit and trailing_stop.")));
	if (!streq(tif, "gtc") && !streq(tif, "ioc") && !streq(tif, "fok"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time in force \"%s\"", tif ? tif : "NULL"),
				 errhint("Time in force is gtc, ioc or fok.")));
	limit_like = streq(type, "limit") || streq(type, "stop_limit");
	stop_like = streq(type, "stop") || streq(type, "stop_limit");
	if (limit_like)
	{
		if (price_null)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s orders need a price", type)));
		if (not_positive_finite(false, price))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("price must be a positive finite number, not %s", num_str(price))));
	}
	else if (!price_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no price", type),
				 errhint("Only limit and stop_limit orders have a limit price.")));
	if (stop_like)
	{
		if (stop_null)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s orders need a stop_price", type)));
		if (not_positive_finite(false, stop_price))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stop_price must be a positive finite number, not %s",
							num_str(stop_price))));
	}
	else if (!stop_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no stop_price", type),
				 errhint("Only stop and stop_limit orders have a stop_price; a trailing_stop computes its own from trail_pct.")));
	if (streq(type, "trailing_stop"))
	{
		if (trail_null || num_nan(trail_pct) || num_cmp0(trail_pct) <= 0 ||
			num_cmp(trail_pct, num_int(100)) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("trail_pct must be between 0 and 100 (exclusive), not %s",
							trail_null ? "NULL" : num_str(trail_pct))));
	}
	else if (!trail_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no trail_pct", type)));
	if (!streq(tif, "gtc") && !streq(type, "market") && !streq(type, "limit"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tif %s applies to market and limit orders, not to %s orders", tif, type)));
	if (PG_ARGISNULL(12) || PG_ARGISNULL(13))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("post_only and reduce_only must not be null")));
	post_only = PG_GETARG_BOOL(12);
	reduce_only = PG_GETARG_BOOL(13);
	if (post_only && (!streq(type, "limit") || !streq(tif, "gtc")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("post_only applies to gtc limit orders only")));

	/* the account, if the caller may use it */
	found = false;
	if (account != NULL)
	{
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(account));
		found = fetch_row(c, P_ACCOUNTS, keys, 1, &a);
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown account \"%s\"", account ? account : "NULL"),
				 errhint("zvt.accounts lists the accounts you may use; zvt.create_account makes one.")));
	account_id = DatumGetInt32(row_get(&a, "account_id"));
	account_name = row_text(&a, "name");
	account_kind = row_text(&a, "kind");
	account_exchange = row_text(&a, "exchange");
	owner = DatumGetObjectId(row_get(&a, "owner"));
	admin = get_role_oid("zvt_admin", false);
	if (!has_privs_of_role(caller, owner) && !has_privs_of_role(caller, admin) &&
		!granted(c, account_id, caller))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for account \"%s\"", account),
				 errhint("The account's owner can share it with zvt.grant_account.")));
	if (streq(account_kind, "live"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("live routing is not available yet"),
				 errdetail("Account \"%s\" is a live account; zvt cannot send orders to exchanges yet, so nothing was placed.",
						   account_name),
				 errhint("Use a paper account (zvt.create_account(name, 'paper')).")));

	/* the instrument */
	for (;;)
	{
		Datum		args[2];
		char		nulls[2];

		if (exchange != NULL && symbol != NULL)
		{
			ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(exchange));
			ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(symbol));
			if (fetch_row(c, P_INSTRUMENTS, keys, 2, &ins))
				break;
		}
		/* zvt._instrument_id raises 42704 naming what is unknown */
		args[0] = exchange ? CStringGetTextDatum(exchange) : (Datum) 0;
		args[1] = symbol ? CStringGetTextDatum(symbol) : (Datum) 0;
		nulls[0] = exchange ? ' ' : 'n';
		nulls[1] = symbol ? ' ' : 'n';
		SPI_connect();
		if (SPI_execute_with_args("SELECT zvt._instrument_id($1, $2)", 2,
								  (Oid[]) {TEXTOID, TEXTOID}, args, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt._instrument_id failed");
		SPI_finish();
		/* it found the instrument: a concurrent session just added it */
	}
	instrument_id = DatumGetInt32(row_get(&ins, "id"));
	ins_exchange = row_text(&ins, "exchange");
	ins_symbol = row_text(&ins, "symbol");
	ins_status = row_text(&ins, "status");
	lot_size = row_get_null(&ins, "lot_size", &lot_null);
	tick_size = row_get_null(&ins, "tick_size", &tick_null);
	min_notional = row_get_null(&ins, "min_notional", &min_null);
	if (account_exchange != NULL && strcmp(account_exchange, ins_exchange) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account \"%s\" trades on %s, not on %s",
						account_name, account_exchange, ins_exchange)));
	if (strcmp(ins_status, "trading") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s %s is not trading (status %s)", ins_exchange, ins_symbol, ins_status)));
	if (!lot_null && num_not_multiple(qty, lot_size))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty %s is not a multiple of the lot size %s of %s %s", num_str(qty),
						num_str(lot_size), ins_exchange, ins_symbol)));
	if (!tick_null)
	{
		bool		price_off = !price_null && num_not_multiple(price, tick_size);
		bool		stop_off = !stop_null && num_not_multiple(stop_price, tick_size);

		if (price_off || stop_off)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("price %s is not a multiple of the tick size %s of %s %s",
							price_off ? num_str(price) : num_str(stop_price),
							num_str(tick_size), ins_exchange, ins_symbol)));
	}

	/* from here on the account's state must not move under us */
	zvt_lock_account(account_id);
	/* a snapshot taken after the lock that sees this transaction's own writes */
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();

	if (client_order_id != NULL)
	{
		Row			prev;

		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(account_id));
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(client_order_id));
		if (fetch_row(c, P_ORDERS, keys, 2, &prev))
		{
			bool		p_null,
						t_null,
						s_null;
			Datum		p_price = row_get_null(&prev, "price", &p_null);
			Datum		p_trail = row_get_null(&prev, "trail_pct", &t_null);
			Datum		p_stop = row_get_null(&prev, "stop_price", &s_null);
			char	   *p_type = row_text(&prev, "type");

			if (DatumGetInt32(row_get(&prev, "instrument_id")) == instrument_id &&
				strcmp(row_text(&prev, "side"), side) == 0 &&
				num_cmp(row_get(&prev, "qty"), qty) == 0 &&
				strcmp(p_type, type) == 0 &&
				strcmp(row_text(&prev, "tif"), tif) == 0 &&
				DatumGetBool(row_get(&prev, "post_only")) == post_only &&
				DatumGetBool(row_get(&prev, "reduce_only")) == reduce_only &&
				p_null == price_null && (p_null || num_cmp(p_price, price) == 0) &&
				t_null == trail_null && (t_null || num_cmp(p_trail, trail_pct) == 0) &&
				(strcmp(p_type, "trailing_stop") == 0 ||
				 (s_null == stop_null && (s_null || num_cmp(p_stop, stop_price) == 0))))
			{
				/* a retry: the original order, nothing placed */
				o = heap_copy_tuple_as_datum(prev.tuple, prev.desc);
				PopActiveSnapshot();
				PG_RETURN_DATUM(o);
			}
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("client_order_id \"%s\" was already used for a different order",
							client_order_id),
					 errdetail("Order %lld: %s %s %s %s.",
							   (long long) DatumGetInt64(row_get(&prev, "order_id")),
							   row_text(&prev, "side"), num_str(row_get(&prev, "qty")),
							   row_text(&prev, "symbol"), p_type)));
		}
	}

	/* prices from the bus */
	have_e = bus_get(instrument_id, &e);
	dir = streq(side, "buy") ? 1 : -1;
	bid_null = !have_e || isnan(e.bid);
	ask_null = !have_e || isnan(e.ask);
	last_null = !have_e || isnan(e.last);
	/* as numeric only where used: the touch of this side, and the mid without a trade */
	if (!bid_null && (dir == -1 || last_null))
		bid = float_num(e.bid);
	if (!ask_null && (dir == 1 || last_null))
		ask = float_num(e.ask);
	if (!last_null)
		last = float_num(e.last);
	mkt_null = last_null && (bid_null || ask_null);
	if (!last_null)
		mkt = last;
	else if (!mkt_null)
		mkt = num_div(num_add(bid, ask), num_int(2));
	if (dir == 1)
	{
		touch_null = ask_null && last_null;
		touch = ask_null ? last : ask;
	}
	else
	{
		touch_null = bid_null && last_null;
		touch = bid_null ? last : bid;
	}
	if ((streq(type, "market") || streq(type, "trailing_stop")) && (touch_null || mkt_null))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no price for %s %s on the market bus", ins_exchange, ins_symbol),
				 errdetail("A %s order needs the market price.", type),
				 errhint("Prices come from the feed workers (zvt.subscribe) or from zvt.bus_publish.")));

	if (streq(type, "trailing_stop"))
	{
		trail_ref_null = false;
		trail_ref = mkt;
		stop_null = false;
		stop_price = num_trim(num_mul(mkt, num_add(num_int(1),
												   num_div(num_mul(num_int(dir), trail_pct),
														   num_int(100)))));
	}
	/* coalesce(price, CASE WHEN type = 'market' THEN touch END, stop_price, touch) */
	if (!price_null)
		ref = price;
	else if (streq(type, "market") && !touch_null)
		ref = touch;
	else if (!stop_null)
		ref = stop_price;
	else if (!touch_null)
		ref = touch;
	else
		elog(ERROR, "zvt order has no reference price");
	if (!min_null && num_cmp(num_mul(qty, ref), min_notional) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order notional %s is below the minimum %s of %s %s",
						num_str(num_trim(num_mul(qty, ref))), num_str(min_notional),
						ins_exchange, ins_symbol),
				 errdetail("%s %s at %s.", side, num_str(qty), num_str(ref))));

	marketable = streq(type, "market") ||
		(streq(type, "limit") && !touch_null &&
		 num_cmp0(num_mul(num_int(dir), num_sub(touch, price))) <= 0);
	if (post_only && marketable)
		reason = psprintf("post_only: limit %s would take liquidity at %s",
						  num_str(price), num_str(touch));
	else
	{
		RiskCheckInput in;

		in.account_id = account_id;
		in.account_tid = &a.tid;
		in.instrument_id = instrument_id;
		in.buy = dir == 1;
		in.qty = qty;
		in.type = type;
		in.tif = tif;
		in.has_price = !price_null;
		in.price = price;
		in.reduce_only = reduce_only;
		in.ref = ref;
		in.has_mkt = !mkt_null;
		in.mkt = mkt;
		reason = risk_check_order(c->risk, &in);
	}
	rests = reason == NULL && !marketable && streq(tif, "gtc");

	/* the order, its first two events and (when it rests) its exposure */
	{
		OrderRow	w;

		w.account_id = account_id;
		w.instrument_id = instrument_id;
		w.account_tid = a.tid;
		w.instrument_tid = ins.tid;
		w.exchange = ins_exchange;
		w.symbol = ins_symbol;
		w.side = side;
		w.type = type;
		w.qty = qty;
		w.price_null = price_null;
		w.price = price;
		w.stop_null = stop_null;
		w.stop_price = stop_price;
		w.trail_null = trail_null;
		w.trail_pct = trail_pct;
		w.tif = tif;
		w.post_only = post_only;
		w.reduce_only = reduce_only;
		w.client_order_id = client_order_id;
		w.reason = reason;
		w.trail_ref_null = trail_ref_null;
		w.trail_ref = trail_ref;
		w.ref = ref;
		w.have_bus = have_e;
		w.trades = have_e ? e.trades : 0;
		w.quotes = have_e ? e.quotes : 0;
		w.dir = dir;
		w.rests = rests;
		o = write_order(c, &w);
	}
	PopActiveSnapshot();
	if (reason != NULL)
		PG_RETURN_DATUM(o);

	if (marketable)
	{
		/* a taker at once: market at the touch moved by slippage; a marketable limit at the touch */
		Datum		args[7];
		bool		nulls[7] = {false};
		bool		quoted = (dir == 1 && !ask_null) || (dir == -1 && !bid_null);
		TimestampTz ts = quoted ? e.quote_ts : e.last_ts;

		if (streq(type, "market"))
			touch = num_trim(num_mul(touch,
									 num_add(num_int(1),
											 num_div(num_mul(num_int(dir),
															 row_get(&a, "slippage_bps")),
													 num_int(10000)))));
		args[0] = heap_copy_tuple_as_datum(a.tuple, a.desc);
		args[1] = o;
		args[2] = qty;
		args[3] = touch;
		args[4] = CStringGetTextDatum("taker");
		args[5] = TimestampTzGetDatum(ts);
		nulls[5] = !have_e || ts == 0;
		args[6] = BoolGetDatum(false);
		PG_RETURN_DATUM(call_helper(&c->fill, 7, args, nulls));
	}
	if (!streq(tif, "gtc"))
	{
		Datum		args[4];
		bool		nulls[4] = {false};

		args[0] = o;
		args[1] = CStringGetTextDatum("expired");
		args[2] = CStringGetTextDatum(psprintf("%s limit %s not marketable (touch %s)", tif,
											   num_str(price),
											   touch_null ? "unknown" : num_str(touch)));
		args[3] = BoolGetDatum(false);
		PG_RETURN_DATUM(call_helper(&c->close, 4, args, nulls));
	}
	/* rests (counted in zvt.exposure above): the paper matcher takes it from here */
	paper_orders_rest();
	PG_RETURN_DATUM(o);
}
