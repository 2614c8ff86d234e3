/*-------------------------------------------------------------------------
 *
 * src/live/router_clock.h
 *	  The order router's reading of its exchange's clock
 *	  (router_clock.c), for router.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_ROUTER_CLOCK_H
#define ZVT_LIVE_ROUTER_CLOCK_H

#include <curl/curl.h>

#include "lib/stringinfo.h"
#include "live/reply_body.h"
#include "live/skew.h"

typedef struct RouterClock
{
	const char *name;			/* the exchange */
	ClockSkew	skew;			/* the offset sampled last */
	CURL	   *h;				/* the request out, if one is */
	StringInfoData body;
	ReplyBody	sink;			/* writes body (reply_body.c) */
	int64		sent;
} RouterClock;

extern void router_clock_sync(RouterClock *c, CURLM *multi, const char *base, bool block);
extern void router_clock_done(RouterClock *c, CURLcode res);

#endif							/* ZVT_LIVE_ROUTER_CLOCK_H */
