/*-------------------------------------------------------------------------
 *
 * src/backtest/read.h
 *	  Private to read.c and read_worker.c: the state of a
 *	  direct read of 1-minute candles and the functions the two share.
 *
 * The leader and its worker run the same sequential read (bt_read_seq);
 * only where kept bars go differs: into growing arrays in the leader,
 * into messages to the leader in the worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_READ_H
#define ZVT_BACKTEST_READ_H

#include "access/parallel.h"
#include "common/int128.h"
#include "storage/block.h"
#include "storage/shm_mq.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "backtest/bars.h"

/* the columns the read needs, as attribute numbers of one relation */
typedef struct CandleCols
{
	AttrNumber	ts;
	AttrNumber	instrument_id;
	AttrNumber	timeframe;
	AttrNumber	open;
	AttrNumber	high;
	AttrNumber	low;
	AttrNumber	close;
	AttrNumber	closed;
	AttrNumber	source;
} CandleCols;

/* what one read looks for and where it puts the bars */
typedef struct ReadState
{
	int32		instrument_id;
	TimestampTz start;
	TimestampTz finish;
	Interval	tf;				/* the timeframe asked for */
	INT128		tf_span;		/* its interval_cmp_value */
	Snapshot	snapshot;		/* the active one, as SPI's read-only query */
	BtBarArray *out[2];			/* exchange's, trades-built */
	bool		sender;			/* a worker: out[] are sent when full */
	shm_mq_handle *mq;			/* the queue from the worker to the leader:
								 * the leader's until the join, else NULL */
	BtBarArray	early[2];		/* the leader: the worker's bars received
								 * before the join */
} ReadState;

/* one partition to read */
typedef struct ReadPart
{
	Relation	rel;
	CandleCols	c;
	Oid			index;			/* read through it, or InvalidOid:
								 * sequentially */
	BlockNumber nblocks;		/* its size when planned */
	BlockNumber lead;			/* sequential: the leader reads blocks [0,
								 * lead), the worker the rest */
} ReadPart;

/* in read.c */
extern bool bt_read_cols(Relation rel, CandleCols *c);
extern INT128 bt_read_span(const Interval *iv);
extern void bt_read_seq(ReadState *rs, Relation rel, const CandleCols *c,
						BlockNumber start, BlockNumber nblocks);
extern void bt_bar_array_append(BtBarArray *a, const BtBar *bars, int64 n);

/* in read_worker.c */
extern ParallelContext *bt_read_launch(ReadState *rs, ReadPart *parts, int nparts, int *join);
extern void bt_read_join(ReadState *rs, ParallelContext *pcxt);
extern bool bt_read_receive(ReadState *rs, bool nowait);
extern void bt_read_send(ReadState *rs, int which);

#endif							/* ZVT_BACKTEST_READ_H */
