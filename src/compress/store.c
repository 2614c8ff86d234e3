/*-------------------------------------------------------------------------
 *
 * src/compress/store.c
 *	  The metapage of a compressed chunk and the batch table
 *	  zvt._compressed_batches.
 *
 * Metapage (block 0 of the chunk's own storage): written once when the
 * storage is created (zc_meta_create, WAL-logged like an index's
 * metapage), then only its batch counter moves, under the buffer's
 * exclusive lock and generic WAL (zc_meta_next_seqs).  The counter is not
 * transactional: an aborted insert leaves a gap, never a reused number.
 *
 * Batch table: one heap row per batch, (storage_id, seq) its primary key.
 * Batches are inserted with heap_insert plus an index_insert into that
 * key (speculatively for INSERT ... ON CONFLICT, see tam.c), found by key
 * with SnapshotAny (visibility is judged on the heap row afterwards), and
 * deleted all at once when their storage goes away (DROP, TRUNCATE, a
 * rewrite; zc_side_delete_storage).  Only this C code writes the table:
 * no role has privileges on it, so these low-level calls check none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "common/pg_prng.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compress/zc.h"

static int64 new_storage_id(void);

/* ----------------------------------------------------------------
 *		Metapage
 * ----------------------------------------------------------------
 */

/* a random positive 63-bit id; collisions are not a practical concern */
static int64
new_storage_id(void)
{
	uint64		v = 0;

	if (!pg_strong_random(&v, sizeof(v)))
		v = pg_prng_uint64(&pg_global_prng_state);
	v &= UINT64CONST(0x7FFFFFFFFFFFFFFF);
	return v ? (int64) v : 1;
}

/*
 * Writes the metapage of a new, empty storage (block 0 of its main fork)
 * with a fresh storage id.  The caller created the storage.
 */
void
zc_meta_create(SMgrRelation srel)
{
	PGAlignedBlock buf;
	Page		page = (Page) buf.data;
	ZcMeta	   *meta;

	PageInit(page, BLCKSZ, 0);
	meta = (ZcMeta *) PageGetContents(page);
	meta->magic = ZC_META_MAGIC;
	meta->version = 1;
	meta->storage_id = new_storage_id();
	meta->next_seq = 0;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(ZcMeta)) - (char *) page;
	log_newpage(&srel->smgr_rnode.node, MAIN_FORKNUM, 0, page, true);
	PageSetChecksumInplace(page, 0);
	smgrextend(srel, MAIN_FORKNUM, 0, buf.data, true);
	smgrimmedsync(srel, MAIN_FORKNUM);
}

/* Reads the metapage of rel (which the caller has locked). */
void
zc_meta_read(Relation rel, ZcMeta *meta)
{
	Buffer		b;

	if (RelationGetNumberOfBlocks(rel) == 0)
		elog(ERROR, "compressed chunk \"%s\" has no metapage", RelationGetRelationName(rel));
	b = ReadBuffer(rel, 0);
	LockBuffer(b, BUFFER_LOCK_SHARE);
	memcpy(meta, PageGetContents(BufferGetPage(b)), sizeof(ZcMeta));
	UnlockReleaseBuffer(b);
	if (meta->magic != ZC_META_MAGIC || meta->version != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("compressed chunk \"%s\" has an invalid metapage",
						RelationGetRelationName(rel))));
}

/*
 * Reserves count consecutive batch numbers of rel and returns the first.
 * Batch numbers are TID block numbers: they stop short of
 * InvalidBlockNumber.
 */
uint32
zc_meta_next_seqs(Relation rel, uint32 count)
{
	Buffer		b = ReadBuffer(rel, 0);
	GenericXLogState *state;
	ZcMeta	   *meta;
	uint32		first;

	LockBuffer(b, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(rel);
	meta = (ZcMeta *) PageGetContents(GenericXLogRegisterBuffer(state, b, 0));
	first = meta->next_seq;
	if ((uint64) first + count >= (uint64) MaxBlockNumber)
	{
		GenericXLogAbort(state);
		UnlockReleaseBuffer(b);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("compressed chunk \"%s\" has used all its batch numbers",
						RelationGetRelationName(rel)),
				 errhint("Compress it again: SELECT zvt.compress_chunk('%s');",
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													RelationGetRelationName(rel)))));
	}
	meta->next_seq = first + count;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(b);
	return first;
}

/* ----------------------------------------------------------------
 *		The batch table
 * ----------------------------------------------------------------
 */

/* OID of zvt._compressed_batches; InvalidOid when missing and missing_ok */
Oid
zc_side_relid(bool missing_ok)
{
	Oid			nsp = get_namespace_oid("zvt", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("_compressed_batches", nsp) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("zvt._compressed_batches does not exist"),
				 errhint("Compressed chunks need the zvt extension installed.")));
	return relid;
}

void
zc_side_open(ZcSide *side, LOCKMODE mode)
{
	Oid			idx;

	side->rel = table_open(zc_side_relid(false), mode);
	idx = RelationGetPrimaryKeyIndex(side->rel);
	if (!OidIsValid(idx))
		elog(ERROR, "zvt._compressed_batches has no primary key");
	side->idx = index_open(idx, mode);
	side->idxinfo = NULL;
	side->lockmode = mode;
	side->drel = NULL;
	side->didx = NULL;
	side->didxinfo = NULL;
}

