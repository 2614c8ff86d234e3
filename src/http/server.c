/*-------------------------------------------------------------------------
 *
 * src/http/server.c
 *	  The HTTP worker's sockets: a libwebsockets context with the API
 *	  vhost on zvt.http_port and, when set, the admin vhost (/live,
 *	  /ready) on zvt.http_admin_port; reading each request (line,
 *	  headers, body within the limits) and writing its response.
 *
 * libwebsockets (Debian's 4.1) parses HTTP/1.1, keeps connections alive
 * and times out idle and slow clients (zvt.http_idle_timeout).  Its
 * LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE does nothing on Linux in 4.1 (it
 * only skips SO_EXCLUSIVEADDRUSE on Windows), so each vhost listens
 * through a socket of ours opened with SO_REUSEPORT (listen_socket): every
 * worker has its own socket on the same port and the kernel spreads new
 * connections over them.  The socket is adopted into lws as a raw
 * descriptor; when it is readable, listen.c's callback accepts and adopts
 * each connection as HTTP (with TLS on the API vhost when configured).
 * The request line and headers are bounded by HTTP_MAX_HEADER_DATA (431,
 * as warp answers PostgREST's clients; past twice that lws has no room
 * left and closes the connection), the body by zvt.http_max_body (413), the
 * connections per worker by zvt.http_max_connections (lws stops
 * accepting past it).
 *
 * lws decodes the URL (percent escapes, '+' in the query) and ends the
 * path at a ';' with a NUL (put back here); the API layer
 * wants it as sent.  The path and each query fragment are therefore
 * encoded again (reencode): what was an escape that mattered ('&', '=',
 * '%', '#', '+', space, controls, non-ASCII) becomes one again, so the
 * API layer's own decoding gives back what the client meant.
 *
 * lws knows ~100 header names; a header it does not know can be read
 * only by name, so request.headers carries the known ones and those in
 * extra_headers (PostgREST's and common proxies').
 *
 * GET /stream with "Upgrade: websocket" is stream.c's (stream_upgrade
 * hands it the headers; the WebSocket callbacks go to it).
 *
 * The loop is libev's over epoll (Debian's libwebsockets-evlib-ev, a
 * dependency of libwebsockets-dev), a loop of ours that lws joins as a
 * foreign loop: lws's own poll() loop would hand the kernel, and walk,
 * every descriptor on each pass, so 1,000 idle keep-alive connections
 * cost each request as much as the request itself.  Its run_pt would
 * run the loop until broken, so http_server_service runs it once
 * (EVRUN_ONCE) and the worker checks interrupts after each pass; a
 * signal (SIGTERM, SIGHUP) ends epoll_wait with EINTR as it ended poll,
 * and the loop's timer still wakes it at least every HTTP_TICK_MS.  When
 * the plugin cannot be loaded the worker falls back to lws's poll loop
 * (logged).
 *
 * A request is run synchronously in the lws callback that completes it
 * (run.c: one transaction, errors caught there), and the response, head
 * and body, is written with one lws_write; lws buffers what the socket
 * does not take at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ev.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/timestamp.h"

#include "core/zvt_time.h"
#include "http/stream.h"
#include "http/listen.h"
#include "http/transport.h"
#include "zvt.h"

/* the request line and all headers together, bytes */
#define HTTP_MAX_HEADER_DATA 8192
/* lws's header buffer: room to see that a head is too large and say so */
#define HTTP_LWS_HEADER_DATA (2 * HTTP_MAX_HEADER_DATA)
/* the most headers a request may carry into HttpRequest */
#define HTTP_MAX_REQUEST_HEADERS 128
/* the timer that wakes the worker's loop at least this often */
#define HTTP_TICK_MS 100

/* What one connection holds for its current request (lws's per-session data). */
typedef struct HttpSession
{
	const char *method;			/* static string; NULL between requests */
	char	   *path;			/* malloc'd, re-encoded */
	char	   *query;			/* malloc'd, re-encoded */
	char	   *head;			/* malloc'd: the headers as name\0value\0... */
	size_t		head_len;
	HttpHeader	headers[HTTP_MAX_REQUEST_HEADERS];
	int			nheaders;
	char	   *body;			/* malloc'd */
	size_t		body_len;
	size_t		body_cap;
	bool		too_large;		/* the body passed zvt.http_max_body */
	char		peer[64];
	char		version[12];
	StreamClient *stream;		/* after a /stream upgrade (stream.c) */
} HttpSession;

