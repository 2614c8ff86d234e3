/*
 * test/fuzz/fuzz_http_body.c
 *	  libFuzzer harness for the HTTP front's request bodies
 *	  (src/http/body.c, body_json.c, body_csv.c): the rows of a POST,
 *	  PATCH or PUT and the arguments of an /rpc call.
 *
 * The first byte picks the request: bit 0 /rpc (at most 4 arguments),
 * bit 1 columns=, bits 2-4 the Content-Type (none, JSON, JSON with a
 * charset, CSV, the singular object type, CSV in capitals, text/plain, or
 * the rest's first line), bit 5 no body at all.  The rest is the body,
 * copied to a buffer of exactly its length.
 *
 * Oracles beyond "no crash": a refusal has status 400 or 415, the
 * matching code, a message and no result; a CSV body is refused with
 * CSV's messages only (never for JSON we made ourselves).  An accepted
 * body's keys are distinct, NUL-terminated, valid UTF-8 and survive a
 * round trip (written as a JSON string, read back the same); its JSON
 * text has no NUL inside and, read again as a JSON body, gives the same
 * rows and keys; an /rpc body is handed over byte for byte.  And jansson
 * as a second opinion: JSON it reads must be accepted, with the same keys
 * in the same order (unless it stopped at a NUL byte, which we refuse);
 * JSON it refuses must be refused, unless jansson only objects to a
 * number's size (we pass numbers on as sent).
 */
#include "http/body_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FUZZ_MAX_KEYS 4

static const char *const types[] = {
	NULL, "application/json", "application/json; charset=utf-8", "text/csv",
	"application/vnd.pgrst.object+json", "TEXT/CSV ;header=present", "text/plain", NULL
};

static void
check_keys(const HttpBody *b)
{
	for (int i = 0; i < b->nkeys; i++)
	{
		HttpBodyBuf j = {0};
		HttpBodyBuf back = {0};
		BodyScan	s;
		size_t		n = strlen(b->keys[i]);

		if (b->values[i] == NULL || !http_body_utf8_valid((const unsigned char *) b->keys[i], n))
			abort();
		for (int k = 0; k < i; k++)
			if (strcmp(b->keys[k], b->keys[i]) == 0)
				abort();
		/* the name round-trips through a JSON string */
		http_body_buf_json_string(&j, b->keys[i], n);
		s.p = j.data;
		s.end = j.data + j.len;
		if (!http_body_scan_string(&s, &back) || s.p != s.end || strcmp(back.data, b->keys[i]) != 0)
			abort();
		free(j.data);
		free(back.data);
	}
}

static void
check_refused(const HttpBody *b, bool rpc, bool csv)
{
	if (b->status == 400)
	{
		if (b->code == NULL || strcmp(b->code, "PGRST102") != 0)
			abort();
	}
	else if (b->status != 415 || b->code == NULL || strcmp(b->code, "PGRST107") != 0)
		abort();
	if (b->message == NULL || b->message[0] == '\0' || b->json != NULL || b->nkeys != 0 || b->keys)
		abort();
	if (csv && b->status == 400 && strcmp(b->message, "Empty or invalid CSV") != 0 &&
		strcmp(b->message, "All lines must have same number of fields") != 0)
		abort();
	if ((b->details != NULL) != (rpc && strcmp(b->message, "Too many arguments") == 0))
		abort();
}

