/*
 * test/exsim/admin.c
 *	  zvt-exsim's admin endpoint (--admin-port): faults, drops, shutdown
 *	  notices, the market's end, the published books, counters; /priv/...
 *	  goes to priv_reconcile.c and /private to priv_stream.c.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "server.h"
#include "private.h"

#include <stdlib.h>
#include <string.h>

/*
 * GET /fault?exchange=binance|all&<name>=<value>...  sets faults;
 * GET /drop?exchange=..  closes every connection now;
 * GET /shutdown?exchange=..  sends the exchange's shutdown notice, then closes;
 * GET /stats  counters;  GET /reset  clears every fault;
 * GET /end?exchange=..  the market ends: no more trades (as when --count
 *   is reached), the connections and REST stay up;
 * GET /book?exchange=..&symbol=..  the book last published.
 */
/*
 * GET /book?exchange=X&symbol=S: the last book X published for S (what a
 * client that applied every message holds), as
 * {"seq":N,"bids":[["px","qty"],...],"asks":[...]}, prices and sizes in
 * base units without trailing zeros.
 */
static int
admin_book(Exchange *ex, ExConn *c, const char *args)
{
	char		name[48];
	MkSymbol   *s;
	int			si;
	const MkBook *b;

	if (!url_arg(args, "symbol", name, sizeof(name)) || !(s = mk_find(&ex->market, name)))
	{
		buf_printf(&c->body, "{\"error\":\"unknown symbol\"}");
		return 404;
	}
	si = symbol_index(ex, s);
	b = &ex->book[si];
	buf_printf(&c->body, "{\"exchange\":\"%s\",\"symbol\":\"%s\",\"valid\":%s,\"seq\":%llu,\"bids\":[",
			   ex->ad->name, s->name, ex->book_valid[si] ? "true" : "false",
			   (unsigned long long) ex->book_seq[si]);
	for (int i = 0; ex->book_valid[si] && i < b->nbids; i++)
		buf_printf(&c->body, "%s[\"%s\",\"%s\"]", i ? "," : "", fmt_px(s, b->bids[i].px, false, 0),
				   fmt_qty(s, b->bids[i].qty, false, 0));
	buf_add(&c->body, "],\"asks\":[", 10);
	for (int i = 0; ex->book_valid[si] && i < b->nasks; i++)
		buf_printf(&c->body, "%s[\"%s\",\"%s\"]", i ? "," : "", fmt_px(s, b->asks[i].px, false, 0),
				   fmt_qty(s, b->asks[i].qty, false, 0));
	buf_add(&c->body, "]}", 2);
	return 200;
}

