/*-------------------------------------------------------------------------
 *
 * src/metrics/collect.c
 *	  Every metric of one scrape, written into a MetricsBuf: the parts'
 *	  shared-memory counters, then a few counts read with SQL.
 *
 * Shared memory comes through each part's read accessor (feed_stats,
 * maintenance_counters, matcher_counters, bus_usage, redis_counters...), never by
 * reaching into its struct; those reads take no heavyweight lock and no
 * transaction.  The SQL part is one short read-only transaction in
 * zvt.database, bounded by METRICS_SQL_TIMEOUT_MS (the worker arms the
 * statement timeout itself: a background worker's SPI calls do not), run
 * as the bootstrap superuser, so counts cover every account (only totals
 * leave: no account, role or order is named).  Its results are gathered
 * first and written after commit, so a failure (the extension absent, a
 * timeout, a lock) writes none of them, only zvt_sql_up 0.
 *
 * Names follow Prometheus's conventions: zvt_ prefix, base units
 * (seconds), "_total" on counters, and labels for what varies (exchange,
 * status, state).  docs/metrics.md lists them all; keep it in step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "base/runs.h"
#include "bus/bus.h"
#include "bus/events.h"
#include "core/zvt_time.h"
#include "feed/exchanges.h"
#include "feed/status.h"
#include "http/http.h"
#include "live/route.h"
#include "live/router.h"
#include "metrics/metrics.h"
#include "redis/redis.h"
#include "storage/maintenance.h"
#include "trading/matcher.h"
#include "zvt.h"

/* the statuses MetricsSelf.requests counts, in its order */
const int	metrics_statuses[6] = {200, 400, 404, 405, 408, 431};

/* order statuses (zvt.orders' CHECK), each reported even at 0 */
static const char *const order_statuses[] = {
	"new", "accepted", "partially_filled", "filled", "canceled", "rejected", "expired",
	"pending_new", "sending", "unknown", "pending_cancel"
};

/* the risk limits a rejection's reason starts with (src/trading/risk.c) */
static const char *const risk_limits[] = {
	"max_order_qty", "max_order_notional", "max_position_qty", "max_position_notional",
	"max_open_orders", "max_daily_loss", "price_band_pct", "max_orders_per_sec"
};
#define NLIMITS lengthof(risk_limits)

/* the kinds of zvt.reconciliations rows (sql/59_reconcile.sql), each reported even at 0 */
static const char *const recon_kinds[] = {"run", "order_missing", "fill_missed", "order_unknown", "balance"};
#define NRECON lengthof(recon_kinds)
#define NSTATUSES lengthof(order_statuses)

/* at most this many exchanges' gap counts are reported */
#define MAX_GAP_EXCHANGES 32

/* What the SQL part read. */
typedef struct SqlCounts
{
	bool		installed;		/* the extension exists in zvt.database */
	bool		ok;				/* the queries ran */
	int64		orders[NSTATUSES];
	int64		rejected[NLIMITS + 1];	/* by limit; the last: any other reason */
	int64		fills;
	int64		recon[NRECON];	/* rows of zvt.reconciliations by kind */
	int64		recon_failed;	/* runs that ended with an error */
	int64		backtest_runs;
	int			ngaps;
	char		gap_exchange[MAX_GAP_EXCHANGES][NAMEDATALEN];
	int64		gaps_open[MAX_GAP_EXCHANGES];
	int64		gaps_repaired[MAX_GAP_EXCHANGES];
	double		seconds;		/* how long it took */
} SqlCounts;

static void collect_feeds(MetricsBuf *b);
static void collect_storage(MetricsBuf *b);
static void collect_trading(MetricsBuf *b);
static void collect_bus(MetricsBuf *b);
static void collect_redis(MetricsBuf *b);
static void collect_http(MetricsBuf *b);
static void collect_runs(MetricsBuf *b);
static void collect_sql(MetricsBuf *b, MetricsSelf *self);
static void collect_self(MetricsBuf *b, MetricsSelf *self);
static void sql_read(SqlCounts *c);
static int64 sql_count(const char *query);

/* Seconds since the Unix epoch of a TimestampTz. */
static double
unix_seconds(TimestampTz ts)
{
	return (double) ZVT_TS_TO_UNIX(ts) / 1000000.0;
}

/*
 * Write every metric of this scrape into b (b->failed says whether the
 * writer refused something: a bug here, logged by the caller).  Runs
 * outside any transaction; starts and ends its own.
 */
