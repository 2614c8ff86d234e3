/*-------------------------------------------------------------------------
 *
 * src/http/write.c
 *	  POST (insert, upsert with Prefer: resolution), PATCH, PUT and DELETE
 *	  on a table or an updatable view, as PostgREST 14 answers them.
 *
 *	  The body is read by body.c (pure C: JSON or CSV, PostgREST's shapes
 *	  and refusals, the JSON text as the client sent it); here its keys
 *	  must be columns of the schema cache, then it is bound whole as one
 *	  json parameter and PostgreSQL turns it into rows with
 *	  json_populate_record, so column types are the table's own.  Every
 *	  statement is
 *	  	WITH _m AS (<INSERT|UPDATE|DELETE> ... RETURNING _t0.*)
 *	  	SELECT NULL, count(*), <body>, <location> FROM (SELECT <select=> FROM _m _t0) _r
 *	  so return=representation with select= and embedding is the same
 *	  code as a read.  The write runs in api.c's subtransaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "http/api_int.h"
#include "http/body.h"
#include "utils/builtins.h"

/* the body's columns: columns= when given, else the first object's keys */
typedef struct Payload
{
	char	   *json;			/* the rows as a JSON array text */
	int		   *cols;			/* indexes into rel->cols */
	int			ncols;
	int			nobjects;
	bool		object;			/* the body was one object */
	int			nkeys;
	char	  **keys;			/* the first object's keys (body.h) */
	char	  **values;			/* and their values */
} Payload;

static bool
invalid_body(ApiCtx *ctx, const char *msg)
{
	return api_fail(ctx, 400, "PGRST102", msg, NULL, NULL);
}

static bool
column_not_found(ApiCtx *ctx, const ApiRel *rel, const char *col)
{
	return api_fail(ctx, 400, "PGRST204",
					psprintf("Could not find the '%s' column of '%s' in the schema cache",
							 col, rel->name), NULL, NULL);
}

/* body.c's answer in palloc'd memory: its refusal as the request's error, or its rows */
static void
copy_body(ApiCtx *ctx, const HttpBody *b, bool ok, Payload *p)
{
	if (!ok)
	{
		api_fail(ctx, b->status, b->code, b->message, b->details, NULL);
		return;
	}
	p->json = pnstrdup(b->json, b->json_len);
	p->nobjects = b->nrows;
	p->object = b->shape == HTTP_BODY_OBJECT;
	p->nkeys = b->nkeys;
	p->keys = palloc(sizeof(char *) * (b->nkeys + 1));
	p->values = palloc(sizeof(char *) * (b->nkeys + 1));
	for (int i = 0; i < b->nkeys; i++)
	{
		p->keys[i] = pstrdup(b->keys[i]);
		p->values[i] = pstrdup(b->values[i]);
	}
}

/* copy_body, then b freed, also on an ERROR */
static bool
take_body(ApiCtx *ctx, HttpBody *b, bool ok, Payload *p)
{
	PG_TRY();
	{
		copy_body(ctx, b, ok, p);
	}
	PG_CATCH();
	{
		http_body_free(b);
		PG_RE_THROW();
	}
	PG_END_TRY();
	http_body_free(b);
	return ok;
}

/* the body's rows (body.c) and the columns they set */
static bool
read_payload(ApiCtx *ctx, const ApiRel *rel, Payload *p, bool object_only)
{
	const HttpRequest *req = ctx->req;
	HttpBodyOpts opts = {.columns = ctx->q.columns != NULL};
	HttpBody	b;
	bool		one_in_array;

	memset(p, 0, sizeof(*p));
	if (!take_body(ctx, &b, http_body_read(http_request_header(req, "content-type"),
										   req->body, req->body_len, &opts, &b), p))
		return false;
	one_in_array = b.shape == HTTP_BODY_ARRAY && p->nobjects == 1;

	/* PATCH and PUT: one object (PUT also as an array of one) */
	if (object_only && !p->object && !one_in_array)
		return invalid_body(ctx, "Empty or invalid json");

	p->cols = palloc(sizeof(int) * (rel->ncols + 1));
	if (ctx->q.columns)
	{
		for (int i = 0; i < ctx->q.ncolumns; i++)
		{
			int			c = api_find_col(rel, ctx->q.columns[i]);

			if (c < 0)
				return column_not_found(ctx, rel, ctx->q.columns[i]);
			p->cols[p->ncols++] = c;
		}
	}
	else
		for (int i = 0; i < p->nkeys; i++)
		{
			int			c = api_find_col(rel, p->keys[i]);

			if (c < 0)
				return column_not_found(ctx, rel, p->keys[i]);
			if (p->ncols < rel->ncols)
				p->cols[p->ncols++] = c;
		}
	return true;
}

