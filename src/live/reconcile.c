/*-------------------------------------------------------------------------
 *
 * src/live/reconcile.c
 *	  Reconciliation: the order router of an exchange compares each live
 *	  account of it (those with an API key) with the exchange's own lists
 *	  and books the differences (sql/59_reconcile.sql has the SQL half,
 *	  docs/live-trading.md the user's view).
 *
 * When: at the router's start (before its first order goes out), after
 * an outage of the exchange's REST (a request got no reply or a 5xx, and
 * then one got a reply: reconcile_note_reply), and every
 * zvt.reconcile_interval (0: at the start and after outages only).  The
 * router calls reconcile_pending every turn: when a run is due it sends
 * nothing new, and runs it once no request is in flight.
 *
 * A run, per account:
 *	1. its run row is committed (zvt._reconcile_begin): from then until
 *	   zvt._reconcile_end the router sends none of the account's pending
 *	   orders (zvt._router_work skips them);
 *	2. the fill history since the last run (reconcile_history.c), then
 *	   the open orders (every page), the balances and the open orders
 *	   again are read (blocking signed GETs, recon_fetch.h); if the two order lists
 *	   differ (a fill or a close in between), the balances and the second
 *	   list are read again, up to three times, else the balances are not
 *	   compared this run (so a fill between the reads is never taken for
 *	   a balance difference);
 *	3. zvt._reconcile_orders books the list's fills and returns the
 *	   ledger's sent, unfinished orders the exchange does not list; each
 *	   is queried by client order id and booked by zvt._reconcile_missing;
 *	   then the fill history is booked, each trade once by its trade id
 *	   with the exchange's fee (zvt._reconcile_trades);
 *	4. zvt._reconcile_balances (not while an order is still in doubt:
 *	   sending or unknown), then zvt._reconcile_end.
 * A failure (the key, the clock, no reply) ends the run with its error;
 * the next trigger tries again.  The key is opened for the run and wiped
 * after it; signed requests are wiped after use and never logged.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "live/keys.h"
#include "live/recon_fetch.h"
#include "live/recon_run.h"
#include "live/reconcile.h"
#include "live/reply_body.h"
#include "live/skew.h"
#include "zvt.h"

/* orders a list is read up to (a longer list: the rest is not compared, noted) */
#define RECON_MAX_ORDERS	500
#define RECON_MAX_BALANCES	200
#define RECON_MAX_MISSING	500

/* the router's reconciliation state (one router per process) */
static const char *due_trigger = "start";	/* a run due now: why; NULL none */
static TimestampTz last_run = 0;	/* when the last run ended */
static bool rest_down = false;
static bool reset_done = false;

/*
 * A reply (or its absence) to any request of the router: no reply or a
 * 5xx marks the exchange's REST down; the first reply after makes a run
 * due ("reconnect").
 */
void
reconcile_note_reply(bool replied, long http_status)
{
	bool		down = !replied || http_status == 0 || http_status >= 500;

	if (down)
		rest_down = true;
	else if (rest_down)
	{
		rest_down = false;
		if (due_trigger == NULL)
			due_trigger = "reconnect";
	}
}

/*
 * A run asked for by trigger (router_stream.c: a private stream came up
 * again, so the fill history tells what it missed, with trade ids).
 */
void
reconcile_request(const char *trigger)
{
	if (due_trigger == NULL)
		due_trigger = trigger;
}

/* Is a run due now?  (the start's, a reconnect's, or the interval's) */
bool
reconcile_due(void)
{
	if (due_trigger != NULL)
		return true;
	if (zvt_reconcile_interval > 0 &&
		GetCurrentTimestamp() >= TimestampTzPlusMilliseconds(last_run, zvt_reconcile_interval))
	{
		due_trigger = "interval";
		return true;
	}
	return false;
}

/*
 * Does the router of exchange stay, although it has no order to finish,
 * to reconcile every zvt.reconcile_interval?  Under SPI.
 */
