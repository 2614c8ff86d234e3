/*-------------------------------------------------------------------------
 *
 * src/backtest/read.c
 *	  The closed 1-minute candles of one instrument read straight from the
 *	  partitions of zvt.candles, without the executor.
 *
 * bt_load_bars() used to read them with two SPI queries; the executor's
 * work per row (five quals evaluated as expressions, a slot per row, a
 * DestReceiver call) was most of a backtest.  This file does the same
 * read with the table and index access methods: it finds the partitions
 * (chunks and the default partition) whose range overlaps [start,
 * finish), as partition pruning would, and reads each one either
 *
 *	- sequentially (table_beginscan + heap_getnext, the tuples inspected
 *	  in the buffer, attributes fetched by cached offset), when the
 *	  instrument's 1-minute candles may be a large share of the
 *	  partition; or
 *	- through the partition's (instrument_id, timeframe, source, ts)
 *	  unique index, once per source, when they are at most a small share
 *	  (many instruments, or a range that covers little of a chunk).
 *
 * The choice compares the partition's estimated rows (pg_class's density
 * times its current size, as the planner estimates) with the most rows
 * the instrument's 1m candles can have there: two (one a source) per
 * minute of the range the partition covers, if stored on whole minutes.
 * A sequential read is taken when the partition holds at most
 * SEQ_ROWS_PER_MINUTE rows a minute.
 *
 * Large sequential reads are shared with one parallel worker
 * (read_worker.c).
 *
 * Rows are kept by exactly the rule of the SQL it replaces: instrument_id
 * equal, timeframe equal as interval_eq judges (so '60 seconds' is one
 * minute), start <= ts < finish, closed; the exchange's candles and the
 * trades-built ones go to separate arrays, which bt_load_bars() sorts if
 * needed and merges.  The read runs as the caller under the active
 * snapshot, as the read-only SPI query did, taking AccessShareLock on
 * zvt.candles, the partitions read and their indexes.
 *
 * It declines (returns false, and the caller runs the SQL) whenever the
 * SQL could behave differently: the caller lacks table-wide SELECT on
 * zvt.candles (the SQL then checks column rights and raises 42501 as
 * before), row-level security applies to it, it is not range-partitioned
 * on ts alone, or a partition is itself partitioned or not a heap.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/int128.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "zvt.h"
#include "core/zvt_time.h"
#include "backtest/bars.h"
#include "backtest/read.h"

/*
 * A partition is read sequentially when it holds at most this many rows
 * per minute of the range it covers; the instrument's own 1-minute
 * candles are at most two a minute (one a source).
 */
#define SEQ_ROWS_PER_MINUTE 4

/* the most columns before source that the fast fetch handles */
#define MAX_FIXED 48

/*
 * Where the columns lie in the tuples of one partition when every column
 * before source is fixed-width (as in zvt.candles): then each column's
 * offset depends only on which of those columns are null, so offsets are
 * computed once per null pattern (kept for the last pattern seen) instead
 * of walking the tuple for each column after a nullable one.
 */
typedef struct CandleLayout
{
	bool		usable;			/* false: fetch through heap_getattr */
	int			nfixed;			/* the columns before source */
	int16		len[MAX_FIXED];	/* their attlen, 0-based by attnum - 1 */
	char		align[MAX_FIXED];	/* their attalign */
	char		source_align;
	uint64		mask;			/* null pattern of off[] (bit set = null) */
	uint32		off[MAX_FIXED + 1]; /* offsets from the data start for mask;
									 * off[nfixed] is the end of the last */
} CandleLayout;

static void layout_init(CandleLayout *l, TupleDesc td, const CandleCols *c);
static void layout_offsets(CandleLayout *l, uint64 mask);
static bool partition_range(PartitionBoundInfo bi, int part, TimestampTz *lo, TimestampTz *hi);
static void plan_partition(ReadPart *rp, TimestampTz lo, TimestampTz hi);
static void read_index(ReadState *rs, Relation rel, Relation index, const CandleCols *c);
static Oid	candle_index(Relation rel, const CandleCols *c);

/*
 * Read the closed 1-minute candles of instrument_id whose ts lies in
 * [mk->start, mk->finish) into exch (source 'exchange') and trades
 * (source 'trades'), each appended to in the order read: partition by
 * partition, in index order for an index read, physical order for a
 * sequential one.  Returns false, having read nothing, when the SQL must
 * do it instead (see the head of this file).
 */
