/*
 * harness: private redis-server, the worker as a child process, its JSON
 * log and a MONITOR of everything Redis ran.  See harness.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

struct harness *H;
static struct harness harness_storage;
static char base_dir[PATH_MAX];		/* one per test program, removed by h_main */

/* --- small things --------------------------------------------------------- */

double
h_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void
h_sleep(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double
h_slow(void)
{
	const char *w = getenv("PW_TEST_WRAPPER");

	return w != NULL && *w != '\0' ? 10.0 : 1.0;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	ck_assert_msg(p != NULL, "out of memory");
	return p;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	ck_assert_msg(p != NULL, "out of memory");
	return p;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t size = 0, n = 0, got;

	if (f == NULL) {
		if (len != NULL)
			*len = 0;
		return xstrdup("");
	}
	for (;;) {
		if (n + 65536 + 1 > size) {
			size = size ? size * 2 : 131072;
			buf = realloc(buf, size);
			ck_assert_msg(buf != NULL, "out of memory");
		}
		got = fread(buf + n, 1, size - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

char *
h_read_file(const char *path, size_t *len)
{
	return read_file(path, len);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
rm_rf(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path != '\0') {
		const char *end = strchr(path, ':');
		size_t n = end != NULL ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* --- processes ------------------------------------------------------------ */

static void
remember_child(pid_t pid)
{
	if (H->n_children < sizeof H->children / sizeof H->children[0])
		H->children[H->n_children++] = pid;
}

static void
forget_child(pid_t pid)
{
	unsigned i;

	for (i = 0; i < H->n_children; i++)
		if (H->children[i] == pid) {
			H->children[i] = H->children[--H->n_children];
			return;
		}
}

/*
 * fork/exec argv with stdin from /dev/null and stdout/stderr to the given
 * files (NULL: /dev/null; the same path twice: one shared file).  The child
 * dies with us.
 */
static pid_t
spawn(const char *const *argv, const char *out_path, const char *err_path)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int in, out, err;
		sigset_t none;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		in = open("/dev/null", O_RDONLY);
		out = open(out_path != NULL ? out_path : "/dev/null",
		    O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (err_path != NULL && out_path != NULL && strcmp(err_path, out_path) == 0)
			err = dup(out);
		else
			err = open(err_path != NULL ? err_path : "/dev/null",
			    O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (in < 0 || out < 0 || err < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		closefrom(3);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "harness: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	remember_child(pid);
	return pid;
}

static void
kill_and_reap(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	forget_child(pid);
}

/* --- redis-server --------------------------------------------------------- */

static redisContext *
connect_sync(void)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectUnixWithTimeout(H->sock, tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	if (c != NULL) {
		tv.tv_sec = 10 * (long)h_slow();
		redisSetTimeout(c, tv);
	}
	return c;
}

static void
disconnect_sync(void)
{
	if (H->c != NULL)
		redisFree(H->c);
	H->c = NULL;
}

void
h_redis_start(void)
{
	h_redis_start_with(NULL);
}

void
h_redis_start_with(const char *const *extra)
{
	char logfile[PATH_MAX];
	const char *argv[48];
	double deadline;
	int n = 0;

	snprintf(logfile, sizeof logfile, "%s/redis.log", H->dir);
	argv[n++] = "redis-server";
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--unixsocket";
	argv[n++] = H->sock;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--dir";
	argv[n++] = H->dir;
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--logfile";
	argv[n++] = logfile;
	argv[n++] = "--appendonly";
	argv[n++] = H->aof ? "yes" : "no";
	if (H->aof) {
		argv[n++] = "--appendfsync";
		argv[n++] = "always";
	}
	while (extra != NULL && *extra != NULL && n < 47)
		argv[n++] = *extra++;
	argv[n] = NULL;
	H->redis_pid = spawn(argv, NULL, NULL);

	deadline = h_now() + 5 * h_slow();
	for (;;) {
		redisContext *c = connect_sync();
		int status;

		if (c != NULL) {
			redisReply *r = redisCommand(c, "PING");
			bool up = r != NULL && r->type == REDIS_REPLY_STATUS &&
			    strcmp(r->str, "PONG") == 0;

			if (r != NULL)
				freeReplyObject(r);
			if (up) {
				disconnect_sync();
				H->c = c;
				return;
			}
			redisFree(c);
		}
		if (waitpid(H->redis_pid, &status, WNOHANG) == H->redis_pid) {
			char *log = read_file(logfile, NULL);

			forget_child(H->redis_pid);
			H->redis_pid = 0;
			fprintf(stderr, "%s", log);
			free(log);
			ck_abort_msg("redis-server exited at start (status %d)", status);
		}
		ck_assert_msg(h_now() < deadline, "redis-server does not answer PING on %s",
		    H->sock);
		h_sleep(0.01);
	}
}

void
h_redis_kill(void)
{
	disconnect_sync();
	kill_and_reap(H->redis_pid, SIGKILL);
	H->redis_pid = 0;
}

void
h_redis_stop(void)
{
	double deadline = h_now() + 10 * h_slow();
	int status;

	disconnect_sync();
	if (H->redis_pid <= 0)
		return;
	kill(H->redis_pid, SIGTERM);
	while (waitpid(H->redis_pid, &status, WNOHANG) != H->redis_pid) {
		if (h_now() > deadline) {
			kill(H->redis_pid, SIGKILL);
			waitpid(H->redis_pid, &status, 0);
			break;
		}
		h_sleep(0.01);
	}
	forget_child(H->redis_pid);
	H->redis_pid = 0;
}

void
h_redis_restart(void)
{
	h_redis_kill();
	h_redis_start();
}

static redisReply *
vcmd(const char *fmt, va_list ap)
{
	redisReply *r;

	if (H->c == NULL || H->c->err) {
		disconnect_sync();
		H->c = connect_sync();
		ck_assert_msg(H->c != NULL, "cannot connect to %s", H->sock);
	}
	r = redisvCommand(H->c, fmt, ap);
	ck_assert_msg(r != NULL, "redis command '%s' failed: %s", fmt, H->c->errstr);
	return r;
}

redisReply *
h_cmd(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcmd(fmt, ap);
	va_end(ap);
	return r;
}

long long
h_int(const char *fmt, ...)
{
	redisReply *r;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	r = vcmd(fmt, ap);
	va_end(ap);
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "'%s': expected an integer reply, "
	    "got type %d %s", fmt, r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
	v = r->integer;
	freeReplyObject(r);
	return v;
}

char *
h_str(const char *fmt, ...)
{
	redisReply *r;
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	r = vcmd(fmt, ap);
	va_end(ap);
	ck_assert_msg(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL ||
	    r->type == REDIS_REPLY_STATUS, "'%s': unexpected reply type %d %s", fmt,
	    r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
	if (r->type != REDIS_REPLY_NIL)
		s = xstrdup(r->str);
	freeReplyObject(r);
	return s;
}

void
h_ok(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcmd(fmt, ap);
	va_end(ap);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "'%s': %s", fmt, r->str);
	freeReplyObject(r);
}

long long
h_client_id(const char *name)
{
	char *list = h_str("CLIENT LIST"), *line, *save;
	long long id = -1;
	size_t n = strlen(name);

	for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(line, " name=");

		if (p != NULL && strncmp(p + 6, name, n) == 0 &&
		    (p[6 + n] == ' ' || p[6 + n] == '\0' || p[6 + n] == '\r'))
			id = strtoll(line + 3, NULL, 10);
	}
	free(list);
	return id;
}

char *
h_hget(const char *id, const char *field)
{
	return h_str("HGET file:%s %s", id, field);
}

char **
h_lrange(const char *key, size_t *n)
{
	redisReply *r = h_cmd("LRANGE %s 0 -1", key);
	char **v;
	size_t i;

	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "LRANGE %s: not an array", key);
	v = xmalloc((r->elements + 1) * sizeof *v);
	for (i = 0; i < r->elements; i++)
		v[i] = xstrdup(r->element[i]->str);
	v[i] = NULL;
	*n = r->elements;
	freeReplyObject(r);
	return v;
}

void
h_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* --- fixture -------------------------------------------------------------- */

static void
setup(bool aof, bool redis)
{
	char tmpl[PATH_MAX];

	H = &harness_storage;
	memset(H, 0, sizeof *H);
	signal(SIGPIPE, SIG_IGN);	/* hiredis writes to a killed server */
	snprintf(tmpl, sizeof tmpl, "%s/t-XXXXXX", base_dir);
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp %s: %s", tmpl, strerror(errno));
	snprintf(H->dir, sizeof H->dir, "%s", tmpl);
	snprintf(H->sock, sizeof H->sock, "%s/r.sock", H->dir);
	snprintf(H->root, sizeof H->root, "%s/ingest", H->dir);
	snprintf(H->lake, sizeof H->lake, "%s/lake", H->dir);
	/* Every worker a test starts writes its tables here unless told otherwise. */
	setenv("PORTADA_LAKE", H->lake, 1);
	snprintf(H->url, sizeof H->url, "unix://%s", H->sock);
	ck_assert_int_eq(mkdir(H->root, 0700), 0);
	H->aof = aof;
	H->t_start = h_now();
	snprintf(H->timestamp, sizeof H->timestamp, "%.6f", H->t_start - 3600.25);
	if (redis)
		h_redis_start();
}

void
h_setup(void)
{
	setup(false, true);
}

void
h_setup_aof(void)
{
	setup(true, true);
}

void
h_setup_noredis(void)
{
	setup(false, false);
}

void
h_teardown(void)
{
	if (H == NULL)
		return;
	disconnect_sync();
	while (H->n_children > 0)
		kill_and_reap(H->children[H->n_children - 1], SIGKILL);
	if (getenv("PW_KEEP_TMP") == NULL)
		rm_rf(H->dir);
	H = NULL;
}

TCase *
h_tcase(const char *name, bool aof)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, aof ? h_setup_aof : h_setup, h_teardown);
	tcase_set_timeout(tc, 120 * h_slow());
	return tc;
}

TCase *
h_tcase_noredis(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, h_setup_noredis, h_teardown);
	tcase_set_timeout(tc, 120 * h_slow());
	return tc;
}

int
h_main(Suite *s, bool needs_redis)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	if (getenv("PW_WORKER") == NULL) {
		fprintf(stderr, "PW_WORKER is not set (meson sets it to the worker binary)\n");
		return 99;
	}
	if (needs_redis && (!in_path("redis-server") || !in_path("redis-cli"))) {
		fprintf(stderr, "redis-server or redis-cli not found: skipped\n");
		return H_SKIP;
	}
	/* A short base: unix socket paths are limited to 107 bytes. */
	if (tmp == NULL || *tmp != '/' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(base_dir, sizeof base_dir, "%s/pw-it-XXXXXX", tmp);
	if (mkdtemp(base_dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", base_dir, strerror(errno));
		return 99;
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (getenv("PW_KEEP_TMP") == NULL)
		rm_rf(base_dir);
	else
		fprintf(stderr, "kept %s\n", base_dir);
	return failed == 0 ? 0 : 1;
}

/* --- fixtures on disk ----------------------------------------------------- */

static char *
ring_buf(void)
{
	static char ring[16][PATH_MAX];
	static unsigned next;

	return ring[next++ % 16];
}

const char *
h_path(const char *rel)
{
	char *buf = ring_buf();

	snprintf(buf, PATH_MAX, "%s/%s", H->dir, rel);
	return buf;
}

static void
mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + strlen(H->dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0700) != 0)
			ck_assert_msg(errno == EEXIST, "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
}

const char *
h_write(const char *rel, const void *data, size_t len)
{
	const char *path = h_path(rel);
	FILE *f;

	mkdir_parents(path);
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
	ck_assert_msg(fwrite(data, 1, len, f) == len && fclose(f) == 0,
	    "cannot write %s", path);
	return path;
}

const char *
h_write_str(const char *rel, const char *text)
{
	return h_write(rel, text, strlen(text));
}

const char *
h_write_entries(const char *rel, unsigned n, size_t pad)
{
	size_t size = 256 + (size_t)n * (400 + pad), off = 0;
	char *buf = xmalloc(size), *padding = xmalloc(pad + 1);
	const char *path;
	unsigned i;

	memset(padding, 'x', pad);
	padding[pad] = '\0';
	off += (size_t)snprintf(buf + off, size - off, "[\n");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, size - off,
		    "  {\"model_version\": \"boat_facts-00.00.01\", "
		    "\"publication_name\": \"DB\", "
		    "\"publication_date\": {\"original_value\": \"-3786825600000\", "
		    "\"calculated_value\": \"1850-01-%02u\"}, "
		    "\"ship_name\": {\"original_value\": \"Nuestra Se\\u00f1ora %u\"}, "
		    "\"master_name\": \"Jos\xc3\xa9 Mar\xc3\xad" "a\", "
		    "\"ship_tons_capacity\": %u, \"quarantine\": false, \"obs\": null, "
		    "\"cargo_list\": [{\"cargo\": \"trigo\", \"quantity\": %u.5}], "
		    "\"raw_text\": \"%s\"}%s\n",
		    i % 28 + 1, i, 100 + i, i, padding, i + 1 < n ? "," : "");
	off += (size_t)snprintf(buf + off, size - off, "]\n");
	ck_assert_msg(off < size, "h_write_entries: buffer too small");
	path = h_write(rel, buf, off);
	free(buf);
	free(padding);
	return path;
}

/* --- the ingest API's writes ---------------------------------------------- */

const char *
h_timestamp(void)
{
	return H->timestamp;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* Append HSET + RPUSH files:all + RPUSH files:user:<user> to the pipeline. */
static void
append_enqueue(enum h_api api, const char *id, const char *file_path,
    const char *file_type, const char *user)
{
	char stored[300], userkey[300];
	const char *argv[16];
	int n = 0;

	argv[n++] = "HSET";
	snprintf(userkey, sizeof userkey, "file:%s", id);
	argv[n++] = userkey;
	if (api == H_API_OLD) {
		argv[n++] = "id";
		argv[n++] = id;
		argv[n++] = "filename";
		argv[n++] = base_name(file_path);
	} else {
		snprintf(stored, sizeof stored, "%s.json", id);
		argv[n++] = "original_filename";
		argv[n++] = base_name(file_path);
		argv[n++] = "stored_filename";
		argv[n++] = stored;
	}
	argv[n++] = "file_path";
	argv[n++] = file_path;
	argv[n++] = "file_type";
	argv[n++] = file_type;
	argv[n++] = "status";
	argv[n++] = "0";
	argv[n++] = "user";
	argv[n++] = user;
	argv[n++] = "timestamp";
	argv[n++] = H->timestamp;
	ck_assert_int_eq(redisAppendCommandArgv(H->c, n, argv, NULL), REDIS_OK);
	ck_assert_int_eq(redisAppendCommand(H->c, "RPUSH files:all %s", id), REDIS_OK);
	ck_assert_int_eq(redisAppendCommand(H->c, "RPUSH files:user:%s %s", user, id),
	    REDIS_OK);
}

static void
drain_replies(size_t n)
{
	redisReply *r;
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(redisGetReply(H->c, (void **)&r) == REDIS_OK,
		    "pipeline: %s", H->c->errstr);
		ck_assert_msg(r->type != REDIS_REPLY_ERROR, "pipeline: %s", r->str);
		freeReplyObject(r);
	}
}

void
h_enqueue(enum h_api api, const char *id, const char *file_path,
    const char *file_type, const char *user)
{
	h_enqueue_many(api, (char **)&id, 1, &file_path, 1, file_type, user);
}

void
h_enqueue_many(enum h_api api, char **ids, size_t n, const char *const *paths,
    size_t n_paths, const char *file_type, const char *user)
{
	size_t i, done = 0;

	h_ok("PING");		/* (re)connects */
	for (i = 0; i < n; i++) {
		append_enqueue(api, ids[i], paths[i % n_paths], file_type, user);
		if ((i + 1) % 500 == 0) {
			drain_replies(3 * (i + 1 - done));
			done = i + 1;
		}
	}
	drain_replies(3 * (n - done));
}

void
h_enqueue_fields(const char *id, ...)
{
	const char *argv[64];
	char key[300];
	const char *f;
	va_list ap;
	int n = 0;

	snprintf(key, sizeof key, "file:%s", id);
	argv[n++] = "HSET";
	argv[n++] = key;
	va_start(ap, id);
	while ((f = va_arg(ap, const char *)) != NULL && n < 62) {
		argv[n++] = f;
		argv[n++] = va_arg(ap, const char *);
	}
	va_end(ap);
	h_ok("PING");
	if (n > 2) {
		ck_assert_int_eq(redisAppendCommandArgv(H->c, n, argv, NULL), REDIS_OK);
		drain_replies(1);
	}
	h_ok("RPUSH files:all %s", id);
}

char **
h_ids(const char *prefix, size_t n)
{
	char **v = xmalloc((n + 1) * sizeof *v);
	char buf[256];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "%s-%05zu", prefix, i);
		v[i] = xstrdup(buf);
	}
	v[n] = NULL;
	return v;
}

void
h_assert_all_status(char **ids, size_t n, const char *status)
{
	size_t i, bad = 0;
	redisReply *r;

	h_ok("PING");
	for (i = 0; i < n; i++)
		ck_assert_int_eq(redisAppendCommand(H->c, "HGET file:%s status", ids[i]),
		    REDIS_OK);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(redisGetReply(H->c, (void **)&r), REDIS_OK);
		if (r->type != REDIS_REPLY_STRING || strcmp(r->str, status) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "file:%s status is %s, expected %s\n", ids[i],
				    r->type == REDIS_REPLY_STRING ? r->str : "(nil)", status);
		}
		freeReplyObject(r);
	}
	ck_assert_msg(bad == 0, "%zu of %zu ids do not have status %s", bad, n, status);
}

