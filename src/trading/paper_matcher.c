/*-------------------------------------------------------------------------
 *
 * src/trading/paper_matcher.c
 *	  The paper matcher: a background worker that fills resting paper
 *	  orders when prices on the market bus reach them.
 *
 * zvt.place_order (src/trading/place_order.c) leaves a limit or stop order
 * resting and calls paper_orders_rest(), which bumps the bus's paper
 * generation when its transaction commits.  The launcher starts this
 * worker whenever that generation moved past the one at which the matcher
 * last found nothing resting.  The worker puts its latch on the bus, so
 * every trade or quote written there wakes it; it then runs
 * zvt._paper_match() (sql/55_orders.sql, where the matching rules live)
 * for each instrument with resting orders, each in a transaction of its
 * own, and stops once no order rests.  Like every zvt worker it serves
 * zvt.database and does nothing while the extension is not installed
 * there.
 *
 * A pass costs what the market crossed, not what rests: the instruments
 * come from a loose index scan (zvt._paper_instruments, one probe each)
 * and zvt._paper_match reads the crossed price ranges of partial indexes
 * sorted by price, so another account's far-from-market orders are
 * neither read nor written.  Locks: zvt._paper_match only tries each
 * account's lock (base/locks.c), so the matcher never waits behind a
 * session writing an account; it holds the locks of the accounts it
 * filled for one instrument's transaction, and may hold several at
 * once, which cannot deadlock because it never waits for an account
 * lock (the rows it then locks belong to accounts it holds).  An
 * account it had to skip is matched again MATCHER_RETRY_MS later (then
 * less often while it stays busy), and on every new price.
 *
 * Shared memory ("zvt matcher", MatcherShared) holds the running
 * matcher's pid, claimed at start so that only one matcher ever runs
 * (base/claim.h), the paper generation at which it last found nothing
 * resting (the launcher starts it again only past it), and its counters,
 * written by the matcher alone; and, for the trading part as a whole, the
 * place_order latency histogram, which every backend adds to atomically.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "base/runs.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/claim.h"
#include "base/export.h"
#include "bus/bus.h"
#include "trading/matcher.h"
#include "trading/trading.h"
#include "zvt.h"

PGDLLEXPORT void paper_matcher_main(Datum arg);

typedef struct MatcherShared
{
	pg_atomic_uint32 owner;		/* the running matcher's pid (base/claim.h) */
	pg_atomic_uint64 idle;		/* paper generation + 1 at which it found
								 * nothing resting; PG_UINT64_MAX: running */
	int64		passes;			/* written by the matcher only */
	int64		changes;		/* orders triggered or filled by it */
	/* place_order calls by latency (any backend: atomics), and their sum, us */
	pg_atomic_uint64 order_latency[ORDER_LATENCY_BOUNDS + 1];
	pg_atomic_uint64 order_latency_sum_us;
} MatcherShared;

static MatcherShared *matcher_shared = NULL;

static bool rest_flagged = false;
static bool rest_callback_registered = false;

/* At commit, and only then, tell the launcher that an order rests. */
static void
paper_rest_xact_callback(XactEvent event, void *arg)
{
	if (!rest_flagged)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
		bus_paper_orders_rest();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		rest_flagged = false;
}

/* Flag that a paper order rests: the launcher hears of it at commit. */
void
paper_orders_rest(void)
{
	zvt_require_preload("paper trading");
	if (!rest_callback_registered)
	{
		RegisterXactCallback(paper_rest_xact_callback, NULL);
		rest_callback_registered = true;
	}
	rest_flagged = true;
}

PG_FUNCTION_INFO_V1(zvt_paper_wake);

/*
 * zvt._paper_wake(): tell the launcher at commit that paper orders may
 * rest, so the matcher looks again even though no order came to rest
 * through zvt.place_order.  CREATE EXTENSION calls it: pg_restore
 * --single-transaction loads the orders of a dump in the same
 * transaction, into a database whose matcher went idle before they
 * existed.  Without the preloaded library there is no matcher to wake.
 */
Datum
zvt_paper_wake(PG_FUNCTION_ARGS)
{
	if (zvt_preloaded)
		paper_orders_rest();
	PG_RETURN_VOID();
}

