/*
 * The start-up preflight (src/preflight.c): each finding is one "preflight"
 * log line, checked here against a real redis-server started with the
 * settings in question (evicting, each kind of persistence, CONFIG renamed
 * away, INFO and CONFIG refused by an ACL, down when the worker starts), a
 * lake that cannot be written (a path under a regular file; a read-only
 * bind mount of a lake whose tables exist, which opening the tables alone
 * would not notice), a small tmpfs lake, and a Redis too old for the
 * worker's commands.  After each warning the worker must still do its
 * work.  The mount cases need root (a private mount namespace); without
 * it they are skipped with a line saying so.
 *
 * Debian 12 has no Redis older than 7.0 and none can be installed here, so
 * "too old" is a tiny RESP server in this program that answers INFO with
 * redis_version:6.0.0 and refuses BLMOVE, LMOVE and LPOP with a count as
 * 6.0 does; everything else about that check (the real INFO reply, its
 * parsing) runs against the real 7.0 server in the other cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* The level of the first preflight line whose message holds needle, or NULL. */
static const char *
preflight_level(const struct h_log *log, const char *needle)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		if (l->event != NULL && strcmp(l->event, "preflight") == 0 &&
		    l->msg != NULL && strstr(l->msg, needle) != NULL)
			return l->level;
	}
	return NULL;
}

static size_t
preflight_count(const struct h_log *log, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		n += l->event != NULL && strcmp(l->event, "preflight") == 0 &&
		    l->msg != NULL && strstr(l->msg, needle) != NULL;
	}
	return n;
}

/* Exactly one preflight line holds needle, at this level. */
#define assert_line(log, needle, level) do { \
	const char *lv_ = preflight_level(log, needle); \
	ck_assert_msg(lv_ != NULL, "no preflight line with \"%s\"", needle); \
	ck_assert_msg(strcmp(lv_, level) == 0, "preflight \"%s\" is %s, expected %s", \
	    needle, lv_, level); \
	ck_assert_uint_eq(preflight_count(log, needle), 1); \
} while (0)

/* An error line (any event) whose message holds both needles. */
static bool
has_error(const struct h_log *log, const char *a, const char *b)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];

		if (l->level != NULL && strcmp(l->level, "error") == 0 && l->msg != NULL &&
		    strstr(l->msg, a) != NULL && strstr(l->msg, b) != NULL)
			return true;
	}
	return false;
}

static void
worker_argv(const char **argv, const char *url, const char *id, const char *const *extra)
{
	size_t k = 0;

	argv[k++] = "--redis";
	argv[k++] = url;
	argv[k++] = "--worker-id";
	argv[k++] = id;
	argv[k++] = "--ingest-root";
	argv[k++] = H->root;
	argv[k++] = "--log-format";
	argv[k++] = "json";
	while (extra != NULL && *extra != NULL && k < 30)
		argv[k++] = *extra++;
	argv[k] = NULL;
}

/*
 * Start a worker with these extra arguments, wait for n_lines preflight
 * lines (all of them: each check has one), then queue n files and let it
 * finish them: the worker works after whatever it warned about.  Returns
 * its log.
 */
static struct h_log *
run_worker(const char *id, unsigned n_lines, const char *const *extra, unsigned n)
{
	const char *argv[32];
	char prefix[64];
	char **ids;
	const char *path;
	struct h_worker w;
	double deadline;
	struct h_log *log;

	worker_argv(argv, H->url, id, extra);
	h_worker_start_argv(&w, argv);
	deadline = h_now() + 20 * h_slow();
	while (h_worker_events(&w, "preflight") < n_lines) {
		ck_assert_msg(h_worker_running(&w), "%s exited before its checks", id);
		ck_assert_msg(h_now() < deadline, "%s: only %u preflight lines", id,
		    h_worker_events(&w, "preflight"));
		h_sleep(0.02);
	}
	snprintf(prefix, sizeof prefix, "%s-f", id);
	ids = h_ids(prefix, n);
	path = h_write_entries("ingest/pf.json", 3, 10);
	h_enqueue_many(H_API_NEW, ids, n, &path, 1, "entry", "pf");
	ck_assert_msg(h_worker_wait_event(&w, "done", n, 30), "%s: only %u of %u done",
	    id, h_worker_events(&w, "done"), n);
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	h_assert_all_status(ids, n, "2");
	h_assert_lists_empty(id);
	h_strv_free(ids, n);
	log = h_log_load(w.log);
	ck_assert_uint_eq(log->n_foreign, 0);
	ck_assert_uint_eq(h_log_count(log, "preflight", NULL), n_lines);
	return log;
}

