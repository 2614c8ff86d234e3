/*-------------------------------------------------------------------------
 *
 * src/http/body_int.h
 *	  What the body files share (body.c, body_json.c, body_csv.c): growing
 *	  buffers, the JSON scanner, UTF-8 checks and the CSV reader.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_BODY_INT_H
#define ZVT_HTTP_BODY_INT_H

#include "http/body.h"

#include <stdbool.h>
#include <stddef.h>

/* malloc'd text that grows; data is NUL-terminated once anything was added */
typedef struct HttpBodyBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} HttpBodyBuf;

/* a position in JSON text: p moves toward end */
typedef struct BodyScan
{
	const char *p;
	const char *end;
} BodyScan;

/* in body_json.c; allocation failures abort */
extern void *http_body_xrealloc(void *p, size_t n);
extern char *http_body_strndup(const char *s, size_t n);
extern void http_body_buf_add(HttpBodyBuf *b, const char *s, size_t n);
/* s (valid UTF-8 without NUL) as a JSON string */
extern void http_body_buf_json_string(HttpBodyBuf *b, const char *s, size_t n);
extern bool http_body_utf8_valid(const unsigned char *s, size_t n);
extern void http_body_skip_ws(BodyScan *s);
/* a string at s->p, decoded into out unless NULL; false when invalid */
extern bool http_body_scan_string(BodyScan *s, HttpBodyBuf *out);
/* any value at s->p (whitespace first) at nesting depth; false when invalid */
extern bool http_body_scan_value(BodyScan *s, int depth);
/* the whole text is one JSON value, whitespace around it */
extern bool http_body_json_valid(const char *text, size_t len);

/*
 * in body_csv.c: text/csv as a JSON array of objects of strings (null
 * for an unquoted NULL).  Returns NULL and sets *why (PostgREST's
 * message) when it is not CSV of that shape.
 */
extern char *http_body_csv_to_json(const char *body, size_t len, size_t *json_len,
								   const char **why);

#endif							/* ZVT_HTTP_BODY_INT_H */
