/*-------------------------------------------------------------------------
 *
 * src/feed/curl_common.h
 *	  What the feed part's two libcurl clients share (curl_common.c): the
 *	  backend's rest_client.c and the backfill's fetch thread
 *	  (history_fetch.c).  Plain C, no PostgreSQL: safe in curl callbacks
 *	  and off the main thread.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_CURL_COMMON_H
#define FEED_CURL_COMMON_H

#include <stddef.h>

#include <curl/curl.h>

/*
 * Append n bytes at ptr to the malloc'd buffer *buf (*len used, *cap
 * allocated), kept NUL-terminated: 1, or 0 when out of memory, or -1
 * (nothing appended) when the body and its NUL would pass max bytes.
 */
extern int	feed_curl_append(char **buf, size_t *len, size_t *cap, const char *ptr, size_t n,
							 size_t max);

/*
 * One response header line (n bytes at ptr, not NUL-terminated): the
 * rate-limit headers the backfill honours, Retry-After (seconds) into
 * *retry_after and Binance's X-MBX-USED-WEIGHT-1M into *used_weight;
 * any other line, or one of 128 bytes or more, leaves both alone.
 */
extern void feed_curl_rate_header(const char *ptr, size_t n, int *retry_after, int *used_weight);

/*
 * CURLOPT_OPENSOCKETFUNCTION of a plain-text request: a socket only to
 * a loopback address (the URL was checked, but curl resolves its name
 * again).
 */
extern curl_socket_t feed_curl_loopback_socket(void *arg, curlsocktype purpose,
											   struct curl_sockaddr *a);

#endif							/* FEED_CURL_COMMON_H */
