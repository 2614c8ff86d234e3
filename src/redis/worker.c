/*-------------------------------------------------------------------------
 *
 * src/redis/worker.c
 *	  The Redis publisher ("zvt redis"): reads the market event ring and
 *	  sends every event to Redis (publish.c), reconnecting with backoff.
 *
 * The launcher starts it while zvt.redis_url is set; it claims its slot
 * in shared memory ("zvt redis", base/claim.h) so only one runs, and
 * exits 0 when the URL is set back to ''.  It connects to zvt.database to
 * map instrument ids to names and to read the bus for resyncs.
 *
 * The loop, one wait point (the latch: the ring's appenders set it):
 *	1. the URL emptied: leave; the URL changed: drop the connection;
 *	2. not connected and the backoff is over: connect (AUTH, SELECT), then
 *	   resync the last-value hashes from the bus; a failure (of the
 *	   connection or of a batch on it) doubles the backoff, 250 ms up to
 *	   10 s, plus up to 50% jitter, until a batch goes through;
 *	3. no batch in hand: read up to REDIS_BATCH events from the ring with
 *	   this worker's cursor; events the ring overwrote before they were
 *	   read are added to "dropped" (exactly, from the seq gap), and the
 *	   last-value hashes are resynced from the bus, as the ones in the
 *	   lost events may be missing;
 *	4. connected: send the batch as one pipeline; on success the resume
 *	   point moves past it; on an I/O error the connection is dropped and
 *	   the batch kept, to be sent whole on the next connection;
 *	5. wait (not at all while the ring holds more), interrupts, reload.
 * So the ring is the bounded queue: while Redis is away, events wait in
 * it, and the feeds never wait for the publisher.  A reconnect within the
 * ring's capacity loses nothing; beyond it the drop count says how much.
 *
 * The resume point (the next seq to publish) lives in shared memory: a
 * publisher restarted after a crash goes on where the last one's
 * acknowledged batches ended.  At server start it is 1 when a URL is set,
 * so nothing committed before the publisher first ran is missed; when the
 * URL is set later it starts at the ring's head.
 *
 * hiredis is used in blocking mode with REDIS_IO_TIMEOUT_MS on connect,
 * reads and writes: a stuck Redis holds this worker, never a feed.
 * Debian 12's hiredis 0.14 has no TLS: for rediss:// the connection goes
 * through a relay thread (tls.c) that speaks TLS to the server, verifying
 * its certificate (zvt.redis_tls_ca_file) and presenting a client
 * certificate when one is set; hiredis talks to the relay's socketpair.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include <hiredis/hiredis.h>

#include "access/xact.h"
#include "base/runs.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
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
#include "bus/events.h"
#include "redis/publish.h"
#include "redis/redis.h"
#include "redis/tls.h"
#include "redis/url.h"
#include "zvt.h"

PGDLLEXPORT void redis_worker_main(Datum arg);

#define REDIS_BATCH 512
#define REDIS_IO_TIMEOUT_MS 5000
#define REDIS_BACKOFF_MIN_MS 250
#define REDIS_BACKOFF_MAX_MS 10000

RedisShared *redis_shared = NULL;

static redisContext *conn = NULL;
static char conn_url[1024];		/* the URL conn was made with */
static char conn_tls[3 * MAXPGPATH];	/* and the TLS files */
static RedisTls *relay = NULL;	/* the TLS relay under conn (rediss://) */
static int	listen_slot = -1;

static void redis_detach(int code, Datum arg);
static void disconnect(void);
static bool connect_now(void);
static bool command_ok(const char *what, redisReply *reply);
static TimestampTz backoff(int *backoff_ms);

