/*-------------------------------------------------------------------------
 *
 * src/live/router_clock.c
 *	  The order router's reading of its exchange's clock: the time
 *	  endpoint asked (skew.c reads the reply and keeps the offset), at
 *	  once before the router's first signed request, then once a minute
 *	  through the router's libcurl multi handle, beside the orders'
 *	  requests, so that no send waits for it.
 *
 * router.c hands a finished transfer of its multi handle here when it is
 * the clock's (router_clock_owns); until the reply arrives the offset
 * sampled before stays in use.  zvt.router_clock_sync off: the offset is
 * forgotten (0).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "live/reply_body.h"
#include "live/router_clock.h"
#include "zvt.h"

/* The clock request's reply: the offset sampled, or a line in the log. */
void
router_clock_done(RouterClock *c, CURLcode res)
{
	int64		recv = skew_local_ms();
	int64		server;
	long		status = 0;

	if (res == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c->h);
	c->h = NULL;
	if (status == 200 &&
		skew_parse_server_time(c->name, c->body.data, c->body.len, &server) == 0)
		(void) skew_sample(&c->skew, c->sent, server, recv);
	else
		ereport(LOG,
				(errmsg("zvt router %s could not read the exchange's clock", c->name),
				 errdetail_internal("GET %s: HTTP %ld", skew_time_path(c->name), status)));
}

/*
 * Ask the exchange's time endpoint (base: its REST address): at once
 * (block), or through multi, its reply read by router_clock_done when
 * router.c finds the transfer finished.  One at a time.
 */
void
router_clock_sync(RouterClock *c, CURLM *multi, const char *base, bool block)
{
	char		url[512];

	if (!zvt_router_clock_sync)
	{
		memset(&c->skew, 0, sizeof(c->skew));
		return;
	}
	if (c->h != NULL)
		return;					/* one is out */
	if (c->body.data == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&c->body);
		MemoryContextSwitchTo(old);
	}
	resetStringInfo(&c->body);
	snprintf(url, sizeof(url), "%s%s", base, skew_time_path(c->name));
	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	/* far more than a time reply: cut */
	reply_body_attach(c->h, &c->sink, &c->body, 64 * 1024);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long) zvt_router_timeout);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	if (zvt_ca_file && zvt_ca_file[0])
		curl_easy_setopt(c->h, CURLOPT_CAINFO, zvt_ca_file);
	c->sent = skew_local_ms();
	if (block)
		router_clock_done(c, curl_easy_perform(c->h));
	else
	{
		int			running;

		curl_multi_add_handle(multi, c->h);
		curl_multi_perform(multi, &running);
	}
}
