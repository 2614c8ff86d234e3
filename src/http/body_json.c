/*-------------------------------------------------------------------------
 *
 * src/http/body_json.c
 *	  The JSON syntax of request bodies (body.c): a scanner that checks
 *	  RFC 8259 over UTF-8 (RFC 3629) without building a tree, decodes
 *	  strings (escapes, surrogate pairs) when asked, refuses U+0000 (which
 *	  PostgreSQL's text cannot hold) and nesting past HTTP_BODY_MAX_DEPTH,
 *	  and reads numbers of any length, as PostgreSQL's json does; plus the
 *	  growing buffers body.c and body_csv.c write JSON text into.  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#include "http/body_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"

void *
http_body_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *
http_body_strndup(const char *s, size_t n)
{
	char	   *r = http_body_xrealloc(NULL, n + 1);

	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

void
http_body_buf_add(HttpBodyBuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->data = http_body_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* s (valid UTF-8 without NUL) as a JSON string */
void
http_body_buf_json_string(HttpBodyBuf *b, const char *s, size_t n)
{
	http_body_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			http_body_buf_add(b, esc, 2);
		}
		else if (c < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			http_body_buf_add(b, esc, 6);
		}
		else
			http_body_buf_add(b, s + i, 1);
	}
	http_body_buf_add(b, "\"", 1);
}

/* RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF */
bool
http_body_utf8_valid(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		int			more;
		uint32_t	cp;
		uint32_t	min;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			more = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= (size_t) more)
			return false;
		for (int k = 1; k <= more; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += more + 1;
	}
	return true;
}

/* ---------------------------------------------------------------- */
/* The scanner: p moves over valid JSON or the call returns false   */
/* ---------------------------------------------------------------- */


void
http_body_skip_ws(BodyScan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hex4(const char *p)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			d = hex_digit_value((unsigned char) p[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

static void
add_utf8(HttpBodyBuf *b, uint32_t cp)
{
	char		u[4];
	size_t		n;

	if (cp < 0x80)
		u[0] = (char) cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char) (0xC0 | (cp >> 6)), u[1] = (char) (0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char) (0xE0 | (cp >> 12)), u[1] = (char) (0x80 | ((cp >> 6) & 0x3F)),
			u[2] = (char) (0x80 | (cp & 0x3F)), n = 3;
	else
		u[0] = (char) (0xF0 | (cp >> 18)), u[1] = (char) (0x80 | ((cp >> 12) & 0x3F)),
			u[2] = (char) (0x80 | ((cp >> 6) & 0x3F)), u[3] = (char) (0x80 | (cp & 0x3F)), n = 4;
	http_body_buf_add(b, u, n);
}

/*
 * A string at s->p ('"'), decoded into out when out is not NULL.  The
 * body's UTF-8 was checked before; here: escapes, surrogate pairs, no
 * control character, no U+0000 (PostgreSQL's text cannot hold it).
 */
bool
http_body_scan_string(BodyScan *s, HttpBodyBuf *out)
{
	const char *run;

	if (s->p >= s->end || *s->p != '"')
		return false;
	run = ++s->p;
	while (s->p < s->end)
	{
		unsigned char c = (unsigned char) *s->p;

		if (c == '"' || c == '\\')
		{
			if (out)
				http_body_buf_add(out, run, s->p - run);
			if (c == '"')
			{
				s->p++;
				if (out && out->data == NULL)
					http_body_buf_add(out, "", 0);
				return true;
			}
			if (s->end - s->p < 2)
				return false;
			c = (unsigned char) s->p[1];
			if (c == 'u')
			{
				int			v;
				uint32_t	cp;

				if (s->end - s->p < 6 || (v = hex4(s->p + 2)) < 0 || v == 0)
					return false;
				s->p += 6;
				cp = (uint32_t) v;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					int			lo;

					if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
						(lo = hex4(s->p + 2)) < 0xDC00 || lo > 0xDFFF)
						return false;
					s->p += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t) lo - 0xDC00);
				}
				if (out)
					add_utf8(out, cp);
			}
			else
			{
				const char *from = "\"\\/bfnrt";
				const char *to = "\"\\/\b\f\n\r\t";
				const char *k = c ? strchr(from, c) : NULL;

				if (k == NULL)
					return false;
				if (out)
					http_body_buf_add(out, to + (k - from), 1);
				s->p += 2;
			}
			run = s->p;
		}
		else if (c < 0x20)
			return false;
		else
			s->p++;
	}
	return false;
}

static bool
scan_digits(BodyScan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/* any number of digits: PostgreSQL's json and numeric read them all */
static bool
scan_number(BodyScan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!scan_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.')
	{
		s->p++;
		if (!scan_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
	{
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return false;
	}
	return true;
}

static bool
scan_word(BodyScan *s, const char *w)
{
	size_t		n = strlen(w);

	if ((size_t) (s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}


/* the members of an object or the elements of an array, after the bracket */
static bool
scan_members(BodyScan *s, int depth, bool object)
{
	char		close = object ? '}' : ']';

	http_body_skip_ws(s);
	if (s->p < s->end && *s->p == close)
	{
		s->p++;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			http_body_skip_ws(s);
			if (!http_body_scan_string(s, NULL))
				return false;
			http_body_skip_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
		}
		if (!http_body_scan_value(s, depth + 1))
			return false;
		http_body_skip_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == close)
		{
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
	}
}

bool
http_body_scan_value(BodyScan *s, int depth)
{
	if (depth > HTTP_BODY_MAX_DEPTH)
		return false;
	http_body_skip_ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p)
	{
		case '{':
		case '[':
			return scan_members(s, depth, *s->p++ == '{');
		case '"':
			return http_body_scan_string(s, NULL);
		case 't':
			return scan_word(s, "true");
		case 'f':
			return scan_word(s, "false");
		case 'n':
			return scan_word(s, "null");
		default:
			return scan_number(s);
	}
}

/* the whole body is one JSON value (whitespace around it) */
bool
http_body_json_valid(const char *body, size_t len)
{
	BodyScan		s = {body, body + len};

	if (!http_body_utf8_valid((const unsigned char *) body, len) || !http_body_scan_value(&s, 1))
		return false;
	http_body_skip_ws(&s);
	return s.p == s.end;
}
