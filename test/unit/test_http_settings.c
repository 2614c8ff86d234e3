/*
 * test/unit/test_http_settings.c
 *	  Unit tests of src/http/settings.c: request.headers, request.cookies
 *	  and the anonymous claims as JSON, and response.headers applied to a
 *	  response (refusing what could split the response head).
 */
#include "http/settings.h"

#include <stdlib.h>

#include "unit_test.h"

static void
check_json(char *got, const char *want)
{
	CHECK_STR(got, want);
	free(got);
}

int
main(void)
{
	HttpHeader	h[] = {
		{"host", "x"}, {"cookie", "a=1; b=two=2;  c=; =bad; d"}, {"prefer", "tx=rollback"},
	};
	HttpRequest req = {.method = "GET", .path = "/", .query = "", .headers = h, .nheaders = 3};
	HttpRequest none = {.method = "GET", .path = "/", .query = ""};
	HttpResponse resp = {0};

	check_json(http_headers_json(&req), "{\"host\":\"x\",\"cookie\":\"a=1; b=two=2;  c=; =bad; d\",\"prefer\":\"tx=rollback\"}");
	check_json(http_cookies_json(&req), "{\"a\":\"1\",\"b\":\"two=2\",\"c\":\"\"}");
	check_json(http_cookies_json(&none), "{}");
	check_json(http_role_claims("web\"anon"), "{\"role\":\"web\\\"anon\"}");

	http_response_header(&resp, "Content-Type", "application/json", false);
	CHECK(http_apply_response_headers(&resp, "[{\"X-A\":\"1\"},{\"content-type\":\"text/csv\"}]") == 0);
	CHECK_STR(http_response_get_header(&resp, "x-a"), "1");
	CHECK_STR(http_response_get_header(&resp, "Content-Type"), "text/csv");
	CHECK(resp.nheaders == 2);
	CHECK(http_apply_response_headers(&resp, "{\"X-A\":\"1\"}") == -1);
	CHECK(http_apply_response_headers(&resp, "[{\"X-A\":1}]") == -1);
	CHECK(http_apply_response_headers(&resp, "[{\"X-A\":\"1\",\"X-B\":\"2\"}]") == -1);
	CHECK(http_apply_response_headers(&resp, "[{\"X-A\":\"1\\r\\nSet-Cookie: x\"}]") == -1);
	CHECK(http_apply_response_headers(&resp, "[{\"X-A\\r\\nY\":\"1\"}]") == -1);
	CHECK(http_apply_response_headers(&resp, "not json") == -1);
	CHECK(http_response_get_header(&resp, "Set-Cookie") == NULL);
	http_response_free(&resp);
	return unit_summary("http_settings");
}
