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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
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

#include "bus/bus.h"
#include "trading/trading.h"
#include "zvt.h"

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

static void
matcher_detach(int code, Datum arg)
{
	bus_set_matcher_latch(NULL);
	zvt_shared->matcher_pid = 0;
}

/*
 * Run one statement returning int4 values in a transaction of its own and
 * copy them into out (room for max); -1 when zvt is not installed, -2 on
 * an error.  An error (a deadlock with a session trading the same accounts, say) is
 * logged and rolled back, and the pass goes on with the next statement:
 * one failure costs a match, not the worker.
 */
static int
matcher_query(const char *sql, int nargs, Oid *argtypes, Datum *args, int32 *out, int max)
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
			if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "zvt paper matcher: \"%s\" failed", sql);
			for (uint64 i = 0; i < SPI_processed && n < max; i++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

				if (!isnull)
					out[n++] = DatumGetInt32(d);
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

#define MATCHER_MAX_INSTRUMENTS 4096

/*
 * One pass: the instruments with resting orders, then zvt._paper_match()
 * for each in a transaction of its own, so that the account locks it
 * takes are held for one instrument's orders only.  False when no order
 * rests (or zvt is gone).
 */
static bool
matcher_pass(void)
{
	static int32 instruments[MATCHER_MAX_INSTRUMENTS];
	int			n;

	n = matcher_query("SELECT DISTINCT instrument_id FROM zvt.orders "
					  " WHERE status IN ('accepted', 'partially_filled')",
					  0, NULL, NULL, instruments, MATCHER_MAX_INSTRUMENTS);
	zvt_shared->matcher_passes++;
	if (n == -2)
		return true;			/* try again on the next price */
	if (n <= 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		Oid			argtype = INT4OID;
		Datum		arg = Int32GetDatum(instruments[i]);
		int32		changed = 0;

		CHECK_FOR_INTERRUPTS();
		if (matcher_query("SELECT zvt._paper_match($1)", 1, &argtype, &arg, &changed, 1) == 1)
			zvt_shared->matcher_changes += changed;
	}
	return true;
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
