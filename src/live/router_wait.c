/*-------------------------------------------------------------------------
 *
 * src/live/router_wait.c
 *	  The order router's one wait point: its latch (an order committed,
 *	  a reload, a stop), the postmaster's death, the sockets of its
 *	  requests in flight and the stream thread's wake pipe, together, so
 *	  that neither a new order, a reply nor a stream's event waits for a
 *	  timer.
 *
 * libcurl 7.88 has no curl_multi_waitfds: curl_multi_fdset lists the
 * sockets a request in flight waits on (few, loopback or not, each below
 * FD_SETSIZE in a backend that opens at most max_files_per_process), and
 * curl_multi_timeout says when libcurl must run again for its own timers
 * (connect, zvt.router_timeout).  A WaitEventSet of the latch and those
 * sockets is built per wait: an epoll set and a few epoll_ctl calls, far
 * below a request's cost.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <sys/select.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"

#include "live/router.h"

/*
 * Wait until the latch is set, a socket of multi is ready, the stream
 * thread queued an event (stream_fd readable; -1: none), libcurl's own
 * timeout or timeout_ms passes, whichever comes first.  Resets the latch
 * when it was set; returns whether it was.
 */
bool
router_wait(void *multi, int inflight, long timeout_ms, int stream_fd)
{
	WaitEventSet *set;
	WaitEvent	events[8];
	fd_set		rd,
				wr,
				ex;
	int			maxfd = -1;
	long		ct = -1;
	bool		latch = false;
	int			n;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	if (inflight > 0)
	{
		curl_multi_fdset((CURLM *) multi, &rd, &wr, &ex, &maxfd);
		curl_multi_timeout((CURLM *) multi, &ct);
		if (ct >= 0 && ct < timeout_ms)
			timeout_ms = ct;
		/* nothing to wait on yet (libcurl between two steps): come back soon */
		if (maxfd < 0 && timeout_ms > 1)
			timeout_ms = 1;
	}
	if (timeout_ms < 0)
		timeout_ms = 0;
	set = CreateWaitEventSet(CurrentMemoryContext, 3 + (maxfd + 1));
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	if (stream_fd >= 0)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, stream_fd, NULL, NULL);
	for (int fd = 0; fd <= maxfd; fd++)
	{
		uint32		ev = 0;

		if (FD_ISSET(fd, &rd) || FD_ISSET(fd, &ex))
			ev |= WL_SOCKET_READABLE;
		if (FD_ISSET(fd, &wr))
			ev |= WL_SOCKET_WRITEABLE;
		if (ev)
			AddWaitEventToSet(set, ev, fd, NULL, NULL);
	}
	n = WaitEventSetWait(set, timeout_ms, events, lengthof(events), PG_WAIT_EXTENSION);
	for (int i = 0; i < n; i++)
		if (events[i].events & WL_LATCH_SET)
			latch = true;
	FreeWaitEventSet(set);
	if (latch)
		ResetLatch(MyLatch);
	return latch;
}
