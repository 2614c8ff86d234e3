/*-------------------------------------------------------------------------
 *
 * src/redis/publish.h
 *	  Sending the ring's events to Redis (publish.c), for the publisher's
 *	  loop (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_REDIS_PUBLISH_H
#define ZVT_REDIS_PUBLISH_H

#include <hiredis/hiredis.h>

#include "bus/ring.h"

/* in publish.c */
extern bool redis_publish_batch(redisContext *ctx, const BusEvent *ev, int n, int64 *sent);
extern bool redis_resync(redisContext *ctx);

#endif							/* ZVT_REDIS_PUBLISH_H */
