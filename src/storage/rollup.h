/*-------------------------------------------------------------------------
 *
 * src/storage/rollup.h
 *	  What rollup.c (the invalidation trigger and the refresh) and
 *	  ohlcv.c (the reader) share: rolling 1-minute candles of a range up
 *	  through the pure-C kernel (core/candle_agg.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_STORAGE_ROLLUP_H
#define ZVT_STORAGE_ROLLUP_H

#include "core/candle_agg.h"
#include "datatype/timestamp.h"

/* called with each bar rollup_compute makes; may raise an error */
typedef void (*RollupBarFn) (void *arg, int32 instrument_id, const CaBar *bar);

/* in rollup.c */
extern int64 rollup_width(const Interval *timeframe, bool raise);
extern TimestampTz rollup_bucket(TimestampTz ts, int64 width);
extern void rollup_compute(bool one, int32 instrument_id, int64 width,
						   TimestampTz lo, TimestampTz hi, bool read_only,
						   RollupBarFn fn, void *arg);

#endif							/* ZVT_STORAGE_ROLLUP_H */
