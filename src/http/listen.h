/*-------------------------------------------------------------------------
 *
 * src/http/listen.h
 *	  The listening side of the HTTP worker (listen.c), for server.c: the
 *	  two kinds of listener, whether the API one serves TLS, adding a
 *	  listener to the vhost, and the lws callbacks of the listening and
 *	  handoff descriptors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_LISTEN_H
#define ZVT_HTTP_LISTEN_H

#include <libwebsockets.h>

extern char http_listener_api;
extern char http_listener_admin;
extern bool http_api_tls;

extern bool http_listener_add(struct lws_vhost *vh, int port, char *kind);
extern int	http_listener_callback(struct lws *wsi, enum lws_callback_reasons reason,
								   void *user, void *in, size_t len);
extern int	http_handoff_callback(struct lws *wsi, enum lws_callback_reasons reason,
								  void *user, void *in, size_t len);

#endif							/* ZVT_HTTP_LISTEN_H */
