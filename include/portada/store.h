/*
 * store: where a lake's objects live, behind one asynchronous interface
 * with two backends: a local directory (lake.c: fsync'd temporary files,
 * rename, link() for put-if-absent) and S3-compatible storage (s3.c:
 * multipart uploads, If-None-Match: *).  Keys are relative to the lake
 * ("ship_entries/_delta_log/00000000000000000003.json"); the Delta code
 * never learns which backend it talks to.
 *
 * Every call ends in exactly one done() callback, from the event loop,
 * never from inside the call (the local backend completes on a zero
 * timer), except after pw_store_close(), which drops what is in flight.
 * OK from a writer or a put means durable: synced to disk with its
 * directory, or acknowledged by the object store.
 */
#ifndef PORTADA_STORE_H
#define PORTADA_STORE_H

#include <stddef.h>

#include <event2/event.h>

#include "portada/error.h"
#include "portada/http.h"
#include "portada/s3.h"

enum pw_store_status {
	PW_STORE_OK,
	PW_STORE_MISSING,	/* get: no such key */
	PW_STORE_EXISTS,	/* put_if_absent: the key was taken */
	PW_STORE_FAILED,	/* error says why */
};

struct pw_store_result {
	enum pw_store_status	 status;
	struct pw_error		 error;
	const unsigned char	*data;		/* get: the object (valid during done) */
	size_t			 len;
	char *const		*names;		/* list: keys under the prefix, relative to it */
	size_t			 nnames;
};

typedef void (*pw_store_done_fn)(void *arg, const struct pw_store_result *res);
typedef const char *(*pw_store_getenv_fn)(const char *name);

struct pw_store;
struct pw_store_writer;

/*
 * A directory (created if missing) or s3://bucket[/prefix] (configured
 * from the AWS_* variables, see s3.h; http may be NULL for a directory).
 */
struct pw_store *pw_store_open(struct event_base *base, struct pw_http *http, const char *lake,
    pw_store_getenv_fn env, struct pw_error *err);
void pw_store_close(struct pw_store *st);
/* Add the S3 requests that failed, by kind (s3.h), to out; none locally. */
void pw_store_error_counts(const struct pw_store *st, unsigned long out[PW_S3_ERRORS]);
/* "/srv/lake" or "s3://bucket/prefix", for messages. */
const char *pw_store_name(const struct pw_store *st);

/*
 * Make the "directory" prefix ("ship_entries/_delta_log/") and its parents
 * (local only; S3 has none).  Nothing else creates directories, so a table
 * directory removed under a running worker is an error, not silently
 * started again.  Blocks (mkdir, fsync): for opening a table.
 */
int pw_store_mkdir(struct pw_store *st, const char *prefix, struct pw_error *err) PW_MUST_CHECK;

/*
 * After a failure: write a small object (64 KiB) and remove it again, to
 * see whether the lake takes writes now (room on the disk, writable, the
 * store reachable).
 */
void pw_store_check_writes(struct pw_store *st, pw_store_done_fn done, void *arg);

void pw_store_put_if_absent(struct pw_store *st, const char *key, const void *data, size_t len,
    pw_store_done_fn done, void *arg);
void pw_store_get(struct pw_store *st, const char *key, size_t max, pw_store_done_fn done,
    void *arg);
/* prefix is a "directory": "ship_entries/_delta_log/". */
void pw_store_list(struct pw_store *st, const char *prefix, pw_store_done_fn done, void *arg);
void pw_store_delete(struct pw_store *st, const char *key, pw_store_done_fn done, void *arg);

/*
 * Check that the store really writes if absent: S3 put-if-absent rests on
 * If-None-Match: *, which some S3-compatible servers ignore, and then two
 * writers could both take one Delta version.  Puts one probe object under
 * _portada/ twice (the second must be refused) and removes it; FAILED
 * with the reason otherwise.  Always OK for a directory.
 */
void pw_store_probe(struct pw_store *st, pw_store_done_fn done, void *arg);

/*
 * A new object written as it is produced (a Parquet data file): write()
 * takes every byte (a failure is reported by done()), buffered() says how
 * many bytes wait in memory for the store so a caller can pause, close()
 * makes it durable and calls done(); abort() drops it without done().
 */
struct pw_store_writer *pw_store_writer_open(struct pw_store *st, const char *key,
    pw_store_done_fn done, void *arg);
void pw_store_writer_write(struct pw_store_writer *w, const void *p, size_t n);
size_t pw_store_writer_buffered(const struct pw_store_writer *w);
/* How far the store is behind: bytes of whole parts waiting to be taken,
 * over all writers (not the parts being filled, which more writing sends:
 * a reader paused on this must not be what holds it up). */
size_t pw_store_buffered(const struct pw_store *st);
/* Everything the writers hold for the store: the above and the parts being
 * filled or sent.  For the worker's memory budget. */
size_t pw_store_held(const struct pw_store *st);
uint64_t pw_store_writer_size(const struct pw_store_writer *w);
void pw_store_writer_close(struct pw_store_writer *w);
void pw_store_writer_abort(struct pw_store_writer *w);

#endif
