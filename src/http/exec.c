/*-------------------------------------------------------------------------
 *
 * src/http/exec.c
 *	  The statement under construction (Sql, api_int.h) and its
 *	  execution: identifiers from the schema cache are quoted into the
 *	  text, every request value becomes a bound parameter converted by
 *	  its type's input function (so a bad value is PostgreSQL's own error,
 *	  22P02 and the like), and the statement runs through a prepared plan
 *	  cached per route shape.
 *
 *	  A route shape is the statement text plus its parameter types: two
 *	  requests that differ only in values share one plan.  Plans live in a
 *	  hash table in "zvt http plans" under CacheMemoryContext, kept with
 *	  SPI_keepplan (PostgreSQL's plan cache replans them after DDL and
 *	  checks privileges at every execution, so a plan made for one role is
 *	  safe for the next).  exec_reset_plans (from http_api_reset, possibly
 *	  inside an invalidation callback) only bumps a generation; the plans
 *	  of an old generation are freed by the next sql_run, outside any
 *	  callback.  At most EXEC_MAX_PLANS are kept; when full, all are
 *	  dropped (hostile shapes cannot grow a worker without bound).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "http/api_int.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define EXEC_MAX_PLANS 1024

typedef struct PlanEntry
{
	char	   *key;			/* hash key: text NUL types (palloc'd) */
	SPIPlanPtr	plan;
} PlanEntry;

static HTAB *plans = NULL;
static MemoryContext plans_cxt = NULL;
static uint32 plans_generation = 0;
static uint32 plans_built_generation = 0;

void
sql_init(Sql *sql)
{
	memset(sql, 0, sizeof(*sql));
	initStringInfo(&sql->text);
}

/*
 * Bind text as a parameter of type typid (converted now by the type's
 * input function: PostgreSQL raises its own error for a bad value) and
 * append its $n.  Returns the placeholder text appended.
 */
const char *
sql_param(Sql *sql, const char *text, Oid typid)
{
	Oid			typinput,
				typioparam;

	if (sql->n >= API_MAX_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many values in one request"),
				 errdetail("At most %d values are bound in one statement.", API_MAX_PARAMS)));
	getTypeInputInfo(typid, &typinput, &typioparam);
	sql->values[sql->n] = OidInputFunctionCall(typinput, (char *) text, typioparam, -1);
	sql->types[sql->n] = typid;
	sql->nulls[sql->n] = ' ';
	sql->n++;
	appendStringInfo(&sql->text, "$%d", sql->n);
	return "";
}

const char *
sql_param_datum(Sql *sql, Datum value, Oid typid)
{
	if (sql->n >= API_MAX_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many values in one request")));
	sql->values[sql->n] = value;
	sql->types[sql->n] = typid;
	sql->nulls[sql->n] = ' ';
	sql->n++;
	appendStringInfo(&sql->text, "$%d", sql->n);
	return "";
}

/* an identifier from the schema cache, quoted */
void
sql_ident(Sql *sql, const char *ident)
{
	appendStringInfoString(&sql->text, quote_identifier(ident));
}

void
sql_rel(Sql *sql, const ApiRel *rel)
{
	appendStringInfo(&sql->text, "%s.%s", quote_identifier(rel->schema),
					 quote_identifier(rel->name));
}

bool
api_fail(ApiCtx *ctx, int status, const char *code, const char *message,
		 const char *details, const char *hint)
{
	ctx->err.status = status;
	ctx->err.code = code;
	ctx->err.message = message ? pstrdup(message) : NULL;
	ctx->err.details = details ? pstrdup(details) : NULL;
	ctx->err.hint = hint ? pstrdup(hint) : NULL;
	return false;
}

void
exec_reset_plans(void)
{
	plans_generation++;
}

static void
drop_plans(void)
{
	HASH_SEQ_STATUS st;
	PlanEntry  *e;

	if (plans == NULL)
		return;
	hash_seq_init(&st, plans);
	while ((e = hash_seq_search(&st)) != NULL)
		SPI_freeplan(e->plan);
	hash_destroy(plans);
	plans = NULL;
	MemoryContextReset(plans_cxt);
}

static uint32
key_hash(const void *key, Size keysize)
{
	return string_hash(*(char *const *) key, 1 << 20);
}

static int
key_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static SPIPlanPtr
plan_for(Sql *sql)
{
	StringInfoData key;
	PlanEntry  *e;
	bool		found;
	char	   *kp;
	SPIPlanPtr	plan;

	if (plans_cxt == NULL)
		plans_cxt = AllocSetContextCreate(CacheMemoryContext, "zvt http plans",
										  ALLOCSET_DEFAULT_SIZES);
	if (plans_built_generation != plans_generation ||
		(plans && hash_get_num_entries(plans) >= EXEC_MAX_PLANS))
	{
		drop_plans();
		plans_built_generation = plans_generation;
	}
	if (plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(PlanEntry);
		ctl.hash = key_hash;
		ctl.match = key_match;
		ctl.hcxt = plans_cxt;
		plans = hash_create("zvt http plans", 64, &ctl,
							HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	initStringInfo(&key);
	appendStringInfoString(&key, sql->text.data);
	for (int i = 0; i < sql->n; i++)
		appendStringInfo(&key, "|%u", sql->types[i]);
	kp = key.data;
	e = hash_search(plans, &kp, HASH_FIND, NULL);
	if (e)
		return e->plan;

	plan = SPI_prepare(sql->text.data, sql->n, sql->types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	kp = MemoryContextStrdup(plans_cxt, key.data);
	e = hash_search(plans, &kp, HASH_ENTER, &found);
	e->key = kp;
	e->plan = plan;
	return plan;
}

/*
 * Run the statement; returns SPI's result table (in the SPI context).
 */
SPITupleTable *
sql_run(Sql *sql, uint64 *nrows)
{
	SPIPlanPtr	plan = plan_for(sql);
	int			rc;

	rc = SPI_execute_plan(plan, sql->values, sql->nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	*nrows = SPI_processed;
	return SPI_tuptable;
}
