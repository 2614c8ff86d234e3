/*
 * test/exsim/market.c
 *	  The deterministic market behind every simulated exchange.
 *
 * Each symbol has its own xorshift64* generator seeded from the run's
 * seed and the symbol's name, so the same --seed gives the same trades
 * whatever else is subscribed.  See market.h for the model.
 */
#define _POSIX_C_SOURCE 200809L
#include "market.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zvt_time.h"

const int64_t mk_interval_ms[MK_NIV] = {
	60000, 300000, 900000, 3600000, 14400000, 86400000
};

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static uint64_t
hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
	return h;
}

/* 10^n, n >= 0 small enough to fit */
int64_t
mk_pow10(int n)
{
	int64_t		r = 1;

	while (n-- > 0)
		r *= 10;
	return r;
}

/* Price step between book levels, and typical move per trade, in ticks. */
static int64_t
level_gap(const MkSymbol *s)
{
	int64_t		g = s->last_px / 600000;

	return g < 1 ? 1 : g;
}

static void
kline_open_empty(MkKline *k, int64_t open_ts, int64_t px)
{
	memset(k, 0, sizeof(*k));
	k->open_ts = open_ts;
	k->o = k->h = k->l = k->c = px;
	k->first_id = k->last_id = -1;
}

static bool
symbol_init(MkSymbol *s, const char *spec, uint64_t seed, int64_t start_ms)
{
	char		name[64];
	const char *eq = strchr(spec, '=');
	double		base_px;
	const char *dash;
	size_t		n = eq ? (size_t) (eq - spec) : strlen(spec);

	if (n == 0 || n >= sizeof(s->name))
		return false;
	memcpy(name, spec, n);
	name[n] = '\0';
	dash = strchr(name, '-');
	if (!dash || dash == name || dash[1] == '\0')
		return false;
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	snprintf(s->base, sizeof(s->base), "%.*s", (int) (dash - name), name);
	snprintf(s->quote, sizeof(s->quote), "%s", dash + 1);
	s->perp = n > 5 && strcmp(name + n - 5, "-PERP") == 0;
	if (s->perp)
		s->quote[strlen(s->quote) - 5] = '\0';

	if (eq)
		base_px = atof(eq + 1);
	else if (strcmp(s->base, "BTC") == 0)
		base_px = 60000;
	else if (strcmp(s->base, "ETH") == 0)
		base_px = 3000;
	else if (strcmp(s->base, "SOL") == 0)
		base_px = 150;
	else
		base_px = 10;
	if (!(base_px > 0))
		return false;
	s->px_dec = base_px >= 100 ? 2 : 4;
	s->qty_dec = base_px >= 10000 ? 5 : base_px >= 1000 ? 4 : base_px >= 100 ? 3 : 2;
	s->min_qty = 1;
	s->rng = hash64(seed ^ hash_str(s->name)) | 1;
	s->last_px = (int64_t) (base_px * (double) mk_pow10(s->px_dec) + 0.5);
	s->bid = s->last_px;
	s->ask = s->last_px + 1;
	s->bid_qty = s->ask_qty = 100;
	s->next_trade_id = 1000000 + (hash64(s->rng) % 1000000);
	s->book_seq = 100000000 + (hash64(s->rng + 1) % 100000000);
	for (int iv = 0; iv < MK_NIV; iv++)
	{
		kline_open_empty(&s->cur[iv], zt_floor_div(start_ms, mk_interval_ms[iv]) * mk_interval_ms[iv],
						 s->last_px);
		s->hist[iv] = calloc(MK_HISTORY, sizeof(MkKline));
		if (!s->hist[iv])
			return false;
	}
	return true;
}

bool
mk_init(Market *m, const char *symbols, uint64_t seed, int64_t start_ms,
		const char **err)
{
	char	   *copy = strdup(symbols);
	char	   *save = NULL;
	char	   *tok;

	memset(m, 0, sizeof(*m));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		if (m->nsymbols == MK_MAX_SYMBOLS)
		{
			*err = "too many symbols";
			free(copy);
			return false;
		}
		if (!symbol_init(&m->sym[m->nsymbols], tok, seed, start_ms))
		{
			*err = "symbols must look like BTC-USDT, BTC-USDT-PERP or ETH-USDT=3000";
			free(copy);
			mk_free(m);			/* what the symbols before it allocated */
			return false;
		}
		m->nsymbols++;
	}
	free(copy);
	if (m->nsymbols == 0)
	{
		*err = "no symbols";
		return false;
	}
	return true;
}

