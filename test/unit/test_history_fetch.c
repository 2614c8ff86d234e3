/*
 * test/unit/test_history_fetch.c
 *	  Unit tests of src/feed/history_fetch.c, the backfill's fetch thread,
 *	  against a tiny HTTP server on loopback: a page fetched and parsed
 *	  ahead is taken by the request for its URL; one the worker did not
 *	  ask for next is dropped, never served stale later; a backfill going
 *	  forward gets the pages after it fetched unasked, up to the end of its
 *	  range, the weight limit or the most that may wait; the rate-limit
 *	  headers and a page that is not the exchange's format come back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "feed/history_fetch.h"
#include "unit_test.h"

static int	listen_fd;
static int	served;				/* requests answered */

/* Answer each request on each connection: /429, /bad, else two trades
 * whose first id is the request's number of requests so far. */
static void *
server_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		int			c = accept(listen_fd, NULL, NULL);
		char		req[4096];
		ssize_t		n;

		if (c < 0)
			return NULL;
		while ((n = read(c, req, sizeof(req) - 1)) > 0)
		{
			char		body[512],
						resp[1024];
			int			k = ++served;

			req[n] = '\0';
			if (strstr(req, "fromId="))
			{
				/* a full page of historicalTrades from that id, a trade a ms */
				long long	from = atoll(strstr(req, "fromId=") + 7);
				char	   *big = malloc(200 * 1000 + 256);
				size_t		k2 = 0,
							h;

				k2 += (size_t) sprintf(big + k2, "[");
				for (int i = 0; i < 1000; i++)
					k2 += (size_t) sprintf(big + k2, "%s{\"id\":%lld,\"price\":\"1.5\",\"qty\":\"2\","
										   "\"time\":%lld,\"isBuyerMaker\":true}", i ? "," : "",
										   from + i, 1000 + from + i);
				k2 += (size_t) sprintf(big + k2, "]");
				h = (size_t) snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nX-MBX-USED-WEIGHT-1M: %d\r\n"
									  "Content-Length: %zu\r\n\r\n", k * 25, k2);
				if (write(c, resp, h) < 0 || write(c, big, k2) < 0)
				{
					free(big);
					break;
				}
				free(big);
				continue;
			}
			if (strstr(req, "GET /429"))
				snprintf(resp, sizeof(resp), "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
						 "X-MBX-USED-WEIGHT-1M: 6001\r\nContent-Length: 2\r\n\r\n{}");
			else
			{
				if (strstr(req, "GET /bad"))
					snprintf(body, sizeof(body), "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
				else
					snprintf(body, sizeof(body),
							 "[{\"id\":%d,\"price\":\"1.5\",\"qty\":\"2\",\"time\":1000,\"isBuyerMaker\":true},"
							 "{\"id\":%d,\"price\":\"1.6\",\"qty\":\"3\",\"time\":1001,\"isBuyerMaker\":false}]",
							 k * 10, k * 10 + 1);
				snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
						 "X-MBX-USED-WEIGHT-1M: %d\r\nContent-Length: %zu\r\n\r\n%s", k, strlen(body), body);
			}
			if (write(c, resp, strlen(resp)) < 0)
				break;
		}
		close(c);
	}
	return NULL;
}

