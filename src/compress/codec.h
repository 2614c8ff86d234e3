/*-------------------------------------------------------------------------
 *
 * src/compress/codec.h
 *	  Pure-C column codecs and the compressed batch format of compressed
 *	  chunks.
 *
 * A batch holds up to CZ_MAX_ROWS rows of up to CZ_MAX_COLS columns, each
 * column one of three kinds: INT64 (timestamps, integer ids, anything the
 * glue maps to 64 bits exactly), FLOAT8 (kept bit for bit: NaN payloads,
 * -0.0 and infinities survive) and BYTES (text and any other value as its
 * bytes).  Each column carries a NULL bitmap and is encoded on its own
 * with the smallest of the encodings fit for its kind:
 *
 *	 INT64	 constant, delta-of-delta (delta.c)
 *	 FLOAT8  constant, Gorilla XOR (gorilla.c), short decimals as integers
 *			 through delta-of-delta (decimal.c)
 *	 BYTES	 dictionary (dict.c), decimal integers through delta-of-delta
 *			 (intstr), or length-prefixed values through zlib (lz.c)
 *
 * and INT64 and FLOAT8 columns keep their min and max in the batch header,
 * which can be read without decoding any payload (batch_stats).
 *
 * Errors: every decoder checks its input as untrusted (it is fuzzed,
 * test/fuzz/fuzz_compress.c) and returns a CzStatus, never aborts; every
 * encoder returns CZ_OK or CZ_ERR_NOMEM.  Memory comes from cz_malloc and
 * friends (alloc.h).  No PostgreSQL header is included here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_COMPRESS_CODEC_H
#define ZVT_COMPRESS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* limits of one batch: rows, columns, and decoded cells (rows x columns) */
#define CZ_MAX_ROWS		65535
#define CZ_MAX_COLS		1600
#define CZ_MAX_CELLS	(4 * 1024 * 1024)
/* largest value or decompressed stream, as PostgreSQL's varlena limit */
#define CZ_MAX_RAW		((size_t) 0x3FFFFFFF)

typedef enum CzStatus
{
	CZ_OK = 0,
	CZ_ERR_NOMEM,				/* an allocation failed */
	CZ_ERR_TRUNCATED,			/* the input ends early */
	CZ_ERR_CORRUPT,				/* the input is not what an encoder writes */
	CZ_ERR_LIMIT,				/* a count or size beyond the limits above */
	CZ_ERR_UNFIT				/* encoder: this encoding does not fit the values */
} CzStatus;

typedef enum CzKind
{
	CZ_INT64 = 1,
	CZ_FLOAT8 = 2,
	CZ_BYTES = 3
} CzKind;

/* encodings as written in a batch's column header */
typedef enum CzEncoding
{
	CZ_ENC_CONST = 1,			/* every non-NULL value the same */
	CZ_ENC_DELTA = 2,			/* delta-of-delta, INT64 */
	CZ_ENC_GORILLA = 3,			/* XOR, FLOAT8 */
	CZ_ENC_DICT = 4,			/* dictionary, BYTES */
	CZ_ENC_INTSTR = 5,			/* decimal integers as delta-of-delta, BYTES */
	CZ_ENC_LZ = 6,				/* length-prefixed values through zlib, BYTES */
	CZ_ENC_DECIMAL = 7			/* short decimals as integers, FLOAT8 */
} CzEncoding;

/* A growable byte buffer; failed sticks once an allocation failed. */
typedef struct CzBuf
{
	uint8_t    *data;			/* cz_malloc'd, len bytes used of cap */
	size_t		len;
	size_t		cap;
	bool		failed;
} CzBuf;

/* One column of rows to encode; arrays have nrows entries. */
typedef struct CzColumnIn
{
	CzKind		kind;
	const bool *isnull;			/* NULL: no value is NULL */
	const int64_t *i64;			/* CZ_INT64 */
	const double *f8;			/* CZ_FLOAT8 */
	const uint8_t *const *ptr;	/* CZ_BYTES: value bytes and lengths */
	const uint32_t *len;
} CzColumnIn;

