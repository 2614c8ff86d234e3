/*-------------------------------------------------------------------------
 *
 * src/base/claim.h
 *	  One running process per role: a worker claims its slot in shared
 *	  memory before it works and gives it back when it exits.
 *
 * The launcher starts zvt's workers, but a worker can also come back
 * without it: the postmaster restarts a crashed dynamic worker after its
 * restart time, and a restarted launcher no longer has the handles of the
 * workers it started.  Each worker therefore claims a slot (its pid,
 * set from 0 by compare-and-swap) and exits 0 when another process holds
 * it; the launcher does not start a worker whose slot is held.  The slot
 * is freed in a before_shmem_exit callback; a process that dies without
 * running it makes the postmaster reset shared memory, slots included.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_CLAIM_H
#define ZVT_CLAIM_H

#include "port/atomics.h"

/* in base/claim.c */
extern bool zvt_claim(pg_atomic_uint32 *slot);
extern void zvt_release(pg_atomic_uint32 *slot);
extern bool zvt_claimed(pg_atomic_uint32 *slot);

#endif							/* ZVT_CLAIM_H */
