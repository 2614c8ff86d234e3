/*-------------------------------------------------------------------------
 *
 * src/bus/bus.c
 *	  The market bus: the latest trade and best bid/ask of every instrument
 *	  in shared memory, readable from SQL without touching a table.
 *
 * A fixed open-addressing table of zvt.bus_size slots keyed by instrument
 * id.  Writers (feed workers, the test helper zvt.bus_publish) and readers
 * (zvt.last_price, zvt.tickers, the paper matcher) take the one "zvt bus"
 * LWLock, exclusive to write a batch and shared to read: a write is a few
 * stores, so the lock is held for nanoseconds.  `generation` (atomic) is
 * bumped after every write so a waiter can tell that prices moved.
 *
 * The bus also carries the subscription generation: zvt.subscribe and
 * zvt.unsubscribe flag their transaction, and a transaction callback bumps
 * the counter at commit, so feed workers see a change within one timer
 * tick and never one that rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "zvt.h"

typedef struct BusShared
{
	LWLock	   *lock;			/* protects slots */
	pg_atomic_uint64 generation;	/* bumped after each write */
	pg_atomic_uint64 subscriptions; /* bumped at commit of a (un)subscribe */
	pg_atomic_uint64 paper;		/* bumped when a paper order starts resting */
	Latch	   *matcher_latch;	/* the paper matcher's, NULL when it is not running */
	int			nslots;
	int			used;			/* occupied slots, under lock */
	BusEntry	slots[FLEXIBLE_ARRAY_MEMBER];
} BusShared;

static BusShared *bus = NULL;
static bool xact_flagged = false;
static bool callback_registered = false;

PG_FUNCTION_INFO_V1(zvt_last_price);
PG_FUNCTION_INFO_V1(zvt_bus_entries);
PG_FUNCTION_INFO_V1(zvt_bus_entry);
PG_FUNCTION_INFO_V1(zvt_bus_publish);
PG_FUNCTION_INFO_V1(zvt_subscriptions_changed);
PG_FUNCTION_INFO_V1(zvt_bus_counters);
PG_FUNCTION_INFO_V1(zvt_bus_forget_trigger);

Size
bus_shmem_size(void)
{
	return add_size(offsetof(BusShared, slots), mul_size(sizeof(BusEntry), zvt_bus_size));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
bus_shmem_init(void)
{
	bool		found;

	bus = ShmemInitStruct("zvt bus", bus_shmem_size(), &found);
	if (!found)
	{
		memset(bus, 0, bus_shmem_size());
		bus->lock = &(GetNamedLWLockTranche("zvt bus"))->lock;
		pg_atomic_init_u64(&bus->generation, 0);
		pg_atomic_init_u64(&bus->subscriptions, 0);
		pg_atomic_init_u64(&bus->paper, 0);
		bus->matcher_latch = NULL;
		bus->nslots = zvt_bus_size;
	}
}

#define BUS_TOMBSTONE (-1)		/* a forgotten slot: probes go on past it */

/*
 * The slot of instrument_id, claiming a free (or forgotten) one when
 * create; caller holds the lock (exclusive to create).
 */
static BusEntry *
bus_slot(int32 instrument_id, bool create)
{
	uint32		h = (uint32) instrument_id * 2654435761u;
	BusEntry   *reuse = NULL;

	for (int i = 0; i < bus->nslots; i++)
	{
		BusEntry   *e = &bus->slots[(h + i) % bus->nslots];

		if (e->instrument_id == instrument_id)
			return e;
		if (e->instrument_id == BUS_TOMBSTONE && !reuse)
			reuse = e;
		if (e->instrument_id == 0)
		{
			if (!create)
				return NULL;
			if (!reuse && bus->used * 4 >= bus->nslots * 3)
				return NULL;	/* keep probes short: 75% full is full */
			if (reuse)
				e = reuse;
			else
				bus->used++;
			e->instrument_id = instrument_id;
			e->last = e->last_qty = e->bid = e->bid_qty = e->ask = e->ask_qty = NAN;
			e->last_ts = e->quote_ts = 0;
			e->updates = e->trades = e->quotes = 0;
			return e;
		}
	}
	return NULL;
}

static void
bus_require(void)
{
	zvt_require_preload("the market bus");
}

/* After a write (lock released): warn when the bus was full, wake waiters. */
static void
bus_written(bool stored)
{
	if (!stored)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the market bus is full"),
				 errhint("Raise zvt.bus_size (%d) and restart.", zvt_bus_size)));
	pg_atomic_fetch_add_u64(&bus->generation, 1);
	if (stored)
	{
		Latch	   *latch = bus->matcher_latch;

		/* a price moved: resting paper orders may fill now */
		if (latch)
			SetLatch(latch);
	}
}

/*
 * The paper matcher registers its latch (NULL when it leaves) so that every
 * price written to the bus wakes it.
 */
