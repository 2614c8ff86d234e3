/*-------------------------------------------------------------------------
 *
 * src/compress/compress.c
 *	  Compressing and decompressing one chunk: zvt._rewrite_chunk, the
 *	  batch statistics zvt._compressed_stats, and the drop hook that
 *	  deletes a gone storage's batches.
 *
 * A chunk changes form the way ALTER TABLE SET ACCESS METHOD and CLUSTER
 * change a table: under ACCESS EXCLUSIVE on the chunk (after
 * ACCESS SHARE on its hypertable, the order queries lock in), a new
 * relation of the target access method is made (make_new_heap), filled
 * from the chunk, and swapped in (finish_heap_swap), which rebuilds the
 * chunk's indexes and drops the new relation's shell with the old
 * storage.  The chunk keeps its OID, name, partition bound, constraints,
 * indexes, grants and comments.  Compressing sorts the rows by the
 * segment_by columns, then order_by (tuplesort, within
 * maintenance_work_mem, spilling beyond), and cuts batches of at most
 * ZC_BATCH_ROWS rows that never span two segments.  Compressing a
 * compressed chunk rewrites it the same way, merging its late batches.
 *
 * The copy reads the latest committed rows and writes them frozen
 * (visible to every snapshot, as COPY FREEZE into a new table), so a
 * query whose snapshot predates the rewrite but that reaches the chunk
 * after it (it waited for the lock) still finds every row.  As with
 * ALTER TABLE's rewrites, a row deleted after such a snapshot was taken
 * is not kept for it.  Statements that can run a table
 * owner's code (index expressions and predicates in the rebuild) run as
 * the hypertable's owner under SECURITY_RESTRICTED_OPERATION.
 *
 * The drop hook: when a relation of access method zvt_compressed is
 * dropped (DROP TABLE, drop_chunks, retention, the shell of a rewrite),
 * its storage's batches are deleted in the same transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/partition.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/cluster.h"
#include "commands/tablecmds.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "parser/parse_oper.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"

#include "base/export.h"
#include "compress/zc.h"
#include "storage/chunk.h"

PG_FUNCTION_INFO_V1(zvt_rewrite_chunk);
PG_FUNCTION_INFO_V1(zvt_compressed_stats);

/* the sort that orders a chunk's rows into batches */
typedef struct SortSpec
{
	int			nkeys;
	int			nseg;			/* the first nseg keys are the segment */
	AttrNumber	att[INDEX_MAX_KEYS];
	Oid			op[INDEX_MAX_KEYS];
	Oid			coll[INDEX_MAX_KEYS];
	bool		nulls_first[INDEX_MAX_KEYS];
} SortSpec;

static object_access_hook_type prev_object_access_hook = NULL;

static void add_key(SortSpec *spec, Relation rel, const char *col, bool desc, int nulls);
static void parse_order_by(SortSpec *spec, Relation rel, const char *order_by);
static void sort_spec(SortSpec *spec, Relation rel, ArrayType *segment_by,
					  const char *order_by, const char *time_column);
static int64 compress_into(Relation old, Relation new, const SortSpec *spec, int64 *batches);
static int64 decompress_into(Relation old, Relation new);
static bool new_segment(const SortSpec *spec, TupleDesc desc, TupleTableSlot *slot,
						Datum *prev, bool *prevnull, bool first);
static void zc_object_access(ObjectAccessType access, Oid classId, Oid objectId,
							 int subId, void *arg);

/* ----------------------------------------------------------------
 *		Sort keys
 * ----------------------------------------------------------------
 */

/* nulls: -1 default (last for ASC, first for DESC), 0 last, 1 first */
static void
add_key(SortSpec *spec, Relation rel, const char *col, bool desc, int nulls)
{
	AttrNumber	att = get_attnum(RelationGetRelid(rel), col);
	Form_pg_attribute a;
	Oid			lt,
				gt;

	if (att == InvalidAttrNumber || att < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of \"%s\" does not exist", col, RelationGetRelationName(rel))));
	for (int i = 0; i < spec->nkeys; i++)
		if (spec->att[i] == att)
			return;				/* already a key: the first mention wins */
	if (spec->nkeys >= INDEX_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at most %d segment_by and order_by columns", INDEX_MAX_KEYS)));
	a = TupleDescAttr(RelationGetDescr(rel), att - 1);
	get_sort_group_operators(a->atttypid, !desc, false, desc, &lt, NULL, &gt, NULL);
	spec->att[spec->nkeys] = att;
	spec->op[spec->nkeys] = desc ? gt : lt;
	spec->coll[spec->nkeys] = a->attcollation;
	spec->nulls_first[spec->nkeys] = nulls < 0 ? desc : nulls == 1;
	spec->nkeys++;
}

