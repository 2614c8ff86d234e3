/*-------------------------------------------------------------------------
 *
 * src/http/openapi.c
 *	  GET /: the OpenAPI 2.0 (Swagger) document of the exposed schema the
 *	  request picked (Accept-Profile), listing only what the requesting
 *	  role may use: a table or view appears when the role has USAGE on
 *	  its schema and some privilege on it, with one operation per
 *	  privilege (SELECT: get; INSERT: post; UPDATE: patch; DELETE:
 *	  delete); a function when the role may EXECUTE it.  COMMENTs become
 *	  descriptions (a relation's first line its summary), as PostgREST
 *	  writes them.  Built with jansson from the schema cache; privileges
 *	  are asked of PostgreSQL's ACL checks under the current role.
 *
 * With zvt.http_metrics on, /metrics is the front's (metrics_page.c): a
 * relation named metrics is not served, so not listed, and /metrics is
 * listed as the Prometheus exposition to a role that would be served it.
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

#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "http/api.h"
#include "http/schema.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "zvt.h"

static json_t *
type_schema(Oid typid, const char *typname)
{
	json_t	   *o = json_object();
	Oid			elem = get_element_type(typid);

	if (OidIsValid(elem))
	{
		json_object_set_new(o, "type", json_string("array"));
		json_object_set_new(o, "items", type_schema(elem, format_type_be(elem)));
		json_object_set_new(o, "format", json_string(typname));
		return o;
	}
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			json_object_set_new(o, "type", json_string("integer"));
			break;
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			json_object_set_new(o, "type", json_string("number"));
			break;
		case BOOLOID:
			json_object_set_new(o, "type", json_string("boolean"));
			break;
		case JSONOID:
		case JSONBOID:
			break;
		default:
			json_object_set_new(o, "type", json_string("string"));
	}
	json_object_set_new(o, "format", json_string(typname));
	return o;
}

static json_t *
ref(const char *fmt, const char *a, const char *b)
{
	char		buf[NAMEDATALEN * 3 + 64];

	snprintf(buf, sizeof(buf), fmt, a, b);
	return json_pack("{s:s}", "$ref", buf);
}

static json_t *
definition(const ApiRel *r)
{
	json_t	   *props = json_object();
	json_t	   *required = json_array();
	json_t	   *d = json_object();

	for (int i = 0; i < r->ncols; i++)
	{
		const ApiColumn *c = &r->cols[i];
		json_t	   *p = type_schema(c->typid, c->typname);

		if (c->pk || c->description)
		{
			char	   *desc = psprintf("%s%s%s", c->description ? c->description : "",
										c->description && c->pk ? "\n\n" : "",
										c->pk ? "Note:\nThis is a Primary Key.<pk/>" : "");

			json_object_set_new(p, "description", json_string(desc));
		}
		if (c->default_expr)
			json_object_set_new(p, "default", json_string(c->default_expr));
		json_object_set_new(props, c->name, p);
		if (c->notnull && !c->default_expr)
			json_array_append_new(required, json_string(c->name));
	}
	if (r->description)
		json_object_set_new(d, "description", json_string(r->description));
	json_object_set_new(d, "properties", props);
	if (json_array_size(required) > 0)
		json_object_set_new(d, "required", required);
	else
		json_decref(required);
	json_object_set_new(d, "type", json_string("object"));
	return d;
}

static json_t *
operation(const ApiRel *r, const char *method, json_t *params, const char *ok)
{
	json_t	   *op = json_object();
	json_t	   *resp = json_object();

	json_object_set_new(op, "tags", json_pack("[s]", r->name));
	if (r->description)
	{
		const char *nl = strchr(r->description, '\n');

		json_object_set_new(op, "summary", nl ? json_stringn(r->description, nl - r->description)
							: json_string(r->description));
		if (nl)
			json_object_set_new(op, "description", json_string(nl + 1));
	}
	json_object_set_new(op, "parameters", params);
	json_object_set_new(resp, ok, json_pack("{s:s}", "description", "OK"));
	if (strcmp(method, "get") == 0)
		json_object_set_new(resp, "206", json_pack("{s:s}", "description", "Partial Content"));
	json_object_set_new(op, "responses", resp);
	return op;
}

static json_t *
filters(const ApiRel *r)
{
	json_t	   *a = json_array();

	for (int i = 0; i < r->ncols; i++)
		json_array_append_new(a, ref("#/parameters/rowFilter.%s.%s", r->name, r->cols[i].name));
	return a;
}

static void
add_rel(json_t *paths, json_t *defs, json_t *params, const ApiRel *r, Oid role)
{
	bool		sel = pg_class_aclcheck(r->oid, role, ACL_SELECT) == ACLCHECK_OK;
	bool		ins = pg_class_aclcheck(r->oid, role, ACL_INSERT) == ACLCHECK_OK;
	bool		upd = pg_class_aclcheck(r->oid, role, ACL_UPDATE) == ACLCHECK_OK;
	bool		del = pg_class_aclcheck(r->oid, role, ACL_DELETE) == ACLCHECK_OK;
	json_t	   *path;
	char		key[NAMEDATALEN + 2];

	if (!sel && !ins && !upd && !del)
		return;
	path = json_object();
	for (int i = 0; i < r->ncols; i++)
	{
		char	   *pn = psprintf("rowFilter.%s.%s", r->name, r->cols[i].name);
		json_t	   *p = json_pack("{s:s, s:s, s:b, s:s, s:s}",
								  "name", r->cols[i].name, "in", "query", "required", 0,
								  "type", "string", "format", r->cols[i].typname);

		json_object_set_new(params, pn, p);
	}
	if (sel)
	{
		json_t	   *ps = filters(r);

		json_array_append_new(ps, ref("#/parameters/select", "", ""));
		json_array_append_new(ps, ref("#/parameters/order", "", ""));
		json_array_append_new(ps, ref("#/parameters/range", "", ""));
		json_array_append_new(ps, ref("#/parameters/rangeUnit", "", ""));
		json_array_append_new(ps, ref("#/parameters/offset", "", ""));
		json_array_append_new(ps, ref("#/parameters/limit", "", ""));
		json_array_append_new(ps, ref("#/parameters/preferCount", "", ""));
		json_object_set_new(path, "get", operation(r, "get", ps, "200"));
	}
	if (ins)
		json_object_set_new(path, "post",
							operation(r, "post", json_pack("[o,o,o]",
														   ref("#/parameters/body.%s", r->name, ""),
														   ref("#/parameters/select", "", ""),
														   ref("#/parameters/preferPost", "", "")), "201"));
	if (upd)
	{
		json_t	   *ps = filters(r);

		json_array_append_new(ps, ref("#/parameters/body.%s", r->name, ""));
		json_array_append_new(ps, ref("#/parameters/preferReturn", "", ""));
		json_object_set_new(path, "patch", operation(r, "patch", ps, "204"));
	}
	if (del)
	{
		json_t	   *ps = filters(r);

		json_array_append_new(ps, ref("#/parameters/preferReturn", "", ""));
		json_object_set_new(path, "delete", operation(r, "delete", ps, "204"));
	}
	if (ins || upd)
		json_object_set_new(params, psprintf("body.%s", r->name),
							json_pack("{s:s, s:s, s:b, s:o}", "name", r->name, "in", "body",
									  "required", 0, "schema",
									  ref("#/definitions/%s", r->name, "")));
	snprintf(key, sizeof(key), "/%s", r->name);
	json_object_set_new(paths, key, path);
	json_object_set_new(defs, r->name, definition(r));
}

static void
add_func(json_t *paths, const ApiFunc *f, Oid role)
{
	json_t	   *props = json_object();
	json_t	   *required = json_array();
	json_t	   *schema;
	json_t	   *post;
	json_t	   *path = json_object();
	char	   *key;

	if (pg_proc_aclcheck(f->oid, role, ACL_EXECUTE) != ACLCHECK_OK)
	{
		json_decref(props);
		json_decref(required);
		json_decref(path);
		return;
	}
	for (int i = 0; i < f->nargs; i++)
	{
		if (f->args[i].name[0] == '\0')
			continue;			/* a single unnamed json argument: the whole body */
		json_object_set_new(props, f->args[i].name, type_schema(f->args[i].typid, f->args[i].typname));
		if (!f->args[i].has_default)
			json_array_append_new(required, json_string(f->args[i].name));
	}
	schema = json_pack("{s:o, s:s}", "properties", props, "type", "object");
	if (json_array_size(required) > 0)
		json_object_set_new(schema, "required", required);
	else
		json_decref(required);
	post = json_object();
	json_object_set_new(post, "tags", json_pack("[s]", psprintf("(rpc) %s", f->name)));
	if (f->description)
		json_object_set_new(post, "summary", json_string(f->description));
	json_object_set_new(post, "parameters",
						json_pack("[{s:s, s:s, s:b, s:o}, o]", "in", "body", "name", "args",
								  "required", 1, "schema", schema,
								  ref("#/parameters/preferParams", "", "")));
	json_object_set_new(post, "responses", json_pack("{s:{s:s}}", "200", "description", "OK"));
	json_object_set_new(path, "post", post);
	if (f->volatility != 'v')
	{
		json_t	   *get = json_object();
		json_t	   *ps = json_array();

		for (int i = 0; i < f->nargs; i++)
		{
			json_t	   *p;

			if (f->args[i].name[0] == '\0')
				continue;
			p = json_pack("{s:s, s:s, s:b}", "name", f->args[i].name, "in", "query",
									  "required", !f->args[i].has_default);

			json_object_update(p, type_schema(f->args[i].typid, f->args[i].typname));
			json_array_append_new(ps, p);
		}
		json_object_set_new(get, "tags", json_pack("[s]", psprintf("(rpc) %s", f->name)));
		if (f->description)
			json_object_set_new(get, "summary", json_string(f->description));
		json_object_set_new(get, "parameters", ps);
		json_object_set_new(get, "responses", json_pack("{s:{s:s}}", "200", "description", "OK"));
		json_object_set_new(path, "get", get);
	}
	key = psprintf("/rpc/%s", f->name);
	json_object_set_new(paths, key, path);
}

