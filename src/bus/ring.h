/*-------------------------------------------------------------------------
 *
 * src/bus/ring.h
 *	  The market event ring: every committed trade, quote, closed candle
 *	  and order event, in order, for any number of readers.
 *
 * Pure C (C11 atomics, no PostgreSQL header): the ring lives in memory the
 * caller provides (a shared-memory segment in zvt, malloc in the unit
 * test), so it works between processes as between threads.
 *
 * Writers append under a spinlock held for at most BUS_RING_BATCH events
 * (a copy of a few hundred bytes each); they never wait for a reader.
 * Each event gets the next sequence number (1, 2, ...).  Readers take no
 * lock: each keeps its own cursor (the next sequence number it wants)
 * and reads a slot under its stamp, like a seqlock.  A reader that falls
 * more than the capacity behind finds its events overwritten: it skips
 * them and adds exactly how many to its cursor's drop count, so every
 * sequence number is either delivered or counted once.
 *
 * Wording: "head" is the sequence number the next append gets; the ring
 * holds the events head - capacity .. head - 1.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BUS_RING_H
#define ZVT_BUS_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_RING_ID_LEN		64	/* trade ids, as the feed keeps them */
#define BUS_RING_TEXT_LEN	24	/* order statuses and event kinds */
#define BUS_RING_BATCH		64	/* events appended per hold of the lock */

typedef enum BusEventKind
{
	BUS_EVENT_TRADE = 1,
	BUS_EVENT_QUOTE,
	BUS_EVENT_CANDLE,			/* a closed candle */
	BUS_EVENT_ORDER,			/* a row of zvt.order_events */
	BUS_EVENT_BOOK				/* a live order book's top moved (u.quote) */
} BusEventKind;

/*
 * One event.  Times are PostgreSQL TimestampTz values (microseconds since
 * 2000-01-01 UTC).  (dboid, install, instrument_id) names the instrument
 * as a BusKey does (bus.h): the database, the oid of that installation's
 * zvt.instruments, zvt.instruments.id.
 */
typedef struct BusEvent
{
	uint64_t	seq;			/* set by the ring on append */
	int64_t		appended_at;	/* set by the appender: when it committed */
	uint32_t	dboid;
	uint32_t	install;
	int32_t		instrument_id;
	int32_t		kind;			/* BusEventKind */
	int64_t		ts;				/* the row's ts */
	int64_t		local_ts;		/* when zvt received it (trades, quotes) */
	union
	{
		struct
		{
			double		price;
			double		qty;		/* base units */
			bool		taker_buy;
			char		trade_id[BUS_RING_ID_LEN];
		}			trade;
		struct
		{
			int64_t		seq;		/* the exchange's update id, 0 = none */
			double		bid, bid_qty, ask, ask_qty; /* NaN = none */
		}			quote;
		struct
		{
			int32_t		interval_s; /* timeframe, seconds */
			bool		from_trades;	/* source 'trades', else 'exchange' */
			double		open, high, low, close;
			double		volume;		/* base units */
			double		quote_volume;	/* NaN = none */
			int64_t		trade_count;	/* -1 = none */
		}			candle;
		struct
		{
			int64_t		event_id;	/* zvt.order_events.id */
			int64_t		order_id;
			int64_t		account_id;
			double		qty;		/* the event's qty (a fill's), NaN = none */
			double		price;		/* NaN = none */
			char		event[BUS_RING_TEXT_LEN];	/* zvt.order_events.event */
			char		status[BUS_RING_TEXT_LEN];	/* the order's status after it */
		}			order;
	}			u;
} BusEvent;

typedef struct BusRingSlot
{
	/* 2s+1 while event s is being written, 2s+2 once it is; 0 = never */
	_Atomic uint64_t stamp;
	BusEvent	ev;
} BusRingSlot;

typedef struct BusRing
{
	uint64_t	capacity;		/* a power of two */
	_Atomic uint64_t head;		/* the next sequence number; written under lock */
	_Atomic uint32_t lock;		/* the writers' spinlock: 1 = held */
	_Atomic uint64_t contended; /* appends that found the lock held */
	BusRingSlot slots[];		/* capacity of them */
} BusRing;

/* A reader's position.  Only its owner touches it. */
typedef struct BusRingCursor
{
	uint64_t	next;			/* the sequence number to read next */
	uint64_t	dropped;		/* events overwritten before this reader got them */
} BusRingCursor;

/* The bytes a ring of capacity events takes (capacity rounded up to a power of two). */
extern size_t bus_ring_size(uint64_t capacity);

/* Capacity rounded up to a power of two (at least 2). */
extern uint64_t bus_ring_capacity(uint64_t capacity);

/*
 * Make mem (bus_ring_size(capacity) bytes) an empty ring; the first event
 * gets sequence number 1.  Returns the ring.
 */
extern BusRing *bus_ring_init(void *mem, uint64_t capacity);

/*
 * Append n events in order, setting each one's seq (ev is modified).
 * Never fails and never waits for readers; it waits only for another
 * writer's current hold of the lock (at most BUS_RING_BATCH copies).
 * Returns the last sequence number given, or 0 when n is 0.
 */
extern uint64_t bus_ring_append(BusRing *r, BusEvent *ev, int n);

/* The sequence number the next append gets. */
extern uint64_t bus_ring_head(BusRing *r);

/* A cursor that will read the events appended from now on. */
extern void bus_ring_cursor_init(BusRing *r, BusRingCursor *c);

/*
 * Copy up to max events at or after c->next into out, in sequence order,
 * and move c past them.  Events overwritten before they could be read are
 * skipped and counted in c->dropped (exactly: the seq gap).  Returns the
 * number of events copied; 0 when the reader is at the head.
 */
extern int	bus_ring_read(BusRing *r, BusRingCursor *c, BusEvent *out, int max);

#endif							/* ZVT_BUS_RING_H */