/* the value of column c in row _p (or its default when missing=default) */
static void
payload_value(ApiCtx *ctx, Sql *sql, const ApiRel *rel, int c)
{
	const ApiColumn *col = &rel->cols[c];

	if (ctx->prefs.missing_default)
	{
		appendStringInfo(&sql->text, "CASE WHEN _e.j::pg_catalog.jsonb ? %s THEN _p.%s ELSE %s END",
						 quote_literal_cstr(col->name), quote_identifier(col->name),
						 col->default_expr ? col->default_expr : "NULL");
	}
	else
		appendStringInfo(&sql->text, "_p.%s", quote_identifier(col->name));
}

static bool
insert_stmt(ApiCtx *ctx, Sql *sql, const ApiRel *rel, Payload *p, bool put)
{
	appendStringInfoString(&sql->text, "INSERT INTO ");
	sql_rel(sql, rel);
	/* no column (an empty object, no row): every column's default */
	appendStringInfoString(&sql->text, p->ncols ? " AS _t0 (" : " AS _t0");
	for (int i = 0; i < p->ncols; i++)
	{
		appendStringInfoString(&sql->text, i ? ", " : "");
		sql_ident(sql, rel->cols[p->cols[i]].name);
	}
	appendStringInfoString(&sql->text, p->ncols ? ") SELECT " : " SELECT ");
	for (int i = 0; i < p->ncols; i++)
	{
		appendStringInfoString(&sql->text, i ? ", " : "");
		payload_value(ctx, sql, rel, p->cols[i]);
	}
	appendStringInfoString(&sql->text, " FROM pg_catalog.json_array_elements(");
	sql_param(sql, p->json, JSONOID);
	appendStringInfoString(&sql->text, ") _e(j), LATERAL pg_catalog.json_populate_record(NULL::");
	sql_rel(sql, rel);
	appendStringInfoString(&sql->text, ", _e.j) _p");
	if (ctx->prefs.resolution || put)
	{
		bool		first = true;

		appendStringInfoString(&sql->text, " ON CONFLICT (");
		if (ctx->q.on_conflict && !put)
		{
			for (int i = 0; i < ctx->q.non_conflict; i++)
			{
				if (api_find_col(rel, ctx->q.on_conflict[i]) < 0)
					return build_column_error(ctx, rel, rel->name, ctx->q.on_conflict[i]);
				appendStringInfoString(&sql->text, i ? ", " : "");
				sql_ident(sql, ctx->q.on_conflict[i]);
			}
		}
		else
			for (int i = 0; i < rel->ncols; i++)
				if (rel->cols[i].pk)
				{
					appendStringInfoString(&sql->text, first ? "" : ", ");
					first = false;
					sql_ident(sql, rel->cols[i].name);
				}
		appendStringInfoChar(&sql->text, ')');
		if (ctx->prefs.resolution == 'i' && !put)
			appendStringInfoString(&sql->text, " DO NOTHING");
		else if (p->ncols == 0)
			appendStringInfoString(&sql->text, " DO NOTHING");
		else
		{
			appendStringInfoString(&sql->text, " DO UPDATE SET ");
			for (int i = 0; i < p->ncols; i++)
			{
				const char *c = quote_identifier(rel->cols[p->cols[i]].name);

				appendStringInfo(&sql->text, "%s%s = EXCLUDED.%s", i ? ", " : "", c, c);
			}
		}
	}
	return true;
}

/* the primary key of the first returned row as a Location */
static void
location_expr(Sql *sql, const ApiRel *rel)
{
	bool		any = false;

	appendStringInfo(&sql->text, ", (SELECT %s", quote_literal_cstr(psprintf("/%s?", rel->name)));
	for (int i = 0; i < rel->ncols; i++)
		if (rel->cols[i].pk)
		{
			appendStringInfo(&sql->text, " || %s || _m.%s::text",
							 quote_literal_cstr(psprintf("%s%s=eq.", any ? "&" : "", rel->cols[i].name)),
							 quote_identifier(rel->cols[i].name));
			any = true;
		}
	appendStringInfoString(&sql->text, " FROM _m LIMIT 1)");
}

