/*-------------------------------------------------------------------------
 *
 * src/compress/tam.c
 *	  The table access method zvt_compressed: a chunk whose rows are
 *	  compressed batches in zvt._compressed_batches, still an ordinary
 *	  partition of its hypertable with its indexes.
 *
 * Why a table access method: a compressed chunk must stay a partition so
 * every query, view, zvt.ohlcv and backtest reads it unchanged, and the
 * hypertable's unique indexes must keep holding (PostgreSQL 15 refuses a
 * foreign-table partition under a table with unique indexes).  With a
 * table AM the chunk keeps its btree indexes, whose entries point at
 * (batch number, row + 1) TIDs (zc.h); docs/architecture.md tells the
 * choice.  Index builds give most indexes the late rows only and the
 * planner does not see them; the key probe keeps unique keys exact
 * (keys.c).
 *
 * Reading: a sequential scan walks this storage's batches in the batch
 * table's key order under the scan's snapshot and decodes one batch at a
 * time; an index fetch finds the batch by number (SnapshotAny), judges
 * its visibility with heap_fetch under the caller's snapshot (so
 * SnapshotDirty gives unique checks the inserting transaction to wait
 * for) and keeps the last decoded batch.  ANALYZE reads every row
 * through a single "block".
 *
 * Writing (tam_write.c): INSERT and COPY into a compressed chunk store
 * their rows as a new "late" batch, with index entries like any insert;
 * UPDATE and DELETE record the old row as removed (dead.c) and row locks
 * lock its batch.  Batch visibility is the batch row's MVCC visibility
 * and a row is visible when its batch is and no removal of it is, so a
 * rolled-back change leaves nothing behind but a gap in the batch
 * numbers.  Rows reach the executor through reader.c's slot type.
 *
 * A parallel scan hands out whole batches: each participant walks the
 * batch keys and decodes the batches whose ordinal it claims.
 *
 * Not supported (0A000): sample scans, backward scans,
 * CREATE INDEX CONCURRENTLY, CLUSTER and VACUUM FULL (compress_chunk
 * rewrites instead), temporary and unlogged tables.  Bitmap and TID range
 * scans are never planned (their callbacks are absent).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/heapam.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/storage.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "base/export.h"
#include "compress/zc.h"
#include "compress/tam.h"

PG_FUNCTION_INFO_V1(zvt_compressed_handler);

/* a sequential (or analyze) scan */
typedef struct ZcScan
{
	TableScanDescData base;
	ZcSide		side;
	IndexScanDesc iscan;		/* this storage's batches, in number order */
	TupleTableSlot *sideslot;
	int64		storage_id;
	ZcReader	reader;
	uint32		row;			/* next row of the loaded batch */
	ZcDeadSet	dead;			/* removed rows the snapshot sees */
	int			dead_i;			/* the loaded batch's first in dead */
	MemoryContext cxt;
	MemoryContext deadcxt;
	MemoryContext tmpcxt;		/* the detoasted batch, reset per batch */
	Snapshot	own_snapshot;	/* registered here (analyze), or NULL */
	bool		analyze_block_done;
	/* parallel scans: batches are handed out by their ordinal */
	uint64		ordinal;		/* of the next visible batch, in key order */
	uint64		claimed;		/* the ordinal this participant took last */
	bool		have_claim;
	/* index builds of sparse indexes (keys.c): late batches only */
	bool		late_only;
	double		skipped_rows;	/* rows of the compressed batches passed over */
} ZcScan;

/*
 * A parallel scan's shared state: every participant walks the same
 * batches (same snapshot, same key order) and decodes only those whose
 * ordinal it claims from next.
 */
typedef struct ZcParallelScan
{
	ParallelTableScanDescData base;
	pg_atomic_uint64 next;
} ZcParallelScan;

/* one batch number's heap row, as last found, and its removed rows */
typedef struct ZcFetchCache
{
	bool		have;
	uint32		seq;
	ItemPointerData side_tid;
	/* removals of batch dead_seq under MVCC snapshot dead_snap */
	bool		have_dead;
	uint32		dead_seq;
	Snapshot	dead_snap;
	CommandId	dead_cid;
	ZcDeadSet	dead;
	MemoryContext deadcxt;
} ZcFetchCache;

/* an index fetch */
typedef struct ZcFetch
{
	IndexFetchTableData base;
	ZcSide		side;
	int64		storage_id;
	ZcReader	reader;
	ZcFetchCache cache;
	MemoryContext cxt;
	MemoryContext tmpcxt;
} ZcFetch;