void
metrics_collect(MetricsBuf *b, MetricsSelf *self)
{
	collect_feeds(b);
	collect_storage(b);
	collect_trading(b);
	collect_bus(b);
	collect_redis(b);
	collect_http(b);
	collect_runs(b);
	collect_sql(b, self);
	collect_self(b, self);
}

/* ----------------------------------------------------------------
 *		Feeds: one series per exchange
 * ----------------------------------------------------------------
 */

/* one counter family: FeedStats field at offset off, for every exchange */
static void
feed_counter(MetricsBuf *b, const char *name, const char *help, size_t off)
{
	metrics_family(b, name, METRICS_COUNTER, help);
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		MetricsLabel l[1] = {{"exchange", feed_exchanges[i].name}};
		FeedStats  *s = feed_stats(i);

		metrics_sample_int(b, name, l, 1, *(int64 *) ((char *) s + off));
	}
}

static void
collect_feeds(MetricsBuf *b)
{
	static const char *const states[] = {"stopped", "disconnected", "connecting", "connected"};
	double		bounds[FEED_LATENCY_BOUNDS];

	feed_counter(b, "zvt_feed_messages_total", "Frames received from the exchange.",
				 offsetof(FeedStats, messages));
	feed_counter(b, "zvt_feed_received_bytes_total", "Payload bytes of the frames received from the exchange.",
				 offsetof(FeedStats, bytes));
	feed_counter(b, "zvt_feed_events_total", "Trades, quotes and candles parsed from the frames.",
				 offsetof(FeedStats, events));
	feed_counter(b, "zvt_feed_rows_written_total", "Rows the feed inserted or updated (duplicates are not counted).",
				 offsetof(FeedStats, rows_written));
	feed_counter(b, "zvt_feed_parse_errors_total", "Malformed frames skipped.",
				 offsetof(FeedStats, parse_errors));
	feed_counter(b, "zvt_feed_exchange_errors_total", "Error replies from the exchange.",
				 offsetof(FeedStats, exchange_errors));
	feed_counter(b, "zvt_feed_reconnects_total", "Reconnections to the exchange.",
				 offsetof(FeedStats, reconnects));
	feed_counter(b, "zvt_feed_unmapped_events_total", "Events for a symbol that is not in zvt.instruments.",
				 offsetof(FeedStats, unmapped));
	feed_counter(b, "zvt_feed_flush_retries_total", "Flushes rolled back by a deadlock, serialization failure or lock timeout, their batch written again.",
				 offsetof(FeedStats, flush_retries));
	feed_counter(b, "zvt_feed_book_resyncs_total", "Order books started again from a new snapshot after a sequence gap, checksum mismatch or crossed book.",
				 offsetof(FeedStats, book_resyncs));
	feed_counter(b, "zvt_feed_dropped_events_total", "Events lost to memory exhaustion.",
				 offsetof(FeedStats, dropped));

	metrics_family(b, "zvt_feed_state", METRICS_GAUGE,
				   "1 for the state the exchange's feed is in (its first connection), 0 for the others.");
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		FeedStats  *s = feed_stats(i);
		int			now = s->pid == 0 ? 0 : 1 + Min(Max(s->state, 0), 2);

		for (int k = 0; k < lengthof(states); k++)
		{
			MetricsLabel l[2] = {{"exchange", feed_exchanges[i].name}, {"state", states[k]}};

			metrics_sample_int(b, "zvt_feed_state", l, 2, k == now);
		}
	}
	metrics_family(b, "zvt_feed_last_message_timestamp_seconds", METRICS_GAUGE,
				   "When the exchange's last frame arrived, in seconds since the Unix epoch (0: never).");
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		MetricsLabel l[1] = {{"exchange", feed_exchanges[i].name}};
		TimestampTz ts = feed_stats(i)->last_message_at;

		metrics_sample(b, "zvt_feed_last_message_timestamp_seconds", l, 1,
					   ts == 0 ? 0 : unix_seconds(ts));
	}

	for (int k = 0; k < FEED_LATENCY_BOUNDS; k++)
		bounds[k] = feed_latency_bounds_us[k] / 1e6;
	metrics_family(b, "zvt_feed_receive_to_commit_seconds", METRICS_HISTOGRAM,
				   "Time from a frame's receipt to the commit of its events, per event.");
	for (int i = 0; i < FEED_EXCHANGES; i++)
	{
		MetricsLabel l[1] = {{"exchange", feed_exchanges[i].name}};
		FeedStats  *s = feed_stats(i);
		int64		counts[FEED_LATENCY_BOUNDS + 1];

		memcpy(counts, s->latency_buckets, sizeof(counts));
		metrics_histogram(b, l, 1, bounds, (const int64_t *) counts, FEED_LATENCY_BOUNDS,
						  s->latency_sum_us / 1e6);
	}
}

