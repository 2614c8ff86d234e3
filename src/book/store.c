/*-------------------------------------------------------------------------
 *
 * src/book/store.c
 *	  The live order books in shared memory ("zvt book"): a fixed array of
 *	  BOOK_STORE_SLOTS slots, each one book's top levels, written by one
 *	  feed worker and read by any backend.
 *
 * Locking.  The "zvt book" LWLock protects the slots' keys (which book a
 * slot holds): claiming and releasing take it exclusive, finding a slot
 * takes it shared.  The levels are not under the lock: each slot has a
 * single writer (its exchange's feed worker; a claim is per exchange and
 * symbol), which publishes under a sequence counter (a seqlock): odd while
 * it writes, even after, with write barriers between.  A reader copies the
 * levels and retries if the counter was odd or moved meanwhile, so a
 * reader never waits for the worker and the worker never waits for a
 * reader.  A publication is at most 2 x 1000 levels of 16 bytes.
 *
 * Keys.  As on the bus (bus.c), shared memory outlives DROP EXTENSION and
 * is shared by every database: a slot is keyed by (database, installation
 * = the oid of zvt.instruments, exchange, symbol), so another database
 * never sees this one's books.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "book/store.h"
#include "bus/bus.h"
#include "zvt.h"

typedef struct BookSlot
{
	/* key and bookkeeping: under BookShared.lock */
	Oid			dboid;			/* InvalidOid: free */
	Oid			install;
	char		exchange[BOOK_EXCHANGE_LEN];
	char		symbol[BOOK_SYMBOL_LEN];
	int32		instrument_id;
	int			depth;
	/* the book: written by the one worker under `change` (seqlock) */
	pg_atomic_uint32 change;	/* odd while being written */
	bool		live;
	int64		seq;
	TimestampTz updated_at;
	int64		updates;
	int64		level_updates;
	int64		resyncs;
	int			nbids;
	int			nasks;
	int64		bid_px[BOOK_MAX_DEPTH];
	int64		bid_qty[BOOK_MAX_DEPTH];
	int64		ask_px[BOOK_MAX_DEPTH];
	int64		ask_qty[BOOK_MAX_DEPTH];
} BookSlot;

typedef struct BookShared
{
	LWLock	   *lock;			/* protects every slot's key fields */
	BookSlot	slots[BOOK_STORE_SLOTS];
} BookShared;

static BookShared *books = NULL;

static int	slot_find(const char *exchange, const char *symbol, int32 instrument_id);
static void slot_copy(BookSlot *s, int depth, BookCopy *out);

Size
book_shmem_size(void)
{
	return sizeof(BookShared);
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
book_shmem_init(void)
{
	bool		found;

	books = ShmemInitStruct("zvt book", book_shmem_size(), &found);
	if (!found)
	{
		memset(books, 0, book_shmem_size());
		books->lock = &(GetNamedLWLockTranche("zvt book"))->lock;
		for (int i = 0; i < BOOK_STORE_SLOTS; i++)
			pg_atomic_init_u32(&books->slots[i].change, 0);
	}
}

static void
book_require(void)
{
	zvt_require_preload("the order books");
}

/*
 * The slot of this installation's book, by exchange and symbol (or, when
 * exchange is NULL, by instrument id); -1 when there is none.  Under the
 * lock, shared or exclusive.
 */
static int
slot_find(const char *exchange, const char *symbol, int32 instrument_id)
{
	Oid			install = bus_install();

	for (int i = 0; i < BOOK_STORE_SLOTS; i++)
	{
		BookSlot   *s = &books->slots[i];

		if (s->dboid != MyDatabaseId || s->install != install)
			continue;
		if (exchange ? (strcmp(s->exchange, exchange) == 0 && strcmp(s->symbol, symbol) == 0)
			: s->instrument_id == instrument_id)
			return i;
	}
	return -1;
}

int
book_store_claim(const char *exchange, const char *symbol, int32 instrument_id, int depth)
{
	int			i;

	book_require();
	LWLockAcquire(books->lock, LW_EXCLUSIVE);
	i = slot_find(exchange, symbol, instrument_id);
	if (i < 0)
	{
		for (i = 0; i < BOOK_STORE_SLOTS; i++)
			if (!OidIsValid(books->slots[i].dboid))
				break;
		if (i == BOOK_STORE_SLOTS)
			i = -1;
		else
		{
			BookSlot   *s = &books->slots[i];

			s->dboid = MyDatabaseId;
			s->install = bus_install();
			strlcpy(s->exchange, exchange, sizeof(s->exchange));
			strlcpy(s->symbol, symbol, sizeof(s->symbol));
			s->live = false;
			s->seq = 0;
			s->updated_at = 0;
			s->updates = s->level_updates = s->resyncs = 0;
			s->nbids = s->nasks = 0;
		}
	}
	if (i >= 0)
	{
		books->slots[i].instrument_id = instrument_id;
		books->slots[i].depth = Min(Max(depth, 1), BOOK_MAX_DEPTH);
	}
	LWLockRelease(books->lock);
	return i;
}

void
book_store_release(int slot)
{
	if (slot < 0 || slot >= BOOK_STORE_SLOTS)
		return;
	LWLockAcquire(books->lock, LW_EXCLUSIVE);
	books->slots[slot].dboid = InvalidOid;
	LWLockRelease(books->lock);
}

/* Size x mult / 10^8 without overflow (mult is BOOK_SCALE for base units). */
static inline int64
scale_qty(int64 qty, int64 mult)
{
	if (mult == BOOK_SCALE)
		return qty;
	return (int64) (((__int128) qty * mult) / BOOK_SCALE);
}

void
book_store_publish(int slot, const Book *b, int64 qty_mult, bool live, int64 seq,
				   int64 updates, int64 level_updates, int64 resyncs, TimestampTz ts)
{
	BookSlot   *s = &books->slots[slot];
	int			nb = Min(b->nbids, s->depth),
				na = Min(b->nasks, s->depth);

	/* odd: a reader that starts now retries */
	pg_atomic_fetch_add_u32(&s->change, 1);
	pg_write_barrier();
	for (int i = 0; i < nb; i++)
	{
		s->bid_px[i] = b->bids[i].px;
		s->bid_qty[i] = scale_qty(b->bids[i].qty, qty_mult);
	}
	for (int i = 0; i < na; i++)
	{
		s->ask_px[i] = b->asks[i].px;
		s->ask_qty[i] = scale_qty(b->asks[i].qty, qty_mult);
	}
	s->nbids = nb;
	s->nasks = na;
	s->live = live;
	s->seq = seq;
	s->updates = updates;
	s->level_updates = level_updates;
	s->resyncs = resyncs;
	s->updated_at = ts;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&s->change, 1);
}

