/*-------------------------------------------------------------------------
 *
 * src/trading/place_order.c
 *	  zvt._place_order(): the body of zvt.place_order, in C, as a short
 *	  sequence of named steps.
 *
 * The trampoline (ledger_call.c) calls this as the ledger's owner with the
 * caller's oid first.  The steps (zvt_place_order at the end of the file):
 *
 *	1. parse and validate the arguments (order_args.c);
 *	2. find the account, if the caller may use it, and the instrument, by
 *	   index scans under the statement's snapshot (here);
 *	3. take the account's lock (base/locks.c) and push the snapshot the
 *	   account's state is read under (ledger_rows.c: under REPEATABLE READ
 *	   and SERIALIZABLE a change the transaction's snapshot misses is a
 *	   serialization failure);
 *	4. answer a client_order_id retry with the original order (here);
 *	5. price the order from the market bus (order_price.c), and from the
 *	   instrument's live order book when one is subscribed (book/walk.c);
 *	6. decide: post_only, then the risk check (risk_sql.c) without SQL;
 *	7. write the order, its first two events and its exposure
 *	   (order_write.c);
 *	8. a taker fills through the PL/pgSQL zvt._fill, a non-marketable
 *	   ioc/fok expires through zvt._close_order, anything else rests for
 *	   the paper matcher; a live order stays pending_new (the outbox) and
 *	   its exchange's router is woken when the transaction commits
 *	   (src/live/router.c, sql/58_router.sql).
 *
 * An account the caller may not use is reported exactly as one that does
 * not exist (42704, "unknown account"), so that errors tell nobody which
 * accounts exist.  Messages, SQLSTATEs and every value written are those
 * of the PL/pgSQL body this replaced (test/sql/trading.sql is the
 * specification); numeric arithmetic goes through the numeric type's own
 * functions so the results are exactly those SQL computes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "portability/instr_time.h"

#include "base/export.h"
#include "base/locks.h"
#include "book/walk.h"
#include "live/route.h"
#include "live/router.h"
#include "trading/ledger.h"
#include "trading/matcher.h"
#include "trading/order.h"
#include "trading/trading.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_place_order);

static Datum place_order_steps(FunctionCallInfo fcinfo);

/* indexed by TradingRel */
static const char *const place_names[TR_COUNT] = {
	"accounts", "accounts_name_key", "account_grants", "account_grants_pkey",
	"instruments", "instruments_exchange_symbol_key",
	"orders", "orders_account_id_client_order_id_key",
	"exposure", "exposure_pkey", "order_events",
	"orders_order_id_seq", "order_events_event_id_seq"
};

/*
 * Per backend: oids and the PL/pgSQL helpers.  Not per call site: the
 * trampoline's FmgrInfo, and so this function's, is made anew by every
 * execution of a prepared statement.  It belongs to one version of
 * zvt._place_order (fn_oid); a new one (the extension dropped and created
 * again) builds it again.
 */
typedef struct PlaceCache
{
	Oid			fn_oid;
	MemoryContext mcxt;
	Oid			nsp;
	Oid			oid[TR_COUNT];
	FmgrInfo	fill;			/* zvt._fill */
	FmgrInfo	close;			/* zvt._close_order */
	RiskLedger *risk;
} PlaceCache;

/* The account an order is placed on, as read before its lock. */
typedef struct PlaceAccount
{
	LedgerRow	row;
	int32		id;
	char	   *name;
	char	   *exchange;		/* NULL: trades anywhere */
	bool		live;			/* a live account: the order goes to its router */
} PlaceAccount;

static PlaceCache *place_cache_current = NULL;

/* ----------------------------------------------------------------
 * the cache
 * ----------------------------------------------------------------
 */
static void
lookup_helper(PlaceCache *c, const char *name, int nargs, Oid *argtypes, FmgrInfo *out)
{
	Oid			fn = LookupFuncName(list_make2(makeString(get_namespace_name(c->nsp)),
											   makeString(pstrdup(name))),
									nargs, argtypes, false);

	fmgr_info_cxt(fn, out, c->mcxt);
}

