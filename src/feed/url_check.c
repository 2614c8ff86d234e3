/*-------------------------------------------------------------------------
 *
 * src/feed/url_check.c
 *	  Decide whether zvt may talk to an exchange URL: https:// and wss://
 *	  to any host (certificates are verified where the connection is
 *	  made), http:// and ws:// only when the host is loopback.
 *
 * "Loopback" is a property of the addresses a host resolves to, never of
 * how its name is spelled: the URL is parsed with libcurl's URL API (so
 * "http://127.0.0.1@evil.example/" names the host evil.example, as curl
 * itself would connect there), the host is resolved with getaddrinfo, and
 * every address it yields must be in 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
 * A name that does not resolve is refused.  The caller then connects to
 * the numeric address returned in FeedUrl.address (the WebSocket client)
 * or checks each socket again as it opens (rest_client.c), so a name that
 * resolves differently a moment later (DNS rebinding) gains nothing.
 *
 * Pure C: no PostgreSQL header; the glue turns the results into errors.
 * getaddrinfo may block on DNS, but only plain-text URLs are resolved, and
 * those name the local machine.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "url_check.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int	resolve_loopback(const char *host, char *address, size_t addrlen,
							 char *reason, size_t reasonlen);

/*
 * True when sa is an IPv4 address in 127.0.0.0/8, the IPv6 loopback ::1,
 * or an IPv4-mapped IPv6 address in 127.0.0.0/8.  False for anything else,
 * including 0.0.0.0 and :: (which reach the local machine on some systems
 * but are not loopback addresses) and other families.
 */
bool
feed_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return memcmp(b, mapped, 12) == 0 && b[12] == 127;
	}
	return false;
}

/*
 * Resolve host; FEED_URL_OK with the first address in `address` when every
 * address is loopback, FEED_URL_NOT_LOOPBACK with a reason otherwise
 * (including when the name does not resolve).
 */
static int
resolve_loopback(const char *host, char *address, size_t addrlen,
				 char *reason, size_t reasonlen)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0)
	{
		snprintf(reason, reasonlen, "host \"%s\" does not resolve: %s", host, gai_strerror(rc));
		return FEED_URL_NOT_LOOPBACK;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next)
	{
		char		text[INET6_ADDRSTRLEN] = "?";

		if (feed_addr_is_loopback(a->ai_addr))
			continue;
		if (a->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) a->ai_addr)->sin_addr, text, sizeof(text));
		else if (a->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) a->ai_addr)->sin6_addr, text, sizeof(text));
		snprintf(reason, reasonlen, "host \"%s\" resolves to %s, which is not loopback", host, text);
		freeaddrinfo(res);
		return FEED_URL_NOT_LOOPBACK;
	}
	if (res->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *) res->ai_addr)->sin_addr, address, addrlen);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) res->ai_addr)->sin6_addr, address, addrlen);
	freeaddrinfo(res);
	return FEED_URL_OK;
}

/* A part of u into buf; false when missing or too long. */
static bool
url_part(CURLU *u, CURLUPart what, unsigned flags, char *buf, size_t len)
{
	char	   *part = NULL;
	bool		ok;

	if (curl_url_get(u, what, &part, flags) != CURLUE_OK || part == NULL)
		return false;
	ok = strlen(part) < len;
	if (ok)
		memcpy(buf, part, strlen(part) + 1);
	curl_free(part);
	return ok;
}

/*
 * Check url.  Returns FEED_URL_OK and fills *out; FEED_URL_BAD when it is
 * not an absolute http, https, ws or wss URL with a host;
 * FEED_URL_NOT_LOOPBACK when it is plain text (http, ws) and its host is
 * not loopback or does not resolve.  On error `reason` says why (always
 * NUL-terminated) and *out is unaltered.
 */
