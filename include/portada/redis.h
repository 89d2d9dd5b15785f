/*
 * redis: one hiredis async connection that keeps itself alive.
 *
 * hiredis 0.14.1 has no connect or command timeouts and frees its context
 * on every disconnect; this wrapper adds both timeouts, reconnects with
 * capped, jittered backoff, runs the handshake (AUTH, SELECT, CLIENT
 * SETNAME) and logs each change of state once.  The worker opens two: one
 * for the blocking pop, one for everything else.
 */
#ifndef PORTADA_REDIS_H
#define PORTADA_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <hiredis.h>

#include "portada/config.h"

struct pw_redis;

struct pw_redis_events {
	void (*ready)(struct pw_redis *r, void *arg);	/* connected, handshake done */
	void (*down)(struct pw_redis *r, void *arg);	/* lost; replies already failed */
};

/*
 * A reply callback.  reply is NULL when the connection was lost or closed
 * before the reply came: the command may or may not have run.  The reply is
 * borrowed: copy what you keep.
 */
typedef void (*pw_redis_reply_fn)(struct pw_redis *r, redisReply *reply, void *arg);

struct pw_redis *pw_redis_create(struct event_base *base, const struct pw_config *cfg,
    const char *role, const struct pw_redis_events *events, void *arg);
void pw_redis_destroy(struct pw_redis *r);	/* NULL is a no-op; pending replies get NULL */

void pw_redis_start(struct pw_redis *r);
bool pw_redis_ready(const struct pw_redis *r);
/* How often the connection came back after it had been ready. */
unsigned long pw_redis_reconnects(const struct pw_redis *r);
unsigned pw_redis_pending(const struct pw_redis *r);

/* The server's id for this connection (for CLIENT UNBLOCK), or -1. */
long long pw_redis_client_id(const struct pw_redis *r);

/*
 * Send one command.  extra_wait is added to the command timeout (a blocking
 * pop waits that long by design).  Returns -1, without calling fn, if the
 * connection is not ready.
 */
int pw_redis_command(struct pw_redis *r, pw_redis_reply_fn fn, void *arg,
    double extra_wait, int argc, const char **argv, const size_t *argvlen)
    PW_MUST_CHECK;

/* Drop the connection (pending replies get NULL) and reconnect. */
void pw_redis_reset(struct pw_redis *r);

/* Drop the connection for good; pending replies get NULL. */
void pw_redis_close(struct pw_redis *r);

#endif
