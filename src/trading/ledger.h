/*-------------------------------------------------------------------------
 *
 * src/trading/ledger.h
 *	  Reading and writing rows of the ledger (zvt.accounts, orders,
 *	  exposure, ...) without the executor: index scans, copied rows,
 *	  direct heap and index inserts, and the snapshot the account's
 *	  checks read under.  The module is ledger_rows.c.
 *
 * zvt._place_order (place_order.c, order_write.c) and the risk check
 * (risk_sql.c) read and write through these.  Every function here expects
 * the caller to run as the ledger's owner (ledger_call.c) and, for the
 * account's rows, to hold the account's lock (base/locks.c) between
 * ledger_snapshot_push() and ledger_snapshot_pop().
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_TRADING_LEDGER_H
#define ZVT_TRADING_LEDGER_H

#include "access/genam.h"
#include "access/skey.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

/* One open relation and index, and a slot the current row is read into. */
typedef struct LedgerScan
{
	Relation	rel;
	Relation	idx;			/* NULL for a row fetched at a tid */
	IndexScanDesc scan;			/* likewise */
	TupleTableSlot *slot;
	bool		account_rows;	/* rows of the locked account: check freshness */
} LedgerScan;

/* One row read by an index scan, copied out of the buffer. */
typedef struct LedgerRow
{
	HeapTuple	tuple;
	TupleDesc	desc;			/* a copy of the relation's */
	ItemPointerData tid;		/* where the row version read is */
	Datum	   *values;
	bool	   *nulls;
} LedgerRow;

/* One relation written: its indexes, a slot and the row being built. */
typedef struct LedgerTarget
{
	Relation	rel;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *nulls;
	bool	   *set;
	int			next;			/* where row_set looks first: columns come in order */
} LedgerTarget;

/* in ledger_rows.c: relations */
extern void ledger_relation_oids(Oid nsp, const char *const *names, int n, Oid *oids);

/* in ledger_rows.c: the snapshot of the account's checks */
extern void ledger_snapshot_push(void);
extern void ledger_snapshot_pop(void);

/* in ledger_rows.c: reading */
extern void ledger_scan_begin(LedgerScan *s, Oid rel, Oid idx, ScanKey keys, int nkeys,
							  bool account_rows);
extern bool ledger_scan_next(LedgerScan *s);
extern bool ledger_scan_next_lazy(LedgerScan *s);
extern void ledger_scan_end(LedgerScan *s);
extern bool ledger_scan_at(LedgerScan *s, Oid rel, ItemPointer tid, int32 key);
extern int	ledger_attno(Relation rel, const char *name);
extern bool ledger_fetch_row(Oid rel, Oid idx, ScanKey keys, int nkeys, bool account_rows,
							 LedgerRow *out);
extern Datum ledger_row_get(const LedgerRow *r, const char *name);
extern Datum ledger_row_get_null(const LedgerRow *r, const char *name, bool *isnull);
extern char *ledger_row_text(const LedgerRow *r, const char *name);

/* in ledger_rows.c: writing */
extern void ledger_target_open(EState *estate, Oid relid, LedgerTarget *t, int checks,
							   bool update);
extern void ledger_target_close(LedgerTarget *t);
extern void ledger_row_begin(LedgerTarget *t);
extern void ledger_row_set(LedgerTarget *t, const char *name, Datum v, bool isnull);
extern void ledger_row_set_text(LedgerTarget *t, const char *name, const char *v);
extern TupleTableSlot *ledger_row_slot(LedgerTarget *t);
extern void ledger_row_insert(EState *estate, LedgerTarget *t);
extern void ledger_lock_referenced(Oid relid, ItemPointer tid, const char *constraint,
								   const char *column, int32 key);

/* column attno (1-based) of a scan's current row */
static inline bool
ledger_col_null(LedgerScan *s, int attno)
{
	return s->slot->tts_isnull[attno - 1];
}

static inline Datum
ledger_col(LedgerScan *s, int attno)
{
	return s->slot->tts_values[attno - 1];
}

#endif							/* ZVT_TRADING_LEDGER_H */
