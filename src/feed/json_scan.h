/*-------------------------------------------------------------------------
 *
 * src/feed/json_scan.h
 *	  A strict, allocation-free JSON scanner for the REST history pages
 *	  (history_scan.c): values read in place, no tree.
 *
 * Pure C (no jansson, no PostgreSQL header).  It is narrower than JSON on
 * purpose: a string with an escape or a byte outside printable ASCII, a
 * number with an exponent where an exact integer is wanted, more than
 * JS_MAX_KEYS keys in an object or JS_MAX_DEPTH nesting make it give up
 * (false), and the caller then parses the page with jansson, which
 * decides and words the error.  So whatever it accepts, jansson (with
 * JSON_REJECT_DUPLICATES) accepts with the same values: duplicate keys
 * are refused at every level, trailing bytes too.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_JSON_SCAN_H
#define FEED_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JS_MAX_KEYS		32
#define JS_MAX_DEPTH	32

typedef enum JsType
{
	JS_STRING, JS_INT, JS_REAL, JS_TRUE, JS_FALSE, JS_NULL, JS_OBJECT, JS_ARRAY
} JsType;

/* One value: a string's bytes between its quotes, a number's text, a container's whole text. */
typedef struct JsTok
{
	JsType		type;
	const char *s;
	size_t		len;
} JsTok;

typedef struct JsScan
{
	const char *p;
	const char *end;
} JsScan;

/* The keys of one object so far, to refuse a repeat. */
typedef struct JsKeys
{
	int			n;
	const char *s[JS_MAX_KEYS];
	size_t		len[JS_MAX_KEYS];
} JsKeys;

/* Skip whitespace; true (and consumed) when the next byte is c. */
extern bool js_eat(JsScan *s, char c);

/* Skip whitespace; true when only whitespace is left. */
extern bool js_at_end(JsScan *s);

/* A string (no escape, printable ASCII only) into *t. */
extern bool js_string(JsScan *s, JsTok *t);

/* Any value into *t; objects and arrays are checked and skipped whole. */
extern bool js_value(JsScan *s, JsTok *t);

/* Note key (len bytes) in k; false when it is a repeat or k is full. */
extern bool js_key_new(JsKeys *k, const char *key, size_t len);

/* t is the string (or its text is) word. */
extern bool js_is(const JsTok *t, const char *word);

/*
 * Conversions with feed_json.h's meaning (fj_int, fj_decimal, fj_bool):
 * js_int takes a JSON integer or a string of one (-?[0-9]+ here; other
 * forms give up), js_decimal a string or a number, exactly as strtod
 * (feed_parse_decimal) reads it.
 */
extern bool js_int(const JsTok *t, int64_t *out);
extern bool js_decimal(const JsTok *t, double *out);
extern bool js_bool(const JsTok *t, bool *out);

/* Decimal text of len bytes -> double, the same value feed_parse_decimal gives. */
extern bool js_decimal_text(const char *s, size_t len, double *out);

#endif							/* FEED_JSON_SCAN_H */
