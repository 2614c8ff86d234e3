/*-------------------------------------------------------------------------
 *
 * src/http/stream.c
 *	  The /stream WebSocket's clients: the upgrade's check (token, role),
 *	  their commands (subscribe, unsubscribe, ping), their subscriptions,
 *	  their bounded queues and writing them out.
 *
 * The upgrade.  server.c hands over a GET /stream that asks for a
 * WebSocket (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE).  The token is the
 * Authorization header's, else the query's ?token= (a browser cannot set
 * headers on a WebSocket); auth.c decides the role exactly as for a
 * request, and a bad token gets PostgREST's 401 before any upgrade.  Then
 * one transaction as that role (http_set_role, run.c's SET LOCAL ROLE by
 * set_config_option: the name a value, never SQL text, through
 * PostgreSQL's membership check) reads zvt._my_accounts(), the accounts the
 * row-level security policies show the role; a role that cannot be set
 * (unknown, not granted, a superuser) is answered as run.c answers it.
 * The accounts are kept per role (StreamRole, shared by its clients) and
 * read again every STREAM_ACCOUNTS_EVERY_US while a client of that role
 * wants orders, so a grant or revoke shows within seconds, with no query
 * per event.  The anonymous role gets no order events at all.
 *
 * The queue.  Every message to a client goes into its ring of
 * zvt.http_stream_queue messages; when it is full the oldest is dropped
 * and counted, and the count is sent ({"op":"dropped"}) before the next
 * message the client gets.  Writing happens when lws says the socket can
 * take more, as long as it is not choked: a client that does not read
 * holds at most its queue, never the worker, the ring or other clients.
 * The socket's send buffer is fixed at STREAM_SNDBUF (no autotuning up
 * to megabytes), so that the queue, not the kernel, is what bounds a
 * slow client and what it is told it lost.
 *
 * Heartbeats.  The server sends a WebSocket ping every third of
 * zvt.http_idle_timeout and closes a client it heard nothing from (a
 * message, a pong) for zvt.http_idle_timeout; lws answers the client's
 * pings; {"op":"ping"} gets {"op":"pong"}.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libwebsockets.h>
#include <sys/socket.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bus/events.h"
#include "core/zvt_time.h"
#include "http/stream_int.h"
#include "http/transport.h"
#include "zvt.h"

StreamClient *stream_clients = NULL;
int			stream_nclients = 0;

static StreamRole *roles = NULL;

/* the client accepted for this connection, until lws says it is established */
static struct lws *pending_wsi = NULL;
static StreamClient *pending = NULL;

static bool client_accept(struct lws *wsi, HttpRequest *req, HttpResponse *resp);
static StreamClient *client_established(struct lws *wsi);
static int	client_receive(StreamClient *c, const char *in, size_t len);
static void client_alive(StreamClient *c);
static int	client_writable(StreamClient *c);
static void client_closed(StreamClient *c);
static void client_free(StreamClient *c);
static StreamRole *role_get(const char *name, bool anonymous, HttpResponse *resp);
static bool role_read(StreamRole *r, bool anonymous, HttpResponse *resp);
static void command(StreamClient *c, const char *text, size_t len);
static void send_error(StreamClient *c, const char *message, const char *detail);

int64
stream_now_us(void)
{
	return ZVT_TS_TO_UNIX(GetCurrentTimestamp());
}

/* ----------------------------------------------------------------
 *		The upgrade
 * ----------------------------------------------------------------
 */

