/*-------------------------------------------------------------------------
 *
 * src/live/userstream.h
 *	  The exchanges' private streams (user data): their messages read into
 *	  UsEvents (userstream_parse.c), the login, subscribe and keepalive
 *	  messages built (same file), and the stream thread of a router that
 *	  keeps one connection per live account (userstream.c).  Pure C, no
 *	  PostgreSQL header: the router (router_stream.c) applies the events.
 *
 * Per exchange (src/live/README.md, docs/live-trading.md):
 *	 Binance   POST /api/v3/userDataStream gives a listenKey (PUT keeps it
 *			   alive), ws <ws_url>/ws/<listenKey>: executionReport,
 *			   outboundAccountPosition, listenKeyExpired
 *	 Bybit	   ws <ws_url>/v5/private, {"op":"auth"} then topics order,
 *			   execution, wallet; {"op":"ping"} every 20 s
 *	 OKX	   ws <ws_url>/ws/v5/private, {"op":"login"} then channels
 *			   orders (SPOT) and account; "ping" every 20 s
 *	 Coinbase  ws <ws_url>/, subscribe to channel user with a JWT
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_USERSTREAM_H
#define LIVE_USERSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "live/route.h"

typedef enum UsKind
{
	UE_NONE,					/* nothing for us (acks of pings, heartbeats) */
	UE_LOGGED_IN,				/* the login (auth) was accepted */
	UE_SUBSCRIBED,				/* a subscription was acknowledged */
	UE_AUTH_FAILED,				/* the exchange refused the login: reason */
	UE_ERROR,					/* an error message: reason */
	UE_EXPIRED,					/* Binance: the listenKey expired, reconnect */
	UE_ORDER,					/* an order update, maybe with an execution */
	UE_BALANCE					/* one asset's balance */
} UsKind;

typedef struct UsEvent
{
	UsKind		kind;
	char		client_id[64];	/* the order's client order id (ours: zvt...o<id>) */
	char		exchange_id[64];
	char		status[20];		/* new partially_filled filled canceled rejected
								 * expired, "" when the message does not say */
	char		filled_qty[40]; /* cumulative, "" when not given */
	char		filled_quote[48];	/* cumulative quote amount, "" when not given */
	char		avg_px[40];		/* average price (OKX), "" when not given */
	char		leaves_qty[40]; /* what is left of the order after it (Bybit) */
	char		trade_id[64];	/* the execution's trade id, "" when none */
	char		last_qty[40];	/* the execution's quantity and price */
	char		last_px[40];
	char		fee[40];		/* the execution's fee, positive = paid; "" when none */
	char		fee_asset[16];
	char		liquidity[8];	/* maker taker, "" when not given */
	char		asset[16];		/* UE_BALANCE */
	char		free[48];
	char		locked[48];
	char		reason[256];
} UsEvent;

/* the largest number of events one message gives */
#define US_MAX_EVENTS	64

/* in userstream_parse.c */
extern int	us_parse(LiveExchange ex, const char *msg, size_t len, UsEvent *out, int max);
extern int	us_login_message(LiveExchange ex, const LiveCreds *cr, int64_t now_ms,
							 const char *nonce_hex, char *out, size_t outsz);
extern int	us_subscribe_message(LiveExchange ex, const LiveCreds *cr, int64_t now_ms,
								 const char *nonce_hex, char *out, size_t outsz);
extern const char *us_ping_message(LiveExchange ex);
extern const char *us_ws_path(LiveExchange ex);
extern int64_t us_order_id(const char *client_id, uint64_t system_id);

/* in userstream.c: the stream thread */
typedef struct UsStream UsStream;

/* what the thread hands the router: an event of an account, or a notice */
typedef struct UsItem
{
	int32_t		account_id;
	bool		reconnected;	/* the account's stream is up again after a drop */
	bool		notice;			/* a LOG line for the router to write: ev.reason */
	UsEvent		ev;
} UsItem;

extern UsStream *us_start(LiveExchange ex, const char *ws_url, const char *rest_url,
						  const char *ca_file);
extern bool us_add_account(UsStream *s, int32_t account_id, const LiveCreds *cr);
/* whether account_id is streamed already (its key need not be opened again) */
extern bool us_has_account(UsStream *s, int32_t account_id);
extern void us_set_offset(UsStream *s, int64_t offset_ms);
extern int	us_take(UsStream *s, UsItem *out, int max);
/* readable while items wait to be taken (-1: none) */
extern int	us_wake_fd(UsStream *s);
extern void us_stop(UsStream *s);
extern int	us_connected(UsStream *s);

#endif							/* LIVE_USERSTREAM_H */
