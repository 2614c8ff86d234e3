/*-------------------------------------------------------------------------
 *
 * src/http/build.c
 *	  From the select tree (embed.c) and the schema cache to SQL: the
 *	  select list, WHERE and ORDER BY of each level, the filters with
 *	  every operator, and the subqueries of embedded resources.  Names are looked up in the cache
 *	  and written from it; values go through sql_param (exec.c).
 *
 *	  Shapes written (N the level's alias number):
 *	    many-to-one  (SELECT row_to_json(_eN) FROM (SELECT <list> FROM
 *	                 <rel> _tN WHERE <join> AND <filters>) _eN)
 *	    one-to-many  (SELECT coalesce(json_agg(_eN), '[]') FROM (SELECT
 *	                 <list> FROM <rel> _tN WHERE <join> AND <filters>
 *	                 ORDER BY ... LIMIT ...) _eN)
 *	    !inner       EXISTS (SELECT 1 FROM <rel> _tN WHERE <join> AND ...)
 *	  Errors are PostgREST's (PGRST108, 118, 123, 200, 201) or, for an
 *	  unknown column, the 42703 body PostgreSQL itself would give.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "http/api_int.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

static bool embed_expr(ApiCtx *ctx, Sql *sql, ApiNode *child, bool exists);


static const char *
node_label(const ApiNode *n)
{
	return n->rel ? n->rel->name : n->name;
}

bool
build_column_error(ApiCtx *ctx, const ApiRel *rel, const char *relname, const char *col)
{
	const char **names = palloc(sizeof(char *) * (rel->ncols + 1));
	const char *best;
	char	   *msg;
	char	   *hint = NULL;

	for (int i = 0; i < rel->ncols; i++)
		names[i] = rel->cols[i].name;
	best = api_fuzzy(col, names, rel->ncols);
	msg = psprintf("column %s.%s does not exist", relname, col);
	if (best)
		hint = psprintf("Perhaps you meant to reference the column \"%s.%s\".", relname, best);
	return api_fail(ctx, 400, "42703", msg, NULL, hint);
}

/* ----------------------------------------------------------------
 * expressions
 * ---------------------------------------------------------------- */

static bool
is_int_key(const char *k)
{
	const char *p = k;

	if (*p == '-')
		p++;
	if (*p == '\0')
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return strlen(k) < 10;
}

/*
 * Write _tN."col" with its JSON path; *type gets the expression's type.
 */
static bool
field_expr(ApiCtx *ctx, Sql *sql, ApiNode *node, GrField *f, Oid *type)
{
	int			c = api_find_col(node->rel, f->name);
	Oid			t;

	if (c < 0)
		return build_column_error(ctx, node->rel, node_label(node), f->name);
	t = node->rel->cols[c].typid;
	if (f->njson > 0)
		appendStringInfoChar(&sql->text, '(');
	appendStringInfo(&sql->text, "_t%d.", node->alias);
	sql_ident(sql, node->rel->cols[c].name);
	for (int i = 0; i < f->njson; i++)
	{
		appendStringInfoString(&sql->text, f->json[i].as_text ? "->>" : "->");
		if (is_int_key(f->json[i].key))
			sql_param(sql, f->json[i].key, INT4OID);
		else
			sql_param(sql, f->json[i].key, TEXTOID);
		if (f->json[i].as_text)
			t = TEXTOID;
		else if (t != JSONOID)
			t = JSONBOID;
	}
	if (f->njson > 0)
		appendStringInfoChar(&sql->text, ')');
	*type = t;
	return true;
}

/* like patterns: PostgREST lets * stand for % */
static char *
like_pattern(const char *v)
{
	char	   *r = pstrdup(v);

	for (char *p = r; *p; p++)
		if (*p == '*')
			*p = '%';
	return r;
}

/* an array literal of the in.(...) items, every item quoted */
static char *
array_literal(char **items, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < n; i++)
	{
		appendStringInfoString(&s, i ? ",\"" : "\"");
		for (const char *p = items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&s, '\\');
			appendStringInfoChar(&s, *p);
		}
		appendStringInfoChar(&s, '"');
	}
	appendStringInfoChar(&s, '}');
	return s.data;
}

