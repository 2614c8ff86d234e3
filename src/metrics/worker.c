/*-------------------------------------------------------------------------
 *
 * src/metrics/worker.c
 *	  The metrics worker ("zvt metrics"): serves GET /metrics in the
 *	  Prometheus text format on zvt.metrics_listen:zvt.metrics_port.
 *
 * The launcher starts it while zvt.metrics_port is not 0, or the HTTP
 * front serves /metrics (zvt.http_metrics); it claims its slot in shared
 * memory ("zvt metrics", base/claim.h) so only one runs, and exits 0
 * when neither wants it any more.  For the front it renders the
 * exposition whenever an HTTP worker waits for one and hands it over in
 * shared memory (http/metrics_page.c); without a port it binds nothing.  It connects to
 * zvt.database for the SQL part of a scrape (collect.c), so DROP
 * DATABASE of that database needs WITH (FORCE) while it runs.
 *
 * Serving.  One process, non-blocking sockets, one wait point: a
 * WaitEventSet of the latch, postmaster death, the listening socket and
 * each client's socket, rebuilt every turn (there are at most
 * METRICS_MAX_CLIENTS).  A client sends one request head of at most
 * METRICS_HTTP_MAX_REQUEST bytes (metrics/http.c), gets one response and
 * is closed ("Connection: close"); a client that has not finished
 * within METRICS_CLIENT_TIMEOUT_MS, reading or being written to, is
 * dropped, so a slow or silent client holds a slot, never the worker.
 * Past METRICS_MAX_CLIENTS new connections wait in the listen backlog.
 * After the response the worker shuts its side and reads what the client
 * still sends (say, the rest of an oversized request) until it closes,
 * for up to METRICS_LINGER_MS: closing with unread input would reset the
 * connection and could destroy the response before the client read it.
 * The one thing that blocks is the scrape's SQL transaction, bounded by
 * METRICS_SQL_TIMEOUT_MS.
 *
 * When the listening address cannot be bound (the port is taken, the
 * address is not local), the worker says so in the log once and tries
 * again every METRICS_RETRY_MS; a reload that changes the port or the
 * address rebinds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "base/runs.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/claim.h"
#include "http/http.h"
#include "metrics/http.h"
#include "metrics/metrics.h"
#include "zvt.h"

PGDLLEXPORT void metrics_worker_main(Datum arg);

#define METRICS_MAX_CLIENTS 8
#define METRICS_CLIENT_TIMEOUT_MS 10000
#define METRICS_RETRY_MS 5000
#define METRICS_LINGER_MS 1000

typedef struct MetricsShared
{
	pg_atomic_uint32 owner;		/* the running worker's pid (base/claim.h) */
} MetricsShared;

/* One connection: reading its request, then writing its response. */
typedef struct Client
{
	pgsocket	sock;			/* PGINVALID_SOCKET: a free slot */
	TimestampTz deadline;		/* dropped when not done by then */
	char		in[METRICS_HTTP_MAX_REQUEST];
	size_t		nin;
	char	   *out;			/* malloc'd response; NULL while reading */
	size_t		nout;
	size_t		sent;
	bool		draining;		/* all sent: reading to EOF before closing */
} Client;

static MetricsShared *metrics_shared = NULL;
static pgsocket listener = PGINVALID_SOCKET;
static int	bound_port = 0;		/* what listener is bound to */
static char bound_listen[256];
static Client clients[METRICS_MAX_CLIENTS];
static MetricsSelf self;

static void metrics_detach(int code, Datum arg);
static void listener_open(void);
static void listener_close(void);
static void client_accept(void);
static void client_read(Client *c);
static void client_write(Client *c);
static void client_drain(Client *c);
static void client_close(Client *c);
static void client_respond(Client *c, int status, bool send_body);

