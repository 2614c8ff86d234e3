/*-------------------------------------------------------------------------
 *
 * src/http/settings.h
 *	  The JSON of PostgREST's per-request settings (settings.c): pure C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_SETTINGS_H
#define ZVT_HTTP_SETTINGS_H

#include "http/request.h"

/* in settings.c; every string result is malloc'd */

/* request.headers: {"name": "value", ...}, names in lower case */
extern char *http_headers_json(const HttpRequest *req);

/* request.cookies: the Cookie header's pairs as {"name": "value", ...} */
extern char *http_cookies_json(const HttpRequest *req);

/* request.jwt.claims of a request without a token: {"role": role} */
extern char *http_role_claims(const char *role);

/*
 * Apply response.headers (text: [{"Name": "value"}, ...]) to resp,
 * replacing headers of the same name.  Returns 0, or -1 (resp
 * unchanged or partly changed) when text is not such an array or a
 * name or value could split the response head.
 */
extern int	http_apply_response_headers(HttpResponse *resp, const char *text);

#endif							/* ZVT_HTTP_SETTINGS_H */
