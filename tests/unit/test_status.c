/*
 * Tests for src/status.c: the status value of every kind under both
 * schemes, which values are final, and the exact EVAL argv that
 * pw_status_build() prepares for every transition.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "portada/status.h"

START_TEST(values_task)
{
	ck_assert_str_eq(pw_status_value(PW_STATUS_TASK, PW_STATUS_PROCESSING), "1");
	ck_assert_str_eq(pw_status_value(PW_STATUS_TASK, PW_STATUS_DONE), "2");
	ck_assert_str_eq(pw_status_value(PW_STATUS_TASK, PW_STATUS_FAILED), "-1");
	ck_assert_str_eq(pw_status_value(PW_STATUS_TASK, PW_STATUS_PENDING), "0");
}
END_TEST

START_TEST(values_dashboard)
{
	/* The dashboard scheme has no "processing" value. */
	ck_assert_ptr_null(pw_status_value(PW_STATUS_DASHBOARD, PW_STATUS_PROCESSING));
	ck_assert_str_eq(pw_status_value(PW_STATUS_DASHBOARD, PW_STATUS_DONE), "1");
	ck_assert_str_eq(pw_status_value(PW_STATUS_DASHBOARD, PW_STATUS_FAILED), "2");
	ck_assert_str_eq(pw_status_value(PW_STATUS_DASHBOARD, PW_STATUS_PENDING), "0");
}
END_TEST

START_TEST(final_values)
{
	ck_assert(pw_status_is_final(PW_STATUS_TASK, "2"));
	ck_assert(pw_status_is_final(PW_STATUS_TASK, "-1"));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, "0"));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, "1"));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, NULL));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, "abc"));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, ""));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, "2 "));
	ck_assert(!pw_status_is_final(PW_STATUS_TASK, "-"));

	ck_assert(pw_status_is_final(PW_STATUS_DASHBOARD, "1"));
	ck_assert(pw_status_is_final(PW_STATUS_DASHBOARD, "2"));
	ck_assert(!pw_status_is_final(PW_STATUS_DASHBOARD, "0"));
	ck_assert(!pw_status_is_final(PW_STATUS_DASHBOARD, "-1"));
	ck_assert(!pw_status_is_final(PW_STATUS_DASHBOARD, NULL));
	ck_assert(!pw_status_is_final(PW_STATUS_DASHBOARD, "abc"));
	ck_assert(!pw_status_is_final(PW_STATUS_DASHBOARD, ""));
}
END_TEST

START_TEST(script_shape)
{
	/* The script writes only into a hash that exists, and says whether it did. */
	ck_assert_ptr_nonnull(strstr(pw_status_script, "redis.call('EXISTS', KEYS[1]) == 0 then return 0"));
	ck_assert_ptr_nonnull(strstr(pw_status_script, "redis.call('HDEL', KEYS[1], ARGV[1])"));
	ck_assert_ptr_nonnull(strstr(pw_status_script, "redis.call('HSET', KEYS[1], unpack(ARGV, 2))"));
	ck_assert_ptr_nonnull(strstr(pw_status_script, "return 1"));
}
END_TEST

/* Check w against "EVAL <script> 1 <key>" followed by the strings in want. */
static void
assert_write(const struct pw_status_write *w, const char *key, const char *const *want,
    int nwant)
{
	int i;

	ck_assert_int_eq(w->argc, 4 + nwant);
	ck_assert_int_le(w->argc, 20);
	ck_assert_str_eq(w->argv[0], "EVAL");
	ck_assert_ptr_eq(w->argv[1], pw_status_script);
	ck_assert_str_eq(w->argv[2], "1");
	ck_assert_ptr_eq(w->argv[3], key);	/* kept, not copied */
	for (i = 0; i < nwant; i++)
		ck_assert_msg(strcmp(w->argv[4 + i], want[i]) == 0,
		    "argv[%d] is \"%s\", want \"%s\"", 4 + i, w->argv[4 + i], want[i]);
	for (i = 0; i < w->argc; i++)
		ck_assert_msg(w->argvlen[i] == strlen(w->argv[i]),
		    "argvlen[%d] is %zu, want %zu", i, w->argvlen[i], strlen(w->argv[i]));
	for (i = w->argc; i < 20; i++)
		ck_assert_ptr_null(w->argv[i]);
}

