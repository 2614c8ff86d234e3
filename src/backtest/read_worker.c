/*-------------------------------------------------------------------------
 *
 * src/backtest/read_worker.c
 *	  A parallel worker sharing the large sequential reads of
 *	  read.c.
 *
 * Large sequential reads are shared with one parallel worker, as the
 * grid shares its combinations (grid.c): the leader enters
 * parallel mode, puts the instrument, range and block ranges in a
 * shm_toc segment with a shm_mq, and launches the worker; the worker
 * reads the second half of the sequential blocks (heap scan limits, no
 * synchronized scan, so each block range is read in physical order) and
 * sends its bars in messages of READ_MSG_BARS; the leader reads the first
 * half, taking in the messages every 64K rows so the worker never waits
 * on a full queue, and after its share ("the join") appends the worker's
 * bars, receives the rest until the worker detaches, waits for it
 * (rethrowing its error) and leaves parallel mode.  Bars read in time
 * order thus stay in order.  The worker runs as the caller under the
 * leader's active snapshot (both restored by the parallel machinery) and
 * takes its own AccessShareLocks; a cancel in the leader aborts the
 * transaction, which terminates the worker.  Nothing is written, so
 * parallel mode forbids nothing the read does.
 *
 * The worker's share is block ranges of partitions (ReadRange) in a
 * ReadShared in the segment; the leader's is each ReadPart's lead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/paths.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "backtest/bars.h"
#include "backtest/read.h"

/*
 * A worker shares the sequential reads when they cover at least this
 * many times min_parallel_table_scan_size (launching one costs a few
 * milliseconds, reading 8 MB about as much).
 */
#define PARALLEL_MIN_SCANS 4

/* the worker's queue, and the bars in one of its messages */
#define READ_QUEUE_BYTES	(4 * 1024 * 1024)
#define READ_MSG_BARS		1024

#define READ_MAGIC			0x7a767472	/* "zvtr" */
#define READ_KEY_SHARED		UINT64CONST(0x7a76740000000101)
#define READ_KEY_QUEUE		UINT64CONST(0x7a76740000000102)

/* a block range of a partition for the worker */
typedef struct ReadRange
{
	Oid			relid;
	BlockNumber start;
	BlockNumber nblocks;
} ReadRange;

/* the worker's part of the segment: what to read, and where */
typedef struct ReadShared
{
	uint32		magic;
	int32		instrument_id;
	TimestampTz start;
	TimestampTz finish;
	Interval	tf;
	int			nranges;
	ReadRange	ranges[FLEXIBLE_ARRAY_MEMBER];
} ReadShared;

extern PGDLLEXPORT void zvt_backtest_read_worker(dsm_segment *seg, shm_toc *toc);

/*
 * Launch a worker for the second half of the sequential reads' blocks
 * when they are large enough and a parallel query could have one: fill
 * its segment, set each part's lead and *join, the part after whose read
 * the leader takes the worker's bars.  Returns the context, or NULL with
 * every read left to the leader.
 */
ParallelContext *
bt_read_launch(ReadState *rs, ReadPart *parts, int nparts, int *join)
{
	ParallelContext *pcxt;
	ReadShared *sh;
	shm_mq	   *mq;
	double		total = 0;
	double		half;
	int			nranges = 0;
	Size		sh_size;

	for (int i = 0; i < nparts; i++)
		if (!OidIsValid(parts[i].index))
		{
			total += parts[i].nblocks;
			nranges++;
		}
	if (nranges == 0 || max_parallel_workers_per_gather < 1 || IsInParallelMode() ||
		total < (double) PARALLEL_MIN_SCANS * min_parallel_table_scan_size)
		return NULL;

	EnterParallelMode();
	pcxt = CreateParallelContext("zvt", "zvt_backtest_read_worker", 1);
	sh_size = add_size(offsetof(ReadShared, ranges), mul_size(sizeof(ReadRange), nranges));
	shm_toc_estimate_chunk(&pcxt->estimator, sh_size);
	shm_toc_estimate_chunk(&pcxt->estimator, READ_QUEUE_BYTES);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);

	sh = shm_toc_allocate(pcxt->toc, sh_size);
	sh->magic = READ_MAGIC;
	sh->instrument_id = rs->instrument_id;
	sh->start = rs->start;
	sh->finish = rs->finish;
	sh->tf = rs->tf;
	sh->nranges = 0;
	half = total / 2;
	*join = -1;
	for (int i = 0; i < nparts; i++)
	{
		ReadPart   *rp = &parts[i];

		if (OidIsValid(rp->index))
			continue;
		rp->lead = (BlockNumber) Min((double) rp->nblocks, Max(half, 0));
		half -= rp->nblocks;
		if (rp->lead < rp->nblocks)
		{
			ReadRange  *r = &sh->ranges[sh->nranges++];

			r->relid = RelationGetRelid(rp->rel);
			r->start = rp->lead;
			r->nblocks = rp->nblocks - rp->lead;
			if (*join < 0)
				*join = i;
		}
	}
	shm_toc_insert(pcxt->toc, READ_KEY_SHARED, sh);
	mq = shm_mq_create(shm_toc_allocate(pcxt->toc, READ_QUEUE_BYTES), READ_QUEUE_BYTES);
	shm_toc_insert(pcxt->toc, READ_KEY_QUEUE, mq);
	shm_mq_set_receiver(mq, MyProc);

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		/* none to be had: the leader reads it all */
		for (int i = 0; i < nparts; i++)
			parts[i].lead = parts[i].nblocks;
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}
	elog(DEBUG1, "zvt backtest: a worker reads %.0f of %.0f blocks", total - total / 2, total);
	rs->mq = shm_mq_attach(mq, pcxt->seg, pcxt->worker[0].bgwhandle);
	for (int w = 0; w < 2; w++)
	{
		rs->early[w].cap = READ_MSG_BARS;
		rs->early[w].n = 0;
		rs->early[w].bars = palloc(sizeof(BtBar) * READ_MSG_BARS);
	}
	return pcxt;
}

