/*
 * test/fuzz/fuzz_live_reply.c
 *	  libFuzzer harness for the JSON bodies live trading reads from the
 *	  exchanges (src/live/route_parse.c, src/live/skew.c): order replies
 *	  of the four exchanges and their server-time answers.
 *
 * The first byte picks the exchange and the operation, the second the
 * HTTP status; the rest is the body, handed over with its exact length
 * (not NUL-terminated, as libcurl gives it).  Every reply field must be
 * NUL-terminated inside its buffer and its kind one of LiveReplyKind.
 */
#include "live/route.h"
#include "live/skew.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const long statuses[] = {200, 400, 401, 403, 404, 418, 429, 500, 503, 0};

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const names[] = {"binance", "bybit", "okx", "coinbase"};
	LiveReply	r;
	char	   *body;
	size_t		len;
	int64_t		ms;

	if (size < 2)
		return 0;
	len = size - 2;
	body = malloc(len ? len : 1);
	memcpy(body, data + 2, len);
	memset(&r, 0x55, sizeof(r));
	live_parse_reply((LiveExchange) (data[0] % 4), (LiveOp) ((data[0] / 4) % 3),
					 statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))],
					 body, len, "zvt0000000000000001", &r);
	if (r.kind < LR_OK || r.kind > LR_UNKNOWN ||
		!TERMINATED(r.exchange_id) || !TERMINATED(r.status) ||
		!TERMINATED(r.filled_qty) || !TERMINATED(r.reason))
		abort();
	(void) skew_parse_server_time(names[data[0] % 4], body, len, &ms);
	free(body);
	return 0;
}
