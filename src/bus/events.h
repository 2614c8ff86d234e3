/*-------------------------------------------------------------------------
 *
 * src/bus/events.h
 *	  The market event ring in shared memory ("zvt event ring"): appenders
 *	  and readers as zvt's processes see it (events.c, over ring.c).
 *
 * Writers append only what their transaction has committed, after the
 * commit; readers (the Redis publisher, later the HTTP front's /stream)
 * each keep a BusRingCursor of their own.  See ring.h for the contract.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BUS_EVENTS_H
#define ZVT_BUS_EVENTS_H

#include "bus/ring.h"
#include "storage/latch.h"

/* how many readers appends can wake (the rest poll) */
#define BUS_EVENTS_READERS 8

/* in events.c */
extern Size bus_events_shmem_size(void);
extern void bus_events_shmem_init(void);
extern void bus_events_append(BusEvent *ev, int n);
extern BusRing *bus_events_ring(void);
extern int	bus_events_listen(Latch *latch);
extern void bus_events_unlisten(int slot);

/* in pending.c */
extern void bus_events_at_commit(const BusEvent *ev);

#endif							/* ZVT_BUS_EVENTS_H */
