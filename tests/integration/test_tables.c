/*
 * The worker and its Delta tables: two workers on one queue and one lake,
 * schema evolution through --table-spec, refusals of
 * tables the worker cannot honour.  What the log holds is read back with
 * the library's own log reader here (tests/delta/worker-e2e.sh reads the
 * same tables with DuckDB and hyparquet instead).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "../common/tablecheck.h"
#include "portada/deltalog.h"
#include "portada/lake.h"
#include "portada/table.h"


/* Two processes race for version 0 of an empty lake, then for every commit. */
START_TEST(two_workers_one_lake)
{
	enum { N = 600 };
	char **ids = h_ids("tw", N);
	const char *paths[TC_LOAD_FILES];
	struct h_worker a, b;
	struct h_log *la, *lb;
	struct tc_view view;
	size_t ca, cb;

	h_write_load_files(paths, TC_LOAD_FILES, 2, 3);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "tw");
	h_worker_start(&a, "tw-a", "--exit-when-idle", "--commit-interval-ms", "5",
	    "--max-inflight", "16", NULL);
	h_worker_start(&b, "tw-b", "--exit-when-idle", "--commit-interval-ms", "5",
	    "--max-inflight", "16", NULL);
	ck_assert_int_eq(h_worker_wait(&a, 120), 0);
	ck_assert_int_eq(h_worker_wait(&b, 120), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 2, 3, &view);
	ck_assert_uint_eq(view.rows, tc_sum_expected(N, 2, 3));
	ck_assert_uint_eq(view.metadata, 1);
	la = h_log_load(a.log);
	lb = h_log_load(b.log);
	ca = h_log_count(la, "commit", NULL);
	cb = h_log_count(lb, "commit", NULL);
	printf("two workers: %zu + %zu commits, newest version %" PRIu64 ", %" PRIu64 " rows\n",
	    ca, cb, view.versions, view.rows);
	ck_assert_msg(ca > 0 && cb > 0, "one worker committed nothing (%zu, %zu)", ca, cb);
	/* Versions 1..max are exactly the two workers' commits. */
	ck_assert_uint_eq(ca + cb, view.versions);
	ck_assert_int_eq(h_log_count(la, "failed", NULL) + h_log_count(lb, "failed", NULL), 0);
	h_log_free(la);
	h_log_free(lb);
	h_assert_lists_empty("tw-a");
	h_assert_lists_empty("tw-b");
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * Every slot taken by an upload waiting in the open batch: nothing else can
 * join it, so it commits at once rather than after --commit-interval-ms
 * (here a minute: waiting for it, 300 uploads in 16 slots would take 19).
 */
START_TEST(full_slots_commit_at_once)
{
	enum { N = 300 };
	char **ids = h_ids("fs", N);
	const char *paths[TC_LOAD_FILES];
	struct tc_view view;
	struct h_worker w;
	struct h_log *log;
	size_t commits;

	h_write_load_files(paths, TC_LOAD_FILES, 2, 3);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "fs");
	h_worker_start(&w, "fs", "--exit-when-idle", "--commit-interval-ms", "60000",
	    "--max-inflight", "16", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 30 * h_slow()), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 2, 3, &view);
	ck_assert_uint_eq(view.rows, tc_sum_expected(N, 2, 3));
	log = h_log_load(w.log);
	commits = h_log_count(log, "commit", NULL);
	printf("full slots: %zu commits of at most 16 uploads\n", commits);
	ck_assert_uint_ge(commits, N / 16);
	ck_assert_uint_eq(commits, view.versions);
	h_log_free(log);
	h_assert_lists_empty("fs");
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * Redis loses everything after the uploads were queued (a restart from an
 * old snapshot): every hash is back at status 0 without a trace of the
 * work, every id is queued again.  The table still holds them all, so a
 * worker must find each one there and write nothing twice.
 */
