/*-------------------------------------------------------------------------
 *
 * src/http/settings.c
 *	  The JSON of the per-request settings, as PostgREST makes them:
 *	  request.headers and request.cookies (objects), the anonymous
 *	  request.jwt.claims, and reading response.headers (an array of
 *	  one-key objects) back into the response.  Pure C (jansson), so the
 *	  PostgreSQL glue (run.c) includes no JSON library and the unit tests
 *	  (test/unit/test_http_settings.c) run outside the server.
 *
 *	  Every result is malloc'd; a malloc failure aborts the worker.
 *
 *	  New objects come from json_pack("{}"), never json_object(): inside
 *	  the server that name binds to PostgreSQL's SQL function json_object
 *	  (the postgres executable exports it and comes first in the symbol
 *	  lookup), not to jansson's.
 *
 *-------------------------------------------------------------------------
 */
#include "http/settings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *
dump(json_t *o)
{
	char	   *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

char *
http_headers_json(const HttpRequest *req)
{
	json_t	   *o = json_pack("{}");

	for (int i = 0; i < req->nheaders; i++)
		json_object_set_new(o, req->headers[i].name, json_string(req->headers[i].value));
	return dump(o);
}

char *
http_cookies_json(const HttpRequest *req)
{
	const char *c = http_request_header(req, "cookie");
	json_t	   *o = json_pack("{}");

	while (c && *c)
	{
		const char *end = strchr(c, ';');
		size_t		n = end ? (size_t) (end - c) : strlen(c);
		const char *eq;

		while (n > 0 && *c == ' ')
			c++, n--;
		eq = memchr(c, '=', n);
		if (eq && eq > c)
		{
			json_object_setn_new(o, c, eq - c,
								 json_stringn(eq + 1, n - (eq + 1 - c)));
		}
		c = end ? end + 1 : NULL;
	}
	return dump(o);
}

char *
http_role_claims(const char *role)
{
	json_t	   *o = json_pack("{}");

	json_object_set_new(o, "role", json_string(role));
	return dump(o);
}

int
http_apply_response_headers(HttpResponse *resp, const char *text)
{
	json_t	   *a = json_loads(text, 0, NULL);
	size_t		i;
	json_t	   *o;

	if (!json_is_array(a))
	{
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, o)
	{
		const char *k;
		json_t	   *v;

		if (!json_is_object(o) || json_object_size(o) != 1)
		{
			json_decref(a);
			return -1;
		}
		json_object_foreach(o, k, v)
		{
			if (!json_is_string(v) || strpbrk(k, "\r\n: ") != NULL || k[0] == '\0' ||
				strpbrk(json_string_value(v), "\r\n") != NULL)
			{
				json_decref(a);
				return -1;
			}
			http_response_header(resp, k, json_string_value(v), true);
		}
	}
	json_decref(a);
	return 0;
}
