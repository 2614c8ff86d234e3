/*-------------------------------------------------------------------------
 *
 * src/redis/publish.c
 *	  What the Redis publisher sends: events of the ring as stream entries
 *	  and last-value hashes, pipelined, and the resync of the hashes from
 *	  the market bus.
 *
 * A batch of events read from the ring becomes one pipeline: for each
 * event an XADD to zvt:{exchange}:{symbol}:{channel} (MAXLEN ~
 * zvt.redis_maxlen when not 0), then one HSET of zvt:last:{exchange}:
 * {symbol} per instrument for its batch's last trade and last quote; then
 * every reply is read.  An I/O error (Redis went away) returns false: the
 * caller drops the connection and sends the whole batch again on the next
 * one, so an entry may appear twice across a reconnect but none is lost;
 * each entry carries its row's stable identity ("id") to dedupe by.  A
 * reply that is an error (WRONGTYPE, OOM) is counted and logged, and the
 * batch goes on: sending it again would fail the same way.
 *
 * Names.  Events name instruments by id; the worker maps them to
 * (exchange, symbol) with a copy of zvt.instruments held in names_context,
 * read again when an event names an id it does not know or another
 * installation (DROP and CREATE EXTENSION).  Events of another database
 * or installation, or of an instrument still unknown after a reload, are
 * skipped and counted.  The reload and the resync each run a short
 * read-only transaction of their own, never while a pipeline is open.
 *
 * Fields.  Times are Unix microseconds, numbers are PostgreSQL's shortest
 * exact text of the float8 stored ("91234.56"), NaN fields are left out.
 * "seq" is the event's ring sequence number: it orders entries but
 * starts again at 1 when the server restarts; "id" is the row's natural
 * key within its stream (trade id; quote ts:update id; candle ts:source).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <hiredis/hiredis.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "bus/events.h"
#include "core/zvt_time.h"
#include "redis/publish.h"
#include "redis/redis.h"
#include "zvt.h"

#define MAX_ARGS 32
#define ARG_LEN 64

/*
 * One command being built: argv of at most MAX_ARGS strings, either the
 * caller's (cmd_arg) or formatted into buf (cmd_argf, at most ARG_LEN
 * bytes: numbers and ids).  One at a time: redisAppendCommandArgv copies
 * it into the pipeline's buffer.
 */
typedef struct Cmd
{
	int			argc;
	const char *argv[MAX_ARGS];
	size_t		argvlen[MAX_ARGS];
	char		buf[MAX_ARGS][ARG_LEN];
} Cmd;

typedef struct InstName
{
	char	   *exchange;		/* NULL: no such instrument */
	char	   *symbol;
} InstName;

/* What a stream entry of an order event adds to its ring event. */
typedef struct OrderInfo
{
	char	   *account;		/* zvt.accounts.name */
	char	   *exchange;
	char	   *symbol;
	char	   *side;
	char	   *client_order_id;	/* NULL = none */
	char	   *reason;			/* NULL = none */
} OrderInfo;

static Cmd cmd;					/* the command being built */
static MemoryContext names_context = NULL;
static InstName *names = NULL;		/* indexed by instrument id */
static int	nnames = 0;
static Oid	names_install = InvalidOid;

static void cmd_start(Cmd *c);
static void cmd_arg(Cmd *c, const char *s);
static void cmd_argf(Cmd *c, const char *fmt,...) pg_attribute_printf(2, 3);
static void cmd_double(Cmd *c, const char *field, double v);
static void cmd_int(Cmd *c, const char *field, int64 v);
static void cmd_xadd(Cmd *c, const char *key, uint64 seq);
static void cmd_best_levels(Cmd *c, const BusEvent *e);
static void cmd_quote_fields(Cmd *c, const BusEvent *e);
static void channel_name(const BusEvent *e, char *out, size_t len);
static bool names_reload(void);
static bool name_unknown(const BusEvent *e);
static void names_prepare(const BusEvent *ev, int n);
static const InstName *name_of(const BusEvent *e);
static bool pipeline_replies(redisContext *ctx, int ncmds);
static OrderInfo **orders_lookup(const BusEvent *ev, int n);
static void append_order(redisContext *ctx, const BusEvent *e, const OrderInfo *o);

