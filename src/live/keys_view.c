/*-------------------------------------------------------------------------
 *
 * src/live/keys_view.c
 *	  zvt._api_key_list(): the rows of the zvt.api_keys view, the public
 *	  face of the API keys of the accounts the calling role may use.
 *
 * zvt.api_keys is security_invoker like every zvt view, and no role may
 * read zvt._api_keys; so the view reads this function, which notes the
 * caller's accounts (zvt._my_accounts(), as the caller), then reads the
 * non-secret columns of those accounts' rows as the table's owner with
 * search_path = pg_catalog, pg_temp (so no operator or function the
 * caller put on the path runs with the owner's rights).  The sealed
 * columns are never selected.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "base/export.h"

static Oid	api_keys_owner(Oid nsp);

PG_FUNCTION_INFO_V1(zvt_api_key_list);

/*
 * zvt._api_key_list() RETURNS TABLE (account text, exchange text,
 *	   key_id int8, fingerprint text, created_at timestamptz, account_id int4)
 */
Datum
zvt_api_key_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Datum		mine;
	bool		isnull;
	Oid			types[1] = {INT4ARRAYOID};
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();

	/* the caller's accounts, as the caller */
	if (SPI_execute("SELECT zvt._my_accounts()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the caller's accounts");
	mine = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
	{
		SPI_finish();
		return (Datum) 0;
	}
	mine = SPI_datumTransfer(mine, false, -1);

	/* their keys' public columns, as the table's owner */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(api_keys_owner(nsp),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_execute_with_args("SELECT a.name, a.exchange, k.key_id, k.fingerprint, k.created_at, k.account_id"
							  " FROM zvt._api_keys k JOIN zvt.accounts a ON a.account_id = k.account_id"
							  " WHERE k.account_id = ANY ($1) ORDER BY k.account_id",
							  1, types, &mine, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt._api_keys");
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[6];
		bool		nulls[6];
		int			c;

		for (c = 0; c < 6; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* owner of zvt._api_keys (the extension's owner) */
static Oid
api_keys_owner(Oid nsp)
{
	Oid			relid = get_relname_relid("_api_keys", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		elog(ERROR, "zvt._api_keys does not exist");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}
