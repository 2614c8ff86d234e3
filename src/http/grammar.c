/*-------------------------------------------------------------------------
 *
 * src/http/grammar.c
 *	  A recursive-descent parser of PostgREST 14's query string into the
 *	  tree of grammar.h.  Pure C, no PostgreSQL header; never longjmps:
 *	  every parse step returns false with a GrError (PGRST100's "failed to
 *	  parse ... (line 1, column N)" message and an "unexpected ...
 *	  expecting ..." detail) and the caller stops.
 *
 *	  This file holds the filters, or/and trees and the split of the
 *	  query string; grammar_lex.c the lexical pieces and the arena,
 *	  grammar_select.c select, order and name lists.
 *
 *	  Memory: one arena per GrQuery (a chain of malloc'd blocks) holds
 *	  every node and string; gr_free releases it in one go, so a parse
 *	  that fails half-way leaks nothing.  Input is bounded by the caller
 *	  (the transport's limits); recursion depth of or/and trees and
 *	  embeddings is capped at GR_MAX_DEPTH so hostile nesting cannot
 *	  exhaust the stack.
 *
 *	  Wording: a "value" is the operand after the operator; a "field" is
 *	  a column name with an optional JSON path (col->a->>b).
 *
 *-------------------------------------------------------------------------
 */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/grammar_int.h"

static const char *const op_names[GR_NOPS] = {
	"eq", "neq", "gt", "gte", "lt", "lte",
	"like", "ilike", "match", "imatch",
	"in", "is", "isdistinct",
	"fts", "plfts", "phfts", "wfts",
	"cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj",
};

static const char *const reserved[] = {
	"select", "order", "limit", "offset", "on_conflict", "columns",
	"or", "and", "not.or", "not.and", NULL
};

void
gr_free(GrQuery *q)
{
	GrArenaBlock *b = q->arena;

	while (b)
	{
		GrArenaBlock *next = b->next;

		free(b);
		b = next;
	}
	memset(q, 0, sizeof(*q));
}

const char *
gr_op_name(GrOp op)
{
	return (op >= 0 && op < GR_NOPS) ? op_names[op] : "?";
}

bool
gr_reserved_key(const char *key)
{
	for (int i = 0; reserved[i]; i++)
		if (strcmp(key, reserved[i]) == 0)
			return true;
	return false;
}

/* ----------------------------------------------------------------
 * filters
 * ---------------------------------------------------------------- */

/* an in.(...) list: quoted items or runs of anything but , and ) */
static bool
in_list(Cur *c, GrFilter *f)
{
	if (!gr_eat(c, "("))
		return gr_fail_at(c, c->pos, "\"(\"");
	if (gr_eat(c, ")"))
		return true;
	for (;;)
	{
		char	  **slot = gr_arena_push(c->q, (void **) &f->list, &f->nlist, sizeof(char *));

		if (c->pos < c->len && c->s[c->pos] == '"')
		{
			if (!gr_quoted(c, slot))
				return false;
		}
		else
		{
			size_t		start = c->pos;

			while (c->pos < c->len && c->s[c->pos] != ',' && c->s[c->pos] != ')')
				c->pos++;
			*slot = gr_arena_strndup(c->q, c->s + start, c->pos - start);
		}
		if (gr_eat(c, ")"))
			return true;
		if (!gr_eat(c, ","))
			return gr_fail_at(c, c->pos, "\",\" or \")\"");
	}
}

/*
 * A value inside an or/and tree: quoted, a {..} array literal, or a run
 * up to the next , or ) (parentheses inside balance).
 */
static bool
tree_value(Cur *c, char **out)
{
	size_t		start = c->pos;
	int			depth = 0;

	if (c->pos < c->len && c->s[c->pos] == '"')
		return gr_quoted(c, out);
	while (c->pos < c->len)
	{
		char		ch = c->s[c->pos];

		if (ch == '{' || ch == '(')
			depth++;
		else if ((ch == '}' || ch == ')') && depth > 0)
			depth--;
		else if ((ch == ',' || ch == ')') && depth == 0)
			break;
		c->pos++;
	}
	*out = gr_arena_strndup(c->q, c->s + start, c->pos - start);
	return true;
}

static int
match_len(const char *s, size_t n, const char *lit)
{
	size_t		i = 0;

	while (i < n && lit[i] && s[i] == lit[i])
		i++;
	return (int) i;
}

