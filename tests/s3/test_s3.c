/*
 * src/s3.c against s3rver behind tests/s3/s3-server.mjs, which checks
 * every signature with AWS's own signer and implements If-None-Match.
 * PW_S3_ENDPOINT names the proxy (tests/s3/s3-check.sh sets it).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/http.h"
#include "portada/s3.h"

static struct event_base *base;
static struct pw_http *http;
static struct pw_s3 *s3;
static int pending;

struct got {
	int done;
	enum pw_s3_status status;
	char error[PW_ERROR_MAX];
	char body[256];
	size_t body_len;
	size_t nkeys;
	char **keys;
	unsigned attempts;
	unsigned long sum;
};

static const char *addressing;	/* PORTADA_S3_ADDRESSING, for config_errors */

static const char *
env_aws(const char *name)
{
	if (strcmp(name, "AWS_REGION") == 0)
		return "eu-west-3";
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0 || strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return "k";
	if (strcmp(name, "PORTADA_S3_ADDRESSING") == 0)
		return addressing;
	return NULL;
}

static const char *
env_nokeys(const char *name)
{
	return strcmp(name, "AWS_REGION") == 0 ? "eu-west-3" : NULL;
}

static const char *
env_test(const char *name)
{
	if (strcmp(name, "PORTADA_S3_ADDRESSING") == 0)
		return addressing;
	if (strcmp(name, "AWS_ENDPOINT_URL") == 0)
		return getenv("PW_S3_ENDPOINT");
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
		return "S3RVER";
	if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return getenv("PW_S3_SECRET") != NULL ? getenv("PW_S3_SECRET") : "S3RVER";
	return NULL;
}

static void
on_done(void *arg, const struct pw_s3_result *r)
{
	struct got *g = arg;

	g->done++;
	g->status = r->status;
	g->attempts = r->attempts;
	snprintf(g->error, sizeof g->error, "%s", r->error.msg);
	g->body_len = r->body != NULL ? r->body->len : 0;
	if (r->body != NULL && r->body->len > 0)
		snprintf(g->body, sizeof g->body, "%.*s", (int)r->body->len, (const char *)r->body->data);
	g->nkeys = r->nkeys;
	if (r->nkeys > 0) {
		g->keys = calloc(r->nkeys, sizeof *g->keys);
		for (size_t i = 0; i < r->nkeys; i++)
			g->keys[i] = strdup(r->keys[i]);
	}
	if (--pending == 0)
		event_base_loopbreak(base);
}

static unsigned long
sum_of(size_t n);

/* Keep a checksum of a GET's whole body. */
static void
on_done_keep(void *arg, const struct pw_s3_result *r)
{
	struct got *g = arg;
	unsigned long sum = 0;

	if (r->body != NULL)
		for (size_t i = 0; i < r->body->len; i++)
			sum = sum * 31 + r->body->data[i];
	g->sum = sum;
	on_done(arg, r);
}

static void
wait_all(void)
{
	while (pending > 0)
		event_base_dispatch(base);
}

static void
setup_with(const char *url)
{
	struct pw_s3_config cfg;
	struct pw_error err;

	base = event_base_new();
	http = pw_http_create(base, 16, 8, &err);
	ck_assert_msg(pw_s3_config_parse(&cfg, url, env_test, &err) == 0, "%s", err.msg);
	ck_assert(cfg.path_style);
	s3 = pw_s3_create(base, http, &cfg, &err);
	pw_s3_config_finish(&cfg);
}

static void
setup(void)
{
	setup_with("s3://lake/tests/run");
}

static void
teardown(void)
{
	pw_s3_destroy(s3);
	pw_http_destroy(http);
	event_base_free(base);
}

