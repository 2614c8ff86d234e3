/*-------------------------------------------------------------------------
 *
 * src/http/grammar_int.h
 *	  Internal to the query-string parser (grammar.c, grammar_lex.c,
 *	  grammar_select.c): the arena, the cursor over one parameter's text
 *	  and the lexical steps they share.  Pure C.  Every step returns
 *	  false after filling the cursor's GrError (gr_fail_at); nothing
 *	  longjmps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_GRAMMAR_INT_H
#define ZVT_HTTP_GRAMMAR_INT_H

#include "http/grammar.h"

#define GR_MAX_DEPTH 32

struct GrArenaBlock
{
	GrArenaBlock *next;
	size_t		used;
	size_t		size;
	char		data[];
};

/* the cursor over one parameter's text */
typedef struct Cur
{
	const char *s;
	size_t		pos;
	size_t		len;
	GrQuery    *q;
	GrError    *err;
	const char *what;			/* "filter", "select parameter", ... */
	int			depth;
} Cur;

/* in grammar_lex.c */
extern void *gr_arena_alloc(GrQuery *q, size_t n);	/* zeroed; aborts when out of memory */
extern char *gr_arena_strndup(GrQuery *q, const char *s, size_t n);
extern void *gr_arena_push(GrQuery *q, void **arr, int *n, size_t elem);	/* grow by one, return the slot */
extern char *gr_decode(GrQuery *q, const char *s, size_t n);	/* percent- and +-decoding */
extern bool gr_fail_at(Cur *c, size_t pos, const char *expecting);	/* fills c->err, returns false */
extern bool gr_at(Cur *c, const char *lit);
extern bool gr_eat(Cur *c, const char *lit);
extern bool gr_quoted(Cur *c, char **out);	/* "..." with backslash escapes */
extern bool gr_field_name(Cur *c, char **out);
extern bool gr_json_path(Cur *c, GrField *f);
extern bool gr_field(Cur *c, GrField *f);

/* in grammar_select.c */
extern bool gr_select_list(Cur *c, GrSelect **items, int *n);
extern bool gr_order_list(Cur *c, GrOrderEntry *e);
extern bool gr_name_list(Cur *c, char ***names, int *n);

#endif							/* ZVT_HTTP_GRAMMAR_INT_H */
