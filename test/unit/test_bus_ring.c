/*
 * test/unit/test_bus_ring.c
 *	  The market event ring (src/bus/ring.c): sequence numbers, order,
 *	  several readers with their own cursors, exact overrun accounting
 *	  (delivered + dropped = appended, the drop count equal to the seq
 *	  gaps), and no torn event, with writer and reader threads racing,
 *	  under ASan and UBSan.
 */
#define _POSIX_C_SOURCE 200809L
#include "bus/ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_test.h"

#define WRITERS 4
#define READERS 3
#define PER_WRITER 20000

/* An event whose every field says who wrote it and which one it was. */
static void
make_event(BusEvent *e, int writer, long n)
{
	memset(e, 0, sizeof(*e));
	e->kind = BUS_EVENT_TRADE;
	e->instrument_id = writer;
	e->ts = n;
	e->u.trade.price = writer * 1e7 + n;
	e->u.trade.qty = -(writer * 1e7 + n);
	snprintf(e->u.trade.trade_id, sizeof(e->u.trade.trade_id), "w%d-%ld-%040d", writer, n, writer);
}

/* Is e whole (every field from one write)? */
static bool
event_whole(const BusEvent *e)
{
	char		want[BUS_RING_ID_LEN];
	int			w = e->instrument_id;
	long		n = (long) e->ts;

	snprintf(want, sizeof(want), "w%d-%ld-%040d", w, n, w);
	return e->kind == BUS_EVENT_TRADE && e->u.trade.price == w * 1e7 + n &&
		e->u.trade.qty == -(w * 1e7 + n) && strcmp(e->u.trade.trade_id, want) == 0;
}

typedef struct Writer
{
	BusRing    *ring;
	int			id;
	int			batch;			/* events per append call */
} Writer;

static void *
writer_main(void *arg)
{
	Writer	   *w = arg;
	BusEvent	buf[100];

	for (long n = 0; n < PER_WRITER;)
	{
		int			k = 0;

		for (; k < w->batch && n < PER_WRITER; k++, n++)
			make_event(&buf[k], w->id, n);
		bus_ring_append(w->ring, buf, k);
	}
	return NULL;
}

typedef struct Reader
{
	BusRing    *ring;
	BusRingCursor cursor;
	bool		slow;			/* yields between reads, to be overrun */
	long		delivered;
	long		gaps;			/* sum of seq gaps seen */
	bool		ordered;		/* seq strictly increasing */
	bool		per_writer_ordered; /* each writer's n increasing */
	bool		whole;
	uint64_t	last_seq;
} Reader;

static void *
reader_main(void *arg)
{
	Reader	   *r = arg;
	BusEvent	buf[16];
	long		last_n[WRITERS];
	long		total = (long) WRITERS * PER_WRITER;

	for (int i = 0; i < WRITERS; i++)
		last_n[i] = -1;
	while ((long) (r->cursor.next - 1) < total)
	{
		int			got = bus_ring_read(r->ring, &r->cursor, buf, r->slow ? 3 : 16);

		for (int i = 0; i < got; i++)
		{
			BusEvent   *e = &buf[i];

			if (e->seq <= r->last_seq)
				r->ordered = false;
			r->gaps += (long) (e->seq - r->last_seq - 1);
			r->last_seq = e->seq;
			if (!event_whole(e))
				r->whole = false;
			else if (e->ts <= last_n[e->instrument_id])
				r->per_writer_ordered = false;
			else
				last_n[e->instrument_id] = (long) e->ts;
			r->delivered++;
		}
		if (got == 0 || r->slow)
			sched_yield();
	}
	/* events dropped after the last delivered one */
	r->gaps += (long) (r->cursor.next - 1 - r->last_seq);
	return NULL;
}

/*
 * WRITERS threads append while READERS read; a ring of capacity cap.
 * slow_readers makes the readers yield after every few events.
 */
