/*
 * http: HTTP requests over one libcurl multi handle, driven by the
 * worker's libevent loop (curl's socket and timer callbacks become libevent
 * events), so any number of transfers share the one thread and never block
 * it.  Bodies stream both ways through callbacks that may pause; nothing
 * here holds a whole body.  Retrying is the caller's business (S3 needs a
 * fresh signature for every attempt).
 */
#ifndef PORTADA_HTTP_H
#define PORTADA_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include <event2/event.h>

#include "portada/error.h"

/* From a body or data callback: stop until pw_http_resume(). */
#define PW_HTTP_PAUSE	(-2)

struct pw_http;
struct pw_http_req;

struct pw_http_result {
	long		 status;	/* HTTP status, 0 if none came */
	int		 failed;	/* transport failure: no complete response */
	char		 error[512];	/* what failed, with the URL: for logs */
};

struct pw_http_events {
	/* One response header (status line excluded); may be NULL. */
	void	(*header)(void *arg, const char *name, size_t name_len, const char *value,
		    size_t value_len);
	/* Response body bytes; return 0, PW_HTTP_PAUSE (the same bytes come
	 * again after pw_http_resume()) or -1 to abort.  May be NULL. */
	int	(*data)(void *arg, const char *p, size_t n);
	/* The end, always exactly once unless cancelled; the request is freed after. */
	void	(*done)(void *arg, const struct pw_http_result *res);
};

/* A streaming request body. */
struct pw_http_body {
	/* Fill up to n bytes; return the count, 0 at the end, PW_HTTP_PAUSE or -1. */
	ssize_t	(*read)(void *arg, char *buf, size_t n);
	/* Start again from the first byte (curl resends on a dead keep-alive
	 * connection); -1 if impossible, which fails the transfer. */
	int	(*rewind)(void *arg);
};

struct pw_http_opts {
	const char			*method;	/* GET, HEAD, PUT, POST, DELETE */
	const char			*url;
	const char *const		*headers;	/* "Name: value", NULL-terminated, or NULL */
	const void			*body;		/* a body in memory (copied), or */
	size_t				 body_len;
	const struct pw_http_body	*stream;	/* a streamed body of stream_len bytes */
	long long			 stream_len;	/* -1: unknown (chunked) */
	long				 timeout_ms;	/* whole transfer; 0: none */
	long				 stall_ms;	/* abort after this long without a byte; 0: none */
};

/* The first call loads libcurl (src/curl_dl.h): NULL with err naming it if
 * it is missing or older than 7.68. */
struct pw_http *pw_http_create(struct event_base *base, unsigned max_connections,
    unsigned max_host_connections, struct pw_error *err);
/* Cancels what is in flight (no done callbacks). */
void pw_http_destroy(struct pw_http *h);

/* Start a request; done() comes from the event loop, never from here. */
struct pw_http_req *pw_http_start(struct pw_http *h, const struct pw_http_opts *o,
    const struct pw_http_events *ev, void *arg, struct pw_error *err);
/* The response's status, once its headers came (from data(), say); 0 before. */
long pw_http_status(const struct pw_http_req *r);
/* Go on after a PW_HTTP_PAUSE from a body or data callback. */
void pw_http_resume(struct pw_http_req *r);
/* Stop and free without calling done(). */
void pw_http_cancel(struct pw_http_req *r);

#endif
