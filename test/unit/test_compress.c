/*
 * test/unit/test_compress.c
 *	  Unit tests of src/compress: every codec and the batch format round-
 *	  trip every value exactly (bit for bit for float8: NaN payloads, -0.0,
 *	  infinities; int64 and PostgreSQL's extreme and infinite timestamps;
 *	  empty, binary and long text; NULLs anywhere), pick the encodings they
 *	  should, keep correct min/max, and refuse truncated or corrupted input
 *	  without reading out of bounds (under ASan and UBSan).
 */
#include "compress/codec.h"
#include "unit_test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* PostgreSQL's timestamp range, in its microseconds since 2000-01-01 */
#define PG_TS_MIN	INT64_C(-211813488000000000)	/* 4714-11-24 BC */
#define PG_TS_END	INT64_C(9223371331200000000)	/* 294277-01-01 */

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
f8_of(uint64_t u)
{
	double		d;

	memcpy(&d, &u, 8);
	return d;
}

static bool
same_i64(const int64_t *a, const int64_t *b, uint32_t n)
{
	return n == 0 || memcmp(a, b, n * sizeof(int64_t)) == 0;
}

static bool
same_f8_bits(const double *a, const double *b, uint32_t n)
{
	return n == 0 || memcmp(a, b, n * sizeof(double)) == 0;
}

/* encode, decode, compare; also every shorter input must fail cleanly */
static void
roundtrip_delta(const int64_t *v, uint32_t n)
{
	CzBuf		b;
	int64_t    *out = calloc(n + 1, sizeof(int64_t));

	buf_init(&b);
	CHECK(delta_encode(v, n, &b) == CZ_OK);
	CHECK(delta_decode(b.data, b.len, n, out) == CZ_OK);
	CHECK(same_i64(v, out, n));
	if (n > 0)
		CHECK(delta_decode(b.data, b.len / 2, n, out) == CZ_ERR_TRUNCATED);
	buf_free(&b);
	free(out);
}

static void
roundtrip_gorilla(const double *v, uint32_t n)
{
	CzBuf		b;
	double	   *out = calloc(n + 1, sizeof(double));

	buf_init(&b);
	CHECK(gorilla_encode(v, n, &b) == CZ_OK);
	CHECK(gorilla_decode(b.data, b.len, n, out) == CZ_OK);
	CHECK(same_f8_bits(v, out, n));
	if (n > 0)
		CHECK(gorilla_decode(b.data, b.len / 2, n, out) != CZ_OK);
	buf_free(&b);
	free(out);
}

static void
test_delta(void)
{
	int64_t		v[4000] = {0};
	uint32_t	i;
	CzBuf		b;

	roundtrip_delta(v, 0);
	v[0] = 42;
	roundtrip_delta(v, 1);
	/* the extremes side by side: every delta wraps */
	{
		int64_t		x[] = {INT64_MIN, INT64_MAX, INT64_MIN, 0, -1, INT64_MAX, INT64_MAX,
		PG_TS_MIN, PG_TS_END - 1, INT64_MIN + 1, 1, INT64_MIN};

		roundtrip_delta(x, sizeof(x) / sizeof(x[0]));
	}
	/* a regular series costs one bit a value after the first */
	for (i = 0; i < 1000; i++)
		v[i] = PG_TS_MIN + (int64_t) i * 60000000;
	buf_init(&b);
	CHECK(delta_encode(v, 1000, &b) == CZ_OK);
	CHECK(b.len == 8 + (37 + 998 + 7) / 8);	/* first dod 37 bits, then 1 */
	buf_free(&b);
	roundtrip_delta(v, 1000);
	/* trade times: random gaps of 0..2 s in microseconds, near the end of time */
	v[0] = PG_TS_END - INT64_C(4000) * 2000000;
	for (i = 1; i < 4000; i++)
		v[i] = v[i - 1] + (int64_t) (next_rand() % 2000000);
	roundtrip_delta(v, 4000);
	/* every width class, both signs */
	for (i = 0; i < 4000; i++)
		v[i] = (int64_t) (next_rand() >> (next_rand() % 64)) * ((i & 1) ? -1 : 1);
	roundtrip_delta(v, 4000);
	/* fully random 64-bit values */
	for (i = 0; i < 4000; i++)
		v[i] = (int64_t) next_rand();
	roundtrip_delta(v, 4000);
}

