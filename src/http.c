/*
 * HTTP over libcurl multi on libevent (see include/portada/http.h).
 *
 * The glue follows curl's hiperfifo example: CURLMOPT_SOCKETFUNCTION turns
 * each socket curl wants watched into a libevent event, CURLMOPT_TIMERFUNCTION
 * into one timer, and both call curl_multi_socket_action() and then reap
 * finished transfers.  libcurl must not be called from its own callbacks,
 * so a zero timeout arms a timer instead of acting at once, resuming a
 * paused transfer goes through a timer too, and a request cancelled from
 * inside one of its callbacks is only marked there and removed afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "portada/http.h"
#include "portada/log.h"
#include "curl_dl.h"

#define CONNECT_TIMEOUT_MS	10000L	/* a host that does not answer: retried by the caller */

struct pw_http {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	int			 running;
	TAILQ_HEAD(, pw_http_req) reqs;	/* in flight (curl 7.88 cannot list them) */
};

struct sock {
	struct event	*ev;
};

struct pw_http_req {
	TAILQ_ENTRY(pw_http_req) link;
	struct pw_http		*h;
	CURL			*easy;
	struct curl_slist	*headers;
	struct pw_http_events	 ev;
	void			*arg;
	const struct pw_http_body *stream;
	char			*body;		/* a copy of an in-memory body */
	size_t			 body_len, body_off;
	struct event		*resume_ev;
	int			 in_callback;
	int			 resuming;	/* inside curl_easy_pause(), which may call back */
	int			 cancelled;
	char			 errbuf[CURL_ERROR_SIZE];
};

static void reap(struct pw_http *h);

/* ---- the multi handle on libevent ---- */

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct pw_http *h = arg;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(h->multi, fd, action, &h->running);
	reap(h);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct pw_http *h = userp;
	struct sock *so = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (so != NULL) {
			event_free(so->ev);
			free(so);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (so == NULL) {
		so = pw_xcalloc(1, sizeof *so);
		so->ev = event_new(h->base, s, kind, on_socket_event, h);
		if (so->ev == NULL)
			pw_fatal("cannot create an event for an HTTP socket");
		curl_multi_assign(h->multi, s, so);
	} else {
		event_del(so->ev);
		event_assign(so->ev, h->base, s, kind, on_socket_event, h);
	}
	event_add(so->ev, NULL);
	return 0;
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pw_http *h = arg;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
	reap(h);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct pw_http *h = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	/* 0 means "soon", from the loop: never call curl from here. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

struct pw_http *
pw_http_create(struct event_base *base, unsigned max_connections,
    unsigned max_host_connections, struct pw_error *err)
{
	struct pw_http *h;

	if (pw_curl_load(err) == -1)
		return NULL;
	h = pw_xcalloc(1, sizeof *h);
	TAILQ_INIT(&h->reqs);
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, on_timeout, h);
	if (h->multi == NULL || h->timer == NULL) {
		pw_error_set(err, "cannot create the HTTP client");
		pw_http_destroy(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_connections);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_host_connections);
	return h;
}

static void
req_free(struct pw_http_req *r)
{
	TAILQ_REMOVE(&r->h->reqs, r, link);
	if (r->easy != NULL) {
		curl_multi_remove_handle(r->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	if (r->resume_ev != NULL)
		event_free(r->resume_ev);
	free(r->body);
	free(r);
}

void
pw_http_destroy(struct pw_http *h)
{
	struct pw_http_req *r;

	if (h == NULL)
		return;
	while ((r = TAILQ_FIRST(&h->reqs)) != NULL)
		req_free(r);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
}

/* Finished transfers: their done() callbacks, then free them. */
static void
reap(struct pw_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct pw_http_req *r = NULL;
		struct pw_http_result res;
		CURLcode code;
		char *url = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		code = m->data.result;	/* copied before the handle goes */
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		memset(&res, 0, sizeof res);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
		if (code != CURLE_OK) {
			res.failed = 1;
			snprintf(res.error, sizeof res.error, "%.200s: %.250s", url != NULL ? url : "?",
			    r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(code));
		}
		curl_multi_remove_handle(h->multi, r->easy);
		if (!r->cancelled)
			r->ev.done(r->arg, &res);
		req_free(r);
	}
}

