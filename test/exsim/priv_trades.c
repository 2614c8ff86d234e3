/*
 * test/exsim/priv_trades.c
 *	  The private API's fill histories, in each exchange's format and
 *	  with its pagination (the exchanges' files call these after their
 *	  own authentication):
 *	 Binance   GET /api/v3/myTrades?symbol=&fromId=&limit= (default 500,
 *			   at most 1000; ascending; without fromId the latest)
 *	 Bybit	   GET /v5/execution/list?category=spot&limit=&cursor= (default
 *			   50, at most 100; newest first; nextPageCursor)
 *	 OKX	   GET /api/v5/trade/fills?instType=SPOT&after=&before=&limit=
 *			   (at most 100; newest first; after/before are bill ids)
 *	 Coinbase  GET /api/v3/brokerage/orders/historical/fills?limit=&cursor=
 *			   (newest first; cursor)
 * A fill's fee is in the asset the account paid it in (private.h).
 * Cursors are the simulator's own (an offset), opaque to a client.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#define OKX_BILL_BASE	5000000000LL	/* OKX bill ids: distinct from trade ids, ascending */

/* the account's fills, oldest first, optionally of one symbol (si >= 0): their count */
static int
account_fills(Exchange *ex, int a, int si, int *out)
{
	int			n = 0;

	for (int i = 0; i < ex->priv->nfills; i++)
	{
		const PrivOrder *o = &ex->priv->orders[ex->priv->fills[i].order];

		if (o->acct == a && (si < 0 || o->si == si))
			out[n++] = i;
	}
	return n;
}

