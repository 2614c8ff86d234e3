/*-------------------------------------------------------------------------
 *
 * src/live/router.c
 *	  The order router: a background worker per exchange ("zvt router
 *	  binance"...) that sends live orders committed as pending_new, reads
 *	  the exchange's replies and books them.
 *
 * The outbox (sql/58_router.sql has the states): zvt.place_order commits
 * a live order as pending_new after its risk check.  A turn:
 *	1. one transaction: zvt._router_claim (woken by a commit) marks as
 *	   many pending orders sending as may be sent now (free slots, the
 *	   rate limit), zvt._router_work (every ROUTER_SCAN_MS) also lists the
 *	   queries and cancels due; the requests are signed (router_keys.c
 *	   keeps each account's opened key, route.c builds, router_clock.c
 *	   corrects the clock); it commits BEFORE any request leaves;
 *	2. libcurl multi sends them, several in flight (zvt.router_timeout);
 *	3. the replies are read as they finish and booked by zvt._router_apply
 *	   (router_book.c), up to ROUTER_BOOK_BATCH in one transaction, only
 *	   when no committed order waits to be sent: sends never queue behind
 *	   bookings; so are the private streams' events (router_stream.c).
 *	   The one wait (router_wait.c) is on the latch, the requests' sockets
 *	   and the stream thread's pipe together.
 * Crash points: before (1) commits nothing was sent; after it the orders
 * are sending, and a router that finds one sending without a request out
 * for it (its first pass after a crash, a kill or an immediate shutdown)
 * or unknown (no reply, 5xx) asks the exchange by client order id
 * (live_client_order_id: derived from the order).  Only "not found" sends
 * it again, under the same id, which an exchange that got a late copy
 * refuses as a duplicate (then asked again).  A refused key or timestamp
 * rejects the order, never retried; a 429 pauses the exchange for its
 * Retry-After.  The opened keys are kept while the router runs (checked
 * against their sealed rows before each use, wiped at a reload and at
 * exit); neither they nor signed requests are ever logged.
 *
 * The worker runs as the bootstrap superuser on zvt's own functions only
 * (search_path pinned, no user code), like the paper matcher; it serves
 * zvt.database, stops when its exchange has no live order left to finish,
 * and the launcher starts it again when one commits (router_state.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/xact.h"
#include "access/xlog.h"
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
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "live/keys.h"
#include "live/reconcile.h"
#include "live/reply_body.h"
#include "live/route.h"
#include "live/router.h"
#include "live/router_book.h"
#include "live/router_clock.h"
#include "live/router_trace.h"
#include "live/skew.h"
#include "zvt.h"

PGDLLEXPORT void router_main(Datum arg);

/* requests in flight at most, per router */
#define ROUTER_MAX_INFLIGHT 64
/* how often a router looks for due work besides its wake-ups, ms */
#define ROUTER_SCAN_MS 200
/* replies booked in one transaction at most, between two sends */
#define ROUTER_BOOK_BATCH 16

/* one request out */
typedef struct RouterReq
{
	CURL	   *h;
	struct curl_slist *headers;
	int64		order_id;
	int32		account_id;
	LiveOp		op;
	char		client_id[40];
	StringInfoData body;		/* the reply, in the router's long-lived context */
	ReplyBody	sink;			/* writes body (reply_body.c) */
	int			attempts;		/* times libcurl was about to send it (on_prereq) */
	bool		used;
} RouterReq;

/* a verdict reached without a request (no key): booked after the work commits */
typedef struct RouterLocal
{
	int64		order_id;
	LiveOp		op;
	char		reason[256];
} RouterLocal;

typedef struct Router
{
	LiveExchange ex;
	const char *name;
	CURLM	   *multi;
	RouterReq	req[ROUTER_MAX_INFLIGHT];
	int			inflight;
	char		base[256];		/* rest_url of zvt.exchanges */
	char		host[256];
	uint64		system_id;
	RouterClock clock;			/* the exchange's clock (router_clock.c) */
	double		tokens;			/* rate limit bucket */
	TimestampTz tokens_at;
	TimestampTz paused_until;	/* after a 429 */
	MemoryContext pass_cxt;		/* reset every pass */
	RouterReply done[ROUTER_MAX_INFLIGHT];	/* replies read, not yet booked */
	int			ndone;
} Router;

/* the router's statements, planned once (SPI_keepplan) */
typedef enum RouterPlan
{
	RP_BASE,
	RP_CLAIM,
	RP_WORK,
	RP_COUNT
} RouterPlan;

