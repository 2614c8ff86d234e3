/*-------------------------------------------------------------------------
 *
 * src/feed/books.c
 *	  A feed worker's order books: each subscribed book kept in step with
 *	  its stream by the exchange's rule (src/book/sync.c), published to
 *	  shared memory (src/book/store.c), resynchronized from a new snapshot
 *	  when the stream breaks, and written to zvt.book_snapshots.
 *
 * Flow.  Book messages come back from the parser thread in arrival order
 * (frame_parsed, worker.c) and go to feed_books_message, which applies
 * them at once (pure C: nothing here may longjmp in a callback).  Each
 * timer step publishes the books that moved (feed_books_publish, shared
 * memory only) and, in the step's transaction, does what needs the
 * database or the network (feed_books_step): Binance REST snapshots,
 * resubscribes, gap rows, snapshot rows.
 *
 * Breaks.  A sequence gap, a checksum mismatch or a crossed book (sync.c),
 * or a jump in a Coinbase connection's sequence_num, counts one resync in
 * zvt.feed_status.book_resyncs, leaves the book waiting for a snapshot,
 * and asks for one: Binance over REST (/api/v3/depth), the others by
 * unsubscribing and subscribing the stream again on the same connection.
 * When the new snapshot is live, the gap (from the last message applied
 * before the break to the snapshot) becomes a zvt.feed_gaps row of
 * channel book.  A lost connection is the connection's gap (connection.c):
 * its books wait for the snapshots the resubscribe brings, uncounted.
 *
 * Memory.  The books are malloc'd, process-lifetime state (a BookSync per
 * subscription); work with PostgreSQL happens in the caller's transaction
 * and memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "book/store.h"
#include "bus/events.h"
#include "bus/ring.h"
#include "core/zvt_time.h"
#include "feed/rest_client.h"
#include "feed/url_check.h"
#include "feed/worker.h"
#include "zvt.h"

#define REST_RETRY_US	(INT64CONST(1000) * 1000)	/* a failed REST snapshot is tried again after 1 s */
#define MAX_FEED_BOOKS	BOOK_STORE_SLOTS

typedef struct FeedBook
{
	char		symbol[FEED_SYMBOL_LEN];
	char		topic[FEED_TOPIC_LEN];	/* the stream, as the exchange names it */
	int			endpoint;
	int32		instrument_id;
	int			depth;			/* levels a side the subscription keeps */
	int64		qty_mult;		/* 10^-8 base units per exchange unit of size */
	BookSync	sync;
	int			slot;			/* in shared memory; -1 when none was free */
	bool		dirty;			/* moved since the last publication */
	int64		last_us;		/* receive time of the last message applied */
	int64		resyncs;
	/* a break waiting for its snapshot, then for its gap row */
	bool		broken;
	int64		gap_from;		/* us */
	int64		gap_to;			/* us; 0 until live again */
	char		gap_reason[FEED_REASON_LEN];
	/* what the next steps must do */
	bool		want_rest;		/* Binance: fetch the REST snapshot */
	int64		rest_due;		/* us */
	bool		want_resubscribe;
	int64		last_row;		/* us: the last zvt.book_snapshots row */
	BookLevel	top_bid;		/* the top last sent to the event ring */
	BookLevel	top_ask;
} FeedBook;

static FeedBook *fbooks[MAX_FEED_BOOKS];
static int	nfbooks = 0;

/* the installation the worker's rows belong to, for the event ring */
static Oid	ring_install = InvalidOid;
static char rest_base[256];
static char futures_rest_base[256];	/* zvt.exchanges.futures_rest_url, "" = none */

/* Coinbase: the last sequence_num per endpoint, on which connection */
static int64 conn_seq_last[FEED_MAX_ENDPOINTS];
static uint32 conn_seq_connection[FEED_MAX_ENDPOINTS];
static bool conn_seq_known[FEED_MAX_ENDPOINTS];

static BookRule exchange_rule(const char *symbol);
static void book_break(FeedBook *b, const char *reason, int64 now);
static void fetch_rest_snapshot(FeedBook *b);
static void queue_resubscribe(FeedBook *b);
static void write_snapshot_row(FeedBook *b, TimestampTz ts);
static void books_at_exit(int code, Datum arg);