static const TableAmRoutine zc_routine;

static bool row_alive(ZcSide *side, int64 storage_id, ZcFetchCache *cache, uint32 seq,
					  uint32 row, Snapshot snapshot);

static void start_batches(ZcScan *s);
static bool fetch_row(Relation rel, ZcSide *side, int64 storage_id, ZcReader *reader,
					  ZcFetchCache *cache, MemoryContext tmpcxt, ItemPointer tid,
					  Snapshot snapshot, TupleTableSlot *slot);

bool
zc_is_compressed(Relation rel)
{
	return rel->rd_tableam == &zc_routine;
}

Oid
zc_am_oid(bool missing_ok)
{
	return get_table_am_oid("zvt_compressed", missing_ok);
}

static const TupleTableSlotOps *
zc_slot_callbacks(Relation rel)
{
	return &zc_slot_ops;
}

/* ----------------------------------------------------------------
 *		Sequential scans
 * ----------------------------------------------------------------
 */

static TableScanDesc
zc_scan_begin(Relation rel, Snapshot snapshot, int nkeys, ScanKey key,
			  ParallelTableScanDesc pscan, uint32 flags)
{
	ZcScan	   *s;
	ZcMeta		meta;

	if (flags & SO_TYPE_SAMPLESCAN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("TABLESAMPLE is not supported on compressed chunks")));
	s = palloc0(sizeof(ZcScan));
	s->base.rs_rd = rel;
	s->base.rs_nkeys = nkeys;
	s->base.rs_key = key;
	s->base.rs_flags = flags;
	s->base.rs_parallel = pscan;
	if (snapshot == NULL)
	{
		/* ANALYZE: every committed row */
		snapshot = s->own_snapshot = RegisterSnapshot(GetLatestSnapshot());
	}
	else if (!IsMVCCSnapshot(snapshot))
	{
		/*
		 * Index builds pass SnapshotAny, which would also return aborted
		 * batches: take committed batches and this transaction's.  The
		 * builder locks out writers, so every participant of a parallel
		 * build sees the same batches.
		 */
		snapshot = SnapshotSelf;
	}
	s->base.rs_snapshot = snapshot;
	s->cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt compressed scan",
								   ALLOCSET_DEFAULT_SIZES);
	s->tmpcxt = AllocSetContextCreate(s->cxt, "zvt compressed scan batch",
									  ALLOCSET_DEFAULT_SIZES);
	s->deadcxt = AllocSetContextCreate(s->cxt, "zvt compressed scan removals",
									   ALLOCSET_SMALL_SIZES);
	zc_meta_read(rel, &meta);
	s->storage_id = meta.storage_id;
	zc_side_open(&s->side, AccessShareLock);
	s->sideslot = table_slot_create(s->side.rel, NULL);
	zc_reader_init(&s->reader, s->cxt);
	if (IsMVCCSnapshot(snapshot))
		PredicateLockRelation(rel, snapshot);
	start_batches(s);
	return &s->base;
}

static void
start_batches(ZcScan *s)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(s->storage_id));
	if (s->iscan == NULL)
		s->iscan = index_beginscan(s->side.rel, s->side.idx, s->base.rs_snapshot, 1, 0);
	index_rescan(s->iscan, &key, 1, NULL, 0);
	s->reader.loaded = false;
	s->row = 0;
	MemoryContextReset(s->deadcxt);
	zc_dead_load(&s->side, s->storage_id, -1, s->base.rs_snapshot, &s->dead, s->deadcxt);
	s->dead_i = 0;
	s->ordinal = 0;
	s->have_claim = false;
	s->skipped_rows = 0;
}

static void
zc_scan_end(TableScanDesc sscan)
{
	ZcScan	   *s = (ZcScan *) sscan;

	index_endscan(s->iscan);
	ExecDropSingleTupleTableSlot(s->sideslot);
	zc_side_close(&s->side);
	MemoryContextDelete(s->cxt);
	if (s->own_snapshot)
		UnregisterSnapshot(s->own_snapshot);
	if ((sscan->rs_flags & SO_TEMP_SNAPSHOT) && IsMVCCSnapshot(sscan->rs_snapshot) &&
		s->own_snapshot == NULL)
		UnregisterSnapshot(sscan->rs_snapshot);
	pfree(s);
}

static void
zc_scan_rescan(TableScanDesc sscan, ScanKey key, bool set_params,
			   bool allow_strat, bool allow_sync, bool allow_pagemode)
{
	start_batches((ZcScan *) sscan);
}

