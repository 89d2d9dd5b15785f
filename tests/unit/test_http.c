/*
 * Tests for src/http.c against a real HTTP server in the same process
 * (libevent's evhttp on 127.0.0.1, an ephemeral port), on one event loop:
 * streamed downloads and uploads with pauses, many requests over a capped
 * number of connections, response headers, a refused connection, a stalled
 * server, cancelling from inside a callback.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "portada/http.h"

static struct event_base *base;
static struct evhttp *srv;
static int port;
static struct evhttp_request *stalled;	/* /stall: never answered */

static unsigned char
byte_at(size_t i)
{
	return (unsigned char)(i * 31 + (i >> 8));
}

/* /bytes/<n>: n bytes of byte_at(); /echo: the body's length and a sum;
 * /status/<code>; /stall; HEAD /etag. */
static void
handle(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (strncmp(uri, "/bytes/", 7) == 0) {
		size_t n = strtoul(uri + 7, NULL, 10);

		for (size_t i = 0; i < n; i++) {
			unsigned char c = byte_at(i);

			evbuffer_add(out, &c, 1);
		}
		evhttp_send_reply(req, 200, "OK", out);
	} else if (strcmp(uri, "/echo") == 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		unsigned char *p = evbuffer_pullup(in, -1);
		unsigned long sum = 0;

		for (size_t i = 0; i < n; i++)
			sum = sum * 31 + p[i];
		evbuffer_add_printf(out, "%s %zu %lu", evhttp_request_get_command(req) ==
		    EVHTTP_REQ_PUT ? "PUT" : evhttp_request_get_command(req) == EVHTTP_REQ_POST ?
		    "POST" : "OTHER", n, sum);
		evhttp_send_reply(req, 200, "OK", out);
	} else if (strncmp(uri, "/status/", 8) == 0) {
		evhttp_send_reply(req, atoi(uri + 8), "Status", out);
	} else if (strcmp(uri, "/etag") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "ETag", "\"abc123\"");
		evhttp_send_reply(req, 200, "OK", out);
	} else if (strcmp(uri, "/stall") == 0) {
		stalled = req;
	} else {
		evhttp_send_reply(req, 404, "Not Found", out);
	}
	evbuffer_free(out);
}

static void
setup(void)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof ss;

	base = event_base_new();
	srv = evhttp_new(base);
	evhttp_set_allowed_methods(srv, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(srv, handle, NULL);
	bs = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	stalled = NULL;
}

static void
teardown(void)
{
	evhttp_free(srv);
	event_base_free(base);
}

static const char *
url(const char *path)
{
	static char buf[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "http://127.0.0.1:%d%s", port, path);
	return buf[i];
}

struct result {
	struct pw_http_req *req;
	int done;
	struct pw_http_result res;
	size_t got;
	int bad_byte;		/* a byte that was not byte_at() */
	char body[256];
	char etag[64];
	int pause_every;	/* data: pause on every n-th call */
	int calls;
	int cancel_at;		/* data: cancel on this call */
	int refuse_after_pause;	/* data: refuse the chunk that comes again */
	int paused;
	/* a streamed upload */
	size_t up_len, up_off;
	int up_calls;
};

static void
on_done(void *arg, const struct pw_http_result *res)
{
	struct result *r = arg;

	r->done++;
	r->res = *res;
	if (r->done == 1)
		event_base_loopbreak(base);
}

static void
resume_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pw_http_resume(((struct result *)arg)->req);
}

static void
later(struct result *r)
{
	struct timeval tv = { 0, 2000 };

	event_base_once(base, -1, EV_TIMEOUT, resume_later, r, &tv);
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct result *r = arg;

	r->calls++;
	if (r->refuse_after_pause && r->paused)
		return -1;
	if (r->refuse_after_pause && r->calls == 1) {
		struct timeval tv = { 0, 500000 };	/* long enough for curl to drop the socket */

		r->paused = 1;
		event_base_once(base, -1, EV_TIMEOUT, resume_later, r, &tv);
		return PW_HTTP_PAUSE;
	}
	if (r->cancel_at != 0 && r->calls == r->cancel_at) {
		pw_http_cancel(r->req);
		event_base_loopbreak(base);
		return 0;
	}
	if (r->pause_every != 0 && r->calls % r->pause_every == 0) {
		later(r);
		return PW_HTTP_PAUSE;	/* the same bytes come again */
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)p[i] != byte_at(r->got + i))
			r->bad_byte = 1;
		if (r->got + i < sizeof r->body - 1)
			r->body[r->got + i] = p[i];
	}
	r->got += n;
	return 0;
}

