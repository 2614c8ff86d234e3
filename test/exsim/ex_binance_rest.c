/*
 * test/exsim/ex_binance_rest.c
 *	  Binance's public REST market data (/api/v3/: ping, time,
 *	  exchangeInfo, depth, klines, trades, historicalTrades, aggTrades)
 *	  and, with ex->futures, USD-M futures' the same under /fapi/v1/
 *	  (fundingRate and exchangeInfo from ex_funding.c); the request
 *	  weights and the per-minute limit.  The streams are ex_binance.c's.
 *
 * Facts from test/fixtures/exchanges/binance.md and binance_futures.md:
 * prices and sizes are strings with 8 decimals, ids and times numbers;
 * the depth snapshot's lastUpdateId shares the depth stream's id space;
 * klines page 1000 bars at most (futures 1500), the open bar included;
 * every request weighs what Binance documents, counted per real-time
 * minute against --weight-limit (futures: 2/5 of it), past which a
 * request gets 429 and Retry-After until the minute ends.
 */
#include "exsim.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int
bn_rest_symbol(Exchange *ex, ExConn *c, const char *args)
{
	char		sym[40];
	int			si = -1;

	if (url_arg(args, "symbol", sym, sizeof(sym)))
	{
		for (char *p = sym; *p; p++)
			*p = (char) tolower((unsigned char) *p);
		si = binance_symbol(ex, sym, strlen(sym));
	}
	if (si < 0)
	{
		buf_reset(&c->body);
		buf_add(&c->body, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", 38);
	}
	return si;
}

/*
 * Request weight of an endpoint, as Binance documents them; USD-M futures
 * (fapi) weigh klines and depth by their limit, trades 20.
 */
static int
bn_weight(Exchange *ex, const char *path, const char *args)
{
	char		v[16];
	int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 500;

	if (ex->futures)
	{
		if (strcmp(path, "/api/v3/klines") == 0)
			return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
		if (strcmp(path, "/api/v3/depth") == 0)
			return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
		if (strcmp(path, "/api/v3/aggTrades") == 0 || strcmp(path, "/api/v3/historicalTrades") == 0 ||
			strcmp(path, "/api/v3/trades") == 0)
			return 20;
		return 1;
	}
	if (strcmp(path, "/api/v3/historicalTrades") == 0 || strcmp(path, "/api/v3/trades") == 0)
		return 25;
	if (strcmp(path, "/api/v3/exchangeInfo") == 0)
		return 20;
	if (strcmp(path, "/api/v3/depth") == 0)
		return 5;
	if (strcmp(path, "/api/v3/aggTrades") == 0)
		return 4;
	if (strcmp(path, "/api/v3/klines") == 0)
		return 2;
	return 1;
}

/*
 * Count the request's weight in the current minute (real time); over
 * --weight-limit, the request gets 429 and Retry-After until the minute
 * ends, as Binance answers.  Every response says the minute's weight.
 */
static bool
bn_over_weight(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	int64_t		now = now_real_ms();
	/* futures: 2400 a minute where spot has 6000 (2/5 of --weight-limit) */
	int			limit = ex->futures ? sim.weight_limit * 2 / 5 : sim.weight_limit;

	if (now - ex->weight_window_ms >= 60000)
	{
		ex->weight_window_ms = now - now % 60000;
		ex->weight_used = 0;
	}
	/* --weight-limit 0: no limit, and no header to pace a client by */
	if (sim.weight_limit <= 0)
		return false;
	ex->weight_used += bn_weight(ex, path, args);
	c->used_weight = ex->weight_used;
	if (ex->weight_used <= limit)
		return false;
	c->retry_after = (int) ((ex->weight_window_ms + 60000 - now + 999) / 1000);
	return true;
}

static int
bn_exchange_info(Exchange *ex, ExConn *c)
{
	bool		first = true;

	buf_printf(&c->body, "{\"timezone\":\"UTC\",\"serverTime\":%lld,\"rateLimits\":["
			   "{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":6000},"
			   "{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":100},"
			   "{\"rateLimitType\":\"RAW_REQUESTS\",\"interval\":\"MINUTE\",\"intervalNum\":5,\"limit\":61000}],"
			   "\"exchangeFilters\":[],\"symbols\":[", (long long) now_sim_ms());
	for (int i = 0; i < ex->market.nsymbols; i++)
	{
		MkSymbol   *s = &ex->market.sym[i];
		char		upper[40];

		if (s->perp)
			continue;
		binance_upper(s, upper, sizeof(upper));
		buf_printf(&c->body,
				   "%s{\"symbol\":\"%s\",\"status\":\"TRADING\",\"baseAsset\":\"%s\",\"baseAssetPrecision\":8,"
				   "\"quoteAsset\":\"%s\",\"quotePrecision\":8,\"quoteAssetPrecision\":8,"
				   "\"baseCommissionPrecision\":8,\"quoteCommissionPrecision\":8,"
				   "\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\",\"STOP_LOSS_LIMIT\",\"TAKE_PROFIT_LIMIT\"],"
				   "\"icebergAllowed\":true,\"ocoAllowed\":true,\"quoteOrderQtyMarketAllowed\":true,"
				   "\"isSpotTradingAllowed\":true,\"isMarginTradingAllowed\":false,"
				   "\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"%s\",\"maxPrice\":\"1000000.00000000\",\"tickSize\":\"%s\"},"
				   "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"%s\",\"maxQty\":\"9000.00000000\",\"stepSize\":\"%s\"},"
				   "{\"filterType\":\"MIN_NOTIONAL\",\"minNotional\":\"5.00000000\",\"applyToMarket\":true,\"avgPriceMins\":5},"
				   "{\"filterType\":\"MAX_NUM_ORDERS\",\"maxNumOrders\":200}],"
				   "\"permissions\":[]}",
				   first ? "" : ",", upper, s->base, s->quote,
				   fmt_px(s, 1, true, BINANCE_DEC), fmt_px(s, 1, true, BINANCE_DEC),
				   fmt_qty(s, s->min_qty, true, BINANCE_DEC), fmt_qty(s, 1, true, BINANCE_DEC));
		first = false;
	}
	buf_add(&c->body, "]}", 2);
	return 200;
}

