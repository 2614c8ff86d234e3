/*-------------------------------------------------------------------------
 *
 * src/metrics/exposition.h
 *	  A writer of the Prometheus text exposition format 0.0.4 (pure C, no
 *	  PostgreSQL): families, samples, labels and histograms into a
 *	  growing buffer.
 *
 * The writer checks what the format and Prometheus's naming conventions
 * require of its caller: metric and label names are valid, a family is
 * announced (# HELP, # TYPE) once and before its samples, each sample
 * belongs to the family announced last, counters end in "_total", and
 * label values and help text are escaped.  The first violation (or an
 * allocation failure) makes the buffer "failed": later calls do nothing
 * and return -1, and `error` says what went wrong, so the caller checks
 * once at the end.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_METRICS_EXPOSITION_H
#define ZVT_METRICS_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the Content-Type of the format written here */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* families one buffer may hold (each is written once), and name lengths */
#define METRICS_MAX_FAMILIES 128
#define METRICS_NAME_MAX 96

typedef enum MetricsType
{
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM
} MetricsType;

/* One label: name="value".  The value is escaped by the writer. */
typedef struct MetricsLabel
{
	const char *name;
	const char *value;
} MetricsLabel;

typedef struct MetricsBuf
{
	char	   *data;			/* NUL-terminated text; NULL before the first write */
	size_t		len;			/* bytes in data, without the NUL */
	size_t		cap;			/* bytes allocated */
	bool		failed;			/* a call failed: see error */
	char		error[128];		/* what failed first */
	MetricsType type;			/* of the family announced last */
	int			nfamilies;		/* families written; the last is the current one */
	char		families[METRICS_MAX_FAMILIES][METRICS_NAME_MAX];	/* their names */
} MetricsBuf;

/* in exposition.c */
extern void metrics_buf_init(MetricsBuf *b);
extern void metrics_buf_free(MetricsBuf *b);
extern bool metrics_valid_name(const char *name);
extern bool metrics_valid_label_name(const char *name);
extern int	metrics_family(MetricsBuf *b, const char *name, MetricsType type, const char *help);
extern int	metrics_sample(MetricsBuf *b, const char *name, const MetricsLabel *labels,
						   int nlabels, double value);
extern int	metrics_sample_int(MetricsBuf *b, const char *name, const MetricsLabel *labels,
							   int nlabels, int64_t value);
extern int	metrics_histogram(MetricsBuf *b, const MetricsLabel *labels, int nlabels,
							  const double *bounds, const int64_t *counts, int nbounds,
							  double sum);

#endif							/* ZVT_METRICS_EXPOSITION_H */