static PlaceCache *
place_cache(FmgrInfo *flinfo)
{
	PlaceCache *c = place_cache_current;
	MemoryContext mcxt;
	Oid			accounts_type;
	Oid			orders_type;

	if (c && c->fn_oid == flinfo->fn_oid)
		return c;
	if (c)
	{
		/* an older zvt._place_order's */
		place_cache_current = NULL;
		MemoryContextDelete(c->mcxt);
	}
	mcxt = AllocSetContextCreate(TopMemoryContext, "zvt place_order cache",
								 ALLOCSET_SMALL_SIZES);
	c = MemoryContextAllocZero(mcxt, sizeof(PlaceCache));
	c->mcxt = mcxt;
	c->fn_oid = flinfo->fn_oid;
	c->nsp = get_func_namespace(flinfo->fn_oid);
	ledger_relation_oids(c->nsp, place_names, TR_COUNT, c->oid);
	accounts_type = get_rel_type_id(c->oid[TR_ACCOUNTS]);
	orders_type = get_rel_type_id(c->oid[TR_ORDERS]);
	lookup_helper(c, "_fill", 7, (Oid[]) {accounts_type, orders_type, NUMERICOID, NUMERICOID,
		TEXTOID, TIMESTAMPTZOID, BOOLOID}, &c->fill);
	lookup_helper(c, "_close_order", 4, (Oid[]) {orders_type, TEXTOID, TEXTOID, BOOLOID},
				  &c->close);
	c->risk = risk_ledger_create(c->nsp, mcxt);
	place_cache_current = c;
	return c;
}

/* call a PL/pgSQL helper returning zvt.orders */
static Datum
call_helper(FmgrInfo *fn, int nargs, Datum *args, bool *nulls)
{
	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, fn, nargs, InvalidOid, NULL, NULL);
	for (int i = 0; i < nargs; i++)
	{
		fcinfo->args[i].value = args[i];
		fcinfo->args[i].isnull = nulls[i];
	}
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "zvt helper %u returned NULL", fn->fn_oid);
	return result;
}

/* ----------------------------------------------------------------
 * step 2: the account and the instrument
 * ----------------------------------------------------------------
 */

/* may caller use account_id through a grant (to a role whose privileges it has)? */
static bool
granted(PlaceCache *c, int32 account_id, Oid caller)
{
	LedgerScan	s;
	ScanKeyData key;
	int			attno;
	bool		ok = false;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(account_id));
	ledger_scan_begin(&s, c->oid[TR_GRANTS], c->oid[TR_GRANTS_PKEY], &key, 1, false);
	attno = ledger_attno(s.rel, "grantee");
	while (!ok && ledger_scan_next_lazy(&s))
	{
		bool		isnull;
		Datum		grantee = slot_getattr(s.slot, attno, &isnull);

		ok = !isnull && has_privs_of_role(caller, DatumGetObjectId(grantee));
	}
	ledger_scan_end(&s);
	return ok;
}

/*
 * The account named o->account into a, if the caller may use it (owner,
 * grantee or zvt_admin).  One error for an account that does not exist and
 * one the caller may not use: 42704, so that it tells nobody which
 * accounts exist.  A live account is 0A000: naming what its exchange
 * lacks when the order's type or flags have no native form there
 * (src/live/route.c), or while zvt.live_trading is off.
 */
static void
account_find(PlaceCache *c, const OrderArgs *o, PlaceAccount *a)
{
	ScanKeyData key;
	bool		found = false;
	Oid			owner;

	a->live = false;
	if (o->account != NULL)
	{
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(o->account));
		found = ledger_fetch_row(c->oid[TR_ACCOUNTS], c->oid[TR_ACCOUNTS_NAME], &key, 1, false,
								 &a->row);
	}
	if (found)
	{
		a->id = DatumGetInt32(ledger_row_get(&a->row, "account_id"));
		owner = DatumGetObjectId(ledger_row_get(&a->row, "owner"));
		found = has_privs_of_role(o->caller, owner) ||
			has_privs_of_role(o->caller, get_role_oid("zvt_admin", false)) ||
			granted(c, a->id, o->caller);
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown account \"%s\"", o->account ? o->account : "NULL"),
				 errhint("zvt.accounts lists the accounts you may use; zvt.create_account makes one.")));
	a->name = ledger_row_text(&a->row, "name");
	a->exchange = ledger_row_text(&a->row, "exchange");
	if (strcmp(ledger_row_text(&a->row, "kind"), "live") == 0)
	{
		const char *exchange = a->exchange ? a->exchange : o->exchange;
		LiveOrder	lo = {o->symbol, o->dir > 0, order_type_names[o->type], NULL, NULL,
		order_tif_names[o->tif], o->post_only, o->reduce_only, NULL};
		const char *missing = live_exchange(exchange) == LX_NONE ? NULL :
			live_unsupported(live_exchange(exchange), &lo);

		if (missing)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s live orders do not support %s", exchange, missing),
					 errdetail("Account \"%s\" is a live account on %s; nothing was placed.", a->name, exchange),
					 errhint("docs/live-trading.md lists what each exchange supports.")));
		if (!zvt_live_trading)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("live trading is disabled"),
					 errdetail("Account \"%s\" is a live account and zvt.live_trading is off, so nothing was placed.",
							   a->name),
					 errhint("A superuser enables it with ALTER SYSTEM SET zvt.live_trading = on and a reload; docs/live-trading.md.")));
		a->live = true;
	}
}

