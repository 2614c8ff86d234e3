/*
 * test/unit/test_risk.c
 *	  The pre-trade risk check (src/trading/risk.c): fixed-point parsing
 *	  and printing, every limit exactly at its value and just past it,
 *	  the stricter of two limits, balances, margin and overflow.
 */
#include "trading/risk.h"
#include "unit_test.h"

static fx_t
fx(const char *s)
{
	fx_t		v = 0;

	if (!fx_parse(s, &v))
		fprintf(stderr, "cannot parse %s\n", s);
	return v;
}

static const char *
show(fx_t v)
{
	static char buf[4][64];
	static int	i = 0;

	i = (i + 1) % 4;
	return fx_format(v, buf[i], sizeof(buf[i]));
}

static RiskLimit
lim(const char *s)
{
	RiskLimit	l = {true, fx(s)};

	return l;
}

/* a buy of qty at price 90 resting on a spot account with plenty of cash */
static void
setup(RiskOrder *o, RiskAccount *a, RiskLimits *l, const char *qty)
{
	memset(o, 0, sizeof(*o));
	memset(a, 0, sizeof(*a));
	memset(l, 0, sizeof(*l));
	o->dir = 1;
	o->qty = fx(qty);
	o->has_price = true;
	o->price = fx("90");
	o->rests = true;
	o->ref = fx("90");
	o->has_mkt = true;
	o->mkt = fx("100");
	a->spot = true;
	a->quote_balance = fx("1000000");
	a->leverage = FX_ONE;
}

static RiskVerdict
check(const RiskOrder *o, const RiskAccount *a, const RiskLimits *l)
{
	return risk_check(o, a, l).verdict;
}

static const char *
reason(const RiskOrder *o, const RiskAccount *a, const RiskLimits *l)
{
	static char buf[256];
	RiskNames	n = {"acct", o->dir > 0 ? "buy" : "sell", "TST-USDT", "TST", "USDT"};
	RiskResult	r = risk_check(o, a, l);

	return risk_reason(&r, o, a, &n, buf, sizeof(buf));
}