bool
bt_read_1m_bars(const BtMarket *mk, int32 instrument_id,
				BtBarArray *exch, BtBarArray *trades)
{
	Oid			relid;
	Relation	rel;
	PartitionKey key;
	PartitionDesc pd;
	CandleCols	c;
	ReadState	rs;
	ReadPart   *parts;
	TimestampTz *los;
	TimestampTz *his;
	int			nread = 0;
	ParallelContext *pcxt;
	int			join = -1;

	relid = get_relname_relid("candles", get_namespace_oid("zvt", false));
	if (!OidIsValid(relid))
		return false;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE || !bt_read_cols(rel, &c))
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	key = RelationGetPartitionKey(rel);
	if (key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 ||
		key->partattrs[0] != c.ts || key->parttypid[0] != TIMESTAMPTZOID)
	{
		table_close(rel, AccessShareLock);
		return false;
	}

	/*
	 * The partitions to read, as pruning would choose them: those whose
	 * range overlaps [start, finish), and the default partition.  Checked
	 * and opened all before any is read, so that declining reads nothing.
	 */
	pd = RelationGetPartitionDesc(rel, true);
	parts = palloc0(sizeof(ReadPart) * Max(pd->nparts, 1));
	los = palloc(sizeof(TimestampTz) * Max(pd->nparts, 1));
	his = palloc(sizeof(TimestampTz) * Max(pd->nparts, 1));
	for (int p = 0; p < pd->nparts; p++)
	{
		TimestampTz lo = DT_NOBEGIN,
					hi = DT_NOEND;

		if (pd->boundinfo == NULL ||
			(p != pd->boundinfo->default_index &&
			 !partition_range(pd->boundinfo, p, &lo, &hi)))
			continue;
		if (lo >= mk->finish || hi <= mk->start)
			continue;
		if (!pd->is_leaf[p])
		{
			for (int i = 0; i < nread; i++)
				table_close(parts[i].rel, NoLock);
			table_close(rel, NoLock);
			return false;
		}
		parts[nread].rel = table_open(pd->oids[p], AccessShareLock);
		if (parts[nread].rel->rd_rel->relkind != RELKIND_RELATION ||
			parts[nread].rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
			!bt_read_cols(parts[nread].rel, &parts[nread].c))
		{
			for (int i = 0; i <= nread; i++)
				table_close(parts[i].rel, NoLock);
			table_close(rel, NoLock);
			return false;
		}
		los[nread] = Max(lo, mk->start);
		his[nread] = Min(hi, mk->finish);
		nread++;
	}

	memset(&rs, 0, sizeof(rs));
	rs.instrument_id = instrument_id;
	rs.start = mk->start;
	rs.finish = mk->finish;
	rs.tf = *DatumGetIntervalP(mk->timeframe);
	rs.tf_span = bt_read_span(&rs.tf);
	rs.snapshot = GetActiveSnapshot();
	rs.out[0] = exch;
	rs.out[1] = trades;
	for (int i = 0; i < nread; i++)
		plan_partition(&parts[i], los[i], his[i]);

	/*
	 * Large sequential reads are shared with a worker; its bars come
	 * after the leader's share of the same partition ("join"), so that
	 * bars read in time order stay so.
	 */
	pcxt = bt_read_launch(&rs, parts, nread, &join);
	for (int i = 0; i < nread; i++)
	{
		ReadPart   *rp = &parts[i];

		if (OidIsValid(rp->index))
		{
			Relation	irel = index_open(rp->index, AccessShareLock);

			read_index(&rs, rp->rel, irel, &rp->c);
			index_close(irel, NoLock);
		}
		else if (rp->lead > 0)
			bt_read_seq(&rs, rp->rel, &rp->c, 0, rp->lead);
		if (pcxt != NULL && i == join)
			bt_read_join(&rs, pcxt);
		table_close(rp->rel, NoLock);
	}

	/* the locks are kept to the end of the transaction, as a query's */
	table_close(rel, NoLock);
	return true;
}

/*
 * The attribute numbers of the columns the read needs in rel; false
 * unless they all exist with the types of zvt.candles.
 */
