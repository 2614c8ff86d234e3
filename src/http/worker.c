/*-------------------------------------------------------------------------
 *
 * src/http/worker.c
 *	  An HTTP worker ("zvt http N"): one of zvt.http_workers processes
 *	  that all serve zvt.http_listen:zvt.http_port, each with its own
 *	  connection to zvt.database as zvt.http_authenticator.
 *
 * The launcher starts worker N (0 <= N < zvt.http_workers) while
 * zvt.http_port is not 0, unless slot N is claimed (base/claim.h).  The
 * worker connects as the authenticator, never as the bootstrap
 * superuser: BackgroundWorkerInitializeConnection with the
 * authenticator's name makes it the session user, so PostgreSQL's own
 * membership check (SET ROLE) decides which roles a request may run as.
 * A worker whose authenticator turns out to be a superuser serves
 * nothing: it says so in the log and waits for a reload.
 *
 * Every worker opens its own listening socket on the same port with
 * SO_REUSEPORT (server.c); the kernel spreads new connections over the
 * workers' sockets, so a worker that exits takes only its own connections
 * with it and the others keep serving.  A worker that exits with an error is restarted by the
 * postmaster after 5 s; one killed by a signal (kill -9) makes the
 * postmaster reset shared memory and restart every backend, as for any
 * process attached to shared memory, after which the launcher starts the
 * workers again.
 *
 * The loop (one wait point: libev's epoll_wait that libwebsockets runs
 * in, server.c, woken at least every
 * HTTP_TICK_MS by a timer in server.c): serve sockets; check interrupts
 * and the postmaster; on SIGHUP reload the configuration and the JWT
 * keys, rebind when the address, ports or TLS files changed, and leave
 * when the worker is no longer wanted (port 0, fewer workers, another
 * authenticator).  While the port cannot be bound the worker tries again
 * every HTTP_RETRY_MS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libwebsockets.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "base/runs.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/claim.h"
#include "http/http.h"
#include "http/transport.h"
#include "zvt.h"

PGDLLEXPORT void http_worker_main(Datum arg);

#define HTTP_RETRY_MS 5000

HttpShared *http_shared = NULL;
int			http_worker_number = -1;

/* what the listening sockets were opened with, to notice a change */
typedef struct Bound
{
	int			port;
	int			admin_port;
	char		listen[256];
	char		cert[1024];
	char		key[1024];
} Bound;

static void http_detach(int code, Datum arg);
static void bound_take(Bound *b);
static bool worker_wanted(const char *authenticator);
static void wait_for_reload(void);

Size
http_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(HttpShared)), http_metrics_page_size());
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
http_shmem_init(void)
{
	bool		found;

	StaticAssertStmt(lengthof(((HttpShared *) NULL)->owner) == HTTP_MAX_WORKERS,
					 "one slot per worker");
	http_shared = ShmemInitStruct("zvt http", sizeof(HttpShared), &found);
	if (!found)
	{
		memset(http_shared, 0, sizeof(HttpShared));
		for (int i = 0; i < HTTP_MAX_WORKERS; i++)
		{
			pg_atomic_init_u32(&http_shared->owner[i], 0);
			pg_atomic_init_u32(&http_shared->conns[i], 0);
		}
		SpinLockInit(&http_shared->rate_lock);
		http_stats_init(http_shared);
	}
	http_metrics_page_init();
}

/* Whether worker n runs (has claimed its slot). */
bool
http_worker_running(int n)
{
	return zvt_claimed(&http_shared->owner[n]);
}

static void
http_detach(int code, Datum arg)
{
	zvt_release(&http_shared->owner[DatumGetInt32(arg)]);
}

static void
bound_take(Bound *b)
{
	memset(b, 0, sizeof(*b));
	b->port = zvt_http_port;
	b->admin_port = zvt_http_admin_port;
	snprintf(b->listen, sizeof(b->listen), "%s", zvt_http_listen);
	snprintf(b->cert, sizeof(b->cert), "%s", zvt_http_tls_cert);
	snprintf(b->key, sizeof(b->key), "%s", zvt_http_tls_key);
}

/* Whether this worker should go on serving after a reload. */
static bool
worker_wanted(const char *authenticator)
{
	return zvt_http_port != 0 && http_worker_number < zvt_http_workers &&
		strcmp(authenticator, zvt_http_authenticator) == 0;
}

/*
 * Whether the session user is a superuser, read in a transaction of its
 * own: superuser() may have to look the role up again (a change to any
 * role, such as CREATE EXTENSION zvt's, resets its cache), and a catalog
 * lookup outside a transaction has no resource owner to keep the relation
 * in (a crash, found by ASan in docker_scripts.sh).
 */
static bool
authenticator_is_superuser(void)
{
	bool		result;

	StartTransactionCommand();
	result = superuser();
	CommitTransactionCommand();
	return result;
}

/* Serve nothing until a reload; then exit so the launcher starts afresh. */
static void
wait_for_reload(void)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
			proc_exit(0);
	}
}

void
http_worker_main(Datum arg)
{
	int			n = DatumGetInt32(arg);
	char		authenticator[NAMEDATALEN];
	struct lws_context *ctx = NULL;
	TimestampTz next_try = 0;
	Bound		bound;
	Bound		now_b;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (n < 0 || n >= HTTP_MAX_WORKERS || !zvt_claim(&http_shared->owner[n]))
		proc_exit(0);
	before_shmem_exit(http_detach, Int32GetDatum(n));
	zvt_run_begin(ZVT_RUN_HTTP, n);
	http_worker_number = n;
	http_stats_worker_start();

	/* the authenticator, not the bootstrap superuser, is the session user */
	snprintf(authenticator, sizeof(authenticator), "%s", zvt_http_authenticator);
	BackgroundWorkerInitializeConnection(zvt_database, authenticator, 0);
	if (authenticator_is_superuser())
	{
		ereport(LOG,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("zvt http worker refuses to serve as superuser \"%s\"", authenticator),
				 errdetail("Every request would run with a superuser's rights."),
				 errhint("Set zvt.http_authenticator to a NOINHERIT login role without privileges, such as zvt_authenticator.")));
		wait_for_reload();
	}

	http_auth_reload();
	http_ui_load();
	ereport(LOG, (errmsg("zvt http worker %d started as \"%s\"", n, authenticator)));

	for (;;)
	{
		/* step 1: (re)open the listening sockets when needed */
		if (ctx == NULL && GetCurrentTimestamp() >= next_try)
		{
			ctx = http_server_start();
			bound_take(&bound);
			if (ctx == NULL)
				next_try = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HTTP_RETRY_MS);
		}

		/* step 2: the one wait point, then serve what is ready */
		if (ctx)
			http_server_service(ctx);
		else
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 HTTP_RETRY_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}

		/* step 3: interrupts and the postmaster */
		CHECK_FOR_INTERRUPTS();
		if (!PostmasterIsAlive())
			proc_exit(1);

		/* step 4: reload */
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (!worker_wanted(authenticator))
			{
				if (ctx)
					http_server_stop(ctx);
				proc_exit(0);
			}
			http_auth_reload();
			http_ui_load();
			bound_take(&now_b);
			if (ctx && memcmp(&now_b, &bound, sizeof(Bound)) != 0)
			{
				http_server_stop(ctx);
				ctx = NULL;
				next_try = 0;
			}
		}
	}
}