void
h_assert_lists_empty(const char *worker_id)
{
	long long q = h_int("LLEN files:all");
	long long p = h_int("LLEN files:processing:%s", worker_id);

	ck_assert_msg(q == 0, "files:all still holds %lld ids", q);
	ck_assert_msg(p == 0, "files:processing:%s still holds %lld ids", worker_id, p);
}

/* --- the worker ----------------------------------------------------------- */

void
h_worker_start_argv(struct h_worker *w, const char *const *args)
{
	const char *argv[96];
	char *wrapper = NULL, *tok, *save;
	const char *env = getenv("PW_TEST_WRAPPER");
	int n = 0;

	memset(w, 0, sizeof *w);
	snprintf(w->log, sizeof w->log, "%s/worker-%u.log", H->dir, H->n_spawned);
	snprintf(w->out, sizeof w->out, "%s/worker-%u.out", H->dir, H->n_spawned++);
	if (env != NULL && *env != '\0') {
		wrapper = xstrdup(env);
		for (tok = strtok_r(wrapper, " ", &save); tok != NULL && n < 32;
		    tok = strtok_r(NULL, " ", &save))
			argv[n++] = tok;
	}
	argv[n++] = getenv("PW_WORKER");
	while (*args != NULL && n < 95)
		argv[n++] = *args++;
	argv[n] = NULL;
	w->pid = spawn(argv, w->out, w->log);
	free(wrapper);
}