static BookRule
exchange_rule(const char *symbol)
{
	size_t		n = strlen(symbol);

	/* USD-M futures (fstream) chain their diffs by pu */
	if (strcmp(feed_self.exchange, "binance") == 0 && n > 5 && strcmp(symbol + n - 5, "-PERP") == 0)
		return BOOK_RULE_BINANCE_FUTURES;
	if (strcmp(feed_self.exchange, "binance") == 0)
		return BOOK_RULE_BINANCE;
	if (strcmp(feed_self.exchange, "bybit") == 0)
		return BOOK_RULE_BYBIT;
	if (strcmp(feed_self.exchange, "okx") == 0)
		return BOOK_RULE_OKX;
	return BOOK_RULE_COINBASE;
}

static FeedBook *
find_book(const char *symbol)
{
	for (int i = 0; i < nfbooks; i++)
		if (strcmp(fbooks[i]->symbol, symbol) == 0)
			return fbooks[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* subscriptions                                                       */
/* ------------------------------------------------------------------ */

/*
 * Re-read the exchange's book subscriptions (in the caller's transaction,
 * SPI connected, after the symbol map is loaded): new books start waiting
 * for a snapshot, dropped ones give their shared-memory slot back.
 */
void
feed_books_load(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(feed_self.exchange)};
	bool		keep[MAX_FEED_BOOKS] = {false};
	int			n;
	static bool exit_registered = false;

	/* a worker that stops leaves no book marked live behind it */
	if (!exit_registered)
	{
		before_shmem_exit(books_at_exit, (Datum) 0);
		exit_registered = true;
	}

	if (SPI_execute_with_args("SELECT rest_url, futures_rest_url FROM zvt.exchanges WHERE name = $1",
							  1, types, v, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *url = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *furl = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		strlcpy(rest_base, url ? url : "", sizeof(rest_base));
		/* one source per exchange, as instruments_sync.c */
		strlcpy(futures_rest_base, furl && url && feed_url_is_local(furl) == feed_url_is_local(url) ? furl : "",
				sizeof(futures_rest_base));
	}
	if (SPI_execute_with_args("SELECT symbol, depth FROM zvt.subscriptions "
							  "WHERE exchange = $1 AND channel = 'book' ORDER BY id",
							  1, types, v, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the book subscriptions");
	n = (int) SPI_processed;
	for (int r = 0; r < n; r++)
	{
		char	   *sym = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		char	   *d = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);
		int			depth = d ? atoi(d) : 50;
		const FeedSymbol *s = feed_symbols_find(feed_self.symbols, sym);
		FeedBook   *b = find_book(sym);
		char		channel[16];

		if (!s)
			continue;
		if (!b)
		{
			if (nfbooks == MAX_FEED_BOOKS)
				continue;
			b = calloc(1, sizeof(FeedBook));
			if (!b || !book_sync_init(&b->sync, exchange_rule(sym), BOOK_MAX_DEPTH))
			{
				free(b);
				ereport(WARNING,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("zvt feed %s: out of memory for the book of %s", feed_self.exchange, sym)));
				continue;
			}
			strlcpy(b->symbol, sym, sizeof(b->symbol));
			b->slot = -1;
			fbooks[nfbooks++] = b;
		}
		snprintf(channel, sizeof(channel), "book_%d", depth);
		if (!feed_self.spec->topic(sym, channel, &b->endpoint, b->topic, sizeof(b->topic)))
			b->topic[0] = '\0';
		b->instrument_id = s->id;
		b->depth = depth;
		b->qty_mult = BOOK_SCALE;
		if (strcmp(feed_self.exchange, "okx") == 0 && strstr(sym, "-PERP") && s->contract_size > 0)
			b->qty_mult = (int64) llround(s->contract_size * (double) BOOK_SCALE);
		/* claiming again finds the same slot and takes a new depth */
		if ((b->slot = book_store_claim(feed_self.exchange, sym, s->id, depth)) < 0)
			ereport(WARNING,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("zvt feed %s: no room in shared memory for the book of %s", feed_self.exchange, sym),
					 errdetail("zvt keeps at most %d live books.", BOOK_STORE_SLOTS)));
		b->dirty = true;
		for (int i = 0; i < nfbooks; i++)
			if (fbooks[i] == b)
				keep[i] = true;
	}
	/* books no longer subscribed */
	for (int i = nfbooks - 1; i >= 0; i--)
		if (!keep[i])
		{
			book_store_release(fbooks[i]->slot);
			book_sync_free(&fbooks[i]->sync);
			free(fbooks[i]);
			fbooks[i] = fbooks[--nfbooks];
			keep[i] = keep[nfbooks];
		}
}

/*
 * before_shmem_exit: the books stop following the exchange with this
 * process; paper fills must not walk them (a crash resets shared memory
 * anyway).
 */
static void
books_at_exit(int code, Datum arg)
{
	for (int i = 0; i < nfbooks; i++)
	{
		book_sync_reset(&fbooks[i]->sync);
		if (fbooks[i]->slot >= 0)
			book_store_publish(fbooks[i]->slot, &fbooks[i]->sync.book, fbooks[i]->qty_mult, false,
							   0, (int64) fbooks[i]->sync.applied, (int64) fbooks[i]->sync.level_updates,
							   fbooks[i]->resyncs, GetCurrentTimestamp());
	}
}

/* ------------------------------------------------------------------ */
/* messages (main thread, inside lws callbacks: nothing may longjmp)    */
/* ------------------------------------------------------------------ */

/* The stream broke: count it, wait for a snapshot, and ask for one. */
static void
book_break(FeedBook *b, const char *reason, int64 now)
{
	feed_self.stats->book_resyncs++;
	b->resyncs++;
	if (!b->broken)
	{
		b->broken = true;
		b->gap_from = b->last_us ? b->last_us : now;
		b->gap_to = 0;
		strlcpy(b->gap_reason, reason, sizeof(b->gap_reason));
	}
	b->dirty = true;
	if (BOOK_RULE_REST(b->sync.rule))
	{
		b->want_rest = true;
		b->rest_due = 0;
	}
	else
		b->want_resubscribe = true;
	ereport(LOG,
			(errmsg("zvt feed %s: the book of %s resynchronizes: %s", feed_self.exchange, b->symbol, reason)));
}

/*
 * One book message: header h and its h->book_levels levels after it, on
 * endpoint ep, received at rx_us.  Unknown symbols are not ours (a book
 * just unsubscribed).
 */
void
feed_books_message(const FeedEvent *h, int ep, int64 rx_us)
{
	FeedBook   *b = find_book(h->symbol);
	BookUpdate	local[64];
	BookUpdate *ups = local;
	BookMsg		m;
	BookVerdict v;
	char		reason[FEED_REASON_LEN];

	if (!b)
		return;
	if (h->book_levels > lengthof(local))
	{
		ups = malloc(sizeof(BookUpdate) * h->book_levels);
		if (!ups)
		{
			book_break(b, "out of memory for a book message", rx_us);
			book_sync_reset(&b->sync);
			return;
		}
	}
	for (int i = 0; i < h->book_levels; i++)
		ups[i] = h[1 + i].level;
	memset(&m, 0, sizeof(m));
	m.snapshot = h->book_snapshot;
	m.first = h->book_first;
	m.last = h->seq;
	m.prev = h->book_prev;
	m.has_checksum = h->book_has_checksum;
	m.checksum = h->book_checksum;
	m.n = h->book_levels;
	m.updates = ups;
	v = book_sync_feed(&b->sync, &m, reason, sizeof(reason));
	if (ups != local)
		free(ups);
	switch (v)
	{
		case BOOK_APPLIED:
			b->dirty = true;
			b->last_us = rx_us;
			if (b->broken && b->gap_to == 0)
				b->gap_to = rx_us;	/* live again: the gap is closed */
			break;
		case BOOK_RESYNC:
			if (h->book_snapshot && BOOK_RULE_REST(b->sync.rule))
			{
				/* a REST snapshot older than the diffs buffered: nothing lost, fetch a newer one */
				b->want_rest = true;
				b->rest_due = 0;
			}
			else
				book_break(b, reason, rx_us);
			break;
		case BOOK_BUFFERED:
			/* Binance after a (re)subscribe: the REST snapshot is due */
			if (!b->want_rest)
			{
				b->want_rest = true;
				b->rest_due = 0;
			}
			break;
		default:
			break;
	}
}

/*
 * A Coinbase frame's sequence_num on endpoint ep's connection: a jump
 * means a message was lost, any of whose book updates, so every book on
 * that connection starts again.
 */
void
feed_books_conn_seq(int ep, uint32 connection, int64 seq, int64 rx_us)
{
	bool		jump = conn_seq_known[ep] && conn_seq_connection[ep] == connection &&
		seq != conn_seq_last[ep] + 1;

	if (jump)
	{
		char		reason[FEED_REASON_LEN];

		snprintf(reason, sizeof(reason), "sequence gap: expected sequence_num %lld, got %lld",
				 (long long) conn_seq_last[ep] + 1, (long long) seq);
		for (int i = 0; i < nfbooks; i++)
			if (fbooks[i]->endpoint == ep && fbooks[i]->sync.state == BOOK_STATE_LIVE)
			{
				book_sync_reset(&fbooks[i]->sync);
				book_break(fbooks[i], reason, rx_us);
			}
	}
	conn_seq_known[ep] = true;
	conn_seq_connection[ep] = connection;
	conn_seq_last[ep] = seq;
}

/* The connection of ep went down: its books wait for the snapshots a reconnect brings. */
void
feed_books_endpoint_down(int ep)
{
	conn_seq_known[ep] = false;
	for (int i = 0; i < nfbooks; i++)
		if (fbooks[i]->endpoint == ep)
		{
			book_sync_reset(&fbooks[i]->sync);
			fbooks[i]->want_resubscribe = false;	/* the reconnect subscribes anew */
			fbooks[i]->dirty = true;
		}
}

/* ------------------------------------------------------------------ */
/* the timer step                                                      */
/* ------------------------------------------------------------------ */

/* The installation the worker's rows belong to (read at each flush). */
void
feed_books_note_install(Oid install)
{
	ring_install = install;
}

/*
 * A live book whose best bid or ask (price or size) moved since the last
 * event: fill e with the new top (in base units) and remember it.
 */
static bool
top_moved(FeedBook *b, BusEvent *e, TimestampTz ts)
{
	const Book *bk = &b->sync.book;
	BookLevel	none = {0, 0, 0, 0};
	BookLevel	bid = bk->nbids > 0 ? bk->bids[0] : none;
	BookLevel	ask = bk->nasks > 0 ? bk->asks[0] : none;
	double		mult = (double) b->qty_mult / (double) BOOK_SCALE;

	if (bid.px == b->top_bid.px && bid.qty == b->top_bid.qty &&
		ask.px == b->top_ask.px && ask.qty == b->top_ask.qty)
		return false;
	b->top_bid = bid;
	b->top_ask = ask;
	memset(e, 0, sizeof(BusEvent));
	e->kind = BUS_EVENT_BOOK;
	e->install = ring_install;
	e->instrument_id = b->instrument_id;
	e->ts = ts;
	e->local_ts = b->last_us ? (TimestampTz) (b->last_us - ZT_PG_EPOCH_OFFSET) : ts;
	e->u.quote.seq = b->sync.last;
	e->u.quote.bid = bid.qty ? (double) bid.px / BOOK_SCALE : NAN;
	e->u.quote.bid_qty = bid.qty ? (double) bid.qty * mult / BOOK_SCALE : NAN;
	e->u.quote.ask = ask.qty ? (double) ask.px / BOOK_SCALE : NAN;
	e->u.quote.ask_qty = ask.qty ? (double) ask.qty * mult / BOOK_SCALE : NAN;
	return true;
}

/*
 * Publish every book that moved to shared memory (no transaction needed),
 * and each live book's top, when it moved, to the event ring (the Redis
 * publisher's zvt:{exchange}:{symbol}:book).
 */
void
feed_books_publish(void)
{
	TimestampTz now = GetCurrentTimestamp();
	BusEvent	ring[BUS_RING_BATCH];
	int			n = 0;

	for (int i = 0; i < nfbooks; i++)
	{
		FeedBook   *b = fbooks[i];
		bool		live = b->sync.state == BOOK_STATE_LIVE;

		if (!b->dirty || b->slot < 0)
			continue;
		book_store_publish(b->slot, &b->sync.book, b->qty_mult, live,
						   b->sync.last, (int64) b->sync.applied, (int64) b->sync.level_updates, b->resyncs,
						   b->last_us ? (TimestampTz) (b->last_us - ZT_PG_EPOCH_OFFSET) : now);
		b->dirty = false;
		if (live && OidIsValid(ring_install) && bus_events_ring() != NULL && top_moved(b, &ring[n], now) &&
			++n == BUS_RING_BATCH)
		{
			bus_events_append(ring, n);
			n = 0;
		}
	}
	bus_events_append(ring, n);
}

/* Does the next step have database or network work? */
bool
feed_books_due(int64 now)
{
	for (int i = 0; i < nfbooks; i++)
	{
		FeedBook   *b = fbooks[i];

		bool		open = feed_self.endpoints[b->endpoint].state == EP_OPEN;

		if ((open && b->want_rest && now >= b->rest_due) || (open && b->want_resubscribe) ||
			(b->broken && b->gap_to != 0) ||
			(zvt_book_snapshot_interval > 0 && b->sync.state == BOOK_STATE_LIVE &&
			 now - b->last_row >= (int64) zvt_book_snapshot_interval * 1000))
			return true;
	}
	return false;
}

/*
 * GET the Binance REST snapshot of b and feed it.  In a subtransaction: a
 * refused URL or an unreachable exchange is logged and tried again in a
 * second, never the worker's end.
 */
static void
fetch_rest_snapshot(FeedBook *b)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char		url[512];
	char		raw[FEED_SYMBOL_LEN];
	size_t		o = 0;
	int			limit = b->depth <= 100 ? 100 : b->depth <= 500 ? 500 : 1000;
	const char *perp = strstr(b->symbol, "-PERP");

	/* BTC-USDT -> BTCUSDT; a perpetual's book is on the futures REST (fapi) */
	for (const char *p = b->symbol; *p && p != perp && o + 1 < sizeof(raw); p++)
		if (*p != '-')
			raw[o++] = *p;
	raw[o] = '\0';
	if (perp)
		snprintf(url, sizeof(url), "%s/fapi/v1/depth?symbol=%s&limit=%d", futures_rest_base, raw, limit);
	else
		snprintf(url, sizeof(url), "%s/api/v3/depth?symbol=%s&limit=%d", rest_base, raw, limit);
	b->want_rest = false;
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		RestResponse resp;
		FeedEvent  *ev = palloc(sizeof(FeedEvent) * (2 * 1000 + 1));
		FeedFrame	frame = {0};
		int			n = 0;

		if (rest_get(url, &resp) && resp.status == 200)
			n = binance_parse_depth(resp.body, resp.len, b->symbol, ev, 2 * 1000 + 1, &frame);
		if (n > 0)
			feed_books_message(ev, b->endpoint, feed_now_us());
		else
		{
			ereport(LOG,
					(errmsg("zvt feed %s: could not fetch the book snapshot of %s; trying again",
							feed_self.exchange, b->symbol),
					 errdetail_internal("%s: HTTP %ld %s", url, resp.status,
										resp.error[0] ? resp.error : frame.reason)));
			b->want_rest = true;
			b->rest_due = feed_now_us() + REST_RETRY_US;
		}
		/* a snapshot older than the buffered diffs: fetch another at once */
		if (b->sync.state == BOOK_STATE_WAITING && !b->want_rest)
		{
			b->want_rest = true;
			b->rest_due = 0;
		}
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
				(errmsg("zvt feed %s: could not fetch the book snapshot of %s: %s",
						feed_self.exchange, b->symbol, err->message)));
		FreeErrorData(err);
		b->want_rest = true;
		b->rest_due = feed_now_us() + REST_RETRY_US;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
}

