/*
 * test/fuzz/fuzz_book.c
 *	  libFuzzer harness for the order book engine and the exchanges'
 *	  sequence rules (src/book/book.c, src/book/sync.c).
 *
 * The first byte picks the rule; then each 8-byte record is one message:
 * flags (snapshot, checksum present), a sequence step, and up to four
 * level updates drawn from the following bytes.  After every message the
 * book must hold: each side sorted strictly (bids descending, asks
 * ascending), no level of size 0, at most cap levels, no crossed book
 * unless the sync has just reset it, and a checksum computable.  Any
 * crash, leak or undefined behaviour is a failure too.
 */
#include "book/book.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
check(const BookSync *s)
{
	const Book *b = &s->book;

	if (b->nbids < 0 || b->nasks < 0 || b->nbids > b->cap || b->nasks > b->cap)
		abort();
	for (int i = 0; i < b->nbids; i++)
		if (b->bids[i].qty <= 0 || (i > 0 && b->bids[i].px >= b->bids[i - 1].px))
			abort();
	for (int i = 0; i < b->nasks; i++)
		if (b->asks[i].qty <= 0 || (i > 0 && b->asks[i].px <= b->asks[i - 1].px))
			abort();
	if (s->state == BOOK_STATE_LIVE && book_crossed(b))
		abort();
	(void) book_checksum(b);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	BookSync	s;
	int64_t		seq = 100;
	char		reason[256];

	if (size < 1)
		return 0;
	if (!book_sync_init(&s, (BookRule) (data[0] % 5), 16))
		return 0;
	for (size_t o = 1; o + 8 <= size; o += 8)
	{
		const unsigned char *r = data + o;
		BookUpdate	up[4];
		BookMsg		m;
		int			n = r[1] % 5;

		memset(&m, 0, sizeof(m));
		m.snapshot = (r[0] & 1) != 0;
		m.has_checksum = (r[0] & 2) != 0;
		m.checksum = (int32_t) (r[2] * 16777619u);
		m.prev = seq;
		seq += (r[0] >> 2) % 4;	/* mostly +1, sometimes a gap or a repeat */
		m.first = seq - (r[0] >> 4) % 3;
		m.last = seq;
		for (int i = 0; i < n; i++)
		{
			unsigned char x = r[3 + i];

			up[i].bid = (x & 1) != 0;
			up[i].lv.px = (int64_t) ((x >> 1) % 40 + 1) * BOOK_SCALE / 10;
			up[i].lv.qty = (x & 0x80) ? 0 : (int64_t) (x % 7) * 1000;
			up[i].lv.pxd = 1;
			up[i].lv.qd = (uint8_t) (x % 9);
		}
		m.n = n;
		m.updates = up;
		book_sync_feed(&s, &m, reason, sizeof(reason));
		check(&s);
	}
	book_sync_free(&s);
	return 0;
}
