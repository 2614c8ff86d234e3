/*
 * test/unit/test_metrics.c
 *	  The metrics endpoint's pure C (src/metrics/exposition.c and http.c):
 *	  the Prometheus text format exactly as written, escaping, the
 *	  naming rules the writer enforces, histograms, and HTTP request
 *	  parsing and routing, including hostile and truncated input.
 */
#include <math.h>
#include <stdlib.h>

#include "metrics/exposition.h"
#include "metrics/http.h"
#include "unit_test.h"

static void
test_counter_and_gauge(void)
{
	MetricsBuf	b;
	MetricsLabel l[2] = {{"exchange", "binance"}, {"state", "open"}};

	metrics_buf_init(&b);
	CHECK(metrics_family(&b, "zvt_x_total", METRICS_COUNTER, "Frames.") == 0);
	CHECK(metrics_sample_int(&b, "zvt_x_total", l, 1, 9007199254740993LL) == 0);
	CHECK(metrics_family(&b, "zvt_g", METRICS_GAUGE, "A gauge.") == 0);
	CHECK(metrics_sample(&b, "zvt_g", l, 2, 0.25) == 0);
	CHECK(metrics_sample(&b, "zvt_g", NULL, 0, 3) == 0);
	CHECK(metrics_sample(&b, "zvt_g", NULL, 0, NAN) == 0);
	CHECK(metrics_sample(&b, "zvt_g", NULL, 0, -INFINITY) == 0);
	CHECK(metrics_sample(&b, "zvt_g", NULL, 0, 0.1) == 0);
	CHECK(!b.failed);
	CHECK_STR(b.data,
			  "# HELP zvt_x_total Frames.\n"
			  "# TYPE zvt_x_total counter\n"
			  "zvt_x_total{exchange=\"binance\"} 9007199254740993\n"
			  "# HELP zvt_g A gauge.\n"
			  "# TYPE zvt_g gauge\n"
			  "zvt_g{exchange=\"binance\",state=\"open\"} 0.25\n"
			  "zvt_g 3\n"
			  "zvt_g NaN\n"
			  "zvt_g -Inf\n"
			  "zvt_g 0.1\n");
	CHECK(b.len == strlen(b.data));
	metrics_buf_free(&b);
	CHECK(b.data == NULL);
}

static void
test_escaping(void)
{
	MetricsBuf	b;
	MetricsLabel l[1] = {{"symbol", "a\"b\\c\nd"}};

	metrics_buf_init(&b);
	CHECK(metrics_family(&b, "zvt_e", METRICS_GAUGE, "Help with \\ and\nnewline and \"quotes\".") == 0);
	CHECK(metrics_sample(&b, "zvt_e", l, 1, 1) == 0);
	CHECK_STR(b.data,
			  "# HELP zvt_e Help with \\\\ and\\nnewline and \"quotes\".\n"
			  "# TYPE zvt_e gauge\n"
			  "zvt_e{symbol=\"a\\\"b\\\\c\\nd\"} 1\n");
	metrics_buf_free(&b);
}

/* each misuse fails the buffer, says why, and later calls do nothing */
static void
expect_failure(int (*misuse) (MetricsBuf *), const char *why)
{
	MetricsBuf	b;

	metrics_buf_init(&b);
	CHECK(misuse(&b) == -1);
	CHECK(b.failed);
	if (strstr(b.error, why) == NULL)
	{
		unit_failed++;
		fprintf(stderr, "error \"%s\" does not mention \"%s\"\n", b.error, why);
	}
	CHECK(metrics_family(&b, "zvt_after", METRICS_GAUGE, "x") == -1);
	metrics_buf_free(&b);
}

static int
bad_counter_name(MetricsBuf *b)
{
	return metrics_family(b, "zvt_messages", METRICS_COUNTER, "x");
}

static int
gauge_with_total(MetricsBuf *b)
{
	return metrics_family(b, "zvt_open_total", METRICS_GAUGE, "x");
}

static int
invalid_name(MetricsBuf *b)
{
	return metrics_family(b, "9zvt", METRICS_GAUGE, "x");
}

static int
dash_name(MetricsBuf *b)
{
	return metrics_family(b, "zvt-feed", METRICS_GAUGE, "x");
}

static int
twice(MetricsBuf *b)
{
	metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
	metrics_family(b, "zvt_b", METRICS_GAUGE, "x");
	return metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
}

static int
orphan_sample(MetricsBuf *b)
{
	metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
	return metrics_sample(b, "zvt_b", NULL, 0, 1);
}

static int
sample_first(MetricsBuf *b)
{
	return metrics_sample(b, "zvt_a", NULL, 0, 1);
}

