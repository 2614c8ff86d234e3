/*-------------------------------------------------------------------------
 *
 * src/compress/tam.h
 *	  The callbacks of the zvt_compressed access method that tam_write.c
 *	  defines for the routine in tam.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_COMPRESS_TAM_H
#define ZVT_COMPRESS_TAM_H

#include "access/tableam.h"

/* in tam_write.c */
extern void zc_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid, int options, BulkInsertState bistate);
extern void zc_tuple_insert_speculative(Relation rel, TupleTableSlot *slot, CommandId cid, int options, BulkInsertState bistate, uint32 specToken);
extern void zc_tuple_complete_speculative(Relation rel, TupleTableSlot *slot, uint32 specToken, bool succeeded);
extern void zc_multi_insert(Relation rel, TupleTableSlot **slots, int nslots, CommandId cid, int options, BulkInsertState bistate);
extern TM_Result zc_tuple_delete(Relation rel, ItemPointer tid, CommandId cid, Snapshot snapshot, Snapshot crosscheck, bool wait, TM_FailureData *tmfd, bool changingPart);
extern TM_Result zc_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot, CommandId cid, Snapshot snapshot, Snapshot crosscheck, bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode, bool *update_indexes);
extern TM_Result zc_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot, TupleTableSlot *slot, CommandId cid, LockTupleMode mode, LockWaitPolicy wait_policy, uint8 flags, TM_FailureData *tmfd);
extern void zc_finish_bulk_insert(Relation rel, int options);
extern void zc_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode, char persistence, TransactionId *freezeXid, MultiXactId *minmulti);
extern void zc_relation_nontransactional_truncate(Relation rel);
extern void zc_relation_copy_data(Relation rel, const RelFileNode *newrnode);
extern void zc_relation_copy_for_cluster(Relation OldTable, Relation NewTable, Relation OldIndex, bool use_sort, TransactionId OldestXmin, TransactionId *xid_cutoff, MultiXactId *multi_cutoff, double *num_tuples, double *tups_vacuumed, double *tups_recently_dead);
extern void zc_relation_vacuum(Relation rel, struct VacuumParams *params, BufferAccessStrategy bstrategy);

#endif							/* ZVT_COMPRESS_TAM_H */
