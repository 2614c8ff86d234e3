/*-------------------------------------------------------------------------
 *
 * src/http/body.h
 *	  A request body read as PostgREST reads it (body.c, body_json.c,
 *	  body_csv.c): pure
 *	  C, no PostgreSQL header.  The raw bytes and the Content-Type in, a
 *	  refusal (status, code, message) or a neutral result out: the keys
 *	  of the first object (the column or argument names) and the JSON text
 *	  that write.c and rpc.c bind as one parameter.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_BODY_H
#define ZVT_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

/* deeper JSON nesting is refused as invalid (jansson's own limit) */
#define HTTP_BODY_MAX_DEPTH 2048

typedef struct HttpBodyOpts
{
	bool		rpc;			/* /rpc arguments, else rows for a table */
	bool		columns;		/* columns= given: array keys need not match */
	int			max_keys;		/* rpc: more distinct keys are refused; 0 none */
} HttpBodyOpts;

typedef enum HttpBodyShape
{
	HTTP_BODY_OBJECT,			/* one object */
	HTTP_BODY_ARRAY,			/* an array of objects (maybe empty) */
	HTTP_BODY_OTHER				/* a scalar (rows: none); rpc: any non-object */
} HttpBodyShape;

typedef struct HttpBody
{
	/* a refusal: status 0 when accepted */
	int			status;			/* 400 or 415 */
	const char *code;			/* "PGRST102", "PGRST107" */
	char	   *message;
	char	   *details;		/* NULL: none */

	/* accepted */
	HttpBodyShape shape;
	bool		csv;			/* read from text/csv */
	int			nrows;			/* objects (rows); rpc: 1 */
	int			nkeys;
	char	  **keys;			/* the first object's keys, distinct, in order */
	char	  **values;			/* each key's value in the first object (the
								 * last one of duplicates): a string's text,
								 * else the value's JSON text */
	char	   *json;			/* rows: a JSON array of the objects; rpc:
								 * the body, or {} for none */
	size_t		json_len;		/* strlen(json): never a NUL inside */
} HttpBody;

/*
 * Read body (len bytes, not NUL-terminated, NULL for none) sent with
 * Content-Type content_type (NULL: application/json).  Fills out and
 * returns true when accepted; false with out->status, code and message
 * set when refused.  Every string is malloc'd: http_body_free either way.
 */
extern bool http_body_read(const char *content_type, const char *body, size_t len,
						   const HttpBodyOpts *opts, HttpBody *out);
extern void http_body_free(HttpBody *b);

#endif							/* ZVT_HTTP_BODY_H */
