/*-------------------------------------------------------------------------
 *
 * src/http/metrics_page.c
 *	  GET /metrics on the HTTP front (zvt.http_metrics): the exposition
 *	  the metrics worker renders on request, handed over in shared
 *	  memory, served to the roles the setting allows.
 *
 * Why a handover.  The exposition's SQL counts (orders by status, fills,
 * gaps, backtest runs) cover every account: the metrics worker reads
 * them as the bootstrap superuser.  An HTTP worker is connected as the
 * authenticator and runs requests as their role, which row-level
 * security confines to its own accounts; it must never run those counts
 * with more rights.  So it asks the metrics worker ("zvt metrics", which
 * the launcher keeps running while zvt.http_metrics is on, port or no
 * port) for a fresh rendering and serves that text unchanged: the same
 * totals the metrics port shows, nothing more, whoever asks.
 *
 * The handover ("zvt http metrics"): an HTTP worker takes a number from
 * wanted, sets the metrics worker's latch and sleeps on the condition
 * variable until done reaches its number (at most
 * HTTP_METRICS_WAIT_MS).  The metrics worker, on each turn of its loop,
 * reads wanted, renders (metrics/collect.c), copies the text into the
 * page and sets done to the number it read, then broadcasts: requests
 * that come together share one rendering.  The page is a seqlock (seq
 * odd while the one writer copies), so readers copy without a lock and
 * copy again when a newer rendering overwrote the page meanwhile.
 *
 * Who may read it.  The request has been through CORS, the token, the
 * rate limit and SET ROLE (run.c) before it gets here.  Under
 * pg_monitor the request's role must have the privileges of pg_monitor
 * (42501 otherwise: 401 without a token, 403 with one); under open
 * everyone may, as on the metrics port.  Either way the text is the
 * same: the totals the exposition has by design (docs/metrics.md), no
 * account, role, order or symbol.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "http/http.h"
#include "http/transport.h"
#include "zvt.h"

/* the longest exposition the page holds, bytes */
#define HTTP_METRICS_PAGE_MAX (512 * 1024)
/* how long a request waits for a rendering: the SQL part's bound and more */
#define HTTP_METRICS_WAIT_MS 5000
#define HTTP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct HttpMetricsPage
{
	pg_atomic_uint64 wanted;	/* the last number a request took */
	pg_atomic_uint64 done;		/* every request up to this one is answered */
	pg_atomic_uint32 procno;	/* the metrics worker's pgprocno + 1; 0: none */
	ConditionVariable cv;		/* broadcast when done moves or the worker leaves */
	pg_atomic_uint64 seq;		/* odd while text is written */
	uint32		len;			/* of text */
	bool		ok;				/* false: the rendering failed or did not fit */
	char		text[HTTP_METRICS_PAGE_MAX];
} HttpMetricsPage;

static HttpMetricsPage *page = NULL;

Size
http_metrics_page_size(void)
{
	return MAXALIGN(sizeof(HttpMetricsPage));
}

/* From http_shmem_init, under AddinShmemInitLock. */
void
http_metrics_page_init(void)
{
	bool		found;

	page = ShmemInitStruct("zvt http metrics", sizeof(HttpMetricsPage), &found);
	if (!found)
	{
		pg_atomic_init_u64(&page->wanted, 0);
		pg_atomic_init_u64(&page->done, 0);
		pg_atomic_init_u32(&page->procno, 0);
		ConditionVariableInit(&page->cv);
		pg_atomic_init_u64(&page->seq, 0);
		page->len = 0;
		page->ok = false;
	}
}

/* ----------------------------------------------------------------
 *		The metrics worker's side
 * ----------------------------------------------------------------
 */

/* Whether the front wants the metrics worker: /metrics on, the front on. */
bool
http_metrics_front_on(void)
{
	return zvt_http_metrics != ZVT_HTTP_METRICS_OFF && zvt_http_port != 0;
}

/* The metrics worker is here to render (its latch is set for requests). */
void
http_metrics_render_start(void)
{
	pg_atomic_write_u32(&page->procno, (uint32) MyProc->pgprocno + 1);
}

/* The metrics worker leaves: waiting requests give up now. */
void
http_metrics_render_stop(void)
{
	pg_atomic_write_u32(&page->procno, 0);
	ConditionVariableBroadcast(&page->cv);
}

/* The request number a rendering would answer now, or 0 when none waits. */
uint64
http_metrics_wanted(void)
{
	uint64		wanted = pg_atomic_read_u64(&page->wanted);

	return wanted > pg_atomic_read_u64(&page->done) ? wanted : 0;
}

/*
 * Publish a rendering that answers every request up to wanted: text (len
 * bytes), or a failure when !ok or it does not fit.
 */
