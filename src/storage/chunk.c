/*-------------------------------------------------------------------------
 *
 * src/storage/chunk.c
 *	  Chunks of hypertables: find, create, list and drop them.
 *
 * A zvt hypertable is a table PARTITION BY RANGE (time_column) with one
 * DEFAULT partition and one partition per chunk, all in schema
 * _zvt_chunks.  Chunk bounds are multiples of the hypertable's
 * chunk_interval from 1970-01-01 UTC (src/core/zvt_time.c), and a chunk's
 * name is the table's name plus the start of its range ("trades_p20261125"),
 * so finding a chunk is one syscache lookup.  The partition bounds in
 * pg_class.relpartbound are the only record of a chunk's range: nothing can
 * disagree with them.
 *
 * Creating a chunk (ensure_chunk) takes, in this order:
 *	1. the hypertable's chunk lock (base/locks.c), serializing creators;
 *	2. SHARE ROW EXCLUSIVE on the hypertable, which waits for writers that
 *	   are mid-statement and makes new writers wait, so that no writer can
 *	   route a row with a stale partition list into the default partition
 *	   after the new chunk's range was carved out of it (PostgreSQL would
 *	   reject that row);
 *	3. ACCESS EXCLUSIVE on the default partition (ATTACH needs it anyway).
 * It then creates the table, moves the rows of its range out of the
 * default partition and attaches it with a CHECK constraint matching the
 * bounds, so ATTACH does not scan the new chunk.  Callers that write in
 * the same transaction must ensure their chunks before their first write
 * to the hypertable, or two creators could deadlock (the deadlock detector
 * would then cancel one).
 *
 * Privileges: the caller needs INSERT on the hypertable.  The table is
 * created by the bootstrap superuser in _zvt_chunks (which only it may
 * write) and handed to the hypertable's owner, and everything that may run
 * user code (moving rows, building indexes during ATTACH) runs as that
 * owner under SECURITY_RESTRICTED_OPERATION, as REFRESH MATERIALIZED VIEW
 * does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "base/locks.h"
#include "core/zvt_time.h"
#include "zvt.h"

#define CHUNK_SCHEMA		"_zvt_chunks"

/* What zvt._hypertables says of one table. */
typedef struct HypertableInfo
{
	Oid			relid;
	char	   *time_column;	/* palloc'd */
	Oid			time_type;		/* TIMESTAMPTZOID or TIMESTAMPOID */
	int64		interval;		/* chunk width in microseconds */
} HypertableInfo;

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
PG_FUNCTION_INFO_V1(zvt_ensure_chunk);
PG_FUNCTION_INFO_V1(zvt_show_chunks);
PG_FUNCTION_INFO_V1(zvt_drop_chunks);
PG_FUNCTION_INFO_V1(zvt_attach_default);

static bool hypertable_lookup(Oid relid, HypertableInfo *info);
static void hypertable_require(Oid relid, HypertableInfo *info);
static char *chunk_base(Oid relid, int suffixlen);
static char *chunk_name(Oid relid, int64 start, int64 interval);
static Oid	chunk_namespace(void);
static Oid	rel_owner(Oid relid);
static Oid	chunk_find(Oid relid, const char *name);
static Oid	chunk_create(HypertableInfo *ht, int64 start, int64 end,
						 const char *name, int64 *moved);
static List *chunk_bounds_list(Oid relid);
static void table_create_as_owner(const char *sql, const char *qname, Oid owner);
static bool time_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
					 TimestampTz *out);
static char *column_list(Relation rel);
static char *bound_literal(HypertableInfo *ht, int64 us);
static ChunkWindow chunk_window_args(FunctionCallInfo fcinfo);
static List *chunks_selected(Oid relid, const ChunkWindow *w);

/* ----------------------------------------------------------------
 *		Hypertable catalog
 * ----------------------------------------------------------------
 */

/*
 * Fill *info from zvt._hypertables; false when relid is not a hypertable.
 * Runs a query through SPI, so the caller must not be inside SPI already
 * unless it connected itself.
 */
