/*
 * test/exsim/ex_funding.c
 *	  Mark price and funding of the simulated Binance USD-M perpetuals:
 *	  @markPrice[@1s] updates, funding times, their settlement in the
 *	  record, and the futures exchangeInfo.
 *
 * Every --mark-ms (1000) real ms each perpetual publishes a
 * markPriceUpdate: mark "p" = the last trade price, index "i" = the mark
 * less a few ticks, funding rate "r" of the next funding time "T".
 * Funding times are the multiples of --funding-interval (8 h of sim time;
 * seconds for tests) since the epoch, as Binance's 00:00/08:00/16:00.
 * The rate of a funding time is a function of the seed, the symbol and
 * that time alone (funding_rate_e8): -0.0003 to +0.0007 in steps of
 * 10^-6, so the same seed publishes the same rates.
 *
 * The record gets every update published ({"channel":"funding", ...},
 * whether or not anyone listens) and, when the sim clock passes a
 * funding time, one {"channel":"funding_settlement"} line with the rate
 * and mark of the last update published before it: what a position held
 * across that time pays (longs pay qty x mark x rate when positive).
 * The same settlements, the last FUNDING_KEPT of each symbol, are
 * GET /fapi/v1/fundingRate's history (fundingTime, fundingRate,
 * markPrice), as Binance serves it (startTime/endTime inclusive, oldest
 * first, limit default 100, at most 1000).
 */
#include "exsim.h"

#include <stdlib.h>
#include <string.h>

#define FUNDING_KEPT 8192

typedef struct FundingSettled
{
	int64_t		funding_ms;
	int64_t		rate_e8;
	int64_t		mark_px;		/* ticks */
} FundingSettled;

/* splitmix64: a well-mixed hash of one 64-bit word */
static uint64_t
mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

int64_t
funding_rate_e8(uint64_t seed, const MkSymbol *s, int64_t funding_ms)
{
	uint64_t	h = mix64(seed ^ mix64((uint64_t) funding_ms));

	for (const char *p = s->name; *p; p++)
		h = mix64(h ^ (uint8_t) *p);
	/* -300 .. +700 millionths, as 10^-8 units */
	return ((int64_t) (h % 1001) - 300) * 100;
}

static const char *
fmt_rate(int64_t e8, char *buf, size_t len)
{
	mk_fmt_units(buf, len, e8, 8, true);
	return buf;
}

/* One markPriceUpdate of symbol si at sim_ms: publish, record. */
static void
publish_mark(Exchange *ex, int si, int64_t sim_ms)
{
	MkSymbol   *s = &ex->market.sym[si];
	char		lower[40],
				upper[40],
				stream[64],
				rate[32];

	ex->mark_px[si] = s->last_px;
	ex->index_px[si] = s->last_px - (int64_t) (mix64(sim.seed ^ (uint64_t) sim_ms) % 5);
	ex->rate_e8[si] = funding_rate_e8(sim.seed, s, ex->next_funding_ms[si]);
	ex->mark_ts[si] = sim_ms;
	fmt_rate(ex->rate_e8[si], rate, sizeof(rate));
	binance_lower(s, lower, sizeof(lower));
	snprintf(upper, sizeof(upper), "%s%s", s->base, s->quote);
	buf_reset(&ex->scratch);
	buf_printf(&ex->scratch,
			   "{\"e\":\"markPriceUpdate\",\"E\":%lld,\"s\":\"%s\",\"p\":\"%s\",\"i\":\"%s\","
			   "\"P\":\"%s\",\"r\":\"%s\",\"T\":%lld}",
			   (long long) sim_ms, upper, fmt_px(s, ex->mark_px[si], true, BINANCE_DEC),
			   fmt_px(s, ex->index_px[si], true, BINANCE_DEC), fmt_px(s, ex->index_px[si], true, BINANCE_DEC),
			   rate, (long long) ex->next_funding_ms[si]);
	snprintf(stream, sizeof(stream), "%s@markPrice@1s", lower);
	binance_fanout(ex, si, SUB_MARK, stream);
	if (sim.record)
		fprintf(sim.record,
				"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"funding\",\"ts\":%lld,"
				"\"mark\":\"%s\",\"index\":\"%s\",\"rate\":\"%s\",\"next_funding\":%lld}\n",
				ex->ad->name, s->name, (long long) sim_ms, fmt_px(s, ex->mark_px[si], false, 0),
				fmt_px(s, ex->index_px[si], false, 0), rate, (long long) ex->next_funding_ms[si]);
}

/* The sim clock passed funding time T of si: record what it settled at. */
static void
settle(Exchange *ex, int si)
{
	MkSymbol   *s = &ex->market.sym[si];
	char		rate[32];

	if (ex->mark_ts[si] == 0)
		return;					/* nothing was published for T */
	if (!ex->settled[si])
		ex->settled[si] = calloc(FUNDING_KEPT, sizeof(FundingSettled));
	if (ex->settled[si])
	{
		FundingSettled *f = &ex->settled[si][ex->settled_n[si] % FUNDING_KEPT];

		f->funding_ms = ex->next_funding_ms[si];
		f->rate_e8 = ex->rate_e8[si];
		f->mark_px = ex->mark_px[si];
		ex->settled_n[si]++;
	}
	if (!sim.record)
		return;
	fprintf(sim.record,
			"{\"exchange\":\"%s\",\"symbol\":\"%s\",\"channel\":\"funding_settlement\","
			"\"funding_time\":%lld,\"rate\":\"%s\",\"mark\":\"%s\",\"source_ts\":%lld}\n",
			ex->ad->name, s->name, (long long) ex->next_funding_ms[si],
			fmt_rate(ex->rate_e8[si], rate, sizeof(rate)), fmt_px(s, ex->mark_px[si], false, 0),
			(long long) ex->mark_ts[si]);
}

