/*
 * S3 calls over http.c, signed by sigv4.c (see include/portada/s3.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include "portada/log.h"
#include "portada/s3.h"
#include "portada/sigv4.h"

#define BODY_MAX	((size_t)16 << 20)	/* list pages and error documents */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS	5000

enum op { OP_PUT, OP_GET, OP_LIST, OP_DELETE, OP_POST };

static const char *const op_name[] = { "PUT", "GET", "LIST", "DELETE", "POST" };

struct pw_s3 {
	struct event_base	*base;
	struct pw_http		*http;
	struct pw_s3_config	 cfg;
	char			*scheme;	/* "http" or "https" */
	char			*host;		/* as signed and sent: bucket.host for virtual-host style */
	TAILQ_HEAD(, pw_s3_call) calls;
	unsigned long		 errors[PW_S3_ERRORS];	/* by kind, for metrics */
};

const char *const pw_s3_error_kinds[PW_S3_ERRORS] = {
	"transport", "server", "throttled", "conflict", "timeout", "refused",
};

void
pw_s3_error_counts(const struct pw_s3 *s3, unsigned long out[PW_S3_ERRORS])
{
	for (size_t i = 0; i < PW_S3_ERRORS; i++)
		out[i] += s3->errors[i];
}

struct pw_s3_call {
	TAILQ_ENTRY(pw_s3_call)	 link;
	struct pw_s3		*s3;
	enum op			 op;
	char			*key;		/* full key (prefix included); LIST: the prefix */
	char			*data;		/* PUT and POST bodies (may be empty) */
	size_t			 len;
	char			 hash[PW_SIGV4_HEX_SIZE];
	struct pw_sigv4_param	 q[2];		/* multipart: uploads= / uploadId=, partNumber= */
	char			*qv[2];
	size_t			 nq;
	char			*etag;
	bool			 if_absent;
	size_t			 max;
	struct pw_buf		 body;
	bool			 too_big;
	struct pw_error		 held;		/* a retried completion's error, while checking */
	char			*token;		/* LIST: the next continuation token */
	char			**keys;
	size_t			 nkeys, capkeys;
	unsigned		 attempts;
	struct pw_http_req	*req;
	struct event		*retry_ev;
	pw_s3_done_fn		 done;
	void			*arg;
	bool			 listed;	/* in s3->calls */
};

/* ---- configuration ---- */

static char *
env_dup(pw_s3_getenv_fn env, const char *name)
{
	const char *v = env(name);

	return v != NULL && *v != '\0' ? pw_xstrdup(v) : NULL;
}

int
pw_s3_config_parse(struct pw_s3_config *cfg, const char *url, pw_s3_getenv_fn env,
    struct pw_error *err)
{
	const char *b, *slash;
	size_t n;

	memset(cfg, 0, sizeof *cfg);
	if (strncmp(url, "s3://", 5) != 0 || url[5] == '\0' || url[5] == '/') {
		pw_error_set(err, "expected s3://bucket[/prefix], got '%s'", url);
		return -1;
	}
	b = url + 5;
	slash = strchr(b, '/');
	cfg->bucket = slash != NULL ? pw_xstrndup(b, (size_t)(slash - b)) : pw_xstrdup(b);
	for (const char *p = cfg->bucket; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_')) {
			pw_error_set(err, "bucket name '%s' has the character '%c', which S3 does not "
			    "allow", cfg->bucket, *p);
			pw_s3_config_finish(cfg);
			return -1;
		}
	}
	/* The prefix, without leading or doubled slashes, ending in one. */
	{
		const char *p = slash != NULL ? slash + 1 : "";

		while (*p == '/')
			p++;
		n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			n--;
		cfg->prefix = pw_xmalloc(n + 2);
		memcpy(cfg->prefix, p, n);
		if (n > 0)
			cfg->prefix[n++] = '/';
		cfg->prefix[n] = '\0';
	}
	cfg->region = env_dup(env, "AWS_REGION");
	if (cfg->region == NULL)
		cfg->region = env_dup(env, "AWS_DEFAULT_REGION");
	if (cfg->region == NULL)
		cfg->region = pw_xstrdup("us-east-1");
	cfg->endpoint = env_dup(env, "AWS_ENDPOINT_URL");
	/* Dots in a bucket name break TLS on a virtual host: path-style then. */
	cfg->path_style = cfg->endpoint != NULL || strchr(cfg->bucket, '.') != NULL;
	{
		const char *style = env(PW_S3_ADDRESSING_ENV);

		if (style != NULL && strcmp(style, "path") == 0)
			cfg->path_style = true;
		else if (style != NULL && strcmp(style, "virtual") == 0)
			cfg->path_style = false;
		else if (style != NULL && *style != '\0' && strcmp(style, "auto") != 0) {
			pw_error_set(err, "%s must be path, virtual or auto, got '%s'",
			    PW_S3_ADDRESSING_ENV, style);
			pw_s3_config_finish(cfg);
			return -1;
		}
	}
	if (cfg->endpoint == NULL) {
		size_t m = strlen(cfg->region) + 32;

		cfg->endpoint = pw_xmalloc(m);
		snprintf(cfg->endpoint, m, "https://s3.%s.amazonaws.com", cfg->region);
	}
	n = strlen(cfg->endpoint);
	while (n > 0 && cfg->endpoint[n - 1] == '/')
		cfg->endpoint[--n] = '\0';
	if (strncmp(cfg->endpoint, "http://", 7) != 0 && strncmp(cfg->endpoint, "https://", 8) != 0) {
		pw_error_set(err, "AWS_ENDPOINT_URL must start with http:// or https://, got '%s'",
		    cfg->endpoint);
		pw_s3_config_finish(cfg);
		return -1;
	}
	cfg->access_key = env_dup(env, "AWS_ACCESS_KEY_ID");
	cfg->secret_key = env_dup(env, "AWS_SECRET_ACCESS_KEY");
	cfg->session_token = env_dup(env, "AWS_SESSION_TOKEN");
	if (cfg->access_key == NULL || cfg->secret_key == NULL) {
		pw_error_set(err, "%s: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set", url);
		pw_s3_config_finish(cfg);
		return -1;
	}
	return 0;
}

