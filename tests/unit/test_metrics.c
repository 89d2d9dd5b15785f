/*
 * Tests for src/metrics.c: the Prometheus text format, byte for byte.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "portada/metrics.h"

static const char *
text(struct pw_buf *b)
{
	ck_assert_int_eq(pw_buf_append(b, "", 1), 0);
	b->len--;
	return (const char *)b->data;
}

START_TEST(samples_and_escaping)
{
	struct pw_buf b;

	pw_buf_init(&b, 1 << 20);
	pw_metric_head(&b, "portada_x_total", "counter", "Help with a \\ and\na newline.");
	pw_metric_sample(&b, "portada_x_total", "table", "a\"b\\c\nd", 3);
	pw_metric_sample(&b, "portada_x_total", NULL, NULL, 0.25);
	pw_metric_sample(&b, "portada_x_total", NULL, NULL, 1e20);
	pw_metric_sample(&b, "portada_x_total", NULL, NULL, NAN);
	pw_metric_sample(&b, "portada_x_total", NULL, NULL, -INFINITY);
	ck_assert_str_eq(text(&b),
	    "# HELP portada_x_total Help with a \\\\ and\\na newline.\n"
	    "# TYPE portada_x_total counter\n"
	    "portada_x_total{table=\"a\\\"b\\\\c\\nd\"} 3\n"
	    "portada_x_total 0.25\n"
	    "portada_x_total 1e+20\n"
	    "portada_x_total NaN\n"
	    "portada_x_total -Inf\n");
	pw_buf_finish(&b);
}
END_TEST

START_TEST(histogram)
{
	struct pw_histogram h = { 0 };
	struct pw_buf b;
	const char *t;

	pw_histogram_observe(&h, 0.001);	/* first bucket */
	pw_histogram_observe(&h, 0.005);	/* le is inclusive */
	pw_histogram_observe(&h, 3);
	pw_histogram_observe(&h, 1e6);		/* only +Inf */
	pw_histogram_observe(&h, -1);		/* a clock step back counts as 0 */
	ck_assert_uint_eq(h.count, 5);
	ck_assert(fabs(h.sum - (0.001 + 0.005 + 3 + 1e6)) < 1e-6);
	pw_buf_init(&b, 1 << 20);
	pw_metric_histogram(&b, "portada_y_seconds", "table", "t", &h);
	t = text(&b);
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_bucket{table=\"t\",le=\"0.005\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_bucket{table=\"t\",le=\"2.5\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_bucket{table=\"t\",le=\"5\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_bucket{table=\"t\",le=\"600\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_bucket{table=\"t\",le=\"+Inf\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(t, "portada_y_seconds_count{table=\"t\"} 5\n"));
	pw_buf_finish(&b);
	pw_buf_init(&b, 1 << 20);
	pw_metric_histogram(&b, "portada_z_seconds", NULL, NULL, &h);
	ck_assert_ptr_nonnull(strstr(text(&b), "portada_z_seconds_bucket{le=\"0.01\"} 3\n"));
	pw_buf_finish(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, samples_and_escaping);
	tcase_add_test(tc, histogram);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
