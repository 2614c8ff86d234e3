/*-------------------------------------------------------------------------
 *
 * src/base/runs.c
 *	  Worker starts and restarts per kind of zvt worker, kept in memory
 *	  the postmaster maps once, so that they survive the crash restarts
 *	  that reset PostgreSQL's shared memory.
 *
 * A process killed by a signal (kill -9 of a feed worker, say) makes the
 * postmaster stop every process and create shared memory afresh, the
 * claim slots and every part's counters with it; counting restarts
 * there would lose exactly the restarts worth counting.  So the
 * postmaster, while it preloads zvt.so, maps a small anonymous shared
 * region of its own (MAP_SHARED | MAP_ANONYMOUS): every process it forks
 * inherits the mapping at the same address, and the postmaster never
 * unmaps it, so it lives as long as the postmaster.  Only counters and
 * a state per worker live there, written with atomics: a process that
 * scribbles on it corrupts counts, nothing the postmaster reads (the
 * postmaster itself only adds one to shmem_inits).  Under EXEC_BACKEND
 * (not Linux) children do not inherit it and nothing is counted.
 *
 * A worker's run: zvt_run_begin, once the worker holds its slot, counts
 * a start, and a restart when the slot's last run had not ended with
 * proc_exit(0) (it raised an error, was terminated, or was still running
 * when the cluster crashed); a before_shmem_exit callback records how
 * this run ends.  A stop by SIGQUIT or SIGKILL runs no callback, so the
 * run stays "running" and its next start is a restart.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"

#include "base/runs.h"

const char *const zvt_run_kinds[ZVT_RUN_KINDS] = {
	"launcher", "maintenance", "feed", "backfill", "paper_matcher", "router",
	"redis", "metrics", "http"
};

/* how a worker's last run stands */
#define RUN_NEVER 0
#define RUN_RUNNING 1
#define RUN_CLEAN 2				/* ended with proc_exit(0) */
#define RUN_FAILED 3			/* ended with another code */

typedef struct RunSlot
{
	pg_atomic_uint64 starts;
	pg_atomic_uint64 restarts;
	pg_atomic_uint32 state;		/* RUN_* */
} RunSlot;

typedef struct Runs
{
	pg_atomic_uint64 shmem_inits;	/* shared memory created: 1 + crash restarts */
	RunSlot		slots[ZVT_RUN_KINDS][ZVT_RUN_MAX_INDEX];
} Runs;

static Runs *runs = NULL;

/*
 * Map the region (the postmaster, from _PG_init while preloading); a
 * failure only costs the counts, with a WARNING.
 */
void
zvt_runs_map(void)
{
	void	   *p;

	if (IsUnderPostmaster || runs != NULL)
		return;
	p = mmap(NULL, sizeof(Runs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("zvt could not map memory for its worker restart counts: %m"),
				 errdetail("zvt_worker_starts_total and zvt_worker_restarts_total stay 0.")));
		return;
	}
	runs = (Runs *) p;
	pg_atomic_init_u64(&runs->shmem_inits, 0);
	for (int k = 0; k < ZVT_RUN_KINDS; k++)
		for (int i = 0; i < ZVT_RUN_MAX_INDEX; i++)
		{
			pg_atomic_init_u64(&runs->slots[k][i].starts, 0);
			pg_atomic_init_u64(&runs->slots[k][i].restarts, 0);
			pg_atomic_init_u32(&runs->slots[k][i].state, RUN_NEVER);
		}
}

/* The postmaster has created shared memory (at start, after each crash). */
void
zvt_runs_shmem_reset(void)
{
	if (runs != NULL && !IsUnderPostmaster)
		pg_atomic_fetch_add_u64(&runs->shmem_inits, 1);
}

/* before_shmem_exit: how this run ended */
static void
run_end(int code, Datum arg)
{
	RunSlot    *slot = (RunSlot *) DatumGetPointer(arg);

	pg_atomic_write_u32(&slot->state, code == 0 ? RUN_CLEAN : RUN_FAILED);
}

/* This process is now the worker kind/index: count its start. */
void
zvt_run_begin(ZvtRunKind kind, int index)
{
	RunSlot    *slot;
	uint32		was;

	if (runs == NULL || kind < 0 || kind >= ZVT_RUN_KINDS || index < 0 || index >= ZVT_RUN_MAX_INDEX)
		return;
	slot = &runs->slots[kind][index];
	was = pg_atomic_exchange_u32(&slot->state, RUN_RUNNING);
	pg_atomic_fetch_add_u64(&slot->starts, 1);
	if (was == RUN_RUNNING || was == RUN_FAILED)
		pg_atomic_fetch_add_u64(&slot->restarts, 1);
	before_shmem_exit(run_end, PointerGetDatum(slot));
}

/* The counts of kind/index; false when none are kept. */
bool
zvt_runs_read(ZvtRunKind kind, int index, int64 *starts, int64 *restarts)
{
	*starts = 0;
	*restarts = 0;
	if (runs == NULL || kind < 0 || kind >= ZVT_RUN_KINDS || index < 0 || index >= ZVT_RUN_MAX_INDEX)
		return false;
	*starts = (int64) pg_atomic_read_u64(&runs->slots[kind][index].starts);
	*restarts = (int64) pg_atomic_read_u64(&runs->slots[kind][index].restarts);
	return true;
}

/* Times the postmaster restarted every process after a crash. */
int64
zvt_runs_crash_restarts(void)
{
	uint64		n = runs ? pg_atomic_read_u64(&runs->shmem_inits) : 0;

	return n > 0 ? (int64) n - 1 : 0;
}