bool
bt_read_cols(Relation rel, CandleCols *c)
{
	static const struct
	{
		const char *name;
		Oid			type;
		size_t		offset;
	}			cols[] =
	{
		{"ts", TIMESTAMPTZOID, offsetof(CandleCols, ts)},
		{"instrument_id", INT4OID, offsetof(CandleCols, instrument_id)},
		{"timeframe", INTERVALOID, offsetof(CandleCols, timeframe)},
		{"open", FLOAT8OID, offsetof(CandleCols, open)},
		{"high", FLOAT8OID, offsetof(CandleCols, high)},
		{"low", FLOAT8OID, offsetof(CandleCols, low)},
		{"close", FLOAT8OID, offsetof(CandleCols, close)},
		{"closed", BOOLOID, offsetof(CandleCols, closed)},
		{"source", TEXTOID, offsetof(CandleCols, source)},
	};
	TupleDesc	td = RelationGetDescr(rel);

	for (size_t i = 0; i < lengthof(cols); i++)
	{
		AttrNumber	att = InvalidAttrNumber;

		for (int a = 0; a < td->natts; a++)
		{
			Form_pg_attribute fa = TupleDescAttr(td, a);

			if (!fa->attisdropped && strcmp(NameStr(fa->attname), cols[i].name) == 0)
			{
				if (fa->atttypid != cols[i].type)
					return false;
				att = fa->attnum;
			}
		}
		if (att == InvalidAttrNumber)
			return false;
		*(AttrNumber *) ((char *) c + cols[i].offset) = att;
	}
	return true;
}

/* an interval as interval_eq compares it: months of 30 days, in usecs */
INT128
bt_read_span(const Interval *iv)
{
	INT128		span = int64_to_int128(iv->time);

	int128_add_int64_mul_int64(&span, (int64) iv->month * 30 + iv->day, USECS_PER_DAY);
	return span;
}

/*
 * The range [*lo, *hi) of range partition number part (DT_NOBEGIN /
 * DT_NOEND for MINVALUE / MAXVALUE); false if it has none in bi.
 */
static bool
partition_range(PartitionBoundInfo bi, int part, TimestampTz *lo, TimestampTz *hi)
{
	for (int i = 0; i < bi->ndatums; i++)
	{
		/* indexes[i] is the partition whose upper bound is datums[i] */
		if (bi->indexes[i] != part)
			continue;
		*hi = bi->kind[i][0] == PARTITION_RANGE_DATUM_VALUE
			? DatumGetTimestampTz(bi->datums[i][0]) : DT_NOEND;
		*lo = i > 0 && bi->kind[i - 1][0] == PARTITION_RANGE_DATUM_VALUE
			? DatumGetTimestampTz(bi->datums[i - 1][0]) : DT_NOBEGIN;
		return true;
	}
	return false;
}

/*
 * How to read one partition, of which [lo, hi) is the part in the range
 * asked for: sequentially or through its unique index (see the file
 * head).  A sequential read is the leader's alone until bt_read_launch()
 * shares it.
 */
static void
plan_partition(ReadPart *rp, TimestampTz lo, TimestampTz hi)
{
	Relation	rel = rp->rel;
	double		rows;
	double		minutes = ((double) hi - (double) lo) / USECS_PER_MINUTE;

	rp->nblocks = RelationGetNumberOfBlocks(rel);
	rp->lead = rp->nblocks;
	rp->index = InvalidOid;
	if (rp->nblocks == 0)
		return;

	/* as the planner's estimate_rel_size: the known density, current size */
	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
		rows = rel->rd_rel->reltuples / rel->rd_rel->relpages * rp->nblocks;
	else
		rows = (double) rp->nblocks * (BLCKSZ / 128);
	if (rows > SEQ_ROWS_PER_MINUTE * Max(minutes, 1))
		rp->index = candle_index(rel, &rp->c);
	elog(DEBUG1, "zvt backtest: %s read of \"%s\" (%.0f rows for %.0f minutes)",
		 OidIsValid(rp->index) ? "index" : "sequential",
		 RelationGetRelationName(rel), rows, minutes);
}

