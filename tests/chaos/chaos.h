/*
 * What the chaos tests share: the table read back (tests/common/
 * tablecheck.h), waiting for statuses to be final, the fault hooks.
 */
#ifndef PW_CHAOS_H
#define PW_CHAOS_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "../common/tablecheck.h"

/* The rows the table holds, once tc_check_table() found it right. */
static inline uint64_t
c_check_table(const char *lake, const char *table, char **ids, size_t n, unsigned base,
    unsigned step)
{
	struct tc_view view;

	tc_check_table(lake, table, ids, n, base, step, &view);
	return view.rows;
}

/* Ids whose status is done (2) or failed (-1). */
static inline size_t
c_count_final(char **ids, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char *st = h_hget(ids[i], "status");

		if (st != NULL && (strcmp(st, "2") == 0 || strcmp(st, "-1") == 0))
			k++;
		free(st);
	}
	return k;
}

/* Wait until every id is final; false after timeout seconds. */
static inline bool
c_wait_final(char **ids, size_t n, double timeout)
{
	double t0 = h_now();

	while (c_count_final(ids, n) < n) {
		if (h_now() - t0 > timeout * h_slow())
			return false;
		h_sleep(0.1);
	}
	return true;
}

/* Whether the test build has the fault hooks (PW_FAULT); say so if not. */
static inline bool
c_fault_hooks(const char *test)
{
	const char *v = getenv("PW_FAULT_HOOKS");

	if (v != NULL && strcmp(v, "1") == 0)
		return true;
	printf("%s: not run: the worker was built without -Dfault_hooks=true "
	    "(scripts/test.sh builds with it)\n", test);
	return false;
}

#endif
