/*-------------------------------------------------------------------------
 *
 * src/base/locks.c
 *	  zvt's transaction-scoped locks: an account's ledger and a
 *	  hypertable's chunk set.  See locks.h for why no role can take them.
 *
 * Every lock here is exclusive and held to the end of the transaction;
 * a deadlock between them is found by PostgreSQL's deadlock detector like
 * any other.  zvt._lock_account() exposes the account lock to zvt's own
 * PL/pgSQL (SECURITY DEFINER bodies); it is revoked from PUBLIC, so a role
 * cannot hold an account's lock from a session of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"

#include "base/export.h"
#include "base/locks.h"

PG_FUNCTION_INFO_V1(zvt_lock_account_sql);

static LockAcquireResult
zvt_lock(uint32 key1, uint32 key2, uint16 klass, bool dont_wait)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, key1, key2, klass);
	return LockAcquire(&tag, ExclusiveLock, false, dont_wait);
}

/* Wait for, then hold to the end of the transaction, an account's lock. */
void
zvt_lock_account(int32 account_id)
{
	(void) zvt_lock(0, (uint32) account_id, ZVT_LOCK_ACCOUNT, false);
}

/*
 * Take an account's lock only if it is free; false when another
 * transaction holds it (the caller skips that account for now).
 */
bool
zvt_try_lock_account(int32 account_id)
{
	return zvt_lock(0, (uint32) account_id, ZVT_LOCK_ACCOUNT, true) != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * Serialize creators and droppers of one hypertable's chunks.  With
 * dont_wait, take the lock only if it is free (or already ours) and return
 * false otherwise: a transaction that already holds a lock on the
 * hypertable must not wait for it (see locks.h for the order).
 */
bool
zvt_lock_chunks(Oid hypertable, bool dont_wait)
{
	return zvt_lock(0, (uint32) hypertable, ZVT_LOCK_CHUNKS, dont_wait) != LOCKACQUIRE_NOT_AVAIL;
}

/* Does this transaction hold a lock of any mode on relation relid? */
bool
zvt_relation_locked_by_me(Oid relid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (LOCKMODE mode = AccessShareLock; mode <= MaxLockMode; mode++)
		if (LockHeldByMe(&tag, mode))
			return true;
	return false;
}

/*
 * zvt._lock_account(account_id int4): the account lock for zvt's
 * PL/pgSQL.  Not granted to PUBLIC.
 */
Datum
zvt_lock_account_sql(PG_FUNCTION_ARGS)
{
	zvt_lock_account(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(zvt_try_lock_account_sql);

/*
 * zvt._try_lock_account(account_id int4) returns bool: the account lock
 * if it is free, for the paper matcher, which skips a busy account rather
 * than wait behind it.  Not granted to PUBLIC.
 */
Datum
zvt_try_lock_account_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(zvt_try_lock_account(PG_GETARG_INT32(0)));
}

/*
 * Share-lock the zvt extension for the rest of this transaction; false
 * when it is not installed (or was dropped while this waited).  DROP
 * EXTENSION takes that lock exclusively before it drops anything, so a
 * worker transaction that starts with this runs wholly before or wholly
 * after a DROP EXTENSION.  Interleaved, they deadlocked: the DROP locks
 * zvt's objects one by one in its own order while a maintenance pass
 * locks them in the pass's.
 */
bool
zvt_lock_extension(void)
{
	Oid			ext = get_extension_oid("zvt", true);

	if (!OidIsValid(ext))
		return false;
	LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
	/* the lock's wait took the invalidations in: is it still the same? */
	return get_extension_oid("zvt", true) == ext;
}
