/*
 * test/exsim/priv_events.c
 *	  The private streams' events (priv_stream.c has the logins and
 *	  faults): private.c calls pstream_order at every state change and
 *	  execution of an order, and this pushes it, in the exchange's own
 *	  format, to the account's logged-in private connections, followed by
 *	  the account's balances.
 *
 *	 Binance   executionReport, outboundAccountPosition
 *	 Bybit	   execution (a fill) then order, then wallet
 *	 OKX	   orders (a fill's fields when there is one), then account
 *	 Coinbase  user (events[].orders[], cumulative amounts)
 */
#include "private.h"

#include <string.h>

static Buf	ev;

static const char *
bn_status(PrivStatus s)
{
	static const char *names[] = {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"};

	return names[s];
}

/* the average price of what o filled, as a decimal (10^-12 precision) */
static const char *
avg_price(Exchange *ex, const PrivOrder *o)
{
	__int128	base = priv_base_units(&ex->market.sym[o->si], o->filled);

	return base > 0 ? priv_amount(o->cum_quote * PRIV_SCALE / base) : "0";
}

static void
binance_events(Exchange *ex, const PrivOrder *o, const PrivFill *f, const char *exec)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	const PrivAccount *a = &ex->priv->acct[o->acct];
	bool		cancel = o->status == PS_CANCELED && f == NULL;

	buf_reset(&ev);
	/* a cancel's c is the cancel request's own id, C the order's */
	buf_printf(&ev, "{\"e\":\"executionReport\",\"E\":%lld,\"s\":\"%s%s\",\"c\":\"%s%s\",\"S\":\"%s\",\"o\":\"%s\","
			   "\"f\":\"%s\",\"q\":\"%s\",\"p\":\"%s\",\"P\":\"0.00000000\",\"F\":\"0.00000000\",\"g\":-1,"
			   "\"C\":\"%s\",\"x\":\"%s\",\"X\":\"%s\",\"r\":\"NONE\",\"i\":%lld,",
			   (long long) now_sim_ms(), s->base, s->quote, cancel ? "web_cancel" : o->client_id,
			   cancel ? "" : "", o->buy ? "BUY" : "SELL",
			   o->market ? "MARKET" : o->post_only ? "LIMIT_MAKER" : "LIMIT",
			   o->tif[0] == 'i' ? "IOC" : o->tif[0] == 'f' ? "FOK" : "GTC",
			   fmt_qty(s, o->qty, true, 8), fmt_px(s, o->px, true, 8), cancel ? o->client_id : "",
			   exec, bn_status(o->status), (long long) o->id);
	if (f)
		buf_printf(&ev, "\"l\":\"%s\",\"z\":\"%s\",\"L\":\"%s\",\"n\":\"%s\",\"N\":\"%s\",\"T\":%lld,\"t\":%lld,",
				   fmt_qty(s, f->qty, true, 8), fmt_qty(s, o->filled, true, 8), fmt_px(s, f->px, true, 8),
				   priv_amount(f->fee), f->fee_asset, (long long) f->ts, (long long) f->trade_id);
	else
		buf_printf(&ev, "\"l\":\"0.00000000\",\"z\":\"%s\",\"L\":\"0.00000000\",\"n\":\"0\",\"N\":null,\"T\":%lld,\"t\":-1,",
				   fmt_qty(s, o->filled, true, 8), (long long) o->updated_ms);
	buf_printf(&ev, "\"v\":3,\"I\":%lld,\"w\":%s,\"m\":%s,\"M\":false,\"O\":%lld,\"Z\":\"%s\",\"Y\":\"%s\","
			   "\"Q\":\"0.00000000\",\"W\":%lld,\"V\":\"NONE\"}",
			   (long long) (o->id * 100 + (f ? f->trade_id % 100 : 0)), priv_open(o) ? "true" : "false",
			   f && f->maker ? "true" : "false", (long long) o->created_ms, priv_amount(o->cum_quote),
			   f ? priv_amount(priv_notional(s, f->px, f->qty)) : "0", (long long) o->created_ms);
	pstream_push(ex, o->acct, ev.data, ev.len);

	buf_reset(&ev);
	buf_printf(&ev, "{\"e\":\"outboundAccountPosition\",\"E\":%lld,\"u\":%lld,\"B\":[",
			   (long long) now_sim_ms(), (long long) now_sim_ms());
	for (int i = 0; i < a->nassets; i++)
		buf_printf(&ev, "%s{\"a\":\"%s\",\"f\":\"%s\",\"l\":\"%s\"}", i ? "," : "", a->asset[i],
				   priv_amount(a->free[i]), priv_amount(a->locked[i]));
	buf_lit(&ev, "]}");
	pstream_push(ex, o->acct, ev.data, ev.len);
}