static int
bn_depth(Exchange *ex, ExConn *c, const char *args)
{
	char		v[64];
	MkBook		b;
	int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 100;
	MkBook		delta;
	uint64_t	prev,
				seq;
	int			si;

	if ((si = bn_rest_symbol(ex, c, args)) < 0)
		return 400;
	if (limit < 1 || limit > 5000)
	{
		buf_reset(&c->body);
		buf_add(&c->body, "{\"code\":-1100,\"msg\":\"Illegal characters found in parameter 'limit'.\"}", 71);
		return 400;
	}
	/*
	 * The snapshot is the last published book, in the depth stream's id
	 * space.  With no connection streaming the symbol's diffs nothing
	 * publishes it, so it is published here: else it stayed as the first
	 * call found it while the market moved on.
	 */
	if (!ex->book_valid[si] || !binance_book_streamed(ex, si))
		ex_book_update(ex, si, MK_BOOK_DEPTH, &delta, &prev, &seq);
	b = ex->book[si];
	if (b.nbids > limit)
		b.nbids = b.nasks = limit;
	buf_printf(&c->body, "{\"lastUpdateId\":%llu,\"bids\":", (unsigned long long) ex->book_seq[si]);
	binance_levels(&c->body, &ex->market.sym[si], b.bids, b.nbids);
	buf_add(&c->body, ",\"asks\":", 8);
	binance_levels(&c->body, &ex->market.sym[si], b.asks, b.nasks);
	buf_add(&c->body, "}", 1);
	return 200;
}

static void
bn_kline_rows(ExConn *c, MkSymbol *s, int iv, const MkKline **rows, int from, int to)
{
	buf_add(&c->body, "[", 1);
	for (int i = from; i < to; i++)
	{
		const MkKline *k = rows[i];

		buf_printf(&c->body, "%s[%lld,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",%lld,\"%s\",%lld,\"%s\",\"%s\",\"0\"]",
				   i > from ? "," : "", (long long) k->open_ts,
				   fmt_px(s, k->o, true, BINANCE_DEC), fmt_px(s, k->h, true, BINANCE_DEC),
				   fmt_px(s, k->l, true, BINANCE_DEC), fmt_px(s, k->c, true, BINANCE_DEC),
				   fmt_qty(s, k->vol, true, BINANCE_DEC),
				   (long long) (k->open_ts + mk_interval_ms[iv] - 1),
				   fmt_quote_vol(s, k->quote_vol, true, BINANCE_DEC), (long long) k->count,
				   fmt_qty(s, k->taker_buy_vol, true, BINANCE_DEC),
				   fmt_quote_vol(s, k->taker_buy_quote, true, BINANCE_DEC));
	}
	buf_add(&c->body, "]", 1);
}