void
pw_s3_config_finish(struct pw_s3_config *cfg)
{
	free(cfg->endpoint);
	free(cfg->region);
	free(cfg->bucket);
	free(cfg->prefix);
	free(cfg->access_key);
	if (cfg->secret_key != NULL)
		explicit_bzero(cfg->secret_key, strlen(cfg->secret_key));
	free(cfg->secret_key);
	if (cfg->session_token != NULL)
		explicit_bzero(cfg->session_token, strlen(cfg->session_token));
	free(cfg->session_token);
	memset(cfg, 0, sizeof *cfg);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? pw_xstrdup(s) : NULL;
}

struct pw_s3 *
pw_s3_create(struct event_base *base, struct pw_http *http, const struct pw_s3_config *cfg,
    struct pw_error *err)
{
	struct pw_s3 *s3 = pw_xcalloc(1, sizeof *s3);
	const char *h = strstr(cfg->endpoint, "://") + 3;
	size_t n = strcspn(h, "/");
	char *host = pw_xstrndup(h, n);

	(void)err;
	s3->base = base;
	s3->http = http;
	TAILQ_INIT(&s3->calls);
	s3->cfg.endpoint = pw_xstrdup(cfg->endpoint);
	s3->cfg.region = pw_xstrdup(cfg->region);
	s3->cfg.bucket = pw_xstrdup(cfg->bucket);
	s3->cfg.prefix = pw_xstrdup(cfg->prefix);
	s3->cfg.access_key = pw_xstrdup(cfg->access_key);
	s3->cfg.secret_key = pw_xstrdup(cfg->secret_key);
	s3->cfg.session_token = dup_or_null(cfg->session_token);
	s3->cfg.path_style = cfg->path_style;
	s3->scheme = pw_xstrndup(cfg->endpoint, (size_t)(h - 3 - cfg->endpoint));
	/* curl leaves a default port out of Host; the signed host must match. */
	n = strlen(host);
	if ((strcmp(s3->scheme, "http") == 0 && n > 3 && strcmp(host + n - 3, ":80") == 0) ||
	    (strcmp(s3->scheme, "https") == 0 && n > 4 && strcmp(host + n - 4, ":443") == 0))
		*strrchr(host, ':') = '\0';
	if (cfg->path_style) {
		s3->host = host;
	} else {
		n = strlen(cfg->bucket) + strlen(host) + 2;
		s3->host = pw_xmalloc(n);
		snprintf(s3->host, n, "%s.%s", cfg->bucket, host);
		free(host);
	}
	return s3;
}

int
pw_s3_sign_get(const struct pw_s3 *s3, const char *key, struct pw_s3_signed *out,
    struct pw_error *err)
{
	struct pw_sigv4_creds creds = { s3->cfg.access_key, s3->cfg.secret_key,
	    s3->cfg.session_token, s3->cfg.region, "s3" };
	struct pw_sigv4_request req = { 0 };
	struct pw_sigv4_result sig;
	size_t n = strlen(s3->cfg.bucket) + strlen(key) + 4, i = 0;
	char *path = pw_xmalloc(n);

	memset(out, 0, sizeof *out);
	if (s3->cfg.path_style)
		snprintf(path, n, "/%s/%s", s3->cfg.bucket, key);
	else
		snprintf(path, n, "/%s", key);
	req.method = "GET";
	req.host = s3->host;
	req.path = path;
	req.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	req.now = time(NULL);
	if (pw_sigv4_sign(&creds, &req, &sig, err) == -1) {
		free(path);
		return -1;
	}
	free(path);
	n = strlen(s3->scheme) + strlen(s3->host) + sig.url_path.len + 8;
	out->url = pw_xmalloc(n);
	snprintf(out->url, n, "%s://%s%s", s3->scheme, s3->host, (char *)sig.url_path.data);
	out->h[i++] = pw_xstrdup((const char *)sig.authorization.data);
	n = sizeof "x-amz-date: " + sizeof sig.amz_date;
	out->h[i] = pw_xmalloc(n);
	snprintf(out->h[i++], n, "x-amz-date: %s", sig.amz_date);
	out->h[i++] = pw_xstrdup("x-amz-content-sha256: "
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	if (s3->cfg.session_token != NULL) {
		n = strlen(s3->cfg.session_token) + 32;
		out->h[i] = pw_xmalloc(n);
		snprintf(out->h[i++], n, "x-amz-security-token: %s", s3->cfg.session_token);
	}
	out->n = i;
	pw_sigv4_result_finish(&sig);
	return 0;
}

void
pw_s3_signed_finish(struct pw_s3_signed *s)
{
	for (size_t i = 0; i < s->n; i++) {
		explicit_bzero(s->h[i], strlen(s->h[i]));
		free(s->h[i]);
	}
	free(s->url);
	memset(s, 0, sizeof *s);
}

static void call_free(struct pw_s3_call *c);

void
pw_s3_destroy(struct pw_s3 *s3)
{
	struct pw_s3_call *c;

	if (s3 == NULL)
		return;
	while ((c = TAILQ_FIRST(&s3->calls)) != NULL)
		call_free(c);
	free(s3->scheme);
	free(s3->host);
	pw_s3_config_finish(&s3->cfg);
	free(s3);
}

/* ---- XML: the few values S3's answers carry ---- */

static void
xml_decode(const char *p, size_t n, struct pw_buf *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		{ "&apos;", '\'' },
	};

	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (p[i] != '&')
			goto plain;
		for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
			size_t l = strlen(ents[k].ent);