Size
matcher_shmem_size(void)
{
	return MAXALIGN(sizeof(MatcherShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
matcher_shmem_init(void)
{
	bool		found;

	matcher_shared = ShmemInitStruct("zvt matcher", sizeof(MatcherShared), &found);
	if (!found)
	{
		memset(matcher_shared, 0, sizeof(MatcherShared));
		pg_atomic_init_u32(&matcher_shared->owner, 0);
		pg_atomic_init_u64(&matcher_shared->idle, 0);
		for (int i = 0; i <= ORDER_LATENCY_BOUNDS; i++)
			pg_atomic_init_u64(&matcher_shared->order_latency[i], 0);
		pg_atomic_init_u64(&matcher_shared->order_latency_sum_us, 0);
	}
}

/* Whether a matcher runs (has claimed the slot). */
bool
matcher_running(void)
{
	return zvt_claimed(&matcher_shared->owner);
}

/* Whether the matcher last found nothing resting at this paper generation. */
bool
matcher_is_idle(uint64 paper_generation)
{
	return pg_atomic_read_u64(&matcher_shared->idle) == paper_generation + 1;
}

/*
 * Record that nothing rested at paper_generation (PG_UINT64_MAX: the
 * matcher runs or must be started again).
 */
void
matcher_mark_idle(uint64 paper_generation)
{
	pg_atomic_write_u64(&matcher_shared->idle,
						paper_generation == PG_UINT64_MAX ? PG_UINT64_MAX : paper_generation + 1);
}

/*
 * The matcher's passes and the orders it triggered or filled, since
 * server start (written by the matcher alone: a torn read is a statistic).
 */
void
matcher_counters(int64 *passes, int64 *changes)
{
	*passes = matcher_shared->passes;
	*changes = matcher_shared->changes;
}

/* place_order latency buckets, us: a risk check takes microseconds, a fill more */
const int64 order_latency_bounds_us[ORDER_LATENCY_BOUNDS] = {
	25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 1000000
};

/*
 * Count one place_order call that took us microseconds (nothing when zvt
 * is not preloaded: place_order then raises before it returns anyway).
 */
void
order_latency_record(int64 us)
{
	int			i = 0;

	if (matcher_shared == NULL)
		return;
	us = Max(us, 0);
	while (i < ORDER_LATENCY_BOUNDS && us > order_latency_bounds_us[i])
		i++;
	pg_atomic_fetch_add_u64(&matcher_shared->order_latency[i], 1);
	pg_atomic_fetch_add_u64(&matcher_shared->order_latency_sum_us, (uint64) us);
}

/* Copy the histogram: counts[ORDER_LATENCY_BOUNDS + 1] per bucket, and the sum. */
void
order_latency_read(int64 *counts, int64 *sum_us)
{
	for (int i = 0; i <= ORDER_LATENCY_BOUNDS; i++)
		counts[i] = (int64) pg_atomic_read_u64(&matcher_shared->order_latency[i]);
	*sum_us = (int64) pg_atomic_read_u64(&matcher_shared->order_latency_sum_us);
}

static void
matcher_detach(int code, Datum arg)
{
	bus_set_matcher_latch(NULL);
	zvt_release(&matcher_shared->owner);
}

/*
 * Run one statement returning rows of int4 columns in a transaction of
 * its own and copy up to max rows of ncols columns into out, row after
 * row (a NULL reads as 0; a row whose first column is NULL is left out).
 * Returns the rows copied, -1 when zvt is not installed, -2 on an error.
 * An error (a deadlock with a session trading the same accounts, say) is
 * logged and rolled back, and the pass goes on with the next statement:
 * one failure costs a match, not the worker.
 */
static int
matcher_query(const char *sql, int nargs, Oid *argtypes, Datum *args,
			  int32 *out, int max, int ncols)
{
	volatile int n = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, sql);
		if (!OidIsValid(get_extension_oid("zvt", true)))
			n = -1;
		else
		{
			SPI_connect();
			if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0) != SPI_OK_SELECT ||
				SPI_tuptable->tupdesc->natts < ncols)
				elog(ERROR, "zvt paper matcher: \"%s\" failed", sql);
			for (uint64 i = 0; i < SPI_processed && n < max; i++)
			{
				HeapTuple	tup = SPI_tuptable->vals[i];
				bool		isnull;

				(void) SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
				if (isnull)
					continue;
				for (int c = 0; c < ncols; c++)
				{
					Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, c + 1, &isnull);

					out[n * ncols + c] = isnull ? 0 : DatumGetInt32(d);
				}
				n++;
			}
			SPI_finish();
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		RESUME_INTERRUPTS();
		n = -2;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return n;
}

