/*-------------------------------------------------------------------------
 *
 * src/compress/zc.h
 *	  What the PostgreSQL glue of compressed chunks shares: the metapage,
 *	  the batch table, rows to and from batches, and the pending
 *	  compression.
 *
 * A compressed chunk is a table of access method zvt_compressed (tam.c).
 * Its own storage holds one page, the metapage (store.c): a random
 * storage id naming this incarnation of the storage and the next batch
 * number.  Its rows live in zvt._compressed_batches as batches (codec.h)
 * keyed by (storage id, seq); a row's TID is (seq, row + 1).  Batch
 * numbers are never reused within a storage, so an index entry never
 * points at another row than the one it was made for.
 *
 * Wording: "batch" is one row of zvt._compressed_batches (up to
 * ZC_BATCH_ROWS chunk rows); "late" batches are those written by INSERT or
 * COPY into an already compressed chunk, merged by the next compression.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_COMPRESS_ZC_H
#define ZVT_COMPRESS_ZC_H

#include "access/tupdesc.h"
#include "access/transam.h"
#include "storage/itemptr.h"
#include "executor/tuptable.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "compress/codec.h"

/* rows per batch the compressor cuts (CZ_MAX_ROWS bounds what it reads) */
#define ZC_BATCH_ROWS	1000

/* columns of zvt._compressed_batches */
#define ZC_SIDE_NATTS		5
#define ZC_SIDE_STORAGE		1
#define ZC_SIDE_SEQ			2
#define ZC_SIDE_NROWS		3
#define ZC_SIDE_LATE		4
#define ZC_SIDE_BATCH		5

/* contents of block 0 of a compressed chunk's storage */
typedef struct ZcMeta
{
	uint32		magic;			/* ZC_META_MAGIC */
	uint32		version;		/* 1 */
	int64		storage_id;		/* random, > 0, fixed at creation */
	uint32		next_seq;		/* next batch number; only grows */
} ZcMeta;

#define ZC_META_MAGIC	0x5A564331

/* the batch table, opened (RowExclusiveLock or AccessShareLock) */
typedef struct ZcSide
{
	Relation	rel;
	Relation	idx;			/* its primary key (storage_id, seq) */
	struct IndexInfo *idxinfo;
	LOCKMODE	lockmode;
	/* zvt._compressed_deleted and its index, opened on first use */
	Relation	drel;
	Relation	didx;
	struct IndexInfo *didxinfo;
} ZcSide;

/* the removals of a storage a scan sees, keys (seq << 16 | row) sorted */
typedef struct ZcDeadSet
{
	int			n;
	uint64	   *keys;
} ZcDeadSet;

typedef enum ZcDeadState
{
	ZC_DEAD_NONE,
	ZC_DEAD_YES,
	ZC_DEAD_IN_PROGRESS
} ZcDeadState;

/* one row's removal */
typedef struct ZcDeadInfo
{
	TransactionId xid;			/* the removing transaction */
	bool		own;			/* that is this transaction */
	CommandId	cid;			/* its command, when own */
	ItemPointerData forward;	/* the new version, moved, or invalid */
} ZcDeadInfo;

/*
 * A batch being read (reader.c): its columns decoded when a row's value is
 * first asked for, text and other by-reference values made into datums
 * once per batch.
 */
typedef struct ZcReader
{
	bool		loaded;
	uint32		seq;
	uint64		gen;			/* counts loads: a slot's row is of one load */
	CzBatch		batch;			/* columns with decoded = false until needed */
	const uint8 *raw;			/* the batch as stored, in cxt */
	size_t		rawlen;
	Datum	  **byref;			/* per column: by-reference datums, or NULL */
	uint8	   *how;			/* per attribute: how to read it (reader.c) */
	int			nhow;
	Relation	rel;
	MemoryContext cxt;			/* all of the above; reset per batch */
} ZcReader;

/* rows collected for one batch */
typedef struct ZcBuilder
{
	TupleDesc	desc;
	uint32		n;
	CzKind	   *kind;			/* per attribute */
	int64	  **i64;			/* per attribute, ZC_BATCH_ROWS entries */
	double	  **f8;
	const uint8 ***ptr;
	uint32	  **len;
	bool	  **isnull;
	MemoryContext cxt;			/* the copies of by-reference values */
} ZcBuilder;

struct SMgrRelationData;

/* in store.c */
extern void zc_meta_create(struct SMgrRelationData *srel);
extern void zc_meta_read(Relation rel, ZcMeta *meta);
extern uint32 zc_meta_next_seqs(Relation rel, uint32 count);
extern Oid	zc_side_relid(bool missing_ok);
extern void zc_side_open(ZcSide *side, LOCKMODE mode);
extern void zc_side_close(ZcSide *side);
extern void zc_side_insert(ZcSide *side, int64 storage_id, uint32 seq, int32 nrows,
						   bool late, bytea *batch, CommandId cid,
						   uint32 spec_token, ItemPointer side_tid);
extern bool zc_side_find(ZcSide *side, int64 storage_id, uint32 seq, ItemPointer side_tid);
extern bytea *zc_side_batch(ZcSide *side, HeapTuple tup, uint32 *seq);
extern int64 zc_side_delete_storage(int64 storage_id);

/* in dead.c */
extern void zc_dead_open(ZcSide *side);
extern void zc_dead_close(ZcSide *side);
extern void zc_dead_insert(ZcSide *side, int64 storage_id, uint32 seq, uint32 row,
						   ItemPointer forward, CommandId cid);
extern ZcDeadState zc_dead_find(ZcSide *side, int64 storage_id, uint32 seq, uint32 row,
								Snapshot snapshot, ZcDeadInfo *info);
extern void zc_dead_load(ZcSide *side, int64 storage_id, int64 seq, Snapshot snapshot,
						 ZcDeadSet *set, MemoryContext cxt);
extern int	zc_dead_first(const ZcDeadSet *set, uint32 seq);
extern bool zc_dead_is(const ZcDeadSet *set, int i, uint32 seq, uint32 row);
extern int64 zc_dead_delete_storage(ZcSide *side, int64 storage_id);

/* in rows.c */
extern void zc_builder_init(ZcBuilder *b, TupleDesc desc, MemoryContext parent);
extern void zc_builder_add(ZcBuilder *b, TupleTableSlot *slot);
extern bytea *zc_builder_finish(ZcBuilder *b);
extern CzKind zc_attr_kind(Form_pg_attribute a);

/* in reader.c */
extern const TupleTableSlotOps zc_slot_ops;
extern void zc_reader_init(ZcReader *r, MemoryContext parent);
extern void zc_reader_load(ZcReader *r, Relation rel, uint32 seq, bytea *batch);
extern void zc_reader_store(ZcReader *r, Relation rel, uint32 row, TupleTableSlot *slot);

/* in keys.c */
typedef struct ZcProbe ZcProbe;
extern bool zc_index_sparse(Relation heap, Relation idx);
extern ZcProbe *zc_probe_begin(Relation rel, int64 storage_id, ZcSide *side);
extern void zc_probe_row(ZcProbe *p, TupleTableSlot *slot, ItemPointer skip);
extern void zc_probe_end(ZcProbe *p);

/* in plan.c */
extern void zc_plan_hook_init(void);

/* in tam.c */
extern bool zc_is_compressed(Relation rel);
extern Oid	zc_am_oid(bool missing_ok);

/* in compress.c */
extern void compress_hook_init(void);

#endif							/* ZVT_COMPRESS_ZC_H */