static void
test_gorilla(void)
{
	double		v[4000] = {0};
	double		special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN,
		f8_of(0x7FF0000000000001ULL), f8_of(0xFFF8DEADBEEF0001ULL),
		DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, 5e-324, -5e-324, 1.0, 1.0,
		-0.0, 0.0, NAN, NAN, 60123.5, 60123.51, INFINITY};
	uint32_t	i;
	CzBuf		b;

	roundtrip_gorilla(v, 0);
	roundtrip_gorilla(special, 1);
	roundtrip_gorilla(special, sizeof(special) / sizeof(special[0]));
	/* a random walk on a 0.01 tick: small XORs */
	v[0] = 60000;
	for (i = 1; i < 4000; i++)
		v[i] = round((v[i - 1] + ((double) (next_rand() % 21) - 10) * 0.01) * 100) / 100;
	roundtrip_gorilla(v, 4000);
	buf_init(&b);
	CHECK(gorilla_encode(v, 1000, &b) == CZ_OK);
	CHECK(b.len < 1000 * 8);
	buf_free(&b);
	/* random bit patterns (all NaN payloads and denormals included) */
	for (i = 0; i < 4000; i++)
		v[i] = f8_of(next_rand());
	roundtrip_gorilla(v, 4000);
	/* a constant run: one bit a value */
	for (i = 0; i < 1000; i++)
		v[i] = -0.0;
	buf_init(&b);
	CHECK(gorilla_encode(v, 1000, &b) == CZ_OK);
	CHECK(b.len == 8 + 125);
	buf_free(&b);
	/* a window reused before any was set is corrupt */
	{
		uint8_t		bad[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0};
		double		out[2];

		CHECK(gorilla_decode(bad, sizeof(bad), 2, out) == CZ_ERR_CORRUPT);
	}
}

static void
roundtrip_decimal(const double *v, uint32_t n, CzStatus want)
{
	CzBuf		b;
	double	   *out = calloc(n + 1, sizeof(double));

	buf_init(&b);
	CHECK(decimal_encode(v, n, &b) == want);
	if (want == CZ_OK)
	{
		CHECK(decimal_decode(b.data, b.len, n, out) == CZ_OK);
		CHECK(same_f8_bits(v, out, n));
		if (n > 1)
			CHECK(decimal_decode(b.data, b.len / 2, n, out) != CZ_OK);
	}
	buf_free(&b);
	free(out);
}

static void
test_decimal(void)
{
	double		v[1000];
	double		odd[] = {1.5, -0.0, 2.0};
	uint32_t	i;
	CzBuf		b,
				g;

	/* a random walk on a 0.01 tick: far smaller than Gorilla's XOR */
	v[0] = 60000;
	for (i = 1; i < 1000; i++)
		v[i] = round((v[i - 1] + ((double) (next_rand() % 21) - 10) * 0.01) * 100) / 100;
	roundtrip_decimal(v, 1000, CZ_OK);
	buf_init(&b);
	buf_init(&g);
	CHECK(decimal_encode(v, 1000, &b) == CZ_OK);
	CHECK(gorilla_encode(v, 1000, &g) == CZ_OK);
	CHECK(b.len * 2 < g.len);
	CHECK(b.len < 1000 * 8 / 4);
	buf_free(&b);
	buf_free(&g);
	/* lot sizes with 8 decimals, negative values, integers */
	for (i = 0; i < 1000; i++)
		v[i] = (double) (int64_t) (next_rand() % 100000000) / 1e8 * ((i & 1) ? -1 : 1);
	roundtrip_decimal(v, 1000, CZ_OK);
	for (i = 0; i < 1000; i++)
		v[i] = (double) (int64_t) (next_rand() % 9007199254740992ULL);
	roundtrip_decimal(v, 1000, CZ_OK);
	/* what it cannot hold exactly: -0.0, NaN, infinity, long fractions */
	roundtrip_decimal(odd, 3, CZ_ERR_UNFIT);
	odd[1] = NAN;
	roundtrip_decimal(odd, 3, CZ_ERR_UNFIT);
	odd[1] = INFINITY;
	roundtrip_decimal(odd, 3, CZ_ERR_UNFIT);
	odd[1] = 0.1 + 0.2;
	roundtrip_decimal(odd, 3, CZ_ERR_UNFIT);
	odd[1] = 1e300;
	roundtrip_decimal(odd, 3, CZ_ERR_UNFIT);
	{
		uint8_t		bad[2] = {10, 0};

		CHECK(decimal_decode(bad, 2, 1, v) == CZ_ERR_CORRUPT);
	}
}

