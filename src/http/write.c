/*-------------------------------------------------------------------------
 *
 * src/http/write.c
 *	  POST (insert, upsert with Prefer: resolution), PATCH, PUT and DELETE
 *	  on a table or an updatable view, as PostgREST 14 answers them.
 *
 *	  The body is validated here (jansson: JSON, or CSV turned into JSON
 *	  objects of strings; keys that are columns of the schema cache) and then bound whole as one json
 *	  parameter; PostgreSQL turns it into rows with json_populate_record
 *	  (set), so column types are the table's own.  Every statement is
 *	  	WITH _m AS (<INSERT|UPDATE|DELETE> ... RETURNING _t0.*)
 *	  	SELECT NULL, count(*), <body>, <location> FROM (SELECT <select=> FROM _m _t0) _r
 *	  so return=representation with select= and embedding is the same
 *	  code as a read.  The write runs in api.c's subtransaction.
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
#include "http/api_int.h"

/* the body's columns: columns= when given, else the first object's keys */
typedef struct Payload
{
	char	   *json;			/* the body as a JSON array text */
	int		   *cols;			/* indexes into rel->cols */
	int			ncols;
	json_t	   *first;			/* the first object (owned by root) */
	json_t	   *root;
	int			nobjects;
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

/*
 * A text/csv body as a JSON array of objects: the first line names the
 * columns, an empty field is an empty string and an unquoted NULL is
 * null (PostgREST's rules); "..." quotes with "" for a quote.  NULL when
 * the body is not CSV of that shape.
 */
static json_t *
csv_to_json(const char *b, size_t len)
{
	json_t	   *rows = json_array();
	json_t	   *header = json_array();
	json_t	   *row = NULL;
	size_t		i = 0;
	size_t		field = 0;
	bool		first = true;

	while (i <= len)
	{
		StringInfoData f;
		bool		quoted = false;
		bool		end_of_line;

		initStringInfo(&f);
		if (i < len && b[i] == '"')
		{
			quoted = true;
			for (i++; i < len; i++)
			{
				if (b[i] == '"' && i + 1 < len && b[i + 1] == '"')
					appendStringInfoChar(&f, b[i++]);
				else if (b[i] == '"')
					break;
				else
					appendStringInfoChar(&f, b[i]);
			}
			if (i >= len)
				goto bad;
			i++;
		}
		else
			for (; i < len && b[i] != ',' && b[i] != '\n' && b[i] != '\r'; i++)
				appendStringInfoChar(&f, b[i]);
		if (i < len && b[i] == '\r')
			i++;
		end_of_line = i >= len || b[i] == '\n';
		if (i < len && b[i] != ',' && b[i] != '\n')
			goto bad;
		i++;
		if (first)
			json_array_append_new(header, json_string(f.data));
		else
		{
			json_t	   *key = json_array_get(header, field);

			if (key == NULL)
				goto bad;
			if (row == NULL)
				row = json_loads("{}", 0, NULL);
			json_object_set_new(row, json_string_value(key),
								!quoted && strcmp(f.data, "NULL") == 0 ? json_null() : json_string(f.data));
		}
		field++;
		if (end_of_line)
		{
			if (!first && row)
			{
				if (field != json_array_size(header))
					goto bad;
				json_array_append_new(rows, row);
				row = NULL;
			}
			first = false;
			field = 0;
			if (i >= len)
				break;
			/* a last empty line ends the body */
			if (i == len)
				break;
		}
	}
	json_decref(header);
	return rows;
bad:
	if (row)
		json_decref(row);
	json_decref(header);
	json_decref(rows);
	return NULL;
}

static bool
read_payload(ApiCtx *ctx, const ApiRel *rel, Payload *p, bool object_only)
{
	const HttpRequest *req = ctx->req;
	const char *ct = http_request_header(req, "content-type");
	json_error_t jerr;
	json_t	   *root;

	memset(p, 0, sizeof(*p));
	if (ct && strncmp(ct, "text/csv", 8) == 0)
	{
		root = req->body ? csv_to_json(req->body, req->body_len) : NULL;
		if (root == NULL)
			return invalid_body(ctx, "Empty or invalid CSV");
	}
	else if (ct && strncmp(ct, "application/json", 16) != 0 &&
			 strncmp(ct, "application/vnd.pgrst.object+json", 33) != 0)
		return api_fail(ctx, 415, "PGRST107",
						psprintf("None of these media types are available: %s", ct), NULL, NULL);
	else
		root = req->body ? json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr) : NULL;
	if (root == NULL || (!json_is_object(root) && !json_is_array(root)))
	{
		if (root)
			json_decref(root);
		return invalid_body(ctx, "Empty or invalid json");
	}
	p->root = root;
	if (json_is_object(root))
	{
		p->first = root;
		p->nobjects = 1;
	}
	else
	{
		size_t		i;
		json_t	   *el;

		if (object_only && json_array_size(root) != 1)
			return invalid_body(ctx, "Empty or invalid json");
		json_array_foreach(root, i, el)
			if (!json_is_object(el))
			return invalid_body(ctx, "Empty or invalid json");
		p->first = json_array_get(root, 0);
		p->nobjects = json_array_size(root);
	}

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
	else if (p->first)
	{
		const char *key;
		json_t	   *v;
		size_t		i;
		json_t	   *el;

		json_object_foreach(p->first, key, v)
		{
			int			c = api_find_col(rel, key);

			if (c < 0)
				return column_not_found(ctx, rel, key);
			if (p->ncols < rel->ncols)
				p->cols[p->ncols++] = c;
		}
		/* every object must have the first one's keys (without columns=) */
		if (json_is_array(root))
			json_array_foreach(root, i, el)
		{
			if (json_object_size(el) != json_object_size(p->first))
				return invalid_body(ctx, "All object keys must match");
			json_object_foreach(el, key, v)
				if (json_object_get(p->first, key) == NULL)
				return invalid_body(ctx, "All object keys must match");
		}
	}
	{
		char	   *text = json_dumps(root, JSON_COMPACT);

		p->json = json_is_array(root) ? pstrdup(text) : psprintf("[%s]", text);
		free(text);
	}
	return true;
}

