/*-------------------------------------------------------------------------
 *
 * src/feed/instruments.c
 *	  Parse the four exchanges' instrument lists into FeedInstruments.
 *
 * Binance exchangeInfo (filters PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL or
 * NOTIONAL), Bybit instruments-info (spot and linear LinearPerpetual),
 * OKX public/instruments (SPOT; SWAP with ctVal, linear only), Coinbase
 * market/products (SPOT).  See instruments.h.
 *
 *-------------------------------------------------------------------------
 */
#include "instruments.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "feed_event.h"

/* ---- exact decimal text ---------------------------------------------- */

/* "0.00100" -> mantissa 100, scale 5; false unless plain decimal digits. */
static bool
dec_parse(const char *s, __int128 *mant, int *scale)
{
	__int128	m = 0;
	int			sc = 0;
	bool		dot = false,
				digit = false;

	for (; *s; s++)
	{
		if (*s == '.' && !dot)
			dot = true;
		else if (isdigit((unsigned char) *s))
		{
			if (m > (__int128) 1000000000000000000 * 10)
				return false;
			m = m * 10 + (*s - '0');
			sc += dot;
			digit = true;
		}
		else
			return false;
	}
	*mant = m;
	*scale = sc;
	return digit;
}

bool
dec_mul(const char *a, const char *b, char *out, size_t outlen)
{
	__int128	ma,
				mb,
				p;
	int			sa,
				sb,
				scale;
	char		digits[64];
	int			n = 0;
	size_t		o = 0;

	if (!dec_parse(a, &ma, &sa) || !dec_parse(b, &mb, &sb))
		return false;
	if (ma != 0 && mb > ((__int128) 1 << 100) / ma)
		return false;
	p = ma * mb;
	scale = sa + sb;
	do
	{
		digits[n++] = (char) ('0' + (int) (p % 10));
		p /= 10;
	} while (p > 0 || n <= scale);
	/* drop trailing fractional zeros */
	{
		int			lo = 0;

		while (lo < scale && digits[lo] == '0')
			lo++;
		if (outlen < (size_t) (n + 2))
			return false;
		for (int i = n - 1; i >= scale; i--)
			out[o++] = digits[i];
		if (lo < scale)
		{
			out[o++] = '.';
			for (int i = scale - 1; i >= lo; i--)
				out[o++] = digits[i];
		}
	}
	out[o] = '\0';
	return true;
}

/* ---- helpers ------------------------------------------------------------- */

static const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* A size a zvt column can hold: a positive plain decimal, else "". */
static void
copy_size(char *dst, size_t len, const char *src)
{
	__int128	m;
	int			sc;

	if (src && dec_parse(src, &m, &sc) && m > 0)
		copy(dst, len, src);
	else
		dst[0] = '\0';
}

static bool
set_names(FeedInstrument *ins, const char *raw, const char *base, const char *quote, bool perp)
{
	if (!*base || !*quote)
		return false;
	copy(ins->raw_symbol, sizeof(ins->raw_symbol), raw);
	copy(ins->base, sizeof(ins->base), base);
	copy(ins->quote, sizeof(ins->quote), quote);
	ins->perp = perp;
	return snprintf(ins->symbol, sizeof(ins->symbol), "%s-%s%s", base, quote, perp ? "-PERP" : "") <
		(int) sizeof(ins->symbol);
}

static int
fail(char *reason, size_t len, const char *text)
{
	snprintf(reason, len, "%s", text);
	return -1;
}

/* ---- per exchange -------------------------------------------------------- */