START_TEST(put_get_conditional_delete)
{
	static const char *keys[] = { "plain.json", "with space+plus%percent.parquet",
	    "C\xc3\xa1" "diz/\xe2\x82\xac sign~_.-!'()*", "_delta_log/00000000000000000000.json" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		struct got put = { 0 }, again = { 0 }, get = { 0 }, del = { 0 }, gone = { 0 };
		char data[64];

		snprintf(data, sizeof data, "{\"n\":%zu}", i);
		pending = 1;
		pw_s3_put(s3, keys[i], data, strlen(data), true, on_done, &put);
		wait_all();
		ck_assert_msg(put.status == PW_S3_OK, "%s: %s", keys[i], put.error);
		pending = 1;
		pw_s3_put(s3, keys[i], "other", 5, true, on_done, &again);
		wait_all();
		ck_assert_msg(again.status == PW_S3_EXISTS, "%s: %d %s", keys[i], again.status,
		    again.error);
		pending = 1;
		pw_s3_get(s3, keys[i], 1024, on_done, &get);
		wait_all();
		ck_assert_msg(get.status == PW_S3_OK, "%s: %s", keys[i], get.error);
		ck_assert_str_eq(get.body, data);	/* the first write stayed */
		pending = 1;
		pw_s3_delete(s3, keys[i], on_done, &del);
		wait_all();
		ck_assert_msg(del.status == PW_S3_OK, "%s: %s", keys[i], del.error);
		pending = 1;
		pw_s3_get(s3, keys[i], 1024, on_done, &gone);
		wait_all();
		ck_assert_int_eq(gone.status, PW_S3_MISSING);
	}
}
END_TEST

START_TEST(list_follows_continuation)
{
	enum { N = 1205 };
	static struct got puts_[N];
	struct got list = { 0 }, big = { 0 };
	char key[64];
	unsigned *seen = calloc(N, sizeof *seen);

	memset(puts_, 0, sizeof puts_);
	pending = N;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "many/k %05d", i);
		pw_s3_put(s3, key, "x", 1, false, on_done, &puts_[i]);
	}
	wait_all();
	for (int i = 0; i < N; i++)
		ck_assert_msg(puts_[i].status == PW_S3_OK, "%d: %s", i, puts_[i].error);
	pending = 1;
	pw_s3_list(s3, "many/", on_done, &list);
	wait_all();
	ck_assert_msg(list.status == PW_S3_OK, "%s", list.error);
	ck_assert_uint_eq(list.nkeys, N);
	for (size_t i = 0; i < list.nkeys; i++) {
		int k;

		ck_assert_msg(sscanf(list.keys[i], "k %05d", &k) == 1, "%s", list.keys[i]);
		seen[k]++;
		free(list.keys[i]);
	}
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(seen[i], 1);
	free(list.keys);
	free(seen);

	/* An object bigger than the caller allows. */
	pending = 1;
	pw_s3_get(s3, "many/k 00001", 0, on_done, &big);
	wait_all();
	ck_assert_int_eq(big.status, PW_S3_FAILED);
	ck_assert_msg(strstr(big.error, "larger than 0 bytes") != NULL, "%s", big.error);
}
END_TEST

START_TEST(wrong_secret_is_refused_at_once)
{
	struct got put = { 0 };

	teardown();
	setenv("PW_S3_SECRET", "not the secret", 1);
	setup();
	pending = 1;
	pw_s3_put(s3, "x", "y", 1, false, on_done, &put);
	wait_all();
	unsetenv("PW_S3_SECRET");
	ck_assert_int_eq(put.status, PW_S3_FAILED);
	ck_assert_uint_eq(put.attempts, 1);
	ck_assert_msg(strstr(put.error, "HTTP 403 SignatureDoesNotMatch") != NULL, "%s", put.error);
	ck_assert_msg(strstr(put.error, "S3RVER") == NULL && strstr(put.error, "not the secret")
	    == NULL, "a secret in: %s", put.error);
}
END_TEST

START_TEST(unreachable_store_retries_then_fails)
{
	struct got put = { 0 };

	teardown();
	setenv("PW_S3_ENDPOINT_SAVE", getenv("PW_S3_ENDPOINT"), 1);
	setenv("PW_S3_ENDPOINT", "http://127.0.0.1:9", 1);	/* discard: nothing listens */
	setup();
	pending = 1;
	pw_s3_put(s3, "x", "y", 1, false, on_done, &put);
	wait_all();
	setenv("PW_S3_ENDPOINT", getenv("PW_S3_ENDPOINT_SAVE"), 1);
	ck_assert_int_eq(put.status, PW_S3_FAILED);
	ck_assert_uint_eq(put.attempts, PW_S3_ATTEMPTS);
	ck_assert_msg(strstr(put.error, "after 8 attempts") != NULL, "%s", put.error);
}
END_TEST

