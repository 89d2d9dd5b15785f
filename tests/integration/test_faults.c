/*
 * Redis faults while the worker runs: the server killed and restarted (AOF
 * with appendfsync always, so what was acknowledged survives), the server
 * down when the worker starts, and the worker's connections killed one at
 * a time with CLIENT KILL.  Every id must end done exactly once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "harness.h"

#define N_FILES 4

/* Every id done exactly once in the log, with its records. */
static void
check_exactly_once(const char *log_path, char **ids, size_t n)
{
	unsigned *done = calloc(n, sizeof *done);
	struct h_log *log = h_log_load(log_path);
	size_t i, bad = 0;

	ck_assert_ptr_nonnull(done);
	h_log_counts(log, "done", ids, n, done);
	for (i = 0; i < n; i++)
		if (done[i] != 1 && bad++ < 5)
			fprintf(stderr, "%s: %u done events\n", ids[i], done[i]);
	ck_assert_msg(bad == 0, "%zu ids not done exactly once", bad);
	ck_assert_int_eq(h_log_count(log, "done", NULL), n);
	ck_assert_int_eq(h_log_count(log, "failed", NULL), 0);
	h_log_free(log);
	free(done);
}

START_TEST(redis_killed_and_restarted)
{
	enum { N = 2000 };
	char **ids = h_ids("rk", N);
	const char *paths[N_FILES];
	static const char *const slow_loading[] = { "--key-load-delay", "250", NULL };
	struct h_worker w;
	struct h_log *log;
	unsigned at_kill;
	size_t i, loading = 0;
	double t = h_now();

	h_write_load_files(paths, N_FILES, 150, 25);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "rk");
	h_worker_start(&w, "rk", "--exit-when-idle", "--max-inflight", "50",
	    "--connect-timeout", "1s", "--command-timeout", "5s", NULL);

	ck_assert_msg(h_worker_wait_event(&w, "done", 300, 60), "no progress before the kill");
	h_redis_kill();
	at_kill = h_worker_events(&w, "done");
	ck_assert_msg(at_kill < N, "the worker finished before Redis was killed");
	ck_assert_msg(h_worker_wait_event(&w, "redis-down", 1, 10), "no redis-down logged");
	h_sleep(0.5);
	/*
	 * Slow loading (about 2 s for the AOF): the worker reconnects while
	 * Redis still answers LOADING, and every step must retry that.
	 */
	h_redis_start_with(slow_loading);
	ck_assert_int_eq(h_worker_wait(&w, 90), 0);
	log = h_log_load(w.log);
	for (i = 0; i < log->n; i++)
		loading += log->lines[i].msg != NULL && strstr(log->lines[i].msg, "LOADING") != NULL;
	h_log_free(log);
	printf("redis_killed_and_restarted: killed after %u of %d done, all done in %.2fs, "
	    "%zu LOADING replies logged\n", at_kill, N, h_now() - t, loading);

	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("rk");
	check_exactly_once(w.log, ids, N);
	ck_assert_uint_ge(h_worker_events(&w, "redis-down"), 1);
	ck_assert_uint_ge(h_worker_events(&w, "redis-up"), 1);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

