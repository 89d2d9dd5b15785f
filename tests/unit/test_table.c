/*
 * Tests for src/table.c on both stores: a temporary local lake always, and
 * S3 (s3rver behind tests/s3/s3-server.mjs) when PW_S3_ENDPOINT is set:
 * creating a table, appending, two writers racing for versions, schema
 * evolution, refusing tables this worker must not write, and finding
 * committed uploads again.  The files themselves are read back by
 * tests/delta (DuckDB) elsewhere.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portada/http.h"
#include "portada/store.h"
#include "portada/table.h"
#include "../common/tablesync.h"

static char lake[128];
static char tmpdir[64];
static struct event_base *base;
static struct pw_http *http;
static struct pw_store *st;

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

static const char *
env_s3(const char *name)
{
	if (strcmp(name, "AWS_ENDPOINT_URL") == 0)
		return getenv("PW_S3_ENDPOINT");
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
		return "S3RVER";
	if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return "S3RVER";
	return NULL;
}

static void
open_store(void)
{
	struct pw_error err;

	base = event_base_new();
	http = pw_http_create(base, 16, 8, &err);
	ck_assert_ptr_nonnull(http);
	st = pw_store_open(base, http, lake, env_s3, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
}

static void
setup_local(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-table-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(lake, sizeof lake, "%s", tmpdir);
	open_store();
}

static void
setup_s3(void)
{
	static int n;

	/* s3rver keeps its data for the whole run: a fresh prefix per test. */
	snprintf(lake, sizeof lake, "s3://lake/table-%d-%ld-%d", (int)getpid(),
	    (long)time(NULL), n++);
	tmpdir[0] = '\0';
	open_store();
}

static void
teardown(void)
{
	pw_store_close(st);
	pw_http_destroy(http);
	event_base_free(base);
	if (tmpdir[0] != '\0') {
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		ck_assert_int_eq(system(cmd), 0);
	}
}

/* Whether the store holds key (relative to the lake). */
struct probe {
	bool done;
	enum pw_store_status status;
	size_t nnames, nparquet;
};

static void
on_probe(void *arg, const struct pw_store_result *r)
{
	struct probe *p = arg;

	p->done = true;
	p->status = r->status;
	p->nnames = r->nnames;
	for (size_t i = 0; i < r->nnames; i++)
		p->nparquet += strstr(r->names[i], ".parquet") != NULL;
}

static bool
exists(const char *key)
{
	struct probe p = { 0 };

	pw_store_get(st, key, 1 << 20, on_probe, &p);
	while (!p.done)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert(p.status == PW_STORE_OK || p.status == PW_STORE_MISSING);
	return p.status == PW_STORE_OK;
}

static struct probe
list(const char *prefix)
{
	struct probe p = { 0 };

	pw_store_list(st, prefix, on_probe, &p);
	while (!p.done)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert(p.status == PW_STORE_OK);
	return p;
}