static bool
has_pk(const ApiRel *rel)
{
	for (int i = 0; i < rel->ncols; i++)
		if (rel->cols[i].pk)
			return true;
	return false;
}

/* PUT: filters are exactly eq on every primary key column (PGRST105) */
static bool
put_checks(ApiCtx *ctx, const ApiRel *rel, Payload *p)
{
	int			npk = 0;

	if (ctx->q.nranges > 0)
		return api_fail(ctx, 400, "PGRST114",
						"limit/offset querystring parameters are not allowed for PUT", NULL, NULL);
	for (int i = 0; i < rel->ncols; i++)
		npk += rel->cols[i].pk;
	if (npk == 0 || ctx->q.nconds != npk)
		goto bad;
	for (int i = 0; i < ctx->q.nconds; i++)
	{
		GrCondEntry *e = &ctx->q.conds[i];
		int			c;
		const char *given = NULL;

		if (e->path.n || e->cond->kind != GR_COND_FILTER || e->cond->negate ||
			e->cond->filter.op != GR_EQ || e->cond->filter.field.njson ||
			e->cond->filter.quant != GR_QUANT_NONE)
			goto bad;
		c = api_find_col(rel, e->cond->filter.field.name);
		if (c < 0 || !rel->cols[c].pk)
			goto bad;
		/* the key's value in the body: a string's text, else its JSON */
		for (int k = 0; k < p->nkeys; k++)
			if (strcmp(p->keys[k], rel->cols[c].name) == 0)
				given = p->values[k];
		if (given == NULL)
			return api_fail(ctx, 400, "PGRST115", "Payload values do not match URL in primary key column(s)", NULL, NULL);
		if (strcmp(given, e->cond->filter.value) != 0)
			return api_fail(ctx, 400, "PGRST115", "Payload values do not match URL in primary key column(s)", NULL, NULL);
	}
	return true;
bad:
	return api_fail(ctx, 405, "PGRST105",
					"Filters must include all and only primary key columns with 'eq' operators", NULL, NULL);
}

static bool
write_where(ApiCtx *ctx, Sql *sql, ApiNode *root, const ApiRel *rel)
{
	if (root->range == NULL || (root->range->limit < 0 && root->range->offset == 0))
		return build_where(ctx, sql, root, true);

	/* limit on PATCH/DELETE: the rows the ordered, limited read would give */
	appendStringInfoString(&sql->text, " WHERE _t0.ctid = ANY (ARRAY(SELECT _t0.ctid FROM ");
	sql_rel(sql, rel);
	appendStringInfoString(&sql->text, " _t0");
	if (!build_where(ctx, sql, root, true) || !build_order(ctx, sql, root))
		return false;
	build_limit(sql, root->range->limit, root->range->offset);
	appendStringInfoString(&sql->text, "))");
	return true;
}

