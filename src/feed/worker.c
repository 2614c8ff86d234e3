/*-------------------------------------------------------------------------
 *
 * src/feed/worker.c
 *	  One background worker per exchange ("zvt feed binance"...): the
 *	  loop that streams zvt.subscriptions from the exchange into the
 *	  hypertables, a batch every zvt.flush_interval.
 *
 * Control flow.  libwebsockets owns the loop: lws_service() blocks until
 * socket activity or an lws timer (Debian's 4.1.6 ignores its timeout), so
 * a sul timer fires every flush interval and runs the worker's steps in
 * order (feed_tick): interrupts and reload; the parsed frames back from
 * the parser thread (book messages applied at once, books.c, and the
 * books that moved published to shared memory); subscriptions and symbols
 * (re-read when this exchange's generations moved, status.c); the batch
 * flush, bus, gaps and the books' database work in one transaction; connections due, keepalives and the watchdog
 * (connection.c).  SIGTERM sets a flag and calls lws_cancel_service() so
 * the loop notices at once.
 *
 * Threads.  Frames arrive in lws callbacks on the main thread, which
 * hands them to a parser thread (parse_thread.c: the pure-C adapters only,
 * never PostgreSQL) and takes the parsed frames back in arrival order at
 * each timer step, or when a connection drops (so its gap starts at the
 * last data really received).
 *
 * Memory.  Nothing may longjmp in the callbacks: parsed events go into a
 * malloc'd batch.  Database work happens only in the timer step, in a
 * transaction, in flush_context, reset after each flush.  The symbol map
 * has a context of its own (symbols.c).
 *
 * Idle.  A worker whose exchange has nothing to stream records the
 * subscription generation it saw (status.c) and exits 0; the launcher
 * starts it again only when that exchange's subscriptions change.  Its
 * instrument list is downloaded (zvt.sync_instruments) only when there is
 * something to stream: at the first such pass, then daily.
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
#include "storage/pmsignal.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "core/zvt_time.h"
#include "feed/worker.h"
#include "feed/ws_client.h"
#include "zvt.h"

PGDLLEXPORT void feed_worker_main(Datum arg);

#define SYNC_EVERY_US		(INT64CONST(86400) * 1000000)
#define UNMAPPED_LOG_US		(INT64CONST(10) * 1000000)
#define RETRY_LOG_US		(INT64CONST(10) * 1000000)

FeedWorker feed_self;

static volatile sig_atomic_t got_sigterm = false;
static bool idle_exit = false;	/* nothing subscribed any more: leave */
static bool restart_context = false;	/* zvt.ca_file changed: new lws context */
static char context_ca_file[MAXPGPATH];	/* the CA file the context uses */
static uint64 seen_subscriptions = PG_UINT64_MAX;	/* generations read last */
static uint64 seen_instruments = PG_UINT64_MAX;
static MemoryContext flush_context;
static int64 last_close_candles;
static bool restart_gaps_checked = false;
static int64 last_sync = 0;		/* us; instruments synced when streaming, daily */
static lws_sorted_usec_list_t tick_sul;

/* events of unknown symbols since the last LOG line about them */
static int64 unmapped_unlogged = 0;
static int64 unmapped_logged_at = 0;	/* us */
static char unmapped_example[FEED_SYMBOL_LEN];

/* flush retries since the last LOG line about one */
static int64 retries_unlogged = 0;
static int64 retry_logged_at = 0;	/* us */

static void feed_sigterm(SIGNAL_ARGS);
static void frame_parsed(const ParsedFrame *pf, void *arg);
static void note_unmapped(const char *symbol, bool flush_log);
static void publish_bus(void);
static void sync_instruments_now(void);
static bool tick_transaction(bool reload, IngestResult *res, Oid *install);
static bool flush_retryable(int sqlerrcode);
static void log_retry(ErrorData *err, int nevents);
static bool tick_database(bool reload);
static void feed_tick(lws_sorted_usec_list_t *sul);
static void stop_parser(int code, Datum arg);
static void feed_unclaim(int code, Datum arg);
static void run_contexts(void);

int64
feed_now_us(void)
{
	return (int64) GetCurrentTimestamp() + ZT_PG_EPOCH_OFFSET;
}

static void
feed_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	if (feed_self.context)
		lws_cancel_service(feed_self.context);
	errno = save_errno;
}

/* ------------------------------------------------------------------ */
/* parsed frames -> the batch                                          */
/* ------------------------------------------------------------------ */

/*
 * Count an event whose symbol is not in the symbol map, and say so in the
 * log at most every 10 s (at once the first time).  With flush_log, only
 * write the pending line if 10 s have passed.
 */
