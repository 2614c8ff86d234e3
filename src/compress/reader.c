/*-------------------------------------------------------------------------
 *
 * src/compress/reader.c
 *	  Batches back to rows: a compressed chunk's tuple slot type, which
 *	  decodes a batch's columns only when a row's value is asked for.
 *
 * A scan (or an index fetch) loads one batch into a ZcReader: the batch's
 * bytes and its column headers, nothing decoded.  Storing a row into a
 * slot of type zc_slot_ops (what the access method gives its relations'
 * slots) records only (reader, load, row); the executor's
 * slot_getsomeattrs(n) then fills attributes up to n, decoding each
 * column the first time any row needs it and making a column's
 * by-reference values (text, numeric, ...) into datums all at once, in
 * one allocation per batch.  So a query reading price and qty decodes no
 * column after qty, and no row costs a palloc.  Values stay valid until
 * the reader loads another batch; a slot read after that fails loudly
 * (never returns another batch's values), and materializing a slot
 * (ExecMaterializeSlot, copies) fills every attribute and copies them
 * into the slot, as a virtual slot does.  Slots of other types get every
 * attribute at once.
 *
 * Conversions are exactly those of rows.c, reversed: INT64 narrowed to
 * the attribute's width, FLOAT8 as is, BYTES as a varlena (short header
 * when it fits), a cstring, or a fixed-length by-reference value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compress/zc.h"

/* a slot whose values come from a reader's row on demand */
typedef struct ZcSlot
{
	VirtualTupleTableSlot base;
	ZcReader   *reader;			/* NULL: tts_values hold every value */
	uint64		gen;			/* reader->gen at the store */
	uint32		row;
} ZcSlot;

static const bool no_columns[CZ_MAX_COLS];

static void fill(ZcReader *r, uint32 row, TupleTableSlot *slot, int from, int to);

void
zc_reader_init(ZcReader *r, MemoryContext parent)
{
	memset(r, 0, sizeof(*r));
	r->cxt = AllocSetContextCreate(parent, "zvt batch", ALLOCSET_DEFAULT_SIZES);
}

static void
corrupt(ZcReader *r, CzStatus s)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("batch %u of compressed chunk \"%s\" is corrupt: %s",
					r->seq, RelationGetRelationName(r->rel), cz_strerror(s))));
}

/* Loads batch number seq of rel (its bytes in batch, copied) into r. */
void
zc_reader_load(ZcReader *r, Relation rel, uint32 seq, bytea *batch)
{
	MemoryContext old;
	CzStatus	s;
	uint8	   *raw;

	MemoryContextReset(r->cxt);
	r->loaded = false;
	r->gen++;
	r->seq = seq;
	r->rel = rel;
	r->how = NULL;
	r->nhow = 0;
	old = MemoryContextSwitchTo(r->cxt);
	r->rawlen = VARSIZE_ANY_EXHDR(batch);
	raw = palloc(Max(r->rawlen, 1));
	memcpy(raw, VARDATA_ANY(batch), r->rawlen);
	r->raw = raw;
	/* headers only: every column's kind, nothing decoded */
	s = batch_decode(r->raw, r->rawlen, no_columns, &r->batch);
	if (s == CZ_OK)
		r->byref = palloc0(sizeof(Datum *) * Max(r->batch.ncols, 1));
	MemoryContextSwitchTo(old);
	if (s != CZ_OK)
		corrupt(r, s);
	r->loaded = true;
}

/* column i of the loaded batch, decoded */
static CzColumnOut *
column(ZcReader *r, int i)
{
	CzColumnOut *c = &r->batch.cols[i];

	if (!c->decoded)
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);
		bool	   *want = palloc0(r->batch.ncols);
		CzBatch		one;
		CzStatus	s;

		want[i] = true;
		s = batch_decode(r->raw, r->rawlen, want, &one);
		if (s == CZ_OK)
		{
			if (one.nrows != r->batch.nrows || one.ncols != r->batch.ncols)
				s = CZ_ERR_CORRUPT;
			else
			{
				*c = one.cols[i];
				memset(&one.cols[i], 0, sizeof(CzColumnOut));
			}
			batch_free(&one);
		}
		pfree(want);
		MemoryContextSwitchTo(old);
		if (s != CZ_OK)
			corrupt(r, s);
	}
	return c;
}