/*
 * One decoded column.  Arrays have nrows entries, NULL rows hold 0; a
 * column left out of decoding (want[] false) has decoded == false and no
 * arrays.  BYTES values are arena + off[i], len[i] bytes (dictionary
 * values share their bytes).
 */
typedef struct CzColumnOut
{
	CzKind		kind;
	CzEncoding	encoding;
	bool		decoded;
	bool	   *isnull;			/* NULL: no value is NULL */
	int64_t    *i64;
	double	   *f8;
	uint8_t    *arena;
	size_t	   *off;
	uint32_t   *len;
} CzColumnOut;

typedef struct CzBatch
{
	uint32_t	nrows;
	uint32_t	ncols;
	CzColumnOut *cols;			/* ncols entries */
} CzBatch;

/* min and max of a column's non-NULL values (FLOAT8: non-NaN values) */
typedef struct CzStats
{
	CzKind		kind;
	uint32_t	nnulls;
	bool		has_minmax;		/* false: no such value */
	bool		has_nan;		/* FLOAT8: some value is NaN */
	int64_t		min_i64;
	int64_t		max_i64;
	double		min_f8;
	double		max_f8;
} CzStats;

/* in buf.c */
extern void buf_init(CzBuf *b);
extern void buf_free(CzBuf *b);
extern void buf_put(CzBuf *b, const void *p, size_t n);
extern void buf_put_byte(CzBuf *b, uint8_t v);
extern void buf_put_varint(CzBuf *b, uint64_t v);
extern const char *cz_strerror(CzStatus s);

/* in delta.c: delta-of-delta of n int64 values, appended to out */
extern CzStatus delta_encode(const int64_t *v, uint32_t n, CzBuf *out);
extern CzStatus delta_decode(const uint8_t *in, size_t len, uint32_t n, int64_t *v);

/* in gorilla.c: XOR of n float8 values, bit for bit */
extern CzStatus gorilla_encode(const double *v, uint32_t n, CzBuf *out);
extern CzStatus gorilla_decode(const uint8_t *in, size_t len, uint32_t n, double *v);

/* in decimal.c: CZ_ERR_UNFIT unless every value is a short decimal */
extern CzStatus decimal_encode(const double *v, uint32_t n, CzBuf *out);
extern CzStatus decimal_decode(const uint8_t *in, size_t len, uint32_t n, double *v);

/* in dict.c: dictionary of n byte strings; CZ_ERR_UNFIT if too many distinct */
extern CzStatus dict_encode(const uint8_t *const *ptr, const uint32_t *len,
							uint32_t n, CzBuf *out);
extern CzStatus dict_decode(const uint8_t *in, size_t len, uint32_t n,
							uint8_t **arena, size_t *off, uint32_t *vlen);

/* in lz.c: zlib around any bytes, and the BYTES encodings intstr and lz */
extern CzStatus lz_compress(const uint8_t *in, size_t len, CzBuf *out);
extern CzStatus lz_decompress(const uint8_t *in, size_t len, CzBuf *out);
extern CzStatus intstr_encode(const uint8_t *const *ptr, const uint32_t *len,
							  uint32_t n, CzBuf *out);
extern CzStatus intstr_decode(const uint8_t *in, size_t len, uint32_t n,
							  uint8_t **arena, size_t *off, uint32_t *vlen);
extern CzStatus lzstr_encode(const uint8_t *const *ptr, const uint32_t *len,
							 uint32_t n, CzBuf *out);
extern CzStatus lzstr_decode(const uint8_t *in, size_t len, uint32_t n,
							 uint8_t **arena, size_t *off, uint32_t *vlen);

/* in batch.c */
extern CzStatus batch_encode(const CzColumnIn *cols, uint32_t ncols,
							 uint32_t nrows, CzBuf *out);
extern CzStatus batch_decode(const uint8_t *in, size_t len, const bool *want,
							 CzBatch *out);
extern void batch_free(CzBatch *b);
extern CzStatus batch_stats(const uint8_t *in, size_t len, uint32_t col,
							CzStats *out);
extern CzStatus batch_stats_prefix(const uint8_t *in, size_t len, bool prefix,
								   uint32_t col, CzStats *out);

#endif							/* ZVT_COMPRESS_CODEC_H */