void
h_worker_start(struct h_worker *w, const char *worker_id, ...)
{
	const char *argv[64];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = "--redis";
	argv[n++] = H->url;
	argv[n++] = "--worker-id";
	argv[n++] = worker_id;
	argv[n++] = "--ingest-root";
	argv[n++] = H->root;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	va_start(ap, worker_id);
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	h_worker_start_argv(w, argv);
}

static bool
try_reap(struct h_worker *w)
{
	int status;

	if (w->reaped)
		return true;
	if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
		w->reaped = true;
		w->status = status;
		forget_child(w->pid);
		return true;
	}
	return false;
}

bool
h_worker_running(struct h_worker *w)
{
	return !try_reap(w);
}

static void
print_tail(const struct h_worker *w, size_t bytes)
{
	size_t len;
	char *log = read_file(w->log, &len);

	fprintf(stderr, "--- last lines of %s ---\n%s\n---\n", w->log,
	    len > bytes ? log + len - bytes : log);
	free(log);
}

int
h_worker_wait_status(struct h_worker *w, double timeout)
{
	double deadline = h_now() + timeout * h_slow();

	while (!try_reap(w)) {
		if (h_now() > deadline) {
			kill(w->pid, SIGKILL);
			while (!try_reap(w))
				h_sleep(0.01);
			print_tail(w, 3000);
			ck_abort_msg("worker %d did not exit within %.0fs", (int)w->pid,
			    timeout * h_slow());
		}
		h_sleep(0.005);
	}
	return w->status;
}

