/*
 * test/unit/test_redis_url.c
 *	  zvt.redis_url's parser (src/redis/url.c): defaults, user and
 *	  password (percent-encoded, password alone), IPv6, db, TLS, and the
 *	  hostile and malformed URLs it must refuse with a reason.
 */
#include "redis/url.h"

#include <stdio.h>
#include <string.h>

#include "unit_test.h"

static RedisUrl u;
static char reason[200];

static bool
ok(const char *url)
{
	reason[0] = '\0';
	return redis_url_parse(url, &u, reason, sizeof(reason));
}

int
main(void)
{
	CHECK(ok("redis://127.0.0.1"));
	CHECK_STR(u.host, "127.0.0.1");
	CHECK(u.port == 6379 && u.db == 0 && !u.tls && !u.has_password && u.user[0] == '\0');

	CHECK(ok("redis://zvt:s3cret@localhost:6380/2"));
	CHECK_STR(u.user, "zvt");
	CHECK_STR(u.password, "s3cret");
	CHECK(u.has_password && u.port == 6380 && u.db == 2);
	CHECK_STR(u.host, "localhost");

	CHECK(ok("redis://:only@h/"));
	CHECK(u.user[0] == '\0' && u.has_password);
	CHECK_STR(u.password, "only");
	CHECK(ok("redis://lonely@h"));	/* redis-cli: a lone userinfo is the password */
	CHECK(u.user[0] == '\0' && u.has_password);
	CHECK_STR(u.password, "lonely");

	CHECK(ok("redis://us%40er:p%3Ass%2Fw@h:1"));
	CHECK_STR(u.user, "us@er");
	CHECK_STR(u.password, "p:ss/w");
	CHECK(ok("redis://u:p@ss@h"));	/* the last '@' ends the userinfo */
	CHECK_STR(u.password, "p@ss");
	CHECK_STR(u.host, "h");

	CHECK(ok("redis://[::1]:7000/15"));
	CHECK_STR(u.host, "::1");
	CHECK(u.port == 7000 && u.db == 15);
	CHECK(ok("rediss://cache.example.com"));
	CHECK(u.tls);

	CHECK(!ok("http://h"));
	CHECK(strstr(reason, "redis://") != NULL);
	CHECK(!ok("redis://"));
	CHECK(!ok("redis://h:0"));
	CHECK(!ok("redis://h:65536"));
	CHECK(!ok("redis://h:12x"));
	CHECK(!ok("redis://h:"));
	CHECK(!ok("redis://h/x"));
	CHECK(!ok("redis://h/-1"));
	CHECK(!ok("redis://h/65536"));
	CHECK(!ok("redis://h?db=1"));
	CHECK(!ok("redis://h#x"));
	CHECK(!ok("redis://h o"));
	CHECK(!ok("redis://h\r\nAUTH x"));
	CHECK(!ok("redis://u:p%0@h"));
	CHECK(!ok("redis://u:p%00@h"));	/* an encoded NUL would cut the password */
	CHECK(!ok("redis://u:p%zz@h"));
	CHECK(!ok("redis://[::1"));
	CHECK(!ok("redis://[]:1"));
	CHECK(!ok("redis://[::1]x"));
	CHECK(!ok("redis://h;rm"));
	{
		char		longurl[1200];

		memset(longurl, 'a', sizeof(longurl));
		memcpy(longurl, "redis://", 8);
		longurl[sizeof(longurl) - 1] = '\0';
		CHECK(!ok(longurl));
		memcpy(longurl, "redis://u:", 10);
		longurl[600] = '@';
		CHECK(!ok(longurl));
	}
	return unit_summary("test_redis_url");
}