static Oid
array_of(Oid t)
{
	Oid			a = get_array_type(t);

	if (!OidIsValid(a))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("could not find array type for data type %s", format_type_be(t))));
	return a;
}

static const char *const cmp_sql[] = {
	[GR_EQ] = "=",[GR_NEQ] = "<>",[GR_GT] = ">",[GR_GTE] = ">=",
	[GR_LT] = "<",[GR_LTE] = "<=",[GR_LIKE] = "LIKE",[GR_ILIKE] = "ILIKE",
	[GR_MATCH] = "~",[GR_IMATCH] = "~*",
	[GR_CS] = "@>",[GR_CD] = "<@",[GR_OV] = "&&",[GR_SL] = "<<",
	[GR_SR] = ">>",[GR_NXR] = "&<",[GR_NXL] = "&>",[GR_ADJ] = "-|-",
};

static bool
filter_expr(ApiCtx *ctx, Sql *sql, ApiNode *node, GrFilter *f)
{
	Oid			t;
	bool		text_op = f->op >= GR_LIKE && f->op <= GR_IMATCH;

	/* actors=is.null / not.is.null on an embedded resource: [NOT] EXISTS */
	if (f->field.njson == 0 && api_find_col(node->rel, f->field.name) < 0)
		for (int i = 0; i < node->nchildren; i++)
		{
			ApiNode    *child = node->children[i];

			if (strcmp(child->key, f->field.name) != 0)
				continue;
			if (f->op != GR_IS ||
				(strcmp(f->value, "null") != 0 && strcmp(f->value, "not_null") != 0))
				return api_fail(ctx, 400, "PGRST120",
								psprintf("Bad operator on the '%s' embedded resource", child->key),
								"Only is null or not is null filters are allowed on embedded resources",
								NULL);
			if (strcmp(f->value, "null") == 0)
				appendStringInfoString(&sql->text, "NOT ");
			return embed_expr(ctx, sql, child, true);
		}

	switch (f->op)
	{
		case GR_IS:
			if (!field_expr(ctx, sql, node, &f->field, &t))
				return false;
			if (strcmp(f->value, "null") == 0)
				appendStringInfoString(&sql->text, " IS NULL");
			else if (strcmp(f->value, "not_null") == 0)
				appendStringInfoString(&sql->text, " IS NOT NULL");
			else if (strcmp(f->value, "true") == 0)
				appendStringInfoString(&sql->text, " IS TRUE");
			else if (strcmp(f->value, "false") == 0)
				appendStringInfoString(&sql->text, " IS FALSE");
			else
				appendStringInfoString(&sql->text, " IS UNKNOWN");
			return true;
		case GR_IN:
			if (!field_expr(ctx, sql, node, &f->field, &t))
				return false;
			appendStringInfoString(&sql->text, " = ANY (");
			sql_param(sql, array_literal(f->list, f->nlist), array_of(t));
			appendStringInfoChar(&sql->text, ')');
			return true;
		case GR_ISDISTINCT:
			if (!field_expr(ctx, sql, node, &f->field, &t))
				return false;
			appendStringInfoString(&sql->text, " IS DISTINCT FROM ");
			sql_param(sql, f->value, t);
			return true;
		case GR_FTS:
		case GR_PLFTS:
		case GR_PHFTS:
		case GR_WFTS:
			{
				static const char *const fn[] = {"to_tsquery", "plainto_tsquery",
				"phraseto_tsquery", "websearch_to_tsquery"};
				int			col = api_find_col(node->rel, f->field.name);

				/* the column: a tsvector as it is, text through to_tsvector */
				if (col < 0)
					return build_column_error(ctx, node->rel, node_label(node), f->field.name);
				t = f->field.njson ? TEXTOID : node->rel->cols[col].typid;
				if (t != TSVECTOROID)
				{
					appendStringInfoString(&sql->text, "pg_catalog.to_tsvector(");
					if (f->lang)
					{
						sql_param(sql, f->lang, REGCONFIGOID);
						appendStringInfoString(&sql->text, ", ");
					}
				}
				field_expr(ctx, sql, node, &f->field, &t);
				if (t != TSVECTOROID)
					appendStringInfoChar(&sql->text, ')');
				appendStringInfo(&sql->text, " @@ pg_catalog.%s(", fn[f->op - GR_FTS]);
				if (f->lang)
				{
					sql_param(sql, f->lang, REGCONFIGOID);
					appendStringInfoString(&sql->text, ", ");
				}
				sql_param(sql, f->value, TEXTOID);
				appendStringInfoChar(&sql->text, ')');
				return true;
			}
		default:
			break;
	}
	if (!field_expr(ctx, sql, node, &f->field, &t))
		return false;
	appendStringInfo(&sql->text, " %s ", cmp_sql[f->op]);
	if (text_op)
		t = TEXTOID;
	if (f->quant != GR_QUANT_NONE)
	{
		appendStringInfoString(&sql->text, f->quant == GR_QUANT_ANY ? "ANY (" : "ALL (");
		sql_param(sql, f->op == GR_LIKE || f->op == GR_ILIKE ? like_pattern(f->value) : f->value,
				  array_of(t));
		appendStringInfoChar(&sql->text, ')');
	}
	else
		sql_param(sql, f->op == GR_LIKE || f->op == GR_ILIKE ? like_pattern(f->value) : f->value, t);
	return true;
}

