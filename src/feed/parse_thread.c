/*-------------------------------------------------------------------------
 *
 * src/feed/parse_thread.c
 *	  A feed worker's parser thread (see parse_thread.h).
 *
 * A ring of PARSE_QUEUE_MAX slots, each keeping its buffers from one use
 * to the next, so the steady state allocates nothing (a malloc per frame
 * on one thread freed on the other costs more than the parse).  Three
 * counters split the ring: [drained, parsed) waits for drain, [parsed,
 * submitted) for the thread.  The main thread writes a slot only between
 * drained and submitted's next value, the thread only between parsed and
 * submitted, so the slots need no lock; the counters are atomics, and a
 * mutex is taken only to sleep or wake (see LOAD and STORE).
 * The thread takes up to PARSE_ROUND frames at a time and parses them
 * under the context lock (the parser may read the worker's symbol table).
 * Pure C and POSIX threads: no PostgreSQL header, unit-tested in
 * test/unit/test_parse_thread.c, also under ThreadSanitizer.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/parse_thread.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed/json_arena.h"

#define PARSE_ROUND 64			/* frames the thread takes at a time */
#define PARSE_WAKE 32			/* frames waiting before submit wakes the thread */
#define PARSE_WAKE_US 300		/* or the first of them waited this long */
#define PARSE_MAX_EVENTS 2048	/* events of one frame */
#define SLOT_INLINE_EVENTS 2	/* most frames carry one event */

/*
 * What a drained slot keeps for its next frame: a message buffer up to
 * SLOT_KEEP_MSG bytes and an event buffer up to SLOT_KEEP_EVENTS events.
 * Larger ones are freed once drained, so the ring of PARSE_QUEUE_MAX
 * slots never pins a large buffer in each slot (Coinbase's market_trades
 * frames carry ~50 trades: kept, they grew a feed worker by ~50 MB).
 */
#define SLOT_KEEP_MSG 4096
#define SLOT_KEEP_EVENTS 8

typedef struct Slot
{
	FeedContext ctx;
	char	   *msg;			/* kept between uses if small */
	size_t		len;
	size_t		cap;
	ParsedFrame out;
	FeedEvent	inline_events[SLOT_INLINE_EVENTS];
	FeedEvent  *big;			/* for frames with more events; kept if small */
	int			big_cap;
} Slot;

struct ParseThread
{
	FeedParser	parse;
	void		(*fn) (const ParsedFrame *pf, void *arg);	/* what drain calls */
	void	   *fn_arg;
	bool		threaded;
	bool		stop;			/* under lock */
	pthread_t	thread;
	pthread_mutex_t lock;		/* for the two condition variables */
	pthread_cond_t work;		/* frames to parse, or stop */
	pthread_cond_t done;		/* frames parsed */
	pthread_mutex_t context_lock;
	/*
	 * Atomics, each written by one side only, the two sides' on separate
	 * cache lines (a line written by both would move between the cores on
	 * every frame).  The main thread's: submitted, waiting.
	 */
	uint64_t	submitted __attribute__((aligned(64)));	/* frames handed over */
	int			waiting;		/* the main thread waits on done */
	/* the main thread's own */
	uint64_t	drained;		/* frames handed back */
	int			since_wake;		/* frames submitted since the thread was woken */
	int64_t		unwoken_since;	/* receive time of the first of them;
								 * INT64_MAX: none */
	/* the thread's: parsed, sleeping */
	uint64_t	parsed __attribute__((aligned(64)));	/* frames parsed, a prefix */
	int			sleeping;		/* the thread waits on work */
	Slot	   *slots;			/* PARSE_QUEUE_MAX */
	FeedEvent	scratch[PARSE_MAX_EVENTS];
};

static void slot_trim(Slot *s);

/*
 * No wakeup is lost: "publish my counter, full barrier, look at the other
 * side's sleeping/waiting flag" on one side against "set my flag, then
 * look at the counter" (sequentially consistent) on the other means one of
 * the two always sees the other.  The mutex is taken only to sleep or to
 * wake a sleeper.  The main thread publishes each frame with a release
 * store and makes the full barrier (a sequentially consistent no-op
 * fetch_add) only when it considers waking the thread.
 */
#define LOAD(p)			__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v)		__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/* jansson's memory on the parser thread (json_arena.c), reset after each frame */
#define ARENA_SIZE (256 * 1024)

