/*-------------------------------------------------------------------------
 *
 * src/live/skew.c
 *	  The exchanges' time endpoints, their replies, and the offset kept
 *	  from them (skew.h).
 *
 * A sample replaces the offset unless its round trip is more than twice
 * the best one seen and more than 1 s (a reply that sat in a queue tells
 * little about the clock); the round trip kept is the accepted sample's.
 * Pure C; the replies' shapes are the exchanges' documented ones:
 *	 Binance	GET /api/v3/time				{"serverTime":1499827319559}
 *	 Bybit		GET /v5/market/time			{..., "time":1688639403423}
 *	 OKX		GET /api/v5/public/time		{"code":"0","data":[{"ts":"1597026383085"}]}
 *	 Coinbase	GET /api/v3/brokerage/time	{"epochMillis":"1684953216491", ...}
 *
 *-------------------------------------------------------------------------
 */
#include "live/skew.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>

/*
 * Our clock: the wall clock in Unix ms, what a sample's sent and received
 * times and skew_exchange_now's local_ms are.  Thread-safe (the stream
 * thread reads it too).
 */
int64_t
skew_local_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The time endpoint's path on the exchange's REST base, or NULL. */
const char *
skew_time_path(const char *exchange)
{
	if (strcmp(exchange, "binance") == 0)
		return "/api/v3/time";
	if (strcmp(exchange, "bybit") == 0)
		return "/v5/market/time";
	if (strcmp(exchange, "okx") == 0)
		return "/api/v5/public/time";
	if (strcmp(exchange, "coinbase") == 0)
		return "/api/v3/brokerage/time";
	return NULL;
}

/* an integer, or a string of digits, as int64 ms; 0 on success */
static int
json_ms(json_t *v, int64_t *out)
{
	const char *s;
	char	   *end;
	long long	n;

	if (json_is_integer(v))
	{
		*out = (int64_t) json_integer_value(v);
		return *out > 0 ? 0 : -1;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (*s < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	if (*end != '\0' || n <= 0)
		return -1;
	*out = (int64_t) n;
	return 0;
}

/*
 * The exchange's clock, in Unix ms, from its time endpoint's reply.
 * Returns 0, or -1 if the body is not the exchange's time reply.
 */
int
skew_parse_server_time(const char *exchange, const char *body, size_t len,
					   int64_t *server_ms)
{
	json_t	   *root = json_loadb(body, len, 0, NULL);
	json_t	   *v = NULL;
	int			rc;

	if (root == NULL)
		return -1;
	if (strcmp(exchange, "binance") == 0)
		v = json_object_get(root, "serverTime");
	else if (strcmp(exchange, "bybit") == 0)
		v = json_object_get(root, "time");
	else if (strcmp(exchange, "okx") == 0)
		v = json_object_get(json_array_get(json_object_get(root, "data"), 0), "ts");
	else if (strcmp(exchange, "coinbase") == 0)
		v = json_object_get(root, "epochMillis");
	rc = v ? json_ms(v, server_ms) : -1;
	json_decref(root);
	return rc;
}

/*
 * Take one sample: the request left at sent_ms and its reply, carrying
 * server_ms, came back at recv_ms (both local Unix ms).  Returns 1 if
 * the sample was taken, 0 if it was passed over for its long round
 * trip, -1 if recv_ms < sent_ms.
 */
int
skew_sample(ClockSkew *skew, int64_t sent_ms, int64_t server_ms, int64_t recv_ms)
{
	int64_t		rtt = recv_ms - sent_ms;

	if (rtt < 0)
		return -1;
	if (skew->samples > 0 && rtt > 1000 && rtt > 2 * skew->rtt_ms)
		return 0;
	skew->offset_ms = server_ms - (sent_ms + rtt / 2);
	skew->rtt_ms = rtt;
	skew->samples++;
	return 1;
}

/* The exchange's clock now, when ours reads local_ms. */
int64_t
skew_exchange_now(const ClockSkew *skew, int64_t local_ms)
{
	return local_ms + (skew->samples > 0 ? skew->offset_ms : 0);
}
