/*-------------------------------------------------------------------------
 *
 * src/feed/ingest.h
 *	  Batched, idempotent writes of feed events into the hypertables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_INGEST_H
#define ZVT_INGEST_H

#include "bus/ring.h"
#include "datatype/timestamp.h"
#include "feed/feed_event.h"

/* One event of a batch, with what the worker knows about it. */
typedef struct IngestEvent
{
	FeedEvent	ev;
	int32		instrument_id;
	TimestampTz local_ts;		/* when zvt received the frame */
	bool		stored;			/* this flush inserted its row (trades, quotes) */
} IngestEvent;

typedef struct IngestBatch
{
	IngestEvent *events;		/* malloc'd: filled in lws callbacks */
	int			n;
	int			cap;
	/* candles this flush's transaction closed, to publish once it commits */
	BusEvent   *closed;			/* malloc'd */
	int			nclosed;
	int			capclosed;
} IngestBatch;

typedef struct IngestResult
{
	int64		trades;			/* rows actually inserted */
	int64		candles;
	int64		quotes;
	int64		funding;		/* zvt.funding rows */
} IngestResult;

/* in ingest.c */
extern bool ingest_add(IngestBatch *b, const FeedEvent *ev, int32 instrument_id, TimestampTz local_ts);
/* a batch's array is given back once it is this many events and four times what a flush used */
#define INGEST_KEEP_EVENTS 8192

extern void ingest_batch_trim(IngestBatch *b, int used);
extern void ingest_flush(IngestBatch *b, IngestResult *res);
extern void ingest_flush_failed(void);
extern void ingest_close_trade_candles(IngestBatch *b);
extern void ingest_publish_reset(IngestBatch *b);
extern void ingest_publish(IngestBatch *b, Oid install);

/*
 * in trades.c: whether this process's trades arrive in time order (a
 * feed), so a trade newer than the newest it stored sets its 1m candle's
 * close.  The backfill worker clears it: the feed may have stored newer
 * trades of the minute, so after every write the candles' open and close
 * are taken again from the minute's stored trades.
 */
extern bool ingest_trades_in_order;

#endif
