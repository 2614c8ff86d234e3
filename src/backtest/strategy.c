/*-------------------------------------------------------------------------
 *
 * src/backtest/strategy.c
 *	  The built-in strategies (rules in strategy.h).
 *
 *-------------------------------------------------------------------------
 */
#include "strategy.h"

#include <math.h>
#include <string.h>

typedef struct StrategyDef
{
	const char *name;
	BtStrategyKind kind;
	int			nparams;
	const char *params[3];
	double		defaults[3];
} StrategyDef;

static const StrategyDef strategies[] = {
	{"sma_cross", BT_SMA_CROSS, 2, {"fast", "slow"}, {10, 30}},
	{"ema_cross", BT_EMA_CROSS, 2, {"fast", "slow"}, {12, 26}},
	{"rsi_reversion", BT_RSI_REVERSION, 3, {"period", "lower", "upper"}, {14, 30, 70}},
	{"bollinger_breakout", BT_BOLLINGER_BREAKOUT, 2, {"period", "k"}, {20, 2}},
	{"donchian_breakout", BT_DONCHIAN_BREAKOUT, 2, {"entry", "exit"}, {20, 10}},
	{"buy_and_hold", BT_BUY_AND_HOLD, 0, {NULL}, {0}},
};

#define MAX_PERIOD 100000

bool
bt_strategy_lookup(const char *name, BtStrategyKind *kind,
				   const char *const **names, int *nparams, const double **defaults)
{
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
	{
		if (strcmp(strategies[i].name, name) == 0)
		{
			*kind = strategies[i].kind;
			*names = strategies[i].params;
			*nparams = strategies[i].nparams;
			if (defaults)
				*defaults = strategies[i].defaults;
			return true;
		}
	}
	return false;
}

const char *
bt_strategy_names(void)
{
	return "sma_cross, ema_cross, rsi_reversion, bollinger_breakout, donchian_breakout, buy_and_hold";
}

static bool
is_period(double v)
{
	return v >= 1 && v <= MAX_PERIOD && v == floor(v);
}

bool
bt_strategy_check(const BtStrategyParams *par, const char **why)
{
	const double *p = par->p;

	switch (par->kind)
	{
		case BT_SMA_CROSS:
		case BT_EMA_CROSS:
			if (!is_period(p[0]) || !is_period(p[1]))
			{
				*why = "fast and slow must be whole numbers of bars between 1 and 100000";
				return false;
			}
			if (p[0] >= p[1])
			{
				*why = "fast must be less than slow";
				return false;
			}
			return true;
		case BT_RSI_REVERSION:
			if (!is_period(p[0]))
			{
				*why = "period must be a whole number of bars between 1 and 100000";
				return false;
			}
			if (!(p[1] >= 0 && p[1] < p[2] && p[2] <= 100))
			{
				*why = "lower and upper must satisfy 0 <= lower < upper <= 100";
				return false;
			}
			return true;
		case BT_BOLLINGER_BREAKOUT:
			if (!is_period(p[0]))
			{
				*why = "period must be a whole number of bars between 1 and 100000";
				return false;
			}
			if (!(p[1] > 0 && isfinite(p[1])))
			{
				*why = "k must be a finite number of standard deviations > 0";
				return false;
			}
			return true;
		case BT_DONCHIAN_BREAKOUT:
			if (!is_period(p[0]) || !is_period(p[1]))
			{
				*why = "entry and exit must be whole numbers of bars between 1 and 100000";
				return false;
			}
			return true;
		case BT_BUY_AND_HOLD:
			return true;
	}
	*why = "unknown strategy";
	return false;
}

size_t
bt_strategy_ring_len(const BtStrategyParams *par)
{
	switch (par->kind)
	{
		case BT_SMA_CROSS:
			return (size_t) (par->p[0] + par->p[1]);
		case BT_BOLLINGER_BREAKOUT:
			return (size_t) par->p[0];
		case BT_DONCHIAN_BREAKOUT:
			return 2 * (size_t) (par->p[0] > par->p[1] ? par->p[0] : par->p[1]);
		default:
			return 0;
	}
}