/* The query's token= value, percent-decoded (palloc'd), or NULL. */
static char *
query_token(const char *query)
{
	for (const char *p = query; p && *p;)
	{
		const char *end = p + strcspn(p, "&");

		if (strncmp(p, "token=", 6) == 0)
		{
			StringInfoData s;

			initStringInfo(&s);
			for (const char *q = p + 6; q < end; q++)
			{
				unsigned int v;

				if (*q == '%' && end - q >= 3 && sscanf(q + 1, "%2x", &v) == 1)
				{
					appendStringInfoChar(&s, (char) v);
					q += 2;
				}
				else
					appendStringInfoChar(&s, *q == '+' ? ' ' : *q);
			}
			return s.data;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

static bool
client_accept(struct lws *wsi, HttpRequest *req, HttpResponse *resp)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt http stream upgrade",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	   *token = query_token(req->query);
	char	   *claims = NULL;
	StreamRole *role = NULL;
	bool		ok = false;

	if (bus_events_ring() == NULL)
		http_response_error(resp, 503, NULL, "the live stream is off",
							"zvt.event_ring_size is 0.", NULL);
	else
	{
		/* a header wins; else ?token= as if it were one */
		if (token && http_request_header(req, "authorization") == NULL)
		{
			HttpHeader *h = palloc(sizeof(HttpHeader) * (req->nheaders + 1));

			memcpy(h, req->headers, sizeof(HttpHeader) * req->nheaders);
			h[req->nheaders].name = "authorization";
			h[req->nheaders].value = psprintf("Bearer %s", token);
			req->headers = h;
			req->nheaders++;
		}
		if (http_authenticate(req, resp, &claims))
		{
			role = role_get(req->role, req->anonymous, resp);
			ok = role != NULL;
		}
	}
	free(claims);
	if (ok)
	{
		StreamClient *c = calloc(1, sizeof(StreamClient));

		if (c == NULL)
			elog(FATAL, "zvt http: out of memory");
		c->wsi = wsi;
		c->role = req->anonymous ? NULL : role;
		if (req->anonymous && role)
			role->refs--;		/* the anonymous role's check only */
		c->qcap = zvt_http_stream_queue;
		c->queue = calloc(c->qcap, sizeof(StreamMsg));
		if (c->queue == NULL)
			elog(FATAL, "zvt http: out of memory");
		c->last_rx_us = c->last_ping_us = stream_now_us();
		if (pending)
			client_free(pending);	/* an upgrade lws gave up on */
		pending = c;
		pending_wsi = wsi;
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return ok;
}

static StreamClient *
client_established(struct lws *wsi)
{
	StreamClient *c = pending;
	int			sndbuf = STREAM_SNDBUF;

	if (c == NULL || pending_wsi != wsi)
		return NULL;
	pending = NULL;
	pending_wsi = NULL;
	/* bound what the kernel holds for it, so that the queue is the limit */
	(void) setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF,
					  &sndbuf, sizeof(sndbuf));
	c->next = stream_clients;
	if (stream_clients)
		stream_clients->prev = c;
	stream_clients = c;
	stream_nclients++;
	http_stats_stream_clients(1);
	return c;
}

static void
client_closed(StreamClient *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		stream_clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	stream_nclients--;
	http_stats_stream_clients(-1);
	client_free(c);
}

static void
client_free(StreamClient *c)
{
	if (c->role)
		c->role->refs--;
	for (int i = 0; i < c->qlen; i++)
		free(c->queue[(c->qhead + i) % c->qcap].data);
	free(c->queue);
	free(c->subs);
	free(c->ticker_sent);
	free(c->rx);
	free(c);
}

int
http_stream_upgrade(struct lws *wsi, bool admin, const char *query,
					const HttpHeader *headers, int nheaders, HttpResponse *resp)
{
	char		uri[64];
	HttpRequest req;
	int64		start = stream_now_us();

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = HTTP_STREAM_PATH;
	req.query = query;
	req.headers = headers;
	req.nheaders = nheaders;
	if (admin || lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
		strcmp(uri, HTTP_STREAM_PATH) != 0)
		http_response_error(resp, 404, NULL, "only GET /stream upgrades to a WebSocket", NULL, NULL);
	else if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0)
		http_response_error(resp, 400, NULL, "no WebSocket subprotocol is offered",
							NULL, "Send no Sec-WebSocket-Protocol header.");
	else if (client_accept(wsi, &req, resp))
	{
		http_stats_end("GET", 101, start, false);
		return 0;
	}
	http_stats_end("GET", resp->status, start, false);
	return 1;
}

int
http_stream_callback(struct lws *wsi, int reason, StreamClient **client, void *in, size_t len)
{
	StreamClient *c = *client;

	switch (reason)
	{
		case LWS_CALLBACK_ESTABLISHED:
			*client = client_established(wsi);
			return *client ? 0 : -1;
		case LWS_CALLBACK_RECEIVE:
			return c ? client_receive(c, (const char *) in, len) : -1;
		case LWS_CALLBACK_RECEIVE_PONG:
			if (c)
				client_alive(c);
			return 0;
		case LWS_CALLBACK_SERVER_WRITEABLE:
			return c ? client_writable(c) : -1;
		case LWS_CALLBACK_CLOSED:
			if (c)
				client_closed(c);
			*client = NULL;
			return 0;
	}
	return 0;
}

/* ----------------------------------------------------------------
 *		Roles and their accounts
 * ----------------------------------------------------------------
 */

/*
 * The role's entry, its accounts read now when it is new (a reference
 * taken); NULL when the role cannot be set (resp holds the answer).  The
 * anonymous role is checked (it must be settable) but reads no accounts.
 */
static StreamRole *
role_get(const char *name, bool anonymous, HttpResponse *resp)
{
	StreamRole *r;

	for (r = roles; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			break;
	if (r == NULL)
	{
		r = calloc(1, sizeof(StreamRole));
		if (r == NULL)
			elog(FATAL, "zvt http: out of memory");
		strlcpy(r->name, name, sizeof(r->name));
		if (!role_read(r, anonymous, resp))
		{
			free(r);
			return NULL;
		}
		r->next = roles;
		roles = r;
	}
	else if (!role_read(r, anonymous, resp))
		return NULL;			/* its clients are closed by the next refresh */
	r->failed = false;
	r->refs++;
	return r;
}

/* int4[] -> sorted malloc'd array */
static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Read the role's accounts in one transaction as that role; false on
 * error, with the answer a request would get in resp (when not NULL) and
 * the message in r->error.
 */
static bool
role_read(StreamRole *r, bool anonymous, HttpResponse *resp)
{
	MemoryContext old = CurrentMemoryContext;
	volatile bool ok = false;

	StartTransactionCommand();
	PG_TRY();
	{
		/* the role is a setting's value, never SQL text (run.c) */
		http_set_role(r->name);
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		if (!anonymous)
		{
			bool		isnull;
			ArrayType  *a;
			Datum	   *ids;
			int			n;

			if (SPI_execute("SELECT zvt._my_accounts()", true, 1) != SPI_OK_SELECT ||
				SPI_processed != 1)
				elog(ERROR, "zvt http: could not read the role's accounts");
			a = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			deconstruct_array(a, INT4OID, sizeof(int32), true, TYPALIGN_INT, &ids, NULL, &n);
			free(r->accounts);
			r->accounts = malloc(sizeof(int32) * (n + 1));
			if (r->accounts == NULL)
				elog(FATAL, "zvt http: out of memory");
			for (int i = 0; i < n; i++)
				r->accounts[i] = DatumGetInt32(ids[i]);
			qsort(r->accounts, n, sizeof(int32), cmp_int32);
			r->naccounts = n;
		}
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
		snprintf(r->error, sizeof(r->error), "%s", e->message);
		if (resp)
		{
			const char *code = unpack_sql_state(e->sqlerrcode);
			int			status = http_status_for_sqlstate(code, anonymous);

			http_response_error(resp, status, code, e->message, e->detail, e->hint);
			if (status == 401)
				http_response_header(resp, "WWW-Authenticate", "Bearer", true);
		}
		FreeErrorData(e);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	r->fetched_us = stream_now_us();
	return ok;
}

/*
 * Read again the accounts of every role whose clients want orders and
 * whose list is older than STREAM_ACCOUNTS_EVERY_US; a role that can no
 * longer be set closes its clients.  Entries no client uses are freed.
 */
void
stream_roles_refresh(int64 now)
{
	StreamRole **link = &roles;

	while (*link)
	{
		StreamRole *r = *link;
		bool		wanted = false;

		if (r->refs <= 0)
		{
			*link = r->next;
			free(r->accounts);
			free(r);
			continue;
		}
		for (StreamClient *c = stream_clients; c && !wanted; c = c->next)
			wanted = c->role == r && stream_wants(c, STREAM_ORDERS, 0, 0);
		if (wanted && !r->failed && now - r->fetched_us >= STREAM_ACCOUNTS_EVERY_US &&
			!role_read(r, false, NULL))
		{
			r->failed = true;
			for (StreamClient *c = stream_clients; c; c = c->next)
				if (c->role == r)
					stream_close(c, "the role can no longer be used");
		}
		link = &r->next;
	}
}

bool
stream_sees_account(const StreamClient *c, int32 account_id)
{
	const StreamRole *r = c->role;

	return r != NULL && !r->failed &&
		bsearch(&account_id, r->accounts, r->naccounts, sizeof(int32), cmp_int32) != NULL;
}

/* ----------------------------------------------------------------
 *		Subscriptions
 * ----------------------------------------------------------------
 */

static int
cmp_sub(const void *a, const void *b)
{
	const StreamSub *x = a;
	const StreamSub *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->interval_s != y->interval_s)
		return x->interval_s < y->interval_s ? -1 : 1;
	return x->instrument_id < y->instrument_id ? -1 : x->instrument_id > y->instrument_id;
}

/* Whether c subscribed kind (and timeframe) for the instrument or for "*". */
bool
stream_wants(const StreamClient *c, int kind, int interval_s, int32 instrument_id)
{
	StreamSub	k = {kind, interval_s, instrument_id};

	if (c->nsubs == 0)
		return false;
	if (bsearch(&k, c->subs, c->nsubs, sizeof(StreamSub), cmp_sub))
		return true;
	k.instrument_id = 0;
	return instrument_id != 0 && bsearch(&k, c->subs, c->nsubs, sizeof(StreamSub), cmp_sub);
}

/*
 * Apply a subscribe or unsubscribe whose symbols resolved to ids: all or
 * nothing; false (and an error sent) past the limit.
 */
static bool
apply(StreamClient *c, const StreamCommand *cmd, const int32 *ids)
{
	int			max = c->nsubs + cmd->nchannels * Max(cmd->nsymbols, 1);
	StreamSub  *subs = malloc(sizeof(StreamSub) * Max(max, 1));
	int			n = c->nsubs;

	if (subs == NULL)
		elog(FATAL, "zvt http: out of memory");
	/* (a client's first subscribe has no c->subs: memcpy from NULL is UB) */
	if (c->nsubs > 0)
		memcpy(subs, c->subs, sizeof(StreamSub) * c->nsubs);
	for (int i = 0; i < cmd->nchannels; i++)
	{
		const StreamChannel *ch = &cmd->channels[i];
		int			nsym = ch->kind == STREAM_ORDERS ? 1 : cmd->nsymbols;

		for (int j = 0; j < nsym; j++)
		{
			StreamSub	k = {ch->kind, ch->interval_s, ch->kind == STREAM_ORDERS ? 0 : ids[j]};
			StreamSub  *hit = NULL;

			qsort(subs, n, sizeof(StreamSub), cmp_sub);
			hit = bsearch(&k, subs, n, sizeof(StreamSub), cmp_sub);
			if (cmd->op == STREAM_OP_SUBSCRIBE && hit == NULL)
				subs[n++] = k;
			else if (cmd->op == STREAM_OP_UNSUBSCRIBE && hit != NULL)
				*hit = subs[--n];
		}
	}
	if (n > zvt_http_stream_max_subscriptions)
	{
		char		detail[64];

		free(subs);
		snprintf(detail, sizeof(detail), "at most %d per connection (zvt.http_stream_max_subscriptions)",
				 zvt_http_stream_max_subscriptions);
		send_error(c, "too many subscriptions", detail);
		return false;
	}
	qsort(subs, n, sizeof(StreamSub), cmp_sub);
	free(c->subs);
	c->subs = subs;
	c->nsubs = n;
	return true;
}

/* Resolve, check and apply a subscribe or unsubscribe; answer it. */
static void
subscribe(StreamClient *c, const StreamCommand *cmd)
{
	int32		ids[STREAM_MAX_LIST];
	bool		market = false;
	bool		loaded = false;
	StreamBuf	b;

	for (int i = 0; i < cmd->nchannels; i++)
	{
		if (cmd->channels[i].kind == STREAM_ORDERS && c->role == NULL &&
			cmd->op == STREAM_OP_SUBSCRIBE)
		{
			send_error(c, "the orders channel needs a token",
					   "Connect with a token whose role may see accounts.");
			return;
		}
		market |= cmd->channels[i].kind != STREAM_ORDERS;
	}
	if (market && cmd->nsymbols == 0)
	{
		send_error(c, "\"symbols\" must name at least one symbol, or \"*\"", NULL);
		return;
	}
	for (int i = 0; market && i < cmd->nsymbols; i++)
	{
		char		exchange[STREAM_SYMBOL_MAX];
		char		symbol[STREAM_SYMBOL_MAX];

		ids[i] = 0;
		if (strcmp(cmd->symbols[i], "*") == 0)
			continue;
		(void) stream_split_symbol(cmd->symbols[i], exchange, sizeof(exchange), symbol, sizeof(symbol));
		if (!stream_resolve(exchange, symbol, &ids[i]) && !loaded)
		{
			loaded = true;		/* a new instrument, maybe: read the names again, once */
			if (!stream_names_load())
			{
				send_error(c, "could not read the instruments", "The server log says why.");
				return;
			}
			(void) stream_resolve(exchange, symbol, &ids[i]);
		}
		if (ids[i] == 0)
		{
			send_error(c, "unknown symbol", cmd->symbols[i]);
			return;
		}
	}
	if (!apply(c, cmd, ids))
		return;
	stream_buf_init(&b, LWS_PRE);
	stream_write_ack(&b, cmd);
	stream_push(c, stream_buf_text(&b), b.len);
	stream_buf_free(&b);
	/* a new ticker subscription starts from the bus's last values */
	for (int i = 0; i < cmd->nchannels && cmd->op == STREAM_OP_SUBSCRIBE; i++)
		if (cmd->channels[i].kind == STREAM_TICKERS)
			for (int j = 0; j < cmd->nsymbols; j++)
				stream_seed_ticker(ids[j]);
}

/* One whole client message. */
static void
command(StreamClient *c, const char *text, size_t len)
{
	StreamCommand *cmd = malloc(sizeof(StreamCommand));
	char		err[128];
	char		detail[256];

	if (cmd == NULL)
		elog(FATAL, "zvt http: out of memory");
	if (!stream_parse_command(text, len, cmd, err, sizeof(err), detail, sizeof(detail)))
		send_error(c, err, detail);
	else if (cmd->op == STREAM_OP_PING)
	{
		StreamBuf	b;

		stream_buf_init(&b, LWS_PRE);
		stream_write_pong(&b);
		stream_push(c, stream_buf_text(&b), b.len);
		stream_buf_free(&b);
	}
	else
		subscribe(c, cmd);
	free(cmd);
}

static int
client_receive(StreamClient *c, const char *in, size_t len)
{
	c->last_rx_us = stream_now_us();
	if (c->rx_len + len > STREAM_MAX_MESSAGE)
	{
		free(c->rx);
		c->rx = NULL;
		c->rx_len = 0;
		stream_close(c, "message too large");
		return 0;
	}
	c->rx = realloc(c->rx, c->rx_len + len + 1);
	if (c->rx == NULL)
		elog(FATAL, "zvt http: out of memory");
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi) > 0)
		return 0;
	command(c, c->rx, c->rx_len);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
	return 0;
}

