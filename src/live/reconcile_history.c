/*-------------------------------------------------------------------------
 *
 * src/live/reconcile_history.c
 *	  Reconciliation's fill history: a run reads the account's trades on
 *	  the exchange since the last run (every page, each exchange's own
 *	  pagination, recon_fetch.h), before it reads the open orders and the
 *	  balances, and books them by zvt._reconcile_trades
 *	  (sql/59_trades.sql) once the orders' cumulative quantities and the
 *	  missing orders' queries are booked, before the balances are
 *	  compared: each trade once by its trade id, with the exchange's fee,
 *	  identifying what the ledger booked without a trade id.
 *
 * Where a run reads from (zvt._recon_marks, kept by the run that booked):
 *	 Binance   per symbol of the account's live orders, fromId = the last
 *			   trade id read + 1 (0 the first time), ascending, until a
 *			   short page;
 *	 OKX	   newest first, page after page (after = the last bill id of
 *			   the page) until the last bill id read (or, the first time,
 *			   a trade older than the account's first live order);
 *	 Bybit,	   newest first, cursor after cursor, until a trade older than
 *	 Coinbase  the newest trade time read less RECON_SLACK_MS (the first
 *			   time: the account's first live order).
 * Reading the history before the order lists means it never holds a
 * trade the balances read after it do not: what executes meanwhile is
 * booked from the lists' cumulative quantities, and identified by the
 * next run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "live/recon_run.h"
#include "zvt.h"

/* time-ordered histories are read again this far back (a trade published late) */
#define RECON_SLACK_MS		300000
#define RECON_MAX_SYMBOLS	64
#define RECON_MAX_PAGES		1000

/* one page into run->trades; its count, or -1 with run->error */
static int
history_page(ReconRun *run, const char *symbol, const char *from, int limit, char *next, size_t nextlen,
			 StringInfo b)
{
	LiveCreds	cr = recon_creds(run);
	LiveRequest req;
	LiveReply	fail;
	const char *err = NULL;
	char		nonce[33];
	long		status;
	int			n;

	recon_nonce(nonce);
	if (recon_build_trades(run->t->ex, &cr, recon_clock(run->t), run->t->host, nonce, symbol, from, limit,
						   &req, &err) < 0)
	{
		explicit_bzero(&req, sizeof(req));
		snprintf(run->error, sizeof(run->error), "fill history: the request could not be built: %s", err);
		return -1;
	}
	status = recon_send(run, &req, b);
	n = recon_parse_trades(run->t->ex, status, b->data, b->len, limit, run->trades + run->ntrades,
						   RECON_MAX_TRADES - run->ntrades, next, nextlen, &fail);
	if (n < 0)
	{
		static const char *const kinds[] = {"ok", "rejected", "not found", "API key refused",
		"timestamp refused (clock skew)", "rate limited", "no answer"};

		snprintf(run->error, sizeof(run->error), "fill history: %s: %s", kinds[fail.kind], fail.reason);
		return -1;
	}
	run->pages++;
	return n;
}

static void
add_mark(ReconRun *run, const char *symbol, int64 mark)
{
	appendStringInfoString(&run->marks, run->marks.len > 1 ? "," : "");
	escape_json(&run->marks, symbol);
	appendStringInfo(&run->marks, ":\"" INT64_FORMAT "\"", mark);
}

/* Binance: each symbol ascending from its mark */
static bool
history_binance(ReconRun *run, char **symbols, int64 *marks, int nsym, int limit, StringInfo b)
{
	char		from[64];
	char		next[256];

	for (int i = 0; i < nsym; i++)
	{
		int64		last = marks[i];

		if (symbols[i][0] == '\0')
			continue;
		snprintf(from, sizeof(from), INT64_FORMAT, marks[i] >= 0 ? marks[i] + 1 : 0);
		for (int p = 0; p < RECON_MAX_PAGES; p++)
		{
			int			k0 = run->ntrades;
			int			n = history_page(run, symbols[i], from, limit, next, sizeof(next), b);

			if (n < 0)
				return false;
			for (int k = k0; k < k0 + n; k++)
				last = Max(last, run->trades[k].seq);
			run->ntrades += n;
			if (next[0] == '\0')
				break;
			if (run->ntrades >= RECON_MAX_TRADES)
			{
				run->truncated = true;	/* the mark is where it stopped: the next run goes on */
				break;
			}
			snprintf(from, sizeof(from), "%s", next);
		}
		if (last >= 0)
			add_mark(run, symbols[i], last);
	}
	return true;
}

