/*
 * test/unit/test_parse_thread.c
 *	  The feed worker's parser thread (src/feed/parse_thread.c) with the
 *	  real Binance adapter: every frame comes back once, in submission
 *	  order, with its events, endpoint, connection and receive time, with
 *	  and without a thread; malformed frames keep an excerpt; the context
 *	  lock holds the thread back; stop parses what is queued; many more
 *	  frames than the ring holds pass with drains only now and then
 *	  (submit waits or drains itself: nothing is lost); frames of several
 *	  events, inline and in the slot's growing buffer.
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/parse_thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_test.h"

typedef struct Seen
{
	long		frames;
	long		trades;
	long		malformed;
	long		next_trade;		/* the trade id expected next */
	bool		in_order;
	bool		fields_ok;
	char		excerpt[PARSE_EXCERPT_LEN + 1];
} Seen;

static double
no_contracts(void *arg, const char *raw)
{
	(void) arg;
	(void) raw;
	return 0;
}

static char *
trade_frame(long id)
{
	char	   *m = malloc(512);

	snprintf(m, 512,
			 "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1764000000123,"
			 "\"s\":\"BTCUSDT\",\"t\":%ld,\"p\":\"91234.56000000\",\"q\":\"0.01234000\","
			 "\"T\":1764000000122,\"m\":true,\"M\":true}}", id);
	return m;
}

static void
collect(const ParsedFrame *pf, void *arg)
{
	Seen	   *s = arg;

	s->frames++;
	if (pf->frame.kind == FEED_FRAME_MALFORMED)
	{
		s->malformed++;
		snprintf(s->excerpt, sizeof(s->excerpt), "%s", pf->excerpt);
		return;
	}
	for (int i = 0; i < pf->nevents; i++)
	{
		char		want[32];

		snprintf(want, sizeof(want), "%ld", s->next_trade);
		if (strcmp(pf->events[i].trade_id, want) != 0)
			s->in_order = false;
		if (pf->endpoint != 1 || pf->connection != 7 || pf->rx_us != 1000 + s->next_trade ||
			pf->events[i].price != 91234.56 || strcmp(pf->events[i].symbol, "BTC-USDT") != 0)
			s->fields_ok = false;
		s->next_trade++;
		s->trades++;
	}
}

static void
run(bool threads, long n)
{
	Seen		s = {0, 0, 0, 1, true, true, ""};
	ParseThread *t = parse_thread_start(binance_parse, threads, collect, &s);
	FeedContext ctx = {false, no_contracts, NULL};

	CHECK(t != NULL);
	CHECK(parse_thread_running(t) == threads);
	for (long id = 1; id <= n; id++)
	{
		char	   *m = trade_frame(id);

		if (!parse_thread_submit(t, 1, 7, &ctx, 1000 + id, m, strlen(m)))
			CHECK(!"submit failed");
		free(m);
		if (id % 997 == 0)
		{
			const char *bad = "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\"";

			parse_thread_submit(t, 1, 7, &ctx, 0, bad, strlen(bad));
		}
		if (id % 5000 == 0)
			parse_thread_drain(t, 0);
	}
	parse_thread_drain(t, -1);
	CHECK(s.trades == n);
	CHECK(s.malformed == n / 997);
	CHECK(s.frames == n + n / 997);
	CHECK(s.in_order);
	CHECK(s.fields_ok);
	CHECK(strncmp(s.excerpt, "{\"stream\":\"btcusdt@trade\"", 25) == 0);
	/* nothing left */
	CHECK(parse_thread_drain(t, -1) == 0);

	/* the context lock keeps the thread from parsing */
	if (threads)
	{
		char	   *m = trade_frame(s.next_trade);

		parse_thread_lock_context(t);
		parse_thread_submit(t, 1, 7, &ctx, 1000 + s.next_trade, m, strlen(m));
		free(m);
		CHECK(parse_thread_drain(t, 50000) == 0);
		parse_thread_unlock_context(t);
		CHECK(parse_thread_drain(t, -1) == 1);
		CHECK(s.trades == n + 1);
	}

	/* stop parses what is queued; drain still hands it back */
	for (int k = 0; k < 100; k++)
	{
		char	   *m = trade_frame(s.next_trade + k);

		parse_thread_submit(t, 1, 7, &ctx, 1000 + s.next_trade + k, m, strlen(m));
		free(m);
	}
	parse_thread_stop(t);
	CHECK(!parse_thread_running(t));
	CHECK(parse_thread_drain(t, 0) == 100);
	CHECK(s.in_order);
	CHECK(s.fields_ok);
	parse_thread_free(t);
}

