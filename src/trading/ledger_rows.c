/*-------------------------------------------------------------------------
 *
 * src/trading/ledger_rows.c
 *	  Ledger rows without the executor: index scans, copied rows, direct
 *	  inserts into the heap and the indexes, and the snapshot under which
 *	  an account's state is read once its lock is held.
 *
 * zvt._place_order and the risk check run for every order, and a dozen
 * executor startups would cost more than the work itself; they read and
 * write the ledger through these helpers instead (ledger.h lists them).
 *
 * Snapshots.  An account's state must be read after its lock is taken,
 * so that the reader sees every order and fill the lock's previous
 * holders committed.  ledger_snapshot_push() pushes such a snapshot:
 * - under READ COMMITTED a new one (the transaction's next snapshot);
 * - under REPEATABLE READ and SERIALIZABLE the latest one as well, since
 *   the transaction's own snapshot predates the lock; and every row of
 *   the account read under it (scans with account_rows) is checked to be
 *   visible to the transaction's snapshot too.  A row written by a
 *   transaction that committed after the transaction's snapshot was taken
 *   means the account changed under it: the check raises 40001
 *   (serialization failure), as PostgreSQL does for an UPDATE of a row
 *   changed since the snapshot, and the client retries.  So a check never
 *   passes on an older view than the one the lock guarantees, and a
 *   transaction never acts on an account state its own snapshot does not
 *   show.
 *
 * Writes.  Straight into the heap and the indexes, as the executor's
 * INSERT would, without its per-statement startup (plans, CHECK
 * expressions read back from the catalog, foreign key triggers running
 * queries).  The callers make what those would check hold by
 * construction, and ledger_target_open() refuses a table that has grown a
 * user trigger or CHECK constraints zvt did not define (55000) rather than
 * bypass them; ledger_lock_referenced() locks a referenced row FOR KEY
 * SHARE as a foreign key trigger would.
 *
 * Relations are opened with the lock a query would take and closed with
 * NoLock: the locks stay until the transaction ends, so taking them again
 * for the next row is cheap.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "trading/ledger.h"

/*
 * The transaction's snapshot while ledger_snapshot_push() is in effect
 * under REPEATABLE READ or SERIALIZABLE, else NULL.  It is the registered
 * transaction snapshot, valid until the transaction ends; an error between
 * push and pop leaves it set, so it counts only in the transaction that
 * set it (xact_snapshot_lxid), where it is still valid.
 */
static Snapshot xact_snapshot = NULL;
static LocalTransactionId xact_snapshot_lxid = InvalidLocalTransactionId;

/* ----------------------------------------------------------------
 * relations and snapshots
 * ----------------------------------------------------------------
 */

/* The oids of the named relations of schema nsp; an error when one is missing. */
void
ledger_relation_oids(Oid nsp, const char *const *names, int n, Oid *oids)
{
	for (int i = 0; i < n; i++)
	{
		oids[i] = get_relname_relid(names[i], nsp);
		if (!OidIsValid(oids[i]))
			elog(ERROR, "zvt relation \"%s\" is missing", names[i]);
	}
}

/*
 * Push the snapshot an account's state is read under; the caller holds the
 * account's lock and pops it with ledger_snapshot_pop() (an error pops it
 * with the transaction).  It sees the transaction's own writes.
 */
void
ledger_snapshot_push(void)
{
	if (IsolationUsesXactSnapshot())
	{
		xact_snapshot = GetTransactionSnapshot();
		xact_snapshot_lxid = MyProc->lxid;
		PushCopiedSnapshot(GetLatestSnapshot());
	}
	else
	{
		xact_snapshot = NULL;
		PushCopiedSnapshot(GetTransactionSnapshot());
	}
	UpdateActiveSnapshotCommandId();
}

void
ledger_snapshot_pop(void)
{
	xact_snapshot = NULL;
	PopActiveSnapshot();
}

/*
 * Under REPEATABLE READ or SERIALIZABLE: raise 40001 when the row in slot
 * was written by a transaction the transaction's own snapshot does not see
 * (it committed later).  The row was read under the latest snapshot, so
 * its writer committed, or is this transaction.
 */