Size
metrics_shmem_size(void)
{
	return MAXALIGN(sizeof(MetricsShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
metrics_shmem_init(void)
{
	bool		found;

	metrics_shared = ShmemInitStruct("zvt metrics", sizeof(MetricsShared), &found);
	if (!found)
		pg_atomic_init_u32(&metrics_shared->owner, 0);
}

/* Whether a metrics worker runs (has claimed the slot). */
bool
metrics_running(void)
{
	return zvt_claimed(&metrics_shared->owner);
}

static void
metrics_detach(int code, Datum arg)
{
	http_metrics_render_stop();
	listener_close();
	zvt_release(&metrics_shared->owner);
}

/* ----------------------------------------------------------------
 *		The listening socket
 * ----------------------------------------------------------------
 */

/*
 * Bind zvt.metrics_listen:zvt.metrics_port; on failure log once per
 * address and leave listener invalid (the loop tries again later).
 */
static void
listener_open(void)
{
	static char failed_for[300] = "";
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	char		port[16];
	char		what[300];
	int			rc;
	int			one = 1;
	pgsocket	s = PGINVALID_SOCKET;

	snprintf(port, sizeof(port), "%d", zvt_metrics_port);
	snprintf(what, sizeof(what), "%s:%d", zvt_metrics_listen, zvt_metrics_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(zvt_metrics_listen, port, &hints, &res);
	if (rc == 0)
	{
		s = socket(res->ai_family, SOCK_STREAM, 0);
		if (s == PGINVALID_SOCKET ||
			setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			bind(s, res->ai_addr, res->ai_addrlen) < 0 ||
			listen(s, 16) < 0 || !pg_set_noblock(s))
		{
			int			save = errno;

			if (s != PGINVALID_SOCKET)
				closesocket(s);
			s = PGINVALID_SOCKET;
			errno = save;
			if (strcmp(failed_for, what) != 0)
				ereport(LOG,
						(errcode_for_socket_access(),
						 errmsg("zvt metrics could not listen on %s: %m", what),
						 errhint("Set zvt.metrics_port to a free port; zvt tries again every %d s.",
								 METRICS_RETRY_MS / 1000)));
		}
		freeaddrinfo(res);
	}
	else if (strcmp(failed_for, what) != 0)
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt metrics could not resolve zvt.metrics_listen \"%s\": %s",
						zvt_metrics_listen, gai_strerror(rc))));
	if (s == PGINVALID_SOCKET)
	{
		snprintf(failed_for, sizeof(failed_for), "%s", what);
		return;
	}
	failed_for[0] = '\0';
	listener = s;
	bound_port = zvt_metrics_port;
	snprintf(bound_listen, sizeof(bound_listen), "%s", zvt_metrics_listen);
	ereport(LOG, (errmsg("zvt metrics listening on %s", what)));
}

static void
listener_close(void)
{
	if (listener != PGINVALID_SOCKET)
		closesocket(listener);
	listener = PGINVALID_SOCKET;
}

/* ----------------------------------------------------------------
 *		Clients
 * ----------------------------------------------------------------
 */

/* Accept what waits, while slots are free. */
static void
client_accept(void)
{
	for (int i = 0; i < METRICS_MAX_CLIENTS; i++)
	{
		Client	   *c = &clients[i];
		pgsocket	s;

		if (c->sock != PGINVALID_SOCKET)
			continue;
		s = accept(listener, NULL, NULL);
		if (s == PGINVALID_SOCKET)
			return;				/* EAGAIN: nothing more; errors: the client's problem */
		if (!pg_set_noblock(s))
		{
			closesocket(s);
			continue;
		}
		c->sock = s;
		c->nin = 0;
		c->out = NULL;
		c->draining = false;
		c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), METRICS_CLIENT_TIMEOUT_MS);
	}
}

static void
client_close(Client *c)
{
	if (c->sock != PGINVALID_SOCKET)
		closesocket(c->sock);
	c->sock = PGINVALID_SOCKET;
	free(c->out);
	c->out = NULL;
}

/* Count a response of status. */
static void
count_status(int status)
{
	for (int i = 0; i < lengthof(metrics_statuses); i++)
		if (metrics_statuses[i] == status)
			self.requests[i]++;
}

/*
 * Build c's response of status (the metrics for a 200) and start writing
 * it; the request is no longer read.
 */
