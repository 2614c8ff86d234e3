/*-------------------------------------------------------------------------
 *
 * src/http/body.c
 *	  A POST, PATCH or PUT body (rows for a table) or an /rpc body (the
 *	  arguments) read as PostgREST 14 reads it (ApiRequest/Payload.hs),
 *	  pure C so that it is unit tested (test/unit/test_http_body.c) and
 *	  fuzzed (test/fuzz/fuzz_http_body.c) outside the server.  write.c and
 *	  rpc.c then check the keys against the schema cache and bind the JSON
 *	  text as one parameter: nothing here becomes SQL text.
 *
 *	  JSON is checked by our own scanner (RFC 8259, UTF-8, no U+0000,
 *	  nesting up to HTTP_BODY_MAX_DEPTH) and passed on as the client sent
 *	  it, so numbers keep every digit: a parser that stores doubles would
 *	  turn 0.1 into 0.10000000000000001 for a numeric column and refuse
 *	  integers past 64 bits.  Rows: an object is one row, an array must
 *	  hold objects with the same keys ("All object keys must match",
 *	  unless columns= names them), an empty array or a scalar is no row.
 *	  RPC: an empty body is {}, an object's keys are the arguments.
 *	  Refusals are PostgREST's: 400 PGRST102 "Empty or invalid json",
 *	  415 PGRST107 for a media type it does not read.
 *
 *	  Every string is malloc'd; a malloc failure aborts the worker (as
 *	  settings.c).  Work is O(n log n) in the body's size: keys are found
 *	  by binary search, never by comparing every pair.
 *
 *-------------------------------------------------------------------------
 */
#include "http/body_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Keys of valid JSON                                               */
/* ---------------------------------------------------------------- */

typedef struct Member
{
	char	   *key;
	const char *value;			/* its JSON text in the body */
	size_t		value_len;
	int			pos;
} Member;

/*
 * The members of the object at s->p (valid JSON), keys decoded; *n set.
 * The array is malloc'd, each key too.
 */
static Member *
object_members(BodyScan *s, int *n)
{
	Member	   *m = NULL;
	int			cap = 0;

	*n = 0;
	http_body_skip_ws(s);
	s->p++;						/* { */
	http_body_skip_ws(s);
	if (*s->p == '}')
	{
		s->p++;
		return NULL;
	}
	for (;;)
	{
		HttpBodyBuf k = {0};
		const char *v;

		http_body_skip_ws(s);
		(void) http_body_scan_string(s, &k);
		http_body_skip_ws(s);
		s->p++;					/* : */
		http_body_skip_ws(s);
		v = s->p;
		(void) http_body_scan_value(s, 2);
		if (*n == cap)
		{
			cap = cap ? cap * 2 : 8;
			m = http_body_xrealloc(m, sizeof(Member) * cap);
		}
		m[*n].key = k.data;
		m[*n].value = v;
		m[*n].value_len = s->p - v;
		m[*n].pos = *n;
		(*n)++;
		http_body_skip_ws(s);
		if (*s->p++ == '}')
			return m;
	}
}

static int
member_cmp(const void *a, const void *b)
{
	const Member *x = a;
	const Member *y = b;
	int			c = strcmp(x->key, y->key);

	return c ? c : x->pos - y->pos;
}

static int
key_cmp(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(char *const *) elem);
}

static void
free_members(Member *m, int n)
{
	for (int i = 0; i < n; i++)
		free(m[i].key);
	free(m);
}

/*
 * The first object's distinct keys in order of first appearance, with
 * the value of the last duplicate (as PostgreSQL's json_populate_record
 * takes it); *sorted: the distinct keys for binary search, pointing into
 * m (which must outlive them).
 */
