/*
 * test/unit/test_backtest_engine.c
 *	  The fill engine (src/backtest/engine.c): next-open fills,
 *	  fees and slippage, sizing, resizing, shorts, each stop along the
 *	  documented in-bar path, gaps, the close at the end, and funding
 *	  payments, on prices worked out by hand.
 */
#include "backtest/engine.h"
#include "unit_test.h"

#include <math.h>
#include <string.h>

#define NEAR(a, b) (fabs((a) - (double) (b)) < 1e-9 * (1 + fabs((double) (b))))

typedef struct Trades
{
	int			n;
	BtTradeRecord t[8];
} Trades;

static void
collect(void *arg, const BtTradeRecord *trade)
{
	Trades	   *ts = arg;

	if (ts->n < 8)
		ts->t[ts->n++] = *trade;
}

static BtBar
bar(int64_t ts, double o, double h, double l, double c)
{
	BtBar		b = {ts, o, h, l, c};

	return b;
}

/* a fresh engine that saw one flat bar at 100 and was asked for target */
static void
begin(BtEngine *e, const BtConfig *c, Trades *tr, double target)
{
	BtBar		b0 = {0, 100, 100, 100, 100};

	tr->n = 0;
	bt_engine_init(e, c, collect, tr);
	bt_engine_bar(e, &b0, NULL);
	bt_engine_target(e, target);
}

static BtConfig
config(void)
{
	BtConfig	c = {1000, 0, 0, 100, 0, false, 0, 0, 0, false};

	return c;
}

