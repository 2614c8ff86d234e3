/*-------------------------------------------------------------------------
 *
 * src/bus/pending.c
 *	  Events a backend's transaction produced, held until it commits and
 *	  then appended to the market event ring (events.c).
 *
 * Writers that are inside a transaction they do not commit themselves
 * (place_order, fills, cancels: the user's transaction) queue their events
 * here.  A transaction callback appends them at XACT_EVENT_COMMIT, which
 * PostgreSQL calls once the commit is recorded and visible to others, and
 * forgets them on abort and on PREPARE (a prepared transaction's events
 * are never published: its outcome is decided in another session).  A
 * subtransaction's events are forgotten when it aborts: each queued event
 * carries the nesting level that queued it, a committed subtransaction
 * hands its events to its parent, and an aborting one drops the suffix at
 * its level or deeper (the events queued since it began).
 *
 * The queue lives in TopTransactionContext, gone with the transaction;
 * appending allocates nothing and cannot fail, as the commit callback
 * must not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "bus/events.h"

typedef struct Pending
{
	BusEvent	ev;
	int			level;			/* GetCurrentTransactionNestLevel() that queued it */
} Pending;

static Pending *queue = NULL;	/* in TopTransactionContext */
static int	nqueue = 0;
static int	capqueue = 0;
static bool callbacks = false;

static void pending_xact(XactEvent event, void *arg);
static void pending_subxact(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg);

static void
pending_forget(void)
{
	queue = NULL;				/* its memory goes with TopTransactionContext */
	nqueue = capqueue = 0;
}

static void
pending_xact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			for (int i = 0; i < nqueue; i += BUS_RING_BATCH)
			{
				BusEvent	buf[BUS_RING_BATCH];
				int			n = Min(BUS_RING_BATCH, nqueue - i);

				for (int k = 0; k < n; k++)
					buf[k] = queue[i + k].ev;
				bus_events_append(buf, n);
			}
			pending_forget();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
			pending_forget();
			break;
		default:
			break;
	}
}

static void
pending_subxact(SubXactEvent event, SubTransactionId mySubid,
				SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (nqueue > 0 && queue[nqueue - 1].level >= level)
			nqueue--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = nqueue - 1; i >= 0 && queue[i].level >= level; i--)
			queue[i].level = level - 1;
	}
}

/*
 * Queue ev (a copy) to be appended to the event ring when the current
 * transaction commits.  Does nothing when there is no ring.  Call inside a
 * transaction.
 */
void
bus_events_at_commit(const BusEvent *ev)
{
	if (bus_events_ring() == NULL)
		return;
	if (!callbacks)
	{
		RegisterXactCallback(pending_xact, NULL);
		RegisterSubXactCallback(pending_subxact, NULL);
		callbacks = true;
	}
	if (nqueue == capqueue)
	{
		int			cap = capqueue ? capqueue * 2 : 16;

		if (queue == NULL)
			queue = MemoryContextAlloc(TopTransactionContext, sizeof(Pending) * cap);
		else
			queue = repalloc(queue, sizeof(Pending) * cap);
		capqueue = cap;
	}
	queue[nqueue].ev = *ev;
	queue[nqueue].level = GetCurrentTransactionNestLevel();
	nqueue++;
}
