/*-------------------------------------------------------------------------
 *
 * src/storage/chunk.c
 *	  Chunks of hypertables: the catalog, chunk names, and finding and
 *	  creating chunks (zvt._ensure_chunk, zvt._attach_default).
 *
 * A zvt hypertable is a table PARTITION BY RANGE (time_column) with one
 * DEFAULT partition and one partition per chunk, all in schema
 * _zvt_chunks.  Chunk bounds are multiples of the hypertable's
 * chunk_interval from 1970-01-01 UTC (src/core/zvt_time.c).  A chunk is
 * named after the hypertable's OID and the start of its range
 * ("_hyper_16384_p20261125", the default partition "_hyper_16384_default"):
 * short whatever the table's name, so PostgreSQL never has to truncate it
 * or its array type's name, and unique to its hypertable, so no two
 * hypertables' chunks can collide and no table name a user picks can take
 * a chunk's name.  Finding a chunk is one syscache lookup of that name;
 * when it misses, the hypertable's partition descriptor says whether some
 * other partition (adopted with the table, or restored by pg_dump under
 * an older OID) already holds the instant.  A restored chunk keeps the
 * name of its hypertable's old OID, which a table of the new database may
 * have: creating that table's chunk or default partition first renames
 * the stale one after its own parent (chunk_free_name).  The partition
 * bounds in
 * pg_class.relpartbound are the only record of a chunk's range: nothing
 * can disagree with them.
 *
 * Creating a chunk (zvt_ensure_chunk) takes, in this order (the order of
 * base/locks.h, which drop_chunks follows too):
 *	1. the hypertable's chunk lock (base/locks.c), serializing creators;
 *	2. ACCESS EXCLUSIVE on the hypertable, which waits for every reader and
 *	   writer of it and makes new ones wait: no writer can route a row with
 *	   a stale partition list into the default partition after the new
 *	   chunk's range was carved out of it (PostgreSQL would reject that
 *	   row), and, since queries lock a parent before its partitions, no
 *	   one can hold a partition this creator still has to lock;
 *	3. ACCESS EXCLUSIVE on the default partition (ATTACH needs it anyway),
 *	   which nobody going through the hypertable can hold any more.
 * It then creates the table, moves the rows of its range out of the
 * default partition and attaches it with a CHECK constraint matching the
 * bounds, so ATTACH does not scan the new chunk.  A creator never waits
 * for a partition while holding the hypertable less than exclusively: it
 * used to take SHARE ROW EXCLUSIVE, then wait for the default partition
 * behind a reader, and that reader's next write (or a retention drop
 * later in the same pass, upgrading to ACCESS EXCLUSIVE) closed a cycle.
 * A transaction that already holds a lock on the hypertable or its
 * default partition only tries the chunk lock (chunk_lock_hypertable):
 * when another creator or dropper holds it, that creator may be waiting
 * for this very transaction, so _ensure_chunk returns no chunk and the
 * caller's rows go to the default partition, whence the next maintenance
 * pass moves them.  Callers that write in the same transaction should
 * still ensure their chunks before their first write to the hypertable.
 *
 * Privileges: the caller needs INSERT on the hypertable, or to own it.
 * The table is created by the bootstrap superuser in _zvt_chunks (which
 * only it may write) and handed to the hypertable's owner, and everything
 * that may run user code (moving rows, building indexes during ATTACH)
 * runs as that owner under SECURITY_RESTRICTED_OPERATION (as_owner.c), as
 * REFRESH MATERIALIZED VIEW does.
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
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
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
#include "storage/chunk.h"
#include "storage/maintenance.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_ensure_chunk);
PG_FUNCTION_INFO_V1(zvt_attach_default);
PG_FUNCTION_INFO_V1(zvt_chunk_start);

static int64 interval_usecs(const Interval *iv);
static char *chunk_name(Oid relid, int64 start, int64 interval);
static Oid	chunk_namespace(void);
static Oid	chunk_named(Oid relid, const char *name);
static void chunk_free_name(const char *name, Oid relid);
static int64 bound_value(PartitionBoundInfo bi, int i);
static Oid	partition_holding(Oid relid, int64 ts, int64 *start, int64 *end);
static Oid	chunk_create(HypertableInfo *ht, int64 start, int64 end,
						 const char *name, int64 *moved);
static void table_create_as_owner(const char *sql, const char *qname, Oid owner);
static char *column_list(Relation rel);

/* ----------------------------------------------------------------
 *		Hypertable catalog
 * ----------------------------------------------------------------
 */