void
http_metrics_publish(uint64 wanted, const char *text, size_t len, bool ok)
{
	if (ok && len > HTTP_METRICS_PAGE_MAX)
	{
		ereport(LOG,
				(errmsg("zvt metrics: the exposition (%zu bytes) is larger than the HTTP front's page (%d bytes)",
						len, HTTP_METRICS_PAGE_MAX)));
		ok = false;
	}
	pg_atomic_fetch_add_u64(&page->seq, 1);
	pg_write_barrier();
	page->ok = ok;
	page->len = ok ? (uint32) len : 0;
	if (ok)
		memcpy(page->text, text, len);
	pg_write_barrier();
	pg_atomic_fetch_add_u64(&page->seq, 1);
	pg_atomic_write_u64(&page->done, wanted);
	ConditionVariableBroadcast(&page->cv);
}

/* ----------------------------------------------------------------
 *		The HTTP worker's side
 * ----------------------------------------------------------------
 */

/* Whether req is the front's /metrics (as the API layer reads paths: "//metrics/" too). */
bool
http_metrics_route(const HttpRequest *req)
{
	const char *p = req->path;

	if (zvt_http_metrics == ZVT_HTTP_METRICS_OFF)
		return false;
	while (*p == '/')
		p++;
	return strcmp(p, "metrics") == 0 || strcmp(p, "metrics/") == 0;
}

/*
 * Ask for a rendering and wait for it; a palloc'd copy of the text and
 * its length, or NULL with *why saying what went wrong.
 */
static char *
fetch(size_t *len, const char **why)
{
	uint64		mine = pg_atomic_add_fetch_u64(&page->wanted, 1);
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HTTP_METRICS_WAIT_MS);
	uint32		procno = pg_atomic_read_u32(&page->procno);
	char	   *copy;

	*why = NULL;
	if (procno == 0)
	{
		*why = "The metrics worker is not running.";
		return NULL;
	}
	SetLatch(&ProcGlobal->allProcs[procno - 1].procLatch);
	ConditionVariablePrepareToSleep(&page->cv);
	while (pg_atomic_read_u64(&page->done) < mine)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

		if (pg_atomic_read_u32(&page->procno) == 0)
			*why = "The metrics worker stopped.";
		else if (left <= 0)
			*why = "The metrics worker did not answer in time.";
		if (*why)
			break;
		(void) ConditionVariableTimedSleep(&page->cv, left, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	if (*why)
		return NULL;

	copy = palloc(HTTP_METRICS_PAGE_MAX + 1);
	for (;;)
	{
		uint64		before = pg_atomic_read_u64(&page->seq);
		bool		ok;

		if (before & 1)
		{
			pg_spin_delay();
			continue;
		}
		pg_read_barrier();
		ok = page->ok;
		*len = Min(page->len, HTTP_METRICS_PAGE_MAX);
		memcpy(copy, page->text, *len);
		pg_read_barrier();
		if (pg_atomic_read_u64(&page->seq) != before)
			continue;			/* a newer rendering came meanwhile */
		if (!ok)
		{
			*why = "The metrics worker could not render the metrics (the server log says why).";
			return NULL;
		}
		return copy;
	}
}

/*
 * Answer req (the front's /metrics) into resp, inside the request's
 * transaction as its role; errors are raised for run.c to answer.
 */
void
http_metrics_serve(const HttpRequest *req, HttpResponse *resp)
{
	const char *why;
	size_t		len = 0;
	char	   *text;

	if (strcmp(req->method, "OPTIONS") == 0)
	{
		resp->status = 200;
		http_response_header(resp, "Allow", "OPTIONS,GET,HEAD", true);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
	{
		http_response_error(resp, 405, "PGRST117",
							psprintf("Unsupported HTTP method: %s", req->method), NULL, NULL);
		http_response_header(resp, "Allow", "OPTIONS,GET,HEAD", true);
		return;
	}
	if (zvt_http_metrics != ZVT_HTTP_METRICS_OPEN &&
		!has_privs_of_role(GetUserId(), ROLE_PG_MONITOR))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for /metrics"),
				 errdetail("zvt.http_metrics is pg_monitor: the request's role needs the privileges of pg_monitor."),
				 errhint("Send a token whose role is a member of pg_monitor.")));
	text = fetch(&len, &why);
	if (text == NULL)
	{
		http_response_error(resp, 503, NULL, "metrics unavailable", why, NULL);
		return;
	}
	resp->status = 200;
	http_response_header(resp, "Content-Type", HTTP_METRICS_CONTENT_TYPE, true);
	http_response_header(resp, "Cache-Control", "no-store", true);
	http_response_body(resp, text, len);
	pfree(text);
}