/* ----------------------------------------------------------------
 *		Building commands
 * ----------------------------------------------------------------
 */

static void
cmd_start(Cmd *c)
{
	c->argc = 0;
}

/* s itself, not a copy: it must live until the command is appended */
static void
cmd_arg(Cmd *c, const char *s)
{
	Assert(c->argc < MAX_ARGS);
	c->argv[c->argc] = s;
	c->argvlen[c->argc] = strlen(s);
	c->argc++;
}

static void
cmd_argf(Cmd *c, const char *fmt,...)
{
	va_list		ap;

	Assert(c->argc < MAX_ARGS);
	va_start(ap, fmt);
	vsnprintf(c->buf[c->argc], ARG_LEN, fmt, ap);
	va_end(ap);
	c->argv[c->argc] = c->buf[c->argc];
	c->argvlen[c->argc] = strlen(c->buf[c->argc]);
	c->argc++;
}

/* field and the shortest exact text of v; nothing when v is NaN */
static void
cmd_double(Cmd *c, const char *field, double v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (isnan(v))
		return;
	double_to_shortest_decimal_buf(v, num);
	cmd_arg(c, field);
	cmd_argf(c, "%s", num);
}

static void
cmd_int(Cmd *c, const char *field, int64 v)
{
	cmd_arg(c, field);
	cmd_argf(c, INT64_FORMAT, v);
}

/*
 * Start an XADD to stream key (kept until the command is appended),
 * trimmed to about zvt.redis_maxlen entries when set, its first field the
 * event's ring sequence number.
 */
static void
cmd_xadd(Cmd *c, const char *key, uint64 seq)
{
	cmd_start(c);
	cmd_arg(c, "XADD");
	cmd_arg(c, key);
	if (zvt_redis_maxlen > 0)
	{
		cmd_arg(c, "MAXLEN");
		cmd_arg(c, "~");
		cmd_argf(c, "%d", zvt_redis_maxlen);
	}
	cmd_arg(c, "*");
	cmd_int(c, "seq", (int64) seq);
}

/* a quote's best levels: bid, bid_qty, ask, ask_qty (each left out when NaN) */
static void
cmd_best_levels(Cmd *c, const BusEvent *e)
{
	cmd_double(c, "bid", e->u.quote.bid);
	cmd_double(c, "bid_qty", e->u.quote.bid_qty);
	cmd_double(c, "ask", e->u.quote.ask);
	cmd_double(c, "ask_qty", e->u.quote.ask_qty);
}

/* a quote's or a book top's stream fields: ts, update_id, the best levels, local_ts */
static void
cmd_quote_fields(Cmd *c, const BusEvent *e)
{
	cmd_int(c, "ts", ZVT_TS_TO_UNIX(e->ts));
	cmd_int(c, "update_id", e->u.quote.seq);
	cmd_best_levels(c, e);
	cmd_int(c, "local_ts", ZVT_TS_TO_UNIX(e->local_ts));
}

/* The stream's channel: trades, quotes, candles_1m ... (the names zvt.subscribe takes) */
static void
channel_name(const BusEvent *e, char *out, size_t len)
{
	static const struct
	{
		int			secs;
		const char *name;
	}			tf[] = {{60, "1m"}, {300, "5m"}, {900, "15m"}, {3600, "1h"}, {14400, "4h"}, {86400, "1d"}};

	if (e->kind == BUS_EVENT_TRADE)
		strlcpy(out, "trades", len);
	else if (e->kind == BUS_EVENT_QUOTE)
		strlcpy(out, "quotes", len);
	else if (e->kind == BUS_EVENT_BOOK)
		strlcpy(out, "book", len);
	else
	{
		for (int i = 0; i < lengthof(tf); i++)
			if (tf[i].secs == e->u.candle.interval_s)
			{
				snprintf(out, len, "candles_%s", tf[i].name);
				return;
			}
		snprintf(out, len, "candles_%ds", e->u.candle.interval_s);
	}
}

