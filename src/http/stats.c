/*-------------------------------------------------------------------------
 *
 * src/http/stats.c
 *	  The HTTP front's counters for the metrics endpoint: requests by
 *	  method and status class, in flight, their duration, and the /stream
 *	  clients, messages sent and dropped.
 *
 * Each worker counts in its own slot of "zvt http" (HttpShared.stats,
 * indexed by worker number), so a count is a load and a store of a
 * 64-bit atomic that only its owner writes: no lock, no contended cache
 * line between workers.  http_stats_read, for the metrics worker, sums
 * the slots; a slot whose worker died keeps its counters (they only
 * grow) and its gauges are zeroed by the next worker of that number.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "http/http.h"
#include "http/transport.h"
#include "zvt.h"

const char *const http_stats_methods[HTTP_STATS_METHODS] = {
	"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "other"
};

/* upper bounds of the duration buckets, us */
const int64 http_stats_bounds_us[HTTP_STATS_BOUNDS] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000
};

StaticAssertDecl(lengthof(((HttpWorkerStats *) NULL)->requests) == HTTP_STATS_METHODS &&
				 lengthof(((HttpWorkerStats *) NULL)->requests[0]) == HTTP_STATS_CLASSES &&
				 lengthof(((HttpWorkerStats *) NULL)->duration) == HTTP_STATS_BOUNDS + 1,
				 "HttpWorkerStats matches HttpStats");

/* this worker's slot; NULL outside a worker */
static HttpWorkerStats *mine = NULL;

/* Called from http_shmem_init when the segment is made. */
void
http_stats_init(HttpShared *sh)
{
	for (int w = 0; w < HTTP_MAX_WORKERS; w++)
	{
		HttpWorkerStats *s = &sh->stats[w];

		for (int m = 0; m < HTTP_STATS_METHODS; m++)
			for (int k = 0; k < HTTP_STATS_CLASSES; k++)
				pg_atomic_init_u64(&s->requests[m][k], 0);
		for (int i = 0; i <= HTTP_STATS_BOUNDS; i++)
			pg_atomic_init_u64(&s->duration[i], 0);
		pg_atomic_init_u64(&s->in_flight, 0);
		pg_atomic_init_u64(&s->duration_sum_us, 0);
		pg_atomic_init_u64(&s->stream_clients, 0);
		pg_atomic_init_u64(&s->stream_sent, 0);
		pg_atomic_init_u64(&s->stream_dropped, 0);
	}
}

/* The worker claimed its number: its gauges start at 0. */
void
http_stats_worker_start(void)
{
	mine = &http_shared->stats[http_worker_number];
	pg_atomic_write_u64(&mine->in_flight, 0);
	pg_atomic_write_u64(&mine->stream_clients, 0);
}

/* add n to a counter only this worker writes */
static inline void
bump(pg_atomic_uint64 *c, int64 n)
{
	pg_atomic_write_u64(c, pg_atomic_read_u64(c) + (uint64) n);
}

/* A request starts running. */
void
http_stats_begin(void)
{
	if (mine)
		bump(&mine->in_flight, 1);
}

/*
 * A request was answered with status; start_us (Unix us) is when it was
 * complete; began says whether http_stats_begin counted it in flight.
 */
void
http_stats_end(const char *method, int status, int64 start_us, bool began)
{
	int			m = HTTP_STATS_METHODS - 1;
	int			k = Min(Max(status / 100, 1), 5) - 1;
	int64		us = Max(ZVT_TS_TO_UNIX(GetCurrentTimestamp()) - start_us, 0);
	int			b = 0;

	if (mine == NULL)
		return;
	for (int i = 0; method && i < HTTP_STATS_METHODS - 1; i++)
		if (strcmp(method, http_stats_methods[i]) == 0)
			m = i;
	while (b < HTTP_STATS_BOUNDS && us > http_stats_bounds_us[b])
		b++;
	bump(&mine->requests[m][k], 1);
	bump(&mine->duration[b], 1);
	bump(&mine->duration_sum_us, us);
	if (began)
		bump(&mine->in_flight, -1);
}

void
http_stats_stream_clients(int delta)
{
	if (mine)
		bump(&mine->stream_clients, delta);
}

void
http_stats_stream_sent(int64 n)
{
	if (mine && n > 0)
		bump(&mine->stream_sent, n);
}

void
http_stats_stream_dropped(int64 n)
{
	if (mine && n > 0)
		bump(&mine->stream_dropped, n);
}

/* Every worker slot summed into out; needs no lock and no transaction. */
void
http_stats_read(HttpStats *out)
{
	memset(out, 0, sizeof(*out));
	if (http_shared == NULL)
		return;
	for (int w = 0; w < HTTP_MAX_WORKERS; w++)
	{
		HttpWorkerStats *s = &http_shared->stats[w];

		for (int m = 0; m < HTTP_STATS_METHODS; m++)
			for (int k = 0; k < HTTP_STATS_CLASSES; k++)
				out->requests[m][k] += (int64) pg_atomic_read_u64(&s->requests[m][k]);
		for (int i = 0; i <= HTTP_STATS_BOUNDS; i++)
			out->duration[i] += (int64) pg_atomic_read_u64(&s->duration[i]);
		out->duration_sum_us += (int64) pg_atomic_read_u64(&s->duration_sum_us);
		out->stream_sent += (int64) pg_atomic_read_u64(&s->stream_sent);
		out->stream_dropped += (int64) pg_atomic_read_u64(&s->stream_dropped);
		/* the gauges of a worker that is gone are not counted */
		if (http_worker_running(w))
		{
			out->in_flight += (int64) pg_atomic_read_u64(&s->in_flight);
			out->stream_clients += (int64) pg_atomic_read_u64(&s->stream_clients);
			out->workers++;
		}
	}
}