/*
 * Through the faulty listener: drops before and after the work, 503
 * SlowDown, delays.  Every conditional PUT still ends OK exactly once (a
 * 412 after a dropped attempt is recognised as our own write), and what
 * is listed and read back is what was written.
 */
START_TEST(faults_are_retried)
{
	enum { N = 120 };
	static struct got puts_[N];
	struct got list = { 0 }, clash = { 0 };
	char key[64], data[64];
	unsigned retried = 0;

	teardown();
	setenv("PW_S3_ENDPOINT_SAVE", getenv("PW_S3_ENDPOINT"), 1);
	setenv("PW_S3_ENDPOINT", getenv("PW_S3_FAULTY_ENDPOINT"), 1);
	setup_with("s3://lake/tests/faults");
	memset(puts_, 0, sizeof puts_);
	pending = N;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "_delta_log/%020d.json", i);
		snprintf(data, sizeof data, "{\"commitInfo\":{\"n\":%d}}\n", i);
		pw_s3_put(s3, key, data, strlen(data), true, on_done, &puts_[i]);
	}
	wait_all();
	for (int i = 0; i < N; i++) {
		ck_assert_msg(puts_[i].status == PW_S3_OK, "%d: %d %s", i, puts_[i].status,
		    puts_[i].error);
		retried += puts_[i].attempts > 1;
	}
	ck_assert_msg(retried > 0, "no fault was met");
	pending = 1;
	pw_s3_list(s3, "_delta_log/", on_done, &list);
	wait_all();
	ck_assert_msg(list.status == PW_S3_OK, "%s", list.error);
	ck_assert_uint_eq(list.nkeys, N);
	for (size_t i = 0; i < list.nkeys; i++)
		free(list.keys[i]);
	free(list.keys);
	for (int i = 0; i < 30; i++) {
		struct got g = { 0 };

		snprintf(key, sizeof key, "_delta_log/%020d.json", i);
		snprintf(data, sizeof data, "{\"commitInfo\":{\"n\":%d}}\n", i);
		pending = 1;
		pw_s3_get(s3, key, 1024, on_done, &g);
		wait_all();
		ck_assert_msg(g.status == PW_S3_OK, "%s", g.error);
		ck_assert_str_eq(g.body, data);
	}
	/* Someone else's version stays theirs, faults or not. */
	for (int i = 0; i < 12; i++) {
		memset(&clash, 0, sizeof clash);
		pending = 1;
		pw_s3_put(s3, "_delta_log/00000000000000000003.json", "mine", 4, true, on_done,
		    &clash);
		wait_all();
		ck_assert_msg(clash.status == PW_S3_EXISTS, "%d: %d %s", i, clash.status,
		    clash.error);
	}
	printf("faults: %u of %d conditional PUTs needed more than one attempt\n", retried, N);
	setenv("PW_S3_ENDPOINT", getenv("PW_S3_ENDPOINT_SAVE"), 1);
}
END_TEST

static unsigned char
byte_at(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 9));
}

/* Write n bytes through an upload, then read them back whole. */
static void
upload_and_check(const char *key, size_t n, const char *what)
{
	struct got up = { 0 };
	struct pw_s3_upload *u = pw_s3_upload_open(s3, key, 5u << 20, 2, on_done, &up);
	char chunk[100000];
	struct got back = { 0 };
	size_t off = 0;

	while (off < n) {
		size_t k = n - off < sizeof chunk ? n - off : sizeof chunk;

		for (size_t i = 0; i < k; i++)
			chunk[i] = (char)byte_at(off + i);
		pw_s3_upload_write(u, chunk, k);
		off += k;
	}
	ck_assert_uint_eq(pw_s3_upload_buffered(u), n);
	pending = 1;
	pw_s3_upload_close(u);
	wait_all();
	ck_assert_msg(up.status == PW_S3_OK, "%s %s: %s", what, key, up.error);
	ck_assert_uint_eq(pw_s3_upload_buffered(u), 0);
	pw_s3_upload_free(u);
	/* Read back whole (it fits the test's memory) and compare sums. */
	pending = 1;
	pw_s3_get(s3, key, n + 1, on_done_keep, &back);
	wait_all();
	ck_assert_msg(back.status == PW_S3_OK, "%s %s: %s", what, key, back.error);
	ck_assert_uint_eq(back.body_len, n);
	ck_assert_msg(back.sum == sum_of(n), "%s %s: the object differs", what, key);
}

