/*-------------------------------------------------------------------------
 *
 * src/bus/functions.c
 *	  The market bus's SQL functions (sql/25_bus.sql): reading prices,
 *	  publishing them, its counters and the trigger that forgets deleted
 *	  instruments.
 *
 * Each reads or writes the bus through bus.c, which keys every entry by
 * the calling database and its installation of zvt: an instrument id
 * given here always means zvt.instruments.id of this database.
 *
 * Who may call what: reading (zvt._last_price, zvt._bus_entries,
 * zvt._bus_entry, zvt._bus_counters) is for everyone, as prices are public
 * data; publishing is revoked from PUBLIC in SQL (prices move paper
 * orders); zvt._bus_forget refuses to run as a trigger of any table but
 * zvt.instruments.  (zvt._subscriptions_changed is the feeds', in
 * feed/status.c.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "bus/bus.h"

PG_FUNCTION_INFO_V1(zvt_last_price);
PG_FUNCTION_INFO_V1(zvt_bus_entries);
PG_FUNCTION_INFO_V1(zvt_bus_funding);
PG_FUNCTION_INFO_V1(zvt_bus_entry);
PG_FUNCTION_INFO_V1(zvt_bus_publish);
PG_FUNCTION_INFO_V1(zvt_bus_counters);
PG_FUNCTION_INFO_V1(zvt_bus_forget_trigger);

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
 *
 * The entries of this database's instruments.
 */
Datum
zvt_bus_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BusEntry   *copy;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = bus_entries(&copy);
	for (int i = 0; i < n; i++)
	{
		Datum		v[10];
		bool		nulls[10] = {false};

		v[0] = Int32GetDatum(copy[i].key.instrument_id);
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
 * zvt._bus_funding() RETURNS TABLE (instrument_id int, mark_price float8,
 *   index_price float8, funding_rate float8, next_funding_time timestamptz,
 *   open_interest float8, ts timestamptz)
 *
 * The perpetuals of this database whose funding the bus holds.
 */
Datum
zvt_bus_funding(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BusEntry   *copy;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = bus_entries(&copy);
	for (int i = 0; i < n; i++)
	{
		Datum		v[7];
		bool		nulls[7] = {false};

		if (copy[i].funding_ts == 0)
			continue;
		v[0] = Int32GetDatum(copy[i].key.instrument_id);
		v[1] = float_or_null(copy[i].mark_price, &nulls[1]);
		v[2] = float_or_null(copy[i].index_price, &nulls[2]);
		v[3] = float_or_null(copy[i].funding_rate, &nulls[3]);
		v[4] = TimestampTzGetDatum(copy[i].next_funding_ts);
		nulls[4] = copy[i].next_funding_ts == 0;
		v[5] = float_or_null(copy[i].open_interest, &nulls[5]);
		v[6] = TimestampTzGetDatum(copy[i].funding_ts);
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

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	v[0] = Int64GetDatum((int64) bus_generation());
	v[1] = Int64GetDatum((int64) bus_subscription_generation());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}

/*
 * zvt._bus_forget(): the AFTER DELETE row trigger of zvt.instruments.
 * Deleted instruments leave the bus when the transaction commits.  (No
 * TRUNCATE trigger: the ledger's foreign keys and the append-only
 * zvt.order_events make TRUNCATE of zvt.instruments fail.)
 *
 * It acts for zvt.instruments of this database's installation only:
 * fired for any other table (a trigger a superuser made by mistake) it
 * raises 39P01 rather than let another table's rows name instruments.
 */
Datum
zvt_bus_forget_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			install;
	AttrNumber	idatt;
	bool		isnull;
	Datum		id;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("zvt._bus_forget() was not called by the trigger manager")));
	install = bus_install();
	if (!OidIsValid(install) || RelationGetRelid(td->tg_relation) != install)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("zvt._bus_forget() may only be a trigger on zvt.instruments, not on \"%s\"",
						RelationGetRelationName(td->tg_relation))));
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("zvt._bus_forget() must be fired AFTER DELETE FOR EACH ROW")));
	idatt = get_attnum(install, "id");
	if (idatt == InvalidAttrNumber)
		elog(ERROR, "zvt.instruments has no column \"id\"");
	id = heap_getattr(td->tg_trigtuple, idatt, td->tg_relation->rd_att, &isnull);
	if (!isnull)
		bus_forget_at_commit(install, DatumGetInt32(id));
	return PointerGetDatum(td->tg_trigtuple);
}