static const char *
by_status(PrivStatus s)
{
	static const char *names[] = {"New", "PartiallyFilled", "Filled", "Cancelled", "Rejected", "Cancelled"};

	return names[s];
}

static void
bybit_events(Exchange *ex, const PrivOrder *o, const PrivFill *f)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	const PrivAccount *a = &ex->priv->acct[o->acct];
	int64_t		now = now_sim_ms();

	if (f)
	{
		buf_reset(&ev);
		buf_printf(&ev, "{\"id\":\"%d_%s%s_%lld\",\"topic\":\"execution\",\"creationTime\":%lld,\"data\":[{"
				   "\"category\":\"spot\",\"symbol\":\"%s%s\",\"closedSize\":\"\",\"execFee\":\"%s\","
				   "\"execId\":\"%lld\",\"execPrice\":\"%s\",\"execQty\":\"%s\",\"execType\":\"Trade\","
				   "\"execValue\":\"%s\",\"feeRate\":\"0.001\",\"tradeIv\":\"\",\"markIv\":\"\",\"blockTradeId\":\"\","
				   "\"markPrice\":\"\",\"indexPrice\":\"\",\"underlyingPrice\":\"\",\"leavesQty\":\"%s\","
				   "\"orderId\":\"%lld\",\"orderLinkId\":\"%s\",\"orderPrice\":\"%s\",\"orderQty\":\"%s\","
				   "\"orderType\":\"%s\",\"stopOrderType\":\"\",\"side\":\"%s\",\"execTime\":\"%lld\","
				   "\"isLeverage\":\"0\",\"isMaker\":%s,\"seq\":%lld,\"marketUnit\":\"\",\"execPnl\":\"0\","
				   "\"createType\":\"CreateByUser\",\"extraFees\":[],\"feeCurrency\":\"%s\"}]}",
				   o->acct, s->base, s->quote, (long long) f->trade_id, (long long) now,
				   s->base, s->quote, priv_amount(f->fee), (long long) f->trade_id,
				   fmt_px(s, f->px, false, 0), fmt_qty(s, f->qty, false, 0),
				   priv_amount(priv_notional(s, f->px, f->qty)),
				   fmt_qty(s, o->qty - o->filled, false, 0), (long long) o->id, o->client_id,
				   o->market ? "0" : fmt_px(s, o->px, false, 0), fmt_qty(s, o->qty, false, 0),
				   o->market ? "Market" : "Limit", o->buy ? "Buy" : "Sell", (long long) f->ts,
				   f->maker ? "true" : "false", (long long) f->trade_id, f->fee_asset);
		pstream_push(ex, o->acct, ev.data, ev.len);
	}
	buf_reset(&ev);
	buf_printf(&ev, "{\"id\":\"%lld-%lld\",\"topic\":\"order\",\"creationTime\":%lld,\"data\":[{"
			   "\"category\":\"spot\",\"symbol\":\"%s%s\",\"orderId\":\"%lld\",\"side\":\"%s\",\"orderType\":\"%s\","
			   "\"cancelType\":\"%s\",\"price\":\"%s\",\"qty\":\"%s\",\"orderIv\":\"\",\"timeInForce\":\"%s\","
			   "\"orderStatus\":\"%s\",\"orderLinkId\":\"%s\",\"lastPriceOnCreated\":\"\",\"reduceOnly\":false,"
			   "\"leavesQty\":\"%s\",\"leavesValue\":\"\",\"cumExecQty\":\"%s\",\"cumExecValue\":\"%s\","
			   "\"avgPrice\":\"%s\",\"blockTradeId\":\"\",\"positionIdx\":0,\"cumExecFee\":\"%s\","
			   "\"createdTime\":\"%lld\",\"updatedTime\":\"%lld\",\"rejectReason\":\"EC_NoError\","
			   "\"stopOrderType\":\"\",\"tpslMode\":\"\",\"triggerPrice\":\"\",\"takeProfit\":\"\",\"stopLoss\":\"\","
			   "\"smpType\":\"None\",\"smpGroup\":0,\"smpOrderId\":\"\",\"feeCurrency\":\"%s\"}]}",
			   (long long) o->id, (long long) o->updated_ms, (long long) now, s->base, s->quote, (long long) o->id,
			   o->buy ? "Buy" : "Sell", o->market ? "Market" : "Limit",
			   o->status == PS_CANCELED ? "CancelByUser" : "UNKNOWN",
			   o->market ? "0" : fmt_px(s, o->px, false, 0), fmt_qty(s, o->qty, false, 0),
			   o->post_only ? "PostOnly" : o->tif[0] == 'i' ? "IOC" : o->tif[0] == 'f' ? "FOK" : "GTC",
			   by_status(o->status), o->client_id,
			   fmt_qty(s, priv_open(o) ? o->qty - o->filled : 0, false, 0), fmt_qty(s, o->filled, false, 0),
			   priv_amount(o->cum_quote), avg_price(ex, o), priv_amount(o->fees), (long long) o->created_ms,
			   (long long) o->updated_ms, s->quote);
	pstream_push(ex, o->acct, ev.data, ev.len);

	buf_reset(&ev);
	buf_printf(&ev, "{\"id\":\"w%lld\",\"topic\":\"wallet\",\"creationTime\":%lld,\"data\":[{\"accountType\":\"UNIFIED\","
			   "\"accountIMRate\":\"0\",\"accountMMRate\":\"0\",\"totalPerpUPL\":\"0\","
			   "\"totalInitialMargin\":\"0\",\"totalMaintenanceMargin\":\"0\",\"coin\":[",
			   (long long) now, (long long) now);
	for (int i = 0; i < a->nassets; i++)
		buf_printf(&ev, "%s{\"coin\":\"%s\",\"equity\":\"%s\",\"usdValue\":\"\",\"walletBalance\":\"%s\","
				   "\"availableToWithdraw\":\"%s\",\"borrowAmount\":\"0\",\"accruedInterest\":\"0\","
				   "\"totalOrderIM\":\"0\",\"totalPositionIM\":\"0\",\"totalPositionMM\":\"0\","
				   "\"unrealisedPnl\":\"0\",\"cumRealisedPnl\":\"0\",\"bonus\":\"0\",\"collateralSwitch\":true,"
				   "\"marginCollateral\":true,\"locked\":\"%s\",\"spotHedgingQty\":\"0\"}",
				   i ? "," : "", a->asset[i], priv_amount(a->free[i] + a->locked[i]),
				   priv_amount(a->free[i] + a->locked[i]), priv_amount(a->free[i]), priv_amount(a->locked[i]));
	buf_lit(&ev, "]}]}");
	pstream_push(ex, o->acct, ev.data, ev.len);
}

