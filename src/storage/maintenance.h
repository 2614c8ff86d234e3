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

#endif							/* ZVT_MAINTENANCE_H */
