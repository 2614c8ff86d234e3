/*-------------------------------------------------------------------------
 *
 * src/metrics/http.h
 *	  The little HTTP/1.1 the metrics endpoint speaks (pure C, no
 *	  PostgreSQL): parse a request head, route it, write a response head.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_METRICS_HTTP_H
#define ZVT_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* the longest request head accepted (request line and headers) */
#define METRICS_HTTP_MAX_REQUEST 8192

/* the one path served */
#define METRICS_HTTP_PATH "/metrics"

typedef enum MetricsHttpParse
{
	METRICS_HTTP_INCOMPLETE,	/* no blank line yet: read more */
	METRICS_HTTP_OK,			/* a request line was parsed */
	METRICS_HTTP_BAD,			/* not HTTP/1.x: answer 400 */
	METRICS_HTTP_TOO_LARGE		/* the head exceeds the limit: answer 431 */
} MetricsHttpParse;

typedef struct MetricsRequest
{
	char		method[16];
	char		path[256];		/* the target without its query string */
	int			minor;			/* HTTP/1.minor */
} MetricsRequest;

/* in http.c */
extern MetricsHttpParse metrics_http_parse(const char *buf, size_t len, MetricsRequest *req);
extern int	metrics_http_route(const MetricsRequest *req, bool *send_body);
extern const char *metrics_http_reason(int status);
extern int	metrics_http_head(char *out, size_t outlen, int status,
							  const char *content_type, size_t body_len);

#endif							/* ZVT_METRICS_HTTP_H */
