/*-------------------------------------------------------------------------
 *
 * src/compress/buf.c
 *	  Growable buffers, varints and bit I/O for the codecs of src/compress.
 *
 * A CzBuf doubles as it grows; an allocation failure sets its failed flag
 * and later writes do nothing, so encoders check once at the end.  The bit
 * reader and varint_get check every read against the input's length: a
 * read past the end is CZ_ERR_TRUNCATED, a varint longer than ten bytes
 * CZ_ERR_CORRUPT.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <string.h>

static bool buf_reserve(CzBuf *b, size_t more);

void
buf_init(CzBuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void
buf_free(CzBuf *b)
{
	cz_free(b->data);
	buf_init(b);
}

/* Makes room for more bytes; false (and failed set) when it cannot. */
static bool
buf_reserve(CzBuf *b, size_t more)
{
	size_t		cap;
	uint8_t    *p;

	if (b->failed)
		return false;
	if (more <= b->cap - b->len)
		return true;
	if (more > SIZE_MAX / 2 - b->len)
	{
		b->failed = true;
		return false;
	}
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + more)
		cap *= 2;
	p = cz_realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
buf_put(CzBuf *b, const void *p, size_t n)
{
	if (n == 0 || !buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_put_byte(CzBuf *b, uint8_t v)
{
	if (!buf_reserve(b, 1))
		return;
	b->data[b->len++] = v;
}

/* LEB128: seven bits a byte, low first, high bit set on all but the last */
void
buf_put_varint(CzBuf *b, uint64_t v)
{
	uint8_t		tmp[10];
	int			n = 0;

	do
	{
		tmp[n] = (uint8_t) (v & 0x7F);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_put(b, tmp, n);
}

/*
 * Reads a varint at p[*pos], advancing *pos.  CZ_ERR_TRUNCATED when the
 * input ends inside it, CZ_ERR_CORRUPT when it does not fit 64 bits.
 */
CzStatus
varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t	r = 0;
	int			shift = 0;

	for (;;)
	{
		uint8_t		c;

		if (*pos >= len)
			return CZ_ERR_TRUNCATED;
		c = p[(*pos)++];
		if (shift == 63 && (c & 0x7E))
			return CZ_ERR_CORRUPT;
		r |= (uint64_t) (c & 0x7F) << shift;
		if (!(c & 0x80))
			break;
		shift += 7;
		if (shift > 63)
			return CZ_ERR_CORRUPT;
	}
	*v = r;
	return CZ_OK;
}

const char *
cz_strerror(CzStatus s)
{
	switch (s)
	{
		case CZ_OK:
			return "no error";
		case CZ_ERR_NOMEM:
			return "out of memory";
		case CZ_ERR_TRUNCATED:
			return "compressed data ends early";
		case CZ_ERR_CORRUPT:
			return "compressed data is corrupt";
		case CZ_ERR_LIMIT:
			return "compressed batch exceeds the limits";
		case CZ_ERR_UNFIT:
			return "encoding does not fit the values";
	}
	return "unknown error";
}

/* ---------------------------------------------------------------- bits */

void
bits_init(CzBitWriter *w, CzBuf *buf)
{
	w->buf = buf;
	w->acc = 0;
	w->n = 0;
}

/* Appends the low nbits (0..64) of v, most significant first. */
void
bits_put(CzBitWriter *w, uint64_t v, int nbits)
{
	while (nbits > 0)
	{
		int			take = nbits > 32 ? 32 : nbits;
		uint64_t	part = (v >> (nbits - take)) & ((UINT64_C(1) << take) - 1);

		w->acc = (w->acc << take) | part;
		w->n += take;
		while (w->n >= 8)
		{
			buf_put_byte(w->buf, (uint8_t) (w->acc >> (w->n - 8)));
			w->n -= 8;
		}
		nbits -= take;
	}
}

/* Writes the pending bits, zero-padded to a byte. */
void
bits_flush(CzBitWriter *w)
{
	if (w->n > 0)
		buf_put_byte(w->buf, (uint8_t) (w->acc << (8 - w->n)));
	w->n = 0;
	w->acc = 0;
}

void
bits_reader(CzBitReader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->nbits = len > SIZE_MAX / 8 ? SIZE_MAX : len * 8;
	r->pos = 0;
}

/* bits_get (bits.h) near the end of the input, or beyond 56 bits */
CzStatus
bits_get_slow(CzBitReader *r, int nbits, uint64_t *v)
{
	uint64_t	out = 0;

	if ((size_t) nbits > r->nbits - r->pos)
		return CZ_ERR_TRUNCATED;
	while (nbits > 0)
	{
		uint8_t		byte = r->p[r->pos >> 3];
		int			avail = 8 - (int) (r->pos & 7);
		int			take = nbits < avail ? nbits : avail;

		out = (out << take) | ((byte >> (avail - take)) & ((1u << take) - 1));
		r->pos += take;
		nbits -= take;
	}
	*v = out;
	return CZ_OK;
}
