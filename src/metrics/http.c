/*-------------------------------------------------------------------------
 *
 * src/metrics/http.c
 *	  The metrics endpoint's HTTP: request heads in, response heads out.
 *
 * The server (metrics/worker.c) reads into a buffer of at most
 * METRICS_HTTP_MAX_REQUEST bytes and asks metrics_http_parse whether the
 * head is complete (a blank line, CRLF or bare LF as RFC 9112 allows).
 * Only the request line matters: the method, the target (its query
 * string dropped) and the version; headers are skipped and a body is
 * never read, since every connection closes after one response
 * ("Connection: close").  Routing: GET and HEAD of /metrics are 200, any
 * other method there 405 (with Allow), any other path 404.
 *
 *-------------------------------------------------------------------------
 */
#include "metrics/http.h"

#include <stdio.h>
#include <string.h>

/*
 * Parse the request head in buf[0..len): OK with *req filled once a blank
 * line ends it, INCOMPLETE before, BAD for a malformed request line,
 * TOO_LARGE when no head ends within METRICS_HTTP_MAX_REQUEST bytes.
 * Never reads past len.
 */
MetricsHttpParse
metrics_http_parse(const char *buf, size_t len, MetricsRequest *req)
{
	size_t		end = 0;
	size_t		line;
	size_t		i;
	size_t		sp1;
	size_t		sp2;
	size_t		tlen;
	bool		found = false;

	memset(req, 0, sizeof(*req));
	/* the end of the head: "\n\r\n" or "\n\n" */
	for (i = 0; i < len && !found; i++)
	{
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			end = i + 2, found = true;
		else if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			end = i + 3, found = true;
	}
	if (!found)
		return len >= METRICS_HTTP_MAX_REQUEST ? METRICS_HTTP_TOO_LARGE : METRICS_HTTP_INCOMPLETE;
	if (end > METRICS_HTTP_MAX_REQUEST)
		return METRICS_HTTP_TOO_LARGE;

	/* request line: METHOD SP target SP HTTP/1.x */
	for (line = 0; line < end && buf[line] != '\n'; line++)
		;
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	for (sp1 = 0; sp1 < line && buf[sp1] != ' '; sp1++)
		if (buf[sp1] < 'A' || buf[sp1] > 'Z')
			return METRICS_HTTP_BAD;
	if (sp1 == 0 || sp1 >= line || sp1 >= sizeof(req->method))
		return METRICS_HTTP_BAD;
	for (sp2 = sp1 + 1; sp2 < line && buf[sp2] != ' '; sp2++)
		if ((unsigned char) buf[sp2] <= ' ' || (unsigned char) buf[sp2] >= 0x7f)
			return METRICS_HTTP_BAD;
	if (sp2 == sp1 + 1 || sp2 >= line || buf[sp1 + 1] != '/')
		return METRICS_HTTP_BAD;
	if (line - sp2 - 1 != 8 || memcmp(buf + sp2 + 1, "HTTP/1.", 7) != 0 ||
		buf[sp2 + 8] < '0' || buf[sp2 + 8] > '9')
		return METRICS_HTTP_BAD;

	memcpy(req->method, buf, sp1);
	req->method[sp1] = '\0';
	for (tlen = 0; sp1 + 1 + tlen < sp2 && buf[sp1 + 1 + tlen] != '?'; tlen++)
		;
	if (tlen >= sizeof(req->path))
		tlen = sizeof(req->path) - 1;	/* too long for /metrics anyway: a 404 */
	memcpy(req->path, buf + sp1 + 1, tlen);
	req->path[tlen] = '\0';
	req->minor = buf[sp2 + 8] - '0';
	return METRICS_HTTP_OK;
}

/*
 * The status to answer req with; *send_body is false for HEAD (the head
 * then says the length the body would have).
 */
int
metrics_http_route(const MetricsRequest *req, bool *send_body)
{
	bool		get = strcmp(req->method, "GET") == 0;
	bool		head = strcmp(req->method, "HEAD") == 0;

	*send_body = !head;
	if (strcmp(req->path, METRICS_HTTP_PATH) != 0)
		return 404;
	if (!get && !head)
		return 405;
	return 200;
}

/* The reason phrase of the statuses this server sends. */
const char *
metrics_http_reason(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 400:
			return "Bad Request";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 431:
			return "Request Header Fields Too Large";
		case 503:
			return "Service Unavailable";
		default:
			return "Internal Server Error";
	}
}

/*
 * Write the response head of `status` for a body of body_len bytes of
 * content_type into out (outlen bytes).  Returns its length, or -1 when
 * it does not fit.  Every response closes the connection; a 405 says
 * which methods are allowed.
 */
int
metrics_http_head(char *out, size_t outlen, int status, const char *content_type,
				  size_t body_len)
{
	int			n;

	n = snprintf(out, outlen,
				 "HTTP/1.1 %d %s\r\n"
				 "Content-Type: %s\r\n"
				 "Content-Length: %zu\r\n"
				 "%s"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n",
				 status, metrics_http_reason(status), content_type, body_len,
				 status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t) n >= outlen)
		return -1;
	return n;
}