void
zc_side_close(ZcSide *side)
{
	zc_dead_close(side);
	index_close(side->idx, side->lockmode);
	table_close(side->rel, side->lockmode);
}

/*
 * Inserts one batch and its key; *side_tid gets the heap row's TID.  With
 * spec_token != 0 the row is inserted speculatively (the caller finishes
 * or kills it, heap_finish_speculative / heap_abort_speculative).  Late
 * batches are ordinary MVCC inserts; the batches of a compression are
 * inserted frozen (visible to every snapshot at once), as COPY FREEZE
 * does into a new table: they belong to a storage that no relation
 * points to unless the compression commits, and a query whose snapshot
 * predates the compression but reaches the chunk after it must find its
 * rows.
 */
void
zc_side_insert(ZcSide *side, int64 storage_id, uint32 seq, int32 nrows,
			   bool late, bytea *batch, CommandId cid,
			   uint32 spec_token, ItemPointer side_tid)
{
	Datum		values[ZC_SIDE_NATTS];
	bool		nulls[ZC_SIDE_NATTS] = {false, false, false, false, false};
	HeapTuple	tup;

	values[ZC_SIDE_STORAGE - 1] = Int64GetDatum(storage_id);
	values[ZC_SIDE_SEQ - 1] = Int64GetDatum((int64) seq);
	values[ZC_SIDE_NROWS - 1] = Int32GetDatum(nrows);
	values[ZC_SIDE_LATE - 1] = BoolGetDatum(late);
	values[ZC_SIDE_BATCH - 1] = PointerGetDatum(batch);
	tup = heap_form_tuple(RelationGetDescr(side->rel), values, nulls);
	if (spec_token != 0)
	{
		HeapTupleHeaderSetSpeculativeToken(tup->t_data, spec_token);
		heap_insert(side->rel, tup, cid, HEAP_INSERT_SPECULATIVE, NULL);
	}
	else
		heap_insert(side->rel, tup, cid, late ? 0 : HEAP_INSERT_FROZEN, NULL);
	*side_tid = tup->t_self;
	if (side->idxinfo == NULL)
		side->idxinfo = BuildIndexInfo(side->idx);
	/* batch numbers are unique by construction: no uniqueness check */
	index_insert(side->idx, values, nulls, &tup->t_self, side->rel,
				 UNIQUE_CHECK_NO, false, side->idxinfo);
	heap_freetuple(tup);
}

/*
 * Finds the heap row of batch seq of a storage, whatever its visibility
 * (the caller judges that with heap_fetch).  False when there is none.
 */
bool
zc_side_find(ZcSide *side, int64 storage_id, uint32 seq, ItemPointer side_tid)
{
	ScanKeyData key[2];
	IndexScanDesc scan;
	ItemPointer tid;

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum((int64) seq));
	scan = index_beginscan(side->rel, side->idx, SnapshotAny, 2, 0);
	index_rescan(scan, key, 2, NULL, 0);
	tid = index_getnext_tid(scan, ForwardScanDirection);
	if (tid)
		*side_tid = *tid;
	index_endscan(scan);
	return tid != NULL;
}

/*
 * The batch of a batch-table row, detoasted in the current memory
 * context, and its number in *seq.
 */
bytea *
zc_side_batch(ZcSide *side, HeapTuple tup, uint32 *seq)
{
	TupleDesc	desc = RelationGetDescr(side->rel);
	bool		isnull;
	Datum		d;

	d = heap_getattr(tup, ZC_SIDE_SEQ, desc, &isnull);
	*seq = (uint32) DatumGetInt64(d);
	d = heap_getattr(tup, ZC_SIDE_BATCH, desc, &isnull);
	if (isnull)
		elog(ERROR, "batch %u of a compressed chunk is null", *seq);
	return (bytea *) PG_DETOAST_DATUM(d);
}

/*
 * Deletes every batch of a storage that is gone or going (its relation
 * dropped, truncated or rewritten), and its rows' removals (dead.c); the caller holds that relation's
 * AccessExclusiveLock, so no other transaction writes its batches.
 * Returns how many were deleted.  Nothing to do without the batch table
 * (DROP EXTENSION removes it first).
 */
int64
zc_side_delete_storage(int64 storage_id)
{
	ZcSide		side;
	ScanKeyData key;
	IndexScanDesc scan;
	ItemPointer tid;
	int64		n = 0;

	if (!OidIsValid(zc_side_relid(true)))
		return 0;
	zc_side_open(&side, RowExclusiveLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = index_beginscan(side.rel, side.idx, SnapshotSelf, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		HeapTupleData tup;
		Buffer		buf;

		/* visible to SnapshotSelf: committed or ours, and not deleted */
		tup.t_self = *tid;
		if (!heap_fetch(side.rel, SnapshotSelf, &tup, &buf, false))
			continue;
		ReleaseBuffer(buf);
		simple_heap_delete(side.rel, tid);
		n++;
	}
	index_endscan(scan);
	(void) zc_dead_delete_storage(&side, storage_id);
	zc_side_close(&side);
	return n;
}