static void
redis_with(const char *const *args)
{
	h_redis_kill();
	h_redis_start_with(args);
}

/*
 * h_setup's server has no persistence at all; here it also evicts.  One
 * ingest root exists, one does not (yet): a warning, and the worker runs.
 */
START_TEST(risky_redis_and_missing_root)
{
	static const char *const lru[] = { "--maxmemory-policy", "allkeys-lru",
		"--maxmemory", "1gb", NULL };
	char missing[PATH_MAX], lake_line[PATH_MAX + 32], root_line[PATH_MAX + 32];
	const char *extra[] = { "--ingest-root", missing, NULL };
	struct h_log *log;

	snprintf(missing, sizeof missing, "%s", h_path("not-yet"));
	redis_with(lru);
	log = run_worker("risky", 6, extra, 20);
	snprintf(lake_line, sizeof lake_line, "lake %s: writable, ", H->lake);
	assert_line(log, lake_line, "info");
	snprintf(root_line, sizeof root_line, "ingest root %s: a readable directory", H->root);
	assert_line(log, root_line, "info");
	snprintf(root_line, sizeof root_line, "ingest root %s: No such file or directory; "
	    "uploads under it fail", missing);
	assert_line(log, root_line, "warn");
	assert_line(log, "Redis 7.", "info");
	assert_line(log, "has the commands the worker needs (6.2 or later)", "info");
	assert_line(log, "maxmemory-policy is allkeys-lru (maxmemory 1073741824 bytes): at "
	    "its memory limit Redis may evict queued ids", "warn");
	assert_line(log, "persistence: none (appendonly no, no save points): a Redis "
	    "restart loses everything", "warn");
	h_log_free(log);
}
END_TEST

/*
 * Redis down when the worker starts: the local lines come at once, the
 * Redis ones once the command connection is first ready, and the loop
 * never waited for them.
 */
START_TEST(redis_down_at_start)
{
	const char *argv[32];
	struct h_worker w;
	struct h_log *log;
	const char *path = h_write_entries("ingest/down.json", 3, 10);

	h_redis_kill();
	worker_argv(argv, H->url, "down", NULL);
	h_worker_start_argv(&w, argv);
	ck_assert(h_worker_wait_event(&w, "redis-down", 1, 10));
	ck_assert_uint_eq(h_worker_events(&w, "preflight"), 2);	/* lake, root */
	h_sleep(0.5);
	ck_assert_uint_eq(h_worker_events(&w, "preflight"), 2);
	h_redis_start();
	ck_assert(h_worker_wait_event(&w, "preflight", 5, 20));
	h_enqueue(H_API_NEW, "down-1", path, "entry", "pf");
	ck_assert(h_worker_wait_event(&w, "done", 1, 20));
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	log = h_log_load(w.log);
	assert_line(log, "Redis 7.", "info");
	assert_line(log, "maxmemory-policy noeviction", "info");
	assert_line(log, "persistence: none", "warn");
	ck_assert_uint_eq(h_log_count(log, "preflight", NULL), 5);
	h_log_free(log);
}
END_TEST

