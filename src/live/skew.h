/*-------------------------------------------------------------------------
 *
 * src/live/skew.h
 *	  Clock skew between this host and an exchange, measured from the
 *	  exchange's time endpoint and applied to signed timestamps.
 *
 * Exchanges refuse a signed request whose timestamp is outside a window
 * around their clock (Binance and Bybit recvWindow, default 5000 ms;
 * OKX 30 s; Coinbase's JWT nbf/exp).  The router asks the exchange's
 * time endpoint, notes when it sent and received, and takes the offset
 * server - midpoint; every timestamp it signs is local + offset.  The
 * error is at most half the round trip, which is kept beside the offset.
 * Our clock is skew_local_ms (the wall clock, Unix ms), which the router,
 * reconciliation and the stream thread all read.
 * Pure C (jansson for the replies); test/unit/test_live_sign.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_SKEW_H
#define LIVE_SKEW_H

#include <stddef.h>
#include <stdint.h>

typedef struct ClockSkew
{
	int64_t		offset_ms;		/* exchange clock minus ours, ms */
	int64_t		rtt_ms;			/* round trip of the sample it came from, ms */
	int			samples;		/* samples taken; 0: offset unknown (0 used) */
} ClockSkew;

/* in skew.c */
extern int64_t skew_local_ms(void);
extern const char *skew_time_path(const char *exchange);
extern int	skew_parse_server_time(const char *exchange, const char *body,
								   size_t len, int64_t *server_ms);
extern int	skew_sample(ClockSkew *skew, int64_t sent_ms, int64_t server_ms,
						int64_t recv_ms);
extern int64_t skew_exchange_now(const ClockSkew *skew, int64_t local_ms);

#endif							/* LIVE_SKEW_H */
