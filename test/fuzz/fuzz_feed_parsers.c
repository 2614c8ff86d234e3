/*
 * test/fuzz/fuzz_feed_parsers.c
 *	  libFuzzer harness for the four exchange parsers (src/feed).
 *
 * The first input byte picks the parser (and Bybit's category), the rest
 * is the frame.  Built with -DFUZZ_ADAPTER=N the harness fuzzes adapter N
 * alone (0 binance, 1 bybit, 2 okx, 3 coinbase): one binary per adapter.  Any crash, leak, out-of-bounds read or undefined
 * behaviour is a failure; so is a parser that returns more events than it
 * was given room for, or events with a NaN or non-positive trade price.
 */
#include "feed/feed_event.h"

#include <math.h>
#include <stdlib.h>

static double
ct_val(void *arg, const char *inst)
{
	(void) arg;
	return inst[0] == 'B' ? 0.01 : 0;
}

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const FeedParser parsers[] = {binance_parse, bybit_parse, okx_parse, coinbase_parse};
	FeedEvent	ev[8];
	FeedFrame	frame;
	FeedContext ctx = {false, ct_val, NULL};
	int			n;

	if (size < 1)
		return 0;
	ctx.linear = (data[0] & 4) != 0;
#ifdef FUZZ_ADAPTER
	n = parsers[FUZZ_ADAPTER] ((const char *) data + 1, size - 1, &ctx, ev, 8, &frame);
#else
	n = parsers[data[0] & 3] ((const char *) data + 1, size - 1, &ctx, ev, 8, &frame);
#endif
	if (n < 0 || n > 8)
		abort();
	for (int i = 0; i < n; i++)
		if (ev[i].kind == FEED_TRADE && !(ev[i].price > 0 && ev[i].qty > 0))
			abort();
	return 0;
}