static void
check_fresh(TupleTableSlot *slot)
{
	TransactionId xmin;
	bool		isnull;

	if (xact_snapshot == NULL || xact_snapshot_lxid != MyProc->lxid)
		return;
	xmin = DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber,
												 &isnull));
	if (isnull || !TransactionIdIsNormal(xmin) || TransactionIdIsCurrentTransactionId(xmin))
		return;
	if (XidInMVCCSnapshot(xmin, xact_snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent order or fill of the account"),
				 errdetail("The transaction's snapshot predates a change of the account's ledger committed since; risk checks read the account as of its lock."),
				 errhint("Retry the transaction.")));
}

/* ----------------------------------------------------------------
 * reading
 * ----------------------------------------------------------------
 */

/*
 * Scan rel through its index idx for rows matching keys (equality or
 * comparison on the leading columns, in the index's collations) under the
 * active snapshot.  account_rows: the rows belong to the account whose
 * lock is held (see check_fresh); false for shared rows (instruments).
 */
void
ledger_scan_begin(LedgerScan *s, Oid rel, Oid idx, ScanKey keys, int nkeys, bool account_rows)
{
	s->rel = table_open(rel, AccessShareLock);
	s->idx = index_open(idx, AccessShareLock);
	for (int i = 0; i < nkeys; i++)
		keys[i].sk_collation = s->idx->rd_indcollation[i];
	s->scan = index_beginscan(s->rel, s->idx, GetActiveSnapshot(), nkeys, 0);
	s->slot = table_slot_create(s->rel, NULL);
	s->account_rows = account_rows;
	index_rescan(s->scan, keys, nkeys, NULL, 0);
}

/*
 * The next row, its columns deformed into the slot (ledger_col); false at
 * the end.
 */
bool
ledger_scan_next(LedgerScan *s)
{
	if (!ledger_scan_next_lazy(s))
		return false;
	slot_getallattrs(s->slot);
	return true;
}

/* The next row, left in the slot for slot_getattr (a few columns of a wide row). */
bool
ledger_scan_next_lazy(LedgerScan *s)
{
	if (!index_getnext_slot(s->scan, ForwardScanDirection, s->slot))
		return false;
	if (s->account_rows)
		check_fresh(s->slot);
	return true;
}

void
ledger_scan_end(LedgerScan *s)
{
	ExecDropSingleTupleTableSlot(s->slot);
	if (s->scan)
		index_endscan(s->scan);
	if (s->idx)
		index_close(s->idx, NoLock);
	table_close(s->rel, NoLock);
}

/*
 * The row version at tid of rel, whose first column is the int4 key, if
 * the active snapshot sees it (it is then the key's only visible version),
 * opened like a scan of the account's rows with its columns deformed;
 * false, with nothing open, when tid is NULL or holds no such version (the
 * slot may have been pruned and reused since the caller read it).
 */
bool
ledger_scan_at(LedgerScan *s, Oid rel, ItemPointer tid, int32 key)
{
	bool		isnull;

	if (tid == NULL || !ItemPointerIsValid(tid))
		return false;
	s->rel = table_open(rel, AccessShareLock);
	s->slot = table_slot_create(s->rel, NULL);
	if (!table_tuple_fetch_row_version(s->rel, tid, GetActiveSnapshot(), s->slot) ||
		DatumGetInt32(slot_getattr(s->slot, 1, &isnull)) != key || isnull)
	{
		ExecDropSingleTupleTableSlot(s->slot);
		table_close(s->rel, NoLock);
		return false;
	}
	check_fresh(s->slot);
	slot_getallattrs(s->slot);
	s->idx = NULL;
	s->scan = NULL;
	s->account_rows = true;
	return true;
}

/* The attno (1-based) of column name of rel; an error when it has none. */
int
ledger_attno(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i + 1;
	elog(ERROR, "zvt.%s has no column \"%s\"", RelationGetRelationName(rel), name);
	return 0;
}

/*
 * The first row of rel whose index idx matches keys, under the active
 * snapshot; false when none.  The row and the descriptor are palloc'd
 * copies that outlive the scan.
 */
