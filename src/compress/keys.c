/*-------------------------------------------------------------------------
 *
 * src/compress/keys.c
 *	  Indexes of compressed chunks without entries for compressed rows,
 *	  and the key probe that keeps their unique indexes exact.
 *
 * A compressed chunk's indexes hold entries for its late rows only (those
 * stored outside the batches compress_chunk wrote: inserted, copied or
 * updated since, tam_write.c), so they shrink to almost nothing; the
 * planner never uses them (plan.c).  Which indexes are "sparse" this way
 * is zc_index_sparse's rule, a function of the index definition alone:
 *
 *	- every index that is neither unique nor an exclusion constraint;
 *	- a unique btree without expressions, predicate or NULLS NOT DISTINCT
 *	  that has a key column of an integer or time type in its default
 *	  operator family (the batch headers' min/max of that column then
 *	  finds the batches a key can be in).
 *
 * Other unique indexes keep an entry for every row.  A new unique index
 * (CREATE INDEX, not REINDEX nor compress_chunk's rebuild) is built over
 * every row too, so the btree proves the key unique when it is made; the
 * next compression or REINDEX drops the batch rows' entries.
 *
 * The probe: before a row goes into a compressed chunk (INSERT, COPY,
 * ON CONFLICT, the new version of an UPDATE), zc_probe_row looks, for
 * each sparse unique index, for a compressed row with an equal key (the
 * index's equality operators and collations; a NULL key column never
 * matches) in the batches whose min/max admit it, and gives that row its
 * index entry, pointing at the row where it is.  The executor's unique
 * check, ON CONFLICT's pre-check and its waits then find the row as they
 * would on heap: 23505, DO NOTHING skips, DO UPDATE locks and updates the
 * compressed row (a removal in the delete log and a late new version,
 * tam_write.c).  A removed row given an entry is simply not alive for the
 * unique check.  The entry is not transactional (as a btree entry of an
 * aborted insert is not), which is harmless: it points at a row that
 * exists, and it spares the next probe of that key its index insert.
 *
 * Concurrency: the batches compress_chunk wrote never change while their
 * storage lives, so the probe needs no lock to read them; each session
 * makes sure the entry exists before its own unique check, so whichever
 * session comes second finds the row.  Adding the entry is serialized
 * per row by a tuple lock on the chunk (the chunk has no heap tuples of
 * its own to lock), so the entry goes in once: a btree must not hold the
 * same (key, TID) twice.
 *
 * Batch headers (min/max of the integer and time columns) of a storage's
 * compressed batches are read once per backend and kept in a cache keyed
 * by storage id: a new storage (compression, TRUNCATE, rewrite) has a new
 * id, so an entry is never stale.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compress/zc.h"

/* bytes of a batch read for its headers; more when they do not fit */
#define ZC_HEADER_SLICE		2048
/* storages whose batch headers a backend keeps */
#define ZC_KEY_CACHE_MAX	64

/* the min/max of a storage's compressed batches, per filter column */
typedef struct ZcKeyCache
{
	int64		storage_id;
	int			ncols;			/* filter columns */
	AttrNumber *attnos;			/* their attribute numbers */
	int			nbatches;
	int			cap;
	uint32	   *seqs;			/* batch numbers, ascending */
	int64	   *lo;				/* nbatches x ncols */
	int64	   *hi;
	bool	   *has;			/* false: no non-NULL value in the batch */
	/* the filter columns of the batch decoded last: dec_nrows x ncols */
	bool		dec_have;
	uint32		dec_seq;
	uint32		dec_nrows;
	int64	   *dec_vals;
	bool	   *dec_null;
	MemoryContext cxt;			/* all of the above */
} ZcKeyCache;

/* one sparse unique index being probed */
typedef struct ZcProbeIndex
{
	Relation	idx;
	IndexInfo  *ii;
	int			nkeys;
	AttrNumber *attnos;			/* table attribute of each key column */
	FmgrInfo   *eq;				/* the opfamily's equality, per key column */
	Oid		   *eqproc;
	Oid		   *coll;
	int		   *filter;			/* per key column: its cache column, or -1 */
} ZcProbeIndex;

struct ZcProbe
{
	Relation	rel;
	int64		storage_id;
	ZcSide	   *side;
	int			nindexes;
	ZcProbeIndex *indexes;
	ZcKeyCache *cache;
	ZcReader	reader;
	TupleTableSlot *bslot;		/* rows of the loaded batch */
	MemoryContext cxt;
	MemoryContext tmpcxt;
};

static MemoryContext key_cache_cxt = NULL;
static List *key_caches = NIL;

