/*-------------------------------------------------------------------------
 *
 * src/compress/lz.c
 *	  The general compressor (zlib) and the two BYTES encodings built on
 *	  it and on delta-of-delta: lzstr and intstr.
 *
 * lz_compress writes varint raw length + a zlib stream.  The decompressor
 * refuses a declared length beyond CZ_MAX_RAW or beyond what deflate can
 * expand the given input to (1032:1), so a few hostile bytes never make it
 * allocate gigabytes.
 *
 * lzstr: every value as varint length + bytes, all through lz_compress:
 * trade ids, free text, the text form of any type without a codec.
 * intstr: values that are all canonical decimal integers ("0", "-12",
 * never "+1", "007" or "-0") are stored as int64 through delta-of-delta
 * and printed back to the same bytes; sequential trade ids cost about one
 * bit each.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <string.h>
#include <zlib.h>

/* zlib level: 3 keeps compression fast with most of the ratio of 6 */
#define CZ_ZLIB_LEVEL	3

static bool parse_canonical_int(const uint8_t *p, uint32_t len, int64_t *v);
static int	format_int(char *out, int64_t v);

/* Appends varint len + zlib(in) to out; CZ_OK or CZ_ERR_NOMEM. */
CzStatus
lz_compress(const uint8_t *in, size_t len, CzBuf *out)
{
	uLongf		bound = compressBound((uLong) len);
	uint8_t    *dst;

	if (len > CZ_MAX_RAW)
		return CZ_ERR_LIMIT;
	dst = cz_malloc(bound);
	if (dst == NULL)
		return CZ_ERR_NOMEM;
	if (compress2(dst, &bound, len ? in : (const uint8_t *) "", (uLong) len,
				  CZ_ZLIB_LEVEL) != Z_OK)
	{
		cz_free(dst);
		return CZ_ERR_NOMEM;
	}
	buf_put_varint(out, len);
	buf_put(out, dst, bound);
	cz_free(dst);
	return out->failed ? CZ_ERR_NOMEM : CZ_OK;
}

/*
 * Decompresses in[0..len-1] (as lz_compress wrote it) into out, which
 * must be empty.  CZ_ERR_LIMIT for a declared length out of bounds,
 * CZ_ERR_CORRUPT when zlib refuses the stream or its length differs.
 */
CzStatus
lz_decompress(const uint8_t *in, size_t len, CzBuf *out)
{
	size_t		pos = 0;
	uint64_t	raw;
	uLongf		got;
	CzStatus	s;
	int			rc;

	if ((s = varint_get(in, len, &pos, &raw)) != CZ_OK)
		return s;
	if (raw > CZ_MAX_RAW || raw > (uint64_t) (len - pos) * 1032 + 64)
		return CZ_ERR_LIMIT;
	out->data = cz_malloc(raw ? raw : 1);
	if (out->data == NULL)
		return CZ_ERR_NOMEM;
	out->cap = raw ? raw : 1;
	out->len = 0;
	got = (uLongf) raw;
	rc = uncompress(out->data, &got, in + pos, (uLong) (len - pos));
	if (rc == Z_MEM_ERROR)
		return CZ_ERR_NOMEM;
	if (rc != Z_OK || got != raw)
		return CZ_ERR_CORRUPT;
	out->len = raw;
	return CZ_OK;
}

/* ------------------------------------------------------------- lzstr */

/* Appends the lzstr encoding of n strings; CZ_OK, CZ_ERR_NOMEM or _LIMIT. */
CzStatus
lzstr_encode(const uint8_t *const *ptr, const uint32_t *len, uint32_t n, CzBuf *out)
{
	CzBuf		raw;
	uint32_t	i;
	CzStatus	s;

	buf_init(&raw);
	for (i = 0; i < n; i++)
	{
		buf_put_varint(&raw, len[i]);
		buf_put(&raw, ptr[i], len[i]);
	}
	s = raw.failed ? CZ_ERR_NOMEM : lz_compress(raw.data, raw.len, out);
	buf_free(&raw);
	return s;
}

/*
 * Decodes n strings: *arena (the caller frees it) is the decompressed
 * stream and value i is *arena + off[i], vlen[i] bytes.  CZ_ERR_CORRUPT
 * when the stream does not hold exactly n values.
 */
