/*
 * lake: the few storage operations a Delta table needs, on a local
 * directory (the object-store backend comes later behind the same calls).
 *
 * Durability is explicit: a data file is written under a temporary name,
 * fsync'd, renamed into place and its directory fsync'd; a log entry is
 * written to a temporary file, fsync'd and then link()ed to its final name,
 * which fails with EEXIST if another writer took that version first
 * (put-if-absent, as the Delta protocol requires of a log store).  These
 * calls block; they are short, and a commit is one per interval.
 */
#ifndef PORTADA_LAKE_H
#define PORTADA_LAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/error.h"

/* Make dir (and its parents) if missing; fsync the parents it created. */
int pw_lake_mkdirs(const char *dir, struct pw_error *err) PW_MUST_CHECK;

/* "dir/name", newly allocated. */
char *pw_lake_join(const char *dir, const char *name);

/* A random (version 4) UUID, as 36 characters + NUL. */
void pw_lake_uuid(char out[37]);

/* A file being written: opened under a temporary name in its directory. */
struct pw_lake_file {
	int	 fd;
	char	*path;		/* final path */
	char	*tmp;		/* temporary path */
	uint64_t size;
};

/* Create dir/.name.<random>.tmp for writing (O_EXCL). */
int pw_lake_file_open(struct pw_lake_file *f, const char *dir, const char *name,
    struct pw_error *err) PW_MUST_CHECK;

/* Append n bytes; a sink for the Parquet writer (ctx is the file). */
int pw_lake_file_write(void *ctx, const void *p, size_t n, struct pw_error *err);

/*
 * fsync the file, then give it its final name and fsync the directory.
 * With exclusive, the name must not exist yet (link(); -1 with *taken set
 * if it does, and the temporary file is removed); otherwise rename().
 */
int pw_lake_file_commit(struct pw_lake_file *f, bool exclusive, bool *taken,
    struct pw_error *err) PW_MUST_CHECK;

/* Release f, after pw_lake_file_commit() or instead of it: close it and
 * remove the temporary file if it was not committed.  Safe to repeat. */
void pw_lake_file_abort(struct pw_lake_file *f);

/* Write data to dir/name only if the name is free: *taken if it was not. */
int pw_lake_put_if_absent(const char *dir, const char *name, const void *data, size_t n,
    bool *taken, struct pw_error *err) PW_MUST_CHECK;

/* Read a whole file of at most max bytes into out (appended). *missing (if
 * not NULL) is set instead of failing when the file does not exist. */
int pw_lake_read(const char *path, size_t max, struct pw_buf *out, bool *missing,
    struct pw_error *err) PW_MUST_CHECK;

/* The names in dir (not . and ..), unsorted; *n set.  NULL on error
 * (a missing dir is an empty list).  Free with pw_lake_names_free(). */
char **pw_lake_list(const char *dir, size_t *n, struct pw_error *err);
void pw_lake_names_free(char **names, size_t n);

/* Remove a file, ignoring a missing one. */
int pw_lake_remove(const char *path, struct pw_error *err) PW_MUST_CHECK;

#endif