static const char *
okx_state(PrivStatus s)
{
	static const char *names[] = {"live", "partially_filled", "filled", "canceled", "canceled", "canceled"};

	return names[s];
}

static void
okx_events(Exchange *ex, const PrivOrder *o, const PrivFill *f)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	const PrivAccount *a = &ex->priv->acct[o->acct];
	char		tid[24] = "";

	if (f)
		snprintf(tid, sizeof(tid), "%lld", (long long) f->trade_id);
	buf_reset(&ev);
	buf_printf(&ev, "{\"arg\":{\"channel\":\"orders\",\"instType\":\"SPOT\",\"uid\":\"%d\"},\"data\":[{"
			   "\"instType\":\"SPOT\",\"instId\":\"%s-%s\",\"ccy\":\"\",\"ordId\":\"%lld\",\"clOrdId\":\"%s\","
			   "\"tag\":\"\",\"px\":\"%s\",\"sz\":\"%s\",\"notionalUsd\":\"\",\"ordType\":\"%s\",\"side\":\"%s\","
			   "\"posSide\":\"\",\"tdMode\":\"cash\",\"tgtCcy\":\"\",",
			   o->acct + 1, s->base, s->quote, (long long) o->id, o->client_id,
			   o->market ? "" : fmt_px(s, o->px, false, 0), fmt_qty(s, o->qty, false, 0),
			   o->market ? "market" : o->post_only ? "post_only" : o->tif[0] == 'i' ? "ioc" : o->tif[0] == 'f' ? "fok" : "limit",
			   o->buy ? "buy" : "sell");
	/* the fill's fields: its fee negative (OKX's sign for a charge) */
	buf_printf(&ev, "\"fillPx\":\"%s\",\"tradeId\":\"%s\",\"fillSz\":\"%s\",\"fillPnl\":\"0\",\"fillTime\":\"%s\","
			   "\"fillFee\":\"%s%s\",\"fillFeeCcy\":\"%s\",\"execType\":\"%s\",",
			   f ? fmt_px(s, f->px, false, 0) : "", tid, f ? fmt_qty(s, f->qty, false, 0) : "0",
			   f ? tid : "", f && f->fee ? "-" : "", f ? priv_amount(f->fee) : "0", f ? f->fee_asset : "",
			   f ? (f->maker ? "M" : "T") : "");
	buf_printf(&ev, "\"accFillSz\":\"%s\",\"fillNotionalUsd\":\"\",\"avgPx\":\"%s\",\"state\":\"%s\","
			   "\"lever\":\"0\",\"fee\":\"%s%s\",\"feeCcy\":\"%s\",\"rebate\":\"0\",\"rebateCcy\":\"%s\","
			   "\"pnl\":\"0\",\"source\":\"\",\"cancelSource\":\"%s\",\"category\":\"normal\",\"uTime\":\"%lld\","
			   "\"cTime\":\"%lld\",\"reqId\":\"\",\"amendResult\":\"\",\"reduceOnly\":\"false\",\"quickMgnType\":\"\","
			   "\"algoClOrdId\":\"\",\"algoId\":\"\",\"lastPx\":\"\",\"code\":\"0\",\"msg\":\"\"}]}",
			   fmt_qty(s, o->filled, false, 0), o->filled ? avg_price(ex, o) : "", okx_state(o->status),
			   o->fees ? "-" : "", priv_amount(o->fees), s->quote, s->quote,
			   o->status == PS_CANCELED ? "1" : "", (long long) o->updated_ms, (long long) o->created_ms);
	pstream_push(ex, o->acct, ev.data, ev.len);

	buf_reset(&ev);
	buf_printf(&ev, "{\"arg\":{\"channel\":\"account\",\"uid\":\"%d\"},\"data\":[{\"uTime\":\"%lld\",\"totalEq\":\"\","
			   "\"isoEq\":\"0\",\"adjEq\":\"\",\"ordFroz\":\"\",\"imr\":\"\",\"mmr\":\"\",\"notionalUsd\":\"\","
			   "\"mgnRatio\":\"\",\"details\":[", o->acct + 1, (long long) now_sim_ms());
	for (int i = 0; i < a->nassets; i++)
		buf_printf(&ev, "%s{\"ccy\":\"%s\",\"eq\":\"%s\",\"cashBal\":\"%s\",\"uTime\":\"%lld\",\"isoEq\":\"0\","
				   "\"availEq\":\"%s\",\"disEq\":\"\",\"availBal\":\"%s\",\"frozenBal\":\"%s\",\"ordFrozen\":\"%s\","
				   "\"liab\":\"0\",\"upl\":\"0\",\"uplLiab\":\"0\",\"crossLiab\":\"0\",\"isoLiab\":\"0\","
				   "\"mgnRatio\":\"\",\"interest\":\"0\",\"twap\":\"0\",\"maxLoan\":\"\",\"eqUsd\":\"\","
				   "\"notionalLever\":\"\",\"stgyEq\":\"0\",\"isoUpl\":\"0\"}",
				   i ? "," : "", a->asset[i], priv_amount(a->free[i] + a->locked[i]),
				   priv_amount(a->free[i] + a->locked[i]), (long long) now_sim_ms(), priv_amount(a->free[i]),
				   priv_amount(a->free[i]), priv_amount(a->locked[i]), priv_amount(a->locked[i]));
	buf_lit(&ev, "]}]}");
	pstream_push(ex, o->acct, ev.data, ev.len);
}

