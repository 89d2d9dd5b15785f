/*
 * source: checked, chunked, fair reading of uploaded files.
 *
 * One scheduler per worker: a ring of files being read, served round-robin
 * one chunk at a time, at most READ_BUDGET_CHUNKS chunks per turn of the
 * event loop.  All chunks go through one shared buffer, so memory does not
 * grow with the number of files in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "portada/log.h"
#include "portada/remote.h"
#include "portada/source.h"

#define READ_BUDGET_CHUNKS 16
#define ROOTS_TTL_NS 1000000000LL	/* resolved ingest roots are trusted this long */

struct pw_read {
	TAILQ_ENTRY(pw_read) link;
	struct pw_source *src;
	struct pw_read_events events;
	void *arg;
	char *path;		/* as given, for messages */
	int fd;
	int active;		/* in the ring */
	struct pw_remote *rm;	/* a URL: read by remote.c instead */
};

TAILQ_HEAD(read_ring, pw_read);

struct pw_source {
	struct event_base *base;
	const struct pw_config *cfg;
	struct read_ring ring;
	struct event *run_ev;
	char *buf;
	size_t buf_size;
	struct pw_remotes *remotes;	/* NULL: no URL is read */
	struct root *roots;		/* cfg->ingest_roots resolved, in that order */
	long long roots_at;		/* CLOCK_MONOTONIC ns when resolved, 0: never */
	bool no_openat2;		/* the kernel (or a seccomp filter) refuses it */
};

/* An ingest root as found when last resolved. */
struct root {
	char *real;		/* realpath(), or NULL if it did not resolve */
	int fd;			/* O_PATH descriptor of real, or -1 */
};

void
pw_source_set_remotes(struct pw_source *src, struct pw_remotes *rs)
{
	src->remotes = rs;
}

int
pw_path_inside(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1 && root[0] == '/')
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, root, n) == 0 && path[n] == '/';
}

static void
finish(struct pw_read *rd, const struct pw_error *err)
{
	TAILQ_REMOVE(&rd->src->ring, rd, link);
	rd->active = 0;
	close(rd->fd);
	rd->fd = -1;
	rd->events.end(rd->arg, err);	/* may free rd */
}

/* Read one chunk for rd; 1 if rd is still reading afterwards. */
static int
read_chunk(struct pw_source *src, struct pw_read *rd)
{
	struct pw_error err;
	ssize_t n;

	do
		n = read(rd->fd, src->buf, src->buf_size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		pw_error_set(&err, "read error on %s: %s", rd->path, strerror(errno));
		finish(rd, &err);
		return 0;
	}
	if (n == 0) {
		finish(rd, NULL);
		return 0;
	}
	switch (rd->events.data(rd->arg, src->buf, (size_t)n, &err)) {
	case 0:
		return 1;
	case PW_READ_PAUSE:
		/* The chunk was not taken: read it again on resume. */
		if (lseek(rd->fd, -(off_t)n, SEEK_CUR) == -1) {
			pw_error_set(&err, "cannot seek back in %s: %s", rd->path, strerror(errno));
			finish(rd, &err);
			return 0;
		}
		TAILQ_REMOVE(&src->ring, rd, link);
		rd->active = 0;
		return 0;
	default:
		finish(rd, &err);
		return 0;
	}
}

/*
 * A zero timer, not event_active(): libevent runs events activated from a
 * callback in the same pass, so a busy reader would starve sockets and
 * signals.  Timers wait for the next poll.
 */
static void
schedule(struct pw_source *src)
{
	static const struct timeval now = { 0, 0 };

	if (!evtimer_pending(src->run_ev, NULL))
		evtimer_add(src->run_ev, &now);
}

static void
on_run(evutil_socket_t fd, short what, void *arg)
{
	struct pw_source *src = arg;
	struct pw_read *rd;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < READ_BUDGET_CHUNKS && (rd = TAILQ_FIRST(&src->ring)) != NULL; i++) {
		if (read_chunk(src, rd)) {
			/* Fairness: the next file gets the next chunk. */
			TAILQ_REMOVE(&src->ring, rd, link);
			TAILQ_INSERT_TAIL(&src->ring, rd, link);
		}
	}
	if (!TAILQ_EMPTY(&src->ring))
		schedule(src);
}

static void free_roots(struct pw_source *src);