/* Bybit, OKX, Coinbase: newest first, back to the mark */
static bool
history_newest_first(ReconRun *run, int64 mark, int64 since, int limit, StringInfo b)
{
	bool		by_bill = run->t->ex == LX_OKX;
	int64		newest = mark;
	char		from[256] = "";
	char		next[256];

	for (int p = 0; p < RECON_MAX_PAGES; p++)
	{
		int			k0 = run->ntrades;
		int			n = history_page(run, NULL, from, limit, next, sizeof(next), b);
		int			kept = k0;
		bool		done = false;

		if (n < 0)
			return false;
		for (int k = k0; k < k0 + n; k++)
		{
			ReconTrade *t = &run->trades[k];
			bool		old;

			if (by_bill && mark >= 0)
				old = t->seq <= mark;
			else if (!by_bill && mark >= 0)
				old = t->ts < mark - RECON_SLACK_MS;
			else
				old = since > 0 && t->ts < since;
			newest = Max(newest, by_bill ? t->seq : t->ts);
			if (old)
			{
				done = true;
				continue;
			}
			if (kept != k)
				run->trades[kept] = *t;
			kept++;
		}
		run->ntrades = kept;
		if (done || next[0] == '\0')
			break;
		if (run->ntrades >= RECON_MAX_TRADES)
		{
			run->truncated = true;	/* the oldest are left: the lists' cumulative quantities book them */
			break;
		}
		snprintf(from, sizeof(from), "%s", next);
	}
	if (newest >= 0)
		add_mark(run, "", newest);
	return true;
}

/*
 * Read the account's fill history since the last run (before the lists).
 * false with run->error set if a page could not be read.
 */
bool
recon_read_history(ReconRun *run, StringInfo b)
{
	char	   *symbols[RECON_MAX_SYMBOLS];
	int64		marks[RECON_MAX_SYMBOLS];
	int64		since = 0;
	int			nsym = 0;
	int			limit = RECON_TRADES_LIMIT(run->t->ex);
	MemoryContext cxt = CurrentMemoryContext;

	if (zvt_reconcile_page_limit > 0 && zvt_reconcile_page_limit < limit)
		limit = zvt_reconcile_page_limit;
	run->ntrades = 0;
	initStringInfo(&run->marks);
	appendStringInfoChar(&run->marks, '{');
	recon_tx_begin();
	if (SPI_execute_with_args("SELECT symbol, mark, since FROM zvt._reconcile_history_from($1)", 1,
							  (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(run->run_id)}, NULL, true,
							  RECON_MAX_SYMBOLS) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_history_from failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		char	   *m = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
		char	   *s = SPI_getvalue(tup, SPI_tuptable->tupdesc, 3);
		MemoryContext old = MemoryContextSwitchTo(cxt);

		symbols[nsym] = pstrdup(SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
		marks[nsym] = m ? strtoll(m, NULL, 10) : -1;
		if (s)
			since = strtoll(s, NULL, 10);
		nsym++;
		MemoryContextSwitchTo(old);
	}
	recon_tx_commit();
	if (run->t->ex == LX_BINANCE ? !history_binance(run, symbols, marks, nsym, limit, b)
		: !history_newest_first(run, nsym > 0 && symbols[0][0] == '\0' ? marks[0] : -1, since, limit, b))
		return false;
	appendStringInfoChar(&run->marks, '}');
	return true;
}

/* Book the history read (after the lists and the missing orders' queries, before the balances). */
void
recon_book_history(ReconRun *run)
{
	StringInfoData s;
	Datum		args[3];

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < run->ntrades; i++)
	{
		const ReconTrade *t = &run->trades[i];
		int64		id = t->client_id[0] ? recon_our_order(run->t, t->client_id) : 0;

		appendStringInfoString(&s, i ? ",{" : "{");
		if (id > 0)
			appendStringInfo(&s, "\"order_id\":" INT64_FORMAT, id);
		else
			appendStringInfoString(&s, "\"order_id\":null");
		recon_json_str(&s, "exchange_id", t->order_id, true);
		recon_json_str(&s, "trade_id", t->trade_id, true);
		recon_json_str(&s, "qty", t->qty, true);
		recon_json_str(&s, "px", t->px, true);
		recon_json_str(&s, "fee", t->fee, true);
		recon_json_str(&s, "fee_asset", t->fee_asset, true);
		appendStringInfo(&s, ",\"maker\":%s,\"ts\":" INT64_FORMAT "}",
						 t->maker < 0 ? "null" : t->maker ? "true" : "false", (int64) t->ts);
	}
	appendStringInfoChar(&s, ']');
	recon_tx_begin();
	args[0] = Int64GetDatum(run->run_id);
	args[1] = CStringGetTextDatum(s.data);
	args[2] = CStringGetTextDatum(run->marks.data);
	if (SPI_execute_with_args("SELECT zvt._reconcile_trades($1, $2::jsonb, $3::jsonb)", 3,
							  (Oid[]) {INT8OID, TEXTOID, TEXTOID}, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: zvt._reconcile_trades failed");
	recon_tx_commit();
}