int
h_worker_wait(struct h_worker *w, double timeout)
{
	int status = h_worker_wait_status(w, timeout);

	h_worker_print_foreign(w);
	if (!WIFEXITED(status)) {
		print_tail(w, 3000);
		ck_abort_msg("worker killed by signal %d", WTERMSIG(status));
	}
	return WEXITSTATUS(status);
}

void
h_worker_signal(struct h_worker *w, int sig)
{
	if (!w->reaped)
		kill(w->pid, sig);
}

static void
count_event(struct h_worker *w, const char *line, size_t len)
{
	static const char tag[] = "\"event\":\"";
	const char *p = memmem(line, len, tag, sizeof tag - 1), *end;
	size_t n;
	unsigned i;

	if (p == NULL)
		return;
	p += sizeof tag - 1;
	end = memchr(p, '"', len - (size_t)(p - line));
	if (end == NULL || (n = (size_t)(end - p)) >= sizeof w->ev[0].name)
		return;
	for (i = 0; i < w->n_ev; i++)
		if (strlen(w->ev[i].name) == n && memcmp(w->ev[i].name, p, n) == 0) {
			w->ev[i].count++;
			return;
		}
	if (w->n_ev < H_MAX_EVENTS) {
		memcpy(w->ev[w->n_ev].name, p, n);
		w->ev[w->n_ev].name[n] = '\0';
		w->ev[w->n_ev++].count = 1;
	}
}

