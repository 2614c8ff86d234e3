/*-------------------------------------------------------------------------
 *
 * src/trading/risk_sql.c
 *	  zvt._risk_check(): gather what the pre-trade risk check needs and run
 *	  it (src/trading/risk.c).
 *
 * zvt._place_order (place_order.c) calls risk_check_order() under the
 * account's lock (base/locks.c), as the ledger's owner; zvt._risk_check()
 * is the same check from SQL.  The inputs are read by direct index scans
 * of the ledger tables (an account row, its holdings, limits, exposure,
 * balances, recent orders and today's PnL) through ledger_rows.c rather
 * than through SQL: a check takes a few microseconds instead of a dozen
 * executor startups.  Marks come straight from the market bus.  The caller
 * pushes the snapshot of ledger_snapshot_push() after the lock, so the
 * check sees every order the lock's previous holders committed (and, under
 * REPEATABLE READ or SERIALIZABLE, fails with 40001 when the transaction's
 * own snapshot missed one).  An account whose owner role no longer exists
 * is checked as halted (RISK_STATE_ORPHANED).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "bus/bus.h"
#include "trading/ledger.h"
#include "trading/risk.h"
#include "trading/trading.h"

PG_FUNCTION_INFO_V1(zvt_risk_check);

/* The ledger's relations and the indexes the check reads, per call site. */
typedef enum LedgerRel
{
	L_ACCOUNTS,
	L_ACCOUNTS_PKEY,
	L_INSTRUMENTS,
	L_INSTRUMENTS_PKEY,
	L_HOLDINGS,
	L_HOLDINGS_PKEY,
	L_RISK_LIMITS,
	L_RISK_LIMITS_SCOPE,
	L_EXPOSURE,
	L_EXPOSURE_PKEY,
	L_BALANCES,
	L_BALANCES_PKEY,
	L_ORDERS,
	L_ORDERS_ACCOUNT_TIME,
	L_DAILY_PNL,
	L_DAILY_PNL_PKEY,
	L_COUNT
} LedgerRel;

static const char *const ledger_names[L_COUNT] = {
	"accounts", "accounts_pkey", "instruments", "instruments_pkey",
	"holdings", "holdings_pkey", "risk_limits", "risk_limits_scope",
	"exposure", "exposure_pkey", "balances", "balances_pkey",
	"orders", "orders_account_time_idx", "daily_pnl", "daily_pnl_pkey"
};

/* What an instrument is, for the rows of other instruments of the account. */
typedef struct InstrumentInfo
{
	int32		id;
	bool		spot;
	char	   *base;
	char	   *quote;
	char	   *symbol;
} InstrumentInfo;

/*
 * Per call site or per backend (RiskLedger): the relations' oids and the
 * instruments seen so far.  An instrument's kind and assets never change
 * while it exists; a deleted id that comes back is looked up again after
 * the cache fills.  A full cache is emptied at the start of the next check
 * (not during one, whose InstrumentInfo pointers must stay valid); until
 * then further instruments are read into the check's own memory.
 */
struct RiskLedger
{
	Oid			oid[L_COUNT];
	MemoryContext mcxt;			/* the instruments' strings */
	int			ninstruments;
	InstrumentInfo instruments[64];
};

/* The relations of zvt's schema nsp, cached in mcxt for the check. */
RiskLedger *
risk_ledger_create(Oid nsp, MemoryContext mcxt)
{
	RiskLedger *l = MemoryContextAllocZero(mcxt, sizeof(RiskLedger));

	l->mcxt = AllocSetContextCreate(mcxt, "zvt risk instruments", ALLOCSET_SMALL_SIZES);
	ledger_relation_oids(nsp, ledger_names, L_COUNT, l->oid);
	return l;
}

/* scan the check's relation rel (an index follows its table) */
static void
scan_begin(LedgerScan *s, RiskLedger *l, LedgerRel rel, ScanKey keys, int nkeys)
{
	ledger_scan_begin(s, l->oid[rel], l->oid[rel + 1], keys, nkeys, rel != L_INSTRUMENTS);
}

static int
col_attno(LedgerScan *s, const char *name)
{
	return ledger_attno(s->rel, name);
}