/* Parse the frame in one slot. */
static void
parse_one(ParseThread *t, Slot *s)
{
	ParsedFrame *pf = &s->out;
	int			n = t->parse(s->msg, s->len, &s->ctx, t->scratch, PARSE_MAX_EVENTS, &pf->frame);

	json_arena_reset();			/* the frame's JSON is freed */

	pf->nevents = 0;
	pf->events = s->inline_events;
	pf->excerpt[0] = '\0';
	if (n > SLOT_INLINE_EVENTS && n > s->big_cap)
	{
		FeedEvent  *big = realloc(s->big, sizeof(FeedEvent) * (size_t) n);

		if (big == NULL)
		{
			pf->frame.kind = FEED_FRAME_MALFORMED;
			strcpy(pf->frame.reason, "out of memory for the frame's events");
			n = 0;
		}
		else
		{
			s->big = big;
			s->big_cap = n;
		}
	}
	if (n > 0)
	{
		if (n > SLOT_INLINE_EVENTS)
			pf->events = s->big;
		memcpy(pf->events, t->scratch, sizeof(FeedEvent) * (size_t) n);
		pf->nevents = n;
	}
	if (pf->frame.kind == FEED_FRAME_MALFORMED || pf->frame.kind == FEED_FRAME_ERROR)
	{
		size_t		k = s->len < PARSE_EXCERPT_LEN ? s->len : PARSE_EXCERPT_LEN;

		memcpy(pf->excerpt, s->msg, k);
		pf->excerpt[k] = '\0';
	}
}

static void *
parse_thread_main(void *arg)
{
	ParseThread *t = arg;

	json_arena_attach(ARENA_SIZE);
	for (;;)
	{
		uint64_t	from = t->parsed;
		uint64_t	to = LOAD(&t->submitted);

		if (from == to)
		{
			bool		leave;

			pthread_mutex_lock(&t->lock);
			STORE(&t->sleeping, 1);
			while (LOAD(&t->submitted) == from && !t->stop)
				pthread_cond_wait(&t->work, &t->lock);
			STORE(&t->sleeping, 0);
			leave = t->stop && LOAD(&t->submitted) == from;
			pthread_mutex_unlock(&t->lock);
			if (leave)
				break;			/* stop, and nothing left */
			continue;
		}
		if (to - from > PARSE_ROUND)
			to = from + PARSE_ROUND;
		pthread_mutex_lock(&t->context_lock);
		for (uint64_t i = from; i < to; i++)
			parse_one(t, &t->slots[i % PARSE_QUEUE_MAX]);
		pthread_mutex_unlock(&t->context_lock);
		STORE(&t->parsed, to);
		if (LOAD(&t->waiting))
		{
			pthread_mutex_lock(&t->lock);
			pthread_cond_broadcast(&t->done);
			pthread_mutex_unlock(&t->lock);
		}
	}
	json_arena_detach();
	return NULL;
}

/* Wake the thread if it sleeps. */
static void
wake_thread(ParseThread *t)
{
	t->unwoken_since = INT64_MAX;
	t->since_wake = 0;
	/* the full barrier (an RMW, as TSan does not model fences) */
	(void) __atomic_fetch_add(&t->submitted, 0, __ATOMIC_SEQ_CST);
	if (LOAD(&t->sleeping))
	{
		pthread_mutex_lock(&t->lock);
		pthread_cond_signal(&t->work);
		pthread_mutex_unlock(&t->lock);
	}
}

/*
 * Wait until target frames are parsed, until *until (CLOCK_REALTIME) or,
 * with until NULL, as long as it takes.  True when they are.
 */
static bool
wait_parsed(ParseThread *t, uint64_t target, const struct timespec *until)
{
	if (LOAD(&t->parsed) >= target)
		return true;
	pthread_mutex_lock(&t->lock);
	STORE(&t->waiting, 1);
	/* it may be asleep with frames waiting (wakeups are lazy) */
	pthread_cond_signal(&t->work);
	t->unwoken_since = INT64_MAX;
	t->since_wake = 0;
	while (LOAD(&t->parsed) < target)
	{
		if (until == NULL)
			pthread_cond_wait(&t->done, &t->lock);
		else if (pthread_cond_timedwait(&t->done, &t->lock, until) == ETIMEDOUT)
			break;
	}
	STORE(&t->waiting, 0);
	pthread_mutex_unlock(&t->lock);
	return LOAD(&t->parsed) >= target;
}

