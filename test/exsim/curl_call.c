/*
 * test/exsim/curl_call.c
 *	  One HTTP request with libcurl for the simulator's command-line
 *	  clients (zvt-exsim-private, zvt-live-route): any method, the body
 *	  sent with a POST only (as zvt's router sends it), 10 s at most; the
 *	  reply's body collected and its status read.
 */
#include "curl_call.h"

#include <stdlib.h>
#include <string.h>

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	CurlReply  *r = arg;
	char	   *d = realloc(r->data, r->len + size * n + 1);

	if (d == NULL)
		return 0;				/* curl fails the transfer */
	r->data = d;
	memcpy(r->data + r->len, p, size * n);
	r->len += size * n;
	r->data[r->len] = '\0';
	return size * n;
}

/*
 * Send method url with headers (and body when POST); *reply gets the body
 * (free reply->data), *status the HTTP status, 0 when no reply came.
 */
CURLcode
curl_call(const char *method, const char *url, struct curl_slist *headers,
		  const char *body, CurlReply *reply, long *status)
{
	CURL	   *curl = curl_easy_init();
	CURLcode	rc;

	*status = 0;
	if (curl == NULL)
		return CURLE_FAILED_INIT;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	return rc;
}
