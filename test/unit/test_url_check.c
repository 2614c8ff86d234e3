/*
 * test/unit/test_url_check.c
 *	  feed_url_check() as an attacker would try it: URLs that look like
 *	  loopback and are not (a prefix, userinfo, a fragment, a subdomain, an
 *	  unresolvable name, a mapped remote address, 0.0.0.0) are refused;
 *	  TLS URLs pass unresolved; real loopback spellings pass, with the
 *	  numeric address to connect to.  Needs no network: the hostile names
 *	  are under .example and .invalid, which never resolve.
 *
 *	  usage: test_url_check.bin
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/url_check.h"
#include "unit_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static FeedUrl url;
static char reason[256];

static int
check(const char *u)
{
	memset(&url, 0x5a, sizeof(url));
	return feed_url_check(u, &url, reason, sizeof(reason));
}

static void
test_hostile(void)
{
	static const char *const remote[] = {
		"http://127.attacker.example/",	/* the old prefix check let this through */
		"ws://127.attacker.example:9443/ws",
		"http://127.0.0.1.attacker.example/",
		"http://localhost.attacker.example:80/",
		"ws://localhost.attacker.invalid/",
		"http://127.0.0.1@attacker.example/",	/* userinfo: the host is attacker.example */
		"http://127.0.0.1:80@attacker.example:80/",
		"http://attacker.example#@127.0.0.1/",
		"http://attacker.example?@127.0.0.1/",
		"http://[::ffff:10.1.2.3]/",	/* IPv4-mapped, not loopback */
		"http://0.0.0.0:8080/",
		"http://[::]/",
		"http://10.0.0.1/",
		"http://192.168.1.1:19500/",
		"ws://169.254.169.254/latest/meta-data",
	};
	FeedUrl		keep;

	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
	{
		int			rc = check(remote[i]);

		CHECK(rc == FEED_URL_NOT_LOOPBACK);
		if (rc != FEED_URL_NOT_LOOPBACK)
			fprintf(stderr, "  accepted %s (rc %d)\n", remote[i], rc);
		CHECK(reason[0] != '\0');
	}
	/* on error *out is unaltered */
	memset(&keep, 0x5a, sizeof(keep));
	CHECK(memcmp(&keep, &url, sizeof(url)) == 0);
	CHECK(check("http://127.attacker.example/") == FEED_URL_NOT_LOOPBACK &&
		  strstr(reason, "127.attacker.example") != NULL);
	CHECK(check("http://[::ffff:10.1.2.3]/") == FEED_URL_NOT_LOOPBACK &&
		  strstr(reason, "not loopback") != NULL);
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"", "127.0.0.1:80", "//127.0.0.1/", "ftp://127.0.0.1/", "file:///etc/passwd",
		"gopher://127.0.0.1/", "http://", "javascript:alert(1)",
		"http://127.0.0.1\r\nHost: x/", "http://[::1/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		int			rc = check(bad[i]);

		CHECK(rc == FEED_URL_BAD);
		if (rc != FEED_URL_BAD)
			fprintf(stderr, "  did not refuse as malformed: %s (rc %d)\n", bad[i], rc);
	}
	CHECK(feed_url_check(NULL, &url, reason, sizeof(reason)) == FEED_URL_BAD);
	/* curl reads a host out of this one; whatever it is, it is not allowed */
	CHECK(check("http:///path") != FEED_URL_OK);
}

static void
test_allowed(void)
{
	/* TLS anywhere, not resolved */
	CHECK(check("https://api.binance.com") == FEED_URL_OK && url.tls && url.port == 443 &&
		  url.address[0] == '\0');
	CHECK_STR(url.host, "api.binance.com");
	CHECK_STR(url.path, "/");
	CHECK(check("wss://stream.binance.com:9443/ws") == FEED_URL_OK && url.tls && url.port == 9443);
	CHECK_STR(url.path, "/ws");
	CHECK(check("wss://127.attacker.example/") == FEED_URL_OK && url.tls);

	/* loopback in its spellings */
	CHECK(check("http://127.0.0.1:19500") == FEED_URL_OK && !url.tls && url.port == 19500);
	CHECK_STR(url.address, "127.0.0.1");
	CHECK(check("ws://127.0.0.1:19600/stream?streams=a/b") == FEED_URL_OK && url.port == 19600);
	CHECK_STR(url.path, "/stream?streams=a/b");
	CHECK_STR(url.scheme, "ws");
	CHECK(check("ws://127.1.2.3/") == FEED_URL_OK && url.port == 80);
	CHECK_STR(url.address, "127.1.2.3");
	CHECK(check("http://[::1]:8080/x") == FEED_URL_OK && url.port == 8080);
	CHECK_STR(url.host, "::1");
	CHECK_STR(url.address, "::1");
	CHECK(check("http://[::ffff:127.0.0.1]/") == FEED_URL_OK);
	CHECK(check("http://localhost:8080/") == FEED_URL_OK && url.address[0] != '\0');
	CHECK(check("HTTP://LOCALHOST:1/") == FEED_URL_OK && !url.tls);
}

static void
test_addresses(void)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	memset(&in4, 0, sizeof(in4));
	in4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.255.255.254", &in4.sin_addr);
	CHECK(feed_addr_is_loopback((struct sockaddr *) &in4));
	inet_pton(AF_INET, "128.0.0.1", &in4.sin_addr);
	CHECK(!feed_addr_is_loopback((struct sockaddr *) &in4));
	inet_pton(AF_INET, "126.255.255.255", &in4.sin_addr);
	CHECK(!feed_addr_is_loopback((struct sockaddr *) &in4));
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	CHECK(feed_addr_is_loopback((struct sockaddr *) &in6));
	inet_pton(AF_INET6, "::2", &in6.sin6_addr);
	CHECK(!feed_addr_is_loopback((struct sockaddr *) &in6));
	inet_pton(AF_INET6, "::ffff:127.0.0.9", &in6.sin6_addr);
	CHECK(feed_addr_is_loopback((struct sockaddr *) &in6));
	inet_pton(AF_INET6, "::127.0.0.1", &in6.sin6_addr);	/* IPv4-compatible: not loopback */
	CHECK(!feed_addr_is_loopback((struct sockaddr *) &in6));
	CHECK(!feed_addr_is_loopback(NULL));
}

int
main(void)
{
	test_hostile();
	test_malformed();
	test_allowed();
	test_addresses();
	/* the locality of an exchange's bases, without DNS */
	CHECK(feed_url_is_local("ws://127.0.0.1:19100"));
	CHECK(feed_url_is_local("https://localhost:443"));
	CHECK(feed_url_is_local("wss://[::1]:9443"));
	CHECK(!feed_url_is_local("wss://fstream.binance.com:443"));
	CHECK(!feed_url_is_local("https://10.0.0.1"));
	CHECK(!feed_url_is_local("not a url"));
	return unit_summary("test_url_check");
}