static void
on_header(void *arg, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct result *r = arg;

	if (nlen == 4 && strncasecmp(name, "etag", 4) == 0)
		snprintf(r->etag, sizeof r->etag, "%.*s", (int)vlen, value);
}

static const struct pw_http_events events = { on_header, on_data, on_done };

static void
run_until_done(struct result *r, int n)
{
	while (r->done < n)
		ck_assert_int_eq(event_base_dispatch(base), 0);
}

START_TEST(download_streamed_with_pauses)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 8, 4, &err);
	struct result r = { .pause_every = 3 };
	struct pw_http_opts o = { .method = "GET", .url = url("/bytes/3000000") };

	r.req = pw_http_start(h, &o, &events, &r, &err);
	ck_assert_ptr_nonnull(r.req);
	run_until_done(&r, 1);
	ck_assert_msg(!r.res.failed, "%s", r.res.error);
	ck_assert_int_eq(r.res.status, 200);
	ck_assert_uint_eq(r.got, 3000000);
	ck_assert(!r.bad_byte);
	ck_assert_int_ge(r.calls, 10);
	pw_http_destroy(h);
}
END_TEST

/*
 * A chunk refused when it comes again after a pause (a reader that found
 * it malformed) ends the transfer with one failure.  (With Python's
 * http.server, curl 7.88 then returned the error from curl_easy_pause()
 * and never finished the transfer, which on_resume now handles; against
 * this evhttp server curl finishes it by itself, so this checks the
 * outcome, not that hang.)
 */
START_TEST(refused_after_pause_ends)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 8, 4, &err);
	struct result r = { .refuse_after_pause = 1 };
	struct pw_http_opts o = { .method = "GET", .url = url("/bytes/3000000") };

	r.req = pw_http_start(h, &o, &events, &r, &err);
	ck_assert_ptr_nonnull(r.req);
	run_until_done(&r, 1);
	ck_assert(r.res.failed);
	ck_assert_int_eq(r.done, 1);
	ck_assert_uint_lt(r.got, 3000000);
	pw_http_destroy(h);
}
END_TEST

static ssize_t
up_read(void *arg, char *buf, size_t n)
{
	struct result *r = arg;
	size_t left = r->up_len - r->up_off;

	if (++r->up_calls % 4 == 0) {
		later(r);
		return PW_HTTP_PAUSE;
	}
	if (n > left)
		n = left;
	if (n > 10000)
		n = 10000;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)byte_at(r->up_off + i);
	r->up_off += n;
	return (ssize_t)n;
}

static int
up_rewind(void *arg)
{
	((struct result *)arg)->up_off = 0;
	return 0;
}

static const struct pw_http_body up_body = { up_read, up_rewind };

/* The echo's answer, as text. */
static int
on_text(void *arg, const char *p, size_t n)
{
	struct result *r = arg;

	for (size_t i = 0; i < n && r->got < sizeof r->body - 1; i++)
		r->body[r->got++] = p[i];
	return 0;
}

static const struct pw_http_events text_events = { NULL, on_text, on_done };

static unsigned long
expected_sum(size_t n)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = sum * 31 + byte_at(i);
	return sum;
}

START_TEST(upload_streamed_with_pauses)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 8, 4, &err);
	struct result r = { .up_len = 2500000 };
	struct pw_http_opts o = { .method = "PUT", .url = url("/echo"), .stream = &up_body,
	    .stream_len = 2500000 };
	char want[128];

	r.req = pw_http_start(h, &o, &text_events, &r, &err);
	ck_assert_ptr_nonnull(r.req);
	run_until_done(&r, 1);
	ck_assert_msg(!r.res.failed, "%s", r.res.error);
	ck_assert_int_eq(r.res.status, 200);
	ck_assert_uint_eq(r.up_off, 2500000);
	ck_assert_int_ge(r.up_calls, 8);
	snprintf(want, sizeof want, "PUT 2500000 %lu", expected_sum(2500000));
	ck_assert_str_eq(r.body, want);
	pw_http_destroy(h);

	/* The echo's text, through a memory body (POST) this time. */
	h = pw_http_create(base, 8, 4, &err);
	memset(&r, 0, sizeof r);
	{
		char *body = malloc(100000);

		for (size_t i = 0; i < 100000; i++)
			body[i] = (char)byte_at(i);
		o = (struct pw_http_opts){ .method = "POST", .url = url("/echo"), .body = body,
		    .body_len = 100000 };
		r.req = pw_http_start(h, &o, &text_events, &r, &err);
		memset(body, 0, 100000);	/* the request holds its own copy */
		free(body);
	}
	run_until_done(&r, 1);
	ck_assert_int_eq(r.res.status, 200);
	pw_http_destroy(h);
	snprintf(want, sizeof want, "POST 100000 %lu", expected_sum(100000));
	ck_assert_str_eq(r.body, want);
}
END_TEST

