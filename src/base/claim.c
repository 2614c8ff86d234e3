/*-------------------------------------------------------------------------
 *
 * src/base/claim.c
 *	  Slots that let one process at a time run a given zvt worker (see
 *	  claim.h for why they are needed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "base/claim.h"

/*
 * Take the slot for this process: true when it was free (or already
 * ours), false when another process holds it.
 */
bool
zvt_claim(pg_atomic_uint32 *slot)
{
	uint32		expected = 0;

	if (pg_atomic_compare_exchange_u32(slot, &expected, (uint32) MyProcPid))
		return true;
	return expected == (uint32) MyProcPid;
}

/* Give the slot back if this process holds it. */
void
zvt_release(pg_atomic_uint32 *slot)
{
	uint32		expected = (uint32) MyProcPid;

	(void) pg_atomic_compare_exchange_u32(slot, &expected, 0);
}

/* Whether some process holds the slot. */
bool
zvt_claimed(pg_atomic_uint32 *slot)
{
	return pg_atomic_read_u32(slot) != 0;
}
