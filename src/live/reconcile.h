/*-------------------------------------------------------------------------
 *
 * src/live/reconcile.h
 *	  Reconciliation of live accounts against their exchange
 *	  (reconcile.c), as the order router (router.c) drives it: when a run
 *	  is due (the router's start, the exchange's REST back after an
 *	  outage, every zvt.reconcile_interval), and the run itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_RECONCILE_H
#define ZVT_LIVE_RECONCILE_H

#include "live/route.h"
#include "live/skew.h"

/* what a run needs of the router */
typedef struct ReconTarget
{
	LiveExchange ex;
	const char *name;			/* binance... */
	const char *base;			/* the REST base, zvt.exchanges.rest_url */
	const char *host;			/* its host[:port] (Coinbase signs it) */
	uint64		system_id;		/* for the client order ids */
	const ClockSkew *skew;
} ReconTarget;

extern void reconcile_note_reply(bool replied, long http_status);
extern bool reconcile_due(void);
extern void reconcile_request(const char *trigger);
extern bool reconcile_stays(const char *exchange);
extern bool reconcile_pending(int inflight, const ReconTarget *t);

#endif							/* ZVT_LIVE_RECONCILE_H */