/* ----------------------------------------------------------------
 *		Storage, trading, bus
 * ----------------------------------------------------------------
 */

static void
collect_storage(MetricsBuf *b)
{
	MaintenanceCounters m;

	maintenance_counters(&m);
	metrics_family(b, "zvt_launcher_up", METRICS_GAUGE, "1 while the zvt launcher runs.");
	metrics_sample_int(b, "zvt_launcher_up", NULL, 0, m.launcher_pid != 0);
	metrics_family(b, "zvt_maintenance_passes_total", METRICS_COUNTER, "Maintenance passes completed.");
	metrics_sample_int(b, "zvt_maintenance_passes_total", NULL, 0, m.passes);
	metrics_family(b, "zvt_maintenance_failures_total", METRICS_COUNTER,
				   "Hypertables whose maintenance raised an error (the server log has it).");
	metrics_sample_int(b, "zvt_maintenance_failures_total", NULL, 0, m.failures);
	metrics_family(b, "zvt_maintenance_last_pass_timestamp_seconds", METRICS_GAUGE,
				   "When the last maintenance pass ended, in seconds since the Unix epoch (0: none yet).");
	metrics_sample(b, "zvt_maintenance_last_pass_timestamp_seconds", NULL, 0,
				   m.last_pass_end == 0 ? 0 : unix_seconds(m.last_pass_end));
	metrics_family(b, "zvt_chunks_created_total", METRICS_COUNTER,
				   "Hypertable chunks created, by maintenance or by writers.");
	metrics_sample_int(b, "zvt_chunks_created_total", NULL, 0, m.chunks_created);
	metrics_family(b, "zvt_chunk_rows_moved_total", METRICS_COUNTER,
				   "Rows moved out of default partitions into chunks.");
	metrics_sample_int(b, "zvt_chunk_rows_moved_total", NULL, 0, m.rows_moved);
	metrics_family(b, "zvt_chunks_dropped_total", METRICS_COUNTER,
				   "Hypertable chunks dropped, by retention policies or zvt.drop_chunks.");
	metrics_sample_int(b, "zvt_chunks_dropped_total", NULL, 0, m.chunks_dropped);
}

static void
collect_trading(MetricsBuf *b)
{
	int64		passes;
	int64		changes;
	int64		counts[ORDER_LATENCY_BOUNDS + 1];
	int64		sum_us;
	double		bounds[ORDER_LATENCY_BOUNDS];

	matcher_counters(&passes, &changes);
	metrics_family(b, "zvt_paper_matcher_up", METRICS_GAUGE, "1 while the paper matcher runs.");
	metrics_sample_int(b, "zvt_paper_matcher_up", NULL, 0, matcher_running());
	metrics_family(b, "zvt_paper_matcher_passes_total", METRICS_COUNTER, "Passes of the paper matcher.");
	metrics_sample_int(b, "zvt_paper_matcher_passes_total", NULL, 0, passes);
	metrics_family(b, "zvt_paper_matcher_orders_changed_total", METRICS_COUNTER,
				   "Resting paper orders the matcher triggered or filled.");
	metrics_sample_int(b, "zvt_paper_matcher_orders_changed_total", NULL, 0, changes);

	order_latency_read(counts, &sum_us);
	for (int k = 0; k < ORDER_LATENCY_BOUNDS; k++)
		bounds[k] = order_latency_bounds_us[k] / 1e6;
	metrics_family(b, "zvt_place_order_duration_seconds", METRICS_HISTOGRAM,
				   "Time zvt.place_order took, per call that returned (placed, rejected or retried).");
	metrics_histogram(b, NULL, 0, bounds, (const int64_t *) counts, ORDER_LATENCY_BOUNDS,
					  sum_us / 1e6);
}