/* instruments read per query; more are read page by page */
#define MATCHER_BATCH 1024

/*
 * How soon to come back for orders skipped because their account was
 * busy: MATCHER_RETRY_MS, doubling while the account stays busy, up to
 * the one-second pass every worker does anyway.
 */
#define MATCHER_RETRY_MS 100
#define MATCHER_PASS_MS 1000

/* what a pass found */
typedef enum MatchOutcome
{
	MATCH_IDLE,					/* no order rests (or zvt is gone) */
	MATCH_DONE,					/* every crossed order was matched */
	MATCH_RETRY					/* some were left for later: a busy account */
} MatchOutcome;

/*
 * One pass: the instruments with resting orders, a page at a time, then
 * zvt._paper_match() for each in a transaction of its own, so that the
 * account locks it takes are held for one instrument's orders only.
 */
static MatchOutcome
matcher_pass(void)
{
	static int32 instruments[MATCHER_BATCH];
	int32		after = 0;
	bool		any = false;
	bool		retry = false;

	matcher_shared->passes++;
	for (;;)
	{
		Oid			argtype = INT4OID;
		Datum		arg = Int32GetDatum(after);
		int			n;

		n = matcher_query("SELECT id FROM zvt._paper_instruments($1) id LIMIT "
						  CppAsString2(MATCHER_BATCH),
						  1, &argtype, &arg, instruments, MATCHER_BATCH, 1);
		if (n == -2)
			return MATCH_DONE;	/* logged; try again on the next price */
		if (n <= 0)
			break;
		any = true;
		for (int i = 0; i < n; i++)
		{
			int32		res[2];	/* changed, skipped */

			CHECK_FOR_INTERRUPTS();
			arg = Int32GetDatum(instruments[i]);
			if (matcher_query("SELECT changed, skipped FROM zvt._paper_match($1, false)",
							  1, &argtype, &arg, res, 1, 2) == 1)
			{
				matcher_shared->changes += res[0];
				retry |= res[1] > 0;
			}
		}
		if (n < MATCHER_BATCH)
			break;
		after = instruments[n - 1];
	}
	if (!any)
		return MATCH_IDLE;
	return retry ? MATCH_RETRY : MATCH_DONE;
}

void
paper_matcher_main(Datum arg)
{
	uint64		prices_seen = 0;
	TimestampTz last_pass = 0;
	long		next_pass_ms = MATCHER_PASS_MS; /* a pass at least this often */
	long		retry_ms = MATCHER_RETRY_MS;	/* the next wait for a busy account */

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("zvt paper matcher");

	/* one matcher, even after a crash restart or a new launcher */
	if (!zvt_claim(&matcher_shared->owner))
	{
		ereport(LOG, (errmsg("zvt paper matcher is already running; this one exits")));
		proc_exit(0);
	}
	before_shmem_exit(matcher_detach, 0);
	zvt_run_begin(ZVT_RUN_PAPER_MATCHER, 0);
	matcher_mark_idle(PG_UINT64_MAX);	/* running: restart me if I stop */
	bus_set_matcher_latch(MyLatch);

	for (;;)
	{
		/* read before the pass: an order resting after it moves it on */
		uint64		paper_gen = bus_paper_generation();
		uint64		prices = bus_generation();
		TimestampTz now = GetCurrentTimestamp();

		if (!zvt_paper_matcher)
			break;

		/*
		 * A pass on every new price, and one a second regardless, which
		 * notices when orders stop resting (canceled, filled elsewhere);
		 * sooner while orders of a busy account wait.
		 */
		if (prices != prices_seen || last_pass == 0 ||
			TimestampDifferenceExceeds(last_pass, now, (int) next_pass_ms))
		{
			MatchOutcome outcome;

			prices_seen = prices;
			last_pass = now;
			outcome = matcher_pass();
			if (outcome == MATCH_IDLE)
			{
				/* nothing rests: the launcher starts us again when an order does */
				matcher_mark_idle(paper_gen);
				break;
			}
			if (outcome == MATCH_RETRY)
			{
				next_pass_ms = retry_ms;
				retry_ms = Min(retry_ms * 2, MATCHER_PASS_MS);
			}
			else
			{
				next_pass_ms = MATCHER_PASS_MS;
				retry_ms = MATCHER_RETRY_MS;
			}
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 next_pass_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	proc_exit(0);
}
