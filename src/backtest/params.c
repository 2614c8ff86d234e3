/*-------------------------------------------------------------------------
 *
 * src/backtest/params.c
 *	  Argument and params checks shared by zvt.backtest (run.c) and
 *	  zvt.backtest_grid (grid.c).
 *
 * Params are a jsonb object read through jsonb_each over SPI; each key is
 * applied by bt_apply_param(), which the grid also uses to check its
 * values.  A key's own range is checked as it is applied; the strategy's
 * params together (fast < slow is about two of them) by
 * bt_strategy_check(), and the sizes and costs together by
 * bt_engine_check() (through bt_check_costs() and bt_check_config()), so
 * that the grid can skip a combination for the same reasons a single
 * run is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "backtest/params.h"

static bool is_common(const char *key);

static const char *const common_params[] = {
	"size_pct", "qty", "allow_short", "stop_loss_pct", "take_profit_pct", "trailing_stop_pct",
	"funding"
};

char *
bt_text_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

double
bt_numeric_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(n)));
}

/* 22023 unless initial_cash, fee_bps and slippage_bps are usable */
void
bt_check_costs(const BtConfig *cfg)
{
	if (!(cfg->initial_cash > 0 && cfg->initial_cash <= BT_MAX_AMOUNT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial_cash must be positive and at most 1e15, not %g",
						cfg->initial_cash)));
	if (!(cfg->fee_bps >= 0 && cfg->fee_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fee_bps must be between 0 and 10000, not %g", cfg->fee_bps)));
	if (!(cfg->slippage_bps >= 0 && cfg->slippage_bps < 10000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("slippage_bps must be between 0 and 10000, not %g", cfg->slippage_bps)));
}

/*
 * Look the strategy up and set its default params into *sp; pn gets the
 * names for the checks and hints.  user_kinds admits 'signals' and
 * 'step_fn' (whose targets come from outside, so they have no params of
 * their own).  An unknown strategy is 22023 listing the accepted ones.
 */
void
bt_lookup_strategy(const char *strategy, bool user_kinds,
				   BtStrategyParams *sp, BtParamNames *pn)
{
	const double *defaults = NULL;
	StringInfoData accepted;

	pn->strategy = strategy;
	pn->source = "params";
	pn->names = NULL;
	pn->nparams = 0;
	if (user_kinds && (strcmp(strategy, "signals") == 0 || strcmp(strategy, "step_fn") == 0))
		sp->kind = BT_BUY_AND_HOLD; /* not stepped: targets come from outside */
	else if (!bt_strategy_lookup(strategy, &sp->kind, &pn->names, &pn->nparams, &defaults))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown strategy \"%s\"", strategy),
				 user_kinds
				 ? errhint("Strategies are %s, signals with a signals query and step_fn with a step function.",
						   bt_strategy_names())
				 : errhint("Strategies are %s.", bt_strategy_names())));
	for (int i = 0; i < pn->nparams; i++)
		sp->p[i] = defaults[i];

	initStringInfo(&accepted);
	for (int i = 0; i < pn->nparams; i++)
		appendStringInfo(&accepted, "%s, ", pn->names[i]);
	appendStringInfoString(&accepted, BT_COMMON_PARAMS);
	pn->accepted = accepted.data;
}

static bool
is_common(const char *key)
{
	for (size_t i = 0; i < lengthof(common_params); i++)
		if (strcmp(key, common_params[i]) == 0)
			return true;
	return false;
}

/*
 * Apply one params key: type is jsonb_typeof's name for the value, value
 * its text.  Unknown keys, wrong types and out-of-range common params are
 * 22023; the strategy's own params are checked together later
 * (bt_strategy_check), since fast < slow is about two of them.
 */
void
bt_apply_param(const BtParamNames *pn, const char *key, const char *type,
			   const char *value, BtStrategyParams *sp, BtConfig *cfg)
{
	bool		number = strcmp(type, "number") == 0;
	double		num = number ? strtod(value, NULL) : NAN;
	int			own = -1;

	for (int i = 0; i < pn->nparams; i++)
		if (strcmp(key, pn->names[i]) == 0)
			own = i;
	if (own < 0 && !is_common(key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown parameter \"%s\" for strategy %s", key, pn->strategy),
				 errhint("Parameters are %s.", pn->accepted)));
	if (strcmp(key, "allow_short") == 0)
	{
		if (strcmp(type, "boolean") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.allow_short must be true or false, not %s", pn->source, value)));
		cfg->allow_short = strcmp(value, "true") == 0;
		sp->allow_short = cfg->allow_short;
		return;
	}
	if (strcmp(key, "funding") == 0)
	{
		if (strcmp(type, "boolean") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.funding must be true or false, not %s", pn->source, value)));
		cfg->funding = strcmp(value, "true") == 0;
		return;
	}
	if (!number)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s.%s must be a number, not %s", pn->source, key, value)));
	if (own >= 0)
		sp->p[own] = num;
	else if (strcmp(key, "size_pct") == 0)
	{
		if (!(num > 0 && num <= 100))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.size_pct must be in (0, 100], not %s", pn->source, value)));
		cfg->size_pct = num;
	}
	else if (strcmp(key, "qty") == 0)
	{
		if (!(num > 0 && isfinite(num)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.qty must be a positive number, not %s", pn->source, value)));
		cfg->qty = num;
	}
	else
	{
		/* stop_loss_pct, take_profit_pct, trailing_stop_pct */
		bool		tp = strcmp(key, "take_profit_pct") == 0;

		if (!(num > 0 && (tp ? isfinite(num) : num < 100)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s.%s must be a percentage %s, not %s", pn->source, key,
							tp ? "> 0" : "in (0, 100)", value)));
		if (key[0] == 's')
			cfg->stop_loss_pct = num;
		else if (tp)
			cfg->take_profit_pct = num;
		else
			cfg->trailing_stop_pct = num;
	}
}

/*
 * Read params over the defaults in *sp and *cfg: the strategy's own and
 * the common ones, then the strategy's and the engine's checks (22023
 * with the reason).
 */
void
bt_read_params(Jsonb *params, const BtParamNames *pn, BtStrategyParams *sp, BtConfig *cfg)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {JsonbPGetDatum(params)};
	const char *why;

	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object"),
				 errhint("Keys for %s are %s.", pn->strategy, pn->accepted)));

	if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value::pg_catalog.text"
							  " FROM pg_catalog.jsonb_each($1)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read backtest params");

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;

		bt_apply_param(pn, SPI_getvalue(tup, td, 1), SPI_getvalue(tup, td, 2),
					   SPI_getvalue(tup, td, 3), sp, cfg);
	}
	if (!bt_strategy_check(sp, &why) || !bt_engine_check(cfg, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid parameters for %s: %s", pn->strategy, why)));
}
