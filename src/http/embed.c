/*-------------------------------------------------------------------------
 *
 * src/http/embed.c
 *	  The select tree of a request (build_tree): each embedded resource
 *	  of select= resolved to the foreign key that joins it to its parent,
 *	  many-to-one or one-to-many, by the target's name, the key's name or
 *	  its column, narrowed by !hint (PGRST200 when none fits, PGRST201
 *	  with PostgREST's details when several do); then every filter,
 *	  order and limit attached to the level its path names (PGRST108
 *	  when it names none).  The SQL of each level is build.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "http/api_int.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"

static bool resolve_children(ApiCtx *ctx, ApiNode *node, int depth);

/* an array of pointers one longer */
static void *
grow_array(void *arr, int n)
{
	void	  **r = palloc0(sizeof(void *) * (n + 1));

	if (n > 0)
		memcpy(r, arr, sizeof(void *) * n);
	return r;
}
#define grow(arr, n) grow_array((arr), (n))

static const char *
node_label(const ApiNode *n)
{
	return n->rel ? n->rel->name : n->name;
}

/* ----------------------------------------------------------------
 * the tree
 * ---------------------------------------------------------------- */

static ApiNode *
new_node(ApiCtx *ctx, const ApiRel *rel, const char *name)
{
	ApiNode    *n = palloc0(sizeof(ApiNode));

	n->rel = rel;
	n->name = name;
	n->key = name;
	return n;
}

static char *
fk_cols(const ApiRel *r, const int *cols, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '(');
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", r->cols[cols[i]].name);
	appendStringInfoChar(&s, ')');
	return s.data;
}

/* PostgREST's PGRST201 details: one object per candidate */
static char *
ambiguous_details(const ApiNode *parent, const ApiFk **cands, const bool *to_one, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < n; i++)
	{
		const ApiFk *fk = cands[i];
		const ApiRel *p = parent->rel;
		const ApiRel *t = to_one[i] ? fk->to : fk->from;
		const int  *pc = to_one[i] ? fk->from_cols : fk->to_cols;
		const int  *tc = to_one[i] ? fk->to_cols : fk->from_cols;
		StringInfoData rel;

		initStringInfo(&rel);
		appendStringInfo(&rel, "%s using %s%s and %s%s", fk->conname, p->name,
						 fk_cols(p, pc, fk->ncols), t->name, fk_cols(t, tc, fk->ncols));
		appendStringInfo(&s, "%s{\"cardinality\":\"%s\",\"embedding\":", i ? "," : "",
						 to_one[i] ? "many-to-one" : "one-to-many");
		escape_json(&s, psprintf("%s with %s", p->name, t->name));
		appendStringInfoString(&s, ",\"relationship\":");
		escape_json(&s, rel.data);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return s.data;
}

static bool
fk_matches_hint(const ApiFk *fk, const char *hint)
{
	if (hint == NULL)
		return true;
	if (strcmp(fk->conname, hint) == 0)
		return true;
	if (fk->ncols == 1 &&
		(strcmp(fk->from->cols[fk->from_cols[0]].name, hint) == 0 ||
		 strcmp(fk->to->cols[fk->to_cols[0]].name, hint) == 0))
		return true;
	return false;
}