bool
ledger_fetch_row(Oid rel, Oid idx, ScanKey keys, int nkeys, bool account_rows, LedgerRow *out)
{
	LedgerScan	s;
	bool		found;

	ledger_scan_begin(&s, rel, idx, keys, nkeys, account_rows);
	found = ledger_scan_next_lazy(&s);
	if (found)
	{
		out->tuple = ExecCopySlotHeapTuple(s.slot);
		out->tid = s.slot->tts_tid;
		out->desc = CreateTupleDescCopy(RelationGetDescr(s.rel));
		out->values = palloc(sizeof(Datum) * out->desc->natts);
		out->nulls = palloc(sizeof(bool) * out->desc->natts);
		heap_deform_tuple(out->tuple, out->desc, out->values, out->nulls);
	}
	ledger_scan_end(&s);
	return found;
}

static int
row_index(const LedgerRow *r, const char *name)
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

/* a column that is never NULL */
Datum
ledger_row_get(const LedgerRow *r, const char *name)
{
	return r->values[row_index(r, name)];
}

/* a column that may be NULL: its value or (Datum) 0, *isnull set */
Datum
ledger_row_get_null(const LedgerRow *r, const char *name, bool *isnull)
{
	int			i = row_index(r, name);

	*isnull = r->nulls[i];
	return *isnull ? (Datum) 0 : r->values[i];
}

/* a text column as a palloc'd C string, or NULL */
char *
ledger_row_text(const LedgerRow *r, const char *name)
{
	int			i = row_index(r, name);

	return r->nulls[i] ? NULL : TextDatumGetCString(r->values[i]);
}

/* ----------------------------------------------------------------
 * writing
 * ----------------------------------------------------------------
 */

/*
 * zvt's own order_events_publish trigger on zvt.order_events, calling
 * zvt._order_events_publish: the direct writer queues its events for the
 * event ring itself (order_events_publish), so it is no trigger bypassed.
 */
static bool
publish_trigger(Relation rel, const Trigger *trig)
{
	char	   *fn;
	bool		ours;

	if (strcmp(trig->tgname, "order_events_publish") != 0 ||
		strcmp(RelationGetRelationName(rel), "order_events") != 0 ||
		get_func_namespace(trig->tgfoid) != RelationGetNamespace(rel))
		return false;
	fn = get_func_name(trig->tgfoid);
	ours = fn != NULL && strcmp(fn, "_order_events_publish") == 0;
	if (fn)
		pfree(fn);
	return ours;
}

/*
 * The direct writes stand for what an INSERT (and, with update, an
 * UPDATE) would run: refuse a table that has grown a user trigger on
 * those or CHECK constraints other than the checks its caller knows
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
			if (!td->triggers[i].tgisinternal && !publish_trigger(rel, &td->triggers[i]) &&
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

/*
 * Open relid for direct writes in estate: its indexes, a slot, and a row
 * buffer; checks is the number of CHECK constraints zvt defined on it.
 */
void
ledger_target_open(EState *estate, Oid relid, LedgerTarget *t, int checks, bool update)
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

void
ledger_target_close(LedgerTarget *t)
{
	ExecCloseIndices(t->rri);
	table_close(t->rel, NoLock);
}

/* start a row: every column must then be set */
void
ledger_row_begin(LedgerTarget *t)
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

void
ledger_row_set(LedgerTarget *t, const char *name, Datum v, bool isnull)
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

void
ledger_row_set_text(LedgerTarget *t, const char *name, const char *v)
{
	ledger_row_set(t, name, v ? CStringGetTextDatum(v) : (Datum) 0, v == NULL);
}

/* the row as a slot, every column set */
TupleTableSlot *
ledger_row_slot(LedgerTarget *t)
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

/* insert the row and its index entries (unique ones checked on insertion) */
void
ledger_row_insert(EState *estate, LedgerTarget *t)
{
	TupleTableSlot *slot = ledger_row_slot(t);
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
void
ledger_lock_referenced(Oid relid, ItemPointer tid, const char *constraint, const char *column,
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
