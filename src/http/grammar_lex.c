/*-------------------------------------------------------------------------
 *
 * src/http/grammar_lex.c
 *	  The query-string parser's lexical layer (grammar_int.h): the arena
 *	  every node and string lives in, percent-decoding, PGRST100's error
 *	  text, and the pieces every parameter shares: literals, quoted
 *	  names with backslash escapes, field names and JSON paths.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#include "http/grammar_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"

/* ----------------------------------------------------------------
 * arena
 * ---------------------------------------------------------------- */

void *
gr_arena_alloc(GrQuery *q, size_t n)
{
	GrArenaBlock *b = q->arena;

	n = (n + 15) & ~(size_t) 15;
	if (b == NULL || b->size - b->used < n)
	{
		size_t		size = n > 8192 ? n : 8192;

		b = malloc(sizeof(GrArenaBlock) + size);
		if (b == NULL)
		{
			fprintf(stderr, "zvt http: out of memory\n");
			abort();
		}
		b->next = q->arena;
		b->used = 0;
		b->size = size;
		q->arena = b;
	}
	b->used += n;
	return memset(b->data + b->used - n, 0, n);
}

char *
gr_arena_strndup(GrQuery *q, const char *s, size_t n)
{
	char	   *r = gr_arena_alloc(q, n + 1);

	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* grow *arr (of elem-size items, *n used) by one; returns the new slot */
void *
gr_arena_push(GrQuery *q, void **arr, int *n, size_t elem)
{
	char	   *bigger = gr_arena_alloc(q, elem * (*n + 1));

	if (*n > 0)
		memcpy(bigger, *arr, elem * *n);
	*arr = bigger;
	(*n)++;
	return bigger + elem * (*n - 1);
}




/* ----------------------------------------------------------------
 * decoding
 * ---------------------------------------------------------------- */

/* percent-decode s[0..n) (and '+' as a space, as form encoding does) */
char *
gr_decode(GrQuery *q, const char *s, size_t n)
{
	char	   *r = gr_arena_alloc(q, n + 1);
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n &&
			hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0)
		{
			r[o++] = (char) (hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2]));
			i += 2;
		}
		else if (s[i] == '+')
			r[o++] = ' ';
		else
			r[o++] = s[i];
	}
	r[o] = '\0';
	return r;
}

/* ----------------------------------------------------------------
 * errors
 * ---------------------------------------------------------------- */

bool
gr_fail_at(Cur *c, size_t pos, const char *expecting)
{
	char		unexpected[32];

	if (pos >= c->len)
		snprintf(unexpected, sizeof(unexpected), "end of input");
	else
		snprintf(unexpected, sizeof(unexpected), "\"%c\"", c->s[pos]);
	snprintf(c->err->message, sizeof(c->err->message),
			 "\"failed to parse %s (%.*s)\" (line 1, column %zu)",
			 c->what, (int) (c->len > 300 ? 300 : c->len), c->s, pos + 1);
	snprintf(c->err->details, sizeof(c->err->details),
			 "unexpected %s expecting %s", unexpected, expecting);
	return false;
}

/* ----------------------------------------------------------------
 * lexical pieces
 * ---------------------------------------------------------------- */

bool
gr_at(Cur *c, const char *lit)
{
	size_t		n = strlen(lit);

	return c->len - c->pos >= n && memcmp(c->s + c->pos, lit, n) == 0;
}

bool
gr_eat(Cur *c, const char *lit)
{
	if (!gr_at(c, lit))
		return false;
	c->pos += strlen(lit);
	return true;
}

static bool
ident_char(unsigned char ch)
{
	return isalnum(ch) || ch == '_' || ch == '$' || ch == ' ' || ch >= 0x80;
}

/* "..." with backslash escapes; c->pos at the opening quote */
bool
gr_quoted(Cur *c, char **out)
{
	size_t		start;
	char	   *r;
	size_t		o = 0;

	c->pos++;
	start = c->pos;
	r = gr_arena_alloc(c->q, c->len - start + 1);
	while (c->pos < c->len && c->s[c->pos] != '"')
	{
		if (c->s[c->pos] == '\\' && c->pos + 1 < c->len)
			c->pos++;
		r[o++] = c->s[c->pos++];
	}
	if (c->pos >= c->len)
		return gr_fail_at(c, c->pos, "\"\\\"\"");
	c->pos++;
	r[o] = '\0';
	*out = r;
	return true;
}

/*
 * A field name: quoted, or identifier characters with single dashes
 * between them (my-col, but not the "->" of a JSON path).
 */
bool
gr_field_name(Cur *c, char **out)
{
	size_t		start = c->pos;

	if (c->pos < c->len && c->s[c->pos] == '"')
		return gr_quoted(c, out);
	while (c->pos < c->len)
	{
		unsigned char ch = c->s[c->pos];

		if (ident_char(ch))
			c->pos++;
		else if (ch == '-' && c->pos > start && c->pos + 1 < c->len &&
				 c->s[c->pos + 1] != '>' && ident_char(c->s[c->pos + 1]))
			c->pos++;
		else
			break;
	}
	if (c->pos == start)
		return gr_fail_at(c, c->pos, "field name (* or [a..z0..9_$])");
	*out = gr_arena_strndup(c->q, c->s + start, c->pos - start);
	return true;
}

bool
gr_json_path(Cur *c, GrField *f)
{
	while (gr_at(c, "->"))
	{
		GrJsonStep *st = gr_arena_push(c->q, (void **) &f->json, &f->njson, sizeof(GrJsonStep));
		size_t		start;

		c->pos += 2;
		st->as_text = gr_eat(c, ">");
		if (c->pos < c->len && c->s[c->pos] == '"')
		{
			if (!gr_quoted(c, &st->key))
				return false;
			continue;
		}
		start = c->pos;
		if (c->pos < c->len && c->s[c->pos] == '-')
			c->pos++;
		while (c->pos < c->len && (ident_char(c->s[c->pos]) || c->s[c->pos] == '@'))
			c->pos++;
		if (c->pos == start || (c->pos == start + 1 && c->s[start] == '-'))
			return gr_fail_at(c, c->pos, "key or index after json arrow");
		st->key = gr_arena_strndup(c->q, c->s + start, c->pos - start);
	}
	return true;
}

bool
gr_field(Cur *c, GrField *f)
{
	return gr_field_name(c, &f->name) && gr_json_path(c, f);
}