/* Header names lws does not parse into tokens, read by name. */
static const char *const extra_headers[] = {
	"prefer:", "accept-profile:", "content-profile:", "range-unit:",
	"access-control-request-method:", "access-control-request-headers:",
	"x-forwarded-for:", "x-forwarded-proto:", "x-forwarded-host:", "x-real-ip:",
	"x-request-id:", "x-client-info:", "apikey:", "traceparent:",
};

static lws_sorted_usec_list_t tick;
static struct lws_context *tick_ctx = NULL;

/* the epoll loop lws runs in (NULL: lws's own poll loop) */
static struct ev_loop *loop = NULL;

static int	api_callback(struct lws *wsi, enum lws_callback_reasons reason,
						 void *user, void *in, size_t len);
static int	admin_request(struct lws *wsi, const char *uri, size_t len);


static const struct lws_protocols protocols[] = {
	{"http", api_callback, sizeof(HttpSession), 0, 0, NULL, 0},
	{"zvt-listener", http_listener_callback, 0, 0, 0, NULL, 0},
	{"zvt-handoff", http_handoff_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};


/* lws's log lines go to the server log at LOG (errors) only */
static void
lws_log(int level, const char *line)
{
	ereport(LOG, (errmsg_internal("zvt http (libwebsockets): %.*s",
								  (int) strcspn(line, "\n"), line)));
}

/* the loop's timer: fast while /stream clients wait for the ring */
static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	bool		streaming = http_stream_tick();

	lws_sul_schedule(tick_ctx, 0, sul, tick_cb,
					 (streaming ? HTTP_STREAM_TICK_MS : HTTP_TICK_MS) * LWS_US_PER_MS);
}

/* ----------------------------------------------------------------
 *		Start and stop
 * ----------------------------------------------------------------
 */

/*
 * The lws context with its vhosts, or NULL (logged) when a socket could
 * not be opened.
 */
struct lws_context *
http_server_start(void)
{
	struct lws_context_creation_info info;
	struct lws_context_creation_info v;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	void	   *foreign[1];

	lws_set_log_level(LLL_ERR, lws_log);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.max_http_header_data = HTTP_LWS_HEADER_DATA;
	info.max_http_header_pool = 16;
	info.count_threads = 1;
	info.fd_limit_per_thread = zvt_http_max_connections + 8;
	/* libev leaves the signal mask alone: PostgreSQL's handlers stay */
	loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK | EVFLAG_NOENV);
	ctx = NULL;
	if (loop)
	{
		foreign[0] = loop;
		info.foreign_loops = foreign;
		info.options |= LWS_SERVER_OPTION_LIBEV;
		ctx = lws_create_context(&info);
		if (ctx == NULL)
		{
			ev_loop_destroy(loop);
			loop = NULL;
			info.foreign_loops = NULL;
			info.options &= ~LWS_SERVER_OPTION_LIBEV;
		}
	}
	if (ctx == NULL)
	{
		ereport(LOG,
				(errmsg("zvt http worker %d serves through poll(), not epoll",
						http_worker_number),
				 errdetail("libwebsockets could not run in a libev loop."),
				 errhint("Install libwebsockets-evlib-ev: with poll() every idle connection adds to each request's cost.")));
		ctx = lws_create_context(&info);
	}
	if (ctx == NULL)
	{
		ereport(LOG, (errmsg("zvt http worker %d could not create its libwebsockets context",
							 http_worker_number)));
		return NULL;
	}
	memset(&v, 0, sizeof(v));
	v.vhost_name = "zvt";
	v.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	v.protocols = protocols;
	v.keepalive_timeout = zvt_http_idle_timeout;
	v.timeout_secs = zvt_http_idle_timeout;
	http_api_tls = zvt_http_tls_cert[0] && zvt_http_tls_key[0];
	if (http_api_tls)
	{
		v.options |= LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX |
			LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;
		v.ssl_cert_filepath = zvt_http_tls_cert;
		v.ssl_private_key_filepath = zvt_http_tls_key;
	}
	vh = lws_create_vhost(ctx, &v);
	if (vh == NULL)
		ereport(LOG,
				(errmsg("zvt http worker %d could not set up its server", http_worker_number),
				 errhint("Check that zvt.http_tls_cert and zvt.http_tls_key are readable PEM files.")));
	if (vh == NULL || !http_listener_add(vh, zvt_http_port, &http_listener_api) ||
		(zvt_http_admin_port != 0 && !http_listener_add(vh, zvt_http_admin_port, &http_listener_admin)))
	{
		lws_context_destroy(ctx);
		if (loop)
			ev_loop_destroy(loop);
		loop = NULL;
		return NULL;
	}
	http_balance_start(vh);
	memset(&tick, 0, sizeof(tick));
	tick_ctx = ctx;
	lws_sul_schedule(ctx, 0, &tick, tick_cb, HTTP_TICK_MS * LWS_US_PER_MS);
	ereport(LOG, (errmsg("zvt http worker %d listening on %s:%d%s", http_worker_number,
						 zvt_http_listen, zvt_http_port,
						 zvt_http_tls_cert[0] ? " (TLS)" : "")));
	return ctx;
}

