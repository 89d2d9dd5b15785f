/*
 * Uploads read from URLs (see include/portada/remote.h).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portada/log.h"
#include "portada/remote.h"
#include "portada/s3.h"

#define REMOTE_ATTEMPTS		6	/* in a row without a byte of progress */
#define BACKOFF_FIRST_MS	200
#define BACKOFF_MAX_MS		5000
#define STALL_MS		30000	/* no byte for this long: the attempt failed */
#define ERROR_BODY_MAX		1024	/* of an error answer, for its message */

struct bucket {
	char		*name;
	struct pw_s3	*s3;
};

struct pw_remotes {
	struct event_base	*base;
	struct pw_http		*http;
	const struct pw_config	*cfg;
	pw_remote_getenv_fn	 env;
	struct bucket		*buckets;
	size_t			 nbuckets;
};

struct pw_remote {
	struct pw_remotes	*rs;
	char			*url;		/* as given */
	char			*shown;		/* without its query: for messages */
	struct pw_s3		*s3;		/* s3://: signs each attempt */
	char			*key;
	struct pw_read_events	 ev;
	void			*arg;
	struct pw_http_req	*req;
	struct event		*timer;		/* the first attempt, and retries */
	uint64_t		 taken;		/* bytes data() took */
	uint64_t		 seen;		/* bytes of this answer's body so far */
	uint64_t		 from;		/* where this answer's body starts */
	uint64_t		 taken_before;	/* taken when this attempt began */
	int64_t			 total;		/* the object's size, -1 unknown */
	char			*etag;		/* of the first answer: If-Match on resume */
	unsigned		 attempts;
	bool			 failed;	/* data() refused: err says why */
	struct pw_error		 err;
	char			 body[ERROR_BODY_MAX];	/* of an error answer */
	size_t			 body_len;
};

struct pw_remotes *
pw_remotes_create(struct event_base *base, struct pw_http *http, const struct pw_config *cfg,
    pw_remote_getenv_fn env)
{
	struct pw_remotes *rs = pw_xcalloc(1, sizeof *rs);

	rs->base = base;
	rs->http = http;
	rs->cfg = cfg;
	rs->env = env;
	return rs;
}

void
pw_remotes_destroy(struct pw_remotes *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->nbuckets; i++) {
		pw_s3_destroy(rs->buckets[i].s3);
		free(rs->buckets[i].name);
	}
	free(rs->buckets);
	free(rs);
}