static SPIPlanPtr router_plans[RP_COUNT];


/*
 * libcurl's pre-request callback (CURLOPT_PREREQFUNCTION), called each
 * time a request is about to leave on a connection, new or reused.  A
 * place or cancel leaves once: libcurl sends a request again by itself,
 * on a new connection, when a reused one turns out closed before any byte
 * of the reply came (7.88's Curl_retry_request, whatever the method),
 * and the exchange may have acted on the first copy.  The second call
 * aborts the transfer (CURLE_ABORTED_BY_CALLBACK) before anything is
 * written: the order is unknown, asked about by its client order id as
 * after any lost reply, and sent again only if the exchange has not got
 * it.  So places and cancels may reuse the connections kept open.
 */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	RouterReq  *q = (RouterReq *) arg;

	return q->attempts++ == 0 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/*
 * One of the router's statements, prepared and kept at its first use
 * (the plan cache replans it after DDL); under SPI.
 */
static SPIPlanPtr
router_plan(RouterPlan which)
{
	static const char *const sql[RP_COUNT] = {
		"SELECT rest_url FROM zvt.exchanges WHERE name = $1",
		"SELECT * FROM zvt._router_claim($1, $2, $3)",
		"SELECT * FROM zvt._router_work($1, $2, $3)",
	};
	static const int nargs[RP_COUNT] = {1, 3, 3};
	static Oid	types[RP_COUNT][3] = {
		{TEXTOID},
		{TEXTOID, INT8ARRAYOID, INT4OID},
		{TEXTOID, INT8ARRAYOID, INT4OID},
	};

	if (router_plans[which] == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql[which], nargs[which], types[which]);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "zvt router: could not prepare \"%s\": %s", sql[which],
				 SPI_result_code_string(SPI_result));
		router_plans[which] = p;
	}
	return router_plans[which];
}

/* ----------------------------------------------------------------
 * step 1: the work, marked sending and committed before it is sent
 * ----------------------------------------------------------------
 */

