/*-------------------------------------------------------------------------
 *
 * src/feed/subscriptions.c
 *	  A feed worker's subscriptions and symbol map: what zvt.subscriptions
 *	  asks of its exchange, as the exchange's streams per endpoint, and
 *	  every instrument of the exchange by symbol (symbols.c).
 *
 * The worker re-reads both when its exchange's subscription generation
 * moves (status.c: bumped at commit of zvt.subscribe / zvt.unsubscribe on
 * that exchange), when its instrument generation moves (a
 * zvt.sync_instruments() committed) and after its own daily sync.  Topics
 * are diffed per endpoint: new ones are subscribed on the open connection,
 * dropped ones unsubscribed, kept ones left alone.
 *
 * The symbol map is read by the parser thread (OKX contract sizes): a new
 * map is swapped in under the parser's context lock and the old one freed
 * after it is released, so the thread never sees a map being freed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "feed/worker.h"

static void diff_unsubscribe(const Endpoint *old);

/* OKX ctVal for the parser thread: base units per contract of a raw symbol. */
double
feed_contract_size(void *arg, const char *raw)
{
	const FeedSymbol *s = feed_symbols_find_raw(feed_self.symbols, raw);

	return s ? s->contract_size : 0;
}

/*
 * Load a fresh map of every instrument of the exchange and swap it in.
 * In the caller's transaction, SPI connected.
 */
void
feed_load_symbols(void)
{
	FeedSymbolMap *fresh = feed_symbols_load(feed_self.exchange);
	FeedSymbolMap *old;

	parse_thread_lock_context(feed_self.parser);
	old = feed_self.symbols;
	feed_self.symbols = fresh;
	parse_thread_unlock_context(feed_self.parser);
	feed_symbols_free(old);
	elog(DEBUG1, "zvt feed %s: %d instruments mapped", feed_self.exchange, feed_symbols_count(fresh));
}

/* Queue subscribe requests for the wanted topics not yet sent. */
void
feed_queue_subscribes(Endpoint *e)
{
	const char *pending[FEED_MAX_TOPICS];
	int			n = 0;

	for (int k = 0; k < e->nwant; k++)
		if (!e->want[k].sent)
		{
			pending[n++] = e->want[k].name;
			e->want[k].sent = true;
		}
	for (int done = 0; done < n;)
	{
		char		buf[8192];
		int			m = feed_self.spec->request(e->index, true, pending + done, n - done,
												feed_self.next_request_id++, buf, sizeof(buf));

		if (m <= 0)
			break;
		feed_endpoint_queue(e, buf);
		done += m;
	}
	if (e->noutq > 0 && e->wsi)
		lws_callback_on_writable(e->wsi);
}

/* Topics that were subscribed on an open connection and are wanted no more. */
static void
diff_unsubscribe(const Endpoint *old)
{
	for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
	{
		Endpoint   *e = &feed_self.endpoints[ep];
		const char *gone[FEED_MAX_TOPICS];
		int			ngone = 0;

		if (e->state != EP_OPEN)
			continue;
		for (int k = 0; k < old[ep].nwant; k++)
		{
			bool		kept = false;

			for (int j = 0; j < e->nwant && !kept; j++)
				kept = strcmp(e->want[j].name, old[ep].want[k].name) == 0;
			if (!kept && old[ep].want[k].sent)
				gone[ngone++] = old[ep].want[k].name;
		}
		for (int done = 0; done < ngone;)
		{
			char		buf[8192];
			int			n = feed_self.spec->request(ep, false, gone + done, ngone - done,
													feed_self.next_request_id++, buf, sizeof(buf));

			if (n <= 0)
				break;
			feed_endpoint_queue(e, buf);
			done += n;
		}
	}
}

/*
 * Re-read zvt.exchanges, zvt.subscriptions and the symbol map (in a
 * transaction the caller runs, SPI connected).  Subscribed symbols the
 * instrument list lacks get a row so their data has an id.  Returns false
 * when the exchange is disabled or has nothing to stream.
 */
