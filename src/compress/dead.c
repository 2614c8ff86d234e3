/*-------------------------------------------------------------------------
 *
 * src/compress/dead.c
 *	  Removed rows of compressed chunks: zvt._compressed_deleted.
 *
 * Batches are never rewritten in place.  DELETE, UPDATE (and a move to
 * another partition) of a row of a compressed chunk insert one row here,
 * (storage_id, seq, row_no) plus where the new version went, and that
 * heap row's MVCC visibility is the removal's: the row is gone for a
 * snapshot that sees the removal, as a heap tuple's xmax would say.  The
 * writers serialize on the batch's row lock (tam_write.c), so a removed
 * row has at most one committed removal.
 *
 * Scans load every removal of the storage visible to their snapshot
 * once, sorted by (seq, row) (zc_dead_load); fetches by TID look the one
 * row up (zc_dead_find), judging in-progress removals for
 * SnapshotDirty as heap does for an in-progress deleter.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compress/zc.h"

#define ZC_DEAD_NATTS	5

static uint64
dead_key(uint32 seq, uint32 row)
{
	return ((uint64) seq << 16) | (row & 0xFFFF);
}

/* opens zvt._compressed_deleted and its index into side */
void
zc_dead_open(ZcSide *side)
{
	Oid			nsp = get_namespace_oid("zvt", false);
	Oid			relid = get_relname_relid("_compressed_deleted", nsp);
	List	   *idx;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("zvt._compressed_deleted does not exist"),
				 errhint("Update the extension: ALTER EXTENSION zvt UPDATE;")));
	side->drel = table_open(relid, side->lockmode);
	idx = RelationGetIndexList(side->drel);
	if (list_length(idx) != 1)
		elog(ERROR, "zvt._compressed_deleted must have exactly one index");
	side->didx = index_open(linitial_oid(idx), side->lockmode);
	side->didxinfo = NULL;
	list_free(idx);
}

void
zc_dead_close(ZcSide *side)
{
	if (side->drel == NULL)
		return;
	index_close(side->didx, side->lockmode);
	table_close(side->drel, side->lockmode);
	side->drel = NULL;
}

/*
 * Records the removal of row of batch seq; forward is the new version's
 * TID (an UPDATE), a moved-partitions TID, or NULL (a DELETE).
 */
void
zc_dead_insert(ZcSide *side, int64 storage_id, uint32 seq, uint32 row,
			   ItemPointer forward, CommandId cid)
{
	Datum		values[ZC_DEAD_NATTS];
	bool		nulls[ZC_DEAD_NATTS] = {false, false, false, false, false};
	HeapTuple	tup;

	if (side->drel == NULL)
		zc_dead_open(side);
	values[0] = Int64GetDatum(storage_id);
	values[1] = Int64GetDatum((int64) seq);
	values[2] = Int32GetDatum((int32) row);
	if (forward == NULL)
		nulls[3] = nulls[4] = true;
	else if (ItemPointerIndicatesMovedPartitions(forward))
	{
		values[3] = Int64GetDatum(-1);
		values[4] = Int32GetDatum(0);
	}
	else
	{
		values[3] = Int64GetDatum((int64) ItemPointerGetBlockNumber(forward));
		values[4] = Int32GetDatum((int32) ItemPointerGetOffsetNumber(forward) - 1);
	}
	tup = heap_form_tuple(RelationGetDescr(side->drel), values, nulls);
	heap_insert(side->drel, tup, cid, 0, NULL);
	if (side->didxinfo == NULL)
		side->didxinfo = BuildIndexInfo(side->didx);
	index_insert(side->didx, values, nulls, &tup->t_self, side->drel,
				 UNIQUE_CHECK_NO, false, side->didxinfo);
	heap_freetuple(tup);
}

/*
 * Looks up the removal of row of batch seq under snapshot.  Returns
 * ZC_DEAD_NONE, ZC_DEAD_YES (info filled in: who removed it, with which
 * command, where the new version is) or, for SnapshotDirty only,
 * ZC_DEAD_IN_PROGRESS (info->xid: the removing transaction to wait for).
 */