struct pw_source *
pw_source_create(struct event_base *base, const struct pw_config *cfg)
{
	struct pw_source *src = pw_xcalloc(1, sizeof *src);

	src->base = base;
	src->cfg = cfg;
	TAILQ_INIT(&src->ring);
	src->buf_size = cfg->read_chunk_bytes;
	src->buf = pw_xmalloc(src->buf_size);
	src->run_ev = evtimer_new(base, on_run, src);
	if (src->run_ev == NULL)
		pw_fatal("out of memory creating the source scheduler");
	return src;
}

void
pw_source_destroy(struct pw_source *src)
{
	if (src == NULL)
		return;
	event_free(src->run_ev);
	free(src->buf);
	free_roots(src);
	free(src->roots);
	free(src);
}

static int
resolve_error(const char *file_path, int e, struct pw_error *err)
{
	switch (e) {
	case ENOENT:
		pw_error_set(err, "file not found: %s", file_path);
		break;
	case ENOTDIR:
		pw_error_set(err, "file not found: %s (a parent is not a directory)", file_path);
		break;
	case EACCES:
		pw_error_set(err, "permission denied: %s", file_path);
		break;
	case ELOOP:
		pw_error_set(err, "too many symbolic links in %s", file_path);
		break;
	case ENAMETOOLONG:
		pw_error_set(err, "file_path is too long");
		break;
	default:
		pw_error_set(err, "cannot open %s: %s", file_path, strerror(e));
		break;
	}
	return -1;
}

static long long
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
free_roots(struct pw_source *src)
{
	size_t i;

	for (i = 0; src->roots != NULL && i < src->cfg->n_ingest_roots; i++) {
		free(src->roots[i].real);
		src->roots[i].real = NULL;
		if (src->roots[i].fd >= 0)
			close(src->roots[i].fd);
		src->roots[i].fd = -1;
	}
}

/*
 * Resolving every root for every file cost as much as reading it; so they
 * are resolved again once a second, or at once when a file matches none (a
 * root may appear, a volume mounted, after start).
 */