bool
build_cond(ApiCtx *ctx, Sql *sql, ApiNode *node, GrCond *c)
{
	if (c->negate)
		appendStringInfoString(&sql->text, "NOT ");
	appendStringInfoChar(&sql->text, '(');
	if (c->kind == GR_COND_FILTER)
	{
		if (!filter_expr(ctx, sql, node, &c->filter))
			return false;
	}
	else
		for (int i = 0; i < c->nchildren; i++)
		{
			if (i > 0)
				appendStringInfoString(&sql->text, c->kind == GR_COND_AND ? " AND " : " OR ");
			if (!build_cond(ctx, sql, node, c->children[i]))
				return false;
		}
	appendStringInfoChar(&sql->text, ')');
	return true;
}

/* ----------------------------------------------------------------
 * levels
 * ---------------------------------------------------------------- */

static void
join_cond(Sql *sql, ApiNode *child)
{
	const ApiFk *fk = child->fk;
	const ApiNode *p = child->parent;

	if (child->junction_fk)
	{
		/* many-to-many: a junction row links parent and child */
		const ApiFk *ja = child->junction_fk;

		appendStringInfoString(&sql->text, "EXISTS (SELECT 1 FROM ");
		sql_rel(sql, ja->from);
		appendStringInfo(&sql->text, " _j%d WHERE ", child->alias);
		for (int i = 0; i < ja->ncols; i++)
			appendStringInfo(&sql->text, "%s_j%d.%s = _t%d.%s", i ? " AND " : "", child->alias,
							 quote_identifier(ja->from->cols[ja->from_cols[i]].name), p->alias,
							 quote_identifier(ja->to->cols[ja->to_cols[i]].name));
		for (int i = 0; i < fk->ncols; i++)
			appendStringInfo(&sql->text, " AND _j%d.%s = _t%d.%s", child->alias,
							 quote_identifier(fk->from->cols[fk->from_cols[i]].name), child->alias,
							 quote_identifier(fk->to->cols[fk->to_cols[i]].name));
		appendStringInfoChar(&sql->text, ')');
		return;
	}
	for (int i = 0; i < fk->ncols; i++)
	{
		const char *ccol = child->to_one ? fk->to->cols[fk->to_cols[i]].name
			: fk->from->cols[fk->from_cols[i]].name;
		const char *pcol = child->to_one ? fk->from->cols[fk->from_cols[i]].name
			: fk->to->cols[fk->to_cols[i]].name;

		if (i > 0)
			appendStringInfoString(&sql->text, " AND ");
		appendStringInfo(&sql->text, "_t%d.%s = _t%d.%s", child->alias,
						 quote_identifier(ccol), p->alias, quote_identifier(pcol));
	}
}