/*
 * Raise the 42704 of zvt._instrument_id for an instrument the statement's
 * snapshot does not show.  The query runs read-only, under that same
 * snapshot: an instrument another session committed since cannot make it
 * succeed where the index scan failed (it used to take a new snapshot,
 * find the instrument, and send the caller round a loop for ever).
 */
static void
instrument_unknown(const OrderArgs *o)
{
	Datum		args[2];
	char		nulls[2];

	args[0] = o->exchange ? CStringGetTextDatum(o->exchange) : (Datum) 0;
	args[1] = o->symbol ? CStringGetTextDatum(o->symbol) : (Datum) 0;
	nulls[0] = o->exchange ? ' ' : 'n';
	nulls[1] = o->symbol ? ' ' : 'n';
	SPI_connect();
	if (SPI_execute_with_args("SELECT zvt._instrument_id($1, $2)", 2,
							  (Oid[]) {TEXTOID, TEXTOID}, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt._instrument_id failed");
	SPI_finish();
	elog(ERROR, "zvt instrument %s %s is seen by one read of a snapshot and not by another",
		 o->exchange, o->symbol);
}

/* The instrument (o->exchange, o->symbol) into ins, or 42704 naming what is unknown. */
static void
instrument_find(PlaceCache *c, const OrderArgs *o, OrderInstrument *ins)
{
	ScanKeyData keys[2];
	LedgerRow	r;

	if (o->exchange == NULL || o->symbol == NULL)
		instrument_unknown(o);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(o->exchange));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(o->symbol));
	if (!ledger_fetch_row(c->oid[TR_INSTRUMENTS], c->oid[TR_INSTRUMENTS_SYMBOL], keys, 2, false,
						  &r))
		instrument_unknown(o);
	ins->id = DatumGetInt32(ledger_row_get(&r, "id"));
	ins->tid = r.tid;
	ins->exchange = ledger_row_text(&r, "exchange");
	ins->symbol = ledger_row_text(&r, "symbol");
	ins->status = ledger_row_text(&r, "status");
	ins->lot_size = ledger_row_get_null(&r, "lot_size", &ins->has_lot);
	ins->has_lot = !ins->has_lot;
	ins->tick_size = ledger_row_get_null(&r, "tick_size", &ins->has_tick);
	ins->has_tick = !ins->has_tick;
	ins->min_notional = ledger_row_get_null(&r, "min_notional", &ins->has_min_notional);
	ins->has_min_notional = !ins->has_min_notional;
}

/* ----------------------------------------------------------------
 * step 4: client_order_id retries
 * ----------------------------------------------------------------
 */

/* a nullable numeric column of prev equal to (has, v) */
static bool
same_num(const LedgerRow *prev, const char *name, bool has, Datum v)
{
	bool		isnull;
	Datum		p = ledger_row_get_null(prev, name, &isnull);

	return isnull == !has && (isnull || num_cmp(p, v) == 0);
}

/*
 * An order of the account with o's client_order_id: true and the original
 * order in *out when it has o's arguments (a retry places nothing), 23505
 * when it has others; false when the id is new.  Under the account's lock.
 */