static void
client_respond(Client *c, int status, bool send_body)
{
	MetricsBuf *b = palloc(sizeof(MetricsBuf));
	const char *body;
	size_t		blen;
	char		head[512];
	int			hlen;
	const char *type = "text/plain; charset=utf-8";

	metrics_buf_init(b);
	count_status(status);
	if (status == 200)
	{
		metrics_collect(b, &self);
		if (b->failed)
		{
			ereport(LOG, (errmsg("zvt metrics could not write the metrics: %s", b->error)));
			status = 500;
		}
		else
			type = METRICS_CONTENT_TYPE;
	}
	body = status == 200 ? b->data : metrics_http_reason(status);
	blen = strlen(body ? body : "");
	hlen = metrics_http_head(head, sizeof(head), status, type, blen + (status == 200 ? 0 : 1));
	c->out = malloc(hlen + blen + 2);
	if (c->out == NULL || hlen < 0)
	{
		metrics_buf_free(b);
		pfree(b);
		client_close(c);
		return;
	}
	memcpy(c->out, head, hlen);
	c->nout = hlen;
	if (send_body)
	{
		memcpy(c->out + c->nout, body ? body : "", blen);
		c->nout += blen;
		if (status != 200)
			c->out[c->nout++] = '\n';
	}
	c->sent = 0;
	metrics_buf_free(b);
	pfree(b);
	client_write(c);
}

/* Read what c sent; respond once its request head is complete. */
static void
client_read(Client *c)
{
	MetricsRequest req;
	bool		send_body = true;
	ssize_t		n;

	n = recv(c->sock, c->in + c->nin, sizeof(c->in) - c->nin, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0)
	{
		client_close(c);		/* gone, or closed before a whole request */
		return;
	}
	c->nin += n;
	switch (metrics_http_parse(c->in, c->nin, &req))
	{
		case METRICS_HTTP_INCOMPLETE:
			return;
		case METRICS_HTTP_BAD:
			client_respond(c, 400, true);
			return;
		case METRICS_HTTP_TOO_LARGE:
			client_respond(c, 431, true);
			return;
		case METRICS_HTTP_OK:
			{
				int			status = metrics_http_route(&req, &send_body);

				client_respond(c, status, send_body);
				return;
			}
	}
}

/*
 * Send what the socket takes; once all is sent, shut our side and drain
 * (client_drain) for at most METRICS_LINGER_MS.
 */
static void
client_write(Client *c)
{
	TimestampTz linger;

	while (c->sent < c->nout)
	{
		ssize_t		n = send(c->sock, c->out + c->sent, c->nout - c->sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0)
		{
			client_close(c);
			return;
		}
		c->sent += n;
	}
	if (shutdown(c->sock, SHUT_WR) < 0)
	{
		client_close(c);
		return;
	}
	c->draining = true;
	linger = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), METRICS_LINGER_MS);
	c->deadline = Min(c->deadline, linger);
}

/* Discard what the client still sends; close at its EOF or an error. */
static void
client_drain(Client *c)
{
	char		buf[4096];
	ssize_t		n;

	while ((n = recv(c->sock, buf, sizeof(buf), 0)) > 0)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	client_close(c);
}

/* ----------------------------------------------------------------
 *		The loop
 * ----------------------------------------------------------------
 */

/*
 * Wait for the latch, the listener or a client, at most timeout_ms, and
 * serve what is ready.
 */
