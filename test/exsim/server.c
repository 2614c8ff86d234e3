/*
 * test/exsim/server.c
 *	  The libwebsockets side of zvt-exsim: one vhost per exchange and the
 *	  admin vhost, the connection callback (WebSocket and HTTP), the
 *	  market timer and the startup.
 *
 * The callback hands WebSocket traffic to the exchange's adapter (or the
 * private streams, priv_stream.c) and HTTP to http.c; the outgoing queues
 * and faults are conn.c's.  The market timer (every 5 ms of real time)
 * generates the trades due at the configured rate, or, at rate 0, as many
 * as keep the subscribers' queues full, and lets each adapter do its
 * periodic pushes.  The other files of the server: format.c (buffers,
 * formats, clocks), recent.c (kept trades, klines, books), record.c,
 * admin.c.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "private.h"
#include "server.h"

#include <libwebsockets.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define HIGH_WATER		16384	/* rate 0: keep this many frames queued */
#define TICK_MS			5

Sim			sim;

static struct lws_context *context;
static lws_sorted_usec_list_t tick_sul;
static volatile int interrupted;
static long trades_total;
static struct lws_vhost *admin_vhost;

/* ------------------------------------------------------------------ */
/* the lws callback                                                   */
/* ------------------------------------------------------------------ */

static void
conn_unlink(ExConn *c)
{
	if (!c->ex)
		return;
	for (ExConn **pp = &c->ex->conns; *pp; pp = &(*pp)->next)
		if (*pp == c)
		{
			*pp = c->next;
			break;
		}
}

static int
callback_exsim(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			   void *in, size_t len)
{
	ExConn	   *c = (ExConn *) user;
	struct lws_vhost *vh = lws_get_vhost(wsi);
	Exchange   *ex = vh && vh != admin_vhost ? (Exchange *) lws_get_vhost_user(vh) : NULL;
	char		path[256];
	char		args[2048];

	switch (reason)
	{
		case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
			/* on the listening socket's wsi: its vhost is the exchange's */
			if (ex)
				ex->tcp_accepted++;
			return 0;

		case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
			{
				ExConn		probe;

				if (!ex || lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
					return 1;
				http_args(wsi, args, sizeof(args));
				memset(&probe, 0, sizeof(probe));
				probe.ex = ex;
				if (pstream_refuse(ex, path))
					return 1;
				if (pstream_accept(ex, &probe, path))
					return 0;	/* a private stream (priv_stream.c) */
				return ex->ad->ws_accept(ex, &probe, path, args) ? 0 : 1;
			}

		case LWS_CALLBACK_ESTABLISHED:
			memset(c, 0, sizeof(*c));
			c->ex = ex;
			if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
				return -1;
			http_args(wsi, args, sizeof(args));
			if (!pstream_accept(ex, c, path) && !ex->ad->ws_accept(ex, c, path, args))
				return -1;
			c->wsi = wsi;
			c->is_ws = true;
			c->connected_ms = c->last_rx_ms = c->last_tx_ms = c->last_pong_ms = now_real_ms();
			c->last_ping_ms = c->drained_ms = c->connected_ms;
			snprintf(c->conn_id, sizeof(c->conn_id), "%08llx-%04x",
					 (unsigned long long) (ex_random(ex) * 4294967295.0),
					 (unsigned) (ex_random(ex) * 65535));
			if (ex->faults.drop_every > 0)
				c->drop_mark = ex->faults.drop_every;
			else if (ex->faults.drop_after > 0)
				c->drop_mark = ex->faults.drop_after;
			c->next = ex->conns;
			ex->conns = c;
			ex->connections++;
			if (ex->ad->ws_open && c->kind != PRIV_KIND)
				ex->ad->ws_open(ex, c);
			break;

		case LWS_CALLBACK_RECEIVE:
			c->last_rx_ms = now_real_ms();
			if (ex->faults.stall_until_ms > c->last_rx_ms)
				break;			/* a stalled exchange ignores requests too */
			if (c->kind == PRIV_KIND)
				pstream_receive(ex, c, (const char *) in, len);
			else
				ex->ad->ws_receive(ex, c, (const char *) in, len);
			break;

		case LWS_CALLBACK_RECEIVE_PONG:
			c->last_pong_ms = c->last_rx_ms = now_real_ms();
			break;

		case LWS_CALLBACK_SERVER_WRITEABLE:
			return conn_writeable(c);

		case LWS_CALLBACK_CLOSED:
			conn_unlink(c);
			conn_free_queue(c);
			c->wsi = NULL;
			break;

		case LWS_CALLBACK_HTTP:
			return http_request(wsi, c, ex, (const char *) in);

		case LWS_CALLBACK_HTTP_BODY:
			http_body(c, (const char *) in, len);
			return 0;

		case LWS_CALLBACK_HTTP_BODY_COMPLETION:
			return http_body_complete(wsi, c, ex);

		case LWS_CALLBACK_HTTP_WRITEABLE:
			return http_write_body(wsi, c);

		case LWS_CALLBACK_CLOSED_HTTP:
			if (c)				/* no session data when TLS failed early */
			{
				buf_free(&c->body);
				buf_free(&c->req_body);
			}
			break;

		default:
			break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"exsim", callback_exsim, sizeof(ExConn), 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* ------------------------------------------------------------------ */
/* the market timer                                                   */
/* ------------------------------------------------------------------ */

static void
sink_trade(void *arg, MkSymbol *s, const MkTrade *t)
{
	Exchange   *ex = arg;

	record_trade(ex, s, t);
	remember_trade(ex, symbol_index(ex, s), t);
	ex->ad->on_trade(ex, s, t);
	priv_on_trade(ex, symbol_index(ex, s), t);
}

static void
sink_kline(void *arg, MkSymbol *s, int iv, const MkKline *k)
{
	Exchange   *ex = arg;

	record_kline(ex, s, iv, k);
	if (ex->ad->on_kline_closed)
		ex->ad->on_kline_closed(ex, s, iv, k);
}

/* Most frames waiting at any subscriber of symbol si (rate 0 mode). */
static int
min_queue(Exchange *ex, int si, bool *any)
{
	int			m = INT_MAX;

	*any = false;
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->sub[si] != 0)
		{
			*any = true;
			if (c->qcount < m)
				m = c->qcount;
		}
	return m;
}

static void
market_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms, double dt_s)
{
	MkSink		sink = {ex, sink_trade, sink_kline};

	for (int si = 0; si < ex->market.nsymbols; si++)
	{
		MkSymbol   *s = &ex->market.sym[si];
		long		n;

		if ((sim.count > 0 && (long) s->trades >= sim.count) || ex->ended)
		{
			mk_advance(s, sim_ms, &sink);
			continue;
		}
		if (sim.rate > 0)
		{
			/* Poisson-free but exact on average: carry the fraction */
			double		want = sim.rate * dt_s + (ex_random(ex) - 0.5) * 0.0;
			static double carry[5][MK_MAX_SYMBOLS];
			int			exi = (int) (ex - sim.ex);

			carry[exi][si] += want;
			n = (long) carry[exi][si];
			carry[exi][si] -= (double) n;
		}
		else
		{
			bool		any;
			int			q = min_queue(ex, si, &any);

			n = any && q < HIGH_WATER ? HIGH_WATER - q : 0;
		}
		if (sim.count > 0 && (long) s->trades + n > sim.count)
			n = sim.count - (long) s->trades;
		for (long i = 0; i < n; i++)
			mk_trade(s, sim_ms, &sink);
		trades_total += n;
		mk_advance(s, sim_ms, &sink);
	}
	ex->ad->on_tick(ex, real_ms, sim_ms);
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	static int64_t last_real;
	int64_t		real_ms = now_real_ms();
	int64_t		sim_ms = now_sim_ms();
	double		dt = last_real ? (double) (real_ms - last_real) / 1000.0 : 0;

	last_real = real_ms;
	for (int i = 0; i < sim.nex; i++)
	{
		Exchange   *ex = &sim.ex[i];

		market_tick(ex, real_ms, sim_ms, dt);
		/* stalls end: wake the connections */
		if (ex->faults.stall_until_ms && ex->faults.stall_until_ms <= real_ms)
		{
			ex->faults.stall_until_ms = 0;
			for (ExConn *c = ex->conns; c; c = c->next)
				lws_callback_on_writable(c->wsi);
		}
	}
	if (sim.record)
		fflush(sim.record);
	if (sim.duration > 0 && real_ms - sim.real_start_ms >= (int64_t) (sim.duration * 1000))
		interrupted = 1;
	if (sim.count > 0)
	{
		bool		done = true;

		for (int i = 0; i < sim.nex && done; i++)
			for (int si = 0; si < sim.ex[i].market.nsymbols; si++)
				if ((long) sim.ex[i].market.sym[si].trades < sim.count)
					done = false;
		/* let the queues drain before leaving */
		for (int i = 0; i < sim.nex && done; i++)
			for (ExConn *c = sim.ex[i].conns; c; c = c->next)
				if (c->qcount > 0)
					done = false;
		/* --linger: REST and the connections stay up a while for repairs */
		if (done && sim.linger > 0 && sim.linger_until_ms == 0)
			sim.linger_until_ms = real_ms + (int64_t) (sim.linger * 1000);
		if (done && real_ms >= sim.linger_until_ms)
			interrupted = 1;
	}
	/* as fast as possible: refill the queues every millisecond */
	lws_sul_schedule(context, 0, &tick_sul, tick_cb,
					 (sim.rate > 0 ? TICK_MS : 1) * LWS_US_PER_MS);
}

static void
on_signal(int sig)
{
	(void) sig;
	interrupted = 1;
	if (context)
		lws_cancel_service(context);
}

/* ------------------------------------------------------------------ */
/* startup                                                            */
/* ------------------------------------------------------------------ */

int
server_run(int admin_port, const char *cert, const char *key)
{
	struct lws_context_creation_info info;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(sim.verbose ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	context = lws_create_context(&info);
	if (!context)
	{
		fprintf(stderr, "zvt-exsim: could not create the lws context\n");
		return 1;
	}
	for (int i = 0; i < sim.nex; i++)
	{
		Exchange   *ex = &sim.ex[i];

		memset(&info, 0, sizeof(info));
		info.port = ex->port;
		info.iface = "127.0.0.1";
		info.protocols = protocols;
		info.vhost_name = ex->label;
		info.user = ex;
		info.alpn = "http/1.1";
		info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6 |
			(cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
		if (cert)
		{
			info.ssl_cert_filepath = cert;
			info.ssl_private_key_filepath = key;
		}
		ex->vhost = lws_create_vhost(context, &info);
		if (!ex->vhost)
		{
			fprintf(stderr, "zvt-exsim: could not listen on 127.0.0.1:%d for %s\n",
					ex->port, ex->label);
			lws_context_destroy(context);
			return 1;
		}
		ex->port = lws_get_vhost_listen_port(ex->vhost);
	}
	if (admin_port >= 0)
	{
		memset(&info, 0, sizeof(info));
		info.port = admin_port;
		info.iface = "127.0.0.1";
		info.protocols = protocols;
		info.vhost_name = "admin";
		info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
		admin_vhost = lws_create_vhost(context, &info);
		if (!admin_vhost)
		{
			fprintf(stderr, "zvt-exsim: could not listen on 127.0.0.1:%d for admin\n", admin_port);
			lws_context_destroy(context);
			return 1;
		}
		admin_port = lws_get_vhost_listen_port(admin_vhost);
	}

	/* one line a port, for scripts to read */
	for (int i = 0; i < sim.nex; i++)
		printf("%s %s://127.0.0.1:%d %s://127.0.0.1:%d\n", sim.ex[i].label,
			   cert ? "wss" : "ws", sim.ex[i].port, cert ? "https" : "http", sim.ex[i].port);
	if (admin_port >= 0)
		printf("admin http://127.0.0.1:%d\n", admin_port);
	fflush(stdout);

	lws_sul_schedule(context, 0, &tick_sul, tick_cb, TICK_MS * LWS_US_PER_MS);
	while (!interrupted)
		if (lws_service(context, 0) < 0)
			break;
	lws_context_destroy(context);
	if (sim.record)
		fclose(sim.record);
	fprintf(stderr, "zvt-exsim: %ld trades generated\n", trades_total);
	return 0;
}
