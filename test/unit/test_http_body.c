/*
 * test/unit/test_http_body.c
 *	  Unit tests of src/http/body.c, body_json.c and body_csv.c: request
 *	  bodies read as PostgREST reads them, a table of cases with its exact
 *	  refusals (PGRST102 "Empty or invalid json", "All object keys must
 *	  match", "All lines must have same number of fields", PGRST107), the
 *	  keys and the JSON text handed to the server, then JSON syntax at its
 *	  edges (numbers, escapes, UTF-8, U+0000, nesting).
 */
#include "http/body.h"

#include <stdlib.h>

#include "unit_test.h"

#define ROWS 0
#define RPC 1
#define COLS 2					/* rows with columns= */

typedef struct Case
{
	const char *name;
	int			mode;
	const char *ct;
	const char *body;			/* NULL: no body */
	int			status;			/* 0 accepted */
	const char *message;		/* refused: PostgREST's; accepted: the keys, "|" between */
	int			nrows;
	const char *json;			/* accepted: the JSON handed over; NULL: the body */
} Case;

static const char *const J = "application/json";

static const Case cases[] = {
	/* rows */
	{"one object", ROWS, J, "{\"id\":10,\"body\":\"x\"}", 0, "id|body", 1, "[{\"id\":10,\"body\":\"x\"}]"},
	{"no content type is json", ROWS, NULL, "{\"id\":1}", 0, "id", 1, "[{\"id\":1}]"},
	{"an array of objects, keys in any order", ROWS, J, "[{\"id\":13,\"body\":\"a\"},{\"body\":\"b\",\"id\":14}]", 0, "id|body", 2, NULL},
	{"keys differ", ROWS, J, "[{\"id\":30,\"body\":\"a\"},{\"id\":31}]", 400, "All object keys must match", 0, NULL},
	{"a key more", ROWS, J, "[{\"id\": 100, \"body\": \"xxxxx\"}, {\"id\": 111, \"body\": \"xxxx\", \"owner\": \"me\"}]", 400, "All object keys must match", 0, NULL},
	{"scalars among objects", ROWS, J, "[{\"id\": 100, \"body\": \"xxxxx\"}, 123, \"xxxx\", {\"id\": 111, \"body\": \"xxxx\"}]", 400, "All object keys must match", 0, NULL},
	{"an array of a scalar", ROWS, J, "[1]", 400, "All object keys must match", 0, NULL},
	{"a duplicate key hides a missing one", ROWS, J, "[{\"a\":1,\"b\":2},{\"a\":1,\"a\":2}]", 400, "All object keys must match", 0, NULL},
	{"a duplicate key is one key", ROWS, J, "[{\"a\":1},{\"a\":2,\"a\":3}]", 0, "a", 2, NULL},
	{"duplicates keep the first place", ROWS, J, "{\"a\":1,\"b\":2,\"a\":3}", 0, "a|b", 1, "[{\"a\":1,\"b\":2,\"a\":3}]"},
	{"empty array: no row", ROWS, J, "[]", 0, "", 0, "[]"},
	{"empty object: one row of defaults", ROWS, J, "{}", 0, "", 1, "[{}]"},
	{"a scalar is no row", ROWS, J, "42", 0, "", 0, "[]"},
	{"null is no row", ROWS, J, "null", 0, "", 0, "[]"},
	{"invalid json", ROWS, J, "{\"id\":", 400, "Empty or invalid json", 0, NULL},
	{"garbage", ROWS, J, "}{ x = 2", 400, "Empty or invalid json", 0, NULL},
	{"empty body", ROWS, J, "", 400, "Empty or invalid json", 0, NULL},
	{"no body", ROWS, J, NULL, 400, "Empty or invalid json", 0, NULL},
	{"only whitespace", ROWS, J, " \n", 400, "Empty or invalid json", 0, NULL},
	{"insignificant whitespace", ROWS, J, "\t \n \r { \"id\": 99 } \t \n \r ", 0, "id", 1, "[\t \n \r { \"id\": 99 } \t \n \r ]"},
	{"text after the value", ROWS, J, "{\"a\":1} x", 400, "Empty or invalid json", 0, NULL},
	{"two values", ROWS, J, "{} {}", 400, "Empty or invalid json", 0, NULL},
	{"a trailing comma", ROWS, J, "{\"a\":1,}", 400, "Empty or invalid json", 0, NULL},
	{"a byte order mark", ROWS, J, "\xEF\xBB\xBF{}", 400, "Empty or invalid json", 0, NULL},
	{"columns= lets keys differ", COLS, J, "[{\"id\":15,\"body\":\"c\",\"extra\":1},{\"id\":16}]", 0, "id|body|extra", 2, NULL},
	{"columns= still wants objects", COLS, J, "[{\"a\":1},2]", 400, "All object keys must match", 0, NULL},
	{"singular object media type", ROWS, "application/vnd.pgrst.object+json", "{\"a\":1}", 0, "a", 1, NULL},
	{"media type parameters and case", ROWS, "Application/JSON; charset=utf-8", "{\"a\":1}", 0, "a", 1, NULL},
	{"another media type", ROWS, "text/plain", "id=1", 415, "None of these media types are available: text/plain", 0, NULL},
	{"a longer name is another media type", ROWS, "application/jsonx", "{}", 415, "None of these media types are available: application/jsonx", 0, NULL},
	{"an empty media type", ROWS, "", "{}", 415, "None of these media types are available: ", 0, NULL},

	/* numbers keep their digits */
	{"numbers as sent", ROWS, J, "{\"p\":0.1,\"q\":123456789012345678901234567890,\"r\":1e400,\"s\":-0.0E-5}", 0, "p|q|r|s", 1,
	"[{\"p\":0.1,\"q\":123456789012345678901234567890,\"r\":1e400,\"s\":-0.0E-5}]"},
	{"a leading zero", ROWS, J, "{\"p\":01}", 400, "Empty or invalid json", 0, NULL},
	{"a bare point", ROWS, J, "{\"p\":1.}", 400, "Empty or invalid json", 0, NULL},
	{"no integer part", ROWS, J, "{\"p\":.5}", 400, "Empty or invalid json", 0, NULL},
	{"a plus sign", ROWS, J, "{\"p\":+1}", 400, "Empty or invalid json", 0, NULL},
	{"an empty exponent", ROWS, J, "{\"p\":1e}", 400, "Empty or invalid json", 0, NULL},
	{"a lone minus", ROWS, J, "{\"p\":-}", 400, "Empty or invalid json", 0, NULL},
	{"NaN", ROWS, J, "{\"p\":NaN}", 400, "Empty or invalid json", 0, NULL},
	{"a misspelt literal", ROWS, J, "{\"p\":tru}", 400, "Empty or invalid json", 0, NULL},

	/* strings */
	{"escapes decoded in keys", ROWS, J, "{\"a\\\"b\\\\c\\/\\u00e9\\ud83d\\ude00\":\"x\\ny\"}", 0, "a\"b\\c/\xC3\xA9\xF0\x9F\x98\x80", 1, NULL},
	{"an empty key is a key (no column has its name)", ROWS, J, "{\"\":1,\"b\":2}", 0, "|b", 1, NULL},
	{"UTF-8 keys", ROWS, J, "{\"pr\xC3\xA9\x63io\":1}", 0, "pr\xC3\xA9\x63io", 1, NULL},
	{"U+0000 in a value", ROWS, J, "{\"a\":\"x\\u0000\"}", 400, "Empty or invalid json", 0, NULL},
	{"U+0000 in a key", ROWS, J, "{\"a\\u0000b\":1}", 400, "Empty or invalid json", 0, NULL},
	{"a lone high surrogate", ROWS, J, "{\"a\":\"\\ud800\"}", 400, "Empty or invalid json", 0, NULL},
	{"a lone low surrogate", ROWS, J, "{\"a\":\"\\udc00x\"}", 400, "Empty or invalid json", 0, NULL},
	{"a high surrogate and no low one", ROWS, J, "{\"a\":\"\\ud800\\u0041\"}", 400, "Empty or invalid json", 0, NULL},
	{"a bad hex digit", ROWS, J, "{\"a\":\"\\u12g4\"}", 400, "Empty or invalid json", 0, NULL},
	{"an unknown escape", ROWS, J, "{\"a\":\"\\x41\"}", 400, "Empty or invalid json", 0, NULL},
	{"a raw tab in a string", ROWS, J, "{\"a\":\"x\ty\"}", 400, "Empty or invalid json", 0, NULL},
	{"an unterminated string", ROWS, J, "{\"a\":\"x}", 400, "Empty or invalid json", 0, NULL},
	{"invalid UTF-8", ROWS, J, "{\"a\":\"\xFF\"}", 400, "Empty or invalid json", 0, NULL},
	{"overlong UTF-8", ROWS, J, "{\"a\":\"\xC0\xAF\"}", 400, "Empty or invalid json", 0, NULL},
	{"overlong UTF-8 in three bytes", ROWS, J, "{\"a\":\"\xE0\x80\xAF\"}", 400, "Empty or invalid json", 0, NULL},
	{"overlong UTF-8 in four bytes", ROWS, J, "{\"a\":\"\xF0\x80\x80\xAF\"}", 400, "Empty or invalid json", 0, NULL},
	{"the first three- and four-byte forms", ROWS, J, "{\"\xE0\xA0\x80\xF0\x90\x80\x80\":1}", 0, "\xE0\xA0\x80\xF0\x90\x80\x80", 1, NULL},
	{"an encoded surrogate", ROWS, J, "{\"a\":\"\xED\xA0\x80\"}", 400, "Empty or invalid json", 0, NULL},
	{"past U+10FFFF", ROWS, J, "{\"a\":\"\xF4\x90\x80\x80\"}", 400, "Empty or invalid json", 0, NULL},
	{"a truncated sequence", ROWS, J, "{\"a\":\"\xE2\x82\"}", 400, "Empty or invalid json", 0, NULL},

	/* CSV */
	{"CSV rows", ROWS, "text/csv", "id,body,n\n30,\"a, \"\"quoted\"\" body\",NULL\n31,,3\n", 0, "id|body|n", 2,
	"[{\"id\":\"30\",\"body\":\"a, \\\"quoted\\\" body\",\"n\":null},{\"id\":\"31\",\"body\":\"\",\"n\":\"3\"}]"},
	{"CSV with CRLF and no last newline", ROWS, "text/csv; charset=utf-8", "a,b\r\n1,\"NULL\"\r\n2,x", 0, "a|b", 2,
	"[{\"a\":\"1\",\"b\":\"NULL\"},{\"a\":\"2\",\"b\":\"x\"}]"},
	{"CSV control characters escaped", ROWS, "text/csv", "a\n\"x\ty\"\n", 0, "a", 1, "[{\"a\":\"x\\u0009y\"}]"},
	{"CSV header only", ROWS, "text/csv", "a,b\n", 0, "", 0, "[]"},
	{"CSV a short line", ROWS, "text/csv", "a,b\nfoo,bar\nbaz", 400, "All lines must have same number of fields", 0, NULL},
	{"CSV a long line", ROWS, "text/csv", "a\n1,2\n", 400, "All lines must have same number of fields", 0, NULL},
	{"CSV no closing quote", ROWS, "text/csv", "a\n\"x", 400, "Empty or invalid CSV", 0, NULL},
	{"CSV text after a quote", ROWS, "text/csv", "a\n\"x\"y\n", 400, "Empty or invalid CSV", 0, NULL},
	{"CSV a lone CR", ROWS, "text/csv", "a\rb\n", 400, "Empty or invalid CSV", 0, NULL},
	{"CSV empty", ROWS, "text/csv", "", 400, "Empty or invalid CSV", 0, NULL},
	{"CSV invalid UTF-8", ROWS, "text/csv", "a\n\xFF\n", 400, "Empty or invalid CSV", 0, NULL},
	{"CSV for a function", RPC, "text/csv", "a\n1\n", 415, "None of these media types are available: text/csv", 0, NULL},

	/* rpc arguments */
	{"rpc named arguments", RPC, J, "{\"a\":1,\"b\":2}", 0, "a|b", 1, "{\"a\":1,\"b\":2}"},
	{"rpc no body is {}", RPC, J, NULL, 0, "", 1, "{}"},
	{"rpc an empty body is {}", RPC, J, "", 0, "", 1, "{}"},
	{"rpc whitespace is not empty", RPC, J, "  ", 400, "Empty or invalid json", 0, NULL},
	{"rpc invalid json", RPC, J, "{", 400, "Empty or invalid json", 0, NULL},
	{"rpc an array goes whole", RPC, J, "[1,2]", 0, "", 1, "[1,2]"},
	{"rpc a string goes whole", RPC, J, " \"x\" ", 0, "", 1, " \"x\" "},
	{"rpc four arguments are too many", RPC, J, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", 400, "Too many arguments", 0, NULL},
	{"rpc a duplicate is one argument", RPC, J, "{\"a\":1,\"b\":2,\"c\":3,\"a\":4}", 0, "a|b|c", 1, NULL},
	{"rpc the singular media type", RPC, "application/vnd.pgrst.object+json", "{}", 415, "None of these media types are available: application/vnd.pgrst.object+json", 0, NULL},
};

static char *
joined_keys(const HttpBody *b)
{
	size_t		n = 1;
	char	   *s;

	for (int i = 0; i < b->nkeys; i++)
		n += strlen(b->keys[i]) + 1;
	s = calloc(1, n);
	for (int i = 0; i < b->nkeys; i++)
	{
		if (i)
			strcat(s, "|");
		strcat(s, b->keys[i]);
	}
	return s;
}

static bool
read_case(const Case *c, HttpBody *b)
{
	HttpBodyOpts o = {.rpc = c->mode == RPC, .columns = c->mode == COLS, .max_keys = c->mode == RPC ? 3 : 0};

	return http_body_read(c->ct, c->body, c->body ? strlen(c->body) : 0, &o, b);
}

static void
run_case(const Case *c)
{
	HttpBody	b;
	bool		ok = read_case(c, &b);

	if (ok != (c->status == 0))
		fprintf(stderr, "case \"%s\": %s (%s)\n", c->name, ok ? "accepted" : "refused", ok ? "" : b.message);
	CHECK(ok == (c->status == 0));
	if (ok && c->status == 0)
	{
		char	   *k = joined_keys(&b);

		CHECK(b.status == 0 && b.message == NULL);
		CHECK_STR(k, c->message);
		CHECK(b.nrows == c->nrows);
		CHECK(b.json != NULL && strlen(b.json) == b.json_len);
		if (c->json)
			CHECK_STR(b.json, c->json);
		else if (b.shape == HTTP_BODY_ARRAY || c->mode == RPC)
			CHECK_STR(b.json, c->body);
		else
			CHECK(b.json_len == strlen(c->body) + 2 && strncmp(b.json + 1, c->body, strlen(c->body)) == 0);
		free(k);
	}
	else if (!ok)
	{
		CHECK(b.status == c->status);
		CHECK_STR(b.code, c->status == 415 ? "PGRST107" : "PGRST102");
		CHECK_STR(b.message, c->message);
		CHECK(b.json == NULL && b.nkeys == 0);
	}
	http_body_free(&b);
}

/* depth nested arrays inside {"a": ...} */
static char *
nested(int depth)
{
	char	   *s = malloc(depth * 2 + 16);
	char	   *p = s;

	p += sprintf(p, "{\"a\":");
	for (int i = 0; i < depth - 1; i++)
		*p++ = '[';
	for (int i = 0; i < depth - 1; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

int
main(void)
{
	HttpBodyOpts rows = {0};
	HttpBodyOpts rpc = {.rpc = true, .max_keys = 256};
	HttpBody	b;
	const char *s;
	char	   *d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);

	/* the first object's values: a string's text, else JSON; the last duplicate */
	s = "{\"id\":40,\"s\":\"a\\tb\",\"o\":{ \"x\" : [1] },\"id\":41.50,\"n\":null}";
	CHECK(http_body_read(NULL, s, strlen(s), &rows, &b));
	CHECK(b.nkeys == 4);
	CHECK_STR(b.values[0], "41.50");
	CHECK_STR(b.values[1], "a\tb");
	CHECK_STR(b.values[2], "{ \"x\" : [1] }");
	CHECK_STR(b.values[3], "null");
	CHECK(b.shape == HTTP_BODY_OBJECT);
	http_body_free(&b);
	CHECK(http_body_read(NULL, "[{\"k\":\"\"}]", 10, &rows, &b));
	CHECK(b.shape == HTTP_BODY_ARRAY && b.nkeys == 1 && strcmp(b.keys[0], "k") == 0 && strcmp(b.values[0], "") == 0);
	http_body_free(&b);

	/* a NUL byte is never JSON, not even after the value */
	CHECK(!http_body_read(NULL, "{\"a\":1}\0", 8, &rows, &b) && strcmp(b.message, "Empty or invalid json") == 0);
	http_body_free(&b);
	CHECK(!http_body_read(NULL, "{\"a\":\"x\0y\"}", 11, &rows, &b));
	http_body_free(&b);
	CHECK(!http_body_read("text/csv", "a\nx\0y\n", 6, &rows, &b) && strcmp(b.message, "Empty or invalid CSV") == 0);
	http_body_free(&b);
	/* only len bytes are read */
	CHECK(http_body_read(NULL, "{\"a\":1}garbage", 7, &rows, &b) && strcmp(b.json, "[{\"a\":1}]") == 0);
	http_body_free(&b);

	/* nesting: HTTP_BODY_MAX_DEPTH levels, not one more */
	d = nested(HTTP_BODY_MAX_DEPTH);
	CHECK(http_body_read(NULL, d, strlen(d), &rows, &b) && b.nkeys == 1);
	http_body_free(&b);
	free(d);
	d = nested(HTTP_BODY_MAX_DEPTH + 1);
	CHECK(!http_body_read(NULL, d, strlen(d), &rows, &b) && b.status == 400);
	http_body_free(&b);
	free(d);

	/* rpc: the details of too many arguments; 256 distinct keys are fine */
	{
		char		big[257 * 12 + 4];
		char	   *p = big;

		*p++ = '{';
		for (int i = 0; i < 257; i++)
			p += sprintf(p, "%s\"k%d\":%d", i ? "," : "", i, i);
		strcpy(p, "}");
		CHECK(!http_body_read(J, big, strlen(big), &rpc, &b));
		CHECK_STR(b.message, "Too many arguments");
		CHECK(b.details && strcmp(b.details, "At most 256 arguments are read.") == 0);
		http_body_free(&b);
		p = strrchr(big, ',');
		strcpy(p, "}");
		CHECK(http_body_read(J, big, strlen(big), &rpc, &b) && b.nkeys == 256 && b.details == NULL);
		CHECK_STR(b.keys[255], "k255");
		http_body_free(&b);
	}

	/* many rows with many keys: each row's keys are found by binary search */
	{
		int			nrows = 2000,
					nkeys = 50;
		char	   *big = malloc((size_t) nrows * nkeys * 16 + 16);
		char	   *p = big;

		*p++ = '[';
		for (int r = 0; r < nrows; r++)
		{
			*p++ = r ? ',' : ' ';
			*p++ = '{';
			for (int k = 0; k < nkeys; k++)
				p += sprintf(p, "%s\"c%d\":%d", k ? "," : "", (k + r) % nkeys, r);
			*p++ = '}';
		}
		strcpy(p, "]");
		CHECK(http_body_read(J, big, strlen(big), &rows, &b) && b.nrows == nrows && b.nkeys == nkeys);
		http_body_free(&b);
		/* the last row loses a key: refused */
		p = strrchr(big, ',');
		memmove(p, p + strcspn(p, "}"), strlen(p + strcspn(p, "}")) + 1);
		CHECK(!http_body_read(J, big, strlen(big), &rows, &b) && strcmp(b.message, "All object keys must match") == 0);
		http_body_free(&b);
		free(big);
	}
	return unit_summary("http_body");
}
