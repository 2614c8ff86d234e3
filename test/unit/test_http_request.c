/*
 * test/unit/test_http_request.c
 *	  The HTTP front's shared request/response helpers
 *	  (src/http/request.c): header lookup and replacement, PostgREST's
 *	  error body byte for byte, and its SQLSTATE-to-status table.
 */
#include "http/request.h"
#include "unit_test.h"

#include <string.h>

int
main(void)
{
	HttpHeader	h[] = {{"accept", "text/csv"}, {"prefer", "count=exact"}};
	HttpRequest req = {.method = "GET", .path = "/t", .query = "", .headers = h, .nheaders = 2};
	HttpResponse resp = {0};

	CHECK_STR(http_request_header(&req, "prefer"), "count=exact");
	CHECK(http_request_header(&req, "range") == NULL);

	http_response_header(&resp, "Content-Range", "0-9/*", false);
	http_response_header(&resp, "content-range", "0-9/100", true);
	CHECK(resp.nheaders == 1);
	CHECK_STR(http_response_get_header(&resp, "CONTENT-RANGE"), "0-9/100");
	for (int i = 0; i < HTTP_MAX_RESPONSE_HEADERS + 5; i++)
		http_response_header(&resp, "X-Many", "v", false);
	CHECK(resp.nheaders == HTTP_MAX_RESPONSE_HEADERS);
	http_response_free(&resp);

	http_response_body(&resp, "abc", 3);
	http_response_error(&resp, 404, "PGRST205",
						"Could not find the table 'api.x' in the schema cache",
						NULL, "Perhaps you meant the table 'api.y'");
	CHECK(resp.status == 404);
	CHECK_STR(resp.body,
			  "{\"code\":\"PGRST205\",\"details\":null,"
			  "\"hint\":\"Perhaps you meant the table 'api.y'\","
			  "\"message\":\"Could not find the table 'api.x' in the schema cache\"}");
	CHECK(resp.body_len == strlen(resp.body));
	CHECK_STR(http_response_get_header(&resp, "content-type"), "application/json; charset=utf-8");
	/* quotes and control characters are escaped */
	http_response_error(&resp, 400, "22P02", "bad \"x\"\n", "d", NULL);
	CHECK_STR(resp.body, "{\"code\":\"22P02\",\"details\":\"d\",\"hint\":null,\"message\":\"bad \\\"x\\\"\\n\"}");
	http_response_free(&resp);
	CHECK(resp.nheaders == 0 && resp.body == NULL);

	CHECK(http_status_for_sqlstate("23505", false) == 409);
	CHECK(http_status_for_sqlstate("23503", false) == 409);
	CHECK(http_status_for_sqlstate("23502", false) == 400);
	CHECK(http_status_for_sqlstate("42501", true) == 401);
	CHECK(http_status_for_sqlstate("42501", false) == 403);
	CHECK(http_status_for_sqlstate("42P01", false) == 404);
	CHECK(http_status_for_sqlstate("42883", false) == 404);
	CHECK(http_status_for_sqlstate("42P17", false) == 500);
	CHECK(http_status_for_sqlstate("42703", false) == 400);
	CHECK(http_status_for_sqlstate("P0001", false) == 400);
	CHECK(http_status_for_sqlstate("P0002", false) == 500);
	CHECK(http_status_for_sqlstate("22012", false) == 400);
	CHECK(http_status_for_sqlstate("57014", false) == 504);
	CHECK(http_status_for_sqlstate("57P01", false) == 500);
	CHECK(http_status_for_sqlstate("53400", false) == 500);
	CHECK(http_status_for_sqlstate("53200", false) == 503);
	CHECK(http_status_for_sqlstate("25006", false) == 405);
	CHECK(http_status_for_sqlstate("25001", false) == 500);
	CHECK(http_status_for_sqlstate("08006", false) == 503);
	CHECK(http_status_for_sqlstate("0P000", false) == 403);
	CHECK(http_status_for_sqlstate("PT402", false) == 402);
	CHECK(http_status_for_sqlstate("PT999", false) == 400);
	/* found by fuzz_http_request: a 1xx is no final status */
	CHECK(http_status_for_sqlstate("PT109", false) == 400);
	CHECK(http_status_for_sqlstate("XX000", false) == 500);
	CHECK(http_status_for_sqlstate("", false) == 500);

	return unit_summary("test_http_request");
}
