/*
 * The ingest contract end to end: what the worker leaves in each file's
 * hash and in the lists, for both hash shapes of the ingest API, both status
 * schemes and both fetch modes; FIFO order; a backlog of 5,000 ids; hashes
 * that are missing or already final.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum scheme { TASK, DASHBOARD };

struct item {
	const char *id;
	const char *path;
	const char *type;
	const char *user;
	long records;		/* -1: fails */
};

static long long
to_int(const char *s, const char *what, const char *id)
{
	char *end;
	long long v;

	ck_assert_msg(s != NULL, "file:%s has no %s", id, what);
	v = strtoll(s, &end, 10);
	ck_assert_msg(*s != '\0' && *end == '\0', "file:%s %s is not an integer: '%s'",
	    id, what, s);
	return v;
}

static void
check_field(const char *id, const char *field, const char *expected)
{
	char *v = h_hget(id, field);

	if (expected == NULL)
		ck_assert_msg(v == NULL, "file:%s has %s = '%s', expected none", id, field, v);
	else
		ck_assert_msg(v != NULL && strcmp(v, expected) == 0,
		    "file:%s %s is '%s', expected '%s'", id, field, v ? v : "(nil)", expected);
	free(v);
}

static void
check_user_list(const char *user, const struct item *items, size_t n)
{
	char key[64];
	char **list;
	size_t len, i, j = 0;

	snprintf(key, sizeof key, "files:user:%s", user);
	list = h_lrange(key, &len);
	for (i = 0; i < n; i++) {
		if (strcmp(items[i].user, user) != 0)
			continue;
		ck_assert_msg(j < len && strcmp(list[j], items[i].id) == 0,
		    "%s changed: position %zu is %s, expected %s", key, j,
		    j < len ? list[j] : "(end)", items[i].id);
		j++;
	}
	ck_assert_msg(j == len, "%s has %zu ids, expected %zu", key, len, j);
	h_strv_free(list, len);
}

/*
 * Enqueue a mix of entry and entity files (and one bad file) with the given
 * API's hash shape, run the worker until idle, check every field.
 */