static unsigned long
sum_of(size_t n)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = sum * 31 + byte_at(i);
	return sum;
}

START_TEST(multipart_uploads)
{
	upload_and_check("data/big file.parquet", (23u << 20) + 12345, "clean");
	upload_and_check("data/small.parquet", 1000, "clean");
	upload_and_check("data/empty.parquet", 0, "clean");
	upload_and_check("data/exactly two parts.parquet", 10u << 20, "clean");
	teardown();
	setenv("PW_S3_ENDPOINT_SAVE", getenv("PW_S3_ENDPOINT"), 1);
	setenv("PW_S3_ENDPOINT", getenv("PW_S3_FAULTY_ENDPOINT"), 1);
	setup_with("s3://lake/tests/faults");
	upload_and_check("data/big through faults.parquet", (17u << 20) + 1, "faulty");
	setenv("PW_S3_ENDPOINT", getenv("PW_S3_ENDPOINT_SAVE"), 1);
}
END_TEST

START_TEST(config_errors)
{
	struct pw_s3_config cfg;
	struct pw_error err;

	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3:/x", env_test, &err), -1);
	ck_assert_str_eq(err.msg, "expected s3://bucket[/prefix], got 's3:/x'");
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://Bad_Bucket/x", env_test, &err), -1);
	ck_assert_str_eq(err.msg, "bucket name 'Bad_Bucket' has the character 'B', which S3 does "
	    "not allow");
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://b//a/b//", env_test, &err), 0);
	ck_assert_str_eq(cfg.prefix, "a/b/");
	ck_assert_str_eq(cfg.region, "us-east-1");
	pw_s3_config_finish(&cfg);
	/* Addressing: AWS virtual-hosted, path-style for dots or an endpoint. */
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://lake/x", env_aws, &err), 0);
	ck_assert(!cfg.path_style);
	ck_assert_str_eq(cfg.endpoint, "https://s3.eu-west-3.amazonaws.com");
	ck_assert_str_eq(cfg.region, "eu-west-3");
	pw_s3_config_finish(&cfg);
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://my.lake/x", env_aws, &err), 0);
	ck_assert(cfg.path_style);
	pw_s3_config_finish(&cfg);
	addressing = "path";
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://lake/x", env_aws, &err), 0);
	ck_assert(cfg.path_style);
	pw_s3_config_finish(&cfg);
	addressing = "virtual";
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://lake/x", env_test, &err), 0);
	ck_assert(!cfg.path_style);
	pw_s3_config_finish(&cfg);
	addressing = "sideways";
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://lake/x", env_test, &err), -1);
	ck_assert_str_eq(err.msg, "PORTADA_S3_ADDRESSING must be path, virtual or auto, got "
	    "'sideways'");
	addressing = NULL;
	ck_assert_int_eq(pw_s3_config_parse(&cfg, "s3://lake/x", env_nokeys, &err), -1);
	ck_assert_str_eq(err.msg, "s3://lake/x: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
	    "must be set");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (getenv("PW_S3_ENDPOINT") == NULL) {
		fprintf(stderr, "PW_S3_ENDPOINT is not set: run tests/s3/s3-check.sh\n");
		return 77;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, put_get_conditional_delete);
	tcase_add_test(tc, list_follows_continuation);
	tcase_add_test(tc, wrong_secret_is_refused_at_once);
	tcase_add_test(tc, unreachable_store_retries_then_fails);
	tcase_add_test(tc, faults_are_retried);
	tcase_add_test(tc, multipart_uploads);
	tcase_add_test(tc, config_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
