/*-------------------------------------------------------------------------
 *
 * src/feed/backfill_private.h
 *	  What the backfill worker's files (backfill_worker.c, backfill_jobs.c)
 *	  share; not for the rest of zvt.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKFILL_PRIVATE_H
#define ZVT_BACKFILL_PRIVATE_H

#include "feed/feed_event.h"
#include "feed/history.h"
#include "utils/palloc.h"
#include "utils/timestamp.h"

/* One job as step 2 read it. */
typedef struct Job
{
	int64		id;
	char		exchange[32];
	char		symbol[FEED_SYMBOL_LEN];
	char		channel[32];
	char		raw_symbol[FEED_SYMBOL_LEN];
	char	   *rest_url;
	int32		instrument_id;
	int32		interval_s;		/* candles; 0 for trades */
	int64		start_ms;
	int64		finish_ms;
	int64		cursor_ms;
	bool		has_next_id;
	int64		next_id;
	bool		has_end_id;
	int64		end_id;
	bool		is_repair;
	bool		mapped;			/* a repair's ids or times are set */
	TimestampTz gap_from;
	TimestampTz gap_to;
	int32		errors;
	double		contract_size;	/* OKX swaps; 0 when none */
} Job;

/*
 * Pages are written together, in one transaction with the job's cursor,
 * once this many rows or this long has passed since the first of them was
 * read (a transaction per page cost a third of a backfill's time).
 */
#define BACKFILL_FLUSH_ROWS 20000
#define BACKFILL_FLUSH_MS	1000
/*
 * Inside that transaction, rows are written every this many: the writes'
 * fixed costs (subtransaction, candles, executor setup) amortized, while
 * the fetch thread still gets the next pages during a write.
 */
#define BACKFILL_WRITE_ROWS 5000
/*
 * Pages the fetch thread reads ahead of a backfill going forward (Binance
 * trades by id, candles), so that REST round trips go on during a write
 * of BACKFILL_WRITE_ROWS; at most HISTORY_FETCH_AHEAD_MAX.
 */
#define BACKFILL_AHEAD_PAGES 8

/* reset at each pass; the writes return to it after their commit */
extern MemoryContext backfill_pass_context;

/* in backfill_jobs.c */
extern int	backfill_spi(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
						 bool read_only, long count);
extern TimestampTz backfill_ms_ts(int64 ms);
extern void backfill_job_wait(const Job *job, TimestampTz until, bool rate_limit, const char *error);
extern void backfill_job_fail(const Job *job, const char *error, bool count_error);
extern bool backfill_job_page(Job *job, const FeedEvent *events, int nkeep, bool done,
							  int64 cursor_ms, bool has_next_id, int64 next_id, int64 hole_to_ms);
extern bool backfill_job_flush(const Job *job);
extern void backfill_job_id_hole(const Job *job, int64 from_id, int64 to_id, int64 oldest_ms);
extern char *backfill_col_text(int col);
extern int64 backfill_col_int64(int col, bool *isnull);
extern bool backfill_id_value(const char *s, int64 *v);

/* in backfill_repair.c */
extern bool backfill_map_repair(Job *job);

#endif							/* ZVT_BACKFILL_PRIVATE_H */