void
bt_strategy_init(BtStrategy *s, const BtStrategyParams *par, double *ring)
{
	int			a = (int) par->p[0];
	int			b = (int) par->p[1];

	memset(s, 0, sizeof(*s));
	s->par = *par;
	switch (par->kind)
	{
		case BT_SMA_CROSS:
			ind_sma_init(&s->sma_fast, a, ring);
			ind_sma_init(&s->sma_slow, b, ring + a);
			break;
		case BT_EMA_CROSS:
			ind_ema_init(&s->ema_fast, a);
			ind_ema_init(&s->ema_slow, b);
			break;
		case BT_RSI_REVERSION:
			ind_rsi_init(&s->rsi, a);
			break;
		case BT_BOLLINGER_BREAKOUT:
			ind_bollinger_init(&s->boll, a, par->p[1], ring);
			break;
		case BT_DONCHIAN_BREAKOUT:
			s->highs = ring;
			s->lows = ring + (a > b ? a : b);
			break;
		case BT_BUY_AND_HOLD:
			break;
	}
}

/* a long/short/flat target; shorts become flat unless allowed */
static double
side(const BtStrategy *s, double want)
{
	return want < 0 && !s->par.allow_short ? 0 : want;
}

double
bt_strategy_cross(bool ok, double fast, double slow, bool allow_short)
{
	if (!ok || fast == slow)
		return 0;
	if (fast > slow)
		return 1;
	return allow_short ? -1 : 0;
}

/* extreme of the last n of count values kept in a ring of m */
static double
last_extreme(const double *ring, int m, int64_t count, int n, bool highest)
{
	double		v = highest ? -INFINITY : INFINITY;

	for (int64_t k = count - n; k < count; k++)
	{
		double		x = ring[k % m];

		if (highest ? x > v : x < v)
			v = x;
	}
	return v;
}

double
bt_strategy_step(BtStrategy *s, double high, double low, double close)
{
	double		t = s->target;
	double		f,
				sl;

	switch (s->par.kind)
	{
		case BT_SMA_CROSS:
			{
				bool		ok;

				ind_sma_step(&s->sma_fast, close);
				ind_sma_step(&s->sma_slow, close);
				ok = ind_sma_read(&s->sma_fast, &f) && ind_sma_read(&s->sma_slow, &sl);
				t = bt_strategy_cross(ok, f, sl, s->par.allow_short);
				break;
			}
		case BT_EMA_CROSS:
			{
				bool		ok;

				ind_ema_step(&s->ema_fast, close);
				ind_ema_step(&s->ema_slow, close);
				ok = ind_ema_read(&s->ema_fast, &f) && ind_ema_read(&s->ema_slow, &sl);
				t = bt_strategy_cross(ok, f, sl, s->par.allow_short);
				break;
			}
		case BT_RSI_REVERSION:
			{
				double		r;

				ind_rsi_step(&s->rsi, close);
				if (!ind_rsi_read(&s->rsi, &r))
					break;
				if (r < s->par.p[1])
					t = 1;		/* oversold: long (also closes a short) */
				else if (r > s->par.p[2])
					t = side(s, -1);	/* overbought: out, or short */
				break;
			}
		case BT_BOLLINGER_BREAKOUT:
			{
				double		mid,
							up,
							lo;

				ind_bollinger_step(&s->boll, close);
				if (!ind_bollinger_read(&s->boll, &mid, &up, &lo))
					break;
				if (close > up)
					t = 1;
				else if (close < lo)
					t = side(s, -1);
				else if ((t > 0 && close < mid) || (t < 0 && close > mid))
					t = 0;
				break;
			}
		case BT_DONCHIAN_BREAKOUT:
			{
				int			ne = (int) s->par.p[0];
				int			nx = (int) s->par.p[1];
				int			m = ne > nx ? ne : nx;
				bool		entered = false;

				/* channels of the previous bars, then this bar joins them */
				if (s->bars >= ne)
				{
					if (close > last_extreme(s->highs, m, s->bars, ne, true))
					{
						t = 1;
						entered = true;
					}
					else if (close < last_extreme(s->lows, m, s->bars, ne, false) &&
							 s->par.allow_short)
					{
						t = -1;
						entered = true;
					}
				}
				if (!entered && s->bars >= nx)
				{
					if (t > 0 && close < last_extreme(s->lows, m, s->bars, nx, false))
						t = 0;
					else if (t < 0 && close > last_extreme(s->highs, m, s->bars, nx, true))
						t = 0;
				}
				s->highs[s->bars % m] = high;
				s->lows[s->bars % m] = low;
				break;
			}
		case BT_BUY_AND_HOLD:
			t = 1;
			break;
	}
	s->bars++;
	s->target = t;
	return t;
}
