/*-------------------------------------------------------------------------
 *
 * src/http/schema.c
 *	  The API layer's schema cache (schema.h): the relations, columns,
 *	  keys and functions of the schemas zvt.http_schemas names, read from
 *	  pg_catalog with SPI in the request's transaction.
 *
 *	  Lifetime: the cache lives in its own memory context under
 *	  CacheMemoryContext ("zvt http schema cache") until it goes stale.
 *	  It goes stale on http_api_reset (the transport calls it on NOTIFY
 *	  zvt_http, 'reload'), on a change of zvt.http_schemas, and on the
 *	  catalog invalidations registered here on first load: a pg_class
 *	  change of a cached relation or of a table under a cached view (not
 *	  the VACUUM and ANALYZE of everything else), any pg_proc,
 *	  pg_namespace or pg_type change (a new relation adds a type), and a
 *	  relcache invalidation of those relations (columns, constraints).  A stale cache is only
 *	  marked in the callback (no catalog access there) and reloaded by the
 *	  next request.  The catalogs are readable by every role, so the cache
 *	  is the same whoever loads it; what a role may do with an entry is
 *	  PostgreSQL's decision when the statement runs (and the OpenAPI
 *	  document asks has_*_privilege).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "executor/spi.h"
#include "http/api.h"
#include "http/api_int.h"
#include "http/schema.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
#include "zvt.h"

static MemoryContext schema_cxt = NULL;
static ApiSchema *cache = NULL;
static char *cache_schemas_guc = NULL;	/* zvt.http_schemas it was built for */
static bool callbacks_registered = false;
static bool cache_stale = true;
static uint32 *rel_hashes = NULL;	/* in schema_cxt: see syscache_changed */
static int	nrel_hashes = 0;

static void load_rels(ApiSchema *s);
static void load_columns(ApiSchema *s);
static void load_fks(ApiSchema *s);
static void load_funcs(ApiSchema *s);

/*
 * Only marks the cache stale: this runs inside invalidation callbacks,
 * possibly while a request still holds pointers into the cache; the
 * memory is released when the next request reloads it.
 */
void
http_api_reset(void)
{
	cache_stale = true;
	exec_reset_plans();
}

/*
 * pg_class changes all the time (every VACUUM and ANALYZE of any chunk
 * rewrites its row): only a change of a cached relation, or of a table
 * under a cached view, makes the cache stale.  A new relation also adds
 * a pg_type row, which the TYPEOID callback sees.
 */
static void
syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	if (cacheid == RELOID && hashvalue != 0 && cache != NULL && !cache_stale)
	{
		for (int i = 0; i < nrel_hashes; i++)
			if (rel_hashes[i] == hashvalue)
			{
				http_api_reset();
				return;
			}
		return;
	}
	http_api_reset();
}

/* the RELOID hash of every cached relation and of the tables under them */
static void
remember_rel_hashes(ApiSchema *s)
{
	int			max = 0;

	for (int i = 0; i < s->nrels; i++)
		max += 1 + s->rels[i]->ncols;
	rel_hashes = palloc(sizeof(uint32) * (max + 1));
	nrel_hashes = 0;
	for (int i = 0; i < s->nrels; i++)
	{
		rel_hashes[nrel_hashes++] = GetSysCacheHashValue1(RELOID, ObjectIdGetDatum(s->rels[i]->oid));
		for (int j = 0; j < s->rels[i]->ncols; j++)
			if (OidIsValid(s->rels[i]->cols[j].base) && s->rels[i]->cols[j].base != s->rels[i]->oid)
				rel_hashes[nrel_hashes++] =
					GetSysCacheHashValue1(RELOID, ObjectIdGetDatum(s->rels[i]->cols[j].base));
	}
}

