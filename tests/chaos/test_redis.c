/*
 * Redis faults under a real worker with files flowing: the server
 * SIGKILLed and restarted from its AOF (appendfsync always) three times,
 * the server stopped with SIGSTOP for longer than every timeout the
 * worker has and then continued, stopped again and again for about as
 * long as the worker's 1 s deadlines, and both of the worker's
 * connections (fetch and command) cut with CLIENT KILL again and again.  Each case
 * ends the same way: every file status 2, each exactly once in the Delta
 * table (and done once in the log), the queue and the processing list
 * empty, the worker stopping cleanly on SIGTERM.
 *
 * Files come in waves, so that each fault lands while files are in
 * flight and a backlog waits, whatever the speed of the machine.
 */
#include "chaos.h"

#define BASE 300	/* load file k holds BASE + STEP * k records (chaos.h) */
#define STEP 50

/* Every id done exactly once in the log, none failed. */
static void
check_log(const struct h_worker *w, char **ids, size_t n)
{
	unsigned *done = calloc(n, sizeof *done);
	struct h_log *log = h_log_load(w->log);
	size_t bad = 0;

	ck_assert_ptr_nonnull(done);
	h_log_counts(log, "done", ids, n, done);
	for (size_t i = 0; i < n; i++)
		if (done[i] != 1 && bad++ < 5)
			fprintf(stderr, "%s: %u done lines\n", ids[i], done[i]);
	ck_assert_msg(bad == 0, "%zu ids not done exactly once in the log", bad);
	ck_assert_uint_eq(h_log_count(log, "failed", NULL), 0);
	ck_assert_uint_eq(log->n_foreign, 0);
	h_log_free(log);
	free(done);
}

struct run {
	char **ids;
	const char *paths[TC_LOAD_FILES];
	size_t n, queued;
	struct h_worker w;
	const char *id;
};

static void
run_start(struct run *r, const char *id, size_t n, const char *const *extra)
{
	const char *argv[40];
	size_t k = 0;

	memset(r, 0, sizeof *r);
	r->id = id;
	r->n = n;
	r->ids = h_ids(id, n);
	h_write_load_files(r->paths, TC_LOAD_FILES, BASE, STEP);
	argv[k++] = "--redis";
	argv[k++] = H->url;
	argv[k++] = "--worker-id";
	argv[k++] = id;
	argv[k++] = "--ingest-root";
	argv[k++] = H->root;
	argv[k++] = "--log-format";
	argv[k++] = "json";
	argv[k++] = "--max-inflight";
	argv[k++] = "32";
	argv[k++] = "--commit-interval-ms";
	argv[k++] = "100";
	while (extra != NULL && *extra != NULL && k < 39)
		argv[k++] = *extra++;
	argv[k] = NULL;
	h_worker_start_argv(&r->w, argv);
}

/* Queue the next wave (a multiple of TC_LOAD_FILES: id k reads load file k % 8). */
static void
run_wave(struct run *r, size_t n)
{
	ck_assert_uint_eq(n % TC_LOAD_FILES, 0);
	if (n > r->n - r->queued)
		n = r->n - r->queued;
	h_enqueue_many(H_API_NEW, r->ids + r->queued, n, r->paths, TC_LOAD_FILES, "entry",
	    "chaos");
	r->queued += n;
}

/* Wait until at least n files are done. */
static void
run_wait_done(struct run *r, size_t n, double timeout)
{
	ck_assert_msg(h_worker_wait_event(&r->w, "done", (unsigned)n, timeout),
	    "%s: only %u of %zu done", r->id, h_worker_events(&r->w, "done"), n);
}

/* Everything queued is done: stop the worker and check it all. */
static void
run_finish(struct run *r, double timeout)
{
	run_wait_done(r, r->n, timeout);
	h_worker_signal(&r->w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&r->w, 30), 0);
	h_assert_all_status(r->ids, r->n, "2");
	h_assert_lists_empty(r->id);
	printf("table: all %zu uploads once, %" PRIu64 " rows\n", r->n,
	    c_check_table(H->lake, "ship_entries", r->ids, r->n, BASE, STEP));
	check_log(&r->w, r->ids, r->n);
	h_free_paths(r->paths, TC_LOAD_FILES);
	h_strv_free(r->ids, r->n);
}