static void
note_unmapped(const char *symbol, bool flush_log)
{
	int64		now = feed_now_us();

	if (symbol)
	{
		feed_self.stats->unmapped++;
		unmapped_unlogged++;
		strlcpy(unmapped_example, symbol, sizeof(unmapped_example));
	}
	if (unmapped_unlogged == 0 ||
		(unmapped_logged_at != 0 && now - unmapped_logged_at < UNMAPPED_LOG_US) ||
		(flush_log && unmapped_logged_at == 0))
		return;
	ereport(LOG,
			(errmsg("zvt feed %s: skipped %lld events of symbols not in zvt.instruments, such as \"%s\"",
					feed_self.exchange, (long long) unmapped_unlogged, unmapped_example),
			 errhint("zvt.feed_status counts them in \"unmapped\"; zvt.sync_instruments('%s') refreshes the instruments.",
					 feed_self.exchange)));
	unmapped_unlogged = 0;
	unmapped_logged_at = now;
}

/*
 * A frame parsed by the parser thread, back on the main thread in the order
 * frames arrived: count it, log what was wrong with it, and put its events
 * into the batch.  Runs inside lws callbacks and the timer step, where
 * nothing may longjmp.
 */
static void
frame_parsed(const ParsedFrame *pf, void *arg)
{
	Endpoint   *e = &feed_self.endpoints[pf->endpoint];
	TimestampTz local = (TimestampTz) (pf->rx_us - ZT_PG_EPOCH_OFFSET);

	(void) arg;
	/* Coinbase: a jump in the connection's sequence_num breaks its books */
	if (pf->frame.conn_seq >= 0 && pf->frame.kind != FEED_FRAME_MALFORMED)
		feed_books_conn_seq(pf->endpoint, pf->connection, pf->frame.conn_seq, pf->rx_us);
	switch (pf->frame.kind)
	{
		case FEED_FRAME_MALFORMED:
			feed_self.stats->parse_errors++;
			ereport(LOG,
					(errmsg("zvt feed %s: skipped a malformed message: %s", feed_self.exchange, pf->frame.reason),
					 errdetail_internal("%s", pf->excerpt)));
			return;
		case FEED_FRAME_ERROR:
			feed_self.stats->exchange_errors++;
			ereport(WARNING,
					(errmsg("zvt feed %s: the exchange replied with an error: %s",
							feed_self.exchange, pf->frame.reason)));
			return;
		case FEED_FRAME_RECONNECT:
			ereport(LOG, (errmsg("zvt feed %s: %s: reconnecting", feed_self.exchange, pf->frame.reason)));
			/* only if the connection that said so is still the current one */
			if (e->wsi && e->connection == pf->connection)
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return;
		default:
			break;
	}
	if (pf->nevents > 0)
	{
		e->last_data = pf->rx_us;
		if (e->gap_open && !e->gap_ready)
		{
			e->gap_to = pf->rx_us;
			e->gap_ready = true;
		}
	}
	for (int i = 0; i < pf->nevents; i++)
	{
		const FeedSymbol *s;

		/* a book message and its levels: the book applies them now (books.c) */
		if (pf->events[i].kind == FEED_BOOK)
		{
			feed_books_message(&pf->events[i], pf->endpoint, pf->rx_us);
			i += pf->events[i].book_levels;
			continue;
		}
		s = feed_symbols_find(feed_self.symbols, pf->events[i].symbol);

		if (!s)
			note_unmapped(pf->events[i].symbol, false);
		else if (!ingest_add(&feed_self.batch, &pf->events[i], s->id, local))
			feed_self.stats->dropped++;
	}
}

/* Put the batch's latest trade and quote per instrument on the bus. */
static void
publish_bus(void)
{
	IngestBatch *b = &feed_self.batch;

	for (int i = b->n - 1; i >= 0; i--)
	{
		IngestEvent *x = &b->events[i];
		TimestampTz ts = x->ev.ts ? (TimestampTz) (x->ev.ts - ZT_PG_EPOCH_OFFSET) : x->local_ts;

		if (x->ev.kind == FEED_TRADE)
			bus_put_trade(x->instrument_id, x->ev.price, x->ev.qty, ts);
		else if (x->ev.kind == FEED_QUOTE)
			bus_put_quote(x->instrument_id, x->ev.bid, x->ev.bid_qty, x->ev.ask, x->ev.ask_qty, ts);
		else if (x->ev.kind == FEED_FUNDING)
			bus_put_funding(x->instrument_id, x->ev.mark_price, x->ev.index_price, x->ev.funding_rate,
							x->ev.funding_ts ? (TimestampTz) (x->ev.funding_ts - ZT_PG_EPOCH_OFFSET) : 0,
							x->ev.open_interest, ts);
	}
}

