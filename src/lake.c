/*
 * Local-directory storage for Delta tables (see include/portada/lake.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portada/lake.h"

static int
fsync_dir(const char *dir, struct pw_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1) {
		pw_error_set(err, "cannot sync directory %s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static char *
parent_of(const char *path)
{
	char *p = pw_xstrdup(path), *slash = strrchr(p, '/');

	if (slash == NULL) {
		free(p);
		return pw_xstrdup(".");
	}
	if (slash == p)
		slash[1] = '\0';
	else
		*slash = '\0';
	return p;
}

int
pw_lake_mkdirs(const char *dir, struct pw_error *err)
{
	struct stat st;
	char *parent;
	int rc;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		pw_error_set(err, "%s exists and is not a directory", dir);
		return -1;
	}
	if (errno != ENOENT) {
		pw_error_set(err, "cannot use %s: %s", dir, strerror(errno));
		return -1;
	}
	parent = parent_of(dir);
	rc = strcmp(parent, dir) == 0 ? 0 : pw_lake_mkdirs(parent, err);
	if (rc == 0 && mkdir(dir, 0755) == -1 && errno != EEXIST) {
		pw_error_set(err, "cannot create directory %s: %s", dir, strerror(errno));
		rc = -1;
	}
	/* The new entry is durable only once its parent is synced. */
	if (rc == 0)
		rc = fsync_dir(parent, err);
	free(parent);
	return rc;
}

void
pw_lake_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);

		if (n > 0)
			got += (size_t)n;
		else if (errno != EINTR)
			abort();	/* the kernel has no randomness: nothing sane to do */
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
	    b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *
pw_lake_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = pw_xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int
pw_lake_file_open(struct pw_lake_file *f, const char *dir, const char *name,
    struct pw_error *err)
{
	char uuid[37], *tmpname;
	size_t n;

	memset(f, 0, sizeof *f);
	f->fd = -1;
	pw_lake_uuid(uuid);
	n = strlen(name) + 48;
	tmpname = pw_xmalloc(n);
	/* A leading dot: Delta readers skip hidden files, so a crash leaves
	 * nothing a reader would take for data. */
	snprintf(tmpname, n, ".%s.%.8s.tmp", name, uuid);
	f->path = pw_lake_join(dir, name);
	f->tmp = pw_lake_join(dir, tmpname);
	free(tmpname);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f->fd == -1) {
		pw_error_set(err, "cannot create %s: %s", f->tmp, strerror(errno));
		free(f->path);
		free(f->tmp);
		f->path = f->tmp = NULL;
		return -1;
	}
	return 0;
}

int
pw_lake_file_write(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct pw_lake_file *f = ctx;
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(f->fd, s, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			pw_error_set(err, "cannot write %s: %s", f->tmp, strerror(errno));
			return -1;
		}
		s += w;
		n -= (size_t)w;
		f->size += (uint64_t)w;
	}
	return 0;
}

int
pw_lake_file_commit(struct pw_lake_file *f, bool exclusive, bool *taken,
    struct pw_error *err)
{
	char *dir;
	int rc;

	if (taken != NULL)
		*taken = false;
	if (fsync(f->fd) == -1) {
		pw_error_set(err, "cannot sync %s: %s", f->tmp, strerror(errno));
		return -1;
	}
	if (close(f->fd) == -1) {
		f->fd = -1;
		pw_error_set(err, "cannot close %s: %s", f->tmp, strerror(errno));
		return -1;
	}
	f->fd = -1;
	if (exclusive) {
		if (link(f->tmp, f->path) == -1) {
			int e = errno;

			if (e == EEXIST && taken != NULL)
				*taken = true;
			pw_error_set(err, e == EEXIST ? "%s already exists" :
			    "cannot link %s: %s", f->path, strerror(e));
			return -1;
		}
		unlink(f->tmp);
	} else if (rename(f->tmp, f->path) == -1) {
		pw_error_set(err, "cannot rename %s to %s: %s", f->tmp, f->path,
		    strerror(errno));
		return -1;
	}
	free(f->tmp);
	f->tmp = NULL;
	dir = parent_of(f->path);
	rc = fsync_dir(dir, err);
	free(dir);
	return rc;
}

void
pw_lake_file_abort(struct pw_lake_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	if (f->tmp != NULL)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
}

int
pw_lake_put_if_absent(const char *dir, const char *name, const void *data, size_t n,
    bool *taken, struct pw_error *err)
{
	struct pw_lake_file f;
	int rc;

	*taken = false;
	if (pw_lake_file_open(&f, dir, name, err) == -1)
		return -1;
	rc = pw_lake_file_write(&f, data, n, err);
	if (rc == 0)
		rc = pw_lake_file_commit(&f, true, taken, err);
	pw_lake_file_abort(&f);
	return rc;
}

int
pw_lake_read(const char *path, size_t max, struct pw_buf *out, bool *missing,
    struct pw_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = -1;

	if (missing != NULL)
		*missing = false;
	if (fd == -1) {
		if (errno == ENOENT && missing != NULL) {
			*missing = true;
			return 0;
		}
		pw_error_set(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		pw_error_set(err, "%s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		pw_error_set(err, "%s is %lld bytes, over the limit of %zu", path,
		    (long long)st.st_size, max);
		goto out;
	}
	if (pw_buf_reserve(out, (size_t)st.st_size) == -1) {
		pw_error_set(err, "%s does not fit in memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (pw_buf_reserve(out, 4096) == -1) {
			pw_error_set(err, "%s grew past the limit while being read", path);
			goto out;
		}
		r = read(fd, out->data + out->len, out->cap - out->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			pw_error_set(err, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

char **
pw_lake_list(const char *dir, size_t *n, struct pw_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return pw_xcalloc(1, sizeof *names);
		pw_error_set(err, "cannot list %s: %s", dir, strerror(errno));
		return NULL;
	}
	names = pw_xcalloc(1, sizeof *names);
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*n + 1 >= cap) {
			cap = cap == 0 ? 64 : cap * 2;
			names = pw_xrealloc(names, cap * sizeof *names);
		}
		names[(*n)++] = pw_xstrdup(e->d_name);
	}
	if (errno != 0) {
		pw_error_set(err, "cannot list %s: %s", dir, strerror(errno));
		closedir(d);
		pw_lake_names_free(names, *n);
		return NULL;
	}
	closedir(d);
	return names;
}

void
pw_lake_names_free(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
pw_lake_remove(const char *path, struct pw_error *err)
{
	if (unlink(path) == -1 && errno != ENOENT) {
		pw_error_set(err, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