static void
collect_bus(MetricsBuf *b)
{
	int			used;
	int			slots;

	bus_usage(&used, &slots);
	metrics_family(b, "zvt_bus_entries", METRICS_GAUGE,
				   "Instruments on the market bus, over every database.");
	metrics_sample_int(b, "zvt_bus_entries", NULL, 0, used);
	metrics_family(b, "zvt_bus_slots", METRICS_GAUGE,
				   "Slots of the market bus (zvt.bus_size); it is full at three quarters.");
	metrics_sample_int(b, "zvt_bus_slots", NULL, 0, slots);
	metrics_family(b, "zvt_bus_updates_total", METRICS_COUNTER,
				   "Writes of trades and quotes to the market bus.");
	metrics_sample_int(b, "zvt_bus_updates_total", NULL, 0, (int64) bus_generation());
	metrics_family(b, "zvt_bus_subscription_changes_total", METRICS_COUNTER,
				   "Committed transactions that changed zvt.subscriptions.");
	metrics_sample_int(b, "zvt_bus_subscription_changes_total", NULL, 0,
					   (int64) bus_subscription_generation());
}

/* The market event ring and the Redis publisher (redis_counters). */
static void
collect_redis(MetricsBuf *b)
{
	BusRing    *ring = bus_events_ring();
	RedisShared s;
	bool		running = redis_counters(&s);
	uint64		head = ring ? bus_ring_head(ring) : 1;

	metrics_family(b, "zvt_event_ring_appends_total", METRICS_COUNTER,
				   "Events appended to the market event ring since the server started.");
	metrics_sample_int(b, "zvt_event_ring_appends_total", NULL, 0, (int64) (head - 1));
	metrics_family(b, "zvt_event_ring_contended_total", METRICS_COUNTER,
				   "Appends to the event ring that found another writer holding its lock.");
	metrics_sample_int(b, "zvt_event_ring_contended_total", NULL, 0,
					   ring ? (int64) atomic_load(&ring->contended) : 0);
	metrics_family(b, "zvt_redis_up", METRICS_GAUGE, "1 while the Redis publisher runs.");
	metrics_sample_int(b, "zvt_redis_up", NULL, 0, running);
	metrics_family(b, "zvt_redis_connected", METRICS_GAUGE, "1 while the Redis publisher is connected.");
	metrics_sample_int(b, "zvt_redis_connected", NULL, 0, running && s.connected);
	metrics_family(b, "zvt_redis_entries_sent_total", METRICS_COUNTER,
				   "Stream entries Redis acknowledged.");
	metrics_sample_int(b, "zvt_redis_entries_sent_total", NULL, 0, s.events_sent);
	metrics_family(b, "zvt_redis_dropped_total", METRICS_COUNTER,
				   "Events the event ring overwrote before the Redis publisher sent them.");
	metrics_sample_int(b, "zvt_redis_dropped_total", NULL, 0, s.dropped);
	metrics_family(b, "zvt_redis_reconnects_total", METRICS_COUNTER,
				   "Connections to Redis after the first.");
	metrics_sample_int(b, "zvt_redis_reconnects_total", NULL, 0, s.reconnects);
	metrics_family(b, "zvt_redis_reply_errors_total", METRICS_COUNTER,
				   "Commands Redis answered with an error.");
	metrics_sample_int(b, "zvt_redis_reply_errors_total", NULL, 0, s.reply_errors);
	metrics_family(b, "zvt_redis_lag_events", METRICS_GAUGE,
				   "Events committed and not yet acknowledged by Redis.");
	metrics_sample_int(b, "zvt_redis_lag_events", NULL, 0,
					   s.resume_valid && head > s.resume_next ? (int64) (head - s.resume_next) : 0);
}

