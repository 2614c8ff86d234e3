/*
 * test/exsim/conn.c
 *	  zvt-exsim's WebSocket connections: the outgoing ring of frames per
 *	  connection, bounded in bytes (a client that falls further behind is
 *	  disconnected as the exchanges do), the faults applied as frames are
 *	  queued (duplicate, corrupt, drop after N), and the writeable callback
 *	  that drains the ring (many frames framed by hand into one write), a
 *	  due ping first.
 *
 * Writing follows libwebsockets' rules: lws_write only while lws holds no
 * part of an earlier write (lws_send_pipe_choked), whole frames each time
 * (a frame split over two writes could get lws's own pong in its middle),
 * and another writeable callback asked for what is left.  A frame over the
 * 64 kB batch (Coinbase's market_trades at high rates) goes alone through
 * lws, which keeps what the socket does not take and sends it first.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "server.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_BYTES		65536	/* one raw write: whole frames up to this */
#define WRITES_PER_CB	8		/* then the other connections get their turn */
#define FRAME_COST		(LWS_PRE + 32)	/* a queued frame's bytes beyond its payload */
#define SLOW_CLOSE_S	10		/* a cut slow client gets this long for the close */

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
	c->qbytes += len + FRAME_COST;
}

/* Forget the frame at the head of the ring (handed to lws). */
static void
queue_pop(ExConn *c)
{
	c->qbytes -= c->qlen[c->qhead] + FRAME_COST;
	free(c->q[c->qhead]);
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qcount--;
}

/*
 * The client reads slower than its stream for longer than the bound
 * allows (--queue-max): a slow consumer, which the exchanges disconnect
 * rather than buffer for without end (Coinbase's ErrSlowConsume, "too
 * many backed up messages").  Its queue goes, the connection closes with
 * 1008; a client that reads no more never gets the close
 * frame (it waits behind what lws and the socket hold), so the connection
 * is cut after SLOW_CLOSE_S seconds anyway.
 */
static void
conn_too_slow(ExConn *c)
{
	char		peer[64] = "?";

	lws_get_peer_simple(c->wsi, peer, sizeof(peer));
	fprintf(stderr, "zvt-exsim: %s: slow client disconnected (1008): %s, connection %s, "
			"%zu bytes in %d frames queued unread (--queue-max %zu MB), "
			"its queue last empty %.1f s ago\n",
			c->ex->label, peer, c->conn_id, c->qbytes, c->qcount,
			sim.queue_max >> 20, (double) (now_real_ms() - c->drained_ms) / 1000.0);
	c->ex->slow_closed++;
	conn_free_queue(c);
	c->too_slow = true;
	conn_close(c, 1008);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, SLOW_CLOSE_S);
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
	if (c->qcount > 0 && c->qbytes + len + FRAME_COST > sim.queue_max)
	{
		conn_too_slow(c);
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

void
conn_free_queue(ExConn *c)
{
	for (int i = 0; i < c->qcount; i++)
		free(c->q[(c->qhead + i) % c->qcap]);
	free(c->q);
	free(c->qlen);
	c->q = NULL;
	c->qlen = NULL;
	c->qcount = c->qcap = c->qhead = 0;
	c->qbytes = 0;
}

/* Frame one queued message (unmasked, FIN + text) at out; its length. */
static size_t
frame_into(unsigned char *out, const char *payload, size_t len)
{
	size_t		hl;

	out[0] = 0x81;
	if (len < 126)
	{
		out[1] = (unsigned char) len;
		hl = 2;
	}
	else
	{
		out[1] = 126;
		out[2] = (unsigned char) (len >> 8);
		out[3] = (unsigned char) len;
		hl = 4;
	}
	memcpy(out + hl, payload, len);
	return hl + len;
}

/*
 * Drain the queue while the socket takes it, a few writes a callback.
 * Returns -1 to close.
 */
int
conn_writeable(ExConn *c)
{
	static unsigned char batch[LWS_PRE + BATCH_BYTES];
	int64_t		now = now_real_ms();

	if (c->close_due && c->qcount == 0)
	{
		/* 1006 means an abrupt drop: no close frame, as a dead link */
		if (c->close_code == 1006)
		{
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return 0;
		}
		if (c->too_slow)
			lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
							 (unsigned char *) "slow consumer", 13);
		else
			lws_close_reason(c->wsi, (enum lws_close_status) c->close_code, NULL, 0);
		return -1;
	}
	if (c->ex->faults.stall_until_ms > now)
		return 0;				/* the tick asks again when the stall ends */
	for (int w = 0; w < WRITES_PER_CB; w++)
	{
		size_t		used = 0;

		/* lws still holds part of the last write, or the socket is full */
		if (lws_send_pipe_choked(c->wsi))
			break;
		if (c->ping_due)
		{
			unsigned char ping[LWS_PRE + 16];

			memcpy(ping + LWS_PRE, "exsim", 5);
			c->ping_due = false;
			c->last_ping_ms = now;
			if (lws_write(c->wsi, ping + LWS_PRE, 5, LWS_WRITE_PING) < 0)
				return -1;
			continue;
		}
		if (c->qcount == 0)
			break;
		if (c->qlen[c->qhead] + 10 > BATCH_BYTES)
		{
			/* too big to batch: alone, lws keeping what the socket leaves */
			size_t		len = c->qlen[c->qhead];

			if (lws_write(c->wsi, (unsigned char *) c->q[c->qhead] + LWS_PRE, len,
						  LWS_WRITE_TEXT) < (int) len)
				return -1;
			queue_pop(c);
		}
		else
		{
			/* many frames framed by hand: one syscall instead of one each */
			while (c->qcount > 0 && used + c->qlen[c->qhead] + 4 <= BATCH_BYTES)
			{
				used += frame_into(batch + LWS_PRE + used, c->q[c->qhead] + LWS_PRE,
								   c->qlen[c->qhead]);
				queue_pop(c);
			}
			if (lws_write(c->wsi, batch + LWS_PRE, used, LWS_WRITE_RAW) < (int) used)
				return -1;
		}
		c->last_tx_ms = now;
	}
	if (c->qcount == 0)
		c->drained_ms = now;
	if (c->qcount > 0 || c->close_due || c->ping_due)
		lws_callback_on_writable(c->wsi);
	return 0;
}
