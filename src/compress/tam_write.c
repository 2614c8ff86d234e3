/*-------------------------------------------------------------------------
 *
 * src/compress/tam_write.c
 *	  The writing and storage callbacks of the zvt_compressed access method
 *	  (tam.c holds the routine and the reading side).
 *
 * INSERT and COPY store their rows as late batches, one batch-table row
 * per statement row or per COPY buffer (ZC_BATCH_ROWS rows at most), with
 * index entries made by the executor like any insert, after the key probe
 * gave a compressed row with an equal unique key its entry (keys.c); INSERT ... ON
 * CONFLICT inserts the batch row speculatively, so unique checks and
 * their waits work as on heap.
 *
 * DELETE, UPDATE and row locks (SELECT FOR UPDATE, ON CONFLICT DO
 * UPDATE, foreign keys) work without rewriting a batch.  A row is locked
 * through its batch's heap row in zvt._compressed_batches (heap row
 * locks: KEY SHARE and SHARE take SHARE, the others EXCLUSIVE), so two
 * writers of rows of one batch take turns; then a removal is looked up
 * (dead.c) and, for DELETE or UPDATE, recorded, with the new version's
 * TID for an UPDATE, which stores the new version as a late batch as an
 * INSERT does.  Results are heap's: TM_SelfModified for a row this
 * transaction removed, TM_Updated with the new version's TID (which
 * tuple_lock follows for EvalPlanQual under READ COMMITTED), TM_Deleted.
 * The storage callbacks
 * keep the metapage in step with the relation's files: a new storage gets
 * a new metapage, TRUNCATE deletes the old storage's batches in its
 * transaction, SET TABLESPACE copies the metapage, and CLUSTER and
 * VACUUM FULL are refused (compress_chunk rewrites instead).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "catalog/storage.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compress/zc.h"
#include "compress/tam.h"

static void insert_rows(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid,
						uint32 spec_token, ItemPointer skip);
static TM_Result lock_row(Relation rel, ZcSide *side, int64 storage_id, ItemPointer tid,
						  CommandId cid, LockTupleMode mode, LockWaitPolicy wait_policy,
						  TM_FailureData *tmfd);

/* the last speculative insertion, for complete_speculative */
static Oid	spec_relid = InvalidOid;
static ItemPointerData spec_tid;
static ItemPointerData spec_side_tid;

/* ----------------------------------------------------------------
 *		Writing
 * ----------------------------------------------------------------
 */

/*
 * Stores slots as late batches (ZC_BATCH_ROWS rows at most each), one
 * batch-table row each, and sets each slot's TID.  spec_token != 0: one
 * slot, inserted speculatively.  First, a compressed row with the key of
 * a slot in a unique index gets its entry there (keys.c), so that the
 * executor's unique checks that follow find it; skip is the row an
 * UPDATE replaces (or NULL).
 */
static void
insert_rows(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid, uint32 spec_token,
			ItemPointer skip)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt compressed insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ZcBuilder	b;
	ZcSide		side;
	ZcMeta		meta;
	ZcProbe    *probe;
	int			done = 0;

	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);
	zc_meta_read(rel, &meta);
	zc_builder_init(&b, RelationGetDescr(rel), cxt);
	zc_side_open(&side, RowExclusiveLock);
	probe = zc_probe_begin(rel, meta.storage_id, &side);
	for (int i = 0; probe != NULL && i < nslots; i++)
		zc_probe_row(probe, slots[i], skip);
	zc_probe_end(probe);
	while (done < nslots)
	{
		int			n = Min(nslots - done, ZC_BATCH_ROWS);
		uint32		seq;
		bytea	   *batch;
		ItemPointerData side_tid;

		for (int i = 0; i < n; i++)
			zc_builder_add(&b, slots[done + i]);
		batch = zc_builder_finish(&b);
		seq = zc_meta_next_seqs(rel, 1);
		zc_side_insert(&side, meta.storage_id, seq, n, true, batch, cid, spec_token, &side_tid);
		for (int i = 0; i < n; i++)
		{
			ItemPointerSet(&slots[done + i]->tts_tid, seq, (OffsetNumber) (i + 1));
			slots[done + i]->tts_tableOid = RelationGetRelid(rel);
		}
		if (spec_token != 0)
		{
			spec_relid = RelationGetRelid(rel);
			spec_tid = slots[0]->tts_tid;
			spec_side_tid = side_tid;
		}
		done += n;
	}
	zc_side_close(&side);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	pgstat_count_heap_insert(rel, nslots);
}

