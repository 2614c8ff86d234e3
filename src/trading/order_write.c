/*-------------------------------------------------------------------------
 *
 * src/trading/order_write.c
 *	  Writing a new order: its row in zvt.orders, its first two events
 *	  in zvt.order_events and, when it rests, its share of zvt.exposure,
 *	  straight into the heap and the indexes (ledger_rows.c).
 *
 * What an INSERT's executor would check holds by construction here:
 * - the CHECK constraints of zvt.orders (side, type, qty > 0, tif, status)
 *   and of zvt.order_events (event) are what order_args.c allows;
 * - the foreign keys to zvt.accounts and zvt.instruments: their rows are
 *   locked FOR KEY SHARE here, as the triggers would, and an event's order
 *   is the row just written;
 * - unique indexes are checked by the index insertion itself.
 * The caller holds the account's lock (every write of an account's ledger
 * does) and has pushed the snapshot of ledger_snapshot_push(), so the
 * exposure row read here is the latest and updating it cannot race.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/sequence.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "trading/ledger.h"
#include "trading/order.h"
#include "trading/trading.h"

/* one exposure column and what the new order adds to it */
typedef struct ExposureDelta
{
	const char *name;
	Datum		add;
} ExposureDelta;

/* update the exposure row in old by the deltas d (open_orders + 1) */
static void
exposure_update(EState *estate, LedgerTarget *t, TupleTableSlot *old, const ExposureDelta *d,
				int nd)
{
	TupleDesc	desc = RelationGetDescr(t->rel);
	ItemPointerData otid = old->tts_tid;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	bool		update_indexes;
	TM_Result	res;

	slot_getallattrs(old);

	/*
	 * ON CONFLICT DO UPDATE SET open_orders = x.open_orders + 1, buy_qty =
	 * trim_scale(x.buy_qty + EXCLUDED.buy_qty), ...
	 */
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		Datum		v = old->tts_values[i];
		bool		isnull = old->tts_isnull[i];
		bool		done = false;

		if (att->attisdropped || strcmp(name, "account_id") == 0 ||
			strcmp(name, "instrument_id") == 0)
			continue;
		if (strcmp(name, "open_orders") == 0)
		{
			v = Int32GetDatum(DatumGetInt32(DirectFunctionCall2(int4pl, v, Int32GetDatum(1))));
			done = true;
		}
		for (int k = 0; !done && k < nd; k++)
			if (strcmp(name, d[k].name) == 0)
			{
				v = num_trim(num_add(v, d[k].add));
				done = true;
			}
		if (!done)
			v = datumCopy(v, att->attbyval, att->attlen);
		ledger_row_set(t, name, v, isnull);
	}
	res = table_tuple_update(t->rel, &otid, ledger_row_slot(t), GetCurrentCommandId(true),
							 GetActiveSnapshot(), InvalidSnapshot, true, &tmfd,
							 &lockmode, &update_indexes);
	if (res != TM_Ok)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
	if (update_indexes)
		list_free(ExecInsertIndexTuples(t->rri, t->slot, estate, true, false, NULL, NIL));
}

