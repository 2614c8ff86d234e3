/*-------------------------------------------------------------------------
 *
 * src/http/grammar.h
 *	  PostgREST 14's query-string grammar as a tree: filters with their
 *	  operators and not., or/and trees, select lists (alias, cast, JSON
 *	  paths, embedded resources with !hint and !inner), order, limit and
 *	  offset (on the top level or an embedded path), on_conflict and
 *	  columns.  Pure C: no PostgreSQL header; unit-tested in
 *	  test/unit/test_http_grammar.c and fuzzed by test/fuzz/fuzz_http_grammar.c.
 *
 *	  The parser only shapes text: it never decides whether a name exists
 *	  (the schema cache does, in src/http/build.c).  Every string in the
 *	  tree is percent-decoded, unquoted and NUL-terminated, owned by the
 *	  GrQuery's arena and freed by gr_free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_GRAMMAR_H
#define ZVT_HTTP_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum GrOp
{
	GR_EQ, GR_NEQ, GR_GT, GR_GTE, GR_LT, GR_LTE,
	GR_LIKE, GR_ILIKE, GR_MATCH, GR_IMATCH,
	GR_IN, GR_IS, GR_ISDISTINCT,
	GR_FTS, GR_PLFTS, GR_PHFTS, GR_WFTS,
	GR_CS, GR_CD, GR_OV, GR_SL, GR_SR, GR_NXR, GR_NXL, GR_ADJ,
	GR_NOPS
} GrOp;

typedef enum GrQuant
{
	GR_QUANT_NONE, GR_QUANT_ANY, GR_QUANT_ALL
} GrQuant;

/* one step of a JSON path: ->key or ->>key (key may be an array index) */
typedef struct GrJsonStep
{
	char	   *key;
	bool		as_text;		/* ->> rather than -> */
} GrJsonStep;

/* a column, optionally followed by a JSON path */
typedef struct GrField
{
	char	   *name;
	GrJsonStep *json;
	int			njson;
} GrField;

typedef struct GrFilter
{
	GrField		field;
	GrOp		op;
	GrQuant		quant;			/* eq(any).{..}: value is an array literal */
	char	   *value;			/* the operand; for in: NULL */
	char	  **list;			/* in.(a,b,"c"): the items */
	int			nlist;
	char	   *lang;			/* fts(english): the configuration, or NULL */
} GrFilter;

typedef enum GrCondKind
{
	GR_COND_FILTER, GR_COND_AND, GR_COND_OR
} GrCondKind;

/* a filter, or an and/or of conditions; negate for not. */
typedef struct GrCond
{
	GrCondKind	kind;
	bool		negate;
	GrFilter	filter;			/* GR_COND_FILTER */
	struct GrCond **children;	/* GR_COND_AND/OR */
	int			nchildren;
} GrCond;

/* an embedding path: "clients.projects" -> {"clients","projects"} */
typedef struct GrPath
{
	char	  **names;
	int			n;
} GrPath;

typedef struct GrCondEntry
{
	GrPath		path;			/* where it applies; n == 0: the top level */
	GrCond	   *cond;
} GrCondEntry;

typedef struct GrOrderTerm
{
	char	   *relation;		/* order=client(name).desc; NULL: own column */
	GrField		field;
	bool		desc;
	int			nulls;			/* 0 default, 1 nullsfirst, 2 nullslast */
} GrOrderTerm;

typedef struct GrOrderEntry
{
	GrPath		path;
	GrOrderTerm *terms;
	int			nterms;
} GrOrderEntry;

typedef struct GrRangeEntry
{
	GrPath		path;
	long		limit;			/* -1 when not given */
	long		offset;			/* 0 when not given */
} GrRangeEntry;

typedef enum GrSelKind
{
	GR_SEL_STAR, GR_SEL_FIELD, GR_SEL_EMBED
} GrSelKind;

typedef struct GrSelect
{
	GrSelKind	kind;
	char	   *alias;			/* alias:..., or NULL */
	GrField		field;			/* GR_SEL_FIELD */
	char	   *cast;			/* ::type, or NULL */
	char	   *aggregate;		/* .sum() and the like (refused: PGRST123) */
	char	   *relation;		/* GR_SEL_EMBED: the target's name */
	char	   *hint;			/* rel!hint(...) */
	bool		inner;			/* rel!inner(...) */
	bool		spread;			/* ...rel(...) */
	struct GrSelect *children;	/* GR_SEL_EMBED */
	int			nchildren;
} GrSelect;

/* a parameter that is not part of the grammar: an RPC argument */
typedef struct GrParam
{
	char	   *key;
	char	   *value;
} GrParam;

typedef struct GrError
{
	char		message[512];	/* "\"failed to parse filter (x)\" (line 1, column 3)" */
	char		details[512];	/* "unexpected \"x\" expecting ..." */
} GrError;

typedef struct GrArenaBlock GrArenaBlock;

typedef struct GrQuery
{
	GrArenaBlock *arena;		/* everything below lives here */
	GrSelect   *select;			/* NULL: select=* */
	int			nselect;
	GrCondEntry *conds;
	int			nconds;
	GrOrderEntry *orders;
	int			norders;
	GrRangeEntry *ranges;
	int			nranges;
	char	  **on_conflict;	/* NULL when not given */
	int			non_conflict;
	char	  **columns;		/* NULL when not given */
	int			ncolumns;
	GrParam    *args;			/* keys the caller named as arguments */
	int			nargs;
} GrQuery;

/* in grammar.c */

/*
 * Parse query (the part after '?', still percent-encoded) into *out.
 * Keys listed in arg_names (may be NULL when narg_names is 0) are kept
 * as arguments rather than parsed as filters (GET /rpc/fn?arg=...).
 * Returns true on success; on a grammar error (or more than 256
 * parameters) returns false with err filled (PGRST100's message and
 * details).  Either way the caller calls
 * gr_free(out).
 */
extern bool gr_parse(const char *query, const char *const *arg_names,
					 int narg_names, GrQuery *out, GrError *err);

/*
 * The percent-decoded keys of query, in order, into keys[0..max); returns
 * how many, or -1 when there are more than max.  The strings are allocated in q's arena (q must
 * be zeroed or parsed before; gr_free releases them).
 */
extern int	gr_param_keys(const char *query, GrQuery *q, char **keys, int max);

/* Release everything q owns and zero it. */
extern void gr_free(GrQuery *q);

/* The operator's name in the URL ("eq", "isdistinct", ...). */
extern const char *gr_op_name(GrOp op);

/* Whether key is one of the grammar's reserved keys (select, order, ...). */
extern bool gr_reserved_key(const char *key);

#endif							/* ZVT_HTTP_GRAMMAR_H */
