/*
 * test/unit/test_curl_common.c
 *	  src/feed/curl_common.c: the body grown in a malloc'd buffer up to
 *	  its limit, and the rate-limit headers read from header lines.
 */
#include <stdlib.h>

#include "feed/curl_common.h"
#include "unit_test.h"

static void
test_append(void)
{
	char	   *buf = NULL;
	size_t		len = 0,
				cap = 0;

	CHECK(feed_curl_append(&buf, &len, &cap, "abc", 3, 16) == 1);
	CHECK(len == 3 && cap >= 4 && strcmp(buf, "abc") == 0);
	CHECK(feed_curl_append(&buf, &len, &cap, "defghij", 7, 16) == 1);
	CHECK(len == 10 && strcmp(buf, "abcdefghij") == 0);
	/* 10 + 6 + NUL passes 16: refused whole, the buffer as it was */
	CHECK(feed_curl_append(&buf, &len, &cap, "klmnop", 6, 16) == -1);
	CHECK(len == 10 && strcmp(buf, "abcdefghij") == 0);
	/* 10 + 5 + NUL = 16 fits exactly */
	CHECK(feed_curl_append(&buf, &len, &cap, "klmno", 5, 16) == 1);
	CHECK(len == 15 && strcmp(buf, "abcdefghijklmno") == 0);
	CHECK(feed_curl_append(&buf, &len, &cap, "", 0, 16) == 1 && len == 15);
	CHECK(feed_curl_append(&buf, &len, &cap, "p", 1, 16) == -1);
	free(buf);
}

static void
test_headers(void)
{
	int			retry = -1,
				weight = -1;
	char		longline[200];
	const char *h1 = "Retry-After: 17\r\n";
	const char *h2 = "x-mbx-used-weight-1m: 1234\r\n";
	const char *h3 = "Content-Type: application/json\r\n";

	feed_curl_rate_header(h3, strlen(h3), &retry, &weight);
	CHECK(retry == -1 && weight == -1);
	feed_curl_rate_header(h1, strlen(h1), &retry, &weight);
	CHECK(retry == 17 && weight == -1);
	feed_curl_rate_header(h2, strlen(h2), &retry, &weight);
	CHECK(retry == 17 && weight == 1234);
	/* a line of 128 bytes or more is passed over */
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "Retry-After: 99", 15);
	feed_curl_rate_header(longline, sizeof(longline), &retry, &weight);
	CHECK(retry == 17);
	/* not NUL-terminated: only n bytes are read */
	feed_curl_rate_header("Retry-After: 5999", 14, &retry, &weight);
	CHECK(retry == 5);
}

int
main(void)
{
	test_append();
	test_headers();
	return unit_summary("curl_common");
}
