/*
 * test/fuzz/fuzz_http_request.c
 *	  libFuzzer harness for the HTTP front's request headers and the
 *	  settings built from them (src/http/request.c, src/http/settings.c).
 *
 * The input is a request head: "name: value" lines up to an empty line
 * (at most 32 headers), then the text of a response.headers setting.  It
 * checks what the callers rely on: request.headers and request.cookies
 * are JSON objects; a response header applied from the setting never
 * carries CR or LF (no response splitting); an error response is JSON;
 * every SQLSTATE maps to a status between 200 and 599.
 */
#include "http/request.h"
#include "http/settings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FUZZ_MAX_HEADERS 32

/* abort unless text is a JSON object */
static void
must_be_object(char *text)
{
	json_t	   *j;

	if (text == NULL)
		abort();
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	if (j == NULL || !json_is_object(j))
		abort();
	json_decref(j);
	free(text);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char	   *s = malloc(size + 1);
	char	   *p = s;
	HttpHeader	h[FUZZ_MAX_HEADERS];
	HttpRequest req;
	HttpResponse resp;
	int			n = 0;
	const char *v;

	memcpy(s, data, size);
	s[size] = '\0';
	/* headers: lower-case names as the transport gives them */
	while (n < FUZZ_MAX_HEADERS && *p)
	{
		char	   *eol = strchr(p, '\n');
		char	   *colon;

		if (eol)
			*eol = '\0';
		if (*p == '\0')
		{
			p = eol ? eol + 1 : p;
			break;
		}
		colon = strchr(p, ':');
		if (colon)
		{
			*colon = '\0';
			for (char *c = p; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
			h[n].name = p;
			h[n].value = colon[1] == ' ' ? colon + 2 : colon + 1;
			n++;
		}
		if (!eol)
		{
			p += strlen(p);
			break;
		}
		p = eol + 1;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/";
	req.query = "";
	req.headers = h;
	req.nheaders = n;
	req.role = "web_anon";
	req.anonymous = true;

	v = http_request_header(&req, "cookie");
	if (v && n == 0)
		abort();
	must_be_object(http_headers_json(&req));
	must_be_object(http_cookies_json(&req));
	must_be_object(http_role_claims(n > 0 ? h[0].value : "anon"));

	memset(&resp, 0, sizeof(resp));
	http_response_header(&resp, "Content-Type", "application/json", false);
	if (http_apply_response_headers(&resp, p) == 0)
		for (int i = 0; i < resp.nheaders; i++)
			if (strpbrk(resp.headers[i].name, "\r\n") || strpbrk(resp.headers[i].value, "\r\n"))
				abort();
	if (resp.nheaders > HTTP_MAX_RESPONSE_HEADERS)
		abort();
	http_response_error(&resp, 400, n > 0 ? h[0].value : "PGRST100",
						p, n > 1 ? h[1].value : NULL, n > 2 ? h[2].value : NULL);
	{
		char	   *body = malloc(resp.body_len + 1);

		memcpy(body, resp.body, resp.body_len);
		body[resp.body_len] = '\0';
		must_be_object(body);
	}
	http_response_free(&resp);
	{
		int			st = http_status_for_sqlstate(p, n % 2 == 0);

		if (st < 200 || st > 599)
			abort();
	}
	free(s);
	return 0;
}
