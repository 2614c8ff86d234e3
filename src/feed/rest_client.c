/*-------------------------------------------------------------------------
 *
 * src/feed/rest_client.c
 *	  HTTPS GET with libcurl inside a PostgreSQL backend.
 *
 * The rules of DESIGN.md "libcurl in a backend": curl_global_init once per
 * process, CURLOPT_NOSIGNAL (PostgreSQL owns SIGALRM), and never ereport or
 * longjmp out of a curl callback: the write callback appends to a malloc'd
 * buffer, the progress callback only asks curl to abort when an interrupt
 * (cancel, terminate) is pending; after the transfer is cleaned up,
 * CHECK_FOR_INTERRUPTS() raises it, once the body has been copied into
 * palloc'd memory and the malloc'd buffer freed (so a cancel leaks
 * nothing).  Certificates are verified against the system bundle, or
 * zvt.ca_file when set; plain http:// is refused unless its host resolves
 * to loopback only (url_check.c), and every socket a plain-text request
 * opens is checked again, so DNS answering differently later gains
 * nothing.  Redirects are not followed.  zvt.rest_timeout bounds every
 * request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"

#include "feed/curl_common.h"
#include "feed/rest_client.h"
#include "feed/url_check.h"
#include "zvt.h"

#define REST_MAX_BODY	(64 * 1024 * 1024)	/* no instrument list is bigger */

typedef struct Download
{
	char	   *data;			/* malloc'd: callbacks must not palloc */
	size_t		len;
	size_t		cap;
	bool		too_big;
} Download;

static bool curl_ready = false;

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Download   *d = arg;
	size_t		n = size * nmemb;

	switch (feed_curl_append(&d->data, &d->len, &d->cap, ptr, n, REST_MAX_BODY))
	{
		case -1:
			d->too_big = true;
			return 0;			/* aborts the transfer */
		case 0:
			return 0;
	}
	return n;
}

/*
 * One response header line: keep the rate-limit headers the backfill
 * honours (Retry-After in seconds, Binance's used weight).  Plain C only.
 */
static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	RestResponse *resp = arg;

	feed_curl_rate_header(ptr, size * nmemb, &resp->retry_after, &resp->used_weight);
	return size * nmemb;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	/* a pending cancel or terminate stops the transfer; raised afterwards */
	return InterruptPending ? 1 : 0;
}

/*
 * Refuse a URL zvt will not talk to: anything but https:// or wss://, or
 * http:// or ws:// to a host that resolves to loopback only (url_check.c).
 * `what` names the setting in the message.  Returns whether the URL is
 * plain text (then its connections must stay on loopback).
 */
bool
rest_check_url(const char *url, const char *what)
{
	FeedUrl		u;
	char		reason[256];

	switch (feed_url_check(url, &u, reason, sizeof(reason)))
	{
		case FEED_URL_OK:
			return !u.tls;
		case FEED_URL_NOT_LOOPBACK:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" uses plain text to a host that is not loopback", what, url),
					 errdetail_internal("%s", reason),
					 errhint("Use https:// or wss://; plain http:// and ws:// are for a simulator on 127.0.0.1.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" is not an http(s):// or ws(s):// URL", what, url),
					 errdetail_internal("%s", reason)));
	}
	return false;				/* keep the compiler quiet */
}

/*
 * GET url.  Returns true with resp->status and a palloc'd resp->body when
 * the server answered (whatever the status); false with resp->error set
 * when it could not be reached or took longer than zvt.rest_timeout.  A
 * URL rest_check_url refuses raises 22023.  A pending interrupt is raised
 * after the transfer is cleaned up and its buffer freed.
 */
bool
rest_get(const char *url, RestResponse *resp)
{
	CURL	   *curl;
	CURLcode	rc;
	Download	d = {0};
	char		errbuf[CURL_ERROR_SIZE] = "";
	bool		plain = rest_check_url(url, "URL");

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = resp->used_weight = -1;
	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not initialize libcurl")));
		curl_ready = true;
	}
	curl = curl_easy_init();
	if (!curl)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) zvt_rest_timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) zvt_rest_timeout);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "zvt/0.1");
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (plain)
		curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, feed_curl_loopback_socket);
	if (zvt_ca_file && zvt_ca_file[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, zvt_ca_file);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_cleanup(curl);

	/* nothing malloc'd may be left when the interrupt below longjmps */
	if (rc == CURLE_OK)
	{
		resp->len = d.len;
		resp->body = palloc_extended(d.len + 1, MCXT_ALLOC_NO_OOM);
		if (resp->body)
		{
			if (d.len > 0)
				memcpy(resp->body, d.data, d.len);
			resp->body[d.len] = '\0';
		}
	}
	else
		snprintf(resp->error, sizeof(resp->error), "%s",
				 d.too_big ? "response larger than 64 MB" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
	free(d.data);
	d.data = NULL;

	CHECK_FOR_INTERRUPTS();
	if (rc == CURLE_OK && resp->body == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("The response of %zu bytes does not fit in memory.", d.len)));
	return rc == CURLE_OK;
}
