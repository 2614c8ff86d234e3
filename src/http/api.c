/*-------------------------------------------------------------------------
 *
 * src/http/api.c
 *	  The API layer's entry point (http_api_serve, api.h): routes a
 *	  request to a table or view (reads here; writes in write.c), a
 *	  function (rpc.c) or the OpenAPI document (openapi.c); reads the
 *	  Accept, Prefer, Range and *-Profile headers; runs the statement and
 *	  turns its one result row into PostgREST's status, Content-Range and
 *	  body.
 *
 *	  Every statement returns one row (total, n, body, location): the
 *	  database renders the JSON (json_agg, or for arrays of rows its
 *	  faster twin zvt._http_json_agg) or CSV in the same round trip,
 *	  so the worker copies one text value into the response.
 *
 *	  Writes run in an internal subtransaction: a request error found
 *	  after the write (singular object with n != 1) rolls it back before
 *	  the error response, as PostgREST rolls back its transaction; an
 *	  ERROR rolls it back and propagates to the transport.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "nodes/nodes.h"
#include "http/api.h"
#include "http/api_int.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

static void serve(ApiCtx *ctx);

/* ----------------------------------------------------------------
 * headers
 * ---------------------------------------------------------------- */

static bool
prefer_token(ApiCtx *ctx, const char *tok)
{
	ApiPrefs   *p = &ctx->prefs;

	if (strcmp(tok, "return=representation") == 0)
		p->ret = 'r';
	else if (strcmp(tok, "return=minimal") == 0)
		p->ret = 'm';
	else if (strcmp(tok, "return=headers-only") == 0)
		p->ret = 'h';
	else if (strcmp(tok, "count=exact") == 0)
		p->count = 'e';
	else if (strcmp(tok, "count=planned") == 0)
		p->count = 'p';
	else if (strcmp(tok, "count=estimated") == 0)
		p->count = 's';
	else if (strcmp(tok, "resolution=merge-duplicates") == 0)
		p->resolution = 'm';
	else if (strcmp(tok, "resolution=ignore-duplicates") == 0)
		p->resolution = 'i';
	else if (strcmp(tok, "missing=default") == 0)
		p->missing_default = true;
	else if (strcmp(tok, "missing=null") == 0)
		p->missing_default = false;
	else if (strcmp(tok, "handling=strict") == 0)
		p->strict = true;
	else if (strcmp(tok, "handling=lenient") == 0)
		p->strict = false;
	else if (strcmp(tok, "params=single-object") == 0)
		p->single_object = true;
	else if (strncmp(tok, "tx=", 3) == 0 || strncmp(tok, "timezone=", 9) == 0 ||
			 strncmp(tok, "max-affected=", 13) == 0)
		 /* the transport's */ ;
	else
		return false;
	return true;
}

static void
read_prefer(ApiCtx *ctx)
{
	for (int i = 0; i < ctx->req->nheaders; i++)
	{
		char	   *v,
				   *tok,
				   *save;

		if (strcmp(ctx->req->headers[i].name, "prefer") != 0)
			continue;
		v = pstrdup(ctx->req->headers[i].value);
		for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		{
			while (*tok == ' ' || *tok == '\t')
				tok++;
			for (char *e = tok + strlen(tok); e > tok && (e[-1] == ' ' || e[-1] == '\t'); e--)
				e[-1] = '\0';
			if (!prefer_token(ctx, tok) && strlen(ctx->prefs.invalid) < 200)
				snprintf(ctx->prefs.invalid + strlen(ctx->prefs.invalid),
						 sizeof(ctx->prefs.invalid) - strlen(ctx->prefs.invalid),
						 "%s%s", ctx->prefs.invalid[0] ? ", " : "", tok);
		}
	}
}

