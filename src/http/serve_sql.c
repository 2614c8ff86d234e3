/*-------------------------------------------------------------------------
 *
 * src/http/serve_sql.c
 *	  zvt._http_serve: the API layer (http_api_serve) called from SQL,
 *	  for tests of the grammar, the SQL it builds and its responses
 *	  without the HTTP transport.  Superuser-only (REVOKEd from PUBLIC and
 *	  checked here): it can run a request as any role.
 *
 *	  It does what the transport does around http_api_serve, minus the
 *	  network and JWT: SET ROLE to the given role (restored on return, as
 *	  a function's SET clause is), an internal subtransaction in which the
 *	  request runs, and an ERROR turned into PostgREST's body with
 *	  http_status_for_sqlstate (the subtransaction rolled back, as the
 *	  transport rolls back the request's transaction).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

/* jansson and PostgreSQL's fmgrprotos.h both declare json_object and json_typeof */
#define json_object pg_json_object
#define json_typeof pg_json_typeof
#include "utils/builtins.h"
#undef json_object
#undef json_typeof
#include <jansson.h>
/* the server exports a json_object() of its own, which would win: use json_pack */
#define json_object() json_loads("{}", 0, NULL)

#include "access/htup_details.h"
#include "access/xact.h"
#include "base/export.h"
#include "funcapi.h"
#include "http/api.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(zvt_http_serve);

/* headers jsonb -> HttpHeader array, names lower-cased */
static HttpHeader *
read_headers(Jsonb *jb, int *n)
{
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	json_error_t err;
	json_t	   *o = json_loads(text, 0, &err);
	HttpHeader *h;
	const char *k;
	json_t	   *v;

	*n = 0;
	if (o == NULL || !json_is_object(o))
	{
		if (o)
			json_decref(o);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("request headers must be a JSON object of strings")));
	}
	h = palloc0(sizeof(HttpHeader) * (json_object_size(o) + 1));
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v))
			continue;
		h[*n].name = pstrdup(k);
		for (char *p = h[*n].name; *p; p++)
			*p = pg_tolower((unsigned char) *p);
		h[*n].value = pstrdup(json_string_value(v));
		(*n)++;
	}
	json_decref(o);
	return h;
}

static Datum
headers_jsonb(const HttpResponse *resp)
{
	json_t	   *o = json_object();
	char	   *text;
	Datum		d;

	for (int i = 0; i < resp->nheaders; i++)
		json_object_set_new(o, resp->headers[i].name, json_string(resp->headers[i].value));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	d = DirectFunctionCall1(jsonb_in, CStringGetDatum(pstrdup(text)));
	free(text);
	return d;
}

static void
error_response(HttpResponse *resp, ErrorData *e, bool anonymous)
{
	const char *code = unpack_sql_state(e->sqlerrcode);

	http_response_error(resp, http_status_for_sqlstate(code, anonymous), code,
						e->message, e->detail, e->hint);
	http_response_header(resp, "Proxy-Status", psprintf("PostgREST; error=%s", code), true);
}

/*
 * zvt._http_serve(method, path, query, req_headers, req_body, role,
 * anonymous) -> (status, headers, body)
 */
Datum
zvt_http_serve(PG_FUNCTION_ARGS)
{
	HttpRequest req;
	HttpResponse resp;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			nest;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function _http_serve"),
				 errdetail("Only superusers may run HTTP requests from SQL.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("method and path must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = text_to_cstring(PG_GETARG_TEXT_PP(0));
	req.path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	req.query = PG_ARGISNULL(2) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	req.headers = PG_ARGISNULL(3) ? NULL : read_headers(PG_GETARG_JSONB_P(3), &req.nheaders);
	if (!PG_ARGISNULL(4))
	{
		text	   *b = PG_GETARG_TEXT_PP(4);

		req.body = VARDATA_ANY(b);
		req.body_len = VARSIZE_ANY_EXHDR(b);
	}
	req.role = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	req.anonymous = PG_ARGISNULL(6) ? true : PG_GETARG_BOOL(6);

	/* role and read-only mode come back when we return */
	nest = NewGUCNestLevel();
	(void) set_config_option("transaction_read_only", XactReadOnly ? "on" : "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (req.role)
		(void) set_config_option("role", req.role, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		http_api_serve(&req, &resp);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		http_response_free(&resp);
		error_response(&resp, edata, req.anonymous);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nest);

	values[0] = Int32GetDatum(resp.status);
	values[1] = headers_jsonb(&resp);
	if (resp.body)
		values[2] = PointerGetDatum(cstring_to_text_with_len(resp.body, resp.body_len));
	else
		nulls[2] = true;
	http_response_free(&resp);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