static void
client_alive(StreamClient *c)
{
	c->last_rx_us = stream_now_us();
}

/* ----------------------------------------------------------------
 *		The queue
 * ----------------------------------------------------------------
 */

/* Queue a copy of text for c, dropping its oldest message when full. */
void
stream_push(StreamClient *c, const char *text, size_t len)
{
	StreamMsg  *m;

	if (c->closing)
		return;
	if (c->qlen == c->qcap)
	{
		free(c->queue[c->qhead].data);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		c->dropped++;
		http_stats_stream_dropped(1);
	}
	m = &c->queue[(c->qhead + c->qlen) % c->qcap];
	m->data = malloc(LWS_PRE + len);
	if (m->data == NULL)
		elog(FATAL, "zvt http: out of memory");
	memcpy(m->data + LWS_PRE, text, len);
	m->len = len;
	c->qlen++;
	lws_callback_on_writable(c->wsi);
}

static void
send_error(StreamClient *c, const char *message, const char *detail)
{
	StreamBuf	b;

	stream_buf_init(&b, LWS_PRE);
	stream_write_error(&b, message, detail);
	stream_push(c, stream_buf_text(&b), b.len);
	stream_buf_free(&b);
}

/* Close c at its next write, saying why. */
void
stream_close(StreamClient *c, const char *reason)
{
	c->closing = true;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	lws_callback_on_writable(c->wsi);
}