static int
reserved_label(MetricsBuf *b)
{
	MetricsLabel l[1] = {{"__name__", "x"}};

	metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
	return metrics_sample(b, "zvt_a", l, 1, 1);
}

static int
le_label(MetricsBuf *b)
{
	MetricsLabel l[1] = {{"le", "1"}};

	metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
	return metrics_sample(b, "zvt_a", l, 1, 1);
}

static int
repeated_label(MetricsBuf *b)
{
	MetricsLabel l[2] = {{"a", "1"}, {"a", "2"}};

	metrics_family(b, "zvt_a", METRICS_GAUGE, "x");
	return metrics_sample(b, "zvt_a", l, 2, 1);
}

static int
negative_counter(MetricsBuf *b)
{
	metrics_family(b, "zvt_a_total", METRICS_COUNTER, "x");
	return metrics_sample_int(b, "zvt_a_total", NULL, 0, -1);
}

static int
nan_counter(MetricsBuf *b)
{
	metrics_family(b, "zvt_a_total", METRICS_COUNTER, "x");
	return metrics_sample(b, "zvt_a_total", NULL, 0, NAN);
}

static int
unsorted_bounds(MetricsBuf *b)
{
	double		bounds[2] = {2, 1};
	int64_t		counts[3] = {0, 0, 0};

	metrics_family(b, "zvt_h_seconds", METRICS_HISTOGRAM, "x");
	return metrics_histogram(b, NULL, 0, bounds, counts, 2, 0);
}

static int
histogram_as_sample(MetricsBuf *b)
{
	metrics_family(b, "zvt_h_seconds", METRICS_HISTOGRAM, "x");
	return metrics_sample(b, "zvt_h_seconds", NULL, 0, 1);
}

static void
test_rules(void)
{
	expect_failure(bad_counter_name, "_total");
	expect_failure(gauge_with_total, "only counters");
	expect_failure(invalid_name, "invalid metric name");
	expect_failure(dash_name, "invalid metric name");
	expect_failure(twice, "twice");
	expect_failure(orphan_sample, "outside its family");
	expect_failure(sample_first, "outside its family");
	expect_failure(reserved_label, "invalid label name");
	expect_failure(le_label, "invalid label name");
	expect_failure(repeated_label, "given twice");
	expect_failure(negative_counter, "negative");
	expect_failure(nan_counter, "negative or NaN");
	expect_failure(unsorted_bounds, "increasing");
	expect_failure(histogram_as_sample, "metrics_histogram");
	CHECK(metrics_valid_name("zvt:rule_x1"));
	CHECK(!metrics_valid_label_name("a:b"));
	CHECK(!metrics_valid_name(""));
}

static void
test_histogram(void)
{
	MetricsBuf	b;
	MetricsLabel l[1] = {{"exchange", "okx"}};
	double		bounds[3] = {0.001, 0.0025, 0.1};
	int64_t		counts[4] = {2, 0, 5, 1};

	metrics_buf_init(&b);
	CHECK(metrics_family(&b, "zvt_lat_seconds", METRICS_HISTOGRAM, "Latency.") == 0);
	CHECK(metrics_histogram(&b, l, 1, bounds, counts, 3, 1.5) == 0);
	CHECK_STR(b.data,
			  "# HELP zvt_lat_seconds Latency.\n"
			  "# TYPE zvt_lat_seconds histogram\n"
			  "zvt_lat_seconds_bucket{exchange=\"okx\",le=\"0.001\"} 2\n"
			  "zvt_lat_seconds_bucket{exchange=\"okx\",le=\"0.0025\"} 2\n"
			  "zvt_lat_seconds_bucket{exchange=\"okx\",le=\"0.1\"} 7\n"
			  "zvt_lat_seconds_bucket{exchange=\"okx\",le=\"+Inf\"} 8\n"
			  "zvt_lat_seconds_sum{exchange=\"okx\"} 1.5\n"
			  "zvt_lat_seconds_count{exchange=\"okx\"} 8\n");
	metrics_buf_free(&b);
}

/* a buffer that must grow many times keeps every byte */
static void
test_growth(void)
{
	MetricsBuf	b;
	char		name[32];
	size_t		want = 0;

	metrics_buf_init(&b);
	CHECK(metrics_family(&b, "zvt_many", METRICS_GAUGE, "Many.") == 0);
	want = strlen("# HELP zvt_many Many.\n# TYPE zvt_many gauge\n");
	for (int i = 0; i < 5000; i++)
	{
		MetricsLabel l[1] = {{"i", name}};

		snprintf(name, sizeof(name), "%d", i);
		CHECK(metrics_sample_int(&b, "zvt_many", l, 1, i) == 0 || b.failed);
		want += strlen("zvt_many{i=\"\"} \n") + 2 * strlen(name);
	}
	CHECK(!b.failed);
	CHECK(b.len == want);
	CHECK(strlen(b.data) == want);
	metrics_buf_free(&b);
}

