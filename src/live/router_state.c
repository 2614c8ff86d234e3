/*-------------------------------------------------------------------------
 *
 * src/live/router_state.c
 *	  The order routers' shared memory ("zvt router"): per exchange, the
 *	  running router's slot, the live generation that wakes it, the
 *	  generation at which it last found nothing to do, its latch, and its
 *	  counters.
 *
 * zvt.place_order commits a live order as pending_new and calls
 * router_wake_at_commit(); when the transaction commits (and only then:
 * an aborted order must not be looked for) the exchange's generation
 * moves on and the running router's latch is set, so it sends the order
 * at once.  The launcher starts a router whose exchange's generation
 * moved past the one at which it last went idle (as it does the paper
 * matcher), and after a server start, when the idle marks are zero, it
 * starts every router once, so orders left sending or unknown by a
 * crash are queried.  Slots are claimed with base/claim.c: one router
 * per exchange.
 *
 * Locks: none.  The generations and slots are atomics; the latch pointer
 * is written by its router alone (a reader may see the previous router's
 * NULL: then the launcher's start or the router's own poll finds the
 * order); counters are written by their router alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "base/claim.h"
#include "base/export.h"
#include "live/route.h"
#include "live/router.h"

typedef struct RouterSlot
{
	pg_atomic_uint32 owner;		/* the running router's pid (base/claim.h) */
	pg_atomic_uint64 generation;	/* bumped by every commit with work for it */
	pg_atomic_uint64 idle;		/* generation + 1 at which it found nothing
								 * to do; PG_UINT64_MAX: running */
	Latch	   *latch;			/* the running router's, else NULL */
	int64		sent;			/* requests sent (written by the router) */
	int64		replies;		/* replies read */
} RouterSlot;

typedef struct RouterShared
{
	RouterSlot	slot[ROUTER_EXCHANGES];
} RouterShared;

static RouterShared *router_shared = NULL;

/* exchanges this transaction has work for, as a bit set by LiveExchange */
static int	wake_pending = 0;
static bool wake_callback_registered = false;

Size
router_shmem_size(void)
{
	return MAXALIGN(sizeof(RouterShared));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
router_shmem_init(void)
{
	bool		found;

	router_shared = ShmemInitStruct("zvt router", sizeof(RouterShared), &found);
	if (!found)
	{
		memset(router_shared, 0, sizeof(RouterShared));
		for (int i = 0; i < ROUTER_EXCHANGES; i++)
		{
			pg_atomic_init_u32(&router_shared->slot[i].owner, 0);
			pg_atomic_init_u64(&router_shared->slot[i].generation, 0);
			pg_atomic_init_u64(&router_shared->slot[i].idle, 0);
		}
	}
}

/* At commit, move the flagged exchanges' generations on and wake their routers. */
static void
router_xact_callback(XactEvent event, void *arg)
{
	if (wake_pending == 0)
		return;
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) &&
		router_shared != NULL)
	{
		for (int i = 0; i < ROUTER_EXCHANGES; i++)
		{
			RouterSlot *s = &router_shared->slot[i];
			Latch	   *latch;

			if (!(wake_pending & (1 << i)))
				continue;
			pg_atomic_fetch_add_u64(&s->generation, 1);
			pg_read_barrier();
			latch = s->latch;
			if (latch)
				SetLatch(latch);
		}
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_pending = 0;
}

/*
 * Flag that exchange has work for its router (an order to send or
 * cancel): the router hears of it when the transaction commits.  An
 * exchange without a router is ignored.
 */
void
router_wake_at_commit(const char *exchange)
{
	LiveExchange ex = live_exchange(exchange);

	if (ex == LX_NONE)
		return;
	if (!wake_callback_registered)
	{
		RegisterXactCallback(router_xact_callback, NULL);
		wake_callback_registered = true;
	}
	wake_pending |= 1 << ex;
}

PG_FUNCTION_INFO_V1(zvt_router_wake);

/* zvt._router_wake(exchange): router_wake_at_commit for the SQL functions */
Datum
zvt_router_wake(PG_FUNCTION_ARGS)
{
	router_wake_at_commit(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

uint64
router_generation(int ex)
{
	return router_shared ? pg_atomic_read_u64(&router_shared->slot[ex].generation) : 0;
}

bool
router_running(int ex)
{
	return zvt_claimed(&router_shared->slot[ex].owner);
}

/* Whether ex's router last found nothing to do at this generation. */
bool
router_is_idle(int ex, uint64 generation)
{
	return pg_atomic_read_u64(&router_shared->slot[ex].idle) == generation + 1;
}

/* Record that nothing was to do at generation (PG_UINT64_MAX: running, or start it again). */
void
router_mark_idle(int ex, uint64 generation)
{
	pg_atomic_write_u64(&router_shared->slot[ex].idle,
						generation == PG_UINT64_MAX ? PG_UINT64_MAX : generation + 1);
}

bool
router_claim(int ex)
{
	return zvt_claim(&router_shared->slot[ex].owner);
}

void
router_release(int ex)
{
	router_set_latch(ex, NULL);
	zvt_release(&router_shared->slot[ex].owner);
}

void
router_set_latch(int ex, Latch *latch)
{
	router_shared->slot[ex].latch = latch;
	pg_write_barrier();
}

/* Add to ex's counters (its router only). */
void
router_count(int ex, int64 sent, int64 replies)
{
	router_shared->slot[ex].sent += sent;
	router_shared->slot[ex].replies += replies;
}
