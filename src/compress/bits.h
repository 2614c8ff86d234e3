/*-------------------------------------------------------------------------
 *
 * src/compress/bits.h
 *	  Bit-level writer and reader, varints and zigzag shared by the codecs
 *	  of src/compress (internal to the part).
 *
 * Bits are written most significant first into a CzBuf; the reader is
 * bounds-checked and reports running past the end instead of reading it.
 * Allocation goes through cz_malloc/cz_calloc/cz_realloc/cz_free: the C
 * library by default, palloc in the current memory context when built
 * into zvt.so (the Makefile defines CZ_PALLOC there).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_COMPRESS_BITS_H
#define ZVT_COMPRESS_BITS_H

#include "compress/codec.h"

#include <stdlib.h>

#if defined(CZ_PALLOC)
/* in the server: palloc in the current context (src/compress/rows.c) */
extern void *zc_palloc(size_t n);
extern void *zc_palloc0(size_t n);
extern void *zc_repalloc(void *p, size_t n);
extern void zc_pfree(void *p);

#define cz_malloc(n)		zc_palloc(n)
#define cz_calloc(n, s)		zc_palloc0((size_t) (n) * (s))
#define cz_realloc(p, n)	zc_repalloc((p), (n))
#define cz_free(p)			zc_pfree(p)
#elif !defined(cz_malloc)
#define cz_malloc(n)		malloc(n)
#define cz_calloc(n, s)		calloc((n), (s))
#define cz_realloc(p, n)	realloc((p), (n))
#define cz_free(p)			free(p)
#endif

typedef struct CzBitWriter
{
	CzBuf	   *buf;
	uint64_t	acc;			/* pending bits, the low n of them */
	int			n;				/* 0..7 between calls */
} CzBitWriter;

typedef struct CzBitReader
{
	const uint8_t *p;
	size_t		nbits;			/* bits in p */
	size_t		pos;			/* next bit to read */
} CzBitReader;

/* zigzag: small magnitudes of either sign to small unsigned numbers */
static inline uint64_t
zigzag(uint64_t v)
{
	return (v << 1) ^ (0 - (v >> 63));
}

static inline uint64_t
unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

/* in buf.c */
extern void bits_init(CzBitWriter *w, CzBuf *buf);
extern void bits_put(CzBitWriter *w, uint64_t v, int nbits);
extern void bits_flush(CzBitWriter *w);
extern void bits_reader(CzBitReader *r, const uint8_t *p, size_t len);
extern CzStatus bits_get_slow(CzBitReader *r, int nbits, uint64_t *v);
extern CzStatus varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *v);

/*
 * Reads nbits (0..64) into *v; CZ_ERR_TRUNCATED past the end.  Up to 56
 * bits at least eight bytes before the end come from one 64-bit window;
 * the rest (and every bounds check that matters) from bits_get_slow.
 */
/* the 64 bits at p, most significant first */
static inline uint64_t
load_be64(const uint8_t *q)
{
	return ((uint64_t) q[0] << 56) | ((uint64_t) q[1] << 48) |
		((uint64_t) q[2] << 40) | ((uint64_t) q[3] << 32) |
		((uint64_t) q[4] << 24) | ((uint64_t) q[5] << 16) |
		((uint64_t) q[6] << 8) | (uint64_t) q[7];
}

/*
 * The next 57 or more bits of r, left-aligned, when eight bytes remain
 * from the current one; false otherwise.
 */
static inline bool
bits_window(const CzBitReader *r, uint64_t *w)
{
	size_t		byte = r->pos >> 3;

	if (byte + 8 > (r->nbits >> 3))
		return false;
	*w = load_be64(r->p + byte) << (r->pos & 7);
	return true;
}

static inline CzStatus
bits_get(CzBitReader *r, int nbits, uint64_t *v)
{
	uint64_t	w;

	if (nbits > 0 && nbits <= 56 && bits_window(r, &w))
	{
		*v = w >> (64 - nbits);
		r->pos += nbits;
		return CZ_OK;
	}
	return bits_get_slow(r, nbits, v);
}

#endif							/* ZVT_COMPRESS_BITS_H */
