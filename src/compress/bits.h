/*-------------------------------------------------------------------------
 *
 * src/compress/bits.h
 *	  Bit-level writer and reader, varints and zigzag shared by the codecs
 *	  of src/compress (internal to the part).
 *
 * Bits are written most significant first into a CzBuf; the reader is
 * bounds-checked and reports running past the end instead of reading it.
 * Allocation goes through cz_malloc/cz_realloc/cz_free, which default to
 * the C library and may be defined before this header is included.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_COMPRESS_BITS_H
#define ZVT_COMPRESS_BITS_H

#include "compress/codec.h"

#include <stdlib.h>

#ifndef cz_malloc
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
extern CzStatus bits_get(CzBitReader *r, int nbits, uint64_t *v);
extern CzStatus varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *v);

#endif							/* ZVT_COMPRESS_BITS_H */