static bool
client_order_retry(PlaceCache *c, const OrderArgs *o, const PlaceAccount *a,
				   const OrderInstrument *ins, Datum *out)
{
	ScanKeyData keys[2];
	LedgerRow	prev;
	const char *side = o->dir == 1 ? "buy" : "sell";
	char	   *type;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(a->id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(o->client_order_id));
	if (!ledger_fetch_row(c->oid[TR_ORDERS], c->oid[TR_ORDERS_CLIENT_ID], keys, 2, true, &prev))
		return false;
	type = ledger_row_text(&prev, "type");
	if (DatumGetInt32(ledger_row_get(&prev, "instrument_id")) == ins->id &&
		strcmp(ledger_row_text(&prev, "side"), side) == 0 &&
		num_cmp(ledger_row_get(&prev, "qty"), o->qty) == 0 &&
		strcmp(type, order_type_names[o->type]) == 0 &&
		strcmp(ledger_row_text(&prev, "tif"), order_tif_names[o->tif]) == 0 &&
		DatumGetBool(ledger_row_get(&prev, "post_only")) == o->post_only &&
		DatumGetBool(ledger_row_get(&prev, "reduce_only")) == o->reduce_only &&
		same_num(&prev, "price", o->has_price, o->price) &&
		same_num(&prev, "trail_pct", o->has_trail, o->trail_pct) &&
		(o->type == ORDER_TRAILING_STOP || same_num(&prev, "stop_price", o->has_stop, o->stop_price)))
	{
		*out = heap_copy_tuple_as_datum(prev.tuple, prev.desc);
		return true;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("client_order_id \"%s\" was already used for a different order",
					o->client_order_id),
			 errdetail("Order %lld: %s %s %s %s.",
					   (long long) DatumGetInt64(ledger_row_get(&prev, "order_id")),
					   ledger_row_text(&prev, "side"), num_str(ledger_row_get(&prev, "qty")),
					   ledger_row_text(&prev, "symbol"), type)));
	return false;
}

/* ----------------------------------------------------------------
 * steps 5 and 6: the order's prices and its verdict
 * ----------------------------------------------------------------
 */

/* The prices w is written with: a trailing stop's trigger, the reference price. */
static void
price_order(const OrderArgs *o, const OrderInstrument *ins, const OrderPrices *p, OrderRow *w)
{
	w->has_stop = o->has_stop;
	w->stop_price = o->stop_price;
	w->has_trail_ref = false;
	w->trail_ref = (Datum) 0;
	if (o->type == ORDER_TRAILING_STOP)
	{
		w->has_trail_ref = true;
		w->trail_ref = p->mkt;
		w->has_stop = true;
		w->stop_price = order_trailing_stop(p->mkt, o->trail_pct, o->dir, ins->has_tick,
											ins->tick_size);
	}
	w->ref = order_reference_price(o, p, w->has_stop, w->stop_price);
	order_check_min_notional(o, ins, w->ref);
}

/* Why the order is rejected (post_only, then the risk check), or NULL. */
static const char *
order_verdict(PlaceCache *c, const OrderArgs *o, const PlaceAccount *a, const OrderPrices *p,
			  const OrderRow *w, bool marketable)
{
	RiskCheckInput in;

	if (o->post_only && marketable)
		return psprintf("post_only: limit %s would take liquidity at %s",
						num_str(o->price), num_str(p->touch));
	in.account_id = a->id;
	in.account_tid = (ItemPointer) &a->row.tid;
	in.instrument_id = w->ins->id;
	in.buy = o->dir == 1;
	in.qty = o->qty;
	in.type = o->type;
	in.tif = o->tif;
	in.has_price = o->has_price;
	in.price = o->price;
	in.reduce_only = o->reduce_only;
	in.ref = w->ref;
	in.has_mkt = p->has_mkt;
	in.mkt = p->mkt;
	return risk_check_order(c->risk, &in);
}

/* ----------------------------------------------------------------
 * step 8: what becomes of an accepted order
 * ----------------------------------------------------------------
 */

/*
 * A taker at once: a market order at the touch moved by slippage, a
 * marketable limit at the touch; on a live order book both pay the VWAP
 * of the levels they take instead of the touch (the limit none beyond its
 * price).
 */
static Datum
take(PlaceCache *c, const OrderArgs *o, const PlaceAccount *a, const OrderInstrument *ins,
	 const OrderPrices *p, Datum order)
{
	Datum		args[7];
	bool		nulls[7] = {false};
	bool		quoted = (o->dir == 1 && p->has_ask) || (o->dir == -1 && p->has_bid);
	TimestampTz ts = quoted ? p->e.quote_ts : p->e.last_ts;
	Datum		price = p->touch;
	Datum		walked;

	if (p->has_walk)
		price = p->walk;
	else if (o->type == ORDER_LIMIT && book_walk_price(ins->id, o->dir, o->qty, true, o->price, &walked))
		price = walked;

	if (o->type == ORDER_MARKET)
		price = num_trim(num_mul(price,
								 num_add(num_int(1),
										 num_div(num_mul(num_int(o->dir),
														 ledger_row_get(&a->row, "slippage_bps")),
												 num_int(10000)))));
	args[0] = heap_copy_tuple_as_datum(a->row.tuple, a->row.desc);
	args[1] = order;
	args[2] = o->qty;
	args[3] = price;
	args[4] = CStringGetTextDatum("taker");
	args[5] = TimestampTzGetDatum(ts);
	nulls[5] = !p->have_bus || ts == 0;
	args[6] = BoolGetDatum(false);
	return call_helper(&c->fill, 7, args, nulls);
}