int
admin_request(ExConn *c, const char *path, const char *args)
{
	char		exname[32] = "all";
	char		v[64];

	if (strncmp(path, "/priv/", 6) == 0)
		return priv_admin(c, path, args);	/* priv_reconcile.c */
	url_arg(args, "exchange", exname, sizeof(exname));
	for (int i = 0; i < sim.nex; i++)
	{
		Exchange   *ex = &sim.ex[i];

		if (strcmp(exname, "all") != 0 && strcmp(exname, ex->label) != 0)
			continue;
		if (strcmp(path, "/fault") == 0)
		{
			if (url_arg(args, "drop_reply", v, sizeof(v)))
				ex->priv->drop_reply = atoi(v);
			if (url_arg(args, "drop_after", v, sizeof(v)))
				ex->faults.drop_after = atol(v);
			if (url_arg(args, "drop_every", v, sizeof(v)))
				ex->faults.drop_every = atol(v);
			if (url_arg(args, "malformed", v, sizeof(v)))
				ex->faults.malformed_p = atof(v);
			if (url_arg(args, "duplicate", v, sizeof(v)))
				ex->faults.duplicate_p = atof(v);
			if (url_arg(args, "stall", v, sizeof(v)))
				ex->faults.stall_until_ms = now_real_ms() + (int64_t) (atof(v) * 1000);
			if (url_arg(args, "skip_seq", v, sizeof(v)))
				ex->faults.skip_seq = atoi(v);
			if (url_arg(args, "reject_subscribe", v, sizeof(v)))
				ex->faults.reject_subscribe = atoi(v);
			if (url_arg(args, "rest_429", v, sizeof(v)))
				ex->faults.rest_429 = atoi(v);
			if (url_arg(args, "rest_429_after", v, sizeof(v)))
				ex->faults.rest_429_after = atoi(v);
			if (url_arg(args, "rest_5xx", v, sizeof(v)))
				ex->faults.rest_5xx = atoi(v);
			if (url_arg(args, "rest_partial", v, sizeof(v)))
				ex->faults.rest_partial = atoi(v);
			if (url_arg(args, "checksum_zero", v, sizeof(v)))
				ex->faults.checksum_zero = atoi(v) != 0;
			if (url_arg(args, "bad_checksum", v, sizeof(v)))
				ex->faults.bad_checksum = atoi(v);
			if (url_arg(args, "book_pause", v, sizeof(v)))
				ex->faults.book_pause = atoi(v) != 0;
			if (url_arg(args, "page_size", v, sizeof(v)))
				ex->faults.page_size = atoi(v);
			for (ExConn *k = ex->conns; k; k = k->next)
			{
				if (ex->faults.drop_after > 0 && k->drop_mark == 0)
					k->drop_mark = k->sent + ex->faults.drop_after;
				if (ex->faults.drop_every > 0)
					k->drop_mark = k->sent + ex->faults.drop_every;
			}
		}
		else if (strcmp(path, "/end") == 0)
			ex->ended = true;
		else if (strcmp(path, "/drop") == 0)
		{
			for (ExConn *k = ex->conns; k; k = k->next)
				conn_close(k, 1001);
		}
		else if (strcmp(path, "/shutdown") == 0)
		{
			for (ExConn *k = ex->conns; k; k = k->next)
				if (ex->ad->shutdown_notice)
					ex->ad->shutdown_notice(ex, k);
		}
		else if (strcmp(path, "/reset") == 0)
		{
			memset(&ex->faults, 0, sizeof(ex->faults));
			/* and the drops the open connections were due: none after a reset */
			for (ExConn *k = ex->conns; k; k = k->next)
				k->drop_mark = 0;
			ex->priv->drop_reply = 0;
		}
		else if (strcmp(path, "/book") == 0)
			return admin_book(ex, c, args);
		else if (strcmp(path, "/private") == 0)
			return pstream_admin(ex, c, args);	/* priv_stream.c */
		else if (strcmp(path, "/stats") != 0)
		{
			buf_printf(&c->body, "{\"error\":\"unknown admin path %s\"}", path);
			return 404;
		}
	}
	buf_add(&c->body, "{", 1);
	for (int i = 0; i < sim.nex; i++)
	{
		Exchange   *ex = &sim.ex[i];
		int			nconn = 0;
		size_t		backlog = 0;

		for (ExConn *k = ex->conns; k; k = k->next)
		{
			nconn++;
			if (k->is_ws && k->qbytes > backlog)
				backlog = k->qbytes;
		}
		buf_printf(&c->body, "%s\"%s\":{\"port\":%d,\"connections\":%d,\"accepted\":%ld,"
				   "\"messages\":%ld,\"trades\":%llu,\"ended\":%s,\"slow_closed\":%ld,"
				   "\"backlog\":%zu,\"places\":%ld,\"duplicates\":%ld,\"tcp_accepted\":%ld}",
				   i ? "," : "", ex->label, ex->port, nconn, ex->connections, ex->messages,
				   (unsigned long long) ex->market.sym[0].trades, ex->ended ? "true" : "false",
				   ex->slow_closed, backlog, ex->priv ? ex->priv->places : 0,
				   ex->priv ? ex->priv->duplicates : 0, ex->tcp_accepted);
	}
	buf_add(&c->body, "}", 1);
	return 200;
}
