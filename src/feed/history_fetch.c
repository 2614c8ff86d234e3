/*-------------------------------------------------------------------------
 *
 * src/feed/history_fetch.c
 *	  A thread that fetches and parses the backfill's next page.
 *
 * See history_fetch.h.  One thread per backfill worker, started at the
 * first request; it holds one libcurl easy handle, so its connection to
 * the exchange is kept alive from page to page.  The worker writes page N
 * while the thread fetches and parses page N + 1: the REST round trip,
 * the exchange's work and jansson's parse (about a third of the worker's
 * time per page) overlap the ingest; jansson's memory there is an arena
 * reset after each page (json_arena.c), as on the feeds' parser thread.  Every signal is blocked on the
 * thread (PostgreSQL's handlers must run on the main thread); the
 * transfer stops early when *abort_flag (InterruptPending) is set or
 * after timeout_ms.  Plain-text URLs get a socket only to a loopback
 * address, the body and the rate-limit headers are read as in
 * rest_client.c (curl_common.c).
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include "feed/history_fetch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/curl_common.h"
#include "feed/json_arena.h"

#define FETCH_MAX_BODY	(64 * 1024 * 1024)
#define FETCH_EVENTS	1000
#define FETCH_SLOTS		(HISTORY_FETCH_AHEAD_MAX + 2)
#define FETCH_ARENA		(8 * 1024 * 1024)	/* jansson's memory for one page (json_arena.c) */

/* One page: its URL and what the thread got for it. */
typedef struct Slot
{
	char		url[2048];
	HistoryFetch result;
	FeedEvent	events[FETCH_EVENTS];
} Slot;

/*
 * The ring: slots head .. head + ready - 1 are fetched, in the order the
 * job reads them; the thread fetches slot head + ready (busy) or will
 * (want, next_url).  It never writes the slot taken last (head - 1),
 * whose events the caller may still be copying, so at most
 * FETCH_SLOTS - 2 wait.  A reset (the worker asked for another URL)
 * bumps gen: what the thread is fetching for an older gen is dropped.
 */
typedef struct Fetcher
{
	pthread_t	thread;
	bool		started;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* something to fetch, or room for it */
	pthread_cond_t done;		/* a fetch ended */
	Slot		slots[FETCH_SLOTS];
	int			head;
	int			ready;
	bool		busy;
	uint64_t	busy_gen;
	bool		want;
	char		next_url[2048];
	HistoryRequest next;		/* its strings are the four below */
	int			ahead_left;		/* pages the thread may fetch unasked after next */
	int			weight_stop;	/* used weight at which it stops; -1: none */
	uint64_t	gen;
	char		exchange[32];
	char		base[512];
	char		raw_symbol[64];
	char		symbol[64];
	bool		plain;
	long		timeout_ms;
	char		ca_file[1024];
	volatile int *abort_flag;
	/* the thread's own: the slot it fills, its connection */
	HistoryFetch *result;
	size_t		cap;
	CURL	   *curl;
} Fetcher;

static Fetcher f = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
.done = PTHREAD_COND_INITIALIZER};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	size_t		n = size * nmemb;
	HistoryFetch *r = f.result;

	(void) arg;
	return feed_curl_append(&r->body, &r->len, &f.cap, ptr, n, FETCH_MAX_BODY) == 1 ? n : 0;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void) arg;
	feed_curl_rate_header(ptr, size * nmemb, &f.result->retry_after, &f.result->used_weight);
	return size * nmemb;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void) arg;
	(void) dltotal;
	(void) dlnow;
	(void) ultotal;
	(void) ulnow;
	return f.abort_flag && *f.abort_flag ? 1 : 0;
}