static void
first_keys(HttpBody *out, Member *m, int n, char ***sorted)
{
	Member	   *by = http_body_xrealloc(NULL, sizeof(Member) * (n + 1));
	int		   *last = http_body_xrealloc(NULL, sizeof(int) * (n + 1));
	bool	   *first = http_body_xrealloc(NULL, sizeof(bool) * (n + 1));
	int			nd = 0;

	if (n > 0)
		memcpy(by, m, sizeof(Member) * n);
	qsort(by, n, sizeof(Member), member_cmp);
	*sorted = http_body_xrealloc(NULL, sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		first[i] = false;
	for (int i = 0; i < n;)
	{
		int			j = i;

		while (j + 1 < n && strcmp(by[j + 1].key, by[i].key) == 0)
			j++;
		first[by[i].pos] = true;
		last[by[i].pos] = by[j].pos;
		(*sorted)[nd++] = by[i].key;
		i = j + 1;
	}
	out->keys = http_body_xrealloc(NULL, sizeof(char *) * (nd + 1));
	out->values = http_body_xrealloc(NULL, sizeof(char *) * (nd + 1));
	out->nkeys = 0;
	for (int i = 0; i < n; i++)
		if (first[i])
		{
			const Member *v = &m[last[i]];

			out->keys[out->nkeys] = http_body_strndup(m[i].key, strlen(m[i].key));
			if (v->value[0] == '"')
			{
				HttpBodyBuf b = {0};
				BodyScan		s = {v->value, v->value + v->value_len};

				(void) http_body_scan_string(&s, &b);
				out->values[out->nkeys] = b.data;
			}
			else
				out->values[out->nkeys] = http_body_strndup(v->value, v->value_len);
			out->nkeys++;
		}
	free(by);
	free(last);
	free(first);
}

/* ---------------------------------------------------------------- */
/* The body                                                         */
/* ---------------------------------------------------------------- */

static const char *const INVALID_JSON = "Empty or invalid json";
static const char *const KEYS_MUST_MATCH = "All object keys must match";

static void
clear_result(HttpBody *b)
{
	for (int i = 0; i < b->nkeys; i++)
	{
		free(b->keys[i]);
		free(b->values[i]);
	}
	free(b->keys);
	free(b->values);
	free(b->json);
	b->keys = b->values = NULL;
	b->json = NULL;
	b->nkeys = b->nrows = 0;
	b->json_len = 0;
}

static bool
refuse(HttpBody *out, int status, const char *code, const char *details, const char *message)
{
	clear_result(out);
	out->status = status;
	out->code = code;
	out->message = http_body_strndup(message, strlen(message));
	out->details = details ? http_body_strndup(details, strlen(details)) : NULL;
	return false;
}

static void
set_json(HttpBody *out, const char *pre, const char *text, size_t len, const char *post)
{
	HttpBodyBuf b = {0};

	http_body_buf_add(&b, pre, strlen(pre));
	http_body_buf_add(&b, text, len);
	http_body_buf_add(&b, post, strlen(post));
	out->json = b.data;
	out->json_len = b.len;
}

/* ASCII letters compared without case, as media types are */
static bool
same_word(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char		x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i];

		if (x != b[i])
			return false;
	}
	return true;
}

/*
 * Content-Type's media type: 'j' application/json (also when absent),
 * 'o' application/vnd.pgrst.object+json, 'c' text/csv, 0 another.
 */
static char
media_type(const char *ct)
{
	size_t		n;

	if (ct == NULL)
		return 'j';
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	if (n == 16 && same_word(ct, "application/json", n))
		return 'j';
	if (n == 33 && same_word(ct, "application/vnd.pgrst.object+json", n))
		return 'o';
	if (n == 8 && same_word(ct, "text/csv", n))
		return 'c';
	return 0;
}