void
funding_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms)
{
	int64_t		iv = sim.funding_interval_ms;
	bool		push = real_ms - ex->last_mark_ms >= sim.mark_ms;

	if (push)
		ex->last_mark_ms = real_ms;
	for (int si = 0; si < ex->market.nsymbols; si++)
	{
		if (!ex->market.sym[si].perp)
			continue;
		/* the funding times passed since the last tick, each settled once */
		if (ex->next_funding_ms[si] == 0)
			ex->next_funding_ms[si] = (sim_ms / iv + 1) * iv;
		while (sim_ms >= ex->next_funding_ms[si])
		{
			settle(ex, si);
			ex->mark_ts[si] = 0;
			ex->next_funding_ms[si] += iv;
			push = true;		/* the new funding time goes out at once */
		}
		if (push)
			publish_mark(ex, si, sim_ms);
	}
}

/* GET /fapi/v1/exchangeInfo: the perpetuals, as Binance USD-M lists them. */
void
binance_futures_info(Exchange *ex, Buf *body)
{
	bool		first = true;

	buf_printf(body, "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"futuresType\":\"U_MARGINED\","
			   "\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":2400}],"
			   "\"exchangeFilters\":[],\"assets\":[],\"symbols\":[", (long long) now_sim_ms());
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		MkSymbol   *s = &ex->market.sym[i];

		if (!s->perp)
			continue;
		buf_printf(body,
				   "%s{\"symbol\":\"%s%s\",\"pair\":\"%s%s\",\"contractType\":\"PERPETUAL\","
				   "\"deliveryDate\":4133404800000,\"status\":\"TRADING\",\"baseAsset\":\"%s\","
				   "\"quoteAsset\":\"%s\",\"marginAsset\":\"%s\",\"pricePrecision\":%d,\"quantityPrecision\":%d,"
				   "\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"maxPrice\":\"4529764\",\"minPrice\":\"%s\",\"tickSize\":\"%s\"},"
				   "{\"filterType\":\"LOT_SIZE\",\"maxQty\":\"1000\",\"minQty\":\"%s\",\"stepSize\":\"%s\"},"
				   "{\"filterType\":\"MIN_NOTIONAL\",\"notional\":\"5\"}],"
				   "\"orderTypes\":[\"LIMIT\",\"MARKET\"],\"timeInForce\":[\"GTC\",\"IOC\",\"FOK\",\"GTX\"]}",
				   first ? "" : ",", s->base, s->quote, s->base, s->quote, s->base, s->quote, s->quote,
				   s->px_dec, s->qty_dec, fmt_px(s, 1, false, 0), fmt_px(s, 1, false, 0),
				   fmt_qty(s, s->min_qty, false, 0), fmt_qty(s, 1, false, 0));
		first = false;
	}
	buf_add(body, "]}", 2);
}

/*
 * GET /fapi/v1/fundingRate?symbol&startTime&endTime&limit: the funding
 * times of si settled in [startTime, endTime], oldest first, at most
 * limit; without startTime the latest limit up to endTime.
 */
void
binance_funding_history(Exchange *ex, int si, const char *args, Buf *body)
{
	MkSymbol   *s = &ex->market.sym[si];
	char		v[32],
				rate[32],
				upper[40];
	int64_t		from = url_arg(args, "startTime", v, sizeof(v)) ? atoll(v) : INT64_MIN;
	int64_t		to = url_arg(args, "endTime", v, sizeof(v)) ? atoll(v) : INT64_MAX;
	int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
	int			n = ex->settled_n[si];
	int			lo = n > FUNDING_KEPT ? n - FUNDING_KEPT : 0;
	int			first = -1,
				last = -1,
				out = 0;

	if (limit < 1 || limit > 1000)
		limit = limit < 1 ? 100 : 1000;
	for (int k = lo; k < n; k++)
	{
		const FundingSettled *f = &ex->settled[si][k % FUNDING_KEPT];

		if (f->funding_ms < from || f->funding_ms > to)
			continue;
		if (first < 0)
			first = k;
		last = k;
	}
	snprintf(upper, sizeof(upper), "%s%s", s->base, s->quote);
	buf_add(body, "[", 1);
	if (first >= 0 && from == INT64_MIN && last - first + 1 > limit)
		first = last - limit + 1;
	for (int k = first; first >= 0 && k <= last && out < limit; k++)
	{
		const FundingSettled *f = &ex->settled[si][k % FUNDING_KEPT];

		buf_printf(body, "%s{\"symbol\":\"%s\",\"fundingTime\":%lld,\"fundingRate\":\"%s\",\"markPrice\":\"%s\"}",
				   out ? "," : "", upper, (long long) f->funding_ms,
				   fmt_rate(f->rate_e8, rate, sizeof(rate)), fmt_px(s, f->mark_px, true, BINANCE_DEC));
		out++;
	}
	buf_add(body, "]", 1);
}
