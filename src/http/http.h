/*-------------------------------------------------------------------------
 *
 * src/http/http.h
 *	  The HTTP front's workers as zvt.c and the launcher see them: the
 *	  shared memory of the transport ("zvt http": worker slots, rate-limit
 *	  buckets) and the entry point the launcher starts (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_H
#define ZVT_HTTP_H

/* the bgw_function_name the launcher starts each worker with */
#define HTTP_WORKER_MAIN "http_worker_main"

/* the most workers zvt.http_workers may ask for */
#define HTTP_MAX_WORKERS 64

/* in worker.c */
extern Size http_shmem_size(void);
extern void http_shmem_init(void);
extern bool http_worker_running(int n);

#endif							/* ZVT_HTTP_H */
