/*
 * test/exsim/private.h
 *	  The simulator's private API: accounts, their orders and balances,
 *	  and the matching of orders against the simulator's market, shared by
 *	  the four exchanges' signed endpoints (priv_binance.c, priv_bybit.c,
 *	  priv_okx.c, priv_coinbase.c).
 *
 * Accounts come from --accounts FILE (one JSON object a line: exchange,
 * key, secret, passphrase, balances).  Amounts are exact: balances are
 * int128 counts of 10^-12 of an asset, prices ticks and quantities lots
 * of the symbol (market.h).  Spot semantics on every exchange: a buy
 * needs the quote asset, a sell the base asset, reserved while the order
 * rests.  Fees: 10 bps of the notional, in the quote asset, maker and
 * taker alike; an account may pay them otherwise, as real accounts do:
 * "fees":"received" in the asset the trade gives (a buy's base, as
 * Binance without BNB, Bybit and OKX spot), "bnb_price":"600" in BNB at
 * that price with 25% off (Binance's BNB payment) while it has the BNB.
 *
 * Matching: a market order fills at once at the touch (the best ask for
 * a buy); a limit order that crosses the touch fills at the touch as a
 * taker (a post-only one is refused instead), otherwise it rests and
 * each later market trade at or through its price fills min(remaining,
 * trade qty) at the order's price as a maker.  ioc/fok remainders
 * expire.
 */
#ifndef EXSIM_PRIVATE_H
#define EXSIM_PRIVATE_H

#include "exsim.h"

#define PRIV_MAX_ACCOUNTS	16
#define PRIV_MAX_ASSETS		16
#define PRIV_MAX_ORDERS		8192
#define PRIV_MAX_FILLS		16384
#define PRIV_SCALE			((__int128) 1000000000000LL)	/* 10^12 */

typedef enum PrivStatus
{
	PS_NEW, PS_PARTIAL, PS_FILLED, PS_CANCELED, PS_REJECTED, PS_EXPIRED
} PrivStatus;

typedef struct PrivAccount
{
	char		key[256];
	char		secret[1024];
	char		passphrase[128];
	bool		has_passphrase;
	char		pubpem[1024];	/* Coinbase: the public half of the secret */
	int			nassets;
	char		asset[PRIV_MAX_ASSETS][16];
	__int128	free[PRIV_MAX_ASSETS];	/* 10^-12 units */
	__int128	locked[PRIV_MAX_ASSETS];
	bool		fee_received;	/* "fees":"received": a fee in the asset the trade gives */
	__int128	bnb_price;		/* "bnb_price": pay fees in BNB at this quote price, 25% off */
} PrivAccount;

typedef struct PrivOrder
{
	int64_t		id;				/* exchange order id, ascending */
	int			acct;
	int			si;				/* market symbol */
	char		client_id[64];
	bool		buy;
	bool		market;
	bool		post_only;
	char		tif[4];			/* gtc ioc fok */
	int64_t		px;				/* ticks (limit; market: 0) */
	int64_t		qty;			/* lots */
	int64_t		filled;			/* lots */
	__int128	cum_quote;		/* 10^-12 quote units */
	__int128	fees;			/* 10^-12 quote units */
	__int128	reserved;		/* still locked for it, 10^-12 units */
	PrivStatus	status;
	int64_t		created_ms;		/* exchange (sim) clock */
	int64_t		updated_ms;
	bool		forgotten;		/* /priv/forget: queries no longer find it (archived) */
} PrivOrder;

typedef struct PrivFill
{
	int			order;			/* index in orders */
	int64_t		trade_id;
	int64_t		px;				/* ticks */
	int64_t		qty;			/* lots */
	__int128	fee;			/* 10^-12 units of fee_asset */
	char		fee_asset[16];	/* the quote unless the account pays otherwise */
	bool		maker;
	int64_t		ts;
} PrivFill;

typedef struct PrivState
{
	int			naccounts;
	PrivAccount acct[PRIV_MAX_ACCOUNTS];
	int			norders;
	PrivOrder	orders[PRIV_MAX_ORDERS];
	int			nfills;
	PrivFill	fills[PRIV_MAX_FILLS];
	int64_t		next_order_id;
	int64_t		next_trade_id;
	int			drop_reply;		/* fault: apply the next N orders, answer none */
	long		places;			/* place requests that reached priv_place */
	long		duplicates;		/* of them, refused: the client order id was taken */
} PrivState;

