/*-------------------------------------------------------------------------
 *
 * src/feed/parse_thread.h
 *	  A feed worker's parser thread: frames in, parsed frames out, in order.
 *
 * Parsing JSON costs about as much as writing the rows, so a feed worker
 * parses on a second thread while its main thread receives and writes.
 * The main thread hands each complete frame over (parse_thread_submit
 * copies it into a slot of a ring) and later takes the results back in
 * submission order (parse_thread_drain calls the function given at start
 * on each).  The thread runs only the pure-C adapter (src/feed/adapter_*.c
 * and jansson): no PostgreSQL call, no palloc, no elog, all signals
 * blocked.  Without a thread (creation failed, or threads == false)
 * submit parses at once, so callers need no second code path.
 *
 * Backpressure: when all PARSE_QUEUE_MAX slots are taken, submit waits
 * for the thread (the socket is not read meanwhile, and TCP slows the
 * sender) or, if they are all parsed, drains them itself.  No frame is
 * dropped for want of room.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_PARSE_THREAD_H
#define ZVT_PARSE_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed/feed_event.h"

#define PARSE_QUEUE_MAX 2048
#define PARSE_EXCERPT_LEN 500

/* One parsed frame, as parse_thread_drain() hands it back. */
typedef struct ParsedFrame
{
	int			endpoint;		/* as given to submit */
	uint32_t	connection;		/* as given to submit */
	int64_t		rx_us;			/* receive time, as given to submit */
	FeedFrame	frame;			/* what the frame was (kind, reason) */
	int			nevents;
	FeedEvent  *events;
	char		excerpt[PARSE_EXCERPT_LEN + 1]; /* the frame's start, for errors */
} ParsedFrame;

typedef struct ParseThread ParseThread;

extern ParseThread *parse_thread_start(FeedParser parse, bool threads,
									   void (*fn) (const ParsedFrame *pf, void *arg), void *arg);
extern bool parse_thread_running(const ParseThread *t);

/*
 * Hand a frame over (copied; the caller keeps msg).  False when out of
 * memory: the frame is lost.
 */
extern bool parse_thread_submit(ParseThread *t, int endpoint, uint32_t connection,
								const FeedContext *ctx, int64_t rx_us, const char *msg, size_t len);

/*
 * Call the start's fn on every parsed frame not yet handed back, in
 * submission order; returns how many.  First waits until every frame
 * submitted so far is parsed, at most wait_us (0: not at all, negative:
 * as long as it takes; a positive wait is skipped when more than a round
 * of frames waits).  The ParsedFrame is valid only during the call.
 */
extern int	parse_thread_drain(ParseThread *t, int64_t wait_us);

/*
 * The parser's context callback (FeedContext.contract_size) reads the
 * worker's symbol table: the main thread holds this lock while changing
 * it, the thread while parsing.
 */
/* bytes the slots' message and event buffers hold (for the tests) */
extern size_t parse_thread_retained(const ParseThread *t);
extern void parse_thread_lock_context(ParseThread *t);
extern void parse_thread_unlock_context(ParseThread *t);

/* Parse what is queued, then end the thread; drain still works after. */
extern void parse_thread_stop(ParseThread *t);

/* Stop and free everything (undrained frames are lost). */
extern void parse_thread_free(ParseThread *t);

#endif							/* ZVT_PARSE_THREAD_H */
