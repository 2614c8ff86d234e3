/*-------------------------------------------------------------------------
 *
 * src/http/api_int.h
 *	  What the API layer's files share: the request context (ApiCtx), the
 *	  statement under construction (Sql: text plus typed bound
 *	  parameters), the resolved select tree (ApiNode) and the error they
 *	  return.  Internal to src/http (api.c, embed.c, build.c, exec.c,
 *	  write.c, rpc.c).
 *
 *	  Invariant: Sql.text only ever receives fixed SQL, identifiers taken
 *	  from the schema cache (quoted with quote_identifier), type names
 *	  from format_type() of a catalog OID, generated aliases (_t0, _e1)
 *	  and $n placeholders.  Request text reaches the statement only as
 *	  a parameter value (sql_param).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_HTTP_API_INT_H
#define ZVT_HTTP_API_INT_H

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "http/grammar.h"
#include "http/request.h"
#include "http/schema.h"

#define API_MAX_PARAMS 256

typedef struct Sql
{
	StringInfoData text;
	Oid			types[API_MAX_PARAMS];
	Datum		values[API_MAX_PARAMS];
	char		nulls[API_MAX_PARAMS];
	int			n;
	int			next_alias;		/* _t<n>, _e<n> */
} Sql;

/* a request error answered with PostgREST's body (strings palloc'd) */
typedef struct ApiError
{
	int			status;
	const char *code;
	char	   *message;
	char	   *details;
	char	   *hint;
	char	   *details_json;	/* a JSON value for details instead (PGRST201) */
} ApiError;

/* one relation of the select tree: the root or an embedded resource */
typedef struct ApiNode
{
	const ApiRel *rel;			/* NULL for a function's output */
	int			alias;			/* _t<alias> */
	const char *key;			/* JSON key in the parent: alias or name */
	const char *name;			/* the name in the URL (for paths) */
	GrSelect   *items;			/* NULL: * */
	int			nitems;
	bool		star;			/* items NULL or contains * */
	const ApiFk *fk;			/* embedding: the key joining it to parent */
	bool		to_one;			/* many-to-one (fk->from is the parent) */
	const ApiFk *junction_fk;	/* many-to-many: the junction's key to the
								 * parent (fk is its key to this one) */
	bool		inner;
	bool		spread;
	struct ApiNode *parent;
	struct ApiNode **children;
	int			nchildren;
	GrCond	  **conds;			/* filters that apply here */
	int			nconds;
	GrOrderEntry *order;		/* NULL: none */
	GrRangeEntry *range;		/* NULL: none */
} ApiNode;

typedef struct ApiPrefs
{
	char		ret;			/* 'r' representation, 'm' minimal, 'h' headers-only, 0 */
	char		count;			/* 'e' exact, 'p' planned, 's' estimated, 0 */
	char		resolution;		/* 'm' merge, 'i' ignore, 0 */
	bool		missing_default;
	bool		strict;
	bool		single_object;	/* params=single-object */
	char		applied[256];	/* Preference-Applied */
	char		invalid[256];	/* unknown preferences, for handling=strict */
} ApiPrefs;

typedef struct ApiCtx
{
	const HttpRequest *req;
	HttpResponse *resp;
	const ApiSchema *cache;
	const char *schema;			/* the profile in use */
	const char *method;
	ApiPrefs	prefs;
	char		accept;			/* 'j' json, 'o' singular object, 'c' csv */
	bool		strip_nulls;
	GrQuery		q;
	long		range_offset;	/* from Range:, 0 */
	long		range_limit;	/* from Range:, -1 */
	int64		inserted;		/* rows an upsert inserted; -1 unknown */
	ApiError	err;
} ApiCtx;

/* in exec.c */
extern void sql_init(Sql *sql);
extern const char *sql_param(Sql *sql, const char *text, Oid typid);
extern const char *sql_param_datum(Sql *sql, Datum value, Oid typid);
extern void sql_ident(Sql *sql, const char *ident);
extern void sql_rel(Sql *sql, const ApiRel *rel);
extern bool api_fail(ApiCtx *ctx, int status, const char *code, const char *message,
					 const char *details, const char *hint);
extern SPITupleTable *sql_run(Sql *sql, uint64 *nrows);
extern void exec_reset_plans(void);

/* in embed.c */
extern ApiNode *build_tree(ApiCtx *ctx, const ApiRel *rel, const ApiFunc *fn);
extern bool build_not_embedded(ApiCtx *ctx, const char *name, const char *aliased);

/* in build.c */
extern bool build_select_list(ApiCtx *ctx, Sql *sql, ApiNode *node);
extern bool build_where(ApiCtx *ctx, Sql *sql, ApiNode *node, bool first);
extern bool build_order(ApiCtx *ctx, Sql *sql, ApiNode *node);
extern void build_limit(Sql *sql, long limit, long offset);
extern bool build_column_error(ApiCtx *ctx, const ApiRel *rel, const char *relname,
							   const char *col);
extern bool build_cond(ApiCtx *ctx, Sql *sql, ApiNode *node, GrCond *c);

/* in api.c */
extern bool api_read_headers(ApiCtx *ctx);
extern void api_body_expr(ApiCtx *ctx, StringInfo s);
extern bool api_run_query(ApiCtx *ctx, Sql *sql, ApiNode *root, bool mutation);

/* in write.c */
extern bool api_write(ApiCtx *ctx, const ApiRel *rel);

/* in rpc.c */
extern bool api_rpc(ApiCtx *ctx, const char *fname);

#endif							/* ZVT_HTTP_API_INT_H */
