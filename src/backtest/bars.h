/*-------------------------------------------------------------------------
 *
 * src/backtest/bars.h
 *	  The closed bars a backtest runs over: the market, loading them into
 *	  an array, and a cursor of zvt.candles_v rows for step functions.
 *
 * Every function here runs inside an SPI connection made by the caller,
 * as the caller, and reports an unknown market with 42704.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BACKTEST_BARS_H
#define ZVT_BACKTEST_BARS_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

#include "backtest/engine.h"

/* the market a run reads: (exchange, symbol, timeframe) in [start, finish) */
typedef struct BtMarket
{
	char	   *exchange;
	char	   *symbol;
	Datum		timeframe;		/* interval */
	TimestampTz start;
	TimestampTz finish;
} BtMarket;

/* a growing array of bars, palloc'd (huge allowed) */
typedef struct BtBarArray
{
	BtBar	   *bars;
	int64		n;				/* bars in it */
	int64		cap;			/* room for, at least 1 */
} BtBarArray;

/* in bars.c */
extern Portal bt_open_bars(const BtMarket *mk);
extern void bt_bar_from_tuple(HeapTuple tup, TupleDesc td, BtBar *bar);
extern BtBar *bt_load_bars(const BtMarket *mk, int64 *nbars);
extern void bt_no_bars_error(const BtMarket *mk) pg_attribute_noreturn();
extern char *bt_ts_text(int64_t unix_us);

/* in read.c */
extern bool bt_read_1m_bars(const BtMarket *mk, int32 instrument_id,
							BtBarArray *exch, BtBarArray *trades);

#endif							/* ZVT_BACKTEST_BARS_H */
