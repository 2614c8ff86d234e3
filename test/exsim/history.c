/*
 * test/exsim/history.c
 *	  The simulator's past, generated again on demand from checkpoints.
 *
 * See history.h.  hist_build runs the past once through the live symbol
 * (so the live market continues from its end) and keeps the generator's
 * state every HIST_CHECKPOINT trades; hist_trades and hist_klines restore
 * a copy of the symbol from the nearest checkpoint before what they are
 * asked for and run mk_trade again, which gives the same trades and the
 * same klines bit for bit: the walk depends only on the generator state
 * and the last price, and a kline opened after the checkpoint starts
 * from the previous close, which is that last price.
 */
#define _POSIX_C_SOURCE 200809L
#include "history.h"

#include <stdlib.h>
#include <string.h>

#include "core/zvt_time.h"

int64_t
hist_trade_ts(const MkHistory *h, int64_t i)
{
	return h->start_ms + (int64_t) ((__int128) i * h->period_us / 1000);
}

int64_t
hist_index_at(const MkHistory *h, int64_t ts)
{
	__int128	num;
	int64_t		i;

	if (ts <= h->start_ms)
		return 0;
	num = (__int128) (ts - h->start_ms) * 1000;
	i = (int64_t) ((num + h->period_us - 1) / h->period_us);
	return i > h->ntrades ? h->ntrades : i;
}

bool
hist_build(MkHistory *h, MkSymbol *s, int64_t start_ms, int64_t end_ms,
		   double rate, const MkSink *sink)
{
	memset(h, 0, sizeof(*h));
	h->proto = *s;
	for (int iv = 0; iv < MK_NIV; iv++)
		h->proto.hist[iv] = NULL;
	h->start_ms = start_ms;
	h->end_ms = end_ms;
	h->period_us = (int64_t) (1e6 / rate);
	if (h->period_us < 1)
		h->period_us = 1;
	h->ntrades = (int64_t) ((__int128) (end_ms - start_ms) * 1000 / h->period_us);
	while (h->ntrades > 0 && hist_trade_ts(h, h->ntrades - 1) >= end_ms)
		h->ntrades--;
	h->first_id = s->next_trade_id;
	h->ck = calloc((size_t) (h->ntrades / HIST_CHECKPOINT + 1), sizeof(MkCheckpoint));
	if (!h->ck)
		return false;
	for (int64_t i = 0; i < h->ntrades; i++)
	{
		if (i % HIST_CHECKPOINT == 0)
		{
			MkCheckpoint *c = &h->ck[i / HIST_CHECKPOINT];

			c->rng = s->rng;
			c->last_px = s->last_px;
			c->next_trade_id = s->next_trade_id;
		}
		mk_trade(s, hist_trade_ts(h, i), sink);
	}
	mk_advance(s, end_ms, sink);
	return true;
}

void
hist_free(MkHistory *h)
{
	free(h->ck);
	h->ck = NULL;
}

/* A copy of the symbol as it was before trade index c * HIST_CHECKPOINT. */
static void
restore(const MkHistory *h, int64_t c, MkSymbol *s)
{
	const MkCheckpoint *ck = &h->ck[c];
	int64_t		ts = hist_trade_ts(h, c * HIST_CHECKPOINT);

	*s = h->proto;
	s->rng = ck->rng;
	s->last_px = ck->last_px;
	s->next_trade_id = ck->next_trade_id;
	for (int iv = 0; iv < MK_NIV; iv++)
	{
		MkKline    *k = &s->cur[iv];

		memset(k, 0, sizeof(*k));
		k->open_ts = zt_floor_div(ts, mk_interval_ms[iv]) * mk_interval_ms[iv];
		k->o = k->h = k->l = k->c = s->last_px;
		k->first_id = k->last_id = -1;
	}
}

typedef struct TradeOut
{
	int64_t		skip;			/* trades to generate before the first kept */
	MkTrade    *out;
	int			n;
	int			max;
} TradeOut;

static void
take_trade(void *arg, MkSymbol *s, const MkTrade *t)
{
	TradeOut   *o = arg;

	(void) s;
	if (o->skip > 0)
		o->skip--;
	else if (o->n < o->max)
		o->out[o->n++] = *t;
}

int
hist_trades(const MkHistory *h, int64_t from, MkTrade *out, int max)
{
	MkSymbol	s;
	TradeOut	o = {0, out, 0, max};
	MkSink		sink = {&o, take_trade, NULL};
	int64_t		c;

	if (from < 0)
		from = 0;
	if (from >= h->ntrades || max <= 0)
		return 0;
	c = from / HIST_CHECKPOINT;
	restore(h, c, &s);
	o.skip = from - c * HIST_CHECKPOINT;
	for (int64_t i = c * HIST_CHECKPOINT; i < h->ntrades && o.n < max; i++)
		mk_trade(&s, hist_trade_ts(h, i), &sink);
	return o.n;
}

typedef struct KlineOut
{
	int			iv;
	int64_t		from_ms;
	int64_t		to_ms;
	MkKline    *out;
	int			n;
	int			max;
} KlineOut;

static void
take_kline(void *arg, MkSymbol *s, int iv, const MkKline *k)
{
	KlineOut   *o = arg;

	(void) s;
	if (iv == o->iv && k->open_ts >= o->from_ms && k->open_ts <= o->to_ms && o->n < o->max)
		o->out[o->n++] = *k;
}

int
hist_klines(const MkHistory *h, int iv, int64_t from_ms, int64_t to_ms,
			MkKline *out, int max)
{
	int64_t		ivms = mk_interval_ms[iv];
	int64_t		first = zt_floor_div(h->start_ms, ivms) * ivms;
	int64_t		from_al = -zt_floor_div(-from_ms, ivms) * ivms;
	int64_t		stop;
	KlineOut	o = {iv, 0, to_ms, out, 0, max};
	MkSink		sink = {&o, NULL, take_kline};
	MkSymbol	s;
	int64_t		i;

	if (from_al < first)
		from_al = first;
	o.from_ms = from_al;
	if (from_al > to_ms || from_al + ivms > h->end_ms || max <= 0 || h->ck == NULL)
		return 0;
	/* the bucket of to_ms ends here, and nothing of the past after end_ms */
	stop = zt_floor_div(to_ms, ivms) * ivms + ivms;
	if (stop > h->end_ms)
		stop = h->end_ms;
	i = hist_index_at(h, from_al) / HIST_CHECKPOINT * HIST_CHECKPOINT;
	if (h->ntrades == 0)
	{
		/* no trade at all: empty buckets at the start price */
		memset(&s, 0, sizeof(s));
		s = h->proto;
	}
	else
		restore(h, i / HIST_CHECKPOINT, &s);
	for (; i < h->ntrades && o.n < max; i++)
	{
		int64_t		ts = hist_trade_ts(h, i);

		if (ts >= stop)
			break;
		mk_trade(&s, ts, &sink);
	}
	if (o.n < max)
		mk_advance(&s, stop, &sink);
	return o.n;
}