/* Loads the next visible batch; false at the end. */
static bool
next_batch(ZcScan *s)
{
	for (;;)
	{
		bool		shouldfree;
		HeapTuple	tup;
		bytea	   *batch;
		uint32		seq;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!index_getnext_slot(s->iscan, ForwardScanDirection, s->sideslot))
			return false;
		if (s->base.rs_parallel != NULL)
		{
			ZcParallelScan *p = (ZcParallelScan *) s->base.rs_parallel;
			uint64		k = s->ordinal++;

			if (!s->have_claim || s->claimed < k)
			{
				s->claimed = pg_atomic_fetch_add_u64(&p->next, 1);
				s->have_claim = true;
			}
			if (s->claimed != k)
				continue;		/* another participant's batch */
		}
		if (s->late_only)
		{
			bool		isnull;

			if (!DatumGetBool(slot_getattr(s->sideslot, ZC_SIDE_LATE, &isnull)))
			{
				s->skipped_rows += DatumGetInt32(slot_getattr(s->sideslot, ZC_SIDE_NROWS,
															  &isnull));
				continue;
			}
		}
		MemoryContextReset(s->tmpcxt);
		old = MemoryContextSwitchTo(s->tmpcxt);
		tup = ExecFetchSlotHeapTuple(s->sideslot, false, &shouldfree);
		batch = zc_side_batch(&s->side, tup, &seq);
		MemoryContextSwitchTo(old);
		zc_reader_load(&s->reader, s->base.rs_rd, seq, batch);
		MemoryContextReset(s->tmpcxt);
		s->row = 0;
		s->dead_i = s->dead.n > 0 ? zc_dead_first(&s->dead, seq) : 0;
		if (s->reader.batch.nrows > 0)
			return true;
	}
}

static bool
zc_scan_getnextslot(TableScanDesc sscan, ScanDirection direction, TupleTableSlot *slot)
{
	ZcScan	   *s = (ZcScan *) sscan;

	if (ScanDirectionIsBackward(direction))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("backward scans of compressed chunks are not supported")));
	for (;;)
	{
		while (!s->reader.loaded || s->row >= s->reader.batch.nrows)
		{
			if (!next_batch(s))
			{
				ExecClearTuple(slot);
				return false;
			}
		}
		if (!zc_dead_is(&s->dead, s->dead_i, s->reader.seq, s->row))
			break;
		s->row++;				/* removed for this snapshot */
		s->dead_i++;
	}
	zc_reader_store(&s->reader, sscan->rs_rd, s->row, slot);
	ItemPointerSet(&slot->tts_tid, s->reader.seq, (OffsetNumber) (s->row + 1));
	s->row++;
	pgstat_count_heap_getnext(sscan->rs_rd);
	return true;
}

static Size
zc_parallelscan_estimate(Relation rel)
{
	return sizeof(ZcParallelScan);
}

static Size
zc_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	ZcParallelScan *p = (ZcParallelScan *) pscan;

	p->base.phs_relid = RelationGetRelid(rel);
	p->base.phs_syncscan = false;
	pg_atomic_init_u64(&p->next, 0);
	return sizeof(ZcParallelScan);
}

static void
zc_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	pg_atomic_write_u64(&((ZcParallelScan *) pscan)->next, 0);
}

/* ----------------------------------------------------------------
 *		Fetching rows by TID
 * ----------------------------------------------------------------
 */

/*
 * Row tid of rel into slot when its batch is visible under snapshot.
 * reader keeps the decoded batch and cache its heap row's place, both
 * reused while the caller asks for rows of the same batch.
 */
