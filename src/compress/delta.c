/*-------------------------------------------------------------------------
 *
 * src/compress/delta.c
 *	  Delta-of-delta encoding of int64 values (timestamps, integer ids).
 *
 * The first value is written in 64 bits; each later value as the
 * difference between its delta and the previous delta (the first delta
 * counts from 0), zigzagged and written with a prefix code sized for
 * timestamps in microseconds (Gorilla's, widened):
 *
 *	 0				 dod == 0			  1 bit
 *	 10   + 7 bits	 zigzag < 2^7		  9 bits
 *	 110  + 12 bits  zigzag < 2^12		 15 bits
 *	 1110 + 20 bits  zigzag < 2^20		 24 bits
 *	 11110 + 32 bits zigzag < 2^32		 37 bits
 *	 11111 + 64 bits otherwise			 69 bits
 *
 * A regular series (ids counting up, candles every minute) costs one bit a
 * value.  All arithmetic is unsigned and wraps, so every int64 sequence,
 * INT64_MIN next to INT64_MAX included, decodes to itself exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

/* width of each prefix class, in the order of the table above */
static const int dod_width[] = {0, 7, 12, 20, 32, 64};

/*
 * Appends the encoding of v[0..n-1] to out.  CZ_OK, or CZ_ERR_NOMEM when
 * out could not grow.
 */
CzStatus
delta_encode(const int64_t *v, uint32_t n, CzBuf *out)
{
	CzBitWriter w;
	uint64_t	prev_delta = 0;
	uint32_t	i;

	if (n == 0)
		return CZ_OK;
	bits_init(&w, out);
	bits_put(&w, (uint64_t) v[0], 64);
	for (i = 1; i < n; i++)
	{
		uint64_t	delta = (uint64_t) v[i] - (uint64_t) v[i - 1];
		uint64_t	z = zigzag(delta - prev_delta);
		int			c;

		prev_delta = delta;
		if (z == 0)
		{
			bits_put(&w, 0, 1);
			continue;
		}
		for (c = 1; c < 5; c++)
			if (z < (UINT64_C(1) << dod_width[c]))
				break;
		/* c ones then a zero, except the last class: five ones */
		if (c < 5)
			bits_put(&w, ((UINT64_C(1) << c) - 1) << 1, c + 1);
		else
			bits_put(&w, 0x1F, 5);
		bits_put(&w, z, dod_width[c]);
	}
	bits_flush(&w);
	return out->failed ? CZ_ERR_NOMEM : CZ_OK;
}

/*
 * Decodes n values from in[0..len-1] into v.  CZ_ERR_TRUNCATED when the
 * input ends early; bytes after the last value are ignored (padding).
 */
CzStatus
delta_decode(const uint8_t *in, size_t len, uint32_t n, int64_t *v)
{
	CzBitReader r;
	uint64_t	prev,
				delta = 0,
				x;
	uint32_t	i;
	CzStatus	s;

	if (n == 0)
		return CZ_OK;
	bits_reader(&r, in, len);
	if ((s = bits_get(&r, 64, &prev)) != CZ_OK)
		return s;
	v[0] = (int64_t) prev;
	for (i = 1; i < n; i++)
	{
		int			c = 0;
		uint64_t	w;

		/* fast path: prefix and payload (<= 37 bits) in one window */
		if (bits_window(&r, &w))
		{
			c = (~w == 0) ? 64 : __builtin_clzll(~w);
			if (c == 0)
			{
				r.pos += 1;
				prev += delta;
				v[i] = (int64_t) prev;
				continue;
			}
			if (c < 5)
			{
				int			width = dod_width[c];

				x = (w << (c + 1)) >> (64 - width);
				r.pos += c + 1 + width;
				delta += unzigzag(x);
				prev += delta;
				v[i] = (int64_t) prev;
				continue;
			}
			c = 0;				/* the 64-bit class: the careful way */
		}
		/* count leading ones, at most five */
		while (c < 5)
		{
			if ((s = bits_get(&r, 1, &x)) != CZ_OK)
				return s;
			if (x == 0)
				break;
			c++;
		}
		if (c > 0)
		{
			if ((s = bits_get(&r, dod_width[c], &x)) != CZ_OK)
				return s;
			delta += unzigzag(x);
		}
		prev += delta;
		v[i] = (int64_t) prev;
	}
	return CZ_OK;
}
