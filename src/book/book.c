/*-------------------------------------------------------------------------
 *
 * src/book/book.c
 *	  The order book itself: sorted fixed-point levels, updates applied by
 *	  binary search, the crossed-book check, OKX's checksum, and decimal
 *	  text to and from 10^-8 units.
 *
 * Pure C (book.h).  Each side is an array kept sorted (bids descending,
 * asks ascending); an update finds its price by binary search and moves
 * the tail with memmove: depth is at most a few hundred levels, so the
 * array beats a tree on every count (cache, no allocation per level).
 * Nothing here allocates after book_init.
 *
 *-------------------------------------------------------------------------
 */
#include "book/book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t pow10_tab[BOOK_SCALE_DIGITS + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
};

bool
book_init(Book *b, int cap)
{
	memset(b, 0, sizeof(Book));
	if (cap < 1)
		cap = 1;
	b->bids = malloc(sizeof(BookLevel) * (size_t) cap);
	b->asks = malloc(sizeof(BookLevel) * (size_t) cap);
	if (!b->bids || !b->asks)
	{
		free(b->bids);
		free(b->asks);
		memset(b, 0, sizeof(Book));
		return false;
	}
	b->cap = cap;
	return true;
}

void
book_free(Book *b)
{
	free(b->bids);
	free(b->asks);
	memset(b, 0, sizeof(Book));
}

void
book_clear(Book *b)
{
	b->nbids = b->nasks = 0;
}

/*
 * Where px is, or would go, on a side: the first index whose price is not
 * better than px.  *found when that level has price px.
 */
static int
side_find(const BookLevel *lv, int n, bool bid, int64_t px, bool *found)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		bool		better = bid ? lv[mid].px > px : lv[mid].px < px;

		if (better)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && lv[lo].px == px;
	return lo;
}

void
book_set(Book *b, bool bid, const BookLevel *lv)
{
	BookLevel  *side = bid ? b->bids : b->asks;
	int		   *n = bid ? &b->nbids : &b->nasks;
	bool		found;
	int			i = side_find(side, *n, bid, lv->px, &found);

	if (found)
	{
		if (lv->qty == 0)
		{
			memmove(&side[i], &side[i + 1], sizeof(BookLevel) * (size_t) (*n - i - 1));
			(*n)--;
		}
		else
			side[i] = *lv;
		return;
	}
	if (lv->qty == 0)
		return;
	if (i >= b->cap)
		return;					/* worse than every level of a full side */
	if (*n == b->cap)
		(*n)--;					/* the worst level makes room */
	memmove(&side[i + 1], &side[i], sizeof(BookLevel) * (size_t) (*n - i));
	side[i] = *lv;
	(*n)++;
}

void
book_apply(Book *b, const BookUpdate *updates, int n)
{
	for (int i = 0; i < n; i++)
		book_set(b, updates[i].bid, &updates[i].lv);
}

bool
book_crossed(const Book *b)
{
	return b->nbids > 0 && b->nasks > 0 && b->bids[0].px >= b->asks[0].px;
}

/* ------------------------------------------------------------------ */
/* decimals                                                            */
/* ------------------------------------------------------------------ */

bool
book_parse_decimal(const char *s, int64_t *v, uint8_t *dec)
{
	int64_t		ip = 0,
				fp = 0;
	int			nint = 0,
				nfrac = 0;
	const char *p = s;

	if (!s)
		return false;
	for (; *p >= '0' && *p <= '9'; p++, nint++)
	{
		/* 92233720368 * 10^8 would overflow int64 */
		if (ip > (INT64_C(92233720367) - (*p - '0')) / 10)
			return false;
		ip = ip * 10 + (*p - '0');
	}
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
		{
			if (nfrac == BOOK_SCALE_DIGITS)
				return false;
			fp = fp * 10 + (*p - '0');
		}
		if (nfrac == 0)
			return false;
	}
	if (*p != '\0' || nint == 0)
		return false;
	*v = ip * BOOK_SCALE + fp * pow10_tab[BOOK_SCALE_DIGITS - nfrac];
	*dec = (uint8_t) nfrac;
	return true;
}

int
book_format_decimal(char *buf, int64_t v, int dec)
{
	int64_t		ip,
				fp;
	int			n;
	bool		neg = v < 0;
	uint64_t	u = neg ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	if (dec < 0)
		dec = 0;
	if (dec > BOOK_SCALE_DIGITS)
		dec = BOOK_SCALE_DIGITS;
	ip = (int64_t) (u / (uint64_t) BOOK_SCALE);
	fp = (int64_t) (u % (uint64_t) BOOK_SCALE) / pow10_tab[BOOK_SCALE_DIGITS - dec];
	if (dec == 0)
		n = snprintf(buf, 32, "%s%lld", neg ? "-" : "", (long long) ip);
	else
		n = snprintf(buf, 32, "%s%lld.%0*lld", neg ? "-" : "", (long long) ip, dec, (long long) fp);
	return n;
}

/* ------------------------------------------------------------------ */
/* OKX's checksum                                                      */
/* ------------------------------------------------------------------ */

static uint32_t crc_table[256];
static bool crc_ready = false;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = true;
}

uint32_t
book_crc32(const char *data, size_t len)
{
	uint32_t	c = 0xFFFFFFFFu;

	/* a benign race: every thread writes the same table */
	if (!crc_ready)
		crc_init();
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ (uint8_t) data[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static size_t
add_level(char *buf, size_t o, const BookLevel *lv)
{
	if (o > 0)
		buf[o++] = ':';
	o += (size_t) book_format_decimal(buf + o, lv->px, lv->pxd);
	buf[o++] = ':';
	o += (size_t) book_format_decimal(buf + o, lv->qty, lv->qd);
	return o;
}

int32_t
book_checksum(const Book *b)
{
	/* 50 levels of two numbers of at most 31 characters and a colon each */
	char		buf[2 * BOOK_CHECKSUM_LEVELS * 2 * 32 + 1];
	size_t		o = 0;

	for (int i = 0; i < BOOK_CHECKSUM_LEVELS; i++)
	{
		if (i < b->nbids)
			o = add_level(buf, o, &b->bids[i]);
		if (i < b->nasks)
			o = add_level(buf, o, &b->asks[i]);
	}
	return (int32_t) book_crc32(buf, o);
}