/* the by-reference datums of BYTES column i for attribute a, made once */
static Datum *
byref_datums(ZcReader *r, int i, Form_pg_attribute a, CzColumnOut *c)
{
	uint32		n = r->batch.nrows;
	Size		total = 0;
	char	   *arena;
	Datum	   *d;

	if (r->byref[i] != NULL)
		return r->byref[i];
	for (uint32 k = 0; k < n; k++)
	{
		uint32		len = c->len ? c->len[k] : 0;

		if (c->isnull && c->isnull[k])
			continue;
		if (a->attlen == -1)
			total += len + 1 <= VARATT_SHORT_MAX ? len + 1 : INTALIGN(VARHDRSZ + len) + sizeof(int32);
		else if (a->attlen == -2)
			total += len + 1;
		else
		{
			if (len != (uint32) a->attlen)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("batch %u of compressed chunk \"%s\" has a value of the wrong length in column \"%s\"",
								r->seq, RelationGetRelationName(r->rel), NameStr(a->attname))));
			total += MAXALIGN(len);
		}
	}
	d = MemoryContextAlloc(r->cxt, sizeof(Datum) * Max(n, 1));
	arena = MemoryContextAllocHuge(r->cxt, Max(total, 1));
	for (uint32 k = 0; k < n; k++)
	{
		const uint8 *p;
		uint32		len;

		d[k] = (Datum) 0;
		if (c->isnull && c->isnull[k])
			continue;
		len = c->len[k];
		p = c->arena ? c->arena + c->off[k] : (const uint8 *) "";
		if (a->attlen == -1 && len + 1 <= VARATT_SHORT_MAX)
		{
			SET_VARSIZE_SHORT(arena, len + 1);
			memcpy(arena + 1, p, len);
			d[k] = PointerGetDatum(arena);
			arena += len + 1;
		}
		else if (a->attlen == -1)
		{
			arena = (char *) INTALIGN(arena);
			SET_VARSIZE(arena, VARHDRSZ + len);
			memcpy(VARDATA(arena), p, len);
			d[k] = PointerGetDatum(arena);
			arena += VARHDRSZ + len;
		}
		else if (a->attlen == -2)
		{
			memcpy(arena, p, len);
			arena[len] = '\0';
			d[k] = CStringGetDatum(arena);
			arena += len + 1;
		}
		else
		{
			arena = (char *) MAXALIGN(arena);
			memcpy(arena, p, len);
			d[k] = PointerGetDatum(arena);
			arena += len;
		}
	}
	r->byref[i] = d;
	return d;
}

/* how an attribute is read, decided once per batch (ZcReader.how) */
enum
{
	HOW_UNSET = 0,
	HOW_NULL,					/* dropped: NULL */
	HOW_MISSING,				/* added after the batch: its missing value */
	HOW_INT8,
	HOW_INT4,
	HOW_INT2,
	HOW_CHAR,
	HOW_FLOAT8,
	HOW_BYREF
};

/* checks and decodes attribute i's column for this batch */
static uint8
prepare(ZcReader *r, TupleDesc desc, int i)
{
	Form_pg_attribute a = TupleDescAttr(desc, i);
	CzColumnOut *c;

	if (a->attisdropped)
		return HOW_NULL;
	if (i >= (int) r->batch.ncols)
		return HOW_MISSING;
	if (r->batch.cols[i].kind != zc_attr_kind(a))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("batch %u of compressed chunk \"%s\" does not match column \"%s\"",
						r->seq, RelationGetRelationName(r->rel), NameStr(a->attname))));
	c = column(r, i);
	if (c->kind == CZ_FLOAT8)
		return HOW_FLOAT8;
	if (c->kind == CZ_BYTES)
	{
		byref_datums(r, i, a, c);
		return HOW_BYREF;
	}
	return a->attlen == 8 ? HOW_INT8 : a->attlen == 4 ? HOW_INT4 :
		a->attlen == 2 ? HOW_INT2 : HOW_CHAR;
}

