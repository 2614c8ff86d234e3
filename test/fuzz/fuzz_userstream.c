/*
 * test/fuzz/fuzz_userstream.c
 *	  libFuzzer harness for the private streams' messages
 *	  (src/live/userstream_parse.c): whatever an exchange's private
 *	  WebSocket sends, us_parse returns at most max events, each a known
 *	  kind with every field NUL-terminated inside its buffer.
 *
 * The first byte picks the exchange and the number of events allowed;
 * the rest is the message, with its exact length (not NUL-terminated,
 * as libwebsockets hands it over).
 */
#include "live/userstream.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	UsEvent		ev[US_MAX_EVENTS];
	char	   *msg;
	size_t		len;
	int			max,
				n;

	if (size < 1)
		return 0;
	len = size - 1;
	msg = malloc(len ? len : 1);
	memcpy(msg, data + 1, len);
	max = 1 + (data[0] / 4) % US_MAX_EVENTS;
	memset(ev, 0x55, sizeof(ev));
	n = us_parse((LiveExchange) (data[0] % 4), msg, len, ev, max);
	if (n < 0 || n > max)
		abort();
	for (int i = 0; i < n; i++)
		if (ev[i].kind < UE_NONE || ev[i].kind > UE_BALANCE ||
			!TERMINATED(ev[i].client_id) || !TERMINATED(ev[i].exchange_id) || !TERMINATED(ev[i].status) ||
			!TERMINATED(ev[i].filled_qty) || !TERMINATED(ev[i].filled_quote) || !TERMINATED(ev[i].avg_px) ||
			!TERMINATED(ev[i].leaves_qty) || !TERMINATED(ev[i].trade_id) || !TERMINATED(ev[i].last_qty) ||
			!TERMINATED(ev[i].last_px) || !TERMINATED(ev[i].fee) || !TERMINATED(ev[i].fee_asset) ||
			!TERMINATED(ev[i].liquidity) || !TERMINATED(ev[i].asset) || !TERMINATED(ev[i].free) ||
			!TERMINATED(ev[i].locked) || !TERMINATED(ev[i].reason))
			abort();
	if (n > 0)
		(void) us_order_id(ev[0].client_id, 0);
	free(msg);
	return 0;
}