/* Unsubscribe and subscribe b's stream again on its open connection: a new snapshot comes. */
static void
queue_resubscribe(FeedBook *b)
{
	Endpoint   *e = &feed_self.endpoints[b->endpoint];
	const char *topics[1] = {b->topic};
	char		buf[1024];

	if (e->state != EP_OPEN || !b->topic[0])
		return;					/* the reconnect will subscribe it */
	b->want_resubscribe = false;
	if (feed_self.spec->request(b->endpoint, false, topics, 1, feed_self.next_request_id++, buf, sizeof(buf)) > 0)
		feed_endpoint_queue(e, buf);
	if (feed_self.spec->request(b->endpoint, true, topics, 1, feed_self.next_request_id++, buf, sizeof(buf)) > 0)
		feed_endpoint_queue(e, buf);
	if (e->wsi)
		lws_callback_on_writable(e->wsi);
}

/* Append side's prices or sizes as a numeric[] literal. */
static void
array_text(StringInfo s, const BookLevel *lv, int n, bool sizes, int64 mult)
{
	appendStringInfoChar(s, '{');
	for (int i = 0; i < n; i++)
	{
		char		buf[32];
		int64		v = sizes ? (mult == BOOK_SCALE ? lv[i].qty
								 : (int64) (((__int128) lv[i].qty * mult) / BOOK_SCALE)) : lv[i].px;
		int			len = book_format_decimal(buf, v, BOOK_SCALE_DIGITS);

		/* no trailing zeros: the numeric zvt.book gives for the same level */
		while (len > 0 && buf[len - 1] == '0')
			buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '.')
			buf[--len] = '\0';
		if (i)
			appendStringInfoChar(s, ',');
		appendStringInfoString(s, buf);
	}
	appendStringInfoChar(s, '}');
}

