/*
 * test/fuzz/fuzz_backtest_params.c
 *	  libFuzzer harness for a backtest's params and grid keys
 *	  (src/backtest/param_apply.c), then the strategy's and the engine's
 *	  checks (bt_strategy_check, bt_engine_check) over what they set.
 *
 * The first byte picks the strategy; the rest is split at NUL bytes into
 * key, JSON type and value triples, as params.c reads them from jsonb.
 * A refused key must leave a message and change nothing; whatever passes
 * both checks must be a configuration the engine accepts (finite sizes,
 * stops in range).
 */
#include "backtest/param_apply.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const strategies[] = {
	"sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "donchian_breakout", "buy_and_hold"
};

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	BtParamSpec spec;
	BtStrategyParams sp;
	BtConfig	cfg;
	const double *defaults = NULL;
	const char *why;
	char	   *s;
	char	   *p,
			   *end;
	const char *part[3];
	int			n = 0;

	if (size < 1)
		return 0;
	memset(&sp, 0, sizeof(sp));
	memset(&cfg, 0, sizeof(cfg));
	cfg.initial_cash = 10000;
	cfg.size_pct = 100;
	spec.strategy = strategies[data[0] % (sizeof(strategies) / sizeof(strategies[0]))];
	spec.source = (data[0] & 0x80) ? "grid" : "params";
	if (!bt_strategy_lookup(spec.strategy, &sp.kind, &spec.names, &spec.nparams, &defaults))
		return 0;				/* buy_and_hold may not be in the table */
	for (int i = 0; i < spec.nparams; i++)
		sp.p[i] = defaults[i];

	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	end = s + size - 1;
	for (p = s; p <= end; p += strlen(p) + 1)
	{
		part[n++] = p;
		if (n == 3)
		{
			BtStrategyParams sp0 = sp;
			BtConfig	cfg0 = cfg;
			char		msg[BT_PARAM_MSG_LEN];

			msg[0] = '\0';
			if (bt_param_apply(&spec, part[0], part[1], part[2], &sp, &cfg, msg, sizeof(msg)) != BT_PARAM_OK &&
				(msg[0] == '\0' || memcmp(&sp0, &sp, sizeof(sp)) != 0 || memcmp(&cfg0, &cfg, sizeof(cfg)) != 0))
				abort();
			n = 0;
		}
	}
	if (bt_strategy_check(&sp, &why) && bt_engine_check(&cfg, &why))
	{
		if (!(cfg.size_pct > 0 && cfg.size_pct <= 100) || cfg.qty < 0 || !isfinite(cfg.qty) ||
			cfg.stop_loss_pct < 0 || cfg.stop_loss_pct >= 100)
			abort();
	}
	else if (why == NULL)
		abort();
	free(s);
	return 0;
}
