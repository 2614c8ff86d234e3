/*-------------------------------------------------------------------------
 *
 * src/trading/order_args.c
 *	  The arguments of zvt.place_order: parsed into an OrderArgs (enums
 *	  for side, type and tif) once, and validated, before anything is
 *	  read or written.
 *
 * Every error here is 22023 (invalid parameter value) with a message that
 * says what is allowed; an invalid order writes nothing.  The checks that
 * need the instrument (lot size, tick size, minimum notional) and the
 * account (the exchange it trades on) come after the lookups, in
 * order_check_instrument() and order_check_min_notional().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "base/side.h"
#include "trading/order.h"

/* indexed by OrderType and OrderTif: the names SQL and the ledger use */
const char *const order_type_names[] = {
	"market", "limit", "stop", "stop_limit", "trailing_stop"
};
const char *const order_tif_names[] = {"gtc", "ioc", "fok"};

/* argument positions of zvt._place_order (after the caller's oid) */
enum
{
	ARG_CALLER,
	ARG_ACCOUNT,
	ARG_EXCHANGE,
	ARG_SYMBOL,
	ARG_SIDE,
	ARG_QTY,
	ARG_TYPE,
	ARG_PRICE,
	ARG_STOP_PRICE,
	ARG_TRAIL_PCT,
	ARG_TIF,
	ARG_CLIENT_ORDER_ID,
	ARG_POST_ONLY,
	ARG_REDUCE_ONLY
};

/* the text argument i, or NULL */
static char *
arg_text(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : TextDatumGetCString(PG_GETARG_DATUM(i));
}

/* the numeric argument i: false when NULL */
static bool
arg_num(FunctionCallInfo fcinfo, int i, Datum *out)
{
	*out = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	return !PG_ARGISNULL(i);
}

/* a value that is a positive finite number */
static bool
positive_finite(Datum v)
{
	Numeric		n = DatumGetNumeric(v);

	return !numeric_is_nan(n) && !numeric_is_inf(n) && num_cmp0(v) > 0;
}

/* s as an OrderType; false when it names none */
bool
order_type_parse(const char *s, OrderType *out)
{
	for (int i = 0; s != NULL && i <= ORDER_TRAILING_STOP; i++)
		if (strcmp(s, order_type_names[i]) == 0)
		{
			*out = (OrderType) i;
			return true;
		}
	return false;
}

/* s as an OrderTif; false when it names none */
bool
order_tif_parse(const char *s, OrderTif *out)
{
	for (int i = 0; s != NULL && i <= ORDER_FOK; i++)
		if (strcmp(s, order_tif_names[i]) == 0)
		{
			*out = (OrderTif) i;
			return true;
		}
	return false;
}

/* side, qty, type and tif */
static void
parse_basics(FunctionCallInfo fcinfo, OrderArgs *o)
{
	char	   *side = arg_text(fcinfo, ARG_SIDE);
	char	   *type = arg_text(fcinfo, ARG_TYPE);
	char	   *tif = arg_text(fcinfo, ARG_TIF);

	o->dir = zvt_side_dir(side);
	if (!arg_num(fcinfo, ARG_QTY, &o->qty) || !positive_finite(o->qty))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty must be a positive finite number, not %s",
						PG_ARGISNULL(ARG_QTY) ? "NULL" : num_str(o->qty))));
	if (!order_type_parse(type, &o->type))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown order type \"%s\"", type ? type : "NULL"),
				 errhint("Order types are market, limit, stop, stop_limit and trailing_stop.")));
	if (!order_tif_parse(tif, &o->tif))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time in force \"%s\"", tif ? tif : "NULL"),
				 errhint("Time in force is gtc, ioc or fok.")));
}

/* price, stop_price and trail_pct: each given exactly for the types that take it */
static void
parse_prices(FunctionCallInfo fcinfo, OrderArgs *o)
{
	const char *type = order_type_names[o->type];
	bool		limit_like = o->type == ORDER_LIMIT || o->type == ORDER_STOP_LIMIT;
	bool		stop_like = o->type == ORDER_STOP || o->type == ORDER_STOP_LIMIT;

	o->has_price = arg_num(fcinfo, ARG_PRICE, &o->price);
	o->has_stop = arg_num(fcinfo, ARG_STOP_PRICE, &o->stop_price);
	o->has_trail = arg_num(fcinfo, ARG_TRAIL_PCT, &o->trail_pct);
	if (limit_like && !o->has_price)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders need a price", type)));
	if (limit_like && !positive_finite(o->price))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price must be a positive finite number, not %s", num_str(o->price))));
	if (!limit_like && o->has_price)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no price", type),
				 errhint("Only limit and stop_limit orders have a limit price.")));
	if (stop_like && !o->has_stop)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders need a stop_price", type)));
	if (stop_like && !positive_finite(o->stop_price))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stop_price must be a positive finite number, not %s",
						num_str(o->stop_price))));
	if (!stop_like && o->has_stop)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no stop_price", type),
				 errhint("Only stop and stop_limit orders have a stop_price; a trailing_stop computes its own from trail_pct.")));
	if (o->type == ORDER_TRAILING_STOP)
	{
		if (!o->has_trail || numeric_is_nan(DatumGetNumeric(o->trail_pct)) ||
			num_cmp0(o->trail_pct) <= 0 || num_cmp(o->trail_pct, num_int(100)) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("trail_pct must be between 0 and 100 (exclusive), not %s",
							o->has_trail ? num_str(o->trail_pct) : "NULL")));
	}
	else if (o->has_trail)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s orders take no trail_pct", type)));
}

