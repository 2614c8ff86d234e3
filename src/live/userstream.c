/*-------------------------------------------------------------------------
 *
 * src/live/userstream.c
 *	  A router's stream thread: one private-stream connection per live
 *	  account of its exchange, logged in with the account's key, kept
 *	  alive and reconnected with backoff; what arrives is parsed
 *	  (userstream_parse.c) and queued for the router (router_stream.c),
 *	  which books it.
 *
 * Threads.  The router's main thread calls us_start, us_add_account,
 * us_set_offset, us_take and us_stop; everything else runs on the
 * stream thread, which owns its libwebsockets context (a client context
 * of its own: lws is not shared between threads) and never touches
 * PostgreSQL: log lines go to the router as notices.  A sul timer every
 * 100 ms connects what is due, sends pings and the Binance listenKey
 * keepalive, and notices a stop (us_stop also cancels the service wait).
 *
 * Connection states: down -> (Binance: listenKey by REST) -> connecting
 * -> login sent -> subscribing -> up.  Going up, every time, queues a
 * "reconnected" item: the router then queries every unfinished order of
 * the exchange, so what happened while the stream was down (or before it
 * first came up) is not missed.  A refused login waits a minute before
 * the next try; other failures back off from 250 ms doubling to 10 s.
 *
 * Secrets: the account's key, secret and passphrase are copied into the
 * thread's memory for its logins and wiped (OPENSSL_cleanse) at stop;
 * nothing here logs a key, a signature or a login message.
 *
 *-------------------------------------------------------------------------
 */
#include "live/userstream.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed/ws_client.h"
#include "live/skew.h"

#define US_MAX_ACCOUNTS		64
#define US_MAX_QUEUE		10000
#define US_BACKOFF_MIN_MS	250
#define US_BACKOFF_MAX_MS	10000
#define US_AUTH_RETRY_MS	60000
#define US_PING_MS			20000
#define US_LISTENKEY_KEEPALIVE_MS	(30 * 60 * 1000)
#define US_MAX_OUT			4

typedef enum UsState
{
	US_DOWN, US_CONNECTING, US_LOGIN, US_SUBSCRIBING, US_UP
} UsState;

typedef struct UsConn
{
	struct UsStream *s;
	int32_t		account_id;
	char		key[512];
	char		secret[4200];
	char		pass[256];
	bool		has_pass;
	struct lws *wsi;
	UsState		state;
	int64_t		reconnect_at;
	int64_t		backoff_ms;
	int64_t		last_ping;
	int64_t		last_keepalive;
	char		listen_key[128];
	char	   *rx;
	size_t		rxlen;
	char	   *out[US_MAX_OUT];
	int			nout;
} UsConn;

struct UsStream
{
	LiveExchange ex;
	char		ws_url[512];
	char		rest_url[512];
	char		ca_file[1024];
	pthread_t	thread;
	bool		started;
	pthread_mutex_t lock;		/* the queue, nconn, offset */
	UsItem	   *q;
	int			qn;
	int			qcap;
	bool		overflow;
	int			wake[2];		/* a pipe: a byte when the queue stops being empty */
	volatile bool stop;
	int64_t		offset_ms;
	int			nconn;
	UsConn		conn[US_MAX_ACCOUNTS];
	int			up;				/* connections up (read by us_connected) */
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
};

static void conn_up(UsConn *c);

/* ----------------------------------------------------------------
 * the queue to the router
 * ----------------------------------------------------------------
 */
static void
us_close_wake(UsStream *s)
{
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	s->wake[0] = s->wake[1] = -1;
}

static void
push(UsStream *s, const UsItem *it)
{
	pthread_mutex_lock(&s->lock);
	if (s->qn == s->qcap && s->qcap < US_MAX_QUEUE)
	{
		int			cap = s->qcap ? s->qcap * 2 : 64;
		UsItem	   *q = realloc(s->q, sizeof(UsItem) * cap);

		if (q)
		{
			s->q = q;
			s->qcap = cap;
		}
	}
	if (s->qn == 0 && s->wake[1] >= 0)
		(void) !write(s->wake[1], "", 1);	/* the router waits on it: wakes */
	if (s->qn < s->qcap)
		s->q[s->qn++] = *it;
	else
		s->overflow = true;		/* lost: us_take asks for a full query pass */
	pthread_mutex_unlock(&s->lock);
}

