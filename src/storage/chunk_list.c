/*-------------------------------------------------------------------------
 *
 * src/storage/chunk_list.c
 *	  Listing and dropping the chunks of hypertables: zvt._chunks,
 *	  zvt.show_chunks and zvt.drop_chunks.
 *
 * A chunk's range is its partition bound in pg_class.relpartbound, read
 * here and nowhere stored twice.  drop_chunks takes the hypertable's chunk
 * lock (base/locks.c), then ACCESS EXCLUSIVE on it, as chunk creation does
 * (chunk.c, chunk_lock_hypertable), before it lists or touches any
 * partition: it never races a creator, and never upgrades its lock on
 * the hypertable while holding partitions (DROP TABLE of a partition
 * needs ACCESS EXCLUSIVE on the parent, which a weaker lock taken first
 * would have to wait for behind readers it blocks).  A transaction that
 * already holds a lock on the hypertable gets 55P03 rather than wait when
 * another transaction holds the chunk lock.  Rows of the dropped ranges still waiting in the
 * default partition are deleted with them; rows no chunk can hold
 * (+-infinity, the partial chunks at the ends of PostgreSQL's range) are
 * never deleted by it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "core/zvt_time.h"
#include "storage/chunk.h"
#include "storage/maintenance.h"
#include "zvt.h"

/* One partition of a hypertable, as read from its relpartbound. */
typedef struct ChunkBounds
{
	Oid			relid;
	bool		is_default;
	bool		has_start;
	bool		has_end;
	TimestampTz start;
	TimestampTz end;
} ChunkBounds;

/* The older_than / newer_than arguments of show_chunks and drop_chunks. */
typedef struct ChunkWindow
{
	bool		has_older;
	bool		has_newer;
	TimestampTz older;			/* chunks must end at or before this */
	TimestampTz newer;			/* chunks must start at or after this */
} ChunkWindow;

PG_FUNCTION_INFO_V1(zvt_chunks);
PG_FUNCTION_INFO_V1(zvt_show_chunks);
PG_FUNCTION_INFO_V1(zvt_drop_chunks);

static bool range_datum_value(List *datums, TimestampTz *out);
static bool bounds_of(Oid child, ChunkBounds *cb);
static List *chunk_bounds_list(Oid relid);
static bool time_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
					 TimestampTz *out);
static ChunkWindow chunk_window_args(FunctionCallInfo fcinfo);
static int	chunk_bounds_cmp(const ListCell *a, const ListCell *b);
static List *chunks_selected(Oid relid, const ChunkWindow *w);
static void default_delete_window(const HypertableInfo *ht, const ChunkWindow *w);

/* ----------------------------------------------------------------
 *		Listing chunks
 * ----------------------------------------------------------------
 */

/* Value of one side of a range bound: false for MINVALUE/MAXVALUE. */
static bool
range_datum_value(List *datums, TimestampTz *out)
{
	PartitionRangeDatum *prd;
	Const	   *c;

	if (list_length(datums) != 1)
		return false;
	prd = castNode(PartitionRangeDatum, linitial(datums));
	if (prd->kind != PARTITION_RANGE_DATUM_VALUE)
		return false;
	c = castNode(Const, prd->value);
	if (c->constisnull)
		return false;
	*out = DatumGetTimestampTz(c->constvalue);
	return true;
}

/*
 * The bounds of partition child from its relpartbound, read from the
 * syscache without a lock; false when it is gone or not a partition.
 */
static bool
bounds_of(Oid child, ChunkBounds *cb)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
	Datum		bound;
	bool		isnull;
	PartitionBoundSpec *spec;

	if (!HeapTupleIsValid(tup))
		return false;			/* dropped concurrently */
	bound = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
	if (isnull)
	{
		ReleaseSysCache(tup);
		return false;
	}
	spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(bound)));
	ReleaseSysCache(tup);

	memset(cb, 0, sizeof(*cb));
	cb->relid = child;
	cb->is_default = spec->is_default;
	if (!spec->is_default && spec->strategy == PARTITION_STRATEGY_RANGE)
	{
		cb->has_start = range_datum_value(spec->lowerdatums, &cb->start);
		cb->has_end = range_datum_value(spec->upperdatums, &cb->end);
	}
	return true;
}

/*
 * Every partition of relid with its bounds, in no particular order.
 * Takes AccessShareLock on the partitions.
 */
static List *
chunk_bounds_list(Oid relid)
{
	List	   *children = find_inheritance_children(relid, AccessShareLock);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, children)
	{
		ChunkBounds *cb = palloc0(sizeof(ChunkBounds));

		if (bounds_of(lfirst_oid(lc), cb))
			result = lappend(result, cb);
	}
	return result;
}

/*
 * Whether range partition chunk holds instant ts, from its bounds read
 * without a lock (MINVALUE and MAXVALUE as open ends); false for a
 * default partition or one that is gone.
 */
