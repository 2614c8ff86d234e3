/*-------------------------------------------------------------------------
 *
 * src/live/router_stream.c
 *	  The router's side of the private streams: starts its exchange's
 *	  stream thread (userstream.c) with the keys of the exchange's live
 *	  accounts, and books what the thread queued (order updates and
 *	  executions by zvt._stream_apply, balances by zvt._stream_balance);
 *	  a stream that came up (first or again) runs the "query every
 *	  unfinished order" pass, zvt._router_start, so nothing that happened
 *	  while it was down is missed; one that came up again also makes a
 *	  reconciliation run due (reconcile.c), whose fill history books what
 *	  it missed with the exchange's trade ids and fees.
 *
 * Called from router.c's loop only (router_stream_begin at the start,
 * router_stream_step every turn, router_stream_end at exit), in no
 * transaction; each step is a transaction of its own.  Keys come from
 * the router's kept ones (router_keys.c), opened once for the orders and
 * the streams, and are handed to the thread, which keeps its own copy for
 * its logins and wipes it at the end.  An account already streamed is
 * not looked at again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "live/keys.h"
#include "live/reconcile.h"
#include "live/router.h"
#include "live/router_book.h"
#include "live/userstream.h"
#include "zvt.h"

#define STREAM_BATCH		32
/* how often the accounts with keys are looked for again, ms */
#define STREAM_ACCOUNTS_MS	5000

static UsStream *stream = NULL;
static const char *stream_exchange = NULL;
static int	stream_ex = 0;
static uint64 stream_system_id = 0;
static TimestampTz next_accounts = 0;

/* accounts whose stream came up at least once (a second time asks for a reconciliation) */
#define STREAM_SEEN_MAX		1024
static int32 seen_up[STREAM_SEEN_MAX];
static int	nseen_up = 0;

/*
 * A stream of account came up: the second time and after, what it missed
 * while down is read from the exchange's fill history by a reconciliation
 * run (trigger "stream"), with trade ids and fees, besides the query pass.
 */
static void
stream_came_up(int32 account)
{
	for (int i = 0; i < nseen_up; i++)
		if (seen_up[i] == account)
		{
			reconcile_request("stream");
			return;
		}
	if (nseen_up < STREAM_SEEN_MAX)
		seen_up[nseen_up++] = account;
}

