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
	int32		account_id;		/* 0: not known (taken with a wait) */
	LiveOp		op;
	LiveReply	rep;
} RouterReply;

/*
 * book replies of exchange ex: one transaction, one by one if it fails;
 * stops early (after one) once the live generation moves from gen (0:
 * never); passes over a reply whose account another transaction holds
 * (unless it would book none); returns how many were booked, moved to
 * the front of x (the others keep their order after them)
 */
extern int	router_book(int ex, RouterReply *x, int n, uint64 gen);

/* run fn(arg) under SPI in a transaction of its own: false (rolled back, logged) if it raised */
extern bool router_xact(const char *activity, void (*fn) (void *arg), void *arg);

#endif							/* ZVT_LIVE_ROUTER_BOOK_H */
