/*-------------------------------------------------------------------------
 *
 * src/feed/feed_worker.c
 *	  One background worker per exchange ("zvt feed binance"...): keeps the
 *	  exchange's WebSocket connections for zvt.subscriptions, parses every
 *	  frame with the exchange's adapter and writes batches every
 *	  zvt.flush_interval.
 *
 * Control flow.  libwebsockets owns the loop: lws_service() blocks until
 * socket activity or an lws timer (Debian's 4.1.6 ignores its timeout), so
 * a sul timer fires every flush interval and does the worker's steps in
 * order: interrupts and reload; subscriptions (re-read when the bus's
 * subscription generation moved, which subscribe/unsubscribe bump at
 * commit); connections due (exponential backoff with jitter, capped);
 * keepalives and the silence watchdog; the batch flush in one transaction;
 * feed_gaps for disconnections.  SIGTERM sets a flag and calls
 * lws_cancel_service() so the loop notices at once.
 *
 * Threads.  Frames arrive in lws callbacks on the main thread, which
 * hands them to a parser thread (src/feed/parse_thread.c: the pure-C
 * adapters only, never PostgreSQL) and takes the parsed frames back in
 * arrival order at each timer step, or when a connection drops (so its
 * gap starts at the last data really received).
 *
 * Memory.  Nothing may longjmp in the callbacks: parsed events go into a
 * malloc'd batch.  Database work happens only in the timer step, in a
 * transaction, and in a memory context reset after each flush.
 *
 * Gaps.  When an open connection drops, each of its subscriptions gets a
 * zvt.feed_gaps row from the last message received to the first message
 * after the reconnect, with the reason; repairing them over REST is the
 * backfill's job.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libwebsockets.h>
#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "core/zvt_time.h"
#include "feed/feed_subscribe.h"
#include "feed/ingest.h"
#include "feed/parse_thread.h"
#include "feed/rest_client.h"
#include "zvt.h"

PGDLLEXPORT void feed_worker_main(Datum arg);

#define MAX_TOPICS		1024
#define MAX_SYMBOLS		512
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	30000

enum
{
	EP_DOWN, EP_CONNECTING, EP_OPEN
};

/* A subscription as the exchange names it, and what it stands for. */
typedef struct Topic
{
	char		name[FEED_TOPIC_LEN];
	char		symbol[FEED_SYMBOL_LEN];
	char		channel[16];
	bool		sent;			/* subscribe sent on the current connection */
} Topic;

typedef struct Endpoint
{
	int			index;
	struct lws *wsi;
	int			state;
	Topic		want[MAX_TOPICS];	/* what zvt.subscriptions asks for */
	int			nwant;
	char	  **outq;			/* malloc'd messages waiting to be sent */
	int			noutq;
	char	   *rx;				/* reassembly of fragmented frames */
	size_t		rxlen;
	uint32		connection;		/* counts this endpoint's connections */
	int64		last_rx;		/* us, any frame */
	int64		last_data;		/* us, last market data frame */
	int64		last_keepalive;
	int64		connected_at;	/* us, when the connection opened */
	int64		reconnect_at;	/* us; 0 = now */
	int			backoff_ms;
	bool		ever_open;
	/* a disconnection waiting for its first message after reconnect */
	bool		gap_open;
	int64		gap_from;
	char		gap_reason[64];
	int64		gap_to;			/* set when data resumes; written at flush */
	bool		gap_ready;
} Endpoint;

typedef struct SymbolMap
{
	char		symbol[FEED_SYMBOL_LEN];
	char		raw[48];
	int32		id;
	double		contract_size;	/* base units per contract, 0 unknown */
} SymbolMap;

