/*-------------------------------------------------------------------------
 *
 * src/redis/status.c
 *	  zvt._redis_status(), behind the zvt.redis_status view: the
 *	  publisher's state in shared memory (worker.c) and the event ring's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "bus/events.h"
#include "redis/redis.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_redis_status);

/*
 * zvt._redis_status() RETURNS (enabled bool, pid int, connected bool,
 *   server text, connected_since timestamptz, last_error text,
 *   last_error_at timestamptz, events_sent bigint, dropped bigint,
 *   skipped bigint, reconnects bigint, resyncs bigint, reply_errors
 *   bigint, lag_events bigint, lag interval, last_sent_at timestamptz,
 *   ring_size bigint, ring_head bigint, ring_contended bigint)
 */
Datum
zvt_redis_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[19];
	bool		n[19] = {false};
	RedisShared s;
	BusRing    *ring;
	uint64		head = 0;
	bool		running;

	zvt_require_preload("zvt.redis_status");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	running = redis_counters(&s);
	ring = bus_events_ring();
	if (ring)
		head = bus_ring_head(ring);

	v[0] = BoolGetDatum(zvt_redis_url != NULL && zvt_redis_url[0] != '\0');
	v[1] = Int32GetDatum((int32) pg_atomic_read_u32(&redis_shared->owner));
	n[1] = !running;
	v[2] = BoolGetDatum(running && s.connected);
	v[3] = CStringGetTextDatum(s.server);
	n[3] = s.server[0] == '\0';
	v[4] = TimestampTzGetDatum(s.connected_since);
	n[4] = !running || !s.connected;
	v[5] = CStringGetTextDatum(s.last_error);
	n[5] = s.last_error[0] == '\0';
	v[6] = TimestampTzGetDatum(s.last_error_at);
	n[6] = s.last_error_at == 0;
	v[7] = Int64GetDatum(s.events_sent);
	v[8] = Int64GetDatum(s.dropped);
	v[9] = Int64GetDatum(s.skipped);
	v[10] = Int64GetDatum(s.reconnects);
	v[11] = Int64GetDatum(s.resyncs);
	v[12] = Int64GetDatum(s.reply_errors);
	/* events committed and not yet acknowledged by Redis */
	v[13] = Int64GetDatum(s.resume_valid && head > s.resume_next ? (int64) (head - s.resume_next) : 0);
	n[13] = !s.resume_valid;
	{
		Interval   *iv = palloc0(sizeof(Interval));

		iv->time = s.lag_us;
		v[14] = IntervalPGetDatum(iv);
	}
	n[14] = s.last_sent_at == 0;
	v[15] = TimestampTzGetDatum(s.last_sent_at);
	n[15] = s.last_sent_at == 0;
	v[16] = Int64GetDatum(ring ? (int64) ring->capacity : 0);
	v[17] = Int64GetDatum((int64) head);
	n[17] = ring == NULL;
	v[18] = Int64GetDatum(ring ? (int64) atomic_load(&ring->contended) : 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, n)));
}
