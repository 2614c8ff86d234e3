/*-------------------------------------------------------------------------
 *
 * src/live/json_text.h
 *	  A JSON value of an exchange's reply or message as text, for the
 *	  pure-C readers of the live part (route_parse.c, reconcile_fetch.c,
 *	  reconcile_trades.c, userstream_parse.c): ids, prices and quantities
 *	  come as strings from some exchanges and as integers from others.
 *	  Inline, so that each reader's link set (unit tests, fuzzers) needs
 *	  no other file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_JSON_TEXT_H
#define LIVE_JSON_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* v's text into dst (n bytes, truncated) when v is a string or an integer; else "" */
static inline void
live_json_text(char *dst, size_t n, const json_t *v)
{
	if (json_is_string(v))
		snprintf(dst, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(dst, n, "%lld", (long long) json_integer_value(v));
	else
		dst[0] = '\0';
}

#endif							/* LIVE_JSON_TEXT_H */