bool
feed_load_subscriptions(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1] = {CStringGetTextDatum(feed_self.exchange)};
	Endpoint   *old = palloc(sizeof(feed_self.endpoints));
	bool		enabled = false;
	int			over = 0;

	memcpy(old, feed_self.endpoints, sizeof(feed_self.endpoints));
	for (int e = 0; e < feed_self.spec->nendpoints; e++)
		feed_self.endpoints[e].nwant = 0;

	if (SPI_execute_with_args("SELECT ws_url, enabled, coalesce(futures_ws_url, '') FROM zvt.exchanges WHERE name = $1",
							  1, types, v, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.exchanges");
	if (SPI_processed == 1)
	{
		bool		isnull;

		snprintf(feed_self.ws_url, sizeof(feed_self.ws_url), "%s",
				 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		enabled = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		snprintf(feed_self.futures_ws_url, sizeof(feed_self.futures_ws_url), "%s",
				 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3));
	}
	if (!enabled)
		return false;

	/* instruments for every subscribed symbol */
	if (SPI_execute_with_args("INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind) "
							  "SELECT DISTINCT s.exchange, s.symbol, s.symbol, split_part(s.symbol, '-', 1), "
							  "       split_part(s.symbol, '-', 2), "
							  "       CASE WHEN s.symbol LIKE '%-PERP' THEN 'perp' ELSE 'spot' END "
							  "  FROM zvt.subscriptions s WHERE s.exchange = $1 "
							  "ON CONFLICT (exchange, symbol) DO NOTHING",
							  1, types, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not add instruments");
	feed_load_symbols();

	/* read-write: these reads must see the instruments inserted just above */
	if (SPI_execute_with_args("SELECT symbol, channel, depth FROM zvt.subscriptions WHERE exchange = $1 ORDER BY id",
							  1, types, v, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt.subscriptions");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *sym = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *ch = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *depth = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		char		asked[32];
		char		name[FEED_TOPIC_LEN];
		int			ep;
		bool		dup = false;
		Endpoint   *e;
		Topic	   *t;

		/* a book's stream may depend on its depth (Bybit): "book_<depth>" */
		if (depth)
			snprintf(asked, sizeof(asked), "%s_%s", ch, depth);
		else
			snprintf(asked, sizeof(asked), "%s", ch);
		if (!feed_self.spec->topic(sym, asked, &ep, name, sizeof(name)))
			continue;			/* e.g. Coinbase 1m candles: built from trades */
		e = &feed_self.endpoints[ep];
		for (int k = 0; k < e->nwant && !dup; k++)
			dup = strcmp(e->want[k].name, name) == 0;
		if (dup)
			continue;
		if (e->nwant == FEED_MAX_TOPICS)
		{
			over++;
			continue;
		}
		t = &e->want[e->nwant++];
		snprintf(t->name, FEED_TOPIC_LEN, "%s", name);
		snprintf(t->symbol, FEED_SYMBOL_LEN, "%s", sym);
		snprintf(t->channel, sizeof(t->channel), "%s", ch);
		/* a topic already sent on this connection stays sent */
		t->sent = false;
		for (int k = 0; k < old[ep].nwant; k++)
			if (strcmp(old[ep].want[k].name, name) == 0)
				t->sent = old[ep].want[k].sent;
	}
	if (over > 0)
		ereport(WARNING,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("zvt feed %s: %d subscriptions are not streamed", feed_self.exchange, over),
				 errdetail("One connection of a feed worker carries at most %d streams.", FEED_MAX_TOPICS)));
	diff_unsubscribe(old);
	feed_books_load();
	for (int ep = 0; ep < feed_self.spec->nendpoints; ep++)
		if (feed_self.endpoints[ep].nwant > 0)
			return true;
	return false;
}