static void
relcache_changed(Datum arg, Oid relid)
{
	if (cache == NULL)
		return;
	if (!OidIsValid(relid))
	{
		http_api_reset();
		return;
	}
	for (int i = 0; i < cache->nrels; i++)
		if (cache->rels[i]->oid == relid)
		{
			http_api_reset();
			return;
		}
	/* a key or column of a table under an exposed view */
	for (int i = 0; i < cache->nrels; i++)
		for (int j = 0; j < cache->rels[i]->ncols; j++)
			if (cache->rels[i]->cols[j].base == relid)
			{
				http_api_reset();
				return;
			}
}

static char *
col_text(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v ? pstrdup(v) : NULL;
}

static Oid
col_oid(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

static bool
col_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* run a catalog query with the schema list as $1 (text[]) */
static void
run_catalog_query(ApiSchema *s, const char *sql)
{
	Datum	   *elems = palloc(sizeof(Datum) * (s->nschemas + 1));
	ArrayType  *arr;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			rc;

	for (int i = 0; i < s->nschemas; i++)
		elems[i] = CStringGetTextDatum(s->schemas[i]);
	arr = construct_array(elems, s->nschemas, TEXTOID, -1, false, TYPALIGN_INT);
	values[0] = PointerGetDatum(arr);
	rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "schema cache query failed: %s", SPI_result_code_string(rc));
}

const ApiSchema *
api_schema_get(void)
{
	MemoryContext old;
	List	   *names;
	ListCell   *lc;
	char	   *raw;

	if (cache && !cache_stale && cache_schemas_guc &&
		strcmp(cache_schemas_guc, zvt_http_schemas ? zvt_http_schemas : "") == 0)
		return cache;

	/* the previous cache is no longer referenced: a new request began */
	cache = NULL;
	cache_schemas_guc = NULL;
	rel_hashes = NULL;
	nrel_hashes = 0;
	if (schema_cxt)
		MemoryContextDelete(schema_cxt);
	schema_cxt = AllocSetContextCreate(CacheMemoryContext,
									   "zvt http schema cache",
									   ALLOCSET_DEFAULT_SIZES);
	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(RELOID, syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, syscache_changed, (Datum) 0);
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
		callbacks_registered = true;
	}
	cache_stale = false;
	old = MemoryContextSwitchTo(schema_cxt);
	cache = palloc0(sizeof(ApiSchema));
	cache_schemas_guc = pstrdup(zvt_http_schemas ? zvt_http_schemas : "");
	raw = pstrdup(cache_schemas_guc);
	if (!SplitIdentifierString(raw, ',', &names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in \"zvt.http_schemas\"")));
	cache->schemas = palloc0(sizeof(char *) * (list_length(names) + 1));
	foreach(lc, names)
		cache->schemas[cache->nschemas++] = pstrdup((char *) lfirst(lc));

	PG_TRY();
	{
		load_rels(cache);
		load_columns(cache);
		load_fks(cache);
		load_funcs(cache);
		remember_rel_hashes(cache);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		cache = NULL;
		cache_stale = true;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return cache;
}

static void
load_rels(ApiSchema *s)
{
	MemoryContext cxt = CurrentMemoryContext;

	run_catalog_query(s,
					  "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, "
					  "       pg_catalog.obj_description(c.oid, 'pg_class'), "
					  "       pg_catalog.pg_relation_is_updatable(c.oid, false) "
					  "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE n.nspname = ANY ($1) AND c.relkind IN ('r','v','m','f','p') "
					  "ORDER BY n.nspname, c.relname");
	MemoryContextSwitchTo(cxt);
	s->rels = palloc0(sizeof(ApiRel *) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		ApiRel	   *r = palloc0(sizeof(ApiRel));

		r->oid = col_oid(t, d, 1);
		r->schema = col_text(t, d, 2);
		r->name = col_text(t, d, 3);
		r->kind = col_text(t, d, 4)[0];
		r->description = col_text(t, d, 5);
		r->updatable = atoi(SPI_getvalue(t, d, 6));
		s->rels[s->nrels++] = r;
	}
}

