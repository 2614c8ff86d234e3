/*-------------------------------------------------------------------------
 *
 * src/http/listen.c
 *	  The HTTP worker's listening sockets and accepted connections: a
 *	  socket of ours with SO_REUSEPORT per port (libwebsockets 4.1 cannot
 *	  share a port on Linux), watched by lws as a raw descriptor; what it
 *	  accepts is adopted into the vhost as HTTP (TLS on the API port when
 *	  configured), here or, for the API, in the worker holding fewer
 *	  connections (balance.c).  server.c makes the context and vhosts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/listen.h"
#include "http/transport.h"
#include "zvt.h"

/* the listen backlog of each worker's socket */
#define HTTP_BACKLOG 1024

/*
 * What a listening socket serves, kept as its lws opaque data and copied
 * onto each connection it accepts: one vhost serves both, and lws would
 * pick a vhost by Host header, so the connection carries its kind.
 */
char		http_listener_api;
char		http_listener_admin;

/* whether the API listener serves TLS */
bool		http_api_tls = false;

/*
 * A listening socket on zvt.http_listen:port with SO_REUSEPORT, so that
 * every worker has its own on the same port; PGINVALID_SOCKET (logged)
 * when it cannot be opened.
 */
static pgsocket
listen_socket(int port)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	char		service[16];
	int			one = 1;
	int			rc;
	pgsocket	s = PGINVALID_SOCKET;

	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	rc = getaddrinfo(zvt_http_listen, service, &hints, &res);
	if (rc != 0)
	{
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt http could not use zvt.http_listen \"%s\": %s",
						zvt_http_listen, gai_strerror(rc))));
		return PGINVALID_SOCKET;
	}
	s = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == PGINVALID_SOCKET ||
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
		bind(s, res->ai_addr, res->ai_addrlen) < 0 ||
		listen(s, HTTP_BACKLOG) < 0)
	{
		int			save = errno;

		if (s != PGINVALID_SOCKET)
			close(s);
		errno = save;
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("zvt http worker %d could not listen on %s:%d: %m",
						http_worker_number, zvt_http_listen, port),
				 errhint("Set a free port; zvt tries again every 5 s.")));
		s = PGINVALID_SOCKET;
	}
	freeaddrinfo(res);
	return s;
}

/*
 * Listen on port through a socket of ours (listen_socket), adopted into
 * the vhost as a raw descriptor: http_listener_callback accepts from it.
 */
bool
http_listener_add(struct lws_vhost *vh, int port, char *kind)
{
	lws_sock_file_fd_type fd;
	struct lws *wsi;

	fd.filefd = listen_socket(port);
	if (fd.filefd == PGINVALID_SOCKET)
		return false;
	wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "zvt-listener", NULL);
	if (wsi == NULL)
	{
		ereport(LOG, (errmsg("zvt http worker %d could not watch its listening socket",
							 http_worker_number)));
		return false;
	}
	lws_set_opaque_user_data(wsi, kind);
	return true;
}

/* Serve accepted connection c in vh as from a listener of kind. */
static void
adopt(struct lws_vhost *vh, int c, void *kind)
{
	lws_sock_file_fd_type fd;
	bool		tls = kind == &http_listener_api && http_api_tls;
	int			one = 1;
	struct lws *conn;

	/* a response lws writes in parts must not wait for a delayed ACK */
	(void) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fd.sockfd = c;
	/* on failure (no descriptor left) lws closes c */
	conn = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP |
									  (tls ? LWS_ADOPT_ALLOW_SSL : 0),
									  fd, NULL, NULL);
	if (conn)
		lws_set_opaque_user_data(conn, kind);
}

/* Serve an API connection another worker handed over (balance.c). */
void
http_server_adopt(struct lws_vhost *vh, int c)
{
	adopt(vh, c, &http_listener_api);
}

/*
 * Accept what is waiting on a listening socket; lws serves each
 * connection, here or, for the API, in a worker holding fewer
 * (balance.c).
 */
int
http_listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
				  void *in, size_t len)
{
	void	   *kind = lws_get_opaque_user_data(wsi);

	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	for (int i = 0; i < 64; i++)
	{
		int			c = accept4(lws_get_socket_fd(wsi), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0)
			break;
		if (kind == &http_listener_api && http_balance_pass(c))
			continue;
		adopt(lws_get_vhost(wsi), c, kind);
	}
	return 0;
}

/* The handoff socket (balance.c) has descriptors waiting. */
int
http_handoff_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
				 void *in, size_t len)
{
	if (reason == LWS_CALLBACK_RAW_RX_FILE)
		http_balance_receive();
	return 0;
}
