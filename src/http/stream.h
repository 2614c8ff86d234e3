/*-------------------------------------------------------------------------
 *
 * src/http/stream.h
 *	  The /stream WebSocket as the socket loop (server.c) drives it: the
 *	  upgrade's check, each connection's callbacks and the worker's tick
 *	  (stream.c, stream_feed.c).  Includes postgres.h's world.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_STREAM_H
#define ZVT_HTTP_STREAM_H

#include "http/request.h"

struct lws;
typedef struct StreamClient StreamClient;

/* the path served */
#define HTTP_STREAM_PATH "/stream"
/* how often the worker reads the ring while it has stream clients, ms */
#define HTTP_STREAM_TICK_MS 2

/* in stream.c */

/*
 * A request to upgrade to a WebSocket (on the admin port when admin):
 * only GET /stream on the API port, without a subprotocol, with a token
 * and role that may connect.  Returns 0 when lws may upgrade (the client
 * is held for wsi until LWS_CALLBACK_ESTABLISHED), 1 when resp holds the
 * answer (401, 404...), -1 to hang up.
 */
extern int	http_stream_upgrade(struct lws *wsi, bool admin, const char *query,
								const HttpHeader *headers, int nheaders, HttpResponse *resp);

/*
 * A WebSocket callback of the connection whose client is *client (NULL
 * until established, NULL again once closed); -1 closes it.
 */
extern int	http_stream_callback(struct lws *wsi, int reason, StreamClient **client,
								 void *in, size_t len);

/*
 * Deliver what the ring holds, tickers, heartbeats and account refreshes;
 * true while this worker has stream clients (tick fast).
 */
extern bool http_stream_tick(void);

#endif							/* ZVT_HTTP_STREAM_H */