void
zc_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid, int options,
				BulkInsertState bistate)
{
	insert_rows(rel, &slot, 1, cid, 0, NULL);
}

void
zc_tuple_insert_speculative(Relation rel, TupleTableSlot *slot, CommandId cid,
							int options, BulkInsertState bistate, uint32 specToken)
{
	insert_rows(rel, &slot, 1, cid, specToken, NULL);
}

void
zc_tuple_complete_speculative(Relation rel, TupleTableSlot *slot, uint32 specToken,
							  bool succeeded)
{
	ZcSide		side;

	if (spec_relid != RelationGetRelid(rel) || !ItemPointerEquals(&spec_tid, &slot->tts_tid))
		elog(ERROR, "no speculative insertion into \"%s\" to complete",
			 RelationGetRelationName(rel));
	zc_side_open(&side, RowExclusiveLock);
	if (succeeded)
		heap_finish_speculative(side.rel, &spec_side_tid);
	else
		heap_abort_speculative(side.rel, &spec_side_tid);
	zc_side_close(&side);
	spec_relid = InvalidOid;
}

void
zc_multi_insert(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid,
				int options, BulkInsertState bistate)
{
	insert_rows(rel, slots, nslots, cid, 0, NULL);
}

/*
 * Locks row tid's batch (KEY SHARE and SHARE as SHARE, the rest as
 * EXCLUSIVE: removals take EXCLUSIVE, so no other transaction is removing
 * a row of the batch once the lock is ours) and reports the row's
 * removal, if any, as heap reports a deleted or updated tuple.
 */
static TM_Result
lock_row(Relation rel, ZcSide *side, int64 storage_id, ItemPointer tid, CommandId cid,
		 LockTupleMode mode, LockWaitPolicy wait_policy, TM_FailureData *tmfd)
{
	uint32		seq = ItemPointerGetBlockNumberNoCheck(tid);
	uint32		row = (uint32) ItemPointerGetOffsetNumberNoCheck(tid) - 1;
	HeapTupleData tup;
	Buffer		buf;
	TM_Result	r;
	ZcDeadInfo	info;
	LockTupleMode bmode = (mode == LockTupleKeyShare || mode == LockTupleShare)
		? LockTupleShare : LockTupleExclusive;

	tmfd->ctid = *tid;
	tmfd->xmax = InvalidTransactionId;
	tmfd->cmax = InvalidCommandId;
	if (!zc_side_find(side, storage_id, seq, &tup.t_self))
		return TM_Deleted;		/* no such batch: nothing to lock */
	r = heap_lock_tuple(side->rel, &tup, cid, bmode, wait_policy, false, &buf, tmfd);
	ReleaseBuffer(buf);
	if (r != TM_Ok)
	{
		/*
		 * Batches are never updated, and deleted only with their storage
		 * under ACCESS EXCLUSIVE: this is TM_Invisible (a batch this
		 * command inserted, as heap says) or TM_WouldBlock.
		 */
		tmfd->ctid = *tid;
		return r;
	}
	if (zc_dead_find(side, storage_id, seq, row, SnapshotSelf, &info) != ZC_DEAD_YES)
		return TM_Ok;
	tmfd->xmax = info.xid;
	tmfd->cmax = info.cid;
	if (ItemPointerIsValid(&info.forward))
		tmfd->ctid = info.forward;
	if (info.own)
		return TM_SelfModified;
	return ItemPointerIsValid(&info.forward) ? TM_Updated : TM_Deleted;
}

