/*-------------------------------------------------------------------------
 *
 * src/book/sync.c
 *	  Each exchange's rule for keeping a book in step with its stream: when
 *	  a message applies, when it is stale, and when the stream broke and
 *	  the book must start again from a new snapshot.
 *
 * Pure C (book.h).  The rules (the exchanges' notes in test/fixtures/exchanges):
 *
 *	Binance   diffs carry U (first update id) and u (last).  They are
 *			  buffered until the REST snapshot's lastUpdateId L arrives;
 *			  diffs with u <= L are dropped, and from then on a diff with
 *			  u <= last is stale and one with U > last + 1 is a gap.
 *	Binance USD-M futures: the same buffer and snapshot; diffs with u < L
 *			  are dropped; the first applied must have U <= L <= u (or pu =
 *			  L: it follows the snapshot exactly); from then on each diff's
 *			  pu must equal the previous diff's u, else it is a gap.
 *	Bybit	  a snapshot loads the book (and any later snapshot resets it);
 *			  a delta's u must be the previous u + 1.
 *	OKX		  a snapshot has prevSeqId -1; an update's prevSeqId must be the
 *			  previous seqId (a heartbeat repeats it, a maintenance reset
 *			  may move seqId backwards: both fine).  After each message the
 *			  CRC32 of the top 25 levels must equal its checksum, unless the
 *			  exchange sent 0 (OKX stopped computing it in 2026-06).
 *	Coinbase  a snapshot loads, updates apply; continuity is the
 *			  connection's sequence_num, which the caller checks.
 *
 * For every rule a crossed book after a message is a break too.  A break
 * leaves the sync waiting for a new snapshot; the caller fetches it
 * (Binance REST) or resubscribes.
 *
 *-------------------------------------------------------------------------
 */
#include "book/book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void drop_buffer(BookSync *s);
static bool buffer_msg(BookSync *s, const BookMsg *m);
static BookVerdict load_snapshot(BookSync *s, const BookMsg *m, char *reason, size_t len);
static BookVerdict apply_checked(BookSync *s, const BookMsg *m, char *reason, size_t len);
static BookVerdict futures_check(BookSync *s, const BookMsg *m, char *reason, size_t len);

bool
book_sync_init(BookSync *s, BookRule rule, int cap)
{
	memset(s, 0, sizeof(BookSync));
	s->rule = rule;
	s->state = BOOK_STATE_WAITING;
	return book_init(&s->book, cap);
}

void
book_sync_free(BookSync *s)
{
	drop_buffer(s);
	book_free(&s->book);
}

void
book_sync_reset(BookSync *s)
{
	drop_buffer(s);
	book_clear(&s->book);
	s->state = BOOK_STATE_WAITING;
	s->last = 0;
}

static void
drop_buffer(BookSync *s)
{
	for (int i = 0; i < s->nbuffered; i++)
		free((void *) s->buffered[i].updates);
	s->nbuffered = 0;
	s->overflow = false;
}

/* Keep a copy of a Binance diff until the snapshot; false when full or out of memory. */
static bool
buffer_msg(BookSync *s, const BookMsg *m)
{
	BookUpdate *copy;

	if (s->nbuffered == BOOK_BUFFER_MAX)
		return false;
	copy = malloc(sizeof(BookUpdate) * (size_t) (m->n > 0 ? m->n : 1));
	if (!copy)
		return false;
	memcpy(copy, m->updates, sizeof(BookUpdate) * (size_t) m->n);
	s->buffered[s->nbuffered] = *m;
	s->buffered[s->nbuffered].updates = copy;
	s->nbuffered++;
	return true;
}

static BookVerdict
resync(BookSync *s, char *reason, size_t len, const char *fmt, long long a, long long b)
{
	snprintf(reason, len, fmt, a, b);
	book_sync_reset(s);
	return BOOK_RESYNC;
}

/* Apply a message to a live book, then check it is not crossed and its checksum. */
static BookVerdict
apply_checked(BookSync *s, const BookMsg *m, char *reason, size_t len)
{
	book_apply(&s->book, m->updates, m->n);
	s->level_updates += (uint64_t) m->n;
	s->applied++;
	if (m->last != 0 || s->rule == BOOK_RULE_OKX)
		s->last = m->last;
	if (m->has_checksum && m->checksum != 0)
	{
		int32_t		mine = book_checksum(&s->book);

		if (mine != m->checksum)
			return resync(s, reason, len, "checksum mismatch: the exchange sent %lld, the book gives %lld",
						  (long long) m->checksum, (long long) mine);
	}
	if (book_crossed(&s->book))
		return resync(s, reason, len, "crossed book: best bid %lld >= best ask %lld (10^-8 units)",
					  (long long) s->book.bids[0].px, (long long) s->book.asks[0].px);
	return BOOK_APPLIED;
}