void
mk_free(Market *m)
{
	for (int i = 0; i < m->nsymbols; i++)
		for (int iv = 0; iv < MK_NIV; iv++)
			free(m->sym[i].hist[iv]);
}

MkSymbol *
mk_find(Market *m, const char *name)
{
	for (int i = 0; i < m->nsymbols; i++)
		if (strcmp(m->sym[i].name, name) == 0)
			return &m->sym[i];
	return NULL;
}

/* Move the open bucket of iv into history and open the next, empty. */
static void
kline_close(MkSymbol *s, int iv, const MkSink *sink)
{
	MkKline    *k = &s->cur[iv];
	int			slot = (s->hist_head[iv] + s->hist_n[iv]) % MK_HISTORY;

	/* a copy replaying the past (history.c) keeps no ring */
	if (s->hist[iv])
	{
		if (s->hist_n[iv] == MK_HISTORY)
			s->hist_head[iv] = (s->hist_head[iv] + 1) % MK_HISTORY;
		else
			s->hist_n[iv]++;
		s->hist[iv][slot] = *k;
	}
	if (sink && sink->kline_closed)
		sink->kline_closed(sink->arg, s, iv, k);
	kline_open_empty(k, k->open_ts + mk_interval_ms[iv], k->c);
}

void
mk_advance(MkSymbol *s, int64_t ts, const MkSink *sink)
{
	for (int iv = 0; iv < MK_NIV; iv++)
	{
		/* a long silence emits at most one history's worth of empty klines */
		if (ts - s->cur[iv].open_ts > mk_interval_ms[iv] * MK_HISTORY)
			kline_open_empty(&s->cur[iv],
							 zt_floor_div(ts, mk_interval_ms[iv]) * mk_interval_ms[iv] -
							 mk_interval_ms[iv], s->last_px);
		while (s->cur[iv].open_ts + mk_interval_ms[iv] <= ts)
			kline_close(s, iv, sink);
	}
}

void
mk_trade(MkSymbol *s, int64_t ts, const MkSink *sink)
{
	uint64_t	r = rng_next(&s->rng);
	int64_t		gap = level_gap(s);
	int64_t		step = ((int64_t) (r % 5) - 2) * gap;
	int64_t		spread = 1 + (int64_t) ((r >> 8) % 3);
	MkTrade		t;

	mk_advance(s, ts, sink);

	/* random walk with a pull back when it wanders more than 30% away */
	if (s->last_px + step <= gap * 10)
		step = gap;
	s->last_px += step;
	t.ts = ts;
	t.id = s->next_trade_id++;
	t.px = s->last_px;
	t.qty = s->min_qty * (int64_t) (1 + ((r >> 16) % 100) * ((r >> 24) % 50) / 10);
	t.taker_buy = step > 0 || (step == 0 && ((r >> 32) & 1));

	/* the trade took the touch: the book sits around it */
	if (t.taker_buy)
	{
		s->ask = t.px;
		s->bid = t.px - spread;
	}
	else
	{
		s->bid = t.px;
		s->ask = t.px + spread;
	}
	s->bid_qty = s->min_qty * (int64_t) (1 + (r >> 40) % 5000);
	s->ask_qty = s->min_qty * (int64_t) (1 + (r >> 52) % 5000);
	s->book_seq++;
	s->trades++;
	if ((s->trades & 63) == 0)
		s->book_epoch++;

	for (int iv = 0; iv < MK_NIV; iv++)
	{
		MkKline    *k = &s->cur[iv];
		__int128	notional = (__int128) t.px * t.qty;

		if (k->count == 0)
		{
			k->o = k->h = k->l = t.px;
			k->first_id = (int64_t) t.id;
		}
		if (t.px > k->h)
			k->h = t.px;
		if (t.px < k->l)
			k->l = t.px;
		k->c = t.px;
		k->vol += t.qty;
		k->quote_vol += notional;
		if (t.taker_buy)
		{
			k->taker_buy_vol += t.qty;
			k->taker_buy_quote += notional;
		}
		k->count++;
		k->last_id = (int64_t) t.id;
		k->last_trade_ts = ts;
	}
	if (sink && sink->trade)
		sink->trade(sink->arg, s, &t);
}

