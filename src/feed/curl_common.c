/*-------------------------------------------------------------------------
 *
 * src/feed/curl_common.c
 *	  The pieces of a libcurl GET the feed part's two clients share
 *	  (curl_common.h): a body grown in a malloc'd buffer, the rate-limit
 *	  headers, plain-text sockets kept on loopback.  Plain C: called from
 *	  curl callbacks, where PostgreSQL's palloc and ereport must not run,
 *	  and from the backfill's fetch thread.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/curl_common.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "feed/url_check.h"

int
feed_curl_append(char **buf, size_t *len, size_t *cap, const char *ptr, size_t n, size_t max)
{
	if (*len + n + 1 > max)
		return -1;
	if (*len + n + 1 > *cap)
	{
		size_t		want = (*len + n + 1) * 2;
		char	   *p = realloc(*buf, want);

		if (!p)
			return 0;
		*buf = p;
		*cap = want;
	}
	memcpy(*buf + *len, ptr, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 1;
}

void
feed_curl_rate_header(const char *ptr, size_t n, int *retry_after, int *used_weight)
{
	char		line[128];

	if (n >= sizeof(line))
		return;
	memcpy(line, ptr, n);
	line[n] = '\0';
	if (strncasecmp(line, "Retry-After:", 12) == 0)
		*retry_after = atoi(line + 12);
	else if (strncasecmp(line, "X-MBX-USED-WEIGHT-1M:", 21) == 0)
		*used_weight = atoi(line + 21);
}

curl_socket_t
feed_curl_loopback_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void) arg;
	(void) purpose;
	if (!feed_addr_is_loopback(&a->addr))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype, a->protocol);
}