void
http_server_stop(struct lws_context *ctx)
{
	lws_sul_cancel(&tick);
	lws_context_destroy(ctx);
	if (loop)
		ev_loop_destroy(loop);
	loop = NULL;
	http_balance_stop();
}

/*
 * Wait for what is ready (sockets, the timer) and serve it, once: the
 * worker's one wait point.
 */
void
http_server_service(struct lws_context *ctx)
{
	if (loop)
		(void) ev_run(loop, EVRUN_ONCE);
	else
		(void) lws_service(ctx, 0);
}

/* ----------------------------------------------------------------
 *		Reading a request
 * ----------------------------------------------------------------
 */

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		elog(FATAL, "zvt http: out of memory");
	return p;
}

static void
session_reset(HttpSession *s)
{
	free(s->path);
	free(s->query);
	free(s->head);
	free(s->body);
	memset(s, 0, sizeof(*s));
}

/*
 * Append src[0..n) to *dst at *len, percent-encoding what must stay
 * encoded for the API layer (see the file head); keep_slash for paths.
 */
static void
reencode(char **dst, size_t *len, size_t *cap, const char *src, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) src[i];
		bool		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr("-._~!$'()*,;:@\"<>[]{}|^`\\", c) != NULL ||
			(c == '/' && keep_slash);

		if (*len + 4 > *cap)
		{
			*cap = *cap * 2 + 64;
			*dst = xrealloc(*dst, *cap);
		}
		if (c == '\0')
			break;
		if (plain)
			(*dst)[(*len)++] = (char) c;
		else
		{
			(*dst)[(*len)++] = '%';
			(*dst)[(*len)++] = hex[c >> 4];
			(*dst)[(*len)++] = hex[c & 15];
		}
	}
	(*dst)[*len] = '\0';
}

/* Append one character as it is. */
static void
append_raw(char **dst, size_t *len, size_t *cap, char c)
{
	if (*len + 2 > *cap)
	{
		*cap = *cap * 2 + 64;
		*dst = xrealloc(*dst, *cap);
	}
	(*dst)[(*len)++] = c;
	(*dst)[*len] = '\0';
}

/* The query: each lws fragment ("name=value", decoded) re-encoded, '&'-joined. */
static char *
read_query(struct lws *wsi)
{
	char	   *q = xrealloc(NULL, 64);
	size_t		len = 0,
				cap = 64;
	char		frag[HTTP_LWS_HEADER_DATA];

	q[0] = '\0';
	for (int i = 0;; i++)
	{
		int			n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
		char	   *eq;

		if (n < 0)
			break;
		if (i > 0)
			append_raw(&q, &len, &cap, '&');
		eq = memchr(frag, '=', n);
		if (eq)
		{
			reencode(&q, &len, &cap, frag, eq - frag, false);
			append_raw(&q, &len, &cap, '=');
			reencode(&q, &len, &cap, eq + 1, n - (eq + 1 - frag), false);
		}
		else
			reencode(&q, &len, &cap, frag, n, false);
	}
	return q;
}

