/*-------------------------------------------------------------------------
 *
 * src/storage/chunk.h
 *	  What the files of src/storage share: the hypertable catalog, chunk
 *	  names and bound literals, and running code as a table's owner.
 *
 * chunk.c finds and creates chunks, chunk_list.c lists and drops them,
 * as_owner.c switches to a hypertable's owner for its maintenance,
 * pass_lock.c takes the locks of one maintenance pass.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_STORAGE_CHUNK_H
#define ZVT_STORAGE_CHUNK_H


#define CHUNK_SCHEMA		"_zvt_chunks"

/* What zvt._hypertables says of one table. */
typedef struct HypertableInfo
{
	Oid			relid;
	char	   *time_column;	/* palloc'd */
	Oid			time_type;		/* TIMESTAMPTZOID or TIMESTAMPOID */
	int64		interval;		/* chunk width in microseconds, > 0 */
} HypertableInfo;

/* The user and GUC state storage_run_as saved, for storage_run_as_end. */
typedef struct StorageUserSave
{
	Oid			userid;
	int			sec_context;
	int			nestlevel;		/* GUC nest level to roll back to */
} StorageUserSave;

/* in chunk.c */
extern bool hypertable_lookup(Oid relid, HypertableInfo *info);
extern void hypertable_require(Oid relid, HypertableInfo *info);
extern char *chunk_bound_literal(const HypertableInfo *ht, int64 ts);
extern char *chunk_qualified_name(Oid relid);
extern Oid	chunk_rel_owner(Oid relid);
extern bool chunk_lock_hypertable(Oid relid);

/* in chunk_list.c */
extern bool chunk_holds_nolock(Oid chunk, int64 ts);
extern Oid	chunk_holding_nolock(Oid relid, int64 ts);
extern bool chunk_end_nolock(Oid chunk, int64 *end);
extern bool chunk_expired_nolock(Oid relid, int64 older);

/* in as_owner.c */
extern void storage_run_as(Oid role, StorageUserSave *save);
extern void storage_run_as_end(const StorageUserSave *save);

#endif							/* ZVT_STORAGE_CHUNK_H */
