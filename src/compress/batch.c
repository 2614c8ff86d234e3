/*-------------------------------------------------------------------------
 *
 * src/compress/batch.c
 *	  The compressed batch: up to CZ_MAX_ROWS rows, column by column, each
 *	  with its NULL bitmap, its encoding and (INT64, FLOAT8) its min/max.
 *
 * Layout (varints are LEB128, fixed-width numbers little-endian):
 *
 *	 "ZC" 0x01						magic and version
 *	 varint nrows, varint ncols
 *	 ncols column headers:
 *	   kind							1 INT64, 2 FLOAT8, 3 BYTES
 *	   nulls						0 none, 1 all, 2 bitmap of nrows bits
 *									(bit set = NULL) follows
 *	   when some value is not NULL:
 *		 encoding					CzEncoding
 *		 INT64 stats				zigzag varint min, max
 *		 FLOAT8 stats				flags (1 min/max, 2 NaN) [, min, max]
 *		 varint payload length
 *	 the payloads, in column order
 *
 * Payloads hold the non-NULL values only.  Headers come first so a scan
 * reads the stats (batch_stats) or decodes only the columns it needs
 * (batch_decode's want) without touching the rest.  The encoder tries the
 * encodings fit for a column's kind and keeps the smallest.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <math.h>
#include <string.h>

#define CZ_MAGIC0	'Z'
#define CZ_MAGIC1	'C'
#define CZ_VERSION	1

/* a column header as parsed, with where its payload lies */
typedef struct ColHdr
{
	CzKind		kind;
	int			nulls;			/* 0 none, 1 all, 2 bitmap */
	const uint8_t *bitmap;		/* nulls == 2: (nrows + 7) / 8 bytes */
	uint32_t	nvalues;		/* non-NULL values */
	CzEncoding	enc;
	CzStats		stats;
	size_t		off;			/* payload, from the start of the input */
	size_t		len;
} ColHdr;

static CzStatus encode_column(const CzColumnIn *c, uint32_t nrows, CzBuf *hdr, CzBuf *pay);
static CzStatus encode_bytes(const uint8_t **p, const uint32_t *l, uint32_t n,
							 CzEncoding *enc, CzBuf *pay);
static CzStatus parse_headers(const uint8_t *in, size_t len, bool prefix, uint32_t *nrows,
							  uint32_t *ncols, ColHdr **hdrs);
static CzStatus decode_column(const uint8_t *in, uint32_t nrows, const ColHdr *h,
							  CzColumnOut *c);
static void put_u64(CzBuf *b, uint64_t v);
static uint64_t get_u64(const uint8_t *p);