/* GET /api/v3/myTrades: the HTTP status; the body in c */
int
priv_trades_binance(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	char		v[48];
	int			si,
				n,
				lim,
				from = 0,
				count = 0;
	int		   *idx;
	int64_t		from_id = -1;

	if (!priv_param(r, "symbol", v, sizeof(v)) || (si = priv_symbol(ex, v, false)) < 0)
	{
		buf_lit(&c->body, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
		return 400;
	}
	if ((lim = priv_page_limit(r, "limit", 500, 1000)) == 0)
	{
		buf_lit(&c->body, "{\"code\":-1130,\"msg\":\"Data sent for parameter 'limit' is not valid.\"}");
		return 400;
	}
	if (priv_param(r, "fromId", v, sizeof(v)))
		from_id = atoll(v);
	idx = malloc(sizeof(int) * (ex->priv->nfills + 1));
	n = account_fills(ex, a, si, idx);
	if (from_id >= 0)
		while (from < n && ex->priv->fills[idx[from]].trade_id < from_id)
			from++;
	else
		from = n > lim ? n - lim : 0;
	buf_lit(&c->body, "[");
	for (int k = from; k < n && count < lim; k++, count++)
	{
		const PrivFill *f = &ex->priv->fills[idx[k]];
		const PrivOrder *o = &ex->priv->orders[f->order];
		const MkSymbol *s = &ex->market.sym[o->si];

		buf_printf(&c->body, "%s{\"symbol\":\"%s%s\",\"id\":%lld,\"orderId\":%lld,\"orderListId\":-1,"
				   "\"price\":\"%s\",\"qty\":\"%s\",\"quoteQty\":\"%s\",\"commission\":\"%s\","
				   "\"commissionAsset\":\"%s\",\"time\":%lld,\"isBuyer\":%s,\"isMaker\":%s,\"isBestMatch\":true}",
				   count ? "," : "", s->base, s->quote, (long long) f->trade_id, (long long) o->id,
				   fmt_px(s, f->px, true, 8), fmt_qty(s, f->qty, true, 8),
				   priv_amount(priv_notional(s, f->px, f->qty)), priv_amount(f->fee), f->fee_asset,
				   (long long) f->ts, o->buy ? "true" : "false", f->maker ? "true" : "false");
	}
	buf_lit(&c->body, "]");
	free(idx);
	return 200;
}

/* GET /v5/execution/list: its result object into res; false on a bad parameter */
bool
priv_trades_bybit(Exchange *ex, Buf *res, const PrivRequest *r, int a)
{
	char		v[48];
	int			n,
				lim,
				off = 0,
				count = 0,
				si = -1;
	int		   *idx;

	if (!url_arg(r->args, "category", v, sizeof(v)) || strcmp(v, "spot") != 0 ||
		(lim = priv_page_limit(r, "limit", 50, 100)) == 0)
		return false;
	if (url_arg(r->args, "symbol", v, sizeof(v)) && (si = priv_symbol(ex, v, false)) < 0)
		return false;
	if (url_arg(r->args, "cursor", v, sizeof(v)) && v[0])
		off = atoi(v);
	idx = malloc(sizeof(int) * (ex->priv->nfills + 1));
	n = account_fills(ex, a, si, idx);
	buf_lit(res, "{\"category\":\"spot\",\"list\":[");
	for (int k = n - 1 - off; k >= 0 && count < lim; k--, count++)
	{
		const PrivFill *f = &ex->priv->fills[idx[k]];
		const PrivOrder *o = &ex->priv->orders[f->order];
		const MkSymbol *s = &ex->market.sym[o->si];

		buf_printf(res, "%s{\"symbol\":\"%s%s\",\"orderType\":\"%s\",\"underlyingPrice\":\"\",\"orderLinkId\":\"%s\","
				   "\"side\":\"%s\",\"indexPrice\":\"\",\"orderId\":\"%lld\",\"stopOrderType\":\"\",\"leavesQty\":\"0\","
				   "\"execTime\":\"%lld\",\"feeCurrency\":\"%s\",\"isMaker\":%s,\"execFee\":\"%s\",\"feeRate\":\"0.001\","
				   "\"execId\":\"%lld\",\"tradeIv\":\"\",\"blockTradeId\":\"\",\"markPrice\":\"\",\"execPrice\":\"%s\","
				   "\"markIv\":\"\",\"orderQty\":\"%s\",\"orderPrice\":\"%s\",\"execValue\":\"%s\",\"execType\":\"Trade\","
				   "\"execQty\":\"%s\",\"closedSize\":\"\",\"extraFees\":\"\",\"seq\":%lld}",
				   count ? "," : "", s->base, s->quote, o->market ? "Market" : "Limit", o->client_id,
				   o->buy ? "Buy" : "Sell", (long long) o->id, (long long) f->ts, f->fee_asset,
				   f->maker ? "true" : "false", priv_amount(f->fee), (long long) f->trade_id,
				   fmt_px(s, f->px, false, 0), fmt_qty(s, o->qty, false, 0),
				   o->market ? "0" : fmt_px(s, o->px, false, 0), priv_amount(priv_notional(s, f->px, f->qty)),
				   fmt_qty(s, f->qty, false, 0), (long long) f->trade_id);
	}
	if (n - off - count > 0)
		buf_printf(res, "],\"nextPageCursor\":\"%d\"}", off + count);
	else
		buf_lit(res, "],\"nextPageCursor\":\"\"}");
	free(idx);
	return true;
}

/* GET /api/v5/trade/fills: its data array into d; false on a bad parameter */
bool
priv_trades_okx(Exchange *ex, Buf *d, const PrivRequest *r, int a)
{
	char		v[48];
	int			n,
				lim,
				hi,
				lo = 0,
				count = 0,
				si = -1;
	int		   *idx;

	if ((lim = priv_page_limit(r, "limit", 100, 100)) == 0)
		return false;
	if (url_arg(r->args, "instType", v, sizeof(v)) && strcmp(v, "SPOT") != 0)
		return false;
	if (url_arg(r->args, "instId", v, sizeof(v)) && (si = priv_symbol(ex, v, true)) < 0)
		return false;
	idx = malloc(sizeof(int) * (ex->priv->nfills + 1));
	n = account_fills(ex, a, si, idx);
	hi = n - 1;
	/* after: older than that bill; before: newer than it (the page next to it) */
	if (url_arg(r->args, "after", v, sizeof(v)))
		while (hi >= 0 && ex->priv->fills[idx[hi]].trade_id + OKX_BILL_BASE >= atoll(v))
			hi--;
	if (url_arg(r->args, "before", v, sizeof(v)))
	{
		while (lo < n && ex->priv->fills[idx[lo]].trade_id + OKX_BILL_BASE <= atoll(v))
			lo++;
		if (hi - lo + 1 > lim)
			hi = lo + lim - 1;
	}
	buf_lit(d, "[");
	for (int k = hi; k >= lo && count < lim; k--, count++)
	{
		const PrivFill *f = &ex->priv->fills[idx[k]];
		const PrivOrder *o = &ex->priv->orders[f->order];
		const MkSymbol *s = &ex->market.sym[o->si];

		buf_printf(d, "%s{\"instType\":\"SPOT\",\"instId\":\"%s-%s\",\"tradeId\":\"%lld\",\"ordId\":\"%lld\","
				   "\"clOrdId\":\"%s\",\"billId\":\"%lld\",\"subType\":\"%s\",\"tag\":\"\",\"fillPx\":\"%s\","
				   "\"fillSz\":\"%s\",\"fillIdxPx\":\"\",\"fillPnl\":\"0\",\"fillPxVol\":\"\",\"fillPxUsd\":\"\","
				   "\"fillMarkVol\":\"\",\"fillFwdPx\":\"\",\"fillMarkPx\":\"\",\"side\":\"%s\",\"posSide\":\"net\","
				   "\"execType\":\"%s\",\"feeCcy\":\"%s\",\"fee\":\"%s%s\",\"ts\":\"%lld\",\"fillTime\":\"%lld\"}",
				   count ? "," : "", s->base, s->quote, (long long) f->trade_id, (long long) o->id, o->client_id,
				   (long long) (f->trade_id + OKX_BILL_BASE), o->buy ? "1" : "2", fmt_px(s, f->px, false, 0),
				   fmt_qty(s, f->qty, false, 0), o->buy ? "buy" : "sell", f->maker ? "M" : "T", f->fee_asset,
				   f->fee ? "-" : "", priv_amount(f->fee), (long long) f->ts, (long long) f->ts);
	}
	buf_lit(d, "]");
	free(idx);
	return true;
}

/* GET /api/v3/brokerage/orders/historical/fills: the HTTP status; the body in c */
int
priv_trades_coinbase(Exchange *ex, ExConn *c, const PrivRequest *r, int a)
{
	char		v[64];
	char		when[40];
	int			n,
				lim,
				off = 0,
				count = 0;
	int		   *idx;

	if ((lim = priv_page_limit(r, "limit", 100, 1000)) == 0)
	{
		buf_lit(&c->body, "{\"error\":\"INVALID_ARGUMENT\",\"code\":3,\"message\":\"invalid limit\"}");
		return 400;
	}
	if (url_arg(r->args, "cursor", v, sizeof(v)) && v[0])
		off = atoi(v);
	idx = malloc(sizeof(int) * (ex->priv->nfills + 1));
	n = account_fills(ex, a, -1, idx);
	buf_lit(&c->body, "{\"fills\":[");
	for (int k = n - 1 - off; k >= 0 && count < lim; k--, count++)
	{
		const PrivFill *f = &ex->priv->fills[idx[k]];
		const PrivOrder *o = &ex->priv->orders[f->order];
		const MkSymbol *s = &ex->market.sym[o->si];

		fmt_rfc3339(when, sizeof(when), f->ts, true);
		buf_printf(&c->body, "%s{\"entry_id\":\"e%lld\",\"trade_id\":\"t-%lld\",\"order_id\":\"%lld\","
				   "\"trade_time\":\"%s\",\"trade_type\":\"FILL\",\"price\":\"%s\",\"size\":\"%s\","
				   "\"commission\":\"%s\",\"product_id\":\"%s-%s\",\"sequence_timestamp\":\"%s\","
				   "\"liquidity_indicator\":\"%s\",\"size_in_quote\":false,\"user_id\":\"exsim-%d\",\"side\":\"%s\","
				   "\"retail_portfolio_id\":\"\"}",
				   count ? "," : "", (long long) f->trade_id, (long long) f->trade_id, (long long) o->id, when,
				   fmt_px(s, f->px, false, 0), fmt_qty(s, f->qty, false, 0), priv_amount(f->fee), s->base,
				   s->quote, when, f->maker ? "MAKER" : "TAKER", a, o->buy ? "BUY" : "SELL");
	}
	if (n - off - count > 0)
		buf_printf(&c->body, "],\"cursor\":\"%d\"}", off + count);
	else
		buf_lit(&c->body, "],\"cursor\":\"\"}");
	free(idx);
	return 200;
}