int
main(void)
{
	struct sockaddr_in a = {0};
	socklen_t	alen = sizeof(a);
	pthread_t	th;
	char		base[64],
				u1[128],
				u2[128],
				u3[128];
	HistoryRequest r = {0};
	HistoryFetch out;
	volatile int stop = 0;

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(listen_fd, (struct sockaddr *) &a, sizeof(a)) == 0 && listen(listen_fd, 8) == 0);
	getsockname(listen_fd, (struct sockaddr *) &a, &alen);
	pthread_create(&th, NULL, server_main, NULL);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(u1, sizeof(u1), "%s/p1", base);
	snprintf(u2, sizeof(u2), "%s/p2", base);
	snprintf(u3, sizeof(u3), "%s/429", base);
	r.kind = HISTORY_TRADES_BY_ID;
	r.exchange = "binance";
	r.base = base;
	r.raw_symbol = "BTCUSDT";
	r.symbol = "BTC-USDT";

	/* nothing started: nothing to take */
	CHECK(!history_fetch_take(u1, &out));
	/* fetched and parsed ahead, taken by its URL, the body the caller's */
	CHECK(history_fetch_start(u1, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(history_fetch_take(u1, &out));
	CHECK(out.got && out.status == 200 && out.parsed && out.page.n == 2 && out.page.last_id == 11);
	CHECK(out.used_weight == 1 && out.retry_after == -1);
	CHECK(out.events[0].qty == 2 && !out.events[0].taker_buy && out.events[1].taker_buy);
	CHECK(out.body && strstr(out.body, "\"id\":10") != NULL);
	free(out.body);
	/* once taken, it is gone */
	CHECK(!history_fetch_take(u1, &out));
	/* a page the worker did not ask for next is dropped, not kept for later */
	CHECK(history_fetch_start(u1, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(!history_fetch_take(u2, &out));
	CHECK(!history_fetch_take(u1, &out));
	/* the same connection serves the next (one server connection so far) */
	CHECK(history_fetch_start(u2, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(history_fetch_take(u2, &out));
	CHECK(out.parsed && out.page.last_id == served * 10 + 1);
	free(out.body);
	/* a 429's headers */
	CHECK(history_fetch_start(u3, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(history_fetch_take(u3, &out));
	CHECK(out.got && out.status == 429 && out.retry_after == 7 && out.used_weight == 6001 && !out.parsed);
	free(out.body);
	/* a page that is not the exchange's format says why */
	snprintf(u1, sizeof(u1), "%s/bad", base);
	CHECK(history_fetch_start(u1, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(history_fetch_take(u1, &out));
	CHECK(out.status == 200 && !out.parsed && strstr(out.reason, "Invalid symbol") != NULL);
	free(out.body);
	/* a backfill going forward: the pages after it fetched unasked, taken in order */
	{
		char		url[256],
					why[64];
		int			before = served;

		r.from_id = 1;
		r.to_ms = 1000 + 2500;	/* the third page reaches it */
		CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
		CHECK(history_fetch_start(url, &r, true, 5000, NULL, &stop, 8, -1));
		for (int p = 0; p < 3; p++)
		{
			r.from_id = 1 + p * 1000;
			CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
			/* asking again for what is on its way changes nothing */
			CHECK(history_fetch_start(url, &r, true, 5000, NULL, &stop, 8, -1));
			CHECK(history_fetch_take(url, &out));
			CHECK(out.parsed && out.page.full && out.page.last_id == p * 1000 + 1000);
			free(out.body);
		}
		/* the range ended on the third page: nothing further was fetched */
		CHECK(served == before + 3);
		r.from_id = 3001;
		CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
		CHECK(!history_fetch_take(url, &out));
		/* the used weight stops the chain at the page that reached it */
		before = served;
		r.from_id = 1;
		r.to_ms = 1000000;
		CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
		CHECK(history_fetch_start(url, &r, true, 5000, NULL, &stop, 8, (before + 2) * 25));
		for (int p = 0; p < 2; p++)
		{
			r.from_id = 1 + p * 1000;
			CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
			CHECK(history_fetch_take(url, &out));
			CHECK(out.parsed && out.page.last_id == p * 1000 + 1000);
			free(out.body);
		}
		CHECK(served == before + 2);
		/* at most HISTORY_FETCH_AHEAD_MAX pages wait; another URL drops them */
		before = served;
		r.from_id = 1;
		CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
		CHECK(history_fetch_start(url, &r, true, 5000, NULL, &stop, 20, -1));
		CHECK(history_fetch_take(url, &out));
		free(out.body);
		for (int i = 0; i < 12000 && served < before + 1 + HISTORY_FETCH_AHEAD_MAX; i++)
			usleep(10000);
		usleep(100000);
		CHECK(served == before + 1 + HISTORY_FETCH_AHEAD_MAX);
		CHECK(!history_fetch_take(u2, &out));
		r.from_id = 1001;
		CHECK(history_url(&r, url, sizeof(url), why, sizeof(why)));
		CHECK(!history_fetch_take(url, &out));
	}
	/* an abort flag set stops the transfer: reported as not got */
	stop = 1;
	snprintf(u1, sizeof(u1), "%s/p3", base);
	CHECK(history_fetch_start(u1, &r, true, 5000, NULL, &stop, 0, -1));
	CHECK(history_fetch_take(u1, &out));
	CHECK(!out.got && out.error[0] != '\0');
	free(out.body);
	return unit_summary("test_history_fetch");
}
