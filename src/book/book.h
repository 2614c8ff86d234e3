/*-------------------------------------------------------------------------
 *
 * src/book/book.h
 *	  An L2 order book in plain C: fixed-point levels kept sorted, the
 *	  changes an exchange sends applied one by one, OKX's CRC32 over the
 *	  top 25 levels, and each exchange's sequence rule (BookSync).
 *
 * Pure C, no PostgreSQL header: the feed worker keeps one Book per
 * subscribed book and publishes its top levels to shared memory
 * (store.c); tests and the fuzzer drive it directly.
 *
 * Numbers.  A price or size is an int64 count of 10^-8 (BOOK_SCALE), the
 * way Binance writes its strings; each level also keeps how many
 * decimals the exchange wrote (OKX's checksum is over the strings as
 * received, "30244" and "30244.0" differ).  A text with more than 8
 * decimals, an exponent, a sign or a value of 92 billion or more is
 * rejected: the frame is then malformed and the book resyncs.
 *
 * Wording: a "level" is one price with its total size; an "update" is
 * one level's new size (0 removes it); a "message" is what one frame
 * carries for one book (a snapshot or a list of updates).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BOOK_H
#define ZVT_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOK_SCALE_DIGITS	8
#define BOOK_SCALE			INT64_C(100000000)
#define BOOK_MAX_DEPTH		1000	/* levels a side zvt.subscribe accepts */
#define BOOK_CHECKSUM_LEVELS 25		/* OKX */

typedef struct BookLevel
{
	int64_t		px;				/* 10^-8 units of the quote currency */
	int64_t		qty;			/* 10^-8 units as sent (base, or OKX contracts) */
	uint8_t		pxd;			/* decimals the exchange wrote for px */
	uint8_t		qd;				/* ... and for qty */
} BookLevel;

typedef struct BookUpdate
{
	bool		bid;
	BookLevel	lv;				/* qty 0 removes the level */
} BookUpdate;

/*
 * One side holds at most cap levels: bids descending, asks ascending.
 * When a side is full, a new level better than its worst pushes the worst
 * out and a worse one is ignored (levels far from the touch that the
 * exchange's depth would not show anyway).
 */
typedef struct Book
{
	int			cap;
	int			nbids;
	int			nasks;
	BookLevel  *bids;			/* malloc'd, cap each */
	BookLevel  *asks;
} Book;

/* in book.c */

/* Allocate both sides for cap levels; false when out of memory (book zeroed). */
extern bool book_init(Book *b, int cap);
extern void book_free(Book *b);
extern void book_clear(Book *b);

/* Set one level (qty 0 removes it; removing an absent level is a no-op). */
extern void book_set(Book *b, bool bid, const BookLevel *lv);

/* Apply updates[0..n) in order. */
extern void book_apply(Book *b, const BookUpdate *updates, int n);

/* True when both sides have levels and the best bid is not below the best ask. */
extern bool book_crossed(const Book *b);

/*
 * OKX's checksum: CRC32 (IEEE) of "bid0px:bid0sz:ask0px:ask0sz:..." over
 * the first 25 levels of each side, written with the decimals received,
 * as a signed 32-bit integer.
 */
extern int32_t book_checksum(const Book *b);

/* CRC32 (IEEE, as zlib's crc32(0, ...)) of len bytes. */
extern uint32_t book_crc32(const char *data, size_t len);

/*
 * Decimal text ("60000.10", "0.00012", "415") -> *v in 10^-8 units and
 * *dec its decimals.  False (outputs unaltered) for anything else: empty,
 * a sign, an exponent, more than 8 decimals, too large.
 */
extern bool book_parse_decimal(const char *s, int64_t *v, uint8_t *dec);

/*
 * Write v (10^-8 units) with dec decimals into buf (at least 32 bytes);
 * returns the length.  The inverse of book_parse_decimal.
 */
extern int	book_format_decimal(char *buf, int64_t v, int dec);

/* in sync.c */

/* Each exchange's rule for telling a continuous stream from a broken one. */
typedef enum BookRule
{
	BOOK_RULE_BINANCE,			/* REST snapshot (lastUpdateId) + diffs U..u */
	BOOK_RULE_BYBIT,			/* snapshot then deltas with u = previous u + 1 */
	BOOK_RULE_OKX,				/* prevSeqId = previous seqId, CRC32 checksum */
	BOOK_RULE_COINBASE,			/* snapshot then updates; the connection's
								 * sequence_num is checked by the caller */
	BOOK_RULE_BINANCE_FUTURES	/* REST snapshot + diffs U..u with pu = the
								 * previous diff's u */
} BookRule;

/* Rules whose snapshot comes from REST, diffs buffered meanwhile (Binance). */
#define BOOK_RULE_REST(r)	((r) == BOOK_RULE_BINANCE || (r) == BOOK_RULE_BINANCE_FUTURES)

typedef struct BookMsg
{
	bool		snapshot;
	int64_t		first;			/* Binance U; else = last */
	int64_t		last;			/* Binance u, Bybit u, OKX seqId; 0 when none */
	int64_t		prev;			/* OKX prevSeqId (-1 on a snapshot); Binance
								 * futures pu */
	bool		has_checksum;	/* OKX sent a checksum other than 0 */
	int32_t		checksum;
	int			n;
	const BookUpdate *updates;
} BookMsg;

typedef enum BookVerdict
{
	BOOK_APPLIED,				/* the book moved (or a snapshot loaded it) */
	BOOK_STALE,					/* older than the book: dropped */
	BOOK_BUFFERED,				/* Binance: kept until the REST snapshot */
	BOOK_WAITING,				/* no snapshot yet: dropped */
	BOOK_RESYNC					/* broken: see reason; the book is now waiting */
} BookVerdict;

typedef enum BookState
{
	BOOK_STATE_WAITING,			/* for a snapshot (Binance: buffering diffs) */
	BOOK_STATE_LIVE
} BookState;

/* Binance diffs kept while the REST snapshot is fetched */
#define BOOK_BUFFER_MAX		256

typedef struct BookSync
{
	BookRule	rule;
	BookState	state;
	Book		book;
	int64_t		last;			/* sequence of the last message applied */
	uint64_t	applied;		/* messages applied since init */
	uint64_t	level_updates;	/* levels set since init */
	/* Binance: diffs received while waiting, malloc'd copies */
	int			nbuffered;
	BookMsg		buffered[BOOK_BUFFER_MAX];
	bool		overflow;		/* the buffer filled up: start again */
	bool		fresh;			/* Binance futures: no diff applied since the
								 * snapshot yet */
} BookSync;

extern bool book_sync_init(BookSync *s, BookRule rule, int cap);
extern void book_sync_free(BookSync *s);

/* Forget the book and wait for a new snapshot (a reconnection, a resync). */
extern void book_sync_reset(BookSync *s);

/*
 * Feed one message.  Returns what became of it; on BOOK_RESYNC, reason
 * (reason_len bytes) says why and the book waits for a new snapshot
 * (Binance: from REST; the others: a resubscribe).  A Binance snapshot is
 * the REST answer: buffered diffs are replayed over it.
 */
extern BookVerdict book_sync_feed(BookSync *s, const BookMsg *m, char *reason, size_t reason_len);

#endif							/* ZVT_BOOK_H */