/*
 * /metrics, when the front serves it (zvt.http_metrics) to this role:
 * open, or pg_monitor and the role has its privileges (as metrics_page.c
 * decides).
 */
static void
add_metrics(json_t *paths, Oid role)
{
	if (zvt_http_metrics != ZVT_HTTP_METRICS_OPEN &&
		!(zvt_http_metrics == ZVT_HTTP_METRICS_PG_MONITOR &&
		  has_privs_of_role(role, ROLE_PG_MONITOR)))
		return;
	json_object_set_new(paths, "/metrics",
						json_pack("{s:{s:[s], s:{s:{s:s}}, s:s, s:[s]}}", "get",
								  "produces", "text/plain; version=0.0.4",
								  "responses", "200", "description", "OK",
								  "summary", "Prometheus exposition (zvt.http_metrics)",
								  "tags", "Metrics"));
}

static json_t *
common_parameters(void)
{
	return json_pack("{s:{s:s,s:s,s:s,s:b,s:s}, s:{s:s,s:s,s:s,s:b,s:s}, s:{s:s,s:s,s:s,s:b,s:s},"
					 " s:{s:s,s:s,s:s,s:b,s:s}, s:{s:s,s:s,s:s,s:b,s:s}, s:{s:s,s:s,s:s,s:b,s:s},"
					 " s:{s:s,s:s,s:s,s:b,s:s,s:[s,s,s]}, s:{s:s,s:s,s:s,s:b,s:s,s:[s,s,s]},"
					 " s:{s:s,s:s,s:s,s:b,s:s,s:[s,s,s]}, s:{s:s,s:s,s:s,s:b,s:s,s:[s]}}",
					 "select", "name", "select", "in", "query", "description", "Filtering Columns",
					 "required", 0, "type", "string",
					 "order", "name", "order", "in", "query", "description", "Ordering",
					 "required", 0, "type", "string",
					 "range", "name", "Range", "in", "header", "description", "Limiting and Pagination",
					 "required", 0, "type", "string",
					 "rangeUnit", "name", "Range-Unit", "in", "header", "description", "Limiting and Pagination",
					 "required", 0, "type", "string",
					 "offset", "name", "offset", "in", "query", "description", "Limiting and Pagination",
					 "required", 0, "type", "string",
					 "limit", "name", "limit", "in", "query", "description", "Limiting and Pagination",
					 "required", 0, "type", "string",
					 "preferReturn", "name", "Prefer", "in", "header", "description", "Preference",
					 "required", 0, "type", "string", "enum",
					 "return=representation", "return=minimal", "return=none",
					 "preferCount", "name", "Prefer", "in", "header", "description", "Preference",
					 "required", 0, "type", "string", "enum", "count=exact", "count=planned", "count=estimated",
					 "preferPost", "name", "Prefer", "in", "header", "description", "Preference",
					 "required", 0, "type", "string", "enum",
					 "return=representation", "return=minimal", "resolution=merge-duplicates",
					 "preferParams", "name", "Prefer", "in", "header", "description", "Preference",
					 "required", 0, "type", "string", "enum", "params=single-object");
}