START_TEST(redis_rollback)
{
	enum { N = 300 };
	char **ids = h_ids("rb", N);
	const char *paths[TC_LOAD_FILES];
	struct tc_view before, after;
	struct h_worker w;
	struct h_log *log;

	h_write_load_files(paths, TC_LOAD_FILES, 4, 2);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "rb");
	h_worker_start(&w, "rb", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 4, 2, &before);

	for (size_t i = 0; i < N; i++) {
		h_ok("HDEL file:%s worker started_at first_started_at finished_at records "
		    "delta_table delta_version", ids[i]);
		h_ok("HSET file:%s status 0", ids[i]);
		h_ok("RPUSH files:all %s", ids[i]);
	}
	h_worker_start(&w, "rb", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	log = h_log_load(w.log);
	ck_assert_int_eq(h_log_count(log, "already-committed", NULL), N);
	ck_assert_int_eq(h_log_count(log, "commit", NULL), 0);
	h_log_free(log);
	tc_check_table(H->lake, "ship_entries", ids, N, 4, 2, &after);
	ck_assert_uint_eq(after.versions, before.versions);
	ck_assert_uint_eq(after.rows, tc_sum_expected(N, 4, 2));
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * The lake fails under a running worker, and for good: its table
 * directory goes away.  No upload is to blame, so none is failed; the
 * worker pauses, puts every upload not committed back in the queue with
 * status 0, and its first probe finds the table's log gone: a commit now
 * would write a table without its history, so it exits 1 (lake-lost).
 * A full or read-only disk pauses and resumes instead (tests/chaos).
 */
START_TEST(lake_failure)
{
	enum { N = 40 };
	char **ids = h_ids("lf", N), cmd[PATH_MAX + 32];
	const char *paths[TC_LOAD_FILES];
	struct h_worker w;
	struct h_log *log;
	size_t i, pending = 0;

	h_write_load_files(paths, TC_LOAD_FILES, 2, 1);
	h_enqueue_many(H_API_NEW, ids, 10, paths, TC_LOAD_FILES, "entry", "lf");
	h_worker_start(&w, "lf", "--commit-interval-ms", "300", NULL);
	ck_assert_msg(h_worker_wait_event(&w, "done", 10, 30), "the first files were not done");
	snprintf(cmd, sizeof cmd, "rm -rf '%s/ship_entries'", H->lake);
	ck_assert_int_eq(system(cmd), 0);
	h_enqueue_many(H_API_NEW, ids + 10, N - 10, paths, TC_LOAD_FILES, "entry", "lf");
	ck_assert_int_eq(h_worker_wait(&w, 60), 1);
	log = h_log_load(w.log);
	ck_assert_int_eq(h_log_count(log, "lake-failed", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "paused", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "lake-lost", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "resumed", NULL), 0);
	ck_assert_int_eq(h_log_count(log, "failed", NULL), 0);
	h_log_free(log);
	for (i = 10; i < N; i++) {
		char *st = h_hget(ids[i], "status");

		ck_assert_msg(st != NULL && strcmp(st, "0") == 0, "%s: status %s", ids[i],
		    st ? st : "(nil)");
		free(st);
		pending++;
	}
	ck_assert_int_eq(h_int("LLEN files:all"), (long long)pending);
	ck_assert_int_eq(h_int("LLEN files:processing:lf"), 0);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * Uploads past --stage-bytes with one stream slot: all but one wait,
 * paused at a chunk, and resume in turn; every row still lands once.
 */
START_TEST(streams_wait_their_turn)
{
	enum { N = 24 };
	char **ids = h_ids("st", N);
	const char *paths[TC_LOAD_FILES];
	struct tc_view view;
	struct h_worker w;
	struct h_log *log;
	size_t paused, spilled;

	h_write_load_files(paths, TC_LOAD_FILES, 200, 40);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "st");
	h_worker_start(&w, "st", "--exit-when-idle", "--stage-bytes", "16k",
	    "--max-streams", "1", "--read-chunk", "4k", "--log-level", "debug", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 120), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 200, 40, &view);
	ck_assert_uint_eq(view.rows, tc_sum_expected(N, 200, 40));
	log = h_log_load(w.log);
	paused = h_log_count(log, "paused", NULL);
	spilled = h_log_count(log, "spill", NULL);
	h_log_free(log);
	printf("streams: %zu upload(s) paused for the one stream, %zu streamed, %" PRIu64
	    " data files\n", paused, spilled, view.adds);
	ck_assert_msg(paused > 0, "no upload waited for the stream");
	ck_assert_uint_eq(spilled, N);
	ck_assert_uint_eq(view.adds, N);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * All files share one parse tree and row builder.  A record of a million
 * tiny values grows the tree to about 40 MiB of nodes; were that kept and
 * charged, the 4 MiB budget would stay used up and no id after it would
 * ever be taken (the worker would not exit).
 */
START_TEST(big_record_gives_memory_back)
{
	enum { N = 6, VALUES = 1000000 };
	char **ids = h_ids("br", N);
	const char *paths[TC_LOAD_FILES];
	size_t len = 0, cap = 2 * VALUES + 256;
	char *text = malloc(cap), *status;
	struct h_worker w;

	ck_assert_ptr_nonnull(text);
	len += (size_t)snprintf(text, cap, "[{\"ship_name\":\"Big\",\"obs\":[");
	for (unsigned i = 0; i < VALUES; i++) {
		text[len++] = '0';
		text[len++] = i + 1 < VALUES ? ',' : ']';
	}
	len += (size_t)snprintf(text + len, cap - len, "}]\n");
	h_write_load_files(paths, TC_LOAD_FILES, 2, 3);
	h_enqueue(H_API_NEW, "br-big", h_write("ingest/big.json", text, len), "entry", "br");
	free(text);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "br");
	h_worker_start(&w, "br", "--exit-when-idle", "--memory-budget", "4m",
	    "--max-record-bytes", "4m", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 120), 0);
	h_assert_all_status(ids, N, "2");
	status = h_hget("br-big", "status");
	ck_assert_str_eq(status, "2");
	free(status);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * Each upload holds its slot until its commit: with every slot taken the
 * batch commits at once instead of waiting out the interval (an hour here).
 */
