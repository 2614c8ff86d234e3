/*-------------------------------------------------------------------------
 *
 * src/compress/dict.c
 *	  Dictionary encoding of repeated byte strings (side, symbol, source).
 *
 * Layout: varint ndict; ndict entries (varint length, bytes) in order of
 * first appearance; then one index per value in ceil(log2(ndict)) bits
 * (none when every value is the same).  Strings are compared by bytes, so
 * the codec never depends on a collation.  The encoder finds repeats with
 * an open-addressing hash table of FNV-1a hashes.
 *
 *-------------------------------------------------------------------------
 */
#include "compress/bits.h"

#include <string.h>

static uint64_t fnv1a(const uint8_t *p, uint32_t len);
static int	index_width(uint32_t ndict);

static uint64_t
fnv1a(const uint8_t *p, uint32_t len)
{
	uint64_t	h = UINT64_C(14695981039346656037);
	uint32_t	i;

	for (i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* bits to write an index below ndict */
static int
index_width(uint32_t ndict)
{
	int			w = 0;

	while (w < 32 && (UINT64_C(1) << w) < ndict)
		w++;
	return w;
}

/*
 * Appends the dictionary encoding of n strings (ptr[i], len[i] bytes) to
 * out.  CZ_OK or CZ_ERR_NOMEM.
 */
CzStatus
dict_encode(const uint8_t *const *ptr, const uint32_t *len, uint32_t n, CzBuf *out)
{
	uint32_t	tsize = 16,
				ndict = 0,
			   *slot,			/* table: 1 + first row of an entry, 0 empty */
			   *idx;			/* dictionary index of each row */
	uint32_t	i;
	CzBuf		entries;
	CzBitWriter w;
	int			width;

	while (tsize < 2 * (uint64_t) n)
		tsize *= 2;
	slot = cz_calloc(tsize, sizeof(uint32_t));
	idx = cz_malloc((size_t) (n ? n : 1) * sizeof(uint32_t));
	if (slot == NULL || idx == NULL)
	{
		cz_free(slot);
		cz_free(idx);
		return CZ_ERR_NOMEM;
	}
	buf_init(&entries);
	for (i = 0; i < n; i++)
	{
		uint32_t	h = (uint32_t) fnv1a(ptr[i], len[i]) & (tsize - 1);

		for (;;)
		{
			uint32_t	r = slot[h];

			if (r == 0)
			{
				slot[h] = i + 1;
				idx[i] = ndict++;
				buf_put_varint(&entries, len[i]);
				buf_put(&entries, ptr[i], len[i]);
				break;
			}
			if (len[r - 1] == len[i] && memcmp(ptr[r - 1], ptr[i], len[i]) == 0)
			{
				idx[i] = idx[r - 1];
				break;
			}
			h = (h + 1) & (tsize - 1);
		}
	}
	cz_free(slot);
	buf_put_varint(out, ndict);
	buf_put(out, entries.data, entries.len);
	if (entries.failed)
		out->failed = true;
	buf_free(&entries);
	width = index_width(ndict);
	bits_init(&w, out);
	for (i = 0; i < n; i++)
		bits_put(&w, idx[i], width);
	bits_flush(&w);
	cz_free(idx);
	return out->failed ? CZ_ERR_NOMEM : CZ_OK;
}

/*
 * Decodes n strings from in[0..len-1]: *arena (cz_malloc'd, the caller
 * frees it) holds the dictionary's bytes once, and value i is at
 * *arena + off[i], vlen[i] bytes.  CZ_ERR_TRUNCATED when the input ends
 * early, CZ_ERR_CORRUPT for an index outside the dictionary or a
 * dictionary larger than the values.
 */
CzStatus
dict_decode(const uint8_t *in, size_t len, uint32_t n,
			uint8_t **arena, size_t *off, uint32_t *vlen)
{
	size_t		pos = 0,
				start;
	uint64_t	ndict,
				l;
	uint32_t	i;
	size_t	   *eoff;
	uint32_t   *elen;
	uint8_t    *a;
	CzBitReader r;
	int			width;
	CzStatus	s;

	*arena = NULL;
	if ((s = varint_get(in, len, &pos, &ndict)) != CZ_OK)
		return s;
	if (ndict > n || (ndict == 0 && n > 0))
		return CZ_ERR_CORRUPT;
	if (n == 0)
		return CZ_OK;
	eoff = cz_malloc(ndict * sizeof(size_t));
	elen = cz_malloc(ndict * sizeof(uint32_t));
	a = cz_malloc(len);			/* entries are shorter than their input */
	if (eoff == NULL || elen == NULL || a == NULL)
	{
		s = CZ_ERR_NOMEM;
		goto fail;
	}
	start = 0;
	for (i = 0; i < ndict; i++)
	{
		if ((s = varint_get(in, len, &pos, &l)) != CZ_OK)
			goto fail;
		if (l > len - pos)
		{
			s = CZ_ERR_TRUNCATED;
			goto fail;
		}
		memcpy(a + start, in + pos, l);
		eoff[i] = start;
		elen[i] = (uint32_t) l;
		start += l;
		pos += l;
	}
	width = index_width((uint32_t) ndict);
	bits_reader(&r, in + pos, len - pos);
	for (i = 0; i < n; i++)
	{
		uint64_t	k;

		if ((s = bits_get(&r, width, &k)) != CZ_OK)
			goto fail;
		if (k >= ndict)
		{
			s = CZ_ERR_CORRUPT;
			goto fail;
		}
		off[i] = eoff[k];
		vlen[i] = elen[k];
	}
	cz_free(eoff);
	cz_free(elen);
	*arena = a;
	return CZ_OK;

fail:
	cz_free(eoff);
	cz_free(elen);
	cz_free(a);
	return s;
}