static bool
hypertable_lookup(Oid relid, HypertableInfo *info)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute_with_args("SELECT h.time_column::text, a.atttypid, "
							  "       extract(epoch FROM h.chunk_interval)::numeric * 1000000 "
							  "  FROM zvt._hypertables h "
							  "  JOIN pg_catalog.pg_attribute a "
							  "    ON a.attrelid = h.relid AND a.attname = h.time_column "
							  " WHERE h.relid = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt._hypertables");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		/* the time column's name must outlive SPI_finish */
		info->time_column = MemoryContextStrdup(caller, SPI_getvalue(tup, desc, 1));
		info->relid = relid;
		info->time_type = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		info->interval = DatumGetInt64(DirectFunctionCall1(numeric_int8,
														   SPI_getbinval(tup, desc, 3, &isnull)));
		found = true;
	}
	SPI_finish();
	return found;
}

static void
hypertable_require(Oid relid, HypertableInfo *info)
{
	if (!hypertable_lookup(relid, info))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s.%s\" is not a hypertable",
						get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid)),
				 errhint("Call zvt.create_hypertable first.")));
}

/* ----------------------------------------------------------------
 *		Names and literals
 * ----------------------------------------------------------------
 */

/*
 * The table part of relid's partition names: "<table>" for tables in
 * schema zvt, "<schema>_<table>" for others, cut so that "_" plus a suffix
 * of suffixlen bytes still fits NAMEDATALEN.  palloc'd.
 */
static char *
chunk_base(Oid relid, int suffixlen)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);
	char	   *base = strcmp(nsp, "zvt") == 0 ? rel : psprintf("%s_%s", nsp, rel);
	int			maxbase = NAMEDATALEN - 1 - suffixlen - 1;

	if ((int) strlen(base) > maxbase)
		base = pnstrdup(base, pg_mbcliplen(base, strlen(base), maxbase));
	return base;
}

/* "<base>_<suffix>", the chunk of relid starting at start.  palloc'd. */
static char *
chunk_name(Oid relid, int64 start, int64 interval)
{
	char		suffix[64];

	zt_chunk_suffix(start, interval, suffix, sizeof(suffix));
	return psprintf("%s_%s", chunk_base(relid, strlen(suffix)), suffix);
}

static Oid
rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static Oid
chunk_namespace(void)
{
	return get_namespace_oid(CHUNK_SCHEMA, false);
}

/*
 * The chunk of relid named name, or InvalidOid.  A table of that name that
 * is not a partition of relid is an error: something else took the name.
 */
static Oid
chunk_find(Oid relid, const char *name)
{
	Oid			chunk = get_relname_relid(name, chunk_namespace());

	if (!OidIsValid(chunk))
		return InvalidOid;
	if (!get_rel_relispartition(chunk) || get_partition_parent(chunk, true) != relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s.%s\" exists but is not a chunk of \"%s\"",
						CHUNK_SCHEMA, name, get_rel_name(relid)),
				 errhint("Drop or rename that table.")));
	return chunk;
}

/* SQL literal of the instant us for the time column's type. */
static char *
bound_literal(HypertableInfo *ht, int64 us)
{
	char		buf[64];

	zt_format_iso(us, ht->time_type == TIMESTAMPTZOID, buf, sizeof(buf));
	return quote_literal_cstr(buf);
}

/* Comma-separated quoted names of rel's stored, non-generated columns. */
static char *
column_list(Relation rel)
{
	StringInfoData buf;
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(NameStr(att->attname)));
	}
	return buf.data;
}

/* ----------------------------------------------------------------
 *		Creating chunks
 * ----------------------------------------------------------------
 */

/*
 * Run sql, a CREATE TABLE of qname in _zvt_chunks, as the bootstrap
 * superuser (only it may create there), then give the table to owner.
 * No user code runs: the new table is empty.
 */
