/*-------------------------------------------------------------------------
 *
 * src/metrics/metrics.h
 *	  The metrics worker ("zvt metrics"), as zvt.c and the launcher see it
 *	  (worker.c), and the collection of every metric (collect.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_METRICS_H
#define ZVT_METRICS_H

#include "metrics/exposition.h"

/* the bgw_function_name the launcher starts the worker with */
#define METRICS_WORKER_MAIN "metrics_worker_main"

/* the longest the SQL part of one scrape may take, ms */
#define METRICS_SQL_TIMEOUT_MS 2000

/* What the worker counts about itself, for its own metrics. */
typedef struct MetricsSelf
{
	int64		requests[6];	/* responses by status: 200 400 404 405 408 431 */
	int64		sql_failures;	/* scrapes whose SQL part failed */
} MetricsSelf;

/* in worker.c */
extern Size metrics_shmem_size(void);
extern void metrics_shmem_init(void);
extern bool metrics_running(void);

/* in collect.c */
extern const int metrics_statuses[6];
extern void metrics_collect(MetricsBuf *b, MetricsSelf *self);

#endif							/* ZVT_METRICS_H */
