/*-------------------------------------------------------------------------
 *
 * src/http/request.h
 *	  One HTTP request and its response, as the HTTP front's two halves
 *	  pass them.  The transport (workers, libwebsockets, JWT, roles,
 *	  transactions) fills an HttpRequest and hands it to the API layer
 *	  (PostgREST's grammar over the exposed schemas' tables, views and
 *	  functions, src/http/api.h), which fills the HttpResponse.  Pure C:
 *	  no PostgreSQL header, so both halves' pure parts are unit-tested
 *	  outside the server.
 *
 *	  Memory: everything an HttpRequest points to belongs to the caller
 *	  and lives until the response is sent.  An HttpResponse owns its
 *	  header strings and body (malloc'd); http_response_free releases
 *	  them.  A malloc failure aborts the worker process (it is restarted).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_REQUEST_H
#define ZVT_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* the most headers a response carries */
#define HTTP_MAX_RESPONSE_HEADERS 32

typedef struct HttpHeader
{
	char	   *name;			/* request: lower case; response: as sent */
	char	   *value;
} HttpHeader;

typedef struct HttpRequest
{
	const char *method;			/* "GET", "HEAD", "POST", "PATCH", "PUT",
								 * "DELETE", "OPTIONS" */
	const char *path;			/* still percent-encoded, without the query:
								 * "/candles", "/rpc/place_order", "/" */
	const char *query;			/* after '?', still percent-encoded; "" */
	const HttpHeader *headers;
	int			nheaders;
	const char *body;			/* not NUL-terminated; NULL when none */
	size_t		body_len;
	const char *role;			/* the role the request runs as */
	bool		anonymous;		/* no token: 42501 answers 401, not 403 */
} HttpRequest;

typedef struct HttpResponse
{
	int			status;			/* 0 until set */
	HttpHeader	headers[HTTP_MAX_RESPONSE_HEADERS];
	int			nheaders;
	char	   *body;			/* malloc'd; NULL when none */
	size_t		body_len;
} HttpResponse;

/* in request.c */

/* A request header's value by lower-case name, or NULL. */
extern const char *http_request_header(const HttpRequest *req, const char *name);

/* Add (or replace, when replace) a response header; copies both strings. */
extern void http_response_header(HttpResponse *resp, const char *name,
								 const char *value, bool replace);

/* A response header's value by name (case-insensitive), or NULL. */
extern const char *http_response_get_header(const HttpResponse *resp, const char *name);

/* Set the response body to a copy of data[0..len). */
extern void http_response_body(HttpResponse *resp, const char *data, size_t len);

/*
 * Make resp PostgREST's error response: status, Content-Type
 * application/json; charset=utf-8 and the body
 * {"code":...,"details":...,"hint":...,"message":...} (details and hint
 * null when NULL).  Replaces any body set before.
 */
extern void http_response_error(HttpResponse *resp, int status, const char *code,
								const char *message, const char *details,
								const char *hint);

/* Release what resp owns and zero it. */
extern void http_response_free(HttpResponse *resp);

/*
 * PostgREST's HTTP status for an SQLSTATE raised by the database
 * (PostgREST 14's table: 23505 -> 409, 42501 -> 401 when anonymous else
 * 403, 42P01/42883 -> 404, P0001 -> 400, 57014 -> 504, ...).
 */
extern int	http_status_for_sqlstate(const char *sqlstate, bool anonymous);

#endif							/* ZVT_HTTP_REQUEST_H */