static bool
operator(Cur *c, GrFilter *f, bool *negate)
{
	size_t		start = c->pos;
	int			best = -1;
	size_t		best_len = 0;
	int			longest = 0;

	*negate = gr_eat(c, "not.");
	for (int i = 0; i < GR_NOPS; i++)
	{
		size_t		n = strlen(op_names[i]);

		if (gr_at(c, op_names[i]) && n > best_len &&
			c->pos + n <= c->len && (c->pos + n == c->len ||
									 c->s[c->pos + n] == '.' || c->s[c->pos + n] == '('))
		{
			best = i;
			best_len = n;
		}
	}
	if (best < 0)
	{
		longest = match_len(c->s + c->pos, c->len - c->pos, *negate ? "" : "not.");
		for (int i = 0; i < GR_NOPS; i++)
		{
			int			m = match_len(c->s + c->pos, c->len - c->pos, op_names[i]);

			if (m > longest)
				longest = m;
		}
		gr_fail_at(c, c->pos + longest, *negate ? "operator (eq, gt, ...)" :
				"\"not\" or operator (eq, gt, ...)");
		/* PostgREST reports the column where the operator began */
		snprintf(c->err->message, sizeof(c->err->message),
				 "\"failed to parse %s (%.*s)\" (line 1, column %zu)",
				 c->what, (int) (c->len > 300 ? 300 : c->len), c->s, start + 1);
		return false;
	}
	f->op = (GrOp) best;
	c->pos += best_len;
	if (gr_eat(c, "("))
	{
		size_t		ms = c->pos;

		while (c->pos < c->len && c->s[c->pos] != ')')
			c->pos++;
		if (c->pos >= c->len)
			return gr_fail_at(c, c->pos, "\")\"");
		if (f->op >= GR_FTS && f->op <= GR_WFTS)
			f->lang = gr_arena_strndup(c->q, c->s + ms, c->pos - ms);
		else if (c->pos - ms == 3 && memcmp(c->s + ms, "any", 3) == 0)
			f->quant = GR_QUANT_ANY;
		else if (c->pos - ms == 3 && memcmp(c->s + ms, "all", 3) == 0)
			f->quant = GR_QUANT_ALL;
		else
			return gr_fail_at(c, ms, "\"any\" or \"all\"");
		if (f->quant != GR_QUANT_NONE &&
			!(f->op <= GR_IMATCH))
			return gr_fail_at(c, ms, "operator (eq, gt, ...)");
		c->pos++;
	}
	if (!gr_eat(c, "."))
		return gr_fail_at(c, c->pos, "\".\"");
	return true;
}

static bool
is_value(Cur *c, GrFilter *f, const char *v)
{
	static const char *const ok[] = {"null", "not_null", "true", "false", "unknown", NULL};

	for (int i = 0; ok[i]; i++)
	{
		size_t		n = strlen(ok[i]);

		if (strlen(v) == n)
		{
			size_t		j;

			for (j = 0; j < n && tolower((unsigned char) v[j]) == ok[i][j]; j++)
				;
			if (j == n)
			{
				f->value = gr_arena_strndup(c->q, ok[i], n);
				return true;
			}
		}
	}
	return gr_fail_at(c, c->pos, "null or trilean value (unknown, true, false)");
}

/* "[not.]op.value"; in a tree the value stops at , or ) */
static bool
filter_value(Cur *c, GrFilter *f, bool *negate, bool in_tree)
{
	char	   *v;
	size_t		vstart;

	if (!operator(c, f, negate))
		return false;
	if (f->op == GR_IN)
	{
		if (!in_list(c, f))
			return false;
		if (!in_tree && c->pos != c->len)
			return gr_fail_at(c, c->pos, "end of input");
		return true;
	}
	vstart = c->pos;
	if (in_tree)
	{
		if (!tree_value(c, &v))
			return false;
	}
	else
	{
		v = gr_arena_strndup(c->q, c->s + c->pos, c->len - c->pos);
		c->pos = c->len;
	}
	if (f->op == GR_IS)
	{
		size_t		save = c->pos;

		c->pos = vstart;
		if (!is_value(c, f, v))
			return false;
		c->pos = save;
		return true;
	}
	f->value = v;
	return true;
}

/* ----------------------------------------------------------------
 * or/and trees
 * ---------------------------------------------------------------- */

static bool logic_items(Cur *c, GrCond *node);

