/*-------------------------------------------------------------------------
 *
 * src/feed/feed_normalize.c
 *	  What every exchange parser shares: typed JSON field access, symbol
 *	  normalization, decimal and RFC 3339 parsing, and the way a malformed
 *	  frame is reported.
 *
 * Pure C with jansson; see feed_event.h and feed_json.h for contracts.
 *
 *-------------------------------------------------------------------------
 */
#include "feed_json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zvt_time.h"
#include "feed_subscribe.h"

/* Quote currencies recognized at the end of concatenated symbols, longest first. */
static const char *const quotes[] = {
	"FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDE", "DAI", "USD", "EUR", "GBP", "TRY",
	"BRL", "JPY", "BTC", "ETH", "BNB", NULL
};

bool
feed_parse_decimal(const char *s, double *out)
{
	char	   *end;
	double		v;

	if (!s || !*s || isspace((unsigned char) *s))
		return false;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

void
feed_funding_init(FeedEvent *e)
{
	e->mark_price = e->index_price = e->funding_rate = e->open_interest = NAN;
	e->funding_ts = 0;
}

bool
fj_str(json_t *obj, const char *key, const char **out)
{
	json_t	   *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	return true;
}

static bool
decimal_value(json_t *v, double *out)
{
	if (json_is_string(v))
		return feed_parse_decimal(json_string_value(v), out);
	if (json_is_number(v))
	{
		*out = json_number_value(v);
		return isfinite(*out);
	}
	return false;
}

bool
fj_decimal(json_t *obj, const char *key, double *out)
{
	return decimal_value(json_object_get(obj, key), out);
}

bool
fj_decimal_at(json_t *arr, size_t i, double *out)
{
	return decimal_value(json_array_get(arr, i), out);
}

bool
feed_ms(int64_t ms, int64_t *us)
{
	if (ms < 0 || ms > INT64_C(100000000000000))
		return false;
	*us = ms * 1000;
	return true;
}

bool
feed_secs(int64_t secs, int64_t *us)
{
	if (secs < 0 || secs > INT64_C(100000000000))
		return false;
	*us = secs * 1000000;
	return true;
}

static bool int_value(json_t *v, int64_t *out);

bool
fj_int(json_t *obj, const char *key, int64_t *out)
{
	return int_value(json_object_get(obj, key), out);
}

bool
fj_int_at(json_t *arr, size_t i, int64_t *out)
{
	return int_value(json_array_get(arr, i), out);
}

/* An integer, or a string holding only one; false on overflow. */
static bool
int_value(json_t *v, int64_t *out)
{
	if (json_is_integer(v))
	{
		*out = (int64_t) json_integer_value(v);
		return true;
	}
	if (json_is_string(v))
	{
		const char *s = json_string_value(v);
		char	   *end;
		long long	n;

		if (!*s)
			return false;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*end != '\0' || errno == ERANGE)
			return false;
		*out = (int64_t) n;
		return true;
	}
	return false;
}

bool
fj_bool(json_t *obj, const char *key, bool *out)
{
	json_t	   *v = json_object_get(obj, key);

	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

int
feed_reject(FeedFrame *frame, const char *fmt,...)
{
	va_list		ap;

	frame->kind = FEED_FRAME_MALFORMED;
	va_start(ap, fmt);
	vsnprintf(frame->reason, sizeof(frame->reason), fmt, ap);
	va_end(ap);
	return 0;
}

json_t *
feed_load(const char *msg, size_t len, FeedFrame *frame)
{
	json_error_t err;
	json_t	   *root;

	frame->kind = FEED_FRAME_DATA;
	frame->conn_seq = -1;
	frame->reason[0] = '\0';
	root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		feed_reject(frame, "not JSON: %s at column %d", err.text, err.column);
	else if (!json_is_object(root))
	{
		feed_reject(frame, "not a JSON object");
		json_decref(root);
		root = NULL;
	}
	return root;
}

bool
feed_split_concat(const char *raw, bool perp, char *out, size_t outlen)
{
	size_t		n = strlen(raw);

	for (int i = 0; quotes[i]; i++)
	{
		size_t		q = strlen(quotes[i]);

		if (n > q && strcmp(raw + n - q, quotes[i]) == 0)
		{
			int			w = snprintf(out, outlen, "%.*s-%s%s", (int) (n - q), raw, quotes[i],
									 perp ? "-PERP" : "");

			return w > 0 && (size_t) w < outlen;
		}
	}
	return false;
}

bool
feed_normalize_dashed(const char *raw, char *out, size_t outlen)
{
	const char *d1 = strchr(raw, '-');
	const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
	int			w;

	if (!d1 || d1 == raw || d1[1] == '\0' || d1[1] == '-')
		return false;
	if (!d2)
		w = snprintf(out, outlen, "%s", raw);
	else if (strcmp(d2, "-SWAP") == 0)
		w = snprintf(out, outlen, "%.*s-PERP", (int) (d2 - raw), raw);
	else
		return false;			/* dated futures and options are not zvt instruments */
	return w > 0 && (size_t) w < outlen;
}

bool
feed_parse_rfc3339(const char *s, int64_t *us)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	int			n = 0;
	int64_t		frac = 0;
	int			digits = 0;
	const char *p;
	int64_t		days;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	p = s + n;
	if (*p == '.')
	{
		for (p++; isdigit((unsigned char) *p); p++, digits++)
			if (digits < 6)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	days = zt_days_from_civil(y, mo, d);
	*us = (days * 86400 + h * 3600 + mi * 60 + sec) * INT64_C(1000000) + frac;
	return true;
}

int
feed_channel_seconds(const char *channel)
{
	static const struct
	{
		const char *name;
		int			secs;
	}			map[] = {
		{"candles_1m", 60}, {"candles_5m", 300}, {"candles_15m", 900},
		{"candles_1h", 3600}, {"candles_4h", 14400}, {"candles_1d", 86400}
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(channel, map[i].name) == 0)
			return map[i].secs;
	return 0;
}
