/*
 * Malformed inputs: every bad file or hash ends with status -1 and an
 * error_message that says what is wrong and where, and the worker goes on
 * serving the files queued after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

struct bad {
	const char *id;
	const char *file_type;		/* NULL: no file_type field */
	const char *path;		/* NULL: no file_path field */
	const char *expect[3];		/* substrings of error_message */
};

/* h_path() and h_write() return a ring of 16 buffers: the table needs more. */
static char *kept[64];
static size_t n_kept;

static const char *
keep(const char *s)
{
	char *p = strdup(s);

	ck_assert(p != NULL && n_kept < sizeof kept / sizeof kept[0]);
	kept[n_kept++] = p;	/* freed at the end of the test */
	return p;
}

static void
free_kept(void)
{
	while (n_kept > 0)
		free(kept[--n_kept]);
}

#define P(rel) keep(h_path(rel))

/* Write a file under ingest/bad/ and return its path. */
static const char *
bad_file(const char *name, const char *content, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof rel, "ingest/bad/%s", name);
	return keep(h_write(rel, content, len));
}

#define BAD(name, text) bad_file(name, text, sizeof text - 1)

static char *
deep_nesting(void)
{
	size_t n = 70, i, off = 0;
	char *s = malloc(2 * n + 32);

	ck_assert(s != NULL);
	off += (size_t)sprintf(s, "[{\"a\":");
	for (i = 0; i < n; i++)
		s[off++] = '[';
	for (i = 0; i < n; i++)
		s[off++] = ']';
	off += (size_t)sprintf(s + off, "}]\n");
	return s;
}

static char *
big_record(void)
{
	size_t pad = 3000;
	char *s = malloc(pad + 128);

	ck_assert(s != NULL);
	sprintf(s, "[\n  {\"ok\": 1},\n  {\"raw_text\": \"%0*d\"}\n]\n", (int)pad, 7);
	return s;
}