/* add the resting order w to its account's open-order totals */
static void
add_exposure(const Oid *oids, EState *estate, const OrderRow *w)
{
	LedgerTarget t;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *old;
	ScanKeyData keys[2];
	Datum		zero = num_int(0);
	Datum		qty = w->args->qty;
	Datum		notional = num_mul(qty, w->ref);
	bool		buy = w->args->dir == 1;
	ExposureDelta d[4] = {
		{"buy_qty", buy ? qty : zero},
		{"sell_qty", buy ? zero : qty},
		{"buy_notional", buy ? notional : zero},
		{"sell_notional", buy ? zero : notional}
	};

	ledger_target_open(estate, oids[TR_EXPOSURE], &t, 0, true);
	idx = index_open(oids[TR_EXPOSURE_PKEY], AccessShareLock);
	old = table_slot_create(t.rel, NULL);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(w->account_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(w->ins->id));
	scan = index_beginscan(t.rel, idx, GetActiveSnapshot(), 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	ledger_row_begin(&t);
	ledger_row_set(&t, "account_id", Int32GetDatum(w->account_id), false);
	ledger_row_set(&t, "instrument_id", Int32GetDatum(w->ins->id), false);
	if (index_getnext_slot(scan, ForwardScanDirection, old))
		exposure_update(estate, &t, old, d, lengthof(d));
	else
	{
		ledger_row_set(&t, "open_orders", Int32GetDatum(1), false);
		for (int k = 0; k < lengthof(d); k++)
			ledger_row_set(&t, d[k].name, d[k].add, false);
		ledger_row_insert(estate, &t);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(old);
	index_close(idx, NoLock);
	ledger_target_close(&t);
}

/* the order row itself; returns its order_id and leaves it in ot's slot */
static int64
insert_order(const Oid *oids, EState *estate, LedgerTarget *ot, const OrderRow *w,
			 const char *status)
{
	const OrderArgs *o = w->args;
	int64		order_id = nextval_internal(oids[TR_ORDERS_SEQ], false);
	bool		have_bus = w->prices->have_bus;
	TimestampTz now;

	ledger_row_begin(ot);
	ledger_row_set(ot, "order_id", Int64GetDatum(order_id), false);
	ledger_row_set(ot, "account_id", Int32GetDatum(w->account_id), false);
	ledger_row_set(ot, "instrument_id", Int32GetDatum(w->ins->id), false);
	ledger_row_set_text(ot, "exchange", w->ins->exchange);
	ledger_row_set_text(ot, "symbol", w->ins->symbol);
	ledger_row_set_text(ot, "side", o->dir == 1 ? "buy" : "sell");
	ledger_row_set_text(ot, "type", order_type_names[o->type]);
	ledger_row_set(ot, "qty", o->qty, false);
	ledger_row_set(ot, "price", o->price, !o->has_price);
	ledger_row_set(ot, "stop_price", w->stop_price, !w->has_stop);
	ledger_row_set(ot, "trail_pct", o->trail_pct, !o->has_trail);
	ledger_row_set_text(ot, "tif", order_tif_names[o->tif]);
	ledger_row_set(ot, "post_only", BoolGetDatum(o->post_only), false);
	ledger_row_set(ot, "reduce_only", BoolGetDatum(o->reduce_only), false);
	ledger_row_set_text(ot, "client_order_id", o->client_order_id);
	ledger_row_set_text(ot, "status", status);
	ledger_row_set(ot, "filled_qty", num_int(0), false);
	ledger_row_set(ot, "avg_fill_price", (Datum) 0, true);
	ledger_row_set(ot, "fees", num_int(0), false);
	ledger_row_set_text(ot, "reason", w->reason);
	ledger_row_set(ot, "triggered", BoolGetDatum(false), false);
	ledger_row_set(ot, "trail_ref", w->trail_ref, !w->has_trail_ref);
	ledger_row_set(ot, "reserve_price", w->ref, false);
	ledger_row_set(ot, "bus_trades_seen", Int64GetDatum(w->prices->e.trades), !have_bus);
	ledger_row_set(ot, "bus_quotes_seen", Int64GetDatum(w->prices->e.quotes), !have_bus);
	now = GetCurrentTimestamp();
	ledger_row_set(ot, "created_at", TimestampTzGetDatum(now), false);
	now = GetCurrentTimestamp();
	ledger_row_set(ot, "updated_at", TimestampTzGetDatum(now), false);
	ledger_row_insert(estate, ot);
	return order_id;
}

/*
 * its events: new, then accepted or rejected; a live order's one event,
 * new, leaves it pending_new (its router writes what the exchange says)
 */
static void
insert_events(const Oid *oids, EState *estate, const OrderRow *w, int64 order_id,
			  const char *status)
{
	LedgerTarget et;
	bool		pending = strcmp(status, "pending_new") == 0;

	ledger_target_open(estate, oids[TR_EVENTS], &et, 1, false);
	for (int i = 0; i < (pending ? 1 : 2); i++)
	{
		const char *event = i == 0 ? "new" : status;
		const char *after = pending ? status : event;
		int64		event_id = nextval_internal(oids[TR_EVENTS_SEQ], false);
		TimestampTz ts = GetCurrentTimestamp();

		ledger_row_begin(&et);
		ledger_row_set(&et, "event_id", Int64GetDatum(event_id), false);
		ledger_row_set(&et, "order_id", Int64GetDatum(order_id), false);
		ledger_row_set(&et, "account_id", Int32GetDatum(w->account_id), false);
		ledger_row_set(&et, "ts", TimestampTzGetDatum(ts), false);
		ledger_row_set_text(&et, "event", event);
		ledger_row_set_text(&et, "status", after);
		ledger_row_set(&et, "qty", w->args->qty, false);
		ledger_row_set(&et, "price", w->args->price, !w->args->has_price);
		ledger_row_set_text(&et, "reason", i == 0 ? NULL : w->reason);
		ledger_row_insert(estate, &et);
		/* this path fires no trigger: queue it for the event ring here */
		order_events_publish(event_id, order_id, w->account_id, ts, event, after,
							 w->args->qty, false, w->args->price, !w->args->has_price);
	}
	ledger_target_close(&et);
}

/*
 * Write the order w (accepted, or rejected with its reason; a live order
 * pending_new), its events "new" and then "accepted" or "rejected" (a
 * live order "new" only), and, when it rests, its exposure; returns the
 * order as a zvt.orders value.  oids are the relations of TradingRel.
 */
Datum
order_write(const Oid *oids, const OrderRow *w)
{
	EState	   *estate = CreateExecutorState();
	LedgerTarget ot;
	int64		order_id;
	const char *status = w->reason ? "rejected" : w->live ? "pending_new" : "accepted";
	Datum		result;

	ledger_lock_referenced(oids[TR_ACCOUNTS], (ItemPointer) &w->account_tid,
						   "orders_account_id_fkey", "account_id", w->account_id);
	ledger_lock_referenced(oids[TR_INSTRUMENTS], (ItemPointer) &w->ins->tid,
						   "orders_instrument_id_fkey", "instrument_id", w->ins->id);

	ledger_target_open(estate, oids[TR_ORDERS], &ot, 5, false);
	order_id = insert_order(oids, estate, &ot, w, status);
	result = heap_copy_tuple_as_datum(ExecFetchSlotHeapTuple(ot.slot, false, NULL),
									  RelationGetDescr(ot.rel));
	insert_events(oids, estate, w, order_id, status);
	ledger_target_close(&ot);

	if (w->rests)
		add_exposure(oids, estate, w);

	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	/* what follows (zvt._fill, zvt._close_order) sees these rows */
	CommandCounterIncrement();
	return result;
}