bool
api_write(ApiCtx *ctx, const ApiRel *rel)
{
	const char *m = ctx->method;
	ApiNode    *root;
	Payload		p = {0};
	Sql			sql;
	char		range[64];
	int64		n;
	char		kind = m[0] == 'P' ? (m[1] == 'O' ? 'i' : m[1] == 'A' ? 'u' : 'p') : 'd';
	bool		upsert = kind == 'p' || (kind == 'i' && ctx->prefs.resolution);

	root = build_tree(ctx, rel, NULL);
	if (root == NULL)
		return false;
	sql_init(&sql);
	if (kind != 'd' && !read_payload(ctx, rel, &p, kind != 'i'))
		return false;
	if (kind == 'u' && !p.object)
		return invalid_body(ctx, "Empty or invalid json");
	if (kind == 'p' && !put_checks(ctx, rel, &p))
		return false;

	appendStringInfoString(&sql.text, "WITH _m AS (");
	if (kind == 'i' || kind == 'p')
	{
		if (!insert_stmt(ctx, &sql, rel, &p, kind == 'p'))
			return false;
	}
	else if (kind == 'u' && p.ncols == 0)
	{
		appendStringInfoString(&sql.text, "SELECT _t0.* FROM ");
		sql_rel(&sql, rel);
		appendStringInfoString(&sql.text, " _t0 WHERE false");
	}
	else if (kind == 'u')
	{
		appendStringInfoString(&sql.text, "UPDATE ");
		sql_rel(&sql, rel);
		appendStringInfoString(&sql.text, " AS _t0 SET ");
		for (int i = 0; i < p.ncols; i++)
		{
			const char *c = quote_identifier(rel->cols[p.cols[i]].name);

			appendStringInfo(&sql.text, "%s%s = _p.%s", i ? ", " : "", c, c);
		}
		appendStringInfoString(&sql.text, " FROM pg_catalog.json_populate_record(NULL::");
		sql_rel(&sql, rel);
		appendStringInfoString(&sql.text, ", ");
		sql_param(&sql, p.json, JSONOID);
		appendStringInfoString(&sql.text, " -> 0) _p");
		if (!write_where(ctx, &sql, root, rel))
			return false;
	}
	else
	{
		appendStringInfoString(&sql.text, "DELETE FROM ");
		sql_rel(&sql, rel);
		appendStringInfoString(&sql.text, " AS _t0");
		if (!write_where(ctx, &sql, root, rel))
			return false;
	}
	if (kind == 'u' && p.ncols == 0)
		appendStringInfoString(&sql.text, ")");
	else if (upsert)
		appendStringInfoString(&sql.text, " RETURNING _t0.*, (_t0.xmax = 0) AS pgrst_inserted)");
	else
		appendStringInfoString(&sql.text, " RETURNING _t0.*)");
	appendStringInfoString(&sql.text, " SELECT NULL::pg_catalog.int8, pg_catalog.count(*), ");
	if (ctx->prefs.ret == 'r')
		api_body_expr(ctx, &sql.text);
	else
		appendStringInfoString(&sql.text, "''");
	if (kind == 'i' && ctx->prefs.ret == 'h' && has_pk(rel))
		location_expr(&sql, rel);
	else
		appendStringInfoString(&sql.text, ", NULL::pg_catalog.text");
	if (upsert)
		appendStringInfoString(&sql.text, ", (SELECT pg_catalog.count(*) FROM _m WHERE _m.pgrst_inserted)");
	appendStringInfoString(&sql.text, " FROM (SELECT ");
	if (!build_select_list(ctx, &sql, root))
		return false;
	appendStringInfoString(&sql.text, " FROM _m _t0) _r");
	if (!api_run_query(ctx, &sql, root, true))
		return false;

	n = ctx->resp->status;
	if (kind == 'u')
	{
		if (n > 0)
			snprintf(range, sizeof(range), "0-%lld/", (long long) n - 1);
		else
			snprintf(range, sizeof(range), "*/");
	}
	else
		snprintf(range, sizeof(range), "*/");
	if (ctx->prefs.count == 'e')
		snprintf(range + strlen(range), sizeof(range) - strlen(range), "%lld", (long long) n);
	else
		strlcat(range, "*", sizeof(range));
	if (kind != 'p')
		http_response_header(ctx->resp, "Content-Range", range, true);
	if (kind == 'i')
		ctx->resp->status = ctx->inserted == 0 && ctx->prefs.resolution == 'm' ? 200 : 201;
	else if (kind == 'p' && ctx->prefs.ret == 'r')
		ctx->resp->status = ctx->inserted > 0 ? 201 : 200;
	else
		ctx->resp->status = ctx->prefs.ret == 'r' ? 200 : 204;
	{
		StringInfoData s;
		ApiPrefs   *pr = &ctx->prefs;

		initStringInfo(&s);
		if (kind == 'i' && pr->resolution)
			appendStringInfoString(&s, pr->resolution == 'm' ? "resolution=merge-duplicates"
								   : "resolution=ignore-duplicates");
		if (kind == 'i' && pr->missing_default)
			appendStringInfo(&s, "%smissing=default", s.len ? ", " : "");
		if (pr->ret)
			appendStringInfo(&s, "%sreturn=%s", s.len ? ", " : "",
							 pr->ret == 'r' ? "representation" : pr->ret == 'm' ? "minimal" : "headers-only");
		if (pr->count == 'e')
			appendStringInfo(&s, "%scount=exact", s.len ? ", " : "");
		if (s.len)
			http_response_header(ctx->resp, "Preference-Applied", s.data, true);
	}
	return true;
}
