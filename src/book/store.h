/*-------------------------------------------------------------------------
 *
 * src/book/store.h
 *	  The live order books in shared memory: one slot per subscribed book,
 *	  written by its exchange's feed worker, read by zvt.book() and by
 *	  paper fills without a lock or a table read.
 *
 * Sizes in a slot are base units (OKX swap contracts are converted when
 * the worker publishes), prices and sizes 10^-8 units (BOOK_SCALE).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_BOOK_STORE_H
#define ZVT_BOOK_STORE_H

#include "datatype/timestamp.h"

#include "book/book.h"

#define BOOK_STORE_SLOTS	64	/* books all databases can have live at once */
#define BOOK_SYMBOL_LEN		40
#define BOOK_EXCHANGE_LEN	16

/* A book as read out of shared memory (palloc'd by the reader). */
typedef struct BookCopy
{
	char		exchange[BOOK_EXCHANGE_LEN];
	char		symbol[BOOK_SYMBOL_LEN];
	int32		instrument_id;
	bool		live;			/* in step with the exchange (else: last good book) */
	int			depth;			/* levels a side the subscription keeps */
	int64		seq;			/* the exchange's last update id applied, 0 if none */
	TimestampTz updated_at;		/* when the worker last published */
	int64		updates;		/* messages applied since the slot was taken */
	int64		level_updates;	/* levels those messages set */
	int64		resyncs;		/* breaks since the slot was taken */
	int			nbids;
	int			nasks;
	int64		bid_px[BOOK_MAX_DEPTH];
	int64		bid_qty[BOOK_MAX_DEPTH];
	int64		ask_px[BOOK_MAX_DEPTH];
	int64		ask_qty[BOOK_MAX_DEPTH];
} BookCopy;

/* in store.c */
extern Size book_shmem_size(void);
extern void book_shmem_init(void);

/*
 * Writer side (the exchange's feed worker, inside a transaction for the
 * first call).  Returns the slot index, or -1 when every slot is taken.
 */
extern int	book_store_claim(const char *exchange, const char *symbol, int32 instrument_id, int depth);
extern void book_store_release(int slot);
/*
 * Publish the top of b (at most the slot's depth a side), sizes times
 * qty_mult (10^-8 units: BOOK_SCALE for base units, OKX ctVal otherwise).
 */
extern void book_store_publish(int slot, const Book *b, int64 qty_mult, bool live, int64 seq,
							   int64 updates, int64 level_updates, int64 resyncs, TimestampTz ts);

/* Reader side: false when this database has no such book. */
extern bool book_store_read(const char *exchange, const char *symbol, int depth, BookCopy *out);
extern bool book_store_read_id(int32 instrument_id, int depth, BookCopy *out);
/* Every live slot of this database, for zvt.books: returns how many (palloc'd *out). */
extern int	book_store_list(BookCopy **out);

#endif							/* ZVT_BOOK_STORE_H */
