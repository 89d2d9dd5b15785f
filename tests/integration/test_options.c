/*
 * Options: a bad value exits 2 with one line that names the option and
 * what was wrong, before any connection is tried; --help exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

struct bad_option {
	const char *args[4];
	const char *expect[2];
};

static const struct bad_option bad_options[] = {
	{ { "--max-inflight=0" }, { "--max-inflight", "out of range" } },
	{ { "--max-inflight", "many" }, { "--max-inflight", "whole number" } },
	{ { "--redis=http://x" }, { "--redis", "redis:// or unix://" } },
	{ { "--redis=rediss://host" }, { "--redis", "TLS" } },
	{ { "--redis=unix://relative.sock" }, { "--redis", "absolute" } },
	{ { "--fetch=pop" }, { "--fetch", "'pop'" } },
	{ { "--status-scheme=tasks" }, { "--status-scheme", "'tasks'" } },
	{ { "--drain-timeout=soon" }, { "--drain-timeout", "duration" } },
	{ { "--block-timeout=0" }, { "--block-timeout", "out of range" } },
	{ { "--max-record-bytes=12q" }, { "--max-record-bytes", "size" } },
	{ { "--log-format=xml" }, { "--log-format", "'xml'" } },
	{ { "--ingest-root=ingest" }, { "--ingest-root", "absolute" } },
	{ { "--worker-id=a b" }, { "--worker-id", "without spaces" } },
	{ { "--bogus" }, { "unknown option", "--bogus" } },
	{ { "--max-inflight" }, { "--max-inflight", "needs a value" } },
	{ { "stray" }, { "unexpected argument", "stray" } },
};

static void
check_bad(const struct bad_option *b)
{
	const char *argv[8];
	struct h_worker w;
	char *err, *out, *nl;
	size_t n = 0, i;
	int status;

	for (i = 0; i < 4 && b->args[i] != NULL; i++)
		argv[n++] = b->args[i];
	argv[n] = NULL;
	h_worker_start_argv(&w, argv);
	status = h_worker_wait_status(&w, 10);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	    "%s: wait status %d, expected exit 2", b->args[0], status);
	err = h_read_file(w.log, NULL);
	out = h_read_file(w.out, NULL);
	printf("%-28s -> %s", b->args[0], err);
	nl = strchr(err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "%s: expected exactly one line on "
	    "stderr, got '%s'", b->args[0], err);
	ck_assert_msg(strncmp(err, "portada-worker: ", 16) == 0, "%s: '%s'", b->args[0], err);
	for (i = 0; i < 2; i++)
		ck_assert_msg(strstr(err, b->expect[i]) != NULL, "%s: '%s' lacks '%s'",
		    b->args[0], err, b->expect[i]);
	ck_assert_msg(out[0] == '\0', "%s: wrote to stdout: %s", b->args[0], out);
	free(err);
	free(out);
}

START_TEST(bad_option_exits_2)
{
	check_bad(&bad_options[_i]);
}
END_TEST

START_TEST(help_exits_0)
{
	const char *argv[] = { "--help", NULL };
	const char *argv_bad_and_help[] = { "--max-inflight=5", "-h", NULL };
	const char *argv_version[] = { "--version", NULL };
	struct h_worker w;
	char *out, *err;

	h_worker_start_argv(&w, argv);
	ck_assert_int_eq(h_worker_wait(&w, 10), 0);
	out = h_read_file(w.out, NULL);
	err = h_read_file(w.log, NULL);
	ck_assert_msg(strncmp(out, "usage: portada-worker", 21) == 0, "--help: '%.200s'", out);
	ck_assert_ptr_nonnull(strstr(out, "--max-inflight"));
	ck_assert_ptr_nonnull(strstr(out, "--drain-timeout"));
	ck_assert_ptr_nonnull(strstr(out, "--exit-when-idle"));
	ck_assert_str_eq(err, "");
	free(out);
	free(err);

	h_worker_start_argv(&w, argv_bad_and_help);
	ck_assert_int_eq(h_worker_wait(&w, 10), 0);
	out = h_read_file(w.out, NULL);
	ck_assert_ptr_nonnull(strstr(out, "usage: portada-worker"));
	free(out);

	h_worker_start_argv(&w, argv_version);
	ck_assert_int_eq(h_worker_wait(&w, 10), 0);
	out = h_read_file(w.out, NULL);
	ck_assert_msg(strncmp(out, "portada-worker ", 15) == 0, "--version: '%s'", out);
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("options");
	TCase *tc = h_tcase_noredis("options");

	tcase_add_loop_test(tc, bad_option_exits_2, 0,
	    (int)(sizeof bad_options / sizeof bad_options[0]));
	tcase_add_test(tc, help_exits_0);
	suite_add_tcase(s, tc);
	return h_main(s, false);
}