/*
 * The bar of a candle row if it is one of the bars asked for: the array
 * it goes to (0 exchange, 1 trades), or -1.  The checks come cheapest
 * and most selective first; attributes before the nullable ones come by
 * cached offset.
 */
static inline int
keep_row(const ReadState *rs, const CandleCols *c, HeapTuple tup, TupleDesc td, BtBar *bar)
{
	bool		isnull;
	Datum		d;
	Interval   *tf;
	text	   *src;
	int			len;

	d = fastgetattr(tup, c->instrument_id, td, &isnull);
	if (isnull || DatumGetInt32(d) != rs->instrument_id)
		return -1;
	d = fastgetattr(tup, c->ts, td, &isnull);
	if (isnull || DatumGetTimestampTz(d) < rs->start || DatumGetTimestampTz(d) >= rs->finish)
		return -1;
	bar->ts = ZVT_TS_TO_UNIX(DatumGetTimestampTz(d));
	d = fastgetattr(tup, c->timeframe, td, &isnull);
	if (isnull)
		return -1;
	tf = DatumGetIntervalP(d);
	if (tf->time != rs->tf.time || tf->day != rs->tf.day || tf->month != rs->tf.month)
	{
		if (int128_compare(bt_read_span(tf), rs->tf_span) != 0)
			return -1;
	}
	d = heap_getattr(tup, c->closed, td, &isnull);
	if (isnull || !DatumGetBool(d))
		return -1;
	d = heap_getattr(tup, c->source, td, &isnull);
	if (isnull)
		return -1;
	src = (text *) DatumGetPointer(d);
	if (VARATT_IS_EXTENDED(src) && !VARATT_IS_SHORT(src))
		src = (text *) pg_detoast_datum_packed((struct varlena *) src);
	len = VARSIZE_ANY_EXHDR(src);
	bar->open = DatumGetFloat8(fastgetattr(tup, c->open, td, &isnull));
	bar->high = DatumGetFloat8(fastgetattr(tup, c->high, td, &isnull));
	bar->low = DatumGetFloat8(fastgetattr(tup, c->low, td, &isnull));
	bar->close = DatumGetFloat8(fastgetattr(tup, c->close, td, &isnull));
	if (len == 8 && memcmp(VARDATA_ANY(src), "exchange", 8) == 0)
		return 0;
	if (len == 6 && memcmp(VARDATA_ANY(src), "trades", 6) == 0)
		return 1;
	return -1;
}

/* append n bars to a, growing it as needed */
void
bt_bar_array_append(BtBarArray *a, const BtBar *bars, int64 n)
{
	if (a->n + n > a->cap)
	{
		while (a->n + n > a->cap)
			a->cap *= 2;
		a->bars = repalloc_huge(a->bars, sizeof(BtBar) * a->cap);
	}
	memcpy(a->bars + a->n, bars, sizeof(BtBar) * n);
	a->n += n;
}

/*
 * Keep a bar: appended to its array, or in a worker sent with the others
 * when the array is full; the leader takes in what the worker sent so far
 * every 64K rows.
 */
static inline void
push_bar(ReadState *rs, int which, const BtBar *bar)
{
	BtBarArray *a = rs->out[which];

	if (a->n == a->cap)
	{
		if (rs->sender)
			bt_read_send(rs, which);
		else
		{
			a->cap *= 2;
			a->bars = repalloc_huge(a->bars, sizeof(BtBar) * a->cap);
		}
	}
	a->bars[a->n++] = *bar;
}

/* every 64K rows: interrupts, and the worker's bars */
static inline void
every_64k(ReadState *rs, uint32 *n)
{
	if ((++*n & 0xFFFF) != 0)
		return;
	CHECK_FOR_INTERRUPTS();
	if (rs->mq != NULL && !rs->sender)
		bt_read_receive(rs, true);
}

/*
 * keep_row() for a tuple of a partition with a usable layout: the same
 * checks on values read at offsets computed once per null pattern.
 */
