/*-------------------------------------------------------------------------
 *
 * src/backtest/param_apply.c
 *	  Apply one params or grid key (see param_apply.h).
 *
 * The common params every strategy takes are checked here, each against
 * its own range; the strategy's own are stored for bt_strategy_check().
 * The messages are those docs/backtesting.md shows (params.c raises them
 * as 22023).
 *
 *-------------------------------------------------------------------------
 */
#include "backtest/param_apply.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_common(const char *key);
static BtParamStatus refuse(BtParamStatus st, char *msg, size_t msglen, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static const char *const common_params[] = {
	"size_pct", "qty", "allow_short", "stop_loss_pct", "take_profit_pct", "trailing_stop_pct",
	"funding"
};

static bool
is_common(const char *key)
{
	for (size_t i = 0; i < sizeof(common_params) / sizeof(common_params[0]); i++)
		if (strcmp(key, common_params[i]) == 0)
			return true;
	return false;
}

static BtParamStatus
refuse(BtParamStatus st, char *msg, size_t msglen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return st;
}

BtParamStatus
bt_param_apply(const BtParamSpec *spec, const char *key, const char *type, const char *value,
			   BtStrategyParams *sp, BtConfig *cfg, char *msg, size_t msglen)
{
	bool		number = strcmp(type, "number") == 0;
	double		num = number ? strtod(value, NULL) : NAN;
	int			own = -1;
	bool		tp;

	for (int i = 0; i < spec->nparams; i++)
		if (strcmp(key, spec->names[i]) == 0)
			own = i;
	if (own < 0 && !is_common(key))
		return refuse(BT_PARAM_UNKNOWN, msg, msglen, "unknown parameter \"%s\" for strategy %s",
					  key, spec->strategy);
	if (strcmp(key, "allow_short") == 0)
	{
		if (strcmp(type, "boolean") != 0)
			return refuse(BT_PARAM_BAD, msg, msglen, "%s.allow_short must be true or false, not %s",
						  spec->source, value);
		cfg->allow_short = strcmp(value, "true") == 0;
		sp->allow_short = cfg->allow_short;
		return BT_PARAM_OK;
	}
	if (strcmp(key, "funding") == 0)
	{
		if (strcmp(type, "boolean") != 0)
			return refuse(BT_PARAM_BAD, msg, msglen, "%s.funding must be true or false, not %s",
						  spec->source, value);
		cfg->funding = strcmp(value, "true") == 0;
		return BT_PARAM_OK;
	}
	if (!number)
		return refuse(BT_PARAM_BAD, msg, msglen, "%s.%s must be a number, not %s",
					  spec->source, key, value);
	if (own >= 0)
	{
		sp->p[own] = num;
		return BT_PARAM_OK;
	}
	if (strcmp(key, "size_pct") == 0)
	{
		if (!(num > 0 && num <= 100))
			return refuse(BT_PARAM_BAD, msg, msglen, "%s.size_pct must be in (0, 100], not %s",
						  spec->source, value);
		cfg->size_pct = num;
		return BT_PARAM_OK;
	}
	if (strcmp(key, "qty") == 0)
	{
		if (!(num > 0 && isfinite(num)))
			return refuse(BT_PARAM_BAD, msg, msglen, "%s.qty must be a positive number, not %s",
						  spec->source, value);
		cfg->qty = num;
		return BT_PARAM_OK;
	}
	/* stop_loss_pct, take_profit_pct, trailing_stop_pct */
	tp = strcmp(key, "take_profit_pct") == 0;
	if (!(num > 0 && (tp ? isfinite(num) : num < 100)))
		return refuse(BT_PARAM_BAD, msg, msglen, "%s.%s must be a percentage %s, not %s",
					  spec->source, key, tp ? "> 0" : "in (0, 100)", value);
	if (key[0] == 's')
		cfg->stop_loss_pct = num;
	else if (tp)
		cfg->take_profit_pct = num;
	else
		cfg->trailing_stop_pct = num;
	return BT_PARAM_OK;
}