			if (i + l <= n && memcmp(p + i, ents[k].ent, l) == 0) {
				if (pw_buf_append_byte(out, (unsigned char)ents[k].c) == -1)
					return;
				i += l - 1;
				break;
			}
		}
		if (k < sizeof ents / sizeof ents[0])
			continue;
		if (i + 2 < n && p[i + 1] == '#') {
			/* &#NN; or &#xHH; as UTF-8 */
			char *end;
			unsigned long cp = p[i + 2] == 'x' ? strtoul(p + i + 3, &end, 16) :
			    strtoul(p + i + 2, &end, 10);
			unsigned char u[4];
			size_t m = 0;

			if ((size_t)(end - p) < n && *end == ';' && cp > 0 && cp <= 0x10FFFF) {
				if (cp < 0x80) {
					u[m++] = (unsigned char)cp;
				} else if (cp < 0x800) {
					u[m++] = (unsigned char)(0xC0 | cp >> 6);
					u[m++] = (unsigned char)(0x80 | (cp & 0x3F));
				} else if (cp < 0x10000) {
					u[m++] = (unsigned char)(0xE0 | cp >> 12);
					u[m++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
					u[m++] = (unsigned char)(0x80 | (cp & 0x3F));
				} else {
					u[m++] = (unsigned char)(0xF0 | cp >> 18);
					u[m++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
					u[m++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
					u[m++] = (unsigned char)(0x80 | (cp & 0x3F));
				}
				if (pw_buf_append(out, u, m) == -1)
					return;
				i = (size_t)(end - p);
				continue;
			}
		}
plain:
		if (pw_buf_append_byte(out, (unsigned char)p[i]) == -1)
			return;
	}
}

size_t
pw_s3_xml_values(const char *xml, size_t len, const char *tag, char ***out)
{
	char open[64], close[64];
	size_t n = 0, cap = 4, ol, cl;
	const char *p = xml, *end = xml + len;

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	ol = strlen(open);
	cl = strlen(close);
	*out = pw_xcalloc(cap + 1, sizeof **out);
	while (p < end) {
		const char *a = memmem(p, (size_t)(end - p), open, ol), *b;
		struct pw_buf v;

		if (a == NULL)
			break;
		a += ol;
		b = memmem(a, (size_t)(end - a), close, cl);
		if (b == NULL)
			break;
		pw_buf_init(&v, len + 1);
		xml_decode(a, (size_t)(b - a), &v);
		if (pw_buf_append_byte(&v, 0) == -1)
			abort();
		if (n == cap) {
			cap *= 2;
			*out = pw_xrealloc(*out, (cap + 1) * sizeof **out);
		}
		(*out)[n++] = (char *)v.data;
		(*out)[n] = NULL;
		p = b + cl;
	}
	return n;
}

static void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* One value of the body's XML, or NULL. */
static char *
xml_first(const struct pw_buf *body, const char *tag)
{
	char **v, *r = NULL;

	if (body->len == 0)
		return NULL;
	if (pw_s3_xml_values((const char *)body->data, body->len, tag, &v) > 0) {
		r = v[0];
		v[0] = pw_xstrdup("");
	}
	strv_free(v);
	return r;
}

/* ---- calls ---- */

static void send_call(struct pw_s3_call *c);
static void on_retry(evutil_socket_t fd, short what, void *arg);
static void finish(struct pw_s3_call *c, enum pw_s3_status status, const struct pw_error *err);

static void
call_free(struct pw_s3_call *c)
{
	if (c->listed)
		TAILQ_REMOVE(&c->s3->calls, c, link);
	if (c->req != NULL)
		pw_http_cancel(c->req);
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	for (size_t i = 0; i < c->nkeys; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->token);
	free(c->etag);
	for (size_t i = 0; i < c->nq; i++)
		free(c->qv[i]);
	pw_buf_finish(&c->body);
	free(c->data);
	free(c->key);
	free(c);
}

static void
finish(struct pw_s3_call *c, enum pw_s3_status status, const struct pw_error *err)
{
	struct pw_s3_result res;

	memset(&res, 0, sizeof res);
	res.status = status;
	if (err != NULL)
		res.error = *err;
	res.body = &c->body;
	res.too_big = c->too_big;
	res.etag = c->etag;
	if (c->keys != NULL)
		c->keys[c->nkeys] = NULL;
	res.keys = c->keys;
	res.nkeys = c->nkeys;
	res.attempts = c->attempts;
	c->req = NULL;
	/* Off the list first: done() may free what the call was for (an
	 * upload), which drops that thing's calls from the list. */
	TAILQ_REMOVE(&c->s3->calls, c, link);
	c->listed = false;
	c->done(c->arg, &res);
	call_free(c);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_call(arg);
}

/* Try again later, or give up with why. */
static void
retry_or_fail(struct pw_s3_call *c, const struct pw_error *why)
{
	unsigned ms;
	struct timeval tv;

	c->req = NULL;
	if (c->attempts >= PW_S3_ATTEMPTS) {
		struct pw_error err = *why;

		pw_error_prefix(&err, "after %u attempts", c->attempts);
		finish(c, PW_S3_FAILED, &err);
		return;
	}
	ms = BACKOFF_FIRST_MS << (c->attempts - 1 < 10 ? c->attempts - 1 : 10);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	ms = ms / 2 + (unsigned)random() % (ms / 2 + 1);	/* jitter: half to all of it */
	log_debug(NULL, "s3-retry", "%s in %u ms", why->msg, ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->retry_ev, &tv);
}

static void
error_from(struct pw_s3_call *c, long status, struct pw_error *err)
{
	char *code = xml_first(&c->body, "Code"), *msg = xml_first(&c->body, "Message");

	pw_error_set(err, "S3 %s s3://%s/%s: HTTP %ld%s%s%s%s", op_name[c->op], c->s3->cfg.bucket,
	    c->key, status, code != NULL ? " " : "", code != NULL ? code : "",
	    msg != NULL ? ": " : "", msg != NULL ? msg : "");
	free(code);
	free(msg);
}

static int
list_page(struct pw_s3_call *c)
{
	char **keys, *trunc, *token;
	size_t n = pw_s3_xml_values((const char *)c->body.data, c->body.len, "Key", &keys);
	size_t plen = strlen(c->key);

	for (size_t i = 0; i < n; i++) {
		if (c->nkeys + 1 >= c->capkeys) {
			c->capkeys = c->capkeys == 0 ? 64 : c->capkeys * 2;
			c->keys = pw_xrealloc(c->keys, c->capkeys * sizeof *c->keys);
		}
		/* Keys come back whole: make them relative to the listed prefix. */
		c->keys[c->nkeys++] = pw_xstrdup(strncmp(keys[i], c->key, plen) == 0 ?
		    keys[i] + plen : keys[i]);
	}
	strv_free(keys);
	trunc = xml_first(&c->body, "IsTruncated");
	token = xml_first(&c->body, "NextContinuationToken");
	free(c->token);
	c->token = NULL;
	if (trunc != NULL && strcmp(trunc, "true") == 0) {
		/* Without a token the rest cannot be had: say so, never a partial list. */
		c->token = token != NULL ? token : pw_xstrdup("");
		token = NULL;
	}
	free(trunc);
	free(token);
	return c->token != NULL;
}

/*
 * A conditional PUT answered 412: an earlier attempt of it may have
 * written the object before its connection broke.  The object is ours if
 * it holds exactly our bytes (a Delta commit names its own uploads and
 * time, so two writers never write the same bytes).
 */
static void
on_verify(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_call *c = arg;

	if (res->status == PW_S3_OK && res->body->len == c->len &&
	    memcmp(res->body->data, c->data, c->len) == 0) {
		log_debug(NULL, "s3-own-write", "s3://%s/%s: an earlier attempt wrote it",
		    c->s3->cfg.bucket, c->key);
		finish(c, PW_S3_OK, NULL);
	} else if (res->status == PW_S3_FAILED && !res->too_big) {
		finish(c, PW_S3_FAILED, &res->error);
	} else {
		finish(c, PW_S3_EXISTS, NULL);
	}
}

static void
on_completed_check(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_call *c = arg;
	struct pw_error err;

	/* A GET of at most 0 bytes: any object there is "too big", or empty. */
	if (res->status == PW_S3_OK || (res->status == PW_S3_FAILED && res->too_big)) {
		pw_buf_reset(&c->body);	/* the NoSuchUpload answer is not the result */
		finish(c, PW_S3_OK, NULL);
		return;
	}
	pw_error_set(&err, "S3 POST s3://%s/%s?uploadId: the upload is gone and the object is "
	    "not there", c->s3->cfg.bucket, c->key);
	finish(c, PW_S3_FAILED, &err);
}

/*
 * A retried CompleteMultipartUpload answered 5xx: an earlier attempt may
 * have completed it (s3rver, for one, then fails every later completion).
 * The object being there means it was ours (data files have unique names).
 */
static void
on_completed_recheck(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_call *c = arg;

	if (res->status == PW_S3_OK || (res->status == PW_S3_FAILED && res->too_big)) {
		pw_buf_reset(&c->body);	/* the error answer is not the result */
		finish(c, PW_S3_OK, NULL);
		return;
	}
	retry_or_fail(c, &c->held);
}

static void
on_http_done(void *arg, const struct pw_http_result *r)
{
	struct pw_s3_call *c = arg;
	struct pw_error err;

	c->req = NULL;
	if (r->failed) {
		if (c->too_big) {
			pw_error_set(&err, "S3 GET s3://%s/%s: the object is larger than %zu bytes",
			    c->s3->cfg.bucket, c->key, c->max);
			finish(c, PW_S3_FAILED, &err);
			return;
		}
		pw_error_set(&err, "S3 %s s3://%s/%s: %s", op_name[c->op], c->s3->cfg.bucket, c->key,
		    r->error);
		c->s3->errors[PW_S3_ERR_TRANSPORT]++;
		retry_or_fail(c, &err);
		return;
	}
	if (r->status >= 200 && r->status < 300) {
		if (c->op == OP_GET && c->body.len > c->max) {
			c->too_big = true;
			pw_error_set(&err, "S3 GET s3://%s/%s: the object is larger than %zu bytes",
			    c->s3->cfg.bucket, c->key, c->max);
			finish(c, PW_S3_FAILED, &err);
			return;
		}
		/* CompleteMultipartUpload may answer 200 with an <Error> inside:
		 * a failure to retry, as a 5xx would be (and checked, if an
		 * earlier attempt may have completed it). */
		if (c->op == OP_POST && c->nq == 1 && strcmp(c->q[0].name, "uploadId") == 0 &&
		    memmem(c->body.data, c->body.len, "<Error>", 7) != NULL) {
			char *code = xml_first(&c->body, "Code");

			pw_error_set(&err, "S3 POST s3://%s/%s?uploadId: %s", c->s3->cfg.bucket,
			    c->key, code != NULL ? code : "an error in a 200 answer");
			free(code);
			c->s3->errors[PW_S3_ERR_SERVER]++;
			if (c->attempts > 1) {
				c->held = err;
				pw_s3_get(c->s3, c->key + strlen(c->s3->cfg.prefix), 0,
				    on_completed_recheck, c);
			} else
				retry_or_fail(c, &err);
			return;
		}
		if (c->op == OP_LIST && list_page(c)) {
			if (c->token[0] == '\0') {
				pw_error_set(&err, "S3 LIST s3://%s/%s: a truncated answer without a "
				    "continuation token", c->s3->cfg.bucket, c->key);
				finish(c, PW_S3_FAILED, &err);
				return;
			}
			c->attempts = 0;	/* a new page: a new count */
			send_call(c);
			return;
		}
		finish(c, PW_S3_OK, NULL);
		return;
	}
	if (r->status == 404 && c->op == OP_GET) {
		finish(c, PW_S3_MISSING, NULL);
		return;
	}
	if (r->status == 404 && c->op == OP_DELETE && c->nq == 0) {
		finish(c, PW_S3_OK, NULL);	/* gone already: what was asked */
		return;
	}
	if (r->status == 404 && c->op == OP_POST && c->nq == 1 && c->attempts > 1 &&
	    strcmp(c->q[0].name, "uploadId") == 0) {
		/* NoSuchUpload on a retried completion: the lost attempt may have
		 * completed it.  Data files have unique names, so the object being
		 * there means it was ours. */
		pw_s3_get(c->s3, c->key + strlen(c->s3->cfg.prefix), 0, on_completed_check, c);
		return;
	}
	if (r->status == 412 && c->if_absent) {
		/* Always checked: curl itself resends a request whose reused
		 * connection died, so even a first attempt may be a second one. */
		pw_s3_get(c->s3, c->key + strlen(c->s3->cfg.prefix), c->len + 1, on_verify, c);
		return;
	}
	error_from(c, r->status, &err);
	if (r->status >= 500 && c->op == OP_POST && c->nq == 1 && c->attempts > 1 &&
	    strcmp(c->q[0].name, "uploadId") == 0) {
		c->s3->errors[PW_S3_ERR_SERVER]++;
		c->held = err;
		pw_s3_get(c->s3, c->key + strlen(c->s3->cfg.prefix), 0, on_completed_recheck, c);
		return;
	}
	{
		/* SlowDown may come with 503 or, from some stores, 400. */
		char *code = xml_first(&c->body, "Code");
		bool slow = code != NULL && strcmp(code, "SlowDown") == 0;

		free(code);
		if (slow || r->status == 429)
			c->s3->errors[PW_S3_ERR_THROTTLED]++;
		else if (r->status >= 500)
			c->s3->errors[PW_S3_ERR_SERVER]++;
		else if (r->status == 409)
			c->s3->errors[PW_S3_ERR_CONFLICT]++;
		else if (r->status == 408)
			c->s3->errors[PW_S3_ERR_TIMEOUT]++;
		else
			c->s3->errors[PW_S3_ERR_REFUSED]++;
		if (slow || r->status >= 500 || r->status == 429 || r->status == 409 ||
		    r->status == 408) {
			retry_or_fail(c, &err);
			return;
		}
	}
	finish(c, PW_S3_FAILED, &err);
}

static int
on_http_data(void *arg, const char *p, size_t n)
{
	struct pw_s3_call *c = arg;

	if (pw_buf_append(&c->body, p, n) == -1) {
		c->too_big = c->op == OP_GET;
		return -1;
	}
	return 0;
}

static void
on_http_header(void *arg, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct pw_s3_call *c = arg;

	if (nlen == 4 && strncasecmp(name, "ETag", 4) == 0) {
		free(c->etag);
		c->etag = pw_xstrndup(value, vlen);
	}
}

static void
send_call(struct pw_s3_call *c)
{
	static const struct pw_http_events events = { on_http_header, on_http_data, on_http_done };
	struct pw_s3 *s3 = c->s3;
	struct pw_sigv4_creds creds = { s3->cfg.access_key, s3->cfg.secret_key,
	    s3->cfg.session_token, s3->cfg.region, "s3" };
	struct pw_sigv4_param q[6];
	struct pw_sigv4_header ifnm = { "If-None-Match", "*" };
	struct pw_sigv4_request req = { 0 };
	struct pw_sigv4_result sig;
	struct pw_http_opts o = { 0 };
	struct pw_error err;
	const char *hdrs[8];
	char *path, *url, date_h[40], sha_h[100], *token_h = NULL;
	size_t n = 0, plen;

	c->attempts++;
	pw_buf_reset(&c->body);
	c->too_big = false;
	plen = strlen(s3->cfg.bucket) + strlen(c->key) + 4;
	path = pw_xmalloc(plen);
	if (c->op == OP_LIST) {
		snprintf(path, plen, "/%s", s3->cfg.path_style ? s3->cfg.bucket : "");
		if (s3->cfg.path_style)
			strcat(path, "/");
		q[n++] = (struct pw_sigv4_param){ "list-type", "2" };
		q[n++] = (struct pw_sigv4_param){ "prefix", c->key };
		/* One level, like a directory listing. */
		q[n++] = (struct pw_sigv4_param){ "delimiter", "/" };
		if (c->token != NULL)
			q[n++] = (struct pw_sigv4_param){ "continuation-token", c->token };
	} else if (s3->cfg.path_style) {
		snprintf(path, plen, "/%s/%s", s3->cfg.bucket, c->key);
	} else {
		snprintf(path, plen, "/%s", c->key);
	}
	for (size_t i = 0; i < c->nq; i++)
		q[n++] = c->q[i];
	req.method = c->op == OP_LIST ? "GET" : op_name[c->op];
	req.host = s3->host;
	req.path = path;
	req.query = q;
	req.nquery = n;
	if (c->op == OP_PUT && c->if_absent) {
		req.headers = &ifnm;
		req.nheaders = 1;
	}
	req.payload_hash = c->data != NULL ? c->hash :
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	req.now = time(NULL);
	if (pw_sigv4_sign(&creds, &req, &sig, &err) == -1) {
		free(path);
		finish(c, PW_S3_FAILED, &err);
		return;
	}
	plen = strlen(s3->scheme) + strlen(s3->host) + sig.url_path.len + 8;
	url = pw_xmalloc(plen);
	snprintf(url, plen, "%s://%s%s", s3->scheme, s3->host, (char *)sig.url_path.data);
	snprintf(date_h, sizeof date_h, "x-amz-date: %s", sig.amz_date);
	snprintf(sha_h, sizeof sha_h, "x-amz-content-sha256: %s", req.payload_hash);
	n = 0;
	hdrs[n++] = (const char *)sig.authorization.data;
	hdrs[n++] = date_h;
	hdrs[n++] = sha_h;
	if (c->op == OP_PUT && c->if_absent)
		hdrs[n++] = "If-None-Match: *";
	/* Not curl's form-urlencoded default for a POST or an empty PUT. */
	if (c->data != NULL)
		hdrs[n++] = "Content-Type: application/octet-stream";
	if (s3->cfg.session_token != NULL) {
		size_t tl = strlen(s3->cfg.session_token) + 32;

		token_h = pw_xmalloc(tl);
		snprintf(token_h, tl, "x-amz-security-token: %s", s3->cfg.session_token);
		hdrs[n++] = token_h;
	}
	hdrs[n] = NULL;
	o.method = req.method;
	o.url = url;
	o.headers = hdrs;
	if (c->data != NULL) {
		o.body = c->data;
		o.body_len = c->len;
	}
	o.stall_ms = 30000;
	c->req = pw_http_start(s3->http, &o, &events, c, &err);
	pw_sigv4_result_finish(&sig);
	if (token_h != NULL) {
		explicit_bzero(token_h, strlen(token_h));
		free(token_h);
	}
	free(url);
	free(path);
	if (c->req == NULL)
		retry_or_fail(c, &err);
}

static struct pw_s3_call *
call_new(struct pw_s3 *s3, enum op op, const char *key, pw_s3_done_fn done, void *arg)
{
	struct pw_s3_call *c = pw_xcalloc(1, sizeof *c);
	size_t n = strlen(s3->cfg.prefix) + strlen(key) + 1;

	c->s3 = s3;
	c->op = op;
	c->key = pw_xmalloc(n);
	snprintf(c->key, n, "%s%s", s3->cfg.prefix, key);
	c->done = done;
	c->arg = arg;
	pw_buf_init(&c->body, BODY_MAX);
	TAILQ_INSERT_TAIL(&s3->calls, c, link);
	c->listed = true;
	c->retry_ev = evtimer_new(s3->base, on_retry, c);
	if (c->retry_ev == NULL)
		pw_fatal("cannot create an S3 timer");
	return c;
}

/* The first attempt goes from the loop too: done() never runs inside a pw_s3_*() call. */
static struct pw_s3_call *
start(struct pw_s3_call *c)
{
	static const struct timeval now = { 0, 0 };

	evtimer_add(c->retry_ev, &now);
	return c;
}

struct pw_s3_call *
pw_s3_put(struct pw_s3 *s3, const char *key, const void *data, size_t len, bool if_absent,
    pw_s3_done_fn done, void *arg)
{
	struct pw_s3_call *c = call_new(s3, OP_PUT, key, done, arg);

	c->data = pw_xmalloc(len > 0 ? len : 1);
	memcpy(c->data, data, len);
	c->len = len;
	c->if_absent = if_absent;
	pw_sigv4_sha256_hex(data, len, c->hash);
	return start(c);
}

struct pw_s3_call *
pw_s3_get(struct pw_s3 *s3, const char *key, size_t max, pw_s3_done_fn done, void *arg)
{
	struct pw_s3_call *c = call_new(s3, OP_GET, key, done, arg);

	c->max = max;
	/* Room for an error document too (a 503's XML is longer than a small
	 * object); the object itself is held to max when it has come. */
	pw_buf_finish(&c->body);
	pw_buf_init(&c->body, max > ((size_t)64 << 10) ? max + 1 : (size_t)64 << 10);
	return start(c);
}

struct pw_s3_call *
pw_s3_list(struct pw_s3 *s3, const char *prefix, pw_s3_done_fn done, void *arg)
{
	return start(call_new(s3, OP_LIST, prefix, done, arg));
}

struct pw_s3_call *
pw_s3_delete(struct pw_s3 *s3, const char *key, pw_s3_done_fn done, void *arg)
{
	return start(call_new(s3, OP_DELETE, key, done, arg));
}

/* ---- multipart uploads ---- */

#define PART_MIN	((size_t)5 << 20)

struct part {
	char	*data;
	size_t	 len;
	char	*etag;
	bool	 sent;
};

struct pw_s3_upload {
	struct pw_s3		*s3;
	char			*key;		/* relative to the prefix */
	size_t			 part_bytes;
	unsigned		 max_inflight, inflight;
	struct pw_buf		 cur;		/* the part being filled */
	struct part		*parts;
	size_t			 nparts, capparts, ndone;
	size_t			 queued;	/* bytes in parts not yet acknowledged */
	char			*upload_id;
	bool			 creating, closing, finished, failed;
	struct pw_error		 err;
	pw_s3_done_fn		 done;
	void			*arg;
};

static void pump(struct pw_s3_upload *u);

static struct pw_s3_call *
mp_call(struct pw_s3_upload *u, enum op op, const char *q0, const char *v0, const char *q1,
    const char *v1, pw_s3_done_fn done)
{
	struct pw_s3_call *c = call_new(u->s3, op, u->key, done, u);

	if (q0 != NULL) {
		c->qv[c->nq] = pw_xstrdup(v0);
		c->q[c->nq] = (struct pw_sigv4_param){ q0, c->qv[c->nq] };
		c->nq++;
	}
	if (q1 != NULL) {
		c->qv[c->nq] = pw_xstrdup(v1);
		c->q[c->nq] = (struct pw_sigv4_param){ q1, c->qv[c->nq] };
		c->nq++;
	}
	return c;
}

static void
set_body(struct pw_s3_call *c, char *data, size_t len)
{
	c->data = data;		/* taken */
	c->len = len;
	pw_sigv4_sha256_hex(data, len, c->hash);
}

static void
upload_end(struct pw_s3_upload *u, enum pw_s3_status status)
{
	struct pw_s3_result res;

	if (u->finished)
		return;
	u->finished = true;
	memset(&res, 0, sizeof res);
	res.status = status;
	res.error = u->err;
	u->done(u->arg, &res);
}

static void
on_aborted(void *arg, const struct pw_s3_result *res)
{
	(void)arg;
	(void)res;	/* best effort: a lifecycle rule cleans up what this misses */
}

/* Abort on the store; the call outlives u, so it holds no pointer to it. */
static void
send_abort(struct pw_s3_upload *u)
{
	struct pw_s3_call *c = mp_call(u, OP_DELETE, "uploadId", u->upload_id, NULL, NULL,
	    on_aborted);

	c->arg = NULL;
	start(c);
}

static void
upload_fail(struct pw_s3_upload *u, const struct pw_error *err)
{
	if (u->failed)
		return;
	u->failed = true;
	u->err = *err;
	if (u->upload_id != NULL)
		send_abort(u);
	upload_end(u, PW_S3_FAILED);
}

static void
on_single(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_upload *u = arg;

	if (res->status != PW_S3_OK) {
		upload_fail(u, &res->error);
		return;
	}
	u->queued = 0;
	upload_end(u, PW_S3_OK);
}

static void
on_created(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_upload *u = arg;

	u->creating = false;
	if (res->status != PW_S3_OK) {
		upload_fail(u, &res->error);
		return;
	}
	u->upload_id = xml_first(res->body, "UploadId");
	if (u->upload_id == NULL || u->upload_id[0] == '\0') {
		struct pw_error err;

		pw_error_set(&err, "S3 POST s3://%s/%s%s?uploads: no UploadId in the answer",
		    u->s3->cfg.bucket, u->s3->cfg.prefix, u->key);
		upload_fail(u, &err);
		return;
	}
	pump(u);
}

struct part_ctx {
	struct pw_s3_upload	*u;
	size_t			 i;
};

static void
on_part(void *arg, const struct pw_s3_result *res)
{
	struct part_ctx *pc = arg;
	struct pw_s3_upload *u = pc->u;
	size_t i = pc->i;
	struct part *p = &u->parts[i];

	free(pc);
	u->inflight--;
	if (u->failed)
		return;
	if (res->status != PW_S3_OK || res->etag == NULL) {
		struct pw_error err;

		if (res->status == PW_S3_OK)
			pw_error_set(&err, "S3 PUT s3://%s/%s%s part %zu: no ETag in the answer",
			    u->s3->cfg.bucket, u->s3->cfg.prefix, u->key, i + 1);
		upload_fail(u, res->status == PW_S3_OK ? &err : &res->error);
		return;
	}
	p->etag = pw_xstrdup(res->etag);
	u->queued -= p->len;
	u->ndone++;
	pump(u);
}

static void
on_completed(void *arg, const struct pw_s3_result *res)
{
	struct pw_s3_upload *u = arg;
	char *code;

	if (res->status != PW_S3_OK) {
		upload_fail(u, &res->error);
		return;
	}
	/* CompleteMultipartUpload may answer 200 with an <Error> inside. */
	if ((code = xml_first(res->body, "Code")) != NULL) {
		struct pw_error err;

		pw_error_set(&err, "S3 POST s3://%s/%s%s?uploadId: %s", u->s3->cfg.bucket,
		    u->s3->cfg.prefix, u->key, code);
		free(code);
		upload_fail(u, &err);
		return;
	}
	upload_end(u, PW_S3_OK);
}

static void
complete(struct pw_s3_upload *u)
{
	struct pw_buf x;
	struct pw_s3_call *c;
	char num[24];

	pw_buf_init(&x, (size_t)64 << 20);
	if (pw_buf_append(&x, "<CompleteMultipartUpload>", 25) == -1)
		abort();
	for (size_t i = 0; i < u->nparts; i++) {
		snprintf(num, sizeof num, "%zu", i + 1);
		if (pw_buf_append(&x, "<Part><PartNumber>", 18) == -1 ||
		    pw_buf_append(&x, num, strlen(num)) == -1 ||
		    pw_buf_append(&x, "</PartNumber><ETag>", 19) == -1 ||
		    pw_buf_append(&x, u->parts[i].etag, strlen(u->parts[i].etag)) == -1 ||
		    pw_buf_append(&x, "</ETag></Part>", 14) == -1)
			abort();
	}
	if (pw_buf_append(&x, "</CompleteMultipartUpload>", 26) == -1)
		abort();
	c = mp_call(u, OP_POST, "uploadId", u->upload_id, NULL, NULL, on_completed);
	set_body(c, (char *)x.data, x.len);
	start(c);
}

static void
pump(struct pw_s3_upload *u)
{
	if (u->failed || u->finished)
		return;
	if (u->upload_id == NULL) {
		if (!u->creating && u->nparts > 0) {
			struct pw_s3_call *c = mp_call(u, OP_POST, "uploads", "", NULL, NULL,
			    on_created);

			u->creating = true;
			set_body(c, pw_xmalloc(1), 0);
			start(c);
		}
		return;
	}
	for (size_t i = 0; i < u->nparts && u->inflight < u->max_inflight; i++) {
		struct part *p = &u->parts[i];
		struct part_ctx *pc;
		struct pw_s3_call *c;
		char num[24];

		if (p->sent)
			continue;
		p->sent = true;
		pc = pw_xcalloc(1, sizeof *pc);
		pc->u = u;
		pc->i = i;
		snprintf(num, sizeof num, "%zu", i + 1);
		c = mp_call(u, OP_PUT, "partNumber", num, "uploadId", u->upload_id, on_part);
		c->arg = pc;
		set_body(c, p->data, p->len);
		p->data = NULL;		/* the call owns it now */
		u->inflight++;
		start(c);
	}
	if (u->closing && u->ndone == u->nparts)
		complete(u);
}

#define PARTS_MAX	10000	/* S3's limit */

static void
cut_part(struct pw_s3_upload *u, size_t len)
{
	struct part *p;

	if (u->nparts == PARTS_MAX) {
		struct pw_error err;

		pw_error_set(&err, "S3 upload s3://%s/%s%s: more than %d parts of %zu bytes",
		    u->s3->cfg.bucket, u->s3->cfg.prefix, u->key, PARTS_MAX, u->part_bytes);
		pw_buf_truncate(&u->cur, 0);
		upload_fail(u, &err);
		return;
	}
	if (u->nparts == u->capparts) {
		u->capparts = u->capparts == 0 ? 16 : u->capparts * 2;
		u->parts = pw_xrealloc(u->parts, u->capparts * sizeof *u->parts);
	}
	p = &u->parts[u->nparts++];
	memset(p, 0, sizeof *p);
	p->data = pw_xmalloc(len > 0 ? len : 1);
	memcpy(p->data, u->cur.data, len);
	p->len = len;
	memmove(u->cur.data, u->cur.data + len, u->cur.len - len);
	pw_buf_truncate(&u->cur, u->cur.len - len);
}

struct pw_s3_upload *
pw_s3_upload_open(struct pw_s3 *s3, const char *key, size_t part_bytes, unsigned max_inflight,
    pw_s3_done_fn done, void *arg)
{
	struct pw_s3_upload *u = pw_xcalloc(1, sizeof *u);

	u->s3 = s3;
	u->key = pw_xstrdup(key);
	u->part_bytes = part_bytes < PART_MIN ? PART_MIN : part_bytes;
	u->max_inflight = max_inflight > 0 ? max_inflight : 1;
	pw_buf_init(&u->cur, SIZE_MAX / 2);
	u->done = done;
	u->arg = arg;
	return u;
}

void
pw_s3_upload_write(struct pw_s3_upload *u, const void *p, size_t n)
{
	if (u->failed || u->closing)
		return;
	if (pw_buf_append(&u->cur, p, n) == -1)
		abort();
	u->queued += n;
	while (!u->failed && u->cur.len >= u->part_bytes)
		cut_part(u, u->part_bytes);
	pump(u);
}

size_t
pw_s3_upload_buffered(const struct pw_s3_upload *u)
{
	return u->queued;
}

size_t
pw_s3_upload_backlog(const struct pw_s3_upload *u)
{
	return u->queued - u->cur.len;
}

void
pw_s3_upload_close(struct pw_s3_upload *u)
{
	if (u->failed || u->closing)
		return;
	u->closing = true;
	if (u->nparts == 0 && !u->creating && u->upload_id == NULL) {
		/* Smaller than a part: one PUT. */
		struct pw_s3_call *c = call_new(u->s3, OP_PUT, u->key, on_single, u);

		set_body(c, (char *)u->cur.data, u->cur.len);
		u->cur.data = NULL;
		u->cur.len = u->cur.cap = 0;
		start(c);
		return;
	}
	if (u->cur.len > 0)
		cut_part(u, u->cur.len);
	pump(u);
}

void
pw_s3_upload_free(struct pw_s3_upload *u)
{
	struct pw_s3_call *c, *next;

	if (u == NULL)
		return;
	/* Drop calls that would call back into u. */
	for (c = TAILQ_FIRST(&u->s3->calls); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->arg == u || (c->done == on_part && ((struct part_ctx *)c->arg)->u == u)) {
			if (c->done == on_part)
				free(c->arg);
			call_free(c);
		}
	}
	if (!u->finished && u->upload_id != NULL)
		send_abort(u);
	for (size_t i = 0; i < u->nparts; i++) {
		free(u->parts[i].data);
		free(u->parts[i].etag);
	}
	free(u->parts);
	pw_buf_finish(&u->cur);
	free(u->upload_id);
	free(u->key);
	free(u);
}