/* ------------------------------------------------------------------ */
/* the timer step                                                      */
/* ------------------------------------------------------------------ */

/*
 * zvt.sync_instruments() for this exchange in a subtransaction: a failure
 * (the exchange refuses, times out) is logged and the feed goes on with
 * the instruments it has.
 */
static void
sync_instruments_now(void)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(feed_self.exchange)};

	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		if (SPI_execute_with_args("SELECT zvt.sync_instruments($1)", 1, types, v, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run zvt.sync_instruments");
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *err;

		MemoryContextSwitchTo(old);
		err = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ereport(LOG,
				(errmsg("zvt feed %s: could not sync instruments: %s", feed_self.exchange, err->message),
				 err->detail ? errdetail_internal("%s", err->detail) : 0));
		FreeErrorData(err);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
	last_sync = feed_now_us();
}

/*
 * The database part of a tick, in one transaction: subscriptions and
 * symbols when reload, the daily instrument sync while there is something
 * to stream, the batch, the bus, gaps, and closing trade-built candles.
 * Returns false when there is nothing to stream.  *res gets the rows
 * written.  The batch is emptied by the caller once this has committed.
 */
static bool
tick_transaction(bool reload, IngestResult *res, Oid *install)
{
	static bool want = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	ingest_publish_reset(&feed_self.batch);
	*install = bus_install();	/* whose rows these are, for the event ring */
	if (reload)
		want = feed_load_subscriptions();
	if (want && (last_sync == 0 || feed_now_us() - last_sync > SYNC_EVERY_US))
	{
		sync_instruments_now();
		feed_load_symbols();	/* ids and contract sizes may have changed */
	}
	if (reload && want && !restart_gaps_checked)
	{
		feed_open_restart_gaps();
		restart_gaps_checked = true;
	}
	if (feed_self.batch.n > 0)
	{
		publish_bus();
		ingest_flush(&feed_self.batch, res);
	}
	feed_write_gaps();
	feed_books_step();
	if (feed_now_us() - last_close_candles > 1000000)
	{
		ingest_close_trade_candles(&feed_self.batch);
		last_close_candles = feed_now_us();
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	return want;
}

/*
 * Would the same transaction succeed if run again?  A deadlock (the
 * detector chose this flush, say against a chunk drop at a day's
 * rollover), a serialization failure or a lock timeout: the batch is kept
 * and written again at the next tick, with what arrived meanwhile.
 */
static bool
flush_retryable(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

/*
 * Say in the log that a flush failed for a transient reason and is
 * retried, with the error's detail (a deadlock's names the processes and
 * the locks each waits for), hint and context (the statement, the
 * relation): at once the first time, then at most every 10 s, counting
 * the retries in between, as a storm of them would flood the log.
 */
static void
log_retry(ErrorData *err, int nevents)
{
	int64		now = feed_now_us();
	int64		skipped = retries_unlogged;

	if (retry_logged_at != 0 && now - retry_logged_at < RETRY_LOG_US)
	{
		retries_unlogged++;
		return;
	}
	retries_unlogged = 0;
	retry_logged_at = now;

	/*
	 * detail_log is the longer detail meant for the server log (a
	 * deadlock's adds each process's query); the hint then points at it.
	 */
	ereport(LOG,
			(errcode(err->sqlerrcode),
			 skipped > 0 ?
			 errmsg("zvt feed %s: could not write %d events, retrying at the next flush "
					"(%lld more retries since the last such line): %s",
					feed_self.exchange, nevents, (long long) skipped, err->message) :
			 errmsg("zvt feed %s: could not write %d events, retrying at the next flush: %s",
					feed_self.exchange, nevents, err->message),
			 err->detail_log ? errdetail_internal("%s", err->detail_log) :
			 err->detail ? errdetail_internal("%s", err->detail) : 0,
			 err->hint && !err->detail_log ? errhint("%s", err->hint) : 0,
			 err->context ? (errcontext("%s", err->context)) : 0));
}

/*
 * Run tick_transaction; when it fails for a transient reason
 * (flush_retryable), roll back, keep the batch and every gap still to
 * write, count a retry, and return as if nothing was streamed this tick.
 * Any other error ends the worker, as before.  Returns what
 * tick_transaction returns (the last answer after a retry).
 */
static bool
tick_database(bool reload)
{
	static bool want = true;
	IngestResult res = {0};
	Oid			install = InvalidOid;
	MemoryContext old = MemoryContextSwitchTo(flush_context);
	int			nevents = feed_self.batch.n;
	bool		gaps_checked = restart_gaps_checked;
	bool		gap_open[lengthof(feed_self.endpoints)];
	bool		gap_ready[lengthof(feed_self.endpoints)];

	for (int ep = 0; ep < lengthof(feed_self.endpoints); ep++)
	{
		gap_open[ep] = feed_self.endpoints[ep].gap_open;
		gap_ready[ep] = feed_self.endpoints[ep].gap_ready;
	}
	PG_TRY();
	{
		want = tick_transaction(reload, &res, &install);
	}
	PG_CATCH();
	{
		ErrorData  *err;

		MemoryContextSwitchTo(flush_context);
		err = CopyErrorData();
		if (!flush_retryable(err->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		AbortCurrentTransaction();
		/* what the rolled-back transaction did not write is written next time */
		for (int ep = 0; ep < lengthof(feed_self.endpoints); ep++)
		{
			feed_self.endpoints[ep].gap_open = gap_open[ep];
			feed_self.endpoints[ep].gap_ready = gap_ready[ep];
		}
		restart_gaps_checked = gaps_checked;
		ingest_flush_failed();
		ingest_publish_reset(&feed_self.batch);	/* nothing of it committed */
		if (reload)
			seen_subscriptions = seen_instruments = PG_UINT64_MAX;	/* reload again */
		feed_self.stats->flush_retries++;
		log_retry(err, nevents);
		MemoryContextSwitchTo(old);
		MemoryContextReset(flush_context);
		return want;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	MemoryContextReset(flush_context);
	/* committed: the rows it inserted and the candles it closed go to the event ring */
	ingest_publish(&feed_self.batch, install);
	feed_books_note_install(install);
	/* the batch's events are still in its array: how long each took to commit */
	{
		TimestampTz committed = GetCurrentTimestamp();

		for (int i = 0; i < nevents; i++)
			feed_record_latency(feed_self.stats, committed - feed_self.batch.events[i].local_ts);
	}
	feed_self.batch.n = 0;
	ingest_batch_trim(&feed_self.batch, nevents);
	feed_self.stats->rows_written += res.trades + res.candles + res.quotes;
	feed_self.stats->events += nevents;
	return want;
}

static void
feed_tick(lws_sorted_usec_list_t *sul)
{
	int64		now = feed_now_us();
	int64		elapsed;
	uint64		gen;
	uint64		igen;
	bool		reload;

	/* step 1: leave, reload the configuration */
	if (got_sigterm || !PostmasterIsAlive())
	{
		lws_cancel_service(feed_self.context);
		return;
	}
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		if (!zvt_feeds)
		{
			/* switched off: stop; the launcher starts no feed while it is off */
			got_sigterm = true;
			lws_cancel_service(feed_self.context);
			return;
		}
		/* certificates are read when the context is made: make a new one */
		if (strcmp(context_ca_file, zvt_ca_file ? zvt_ca_file : "") != 0)
		{
			restart_context = true;
			lws_cancel_service(feed_self.context);
			return;
		}
	}
	/* step 2: what the parser thread has done, waiting briefly for the frames already in */
	parse_thread_drain(feed_self.parser, 1000);
	note_unmapped(NULL, true);
	feed_books_publish();

	/* step 3: did this exchange's subscriptions or instruments change? */
	gen = feed_subscription_generation(feed_self.exchange_index);
	igen = feed_instrument_generation(feed_self.exchange_index);
	reload = gen != seen_subscriptions || igen != seen_instruments;
	seen_subscriptions = gen;
	seen_instruments = igen;

	/* step 4: the database, only when there is something to do there */
	if (reload || feed_self.batch.n > 0 || feed_self.endpoints[0].gap_ready ||
		feed_self.endpoints[1].gap_ready || now - last_close_candles > 1000000 ||
		now - last_sync > SYNC_EVERY_US || feed_books_due(now))
	{
		if (!tick_database(reload) && reload)
		{
			/* nothing to stream: leave; the launcher starts us when that changes */
			feed_mark_idle(feed_self.exchange_index, gen);
			idle_exit = true;
			lws_cancel_service(feed_self.context);
			return;
		}
	}

	/* step 5: connections, keepalives, watchdog */
	feed_endpoints_step(now, reload);

	/*
	 * Every flush interval from this tick's start, so a slow flush does not
	 * stretch it; but a flush that took long (a busy feed) is followed by
	 * at least half its time of receiving, so batches grow with the load
	 * instead of each flush paying its fixed costs for a few rows.
	 */
	elapsed = feed_now_us() - now;
	lws_sul_schedule(feed_self.context, 0, &tick_sul, feed_tick,
					 (lws_usec_t) Max((int64) zvt_flush_interval * 1000 - elapsed, Max(elapsed / 2, 500)));
}

/* at exit: the thread must not outlive the process's last steps */
static void
stop_parser(int code, Datum arg)
{
	parse_thread_stop(feed_self.parser);
}

/*
 * Run lws contexts until told to stop; a new context (and reconnections)
 * when zvt.ca_file changes.
 */
static void
run_contexts(void)
{
	do
	{
		restart_context = false;
		snprintf(context_ca_file, sizeof(context_ca_file), "%s", zvt_ca_file ? zvt_ca_file : "");
		feed_self.context = ws_client_context(feed_protocols, context_ca_file);
		if (!feed_self.context)
			ereport(FATAL, (errmsg("zvt feed %s: could not create a libwebsockets context", feed_self.exchange)));
		lws_sul_schedule(feed_self.context, 0, &tick_sul, feed_tick, 1);
		while (!got_sigterm && !idle_exit && !restart_context && PostmasterIsAlive())
			if (lws_service(feed_self.context, 0) < 0)
				break;
		lws_context_destroy(feed_self.context);
		feed_self.context = NULL;
		/* connections closed with the context: reconnect at once */
		for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
			if (feed_self.endpoints[ep].state != EP_DOWN)
			{
				feed_endpoint_down(&feed_self.endpoints[ep], "new certificates");
				feed_self.endpoints[ep].reconnect_at = 0;
			}
	} while (restart_context && !got_sigterm && PostmasterIsAlive());
}

/* before_shmem_exit: give the exchange's worker slot back */
static void
feed_unclaim(int code, Datum arg)
{
	feed_release(DatumGetInt32(arg));
}

void
feed_worker_main(Datum arg)
{
	int			exi = DatumGetInt32(arg);

	pqsignal(SIGTERM, feed_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	feed_self.exchange_index = exi;
	snprintf(feed_self.exchange, sizeof(feed_self.exchange), "%s", feed_exchanges[exi].name);
	feed_self.spec = feed_exchanges[exi].spec;
	feed_self.stats = feed_stats(exi);
	feed_self.next_request_id = 1;
	pgstat_report_appname(psprintf("zvt feed %s", feed_self.exchange));

	if (!zvt_feeds)
		proc_exit(0);

	/* one worker per exchange, even after a crash restart or a new launcher */
	if (!feed_claim(exi))
	{
		ereport(LOG,
				(errmsg("zvt feed %s is already running; this one exits", feed_self.exchange)));
		proc_exit(0);
	}
	before_shmem_exit(feed_unclaim, Int32GetDatum(exi));
	zvt_run_begin(ZVT_RUN_FEED, exi);

	/* extension and subscriptions first: without them there is nothing to do */
	StartTransactionCommand();
	if (!OidIsValid(get_extension_oid("zvt", true)))
	{
		CommitTransactionCommand();
		proc_exit(0);
	}
	CommitTransactionCommand();

	for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
		feed_self.endpoints[ep].index = ep;
	feed_self.parser = parse_thread_start(feed_self.spec->parse, zvt_feed_parse_thread, frame_parsed, NULL);
	if (feed_self.parser == NULL)
		ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	on_proc_exit(stop_parser, 0);
	flush_context = AllocSetContextCreate(TopMemoryContext, "zvt feed flush", ALLOCSET_DEFAULT_SIZES);
	seen_subscriptions = feed_subscription_generation(exi);
	seen_instruments = feed_instrument_generation(exi);
	if (!tick_database(true))
	{
		/* idle: the launcher starts us again when this exchange's subscriptions change */
		feed_mark_idle(exi, seen_subscriptions);
		proc_exit(0);
	}
	feed_self.stats->pid = MyProcPid;
	ereport(LOG, (errmsg("zvt feed %s started on %s", feed_self.exchange, feed_self.ws_url)));

	lws_set_log_level(LLL_ERR, NULL);
	feed_mark_idle(exi, PG_UINT64_MAX); /* running: restart me if I stop */
	run_contexts();

	/* what arrived before the stop is written */
	parse_thread_stop(feed_self.parser);
	parse_thread_drain(feed_self.parser, 0);
	if (feed_self.batch.n > 0)
		tick_database(false);
	feed_self.stats->pid = 0;
	ereport(LOG, (errmsg("zvt feed %s stopped", feed_self.exchange)));
	proc_exit(0);
}
