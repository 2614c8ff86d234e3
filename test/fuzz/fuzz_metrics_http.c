/*
 * test/fuzz/fuzz_metrics_http.c
 *	  libFuzzer harness for the metrics endpoint's HTTP/1.1 request
 *	  parser (src/metrics/http.c).
 *
 * The input is what a client sent.  A parsed request's method and path
 * must be NUL-terminated inside their buffers and its route a status the
 * reason table names (never the 500 fallback); the response head must fit and end in a blank line.
 */
#include "metrics/http.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	MetricsRequest req;
	MetricsHttpParse r;
	char	   *buf = malloc(size ? size : 1);

	/* an exact-size copy so ASan sees any read past what was received */
	memcpy(buf, data, size);
	memset(&req, 0x55, sizeof(req));
	r = metrics_http_parse(buf, size, &req);
	if (r == METRICS_HTTP_OK)
	{
		bool		send_body;
		int			status;
		char		head[512];
		int			n;

		if (memchr(req.method, '\0', sizeof(req.method)) == NULL ||
			memchr(req.path, '\0', sizeof(req.path)) == NULL)
			abort();
		status = metrics_http_route(&req, &send_body);
		if (strcmp(metrics_http_reason(status), "Internal Server Error") == 0)
			abort();
		n = metrics_http_head(head, sizeof(head), status, "text/plain", size);
		if (n <= 0 || (size_t) n >= sizeof(head) || strstr(head, "\r\n\r\n") == NULL)
			abort();
	}
	else if (r != METRICS_HTTP_INCOMPLETE && r != METRICS_HTTP_BAD && r != METRICS_HTTP_TOO_LARGE)
		abort();
	free(buf);
	return 0;
}