/* an ioc or fok limit that is not marketable expires at once */
static Datum
expire(PlaceCache *c, const OrderArgs *o, const OrderPrices *p, Datum order)
{
	Datum		args[4];
	bool		nulls[4] = {false};

	args[0] = order;
	args[1] = CStringGetTextDatum("expired");
	args[2] = CStringGetTextDatum(psprintf("%s limit %s not marketable (touch %s)",
										   order_tif_names[o->tif], num_str(o->price),
										   p->has_touch ? num_str(p->touch) : "unknown"));
	args[3] = BoolGetDatum(false);
	return call_helper(&c->close, 4, args, nulls);
}

/* ----------------------------------------------------------------
 * zvt._place_order
 * ----------------------------------------------------------------
 */

/*
 * zvt._place_order(caller oid, account text, exchange text, symbol text,
 *   side text, qty numeric, type text, price numeric, stop_price numeric,
 *   trail_pct numeric, tif text, client_order_id text, post_only bool,
 *   reduce_only bool) RETURNS zvt.orders
 *
 * The steps, timed: each call that returns (an order placed, rejected or
 * retried) counts in the place_order latency histogram (paper_matcher.c's
 * shared memory, served by the metrics endpoint); an error counts nothing.
 */
Datum
zvt_place_order(PG_FUNCTION_ARGS)
{
	instr_time	start;
	instr_time	took;
	Datum		order;

	INSTR_TIME_SET_CURRENT(start);
	order = place_order_steps(fcinfo);
	INSTR_TIME_SET_CURRENT(took);
	INSTR_TIME_SUBTRACT(took, start);
	order_latency_record((int64) INSTR_TIME_GET_MICROSEC(took));
	return order;
}

/* The steps of zvt._place_order (see the head of the file). */
static Datum
place_order_steps(FunctionCallInfo fcinfo)
{
	PlaceCache *c = place_cache(fcinfo->flinfo);
	OrderArgs	o;
	PlaceAccount a;
	OrderInstrument ins;
	OrderPrices p;
	OrderRow	w;
	bool		marketable;
	Datum		order;

	/* 1, 2: an invalid order, or one on an account or instrument not found, writes nothing */
	order_args_parse(fcinfo, &o);
	account_find(c, &o, &a);
	instrument_find(c, &o, &ins);
	order_check_instrument(&o, &ins, a.exchange, a.name);

	/* 3: from here on the account's state must not move under us */
	zvt_lock_account(a.id);
	ledger_snapshot_push();

	/* 4 */
	if (o.client_order_id != NULL && client_order_retry(c, &o, &a, &ins, &order))
	{
		ledger_snapshot_pop();
		PG_RETURN_DATUM(order);
	}

	/* 5, 6 */
	order_prices_read(&o, &ins, &p);
	memset(&w, 0, sizeof(w));
	w.args = &o;
	w.account_id = a.id;
	w.account_tid = a.row.tid;
	w.ins = &ins;
	w.prices = &p;
	price_order(&o, &ins, &p, &w);
	marketable = order_marketable(&o, &p);
	w.reason = order_verdict(c, &o, &a, &p, &w, marketable);
	w.live = a.live;
	/* a live order counts as open from its commit until the exchange closes it */
	w.rests = w.reason == NULL && (a.live || (!marketable && o.tif == ORDER_GTC));

	/* 7 */
	order = order_write(c->oid, &w);
	ledger_snapshot_pop();

	/* 8 */
	if (w.reason != NULL)
		PG_RETURN_DATUM(order);
	if (a.live)
	{
		/* the outbox: the exchange's router sends it once this commits */
		router_wake_at_commit(ins.exchange);
		PG_RETURN_DATUM(order);
	}
	if (marketable)
		PG_RETURN_DATUM(take(c, &o, &a, &ins, &p, order));
	if (o.tif != ORDER_GTC)
		PG_RETURN_DATUM(expire(c, &o, &p, order));
	/* rests (counted in zvt.exposure): the paper matcher takes it from here */
	paper_orders_rest();
	PG_RETURN_DATUM(order);
}