static int
parse_binance(json_t *root, FeedInstrumentSink sink, void *arg, char *reason, size_t rlen)
{
	json_t	   *symbols = json_object_get(root, "symbols");
	size_t		i,
				j;
	json_t	   *s,
			   *f;
	int			n = 0;

	if (json_object_get(root, "code") && json_object_get(root, "msg"))
		return fail(reason, rlen, str(root, "msg"));
	if (!json_is_array(symbols))
		return fail(reason, rlen, "exchangeInfo without \"symbols\"");
	json_array_foreach(symbols, i, s)
	{
		FeedInstrument ins;
		const char *status = str(s, "status");
		/* USD-M futures (/fapi/v1/exchangeInfo) name a contractType: perpetuals only */
		bool		futures = json_object_get(s, "contractType") != NULL;

		memset(&ins, 0, sizeof(ins));
		if (futures && strcmp(str(s, "contractType"), "PERPETUAL") != 0)
			continue;
		if (!set_names(&ins, str(s, "symbol"), str(s, "baseAsset"), str(s, "quoteAsset"), futures))
			continue;
		copy(ins.status, sizeof(ins.status),
			 strcmp(status, "TRADING") == 0 ? "trading" :
			 (strcmp(status, "HALT") == 0 || strcmp(status, "BREAK") == 0) ? "halted" :
			 strcmp(status, "CANCEL_ONLY") == 0 ? "cancel_only" : "unknown");
		json_array_foreach(json_object_get(s, "filters"), j, f)
		{
			const char *type = str(f, "filterType");

			if (strcmp(type, "PRICE_FILTER") == 0)
				copy_size(ins.tick_size, INS_DEC_LEN, str(f, "tickSize"));
			else if (strcmp(type, "LOT_SIZE") == 0)
				copy_size(ins.lot_size, INS_DEC_LEN, str(f, "stepSize"));
			else if (strcmp(type, "MIN_NOTIONAL") == 0 || strcmp(type, "NOTIONAL") == 0)
				copy_size(ins.min_notional, INS_DEC_LEN,
						  str(f, futures ? "notional" : "minNotional"));
		}
		sink(arg, &ins);
		n++;
	}
	return n;
}

static int
parse_bybit(json_t *root, FeedInstrumentSink sink, void *arg, char *reason, size_t rlen)
{
	json_t	   *result = json_object_get(root, "result");
	json_t	   *list = json_object_get(result, "list");
	bool		linear = strcmp(str(result, "category"), "linear") == 0;
	size_t		i;
	json_t	   *s;
	int			n = 0;

	if (json_integer_value(json_object_get(root, "retCode")) != 0)
		return fail(reason, rlen, str(root, "retMsg"));
	if (!json_is_array(list))
		return fail(reason, rlen, "instruments-info without \"result.list\"");
	json_array_foreach(list, i, s)
	{
		FeedInstrument ins;
		json_t	   *lot = json_object_get(s, "lotSizeFilter");

		memset(&ins, 0, sizeof(ins));
		if (linear && strcmp(str(s, "contractType"), "LinearPerpetual") != 0)
			continue;			/* dated futures are not zvt instruments */
		if (!set_names(&ins, str(s, "symbol"), str(s, "baseCoin"), str(s, "quoteCoin"), linear))
			continue;
		copy(ins.status, sizeof(ins.status), strcmp(str(s, "status"), "Trading") == 0 ? "trading" : "halted");
		copy_size(ins.tick_size, INS_DEC_LEN, str(json_object_get(s, "priceFilter"), "tickSize"));
		copy_size(ins.lot_size, INS_DEC_LEN, str(lot, linear ? "qtyStep" : "basePrecision"));
		copy_size(ins.min_notional, INS_DEC_LEN, str(lot, linear ? "minNotionalValue" : "minOrderAmt"));
		if (linear)
			copy(ins.contract_size, INS_DEC_LEN, "1");
		sink(arg, &ins);
		n++;
	}
	return n;
}

static int
parse_okx(json_t *root, FeedInstrumentSink sink, void *arg, char *reason, size_t rlen)
{
	json_t	   *data = json_object_get(root, "data");
	size_t		i;
	json_t	   *s;
	int			n = 0;

	if (strcmp(str(root, "code"), "0") != 0)
		return fail(reason, rlen, str(root, "msg"));
	if (!json_is_array(data))
		return fail(reason, rlen, "instruments without \"data\"");
	json_array_foreach(data, i, s)
	{
		FeedInstrument ins;
		const char *type = str(s, "instType");
		const char *state = str(s, "state");
		bool		swap = strcmp(type, "SWAP") == 0;
		char		base[24],
					quote[24];

		memset(&ins, 0, sizeof(ins));
		if (swap)
		{
			/* linear swaps only: BTC-USDT-SWAP settled in USDT, ctVal in BTC */
			const char *inst = str(s, "instId");
			const char *dash = strchr(inst, '-');

			if (strcmp(str(s, "ctType"), "linear") != 0 || !dash)
				continue;
			snprintf(base, sizeof(base), "%.*s", (int) (dash - inst), inst);
			copy(quote, sizeof(quote), str(s, "settleCcy"));
		}
		else if (strcmp(type, "SPOT") == 0)
		{
			copy(base, sizeof(base), str(s, "baseCcy"));
			copy(quote, sizeof(quote), str(s, "quoteCcy"));
		}
		else
			continue;
		if (!set_names(&ins, str(s, "instId"), base, quote, swap))
			continue;
		copy(ins.status, sizeof(ins.status),
			 strcmp(state, "live") == 0 ? "trading" : strcmp(state, "suspend") == 0 ? "halted" : state);
		copy_size(ins.tick_size, INS_DEC_LEN, str(s, "tickSz"));
		if (swap)
		{
			copy_size(ins.contract_size, INS_DEC_LEN, str(s, "ctVal"));
			if (!ins.contract_size[0] ||
				!dec_mul(str(s, "lotSz"), ins.contract_size, ins.lot_size, INS_DEC_LEN))
				continue;		/* without ctVal no size can be trusted */
		}
		else
			copy_size(ins.lot_size, INS_DEC_LEN, str(s, "lotSz"));
		sink(arg, &ins);
		n++;
	}
	return n;
}