static ApiRel *
rel_by_oid(ApiSchema *s, Oid oid)
{
	for (int i = 0; i < s->nrels; i++)
		if (s->rels[i]->oid == oid)
			return s->rels[i];
	return NULL;
}

static void
load_columns(ApiSchema *s)
{
	MemoryContext cxt = CurrentMemoryContext;
	ApiRel	   *r = NULL;

	run_catalog_query(s,
					  "SELECT a.attrelid, a.attname::text, a.atttypid, "
					  "       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
					  "       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), "
					  "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid "
					  "               AND i.indisprimary AND a.attnum = ANY (i.indkey)), "
					  "       pg_catalog.col_description(a.attrelid, a.attnum), "
					  "       (SELECT count(*) FROM pg_catalog.pg_attribute a2 WHERE a2.attrelid = a.attrelid "
					  "        AND a2.attnum > 0 AND NOT a2.attisdropped)::int, a.attnum "
					  "FROM pg_catalog.pg_attribute a "
					  "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
					  "WHERE n.nspname = ANY ($1) AND c.relkind IN ('r','v','m','f','p') "
					  "  AND a.attnum > 0 AND NOT a.attisdropped "
					  "ORDER BY a.attrelid, a.attnum");
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		Oid			relid = col_oid(t, d, 1);
		ApiColumn  *c;
		bool		isnull;

		if (r == NULL || r->oid != relid)
		{
			r = rel_by_oid(s, relid);
			if (r == NULL)
				continue;
			r->cols = palloc0(sizeof(ApiColumn) * (atoi(SPI_getvalue(t, d, 9)) + 1));
		}
		c = &r->cols[r->ncols++];
		c->name = col_text(t, d, 2);
		c->typid = col_oid(t, d, 3);
		c->typname = col_text(t, d, 4);
		c->notnull = col_bool(t, d, 5);
		c->default_expr = col_text(t, d, 6);
		c->pk = col_bool(t, d, 7);
		c->description = col_text(t, d, 8);
		c->attnum = DatumGetInt16(SPI_getbinval(t, d, 10, &isnull));
	}
}

/*
 * Where each column of an exposed relation comes from: a table column is
 * itself; a view column that is a plain column of a relation in its FROM
 * list is that column, followed through views below it (depth-bounded).
 * Other view columns (expressions) come from nowhere (InvalidOid).
 */
static void
base_column(Oid relid, AttrNumber att, int depth, Oid *base, AttrNumber *batt)
{
	Relation	rel;

	*base = relid;
	*batt = att;
	if (depth > 8 || get_rel_relkind(relid) != RELKIND_VIEW)
		return;
	*base = InvalidOid;
	rel = relation_open(relid, AccessShareLock);
	{
		Query	   *q = get_view_query(rel);
		ListCell   *lc;

		foreach(lc, q->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			Var		   *v = (Var *) tle->expr;
			RangeTblEntry *rte;

			if (tle->resjunk || tle->resno != att || !IsA(v, Var) || v->varlevelsup != 0)
				continue;
			rte = rt_fetch(v->varno, q->rtable);
			if (rte->rtekind == RTE_RELATION && v->varattno > 0)
				base_column(rte->relid, v->varattno, depth + 1, base, batt);
			break;
		}
	}
	relation_close(rel, AccessShareLock);
}

/* the index in r->cols of the column that comes from (base, att), or -1 */
static int
col_from(const ApiRel *r, Oid base, AttrNumber att)
{
	for (int i = 0; i < r->ncols; i++)
		if (r->cols[i].base == base && r->cols[i].base_att == att)
			return i;
	return -1;
}

/*
 * Foreign keys between the exposed relations: every foreign key of the
 * database whose columns some exposed table or view carries on both
 * sides (a view of trades with instrument_id embeds instruments, as
 * PostgREST infers from view definitions).
 */
