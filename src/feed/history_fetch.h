/*-------------------------------------------------------------------------
 *
 * src/feed/history_fetch.h
 *	  The backfill's next page, fetched and parsed on a thread of its own
 *	  while the worker writes the page before.
 *
 * Pure C (POSIX threads, libcurl, history.c; no PostgreSQL header): the
 * thread never touches PostgreSQL.  The worker checks the URL first
 * (rest_check_url), then hands it over with history_fetch_start; the
 * next pass asks history_fetch_take for the same URL and gets the page
 * parsed, or false when none is ready for it (it then fetches inline).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_HISTORY_FETCH_H
#define FEED_HISTORY_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "feed/history.h"

/* What the thread got for one URL. */
typedef struct HistoryFetch
{
	bool		got;			/* the server answered */
	long		status;
	char		error[256];		/* transport error when !got */
	int			retry_after;	/* -1 when absent */
	int			used_weight;	/* Binance's, -1 when absent */
	char	   *body;			/* malloc'd, NUL-terminated; the caller frees */
	size_t		len;
	bool		parsed;			/* status 200 and history_parse said yes */
	char		reason[256];	/* why history_parse said no */
	HistoryPage page;
	FeedEvent  *events;			/* the thread's buffer: valid until the next take or start */
} HistoryFetch;

/* Most pages the thread fetches ahead unasked. */
#define HISTORY_FETCH_AHEAD_MAX 8

/*
 * Start fetching url (already checked; plain: its sockets must be
 * loopback) for request r (its strings are copied) on the thread,
 * timeout_ms, ca_file (NULL: the system's); then up to ahead pages after
 * it (history_next: forward pages only), each as soon as the one before
 * is parsed, while fewer than HISTORY_FETCH_AHEAD_MAX wait to be taken.
 * The chain stops at a page that is not a good one (an error, a 429, not
 * the exchange's format), at one whose used weight is weight_stop or
 * more (-1: no limit), or at the end of r's range.  Nothing happens when
 * url is already fetched or on its way; another URL drops what was
 * fetched ahead.  False when the thread could not start.
 */
extern bool history_fetch_start(const char *url, const HistoryRequest *r, bool plain,
								long timeout_ms, const char *ca_file, volatile int *abort_flag,
								int ahead, int weight_stop);

/*
 * The fetch of url, waiting for it; false when none was started for it.
 * Pages are taken in the order fetched: a take for another URL than the
 * next one drops them all (what was fetched may be stale by then).
 */
extern bool history_fetch_take(const char *url, HistoryFetch *out);

#endif							/* FEED_HISTORY_FETCH_H */
