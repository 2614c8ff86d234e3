/*-------------------------------------------------------------------------
 *
 * src/storage/restore.c
 *	  A ProcessUtility hook that lets pg_restore replay the indexes of the
 *	  chunks of zvt's own hypertables, which attaching them already built.
 *
 * zvt.trades, zvt.candles and zvt.quotes belong to the extension, so
 * CREATE EXTENSION creates them with their indexes.  Their chunks are
 * ordinary tables in _zvt_chunks, which pg_dump dumps as a CREATE TABLE,
 * an ALTER TABLE ... ATTACH PARTITION (pre-data) and, after the data, one
 * CREATE INDEX or ALTER TABLE ... ADD CONSTRAINT per chunk index followed
 * by ALTER INDEX ... ATTACH PARTITION.  For a hypertable of the user's,
 * the parent's indexes are restored after its chunks are attached, so the
 * chunk indexes come only from those statements.  For zvt's own, the
 * parent's indexes exist when the chunk is attached, so ATTACH builds the
 * chunk's indexes under the very names the dump gives them, and every
 * CREATE INDEX and ADD CONSTRAINT fails with "already exists".  Nothing
 * in SQL can tell pg_dump to leave a dumped table's indexes out, and
 * ATTACH always builds the indexes its parent has.
 *
 * So this hook turns such a statement into a no-op when the object it
 * would create already exists, exactly as it would be created:
 *	- CREATE INDEX name ON <a table in _zvt_chunks>: an index of that name
 *	  exists on that table, is attached to a partitioned index, and its
 *	  pg_get_indexdef() is the statement's text (which is what pg_dump
 *	  writes: its text of the same index);
 *	- ALTER TABLE [ONLY] <a table in _zvt_chunks> ADD CONSTRAINT name
 *	  PRIMARY KEY | UNIQUE (cols) [INCLUDE (cols)], each subcommand: a
 *	  constraint of that name and kind exists on that table, is inherited
 *	  from its parent's constraint, and has the same key and included
 *	  columns, NULLS [NOT] DISTINCT and deferrability;
 * and the caller owns the table, and sent the statement at top level.
 * Anything else, and anything that
 * differs, runs as usual and fails as usual.  The ALTER INDEX ... ATTACH
 * PARTITION that follows is a no-op in PostgreSQL itself (the index is
 * attached already).
 *
 * The hook is installed whenever zvt.so is loaded: in every backend when
 * it is preloaded (which zvt needs anyway), and in pg_restore's own
 * session from its CREATE EXTENSION on, which runs zvt's C functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "storage/chunk.h"
#include "storage/restore.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

static void restore_process_utility(PlannedStmt *pstmt, const char *query_string,
									bool read_only_tree,
									ProcessUtilityContext context,
									ParamListInfo params,
									QueryEnvironment *query_env,
									DestReceiver *dest, QueryCompletion *qc);
static bool already_built(PlannedStmt *pstmt, const char *query_string);
static Oid	owned_chunk_table(RangeVar *rv);
static char *statement_text(PlannedStmt *pstmt, const char *query_string);
static bool index_already_built(IndexStmt *stmt, const char *sql);
static bool constraint_already_built(Oid relid, Constraint *con);
static bool columns_match(Oid relid, const int16 *attnums, List *names);

/* Install the hook; called once per backend from _PG_init. */
void
restore_hook_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = restore_process_utility;
}

static void
restore_process_utility(PlannedStmt *pstmt, const char *query_string,
						bool read_only_tree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *query_env,
						DestReceiver *dest, QueryCompletion *qc)
{
	/* pg_restore and psql send each statement at top level */
	if (context == PROCESS_UTILITY_TOPLEVEL && already_built(pstmt, query_string))
	{
		/* DEBUG only: a restore must print nothing for it */
		ereport(DEBUG1,
				(errmsg_internal("zvt: skipped a statement that would create an index attaching its chunk already built")));
		return;
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, query_string, read_only_tree, context,
							 params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context,
								params, query_env, dest, qc);
}

/*
 * Is pstmt a CREATE INDEX or ADD CONSTRAINT whose whole effect already
 * exists on a chunk (see the file head)?  Cheap for every other statement.
 */
static bool
already_built(PlannedStmt *pstmt, const char *query_string)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (parsetree == NULL || !IsTransactionState())
		return false;

	if (IsA(parsetree, IndexStmt))
	{
		IndexStmt  *stmt = (IndexStmt *) parsetree;

		if (stmt->idxname == NULL || stmt->if_not_exists || stmt->concurrent ||
			stmt->primary || stmt->isconstraint)
			return false;
		return index_already_built(stmt, statement_text(pstmt, query_string));
	}

	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		Oid			relid;
		ListCell   *lc;

		if (stmt->objtype != OBJECT_TABLE || stmt->cmds == NIL)
			return false;
		/* only ADD CONSTRAINT subcommands, before any catalog lookup */
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype != AT_AddConstraint || cmd->def == NULL ||
				!IsA(cmd->def, Constraint))
				return false;
		}
		relid = owned_chunk_table(stmt->relation);
		if (!OidIsValid(relid))
			return false;
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (!constraint_already_built(relid, (Constraint *) cmd->def))
				return false;
		}
		return true;
	}
	return false;
}