/* ----------------------------------------------------------------
 *		Instrument names
 * ----------------------------------------------------------------
 */

/*
 * Read every instrument of this installation in a transaction of its own;
 * false when zvt is not installed (then no event has a name).
 */
static bool
names_reload(void)
{
	bool		ok = false;

	if (names_context == NULL)
		names_context = AllocSetContextCreate(TopMemoryContext, "zvt redis names", ALLOCSET_SMALL_SIZES);
	MemoryContextReset(names_context);
	names = NULL;
	nnames = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	names_install = bus_install();
	if (OidIsValid(names_install))
	{
		SPI_connect();
		if (SPI_execute("SELECT id, exchange, symbol FROM zvt.instruments ORDER BY id DESC", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read zvt.instruments");
		if (SPI_processed > 0)
		{
			bool		isnull;
			TupleDesc	d = SPI_tuptable->tupdesc;

			nnames = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], d, 1, &isnull)) + 1;
			names = MemoryContextAllocZero(names_context, sizeof(InstName) * nnames);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	t = SPI_tuptable->vals[r];
				int32		id = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));

				if (id < 0 || id >= nnames)
					continue;
				names[id].exchange = MemoryContextStrdup(names_context, SPI_getvalue(t, d, 2));
				names[id].symbol = MemoryContextStrdup(names_context, SPI_getvalue(t, d, 3));
			}
		}
		SPI_finish();
		ok = true;
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ok;
}

/*
 * Does e name an instrument (or, for an order event, an installation) of
 * this database that names_reload would add?
 */
static bool
name_unknown(const BusEvent *e)
{
	if (e->kind == BUS_EVENT_ORDER)		/* no instrument: only the installation */
		return e->dboid == MyDatabaseId && e->install != names_install;
	return e->dboid == MyDatabaseId &&
		(e->install != names_install || e->instrument_id < 0 || e->instrument_id >= nnames ||
		 names[e->instrument_id].exchange == NULL);
}

/*
 * Reload the names once when one of the n events names an instrument not
 * known; call before name_of (which never reloads: the names it returned
 * stay valid until the next call of this).
 */
static void
names_prepare(const BusEvent *ev, int n)
{
	for (int i = 0; i < n; i++)
		if (name_unknown(&ev[i]))
		{
			names_reload();
			return;
		}
}

/*
 * The names of e's instrument, or NULL when e belongs to another database
 * or installation or names no instrument.
 */
static const InstName *
name_of(const BusEvent *e)
{
	if (e->dboid != MyDatabaseId || e->kind == BUS_EVENT_ORDER || name_unknown(e))
		return NULL;
	return &names[e->instrument_id];
}

/* ----------------------------------------------------------------
 *		Pipelines
 * ----------------------------------------------------------------
 */

/*
 * Read the replies of ncmds pipelined commands.  Error replies are counted
 * and recorded, and logged at most once a minute (a key another program
 * made a string would fail every batch); false on an I/O error, with the
 * error recorded.
 */
static bool
pipeline_replies(redisContext *ctx, int ncmds)
{
	static TimestampTz logged_at = 0;
	bool		logged = false;

	for (int i = 0; i < ncmds; i++)
	{
		redisReply *reply = NULL;

		if (redisGetReply(ctx, (void **) &reply) != REDIS_OK)
		{
			redis_set_error("could not read a reply: %s", ctx->errstr[0] ? ctx->errstr : "connection lost");
			return false;
		}
		if (reply->type == REDIS_REPLY_ERROR)
		{
			redis_shared->reply_errors++;
			if (!logged)
			{
				redis_set_error("Redis replied: %s", reply->str);
				if (TimestampDifferenceExceeds(logged_at, GetCurrentTimestamp(), 60000))
				{
					ereport(LOG,
							(errmsg("zvt redis: a command failed"),
							 errdetail_internal("%s", reply->str),
							 errhint("zvt.redis_status.reply_errors counts them; this is logged at most once a minute.")));
					logged_at = GetCurrentTimestamp();
				}
				logged = true;
			}
		}
		freeReplyObject(reply);
	}
	return true;
}