struct many {
	int done, ok;
};

static void
many_done(void *arg, const struct pw_http_result *res)
{
	struct many *m = arg;

	m->done++;
	m->ok += !res->failed && res->status == 200;
	if (m->done == 200)
		event_base_loopbreak(base);
}

START_TEST(many_requests_few_connections)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 4, 2, &err);
	struct many m = { 0, 0 };
	static const struct pw_http_events ev = { NULL, NULL, many_done };

	for (int i = 0; i < 200; i++) {
		struct pw_http_opts o = { .method = i % 2 ? "GET" : "HEAD",
		    .url = url(i % 2 ? "/bytes/5000" : "/etag") };

		ck_assert_ptr_nonnull(pw_http_start(h, &o, &ev, &m, &err));
	}
	while (m.done < 200)
		event_base_dispatch(base);
	ck_assert_int_eq(m.ok, 200);
	pw_http_destroy(h);
}
END_TEST

START_TEST(headers_statuses_and_failures)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 8, 4, &err);
	struct result r = { 0 };
	struct pw_http_opts o = { .method = "HEAD", .url = url("/etag") };
	evutil_socket_t fd;
	struct sockaddr_in sin;
	ev_socklen_t len = sizeof sin;
	char refused[64];

	r.req = pw_http_start(h, &o, &events, &r, &err);
	run_until_done(&r, 1);
	ck_assert_int_eq(r.res.status, 200);
	ck_assert_str_eq(r.etag, "\"abc123\"");

	memset(&r, 0, sizeof r);
	o = (struct pw_http_opts){ .method = "DELETE", .url = url("/status/503") };
	r.req = pw_http_start(h, &o, &events, &r, &err);
	run_until_done(&r, 1);
	ck_assert(!r.res.failed);
	ck_assert_int_eq(r.res.status, 503);

	/* A port nobody listens on: bind one, note it, close it. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	evutil_closesocket(fd);
	snprintf(refused, sizeof refused, "http://127.0.0.1:%d/x", ntohs(sin.sin_port));
	memset(&r, 0, sizeof r);
	o = (struct pw_http_opts){ .method = "GET", .url = refused };
	r.req = pw_http_start(h, &o, &events, &r, &err);
	run_until_done(&r, 1);
	ck_assert(r.res.failed);
	ck_assert_int_eq(r.res.status, 0);
	ck_assert_msg(strstr(r.res.error, refused) != NULL, "%s", r.res.error);

	/* A server that never answers: the stall limit ends it. */
	memset(&r, 0, sizeof r);
	o = (struct pw_http_opts){ .method = "GET", .url = url("/stall"), .timeout_ms = 300 };
	r.req = pw_http_start(h, &o, &events, &r, &err);
	run_until_done(&r, 1);
	ck_assert(r.res.failed);
	ck_assert_msg(strstr(r.res.error, "imeout") != NULL || strstr(r.res.error, "timed out")
	    != NULL, "%s", r.res.error);
	pw_http_destroy(h);
}
END_TEST

START_TEST(cancel_inside_and_outside)
{
	struct pw_error err;
	struct pw_http *h = pw_http_create(base, 8, 4, &err);
	struct result r = { .cancel_at = 2 };
	struct pw_http_opts o = { .method = "GET", .url = url("/bytes/2000000") };
	struct timeval tv = { 0, 200000 };

	r.req = pw_http_start(h, &o, &events, &r, &err);
	event_base_dispatch(base);	/* broken by on_data's cancel */
	/* Let curl notice; no done() may come. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	ck_assert_int_eq(r.done, 0);

	/* Cancelled before it ran, and one left in flight for destroy. */
	memset(&r, 0, sizeof r);
	r.req = pw_http_start(h, &o, &events, &r, &err);
	pw_http_cancel(r.req);
	r.req = pw_http_start(h, &o, &events, &r, &err);
	pw_http_destroy(h);
	ck_assert_int_eq(r.done, 0);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, download_streamed_with_pauses);
	tcase_add_test(tc, refused_after_pause_ends);
	tcase_add_test(tc, upload_streamed_with_pauses);
	tcase_add_test(tc, many_requests_few_connections);
	tcase_add_test(tc, headers_statuses_and_failures);
	tcase_add_test(tc, cancel_inside_and_outside);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
