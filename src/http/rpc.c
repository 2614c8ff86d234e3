/*-------------------------------------------------------------------------
 *
 * src/http/rpc.c
 *	  /rpc/<function>: POST with a JSON object of named arguments (or the
 *	  whole body for a single unnamed json/jsonb parameter), GET and HEAD
 *	  with the arguments in the query string, as PostgREST 14 calls them.
 *
 *	  The overload is chosen from the schema cache by argument names
 *	  (PGRST202 when none fits, PGRST203 when several do).  Arguments are
 *	  bound as one json parameter and spread by json_to_record with the
 *	  function's own argument types, then passed by name:
 *	  	FROM json_to_record($1) AS _a("x" integer, ...),
 *	  	     LATERAL "api"."f"("x" := _a."x", ...) _t0
 *	  A function returning rows (a table type, OUT arguments, SETOF) is
 *	  then filtered, selected, ordered and ranged like a table; a scalar
 *	  is returned as its JSON value; void answers 204.  GET runs in a
 *	  read-only transaction (api.c), so a volatile function that writes
 *	  fails with 25006, which PostgREST answers 405.
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

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "http/api_int.h"
#include "http/body.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool
is_json_type(Oid t)
{
	return t == JSONOID || t == JSONBOID;
}

/* the argument keys given, sorted, joined by ", " */
static char *
keys_text(char **keys, int n)
{
	StringInfoData s;
	char	  **sorted = palloc(sizeof(char *) * (n + 1));

	if (n > 0)					/* keys is NULL when none were given */
		memcpy(sorted, keys, sizeof(char *) * n);
	qsort(sorted, n, sizeof(char *), cmp_str);
	initStringInfo(&s);
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", sorted[i]);
	return s.data;
}