START_TEST(full_slots_commit_now)
{
	enum { N = 6 };
	char **ids = h_ids("fs", N);
	const char *paths[TC_LOAD_FILES];
	struct tc_view view;
	struct h_worker w;

	h_write_load_files(paths, TC_LOAD_FILES, 2, 3);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "fs");
	h_worker_start(&w, "fs", "--max-inflight", "1", "--commit-interval-ms", "3600000", NULL);
	ck_assert_msg(h_worker_wait_event(&w, "done", N, 60), "uploads waited for the interval");
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 2, 3, &view);
	ck_assert_uint_eq(view.rows, tc_sum_expected(N, 2, 3));
	ck_assert_uint_eq(view.versions, N);	/* v0 creates the table; then one upload per commit */
	h_assert_all_status(ids, N, "2");
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * --memory-budget: with the smallest budget and many uploads in flight,
 * spooling files wait for memory (one runner reads on), every row still
 * lands once, and the most ever charged stays near the budget.
 */
START_TEST(memory_budget_holds)
{
	enum { N = 48 };
	char **ids = h_ids("mb", N);
	const char *paths[TC_LOAD_FILES];
	struct tc_view view;
	struct h_worker w;
	struct h_log *log;
	const char *stop = NULL, *at;
	double peak = -1;
	size_t waited;

	h_write_load_files(paths, TC_LOAD_FILES, 1500, 300);
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "mb");
	h_worker_start(&w, "mb", "--exit-when-idle", "--memory-budget", "4m",
	    "--max-inflight", "64", "--read-chunk", "16k", "--log-level", "debug", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 180), 0);
	tc_check_table(H->lake, "ship_entries", ids, N, 1500, 300, &view);
	ck_assert_uint_eq(view.rows, tc_sum_expected(N, 1500, 300));
	log = h_log_load(w.log);
	waited = 0;
	for (size_t i = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		if (strcmp(l->event, "paused") == 0 && strcmp(l->msg, "waiting for memory") == 0)
			waited++;
		if (strcmp(l->event, "memory") == 0 && strncmp(l->msg, "stop:", 5) == 0)
			stop = l->msg;
	}
	ck_assert_ptr_nonnull(stop);
	at = strstr(stop, "used, peak ");
	ck_assert_ptr_nonnull(at);
	peak = strtod(at + strlen("used, peak "), NULL);
	printf("memory budget 4 MiB: %zu pause(s) waiting for memory, at most %.1f MiB "
	    "charged; %s\n", waited, peak, stop);
	ck_assert_msg(waited > 0, "no upload waited for memory");
	/* Over by at most what one chunk maps to (a runner's rows, a row group's last row). */
	ck_assert_msg(peak <= 5.0, "the budget peaked at %.1f MiB", peak);
	h_log_free(log);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/* The built-in ship_entries spec with one more column. */
static const char *
spec_with(const char *extra_column)
{
	char path[PATH_MAX];
	char *text, *at, *out;
	size_t len;
	const char *p;

	snprintf(path, sizeof path, "%s/tables/ship_entries.json", getenv("PW_SOURCE_ROOT"));
	text = h_read_file(path, &len);
	ck_assert_msg(len > 0, "cannot read %s", path);
	at = strstr(text, "\"columns\": [");
	ck_assert_ptr_nonnull(at);
	at += strlen("\"columns\": [");
	out = malloc(len + strlen(extra_column) + 8);
	ck_assert_ptr_nonnull(out);
	sprintf(out, "%.*s\n    %s,%s", (int)(at - text), text, extra_column, at);
	p = h_write_str("spec.json", out);
	free(out);
	free(text);
	return p;
}

static char *
worker_log_text(struct h_worker *w)
{
	size_t len;

	return h_read_file(w->log, &len);
}

