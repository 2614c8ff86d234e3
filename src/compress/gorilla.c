/*-------------------------------------------------------------------------
 *
 * src/compress/gorilla.c
 *	  Gorilla-style XOR encoding of float8 values, bit for bit.
 *
 * Values are handled as their 64-bit patterns, so NaN (any payload),
 * -0.0, the infinities and denormals round-trip exactly.  The first value
 * is written in 64 bits; each later one as the XOR with its predecessor:
 *
 *	 0											  XOR is 0 (same value)
 *	 10 + the bits of the previous window		  the XOR's set bits fit it
 *	 11 + 6 bits leading zeros + 6 bits (length - 1) + length bits
 *
 * where the window is the span between the XOR's leading and trailing
 * zeros.  Prices of a random walk on a tick grid share sign, exponent and
 * high mantissa bits with their neighbours, so the window stays narrow.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <string.h>

static inline uint64_t
f8_bits(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static inline double
bits_f8(uint64_t u)
{
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Appends the encoding of v[0..n-1] to out; CZ_OK or CZ_ERR_NOMEM. */
CzStatus
gorilla_encode(const double *v, uint32_t n, CzBuf *out)
{
	CzBitWriter w;
	uint64_t	prev;
	int			lead = -1,		/* current window; -1: none yet */
				trail = 0;
	uint32_t	i;

	if (n == 0)
		return CZ_OK;
	bits_init(&w, out);
	prev = f8_bits(v[0]);
	bits_put(&w, prev, 64);
	for (i = 1; i < n; i++)
	{
		uint64_t	cur = f8_bits(v[i]);
		uint64_t	x = cur ^ prev;
		int			l,
					t;

		prev = cur;
		if (x == 0)
		{
			bits_put(&w, 0, 1);
			continue;
		}
		l = __builtin_clzll(x);
		t = __builtin_ctzll(x);
		if (lead >= 0 && l >= lead && t >= trail)
		{
			bits_put(&w, 2, 2);
			bits_put(&w, x >> trail, 64 - lead - trail);
			continue;
		}
		lead = l;
		trail = t;
		bits_put(&w, 3, 2);
		bits_put(&w, (uint64_t) lead, 6);
		bits_put(&w, (uint64_t) (64 - lead - trail - 1), 6);
		bits_put(&w, x >> trail, 64 - lead - trail);
	}
	bits_flush(&w);
	return out->failed ? CZ_ERR_NOMEM : CZ_OK;
}

/*
 * Decodes n values from in[0..len-1] into v.  CZ_ERR_TRUNCATED when the
 * input ends early, CZ_ERR_CORRUPT for a window reused before one was set
 * or a window wider than 64 bits.
 */
CzStatus
gorilla_decode(const uint8_t *in, size_t len, uint32_t n, double *v)
{
	CzBitReader r;
	uint64_t	prev,
				x;
	int			lead = -1,
				trail = 0;
	uint32_t	i;
	CzStatus	s;

	if (n == 0)
		return CZ_OK;
	bits_reader(&r, in, len);
	if ((s = bits_get(&r, 64, &prev)) != CZ_OK)
		return s;
	v[0] = bits_f8(prev);
	for (i = 1; i < n; i++)
	{
		if ((s = bits_get(&r, 1, &x)) != CZ_OK)
			return s;
		if (x == 0)
		{
			v[i] = bits_f8(prev);
			continue;
		}
		if ((s = bits_get(&r, 1, &x)) != CZ_OK)
			return s;
		if (x == 1)
		{
			uint64_t	l,
						m;

			if ((s = bits_get(&r, 6, &l)) != CZ_OK ||
				(s = bits_get(&r, 6, &m)) != CZ_OK)
				return s;
			if (l + m + 1 > 64)
				return CZ_ERR_CORRUPT;
			lead = (int) l;
			trail = 64 - lead - (int) (m + 1);
		}
		else if (lead < 0)
			return CZ_ERR_CORRUPT;
		if ((s = bits_get(&r, 64 - lead - trail, &x)) != CZ_OK)
			return s;
		prev ^= x << trail;
		v[i] = bits_f8(prev);
	}
	return CZ_OK;
}
