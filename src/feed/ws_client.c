/*-------------------------------------------------------------------------
 *
 * src/feed/ws_client.c
 *	  The libwebsockets client side that the feed workers and the live
 *	  private streams share: a client context (certificates from
 *	  zvt.ca_file, else the system's), a connection to a URL that
 *	  feed_url_check() allows, and one text frame written out.
 *
 * A connection goes to the numeric loopback address the URL's host
 * resolved to when it is plain text (not to the name again: see
 * url_check.c), to the host itself with TLS (verified by lws against the
 * context's CAs), with the host as Host and Origin; its opaque user data
 * is the caller's, and *pwsi is set by lws and cleared when it closes.
 * Plain C: no PostgreSQL header.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/ws_client.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/url_check.h"

/* A client-only context serving protocols; NULL when lws cannot make one. */
struct lws_context *
ws_client_context(const struct lws_protocols *protocols, const char *ca_file)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (ca_file && ca_file[0])
		info.client_ssl_ca_filepath = ca_file;
	return lws_create_context(&info);
}

/*
 * Start connecting to url (ws:// or wss://, as feed_url_check allows).
 * WS_CLIENT_OK: under way, the protocol's callback hears the rest;
 * otherwise reason says why not.
 */
int
ws_client_connect(struct lws_context *ctx, const char *url, void *opaque,
				  struct lws **pwsi, char *reason, size_t reasonlen)
{
	struct lws_client_connect_info cc;
	FeedUrl		u;

	if (feed_url_check(url, &u, reason, reasonlen) != FEED_URL_OK)
		return WS_CLIENT_BAD_URL;
	if (strcmp(u.scheme, "ws") != 0 && strcmp(u.scheme, "wss") != 0)
	{
		snprintf(reason, reasonlen, "scheme \"%s\" is not ws or wss", u.scheme);
		return WS_CLIENT_BAD_URL;
	}
	memset(&cc, 0, sizeof(cc));
	cc.context = ctx;
	/* plain text: to the address that was checked, not to the name again */
	cc.address = u.tls ? u.host : u.address;
	cc.port = u.port;
	cc.path = u.path;
	cc.host = u.host;
	cc.origin = u.host;
	cc.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
	cc.opaque_user_data = opaque;
	cc.pwsi = pwsi;
	if (!lws_client_connect_via_info(&cc))
	{
		snprintf(reason, reasonlen, "connect failed");
		return WS_CLIENT_FAILED;
	}
	return WS_CLIENT_OK;
}

/*
 * Write text as one text frame (from the writeable callback).  With
 * cleanse, the copy made for lws is wiped before it is freed (a login
 * carrying a signature).  False when out of memory: nothing was written,
 * ask for the writeable callback again.  (A failed write closes the
 * connection: its callback hears of it.)
 */
bool
ws_client_send_text(struct lws *wsi, const char *text, bool cleanse)
{
	size_t		n = strlen(text);
	unsigned char *buf = malloc(LWS_PRE + n);

	if (buf == NULL)
		return false;
	memcpy(buf + LWS_PRE, text, n);
	(void) lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
	if (cleanse)
		OPENSSL_cleanse(buf, LWS_PRE + n);
	free(buf);
	return true;
}