static inline int
keep_row_fast(const ReadState *rs, const CandleCols *c, CandleLayout *l,
			  HeapTuple tup, TupleDesc td, BtBar *bar)
{
	HeapTupleHeader th = tup->t_data;
	char	   *tp = (char *) th + th->t_hoff;
	uint64		mask = 0;
	Interval   *tf;
	char	   *src;
	uint32		off;
	int			len;

	if (HeapTupleHeaderGetNatts(th) <= l->nfixed)
		return keep_row(rs, c, tup, td, bar);	/* columns added since */
	if (HeapTupleHasNulls(tup))
	{
		/* the bitmap has a bit set for each column that is not null */
		for (int b = 0; b * 8 < l->nfixed + 1; b++)
			mask |= (uint64) (uint8) ~th->t_bits[b] << (b * 8);
		mask &= (UINT64CONST(1) << (l->nfixed + 1)) - 1;
		if (mask & (UINT64CONST(1) << (c->instrument_id - 1) |
					UINT64CONST(1) << (c->ts - 1) |
					UINT64CONST(1) << (c->timeframe - 1) |
					UINT64CONST(1) << (c->open - 1) |
					UINT64CONST(1) << (c->high - 1) |
					UINT64CONST(1) << (c->low - 1) |
					UINT64CONST(1) << (c->close - 1) |
					UINT64CONST(1) << (c->closed - 1) |
					UINT64CONST(1) << (c->source - 1)))
			return -1;			/* a null never passes the quals */
	}
	if (mask != l->mask)
		layout_offsets(l, mask);

	if (*(int32 *) (tp + l->off[c->instrument_id - 1]) != rs->instrument_id)
		return -1;
	bar->ts = *(int64 *) (tp + l->off[c->ts - 1]);
	if (bar->ts < rs->start || bar->ts >= rs->finish)
		return -1;
	tf = (Interval *) (tp + l->off[c->timeframe - 1]);
	if ((tf->time != rs->tf.time || tf->day != rs->tf.day || tf->month != rs->tf.month) &&
		int128_compare(bt_read_span(tf), rs->tf_span) != 0)
		return -1;
	if (!*(bool *) (tp + l->off[c->closed - 1]))
		return -1;
	off = l->off[l->nfixed];
	off = att_align_pointer(off, l->source_align, -1, tp + off);
	src = tp + off;
	if (VARATT_IS_EXTENDED(src) && !VARATT_IS_SHORT(src))
		return keep_row(rs, c, tup, td, bar);	/* compressed: never so */
	len = VARSIZE_ANY_EXHDR(src);
	bar->ts = ZVT_TS_TO_UNIX(bar->ts);
	bar->open = *(float8 *) (tp + l->off[c->open - 1]);
	bar->high = *(float8 *) (tp + l->off[c->high - 1]);
	bar->low = *(float8 *) (tp + l->off[c->low - 1]);
	bar->close = *(float8 *) (tp + l->off[c->close - 1]);
	if (len == 8 && memcmp(VARDATA_ANY(src), "exchange", 8) == 0)
		return 0;
	if (len == 6 && memcmp(VARDATA_ANY(src), "trades", 6) == 0)
		return 1;
	return -1;
}

/*
 * The layout of td's tuples if source follows every other column read
 * and only fixed-width columns precede it; else l->usable is false.
 */
static void
layout_init(CandleLayout *l, TupleDesc td, const CandleCols *c)
{
	memset(l, 0, sizeof(*l));
	l->nfixed = c->source - 1;
	if (l->nfixed > MAX_FIXED - 1 || c->ts > c->source || c->instrument_id > c->source ||
		c->timeframe > c->source || c->open > c->source || c->high > c->source ||
		c->low > c->source || c->close > c->source || c->closed > c->source)
		return;
	for (int a = 0; a < l->nfixed; a++)
	{
		Form_pg_attribute fa = TupleDescAttr(td, a);

		if (fa->attlen <= 0)
			return;
		l->len[a] = fa->attlen;
		l->align[a] = fa->attalign;
	}
	l->source_align = TupleDescAttr(td, c->source - 1)->attalign;
	l->usable = true;
	layout_offsets(l, 0);
}

/* the offsets of the columns before source for null pattern mask */
static void
layout_offsets(CandleLayout *l, uint64 mask)
{
	uint32		off = 0;

	for (int a = 0; a < l->nfixed; a++)
	{
		if (mask & (UINT64CONST(1) << a))
		{
			l->off[a] = off;	/* null: takes no room */
			continue;
		}
		off = att_align_nominal(off, l->align[a]);
		l->off[a] = off;
		off += l->len[a];
	}
	l->off[l->nfixed] = off;
	l->mask = mask;
}

