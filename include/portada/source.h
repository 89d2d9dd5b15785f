/*
 * source: the second stage.  Checks a file_path against the ingest roots,
 * opens it, and streams its bytes to the next stage in chunks.
 *
 * Regular files are always "readable" to epoll, so they cannot be watched
 * like sockets; instead one scheduler reads one chunk per file in turn, a
 * bounded number of bytes per turn of the event loop, into one shared
 * buffer.  Redis replies and other files are served between chunks, and a
 * file never sits whole in memory.
 */
#ifndef PORTADA_SOURCE_H
#define PORTADA_SOURCE_H

#include <stddef.h>

#include <event2/event.h>

#include "portada/config.h"
#include "portada/error.h"

struct pw_source;
struct pw_read;

/* data() did not take the chunk: the file waits, and the same bytes come
 * again after pw_read_resume(). */
#define PW_READ_PAUSE 1

struct pw_read_events {
	/* The next chunk, borrowed.  Return 0, PW_READ_PAUSE, or -1 with err
	 * set to stop reading. */
	int (*data)(void *arg, const char *buf, size_t len, struct pw_error *err);
	/* Reading ended: err is NULL at end of file.  The reader may be destroyed here. */
	void (*end)(void *arg, const struct pw_error *err);
};

struct pw_source *pw_source_create(struct event_base *base, const struct pw_config *cfg);
void pw_source_destroy(struct pw_source *src);
/* Read file_paths that are URLs with rs (remote.h); without, they fail. */
struct pw_remotes;
void pw_source_set_remotes(struct pw_source *src, struct pw_remotes *rs);

/*
 * A URL goes to remote.h.  Otherwise resolve file_path, check that it lies
 * in an ingest root and is a regular file, and open it.  Errors name the path: "file not found: /app/...",
 * "file_path /etc/passwd is outside the ingest roots (...)", "file_path is
 * a directory: ...".
 */
struct pw_read *pw_read_open(struct pw_source *src, const char *file_path,
    const struct pw_read_events *events, void *arg, struct pw_error *err);

/* Start streaming; data() and end() run from the event loop, never from here. */
void pw_read_start(struct pw_read *rd);

/* Go on with a file whose data() paused it. */
void pw_read_resume(struct pw_read *rd);

/* Stop (if still reading) and free.  NULL is a no-op. */
void pw_read_destroy(struct pw_read *rd);

/* Whether path lies inside root (both already resolved).  Pure; for tests. */
int pw_path_inside(const char *path, const char *root);

#endif