bool
build_where(ApiCtx *ctx, Sql *sql, ApiNode *node, bool first)
{
	for (int i = 0; i < node->nconds; i++)
	{
		appendStringInfoString(&sql->text, first ? " WHERE " : " AND ");
		first = false;
		if (!build_cond(ctx, sql, node, node->conds[i]))
			return false;
	}
	for (int i = 0; i < node->nchildren; i++)
	{
		if (!node->children[i]->inner)
			continue;
		appendStringInfoString(&sql->text, first ? " WHERE " : " AND ");
		first = false;
		if (!embed_expr(ctx, sql, node->children[i], true))
			return false;
	}
	return true;
}

static bool
related_order(ApiCtx *ctx, Sql *sql, ApiNode *node, GrOrderTerm *t)
{
	ApiNode    *child = NULL;
	Oid			type;

	for (int i = 0; i < node->nchildren && !child; i++)
		if (strcmp(node->children[i]->key, t->relation) == 0)
			child = node->children[i];
	if (child == NULL)
		return build_not_embedded(ctx, t->relation, NULL);
	if (!child->to_one)
		return api_fail(ctx, 400, "PGRST118",
						psprintf("A related order on '%s' is not possible", t->relation),
						psprintf("'%s' and '%s' do not form a many-to-one or one-to-one relationship",
								 node_label(node), t->relation), NULL);
	appendStringInfoString(&sql->text, "(SELECT ");
	if (!field_expr(ctx, sql, child, &t->field, &type))
		return false;
	appendStringInfoString(&sql->text, " FROM ");
	sql_rel(sql, child->rel);
	appendStringInfo(&sql->text, " _t%d WHERE ", child->alias);
	join_cond(sql, child);
	appendStringInfoChar(&sql->text, ')');
	return true;
}

bool
build_order(ApiCtx *ctx, Sql *sql, ApiNode *node)
{
	if (node->order == NULL)
		return true;
	appendStringInfoString(&sql->text, " ORDER BY ");
	for (int i = 0; i < node->order->nterms; i++)
	{
		GrOrderTerm *t = &node->order->terms[i];
		Oid			type;

		if (i > 0)
			appendStringInfoString(&sql->text, ", ");
		if (t->relation)
		{
			if (!related_order(ctx, sql, node, t))
				return false;
		}
		else if (!field_expr(ctx, sql, node, &t->field, &type))
			return false;
		appendStringInfoString(&sql->text, t->desc ? " DESC" : " ASC");
		if (t->nulls == 1)
			appendStringInfoString(&sql->text, " NULLS FIRST");
		else if (t->nulls == 2)
			appendStringInfoString(&sql->text, " NULLS LAST");
	}
	return true;
}

/*
 * LIMIT and OFFSET as numbers in the text, as PostgREST writes them: they
 * are longs the grammar parsed (never text from the request), and as
 * constants the planner knows how many rows are wanted, so the cached
 * plan of a shape can be a generic one (exec.c).  As parameters the
 * planner would guess 10% of the rows and the plan cache would replan
 * every request.
 */
void
build_limit(Sql *sql, long limit, long offset)
{
	if (limit >= 0)
		appendStringInfo(&sql->text, " LIMIT %ld", limit);
	if (offset > 0)
		appendStringInfo(&sql->text, " OFFSET %ld", offset);
}

/* the level's rows: SELECT <list> FROM <rel> _tN WHERE <join> ... */
static bool
level_query(ApiCtx *ctx, Sql *sql, ApiNode *child, bool exists)
{
	appendStringInfoString(&sql->text, "SELECT ");
	if (exists)
		appendStringInfoString(&sql->text, "1");
	else if (!build_select_list(ctx, sql, child))
		return false;
	appendStringInfoString(&sql->text, " FROM ");
	sql_rel(sql, child->rel);
	appendStringInfo(&sql->text, " _t%d WHERE ", child->alias);
	join_cond(sql, child);
	if (!build_where(ctx, sql, child, false))
		return false;
	if (!exists && !child->to_one)
	{
		if (!build_order(ctx, sql, child))
			return false;
		if (child->range)
			build_limit(sql, child->range->limit, child->range->offset);
	}
	return true;
}