/* jansson's reading of a JSON body, against ours */
static void
second_opinion(const char *body, size_t len, bool accepted, const HttpBody *b, bool rpc)
{
	json_error_t err;
	json_t	   *root;
	size_t		depth = 0;

	for (size_t i = 0; i < len; i++)
		depth += body[i] == '[' || body[i] == '{';
	if (depth >= HTTP_BODY_MAX_DEPTH - 8)
		return;					/* the two count nesting differently */
	root = json_loadb(body, len, JSON_DECODE_ANY, &err);
	if (root == NULL)
	{
		if (accepted && strstr(err.text, "too big") == NULL && strstr(err.text, "overflow") == NULL)
			abort();
		return;
	}
	if (!accepted && memchr(body, '\0', len) != NULL)
		;						/* jansson stops at a NUL byte, we refuse it */
	else if (!accepted)
	{
		/* only keys (too many arguments, keys that differ) may refuse valid JSON */
		if (strcmp(b->message, "Too many arguments") != 0 &&
			strcmp(b->message, "All object keys must match") != 0)
			abort();
	}
	else if (json_is_object(root))
	{
		const char *k;
		json_t	   *v;
		int			i = 0;

		if (json_object_size(root) != (size_t) b->nkeys)
			abort();
		json_object_foreach(root, k, v)
		{
			(void) v;
			if (strcmp(k, b->keys[i++]) != 0)
				abort();
		}
	}
	else if (rpc && b->nkeys != 0)
		abort();
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	HttpBodyOpts o;
	HttpBody	b;
	const char *ct;
	char	   *custom = NULL;
	char	   *body;
	size_t		len;
	bool		ok;
	bool		csv;
	bool		json;
	bool		none;
	unsigned char flags;

	if (size < 1)
		return 0;
	flags = data[0];
	memset(&o, 0, sizeof(o));
	o.rpc = flags & 1;
	o.columns = (flags & 2) != 0;
	o.max_keys = o.rpc ? FUZZ_MAX_KEYS : 0;
	none = (flags & 32) != 0;
	ct = types[(flags >> 2) & 7];
	data++, size--;
	if (((flags >> 2) & 7) == 7)
	{
		const unsigned char *nl = memchr(data, '\n', size);
		size_t		n = nl ? (size_t) (nl - data) : size;

		custom = malloc(n + 1);
		memcpy(custom, data, n);
		custom[n] = '\0';
		ct = custom;
		data += nl ? n + 1 : n;
		size -= nl ? n + 1 : n;
	}
	body = malloc(size ? size : 1);
	memcpy(body, data, size);
	len = size;

	ok = http_body_read(ct, none ? NULL : body, len, &o, &b);
	csv = ct && strncmp(ct, "text/csv", 8) == 0;
	json = !none && (ct == NULL || strcmp(ct, "application/json") == 0 ||
								 strcmp(ct, "application/json; charset=utf-8") == 0 ||
								 (!o.rpc && strcmp(ct, "application/vnd.pgrst.object+json") == 0)) &&
		!(o.rpc && len == 0);
	if (!ok)
		check_refused(&b, o.rpc, csv && !o.rpc);
	else
	{
		HttpBody	again;
		HttpBodyOpts ro = {.columns = o.columns};

		if (b.status != 0 || b.message != NULL || b.json == NULL || strlen(b.json) != b.json_len ||
			(b.keys == NULL) != (b.values == NULL) || b.nrows < 0)
			abort();
		check_keys(&b);
		if (o.rpc)
		{
			if (b.nkeys > FUZZ_MAX_KEYS || b.nrows != 1)
				abort();
			if (none || len == 0 ? strcmp(b.json, "{}") != 0
				: b.json_len != len || memcmp(b.json, body, len) != 0)
				abort();
		}
		else
		{
			if ((b.shape == HTTP_BODY_OBJECT && b.nrows != 1) ||
				(b.shape == HTTP_BODY_OTHER && (b.nrows != 0 || b.nkeys != 0)) ||
				(b.nrows == 0 && b.nkeys != 0))
				abort();
			/* the JSON handed over, read again, is the same rows */
			if (!http_body_read("application/json", b.json, b.json_len, &ro, &again) ||
				again.nrows != b.nrows || again.nkeys != b.nkeys ||
				(b.shape != HTTP_BODY_OTHER && again.shape != HTTP_BODY_ARRAY))
				abort();
			for (int i = 0; i < b.nkeys; i++)
				if (strcmp(again.keys[i], b.keys[i]) != 0 || strcmp(again.values[i], b.values[i]) != 0)
					abort();
			http_body_free(&again);
		}
	}
	if (json)
		second_opinion(body, len, ok, &b, o.rpc);
	http_body_free(&b);
	free(body);
	free(custom);
	return 0;
}