START_TEST(schema_evolution_and_refusals)
{
	char **ids = h_ids("se", 6), logdir[PATH_MAX], spec[PATH_MAX];
	const char *paths[TC_LOAD_FILES];
	struct pw_table_log tl;
	struct pw_delta_commit c;
	struct pw_error err;
	struct h_worker w;
	struct h_log *log;
	bool missing, has_col = false;
	char *text;

	h_write_load_files(paths, TC_LOAD_FILES, 3, 1);
	snprintf(logdir, sizeof logdir, "%s/ship_entries/_delta_log", H->lake);

	/* Version 0 and 1 with the built-in spec. */
	h_enqueue_many(H_API_NEW, ids, 3, paths, TC_LOAD_FILES, "entry", "se");
	h_worker_start(&w, "se", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);

	/* A spec with a new nullable column: a metaData commit, then rows. */
	snprintf(spec, sizeof spec, "%s", spec_with("{\"name\": \"ship_name_again\", "
	    "\"type\": \"string\", \"nullable\": true, \"from\": \"field:ship_name\"}"));
	h_enqueue_many(H_API_NEW, ids + 3, 3, paths + 3, TC_LOAD_FILES - 3, "entry", "se");
	h_worker_start(&w, "se", "--exit-when-idle", "--table-spec", spec, NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	log = h_log_load(w.log);
	ck_assert_msg(h_log_msg(log, "schema", NULL) != NULL &&
	    strstr(h_log_msg(log, "schema", NULL), "added 1 column(s) in version 2") != NULL,
	    "no schema line: %s", h_log_msg(log, "schema", NULL));
	h_log_free(log);
	ck_assert_int_eq(pw_table_log_read(logdir, 2, &c, &missing, NULL, &err), 0);
	ck_assert(!missing && c.has_metadata && c.nadd == 0);
	for (size_t i = 0; i < c.metadata.nfields; i++)
		if (strcmp(c.metadata.fields[i].name, "ship_name_again") == 0)
			has_col = c.metadata.fields[i].nullable;
	ck_assert_msg(has_col, "the new column is not in the schema, or not nullable");
	pw_delta_commit_finish(&c);
	ck_assert_int_eq(pw_table_log_read(logdir, 3, &c, &missing, NULL, &err), 0);
	ck_assert(!missing && c.nadd == 1 && c.nsource_ids == 3);
	pw_delta_commit_finish(&c);
	h_assert_all_status(ids, 6, "2");

	/* A column whose type changed: refused at start, exit 2, nothing written. */
	snprintf(spec, sizeof spec, "%s", spec_with("{\"name\": \"ship_name_again\", "
	    "\"type\": \"long\", \"nullable\": true, \"from\": \"record_index\"}"));
	h_worker_start(&w, "se", "--exit-when-idle", "--table-spec", spec, NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 2);
	text = worker_log_text(&w);
	ck_assert_msg(strstr(text, "ship_name_again") != NULL, "the refusal does not name the "
	    "column: %s", text);
	free(text);
	ck_assert_int_eq(pw_table_log_scan(logdir, &tl, &err), 0);
	ck_assert_uint_eq(tl.max, 3);

	/* A table with a writer feature this worker does not know: refused, untouched. */
	h_write_str("lake2/ship_entries/_delta_log/00000000000000000000.json",
	    "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":7,"
	    "\"writerFeatures\":[\"fancyNewFeature\"]}}\n"
	    "{\"metaData\":{\"id\":\"7c0a8f7e-0000-4000-8000-000000000000\",\"format\":"
	    "{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":"
	    "\\\"struct\\\",\\\"fields\\\":[]}\",\"partitionColumns\":[],\"configuration\":{},"
	    "\"createdTime\":1}}\n");
	h_worker_start(&w, "se", "--exit-when-idle", "--lake", h_path("lake2"), NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 2);
	text = worker_log_text(&w);
	ck_assert_msg(strstr(text, "fancyNewFeature") != NULL, "the refusal does not name the "
	    "feature: %s", text);
	free(text);
	snprintf(logdir, sizeof logdir, "%s", h_path("lake2/ship_entries/_delta_log"));
	ck_assert_int_eq(pw_table_log_scan(logdir, &tl, &err), 0);
	ck_assert_uint_eq(tl.max, 0);

	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, 6);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tables");
	TCase *tc = h_tcase("tables", false);

	tcase_add_test(tc, two_workers_one_lake);
	tcase_add_test(tc, full_slots_commit_at_once);
	tcase_add_test(tc, redis_rollback);
	tcase_add_test(tc, lake_failure);
	tcase_add_test(tc, streams_wait_their_turn);
	tcase_add_test(tc, memory_budget_holds);
	tcase_add_test(tc, full_slots_commit_now);
	tcase_add_test(tc, big_record_gives_memory_back);
	tcase_add_test(tc, schema_evolution_and_refusals);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