static void
notice(UsConn *c, const char *fmt, const char *what)
{
	UsItem		it;

	memset(&it, 0, sizeof(it));
	it.account_id = c->account_id;
	it.notice = true;
	snprintf(it.ev.reason, sizeof(it.ev.reason), fmt, what ? what : "");
	push(c->s, &it);
}

/* ----------------------------------------------------------------
 * connections
 * ----------------------------------------------------------------
 */
static LiveCreds
creds(UsConn *c)
{
	LiveCreds	cr = {c->key, c->secret, c->has_pass ? c->pass : NULL};

	return cr;
}

static int64_t
exchange_now(UsStream *s)
{
	int64_t		off;

	pthread_mutex_lock(&s->lock);
	off = s->offset_ms;
	pthread_mutex_unlock(&s->lock);
	return skew_local_ms() + off;
}

static void
queue_out(UsConn *c, const char *msg)
{
	char	   *copy;

	if (c->nout >= US_MAX_OUT || (copy = strdup(msg)) == NULL)
		return;
	c->out[c->nout++] = copy;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void
conn_down(UsConn *c, const char *why, bool auth)
{
	bool		was_up = c->state == US_UP;

	if (c->state == US_DOWN)
		return;					/* down already (the close after a refused login) */
	if (was_up)
	{
		pthread_mutex_lock(&c->s->lock);
		c->s->up--;
		pthread_mutex_unlock(&c->s->lock);
	}
	c->state = US_DOWN;
	c->wsi = NULL;
	c->rxlen = 0;
	for (int i = 0; i < c->nout; i++)
	{
		OPENSSL_cleanse(c->out[i], strlen(c->out[i]));	/* logins carry signatures */
		free(c->out[i]);
	}
	c->nout = 0;
	if (auth)
		c->backoff_ms = US_AUTH_RETRY_MS;
	else
		c->backoff_ms = c->backoff_ms ? (c->backoff_ms * 2 > US_BACKOFF_MAX_MS ? US_BACKOFF_MAX_MS : c->backoff_ms * 2)
			: US_BACKOFF_MIN_MS;
	c->reconnect_at = skew_local_ms() + c->backoff_ms;
	if (was_up || auth)
		notice(c, auth ? "the exchange refused the private stream's login: %s" : "private stream down: %s", why);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	char	   *b = arg;
	size_t		have = strlen(b);
	size_t		add = size * n;

	if (have + add >= 1024)
		add = 1023 - have;
	memcpy(b + have, data, add);
	b[have + add] = '\0';
	return size * n;
}

/*
 * Binance's listenKey: POST (new) or PUT (keepalive) /api/v3/userDataStream
 * with the key in X-MBX-APIKEY.  Returns the HTTP status (0 when none);
 * the reply body in body.
 */
static long
binance_listen_key(UsConn *c, bool put, char *body)
{
	char		url[800];
	char		hdr[600];
	char		form[160];
	struct curl_slist *h = NULL;
	CURL	   *e = curl_easy_init();
	long		status = 0;

	if (e == NULL)
		return 0;
	body[0] = '\0';
	/* the listenKey of a PUT goes in its form body, as Binance takes it */
	snprintf(url, sizeof(url), "%s/api/v3/userDataStream", c->s->rest_url);
	snprintf(form, sizeof(form), "%s%s", put ? "listenKey=" : "", put ? c->listen_key : "");
	snprintf(hdr, sizeof(hdr), "X-MBX-APIKEY: %s", c->key);
	h = curl_slist_append(h, hdr);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, put ? "PUT" : "POST");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (c->s->ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, c->s->ca_file);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	return status;
}

/* the "listenKey" of a reply, copied into c; false if none */
static bool
take_listen_key(UsConn *c, const char *body)
{
	const char *p = strstr(body, "\"listenKey\"");
	size_t		n = 0;

	if (p == NULL || (p = strchr(p + 11, '"')) == NULL)
		return false;
	p++;
	while (p[n] && p[n] != '"' && n + 1 < sizeof(c->listen_key))
	{
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
			return false;
		n++;
	}
	if (n == 0 || p[n] != '"')
		return false;
	memcpy(c->listen_key, p, n);
	c->listen_key[n] = '\0';
	return true;
}