START_TEST(redis_down_at_start)
{
	enum { N = 200 };
	char **ids = h_ids("rd", N);
	const char *paths[N_FILES];
	struct h_worker w;

	h_write_load_files(paths, N_FILES, 10, 25);
	h_enqueue_many(H_API_OLD, ids, N, paths, N_FILES, "entry", "rd");
	h_redis_kill();		/* the data is in the AOF */
	h_worker_start(&w, "rd", "--exit-when-idle", "--max-inflight", "20",
	    "--connect-timeout", "1s", NULL);
	ck_assert_msg(h_worker_wait_event(&w, "redis-down", 1, 10), "no redis-down logged");
	h_sleep(1);
	ck_assert_msg(h_worker_running(&w), "the worker gave up while Redis was down");
	h_redis_start();
	ck_assert_int_eq(h_worker_wait(&w, 60), 0);

	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("rd");
	check_exactly_once(w.log, ids, N);
	/* Never up before: both connections say "connected", not "up". */
	ck_assert_uint_eq(h_worker_events(&w, "redis-connected"), 2);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

START_TEST(client_kill_each_connection)
{
	enum { N = 2000 };
	static const char *names[] = {
		"portada-worker:ck:fetch", "portada-worker:ck:command",
	};
	char **ids = h_ids("ck", N);
	const char *paths[N_FILES];
	unsigned kills[2] = { 0, 0 }, *final = calloc(N, sizeof *final), dup = 0;
	struct h_worker w;
	double deadline;
	size_t i;

	ck_assert_ptr_nonnull(final);
	h_write_load_files(paths, N_FILES, 150, 25);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "ck");
	h_monitor_start();
	h_worker_start(&w, "ck", "--exit-when-idle", "--max-inflight", "50",
	    "--connect-timeout", "1s", "--command-timeout", "5s", NULL);
	ck_assert_msg(h_worker_wait_event(&w, "done", 100, 60), "no progress");

	deadline = h_now() + 90 * h_slow();
	for (i = 0; h_worker_running(&w) && h_now() < deadline; i++) {
		long long id = h_client_id(names[i % 2]);

		if (id >= 0) {
			long long killed = h_int("CLIENT KILL ID %lld", id);

			kills[i % 2] += (unsigned)killed;
		}
		h_sleep(0.06 + 0.01 * (double)(i % 4));
	}
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	printf("client_kill_each_connection: %u kills of fetch, %u of command\n",
	    kills[0], kills[1]);
	ck_assert_msg(kills[0] >= 2 && kills[1] >= 2, "too few kills (%u, %u): the run "
	    "was too short", kills[0], kills[1]);

	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("ck");
	check_exactly_once(w.log, ids, N);
	ck_assert_uint_ge(h_worker_events(&w, "redis-up"), 2);

	/* For the record: final writes repeated after a lost reply (idempotent). */
	h_monitor_sync();
	h_monitor_status_counts("2", ids, N, final);
	for (i = 0; i < N; i++) {
		ck_assert_msg(final[i] >= 1, "%s: no status 2 write seen", ids[i]);
		dup += final[i] > 1;
	}
	printf("client_kill_each_connection: %u id(s) had their final status written "
	    "again after a lost reply\n", dup);
	free(final);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * Without --exit-when-idle the fetch connection sits in BLMOVE on an empty
 * queue.  Killing it (or the command connection) there must not stop the
 * worker from taking the ids queued afterwards.
 */
START_TEST(blocked_pop_survives_client_kill)
{
	enum { ROUND = 10, ROUNDS = 4 };
	char **ids = h_ids("bk", ROUND * ROUNDS);
	const char *paths[N_FILES];
	const char *names[] = {
		"portada-worker:bk:fetch", "portada-worker:bk:command",
		"portada-worker:bk:fetch",
	};
	struct h_worker w;
	unsigned r;

	h_write_load_files(paths, N_FILES, 5, 25);
	h_worker_start(&w, "bk", "--block-timeout", "2s", "--drain-timeout", "5s", NULL);
	ck_assert(h_worker_wait_event(&w, "redis-connected", 2, 10));
	for (r = 0; r < ROUNDS; r++) {
		unsigned up = h_worker_events(&w, "redis-up");

		if (r > 0) {
			long long id;
			double deadline = h_now() + 10 * h_slow();

			/* Let the fetch connection block on the empty queue, then kill. */
			h_sleep(0.3);
			while ((id = h_client_id(names[r - 1])) < 0) {
				ck_assert_msg(h_now() < deadline, "no connection %s", names[r - 1]);
				h_sleep(0.01);
			}
			ck_assert_int_eq(h_int("CLIENT KILL ID %lld", id), 1);
			ck_assert_msg(h_worker_wait_event(&w, "redis-up", up + 1, 15),
			    "round %u: %s did not come back", r, names[r - 1]);
		}
		h_enqueue_many(H_API_NEW, ids + r * ROUND, ROUND, paths, N_FILES, "entry", "bk");
		ck_assert_msg(h_worker_wait_event(&w, "done", (r + 1) * ROUND, 20),
		    "round %u: only %u of %u done", r, h_worker_events(&w, "done"),
		    (r + 1) * ROUND);
	}
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	h_assert_all_status(ids, ROUND * ROUNDS, "2");
	h_assert_lists_empty("bk");
	check_exactly_once(w.log, ids, ROUND * ROUNDS);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, ROUND * ROUNDS);
}
END_TEST

/* Calls of one command so far, run or rejected, from INFO commandstats. */
static long long
command_calls(const char *name)
{
	char *info = h_str("INFO commandstats"), key[64], *p, *end;
	long long calls = 0;

	snprintf(key, sizeof key, "cmdstat_%s:calls=", name);
	if (info != NULL && (p = strstr(info, key)) != NULL) {
		calls = atoll(p + strlen(key));
		end = strchr(p, '\n');
		p = strstr(p, "rejected_calls=");
		if (p != NULL && (end == NULL || p < end))
			calls += atoll(p + strlen("rejected_calls="));
	}
	free(info);
	return calls;
}

/*
 * An error reply to the pop (OOM under noeviction) comes back at once on a
 * healthy connection: the worker must wait between tries, not spin.
 */
START_TEST(fetch_error_backs_off)
{
	struct h_worker w;
	struct h_log *log;
	long long before, calls;

	h_worker_start(&w, "oom", "--block-timeout", "1s", NULL);
	ck_assert(h_worker_wait_event(&w, "redis-connected", 2, 10 * h_slow()));
	h_ok("CONFIG SET maxmemory-policy noeviction");
	h_ok("CONFIG SET maxmemory 1");
	before = command_calls("blmove");
	h_sleep(3);
	calls = command_calls("blmove") - before;
	h_ok("CONFIG SET maxmemory 0");
	printf("BLMOVE calls in 3 s of OOM: %lld\n", calls);
	ck_assert_msg(calls <= 10, "%lld BLMOVE calls in 3 s: no backoff", calls);

	/* Back to normal: a file queued now is processed. */
	h_enqueue(H_API_NEW, "after-oom", h_write_entries("ingest/a.json", 2, 10),
	    "entry", "oom");
	ck_assert(h_worker_wait_event(&w, "done", 1, 20 * h_slow()));
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30 * h_slow()), 0);
	log = h_log_load(w.log);
	ck_assert_uint_eq(h_log_count(log, "fetch-failed", NULL), 1);
	h_log_free(log);
}
END_TEST

