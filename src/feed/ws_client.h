/*-------------------------------------------------------------------------
 *
 * src/feed/ws_client.h
 *	  libwebsockets client connections to an exchange, shared by the feed
 *	  workers (connection.c) and the live private streams
 *	  (src/live/userstream.c): the client context, the connect set-up
 *	  from a checked ws:// or wss:// URL, a text frame out.  Plain C
 *	  (libwebsockets, no PostgreSQL): the private streams call it from a
 *	  thread of their own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_WS_CLIENT_H
#define FEED_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

/* ws_client_connect() results */
#define WS_CLIENT_OK		0
#define WS_CLIENT_BAD_URL	(-1)	/* not wss://, nor ws:// to loopback: reason says why */
#define WS_CLIENT_FAILED	(-2)	/* lws refused at once (its callback saw no error) */

/* in ws_client.c */
extern struct lws_context *ws_client_context(const struct lws_protocols *protocols,
											 const char *ca_file);
extern int	ws_client_connect(struct lws_context *ctx, const char *url, void *opaque,
							  struct lws **pwsi, char *reason, size_t reasonlen);
extern bool ws_client_send_text(struct lws *wsi, const char *text, bool cleanse);

#endif							/* FEED_WS_CLIENT_H */
