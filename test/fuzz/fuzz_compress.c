/*
 * test/fuzz/fuzz_compress.c
 *	  libFuzzer harness for the compressed batch format (src/compress).
 *
 * Even first byte: the rest is a batch from an attacker.  batch_decode must
 * fail cleanly or give a batch that, encoded again and decoded, is the
 * same batch value for value (bit for bit, NULLs included), and
 * batch_stats_prefix must not read past it.
 * Odd first byte: the rest is cut into rows of an INT64, a FLOAT8 and a
 * BYTES column with NULLs from its bits; the batch must round-trip.
 * Any crash, leak, out-of-bounds read, undefined behaviour or difference
 * is a failure (abort).
 */
#include "compress/codec.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* encodes b again, decodes it, and aborts unless the two are equal */
static void
check_roundtrip(const CzBatch *b)
{
	CzColumnIn *in = calloc(b->ncols, sizeof(CzColumnIn));
	const uint8_t ***ptrs = calloc(b->ncols, sizeof(void *));
	CzBuf		buf;
	CzBatch		again;
	uint32_t	c,
				i;

	for (c = 0; c < b->ncols; c++)
	{
		const CzColumnOut *o = &b->cols[c];

		in[c].kind = o->kind;
		in[c].isnull = o->isnull;
		in[c].i64 = o->i64;
		in[c].f8 = o->f8;
		if (o->kind == CZ_BYTES)
		{
			ptrs[c] = calloc(b->nrows, sizeof(void *));
			for (i = 0; i < b->nrows; i++)
				ptrs[c][i] = o->arena ? o->arena + o->off[i] : (const uint8_t *) "";
			in[c].ptr = ptrs[c];
			in[c].len = o->len;
		}
	}
	buf_init(&buf);
	if (batch_encode(in, b->ncols, b->nrows, &buf) != CZ_OK)
		abort();
	if (batch_decode(buf.data, buf.len, NULL, &again) != CZ_OK)
		abort();
	if (again.nrows != b->nrows || again.ncols != b->ncols)
		abort();
	for (c = 0; c < b->ncols; c++)
	{
		const CzColumnOut *x = &b->cols[c],
				   *y = &again.cols[c];

		for (i = 0; i < b->nrows; i++)
		{
			bool		nx = x->isnull && x->isnull[i],
						ny = y->isnull && y->isnull[i];

			if (nx != ny || x->kind != y->kind)
				abort();
			if (nx)
				continue;
			if (x->kind == CZ_INT64 && x->i64[i] != y->i64[i])
				abort();
			if (x->kind == CZ_FLOAT8 && memcmp(&x->f8[i], &y->f8[i], 8) != 0)
				abort();
			if (x->kind == CZ_BYTES &&
				(x->len[i] != y->len[i] ||
				 (x->len[i] && memcmp(x->arena + x->off[i], y->arena + y->off[i], x->len[i]) != 0)))
				abort();
		}
		free(ptrs[c]);
	}
	batch_free(&again);
	buf_free(&buf);
	free(ptrs);
	free(in);
}

/* rows of (int64, float8, bytes) cut from the input, NULLs from its bits */
static void
from_values(const uint8_t *d, size_t size)
{
	uint32_t	n = (uint32_t) (size / 17) + 1,
				i;
	int64_t    *iv = calloc(n, 8);
	double	   *fv = calloc(n, 8);
	const uint8_t **pv = calloc(n, sizeof(void *));
	uint32_t   *lv = calloc(n, 4);
	bool	   *nul = calloc(n, 1);
	CzColumnIn	c[3] = {{.kind = CZ_INT64, .isnull = nul, .i64 = iv},
	{.kind = CZ_FLOAT8, .f8 = fv}, {.kind = CZ_BYTES, .isnull = nul, .ptr = pv, .len = lv}};
	CzBuf		buf;
	CzBatch		b;

	for (i = 0; i < n; i++)
	{
		size_t		at = (size_t) i * 17;

		if (at + 17 <= size)
		{
			memcpy(&iv[i], d + at, 8);
			memcpy(&fv[i], d + at + 8, 8);
			nul[i] = d[at + 16] & 1;
		}
		/* strings: a slice of the input from this row on, length from a byte */
		if (at < size)
		{
			size_t		want = d[at] % 40;

			pv[i] = d + at;
			lv[i] = (uint32_t) (want < size - at ? want : size - at);
		}
		else
			pv[i] = (const uint8_t *) "";
	}
	buf_init(&buf);
	if (batch_encode(c, 3, n, &buf) != CZ_OK)
		abort();
	if (batch_decode(buf.data, buf.len, NULL, &b) != CZ_OK)
		abort();
	for (i = 0; i < n; i++)
	{
		if ((b.cols[0].isnull && b.cols[0].isnull[i]) != nul[i])
			abort();
		if (!nul[i] && (b.cols[0].i64[i] != iv[i] || b.cols[2].len[i] != lv[i] ||
						(lv[i] && memcmp(b.cols[2].arena + b.cols[2].off[i], pv[i], lv[i]) != 0)))
			abort();
		if (memcmp(&b.cols[1].f8[i], &fv[i], 8) != 0)
			abort();
	}
	batch_free(&b);
	buf_free(&buf);
	free(iv);
	free(fv);
	free(pv);
	free(lv);
	free(nul);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	CzBatch		b;

	if (size < 1)
		return 0;
	if (data[0] & 1)
	{
		from_values(data + 1, size - 1);
		return 0;
	}
	{
		CzStats		st;

		/* a prefix's headers: never read past the input */
		(void) batch_stats_prefix(data + 1, size - 1, true, data[size - 1] % 8, &st);
	}
	if (batch_decode(data + 1, size - 1, NULL, &b) == CZ_OK)
	{
		check_roundtrip(&b);
		batch_free(&b);
	}
	return 0;
}
