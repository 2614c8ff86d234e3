/*-------------------------------------------------------------------------
 *
 * src/live/recon_fetch.h
 *	  Reconciliation's exchange-specific core, pure C: the signed requests
 *	  that list an account's open orders and its balances on each
 *	  exchange, and their replies read into plain arrays.
 *
 * Like route.h, nothing here talks to the network or to PostgreSQL:
 * reconcile.c sends the LiveRequest and hands the status and body back.
 * The endpoints (docs/live-trading.md, Reconciliation):
 *	 Binance  GET /api/v3/openOrders, GET /api/v3/account
 *	 Bybit	  GET /v5/order/realtime?category=spot, GET /v5/account/wallet-balance
 *	 OKX	  GET /api/v5/trade/orders-pending, GET /api/v5/account/balance
 *	 Coinbase GET /api/v3/brokerage/orders/historical/batch?order_status=OPEN,
 *			  GET /api/v3/brokerage/accounts
 * and the fill histories (reconcile_trades.c): Binance GET /api/v3/myTrades,
 * Bybit GET /v5/execution/list, OKX GET /api/v5/trade/fills, Coinbase GET
 * /api/v3/brokerage/orders/historical/fills.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_RECON_FETCH_H
#define LIVE_RECON_FETCH_H

#include "live/route.h"

typedef enum ReconList
{
	RL_OPEN_ORDERS, RL_BALANCES
} ReconList;

/* one open order as the exchange lists it */
typedef struct ReconOrder
{
	char		client_id[64];	/* "" when it has none */
	char		symbol[40];		/* as the exchange spells it */
	char		side[8];		/* buy sell */
	char		qty[40];
	char		price[40];
	LiveReply	rep;			/* status, exchange id, cumulative filled qty
								 * and quote, as a query would give them */
} ReconOrder;

/* one asset's balance: the total is free + locked */
typedef struct ReconBalance
{
	char		asset[24];
	char		free[48];
	char		locked[48];
} ReconBalance;

/* one trade of the exchange's fill history (reconcile_trades.c) */
typedef struct ReconTrade
{
	char		trade_id[64];
	char		order_id[64];	/* the exchange's order id */
	char		client_id[64];	/* "" when the history does not give it */
	char		symbol[40];		/* as the exchange spells it */
	char		qty[40];
	char		px[40];
	char		fee[48];		/* a charge, "" when unknown (a rebate) */
	char		fee_asset[24];
	int			maker;			/* 1 maker, 0 taker, -1 not said */
	int64_t		ts;				/* ms */
	int64_t		seq;			/* Binance: the trade id; OKX: the bill id */
} ReconTrade;

/* the largest page of each exchange's fill history */
#define RECON_TRADES_LIMIT(ex) ((ex) == LX_BINANCE ? 1000 : 100)

extern int	recon_build_trades(LiveExchange ex, const LiveCreds *cr, int64_t now_ms, const char *host,
							   const char *nonce_hex, const char *symbol, const char *from, int limit,
							   LiveRequest *out, const char **err);
extern int	recon_parse_trades(LiveExchange ex, long http, const char *body, size_t len, int limit,
							   ReconTrade *out, int max, char *next, size_t nextlen, LiveReply *fail);

extern int	recon_build(LiveExchange ex, ReconList what, const LiveCreds *cr, int64_t now_ms,
						const char *host, const char *nonce_hex, LiveRequest *out, const char **err);
extern int	recon_build_page(LiveExchange ex, ReconList what, const LiveCreds *cr, int64_t now_ms,
							 const char *host, const char *nonce_hex, const char *cursor, int limit,
							 LiveRequest *out, const char **err);
extern void recon_orders_next(LiveExchange ex, const char *body, size_t len, int limit, char *next, size_t n);
extern int	recon_parse_orders(LiveExchange ex, long http_status, const char *body, size_t len,
							   ReconOrder *out, int max, bool *more, LiveReply *fail);
extern int	recon_parse_balances(LiveExchange ex, long http_status, const char *body, size_t len,
								 ReconBalance *out, int max, LiveReply *fail);
extern int	recon_not_a_list(LiveExchange ex, long http_status, const char *body, size_t len,
							 const char *what, LiveReply *fail);

#endif							/* LIVE_RECON_FETCH_H */
