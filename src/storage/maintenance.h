/*-------------------------------------------------------------------------
 *
 * src/storage/maintenance.h
 *	  The maintenance worker's shared counters (maintenance.c), as zvt.c,
 *	  the chunk code and the launcher see them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_MAINTENANCE_H
#define ZVT_MAINTENANCE_H

/* the bgw_function_name the launcher starts a pass with */
#define MAINTENANCE_WORKER_MAIN "maintenance_worker_main"

/* in maintenance.c */
extern Size maintenance_shmem_size(void);
extern void maintenance_shmem_request(void);
extern void maintenance_shmem_init(void);
extern void maintenance_set_launcher(int pid);
extern void maintenance_record_pass(int64 failed, const char *error);
extern void chunk_count_created(int64 created, int64 moved);
extern void chunk_count_dropped(int64 dropped);

/* A copy of the counters, for the metrics endpoint (maintenance_counters). */
typedef struct MaintenanceCounters
{
	int			launcher_pid;	/* 0 when the launcher is not running */
	int64		passes;
	int64		failures;
	int64		chunks_created;
	int64		rows_moved;
	int64		chunks_dropped;
	TimestampTz last_pass_end;	/* 0 before the first pass */
} MaintenanceCounters;

extern void maintenance_counters(MaintenanceCounters *out);

#endif							/* ZVT_MAINTENANCE_H */