static bool
fetch_row(Relation rel, ZcSide *side, int64 storage_id, ZcReader *reader,
		  ZcFetchCache *cache, MemoryContext tmpcxt, ItemPointer tid,
		  Snapshot snapshot, TupleTableSlot *slot)
{
	BlockNumber seq = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	HeapTupleData tup;
	Buffer		buf;

	if (off == 0 || seq == InvalidBlockNumber)
		return false;
	if (!cache->have || cache->seq != seq)
	{
		cache->have = false;
		if (!zc_side_find(side, storage_id, seq, &cache->side_tid))
			return false;
		cache->have = true;
		cache->seq = seq;
	}
	tup.t_self = cache->side_tid;
	if (!heap_fetch(side->rel, snapshot, &tup, &buf, false))
		return false;
	if (!row_alive(side, storage_id, cache, seq, off - 1, snapshot))
	{
		ReleaseBuffer(buf);
		return false;
	}
	if (!reader->loaded || reader->seq != seq)
	{
		MemoryContext old = MemoryContextSwitchTo(tmpcxt);
		uint32		s;
		bytea	   *batch = zc_side_batch(side, &tup, &s);

		MemoryContextSwitchTo(old);
		ReleaseBuffer(buf);
		zc_reader_load(reader, rel, seq, batch);
		MemoryContextReset(tmpcxt);
	}
	else
		ReleaseBuffer(buf);
	if ((uint32) (off - 1) >= reader->batch.nrows)
		return false;
	zc_reader_store(reader, rel, off - 1, slot);
	slot->tts_tid = *tid;
	return true;
}

/*
 * Whether row of batch seq (whose batch snapshot sees) is not removed
 * for snapshot.  SnapshotDirty: a removal in progress leaves the row
 * there with that transaction in snapshot->xmax to wait for, as heap
 * reports an in-progress deleter; the batch's own xmin and speculative
 * token (set by the batch's heap_fetch) are kept.  MVCC snapshots reuse
 * the batch's removals while the caller stays on one batch.
 */
static bool
row_alive(ZcSide *side, int64 storage_id, ZcFetchCache *cache, uint32 seq, uint32 row,
		  Snapshot snapshot)
{
	if (snapshot->snapshot_type == SNAPSHOT_DIRTY)
	{
		TransactionId xmin = snapshot->xmin;
		TransactionId xmax = snapshot->xmax;
		uint32		token = snapshot->speculativeToken;
		ZcDeadInfo	info;
		ZcDeadState st = zc_dead_find(side, storage_id, seq, row, snapshot, &info);

		snapshot->xmin = xmin;
		snapshot->xmax = xmax;
		snapshot->speculativeToken = token;
		if (st == ZC_DEAD_YES)
			return false;
		if (st == ZC_DEAD_IN_PROGRESS)
			snapshot->xmax = info.xid;
		return true;
	}
	if (IsMVCCSnapshot(snapshot))
	{
		int			i;

		if (!cache->have_dead || cache->dead_seq != seq || cache->dead_snap != snapshot ||
			cache->dead_cid != snapshot->curcid)
		{
			MemoryContextReset(cache->deadcxt);
			zc_dead_load(side, storage_id, seq, snapshot, &cache->dead, cache->deadcxt);
			cache->have_dead = true;
			cache->dead_seq = seq;
			cache->dead_snap = snapshot;
			cache->dead_cid = snapshot->curcid;
		}
		i = zc_dead_first(&cache->dead, seq);
		while (i < cache->dead.n && !zc_dead_is(&cache->dead, i, seq, row) &&
			   (cache->dead.keys[i] >> 16) == seq)
			i++;
		return !zc_dead_is(&cache->dead, i, seq, row);
	}
	if (snapshot->snapshot_type == SNAPSHOT_SELF)
	{
		ZcDeadInfo	info;

		return zc_dead_find(side, storage_id, seq, row, snapshot, &info) != ZC_DEAD_YES;
	}
	/* SnapshotAny and SnapshotNonVacuumable: every version counts */
	return true;
}

static IndexFetchTableData *
zc_index_fetch_begin(Relation rel)
{
	ZcFetch    *f = palloc0(sizeof(ZcFetch));
	ZcMeta		meta;

	f->base.rel = rel;
	zc_meta_read(rel, &meta);
	f->storage_id = meta.storage_id;
	zc_side_open(&f->side, AccessShareLock);
	f->cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt compressed fetch",
								   ALLOCSET_DEFAULT_SIZES);
	f->tmpcxt = AllocSetContextCreate(f->cxt, "zvt compressed fetch batch",
									  ALLOCSET_DEFAULT_SIZES);
	f->cache.deadcxt = AllocSetContextCreate(f->cxt, "zvt compressed fetch removals",
											 ALLOCSET_SMALL_SIZES);
	zc_reader_init(&f->reader, f->cxt);
	return &f->base;
}

static void
zc_index_fetch_reset(IndexFetchTableData *scan)
{
}

static void
zc_index_fetch_end(IndexFetchTableData *scan)
{
	ZcFetch    *f = (ZcFetch *) scan;

	zc_side_close(&f->side);
	MemoryContextDelete(f->cxt);
	pfree(f);
}

