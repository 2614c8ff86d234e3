/*-------------------------------------------------------------------------
 *
 * src/bus/bus.h
 *	  The market bus: a shared-memory last-value cache per instrument.
 *
 * An entry belongs to one instrument of one installation of zvt in one
 * database (see BusKey); callers name instruments by id and the bus adds
 * the rest of the key for the calling backend's database (bus.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BUS_H
#define ZVT_BUS_H

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/latch.h"

/*
 * Whose an entry is.  Instrument ids start again at 1 after DROP and
 * CREATE EXTENSION and are the same numbers in every database, so the id
 * alone would hand a new instrument the prices of an old or foreign one.
 * The oid of zvt.instruments changes with every CREATE EXTENSION: with the
 * database it names one installation.  Three 4-byte fields, no padding:
 * keys are compared as bytes.
 */
typedef struct BusKey
{
	Oid			dboid;			/* InvalidOid marks a free slot */
	Oid			install;		/* the oid of that database's zvt.instruments */
	int32		instrument_id;	/* zvt.instruments.id */
} BusKey;

/* One instrument's latest trade and best bid/ask; a perpetual's funding. */
typedef struct BusEntry
{
	BusKey		key;
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
	/* perpetuals (NaN / 0 until the feed's funding channel says) */
	double		mark_price;
	double		index_price;
	double		funding_rate;	/* of the next funding time, a fraction */
	TimestampTz next_funding_ts;	/* that funding time */
	double		open_interest;	/* base units */
	TimestampTz funding_ts;		/* exchange time of the update */
} BusEntry;

/* in bus.c */
extern Size bus_shmem_size(void);
extern void bus_shmem_init(void);
extern void bus_put_trade(int32 instrument_id, double price, double qty, TimestampTz ts);
extern void bus_put_quote(int32 instrument_id, double bid, double bid_qty, double ask,
						  double ask_qty, TimestampTz ts);
extern void bus_put_funding(int32 instrument_id, double mark, double index, double rate,
							TimestampTz next_funding, double open_interest, TimestampTz ts);
extern bool bus_get(int32 instrument_id, BusEntry *out);
extern int	bus_entries(BusEntry **out);
extern void bus_usage(int *used, int *slots);
extern Oid	bus_install(void);
extern void bus_forget_at_commit(Oid install, int32 instrument_id);
extern uint64 bus_generation(void);
extern void bus_subscriptions_changed(void);
extern uint64 bus_subscription_generation(void);
extern void bus_set_matcher_latch(Latch *latch);
extern void bus_paper_orders_rest(void);
extern uint64 bus_paper_generation(void);

#endif