static void
conn_connect(UsConn *c)
{
	UsStream   *s = c->s;
	char		url[1200];
	char		reason[256];

	c->state = US_CONNECTING;
	if (s->ex == LX_BINANCE)
	{
		char		body[1024];
		long		st = binance_listen_key(c, false, body);

		if (st != 200 || !take_listen_key(c, body))
		{
			/* 401 -2015 and the like: the key; anything else: try again */
			snprintf(reason, sizeof(reason), "POST /api/v3/userDataStream: HTTP %ld %.200s", st, body);
			conn_down(c, reason, st == 401 || st == 400);
			return;
		}
		c->last_keepalive = skew_local_ms();
	}
	snprintf(url, sizeof(url), "%s%s%s", s->ws_url, us_ws_path(s->ex),
			 s->ex == LX_BINANCE ? c->listen_key : "");
	c->state = US_CONNECTING;
	switch (ws_client_connect(s->ctx, url, c, &c->wsi, reason, sizeof(reason)))
	{
		case WS_CLIENT_OK:
			break;
		case WS_CLIENT_BAD_URL:
			conn_down(c, "ws_url is neither wss:// nor ws:// to loopback", false);
			c->reconnect_at = skew_local_ms() + US_AUTH_RETRY_MS;
			break;
		default:
			conn_down(c, reason, false);
			break;
	}
}