/* Preference-Applied in PostgREST's order */
static void
applied(ApiCtx *ctx, bool with_resolution, bool with_return, bool with_count)
{
	ApiPrefs   *p = &ctx->prefs;
	StringInfoData s;

	initStringInfo(&s);
#define ADD(x) appendStringInfo(&s, "%s%s", s.len ? ", " : "", (x))
	if (with_resolution && p->resolution)
		ADD(p->resolution == 'm' ? "resolution=merge-duplicates" : "resolution=ignore-duplicates");
	if (with_resolution && p->missing_default)
		ADD("missing=default");
	if (with_return && p->ret)
		ADD(p->ret == 'r' ? "return=representation" : p->ret == 'm' ? "return=minimal" : "return=headers-only");
	if (with_count && p->count)
		ADD(p->count == 'e' ? "count=exact" : p->count == 'p' ? "count=planned" : "count=estimated");
	if (p->strict)
		ADD("handling=strict");
#undef ADD
	if (s.len)
		http_response_header(ctx->resp, "Preference-Applied", s.data, true);
}

static bool
read_accept(ApiCtx *ctx)
{
	const char *h = http_request_header(ctx->req, "accept");
	char	   *v,
			   *tok,
			   *save;

	ctx->accept = 'j';
	if (h == NULL || *h == '\0')
		return true;
	v = pstrdup(h);
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *semi = strchr(tok, ';');
		bool		stripped = semi && strstr(semi, "nulls=stripped") != NULL;

		if (semi)
			*semi = '\0';
		while (*tok == ' ')
			tok++;
		for (char *e = tok + strlen(tok); e > tok && e[-1] == ' '; e--)
			e[-1] = '\0';
		if (strcmp(tok, "application/json") == 0 || strcmp(tok, "*/*") == 0 ||
			strcmp(tok, "application/*") == 0 ||
			strcmp(tok, "application/vnd.pgrst.array+json") == 0)
			ctx->accept = 'j';
		else if (strcmp(tok, "application/vnd.pgrst.object+json") == 0 ||
				 strcmp(tok, "application/vnd.pgrst.object") == 0)
			ctx->accept = 'o';
		else if (strcmp(tok, "text/csv") == 0 || strcmp(tok, "text/*") == 0)
			ctx->accept = 'c';
		else
			continue;
		ctx->strip_nulls = stripped;
		return true;
	}
	return api_fail(ctx, 406, "PGRST107",
					psprintf("None of these media types are available: %s", h), NULL, NULL);
}

static const char *
content_type(ApiCtx *ctx)
{
	switch (ctx->accept)
	{
		case 'o':
			return ctx->strip_nulls ? "application/vnd.pgrst.object+json; nulls=stripped; charset=utf-8"
				: "application/vnd.pgrst.object+json; charset=utf-8";
		case 'c':
			return "text/csv; charset=utf-8";
		default:
			return "application/json; charset=utf-8";
	}
}

/* Range: a-b (items); false with a 416 when a > b */
static bool
read_range(ApiCtx *ctx)
{
	const char *h = http_request_header(ctx->req, "range");
	long		lo,
				hi = -1;
	char	   *end;

	ctx->range_offset = 0;
	ctx->range_limit = -1;
	if (h == NULL || strcmp(ctx->method, "GET") != 0)
		return true;
	if (strncmp(h, "items=", 6) == 0)
		h += 6;
	lo = strtol(h, &end, 10);
	if (end == h || *end != '-' || lo < 0)
		return true;			/* not a range PostgREST reads: ignored */
	h = end + 1;
	if (*h)
	{
		hi = strtol(h, &end, 10);
		if (end == h || *end != '\0')
			return true;
		if (hi < lo)
			return api_fail(ctx, 416, "PGRST103", "Requested range not satisfiable",
							"The lower boundary must be lower than or equal to the upper boundary in the Range header.",
							NULL);
		ctx->range_limit = hi - lo + 1;
	}
	ctx->range_offset = lo;
	return true;
}

/* the top level's effective offset and limit: query's range meets Range: */
static void
top_range(ApiCtx *ctx, ApiNode *root, long *offset, long *limit)
{
	long		qlo = root->range ? root->range->offset : 0;
	long		qlim = root->range ? root->range->limit : -1;
	long		lo = Max(qlo, ctx->range_offset);
	long		hi = -1;
	bool		bounded = false;

	if (qlim >= 0)
	{
		hi = qlo + qlim - 1;
		bounded = true;
	}
	if (ctx->range_limit >= 0)
	{
		long		h2 = ctx->range_offset + ctx->range_limit - 1;

		hi = bounded ? Min(hi, h2) : h2;
		bounded = true;
	}
	if (qlim == 0)
	{
		*offset = qlo;
		*limit = 0;
		return;
	}
	*offset = lo;
	*limit = bounded ? Max(0, hi - lo + 1) : -1;
}