/* strings: decode and compare, through the codec given */
typedef CzStatus (*StrEnc) (const uint8_t *const *, const uint32_t *, uint32_t, CzBuf *);
typedef CzStatus (*StrDec) (const uint8_t *, size_t, uint32_t, uint8_t **, size_t *, uint32_t *);

static void
roundtrip_str(StrEnc enc, StrDec dec, const uint8_t *const *p, const uint32_t *l, uint32_t n)
{
	CzBuf		b;
	uint8_t    *arena = NULL;
	size_t	   *off = calloc(n + 1, sizeof(size_t));
	uint32_t   *len = calloc(n + 1, sizeof(uint32_t));
	uint32_t	i;
	bool		same = true;

	buf_init(&b);
	CHECK(enc(p, l, n, &b) == CZ_OK);
	CHECK(dec(b.data, b.len, n, &arena, off, len) == CZ_OK);
	for (i = 0; i < n; i++)
		if (len[i] != l[i] || (l[i] && memcmp(arena + off[i], p[i], l[i]) != 0))
			same = false;
	CHECK(same);
	free(arena);
	arena = NULL;
	if (b.len > 1)
		CHECK(dec(b.data, b.len - 1, n, &arena, off, len) != CZ_OK || n == 0);
	free(arena);
	buf_free(&b);
	free(off);
	free(len);
}

static void
test_strings(void)
{
	static const char *words[] = {"buy", "sell", "", "buy", "exchange", "trades",
	"a\0b", "sell", "", "buy"};
	const uint8_t *p[4000];
	uint32_t	l[4000];
	char		num[4000][24];
	uint8_t    *big = malloc(1 << 20);
	uint32_t	i;
	CzBuf		b;

	for (i = 0; i < 10; i++)
	{
		p[i] = (const uint8_t *) words[i];
		l[i] = i == 6 ? 3 : (uint32_t) strlen(words[i]);
	}
	roundtrip_str(dict_encode, dict_decode, p, l, 10);
	roundtrip_str(lzstr_encode, lzstr_decode, p, l, 10);
	roundtrip_str(dict_encode, dict_decode, p, l, 0);
	roundtrip_str(lzstr_encode, lzstr_decode, p, l, 0);
	/* 1 MB of text, half random bytes, and an empty value beside it */
	for (i = 0; i < (1 << 20); i++)
		big[i] = i < (1 << 19) ? (uint8_t) next_rand() : (uint8_t) ('a' + i % 7);
	p[0] = big;
	l[0] = 1 << 20;
	p[1] = big + 10;
	l[1] = 0;
	p[2] = big;
	l[2] = 1 << 20;
	roundtrip_str(dict_encode, dict_decode, p, l, 3);
	roundtrip_str(lzstr_encode, lzstr_decode, p, l, 3);
	/* trade ids: sequential decimal integers */
	for (i = 0; i < 4000; i++)
	{
		snprintf(num[i], sizeof(num[i]), "%llu", 4123456789ULL + i + i / 100 * 7);
		p[i] = (const uint8_t *) num[i];
		l[i] = (uint32_t) strlen(num[i]);
	}
	roundtrip_str(intstr_encode, intstr_decode, p, l, 4000);
	buf_init(&b);
	CHECK(intstr_encode(p, l, 1000, &b) == CZ_OK);
	CHECK(b.len < 200);			/* about a bit an id */
	buf_free(&b);
	/* the extremes are integers; non-canonical forms are not */
	{
		static const char *ok[] = {"0", "-1", "9223372036854775807", "-9223372036854775808", "17"};
		static const char *bad[] = {"007", "-0", "+1", "9223372036854775808",
		"-9223372036854775809", "", "-", "1a", " 1", "12345678901234567890123"};

		for (i = 0; i < 5; i++)
		{
			p[i] = (const uint8_t *) ok[i];
			l[i] = (uint32_t) strlen(ok[i]);
		}
		roundtrip_str(intstr_encode, intstr_decode, p, l, 5);
		for (i = 0; i < 10; i++)
		{
			p[0] = (const uint8_t *) bad[i];
			l[0] = (uint32_t) strlen(bad[i]);
			buf_init(&b);
			CHECK(intstr_encode(p, l, 1, &b) == CZ_ERR_UNFIT);
			buf_free(&b);
		}
	}
	free(big);
}

