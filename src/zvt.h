/*-------------------------------------------------------------------------
 *
 * src/zvt.h
 *	  Declarations shared by zvt's PostgreSQL glue: GUC variables, the
 *	  shared-memory state and the entry points of each part.
 *
 * Only files that include postgres.h include this header; the pure-C core
 * under src/core/ has headers of its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_H
#define ZVT_H

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

/*
 * How many background workers a fully configured zvt runs (launcher,
 * maintenance, four feeds, paper matcher, two HTTP workers, Redis), and the
 * max_worker_processes below which _PG_init warns (leaving room for
 * parallel query).
 */
#define ZVT_WORKERS_NEEDED			10
#define ZVT_MIN_WORKER_PROCESSES	16

/*
 * State in shared memory ("zvt maintenance").  The lock protects every
 * field; all of them are statistics written by the maintenance worker or
 * a run_maintenance() call and read by zvt.maintenance_status.
 */
typedef struct ZvtSharedState
{
	LWLock	   *lock;
	int			launcher_pid;	/* 0 when the launcher is not running */
	int64		passes;			/* completed maintenance passes */
	int64		failures;		/* hypertable passes that raised an error */
	int64		chunks_created;
	int64		rows_moved;		/* rows moved out of default partitions */
	int64		chunks_dropped;
	TimestampTz last_pass_start;
	TimestampTz last_pass_end;
	char		last_error[256];	/* "<table>: <message>" of the latest failure */
	int			matcher_pid;	/* the paper matcher's, 0 when not running */
	uint64		matcher_idle_generation;	/* paper generation + 1 at which the
											 * matcher found no resting order */
	int64		matcher_passes; /* written by the matcher only */
	int64		matcher_changes;	/* orders triggered or filled by it */
} ZvtSharedState;

/* in zvt.c */
extern char *zvt_database;
extern int	zvt_maintenance_naptime;
extern int	zvt_chunks_ahead;
extern char *zvt_ca_file;
extern int	zvt_flush_interval;
extern bool zvt_feeds;
extern int	zvt_feed_watchdog;
extern bool zvt_feed_parse_thread;
extern int	zvt_bus_size;
extern int	zvt_rest_timeout;
extern bool zvt_paper_matcher;
extern bool zvt_preloaded;
extern ZvtSharedState *zvt_shared;
extern void zvt_require_preload(const char *what);

/* in storage/maintenance.c */
extern void maintenance_register_launcher(void);
extern void maintenance_record_pass(int64 failed, const char *error);
extern void chunk_count_created(int64 created, int64 moved);
extern void chunk_count_dropped(int64 dropped);

/* Conversions between TimestampTz and the core's Unix microseconds. */
#define ZVT_TS_TO_UNIX(ts)	((int64_t) (ts) + ZT_PG_EPOCH_OFFSET)
#define ZVT_UNIX_TO_TS(us)	((TimestampTz) ((us) - ZT_PG_EPOCH_OFFSET))

#endif							/* ZVT_H */
