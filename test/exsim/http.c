/*
 * test/exsim/http.c
 *	  zvt-exsim's HTTP side: a request's method, path, arguments and body,
 *	  its dispatch (admin, faults, the exchange's private then public
 *	  endpoints) and its one answer; what lws cannot read (chunked bodies)
 *	  or the exchange would not take (bodies over 1 MB, unknown paths) is
 *	  refused in the exchange's own error format.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "server.h"
#include "private.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

/* Send c's body, all of it, and end the transaction (or the connection). */
int
http_write_body(struct lws *wsi, ExConn *c)
{
	unsigned char *frame = malloc(LWS_PRE + c->body.len + 1);
	int			rc;

	memcpy(frame + LWS_PRE, c->body.data ? c->body.data : "", c->body.len);
	rc = lws_write(wsi, frame + LWS_PRE, c->body.len, LWS_WRITE_HTTP_FINAL);
	free(frame);
	buf_free(&c->body);
	buf_free(&c->req_body);
	if (rc < 0 || c->close_after)
		return -1;
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/*
 * Send the head of c's answer; the body follows on the next writeable
 * callback, or at once when now (see LWS_CALLBACK_HTTP_BODY_COMPLETION).
 */
static int
http_respond(struct lws *wsi, ExConn *c, bool now)
{
	unsigned char hdr[LWS_PRE + 1024];
	unsigned char *start = hdr + LWS_PRE,
			   *p = start,
			   *end = hdr + sizeof(hdr) - 1;
	char		ra[16];

	if (lws_add_http_common_headers(wsi, (unsigned int) c->status, "application/json",
									c->body.len + (c->partial ? 1 : 0), &p, end))
		return -1;
	if (c->retry_after > 0)
	{
		snprintf(ra, sizeof(ra), "%d", c->retry_after);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *) "Retry-After:",
										(const unsigned char *) ra, (int) strlen(ra), &p, end))
			return -1;
	}
	if (c->close_after &&
		lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *) "close",
									 5, &p, end))
		return -1;
	if (c->used_weight > 0)
	{
		snprintf(ra, sizeof(ra), "%d", c->used_weight);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *) "X-MBX-USED-WEIGHT-1M:",
										(const unsigned char *) ra, (int) strlen(ra), &p, end))
			return -1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	c->body_sent = 0;
	if (now)
		return http_write_body(wsi, c);
	lws_callback_on_writable(wsi);
	return 0;
}

/* All query fragments joined with '&'. */
void
http_args(struct lws *wsi, char *out, size_t outlen)
{
	size_t		o = 0;
	char		frag[512];

	out[0] = '\0';
	for (int i = 0; i < 64; i++)
	{
		int			n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n <= 0)
			break;
		if (o + (size_t) n + 2 >= outlen)
			break;
		if (o > 0)
			out[o++] = '&';
		memcpy(out + o, frag, (size_t) n);
		o += (size_t) n;
		out[o] = '\0';
	}
}

/*
 * An error in the exchange's own format (its adapter's http_error) for a
 * request its API does not take: 404 for a path none of its methods has,
 * 411 for a chunked body, 413 for a body over BODY_MAX.
 */
static void
http_error_body(ExConn *c, Exchange *ex, int status)
{
	const char *msg = status == 413 ? "Request body too large." :
		status == 411 ? "Length required: a request body needs a Content-Length." :
		"Not found.";

	buf_reset(&c->body);
	if (ex && ex->ad->http_error)
		buf_printf(&c->body, ex->ad->http_error, msg);
	else
		buf_printf(&c->body, "{\"error\":\"%s\"}", msg);
	c->status = status;
}

static int
http_refuse(struct lws *wsi, ExConn *c, Exchange *ex, int status, bool now)
{
	http_error_body(c, ex, status);
	return http_respond(wsi, c, now);
}

/*
 * Answer the request c holds: the faults first, then the exchange's
 * private (signed) endpoints, then its public ones (GET only).
 */
