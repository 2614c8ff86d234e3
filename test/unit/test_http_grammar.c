/*
 * test/unit/test_http_grammar.c
 *	  Unit tests of PostgREST's query-string grammar (src/http/grammar.c):
 *	  every operator and not., quoting and escapes, or/and nesting, select
 *	  with aliases, casts, JSON paths and embeddings, order, limit/offset
 *	  on paths, RPC arguments, and the PGRST100 error text.
 */
#include "http/grammar.h"
#include "unit_test.h"

static GrQuery q;
static GrError err;

static bool
parse(const char *s)
{
	gr_free(&q);
	return gr_parse(s, NULL, 0, &q, &err);
}

static GrFilter *
filter0(void)
{
	return &q.conds[0].cond->filter;
}

static void
test_operators(void)
{
	for (int op = 0; op < GR_NOPS; op++)
	{
		char		s[64];

		snprintf(s, sizeof(s), "col=%s.%s", gr_op_name(op),
				 op == GR_IN ? "(1,2)" : op == GR_IS ? "null" : "v");
		CHECK(parse(s));
		CHECK(q.nconds == 1 && filter0()->op == (GrOp) op && !q.conds[0].cond->negate);
		snprintf(s, sizeof(s), "col=not.%s.%s", gr_op_name(op),
				 op == GR_IN ? "(1,2)" : op == GR_IS ? "null" : "v");
		CHECK(parse(s));
		CHECK(q.nconds == 1 && filter0()->op == (GrOp) op && q.conds[0].cond->negate);
	}
	CHECK(parse("a=eq.1.5"));
	CHECK_STR(filter0()->value, "1.5");
	CHECK(parse("a=fts(english).quick"));
	CHECK_STR(filter0()->lang, "english");
	CHECK(parse("a=eq(any).{1,2}"));
	CHECK(filter0()->quant == GR_QUANT_ANY);
	CHECK(parse("a=is.NULL"));
	CHECK_STR(filter0()->value, "null");
	CHECK(!parse("a=is.maybe"));
	CHECK(!parse("a=fts(x"));
	CHECK(!parse("a=in.(1,2"));
	CHECK(!parse("a=in.(1);x"));
	CHECK(!parse("a=eq(some).1"));
}

static void
test_quoting(void)
{
	CHECK(parse("a=in.(%22a,b%20%5C%22q%5C%22%22,c)"));
	CHECK(filter0()->nlist == 2);
	CHECK_STR(filter0()->list[0], "a,b \"q\"");
	CHECK_STR(filter0()->list[1], "c");
	CHECK(parse("a=eq.x+y%2Cz"));
	CHECK_STR(filter0()->value, "x y,z");
	CHECK(parse("%22my%20col%22=eq.1"));
	CHECK_STR(filter0()->field.name, "my col");
	CHECK(parse("my-col=eq.1"));
	CHECK_STR(filter0()->field.name, "my-col");
	CHECK(parse("a=eq.%"));		/* a lone percent stays */
	CHECK_STR(filter0()->value, "%");
	/* '$' is an identifier character; hex digits a-f in either case */
	CHECK(parse("price$usd=eq.%6f%6F%2f%2F"));
	CHECK_STR(filter0()->field.name, "price$usd");
	CHECK_STR(filter0()->value, "oo//");
	CHECK(parse("a=eq.%"));
	CHECK_STR(filter0()->value, "%");
}

static void
test_logic(void)
{
	GrCond	   *c;

	CHECK(parse("or=(a.eq.1,and(b.gt.2,c.not.is.null),not.or(d.in.(1,2),e.eq.\"x,)\"))"));
	c = q.conds[0].cond;
	CHECK(c->kind == GR_COND_OR && c->nchildren == 3);
	CHECK(c->children[1]->kind == GR_COND_AND && c->children[1]->nchildren == 2);
	CHECK(c->children[1]->children[1]->negate);
	CHECK(c->children[2]->negate && c->children[2]->kind == GR_COND_OR);
	CHECK(c->children[2]->children[0]->filter.nlist == 2);
	CHECK_STR(c->children[2]->children[1]->filter.value, "x,)");
	CHECK(parse("not.and=(a.eq.1,b.eq.2)"));
	CHECK(q.conds[0].cond->negate && q.conds[0].cond->kind == GR_COND_AND);
	CHECK(parse("clients.or=(a.eq.1,b.eq.2)"));
	CHECK(q.conds[0].path.n == 1);
	CHECK_STR(q.conds[0].path.names[0], "clients");
	CHECK(!parse("or=(a.eq.1"));
	CHECK(!parse("or=a.eq.1"));
	CHECK(!parse("or=(a.eq.1))"));
	{
		char		deep[400] = "or=(";

		for (int i = 0; i < 40; i++)
			strcat(deep, "or(");
		strcat(deep, "a.eq.1");
		for (int i = 0; i < 41; i++)
			strcat(deep, ")");
		CHECK(!parse(deep));	/* nesting is bounded */
	}
}