bool
chunk_holds_nolock(Oid chunk, int64 ts)
{
	ChunkBounds cb;

	if (!bounds_of(chunk, &cb) || cb.is_default)
		return false;
	return (!cb.has_start || cb.start <= ts) && (!cb.has_end || ts < cb.end);
}

/*
 * The partition of relid (not the default) holding ts, or InvalidOid:
 * _ensure_chunk's lock-free lookup when no chunk of the current grid
 * holds ts by name (chunks made before zvt.set_chunk_interval, or cut to
 * fit between them).  Reads pg_inherits and each partition's bound
 * without a lock, O(partitions); the last partition found is remembered
 * and tried first.  A partition detached or dropped meanwhile is the
 * caller's to notice, as with the name lookup.
 */
Oid
chunk_holding_nolock(Oid relid, int64 ts)
{
	static Oid	last_rel = InvalidOid;
	static Oid	last_chunk = InvalidOid;
	List	   *children;
	ListCell   *lc;

	if (last_rel == relid && get_rel_relispartition(last_chunk) &&
		get_partition_parent(last_chunk, true) == relid &&
		chunk_holds_nolock(last_chunk, ts))
		return last_chunk;
	children = find_inheritance_children(relid, NoLock);
	foreach(lc, children)
	{
		if (chunk_holds_nolock(lfirst_oid(lc), ts))
		{
			last_rel = relid;
			last_chunk = lfirst_oid(lc);
			list_free(children);
			return last_chunk;
		}
	}
	list_free(children);
	return InvalidOid;
}

/*
 * The upper bound of partition chunk, read without a lock; false for a
 * default partition, an open end (MAXVALUE) or one that is gone.  The
 * maintenance pass walks its chunks ahead of now with it before it locks
 * anything (pass_lock.c).
 */
bool
chunk_end_nolock(Oid chunk, int64 *end)
{
	ChunkBounds cb;

	if (!bounds_of(chunk, &cb) || cb.is_default || !cb.has_end)
		return false;
	*end = cb.end;
	return true;
}

/*
 * Whether drop_chunks(relid, older_than => older) would drop a chunk
 * (chunks_selected's rule), from pg_inherits and the bounds read without
 * a lock: the maintenance pass asks before it locks anything.
 */
bool
chunk_expired_nolock(Oid relid, int64 older)
{
	List	   *children = find_inheritance_children(relid, NoLock);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, children)
	{
		ChunkBounds cb;

		if (bounds_of(lfirst_oid(lc), &cb) && !cb.is_default &&
			cb.has_start && cb.has_end && cb.end <= older)
		{
			found = true;
			break;
		}
	}
	list_free(children);
	return found;
}

/*
 * Whether the caller may lock relid ACCESS SHARE anyway (LOCK TABLE's
 * rule: SELECT, INSERT, UPDATE, DELETE or TRUNCATE on it).  Listing a
 * table's chunks locks it to the end of the transaction, which holds off
 * its owner's DROP, ALTER and chunk drops: a role without a privilege on
 * the table must not be able to do that.
 */
static bool
may_lock(Oid relid)
{
	return pg_class_aclmask(relid, GetUserId(),
							ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE,
							ACLMASK_ANY) != 0;
}

/*
 * zvt._chunks(relation regclass) RETURNS TABLE (chunk regclass,
 *   range_start timestamptz, range_end timestamptz, is_default bool)
 *
 * No rows, and no lock, for a table the caller has no privilege on.
 */
Datum
zvt_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE || !may_lock(relid))
		PG_RETURN_VOID();
	/* parent before partitions, as TRUNCATE and chunk creation lock: no cycles */
	LockRelationOid(relid, AccessShareLock);

	foreach(lc, chunk_bounds_list(relid))
	{
		ChunkBounds *cb = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, !cb->has_start, !cb->has_end, false};

		values[0] = ObjectIdGetDatum(cb->relid);
		values[1] = TimestampTzGetDatum(cb->start);
		values[2] = TimestampTzGetDatum(cb->end);
		values[3] = BoolGetDatum(cb->is_default);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

/*
 * Resolve an argument declared "any" into an instant: a timestamptz, a
 * timestamp or date (read in the session's TimeZone, as a cast would), an
 * interval (that long before now()), or an untyped literal read as
 * timestamptz.  Returns false for NULL.
 */
static bool
time_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
		 TimestampTz *out)
{
	Oid			type;
	Datum		value;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return false;
	type = get_fn_expr_argtype(fcinfo->flinfo, argno);
	value = PG_GETARG_DATUM(argno);
	switch (type)
	{
		case TIMESTAMPTZOID:
			*out = DatumGetTimestampTz(value);
			break;
		case TIMESTAMPOID:
			*out = DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, value));
			break;
		case DATEOID:
			*out = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, value));
			break;
		case INTERVALOID:
			*out = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
														   value));
			break;
		case TEXTOID:
		case UNKNOWNOID:
			*out = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														   CStringGetDatum(type == TEXTOID ? TextDatumGetCString(value) : DatumGetCString(value)),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be a timestamptz, timestamp, date or interval, not %s",
							argname, format_type_be(type))));
	}
	return true;
}

