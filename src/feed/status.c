/*-------------------------------------------------------------------------
 *
 * src/feed/status.c
 *	  The feeds' shared memory ("zvt feed"): per exchange, its worker's
 *	  counters (zvt.feed_status) and three generations.
 *
 * Generations, one set per exchange (the index in feed_exchanges):
 *	- subscriptions: bumped when a transaction that changed the exchange's
 *	  subscriptions (zvt.subscribe, zvt.unsubscribe) commits, never on
 *	  rollback.  The exchange's worker re-reads its subscriptions when it
 *	  moves; the launcher starts an idle worker only when its own
 *	  exchange's generation moved.  A change to binance's subscriptions
 *	  therefore touches binance's worker alone.
 *	- instruments: bumped when zvt.sync_instruments() commits; the running
 *	  worker reloads its symbol map (an idle one is not woken for it).
 *	- idle: the subscriptions generation + 1 at which the worker last
 *	  found nothing to stream and exited (0: running, or never ran); the
 *	  launcher leaves it stopped until the subscriptions generation moves.
 *
 * Everything is an atomic or a statistic written by one process, so no
 * lock: the counters of FeedStats are written only by their worker, and
 * readers accept a torn value.  Transactions are flagged per backend and
 * the bump happens in an XactCallback at commit (as the bus's).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "base/claim.h"
#include "bus/bus.h"
#include "feed/exchanges.h"
#include "feed/status.h"
#include "zvt.h"

typedef struct FeedShared
{
	FeedStats	stats[FEED_EXCHANGES];	/* see FeedStats: no lock */
	pg_atomic_uint64 subscriptions[FEED_EXCHANGES];
	pg_atomic_uint64 instruments[FEED_EXCHANGES];
	pg_atomic_uint64 idle[FEED_EXCHANGES];
	pg_atomic_uint32 owner[FEED_EXCHANGES]; /* pid of the running worker (base/claim.h) */
} FeedShared;

static FeedShared *feed_shared = NULL;

/* exchanges whose generations this backend's transaction bumps at commit (bits) */
static uint32 flagged_subscriptions = 0;
static uint32 flagged_instruments = 0;
static bool callback_registered = false;

/*
 * Bucket bounds of the receive-to-commit latency, us: from half a
 * millisecond (a flush at the default 2 ms interval commits within a few)
 * to 2.5 s (a stalled flush).
 */
const int64 feed_latency_bounds_us[FEED_LATENCY_BOUNDS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000
};

PG_FUNCTION_INFO_V1(zvt_feed_stats);
PG_FUNCTION_INFO_V1(zvt_feed_subscriptions_changed);
PG_FUNCTION_INFO_V1(zvt_subscriptions_changed);

