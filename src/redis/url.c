/*-------------------------------------------------------------------------
 *
 * src/redis/url.c
 *	  Parse zvt.redis_url (url.h).
 *
 * The grammar is the one redis-cli -u and most clients take:
 *   redis[s]://[[user][:password]@]host[:port][/db]
 * host is a name, an IPv4 address or a bracketed IPv6 address; port is
 * 1..65535 (6379 when absent); db is a decimal 0..65535 (0 when absent).
 * User and password are percent-decoded (a password may hold ':' or '@'
 * only encoded).  No query string, no fragment.  Pure C: no allocation,
 * every part bounded by REDIS_URL_PART_LEN.
 *
 *-------------------------------------------------------------------------
 */
#include "redis/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"

static bool copy_decoded(const char *s, size_t len, char *out, size_t outlen);
static bool parse_number(const char *s, size_t len, long min, long max, long *out);

/* s[0..len) percent-decoded into out; false if malformed or too long. */
static bool
copy_decoded(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c == '%')
		{
			int			hi,
						lo;

			if (i + 2 >= len)
				return false;
			hi = hex_digit_value(s[i + 1]);
			lo = hex_digit_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char) (hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* Decimal digits only, within [min, max]. */
static bool
parse_number(const char *s, size_t len, long min, long max, long *out)
{
	long		v = 0;

	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

#define FAIL(...) do { snprintf(reason, reasonlen, __VA_ARGS__); return false; } while (0)

bool
redis_url_parse(const char *url, RedisUrl *out, char *reason, int reasonlen)
{
	const char *p;
	const char *end;
	const char *at;
	const char *hostend;
	const char *slash;
	long		v;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "redis://", 8) == 0)
		p = url + 8;
	else if (strncmp(url, "rediss://", 9) == 0)
	{
		out->tls = true;
		p = url + 9;
	}
	else
		FAIL("The URL must start with redis:// or rediss://");
	end = p + strlen(p);
	if (strpbrk(p, "?#") != NULL)
		FAIL("A query string or fragment is not allowed");
	for (const char *q = p; q < end; q++)
		if ((unsigned char) *q <= ' ' || *q == 0x7f)
			FAIL("Spaces and control characters are not allowed");

	/* the authority ends at the first '/' after the last '@' */
	at = NULL;
	slash = strchr(p, '/');
	for (const char *q = p; q < (slash ? slash : end); q++)
		if (*q == '@')
			at = q;
	if (at)
	{
		const char *colon = memchr(p, ':', at - p);
		size_t		ulen = colon ? (size_t) (colon - p) : (size_t) (at - p);

		if (!copy_decoded(p, ulen, out->user, sizeof(out->user)))
			FAIL("The user name is malformed or longer than %d bytes", REDIS_URL_PART_LEN - 1);
		if (colon)
		{
			if (!copy_decoded(colon + 1, at - colon - 1, out->password, sizeof(out->password)))
				FAIL("The password is malformed or longer than %d bytes", REDIS_URL_PART_LEN - 1);
			out->has_password = true;
		}
		else if (out->user[0] != '\0')
		{
			/* redis://secret@host: a lone userinfo is the password (redis-cli) */
			memcpy(out->password, out->user, sizeof(out->password));
			out->user[0] = '\0';
			out->has_password = true;
		}
		p = at + 1;
	}

	/* host, bracketed for IPv6 */
	if (*p == '[')
	{
		const char *close = strchr(p, ']');

		if (close == NULL || close == p + 1 || (size_t) (close - p - 1) >= sizeof(out->host))
			FAIL("The bracketed IPv6 host is malformed");
		memcpy(out->host, p + 1, close - p - 1);
		out->host[close - p - 1] = '\0';
		hostend = close + 1;
		if (*hostend != '\0' && *hostend != ':' && *hostend != '/')
			FAIL("Unexpected text after the IPv6 host");
	}
	else
	{
		hostend = p + strcspn(p, ":/");
		if (hostend == p)
			FAIL("The host is missing");
		if ((size_t) (hostend - p) >= sizeof(out->host))
			FAIL("The host is longer than %d bytes", REDIS_URL_PART_LEN - 1);
		for (const char *q = p; q < hostend; q++)
			if (!isalnum((unsigned char) *q) && *q != '-' && *q != '.' && *q != '_')
				FAIL("The host may hold letters, digits, '-', '.' and '_' only");
		memcpy(out->host, p, hostend - p);
		out->host[hostend - p] = '\0';
	}
	p = hostend;
	if (*p == ':')
	{
		size_t		len = strcspn(p + 1, "/");

		if (!parse_number(p + 1, len, 1, 65535, &v))
			FAIL("The port must be a number from 1 to 65535");
		out->port = (int) v;
		p += 1 + len;
	}
	if (*p == '/')
	{
		p++;
		if (*p != '\0')
		{
			if (!parse_number(p, strlen(p), 0, 65535, &v))
				FAIL("The database must be a number from 0 to 65535");
			out->db = (int) v;
		}
	}
	else if (*p != '\0')
		FAIL("Unexpected text after the host");
	return true;
}