/*
 * order_by as TimescaleDB writes it: "col [ASC | DESC] [NULLS FIRST |
 * NULLS LAST], ...", column names as identifiers (unquoted ones folded to
 * lower case, double quotes keep them as written).  22023 otherwise.
 */
static void
parse_order_by(SortSpec *spec, Relation rel, const char *order_by)
{
	const char *p = order_by;

	for (;;)
	{
		StringInfoData col;
		char	   *words[4];
		int			n = 0;
		bool		desc = false;
		int			nulls = -1;

		initStringInfo(&col);
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '"')
		{
			for (p++;; p++)
			{
				if (*p == '\0')
					goto bad;
				if (*p == '"' && p[1] == '"')
					appendStringInfoChar(&col, *p++);
				else if (*p == '"')
					break;
				else
					appendStringInfoChar(&col, *p);
			}
			p++;
		}
		else
		{
			const char *start = p;

			while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n')
				p++;
			if (p == start)
				goto bad;
			appendStringInfoString(&col, downcase_identifier(start, p - start, false, false));
		}
		/* the words after the name, up to the comma */
		for (;;)
		{
			const char *start;

			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			if (*p == '\0' || *p == ',')
				break;
			start = p;
			while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n')
				p++;
			if (n == 4)
				goto bad;
			words[n++] = pnstrdup(start, p - start);
		}
		for (int i = 0; i < n; i++)
		{
			if (i == 0 && pg_strcasecmp(words[i], "asc") == 0)
				desc = false;
			else if (i == 0 && pg_strcasecmp(words[i], "desc") == 0)
				desc = true;
			else if (pg_strcasecmp(words[i], "nulls") == 0 && i + 2 == n &&
					 pg_strcasecmp(words[i + 1], "first") == 0)
				nulls = 1, i++;
			else if (pg_strcasecmp(words[i], "nulls") == 0 && i + 2 == n &&
					 pg_strcasecmp(words[i + 1], "last") == 0)
				nulls = 0, i++;
			else
				goto bad;
		}
		add_key(spec, rel, col.data, desc, nulls);
		if (*p == '\0')
			return;
		p++;					/* the comma */
	}

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid order_by: \"%s\"", order_by),
			 errhint("Write columns with optional ASC or DESC and NULLS FIRST or LAST, separated by commas: 'ts DESC'.")));
}

static void
sort_spec(SortSpec *spec, Relation rel, ArrayType *segment_by,
		  const char *order_by, const char *time_column)
{
	memset(spec, 0, sizeof(*spec));
	if (segment_by)
	{
		Datum	   *names;
		bool	   *nulls;
		int			n;

		deconstruct_array(segment_by, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
						  &names, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("segment_by must not contain nulls")));
			add_key(spec, rel, NameStr(*DatumGetName(names[i])), false, -1);
		}
	}
	spec->nseg = spec->nkeys;
	if (order_by)
		parse_order_by(spec, rel, order_by);
	/* the time column orders what order_by leaves tied */
	add_key(spec, rel, time_column, false, -1);
}

/* ----------------------------------------------------------------
 *		Copying
 * ----------------------------------------------------------------
 */

/*
 * Does slot start a new segment (its segment columns differ from prev's,
 * or it is the first row)?  prev then holds slot's, copied into the
 * current memory context.
 */
static bool
new_segment(const SortSpec *spec, TupleDesc desc, TupleTableSlot *slot,
			Datum *prev, bool *prevnull, bool first)
{
	bool		differs = first;

	for (int i = 0; i < spec->nseg && !differs; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, spec->att[i] - 1);
		bool		isnull;
		Datum		d = slot_getattr(slot, spec->att[i], &isnull);

		if (isnull != prevnull[i] ||
			(!isnull && !datumIsEqual(d, prev[i], a->attbyval, a->attlen)))
			differs = true;
	}
	if (differs)
		for (int i = 0; i < spec->nseg; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, spec->att[i] - 1);
			Datum		d = slot_getattr(slot, spec->att[i], &prevnull[i]);

			prev[i] = prevnull[i] ? (Datum) 0 : datumCopy(d, a->attbyval, a->attlen);
		}
	return differs;
}

/*
 * Every committed row of old, sorted by spec, into batches of new (a new
 * zvt_compressed relation).  Returns the rows; *batches the batches.
 */
