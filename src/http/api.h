/*-------------------------------------------------------------------------
 *
 * src/http/api.h
 *	  The API layer's entry points, called by the HTTP workers
 *	  (src/http/worker.c and the transport around it).
 *
 *	  The transport authenticates the request (JWT or the anonymous role),
 *	  starts one transaction, runs SET LOCAL ROLE and the request.*
 *	  settings (request.jwt.claims, request.method, request.path,
 *	  request.headers, request.cookies), calls zvt.http_pre_request when
 *	  set, then calls http_api_serve.  http_api_serve resolves the path
 *	  against the schema cache of the exposed schemas (zvt.http_schemas,
 *	  Accept-Profile/Content-Profile), parses PostgREST's grammar, runs
 *	  SQL built only from catalog identifiers with every value a bound
 *	  parameter, and fills resp (status, headers such as Content-Range,
 *	  Content-Location, Location, the body).  Request errors (PGRSTnnn)
 *	  are answered in resp with http_response_error; an ERROR the
 *	  database raises (a constraint, a permission) propagates to the
 *	  caller, which maps it with http_status_for_sqlstate, rolls back and
 *	  answers.  After a successful return the transport applies
 *	  response.headers/response.status set by the functions, commits (or
 *	  rolls back when Prefer: tx=rollback) and sends resp.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_API_H
#define ZVT_HTTP_API_H

#include "http/request.h"

/* Serve req inside the caller's transaction (see above). */
extern void http_api_serve(const HttpRequest *req, HttpResponse *resp);

/*
 * Forget the schema cache; the next request reloads it.  The transport
 * calls it on NOTIFY zvt_http, 'reload' and on the catalog invalidations
 * it registers for.
 */
extern void http_api_reset(void);

/*
 * The OpenAPI 2.0 document for GET / (what req->role may use), filled
 * into resp.  Called by http_api_serve for the root path.
 */
extern void http_api_openapi(const HttpRequest *req, HttpResponse *resp);

#endif							/* ZVT_HTTP_API_H */