/* the rows of blocks [start, start + nblocks) of rel, in physical order */
void
bt_read_seq(ReadState *rs, Relation rel, const CandleCols *c,
		 BlockNumber start, BlockNumber nblocks)
{
	/* no synchronized scan: it could start mid-table, out of time order */
	TableScanDesc scan = table_beginscan_strat(rel, rs->snapshot, 0, NULL, true, false);
	TupleDesc	td = RelationGetDescr(rel);
	HeapTuple	tup;
	CandleLayout l;
	uint32		n = 0;

	heap_setscanlimits(scan, start, nblocks);
	layout_init(&l, td, c);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		BtBar		bar;
		int			which = l.usable ? keep_row_fast(rs, c, &l, tup, td, &bar)
			: keep_row(rs, c, tup, td, &bar);

		if (which >= 0)
			push_bar(rs, which, &bar);
		every_64k(rs, &n);
	}
	table_endscan(scan);
}

/*
 * The rows of the instrument, timeframe and range through index, one
 * scan per source (each then in time order).
 */
static void
read_index(ReadState *rs, Relation rel, Relation index, const CandleCols *c)
{
	static const char *const sources[2] = {"exchange", "trades"};
	TupleDesc	td = RelationGetDescr(rel);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Oid		   *coll = index->rd_indcollation;

	for (int s = 0; s < 2; s++)
	{
		ScanKeyData keys[5];
		IndexScanDesc scan;
		uint32		n = 0;

		ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, INT4OID, coll[0],
							   F_INT4EQ, Int32GetDatum(rs->instrument_id));
		ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, INTERVALOID, coll[1],
							   F_INTERVAL_EQ, IntervalPGetDatum(&rs->tf));
		ScanKeyEntryInitialize(&keys[2], 0, 3, BTEqualStrategyNumber, TEXTOID, coll[2],
							   F_TEXTEQ, CStringGetTextDatum(sources[s]));
		ScanKeyEntryInitialize(&keys[3], 0, 4, BTGreaterEqualStrategyNumber, TIMESTAMPTZOID,
							   coll[3], F_TIMESTAMPTZ_GE, TimestampTzGetDatum(rs->start));
		ScanKeyEntryInitialize(&keys[4], 0, 4, BTLessStrategyNumber, TIMESTAMPTZOID,
							   coll[3], F_TIMESTAMPTZ_LT, TimestampTzGetDatum(rs->finish));
		scan = index_beginscan(rel, index, rs->snapshot, 5, 0);
		index_rescan(scan, keys, 5, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			bool		shouldFree;
			HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, &shouldFree);
			BtBar		bar;
			int			which = keep_row(rs, c, tup, td, &bar);

			if (which >= 0)
				push_bar(rs, which, &bar);
			if (shouldFree)
				heap_freetuple(tup);
			every_64k(rs, &n);
		}
		index_endscan(scan);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * rel's valid btree index on exactly (instrument_id, timeframe, source,
 * ts) with the default operator classes and no predicate (the unique
 * constraint's), or InvalidOid.
 */
static Oid
candle_index(Relation rel, const CandleCols *c)
{
	AttrNumber	want[4] = {c->instrument_id, c->timeframe, c->source, c->ts};
	Oid			types[4] = {INT4OID, INTERVALOID, TEXTOID, TIMESTAMPTZOID};
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Oid			ioid = lfirst_oid(lc);
		Relation	irel = index_open(ioid, AccessShareLock);
		Form_pg_index ix = irel->rd_index;
		bool		ok;

		ok = irel->rd_rel->relam == BTREE_AM_OID && ix->indisvalid && ix->indisready &&
			ix->indnkeyatts == 4 && RelationGetIndexPredicate(irel) == NIL;
		for (int k = 0; ok && k < 4; k++)
			ok = ix->indkey.values[k] == want[k] &&
				irel->rd_opfamily[k] == get_opclass_family(GetDefaultOpClass(types[k], BTREE_AM_OID)) &&
				(irel->rd_indoption[k] & INDOPTION_DESC) == 0;
		index_close(irel, AccessShareLock);
		if (ok)
		{
			found = ioid;
			break;
		}
	}
	list_free(indexes);
	return found;
}
