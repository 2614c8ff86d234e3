/*-------------------------------------------------------------------------
 *
 * src/feed/feed_subscribe.h
 *	  From zvt's subscriptions (symbol, channel) to each exchange's
 *	  endpoints, stream names and subscribe messages.
 *
 * Pure C.  Each adapter file implements one FeedSpec: which WebSocket
 * paths it uses, which path and stream name a subscription maps to, and
 * how to ask for a set of streams.  The feed worker only diffs sets of
 * stream names per endpoint and sends what the spec builds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_SUBSCRIBE_H
#define FEED_SUBSCRIBE_H

#include <stdbool.h>
#include <stddef.h>

#include "feed_event.h"

#define FEED_MAX_ENDPOINTS	2
#define FEED_TOPIC_LEN		160

typedef struct FeedSpec
{
	const char *exchange;
	int			nendpoints;
	const char *paths[FEED_MAX_ENDPOINTS];	/* appended to ws_url */
	bool		futures[FEED_MAX_ENDPOINTS];	/* appended to futures_ws_url
												 * instead (Binance fstream) */
	bool		linear[FEED_MAX_ENDPOINTS];	/* parser context per endpoint */
	FeedParser	parse;

	/*
	 * The endpoint and stream name of (symbol, channel); false when the
	 * exchange has no such stream (e.g. Coinbase candles other than 5m,
	 * which zvt builds from trades).
	 */
	bool		(*topic) (const char *symbol, const char *channel, int *endpoint,
						  char *topic, size_t len);

	/*
	 * Subscribe (or unsubscribe) topics[0..n) on endpoint: writes one JSON
	 * message into buf and returns how many topics it covers (the caller
	 * sends the rest in further messages), or 0 when buf is too small.
	 */
	int			(*request) (int endpoint, bool subscribe, const char *const *topics, int n,
							int id, char *buf, size_t len);

	/* Text to send every keepalive_s seconds (NULL: the server pings). */
	const char *keepalive;
	int			keepalive_s;
	/* Messages to send right after connecting (Coinbase heartbeats). */
	const char *on_connect;
} FeedSpec;

extern const FeedSpec binance_spec;
extern const FeedSpec bybit_spec;
extern const FeedSpec okx_spec;
extern const FeedSpec coinbase_spec;

/* "candles_1m" -> 60 ... "candles_1d" -> 86400; 0 for other channels. */
extern int	feed_channel_seconds(const char *channel);

#endif