void
bus_set_matcher_latch(Latch *latch)
{
	bus->matcher_latch = latch;
	pg_write_barrier();
}

/*
 * A paper order was left resting: the launcher starts the matcher when this
 * generation moved past the one at which the matcher last found no order.
 */
void
bus_paper_orders_rest(void)
{
	bus_require();
	pg_atomic_fetch_add_u64(&bus->paper, 1);
}

uint64
bus_paper_generation(void)
{
	return bus ? pg_atomic_read_u64(&bus->paper) : 0;
}

/* Record a trade; dropped with a WARNING when the bus is full. */
void
bus_put_trade(int32 instrument_id, double price, double qty, TimestampTz ts)
{
	BusEntry   *e;

	bus_require();
	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	e = bus_slot(instrument_id, true);
	if (e && (e->last_ts <= ts || isnan(e->last)))
	{
		e->last = price;
		e->last_qty = qty;
		e->last_ts = ts;
		e->updates++;
		e->trades++;
	}
	LWLockRelease(bus->lock);
	bus_written(e != NULL);
}

void
bus_put_quote(int32 instrument_id, double bid, double bid_qty, double ask, double ask_qty,
			  TimestampTz ts)
{
	BusEntry   *e;

	bus_require();
	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	e = bus_slot(instrument_id, true);
	if (e && (e->quote_ts <= ts || isnan(e->bid)))
	{
		e->bid = bid;
		e->bid_qty = bid_qty;
		e->ask = ask;
		e->ask_qty = ask_qty;
		e->quote_ts = ts;
		e->updates++;
		e->quotes++;
	}
	LWLockRelease(bus->lock);
	bus_written(e != NULL);
}

/* Copy the entry of instrument_id into *out; false when the bus has none. */
bool
bus_get(int32 instrument_id, BusEntry *out)
{
	BusEntry   *e;

	bus_require();
	LWLockAcquire(bus->lock, LW_SHARED);
	e = bus_slot(instrument_id, false);
	if (e)
		*out = *e;
	LWLockRelease(bus->lock);
	return e != NULL;
}

/* Drop instrument_id from the bus (its row was deleted); no-op without the bus. */
void
bus_forget(int32 instrument_id)
{
	BusEntry   *e;

	if (!zvt_preloaded || bus == NULL)
		return;
	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	e = bus_slot(instrument_id, false);
	if (e)
		e->instrument_id = BUS_TOMBSTONE;
	LWLockRelease(bus->lock);
}

uint64
bus_generation(void)
{
	bus_require();
	return pg_atomic_read_u64(&bus->generation);
}

static void
bus_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && xact_flagged && bus)
		pg_atomic_fetch_add_u64(&bus->subscriptions, 1);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		xact_flagged = false;
}

/* Flag this transaction: at commit, feed workers re-read subscriptions. */
void
bus_subscriptions_changed(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(bus_xact_callback, NULL);
		callback_registered = true;
	}
	xact_flagged = true;
}

uint64
bus_subscription_generation(void)
{
	bus_require();
	return pg_atomic_read_u64(&bus->subscriptions);
}

/* ---- SQL ------------------------------------------------------------------ */

static Datum
float_or_null(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(v);
}

/* zvt._last_price(instrument_id int) RETURNS float8: NULL before any trade. */
Datum
zvt_last_price(PG_FUNCTION_ARGS)
{
	BusEntry	e;

	if (!bus_get(PG_GETARG_INT32(0), &e) || isnan(e.last))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(e.last);
}

/*
 * zvt._bus_entries() RETURNS TABLE (instrument_id int, last float8,
 *   last_qty float8, last_ts timestamptz, bid float8, bid_qty float8,
 *   ask float8, ask_qty float8, quote_ts timestamptz, updates bigint)
 */
Datum
zvt_bus_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BusEntry   *copy;
	int			n = 0;

	bus_require();
	InitMaterializedSRF(fcinfo, 0);
	/* copy under the lock, build tuples after: never palloc while holding it */
	copy = palloc(sizeof(BusEntry) * bus->nslots);
	LWLockAcquire(bus->lock, LW_SHARED);
	for (int i = 0; i < bus->nslots; i++)
		if (bus->slots[i].instrument_id > 0)
			copy[n++] = bus->slots[i];
	LWLockRelease(bus->lock);
	for (int i = 0; i < n; i++)
	{
		Datum		v[10];
		bool		nulls[10] = {false};

		v[0] = Int32GetDatum(copy[i].instrument_id);
		v[1] = float_or_null(copy[i].last, &nulls[1]);
		v[2] = float_or_null(copy[i].last_qty, &nulls[2]);
		v[3] = TimestampTzGetDatum(copy[i].last_ts);
		nulls[3] = copy[i].last_ts == 0;
		v[4] = float_or_null(copy[i].bid, &nulls[4]);
		v[5] = float_or_null(copy[i].bid_qty, &nulls[5]);
		v[6] = float_or_null(copy[i].ask, &nulls[6]);
		v[7] = float_or_null(copy[i].ask_qty, &nulls[7]);
		v[8] = TimestampTzGetDatum(copy[i].quote_ts);
		nulls[8] = copy[i].quote_ts == 0;
		v[9] = Int64GetDatum(copy[i].updates);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	PG_RETURN_VOID();
}