/* Accept and Range, for a table or a function */
bool
api_read_headers(ApiCtx *ctx)
{
	return read_accept(ctx) && read_range(ctx);
}

/* ----------------------------------------------------------------
 * running a statement
 * ---------------------------------------------------------------- */

/* body expression over the rows _r, for the accepted media type */
void
api_body_expr(ApiCtx *ctx, StringInfo s)
{
	const char *agg = ctx->strip_nulls
		? "pg_catalog.json_agg(pg_catalog.json_strip_nulls(pg_catalog.row_to_json(_r)))"
		: "pg_catalog.json_agg(_r)";

	if (ctx->accept == 'o')
		appendStringInfo(s, "coalesce((%s -> 0)::text, '')", agg);
	else if (ctx->accept == 'c')
		appendStringInfoString(s,
							   "coalesce((SELECT pg_catalog.string_agg(k, ',') FROM pg_catalog.json_object_keys(pg_catalog.json_agg(_r) -> 0) k) || E'\\n', '')"
							   " || coalesce(pg_catalog.string_agg((SELECT pg_catalog.string_agg(CASE WHEN v IS NULL THEN ''"
							   " WHEN v ~ '[,\"\\n\\r]' THEN '\"' || pg_catalog.replace(v, '\"', '\"\"') || '\"' ELSE v END, ','"
							   " ORDER BY o) FROM pg_catalog.json_each_text(pg_catalog.row_to_json(_r)) WITH ORDINALITY e(k, v, o)), E'\\n'), '')");
	else if (!ctx->strip_nulls)
		/* json_agg(_r)::text, faster (json_agg.c) */
		appendStringInfoString(s, "coalesce(zvt._http_json_agg(_r), '[]')");
	else
		appendStringInfo(s, "coalesce(%s, '[]')::text", agg);
}

/*
 * Planned count: the planner's row estimate for the filtered relation
 * (EXPLAIN of the count source with the same bound values).
 */
static int64
planned_count(Sql *src)
{
	StringInfoData q;
	char	   *plan;
	char	   *p;
	int			rc;

	initStringInfo(&q);
	appendStringInfo(&q, "EXPLAIN (FORMAT JSON) %s", src->text.data);
	rc = SPI_execute_with_args(q.data, src->n, src->types, src->values, src->nulls, false, 1);
	if (rc < 0 || SPI_processed < 1)
		return 0;
	plan = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	p = plan ? strstr(plan, "\"Plan Rows\": ") : NULL;
	return p ? strtoll(p + 13, NULL, 10) : 0;
}

/*
 * Run the statement built in sql (its one row: total, n, body, location)
 * and answer.  For a read (mutation false) the top level's range gives
 * Content-Range and 206/416.
 */