Size
feed_shmem_size(void)
{
	return MAXALIGN(sizeof(FeedShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
feed_shmem_init(void)
{
	bool		found;

	feed_shared = ShmemInitStruct("zvt feed", sizeof(FeedShared), &found);
	if (!found)
	{
		memset(feed_shared, 0, sizeof(FeedShared));
		for (int i = 0; i < FEED_EXCHANGES; i++)
		{
			pg_atomic_init_u64(&feed_shared->subscriptions[i], 0);
			pg_atomic_init_u64(&feed_shared->instruments[i], 0);
			pg_atomic_init_u64(&feed_shared->idle[i], 0);
		}
	}
}

static void
feed_require(void)
{
	zvt_require_preload("zvt feeds");
}

/* The counters of exchange's worker; raises 55000 unless preloaded. */
FeedStats *
feed_stats(int exchange)
{
	feed_require();
	return &feed_shared->stats[exchange];
}

static void
feed_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && feed_shared)
	{
		for (int i = 0; i < FEED_EXCHANGES; i++)
		{
			if (flagged_subscriptions & (1u << i))
				pg_atomic_fetch_add_u64(&feed_shared->subscriptions[i], 1);
			if (flagged_instruments & (1u << i))
				pg_atomic_fetch_add_u64(&feed_shared->instruments[i], 1);
		}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		flagged_subscriptions = flagged_instruments = 0;
}

static void
flag(uint32 *set, int exchange)
{
	if (exchange < 0 || exchange >= FEED_EXCHANGES)
		return;
	if (!callback_registered)
	{
		RegisterXactCallback(feed_xact_callback, NULL);
		callback_registered = true;
	}
	*set |= 1u << exchange;
}

/* At commit of this transaction, exchange's worker re-reads its subscriptions. */
void
feed_subscriptions_changed(int exchange)
{
	flag(&flagged_subscriptions, exchange);
}

/* At commit of this transaction, exchange's worker reloads its symbol map. */
void
feed_instruments_changed(int exchange)
{
	flag(&flagged_instruments, exchange);
}

uint64
feed_subscription_generation(int exchange)
{
	feed_require();
	return pg_atomic_read_u64(&feed_shared->subscriptions[exchange]);
}

uint64
feed_instrument_generation(int exchange)
{
	feed_require();
	return pg_atomic_read_u64(&feed_shared->instruments[exchange]);
}

/*
 * Record that exchange's worker found nothing to stream at subscription
 * generation `generation`, or, with PG_UINT64_MAX, that it runs (or is
 * being started) and must be started again if it stops.
 */
void
feed_mark_idle(int exchange, uint64 generation)
{
	feed_require();
	pg_atomic_write_u64(&feed_shared->idle[exchange],
						generation == PG_UINT64_MAX ? 0 : generation + 1);
}

/*
 * Count one event committed `us` microseconds after its frame arrived
 * (the worker's own stats only; a negative time, the clock stepping
 * back, counts as 0).
 */
void
feed_record_latency(FeedStats *stats, int64 us)
{
	int			i = 0;

	us = Max(us, 0);
	while (i < FEED_LATENCY_BOUNDS && us > feed_latency_bounds_us[i])
		i++;
	stats->latency_buckets[i]++;
	stats->latency_sum_us += us;
}

/*
 * Claim exchange's worker slot for this process (false: another worker
 * of that exchange runs), give it back, or ask whether one runs.
 */
bool
feed_claim(int exchange)
{
	feed_require();
	return zvt_claim(&feed_shared->owner[exchange]);
}

void
feed_release(int exchange)
{
	if (feed_shared != NULL)
		zvt_release(&feed_shared->owner[exchange]);
}

bool
feed_running(int exchange)
{
	feed_require();
	return zvt_claimed(&feed_shared->owner[exchange]);
}

/* Whether exchange's worker last found nothing to stream at this generation. */
bool
feed_is_idle(int exchange, uint64 generation)
{
	feed_require();
	return pg_atomic_read_u64(&feed_shared->idle[exchange]) == generation + 1;
}

/*
 * zvt._subscriptions_changed(exchange text): flag the transaction; at
 * commit that exchange's worker re-reads zvt.subscriptions (an exchange
 * without an adapter has no worker: nothing to do).  The bus's count of
 * subscription changes (zvt._bus_counters) moves too.
 *
 * Each flag wakes that exchange's worker, which may start and fetch the
 * exchange's instrument list: only a role that may change
 * zvt.subscriptions (INSERT, UPDATE, DELETE or TRUNCATE on it, as
 * zvt.subscribe, zvt.unsubscribe and the table's triggers need) may
 * raise it, else 42501.
 */
Datum
zvt_feed_subscriptions_changed(PG_FUNCTION_ARGS)
{
	char	   *exchange = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			nsp = get_namespace_oid("zvt", false);
	Oid			rel = get_relname_relid("subscriptions", nsp);

	if (!OidIsValid(rel) ||
		pg_class_aclmask(rel, GetUserId(), ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE, ACLMASK_ANY) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to signal a change of subscriptions"),
				 errdetail("Only roles that may change zvt.subscriptions may wake the feed workers.")));

	feed_subscriptions_changed(feed_exchange_index(exchange));
	bus_subscriptions_changed();
	PG_RETURN_VOID();
}

/*
 * The same function under the C name of zvt 0.1.0's install script, which
 * zvt.so keeps so that CREATE EXTENSION zvt VERSION '0.1.0' still loads
 * (ALTER EXTENSION zvt UPDATE then rebinds it to the name above).
 */
Datum
zvt_subscriptions_changed(PG_FUNCTION_ARGS)
{
	return zvt_feed_subscriptions_changed(fcinfo);
}

/*
 * zvt._feed_stats() RETURNS TABLE (exchange text, pid int, state text,
 *   connected_since timestamptz, last_message_at timestamptz, messages bigint,
 *   events bigint, rows_written bigint, parse_errors bigint,
 *   exchange_errors bigint, reconnects bigint, unmapped bigint,
 *   flush_retries bigint, book_resyncs bigint)
 */
Datum
zvt_feed_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const states[] = {"disconnected", "connecting", "connected"};

	zvt_require_preload("zvt.feed_status");
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		FeedStats	s = feed_shared->stats[i];
		Datum		v[14];
		bool		n[14] = {false};

		v[0] = CStringGetTextDatum(feed_exchanges[i].name);
		v[1] = Int32GetDatum(s.pid);
		n[1] = s.pid == 0;
		v[2] = CStringGetTextDatum(s.pid == 0 ? "stopped" : states[Min(Max(s.state, 0), 2)]);
		v[3] = TimestampTzGetDatum(s.connected_since);
		n[3] = s.connected_since == 0;
		v[4] = TimestampTzGetDatum(s.last_message_at);
		n[4] = s.last_message_at == 0;
		v[5] = Int64GetDatum(s.messages);
		v[6] = Int64GetDatum(s.events);
		v[7] = Int64GetDatum(s.rows_written);
		v[8] = Int64GetDatum(s.parse_errors);
		v[9] = Int64GetDatum(s.exchange_errors);
		v[10] = Int64GetDatum(s.reconnects);
		v[11] = Int64GetDatum(s.unmapped);
		v[12] = Int64GetDatum(s.flush_retries);
		v[13] = Int64GetDatum(s.book_resyncs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	PG_RETURN_VOID();
}
