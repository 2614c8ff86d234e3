/*-------------------------------------------------------------------------
 *
 * src/trading/matcher.h
 *	  The trading part's shared memory ("zvt matcher", paper_matcher.c): the
 *	  paper matcher's slot and counters, and the place_order latency
 *	  histogram, as the launcher, zvt.c, place_order.c and the metrics
 *	  endpoint see them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_MATCHER_H
#define ZVT_MATCHER_H

/* in paper_matcher.c */
extern Size matcher_shmem_size(void);
extern void matcher_shmem_init(void);
extern bool matcher_running(void);
extern bool matcher_is_idle(uint64 paper_generation);
extern void matcher_mark_idle(uint64 paper_generation);
extern void matcher_counters(int64 *passes, int64 *changes);

/* upper bounds of the place_order latency buckets, us (order_latency_bounds_us) */
#define ORDER_LATENCY_BOUNDS 14
extern const int64 order_latency_bounds_us[ORDER_LATENCY_BOUNDS];
extern void order_latency_record(int64 us);
extern void order_latency_read(int64 *counts, int64 *sum_us);

#endif							/* ZVT_MATCHER_H */
