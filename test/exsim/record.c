/*
 * test/exsim/record.c
 *	  zvt-exsim's record (--record): one JSON line per trade, closed kline
 *	  and quote emitted, so a test can prove each landed exactly once.
 */
#define _GNU_SOURCE
#include "exsim.h"

#include <stdio.h>

/*
 * Binance's spot exchange carries the -PERP symbols of the list in its
 * market too (so every exchange's market is seeded alike) but serves
 * none of them: those are binance-futures'.  Their trades and klines are
 * not recorded, so "binance" BTC-USDT-PERP in the record is fapi's.
 */
static bool
unserved(const Exchange *ex, const MkSymbol *s)
{
	return ex->ad == &binance_adapter && s->perp != ex->futures;
}

void
record_trade(Exchange *ex, MkSymbol *s, const MkTrade *t)
{
	char		id[64];

	if (!sim.record || unserved(ex, s))
		return;
	if (ex->ad->trade_id)
		ex->ad->trade_id(s, t, id, sizeof(id));
	else
		snprintf(id, sizeof(id), "%llu", (unsigned long long) t->id);
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"trades\",\"id\":\"%s\","
			"\"ts\":%lld,\"price\":\"%s\",\"qty\":\"%s\",\"side\":\"%s\"}\n",
			ex->ad->name, s->name, id, (long long) t->ts,
			fmt_px(s, t->px, false, 0), fmt_qty(s, t->qty, false, 0),
			t->taker_buy ? "buy" : "sell");
}

void
record_kline(Exchange *ex, MkSymbol *s, int iv, const MkKline *k)
{
	if (!sim.record || unserved(ex, s))
		return;
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"candles\",\"interval_ms\":%lld,"
			"\"ts\":%lld,\"open\":\"%s\",\"high\":\"%s\",\"low\":\"%s\",\"close\":\"%s\","
			"\"volume\":\"%s\",\"quote_volume\":\"%s\",\"trade_count\":%lld}\n",
			ex->ad->name, s->name, (long long) mk_interval_ms[iv], (long long) k->open_ts,
			fmt_px(s, k->o, false, 0), fmt_px(s, k->h, false, 0), fmt_px(s, k->l, false, 0),
			fmt_px(s, k->c, false, 0), fmt_qty(s, k->vol, false, 0),
			fmt_quote_vol(s, k->quote_vol, false, 0), (long long) k->count);
}

void
record_quote(Exchange *ex, MkSymbol *s, uint64_t seq)
{
	if (!sim.record)
		return;
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"quotes\",\"seq\":%llu,"
			"\"ts\":%lld,\"bid\":\"%s\",\"bid_qty\":\"%s\",\"ask\":\"%s\",\"ask_qty\":\"%s\"}\n",
			ex->ad->name, s->name, (unsigned long long) seq, (long long) now_sim_ms(),
			fmt_px(s, s->bid, false, 0), fmt_qty(s, s->bid_qty, false, 0),
			fmt_px(s, s->ask, false, 0), fmt_qty(s, s->ask_qty, false, 0));
}