/* the accounts with keys not yet streamed: added to the thread; under SPI */
static void
stream_add_accounts(void)
{
	Datum		arg = CStringGetTextDatum(stream_exchange);
	int			n;
	int32	   *ids;

	if (SPI_execute_with_args("SELECT zvt._stream_accounts($1)", 1, (Oid[]) {TEXTOID}, &arg,
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._stream_accounts failed");
	n = (int) SPI_processed;
	ids = palloc(sizeof(int32) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	for (int i = 0; i < n; i++)
	{
		const VaultCreds *creds;
		LiveCreds	cr;
		char		reason[256];

		if (us_has_account(stream, ids[i]))
			continue;			/* streamed already: its key is not opened again */
		/* the router's kept key (router_keys.c): opened once for both */
		if ((creds = router_key(ids[i], reason, sizeof(reason))) == NULL)
			continue;			/* the order path reports a bad key */
		cr.api_key = creds->api_key;
		cr.secret = creds->secret;
		cr.passphrase = creds->has_passphrase ? creds->passphrase : NULL;
		(void) us_add_account(stream, ids[i], &cr);
	}
	pfree(ids);
}

/* at exit: the thread must not outlive the process's last steps */
static void
stream_exit(int code, Datum arg)
{
	router_stream_end();
}

/*
 * Start the stream thread of exchange (LiveExchange ex, named name); at
 * the router's start, in no transaction.
 */
void
router_stream_begin(int ex, const char *name, uint64 system_id)
{
	Datum		arg = CStringGetTextDatum(name);
	char	   *ws = NULL;
	char	   *rest = NULL;

	stream_exchange = name;
	stream_ex = ex;
	stream_system_id = system_id;
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute_with_args("SELECT ws_url, rest_url FROM zvt.exchanges WHERE name = $1", 1,
							  (Oid[]) {TEXTOID}, &arg, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		ws = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		rest = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (ws == NULL || rest == NULL)
		return;
	stream = us_start((LiveExchange) ex, ws, rest, zvt_ca_file);
	if (stream)
		before_shmem_exit(stream_exit, (Datum) 0);
	if (stream == NULL)
		ereport(LOG, (errmsg("zvt router %s could not start its private stream thread; fills come from queries only",
							 name)));
}

/* zvt._stream_apply's statement, planned at its first use and kept */
static SPIPlanPtr apply_plan = NULL;

/* book one item of the thread's; under SPI */
static void
stream_book(const UsItem *it)
{
	const UsEvent *e = &it->ev;

	if (e->kind == UE_ORDER)
	{
		Oid			types[15] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
		Datum		args[15];
		char		nulls[15];
		const char *text[13] = {e->status, e->exchange_id, e->filled_qty, e->filled_quote, e->avg_px,
		e->leaves_qty, e->trade_id, e->last_qty, e->last_px, e->fee, e->fee_asset, e->liquidity, e->reason};
		int64		order_id = us_order_id(e->client_id, stream_system_id);

		if (order_id <= 0)
			return;				/* not an order of ours (placed outside zvt) */
		memset(nulls, ' ', sizeof(nulls));
		args[0] = Int64GetDatum(order_id);
		for (int i = 0; i < 13; i++)
		{
			args[i + 1] = CStringGetTextDatum(text[i]);
			/* numbers and ids: "" is NULL; the status and reason stay text */
			if (text[i][0] == '\0' && i != 0 && i != 12)
				nulls[i + 1] = 'n';
		}
		args[14] = Int32GetDatum(zvt_router_poll_interval);
		if (apply_plan == NULL)
		{
			SPIPlanPtr	p = SPI_prepare("SELECT zvt._stream_apply($1, $2, $3, $4::numeric, $5::numeric, $6::numeric, "
										"$7::numeric, $8, $9::numeric, $10::numeric, $11::numeric, $12, $13, $14, $15)",
										15, types);

			if (p == NULL || SPI_keepplan(p) != 0)
				elog(ERROR, "zvt router: could not prepare zvt._stream_apply: %s",
					 SPI_result_code_string(SPI_result));
			apply_plan = p;
		}
		if (SPI_execute_plan(apply_plan, args, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt router: zvt._stream_apply failed");
	}
	else if (e->kind == UE_BALANCE && e->free[0])
	{
		Datum		args[4];
		char		nulls[4] = {' ', ' ', ' ', e->locked[0] ? ' ' : 'n'};

		args[0] = Int32GetDatum(it->account_id);
		args[1] = CStringGetTextDatum(e->asset);
		args[2] = CStringGetTextDatum(e->free);
		args[3] = CStringGetTextDatum(e->locked);
		if (SPI_execute_with_args("SELECT zvt._stream_balance($1, $2, $3::numeric, $4::numeric)", 4,
								  (Oid[]) {INT4OID, TEXTOID, TEXTOID, TEXTOID}, args, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt router: zvt._stream_balance failed");
	}
}

/* what one transaction of the stream's bookings does, and how many it booked */
typedef struct StreamBatch
{
	const UsItem *items;
	int			n;
	bool		resync;
	bool		accounts;
	uint64		gen;			/* stop after one once the generation moves (0: never) */
	int			done;
} StreamBatch;

static void
stream_book_batch(void *arg)
{
	StreamBatch *b = arg;

	if (b->accounts)
		stream_add_accounts();
	for (int i = 0; i < b->n; i++)
	{
		if (i >= 1 && b->gen != 0 && router_generation(stream_ex) != b->gen)
			break;				/* an order committed: it goes out first */
		stream_book(&b->items[i]);
		b->done++;
	}
	if (b->resync)
	{
		Datum		name = CStringGetTextDatum(stream_exchange);

		if (SPI_execute_with_args("SELECT zvt._router_start($1)", 1, (Oid[]) {TEXTOID}, &name,
								  NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt router: zvt._router_start failed");
	}
}

/*
 * book items in one transaction, stopping after one once the generation
 * moves from gen (0: never): how many were booked; -1 (rolled back, error
 * logged) if one fails
 */
static int
stream_book_all(const UsItem *items, int n, bool resync, bool accounts, uint64 gen)
{
	StreamBatch b = {items, n, resync, accounts, gen, 0};

	return router_xact("zvt router: private stream", stream_book_batch, &b) ? b.done : -1;
}

/* items taken from the thread's queue, not yet booked: a step yielded to an order */
static UsItem left[STREAM_BATCH];
static int	nleft = 0;

/* Did a step leave items to book?  (the router then does not sleep) */
bool
router_stream_left(void)
{
	return nleft > 0;
}

/*
 * One turn of the router's loop: new accounts with keys every few
 * seconds, the clock offset for signed logins, and what the thread
 * queued, booked, STREAM_BATCH a transaction, until an order commits
 * (the exchange's live generation moves from gen, unless gen is 0: it is
 * sent first, after the event in progress; the rest, kept in left, waits
 * for the next turn).  Returns true when a stream came up
 * (the orders of the exchange are all due a query now: the caller scans
 * at once).
 */
bool
router_stream_step(int64 offset_ms, uint64 gen)
{
	static UsItem items[STREAM_BATCH];
	int32		up[STREAM_BATCH];
	int			nup = 0;
	TimestampTz now = GetCurrentTimestamp();
	bool		accounts = now >= next_accounts;
	bool		resync = false;
	bool		more;

	if (stream == NULL)
		return false;
	us_set_offset(stream, offset_ms);
	if (accounts)
		next_accounts = TimestampTzPlusMilliseconds(now, STREAM_ACCOUNTS_MS);
	do
	{
		int			k = nleft;
		int			want = STREAM_BATCH - nleft;
		int			n,
					end,
					booked;

		/* what the last step left (sorted already), then the queue */
		memcpy(items, left, sizeof(UsItem) * nleft);
		nleft = 0;
		n = want > 0 ? us_take(stream, items + k, want) : 0;
		more = n == want;
		end = k + n;
		for (int i = k; i < end; i++)
		{
			if (items[i].notice)
				ereport(LOG, (errmsg("zvt router %s (pid %d), account %d: %s", stream_exchange,
									 MyProcPid, (int) items[i].account_id, items[i].ev.reason)));
			else if (items[i].reconnected)
			{
				resync = true;
				if (items[i].account_id > 0 && nup < STREAM_BATCH)
					up[nup++] = items[i].account_id;
				if (items[i].account_id > 0)
					stream_came_up(items[i].account_id);
			}
			else
				items[k++] = items[i];
		}
		if (k == 0 && !resync && !accounts)
			continue;
		booked = stream_book_all(items, k, resync, accounts, gen);
		if (booked < 0 && k > 1)
		{
			/* one bad event costs its own order only (the next query books it) */
			for (int i = 0; i < k; i++)
				(void) stream_book_all(&items[i], 1, false, false, 0);
			if (resync)
				(void) stream_book_all(NULL, 0, true, false, 0);
		}
		else if (booked >= 0 && booked < k)
		{
			nleft = k - booked;
			memcpy(left, items + booked, sizeof(UsItem) * nleft);
		}
		/* said once the query pass it asked for is committed */
		for (int i = 0; i < nup; i++)
			ereport(LOG, (errmsg("zvt router %s (pid %d), account %d: private stream up",
								 stream_exchange, MyProcPid, (int) up[i])));
		nup = 0;
		accounts = false;
	} while (nleft == 0 && more && (gen == 0 || router_generation(stream_ex) == gen));
	return resync;
}

/* readable when the thread queued something: the router's wait includes it (-1: none) */
int
router_stream_fd(void)
{
	return us_wake_fd(stream);
}

/* Stop the thread (the router is leaving); wipes the keys it held. */
void
router_stream_end(void)
{
	us_stop(stream);
	stream = NULL;
}