/* tif, post_only, reduce_only and client_order_id */
static void
parse_flags(FunctionCallInfo fcinfo, OrderArgs *o)
{
	if (o->tif != ORDER_GTC && o->type != ORDER_MARKET && o->type != ORDER_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tif %s applies to market and limit orders, not to %s orders",
						order_tif_names[o->tif], order_type_names[o->type])));
	if (PG_ARGISNULL(ARG_POST_ONLY) || PG_ARGISNULL(ARG_REDUCE_ONLY))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("post_only and reduce_only must not be null")));
	o->post_only = PG_GETARG_BOOL(ARG_POST_ONLY);
	o->reduce_only = PG_GETARG_BOOL(ARG_REDUCE_ONLY);
	if (o->post_only && (o->type != ORDER_LIMIT || o->tif != ORDER_GTC))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("post_only applies to gtc limit orders only")));

	/*
	 * The length is checked on the text before it is converted: a
	 * client_order_id of megabytes is refused at once (it could not be
	 * indexed anyway).
	 */
	o->client_order_id = NULL;
	if (!PG_ARGISNULL(ARG_CLIENT_ORDER_ID))
	{
		text	   *t = PG_GETARG_TEXT_PP(ARG_CLIENT_ORDER_ID);
		int			bytes = VARSIZE_ANY_EXHDR(t);
		int			chars = pg_mbstrlen_with_len(VARDATA_ANY(t), bytes);

		if (chars < 1 || chars > ORDER_CLIENT_ID_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("client_order_id must be 1 to %d characters long, not %d",
							ORDER_CLIENT_ID_MAX, chars),
					 errhint("Exchanges take client order ids of 32 to 64 characters; use a UUID or a short counter.")));
		o->client_order_id = text_to_cstring(t);
	}
}

/*
 * Parse and validate the arguments of zvt._place_order(caller oid,
 * account, exchange, symbol, side, qty, type, price, stop_price,
 * trail_pct, tif, client_order_id, post_only, reduce_only) into out;
 * 22023 for the first invalid one.
 */
void
order_args_parse(FunctionCallInfo fcinfo, OrderArgs *out)
{
	memset(out, 0, sizeof(OrderArgs));
	out->caller = PG_GETARG_OID(ARG_CALLER);
	out->account = arg_text(fcinfo, ARG_ACCOUNT);
	out->exchange = arg_text(fcinfo, ARG_EXCHANGE);
	out->symbol = arg_text(fcinfo, ARG_SYMBOL);
	parse_basics(fcinfo, out);
	parse_prices(fcinfo, out);
	parse_flags(fcinfo, out);
}

/*
 * The checks that need the instrument and the account: the account's
 * exchange (22023), the instrument's status (55000), qty a multiple of
 * the lot size and prices multiples of the tick size (22023).
 */
void
order_check_instrument(const OrderArgs *o, const OrderInstrument *ins,
					   const char *account_exchange, const char *account_name)
{
	if (account_exchange != NULL && strcmp(account_exchange, ins->exchange) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account \"%s\" trades on %s, not on %s",
						account_name, account_exchange, ins->exchange)));
	if (strcmp(ins->status, "trading") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s %s is not trading (status %s)", ins->exchange, ins->symbol,
						ins->status)));
	if (ins->has_lot && num_not_multiple(o->qty, ins->lot_size))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("qty %s is not a multiple of the lot size %s of %s %s", num_str(o->qty),
						num_str(ins->lot_size), ins->exchange, ins->symbol)));
	if (ins->has_tick)
	{
		bool		price_off = o->has_price && num_not_multiple(o->price, ins->tick_size);
		bool		stop_off = o->has_stop && num_not_multiple(o->stop_price, ins->tick_size);

		if (price_off || stop_off)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("price %s is not a multiple of the tick size %s of %s %s",
							price_off ? num_str(o->price) : num_str(o->stop_price),
							num_str(ins->tick_size), ins->exchange, ins->symbol)));
	}
}

/* qty × ref at least the instrument's minimum notional, when it has one (22023) */
void
order_check_min_notional(const OrderArgs *o, const OrderInstrument *ins, Datum ref)
{
	Datum		notional;

	if (!ins->has_min_notional)
		return;
	notional = num_mul(o->qty, ref);
	if (num_cmp(notional, ins->min_notional) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order notional %s is below the minimum %s of %s %s",
						num_str(num_trim(notional)), num_str(ins->min_notional),
						ins->exchange, ins->symbol),
				 errdetail("%s %s at %s.", o->dir == 1 ? "buy" : "sell", num_str(o->qty),
						   num_str(ref))));
}
