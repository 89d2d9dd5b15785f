/*
 * Tests for src/table.c in a temporary lake: creating a table, appending,
 * two writers racing for versions, schema evolution, refusing tables this
 * worker must not write, and finding committed uploads again.  The files
 * themselves are read back by tests/delta (DuckDB) elsewhere.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portada/lake.h"
#include "portada/table.h"

static char lake[64];

static const char spec_v1[] =
    "{\"table\":\"t\",\"files\":\"entry\",\"columns\":["
    "{\"name\":\"file_id\",\"type\":\"string\",\"nullable\":false,\"from\":\"file_id\"},"
    "{\"name\":\"record_index\",\"type\":\"long\",\"nullable\":false,\"from\":\"record_index\"}]}";
static const char spec_v2[] =
    "{\"table\":\"t\",\"files\":\"entry\",\"columns\":["
    "{\"name\":\"file_id\",\"type\":\"string\",\"nullable\":false,\"from\":\"file_id\"},"
    "{\"name\":\"record_index\",\"type\":\"long\",\"nullable\":false,\"from\":\"record_index\"},"
    "{\"name\":\"ship_name\",\"type\":\"string\",\"nullable\":true,\"from\":\"field:ship_name\"}]}";
static const char spec_bad[] =
    "{\"table\":\"t\",\"files\":\"entry\",\"columns\":["
    "{\"name\":\"file_id\",\"type\":\"string\",\"nullable\":false,\"from\":\"file_id\"},"
    "{\"name\":\"record_index\",\"type\":\"string\",\"nullable\":true,\"from\":\"field:x\"}]}";

static void
setup(void)
{
	snprintf(lake, sizeof lake, "/tmp/pw-table-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lake));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", lake);
	ck_assert_int_eq(system(cmd), 0);
}

static void
spec(const char *text, struct pw_table_spec *s)
{
	struct pw_error err;

	ck_assert_msg(pw_table_spec_parse(text, strlen(text), "test", s, &err) == 0, "%s",
	    err.msg);
}

static struct pw_table *
open_ok(const struct pw_table_spec *s)
{
	struct pw_error err;
	struct pw_table *t = pw_table_open(lake, s, "0.0.0-test", &err);

	ck_assert_msg(t != NULL, "%s", err.msg);
	return t;
}

/* Write n rows for upload id into one finished file. */
static struct pw_table_file *
file_with_rows(struct pw_table *t, const char *id, int n)
{
	struct pw_error err;
	struct pw_table_file *f = pw_table_file_create(t, NULL, &err);

	ck_assert_msg(f != NULL, "%s", err.msg);
	for (int i = 0; i < n; i++) {
		struct pw_pq_value row[3] = { pw_pq_string(id, strlen(id)), pw_pq_int(i),
		    pw_pq_null() };

		ck_assert_msg(pw_table_file_write(f, row, &err) == 0, "%s", err.msg);
	}
	ck_assert_msg(pw_table_file_finish(f, &err) == 0, "%s", err.msg);
	return f;
}

static bool
exists(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", lake, rel);
	return stat(p, &st) == 0;
}

START_TEST(create_and_append)
{
	struct pw_table_spec s;
	struct pw_table *t;
	struct pw_table_file *f;
	struct pw_error err;
	const char *ids[] = { "a", "b" };
	const uint64_t counts[] = { 1, 2 };
	int64_t recs;
	uint64_t v;

	spec(spec_v1, &s);
	t = open_ok(&s);
	ck_assert_uint_eq(pw_table_version(t), 0);
	ck_assert(exists("t/_delta_log/00000000000000000000.json"));
	f = file_with_rows(t, "a", 3);
	ck_assert_int_eq(pw_table_commit(t, &f, 1, ids, counts, 2, &v, &err), 0);
	ck_assert_uint_eq(v, 1);
	pw_table_file_destroy(f);
	/* An empty commit (every upload failed) is still a version. */
	ck_assert_int_eq(pw_table_commit(t, NULL, 0, NULL, NULL, 0, &v, &err), 0);
	ck_assert_uint_eq(v, 2);
	pw_table_close(t);

	t = open_ok(&s);
	ck_assert_uint_eq(pw_table_version(t), 2);
	{
		bool found;

		ck_assert_int_eq(pw_table_find_source(t, "b", 0, &found, &v, &recs, &err), 0);
		ck_assert(found);
		ck_assert_uint_eq(v, 1);
		ck_assert_int_eq(recs, 2);
		ck_assert_int_eq(pw_table_find_source(t, "c", 0, &found, &v, &recs, &err), 0);
		ck_assert(!found);
	}
	pw_table_close(t);
	pw_table_spec_finish(&s);
}
END_TEST

