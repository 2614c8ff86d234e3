/*-------------------------------------------------------------------------
 *
 * src/backtest/indicators.c
 *	  Incremental technical indicators (see indicators.h for definitions).
 *
 *-------------------------------------------------------------------------
 */
#include "indicators.h"

#include <math.h>
#include <string.h>

void
ind_sma_init(IndSma *s, int n, double *ring)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->ring = ring;
}

/* add x to the compensated sum (Neumaier), so a long run does not drift */
static void
sma_add(IndSma *s, double x)
{
	double		t = s->sum + x;

	if (fabs(s->sum) >= fabs(x))
		s->comp += (s->sum - t) + x;
	else
		s->comp += (x - t) + s->sum;
	s->sum = t;
}

void
ind_sma_step(IndSma *s, double x)
{
	int			slot = (int) (s->count % s->n);

	if (s->count >= s->n)
		sma_add(s, -s->ring[slot]);
	s->ring[slot] = x;
	sma_add(s, x);
	s->count++;
}

bool
ind_sma_read(const IndSma *s, double *out)
{
	if (s->count < s->n)
		return false;
	*out = (s->sum + s->comp) / s->n;
	return true;
}

void
ind_ema_init(IndEma *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
}

void
ind_ema_step(IndEma *s, double x)
{
	s->count++;
	if (s->count < s->n)
		s->sum += x;
	else if (s->count == s->n)
		s->value = (s->sum + x) / s->n;	/* the seed: a simple average */
	else
		s->value += (x - s->value) * (2.0 / (s->n + 1));
}

bool
ind_ema_read(const IndEma *s, double *out)
{
	if (s->count < s->n)
		return false;
	*out = s->value;
	return true;
}

void
ind_rsi_init(IndRsi *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
}

void
ind_rsi_step(IndRsi *s, double x)
{
	double		change,
				up,
				down;

	s->count++;
	if (s->count == 1)
	{
		s->prev = x;
		return;
	}
	change = x - s->prev;
	s->prev = x;
	up = change > 0 ? change : 0;
	down = change < 0 ? -change : 0;
	if (s->count <= s->n + 1)
	{
		/* the first n changes: sums, then their averages */
		s->gain += up;
		s->loss += down;
		if (s->count == s->n + 1)
		{
			s->gain /= s->n;
			s->loss /= s->n;
		}
	}
	else
	{
		/* Wilder's smoothing */
		s->gain = (s->gain * (s->n - 1) + up) / s->n;
		s->loss = (s->loss * (s->n - 1) + down) / s->n;
	}
}

bool
ind_rsi_read(const IndRsi *s, double *out)
{
	if (s->count <= s->n)
		return false;
	if (s->loss == 0)
		*out = s->gain == 0 ? 50.0 : 100.0;
	else
		*out = 100.0 - 100.0 / (1.0 + s->gain / s->loss);
	return true;
}

void
ind_macd_init(IndMacd *s, int fast, int slow, int signal)
{
	ind_ema_init(&s->fast, fast);
	ind_ema_init(&s->slow, slow);
	ind_ema_init(&s->signal, signal);
}

void
ind_macd_step(IndMacd *s, double x)
{
	double		f,
				sl;

	ind_ema_step(&s->fast, x);
	ind_ema_step(&s->slow, x);
	if (ind_ema_read(&s->fast, &f) && ind_ema_read(&s->slow, &sl))
		ind_ema_step(&s->signal, f - sl);
}

bool
ind_macd_read(const IndMacd *s, double *line, double *signal, double *hist, bool *has_signal)
{
	double		f,
				sl;

	if (!ind_ema_read(&s->fast, &f) || !ind_ema_read(&s->slow, &sl))
		return false;
	*line = f - sl;
	*has_signal = ind_ema_read(&s->signal, signal);
	if (*has_signal)
		*hist = *line - *signal;
	return true;
}

void
ind_bollinger_init(IndBollinger *s, int n, double k, double *ring)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->k = k;
	s->ring = ring;
}

void
ind_bollinger_step(IndBollinger *s, double x)
{
	s->ring[s->count % s->n] = x;
	s->count++;
}

bool
ind_bollinger_read(const IndBollinger *s, double *mid, double *upper, double *lower)
{
	double		mean = 0,
				var = 0;

	if (s->count < s->n)
		return false;
	/* two passes over the window: exact enough, and n is small */
	for (int i = 0; i < s->n; i++)
		mean += s->ring[i];
	mean /= s->n;
	for (int i = 0; i < s->n; i++)
		var += (s->ring[i] - mean) * (s->ring[i] - mean);
	var /= s->n;
	*mid = mean;
	*upper = mean + s->k * sqrt(var);
	*lower = mean - s->k * sqrt(var);
	return true;
}

void
ind_atr_init(IndAtr *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
}

void
ind_atr_step(IndAtr *s, double high, double low, double close)
{
	double		tr = high - low;

	if (s->count > 0)
	{
		double		a = fabs(high - s->prev_close);
		double		b = fabs(low - s->prev_close);

		if (a > tr)
			tr = a;
		if (b > tr)
			tr = b;
	}
	s->count++;
	s->prev_close = close;
	if (s->count <= s->n)
	{
		s->value += tr;
		if (s->count == s->n)
			s->value /= s->n;
	}
	else
		s->value = (s->value * (s->n - 1) + tr) / s->n;
}

bool
ind_atr_read(const IndAtr *s, double *out)
{
	if (s->count < s->n)
		return false;
	*out = s->value;
	return true;
}

void
ind_vwap_step(IndVwap *s, double price, double qty)
{
	s->pq += price * qty;
	s->q += qty;
}

bool
ind_vwap_read(const IndVwap *s, double *out)
{
	if (s->q == 0)
		return false;
	*out = s->pq / s->q;
	return true;
}