static void
run_contract(enum h_api api, enum scheme scheme, bool blpop)
{
	const char *wid = "contract";
	const char *done = scheme == TASK ? "2" : "1";
	const char *failed = scheme == TASK ? "-1" : "2";
	struct item items[] = {
		{ "c-entries-3", NULL, "entry", "alice", 3 },
		{ "c-entries-1", NULL, "entry", "alice", 1 },
		{ "c-entries-0", NULL, "entry", "alice", 0 },
		{ "c-flag", NULL, "entity_flag", "bob", 2 },
		{ "c-port-names", NULL, "entity_port", "bob", 3 },
		{ "c-comodity", NULL, "entity_comodity", "bob", 1 },
		{ "c-bad", NULL, "entry", "alice", -1 },
		{ "c-entries-250", NULL, "entry", "carol", 250 },
	};
	size_t n = sizeof items / sizeof items[0], i;
	struct h_worker w;
	struct h_log *log;
	double t0, t1;
	char *ids[16];
	unsigned c_done[16], c_proc[16], c_fail[16];

	items[0].path = h_write_entries("ingest/ship_entries/alice/a.json", 3, 10);
	items[1].path = h_write_entries("ingest/ship_entries/alice/b.json", 1, 0);
	items[2].path = h_write_str("ingest/ship_entries/alice/empty-array.json", " [ ]\n");
	items[3].path = h_write_str("ingest/entity/flag/flags.json",
	    "{\"Espa\xc3\xb1ola\": [\"esp.\", \"espa\\u00f1ola\", \"E.\"],\n"
	    " \"Inglesa\": [\"ingl.\", \"brit\xc3\xa1nica\"]}\n");
	items[4].path = h_write_str("ingest/entity/port/ports.json",
	    "{\"names\": {\n  \"Barcelona\": [\"Barna\", \"Bna.\"],\n"
	    "  \"Marsella\": [\"Marseille\"],\n  \"La Habana\": []\n}}\n");
	items[5].path = h_write_str("ingest/entity/comodity/c.json",
	    "{\"names\": {\"trigo\": [\"trigo\", \"wheat\"]}}");
	items[6].path = h_write_str("ingest/ship_entries/alice/bad.json",
	    "[\n  {\"ship_name\": \"A\"},\n  {\"ship_name\": \"B\"}\n  {\"ship_name\": \"C\"}\n]\n");
	items[7].path = h_write_entries("ingest/ship_entries/carol/many.json", 250, 50);
	for (i = 0; i < n; i++) {
		h_enqueue(api, items[i].id, items[i].path, items[i].type, items[i].user);
		ids[i] = (char *)items[i].id;
	}
	h_monitor_start();

	t0 = (double)(long long)h_now();
	h_worker_start(&w, wid, "--exit-when-idle", "--status-scheme",
	    scheme == TASK ? "task" : "dashboard", "--fetch", blpop ? "blpop" : "blmove",
	    NULL);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	t1 = h_now() + 1;
	h_monitor_sync();
	if (blpop) {
		/* Before the test's own commands name the processing list. */
		ck_assert_int_eq(h_monitor_grep("files:processing"), 0);
		ck_assert_int_eq(h_monitor_grep("MOVE"), 0);
		ck_assert_int_gt(h_monitor_grep("\"LPOP\" \"files:all\""), 0);
	}

	for (i = 0; i < n; i++) {
		const char *id = items[i].id;
		char *started = h_hget(id, "started_at"), *finished = h_hget(id, "finished_at");
		long long s = to_int(started, "started_at", id);
		long long f = to_int(finished, "finished_at", id);
		char buf[32];

		check_field(id, "status", items[i].records >= 0 ? done : failed);
		check_field(id, "worker", wid);
		ck_assert_msg(s >= t0 && s <= t1 && f >= s && f <= t1,
		    "file:%s started_at %lld finished_at %lld outside [%.0f, %.0f]", id, s, f,
		    t0, t1);
		if (items[i].records >= 0) {
			snprintf(buf, sizeof buf, "%ld", items[i].records);
			check_field(id, "records", buf);
			check_field(id, "error_message", NULL);
		} else {
			char *msg = h_hget(id, "error_message");

			ck_assert_msg(msg != NULL && strstr(msg, "invalid JSON at line 4, column 3") != NULL,
			    "file:%s error_message '%s'", id, msg ? msg : "(nil)");
			printf("contract: file:%s error_message: %s\n", id, msg);
			free(msg);
		}
		/* What the ingest API wrote is left alone. */
		check_field(id, "timestamp", h_timestamp());
		check_field(id, "user", items[i].user);
		check_field(id, "file_path", items[i].path);
		check_field(id, "file_type", items[i].type);
		if (api == H_API_OLD) {
			check_field(id, "id", id);
			check_field(id, "filename", strrchr(items[i].path, '/') + 1);
			check_field(id, "stored_filename", NULL);
		} else {
			snprintf(buf, sizeof buf, "%s.json", id);
			check_field(id, "stored_filename", buf);
			check_field(id, "original_filename", strrchr(items[i].path, '/') + 1);
			check_field(id, "id", NULL);
		}
		free(started);
		free(finished);
	}
	h_assert_lists_empty(wid);
	ck_assert_int_eq(h_int("EXISTS files:processing:%s", wid), 0);
	check_user_list("alice", items, n);
	check_user_list("bob", items, n);
	check_user_list("carol", items, n);

	/* Exactly one final write per file; in the dashboard scheme no "processing" value. */
	h_monitor_status_counts(done, ids, n, c_done);
	h_monitor_status_counts(failed, ids, n, c_fail);
	h_monitor_status_counts("1", ids, n, c_proc);
	for (i = 0; i < n; i++) {
		bool ok = items[i].records >= 0;

		ck_assert_msg(c_done[i] == (ok ? 1u : 0u) && c_fail[i] == (ok ? 0u : 1u),
		    "file:%s: %u writes of status %s, %u of %s", ids[i], c_done[i], done,
		    c_fail[i], failed);
		if (scheme == TASK)
			ck_assert_msg(c_proc[i] == 1, "file:%s: status 1 written %u times",
			    ids[i], c_proc[i]);
		else
			ck_assert_msg(c_proc[i] == (ok ? 1u : 0u), "file:%s: status 1 "
			    "written %u times in the dashboard scheme", ids[i], c_proc[i]);
	}
	if (scheme == DASHBOARD)
		ck_assert_int_eq(h_monitor_grep("\"status\" \"-1\""), 0);

	log = h_log_load(w.log);
	h_log_counts(log, "processing", ids, n, c_proc);
	h_log_counts(log, "done", ids, n, c_done);
	h_log_counts(log, "failed", ids, n, c_fail);
	for (i = 0; i < n; i++) {
		bool ok = items[i].records >= 0;

		ck_assert_msg(c_proc[i] == 1 && c_done[i] == (ok ? 1u : 0u) &&
		    c_fail[i] == (ok ? 0u : 1u), "log for %s: processing %u done %u failed %u",
		    ids[i], c_proc[i], c_done[i], c_fail[i]);
	}
	ck_assert_int_eq(h_log_count(log, "start", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "idle", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "stop", NULL), 1);
	ck_assert_int_eq(log->n_foreign, 0);
	h_log_free(log);
}

