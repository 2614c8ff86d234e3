/*-------------------------------------------------------------------------
 *
 * src/http/stream_feed.c
 *	  The /stream WebSocket's feed: each worker reads the market event
 *	  ring with a cursor of its own and queues every event to the clients
 *	  that subscribed it; tickers, heartbeats and account refreshes.
 *
 * The ring (bus/ring.h) is read without any lock, so the feeds that
 * append to it never wait for a worker, and a worker never waits for a
 * client (stream.c queues).  The cursor starts at the ring's head when
 * the worker's first client connects; events the ring overwrote before
 * the worker read them (it was busy with a long request) are counted as
 * dropped for every client, as the worker cannot know whose they were.
 * Only events of this database's installation (bus_install) are sent.
 *
 * Each event's JSON is written once and copied into the queue of each
 * client that wants it: market events by (channel, instrument) or "*";
 * order events to clients subscribed to "orders" whose role sees the
 * account (stream.c's cached zvt._my_accounts()).
 *
 * Names.  Events carry instrument ids; the names (exchange, symbol) of
 * every instrument of zvt.instruments are read once into an array by id
 * and read again when an event names an id not in it (at most once a
 * second) or a subscription a symbol not in it.
 *
 * Tickers.  The worker keeps each instrument's last trade and quote (from
 * the events it read; a new subscription starts from the bus's values)
 * and sends a client an instrument's ticker when it changed, at most once
 * per STREAM_TICKER_EVERY_US.
 *
 * The tick (server.c's timer, every HTTP_STREAM_TICK_MS while there are
 * clients): read the ring (at most STREAM_TICK_EVENTS events, so requests
 * are not starved), tickers, heartbeats and idle clients, accounts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <libwebsockets.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "bus/bus.h"
#include "bus/events.h"
#include "http/stream_int.h"
#include "http/transport.h"
#include "zvt.h"

/* events read per ring read, and per tick at most */
#define STREAM_BATCH 256
#define STREAM_TICK_EVENTS 8192
/* names are read again for an unknown id at most this often, us */
#define STREAM_NAMES_EVERY_US 1000000

StreamTicker *stream_tickers = NULL;
int			stream_ntickers = 0;

static StreamName *names = NULL;
static int	nnames = 0;
static Oid	install = InvalidOid;	/* this installation's zvt.instruments */
static int64 names_read_us = 0;

static BusRingCursor cursor;
static bool cursor_valid = false;
static BusEvent *batch = NULL;
static StreamBuf out;

static void names_read(void);
static StreamTicker *ticker(int32 id);
static void deliver(const BusEvent *ev);
static void pump(void);
static void tickers_send(int64 now);
static void heartbeats(int64 now);

/* ----------------------------------------------------------------
 *		Names and tickers
 * ----------------------------------------------------------------
 */

/* Every instrument's names, and this installation, inside a transaction. */
static void
names_read(void)
{
	if (SPI_execute("SELECT id, exchange, symbol FROM zvt.instruments ORDER BY id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "zvt http: could not read zvt.instruments");
	for (int i = 0; i < nnames; i++)
	{
		free(names[i].exchange);
		free(names[i].symbol);
	}
	free(names);
	nnames = 0;
	names = NULL;
	if (SPI_processed > 0)
	{
		bool		isnull;
		int32		max = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[SPI_processed - 1],
													  SPI_tuptable->tupdesc, 1, &isnull));

		names = calloc(max + 1, sizeof(StreamName));
		if (names == NULL)
			elog(FATAL, "zvt http: out of memory");
		nnames = max + 1;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			int32		id = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));

			names[id].exchange = strdup(SPI_getvalue(t, SPI_tuptable->tupdesc, 2));
			names[id].symbol = strdup(SPI_getvalue(t, SPI_tuptable->tupdesc, 3));
			if (names[id].exchange == NULL || names[id].symbol == NULL)
				elog(FATAL, "zvt http: out of memory");
		}
	}
	install = bus_install();
}

/* Read the names again (a transaction of its own); false (logged) on error. */
bool
stream_names_load(void)
{
	MemoryContext old = CurrentMemoryContext;
	volatile bool ok = false;

	names_read_us = stream_now_us();
	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		names_read();
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(old);
		e = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG, (errmsg("zvt http stream could not read the instruments: %s", e->message)));
		FreeErrorData(e);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return ok;
}