static bool filter_type(Form_pg_attribute a);
static ZcKeyCache *key_cache(Relation rel, ZcSide *side, int64 storage_id);
static void load_batch(ZcProbe *p, uint32 seq);
static void decode_filters(ZcProbe *p, uint32 seq);
static void ensure_entry(ZcProbe *p, ZcProbeIndex *x, ItemPointer tid);

/*
 * Whether attribute a maps to a batch column whose int64 min/max order is
 * the type's btree order and whose int64 equality is its equality.
 */
static bool
filter_type(Form_pg_attribute a)
{
	if (a->attisdropped || zc_attr_kind(a) != CZ_INT64)
		return false;
	switch (a->atttypid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return true;
		default:
			return false;
	}
}

/* whether key column i of btree idx can filter batches by their min/max */
static bool
filter_column(Relation heap, Relation idx, int i)
{
	AttrNumber	attno = idx->rd_index->indkey.values[i];
	Form_pg_attribute a;
	Oid			opclass;

	if (attno <= 0 || attno > RelationGetDescr(heap)->natts)
		return false;
	a = TupleDescAttr(RelationGetDescr(heap), attno - 1);
	if (!filter_type(a))
		return false;
	opclass = GetDefaultOpClass(a->atttypid, BTREE_AM_OID);
	return OidIsValid(opclass) && get_opclass_family(opclass) == idx->rd_opfamily[i];
}

/*
 * Whether index idx of compressed chunk heap holds entries for late rows
 * only (the rule in the file head).
 */
bool
zc_index_sparse(Relation heap, Relation idx)
{
	Form_pg_index ind = idx->rd_index;

	if (!ind->indisunique && !ind->indisexclusion)
		return true;
	if (ind->indisexclusion || idx->rd_rel->relam != BTREE_AM_OID ||
		ind->indnullsnotdistinct ||
		RelationGetIndexExpressions(idx) != NIL || RelationGetIndexPredicate(idx) != NIL)
		return false;
	for (int i = 0; i < IndexRelationGetNumberOfKeyAttributes(idx); i++)
		if (filter_column(heap, idx, i))
			return true;
	return false;
}

/* ----------------------------------------------------------------
 *		Batch headers
 * ----------------------------------------------------------------
 */

/*
 * The min/max of every filter column of rel's compressed (not late)
 * batches of storage_id, read once per backend.
 */