static void
write_snapshot_row(FeedBook *b, TimestampTz ts)
{
	Oid			types[7] = {TIMESTAMPTZOID, INT4OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[7];
	StringInfoData s[4];
	int			nb = Min(b->sync.book.nbids, b->depth),
				na = Min(b->sync.book.nasks, b->depth);

	for (int i = 0; i < 4; i++)
		initStringInfo(&s[i]);
	array_text(&s[0], b->sync.book.bids, nb, false, b->qty_mult);
	array_text(&s[1], b->sync.book.bids, nb, true, b->qty_mult);
	array_text(&s[2], b->sync.book.asks, na, false, b->qty_mult);
	array_text(&s[3], b->sync.book.asks, na, true, b->qty_mult);
	v[0] = TimestampTzGetDatum(ts);
	v[1] = Int32GetDatum(b->instrument_id);
	v[2] = Int64GetDatum(b->sync.last);
	for (int i = 0; i < 4; i++)
		v[3 + i] = CStringGetTextDatum(s[i].data);
	if (SPI_execute_with_args("INSERT INTO zvt.book_snapshots (ts, instrument_id, seq, bid_price, bid_size, "
							  "ask_price, ask_size) VALUES ($1, $2, $3, $4::pg_catalog.numeric[], "
							  "$5::pg_catalog.numeric[], $6::pg_catalog.numeric[], $7::pg_catalog.numeric[]) "
							  "ON CONFLICT (instrument_id, ts) DO NOTHING",
							  7, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write a book snapshot");
}

/*
 * The database and network part of a step (in the step's transaction,
 * SPI connected): REST snapshots due, resubscribes, the gap rows of books
 * live again, and a zvt.book_snapshots row per live book every
 * zvt.book_snapshot_interval.
 */
void
feed_books_step(void)
{
	int64		now = feed_now_us();
	TimestampTz ts = GetCurrentTimestamp();

	for (int i = 0; i < nfbooks; i++)
	{
		FeedBook   *b = fbooks[i];

		if (b->want_rest && now >= b->rest_due && feed_self.endpoints[b->endpoint].state == EP_OPEN)
			fetch_rest_snapshot(b);
		if (b->want_resubscribe)
			queue_resubscribe(b);
		if (b->broken && b->gap_to != 0)
		{
			Oid			types[5] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
			Datum		v[5];

			v[0] = CStringGetTextDatum(feed_self.exchange);
			v[1] = CStringGetTextDatum(b->symbol);
			v[2] = TimestampTzGetDatum((TimestampTz) (b->gap_from - ZT_PG_EPOCH_OFFSET));
			v[3] = TimestampTzGetDatum((TimestampTz) (Max(b->gap_to, b->gap_from) - ZT_PG_EPOCH_OFFSET));
			v[4] = CStringGetTextDatum(b->gap_reason);
			if (SPI_execute_with_args("INSERT INTO zvt.feed_gaps (exchange, symbol, channel, from_ts, to_ts, reason) "
									  "VALUES ($1, $2, 'book', $3, $4, $5)", 5, types, v, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not record a book gap");
			b->broken = false;
		}
		if (zvt_book_snapshot_interval > 0 && b->sync.state == BOOK_STATE_LIVE &&
			now - b->last_row >= (int64) zvt_book_snapshot_interval * 1000)
		{
			write_snapshot_row(b, ts);
			b->last_row = now;
		}
	}
	feed_books_publish();
}
