/*-------------------------------------------------------------------------
 *
 * src/feed/trade_writes.c
 *	  The fast writers of new trades: heap_multi_insert straight into the
 *	  chunks, or COPY from a binary image in memory.
 *
 * Called by trades.c in a subtransaction for trades that cannot be in the
 * table yet; both raise unique_violation on a duplicate, as an INSERT
 * would, and write every picked trade or nothing.  The direct writer
 * declines (returns -1, having written nothing) whenever COPY must do the
 * work; see each function.
 *
 *-------------------------------------------------------------------------
 */

#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/builtins.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "feed/ingest.h"
#include "feed/ingest_private.h"
#include "zvt.h"

/*
 * The plain path's writer: COPY FROM, fed the picked trades as a binary
 * COPY image from memory.  COPY's executor does what the statement would
 * (partition routing, constraints, indexes, triggers) but inserts in
 * multi-row batches per chunk and skips the planner and the unnest
 * tuplestore; binary input spares the text conversions.  A duplicate
 * raises unique_violation as the INSERT would.
 */
static StringInfoData copy_image;
static int	copy_image_pos;

/* COPY's data source callback: the next bytes of copy_image */
static int
copy_image_read(void *outbuf, int minread, int maxread)
{
	int			n = Min(maxread, copy_image.len - copy_image_pos);

	memcpy(outbuf, copy_image.data + copy_image_pos, n);
	copy_image_pos += n;
	return n;
}

static void
copy_image_text(StringInfo buf, const char *s)
{
	int			len = (int) strlen(s);

	pq_sendint32(buf, len);
	pq_sendbytes(buf, s, len);
}

int64
ingest_copy_trades(IngestBatch *b, const bool *pick)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("zvt", "trades", -1), RowExclusiveLock, false);
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	CopyFromState cstate;
	List	   *columns = NIL;
	int64		rows;
	static const char *const names[] = {"ts", "instrument_id", "trade_id", "price", "qty", "side", "local_ts"};

	initStringInfo(&copy_image);
	appendBinaryStringInfo(&copy_image, "PGCOPY\n\377\r\n\0", 11);
	pq_sendint32(&copy_image, 0);	/* flags */
	pq_sendint32(&copy_image, 0);	/* header extension length */
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];

		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		pq_sendint16(&copy_image, 7);
		pq_sendint32(&copy_image, 8);
		pq_sendint64(&copy_image, ingest_event_ts(e));
		pq_sendint32(&copy_image, 4);
		pq_sendint32(&copy_image, e->instrument_id);
		copy_image_text(&copy_image, e->ev.trade_id);
		pq_sendint32(&copy_image, 8);
		pq_sendfloat8(&copy_image, e->ev.price);
		pq_sendint32(&copy_image, 8);
		pq_sendfloat8(&copy_image, e->ev.qty);
		copy_image_text(&copy_image, e->ev.taker_buy ? "buy" : "sell");
		pq_sendint32(&copy_image, 8);
		pq_sendint64(&copy_image, e->local_ts);
	}
	pq_sendint16(&copy_image, -1);
	copy_image_pos = 0;

	for (int k = 0; k < lengthof(names); k++)
		columns = lappend(columns, makeString(pstrdup(names[k])));
	rel = table_open(relid, RowExclusiveLock);
	/* COPY's executor state wants a range table entry for its target */
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_image_read, columns,
						   list_make1(makeDefElem("format", (Node *) makeString("binary"), -1)));
	rows = (int64) CopyFrom(cstate);
	EndCopyFrom(cstate);
	free_parsestate(pstate);
	table_close(rel, NoLock);
	pfree(copy_image.data);
	return rows;
}