START_TEST(malformed_inputs)
{
	char *deep = deep_nesting(), *big = big_record();
	char outside[256];
	const char *good;
	struct bad cases[] = {
		{ "empty", "entry", BAD("empty.json", ""),
		  { "empty file", NULL } },
		{ "blank", "entry", BAD("blank.json", " \n\t\r\n  \n"),
		  { "empty file", NULL } },
		{ "top-object", "entry", BAD("object.json", "\n  {\"ship_name\": \"A\"}\n"),
		  { "expected a JSON array at the top level", "found an object",
		    "line 2, column 3" } },
		{ "top-number", "entry", BAD("number.json", "42\n"),
		  { "expected a JSON array at the top level", "found a number",
		    "line 1, column 1" } },
		{ "bad-utf8", "entry", BAD("utf8.json", "[\n  {\"ship_name\": \"Se\xff" "ora\"}\n]\n"),
		  { "invalid UTF-8", "line 2, column 20", "0xFF" } },
		{ "too-deep", "entry", bad_file("deep.json", deep, strlen(deep)),
		  { "nesting deeper than 64 levels", "line 1, column 69" } },
		{ "truncated-array", "entry", BAD("trunc-array.json", "[{\"a\": 1},\n {\"b\": 2}"),
		  { "unexpected end of file", "unclosed array", "line 2" } },
		{ "truncated-string", "entry", BAD("trunc-string.json", "[{\"a\": \"abc"),
		  { "unexpected end of file", "unterminated string", "line 1" } },
		{ "missing-comma", "entry", BAD("comma.json", "[{\"a\": 1} {\"b\": 2}]"),
		  { "invalid JSON at line 1, column 11", "expected ','" } },
		{ "not-an-object", "entry", BAD("number-record.json", "[{\"a\": 1},\n 42,\n {\"b\": 2}]"),
		  { "record 2 at line 2, column 2", "is a number", "expected an object" } },
		{ "voices-not-array", "entity_port",
		  BAD("voices.json", "{\"Barcelona\": [\"Barna\"],\n \"Marsella\": \"Marseille\"}"),
		  { "entity \"Marsella\" at line 2, column 2", "voices must be an array",
		    "found a string" } },
		{ "voices-not-strings", "entity_port",
		  BAD("voices2.json", "{\"names\": {\"Barcelona\": [\"Barna\", 3]}}"),
		  { "entity \"Barcelona\"", "voices must be an array of strings",
		    "element 2" } },
		{ "entity-array", "entity_flag", BAD("entity-array.json", "[\"Espa\xc3\xb1ola\"]"),
		  { "expected a JSON object at the top level", "found an array" } },
		{ "directory", "entry", P("ingest/bad/dir.json"),
		  { "is a directory", "not a regular file" } },
		{ "fifo", "entry", P("ingest/bad/fifo.json"),
		  { "a FIFO", "not a regular file" } },
		{ "not-found", "entry", P("ingest/bad/nope.json"),
		  { "file not found", "ingest/bad/nope.json" } },
		{ "outside-root", "entry", outside,
		  { "outside the ingest roots", "outside/secret.json" } },
		{ "symlink-out", "entry", P("ingest/bad/link.json"),
		  { "outside the ingest roots", "ingest/bad/link.json" } },
		{ "relative-path", "entry", "ingest/bad/empty.json",
		  { "not an absolute path", NULL } },
		{ "file-type-x", "x", BAD("x.json", "[]"),
		  { "unsupported file_type \"x\"", NULL } },
		{ "no-file-type", NULL, BAD("nt.json", "[]"),
		  { "missing field file_type", NULL } },
		{ "no-file-path", "entry", NULL,
		  { "missing field file_path", NULL } },
		{ "yaml", "entity_flag", BAD("flags.yaml", "Espa\xc3\xb1ola:\n  - esp.\n  - [unclosed\n"),
		  { "entity \"Espa\xc3\xb1ola\" at line 1, column 1",
		    "voices must be a sequence of strings", "flags.yaml" } },
		{ "yml", "entity_flag", BAD("flags.yml", "Inglesa:\n  - ingl.\n  bad: [\n"),
		  { "invalid YAML at line 3", "flags.yml", NULL } },
		{ "too-big", "entry", bad_file("big.json", big, strlen(big)),
		  { "record 2 at line 3, column 3", "larger than the 1024-byte limit" } },
		{ "trailing-garbage", "entry", BAD("trailing.json", "[{\"a\": 1}]\n]"),
		  { "invalid JSON at line 2, column 1", NULL } },
		{ "bad-escape", "entry", BAD("escape.json", "[{\"a\": \"\\q\"}]"),
		  { "invalid JSON at line 1, column", "escape" } },
	};
	size_t n = sizeof cases / sizeof cases[0], i, j;
	char *ids[64];
	struct h_worker w;
	struct h_log *log;

	/* The file system fixtures the table points at. */
	ck_assert_int_eq(mkdir(h_path("ingest/bad/dir.json"), 0700), 0);
	ck_assert_int_eq(mkfifo(h_path("ingest/bad/fifo.json"), 0600), 0);
	snprintf(outside, sizeof outside, "%s", h_write_str("outside/secret.json", "[{\"a\": 1}]"));
	ck_assert_int_eq(symlink(outside, h_path("ingest/bad/link.json")), 0);
	good = h_write_entries("ingest/good.json", 4, 0);

	for (i = 0; i < n; i++) {
		ids[i] = (char *)cases[i].id;
		if (cases[i].path != NULL && cases[i].file_type != NULL)
			h_enqueue(H_API_NEW, cases[i].id, cases[i].path, cases[i].file_type, "bad");
		else if (cases[i].path != NULL)
			h_enqueue_fields(cases[i].id, "file_path", cases[i].path, "status", "0",
			    "user", "bad", "timestamp", h_timestamp(), NULL);
		else
			h_enqueue_fields(cases[i].id, "file_type", cases[i].file_type,
			    "status", "0", "user", "bad", "timestamp", h_timestamp(), NULL);
	}
	h_enqueue(H_API_NEW, "good-after", good, "entry", "ok");

	h_worker_start(&w, "malformed", "--exit-when-idle", "--max-inflight", "4",
	    "--max-record-bytes", "1024", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	log = h_log_load(w.log);

	for (i = 0; i < n; i++) {
		char *status = h_hget(cases[i].id, "status");
		char *msg = h_hget(cases[i].id, "error_message");
		char *fin = h_hget(cases[i].id, "finished_at");

		printf("%-20s %s\n", cases[i].id, msg != NULL ? msg : "(no error_message)");
		ck_assert_msg(status != NULL && strcmp(status, "-1") == 0,
		    "%s: status %s, expected -1", cases[i].id, status ? status : "(nil)");
		ck_assert_msg(msg != NULL, "%s: no error_message", cases[i].id);
		ck_assert_msg(fin != NULL, "%s: no finished_at", cases[i].id);
		for (j = 0; j < 3 && cases[i].expect[j] != NULL; j++)
			ck_assert_msg(strstr(msg, cases[i].expect[j]) != NULL,
			    "%s: error_message '%s' lacks '%s'", cases[i].id, msg,
			    cases[i].expect[j]);
		/* The log says the same, once. */
		ck_assert_int_eq(h_log_count(log, "failed", cases[i].id), 1);
		ck_assert_str_eq(h_log_msg(log, "failed", cases[i].id), msg);
		ck_assert_int_eq(h_log_count(log, "done", cases[i].id), 0);
		free(status);
		free(msg);
		free(fin);
	}
	/* The error messages differ: each names its own problem. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			const char *a = h_log_msg(log, "failed", ids[i]);
			const char *b = h_log_msg(log, "failed", ids[j]);

			if (strcmp(cases[i].expect[0], cases[j].expect[0]) != 0)
				ck_assert_msg(strcmp(a, b) != 0, "%s and %s fail alike: %s",
				    ids[i], ids[j], a);
		}

	{
		char *st = h_hget("good-after", "status"), *rec = h_hget("good-after", "records");

		ck_assert_msg(st != NULL && strcmp(st, "2") == 0, "good file after the bad "
		    "ones: status %s", st ? st : "(nil)");
		ck_assert_str_eq(rec, "4");
		free(st);
		free(rec);
	}
	h_assert_lists_empty("malformed");
	/* Nothing was read outside the root; the symlink target is untouched. */
	ck_assert_int_eq(access(outside, R_OK), 0);
	ck_assert_int_eq(h_log_count(log, "failed", NULL), n);
	ck_assert_int_eq(h_log_count(log, "done", NULL), 1);
	ck_assert_int_eq(log->n_foreign, 0);
	h_log_free(log);
	free(deep);
	free(big);
	free_kept();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("malformed");
	TCase *tc = h_tcase("malformed", false);

	tcase_add_test(tc, malformed_inputs);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
