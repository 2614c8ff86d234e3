/*-------------------------------------------------------------------------
 *
 * src/feed/connection.c
 *	  A feed worker's WebSocket connections: connect, receive, send,
 *	  keepalive, the silence watchdog, reconnect with backoff, and the
 *	  zvt.feed_gaps rows disconnections leave.
 *
 * Connection states: down -> connecting -> open -> down.  A connect
 * attempt (TCP, TLS, WebSocket upgrade) not open within zvt.feed_watchdog
 * is abandoned like a silent connection: counted, logged and retried with
 * the backoff (an endpoint that accepts TCP and then says nothing must not
 * leave the feed `connecting` for good).  libwebsockets
 * calls feed_callback on the main thread; nothing there may longjmp, so
 * memory is malloc'd and errors become state changes and LOG lines.  A
 * complete frame goes to the parser thread (parse_thread.c) with its
 * receive time; the worker takes the parsed frames back in order.
 *
 * URLs: wss:// anywhere (certificates verified against the system bundle
 * or zvt.ca_file), ws:// only when the host resolves to loopback alone
 * (url_check.c), and then the connection goes to the checked numeric
 * address, not to the name again.
 *
 * Gaps.  Going down from open opens a gap from the last data message; the
 * first data message on the next connection closes it (worker.c), or,
 * when none came FEED_GAP_QUIET_US after the handshake, that moment does
 * (a market that went quiet during the outage sends nothing, and the
 * trades it sent before would stay unknown); the next flush writes one
 * zvt.feed_gaps row per subscription of that endpoint.  A drop before
 * that flush extends the gap to the connection after.  Repairing them
 * over REST is the backfill's job: a gap nothing was missed in is closed
 * with rows_repaired = 0.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "feed/backfill.h"
#include "feed/url_check.h"
#include "feed/worker.h"
#include "feed/ws_client.h"
#include "zvt.h"

static void endpoint_frame(Endpoint *e, const char *msg, size_t len);
static int	feed_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
						  void *in, size_t len);

const struct lws_protocols feed_protocols[] = {
	{"zvt-feed", feed_callback, 0, 1 << 16, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* Queue one text message for the endpoint (sent by the writeable callback). */
void
feed_endpoint_queue(Endpoint *e, const char *msg)
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

/*
 * The connection went down (or never came up): open a gap if it was
 * streaming, forget what was sent on it, and schedule the reconnect after
 * a backoff of 250 ms doubling to 30 s, plus up to half again of jitter.
 */
void
feed_endpoint_down(Endpoint *e, const char *reason)
{
	int64		now = feed_now_us();
	int			jitter;

	/* the frames received before the drop count for the gap's start */
	parse_thread_drain(feed_self.parser, -1);
	e->gap_quiet_at = 0;
	if (e->gap_open && e->gap_ready)
		e->gap_ready = false;	/* not written yet: it goes on to the next connection */
	else if (e->state == EP_OPEN && e->nwant > 0 && !e->gap_open)
	{
		e->gap_open = true;
		e->gap_from = e->last_data ? e->last_data : now;
		snprintf(e->gap_reason, sizeof(e->gap_reason), "%s", reason);
		feed_self.stats->reconnects++;
	}
	e->state = EP_DOWN;
	e->wsi = NULL;
	feed_books_endpoint_down(e->index);
	for (int k = 0; k < e->nwant; k++)
		e->want[k].sent = false;
	for (int i = 0; i < e->noutq; i++)
		free(e->outq[i]);
	e->noutq = 0;
	e->rxlen = 0;
	e->backoff_ms = e->backoff_ms ? Min(e->backoff_ms * 2, FEED_BACKOFF_MAX_MS) : FEED_BACKOFF_MIN_MS;
	/* up to half again, so that reconnecting feeds do not move in step */
	jitter = (int) (random() % (e->backoff_ms / 2 + 1));
	e->reconnect_at = now + (int64) (e->backoff_ms + jitter) * 1000;
	ereport(LOG,
			(errmsg("zvt feed %s: connection %s%s lost (%s); reconnecting in %d ms",
					feed_self.exchange, feed_endpoint_base(e->index), feed_self.spec->paths[e->index],
					reason, e->backoff_ms + jitter)));
}

/*
 * The base URL of endpoint index: the exchange's ws_url, or its
 * futures_ws_url for the endpoints the spec puts there (Binance USD-M
 * futures live on another host, fstream).  "" when that is not set.
 */
