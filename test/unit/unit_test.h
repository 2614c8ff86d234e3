/*
 * test/unit/unit_test.h
 *	  A minimal assertion harness for the plain-C unit tests.
 *
 * Each CHECK counts one case; a failure prints file, line and the
 * expression and the run goes on.  unit_summary() prints the closing line
 * "N passed, N failed" and gives the exit status.
 */
#ifndef UNIT_TEST_H
#define UNIT_TEST_H

#include <stdio.h>
#include <string.h>

static int	unit_passed = 0;
static int	unit_failed = 0;

#define CHECK(cond) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	do { \
		if (strcmp((got), (want)) == 0) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "%s:%d: FAILED: got \"%s\", want \"%s\"\n", \
					__FILE__, __LINE__, (got), (want)); \
		} \
	} while (0)

static inline int
unit_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif
