/*
 * test/exsim/server.h
 *	  What the files of zvt-exsim's server (server.c, conn.c, http.c,
 *	  admin.c) call of each other; the adapters see exsim.h only.
 */
#ifndef EXSIM_SERVER_H
#define EXSIM_SERVER_H

#include <libwebsockets.h>

#include "exsim.h"

#define BODY_MAX		(1024 * 1024)	/* bytes of a request body */

/* conn.c */
extern int	conn_writeable(ExConn *c);
extern void conn_free_queue(ExConn *c);

/* http.c */
extern void http_args(struct lws *wsi, char *out, size_t outlen);
extern int	http_request(struct lws *wsi, ExConn *c, Exchange *ex, const char *uri);
extern void http_body(ExConn *c, const char *in, size_t len);
extern int	http_body_complete(struct lws *wsi, ExConn *c, Exchange *ex);
extern int	http_write_body(struct lws *wsi, ExConn *c);

/* admin.c */
extern int	admin_request(ExConn *c, const char *path, const char *args);

#endif