bool
reconcile_stays(const char *exchange)
{
	return SPI_execute_with_args("SELECT zvt._reconcile_stay($1, $2)", 2, (Oid[]) {TEXTOID, INT4OID},
								 (Datum[]) {CStringGetTextDatum(exchange), Int32GetDatum(zvt_reconcile_interval)},
								 NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1 &&
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0;
}

/* ----------------------------------------------------------------
 * requests
 * ----------------------------------------------------------------
 */

/* send req (blocking, zvt.router_timeout); the HTTP status (0: no reply) and the body into b */
long
recon_send(ReconRun *run, LiveRequest *req, StringInfo b)
{
	char		url[4096];
	struct curl_slist *headers = NULL;
	CURL	   *h = curl_easy_init();
	ReplyBody	sink;
	long		status = 0;
	CURLcode	rc;

	CHECK_FOR_INTERRUPTS();		/* a run may be long: a shutdown need not wait for it */
	resetStringInfo(b);
	snprintf(url, sizeof(url), "%s%s", run->t->base, req->path_query);
	for (int i = 0; i < req->nheaders; i++)
		headers = curl_slist_append(headers, req->headers[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	reply_body_attach(h, &sink, b, 16 * 1024 * 1024);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) zvt_router_timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (zvt_ca_file && zvt_ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, zvt_ca_file);
	pgstat_report_activity(STATE_RUNNING, "zvt router: reconciling");
	/* a run may ask about many orders: a stop does not wait for them all */
	CHECK_FOR_INTERRUPTS();
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	explicit_bzero(req, sizeof(*req));	/* signatures, JWTs */
	explicit_bzero(url, sizeof(url));
	pgstat_report_activity(STATE_IDLE, NULL);
	reconcile_note_reply(rc == CURLE_OK, status);
	return status;
}

/* the exchange's clock now (corrected), a Coinbase JWT dated 5 s back as router.c does */
int64
recon_clock(const ReconTarget *t)
{
	int64		x = zvt_router_clock_sync ? skew_exchange_now(t->skew, skew_local_ms()) : skew_local_ms();

	return t->ex == LX_COINBASE ? x - 5000 : x;
}

void
recon_nonce(char *nonce)
{
	unsigned char rnd[16];

	if (!pg_strong_random(rnd, sizeof(rnd)))
		elog(ERROR, "zvt router: no random bytes");
	for (int i = 0; i < 16; i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
}

LiveCreds
recon_creds(ReconRun *run)
{
	LiveCreds	cr;

	cr.api_key = run->creds.api_key;
	cr.secret = run->creds.secret;
	cr.passphrase = run->creds.has_passphrase ? run->creds.passphrase : NULL;
	return cr;
}

/* read one list; false with run->error set when it could not be read */
static bool
recon_list(ReconRun *run, ReconList what, StringInfo b)
{
	LiveCreds	cr = recon_creds(run);
	LiveRequest req;
	LiveReply	fail;
	const char *err = NULL;
	char		nonce[33];
	char		cursor[256] = "";
	long		status;
	int			n = 0,
				got = 0;
	const char *label = what == RL_OPEN_ORDERS ? "open orders" : "balances";
	ReconOrder *into = run->n1 < 0 ? run->o1 : run->o2;

	/* open orders: every page (Bybit's cursor, OKX after the last order, Coinbase's cursor) */
	for (int page = 0; page < RECON_MAX_ORDERS; page++)
	{
		bool		more = false;

		recon_nonce(nonce);
		if (recon_build_page(run->t->ex, what, &cr, recon_clock(run->t), run->t->host, nonce, cursor,
							 zvt_reconcile_page_limit, &req, &err) < 0)
		{
			explicit_bzero(&req, sizeof(req));
			snprintf(run->error, sizeof(run->error), "%s: the request could not be built: %s", label, err);
			return false;
		}
		status = recon_send(run, &req, b);
		if (what == RL_BALANCES)
		{
			n = recon_parse_balances(run->t->ex, status, b->data, b->len, run->bal, RECON_MAX_BALANCES, &fail);
			break;
		}
		n = recon_parse_orders(run->t->ex, status, b->data, b->len, into + got, RECON_MAX_ORDERS - got, &more, &fail);
		if (n < 0)
			break;
		got += n;
		recon_orders_next(run->t->ex, b->data, b->len, zvt_reconcile_page_limit, cursor, sizeof(cursor));
		if (cursor[0] == '\0')
			break;
		if (got >= RECON_MAX_ORDERS)
		{
			run->more = true;	/* the rest is not compared this run */
			break;
		}
	}
	if (n < 0)
	{
		static const char *const kinds[] = {"ok", "rejected", "not found", "API key refused",
		"timestamp refused (clock skew)", "rate limited", "no answer"};

		snprintf(run->error, sizeof(run->error), "%s: %s: %s", label, kinds[fail.kind], fail.reason);
		return false;
	}
	if (what == RL_BALANCES)
		run->nbal = n;
	else if (run->n1 < 0)
		run->n1 = got;
	else
		run->n2 = got;
	return true;
}

/* the two open-order lists agree (same orders, same fills)? */
static bool
recon_same_lists(const ReconRun *run)
{
	if (run->n1 != run->n2)
		return false;
	for (int i = 0; i < run->n1; i++)
	{
		bool		found = false;

		for (int k = 0; k < run->n2 && !found; k++)
			found = strcmp(run->o1[i].rep.exchange_id, run->o2[k].rep.exchange_id) == 0 &&
				strcmp(run->o1[i].rep.filled_qty, run->o2[k].rep.filled_qty) == 0 &&
				strcmp(run->o1[i].rep.status, run->o2[k].rep.status) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* ----------------------------------------------------------------
 * the ledger's side
 * ----------------------------------------------------------------
 */

/* the context a run allocates in, restored after each transaction */
static MemoryContext tx_cxt;

void
recon_tx_begin(void)
{
	tx_cxt = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
}

void
recon_tx_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(tx_cxt);
}

void
recon_json_str(StringInfo s, const char *key, const char *v, bool comma)
{
	if (comma)
		appendStringInfoChar(s, ',');
	escape_json(s, key);
	appendStringInfoChar(s, ':');
	if (v == NULL || v[0] == '\0')
		appendStringInfoString(s, "null");
	else
		escape_json(s, v);
}

/* zvt's order id in a client order id of this database ("zvt<sysid>o<id>"), or 0 */
int64
recon_our_order(const ReconTarget *t, const char *client_id)
{
	char		prefix[40];
	int			n = live_client_order_id(t->system_id, 1, prefix, sizeof(prefix));
	const char *p;
	int64		id = 0;

	if (n < 2 || strncmp(client_id, prefix, n - 1) != 0)
		return 0;
	for (p = client_id + n - 1; *p; p++)
	{
		if (*p < '0' || *p > '9' || id > PG_INT64_MAX / 10 - 10)
			return 0;
		id = id * 10 + (*p - '0');
	}
	return id;
}

/* the open orders as zvt._reconcile_orders takes them */
static char *
recon_orders_json(const ReconRun *run, const ReconOrder *o, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < n; i++)
	{
		int64		id = recon_our_order(run->t, o[i].client_id);

		appendStringInfoString(&s, i ? ",{" : "{");
		if (id > 0)
			appendStringInfo(&s, "\"order_id\":" INT64_FORMAT, id);
		else
			appendStringInfoString(&s, "\"order_id\":null");
		recon_json_str(&s, "client_id", o[i].client_id, true);
		recon_json_str(&s, "exchange_id", o[i].rep.exchange_id, true);
		recon_json_str(&s, "symbol", o[i].symbol, true);
		recon_json_str(&s, "side", o[i].side, true);
		recon_json_str(&s, "qty", o[i].qty, true);
		recon_json_str(&s, "price", o[i].price, true);
		recon_json_str(&s, "status", o[i].rep.status, true);
		recon_json_str(&s, "filled", o[i].rep.filled_qty, true);
		recon_json_str(&s, "filled_quote", o[i].rep.filled_quote, true);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return s.data;
}

static char *
recon_balances_json(const ReconRun *run)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < run->nbal; i++)
	{
		appendStringInfoString(&s, i ? ",{" : "{");
		recon_json_str(&s, "asset", run->bal[i].asset, false);
		recon_json_str(&s, "free", run->bal[i].free, true);
		recon_json_str(&s, "locked", run->bal[i].locked, true);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return s.data;
}

/* query the ledger's order order_id (missing from the open list) and book the answer */
static void
recon_query_missing(ReconRun *run, int64 order_id, const char *symbol, const char *exchange_id, StringInfo b)
{
	LiveCreds	cr = recon_creds(run);
	LiveOrder	o;
	LiveRequest req;
	LiveReply	rep;
	const char *err = NULL;
	char		client_id[40];
	char		nonce[33];
	long		status;
	Oid			types[10] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	INT4OID, INT4OID};
	Datum		args[10];
	char		nulls[10];
	static const char *const kinds[] = {"ok", "rejected", "not_found", "auth", "clock", "rate", "unknown"};

	memset(&o, 0, sizeof(o));
	memset(&rep, 0, sizeof(rep));
	if (live_client_order_id(run->t->system_id, order_id, client_id, sizeof(client_id)) < 0)
		return;
	o.symbol = symbol;
	o.type = "limit";
	o.tif = "gtc";
	o.qty = "1";
	o.price = "1";
	o.client_id = client_id;
	recon_nonce(nonce);
	if (live_build(run->t->ex, LO_QUERY, &cr, &o, exchange_id, recon_clock(run->t), run->t->host, nonce,
				   &req, &err) < 0)
	{
		rep.kind = LR_UNKNOWN;
		snprintf(rep.reason, sizeof(rep.reason), "the query could not be built: %s", err ? err : "?");
	}
	else
	{
		status = recon_send(run, &req, b);
		live_parse_reply(run->t->ex, LO_QUERY, status, b->len ? b->data : NULL, b->len, client_id, &rep);
	}
	explicit_bzero(&req, sizeof(req));

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(run->run_id);
	args[1] = Int64GetDatum(order_id);
	args[2] = CStringGetTextDatum(kinds[rep.kind]);
	args[3] = CStringGetTextDatum(rep.status);
	args[4] = CStringGetTextDatum(rep.exchange_id);
	args[5] = CStringGetTextDatum(rep.filled_qty);
	nulls[5] = rep.filled_qty[0] ? ' ' : 'n';
	args[6] = CStringGetTextDatum(rep.filled_quote);
	nulls[6] = rep.filled_quote[0] ? ' ' : 'n';
	args[7] = CStringGetTextDatum(rep.reason);
	args[8] = Int32GetDatum(zvt_router_poll_interval);
	args[9] = Int32GetDatum(Min(zvt_router_poll_interval, 1000));
	recon_tx_begin();
	if (SPI_execute_with_args("SELECT zvt._reconcile_missing($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, $9, $10)",
							  10, types, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_missing failed");
	recon_tx_commit();
}

/* steps 3 and 4 of a run whose lists were read */
static void
recon_apply(ReconRun *run, StringInfo b)
{
	int64	   *ids = palloc(sizeof(int64) * RECON_MAX_MISSING);
	char	  **syms = palloc(sizeof(char *) * RECON_MAX_MISSING);
	char	  **xids = palloc(sizeof(char *) * RECON_MAX_MISSING);
	int			n = 0;
	Datum		args[4];

	recon_tx_begin();
	args[0] = Int64GetDatum(run->run_id);
	args[1] = CStringGetTextDatum(recon_orders_json(run, run->o2, run->n2));
	args[2] = Int32GetDatum(zvt_router_poll_interval);
	args[3] = Int32GetDatum(Min(zvt_router_poll_interval, 1000));
	if (SPI_execute_with_args("SELECT order_id, symbol, exchange_id FROM zvt._reconcile_orders($1, $2::jsonb, $3, $4)",
							  4, (Oid[]) {INT8OID, TEXTOID, INT4OID, INT4OID}, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_orders failed");
	for (uint64 i = 0; i < SPI_processed && n < RECON_MAX_MISSING; i++, n++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *x = SPI_getvalue(tup, td, 3);
		MemoryContext old = MemoryContextSwitchTo(tx_cxt);

		ids[n] = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		syms[n] = pstrdup(SPI_getvalue(tup, td, 2));
		xids[n] = x ? pstrdup(x) : NULL;
		MemoryContextSwitchTo(old);
	}
	recon_tx_commit();

	run->missing = n;
	for (int i = 0; i < n; i++)
		recon_query_missing(run, ids[i], syms[i], xids[i], b);

	/* the fill history: each trade once, with its id and fee (reconcile_history.c) */
	recon_book_history(run);

	recon_tx_begin();
	if (run->balances_ok)
	{
		bool		isnull;

		args[1] = CStringGetTextDatum(recon_balances_json(run));
		if (SPI_execute_with_args("SELECT zvt._reconcile_balances($1, $2::jsonb)", 2, (Oid[]) {INT8OID, TEXTOID},
								  args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "zvt router: zvt._reconcile_balances failed");
		/* -1: not compared, an order of the account is in doubt */
		run->balances_ok = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) >= 0;
	}
	recon_tx_commit();
}

/* end the run: its error (NULL: completed) and counts */
static void
recon_end(ReconRun *run)
{
	StringInfoData stats;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	initStringInfo(&stats);
	appendStringInfo(&stats, "{\"ledger_open_missing\":%d,\"list_rereads\":%d,\"more_pages\":%s,"
					 "\"balances_compared\":%s,\"history_pages\":%d,\"history_truncated\":%s}",
					 run->missing, run->rereads, run->more ? "true" : "false",
					 run->balances_ok && !run->error[0] ? "true" : "false", run->pages,
					 run->truncated ? "true" : "false");
	args[0] = Int64GetDatum(run->run_id);
	args[1] = CStringGetTextDatum(run->error);
	nulls[1] = run->error[0] ? ' ' : 'n';
	args[2] = CStringGetTextDatum(stats.data);
	recon_tx_begin();
	if (SPI_execute_with_args("SELECT zvt._reconcile_end($1, $2, $3::jsonb)", 3,
							  (Oid[]) {INT8OID, TEXTOID, TEXTOID}, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_end failed");
	recon_tx_commit();
}

/* one account's run (the caller catches errors) */
static void
recon_account(ReconRun *run, const char *trigger, StringInfo b)
{
	Datum		args[2];
	bool		isnull;
	bool		keyed;

	recon_tx_begin();
	args[0] = Int32GetDatum(run->account);
	args[1] = CStringGetTextDatum(trigger);
	if (SPI_execute_with_args("SELECT zvt._reconcile_begin($1, $2)", 2, (Oid[]) {INT4OID, TEXTOID},
							  args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "zvt router: zvt._reconcile_begin failed");
	run->run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	keyed = keys_try_open(run->account, &run->creds, run->error, sizeof(run->error));
	/* the run row is on disk: the account's pending orders wait from here */
	recon_tx_commit();

	/* the fill history first: it holds nothing the balances read after it do not */
	if (keyed && recon_read_history(run, b) && recon_list(run, RL_OPEN_ORDERS, b) &&
		recon_list(run, RL_BALANCES, b) && recon_list(run, RL_OPEN_ORDERS, b))
	{
		/* a fill or a close between the reads: read the balances and the orders again */
		while (!recon_same_lists(run) && run->rereads < 3 && !run->error[0])
		{
			ReconOrder *t = run->o1;

			run->o1 = run->o2;
			run->o2 = t;
			run->n1 = run->n2;
			run->rereads++;
			(void) (recon_list(run, RL_BALANCES, b) && recon_list(run, RL_OPEN_ORDERS, b));
		}
		if (!run->error[0])
		{
			run->balances_ok = recon_same_lists(run);
			recon_apply(run, b);
		}
	}
	vault_creds_wipe(&run->creds);
	recon_end(run);
}

/*
 * Reconcile every live account of t's exchange that has a key, now, with
 * no request of the router in flight.
 */
static void
reconcile_run(const ReconTarget *t)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "zvt reconcile", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	const char *trigger = due_trigger ? due_trigger : "interval";
	int32	   *accounts = palloc(sizeof(int32) * 1024);
	int			naccounts = 0;
	StringInfoData b;
	ReconRun   *run = palloc0(sizeof(ReconRun));

	due_trigger = NULL;
	initStringInfo(&b);
	recon_tx_begin();
	if (!reset_done &&
		SPI_execute_with_args("SELECT zvt._reconcile_reset($1)", 1, (Oid[]) {TEXTOID},
							  (Datum[]) {CStringGetTextDatum(t->name)}, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_reset failed");
	reset_done = true;
	if (SPI_execute_with_args("SELECT a FROM zvt._reconcile_accounts($1) a", 1, (Oid[]) {TEXTOID},
							  (Datum[]) {CStringGetTextDatum(t->name)}, NULL, true, 1024) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_accounts failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		accounts[naccounts++] = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	recon_tx_commit();
	MemoryContextSwitchTo(cxt);

	run->o1 = palloc(sizeof(ReconOrder) * RECON_MAX_ORDERS);
	run->o2 = palloc(sizeof(ReconOrder) * RECON_MAX_ORDERS);
	run->bal = palloc(sizeof(ReconBalance) * RECON_MAX_BALANCES);
	run->trades = palloc(sizeof(ReconTrade) * RECON_MAX_TRADES);
	for (int i = 0; i < naccounts; i++)
	{
		ReconOrder *o1 = run->o1,
				   *o2 = run->o2;
		ReconBalance *bal = run->bal;
		ReconTrade *trades = run->trades;

		memset(run, 0, sizeof(*run));
		run->t = t;
		run->account = accounts[i];
		run->o1 = o1;
		run->o2 = o2;
		run->bal = bal;
		run->trades = trades;
		run->n1 = run->n2 = -1;
		PG_TRY();
		{
			recon_account(run, trigger, &b);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			HOLD_INTERRUPTS();
			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			AbortOutOfAnyTransaction();
			FlushErrorState();
			RESUME_INTERRUPTS();
			vault_creds_wipe(&run->creds);
			ereport(LOG,
					(errmsg("zvt router %s could not reconcile account %d", t->name, run->account),
					 errdetail_internal("%s", e->message)));
			if (run->run_id > 0)
			{
				snprintf(run->error, sizeof(run->error), "internal error: %s", e->message);
				recon_end(run);
			}
			FreeErrorData(e);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(cxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	last_run = GetCurrentTimestamp();
}

/*
 * The router's hook, every turn of its loop: is a reconciliation due?  If
 * so, it sends nothing new, and the run happens here once it has no
 * request in flight (inflight 0).
 */
bool
reconcile_pending(int inflight, const ReconTarget *t)
{
	if (!reconcile_due())
		return false;
	if (inflight == 0)
		reconcile_run(t);
	return true;
}
