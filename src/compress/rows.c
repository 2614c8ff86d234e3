/*-------------------------------------------------------------------------
 *
 * src/compress/rows.c
 *	  Chunk rows to batches: PostgreSQL datums to the codec's column
 *	  kinds (codec.h), exactly; reader.c does the reverse.
 *
 * Kinds by type: float8 is FLOAT8 (bit for bit); every other by-value
 * type of 1, 2, 4 or 8 bytes (timestamps, integers, bool, date, float4 as
 * its bits) is INT64, sign-extended from its width; everything else is
 * BYTES: a varlena's detoasted data without its header, a cstring without
 * its terminator, a fixed-length by-reference value (interval, uuid,
 * name) as its bytes.  Dropped columns are stored as NULL.  Columns added
 * after a batch was written read as their missing value (ADD COLUMN ...
 * DEFAULT), as heap does.
 *
 * Memory: the codec allocates with palloc (bits.h, CZ_PALLOC) in the
 * context current at the call: a builder's values live in a context reset
 * per batch.  Batches back to rows: reader.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compress/zc.h"


/* the codec's allocator in the backend (bits.h, CZ_PALLOC) */
void	   *zc_palloc(size_t n);
void	   *zc_palloc0(size_t n);
void	   *zc_repalloc(void *p, size_t n);
void		zc_pfree(void *p);

void *
zc_palloc(size_t n)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, n ? n : 1);
}

void *
zc_palloc0(size_t n)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, n ? n : 1,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

void *
zc_repalloc(void *p, size_t n)
{
	return p ? repalloc_huge(p, n) : zc_palloc(n);
}

void
zc_pfree(void *p)
{
	if (p)
		pfree(p);
}

CzKind
zc_attr_kind(Form_pg_attribute a)
{
	if (a->attisdropped)
		return CZ_INT64;
	if (a->atttypid == FLOAT8OID)
		return CZ_FLOAT8;
	if (a->attbyval && (a->attlen == 1 || a->attlen == 2 || a->attlen == 4 || a->attlen == 8))
		return CZ_INT64;
	return CZ_BYTES;
}

/* ----------------------------------------------------------------
 *		Builder: rows in, a batch out
 * ----------------------------------------------------------------
 */

/* Arrays for ZC_BATCH_ROWS rows of desc, in parent. */
void
zc_builder_init(ZcBuilder *b, TupleDesc desc, MemoryContext parent)
{
	int			natts = desc->natts;
	MemoryContext old = MemoryContextSwitchTo(parent);

	b->desc = desc;
	b->n = 0;
	b->kind = palloc(sizeof(CzKind) * natts);
	b->i64 = palloc0(sizeof(int64 *) * natts);
	b->f8 = palloc0(sizeof(double *) * natts);
	b->ptr = palloc0(sizeof(uint8 **) * natts);
	b->len = palloc0(sizeof(uint32 *) * natts);
	b->isnull = palloc(sizeof(bool *) * natts);
	for (int i = 0; i < natts; i++)
	{
		b->kind[i] = zc_attr_kind(TupleDescAttr(desc, i));
		b->isnull[i] = palloc(sizeof(bool) * ZC_BATCH_ROWS);
		if (b->kind[i] == CZ_INT64)
			b->i64[i] = palloc(sizeof(int64) * ZC_BATCH_ROWS);
		else if (b->kind[i] == CZ_FLOAT8)
			b->f8[i] = palloc(sizeof(double) * ZC_BATCH_ROWS);
		else
		{
			b->ptr[i] = palloc(sizeof(uint8 *) * ZC_BATCH_ROWS);
			b->len[i] = palloc(sizeof(uint32) * ZC_BATCH_ROWS);
		}
	}
	b->cxt = AllocSetContextCreate(parent, "zvt batch values", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(old);
}

/* Adds the row in slot (fewer than ZC_BATCH_ROWS are in b). */
void
zc_builder_add(ZcBuilder *b, TupleTableSlot *slot)
{
	uint32		r = b->n++;
	MemoryContext old = MemoryContextSwitchTo(b->cxt);

	Assert(r < ZC_BATCH_ROWS);
	slot_getallattrs(slot);
	for (int i = 0; i < b->desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(b->desc, i);
		Datum		d = slot->tts_values[i];
		bool		isnull = slot->tts_isnull[i] || a->attisdropped;

		b->isnull[i][r] = isnull;
		if (b->kind[i] == CZ_INT64)
		{
			int64		v = 0;

			if (!isnull)
				v = a->attlen == 8 ? DatumGetInt64(d) :
					a->attlen == 4 ? (int64) DatumGetInt32(d) :
					a->attlen == 2 ? (int64) DatumGetInt16(d) :
					(int64) (int8) DatumGetChar(d);
			b->i64[i][r] = v;
		}
		else if (b->kind[i] == CZ_FLOAT8)
			b->f8[i][r] = isnull ? 0 : DatumGetFloat8(d);
		else if (isnull)
		{
			b->ptr[i][r] = (const uint8 *) "";
			b->len[i][r] = 0;
		}
		else if (a->attlen == -1)
		{
			struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
			Size		n = VARSIZE_ANY_EXHDR(v);
			uint8	   *copy = palloc(n ? n : 1);

			memcpy(copy, VARDATA_ANY(v), n);
			b->ptr[i][r] = copy;
			b->len[i][r] = (uint32) n;
		}
		else if (a->attlen == -2)
		{
			b->len[i][r] = (uint32) strlen(DatumGetCString(d));
			b->ptr[i][r] = (const uint8 *) pstrdup(DatumGetCString(d));
		}
		else
		{
			uint8	   *copy = palloc(a->attlen);

			memcpy(copy, DatumGetPointer(d), a->attlen);
			b->ptr[i][r] = copy;
			b->len[i][r] = (uint32) a->attlen;
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * Encodes the rows added since the last call into a bytea palloc'd in the
 * caller's context, and empties b.
 */
bytea *
zc_builder_finish(ZcBuilder *b)
{
	int			natts = b->desc->natts;
	CzColumnIn *cols;
	CzBuf		out;
	CzStatus	s;
	bytea	   *result;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext old = MemoryContextSwitchTo(b->cxt);

	Assert(b->n > 0);
	cols = palloc0(sizeof(CzColumnIn) * natts);
	for (int i = 0; i < natts; i++)
	{
		cols[i].kind = b->kind[i];
		cols[i].isnull = b->isnull[i];
		cols[i].i64 = b->i64[i];
		cols[i].f8 = b->f8[i];
		cols[i].ptr = (const uint8_t *const *) b->ptr[i];
		cols[i].len = b->len[i];
	}
	buf_init(&out);
	s = batch_encode(cols, natts, b->n, &out);
	if (s != CZ_OK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("could not compress a batch: %s", cz_strerror(s))));
	if (out.len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a compressed batch of %u rows exceeds 1 GB", b->n),
				 errhint("Rows this large cannot be compressed.")));
	result = MemoryContextAlloc(caller, VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	MemoryContextSwitchTo(old);
	MemoryContextReset(b->cxt);
	b->n = 0;
	return result;
}
