/*-------------------------------------------------------------------------
 *
 * src/feed/status.h
 *	  The feeds' shared memory: each exchange's worker counters and the
 *	  generations that tell its worker (and the launcher) what changed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_STATUS_H
#define FEED_STATUS_H

#include "datatype/timestamp.h"

/* upper bounds of the receive-to-commit latency buckets (feed_latency_bounds_us) */
#define FEED_LATENCY_BOUNDS 12

/*
 * One feed worker's counters, written only by that worker (torn reads of
 * a counter are harmless: they are statistics, read by zvt.feed_status
 * and the metrics endpoint).
 */
typedef struct FeedStats
{
	int			pid;			/* 0 when not running */
	int			state;			/* 0 down, 1 connecting, 2 open (first endpoint) */
	TimestampTz connected_since;
	TimestampTz last_message_at;
	int64		messages;		/* frames received */
	int64		bytes;			/* their payload bytes */
	int64		events;			/* trades, candles and quotes parsed */
	int64		rows_written;	/* rows actually inserted or updated */
	int64		parse_errors;	/* malformed frames skipped */
	int64		exchange_errors;	/* error replies from the exchange */
	int64		reconnects;
	int64		dropped;		/* events lost to memory exhaustion */
	int64		unmapped;		/* events for a symbol not in zvt.instruments */
	int64		flush_retries;	/* flushes rolled back by a deadlock, serialization
								 * failure or lock timeout, their batch kept */
	int64		book_resyncs;	/* order books started again from a new snapshot
								 * after a sequence gap, checksum mismatch or
								 * crossed book */
	/* events by receive-to-commit latency: [i] up to feed_latency_bounds_us[i], the last above all */
	int64		latency_buckets[FEED_LATENCY_BOUNDS + 1];
	int64		latency_sum_us; /* the sum of those latencies, us */
} FeedStats;

/* in status.c */
extern const int64 feed_latency_bounds_us[FEED_LATENCY_BOUNDS];
extern void feed_record_latency(FeedStats *stats, int64 us);
extern Size feed_shmem_size(void);
extern void feed_shmem_init(void);
extern FeedStats *feed_stats(int exchange);
extern void feed_subscriptions_changed(int exchange);
extern void feed_instruments_changed(int exchange);
extern uint64 feed_subscription_generation(int exchange);
extern uint64 feed_instrument_generation(int exchange);
extern void feed_mark_idle(int exchange, uint64 generation);
extern bool feed_is_idle(int exchange, uint64 generation);
extern bool feed_claim(int exchange);
extern void feed_release(int exchange);
extern bool feed_running(int exchange);

#endif							/* FEED_STATUS_H */