CzStatus
lzstr_decode(const uint8_t *in, size_t len, uint32_t n,
			 uint8_t **arena, size_t *off, uint32_t *vlen)
{
	CzBuf		raw;
	size_t		pos = 0;
	uint32_t	i;
	CzStatus	s;

	*arena = NULL;
	buf_init(&raw);
	if ((s = lz_decompress(in, len, &raw)) != CZ_OK)
		goto fail;
	for (i = 0; i < n; i++)
	{
		uint64_t	l;

		if ((s = varint_get(raw.data, raw.len, &pos, &l)) != CZ_OK)
			goto fail;
		if (l > raw.len - pos)
		{
			s = CZ_ERR_CORRUPT;
			goto fail;
		}
		off[i] = pos;
		vlen[i] = (uint32_t) l;
		pos += l;
	}
	if (pos != raw.len)
	{
		s = CZ_ERR_CORRUPT;
		goto fail;
	}
	*arena = raw.data;
	return CZ_OK;

fail:
	buf_free(&raw);
	return s;
}

/* ------------------------------------------------------------ intstr */

/* true when p is a canonical decimal int64 ("0", "-5", "42"), into *v */
static bool
parse_canonical_int(const uint8_t *p, uint32_t len, int64_t *v)
{
	uint64_t	mag = 0;
	bool		neg = false;
	uint32_t	i = 0;

	if (len == 0 || len > 20)
		return false;
	if (p[0] == '-')
	{
		neg = true;
		i = 1;
	}
	if (i >= len || p[i] < '0' || p[i] > '9')
		return false;
	if (p[i] == '0')
	{
		/* "0" alone: no "-0", no leading zeros */
		if (neg || len != 1)
			return false;
		*v = 0;
		return true;
	}
	for (; i < len; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return false;
		if (mag > (UINT64_C(9223372036854775808) - (uint64_t) (p[i] - '0')) / 10)
			return false;
		mag = mag * 10 + (uint64_t) (p[i] - '0');
	}
	if (!neg && mag > (uint64_t) INT64_MAX)
		return false;
	*v = neg ? (int64_t) (0 - mag) : (int64_t) mag;
	return true;
}

/* v in decimal at out (at most 20 bytes, no terminator); returns the length */
static int
format_int(char *out, int64_t v)
{
	char		tmp[20];
	uint64_t	mag = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
	int			n = 0,
				len = 0;

	do
	{
		tmp[n++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	return len;
}

/* Appends the intstr encoding; CZ_ERR_UNFIT when a value is not one. */
CzStatus
intstr_encode(const uint8_t *const *ptr, const uint32_t *len, uint32_t n, CzBuf *out)
{
	int64_t    *v = cz_malloc((size_t) (n ? n : 1) * sizeof(int64_t));
	uint32_t	i;
	CzStatus	s;

	if (v == NULL)
		return CZ_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if (!parse_canonical_int(ptr[i], len[i], &v[i]))
		{
			cz_free(v);
			return CZ_ERR_UNFIT;
		}
	s = delta_encode(v, n, out);
	cz_free(v);
	return s;
}

/* Decodes n intstr values, printed into *arena (the caller frees it). */
CzStatus
intstr_decode(const uint8_t *in, size_t len, uint32_t n,
			  uint8_t **arena, size_t *off, uint32_t *vlen)
{
	int64_t    *v;
	uint8_t    *a;
	size_t		pos = 0;
	uint32_t	i;
	CzStatus	s;

	*arena = NULL;
	v = cz_malloc((size_t) (n ? n : 1) * sizeof(int64_t));
	a = cz_malloc((size_t) (n ? n : 1) * 21);
	if (v == NULL || a == NULL)
	{
		cz_free(v);
		cz_free(a);
		return CZ_ERR_NOMEM;
	}
	if ((s = delta_decode(in, len, n, v)) != CZ_OK)
	{
		cz_free(v);
		cz_free(a);
		return s;
	}
	for (i = 0; i < n; i++)
	{
		int			w = format_int((char *) a + pos, v[i]);

		off[i] = pos;
		vlen[i] = (uint32_t) w;
		pos += w;
	}
	cz_free(v);
	*arena = a;
	return CZ_OK;
}
