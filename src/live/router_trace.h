/*-------------------------------------------------------------------------
 *
 * src/live/router_trace.h
 *	  A diagnostic build's timeline of the order router's turn (off in
 *	  every normal build): built with -DZVT_ROUTER_TRACE, router.c records
 *	  each phase of its loop (the wait, the claim's SQL, the build and
 *	  commit, libcurl's send, the reads, the bookings, the streams' step)
 *	  with its start and end in microseconds of the wall clock, and writes
 *	  them to /tmp/zvt-router-trace.<pid> when its buffer fills and at
 *	  exit, one "phase start_us end_us n" line each.  bench/live
 *	  (ZVT_BENCH_LIVE_ORDERS) writes the orders' commit and sent times, to
 *	  lay over them: what the router was doing while an order waited.
 *
 *	  Without ZVT_ROUTER_TRACE every macro is empty and nothing is kept.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_ROUTER_TRACE_H
#define ZVT_LIVE_ROUTER_TRACE_H

#ifdef ZVT_ROUTER_TRACE

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define RT_MAX 65536

typedef struct RtEvent
{
	int64		t0;
	int64		t1;
	int32		n;
	char		phase;
} RtEvent;

static RtEvent rt_buf[RT_MAX];
static int	rt_n = 0;

static inline int64
rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void
rt_flush(void)
{
	char		path[64];
	FILE	   *f;

	snprintf(path, sizeof(path), "/tmp/zvt-router-trace.%d", (int) getpid());
	if ((f = fopen(path, "a")) != NULL)
	{
		for (int i = 0; i < rt_n; i++)
			fprintf(f, "%c " INT64_FORMAT " " INT64_FORMAT " %d\n", rt_buf[i].phase,
					rt_buf[i].t0, rt_buf[i].t1, rt_buf[i].n);
		fclose(f);
	}
	rt_n = 0;
}

/* a phase that began at t0 and ends now */
static inline void
rt_add(char phase, int64 t0, int n)
{
	if (rt_n >= RT_MAX)
		rt_flush();
	rt_buf[rt_n].phase = phase;
	rt_buf[rt_n].t0 = t0;
	rt_buf[rt_n].t1 = rt_now();
	rt_buf[rt_n].n = n;
	rt_n++;
}

#define RT_MARK(v)			((v) = rt_now())
#define RT_END(phase, v, n) rt_add((phase), (v), (n))
#define RT_FLUSH()			rt_flush()
#else
#define RT_MARK(v)			((void) (v))
#define RT_END(phase, v, n) ((void) 0)
#define RT_FLUSH()			((void) 0)
#endif

/* a phase's start, a declaration in both builds */
#define RT_VAR(v)			int64 v pg_attribute_unused() = 0

#endif							/* ZVT_LIVE_ROUTER_TRACE_H */
