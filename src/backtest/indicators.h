/*-------------------------------------------------------------------------
 *
 * src/backtest/indicators.h
 *	  Technical indicators as incremental state machines, shared by the SQL
 *	  window aggregates (zvt.ema, zvt.rsi, ...) and the backtest engine.
 *
 * Pure C, no PostgreSQL header.  Each indicator has a state, an init, a
 * step that feeds one value, and a read that gives the current value
 * without changing the state (so a window aggregate's final function can
 * call it on every row: FINALFUNC_MODIFY = READ_ONLY).  Reads return
 * false until the indicator has seen enough values.
 *
 * Definitions follow TA-Lib: SMA the mean of the last n values; EMA seeded with the simple average of its
 * first n values, alpha = 2 / (n + 1); RSI and ATR with Wilder's smoothing
 * seeded by simple averages of the first n changes / true ranges; MACD =
 * EMA(fast) - EMA(slow), signal = EMA(signal) of MACD, histogram = the
 * difference; Bollinger = SMA(n) +- k population standard deviations over
 * the last n values; VWAP = sum(price * qty) / sum(qty) since the start.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_INDICATORS_H
#define ZVT_INDICATORS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct IndEma
{
	int			n;
	int64_t		count;			/* values seen */
	double		sum;			/* of the first n, for the seed */
	double		value;
} IndEma;

typedef struct IndSma
{
	int			n;
	int64_t		count;			/* values seen */
	double		sum;			/* of the last n, compensated */
	double		comp;
	double	   *ring;			/* the last n values (caller-provided, n long) */
} IndSma;

typedef struct IndRsi
{
	int			n;
	int64_t		count;			/* values seen */
	double		prev;
	double		gain;			/* average gain (sum while seeding) */
	double		loss;
} IndRsi;

typedef struct IndMacd
{
	IndEma		fast;
	IndEma		slow;
	IndEma		signal;
} IndMacd;

typedef struct IndBollinger
{
	int			n;
	double		k;
	int64_t		count;
	double	   *ring;			/* the last n values (caller-provided, n long) */
} IndBollinger;

typedef struct IndAtr
{
	int			n;
	int64_t		count;			/* bars seen */
	double		prev_close;
	double		value;			/* sum of true ranges while seeding */
} IndAtr;

typedef struct IndVwap
{
	double		pq;
	double		q;
} IndVwap;

extern void ind_ema_init(IndEma *s, int n);
extern void ind_ema_step(IndEma *s, double x);
extern bool ind_ema_read(const IndEma *s, double *out);

extern void ind_sma_init(IndSma *s, int n, double *ring);
extern void ind_sma_step(IndSma *s, double x);
extern bool ind_sma_read(const IndSma *s, double *out);

extern void ind_rsi_init(IndRsi *s, int n);
extern void ind_rsi_step(IndRsi *s, double x);
extern bool ind_rsi_read(const IndRsi *s, double *out);

extern void ind_macd_init(IndMacd *s, int fast, int slow, int signal);
extern void ind_macd_step(IndMacd *s, double x);
/* line is known once the slow EMA is; signal and histogram later */
extern bool ind_macd_read(const IndMacd *s, double *line, double *signal, double *hist,
						  bool *has_signal);

extern void ind_bollinger_init(IndBollinger *s, int n, double k, double *ring);
extern void ind_bollinger_step(IndBollinger *s, double x);
extern bool ind_bollinger_read(const IndBollinger *s, double *mid, double *upper, double *lower);

extern void ind_atr_init(IndAtr *s, int n);
extern void ind_atr_step(IndAtr *s, double high, double low, double close);
extern bool ind_atr_read(const IndAtr *s, double *out);

extern void ind_vwap_step(IndVwap *s, double price, double qty);
extern bool ind_vwap_read(const IndVwap *s, double *out);

#endif