static void
race(uint64_t cap, bool slow_readers, int batch, bool expect_no_drop)
{
	BusRing    *ring = bus_ring_init(malloc(bus_ring_size(cap)), cap);
	pthread_t	wt[WRITERS],
				rt[READERS];
	Writer		w[WRITERS];
	Reader		r[READERS];
	long		total = (long) WRITERS * PER_WRITER;

	for (int i = 0; i < READERS; i++)
	{
		memset(&r[i], 0, sizeof(r[i]));
		r[i].ring = ring;
		r[i].slow = slow_readers;
		r[i].ordered = r[i].per_writer_ordered = r[i].whole = true;
		bus_ring_cursor_init(ring, &r[i].cursor);
		CHECK(r[i].cursor.next == 1);
		pthread_create(&rt[i], NULL, reader_main, &r[i]);
	}
	for (int i = 0; i < WRITERS; i++)
	{
		w[i].ring = ring;
		w[i].id = i;
		w[i].batch = batch;
		pthread_create(&wt[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(wt[i], NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(rt[i], NULL);
	CHECK(bus_ring_head(ring) == (uint64_t) total + 1);
	for (int i = 0; i < READERS; i++)
	{
		CHECK(r[i].ordered);
		CHECK(r[i].per_writer_ordered);
		CHECK(r[i].whole);
		/* every event delivered or counted, and the count is the seq gaps */
		CHECK(r[i].delivered + (long) r[i].cursor.dropped == total);
		CHECK((long) r[i].cursor.dropped == r[i].gaps);
		if (expect_no_drop)
			CHECK(r[i].cursor.dropped == 0);
	}
	printf("ring %llu, %s readers, batch %d: delivered %ld %ld %ld, dropped %llu %llu %llu, contended appends %llu\n",
		   (unsigned long long) cap, slow_readers ? "slow" : "fast", batch,
		   r[0].delivered, r[1].delivered, r[2].delivered,
		   (unsigned long long) r[0].cursor.dropped, (unsigned long long) r[1].cursor.dropped,
		   (unsigned long long) r[2].cursor.dropped,
		   (unsigned long long) atomic_load(&ring->contended));
	free(ring);
}

/* One thread: sequence numbers, order, and an exact overrun. */
static void
sequential(void)
{
	BusRing    *ring = bus_ring_init(malloc(bus_ring_size(5)), 5);
	BusRingCursor a,
				b;
	BusEvent	ev[20];
	BusEvent	out[32];
	int			n;

	CHECK(ring->capacity == 8);
	CHECK(bus_ring_capacity(1) == 2);
	CHECK(bus_ring_capacity(1024) == 1024);
	CHECK(bus_ring_capacity(1025) == 2048);
	bus_ring_cursor_init(ring, &a);
	CHECK(bus_ring_read(ring, &a, out, 32) == 0);
	CHECK(bus_ring_append(ring, ev, 0) == 0);

	for (int i = 0; i < 20; i++)
		make_event(&ev[i], 1, i);
	CHECK(bus_ring_append(ring, ev, 3) == 3);
	CHECK(ev[0].seq == 1 && ev[2].seq == 3);
	n = bus_ring_read(ring, &a, out, 2);
	CHECK(n == 2 && out[0].seq == 1 && out[1].seq == 2 && event_whole(&out[1]));
	bus_ring_cursor_init(ring, &b);	/* a new reader sees only what comes next */
	CHECK(b.next == 4);

	/* 17 more: the ring holds 13..20; a is at 3, b at 4 */
	CHECK(bus_ring_append(ring, ev + 3, 17) == 20);
	n = bus_ring_read(ring, &a, out, 32);
	CHECK(n == 8 && out[0].seq == 13 && out[7].seq == 20);
	CHECK(a.dropped == 10);		/* 3..12 */
	CHECK(out[0].ts == 12 && event_whole(&out[0]));
	n = bus_ring_read(ring, &b, out, 4);
	CHECK(n == 4 && out[0].seq == 13 && b.dropped == 9);	/* 4..12 */
	n = bus_ring_read(ring, &b, out, 32);
	CHECK(n == 4 && out[3].seq == 20 && b.next == 21);
	CHECK(bus_ring_read(ring, &a, out, 32) == 0 && bus_ring_read(ring, &b, out, 32) == 0);

	/* exactly a capacity behind: nothing lost */
	for (int i = 0; i < 8; i++)
		make_event(&ev[i], 2, i);
	bus_ring_append(ring, ev, 8);
	n = bus_ring_read(ring, &a, out, 32);
	CHECK(n == 8 && a.dropped == 10 && out[0].seq == 21);
	free(ring);
}

int
main(void)
{
	sequential();
	/* a ring holding everything: nothing may be dropped */
	race(WRITERS * PER_WRITER, false, 1, true);
	race(WRITERS * PER_WRITER, true, 100, true);
	/* small rings and slow readers: overruns, counted exactly */
	race(64, true, 1, false);
	race(64, true, 100, false);
	race(1024, false, 7, false);
	return unit_summary("test_bus_ring");
}