Size
redis_shmem_size(void)
{
	return MAXALIGN(sizeof(RedisShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
redis_shmem_init(void)
{
	bool		found;

	redis_shared = ShmemInitStruct("zvt redis", sizeof(RedisShared), &found);
	if (!found)
	{
		memset(redis_shared, 0, sizeof(RedisShared));
		pg_atomic_init_u32(&redis_shared->owner, 0);
		SpinLockInit(&redis_shared->mutex);
		/* a URL set at start: publish from the ring's first event */
		redis_shared->resume_valid = zvt_redis_url != NULL && zvt_redis_url[0] != '\0';
		redis_shared->resume_next = 1;
	}
}

/* Whether a publisher runs (has claimed the slot). */
bool
redis_running(void)
{
	return redis_shared != NULL && zvt_claimed(&redis_shared->owner);
}

/*
 * A copy of the publisher's state (for the metrics endpoint), and whether
 * a publisher runs.  Needs no transaction.
 */
bool
redis_counters(RedisShared *out)
{
	SpinLockAcquire(&redis_shared->mutex);
	*out = *redis_shared;
	SpinLockRelease(&redis_shared->mutex);
	return redis_running();
}

/* zvt.redis_url: '' or a URL redis_url_parse takes. */
bool
redis_url_check_hook(char **newval, void **extra, GucSource source)
{
	RedisUrl	u;
	char		reason[200];

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!redis_url_parse(*newval, &u, reason, sizeof(reason)))
	{
		GUC_check_errdetail("%s.", reason);
		GUC_check_errhint("Use redis[s]://[user:password@]host[:port][/db].");
		return false;
	}
	return true;
}

/* Record what went wrong last, for zvt.redis_status. */
void
redis_set_error(const char *fmt,...)
{
	char		buf[REDIS_ERROR_LEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SpinLockAcquire(&redis_shared->mutex);
	strlcpy(redis_shared->last_error, buf, sizeof(redis_shared->last_error));
	redis_shared->last_error_at = GetCurrentTimestamp();
	SpinLockRelease(&redis_shared->mutex);
}

static void
redis_detach(int code, Datum arg)
{
	disconnect();
	bus_events_unlisten(listen_slot);
	zvt_release(&redis_shared->owner);
}

/* ----------------------------------------------------------------
 *		The connection
 * ----------------------------------------------------------------
 */

static void
disconnect(void)
{
	if (conn)
		redisFree(conn);		/* closes the relay's socket: it ends */
	conn = NULL;
	redis_tls_stop(relay);
	relay = NULL;
	SpinLockAcquire(&redis_shared->mutex);
	redis_shared->connected = false;
	SpinLockRelease(&redis_shared->mutex);
}

/* A reply to a set-up command: fine, or the error recorded. */
static bool
command_ok(const char *what, redisReply *reply)
{
	bool		ok;

	if (reply == NULL)
	{
		redis_set_error("could not send %s: %s", what, conn->errstr[0] ? conn->errstr : "connection lost");
		return false;
	}
	ok = reply->type != REDIS_REPLY_ERROR;
	if (!ok)
		redis_set_error("%s failed: %s", what, reply->str);
	freeReplyObject(reply);
	return ok;
}

/* The TLS settings in one string: a change of any of them reconnects. */
static void
tls_settings(char *out, size_t len)
{
	snprintf(out, len, "%s\n%s\n%s", zvt_redis_tls_ca_file ? zvt_redis_tls_ca_file : "",
			 zvt_redis_tls_cert_file ? zvt_redis_tls_cert_file : "",
			 zvt_redis_tls_key_file ? zvt_redis_tls_key_file : "");
}

static bool
same_tls_settings(void)
{
	char		now[sizeof(conn_tls)];

	tls_settings(now, sizeof(now));
	return strcmp(now, conn_tls) == 0;
}

/*
 * A hiredis context over a TLS relay to u's server, or NULL with the
 * error recorded.
 */
static redisContext *
connect_tls(const RedisUrl *u)
{
	RedisTlsOptions opt;
	char		err[REDIS_ERROR_LEN];
	int			fd;
	redisContext *c;

	opt.ca_file = zvt_redis_tls_ca_file;
	opt.cert_file = zvt_redis_tls_cert_file;
	opt.key_file = zvt_redis_tls_key_file;
	opt.timeout_ms = REDIS_IO_TIMEOUT_MS;
	relay = redis_tls_start(u->host, u->port, &opt, &fd, err, sizeof(err));
	if (relay == NULL)
	{
		redis_set_error("could not connect to %s:%d over TLS: %s", u->host, u->port, err);
		return NULL;
	}
	c = redisConnectFd(fd);
	if (c == NULL)
	{
		close(fd);
		redis_set_error("could not connect to %s:%d over TLS: out of memory", u->host, u->port);
	}
	return c;
}

/*
 * Connect to zvt.redis_url, AUTH and SELECT; false (the error recorded
 * and logged when it differs from the last one) on failure.
 */
static bool
connect_now(void)
{
	static char said[REDIS_ERROR_LEN] = "";
	RedisUrl	u;
	char		reason[200];
	struct timeval tv = {REDIS_IO_TIMEOUT_MS / 1000, (REDIS_IO_TIMEOUT_MS % 1000) * 1000};
	bool		ok = false;

	if (!redis_url_parse(zvt_redis_url, &u, reason, sizeof(reason)))
	{
		redis_set_error("zvt.redis_url is malformed (%s)", reason);	/* the check hook forbids it */
		return false;
	}
	strlcpy(conn_url, zvt_redis_url, sizeof(conn_url));
	tls_settings(conn_tls, sizeof(conn_tls));
	if (u.tls)
		conn = connect_tls(&u);
	else
		conn = redisConnectWithTimeout(u.host, u.port, tv);
	if (conn == NULL && u.tls)
		;						/* connect_tls said why */
	else if (conn == NULL || conn->err)
		redis_set_error("could not connect to %s:%d: %s", u.host, u.port,
						conn ? conn->errstr : "out of memory");
	else if (redisSetTimeout(conn, tv) != REDIS_OK)
		redis_set_error("could not set the timeout: %s", conn->errstr);
	else if (u.has_password && u.user[0] != '\0' &&
			 !command_ok("AUTH", redisCommand(conn, "AUTH %s %s", u.user, u.password)))
		;
	else if (u.has_password && u.user[0] == '\0' &&
			 !command_ok("AUTH", redisCommand(conn, "AUTH %s", u.password)))
		;
	else if (u.db != 0 && !command_ok("SELECT", redisCommand(conn, "SELECT %d", u.db)))
		;
	else
		ok = true;
	if (!ok)
	{
		SpinLockAcquire(&redis_shared->mutex);
		if (strcmp(said, redis_shared->last_error) != 0)
		{
			strlcpy(said, redis_shared->last_error, sizeof(said));
			SpinLockRelease(&redis_shared->mutex);
			ereport(LOG, (errmsg("zvt redis: %s", said),
						  errhint("zvt tries again with a backoff of up to %d s.", REDIS_BACKOFF_MAX_MS / 1000)));
		}
		else
			SpinLockRelease(&redis_shared->mutex);
		disconnect();
		return false;
	}
	said[0] = '\0';
	SpinLockAcquire(&redis_shared->mutex);
	redis_shared->connected = true;
	redis_shared->connected_since = GetCurrentTimestamp();
	snprintf(redis_shared->server, sizeof(redis_shared->server),
			 strchr(u.host, ':') ? "[%s]:%d/%d%s" : "%s:%d/%d%s", u.host, u.port, u.db,
			 u.tls ? " (TLS)" : "");
	SpinLockRelease(&redis_shared->mutex);
	ereport(LOG, (errmsg("zvt redis connected to %s:%d/%d%s", u.host, u.port, u.db,
						 u.tls ? " over TLS" : "")));
	return true;
}

/*
 * When to try the next connection after a failure: *backoff_ms from now
 * plus up to half of it at random, and *backoff_ms doubles up to
 * REDIS_BACKOFF_MAX_MS.  It goes back to the minimum once a batch has
 * gone through, so a server that accepts connections and then fails
 * every batch is not hammered.
 */
static TimestampTz
backoff(int *backoff_ms)
{
	int			jitter = (int) pg_prng_uint64_range(&pg_global_prng_state, 0, *backoff_ms / 2);
	TimestampTz next = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), *backoff_ms + jitter);

	*backoff_ms = Min(*backoff_ms * 2, REDIS_BACKOFF_MAX_MS);
	return next;
}

/* ----------------------------------------------------------------
 *		The loop
 * ----------------------------------------------------------------
 */

void
redis_worker_main(Datum arg)
{
	MemoryContext loop_context;
	BusRing    *ring;
	BusRingCursor cursor;
	BusEvent   *batch;
	int			nbatch = 0;
	bool		ever_connected = false;
	bool		want_resync = false;
	int			backoff_ms = REDIS_BACKOFF_MIN_MS;
	TimestampTz next_connect = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "on", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("zvt redis");

	ring = bus_events_ring();
	if (ring == NULL)
	{
		ereport(LOG, (errmsg("zvt redis has nothing to read: zvt.event_ring_size is 0")));
		proc_exit(0);
	}
	/* one publisher, even after a crash restart or a new launcher */
	if (!zvt_claim(&redis_shared->owner))
	{
		ereport(LOG, (errmsg("zvt redis is already running; this one exits")));
		proc_exit(0);
	}
	before_shmem_exit(redis_detach, 0);
	zvt_run_begin(ZVT_RUN_REDIS, 0);
	listen_slot = bus_events_listen(MyLatch);

	/* where the last publisher stopped, else what comes from now on */
	bus_ring_cursor_init(ring, &cursor);
	if (redis_shared->resume_valid)
		cursor.next = Min(redis_shared->resume_next, cursor.next);
	redis_shared->resume_next = cursor.next;
	redis_shared->resume_valid = true;

	batch = MemoryContextAlloc(TopMemoryContext, sizeof(BusEvent) * REDIS_BATCH);
	loop_context = AllocSetContextCreate(TopMemoryContext, "zvt redis loop", ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		wait_ms = 1000;
		MemoryContext old;
		TimestampTz now = GetCurrentTimestamp();

		/* step 1: switched off, or pointed elsewhere */
		if (zvt_redis_url == NULL || zvt_redis_url[0] == '\0')
			break;
		if (conn && (strcmp(conn_url, zvt_redis_url) != 0 || !same_tls_settings()))
		{
			disconnect();
			next_connect = 0;
		}

		old = MemoryContextSwitchTo(loop_context);

		/* step 2: connect when due, and rewrite the last values */
		if (conn == NULL && now >= next_connect)
		{
			if (connect_now())
			{
				if (ever_connected)
					redis_shared->reconnects++;
				ever_connected = true;
				want_resync = true;
			}
			else
				next_connect = backoff(&backoff_ms);
		}

		/* step 3: a batch from the ring; an overrun counts and resyncs */
		if (nbatch == 0)
		{
			uint64		dropped = cursor.dropped;

			nbatch = bus_ring_read(ring, &cursor, batch, REDIS_BATCH);
			if (cursor.dropped != dropped)
			{
				redis_shared->dropped += (int64) (cursor.dropped - dropped);
				want_resync = true;
				if (nbatch == 0)
					redis_shared->resume_next = cursor.next;
			}
		}

		/* step 4: send; keep the batch when the connection fails */
		if (conn && want_resync)
		{
			if (redis_resync(conn))
				want_resync = false;
			else
			{
				disconnect();
				next_connect = backoff(&backoff_ms);
			}
		}
		if (conn && nbatch > 0)
		{
			int64		sent;

			if (redis_publish_batch(conn, batch, nbatch, &sent))
			{
				redis_shared->events_sent += sent;
				redis_shared->lag_us = GetCurrentTimestamp() - batch[nbatch - 1].appended_at;
				redis_shared->last_sent_at = GetCurrentTimestamp();
				redis_shared->resume_next = cursor.next;
				nbatch = 0;
				backoff_ms = REDIS_BACKOFF_MIN_MS;	/* a working connection */
			}
			else
			{
				disconnect();
				next_connect = backoff(&backoff_ms);
			}
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_context);

		/* step 5: wait unless there is more to send now */
		if (conn && nbatch == 0 && bus_ring_head(ring) > cursor.next)
			wait_ms = 0;
		else if (conn == NULL)
			wait_ms = Max(1, Min(wait_ms, (next_connect - GetCurrentTimestamp()) / 1000));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	/* switched off: the next publisher starts at the head, not here */
	redis_shared->resume_valid = false;
	ereport(LOG, (errmsg("zvt redis stopped: zvt.redis_url is empty")));
	proc_exit(0);
}
