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
 * Decide whether the upgrade request req may become a stream client
 * (token, role, ring); true and the client held for wsi until
 * http_stream_established, else false and resp holds the refusal.
 */
extern bool http_stream_accept(struct lws *wsi, HttpRequest *req, HttpResponse *resp);

/* The client http_stream_accept held for wsi, now connected; NULL if none. */
extern StreamClient *http_stream_established(struct lws *wsi);

/* A message fragment arrived; -1 closes the connection. */
extern int	http_stream_receive(StreamClient *c, const char *in, size_t len);

/* A pong arrived (any frame counts as life). */
extern void http_stream_alive(StreamClient *c);

/* The socket can take more; -1 closes the connection. */
extern int	http_stream_writable(StreamClient *c);

/* The connection is gone: free the client. */
extern void http_stream_closed(StreamClient *c);

/*
 * Deliver what the ring holds, tickers, heartbeats and account refreshes;
 * true while this worker has stream clients (tick fast).
 */
extern bool http_stream_tick(void);

#endif							/* ZVT_HTTP_STREAM_H */
