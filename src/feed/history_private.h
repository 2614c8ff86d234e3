/*-------------------------------------------------------------------------
 *
 * src/feed/history_private.h
 *	  What history.c and history_funding.c share; not for the rest of zvt.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_HISTORY_PRIVATE_H
#define FEED_HISTORY_PRIVATE_H

#include <jansson.h>

#include "feed/history.h"

/* in history_funding.c */
extern int	history_funding_page_rows(const char *exchange);
extern int	history_funding_url(const HistoryRequest *r, char *url, size_t len);
extern bool history_funding_row(json_t *row, const HistoryRequest *r, FeedEvent *e, int64_t *ms);

#endif							/* FEED_HISTORY_PRIVATE_H */
