/*-------------------------------------------------------------------------
 *
 * src/bus/events.c
 *	  The market event ring's shared memory ("zvt event ring") and the
 *	  append every writer goes through.
 *
 * One segment of zvt.event_ring_size events (rounded up to a power of
 * two), made at server start; 0 makes no ring, and then appends do
 * nothing and readers find none.  Appends stamp each event with this
 * database and the commit time; the caller fills the rest, the
 * installation included (bus_install(), read inside its transaction).
 * The ring's own spinlock (ring.c) is the only lock: no LWLock, nothing
 * that can raise an error while it is held, so appending is safe right
 * after a commit, outside any transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "bus/events.h"
#include "zvt.h"

/*
 * The segment: the readers' latches, then the ring.  A reader registers
 * its latch (its PGPROC's, which outlives it) so appends wake it; a stale
 * pointer left by a reader that died only wakes nobody in particular.
 */
typedef struct EventsShared
{
	Latch	   *volatile readers[BUS_EVENTS_READERS];	/* set by their owner */
} EventsShared;

static EventsShared *shared = NULL;
static BusRing *ring = NULL;

Size
bus_events_shmem_size(void)
{
	if (zvt_event_ring_size <= 0)
		return 0;
	return add_size(MAXALIGN(sizeof(EventsShared)),
					MAXALIGN(bus_ring_size((uint64) zvt_event_ring_size)));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
bus_events_shmem_init(void)
{
	bool		found;

	if (zvt_event_ring_size <= 0)
		return;
	shared = ShmemInitStruct("zvt event ring", bus_events_shmem_size(), &found);
	ring = (BusRing *) ((char *) shared + MAXALIGN(sizeof(EventsShared)));
	if (!found)
	{
		memset(shared, 0, sizeof(EventsShared));
		bus_ring_init(ring, (uint64) zvt_event_ring_size);
	}
}

/*
 * Have appends set latch (MyLatch of a reader).  Returns the slot to give
 * back with bus_events_unlisten, or -1 when every slot is taken (then the
 * reader must poll).  Slots are taken by compare-and-swap.
 */
int
bus_events_listen(Latch *latch)
{
	if (shared == NULL)
		return -1;
	for (int i = 0; i < BUS_EVENTS_READERS; i++)
		if (__sync_bool_compare_and_swap(&shared->readers[i], NULL, latch))
			return i;
	return -1;
}

void
bus_events_unlisten(int slot)
{
	if (shared != NULL && slot >= 0 && slot < BUS_EVENTS_READERS)
		shared->readers[slot] = NULL;
}

/* The ring, or NULL when zvt.event_ring_size is 0 or zvt is not preloaded. */
BusRing *
bus_events_ring(void)
{
	return ring;
}

/*
 * Append n committed events (their seq is set).  Call after the commit
 * that made them visible, never before: readers publish what they read.
 */
void
bus_events_append(BusEvent *ev, int n)
{
	TimestampTz now;

	if (ring == NULL || n <= 0)
		return;
	now = GetCurrentTimestamp();
	for (int i = 0; i < n; i++)
	{
		ev[i].dboid = MyDatabaseId;
		ev[i].appended_at = now;
	}
	bus_ring_append(ring, ev, n);
	for (int i = 0; i < BUS_EVENTS_READERS; i++)
	{
		Latch	   *l = shared->readers[i];

		if (l != NULL)
			SetLatch(l);
	}
}