/*
 * Row tid locked EXCLUSIVE for a delete or an update (lock_row's answer),
 * then checked against the crosscheck snapshot of heap_delete and
 * heap_update: TM_Updated when it misses the row.
 */
static TM_Result
lock_for_change(Relation rel, ZcSide *side, int64 storage_id, ItemPointer tid, CommandId cid,
				Snapshot crosscheck, bool wait, TM_FailureData *tmfd)
{
	TM_Result	r = lock_row(rel, side, storage_id, tid, cid, LockTupleExclusive,
							 wait ? LockWaitBlock : LockWaitError, tmfd);
	TupleTableSlot *tmp;
	bool		ok;

	if (r != TM_Ok || crosscheck == InvalidSnapshot)
		return r;
	tmp = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
	ok = table_tuple_fetch_row_version(rel, tid, crosscheck, tmp);
	ExecDropSingleTupleTableSlot(tmp);
	return ok ? TM_Ok : TM_Updated;
}

TM_Result
zc_tuple_delete(Relation rel, ItemPointer tid, CommandId cid, Snapshot snapshot,
				Snapshot crosscheck, bool wait, TM_FailureData *tmfd, bool changingPart)
{
	ZcMeta		meta;
	ZcSide		side;
	TM_Result	r;

	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);
	zc_meta_read(rel, &meta);
	zc_side_open(&side, RowExclusiveLock);
	r = lock_for_change(rel, &side, meta.storage_id, tid, cid, crosscheck, wait, tmfd);
	if (r == TM_Ok)
	{
		ItemPointerData moved;

		ItemPointerSetMovedPartitions(&moved);
		zc_dead_insert(&side, meta.storage_id, ItemPointerGetBlockNumber(tid),
					   ItemPointerGetOffsetNumber(tid) - 1, changingPart ? &moved : NULL, cid);
		pgstat_count_heap_delete(rel);
	}
	zc_side_close(&side);
	return r;
}

/*
 * The new version goes in as a late batch (with index entries made by
 * the executor), and the old one is recorded removed, pointing at it.
 */
TM_Result
zc_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot, CommandId cid,
				Snapshot snapshot, Snapshot crosscheck, bool wait, TM_FailureData *tmfd,
				LockTupleMode *lockmode, bool *update_indexes)
{
	ZcMeta		meta;
	ZcSide		side;
	TM_Result	r;

	*lockmode = LockTupleExclusive;
	*update_indexes = false;
	CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);
	zc_meta_read(rel, &meta);
	zc_side_open(&side, RowExclusiveLock);
	r = lock_for_change(rel, &side, meta.storage_id, otid, cid, crosscheck, wait, tmfd);
	if (r == TM_Ok)
	{
		insert_rows(rel, &slot, 1, cid, 0, otid);
		zc_dead_insert(&side, meta.storage_id, ItemPointerGetBlockNumber(otid),
					   ItemPointerGetOffsetNumber(otid) - 1, &slot->tts_tid, cid);
		*update_indexes = true;
		pgstat_count_heap_update(rel, false);
	}
	zc_side_close(&side);
	return r;
}

/*
 * Locks row tid; with TUPLE_LOCK_FLAG_FIND_LAST_VERSION follows updates
 * to the newest version (READ COMMITTED's EvalPlanQual) and locks that.
 * The locked row goes into slot.
 */