/* rows from valid JSON: an object, an array of objects, else none */
static bool
read_rows(const char *body, size_t len, const HttpBodyOpts *opts, HttpBody *out)
{
	BodyScan		s = {body, body + len};
	Member	   *fm = NULL;
	int			fn = 0;
	char	  **sorted = NULL;
	int		   *stamp = NULL;
	bool		ok = true;
	int			row;

	http_body_skip_ws(&s);
	if (*s.p == '{')
	{
		fm = object_members(&s, &fn);
		first_keys(out, fm, fn, &sorted);
		free(sorted);
		free_members(fm, fn);
		out->shape = HTTP_BODY_OBJECT;
		out->nrows = 1;
		set_json(out, "[", body, len, "]");
		return true;
	}
	if (*s.p != '[')
	{
		/* PostgREST truncates anything else to an empty array */
		out->shape = HTTP_BODY_OTHER;
		set_json(out, "", "[]", 2, "");
		return true;
	}
	out->shape = HTTP_BODY_ARRAY;
	s.p++;
	http_body_skip_ws(&s);
	if (*s.p == ']')
	{
		set_json(out, "", body, len, "");
		return true;
	}
	for (row = 0;; row++)
	{
		http_body_skip_ws(&s);
		if (*s.p != '{')
		{
			ok = false;
			break;
		}
		if (row == 0)
		{
			fm = object_members(&s, &fn);
			first_keys(out, fm, fn, &sorted);
			stamp = http_body_xrealloc(NULL, sizeof(int) * (out->nkeys + 1));
			memset(stamp, 0, sizeof(int) * (out->nkeys + 1));
		}
		else if (opts->columns)
			(void) http_body_scan_value(&s, 2);
		else
		{
			int			n;
			Member	   *m = object_members(&s, &n);
			int			distinct = 0;

			for (int i = 0; i < n && ok; i++)
			{
				char	  **k = bsearch(m[i].key, sorted, out->nkeys, sizeof(char *), key_cmp);

				if (k == NULL)
					ok = false;
				else if (stamp[k - sorted] != row)
				{
					stamp[k - sorted] = row;
					distinct++;
				}
			}
			free_members(m, n);
			if (!ok || distinct != out->nkeys)
			{
				ok = false;
				break;
			}
		}
		http_body_skip_ws(&s);
		if (*s.p++ == ']')
			break;
	}
	free(sorted);
	free(stamp);
	free_members(fm, fn);
	if (!ok)
		return refuse(out, 400, "PGRST102", NULL, KEYS_MUST_MATCH);
	out->nrows = row + 1;
	set_json(out, "", body, len, "");
	return true;
}

/* /rpc arguments: none is {}, an object's keys, else the whole body */
static bool
read_args(const char *body, size_t len, const HttpBodyOpts *opts, HttpBody *out)
{
	BodyScan		s = {body, body + len};

	out->nrows = 1;
	if (len == 0)
	{
		out->shape = HTTP_BODY_OBJECT;
		set_json(out, "", "{}", 2, "");
		return true;
	}
	if (!http_body_json_valid(body, len))
		return refuse(out, 400, "PGRST102", NULL, INVALID_JSON);
	set_json(out, "", body, len, "");
	http_body_skip_ws(&s);
	if (*s.p != '{')
	{
		out->shape = HTTP_BODY_OTHER;
		return true;
	}
	{
		int			n;
		Member	   *m = object_members(&s, &n);
		char	  **sorted;

		first_keys(out, m, n, &sorted);
		free(sorted);
		free_members(m, n);
	}
	out->shape = HTTP_BODY_OBJECT;
	if (opts->max_keys > 0 && out->nkeys > opts->max_keys)
	{
		char		det[64];

		snprintf(det, sizeof(det), "At most %d arguments are read.", opts->max_keys);
		return refuse(out, 400, "PGRST102", det, "Too many arguments");
	}
	return true;
}

bool
http_body_read(const char *content_type, const char *body, size_t len,
			   const HttpBodyOpts *opts, HttpBody *out)
{
	char		mt = media_type(content_type);

	memset(out, 0, sizeof(*out));
	if (body == NULL)
		len = 0;
	if (mt == 0 || (opts->rpc && mt != 'j'))
	{
		const char *pre = "None of these media types are available: ";
		HttpBodyBuf m = {0};
		bool		r;

		http_body_buf_add(&m, pre, strlen(pre));
		http_body_buf_add(&m, content_type, strlen(content_type));
		r = refuse(out, 415, "PGRST107", NULL, m.data);
		free(m.data);
		return r;
	}
	if (opts->rpc)
		return read_args(body ? body : "", len, opts, out);
	if (mt == 'c')
	{
		const char *why = NULL;
		size_t		jlen;
		char	   *json = http_body_csv_to_json(body ? body : "", len, &jlen, &why);
		bool		ok;

		if (json == NULL)
			return refuse(out, 400, "PGRST102", NULL, why);
		out->csv = true;
		/* made by us: invalid JSON here is a bug the fuzzer would find */
		ok = http_body_json_valid(json, jlen) ? read_rows(json, jlen, opts, out)
			: refuse(out, 400, "PGRST102", NULL, INVALID_JSON);
		free(json);
		return ok;
	}
	if (!http_body_json_valid(body ? body : "", len))
		return refuse(out, 400, "PGRST102", NULL, INVALID_JSON);
	return read_rows(body, len, opts, out);
}

void
http_body_free(HttpBody *b)
{
	clear_result(b);
	free(b->message);
	free(b->details);
	b->message = b->details = NULL;
}
