/*-------------------------------------------------------------------------
 *
 * src/feed/backfill.c
 *	  The backfill worker's shared memory, and the wake-up that starts it.
 *
 * One "zvt backfill" worker (backfill_worker.c) runs the jobs of
 * zvt._backfill_jobs and repairs zvt.feed_gaps.  It exits when nothing is
 * left to do, recording the generation at which it found nothing; the
 * launcher starts it again once the generation moves.  The generation is
 * bumped when a transaction that queued a job (zvt.backfill,
 * zvt.resume_backfill) or wrote a gap row (feed_write_gaps) commits, never
 * before: a worker looking before the commit would find nothing and go
 * idle at the new generation.  A running worker is woken through its
 * latch.  The slot (base/claim.h) keeps it to one process.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "base/claim.h"
#include "base/export.h"
#include "feed/backfill.h"
#include "zvt.h"

BackfillShared *backfill_shared = NULL;

static bool wake_flagged = false;
static bool wake_callback_registered = false;

Size
backfill_shmem_size(void)
{
	return MAXALIGN(sizeof(BackfillShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
backfill_shmem_init(void)
{
	bool		found;

	backfill_shared = ShmemInitStruct("zvt backfill", sizeof(BackfillShared), &found);
	if (!found)
	{
		memset(backfill_shared, 0, sizeof(BackfillShared));
		pg_atomic_init_u32(&backfill_shared->owner, 0);
		pg_atomic_init_u64(&backfill_shared->generation, 0);
		/* a fresh server looks once: jobs and gaps survive restarts */
		pg_atomic_init_u64(&backfill_shared->idle, 0);
	}
}

static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (!wake_flagged)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		struct Latch *latch = backfill_shared->latch;

		pg_atomic_fetch_add_u64(&backfill_shared->generation, 1);
		if (latch)
			SetLatch(latch);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_flagged = false;
}

/*
 * Have the backfill worker look at its jobs and gaps when the current
 * transaction commits (nothing when it aborts).  Needs the preloaded
 * library (its shared memory); without it there is no worker to wake.
 */
void
backfill_wake_at_commit(void)
{
	if (!zvt_preloaded || backfill_shared == NULL)
		return;
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		wake_callback_registered = true;
	}
	wake_flagged = true;
}

uint64
backfill_generation(void)
{
	return pg_atomic_read_u64(&backfill_shared->generation);
}

/* Whether a backfill worker runs (has claimed the slot). */
bool
backfill_running(void)
{
	return zvt_claimed(&backfill_shared->owner);
}

/* Whether the worker last found nothing to do at this generation. */
bool
backfill_is_idle(uint64 generation)
{
	return pg_atomic_read_u64(&backfill_shared->idle) == generation + 1;
}

/* Record that nothing was left at generation (PG_UINT64_MAX: it runs). */
void
backfill_mark_idle(uint64 generation)
{
	pg_atomic_write_u64(&backfill_shared->idle,
						generation == PG_UINT64_MAX ? PG_UINT64_MAX : generation + 1);
}

PG_FUNCTION_INFO_V1(zvt_backfill_wake);

/* zvt._backfill_wake(): start or wake the backfill worker at commit. */
Datum
zvt_backfill_wake(PG_FUNCTION_ARGS)
{
	backfill_wake_at_commit();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(zvt_backfill_stats);

/* zvt._backfill_stats(): the worker's pid (NULL when none) and counters. */
Datum
zvt_backfill_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		v[4];
	bool		nulls[4] = {false, false, false, false};
	uint32		pid;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	zvt_require_preload("zvt._backfill_stats");
	pid = pg_atomic_read_u32(&backfill_shared->owner);
	v[0] = Int32GetDatum((int32) pid);
	nulls[0] = pid == 0;
	v[1] = Int64GetDatum(backfill_shared->jobs_done);
	v[2] = Int64GetDatum(backfill_shared->pages);
	v[3] = Int64GetDatum(backfill_shared->gaps_repaired);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, nulls)));
}