/* The HTTP front's requests and /stream clients (http_stats_read). */
static void
collect_http(MetricsBuf *b)
{
	static const char *const classes[HTTP_STATS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
	HttpStats	s;
	double		bounds[HTTP_STATS_BOUNDS];

	http_stats_read(&s);
	metrics_family(b, "zvt_http_workers", METRICS_GAUGE, "HTTP front workers running.");
	metrics_sample_int(b, "zvt_http_workers", NULL, 0, s.workers);
	metrics_family(b, "zvt_http_requests_total", METRICS_COUNTER,
				   "HTTP requests the API port answered, by method and status class (a /stream upgrade is a GET answered 101).");
	for (int m = 0; m < HTTP_STATS_METHODS; m++)
		for (int k = 0; k < HTTP_STATS_CLASSES; k++)
		{
			MetricsLabel l[2] = {{"method", http_stats_methods[m]}, {"status", classes[k]}};

			metrics_sample_int(b, "zvt_http_requests_total", l, 2, s.requests[m][k]);
		}
	metrics_family(b, "zvt_http_requests_in_flight", METRICS_GAUGE, "HTTP requests being run now.");
	metrics_sample_int(b, "zvt_http_requests_in_flight", NULL, 0, s.in_flight);
	for (int k = 0; k < HTTP_STATS_BOUNDS; k++)
		bounds[k] = http_stats_bounds_us[k] / 1e6;
	metrics_family(b, "zvt_http_request_duration_seconds", METRICS_HISTOGRAM,
				   "Time from a complete HTTP request to its response, per request.");
	metrics_histogram(b, NULL, 0, bounds, (const int64_t *) s.duration, HTTP_STATS_BOUNDS,
					  s.duration_sum_us / 1e6);
	metrics_family(b, "zvt_http_stream_clients", METRICS_GAUGE, "/stream WebSocket clients connected now.");
	metrics_sample_int(b, "zvt_http_stream_clients", NULL, 0, s.stream_clients);
	metrics_family(b, "zvt_http_stream_messages_sent_total", METRICS_COUNTER,
				   "Messages written to /stream clients.");
	metrics_sample_int(b, "zvt_http_stream_messages_sent_total", NULL, 0, s.stream_sent);
	metrics_family(b, "zvt_http_stream_messages_dropped_total", METRICS_COUNTER,
				   "Messages /stream clients lost: dropped from a full queue, or events the ring overwrote before a worker read them (once per client).");
	metrics_sample_int(b, "zvt_http_stream_messages_dropped_total", NULL, 0, s.stream_dropped);
}

/* ----------------------------------------------------------------
 *		Worker starts and restarts (base/runs.c)
 * ----------------------------------------------------------------
 */

/* one sample of each family for kind/index, labelled name when given */
static void
run_samples(MetricsBuf *b, int pass, ZvtRunKind kind, int index, const char *name)
{
	MetricsLabel l[2] = {{"kind", zvt_run_kinds[kind]}, {"name", name}};
	int64		starts;
	int64		restarts;

	(void) zvt_runs_read(kind, index, &starts, &restarts);
	if (pass == 0)
		metrics_sample_int(b, "zvt_worker_starts_total", l, name ? 2 : 1, starts);
	else
		metrics_sample_int(b, "zvt_worker_restarts_total", l, name ? 2 : 1, restarts);
}

/*
 * Every kind of worker, each exchange's feed and router and each HTTP
 * worker (those zvt.http_workers asks for and any that ran), even at 0.
 */
static void
collect_runs(MetricsBuf *b)
{
	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 0)
			metrics_family(b, "zvt_worker_starts_total", METRICS_COUNTER,
						   "Worker runs started, by kind (and exchange or number), since the postmaster started.");
		else
			metrics_family(b, "zvt_worker_restarts_total", METRICS_COUNTER,
						   "Worker starts whose previous run ended with an error, a signal or a crash restart of the server.");
		for (int k = 0; k < ZVT_RUN_KINDS; k++)
		{
			if (k == ZVT_RUN_FEED)
				for (int i = 0; i < FEED_EXCHANGES; i++)
					run_samples(b, pass, k, i, feed_exchanges[i].name);
			else if (k == ZVT_RUN_ROUTER)
				for (int i = 0; i < ROUTER_EXCHANGES; i++)
					run_samples(b, pass, k, i, live_exchange_name((LiveExchange) i));
			else if (k == ZVT_RUN_HTTP)
				for (int i = 0; i < HTTP_MAX_WORKERS; i++)
				{
					int64		starts;
					int64		restarts;
					char		num[12];

					(void) zvt_runs_read(k, i, &starts, &restarts);
					if (i >= zvt_http_workers && starts == 0)
						continue;
					snprintf(num, sizeof(num), "%d", i);
					run_samples(b, pass, k, i, num);
				}
			else
				run_samples(b, pass, k, 0, NULL);
		}
	}
	metrics_family(b, "zvt_crash_restarts_total", METRICS_COUNTER,
				   "Times the server restarted every process after one crashed, since the postmaster started.");
	metrics_sample_int(b, "zvt_crash_restarts_total", NULL, 0, zvt_runs_crash_restarts());
}

