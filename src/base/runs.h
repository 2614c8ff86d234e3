/*-------------------------------------------------------------------------
 *
 * src/base/runs.h
 *	  Worker starts and restarts, per kind of zvt worker (and exchange or
 *	  number), counted over the postmaster's life: crash restarts of the
 *	  whole cluster included (runs.c says how).
 *
 * Each worker calls zvt_run_begin once it holds its slot (base/claim.h),
 * the launcher and a maintenance pass at their start.  A start whose
 * previous run of the same worker ended other than by proc_exit(0) (an
 * error, a signal, a crash of its own or of another process that made
 * the postmaster restart them all) is also a restart.  The metrics
 * endpoint reads them with zvt_runs_read (metrics/collect.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_RUNS_H
#define ZVT_RUNS_H

/* the kinds of worker; keep zvt_run_kinds (runs.c) in this order */
typedef enum ZvtRunKind
{
	ZVT_RUN_LAUNCHER,
	ZVT_RUN_MAINTENANCE,
	ZVT_RUN_FEED,				/* index: the exchange (feed/exchanges.h) */
	ZVT_RUN_BACKFILL,
	ZVT_RUN_PAPER_MATCHER,
	ZVT_RUN_ROUTER,				/* index: the exchange (live/route.h) */
	ZVT_RUN_REDIS,
	ZVT_RUN_METRICS,
	ZVT_RUN_HTTP,				/* index: the worker's number */
	ZVT_RUN_KINDS
} ZvtRunKind;

/* the most indexes of one kind (HTTP_MAX_WORKERS, the exchanges) */
#define ZVT_RUN_MAX_INDEX 64

/* the label value of each kind ("feed", "paper_matcher", ...) */
extern const char *const zvt_run_kinds[ZVT_RUN_KINDS];

/* in runs.c */
extern void zvt_runs_map(void);
extern void zvt_runs_shmem_reset(void);
extern void zvt_run_begin(ZvtRunKind kind, int index);
extern bool zvt_runs_read(ZvtRunKind kind, int index, int64 *starts, int64 *restarts);
extern int64 zvt_runs_crash_restarts(void);

#endif							/* ZVT_RUNS_H */
