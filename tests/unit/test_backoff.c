/* backoff: the delays every retry in the worker waits. */
#include <check.h>
#include <stdlib.h>

#include "portada/backoff.h"

START_TEST(doubles_to_the_cap)
{
	/* u = 1: the top of the range; the nth retry waits first * 2^n. */
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 0, 1), 1, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 1, 1), 2, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 5, 1), 32, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 6, 1), 60, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 4000000000u, 1), 60, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(0.1, 5, 3, 1), 0.8, 1e-9);
}
END_TEST

START_TEST(jitter_over_the_upper_half)
{
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 3, 0), 4, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 3, 0.5), 6, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 3, -3), 4, 1e-9);
	ck_assert_double_eq_tol(pw_backoff_at(1, 60, 3, 7), 8, 1e-9);
	srandom(7);
	for (int i = 0; i < 10000; i++) {
		double d = pw_backoff(0.1, 5, (unsigned)(i % 12));
		double top = 0.1 * (double)(1u << (i % 12));

		if (top > 5)
			top = 5;
		ck_assert(d >= top / 2 - 1e-12 && d <= top + 1e-12);
	}
}
END_TEST

START_TEST(timeval)
{
	struct timeval tv = pw_timeval(2.25);

	ck_assert_int_eq(tv.tv_sec, 2);
	ck_assert_int_eq(tv.tv_usec, 250000);
	tv = pw_timeval(-1);
	ck_assert(tv.tv_sec == 0 && tv.tv_usec == 0);
	tv = pw_timeval(0.9999999999);
	ck_assert(tv.tv_usec < 1000000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("backoff");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, doubles_to_the_cap);
	tcase_add_test(tc, jitter_over_the_upper_half);
	tcase_add_test(tc, timeval);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