static int64
compress_into(Relation old, Relation new, const SortSpec *spec, int64 *batches)
{
	TupleDesc	desc = RelationGetDescr(old);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt compress",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext segcxt = AllocSetContextCreate(cxt, "zvt compress segment",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext old_cxt = MemoryContextSwitchTo(cxt);
	Tuplesortstate *sort;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *in,
			   *sorted;
	ZcBuilder	b;
	ZcSide		side;
	ZcMeta		meta;
	Datum	   *prev = palloc0(sizeof(Datum) * (spec->nseg + 1));
	bool	   *prevnull = palloc0(sizeof(bool) * (spec->nseg + 1));
	int64		rows = 0;
	uint32		seq = 0;

	sort = tuplesort_begin_heap(desc, spec->nkeys, (AttrNumber *) spec->att, (Oid *) spec->op,
								(Oid *) spec->coll, (bool *) spec->nulls_first,
								maintenance_work_mem, NULL, TUPLESORT_NONE);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	in = table_slot_create(old, NULL);
	scan = table_beginscan(old, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, in))
	{
		CHECK_FOR_INTERRUPTS();
		tuplesort_puttupleslot(sort, in);
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(in);
	tuplesort_performsort(sort);

	zc_meta_read(new, &meta);
	zc_side_open(&side, RowExclusiveLock);
	zc_builder_init(&b, desc, cxt);
	sorted = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	for (;;)
	{
		bool		more = tuplesort_gettupleslot(sort, true, false, sorted, NULL);
		bool		same = true;

		CHECK_FOR_INTERRUPTS();
		if (more && spec->nseg > 0)
		{
			/* segment values are copied into segcxt, a few bytes a segment */
			MemoryContext m = MemoryContextSwitchTo(segcxt);
			same = !new_segment(spec, desc, sorted, prev, prevnull, rows == 0) || rows == 0;
			MemoryContextSwitchTo(m);
		}
		if (b.n > 0 && (!more || !same || b.n == ZC_BATCH_ROWS))
		{
			int32		n = (int32) b.n;
			bytea	   *batch = zc_builder_finish(&b);
			ItemPointerData tid;

			zc_side_insert(&side, meta.storage_id, seq++, n, false, batch,
						   GetCurrentCommandId(true), 0, &tid);
			pfree(batch);
		}
		if (!more)
			break;
		zc_builder_add(&b, sorted);
		rows++;
	}
	if (seq > 0)
		(void) zc_meta_next_seqs(new, seq);
	ExecDropSingleTupleTableSlot(sorted);
	tuplesort_end(sort);
	zc_side_close(&side);
	MemoryContextSwitchTo(old_cxt);
	MemoryContextDelete(cxt);
	*batches = seq;
	return rows;
}

/* Every committed row of old (compressed) into new (heap). */
static int64
decompress_into(Relation old, Relation new)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TupleTableSlot *in = table_slot_create(old, NULL);
	TupleTableSlot *out = table_slot_create(new, NULL);
	BulkInsertState bistate = GetBulkInsertState();
	TableScanDesc scan = table_beginscan(old, snapshot, 0, NULL);
	CommandId	cid = GetCurrentCommandId(true);
	int64		rows = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, in))
	{
		CHECK_FOR_INTERRUPTS();
		ExecCopySlot(out, in);
		/* frozen: see zc_side_insert */
		table_tuple_insert(new, out, cid, TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN, bistate);
		rows++;
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(new, TABLE_INSERT_SKIP_FSM);
	ExecDropSingleTupleTableSlot(in);
	ExecDropSingleTupleTableSlot(out);
	return rows;
}

/* ----------------------------------------------------------------
 *		SQL
 * ----------------------------------------------------------------
 */

/*
 * zvt._rewrite_chunk(chunk regclass, compress bool, segment_by name[],
 *     order_by text, OUT rows int8, OUT batches int8)
 *
 * Compresses (compress true) or decompresses chunk, a chunk of a
 * hypertable (not its default partition).  The caller needs the
 * hypertable owner's privileges (42501).  Decompressing a chunk that is
 * not compressed does nothing (rows and batches NULL).
 */