/*
 * Microseconds of a chunk interval (no months, > 0, as
 * zvt._check_chunk_interval made sure); 22008 when it does not fit int64.
 */
static int64
interval_usecs(const Interval *iv)
{
	int64		us;

	if (iv->month != 0 ||
		pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &us) ||
		pg_add_s64_overflow(us, iv->time, &us) || us <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("chunk interval out of range"),
				 errdetail("A chunk interval is a positive length of days and time, without months, shorter than 292,000 years.")));
	return us;
}

/*
 * Fill *info from zvt._hypertables; false when relid is not a hypertable.
 * Runs a query through SPI, so the caller must not be inside SPI already
 * unless it connected itself.
 */
bool
hypertable_lookup(Oid relid, HypertableInfo *info)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute_with_args("SELECT h.time_column::text, a.atttypid, h.chunk_interval "
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
		info->interval = interval_usecs(DatumGetIntervalP(SPI_getbinval(tup, desc, 3, &isnull)));
		found = true;
	}
	SPI_finish();
	return found;
}

void
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
 * "_hyper_<relid>_<suffix>", the chunk of relid starting at start: at
 * most 44 bytes, so it and its array type's name ("_" prepended) fit
 * NAMEDATALEN.  palloc'd.
 */
static char *
chunk_name(Oid relid, int64 start, int64 interval)
{
	char		suffix[64];

	zt_chunk_suffix(start, interval, suffix, sizeof(suffix));
	return psprintf("_hyper_%u_%s", relid, suffix);
}

/* The quoted, schema-qualified name of relation relid.  palloc'd. */
char *
chunk_qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

Oid
chunk_rel_owner(Oid relid)
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
 * The chunk of relid named name, or InvalidOid when there is none or the
 * name belongs to a table that is not (or no longer) relid's partition.
 * Takes no lock.
 */
static Oid
chunk_named(Oid relid, const char *name)
{
	Oid			chunk = get_relname_relid(name, chunk_namespace());

	if (!OidIsValid(chunk) || !get_rel_relispartition(chunk) ||
		get_partition_parent(chunk, true) != relid)
		return InvalidOid;
	return chunk;
}

/*
 * Make sure no table holds name, about to be relid's new chunk or default
 * partition.  pg_restore brings chunks back under the names they had,
 * made of their hypertable's OID in the old database, and a table of the
 * new database may now have that OID: a partition of another table whose
 * name carries an OID other than its parent's is such a stale name, and
 * is renamed to its parent's name for it (the rest of the name, its
 * range, stays).  55000 when anything else holds the name (a detached
 * chunk, or the stale chunk's own name is taken).  The rename runs as the
 * bootstrap superuser (only it may rename in _zvt_chunks) and takes
 * ACCESS EXCLUSIVE on that chunk.
 */