static int
bn_klines(Exchange *ex, ExConn *c, const char *args)
{
	char		v[64];
	int			iv = -1;
	int			limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 500;
	int64_t		start = url_arg(args, "startTime", v, sizeof(v)) ? atoll(v) : 0;
	int64_t		end = url_arg(args, "endTime", v, sizeof(v)) ? atoll(v) : INT64_MAX;
	const MkKline *rows[1501];
	int			n,
				from,
				si;
	MkSymbol   *s;

	if ((si = bn_rest_symbol(ex, c, args)) < 0)
		return 400;
	s = &ex->market.sym[si];
	if (url_arg(args, "interval", v, sizeof(v)))
		for (int i = 0; i < MK_NIV; i++)
			if (strcmp(v, binance_iv_names[i]) == 0)
				iv = i;
	if (iv < 0)
	{
		buf_reset(&c->body);
		buf_add(&c->body, "{\"code\":-1120,\"msg\":\"Invalid interval.\"}", 40);
		return 400;
	}
	if (limit < 1)
		limit = 500;
	/* spot pages 1000 bars at most, USD-M futures 1500 */
	if (limit > (ex->futures ? 1500 : 1000))
		limit = ex->futures ? 1500 : 1000;
	/* with startTime: the first `limit`; without: the latest */
	n = ex_klines(ex, si, iv, start, end, start <= 0, rows, limit);
	/* the open bucket counts too */
	if (s->cur[iv].open_ts >= start && s->cur[iv].open_ts <= end && n < 1501)
		rows[n++] = &s->cur[iv];
	from = start > 0 ? 0 : (n > limit ? n - limit : 0);
	bn_kline_rows(c, s, iv, rows, from, from + limit < n ? from + limit : n);
	return 200;
}

/*
 * The symbol and page size the trade lists share: `limit` 1 to 1000,
 * 500 when absent or out of range.  -1 (and the error body) for an unknown
 * symbol.
 */
static int
bn_trade_args(Exchange *ex, ExConn *c, const char *args, int *limit)
{
	char		v[16];

	*limit = url_arg(args, "limit", v, sizeof(v)) ? atoi(v) : 500;
	if (*limit < 1 || *limit > 1000)
		*limit = 500;
	return bn_rest_symbol(ex, c, args);
}

/* /trades (the latest) and /historicalTrades (?fromId=: from that id on) */
static int
bn_trades(Exchange *ex, ExConn *c, const char *args, bool historical)
{
	char		v[64];
	const MkTrade *rows[1000];
	int			n,
				limit,
				si;
	MkSymbol   *s;

	if ((si = bn_trade_args(ex, c, args, &limit)) < 0)
		return 400;
	s = &ex->market.sym[si];
	if (historical && url_arg(args, "fromId", v, sizeof(v)))
		n = trades_since(ex, si, atoll(v), INT64_MIN, INT64_MAX, rows, limit);
	else
		n = recent_trades(ex, si, rows, limit);
	buf_add(&c->body, "[", 1);
	for (int i = 0; i < n; i++)
	{
		__int128	qq = (__int128) rows[i]->px * rows[i]->qty;

		buf_printf(&c->body, "%s{\"id\":%llu,\"price\":\"%s\",\"qty\":\"%s\",\"quoteQty\":\"%s\",\"time\":%lld,"
				   "\"isBuyerMaker\":%s,\"isBestMatch\":true}",
				   i ? "," : "", (unsigned long long) rows[i]->id,
				   fmt_px(s, rows[i]->px, true, BINANCE_DEC), fmt_qty(s, rows[i]->qty, true, BINANCE_DEC),
				   fmt_quote_vol(s, qq, true, BINANCE_DEC), (long long) rows[i]->ts,
				   rows[i]->taker_buy ? "false" : "true");
	}
	buf_add(&c->body, "]", 1);
	return 200;
}