static int
client_writable(StreamClient *c)
{
	int			sent = 0;

	if (c->closing)
	{
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
						 (unsigned char *) c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->ping_due)
	{
		/* a payload: lws 4.1 reports no empty pong (RECEIVE_PONG) */
		unsigned char buf[LWS_PRE + 4] = {0};

		memcpy(buf + LWS_PRE, "zvt", 3);
		c->ping_due = false;
		c->last_ping_us = stream_now_us();
		if (lws_write(c->wsi, buf + LWS_PRE, 3, LWS_WRITE_PING) < 0)
			return -1;
		if (c->qlen > 0 || c->dropped > 0)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->dropped > 0)
	{
		StreamBuf	b;
		int			rc;

		stream_buf_init(&b, LWS_PRE);
		stream_write_dropped(&b, c->dropped);
		c->dropped = 0;
		rc = lws_write(c->wsi, (unsigned char *) b.data + LWS_PRE, b.len, LWS_WRITE_TEXT);
		stream_buf_free(&b);
		if (rc < 0)
			return -1;
	}
	while (c->qlen > 0 && !lws_send_pipe_choked(c->wsi))
	{
		StreamMsg  *m = &c->queue[c->qhead];
		int			rc = lws_write(c->wsi, (unsigned char *) m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);

		free(m->data);
		m->data = NULL;
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		if (rc < 0)
			return -1;
		sent++;
	}
	http_stats_stream_sent(sent);
	if (c->qlen > 0)
		lws_callback_on_writable(c->wsi);
	return 0;
}