static void
test_lz_limits(void)
{
	CzBuf		b,
				out;
	uint8_t		bomb[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x78, 0x9C};

	/* a declared length far beyond what the input can inflate to */
	buf_init(&out);
	CHECK(lz_decompress(bomb, sizeof(bomb), &out) == CZ_ERR_LIMIT);
	buf_free(&out);
	/* a stream whose length is not the declared one */
	buf_init(&b);
	CHECK(lz_compress((const uint8_t *) "hello hello hello", 17, &b) == CZ_OK);
	b.data[0] = 16;
	buf_init(&out);
	CHECK(lz_decompress(b.data, b.len, &out) == CZ_ERR_CORRUPT);
	buf_free(&out);
	buf_free(&b);
}

/* one batch of every kind and NULL pattern, decoded whole and in part */
#define NC 7
static void
check_batch(uint32_t n)
{
	int64_t    *ts = calloc(n, 8),
			   *id = calloc(n, 8);
	double	   *px = calloc(n, 8),
			   *qty = calloc(n, 8);
	const uint8_t **tp = calloc(n, sizeof(void *));
	uint32_t   *tl = calloc(n, 4);
	bool	   *nul = calloc(n, 1),
			   *all = calloc(n, 1);
	char		(*txt)[24] = calloc(n, 24);
	static const uint8_t empty[1] = {0};
	CzColumnIn	c[NC];
	CzBuf		b;
	CzBatch		d;
	CzStats		st;
	bool		want[NC] = {false, true, false, false, true, false, false};
	uint32_t	i,
				k;
	bool		ok = true;
	int64_t		mn = INT64_MAX,
				mx = INT64_MIN;

	for (i = 0; i < n; i++)
	{
		ts[i] = i == 0 ? PG_TS_MIN : i == 1 ? INT64_MAX : PG_TS_END - 1 - (int64_t) (n - i) * 1000;
		id[i] = 7;
		px[i] = i % 97 == 5 ? NAN : i % 89 == 3 ? -INFINITY : 100 + (double) (i % 13) * 0.5;
		qty[i] = f8_of(next_rand());
		nul[i] = i % 3 == 1;
		all[i] = true;
		snprintf(txt[i], 24, "%s%u", i % 5 ? "sell" : "buy", i % 4);
		tp[i] = (const uint8_t *) txt[i];
		tl[i] = (uint32_t) strlen(txt[i]);
		if (i % 11 == 0)
		{
			tp[i] = empty;
			tl[i] = 0;
		}
		if (!nul[i])
		{
			mn = ts[i] < mn ? ts[i] : mn;
			mx = ts[i] > mx ? ts[i] : mx;
		}
	}
	memset(c, 0, sizeof(c));
	c[0] = (CzColumnIn) {.kind = CZ_INT64, .isnull = nul, .i64 = ts};
	c[1] = (CzColumnIn) {.kind = CZ_INT64, .i64 = id};
	c[2] = (CzColumnIn) {.kind = CZ_FLOAT8, .f8 = px};
	c[3] = (CzColumnIn) {.kind = CZ_FLOAT8, .isnull = nul, .f8 = qty};
	c[4] = (CzColumnIn) {.kind = CZ_BYTES, .isnull = nul, .ptr = tp, .len = tl};
	c[5] = (CzColumnIn) {.kind = CZ_BYTES, .isnull = all, .ptr = tp, .len = tl};
	c[6] = (CzColumnIn) {.kind = CZ_BYTES, .ptr = tp, .len = tl};
	buf_init(&b);
	CHECK(batch_encode(c, NC, n, &b) == CZ_OK);
	CHECK(batch_decode(b.data, b.len, NULL, &d) == CZ_OK);
	CHECK(d.nrows == n && d.ncols == NC);
	for (i = 0; i < n && d.cols; i++)
	{
		ok &= ((d.cols[0].isnull && d.cols[0].isnull[i]) == nul[i]) &&
			(nul[i] || d.cols[0].i64[i] == ts[i]);
		ok &= d.cols[1].isnull == NULL && d.cols[1].i64[i] == 7;
		ok &= memcmp(&d.cols[2].f8[i], &px[i], 8) == 0;
		ok &= nul[i] || memcmp(&d.cols[3].f8[i], &qty[i], 8) == 0;
		for (k = 4; k < NC; k++)
		{
			CzColumnOut *o = &d.cols[k];
			bool		isnull = o->isnull && o->isnull[i];

			ok &= isnull == (k == 5 || (k == 4 && nul[i]));
			ok &= isnull || (o->len[i] == tl[i] &&
							 (tl[i] == 0 || memcmp(o->arena + o->off[i], tp[i], tl[i]) == 0));
		}
	}
	CHECK(ok);
	if (d.cols)
	{
		CHECK(d.cols[1].encoding == CZ_ENC_CONST);
		CHECK(d.cols[0].encoding == CZ_ENC_DELTA || n < 3);
		CHECK(d.cols[6].encoding == CZ_ENC_DICT || d.cols[6].encoding == CZ_ENC_LZ || n < 2);
		CHECK(d.cols[2].encoding == CZ_ENC_GORILLA || n <= 3);	/* NaN, -inf */
	}
	batch_free(&d);
	/* the stats, from the headers alone */
	CHECK(batch_stats(b.data, b.len, 0, &st) == CZ_OK);
	CHECK(st.has_minmax && st.min_i64 == mn && st.max_i64 == mx);
	CHECK(st.nnulls == (n + 1) / 3);
	CHECK(batch_stats(b.data, b.len, 2, &st) == CZ_OK);
	CHECK(st.has_minmax && st.min_f8 == (n > 3 ? -INFINITY : 100) && st.has_nan == (n > 5));
	CHECK(batch_stats(b.data, b.len, 5, &st) == CZ_OK && !st.has_minmax && st.nnulls == n);
	CHECK(batch_stats(b.data, b.len, NC, &st) == CZ_ERR_LIMIT);
	/* the same stats from a prefix that ends after the headers */
	{
		size_t		hl = 3;
		CzStats		sp;

		while (hl < b.len && batch_stats_prefix(b.data, hl, true, NC - 1, &sp) == CZ_ERR_TRUNCATED)
			hl++;
		CHECK(batch_stats_prefix(b.data, hl, true, 0, &sp) == CZ_OK);
		CHECK(sp.has_minmax && sp.min_i64 == mn && sp.max_i64 == mx);
		CHECK(hl == b.len || batch_stats(b.data, hl, 0, &sp) == CZ_ERR_TRUNCATED);
		CHECK(batch_stats_prefix(b.data, 2, true, 0, &sp) == CZ_ERR_TRUNCATED);
	}
	/* only the wanted columns */
	CHECK(batch_decode(b.data, b.len, want, &d) == CZ_OK);
	CHECK(!d.cols[0].decoded && d.cols[0].i64 == NULL && d.cols[1].decoded && d.cols[4].decoded);
	batch_free(&d);
	/* every truncation fails cleanly (checked on small batches: quadratic) */
	if (n <= 100)
	{
		bool		all_fail = true;

		for (i = 0; i < b.len; i++)
			if (batch_decode(b.data, i, NULL, &d) == CZ_OK)
			{
				all_fail = false;
				batch_free(&d);
			}
		CHECK(all_fail);
		/* flipped bits: an error or some batch, never a crash */
		for (i = 0; i < b.len * 8; i++)
		{
			b.data[i / 8] ^= (uint8_t) (1 << (i % 8));
			if (batch_decode(b.data, b.len, NULL, &d) == CZ_OK)
				batch_free(&d);
			b.data[i / 8] ^= (uint8_t) (1 << (i % 8));
		}
	}
	buf_free(&b);
	free(ts);
	free(id);
	free(px);
	free(qty);
	free(tp);
	free(tl);
	free(nul);
	free(all);
	free(txt);
}