/* What a restart would lose, for each kind of persistence. */
START_TEST(persistence_each_kind)
{
	static const char *const always[] = { "--appendonly", "yes", "--appendfsync",
		"always", NULL };
	static const char *const everysec[] = { "--appendonly", "yes", "--appendfsync",
		"everysec", NULL };
	static const char *const never[] = { "--appendonly", "yes", "--appendfsync",
		"no", NULL };
	static const char *const rdb[] = { "--save", "900 1 60 100", NULL };
	static const struct {
		const char *id;
		const char *const *args;
		const char *line, *level;
	} kinds[] = {
		{ "aof-always", always, "persistence: appendonly yes, appendfsync always: a "
		  "Redis restart or crash loses nothing", "info" },
		{ "aof-everysec", everysec, "persistence: appendonly yes, appendfsync everysec: "
		  "a crash of Redis or its machine can lose up to about the last second", "warn" },
		{ "aof-no", never, "persistence: appendonly yes, appendfsync no: the kernel "
		  "decides when the AOF reaches the disk", "warn" },
		{ "rdb", rdb, "persistence: RDB snapshots only (appendonly no, save \"900 1 60 "
		  "100\"): a crash or kill of Redis loses every write since the last snapshot, "
		  "up to the last 900 s", "warn" },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct h_log *log;

		redis_with(kinds[i].args);
		log = run_worker(kinds[i].id, 5, NULL, 3);
		assert_line(log, kinds[i].line, kinds[i].level);
		assert_line(log, "maxmemory-policy noeviction: Redis never drops", "info");
		h_log_free(log);
	}
}
END_TEST

/*
 * CONFIG renamed away, or INFO and CONFIG refused by an ACL: each setting
 * says it could not be checked, and that is all.
 */
START_TEST(config_refused_is_not_a_failure)
{
	static const char *const renamed[] = { "--rename-command", "CONFIG", "", NULL };
	static const char *const acl[] = { "--user", "default", "on", "nopass", "~*", "&*",
		"+@all", "-info", "-config", NULL };
	struct h_log *log;

	redis_with(renamed);
	log = run_worker("noconfig", 5, NULL, 10);
	assert_line(log, "Redis 7.", "info");
	assert_line(log, "maxmemory-policy could not be checked (CONFIG GET: ERR unknown "
	    "command 'CONFIG'", "warn");
	assert_line(log, "persistence could not be checked (CONFIG GET: ERR unknown "
	    "command 'CONFIG'", "warn");
	h_log_free(log);

	/* An ACL that refuses INFO and CONFIG (as a managed Redis may). */
	redis_with(acl);
	log = run_worker("acl", 5, NULL, 10);
	assert_line(log, "the Redis version could not be checked (INFO: NOPERM", "warn");
	assert_line(log, "maxmemory-policy could not be checked (CONFIG GET: NOPERM", "warn");
	assert_line(log, "persistence could not be checked (CONFIG GET: NOPERM", "warn");
	h_log_free(log);
}
END_TEST

/* ---- lakes that cannot be written ---- */

/* Run a worker that must exit 2 at start; its log. */
static struct h_log *
run_refused(const char *id, const char *lake)
{
	const char *extra[] = { "--lake", lake, NULL };
	const char *argv[32];
	struct h_worker w;

	worker_argv(argv, H->url, id, extra);
	h_worker_start_argv(&w, argv);
	ck_assert_int_eq(h_worker_wait(&w, 30), 2);
	return h_log_load(w.log);
}

/*
 * A mount namespace of this test's own, so that no mount outlives it even
 * if it fails half-way; false (and a line saying so) without the privilege.
 */
/* (The kernel ignores the type of a bind or a propagation change; valgrind
 * checks it, hence "none".) */
static bool
own_mounts(void)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == -1) {
		printf("skipped the mount cases: no private mount namespace (%s); they need "
		    "root (scripts/test.sh runs as root)\n", strerror(errno));
		return false;
	}
	return true;
}

