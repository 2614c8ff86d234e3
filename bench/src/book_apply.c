/*
 * bench/src/book_apply.c
 *	  bench/book's first figure: order book messages applied per second on
 *	  one core by the code a feed worker runs for them, against the parse
 *	  alone on the same frames in the same run.
 *
 *	  usage: book_apply FRAMES_FILE [PASSES]
 *
 * FRAMES_FILE holds Bybit orderbook frames captured from zvt-exsim, one
 * per line, a snapshot first.  Each pass parses every frame with the
 * adapter (bybit_parse, as the worker's parser thread does) and feeds the
 * book message to its BookSync (book_sync_feed, as the worker's main
 * thread does); between passes the book is reset.  The reference is the
 * same loop without the apply (what any frame costs the worker), and the
 * apply alone over the parsed messages.  Prints one line per figure:
 * level updates/s and messages/s, best of the passes.
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/feed_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXEV 4096

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static BookMsg
to_msg(const FeedEvent *h, BookUpdate *ups)
{
	BookMsg		m;

	memset(&m, 0, sizeof(m));
	for (int i = 0; i < h->book_levels; i++)
		ups[i] = h[1 + i].level;
	m.snapshot = h->book_snapshot;
	m.first = h->book_first;
	m.last = h->seq;
	m.prev = h->book_prev;
	m.has_checksum = h->book_has_checksum;
	m.checksum = h->book_checksum;
	m.n = h->book_levels;
	m.updates = ups;
	return m;
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	char	  **lines = NULL;
	size_t	   *lens = NULL;
	int			n = 0,
				cap = 0;
	int			passes = argc > 2 ? atoi(argv[2]) : 5;
	char	   *line = NULL;
	size_t		lcap = 0;
	ssize_t		len;
	static FeedEvent ev[MAXEV];
	static BookUpdate ups[MAXEV];
	FeedContext ctx = {false, NULL, NULL};
	BookSync	s;
	double		best_full = 0,
				best_parse = 0,
				best_apply = 0;
	long		levels = 0,
				msgs = 0;
	BookMsg    *parsed;
	BookUpdate **parsed_ups;
	char		reason[256];

	if (argc < 2 || !(f = fopen(argv[1], "r")))
	{
		fprintf(stderr, "usage: book_apply FRAMES_FILE [PASSES]\n");
		return 2;
	}
	while ((len = getline(&line, &lcap, f)) > 0)
	{
		if (n == cap)
		{
			cap = cap ? cap * 2 : 1024;
			lines = realloc(lines, sizeof(char *) * cap);
			lens = realloc(lens, sizeof(size_t) * cap);
		}
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (strstr(line, "\"orderbook.") == NULL)
			continue;
		lines[n] = strdup(line);
		lens[n++] = (size_t) len;
	}
	fclose(f);
	if (n == 0)
		return 2;
	book_sync_init(&s, BOOK_RULE_BYBIT, BOOK_MAX_DEPTH);
	parsed = calloc(n, sizeof(BookMsg));
	parsed_ups = calloc(n, sizeof(BookUpdate *));

	for (int p = 0; p < passes; p++)
	{
		double		t0,
					t;
		FeedFrame	fr;
		long		applied = 0;

		/* parse and apply, as the worker */
		book_sync_reset(&s);
		levels = msgs = 0;
		t0 = now_s();
		for (int i = 0; i < n; i++)
		{
			int			k = bybit_parse(lines[i], lens[i], &ctx, ev, MAXEV, &fr);
			BookMsg		m;

			if (k < 1 || ev[0].kind != FEED_BOOK)
				continue;
			m = to_msg(ev, ups);
			if (book_sync_feed(&s, &m, reason, sizeof(reason)) == BOOK_APPLIED)
			{
				levels += m.n;
				msgs++;
			}
			if (p == 0)
			{
				parsed_ups[i] = malloc(sizeof(BookUpdate) * (m.n + 1));
				memcpy(parsed_ups[i], ups, sizeof(BookUpdate) * m.n);
				parsed[i] = m;
				parsed[i].updates = parsed_ups[i];
			}
		}
		t = now_s() - t0;
		if (levels / t > best_full)
			best_full = levels / t;

		/* the reference: the parse alone */
		t0 = now_s();
		for (int i = 0; i < n; i++)
			applied += bybit_parse(lines[i], lens[i], &ctx, ev, MAXEV, &fr);
		t = now_s() - t0;
		if (levels / t > best_parse)
			best_parse = levels / t;

		/* the book engine alone over the parsed messages */
		book_sync_reset(&s);
		t0 = now_s();
		for (int i = 0; i < n; i++)
			if (parsed_ups[i])
				book_sync_feed(&s, &parsed[i], reason, sizeof(reason));
		t = now_s() - t0;
		if (levels / t > best_apply)
			best_apply = levels / t;
		if (applied < 0)
			return 3;
	}
	printf("frames %d, messages applied %ld, level updates %ld (%.1f per message), resyncs %d\n",
		   n, msgs, levels, msgs ? (double) levels / msgs : 0.0, (int) (msgs == 0));
	printf("parse + apply (the worker's path): %.0f level updates/s, %.0f messages/s\n",
		   best_full, best_full * msgs / (levels ? levels : 1));
	printf("reference, parse alone:            %.0f level updates/s, %.0f messages/s\n",
		   best_parse, best_parse * msgs / (levels ? levels : 1));
	printf("book engine alone:                 %.0f level updates/s, %.0f messages/s\n",
		   best_apply, best_apply * msgs / (levels ? levels : 1));
	return 0;
}
