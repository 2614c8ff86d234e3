/*-------------------------------------------------------------------------
 *
 * src/live/route.h
 *	  The order router's exchange-specific core, pure C: what each
 *	  exchange supports, the deterministic client order id, the signed
 *	  HTTP requests that place, query (by client order id) and cancel an
 *	  order (and any signed GET, for reconciliation), and the replies read
 *	  back into one normalized result.
 *
 * Nothing here talks to the network or to PostgreSQL: a caller builds a
 * LiveRequest, sends it however it likes (libcurl multi in the router)
 * and hands the status and body to live_parse_reply().  Strings in
 * LiveOrder are decimal text exactly as the ledger holds them; a request
 * carries them unchanged.  Requests are signed with sign.c/jwt.c at the
 * exchange clock the caller passes (skew.c).  Functions return 0, or -1
 * with `err` naming the problem (a value that does not fit, a signer
 * failure); they never abort.
 *
 * Wording: "client order id" is the id zvt chooses and the exchange
 * echoes (newClientOrderId, orderLinkId, clOrdId, client_order_id);
 * "exchange id" is the one the exchange assigns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_ROUTE_H
#define LIVE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum LiveExchange
{
	LX_BINANCE, LX_BYBIT, LX_OKX, LX_COINBASE, LX_NONE = -1
} LiveExchange;

/* An order as the router sends it. */
typedef struct LiveOrder
{
	const char *symbol;			/* normalized: BTC-USDT (spot only) */
	bool		buy;
	const char *type;			/* market limit stop stop_limit trailing_stop */
	const char *qty;			/* base quantity, decimal text */
	const char *price;			/* limit price, NULL for market */
	const char *tif;			/* gtc ioc fok */
	bool		post_only;
	bool		reduce_only;
	const char *client_id;		/* live_client_order_id() */
} LiveOrder;

/* What the router needs to sign: the account's credentials. */
typedef struct LiveCreds
{
	const char *api_key;		/* Coinbase: the key name */
	const char *secret;
	const char *passphrase;		/* OKX; NULL elsewhere */
} LiveCreds;

#define LIVE_MAX_HEADERS	8

/* One HTTP request, ready for libcurl. */
typedef struct LiveRequest
{
	char		method[8];		/* GET POST DELETE */
	char		path_query[2048];	/* appended to the exchange's REST base */
	char		body[2048];		/* "" when none */
	int			nheaders;
	char		headers[LIVE_MAX_HEADERS][2200];	/* "Name: value" */
} LiveRequest;

/* What a reply says. */
typedef enum LiveReplyKind
{
	LR_OK,						/* accepted, found or canceled: see status */
	LR_REJECTED,				/* the exchange refused the order or cancel: reason */
	LR_NOT_FOUND,				/* a query: the exchange has no such order */
	LR_AUTH,					/* key, signature or passphrase refused */
	LR_CLOCK,					/* timestamp outside the exchange's window */
	LR_RATE,					/* rate limited: try later */
	LR_UNKNOWN					/* 5xx, no reply, a body we cannot read */
} LiveReplyKind;

typedef enum LiveOp
{
	LO_PLACE, LO_QUERY, LO_CANCEL
} LiveOp;

typedef struct LiveReply
{
	LiveReplyKind kind;
	char		exchange_id[64];	/* "" when the reply has none */
	char		status[20];		/* new partially_filled filled canceled rejected
								 * expired, or "" when the reply does not say */
	char		filled_qty[40];	/* decimal text, "" when not given */
	char		filled_quote[48];	/* cumulative quote amount executed, "" when
									 * not given (avg price = quote / qty) */
	char		reason[256];	/* the exchange's code and message */
} LiveReply;

/* in route.c */
extern LiveExchange live_exchange(const char *name);
extern const char *live_exchange_name(LiveExchange ex);
extern const char *live_unsupported(LiveExchange ex, const LiveOrder *o);
extern int	live_client_order_id(uint64_t system_id, int64_t order_id, char *out, size_t outsz);
extern int	live_build(LiveExchange ex, LiveOp op, const LiveCreds *cr, const LiveOrder *o,
					   const char *exchange_id, int64_t now_ms, const char *host,
					   const char *nonce_hex, LiveRequest *out, const char **err);
extern int	live_build_get(LiveExchange ex, const LiveCreds *cr, const char *path, const char *query,
						   int64_t now_ms, const char *host, const char *nonce_hex, LiveRequest *out,
						   const char **err);
extern void live_parse_reply(LiveExchange ex, LiveOp op, long http_status,
							 const char *body, size_t len, const char *client_id,
							 LiveReply *out);

#endif							/* LIVE_ROUTE_H */