static void
nonce(char *out)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
conn_established(UsConn *c)
{
	char		msg[4096];
	char		n[33];
	LiveCreds	cr = creds(c);
	int			len;

	nonce(n);
	len = us_login_message(c->s->ex, &cr, exchange_now(c->s), n, msg, sizeof(msg));
	c->last_ping = skew_local_ms();
	if (len < 0)
	{
		notice(c, "could not build the private stream's login%s", "");
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	if (len == 0)
	{
		conn_up(c);				/* Binance: the listenKey was the login */
		return;
	}
	queue_out(c, msg);
	OPENSSL_cleanse(msg, sizeof(msg));
	c->state = US_LOGIN;
}

static void
conn_up(UsConn *c)
{
	UsItem		it;

	if (c->state == US_UP)
		return;
	c->state = US_UP;
	c->backoff_ms = 0;
	pthread_mutex_lock(&c->s->lock);
	c->s->up++;
	pthread_mutex_unlock(&c->s->lock);
	memset(&it, 0, sizeof(it));
	it.account_id = c->account_id;
	it.reconnected = true;
	push(c->s, &it);
}

static void
conn_frame(UsConn *c, const char *msg, size_t len)
{
	UsEvent		ev[US_MAX_EVENTS];
	int			n = us_parse(c->s->ex, msg, len, ev, US_MAX_EVENTS);

	for (int i = 0; i < n; i++)
	{
		UsItem		it;

		switch (ev[i].kind)
		{
			case UE_LOGGED_IN:
				{
					char		sub[1024];
					LiveCreds	cr = creds(c);
					int			k = us_subscribe_message(c->s->ex, &cr, exchange_now(c->s), "", sub, sizeof(sub));

					c->state = US_SUBSCRIBING;
					if (k > 0)
						queue_out(c, sub);
					else
						conn_up(c);
				}
				break;
			case UE_SUBSCRIBED:
				conn_up(c);
				break;
			case UE_AUTH_FAILED:
				if (c->wsi)
					lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
				conn_down(c, ev[i].reason, true);
				return;
			case UE_EXPIRED:
				if (c->wsi)
					lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
				conn_down(c, ev[i].reason, false);
				c->reconnect_at = 0;
				return;
			case UE_ERROR:
				notice(c, "private stream error: %s", ev[i].reason);
				break;
			case UE_ORDER:
			case UE_BALANCE:
				memset(&it, 0, sizeof(it));
				it.account_id = c->account_id;
				it.ev = ev[i];
				push(c->s, &it);
				break;
			default:
				break;
		}
	}
}

static int
us_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	UsConn	   *c = (UsConn *) lws_get_opaque_user_data(wsi);

	(void) user;
	if (c == NULL || (c->wsi != NULL && c->wsi != wsi))
		return 0;
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			c->wsi = wsi;
			conn_established(c);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			{
				char	   *rx = realloc(c->rx, c->rxlen + len + 1);

				if (rx == NULL)
				{
					/* lost: reconnect, the query pass after it catches up */
					lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
					break;
				}
				c->rx = rx;
				memcpy(c->rx + c->rxlen, in, len);
				c->rxlen += len;
				if (!lws_is_final_fragment(wsi))
					break;
				c->rx[c->rxlen] = '\0';
				conn_frame(c, c->rx, c->rxlen);
				c->rxlen = 0;
			}
			break;
		case LWS_CALLBACK_CLIENT_WRITEABLE:
			if (c->nout > 0)
			{
				if (!ws_client_send_text(wsi, c->out[0], true))
				{
					lws_callback_on_writable(wsi);
					break;
				}
				OPENSSL_cleanse(c->out[0], strlen(c->out[0]));
				free(c->out[0]);
				memmove(c->out, c->out + 1, sizeof(char *) * (c->nout - 1));
				c->nout--;
				if (c->nout > 0)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			conn_down(c, in ? (const char *) in : "connection error", false);
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			conn_down(c, "closed", false);
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols us_protocols[] = {
	{"zvt-userstream", us_callback, 0, 1 << 16, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* every 100 ms: connections due, pings, the listenKey keepalive, stop */
static void
us_tick(lws_sorted_usec_list_t *sul)
{
	UsStream   *s = lws_container_of(sul, UsStream, sul);
	int64_t		now = skew_local_ms();
	int			n;

	if (s->stop)
		return;
	pthread_mutex_lock(&s->lock);
	n = s->nconn;
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < n; i++)
	{
		UsConn	   *c = &s->conn[i];

		if (c->state == US_DOWN && c->reconnect_at <= now)
			conn_connect(c);
		else if (c->state >= US_LOGIN && c->wsi)
		{
			const char *ping = us_ping_message(s->ex);

			if (ping && now - c->last_ping >= US_PING_MS)
			{
				queue_out(c, ping);
				c->last_ping = now;
			}
			if (s->ex == LX_BINANCE && now - c->last_keepalive >= US_LISTENKEY_KEEPALIVE_MS)
			{
				char		body[1024];
				long		st = binance_listen_key(c, true, body);

				c->last_keepalive = now;
				if (st != 200)
				{
					/* -1125: the key is gone; a new one on the next connection */
					notice(c, "listenKey keepalive refused: %s", body);
					lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
				}
			}
		}
	}
	lws_sul_schedule(s->ctx, 0, &s->sul, us_tick, 100 * LWS_US_PER_MS);
}

static void *
us_main(void *arg)
{
	UsStream   *s = arg;

	s->ctx = ws_client_context(us_protocols, s->ca_file);
	if (s->ctx == NULL)
	{
		UsItem		it;

		memset(&it, 0, sizeof(it));
		it.notice = true;
		snprintf(it.ev.reason, sizeof(it.ev.reason), "could not create a libwebsockets context");
		push(s, &it);
		return NULL;
	}
	lws_sul_schedule(s->ctx, 0, &s->sul, us_tick, 1);
	while (!s->stop)
		if (lws_service(s->ctx, 0) < 0)
			break;
	lws_context_destroy(s->ctx);
	s->ctx = NULL;
	return NULL;
}

/* ----------------------------------------------------------------
 * the router's side
 * ----------------------------------------------------------------
 */

/*
 * Start the stream thread of exchange ex (its ws_url and rest_url from
 * zvt.exchanges, zvt.ca_file or ""); NULL when it cannot start.
 */
UsStream *
us_start(LiveExchange ex, const char *ws_url, const char *rest_url, const char *ca_file)
{
	UsStream   *s = calloc(1, sizeof(UsStream));
	sigset_t	all,
				old;

	if (s == NULL)
		return NULL;
	s->ex = ex;
	snprintf(s->ws_url, sizeof(s->ws_url), "%s", ws_url);
	snprintf(s->rest_url, sizeof(s->rest_url), "%s", rest_url);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", ca_file ? ca_file : "");
	pthread_mutex_init(&s->lock, NULL);
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		s->wake[0] = s->wake[1] = -1;	/* then the router finds items at its next turn */
	/* signals are the backend's: the thread takes none */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->started = pthread_create(&s->thread, NULL, us_main, s) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->started)
	{
		us_close_wake(s);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

/* The pipe that becomes readable when items are queued (-1: none), for the router's wait. */
int
us_wake_fd(UsStream *s)
{
	return s ? s->wake[0] : -1;
}

/* Stream account_id's private events, logged in with cr; false if full or too long. */
bool
us_add_account(UsStream *s, int32_t account_id, const LiveCreds *cr)
{
	UsConn	   *c;
	bool		ok = false;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nconn; i++)
		if (s->conn[i].account_id == account_id)
		{
			pthread_mutex_unlock(&s->lock);
			return true;
		}
	if (s->nconn < US_MAX_ACCOUNTS && strlen(cr->api_key) < sizeof(c->key) &&
		strlen(cr->secret) < sizeof(c->secret) &&
		(cr->passphrase == NULL || strlen(cr->passphrase) < sizeof(c->pass)))
	{
		c = &s->conn[s->nconn];
		memset(c, 0, sizeof(*c));
		c->s = s;
		c->account_id = account_id;
		strcpy(c->key, cr->api_key);
		strcpy(c->secret, cr->secret);
		if (cr->passphrase)
		{
			strcpy(c->pass, cr->passphrase);
			c->has_pass = true;
		}
		c->state = US_DOWN;
		s->nconn++;				/* published last: the thread reads up to nconn */
		ok = true;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* Is account_id streamed already? */
bool
us_has_account(UsStream *s, int32_t account_id)
{
	bool		found = false;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nconn && !found; i++)
		found = s->conn[i].account_id == account_id;
	pthread_mutex_unlock(&s->lock);
	return found;
}

/* The exchange's clock minus ours (the router's skew), for signed logins. */
void
us_set_offset(UsStream *s, int64_t offset_ms)
{
	pthread_mutex_lock(&s->lock);
	s->offset_ms = offset_ms;
	pthread_mutex_unlock(&s->lock);
}

/*
 * Take at most max queued items, in arrival order.  Items lost to a
 * full queue come back as one "reconnected" item (a full query pass).
 */
int
us_take(UsStream *s, UsItem *out, int max)
{
	int			n;

	pthread_mutex_lock(&s->lock);
	if (s->wake[0] >= 0)
	{
		char		buf[64];

		while (read(s->wake[0], buf, sizeof(buf)) > 0)
			;
	}
	n = s->qn < max ? s->qn : max;
	if (n > 0)					/* s->q is NULL until the first item: no memcpy from NULL */
	{
		memcpy(out, s->q, sizeof(UsItem) * n);
		memmove(s->q, s->q + n, sizeof(UsItem) * (s->qn - n));
		s->qn -= n;
	}
	if (s->qn > 0 && s->wake[1] >= 0)
		(void) !write(s->wake[1], "", 1);	/* readable while items are left */
	if (s->overflow && n < max && s->qn == 0)
	{
		memset(&out[n], 0, sizeof(UsItem));
		out[n++].reconnected = true;
		s->overflow = false;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* connections up now */
int
us_connected(UsStream *s)
{
	int			n;

	pthread_mutex_lock(&s->lock);
	n = s->up;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Stop the thread, close its connections and wipe the credentials. */
void
us_stop(UsStream *s)
{
	if (s == NULL)
		return;
	s->stop = true;
	if (s->started)
	{
		for (int i = 0; i < 50 && s->ctx == NULL; i++)
			usleep(1000);		/* a context still being created */
		if (s->ctx)
			lws_cancel_service(s->ctx);
		pthread_join(s->thread, NULL);
	}
	for (int i = 0; i < s->nconn; i++)
	{
		free(s->conn[i].rx);
		for (int k = 0; k < s->conn[i].nout; k++)
			free(s->conn[i].out[k]);
	}
	OPENSSL_cleanse(s->conn, sizeof(s->conn));
	free(s->q);
	us_close_wake(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
