/*-------------------------------------------------------------------------
 *
 * src/feed/parse_thread.h
 *	  A feed worker's parser thread: frames in, parsed frames out, in order.
 *
 * Parsing JSON costs about as much as writing the rows, so a feed worker
 * parses on a second thread while its main thread receives and writes.
 * The main thread hands each complete frame over (parse_thread_submit,
 * taking ownership of the buffer) and later takes the results back in
 * submission order (parse_thread_drain).  The thread runs only the pure-C
 * adapter (src/feed/adapter_*.c and jansson): no PostgreSQL call, no
 * palloc, no elog, all signals blocked.  Without a thread (creation
 * failed, or threads == false) submit parses at once, so callers need no
 * second code path.
 *
 * Backpressure: when PARSE_QUEUE_MAX frames wait, submit waits for the
 * thread; the socket then stops being read and TCP slows the sender.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_PARSE_THREAD_H
#define ZVT_PARSE_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed/feed_event.h"

#define PARSE_QUEUE_MAX 20000
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

extern ParseThread *parse_thread_start(FeedParser parse, bool threads);
extern bool parse_thread_running(const ParseThread *t);

/*
 * Hand a frame over (msg is malloc'd, NUL-terminated, and now belongs to
 * the queue).  False when out of memory: the frame is lost (freed).
 */
extern bool parse_thread_submit(ParseThread *t, int endpoint, uint32_t connection,
								const FeedContext *ctx, int64_t rx_us, char *msg, size_t len);

/*
 * Call fn on every parsed frame, in submission order; returns how many.
 * First waits until every frame submitted so far is parsed, at most
 * wait_us (0: not at all, negative: as long as it takes).
 */
extern int	parse_thread_drain(ParseThread *t, int64_t wait_us,
							   void (*fn) (const ParsedFrame *pf, void *arg), void *arg);

/*
 * The parser's context callback (FeedContext.contract_size) reads the
 * worker's symbol table: the main thread holds this lock while changing
 * it, the thread while parsing.
 */
extern void parse_thread_lock_context(ParseThread *t);
extern void parse_thread_unlock_context(ParseThread *t);

/* Parse what is queued, then end the thread; drain still works after. */
extern void parse_thread_stop(ParseThread *t);

#endif							/* ZVT_PARSE_THREAD_H */