/* Arguments 1 and 2 (older_than, newer_than) of show/drop_chunks. */
static ChunkWindow
chunk_window_args(FunctionCallInfo fcinfo)
{
	ChunkWindow w = {0};

	w.has_older = time_arg(fcinfo, 1, "older_than", &w.older);
	w.has_newer = time_arg(fcinfo, 2, "newer_than", &w.newer);
	return w;
}

/* Comparator: chunks by range start. */
static int
chunk_bounds_cmp(const ListCell *a, const ListCell *b)
{
	ChunkBounds *x = lfirst(a);
	ChunkBounds *y = lfirst(b);

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * Chunks of relid entirely before `older` and entirely at or after
 * `newer` (each test only when given), by range start.
 */
static List *
chunks_selected(Oid relid, const ChunkWindow *w)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, chunk_bounds_list(relid))
	{
		ChunkBounds *cb = lfirst(lc);

		if (cb->is_default || !cb->has_start || !cb->has_end)
			continue;
		if (w->has_older && cb->end > w->older)
			continue;
		if (w->has_newer && cb->start < w->newer)
			continue;
		result = lappend(result, cb);
	}
	list_sort(result, chunk_bounds_cmp);
	return result;
}

/*
 * zvt.show_chunks(relation regclass, older_than "any" DEFAULT NULL,
 *                 newer_than "any" DEFAULT NULL) RETURNS SETOF regclass
 */
Datum
zvt_show_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HypertableInfo ht;
	ChunkWindow w = chunk_window_args(fcinfo);
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	hypertable_require(relid, &ht);
	if (!may_lock(relid))
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
	LockRelationOid(relid, AccessShareLock);

	foreach(lc, chunks_selected(relid, &w))
	{
		ChunkBounds *cb = lfirst(lc);
		Datum		value = ObjectIdGetDatum(cb->relid);
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	PG_RETURN_VOID();
}

/*
 * zvt.drop_chunks(relation regclass, older_than "any",
 *                 newer_than "any" DEFAULT NULL) RETURNS SETOF text
 *
 * Drops whole chunks (and the rows of the same ranges still waiting in the
 * default partition), returning the dropped chunks' qualified names.
 * Requires ownership of the hypertable.
 */
Datum
zvt_drop_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HypertableInfo ht;
	ChunkWindow w = chunk_window_args(fcinfo);
	List	   *victims;
	ListCell   *lc;
	int64		dropped = 0;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (!w.has_older && !w.has_newer)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than or newer_than must be given"),
				 errhint("Pass a timestamptz, or an interval meaning that long before now().")));
	if (w.has_older && w.has_newer && w.newer >= w.older)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("newer_than must be before older_than when both are given")));
	hypertable_require(relid, &ht);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	/* keep concurrent chunk creators out while we look and drop */
	if (!chunk_lock_hypertable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock the chunks of \"%s\"", get_rel_name(relid)),
				 errdetail("Another transaction is creating or dropping its chunks, and this transaction already holds a lock on the table, so waiting could deadlock."),
				 errhint("Drop chunks before reading or writing the table in the same transaction, or retry.")));

	victims = chunks_selected(relid, &w);
	SPI_connect();
	foreach(lc, victims)
	{
		ChunkBounds *cb = lfirst(lc);
		char	   *qname = chunk_qualified_name(cb->relid);
		text	   *t = cstring_to_text(qname);
		Datum		value = PointerGetDatum(t);
		bool		isnull = false;

		if (SPI_execute(psprintf("DROP TABLE %s", qname), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not drop chunk %s", qname);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		dropped++;
	}

	/* rows of the dropped ranges that never reached a chunk go too */
	default_delete_window(&ht, &w);
	SPI_finish();
	chunk_count_dropped(dropped);
	PG_RETURN_VOID();
}

/*
 * Delete from the default partition of ht the rows whose chunks would lie
 * wholly inside window w (zt_chunk_window): the rows of the ranges
 * drop_chunks just dropped that never reached their chunk.  The caller is
 * connected to SPI and holds the hypertable's chunk lock.
 */
static void
default_delete_window(const HypertableInfo *ht, const ChunkWindow *w)
{
	Oid			deflt = get_default_partition_oid(ht->relid);
	int64		lo;
	int64		hi;
	const char *tcol = quote_identifier(ht->time_column);

	if (!OidIsValid(deflt) ||
		!zt_chunk_window(ht->interval, w->has_older, w->older, w->has_newer, w->newer,
						 &lo, &hi))
		return;
	if (SPI_execute(psprintf("DELETE FROM ONLY %s WHERE %s >= %s AND %s < %s",
							 chunk_qualified_name(deflt),
							 tcol, chunk_bound_literal(ht, lo),
							 tcol, chunk_bound_literal(ht, hi)),
					false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete expired rows from the default partition");
}