#define WANT(...) ((const char *const[]){ __VA_ARGS__ }), \
	(int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static const char key[] = "file:abc-123";
static const char worker[] = "worker-7";

START_TEST(build_task)
{
	struct pw_status_write w;
	const char *msg = "invalid JSON at line 3, column 14: expected ',' or ']'";

	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_PROCESSING, key, worker, NULL, 0,
	    1700000000LL);
	assert_write(&w, key, WANT("error_message", "status", "1", "worker", "worker-7",
	    "started_at", "1700000000"));
	ck_assert_ptr_eq(w.argv[8], worker);

	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_DONE, key, worker, NULL, 4242,
	    1700000001LL);
	assert_write(&w, key, WANT("error_message", "status", "2", "finished_at",
	    "1700000001", "records", "4242"));

	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_FAILED, key, worker, msg, 0,
	    1700000002LL);
	assert_write(&w, key, WANT("", "status", "-1", "finished_at", "1700000002",
	    "error_message", msg));
	ck_assert_ptr_eq(w.argv[10], msg);	/* kept, not copied */

	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_FAILED, key, worker, NULL, 0, 5);
	assert_write(&w, key, WANT("", "status", "-1", "finished_at", "5",
	    "error_message", "unknown error"));

	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_PENDING, key, worker, NULL, 0, 6);
	assert_write(&w, key, WANT("", "status", "0", "worker", "worker-7"));

	/* What the table writer adds: the commit, and the first start. */
	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_DONE, key, worker, NULL, 12, 7);
	pw_status_add(&w, "delta_table", "ship_entries");
	pw_status_add_number(&w, "delta_version", 18446744073709551LL);
	assert_write(&w, key, WANT("error_message", "status", "2", "finished_at", "7",
	    "records", "12", "delta_table", "ship_entries", "delta_version",
	    "18446744073709551"));
	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_PROCESSING, key, worker, NULL, 0, 8);
	pw_status_add(&w, "first_started_at", "3");
	assert_write(&w, key, WANT("error_message", "status", "1", "worker", "worker-7",
	    "started_at", "8", "first_started_at", "3"));
}
END_TEST

START_TEST(build_dashboard)
{
	struct pw_status_write w;
	const char *msg = "file not found: /app/ingestion/x.json";

	/* No status pair: the dashboard scheme has no "processing" value. */
	pw_status_build(&w, PW_STATUS_DASHBOARD, PW_STATUS_PROCESSING, key, worker, NULL, 0,
	    1700000000LL);
	assert_write(&w, key, WANT("error_message", "worker", "worker-7",
	    "started_at", "1700000000"));

	pw_status_build(&w, PW_STATUS_DASHBOARD, PW_STATUS_DONE, key, worker, NULL, 0,
	    1700000001LL);
	assert_write(&w, key, WANT("error_message", "status", "1", "finished_at",
	    "1700000001", "records", "0"));

	pw_status_build(&w, PW_STATUS_DASHBOARD, PW_STATUS_FAILED, key, worker, msg, 0,
	    1700000002LL);
	assert_write(&w, key, WANT("", "status", "2", "finished_at", "1700000002",
	    "error_message", msg));

	pw_status_build(&w, PW_STATUS_DASHBOARD, PW_STATUS_PENDING, key, worker, NULL, 0, 0);
	assert_write(&w, key, WANT("", "status", "0", "worker", "worker-7"));
}
END_TEST

START_TEST(build_numbers)
{
	struct pw_status_write w;

	/* The extremes print in full. */
	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_DONE, key, worker, NULL,
	    18446744073709551615ULL, -9223372036854775807LL - 1);
	assert_write(&w, key, WANT("error_message", "status", "2", "finished_at",
	    "-9223372036854775808", "records", "18446744073709551615"));

	/* A build starts from scratch: nothing of the previous one is left. */
	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_PENDING, key, worker, NULL, 99, 1);
	assert_write(&w, key, WANT("", "status", "0", "worker", "worker-7"));

	/* The error message may be empty, or carry any byte but NUL. */
	pw_status_build(&w, PW_STATUS_TASK, PW_STATUS_FAILED, key, worker, "", 0, 2);
	assert_write(&w, key, WANT("", "status", "-1", "finished_at", "2",
	    "error_message", ""));
	ck_assert_uint_eq(w.argvlen[10], 0);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_add_test(tc, values_task);
	tcase_add_test(tc, values_dashboard);
	tcase_add_test(tc, final_values);
	tcase_add_test(tc, script_shape);
	tcase_add_test(tc, build_task);
	tcase_add_test(tc, build_dashboard);
	tcase_add_test(tc, build_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
