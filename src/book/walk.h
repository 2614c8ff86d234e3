/*-------------------------------------------------------------------------
 *
 * src/book/walk.h
 *	  What a taker order would pay against a live order book: the VWAP of
 *	  the levels it takes (paper fills, src/trading).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BOOK_WALK_H
#define ZVT_BOOK_WALK_H

#include "fmgr.h"

/* in walk.c */
extern bool book_walk_price(int32 instrument_id, int dir, Datum qty, bool has_limit, Datum limit,
							Datum *price);

#endif							/* ZVT_BOOK_WALK_H */