static const FeedSpec *spec;
static char exchange[32];
static char ws_url[256];
static Endpoint endpoints[FEED_MAX_ENDPOINTS];
static SymbolMap symbols[MAX_SYMBOLS];
static int	nsymbols;
static IngestBatch batch;
static struct lws_context *context;
static lws_sorted_usec_list_t tick_sul;
static volatile sig_atomic_t got_sigterm = false;
static bool idle_exit = false;	/* nothing subscribed any more: leave */
static bool restart_context = false;	/* zvt.ca_file changed: new lws context */
static char context_ca_file[MAXPGPATH];	/* the CA file the context uses */
static uint64 seen_subscription_gen = (uint64) -1;
static int	next_request_id = 1;
static MemoryContext flush_context;
static FeedStats *stats;
static int64 last_close_candles;
static int	spec_index;
static bool restart_gaps_checked = false;
static int64 last_sync = 0;		/* us; instruments synced at start and daily */
static ParseThread *parser;		/* frames are parsed on a second thread */

static void feed_tick(lws_sorted_usec_list_t *sul);
static void frame_parsed(const ParsedFrame *pf, void *arg);
static void endpoint_queue(Endpoint *e, const char *msg);

static int64
now_us(void)
{
	return (int64) GetCurrentTimestamp() + ZT_PG_EPOCH_OFFSET;
}

/* ------------------------------------------------------------------ */
/* signals                                                             */
/* ------------------------------------------------------------------ */

static void
feed_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	if (context)
		lws_cancel_service(context);
	errno = save_errno;
}

/* ------------------------------------------------------------------ */
/* symbols and subscriptions                                           */
/* ------------------------------------------------------------------ */

static SymbolMap *
symbol_lookup(const char *symbol)
{
	for (int i = 0; i < nsymbols; i++)
		if (strcmp(symbols[i].symbol, symbol) == 0)
			return &symbols[i];
	return NULL;
}

/* OKX ctVal for the parser: base units per contract of a raw symbol. */
static double
contract_size(void *arg, const char *raw)
{
	for (int i = 0; i < nsymbols; i++)
		if (strcmp(symbols[i].raw, raw) == 0)
			return symbols[i].contract_size;
	return 0;
}

/*
 * Re-read zvt.subscriptions and zvt.instruments (in a transaction the
 * caller runs).  Subscribed symbols the instrument list lacks get a row so
 * their data has an id.  Returns false when the exchange is disabled or
 * has nothing to stream.
 */
