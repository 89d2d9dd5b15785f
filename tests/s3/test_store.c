/*
 * One conformance test for both storage backends (src/store.c): a local
 * directory always, and S3 (s3rver behind tests/s3/s3-server.mjs) when
 * PW_S3_ENDPOINT is set.  The same calls must give the same answers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portada/http.h"
#include "portada/store.h"

static struct event_base *base;
static struct pw_http *http;
static struct pw_store *st;
static int pending;
static int in_call;		/* done() must never run inside a call */
static char tmpdir[64];
static char prefix[64];		/* unique per run: s3rver keeps its data */

struct got {
	int done;
	enum pw_store_status status;
	char error[PW_ERROR_MAX];
	unsigned long sum;
	size_t len;
	size_t nnames;
	char names[8][128];
	int early;
};

static const char *
env_s3(const char *name)
{
	if (strcmp(name, "AWS_ENDPOINT_URL") == 0)
		return getenv("PW_S3_ENDPOINT");
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
		return "S3RVER";
	if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return getenv("PW_S3_SECRET") != NULL ? getenv("PW_S3_SECRET") : "S3RVER";
	return NULL;
}

static void
on_done(void *arg, const struct pw_store_result *r)
{
	struct got *g = arg;

	g->early |= in_call;
	g->done++;
	g->status = r->status;
	snprintf(g->error, sizeof g->error, "%s", r->error.msg);
	g->len = r->len;
	g->sum = 0;
	for (size_t i = 0; i < r->len; i++)
		g->sum = g->sum * 31 + r->data[i];
	g->nnames = r->nnames;
	for (size_t i = 0; i < r->nnames && i < 8; i++)
		snprintf(g->names[i], sizeof g->names[i], "%s", r->names[i]);
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void
wait_all(void)
{
	while (pending > 0)
		event_base_dispatch(base);
}

static unsigned long
sum(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned long s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + b[i];
	return s;
}

static void
open_store(const char *lake)
{
	struct pw_error err;

	base = event_base_new();
	http = pw_http_create(base, 16, 8, &err);
	st = pw_store_open(base, http, lake, env_s3, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
}

/* Only pw_store_mkdir() makes directories (a no-op on S3). */
static void
make_dirs(void)
{
	char dir[160];
	struct pw_error err;

	snprintf(dir, sizeof dir, "%s/_delta_log/", prefix);
	ck_assert_msg(pw_store_mkdir(st, dir, &err) == 0, "%s", err.msg);
}

static void
setup_local(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	strcat(tmpdir, "/lake");
	snprintf(prefix, sizeof prefix, "t");
	open_store(tmpdir);
	make_dirs();
}

static void
setup_s3(void)
{
	snprintf(prefix, sizeof prefix, "t%d-%ld", (int)getpid(), (long)time(NULL));
	open_store("s3://lake/conformance");
	tmpdir[0] = '\0';
	make_dirs();
}

static void
teardown(void)
{
	pw_store_close(st);
	pw_http_destroy(http);
	event_base_free(base);
	if (tmpdir[0] != '\0') {
		char cmd[128];

		*strrchr(tmpdir, '/') = '\0';
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		ck_assert_int_eq(system(cmd), 0);
	}
}

static const char *
key(const char *rel)
{
	static char buf[4][160];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", prefix, rel);
	return buf[i];
}

START_TEST(put_if_absent_get_list_delete)
{
	struct got a = { 0 }, b = { 0 }, g = { 0 }, m = { 0 }, l = { 0 }, d = { 0 }, gone = { 0 };
	const char *v0 = "{\"protocol\":{}}\n", *v1 = "{\"add\":{}}\n";

	pending = 1;
	in_call = 1;
	pw_store_put_if_absent(st, key("_delta_log/00000000000000000000.json"), v0, strlen(v0),
	    on_done, &a);
	in_call = 0;
	wait_all();
	ck_assert_msg(a.status == PW_STORE_OK, "%s", a.error);
	pending = 2;
	pw_store_put_if_absent(st, key("_delta_log/00000000000000000000.json"), v1, strlen(v1),
	    on_done, &b);
	pw_store_put_if_absent(st, key("_delta_log/00000000000000000001.json"), v1, strlen(v1),
	    on_done, &g);
	wait_all();
	ck_assert_int_eq(b.status, PW_STORE_EXISTS);
	ck_assert_int_eq(g.status, PW_STORE_OK);
	memset(&g, 0, sizeof g);
	pending = 2;
	pw_store_get(st, key("_delta_log/00000000000000000000.json"), 1 << 20, on_done, &g);
	pw_store_get(st, key("_delta_log/00000000000000000009.json"), 1 << 20, on_done, &m);
	wait_all();
	ck_assert_int_eq(g.status, PW_STORE_OK);
	ck_assert_uint_eq(g.len, strlen(v0));
	ck_assert(g.sum == sum(v0, strlen(v0)));
	ck_assert_int_eq(m.status, PW_STORE_MISSING);
	pending = 1;
	pw_store_list(st, key("_delta_log/"), on_done, &l);
	wait_all();
	ck_assert_msg(l.status == PW_STORE_OK, "%s", l.error);
	ck_assert_uint_eq(l.nnames, 2);
	/* Names relative to the listed prefix, exactly, on both backends. */
	ck_assert((strcmp(l.names[0], "00000000000000000000.json") == 0 &&
	    strcmp(l.names[1], "00000000000000000001.json") == 0) ||
	    (strcmp(l.names[1], "00000000000000000000.json") == 0 &&
	    strcmp(l.names[0], "00000000000000000001.json") == 0));
	pending = 1;
	pw_store_delete(st, key("_delta_log/00000000000000000001.json"), on_done, &d);
	wait_all();
	ck_assert_int_eq(d.status, PW_STORE_OK);
	pending = 1;
	pw_store_get(st, key("_delta_log/00000000000000000001.json"), 1 << 20, on_done, &gone);
	wait_all();
	ck_assert_int_eq(gone.status, PW_STORE_MISSING);
	ck_assert(!a.early && !b.early && !g.early && !m.early && !l.early);
}
END_TEST

START_TEST(one_winner_of_a_version)
{
	enum { N = 16 };
	struct got g[N], back = { 0 };
	char data[N][32];
	int won = -1, exists = 0;

	memset(g, 0, sizeof g);
	pending = N;
	for (int i = 0; i < N; i++) {
		snprintf(data[i], sizeof data[i], "{\"writer\":%d}\n", i);
		pw_store_put_if_absent(st, key("_delta_log/00000000000000000005.json"), data[i],
		    strlen(data[i]), on_done, &g[i]);
	}
	wait_all();
	for (int i = 0; i < N; i++) {
		ck_assert_msg(g[i].status == PW_STORE_OK || g[i].status == PW_STORE_EXISTS, "%d: %s",
		    i, g[i].error);
		if (g[i].status == PW_STORE_OK) {
			ck_assert_msg(won == -1, "two winners: %d and %d", won, i);
			won = i;
		} else {
			exists++;
		}
	}
	ck_assert_int_ne(won, -1);
	ck_assert_int_eq(exists, N - 1);
	pending = 1;
	pw_store_get(st, key("_delta_log/00000000000000000005.json"), 1024, on_done, &back);
	wait_all();
	ck_assert_msg(back.sum == sum(data[won], strlen(data[won])), "won %d len %zu status %d", won, back.len, back.status);
}
END_TEST

START_TEST(writers)
{
	struct got w1 = { 0 }, back = { 0 }, gone = { 0 };
	struct pw_store_writer *w;
	static char chunk[65536];
	unsigned long s = 0;
	size_t total = 0;

	pending = 1;
	w = pw_store_writer_open(st, key("part-0001.zstd.parquet"), on_done, &w1);
	for (int k = 0; k < 200; k++) {		/* 12.5 MiB */
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (char)(k * 7 + i * 13 + (i >> 10));
		pw_store_writer_write(w, chunk, sizeof chunk);
		for (size_t i = 0; i < sizeof chunk; i++)
			s = s * 31 + (unsigned char)chunk[i];
		total += sizeof chunk;
	}
	ck_assert_uint_eq(pw_store_writer_size(w), total);
	in_call = 1;
	pw_store_writer_close(w);
	in_call = 0;
	wait_all();
	ck_assert_msg(w1.status == PW_STORE_OK, "%s", w1.error);
	ck_assert(!w1.early);
	pending = 1;
	pw_store_get(st, key("part-0001.zstd.parquet"), 16u << 20, on_done, &back);
	wait_all();
	ck_assert_msg(back.status == PW_STORE_OK, "%s", back.error);
	ck_assert_uint_eq(back.len, total);
	ck_assert(back.sum == s);

	/* An aborted writer leaves nothing and calls nothing. */
	w = pw_store_writer_open(st, key("part-0002.zstd.parquet"), on_done, &w1);
	pw_store_writer_write(w, chunk, sizeof chunk);
	pw_store_writer_abort(w);
	pending = 1;
	pw_store_get(st, key("part-0002.zstd.parquet"), 16u << 20, on_done, &gone);
	wait_all();
	ck_assert_int_eq(gone.status, PW_STORE_MISSING);
	ck_assert_int_eq(w1.done, 1);
}
END_TEST

/*
 * How far behind the store is (what the worker's back-pressure reads):
 * whole parts waiting count, the part being filled does not (it leaves
 * only when more is written, so a reader paused on it would wait
 * forever), and it all drains once the parts are up.
 */
START_TEST(backlog_counts_whole_parts)
{
	struct got w1 = { 0 };
	struct pw_store_writer *w;
	static char chunk[1 << 20];

	w = pw_store_writer_open(st, key("part-backlog.parquet"), on_done, &w1);
	memset(chunk, 'x', sizeof chunk);
	for (int k = 0; k < 5; k++)
		pw_store_writer_write(w, chunk, sizeof chunk);
	ck_assert_uint_eq(pw_store_buffered(st), 0);	/* 5 MiB: still filling the first */
	for (int k = 0; k < 12; k++)
		pw_store_writer_write(w, chunk, sizeof chunk);
	/* 17 MiB: two 8 MiB parts cut, 1 MiB filling. */
	ck_assert_uint_eq(pw_store_buffered(st), 16u << 20);
	for (int i = 0; i < 2000 && pw_store_buffered(st) > 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_uint_eq(pw_store_buffered(st), 0);
	ck_assert_int_eq(w1.done, 0);
	pending = 1;
	pw_store_writer_close(w);
	wait_all();
	ck_assert_msg(w1.status == PW_STORE_OK, "%s", w1.error);
}
END_TEST

/* S3: a writer whose upload fails while it is still written to hears of
 * it at close(), once, and never before. */
START_TEST(failure_is_told_at_close)
{
	struct got w1 = { 0 };
	struct pw_store_writer *w;
	static char chunk[1 << 20];

	teardown();
	setenv("PW_S3_SECRET", "wrong", 1);
	setup_s3();
	unsetenv("PW_S3_SECRET");
	w = pw_store_writer_open(st, key("part-bad.parquet"), on_done, &w1);
	for (int k = 0; k < 24; k++) {
		memset(chunk, k, sizeof chunk);
		pw_store_writer_write(w, chunk, sizeof chunk);
		/* Let the parts go (and fail) between writes. */
		for (int i = 0; i < 20; i++)
			event_base_loop(base, EVLOOP_NONBLOCK);
		ck_assert_int_eq(w1.done, 0);
	}
	pending = 1;
	pw_store_writer_close(w);
	wait_all();
	ck_assert_int_eq(w1.done, 1);
	ck_assert_int_eq(w1.status, PW_STORE_FAILED);
	ck_assert_msg(strstr(w1.error, "SignatureDoesNotMatch") != NULL, "%s", w1.error);
}
END_TEST

/* The check a worker makes at start: passes on a store that writes if
 * absent (and leaves nothing behind), fails on one that ignores
 * If-None-Match, naming the problem. */
START_TEST(probe)
{
	struct got g = { 0 }, l = { 0 };

	pending = 1;
	in_call = 1;
	pw_store_probe(st, on_done, &g);
	in_call = 0;
	wait_all();
	ck_assert_msg(g.status == PW_STORE_OK, "%s", g.error);
	ck_assert_int_eq(g.early, 0);
	pending = 1;
	pw_store_list(st, "_portada/", on_done, &l);
	wait_all();
	ck_assert_uint_eq(l.nnames, 0);
	if (tmpdir[0] == '\0' && getenv("PW_S3_PLAIN_ENDPOINT") != NULL) {
		teardown();
		setenv("PW_S3_ENDPOINT_SAVE", getenv("PW_S3_ENDPOINT"), 1);
		setenv("PW_S3_ENDPOINT", getenv("PW_S3_PLAIN_ENDPOINT"), 1);
		setup_s3();
		setenv("PW_S3_ENDPOINT", getenv("PW_S3_ENDPOINT_SAVE"), 1);
		memset(&g, 0, sizeof g);
		pending = 1;
		pw_store_probe(st, on_done, &g);
		wait_all();
		ck_assert_int_eq(g.status, PW_STORE_FAILED);
		ck_assert_msg(strstr(g.error, "the store ignores If-None-Match: *") != NULL, "%s",
		    g.error);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *local = tcase_create("local");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(local, setup_local, teardown);
	tcase_set_timeout(local, 60);
	tcase_add_test(local, put_if_absent_get_list_delete);
	tcase_add_test(local, one_winner_of_a_version);
	tcase_add_test(local, writers);
	tcase_add_test(local, probe);
	suite_add_tcase(s, local);
	if (getenv("PW_S3_ENDPOINT") != NULL) {
		TCase *s3 = tcase_create("s3");

		tcase_add_checked_fixture(s3, setup_s3, teardown);
		tcase_set_timeout(s3, 120);
		tcase_add_test(s3, put_if_absent_get_list_delete);
		tcase_add_test(s3, one_winner_of_a_version);
		tcase_add_test(s3, writers);
		tcase_add_test(s3, failure_is_told_at_close);
		tcase_add_test(s3, probe);
		tcase_add_test(s3, backlog_counts_whole_parts);
		suite_add_tcase(s, s3);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
