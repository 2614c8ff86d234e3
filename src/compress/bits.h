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
extern CzStatus bits_get(CzBitReader *r, int nbits, uint64_t *v);
extern CzStatus varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *v);

#endif							/* ZVT_COMPRESS_BITS_H */