static bool
no_relationship(ApiCtx *ctx, ApiNode *parent, GrSelect *it)
{
	const ApiSchema *s = ctx->cache;
	const char **names = palloc(sizeof(char *) * (s->nfks * 2 + 1));
	int			n = 0;
	bool		known = false;
	const char *best;
	char	   *details;

	for (int i = 0; i < s->nfks; i++)
	{
		if (s->fks[i].from == parent->rel)
			names[n++] = s->fks[i].to->name;
		if (s->fks[i].to == parent->rel)
			names[n++] = s->fks[i].from->name;
	}
	/* the hint never names a relation the role may not use */
	{
		int			m = 0;

		for (int i = 0; i < n; i++)
		{
			const ApiRel *r = NULL;

			for (int j = 0; j < s->nrels && r == NULL; j++)
				if (strcmp(s->rels[j]->name, names[i]) == 0 &&
					strcmp(s->rels[j]->schema, parent->rel->schema) == 0)
					r = s->rels[j];
			if (r == NULL || pg_class_aclcheck(r->oid, GetUserId(),
											   ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE) == ACLCHECK_OK)
				names[m++] = names[i];
		}
		n = m;
	}
	for (int i = 0; i < n; i++)
		known = known || strcmp(names[i], it->relation) == 0;
	best = known ? NULL : api_fuzzy(it->relation, names, n);
	details = psprintf("Searched for a foreign key relationship between '%s' and '%s'%s%s%s in the schema '%s', but no matches were found.",
					   node_label(parent), it->relation,
					   it->hint ? " using the hint '" : "", it->hint ? it->hint : "",
					   it->hint ? "'" : "", ctx->schema);
	return api_fail(ctx, 400, "PGRST200",
					psprintf("Could not find a relationship between '%s' and '%s' in the schema cache",
							 node_label(parent), it->relation),
					details,
					best ? psprintf("Perhaps you meant '%s' instead of '%s'.", best, it->relation) : NULL);
}

/*
 * Many-to-many through a junction: a relation J with a key to the parent
 * and another to the target (films and actors through roles).  NULL when
 * there is none (ctx->err untouched) or several (PGRST201 in ctx->err).
 */
static ApiNode *
many_to_many(ApiCtx *ctx, ApiNode *parent, GrSelect *it)
{
	const ApiSchema *s = ctx->cache;
	const ApiFk *fa = NULL,
			   *fb = NULL;
	int			n = 0;
	StringInfoData det,
				hint;
	ApiNode    *child;

	initStringInfo(&det);
	initStringInfo(&hint);
	for (int i = 0; i < s->nfks; i++)
		for (int j = 0; j < s->nfks; j++)
		{
			const ApiFk *a = &s->fks[i];
			const ApiFk *b = &s->fks[j];

			if (i == j || a->from != b->from || a->to != parent->rel ||
				strcmp(b->to->name, it->relation) != 0 ||
				strcmp(b->to->schema, ctx->schema) != 0 || a->from == parent->rel)
				continue;
			if (it->hint && strcmp(it->hint, a->from->name) != 0 &&
				strcmp(it->hint, a->conname) != 0 && strcmp(it->hint, b->conname) != 0)
				continue;
			if (n++ == 0)
			{
				fa = a;
				fb = b;
			}
			appendStringInfo(&det, "%s{\"cardinality\":\"many-to-many\",\"embedding\":", n > 1 ? "," : "");
			escape_json(&det, psprintf("%s with %s", parent->rel->name, b->to->name));
			appendStringInfoString(&det, ",\"relationship\":");
			escape_json(&det, psprintf("%s using %s%s and %s%s", a->from->name, a->conname,
									   fk_cols(a->from, a->from_cols, a->ncols), b->conname,
									   fk_cols(b->from, b->from_cols, b->ncols)));
			appendStringInfoChar(&det, '}');
			appendStringInfo(&hint, "%s'%s!%s'", n > 1 ? ", " : "", it->relation, a->from->name);
		}
	if (n == 0)
		return NULL;
	if (n > 1)
	{
		api_fail(ctx, 300, "PGRST201",
				 psprintf("Could not embed because more than one relationship was found for '%s' and '%s'",
						  node_label(parent), it->relation),
				 NULL,
				 psprintf("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.",
						  it->relation, hint.data));
		ctx->err.details_json = psprintf("[%s]", det.data);
		return NULL;
	}
	child = new_node(ctx, fb->to, it->relation);
	child->key = it->alias ? it->alias : it->relation;
	child->fk = fb;
	child->junction_fk = fa;
	child->inner = it->inner;
	child->parent = parent;
	child->items = it->children;
	child->nitems = it->nchildren;
	if (it->spread)
	{
		api_fail(ctx, 400, "PGRST118",
				 psprintf("A spread operation on '%s' is not possible", it->relation),
				 psprintf("'%s' and '%s' do not form a many-to-one or one-to-one relationship",
						  node_label(parent), it->relation), NULL);
		return NULL;
	}
	return child;
}