static bool
load_subscriptions(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(exchange)};
	Endpoint	old[FEED_MAX_ENDPOINTS];
	bool		enabled = false;
	SymbolMap  *fresh;
	int			nfresh = 0;

	memcpy(old, endpoints, sizeof(old));
	for (int e = 0; e < spec->nendpoints; e++)
		endpoints[e].nwant = 0;

	if (SPI_execute_with_args("SELECT ws_url, enabled FROM zvt.exchanges WHERE name = $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.exchanges");
	if (SPI_processed == 1)
	{
		bool		isnull;

		snprintf(ws_url, sizeof(ws_url), "%s", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		enabled = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (!enabled)
		return false;

	/* instruments for every subscribed symbol */
	if (SPI_execute_with_args("INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind) "
							  "SELECT DISTINCT s.exchange, s.symbol, s.symbol, split_part(s.symbol, '-', 1), "
							  "       split_part(s.symbol, '-', 2), "
							  "       CASE WHEN s.symbol LIKE '%-PERP' THEN 'perp' ELSE 'spot' END "
							  "  FROM zvt.subscriptions s WHERE s.exchange = $1 "
							  "ON CONFLICT (exchange, symbol) DO NOTHING",
							  1, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not add instruments");
	if (SPI_execute_with_args("SELECT symbol, raw_symbol, id, coalesce(contract_size, 0)::float8 "
							  "  FROM zvt.instruments WHERE exchange = $1 ORDER BY id",
							  1, types, v, NULL, false, MAX_SYMBOLS) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.instruments");
	fresh = palloc0(sizeof(SymbolMap) * MAX_SYMBOLS);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		snprintf(fresh[nfresh].symbol, FEED_SYMBOL_LEN, "%s", SPI_getvalue(t, d, 1));
		snprintf(fresh[nfresh].raw, sizeof(fresh[0].raw), "%s", SPI_getvalue(t, d, 2));
		fresh[nfresh].id = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
		fresh[nfresh].contract_size = DatumGetFloat8(SPI_getbinval(t, d, 4, &isnull));
		nfresh++;
	}
	/* the parser thread reads the table: swap it in under the lock, nothing here can fail */
	parse_thread_lock_context(parser);
	memcpy(symbols, fresh, sizeof(SymbolMap) * nfresh);
	nsymbols = nfresh;
	parse_thread_unlock_context(parser);

	/* read-write: these reads must see the instruments inserted just above */
	if (SPI_execute_with_args("SELECT symbol, channel FROM zvt.subscriptions WHERE exchange = $1 ORDER BY id",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.subscriptions");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *sym = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *ch = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char		name[FEED_TOPIC_LEN];
		int			ep;
		bool		dup = false;
		Endpoint   *e;

		if (!spec->topic(sym, ch, &ep, name, sizeof(name)))
			continue;			/* e.g. Coinbase 1m candles: built from trades */
		e = &endpoints[ep];
		for (int k = 0; k < e->nwant && !dup; k++)
			dup = strcmp(e->want[k].name, name) == 0;
		if (dup || e->nwant == MAX_TOPICS)
			continue;
		snprintf(e->want[e->nwant].name, FEED_TOPIC_LEN, "%s", name);
		snprintf(e->want[e->nwant].symbol, FEED_SYMBOL_LEN, "%s", sym);
		snprintf(e->want[e->nwant].channel, sizeof(e->want[0].channel), "%s", ch);
		/* a topic already sent on this connection stays sent */
		e->want[e->nwant].sent = false;
		for (int k = 0; k < old[ep].nwant; k++)
			if (strcmp(old[ep].want[k].name, name) == 0)
				e->want[e->nwant].sent = old[ep].want[k].sent;
		e->nwant++;
	}
	/* topics dropped while connected: unsubscribe them */
	for (int ep = 0; ep < spec->nendpoints; ep++)
	{
		const char *gone[MAX_TOPICS];
		int			ngone = 0;

		if (endpoints[ep].state != EP_OPEN)
			continue;
		for (int k = 0; k < old[ep].nwant; k++)
		{
			bool		kept = false;

			for (int j = 0; j < endpoints[ep].nwant && !kept; j++)
				kept = strcmp(endpoints[ep].want[j].name, old[ep].want[k].name) == 0;
			if (!kept && old[ep].want[k].sent)
				gone[ngone++] = old[ep].want[k].name;
		}
		for (int done = 0; done < ngone;)
		{
			char		buf[8192];
			int			n = spec->request(ep, false, gone + done, ngone - done, next_request_id++, buf, sizeof(buf));

			if (n <= 0)
				break;
			endpoint_queue(&endpoints[ep], buf);
			done += n;
		}
	}
	for (int ep = 0; ep < spec->nendpoints; ep++)
		if (endpoints[ep].nwant > 0)
			return true;
	return false;
}

/*
 * At start: the feed was down since the last row it wrote (a crash, a
 * cluster reset, a stop).  Open a gap on every endpoint from the latest
 * receive time among this exchange's trades and quotes of the last day;
 * the first data after connecting closes it.  No rows, no gap.
 */
static void
open_restart_gaps(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(exchange)};
	bool		isnull;
	Datum		last;

	if (SPI_execute_with_args("SELECT greatest("
							  "  (SELECT max(t.local_ts) FROM zvt.trades t JOIN zvt.instruments i ON i.id = t.instrument_id "
							  "    WHERE i.exchange = $1 AND t.ts > now() - interval '1 day'), "
							  "  (SELECT max(q.local_ts) FROM zvt.quotes q JOIN zvt.instruments i ON i.id = q.instrument_id "
							  "    WHERE i.exchange = $1 AND q.ts > now() - interval '1 day'))",
							  1, types, v, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not find the last data of the feed");
	last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return;
	for (int ep = 0; ep < spec->nendpoints; ep++)
	{
		endpoints[ep].gap_open = true;
		endpoints[ep].gap_from = (int64) DatumGetTimestampTz(last) + ZT_PG_EPOCH_OFFSET;
		snprintf(endpoints[ep].gap_reason, sizeof(endpoints[ep].gap_reason), "feed worker restarted");
	}
}

/* Queue one text message for the endpoint (sent by the writeable callback). */
static void
endpoint_queue(Endpoint *e, const char *msg)
{
	char	  **q = realloc(e->outq, sizeof(char *) * (e->noutq + 1));
	char	   *copy = strdup(msg);

	if (!q || !copy)
	{
		/* out of memory: the message is lost, the watchdog will reconnect */
		free(copy);
		if (q)
			e->outq = q;
		return;
	}
	e->outq = q;
	e->outq[e->noutq++] = copy;
}

/* Queue subscribe requests for the wanted topics not yet sent. */
static void
queue_subscribes(Endpoint *e)
{
	const char *pending[MAX_TOPICS];
	int			n = 0;

	for (int k = 0; k < e->nwant; k++)
		if (!e->want[k].sent)
		{
			pending[n++] = e->want[k].name;
			e->want[k].sent = true;
		}
	for (int done = 0; done < n;)
	{
		char		buf[8192];
		int			m = spec->request(e->index, true, pending + done, n - done, next_request_id++, buf, sizeof(buf));

		if (m <= 0)
			break;
		endpoint_queue(e, buf);
		done += m;
	}
	if (e->noutq > 0 && e->wsi)
		lws_callback_on_writable(e->wsi);
}

/* ------------------------------------------------------------------ */
/* connections                                                         */
/* ------------------------------------------------------------------ */

static void
endpoint_down(Endpoint *e, const char *reason)
{
	int64		now = now_us();
	int			jitter;

	/* the frames received before the drop count for the gap's start */
	parse_thread_drain(parser, -1);
	if (e->state == EP_OPEN && e->nwant > 0 && !e->gap_open)
	{
		e->gap_open = true;
		e->gap_from = e->last_data ? e->last_data : now;
		snprintf(e->gap_reason, sizeof(e->gap_reason), "%s", reason);
		stats->reconnects++;
	}
	e->state = EP_DOWN;
	e->wsi = NULL;
	for (int k = 0; k < e->nwant; k++)
		e->want[k].sent = false;
	for (int i = 0; i < e->noutq; i++)
		free(e->outq[i]);
	e->noutq = 0;
	e->rxlen = 0;
	e->backoff_ms = e->backoff_ms ? Min(e->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
	/* up to half again, so that reconnecting feeds do not move in step */
	jitter = (int) (random() % (e->backoff_ms / 2 + 1));
	e->reconnect_at = now + (int64) (e->backoff_ms + jitter) * 1000;
	ereport(LOG,
			(errmsg("zvt feed %s: connection %s%s lost (%s); reconnecting in %d ms",
					exchange, ws_url, spec->paths[e->index], reason, e->backoff_ms + jitter)));
}

static void
endpoint_connect(Endpoint *e)
{
	struct lws_client_connect_info cc;
	char		urlbuf[512];
	const char *prot,
			   *address,
			   *path;
	int			port;
	char		pathbuf[512];

	snprintf(urlbuf, sizeof(urlbuf), "%s%s", ws_url, spec->paths[e->index]);
	/* plain ws:// only to loopback: anything else must be verified TLS */
	if (strncmp(ws_url, "wss://", 6) != 0 &&
		!(strncmp(ws_url, "ws://127.", 9) == 0 || strncmp(ws_url, "ws://localhost:", 15) == 0 ||
		  strncmp(ws_url, "ws://[::1]", 10) == 0))
	{
		ereport(WARNING,
				(errmsg("zvt feed %s: ws_url \"%s\" is neither wss:// nor ws:// to loopback; not connecting",
						exchange, ws_url),
				 errhint("Use wss:// for a real exchange; plain ws:// is for a simulator on 127.0.0.1.")));
		e->reconnect_at = now_us() + (int64) BACKOFF_MAX_MS * 1000;
		return;
	}
	if (lws_parse_uri(urlbuf, &prot, &address, &port, &path))
	{
		ereport(WARNING, (errmsg("zvt feed %s: bad ws_url \"%s\"", exchange, ws_url)));
		e->reconnect_at = now_us() + (int64) BACKOFF_MAX_MS * 1000;
		return;
	}
	snprintf(pathbuf, sizeof(pathbuf), "/%s", path);
	memset(&cc, 0, sizeof(cc));
	cc.context = context;
	cc.address = address;
	cc.port = port;
	cc.path = pathbuf;
	cc.host = address;
	cc.origin = address;
	cc.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
	cc.opaque_user_data = e;
	cc.pwsi = &e->wsi;
	e->state = EP_CONNECTING;
	e->reconnect_at = 0;
	if (!lws_client_connect_via_info(&cc))
		endpoint_down(e, "connect failed");
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
	Endpoint   *e = &endpoints[pf->endpoint];
	TimestampTz local = (TimestampTz) (pf->rx_us - ZT_PG_EPOCH_OFFSET);

	(void) arg;
	switch (pf->frame.kind)
	{
		case FEED_FRAME_MALFORMED:
			stats->parse_errors++;
			ereport(LOG,
					(errmsg("zvt feed %s: skipped a malformed message: %s", exchange, pf->frame.reason),
					 errdetail_internal("%s", pf->excerpt)));
			return;
		case FEED_FRAME_ERROR:
			stats->exchange_errors++;
			ereport(WARNING,
					(errmsg("zvt feed %s: the exchange replied with an error: %s", exchange, pf->frame.reason)));
			return;
		case FEED_FRAME_RECONNECT:
			ereport(LOG, (errmsg("zvt feed %s: %s: reconnecting", exchange, pf->frame.reason)));
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
		SymbolMap  *s = symbol_lookup(pf->events[i].symbol);

		if (!s)
			continue;			/* a stream nobody asked for any more */
		if (!ingest_add(&batch, &pf->events[i], s->id, local))
			stats->dropped++;
	}
}

/* A complete frame from the exchange: to the parser thread. */
static void
endpoint_frame(Endpoint *e, const char *msg, size_t len)
{
	FeedContext ctx = {spec->linear[e->index], contract_size, NULL};
	int64		now = now_us();

	e->last_rx = now;
	stats->messages++;
	stats->last_message_at = (TimestampTz) (now - ZT_PG_EPOCH_OFFSET);
	if (!parse_thread_submit(parser, e->index, e->connection, &ctx, now, msg, len))
		stats->dropped++;
}

static int
feed_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	Endpoint   *e = (Endpoint *) lws_get_opaque_user_data(wsi);

	if (!e)
		e = (Endpoint *) user;
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			e->state = EP_OPEN;
			e->connection++;
			e->backoff_ms = 0;
			e->last_rx = e->last_keepalive = e->connected_at = now_us();
			e->ever_open = true;
			stats->connected_since = GetCurrentTimestamp();
			if (spec->on_connect)
			{
				endpoint_queue(e, spec->on_connect);
			}
			queue_subscribes(e);
			lws_callback_on_writable(wsi);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			{
				char	   *rx = realloc(e->rx, e->rxlen + len + 1);

				if (rx == NULL)
				{
					/* out of memory: the frame is lost; the gap repair sees the hole */
					stats->dropped++;
					free(e->rx);
					e->rx = NULL;
					e->rxlen = 0;
					break;
				}
				e->rx = rx;
			}
			memcpy(e->rx + e->rxlen, in, len);
			e->rxlen += len;
			if (!lws_is_final_fragment(wsi))
				break;
			e->rx[e->rxlen] = '\0';
			endpoint_frame(e, e->rx, e->rxlen);
			e->rxlen = 0;
			break;
		case LWS_CALLBACK_CLIENT_WRITEABLE:
			if (e->noutq > 0)
			{
				size_t		n = strlen(e->outq[0]);
				unsigned char *buf = malloc(LWS_PRE + n);

				memcpy(buf + LWS_PRE, e->outq[0], n);
				lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
				free(buf);
				free(e->outq[0]);
				memmove(e->outq, e->outq + 1, sizeof(char *) * (e->noutq - 1));
				e->noutq--;
				if (e->noutq > 0)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			endpoint_down(e, in ? (const char *) in : "connection error");
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			endpoint_down(e, "closed");
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"zvt-feed", feed_callback, 0, 1 << 16, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* ------------------------------------------------------------------ */
/* the timer step                                                      */
/* ------------------------------------------------------------------ */

/* Insert the feed_gaps rows of disconnections whose data resumed. */
static void
write_gaps(void)
{
	for (int ep = 0; ep < spec->nendpoints; ep++)
	{
		Endpoint   *e = &endpoints[ep];

		if (!e->gap_ready)
			continue;
		for (int k = 0; k < e->nwant; k++)
		{
			Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
			Datum		v[6];

			v[0] = CStringGetTextDatum(exchange);
			v[1] = CStringGetTextDatum(e->want[k].symbol);
			v[2] = CStringGetTextDatum(e->want[k].channel);
			v[3] = TimestampTzGetDatum((TimestampTz) (e->gap_from - ZT_PG_EPOCH_OFFSET));
			v[4] = TimestampTzGetDatum((TimestampTz) (e->gap_to - ZT_PG_EPOCH_OFFSET));
			v[5] = CStringGetTextDatum(e->gap_reason);
			if (SPI_execute_with_args("INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason) "
									  "VALUES ($1, $2, $3, $4, $5, $6)", 6, types, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not record a feed gap");
		}
		e->gap_open = e->gap_ready = false;
	}
}

/* Put the batch's latest trade and quote per instrument on the bus. */
static void
publish_bus(void)
{
	for (int i = batch.n - 1; i >= 0; i--)
	{
		IngestEvent *x = &batch.events[i];
		TimestampTz ts = x->ev.ts ? (TimestampTz) (x->ev.ts - ZT_PG_EPOCH_OFFSET) : x->local_ts;

		if (x->ev.kind == FEED_TRADE)
			bus_put_trade(x->instrument_id, x->ev.price, x->ev.qty, ts);
		else if (x->ev.kind == FEED_QUOTE)
			bus_put_quote(x->instrument_id, x->ev.bid, x->ev.bid_qty, x->ev.ask, x->ev.ask_qty, ts);
	}
}

/*
 * zvt.sync_instruments() for this exchange, at start and once a day, in a
 * subtransaction: a failure (the exchange refuses, times out) is logged and
 * the feed goes on with the instruments it has.
 */
static void
sync_instruments_now(void)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(exchange)};

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
				(errmsg("zvt feed %s: could not sync instruments: %s", exchange, err->message),
				 err->detail ? errdetail_internal("%s", err->detail) : 0));
		FreeErrorData(err);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
	last_sync = now_us();
}

/* The database part of a tick: subscriptions, batch, gaps. */
static bool
tick_database(bool reload)
{
	bool		want = true;
	IngestResult res = {0};
	MemoryContext old = MemoryContextSwitchTo(flush_context);
	int			nevents = batch.n;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (last_sync == 0 || now_us() - last_sync > INT64CONST(86400) * 1000000)
	{
		sync_instruments_now();
		reload = true;			/* instruments may have changed */
	}
	if (reload)
		want = load_subscriptions();
	if (reload && !restart_gaps_checked)
	{
		open_restart_gaps();
		restart_gaps_checked = true;
	}
	if (batch.n > 0)
	{
		publish_bus();
		ingest_flush(&batch, &res);
	}
	write_gaps();
	if (now_us() - last_close_candles > 1000000)
	{
		ingest_close_trade_candles();
		last_close_candles = now_us();
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(old);
	MemoryContextReset(flush_context);
	stats->rows_written += res.trades + res.candles + res.quotes;
	stats->events += nevents;
	return want;
}

/* at exit: the thread must not outlive the process's last steps */
static void
stop_parser(int code, Datum arg)
{
	parse_thread_stop(parser);
}

static void
feed_tick(lws_sorted_usec_list_t *sul)
{
	int64		now = now_us();
	int64		elapsed;
	uint64		gen;
	bool		reload;

	if (got_sigterm || !PostmasterIsAlive())
	{
		lws_cancel_service(context);
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
			lws_cancel_service(context);
			return;
		}
		/* certificates are read when the context is made: make a new one */
		if (strcmp(context_ca_file, zvt_ca_file ? zvt_ca_file : "") != 0)
		{
			restart_context = true;
			lws_cancel_service(context);
			return;
		}
	}
	/* what the parser thread has done, waiting briefly for the frames already in */
	parse_thread_drain(parser, 1000);
	gen = bus_subscription_generation();
	reload = gen != seen_subscription_gen;
	seen_subscription_gen = gen;

	/* the database only when there is something to do there */
	if (reload || batch.n > 0 || endpoints[0].gap_ready || endpoints[1].gap_ready ||
		now - last_close_candles > 1000000 || now - last_sync > INT64CONST(86400) * 1000000)
	{
		if (!tick_database(reload) && reload)
		{
			/* nothing to stream: leave; the launcher starts us when that changes */
			zvt_shared->feed_idle_generation[spec_index] = gen + 1;
			idle_exit = true;
			lws_cancel_service(context);
			return;
		}
	}
	for (int ep = 0; ep < spec->nendpoints; ep++)
	{
		Endpoint   *e = &endpoints[ep];

		/* new subscriptions or endpoints are worth a try now, not after the backoff */
		if (reload && e->state == EP_DOWN)
		{
			e->reconnect_at = 0;
			e->backoff_ms = 0;
		}
		if (e->nwant > 0 && e->state == EP_DOWN && e->reconnect_at <= now)
			endpoint_connect(e);
		else if (e->state == EP_OPEN)
		{
			if (reload)
				queue_subscribes(e);
			if (spec->keepalive && now - e->last_keepalive >= (int64) spec->keepalive_s * 1000000)
			{
				endpoint_queue(e, spec->keepalive);
				e->last_keepalive = now;
				lws_callback_on_writable(e->wsi);
			}
			/* Binance closes connections at 24 h: leave first, at a moment of our choosing */
			if (now - e->connected_at > INT64CONST(23) * 3600 * 1000000)
			{
				ereport(LOG, (errmsg("zvt feed %s: connection is 23 hours old; reconnecting", exchange)));
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			}
			else if (now - e->last_rx > (int64) zvt_feed_watchdog * 1000)
			{
				ereport(LOG, (errmsg("zvt feed %s: no message for %d ms; reconnecting",
									 exchange, zvt_feed_watchdog)));
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			}
		}
	}
	stats->state = endpoints[0].state;
	/*
	 * Every flush interval from this tick's start, so a slow flush does not
	 * stretch it; but a flush that took long (a busy feed) is followed by
	 * at least half its time of receiving, so batches grow with the load
	 * instead of each flush paying its fixed costs for a few rows.
	 */
	elapsed = now_us() - now;
	lws_sul_schedule(context, 0, &tick_sul, feed_tick,
					 (lws_usec_t) Max((int64) zvt_flush_interval * 1000 - elapsed, Max(elapsed / 2, 500)));
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

void
feed_worker_main(Datum arg)
{
	int			exi = DatumGetInt32(arg);
	struct lws_context_creation_info info;

	pqsignal(SIGTERM, feed_sigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(zvt_database, NULL, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	spec_index = exi;
	snprintf(exchange, sizeof(exchange), "%s", feed_exchange_names[exi]);
	spec = feed_spec(exchange);
	stats = &zvt_shared->feeds[exi];
	pgstat_report_appname(psprintf("zvt feed %s", exchange));

	if (!zvt_feeds)
		proc_exit(0);

	/* extension and subscriptions first: without them there is nothing to do */
	StartTransactionCommand();
	if (!OidIsValid(get_extension_oid("zvt", true)))
	{
		CommitTransactionCommand();
		proc_exit(0);
	}
	CommitTransactionCommand();

	for (int ep = 0; ep < spec->nendpoints; ep++)
		endpoints[ep].index = ep;
	parser = parse_thread_start(spec->parse, zvt_feed_parse_thread, frame_parsed, NULL);
	if (parser == NULL)
		ereport(FATAL, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	on_proc_exit(stop_parser, 0);
	flush_context = AllocSetContextCreate(TopMemoryContext, "zvt feed flush", ALLOCSET_DEFAULT_SIZES);
	seen_subscription_gen = bus_subscription_generation();
	if (!tick_database(true))
	{
		/* idle: the launcher starts us again when subscriptions change */
		zvt_shared->feed_idle_generation[exi] = seen_subscription_gen + 1;
		proc_exit(0);
	}
	stats->pid = MyProcPid;
	ereport(LOG, (errmsg("zvt feed %s started on %s", exchange, ws_url)));

	lws_set_log_level(LLL_ERR, NULL);
	zvt_shared->feed_idle_generation[exi] = 0;	/* running: restart me if I stop */
	do
	{
		restart_context = false;
		snprintf(context_ca_file, sizeof(context_ca_file), "%s", zvt_ca_file ? zvt_ca_file : "");
		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.protocols = protocols;
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (context_ca_file[0])
			info.client_ssl_ca_filepath = context_ca_file;
		context = lws_create_context(&info);
		if (!context)
			ereport(FATAL, (errmsg("zvt feed %s: could not create a libwebsockets context", exchange)));
		lws_sul_schedule(context, 0, &tick_sul, feed_tick, 1);
		while (!got_sigterm && !idle_exit && !restart_context && PostmasterIsAlive())
			if (lws_service(context, 0) < 0)
				break;
		lws_context_destroy(context);
		context = NULL;
		/* connections closed with the context: reconnect at once */
		for (int ep = 0; ep < spec->nendpoints; ep++)
			if (endpoints[ep].state != EP_DOWN)
			{
				endpoint_down(&endpoints[ep], "new certificates");
				endpoints[ep].reconnect_at = 0;
			}
	} while (restart_context && !got_sigterm && PostmasterIsAlive());

	/* what arrived before the stop is written */
	parse_thread_stop(parser);
	parse_thread_drain(parser, 0);
	if (batch.n > 0)
		tick_database(false);
	stats->pid = 0;
	ereport(LOG, (errmsg("zvt feed %s stopped", exchange)));
	proc_exit(0);
}

PG_FUNCTION_INFO_V1(zvt_feed_stats);

/*
 * zvt._feed_stats() RETURNS TABLE (exchange text, pid int, state text,
 *   connected_since timestamptz, last_message_at timestamptz, messages bigint,
 *   events bigint, rows_written bigint, parse_errors bigint,
 *   exchange_errors bigint, reconnects bigint)
 */
Datum
zvt_feed_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const states[] = {"disconnected", "connecting", "connected"};

	zvt_require_preload("zvt.feed_status");
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < ZVT_FEEDS; i++)
	{
		FeedStats	s = zvt_shared->feeds[i];
		Datum		v[11];
		bool		n[11] = {false};

		v[0] = CStringGetTextDatum(feed_exchange_names[i]);
		v[1] = Int32GetDatum(s.pid);
		n[1] = s.pid == 0;
		v[2] = CStringGetTextDatum(s.pid == 0 ? "stopped" : states[Min(Max(s.state, 0), 2)]);
		v[3] = TimestampTzGetDatum(s.connected_since);
		n[3] = s.connected_since == 0;
		v[4] = TimestampTzGetDatum(s.last_message_at);
		n[4] = s.last_message_at == 0;
		v[5] = Int64GetDatum(s.messages);
		v[6] = Int64GetDatum(s.events);
		v[7] = Int64GetDatum(s.rows_written);
		v[8] = Int64GetDatum(s.parse_errors);
		v[9] = Int64GetDatum(s.exchange_errors);
		v[10] = Int64GetDatum(s.reconnects);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	PG_RETURN_VOID();
}