/* what one signed request looks like to an exchange's private endpoints */
typedef struct PrivRequest
{
	struct lws *wsi;
	const char *method;			/* GET POST DELETE */
	const char *path;
	const char *args;			/* query string, as sent */
	const char *body;			/* "" when none */
} PrivRequest;

/* append a string literal */
#define buf_lit(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

/* in private.c */
extern int	priv_load_accounts(const char *file, const char **err);
extern int	priv_find_account(Exchange *ex, const char *key);
extern int	priv_find_order(Exchange *ex, int acct, int64_t id, const char *client_id);
#define PRIV_PO_REFUSE	1		/* post_only: refuse an order that would take */
#define PRIV_PO_CANCEL	2		/* post_only: accept it, canceled */
extern int	priv_place(Exchange *ex, int acct, int si, const char *client_id, bool buy,
					   bool market, int64_t px, int64_t qty, const char *tif,
					   int post_only, const char **err);
extern int	priv_cancel(Exchange *ex, int o);
extern void priv_on_trade(Exchange *ex, int si, const MkTrade *t);
extern const char *priv_amount(__int128 v);
extern __int128 priv_balance(Exchange *ex, int acct, const char *asset, bool locked);
extern bool priv_open(const PrivOrder *o);
extern bool priv_parse_units(const char *s, int dec, int64_t *out);
extern bool priv_header(const PrivRequest *r, const char *name, char *out, size_t len);
extern bool priv_take_drop(Exchange *ex);
extern int	priv_symbol(Exchange *ex, const char *name, bool dashed);
extern bool priv_param(const PrivRequest *r, const char *name, char *out, size_t len);

extern void priv_fill(Exchange *ex, int oi, int64_t px, int64_t qty, bool maker);
extern int	priv_page_limit(const PrivRequest *r, const char *name, int dflt, int max);

/* in priv_reconcile.c: test-only admin endpoints (/priv/...) and the hold fault */
extern int	priv_admin(ExConn *c, const char *path, const char *args);
extern bool priv_hold_take(Exchange *ex, const char *path, const char *args);
extern __int128 priv_notional(const MkSymbol *s, int64_t px, int64_t qty);
extern __int128 priv_base_units(const MkSymbol *s, int64_t qty);

/* in priv_stream.c and priv_events.c: the private streams */
#define PRIV_KIND	100			/* ExConn.kind of a private stream connection */
extern bool pstream_refuse(Exchange *ex, const char *path);
extern bool pstream_accept(Exchange *ex, ExConn *c, const char *path);
extern void pstream_receive(Exchange *ex, ExConn *c, const char *msg, size_t len);
extern void pstream_coinbase_user(Exchange *ex, ExConn *c, const char *jwt, bool add);
extern int	pstream_binance_rest(Exchange *ex, ExConn *c, const PrivRequest *r);
extern int	pstream_admin(Exchange *ex, ExConn *c, const char *args);
extern void pstream_push(Exchange *ex, int acct, const char *msg, size_t len);
extern void pstream_push_coinbase(Exchange *ex, int acct, const char *event, size_t len);
extern void pstream_order(Exchange *ex, int oi, const PrivFill *f);

/* in priv_trades.c: the fill histories, after each exchange's authentication */
extern int	priv_trades_binance(Exchange *ex, ExConn *c, const PrivRequest *r, int a);
extern bool priv_trades_bybit(Exchange *ex, Buf *res, const PrivRequest *r, int a);
extern bool priv_trades_okx(Exchange *ex, Buf *d, const PrivRequest *r, int a);
extern int	priv_trades_coinbase(Exchange *ex, ExConn *c, const PrivRequest *r, int a);

/* one per exchange: 0 when the path is not a private endpoint */
extern int	priv_binance(Exchange *ex, ExConn *c, const PrivRequest *r);
extern int	priv_bybit(Exchange *ex, ExConn *c, const PrivRequest *r);
extern int	priv_okx(Exchange *ex, ExConn *c, const PrivRequest *r);
extern int	priv_coinbase(Exchange *ex, ExConn *c, const PrivRequest *r);

#endif
