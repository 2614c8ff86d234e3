/*-------------------------------------------------------------------------
 *
 * src/bus/ring.c
 *	  The market event ring (ring.h): appends under a short spinlock,
 *	  lock-free reads with per-reader cursors and exact drop counts.
 *
 * Pure C, C11 atomics only: no PostgreSQL header, no allocation, so the
 * same code runs over shared memory between processes (bus/events.c) and
 * over malloc'd memory between threads (test/unit/test_bus_ring.c).
 *
 * Protocol.  A writer holds the lock while it writes a slot: it stores
 * the slot's stamp 2s+1, a release fence, the event, the stamp 2s+2
 * (release), then head = s+1 (release).  So head never passes an event
 * not yet complete, and writers never write one slot at the same time.
 * A reader of s loads head (acquire); if s < head, it loads the slot's
 * stamp (acquire), copies the event, issues an acquire fence and loads
 * the stamp again: equal to 2s+2 both times, the copy is event s; a
 * larger stamp means a writer has moved on to s + capacity (or beyond)
 * and event s is gone: dropped.  A reader whose s is more than capacity
 * behind head skips straight to head - capacity and counts the gap.
 *
 * The copy of a slot that a writer overwrites meanwhile reads bytes being
 * written (the seqlock's benign race): it is thrown away by the stamp
 * check, never used.  The lock word is only ever taken by exchange: a
 * writer that finds it held spins briefly, then yields the CPU.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "bus/ring.h"

#include <sched.h>
#include <string.h>

#define SPINS_BEFORE_YIELD 100

static void ring_lock(BusRing *r);
static void ring_unlock(BusRing *r);

uint64_t
bus_ring_capacity(uint64_t capacity)
{
	uint64_t	c = 2;

	while (c < capacity && c < (UINT64_C(1) << 40))
		c <<= 1;
	return c;
}

size_t
bus_ring_size(uint64_t capacity)
{
	return offsetof(BusRing, slots) + sizeof(BusRingSlot) * bus_ring_capacity(capacity);
}

BusRing *
bus_ring_init(void *mem, uint64_t capacity)
{
	BusRing    *r = mem;
	uint64_t	cap = bus_ring_capacity(capacity);

	r->capacity = cap;
	atomic_init(&r->head, 1);
	atomic_init(&r->lock, 0);
	atomic_init(&r->contended, 0);
	for (uint64_t i = 0; i < cap; i++)
	{
		atomic_init(&r->slots[i].stamp, 0);
		memset(&r->slots[i].ev, 0, sizeof(BusEvent));
	}
	return r;
}

static void
ring_lock(BusRing *r)
{
	int			spins = 0;

	if (atomic_exchange_explicit(&r->lock, 1, memory_order_acquire) == 0)
		return;
	atomic_fetch_add_explicit(&r->contended, 1, memory_order_relaxed);
	for (;;)
	{
		/* wait on plain loads; try the exchange only when it looks free */
		while (atomic_load_explicit(&r->lock, memory_order_relaxed) != 0)
		{
			if (++spins >= SPINS_BEFORE_YIELD)
			{
				sched_yield();	/* the holder may be descheduled */
				spins = 0;
			}
		}
		if (atomic_exchange_explicit(&r->lock, 1, memory_order_acquire) == 0)
			return;
	}
}

static void
ring_unlock(BusRing *r)
{
	atomic_store_explicit(&r->lock, 0, memory_order_release);
}

uint64_t
bus_ring_append(BusRing *r, BusEvent *ev, int n)
{
	uint64_t	last = 0;

	for (int done = 0; done < n;)
	{
		int			chunk = n - done < BUS_RING_BATCH ? n - done : BUS_RING_BATCH;

		ring_lock(r);
		for (int i = done; i < done + chunk; i++)
		{
			uint64_t	s = atomic_load_explicit(&r->head, memory_order_relaxed);
			BusRingSlot *slot = &r->slots[s & (r->capacity - 1)];

			atomic_store_explicit(&slot->stamp, 2 * s + 1, memory_order_relaxed);
			atomic_thread_fence(memory_order_release);
			ev[i].seq = s;
			memcpy(&slot->ev, &ev[i], sizeof(BusEvent));
			atomic_store_explicit(&slot->stamp, 2 * s + 2, memory_order_release);
			atomic_store_explicit(&r->head, s + 1, memory_order_release);
			last = s;
		}
		ring_unlock(r);
		done += chunk;
	}
	return last;
}

uint64_t
bus_ring_head(BusRing *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire);
}

void
bus_ring_cursor_init(BusRing *r, BusRingCursor *c)
{
	c->next = bus_ring_head(r);
	c->dropped = 0;
}

int
bus_ring_read(BusRing *r, BusRingCursor *c, BusEvent *out, int max)
{
	int			n = 0;

	while (n < max)
	{
		uint64_t	head = atomic_load_explicit(&r->head, memory_order_acquire);
		BusRingSlot *slot;
		uint64_t	want;
		uint64_t	stamp;

		if (c->next >= head)
			break;
		if (head - c->next > r->capacity)
		{
			/* lapped: those events are gone whatever the stamps say */
			c->dropped += head - r->capacity - c->next;
			c->next = head - r->capacity;
		}
		slot = &r->slots[c->next & (r->capacity - 1)];
		want = 2 * c->next + 2;
		stamp = atomic_load_explicit(&slot->stamp, memory_order_acquire);
		if (stamp == want)
		{
			memcpy(&out[n], &slot->ev, sizeof(BusEvent));
			atomic_thread_fence(memory_order_acquire);
			stamp = atomic_load_explicit(&slot->stamp, memory_order_relaxed);
			if (stamp == want)
			{
				n++;
				c->next++;
				continue;
			}
		}
		if (stamp > want)
		{
			/* a writer has taken the slot for a later event */
			c->dropped++;
			c->next++;
			continue;
		}
		break;					/* cannot happen: head passed an unfinished event */
	}
	return n;
}