bool
pw_remote_is_url(const char *p)
{
	const char *c = strstr(p, "://");

	/* RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (c == NULL || c == p || !isalpha((unsigned char)*p))
		return false;
	for (const char *q = p; q < c; q++)
		if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
			return false;
	return true;
}

/* Whether the authority (host or host:port) of a URL is allowed. */
static bool
allowed(const struct pw_config *cfg, const char *scheme_s3, const char *auth, size_t n)
{
	for (size_t i = 0; i < cfg->n_source_hosts; i++) {
		const char *h = cfg->source_hosts[i];
		bool is_s3 = strncmp(h, "s3://", 5) == 0;

		if ((scheme_s3 != NULL) != is_s3)
			continue;
		if (is_s3)
			h += 5;
		if (strlen(h) == n && strncasecmp(h, auth, n) == 0)
			return true;
	}
	return false;
}

static struct pw_s3 *
bucket_client(struct pw_remotes *rs, const char *bucket, struct pw_error *err)
{
	struct pw_s3_config cfg;
	struct pw_s3 *s3;
	char url[300];

	for (size_t i = 0; i < rs->nbuckets; i++)
		if (strcmp(rs->buckets[i].name, bucket) == 0)
			return rs->buckets[i].s3;
	snprintf(url, sizeof url, "s3://%s", bucket);
	if (pw_s3_config_parse(&cfg, url, (pw_s3_getenv_fn)rs->env, err) == -1)
		return NULL;
	s3 = pw_s3_create(rs->base, rs->http, &cfg, err);
	pw_s3_config_finish(&cfg);
	if (s3 == NULL)
		return NULL;
	rs->buckets = pw_xrealloc(rs->buckets, (rs->nbuckets + 1) * sizeof *rs->buckets);
	rs->buckets[rs->nbuckets].name = pw_xstrdup(bucket);
	rs->buckets[rs->nbuckets++].s3 = s3;
	return s3;
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

struct pw_remote *
pw_remote_open(struct pw_remotes *rs, const char *url, const struct pw_read_events *events,
    void *arg, struct pw_error *err)
{
	const char *auth, *slash;
	struct pw_remote *rm;
	bool s3 = strncmp(url, "s3://", 5) == 0;
	int shown = (int)strcspn(url, "?#");	/* a query may be a credential */
	size_t n;

	if (!s3 && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		pw_error_set(err, "file_path %.*s: only local paths and http://, https:// and "
		    "s3:// URLs are read", shown, url);
		return NULL;
	}
	auth = strstr(url, "://") + 3;
	n = strcspn(auth, "/?#");
	slash = auth + n;
	if (n == 0 || memchr(auth, '@', n) != NULL) {
		pw_error_set(err, "file_path %.*s: expected a host%s", shown, url,
		    n == 0 ? "" : " without user:password@ (credentials are not taken from URLs)");
		return NULL;
	}
	if (rs == NULL || !allowed(rs->cfg, s3 ? "s3" : NULL, auth, n)) {
		pw_error_set(err, "file_path %.*s: %s%.*s is not an allowed source host "
		    "(--allow-source-host)", shown, url, s3 ? "s3://" : "", (int)n, auth);
		return NULL;
	}
	if (s3 && (*slash != '/' || slash[1] == '\0')) {
		pw_error_set(err, "file_path %.*s: expected s3://bucket/key", shown, url);
		return NULL;
	}
	rm = pw_xcalloc(1, sizeof *rm);
	rm->rs = rs;
	rm->url = pw_xstrdup(url);
	/* A presigned URL's query is a credential: never in logs or statuses. */
	rm->shown = pw_xstrndup(url, strcspn(url, "?#"));
	rm->total = -1;
	rm->ev = *events;
	rm->arg = arg;
	if (s3) {
		char *bucket = pw_xstrndup(auth, n);

		rm->s3 = bucket_client(rs, bucket, err);
		free(bucket);
		if (rm->s3 == NULL) {
			pw_error_prefix(err, "file_path %.*s", shown, url);
			pw_remote_destroy(rm);
			return NULL;
		}
		rm->key = pw_xstrdup(slash + 1);
	}
	rm->timer = evtimer_new(rs->base, on_timer, rm);
	if (rm->timer == NULL)
		pw_fatal("cannot create a timer for a remote source");
	return rm;
}

static void
end(struct pw_remote *rm, const struct pw_error *err)
{
	struct pw_error copy;

	if (err != NULL) {
		copy = *err;	/* err may live in rm, which end() may destroy */
		err = &copy;
	}
	rm->req = NULL;
	rm->ev.end(rm->arg, err);
}

static void
on_header(void *arg, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct pw_remote *rm = arg;
	long status = pw_http_status(rm->req);
	char buf[128];

	if (vlen >= sizeof buf)
		return;
	memcpy(buf, value, vlen);
	buf[vlen] = '\0';
	if (nlen == 4 && strncasecmp(name, "ETag", 4) == 0 && status == 200 && rm->etag == NULL)
		rm->etag = pw_xstrdup(buf);
	else if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0 && status == 200)
		rm->total = strtoll(buf, NULL, 10);
	else if (nlen == 13 && strncasecmp(name, "Content-Range", 13) == 0 && status == 206) {
		/* "bytes START-END/TOTAL": where this body starts. */
		unsigned long long start, end, total;

		if (sscanf(buf, "bytes %llu-%llu/%llu", &start, &end, &total) == 3) {
			rm->from = start;
			rm->total = (int64_t)total;
		}
	}
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct pw_remote *rm = arg;
	long status = pw_http_status(rm->req);
	size_t skip = 0;
	int rc;

	if (rm->failed)
		return -1;	/* a chunk refused before comes again after a pause */
	if (status != 200 && status != 206) {
		/* An error answer: keep its start for the message. */
		size_t k = n < sizeof rm->body - rm->body_len ? n : sizeof rm->body - rm->body_len;

		memcpy(rm->body + rm->body_len, p, k);
		rm->body_len += k;
		return 0;
	}
	if (status == 200)
		rm->from = 0;		/* the whole body again */
	else if (rm->from > rm->taken) {
		pw_error_set(&rm->err, "cannot read %s: the server resumed at byte %" PRIu64
		    ", after %" PRIu64 " were read", rm->shown, rm->from, rm->taken);
		rm->failed = true;
		return -1;
	}
	/* Bytes before `taken` came in an earlier attempt: skip them.  seen
	 * moves only when the chunk is taken (a paused one comes again). */
	if (rm->from + rm->seen < rm->taken) {
		uint64_t s = rm->taken - (rm->from + rm->seen);

		if (s >= n) {
			rm->seen += n;
			return 0;
		}
		skip = (size_t)s;
	}
	rc = rm->ev.data(rm->arg, p + skip, n - skip, &rm->err);
	if (rc == PW_READ_PAUSE)
		return PW_HTTP_PAUSE;
	if (rc != 0) {
		rm->failed = true;
		return -1;
	}
	rm->seen += n;
	rm->taken += n - skip;
	return 0;
}

/* The error code an S3 or similar server put in its answer, if any. */
static void
error_code(const struct pw_remote *rm, char *out, size_t size)
{
	const char *a = memmem(rm->body, rm->body_len, "<Code>", 6), *b;

	out[0] = '\0';
	if (a != NULL && (b = memmem(a + 6, rm->body_len - (size_t)(a + 6 - rm->body),
	    "</Code>", 7)) != NULL && b - a - 6 < 64)
		snprintf(out, size, " %.*s", (int)(b - a - 6), a + 6);
}

static void
retry(struct pw_remote *rm, const char *why)
{
	unsigned shift = rm->attempts - 1 < 5 ? rm->attempts - 1 : 5;
	long ms = (long)BACKOFF_FIRST_MS << shift;
	struct timeval tv;
	struct pw_error err;

	if (rm->taken > rm->taken_before)
		rm->attempts = 1;	/* it moved on: a new run of attempts */
	if (rm->attempts >= REMOTE_ATTEMPTS) {
		pw_error_set(&err, "cannot read %s: %s (after %u attempts)", rm->shown, why,
		    rm->attempts);
		end(rm, &err);
		return;
	}
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	ms = ms / 2 + random() % (ms / 2 + 1);	/* jitter: peers do not retry in step */
	log_debug(NULL, "source-retry", "%s: %s; again in %ld ms from byte %" PRIu64, rm->shown,
	    why, ms, rm->taken);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(rm->timer, &tv);
}

static void
on_done(void *arg, const struct pw_http_result *res)
{
	struct pw_remote *rm = arg;
	struct pw_error err;
	char code[80], why[700];

	rm->req = NULL;
	if (rm->failed) {
		end(rm, &rm->err);
		return;
	}
	if (res->failed) {
		/* curl's message names the URL: not a presigned one's query. */
		snprintf(why, sizeof why, "%s", rm->s3 == NULL && strchr(rm->url, '?') != NULL ?
		    "the transfer failed" : res->error);
		retry(rm, why);
		return;
	}
	if (res->status == 200 || res->status == 206) {
		end(rm, NULL);
		return;
	}
	error_code(rm, code, sizeof code);
	if (res->status >= 500 || res->status == 429 || res->status == 408) {
		snprintf(why, sizeof why, "HTTP %ld%s", res->status, code);
		retry(rm, why);
		return;
	}
	if (res->status == 416 && rm->total >= 0 && rm->taken == (uint64_t)rm->total) {
		end(rm, NULL);	/* the retry began at the very end: all was read */
		return;
	}
	if (res->status == 404)
		pw_error_set(&err, "file not found: %s (HTTP 404%s)", rm->shown, code);
	else if (res->status == 401 || res->status == 403)
		pw_error_set(&err, "access denied: %s (HTTP %ld%s)", rm->shown, res->status, code);
	else if (res->status == 412 || res->status == 416)
		pw_error_set(&err, "cannot read %s: it changed while it was read (HTTP %ld)",
		    rm->shown, res->status);
	else
		pw_error_set(&err, "cannot read %s: HTTP %ld%s", rm->shown, res->status, code);
	end(rm, &err);
}

static void
attempt(struct pw_remote *rm)
{
	static const struct pw_http_events events = { on_header, on_data, on_done };
	struct pw_http_opts o = { 0 };
	struct pw_s3_signed sig = { 0 };
	const char *h[8];
	char range[64], match[160];
	struct pw_error err;
	size_t n = 0;

	rm->attempts++;
	rm->seen = 0;
	rm->from = rm->taken;
	rm->taken_before = rm->taken;
	rm->body_len = 0;
	o.method = "GET";
	o.url = rm->url;
	o.stall_ms = STALL_MS;
	if (rm->s3 != NULL) {
		if (pw_s3_sign_get(rm->s3, rm->key, &sig, &err) == -1) {
			pw_error_prefix(&err, "file_path %s", rm->shown);
			end(rm, &err);
			return;
		}
		o.url = sig.url;
		for (size_t i = 0; i < sig.n; i++)
			h[n++] = sig.h[i];
	}
	if (rm->taken > 0) {
		snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", rm->taken);
		h[n++] = range;
		/* The rest of the same object, or 412: never a mix of two. */
		if (rm->etag != NULL && strlen(rm->etag) < sizeof match - 12) {
			snprintf(match, sizeof match, "If-Match: %s", rm->etag);
			h[n++] = match;
		}
	}
	h[n] = NULL;
	o.headers = h;
	rm->req = pw_http_start(rm->rs->http, &o, &events, rm, &err);
	pw_s3_signed_finish(&sig);
	if (rm->req == NULL)
		retry(rm, err.msg);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	attempt(arg);
}

void
pw_remote_start(struct pw_remote *rm)
{
	static const struct timeval now = { 0, 0 };

	evtimer_add(rm->timer, &now);
}

void
pw_remote_resume(struct pw_remote *rm)
{
	if (rm->req != NULL)
		pw_http_resume(rm->req);
}

void
pw_remote_destroy(struct pw_remote *rm)
{
	if (rm == NULL)
		return;
	if (rm->req != NULL)
		pw_http_cancel(rm->req);
	if (rm->timer != NULL)
		event_free(rm->timer);
	free(rm->key);
	free(rm->etag);
	free(rm->shown);
	free(rm->url);
	free(rm);
}
