/*-------------------------------------------------------------------------
 *
 * src/http/balance.c
 *	  Spreading connections over the HTTP workers: a worker that accepts
 *	  a connection while another worker holds fewer hands it over, so
 *	  that N keep-alive clients are served by N workers rather than by
 *	  whichever worker the kernel hashed them to.
 *
 * Each worker listens on its own SO_REUSEPORT socket (server.c) and the
 * kernel picks the socket by a hash of the connection's addresses: two
 * clients land on one worker half of the time, and as a worker serves
 * one request at a time, they then share one worker while the other
 * idles (half the throughput, twice the latency).  Here each worker
 * counts the connections its lws context holds (conns[] in "zvt http",
 * kept by LWS_CALLBACK_WSI_CREATE/DESTROY, which also count the worker's
 * own sockets, equally in every worker) and, for a connection it has
 * just accepted and not read from, picks the running worker with the
 * fewest; when that one holds fewer than this one, the descriptor is
 * sent to it over a Unix datagram socket (SCM_RIGHTS) and adopted there
 * as if it had accepted it.  Least connections, as load balancers do.
 *
 * Each worker's handoff socket is a Unix socket in the data directory,
 * "pg_stat_tmp/zvt_http.<port>.<worker>" (relative: a worker's working
 * directory is the data directory, which only the cluster's OS user may
 * enter, so no other user can bind the name and receive connections, or
 * send to it; pg_stat_tmp's files are left out of base backups).  As a
 * second wall the receiver asks for the sender's credentials
 * (SO_PASSCRED, set by the kernel, not the sender) and closes, unused,
 * any descriptor not sent by its own OS user.  A name left by a crash is
 * unlinked before binding.
 *
 * Nothing depends on the handoff succeeding: when the socket cannot be
 * opened, the target's queue is full or it has gone, the accepting
 * worker keeps the connection.  A handed-over connection counts toward
 * its receiver from the send (so a burst does not overshoot) until the
 * receiver takes it from the queue and lws counts it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libwebsockets.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "miscadmin.h"

#include "http/http.h"
#include "http/transport.h"
#include "zvt.h"

/* this worker's handoff socket, or PGINVALID_SOCKET */
static pgsocket handoff = PGINVALID_SOCKET;
/* the vhost handed-over connections are adopted into */
static struct lws_vhost *handoff_vhost = NULL;

/* The address of worker n's handoff socket; returns its length. */
static socklen_t
handoff_addr(struct sockaddr_un *a, int n)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "pg_stat_tmp/zvt_http.%d.%d",
			 zvt_http_port, n);
	return (socklen_t) sizeof(*a);
}

/*
 * Open this worker's handoff socket and watch it in vh (protocol
 * "zvt-handoff", whose callback calls http_balance_receive); called once
 * the listening sockets are open.  On failure (logged) the worker serves
 * without handing over or receiving.
 */
void
http_balance_start(struct lws_vhost *vh)
{
	struct sockaddr_un a;
	socklen_t	alen = handoff_addr(&a, http_worker_number);
	int			one = 1;
	lws_sock_file_fd_type fd;

	/*
	 * Count from zero here: the listening sockets, counted already, are
	 * the same in every worker.  (Counts are read as signed: destroying
	 * a context takes them below zero until the next start.)
	 */
	pg_atomic_write_u32(&http_shared->conns[http_worker_number], 0);
	handoff_vhost = vh;
	(void) unlink(a.sun_path);
	handoff = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (handoff == PGINVALID_SOCKET ||
		setsockopt(handoff, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
		bind(handoff, (struct sockaddr *) &a, alen) < 0)
	{
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("zvt http worker %d could not open its handoff socket: %m",
						http_worker_number),
				 errdetail("The worker keeps every connection the kernel gives it.")));
		if (handoff != PGINVALID_SOCKET)
			close(handoff);
		handoff = PGINVALID_SOCKET;
		return;
	}
	fd.filefd = handoff;
	if (lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "zvt-handoff", NULL) == NULL)
	{
		/* lws closed the descriptor */
		ereport(LOG, (errmsg("zvt http worker %d could not watch its handoff socket",
							 http_worker_number)));
		handoff = PGINVALID_SOCKET;
	}
}

