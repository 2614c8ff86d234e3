/*-------------------------------------------------------------------------
 *
 * src/feed/instruments_sync.c
 *	  zvt.sync_instruments(exchange): fetch an exchange's instrument list
 *	  over REST and upsert it into zvt.instruments.
 *
 * An admin call that runs in the calling backend: the fetch is bounded by
 * zvt.rest_timeout and can be cancelled (rest_client.c).  All of the
 * exchange's lists are fetched and parsed before anything is written, so a
 * failure writes nothing.  Instruments the exchange no longer lists are
 * kept (orders and data refer to them) with status 'delisted'.  At commit
 * the exchange's running feed worker reloads its symbol map (status.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "base/export.h"
#include "feed/exchanges.h"
#include "feed/instruments.h"
#include "feed/url_check.h"
#include "feed/rest_client.h"
#include "feed/status.h"
#include "zvt.h"

/* more pages than any exchange serves: a cursor that never ends is an error */
#define INSTRUMENT_PAGES_MAX 100

PG_FUNCTION_INFO_V1(zvt_sync_instruments);

/* Instruments collected by the sink; malloc'd, the parser must not longjmp. */
typedef struct Collected
{
	FeedInstrument *items;
	int			n;
	int			cap;
	bool		no_perps;		/* the perpetuals' list was skipped: leave them be */
} Collected;

static void
collect(void *arg, const FeedInstrument *ins)
{
	Collected  *c = arg;

	if (c->n == c->cap)
	{
		int			cap = c->cap ? c->cap * 2 : 256;
		FeedInstrument *p = realloc(c->items, sizeof(FeedInstrument) * cap);

		if (!p)
			return;				/* reported as a short count below */
		c->items = p;
		c->cap = cap;
	}
	c->items[c->n++] = *ins;
}

/*
 * The exchange's rest_url; *futures gets its futures_rest_url, or NULL
 * when it has none.  Both palloc'd in the caller's context.
 */
static char *
exchange_rest_url(const char *exchange, char **futures)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(exchange)};
	char	   *url = NULL;
	MemoryContext caller = CurrentMemoryContext;

	*futures = NULL;
	SPI_connect();
	if (SPI_execute_with_args("SELECT rest_url, futures_rest_url FROM zvt.exchanges WHERE name = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.exchanges");
	if (SPI_processed == 1)
	{
		char	   *f = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		url = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		if (f)
			*futures = MemoryContextStrdup(caller, f);
	}
	SPI_finish();
	if (!url)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown exchange \"%s\"", exchange),
				 errhint("zvt.exchanges lists the exchanges.")));
	return url;
}

static void fetch_pages(const char *exchange, const char *base, const char *path,
						Collected *c);

/* Fetch and parse every list of exchange into c; errors raise. */
static void
fetch_all(const char *exchange, const char *base, const char *futures, Collected *c)
{
	int			exi = feed_exchange_index(exchange);
	const char *const *paths = exi >= 0 ? feed_exchanges[exi].instrument_paths : NULL;

	if (!paths)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("zvt has no adapter for exchange \"%s\"", exchange),
				 errdetail("Instruments can be synced from binance, bybit, okx and coinbase.")));
	rest_check_url(base, "rest_url");
	/* one source per exchange: no real futures list beside a local simulator's spot */
	if (futures && feed_url_is_local(futures) != feed_url_is_local(base))
	{
		ereport(LOG,
				(errmsg("zvt: the perpetuals of exchange \"%s\" are not synced: futures_rest_url \"%s\" and rest_url \"%s\" are not both local or both remote",
						exchange, futures, base)));
		futures = NULL;
	}
	if (futures)
		rest_check_url(futures, "futures_rest_url");
	for (int i = 0; paths[i]; i++)
		if (strncmp(paths[i], "/fapi/", 6) == 0 && !futures)
			c->no_perps = true;
	for (int i = 0; paths[i]; i++)
	{
		/* Binance USD-M futures live on their own host (exchanges.c) */
		if (strncmp(paths[i], "/fapi/", 6) == 0)
		{
			if (futures)
				fetch_pages(exchange, futures, paths[i], c);
		}
		else
			fetch_pages(exchange, base, paths[i], c);
	}
}

/*
 * Fetch one list of exchange, page after page while the exchange names a
 * next page (Bybit's linear instruments come 1,000 a page), into c.
 */