static int
parse_coinbase(json_t *root, FeedInstrumentSink sink, void *arg, char *reason, size_t rlen)
{
	json_t	   *products = json_object_get(root, "products");
	size_t		i;
	json_t	   *s;
	int			n = 0;

	if (json_object_get(root, "error"))
		return fail(reason, rlen, str(root, "message"));
	if (!json_is_array(products))
		return fail(reason, rlen, "products without \"products\"");
	json_array_foreach(products, i, s)
	{
		FeedInstrument ins;

		memset(&ins, 0, sizeof(ins));
		if (strcmp(str(s, "product_type"), "SPOT") != 0)
			continue;
		if (!set_names(&ins, str(s, "product_id"), str(s, "base_currency_id"), str(s, "quote_currency_id"), false))
			continue;
		copy(ins.status, sizeof(ins.status),
			 strcmp(str(s, "status"), "online") == 0 && !json_is_true(json_object_get(s, "trading_disabled"))
			 ? "trading" : "halted");
		copy_size(ins.tick_size, INS_DEC_LEN, str(s, "price_increment"));
		copy_size(ins.lot_size, INS_DEC_LEN, str(s, "base_increment"));
		copy_size(ins.min_notional, INS_DEC_LEN, str(s, "quote_min_size"));
		sink(arg, &ins);
		n++;
	}
	return n;
}

int
instruments_parse(const char *exchange, const char *body, size_t len,
				  FeedInstrumentSink sink, void *arg, char *reason, size_t reasonlen)
{
	json_error_t err;
	json_t	   *root = json_loadb(body, len, 0, &err);
	int			n;

	if (!json_is_object(root))
	{
		json_decref(root);
		snprintf(reason, reasonlen, "response is not a JSON object: %.80s", body);
		return -1;
	}
	if (strcmp(exchange, "binance") == 0)
		n = parse_binance(root, sink, arg, reason, reasonlen);
	else if (strcmp(exchange, "bybit") == 0)
		n = parse_bybit(root, sink, arg, reason, reasonlen);
	else if (strcmp(exchange, "okx") == 0)
		n = parse_okx(root, sink, arg, reason, reasonlen);
	else if (strcmp(exchange, "coinbase") == 0)
		n = parse_coinbase(root, sink, arg, reason, reasonlen);
	else
		n = fail(reason, reasonlen, "unknown exchange");
	json_decref(root);
	return n;
}

int
instruments_next_page(const char *exchange, const char *body, size_t len,
					  char *cursor, size_t cursorlen, char *reason, size_t reasonlen)
{
	json_error_t err;
	json_t	   *root;
	const char *next;
	size_t		n;

	cursor[0] = '\0';
	if (strcmp(exchange, "bybit") != 0)
		return 0;
	root = json_loadb(body, len, 0, &err);
	next = str(json_object_get(root, "result"), "nextPageCursor");
	n = strlen(next);
	if (n == 0)
	{
		json_decref(root);
		return 0;
	}
	if (n >= cursorlen || strspn(next, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
								 "0123456789%-._~") != n)
	{
		json_decref(root);
		return fail(reason, reasonlen, "nextPageCursor is not a URL-safe cursor");
	}
	memcpy(cursor, next, n + 1);
	json_decref(root);
	return 1;
}

