/*
 * The worker stopped from outside: SIGKILL in the middle of a run (the
 * processing list keeps every id; a restart with the same --worker-id
 * finishes them, none twice), and SIGTERM (drain, then the unfinished ids
 * go back to the head of the queue in their order).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <unistd.h>

#include "harness.h"

#define N_FILES 5

/* counts[i] = lines with event for ids[i], summed over several logs. */
static void
sum_counts(struct h_log **logs, size_t n_logs, const char *event, char **ids, size_t n,
    unsigned *counts)
{
	unsigned *tmp = calloc(n, sizeof *tmp);
	size_t i, j;

	ck_assert_ptr_nonnull(tmp);
	memset(counts, 0, n * sizeof *counts);
	for (j = 0; j < n_logs; j++) {
		h_log_counts(logs[j], event, ids, n, tmp);
		for (i = 0; i < n; i++)
			counts[i] += tmp[i];
	}
	free(tmp);
}

/* Exactly one status-2 write per id in all of MONITOR's output. */
static void
check_one_final_write(char **ids, size_t n)
{
	unsigned *c = calloc(n, sizeof *c);
	size_t i, bad = 0;

	ck_assert_ptr_nonnull(c);
	h_monitor_sync();
	h_monitor_status_counts("2", ids, n, c);
	for (i = 0; i < n; i++)
		if (c[i] != 1 && bad++ < 5)
			fprintf(stderr, "%s: status 2 written %u times\n", ids[i], c[i]);
	ck_assert_msg(bad == 0, "%zu ids not finished exactly once (MONITOR)", bad);
	free(c);
}

START_TEST(sigkill_and_restart)
{
	enum { N = 3000 };
	char **ids = h_ids("sk", N);
	const char *paths[N_FILES];
	unsigned *done = calloc(N, sizeof *done), *skipped = calloc(N, sizeof *skipped);
	struct h_worker w1, w2;
	struct h_log *logs[2];
	unsigned at_kill;
	long long left;
	size_t i;
	int status;

	ck_assert(done != NULL && skipped != NULL);
	h_write_load_files(paths, N_FILES, 60, 20);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "sk");
	h_monitor_start();

	/* Small commits, so that files are in flight at any moment of the run. */
	h_worker_start(&w1, "sk", "--max-inflight", "50", "--commit-interval-ms", "1", NULL);
	ck_assert_msg(h_worker_wait_event(&w1, "done", 500, 60), "no progress");
	h_worker_signal(&w1, SIGKILL);
	status = h_worker_wait_status(&w1, 10);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	at_kill = h_worker_events(&w1, "done");
	left = h_int("LLEN files:processing:sk");
	printf("sigkill_and_restart: killed after %u of %d done, %lld id(s) left in "
	    "the processing list\n", at_kill, N, left);
	ck_assert_msg(at_kill < N, "the first run finished everything before the kill");
	ck_assert_msg(left > 0, "nothing in flight was left in the processing list");

	h_worker_start(&w2, "sk", "--max-inflight", "50", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w2, 90), 0);

	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("sk");
	check_one_final_write(ids, N);

	logs[0] = h_log_load(w1.log);
	logs[1] = h_log_load(w2.log);
	ck_assert_uint_ge(h_log_count(logs[1], "recovered", NULL), 1);
	sum_counts(logs, 2, "done", ids, N, done);
	sum_counts(logs, 2, "skipped", ids, N, skipped);
	for (i = 0; i < N; i++)
		/*
		 * Done at most once (the kill may come between the final write and
		 * its log line); if it was finished in the first run but not yet
		 * acknowledged, the second run skips it.
		 */
		ck_assert_msg(done[i] <= 1 && done[i] + skipped[i] >= 1 && skipped[i] <= 1,
		    "%s: %u done, %u skipped", ids[i], done[i], skipped[i]);
	h_log_free(logs[0]);
	h_log_free(logs[1]);
	free(done);
	free(skipped);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

struct drain_result {
	char **queue;		/* files:all after the stop */
	size_t n_queue;
	size_t n_done, n_started, n_requeued;
};

