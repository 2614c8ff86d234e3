/*
 * test/exsim/server.c
 *	  The libwebsockets side of zvt-exsim: one vhost per exchange, the
 *	  connection callback (WebSocket and REST), outgoing queues, fault
 *	  injection, the market timer, the admin endpoint and the record.
 *
 * Each connection has a ring of frames.  conn_send() applies the faults
 * (duplicate, corrupt, drop after N) as it queues; the writeable callback
 * drains the ring while the socket takes it, sending a due ping first.
 * The market timer (every 5 ms of real time) generates the trades due at
 * the configured rate, or, at rate 0, as many as keep the subscribers'
 * queues full, and lets each adapter do its periodic pushes.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "private.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX		200000	/* frames; a slower client is cut off */
#define HIGH_WATER		16384	/* rate 0: keep this many frames queued */
#define TICK_MS			5

Sim			sim;

static struct lws_context *context;
static lws_sorted_usec_list_t tick_sul;
static volatile int interrupted;
static long trades_total;
static struct lws_vhost *admin_vhost;

/* ------------------------------------------------------------------ */
/* buffers and formatting                                              */
/* ------------------------------------------------------------------ */

void
buf_reset(Buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_reserve(Buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	b->cap = (b->len + extra + 1) * 2;
	b->data = realloc(b->data, b->cap);
	if (!b->data)
		abort();
}

void
buf_add(Buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
buf_free(Buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Rotating static buffers, so several may appear in one printf. */
static char *
fmt_slot(void)
{
	static char slots[16][64];
	static int	next;

	return slots[next++ & 15];
}

static int64_t
pow10i(int n)
{
	int64_t		r = 1;

	while (n-- > 0)
		r *= 10;
	return r;
}

/* Units at dec decimals, shown with pad_to decimals (> dec pads zeros). */
static const char *
fmt_units(__int128 units, int dec, bool pad, int pad_to)
{
	char	   *out = fmt_slot();

	if (pad && pad_to > dec)
	{
		units *= pow10i(pad_to - dec);
		dec = pad_to;
	}
	mk_fmt_units(out, 64, units, dec, pad);
	return out;
}

const char *
fmt_px(const MkSymbol *s, int64_t px, bool pad, int pad_to)
{
	return fmt_units(px, s->px_dec, pad, pad_to);
}

const char *
fmt_qty(const MkSymbol *s, int64_t qty, bool pad, int pad_to)
{
	return fmt_units(qty, s->qty_dec, pad, pad_to);
}

const char *
fmt_quote_vol(const MkSymbol *s, __int128 v, bool pad, int pad_to)
{
	return fmt_units(v, s->px_dec + s->qty_dec, pad, pad_to);
}

void
fmt_rfc3339(char *buf, size_t len, int64_t ms, bool micros)
{
	time_t		secs = (time_t) (ms / 1000);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	if (micros)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (ms % 1000) * 1000);
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (ms % 1000));
}

bool
url_arg(const char *args, const char *name, char *out, size_t outlen)
{
	size_t		n = strlen(name);
	const char *p = args;

	while (p && *p)
	{
		if (strncmp(p, name, n) == 0 && p[n] == '=')
		{
			const char *v = p + n + 1;
			size_t		o = 0;

			while (*v && *v != '&' && o + 1 < outlen)
			{
				if (*v == '%' && v[1] && v[2])
				{
					char		hex[3] = {v[1], v[2], 0};

					out[o++] = (char) strtol(hex, NULL, 16);
					v += 3;
				}
				else
					out[o++] = *v++;
			}
			out[o] = '\0';
			return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* clocks and randomness                                               */
/* ------------------------------------------------------------------ */

int64_t
now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_sim_ms(void)
{
	return sim.sim_start_ms +
		(int64_t) ((double) (now_real_ms() - sim.real_start_ms) * sim.speed);
}

double
ex_random(Exchange *ex)
{
	uint64_t	x = ex->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ex->rng = x;
	return (double) ((x * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

/* trades kept per symbol for REST backfills: --recent (50000) */
#define RECENT_MAX	sim.recent_max

void
remember_trade(Exchange *ex, int si, const MkTrade *t)
{
	if (!ex->recent[si])
		ex->recent[si] = calloc(RECENT_MAX, sizeof(MkTrade));
	ex->recent[si][(ex->recent_head[si] + ex->recent_n[si]) % RECENT_MAX] = *t;
	if (ex->recent_n[si] == RECENT_MAX)
		ex->recent_head[si] = (ex->recent_head[si] + 1) % RECENT_MAX;
	else
		ex->recent_n[si]++;
}

/* The latest (up to max) trades of symbol si, oldest first. */
int
recent_trades(Exchange *ex, int si, const MkTrade **out, int max)
{
	int			n = ex->recent_n[si] < max ? ex->recent_n[si] : max;
	int			skip = ex->recent_n[si] - n;

	for (int i = 0; i < n; i++)
		out[i] = &ex->recent[si][(ex->recent_head[si] + skip + i) % RECENT_MAX];
	return n;
}

/* The i-th kept trade of symbol si, oldest first (0 <= i < recent_n). */
const MkTrade *
trade_at(Exchange *ex, int si, int i)
{
	return &ex->recent[si][(ex->recent_head[si] + i) % RECENT_MAX];
}

/*
 * Trades of symbol si with from_id <= id (when from_id >= 0) and
 * from_ts <= ts < to_ts, oldest first, at most max: from the past
 * (history.c, generated again into a buffer valid until the next call)
 * and then from the kept live trades.
 */
int
trades_since(Exchange *ex, int si, int64_t from_id, int64_t from_ts, int64_t to_ts,
			 const MkTrade **out, int max)
{
	static MkTrade pastbuf[1000];
	const MkHistory *h = ex->past[si];
	int			n = 0;

	if (h && max > 0)
	{
		int64_t		i = hist_index_at(h, from_ts);
		int			got;

		if (from_id >= 0 && from_id - (int64_t) h->first_id > i)
			i = from_id - (int64_t) h->first_id;
		got = hist_trades(h, i, pastbuf, max < 1000 ? max : 1000);
		for (int k = 0; k < got && n < max; k++)
			if (pastbuf[k].ts < to_ts)
				out[n++] = &pastbuf[k];
	}
	for (int i = 0; i < ex->recent_n[si] && n < max; i++)
	{
		const MkTrade *t = &ex->recent[si][(ex->recent_head[si] + i) % RECENT_MAX];

		if ((from_id < 0 || (int64_t) t->id >= from_id) && t->ts >= from_ts && t->ts < to_ts)
			out[n++] = t;
	}
	return n;
}

/*
 * Closed klines of interval iv of symbol si with open time in [from, to],
 * oldest first, at most max (<= 1000): the first max of the range, or the
 * last max when newest.  The past's come from history.c (into a buffer
 * valid until the next call), the rest from the live ring.
 */
int
ex_klines(Exchange *ex, int si, int iv, int64_t from, int64_t to, bool newest,
		  const MkKline **out, int max)
{
	static MkKline pastbuf[1000];
	static const MkKline *ring[MK_HISTORY];
	const MkHistory *h = ex->past[si];
	const MkSymbol *s = &ex->market.sym[si];
	int64_t		ivms = mk_interval_ms[iv];
	int64_t		past_end = h ? h->end_ms : INT64_MIN;
	int			nring = 0,
				npast = 0,
				n = 0,
				all;

	if (max > 1000)
		max = 1000;
	all = mk_history(s, iv, from, to, ring, MK_HISTORY);
	for (int i = 0; i < all; i++)
		if (!h || ring[i]->open_ts + ivms > past_end)
			ring[nring++] = ring[i];
	if (h && newest)
	{
		int			need = max - (nring < max ? nring : max);
		int64_t		upper = to < past_end - ivms ? to : past_end - ivms;
		int64_t		lo = (upper >= 0 ? upper / ivms : (upper - ivms + 1) / ivms) * ivms -
			(int64_t) (need - 1) * ivms;

		if (need > 0)
			npast = hist_klines(h, iv, lo > from ? lo : from, upper, pastbuf, need);
	}
	else if (h)
		npast = hist_klines(h, iv, from, to < past_end ? to : past_end, pastbuf, max);
	for (int i = 0; i < npast; i++)
		out[n++] = &pastbuf[i];
	if (newest)
	{
		int			skip = nring + n > max ? nring + n - max : 0;

		for (int i = skip; i < nring; i++)
			out[n++] = ring[i];
	}
	else
		for (int i = 0; i < nring && n < max; i++)
			out[n++] = ring[i];
	return n;
}

int
symbol_index(Exchange *ex, const MkSymbol *s)
{
	return (int) (s - ex->market.sym);
}

/* ------------------------------------------------------------------ */
/* record                                                              */
/* ------------------------------------------------------------------ */

void
record_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	char		id[64];

	if (!sim.record)
		return;
	if (ex->ad->trade_id)
		ex->ad->trade_id(s, t, id, sizeof(id));
	else
		snprintf(id, sizeof(id), "%llu", (unsigned long long) t->id);
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"trades\",\"id\":\"%s\","
			"\"ts\":%lld,\"price\":\"%s\",\"qty\":\"%s\",\"side\":\"%s\"}\n",
			ex->ad->name, s->name, id, (long long) t->ts,
			fmt_px(s, t->px, false, 0), fmt_qty(s, t->qty, false, 0),
			t->taker_buy ? "buy" : "sell");
}

void
record_kline(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	if (!sim.record)
		return;
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"candles\",\"interval_ms\":%lld,"
			"\"ts\":%lld,\"open\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"close\":\"%s\","
			"\"volume\":\"%s\",\"quote_volume\":\"%s\",\"trade_count\":%lld}\n",
			ex->ad->name, s->name, (long long) mk_interval_ms[iv], (long long) k->open_ts,
			fmt_px(s, k->o, false, 0), fmt_px(s, k->h, false, 0), fmt_px(s, k->l, false, 0),
			fmt_px(s, k->c, false, 0), fmt_qty(s, k->vol, false, 0),
			fmt_quote_vol(s, k->quote_vol, false, 0), (long long) k->count);
}

void
record_quote(Exchange *ex, MkSymbol *s, uint64_t seq)
{
	if (!sim.record)
		return;
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"quotes\",\"seq\":%llu,"
			"\"ts\":%lld,\"bid\":\"%s\",\"bid_qty\":\"%s\",\"ask\":\"%s\",\"ask_qty\":\"%s\"}\n",
			ex->ad->name, s->name, (unsigned long long) seq, (long long) now_sim_ms(),
			fmt_px(s, s->bid, false, 0), fmt_qty(s, s->bid_qty, false, 0),
			fmt_px(s, s->ask, false, 0), fmt_qty(s, s->ask_qty, false, 0));
}

/* ------------------------------------------------------------------ */
/* outgoing queue and faults                                           */
/* ------------------------------------------------------------------ */

static void
queue_push(ExConn *c, const char *data, size_t len)
{
	char	   *frame;

	if (c->qcount == c->qcap)
	{
		int			ncap = c->qcap ? c->qcap * 2 : 64;
		char	  **nq = malloc(sizeof(char *) * ncap);
		size_t	   *nl = malloc(sizeof(size_t) * ncap);

		for (int i = 0; i < c->qcount; i++)
		{
			nq[i] = c->q[(c->qhead + i) % c->qcap];
			nl[i] = c->qlen[(c->qhead + i) % c->qcap];
		}
		free(c->q);
		free(c->qlen);
		c->q = nq;
		c->qlen = nl;
		c->qhead = 0;
		c->qcap = ncap;
	}
	frame = malloc(LWS_PRE + len + 1);
	memcpy(frame + LWS_PRE, data, len);
	c->q[(c->qhead + c->qcount) % c->qcap] = frame;
	c->qlen[(c->qhead + c->qcount) % c->qcap] = len;
	c->qcount++;
}

/*
 * Queue one text frame.  Data messages (market events, not acks or
 * pongs) are subject to the faults and count towards drop limits.
 */
void
conn_send(ExConn *c, const char *data, size_t len, bool data_msg)
{
	Faults	   *f = &c->ex->faults;

	if (c->close_due || !c->wsi)
		return;
	if (c->qcount >= QUEUE_MAX)
	{
		conn_close(c, 1008);	/* too slow: the exchanges cut such clients off */
		return;
	}
	if (data_msg)
	{
		c->sent++;
		c->ex->messages++;
		if (f->malformed_p > 0 && ex_random(c->ex) < f->malformed_p)
		{
			/* half the time truncated JSON, else not JSON at all */
			if (ex_random(c->ex) < 0.5)
				queue_push(c, data, len / 2);
			else
				queue_push(c, "<html>502 Bad Gateway</html>", 28);
		}
		else
		{
			queue_push(c, data, len);
			if (f->duplicate_p > 0 && ex_random(c->ex) < f->duplicate_p)
				queue_push(c, data, len);
		}
		if (c->drop_mark > 0 && c->sent >= c->drop_mark)
		{
			conn_close(c, 1006);
			return;
		}
	}
	else
		queue_push(c, data, len);
	lws_callback_on_writable(c->wsi);
}

void
conn_send_str(ExConn *c, const char *s, bool data_msg)
{
	conn_send(c, s, strlen(s), data_msg);
}

void
conn_close(ExConn *c, int code)
{
	c->close_due = true;
	c->close_code = code;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

void
conn_wake(ExConn *c)
{
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void
conn_free_queue(ExConn *c)
{
	for (int i = 0; i < c->qcount; i++)
		free(c->q[(c->qhead + i) % c->qcap]);
	free(c->q);
	free(c->qlen);
	c->q = NULL;
	c->qlen = NULL;
	c->qcount = c->qcap = c->qhead = 0;
}

/* Drain the queue while the socket takes it.  Returns -1 to close. */
static int
conn_writeable(ExConn *c)
{
	int64_t		now = now_real_ms();

	if (c->close_due && c->qcount == 0)
	{
		/* 1006 means an abrupt drop: no close frame, as a dead link */
		if (c->close_code == 1006)
		{
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return 0;
		}
		lws_close_reason(c->wsi, (enum lws_close_status) c->close_code, NULL, 0);
		return -1;
	}
	if (c->ex->faults.stall_until_ms > now)
		return 0;				/* the tick asks again when the stall ends */
	if (c->ping_due)
	{
		unsigned char ping[LWS_PRE + 16];

		memcpy(ping + LWS_PRE, "exsim", 5);
		c->ping_due = false;
		c->last_ping_ms = now;
		if (lws_write(c->wsi, ping + LWS_PRE, 5, LWS_WRITE_PING) < 0)
			return -1;
	}
	/*
	 * Frame many queued messages ourselves and hand them to lws as one
	 * raw write: one syscall for dozens of frames instead of one each.
	 * Server frames are unmasked: FIN+text, then a 7, 16 or 64 bit length.
	 */
	while (c->qcount > 0 && !lws_send_pipe_choked(c->wsi))
	{
		static unsigned char batch[LWS_PRE + 65536 + 16];
		size_t		used = 0;

		while (c->qcount > 0)
		{
			char	   *frame = c->q[c->qhead];
			size_t		len = c->qlen[c->qhead];
			unsigned char *h = batch + LWS_PRE + used;
			size_t		hl;

			if (used > 0 && used + len + 10 > 65536)
				break;
			if (len + 10 > 65536)
			{
				/* too big to batch: send it alone through lws */
				if (used > 0)
					break;
				c->qhead = (c->qhead + 1) % c->qcap;
				c->qcount--;
				if (lws_write(c->wsi, (unsigned char *) frame + LWS_PRE, len, LWS_WRITE_TEXT) < (int) len)
				{
					free(frame);
					return -1;
				}
				free(frame);
				continue;
			}
			h[0] = 0x81;
			if (len < 126)
			{
				h[1] = (unsigned char) len;
				hl = 2;
			}
			else
			{
				h[1] = 126;
				h[2] = (unsigned char) (len >> 8);
				h[3] = (unsigned char) len;
				hl = 4;
			}
			memcpy(h + hl, frame + LWS_PRE, len);
			used += hl + len;
			c->qhead = (c->qhead + 1) % c->qcap;
			c->qcount--;
			free(frame);
		}
		if (used > 0 && lws_write(c->wsi, batch + LWS_PRE, used, LWS_WRITE_RAW) < (int) used)
			return -1;
		c->last_tx_ms = now;
	}
	if (c->qcount > 0 || c->close_due)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ------------------------------------------------------------------ */
/* books                                                               */
/* ------------------------------------------------------------------ */

/*
 * Publish the current book of symbol si at depth: *delta gets the changes
 * since the last published book (everything on the first call, which
 * returns true as a snapshot), *prev_seq and *seq the sequence before and
 * after.  A pending skip_seq fault makes the sequence jump.
 */
bool
ex_book_update(Exchange *ex, int si, int depth, MkBook *delta,
			   uint64_t *prev_seq, uint64_t *seq)
{
	MkBook		now;
	bool		snapshot = !ex->book_valid[si];

	mk_book(&ex->market.sym[si], depth, &now);
	if (snapshot)
	{
		*delta = now;
		ex->book_seq[si] = ex->market.sym[si].book_seq;
	}
	else
		mk_book_diff(&ex->book[si], &now, delta);
	/* a skip loses updates between this message and the previous one */
	if (ex->faults.skip_seq > 0 && !snapshot)
	{
		ex->book_seq[si] += (uint64_t) ex->faults.skip_seq;
		ex->faults.skip_seq = 0;
	}
	*prev_seq = ex->book_seq[si];
	ex->book_seq[si]++;
	*seq = ex->book_seq[si];
	ex->book[si] = now;
	ex->book_valid[si] = true;
	return snapshot;
}

bool
ex_book_due(Exchange *ex, int64_t real_ms)
{
	return !ex->faults.book_pause && real_ms - ex->last_fast_ms >= sim.book_ms;
}

/* ------------------------------------------------------------------ */
/* HTTP helpers                                                        */
/* ------------------------------------------------------------------ */

static int
http_respond(struct lws *wsi, ExConn *c)
{
	unsigned char hdr[LWS_PRE + 1024];
	unsigned char *start = hdr + LWS_PRE,
			   *p = start,
			   *end = hdr + sizeof(hdr) - 1;
	char		ra[16];

	if (lws_add_http_common_headers(wsi, (unsigned int) c->status, "application/json",
									c->body.len + (c->partial ? 1 : 0), &p, end))
		return -1;
	if (c->retry_after > 0)
	{
		snprintf(ra, sizeof(ra), "%d", c->retry_after);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *) "Retry-After:",
										(const unsigned char *) ra, (int) strlen(ra), &p, end))
			return -1;
	}
	if (c->used_weight > 0)
	{
		snprintf(ra, sizeof(ra), "%d", c->used_weight);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *) "X-MBX-USED-WEIGHT-1M:",
										(const unsigned char *) ra, (int) strlen(ra), &p, end))
			return -1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	c->body_sent = 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_write_body(struct lws *wsi, ExConn *c)
{
	unsigned char *frame = malloc(LWS_PRE + c->body.len + 1);
	int			rc;

	memcpy(frame + LWS_PRE, c->body.data ? c->body.data : "", c->body.len);
	rc = lws_write(wsi, frame + LWS_PRE, c->body.len, LWS_WRITE_HTTP_FINAL);
	free(frame);
	buf_free(&c->body);
	if (rc < 0)
		return -1;
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* All query fragments joined with '&'. */
static void
http_args(struct lws *wsi, char *out, size_t outlen)
{
	size_t		o = 0;
	char		frag[512];

	out[0] = '\0';
	for (int i = 0; i < 64; i++)
	{
		int			n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n <= 0)
			break;
		if (o + (size_t) n + 2 >= outlen)
			break;
		if (o > 0)
			out[o++] = '&';
		memcpy(out + o, frag, (size_t) n);
		o += (size_t) n;
		out[o] = '\0';
	}
}

/* ------------------------------------------------------------------ */
/* admin endpoint                                                      */
/* ------------------------------------------------------------------ */

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

static int
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

		for (ExConn *k = ex->conns; k; k = k->next)
			nconn++;
		buf_printf(&c->body, "%s\"%s\":{\"port\":%d,\"connections\":%d,\"accepted\":%ld,"
				   "\"messages\":%ld,\"trades\":%llu,\"ended\":%s}",
				   i ? "," : "", ex->label, ex->port, nconn, ex->connections, ex->messages,
				   (unsigned long long) ex->market.sym[0].trades, ex->ended ? "true" : "false");
	}
	buf_add(&c->body, "}", 1);
	return 200;
}