Datum
zvt_rewrite_chunk(PG_FUNCTION_ARGS)
{
	Oid			chunk = PG_GETARG_OID(0);
	bool		compress = PG_GETARG_BOOL(1);
	ArrayType  *segment_by = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	char	   *order_by = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	Oid			parent;
	HypertableInfo ht;
	Relation	rel,
				new;
	Oid			owner,
				newoid;
	bool		was_compressed;
	SortSpec	spec;
	StorageUserSave save;
	int64		rows,
				batches = 0;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	parent = get_rel_relispartition(chunk) ? get_partition_parent(chunk, true) : InvalidOid;
	if (!OidIsValid(parent) || !hypertable_lookup(parent, &ht))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a chunk of a hypertable", get_rel_name(chunk) ? get_rel_name(chunk) : "?")));
	owner = chunk_rel_owner(parent);
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of hypertable \"%s\" to compress or decompress its chunks",
						get_rel_name(parent))));
	/* parent before partition, as queries lock */
	LockRelationOid(parent, AccessShareLock);
	rel = table_open(chunk, AccessExclusiveLock);
	CheckTableNotInUse(rel, compress ? "zvt.compress_chunk" : "zvt.decompress_chunk");
	if (get_default_partition_oid(parent) == chunk)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot compress the default partition \"%s\"", RelationGetRelationName(rel)),
				 errhint("Its rows move into chunks at the next maintenance pass: CALL zvt.run_maintenance().")));
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("only permanent tables can be compressed")));
	was_compressed = zc_is_compressed(rel);
	if (!compress && !was_compressed)
	{
		table_close(rel, NoLock);
		nulls[0] = nulls[1] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}
	if (compress)
		sort_spec(&spec, rel, segment_by, order_by, ht.time_column);

	storage_run_as(owner, &save);
	newoid = make_new_heap(chunk, rel->rd_rel->reltablespace,
						   compress ? zc_am_oid(false) : HEAP_TABLE_AM_OID,
						   RELPERSISTENCE_PERMANENT, AccessExclusiveLock);
	new = table_open(newoid, AccessExclusiveLock);
	rows = compress ? compress_into(rel, new, &spec, &batches) : decompress_into(rel, new);
	table_close(new, NoLock);
	table_close(rel, NoLock);
	/* swaps storage and access method, rebuilds the indexes, drops the shell */
	finish_heap_swap(chunk, newoid, false, false, false, true,
					 compress ? InvalidTransactionId : RecentXmin,
					 compress ? InvalidMultiXactId : ReadNextMultiXactId(),
					 RELPERSISTENCE_PERMANENT);
	storage_run_as_end(&save);

	values[0] = Int64GetDatum(rows);
	values[1] = Int64GetDatum(batches);
	nulls[1] = !compress;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * zvt._compressed_stats(chunk regclass, OUT batches int8, OUT rows int8,
 *     OUT late_rows int8, OUT batch_bytes int8)
 *
 * What a compressed chunk's batches hold, as the caller's snapshot sees
 * them (batch_bytes as stored, after TOAST): rows are the live rows,
 * late_rows those inserted into late batches plus those removed; no row for a chunk that is
 * not compressed or a role without SELECT on it.
 */
Datum
zvt_compressed_stats(PG_FUNCTION_ARGS)
{
	Oid			chunk = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	ZcMeta		meta;
	ZcSide		side;
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int64		batches = 0,
				rows = 0,
				late = 0,
				bytes = 0;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	if (get_rel_relkind(chunk) != RELKIND_RELATION ||
		pg_class_aclcheck(chunk, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		PG_RETURN_VOID();
	rel = table_open(chunk, AccessShareLock);
	if (!zc_is_compressed(rel))
	{
		table_close(rel, AccessShareLock);
		PG_RETURN_VOID();
	}
	zc_meta_read(rel, &meta);
	zc_side_open(&side, AccessShareLock);
	slot = table_slot_create(side.rel, NULL);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(meta.storage_id));
	scan = index_beginscan(side.rel, side.idx, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int32		n = DatumGetInt32(slot_getattr(slot, ZC_SIDE_NROWS, &isnull));

		batches++;
		rows += n;
		if (DatumGetBool(slot_getattr(slot, ZC_SIDE_LATE, &isnull)))
			late += n;
		bytes += toast_datum_size(slot_getattr(slot, ZC_SIDE_BATCH, &isnull));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	{
		/* removed rows are not rows any more, and they are changes to merge */
		ZcDeadSet	dead;

		zc_dead_load(&side, meta.storage_id, -1, GetActiveSnapshot(), &dead, CurrentMemoryContext);
		rows -= dead.n;
		late += dead.n;
	}
	zc_side_close(&side);
	table_close(rel, AccessShareLock);
	values[0] = Int64GetDatum(batches);
	values[1] = Int64GetDatum(rows);
	values[2] = Int64GetDatum(late);
	values[3] = Int64GetDatum(bytes);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 *		The drop hook
 * ----------------------------------------------------------------
 */

static void
zc_object_access(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	HeapTuple	tup;
	Oid			am;
	Oid			zc_am;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_DROP || classId != RelationRelationId || subId != 0)
		return;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objectId));
	if (!HeapTupleIsValid(tup))
		return;
	am = ((Form_pg_class) GETSTRUCT(tup))->relam;
	ReleaseSysCache(tup);
	zc_am = OidIsValid(am) ? zc_am_oid(true) : InvalidOid;
	if (!OidIsValid(zc_am) || am != zc_am)
		return;
	{
		/* the dropper holds ACCESS EXCLUSIVE on it */
		Relation	rel = relation_open(objectId, NoLock);
		ZcMeta		meta;

		zc_meta_read(rel, &meta);
		relation_close(rel, NoLock);
		zc_side_delete_storage(meta.storage_id);
	}
}

/*
 * Installs the drop hook and the planner's (plan.c); _PG_init calls it in
 * every backend.
 */
void
compress_hook_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = zc_object_access;
	zc_plan_hook_init();
}