static int
http_dispatch(struct lws *wsi, ExConn *c, Exchange *ex, bool now)
{
	const char *path = c->req_path;
	const char *args = c->req_args;

	if (!ex)
		c->status = admin_request(c, path, args);
	else if (ex->faults.rest_429 > 0 && ex->faults.rest_429_after <= 0)
	{
		ex->faults.rest_429--;
		c->retry_after = 1;
		c->status = ex->ad->rest(ex, c, "/__429", args);
	}
	else if (ex->faults.rest_5xx > 0)
	{
		ex->faults.rest_5xx--;
		buf_reset(&c->body);
		buf_add(&c->body, "{\"error\":\"service unavailable\"}", 31);
		c->status = 503;
	}
	else if (ex->faults.rest_partial > 0 || priv_hold_take(ex, path, args))
	{
		/* 4 MB of JSON whitespace, and the last byte never comes */
		static char pad[65536];

		if (ex->faults.rest_partial > 0)
			ex->faults.rest_partial--;
		memset(pad, ' ', sizeof(pad));
		buf_reset(&c->body);
		for (int i = 0; i < 64; i++)
			buf_add(&c->body, pad, sizeof(pad));
		c->partial = true;
		c->status = 200;
		/* it keeps its connection, even after a body: the client must time out */
		c->close_after = false;
		now = false;
	}
	else
	{
		PrivRequest r = {wsi, c->req_method, path, args, c->req_body.data ? c->req_body.data : ""};

		if (ex->faults.rest_429_after > 0)
			ex->faults.rest_429_after--;
		buf_add(&c->req_body, "", 1);	/* NUL-terminate the body */
		r.body = c->req_body.data;
		c->status = ex->ad->private_rest ? ex->ad->private_rest(ex, c, &r) : 0;
		if (c->status == 0 && strcmp(c->req_method, "GET") != 0)
			http_error_body(c, ex, 404);
		else if (c->status == 0)
			c->status = ex->ad->rest(ex, c, path, args);
		if (c->drop_reply)
			return -1;			/* the exchange acted; its answer is lost */
	}
	return http_respond(wsi, c, now);
}

static const char *
http_method(struct lws *wsi)
{
	static const struct
	{
		enum lws_token_indexes tok;
		const char *name;
	}			methods[] = {
		{WSI_TOKEN_POST_URI, "POST"},
		{WSI_TOKEN_PUT_URI, "PUT"},
		{WSI_TOKEN_DELETE_URI, "DELETE"},
		{WSI_TOKEN_PATCH_URI, "PATCH"},
		{WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
			return methods[i].name;
	return "GET";
}

/*
 * A new HTTP request (any method): answered at once when it has no body,
 * else once its Content-Length bytes are in (LWS_CALLBACK_HTTP_BODY_COMPLETION),
 * so that a request is answered exactly once.  lws reads no chunked body
 * (a GET's or DELETE's chunks as the next request, a POST's without an
 * end), so Transfer-Encoding is refused with 411 and the connection
 * closed; a body over BODY_MAX is read to its end, dropped, and refused
 * with 413.
 */
int
http_request(struct lws *wsi, ExConn *c, Exchange *ex, const char *uri)
{
	char		cl[24] = "";
	long long	len;

	memset(c, 0, sizeof(*c));
	snprintf(c->req_path, sizeof(c->req_path), "%s", uri);
	http_args(wsi, c->req_args, sizeof(c->req_args));
	snprintf(c->req_method, sizeof(c->req_method), "%s", http_method(wsi));
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
	{
		c->close_after = true;
		return http_refuse(wsi, c, ex, 411, false);
	}
	lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
	len = strtoll(cl, NULL, 10);
	if (len > 0)
	{
		c->await_body = true;
		if (len > BODY_MAX)
			c->refuse = 413;
		return 0;
	}
	return http_dispatch(wsi, c, ex, false);
}

/* A piece of the body of c's request (LWS_CALLBACK_HTTP_BODY). */
void
http_body(ExConn *c, const char *in, size_t len)
{
	/* a body nobody waits for (a dispatched request's) is dropped */
	if (!c->await_body || c->refuse || len == 0)
		return;
	if (c->req_body.len + len > BODY_MAX)
	{
		c->refuse = 413;
		buf_free(&c->req_body);
		return;
	}
	buf_add(&c->req_body, in, len);
}

/* The body of c's request is in (LWS_CALLBACK_HTTP_BODY_COMPLETION). */
int
http_body_complete(struct lws *wsi, ExConn *c, Exchange *ex)
{
	if (!c->await_body)
		return 0;
	c->await_body = false;

	/*
	 * Answer now and close: until the transaction ends lws stays in its
	 * body state and, with a pipelined request already read, calls this
	 * again and again without servicing anything else; ended here, it
	 * loops on that request the same way (lws 4.1).  A client sends what
	 * follows on a new connection.  (A reply that never ends, the
	 * rest_partial and hold faults, is the exception: http_dispatch.)
	 */
	c->close_after = true;
	if (c->refuse)
		return http_refuse(wsi, c, ex, c->refuse, true);
	return http_dispatch(wsi, c, ex, true);
}