/* Copy a slot's top depth levels, retrying while its writer is at work. */
static void
slot_copy(BookSlot *s, int depth, BookCopy *out)
{
	for (;;)
	{
		uint32		before = pg_atomic_read_u32(&s->change);
		int			nb,
					na;

		if (before & 1)
		{
			pg_spin_delay();
			continue;
		}
		pg_read_barrier();
		nb = Min(Min(s->nbids, depth), BOOK_MAX_DEPTH);
		na = Min(Min(s->nasks, depth), BOOK_MAX_DEPTH);
		memcpy(out->bid_px, s->bid_px, sizeof(int64) * Max(nb, 0));
		memcpy(out->bid_qty, s->bid_qty, sizeof(int64) * Max(nb, 0));
		memcpy(out->ask_px, s->ask_px, sizeof(int64) * Max(na, 0));
		memcpy(out->ask_qty, s->ask_qty, sizeof(int64) * Max(na, 0));
		out->nbids = Max(nb, 0);
		out->nasks = Max(na, 0);
		out->live = s->live;
		out->seq = s->seq;
		out->updates = s->updates;
		out->level_updates = s->level_updates;
		out->resyncs = s->resyncs;
		out->updated_at = s->updated_at;
		pg_read_barrier();
		if (pg_atomic_read_u32(&s->change) == before)
			return;
	}
}

/* Find and copy under the shared lock (the key cannot change meanwhile). */
static bool
read_slot(const char *exchange, const char *symbol, int32 instrument_id, int depth, BookCopy *out)
{
	int			i;

	book_require();
	if (!OidIsValid(bus_install()))
		return false;
	LWLockAcquire(books->lock, LW_SHARED);
	i = slot_find(exchange, symbol, instrument_id);
	if (i >= 0)
	{
		BookSlot   *s = &books->slots[i];

		strlcpy(out->exchange, s->exchange, sizeof(out->exchange));
		strlcpy(out->symbol, s->symbol, sizeof(out->symbol));
		out->instrument_id = s->instrument_id;
		out->depth = s->depth;
		slot_copy(s, depth, out);
	}
	LWLockRelease(books->lock);
	return i >= 0;
}

bool
book_store_read(const char *exchange, const char *symbol, int depth, BookCopy *out)
{
	return read_slot(exchange, symbol, 0, depth, out);
}

bool
book_store_read_id(int32 instrument_id, int depth, BookCopy *out)
{
	return read_slot(NULL, NULL, instrument_id, depth, out);
}

int
book_store_list(BookCopy **out)
{
	int			n = 0;
	Oid			install;

	book_require();
	*out = palloc0(sizeof(BookCopy) * BOOK_STORE_SLOTS);
	install = bus_install();
	if (!OidIsValid(install))
		return 0;
	LWLockAcquire(books->lock, LW_SHARED);
	for (int i = 0; i < BOOK_STORE_SLOTS; i++)
	{
		BookSlot   *s = &books->slots[i];
		BookCopy   *c = &(*out)[n];

		if (s->dboid != MyDatabaseId || s->install != install)
			continue;
		strlcpy(c->exchange, s->exchange, sizeof(c->exchange));
		strlcpy(c->symbol, s->symbol, sizeof(c->symbol));
		c->instrument_id = s->instrument_id;
		c->depth = s->depth;
		slot_copy(s, 0, c);
		c->nbids = Min(s->nbids, s->depth);
		c->nasks = Min(s->nasks, s->depth);
		n++;
	}
	LWLockRelease(books->lock);
	return n;
}