/*
 * The plain path's fast writer: the new trades straight into their chunks
 * with heap_multi_insert and the executor's index insertion, as COPY does
 * but without its per-call costs (a slot made and dropped per row, the
 * binary input functions).  Each row is routed by the hypertable's
 * partition bounds; constraints are checked with ExecConstraints; a
 * duplicate raises unique_violation from the unique index, as the INSERT
 * would.  It declines (returns -1, having written nothing) whenever COPY
 * must do the work: a row for the default partition, a trigger on the
 * hypertable or a chunk, or a chunk whose columns are not the ones its
 * slots were made for.
 */
#define DIRECT_SLOTS 256
#define TRADE_COLUMNS 7

static TupleDesc direct_desc;	/* a private copy: slots outlive transactions */
static TupleTableSlot *direct_slots[DIRECT_SLOTS];

/* Same physical columns as the slots were made for? */
static bool
direct_desc_matches(TupleDesc d)
{
	if (direct_desc == NULL || d->natts != direct_desc->natts)
		return false;
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(d, i);
		Form_pg_attribute b = TupleDescAttr(direct_desc, i);

		if (a->atttypid != b->atttypid || a->attlen != b->attlen || a->attbyval != b->attbyval ||
			a->attalign != b->attalign || a->attisdropped != b->attisdropped ||
			a->atttypmod != b->atttypmod || strcmp(NameStr(a->attname), NameStr(b->attname)) != 0)
			return false;
	}
	return true;
}

/* The column numbers (0-based) of the trades' columns in d; false if any is missing. */
static bool
trade_columns(TupleDesc d, int *col)
{
	static const char *const names[TRADE_COLUMNS] = {"ts", "instrument_id", "trade_id", "price", "qty", "side", "local_ts"};

	for (int k = 0; k < TRADE_COLUMNS; k++)
	{
		col[k] = -1;
		for (int i = 0; i < d->natts; i++)
			if (!TupleDescAttr(d, i)->attisdropped && strcmp(NameStr(TupleDescAttr(d, i)->attname), names[k]) == 0)
				col[k] = i;
		if (col[k] < 0)
			return false;
	}
	return true;
}

/* Write rows [0, n) of one chunk; rows[] index the batch. */
static void
direct_write_chunk(Oid chunk, IngestBatch *b, const int *rows, int n, const int *col)
{
	Relation	rel = table_open(chunk, RowExclusiveLock);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	EState	   *estate = CreateExecutorState();
	CommandId	cid = GetCurrentCommandId(true);
	Datum		sides[2] = {CStringGetTextDatum("sell"), CStringGetTextDatum("buy")};

	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	for (int done = 0; done < n;)
	{
		int			m = Min(n - done, DIRECT_SLOTS);

		for (int k = 0; k < m; k++)
		{
			IngestEvent *e = &b->events[rows[done + k]];
			TupleTableSlot *slot = direct_slots[k];

			ExecClearTuple(slot);
			memset(slot->tts_isnull, true, sizeof(bool) * direct_desc->natts);
			slot->tts_values[col[0]] = TimestampTzGetDatum(ingest_event_ts(e));
			slot->tts_values[col[1]] = Int32GetDatum(e->instrument_id);
			slot->tts_values[col[2]] = CStringGetTextDatum(e->ev.trade_id);
			slot->tts_values[col[3]] = Float8GetDatum(e->ev.price);
			slot->tts_values[col[4]] = Float8GetDatum(e->ev.qty);
			slot->tts_values[col[5]] = sides[e->ev.taker_buy ? 1 : 0];
			slot->tts_values[col[6]] = TimestampTzGetDatum(e->local_ts);
			for (int c = 0; c < TRADE_COLUMNS; c++)
				slot->tts_isnull[col[c]] = false;
			ExecStoreVirtualTuple(slot);
			if (rel->rd_att->constr)
				ExecConstraints(rri, slot, estate);
		}
		table_multi_insert(rel, direct_slots, m, cid, 0, NULL);
		for (int k = 0; k < m; k++)
		{
			if (rri->ri_NumIndices > 0)
				ExecInsertIndexTuples(rri, direct_slots[k], estate, false, false, NULL, NIL);
			ResetPerTupleExprContext(estate);
			ExecClearTuple(direct_slots[k]);
		}
		done += m;
	}
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
}

