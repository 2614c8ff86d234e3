/*
 * test/exsim/feed_parse.c
 *	  zvt-feed-parse: run zvt's exchange parsers (src/feed) over frames,
 *	  one per line on stdin, and print each normalized event as a JSON
 *	  line; frames the parser calls malformed go to stderr with the reason.
 *
 *	  usage: zvt-feed-parse binance|bybit|bybit-linear|okx|coinbase < frames
 *
 * The last stderr line is "frames N events N control N errors N ignored N
 * malformed N"; ignored frames are well-formed streams zvt does not store.
 * Tests run the simulator's output through it: zvt must understand every
 * frame the simulator sends.  OKX swaps use the simulator's contract sizes
 * (1000 lots: BTC 0.01, ETH 0.1, SOL 1).
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/feed_event.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double
sim_ct_val(void *arg, const char *inst)
{
	(void) arg;
	if (strncmp(inst, "BTC-", 4) == 0)
		return 0.01;
	if (strncmp(inst, "ETH-", 4) == 0)
		return 0.1;
	return 1;
}

int
main(int argc, char **argv)
{
	FeedParser	parser = NULL;
	FeedContext ctx = {false, sim_ct_val, NULL};
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	long		frames = 0,
				events = 0,
				control = 0,
				errors = 0,
				ignored = 0,
				malformed = 0;
	static FeedEvent ev[4096];

	if (argc == 2 && strcmp(argv[1], "binance") == 0)
		parser = binance_parse;
	else if (argc == 2 && strcmp(argv[1], "bybit") == 0)
		parser = bybit_parse;
	else if (argc == 2 && strcmp(argv[1], "bybit-linear") == 0)
		parser = bybit_parse, ctx.linear = true;
	else if (argc == 2 && strcmp(argv[1], "okx") == 0)
		parser = okx_parse;
	else if (argc == 2 && strcmp(argv[1], "coinbase") == 0)
		parser = coinbase_parse;
	if (!parser)
	{
		fprintf(stderr, "usage: zvt-feed-parse binance|bybit|bybit-linear|okx|coinbase < frames\n");
		return 2;
	}
	while ((len = getline(&line, &cap, stdin)) > 0)
	{
		FeedFrame	fr;
		int			n;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		frames++;
		n = parser(line, (size_t) len, &ctx, ev, 4096, &fr);
		if (fr.kind == FEED_FRAME_MALFORMED)
		{
			malformed++;
			fprintf(stderr, "malformed: %s: %.200s\n", fr.reason, line);
			continue;
		}
		control += fr.kind == FEED_FRAME_CONTROL || fr.kind == FEED_FRAME_RECONNECT;
		errors += fr.kind == FEED_FRAME_ERROR;
		ignored += fr.kind == FEED_FRAME_IGNORED;
		for (int i = 0; i < n; i++)
		{
			FeedEvent  *e = &ev[i];

			events++;
			if (e->kind == FEED_TRADE)
				printf("{\"kind\":\"trade\",\"symbol\":\"%s\",\"ts\":%lld,\"id\":\"%s\",\"price\":%.10g,\"qty\":%.10g,\"side\":\"%s\"}\n",
					   e->symbol, (long long) e->ts, e->trade_id, e->price, e->qty, e->taker_buy ? "buy" : "sell");
			else if (e->kind == FEED_CANDLE)
				printf("{\"kind\":\"candle\",\"symbol\":\"%s\",\"ts\":%lld,\"interval_s\":%d,\"open\":%.10g,\"high\":%.10g,"
					   "\"low\":%.10g,\"close\":%.10g,\"volume\":%.10g,\"trade_count\":%lld,\"closed\":%s}\n",
					   e->symbol, (long long) e->ts, e->interval_s, e->open, e->high, e->low, e->close,
					   e->volume, (long long) e->trade_count, e->closed ? "true" : "false");
			else
				printf("{\"kind\":\"quote\",\"symbol\":\"%s\",\"ts\":%lld,\"seq\":%lld,\"bid\":%.10g,\"bid_qty\":%.10g,"
					   "\"ask\":%.10g,\"ask_qty\":%.10g}\n",
					   e->symbol, (long long) e->ts, (long long) e->seq,
					   isnan(e->bid) ? 0 : e->bid, isnan(e->bid_qty) ? 0 : e->bid_qty,
					   isnan(e->ask) ? 0 : e->ask, isnan(e->ask_qty) ? 0 : e->ask_qty);
		}
	}
	free(line);
	fprintf(stderr, "frames %ld events %ld control %ld errors %ld ignored %ld malformed %ld\n",
			frames, events, control, errors, ignored, malformed);
	return malformed > 0 ? 1 : 0;
}
