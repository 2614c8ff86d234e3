/*-------------------------------------------------------------------------
 *
 * src/http/schema.h
 *	  The schema cache of the HTTP front's API layer: the tables, views,
 *	  columns, primary and foreign keys and functions of the exposed
 *	  schemas (zvt.http_schemas), read from the catalogs once and kept
 *	  until an invalidation (src/http/schema.c).  Every identifier the
 *	  SQL builder writes comes from here, never from the request.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_SCHEMA_H
#define ZVT_HTTP_SCHEMA_H

#include <stdbool.h>
#include "postgres_ext.h"

typedef struct ApiColumn
{
	char	   *name;
	Oid			typid;
	char	   *typname;		/* format_type(), as SQL accepts it */
	bool		notnull;
	char	   *default_expr;	/* pg_get_expr of the default, or NULL */
	bool		pk;				/* part of the primary key */
	char	   *description;	/* COMMENT, or NULL */
	short		attnum;			/* pg_attribute.attnum */
	Oid			base;			/* the table column it comes from (itself for a
								 * table; through a view's definition), or
								 * InvalidOid for an expression */
	short		base_att;
} ApiColumn;

typedef struct ApiRel
{
	Oid			oid;
	char	   *schema;
	char	   *name;
	char		kind;			/* pg_class.relkind */
	int			updatable;		/* pg_relation_is_updatable: bits 1 << CMD_UPDATE,
								 * CMD_INSERT, CMD_DELETE */
	ApiColumn  *cols;
	int			ncols;
	char	   *description;
} ApiRel;

/* a foreign key from from->cols[from_cols[i]] to to->cols[to_cols[i]] */
typedef struct ApiFk
{
	char	   *conname;
	ApiRel	   *from;
	ApiRel	   *to;
	int		   *from_cols;		/* indexes into from->cols */
	int		   *to_cols;		/* indexes into to->cols */
	int			ncols;
} ApiFk;

typedef struct ApiArg
{
	char	   *name;			/* "" for an unnamed argument */
	Oid			typid;
	char	   *typname;
	bool		has_default;
} ApiArg;

typedef struct ApiFunc
{
	Oid			oid;
	char	   *schema;
	char	   *name;
	ApiArg	   *args;			/* IN and INOUT arguments, in order */
	int			nargs;
	bool		variadic;
	Oid			rettype;
	char	   *rettypname;
	bool		retset;
	bool		ret_composite;	/* a row type (table, OUT args, TABLE) */
	char		volatility;		/* 'i', 's', 'v' */
	char	   *description;
} ApiFunc;

typedef struct ApiSchema
{
	char	  **schemas;		/* zvt.http_schemas, in order */
	int			nschemas;
	ApiRel	  **rels;
	int			nrels;
	ApiFk	   *fks;
	int			nfks;
	ApiFunc    *funcs;
	int			nfuncs;
} ApiSchema;

/* in schema.c */

/*
 * The cache, loaded on first use and after an invalidation.  Needs a
 * transaction (reads the catalogs through SPI; the caller is connected
 * to SPI).  Lives in a long-lived memory context until http_api_reset.
 */
extern const ApiSchema *api_schema_get(void);

extern const ApiRel *api_find_rel(const ApiSchema *s, const char *schema, const char *name);
extern int	api_find_col(const ApiRel *r, const char *name);
extern bool api_schema_exposed(const ApiSchema *s, const char *schema);

/*
 * The closest of candidates[0..n) to name by edit distance, or NULL when
 * none is close (PostgREST's "Perhaps you meant" hints).
 */
extern const char *api_fuzzy(const char *name, const char *const *candidates, int n);
/* the same with a minimum similarity (1 - distance / longer length) */
extern const char *api_fuzzy_min(const char *name, const char *const *candidates, int n,
								 double min);

#endif							/* ZVT_HTTP_SCHEMA_H */
