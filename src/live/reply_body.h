/*-------------------------------------------------------------------------
 *
 * src/live/reply_body.h
 *	  An exchange's HTTP reply body collected by libcurl into a
 *	  StringInfo, cut at a limit (reply_body.c): the router's orders, its
 *	  clock and reconciliation's reads share it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_REPLY_BODY_H
#define ZVT_LIVE_REPLY_BODY_H

#include <curl/curl.h>

#include "lib/stringinfo.h"

/*
 * What a transfer writes into: it must live until the transfer ends
 * (beside the handle, for a multi transfer).
 */
typedef struct ReplyBody
{
	StringInfo	buf;			/* the body is appended here */
	size_t		limit;			/* bytes at most; past them the transfer fails */
} ReplyBody;

extern void reply_body_attach(CURL *h, ReplyBody *rb, StringInfo buf, size_t limit);

#endif							/* ZVT_LIVE_REPLY_BODY_H */
