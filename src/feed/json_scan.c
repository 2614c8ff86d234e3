/*-------------------------------------------------------------------------
 *
 * src/feed/json_scan.c
 *	  The strict JSON scanner of the REST history pages; see json_scan.h.
 *
 * Numbers follow RFC 8259 exactly (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?),
 * the literals are true, false and null, whitespace is space, tab, CR
 * and LF.  Decimals: a plain one of at most 19 significant digits whose
 * integer fits in 2^53 and with at most 22 decimals is one exact division
 * of two exactly representable doubles, so it is the correctly rounded
 * value strtod gives (Clinger's fast path); any other goes to
 * feed_parse_decimal itself.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/json_scan.h"

#include <string.h>

#include "feed/feed_event.h"

static bool skip_container(JsScan *s, int depth);
static bool int_text(const char *s, size_t len, int64_t *out);

static inline void
skip_ws(JsScan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

bool
js_eat(JsScan *s, char c)
{
	skip_ws(s);
	if (s->p < s->end && *s->p == c)
	{
		s->p++;
		return true;
	}
	return false;
}

bool
js_at_end(JsScan *s)
{
	skip_ws(s);
	return s->p == s->end;
}

bool
js_string(JsScan *s, JsTok *t)
{
	const char *p;

	if (!js_eat(s, '"'))
		return false;
	for (p = s->p; p < s->end && *p != '"'; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x80 || *p == '\\')
			return false;		/* escapes, controls, UTF-8: jansson decides */
	if (p == s->end)
		return false;
	t->type = JS_STRING;
	t->s = s->p;
	t->len = (size_t) (p - s->p);
	s->p = p + 1;
	return true;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An RFC 8259 number at s->p. */
static bool
number(JsScan *s, JsTok *t)
{
	const char *p = s->p;
	const char *e = s->end;

	t->type = JS_INT;
	t->s = p;
	if (p < e && *p == '-')
		p++;
	if (p == e || !is_digit(*p))
		return false;
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.')
	{
		p++;
		if (p == e || !is_digit(*p))
			return false;
		while (p < e && is_digit(*p))
			p++;
		t->type = JS_REAL;
	}
	if (p < e && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e || !is_digit(*p))
			return false;
		while (p < e && is_digit(*p))
			p++;
		t->type = JS_REAL;
	}
	t->len = (size_t) (p - s->p);
	s->p = p;
	/* jansson refuses a page with an integer beyond int64 or a real beyond double */
	if (t->type == JS_INT)
	{
		int64_t		n;

		return int_text(t->s, t->len, &n);
	}
	else
	{
		double		d;

		return js_decimal_text(t->s, t->len, &d);
	}
}

static bool
literal(JsScan *s, const char *word, JsType type, JsTok *t)
{
	size_t		n = strlen(word);

	if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	t->type = type;
	t->s = s->p;
	t->len = n;
	s->p += n;
	return true;
}

static bool
value(JsScan *s, JsTok *t, int depth)
{
	const char *start;

	skip_ws(s);
	if (s->p == s->end)
		return false;
	start = s->p;
	switch (*s->p)
	{
		case '"':
			return js_string(s, t);
		case '{':
		case '[':
			t->type = *s->p == '{' ? JS_OBJECT : JS_ARRAY;
			if (!skip_container(s, depth + 1))
				return false;
			t->s = start;
			t->len = (size_t) (s->p - start);
			return true;
		case 't':
			return literal(s, "true", JS_TRUE, t);
		case 'f':
			return literal(s, "false", JS_FALSE, t);
		case 'n':
			return literal(s, "null", JS_NULL, t);
		default:
			return number(s, t);
	}
}

/* An object or array at s->p, checked (keys not repeated) and skipped. */
static bool
skip_container(JsScan *s, int depth)
{
	JsTok		t;

	if (depth > JS_MAX_DEPTH)
		return false;
	if (js_eat(s, '['))
	{
		if (js_eat(s, ']'))
			return true;
		do
		{
			if (!value(s, &t, depth))
				return false;
		} while (js_eat(s, ','));
		return js_eat(s, ']');
	}
	if (js_eat(s, '{'))
	{
		JsKeys		keys;

		keys.n = 0;
		if (js_eat(s, '}'))
			return true;
		do
		{
			JsTok		k;

			if (!js_string(s, &k) || !js_key_new(&keys, k.s, k.len) || !js_eat(s, ':') ||
				!value(s, &t, depth))
				return false;
		} while (js_eat(s, ','));
		return js_eat(s, '}');
	}
	return false;
}

bool
js_value(JsScan *s, JsTok *t)
{
	return value(s, t, 0);
}

bool
js_key_new(JsKeys *k, const char *key, size_t len)
{
	for (int i = 0; i < k->n; i++)
		if (k->len[i] == len && memcmp(k->s[i], key, len) == 0)
			return false;
	if (k->n == JS_MAX_KEYS)
		return false;
	k->s[k->n] = key;
	k->len[k->n] = len;
	k->n++;
	return true;
}

bool
js_is(const JsTok *t, const char *word)
{
	return strlen(word) == t->len && memcmp(t->s, word, t->len) == 0;
}

/* -?[0-9]+ of len bytes -> int64; false on anything else or overflow. */
static bool
int_text(const char *s, size_t len, int64_t *out)
{
	bool		neg = len > 0 && s[0] == '-';
	size_t		i = neg ? 1 : 0;
	uint64_t	v = 0;

	if (i == len)
		return false;
	for (; i < len; i++)
	{
		if (!is_digit(s[i]) || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > (uint64_t) INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return true;
}

bool
js_int(const JsTok *t, int64_t *out)
{
	if (t->type != JS_INT && t->type != JS_STRING)
		return false;
	return int_text(t->s, t->len, out);
}

bool
js_decimal_text(const char *s, size_t len, double *out)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	bool		neg = len > 0 && s[0] == '-';
	size_t		i = neg ? 1 : 0;
	uint64_t	m = 0;
	int			digits = 0,
				frac = 0,
				sig = 0;
	bool		dot = false;
	char		buf[64];

	for (; i < len; i++)
	{
		if (s[i] == '.' && !dot && digits > 0)
		{
			dot = true;
			continue;
		}
		if (!is_digit(s[i]))
			break;
		digits++;
		if (dot)
			frac++;
		if (m > 0 || s[i] != '0')
			sig++;
		if (sig <= 19)
			m = m * 10 + (uint64_t) (s[i] - '0');
	}
	if (i == len && digits > 0 && s[len - 1] != '.' && sig <= 19 && frac <= 22 &&
		m <= (UINT64_C(1) << 53))
	{
		double		v = (double) m / pow10[frac];

		*out = neg ? -v : v;
		return true;
	}
	/* everything else exactly as the adapters read it */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return feed_parse_decimal(buf, out);
}

bool
js_decimal(const JsTok *t, double *out)
{
	int64_t		n;

	switch (t->type)
	{
		case JS_INT:
			/* jansson: json_integer_value as a double */
			if (!int_text(t->s, t->len, &n))
				return false;
			*out = (double) n;
			return true;
		case JS_REAL:
		case JS_STRING:
			return js_decimal_text(t->s, t->len, out);
		default:
			return false;
	}
}

bool
js_bool(const JsTok *t, bool *out)
{
	if (t->type != JS_TRUE && t->type != JS_FALSE)
		return false;
	*out = t->type == JS_TRUE;
	return true;
}