static void
fetch_pages(const char *exchange, const char *base, const char *path, Collected *c)
{
	char		cursor[512] = "";

	for (int page = 0;; page++)
	{
		char	   *url = cursor[0] ? psprintf("%s%s&cursor=%s", base, path, cursor)
			: psprintf("%s%s", base, path);
		RestResponse resp;
		char		reason[256] = "";
		int			before = c->n;
		int			more;

		CHECK_FOR_INTERRUPTS();
		if (page >= INSTRUMENT_PAGES_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("exchange \"%s\" kept naming a next page of instruments", exchange),
					 errdetail("zvt stopped after %d pages of %s.", INSTRUMENT_PAGES_MAX, path)));

		if (!rest_get(url, &resp))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not fetch the instruments of exchange \"%s\"", exchange),
					 errdetail_internal("GET %s: %s", url, resp.error)));
		if (resp.status != 200)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("exchange \"%s\" answered HTTP %ld to an instruments request", exchange, resp.status),
					 errdetail_internal("GET %s: %.300s", url, resp.body),
					 resp.status == 429 ? errhint("The exchange is rate limiting; try again later.") : 0));
		if (instruments_parse(exchange, resp.body, resp.len, collect, c, reason, sizeof(reason)) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not read the instruments of exchange \"%s\"", exchange),
					 errdetail_internal("GET %s: %s", url, reason)));
		elog(DEBUG1, "zvt: %d instruments from %s", c->n - before, url);
		more = instruments_next_page(exchange, resp.body, resp.len, cursor, sizeof(cursor),
									 reason, sizeof(reason));
		if (more < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not read the instruments of exchange \"%s\"", exchange),
					 errdetail_internal("GET %s: %s", url, reason)));
		if (more == 0)
			break;
	}
}

/* Upsert c into zvt.instruments and mark the rest delisted. */
static int
upsert_all(const char *exchange, Collected *c)
{
	Oid			types[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	SPIPlanPtr	plan;
	Datum	   *keep = palloc(sizeof(Datum) * Max(c->n, 1));

	SPI_connect();
	plan = SPI_prepare("INSERT INTO zvt.instruments AS i (exchange, symbol, raw_symbol, base, quote, kind, "
					   "  tick_size, lot_size, min_notional, contract_size, status, updated_at) "
					   "VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, '')::numeric, NULLIF($8, '')::numeric, "
					   "  NULLIF($9, '')::numeric, NULLIF($10, '')::numeric, $11, now()) "
					   "ON CONFLICT (exchange, symbol) DO UPDATE SET raw_symbol = excluded.raw_symbol, "
					   "  tick_size = excluded.tick_size, lot_size = excluded.lot_size, "
					   "  min_notional = excluded.min_notional, contract_size = excluded.contract_size, "
					   "  status = excluded.status, updated_at = excluded.updated_at",
					   11, types);
	if (!plan)
		elog(ERROR, "could not prepare the instruments upsert");
	for (int i = 0; i < c->n; i++)
	{
		FeedInstrument *ins = &c->items[i];
		Datum		v[11];

		v[0] = CStringGetTextDatum(exchange);
		v[1] = CStringGetTextDatum(ins->symbol);
		v[2] = CStringGetTextDatum(ins->raw_symbol);
		v[3] = CStringGetTextDatum(ins->base);
		v[4] = CStringGetTextDatum(ins->quote);
		v[5] = CStringGetTextDatum(ins->perp ? "perp" : "spot");
		v[6] = CStringGetTextDatum(ins->tick_size);
		v[7] = CStringGetTextDatum(ins->lot_size);
		v[8] = CStringGetTextDatum(ins->min_notional);
		v[9] = CStringGetTextDatum(ins->contract_size);
		v[10] = CStringGetTextDatum(ins->status);
		if (SPI_execute_plan(plan, v, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not upsert instrument %s", ins->symbol);
		keep[i] = v[1];
	}
	if (c->n > 0)
	{
		/* the symbols the exchange sent are a parameter, never SQL text */
		Oid			t[3] = {TEXTOID, TEXTARRAYOID, BOOLOID};
		Datum		v[3] = {CStringGetTextDatum(exchange),
			PointerGetDatum(construct_array(keep, c->n, TEXTOID, -1, false, TYPALIGN_INT)),
		BoolGetDatum(c->no_perps)};

		if (SPI_execute_with_args("UPDATE zvt.instruments SET status = 'delisted', updated_at = now() "
								  " WHERE exchange = $1 AND status <> 'delisted' "
								  "   AND symbol <> ALL ($2) AND NOT ($3 AND kind = 'perp')",
								  3, t, v, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not mark delisted instruments");
	}
	SPI_finish();
	return c->n;
}

/*
 * zvt.sync_instruments(exchange text) RETURNS int: how many instruments
 * the exchange lists (spot and linear perpetuals), now in zvt.instruments.
 */
Datum
zvt_sync_instruments(PG_FUNCTION_ARGS)
{
	char	   *exchange = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *futures;
	char	   *base = exchange_rest_url(exchange, &futures);
	Collected	c = {0};
	volatile int n = 0;

	PG_TRY();
	{
		fetch_all(exchange, base, futures, &c);
		n = upsert_all(exchange, &c);
		/* at commit, the running feed worker reloads its symbol map */
		feed_instruments_changed(feed_exchange_index(exchange));
	}
	PG_FINALLY();
	{
		free(c.items);
	}
	PG_END_TRY();
	PG_RETURN_INT32(n);
}