static fx_t
numeric_fx(Datum d)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, d));
	fx_t		v;

	if (!fx_parse(s, &v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount %s is out of the range risk checks handle", s)));
	pfree(s);
	return v;
}

static fx_t
col_fx(LedgerScan *s, const char *name, fx_t if_null)
{
	int			attno = col_attno(s, name);

	return ledger_col_null(s, attno) ? if_null : numeric_fx(ledger_col(s, attno));
}

static char *
col_text(LedgerScan *s, const char *name)
{
	int			attno = col_attno(s, name);

	return ledger_col_null(s, attno) ? pstrdup("") : TextDatumGetCString(ledger_col(s, attno));
}

static bool
double_fx(double d, fx_t *out)
{
	char		buf[64];

	if (isnan(d) || isinf(d))
		return false;
	snprintf(buf, sizeof(buf), "%.*g", DBL_DIG, d);
	if (strchr(buf, 'e'))
		snprintf(buf, sizeof(buf), "%.10f", d);
	return fx_parse(buf, out);
}

/* the bus's mark of an instrument: last trade, else mid */
static bool
bus_mark(int32 instrument_id, fx_t *out)
{
	BusEntry	e;

	if (!bus_get(instrument_id, &e))
		return false;
	if (!isnan(e.last))
		return double_fx(e.last, out);
	if (!isnan(e.bid) && !isnan(e.ask))
		return double_fx((e.bid + e.ask) / 2, out);
	return false;
}

static char *
col_text_in(LedgerScan *s, const char *name, MemoryContext mcxt)
{
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	char	   *v = col_text(s, name);

	MemoryContextSwitchTo(old);
	return v;
}

/* an instrument's kind, assets and symbol, from the cache or its row */
static InstrumentInfo *
instrument_info(RiskLedger *l, int32 id)
{
	LedgerScan	s;
	ScanKeyData key;
	InstrumentInfo *out;
	MemoryContext cache = l->mcxt;

	for (int i = 0; i < l->ninstruments; i++)
		if (l->instruments[i].id == id)
			return &l->instruments[i];
	if (l->ninstruments == lengthof(l->instruments))
		cache = CurrentMemoryContext;	/* full: not cached */
	out = cache == l->mcxt ? &l->instruments[l->ninstruments] :
		MemoryContextAlloc(cache, sizeof(InstrumentInfo));
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(id));
	scan_begin(&s, l, L_INSTRUMENTS, &key, 1);
	if (!ledger_scan_next(&s))
		elog(ERROR, "zvt instrument %d is missing", id);
	out->spot = strcmp(col_text(&s, "kind"), "spot") == 0;
	out->base = col_text_in(&s, "base", cache);
	out->quote = col_text_in(&s, "quote", cache);
	out->symbol = col_text_in(&s, "symbol", cache);
	out->id = id;
	ledger_scan_end(&s);
	if (cache == l->mcxt)
		l->ninstruments++;
	return out;
}

static void
read_limits(LedgerScan *s, RiskLimits *out)
{
	static const char *const names[] = {
		"max_order_qty", "max_order_notional", "max_position_qty", "max_position_notional",
		"max_open_orders", "max_daily_loss", "price_band_pct", "max_orders_per_sec"
	};
	RiskLimit  *l = (RiskLimit *) out;

	for (int i = 0; i < (int) lengthof(names); i++)
	{
		int			attno = col_attno(s, names[i]);
		Oid			type = TupleDescAttr(RelationGetDescr(s->rel), attno - 1)->atttypid;

		l[i].set = !ledger_col_null(s, attno);
		if (!l[i].set)
			continue;
		if (type == INT4OID)
			l[i].value = (fx_t) DatumGetInt32(ledger_col(s, attno)) * FX_ONE;
		else
			l[i].value = numeric_fx(ledger_col(s, attno));
	}
}

/* the account's balances of the quote and base assets, in one scan */
static void
balances_of(RiskLedger *l, ScanKey account_key, const InstrumentInfo *ins, fx_t *quote, fx_t *base)
{
	LedgerScan	s;

	*quote = *base = 0;
	scan_begin(&s, l, L_BALANCES, account_key, 1);
	while (ledger_scan_next(&s))
	{
		char	   *asset = col_text(&s, "asset");

		if (strcmp(asset, ins->quote) == 0)
			*quote = col_fx(&s, "amount", 0);
		else if (strcmp(asset, ins->base) == 0)
			*base = col_fx(&s, "amount", 0);
		pfree(asset);
	}
	ledger_scan_end(&s);
}

/*
 * zvt._risk_check(account_id int4, instrument_id int4, side text, qty numeric,
 *   type text, tif text, price numeric, reduce_only bool, ref numeric,
 *   mkt numeric) RETURNS text
 *
 * The reason the order must be rejected, or NULL.  ref is the price the
 * order's notional counts at, mkt the market price (NULL when unknown).
 */
