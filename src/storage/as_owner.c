/*-------------------------------------------------------------------------
 *
 * src/storage/as_owner.c
 *	  Running a hypertable's maintenance as the table's owner.
 *
 * Maintenance runs code the table's owner wrote: triggers on the default
 * partition fire when rows move out of it or expire, index expressions
 * and CHECK constraints run when chunks are filled and attached.  Whoever
 * starts the pass (the maintenance worker as the bootstrap superuser, an
 * admin's CALL zvt.run_maintenance()), that code must run with the
 * owner's rights only, or a table owner could have a superuser run
 * ALTER ROLE for them.  So, as PostgreSQL does for REFRESH MATERIALIZED
 * VIEW and for the index functions VACUUM and ANALYZE call, a pass
 * switches to the owner with SetUserIdAndSecContext under
 * SECURITY_RESTRICTED_OPERATION (no SET ROLE, no temporary objects, no
 * state that outlives the operation), opens a GUC nest level so nothing
 * the owner's code sets survives it, and pins search_path to
 * "pg_catalog, pg_temp".  An error unwinds all of it with the
 * (sub)transaction.
 *
 * storage_run_as is also what chunk.c uses around each step of creating
 * a chunk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "base/export.h"
#include "storage/chunk.h"

PG_FUNCTION_INFO_V1(zvt_maintain_hypertable);

/*
 * Become role for a restricted operation: user id, security context, a
 * new GUC nest level and a safe search_path, all saved in *save for
 * storage_run_as_end.  The caller must call storage_run_as_end on
 * success; on error, transaction or subtransaction abort restores all of
 * it.
 */
void
storage_run_as(Oid role, StorageUserSave *save)
{
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(role, save->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Undo storage_run_as: roll back GUC changes, restore the user. */
void
storage_run_as_end(const StorageUserSave *save)
{
	AtEOXact_GUC(false, save->nestlevel);
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/*
 * zvt._maintain_hypertable(rel regclass, OUT relation regclass,
 *     OUT chunks_created int8, OUT rows_moved int8, OUT chunks_dropped int8)
 *
 * One hypertable's maintenance pass (the PL/pgSQL zvt._maintenance_steps:
 * chunks ahead of now, retention, rows out of the default partition), run
 * as the table's owner under SECURITY_RESTRICTED_OPERATION.  The caller
 * must have the owner's privileges (a superuser has); 42501 otherwise.
 * A table dropped since the caller listed it gives a row of zeros.
 */
Datum
zvt_maintain_hypertable(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	desc;
	Datum		values[4] = {ObjectIdGetDatum(relid), Int64GetDatum(0),
	Int64GetDatum(0), Int64GetDatum(0)};
	bool		nulls[4] = {false, false, false, false};
	HeapTuple	tup;
	Oid			owner;
	StorageUserSave save;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to maintain it", get_rel_name(relid)),
				 errdetail("A hypertable's maintenance runs as its owner.")));

	storage_run_as(owner, &save);
	SPI_connect();
	if (SPI_execute_with_args("SELECT chunks_created, rows_moved, chunks_dropped "
							  "  FROM zvt._maintenance_steps($1)",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not run zvt._maintenance_steps");
	for (int i = 0; i < 3; i++)
	{
		bool		isnull;

		values[i + 1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  i + 1, &isnull);
		nulls[i + 1] = isnull;
	}
	SPI_finish();
	storage_run_as_end(&save);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