TM_Result
zc_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot, TupleTableSlot *slot,
			  CommandId cid, LockTupleMode mode, LockWaitPolicy wait_policy, uint8 flags,
			  TM_FailureData *tmfd)
{
	ZcMeta		meta;
	ZcSide		side;
	TM_Result	r;
	ItemPointerData cur = *tid;

	tmfd->traversed = false;
	zc_meta_read(rel, &meta);
	zc_side_open(&side, RowShareLock);
	for (;;)
	{
		r = lock_row(rel, &side, meta.storage_id, &cur, cid, mode, wait_policy, tmfd);
		if (r != TM_Updated || !(flags & TUPLE_LOCK_FLAG_FIND_LAST_VERSION) ||
			ItemPointerIndicatesMovedPartitions(&tmfd->ctid))
			break;
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
		cur = tmfd->ctid;
		tmfd->traversed = true;
	}
	zc_side_close(&side);
	if (r == TM_Ok)
	{
		/* the locked row is committed or this transaction's */
		if (!table_tuple_fetch_row_version(rel, &cur, SnapshotAny, slot))
			elog(ERROR, "locked row (%u,%u) of \"%s\" not found",
				 ItemPointerGetBlockNumber(&cur), ItemPointerGetOffsetNumber(&cur),
				 RelationGetRelationName(rel));
		*tid = cur;
	}
	return r;
}

void
zc_finish_bulk_insert(Relation rel, int options)
{
}

/* ----------------------------------------------------------------
 *		Storage
 * ----------------------------------------------------------------
 */

void
zc_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode, char persistence,
							 TransactionId *freezeXid, MultiXactId *minmulti)
{
	SMgrRelation srel;

	if (persistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("compressed chunks must be permanent tables")));
	/* rows live elsewhere: no transaction ids here to freeze */
	*freezeXid = InvalidTransactionId;
	*minmulti = InvalidMultiXactId;

	/*
	 * TRUNCATE gives the relation a new storage: the old one's batches go,
	 * in this transaction (a new relation has no old storage).
	 */
	if (!RelFileNodeEquals(rel->rd_node, *newrnode) &&
		smgrexists(RelationGetSmgr(rel), MAIN_FORKNUM) &&
		RelationGetNumberOfBlocks(rel) > 0)
	{
		ZcMeta		meta;

		zc_meta_read(rel, &meta);
		zc_side_delete_storage(meta.storage_id);
	}
	srel = RelationCreateStorage(*newrnode, persistence, true);
	zc_meta_create(srel);
	smgrclose(srel);
}

void
zc_relation_nontransactional_truncate(Relation rel)
{
	ZcMeta		meta;

	/* the relation was made in this transaction: its batches too */
	zc_meta_read(rel, &meta);
	zc_side_delete_storage(meta.storage_id);
	RelationTruncate(rel, 0);
	zc_meta_create(RelationGetSmgr(rel));
}

/* ALTER TABLE SET TABLESPACE: the metapage moves, the batches stay */
void
zc_relation_copy_data(Relation rel, const RelFileNode *newrnode)
{
	SMgrRelation dst = RelationCreateStorage(*newrnode, rel->rd_rel->relpersistence, true);

	RelationCopyStorage(RelationGetSmgr(rel), dst, MAIN_FORKNUM, rel->rd_rel->relpersistence);
	RelationDropStorage(rel);
	smgrclose(dst);
}

void
zc_relation_copy_for_cluster(Relation OldTable, Relation NewTable, Relation OldIndex,
							 bool use_sort, TransactionId OldestXmin,
							 TransactionId *xid_cutoff, MultiXactId *multi_cutoff,
							 double *num_tuples, double *tups_vacuumed,
							 double *tups_recently_dead)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot CLUSTER or VACUUM FULL compressed chunk \"%s\"",
					RelationGetRelationName(OldTable)),
			 errhint("zvt.compress_chunk rewrites a compressed chunk and merges its late batches.")));
}

void
zc_relation_vacuum(Relation rel, struct VacuumParams *params, BufferAccessStrategy bstrategy)
{
	/* nothing here to vacuum: zvt._compressed_batches is vacuumed on its own */
}