/*
 * SIGKILL while files are in flight (a backlog waits and the processing
 * list holds ids), restart from the AOF on the same socket; three times.
 */
START_TEST(redis_killed_three_times)
{
	enum { N = 600, WAVE = 200 };
	static const char *const extra[] = { "--connect-timeout", "1s",
		"--command-timeout", "2s", NULL };
	struct run r;
	double t = h_now();

	run_start(&r, "kill", N, extra);
	for (int k = 0; k < 3; k++) {
		unsigned before = h_worker_events(&r.w, "done");
		long long backlog, processing;

		run_wave(&r, WAVE);
		run_wait_done(&r, before + 40, 60);
		/* A group commit empties the processing list for a moment. */
		do
			processing = h_int("LLEN files:processing:kill");
		while (processing == 0 && h_worker_events(&r.w, "done") < r.queued);
		backlog = h_int("LLEN files:all");
		h_redis_kill();
		printf("kill %d: %u done, %lld queued, %lld in the processing list\n", k + 1,
		    h_worker_events(&r.w, "done"), backlog, processing);
		ck_assert_msg(backlog + processing > 0, "nothing left in flight at kill %d", k + 1);
		h_sleep(0.3);
		h_redis_start();
	}
	run_finish(&r, 90);
	ck_assert_uint_ge(h_worker_events(&r.w, "redis-up"), 3);
	printf("redis_killed_three_times: %.1f s\n", h_now() - t);
}
END_TEST

/* SIGSTOP for PAUSE s, then SIGCONT; the worker logged the outage. */
static void
pause_redis(struct run *r, double pause)
{
	unsigned down = h_worker_events(&r->w, "redis-down");

	ck_assert_int_eq(kill(H->redis_pid, SIGSTOP), 0);
	h_sleep(pause);
	ck_assert_int_eq(kill(H->redis_pid, SIGCONT), 0);
	ck_assert_msg(h_worker_events(&r->w, "redis-down") > down,
	    "no connection gave up on a Redis stopped for %.1f s", pause);
}

/*
 * Stopped for longer than every timeout the worker has (the command
 * deadline, the connect timeout, a blocking pop's wait plus its deadline:
 * shortened here to 1 s each), once with files flowing and once while the
 * fetch connection sits in BLMOVE on an empty queue.  No help from the
 * test: the worker must come back by itself and finish everything.
 */
START_TEST(redis_stopped_past_every_timeout)
{
	enum { N = 400, WAVE = 200 };
	static const double pause = 4.0;	/* > 1 s block + 1 s command deadline */
	static const char *const extra[] = { "--connect-timeout", "1s",
		"--command-timeout", "1s", "--block-timeout", "1s", NULL };
	struct run r;
	double t = h_now();

	run_start(&r, "stop", N, extra);
	run_wave(&r, WAVE);
	run_wait_done(&r, 40, 60);
	pause_redis(&r, pause);
	printf("stopped mid-run: %u done when continued\n", h_worker_events(&r.w, "done"));
	run_wait_done(&r, WAVE, 60);
	/* Idle now: the fetch connection blocks in BLMOVE. */
	h_sleep(1.5);
	pause_redis(&r, pause);
	run_wave(&r, WAVE);
	run_finish(&r, 60);
	printf("redis_stopped_past_every_timeout: %u redis-down, %u redis-up, %.1f s\n",
	    h_worker_events(&r.w, "redis-down"), h_worker_events(&r.w, "redis-up"),
	    h_now() - t);
}
END_TEST

/*
 * CLIENT KILL, over and over while files flow: the fetch connection by
 * its id, the command connection by its id, and both at once.
 */
