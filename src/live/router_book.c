/*-------------------------------------------------------------------------
 *
 * src/live/router_book.c
 *	  The order router's bookings: the exchange's replies booked by
 *	  zvt._router_apply (sql/58_router.sql), under each account's lock,
 *	  a batch per transaction.
 *
 * router.c reads the replies as they arrive and hands them here in
 * batches, between its sends (an order committed meanwhile goes out
 * first, even in the middle of a batch: the batch commits what it booked
 * and leaves the rest).  A batch is one transaction, one commit; when one
 * reply of it fails, the batch is rolled back and its replies are booked
 * one by one, so that a bad reply costs its own order only (it stays as
 * it was and is queried again).  The statement is planned once and kept.
 * router_xact is the transaction every booking of the router runs in
 * (these, and the private streams' events in router_stream.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "base/locks.h"
#include "live/route.h"
#include "live/router.h"
#include "live/router_book.h"
#include "zvt.h"

#define APPLY_SQL "SELECT zvt._router_apply($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, $9, $10)"

/*
 * replies booked at least before a batch yields to an order committed
 * meanwhile: 1 while few wait (up to BOOK_FEW), so that such an order
 * waits for one booking (the router calls router_book only when no order
 * waits; the generation, a shared-memory counter, is read before each
 * further reply); 4, as before, when more wait, so that a backlog drains
 * in batches rather than one reply a turn (a transaction each, while the
 * request slots fill and new orders wait for one).
 */
#define BOOK_BEFORE_YIELD 1
#define BOOK_FEW 4
#define BOOK_BEFORE_YIELD_BACKLOG 4

static const char *const op_names[] = {"place", "query", "cancel"};
static const char *const kind_names[] = {"ok", "rejected", "not_found", "auth", "clock", "rate", "unknown"};

/* zvt._router_apply's statement, planned at its first use */
static SPIPlanPtr apply_plan = NULL;

/* book one reply: zvt._router_apply, under SPI in the caller's transaction */
static void
router_apply_one(const RouterReply *x)
{
	Datum		args[10];
	char		nulls[10];
	const LiveReply *rep = &x->rep;

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(x->order_id);
	args[1] = CStringGetTextDatum(op_names[x->op]);
	args[2] = CStringGetTextDatum(kind_names[rep->kind]);
	args[3] = CStringGetTextDatum(rep->status);
	args[4] = CStringGetTextDatum(rep->exchange_id);
	args[5] = CStringGetTextDatum(rep->filled_qty);
	nulls[5] = rep->filled_qty[0] ? ' ' : 'n';
	args[6] = CStringGetTextDatum(rep->filled_quote);
	nulls[6] = rep->filled_quote[0] ? ' ' : 'n';
	args[7] = CStringGetTextDatum(rep->reason);
	args[8] = Int32GetDatum(zvt_router_poll_interval);
	args[9] = Int32GetDatum(Min(zvt_router_poll_interval, 1000));
	if (apply_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(APPLY_SQL, 10, (Oid[]) {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
			TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID});

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "zvt router: could not prepare zvt._router_apply: %s",
				 SPI_result_code_string(SPI_result));
		apply_plan = p;
	}
	if (SPI_execute_plan(apply_plan, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._router_apply failed");
}

/*
 * Run fn(arg) in a transaction of its own, under SPI, with activity shown
 * in pg_stat_activity: true once committed; false, with everything rolled
 * back and the error logged, when it raised.  The router's bookings (the
 * replies here, the private streams' events in router_stream.c) go
 * through it.
 */
bool
router_xact(const char *activity, void (*fn) (void *arg), void *arg)
{
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, activity);
		SPI_connect();
		fn(arg);
		SPI_finish();
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
		ok = false;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/* replies to book in one transaction, and which of them it booked */
typedef struct ReplyBatch
{
	int			ex;
	const RouterReply *x;
	int			n;
	uint64		gen;
	bool	   *booked;			/* n flags */
	int			done;
} ReplyBatch;

/*
 * A reply whose account another transaction holds (a place_order of it
 * committing, a user's cancel) is passed over, for the next batch: the
 * router does not wait on a lock while an order may commit and wait for
 * it.  The account's lock is taken here without waiting, and again,
 * already held, by zvt._router_apply.  When every reply was passed over
 * (and no order waits), the first is booked waiting for its lock, as
 * before: the router never spins on a lock held long.
 */
static void
router_apply_batch(void *arg)
{
	ReplyBatch *b = arg;
	int			least = b->n > BOOK_FEW ? BOOK_BEFORE_YIELD_BACKLOG : BOOK_BEFORE_YIELD;
	int			i;

	for (i = 0; i < b->n; i++)
	{
		if (i >= least && b->gen != 0 &&
			router_generation(b->ex) != b->gen)
			break;
		if (b->x[i].account_id > 0 && !zvt_try_lock_account(b->x[i].account_id))
			continue;
		router_apply_one(&b->x[i]);
		b->booked[i] = true;
		b->done++;
	}
	if (b->done == 0 && i == b->n && b->n > 0)
	{
		router_apply_one(&b->x[0]);
		b->booked[0] = true;
		b->done = 1;
	}
}

/*
 * Book replies in one transaction (one commit for a burst of
 * acknowledgements), BOOK_BEFORE_YIELD always, the next ones while the
 * exchange's live generation is still gen (0: all of them): an order
 * committed meanwhile is sent before the rest are booked.  Returns how
 * many were booked, or -1, with everything rolled back and the error
 * logged, when one of them fails.
 */
static int
router_apply_all(int ex, const RouterReply *x, int n, uint64 gen, bool *booked)
{
	ReplyBatch	b = {ex, x, n, gen, booked, 0};

	memset(booked, 0, sizeof(bool) * n);
	return router_xact("zvt router: replies", router_apply_batch, &b) ? b.done : -1;
}

/*
 * Book replies: together (the first ones, while the generation is still
 * gen: see router_apply_all), or, when that fails, one by one, so that
 * one bad reply costs its own order only (it stays as it was and is
 * queried again).  Returns how many of x were done with.
 */
int
router_book(int ex, RouterReply *x, int n, uint64 gen)
{
	int			done;
	bool	   *booked;

	if (n == 0)
		return 0;
	booked = palloc(sizeof(bool) * n);
	done = router_apply_all(ex, x, n, gen, booked);
	if (done < 0)
	{
		bool		one;

		for (int i = 0; i < n; i++)
			(void) router_apply_all(ex, &x[i], 1, 0, &one);
		done = n;
	}
	else if (done < n)
	{
		/* the booked ones to the front, the others after them in their order */
		RouterReply *rest = palloc(sizeof(RouterReply) * (n - done));
		int			k = 0,
					m = 0;

		for (int i = 0; i < n; i++)
		{
			if (booked[i])
				x[k++] = x[i];
			else
				rest[m++] = x[i];
		}
		memcpy(x + k, rest, sizeof(RouterReply) * m);
		pfree(rest);
	}
	pfree(booked);
	router_count(ex, 0, done);
	return done;
}