/*
 * Append e's XADD to the pipeline of ctx.  The fields of each kind are
 * listed in docs/redis.md.
 */
static void
append_xadd(redisContext *ctx, const BusEvent *e, const InstName *nm)
{
	Cmd		   *c = &cmd;
	char		channel[32];

	channel_name(e, channel, sizeof(channel));
	cmd_xadd(c, psprintf("zvt:%s:%s:%s", nm->exchange, nm->symbol, channel), e->seq);
	switch (e->kind)
	{
		case BUS_EVENT_TRADE:
			cmd_arg(c, "id");
			cmd_arg(c, e->u.trade.trade_id);
			cmd_int(c, "ts", ZVT_TS_TO_UNIX(e->ts));
			cmd_double(c, "price", e->u.trade.price);
			cmd_double(c, "qty", e->u.trade.qty);
			cmd_arg(c, "side");
			cmd_arg(c, e->u.trade.taker_buy ? "buy" : "sell");
			cmd_int(c, "local_ts", ZVT_TS_TO_UNIX(e->local_ts));
			break;
		case BUS_EVENT_QUOTE:
			cmd_arg(c, "id");
			cmd_argf(c, INT64_FORMAT ":" INT64_FORMAT, ZVT_TS_TO_UNIX(e->ts), e->u.quote.seq);
			cmd_quote_fields(c, e);
			break;
		case BUS_EVENT_BOOK:
			/* a live order book's top after a move: its sequence and best levels */
			cmd_quote_fields(c, e);
			break;
		default:
			cmd_arg(c, "id");
			cmd_argf(c, INT64_FORMAT ":%s", ZVT_TS_TO_UNIX(e->ts),
					 e->u.candle.from_trades ? "trades" : "exchange");
			cmd_int(c, "ts", ZVT_TS_TO_UNIX(e->ts));
			cmd_int(c, "timeframe_s", e->u.candle.interval_s);
			cmd_double(c, "open", e->u.candle.open);
			cmd_double(c, "high", e->u.candle.high);
			cmd_double(c, "low", e->u.candle.low);
			cmd_double(c, "close", e->u.candle.close);
			cmd_double(c, "volume", e->u.candle.volume);
			cmd_double(c, "quote_volume", e->u.candle.quote_volume);
			if (e->u.candle.trade_count >= 0)
				cmd_int(c, "trade_count", e->u.candle.trade_count);
			cmd_arg(c, "source");
			cmd_arg(c, e->u.candle.from_trades ? "trades" : "exchange");
			break;
	}
	redisAppendCommandArgv(ctx, c->argc, c->argv, c->argvlen);
}

/* Append the HSET of the last trade or quote e of its instrument. */
static void
append_last(redisContext *ctx, const BusEvent *e, const InstName *nm)
{
	Cmd		   *c = &cmd;

	cmd_start(c);
	cmd_arg(c, "HSET");
	cmd_arg(c, psprintf("zvt:last:%s:%s", nm->exchange, nm->symbol));
	if (e->kind == BUS_EVENT_TRADE)
	{
		cmd_double(c, "price", e->u.trade.price);
		cmd_double(c, "qty", e->u.trade.qty);
		cmd_arg(c, "side");
		cmd_arg(c, e->u.trade.taker_buy ? "buy" : "sell");
		cmd_arg(c, "trade_id");
		cmd_arg(c, e->u.trade.trade_id);
		cmd_int(c, "trade_ts", ZVT_TS_TO_UNIX(e->ts));
	}
	else
	{
		cmd_best_levels(c, e);
		cmd_int(c, "quote_ts", ZVT_TS_TO_UNIX(e->ts));
	}
	if (c->argc > 2)
		redisAppendCommandArgv(ctx, c->argc, c->argv, c->argvlen);
	else
		c->argc = 0;
}