static void
load_fks(ApiSchema *s)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			max = 0;

	for (int i = 0; i < s->nrels; i++)
		for (int j = 0; j < s->rels[i]->ncols; j++)
			base_column(s->rels[i]->oid, s->rels[i]->cols[j].attnum, 0,
						&s->rels[i]->cols[j].base, &s->rels[i]->cols[j].base_att);
	run_catalog_query(s,
					  "SELECT k.conname::text, k.conrelid, k.confrelid, k.conkey, k.confkey "
					  "FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' AND $1 IS NOT NULL "
					  "  AND k.conparentid = 0 "
					  "ORDER BY k.conrelid, k.conname");
	MemoryContextSwitchTo(cxt);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		Oid			from = col_oid(t, d, 2);
		Oid			to = col_oid(t, d, 3);
		bool		isnull;
		Datum	   *fk,
				   *tk;
		int			nf,
					nt;

		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull)), INT2OID, 2, true,
						  TYPALIGN_SHORT, &fk, NULL, &nf);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 5, &isnull)), INT2OID, 2, true,
						  TYPALIGN_SHORT, &tk, NULL, &nt);
		if (nf != nt || nf == 0)
			continue;
		for (int a = 0; a < s->nrels; a++)
			for (int b = 0; b < s->nrels; b++)
			{
				ApiRel	   *ra = s->rels[a];
				ApiRel	   *rb = s->rels[b];
				int			fc[INDEX_MAX_KEYS];
				int			tc[INDEX_MAX_KEYS];
				bool		ok = nf <= INDEX_MAX_KEYS;
				ApiFk	   *k;

				for (int j = 0; j < nf && ok; j++)
				{
					fc[j] = col_from(ra, from, DatumGetInt16(fk[j]));
					tc[j] = col_from(rb, to, DatumGetInt16(tk[j]));
					ok = fc[j] >= 0 && tc[j] >= 0;
				}
				if (!ok)
					continue;
				if (s->nfks >= max)
				{
					max = max ? max * 2 : 16;
					s->fks = s->fks ? repalloc(s->fks, sizeof(ApiFk) * max)
						: palloc(sizeof(ApiFk) * max);
				}
				k = &s->fks[s->nfks++];
				k->conname = col_text(t, d, 1);
				k->from = ra;
				k->to = rb;
				k->from_cols = palloc(sizeof(int) * nf);
				k->to_cols = palloc(sizeof(int) * nf);
				memcpy(k->from_cols, fc, sizeof(int) * nf);
				memcpy(k->to_cols, tc, sizeof(int) * nf);
				k->ncols = nf;
			}
	}
}