static void
put(const char *key, const char *text)
{
	struct probe p = { 0 };
	struct pw_error err;

	ck_assert_int_eq(pw_store_mkdir(st, "t/_delta_log/", &err), 0);
	pw_store_put_if_absent(st, key, text, strlen(text), on_probe, &p);
	while (!p.done)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert(p.status == PW_STORE_OK);
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
	struct pw_table *t = ts_open(base, st, s, "0.0.0-test", &err);

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
	ck_assert_msg(ts_finish(base, f, &err) == 0, "%s", err.msg);
	return f;
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
	ck_assert_int_eq(ts_commit(base, t, &f, 1, ids, counts, 2, &v, &err), 0);
	ck_assert_uint_eq(v, 1);
	pw_table_file_destroy(f);
	/* An empty commit (every upload failed) is still a version. */
	ck_assert_int_eq(ts_commit(base, t, NULL, 0, NULL, NULL, 0, &v, &err), 0);
	ck_assert_uint_eq(v, 2);
	pw_table_close(t);

	t = open_ok(&s);
	ck_assert_uint_eq(pw_table_version(t), 2);
	{
		bool found;

		ck_assert_int_eq(ts_find(base, t, "b", 0, &found, &v, &recs, &err), 0);
		ck_assert(found);
		ck_assert_uint_eq(v, 1);
		ck_assert_int_eq(recs, 2);
		ck_assert_int_eq(ts_find(base, t, "c", 0, &found, &v, &recs, &err), 0);
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
	struct probe p;

	spec(spec_v1, &s);
	t = open_ok(&s);
	f = pw_table_file_create(t, NULL, &err);
	ck_assert_int_eq(pw_table_file_write(f, row, &err), 0);
	pw_table_file_destroy(f);
	p = list("t/");
	ck_assert_uint_eq(p.nparquet, 0);	/* nothing but the log */
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
	ck_assert_int_eq(ts_commit(base, a, &f, 1, ida, NULL, 1, &v, &err), 0);
	ck_assert_uint_eq(v, 1);
	pw_table_file_destroy(f);
	f = file_with_rows(b, "from-b", 2);
	ck_assert_int_eq(ts_commit(base, b, &f, 1, idb, NULL, 1, &v, &err), 0);
	ck_assert_uint_eq(v, 2);
	pw_table_file_destroy(f);
	ck_assert_int_eq(ts_find(base, a, "from-b", 0, &found, &v, &recs, &err), 0);
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
	ck_assert_int_eq(ts_commit(base, t, &f, 1, NULL, NULL, 0, &v, &err), 0);
	pw_table_file_destroy(f);
	pw_table_close(t);
	/* A writer that opened the table before the change must not append. */
	f = file_with_rows(old, "y", 1);
	ck_assert_int_eq(ts_commit(base, old, &f, 1, NULL, NULL, 0, &v, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "another writer changed the table's schema at "
	    "version 1"));
	pw_table_file_destroy(f);
	pw_table_close(old);
	/* An incompatible spec is refused at open, with the reason. */
	ck_assert_ptr_null(ts_open(base, st, &bad, "0", &err));
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

	spec(spec_v1, &s);
	put("t/_delta_log/00000000000000000000.json", v0);
	ck_assert_ptr_null(ts_open(base, st, &s, "0", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "deletionVectors"));
	pw_table_spec_finish(&s);
}
END_TEST

/*
 * Lookups in flight together, while commits land: each is answered from
 * the commits made before it was asked, and a fresh worker finds every
 * upload again (reading back as far as the oldest start asked about).
 */
struct many {
	struct ts_wait w;
	struct pw_table_lookup lk;
	char id[16];
};

START_TEST(many_uploads_found)
{
	struct pw_table_spec s;
	struct pw_table *a, *b;
	struct pw_error err;
	struct many m[20];
	uint64_t v;
	int64_t recs;
	bool found;
	char id[16];

	spec(spec_v1, &s);
	a = open_ok(&s);
	for (int i = 0; i < 20; i++) {
		const char *ids[1] = { id };
		const uint64_t n[1] = { (uint64_t)i };

		snprintf(id, sizeof id, "up-%d", i);
		ck_assert_int_eq(ts_commit(base, a, NULL, 0, ids, n, 1, &v, &err), 0);
		ck_assert_uint_eq(v, (uint64_t)i + 1);
	}
	b = open_ok(&s);
	/* 20 lookups at once, half of them for uploads never committed. */
	for (int i = 0; i < 20; i++) {
		memset(&m[i], 0, sizeof m[i]);
		snprintf(m[i].id, sizeof m[i].id, i % 2 == 0 ? "up-%d" : "none-%d", i);
		m[i].lk.id = m[i].id;
		m[i].lk.since_ms = 0;
		m[i].lk.done = ts_on_lookup;
		m[i].lk.arg = &m[i].w;
		pw_table_find_source(b, &m[i].lk);
	}
	/* One is given up before it is answered: it must never be called. */
	pw_table_lookup_cancel(b, &m[19].lk);
	for (int i = 0; i < 19; i++) {
		ck_assert_int_eq(ts_run(base, &m[i].w, &err), 0);
		ck_assert_int_eq(m[i].lk.found, i % 2 == 0);
		if (i % 2 == 0) {
			ck_assert_uint_eq(m[i].lk.version, (uint64_t)i + 1);
			ck_assert_int_eq(m[i].lk.records, i);
		}
	}
	ck_assert(!m[19].w.done);
	/* A commit by a, after b's index was built, is found by b's next lookup. */
	{
		const char *ids[1] = { "late" };

		ck_assert_int_eq(ts_commit(base, a, NULL, 0, ids, NULL, 1, &v, &err), 0);
		ck_assert_int_eq(ts_find(base, b, "late", 0, &found, &v, &recs, &err), 0);
		ck_assert(found && v == 21);
	}
	/* b commits; a's own index knows the versions b took. */
	{
		const char *ids[1] = { "from-b" };

		ck_assert_int_eq(ts_commit(base, b, NULL, 0, ids, NULL, 1, &v, &err), 0);
		ck_assert_uint_eq(v, 22);
		ck_assert_int_eq(ts_find(base, a, "from-b", 0, &found, &v, &recs, &err), 0);
		ck_assert(found && v == 22);
		ck_assert_int_eq(ts_find(base, a, "up-3", 0, &found, &v, &recs, &err), 0);
		ck_assert(found && v == 4);
	}
	/* Starts in the future: only the newest commits are read, nothing found
	 * that is older than the clock margin allows. */
	ck_assert_int_eq(ts_find(base, b, "up-0", (int64_t)time(NULL) * 1000 + 3600 * 1000,
	    &found, &v, &recs, &err), 0);
	ck_assert(found);	/* b's index already holds it: found is never wrong */
	pw_table_close(a);
	pw_table_close(b);
	pw_table_spec_finish(&s);
}
END_TEST

static Suite *
table_suite(void)
{
	Suite *s = suite_create("table");

	for (int i = 0; i < 2; i++) {
		TCase *tc;

		if (i == 1 && getenv("PW_S3_ENDPOINT") == NULL)
			break;
		tc = tcase_create(i == 0 ? "local" : "s3");
		tcase_add_checked_fixture(tc, i == 0 ? setup_local : setup_s3, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, create_and_append);
		tcase_add_test(tc, unfinished_file_leaves_nothing);
		tcase_add_test(tc, two_writers);
		tcase_add_test(tc, schema_evolution);
		tcase_add_test(tc, refuses_unknown_features);
		tcase_add_test(tc, many_uploads_found);
		suite_add_tcase(s, tc);
	}
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
