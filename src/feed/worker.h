/*-------------------------------------------------------------------------
 *
 * src/feed/worker.h
 *	  The state of a feed worker process, shared by its files: worker.c
 *	  (the loop), connection.c (connections, keepalive, gaps) and
 *	  subscriptions.c (subscriptions and the symbol map).
 *
 * One feed worker per process, so the state is one global, feed_self
 * (the order books are books.c's own).
 * Only the main thread touches it, except `symbols`, which the parser
 * thread reads under the parser's context lock (see subscriptions.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_WORKER_H
#define FEED_WORKER_H

#include <libwebsockets.h>

#include "feed/exchanges.h"
#include "feed/ingest.h"
#include "feed/parse_thread.h"
#include "feed/status.h"
#include "feed/symbols.h"

#define FEED_MAX_TOPICS		1024	/* streams per endpoint (Binance's limit) */
#define FEED_BACKOFF_MIN_MS	250
/* a new connection with no data this long after its handshake ends its gap (us) */
#define FEED_GAP_QUIET_US	INT64CONST(2000000)
#define FEED_BACKOFF_MAX_MS	30000

/* connection states */
enum
{
	EP_DOWN, EP_CONNECTING, EP_OPEN
};

/* A subscription as the exchange names it, and what it stands for. */
typedef struct Topic
{
	char		name[FEED_TOPIC_LEN];
	char		symbol[FEED_SYMBOL_LEN];
	char		channel[16];
	bool		sent;			/* subscribe sent on the current connection */
} Topic;

/* One WebSocket endpoint of the exchange and its connection. */
typedef struct Endpoint
{
	int			index;
	struct lws *wsi;
	int			state;			/* EP_* */
	Topic		want[FEED_MAX_TOPICS];	/* what zvt.subscriptions asks for */
	int			nwant;
	char	  **outq;			/* malloc'd messages waiting to be sent */
	int			noutq;
	char	   *rx;				/* reassembly of fragmented frames */
	size_t		rxlen;
	uint32		connection;		/* counts this endpoint's connections */
	int64		last_rx;		/* us, any frame */
	int64		last_data;		/* us, last market data frame */
	int64		last_keepalive; /* us */
	int64		connected_at;	/* us, when the connection opened */
	int64		connect_started;	/* us, when the current connect attempt began */
	int64		reconnect_at;	/* us; 0 = now */
	int			backoff_ms;
	/* a disconnection waiting for its first message after reconnect */
	bool		gap_open;
	int64		gap_from;		/* us */
	char		gap_reason[64];
	int64		gap_to;			/* us; set when data resumes, written at flush */
	bool		gap_ready;
	int64		gap_quiet_at;	/* us; no data by then on the new connection: the gap ends then; 0 = none */
} Endpoint;

typedef struct FeedWorker
{
	int			exchange_index; /* in feed_exchanges */
	const FeedSpec *spec;
	char		exchange[32];
	char		ws_url[256];	/* zvt.exchanges.ws_url, read with the subscriptions */
	char		futures_ws_url[256];	/* zvt.exchanges.futures_ws_url; "" = none */
	Endpoint	endpoints[FEED_MAX_ENDPOINTS];
	FeedSymbolMap *symbols;		/* every instrument of the exchange */
	IngestBatch batch;			/* events parsed since the last flush */
	struct lws_context *context;
	FeedStats  *stats;			/* in shared memory (status.c) */
	ParseThread *parser;
	int			next_request_id;	/* for subscribe messages */
} FeedWorker;

extern FeedWorker feed_self;

/* in worker.c */
extern int64 feed_now_us(void);

/* in connection.c */
extern const struct lws_protocols feed_protocols[];
extern void feed_endpoint_queue(Endpoint *e, const char *msg);
extern void feed_endpoint_connect(Endpoint *e);
extern const char *feed_endpoint_base(int index);
extern void feed_endpoint_down(Endpoint *e, const char *reason);
extern void feed_endpoints_step(int64 now, bool reload);
extern void feed_open_restart_gaps(void);
extern void feed_write_gaps(void);

/* in books.c */
extern void feed_books_load(void);
extern void feed_books_message(const FeedEvent *h, int ep, int64 rx_us);
extern void feed_books_conn_seq(int ep, uint32 connection, int64 seq, int64 rx_us);
extern void feed_books_endpoint_down(int ep);
extern void feed_books_publish(void);
extern void feed_books_note_install(Oid install);
extern bool feed_books_due(int64 now);
extern void feed_books_step(void);

/* in subscriptions.c */
extern bool feed_load_subscriptions(void);
extern void feed_load_symbols(void);
extern void feed_queue_subscribes(Endpoint *e);
extern double feed_contract_size(void *arg, const char *raw);

#endif							/* FEED_WORKER_H */
