/*-------------------------------------------------------------------------
 *
 * src/trading/risk.h
 *	  The pre-trade risk check: fixed-point arithmetic over an order, the
 *	  account's state and its limits, and the reason text of a rejection.
 *
 * Pure C, no PostgreSQL header, so it is unit-tested outside the server
 * (test/unit/test_risk.c).  src/trading/risk_sql.c gathers the inputs
 * under the account's lock and calls risk_check().
 *
 * Amounts are fixed point: an fx_t holds value * 10^10 in a 128-bit
 * integer, exact for every amount with at most 10 decimal places (numeric
 * values with more are rounded half away from zero on the way in).
 * Products are compared without dividing (a * b > c * 10^10), so every
 * check is exact at its limit.  A product that would not fit is an
 * overflow, which rejects the order rather than guessing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_RISK_H
#define ZVT_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef __int128 fx_t;

#define FX_DIGITS 10
#define FX_ONE ((fx_t) 10000000000LL)

/* "123.45" (optionally signed) to fixed point; false when not a finite decimal or too large */
extern bool fx_parse(const char *s, fx_t *out);

/* fixed point to the shortest decimal text (no trailing zeros) into buf (64 bytes is enough) */
extern char *fx_format(fx_t v, char *buf, size_t len);

/* a limit that may be unset (NULL in zvt.risk_limits) */
typedef struct RiskLimit
{
	bool		set;
	fx_t		value;
} RiskLimit;

typedef struct RiskLimits
{
	RiskLimit	max_order_qty;
	RiskLimit	max_order_notional;
	RiskLimit	max_position_qty;
	RiskLimit	max_position_notional;
	RiskLimit	max_open_orders;	/* a count, in fixed point like the rest */
	RiskLimit	max_daily_loss;
	RiskLimit	price_band_pct;
	RiskLimit	max_orders_per_sec;
} RiskLimits;

/* fold other into into: where both are set the smaller (stricter) wins */
extern void risk_limits_tighten(RiskLimits *into, const RiskLimits *other);

typedef enum RiskState
{
	RISK_STATE_ACTIVE,
	RISK_STATE_REDUCING,
	RISK_STATE_HALTED,
	RISK_STATE_ORPHANED			/* its owner role was dropped: halted until reassigned */
} RiskState;

typedef struct RiskOrder
{
	int			dir;			/* +1 buy, -1 sell */
	fx_t		qty;
	bool		has_price;		/* a limit price (limit, stop_limit) */
	fx_t		price;
	bool		rests;			/* gtc and not market: it may stay open */
	bool		reduce_only;
	fx_t		ref;			/* the price its notional counts at */
	bool		has_mkt;		/* last trade, else mid */
	fx_t		mkt;
} RiskOrder;

/* What the account holds and has open, as the check needs it. */
typedef struct RiskAccount
{
	RiskState	state;
	bool		spot;			/* the order's instrument is spot (else perpetual) */
	fx_t		position;		/* in the order's instrument, signed */
	fx_t		open_buy_qty;	/* unfilled open buys of the instrument */
	fx_t		open_sell_qty;
	int64_t		open_orders;	/* of the whole account */
	int64_t		orders_last_second; /* non-rejected orders created in the last second */
	fx_t		taker_fee_bps;
	/* spot */
	fx_t		quote_balance;
	fx_t		reserved_buy_notional;	/* open spot buys in the same quote asset */
	fx_t		base_balance;
	fx_t		reserved_sell_qty;	/* open spot sells of the same base asset */
	/* perpetual margin: all in the instrument's quote asset */
	fx_t		leverage;
	fx_t		cash;			/* balance of the quote asset */
	fx_t		perp_unrealized;	/* of perpetual positions */
	fx_t		perp_notional;	/* sum |qty| * mark of perpetual positions */
	fx_t		perp_open_notional; /* open perpetual orders at their reserve prices */
	/* daily loss */
	fx_t		unrealized;		/* of every position of the account */
	fx_t		realized_today; /* realized PnL minus fees since 00:00 UTC */
} RiskAccount;

typedef enum RiskVerdict
{
	RISK_PASS = 0,
	RISK_HALTED,
	RISK_ORPHANED,
	RISK_REDUCING,
	RISK_REDUCE_ONLY,
	RISK_ORDERS_PER_SEC,
	RISK_OPEN_ORDERS,
	RISK_ORDER_QTY,
	RISK_ORDER_NOTIONAL,
	RISK_NO_MARKET,
	RISK_PRICE_BAND,
	RISK_POSITION_QTY,
	RISK_POSITION_NOTIONAL,
	RISK_DAILY_LOSS,
	RISK_BALANCE_BUY,
	RISK_BALANCE_SELL,
	RISK_MARGIN,
	RISK_OVERFLOW
} RiskVerdict;

typedef struct RiskResult
{
	RiskVerdict verdict;
	fx_t		limit;			/* the limit's value */
	fx_t		value;			/* what the order would make of it */
	fx_t		available;		/* balance, margin: what is there */
} RiskResult;

/* the first check the order fails, in the order docs/trading.md lists them */
extern RiskResult risk_check(const RiskOrder *o, const RiskAccount *a, const RiskLimits *l);

/* names for the reason text */
typedef struct RiskNames
{
	const char *account;
	const char *side;			/* buy, sell */
	const char *symbol;
	const char *base;
	const char *quote;
} RiskNames;

/* the reason of a rejection ("max_order_qty: limit 5, order 6"); "" for RISK_PASS */
extern char *risk_reason(const RiskResult *r, const RiskOrder *o, const RiskAccount *a,
						 const RiskNames *n, char *buf, size_t len);

#endif