START_TEST(contract_task_old_api)
{
	run_contract(H_API_OLD, TASK, false);
}
END_TEST

START_TEST(contract_task_new_api)
{
	run_contract(H_API_NEW, TASK, false);
}
END_TEST

START_TEST(contract_dashboard_old_api)
{
	run_contract(H_API_OLD, DASHBOARD, false);
}
END_TEST

START_TEST(contract_dashboard_new_api)
{
	run_contract(H_API_NEW, DASHBOARD, false);
}
END_TEST

START_TEST(contract_blpop_new_api)
{
	run_contract(H_API_NEW, TASK, true);
}
END_TEST

START_TEST(contract_blpop_dashboard_old_api)
{
	run_contract(H_API_OLD, DASHBOARD, true);
}
END_TEST

/* With one file at a time, files are started in the order they were queued. */
START_TEST(fifo_order)
{
	enum { N = 20 };
	char **ids = h_ids("fifo", N);
	const char *paths[3];
	struct h_worker w;
	struct h_log *log;
	size_t i, j;

	paths[0] = h_write_entries("ingest/f1.json", 5, 0);
	paths[1] = h_write_entries("ingest/f2.json", 50, 100);
	paths[2] = h_write_entries("ingest/f3.json", 1, 0);
	h_enqueue_many(H_API_NEW, ids, N, paths, 3, "entry", "fifo");
	h_worker_start(&w, "fifo", "--exit-when-idle", "--max-inflight", "1", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);

	log = h_log_load(w.log);
	for (i = 0, j = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		if (l->event == NULL || strcmp(l->event, "processing") != 0)
			continue;
		ck_assert_msg(j < N && strcmp(l->file, ids[j]) == 0,
		    "processing event %zu is for %s, expected %s", j, l->file,
		    j < N ? ids[j] : "(none)");
		j++;
	}
	ck_assert_int_eq(j, N);
	/* One at a time: each file is done before the next one starts. */
	for (i = 0, j = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		if (l->event != NULL && strcmp(l->event, "done") == 0) {
			ck_assert_str_eq(l->file, ids[j]);
			j++;
		}
	}
	ck_assert_int_eq(j, N);
	h_log_free(log);
	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("fifo");
	h_strv_free(ids, N);
}
END_TEST

/* A backlog of 5,000 ids, 1,000 in flight. */
START_TEST(backlog_5000)
{
	enum { N = 5000, FILES = 5 };
	char **ids = h_ids("bulk", N);
	const char *paths[FILES];
	unsigned *done = calloc(N, sizeof *done), *proc = calloc(N, sizeof *proc);
	struct h_worker w;
	struct h_log *log;
	double t;
	size_t i;

	ck_assert(done != NULL && proc != NULL);
	for (i = 0; i < FILES; i++) {
		char rel[64];

		snprintf(rel, sizeof rel, "ingest/bulk/%zu.json", i);
		paths[i] = h_write_entries(rel, 1, i * 100);
	}
	h_enqueue_many(H_API_OLD, ids, N, paths, FILES, "entry", "bulk");
	ck_assert_int_eq(h_int("LLEN files:all"), N);

	t = h_now();
	h_worker_start(&w, "bulk", "--exit-when-idle", "--max-inflight", "1000", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	printf("backlog_5000: %d ids in %.2fs\n", N, h_now() - t);

	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("bulk");
	ck_assert_int_eq(h_int("LLEN files:user:bulk"), N);
	log = h_log_load(w.log);
	h_log_counts(log, "done", ids, N, done);
	h_log_counts(log, "processing", ids, N, proc);
	for (i = 0; i < N; i++)
		ck_assert_msg(done[i] == 1 && proc[i] == 1, "%s: %u done, %u processing "
		    "events", ids[i], done[i], proc[i]);
	ck_assert_int_eq(h_log_count(log, "done", NULL), N);
	h_log_free(log);
	free(done);
	free(proc);
	h_strv_free(ids, N);
}
END_TEST

/*
 * A backlog keeps --max-inflight files in flight (a batch fetch is capped at
 * 256 ids, which must not be taken for an empty queue), and never more.
 */
START_TEST(backlog_fills_all_slots)
{
	enum { N = 3000, FILES = 5, MAX = 600 };
	char **ids = h_ids("slots", N);
	const char *paths[FILES];
	long long len, max = 0;
	struct h_worker w;
	size_t i;

	for (i = 0; i < FILES; i++) {
		char rel[64];

		snprintf(rel, sizeof rel, "ingest/slots/%zu.json", i);
		paths[i] = h_write_entries(rel, 60 + 20 * (unsigned)i, 20);
	}
	h_enqueue_many(H_API_NEW, ids, N, paths, FILES, "entry", "slots");
	h_worker_start(&w, "slots", "--exit-when-idle", "--max-inflight", "600", NULL);
	while (h_worker_running(&w)) {
		len = h_int("LLEN files:processing:slots");
		ck_assert_msg(len <= MAX, "%lld ids in flight, more than --max-inflight %d",
		    len, MAX);
		if (len > max)
			max = len;
		h_sleep(0.002);
	}
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);
	printf("backlog_fills_all_slots: up to %lld of %d slots seen in use\n", max, MAX);
	ck_assert_msg(max > 256, "never more than %lld ids in flight with "
	    "--max-inflight %d", max, MAX);
	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("slots");
	h_strv_free(ids, N);
}
END_TEST

