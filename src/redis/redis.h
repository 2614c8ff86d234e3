/*-------------------------------------------------------------------------
 *
 * src/redis/redis.h
 *	  The Redis publisher ("zvt redis") as zvt.c, the launcher and its own
 *	  files see it: shared state (worker.c), publishing (publish.c), the
 *	  status function (status.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_REDIS_H
#define ZVT_REDIS_H

#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/guc.h"

/* the bgw_function_name the launcher starts the worker with */
#define REDIS_WORKER_MAIN "redis_worker_main"

#define REDIS_ERROR_LEN 256

/*
 * The publisher's state in shared memory ("zvt redis").  Counters are
 * written by the running publisher only and read by zvt.redis_status
 * (a torn read is a statistic off by one batch); the error text and the
 * connection fields under mutex.
 */
typedef struct RedisShared
{
	pg_atomic_uint32 owner;		/* the running publisher's pid (base/claim.h) */
	slock_t		mutex;			/* protects connected .. last_error_at */
	bool		connected;
	TimestampTz connected_since;
	char		server[REDIS_ERROR_LEN];	/* host:port/db, never the password */
	char		last_error[REDIS_ERROR_LEN];
	TimestampTz last_error_at;
	/* the resume point: the next ring seq to publish, valid across restarts */
	bool		resume_valid;
	uint64		resume_next;
	int64		events_sent;	/* stream entries Redis acknowledged */
	int64		dropped;		/* events overwritten in the ring before being sent */
	int64		skipped;		/* events of other databases or unknown instruments */
	int64		reconnects;		/* connections made after the first */
	int64		resyncs;		/* last-value hashes rewritten from the bus */
	int64		reply_errors;	/* commands Redis answered with an error */
	int64		lag_us;			/* commit to acknowledgement of the last batch */
	TimestampTz last_sent_at;
} RedisShared;

/* in worker.c */
extern RedisShared *redis_shared;
extern Size redis_shmem_size(void);
extern void redis_shmem_init(void);
extern bool redis_running(void);
extern bool redis_counters(RedisShared *out);
extern bool redis_url_check_hook(char **newval, void **extra, GucSource source);
extern void redis_set_error(const char *fmt,...) pg_attribute_printf(1, 2);

#endif							/* ZVT_REDIS_H */
