/*
 * s3: the object-store calls the S3 lake needs, over http.c, signed by
 * sigv4.c: put (with If-None-Match: * for put-if-absent), get, list by
 * prefix (ListObjectsV2, following continuation tokens) and delete.
 * Every call is asynchronous and ends in exactly one callback.
 *
 * Retries: a dropped connection, a timeout, a stall, 500/502/503/504,
 * 429 or a SlowDown, and 409 (a conditional write that raced) are tried
 * again, re-signed, after a capped exponential backoff with jitter (100 ms,
 * doubling, at most 5 s, at most PW_S3_ATTEMPTS attempts).  Other answers
 * end the call at once: 404 as "missing", 412 as "exists", anything else
 * as an error naming the operation, the key and S3's own code and message.
 * A conditional PUT that gets 412 reads the object back: if it holds
 * exactly our bytes, an earlier attempt (ours, or curl's own resend on a
 * dead keep-alive connection) wrote it and the PUT succeeded.
 * Secrets never appear in errors or logs.
 */
#ifndef PORTADA_S3_H
#define PORTADA_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "portada/buf.h"
#include "portada/error.h"
#include "portada/http.h"

#define PW_S3_ATTEMPTS	8

/* Failed requests by kind (each attempt counts), for metrics. */
enum {
	PW_S3_ERR_TRANSPORT,	/* no answer: connection, timeout, stall */
	PW_S3_ERR_SERVER,	/* 5xx */
	PW_S3_ERR_THROTTLED,	/* 429, SlowDown */
	PW_S3_ERR_CONFLICT,	/* 409 */
	PW_S3_ERR_TIMEOUT,	/* 408 */
	PW_S3_ERR_REFUSED,	/* other 4xx: not retried */
	PW_S3_ERRORS
};
extern const char *const pw_s3_error_kinds[PW_S3_ERRORS];

struct pw_s3_config {
	char	*endpoint;	/* "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000" */
	char	*region;	/* default us-east-1 */
	char	*bucket;
	char	*prefix;	/* "" or "lake/" (always ends in '/' when not empty) */
	char	*access_key;
	char	*secret_key;
	char	*session_token;	/* or NULL */
	bool	 path_style;	/* bucket in the path, not the host name */
};

typedef const char *(*pw_s3_getenv_fn)(const char *name);

/*
 * s3://bucket[/prefix] plus AWS_ENDPOINT_URL (default: AWS's regional
 * endpoint), AWS_REGION (or AWS_DEFAULT_REGION; default us-east-1),
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.  A custom
 * endpoint (MinIO, s3rver) or a bucket name with dots uses path-style
 * addressing, AWS virtual-hosted; PORTADA_S3_ADDRESSING=path|virtual|auto
 * overrides (R2 and most hosted stores take either).
 */
#define PW_S3_ADDRESSING_ENV	"PORTADA_S3_ADDRESSING"
int pw_s3_config_parse(struct pw_s3_config *cfg, const char *url, pw_s3_getenv_fn env,
    struct pw_error *err) PW_MUST_CHECK;
void pw_s3_config_finish(struct pw_s3_config *cfg);

enum pw_s3_status {
	PW_S3_OK,
	PW_S3_MISSING,		/* 404 */
	PW_S3_EXISTS,		/* 412: If-None-Match lost */
	PW_S3_FAILED,		/* error says why */
};

struct pw_s3_result {
	enum pw_s3_status	 status;
	struct pw_error		 error;
	struct pw_buf		*body;		/* get: the object, owned by the call until done returns */
	bool			 too_big;	/* get: the object passed max (status FAILED) */
	const char		*etag;		/* the ETag header, if any */
	char			**keys;		/* list: keys under the prefix, relative to it */
	size_t			 nkeys;
	unsigned		 attempts;
};

typedef void (*pw_s3_done_fn)(void *arg, const struct pw_s3_result *res);

struct pw_s3;
struct pw_s3_call;

struct pw_s3 *pw_s3_create(struct event_base *base, struct pw_http *http,
    const struct pw_s3_config *cfg, struct pw_error *err);
/* Calls still in flight are dropped without their callbacks. */
void pw_s3_destroy(struct pw_s3 *s3);
/* Add this client's failed requests by kind to out. */
void pw_s3_error_counts(const struct pw_s3 *s3, unsigned long out[PW_S3_ERRORS]);

/* key is relative to the configured prefix.  data is copied. */
struct pw_s3_call *pw_s3_put(struct pw_s3 *s3, const char *key, const void *data, size_t len,
    bool if_absent, pw_s3_done_fn done, void *arg);
/* The whole object, at most max bytes (more is an error). */
struct pw_s3_call *pw_s3_get(struct pw_s3 *s3, const char *key, size_t max, pw_s3_done_fn done,
    void *arg);
struct pw_s3_call *pw_s3_list(struct pw_s3 *s3, const char *prefix, pw_s3_done_fn done,
    void *arg);
struct pw_s3_call *pw_s3_delete(struct pw_s3 *s3, const char *key, pw_s3_done_fn done,
    void *arg);

/*
 * An object written as it is produced, never held whole: bytes gather
 * into parts of part_bytes (at least 5 MiB, S3's minimum) that go up as a
 * multipart upload, at most max_inflight at a time; an object smaller
 * than one part goes up as a single PUT at close.  write() always takes
 * the bytes; a caller keeps memory bounded by pausing while buffered()
 * is high.  done() comes once, after close() (or on a failure, when the
 * upload is aborted on the store).  Free the handle in done() or after.
 */
struct pw_s3_upload;
struct pw_s3_upload *pw_s3_upload_open(struct pw_s3 *s3, const char *key, size_t part_bytes,
    unsigned max_inflight, pw_s3_done_fn done, void *arg);
void pw_s3_upload_write(struct pw_s3_upload *u, const void *p, size_t n);
size_t pw_s3_upload_buffered(const struct pw_s3_upload *u);
/* Of those, the bytes in whole parts waiting for the store (not the part
 * being filled, which only more writing or close() sends). */
size_t pw_s3_upload_backlog(const struct pw_s3_upload *u);
void pw_s3_upload_close(struct pw_s3_upload *u);
/* Free; an upload still running is aborted on the store, without done(). */
void pw_s3_upload_free(struct pw_s3_upload *u);

/* Pure, for tests: the texts of every <tag>...</tag> in xml, XML entities
 * decoded, in order.  Returns the count; *out is NULL-terminated, caller frees. */
/*
 * A signed GET of the whole key (the configured prefix is not added), for
 * a caller that streams the body itself (remote.c): the URL and the
 * headers, "Name: value", h[0..n).  Valid for minutes (the signature's
 * time): sign again for each attempt.  Free with pw_s3_signed_finish().
 */
struct pw_s3_signed {
	char	*url;
	char	*h[4];
	size_t	 n;
};
int pw_s3_sign_get(const struct pw_s3 *s3, const char *key, struct pw_s3_signed *out,
    struct pw_error *err) PW_MUST_CHECK;
void pw_s3_signed_finish(struct pw_s3_signed *s);

size_t pw_s3_xml_values(const char *xml, size_t len, const char *tag, char ***out);

#endif
