/*
 * Tests for src/lake.c, in a temporary directory: put-if-absent, data
 * files that appear only when committed, listing and reading.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portada/lake.h"

static char root[64];

static void
setup(void)
{
	snprintf(root, sizeof root, "/tmp/pw-lake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
path(const char *rel)
{
	static char p[256];

	snprintf(p, sizeof p, "%s/%s", root, rel);
	return p;
}

START_TEST(mkdirs)
{
	struct pw_error err;
	struct stat st;

	ck_assert_int_eq(pw_lake_mkdirs(path("a/b/c/_delta_log"), &err), 0);
	ck_assert_int_eq(stat(path("a/b/c/_delta_log"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(pw_lake_mkdirs(path("a/b/c/_delta_log"), &err), 0);
	ck_assert_int_eq(pw_lake_put_if_absent(root, "file", "x", 1, &(bool){ false }, &err), 0);
	ck_assert_int_eq(pw_lake_mkdirs(path("file/sub"), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "Not a directory"));
}
END_TEST

START_TEST(put_if_absent)
{
	struct pw_error err;
	struct pw_buf b;
	bool taken, missing;
	size_t n;
	char **names;

	ck_assert_int_eq(pw_lake_put_if_absent(root, "00000000000000000000.json", "one\n", 4,
	    &taken, &err), 0);
	ck_assert(!taken);
	ck_assert_int_eq(pw_lake_put_if_absent(root, "00000000000000000000.json", "two\n", 4,
	    &taken, &err), -1);
	ck_assert(taken);
	ck_assert_str_eq(err.msg + strlen(err.msg) - strlen("already exists"), "already exists");
	/* The loser leaves no temporary file behind, and the winner's bytes stay. */
	names = pw_lake_list(root, &n, &err);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "00000000000000000000.json");
	pw_lake_names_free(names, n);
	pw_buf_init(&b, 1 << 20);
	ck_assert_int_eq(pw_lake_read(path("00000000000000000000.json"), 100, &b, &missing,
	    &err), 0);
	ck_assert(!missing && b.len == 4 && memcmp(b.data, "one\n", 4) == 0);
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_lake_read(path("nope"), 100, &b, &missing, &err), 0);
	ck_assert(missing);
	ck_assert_int_eq(pw_lake_read(path("00000000000000000000.json"), 3, &b, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "over the limit of 3"));
	pw_buf_finish(&b);
}
END_TEST

START_TEST(data_file)
{
	struct pw_lake_file f;
	struct pw_error err;
	struct stat st;
	size_t n;
	char **names;

	ck_assert_int_eq(pw_lake_file_open(&f, root, "part-0.parquet", &err), 0);
	ck_assert_int_eq(pw_lake_file_write(&f, "PAR1", 4, &err), 0);
	/* Until it is committed only a hidden temporary name exists. */
	ck_assert_int_eq(stat(path("part-0.parquet"), &st), -1);
	names = pw_lake_list(root, &n, &err);
	ck_assert_uint_eq(n, 1);
	ck_assert(names[0][0] == '.');
	pw_lake_names_free(names, n);
	ck_assert_int_eq(pw_lake_file_commit(&f, false, NULL, &err), 0);
	ck_assert_uint_eq(f.size, 4);
	pw_lake_file_abort(&f);
	ck_assert_int_eq(stat(path("part-0.parquet"), &st), 0);
	ck_assert_int_eq(st.st_size, 4);

	/* An aborted file leaves nothing. */
	ck_assert_int_eq(pw_lake_file_open(&f, root, "part-1.parquet", &err), 0);
	ck_assert_int_eq(pw_lake_file_write(&f, "PAR1", 4, &err), 0);
	pw_lake_file_abort(&f);
	pw_lake_file_abort(&f);
	names = pw_lake_list(root, &n, &err);
	ck_assert_uint_eq(n, 1);
	pw_lake_names_free(names, n);
	names = pw_lake_list(path("missing"), &n, &err);
	ck_assert_ptr_nonnull(names);
	ck_assert_uint_eq(n, 0);
	pw_lake_names_free(names, n);
}
END_TEST

START_TEST(uuids)
{
	char a[37], b[37];

	pw_lake_uuid(a);
	pw_lake_uuid(b);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert_str_ne(a, b);
	ck_assert(a[8] == '-' && a[13] == '-' && a[14] == '4' && a[18] == '-' && a[23] == '-');
	ck_assert(strchr("89ab", a[19]) != NULL);
}
END_TEST

static Suite *
lake_suite(void)
{
	Suite *s = suite_create("lake");
	TCase *tc = tcase_create("local");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mkdirs);
	tcase_add_test(tc, put_if_absent);
	tcase_add_test(tc, data_file);
	tcase_add_test(tc, uuids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lake_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