static ZcKeyCache *
key_cache(Relation rel, ZcSide *side, int64 storage_id)
{
	ListCell   *lc;
	ZcKeyCache *c;
	MemoryContext old;
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *sslot;

	foreach(lc, key_caches)
	{
		c = (ZcKeyCache *) lfirst(lc);
		if (c->storage_id == storage_id)
			return c;
	}
	if (key_cache_cxt == NULL)
		key_cache_cxt = AllocSetContextCreate(TopMemoryContext, "zvt compressed keys",
											  ALLOCSET_DEFAULT_SIZES);

	/*
	 * Built in a context of the transaction's, moved under the cache's
	 * once complete: an error half way leaves nothing behind.
	 */
	c = palloc0(sizeof(ZcKeyCache));
	c->cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt compressed keys of a storage",
								   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(c->cxt);
	c->storage_id = storage_id;
	c->attnos = palloc(sizeof(AttrNumber) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
		if (filter_type(TupleDescAttr(desc, i)))
			c->attnos[c->ncols++] = i + 1;
	c->cap = 64;
	c->seqs = palloc(sizeof(uint32) * c->cap);
	c->lo = palloc(sizeof(int64) * c->cap * Max(c->ncols, 1));
	c->hi = palloc(sizeof(int64) * c->cap * Max(c->ncols, 1));
	c->has = palloc(sizeof(bool) * c->cap * Max(c->ncols, 1));
	MemoryContextSwitchTo(old);

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	sslot = table_slot_create(side->rel, NULL);
	/* compressed batches are frozen; SnapshotSelf also sees this transaction's */
	scan = index_beginscan(side->rel, side->idx, SnapshotSelf, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, sslot))
	{
		bool		isnull;
		uint32		seq;
		struct varlena *raw;
		struct varlena *part;
		int			b;

		CHECK_FOR_INTERRUPTS();
		if (DatumGetBool(slot_getattr(sslot, ZC_SIDE_LATE, &isnull)))
			continue;			/* late rows have their index entries */
		seq = (uint32) DatumGetInt64(slot_getattr(sslot, ZC_SIDE_SEQ, &isnull));
		raw = (struct varlena *) DatumGetPointer(slot_getattr(sslot, ZC_SIDE_BATCH, &isnull));
		old = MemoryContextSwitchTo(c->cxt);
		if (c->nbatches == c->cap)
		{
			int			n = Max(c->ncols, 1);

			c->cap *= 2;
			c->seqs = repalloc(c->seqs, sizeof(uint32) * c->cap);
			c->lo = repalloc(c->lo, sizeof(int64) * c->cap * n);
			c->hi = repalloc(c->hi, sizeof(int64) * c->cap * n);
			c->has = repalloc(c->has, sizeof(bool) * c->cap * n);
		}
		MemoryContextSwitchTo(old);
		b = c->nbatches++;
		c->seqs[b] = seq;
		part = detoast_attr_slice(raw, 0, ZC_HEADER_SLICE);
		for (int k = 0; k < c->ncols; k++)
		{
			CzStats		st;
			CzStatus	s = batch_stats_prefix((const uint8 *) VARDATA_ANY(part),
											   VARSIZE_ANY_EXHDR(part), true,
											   c->attnos[k] - 1, &st);

			if (s == CZ_ERR_TRUNCATED)
			{
				/* headers longer than the slice: read it all */
				pfree(part);
				part = detoast_attr(raw);
				s = batch_stats_prefix((const uint8 *) VARDATA_ANY(part),
									   VARSIZE_ANY_EXHDR(part), false,
									   c->attnos[k] - 1, &st);
			}
			if (s != CZ_OK && s != CZ_ERR_LIMIT)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("batch %u of compressed chunk \"%s\" is corrupt: %s",
								seq, RelationGetRelationName(rel), cz_strerror(s))));
			/*
			 * A column the batch does not have (added later) holds NULLs:
			 * batch_stats reports CZ_ERR_LIMIT, and no key equals NULL.
			 */
			c->has[b * c->ncols + k] = s == CZ_OK && st.has_minmax;
			c->lo[b * c->ncols + k] = st.min_i64;
			c->hi[b * c->ncols + k] = st.max_i64;
		}
		pfree(part);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(sslot);

	if (list_length(key_caches) >= ZC_KEY_CACHE_MAX)
	{
		/* plenty of chunks probed: start over */
		list_free(key_caches);
		key_caches = NIL;
		MemoryContextReset(key_cache_cxt);
	}
	MemoryContextSetParent(c->cxt, key_cache_cxt);
	old = MemoryContextSwitchTo(key_cache_cxt);
	c = memcpy(palloc(sizeof(ZcKeyCache)), c, sizeof(ZcKeyCache));
	key_caches = lappend(key_caches, c);
	MemoryContextSwitchTo(old);
	return c;
}

/* ----------------------------------------------------------------
 *		The probe
 * ----------------------------------------------------------------
 */

/*
 * Starts probing keys of rows going into compressed chunk rel (storage
 * storage_id, batch table open in side, which must outlive the probe).
 * NULL when rel has no sparse unique index: nothing to probe.
 */
ZcProbe *
zc_probe_begin(Relation rel, int64 storage_id, ZcSide *side)
{
	List	   *oids = RelationGetIndexList(rel);
	ListCell   *lc;
	ZcProbe    *p = NULL;

	foreach(lc, oids)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		ZcProbeIndex *x;
		int			n;

		if (!idx->rd_index->indisunique || !idx->rd_index->indisready ||
			!zc_index_sparse(rel, idx))
		{
			index_close(idx, RowExclusiveLock);
			continue;
		}
		if (p == NULL)
		{
			MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
													  "zvt compressed key probe",
													  ALLOCSET_DEFAULT_SIZES);

			p = MemoryContextAllocZero(cxt, sizeof(ZcProbe));
			p->cxt = cxt;
			p->tmpcxt = AllocSetContextCreate(cxt, "zvt compressed key probe batch",
											  ALLOCSET_DEFAULT_SIZES);
			p->rel = rel;
			p->storage_id = storage_id;
			p->side = side;
			p->indexes = MemoryContextAllocZero(cxt, sizeof(ZcProbeIndex) * list_length(oids));
			zc_reader_init(&p->reader, cxt);
			p->bslot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &zc_slot_ops);
		}
		x = &p->indexes[p->nindexes++];
		x->idx = idx;
		n = x->nkeys = IndexRelationGetNumberOfKeyAttributes(idx);
		x->ii = BuildIndexInfo(idx);
		x->attnos = MemoryContextAlloc(p->cxt, sizeof(AttrNumber) * n);
		x->eq = MemoryContextAllocZero(p->cxt, sizeof(FmgrInfo) * n);
		x->eqproc = MemoryContextAlloc(p->cxt, sizeof(Oid) * n);
		x->coll = MemoryContextAlloc(p->cxt, sizeof(Oid) * n);
		x->filter = MemoryContextAlloc(p->cxt, sizeof(int) * n);
		for (int i = 0; i < n; i++)
		{
			Oid			opno = get_opfamily_member(idx->rd_opfamily[i], idx->rd_opcintype[i],
												   idx->rd_opcintype[i], BTEqualStrategyNumber);

			if (!OidIsValid(opno))
				elog(ERROR, "no equality operator for column %d of index \"%s\"",
					 i + 1, RelationGetRelationName(idx));
			x->attnos[i] = idx->rd_index->indkey.values[i];
			x->eqproc[i] = get_opcode(opno);
			fmgr_info_cxt(x->eqproc[i], &x->eq[i], p->cxt);
			x->coll[i] = idx->rd_indcollation[i];
			x->filter[i] = -1;
		}
	}
	list_free(oids);
	return p;
}