static void
table_create_as_owner(const char *sql, const char *qname, Oid owner)
{
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SPI_connect();
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", qname);
	if (owner != BOOTSTRAP_SUPERUSERID &&
		SPI_execute(psprintf("ALTER TABLE %s OWNER TO %s", qname,
							 quote_identifier(GetUserNameFromId(owner, false))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not change owner of %s", qname);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
}

/*
 * zvt._attach_default(relation regclass) RETURNS regclass
 *
 * The default partition of a partitioned table, created in _zvt_chunks as
 * "<base>_default" when missing.  The caller must own the table.
 */
Datum
zvt_attach_default(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			deflt;
	char	   *name;
	char	   *qname;

	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", get_rel_name(relid))));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));

	LockRelationOid(relid, AccessExclusiveLock);
	deflt = get_default_partition_oid(relid);
	if (OidIsValid(deflt))
		PG_RETURN_OID(deflt);

	/* same base as the chunks' names, so a table's partitions sort together */
	name = psprintf("%s_default", chunk_base(relid, strlen("default")));
	qname = quote_qualified_identifier(CHUNK_SCHEMA, name);
	table_create_as_owner(psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT", qname,
								   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
															  get_rel_name(relid))),
						  qname, rel_owner(relid));
	CommandCounterIncrement();
	PG_RETURN_OID(get_relname_relid(name, chunk_namespace()));
}

/*
 * Create the chunk [start, end) named name and move its rows out of the
 * default partition.  The caller holds the chunk lock and SHARE ROW
 * EXCLUSIVE on the hypertable.  Returns the new chunk; *moved is the
 * number of rows moved.
 */
static Oid
chunk_create(HypertableInfo *ht, int64 start, int64 end, const char *name,
			 int64 *moved)
{
	Oid			save_userid;
	int			save_sec_context;
	Oid			owner = rel_owner(ht->relid);
	Oid			deflt = get_default_partition_oid(ht->relid);
	char	   *parent = quote_qualified_identifier(get_namespace_name(get_rel_namespace(ht->relid)),
													get_rel_name(ht->relid));
	char	   *qchunk = quote_qualified_identifier(CHUNK_SCHEMA, name);
	char	   *lo = bound_literal(ht, start);
	char	   *hi = bound_literal(ht, end);
	const char *tcol = quote_identifier(ht->time_column);
	Relation	rel;
	char	   *cols;
	Oid			chunk;

	if (OidIsValid(deflt))
		LockRelationOid(deflt, AccessExclusiveLock);

	rel = table_open(ht->relid, NoLock);
	cols = column_list(rel);
	table_close(rel, NoLock);

	/* step 1: the empty table, created in _zvt_chunks for the owner */
	table_create_as_owner(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS "
								   "INCLUDING CONSTRAINTS INCLUDING GENERATED "
								   "INCLUDING STORAGE INCLUDING COMPRESSION)",
								   qchunk, parent),
						  qchunk, owner);

	/* step 2: everything that may run user code runs as the owner */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SPI_connect();
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_execute(psprintf("ALTER TABLE %s ADD CONSTRAINT zvt_chunk_range "
							 "CHECK (%s >= %s AND %s < %s)",
							 qchunk, tcol, lo, tcol, hi), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not constrain chunk %s", qchunk);

	*moved = 0;
	if (OidIsValid(deflt))
	{
		char	   *qdefault = quote_qualified_identifier(get_namespace_name(get_rel_namespace(deflt)),
														  get_rel_name(deflt));

		if (SPI_execute(psprintf("WITH moved AS (DELETE FROM ONLY %s WHERE %s >= %s AND %s < %s "
								 "RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM moved",
								 qdefault, tcol, lo, tcol, hi, cols, qchunk, cols, cols),
						false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not move rows into chunk %s", qchunk);
		*moved = (int64) SPI_processed;
	}

	if (SPI_execute(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
							 parent, qchunk, lo, hi), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not attach chunk %s", qchunk);

	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();

	chunk = get_relname_relid(name, chunk_namespace());
	chunk_count_created(1, *moved);
	return chunk;
}

/*
 * zvt._ensure_chunk(relation regclass, ts timestamptz,
 *                   OUT chunk regclass, OUT created bool, OUT rows_moved bigint)
 *
 * The chunk of relation holding ts, created if missing.  NULL chunk for an
 * infinite ts (such rows stay in the default partition).
 */
Datum
zvt_ensure_chunk(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
	HypertableInfo ht;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		start;
	int64		end;
	int64		moved = 0;
	bool		created = false;
	char	   *name;
	Oid			chunk;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	hypertable_require(relid, &ht);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to create chunks of \"%s\"", get_rel_name(relid)),
				 errdetail("Creating a chunk requires INSERT privilege on the hypertable.")));

	if (TIMESTAMP_NOT_FINITE(ts) ||
		!zt_chunk_range(ZVT_TS_TO_UNIX(ts), ht.interval, &start, &end) ||
		!IS_VALID_TIMESTAMP(ZVT_UNIX_TO_TS(end)))
	{
		nulls[0] = true;
		values[1] = BoolGetDatum(false);
		values[2] = Int64GetDatum(0);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}

	name = chunk_name(relid, start, ht.interval);
	chunk = chunk_find(relid, name);
	if (!OidIsValid(chunk))
	{
		zvt_lock_chunks(relid);
		LockRelationOid(relid, ShareRowExclusiveLock);
		/* another creator may have committed the chunk while we waited */
		AcceptInvalidationMessages();
		chunk = chunk_find(relid, name);
		if (!OidIsValid(chunk))
		{
			chunk = chunk_create(&ht, start, end, name, &moved);
			created = true;
		}
	}

	values[0] = ObjectIdGetDatum(chunk);
	values[1] = BoolGetDatum(created);
	values[2] = Int64GetDatum(moved);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

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
		Oid			child = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
		Datum		bound;
		bool		isnull;
		PartitionBoundSpec *spec;
		ChunkBounds *cb;

		if (!HeapTupleIsValid(tup))
			continue;			/* dropped concurrently */
		bound = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
		if (isnull)
		{
			ReleaseSysCache(tup);
			continue;
		}
		spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(bound)));
		ReleaseSysCache(tup);

		cb = palloc0(sizeof(ChunkBounds));
		cb->relid = child;
		cb->is_default = spec->is_default;
		if (!spec->is_default && spec->strategy == PARTITION_STRATEGY_RANGE)
		{
			cb->has_start = range_datum_value(spec->lowerdatums, &cb->start);
			cb->has_end = range_datum_value(spec->upperdatums, &cb->end);
		}
		result = lappend(result, cb);
	}
	return result;
}

