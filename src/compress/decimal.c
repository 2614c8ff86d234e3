/*-------------------------------------------------------------------------
 *
 * src/compress/decimal.c
 *	  Decimal encoding of float8 values that are short decimals (prices
 *	  and quantities on an exchange's tick and lot grid).
 *
 * When every value v equals (double) k / 10^s for one scale s in 0..9 and
 * integers |k| <= 2^53, the codec stores s and the k through
 * delta-of-delta: a random walk of ticks becomes small second differences
 * where Gorilla's XOR of neighbouring prices spends 20-40 bits.  The
 * division of two exact doubles is correctly rounded, so it gives back
 * the double the exchange's decimal string was parsed to; the encoder
 * still checks every value bit for bit and reports CZ_ERR_UNFIT when one
 * differs (-0.0, NaN, infinities, values with more digits), and the batch
 * then uses Gorilla.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <math.h>
#include <string.h>

#define CZ_DEC_MAX_SCALE	9

static const double pow10_tab[CZ_DEC_MAX_SCALE + 1] =
{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* k for v at scale s, when (double) k / 10^s is v bit for bit */
static bool
fits(double v, int s, int64_t *k)
{
	double		x = v * pow10_tab[s];
	double		back;

	if (!(fabs(x) <= 9007199254740992.0))	/* also false for NaN */
		return false;
	*k = (int64_t) llround(x);
	back = (double) *k / pow10_tab[s];
	return memcmp(&back, &v, sizeof(double)) == 0;
}

/*
 * Appends byte scale + delta-of-delta of the integers to out.  CZ_OK,
 * CZ_ERR_UNFIT when no scale fits every value, or CZ_ERR_NOMEM.
 */
CzStatus
decimal_encode(const double *v, uint32_t n, CzBuf *out)
{
	int64_t    *k = cz_malloc((size_t) (n ? n : 1) * sizeof(int64_t));
	int			s;
	uint32_t	i = 0;
	CzStatus	st = CZ_ERR_UNFIT;

	if (k == NULL)
		return CZ_ERR_NOMEM;
	for (s = 0; s <= CZ_DEC_MAX_SCALE; s++)
	{
		for (i = 0; i < n; i++)
			if (!fits(v[i], s, &k[i]))
				break;
		if (i == n)
			break;
	}
	if (s <= CZ_DEC_MAX_SCALE)
	{
		buf_put_byte(out, (uint8_t) s);
		st = delta_encode(k, n, out);
	}
	cz_free(k);
	return st;
}

/* Decodes n values; CZ_ERR_CORRUPT for a scale out of range. */
CzStatus
decimal_decode(const uint8_t *in, size_t len, uint32_t n, double *v)
{
	int64_t    *k;
	uint32_t	i;
	int			s;
	CzStatus	st;

	if (n == 0)
		return CZ_OK;
	if (len < 1)
		return CZ_ERR_TRUNCATED;
	s = in[0];
	if (s > CZ_DEC_MAX_SCALE)
		return CZ_ERR_CORRUPT;
	k = cz_malloc((size_t) n * sizeof(int64_t));
	if (k == NULL)
		return CZ_ERR_NOMEM;
	st = delta_decode(in + 1, len - 1, n, k);
	for (i = 0; st == CZ_OK && i < n; i++)
		v[i] = (double) k[i] / pow10_tab[s];
	cz_free(k);
	return st;
}