/*
 * zvt._bus_entry(instrument_id int) RETURNS record (last, last_qty, last_ts,
 *   bid, bid_qty, ask, ask_qty, quote_ts, trades, quotes)
 *
 * One instrument's entry, all NULL when the bus has none: what the trading
 * functions price and match paper orders with.
 */
Datum
zvt_bus_entry(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	BusEntry	e;
	Datum		v[10];
	bool		nulls[10];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (PG_ARGISNULL(0) || !bus_get(PG_GETARG_INT32(0), &e))
		PG_RETURN_NULL();
	memset(nulls, 0, sizeof(nulls));
	v[0] = float_or_null(e.last, &nulls[0]);
	v[1] = float_or_null(e.last_qty, &nulls[1]);
	v[2] = TimestampTzGetDatum(e.last_ts);
	nulls[2] = e.last_ts == 0;
	v[3] = float_or_null(e.bid, &nulls[3]);
	v[4] = float_or_null(e.bid_qty, &nulls[4]);
	v[5] = float_or_null(e.ask, &nulls[5]);
	v[6] = float_or_null(e.ask_qty, &nulls[6]);
	v[7] = TimestampTzGetDatum(e.quote_ts);
	nulls[7] = e.quote_ts == 0;
	v[8] = Int64GetDatum(e.trades);
	v[9] = Int64GetDatum(e.quotes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), v, nulls)));
}

/*
 * zvt._bus_publish(instrument_id int, price float8, qty float8,
 *   bid float8, bid_qty float8, ask float8, ask_qty float8, ts timestamptz)
 *
 * Put a trade (when price is not NULL) and/or a quote (when bid or ask is
 * not NULL) on the bus, as a feed worker would: the documented way for
 * tests and offline users to feed prices.  Not for ordinary roles.
 */
Datum
zvt_bus_publish(PG_FUNCTION_ARGS)
{
	int32		id;
	TimestampTz ts;
	double		px;
	double		bid;
	double		ask;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("instrument must not be null")));
	id = PG_GETARG_INT32(0);
	ts = PG_ARGISNULL(7) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(7);
	px = PG_ARGISNULL(1) ? NAN : PG_GETARG_FLOAT8(1);
	bid = PG_ARGISNULL(3) ? NAN : PG_GETARG_FLOAT8(3);
	ask = PG_ARGISNULL(5) ? NAN : PG_GETARG_FLOAT8(5);

	/* check everything before writing anything */
	if (!PG_ARGISNULL(1) && (!(px > 0) || isinf(px)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price must be a positive finite number, not %g", px)));
	if (!isnan(bid) && !isnan(ask) && bid > ask)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bid %g is above ask %g", bid, ask)));

	/*
	 * The quote first: a paper order that a trade triggers then sees the
	 * book as it stood with that trade.
	 */
	if (!PG_ARGISNULL(3) || !PG_ARGISNULL(5))
		bus_put_quote(id, bid, PG_ARGISNULL(4) ? NAN : PG_GETARG_FLOAT8(4),
					  ask, PG_ARGISNULL(6) ? NAN : PG_GETARG_FLOAT8(6), ts);
	if (!PG_ARGISNULL(1))
		bus_put_trade(id, px, PG_ARGISNULL(2) ? NAN : PG_GETARG_FLOAT8(2), ts);
	PG_RETURN_VOID();
}

/* zvt._subscriptions_changed(): flag the transaction (see the file head). */
Datum
zvt_subscriptions_changed(PG_FUNCTION_ARGS)
{
	bus_subscriptions_changed();
	PG_RETURN_VOID();
}

/*
 * zvt._bus_counters(OUT generation bigint, OUT subscriptions bigint): how
 * many times prices and subscriptions changed since server start.
 */
Datum
zvt_bus_counters(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[2];
	bool		nulls[2] = {false, false};

	bus_require();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	v[0] = Int64GetDatum((int64) bus_generation());
	v[1] = Int64GetDatum((int64) bus_subscription_generation());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}

/* Trigger on zvt.instruments: a deleted instrument leaves the bus. */
Datum
zvt_bus_forget_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		isnull;
	Datum		id;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "zvt_bus_forget_trigger must run as a row trigger on delete");
	id = heap_getattr(td->tg_trigtuple, 1, td->tg_relation->rd_att, &isnull);
	if (!isnull)
		bus_forget(DatumGetInt32(id));
	PG_RETURN_POINTER(td->tg_trigtuple);
}
