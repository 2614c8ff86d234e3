/*-------------------------------------------------------------------------
 *
 * src/compress/plan.c
 *	  Keeps the planner off the indexes of compressed chunks.
 *
 * A compressed chunk's indexes hold entries for its late rows only, plus
 * those the key probe added (keys.c): an index scan of one would miss
 * rows.  So the planner sees a compressed chunk without indexes: a
 * get_relation_info_hook clears the index list of every relation of
 * access method zvt_compressed, which also keeps them out of index-only
 * scans, MIN/MAX, merge-join orderings and unique-join proofs.  The
 * executor still maintains them and uses the unique ones for its checks
 * (ExecInsertIndexTuples, ON CONFLICT's pre-check, which take their
 * indexes from the relation cache, not from the planner).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "optimizer/plancat.h"
#include "utils/rel.h"

#include "compress/zc.h"

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

static void zc_get_relation_info(PlannerInfo *root, Oid relid, bool inhparent,
								 RelOptInfo *rel);

/* no index paths for a compressed chunk (the planner holds its lock) */
static void
zc_get_relation_info(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relid, inhparent, rel);
	if (rel->indexlist != NIL)
	{
		Relation	r = table_open(relid, NoLock);

		if (zc_is_compressed(r))
			rel->indexlist = NIL;
		table_close(r, NoLock);
	}
}

/* Installs the planner hook; compress_hook_init calls it in every backend. */
void
zc_plan_hook_init(void)
{
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = zc_get_relation_info;
}
