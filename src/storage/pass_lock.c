/*-------------------------------------------------------------------------
 *
 * src/storage/pass_lock.c
 *	  The locks of one hypertable's maintenance pass, taken before any
 *	  step: zvt._maintenance_lock.
 *
 * A pass (zvt._maintenance_steps) makes chunks ahead of now, drops the
 * expired ones, moves rows out of the default partition (each needing
 * the chunk lock and ACCESS EXCLUSIVE on the hypertable) and applies the
 * compression policy (SHARE UPDATE EXCLUSIVE on the hypertable, then
 * ACCESS EXCLUSIVE on one chunk).  Its steps used to lock as they went:
 * listing the chunks (zvt._chunks, ACCESS SHARE on every partition) while
 * making chunks ahead, then SHARE UPDATE EXCLUSIVE for the compression
 * policy or ACCESS EXCLUSIVE for retention and the default partition,
 * that is a lock on the hypertable taken or made stronger while holding
 * its chunks.  A compression (SHARE UPDATE EXCLUSIVE on the hypertable,
 * then waiting for ACCESS EXCLUSIVE on a chunk the pass held) or a reader
 * (ACCESS SHARE on the hypertable, then on a chunk the pass had just
 * compressed, while the pass waited for the hypertable behind it) closed
 * a cycle, and the deadlock detector cancelled one of them (issue 16,
 * test/specs/maintenance_deadlock.spec).
 *
 * So a pass first finds out what it has to do without holding a lock
 * (the partition bounds from the syscache, as _ensure_chunk's lookup
 * does; the default partition is read under ACCESS SHARE released at
 * once, while the pass holds nothing else of the table), then takes the
 * hypertable's lock once, in the strongest mode it needs, before any
 * chunk: the chunk lock and ACCESS EXCLUSIVE when a chunk is missing
 * ahead, expired or owed rows by the default partition; otherwise SHARE
 * UPDATE EXCLUSIVE when the table has a compression policy; otherwise
 * none (and the pass does nothing).  Its steps never take a stronger
 * lock on the hypertable after that (a compression in a pass that holds
 * ACCESS EXCLUSIVE runs under it, as it did when the pass had made a
 * chunk first).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "core/zvt_time.h"
#include "storage/chunk.h"

PG_FUNCTION_INFO_V1(zvt_maintenance_lock);

/*
 * Whether a chunk is missing between now and horizon: the walk of the
 * pass's first step (chunk after chunk, following each one's upper
 * bound), without a lock.  An instant no chunk can hold ends the walk, as
 * it ends the step.
 */
static bool
ahead_missing(const HypertableInfo *ht, int64 now, int64 horizon)
{
	int64		t = now;

	while (t < horizon)
	{
		int64		start;
		int64		end;
		Oid			chunk;

		if (!zt_chunk_range(t, ht->interval, &start, &end))
			return false;
		chunk = chunk_holding_nolock(ht->relid, t);
		if (!OidIsValid(chunk))
			return true;
		if (!chunk_end_nolock(chunk, &end) || end <= t)
			return false;
		t = end;
	}
	return false;
}

/*
 * Whether the default partition holds a row that a chunk can take (its
 * time has a chunk range, zvt._chunk_start is not NULL): the rows the
 * pass's last step moves.  Reads the partition under ACCESS SHARE and
 * releases it at once, so that the pass holds no partition when it then
 * waits for the hypertable (a creator holding the chunk lock and the
 * hypertable may be waiting for this partition).  The caller's snapshot
 * sees its own rows.
 */
static bool
default_has_strays(const HypertableInfo *ht)
{
	Oid			deflt = get_default_partition_oid(ht->relid);
	Relation	rel;
	AttrNumber	attnum;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found = false;

	if (!OidIsValid(deflt))
		return false;
	rel = try_table_open(deflt, AccessShareLock);
	if (rel == NULL)
		return false;			/* dropped meanwhile */
	attnum = get_attnum(deflt, ht->time_column);
	if (attnum == InvalidAttrNumber)
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	while (!found && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, attnum, &isnull);
		int64		start;
		int64		end;

		/* a timestamp is read as UTC: the same microseconds */
		found = !isnull && zt_chunk_range(DatumGetInt64(value), ht->interval,
										  &start, &end);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * zvt._maintenance_lock(relation regclass, horizon timestamptz,
 *                       drop_before timestamptz, compress bool) RETURNS text
 *
 * Lock relation for one maintenance pass, before the pass touches any of
 * its chunks, and say how: 'ACCESS EXCLUSIVE' (after the chunk lock) when
 * a chunk is missing from now() to horizon, a chunk ends at or before
 * drop_before (NULL: no retention) or the default partition holds rows a
 * chunk can take; else 'SHARE UPDATE EXCLUSIVE' when compress (the table
 * has a compression policy); else NULL, and the pass has nothing to do.
 * NULL too, with a LOG line, when the chunk lock is busy and this
 * transaction already holds a lock on the table (chunk_lock_hypertable:
 * waiting could deadlock).  Only for callers with the owner's privileges
 * (42501), who may do everything the pass does.
 */
Datum
zvt_maintenance_lock(PG_FUNCTION_ARGS)
{
	Oid			relid;
	HypertableInfo ht;
	bool		exclusive;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	relid = PG_GETARG_OID(0);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		PG_RETURN_NULL();		/* dropped meanwhile */
	if (!has_privs_of_role(GetUserId(), chunk_rel_owner(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to maintain it", get_rel_name(relid)),
				 errdetail("A hypertable's maintenance runs as its owner.")));
	if (!hypertable_lookup(relid, &ht))
		PG_RETURN_NULL();

	exclusive = (!PG_ARGISNULL(1) &&
				 ahead_missing(&ht, GetCurrentTransactionStartTimestamp(),
							   PG_GETARG_TIMESTAMPTZ(1))) ||
		(!PG_ARGISNULL(2) && chunk_expired_nolock(relid, PG_GETARG_TIMESTAMPTZ(2))) ||
		default_has_strays(&ht);
	if (exclusive)
	{
		if (!chunk_lock_hypertable(relid))
		{
			ereport(LOG,
					(errmsg("zvt maintenance: the chunks of \"%s\" are busy, maintaining it at the next pass",
							get_rel_name(relid))));
			PG_RETURN_NULL();
		}
		PG_RETURN_TEXT_P(cstring_to_text("ACCESS EXCLUSIVE"));
	}
	if (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3))
	{
		LockRelationOid(relid, ShareUpdateExclusiveLock);
		PG_RETURN_TEXT_P(cstring_to_text("SHARE UPDATE EXCLUSIVE"));
	}
	PG_RETURN_NULL();
}
