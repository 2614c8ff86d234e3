/*-------------------------------------------------------------------------
 *
 * src/trading/trading.h
 *	  What the trading core's C files call in each other: the relations
 *	  zvt._place_order uses, the pre-trade risk check (risk_sql.c),
 *	  the paper matcher's wake-up flag (paper_matcher.c) and order events
 *	  for the event ring (order_events.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_TRADING_H
#define ZVT_TRADING_H

#include "datatype/timestamp.h"
#include "storage/itemptr.h"

#include "trading/order.h"

/*
 * The relations, indexes and sequences zvt._place_order uses, an index
 * right after its table (place_order.c names them).
 */
typedef enum TradingRel
{
	TR_ACCOUNTS,
	TR_ACCOUNTS_NAME,
	TR_GRANTS,
	TR_GRANTS_PKEY,
	TR_INSTRUMENTS,
	TR_INSTRUMENTS_SYMBOL,
	TR_ORDERS,
	TR_ORDERS_CLIENT_ID,
	TR_EXPOSURE,
	TR_EXPOSURE_PKEY,
	TR_EVENTS,
	TR_ORDERS_SEQ,
	TR_EVENTS_SEQ,
	TR_COUNT
} TradingRel;

/* The ledger's relations and instruments seen, cached per call site. */
typedef struct RiskLedger RiskLedger;

/* One order as the risk check sees it; numerics are numeric Datums. */
typedef struct RiskCheckInput
{
	int32		account_id;
	ItemPointer account_tid;	/* where the caller read the account, or NULL */
	int32		instrument_id;
	bool		buy;
	Datum		qty;
	OrderType	type;
	OrderTif	tif;
	bool		has_price;
	Datum		price;
	bool		reduce_only;
	Datum		ref;			/* the price its notional counts at */
	bool		has_mkt;
	Datum		mkt;			/* the market price */
} RiskCheckInput;

/* in risk_sql.c */
extern RiskLedger *risk_ledger_create(Oid nsp, MemoryContext mcxt);
extern char *risk_check_order(RiskLedger *l, const RiskCheckInput *in);

/* in paper_matcher.c: at commit, tell the launcher a paper order rests */
extern void paper_orders_rest(void);

/* in order_events.c */
extern void order_events_publish(int64 event_id, int64 order_id, int32 account_id, TimestampTz ts,
								 const char *event, const char *status,
								 Datum qty, bool qty_null, Datum price, bool price_null);

#endif