/* ----------------------------------------------------------------
 *		SQL: counts of orders, fills, gaps, backtest runs
 * ----------------------------------------------------------------
 */

/* The first column of the one row of query, a count. */
static int64
sql_count(const char *query)
{
	bool		isnull;

	if (SPI_execute(query, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not run \"%s\"", query);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The queries, in the current transaction and SPI connection. */
static void
sql_queries(SqlCounts *c)
{
	/* one scan of the orders; a status the list does not know is not reported */
	if (SPI_execute("SELECT status, pg_catalog.count(*) FROM zvt.orders GROUP BY status",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count orders");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *status = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		for (int i = 0; i < NSTATUSES; i++)
			if (status && strcmp(status, order_statuses[i]) == 0)
				c->orders[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
														   SPI_tuptable->tupdesc, 2, &isnull));
	}
	/* rejections by the limit their reason names (risk.c writes "limit: ...") */
	if (SPI_execute("SELECT pg_catalog.split_part(reason, ':', 1), pg_catalog.count(*) "
					"  FROM zvt.orders WHERE status = 'rejected' GROUP BY 1",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count rejections");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *why = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		int64		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
		int			i = 0;

		while (i < (int) NLIMITS && !(why && strcmp(why, risk_limits[i]) == 0))
			i++;
		c->rejected[i] += n;
	}
	c->fills = sql_count("SELECT pg_catalog.count(*) FROM zvt.fills");
	if (SPI_execute("SELECT kind, pg_catalog.count(*) FROM zvt.reconciliations GROUP BY kind",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count reconciliations");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *kind = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		for (int i = 0; i < (int) NRECON; i++)
			if (kind && strcmp(kind, recon_kinds[i]) == 0)
				c->recon[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
	}
	c->recon_failed = sql_count("SELECT pg_catalog.count(*) FROM zvt.reconciliations "
								" WHERE kind = 'run' AND finished_at IS NOT NULL AND NOT applied");
	c->backtest_runs = sql_count("SELECT pg_catalog.count(*) FROM zvt.backtest_runs");
	if (SPI_execute("SELECT e.x, "
					"       pg_catalog.count(g.id) FILTER (WHERE g.repaired_at IS NULL), "
					"       pg_catalog.count(g.id) FILTER (WHERE g.repaired_at IS NOT NULL) "
					"  FROM (SELECT name FROM zvt.exchanges "
					"        UNION SELECT exchange FROM zvt.feed_gaps) e(x) "
					"  LEFT JOIN zvt.feed_gaps g ON g.exchange = e.x "
					" GROUP BY e.x ORDER BY e.x", true, MAX_GAP_EXCHANGES) != SPI_OK_SELECT)
		elog(ERROR, "could not count feed gaps");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *x = SPI_getvalue(t, d, 1);

		snprintf(c->gap_exchange[c->ngaps], NAMEDATALEN, "%s", x ? x : "");
		c->gaps_open[c->ngaps] = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		c->gaps_repaired[c->ngaps] = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		c->ngaps++;
	}
}

/*
 * Fill c in one read-only transaction bounded by METRICS_SQL_TIMEOUT_MS;
 * on any error (logged) c->ok stays false and the transaction is rolled
 * back.  The caller's memory context is restored.
 */
static void
sql_read(SqlCounts *c)
{
	MemoryContext old = CurrentMemoryContext;
	TimestampTz start = GetCurrentTimestamp();

	memset(c, 0, sizeof(*c));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "zvt metrics scrape");
		c->installed = OidIsValid(get_extension_oid("zvt", true));
		if (c->installed)
		{
			enable_timeout_after(STATEMENT_TIMEOUT, METRICS_SQL_TIMEOUT_MS);
			SPI_connect();
			sql_queries(c);
			SPI_finish();
			disable_timeout(STATEMENT_TIMEOUT, false);
			QueryCancelPending = false; /* a timeout that fired just now */
			c->ok = true;
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false;
		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("zvt metrics could not read the SQL counts: %s", edata->message)));
		FreeErrorData(edata);
		c->ok = false;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(old);
	c->seconds = (GetCurrentTimestamp() - start) / 1e6;
}

static void
collect_sql(MetricsBuf *b, MetricsSelf *self)
{
	SqlCounts  *c = palloc(sizeof(SqlCounts));

	sql_read(c);
	if (c->installed && !c->ok)
		self->sql_failures++;
	metrics_family(b, "zvt_extension_installed", METRICS_GAUGE,
				   "1 when the zvt extension is installed in zvt.database.");
	metrics_sample_int(b, "zvt_extension_installed", NULL, 0, c->installed);
	metrics_family(b, "zvt_sql_up", METRICS_GAUGE,
				   "1 when this scrape read the SQL counts (orders, fills, gaps, backtest runs); 0 leaves them out.");
	metrics_sample_int(b, "zvt_sql_up", NULL, 0, c->ok);
	metrics_family(b, "zvt_sql_duration_seconds", METRICS_GAUGE,
				   "How long this scrape's SQL transaction took.");
	metrics_sample(b, "zvt_sql_duration_seconds", NULL, 0, c->seconds);
	if (c->ok)
	{
		metrics_family(b, "zvt_orders", METRICS_GAUGE, "Orders in zvt.orders, by status (every account).");
		for (int i = 0; i < NSTATUSES; i++)
		{
			MetricsLabel l[1] = {{"status", order_statuses[i]}};

			metrics_sample_int(b, "zvt_orders", l, 1, c->orders[i]);
		}
		metrics_family(b, "zvt_orders_rejected", METRICS_GAUGE,
					   "Rejected orders in zvt.orders by the risk limit that refused them (\"other\": any other reason).");
		for (int i = 0; i <= (int) NLIMITS; i++)
		{
			MetricsLabel l[1] = {{"limit", i < (int) NLIMITS ? risk_limits[i] : "other"}};

			metrics_sample_int(b, "zvt_orders_rejected", l, 1, c->rejected[i]);
		}
		metrics_family(b, "zvt_fills_total", METRICS_COUNTER, "Fills in zvt.fills (every account).");
		metrics_sample_int(b, "zvt_fills_total", NULL, 0, c->fills);
		metrics_family(b, "zvt_reconciliations_total", METRICS_COUNTER,
					   "Rows of zvt.reconciliations by kind: runs of live accounts against their exchange, and the differences they found.");
		for (int i = 0; i < (int) NRECON; i++)
		{
			MetricsLabel l[1] = {{"kind", recon_kinds[i]}};

			metrics_sample_int(b, "zvt_reconciliations_total", l, 1, c->recon[i]);
		}
		metrics_family(b, "zvt_reconciliation_runs_failed_total", METRICS_COUNTER,
					   "Reconciliation runs that ended with an error (the exchange unreachable, the key or clock refused).");
		metrics_sample_int(b, "zvt_reconciliation_runs_failed_total", NULL, 0, c->recon_failed);
		metrics_family(b, "zvt_feed_gaps", METRICS_GAUGE,
					   "Rows of zvt.feed_gaps by exchange and state (open: not repaired yet).");
		for (int i = 0; i < c->ngaps; i++)
		{
			MetricsLabel open[2] = {{"exchange", c->gap_exchange[i]}, {"state", "open"}};
			MetricsLabel repaired[2] = {{"exchange", c->gap_exchange[i]}, {"state", "repaired"}};

			metrics_sample_int(b, "zvt_feed_gaps", open, 2, c->gaps_open[i]);
			metrics_sample_int(b, "zvt_feed_gaps", repaired, 2, c->gaps_repaired[i]);
		}
		metrics_family(b, "zvt_backtest_runs", METRICS_GAUGE, "Backtest runs stored in zvt.backtest_runs.");
		metrics_sample_int(b, "zvt_backtest_runs", NULL, 0, c->backtest_runs);
	}
	pfree(c);
}

/* The worker's own counters. */
static void
collect_self(MetricsBuf *b, MetricsSelf *self)
{
	metrics_family(b, "zvt_metrics_requests_total", METRICS_COUNTER,
				   "HTTP requests the metrics endpoint answered, by status code (this one included).");
	for (int i = 0; i < lengthof(metrics_statuses); i++)
	{
		char		code[8];
		MetricsLabel l[1] = {{"code", code}};

		snprintf(code, sizeof(code), "%d", metrics_statuses[i]);
		metrics_sample_int(b, "zvt_metrics_requests_total", l, 1, self->requests[i]);
	}
	metrics_family(b, "zvt_metrics_sql_failures_total", METRICS_COUNTER,
				   "Scrapes whose SQL part failed or timed out (the server log says why).");
	metrics_sample_int(b, "zvt_metrics_sql_failures_total", NULL, 0, self->sql_failures);
}