int
main(void)
{
	BtEngine	e;
	BtConfig	c;
	Trades		tr;
	bool		inpos;
	double		eq;
	BtBar		b0 = bar(0, 100, 100, 100, 100);

	/* no costs: a target set at bar 0's close fills at bar 1's open */
	c = config();
	tr.n = 0;
	bt_engine_init(&e, &c, collect, &tr);
	eq = bt_engine_bar(&e, &b0, &inpos);
	CHECK(NEAR(eq, 1000) && !inpos);
	CHECK(bt_engine_target(&e, 1));
	eq = bt_engine_bar(&e, &(BtBar) {1, 110, 120, 105, 115}, &inpos);
	CHECK(inpos && NEAR(e.pos, 1000.0 / 110) && NEAR(eq, 1000.0 / 110 * 115));
	CHECK(bt_engine_target(&e, 0));
	eq = bt_engine_bar(&e, &(BtBar) {2, 120, 130, 118, 130}, &inpos);
	CHECK(!inpos && NEAR(eq, 1000.0 / 110 * 120));
	CHECK(tr.n == 1 && tr.t[0].entry_ts == 1 && tr.t[0].exit_ts == 2 && tr.t[0].side == 1);
	CHECK(NEAR(tr.t[0].entry_price, 110) && NEAR(tr.t[0].exit_price, 120));
	CHECK(NEAR(tr.t[0].pnl, 1000.0 / 110 * 10) && tr.t[0].exit == BT_EXIT_SIGNAL);
	CHECK(NEAR(bt_engine_finish(&e), 1000.0 / 110 * 120) && tr.n == 1);

	/*
	 * 10 bps fee and 10 bps slippage: buy at 100.1, qty = 1000 / (100.1 *
	 * 1.001); sell at 109.89; pnl = cash after - 1000
	 */
	c = config();
	c.fee_bps = 10;
	c.slippage_bps = 10;
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	{
		double		q = 1000 / (100.1 * 1.001);
		double		cash = 1000 - q * 100.1 * 1.001 + q * 109.89 * 0.999;

		CHECK(NEAR(e.pos, q) && NEAR(e.cash, 1000 - q * 100.1 * 1.001));
		CHECK(e.cash >= -1e-9); /* the fee fits in the equity */
		bt_engine_target(&e, 0);
		bt_engine_bar(&e, &(BtBar) {2, 110, 110, 110, 110}, NULL);
		CHECK(NEAR(e.cash, cash) && tr.n == 1 && NEAR(tr.t[0].pnl, cash - 1000));
		CHECK(NEAR(tr.t[0].fees, q * 100.1 * 0.001 + q * 109.89 * 0.001));
		CHECK(NEAR(tr.t[0].entry_price, 100.1) && NEAR(tr.t[0].exit_price, 109.89));
		CHECK(NEAR(e.fees, tr.t[0].fees));
	}

	/* bad targets */
	c = config();
	bt_engine_init(&e, &c, NULL, NULL);
	CHECK(!bt_engine_target(&e, -0.5));
	CHECK(!bt_engine_target(&e, 1.5));
	CHECK(!bt_engine_target(&e, NAN));
	c.allow_short = true;
	bt_engine_init(&e, &c, NULL, NULL);
	CHECK(bt_engine_target(&e, -0.5));

	/* sizes: initial_cash and qty up to BT_MAX_AMOUNT (1e308 overflowed) */
	{
		const char *why = NULL;

		c = config();
		CHECK(bt_engine_check(&c, &why));
		c.initial_cash = BT_MAX_AMOUNT;
		c.qty = BT_MAX_AMOUNT;
		CHECK(bt_engine_check(&c, &why));
		c.initial_cash = 1e308;
		CHECK(!bt_engine_check(&c, &why) && strstr(why, "initial_cash") != NULL);
		c.initial_cash = 0;
		CHECK(!bt_engine_check(&c, &why) && strstr(why, "initial_cash") != NULL);
		c = config();
		c.qty = 1e308;
		CHECK(!bt_engine_check(&c, &why) && strstr(why, "qty must be positive and at most 1e15"));
		c.qty = NAN;
		CHECK(!bt_engine_check(&c, &why));
		c.qty = -1;
		CHECK(!bt_engine_check(&c, &why));
	}

	/* fixed qty and half size; resizing within one trade; finish at end */
	c = config();
	c.qty = 2;
	begin(&e, &c, &tr, 0.5);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	CHECK(NEAR(e.pos, 1));
	bt_engine_target(&e, 1);
	bt_engine_bar(&e, &(BtBar) {2, 110, 110, 110, 120}, NULL);
	CHECK(NEAR(e.pos, 2) && tr.n == 0);
	CHECK(NEAR(bt_engine_finish(&e), 1000 + 20 + 10));	/* 1 @ 100, 1 @ 110, 2 out @ 120 */
	CHECK(tr.n == 1 && tr.t[0].exit == BT_EXIT_END && NEAR(tr.t[0].qty, 2));
	CHECK(NEAR(tr.t[0].entry_price, 105) && NEAR(tr.t[0].exit_price, 120));

	/* a short, then a flip to long in one bar: two trades */
	c = config();
	c.allow_short = true;
	begin(&e, &c, &tr, -1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	CHECK(NEAR(e.pos, -10));
	bt_engine_target(&e, 1);
	eq = bt_engine_bar(&e, &(BtBar) {2, 80, 80, 80, 80}, NULL);
	CHECK(tr.n == 1 && tr.t[0].side == -1 && NEAR(tr.t[0].pnl, 200));
	CHECK(NEAR(eq, 1200) && NEAR(e.pos, 1200.0 / 80));

	/* a flip with a 10 bps fee is sized on the equity after the close */
	c = config();
	c.allow_short = true;
	c.fee_bps = 10;
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	bt_engine_target(&e, -1);
	bt_engine_bar(&e, &(BtBar) {2, 80, 80, 80, 80}, NULL);
	{
		double		q = 1000 / (100 * 1.001);
		double		left = q * 80 * 0.999;

		CHECK(tr.n == 1 && NEAR(tr.t[0].pnl, left - 1000));
		CHECK(NEAR(e.pos, -left / (80 * 1.001)));
	}

	/*
	 * stop-loss 5% along the path: open 100, high 101 is nearer than low
	 * 90, so the walk is 100, 101, 90, 99 and the stop fills at 95
	 */
	c = config();
	c.stop_loss_pct = 5;
	begin(&e, &c, &tr, 1);
	eq = bt_engine_bar(&e, &(BtBar) {1, 100, 101, 90, 99}, &inpos);
	CHECK(!inpos && tr.n == 1 && tr.t[0].exit == BT_EXIT_STOP_LOSS);
	CHECK(NEAR(tr.t[0].exit_price, 95) && NEAR(eq, 950));
	/* the target is still 1, but a stop keeps it flat until it changes */
	bt_engine_target(&e, 1);
	bt_engine_bar(&e, &(BtBar) {2, 96, 97, 95, 96}, &inpos);
	CHECK(!inpos);
	bt_engine_target(&e, 0.5);
	bt_engine_bar(&e, &(BtBar) {3, 95, 95, 95, 95}, &inpos);
	CHECK(inpos && NEAR(e.pos, 475.0 / 95));

	/* a gap through the stop fills at the open, not the level */
	c = config();
	c.stop_loss_pct = 5;
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	bt_engine_bar(&e, &(BtBar) {2, 90, 92, 85, 91}, NULL);
	CHECK(tr.n == 1 && NEAR(tr.t[0].exit_price, 90) && tr.t[0].exit == BT_EXIT_STOP_LOSS);

	/* equal distances: high first, so take-profit 5% wins over stop 5% */
	c = config();
	c.stop_loss_pct = 5;
	c.take_profit_pct = 5;
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 106, 94, 100}, NULL);
	CHECK(tr.n == 1 && tr.t[0].exit == BT_EXIT_TAKE_PROFIT && NEAR(tr.t[0].exit_price, 105));
	/* a high exactly at the take-profit level takes it */
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 105, 96, 100}, NULL);
	CHECK(tr.n == 1 && tr.t[0].exit == BT_EXIT_TAKE_PROFIT && NEAR(tr.t[0].exit_price, 105));
	/* low nearer: the stop comes first */
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 106, 95, 100}, NULL);
	CHECK(tr.n == 1 && tr.t[0].exit == BT_EXIT_STOP_LOSS && NEAR(tr.t[0].exit_price, 95));

	/* trailing 10%: up to 120 (nearer), then down to 100: out at 108 */
	c = config();
	c.trailing_stop_pct = 10;
	begin(&e, &c, &tr, 1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	bt_engine_bar(&e, &(BtBar) {2, 110, 120, 100, 104}, NULL);
	CHECK(tr.n == 1 && tr.t[0].exit == BT_EXIT_TRAILING_STOP && NEAR(tr.t[0].exit_price, 108));

	/* a short's stop-loss lies above: entry 100, 5% -> out at 105 */
	c = config();
	c.allow_short = true;
	c.stop_loss_pct = 5;
	begin(&e, &c, &tr, -1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 110, 99, 100}, NULL);
	CHECK(tr.n == 1 && tr.t[0].side == -1 && tr.t[0].exit == BT_EXIT_STOP_LOSS);
	CHECK(NEAR(tr.t[0].exit_price, 105) && NEAR(tr.t[0].pnl, -50));

	CHECK(bt_exit_name(BT_EXIT_TRAILING_STOP)[0] == 't');

	/*
	 * funding: a long of 2 at 100 pays 2 x 101 x 0.0002 = 0.0404 at a
	 * positive rate and receives 2 x 103.5 x 0.0003 = 0.0621 at a negative
	 * one; flat pays nothing; the round trip's pnl includes both
	 */
	c = config();
	c.qty = 2;
	begin(&e, &c, &tr, 1);
	CHECK(bt_engine_funding(&e, 101, 0.0002) == 0);	/* still flat: fills at the next open */
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	CHECK(NEAR(e.pos, 2));
	CHECK(NEAR(bt_engine_funding(&e, 101, 0.0002), -0.0404));
	CHECK(NEAR(bt_engine_funding(&e, 103.5, -0.0003), 0.0621));
	CHECK(NEAR(e.funding, 0.0217) && NEAR(e.cash, 1000 - 200 + 0.0217));
	CHECK(bt_engine_funding(&e, NAN, 0.0001) == 0 && NEAR(e.funding, 0.0217));
	CHECK(bt_engine_target(&e, 0));
	eq = bt_engine_bar(&e, &(BtBar) {2, 100, 100, 100, 100}, NULL);
	CHECK(tr.n == 1 && NEAR(tr.t[0].pnl, 0.0217) && NEAR(eq, 1000.0217));
	CHECK(bt_engine_funding(&e, 100, 0.01) == 0);
	/* a short receives a positive rate: -(-1 x 100 x 0.001) = 0.1 */
	c = config();
	c.qty = 1;
	c.allow_short = true;
	begin(&e, &c, &tr, -1);
	bt_engine_bar(&e, &(BtBar) {1, 100, 100, 100, 100}, NULL);
	CHECK(NEAR(bt_engine_funding(&e, 100, 0.001), 0.1));
	CHECK(NEAR(bt_engine_finish(&e), 1000.1));

	return unit_summary("test_backtest_engine");
}