bool
api_run_query(ApiCtx *ctx, Sql *sql, ApiNode *root, bool mutation)
{
	uint64		nrows;
	SPITupleTable *tt;
	bool		isnull;
	int64		n,
				total = -1;
	char	   *body;
	char	   *location;
	char		range[96];
	long		offset = ctx->range_offset;

	tt = sql_run(sql, &nrows);
	if (nrows != 1)
		elog(ERROR, "API statement returned %lu rows", (unsigned long) nrows);
	n = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &isnull));
	{
		Datum		t = SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &isnull);

		if (!isnull)
			total = DatumGetInt64(t);
	}
	body = SPI_getvalue(tt->vals[0], tt->tupdesc, 3);
	location = tt->tupdesc->natts >= 4 ? SPI_getvalue(tt->vals[0], tt->tupdesc, 4) : NULL;
	ctx->inserted = -1;
	if (tt->tupdesc->natts >= 5)
		ctx->inserted = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 5, &isnull));
	if (root && root->range)
		offset = Max(root->range->offset, ctx->range_offset);

	if (ctx->accept == 'o' && n != 1)
		return api_fail(ctx, 406, "PGRST116", "Cannot coerce the result to a single JSON object",
						psprintf("The result contains %lld rows", (long long) n), NULL);
	if (!mutation)
	{
		int			status = 200;

		if (total >= 0 && offset > total)
		{
			snprintf(range, sizeof(range), "*/%lld", (long long) total);
			http_response_header(ctx->resp, "Content-Range", range, true);
			return api_fail(ctx, 416, "PGRST103", "Requested range not satisfiable",
							psprintf("An offset of %ld was requested, but there are only %lld rows.",
									 offset, (long long) total), NULL);
		}
		if (total >= 0 && n < total)
			status = 206;
		if (n > 0 && total != 0)
			snprintf(range, sizeof(range), "%ld-%lld/", offset, (long long) (offset + n - 1));
		else
			snprintf(range, sizeof(range), "*/");
		if (total >= 0)
			snprintf(range + strlen(range), sizeof(range) - strlen(range), "%lld", (long long) total);
		else
			strlcat(range, "*", sizeof(range));
		http_response_header(ctx->resp, "Content-Range", range, true);
		ctx->resp->status = status;
		http_response_header(ctx->resp, "Content-Type", content_type(ctx), true);
		if (strcmp(ctx->method, "HEAD") != 0 && body)
			http_response_body(ctx->resp, body, strlen(body));
		applied(ctx, false, false, true);
		return true;
	}
	/* writes: the caller sets status and Content-Range from n */
	ctx->resp->status = (int) n;	/* rows affected, read by write.c */
	if (body && ctx->prefs.ret == 'r')
	{
		http_response_body(ctx->resp, body, strlen(body));
		http_response_header(ctx->resp, "Content-Type", content_type(ctx), true);
	}
	if (location && location[0])
		http_response_header(ctx->resp, "Location", location, true);
	return true;
}

/* ----------------------------------------------------------------
 * reads
 * ---------------------------------------------------------------- */

static bool
count_source(ApiCtx *ctx, Sql *sql, ApiNode *root)
{
	appendStringInfoString(&sql->text, "SELECT 1 FROM ");
	sql_rel(sql, root->rel);
	appendStringInfoString(&sql->text, " _t0");
	return build_where(ctx, sql, root, true);
}

static bool
api_read(ApiCtx *ctx, const ApiRel *rel)
{
	ApiNode    *root = build_tree(ctx, rel, NULL);
	Sql			sql;
	long		offset,
				limit;

	if (root == NULL)
		return false;
	top_range(ctx, root, &offset, &limit);
	sql_init(&sql);
	appendStringInfoString(&sql.text, "SELECT ");
	if (ctx->prefs.count == 'e' || ctx->prefs.count == 's')
	{
		appendStringInfoString(&sql.text, "(SELECT pg_catalog.count(*) FROM (");
		if (!count_source(ctx, &sql, root))
			return false;
		appendStringInfoString(&sql.text, ") _c)");
	}
	else if (ctx->prefs.count == 'p')
	{
		Sql			c;

		sql_init(&c);
		if (!count_source(ctx, &c, root))
			return false;
		sql_param_datum(&sql, Int64GetDatum(planned_count(&c)), INT8OID);
	}
	else
		appendStringInfoString(&sql.text, "NULL::pg_catalog.int8");
	appendStringInfoString(&sql.text, ", pg_catalog.count(*), ");
	api_body_expr(ctx, &sql.text);
	appendStringInfoString(&sql.text, " FROM (SELECT ");
	if (!build_select_list(ctx, &sql, root))
		return false;
	appendStringInfoString(&sql.text, " FROM ");
	sql_rel(&sql, rel);
	appendStringInfoString(&sql.text, " _t0");
	if (!build_where(ctx, &sql, root, true) || !build_order(ctx, &sql, root))
		return false;
	build_limit(&sql, limit, offset);
	appendStringInfoString(&sql.text, ") _r");
	ctx->range_offset = offset;
	return api_run_query(ctx, &sql, NULL, false);
}

/* ----------------------------------------------------------------
 * routing
 * ---------------------------------------------------------------- */

static char *
decode_segment(const char *s, size_t n)
{
	char	   *r = palloc(n + 1);
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n &&
			isxdigit((unsigned char) s[i + 1]) && isxdigit((unsigned char) s[i + 2]))
		{
			char		hex[3] = {s[i + 1], s[i + 2], 0};

			r[o++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			r[o++] = s[i];
	}
	r[o] = '\0';
	return r;
}