static void
chunk_free_name(const char *name, Oid relid)
{
	Oid			holder = get_relname_relid(name, chunk_namespace());
	Oid			parent = InvalidOid;
	char	   *rest = NULL;
	char	   *fresh = NULL;
	StorageUserSave save;

	if (!OidIsValid(holder))
		return;
	if (get_rel_relispartition(holder) && strncmp(name, "_hyper_", 7) == 0)
	{
		unsigned long named = strtoul(name + 7, &rest, 10);

		parent = get_partition_parent(holder, true);
		if (rest != name + 7 && *rest == '_' && OidIsValid(parent) &&
			named != (unsigned long) parent)
		{
			fresh = psprintf("_hyper_%u%s", parent, rest);
			if (OidIsValid(get_relname_relid(fresh, chunk_namespace())))
				fresh = NULL;
		}
	}
	if (fresh == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s.%s\" exists but is not a chunk of \"%s\"",
						CHUNK_SCHEMA, name, get_rel_name(relid)),
				 errhint("Attach it again, or drop it.")));

	storage_run_as(BOOTSTRAP_SUPERUSERID, &save);
	SPI_connect();
	if (SPI_execute(psprintf("ALTER TABLE %s RENAME TO %s",
							 quote_qualified_identifier(CHUNK_SCHEMA, name),
							 quote_identifier(fresh)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not rename chunk %s", name);
	SPI_finish();
	storage_run_as_end(&save);
	CommandCounterIncrement();
	ereport(LOG,
			(errmsg("zvt renamed restored chunk \"%s\" of \"%s\" to \"%s\"",
					name, get_rel_name(parent), fresh)));
}

/* Value of range bound i of bi; MINVALUE and MAXVALUE as the int64 ends. */
static int64
bound_value(PartitionBoundInfo bi, int i)
{
	if (bi->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE)
		return PG_INT64_MIN;
	if (bi->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE)
		return PG_INT64_MAX;
	return DatumGetInt64(bi->datums[i][0]);
}

/*
 * The partition of relid (other than the default) holding instant ts, or
 * InvalidOid when none does, [*start, *end) then being free for a new
 * chunk: a chunk of zvt's (in _zvt_chunks) that covers part of it, made
 * under another chunk interval (zvt.set_chunk_interval), cuts it to the
 * gap between them, so chunks never overlap; 55000 when another
 * partition does (adopted with the table, with bounds off the chunk
 * grid).  The caller holds the chunk lock and ACCESS EXCLUSIVE on relid,
 * so the partitions cannot change.
 *
 * A range partition descriptor lists every bound once, in order;
 * indexes[i + 1] is the partition from bound i to bound i + 1 (-1 for a
 * gap), indexes[0] the one below bound 0.
 */
static Oid
partition_holding(Oid relid, int64 ts, int64 *start, int64 *end)
{
	Relation	rel = table_open(relid, NoLock);
	PartitionDesc pd = RelationGetPartitionDesc(rel, false);
	PartitionBoundInfo bi = pd->boundinfo;
	int			lo = -1;		/* the last bound <= ts, -1 if none */
	int			hi;
	int			other = -1;
	Oid			result = InvalidOid;

	if (bi != NULL && bi->strategy == PARTITION_STRATEGY_RANGE && bi->ndatums > 0)
	{
		hi = bi->ndatums;
		while (hi - lo > 1)
		{
			int			mid = lo + (hi - lo) / 2;

			if (bound_value(bi, mid) <= ts)
				lo = mid;
			else
				hi = mid;
		}
		if (bi->indexes[lo + 1] >= 0)
			result = pd->oids[bi->indexes[lo + 1]];
		else
		{
			/* the partition ending inside the chunk */
			if (lo >= 0 && bound_value(bi, lo) > *start)
			{
				if (bi->indexes[lo] >= 0 &&
					get_rel_namespace(pd->oids[bi->indexes[lo]]) == chunk_namespace())
					*start = bound_value(bi, lo);
				else
					other = bi->indexes[lo];
			}
			/* the partition starting inside */
			if (other < 0 && lo + 1 < bi->ndatums && bound_value(bi, lo + 1) < *end)
			{
				int			next = lo + 2 < bi->nindexes ? bi->indexes[lo + 2] : -1;

				if (next >= 0 && get_rel_namespace(pd->oids[next]) == chunk_namespace())
					*end = bound_value(bi, lo + 1);
				else
					other = next;
			}
		}
	}
	if (other >= 0)
	{
		char		lit_lo[64];
		char		lit_hi[64];

		zt_format_iso(*start, true, lit_lo, sizeof(lit_lo));
		zt_format_iso(*end, true, lit_hi, sizeof(lit_hi));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot create the chunk [%s, %s) of \"%s\": partition \"%s\" overlaps it",
						lit_lo, lit_hi, RelationGetRelationName(rel),
						chunk_qualified_name(pd->oids[other])),
				 errhint("Detach or drop that partition, or give it bounds on the chunk grid (multiples of the chunk interval from 1970-01-01 UTC).")));
	}
	table_close(rel, NoLock);
	return result;
}

