/*-------------------------------------------------------------------------
 *
 * src/http/json_agg.c
 *	  zvt._http_json_agg(record): json_agg's text, rendered faster, for
 *	  the bodies the API layer's statements build (api.c, build.c,
 *	  rpc.c: "coalesce(zvt._http_json_agg(_r), '[]')").
 *
 * The output is byte for byte pg_catalog.json_agg(_r)::text
 * ("[{...}, \n {...}]", each row as composite_to_json writes it), which
 * test/sql/http_json_agg.sql checks over every kind of column.  What
 * json_agg spends per row and per column, this does once per statement:
 * json_agg looks up the row's descriptor, and for each column the base
 * type, its JSON category and its output function (three syscache
 * lookups per value: 20% of a worker's time on a 100-row read), reads
 * each column with heap_getattr (quadratic past a variable-width
 * column) and escapes each column name.  Here the descriptor, each
 * column's category with its output function (FmgrInfo) and its escaped
 * "name": are kept per row type in the aggregate's fn_extra, and a row
 * is deformed once.
 *
 * Categories follow json.c's json_categorize_type: booleans, numbers
 * (a float or numeric that is not a JSON number, NaN or Infinity, is
 * quoted), date and timestamps (JsonEncodeDateTime), json and jsonb
 * (as they are), a type of an extension with a cast to json (the
 * cast's text), other scalars (their output, escaped); domains as their
 * base type.  Arrays and composites go through to_json itself, which
 * gives exactly what json_agg writes for them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "base/export.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(zvt_http_json_agg_step);
PG_FUNCTION_INFO_V1(zvt_http_json_agg_final);

typedef enum JaKind
{
	JA_BOOL,
	JA_INTEGER,					/* int2, int4, int8: always a JSON number */
	JA_NUMBER,					/* float4, float8, numeric: quoted unless a
								 * JSON number */
	JA_DATE,
	JA_TIMESTAMP,
	JA_TIMESTAMPTZ,
	JA_JSON,					/* json, jsonb: their output as it is */
	JA_STRING,					/* other scalars: output, escaped */
	JA_CAST,					/* a type with a cast to json: the cast's text */
	JA_TO_JSON					/* arrays, composites: to_json itself */
} JaKind;

typedef struct JaColumn
{
	bool		dropped;
	JaKind		kind;
	char	   *key;			/* "name": escaped, with the colon */
	FmgrInfo	fn;				/* output function, or to_json for
								 * JA_TO_JSON (with an expression giving its
								 * argument's type) */
} JaColumn;

/* What one call site keeps (fn_extra, in fn_mcxt): the row type's columns. */
typedef struct JaCache
{
	Oid			type;
	int32		typmod;
	TupleDesc	desc;			/* a copy, for deforming */
	int			ncols;
	JaColumn   *cols;
	Datum	   *values;
	bool	   *nulls;
} JaCache;