/*
 * Take the worker's bars after the leader's own: those received so far,
 * then the rest until the worker is done; then end the parallel part (an
 * error of the worker's is raised here).
 */
void
bt_read_join(ReadState *rs, ParallelContext *pcxt)
{
	BtBarArray *out[2] = {rs->out[0], rs->out[1]};

	for (int w = 0; w < 2; w++)
	{
		bt_bar_array_append(out[w], rs->early[w].bars, rs->early[w].n);
		pfree(rs->early[w].bars);
		rs->early[w].n = 0;
		/* from now on straight into the outputs */
		rs->early[w] = *out[w];
	}
	while (bt_read_receive(rs, false))
		;
	for (int w = 0; w < 2; w++)
		*out[w] = rs->early[w];
	rs->mq = NULL;
	WaitForParallelWorkersToFinish(pcxt);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
}

/*
 * The worker's messages into rs->early[] until none is waiting (nowait)
 * or the worker is done; false when it is done.
 */
bool
bt_read_receive(ReadState *rs, bool nowait)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		int64		which;
		shm_mq_result r = shm_mq_receive(rs->mq, &nbytes, &data, nowait);

		if (r == SHM_MQ_WOULD_BLOCK)
			return true;
		if (r == SHM_MQ_DETACHED)
			return false;
		memcpy(&which, data, sizeof(which));
		if (which < 0 || which > 1 || (nbytes - sizeof(which)) % sizeof(BtBar) != 0)
			elog(ERROR, "bad message from a zvt backtest read worker");
		bt_bar_array_append(&rs->early[which], (BtBar *) ((char *) data + sizeof(which)),
						 (nbytes - sizeof(which)) / sizeof(BtBar));
	}
}

/* a worker: send out[which]'s bars to the leader and empty it */
void
bt_read_send(ReadState *rs, int which)
{
	int64		w = which;
	shm_mq_iovec iov[2];

	if (rs->out[which]->n == 0)
		return;
	iov[0].data = (const char *) &w;
	iov[0].len = sizeof(w);
	iov[1].data = (const char *) rs->out[which]->bars;
	iov[1].len = sizeof(BtBar) * rs->out[which]->n;
	if (shm_mq_sendv(rs->mq, iov, 2, false, false) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("the leader of a zvt backtest read is gone")));
	rs->out[which]->n = 0;
}

/* a parallel worker: read the block ranges of the segment, send the bars */
void
zvt_backtest_read_worker(dsm_segment *seg, shm_toc *toc)
{
	ReadShared *sh = shm_toc_lookup(toc, READ_KEY_SHARED, false);
	shm_mq	   *mq = shm_toc_lookup(toc, READ_KEY_QUEUE, false);
	BtBarArray	buf[2];
	ReadState	rs;

	if (sh->magic != READ_MAGIC)
		elog(ERROR, "bad magic number in zvt backtest read segment");
	shm_mq_set_sender(mq, MyProc);
	memset(&rs, 0, sizeof(rs));
	rs.mq = shm_mq_attach(mq, seg, NULL);
	rs.sender = true;
	rs.instrument_id = sh->instrument_id;
	rs.start = sh->start;
	rs.finish = sh->finish;
	rs.tf = sh->tf;
	rs.tf_span = bt_read_span(&rs.tf);
	rs.snapshot = GetActiveSnapshot();
	for (int w = 0; w < 2; w++)
	{
		buf[w].cap = READ_MSG_BARS;
		buf[w].n = 0;
		buf[w].bars = palloc(sizeof(BtBar) * READ_MSG_BARS);
		rs.out[w] = &buf[w];
	}
	for (int i = 0; i < sh->nranges; i++)
	{
		Relation	rel = table_open(sh->ranges[i].relid, AccessShareLock);
		CandleCols	c;

		if (!bt_read_cols(rel, &c))
			elog(ERROR, "partition \"%s\" of zvt.candles lacks a column",
				 RelationGetRelationName(rel));
		bt_read_seq(&rs, rel, &c, sh->ranges[i].start, sh->ranges[i].nblocks);
		table_close(rel, AccessShareLock);
	}
	bt_read_send(&rs, 0);
	bt_read_send(&rs, 1);
	shm_mq_detach(rs.mq);
}