/* Append name\0value\0 to the session's header store. */
static void
head_add(HttpSession *s, size_t *cap, const char *name, size_t nlen, const char *value, int vlen)
{
	if (s->nheaders >= HTTP_MAX_REQUEST_HEADERS)
		return;
	if (s->head_len + nlen + vlen + 2 > *cap)
	{
		*cap = (*cap + nlen + vlen + 2) * 2;
		s->head = xrealloc(s->head, *cap);
	}
	for (size_t i = 0; i < nlen; i++)
		s->head[s->head_len + i] = (char) tolower((unsigned char) name[i]);
	s->head[s->head_len + nlen] = '\0';
	s->head_len += nlen + 1;
	memcpy(s->head + s->head_len, value, vlen);
	s->head[s->head_len + vlen] = '\0';
	s->head_len += vlen + 1;
	s->nheaders++;
}

/* Copy every header lws parsed, then point HttpHeaders into the copy. */
static void
read_headers(struct lws *wsi, HttpSession *s)
{
	size_t		cap = 1024;
	char		value[HTTP_LWS_HEADER_DATA];
	const char *p;

	s->head = xrealloc(NULL, cap);
	for (int t = 0; t < WSI_TOKEN_COUNT; t++)
	{
		const char *name = (const char *) lws_token_to_string((enum lws_token_indexes) t);
		size_t		nlen;
		int			n;

		if (name == NULL || name[0] == ':' || strchr(name, ' ') ||
			t == WSI_TOKEN_HTTP_URI_ARGS || lws_hdr_total_length(wsi, t) <= 0)
			continue;
		nlen = strlen(name);
		if (nlen < 2 || name[nlen - 1] != ':')
			continue;
		n = lws_hdr_copy(wsi, value, sizeof(value), t);
		if (n >= 0)
			head_add(s, &cap, name, nlen - 1, value, n);
	}
	for (int i = 0; i < lengthof(extra_headers); i++)
	{
		int			n = lws_hdr_custom_copy(wsi, value, sizeof(value), extra_headers[i],
											(int) strlen(extra_headers[i]));

		if (n >= 0)
			head_add(s, &cap, extra_headers[i], strlen(extra_headers[i]) - 1, value, n);
	}
	p = s->head;
	for (int i = 0; i < s->nheaders; i++)
	{
		s->headers[i].name = (char *) p;
		p += strlen(p) + 1;
		s->headers[i].value = (char *) p;
		p += strlen(p) + 1;
	}
}