Datum
zvt_risk_check(PG_FUNCTION_ARGS)
{
	RiskLedger *l = (RiskLedger *) fcinfo->flinfo->fn_extra;
	RiskCheckInput in;
	char	   *reason;

	if (l == NULL)
	{
		l = risk_ledger_create(get_func_namespace(fcinfo->flinfo->fn_oid),
							   fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = l;
	}
	for (int i = 0; i < 10; i++)
		if (PG_ARGISNULL(i) && i != 6 && i != 9)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of zvt._risk_check must not be null", i + 1)));
	in.account_id = PG_GETARG_INT32(0);
	in.account_tid = NULL;
	in.instrument_id = PG_GETARG_INT32(1);
	in.buy = strcmp(text_to_cstring(PG_GETARG_TEXT_PP(2)), "buy") == 0;
	in.qty = PG_GETARG_DATUM(3);
	if (!order_type_parse(text_to_cstring(PG_GETARG_TEXT_PP(4)), &in.type) ||
		!order_tif_parse(text_to_cstring(PG_GETARG_TEXT_PP(5)), &in.tif))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown order type or time in force")));
	in.has_price = !PG_ARGISNULL(6);
	in.price = in.has_price ? PG_GETARG_DATUM(6) : (Datum) 0;
	in.reduce_only = PG_GETARG_BOOL(7);
	in.ref = PG_GETARG_DATUM(8);
	in.has_mkt = !PG_ARGISNULL(9);
	in.mkt = in.has_mkt ? PG_GETARG_DATUM(9) : (Datum) 0;
	reason = risk_check_order(l, &in);
	if (reason == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(reason));
}

/*
 * The pre-trade risk check of one order: the reason it must be rejected
 * (palloc'd), or NULL.  The caller holds the account's lock and has
 * pushed the snapshot of ledger_snapshot_push() after it.
 */
char *
risk_check_order(RiskLedger *l, const RiskCheckInput *in)
{
	int32		account_id = in->account_id;
	int32		instrument_id = in->instrument_id;
	RiskOrder	o;
	RiskAccount a;
	RiskLimits	limits;
	RiskNames	names;
	RiskResult	r;
	InstrumentInfo *ins;
	LedgerScan	s;
	ScanKeyData keys[2];
	char	   *account_name;
	char	   *state;
	int			owner_attno;
	char		reason[512];

	if (l->ninstruments == lengthof(l->instruments))
	{
		MemoryContextReset(l->mcxt);
		l->ninstruments = 0;
	}
	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	memset(&limits, 0, sizeof(limits));
	o.dir = in->buy ? 1 : -1;
	o.qty = numeric_fx(in->qty);
	o.has_price = in->has_price;
	if (o.has_price)
		o.price = numeric_fx(in->price);
	o.rests = in->type != ORDER_MARKET && in->tif == ORDER_GTC;
	o.reduce_only = in->reduce_only;
	o.ref = numeric_fx(in->ref);
	o.has_mkt = in->has_mkt;
	if (o.has_mkt)
		o.mkt = numeric_fx(in->mkt);

	/*
	 * The account: at in->account_tid when the caller read it there and that
	 * version is still the one this snapshot sees, else by its key.
	 */
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(account_id));
	if (!ledger_scan_at(&s, l->oid[L_ACCOUNTS], in->account_tid, account_id))
	{
		scan_begin(&s, l, L_ACCOUNTS, keys, 1);
		if (!ledger_scan_next(&s))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unknown account id %d", account_id)));
	}
	account_name = col_text(&s, "name");
	state = col_text(&s, "state");
	a.state = strcmp(state, "halted") == 0 ? RISK_STATE_HALTED :
		strcmp(state, "reducing") == 0 ? RISK_STATE_REDUCING : RISK_STATE_ACTIVE;

	/*
	 * An account whose owner role was dropped is frozen until zvt_admin
	 * gives it a new owner (zvt.reassign_account): no role is answerable
	 * for it, so it takes no new order whatever its state says.
	 */
	owner_attno = col_attno(&s, "owner");
	if (!SearchSysCacheExists1(AUTHOID, ledger_col(&s, owner_attno)))
		a.state = RISK_STATE_ORPHANED;
	a.taker_fee_bps = col_fx(&s, "taker_fee_bps", 0);
	a.leverage = col_fx(&s, "leverage", FX_ONE);
	ledger_scan_end(&s);

	ins = instrument_info(l, instrument_id);
	a.spot = ins->spot;

	/* limits: the account's row and the instrument's, the stricter wins */
	scan_begin(&s, l, L_RISK_LIMITS, keys, 1);
	while (ledger_scan_next(&s))
	{
		int			attno = col_attno(&s, "instrument_id");

		if (ledger_col_null(&s, attno) || DatumGetInt32(ledger_col(&s, attno)) == instrument_id)
		{
			RiskLimits	row;

			memset(&row, 0, sizeof(row));
			read_limits(&s, &row);
			risk_limits_tighten(&limits, &row);
		}
	}
	ledger_scan_end(&s);

	/* positions: this instrument's, and the marks of all for PnL and margin */
	scan_begin(&s, l, L_HOLDINGS, keys, 1);
	while (ledger_scan_next(&s))
	{
		int32		iid = DatumGetInt32(ledger_col(&s, col_attno(&s, "instrument_id")));
		fx_t		qty = col_fx(&s, "qty", 0);
		fx_t		avg = col_fx(&s, "avg_price", 0);
		fx_t		mark;
		fx_t		upnl;
		InstrumentInfo *info;
		bool		ovf = false;

		if (iid == instrument_id)
			a.position = qty;
		if (qty == 0 || (!limits.max_daily_loss.set && ins->spot))
			continue;
		if (!bus_mark(iid, &mark))
			mark = avg;
		/* cut at 10 decimal places like every amount here */
		{
			fx_t		raw;

			if (__builtin_mul_overflow(mark - avg, qty, &raw))
				ovf = true;
			upnl = raw / FX_ONE;
		}
		if (ovf)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("position of instrument %d is too large to check", iid)));
		a.unrealized += upnl;
		info = instrument_info(l, iid);
		if (!info->spot && strcmp(info->quote, ins->quote) == 0)
		{
			fx_t		raw;

			a.perp_unrealized += upnl;
			if (__builtin_mul_overflow(qty < 0 ? -qty : qty, mark, &raw))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("position of instrument %d is too large to check", iid)));
			a.perp_notional += raw / FX_ONE;
		}
	}
	ledger_scan_end(&s);

	/* open orders */
	scan_begin(&s, l, L_EXPOSURE, keys, 1);
	while (ledger_scan_next(&s))
	{
		int32		iid = DatumGetInt32(ledger_col(&s, col_attno(&s, "instrument_id")));
		int32		n = DatumGetInt32(ledger_col(&s, col_attno(&s, "open_orders")));
		InstrumentInfo *info;

		a.open_orders += n;
		if (iid == instrument_id)
		{
			a.open_buy_qty = col_fx(&s, "buy_qty", 0);
			a.open_sell_qty = col_fx(&s, "sell_qty", 0);
		}
		if (n == 0)
			continue;
		info = instrument_info(l, iid);
		if (info->spot && ins->spot)
		{
			if (strcmp(info->quote, ins->quote) == 0)
				a.reserved_buy_notional += col_fx(&s, "buy_notional", 0);
			if (strcmp(info->base, ins->base) == 0)
				a.reserved_sell_qty += col_fx(&s, "sell_qty", 0);
		}
		else if (!info->spot && !ins->spot && strcmp(info->quote, ins->quote) == 0)
			a.perp_open_notional += col_fx(&s, "buy_notional", 0) + col_fx(&s, "sell_notional", 0);
	}
	ledger_scan_end(&s);

	/* balances */
	balances_of(l, keys, ins, &a.quote_balance, &a.base_balance);
	a.cash = a.quote_balance;

	/* orders in the last second, when limited: the index on (account_id, created_at) */
	if (limits.max_orders_per_sec.set)
	{
		TimestampTz since = GetCurrentTimestamp() - USECS_PER_SEC;
		int			status_attno;

		ScanKeyInit(&keys[1], 2, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT, TimestampTzGetDatum(since));
		scan_begin(&s, l, L_ORDERS, keys, 2);
		status_attno = col_attno(&s, "status");

		/*
		 * A busy account has many rows here: read only the status, in place
		 * (a short text is never toasted), not the whole row.
		 */
		while (ledger_scan_next_lazy(&s))
		{
			bool		isnull;
			Datum		d = slot_getattr(s.slot, status_attno, &isnull);
			text	   *st;

			if (isnull)
				continue;
			st = DatumGetTextPP(d);
			if (VARSIZE_ANY_EXHDR(st) != 8 || memcmp(VARDATA_ANY(st), "rejected", 8) != 0)
				a.orders_last_second++;
			if ((Pointer) st != DatumGetPointer(d))
				pfree(st);
		}
		ledger_scan_end(&s);
	}

	/* realized PnL and fees today, when the daily loss is limited */
	if (limits.max_daily_loss.set)
	{
		DateADT		today = DatumGetDateADT(DirectFunctionCall1(timestamp_date,
																TimestampGetDatum(GetCurrentTimestamp())));

		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_DATE_EQ, DateADTGetDatum(today));
		scan_begin(&s, l, L_DAILY_PNL, keys, 2);
		if (ledger_scan_next(&s))
			a.realized_today = col_fx(&s, "realized", 0) - col_fx(&s, "fees", 0);
		ledger_scan_end(&s);
	}

	r = risk_check(&o, &a, &limits);
	if (r.verdict == RISK_PASS)
		return NULL;
	names.account = account_name;
	names.side = o.dir > 0 ? "buy" : "sell";
	names.symbol = ins->symbol;
	names.base = ins->base;
	names.quote = ins->quote;
	risk_reason(&r, &o, &a, &names, reason, sizeof(reason));
	return pstrdup(reason);
}
