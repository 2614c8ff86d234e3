/*-------------------------------------------------------------------------
 *
 * src/live/router_book.h
 *	  The order router's replies as read (router.c) and booked
 *	  (router_book.c), and the transaction every booking runs in.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_ROUTER_BOOK_H
#define ZVT_LIVE_ROUTER_BOOK_H

#include "live/route.h"

/* a reply read, waiting to be booked */
typedef struct RouterReply
{
	int64		order_id;
	LiveOp		op;
	LiveReply	rep;
} RouterReply;

/*
 * book replies of exchange ex: one transaction, one by one if it fails;
 * stops early (after a few) once the live generation moves from gen (0:
 * never); returns how many were booked
 */
extern int	router_book(int ex, const RouterReply *x, int n, uint64 gen);

/* run fn(arg) under SPI in a transaction of its own: false (rolled back, logged) if it raised */
extern bool router_xact(const char *activity, void (*fn) (void *arg), void *arg);

#endif							/* ZVT_LIVE_ROUTER_BOOK_H */