/* json_categorize_type's category of typid, with the function to call. */
static void
column_kind(JaColumn *c, Oid typid, MemoryContext cxt)
{
	Oid			base = getBaseType(typid);
	Oid			out = InvalidOid;
	bool		varlena;

	switch (base)
	{
		case BOOLOID:
			c->kind = JA_BOOL;
			return;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			c->kind = JA_INTEGER;
			break;
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			c->kind = JA_NUMBER;
			break;
		case DATEOID:
			c->kind = JA_DATE;
			return;
		case TIMESTAMPOID:
			c->kind = JA_TIMESTAMP;
			return;
		case TIMESTAMPTZOID:
			c->kind = JA_TIMESTAMPTZ;
			return;
		case JSONOID:
		case JSONBOID:
			c->kind = JA_JSON;
			break;
		default:
			if (OidIsValid(get_element_type(base)) ||
				base == ANYARRAYOID || base == ANYCOMPATIBLEARRAYOID ||
				base == RECORDARRAYOID || type_is_rowtype(base))
			{
				FuncExpr   *e;

				/* to_json(value of typid): it finds the type in its call */
				c->kind = JA_TO_JSON;
				fmgr_info_cxt(F_TO_JSON, &c->fn, cxt);
				e = makeFuncExpr(F_TO_JSON, JSONOID,
								 list_make1(makeNullConst(typid, -1, InvalidOid)),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
				fmgr_info_set_expr((Node *) e, &c->fn);
				return;
			}
			if (base >= FirstNormalObjectId)
			{
				Oid			cast = InvalidOid;

				/* an extension's type may have a cast to json */
				if (find_coercion_pathway(JSONOID, base, COERCION_EXPLICIT, &cast) ==
					COERCION_PATH_FUNC && OidIsValid(cast))
				{
					c->kind = JA_CAST;
					fmgr_info_cxt(cast, &c->fn, cxt);
					return;
				}
			}
			c->kind = JA_STRING;
			break;
	}
	getTypeOutputInfo(base, &out, &varlena);
	fmgr_info_cxt(out, &c->fn, cxt);
}

/* The columns of the row type (type, typmod), kept in cxt. */
static JaCache *
cache_build(Oid type, int32 typmod, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	JaCache    *jc = palloc0(sizeof(JaCache));
	TupleDesc	desc = lookup_rowtype_tupdesc(type, typmod);

	jc->type = type;
	jc->typmod = typmod;
	jc->desc = CreateTupleDescCopy(desc);
	ReleaseTupleDesc(desc);
	jc->ncols = jc->desc->natts;
	jc->cols = palloc0(sizeof(JaColumn) * Max(jc->ncols, 1));
	jc->values = palloc(sizeof(Datum) * Max(jc->ncols, 1));
	jc->nulls = palloc(sizeof(bool) * Max(jc->ncols, 1));
	for (int i = 0; i < jc->ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(jc->desc, i);
		JaColumn   *c = &jc->cols[i];
		StringInfoData key;

		c->dropped = att->attisdropped;
		if (c->dropped)
			continue;
		initStringInfo(&key);
		escape_json(&key, NameStr(att->attname));
		appendStringInfoChar(&key, ':');
		c->key = key.data;
		column_kind(c, att->atttypid, cxt);
	}
	MemoryContextSwitchTo(old);
	return jc;
}

/* One non-null value as datum_to_json writes it (not as a key). */
static void
value_json(StringInfo out, JaColumn *c, Datum v)
{
	char		buf[MAXDATELEN + 1];
	char	   *s;

	switch (c->kind)
	{
		case JA_BOOL:
			appendStringInfoString(out, DatumGetBool(v) ? "true" : "false");
			return;
		case JA_DATE:
			JsonEncodeDateTime(buf, v, DATEOID, NULL);
			appendStringInfo(out, "\"%s\"", buf);
			return;
		case JA_TIMESTAMP:
			JsonEncodeDateTime(buf, v, TIMESTAMPOID, NULL);
			appendStringInfo(out, "\"%s\"", buf);
			return;
		case JA_TIMESTAMPTZ:
			JsonEncodeDateTime(buf, v, TIMESTAMPTZOID, NULL);
			appendStringInfo(out, "\"%s\"", buf);
			return;
		case JA_TO_JSON:
		case JA_CAST:
			{
				text	   *t = DatumGetTextPP(FunctionCall1(&c->fn, v));

				appendBinaryStringInfo(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				return;
			}
		default:
			break;
	}
	s = OutputFunctionCall(&c->fn, v);
	if (c->kind == JA_INTEGER || c->kind == JA_JSON ||
		(c->kind == JA_NUMBER && IsValidJsonNumber(s, strlen(s))))
		appendStringInfoString(out, s);
	else
		escape_json(out, s);
	pfree(s);
}

/* One row as composite_to_json writes it. */
static void
row_json(StringInfo out, JaCache *jc, HeapTupleHeader td)
{
	HeapTupleData tup;
	bool		sep = false;

	tup.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = td;
	heap_deform_tuple(&tup, jc->desc, jc->values, jc->nulls);
	appendStringInfoChar(out, '{');
	for (int i = 0; i < jc->ncols; i++)
	{
		JaColumn   *c = &jc->cols[i];

		if (c->dropped)
			continue;
		if (sep)
			appendStringInfoChar(out, ',');
		sep = true;
		appendStringInfoString(out, c->key);
		if (jc->nulls[i])
			appendStringInfoString(out, "null");
		else
			value_json(out, c, jc->values[i]);
	}
	appendStringInfoChar(out, '}');
}

/*
 * The transition: the state is a StringInfo in the aggregate's context,
 * "[" then ", " between rows, and "\n " before every row but the first,
 * as json_agg_transfn writes composites.
 */
Datum
zvt_http_json_agg_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	StringInfo	state;
	HeapTupleHeader td;
	JaCache    *jc = (JaCache *) fcinfo->flinfo->fn_extra;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("zvt._http_json_agg_step called in a non-aggregate context")));
	if (PG_ARGISNULL(0))
	{
		old = MemoryContextSwitchTo(aggcxt);
		state = makeStringInfo();
		MemoryContextSwitchTo(old);
		appendStringInfoChar(state, '[');
	}
	else
	{
		state = (StringInfo) PG_GETARG_POINTER(0);
		appendStringInfoString(state, ", ");
	}
	if (PG_ARGISNULL(1))
	{
		appendStringInfoString(state, "null");
		PG_RETURN_POINTER(state);
	}
	if (!PG_ARGISNULL(0))
		appendStringInfoString(state, "\n ");
	td = PG_GETARG_HEAPTUPLEHEADER(1);
	if (jc == NULL || jc->type != HeapTupleHeaderGetTypeId(td) ||
		jc->typmod != HeapTupleHeaderGetTypMod(td))
	{
		/* a new call site, or (for record) a row of another shape */
		jc = cache_build(HeapTupleHeaderGetTypeId(td), HeapTupleHeaderGetTypMod(td),
						 fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = jc;
	}
	/* state->data grows in aggcxt (repalloc keeps a chunk's context) */
	row_json(state, jc, td);
	PG_RETURN_POINTER(state);
}

/* "]" closes the array; no row gives NULL, as json_agg. */
Datum
zvt_http_json_agg_final(PG_FUNCTION_ARGS)
{
	StringInfo	state;
	text	   *t;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("zvt._http_json_agg_final called in a non-aggregate context")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (StringInfo) PG_GETARG_POINTER(0);
	/* the state stays as it is (FINALFUNC_MODIFY = READ_ONLY) */
	t = palloc(VARHDRSZ + state->len + 1);
	SET_VARSIZE(t, VARHDRSZ + state->len + 1);
	memcpy(VARDATA(t), state->data, state->len);
	VARDATA(t)[state->len] = ']';
	PG_RETURN_TEXT_P(t);
}
