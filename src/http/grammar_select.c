/*-------------------------------------------------------------------------
 *
 * src/http/grammar_select.c
 *	  select= (columns, alias:, ::casts, JSON paths, embedded resources
 *	  with !hint, !inner and ... spreads, aggregates so they can be
 *	  refused), order= (with asc/desc, nullsfirst/nullslast and related
 *	  orders) and the plain name lists of on_conflict= and columns=.
 *	  Pure C; see grammar_int.h.
 *
 *-------------------------------------------------------------------------
 */
#include "http/grammar_int.h"

#include <ctype.h>
#include <string.h>

/* ----------------------------------------------------------------
 * select
 * ---------------------------------------------------------------- */


static bool
cast_name(Cur *c, char **out)
{
	size_t		start = c->pos;

	while (c->pos < c->len &&
		   (isalnum((unsigned char) c->s[c->pos]) || c->s[c->pos] == '_' ||
			c->s[c->pos] == ' ' || c->s[c->pos] == '[' || c->s[c->pos] == ']'))
		c->pos++;
	if (c->pos == start)
		return gr_fail_at(c, c->pos, "type name");
	*out = gr_arena_strndup(c->q, c->s + start, c->pos - start);
	return true;
}

/* embed tail: !hint !inner !left ... then (list) */
static bool
embed_tail(Cur *c, GrSelect *it)
{
	while (gr_eat(c, "!"))
	{
		char	   *h;

		if (!gr_field_name(c, &h))
			return false;
		if (strcmp(h, "inner") == 0)
			it->inner = true;
		else if (strcmp(h, "left") == 0)
			it->inner = false;
		else
			it->hint = h;
	}
	if (!gr_eat(c, "("))
		return gr_fail_at(c, c->pos, "\"(\"");
	if (++c->depth > GR_MAX_DEPTH)
		return gr_fail_at(c, c->pos, "less nesting");
	it->kind = GR_SEL_EMBED;
	if (!gr_eat(c, ")"))
	{
		if (!gr_select_list(c, &it->children, &it->nchildren))
			return false;
		if (!gr_eat(c, ")"))
			return gr_fail_at(c, c->pos, "\",\" or \")\"");
	}
	c->depth--;
	return true;
}

static bool
select_item(Cur *c, GrSelect *it)
{
	char	   *name;

	if (gr_eat(c, "*"))
	{
		it->kind = GR_SEL_STAR;
		return true;
	}
	if (gr_eat(c, "..."))
	{
		it->spread = true;
		if (!gr_field_name(c, &it->relation))
			return false;
		return embed_tail(c, it);
	}
	if (!gr_field_name(c, &name))
		return false;
	if (strcmp(name, "count") == 0 && gr_eat(c, "()"))
	{
		it->kind = GR_SEL_FIELD;
		it->field.name = name;
		it->aggregate = name;
		return true;
	}
	if (gr_at(c, ":") && !gr_at(c, "::"))
	{
		c->pos++;
		it->alias = name;
		if (!gr_field_name(c, &name))
			return false;
	}
	if (gr_at(c, "!") || gr_at(c, "("))
	{
		it->relation = name;
		return embed_tail(c, it);
	}
	it->kind = GR_SEL_FIELD;
	it->field.name = name;
	if (!gr_json_path(c, &it->field))
		return false;
	if (gr_eat(c, "::") && !cast_name(c, &it->cast))
		return false;
	if (gr_at(c, ".") && c->pos + 1 < c->len && isalpha((unsigned char) c->s[c->pos + 1]))
	{
		size_t		start = ++c->pos;

		while (c->pos < c->len && isalpha((unsigned char) c->s[c->pos]))
			c->pos++;
		it->aggregate = gr_arena_strndup(c->q, c->s + start, c->pos - start);
		if (!gr_eat(c, "()"))
			return gr_fail_at(c, c->pos, "\"()\"");
		if (gr_eat(c, "::") && !cast_name(c, &it->cast))
			return false;
	}
	else if (strcmp(name, "count") == 0 && gr_eat(c, "()"))
		it->aggregate = name;
	return true;
}

bool
gr_select_list(Cur *c, GrSelect **items, int *n)
{
	for (;;)
	{
		GrSelect   *it = gr_arena_push(c->q, (void **) items, n, sizeof(GrSelect));

		if (!select_item(c, it))
			return false;
		if (!gr_eat(c, ","))
			return true;
	}
}

/* ----------------------------------------------------------------
 * order, names lists, paths
 * ---------------------------------------------------------------- */

bool
gr_order_list(Cur *c, GrOrderEntry *e)
{
	for (;;)
	{
		GrOrderTerm *t = gr_arena_push(c->q, (void **) &e->terms, &e->nterms, sizeof(GrOrderTerm));
		size_t		save = c->pos;
		char	   *rel;

		if (gr_field_name(c, &rel) && gr_eat(c, "("))
		{
			t->relation = rel;
			if (!gr_field(c, &t->field))
				return false;
			if (!gr_eat(c, ")"))
				return gr_fail_at(c, c->pos, "\")\"");
		}
		else
		{
			c->pos = save;
			if (!gr_field(c, &t->field))
				return false;
		}
		if (gr_eat(c, ".asc"))
			t->desc = false;
		else if (gr_eat(c, ".desc"))
			t->desc = true;
		if (gr_eat(c, ".nullsfirst"))
			t->nulls = 1;
		else if (gr_eat(c, ".nullslast"))
			t->nulls = 2;
		if (c->pos == c->len)
			return true;
		if (!gr_eat(c, ","))
			return gr_fail_at(c, c->pos, "\",\" or end of input");
	}
}

bool
gr_name_list(Cur *c, char ***names, int *n)
{
	for (;;)
	{
		char	  **slot = gr_arena_push(c->q, (void **) names, n, sizeof(char *));

		if (!gr_field_name(c, slot))
			return false;
		if (c->pos == c->len)
			return true;
		if (!gr_eat(c, ","))
			return gr_fail_at(c, c->pos, "\",\" or end of input");
	}
}