static void
resolve_roots(struct pw_source *src, long long now)
{
	char root[PATH_MAX];
	size_t i;

	if (src->roots == NULL) {
		src->roots = pw_xcalloc(src->cfg->n_ingest_roots + 1, sizeof *src->roots);
		for (i = 0; i < src->cfg->n_ingest_roots; i++)
			src->roots[i].fd = -1;
	}
	free_roots(src);
	for (i = 0; i < src->cfg->n_ingest_roots; i++) {
		if (realpath(src->cfg->ingest_roots[i], root) == NULL)
			continue;
		src->roots[i].real = pw_xstrdup(root);
		src->roots[i].fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	src->roots_at = now;
}

static void
fresh_roots(struct pw_source *src)
{
	long long now = monotonic_ns();

	if (src->roots_at == 0 || now - src->roots_at >= ROOTS_TTL_NS)
		resolve_roots(src, now);
}

static bool
inside_roots(const struct pw_source *src, const char *real)
{
	size_t i;

	for (i = 0; i < src->cfg->n_ingest_roots; i++)
		if (src->roots[i].real != NULL && pw_path_inside(real, src->roots[i].real))
			return true;
	return false;
}

static int
check_roots(struct pw_source *src, const char *file_path, const char *real,
    struct pw_error *err)
{
	const struct pw_config *cfg = src->cfg;
	char list[1024];
	size_t i, off = 0;

	fresh_roots(src);
	if (inside_roots(src, real))
		return 0;
	resolve_roots(src, monotonic_ns());
	if (inside_roots(src, real))
		return 0;
	list[0] = '\0';
	for (i = 0; i < cfg->n_ingest_roots && off < sizeof list; i++) {
		int n = snprintf(list + off, sizeof list - off, "%s%s", i > 0 ? ":" : "",
		    cfg->ingest_roots[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	pw_error_set(err, "file_path %s is outside the ingest roots (%s)", file_path, list);
	return -1;
}

/* The part of path below root, if path names something under it as written. */
static const char *
below(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	if (strncmp(path, root, n) != 0 || path[n] != '/')
		return NULL;
	while (path[n] == '/')
		n++;
	return path[n] != '\0' ? path + n : NULL;
}

/*
 * The common case in one short lookup: file_path lies under a root as
 * written, and openat2() walks the rest from the root's descriptor with
 * RESOLVE_BENEATH, so the kernel refuses any "..", symlink or mount jump
 * that would leave the root, as the realpath() check would.  realpath()
 * reads every prefix of the path as a link; on small files that was a
 * quarter of the worker's time.  -1: take the slow path, which also gives
 * the errors their words.
 */
static int
open_beneath_root(struct pw_source *src, const char *file_path)
{
	struct open_how how;
	size_t i;

	if (src->no_openat2)
		return -1;
	fresh_roots(src);
	memset(&how, 0, sizeof how);
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	for (i = 0; i < src->cfg->n_ingest_roots; i++) {
		const char *rel = below(file_path, src->cfg->ingest_roots[i]);
		long fd;

		if (rel == NULL && src->roots[i].real != NULL)
			rel = below(file_path, src->roots[i].real);
		if (rel == NULL || src->roots[i].fd < 0)
			continue;
		fd = syscall(SYS_openat2, src->roots[i].fd, rel, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		if (errno == ENOSYS || errno == EPERM)
			src->no_openat2 = true;
		return -1;
	}
	return -1;
}

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

struct pw_read *
pw_read_open(struct pw_source *src, const char *file_path,
    const struct pw_read_events *events, void *arg, struct pw_error *err)
{
	char real[PATH_MAX];
	struct pw_read *rd;
	struct stat st;
	int fd;

	if (file_path == NULL || file_path[0] == '\0') {
		pw_error_set(err, "missing field file_path");
		return NULL;
	}
	if (pw_remote_is_url(file_path)) {
		struct pw_remote *rm = pw_remote_open(src->remotes, file_path, events, arg, err);

		if (rm == NULL)
			return NULL;
		rd = pw_xcalloc(1, sizeof *rd);
		rd->src = src;
		rd->path = pw_xstrdup(file_path);
		rd->fd = -1;
		rd->rm = rm;
		return rd;
	}
	if (file_path[0] != '/') {
		pw_error_set(err, "file_path %s is not an absolute path", file_path);
		return NULL;
	}
	fd = open_beneath_root(src, file_path);
	if (fd < 0) {
		if (realpath(file_path, real) == NULL) {
			resolve_error(file_path, errno, err);
			return NULL;
		}
		if (check_roots(src, file_path, real, err) != 0)
			return NULL;
		/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
		fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (fd < 0) {
			int e = errno;

			/* A socket cannot be opened at all (ENXIO): say what it is. */
			if (e == ENXIO && stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
				pw_error_set(err, "file_path is %s, not a regular file: %s",
				    file_kind(st.st_mode), file_path);
				return NULL;
			}
			resolve_error(file_path, e, err);
			return NULL;
		}
	}
	if (fstat(fd, &st) != 0) {
		pw_error_set(err, "cannot stat %s: %s", file_path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		pw_error_set(err, "file_path is %s, not a regular file: %s",
		    file_kind(st.st_mode), file_path);
		close(fd);
		return NULL;
	}
	/* A file read in one chunk gains nothing from read-ahead advice. */
	if (st.st_size > (off_t)src->buf_size)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rd = pw_xcalloc(1, sizeof *rd);
	rd->src = src;
	rd->events = *events;
	rd->arg = arg;
	rd->path = pw_xstrdup(file_path);
	rd->fd = fd;
	return rd;
}

void
pw_read_start(struct pw_read *rd)
{
	if (rd->rm != NULL) {
		pw_remote_start(rd->rm);
		return;
	}
	if (rd->active || rd->fd < 0)
		return;
	rd->active = 1;
	TAILQ_INSERT_TAIL(&rd->src->ring, rd, link);
	schedule(rd->src);
}

void
pw_read_resume(struct pw_read *rd)
{
	if (rd->rm != NULL) {
		pw_remote_resume(rd->rm);
		return;
	}
	pw_read_start(rd);
}

void
pw_read_destroy(struct pw_read *rd)
{
	if (rd == NULL)
		return;
	if (rd->active)
		TAILQ_REMOVE(&rd->src->ring, rd, link);
	if (rd->fd >= 0)
		close(rd->fd);
	pw_remote_destroy(rd->rm);
	free(rd->path);
	free(rd);
}