static bool
pick_schema(ApiCtx *ctx)
{
	bool		read = strcmp(ctx->method, "GET") == 0 || strcmp(ctx->method, "HEAD") == 0;
	const char *h = http_request_header(ctx->req, read ? "accept-profile" : "content-profile");

	if (ctx->cache->nschemas == 0)
		return api_fail(ctx, 406, "PGRST106", "Invalid schema: ", NULL, "Only the following schemas are exposed: ");
	ctx->schema = ctx->cache->schemas[0];
	if (h && !api_schema_exposed(ctx->cache, h))
	{
		StringInfoData list;

		initStringInfo(&list);
		for (int i = 0; i < ctx->cache->nschemas; i++)
			appendStringInfo(&list, "%s%s", i ? ", " : "", ctx->cache->schemas[i]);
		return api_fail(ctx, 406, "PGRST106", psprintf("Invalid schema: %s", h), NULL,
						psprintf("Only the following schemas are exposed: %s", list.data));
	}
	if (h)
		ctx->schema = pstrdup(h);
	if (ctx->cache->nschemas > 1)
		http_response_header(ctx->resp, "Content-Profile", ctx->schema, true);
	return true;
}

static bool
table_not_found(ApiCtx *ctx, const char *name)
{
	const char **names = palloc(sizeof(char *) * (ctx->cache->nrels + 1));
	int			n = 0;
	const char *best;

	/* suggest only what the role may use: a hint never names the others */
	for (int i = 0; i < ctx->cache->nrels; i++)
		if (strcmp(ctx->cache->rels[i]->schema, ctx->schema) == 0 &&
			pg_class_aclcheck(ctx->cache->rels[i]->oid, GetUserId(),
							  ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE) == ACLCHECK_OK)
			names[n++] = ctx->cache->rels[i]->name;
	best = api_fuzzy(name, names, n);
	return api_fail(ctx, 404, "PGRST205",
					psprintf("Could not find the table '%s.%s' in the schema cache", ctx->schema, name),
					NULL,
					best ? psprintf("Perhaps you meant the table '%s.%s'", ctx->schema, best) : NULL);
}

static bool
route(ApiCtx *ctx)
{
	const char *path = ctx->req->path ? ctx->req->path : "/";
	const char *seg;
	const char *slash;
	char	   *name;
	const ApiRel *rel;
	GrError		gerr;
	const char *m = ctx->method;

	if (!pick_schema(ctx))
		return false;
	read_prefer(ctx);
	if (ctx->prefs.strict && ctx->prefs.invalid[0])
		return api_fail(ctx, 400, "PGRST122", "Invalid preferences given with handling=strict",
						psprintf("Invalid preferences: %s", ctx->prefs.invalid), NULL);
	while (*path == '/')
		path++;
	if (*path == '\0')
	{
		if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0)
			return api_fail(ctx, 405, "PGRST117", psprintf("Unsupported HTTP method: %s", m), NULL, NULL);
		if (strcmp(m, "OPTIONS") == 0)
		{
			ctx->resp->status = 200;
			http_response_header(ctx->resp, "Allow", "OPTIONS,GET,HEAD", true);
			return true;
		}
		http_api_openapi(ctx->req, ctx->resp);
		if (strcmp(m, "HEAD") == 0)
		{
			free(ctx->resp->body);
			ctx->resp->body = NULL;
			ctx->resp->body_len = 0;
		}
		return true;
	}
	seg = path;
	slash = strchr(seg, '/');
	if (slash && strncmp(seg, "rpc/", 4) == 0)
	{
		const char *fn = slash + 1;

		if (*fn == '\0' || strchr(fn, '/') != NULL)
			return api_fail(ctx, 404, "PGRST125", "Invalid path specified in request URL", NULL, NULL);
		return api_rpc(ctx, decode_segment(fn, strlen(fn)));
	}
	if (slash && slash[1] != '\0')
		return api_fail(ctx, 404, "PGRST125", "Invalid path specified in request URL", NULL, NULL);
	name = decode_segment(seg, slash ? (size_t) (slash - seg) : strlen(seg));
	rel = api_find_rel(ctx->cache, ctx->schema, name);
	if (rel == NULL)
		return table_not_found(ctx, name);

	if (strcmp(m, "OPTIONS") == 0)
	{
		bool		ins = (rel->updatable & (1 << CMD_INSERT)) != 0;
		bool		upd = (rel->updatable & (1 << CMD_UPDATE)) != 0;
		bool		del = (rel->updatable & (1 << CMD_DELETE)) != 0;
		bool		pk = false;

		for (int i = 0; i < rel->ncols; i++)
			pk = pk || rel->cols[i].pk;
		ctx->resp->status = 200;
		http_response_header(ctx->resp, "Allow",
							 psprintf("OPTIONS,GET,HEAD%s%s%s%s", ins ? ",POST" : "",
									  ins && upd && pk ? ",PUT" : "", upd ? ",PATCH" : "",
									  del ? ",DELETE" : ""), true);
		return true;
	}
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "POST") != 0 &&
		strcmp(m, "PATCH") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "DELETE") != 0)
		return api_fail(ctx, 405, "PGRST117", psprintf("Unsupported HTTP method: %s", m), NULL, NULL);
	if (!api_read_headers(ctx))
		return false;
	if (!gr_parse(ctx->req->query, NULL, 0, &ctx->q, &gerr))
		return api_fail(ctx, 400, "PGRST100", gerr.message, gerr.details, NULL);
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
	{
		http_response_header(ctx->resp, "Content-Location",
							 ctx->req->query && ctx->req->query[0]
							 ? psprintf("/%s?%s", rel->name, ctx->req->query)
							 : psprintf("/%s", rel->name), true);
		return api_read(ctx, rel);
	}
	return api_write(ctx, rel);
}

