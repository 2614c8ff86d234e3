/*
 * test/exsim/conn.c
 *	  zvt-exsim's WebSocket connections: the outgoing ring of frames per
 *	  connection, the faults applied as frames are queued (duplicate,
 *	  corrupt, drop after N), and the writeable callback that drains the
 *	  ring (many frames framed by hand into one write), a due ping first.
 */
#define _GNU_SOURCE
#include "exsim.h"
#include "server.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

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
}

/* Drain the queue while the socket takes it.  Returns -1 to close. */
int
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