/* a parser of frames "K FIRST": K trades with ids FIRST, FIRST + 1, ... */
static int
multi_parse(const char *msg, size_t len, const FeedContext *ctx,
			FeedEvent *out, int max, FeedFrame *frame)
{
	char		buf[64];
	int			k;
	long		first;

	(void) ctx;
	memset(frame, 0, sizeof(*frame));
	snprintf(buf, sizeof(buf), "%.*s", (int) len, msg);
	if (sscanf(buf, "%d %ld", &k, &first) != 2 || k > max)
		return 0;
	for (int i = 0; i < k; i++)
	{
		memset(&out[i], 0, sizeof(out[i]));
		out[i].kind = FEED_TRADE;
		snprintf(out[i].trade_id, sizeof(out[i].trade_id), "%ld", first + i);
	}
	return k;
}

static void
collect_multi(const ParsedFrame *pf, void *arg)
{
	Seen	   *s = arg;

	s->frames++;
	for (int i = 0; i < pf->nevents; i++)
	{
		char		want[32];

		snprintf(want, sizeof(want), "%ld", s->next_trade++);
		if (strcmp(pf->events[i].trade_id, want) != 0)
			s->in_order = false;
		s->trades++;
	}
}

/*
 * Frames of 1 to 5 events: those with more than the slot holds inline
 * (2) go through its growing buffer, exactly 2 stay inline.
 */
static void
run_multi(bool threads)
{
	Seen		s = {0, 0, 0, 1, true, true, ""};
	ParseThread *t = parse_thread_start(multi_parse, threads, collect_multi, &s);
	FeedContext ctx = {false, no_contracts, NULL};
	long		id = 1,
				want = 0;

	for (int round = 0; round < 3; round++)
		for (int k = 1; k <= 5; k++)
		{
			char		m[64];

			snprintf(m, sizeof(m), "%d %ld", k, id);
			parse_thread_submit(t, 1, 7, &ctx, 0, m, strlen(m));
			id += k;
			want += k;
		}
	parse_thread_drain(t, -1);
	CHECK(s.frames == 15);
	CHECK(s.trades == want);
	CHECK(s.in_order);
	parse_thread_free(t);
}

/*
 * Frames of many events through every slot of the ring, drained as they
 * go: the slots keep no buffer larger than they keep for small frames
 * (a slot used to keep each frame's event buffer, so a ring of frames of
 * 50 events pinned tens of MB).
 */
static void
run_retained(bool threads)
{
	Seen		s = {0, 0, 0, 1, true, true, ""};
	ParseThread *t = parse_thread_start(multi_parse, threads, collect_multi, &s);
	FeedContext ctx = {false, no_contracts, NULL};
	size_t		small;
	long		id = 1;
	char		pad[8192];

	memset(pad, ' ', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < 4; i++)
	{
		char		m[64];

		snprintf(m, sizeof(m), "1 %ld", id++);
		parse_thread_submit(t, 1, 7, &ctx, 0, m, strlen(m));
	}
	parse_thread_drain(t, -1);
	small = parse_thread_retained(t);
	for (int i = 0; i < PARSE_QUEUE_MAX * 2; i++)
	{
		char		m[8300];

		/* 60 events, and a message of 8 kB (sscanf reads past the blanks) */
		snprintf(m, sizeof(m), "60 %ld%s", id, pad);
		id += 60;
		parse_thread_submit(t, 1, 7, &ctx, 0, m, strlen(m));
		if (i % 64 == 0)
			parse_thread_drain(t, 0);
	}
	parse_thread_drain(t, -1);
	CHECK(s.trades == 4 + 60L * PARSE_QUEUE_MAX * 2);
	CHECK(s.in_order);
	CHECK(parse_thread_retained(t) <= small + (size_t) PARSE_QUEUE_MAX * (4096 + 8 * sizeof(FeedEvent)));
	CHECK(parse_thread_retained(t) < (size_t) PARSE_QUEUE_MAX * 60 * sizeof(FeedEvent));
	parse_thread_free(t);
}

int
main(void)
{
	run_retained(false);
	run_retained(true);
	run_multi(false);
	run_multi(true);
	run(false, PARSE_QUEUE_MAX * 3 + 7);
	/* more frames than the queue holds, drained only now and then */
	run(true, PARSE_QUEUE_MAX * 10 + 123);
	return unit_summary("test_parse_thread");
}