/* ----------------------------------------------------------------
 * entry point
 * ---------------------------------------------------------------- */

static void
serve(ApiCtx *ctx)
{
	bool		write = strcmp(ctx->method, "GET") != 0 && strcmp(ctx->method, "HEAD") != 0 &&
		strcmp(ctx->method, "OPTIONS") != 0;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	ctx->cache = api_schema_get();

	/*
	 * GET and HEAD run read-only, as PostgREST's transactions for them do:
	 * a volatile function that writes fails with 25006 (405).
	 */
	if (!write)
		(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	if (!write)
	{
		route(ctx);
		return;
	}
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		bool		ok = route(ctx);

		if (ok)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
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
		ReThrowError(edata);
	}
	PG_END_TRY();
}

void
http_api_serve(const HttpRequest *req, HttpResponse *resp)
{
	ApiCtx		ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.req = req;
	ctx.resp = resp;
	ctx.method = req->method ? req->method : "GET";
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		serve(&ctx);
	}
	PG_FINALLY();
	{
		gr_free(&ctx.q);
	}
	PG_END_TRY();
	if (ctx.err.status)
	{
		/* an error answer carries only its own headers (and 416's Content-Range) */
		for (int i = resp->nheaders - 1; i >= 0; i--)
			if (!(ctx.err.status == 416 && strcmp(resp->headers[i].name, "Content-Range") == 0))
			{
				free(resp->headers[i].name);
				free(resp->headers[i].value);
				memmove(&resp->headers[i], &resp->headers[i + 1],
						sizeof(HttpHeader) * (resp->nheaders - i - 1));
				resp->nheaders--;
			}
		http_response_header(resp, "Proxy-Status",
							 psprintf("PostgREST; error=%s", ctx.err.code), true);
		http_response_error(resp, ctx.err.status, ctx.err.code, ctx.err.message,
							ctx.err.details_json ? NULL : ctx.err.details, ctx.err.hint);
		if (ctx.err.details_json)
		{
			/* PGRST201's details is an array: splice it in */
			char	   *b = resp->body;
			char	   *at = strstr(b, "\"details\":null");

			if (at)
			{
				StringInfoData s;

				initStringInfo(&s);
				appendBinaryStringInfo(&s, b, at - b);
				appendStringInfo(&s, "\"details\":%s", ctx.err.details_json);
				appendStringInfoString(&s, at + strlen("\"details\":null"));
				http_response_body(resp, s.data, s.len);
			}
		}
	}
	SPI_finish();
}