/* find the foreign key embedding it under parent */
static bool
resolve_embed(ApiCtx *ctx, ApiNode *parent, GrSelect *it, ApiNode **out)
{
	const ApiSchema *s = ctx->cache;
	const ApiFk **cands = palloc(sizeof(ApiFk *) * (s->nfks * 2 + 1));
	bool	   *to_one = palloc(sizeof(bool) * (s->nfks * 2 + 1));
	int			n = 0;
	bool		by_key = false;
	ApiNode    *child;

	if (parent->rel == NULL)
		return no_relationship(ctx, parent, it);
	for (int i = 0; i < s->nfks; i++)
	{
		const ApiFk *fk = &s->fks[i];

		if (!fk_matches_hint(fk, it->hint))
			continue;
		if (fk->from == parent->rel && strcmp(fk->to->name, it->relation) == 0 &&
			strcmp(fk->to->schema, ctx->schema) == 0)
		{
			cands[n] = fk;
			to_one[n++] = true;
		}
		if (fk->to == parent->rel && strcmp(fk->from->name, it->relation) == 0 &&
			strcmp(fk->from->schema, ctx->schema) == 0)
		{
			cands[n] = fk;
			to_one[n++] = false;
		}
	}
	if (n == 0)
	{
		ApiNode    *m2m = many_to_many(ctx, parent, it);

		if (m2m)
		{
			*out = m2m;
			return true;
		}
		if (ctx->err.status)
			return false;
	}
	if (n == 0)
	{
		/* by the key's name or its single column: select=*,client:client_id(*) */
		by_key = true;
		for (int i = 0; i < s->nfks; i++)
		{
			const ApiFk *fk = &s->fks[i];

			if (fk->from == parent->rel &&
				(strcmp(fk->conname, it->relation) == 0 ||
				 (fk->ncols == 1 && strcmp(fk->from->cols[fk->from_cols[0]].name, it->relation) == 0)))
			{
				cands[n] = fk;
				to_one[n++] = true;
			}
			else if (fk->to == parent->rel && strcmp(fk->conname, it->relation) == 0)
			{
				cands[n] = fk;
				to_one[n++] = false;
			}
		}
	}
	if (n > 1 && by_key)
	{
		/* by a key's name: the key's own tables before the views over them */
		int			m = 0;

		for (int i = 0; i < n; i++)
			if ((to_one[i] ? cands[i]->to : cands[i]->from)->kind != 'v')
			{
				cands[m] = cands[i];
				to_one[m++] = to_one[i];
			}
		if (m > 0)
			n = m;
	}
	if (n == 0)
		return no_relationship(ctx, parent, it);
	if (n > 1)
	{
		StringInfoData hint;

		initStringInfo(&hint);
		for (int i = 0; i < n; i++)
			appendStringInfo(&hint, "%s'%s!%s'", i ? ", " : "", it->relation, cands[i]->conname);
		api_fail(ctx, 300, "PGRST201",
				 psprintf("Could not embed because more than one relationship was found for '%s' and '%s'",
						  node_label(parent), it->relation),
				 NULL,
				 psprintf("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.",
						  it->relation, hint.data));
		ctx->err.details_json = ambiguous_details(parent, cands, to_one, n);
		return false;
	}
	child = new_node(ctx, to_one[0] ? cands[0]->to : cands[0]->from, it->relation);
	child->key = it->alias ? it->alias : it->relation;
	child->fk = cands[0];
	child->to_one = to_one[0];
	child->inner = it->inner;
	child->spread = it->spread;
	child->parent = parent;
	child->items = it->children;
	child->nitems = it->nchildren;
	if (child->spread && !child->to_one)
		return api_fail(ctx, 400, "PGRST118",
						psprintf("A spread operation on '%s' is not possible", it->relation),
						psprintf("'%s' and '%s' do not form a many-to-one or one-to-one relationship",
								 node_label(parent), it->relation), NULL);
	*out = child;
	return true;
}