static bool
logic_item(Cur *c, GrCond **out)
{
	GrCond	   *n = gr_arena_alloc(c->q, sizeof(GrCond));
	size_t		save = c->pos;
	bool		neg = gr_eat(c, "not.");

	*out = n;
	if (gr_at(c, "and(") || gr_at(c, "or("))
	{
		n->negate = neg;
		n->kind = gr_at(c, "and(") ? GR_COND_AND : GR_COND_OR;
		c->pos += n->kind == GR_COND_AND ? 3 : 2;
		return logic_items(c, n);
	}
	c->pos = save;
	n->kind = GR_COND_FILTER;
	if (!gr_field(c, &n->filter.field))
		return false;
	if (!gr_eat(c, "."))
		return gr_fail_at(c, c->pos, "\"->\" or \".\"");
	return filter_value(c, &n->filter, &n->negate, true);
}

/* "(item,item,...)" into node's children; c->pos at "(" */
static bool
logic_items(Cur *c, GrCond *node)
{
	if (++c->depth > GR_MAX_DEPTH)
		return gr_fail_at(c, c->pos, "less nesting");
	if (!gr_eat(c, "("))
		return gr_fail_at(c, c->pos, "\"(\"");
	for (;;)
	{
		GrCond	  **slot = gr_arena_push(c->q, (void **) &node->children,
									  &node->nchildren, sizeof(GrCond *));

		if (!logic_item(c, slot))
			return false;
		if (gr_eat(c, ")"))
			break;
		if (!gr_eat(c, ","))
			return gr_fail_at(c, c->pos, "\",\" or \")\"");
	}
	c->depth--;
	return true;
}

/* split "a.b.last" into the path {a,b} and the last piece (c->pos there) */
static bool
tree_path(Cur *c, GrPath *p)
{
	for (;;)
	{
		size_t		save = c->pos;
		char	   *name;

		if (!gr_field_name(c, &name))
			return false;
		if (c->pos < c->len && c->s[c->pos] == '.')
		{
			char	  **slot = gr_arena_push(c->q, (void **) &p->names, &p->n, sizeof(char *));

			*slot = name;
			c->pos++;
			continue;
		}
		c->pos = save;
		return true;
	}
}

/* ----------------------------------------------------------------
 * the query string
 * ---------------------------------------------------------------- */

static void
cur_init(Cur *c, GrQuery *q, GrError *err, const char *what, const char *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->len = strlen(s);
	c->q = q;
	c->err = err;
	c->what = what;
}

static bool
ends_with_key(Cur *c, const char *key)
{
	return strcmp(c->s + c->pos, key) == 0;
}

static bool
parse_range(Cur *c, GrQuery *q, GrPath *path, bool is_limit, const char *value)
{
	GrRangeEntry *r = NULL;
	char	   *end;
	long		v;

	for (int i = 0; i < q->nranges; i++)
		if (q->ranges[i].path.n == path->n)
		{
			bool		same = true;

			for (int j = 0; j < path->n; j++)
				same = same && strcmp(q->ranges[i].path.names[j], path->names[j]) == 0;
			if (same)
				r = &q->ranges[i];
		}
	if (r == NULL)
	{
		r = gr_arena_push(q, (void **) &q->ranges, &q->nranges, sizeof(GrRangeEntry));
		r->path = *path;
		r->limit = -1;
	}
	v = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || v < 0 || v > INT32_MAX)
	{
		Cur			vc;

		cur_init(&vc, q, c->err, is_limit ? "limit" : "offset", value);
		return gr_fail_at(&vc, (size_t) (end - value), "digit or end of input");
	}
	if (is_limit)
		r->limit = v;
	else
		r->offset = v;
	return true;
}

