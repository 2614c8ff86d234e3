/*-------------------------------------------------------------------------
 *
 * src/http/jwt_sql.c
 *	  zvt.jwt_sign(claims jsonb): an HS256 token signed with
 *	  zvt.jwt_secret, for scripts and the demo.
 *
 * Superuser-only twice over: EXECUTE is revoked from PUBLIC (sql/
 * 60_http.sql) and the function checks superuser() itself, since whoever
 * can sign can become any role the authenticator was granted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "base/export.h"
#include "http/jwt.h"
#include "zvt.h"

PG_FUNCTION_INFO_V1(zvt_jwt_sign);

Datum
zvt_jwt_sign(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = PG_GETARG_JSONB_P(0);
	char	   *json;
	char	   *token;
	text	   *result;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function jwt_sign"),
				 errdetail("Only superusers may sign tokens.")));
	if (zvt_jwt_secret == NULL || strlen(zvt_jwt_secret) < 32)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("zvt.jwt_secret is not set"),
				 errhint("Set zvt.jwt_secret to a secret of at least 32 characters in postgresql.conf and reload.")));
	if (!JB_ROOT_IS_OBJECT(claims) || JB_ROOT_IS_SCALAR(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("claims must be a JSON object")));
	json = JsonbToCString(NULL, &claims->root, VARSIZE(claims));
	token = jwt_sign_hs256(zvt_jwt_secret, json);
	if (token == NULL)
		elog(ERROR, "zvt: could not sign the claims");
	result = cstring_to_text(token);
	free(token);
	PG_RETURN_TEXT_P(result);
}