static bool
resolve_children(ApiCtx *ctx, ApiNode *node, int depth)
{
	for (int i = 0; i < node->nitems; i++)
	{
		GrSelect   *it = &node->items[i];
		ApiNode    *child = NULL;

		if (it->aggregate)
			return api_fail(ctx, 400, "PGRST123", "Use of aggregate functions is not allowed",
							NULL, NULL);
		if (it->kind == GR_SEL_STAR)
			node->star = true;
		if (it->kind != GR_SEL_EMBED)
			continue;
		if (!resolve_embed(ctx, node, it, &child))
			return false;
		node->children = grow(node->children, node->nchildren);
		node->children[node->nchildren++] = child;
		if (!resolve_children(ctx, child, depth + 1))
			return false;
	}
	if (node->items == NULL)
		node->star = true;
	return true;
}

/* the node a path names, following keys (aliases) or names */
static ApiNode *
find_path(ApiNode *root, const GrPath *p, const char **missing, const char **aliased)
{
	ApiNode    *n = root;

	*aliased = NULL;
	for (int i = 0; i < p->n; i++)
	{
		ApiNode    *next = NULL;

		for (int j = 0; j < n->nchildren && next == NULL; j++)
			if (strcmp(n->children[j]->key, p->names[i]) == 0)
				next = n->children[j];
		if (next == NULL)
		{
			for (int j = 0; j < n->nchildren; j++)
				if (strcmp(n->children[j]->name, p->names[i]) == 0)
					*aliased = n->children[j]->key;
			*missing = p->names[i];
			return NULL;
		}
		n = next;
	}
	return n;
}

bool
build_not_embedded(ApiCtx *ctx, const char *name, const char *aliased)
{
	if (aliased)
		return api_fail(ctx, 400, "PGRST108",
						psprintf("'%s' is not an embedded resource in this request", name),
						"Target names are not allowed in filters if they have an alias",
						psprintf("Change '%s' to '%s' in filters, orders or limits.", name, aliased));
	return api_fail(ctx, 400, "PGRST108",
					psprintf("'%s' is not an embedded resource in this request", name), NULL,
					psprintf("Verify that '%s' is included in the 'select' query parameter.", name));
}

static int
number_nodes(ApiNode *n, int next)
{
	n->alias = next++;
	for (int i = 0; i < n->nchildren; i++)
		next = number_nodes(n->children[i], next);
	return next;
}

ApiNode *
build_tree(ApiCtx *ctx, const ApiRel *rel, const ApiFunc *fn)
{
	ApiNode    *root = new_node(ctx, rel, rel->name);
	const char *missing;
	const char *aliased;

	root->items = ctx->q.select;
	root->nitems = ctx->q.nselect;
	if (!resolve_children(ctx, root, 0))
		return NULL;
	number_nodes(root, 0);
	for (int i = 0; i < ctx->q.nconds; i++)
	{
		GrCondEntry *e = &ctx->q.conds[i];
		ApiNode    *n = find_path(root, &e->path, &missing, &aliased);

		if (n == NULL)
		{
			build_not_embedded(ctx, missing, aliased);
			return NULL;
		}
		n->conds = grow(n->conds, n->nconds);
		n->conds[n->nconds++] = e->cond;
	}
	for (int i = 0; i < ctx->q.norders; i++)
	{
		ApiNode    *n = find_path(root, &ctx->q.orders[i].path, &missing, &aliased);

		if (n == NULL)
		{
			build_not_embedded(ctx, missing, aliased);
			return NULL;
		}
		n->order = &ctx->q.orders[i];
	}
	for (int i = 0; i < ctx->q.nranges; i++)
	{
		ApiNode    *n = find_path(root, &ctx->q.ranges[i].path, &missing, &aliased);

		if (n == NULL)
		{
			build_not_embedded(ctx, missing, aliased);
			return NULL;
		}
		n->range = &ctx->q.ranges[i];
	}
	return root;
}