static bool
no_function(ApiCtx *ctx, const char *fname, char **keys, int nkeys, bool post)
{
	const ApiSchema *c = ctx->cache;
	const char **cands = palloc(sizeof(char *) * (c->nfuncs + 1));
	int			n = 0;
	bool		overloaded = false;
	const char *best;
	char	   *given = keys_text(keys, nkeys);
	char	   *msg,
			   *det,
			   *hint = NULL;

	for (int i = 0; i < c->nfuncs; i++)
		if (strcmp(c->funcs[i].schema, ctx->schema) == 0 && strcmp(c->funcs[i].name, fname) == 0)
			overloaded = true;
	if (!overloaded)
	{
		/* suggest only functions the role may execute */
		for (int i = 0; i < c->nfuncs; i++)
			if (strcmp(c->funcs[i].schema, ctx->schema) == 0 &&
				pg_proc_aclcheck(c->funcs[i].oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK)
				cands[n++] = c->funcs[i].name;
		best = api_fuzzy(fname, cands, n);
		if (best)
			hint = psprintf("Perhaps you meant to call the function %s.%s", ctx->schema, best);
	}
	else
	{
		for (int i = 0; i < c->nfuncs; i++)
			if (strcmp(c->funcs[i].schema, ctx->schema) == 0 && strcmp(c->funcs[i].name, fname) == 0)
			{
				char	  **names = palloc(sizeof(char *) * (c->funcs[i].nargs + 1));

				for (int j = 0; j < c->funcs[i].nargs; j++)
					names[j] = c->funcs[i].args[j].name;
				cands[n++] = psprintf("(%s)", keys_text(names, c->funcs[i].nargs));
			}
		best = api_fuzzy_min(psprintf("(%s)", given), cands, n, 0.4);
		if (best)
			hint = psprintf("Perhaps you meant to call the function %s.%s%s", ctx->schema, fname, best);
	}
	if (nkeys == 0)
		msg = psprintf("Could not find the function %s.%s without parameters in the schema cache",
					   ctx->schema, fname);
	else
		msg = psprintf("Could not find the function %s.%s(%s) in the schema cache",
					   ctx->schema, fname, given);
	det = psprintf("Searched for the function %s.%s%s%s, but no matches were found in the schema cache.",
				   ctx->schema, fname,
				   nkeys == 0 ? " without parameters" :
				   psprintf(" with parameter%s %s", nkeys > 1 ? "s" : "", given),
				   post ? " or with a single unnamed json/jsonb parameter" : "");
	return api_fail(ctx, 404, "PGRST202", msg, det, hint);
}

static bool
arg_named(const ApiFunc *f, const char *key)
{
	for (int i = 0; i < f->nargs; i++)
		if (strcmp(f->args[i].name, key) == 0)
			return true;
	return false;
}

/* is name among the request's keys? */
static bool
key_given(char **keys, int nkeys, const char *name)
{
	for (int j = 0; j < nkeys; j++)
		if (strcmp(keys[j], name) == 0)
			return true;
	return false;
}

/* f takes exactly these keys: each is an argument, each argument without default is given */
static bool
fits(const ApiFunc *f, char **keys, int nkeys)
{
	for (int i = 0; i < nkeys; i++)
		if (!arg_named(f, keys[i]))
			return false;
	for (int i = 0; i < f->nargs; i++)
		if (!f->args[i].has_default && !key_given(keys, nkeys, f->args[i].name))
			return false;
	return true;
}

static const ApiFunc *
choose(ApiCtx *ctx, const char *fname, char **keys, int nkeys, bool post, bool *single_json)
{
	const ApiSchema *c = ctx->cache;
	const ApiFunc *found[8];
	int			n = 0;

	*single_json = false;
	for (int i = 0; i < c->nfuncs && n < 8; i++)
	{
		const ApiFunc *f = &c->funcs[i];

		if (strcmp(f->schema, ctx->schema) == 0 && strcmp(f->name, fname) == 0 && fits(f, keys, nkeys))
			found[n++] = f;
	}
	if (n == 0 && post)
		for (int i = 0; i < c->nfuncs; i++)
		{
			const ApiFunc *f = &c->funcs[i];

			if (strcmp(f->schema, ctx->schema) == 0 && strcmp(f->name, fname) == 0 &&
				f->nargs == 1 && is_json_type(f->args[0].typid) &&
				(f->args[0].name[0] == '\0' || ctx->prefs.single_object))
			{
				*single_json = true;
				return f;
			}
		}
	if (n == 0)
	{
		no_function(ctx, fname, keys, nkeys, post);
		return NULL;
	}
	if (n > 1)
	{
		StringInfoData s;

		initStringInfo(&s);
		for (int i = 0; i < n; i++)
		{
			appendStringInfo(&s, "%s%s.%s(", i ? ", " : "", found[i]->schema, found[i]->name);
			for (int j = 0; j < found[i]->nargs; j++)
				appendStringInfo(&s, "%s%s => %s", j ? ", " : "", found[i]->args[j].name,
								 found[i]->args[j].typname);
			appendStringInfoChar(&s, ')');
		}
		api_fail(ctx, 300, "PGRST203",
				 psprintf("Could not choose the best candidate function between: %s", s.data), NULL,
				 "Try renaming the parameters or the function itself in the database so function overloading can be resolved");
		return NULL;
	}
	return found[0];
}

/* the output columns of a row-returning function, as a relation */
static const ApiRel *
result_rel(ApiCtx *ctx, const ApiFunc *f)
{
	Oid			relid = get_typ_typrelid(f->rettype);
	TupleDesc	desc;
	Oid			rettype;
	ApiRel	   *r;

	if (OidIsValid(relid))
		for (int i = 0; i < ctx->cache->nrels; i++)
			if (ctx->cache->rels[i]->oid == relid)
				return ctx->cache->rels[i];
	if (get_func_result_type(f->oid, &rettype, &desc) != TYPEFUNC_COMPOSITE)
		return NULL;
	r = palloc0(sizeof(ApiRel));
	r->schema = f->schema;
	r->name = f->name;
	r->kind = 'f';
	r->cols = palloc0(sizeof(ApiColumn) * (desc->natts + 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		r->cols[r->ncols].name = pstrdup(NameStr(a->attname));
		r->cols[r->ncols].typid = a->atttypid;
		r->cols[r->ncols].typname = format_type_be(a->atttypid);
		r->ncols++;
	}
	return r;
}

/* the FROM items: json_to_record of the arguments, then the call as _t0 */
static void
call_from(Sql *sql, const ApiFunc *f, const char *args_json, int nkeys, char **keys,
		  bool single_json, const char *body)
{
	bool		first = true;

	if (single_json)
	{
		appendStringInfo(&sql->text, "%s.%s(", quote_identifier(f->schema), quote_identifier(f->name));
		sql_param(sql, body, f->args[0].typid);
		appendStringInfoString(&sql->text, ") _t0");
		return;
	}
	if (nkeys > 0)
	{
		appendStringInfoString(&sql->text, "pg_catalog.json_to_record(");
		sql_param(sql, args_json, JSONOID);
		appendStringInfoString(&sql->text, ") AS _a(");
		for (int i = 0; i < f->nargs; i++)
		{
			if (!key_given(keys, nkeys, f->args[i].name))
				continue;
			appendStringInfo(&sql->text, "%s%s %s", first ? "" : ", ",
							 quote_identifier(f->args[i].name), f->args[i].typname);
			first = false;
		}
		appendStringInfoString(&sql->text, "), LATERAL ");
	}
	appendStringInfo(&sql->text, "%s.%s(", quote_identifier(f->schema), quote_identifier(f->name));
	first = true;
	for (int i = 0; i < f->nargs; i++)
	{
		if (!key_given(keys, nkeys, f->args[i].name))
			continue;
		appendStringInfo(&sql->text, "%s%s => _a.%s", first ? "" : ", ",
						 quote_identifier(f->args[i].name), quote_identifier(f->args[i].name));
		first = false;
	}
	appendStringInfoString(&sql->text, ") _t0");
}

/* the argument keys and their JSON object (POST: the body; GET: the query) */
static bool
rpc_args(ApiCtx *ctx, const char *fname, bool post, char ***keys, int *nkeys, char **json)
{
	const HttpRequest *req = ctx->req;
	GrError		gerr;

	*nkeys = 0;
	*keys = palloc(sizeof(char *) * (API_MAX_PARAMS + 1));
	if (post)
	{
		HttpBodyOpts opts = {.rpc = true, .max_keys = API_MAX_PARAMS};
		HttpBody	b;
		bool		ok;

		/* body.c: {} for none, an object's keys, else the body whole */
		ok = http_body_read(http_request_header(req, "content-type"), req->body, req->body_len,
							&opts, &b);
		PG_TRY();
		{
			if (!ok)
				api_fail(ctx, b.status, b.code, b.message, b.details, NULL);
			else
			{
				for (int i = 0; i < b.nkeys; i++)
					(*keys)[(*nkeys)++] = pstrdup(b.keys[i]);
				*json = pnstrdup(b.json, b.json_len);
			}
		}
		PG_CATCH();
		{
			http_body_free(&b);
			PG_RE_THROW();
		}
		PG_END_TRY();
		http_body_free(&b);
		if (!ok)
			return false;
		if (!gr_parse(req->query, NULL, 0, &ctx->q, &gerr))
			return api_fail(ctx, 400, "PGRST100", gerr.message, gerr.details, NULL);
		return true;
	}
	else
	{
		/* GET: a key is an argument when some overload has it, once */
		GrQuery		tmp = {0};
		char	   *all[API_MAX_PARAMS];
		int			n = gr_param_keys(req->query ? req->query : "", &tmp, all, API_MAX_PARAMS);
		const char **names = palloc(sizeof(char *) * (API_MAX_PARAMS + 1));
		int			nnames = 0;
		json_t	   *obj = json_object();
		char	   *text;

		for (int i = 0; i < n; i++)
		{
			if (gr_reserved_key(all[i]))
				continue;
			for (int j = 0; j < ctx->cache->nfuncs; j++)
			{
				const ApiFunc *f = &ctx->cache->funcs[j];

				if (strcmp(f->schema, ctx->schema) == 0 && strcmp(f->name, fname) == 0 &&
					arg_named(f, all[i]))
				{
					names[nnames++] = pstrdup(all[i]);
					break;
				}
			}
		}
		gr_free(&tmp);
		if (!gr_parse(req->query, names, nnames, &ctx->q, &gerr))
		{
			json_decref(obj);
			return api_fail(ctx, 400, "PGRST100", gerr.message, gerr.details, NULL);
		}
		for (int i = 0; i < ctx->q.nargs; i++)
		{
			if (json_object_get(obj, ctx->q.args[i].key))
				continue;
			json_object_set_new(obj, ctx->q.args[i].key, json_string(ctx->q.args[i].value));
			(*keys)[(*nkeys)++] = pstrdup(ctx->q.args[i].key);
		}
		text = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
		*json = pstrdup(text ? text : "{}");
		free(text);
		return true;
	}
}

/*
 * Whether a function returning one row (not SETOF) gives the statement
 * exactly that row: nothing filters it (no condition, no embedding, which
 * may be !inner) and no range can skip it.
 */
static bool
one_row(const ApiCtx *ctx, const ApiNode *root)
{
	return root->nconds == 0 && root->nchildren == 0 && root->range == NULL &&
		ctx->range_limit < 0 && ctx->range_offset <= 0;
}

bool
api_rpc(ApiCtx *ctx, const char *fname)
{
	const char *m = ctx->method;
	bool		post = strcmp(m, "POST") == 0;
	char	  **keys;
	int			nkeys;
	char	   *args = NULL;
	bool		single_json;
	const ApiFunc *f;
	Sql			sql;

	if (strcmp(m, "OPTIONS") == 0)
	{
		bool		found = false;
		bool		readable = false;

		for (int i = 0; i < ctx->cache->nfuncs; i++)
			if (strcmp(ctx->cache->funcs[i].schema, ctx->schema) == 0 &&
				strcmp(ctx->cache->funcs[i].name, fname) == 0)
			{
				found = true;
				readable = readable || ctx->cache->funcs[i].volatility != 'v';
			}
		if (!found)
			return no_function(ctx, fname, NULL, 0, false);
		ctx->resp->status = 200;
		http_response_header(ctx->resp, "Allow", readable ? "OPTIONS,GET,HEAD,POST" : "OPTIONS,POST", true);
		return true;
	}
	if (!post && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
		return api_fail(ctx, 405, "PGRST101", psprintf("Cannot use the %s method on RPC", m), NULL, NULL);
	if (!api_read_headers(ctx))
		return false;
	if (!rpc_args(ctx, fname, post, &keys, &nkeys, &args))
		return false;
	f = choose(ctx, fname, keys, nkeys, post, &single_json);
	if (f == NULL)
		return false;
	if (single_json)
		nkeys = 0;

	/*
	 * A stable or immutable function runs read-only even by POST, as
	 * PostgREST runs it (setting read-only is always allowed mid-transaction).
	 */
	if (f->volatility != 'v')
		(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);

	sql_init(&sql);
	if (f->retset || f->ret_composite)
	{
		const ApiRel *rel = result_rel(ctx, f);
		ApiNode    *root;

		if (rel == NULL)
		{
			/* SETOF a scalar: the values, ranged */
			appendStringInfoString(&sql.text, "SELECT NULL::pg_catalog.int8, pg_catalog.count(*), "
								   "coalesce(pg_catalog.json_agg(_r._t0), '[]')::text FROM (SELECT _t0 FROM ");
			call_from(&sql, f, args, nkeys, keys, single_json, args);
			if (ctx->q.nranges > 0)
				build_limit(&sql, ctx->q.ranges[0].limit, ctx->q.ranges[0].offset);
			appendStringInfoString(&sql.text, ") _r");
			return api_run_query(ctx, &sql, NULL, false);
		}
		root = build_tree(ctx, rel, f);
		if (root == NULL)
			return false;
		appendStringInfoString(&sql.text, "SELECT ");
		if (ctx->prefs.count == 'e' || ctx->prefs.count == 's')
		{
			appendStringInfoString(&sql.text, "(SELECT pg_catalog.count(*) FROM ");
			call_from(&sql, f, args, nkeys, keys, single_json, args);
			if (!build_where(ctx, &sql, root, true))
				return false;
			appendStringInfoString(&sql.text, ")");
		}
		else
			appendStringInfoString(&sql.text, "NULL::pg_catalog.int8");
		if (!f->retset && ctx->accept == 'j' && one_row(ctx, root))
			/* its one row as json_agg(_r) -> 0 writes it, without the aggregate */
			appendStringInfoString(&sql.text, ", 1::pg_catalog.int8, "
								   "coalesce(pg_catalog.to_json(_r)::text, 'null')");
		else if (!f->retset && ctx->accept == 'j')
			appendStringInfoString(&sql.text, ", pg_catalog.count(*), "
								   "coalesce((pg_catalog.json_agg(_r) -> 0)::text, 'null')");
		else
		{
			appendStringInfoString(&sql.text, ", pg_catalog.count(*), ");
			api_body_expr(ctx, &sql.text);
		}
		appendStringInfoString(&sql.text, " FROM (SELECT ");
		if (!build_select_list(ctx, &sql, root))
			return false;
		appendStringInfoString(&sql.text, " FROM ");
		call_from(&sql, f, args, nkeys, keys, single_json, args);
		if (!build_where(ctx, &sql, root, true) || !build_order(ctx, &sql, root))
			return false;
		if (root->range || ctx->range_limit >= 0 || ctx->range_offset > 0)
		{
			long		off = Max(root->range ? root->range->offset : 0, ctx->range_offset);
			long		lim = root->range ? root->range->limit : -1;

			if (ctx->range_limit >= 0)
				lim = lim >= 0 ? Min(lim, ctx->range_limit) : ctx->range_limit;
			build_limit(&sql, lim, off);
			ctx->range_offset = off;
		}
		appendStringInfoString(&sql.text, ") _r");
		if (!api_run_query(ctx, &sql, NULL, false))
			return false;
	}
	else
	{
		appendStringInfoString(&sql.text, f->rettype == VOIDOID
							   ? "SELECT NULL::pg_catalog.int8, 1::pg_catalog.int8, 'null' FROM "
							   : "SELECT NULL::pg_catalog.int8, 1::pg_catalog.int8, "
							   "coalesce(pg_catalog.to_json(_t0)::text, 'null') FROM ");
		call_from(&sql, f, args, nkeys, keys, single_json, args);
		if (!api_run_query(ctx, &sql, NULL, false))
			return false;
		if (f->rettype == VOIDOID)
		{
			ctx->resp->status = 204;
			free(ctx->resp->body);
			ctx->resp->body = NULL;
			ctx->resp->body_len = 0;
		}
	}
	if (ctx->prefs.ret == 'm' && post)
	{
		ctx->resp->status = 204;
		free(ctx->resp->body);
		ctx->resp->body = NULL;
		ctx->resp->body_len = 0;
	}
	return true;
}