static void
test_select(void)
{
	GrSelect   *s;

	CHECK(parse("select=id,who:name,price::text,c:data->a->>b,*,cl:clients!fk!inner(name,projects(*)),...x(y)"));
	CHECK(q.nselect == 7);
	s = q.select;
	CHECK(s[0].kind == GR_SEL_FIELD);
	CHECK_STR(s[1].alias, "who");
	CHECK_STR(s[2].cast, "text");
	CHECK(s[3].field.njson == 2 && s[3].field.json[1].as_text && !s[3].field.json[0].as_text);
	CHECK_STR(s[3].field.json[1].key, "b");
	CHECK(s[4].kind == GR_SEL_STAR);
	CHECK(s[5].kind == GR_SEL_EMBED && s[5].inner && s[5].nchildren == 2);
	CHECK_STR(s[5].hint, "fk");
	CHECK_STR(s[5].relation, "clients");
	CHECK(s[5].children[1].kind == GR_SEL_EMBED);
	CHECK(s[6].spread);
	CHECK(parse("select=count()"));
	CHECK(q.select[0].aggregate != NULL);
	CHECK(parse("select=price.sum()"));
	CHECK_STR(q.select[0].aggregate, "sum");
	CHECK(parse("select=x()"));
	CHECK(q.select[0].kind == GR_SEL_EMBED && q.select[0].nchildren == 0);
	CHECK(!parse("select="));
	CHECK(!parse("select=a,(b)"));
	CHECK(!parse("select=a::int);x"));
}

static void
test_order_range(void)
{
	GrOrderTerm *t;

	CHECK(parse("order=a.desc.nullslast,b,c->d.asc.nullsfirst,cl(name).desc"));
	CHECK(q.norders == 1 && q.orders[0].nterms == 4);
	t = q.orders[0].terms;
	CHECK(t[0].desc && t[0].nulls == 2);
	CHECK(!t[1].desc && t[1].nulls == 0);
	CHECK(t[2].field.njson == 1 && t[2].nulls == 1);
	CHECK_STR(t[3].relation, "cl");
	CHECK(!parse("order=a.asc.nullslasttt"));
	CHECK_STR(err.message, "\"failed to parse order (a.asc.nullslasttt)\" (line 1, column 16)");
	CHECK(parse("limit=5&offset=10&clients.limit=1"));
	CHECK(q.nranges == 2);
	CHECK(q.ranges[0].limit == 5 && q.ranges[0].offset == 10);
	CHECK(q.ranges[1].path.n == 1 && q.ranges[1].limit == 1);
	CHECK(!parse("limit=-1"));
	CHECK(!parse("limit=1x"));
	CHECK(parse("on_conflict=a,b&columns=x"));
	CHECK(q.non_conflict == 2 && q.ncolumns == 1);
}

static void
test_args_and_errors(void)
{
	const char *names[] = {"a", "b"};

	gr_free(&q);
	CHECK(gr_parse("a=1&b=x&c=eq.2", names, 2, &q, &err));
	CHECK(q.nargs == 2 && q.nconds == 1);
	CHECK_STR(q.args[1].value, "x");
	CHECK(!parse("id=1"));
	CHECK_STR(err.message, "\"failed to parse filter (1)\" (line 1, column 1)");
	CHECK_STR(err.details, "unexpected \"1\" expecting \"not\" or operator (eq, gt, ...)");
	CHECK(!parse("id=noop.1"));
	CHECK_STR(err.details, "unexpected \"o\" expecting \"not\" or operator (eq, gt, ...)");
	CHECK(!parse("id;drop=eq.1"));
	CHECK(gr_reserved_key("select") && !gr_reserved_key("id"));
	{
		/* more than 256 parameters: an error, never a silent cut */
		char		many[4000] = "";

		for (int i = 0; i < 300; i++)
			strcat(many, "a=eq.1&");
		CHECK(!parse(many));
		CHECK_STR(err.message, "too many query parameters");
		many[256 * 7] = '\0';
		CHECK(parse(many));
		CHECK(q.nconds == 256);
	}
	{
		char	   *keys[4];
		GrQuery		k = {0};

		CHECK(gr_param_keys("a=1&b%20c=2&&d", &k, keys, 4) == 3);
		CHECK_STR(keys[1], "b c");
		gr_free(&k);
	}
}

int
main(void)
{
	test_operators();
	test_quoting();
	test_logic();
	test_select();
	test_order_range();
	test_args_and_errors();
	gr_free(&q);
	return unit_summary("test_http_grammar");
}