static void
payload_free(Payload *p)
{
	if (p->root)
		json_decref(p->root);
	p->root = NULL;
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
	appendStringInfoString(&sql->text, " AS _t0 (");
	for (int i = 0; i < p->ncols; i++)
	{
		appendStringInfoString(&sql->text, i ? ", " : "");
		sql_ident(sql, rel->cols[p->cols[i]].name);
	}
	appendStringInfoString(&sql->text, ") SELECT ");
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
		json_t	   *v;
		char	   *given;

		if (e->path.n || e->cond->kind != GR_COND_FILTER || e->cond->negate ||
			e->cond->filter.op != GR_EQ || e->cond->filter.field.njson ||
			e->cond->filter.quant != GR_QUANT_NONE)
			goto bad;
		c = api_find_col(rel, e->cond->filter.field.name);
		if (c < 0 || !rel->cols[c].pk)
			goto bad;
		v = json_object_get(p->first, rel->cols[c].name);
		if (v == NULL)
			return api_fail(ctx, 400, "PGRST115", "Payload values do not match URL in primary key column(s)", NULL, NULL);
		if (json_is_string(v))
			given = pstrdup(json_string_value(v));
		else
		{
			char	   *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

			given = pstrdup(t ? t : "");
			free(t);
		}
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
	volatile bool ok = false;
	char		kind = m[0] == 'P' ? (m[1] == 'O' ? 'i' : m[1] == 'A' ? 'u' : 'p') : 'd';
	bool		upsert = kind == 'p' || (kind == 'i' && ctx->prefs.resolution);

	root = build_tree(ctx, rel, NULL);
	if (root == NULL)
		return false;
	sql_init(&sql);
	PG_TRY();
	{
		if (kind != 'd' && !read_payload(ctx, rel, &p, kind != 'i'))
			goto out;
		if (kind == 'u' && !json_is_object(p.root))
		{
			invalid_body(ctx, "Empty or invalid json");
			goto out;
		}
		if (kind == 'p' && !put_checks(ctx, rel, &p))
			goto out;

		appendStringInfoString(&sql.text, "WITH _m AS (");
		if (kind == 'i' || kind == 'p')
		{
			if (!insert_stmt(ctx, &sql, rel, &p, kind == 'p'))
				goto out;
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
				goto out;
		}
		else
		{
			appendStringInfoString(&sql.text, "DELETE FROM ");
			sql_rel(&sql, rel);
			appendStringInfoString(&sql.text, " AS _t0");
			if (!write_where(ctx, &sql, root, rel))
				goto out;
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
			goto out;
		appendStringInfoString(&sql.text, " FROM _m _t0) _r");
		ok = true;
out:
		payload_free(&p);
	}
	PG_CATCH();
	{
		payload_free(&p);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (!ok)
		return false;
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