int
main(void)
{
	RiskOrder	o;
	RiskAccount a;
	RiskLimits	l;
	RiskLimits	other;
	fx_t		v;

	/* fixed point in and out */
	CHECK_STR(show(fx("0")), "0");
	CHECK_STR(show(fx("100.2001")), "100.2001");
	CHECK_STR(show(fx("-0.5")), "-0.5");
	CHECK_STR(show(fx("12.3400")), "12.34");
	CHECK_STR(show(fx("0.00000000005")), "0.0000000001");	/* rounded at 10 places */
	CHECK_STR(show(fx("0.00000000004")), "0");
	CHECK_STR(show(fx("123456789012345678")), "123456789012345678");
	CHECK(!fx_parse("NaN", &v));
	CHECK(!fx_parse("Infinity", &v));
	CHECK(!fx_parse("", &v));
	CHECK(!fx_parse("1.2.3", &v));
	CHECK(!fx_parse("1e5", &v));
	CHECK(!fx_parse("999999999999999999999999999999", &v));

	/* no limits: passes */
	setup(&o, &a, &l, "5");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	CHECK_STR(reason(&o, &a, &l), "");

	/* max_order_qty */
	l.max_order_qty = lim("5");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("5.001");
	CHECK(check(&o, &a, &l) == RISK_ORDER_QTY);
	CHECK_STR(reason(&o, &a, &l), "max_order_qty: limit 5, order 5.001");

	/* the stricter of two rows wins, unset fields do not loosen */
	memset(&other, 0, sizeof(other));
	other.max_order_qty = lim("3");
	other.max_position_qty = lim("7");
	l.max_position_qty = lim("9");
	risk_limits_tighten(&l, &other);
	CHECK_STR(show(l.max_order_qty.value), "3");
	CHECK_STR(show(l.max_position_qty.value), "7");
	memset(&other, 0, sizeof(other));
	risk_limits_tighten(&l, &other);
	CHECK_STR(show(l.max_order_qty.value), "3");

	/* max_order_notional: 5 * 90 = 450 */
	setup(&o, &a, &l, "5");
	l.max_order_notional = lim("450");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("5.001");
	CHECK_STR(reason(&o, &a, &l), "max_order_notional: limit 450, order 450.09");

	/* max_position_qty counts open buys */
	setup(&o, &a, &l, "2");
	l.max_position_qty = lim("10");
	a.position = fx("4");
	a.open_buy_qty = fx("4");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("2.001");
	CHECK_STR(reason(&o, &a, &l), "max_position_qty: limit 10, position would reach 10.001");
	/* a sell counts open sells, toward a short */
	setup(&o, &a, &l, "3");
	o.dir = -1;
	a.spot = false;
	a.cash = fx("1000000");
	a.leverage = FX_ONE;
	l.max_position_qty = lim("10");
	a.position = fx("-5");
	a.open_sell_qty = fx("2");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("3.5");
	CHECK_STR(reason(&o, &a, &l), "max_position_qty: limit 10, position would reach -10.5");

	/* max_position_notional */
	setup(&o, &a, &l, "5");
	a.open_buy_qty = fx("5");
	l.max_position_notional = lim("900");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("5.001");
	CHECK_STR(reason(&o, &a, &l), "max_position_notional: limit 900, position would reach 900.09");

	/* max_open_orders only for orders that may rest */
	setup(&o, &a, &l, "1");
	l.max_open_orders = lim("2");
	a.open_orders = 1;
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.open_orders = 2;
	CHECK_STR(reason(&o, &a, &l), "max_open_orders: limit 2, 2 open orders");
	o.rests = false;
	CHECK(check(&o, &a, &l) == RISK_PASS);

	/* max_orders_per_sec */
	setup(&o, &a, &l, "1");
	l.max_orders_per_sec = lim("3");
	a.orders_last_second = 2;
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.orders_last_second = 3;
	CHECK_STR(reason(&o, &a, &l), "max_orders_per_sec: limit 3, 3 orders in the last second");

	/* price band around 100: 90 and 110 are exactly 10 % away */
	setup(&o, &a, &l, "1");
	l.price_band_pct = lim("10");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.price = fx("110");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.price = fx("89.99");
	CHECK_STR(reason(&o, &a, &l), "price_band_pct: limit 10%, price 89.99 is 10.01% from the market 100");
	o.has_mkt = false;
	CHECK(check(&o, &a, &l) == RISK_NO_MARKET);
	o.has_price = false;		/* market orders have no band */
	CHECK(check(&o, &a, &l) == RISK_PASS);

	/* daily loss: unrealized + realized today; reducing orders still pass */
	setup(&o, &a, &l, "1");
	l.max_daily_loss = lim("20.2");
	a.position = fx("2");
	a.unrealized = fx("-20.2");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.realized_today = fx("-0.02");
	CHECK_STR(reason(&o, &a, &l), "max_daily_loss: limit 20.2, loss today 20.22");
	o.dir = -1;
	a.base_balance = fx("2");
	CHECK(check(&o, &a, &l) == RISK_PASS);

	/* trading states and reduce_only */
	setup(&o, &a, &l, "1");
	a.position = fx("2");
	a.state = RISK_STATE_HALTED;
	CHECK_STR(reason(&o, &a, &l), "trading state: account acct is halted");
	a.state = RISK_STATE_ORPHANED;
	CHECK(check(&o, &a, &l) == RISK_ORPHANED);
	CHECK_STR(reason(&o, &a, &l),
			  "trading state: account acct is halted: its owner role no longer exists (zvt_admin can zvt.reassign_account it)");
	a.state = RISK_STATE_REDUCING;
	CHECK_STR(reason(&o, &a, &l), "trading state: account acct is reducing and buy 1 TST-USDT does not reduce the position 2");
	o.dir = -1;
	a.base_balance = fx("2");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("2.5");			/* more than the position: a flip does not reduce */
	CHECK(check(&o, &a, &l) == RISK_REDUCING);
	a.state = RISK_STATE_ACTIVE;
	o.reduce_only = true;
	CHECK_STR(reason(&o, &a, &l), "reduce_only: sell 2.5 TST-USDT does not reduce the position 2");

	/* spot balances: cash with the taker fee reserved, and no overselling */
	setup(&o, &a, &l, "10");
	a.quote_balance = fx("1000");
	a.taker_fee_bps = fx("10");
	a.reserved_buy_notional = fx("100.1");
	o.ref = fx("89.9");			/* 899 * 1.001 = 899.899 <= 1000 - 100.2001 = 899.7999? no */
	CHECK(check(&o, &a, &l) == RISK_BALANCE_BUY);
	CHECK_STR(reason(&o, &a, &l), "insufficient balance: buy 10 TST-USDT needs 899.899 USDT, 899.7999 available");
	o.ref = fx("89.89");		/* 898.9 * 1.001 = 899.7989 */
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.quote_balance = fx("999.999");	/* 899.7989 + 100.2001 reserved: exactly all of it */
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.quote_balance = fx("999.9989");
	CHECK(check(&o, &a, &l) == RISK_BALANCE_BUY);
	setup(&o, &a, &l, "1.5");
	o.dir = -1;
	a.base_balance = fx("2");
	a.reserved_sell_qty = fx("0.5");
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("1.501");
	CHECK_STR(reason(&o, &a, &l), "insufficient balance: selling 1.501 TST with 1.5 available (a spot account sells only what it holds)");

	/* perpetual margin at leverage 5: 9991.3452 free (test/sql/trading.sql works it out) */
	setup(&o, &a, &l, "476");
	a.spot = false;
	a.leverage = fx("5");
	a.cash = fx("10023.5452");
	a.perp_unrealized = fx("9.8");
	a.perp_notional = fx("210");
	a.position = fx("-2");
	o.ref = fx("105");			/* buy 476: 2 reduce, 474 * 105 / 5 = 9954 <= 9991.3452 */
	CHECK(check(&o, &a, &l) == RISK_PASS);
	o.qty = fx("478");			/* 476 * 105 / 5 = 9996 */
	CHECK_STR(reason(&o, &a, &l), "insufficient margin: buy 478 TST-USDT needs 9996 USDT of initial margin at leverage 5, 9991.3452 free");
	o.qty = fx("2");			/* a buy of 2 only reduces the short: no margin */
	a.cash = 0;
	CHECK(check(&o, &a, &l) == RISK_PASS);

	/* amounts whose products do not fit reject rather than wrap */
	setup(&o, &a, &l, "10000000000000000");
	o.ref = fx("10000000000000000");
	l.max_order_notional = lim("1");
	CHECK(check(&o, &a, &l) == RISK_OVERFLOW);

	/* closing exactly the whole position reduces it (qty == |position|) */
	setup(&o, &a, &l, "2");
	o.dir = -1;
	a.position = fx("2");
	a.base_balance = fx("2");
	o.reduce_only = true;
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.state = RISK_STATE_REDUCING;
	o.reduce_only = false;
	CHECK(check(&o, &a, &l) == RISK_PASS);
	/* ... and the daily loss limit lets it through */
	a.state = RISK_STATE_ACTIVE;
	a.realized_today = fx("-50");
	l.max_daily_loss = lim("10");
	CHECK(check(&o, &a, &l) == RISK_PASS);

	/* a percentage exactly half way at its 5th decimal rounds away from zero */
	setup(&o, &a, &l, "1");
	o.price = fx("101.00005");	/* 1.00005% from 100 */
	l.price_band_pct = lim("1");
	{
		RiskResult	r = risk_check(&o, &a, &l);

		CHECK(r.verdict == RISK_PRICE_BAND);
		CHECK_STR(show(r.value), "1.0001");
	}
	o.price = fx("98.99995");	/* -1.00005%: away is positive, same tie */
	CHECK_STR(show(risk_check(&o, &a, &l).value), "1.0001");

	/* open perpetual orders take margin room too */
	setup(&o, &a, &l, "10");
	a.spot = false;
	a.leverage = fx("2");
	a.cash = fx("1000");
	o.ref = fx("100");			/* 10 * 100 = 1000 <= 1000 * 2 */
	CHECK(check(&o, &a, &l) == RISK_PASS);
	a.perp_open_notional = fx("1000.5");	/* 2000 - 1000.5 = 999.5 < 1000 */
	CHECK(check(&o, &a, &l) == RISK_MARGIN);
	CHECK_STR(reason(&o, &a, &l), "insufficient margin: buy 10 TST-USDT needs 500 USDT of initial margin at leverage 2, 499.75 free");
	a.perp_open_notional = fx("1000");
	CHECK(check(&o, &a, &l) == RISK_PASS);

	return unit_summary("test_risk");
}