/* Size resting at px on one side: stable between epochs. */
static int64_t
level_qty(const MkSymbol *s, int64_t px, int side)
{
	uint64_t	h = hash64((uint64_t) px * 2 + (uint64_t) side + ((uint64_t) s->book_epoch << 40) +
						   hash_str(s->name));

	return s->min_qty * (int64_t) (1 + h % 20000);
}

void
mk_book(const MkSymbol *s, int depth, MkBook *out)
{
	int64_t		gap = level_gap(s);
	int64_t		px;

	if (depth > MK_BOOK_DEPTH)
		depth = MK_BOOK_DEPTH;
	out->nbids = out->nasks = depth;
	out->bids[0].px = s->bid;
	out->bids[0].qty = s->bid_qty;
	out->asks[0].px = s->ask;
	out->asks[0].qty = s->ask_qty;
	/* deeper levels on a grid of gap ticks, so most survive a small move */
	px = zt_floor_div(s->bid - 1, gap) * gap;
	for (int i = 1; i < depth; i++, px -= gap)
	{
		out->bids[i].px = px;
		out->bids[i].qty = level_qty(s, px, 0);
	}
	px = (zt_floor_div(s->ask, gap) + 1) * gap;
	for (int i = 1; i < depth; i++, px += gap)
	{
		out->asks[i].px = px;
		out->asks[i].qty = level_qty(s, px, 1);
	}
}

/* One side's changes; desc = bids (descending prices). */
static int
side_diff(const MkLevel *a, int na, const MkLevel *b, int nb, bool desc,
		  MkLevel *out)
{
	int			i = 0,
				j = 0,
				n = 0;

	while (i < na || j < nb)
	{
		bool		take_a;

		if (i == na)
			take_a = false;
		else if (j == nb)
			take_a = true;
		else if (a[i].px == b[j].px)
		{
			if (a[i].qty != b[j].qty)
				out[n++] = b[j];
			i++, j++;
			continue;
		}
		else
			take_a = desc ? a[i].px > b[j].px : a[i].px < b[j].px;
		if (take_a)
		{
			out[n].px = a[i++].px;
			out[n++].qty = 0;	/* gone */
		}
		else
			out[n++] = b[j++];	/* new */
	}
	return n;
}

int
mk_book_diff(const MkBook *from, const MkBook *to, MkBook *delta)
{
	MkLevel		tmp[2 * MK_BOOK_DEPTH];
	int			n;

	/* at most every old level plus every new one: no change is ever lost */
	n = side_diff(from->bids, from->nbids, to->bids, to->nbids, true, tmp);
	delta->nbids = n;
	memcpy(delta->bids, tmp, sizeof(MkLevel) * n);
	n = side_diff(from->asks, from->nasks, to->asks, to->nasks, false, tmp);
	delta->nasks = n;
	memcpy(delta->asks, tmp, sizeof(MkLevel) * n);
	return delta->nbids + delta->nasks;
}

int
mk_history(const MkSymbol *s, int iv, int64_t from_ms, int64_t to_ms,
		   const MkKline **out, int max)
{
	int			n = 0;

	for (int i = 0; i < s->hist_n[iv] && n < max; i++)
	{
		const MkKline *k = &s->hist[iv][(s->hist_head[iv] + i) % MK_HISTORY];

		if (k->open_ts >= from_ms && k->open_ts <= to_ms)
			out[n++] = k;
	}
	return n;
}

int
mk_fmt_units(char *buf, size_t len, __int128 units, int dec, bool pad)
{
	char		digits[64];
	int			nd = 0;
	bool		neg = units < 0;
	unsigned __int128 u = neg ? -(unsigned __int128) units : (unsigned __int128) units;
	size_t		o = 0;
	int			intlen;
	int			fraclen = dec;

	do
	{
		digits[nd++] = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u > 0 || nd <= dec);
	/* digits are reversed: digits[0] is the last decimal */
	if (!pad)
		while (fraclen > 0 && digits[dec - fraclen] == '0')
			fraclen--;
	intlen = nd - dec;
	if (len < (size_t) (intlen + fraclen + 3))
	{
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	if (neg)
		buf[o++] = '-';
	for (int i = nd - 1; i >= dec; i--)
		buf[o++] = digits[i];
	if (fraclen > 0)
	{
		buf[o++] = '.';
		for (int i = dec - 1; i >= dec - fraclen; i--)
			buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return (int) o;
}