static MetricsHttpParse
parse(const char *s, MetricsRequest *r)
{
	return metrics_http_parse(s, strlen(s), r);
}

static void
test_http_parse(void)
{
	MetricsRequest r;
	bool		body;
	char	   *big;
	char		head[512];

	CHECK(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r) == METRICS_HTTP_OK);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.path, "/metrics");
	CHECK(r.minor == 1);
	CHECK(metrics_http_route(&r, &body) == 200 && body);

	CHECK(parse("GET /metrics?name[]=x HTTP/1.0\n\n", &r) == METRICS_HTTP_OK);
	CHECK_STR(r.path, "/metrics");
	CHECK(r.minor == 0);

	CHECK(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_OK);
	CHECK(metrics_http_route(&r, &body) == 200 && !body);
	CHECK(parse("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &r) == METRICS_HTTP_OK);
	CHECK(metrics_http_route(&r, &body) == 405);
	CHECK(parse("GET / HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_OK);
	CHECK(metrics_http_route(&r, &body) == 404);
	CHECK(parse("GET /metricsx HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_OK);
	CHECK(metrics_http_route(&r, &body) == 404);
	CHECK(parse("DELETE /other HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_OK);
	CHECK(metrics_http_route(&r, &body) == 404);

	/* incomplete heads wait; every prefix of a good request is incomplete */
	{
		const char *good = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

		for (size_t i = 0; i < strlen(good); i++)
			CHECK(metrics_http_parse(good, i, &r) == METRICS_HTTP_INCOMPLETE);
	}

	/* malformed request lines */
	CHECK(parse("get /metrics HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET metrics HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET /metrics HTTP/2.0\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET /metrics\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET  /metrics HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET /met\x01rics HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GETTINGLONGMETHODNAME / HTTP/1.1\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("\r\n\r\n", &r) == METRICS_HTTP_BAD);
	CHECK(parse("GET /metrics HTTP/1.1x\r\n\r\n", &r) == METRICS_HTTP_BAD);

	/* a head that never ends within the limit */
	big = malloc(METRICS_HTTP_MAX_REQUEST + 10);
	memset(big, 'a', METRICS_HTTP_MAX_REQUEST + 10);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	CHECK(metrics_http_parse(big, METRICS_HTTP_MAX_REQUEST - 1, &r) == METRICS_HTTP_INCOMPLETE);
	CHECK(metrics_http_parse(big, METRICS_HTTP_MAX_REQUEST, &r) == METRICS_HTTP_TOO_LARGE);
	memcpy(big + METRICS_HTTP_MAX_REQUEST + 6, "\r\n\r\n", 4);
	CHECK(metrics_http_parse(big, METRICS_HTTP_MAX_REQUEST + 10, &r) == METRICS_HTTP_TOO_LARGE);
	free(big);

	/* a long target is cut, and so never /metrics */
	{
		char		req[1024];

		snprintf(req, sizeof(req), "GET /metrics%0600d HTTP/1.1\r\n\r\n", 0);
		CHECK(parse(req, &r) == METRICS_HTTP_OK);
		CHECK(strlen(r.path) == sizeof(r.path) - 1);
		CHECK(metrics_http_route(&r, &body) == 404);
	}

	/* response heads */
	CHECK(metrics_http_head(head, sizeof(head), 200, METRICS_CONTENT_TYPE, 12) > 0);
	CHECK_STR(head, "HTTP/1.1 200 OK\r\n"
			  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			  "Content-Length: 12\r\n"
			  "Cache-Control: no-store\r\n"
			  "Connection: close\r\n\r\n");
	CHECK(metrics_http_head(head, sizeof(head), 405, "text/plain", 0) > 0);
	CHECK(strstr(head, "HTTP/1.1 405 Method Not Allowed\r\n") == head);
	CHECK(strstr(head, "\r\nAllow: GET, HEAD\r\n") != NULL);
	CHECK(metrics_http_head(head, 20, 200, "text/plain", 0) == -1);
}

int
main(void)
{
	test_counter_and_gauge();
	test_escaping();
	test_rules();
	test_histogram();
	test_growth();
	test_http_parse();
	return unit_summary("test_metrics");
}
