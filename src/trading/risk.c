/*-------------------------------------------------------------------------
 *
 * src/trading/risk.c
 *	  The pre-trade risk check in fixed point (see risk.h).
 *
 *-------------------------------------------------------------------------
 */
#include "trading/risk.h"

#include <stdio.h>
#include <string.h>

/* |v| * 10^10 must stay below this for any product to fit (about 1.7e28) */
#define FX_MAX ((fx_t) 1 << 125)

bool
fx_parse(const char *s, fx_t *out)
{
	fx_t		v = 0;
	int			frac = -1;		/* digits after the point, -1 before it */
	bool		neg = false;
	bool		any = false;
	int			round_digit = -1;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s; s++)
	{
		if (*s == '.' && frac < 0)
		{
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		any = true;
		if (frac >= FX_DIGITS)
		{
			if (round_digit < 0)
				round_digit = *s - '0';
			continue;
		}
		if (v > FX_MAX / 10)
			return false;
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	if (!any)
		return false;
	for (int i = frac < 0 ? 0 : frac; i < FX_DIGITS; i++)
	{
		if (v > FX_MAX / 10)
			return false;
		v *= 10;
	}
	if (round_digit >= 5)
		v++;
	*out = neg ? -v : v;
	return true;
}

char *
fx_format(fx_t v, char *buf, size_t len)
{
	char		digits[64];
	int			n = 0;
	unsigned __int128 u = v < 0 ? (unsigned __int128) (-(v + 1)) + 1 : (unsigned __int128) v;
	size_t		pos = 0;
	int			intdigits;
	int			last;

	do
	{
		digits[n++] = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u > 0 || n <= FX_DIGITS);
	/* digits[] is reversed; the last FX_DIGITS of the number are the fraction */
	intdigits = n - FX_DIGITS;
	last = 0;					/* lowest fraction digit that is not zero */
	while (last < FX_DIGITS && digits[last] == '0')
		last++;
	if (v < 0 && pos + 1 < len)
		buf[pos++] = '-';
	for (int i = n - 1; i >= n - intdigits && pos + 1 < len; i--)
		buf[pos++] = digits[i];
	if (last < FX_DIGITS)
	{
		if (pos + 1 < len)
			buf[pos++] = '.';
		for (int i = FX_DIGITS - 1; i >= last && pos + 1 < len; i--)
			buf[pos++] = digits[i];
	}
	buf[pos] = '\0';
	return buf;
}

/*
 * Arithmetic with an overflow flag: once set, results are meaningless and
 * the check rejects the order.
 */
static fx_t
fx_add(fx_t a, fx_t b, bool *overflow)
{
	fx_t		r;

	if (__builtin_add_overflow(a, b, &r) || r > FX_MAX || r < -FX_MAX)
		*overflow = true;
	return r;
}

static fx_t
fx_sub(fx_t a, fx_t b, bool *overflow)
{
	return fx_add(a, -b, overflow);
}

/* a * b, both at scale 10^10, as an exact product at scale 10^20 */
static fx_t
fx_mul_raw(fx_t a, fx_t b, bool *overflow)
{
	fx_t		r;

	if (__builtin_mul_overflow(a, b, &r))
		*overflow = true;
	return r;
}

/* round(n / d) half away from zero */
static fx_t
div_round(fx_t n, fx_t d)
{
	fx_t		q = n / d;
	fx_t		r = n % d;

	if (r < 0)
		r = -r;
	if (2 * r >= (d < 0 ? -d : d))
		q += ((n < 0) != (d < 0)) ? -1 : 1;
	return q;
}

/* a * b rounded back to scale 10^10 */
static fx_t
fx_mul(fx_t a, fx_t b, bool *overflow)
{
	return div_round(fx_mul_raw(a, b, overflow), FX_ONE);
}

/* a / b rounded at scale 10^10 */
static fx_t
fx_div(fx_t a, fx_t b, bool *overflow)
{
	if (b == 0)
	{
		*overflow = true;
		return 0;
	}
	return div_round(fx_mul_raw(a, FX_ONE, overflow), b);
}

static fx_t
fx_abs(fx_t v)
{
	return v < 0 ? -v : v;
}

void
risk_limits_tighten(RiskLimits *into, const RiskLimits *other)
{
	RiskLimit  *a = (RiskLimit *) into;
	const RiskLimit *b = (const RiskLimit *) other;

	for (size_t i = 0; i < sizeof(RiskLimits) / sizeof(RiskLimit); i++)
		if (b[i].set && (!a[i].set || b[i].value < a[i].value))
			a[i] = b[i];
}

static RiskResult
verdict(RiskVerdict v, fx_t limit, fx_t value, fx_t available)
{
	RiskResult	r;

	r.verdict = v;
	r.limit = limit;
	r.value = value;
	r.available = available;
	return r;
}

RiskResult
risk_check(const RiskOrder *o, const RiskAccount *a, const RiskLimits *l)
{
	bool		ovf = false;
	fx_t		reducible = (a->position != 0 && (a->position > 0) == (o->dir < 0)) ? fx_abs(a->position) : 0;
	bool		reduces = o->qty <= reducible;
	fx_t		worst;
	fx_t		v;

	if (a->state == RISK_STATE_ORPHANED)
		return verdict(RISK_ORPHANED, 0, 0, 0);
	if (a->state == RISK_STATE_HALTED)
		return verdict(RISK_HALTED, 0, 0, 0);
	if (a->state == RISK_STATE_REDUCING && !reduces)
		return verdict(RISK_REDUCING, 0, a->position, 0);
	if (o->reduce_only && !reduces)
		return verdict(RISK_REDUCE_ONLY, 0, a->position, 0);

	if (l->max_orders_per_sec.set &&
		(fx_t) a->orders_last_second * FX_ONE >= l->max_orders_per_sec.value)
		return verdict(RISK_ORDERS_PER_SEC, l->max_orders_per_sec.value,
					   (fx_t) a->orders_last_second * FX_ONE, 0);
	if (l->max_open_orders.set && o->rests &&
		(fx_t) a->open_orders * FX_ONE >= l->max_open_orders.value)
		return verdict(RISK_OPEN_ORDERS, l->max_open_orders.value, (fx_t) a->open_orders * FX_ONE, 0);
	if (l->max_order_qty.set && o->qty > l->max_order_qty.value)
		return verdict(RISK_ORDER_QTY, l->max_order_qty.value, o->qty, 0);
	if (l->max_order_notional.set &&
		fx_mul_raw(o->qty, o->ref, &ovf) > fx_mul_raw(l->max_order_notional.value, FX_ONE, &ovf))
		return verdict(ovf ? RISK_OVERFLOW : RISK_ORDER_NOTIONAL, l->max_order_notional.value,
					   fx_mul(o->qty, o->ref, &ovf), 0);
	if (l->price_band_pct.set && o->has_price)
	{
		fx_t		away;

		if (!o->has_mkt || o->mkt <= 0)
			return verdict(RISK_NO_MARKET, l->price_band_pct.value, o->price, 0);
		away = fx_abs(fx_sub(o->price, o->mkt, &ovf));
		/* |price - mkt| * 100 > pct * mkt */
		if (fx_mul_raw(away, 100 * FX_ONE, &ovf) > fx_mul_raw(l->price_band_pct.value, o->mkt, &ovf))
		{
			fx_t		pct = fx_div(fx_mul(away, 100 * FX_ONE, &ovf), o->mkt, &ovf);

			/* shown to 4 decimal places */
			pct = div_round(pct, FX_ONE / 10000) * (FX_ONE / 10000);
			return verdict(ovf ? RISK_OVERFLOW : RISK_PRICE_BAND, l->price_band_pct.value, pct, o->mkt);
		}
	}

	/* the worst case: every open order on this side fills too */
	if (o->dir > 0)
		worst = fx_add(fx_add(a->position, a->open_buy_qty, &ovf), o->qty, &ovf);
	else
		worst = fx_sub(fx_sub(a->position, a->open_sell_qty, &ovf), o->qty, &ovf);
	if (l->max_position_qty.set && fx_abs(worst) > l->max_position_qty.value)
		return verdict(ovf ? RISK_OVERFLOW : RISK_POSITION_QTY, l->max_position_qty.value, worst, 0);
	if (l->max_position_notional.set &&
		fx_mul_raw(fx_abs(worst), o->ref, &ovf) > fx_mul_raw(l->max_position_notional.value, FX_ONE, &ovf))
		return verdict(ovf ? RISK_OVERFLOW : RISK_POSITION_NOTIONAL, l->max_position_notional.value,
					   fx_mul(fx_abs(worst), o->ref, &ovf), 0);
	if (l->max_daily_loss.set && !reduces)
	{
		fx_t		loss = -fx_add(a->unrealized, a->realized_today, &ovf);

		if (loss > l->max_daily_loss.value)
			return verdict(ovf ? RISK_OVERFLOW : RISK_DAILY_LOSS, l->max_daily_loss.value, loss, 0);
	}

	/* money */
	if (a->spot)
	{
		if (o->dir > 0)
		{
			fx_t		fee_factor = fx_add(FX_ONE, fx_div(a->taker_fee_bps, 10000 * FX_ONE, &ovf), &ovf);
			fx_t		need = fx_mul(fx_mul(o->qty, o->ref, &ovf), fee_factor, &ovf);
			fx_t		avail = fx_sub(a->quote_balance,
									   fx_mul(a->reserved_buy_notional, fee_factor, &ovf), &ovf);

			if (need > avail || ovf)
				return verdict(ovf ? RISK_OVERFLOW : RISK_BALANCE_BUY, 0, need, avail);
		}
		else
		{
			fx_t		avail = fx_sub(a->base_balance, a->reserved_sell_qty, &ovf);

			if (o->qty > avail || ovf)
				return verdict(ovf ? RISK_OVERFLOW : RISK_BALANCE_SELL, 0, o->qty, avail);
		}
	}
	else if (o->qty > reducible)
	{
		/* (qty - reducible) * ref / leverage <= free equity, multiplied through by leverage */
		fx_t		margin = fx_mul_raw(fx_sub(o->qty, reducible, &ovf), o->ref, &ovf);
		fx_t		equity = fx_add(a->cash, a->perp_unrealized, &ovf);
		fx_t		room = fx_sub(fx_mul_raw(equity, a->leverage, &ovf),
								  fx_mul_raw(fx_add(a->perp_notional, a->perp_open_notional, &ovf),
											 FX_ONE, &ovf), &ovf);

		if (margin > room || ovf)
		{
			v = fx_div(div_round(margin, FX_ONE), a->leverage, &ovf);
			return verdict(ovf ? RISK_OVERFLOW : RISK_MARGIN, a->leverage, v,
						   fx_div(div_round(room, FX_ONE), a->leverage, &ovf));
		}
	}
	if (ovf)
		return verdict(RISK_OVERFLOW, 0, 0, 0);
	return verdict(RISK_PASS, 0, 0, 0);
}

char *
risk_reason(const RiskResult *r, const RiskOrder *o, const RiskAccount *a,
			const RiskNames *n, char *buf, size_t len)
{
	char		lim[64];
	char		val[64];
	char		av[64];
	char		qty[64];

	fx_format(r->limit, lim, sizeof(lim));
	fx_format(r->value, val, sizeof(val));
	fx_format(r->available, av, sizeof(av));
	fx_format(o->qty, qty, sizeof(qty));
	switch (r->verdict)
	{
		case RISK_PASS:
			buf[0] = '\0';
			break;
		case RISK_HALTED:
			snprintf(buf, len, "trading state: account %s is halted", n->account);
			break;
		case RISK_ORPHANED:
			snprintf(buf, len, "trading state: account %s is halted: its owner role no longer exists (zvt_admin can zvt.reassign_account it)",
					 n->account);
			break;
		case RISK_REDUCING:
			snprintf(buf, len, "trading state: account %s is reducing and %s %s %s does not reduce the position %s",
					 n->account, n->side, qty, n->symbol, val);
			break;
		case RISK_REDUCE_ONLY:
			snprintf(buf, len, "reduce_only: %s %s %s does not reduce the position %s",
					 n->side, qty, n->symbol, val);
			break;
		case RISK_ORDERS_PER_SEC:
			snprintf(buf, len, "max_orders_per_sec: limit %s, %s orders in the last second", lim, val);
			break;
		case RISK_OPEN_ORDERS:
			snprintf(buf, len, "max_open_orders: limit %s, %s open orders", lim, val);
			break;
		case RISK_ORDER_QTY:
			snprintf(buf, len, "max_order_qty: limit %s, order %s", lim, val);
			break;
		case RISK_ORDER_NOTIONAL:
			snprintf(buf, len, "max_order_notional: limit %s, order %s", lim, val);
			break;
		case RISK_NO_MARKET:
			snprintf(buf, len, "price_band_pct: no market price for %s to check %s against", n->symbol, val);
			break;
		case RISK_PRICE_BAND:
			{
				char		price[64];

				fx_format(o->price, price, sizeof(price));
				snprintf(buf, len, "price_band_pct: limit %s%%, price %s is %s%% from the market %s",
						 lim, price, val, av);
			}
			break;
		case RISK_POSITION_QTY:
			snprintf(buf, len, "max_position_qty: limit %s, position would reach %s", lim, val);
			break;
		case RISK_POSITION_NOTIONAL:
			snprintf(buf, len, "max_position_notional: limit %s, position would reach %s", lim, val);
			break;
		case RISK_DAILY_LOSS:
			snprintf(buf, len, "max_daily_loss: limit %s, loss today %s", lim, val);
			break;
		case RISK_BALANCE_BUY:
			snprintf(buf, len, "insufficient balance: %s %s %s needs %s %s, %s available",
					 n->side, qty, n->symbol, val, n->quote, av);
			break;
		case RISK_BALANCE_SELL:
			snprintf(buf, len, "insufficient balance: selling %s %s with %s available (a spot account sells only what it holds)",
					 qty, n->base, av);
			break;
		case RISK_MARGIN:
			snprintf(buf, len, "insufficient margin: %s %s %s needs %s %s of initial margin at leverage %s, %s free",
					 n->side, qty, n->symbol, val, n->quote, lim, av);
			break;
		case RISK_OVERFLOW:
			snprintf(buf, len, "amounts too large to check: %s %s %s", n->side, qty, n->symbol);
			break;
	}
	(void) a;
	return buf;
}
