/*-------------------------------------------------------------------------
 *
 * src/feed/backfill.h
 *	  The backfill worker's shared memory and entry points: what the
 *	  launcher, the feed workers and the SQL functions need of it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKFILL_H
#define ZVT_BACKFILL_H

#include "port/atomics.h"

#define BACKFILL_WORKER_MAIN "backfill_worker_main"

typedef struct BackfillShared
{
	pg_atomic_uint32 owner;		/* the running worker's pid (base/claim.h) */
	pg_atomic_uint64 generation;	/* bumped at commit of a new job or gap */
	pg_atomic_uint64 idle;		/* generation + 1 at which the worker found
								 * nothing to do; PG_UINT64_MAX: running */
	struct Latch *latch;		/* the worker's latch, NULL when none; set
								 * and read without a lock: a stale value
								 * costs a wake-up */
	/* counters since server start, written by the worker alone */
	int64		pages;
	int64		jobs_done;
	int64		gaps_repaired;
} BackfillShared;

/* in backfill.c */
extern BackfillShared *backfill_shared;
extern Size backfill_shmem_size(void);
extern void backfill_shmem_init(void);
extern void backfill_wake_at_commit(void);
extern bool backfill_running(void);
extern bool backfill_is_idle(uint64 generation);
extern void backfill_mark_idle(uint64 generation);
extern uint64 backfill_generation(void);

#endif							/* ZVT_BACKFILL_H */
