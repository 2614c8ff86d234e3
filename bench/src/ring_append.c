/*
 * bench/src/ring_append.c
 *	  What an append to the market event ring (src/bus/ring.c) costs a
 *	  writer: ns per event for one writer alone, with readers copying
 *	  everything, and with four writers contending for the lock, in
 *	  batches of 1 and of 64 events.  Built and run by bench/redis.
 */
#define _POSIX_C_SOURCE 200809L
#include "bus/ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS 2000000L

static BusRing *ring;
static _Atomic int stop_readers;

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct Arg
{
	int			batch;
	long		events;
	double		secs;
} Arg;

static void *
writer(void *p)
{
	Arg		   *a = p;
	BusEvent	ev[64];
	double		t0;

	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < 64; i++)
	{
		ev[i].kind = BUS_EVENT_TRADE;
		ev[i].u.trade.price = 91234.5;
		strcpy(ev[i].u.trade.trade_id, "1234567890");
	}
	t0 = now_sec();
	for (long n = 0; n < a->events; n += a->batch)
		bus_ring_append(ring, ev, a->batch);
	a->secs = now_sec() - t0;
	return NULL;
}

static void *
reader(void *p)
{
	BusRingCursor c;
	BusEvent	out[512];
	long	   *got = p;

	bus_ring_cursor_init(ring, &c);
	while (!stop_readers)
		*got += bus_ring_read(ring, &c, out, 512);
	return NULL;
}

/* writers threads appending EVENTS/writers events each in batches; readers reading */
static void
run(int writers, int readers, int batch)
{
	pthread_t	wt[8],
				rt[8];
	Arg			a[8];
	long		got[8] = {0};
	double		worst = 0;
	uint64_t	contended0 = atomic_load(&ring->contended);

	stop_readers = 0;
	for (int i = 0; i < readers; i++)
		pthread_create(&rt[i], NULL, reader, &got[i]);
	for (int i = 0; i < writers; i++)
	{
		a[i].batch = batch;
		a[i].events = EVENTS / writers;
		pthread_create(&wt[i], NULL, writer, &a[i]);
	}
	for (int i = 0; i < writers; i++)
	{
		pthread_join(wt[i], NULL);
		if (a[i].secs > worst)
			worst = a[i].secs;
	}
	stop_readers = 1;
	for (int i = 0; i < readers; i++)
		pthread_join(rt[i], NULL);
	printf("  %d writer(s), %d reader(s), batches of %2d: %6.1f ns per event per writer, %5.1f M events/s in all; "
		   "%llu appends found the lock held\n",
		   writers, readers, batch, worst * 1e9 / (EVENTS / writers), EVENTS / worst / 1e6,
		   (unsigned long long) (atomic_load(&ring->contended) - contended0));
}

int
main(void)
{
	ring = bus_ring_init(malloc(bus_ring_size(65536)), 65536);
	printf("ring_append: %ld events of %zu bytes into a ring of 65536 (2 cores here)\n", EVENTS, sizeof(BusEvent));
	run(1, 0, 1);
	run(1, 0, 64);
	run(1, 1, 64);
	run(1, 2, 64);
	run(4, 0, 1);
	run(4, 0, 64);
	run(4, 2, 64);
	free(ring);
	return 0;
}