/*
 * An id without a hash is acknowledged and its hash never created; an id
 * whose hash already has a final status is skipped, not processed again.
 */
START_TEST(missing_and_final_hashes)
{
	const char *good = h_write_entries("ingest/good.json", 2, 0);
	struct h_worker w;
	struct h_log *log;
	const char *msg;
	char *v;

	h_enqueue(H_API_NEW, "m-first", good, "entry", "u");
	h_ok("RPUSH files:all m-nohash");
	h_enqueue_fields("m-done", "file_path", good, "file_type", "entry", "status", "2",
	    "finished_at", "123", "records", "7", "timestamp", h_timestamp(), NULL);
	h_enqueue_fields("m-failed", "file_path", good, "file_type", "entry", "status", "-1",
	    "finished_at", "124", "error_message", "earlier failure", NULL);
	h_ok("SET file:m-string not-a-hash");
	h_ok("RPUSH files:all m-string");
	h_enqueue(H_API_NEW, "m-last", good, "entry", "u");

	h_worker_start(&w, "missing", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);

	ck_assert_int_eq(h_int("EXISTS file:m-nohash"), 0);
	check_field("m-first", "status", "2");
	check_field("m-last", "status", "2");
	check_field("m-last", "records", "2");
	/* Final hashes untouched. */
	check_field("m-done", "status", "2");
	check_field("m-done", "finished_at", "123");
	check_field("m-done", "records", "7");
	check_field("m-done", "worker", NULL);
	check_field("m-failed", "status", "-1");
	check_field("m-failed", "finished_at", "124");
	check_field("m-failed", "error_message", "earlier failure");
	check_field("m-failed", "worker", NULL);
	v = h_str("GET file:m-string");
	ck_assert_str_eq(v, "not-a-hash");
	free(v);
	h_assert_lists_empty("missing");

	log = h_log_load(w.log);
	ck_assert_int_eq(h_log_count(log, "skipped", "m-nohash"), 1);
	ck_assert_int_eq(h_log_count(log, "processing", "m-nohash"), 0);
	ck_assert_int_eq(h_log_count(log, "skipped", "m-done"), 1);
	ck_assert_int_eq(h_log_count(log, "processing", "m-done"), 0);
	ck_assert_int_eq(h_log_count(log, "skipped", "m-failed"), 1);
	ck_assert_int_eq(h_log_count(log, "processing", "m-failed"), 0);
	ck_assert_int_eq(h_log_count(log, "skipped", "m-string"), 1);
	ck_assert_int_eq(h_log_count(log, "done", NULL), 2);
	msg = h_log_msg(log, "skipped", "m-nohash");
	printf("missing hash: %s\nfinal hash: %s\n", msg, h_log_msg(log, "skipped", "m-done"));
	ck_assert_ptr_nonnull(strstr(msg, "file:m-nohash"));
	h_log_free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("contract");
	TCase *tc = h_tcase("contract", false);

	tcase_add_test(tc, contract_task_old_api);
	tcase_add_test(tc, contract_task_new_api);
	tcase_add_test(tc, contract_dashboard_old_api);
	tcase_add_test(tc, contract_dashboard_new_api);
	tcase_add_test(tc, contract_blpop_new_api);
	tcase_add_test(tc, contract_blpop_dashboard_old_api);
	suite_add_tcase(s, tc);

	tc = h_tcase("order", false);
	tcase_add_test(tc, fifo_order);
	tcase_add_test(tc, missing_and_final_hashes);
	suite_add_tcase(s, tc);

	tc = h_tcase("backlog", false);
	tcase_add_test(tc, backlog_5000);
	tcase_add_test(tc, backlog_fills_all_slots);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