int64
ingest_direct_trades(IngestBatch *b, const bool *pick)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("zvt", "trades", -1), RowExclusiveLock, false);
	Relation	parent = table_open(relid, RowExclusiveLock);
	PartitionKey key = RelationGetPartitionKey(parent);
	PartitionDesc pd = RelationGetPartitionDesc(parent, true);
	int		   *part = palloc(sizeof(int) * b->n);
	int		   *rows = palloc(sizeof(int) * b->n);
	bool	   *written = palloc0(sizeof(bool) * pd->nparts);
	int			col[TRADE_COLUMNS];
	int64		total = 0;
	int			last_part = -1;
	TimestampTz last_ts = 0;

	if (parent->trigdesc != NULL || key == NULL || key->strategy != PARTITION_STRATEGY_RANGE ||
		key->partnatts != 1 || pd->boundinfo == NULL)
	{
		table_close(parent, NoLock);
		return -1;
	}
	/* route: the partition of each picked row */
	for (int i = 0; i < b->n; i++)
	{
		IngestEvent *e = &b->events[i];
		TimestampTz ts;
		Datum		v[1];
		bool		equal;
		int			off;

		part[i] = -1;
		if (e->ev.kind != FEED_TRADE || !pick[i])
			continue;
		ts = ingest_event_ts(e);
		if (last_part >= 0 && ts == last_ts)
		{
			part[i] = last_part;
			continue;
		}
		v[0] = TimestampTzGetDatum(ts);
		off = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, pd->boundinfo, 1, v, &equal);
		part[i] = pd->boundinfo->indexes[off + 1];
		if (part[i] < 0)
		{
			/* no chunk for this time: the default partition's rows go through COPY */
			table_close(parent, NoLock);
			return -1;
		}
		last_part = part[i];
		last_ts = ts;
	}
	/* check every chunk before writing anything, so that declining writes nothing */
	for (int i = 0; i < b->n; i++)
	{
		Relation	rel;
		bool		ok;

		if (part[i] < 0 || written[part[i]])
			continue;
		written[part[i]] = true;
		rel = table_open(pd->oids[part[i]], RowExclusiveLock);
		if (!direct_desc_matches(RelationGetDescr(rel)) && rel->trigdesc == NULL &&
			trade_columns(RelationGetDescr(rel), col))
		{
			/* (re)make the slots for this layout, in memory that outlives the flush */
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			for (int k = 0; k < DIRECT_SLOTS; k++)
				if (direct_slots[k])
					ExecDropSingleTupleTableSlot(direct_slots[k]);
			if (direct_desc)
				FreeTupleDesc(direct_desc);
			direct_desc = CreateTupleDescCopy(RelationGetDescr(rel));
			for (int k = 0; k < DIRECT_SLOTS; k++)
				direct_slots[k] = MakeSingleTupleTableSlot(direct_desc, &TTSOpsVirtual);
			MemoryContextSwitchTo(old);
		}
		ok = rel->trigdesc == NULL && direct_desc_matches(RelationGetDescr(rel));
		table_close(rel, NoLock);
		if (!ok)
		{
			table_close(parent, NoLock);
			return -1;
		}
	}
	if (direct_desc == NULL || !trade_columns(direct_desc, col))
	{
		table_close(parent, NoLock);
		return -1;
	}
	/* write, one chunk at a time */
	for (int p = 0; p < pd->nparts; p++)
	{
		int			n = 0;

		if (!written[p])
			continue;
		for (int i = 0; i < b->n; i++)
			if (part[i] == p)
				rows[n++] = i;
		direct_write_chunk(pd->oids[p], b, rows, n, col);
		total += n;
	}
	table_close(parent, NoLock);
	return total;
}