static bool
zc_index_fetch_tuple(IndexFetchTableData *scan, ItemPointer tid, Snapshot snapshot,
					 TupleTableSlot *slot, bool *call_again, bool *all_dead)
{
	ZcFetch    *f = (ZcFetch *) scan;

	*call_again = false;
	if (all_dead)
		*all_dead = false;		/* never let an index kill entries: batch numbers are not reused */
	return fetch_row(scan->rel, &f->side, f->storage_id, &f->reader, &f->cache,
					 f->tmpcxt, tid, snapshot, slot);
}

static bool
zc_tuple_fetch_row_version(Relation rel, ItemPointer tid, Snapshot snapshot,
						   TupleTableSlot *slot)
{
	IndexFetchTableData *scan = zc_index_fetch_begin(rel);
	bool		call_again,
				found;

	found = zc_index_fetch_tuple(scan, tid, snapshot, slot, &call_again, NULL);
	if (found)
		ExecMaterializeSlot(slot);	/* its datums outlive the fetch */
	zc_index_fetch_end(scan);
	return found;
}

static bool
zc_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	return ItemPointerIsValid(tid) &&
		ItemPointerGetBlockNumberNoCheck(tid) != InvalidBlockNumber;
}

static void
zc_tuple_get_latest_tid(TableScanDesc scan, ItemPointer tid)
{
	/* currtid_byrelname and WHERE CURRENT OF: the version given stands */
}

static bool
zc_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot, Snapshot snapshot)
{
	TupleTableSlot *tmp = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
	bool		found = zc_tuple_fetch_row_version(rel, &slot->tts_tid, snapshot, tmp);

	ExecDropSingleTupleTableSlot(tmp);
	return found;
}

static TransactionId
zc_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	/* no index entry is ever found dead here (see zc_index_fetch_tuple) */
	delstate->ndeltids = 0;
	return InvalidTransactionId;
}

/* ----------------------------------------------------------------
 *		ANALYZE, index builds, sizes
 * ----------------------------------------------------------------
 */

static bool
zc_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
						   BufferAccessStrategy bstrategy)
{
	ZcScan	   *s = (ZcScan *) sscan;

	/* one "block" (the metapage) stands for every row */
	if (blockno != 0 || s->analyze_block_done)
		return false;
	s->analyze_block_done = true;
	return true;
}

static bool
zc_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
						   double *liverows, double *deadrows, TupleTableSlot *slot)
{
	if (!zc_scan_getnextslot(sscan, ForwardScanDirection, slot))
		return false;
	*liverows += 1;
	return true;
}

static double
zc_index_build_range_scan(Relation table_rel, Relation index_rel, struct IndexInfo *index_info,
						  bool allow_sync, bool anyvisible, bool progress,
						  BlockNumber start_blockno, BlockNumber numblocks,
						  IndexBuildCallback callback, void *callback_state,
						  TableScanDesc scan)
{
	EState	   *estate;
	ExprContext *econtext;
	ExprState  *predicate;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	double		reltuples = 0;

	estate = CreateExecutorState();
	econtext = GetPerTupleExprContext(estate);
	slot = table_slot_create(table_rel, NULL);
	econtext->ecxt_scantuple = slot;
	predicate = ExecPrepareQual(index_info->ii_Predicate, estate);

	/*
	 * The caller holds a lock that keeps writers out: every committed
	 * batch, and this transaction's, is in the index.  A parallel build
	 * passes its participant's scan (its SnapshotAny becomes SnapshotSelf
	 * in zc_scan_begin).
	 */
	snapshot = NULL;
	if (scan == NULL)
	{
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		scan = table_beginscan_strat(table_rel, snapshot, 0, NULL, true, false);
	}

	/*
	 * A sparse index (keys.c) gets the late rows only; a new unique one
	 * gets every row, so that its build proves the key unique.
	 */
	((ZcScan *) scan)->late_only = zc_index_sparse(table_rel, index_rel) &&
		(!index_info->ii_Unique || ReindexIsProcessingIndex(RelationGetRelid(index_rel)));
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(econtext->ecxt_per_tuple_memory);
		if (predicate != NULL && !ExecQual(predicate, econtext))
			continue;
		FormIndexDatum(index_info, slot, estate, values, isnull);
		callback(index_rel, &slot->tts_tid, values, isnull, true, callback_state);
		reltuples += 1;
	}
	/* the chunk's row count (pg_class.reltuples) counts every row */
	reltuples += ((ZcScan *) scan)->skipped_rows;
	table_endscan(scan);
	if (snapshot)
		UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	index_info->ii_ExpressionsState = NIL;
	index_info->ii_PredicateState = NULL;
	return reltuples;
}