/* Count the events of the complete lines written since the last scan. */
static void
scan_log(struct h_worker *w)
{
	char buf[65536];
	int fd = open(w->log, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = pread(fd, buf, sizeof buf, w->scan_off)) > 0) {
		size_t start = 0, i, used = 0;

		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n')
				continue;
			count_event(w, buf + start, i - start);
			start = i + 1;
			used = start;
		}
		if (used == 0) {
			if ((size_t)n == sizeof buf)
				used = (size_t)n;	/* an absurdly long line: skip it */
			else
				break;			/* an incomplete last line */
		}
		w->scan_off += (off_t)used;
	}
	close(fd);
}

unsigned
h_worker_events(struct h_worker *w, const char *event)
{
	unsigned i;

	scan_log(w);
	for (i = 0; i < w->n_ev; i++)
		if (strcmp(w->ev[i].name, event) == 0)
			return w->ev[i].count;
	return 0;
}

bool
h_worker_wait_event(struct h_worker *w, const char *event, unsigned n, double timeout)
{
	double deadline = h_now() + timeout * h_slow();

	for (;;) {
		if (h_worker_events(w, event) >= n)
			return true;
		if (try_reap(w))
			return h_worker_events(w, event) >= n;
		if (h_now() > deadline)
			return false;
		h_sleep(0.002);
	}
}

