/*-------------------------------------------------------------------------
 *
 * src/http/request.c
 *	  The HttpRequest/HttpResponse helpers both halves of the HTTP front
 *	  share (request.h): header lookup, building a response, PostgREST's
 *	  error body, and its SQLSTATE-to-status table.  Pure C (jansson
 *	  writes the error body), unit-tested in test/unit/test_http_request.c.
 *
 *-------------------------------------------------------------------------
 */
#include "http/request.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "zvt http: out of memory\n");
		abort();
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

const char *
http_request_header(const HttpRequest *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

void
http_response_header(HttpResponse *resp, const char *name, const char *value,
					 bool replace)
{
	if (replace)
	{
		for (int i = 0; i < resp->nheaders; i++)
			if (strcasecmp(resp->headers[i].name, name) == 0)
			{
				free(resp->headers[i].value);
				resp->headers[i].value = xstrdup(value);
				return;
			}
	}
	if (resp->nheaders >= HTTP_MAX_RESPONSE_HEADERS)
		return;					/* a fixed bound: the last ones are dropped */
	resp->headers[resp->nheaders].name = xstrdup(name);
	resp->headers[resp->nheaders].value = xstrdup(value);
	resp->nheaders++;
}

const char *
http_response_get_header(const HttpResponse *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void
http_response_body(HttpResponse *resp, const char *data, size_t len)
{
	free(resp->body);
	resp->body = xmalloc(len + 1);
	memcpy(resp->body, data, len);
	resp->body[len] = '\0';
	resp->body_len = len;
}

static json_t *
string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

void
http_response_error(HttpResponse *resp, int status, const char *code,
					const char *message, const char *details, const char *hint)
{
	/* not json_object(): the server exports a function of that name, which wins */
	json_t	   *o = json_loads("{}", 0, NULL);
	char	   *text;

	/* PostgREST's key order: code, details, hint, message */
	json_object_set_new(o, "code", string_or_null(code));
	json_object_set_new(o, "details", string_or_null(details));
	json_object_set_new(o, "hint", string_or_null(hint));
	json_object_set_new(o, "message", string_or_null(message));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		abort();
	http_response_body(resp, text, strlen(text));
	free(text);
	resp->status = status;
	http_response_header(resp, "Content-Type", "application/json; charset=utf-8", true);
}

void
http_response_free(HttpResponse *resp)
{
	for (int i = 0; i < resp->nheaders; i++)
	{
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* An exact SQLSTATE, or a class when the pattern is two characters. */
typedef struct StatusRule
{
	const char *pattern;
	int			status;
} StatusRule;

/* PostgREST 14's table, in its order: exact codes before their class. */
static const StatusRule status_rules[] = {
	{"08", 503}, {"09", 500}, {"0L", 403}, {"0P", 403},
	{"23503", 409}, {"23505", 409},
	{"25006", 405}, {"25", 500},
	{"28", 403}, {"2D", 500}, {"38", 500}, {"39", 500}, {"3B", 500},
	{"40", 500},
	{"53400", 500}, {"53", 503}, {"54", 500}, {"55", 500},
	{"57014", 504}, {"57", 500}, {"58", 500},
	{"F0", 500}, {"HV", 500},
	{"P0001", 400}, {"P0", 500}, {"XX", 500},
	{"42883", 404}, {"42P01", 404}, {"42P17", 500},
};

int
http_status_for_sqlstate(const char *sqlstate, bool anonymous)
{
	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return 500;
	if (strcmp(sqlstate, "42501") == 0)
		return anonymous ? 401 : 403;
	/* PostgREST's PTxyz codes: the status is the digits (a final status: 2xx to 5xx) */
	if (sqlstate[0] == 'P' && sqlstate[1] == 'T' &&
		sqlstate[2] >= '2' && sqlstate[2] <= '5' &&
		sqlstate[3] >= '0' && sqlstate[3] <= '9' &&
		sqlstate[4] >= '0' && sqlstate[4] <= '9')
		return atoi(sqlstate + 2);
	for (size_t i = 0; i < sizeof(status_rules) / sizeof(status_rules[0]); i++)
	{
		const char *p = status_rules[i].pattern;
		size_t		n = strlen(p);

		if (strncmp(sqlstate, p, n) == 0)
			return status_rules[i].status;
	}
	return 400;
}