/*
 * 200 ids, 20 in flight; SIGTERM right after the first "done".  Checks
 * what must hold for any drain timeout: exit 0, processing list gone,
 * files:all = the ids not done, in their original order, all status 0.
 */
static void
sigterm_run(char **ids, size_t n, const char *drain_timeout, const char *fetch,
    struct h_worker *w, struct drain_result *res)
{
	unsigned *started = calloc(n, sizeof *started);
	struct h_log *log;
	size_t i, j;
	char *st;

	ck_assert_ptr_nonnull(started);
	/* Commits right after reading, and small chunks, so that files are
	 * mid-read at any moment (what is read by the stop is committed). */
	h_worker_start(w, "term", "--max-inflight", "20", "--drain-timeout", drain_timeout,
	    "--block-timeout", "1s", "--fetch", fetch, "--commit-interval-ms", "1",
	    "--read-chunk", "4k", NULL);
	ck_assert_msg(h_worker_wait_event(w, "done", 1, 60), "no file done");
	h_worker_signal(w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(w, 60), 0);

	ck_assert_int_eq(h_int("EXISTS files:processing:term"), 0);
	res->queue = h_lrange("files:all", &res->n_queue);
	log = h_log_load(w->log);
	h_log_counts(log, "processing", ids, n, started);
	res->n_done = res->n_started = res->n_requeued = 0;
	for (i = 0, j = 0; i < n; i++) {
		st = h_hget(ids[i], "status");
		ck_assert_ptr_nonnull(st);
		res->n_started += started[i] > 0;
		if (strcmp(st, "2") == 0) {
			res->n_done++;
			ck_assert_msg(j >= res->n_queue || strcmp(res->queue[j], ids[i]) != 0,
			    "%s is done but back in files:all", ids[i]);
		} else {
			ck_assert_msg(strcmp(st, "0") == 0, "%s has status %s after the stop",
			    ids[i], st);
			ck_assert_msg(j < res->n_queue && strcmp(res->queue[j], ids[i]) == 0,
			    "files:all[%zu] is %s, expected %s", j,
			    j < res->n_queue ? res->queue[j] : "(end)", ids[i]);
			j++;
			res->n_requeued += started[i] > 0;
		}
		free(st);
	}
	ck_assert_msg(j == res->n_queue, "files:all has %zu ids, expected %zu",
	    res->n_queue, j);
	ck_assert_int_eq(h_log_count(log, "draining", NULL), 1);
	ck_assert_int_eq(h_log_count(log, "done", NULL), res->n_done);
	ck_assert_int_eq(h_log_count(log, "stop", NULL), 1);
	h_log_free(log);
	free(started);
}

START_TEST(sigterm_no_drain_requeues_in_order)
{
	enum { N = 200 };
	char **ids = h_ids("tn", N);
	const char *paths[N_FILES];
	struct drain_result res;
	struct h_worker w, w2;
	struct h_log *logs[2];
	unsigned *done = calloc(N, sizeof *done);
	size_t i;

	ck_assert_ptr_nonnull(done);
	h_write_load_files(paths, N_FILES, 400, 300);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "tn");
	h_monitor_start();
	sigterm_run(ids, N, "0", "blmove", &w, &res);
	printf("sigterm drain 0: %zu done, %zu started and requeued, %zu in files:all\n",
	    res.n_done, res.n_requeued, res.n_queue);
	ck_assert_msg(res.n_requeued > 0, "nothing was in flight at SIGTERM");
	ck_assert_msg(res.n_done < N, "everything was done before SIGTERM");

	/* A second run finishes the rest; none is finished twice. */
	h_worker_start(&w2, "term", "--exit-when-idle", NULL);
	ck_assert_int_eq(h_worker_wait(&w2, 60), 0);
	h_assert_all_status(ids, N, "2");
	h_assert_lists_empty("term");
	check_one_final_write(ids, N);
	logs[0] = h_log_load(w.log);
	logs[1] = h_log_load(w2.log);
	sum_counts(logs, 2, "done", ids, N, done);
	for (i = 0; i < N; i++)
		ck_assert_msg(done[i] == 1, "%s: done %u times", ids[i], done[i]);
	h_log_free(logs[0]);
	h_log_free(logs[1]);
	h_strv_free(res.queue, res.n_queue);
	free(done);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