/* Fetch url and parse it as request req into slot (called without the lock). */
static void
fetch_one(Slot *slot, const char *url, const HistoryRequest *req, bool plain, long timeout_ms,
		  const char *ca_file)
{
	HistoryFetch *r = &slot->result;
	char		errbuf[CURL_ERROR_SIZE] = "";
	CURLcode	rc;

	free(r->body);
	memset(r, 0, sizeof(*r));
	f.result = r;
	f.cap = 0;
	r->retry_after = r->used_weight = -1;
	r->events = slot->events;
	if (!f.curl && (f.curl = curl_easy_init()) == NULL)
	{
		snprintf(r->error, sizeof(r->error), "could not create a libcurl handle");
		return;
	}
	curl_easy_reset(f.curl);
	curl_easy_setopt(f.curl, CURLOPT_URL, url);
	curl_easy_setopt(f.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f.curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(f.curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(f.curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(f.curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(f.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(f.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(f.curl, CURLOPT_USERAGENT, "zvt/0.1");
	curl_easy_setopt(f.curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(f.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (plain)
		curl_easy_setopt(f.curl, CURLOPT_OPENSOCKETFUNCTION, feed_curl_loopback_socket);
	if (ca_file[0])
		curl_easy_setopt(f.curl, CURLOPT_CAINFO, ca_file);
	rc = curl_easy_perform(f.curl);
	curl_easy_getinfo(f.curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc != CURLE_OK)
	{
		snprintf(r->error, sizeof(r->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return;
	}
	r->got = true;
	if (!r->body && (r->body = calloc(1, 1)) == NULL)
	{
		r->got = false;
		snprintf(r->error, sizeof(r->error), "out of memory");
		return;
	}
	if (r->status == 200)
	{
		r->parsed = history_parse(req, r->body, r->len, slot->events, FETCH_EVENTS, &r->page,
								  r->reason, sizeof(r->reason));
		json_arena_reset();		/* the page's JSON is freed */
	}
}

/*
 * The page after the one just fetched into slot, when the thread may go
 * on unasked: a good page, not at the weight limit, more to read.
 */
static bool
chain_next(const Slot *slot, const HistoryRequest *req)
{
	const HistoryFetch *r = &slot->result;
	HistoryRequest next;
	char		reason[256];

	if (f.ahead_left <= 0 || !r->got || r->status != 200 || !r->parsed ||
		(f.weight_stop >= 0 && r->used_weight >= f.weight_stop) ||
		(f.abort_flag && *f.abort_flag) || !history_next(req, &r->page, &next) ||
		!history_url(&next, f.next_url, sizeof(f.next_url), reason, sizeof(reason)))
		return false;
	f.next = next;
	f.ahead_left--;
	return true;
}

static void *
fetch_main(void *arg)
{
	(void) arg;
	json_arena_attach(FETCH_ARENA);
	pthread_mutex_lock(&f.lock);
	for (;;)
	{
		Slot	   *slot;
		HistoryRequest req;
		char		exchange[32],
					base[512],
					raw_symbol[64],
					symbol[64],
					ca_file[1024];
		bool		plain;
		long		timeout_ms;

		while (!f.want || f.ready >= FETCH_SLOTS - 2)
			pthread_cond_wait(&f.work, &f.lock);
		/* the request, copied: a reset may change f's while this runs */
		slot = &f.slots[(f.head + f.ready) % FETCH_SLOTS];
		snprintf(slot->url, sizeof(slot->url), "%s", f.next_url);
		req = f.next;
		memcpy(exchange, f.exchange, sizeof(exchange));
		memcpy(base, f.base, sizeof(base));
		memcpy(raw_symbol, f.raw_symbol, sizeof(raw_symbol));
		memcpy(symbol, f.symbol, sizeof(symbol));
		memcpy(ca_file, f.ca_file, sizeof(ca_file));
		req.exchange = exchange;
		req.base = base;
		req.raw_symbol = raw_symbol;
		req.symbol = symbol;
		plain = f.plain;
		timeout_ms = f.timeout_ms;
		f.want = false;
		f.busy = true;
		f.busy_gen = f.gen;
		pthread_mutex_unlock(&f.lock);
		fetch_one(slot, slot->url, &req, plain, timeout_ms, ca_file);
		pthread_mutex_lock(&f.lock);
		f.busy = false;
		if (f.busy_gen == f.gen)
		{
			f.ready++;
			f.want = chain_next(slot, &req);
		}
		pthread_cond_broadcast(&f.done);
	}
	return NULL;
}

/* Drop what was fetched ahead and stop the chain (with the lock). */
static void
reset(void)
{
	for (int i = 0; i < f.ready; i++)
	{
		Slot	   *s = &f.slots[(f.head + i) % FETCH_SLOTS];

		free(s->result.body);
		s->result.body = NULL;
	}
	f.ready = 0;
	f.want = false;
	f.ahead_left = 0;
	f.gen++;
}

/* Is url fetched, being fetched or next, for the current gen? (with the lock) */
static bool
coming(const char *url)
{
	for (int i = 0; i < f.ready; i++)
		if (strcmp(f.slots[(f.head + i) % FETCH_SLOTS].url, url) == 0)
			return true;
	return (f.busy && f.busy_gen == f.gen &&
			strcmp(f.slots[(f.head + f.ready) % FETCH_SLOTS].url, url) == 0) ||
		(f.want && strcmp(f.next_url, url) == 0);
}

bool
history_fetch_start(const char *url, const HistoryRequest *r, bool plain, long timeout_ms,
					const char *ca_file, volatile int *abort_flag, int ahead, int weight_stop)
{
	if (strlen(url) >= sizeof(f.next_url) || strlen(r->exchange) >= sizeof(f.exchange) ||
		strlen(r->base) >= sizeof(f.base) || strlen(r->raw_symbol) >= sizeof(f.raw_symbol) ||
		strlen(r->symbol) >= sizeof(f.symbol) || (ca_file && strlen(ca_file) >= sizeof(f.ca_file)))
		return false;
	if (!f.started)
	{
		sigset_t	all,
					old;

		json_arena_install();
		/* the process's signal handlers must never run on this thread */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		f.started = pthread_create(&f.thread, NULL, fetch_main, NULL) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!f.started)
			return false;
	}
	pthread_mutex_lock(&f.lock);
	if (!coming(url))
	{
		reset();
		snprintf(f.next_url, sizeof(f.next_url), "%s", url);
		f.next = *r;
		snprintf(f.exchange, sizeof(f.exchange), "%s", r->exchange);
		snprintf(f.base, sizeof(f.base), "%s", r->base);
		snprintf(f.raw_symbol, sizeof(f.raw_symbol), "%s", r->raw_symbol);
		snprintf(f.symbol, sizeof(f.symbol), "%s", r->symbol);
		f.plain = plain;
		f.timeout_ms = timeout_ms;
		snprintf(f.ca_file, sizeof(f.ca_file), "%s", ca_file ? ca_file : "");
		f.abort_flag = abort_flag;
		f.ahead_left = ahead < 0 ? 0 : ahead > HISTORY_FETCH_AHEAD_MAX ? HISTORY_FETCH_AHEAD_MAX : ahead;
		f.weight_stop = weight_stop;
		f.want = true;
		pthread_cond_signal(&f.work);
	}
	pthread_mutex_unlock(&f.lock);
	return true;
}

bool
history_fetch_take(const char *url, HistoryFetch *out)
{
	bool		ok = false;

	if (!f.started)
		return false;
	pthread_mutex_lock(&f.lock);
	for (;;)
	{
		Slot	   *s = &f.slots[f.head];

		if (f.ready > 0 && strcmp(s->url, url) == 0)
		{
			*out = s->result;
			s->result.body = NULL;	/* the caller's now */
			f.head = (f.head + 1) % FETCH_SLOTS;
			f.ready--;
			pthread_cond_signal(&f.work);	/* room for one more */
			ok = true;
			break;
		}
		if (f.ready == 0 && coming(url))
		{
			pthread_cond_wait(&f.done, &f.lock);
			continue;
		}

		/*
		 * The worker went elsewhere: what was fetched ahead is stale by the
		 * time it might be asked for again (a page at the newest trades
		 * grows), so it is never used.
		 */
		reset();
		break;
	}
	pthread_mutex_unlock(&f.lock);
	return ok;
}
