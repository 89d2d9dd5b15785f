/*
 * remote: uploads whose file_path is a URL, read over the worker's libcurl
 * multi handle (http.h) into the same data()/end() callbacks as local
 * files (source.h).  http:// and https:// are plain GETs; s3://bucket/key
 * is a GET signed with the AWS_* credentials (s3.h).  Only hosts given
 * with --allow-source-host are read, as local paths must lie in an ingest
 * root.
 *
 * The body streams: data() may pause (curl then stops reading the socket,
 * so a slow table writer slows the download instead of filling memory)
 * and nothing holds more than curl's receive buffer.  A dropped
 * connection, a stall, a timeout, 5xx, 429 or 408 is retried with backoff
 * from the next byte not yet taken (a Range request; bytes a server sends
 * again are skipped), REMOTE_ATTEMPTS times; 404, 403 and other answers
 * fail at once with the status and the server's error code.
 */
#ifndef PORTADA_REMOTE_H
#define PORTADA_REMOTE_H

#include <stdbool.h>

#include <event2/event.h>

#include "portada/config.h"
#include "portada/error.h"
#include "portada/http.h"
#include "portada/source.h"

struct pw_remotes;
struct pw_remote;

typedef const char *(*pw_remote_getenv_fn)(const char *name);

struct pw_remotes *pw_remotes_create(struct event_base *base, struct pw_http *http,
    const struct pw_config *cfg, pw_remote_getenv_fn env);
void pw_remotes_destroy(struct pw_remotes *rs);

/* Whether file_path is a URL (has a scheme), not a local path. */
bool pw_remote_is_url(const char *file_path);

/*
 * Check the URL (scheme, allowed host, a key for s3://) and prepare to
 * read it; errors name the URL.  rs may be NULL (no remote source
 * allowed).
 */
struct pw_remote *pw_remote_open(struct pw_remotes *rs, const char *url,
    const struct pw_read_events *events, void *arg, struct pw_error *err);
/* data() and end() run from the loop, never from inside these calls. */
void pw_remote_start(struct pw_remote *rm);
void pw_remote_resume(struct pw_remote *rm);
void pw_remote_destroy(struct pw_remote *rm);

#endif