static void
zc_index_validate_scan(Relation table_rel, Relation index_rel, struct IndexInfo *index_info,
					   Snapshot snapshot, struct ValidateIndexState *state)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("CREATE INDEX CONCURRENTLY is not supported on compressed chunk \"%s\"",
					RelationGetRelationName(table_rel))));
}

static bool
zc_relation_needs_toast_table(Relation rel)
{
	return false;
}

static Oid
zc_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

/*
 * Planner sizes: ANALYZE's row count when there is one, else what the
 * batch count suggests; ten pages a batch, about what its rows would take
 * on heap pages: decoding a batch costs about what reading them would,
 * and big chunks get as many parallel workers as they would uncompressed.
 */
static void
zc_relation_estimate_size(Relation rel, int32 *attr_widths, BlockNumber *pages,
						  double *tuples, double *allvisfrac)
{
	ZcMeta		meta;

	zc_meta_read(rel, &meta);
	*pages = Max(1, Min((uint64) meta.next_seq * 10, (uint64) MaxBlockNumber));
	*allvisfrac = 0;
	if (rel->rd_rel->reltuples >= 0)
		*tuples = rel->rd_rel->reltuples;
	else
		*tuples = (double) meta.next_seq * ZC_BATCH_ROWS / 2;
}

static bool
zc_scan_sample_next_block(TableScanDesc scan, struct SampleScanState *scanstate)
{
	return false;
}

static bool
zc_scan_sample_next_tuple(TableScanDesc scan, struct SampleScanState *scanstate,
						  TupleTableSlot *slot)
{
	return false;
}

static const TableAmRoutine zc_routine = {
	.type = T_TableAmRoutine,
	.slot_callbacks = zc_slot_callbacks,
	.scan_begin = zc_scan_begin,
	.scan_end = zc_scan_end,
	.scan_rescan = zc_scan_rescan,
	.scan_getnextslot = zc_scan_getnextslot,
	.parallelscan_estimate = zc_parallelscan_estimate,
	.parallelscan_initialize = zc_parallelscan_initialize,
	.parallelscan_reinitialize = zc_parallelscan_reinitialize,
	.index_fetch_begin = zc_index_fetch_begin,
	.index_fetch_reset = zc_index_fetch_reset,
	.index_fetch_end = zc_index_fetch_end,
	.index_fetch_tuple = zc_index_fetch_tuple,
	.tuple_fetch_row_version = zc_tuple_fetch_row_version,
	.tuple_tid_valid = zc_tuple_tid_valid,
	.tuple_get_latest_tid = zc_tuple_get_latest_tid,
	.tuple_satisfies_snapshot = zc_tuple_satisfies_snapshot,
	.index_delete_tuples = zc_index_delete_tuples,
	.tuple_insert = zc_tuple_insert,
	.tuple_insert_speculative = zc_tuple_insert_speculative,
	.tuple_complete_speculative = zc_tuple_complete_speculative,
	.multi_insert = zc_multi_insert,
	.tuple_delete = zc_tuple_delete,
	.tuple_update = zc_tuple_update,
	.tuple_lock = zc_tuple_lock,
	.finish_bulk_insert = zc_finish_bulk_insert,
	.relation_set_new_filenode = zc_relation_set_new_filenode,
	.relation_nontransactional_truncate = zc_relation_nontransactional_truncate,
	.relation_copy_data = zc_relation_copy_data,
	.relation_copy_for_cluster = zc_relation_copy_for_cluster,
	.relation_vacuum = zc_relation_vacuum,
	.scan_analyze_next_block = zc_scan_analyze_next_block,
	.scan_analyze_next_tuple = zc_scan_analyze_next_tuple,
	.index_build_range_scan = zc_index_build_range_scan,
	.index_validate_scan = zc_index_validate_scan,
	.relation_size = table_block_relation_size,
	.relation_needs_toast_table = zc_relation_needs_toast_table,
	.relation_toast_am = zc_relation_toast_am,
	.relation_estimate_size = zc_relation_estimate_size,
	.scan_sample_next_block = zc_scan_sample_next_block,
	.scan_sample_next_tuple = zc_scan_sample_next_tuple,
};

/* zvt.compressed_handler(internal) RETURNS table_am_handler */
Datum
zvt_compressed_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&zc_routine);
}
