/*
 * test/unit/test_ws_client.c
 *	  ws_client_connect(), the WebSocket connect set-up the feed workers
 *	  and the live private streams share: URLs zvt may not use are refused
 *	  with a reason and never reach lws (http://, plain ws:// to a host
 *	  that is not loopback); a loopback ws:// URL is connected to the
 *	  checked address with the URL's path and its host as Host and Origin,
 *	  seen by a listening socket of the test; a refused port reaches the
 *	  protocol callback as a connection error with the caller's opaque
 *	  data.  Needs no network beyond 127.0.0.1.
 *
 *	  usage: test_ws_client.bin
 */
#define _GNU_SOURCE
#include "feed/ws_client.h"
#include "unit_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int	errors_seen;
static void *opaque_seen;

static int
cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void) user;
	(void) in;
	(void) len;
	if (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR)
	{
		errors_seen++;
		opaque_seen = lws_get_opaque_user_data(wsi);
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"test", cb, 0, 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* a listening socket on 127.0.0.1 at a port the kernel picks */
static int
listener(int *port)
{
	struct sockaddr_in a;
	socklen_t	alen = sizeof(a);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
		getsockname(fd, (struct sockaddr *) &a, &alen) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

int
main(void)
{
	struct lws_context *ctx;
	struct lws *wsi = NULL;
	char		reason[256];
	char		url[128];
	char		req[4096] = "";
	int			lfd,
				port,
				cfd = -1,
				marker,
				marker2;
	size_t		got = 0;

	lws_set_log_level(0, NULL);
	ctx = ws_client_context(protocols, "");
	CHECK(ctx != NULL);
	if (!ctx)
		return unit_summary("ws_client");

	/* refused before lws: no connection, a reason */
	CHECK(ws_client_connect(ctx, "http://127.0.0.1:9/x", &marker, &wsi, reason, sizeof(reason)) == WS_CLIENT_BAD_URL);
	CHECK(strstr(reason, "is not ws or wss") != NULL);
	CHECK(wsi == NULL);
	CHECK(ws_client_connect(ctx, "ws://10.1.2.3:9/x", &marker, &wsi, reason, sizeof(reason)) == WS_CLIENT_BAD_URL);
	CHECK(reason[0] != '\0');
	CHECK(ws_client_connect(ctx, "ws://127.0.0.1@10.1.2.3/x", &marker, &wsi, reason, sizeof(reason)) == WS_CLIENT_BAD_URL);
	CHECK(ws_client_connect(ctx, "not a url", &marker, &wsi, reason, sizeof(reason)) == WS_CLIENT_BAD_URL);
	CHECK(wsi == NULL);

	/* loopback ws://: the upgrade request goes to the checked address */
	lfd = listener(&port);
	CHECK(lfd >= 0);
	snprintf(url, sizeof(url), "ws://localhost:%d/stream?streams=btcusdt@trade", port);
	CHECK(ws_client_connect(ctx, url, &marker, &wsi, reason, sizeof(reason)) == WS_CLIENT_OK);
	CHECK(wsi != NULL);
	for (int i = 0; i < 20000 && !strstr(req, "\r\n\r\n"); i++)
	{
		struct pollfd p = {cfd >= 0 ? cfd : lfd, POLLIN, 0};

		lws_service(ctx, -1);
		if (poll(&p, 1, 1) == 1)
		{
			if (cfd < 0)
				cfd = accept(lfd, NULL, NULL);
			else
			{
				ssize_t		n = recv(cfd, req + got, sizeof(req) - 1 - got, 0);

				if (n <= 0)
					break;
				got += (size_t) n;
				req[got] = '\0';
			}
		}
	}
	CHECK(strncmp(req, "GET /stream?streams=btcusdt@trade HTTP/1.1\r\n", 44) == 0);
	CHECK(strcasestr(req, "\r\nHost: localhost") != NULL);
	CHECK(strcasestr(req, "\r\nOrigin: ") != NULL);
	CHECK(strcasestr(req, "\r\nUpgrade: websocket") != NULL);
	if (cfd >= 0)
		close(cfd);
	close(lfd);

	/* a port nobody listens on: the callback hears it, with our data */
	lfd = listener(&port);
	close(lfd);					/* the port is free again */
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", port);
	wsi = NULL;
	opaque_seen = NULL;
	if (ws_client_connect(ctx, url, &marker2, &wsi, reason, sizeof(reason)) == WS_CLIENT_OK)
		for (int i = 0; i < 200000 && opaque_seen != &marker2; i++)
			lws_service(ctx, -1);
	else
		opaque_seen = &marker2;	/* lws refused at once: also fine */
	CHECK(opaque_seen == &marker2);
	CHECK(errors_seen >= 1);

	lws_context_destroy(ctx);
	return unit_summary("ws_client");
}
