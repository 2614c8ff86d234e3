/*-------------------------------------------------------------------------
 *
 * src/http/stream_int.h
 *	  What stream.c (the clients, their commands and queues) and
 *	  stream_feed.c (the ring, instrument names, tickers, heartbeats)
 *	  share.  All of it is one worker's process-local state (malloc'd: it
 *	  lives as long as the connections, outside any memory context).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_STREAM_INT_H
#define ZVT_HTTP_STREAM_INT_H

#include "http/stream.h"
#include "http/stream_proto.h"

/* a ticker goes to a client at most this often per instrument, us */
#define STREAM_TICKER_EVERY_US 250000
/* the accounts a role may see are read again this often, us */
#define STREAM_ACCOUNTS_EVERY_US 2000000
/* the kernel's send buffer of a stream connection, bytes */
#define STREAM_SNDBUF (128 * 1024)
/* the longest client message, bytes */
#define STREAM_MAX_MESSAGE 65536

/* One subscription; instrument_id 0 is "*" (every instrument). */
typedef struct StreamSub
{
	int			kind;			/* StreamKind */
	int			interval_s;		/* candles' timeframe, else 0 */
	int32		instrument_id;
} StreamSub;

/* The accounts one role may see (zvt._my_accounts() as that role), shared by its clients. */
typedef struct StreamRole
{
	struct StreamRole *next;
	char		name[NAMEDATALEN];
	int			refs;			/* clients using it */
	int32	   *accounts;		/* sorted */
	int			naccounts;
	int64		fetched_us;		/* when read, Unix us */
	bool		failed;			/* the last read failed: its clients are closed */
	char		error[128];		/* why */
} StreamRole;

/* One queued message: LWS_PRE bytes of headroom, then len bytes of text. */
typedef struct StreamMsg
{
	char	   *data;
	size_t		len;
} StreamMsg;

struct StreamClient
{
	StreamClient *next;			/* the worker's list */
	StreamClient *prev;
	struct lws *wsi;
	StreamRole *role;			/* NULL: anonymous (no orders) */
	StreamSub  *subs;			/* sorted by (kind, interval_s, instrument_id) */
	int			nsubs;
	StreamMsg  *queue;			/* a ring of qcap messages */
	int			qcap;
	int			qhead;			/* the oldest */
	int			qlen;
	uint64		dropped;		/* messages dropped, not told yet */
	int64		last_rx_us;		/* when the client last sent anything */
	int64		last_ping_us;	/* when we last sent a ping */
	bool		ping_due;
	bool		closing;		/* close at the next write */
	char		close_reason[96];
	int64	   *ticker_sent;	/* per instrument id: when its ticker last went, us */
	int			nticker_sent;
	char	   *rx;				/* a message arriving in fragments */
	size_t		rx_len;
};

/* An instrument as the stream names it. */
typedef struct StreamName
{
	char	   *exchange;		/* malloc'd; NULL: no such id */
	char	   *symbol;
} StreamName;

/* The latest trade and quote of an instrument, for tickers. */
typedef struct StreamTicker
{
	bool		seen;
	double		last;			/* NaN: no trade yet */
	double		bid;
	double		ask;
	int64		ts;				/* the latest event's ts, TimestampTz */
	int64		changed_us;		/* when it last changed, Unix us */
} StreamTicker;

/* in stream.c */
extern StreamClient *stream_clients;
extern int	stream_nclients;
extern int64 stream_now_us(void);
extern bool stream_wants(const StreamClient *c, int kind, int interval_s, int32 instrument_id);
extern bool stream_sees_account(const StreamClient *c, int32 account_id);
extern void stream_push(StreamClient *c, const char *text, size_t len);
extern void stream_close(StreamClient *c, const char *reason);
extern void stream_roles_refresh(int64 now);

/* in stream_feed.c */
extern const StreamName *stream_name(int32 id);
extern bool stream_names_load(void);
extern bool stream_resolve(const char *exchange, const char *symbol, int32 *id);
extern void stream_seed_ticker(int32 id);
extern StreamTicker *stream_tickers;
extern int	stream_ntickers;

#endif							/* ZVT_HTTP_STREAM_INT_H */