static void
test_batches(void)
{
	CzColumnIn	c = {.kind = CZ_INT64};
	int64_t		one = 1;
	CzBuf		b;
	CzBatch		d;
	uint8_t		hdr[] = {'Z', 'C', 1, 0xFF, 0xFF, 0x03, 0x80, 0x0C};

	check_batch(1);
	check_batch(2);
	check_batch(64);
	check_batch(1000);
	check_batch(CZ_MAX_ROWS);
	/* limits */
	c.i64 = &one;
	buf_init(&b);
	CHECK(batch_encode(&c, 1, 0, &b) == CZ_ERR_LIMIT);
	CHECK(batch_encode(&c, 0, 1, &b) == CZ_ERR_LIMIT);
	CHECK(batch_encode(&c, 1, CZ_MAX_ROWS + 1, &b) == CZ_ERR_LIMIT);
	buf_free(&b);
	/* 65535 rows x 1536 columns declared: over the cell limit */
	CHECK(batch_decode(hdr, sizeof(hdr), NULL, &d) == CZ_ERR_LIMIT);
	hdr[2] = 2;
	CHECK(batch_decode(hdr, sizeof(hdr), NULL, &d) == CZ_ERR_CORRUPT);
}

int
main(void)
{
	test_delta();
	test_gorilla();
	test_decimal();
	test_strings();
	test_lz_limits();
	test_batches();
	return unit_summary("test_compress");
}
