/*-------------------------------------------------------------------------
 *
 * src/base/locks.h
 *	  The heavyweight locks zvt takes to order its own work, in one place.
 *
 * They live in the advisory lock space with a locktag class of zvt's own
 * (locktag_field4 >= 100), as Citus does: pg_advisory_lock() and its kin
 * only ever build field4 = 1 (one int8 key) or 2 (two int4 keys), so no
 * SQL function can take, hold or wait on these locks, whatever the role.
 * They show in pg_locks as locktype "advisory" with objsubid = the class.
 *
 * Order: a hypertable's chunk lock is never taken while holding an
 * account lock, and no one waits for an account lock while holding
 * another (the paper matcher may hold several, but only ever tries them:
 * zvt_try_lock_account never waits, so it cannot deadlock).
 *
 * A worker's transaction that uses zvt's objects share-locks the zvt
 * extension first (zvt_lock_extension), which DROP EXTENSION takes
 * exclusively before anything else.
 *
 * A hypertable's locks go: its chunk lock, then the hypertable itself
 * (ACCESS EXCLUSIVE to create or drop chunks), then its partitions, as
 * queries lock a parent before its partitions.  A transaction that
 * already holds a lock on the hypertable or its default partition (it
 * read or wrote it) only tries the chunk lock (storage/chunk.c): waiting
 * there would close a cycle with a creator that holds the chunk lock and
 * waits for the hypertable.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LOCKS_H
#define ZVT_LOCKS_H

/* locktag_field4 of each class; pg_locks.objsubid shows it */
#define ZVT_LOCK_ACCOUNT	101		/* key: account_id; every write of its ledger */
#define ZVT_LOCK_CHUNKS		102		/* key: hypertable oid; creating or dropping its chunks */

/* in base/locks.c */
extern void zvt_lock_account(int32 account_id);
extern bool zvt_try_lock_account(int32 account_id);
extern bool zvt_lock_chunks(Oid hypertable, bool dont_wait);
extern bool zvt_relation_locked_by_me(Oid relid);
extern bool zvt_lock_extension(void);

#endif							/* ZVT_LOCKS_H */
