/*-------------------------------------------------------------------------
 *
 * src/bus/bus.h
 *	  The market bus: a shared-memory last-value cache per instrument.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BUS_H
#define ZVT_BUS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/latch.h"

/* One instrument's latest trade and best bid/ask. */
typedef struct BusEntry
{
	int32		instrument_id;	/* 0 = free slot */
	double		last;			/* NaN until a trade */
	double		last_qty;
	TimestampTz last_ts;		/* exchange time of the trade */
	double		bid;			/* NaN until a quote */
	double		bid_qty;
	double		ask;
	double		ask_qty;
	TimestampTz quote_ts;
	int64		updates;		/* trades and quotes applied */
	int64		trades;			/* trades applied (paper matching tells new ones by it) */
	int64		quotes;			/* quotes applied */
} BusEntry;

/* in bus.c */
extern Size bus_shmem_size(void);
extern void bus_shmem_init(void);
extern void bus_put_trade(int32 instrument_id, double price, double qty, TimestampTz ts);
extern void bus_put_quote(int32 instrument_id, double bid, double bid_qty, double ask,
						  double ask_qty, TimestampTz ts);
extern bool bus_get(int32 instrument_id, BusEntry *out);
extern void bus_forget(int32 instrument_id);
extern uint64 bus_generation(void);
extern void bus_subscriptions_changed(void);
extern uint64 bus_subscription_generation(void);
extern void bus_set_matcher_latch(Latch *latch);
extern void bus_paper_orders_rest(void);
extern uint64 bus_paper_generation(void);

#endif