/* ------------------------------------------------------------------ */
/* the lws callback                                                    */
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

/*
 * Answer the request c holds: the faults first, then the exchange's
 * private (signed) endpoints, then its public ones (GET only).
 */
static int
http_dispatch(struct lws *wsi, ExConn *c, Exchange *ex)
{
	const char *path = c->req_path;
	const char *args = c->req_args;

	if (!ex)
		c->status = admin_request(c, path, args);
	else if (ex->faults.rest_429 > 0 && ex->faults.rest_429_after <= 0)
	{
		ex->faults.rest_429--;
		c->retry_after = 1;
		c->status = ex->ad->rest(ex, c, "/__429", args);
	}
	else if (ex->faults.rest_5xx > 0)
	{
		ex->faults.rest_5xx--;
		buf_reset(&c->body);
		buf_add(&c->body, "{\"error\":\"service unavailable\"}", 31);
		c->status = 503;
	}
	else if (ex->faults.rest_partial > 0 || priv_hold_take(ex, path, args))
	{
		/* 4 MB of JSON whitespace, and the last byte never comes */
		static char pad[65536];

		if (ex->faults.rest_partial > 0)
			ex->faults.rest_partial--;
		memset(pad, ' ', sizeof(pad));
		buf_reset(&c->body);
		for (int i = 0; i < 64; i++)
			buf_add(&c->body, pad, sizeof(pad));
		c->partial = true;
		c->status = 200;
	}
	else
	{
		PrivRequest r = {wsi, c->req_method, path, args, c->req_body.data ? c->req_body.data : ""};

		if (ex->faults.rest_429_after > 0)
			ex->faults.rest_429_after--;
		buf_add(&c->req_body, "", 1);	/* NUL-terminate the body */
		r.body = c->req_body.data;
		c->status = ex->ad->private_rest ? ex->ad->private_rest(ex, c, &r) : 0;
		if (c->status == 0 && strcmp(c->req_method, "GET") != 0)
		{
			buf_add(&c->body, "{\"error\":\"not found\"}", 21);
			c->status = 404;
		}
		else if (c->status == 0)
			c->status = ex->ad->rest(ex, c, path, args);
		if (c->drop_reply)
			return -1;			/* the exchange acted; its answer is lost */
	}
	return http_respond(wsi, c);
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
			c->last_ping_ms = c->connected_ms;
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
			memset(c, 0, sizeof(*c));
			snprintf(c->req_path, sizeof(c->req_path), "%s", (const char *) in);
			http_args(wsi, c->req_args, sizeof(c->req_args));
			strcpy(c->req_method, lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 ? "POST" :
				   lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0 ? "PUT" :
				   lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0 ? "DELETE" : "GET");
			/* a POST is answered once its body (even an empty one) is in */
			if (strcmp(c->req_method, "POST") == 0)
				return 0;
			/* a PUT too, but lws announces no end of an empty one */
			if (strcmp(c->req_method, "PUT") == 0)
			{
				char		cl[24] = "";

				lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
				if (atol(cl) > 0)
					return 0;
			}
			return http_dispatch(wsi, c, ex);

		case LWS_CALLBACK_HTTP_BODY:
			if (c->req_body.len + len > 1024 * 1024)
				return -1;
			buf_add(&c->req_body, (const char *) in, len);
			return 0;

		case LWS_CALLBACK_HTTP_BODY_COMPLETION:
			return http_dispatch(wsi, c, ex);

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
/* the market timer                                                    */
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
	int			m = QUEUE_MAX;

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
/* startup                                                             */
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
