/*-------------------------------------------------------------------------
 *
 * src/trading/order.h
 *	  An order on its way through zvt._place_order: its arguments parsed
 *	  into enums once, the instrument and the bus prices it is checked
 *	  against, and the row written; and numeric arithmetic exactly as SQL
 *	  does it.
 *
 * place_order.c runs the steps; order_args.c parses and validates the
 * arguments, order_price.c prices the order from the market bus,
 * order_write.c writes it.
 *
 * Wording: the touch is the best quote on the side an order takes (the ask
 * for a buy, the bid for a sell), else the last trade; the mark (mkt) is the
 * last trade, else the mid; the reference price (ref) is the price the
 * order's notional counts at.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_TRADING_ORDER_H
#define ZVT_TRADING_ORDER_H

#include "fmgr.h"
#include "storage/itemptr.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "bus/bus.h"

typedef enum OrderType
{
	ORDER_MARKET,
	ORDER_LIMIT,
	ORDER_STOP,
	ORDER_STOP_LIMIT,
	ORDER_TRAILING_STOP
} OrderType;

typedef enum OrderTif
{
	ORDER_GTC,
	ORDER_IOC,
	ORDER_FOK
} OrderTif;

/* The longest client_order_id, in characters (exchanges allow 32 to 64). */
#define ORDER_CLIENT_ID_MAX 64

/* The arguments of zvt.place_order, validated (order_args_parse). */
typedef struct OrderArgs
{
	Oid			caller;
	char	   *account;		/* NULL when NULL */
	char	   *exchange;
	char	   *symbol;
	int			dir;			/* +1 buy, -1 sell */
	Datum		qty;
	OrderType	type;
	OrderTif	tif;
	bool		has_price;		/* a limit price: limit and stop_limit */
	Datum		price;
	bool		has_stop;		/* stop and stop_limit; a trailing stop's is computed */
	Datum		stop_price;
	bool		has_trail;		/* trailing_stop */
	Datum		trail_pct;
	char	   *client_order_id;	/* NULL or 1 to ORDER_CLIENT_ID_MAX characters */
	bool		post_only;
	bool		reduce_only;
} OrderArgs;

/* The order's instrument, as read from zvt.instruments. */
typedef struct OrderInstrument
{
	int32		id;
	ItemPointerData tid;		/* the row version read, for its FOR KEY SHARE lock */
	char	   *exchange;
	char	   *symbol;
	char	   *status;
	bool		has_lot;
	Datum		lot_size;
	bool		has_tick;
	Datum		tick_size;
	bool		has_min_notional;
	Datum		min_notional;
} OrderInstrument;

/* The bus's prices for an order, as numeric where the order uses them. */
typedef struct OrderPrices
{
	bool		have_bus;		/* e holds the instrument's entry */
	BusEntry	e;
	bool		has_bid;
	bool		has_ask;
	bool		has_last;
	Datum		bid;			/* converted only when used: see order_prices_read */
	Datum		ask;
	Datum		last;
	bool		has_mkt;
	Datum		mkt;
	bool		has_touch;
	Datum		touch;
	bool		has_walk;		/* a market order on a live book (src/book/walk.c) */
	Datum		walk;			/* the VWAP of the levels it takes */
} OrderPrices;

/* What order_write writes: the values of the new order. */
typedef struct OrderRow
{
	const OrderArgs *args;
	int32		account_id;
	ItemPointerData account_tid;
	const OrderInstrument *ins;
	bool		has_stop;		/* args' stop_price, or a trailing stop's trigger */
	Datum		stop_price;
	bool		has_trail_ref;
	Datum		trail_ref;
	Datum		ref;			/* reserve_price */
	const OrderPrices *prices;	/* the bus counters seen */
	const char *reason;			/* NULL: accepted, else rejected */
	bool		rests;			/* counted in zvt.exposure */
	bool		live;			/* a live order: pending_new, for its router */
} OrderRow;

/* in order_args.c */
extern const char *const order_type_names[];
extern const char *const order_tif_names[];
extern bool order_type_parse(const char *s, OrderType *out);
extern bool order_tif_parse(const char *s, OrderTif *out);
extern void order_args_parse(FunctionCallInfo fcinfo, OrderArgs *out);
extern void order_check_instrument(const OrderArgs *o, const OrderInstrument *ins,
								   const char *account_exchange, const char *account_name);
extern void order_check_min_notional(const OrderArgs *o, const OrderInstrument *ins, Datum ref);

/* in order_price.c */
extern void order_prices_read(const OrderArgs *o, const OrderInstrument *ins, OrderPrices *p);
extern Datum order_trailing_stop(Datum mark, Datum trail_pct, int dir, bool has_tick,
								 Datum tick_size);
extern Datum order_reference_price(const OrderArgs *o, const OrderPrices *p, bool has_stop,
								   Datum stop_price);
extern bool order_marketable(const OrderArgs *o, const OrderPrices *p);

/* in order_write.c */
extern Datum order_write(const Oid *oids, const OrderRow *w);

/* ----------------------------------------------------------------
 * numeric arithmetic, exactly as SQL does it
 * ----------------------------------------------------------------
 */
static inline Datum
num_int(int64 v)
{
	return NumericGetDatum(int64_to_numeric(v));
}

static inline Datum
num_add(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_add, a, b);
}

static inline Datum
num_sub(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_sub, a, b);
}

static inline Datum
num_mul(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_mul, a, b);
}

static inline Datum
num_div(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_div, a, b);
}

static inline Datum
num_trim(Datum a)
{
	return DirectFunctionCall1(numeric_trim_scale, a);
}

static inline int
num_cmp(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

/* a compared with 0 (NaN sorts above everything, as in SQL) */
static inline int
num_cmp0(Datum a)
{
	return num_cmp(a, num_int(0));
}

static inline char *
num_str(Datum a)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, a));
}

/* a % m <> 0 */
static inline bool
num_not_multiple(Datum a, Datum m)
{
	return num_cmp0(DirectFunctionCall2(numeric_mod, a, m)) != 0;
}

#endif							/* ZVT_TRADING_ORDER_H */