ParseThread *
parse_thread_start(FeedParser parse, bool threads,
				   void (*fn) (const ParsedFrame *pf, void *arg), void *arg)
{
	ParseThread *t;
	sigset_t	all,
				old;

	/* cache-line aligned (see the struct), which calloc does not promise */
	if (posix_memalign((void **) &t, 64, sizeof(ParseThread)) != 0)
		return NULL;
	memset(t, 0, sizeof(ParseThread));
	t->slots = calloc(PARSE_QUEUE_MAX, sizeof(Slot));
	if (t->slots == NULL)
	{
		free(t);
		return NULL;
	}
	t->parse = parse;
	t->unwoken_since = INT64_MAX;
	t->fn = fn;
	t->fn_arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->context_lock, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->done, NULL);
	if (!threads)
		return t;
	json_arena_install();
	/* the process's signal handlers must never run on this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t->threaded = pthread_create(&t->thread, NULL, parse_thread_main, t) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return t;
}

bool
parse_thread_running(const ParseThread *t)
{
	return t->threaded;
}

bool
parse_thread_submit(ParseThread *t, int endpoint, uint32_t connection,
					const FeedContext *ctx, int64_t rx_us, const char *msg, size_t len)
{
	Slot	   *s;

	if (t->submitted - t->drained == PARSE_QUEUE_MAX)
	{
		/* a full ring: wait for the thread (the socket is not read meanwhile) */
		if (t->threaded)
			wait_parsed(t, t->drained + 1, NULL);
		/* and hand back what is parsed, to make room */
		parse_thread_drain(t, 0);
	}
	s = &t->slots[t->submitted % PARSE_QUEUE_MAX];
	if (len + 1 > s->cap)
	{
		size_t		cap = len + 1 > 1024 ? len + 1 : 1024;
		char	   *m = realloc(s->msg, cap);

		if (m == NULL)
			return false;
		s->msg = m;
		s->cap = cap;
	}
	memcpy(s->msg, msg, len);
	s->msg[len] = '\0';
	s->len = len;
	s->ctx = *ctx;
	s->out.endpoint = endpoint;
	s->out.connection = connection;
	s->out.rx_us = rx_us;
	if (!t->threaded)
	{
		parse_one(t, s);
		t->submitted++;
		t->parsed++;
		return true;
	}
	__atomic_store_n(&t->submitted, t->submitted + 1, __ATOMIC_RELEASE);

	/*
	 * Wake a sleeping thread once some frames are waiting, or the first of
	 * them has waited PARSE_WAKE_US, not for each: a wakeup per frame costs
	 * more than the parse (and the woken thread preempts this one).  Drain
	 * wakes it for the rest.
	 */
	if (++t->since_wake >= PARSE_WAKE || rx_us - t->unwoken_since >= PARSE_WAKE_US)
		wake_thread(t);
	else if (t->unwoken_since == INT64_MAX)
		t->unwoken_since = rx_us;
	return true;
}

int
parse_thread_drain(ParseThread *t, int64_t wait_us)
{
	uint64_t	upto;
	int			n = 0;

	if (t->threaded)
	{
		if (LOAD(&t->parsed) < t->submitted)
			wake_thread(t);
		/* a long backlog is the thread's to work through: no point waiting */
		if (wait_us > 0 && t->submitted - LOAD(&t->parsed) > PARSE_ROUND)
			wait_us = 0;
		if (wait_us < 0)
			wait_parsed(t, t->submitted, NULL);
		else if (wait_us > 0)
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += wait_us / 1000000;
			until.tv_nsec += (long) (wait_us % 1000000) * 1000;
			if (until.tv_nsec >= 1000000000L)
			{
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			wait_parsed(t, t->submitted, &until);
		}
		upto = LOAD(&t->parsed);
	}
	else
		upto = t->parsed;
	/* the slots up to upto are the thread's no more: read them without a lock */
	for (; t->drained < upto; t->drained++, n++)
	{
		Slot	   *s = &t->slots[t->drained % PARSE_QUEUE_MAX];

		t->fn(&s->out, t->fn_arg);
		slot_trim(s);
	}
	return n;
}

/* Free what a drained slot holds beyond what it keeps (SLOT_KEEP_*). */
static void
slot_trim(Slot *s)
{
	if (s->big_cap > SLOT_KEEP_EVENTS)
	{
		free(s->big);
		s->big = NULL;
		s->big_cap = 0;
	}
	if (s->cap > SLOT_KEEP_MSG)
	{
		free(s->msg);
		s->msg = NULL;
		s->cap = 0;
	}
}

size_t
parse_thread_retained(const ParseThread *t)
{
	size_t		bytes = 0;

	for (int i = 0; i < PARSE_QUEUE_MAX; i++)
		bytes += t->slots[i].cap + sizeof(FeedEvent) * (size_t) t->slots[i].big_cap;
	return bytes;
}

void
parse_thread_lock_context(ParseThread *t)
{
	if (t->threaded)
		pthread_mutex_lock(&t->context_lock);
}

void
parse_thread_unlock_context(ParseThread *t)
{
	if (t->threaded)
		pthread_mutex_unlock(&t->context_lock);
}

void
parse_thread_stop(ParseThread *t)
{
	if (t->threaded)
	{
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_signal(&t->work);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
		t->threaded = false;
	}
}

void
parse_thread_free(ParseThread *t)
{
	parse_thread_stop(t);
	for (int i = 0; i < PARSE_QUEUE_MAX; i++)
	{
		free(t->slots[i].msg);
		free(t->slots[i].big);
	}
	free(t->slots);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->context_lock);
	pthread_cond_destroy(&t->work);
	pthread_cond_destroy(&t->done);
	free(t);
}
