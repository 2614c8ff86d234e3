/*-------------------------------------------------------------------------
 *
 * src/feed/url_check.h
 *	  Which exchange URLs zvt talks to: TLS anywhere, plain text only to
 *	  loopback.  Plain C (libcurl's URL parser, getaddrinfo); no PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_URL_CHECK_H
#define FEED_URL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* feed_url_check() results */
#define FEED_URL_OK				0
#define FEED_URL_BAD			(-1)	/* not an http(s):// or ws(s):// URL */
#define FEED_URL_NOT_LOOPBACK	(-2)	/* plain text to a host that is not loopback */

/* A checked URL. */
typedef struct FeedUrl
{
	bool		tls;			/* https:// or wss:// */
	char		scheme[8];		/* "http", "https", "ws" or "wss" */
	char		host[256];		/* as written, IPv6 without its brackets */
	int			port;			/* explicit or the scheme's default */
	char		path[1024];		/* path and query, at least "/" */
	char		address[64];	/* plain text: the numeric loopback address the
								 * host resolved to (connect there, not to
								 * the name again); "" with TLS */
} FeedUrl;

/* in url_check.c */
extern int	feed_url_check(const char *url, FeedUrl *out, char *reason, size_t reasonlen);
extern bool feed_addr_is_loopback(const struct sockaddr *sa);
extern bool feed_url_is_local(const char *url);

#endif							/* FEED_URL_CHECK_H */
