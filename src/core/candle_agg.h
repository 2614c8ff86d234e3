/*-------------------------------------------------------------------------
 *
 * src/core/candle_agg.h
 *	  Pure-C roll-up of 1-minute candles into candles of a longer
 *	  timeframe: the kernel of zvt.ohlcv and of the materialized candle
 *	  roll-ups (src/storage/rollup.c, rollup_read.c).
 *
 * The caller feeds minutes in time order, for one instrument, the
 * exchange's candle of a minute before the one zvt built from trades; an
 * accumulator (CaAcc) per timeframe turns them into bars by the rule
 * zvt.ohlcv has always used:
 *
 *	- one candle per minute: the first fed for that ts (the exchange's);
 *	- a bar per bucket zt_bucket_fixed(ts, width, origin) with at least
 *	  one minute: open of its first minute, close of its last, high the
 *	  max, low the min, volume the sum, quote_volume and trade_count the
 *	  sums of the minutes that have one (absent when none has), local_ts
 *	  the latest;
 *	- closed when every minute of the bucket is there and closed;
 *	- source 'exchange' when every minute is the exchange's.
 *
 * Sums are taken in time order, so one bucket always gets bit for bit the
 * same result, whether materialized or computed on the fly.  Instants are
 * PostgreSQL microseconds since 2000-01-01 (as in zvt_time.h).  No
 * PostgreSQL header; unit-tested in test/unit/test_candle_agg.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_CANDLE_AGG_H
#define ZVT_CANDLE_AGG_H

#include <stdbool.h>
#include <stdint.h>

/* One stored 1-minute candle. */
typedef struct CaMinute
{
	int64_t		ts;				/* open of the minute */
	double		open;
	double		high;
	double		low;
	double		close;
	double		volume;			/* base units */
	double		quote_volume;	/* valid when has_quote_volume */
	int64_t		trade_count;	/* valid when has_trade_count */
	int64_t		local_ts;		/* when zvt stored it */
	bool		has_quote_volume;
	bool		has_trade_count;
	bool		closed;
	bool		exchange;		/* source 'exchange' (else 'trades') */
} CaMinute;

/* One rolled-up bar. */
typedef struct CaBar
{
	int64_t		ts;				/* open of the bucket */
	double		open;
	double		high;
	double		low;
	double		close;
	double		volume;
	double		quote_volume;	/* valid when has_quote_volume */
	int64_t		trade_count;	/* valid when has_trade_count */
	int64_t		local_ts;		/* the latest of its minutes */
	int32_t		minutes;		/* distinct minutes in it */
	bool		has_quote_volume;
	bool		has_trade_count;
	bool		closed;			/* every minute present and closed */
	bool		exchange;		/* every minute the exchange's */
} CaBar;

/* Results of candle_agg_push. */
typedef enum CaStatus
{
	CA_NONE = 0,				/* taken in; no bar completed */
	CA_BAR = 1,					/* taken in; *out is the bar it completed */
	CA_UNSORTED = -1,			/* ts before the previous minute's: ignored */
	CA_RANGE = -2,				/* no valid bucket holds ts: ignored */
	CA_OVERFLOW = -3			/* trade_count sum overflows int64: ignored */
} CaStatus;

/* The state of one roll-up in progress; set up by candle_agg_init. */
typedef struct CaAcc
{
	int64_t		width;			/* bucket width, us, > 0 */
	int64_t		origin;			/* buckets are origin + k * width */
	int64_t		per_bucket;		/* minutes a full bucket has */
	int64_t		last_ts;		/* the previous minute taken, if has_last */
	bool		has_last;
	bool		open;			/* bar holds a bucket in progress */
	bool		all_closed;		/* every minute of bar so far closed */
	CaBar		bar;
} CaAcc;

/*
 * Set up acc for buckets of width microseconds (a whole number of
 * minutes, > 0) aligned on origin.  Returns false (acc unusable) when
 * width is not a positive multiple of a minute.
 */
extern bool candle_agg_init(CaAcc *acc, int64_t width, int64_t origin);

/*
 * Take in one minute m.  When m opens a new bucket and a bar was in
 * progress, that bar is written to *out and CA_BAR returned.  A minute
 * with the ts of the previous one is a duplicate (the trades-built candle
 * of a minute the exchange gave) and is skipped (CA_NONE).  The negative
 * statuses leave acc as it was.
 */
extern CaStatus candle_agg_push(CaAcc *acc, const CaMinute *m, CaBar *out);

/*
 * The bar in progress, if any, written to *out (true), after which acc
 * starts afresh (next minutes may be of any later or earlier time, for
 * another range or instrument); false when there was none.
 */
extern bool candle_agg_finish(CaAcc *acc, CaBar *out);

/*
 * Whether a timeframe of width microseconds (months not allowed) is one
 * zvt rolls up: a whole number of minutes that divides a day, or a week.
 */
extern bool candle_agg_width_ok(int64_t width);

#endif							/* ZVT_CANDLE_AGG_H */
