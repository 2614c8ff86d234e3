/*
 * test/exsim/curl_call.h
 *	  One HTTP request with libcurl for the simulator's command-line
 *	  clients (private_client.c, route_client.c).
 */
#ifndef EXSIM_CURL_CALL_H
#define EXSIM_CURL_CALL_H

#include <stddef.h>

#include <curl/curl.h>

/* a reply body: malloc'd, NUL-terminated, NULL when empty */
typedef struct CurlReply
{
	char	   *data;
	size_t		len;
} CurlReply;

extern CURLcode curl_call(const char *method, const char *url, struct curl_slist *headers,
						  const char *body, CurlReply *reply, long *status);

#endif
