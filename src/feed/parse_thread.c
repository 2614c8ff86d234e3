/*-------------------------------------------------------------------------
 *
 * src/feed/parse_thread.c
 *	  A feed worker's parser thread (see parse_thread.h).
 *
 * Two singly linked queues under one mutex: frames waiting to be parsed
 * and parsed frames waiting to be drained.  The thread takes up to
 * PARSE_ROUND frames at a time, parses them outside the queue mutex (under
 * the context lock, as the parser may read the worker's symbol table) and
 * appends them to the output queue, so results come back in submission
 * order.  Pure C and POSIX threads: no PostgreSQL header, unit-tested in
 * test/unit/test_parse_thread.c.
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

#include <jansson.h>

#define PARSE_ROUND 256			/* frames the thread takes at a time */
#define PARSE_MAX_EVENTS 2048	/* events of one frame */

typedef struct Item
{
	struct Item *next;
	FeedContext ctx;
	char	   *msg;			/* owned until parsed */
	size_t		len;
	ParsedFrame out;
} Item;

struct ParseThread
{
	FeedParser	parse;
	bool		threaded;
	bool		stop;
	pthread_t	thread;
	pthread_mutex_t lock;		/* the queues and counters below */
	pthread_cond_t work;		/* frames to parse, or stop */
	pthread_cond_t done;		/* frames parsed */
	pthread_mutex_t context_lock;
	Item	   *in_head,
			   *in_tail;
	int			nin;			/* waiting for the thread */
	int			busy;			/* taken by the thread, not yet out */
	Item	   *out_head,
			   *out_tail;
	FeedEvent	scratch[PARSE_MAX_EVENTS];
};

/* Parse one frame into its item; frees the frame's text. */
static void
parse_one(ParseThread *t, Item *it)
{
	ParsedFrame *pf = &it->out;
	int			n = t->parse(it->msg, it->len, &it->ctx, t->scratch, PARSE_MAX_EVENTS, &pf->frame);

	pf->nevents = 0;
	pf->events = NULL;
	pf->excerpt[0] = '\0';
	if (n > 0)
	{
		pf->events = malloc(sizeof(FeedEvent) * (size_t) n);
		if (pf->events)
		{
			memcpy(pf->events, t->scratch, sizeof(FeedEvent) * (size_t) n);
			pf->nevents = n;
		}
		else
		{
			pf->frame.kind = FEED_FRAME_MALFORMED;
			strcpy(pf->frame.reason, "out of memory for the frame's events");
		}
	}
	if (pf->frame.kind == FEED_FRAME_MALFORMED || pf->frame.kind == FEED_FRAME_ERROR)
	{
		size_t		k = it->len < PARSE_EXCERPT_LEN ? it->len : PARSE_EXCERPT_LEN;

		memcpy(pf->excerpt, it->msg, k);
		pf->excerpt[k] = '\0';
	}
	free(it->msg);
	it->msg = NULL;
}

static void *
parse_thread_main(void *arg)
{
	ParseThread *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;)
	{
		Item	   *head,
				   *tail;
		int			n = 0;

		while (t->in_head == NULL && !t->stop)
			pthread_cond_wait(&t->work, &t->lock);
		if (t->in_head == NULL)
			break;				/* stop, and nothing left */
		head = tail = t->in_head;
		for (n = 1; n < PARSE_ROUND && tail->next; n++)
			tail = tail->next;
		t->in_head = tail->next;
		if (t->in_head == NULL)
			t->in_tail = NULL;
		tail->next = NULL;
		t->nin -= n;
		t->busy = n;
		pthread_mutex_unlock(&t->lock);

		pthread_mutex_lock(&t->context_lock);
		for (Item *it = head; it; it = it->next)
			parse_one(t, it);
		pthread_mutex_unlock(&t->context_lock);

		pthread_mutex_lock(&t->lock);
		if (t->out_tail)
			t->out_tail->next = head;
		else
			t->out_head = head;
		t->out_tail = tail;
		t->busy = 0;
		pthread_cond_broadcast(&t->done);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

ParseThread *
parse_thread_start(FeedParser parse, bool threads)
{
	ParseThread *t = calloc(1, sizeof(ParseThread));
	sigset_t	all,
				old;

	if (t == NULL)
		return NULL;
	t->parse = parse;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->context_lock, NULL);
	pthread_cond_init(&t->work, NULL);
	pthread_cond_init(&t->done, NULL);
	if (!threads)
		return t;
	/* jansson picks its hash seed on first use: do it before there are two threads */
	json_object_seed(0);
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

static void
append_out(ParseThread *t, Item *it)
{
	if (t->out_tail)
		t->out_tail->next = it;
	else
		t->out_head = it;
	t->out_tail = it;
}

bool
parse_thread_submit(ParseThread *t, int endpoint, uint32_t connection,
					const FeedContext *ctx, int64_t rx_us, char *msg, size_t len)
{
	Item	   *it = malloc(sizeof(Item));

	if (it == NULL)
	{
		free(msg);
		return false;
	}
	it->next = NULL;
	it->ctx = *ctx;
	it->msg = msg;
	it->len = len;
	it->out.endpoint = endpoint;
	it->out.connection = connection;
	it->out.rx_us = rx_us;
	if (!t->threaded)
	{
		parse_one(t, it);
		append_out(t, it);
		return true;
	}
	pthread_mutex_lock(&t->lock);
	while (t->nin + t->busy >= PARSE_QUEUE_MAX)
		pthread_cond_wait(&t->done, &t->lock);
	if (t->in_tail)
		t->in_tail->next = it;
	else
		t->in_head = it;
	t->in_tail = it;
	t->nin++;
	pthread_cond_signal(&t->work);
	pthread_mutex_unlock(&t->lock);
	return true;
}

int
parse_thread_drain(ParseThread *t, int64_t wait_us,
				   void (*fn) (const ParsedFrame *pf, void *arg), void *arg)
{
	Item	   *head;
	int			n = 0;

	if (t->threaded)
	{
		pthread_mutex_lock(&t->lock);
		if (wait_us != 0)
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			if (wait_us > 0)
			{
				until.tv_sec += wait_us / 1000000;
				until.tv_nsec += (long) (wait_us % 1000000) * 1000;
				if (until.tv_nsec >= 1000000000L)
				{
					until.tv_sec++;
					until.tv_nsec -= 1000000000L;
				}
			}
			while (t->nin + t->busy > 0)
			{
				if (wait_us < 0)
					pthread_cond_wait(&t->done, &t->lock);
				else if (pthread_cond_timedwait(&t->done, &t->lock, &until) == ETIMEDOUT)
					break;
			}
		}
		head = t->out_head;
		t->out_head = t->out_tail = NULL;
		pthread_mutex_unlock(&t->lock);
	}
	else
	{
		head = t->out_head;
		t->out_head = t->out_tail = NULL;
	}
	while (head)
	{
		Item	   *next = head->next;

		fn(&head->out, arg);
		free(head->out.events);
		free(head);
		head = next;
		n++;
	}
	return n;
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