const StreamName *
stream_name(int32 id)
{
	if (id > 0 && id < nnames && names[id].exchange)
		return &names[id];
	return NULL;
}

bool
stream_resolve(const char *exchange, const char *symbol, int32 *id)
{
	for (int i = 1; i < nnames; i++)
		if (names[i].exchange && strcmp(names[i].exchange, exchange) == 0 &&
			strcmp(names[i].symbol, symbol) == 0)
		{
			*id = i;
			return true;
		}
	return false;
}

/* The ticker entry of id, grown as needed; NULL for a bad id. */
static StreamTicker *
ticker(int32 id)
{
	if (id <= 0 || id > 100000000)
		return NULL;
	if (id >= stream_ntickers)
	{
		int			n = Max(id + 1, stream_ntickers * 2);
		StreamTicker *t = realloc(stream_tickers, sizeof(StreamTicker) * n);

		if (t == NULL)
			elog(FATAL, "zvt http: out of memory");
		memset(t + stream_ntickers, 0, sizeof(StreamTicker) * (n - stream_ntickers));
		stream_tickers = t;
		stream_ntickers = n;
	}
	return &stream_tickers[id];
}

/* One instrument's entry from the bus, when the worker has none yet. */
static void
seed_one(int32 id, int64 now)
{
	StreamTicker *t = ticker(id);
	BusEntry	e;

	if (t == NULL || t->seen || !bus_get(id, &e))
		return;
	t->seen = true;
	t->last = e.last;
	t->bid = e.bid;
	t->ask = e.ask;
	t->ts = Max(e.last_ts, e.quote_ts);
	t->changed_us = now;
}

/*
 * Start id's ticker (every instrument's for 0) from the bus's last values
 * (a transaction of its own; nothing on error).
 */
void
stream_seed_ticker(int32 id)
{
	MemoryContext old = CurrentMemoryContext;
	int64		now = stream_now_us();

	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		for (int32 i = id ? id : 1; i <= (id ? id : nnames - 1); i++)
			if (stream_name(i))
				seed_one(i, now);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
}

/* Queue c the ticker of id when it changed and c's period is over. */
static void
ticker_to(StreamClient *c, int32 id, int64 now)
{
	StreamTicker *t = id > 0 && id < stream_ntickers ? &stream_tickers[id] : NULL;
	const StreamName *nm = stream_name(id);

	if (t == NULL || !t->seen || nm == NULL)
		return;
	if (id >= c->nticker_sent)
	{
		int			n = Max(id + 1, c->nticker_sent * 2);
		int64	   *s = realloc(c->ticker_sent, sizeof(int64) * n);

		if (s == NULL)
			elog(FATAL, "zvt http: out of memory");
		memset(s + c->nticker_sent, 0, sizeof(int64) * (n - c->nticker_sent));
		c->ticker_sent = s;
		c->nticker_sent = n;
	}
	if (t->changed_us <= c->ticker_sent[id] ||
		now - c->ticker_sent[id] < STREAM_TICKER_EVERY_US)
		return;
	c->ticker_sent[id] = now;
	stream_buf_reset(&out);
	stream_write_ticker(&out, nm->exchange, nm->symbol, t->last, t->bid, t->ask, t->ts);
	stream_push(c, stream_buf_text(&out), out.len);
}

/* Send each client the tickers that changed, at most one per instrument per period. */
static void
tickers_send(int64 now)
{
	for (StreamClient *c = stream_clients; c; c = c->next)
	{
		if (stream_wants(c, STREAM_TICKERS, 0, 0))
		{
			for (int32 id = 1; id < stream_ntickers; id++)
				ticker_to(c, id, now);
			continue;
		}
		for (int i = 0; i < c->nsubs; i++)
			if (c->subs[i].kind == STREAM_TICKERS)
				ticker_to(c, c->subs[i].instrument_id, now);
	}
}

/* ----------------------------------------------------------------
 *		The ring
 * ----------------------------------------------------------------
 */