START_TEST(unfinished_file_leaves_nothing)
{
	struct pw_table_spec s;
	struct pw_table *t;
	struct pw_table_file *f;
	struct pw_error err;
	struct pw_pq_value row[2] = { pw_pq_string("x", 1), pw_pq_int(0) };
	char dir[128];
	size_t n;
	char **names;

	spec(spec_v1, &s);
	t = open_ok(&s);
	f = pw_table_file_create(t, NULL, &err);
	ck_assert_int_eq(pw_table_file_write(f, row, &err), 0);
	pw_table_file_destroy(f);
	snprintf(dir, sizeof dir, "%s/t", lake);
	names = pw_lake_list(dir, &n, &err);
	ck_assert_uint_eq(n, 1);	/* only _delta_log */
	ck_assert_str_eq(names[0], "_delta_log");
	pw_lake_names_free(names, n);
	pw_table_close(t);
	pw_table_spec_finish(&s);
}
END_TEST

/* Two writers: the one that loses a version moves on to the next one. */
START_TEST(two_writers)
{
	struct pw_table_spec s;
	struct pw_table *a, *b;
	struct pw_table_file *f;
	struct pw_error err;
	const char *ida[] = { "from-a" }, *idb[] = { "from-b" };
	int64_t recs;
	uint64_t v;
	bool found;

	spec(spec_v1, &s);
	a = open_ok(&s);
	b = open_ok(&s);
	f = file_with_rows(a, "from-a", 2);
	ck_assert_int_eq(pw_table_commit(a, &f, 1, ida, NULL, 1, &v, &err), 0);
	ck_assert_uint_eq(v, 1);
	pw_table_file_destroy(f);
	f = file_with_rows(b, "from-b", 2);
	ck_assert_int_eq(pw_table_commit(b, &f, 1, idb, NULL, 1, &v, &err), 0);
	ck_assert_uint_eq(v, 2);
	pw_table_file_destroy(f);
	ck_assert_int_eq(pw_table_find_source(a, "from-b", 0, &found, &v, &recs, &err), 0);
	ck_assert(found && v == 2);
	ck_assert_int_eq(recs, -1);	/* the commit did not say */
	ck_assert_uint_eq(pw_table_version(a), 2);
	pw_table_close(a);
	pw_table_close(b);
	pw_table_spec_finish(&s);
}
END_TEST

START_TEST(schema_evolution)
{
	struct pw_table_spec s1, s2, bad;
	struct pw_table *t, *old;
	struct pw_table_file *f;
	struct pw_error err;
	uint64_t v;

	spec(spec_v1, &s1);
	spec(spec_v2, &s2);
	spec(spec_bad, &bad);
	t = open_ok(&s1);
	old = open_ok(&s1);
	pw_table_close(t);
	/* A spec with a new nullable column adds it with a metaData commit. */
	t = open_ok(&s2);
	ck_assert_uint_eq(pw_table_version(t), 1);
	f = file_with_rows(t, "x", 1);
	ck_assert_int_eq(pw_table_commit(t, &f, 1, NULL, NULL, 0, &v, &err), 0);
	pw_table_file_destroy(f);
	pw_table_close(t);
	/* A writer that opened the table before the change must not append. */
	f = file_with_rows(old, "y", 1);
	ck_assert_int_eq(pw_table_commit(old, &f, 1, NULL, NULL, 0, &v, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "another writer changed the table's schema at "
	    "version 1"));
	pw_table_file_destroy(f);
	pw_table_close(old);
	/* An incompatible spec is refused at open, with the reason. */
	ck_assert_ptr_null(pw_table_open(lake, &bad, "0", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "record_index"));
	pw_table_spec_finish(&s1);
	pw_table_spec_finish(&s2);
	pw_table_spec_finish(&bad);
}
END_TEST

START_TEST(refuses_unknown_features)
{
	static const char v0[] =
	    "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
	    "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n"
	    "{\"metaData\":{\"id\":\"5f1bd8a2-4f0b-4b0e-9d1e-3a1c2b3d4e5f\",\"format\":"
	    "{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":"
	    "\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"file_id\\\",\\\"type\\\":"
	    "\\\"string\\\",\\\"nullable\\\":false,\\\"metadata\\\":{}}]}\","
	    "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1}}\n";
	struct pw_table_spec s;
	struct pw_error err;
	char dir[128];
	bool taken;

	spec(spec_v1, &s);
	snprintf(dir, sizeof dir, "%s/t/_delta_log", lake);
	ck_assert_int_eq(pw_lake_mkdirs(dir, &err), 0);
	ck_assert_int_eq(pw_lake_put_if_absent(dir, "00000000000000000000.json", v0,
	    strlen(v0), &taken, &err), 0);
	ck_assert_ptr_null(pw_table_open(lake, &s, "0", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "deletionVectors"));
	pw_table_spec_finish(&s);
}
END_TEST

static Suite *
table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("local");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_append);
	tcase_add_test(tc, unfinished_file_leaves_nothing);
	tcase_add_test(tc, two_writers);
	tcase_add_test(tc, schema_evolution);
	tcase_add_test(tc, refuses_unknown_features);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