/*
 * More unheld ids in the processing list than free slots: the reconcile
 * waits for a free slot instead of repeating LRANGE in a loop.
 */
START_TEST(reconcile_waits_for_slots)
{
	enum { N = 40 };
	char **ids = h_ids("rc", N);
	const char *path = h_write_entries("ingest/rc.json", 3000, 40);
	long long lrange;
	size_t i;

	for (i = 0; i < N; i++) {
		h_ok("HSET file:%s file_path %s file_type entry status 1", ids[i], path);
		h_ok("RPUSH files:processing:rc %s", ids[i]);
	}
	{
		struct h_worker w;

		h_worker_start(&w, "rc", "--max-inflight", "2", "--exit-when-idle", NULL);
		ck_assert_int_eq(h_worker_wait(&w, 60 * h_slow()), 0);
	}
	lrange = command_calls("lrange");
	printf("LRANGE calls to recover %d ids through 2 slots: %lld\n", N, lrange);
	ck_assert_msg(lrange <= N, "%lld LRANGE calls for %d ids", lrange, N);
	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("rc");
	h_strv_free(ids, N);
}
END_TEST

/* A handshake that fails (SELECT 99) is retried with backoff, never "up". */
START_TEST(handshake_failure_backs_off)
{
	char url[PATH_MAX + 32];
	struct h_worker w;
	struct h_log *log;
	size_t down, retries;

	snprintf(url, sizeof url, "%s?db=99", H->url);
	h_worker_start(&w, "hs", "--redis", url, "--log-level", "debug", NULL);
	h_sleep(3);
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30 * h_slow()), 0);
	log = h_log_load(w.log);
	down = h_log_count(log, "redis-down", NULL);
	retries = h_log_count(log, "redis-retry", NULL);
	printf("SELECT 99 for 3 s: %zu redis-down, %zu retries\n", down, retries);
	ck_assert_uint_eq(h_log_count(log, "redis-up", NULL), 0);
	ck_assert_uint_eq(h_log_count(log, "redis-connected", NULL), 0);
	ck_assert_uint_eq(down, 2);		/* one per connection */
	ck_assert_msg(retries <= 30, "%zu reconnects in 3 s: no backoff", retries);
	ck_assert(strstr(h_log_msg(log, "redis-down", NULL), "SELECT failed") != NULL);
	h_log_free(log);
}
END_TEST

/*
 * Scripts are sent by SHA1 once a connection has sent them whole.  SCRIPT
 * FLUSH under a running worker answers NOSCRIPT to the batches, status
 * writes and acknowledgements in flight: each is sent whole again at once,
 * and every file still ends done exactly once.
 */
START_TEST(scripts_flushed_midway)
{
	enum { N = 2000 };
	char **ids = h_ids("sf", N);
	const char *paths[N_FILES];
	struct h_worker w;
	unsigned flushes = 0;
	double deadline;

	h_write_load_files(paths, N_FILES, 150, 25);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "sf");
	h_worker_start(&w, "sf", "--exit-when-idle", "--max-inflight", "50", NULL);
	ck_assert_msg(h_worker_wait_event(&w, "done", 100, 60), "no progress");
	deadline = h_now() + 90 * h_slow();
	while (h_worker_running(&w) && h_now() < deadline) {
		h_ok("SCRIPT FLUSH");
		flushes++;
		h_sleep(0.03);
	}
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	printf("scripts_flushed_midway: %u flushes\n", flushes);
	ck_assert_uint_ge(flushes, 3);
	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("sf");
	check_exactly_once(w.log, ids, N);
	/* Healed at once: no backoff, no warning. */
	ck_assert_uint_eq(h_worker_events(&w, "redis-error"), 0);
	ck_assert_uint_eq(h_worker_events(&w, "fetch-failed"), 0);
	ck_assert_uint_eq(h_worker_events(&w, "ack-failed"), 0);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = h_tcase("redis-restart", true);

	tcase_add_test(tc, redis_killed_and_restarted);
	tcase_add_test(tc, redis_down_at_start);
	suite_add_tcase(s, tc);

	tc = h_tcase("client-kill", false);
	tcase_add_test(tc, client_kill_each_connection);
	tcase_add_test(tc, blocked_pop_survives_client_kill);
	tcase_add_test(tc, fetch_error_backs_off);
	tcase_add_test(tc, reconcile_waits_for_slots);
	tcase_add_test(tc, handshake_failure_backs_off);
	tcase_add_test(tc, scripts_flushed_midway);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