void
zc_probe_end(ZcProbe *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->nindexes; i++)
		index_close(p->indexes[i].idx, RowExclusiveLock);
	ExecDropSingleTupleTableSlot(p->bslot);
	MemoryContextDelete(p->cxt);
}

/* loads compressed batch seq into p->reader, unless it is there */
static void
load_batch(ZcProbe *p, uint32 seq)
{
	HeapTupleData tup;
	Buffer		buf;
	MemoryContext old;
	uint32		s;
	bytea	   *batch;

	if (p->reader.loaded && p->reader.seq == seq)
		return;
	if (!zc_side_find(p->side, p->storage_id, seq, &tup.t_self) ||
		!heap_fetch(p->side->rel, SnapshotAny, &tup, &buf, false))
		elog(ERROR, "batch %u of compressed chunk \"%s\" not found",
			 seq, RelationGetRelationName(p->rel));
	old = MemoryContextSwitchTo(p->tmpcxt);
	batch = zc_side_batch(p->side, &tup, &s);
	MemoryContextSwitchTo(old);
	ReleaseBuffer(buf);
	zc_reader_load(&p->reader, p->rel, seq, batch);
	MemoryContextReset(p->tmpcxt);
}

/*
 * Decodes the filter columns of compressed batch seq into the cache,
 * unless they are there: a feed's late rows tend to fall into the batch
 * the previous one fell into, statement after statement.
 */
static void
decode_filters(ZcProbe *p, uint32 seq)
{
	ZcKeyCache *c = p->cache;
	CzBatch		b;
	CzStatus	s;
	bool	   *want;
	uint32		n;

	if (c->dec_have && c->dec_seq == seq)
		return;
	c->dec_have = false;
	load_batch(p, seq);
	want = palloc0(sizeof(bool) * Max(p->reader.batch.ncols, 1));
	for (int k = 0; k < c->ncols; k++)
		if ((uint32) (c->attnos[k] - 1) < p->reader.batch.ncols)
			want[c->attnos[k] - 1] = true;
	s = batch_decode(p->reader.raw, p->reader.rawlen, want, &b);
	if (s != CZ_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("batch %u of compressed chunk \"%s\" is corrupt: %s",
						seq, RelationGetRelationName(p->rel), cz_strerror(s))));
	n = b.nrows;
	if (c->dec_vals != NULL)
	{
		pfree(c->dec_vals);
		pfree(c->dec_null);
	}
	c->dec_vals = MemoryContextAlloc(c->cxt, sizeof(int64) * Max(n * c->ncols, 1));
	c->dec_null = MemoryContextAlloc(c->cxt, sizeof(bool) * Max(n * c->ncols, 1));
	for (int k = 0; k < c->ncols; k++)
	{
		uint32		i = c->attnos[k] - 1;
		CzColumnOut *col = i < b.ncols ? &b.cols[i] : NULL;

		for (uint32 r = 0; r < n; r++)
		{
			/* a column the batch lacks (added later) is NULL */
			bool		null = col == NULL || (col->isnull != NULL && col->isnull[r]);

			c->dec_null[r * c->ncols + k] = null;
			c->dec_vals[r * c->ncols + k] = null ? 0 : col->i64[r];
		}
	}
	batch_free(&b);
	pfree(want);
	c->dec_nrows = n;
	c->dec_seq = seq;
	c->dec_have = true;
}

/*
 * Makes sure index x holds an entry for the compressed row at tid (in
 * p->bslot), with that row's own values.  A tuple lock on the chunk
 * serializes sessions adding the same row's entry.
 */