/* The exchange's REST base (zvt.exchanges.rest_url) into r; under SPI. */
static void
router_read_base(Router *r)
{
	Datum		arg = CStringGetTextDatum(r->name);
	const char *p;

	if (SPI_execute_plan(router_plan(RP_BASE), &arg, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		return;
	snprintf(r->base, sizeof(r->base), "%s", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	p = strstr(r->base, "://");
	snprintf(r->host, sizeof(r->host), "%s", p ? p + 3 : r->base);
}

/* a free request slot */
static RouterReq *
router_slot(Router *r)
{
	for (int i = 0; i < ROUTER_MAX_INFLIGHT; i++)
		if (!r->req[i].used)
			return &r->req[i];
	return NULL;
}

/*
 * Build, sign and queue (not yet send) the request for one work row into
 * a free slot; false with reason when the key does not open or the
 * request cannot be built.
 */
static bool
router_build(Router *r, HeapTuple t, TupleDesc d, RouterReq *q, char *reason, size_t len)
{
	LiveOrder	o;
	LiveCreds	cr;
	const VaultCreds *creds;
	LiveRequest req;
	const char *err = NULL;
	char		url[4096];
	char		nonce[33];
	unsigned char rnd[16];
	char	   *op = SPI_getvalue(t, d, 1);
	char	   *side = SPI_getvalue(t, d, 5);
	char	   *post = SPI_getvalue(t, d, 10);
	char	   *reduce = SPI_getvalue(t, d, 11);
	char	   *xid = SPI_getvalue(t, d, 12);
	bool		isnull;
	int			rc;
	int64		xnow;

	q->order_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
	q->op = strcmp(op, "place") == 0 ? LO_PLACE : strcmp(op, "cancel") == 0 ? LO_CANCEL : LO_QUERY;
	if (live_client_order_id(r->system_id, q->order_id, q->client_id, sizeof(q->client_id)) < 0)
		elog(ERROR, "zvt router: no client order id for order " INT64_FORMAT, q->order_id);
	memset(&o, 0, sizeof(o));
	o.symbol = SPI_getvalue(t, d, 4);
	o.buy = strcmp(side, "buy") == 0;
	o.type = SPI_getvalue(t, d, 6);
	o.qty = SPI_getvalue(t, d, 7);
	o.price = SPI_getvalue(t, d, 8);
	o.tif = SPI_getvalue(t, d, 9);
	o.post_only = post[0] == 't';
	o.reduce_only = reduce[0] == 't';
	o.client_id = q->client_id;

	q->account_id = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
	creds = router_key(q->account_id, reason, len);
	if (creds == NULL)
		return false;
	cr.api_key = creds->api_key;
	cr.secret = creds->secret;
	cr.passphrase = creds->has_passphrase ? creds->passphrase : NULL;
	if (!pg_strong_random(rnd, sizeof(rnd)))
		elog(ERROR, "zvt router: no random bytes");
	for (int i = 0; i < 16; i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	xnow = zvt_router_clock_sync ? skew_exchange_now(&r->clock.skew, skew_local_ms()) : skew_local_ms();

	/*
	 * A Coinbase JWT is refused before its nbf: date it 5 s back, so that
	 * the offset's error (half a round trip) cannot put it in the
	 * exchange's future; it stays valid 115 s.
	 */
	if (r->ex == LX_COINBASE)
		xnow -= 5000;
	rc = live_build(r->ex, q->op, &cr, &o, xid, xnow, r->host, nonce, &req, &err);
	if (rc < 0)
	{
		snprintf(reason, len, "the request could not be built: %s", err ? err : "?");
		explicit_bzero(&req, sizeof(req));
		return false;
	}
	snprintf(url, sizeof(url), "%s%s", r->base, req.path_query);
	q->h = curl_easy_init();
	q->headers = NULL;
	for (int i = 0; i < req.nheaders; i++)
		q->headers = curl_slist_append(q->headers, req.headers[i]);
	curl_easy_setopt(q->h, CURLOPT_URL, url);
	curl_easy_setopt(q->h, CURLOPT_CUSTOMREQUEST, req.method);
	if (req.body[0] || strcmp(req.method, "POST") == 0)
		curl_easy_setopt(q->h, CURLOPT_COPYPOSTFIELDS, req.body);
	curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, q->headers);
	/* far more than any order reply: cut */
	reply_body_attach(q->h, &q->sink, &q->body, 8 * 1024 * 1024);
	curl_easy_setopt(q->h, CURLOPT_TIMEOUT_MS, (long) zvt_router_timeout);
	curl_easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->h, CURLOPT_PRIVATE, q);
	q->attempts = 0;
	if (q->op != LO_QUERY)
	{
		/*
		 * a connection kept open is reused, but the request leaves once:
		 * libcurl's own resend on a reused connection found closed is
		 * aborted (on_prereq); a query may be repeated, harmless
		 */
		curl_easy_setopt(q->h, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(q->h, CURLOPT_PREREQDATA, q);
	}
	if (zvt_ca_file && zvt_ca_file[0])
		curl_easy_setopt(q->h, CURLOPT_CAINFO, zvt_ca_file);
	explicit_bzero(&req, sizeof(req));	/* signatures, JWTs */
	resetStringInfo(&q->body);
	q->used = true;
	return true;
}

static void router_apply(Router *r, int64 order_id, LiveOp op, const LiveReply *rep);

/*
 * One work pass: up to lim requests marked, built and committed, then
 * handed to libcurl.  claim: the send path only (zvt._router_claim, the
 * pending orders), else every request due (zvt._router_work).  Returns
 * the rows of work found (0: nothing due), or -1 when zvt is not
 * installed.
 */
static int
router_work(Router *r, int lim, bool claim)
{
	RouterLocal *local = palloc0(sizeof(RouterLocal) * Max(lim, 1));
	RouterReq  *queued[ROUTER_MAX_INFLIGHT];
	int			nlocal = 0;
	int			nqueued = 0;
	volatile int n = 0;
	Datum	   *ids = palloc(sizeof(Datum) * (r->inflight + r->ndone + 1));
	int			nids = 0;
	SPITupleTable *work;
	RT_VAR(t0);

	RT_MARK(t0);
	/* in flight, or answered and not yet booked: not due */
	for (int i = 0; i < ROUTER_MAX_INFLIGHT; i++)
		if (r->req[i].used)
			ids[nids++] = Int64GetDatum(r->req[i].order_id);
	for (int i = 0; i < r->ndone; i++)
		ids[nids++] = Int64GetDatum(r->done[i].order_id);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "zvt router: work");
	if (!OidIsValid(get_extension_oid("zvt", true)))
		n = -1;
	else
	{
		Datum		args[3];

		SPI_connect();
		args[0] = CStringGetTextDatum(r->name);
		args[1] = PointerGetDatum(construct_array(ids, nids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[2] = Int32GetDatum(lim);
		if (SPI_execute_plan(router_plan(claim ? RP_CLAIM : RP_WORK), args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "zvt router: zvt._router_work failed");
		n = (int) SPI_processed;
		RT_END(claim ? 'q' : 'f', t0, n);
		RT_MARK(t0);
		/* the key checks and router_read_base run queries of their own: keep the work's rows */
		work = SPI_tuptable;
		/* the address: every full pass (a claim's orders go out first) */
		if (!claim || (n > 0 && r->base[0] == '\0'))
			router_read_base(r);
		for (int i = 0; i < n; i++)
		{
			RouterReq  *q = router_slot(r);
			RouterLocal *l = &local[nlocal];

			if (q == NULL)
				break;
			if (router_build(r, work->vals[i], work->tupdesc, q, l->reason,
							 sizeof(l->reason)))
				queued[nqueued++] = q;
			else
			{
				l->order_id = q->order_id;
				l->op = q->op;
				nlocal++;
			}
		}
		SPI_finish();
	}
	PopActiveSnapshot();
	/* the "sent" mark is on disk before anything leaves */
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	RT_END('k', t0, nqueued);
	RT_MARK(t0);

	for (int i = 0; i < nqueued; i++)
	{
		curl_multi_add_handle(r->multi, queued[i]->h);
		r->inflight++;
	}
	if (nqueued > 0)
	{
		int			running;

		curl_multi_perform(r->multi, &running);
		router_count(r->ex, nqueued, 0);
		RT_END('x', t0, nqueued);
	}
	for (int i = 0; i < nlocal; i++)
	{
		LiveReply	rep;

		memset(&rep, 0, sizeof(rep));
		rep.kind = LR_AUTH;
		snprintf(rep.reason, sizeof(rep.reason), "%s", local[i].reason);
		router_apply(r, local[i].order_id, local[i].op, &rep);
	}
	return n;
}

/* ----------------------------------------------------------------
 * step 3: the replies, read and booked (router_book.c)
 * ----------------------------------------------------------------
 */

/* book one reply */
static void
router_apply(Router *r, int64 order_id, LiveOp op, const LiveReply *rep)
{
	RouterReply x;

	x.order_id = order_id;
	x.account_id = 0;
	x.op = op;
	x.rep = *rep;
	(void) router_book(r->ex, &x, 1, 0);
}

/*
 * Read every finished request's reply into r->done, to be booked by
 * router_flush: reading never waits for a transaction.
 */
static void
router_harvest(Router *r)
{
	RouterReply *done = r->done;
	CURLMsg    *m;
	int			left;
	int			n = r->ndone;

	while (n < ROUTER_MAX_INFLIGHT && (m = curl_multi_info_read(r->multi, &left)) != NULL)
	{
		RouterReq  *q;
		long		status = 0;
		curl_off_t	retry_after = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		if (m->easy_handle == r->clock.h)
		{
			curl_multi_remove_handle(r->multi, r->clock.h);
			router_clock_done(&r->clock, m->data.result);
			continue;
		}
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &q);
		if (m->data.result == CURLE_OK)
			curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(q->h, CURLINFO_RETRY_AFTER, &retry_after);
		reconcile_note_reply(m->data.result == CURLE_OK, status);
		done[n].order_id = q->order_id;
		done[n].account_id = q->account_id;
		done[n].op = q->op;
		live_parse_reply(r->ex, q->op, status, q->body.len ? q->body.data : NULL, q->body.len,
						 q->client_id, &done[n].rep);
		if (done[n].rep.kind == LR_RATE)
			r->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  retry_after > 0 ? retry_after * 1000 : 1000);
		n++;
		curl_multi_remove_handle(r->multi, q->h);
		curl_easy_cleanup(q->h);
		curl_slist_free_all(q->headers);
		q->h = NULL;
		q->headers = NULL;
		q->used = false;
		r->inflight--;
	}
	r->ndone = n;
}

/*
 * Book up to ROUTER_BOOK_BATCH of the replies read, in one transaction
 * (one commit for the lot), fewer when an order commits meanwhile (the
 * generation moves from gen); the rest wait for the next turn, after it
 * was sent.
 */
static void
router_flush(Router *r, uint64 gen)
{
	int			n = router_book(r->ex, r->done, Min(r->ndone, ROUTER_BOOK_BATCH), gen);

	r->ndone -= n;
	if (r->ndone > 0)
		memmove(r->done, r->done + n, sizeof(RouterReply) * r->ndone);
}

/* ----------------------------------------------------------------
 * the worker
 * ----------------------------------------------------------------
 */

/* Requests the rate limit allows now (tokens refill at zvt.router_rate_limit a second). */
static int
router_allowance(Router *r, TimestampTz now)
{
	long		secs;
	int			usecs;

	if (now < r->paused_until)
		return 0;
	TimestampDifference(r->tokens_at, now, &secs, &usecs);
	r->tokens = Min((double) zvt_router_rate_limit,
					r->tokens + (secs + usecs / 1e6) * zvt_router_rate_limit);
	r->tokens_at = now;
	return (int) r->tokens;
}

/* Whether the exchange has live orders not final (zvt._router_busy) or a periodic reconciliation keeps us. */
static bool
router_busy(Router *r)
{
	bool		busy;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	busy = reconcile_stays(r->name) || (SPI_execute_with_args("SELECT zvt._router_busy($1)", 1, (Oid[]) {TEXTOID},
																(Datum[]) {CStringGetTextDatum(r->name)}, NULL, true, 1) == SPI_OK_SELECT &&
										SPI_processed == 1 &&
										strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return busy;
}

/* Is an order waiting to be sent that may go now (a commit seen, room, a token)? */
static bool
router_send_waiting(Router *r, uint64 gen_seen, bool backlog)
{
	return (router_generation(r->ex) != gen_seen || backlog) &&
		r->inflight + r->ndone < ROUTER_MAX_INFLIGHT &&
		router_allowance(r, GetCurrentTimestamp()) > 0;
}

/*
 * The generation at which bookings stop early for an order committed
 * meanwhile (router_book, router_stream_step): gen_seen when it could be
 * sent then, 0 (never stop) when it could not anyway (no room: the
 * bookings make it; no token; a reconciliation waits for them), so that
 * a backlog is booked and sent in batches, not one of each a turn.
 */
static uint64
router_yield_gen(Router *r, uint64 gen_seen, bool recon)
{
	if (recon || r->inflight + r->ndone >= ROUTER_MAX_INFLIGHT ||
		router_allowance(r, GetCurrentTimestamp()) <= 0)
		return 0;
	return gen_seen;
}

static void
router_detach(int code, Datum arg)
{
	router_keys_forget();
	router_release((int) DatumGetInt32(arg));
	RT_FLUSH();
}

void
router_main(Datum arg)
{
	static Router r;
	int			ex = DatumGetInt32(arg);
	uint64		gen_seen = PG_UINT64_MAX;
	bool		backlog = false;
	TimestampTz next_scan = 0;
	TimestampTz next_sync;
	char		appname[64];

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	memset(&r, 0, sizeof(r));
	r.ex = (LiveExchange) ex;
	r.name = live_exchange_name(r.ex);
	r.clock.name = r.name;
	snprintf(appname, sizeof(appname), "zvt router %s", r.name);
	pgstat_report_appname(appname);
	if (!router_claim(ex))
	{
		ereport(LOG, (errmsg("zvt router %s is already running; this one exits", r.name)));
		proc_exit(0);
	}
	before_shmem_exit(router_detach, Int32GetDatum(ex));
	zvt_run_begin(ZVT_RUN_ROUTER, ex);
	router_mark_idle(ex, PG_UINT64_MAX);
	router_set_latch(ex, MyLatch);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		elog(ERROR, "zvt router: curl_global_init failed");
	r.multi = curl_multi_init();
	r.system_id = GetSystemIdentifier();
	r.pass_cxt = AllocSetContextCreate(TopMemoryContext, "zvt router pass", ALLOCSET_DEFAULT_SIZES);
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		for (int i = 0; i < ROUTER_MAX_INFLIGHT; i++)
			initStringInfo(&r.req[i].body);
		MemoryContextSwitchTo(old);
	}
	r.tokens = zvt_router_rate_limit;
	r.tokens_at = GetCurrentTimestamp();

	/* the exchange's address and clock before the first request is signed */
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (OidIsValid(get_extension_oid("zvt", true)))
	{
		Datum		name = CStringGetTextDatum(r.name);

		SPI_connect();
		router_read_base(&r);
		/* what a crash or a stop left unfinished is asked about first */
		if (SPI_execute_with_args("SELECT zvt._router_start($1)", 1, (Oid[]) {TEXTOID}, &name,
								  NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "zvt router: zvt._router_start failed");
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	next_sync = 0;
	/* the private streams (router_stream.c): executions as they happen */
	router_stream_begin(ex, r.name, r.system_id);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		uint64		gen = router_generation(ex);
		int			running;
		int			room = ROUTER_MAX_INFLIGHT - r.inflight - r.ndone;
		long		wait_ms = ROUTER_SCAN_MS;
		bool		recon = false;
		RT_VAR(t0);

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			router_keys_forget();	/* zvt.key_file may name another master key */
		}
		if (!zvt_live_trading && r.inflight == 0 && r.ndone == 0)
			break;
		/*
		 * the exchange's clock, once a minute: the first time at once (the
		 * base URL was read at the start), then beside the requests
		 */
		if (r.base[0] && now >= next_sync)
		{
			router_clock_sync(&r.clock, r.multi, r.base, next_sync == 0);
			next_sync = TimestampTzPlusMilliseconds(now, 60000);
		}

		if (r.base[0] && reconcile_pending(r.inflight + r.ndone + (r.clock.h != NULL), &(ReconTarget) {r.ex, r.name, r.base, r.host, r.system_id, &r.clock.skew}))
		{
			next_scan = now;
			recon = true;
		}

		/*
		 * step 1: when woken by a commit, the send path alone (the pending
		 * orders); every ROUTER_SCAN_MS, everything due
		 */
		else if (room > 0 && (gen != gen_seen || backlog || now >= next_scan))
		{
			bool		full = now >= next_scan;
			int			lim = Min(room, router_allowance(&r, now));
			int			n = 0;
			MemoryContext old = MemoryContextSwitchTo(r.pass_cxt);

			if (lim > 0)
			{
				gen_seen = gen;
				n = router_work(&r, lim, !full);
				if (n < 0)
					break;		/* zvt is not installed */
				r.tokens -= n;
				/* a full pass leaves a backlog: the next as soon as a slot frees */
				backlog = !full && n >= lim;
				if (full)
					next_scan = n >= lim ? now : TimestampTzPlusMilliseconds(now, ROUTER_SCAN_MS);
			}
			else
			{
				/* the rate limit: again when a token is back */
				wait_ms = Max(1, 1000 / Max(zvt_router_rate_limit, 1));
				if (full)
					next_scan = TimestampTzPlusMilliseconds(now, ROUTER_SCAN_MS);
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(r.pass_cxt);
			if (full && n == 0 && r.inflight == 0 && r.ndone == 0 && lim > 0 && !router_stream_left() && !router_busy(&r))
			{
				if (router_generation(ex) == gen_seen)
				{
					/* nothing left: the launcher starts us again when an order commits */
					router_mark_idle(ex, gen_seen);
					break;
				}
			}
		}

		/* steps 2 and 3: what finished is read at once, without waiting */
		if (r.inflight > 0 || r.clock.h)
		{
			RT_MARK(t0);
			curl_multi_perform(r.multi, &running);
			router_harvest(&r);
			RT_END('P', t0, r.ndone);
		}

		/*
		 * the private streams' news, after the sends, as the bookings; a
		 * stream (re)connected makes every order due
		 */
		if ((recon || !router_send_waiting(&r, gen_seen, backlog)) &&
			router_stream_step(r.clock.skew.offset_ms, router_yield_gen(&r, gen_seen, recon)))
			next_scan = 0;

		/*
		 * Sends first: an order committed meanwhile goes out before the
		 * replies read are booked (unless there is no room or no token for
		 * it, or a reconciliation waits for the bookings).
		 */
		if (r.ndone > 0)
		{
			if (recon || !router_send_waiting(&r, gen_seen, backlog))
			{
				RT_MARK(t0);
				router_flush(&r, router_yield_gen(&r, gen_seen, recon));
				RT_END('B', t0, r.ndone);
			}
			continue;
		}
		if (next_scan > now)
		{
			long		secs;
			int			usecs;

			TimestampDifference(now, next_scan, &secs, &usecs);
			wait_ms = Min(wait_ms, secs * 1000 + (usecs + 999) / 1000);
		}
		else if (room > 0 && !recon)
			wait_ms = 0;		/* a scan is due and may run */
		if (router_stream_left())
			wait_ms = 0;		/* a stream step yielded: the rest next */
		RT_MARK(t0);
		(void) router_wait(r.multi, r.inflight + (r.clock.h != NULL), wait_ms, router_stream_fd());
		RT_END('W', t0, (int) wait_ms);
	}
	proc_exit(0);
}