int
feed_url_check(const char *url, FeedUrl *out, char *reason, size_t reasonlen)
{
	CURLU	   *u;
	FeedUrl		r;
	char		port[16];
	char		query[512] = "";
	int			rc = FEED_URL_OK;

	if (reasonlen > 0)
		reason[0] = '\0';
	memset(&r, 0, sizeof(r));
	u = curl_url();
	if (u == NULL)
	{
		snprintf(reason, reasonlen, "out of memory");
		return FEED_URL_BAD;
	}
	/* ws and wss are not schemes this libcurl speaks: parse them anyway */
	if (url == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		!url_part(u, CURLUPART_SCHEME, 0, r.scheme, sizeof(r.scheme)) ||
		!url_part(u, CURLUPART_HOST, 0, r.host, sizeof(r.host)) || r.host[0] == '\0')
	{
		snprintf(reason, reasonlen, "not an absolute URL with a host");
		curl_url_cleanup(u);
		return FEED_URL_BAD;
	}
	if (strcmp(r.scheme, "https") == 0 || strcmp(r.scheme, "wss") == 0)
		r.tls = true;
	else if (strcmp(r.scheme, "http") != 0 && strcmp(r.scheme, "ws") != 0)
	{
		snprintf(reason, reasonlen, "scheme \"%s\" is not http, https, ws or wss", r.scheme);
		curl_url_cleanup(u);
		return FEED_URL_BAD;
	}
	/* curl knows no default port for ws and wss */
	if (url_part(u, CURLUPART_PORT, 0, port, sizeof(port)))
		r.port = atoi(port);
	else
		r.port = r.tls ? 443 : 80;
	if (!url_part(u, CURLUPART_PATH, 0, r.path, sizeof(r.path)))
		snprintf(r.path, sizeof(r.path), "/");
	if (url_part(u, CURLUPART_QUERY, 0, query, sizeof(query)) &&
		strlen(r.path) + 1 + strlen(query) < sizeof(r.path))
		strcat(strcat(r.path, "?"), query);
	curl_url_cleanup(u);

	/* "[::1]" -> "::1" for the resolver */
	if (r.host[0] == '[')
	{
		size_t		n = strlen(r.host);

		if (n < 3 || r.host[n - 1] != ']')
		{
			snprintf(reason, reasonlen, "bad IPv6 host \"%s\"", r.host);
			return FEED_URL_BAD;
		}
		memmove(r.host, r.host + 1, n - 2);
		r.host[n - 2] = '\0';
	}
	if (!r.tls)
		rc = resolve_loopback(r.host, r.address, sizeof(r.address), reason, reasonlen);
	if (rc == FEED_URL_OK)
		*out = r;
	return rc;
}

/*
 * true when url names a loopback host without asking DNS: "localhost" or
 * a literal loopback address (127.x, ::1).  false otherwise, and for a
 * URL that does not parse.  zvt uses it to keep one exchange's spot and
 * futures bases from mixing a local simulator with a real exchange.
 */
bool
feed_url_is_local(const char *url)
{
	CURLU	   *h = curl_url();
	char	   *host = NULL;
	bool		local = false;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	if (h == NULL)
		return false;
	if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL)
	{
		size_t		n = strlen(host);
		char		bare[256];

		/* IPv6 literals come back bracketed */
		if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(bare))
			snprintf(bare, sizeof(bare), "%.*s", (int) (n - 2), host + 1);
		else
			snprintf(bare, sizeof(bare), "%s", host);
		memset(&in4, 0, sizeof(in4));
		memset(&in6, 0, sizeof(in6));
		in4.sin_family = AF_INET;
		in6.sin6_family = AF_INET6;
		if (strcasecmp(bare, "localhost") == 0)
			local = true;
		else if (inet_pton(AF_INET, bare, &in4.sin_addr) == 1)
			local = feed_addr_is_loopback((struct sockaddr *) &in4);
		else if (inet_pton(AF_INET6, bare, &in6.sin6_addr) == 1)
			local = feed_addr_is_loopback((struct sockaddr *) &in6);
	}
	curl_free(host);
	curl_url_cleanup(h);
	return local;
}