static const char *
cb_status(PrivStatus s)
{
	static const char *names[] = {"OPEN", "OPEN", "FILLED", "CANCELLED", "FAILED", "EXPIRED"};

	return names[s];
}

static void
coinbase_events(Exchange *ex, const PrivOrder *o)
{
	const MkSymbol *s = &ex->market.sym[o->si];
	char		created[40];
	int			nfills = 0;

	for (int i = 0; i < ex->priv->nfills; i++)
		if (&ex->priv->orders[ex->priv->fills[i].order] == o)
			nfills++;
	fmt_rfc3339(created, sizeof(created), o->created_ms, true);
	buf_reset(&ev);
	buf_printf(&ev, "{\"type\":\"update\",\"orders\":[{\"avg_price\":\"%s\",\"cancel_reason\":\"\","
			   "\"client_order_id\":\"%s\",\"completion_percentage\":\"%d\",\"contract_expiry_type\":\"UNKNOWN_CONTRACT_EXPIRY_TYPE\","
			   "\"cumulative_quantity\":\"%s\",\"filled_value\":\"%s\",\"leaves_quantity\":\"%s\",\"limit_price\":\"%s\","
			   "\"number_of_fills\":\"%d\",\"order_id\":\"%lld\",\"order_side\":\"%s\",\"order_type\":\"%s\","
			   "\"outstanding_hold_amount\":\"0\",\"post_only\":\"%s\",\"product_id\":\"%s-%s\",\"product_type\":\"SPOT\","
			   "\"reject_reason\":\"\",\"retail_portfolio_id\":\"\",\"risk_managed_by\":\"UNKNOWN_RISK_MANAGEMENT_TYPE\","
			   "\"status\":\"%s\",\"stop_price\":\"\",\"time_in_force\":\"%s\",\"total_fees\":\"%s\","
			   "\"total_value_after_fees\":\"\",\"trigger_status\":\"INVALID_ORDER_TYPE\",\"creation_time\":\"%s\","
			   "\"end_time\":\"0001-01-01T00:00:00Z\",\"start_time\":\"0001-01-01T00:00:00Z\"}]}",
			   o->filled ? avg_price(ex, o) : "0", o->client_id, (int) (o->qty ? o->filled * 100 / o->qty : 0),
			   fmt_qty(s, o->filled, false, 0), priv_amount(o->cum_quote),
			   fmt_qty(s, priv_open(o) ? o->qty - o->filled : 0, false, 0),
			   o->market ? "" : fmt_px(s, o->px, false, 0), nfills, (long long) o->id, o->buy ? "BUY" : "SELL",
			   o->market ? "Market" : "Limit", o->post_only ? "true" : "false", s->base, s->quote,
			   cb_status(o->status),
			   o->tif[0] == 'i' ? "IMMEDIATE_OR_CANCEL" : o->tif[0] == 'f' ? "FILL_OR_KILL" : "GOOD_UNTIL_CANCELLED",
			   priv_amount(o->fees), created);
	pstream_push_coinbase(ex, o->acct, ev.data, ev.len);
}

/*
 * Order oi changed: f the execution that changed it, or NULL (placed,
 * canceled, expired).  Pushed to the account's private connections.
 */
void
pstream_order(Exchange *ex, int oi, const PrivFill *f)
{
	const PrivOrder *o = &ex->priv->orders[oi];
	const char *name = ex->ad->name;

	if (ex->futures)
		return;
	if (strcmp(name, "binance") == 0)
		binance_events(ex, o, f, f ? "TRADE" : o->status == PS_CANCELED ? "CANCELED" :
					   o->status == PS_EXPIRED ? "EXPIRED" : o->status == PS_REJECTED ? "REJECTED" : "NEW");
	else if (strcmp(name, "bybit") == 0)
		bybit_events(ex, o, f);
	else if (strcmp(name, "okx") == 0)
		okx_events(ex, o, f);
	else if (strcmp(name, "coinbase") == 0)
		coinbase_events(ex, o);
}
