/*
 * Workers that die, stop or get stuck, on one queue and one lake:
 *
 *   dead_worker_reaped      3 workers, one SIGKILLed and never restarted:
 *                           its files finish on the others within the
 *                           heartbeat TTL + 5 s
 *   kill_cycles             50 SIGKILL/restart cycles while 2,000 files
 *                           arrive: none lost, none twice, all done
 *   stopped_worker_fenced   a worker frozen (SIGSTOP) past its TTL is reaped;
 *                           thawed, it finds its lease gone and commits none
 *                           of the files the others took
 *   poison_file_given_up    a file that aborts the worker (fault hook) ends
 *                           failed after --max-attempts, the others done
 *   fetch_stall_watchdog    a pop's reply lost (fault hook): the watchdog
 *                           restarts fetching, counts it, /healthz says so
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "chaos.h"

#define TTL "4s"
#define TTL_S 4.0

/* Start a worker with a short heartbeat TTL and the given extra options. */
#define START(w, id, ...) \
	h_worker_start((w), (id), "--heartbeat-ttl", TTL, ##__VA_ARGS__, NULL)

START_TEST(dead_worker_reaped)
{
	enum { N = 300 };
	char **ids = h_ids("dw", N), **held;
	const char *paths[TC_LOAD_FILES];
	struct h_worker w[3];
	const char *names[] = { "dw-a", "dw-b", "dw-c" };
	size_t n_held = 0, reaped = 0;
	double t_kill, waited;

	h_write_load_files(paths, TC_LOAD_FILES, 2, 3);
	/* A big keyspace, as PortAda's hashes make one: the reaper must not
	 * depend on a SCAN reaching the dead worker's list. */
	h_ok("EVAL %s 0", "for i = 1, 200000 do redis.call('SET', 'junk:' .. i, 'x') end");
	for (int i = 0; i < 3; i++)
		START(&w[i], names[i], "--commit-interval-ms", "1500", "--max-inflight", "1000");
	h_sleep(0.5 * h_slow());	/* all three connected and waiting */
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "dw");
	/* c holds files waiting for their commit: now it dies for good. */
	for (double t0 = h_now(); h_int("LLEN files:processing:dw-c") == 0; h_sleep(0.005))
		ck_assert_msg(h_now() - t0 < 10 * h_slow(), "dw-c never took a file");
	h_worker_signal(&w[2], SIGKILL);
	t_kill = h_now();
	h_worker_wait_status(&w[2], 10);
	held = h_lrange("files:processing:dw-c", &n_held);
	ck_assert_msg(n_held > 0, "dw-c finished its files before it was killed");
	ck_assert_msg(c_wait_final(held, n_held, TTL_S + 5), "dw-c's %zu file(s) were not "
	    "finished by the others within the TTL + 5 s", n_held);
	waited = h_now() - t_kill;
	ck_assert(c_wait_final(ids, N, 60));
	ck_assert_int_eq(h_int("LLEN files:processing:dw-c"), 0);
	for (int i = 0; i < 2; i++) {
		struct h_log *log;

		h_worker_signal(&w[i], SIGTERM);
		ck_assert_int_eq(h_worker_wait(&w[i], 30), 0);
		log = h_log_load(w[i].log);
		reaped += h_log_count(log, "reaped", NULL);
		h_log_free(log);
	}
	ck_assert_uint_eq(reaped, 1);
	ck_assert_uint_eq(c_check_table(H->lake, "ship_entries", ids, N, 2, 3),
	    tc_sum_expected(N, 2, 3));
	printf("dead worker: %zu file(s) held by the killed worker finished on the others "
	    "%.1f s after the kill (TTL %.0f s)\n", n_held, waited, TTL_S);
	h_strv_free(held, n_held);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * One worker runs throughout; another is SIGKILLed at a random moment and
 * started again, 50 times, while the files arrive in 50 waves.
 */
START_TEST(kill_cycles)
{
	enum { N = 2000, KILLS = 50, WAVE = N / KILLS };
	char **ids = h_ids("kc", N);
	const char *paths[TC_LOAD_FILES];
	struct h_worker steady, w;
	unsigned seed = (unsigned)getpid() ^ (unsigned)(h_now() * 1000), kills = 0;
	size_t recovered = 0, already = 0;
	struct h_log *log;

	printf("kill cycles: seed %u\n", seed);
	srandom(seed);
	h_write_load_files(paths, TC_LOAD_FILES, 1, 4);
	START(&steady, "kc-steady", "--commit-interval-ms", "50", "--max-inflight", "8");
	while (kills < KILLS) {
		double delay = 0.02 + (double)(random() % 200) / 1000;

		h_enqueue_many(H_API_NEW, ids + kills * WAVE, WAVE, paths, TC_LOAD_FILES, "entry",
		    "kc");
		START(&w, "kc-killed", "--commit-interval-ms", "30", "--max-inflight", "16");
		h_sleep(delay * h_slow());
		h_worker_signal(&w, SIGKILL);
		h_worker_wait_status(&w, 30);
		kills++;
		log = h_log_load(w.log);
		recovered += h_log_count(log, "recovered", NULL);
		already += h_log_count(log, "already-committed", NULL);
		h_log_free(log);
	}
	START(&w, "kc-killed", "--commit-interval-ms", "30");
	ck_assert_msg(c_wait_final(ids, N, 120), "%zu of %d files final",
	    c_count_final(ids, N), N);
	/* Its signal handlers are set by then (a SIGTERM before would kill it). */
	ck_assert(h_worker_wait_event(&w, "start", 1, 30));
	h_worker_signal(&w, SIGTERM);
	h_worker_signal(&steady, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	ck_assert_int_eq(h_worker_wait(&steady, 30), 0);
	h_assert_all_status(ids, N, "2");
	ck_assert_uint_eq(c_check_table(H->lake, "ship_entries", ids, N, 1, 4),
	    tc_sum_expected(N, 1, 4));
	h_assert_lists_empty("kc-killed");
	h_assert_lists_empty("kc-steady");
	printf("kill cycles: %u kills, %zu recoveries of the processing list, %zu upload(s) "
	    "found already committed after a kill; every file done once\n", kills, recovered,
	    already);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * A worker frozen past its TTL holds files read and waiting for their
 * commit.  The other reaps them and commits them; thawed, the frozen one
 * must not commit them again: its lease lapsed, so it holds its commit,
 * finds its heartbeat gone and drops them.
 */
START_TEST(stopped_worker_fenced)
{
	enum { N = 200 };
	char **ids = h_ids("sf", N), **held;
	const char *paths[TC_LOAD_FILES];
	struct h_worker a, b;
	size_t n_held = 0;
	struct h_log *log;

	h_write_load_files(paths, TC_LOAD_FILES, 3, 1);
	START(&b, "sf-b", "--commit-interval-ms", "3000", "--max-inflight", "1000");
	h_sleep(0.5 * h_slow());
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "sf");
	/* b takes them all and waits 3 s for its commit: freeze it now. */
	for (double t0 = h_now(); h_int("LLEN files:all") > 0; h_sleep(0.005))
		ck_assert(h_now() - t0 < 10 * h_slow());
	h_sleep(0.3 * h_slow());
	h_worker_signal(&b, SIGSTOP);
	held = h_lrange("files:processing:sf-b", &n_held);
	ck_assert_msg(n_held > 0, "sf-b committed before it was frozen");
	START(&a, "sf-a", "--commit-interval-ms", "100");
	ck_assert_msg(c_wait_final(held, n_held, TTL_S + 8), "the frozen worker's files were "
	    "not reaped and finished");
	h_worker_signal(&b, SIGCONT);
	ck_assert(c_wait_final(ids, N, 60));
	ck_assert_msg(h_worker_wait_event(&b, "heartbeat-lapsed", 1, 10),
	    "the thawed worker did not notice its lease was gone");
	h_sleep(4 * h_slow());	/* past its commit interval: had it kept them, they'd be in */
	h_worker_signal(&a, SIGTERM);
	h_worker_signal(&b, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&a, 30), 0);
	ck_assert_int_eq(h_worker_wait(&b, 30), 0);
	ck_assert_uint_eq(c_check_table(H->lake, "ship_entries", ids, N, 3, 1),
	    tc_sum_expected(N, 3, 1));
	log = h_log_load(a.log);
	ck_assert_uint_eq(h_log_count(log, "reaped", NULL), 1);
	h_log_free(log);
	printf("fenced: %zu file(s) of the frozen worker reaped and done once\n", n_held);
	h_strv_free(held, n_held);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/*
 * A file whose reading aborts the worker (PW_FAULT=abort:poison): a
 * supervisor starts the worker again each time, as systemd would.  After
 * --max-attempts (3) starts the file fails with a message saying so; the
 * files read along with it are done.
 */
START_TEST(poison_file_given_up)
{
	enum { N = 40, HALF = 2 * TC_LOAD_FILES };	/* id k reads load file k % 8 */
	char **ids = h_ids("pf", N);
	const char *paths[TC_LOAD_FILES];
	struct rlimit no_core = { 0, 0 };
	unsigned deaths = 0;
	struct h_worker w;
	char *st, *msg;

	if (!c_fault_hooks("poison_file_given_up"))
		return;
	ck_assert_int_eq(setrlimit(RLIMIT_CORE, &no_core), 0);	/* no core files */
	setenv("PW_FAULT", "abort:poison", 1);
	h_write_load_files(paths, TC_LOAD_FILES, 2, 1);
	h_enqueue_many(H_API_NEW, ids, HALF, paths, TC_LOAD_FILES, "entry", "pf");
	h_enqueue(H_API_NEW, "pf-poison", h_write_entries("ingest/poison.json", 3, 10),
	    "entry", "pf");
	h_enqueue_many(H_API_NEW, ids + HALF, N - HALF, paths, TC_LOAD_FILES, "entry", "pf");
	for (;;) {
		int ws;

		START(&w, "pf", "--exit-when-idle", "--commit-interval-ms", "50");
		ws = h_worker_wait_status(&w, 60);
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
			break;
		ck_assert_msg(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGABRT,
		    "the worker ended with wait status %#x", ws);
		ck_assert_msg(++deaths <= 3, "the poison file killed the worker %u times", deaths);
	}
	unsetenv("PW_FAULT");
	ck_assert_uint_eq(deaths, 3);
	st = h_hget("pf-poison", "status");
	msg = h_hget("pf-poison", "error_message");
	ck_assert_str_eq(st, "-1");
	ck_assert_msg(msg != NULL && strstr(msg, "given up after 3 attempts") != NULL &&
	    strstr(msg, "worker pf stopped") != NULL, "error_message: %s", msg ? msg : "(nil)");
	h_assert_all_status(ids, N, "2");
	ck_assert_uint_eq(c_check_table(H->lake, "ship_entries", ids, N, 2, 1),
	    tc_sum_expected(N, 2, 1));
	printf("poison: %u aborts, then: %s\n", deaths, msg);
	free(st);
	free(msg);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

/* A free loopback port (bound and released: good enough for a test). */
static unsigned
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* GET http://127.0.0.1:port/path: the status code, the body into out. */
static int
http_get(unsigned port, const char *path, char *out, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static char buf[1 << 17];
	char req[256];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
	char *body;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	out[0] = '\0';
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (n + 1 < sizeof buf && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return -1;
	if ((body = strstr(buf, "\r\n\r\n")) != NULL)
		snprintf(out, size, "%s", body + 4);
	return code;
}

/*
 * PW_FAULT=fetch-stall:3: the third reply to a pop (an empty BLMOVE) is
 * dropped on the floor, so the fetch loop waits for ever for what came.
 * Files queued then are not taken until the watchdog notices (free slots,
 * ids queued, no pop answered for block + command timeout + a beat) and
 * starts fetching over.
 */
START_TEST(fetch_stall_watchdog)
{
	enum { N = 30 };
	char **ids = h_ids("fs", N), port_arg[32], *p;
	static char body[1 << 17];
	const char *paths[TC_LOAD_FILES];
	unsigned port = free_port();
	struct h_worker w;
	struct h_log *log;
	int code;

	if (!c_fault_hooks("fetch_stall_watchdog"))
		return;
	snprintf(port_arg, sizeof port_arg, "127.0.0.1:%u", port);
	setenv("PW_FAULT", "fetch-stall:3", 1);
	h_write_load_files(paths, TC_LOAD_FILES, 1, 1);
	START(&w, "fs", "--block-timeout", "300ms", "--command-timeout", "1s",
	    "--commit-interval-ms", "50", "--metrics-addr", port_arg);
	unsetenv("PW_FAULT");
	/* Two empty pops answered, the third lost: then the files come. */
	h_sleep(1.5 * h_slow());
	h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", "fs");
	h_sleep(0.5 * h_slow());
	ck_assert_msg(h_int("LLEN files:all") == N, "files were taken while the fetch loop "
	    "was stuck: the fault hook did not bite");
	ck_assert_msg(h_worker_wait_event(&w, "fetch-stalled", 1, 15), "the watchdog did not "
	    "notice the stuck fetch loop");
	ck_assert(c_wait_final(ids, N, 30));
	h_assert_all_status(ids, N, "2");
	code = http_get(port, "/healthz", body, sizeof body);
	ck_assert_msg(code == 200 && strstr(body, "watchdog restarted the fetch loop 1 time") !=
	    NULL, "/healthz: %d %s", code, body);
	code = http_get(port, "/metrics", body, sizeof body);
	ck_assert_int_eq(code, 200);
	p = strstr(body, "\nportada_fetch_stalls_total ");
	ck_assert_msg(p != NULL && strtol(p + 28, NULL, 10) == 1, "metrics: %s", body);
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	log = h_log_load(w.log);
	ck_assert_uint_eq(h_log_count(log, "fetch-stalled", NULL), 1);
	printf("watchdog: %s\n", h_log_msg(log, "fetch-stalled", NULL));
	h_log_free(log);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chaos-workers");
	TCase *tc = h_tcase("workers", false);

	tcase_add_test(tc, dead_worker_reaped);
	tcase_add_test(tc, kill_cycles);
	tcase_add_test(tc, stopped_worker_fenced);
	tcase_add_test(tc, poison_file_given_up);
	tcase_add_test(tc, fetch_stall_watchdog);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