long
pw_http_status(const struct pw_http_req *r)
{
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* ---- one request ---- */

static size_t
write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct pw_http_req *r = userp;
	int rc;

	if (r->cancelled)
		return 0;
	if (r->ev.data == NULL)
		return size * n;
	r->in_callback = 1;
	rc = r->ev.data(r->arg, p, size * n);
	r->in_callback = 0;
	if (r->cancelled || rc == -1)
		return 0;	/* curl fails the transfer with CURLE_WRITE_ERROR */
	if (rc == PW_HTTP_PAUSE)
		return CURL_WRITEFUNC_PAUSE;
	return size * n;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *userp)
{
	struct pw_http_req *r = userp;
	size_t len = size * n, k, v, e;

	if (r->cancelled)
		return 0;
	if (r->ev.header == NULL)
		return len;
	for (k = 0; k < len && p[k] != ':'; k++)
		;
	if (k == 0 || k == len)
		return len;	/* the status line or the blank line */
	for (v = k + 1; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	for (e = len; e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '); e--)
		;
	r->in_callback = 1;
	r->ev.header(r->arg, p, k, p + v, e - v);
	r->in_callback = 0;
	return r->cancelled ? 0 : len;
}

static size_t
read_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct pw_http_req *r = userp;
	size_t want = size * n;
	ssize_t got;

	if (r->cancelled)
		return CURL_READFUNC_ABORT;
	if (r->stream == NULL) {
		size_t left = r->body_len - r->body_off;

		if (want > left)
			want = left;
		memcpy(buf, r->body + r->body_off, want);
		r->body_off += want;
		return want;
	}
	r->in_callback = 1;
	got = r->stream->read(r->arg, buf, want);
	r->in_callback = 0;
	if (r->cancelled || got == -1)
		return CURL_READFUNC_ABORT;
	if (got == PW_HTTP_PAUSE)
		return CURL_READFUNC_PAUSE;
	return (size_t)got;
}

static int
seek_cb(void *userp, curl_off_t offset, int origin)
{
	struct pw_http_req *r = userp;
	int rc;

	if (origin != SEEK_SET || offset != 0)
		return CURL_SEEKFUNC_CANTSEEK;
	if (r->stream == NULL) {
		r->body_off = 0;
		return CURL_SEEKFUNC_OK;
	}
	if (r->stream->rewind == NULL)
		return CURL_SEEKFUNC_CANTSEEK;
	r->in_callback = 1;
	rc = r->stream->rewind(r->arg);
	r->in_callback = 0;
	return rc == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

/*
 * Unpausing delivers the held data from inside curl_easy_pause().  If a
 * callback then refuses it, curl 7.88 returns the error without arming the
 * transfer's socket or timer again, so it would never finish: end it here.
 */
static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct pw_http_req *r = arg;
	struct pw_http *h = r->h;
	CURLcode code;

	(void)fd;
	(void)what;
	r->resuming = 1;
	code = curl_easy_pause(r->easy, CURLPAUSE_CONT);
	r->resuming = 0;
	if (r->cancelled) {
		req_free(r);		/* curl is off the stack now */
	} else if (code != CURLE_OK) {
		struct pw_http_result res;
		char *url = NULL;

		memset(&res, 0, sizeof res);
		res.failed = 1;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
		snprintf(res.error, sizeof res.error, "%.200s: %.250s", url != NULL ? url : "?",
		    r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(code));
		curl_multi_remove_handle(h->multi, r->easy);
		r->ev.done(r->arg, &res);
		req_free(r);
	}
	reap(h);
}

struct pw_http_req *
pw_http_start(struct pw_http *h, const struct pw_http_opts *o, const struct pw_http_events *ev,
    void *arg, struct pw_error *err)
{
	struct pw_http_req *r = pw_xcalloc(1, sizeof *r);
	int has_body = o->body != NULL || o->stream != NULL;
	long long len = o->stream != NULL ? o->stream_len : (long long)o->body_len;
	CURL *e;

	r->h = h;
	TAILQ_INSERT_TAIL(&h->reqs, r, link);
	r->ev = *ev;
	r->arg = arg;
	r->stream = o->stream;
	r->easy = e = curl_easy_init();
	r->resume_ev = evtimer_new(h->base, on_resume, r);
	if (e == NULL || r->resume_ev == NULL) {
		pw_error_set(err, "cannot create an HTTP request");
		req_free(r);
		return NULL;
	}
	if (o->body != NULL) {
		r->body = pw_xmalloc(o->body_len > 0 ? o->body_len : 1);
		memcpy(r->body, o->body, o->body_len);
		r->body_len = o->body_len;
	}
	for (const char *const *p = o->headers; p != NULL && *p != NULL; p++)
		r->headers = curl_slist_append(r->headers, *p);
	/* S3 answers 100-continue, but waiting for it costs a round trip per PUT. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	if (r->headers == NULL)
		pw_fatal("out of memory for HTTP headers");

	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* HTTP/1.1: a paused HTTP/2 stream may go on buffering in 7.88. */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	/* The path as signed: curl would otherwise squash "/../" in S3 keys. */
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	if (o->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->stall_ms > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (o->stall_ms + 999) / 1000);
	}
	if (strcmp(o->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (has_body) {
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		if (strcmp(o->method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POST, 1L);
			if (len >= 0)
				curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		} else {
			curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
			if (len >= 0)
				curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
			if (strcmp(o->method, "PUT") != 0)
				curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
		}
	} else if (strcmp(o->method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
		if (strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0) {
			/* An empty body, said so: S3 wants Content-Length: 0. */
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
		}
	}
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		pw_error_set(err, "cannot start an HTTP request to %s", o->url);
		curl_easy_cleanup(e);
		r->easy = NULL;
		req_free(r);
		return NULL;
	}
	return r;
}

void
pw_http_resume(struct pw_http_req *r)
{
	static const struct timeval now = { 0, 0 };

	evtimer_add(r->resume_ev, &now);
}

void
pw_http_cancel(struct pw_http_req *r)
{
	if (r->in_callback || r->resuming) {
		/* curl is on the stack: the callback's return aborts, reap or
		 * on_resume frees. */
		r->cancelled = 1;
		return;
	}
	req_free(r);
}
