/*
 * test/unit/test_indicators.c
 *	  The indicator state machines (src/backtest/indicators.c) on small
 *	  series worked out by hand.
 */
#include "backtest/indicators.h"
#include "unit_test.h"

#include <math.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

int
main(void)
{
	IndEma		e;
	IndRsi		r;
	IndAtr		a;
	IndVwap		v = {0, 0};
	IndMacd		m;
	IndBollinger b;
	double		ring[3];
	double		x,
				y,
				z;
	bool		has;

	/* EMA(3) of 1, 2, 3, 4: seed avg(1,2,3) = 2, then 2 + (4 - 2) * 0.5 = 3 */
	ind_ema_init(&e, 3);
	ind_ema_step(&e, 1);
	ind_ema_step(&e, 2);
	CHECK(!ind_ema_read(&e, &x));
	ind_ema_step(&e, 3);
	CHECK(ind_ema_read(&e, &x) && NEAR(x, 2));
	ind_ema_step(&e, 4);
	CHECK(ind_ema_read(&e, &x) && NEAR(x, 3));

	/* RSI(2): only gains is 100, flat is 50; gains 2 and losses 1 average to 66.67 */
	ind_rsi_init(&r, 2);
	ind_rsi_step(&r, 10);
	ind_rsi_step(&r, 11);
	CHECK(!ind_rsi_read(&r, &x));
	ind_rsi_step(&r, 12);
	CHECK(ind_rsi_read(&r, &x) && NEAR(x, 100));
	ind_rsi_init(&r, 2);
	for (int i = 0; i < 4; i++)
		ind_rsi_step(&r, 7);
	CHECK(ind_rsi_read(&r, &x) && NEAR(x, 50));
	ind_rsi_init(&r, 2);
	ind_rsi_step(&r, 10);
	ind_rsi_step(&r, 14);		/* +4 */
	ind_rsi_step(&r, 12);		/* -2: gain 2, loss 1, RS 2 */
	CHECK(ind_rsi_read(&r, &x) && NEAR(x, 100.0 - 100.0 / 3.0));
	/* after the seed, Wilder's smoothing: avg = (avg * (n - 1) + change) / n */
	ind_rsi_step(&r, 15);		/* +3: gain (2 + 3) / 2 = 2.5, loss 1 / 2 = 0.5, RS 5 */
	CHECK(ind_rsi_read(&r, &x) && NEAR(x, 100.0 - 100.0 / 6.0));
	ind_rsi_step(&r, 13);		/* -2: gain 1.25, loss 1.25 */
	CHECK(ind_rsi_read(&r, &x) && NEAR(x, 50));

	/* ATR(2): TR 2 (h-l), then max(1, |3-4|, |2-4|) = 2 -> 2; then (2*1 + 4) / 2 = 3 */
	ind_atr_init(&a, 2);
	ind_atr_step(&a, 5, 3, 4);
	CHECK(!ind_atr_read(&a, &x));
	ind_atr_step(&a, 3, 2, 2.5);
	CHECK(ind_atr_read(&a, &x) && NEAR(x, 2));
	ind_atr_step(&a, 6.5, 5, 6);	/* TR = max(1.5, 4, 2.5) = 4 */
	CHECK(ind_atr_read(&a, &x) && NEAR(x, 3));

	/* VWAP */
	CHECK(!ind_vwap_read(&v, &x));
	ind_vwap_step(&v, 10, 1);
	ind_vwap_step(&v, 20, 3);
	CHECK(ind_vwap_read(&v, &x) && NEAR(x, 17.5));

	/* Bollinger(3, 2) of 1, 2, 3: mid 2, sd sqrt(2/3) */
	ind_bollinger_init(&b, 3, 2, ring);
	ind_bollinger_step(&b, 1);
	ind_bollinger_step(&b, 2);
	CHECK(!ind_bollinger_read(&b, &x, &y, &z));
	ind_bollinger_step(&b, 3);
	CHECK(ind_bollinger_read(&b, &x, &y, &z) && NEAR(x, 2) && NEAR(y, 2 + 2 * sqrt(2.0 / 3)) &&
		  NEAR(z, 2 - 2 * sqrt(2.0 / 3)));
	ind_bollinger_step(&b, 4);	/* window 2, 3, 4 */
	CHECK(ind_bollinger_read(&b, &x, &y, &z) && NEAR(x, 3));

	/* MACD(1, 2, 1) of 1, 3: line = 3 - avg(1, 3) = 1, signal = 1, hist 0 */
	ind_macd_init(&m, 1, 2, 1);
	ind_macd_step(&m, 1);
	CHECK(!ind_macd_read(&m, &x, &y, &z, &has));
	ind_macd_step(&m, 3);
	CHECK(ind_macd_read(&m, &x, &y, &z, &has) && has && NEAR(x, 1) && NEAR(y, 1) && NEAR(z, 0));
	/* SMA(3) of 1..5: 2, 3, 4; and no drift after a million steps */
	{
		IndSma		sm;
		double		r3[3],
					r50[50],
					direct = 0;

		ind_sma_init(&sm, 3, r3);
		ind_sma_step(&sm, 1);
		ind_sma_step(&sm, 2);
		CHECK(!ind_sma_read(&sm, &x));
		ind_sma_step(&sm, 3);
		CHECK(ind_sma_read(&sm, &x) && NEAR(x, 2));
		ind_sma_step(&sm, 4);
		ind_sma_step(&sm, 5);
		CHECK(ind_sma_read(&sm, &x) && NEAR(x, 4));

		ind_sma_init(&sm, 50, r50);
		for (int i = 0; i < 1000000; i++)
			ind_sma_step(&sm, 60000 + (i % 977) * 0.01 + (i % 3) * 1e-7);
		for (int i = 1000000 - 50; i < 1000000; i++)
			direct += 60000 + (i % 977) * 0.01 + (i % 3) * 1e-7;
		CHECK(ind_sma_read(&sm, &x) && fabs(x - direct / 50) < 1e-9);
	}
	return unit_summary("test_indicators");
}
