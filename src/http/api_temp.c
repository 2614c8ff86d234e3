/*-------------------------------------------------------------------------
 *
 * src/http/api_temp.c
 *	  A stand-in for the API layer (api.h) while it is built on its own
 *	  branch (wt-httpquery), so the transport can be built and tested:
 *	  GET /<view or table of zvt_api>?col=eq.value and POST /rpc/<function
 *	  of zvt_api> with a JSON object of named arguments.  Removed when the
 *	  real API layer is merged.
 *
 * Identifiers are looked up in the catalog of zvt_api and quoted; every
 * value is a bound parameter.  Nothing else of PostgREST's grammar is
 * here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "http/api.h"

#define API_SCHEMA "zvt_api"

/* Percent-decode s[0..n) into a palloc'd string. */
static char *
decode(const char *s, size_t n)
{
	char	   *out = palloc(n + 1);
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n + 0 + 1 && isxdigit((unsigned char) s[i + 1]) &&
			isxdigit((unsigned char) s[i + 2]))
		{
			char		h[3] = {s[i + 1], s[i + 2], 0};

			out[o++] = (char) strtol(h, NULL, 16);
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static void
not_found(HttpResponse *resp, const char *what)
{
	http_response_error(resp, 404, "PGRST205", psprintf("Could not find %s in the schema cache", what),
						NULL, NULL);
}

static void
answer_json(HttpResponse *resp, const char *text)
{
	resp->status = 200;
	http_response_header(resp, "Content-Type", "application/json; charset=utf-8", true);
	http_response_body(resp, text, strlen(text));
}

/* GET /<relation>?col=eq.value&... */
static void
serve_read(const HttpRequest *req, HttpResponse *resp, const char *name)
{
	Oid			nsp = get_namespace_oid(API_SCHEMA, false);
	Oid			rel = get_relname_relid(name, nsp);
	StringInfoData sql;
	Oid			types[32];
	Datum		values[32];
	int			n = 0;
	char	   *q = pstrdup(req->query);
	char	   *save;
	StringInfoData tail;
	StringInfoData order;

	if (!OidIsValid(rel))
	{
		not_found(resp, psprintf("the table '%s.%s'", API_SCHEMA, name));
		return;
	}
	initStringInfo(&sql);
	initStringInfo(&tail);
	initStringInfo(&order);
	appendStringInfo(&sql, "SELECT COALESCE(pg_catalog.json_agg(t), '[]')::text FROM (SELECT * FROM %s.%s t WHERE true",
					 quote_identifier(API_SCHEMA), quote_identifier(name));
	for (char *tok = strtok_r(q, "&", &save); tok && n < 32; tok = strtok_r(NULL, "&", &save))
	{
		char	   *eq = strchr(tok, '=');
		char	   *col;
		char	   *val;

		if (eq == NULL)
			continue;
		col = decode(tok, eq - tok);
		val = decode(eq + 1, strlen(eq + 1));
		if (strcmp(col, "limit") == 0)
		{
			types[n] = INT8OID;
			values[n] = Int64GetDatum(strtol(val, NULL, 10));
			n++;
			appendStringInfo(&tail, " LIMIT $%d", n);
			continue;
		}
		if (strcmp(col, "order") == 0)
		{
			char	   *dot = strrchr(val, '.');
			bool		desc = dot && strcmp(dot, ".desc") == 0;

			if (dot)
				*dot = '\0';
			if (get_attnum(rel, val) == InvalidAttrNumber)
			{
				http_response_error(resp, 400, "PGRST100", "\"failed to parse order\"", NULL, NULL);
				return;
			}
			appendStringInfo(&order, "%s t.%s%s", order.len ? "," : " ORDER BY",
							 quote_identifier(val), desc ? " DESC" : "");
			continue;
		}
		if (strncmp(val, "eq.", 3) != 0 || get_attnum(rel, col) == InvalidAttrNumber)
		{
			http_response_error(resp, 400, "PGRST100", "\"failed to parse filter\"", NULL, NULL);
			return;
		}
		types[n] = TEXTOID;
		values[n] = CStringGetTextDatum(val + 3);
		n++;
		appendStringInfo(&sql, " AND t.%s = $%d::text::%s", quote_identifier(col), n,
						 format_type_be(get_atttype(rel, get_attnum(rel, col))));
	}
	appendStringInfo(&sql, "%s%s) t", order.data, tail.data);
	SPI_connect();
	if (SPI_execute_with_args(sql.data, n, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt http: read failed");
	answer_json(resp, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
}

/* POST /rpc/<function> {"arg": value, ...} */
static void
serve_rpc(const HttpRequest *req, HttpResponse *resp, const char *name)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	StringInfoData sql;
	char	   *body = req->body ? pnstrdup(req->body, req->body_len) : pstrdup("{}");
	bool		retset;
	bool		isnull;
	char	   *result;
	uint64		nargs;
	SPITupleTable *args;

	SPI_connect();
	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("SELECT p.proretset FROM pg_catalog.pg_proc p"
							  " WHERE p.pronamespace = 'zvt_api'::pg_catalog.regnamespace"
							  " AND p.proname = $1", 1, types, values, NULL, true, 2) != SPI_OK_SELECT ||
		SPI_processed != 1)
	{
		SPI_finish();
		not_found(resp, psprintf("the function %s.%s", API_SCHEMA, name));
		return;
	}
	retset = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* each key of the body with the catalog's type of that argument */
	values[1] = CStringGetTextDatum(body);
	if (SPI_execute_with_args("SELECT a.key, pg_catalog.format_type(u.t, NULL)"
							  " FROM pg_catalog.json_each($2::pg_catalog.json) a"
							  " LEFT JOIN (pg_catalog.pg_proc p CROSS JOIN LATERAL"
							  "   pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY u(t, i))"
							  " ON p.pronamespace = 'zvt_api'::pg_catalog.regnamespace AND p.proname = $1"
							  "   AND p.proargnames[u.i] = a.key",
							  2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "zvt http: rpc arguments failed");
	nargs = SPI_processed;
	args = SPI_tuptable;
	initStringInfo(&sql);
	appendStringInfo(&sql, "%s.%s(", quote_identifier(API_SCHEMA), quote_identifier(name));
	for (uint64 i = 0; i < nargs; i++)
	{
		char	   *key = SPI_getvalue(args->vals[i], args->tupdesc, 1);
		char	   *type = SPI_getvalue(args->vals[i], args->tupdesc, 2);

		if (type == NULL)
		{
			SPI_finish();
			not_found(resp, psprintf("the function %s.%s(%s)", API_SCHEMA, name, key));
			return;
		}
		/* the value stays a parameter; the names come from the catalog */
		appendStringInfo(&sql, "%s%s => (SELECT a.value FROM pg_catalog.json_each_text($1::pg_catalog.json) a WHERE a.key = %s)::%s",
						 i ? ", " : "", quote_identifier(key), quote_literal_cstr(key), type);
	}
	appendStringInfoChar(&sql, ')');
	values[0] = CStringGetTextDatum(body);
	result = retset
		? psprintf("SELECT COALESCE(pg_catalog.json_agg(x), '[]')::text FROM %s x", sql.data)
		: psprintf("SELECT pg_catalog.to_json(%s)::text", sql.data);
	if (SPI_execute_with_args(result, 1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt http: rpc failed");
	result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	answer_json(resp, result ? result : "null");
	SPI_finish();
}

void
http_api_serve(const HttpRequest *req, HttpResponse *resp)
{
	const char *path = req->path;

	if (strncmp(path, "/rpc/", 5) == 0 && strcmp(req->method, "POST") == 0)
		serve_rpc(req, resp, decode(path + 5, strlen(path + 5)));
	else if ((strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) &&
			 path[0] == '/' && path[1] != '\0' &&
			 strchr(path + 1, '/') == NULL)
		serve_read(req, resp, decode(path + 1, strlen(path + 1)));
	else if (strcmp(path, "/") == 0)
		http_api_openapi(req, resp);
	else
		http_response_error(resp, 404, "PGRST125", "Invalid path specified in request URL", NULL, NULL);
}

void
http_api_reset(void)
{
}

void
http_api_openapi(const HttpRequest *req, HttpResponse *resp)
{
	answer_json(resp, "{\"swagger\":\"2.0\"}");
}