/* attributes [from, to) of row into slot's values */
static void
fill(ZcReader *r, uint32 row, TupleTableSlot *slot, int from, int to)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Datum	   *values = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;

	Assert(r->loaded && row < r->batch.nrows);
	if (r->how == NULL || r->nhow < desc->natts)
	{
		r->how = MemoryContextAllocZero(r->cxt, Max(desc->natts, 1));
		r->nhow = desc->natts;
	}
	for (int i = from; i < to; i++)
	{
		uint8		how = r->how[i];
		CzColumnOut *c;

		if (how == HOW_UNSET)
			how = r->how[i] = prepare(r, desc, i);
		if (how == HOW_NULL)
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
			continue;
		}
		if (how == HOW_MISSING)
		{
			values[i] = getmissingattr(desc, i + 1, &isnull[i]);
			continue;
		}
		c = &r->batch.cols[i];
		if (c->isnull && c->isnull[row])
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
			continue;
		}
		isnull[i] = false;
		switch (how)
		{
			case HOW_INT8:
				values[i] = Int64GetDatum(c->i64[row]);
				break;
			case HOW_INT4:
				values[i] = Int32GetDatum((int32) c->i64[row]);
				break;
			case HOW_INT2:
				values[i] = Int16GetDatum((int16) c->i64[row]);
				break;
			case HOW_CHAR:
				values[i] = CharGetDatum((char) c->i64[row]);
				break;
			case HOW_FLOAT8:
				values[i] = Float8GetDatum(c->f8[row]);
				break;
			default:
				values[i] = r->byref[i][row];
				break;
		}
	}
}

/*
 * Stores row of the loaded batch into slot, valid until r loads another
 * batch; the caller sets tts_tid.
 */
void
zc_reader_store(ZcReader *r, Relation rel, uint32 row, TupleTableSlot *slot)
{
	Assert(r->loaded && row < r->batch.nrows);
	ExecClearTuple(slot);
	if (slot->tts_ops == &zc_slot_ops)
	{
		ZcSlot	   *zs = (ZcSlot *) slot;

		zs->reader = r;
		zs->gen = r->gen;
		zs->row = row;
		slot->tts_flags &= ~TTS_FLAG_EMPTY;
		slot->tts_nvalid = 0;
	}
	else
	{
		fill(r, row, slot, 0, slot->tts_tupleDescriptor->natts);
		ExecStoreVirtualTuple(slot);
	}
	slot->tts_tableOid = RelationGetRelid(rel);
}

/* ----------------------------------------------------------------
 *		The slot type: a virtual slot filled on demand
 * ----------------------------------------------------------------
 */

static void
zs_init(TupleTableSlot *slot)
{
	((ZcSlot *) slot)->reader = NULL;
	TTSOpsVirtual.init(slot);
}

static void
zs_release(TupleTableSlot *slot)
{
	TTSOpsVirtual.release(slot);
}

static void
zs_clear(TupleTableSlot *slot)
{
	((ZcSlot *) slot)->reader = NULL;
	TTSOpsVirtual.clear(slot);
}

static void
zs_getsomeattrs(TupleTableSlot *slot, int natts)
{
	ZcSlot	   *zs = (ZcSlot *) slot;

	if (zs->reader == NULL)
		elog(ERROR, "compressed chunk slot has no row to read");
	if (zs->reader->gen != zs->gen || !zs->reader->loaded)
		elog(ERROR, "row of a compressed batch read after its batch was released");
	fill(zs->reader, zs->row, slot, slot->tts_nvalid, natts);
	slot->tts_nvalid = natts;
}

static Datum
zs_getsysattr(TupleTableSlot *slot, int attnum, bool *isnull)
{
	return TTSOpsVirtual.getsysattr(slot, attnum, isnull);
}

static void
zs_materialize(TupleTableSlot *slot)
{
	if (((ZcSlot *) slot)->reader != NULL)
		slot_getallattrs(slot);
	((ZcSlot *) slot)->reader = NULL;
	TTSOpsVirtual.materialize(slot);
}

static void
zs_copyslot(TupleTableSlot *dst, TupleTableSlot *src)
{
	((ZcSlot *) dst)->reader = NULL;
	TTSOpsVirtual.copyslot(dst, src);
}

static HeapTuple
zs_copy_heap_tuple(TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	return TTSOpsVirtual.copy_heap_tuple(slot);
}

static MinimalTuple
zs_copy_minimal_tuple(TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	return TTSOpsVirtual.copy_minimal_tuple(slot);
}

const TupleTableSlotOps zc_slot_ops = {
	.base_slot_size = sizeof(ZcSlot),
	.init = zs_init,
	.release = zs_release,
	.clear = zs_clear,
	.getsomeattrs = zs_getsomeattrs,
	.getsysattr = zs_getsysattr,
	.materialize = zs_materialize,
	.copyslot = zs_copyslot,
	.get_heap_tuple = NULL,
	.get_minimal_tuple = NULL,
	.copy_heap_tuple = zs_copy_heap_tuple,
	.copy_minimal_tuple = zs_copy_minimal_tuple,
};