/* SQL literal of the instant ts for the time column's type. */
char *
chunk_bound_literal(const HypertableInfo *ht, int64 ts)
{
	char		buf[64];

	zt_format_iso(ts, ht->time_type == TIMESTAMPTZOID, buf, sizeof(buf));
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

/*
 * zvt._chunk_start(ts timestamptz, chunk_interval interval,
 *                  ahead int4 DEFAULT 0) RETURNS timestamptz
 *
 * The start of the chunk `ahead` chunks after the one holding ts, or NULL
 * when that chunk's bounds are not valid timestamps (no chunk can hold
 * such a row: it stays in the default partition).  Maintenance lists the
 * chunks it needs with it, so a row at the ends of the range can never
 * make a pass fail.
 */
Datum
zvt_chunk_start(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	int64		interval = interval_usecs(PG_GETARG_INTERVAL_P(1));
	int32		ahead = PG_GETARG_INT32(2);
	int64		shift;
	int64		start;
	int64		end;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		pg_mul_s64_overflow((int64) ahead, interval, &shift) ||
		pg_add_s64_overflow(ts, shift, &shift) ||
		!zt_chunk_range(shift, interval, &start, &end))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(start);
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
	StorageUserSave save;

	storage_run_as(BOOTSTRAP_SUPERUSERID, &save);
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", qname);
	if (owner != BOOTSTRAP_SUPERUSERID &&
		SPI_execute(psprintf("ALTER TABLE %s OWNER TO %s", qname,
							 quote_identifier(GetUserNameFromId(owner, false))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not change owner of %s", qname);
	SPI_finish();
	storage_run_as_end(&save);
}

/*
 * zvt._attach_default(relation regclass) RETURNS regclass
 *
 * The default partition of a partitioned table, created in _zvt_chunks as
 * "_hyper_<relid>_default" when missing.  The caller must own the table.
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

	name = psprintf("_hyper_%u_default", relid);
	qname = quote_qualified_identifier(CHUNK_SCHEMA, name);
	chunk_free_name(name, relid);
	table_create_as_owner(psprintf("CREATE TABLE %s PARTITION OF %s DEFAULT", qname,
								   chunk_qualified_name(relid)),
						  qname, chunk_rel_owner(relid));
	CommandCounterIncrement();
	PG_RETURN_OID(get_relname_relid(name, chunk_namespace()));
}

/*
 * Create the chunk [start, end) named name and move its rows out of the
 * default partition.  The caller holds the chunk lock and ACCESS
 * EXCLUSIVE on the hypertable (chunk_lock_hypertable).  Returns the new
 * chunk; *moved is the number of rows moved.
 */
static Oid
chunk_create(HypertableInfo *ht, int64 start, int64 end, const char *name,
			 int64 *moved)
{
	StorageUserSave save;
	Oid			owner = chunk_rel_owner(ht->relid);
	Oid			deflt = get_default_partition_oid(ht->relid);
	char	   *parent = chunk_qualified_name(ht->relid);
	char	   *qchunk = quote_qualified_identifier(CHUNK_SCHEMA, name);
	char	   *lo = chunk_bound_literal(ht, start);
	char	   *hi = chunk_bound_literal(ht, end);
	const char *tcol = quote_identifier(ht->time_column);
	Relation	rel;
	char	   *cols;
	Oid			chunk;

	/* a table that is not this hypertable's chunk may hold the name */
	chunk_free_name(name, ht->relid);

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
	storage_run_as(owner, &save);
	SPI_connect();
	if (SPI_execute(psprintf("ALTER TABLE %s ADD CONSTRAINT zvt_chunk_range "
							 "CHECK (%s >= %s AND %s < %s)",
							 qchunk, tcol, lo, tcol, hi), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not constrain chunk %s", qchunk);

	*moved = 0;
	if (OidIsValid(deflt))
	{
		if (SPI_execute(psprintf("WITH moved AS (DELETE FROM ONLY %s WHERE %s >= %s AND %s < %s "
								 "RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM moved",
								 chunk_qualified_name(deflt), tcol, lo, tcol, hi,
								 cols, qchunk, cols, cols),
						false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not move rows into chunk %s", qchunk);
		*moved = (int64) SPI_processed;
	}

	if (SPI_execute(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
							 parent, qchunk, lo, hi), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not attach chunk %s", qchunk);

	SPI_finish();
	storage_run_as_end(&save);

	chunk = get_relname_relid(name, chunk_namespace());
	chunk_count_created(1, *moved);
	return chunk;
}

/*
 * Take relid's chunk lock, then ACCESS EXCLUSIVE on relid (the order of
 * base/locks.h); for chunk creation here and drop_chunks.  A transaction
 * that already holds a lock on relid or on its default partition only
 * tries the chunk lock, and gets false when another transaction holds it:
 * that one may be a creator waiting for the lock this transaction holds,
 * and waiting for it in turn would deadlock.  The caller then creates or
 * drops nothing.  Both locks are held to the end of the transaction.
 */
bool
chunk_lock_hypertable(Oid relid)
{
	Oid			deflt = get_default_partition_oid(relid);
	bool		holds = zvt_relation_locked_by_me(relid) ||
		(OidIsValid(deflt) && zvt_relation_locked_by_me(deflt));

	if (!zvt_lock_chunks(relid, holds))
		return false;
	/* partitions another transaction attached meanwhile come with the lock */
	LockRelationOid(relid, AccessExclusiveLock);
	return true;
}

/*
 * zvt._ensure_chunk(relation regclass, ts timestamptz,
 *                   OUT chunk regclass, OUT created bool, OUT rows_moved bigint)
 *
 * The chunk of relation holding ts, created if missing.  NULL chunk when
 * no chunk can hold ts (+-infinity, or a chunk whose bounds would not be
 * valid timestamps): such rows stay in the default partition.  NULL chunk
 * too when the chunk is missing, this transaction already holds a lock on
 * the hypertable, and another transaction is creating or dropping its
 * chunks (chunk_lock_hypertable): rows of ts then go to the default
 * partition until a maintenance pass moves them.
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
	if (!pg_class_ownercheck(relid, GetUserId()) &&
		pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to create chunks of \"%s\"", get_rel_name(relid)),
				 errdetail("Creating a chunk requires INSERT privilege on the hypertable.")));

	/* infinities are the int64 ends, which have no chunk */
	if (!zt_chunk_range(ts, ht.interval, &start, &end))
	{
		nulls[0] = true;
		values[1] = BoolGetDatum(false);
		values[2] = Int64GetDatum(0);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}

	/*
	 * The chunk of the current grid by name, checked to hold ts (one made
	 * under an older interval may have the name of another range); else a
	 * partition that holds ts, made under an older interval or cut to fit
	 * (zvt.set_chunk_interval), found without a lock.
	 */
	name = chunk_name(relid, start, ht.interval);
	chunk = chunk_named(relid, name);
	if (OidIsValid(chunk) && !chunk_holds_nolock(chunk, ts))
		chunk = InvalidOid;
	if (!OidIsValid(chunk))
		chunk = chunk_holding_nolock(relid, ts);
	if (!OidIsValid(chunk))
	{
		if (!chunk_lock_hypertable(relid))
			nulls[0] = true;	/* busy, and waiting could deadlock */
		else
		{
			/* another creator may have committed the chunk while we waited */
			AcceptInvalidationMessages();
			chunk = partition_holding(relid, ts, &start, &end);
			if (!OidIsValid(chunk))
			{
				name = chunk_name(relid, start, ht.interval);	/* if cut */
				chunk = chunk_create(&ht, start, end, name, &moved);
				created = true;
			}
		}
	}

	values[0] = ObjectIdGetDatum(chunk);
	values[1] = BoolGetDatum(created);
	values[2] = Int64GetDatum(moved);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