static void
put_u64(CzBuf *b, uint64_t v)
{
	uint8_t		t[8];
	int			i;

	for (i = 0; i < 8; i++)
		t[i] = (uint8_t) (v >> (8 * i));
	buf_put(b, t, 8);
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ------------------------------------------------------------ encode */

/*
 * Appends a batch of nrows rows (1..CZ_MAX_ROWS) of ncols columns
 * (1..CZ_MAX_COLS) to out.  CZ_OK, CZ_ERR_NOMEM, or CZ_ERR_LIMIT for
 * counts out of range.
 */
CzStatus
batch_encode(const CzColumnIn *cols, uint32_t ncols, uint32_t nrows, CzBuf *out)
{
	CzBuf		hdr,
				pay;
	uint32_t	i;
	CzStatus	s = CZ_OK;

	if (nrows == 0 || nrows > CZ_MAX_ROWS || ncols == 0 || ncols > CZ_MAX_COLS ||
		(uint64_t) nrows * ncols > CZ_MAX_CELLS)
		return CZ_ERR_LIMIT;
	buf_init(&hdr);
	buf_init(&pay);
	buf_put_byte(&hdr, CZ_MAGIC0);
	buf_put_byte(&hdr, CZ_MAGIC1);
	buf_put_byte(&hdr, CZ_VERSION);
	buf_put_varint(&hdr, nrows);
	buf_put_varint(&hdr, ncols);
	for (i = 0; i < ncols && s == CZ_OK; i++)
		s = encode_column(&cols[i], nrows, &hdr, &pay);
	if (s == CZ_OK)
	{
		buf_put(out, hdr.data, hdr.len);
		buf_put(out, pay.data, pay.len);
		if (hdr.failed || pay.failed || out->failed)
			s = CZ_ERR_NOMEM;
	}
	buf_free(&hdr);
	buf_free(&pay);
	return s;
}

/* Writes one column's header to hdr and its payload to pay. */
static CzStatus
encode_column(const CzColumnIn *c, uint32_t nrows, CzBuf *hdr, CzBuf *pay)
{
	uint32_t	i,
				n = 0;
	size_t		vsize = c->kind == CZ_BYTES ? sizeof(void *) : 8;
	void	   *vals;
	uint32_t   *lens = NULL;
	CzBuf		p;
	CzEncoding	enc;
	CzStatus	s = CZ_OK;

	if (c->kind != CZ_INT64 && c->kind != CZ_FLOAT8 && c->kind != CZ_BYTES)
		return CZ_ERR_LIMIT;
	buf_put_byte(hdr, (uint8_t) c->kind);
	if (c->isnull)
		for (i = 0; i < nrows; i++)
			n += !c->isnull[i];
	else
		n = nrows;
	if (n == nrows)
		buf_put_byte(hdr, 0);
	else if (n == 0)
	{
		buf_put_byte(hdr, 1);
		return CZ_OK;
	}
	else
	{
		uint8_t		byte = 0;

		buf_put_byte(hdr, 2);
		for (i = 0; i < nrows; i++)
		{
			if (c->isnull[i])
				byte |= (uint8_t) (1 << (i & 7));
			if ((i & 7) == 7 || i == nrows - 1)
			{
				buf_put_byte(hdr, byte);
				byte = 0;
			}
		}
	}

	/* the non-NULL values, compacted */
	vals = cz_malloc((size_t) n * vsize);
	if (c->kind == CZ_BYTES)
		lens = cz_malloc((size_t) n * sizeof(uint32_t));
	if (vals == NULL || (c->kind == CZ_BYTES && lens == NULL))
	{
		cz_free(vals);
		cz_free(lens);
		return CZ_ERR_NOMEM;
	}
	for (i = 0, n = 0; i < nrows; i++)
	{
		if (c->isnull && c->isnull[i])
			continue;
		if (c->kind == CZ_INT64)
			((int64_t *) vals)[n] = c->i64[i];
		else if (c->kind == CZ_FLOAT8)
			((double *) vals)[n] = c->f8[i];
		else
		{
			((const uint8_t **) vals)[n] = c->ptr[i];
			lens[n] = c->len[i];
		}
		n++;
	}

	buf_init(&p);
	if (c->kind == CZ_INT64)
	{
		const int64_t *v = vals;
		int64_t		mn = v[0],
					mx = v[0];

		for (i = 1; i < n; i++)
		{
			mn = v[i] < mn ? v[i] : mn;
			mx = v[i] > mx ? v[i] : mx;
		}
		enc = mn == mx ? CZ_ENC_CONST : CZ_ENC_DELTA;
		buf_put_byte(hdr, (uint8_t) enc);
		buf_put_varint(hdr, zigzag((uint64_t) mn));
		buf_put_varint(hdr, zigzag((uint64_t) mx));
		if (enc == CZ_ENC_CONST)
			put_u64(&p, (uint64_t) mn);
		else
			s = delta_encode(v, n, &p);
	}
	else if (c->kind == CZ_FLOAT8)
	{
		const double *v = vals;
		double		mn = 0,
					mx = 0;
		uint8_t		flags = 0;

		enc = CZ_ENC_CONST;
		for (i = 0; i < n; i++)
		{
			if (memcmp(&v[i], &v[0], 8) != 0)
				enc = CZ_ENC_GORILLA;
			if (isnan(v[i]))
				flags |= 2;
			else if (!(flags & 1))
			{
				mn = mx = v[i];
				flags |= 1;
			}
			else
			{
				mn = v[i] < mn ? v[i] : mn;
				mx = v[i] > mx ? v[i] : mx;
			}
		}
		if (enc == CZ_ENC_CONST)
		{
			uint64_t	u;

			memcpy(&u, &v[0], 8);
			put_u64(&p, u);
		}
		else
		{
			CzBuf		d;

			/* Gorilla, or short decimals when they fit and are smaller */
			s = gorilla_encode(v, n, &p);
			buf_init(&d);
			if (s == CZ_OK && decimal_encode(v, n, &d) == CZ_OK && d.len < p.len)
			{
				buf_free(&p);
				p = d;
				enc = CZ_ENC_DECIMAL;
			}
			else
				buf_free(&d);
		}
		buf_put_byte(hdr, (uint8_t) enc);
		buf_put_byte(hdr, flags);
		if (flags & 1)
		{
			uint64_t	u;

			memcpy(&u, &mn, 8);
			put_u64(hdr, u);
			memcpy(&u, &mx, 8);
			put_u64(hdr, u);
		}
	}
	else
	{
		s = encode_bytes(vals, lens, n, &enc, &p);
		buf_put_byte(hdr, (uint8_t) enc);
	}
	if (s == CZ_OK)
	{
		buf_put_varint(hdr, p.len);
		buf_put(pay, p.data, p.len);
		if (p.failed)
			s = CZ_ERR_NOMEM;
	}
	buf_free(&p);
	cz_free(vals);
	cz_free(lens);
	return s;
}

/* The smallest of const, intstr, dict and lzstr for n strings, into pay. */
static CzStatus
encode_bytes(const uint8_t **p, const uint32_t *l, uint32_t n,
			 CzEncoding *enc, CzBuf *pay)
{
	CzBuf		best,
				t;
	uint32_t	i;
	CzStatus	s;

	for (i = 1; i < n; i++)
		if (l[i] != l[0] || memcmp(p[i], p[0], l[0]) != 0)
			break;
	if (i == n)
	{
		*enc = CZ_ENC_CONST;
		buf_put_varint(pay, l[0]);
		buf_put(pay, p[0], l[0]);
		return pay->failed ? CZ_ERR_NOMEM : CZ_OK;
	}
	buf_init(&best);
	s = intstr_encode(p, l, n, &best);
	if (s == CZ_OK)
		*enc = CZ_ENC_INTSTR;
	else if (s == CZ_ERR_UNFIT)
	{
		buf_free(&best);
		s = lzstr_encode(p, l, n, &best);
		*enc = CZ_ENC_LZ;
		if (s == CZ_OK)
		{
			buf_init(&t);
			s = dict_encode(p, l, n, &t);
			if (s == CZ_OK && t.len < best.len)
			{
				buf_free(&best);
				best = t;
				*enc = CZ_ENC_DICT;
			}
			else
				buf_free(&t);
		}
	}
	if (s == CZ_OK)
	{
		buf_put(pay, best.data, best.len);
		if (pay->failed)
			s = CZ_ERR_NOMEM;
	}
	buf_free(&best);
	return s;
}

/* ------------------------------------------------------------ decode */

/*
 * Parses the magic and every column header; *hdrs (cz_malloc'd, the
 * caller frees it) gets ncols entries with their payloads' places, all
 * checked to lie inside the input.  prefix: in is the start of a batch,
 * holding at least the headers; the payloads are neither placed nor
 * checked (stats only).
 */
static CzStatus
parse_headers(const uint8_t *in, size_t len, bool prefix, uint32_t *nrows, uint32_t *ncols,
			  ColHdr **hdrs)
{
	size_t		pos = 3;
	uint64_t	r,
				c,
				v;
	uint32_t	i;
	ColHdr	   *h;
	CzStatus	s;

	*hdrs = NULL;
	if (len < 3)
		return CZ_ERR_TRUNCATED;
	if (in[0] != CZ_MAGIC0 || in[1] != CZ_MAGIC1 || in[2] != CZ_VERSION)
		return CZ_ERR_CORRUPT;
	if ((s = varint_get(in, len, &pos, &r)) != CZ_OK ||
		(s = varint_get(in, len, &pos, &c)) != CZ_OK)
		return s;
	if (r == 0 || c == 0)
		return CZ_ERR_CORRUPT;
	if (r > CZ_MAX_ROWS || c > CZ_MAX_COLS || r * c > CZ_MAX_CELLS)
		return CZ_ERR_LIMIT;
	h = cz_calloc(c, sizeof(ColHdr));
	if (h == NULL)
		return CZ_ERR_NOMEM;
	for (i = 0; i < c; i++)
	{
		ColHdr	   *x = &h[i];
		size_t		bm = (r + 7) / 8;

		s = CZ_ERR_TRUNCATED;
		if (len - pos < 2)
			goto fail;
		x->kind = in[pos++];
		x->nulls = in[pos++];
		x->stats.kind = x->kind;
		s = CZ_ERR_CORRUPT;
		if (x->kind < CZ_INT64 || x->kind > CZ_BYTES || x->nulls > 2)
			goto fail;
		x->nvalues = x->nulls == 1 ? 0 : (uint32_t) r;
		if (x->nulls == 2)
		{
			size_t		k;

			if (len - pos < bm)
			{
				s = CZ_ERR_TRUNCATED;
				goto fail;
			}
			x->bitmap = in + pos;
			for (k = 0; k < r; k++)
				x->nvalues -= (x->bitmap[k >> 3] >> (k & 7)) & 1;
			/* bits past the last row are zero */
			if ((r & 7) && (x->bitmap[bm - 1] >> (r & 7)))
				goto fail;
			pos += bm;
		}
		x->stats.nnulls = (uint32_t) r - x->nvalues;
		if (x->nvalues == 0)
			continue;
		if (pos >= len)
		{
			s = CZ_ERR_TRUNCATED;
			goto fail;
		}
		x->enc = in[pos++];
		if (x->kind == CZ_INT64)
		{
			if (x->enc != CZ_ENC_CONST && x->enc != CZ_ENC_DELTA)
				goto fail;
			if ((s = varint_get(in, len, &pos, &v)) != CZ_OK)
				goto fail;
			x->stats.min_i64 = (int64_t) unzigzag(v);
			if ((s = varint_get(in, len, &pos, &v)) != CZ_OK)
				goto fail;
			x->stats.max_i64 = (int64_t) unzigzag(v);
			x->stats.has_minmax = true;
		}
		else if (x->kind == CZ_FLOAT8)
		{
			uint8_t		flags;

			if (x->enc != CZ_ENC_CONST && x->enc != CZ_ENC_GORILLA &&
				x->enc != CZ_ENC_DECIMAL)
				goto fail;
			if (pos >= len)
			{
				s = CZ_ERR_TRUNCATED;
				goto fail;
			}
			flags = in[pos++];
			if (flags > 3)
				goto fail;
			x->stats.has_nan = (flags & 2) != 0;
			x->stats.has_minmax = (flags & 1) != 0;
			if (flags & 1)
			{
				uint64_t	u;

				if (len - pos < 16)
				{
					s = CZ_ERR_TRUNCATED;
					goto fail;
				}
				u = get_u64(in + pos);
				memcpy(&x->stats.min_f8, &u, 8);
				u = get_u64(in + pos + 8);
				memcpy(&x->stats.max_f8, &u, 8);
				pos += 16;
			}
		}
		else if (x->enc != CZ_ENC_CONST && x->enc != CZ_ENC_DICT &&
				 x->enc != CZ_ENC_INTSTR && x->enc != CZ_ENC_LZ)
			goto fail;
		if ((s = varint_get(in, len, &pos, &v)) != CZ_OK)
			goto fail;
		x->len = (size_t) v;
		if (v > len && !prefix)
		{
			s = CZ_ERR_TRUNCATED;
			goto fail;
		}
	}
	/* payloads follow the headers, one after another */
	for (i = 0; i < c && !prefix; i++)
	{
		if (h[i].len > len - pos)
		{
			s = CZ_ERR_TRUNCATED;
			goto fail;
		}
		h[i].off = pos;
		pos += h[i].len;
	}
	*nrows = (uint32_t) r;
	*ncols = (uint32_t) c;
	*hdrs = h;
	return CZ_OK;

fail:
	cz_free(h);
	return s;
}

/*
 * Decodes one column's non-NULL values, then spreads them over the rows
 * (from the end backwards, so in place).
 */
static CzStatus
decode_column(const uint8_t *in, uint32_t nrows, const ColHdr *h, CzColumnOut *c)
{
	const uint8_t *p = in + h->off;
	uint32_t	n = h->nvalues,
				i,
				j;
	CzStatus	s = CZ_OK;

	c->decoded = true;
	if (h->nulls)
	{
		c->isnull = cz_calloc(nrows, sizeof(bool));
		if (c->isnull == NULL)
			return CZ_ERR_NOMEM;
		for (i = 0; i < nrows; i++)
			c->isnull[i] = h->nulls == 1 || ((h->bitmap[i >> 3] >> (i & 7)) & 1);
	}
	if (h->kind == CZ_BYTES)
	{
		c->off = cz_calloc(nrows, sizeof(size_t));
		c->len = cz_calloc(nrows, sizeof(uint32_t));
		if (c->off == NULL || c->len == NULL)
			return CZ_ERR_NOMEM;
	}
	else if (h->kind == CZ_INT64)
	{
		if ((c->i64 = cz_calloc(nrows, sizeof(int64_t))) == NULL)
			return CZ_ERR_NOMEM;
	}
	else if ((c->f8 = cz_calloc(nrows, sizeof(double))) == NULL)
		return CZ_ERR_NOMEM;
	if (n == 0)
		return CZ_OK;

	if (h->enc == CZ_ENC_CONST)
	{
		if (h->kind == CZ_BYTES)
		{
			size_t		pos = 0;
			uint64_t	l;

			if ((s = varint_get(p, h->len, &pos, &l)) != CZ_OK)
				return s;
			if (l > h->len - pos)
				return CZ_ERR_TRUNCATED;
			if ((c->arena = cz_malloc(l ? l : 1)) == NULL)
				return CZ_ERR_NOMEM;
			memcpy(c->arena, p + pos, l);
			for (i = 0; i < n; i++)
				c->len[i] = (uint32_t) l;
		}
		else
		{
			uint64_t	u;

			if (h->len < 8)
				return CZ_ERR_TRUNCATED;
			u = get_u64(p);
			for (i = 0; i < n; i++)
			{
				if (h->kind == CZ_INT64)
					c->i64[i] = (int64_t) u;
				else
					memcpy(&c->f8[i], &u, 8);
			}
		}
	}
	else if (h->enc == CZ_ENC_DELTA)
		s = delta_decode(p, h->len, n, c->i64);
	else if (h->enc == CZ_ENC_GORILLA)
		s = gorilla_decode(p, h->len, n, c->f8);
	else if (h->enc == CZ_ENC_DECIMAL)
		s = decimal_decode(p, h->len, n, c->f8);
	else if (h->enc == CZ_ENC_DICT)
		s = dict_decode(p, h->len, n, &c->arena, c->off, c->len);
	else if (h->enc == CZ_ENC_INTSTR)
		s = intstr_decode(p, h->len, n, &c->arena, c->off, c->len);
	else
		s = lzstr_decode(p, h->len, n, &c->arena, c->off, c->len);
	if (s != CZ_OK || n == nrows)
		return s;

	/* spread: value k goes to the k-th non-NULL row */
	for (i = nrows, j = n; i-- > 0;)
	{
		if (c->isnull[i])
		{
			if (c->i64)
				c->i64[i] = 0;
			if (c->f8)
				c->f8[i] = 0;
			if (c->off)
				c->off[i] = 0, c->len[i] = 0;
			continue;
		}
		j--;
		if (c->i64)
			c->i64[i] = c->i64[j];
		if (c->f8)
			c->f8[i] = c->f8[j];
		if (c->off)
			c->off[i] = c->off[j], c->len[i] = c->len[j];
	}
	return CZ_OK;
}

/*
 * Decodes the batch in[0..len-1] into *out: every column, or those with
 * want[i] true when want is not NULL.  On success the caller frees *out
 * with batch_free; on error *out holds nothing to free.
 */
CzStatus
batch_decode(const uint8_t *in, size_t len, const bool *want, CzBatch *out)
{
	ColHdr	   *h;
	uint32_t	i;
	CzStatus	s;

	out->nrows = out->ncols = 0;
	out->cols = NULL;
	if ((s = parse_headers(in, len, false, &out->nrows, &out->ncols, &h)) != CZ_OK)
		return s;
	out->cols = cz_calloc(out->ncols, sizeof(CzColumnOut));
	if (out->cols == NULL)
	{
		cz_free(h);
		return CZ_ERR_NOMEM;
	}
	for (i = 0; i < out->ncols && s == CZ_OK; i++)
	{
		out->cols[i].kind = h[i].kind;
		out->cols[i].encoding = h[i].enc;
		if (want == NULL || want[i])
			s = decode_column(in, out->nrows, &h[i], &out->cols[i]);
	}
	cz_free(h);
	if (s != CZ_OK)
		batch_free(out);
	return s;
}

void
batch_free(CzBatch *b)
{
	uint32_t	i;

	for (i = 0; b->cols && i < b->ncols; i++)
	{
		CzColumnOut *c = &b->cols[i];

		cz_free(c->isnull);
		cz_free(c->i64);
		cz_free(c->f8);
		cz_free(c->arena);
		cz_free(c->off);
		cz_free(c->len);
	}
	cz_free(b->cols);
	b->cols = NULL;
	b->nrows = b->ncols = 0;
}

/* The stats of column col, read from the headers alone. */
CzStatus
batch_stats(const uint8_t *in, size_t len, uint32_t col, CzStats *out)
{
	return batch_stats_prefix(in, len, false, col, out);
}

/*
 * The stats of column col from the first len bytes of a batch (prefix)
 * or from a whole batch; CZ_ERR_TRUNCATED when the bytes end before the
 * last column header.
 */
CzStatus
batch_stats_prefix(const uint8_t *in, size_t len, bool prefix, uint32_t col, CzStats *out)
{
	ColHdr	   *h;
	uint32_t	nrows,
				ncols;
	CzStatus	s;

	if ((s = parse_headers(in, len, prefix, &nrows, &ncols, &h)) != CZ_OK)
		return s;
	if (col >= ncols)
		s = CZ_ERR_LIMIT;
	else
		*out = h[col].stats;
	cz_free(h);
	return s;
}