static bool
embed_expr(ApiCtx *ctx, Sql *sql, ApiNode *child, bool exists)
{
	if (exists)
	{
		appendStringInfoString(&sql->text, "EXISTS (");
		if (!level_query(ctx, sql, child, true))
			return false;
		appendStringInfoChar(&sql->text, ')');
		return true;
	}
	if (child->to_one)
		appendStringInfo(&sql->text, "(SELECT pg_catalog.row_to_json(_e%d) FROM (", child->alias);
	else
		appendStringInfo(&sql->text,
						 "(SELECT coalesce(pg_catalog.json_agg(_e%d), '[]') FROM (", child->alias);
	if (!level_query(ctx, sql, child, false))
		return false;
	appendStringInfo(&sql->text, ") _e%d)", child->alias);
	return true;
}

/* a spread child: each of its output columns lifted into the parent */
static bool
spread_list(ApiCtx *ctx, Sql *sql, ApiNode *child, bool *first)
{
	int			n = child->star ? child->rel->ncols : 0;

	for (int i = 0; i < child->nitems; i++)
		if (child->items[i].kind == GR_SEL_FIELD)
			n++;
	for (int k = 0, i = 0; k < n; k++)
	{
		const char *key;

		if (child->star && k < child->rel->ncols)
			key = child->rel->cols[k].name;
		else
		{
			while (child->items[i].kind != GR_SEL_FIELD)
				i++;
			key = child->items[i].alias ? child->items[i].alias : child->items[i].field.name;
			i++;
		}
		appendStringInfoString(&sql->text, *first ? "" : ", ");
		*first = false;
		appendStringInfo(&sql->text, "(SELECT _e%d.%s FROM (", child->alias, quote_identifier(key));
		if (!level_query(ctx, sql, child, false))
			return false;
		appendStringInfo(&sql->text, ") _e%d) AS %s", child->alias, quote_identifier(key));
	}
	return true;
}

static bool
cast_type(ApiCtx *ctx, const char *name, char **out)
{
	Oid			typid;
	int32		typmod;

	parseTypeString(name, &typid, &typmod, true);
	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type \"%s\" does not exist", name)));
	*out = format_type_with_typemod(typid, typmod);
	return true;
}

/*
 * * as the relation's columns, named: the statement's rows never carry
 * more than the cache knows (a write's RETURNING adds pgrst_inserted)
 */
static void
star_list(Sql *sql, ApiNode *node)
{
	for (int i = 0; i < node->rel->ncols; i++)
		appendStringInfo(&sql->text, "%s_t%d.%s", i ? ", " : "", node->alias,
						 quote_identifier(node->rel->cols[i].name));
}

bool
build_select_list(ApiCtx *ctx, Sql *sql, ApiNode *node)
{
	bool		first = true;
	int			child = 0;

	if (node->items == NULL)
	{
		star_list(sql, node);
		return true;
	}
	for (int i = 0; i < node->nitems; i++)
	{
		GrSelect   *it = &node->items[i];

		if (it->kind == GR_SEL_STAR)
		{
			appendStringInfoString(&sql->text, first ? "" : ", ");
			star_list(sql, node);
			first = false;
		}
		else if (it->kind == GR_SEL_FIELD)
		{
			Oid			t;
			const char *key = it->alias ? it->alias :
				(it->field.njson ? it->field.json[it->field.njson - 1].key : it->field.name);

			appendStringInfoString(&sql->text, first ? "" : ", ");
			first = false;
			if (it->cast)
			{
				char	   *tn;

				appendStringInfoString(&sql->text, "CAST(");
				if (!field_expr(ctx, sql, node, &it->field, &t) || !cast_type(ctx, it->cast, &tn))
					return false;
				appendStringInfo(&sql->text, " AS %s)", tn);
			}
			else if (!field_expr(ctx, sql, node, &it->field, &t))
				return false;
			appendStringInfo(&sql->text, " AS %s", quote_identifier(key));
		}
		else
		{
			ApiNode    *c = node->children[child++];

			if (c->spread)
			{
				if (!spread_list(ctx, sql, c, &first))
					return false;
				continue;
			}
			if (it->nchildren == 0)
				continue;		/* rel() only filters: no key in the output */
			appendStringInfoString(&sql->text, first ? "" : ", ");
			first = false;
			if (!embed_expr(ctx, sql, c, false))
				return false;
			appendStringInfo(&sql->text, " AS %s", quote_identifier(c->key));
		}
	}
	return true;
}