/*
 * The table rv names if it is a table in _zvt_chunks that the current
 * user owns, else InvalidOid.  Takes no lock: the caller only reads the
 * catalog, and the statement that would have run takes its own.
 */
static Oid
owned_chunk_table(RangeVar *rv)
{
	Oid			nsp = get_namespace_oid(CHUNK_SCHEMA, true);
	Oid			relid;

	if (!OidIsValid(nsp) || rv == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid) || get_rel_namespace(relid) != nsp ||
		get_rel_relkind(relid) != RELKIND_RELATION ||
		!pg_class_ownercheck(relid, GetUserId()))
		return InvalidOid;
	return relid;
}

/*
 * The text of pstmt within query_string, without leading blanks and
 * "--" comment lines or trailing blanks and semicolons.  palloc'd.
 */
static char *
statement_text(PlannedStmt *pstmt, const char *query_string)
{
	int			loc = pstmt->stmt_location < 0 ? 0 : pstmt->stmt_location;
	const char *s = query_string + loc;
	int			len = pstmt->stmt_len > 0 ? pstmt->stmt_len : (int) strlen(s);

	for (;;)
	{
		while (len > 0 && isspace((unsigned char) *s))
			s++, len--;
		if (len < 2 || s[0] != '-' || s[1] != '-')
			break;
		while (len > 0 && *s != '\n')
			s++, len--;
	}
	while (len > 0 && (isspace((unsigned char) s[len - 1]) || s[len - 1] == ';'))
		len--;
	return pnstrdup(s, len);
}

/*
 * Does an index of stmt's name exist on stmt's chunk, attached to a
 * partitioned index, with sql as its pg_get_indexdef()?
 */
static bool
index_already_built(IndexStmt *stmt, const char *sql)
{
	Oid			relid = owned_chunk_table(stmt->relation);
	Oid			idx;
	char	   *def;

	if (!OidIsValid(relid))
		return false;
	idx = get_relname_relid(stmt->idxname, get_rel_namespace(relid));
	if (!OidIsValid(idx) || get_rel_relkind(idx) != RELKIND_INDEX ||
		IndexGetRelation(idx, true) != relid || !get_rel_relispartition(idx))
		return false;
	def = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_get_indexdef,
															 ObjectIdGetDatum(idx))));
	return strcmp(def, sql) == 0;
}

/*
 * Does con (PRIMARY KEY or UNIQUE on plain columns) exist on relid under
 * its name, inherited from the parent's constraint, with the same
 * columns, NULLS [NOT] DISTINCT and deferrability?
 */
static bool
constraint_already_built(Oid relid, Constraint *con)
{
	Oid			conoid;
	HeapTuple	tup;
	Form_pg_constraint c;
	Form_pg_index ix;
	char		kind;
	Oid			indexoid;
	bool		ok;

	if ((con->contype != CONSTR_PRIMARY && con->contype != CONSTR_UNIQUE) ||
		con->conname == NULL || con->indexname != NULL || con->options != NIL ||
		con->indexspace != NULL || con->where_clause != NULL)
		return false;
	kind = con->contype == CONSTR_PRIMARY ? CONSTRAINT_PRIMARY : CONSTRAINT_UNIQUE;
	conoid = get_relation_constraint_oid(relid, con->conname, true);
	if (!OidIsValid(conoid))
		return false;

	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return false;
	c = (Form_pg_constraint) GETSTRUCT(tup);
	ok = c->contype == kind && OidIsValid(c->conparentid) &&
		c->condeferrable == con->deferrable && c->condeferred == con->initdeferred;
	indexoid = c->conindid;
	ReleaseSysCache(tup);
	if (!ok)
		return false;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		return false;
	ix = (Form_pg_index) GETSTRUCT(tup);
	ok = ix->indnullsnotdistinct == con->nulls_not_distinct &&
		ix->indnkeyatts == list_length(con->keys) &&
		ix->indnatts - ix->indnkeyatts == list_length(con->including) &&
		columns_match(relid, ix->indkey.values, con->keys) &&
		columns_match(relid, ix->indkey.values + ix->indnkeyatts, con->including);
	ReleaseSysCache(tup);
	return ok;
}

/* Are names (String nodes) the columns attnums of relid, in order? */
static bool
columns_match(Oid relid, const int16 *attnums, List *names)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, names)
	{
		char	   *att;

		if (attnums[i] <= 0)	/* an expression */
			return false;
		att = get_attname(relid, attnums[i], true);
		if (att == NULL || strcmp(att, strVal(lfirst(lc))) != 0)
			return false;
		i++;
	}
	return true;
}