const char *
feed_endpoint_base(int index)
{
	if (!feed_self.spec->futures[index])
		return feed_self.ws_url;
	/* one source per exchange: no real fstream beside a local simulator */
	if (feed_self.futures_ws_url[0] &&
		feed_url_is_local(feed_self.futures_ws_url) != feed_url_is_local(feed_self.ws_url))
		return "";
	return feed_self.futures_ws_url;
}

/* Connect the endpoint, unless its URL is not one zvt may use. */
void
feed_endpoint_connect(Endpoint *e)
{
	char		urlbuf[512];
	char		reason[256];
	int			rc;
	const char *base = feed_endpoint_base(e->index);

	if (base[0] == '\0')
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt feed %s: futures_ws_url is not set, or not local like ws_url; perpetuals are not streamed",
						feed_self.exchange),
				 errhint("Set zvt.exchanges.futures_ws_url of exchange \"%s\" to the same kind of host as ws_url.",
						 feed_self.exchange)));
		e->reconnect_at = feed_now_us() + (int64) FEED_BACKOFF_MAX_MS * 1000;
		return;
	}
	snprintf(urlbuf, sizeof(urlbuf), "%s%s", base, feed_self.spec->paths[e->index]);
	e->state = EP_CONNECTING;
	e->reconnect_at = 0;
	e->connect_started = feed_now_us();
	rc = ws_client_connect(feed_self.context, urlbuf, e, &e->wsi, reason, sizeof(reason));
	if (rc == WS_CLIENT_BAD_URL)
	{
		e->state = EP_DOWN;
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt feed %s: ws_url \"%s\" is neither wss:// nor ws:// to loopback; not connecting",
						feed_self.exchange, base),
				 errdetail_internal("%s", reason),
				 errhint("Use wss:// for a real exchange; plain ws:// is for a simulator on 127.0.0.1.")));
		e->reconnect_at = feed_now_us() + (int64) FEED_BACKOFF_MAX_MS * 1000;
	}
	else if (rc != WS_CLIENT_OK)
		feed_endpoint_down(e, reason);
}

/* A complete frame from the exchange: to the parser thread. */
static void
endpoint_frame(Endpoint *e, const char *msg, size_t len)
{
	FeedContext ctx = {feed_self.spec->linear[e->index], feed_contract_size, NULL};
	int64		now = feed_now_us();

	e->last_rx = now;
	feed_self.stats->messages++;
	feed_self.stats->bytes += (int64) len;
	feed_self.stats->last_message_at = (TimestampTz) (now - ZT_PG_EPOCH_OFFSET);
	if (!parse_thread_submit(feed_self.parser, e->index, e->connection, &ctx, now, msg, len))
		feed_self.stats->dropped++;
}

static int
feed_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	Endpoint   *e = (Endpoint *) lws_get_opaque_user_data(wsi);

	if (!e)
		e = (Endpoint *) user;
	if (!e)
	{
		/* an attempt abandoned at its connect timeout: close it if it lives on */
		if (reason == LWS_CALLBACK_CLIENT_ESTABLISHED || reason == LWS_CALLBACK_CLIENT_RECEIVE ||
			reason == LWS_CALLBACK_CLIENT_WRITEABLE)
			return -1;
		return 0;
	}
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			e->wsi = wsi;
			e->state = EP_OPEN;
			e->connection++;
			e->backoff_ms = 0;
			e->last_rx = e->last_keepalive = e->connected_at = feed_now_us();
			feed_self.stats->connected_since = GetCurrentTimestamp();
			/* the gap ends at the first data, or quietly (feed_endpoints_step) */
			if (e->gap_open && !e->gap_ready)
				e->gap_quiet_at = e->connected_at + FEED_GAP_QUIET_US;
			if (feed_self.spec->on_connect)
				feed_endpoint_queue(e, feed_self.spec->on_connect);
			feed_queue_subscribes(e);
			lws_callback_on_writable(wsi);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			{
				char	   *rx = realloc(e->rx, e->rxlen + len + 1);

				if (rx == NULL)
				{
					/* out of memory: the frame is lost; the gap repair sees the hole */
					feed_self.stats->dropped++;
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
				if (!ws_client_send_text(wsi, e->outq[0], false))
				{
					/* out of memory: try again on the next writeable callback */
					lws_callback_on_writable(wsi);
					break;
				}
				free(e->outq[0]);
				memmove(e->outq, e->outq + 1, sizeof(char *) * (e->noutq - 1));
				e->noutq--;
				if (e->noutq > 0)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			feed_endpoint_down(e, in ? (const char *) in : "connection error");
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			feed_endpoint_down(e, "closed");
			break;
		case LWS_CALLBACK_WSI_DESTROY:
			/* freed without a close or error callback: never keep a dangling wsi */
			if (e->wsi == wsi)
			{
				e->wsi = NULL;
				if (e->state != EP_DOWN)
					feed_endpoint_down(e, "connection freed");
			}
			break;
		default:
			break;
	}
	return 0;
}