START_TEST(unwritable_lake_exits_2)
{
	char under_file[PATH_MAX], ro[PATH_MAX], line[PATH_MAX + 64];
	const char *extra[4] = { "--lake", ro, NULL };
	struct h_log *log;

	/* A lake under a regular file: opening the tables already refuses it. */
	h_write_str("plain", "not a directory\n");
	snprintf(under_file, sizeof under_file, "%s/lake", h_path("plain"));
	log = run_refused("under-file", under_file);
	ck_assert_msg(has_error(log, under_file, "Not a directory"),
	    "no error line naming %s and its errno text", under_file);
	h_log_free(log);

	if (!own_mounts())
		return;
	/*
	 * A lake whose tables exist, then mounted read-only: the tables open
	 * (reading is enough), so only the preflight's probe finds out.
	 */
	snprintf(ro, sizeof ro, "%s", h_path("rolake"));
	h_log_free(run_worker("ro-before", 5, extra, 5));
	ck_assert_int_eq(mount(ro, ro, "none", MS_BIND, NULL), 0);
	ck_assert_msg(mount("none", ro, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0,
	    "remount read-only: %s", strerror(errno));
	log = run_refused("ro", ro);
	snprintf(line, sizeof line, "lake %s is not writable: cannot create %s/"
	    ".portada-preflight-", ro, ro);
	assert_line(log, line, "error");
	assert_line(log, ": Read-only file system; stopping (exit 2)", "error");
	ck_assert_uint_eq(h_log_count(log, "start", NULL), 0);
	h_log_free(log);
	ck_assert_int_eq(umount2(ro, MNT_DETACH), 0);
	/* Writable again: the same lake takes the next files. */
	h_log_free(run_worker("ro-after", 5, extra, 5));

	/* A small tmpfs: writable, but the line warns about the space. */
	snprintf(ro, sizeof ro, "%s", h_path("small"));
	ck_assert_int_eq(mkdir(ro, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", ro, "tmpfs", 0, "size=4m"), 0);
	log = run_worker("small", 5, extra, 3);
	snprintf(line, sizeof line, "lake %s: writable, but only ", ro);
	assert_line(log, line, "warn");
	assert_line(log, "free of 4.0 MiB; a full disk pauses ingestion", "warn");
	h_log_free(log);
	ck_assert_int_eq(umount2(ro, MNT_DETACH), 0);
}
END_TEST

/* ---- a Redis too old: a fake one ---- */

#define FAKE_CLIENTS 8
#define FAKE_BUF 65536

struct fake_redis {
	char path[PATH_MAX];
	const char *version;
	int lfd;
	volatile int stop;
	pthread_t thread;
	struct {
		int fd;
		char buf[FAKE_BUF];
		size_t len;
	} c[FAKE_CLIENTS];
	unsigned lmove_refused;		/* fetches refused as 6.0 would */
};

/* One RESP command (an array of bulk strings) from buf: bytes used, 0 if incomplete. */
static size_t
resp_parse(const char *buf, size_t len, const char **argv, size_t *argl, int max, int *argc)
{
	const char *p = buf, *end = buf + len, *nl;
	long n, l;

	if (len == 0 || *p != '*' || (nl = memchr(p, '\n', len)) == NULL)
		return 0;
	n = strtol(p + 1, NULL, 10);
	p = nl + 1;
	*argc = 0;
	for (long i = 0; i < n; i++) {
		if (p >= end || *p != '$' || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		l = strtol(p + 1, NULL, 10);
		p = nl + 1;
		if (end - p < l + 2)
			return 0;
		if (*argc < max) {
			argv[*argc] = p;
			argl[(*argc)++] = (size_t)l;
		}
		p += l + 2;
	}
	return (size_t)(p - buf);
}

static void
say(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static bool
arg_is(const char *a, size_t l, const char *word)
{
	return l == strlen(word) && strncasecmp(a, word, l) == 0;
}

/* What a Redis of that version answers the worker's commands. */
static void
fake_answer(struct fake_redis *f, int fd, const char **argv, const size_t *argl, int argc)
{
	char out[512];
	int n;

	if (argc == 0)
		return;
	if (arg_is(argv[0], argl[0], "CLIENT") && argc > 1 && arg_is(argv[1], argl[1], "ID"))
		say(fd, ":7\r\n", 4);
	else if (arg_is(argv[0], argl[0], "CLIENT") && argc > 1 &&
	    arg_is(argv[1], argl[1], "UNBLOCK"))
		say(fd, ":0\r\n", 4);
	else if (arg_is(argv[0], argl[0], "CLIENT") || arg_is(argv[0], argl[0], "SET"))
		say(fd, "+OK\r\n", 5);
	else if (arg_is(argv[0], argl[0], "INFO")) {
		char body[256];
		int b = snprintf(body, sizeof body, "# Server\r\nredis_version:%s\r\n"
		    "redis_mode:standalone\r\n", f->version);

		n = snprintf(out, sizeof out, "$%d\r\n%s\r\n", b, body);
		say(fd, out, (size_t)n);
	} else if (arg_is(argv[0], argl[0], "CONFIG") && argc == 3) {
		const char *v = arg_is(argv[2], argl[2], "maxmemory-policy") ? "noeviction" :
		    arg_is(argv[2], argl[2], "appendonly") ? "yes" :
		    arg_is(argv[2], argl[2], "appendfsync") ? "always" :
		    arg_is(argv[2], argl[2], "maxmemory") ? "0" : "";

		n = snprintf(out, sizeof out, "*2\r\n$%zu\r\n%.*s\r\n$%zu\r\n%s\r\n", argl[2],
		    (int)argl[2], argv[2], strlen(v), v);
		say(fd, out, (size_t)n);
	} else if (arg_is(argv[0], argl[0], "LRANGE"))
		say(fd, "*0\r\n", 4);
	else if (arg_is(argv[0], argl[0], "LLEN"))
		say(fd, ":0\r\n", 4);
	else if (arg_is(argv[0], argl[0], "EVALSHA"))
		say(fd, "-NOSCRIPT No matching script. Please use EVAL.\r\n", 48);
	else if (arg_is(argv[0], argl[0], "EVAL") && argc > 1 &&
	    memmem(argv[1], argl[1], "LMOVE", 5) != NULL) {
		if (strncmp(f->version, "6.0", 3) == 0) {
			static const char e[] = "-ERR Error running script (call to f_0): "
			    "@user_script:3: @user_script: 3: Unknown Redis command called from "
			    "Lua script\r\n";

			f->lmove_refused++;
			say(fd, e, sizeof e - 1);
		} else
			say(fd, "*0\r\n", 4);
	} else if (arg_is(argv[0], argl[0], "EVAL"))
		say(fd, ":0\r\n", 4);		/* the requeue: nothing to move */
	else if (arg_is(argv[0], argl[0], "BLMOVE") && strncmp(f->version, "6.0", 3) != 0)
		;				/* blocks: nothing is queued */
	else if (arg_is(argv[0], argl[0], "LPOP") && argc == 3 &&
	    strncmp(f->version, "6.0", 3) == 0) {
		static const char e[] = "-ERR wrong number of arguments for 'lpop' command\r\n";

		f->lmove_refused++;
		say(fd, e, sizeof e - 1);
	} else {
		n = snprintf(out, sizeof out, "-ERR unknown command `%.*s`, with args "
		    "beginning with: \r\n", (int)(argl[0] < 32 ? argl[0] : 32), argv[0]);
		if (strncmp(f->version, "6.0", 3) == 0 && (arg_is(argv[0], argl[0], "BLMOVE") ||
		    arg_is(argv[0], argl[0], "LMOVE")))
			f->lmove_refused++;
		say(fd, out, (size_t)n);
	}
}

static void *
fake_run(void *arg)
{
	struct fake_redis *f = arg;

	while (!f->stop) {
		struct pollfd p[FAKE_CLIENTS + 1];
		int who[FAKE_CLIENTS + 1], n = 0;

		p[n].fd = f->lfd;
		p[n].events = POLLIN;
		who[n++] = -1;
		for (int i = 0; i < FAKE_CLIENTS; i++)
			if (f->c[i].fd >= 0) {
				p[n].fd = f->c[i].fd;
				p[n].events = POLLIN;
				who[n++] = i;
			}
		if (poll(p, (nfds_t)n, 50) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			const char *argv[16];
			size_t argl[16], used;
			int argc, i = who[k];
			ssize_t r;

			if (p[k].revents == 0)
				continue;
			if (i < 0) {
				int fd = accept(f->lfd, NULL, NULL);

				for (i = 0; fd >= 0 && i < FAKE_CLIENTS && f->c[i].fd >= 0; i++)
					;
				if (fd >= 0 && i < FAKE_CLIENTS) {
					f->c[i].fd = fd;
					f->c[i].len = 0;
				} else if (fd >= 0)
					close(fd);
				continue;
			}
			r = read(f->c[i].fd, f->c[i].buf + f->c[i].len, FAKE_BUF - f->c[i].len);
			if (r <= 0) {
				close(f->c[i].fd);
				f->c[i].fd = -1;
				continue;
			}
			f->c[i].len += (size_t)r;
			while ((used = resp_parse(f->c[i].buf, f->c[i].len, argv, argl, 16,
			    &argc)) > 0) {
				fake_answer(f, f->c[i].fd, argv, argl, argc);
				memmove(f->c[i].buf, f->c[i].buf + used, f->c[i].len - used);
				f->c[i].len -= used;
			}
		}
	}
	return NULL;
}

static void
fake_start(struct fake_redis *f, const char *version)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof *f);
	for (int i = 0; i < FAKE_CLIENTS; i++)
		f->c[i].fd = -1;
	f->version = version;
	snprintf(f->path, sizeof f->path, "%s/fake-%s.sock", H->dir, version);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(f->lfd, 16), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void
fake_stop(struct fake_redis *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	for (int i = 0; i < FAKE_CLIENTS; i++)
		if (f->c[i].fd >= 0)
			close(f->c[i].fd);
	close(f->lfd);
	unlink(f->path);
}

static struct h_log *
run_fake(struct fake_redis *f, const char *id, const char *fetch, int expect_exit)
{
	char url[PATH_MAX + 16];
	const char *extra[] = { "--fetch", fetch, "--block-timeout", "1s", NULL };
	const char *argv[32];
	struct h_worker w;

	snprintf(url, sizeof url, "unix://%s", f->path);
	worker_argv(argv, url, id, extra);
	h_worker_start_argv(&w, argv);
	if (expect_exit != 0)
		ck_assert_int_eq(h_worker_wait(&w, 30), expect_exit);
	else {
		ck_assert_msg(h_worker_wait_event(&w, "preflight", 5, 20),
		    "no Redis preflight lines");
		h_sleep(0.5);
		ck_assert_msg(h_worker_running(&w), "the worker stopped on Redis %s",
		    f->version);
		h_worker_signal(&w, SIGTERM);
		ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	}
	return h_log_load(w.log);
}

START_TEST(redis_too_old_exits_2)
{
	static const char *const fetch[] = { "blmove", "blpop" };
	struct fake_redis *f = calloc(1, sizeof *f);
	struct h_log *log;

	ck_assert_ptr_nonnull(f);
	fake_start(f, "6.0.0");
	for (size_t i = 0; i < 2; i++) {
		log = run_fake(f, fetch[i], fetch[i], 2);
		assert_line(log, "Redis 6.0.0 is too old: the worker needs Redis 6.2 or later "
		    "in both fetch modes (blmove takes ids with BLMOVE and LMOVE, --fetch blpop "
		    "with LPOP and a count, all new in 6.2); stopping (exit 2)", "error");
		ck_assert_uint_eq(h_log_count(log, "done", NULL), 0);
		ck_assert_uint_eq(log->n_foreign, 0);
		h_log_free(log);
	}
	printf("redis_too_old_exits_2: %u fetches refused before the exit\n",
	    f->lmove_refused);
	fake_stop(f);

	/* The boundary: 6.2.0 is enough. */
	fake_start(f, "6.2.0");
	log = run_fake(f, "new-enough", "blmove", 0);
	assert_line(log, "Redis 6.2.0: has the commands the worker needs", "info");
	ck_assert_uint_eq(h_log_count(log, "preflight", NULL), 5);
	h_log_free(log);
	fake_stop(f);
	free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("preflight");
	TCase *tc = h_tcase("preflight", false);

	tcase_add_test(tc, risky_redis_and_missing_root);
	tcase_add_test(tc, redis_down_at_start);
	tcase_add_test(tc, persistence_each_kind);
	tcase_add_test(tc, config_refused_is_not_a_failure);
	tcase_add_test(tc, unwritable_lake_exits_2);
	tcase_add_test(tc, redis_too_old_exits_2);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
