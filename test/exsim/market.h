/*
 * test/exsim/market.h
 *	  The simulator's deterministic market: per symbol a random-walk trade
 *	  stream, klines that aggregate exactly those trades, a best bid/ask
 *	  and an order book derived from the last price.
 *
 * Plain C, no I/O: the server asks it for events and formats them per
 * exchange.  Prices are integers in ticks and sizes integers in lots, so
 * a kline's OHLCV equals the aggregate of its trades exactly and every
 * exchange formats the same values as its own decimal strings.
 *
 * Wording: a "trade" is one match; "bucket" is a kline's time span.
 */
#ifndef EXSIM_MARKET_H
#define EXSIM_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MK_MAX_SYMBOLS	16
#define MK_BOOK_DEPTH	50		/* levels per side the book keeps */
#define MK_HISTORY		4096	/* closed klines kept per interval */

/* Kline intervals every symbol aggregates, in ms. */
enum
{
	MK_IV_1M, MK_IV_5M, MK_IV_15M, MK_IV_1H, MK_IV_4H, MK_IV_1D, MK_NIV
};
extern const int64_t mk_interval_ms[MK_NIV];

typedef struct MkTrade
{
	int64_t		ts;				/* sim ms since the Unix epoch */
	uint64_t	id;				/* ascending per symbol */
	int64_t		px;				/* ticks */
	int64_t		qty;			/* lots */
	bool		taker_buy;
} MkTrade;

typedef struct MkKline
{
	int64_t		open_ts;		/* bucket start, ms */
	int64_t		o, h, l, c;		/* ticks */
	int64_t		vol;			/* lots */
	int64_t		taker_buy_vol;	/* lots */
	__int128	quote_vol;		/* ticks x lots */
	__int128	taker_buy_quote;
	int64_t		count;			/* trades */
	int64_t		first_id;		/* -1 when empty */
	int64_t		last_id;
	int64_t		last_trade_ts;	/* ms, 0 when empty */
} MkKline;

typedef struct MkLevel
{
	int64_t		px;				/* ticks */
	int64_t		qty;			/* lots; 0 in a delta = removed */
} MkLevel;

typedef struct MkBook
{
	int			nbids, nasks;
	/* a delta can hold every old level removed and every new one added */
	MkLevel		bids[2 * MK_BOOK_DEPTH];	/* descending */
	MkLevel		asks[2 * MK_BOOK_DEPTH];	/* ascending */
} MkBook;

typedef struct MkSymbol
{
	char		name[32];		/* normalized: BTC-USDT, BTC-USDT-PERP */
	char		base[16];
	char		quote[16];
	bool		perp;
	int			px_dec;			/* decimals of one tick: tick = 10^-px_dec */
	int			qty_dec;		/* decimals of one lot */
	int64_t		min_qty;		/* lots */
	uint64_t	rng;
	int64_t		last_px;		/* ticks */
	int64_t		bid, ask;		/* best prices, ticks */
	int64_t		bid_qty, ask_qty;
	uint64_t	next_trade_id;
	uint64_t	book_seq;		/* update id of the last book change */
	int64_t		book_epoch;		/* changes level sizes now and then */
	MkKline		cur[MK_NIV];	/* open bucket per interval */
	MkKline	   *hist[MK_NIV];	/* ring of closed klines */
	int			hist_n[MK_NIV];
	int			hist_head[MK_NIV];
	uint64_t	trades;			/* generated so far */
} MkSymbol;

typedef struct Market
{
	int			nsymbols;
	MkSymbol	sym[MK_MAX_SYMBOLS];
} Market;

/* Callbacks for what a step produced; any may be NULL. */
typedef struct MkSink
{
	void	   *arg;
	void		(*trade) (void *arg, MkSymbol *s, const MkTrade *t);
	void		(*kline_closed) (void *arg, MkSymbol *s, int iv, const MkKline *k);
} MkSink;

/*
 * Set up symbols (normalized names, comma-separated) with a seed; base
 * prices come from the name (BTC ~60000, ETH ~3000, SOL ~150, else 10) or
 * from "NAME=PRICE".  Returns false with *err set on a bad list.
 */
extern bool mk_init(Market *m, const char *symbols, uint64_t seed,
					int64_t start_ms, const char **err);
extern void mk_free(Market *m);
extern MkSymbol *mk_find(Market *m, const char *name);

/* Generate one trade of s at sim time ts, closing buckets it passes. */
extern void mk_trade(MkSymbol *s, int64_t ts, const MkSink *sink);

/* Close every bucket of s that ended at or before ts (no trade needed). */
extern void mk_advance(MkSymbol *s, int64_t ts, const MkSink *sink);

/* The current book (depth levels a side), derived from the best prices. */
extern void mk_book(const MkSymbol *s, int depth, MkBook *out);

/*
 * The changes from `from` to `to`: levels whose size changed or that
 * appeared, and removed levels with qty 0.  Returns the number of changes.
 */
extern int	mk_book_diff(const MkBook *from, const MkBook *to, MkBook *delta);

/* Closed klines of interval iv with open time in [from_ms, to_ms], oldest first. */
extern int	mk_history(const MkSymbol *s, int iv, int64_t from_ms, int64_t to_ms,
					   const MkKline **out, int max);

/*
 * Write units (an integer count of 10^-dec) as a decimal: with all dec
 * decimals when pad, else without trailing zeros.  Returns the length.
 */
extern int	mk_fmt_units(char *buf, size_t len, __int128 units, int dec, bool pad);

/* 10^n (n >= 0, small enough to fit) */
extern int64_t mk_pow10(int n);

#endif
