/*
 * test/fuzz/fuzz_http_grammar.c
 *	  libFuzzer harness for PostgREST's query-string grammar
 *	  (src/http/grammar.c).  The input is a query string; the first byte
 *	  says whether to name "a" and "b" as RPC arguments.  Any crash, leak,
 *	  out-of-bounds read or undefined behaviour is a failure, and so is an
 *	  error without a message or a tree with a NULL name.
 */
#include "http/grammar.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
check_select(const GrSelect *s, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (s[i].kind == GR_SEL_FIELD && s[i].field.name == NULL)
			abort();
		if (s[i].kind == GR_SEL_EMBED)
		{
			if (s[i].relation == NULL)
				abort();
			check_select(s[i].children, s[i].nchildren);
		}
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const names[] = {"a", "b"};
	char	   *s;
	GrQuery		q;
	GrError		err;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (gr_parse(s, names, (data[0] & 1) ? 2 : 0, &q, &err))
	{
		check_select(q.select, q.nselect);
		for (int i = 0; i < q.nconds; i++)
			if (q.conds[i].cond == NULL)
				abort();
	}
	else if (err.message[0] == '\0')
		abort();
	gr_free(&q);
	free(s);
	return 0;
}