void
h_worker_print_foreign(const struct h_worker *w)
{
	char *log = read_file(w->log, NULL), *line, *save;
	unsigned printed = 0;

	for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '{')
			continue;
		if (printed++ == 0)
			fprintf(stderr, "--- non-JSON output of worker %d (%s) ---\n",
			    (int)w->pid, w->log);
		fprintf(stderr, "%s\n", line);
	}
	if (printed > 0)
		fprintf(stderr, "---\n");
	free(log);
}

/* --- the worker's JSON log ------------------------------------------------ */

static char *
json_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/*
 * "--<pid>-- ..." is valgrind telling about itself, such as a syscall it
 * does not know (openat2 on valgrind 3.19, which then fails with ENOSYS
 * and the worker falls back to realpath): not the worker's output.  Its
 * errors ("==<pid>== ...") still count, and fail the run on their own.
 */
static bool
valgrind_notice(const char *line)
{
	size_t n;

	if (strncmp(line, "--", 2) != 0)
		return false;
	n = strspn(line + 2, "0123456789");
	return n > 0 && strncmp(line + 2 + n, "-- ", 3) == 0;
}

struct h_log *
h_log_load(const char *path)
{
	struct h_log *log = calloc(1, sizeof *log);
	char *text = read_file(path, NULL), *line, *save;
	size_t cap = 0;

	ck_assert(log != NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		struct h_log_line *l;

		if (!json_is_object(o)) {
			json_decref(o);
			if (!valgrind_notice(line))
				log->n_foreign++;
			continue;
		}
		if (log->n == cap) {
			cap = cap ? cap * 2 : 256;
			log->lines = realloc(log->lines, cap * sizeof *log->lines);
			ck_assert(log->lines != NULL);
		}
		l = &log->lines[log->n++];
		l->level = json_field(o, "level");
		l->event = json_field(o, "event");
		l->file = json_field(o, "file");
		l->msg = json_field(o, "msg");
		json_decref(o);
	}
	free(text);
	return log;
}

