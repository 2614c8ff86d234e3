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
	FeedEvent  *events;			/* the thread's buffer: valid until the next start */
} HistoryFetch;

/*
 * Start fetching url (already checked; plain: its sockets must be
 * loopback) for request r (its strings are copied) on the thread,
 * timeout_ms, ca_file (NULL: the system's).  False when the thread could
 * not start or is still busy with another URL.
 */
extern bool history_fetch_start(const char *url, const HistoryRequest *r, bool plain,
								long timeout_ms, const char *ca_file, volatile int *abort_flag);

/*
 * The fetch of url, waiting for it; false when none was started for it.
 * Only the request right after a start can take it: a take for another
 * URL drops it (what it fetched may be stale by then).
 */
extern bool history_fetch_take(const char *url, HistoryFetch *out);

#endif							/* FEED_HISTORY_FETCH_H */