/*
 * The timer step's connection part: connect endpoints that are due (at
 * once after a subscription change), abandon connect attempts older than
 * zvt.feed_watchdog, send subscriptions and keepalives on open ones, and
 * drop a connection that has been silent for zvt.feed_watchdog or is 23
 * hours old (Binance cuts at 24 h: leave first,
 * at a moment of our choosing).
 */
void
feed_endpoints_step(int64 now, bool reload)
{
	const FeedSpec *spec = feed_self.spec;

	for (int ep = 0; ep < spec->nendpoints; ep++)
	{
		Endpoint   *e = &feed_self.endpoints[ep];

		/* new subscriptions or endpoints are worth a try now, not after the backoff */
		if (reload && e->state == EP_DOWN)
		{
			e->reconnect_at = 0;
			e->backoff_ms = 0;
		}
		if (e->nwant > 0 && e->state == EP_DOWN && e->reconnect_at <= now)
			feed_endpoint_connect(e);
		else if (e->state == EP_CONNECTING &&
				 now - e->connect_started > (int64) zvt_feed_watchdog * 1000)
		{
			/*
			 * Not open in time (TCP, TLS or the upgrade hangs): abandon the
			 * attempt.  Its wsi is detached first, so that whatever
			 * libwebsockets still says about it is not about this endpoint.
			 */
			char		why[64];

			if (e->wsi)
			{
				lws_set_opaque_user_data(e->wsi, NULL);
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			}
			feed_self.stats->reconnects++;
			snprintf(why, sizeof(why), "connect timed out after %d ms", zvt_feed_watchdog);
			feed_endpoint_down(e, why);
		}
		else if (e->state == EP_OPEN)
		{
			if (reload)
				feed_queue_subscribes(e);
			if (e->gap_open && !e->gap_ready && e->gap_quiet_at && now >= e->gap_quiet_at)
			{
				/* connected and subscribed, and nothing came: a quiet market */
				e->gap_to = now;
				e->gap_ready = true;
			}
			if (spec->keepalive && now - e->last_keepalive >= (int64) spec->keepalive_s * 1000000)
			{
				feed_endpoint_queue(e, spec->keepalive);
				e->last_keepalive = now;
				lws_callback_on_writable(e->wsi);
			}
			if (now - e->connected_at > INT64CONST(23) * 3600 * 1000000)
			{
				ereport(LOG, (errmsg("zvt feed %s: connection is 23 hours old; reconnecting",
									 feed_self.exchange)));
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			}
			else if (now - e->last_rx > (int64) zvt_feed_watchdog * 1000)
			{
				ereport(LOG, (errmsg("zvt feed %s: no message for %d ms; reconnecting",
									 feed_self.exchange, zvt_feed_watchdog)));
				lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			}
		}
	}
	feed_self.stats->state = feed_self.endpoints[0].state;
}

/*
 * At start: the feed was down since the last row it wrote (a crash, a
 * cluster reset, a stop).  Open a gap on every endpoint from the latest
 * receive time among this exchange's trades and quotes of the last day;
 * the first data or the quiet time after connecting closes it.
 * No rows, no gap.  In the caller's transaction, SPI connected.
 */
void
feed_open_restart_gaps(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(feed_self.exchange)};
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
	for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
	{
		Endpoint   *e = &feed_self.endpoints[ep];

		e->gap_open = true;
		e->gap_from = (int64) DatumGetTimestampTz(last) + ZT_PG_EPOCH_OFFSET;
		snprintf(e->gap_reason, sizeof(e->gap_reason), "feed worker restarted");
		if (e->state == EP_OPEN)
			e->gap_quiet_at = feed_now_us() + FEED_GAP_QUIET_US;
	}
}

/*
 * Insert the feed_gaps rows of disconnections closed by a new connection,
 * one per subscription of the endpoint.  In the flush's transaction.
 */
void
feed_write_gaps(void)
{
	for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
	{
		Endpoint   *e = &feed_self.endpoints[ep];

		if (!e->gap_ready)
			continue;
		for (int k = 0; k < e->nwant; k++)
		{
			Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
			Datum		v[6];

			v[0] = CStringGetTextDatum(feed_self.exchange);
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
		/* the backfill worker repairs it once this flush commits */
		backfill_wake_at_commit();
	}
}