/* The context is going away (lws closes the socket with it). */
void
http_balance_stop(void)
{
	struct sockaddr_un a;

	if (handoff != PGINVALID_SOCKET)
	{
		(void) handoff_addr(&a, http_worker_number);
		(void) unlink(a.sun_path);
	}
	handoff = PGINVALID_SOCKET;
	handoff_vhost = NULL;
}

/* One more (delta 1) or one fewer (-1) connection held by this worker. */
void
http_balance_count(int delta)
{
	if (http_worker_number >= 0)
		pg_atomic_add_fetch_u32(&http_shared->conns[http_worker_number], delta);
}

/*
 * Hand the just-accepted connection c to the running worker holding the
 * fewest connections, when it holds fewer than this one.  Returns true
 * when c went (and is closed here), false when this worker keeps it.
 */
bool
http_balance_pass(int c)
{
	int32		least = (int32) pg_atomic_read_u32(&http_shared->conns[http_worker_number]);
	int			to = -1;
	struct sockaddr_un a;
	struct msghdr msg;
	struct iovec iov;
	char		byte = 'c';
	union
	{
		struct cmsghdr align;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			cm;
	struct cmsghdr *h;

	if (handoff == PGINVALID_SOCKET)
		return false;
	for (int i = 0; i < zvt_http_workers && i < HTTP_MAX_WORKERS; i++)
	{
		int32		n = (int32) pg_atomic_read_u32(&http_shared->conns[i]);

		if (i != http_worker_number && n < least && http_worker_running(i))
		{
			least = n;
			to = i;
		}
	}
	if (to < 0)
		return false;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_name = &a;
	msg.msg_namelen = handoff_addr(&a, to);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &c, sizeof(int));
	if (sendmsg(handoff, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
		return false;			/* gone or its queue full: keep it */
	/* counted toward the receiver until it takes it (see the file head) */
	pg_atomic_add_fetch_u32(&http_shared->conns[to], 1);
	close(c);
	return true;
}

/*
 * Take what other workers handed over: each descriptor sent by our own
 * OS user is adopted as an API connection (server.c); anything else is
 * closed unused.
 */
static void
receive(void)
{
	for (int k = 0; k < 64; k++)
	{
		struct msghdr msg;
		struct iovec iov;
		char		byte;
		union
		{
			struct cmsghdr align;
			char		buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(4 * sizeof(int))];
		}			cm;
		struct ucred cred;
		bool		trusted = false;
		int			fds[4];
		int			nfds = 0;

		memset(&msg, 0, sizeof(msg));
		iov.iov_base = &byte;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		if (recvmsg(handoff, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
			return;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h))
		{
			if (h->cmsg_level != SOL_SOCKET)
				continue;
			if (h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len >= CMSG_LEN(sizeof(cred)))
			{
				memcpy(&cred, CMSG_DATA(h), sizeof(cred));
				trusted = cred.uid == geteuid();
			}
			else if (h->cmsg_type == SCM_RIGHTS)
			{
				int			n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (int i = 0; i < n && nfds < lengthof(fds); i++)
					memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			}
		}
		for (int i = 0; i < nfds; i++)
		{
			if (trusted)
			{
				/* the sender counted it toward us; lws counts it now */
				http_balance_count(-1);
				http_server_adopt(handoff_vhost, fds[i]);
			}
			else
				close(fds[i]);
		}
	}
}

/* The handoff socket is readable (server.c's callback): descriptors wait. */
void
http_balance_receive(void)
{
	if (handoff != PGINVALID_SOCKET)
		receive();
}