/* Queue one event to every client that wants it. */
static void
deliver(const BusEvent *ev)
{
	const StreamName *nm = stream_name(ev->instrument_id);
	int			kind = 0;
	int			interval_s = 0;
	bool		written = false;
	StreamTicker *t;

	if (ev->kind != BUS_EVENT_ORDER && nm == NULL &&
		stream_now_us() - names_read_us >= STREAM_NAMES_EVERY_US && stream_names_load())
		nm = stream_name(ev->instrument_id);
	/* order events name no instrument (the order does) */
	if (ev->dboid != MyDatabaseId || ev->install != install ||
		(nm == NULL && ev->kind != BUS_EVENT_ORDER))
		return;
	switch (ev->kind)
	{
		case BUS_EVENT_TRADE:
			kind = STREAM_TRADES;
			if ((t = ticker(ev->instrument_id)) != NULL)
			{
				if (!t->seen)
					t->bid = t->ask = NAN;
				t->seen = true;
				t->last = ev->u.trade.price;
				t->ts = Max(t->ts, ev->ts);
				t->changed_us = stream_now_us();
			}
			break;
		case BUS_EVENT_QUOTE:
			kind = STREAM_QUOTES;
			if ((t = ticker(ev->instrument_id)) != NULL)
			{
				if (!t->seen)
					t->last = NAN;
				t->seen = true;
				t->bid = ev->u.quote.bid;
				t->ask = ev->u.quote.ask;
				t->ts = Max(t->ts, ev->ts);
				t->changed_us = stream_now_us();
			}
			break;
		case BUS_EVENT_CANDLE:
			kind = STREAM_CANDLES;
			interval_s = ev->u.candle.interval_s;
			break;
		case BUS_EVENT_ORDER:
			kind = STREAM_ORDERS;
			break;
		default:
			return;
	}
	for (StreamClient *c = stream_clients; c; c = c->next)
	{
		if (kind == STREAM_ORDERS ? !(stream_wants(c, STREAM_ORDERS, 0, 0) &&
									  stream_sees_account(c, (int32) ev->u.order.account_id))
			: !stream_wants(c, kind, interval_s, ev->instrument_id))
			continue;
		if (!written)
		{
			stream_buf_reset(&out);
			stream_write_event(&out, ev, nm ? nm->exchange : NULL, nm ? nm->symbol : NULL);
			written = true;
		}
		stream_push(c, stream_buf_text(&out), out.len);
	}
}

/* Read what the ring holds (bounded) and deliver it. */
static void
pump(void)
{
	BusRing    *ring = bus_events_ring();
	int			total = 0;

	if (ring == NULL)
		return;
	if (!cursor_valid)
	{
		bus_ring_cursor_init(ring, &cursor);
		cursor_valid = true;
	}
	while (total < STREAM_TICK_EVENTS)
	{
		uint64		dropped = cursor.dropped;
		int			n = bus_ring_read(ring, &cursor, batch, STREAM_BATCH);

		if (cursor.dropped != dropped)
		{
			/* the worker fell behind the ring: every client may have lost some */
			for (StreamClient *c = stream_clients; c; c = c->next)
				c->dropped += cursor.dropped - dropped;
			http_stats_stream_dropped((int64) (cursor.dropped - dropped) * stream_nclients);
			for (StreamClient *c = stream_clients; c; c = c->next)
				lws_callback_on_writable(c->wsi);
		}
		for (int i = 0; i < n; i++)
			deliver(&batch[i]);
		total += n;
		if (n < STREAM_BATCH)
			break;
	}
}

/* Ping quiet clients; close those silent past zvt.http_idle_timeout. */
static void
heartbeats(int64 now)
{
	int64		idle_us = (int64) zvt_http_idle_timeout * 1000000;
	int64		ping_us = Max(idle_us / 3, 500000);

	for (StreamClient *c = stream_clients; c; c = c->next)
	{
		if (c->closing)
			continue;
		if (now - c->last_rx_us > idle_us)
			stream_close(c, "idle");
		else if (!c->ping_due && now - c->last_ping_us >= ping_us)
		{
			c->ping_due = true;
			lws_callback_on_writable(c->wsi);
		}
	}
}

bool
http_stream_tick(void)
{
	int64		now;

	if (stream_clients == NULL)
	{
		cursor_valid = false;	/* the next client starts at the head */
		return false;
	}
	if (batch == NULL)
	{
		batch = malloc(sizeof(BusEvent) * STREAM_BATCH);
		if (batch == NULL)
			elog(FATAL, "zvt http: out of memory");
		stream_buf_init(&out, LWS_PRE);
	}
	if (nnames == 0 && stream_now_us() - names_read_us >= STREAM_NAMES_EVERY_US)
		(void) stream_names_load();
	pump();
	now = stream_now_us();
	tickers_send(now);
	heartbeats(now);
	stream_roles_refresh(now);
	return true;
}