static void
ensure_entry(ZcProbe *p, ZcProbeIndex *x, ItemPointer tid)
{
	ScanKeyData *keys = palloc(sizeof(ScanKeyData) * x->nkeys);
	IndexScanDesc scan;
	ItemPointer found;
	bool		have = false;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];

	FormIndexDatum(x->ii, p->bslot, NULL, values, isnull);
	for (int i = 0; i < x->nkeys; i++)
		ScanKeyEntryInitialize(&keys[i], 0, i + 1, BTEqualStrategyNumber, InvalidOid,
							   x->coll[i], x->eqproc[i], values[i]);
	LockTuple(p->rel, tid, ExclusiveLock);
	/* the TIDs only: no table fetch, so any snapshot will do */
	scan = index_beginscan(p->rel, x->idx, SnapshotAny, x->nkeys, 0);
	index_rescan(scan, keys, x->nkeys, NULL, 0);
	while (!have && (found = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
		have = ItemPointerEquals(found, tid);
	index_endscan(scan);
	if (!have)
		index_insert(x->idx, values, isnull, tid, p->rel, UNIQUE_CHECK_NO, false, x->ii);
	UnlockTuple(p->rel, tid, ExclusiveLock);
	pfree(keys);
}

/*
 * Gives the compressed rows of p's chunk whose key in a sparse unique
 * index equals slot's their entry in that index (the file head says
 * why).  skip: a row not to consider (the old version of an UPDATE), or
 * NULL.
 */
void
zc_probe_row(ZcProbe *p, TupleTableSlot *slot, ItemPointer skip)
{
	if (p == NULL)
		return;
	if (p->cache == NULL)
	{
		p->cache = key_cache(p->rel, p->side, p->storage_id);
		for (int i = 0; i < p->nindexes; i++)
		{
			ZcProbeIndex *x = &p->indexes[i];

			for (int k = 0; k < x->nkeys; k++)
				for (int c = 0; c < p->cache->ncols; c++)
					if (p->cache->attnos[c] == x->attnos[k] &&
						filter_column(p->rel, x->idx, k))
						x->filter[k] = c;
		}
	}
	slot_getallattrs(slot);
	for (int i = 0; i < p->nindexes; i++)
	{
		ZcProbeIndex *x = &p->indexes[i];
		ZcKeyCache *c = p->cache;
		bool		null_key = false;
		int64		v[INDEX_MAX_KEYS];

		for (int k = 0; k < x->nkeys; k++)
		{
			Form_pg_attribute a = TupleDescAttr(RelationGetDescr(p->rel), x->attnos[k] - 1);
			Datum		d = slot->tts_values[x->attnos[k] - 1];

			null_key |= slot->tts_isnull[x->attnos[k] - 1];
			if (x->filter[k] >= 0 && !slot->tts_isnull[x->attnos[k] - 1])
				v[k] = a->attlen == 8 ? DatumGetInt64(d) :
					a->attlen == 4 ? (int64) DatumGetInt32(d) : (int64) DatumGetInt16(d);
		}
		if (null_key)
			continue;			/* NULLs are distinct: no conflict possible */
		for (int b = 0; b < c->nbatches; b++)
		{
			bool		may = true;

			for (int k = 0; may && k < x->nkeys; k++)
			{
				int			f = x->filter[k];

				may = f < 0 || (c->has[b * c->ncols + f] &&
								c->lo[b * c->ncols + f] <= v[k] && v[k] <= c->hi[b * c->ncols + f]);
			}
			if (!may)
				continue;
			CHECK_FOR_INTERRUPTS();
			decode_filters(p, c->seqs[b]);
			for (uint32 r = 0; r < c->dec_nrows; r++)
			{
				bool		match = true;
				ItemPointerData tid;

				/* the filter columns as integers first, then every key column */
				for (int k = 0; match && k < x->nkeys; k++)
				{
					int			f = x->filter[k];

					match = f < 0 || (!c->dec_null[r * c->ncols + f] &&
									  c->dec_vals[r * c->ncols + f] == v[k]);
				}
				if (!match)
					continue;
				load_batch(p, c->seqs[b]);
				zc_reader_store(&p->reader, p->rel, r, p->bslot);
				for (int k = 0; match && k < x->nkeys; k++)
				{
					bool		isnull;
					Datum		d = slot_getattr(p->bslot, x->attnos[k], &isnull);

					match = !isnull &&
						DatumGetBool(FunctionCall2Coll(&x->eq[k], x->coll[k], d,
													   slot->tts_values[x->attnos[k] - 1]));
				}
				ItemPointerSet(&tid, c->seqs[b], (OffsetNumber) (r + 1));
				if (match && (skip == NULL || !ItemPointerEquals(&tid, skip)))
					ensure_entry(p, x, &tid);
			}
		}
	}
}