ZcDeadState
zc_dead_find(ZcSide *side, int64 storage_id, uint32 seq, uint32 row, Snapshot snapshot,
			 ZcDeadInfo *info)
{
	ScanKeyData key[3];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ZcDeadState state = ZC_DEAD_NONE;
	bool		dirty = snapshot->snapshot_type == SNAPSHOT_DIRTY;

	if (side->drel == NULL)
		zc_dead_open(side);
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum((int64) seq));
	ScanKeyInit(&key[2], 3, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum((int32) row));
	slot = table_slot_create(side->drel, NULL);
	scan = index_beginscan(side->drel, side->didx, snapshot, 3, 0);
	index_rescan(scan, key, 3, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		shouldfree;
		HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, &shouldfree);
		bool		isnull;
		Datum		d;

		if (dirty && TransactionIdIsValid(snapshot->xmin))
		{
			/* an in-progress removal; a settled one wins below */
			info->xid = snapshot->xmin;
			state = ZC_DEAD_IN_PROGRESS;
			continue;
		}
		state = ZC_DEAD_YES;
		info->xid = HeapTupleHeaderGetXmin(tup->t_data);
		info->own = TransactionIdIsCurrentTransactionId(info->xid);
		info->cid = info->own ? HeapTupleHeaderGetCmin(tup->t_data) : InvalidCommandId;
		d = heap_getattr(tup, 4, RelationGetDescr(side->drel), &isnull);
		if (isnull)
			ItemPointerSetInvalid(&info->forward);
		else if (DatumGetInt64(d) < 0)
			ItemPointerSetMovedPartitions(&info->forward);
		else
		{
			uint32		nseq = (uint32) DatumGetInt64(d);
			int32		nrow = DatumGetInt32(heap_getattr(tup, 5, RelationGetDescr(side->drel),
														  &isnull));

			ItemPointerSet(&info->forward, nseq, (OffsetNumber) (nrow + 1));
		}
		if (shouldfree)
			heap_freetuple(tup);
		break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return state;
}

/*
 * Loads into *set every removal of the storage (of batch seq only, when
 * seq >= 0) visible under snapshot (not SnapshotDirty), sorted by
 * (seq, row).
 */
void
zc_dead_load(ZcSide *side, int64 storage_id, int64 seq, Snapshot snapshot, ZcDeadSet *set,
			 MemoryContext cxt)
{
	ScanKeyData key[2];
	int			nkeys = seq >= 0 ? 2 : 1;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			cap = 0;

	set->n = 0;
	set->keys = NULL;
	if (side->drel == NULL)
		zc_dead_open(side);
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(seq));
	slot = table_slot_create(side->drel, NULL);
	scan = index_beginscan(side->drel, side->didx, snapshot, nkeys, 0);
	index_rescan(scan, key, nkeys, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		uint32		seq = (uint32) DatumGetInt64(slot_getattr(slot, 2, &isnull));
		uint32		row = (uint32) DatumGetInt32(slot_getattr(slot, 3, &isnull));

		if (set->n == cap)
		{
			cap = cap ? cap * 2 : 64;
			set->keys = set->keys
				? repalloc(set->keys, sizeof(uint64) * cap)
				: MemoryContextAlloc(cxt, sizeof(uint64) * cap);
		}
		set->keys[set->n++] = dead_key(seq, row);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	/* the index returns key order already; a HOT chain cannot reorder it */
	for (int i = 1; i < set->n; i++)
		Assert(set->keys[i - 1] <= set->keys[i]);
}

/* index of the first removal in set at or after batch seq */
int
zc_dead_first(const ZcDeadSet *set, uint32 seq)
{
	uint64		k = dead_key(seq, 0);
	int			lo = 0,
				hi = set->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (set->keys[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* whether set->keys[i] is row of batch seq */
bool
zc_dead_is(const ZcDeadSet *set, int i, uint32 seq, uint32 row)
{
	return i < set->n && set->keys[i] == dead_key(seq, row);
}

/*
 * Deletes every removal of a storage that is going away (the caller holds
 * its relation's AccessExclusiveLock); returns how many.
 */
int64
zc_dead_delete_storage(ZcSide *side, int64 storage_id)
{
	ScanKeyData key;
	IndexScanDesc scan;
	ItemPointer tid;
	int64		n = 0;

	if (side->drel == NULL)
		zc_dead_open(side);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = index_beginscan(side->drel, side->didx, SnapshotSelf, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		HeapTupleData tup;
		Buffer		buf;

		tup.t_self = *tid;
		if (!heap_fetch(side->drel, SnapshotSelf, &tup, &buf, false))
			continue;
		ReleaseBuffer(buf);
		simple_heap_delete(side->drel, tid);
		n++;
	}
	index_endscan(scan);
	return n;
}