void
http_api_openapi(const HttpRequest *req, HttpResponse *resp)
{
	const ApiSchema *s;
	const char *schema;
	const char *h = http_request_header(req, "accept-profile");
	Oid			role = GetUserId();
	json_t	   *doc,
			   *paths,
			   *defs,
			   *params;
	char	   *text;

	/* callable on its own too: the cache reads the catalogs through SPI */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	s = api_schema_get();
	schema = s->nschemas ? s->schemas[0] : "";
	if (h && api_schema_exposed(s, h))
		schema = h;
	paths = json_object();
	defs = json_object();
	params = common_parameters();
	json_object_set_new(paths, "/", json_pack("{s:{s:[s], s:{s:{s:s}}, s:s, s:[s]}}", "get",
											  "produces", "application/openapi+json",
											  "responses", "200", "description", "OK",
											  "summary", "OpenAPI description (this document)",
											  "tags", "Introspection"));
	if (pg_namespace_aclcheck(get_namespace_oid(schema, true), role, ACL_USAGE) == ACLCHECK_OK)
	{
		for (int i = 0; i < s->nrels; i++)
			if (strcmp(s->rels[i]->schema, schema) == 0 &&
				!(zvt_http_metrics != ZVT_HTTP_METRICS_OFF &&
				  strcmp(s->rels[i]->name, "metrics") == 0))
				add_rel(paths, defs, params, s->rels[i], role);
		for (int i = 0; i < s->nfuncs; i++)
			if (strcmp(s->funcs[i].schema, schema) == 0)
				add_func(paths, &s->funcs[i], role);
	}
	add_metrics(paths, role);
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:[s], s:[s,s,s], s:[s,s,s], s:o, s:o, s:o}",
					"swagger", "2.0",
					"info", "title", "zvt", "description",
					"zvt's HTTP API: the tables, views and functions this role may use",
					"version", "1.0",
					"basePath", "/",
					"schemes", "http",
					"consumes", "application/json", "application/vnd.pgrst.object+json", "text/csv",
					"produces", "application/json", "application/vnd.pgrst.object+json", "text/csv",
					"paths", paths, "definitions", defs, "parameters", params);
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	SPI_finish();
	resp->status = 200;
	http_response_header(resp, "Content-Type", "application/openapi+json; charset=utf-8", true);
	http_response_body(resp, text, strlen(text));
	free(text);
}
