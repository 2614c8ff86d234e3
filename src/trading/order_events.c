/*-------------------------------------------------------------------------
 *
 * src/trading/order_events.c
 *	  Rows of zvt.order_events to the market event ring, once their
 *	  transaction commits (bus/pending.c), for the Redis publisher's
 *	  per-account streams (zvt.redis_private) and other ring readers.
 *
 * Order events are written two ways: zvt._place_order writes an order's
 * first two events straight into the heap (order_write.c), which fires no
 * trigger, and calls order_events_publish for each; the PL/pgSQL paths
 * (fills, cancels, expiries, triggers) INSERT, and the AFTER INSERT
 * trigger order_events_publish (zvt._order_events_publish) queues those.
 * Either way the event reaches the ring only if the transaction commits,
 * and not at all when the server has no ring (zvt.event_ring_size = 0).
 * The ring's event holds what the row holds; a reader looks up the rest
 * (account name, symbol, side) in the committed rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "bus/bus.h"
#include "bus/events.h"
#include "trading/trading.h"

PG_FUNCTION_INFO_V1(zvt_order_events_publish);

static double
numeric_or_nan(Datum v, bool isnull)
{
	if (isnull)
		return get_float8_nan();
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, v));
}

/*
 * Queue one order event (a row of zvt.order_events just written in this
 * transaction) for the event ring.  qty and price are numeric Datums.
 */
void
order_events_publish(int64 event_id, int64 order_id, int32 account_id, TimestampTz ts,
					 const char *event, const char *status,
					 Datum qty, bool qty_null, Datum price, bool price_null)
{
	BusEvent	e;

	if (bus_events_ring() == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = BUS_EVENT_ORDER;
	e.install = bus_install();
	e.ts = ts;
	e.local_ts = ts;
	e.u.order.event_id = event_id;
	e.u.order.order_id = order_id;
	e.u.order.account_id = account_id;
	e.u.order.qty = numeric_or_nan(qty, qty_null);
	e.u.order.price = numeric_or_nan(price, price_null);
	strlcpy(e.u.order.event, event, sizeof(e.u.order.event));
	strlcpy(e.u.order.status, status, sizeof(e.u.order.status));
	bus_events_at_commit(&e);
}

/*
 * zvt._order_events_publish(): AFTER INSERT FOR EACH ROW on
 * zvt.order_events; queues the new row.
 */
Datum
zvt_order_events_publish(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	t;
	bool		n[8];
	Datum		v[8];
	static const char *const cols[8] = {"event_id", "order_id", "account_id", "ts", "event",
	"status", "qty", "price"};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("zvt._order_events_publish() must be fired AFTER INSERT FOR EACH ROW")));
	if (bus_events_ring() == NULL)
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(td->tg_relation);
	t = td->tg_trigtuple;
	for (int i = 0; i < 8; i++)
	{
		int			att = SPI_fnumber(desc, cols[i]);

		if (att <= 0)
			elog(ERROR, "zvt.order_events has no column \"%s\"", cols[i]);
		v[i] = heap_getattr(t, att, desc, &n[i]);
	}
	order_events_publish(DatumGetInt64(v[0]), DatumGetInt64(v[1]), DatumGetInt32(v[2]),
						 DatumGetTimestampTz(v[3]),
						 n[4] ? "" : TextDatumGetCString(v[4]), n[5] ? "" : TextDatumGetCString(v[5]),
						 v[6], n[6], v[7], n[7]);
	return PointerGetDatum(NULL);
}
