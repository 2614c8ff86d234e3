/*-------------------------------------------------------------------------
 *
 * src/trading/paper_matcher.c
 *	  The paper matcher: a background worker that fills resting paper
 *	  orders when prices on the market bus reach them.
 *
 * zvt.place_order leaves a limit or stop order resting and calls
 * zvt._paper_orders_rest(), which bumps the bus's paper generation when its
 * transaction commits.  The launcher starts this worker whenever that
 * generation moved past the one at which the matcher last found nothing
 * resting.  The worker puts its latch on the bus, so every trade or quote
 * written there wakes it; it then runs zvt.paper_match() (sql/55_orders.sql,
 * where the matching rules live) in a transaction of its own, and stops
 * once no order rests.  Like every zvt worker it serves zvt.database and
 * does nothing while the extension is not installed there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
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

#include "bus/bus.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_paper_orders_rest);

PGDLLEXPORT void paper_matcher_main(Datum arg);

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

/* zvt._paper_orders_rest(): an order of this transaction rests. */
Datum
zvt_paper_orders_rest(PG_FUNCTION_ARGS)
{
	zvt_require_preload("paper trading");
	if (!rest_callback_registered)
	{
		RegisterXactCallback(paper_rest_xact_callback, NULL);
		rest_callback_registered = true;
	}
	rest_flagged = true;
	PG_RETURN_VOID();
}

static void
matcher_detach(int code, Datum arg)
{
	bus_set_matcher_latch(NULL);
	zvt_shared->matcher_pid = 0;
}

/*
 * One pass of zvt.paper_match() in a transaction; false when no order
 * rests (or the extension is gone).
 */
static bool
matcher_pass(void)
{
	bool		resting = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "SELECT zvt.paper_match()");
	if (OidIsValid(get_extension_oid("zvt", true)))
	{
		bool		isnull;
		Datum		changed;

		SPI_connect();
		if (SPI_execute("SELECT zvt.paper_match()", false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt.paper_match() failed");
		changed = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		resting = !isnull;
		if (resting)
			zvt_shared->matcher_changes += DatumGetInt32(changed);
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	zvt_shared->matcher_passes++;
	return resting;
}

void
paper_matcher_main(Datum arg)
{
	uint64		prices_seen = 0;
	TimestampTz last_pass = 0;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("zvt paper matcher");

	zvt_shared->matcher_pid = MyProcPid;
	zvt_shared->matcher_idle_generation = 0;	/* running: restart me if I stop */
	bus_set_matcher_latch(MyLatch);
	before_shmem_exit(matcher_detach, 0);

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
		 * notices when orders stop resting (canceled, filled elsewhere).
		 */
		if (prices != prices_seen || last_pass == 0 ||
			TimestampDifferenceExceeds(last_pass, now, 1000))
		{
			prices_seen = prices;
			last_pass = now;
			if (!matcher_pass())
			{
				/* nothing rests: the launcher starts us again when an order does */
				zvt_shared->matcher_idle_generation = paper_gen + 1;
				break;
			}
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
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