void
h_log_free(struct h_log *log)
{
	size_t i;

	if (log == NULL)
		return;
	for (i = 0; i < log->n; i++) {
		free(log->lines[i].level);
		free(log->lines[i].event);
		free(log->lines[i].file);
		free(log->lines[i].msg);
	}
	free(log->lines);
	free(log);
}

static bool
line_matches(const struct h_log_line *l, const char *event, const char *file)
{
	if (event != NULL && (l->event == NULL || strcmp(l->event, event) != 0))
		return false;
	if (file != NULL && (l->file == NULL || strcmp(l->file, file) != 0))
		return false;
	return true;
}

size_t
h_log_count(const struct h_log *log, const char *event, const char *file)
{
	size_t i, n = 0;

	for (i = 0; i < log->n; i++)
		n += line_matches(&log->lines[i], event, file);
	return n;
}

const char *
h_log_msg(const struct h_log *log, const char *event, const char *file)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		if (line_matches(&log->lines[i], event, file))
			return log->lines[i].msg != NULL ? log->lines[i].msg : "";
	return NULL;
}

void
h_log_counts(const struct h_log *log, const char *event, char **ids, size_t n,
    unsigned *counts)
{
	struct h_map *m = h_map_new(ids, n);
	size_t i;

	memset(counts, 0, n * sizeof *counts);
	for (i = 0; i < log->n; i++) {
		const struct h_log_line *l = &log->lines[i];
		long k;

		if (l->file == NULL || !line_matches(l, event, NULL))
			continue;
		if ((k = h_map_get(m, l->file, strlen(l->file))) >= 0)
			counts[k]++;
	}
	h_map_free(m);
}

/* --- MONITOR -------------------------------------------------------------- */

static bool
monitor_has(const char *needle)
{
	char *text = read_file(H->monitor_path, NULL);
	bool found = strstr(text, needle) != NULL;

	free(text);
	return found;
}

void
h_monitor_start(void)
{
	const char *argv[] = { "redis-cli", "-s", H->sock, "monitor", NULL };
	double deadline = h_now() + 5 * h_slow();

	snprintf(H->monitor_path, sizeof H->monitor_path, "%s/monitor.txt", H->dir);
	H->monitor_pid = spawn(argv, H->monitor_path, NULL);
	/* redis-cli prints OK once MONITOR is on; then make sure it sees commands. */
	while (!monitor_has("OK")) {
		ck_assert_msg(h_now() < deadline, "redis-cli monitor did not start");
		h_sleep(0.01);
	}
	h_monitor_sync();
}