static void
wait_and_serve(long timeout_ms)
{
	WaitEventSet *set = CreateWaitEventSet(CurrentMemoryContext, 3 + METRICS_MAX_CLIENTS);
	WaitEvent	events[3 + METRICS_MAX_CLIENTS];
	bool		room = false;
	int			n;

	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < METRICS_MAX_CLIENTS; i++)
	{
		Client	   *c = &clients[i];

		if (c->sock == PGINVALID_SOCKET)
			room = true;
		else
			AddWaitEventToSet(set, c->out && !c->draining ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
							  c->sock, NULL, c);
	}
	if (room && listener != PGINVALID_SOCKET)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, listener, NULL, &listener);

	n = WaitEventSetWait(set, timeout_ms, events, lengthof(events), PG_WAIT_EXTENSION);
	for (int i = 0; i < n; i++)
	{
		Client	   *c = events[i].user_data;

		if (events[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (events[i].user_data == (void *) &listener)
			client_accept();
		else if (c && c->sock != PGINVALID_SOCKET)
		{
			if (c->out == NULL)
				client_read(c);
			else if (c->draining)
				client_drain(c);
			else
				client_write(c);
		}
	}
	FreeWaitEventSet(set);
}

/*
 * When HTTP workers wait for the exposition (GET /metrics on the front,
 * http/metrics_page.c), render it once for all of them and publish it.
 */
static void
render_for_front(void)
{
	uint64		wanted = http_metrics_wanted();
	MetricsBuf *b;

	if (wanted == 0)
		return;
	b = palloc(sizeof(MetricsBuf));
	metrics_buf_init(b);
	metrics_collect(b, &self);
	if (b->failed)
		ereport(LOG, (errmsg("zvt metrics could not write the metrics: %s", b->error)));
	http_metrics_publish(wanted, b->data, b->failed ? 0 : b->len, !b->failed);
	metrics_buf_free(b);
	pfree(b);
}

/* Drop the clients whose time is up; the wait until the next deadline, ms. */
static long
expire_clients(long wait_ms)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < METRICS_MAX_CLIENTS; i++)
	{
		Client	   *c = &clients[i];

		if (c->sock == PGINVALID_SOCKET)
			continue;
		if (now >= c->deadline)
		{
			if (c->out == NULL)
				count_status(408);	/* it never finished its request */
			client_close(c);
		}
		else
			wait_ms = Min(wait_ms, Max(1, (c->deadline - now) / 1000));
	}
	return wait_ms;
}

void
metrics_worker_main(Datum arg)
{
	MemoryContext loop_context;
	TimestampTz next_bind = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "on", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("zvt metrics");

	/* one metrics worker, even after a crash restart or a new launcher */
	if (!zvt_claim(&metrics_shared->owner))
	{
		ereport(LOG, (errmsg("zvt metrics is already running; this one exits")));
		proc_exit(0);
	}
	before_shmem_exit(metrics_detach, 0);
	zvt_run_begin(ZVT_RUN_METRICS, 0);
	http_metrics_render_start();
	for (int i = 0; i < METRICS_MAX_CLIENTS; i++)
		clients[i].sock = PGINVALID_SOCKET;
	loop_context = AllocSetContextCreate(TopMemoryContext, "zvt metrics loop", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		wait_ms = 1000;
		MemoryContext old;

		/*
		 * step 1: switched off (no port, no /metrics on the HTTP front):
		 * leave (the launcher starts us when either is set again)
		 */
		if (zvt_metrics_port == 0 && !http_metrics_front_on())
			break;

		/* step 2: listen while there is a port, or try again later */
		if (listener != PGINVALID_SOCKET &&
			(bound_port != zvt_metrics_port || strcmp(bound_listen, zvt_metrics_listen) != 0))
			listener_close();
		if (listener == PGINVALID_SOCKET && zvt_metrics_port != 0 &&
			GetCurrentTimestamp() >= next_bind)
		{
			listener_open();
			if (listener == PGINVALID_SOCKET)
				next_bind = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), METRICS_RETRY_MS);
		}

		/* step 3: wait, serve; drop clients past their time */
		wait_ms = expire_clients(wait_ms);
		old = MemoryContextSwitchTo(loop_context);
		wait_and_serve(wait_ms);
		render_for_front();
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_context);
		CHECK_FOR_INTERRUPTS();

		/* step 4: reload */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	for (int i = 0; i < METRICS_MAX_CLIENTS; i++)
		client_close(&clients[i]);
	ereport(LOG, (errmsg("zvt metrics stopped: zvt.metrics_port is 0 and zvt.http_metrics is off")));
	proc_exit(0);
}