/*
 * zvt._chunks(relation regclass) RETURNS TABLE (chunk regclass,
 *   range_start timestamptz, range_end timestamptz, is_default bool)
 */
Datum
zvt_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
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
	Oid			deflt;
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
	zvt_lock_chunks(relid);
	LockRelationOid(relid, ShareRowExclusiveLock);
	AcceptInvalidationMessages();

	victims = chunks_selected(relid, &w);
	SPI_connect();
	foreach(lc, victims)
	{
		ChunkBounds *cb = lfirst(lc);
		char	   *qname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(cb->relid)),
													   get_rel_name(cb->relid));
		text	   *t = cstring_to_text(qname);
		Datum		value = PointerGetDatum(t);
		bool		isnull = false;

		if (SPI_execute(psprintf("DROP TABLE %s", qname), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not drop chunk %s", qname);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		dropped++;
	}

	/* rows of the dropped ranges that never reached a chunk go too */
	deflt = get_default_partition_oid(relid);
	if (OidIsValid(deflt))
	{
		int64		lo = 0;
		int64		hi = 0;
		int64		dummy;
		StringInfoData cond;
		const char *tcol = quote_identifier(ht.time_column);

		initStringInfo(&cond);
		if (w.has_older && zt_chunk_range(ZVT_TS_TO_UNIX(w.older), ht.interval, &hi, &dummy))
			appendStringInfo(&cond, "%s < %s", tcol, bound_literal(&ht, hi));
		if (w.has_newer && zt_chunk_range(ZVT_TS_TO_UNIX(w.newer), ht.interval, &lo, &dummy))
		{
			/* first whole chunk at or after newer */
			if (lo < ZVT_TS_TO_UNIX(w.newer))
				lo += ht.interval;
			appendStringInfo(&cond, "%s%s >= %s", cond.len > 0 ? " AND " : "",
							 tcol, bound_literal(&ht, lo));
		}
		if (cond.len > 0 &&
			SPI_execute(psprintf("DELETE FROM ONLY %s WHERE %s",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(deflt)),
															get_rel_name(deflt)),
								 cond.data), false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete expired rows from the default partition");
	}
	SPI_finish();
	chunk_count_dropped(dropped);
	PG_RETURN_VOID();
}