static void
load_funcs(ApiSchema *s)
{
	MemoryContext cxt = CurrentMemoryContext;

	/*
	 * One row per function; the IN/INOUT/VARIADIC arguments as parallel
	 * arrays (names, type oids, type names), defaults counted from the end
	 * as PostgreSQL applies them.
	 */
	run_catalog_query(s,
					  "SELECT p.oid, n.nspname::text, p.proname::text, "
					  "       coalesce(ARRAY(SELECT coalesce(p.proargnames[u.o], '') FROM "
					  "          unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o) "
					  "          WHERE coalesce(p.proargmodes[u.o], 'i') IN ('i','b','v') ORDER BY u.o), '{}'), "
					  "       coalesce(ARRAY(SELECT u.t FROM "
					  "          unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o) "
					  "          WHERE coalesce(p.proargmodes[u.o], 'i') IN ('i','b','v') ORDER BY u.o), '{}'), "
					  "       coalesce(ARRAY(SELECT pg_catalog.format_type(u.t, NULL) FROM "
					  "          unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o) "
					  "          WHERE coalesce(p.proargmodes[u.o], 'i') IN ('i','b','v') ORDER BY u.o), '{}'), "
					  "       p.pronargdefaults::int, p.provariadic <> 0, p.prorettype, "
					  "       pg_catalog.format_type(p.prorettype, NULL), p.proretset, "
					  "       (t.typtype = 'c' OR p.prorettype = 'record'::pg_catalog.regtype), "
					  "       p.provolatile::text, pg_catalog.obj_description(p.oid, 'pg_proc') "
					  "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
					  "JOIN pg_catalog.pg_type t ON t.oid = p.prorettype "
					  "WHERE n.nspname = ANY ($1) AND p.prokind = 'f' "
					  "  AND p.prorettype <> 'trigger'::pg_catalog.regtype "
					  "  AND p.prorettype <> 'event_trigger'::pg_catalog.regtype "
					  "ORDER BY n.nspname, p.proname, p.oid");
	MemoryContextSwitchTo(cxt);
	s->funcs = palloc0(sizeof(ApiFunc) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		ApiFunc    *f = &s->funcs[s->nfuncs++];
		bool		isnull;
		Datum	   *names,
				   *types,
				   *typnames;
		int			n,
					n2,
					n3,
					ndefaults;

		f->oid = col_oid(t, d, 1);
		f->schema = col_text(t, d, 2);
		f->name = col_text(t, d, 3);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &names, NULL, &n);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 5, &isnull)),
						  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &types, NULL, &n2);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(t, d, 6, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &typnames, NULL, &n3);
		ndefaults = atoi(SPI_getvalue(t, d, 7));
		f->nargs = n;
		f->args = palloc0(sizeof(ApiArg) * (n + 1));
		for (int j = 0; j < n && j < n2 && j < n3; j++)
		{
			f->args[j].name = TextDatumGetCString(names[j]);
			f->args[j].typid = DatumGetObjectId(types[j]);
			f->args[j].typname = TextDatumGetCString(typnames[j]);
			f->args[j].has_default = j >= n - ndefaults;
		}
		f->variadic = col_bool(t, d, 8);
		f->rettype = col_oid(t, d, 9);
		f->rettypname = col_text(t, d, 10);
		f->retset = col_bool(t, d, 11);
		f->ret_composite = col_bool(t, d, 12);
		f->volatility = col_text(t, d, 13)[0];
		f->description = col_text(t, d, 14);
	}
}

const ApiRel *
api_find_rel(const ApiSchema *s, const char *schema, const char *name)
{
	for (int i = 0; i < s->nrels; i++)
		if (strcmp(s->rels[i]->name, name) == 0 &&
			strcmp(s->rels[i]->schema, schema) == 0)
			return s->rels[i];
	return NULL;
}

int
api_find_col(const ApiRel *r, const char *name)
{
	for (int i = 0; i < r->ncols; i++)
		if (strcmp(r->cols[i].name, name) == 0)
			return i;
	return -1;
}

bool
api_schema_exposed(const ApiSchema *s, const char *schema)
{
	for (int i = 0; i < s->nschemas; i++)
		if (strcmp(s->schemas[i], schema) == 0)
			return true;
	return false;
}

const char *
api_fuzzy(const char *name, const char *const *candidates, int n)
{
	return api_fuzzy_min(name, candidates, n, 0.6);
}

const char *
api_fuzzy_min(const char *name, const char *const *candidates, int n, double min)
{
	const char *best = NULL;
	double		best_score = 0.0;
	int			nlen = strlen(name);

	for (int i = 0; i < n; i++)
	{
		int			clen = strlen(candidates[i]);
		int			maxlen = Max(nlen, clen);
		int			dist;
		double		score;

		if (maxlen == 0 || maxlen > 255)
			continue;
		dist = varstr_levenshtein(name, nlen, candidates[i], clen, 1, 1, 1, false);
		score = 1.0 - (double) dist / maxlen;
		if (score > best_score)
		{
			best_score = score;
			best = candidates[i];
		}
	}
	return best_score >= min ? best : NULL;
}