static bool
parse_param(GrQuery *q, char *key, char *value, const char *const *arg_names,
			int narg_names, GrError *err)
{
	Cur			kc,
				vc;
	GrPath		path = {0};

	for (int i = 0; i < narg_names; i++)
		if (strcmp(key, arg_names[i]) == 0)
		{
			GrParam    *p = gr_arena_push(q, (void **) &q->args, &q->nargs, sizeof(GrParam));

			p->key = key;
			p->value = value;
			return true;
		}

	if (strcmp(key, "select") == 0)
	{
		cur_init(&vc, q, err, "select parameter", value);
		q->select = NULL;
		q->nselect = 0;
		if (!gr_select_list(&vc, &q->select, &q->nselect))
			return false;
		if (vc.pos != vc.len)
			return gr_fail_at(&vc, vc.pos, "\",\" or end of input");
		return true;
	}
	if (strcmp(key, "on_conflict") == 0 || strcmp(key, "columns") == 0)
	{
		bool		oc = key[0] == 'o';

		cur_init(&vc, q, err, oc ? "on_conflict parameter" : "columns parameter", value);
		return oc ? gr_name_list(&vc, &q->on_conflict, &q->non_conflict)
			: gr_name_list(&vc, &q->columns, &q->ncolumns);
	}

	/* the rest may sit on an embedded path: clients.order=... */
	cur_init(&kc, q, err, "tree path", key);
	{
		bool		neg = false;
		size_t		save;

		/* logic trees: [path.][not.]or|and */
		save = kc.pos;
		if (tree_path(&kc, &path))
		{
			if (ends_with_key(&kc, "or") || ends_with_key(&kc, "and") ||
				(path.n > 0 && strcmp(path.names[path.n - 1], "not") == 0 &&
				 (ends_with_key(&kc, "or") || ends_with_key(&kc, "and"))))
			{
				GrCondEntry *e = gr_arena_push(q, (void **) &q->conds, &q->nconds, sizeof(GrCondEntry));

				if (path.n > 0 && strcmp(path.names[path.n - 1], "not") == 0)
				{
					neg = true;
					path.n--;
				}
				e->path = path;
				e->cond = gr_arena_alloc(q, sizeof(GrCond));
				e->cond->negate = neg;
				e->cond->kind = ends_with_key(&kc, "or") ? GR_COND_OR : GR_COND_AND;
				cur_init(&vc, q, err, "logic tree", value);
				if (!logic_items(&vc, e->cond))
					return false;
				if (vc.pos != vc.len)
					return gr_fail_at(&vc, vc.pos, "end of input");
				return true;
			}
			if (ends_with_key(&kc, "order"))
			{
				GrOrderEntry *e = gr_arena_push(q, (void **) &q->orders, &q->norders, sizeof(GrOrderEntry));

				e->path = path;
				cur_init(&vc, q, err, "order", value);
				return gr_order_list(&vc, e);
			}
			if (ends_with_key(&kc, "limit") || ends_with_key(&kc, "offset"))
				return parse_range(&kc, q, &path, ends_with_key(&kc, "limit"), value);
		}
		kc.pos = save;
		path.names = NULL;
		path.n = 0;
	}

	/* a filter: [path.]field=[not.]op.value */
	{
		GrCondEntry *e;

		if (!tree_path(&kc, &path))
			return false;
		e = gr_arena_push(q, (void **) &q->conds, &q->nconds, sizeof(GrCondEntry));
		e->path = path;
		e->cond = gr_arena_alloc(q, sizeof(GrCond));
		e->cond->kind = GR_COND_FILTER;
		if (!gr_field(&kc, &e->cond->filter.field))
			return false;
		if (kc.pos != kc.len)
			return gr_fail_at(&kc, kc.pos, "\"->\", \".\" or end of input");
		cur_init(&vc, q, err, "filter", value);
		return filter_value(&vc, &e->cond->filter, &e->cond->negate, false);
	}
}

/*
 * Split query on & and =, decoding both sides; -1 when it has more than
 * max parameters (never a silent cut: a dropped filter would widen a
 * DELETE).
 */
static int
split_params(const char *query, GrQuery *q, char **keys, char **values, int max)
{
	int			n = 0;
	const char *p = query;

	while (p && *p)
	{
		const char *amp = strchr(p, '&');
		size_t		len = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (len > 0 && n >= max)
			return -1;
		if (len > 0)
		{
			size_t		klen = eq ? (size_t) (eq - p) : len;

			keys[n] = gr_decode(q, p, klen);
			if (values)
				values[n] = eq ? gr_decode(q, eq + 1, len - klen - 1) : gr_decode(q, "", 0);
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return n;
}

int
gr_param_keys(const char *query, GrQuery *q, char **keys, int max)
{
	return split_params(query, q, keys, NULL, max);
}

#define GR_MAX_PARAMS 256

bool
gr_parse(const char *query, const char *const *arg_names, int narg_names,
		 GrQuery *out, GrError *err)
{
	char	   *keys[GR_MAX_PARAMS];
	char	   *values[GR_MAX_PARAMS];
	int			n;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	n = split_params(query ? query : "", out, keys, values, GR_MAX_PARAMS);
	if (n < 0)
	{
		snprintf(err->message, sizeof(err->message), "too many query parameters");
		snprintf(err->details, sizeof(err->details), "At most %d parameters are read.",
				 GR_MAX_PARAMS);
		return false;
	}
	for (int i = 0; i < n; i++)
		if (!parse_param(out, keys[i], values[i], arg_names, narg_names, err))
			return false;
	return true;
}