static const char *
read_method(struct lws *wsi)
{
	static const struct
	{
		enum lws_token_indexes token;
		const char *method;
	}			methods[] = {
		{WSI_TOKEN_GET_URI, "GET"}, {WSI_TOKEN_POST_URI, "POST"},
		{WSI_TOKEN_PATCH_URI, "PATCH"}, {WSI_TOKEN_PUT_URI, "PUT"},
		{WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
		{WSI_TOKEN_HEAD_URI, "HEAD"},
	};

	for (int i = 0; i < lengthof(methods); i++)
		if (lws_hdr_total_length(wsi, methods[i].token) > 0)
			return methods[i].method;
	return NULL;
}

/* ----------------------------------------------------------------
 *		Writing a response
 * ----------------------------------------------------------------
 */

/* Write resp in one go, not ending the transaction; -1 on failure. */
static int
respond_write(struct lws *wsi, const HttpResponse *resp, bool head)
{
	size_t		hsize = 1024 + resp->nheaders * 16;
	size_t		blen = head ? 0 : resp->body_len;
	unsigned char *buf;
	unsigned char *start;
	unsigned char *p;
	unsigned char *end;
	char		clen[24];
	int			rc = 0;

	for (int i = 0; i < resp->nheaders; i++)
		hsize += strlen(resp->headers[i].name) + strlen(resp->headers[i].value) + 4;
	buf = xrealloc(NULL, LWS_PRE + hsize + blen);
	start = p = buf + LWS_PRE;
	end = start + hsize;
	snprintf(clen, sizeof(clen), "%zu", resp->body_len);
	if (lws_add_http_header_status(wsi, resp->status | LWSAHH_FLAG_NO_SERVER_NAME, &p, end))
		rc = -1;
	for (int i = 0; rc == 0 && i < resp->nheaders; i++)
	{
		char		name[256];

		snprintf(name, sizeof(name), "%s:", resp->headers[i].name);
		if (lws_add_http_header_by_name(wsi, (unsigned char *) name,
										(unsigned char *) resp->headers[i].value,
										(int) strlen(resp->headers[i].value), &p, end))
			rc = -1;
	}
	if (rc == 0 &&
		(lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
									  (unsigned char *) clen, (int) strlen(clen), &p, end) ||
		 lws_finalize_http_header(wsi, &p, end)))
		rc = -1;
	if (rc == 0)
	{
		if (blen)
			memcpy(p, resp->body, blen);
		if (lws_write(wsi, start, (p - start) + blen, LWS_WRITE_HTTP_HEADERS) < 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

/* Write resp in one go; -1 when the connection must close. */
static int
respond(struct lws *wsi, const HttpResponse *resp, bool head)
{
	int			rc = respond_write(wsi, resp, head);

	if (rc == 0 && lws_http_transaction_completed(wsi))
		rc = -1;
	return rc;
}

/* Answer with a PostgREST-shaped error without running anything. */
static int
respond_error(struct lws *wsi, int status, const char *message, const char *hint)
{
	HttpResponse resp;
	int			rc;

	memset(&resp, 0, sizeof(resp));
	http_response_error(&resp, status, NULL, message, NULL, hint);
	http_stats_end(read_method(wsi), status, ZVT_TS_TO_UNIX(GetCurrentTimestamp()), false);
	rc = respond(wsi, &resp, false);
	http_response_free(&resp);
	return rc;
}

/* ----------------------------------------------------------------
 *		The API vhost
 * ----------------------------------------------------------------
 */

/* Run the complete request in s and answer it. */
static int
serve(struct lws *wsi, HttpSession *s)
{
	HttpRequest req;
	HttpResponse resp;
	HttpContext cx;
	int			rc;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = s->method;
	req.path = s->path;
	req.query = s->query;
	req.headers = s->headers;
	req.nheaders = s->nheaders;
	req.body = s->body;
	req.body_len = s->body_len;
	cx.peer = s->peer;
	cx.version = s->version;
	cx.start_us = ZVT_TS_TO_UNIX(GetCurrentTimestamp());
	cx.head = strcmp(s->method, "HEAD") == 0;

	http_stats_begin();
	if (!http_ui_route(&req, &resp, &cx))	/* the dashboard's files (ui.c) */
		http_exec(&req, &resp, &cx);
	http_stats_end(req.method, resp.status, cx.start_us, true);
	/*
	 * Forget the request before answering: completing the transaction
	 * inside respond may make lws free s (the protocol is bound afresh).
	 */
	session_reset(s);
	rc = respond(wsi, &resp, cx.head);
	http_response_free(&resp);
	return rc;
}

static int
api_request(struct lws *wsi, HttpSession *s, const char *uri, size_t len)
{
	size_t		cap = 64,
				plen = 0;
	char		cl[32];
	long long	content_length = -1;

	session_reset(s);
	s->method = read_method(wsi);
	if (s->method == NULL)
		return respond_error(wsi, 405, "method not allowed", NULL);	/* s is empty */
	s->path = xrealloc(NULL, cap);
	/* lws ends the path at a ';' with a NUL and keeps the rest: put it back */
	for (const char *p = uri, *end = uri + len; p < end; p += strlen(p) + 1)
	{
		if (p > uri)
			append_raw(&s->path, &plen, &cap, ';');
		reencode(&s->path, &plen, &cap, p, strnlen(p, end - p), true);
	}
	s->query = read_query(wsi);
	read_headers(wsi, s);
	if (s->head_len + plen + strlen(s->query) > HTTP_MAX_HEADER_DATA)
	{
		session_reset(s);
		respond_error(wsi, 431, "request header fields too large",
					  "Send at most 8 kB of request line and headers.");
		return -1;
	}
	lws_get_peer_simple(wsi, s->peer, sizeof(s->peer));
	snprintf(s->version, sizeof(s->version), "%s",
			 lws_hdr_total_length(wsi, WSI_TOKEN_HTTP1_0) > 0 ? "HTTP/1.0" : "HTTP/1.1");

	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
		content_length = strtoll(cl, NULL, 10);
	if (content_length > (long long) zvt_http_max_body)
	{
		session_reset(s);
		respond_error(wsi, 413, "request body too large",
					  "Send at most zvt.http_max_body bytes.");
		return -1;				/* the body is not read: close */
	}
	/* a body follows: wait for LWS_CALLBACK_HTTP_BODY_COMPLETION */
	if (content_length > 0 ||
		lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		return 0;
	return serve(wsi, s);
}

/*
 * A request to upgrade to a WebSocket: stream.c decides (0: upgrade, 1:
 * answered in resp, -1: hang up); lws has no session data yet.
 */
static int
stream_upgrade(struct lws *wsi, const char *up)
{
	HttpSession *s;
	HttpResponse resp;
	int			rc;

	if (up == NULL || pg_strcasecmp(up, "websocket") != 0)
		return 0;				/* h2c: lws's own business */
	s = xrealloc(NULL, sizeof(HttpSession));
	memset(s, 0, sizeof(HttpSession));
	memset(&resp, 0, sizeof(resp));
	s->query = read_query(wsi);
	read_headers(wsi, s);
	rc = http_stream_upgrade(wsi, lws_get_opaque_user_data(wsi) == &http_listener_admin,
							 s->query, s->headers, s->nheaders, &resp);
	session_reset(s);
	free(s);
	if (rc == 1 && respond_write(wsi, &resp, false) < 0)
		rc = -1;
	http_response_free(&resp);
	return rc;
}

static int
api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	HttpSession *s = (HttpSession *) user;

	switch (reason)
	{
		case LWS_CALLBACK_HTTP:
			if (lws_get_opaque_user_data(wsi) == &http_listener_admin)
				return admin_request(wsi, (const char *) in, len);
			return api_request(wsi, s, (const char *) in, len);
		case LWS_CALLBACK_HTTP_BODY:
			if (s->method == NULL || s->too_large)
				return 0;
			if (s->body_len + len > (size_t) zvt_http_max_body)
			{
				s->too_large = true;
				return 0;
			}
			if (s->body_len + len > s->body_cap)
			{
				s->body_cap = Max(s->body_cap * 2, s->body_len + len);
				s->body = xrealloc(s->body, s->body_cap);
			}
			memcpy(s->body + s->body_len, in, len);
			s->body_len += len;
			return 0;
		case LWS_CALLBACK_HTTP_BODY_COMPLETION:
			if (s->method == NULL)
				return -1;
			if (s->too_large)
			{
				session_reset(s);
				respond_error(wsi, 413, "request body too large",
							  "Send at most zvt.http_max_body bytes.");
				return -1;
			}
			return serve(wsi, s);
		case LWS_CALLBACK_CLOSED_HTTP:
		case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
			if (s)
				session_reset(s);
			return 0;

			/* the /stream WebSocket (stream.c) */
		case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
			return stream_upgrade(wsi, (const char *) in);
		case LWS_CALLBACK_ESTABLISHED:
		case LWS_CALLBACK_RECEIVE:
		case LWS_CALLBACK_RECEIVE_PONG:
		case LWS_CALLBACK_SERVER_WRITEABLE:
		case LWS_CALLBACK_CLOSED:
			return s ? http_stream_callback(wsi, reason, &s->stream, in, len) : -1;
		case LWS_CALLBACK_WSI_CREATE:
		case LWS_CALLBACK_WSI_DESTROY:
			/* every connection (wsi) this worker holds, for balance.c */
			http_balance_count(reason == LWS_CALLBACK_WSI_CREATE ? 1 : -1);
			return 0;
		default:
			return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ----------------------------------------------------------------
 *		The admin vhost: /live and /ready, as PostgREST's admin server
 * ----------------------------------------------------------------
 */

/* A request on the admin port: no body, no database but /ready's check. */
static int
admin_request(struct lws *wsi, const char *uri, size_t len)
{
	HttpResponse resp;
	int			rc;

	memset(&resp, 0, sizeof(resp));
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
		lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
		resp.status = 405;
	else if (len == 5 && memcmp(uri, "/live", 5) == 0)
		resp.status = 200;		/* this worker answers: it lives */
	else if (len == 6 && memcmp(uri, "/ready", 6) == 0)
		resp.status = http_ready() ? 200 : 503;
	else
		resp.status = 404;
	rc = respond(wsi, &resp, false);
	http_response_free(&resp);
	return rc;
}