START_TEST(both_connections_killed)
{
	enum { N = 600, WAVE = 200 };
	static const char *const extra[] = { "--connect-timeout", "1s",
		"--command-timeout", "2s", NULL };
	static const char *const names[] = {
		"portada-worker:ck:fetch", "portada-worker:ck:command",
	};
	unsigned kills[3] = { 0, 0, 0 };
	long long id[2];
	struct run r;
	double t = h_now(), deadline = t + 80 * h_slow(), up_by;

	run_start(&r, "ck", N, extra);
	for (unsigned i = 0; h_worker_events(&r.w, "done") < N; i++) {
		unsigned kind = i % 3;

		ck_assert_msg(h_now() < deadline, "only %u of %d done after %.0f s",
		    h_worker_events(&r.w, "done"), N, h_now() - t);
		ck_assert_msg(h_worker_running(&r.w), "the worker exited");
		if (r.queued < N && h_worker_events(&r.w, "done") + WAVE / 2 >= r.queued)
			run_wave(&r, WAVE);
		/* The connection(s) up again first: each may still be reconnecting. */
		up_by = h_now() + 5 * h_slow();
		while ((id[0] = h_client_id(names[0])) < 0 ||
		    (id[1] = h_client_id(names[1])) < 0) {
			ck_assert_msg(h_now() < up_by, "a connection did not come back");
			h_sleep(0.01);
		}
		if (kind < 2)
			kills[kind] += (unsigned)h_int("CLIENT KILL ID %lld", id[kind]);
		else
			kills[2] += h_int("CLIENT KILL TYPE normal SKIPME yes") == 2;
		h_sleep(0.1);
	}
	printf("both_connections_killed: %u kills of fetch, %u of command, %u of both, "
	    "%.1f s\n", kills[0], kills[1], kills[2], h_now() - t);
	ck_assert_msg(kills[0] >= 3 && kills[1] >= 3 && kills[2] >= 3,
	    "too few kills (%u, %u, %u): the run was too short", kills[0], kills[1], kills[2]);
	run_finish(&r, 30);
	ck_assert_uint_ge(h_worker_events(&r.w, "redis-up"), 6);
}
END_TEST


/*
 * Short stops, one after the other, of 0.6 to 1.95 s against 1 s
 * deadlines: replies that come just before, at or just after the
 * watchdog gives up on them.
 */
START_TEST(redis_stopped_around_the_deadline)
{
	enum { N = 600, WAVE = 200 };
	static const char *const extra[] = { "--connect-timeout", "1s",
		"--command-timeout", "1s", "--block-timeout", "1s", NULL };
	struct run r;
	double t = h_now(), deadline = t + 80 * h_slow();
	unsigned i;

	run_start(&r, "edge", N, extra);
	for (i = 0; h_worker_events(&r.w, "done") < N; i++) {
		ck_assert_msg(h_now() < deadline, "only %u of %d done after %.0f s",
		    h_worker_events(&r.w, "done"), N, h_now() - t);
		if (r.queued < N && h_worker_events(&r.w, "done") + WAVE / 2 >= r.queued)
			run_wave(&r, WAVE);
		ck_assert_int_eq(kill(H->redis_pid, SIGSTOP), 0);
		h_sleep(0.6 + 0.15 * (double)(i % 10));
		ck_assert_int_eq(kill(H->redis_pid, SIGCONT), 0);
		h_sleep(0.3);
	}
	printf("redis_stopped_around_the_deadline: %u stops, %u redis-down, %.1f s\n", i,
	    h_worker_events(&r.w, "redis-down"), h_now() - t);
	ck_assert_uint_ge(i, 3);
	run_finish(&r, 30);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("redis");
	TCase *tc = h_tcase("redis-killed", true);

	tcase_add_test(tc, redis_killed_three_times);
	suite_add_tcase(s, tc);
	tc = h_tcase("redis-faults", false);
	tcase_add_test(tc, redis_stopped_past_every_timeout);
	tcase_add_test(tc, both_connections_killed);
	tcase_add_test(tc, redis_stopped_around_the_deadline);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
