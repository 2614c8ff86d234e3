/*-------------------------------------------------------------------------
 *
 * src/feed/feed_json.h
 *	  Typed field access on jansson objects for the exchange parsers.
 *
 * Each getter returns false (and leaves *out alone) when the field is
 * missing or of the wrong type; decimals accept the exchanges' string
 * form and plain JSON numbers.  feed_reject() records why a frame is
 * malformed, so every parser reports the same way.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_JSON_H
#define FEED_JSON_H

#include <jansson.h>

#include "feed_event.h"

extern bool fj_str(json_t *obj, const char *key, const char **out);
extern bool fj_decimal(json_t *obj, const char *key, double *out);
extern bool fj_int(json_t *obj, const char *key, int64_t *out);
extern bool fj_bool(json_t *obj, const char *key, bool *out);
extern bool fj_decimal_at(json_t *arr, size_t i, double *out);
extern bool fj_int_at(json_t *arr, size_t i, int64_t *out);

/* Milliseconds (seconds) since 1970 -> us; false outside 1970..5138. */
extern bool feed_ms(int64_t ms, int64_t *us);
extern bool feed_secs(int64_t secs, int64_t *us);

/* Mark frame malformed with a reason; returns 0 (no events) for tail calls. */
extern int	feed_reject(FeedFrame *frame, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Parse msg as a JSON value; NULL (and frame malformed) when it is not JSON. */
extern json_t *feed_load(const char *msg, size_t len, FeedFrame *frame);

#endif