static BookVerdict
load_snapshot(BookSync *s, const BookMsg *m, char *reason, size_t len)
{
	BookVerdict v;

	book_clear(&s->book);
	s->state = BOOK_STATE_LIVE;
	v = apply_checked(s, m, reason, len);
	if (v != BOOK_APPLIED || !BOOK_RULE_REST(s->rule))
		return v;
	s->fresh = true;

	/* Binance: replay the diffs that arrived while the snapshot was fetched */
	for (int i = 0; i < s->nbuffered && v == BOOK_APPLIED; i++)
	{
		const BookMsg *d = &s->buffered[i];

		if (s->rule == BOOK_RULE_BINANCE_FUTURES)
		{
			v = futures_check(s, d, reason, len);
			if (v == BOOK_STALE)
				v = BOOK_APPLIED;	/* dropped; the next may apply */
			else if (v == BOOK_APPLIED)
				v = apply_checked(s, d, reason, len);
			if (v == BOOK_RESYNC)
				drop_buffer(s);
			continue;
		}
		if (d->last <= s->last)
			continue;
		if (d->first > s->last + 1)
		{
			long long	want = (long long) s->last + 1;

			drop_buffer(s);
			return resync(s, reason, len, "sequence gap: expected update %lld, got %lld",
						  want, (long long) d->first);
		}
		v = apply_checked(s, d, reason, len);
	}
	drop_buffer(s);
	return v;
}

/*
 * Binance futures' continuity of diff m (U = first, u = last, pu = prev):
 * BOOK_APPLIED when it applies, BOOK_STALE when it is older than the
 * snapshot, BOOK_RESYNC (the book reset) on a gap.
 */
static BookVerdict
futures_check(BookSync *s, const BookMsg *m, char *reason, size_t len)
{
	if (s->fresh)
	{
		/* the first diff after the snapshot L: U <= L <= u, or pu = L */
		if (m->last < s->last)
			return BOOK_STALE;
		if (m->first > s->last && m->prev != s->last)
			return resync(s, reason, len, "sequence gap: the first diff after snapshot %lld starts at %lld",
						  (long long) s->last, (long long) m->first);
		s->fresh = false;
		return BOOK_APPLIED;
	}
	if (s->last != m->prev)
		return resync(s, reason, len, "sequence gap: pu %lld, the last u was %lld",
					  (long long) m->prev, (long long) s->last);
	return BOOK_APPLIED;
}

BookVerdict
book_sync_feed(BookSync *s, const BookMsg *m, char *reason, size_t len)
{
	BookVerdict v;

	reason[0] = '\0';
	if (m->snapshot)
	{
		if (BOOK_RULE_REST(s->rule) && s->state == BOOK_STATE_LIVE)
			return BOOK_STALE;	/* a late REST answer: the book is already live */
		return load_snapshot(s, m, reason, len);
	}
	if (s->state == BOOK_STATE_WAITING)
	{
		if (!BOOK_RULE_REST(s->rule))
			return BOOK_WAITING;
		if (!buffer_msg(s, m))
		{
			/* the snapshot is long in coming: start the buffer again */
			drop_buffer(s);
			s->overflow = true;
			buffer_msg(s, m);
		}
		return BOOK_BUFFERED;
	}
	switch (s->rule)
	{
		case BOOK_RULE_BINANCE:
			if (m->last <= s->last)
				return BOOK_STALE;
			if (m->first > s->last + 1)
				return resync(s, reason, len, "sequence gap: expected update %lld, got %lld",
							  (long long) s->last + 1, (long long) m->first);
			break;
		case BOOK_RULE_BYBIT:
			if (m->last <= s->last && m->last != 0)
				return BOOK_STALE;
			if (m->last != s->last + 1)
				return resync(s, reason, len, "sequence gap: expected update %lld, got %lld",
							  (long long) s->last + 1, (long long) m->last);
			break;
		case BOOK_RULE_OKX:
			if (m->prev != s->last)
				return resync(s, reason, len, "sequence gap: prevSeqId %lld, the last seqId was %lld",
							  (long long) m->prev, (long long) s->last);
			break;
		case BOOK_RULE_BINANCE_FUTURES:
			if ((v = futures_check(s, m, reason, len)) != BOOK_APPLIED)
				return v;
			break;
		case BOOK_RULE_COINBASE:
			break;
	}
	return apply_checked(s, m, reason, len);
}