/* blpop mode keeps no processing list: only the worker's memory can requeue. */
START_TEST(sigterm_blpop_requeues_in_order)
{
	enum { N = 200 };
	char **ids = h_ids("tb", N);
	const char *paths[N_FILES];
	struct drain_result res;
	struct h_worker w;

	h_write_load_files(paths, N_FILES, 400, 300);
	h_enqueue_many(H_API_NEW, ids, N, paths, N_FILES, "entry", "tb");
	sigterm_run(ids, N, "0", "blpop", &w, &res);
	printf("sigterm blpop drain 0: %zu done, %zu started and requeued, %zu in files:all\n",
	    res.n_done, res.n_requeued, res.n_queue);
	ck_assert_msg(res.n_requeued > 0, "nothing was in flight at SIGTERM");
	ck_assert_uint_eq(res.n_done + res.n_queue, N);
	h_strv_free(res.queue, res.n_queue);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

/* SIGTERM during a long blocking pop: CLIENT UNBLOCK ends it at once. */
START_TEST(sigterm_while_blocked)
{
	const char *modes[] = { "blmove", "blpop" };
	struct h_worker w;
	struct timeval t0, t1;
	size_t i;

	for (i = 0; i < 2; i++) {
		h_worker_start(&w, "blk", "--block-timeout", "60s", "--fetch", modes[i], NULL);
		ck_assert(h_worker_wait_event(&w, "redis-connected", 2, 10));
		usleep(200 * 1000);	/* the pop is sent right after the connection */
		gettimeofday(&t0, NULL);
		h_worker_signal(&w, SIGTERM);
		ck_assert_int_eq(h_worker_wait(&w, 20), 0);
		gettimeofday(&t1, NULL);
		/* A bound far above the expected milliseconds, far below the 60 s pop. */
		ck_assert_msg(t1.tv_sec - t0.tv_sec < 10, "%s: stopping took %lds",
		    modes[i], (long)(t1.tv_sec - t0.tv_sec));
		ck_assert_int_eq(h_int("LLEN files:all"), 0);
	}
}
END_TEST

START_TEST(sigterm_drain_finishes_inflight)
{
	enum { N = 200 };
	char **ids = h_ids("td", N);
	const char *paths[N_FILES];
	struct drain_result res;
	struct h_worker w;
	struct h_log *log;

	h_write_load_files(paths, N_FILES, 400, 300);
	h_enqueue_many(H_API_OLD, ids, N, paths, N_FILES, "entry", "td");
	sigterm_run(ids, N, "20s", "blmove", &w, &res);
	printf("sigterm drain 20s: %zu done, %zu started, %zu requeued, %zu in files:all\n",
	    res.n_done, res.n_started, res.n_requeued, res.n_queue);
	/* Every file that was started was finished. */
	ck_assert_msg(res.n_requeued == 0, "%zu started files were not finished",
	    res.n_requeued);
	ck_assert_uint_eq(res.n_done, res.n_started);
	ck_assert_msg(res.n_done > 1 && res.n_done < N, "%zu done", res.n_done);
	log = h_log_load(w.log);
	ck_assert_int_eq(h_log_count(log, "drain-timeout", NULL), 0);
	h_log_free(log);
	h_strv_free(res.queue, res.n_queue);
	h_free_paths(paths, N_FILES);
	h_strv_free(ids, N);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = h_tcase("sigkill", false);

	tcase_add_test(tc, sigkill_and_restart);
	suite_add_tcase(s, tc);

	tc = h_tcase("sigterm", false);
	tcase_add_test(tc, sigterm_no_drain_requeues_in_order);
	tcase_add_test(tc, sigterm_drain_finishes_inflight);
	tcase_add_test(tc, sigterm_blpop_requeues_in_order);
	tcase_add_test(tc, sigterm_while_blocked);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