/*
 * For each order event of ev (this installation's, while zvt.redis_private
 * is on), its account, instrument, side, client order id and reason, read
 * from the committed rows in a transaction of its own; NULL for the other
 * events and for events whose rows are gone.  The result is palloc'd in
 * the current context.
 */
static OrderInfo **
orders_lookup(const BusEvent *ev, int n)
{
	OrderInfo **info = palloc0(sizeof(OrderInfo *) * n);
	Datum	   *ids = palloc(sizeof(Datum) * n);
	int			nids = 0;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];

	for (int i = 0; i < n; i++)
		if (ev[i].kind == BUS_EVENT_ORDER && ev[i].dboid == MyDatabaseId && ev[i].install == names_install)
			ids[nids++] = Int64GetDatum(ev[i].u.order.event_id);
	if (nids == 0 || !zvt_redis_private)
		return info;
	args[0] = PointerGetDatum(construct_array(ids, nids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute_with_args("SELECT e.event_id, a.name, o.exchange, o.symbol, o.side, o.client_order_id, e.reason "
							  "  FROM zvt.order_events e JOIN zvt.orders o ON o.order_id = e.order_id "
							  "  JOIN zvt.accounts a ON a.account_id = e.account_id "
							  " WHERE e.event_id = ANY ($1)",
							  1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.order_events");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		OrderInfo  *o = MemoryContextAllocZero(cxt, sizeof(OrderInfo));
		char	   *v[6];

		for (int k = 0; k < 6; k++)
		{
			char	   *s = SPI_getvalue(t, d, k + 2);

			v[k] = s ? MemoryContextStrdup(cxt, s) : NULL;
		}
		o->account = v[0];
		o->exchange = v[1];
		o->symbol = v[2];
		o->side = v[3];
		o->client_order_id = v[4];
		o->reason = v[5];
		for (int i = 0; i < n; i++)
			if (ev[i].kind == BUS_EVENT_ORDER && ev[i].u.order.event_id == id &&
				ev[i].dboid == MyDatabaseId && ev[i].install == names_install)
				info[i] = o;
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return info;
}

/* Append the XADD of order event e to its account's stream. */
static void
append_order(redisContext *ctx, const BusEvent *e, const OrderInfo *o)
{
	Cmd		   *c = &cmd;

	cmd_xadd(c, psprintf("zvt:account:%s:orders", o->account), e->seq);
	cmd_int(c, "id", e->u.order.event_id);
	cmd_int(c, "order_id", e->u.order.order_id);
	cmd_int(c, "ts", ZVT_TS_TO_UNIX(e->ts));
	cmd_arg(c, "event");
	cmd_arg(c, e->u.order.event);
	cmd_arg(c, "status");
	cmd_arg(c, e->u.order.status);
	cmd_double(c, "qty", e->u.order.qty);
	cmd_double(c, "price", e->u.order.price);
	cmd_arg(c, "exchange");
	cmd_arg(c, o->exchange);
	cmd_arg(c, "symbol");
	cmd_arg(c, o->symbol);
	cmd_arg(c, "side");
	cmd_arg(c, o->side);
	if (o->client_order_id)
	{
		cmd_arg(c, "client_order_id");
		cmd_arg(c, o->client_order_id);
	}
	if (o->reason)
	{
		cmd_arg(c, "reason");
		cmd_arg(c, o->reason);
	}
	redisAppendCommandArgv(ctx, c->argc, c->argv, c->argvlen);
}

/*
 * Publish n events in one pipeline.  *sent gets the stream entries
 * acknowledged.  Returns false on an I/O error (nothing of the batch may
 * be counted as sent: the caller sends it all again).  Allocates in the
 * current (per-pass) memory context.
 */
bool
redis_publish_batch(redisContext *ctx, const BusEvent *ev, int n, int64 *sent)
{
	const InstName **nm = palloc(sizeof(InstName *) * n);
	bool	   *last = palloc0(sizeof(bool) * n);
	OrderInfo **orders;
	int			ncmds = 0;
	int64		entries = 0;

	*sent = 0;
	names_prepare(ev, n);
	orders = orders_lookup(ev, n);
	/* the last trade and the last quote of each instrument get an HSET */
	for (int i = n - 1; i >= 0; i--)
	{
		nm[i] = name_of(&ev[i]);
		if (nm[i] == NULL || (ev[i].kind != BUS_EVENT_TRADE && ev[i].kind != BUS_EVENT_QUOTE))
			continue;
		last[i] = true;
		for (int j = i + 1; j < n && last[i]; j++)
			if (last[j] && nm[j] == nm[i] && ev[j].kind == ev[i].kind)
				last[i] = false;
	}
	for (int i = 0; i < n; i++)
	{
		if (ev[i].kind == BUS_EVENT_ORDER)
		{
			/* private: sent only while zvt.redis_private is on */
			if (orders[i] != NULL)
			{
				append_order(ctx, &ev[i], orders[i]);
				ncmds++;
				entries++;
			}
			else if (zvt_redis_private)
				redis_shared->skipped++;
			continue;
		}
		if (nm[i] == NULL)
		{
			redis_shared->skipped++;
			continue;
		}
		append_xadd(ctx, &ev[i], nm[i]);
		ncmds++;
		entries++;
	}
	for (int i = 0; i < n; i++)
		if (last[i])
		{
			append_last(ctx, &ev[i], nm[i]);
			ncmds++;
		}
	if (!pipeline_replies(ctx, ncmds))
		return false;
	*sent = entries;
	return true;
}

/*
 * Rewrite every last-value hash of this installation from the market bus
 * (after a connect, when Redis may have lost them, and after the ring
 * overran this reader).  Returns false on an I/O error.
 */
bool
redis_resync(redisContext *ctx)
{
	BusEntry   *entries = NULL;
	int			n = 0;
	int			ncmds = 0;
	BusEvent   *keys;
	MemoryContext cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	n = bus_entries(&entries);
	if (n > 0)
	{
		BusEntry   *copy = MemoryContextAlloc(cxt, sizeof(BusEntry) * n);

		memcpy(copy, entries, sizeof(BusEntry) * n);
		entries = copy;
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	keys = palloc0(sizeof(BusEvent) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		keys[i].dboid = entries[i].key.dboid;
		keys[i].install = entries[i].key.install;
		keys[i].instrument_id = entries[i].key.instrument_id;
	}
	names_prepare(keys, n);
	for (int i = 0; i < n; i++)
	{
		BusEntry   *b = &entries[i];
		const InstName *nm;
		Cmd		   *c;

		if ((nm = name_of(&keys[i])) == NULL)
			continue;
		c = &cmd;
		cmd_start(c);
		cmd_arg(c, "HSET");
		cmd_arg(c, psprintf("zvt:last:%s:%s", nm->exchange, nm->symbol));
		if (!isnan(b->last))
		{
			cmd_double(c, "price", b->last);
			cmd_double(c, "qty", b->last_qty);
			cmd_int(c, "trade_ts", ZVT_TS_TO_UNIX(b->last_ts));
		}
		if (b->quotes > 0)
		{
			cmd_double(c, "bid", b->bid);
			cmd_double(c, "bid_qty", b->bid_qty);
			cmd_double(c, "ask", b->ask);
			cmd_double(c, "ask_qty", b->ask_qty);
			cmd_int(c, "quote_ts", ZVT_TS_TO_UNIX(b->quote_ts));
		}
		if (c->argc > 2)
		{
			redisAppendCommandArgv(ctx, c->argc, c->argv, c->argvlen);
			ncmds++;
		}
		}
	if (!pipeline_replies(ctx, ncmds))
		return false;
	redis_shared->resyncs++;
	return true;
}
