/*-------------------------------------------------------------------------
 *
 * src/metrics/exposition.c
 *	  The Prometheus text format 0.0.4 writer (see exposition.h).
 *
 * Format (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * a family is "# HELP name text" and "# TYPE name type" followed by its
 * samples, one per line, "name{label="value",...} value".  Help text
 * escapes backslash and newline; label values escape backslash, double
 * quote and newline.  Values are Go floats: integers print exactly,
 * others in the shortest form that reads back the same, and the special
 * values as +Inf, -Inf and NaN.  A histogram named h has the samples
 * h_bucket{le="..."} (cumulative, ending with le="+Inf"), h_sum and
 * h_count, where h_count equals the +Inf bucket.
 *
 * Memory: the buffer grows with realloc (METRICS_REALLOC) and is freed by
 * metrics_buf_free; nothing else allocates.
 *
 *-------------------------------------------------------------------------
 */
#include "metrics/exposition.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef METRICS_REALLOC
#define METRICS_REALLOC realloc
#define METRICS_FREE free
#endif

static int	fail(MetricsBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static int	put(MetricsBuf *b, const char *s, size_t n);
static int	putf(MetricsBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static int	put_escaped(MetricsBuf *b, const char *s, bool quote);
static int	put_double(MetricsBuf *b, double v);
static int	put_labels(MetricsBuf *b, const MetricsLabel *labels, int nlabels,
					   const char *le);
static int	check_sample(MetricsBuf *b, const char *name);

void
metrics_buf_init(MetricsBuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
metrics_buf_free(MetricsBuf *b)
{
	METRICS_FREE(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Record the first failure; always returns -1. */
static int
fail(MetricsBuf *b, const char *fmt,...)
{
	va_list		ap;

	if (!b->failed)
	{
		va_start(ap, fmt);
		vsnprintf(b->error, sizeof(b->error), fmt, ap);
		va_end(ap);
		b->failed = true;
	}
	return -1;
}

/* Append n bytes of s, keeping data NUL-terminated; -1 when out of memory. */
static int
put(MetricsBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return -1;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;
		char	   *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = METRICS_REALLOC(b->data, cap);
		if (p == NULL)
			return fail(b, "out of memory");
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int
putf(MetricsBuf *b, const char *fmt,...)
{
	char		tmp[256];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(tmp))
		return fail(b, "internal: formatted text too long");
	return put(b, tmp, (size_t) n);
}

/*
 * s escaped: backslash and newline always, double quote too when quote
 * (label values; help text leaves it).
 */
static int
put_escaped(MetricsBuf *b, const char *s, bool quote)
{
	for (; *s; s++)
	{
		int			r;

		if (*s == '\\')
			r = put(b, "\\\\", 2);
		else if (*s == '\n')
			r = put(b, "\\n", 2);
		else if (*s == '"' && quote)
			r = put(b, "\\\"", 2);
		else
			r = put(b, s, 1);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* v as Go's ParseFloat reads it, in the shortest form that reads back equal. */
static int
put_double(MetricsBuf *b, double v)
{
	char		tmp[64];

	if (isnan(v))
		return put(b, "NaN", 3);
	if (isinf(v))
		return v > 0 ? put(b, "+Inf", 4) : put(b, "-Inf", 4);
	if (v == floor(v) && fabs(v) < 1e15)
		return putf(b, "%.0f", v);
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	return put(b, tmp, strlen(tmp));
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*, at most METRICS_NAME_MAX - 1 bytes */
bool
metrics_valid_name(const char *name)
{
	size_t		n = name ? strlen(name) : 0;

	if (n == 0 || n >= METRICS_NAME_MAX || strchr("0123456789", name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == ':'))
			return false;
	}
	return true;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved) */
bool
metrics_valid_label_name(const char *name)
{
	return metrics_valid_name(name) && strchr(name, ':') == NULL &&
		strncmp(name, "__", 2) != 0;
}

/*
 * Announce the family `name` of `type` with its help text: # HELP and
 * # TYPE lines.  0, or -1 (the buffer failed) when the name is invalid, a
 * counter's name does not end in "_total", the family was written before
 * or there are too many families.
 */
int
metrics_family(MetricsBuf *b, const char *name, MetricsType type, const char *help)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	size_t		n;

	if (b->failed)
		return -1;
	if (!metrics_valid_name(name))
		return fail(b, "invalid metric name \"%.80s\"", name ? name : "");
	n = strlen(name);
	if (type == METRICS_COUNTER && (n < 6 || strcmp(name + n - 6, "_total") != 0))
		return fail(b, "counter \"%s\" does not end in _total", name);
	if ((type == METRICS_HISTOGRAM || type == METRICS_GAUGE) && n >= 6 &&
		strcmp(name + n - 6, "_total") == 0)
		return fail(b, "only counters end in _total, not \"%s\"", name);
	for (int i = 0; i < b->nfamilies; i++)
		if (strcmp(b->families[i], name) == 0)
			return fail(b, "family \"%s\" written twice", name);
	if (b->nfamilies >= METRICS_MAX_FAMILIES)
		return fail(b, "more than %d families", METRICS_MAX_FAMILIES);
	snprintf(b->families[b->nfamilies++], METRICS_NAME_MAX, "%s", name);
	b->type = type;

	if (putf(b, "# HELP %s ", name) < 0 || put_escaped(b, help ? help : "", false) < 0 ||
		putf(b, "\n# TYPE %s %s\n", name, types[type]) < 0)
		return -1;
	return 0;
}

/* The current family, or NULL before the first. */
static const char *
current(MetricsBuf *b)
{
	return b->nfamilies > 0 ? b->families[b->nfamilies - 1] : NULL;
}

/* A plain sample must be named as the current counter or gauge family. */
static int
check_sample(MetricsBuf *b, const char *name)
{
	if (b->failed)
		return -1;
	if (current(b) == NULL || strcmp(name, current(b)) != 0)
		return fail(b, "sample \"%.80s\" outside its family", name ? name : "");
	if (b->type == METRICS_HISTOGRAM)
		return fail(b, "histogram \"%s\" takes metrics_histogram", name);
	return 0;
}

/*
 * {labels}, with le="..." last when le is not NULL; nothing when there is
 * no label at all.  Names are checked, "le" is reserved for the writer,
 * and a name may not repeat.
 */
static int
put_labels(MetricsBuf *b, const MetricsLabel *labels, int nlabels, const char *le)
{
	if (nlabels == 0 && le == NULL)
		return 0;
	if (put(b, "{", 1) < 0)
		return -1;
	for (int i = 0; i < nlabels; i++)
	{
		if (!metrics_valid_label_name(labels[i].name) || strcmp(labels[i].name, "le") == 0)
			return fail(b, "invalid label name \"%.80s\"", labels[i].name ? labels[i].name : "");
		for (int j = 0; j < i; j++)
			if (strcmp(labels[i].name, labels[j].name) == 0)
				return fail(b, "label \"%s\" given twice", labels[i].name);
		if (putf(b, "%s%s=\"", i ? "," : "", labels[i].name) < 0 ||
			put_escaped(b, labels[i].value ? labels[i].value : "", true) < 0 ||
			put(b, "\"", 1) < 0)
			return -1;
	}
	if (le != NULL && putf(b, "%sle=\"%s\"", nlabels ? "," : "", le) < 0)
		return -1;
	return put(b, "}", 1);
}

/*
 * One sample of the current counter or gauge family: name{labels} value.
 * 0, or -1 when the buffer failed (a counter may not be negative or NaN).
 */
int
metrics_sample(MetricsBuf *b, const char *name, const MetricsLabel *labels,
			   int nlabels, double value)
{
	if (check_sample(b, name) < 0)
		return -1;
	if (b->type == METRICS_COUNTER && !(value >= 0))
		return fail(b, "counter \"%s\" is negative or NaN", name);
	if (put(b, name, strlen(name)) < 0 || put_labels(b, labels, nlabels, NULL) < 0 ||
		put(b, " ", 1) < 0 || put_double(b, value) < 0)
		return -1;
	return put(b, "\n", 1);
}

/* As metrics_sample, for an integer, printed exactly whatever its size. */
int
metrics_sample_int(MetricsBuf *b, const char *name, const MetricsLabel *labels,
				   int nlabels, int64_t value)
{
	if (check_sample(b, name) < 0)
		return -1;
	if (b->type == METRICS_COUNTER && value < 0)
		return fail(b, "counter \"%s\" is negative", name);
	if (put(b, name, strlen(name)) < 0 || put_labels(b, labels, nlabels, NULL) < 0 ||
		putf(b, " %lld\n", (long long) value) < 0)
		return -1;
	return 0;
}

/*
 * One histogram of the current histogram family, with these labels:
 * nbounds strictly increasing finite upper bounds, counts[nbounds + 1]
 * observations per bucket (not cumulative; the last is above every
 * bound), and the sum of the observations.  Writes the cumulative
 * _bucket lines ending with le="+Inf", _sum and _count.  0, or -1 when the
 * buffer failed (bounds not increasing, a negative count).
 */
int
metrics_histogram(MetricsBuf *b, const MetricsLabel *labels, int nlabels,
				  const double *bounds, const int64_t *counts, int nbounds,
				  double sum)
{
	const char *name = current(b);
	int64_t		total = 0;
	char		le[64];

	if (b->failed)
		return -1;
	if (name == NULL || b->type != METRICS_HISTOGRAM)
		return fail(b, "histogram outside a histogram family");
	for (int i = 0; i <= nbounds; i++)
	{
		if (counts[i] < 0)
			return fail(b, "histogram \"%s\" has a negative count", name);
		if (i < nbounds && (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))))
			return fail(b, "histogram \"%s\" has bounds that are not finite and increasing", name);
	}
	for (int i = 0; i <= nbounds; i++)
	{
		total += counts[i];
		if (i < nbounds)
		{
			snprintf(le, sizeof(le), "%.15g", bounds[i]);
			if (strtod(le, NULL) != bounds[i])
				snprintf(le, sizeof(le), "%.17g", bounds[i]);
		}
		else
			snprintf(le, sizeof(le), "+Inf");
		if (putf(b, "%s_bucket", name) < 0 || put_labels(b, labels, nlabels, le) < 0 ||
			putf(b, " %lld\n", (long long) total) < 0)
			return -1;
	}
	if (putf(b, "%s_sum", name) < 0 || put_labels(b, labels, nlabels, NULL) < 0 ||
		put(b, " ", 1) < 0 || put_double(b, sum) < 0 ||
		putf(b, "\n%s_count", name) < 0 || put_labels(b, labels, nlabels, NULL) < 0 ||
		putf(b, " %lld\n", (long long) total) < 0)
		return -1;
	return 0;
}