void
h_monitor_sync(void)
{
	char token[64];
	double deadline = h_now() + 10 * h_slow();

	snprintf(token, sizeof token, "h-sentinel-%u-%d", H->sentinel++, (int)getpid());
	h_ok("ECHO %s", token);
	while (!monitor_has(token)) {
		ck_assert_msg(h_now() < deadline, "MONITOR output lacks %s", token);
		h_sleep(0.01);
	}
}

void
h_monitor_stop(void)
{
	kill_and_reap(H->monitor_pid, SIGTERM);
	H->monitor_pid = 0;
}

/* Split one MONITOR line's quoted arguments (escapes kept as is, enough for ids). */
static size_t
monitor_args(const char *p, const char **args, size_t *lens, size_t max)
{
	size_t n = 0;

	while (n < max && (p = strchr(p, '"')) != NULL) {
		const char *s = ++p;

		while (*p != '\0' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		args[n] = s;
		lens[n++] = (size_t)(p - s);
		if (*p == '\0')
			break;
		p++;
	}
	return n;
}

void
h_monitor_status_counts(const char *value, char **ids, size_t n, unsigned *counts)
{
	static const char tag[] = " [0 lua] \"HSET\" ";
	char *text = read_file(H->monitor_path, NULL), *line, *save;
	struct h_map *m = h_map_new(ids, n);
	size_t vlen = strlen(value);

	memset(counts, 0, n * sizeof *counts);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(line, tag), *args[64];
		size_t lens[64], na, i;
		long k;

		if (p == NULL)
			continue;
		na = monitor_args(p, args, lens, 64);
		if (na < 2 || lens[1] < 5 || memcmp(args[1], "file:", 5) != 0)
			continue;
		k = h_map_get(m, args[1] + 5, lens[1] - 5);
		if (k < 0)
			continue;
		for (i = 2; i + 1 < na; i += 2)
			if (lens[i] == 6 && memcmp(args[i], "status", 6) == 0 &&
			    lens[i + 1] == vlen && memcmp(args[i + 1], value, vlen) == 0)
				counts[k]++;
	}
	h_map_free(m);
	free(text);
}

size_t
h_monitor_grep(const char *needle)
{
	char *text = read_file(H->monitor_path, NULL), *line, *save;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		n += strstr(line, needle) != NULL;
	free(text);
	return n;
}

/* --- a small string -> index map ------------------------------------------ */

struct h_map {
	char **keys;
	long *slots;
	size_t mask;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct h_map *
h_map_new(char **keys, size_t n)
{
	struct h_map *m = xmalloc(sizeof *m);
	size_t size = 16, i;

	while (size < 2 * n + 2)
		size *= 2;
	m->keys = keys;
	m->mask = size - 1;
	m->slots = xmalloc(size * sizeof *m->slots);
	for (i = 0; i < size; i++)
		m->slots[i] = -1;
	for (i = 0; i < n; i++) {
		size_t s = fnv(keys[i], strlen(keys[i])) & m->mask;

		while (m->slots[s] >= 0)
			s = (s + 1) & m->mask;
		m->slots[s] = (long)i;
	}
	return m;
}

long
h_map_get(const struct h_map *m, const char *key, size_t len)
{
	size_t s = fnv(key, len) & m->mask;

	while (m->slots[s] >= 0) {
		const char *k = m->keys[m->slots[s]];

		if (strlen(k) == len && memcmp(k, key, len) == 0)
			return m->slots[s];
		s = (s + 1) & m->mask;
	}
	return -1;
}

void
h_map_free(struct h_map *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

void
h_write_load_files(const char **paths, unsigned n, unsigned records, unsigned step)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		char rel[64];

		snprintf(rel, sizeof rel, "ingest/load/%u.json", i);
		paths[i] = strdup(h_write_entries(rel, records + step * i, 20));
		ck_assert_ptr_nonnull(paths[i]);
	}
}

void
h_free_paths(const char **paths, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free((char *)paths[i]);
}