static int
bn_agg_trades(Exchange *ex, ExConn *c, const char *args)
{
	char		v[64];
	int64_t		from = url_arg(args, "startTime", v, sizeof(v)) ? atoll(v) : INT64_MIN;
	int64_t		to = url_arg(args, "endTime", v, sizeof(v)) ? atoll(v) + 1 : INT64_MAX;
	int64_t		from_id = url_arg(args, "fromId", v, sizeof(v)) ? atoll(v) + 500000 : -1;
	const MkTrade *rows[1000];
	int			n,
				limit,
				si;
	MkSymbol   *s;

	if ((si = bn_trade_args(ex, c, args, &limit)) < 0)
		return 400;
	s = &ex->market.sym[si];
	/* one trade per aggregate here: a = t - 500000, as on the stream */
	n = trades_since(ex, si, from_id, from, to, rows, limit);
	buf_add(&c->body, "[", 1);
	for (int i = 0; i < n; i++)
		buf_printf(&c->body, "%s{\"a\":%llu,\"p\":\"%s\",\"q\":\"%s\",\"f\":%llu,\"l\":%llu,\"T\":%lld,\"m\":%s,\"M\":true}",
				   i ? "," : "", (unsigned long long) (rows[i]->id - 1000000 + 500000),
				   fmt_px(s, rows[i]->px, true, BINANCE_DEC), fmt_qty(s, rows[i]->qty, true, BINANCE_DEC),
				   (unsigned long long) rows[i]->id, (unsigned long long) rows[i]->id,
				   (long long) rows[i]->ts, rows[i]->taker_buy ? "false" : "true");
	buf_add(&c->body, "]", 1);
	return 200;
}

static int
bn_too_many(Exchange *ex, ExConn *c)
{
	buf_reset(&c->body);
	buf_printf(&c->body, "{\"code\":-1003,\"msg\":\"Too many requests; current limit of IP(127.0.0.1) is %d requests per minute. Please use the websocket for live updates to avoid polling the API.\"}",
			   ex->futures ? sim.weight_limit * 2 / 5 : sim.weight_limit);
	return 429;
}

static int
bn_unknown_path(ExConn *c, const char *path)
{
	buf_printf(&c->body, "{\"code\":-1000,\"msg\":\"Unknown path %s\"}", path);
	return 404;
}

int
binance_rest(Exchange *ex, ExConn *c, const char *path, const char *args)
{
	char		spot_path[256];
	int			si;

	/* futures: /fapi/v1/X answers as /api/v3/X (exchangeInfo aside) */
	if (ex->futures && strcmp(path, "/__429") != 0)
	{
		if (strncmp(path, "/fapi/v1/", 9) != 0)
			return bn_unknown_path(c, path);
		snprintf(spot_path, sizeof(spot_path), "/api/v3/%s", path + 9);
		path = spot_path;
		if (strcmp(path, "/api/v3/exchangeInfo") == 0 && !bn_over_weight(ex, c, path, args))
		{
			binance_futures_info(ex, &c->body);
			return 200;
		}
	}

	if (strcmp(path, "/__429") == 0 || bn_over_weight(ex, c, path, args))
		return bn_too_many(ex, c);
	if (ex->futures && strcmp(path, "/api/v3/fundingRate") == 0)
	{
		if ((si = bn_rest_symbol(ex, c, args)) < 0)
			return 400;
		binance_funding_history(ex, si, args, &c->body);
		return 200;
	}
	if (strcmp(path, "/api/v3/ping") == 0)
	{
		buf_add(&c->body, "{}", 2);
		return 200;
	}
	if (strcmp(path, "/api/v3/time") == 0)
	{
		buf_printf(&c->body, "{\"serverTime\":%lld}", (long long) now_sim_ms());
		return 200;
	}
	if (strcmp(path, "/api/v3/exchangeInfo") == 0)
		return bn_exchange_info(ex, c);
	if (strcmp(path, "/api/v3/depth") == 0)
		return bn_depth(ex, c, args);
	if (strcmp(path, "/api/v3/klines") == 0)
		return bn_klines(ex, c, args);
	if (strcmp(path, "/api/v3/trades") == 0)
		return bn_trades(ex, c, args, false);
	if (strcmp(path, "/api/v3/historicalTrades") == 0)
		return bn_trades(ex, c, args, true);
	if (strcmp(path, "/api/v3/aggTrades") == 0)
		return bn_agg_trades(ex, c, args);
	return bn_unknown_path(c, path);
}
