/*
 * redis: a hiredis 0.14.1 async connection with the timeouts, reconnects and
 * handshake that version lacks.
 *
 * States: IDLE (waiting out a backoff) -> CONNECTING (connect timer armed) ->
 * HANDSHAKE (AUTH/SELECT/SETNAME sent) -> READY.  Any failure goes back to
 * IDLE with the next backoff; CLOSED is final.  Every command carries a
 * deadline; a watchdog drops the connection when the oldest one passes,
 * because replies arrive in order and a late head means a stuck peer.
 *
 * A script is sent whole (EVAL) the first time on a connection and by its
 * SHA1 (EVALSHA) after that: the body was most of the bytes of every status
 * write, and Redis hashed it again at every call.  The EVAL is pipelined
 * before any EVALSHA that relies on it; a new connection starts over, and a
 * NOSCRIPT answer (SCRIPT FLUSH) makes the next call an EVAL again, so the
 * caller's usual retry of an error reply heals it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <async.h>
#include <adapters/libevent.h>

#include "portada/backoff.h"
#include "portada/log.h"
#include "portada/redis.h"
#include "portada/sha1.h"

#define BACKOFF_FIRST 0.1	/* seconds */
#define BACKOFF_MAX 5.0
#define WATCHDOG_PERIOD 0.25
#define SCRIPTS_MAX 16		/* distinct scripts sent by SHA1; more go whole */
#define ARGV_STACK 32

enum conn_state {
	CONN_IDLE,
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_READY,
	CONN_CLOSED,
};

struct pending {
	TAILQ_ENTRY(pending) link;
	struct pw_redis *r;
	pw_redis_reply_fn fn;
	void *arg;
	double deadline;
};

TAILQ_HEAD(pending_list, pending);

/* A script body this connection knows by its SHA1. */
struct script {
	char *body;		/* a copy: a caller's buffer may change */
	size_t len;
	char sha[41];
	bool loaded;		/* sent whole on this connection */
};

struct pw_redis {
	struct event_base *base;
	const struct pw_config *cfg;
	char role[16];
	char name[192];			/* CLIENT SETNAME value */
	char display[300];		/* address for logs, password hidden */
	struct pw_redis_events events;
	void *arg;

	enum conn_state state;
	redisAsyncContext *ac;
	struct pending_list pending;
	unsigned n_pending;
	unsigned attempts;		/* failed connects since the last READY */
	bool was_ready;			/* logged up since the last "down" line */
	unsigned long reconnects;	/* ready again after being ready */
	bool down_logged;
	int dispatching;		/* inside one of our callbacks */
	bool drop_wanted;
	bool announced;			/* ready() was called, down() is owed */
	long long client_id;		/* CLIENT ID of this connection, or -1 */
	struct script scripts[SCRIPTS_MAX];
	unsigned n_scripts;

	struct event *retry_ev;		/* backoff, then connect */
	struct event *connect_ev;	/* connect timeout */
	struct event *watchdog_ev;
	struct event *drop_ev;		/* deferred drop, outside hiredis callbacks */
};

static void conn_connect(struct pw_redis *r);
static void forget_scripts(struct pw_redis *r);
static void conn_failed(struct pw_redis *r, const char *why);
static void arm_watchdog(struct pw_redis *r);

static double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* One warning per outage; the attempts in between are debug lines. */
static void
log_down(struct pw_redis *r, const char *why)
{
	if (!r->down_logged) {
		log_warn(NULL, "redis-down", "%s connection to %s: %s; retrying with "
		    "backoff up to %.0fs", r->role, r->display, why, BACKOFF_MAX);
		r->down_logged = true;
	} else
		log_debug(NULL, "redis-retry", "%s connection to %s: %s", r->role,
		    r->display, why);
}

static void
schedule_retry(struct pw_redis *r)
{
	struct timeval tv;

	if (r->state == CONN_CLOSED)
		return;
	r->state = CONN_IDLE;
	/* Jittered: spread the reconnects of many workers. */
	tv = pw_timeval(pw_backoff(BACKOFF_FIRST, BACKOFF_MAX, r->attempts));
	r->attempts++;
	evtimer_add(r->retry_ev, &tv);
}

/* Called whenever the connection is gone, by whatever path. */
static void
conn_gone(struct pw_redis *r, const char *why)
{
	bool notify = r->announced;

	r->ac = NULL;
	r->announced = false;
	evtimer_del(r->connect_ev);
	evtimer_del(r->watchdog_ev);
	if (r->state != CONN_CLOSED) {
		log_down(r, why);
		schedule_retry(r);
	}
	if (notify && r->events.down != NULL) {
		r->dispatching++;
		r->events.down(r, r->arg);
		r->dispatching--;
	}
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct pending *p = privdata;
	struct pw_redis *r = p->r;

	(void)ac;
	TAILQ_REMOVE(&r->pending, p, link);
	r->n_pending--;
	if (reply != NULL && ((redisReply *)reply)->type == REDIS_REPLY_ERROR &&
	    strncmp(((redisReply *)reply)->str, "NOSCRIPT", 8) == 0)
		forget_scripts(r);
	if (reply == NULL && r->state == CONN_READY)
		r->state = CONN_HANDSHAKE;	/* going away: refuse new commands */
	r->dispatching++;
	p->fn(r, reply, p->arg);
	r->dispatching--;
	free(p);
}

/* The server may have lost every script (a new connection, SCRIPT FLUSH). */
static void
forget_scripts(struct pw_redis *r)
{
	unsigned i;

	for (i = 0; i < r->n_scripts; i++)
		r->scripts[i].loaded = false;
}

/* The script entry for body, added if there is room; NULL if there is none. */
static struct script *
find_script(struct pw_redis *r, const char *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[PW_SHA1_SIZE];
	unsigned i;
	struct script *sc;

	for (i = 0; i < r->n_scripts; i++) {
		sc = &r->scripts[i];
		if (sc->len == len && memcmp(sc->body, body, len) == 0)
			return sc;
	}
	if (r->n_scripts == SCRIPTS_MAX)
		return NULL;
	pw_sha1(body, len, md);	/* Redis names a script by the SHA-1 of its body */
	sc = &r->scripts[r->n_scripts++];
	sc->body = pw_xmalloc(len + 1);
	memcpy(sc->body, body, len);
	sc->body[len] = '\0';
	sc->len = len;
	for (i = 0; i < 20; i++) {
		sc->sha[2 * i] = hex[md[i] >> 4];
		sc->sha[2 * i + 1] = hex[md[i] & 15];
	}
	sc->sha[40] = '\0';
	sc->loaded = false;
	return sc;
}

/*
 * EVAL <body> ... becomes EVALSHA <sha1> ... once the body was sent whole
 * on this connection.  *argv and *argvlen are replaced by copies in
 * argv_buf/len_buf (or heap copies the caller frees when they differ).
 */
static void
script_by_sha(struct pw_redis *r, int argc, const char ***argv, const size_t **argvlen,
    const char **argv_buf, size_t *len_buf, const char ***heap_argv, size_t **heap_len)
{
	const char **av;
	size_t *al, body_len;
	struct script *sc;
	int i;

	*heap_argv = NULL;
	*heap_len = NULL;
	if (argc < 3 || strcmp((*argv)[0], "EVAL") != 0)
		return;
	body_len = *argvlen != NULL ? (*argvlen)[1] : strlen((*argv)[1]);
	sc = find_script(r, (*argv)[1], body_len);
	if (sc == NULL)
		return;
	if (!sc->loaded) {
		sc->loaded = true;	/* this EVAL loads it before what follows */
		return;
	}
	if (argc <= ARGV_STACK) {
		av = argv_buf;
		al = len_buf;
	} else {
		av = *heap_argv = pw_xcalloc((size_t)argc, sizeof *av);
		al = *heap_len = pw_xcalloc((size_t)argc, sizeof *al);
	}
	for (i = 0; i < argc; i++) {
		av[i] = (*argv)[i];
		al[i] = *argvlen != NULL ? (*argvlen)[i] : strlen((*argv)[i]);
	}
	av[0] = "EVALSHA";
	al[0] = 7;
	av[1] = sc->sha;
	al[1] = 40;
	*argv = av;
	*argvlen = al;
}

/* "*3\r\n$3\r\nSET..." into p: the digits of v, then "\r\n". */
static char *
put_len(char *p, char kind, size_t v)
{
	char digits[24];
	size_t n = 0;

	*p++ = kind;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = digits[--n];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/*
 * The command in RESP, in one allocation.  hiredis's own formatting grows
 * an sds argument by argument through sdscatfmt, which was a tenth of the
 * worker's instructions on small files (a status batch has thousands).
 */
static char *
format_command(int argc, const char **argv, const size_t *argvlen, size_t *len)
{
	size_t n = 24, i;
	char *buf, *p;

	for (i = 0; i < (size_t)argc; i++)
		n += 24 + 2 + (argvlen != NULL ? argvlen[i] : strlen(argv[i]));
	p = buf = pw_xmalloc(n);
	p = put_len(p, '*', (size_t)argc);
	for (i = 0; i < (size_t)argc; i++) {
		size_t an = argvlen != NULL ? argvlen[i] : strlen(argv[i]);

		p = put_len(p, '$', an);
		memcpy(p, argv[i], an);
		p += an;
		*p++ = '\r';
		*p++ = '\n';
	}
	*p = '\0';		/* hiredis peeks past the command name */
	*len = (size_t)(p - buf);
	return buf;
}

static int
send_command(struct pw_redis *r, pw_redis_reply_fn fn, void *arg, double extra_wait,
    int argc, const char **argv, const size_t *argvlen)
{
	const char *argv_buf[ARGV_STACK], **heap_argv;
	size_t len_buf[ARGV_STACK], *heap_len, cmdlen;
	struct pending *p = pw_xcalloc(1, sizeof *p);
	char *cmd;
	int rc;

	script_by_sha(r, argc, &argv, &argvlen, argv_buf, len_buf, &heap_argv, &heap_len);

	p->r = r;
	p->fn = fn;
	p->arg = arg;
	p->deadline = now_seconds() + r->cfg->command_timeout + extra_wait;
	TAILQ_INSERT_TAIL(&r->pending, p, link);
	r->n_pending++;
	cmd = format_command(argc, argv, argvlen, &cmdlen);
	rc = redisAsyncFormattedCommand(r->ac, on_reply, p, cmd, cmdlen);
	free(cmd);
	free(heap_argv);
	free(heap_len);
	if (rc != REDIS_OK) {
		TAILQ_REMOVE(&r->pending, p, link);
		r->n_pending--;
		free(p);
		return -1;
	}
	return 0;
}

int
pw_redis_command(struct pw_redis *r, pw_redis_reply_fn fn, void *arg,
    double extra_wait, int argc, const char **argv, const size_t *argvlen)
{
	if (r->state != CONN_READY || r->ac == NULL || r->drop_wanted)
		return -1;
	return send_command(r, fn, arg, extra_wait, argc, argv, argvlen);
}

static void
drop_now(struct pw_redis *r, const char *why)
{
	bool connected;

	r->drop_wanted = false;
	if (r->ac == NULL)
		return;
	/*
	 * Pending replies get NULL, then on_disconnect runs and calls
	 * conn_gone().  hiredis skips on_disconnect for a context that never
	 * connected, so that case is ours to finish.
	 */
	connected = (r->ac->c.flags & REDIS_CONNECTED) != 0;
	redisAsyncFree(r->ac);
	if (!connected)
		conn_gone(r, why);
}

static void
drop(struct pw_redis *r)
{
	if (r->dispatching > 0) {
		/* Never free the context from inside one of its own callbacks. */
		r->drop_wanted = true;
		event_active(r->drop_ev, EV_TIMEOUT, 0);
	} else
		drop_now(r, "closed by the worker");
}

static void
on_drop(evutil_socket_t fd, short what, void *arg)
{
	struct pw_redis *r = arg;

	(void)fd;
	(void)what;
	if (r->drop_wanted)
		drop_now(r, "closed by the worker");
}

static void
on_handshake_reply(struct pw_redis *r, redisReply *reply, void *arg)
{
	const char *step = arg;

	if (reply == NULL || r->drop_wanted)
		return;		/* conn_gone() follows; no READY after a failed step */
	if (reply->type == REDIS_REPLY_ERROR) {
		/* AUTH errors never echo the password; safe to log as is. */
		char why[300];

		snprintf(why, sizeof why, "%s failed: %.200s", step, reply->str);
		if (strcmp(step, "AUTH") == 0 || strcmp(step, "SELECT") == 0) {
			conn_failed(r, why);
			return;
		}
	}
	if (strcmp(step, "CLIENT ID") == 0)
		r->client_id = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
	if (strcmp(step, "CLIENT SETNAME") != 0 || r->state != CONN_HANDSHAKE)
		return;
	r->state = CONN_READY;
	r->attempts = 0;
	if (r->was_ready)
		r->reconnects++;
	if (r->down_logged || !r->was_ready)
		log_info(NULL, r->was_ready ? "redis-up" : "redis-connected",
		    "%s connection to %s", r->role, r->display);
	r->down_logged = false;
	r->was_ready = true;
	r->announced = true;
	if (r->events.ready != NULL) {
		r->dispatching++;
		r->events.ready(r, r->arg);
		r->dispatching--;
	}
}

static void
conn_failed(struct pw_redis *r, const char *why)
{
	log_down(r, why);
	drop(r);
}

static void
arm_watchdog(struct pw_redis *r)
{
	struct timeval tv = pw_timeval(WATCHDOG_PERIOD);

	evtimer_add(r->watchdog_ev, &tv);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct pw_redis *r = ac->data;
	const char *argv[4];
	char db[16];

	if (status != REDIS_OK) {
		/* hiredis frees the context after this returns; no disconnect callback. */
		conn_gone(r, ac->errstr[0] != '\0' ? ac->errstr : "connection refused");
		return;
	}
	evtimer_del(r->connect_ev);
	r->state = CONN_HANDSHAKE;
	forget_scripts(r);
	/* Pipelined: each fails on its own; READY comes with the last reply. */
	if (r->cfg->redis.password != NULL) {
		int n = 0;

		argv[n++] = "AUTH";
		if (r->cfg->redis.user != NULL)
			argv[n++] = r->cfg->redis.user;
		argv[n++] = r->cfg->redis.password;
		(void)send_command(r, on_handshake_reply, (void *)"AUTH", 0, n, argv, NULL);
	}
	if (r->cfg->redis.db != 0) {
		snprintf(db, sizeof db, "%d", r->cfg->redis.db);
		argv[0] = "SELECT";
		argv[1] = db;
		(void)send_command(r, on_handshake_reply, (void *)"SELECT", 0, 2, argv, NULL);
	}
	argv[0] = "CLIENT";
	argv[1] = "ID";
	(void)send_command(r, on_handshake_reply, (void *)"CLIENT ID", 0, 2, argv, NULL);
	argv[1] = "SETNAME";
	argv[2] = r->name;
	(void)send_command(r, on_handshake_reply, (void *)"CLIENT SETNAME", 0, 3, argv, NULL);
	arm_watchdog(r);
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct pw_redis *r = ac->data;

	conn_gone(r, status == REDIS_OK ? "closed by the worker" :
	    ac->errstr[0] != '\0' ? ac->errstr : "closed by the server");
}

static void
on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pw_redis *r = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof why, "no connection after %.1fs", r->cfg->connect_timeout);
	drop_now(r, why);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct pw_redis *r = arg;
	struct pending *head = TAILQ_FIRST(&r->pending);

	(void)fd;
	(void)what;
	if (head != NULL && now_seconds() > head->deadline) {
		char why[96];

		snprintf(why, sizeof why, "no reply within the %.1fs command timeout",
		    r->cfg->command_timeout);
		conn_failed(r, why);
		return;
	}
	if (r->ac != NULL)
		arm_watchdog(r);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_connect(arg);
}

static void
conn_connect(struct pw_redis *r)
{
	const struct pw_redis_addr *a = &r->cfg->redis;
	redisAsyncContext *ac;
	struct timeval tv;

	if (r->state == CONN_CLOSED)
		return;
	ac = a->path != NULL ? redisAsyncConnectUnix(a->path) :
	    redisAsyncConnect(a->host, a->port);
	if (ac == NULL)
		pw_fatal("out of memory creating a Redis context");
	if (ac->err != 0) {
		char why[160];

		snprintf(why, sizeof why, "%s", ac->errstr);
		redisAsyncFree(ac);
		r->state = CONN_CONNECTING;
		conn_gone(r, why);
		return;
	}
	ac->data = r;
	r->ac = ac;
	r->state = CONN_CONNECTING;
	redisLibeventAttach(ac, r->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	tv = pw_timeval(r->cfg->connect_timeout);
	evtimer_add(r->connect_ev, &tv);
}

struct pw_redis *
pw_redis_create(struct event_base *base, const struct pw_config *cfg,
    const char *role, const struct pw_redis_events *events, void *arg)
{
	struct pw_redis *r = pw_xcalloc(1, sizeof *r);

	r->base = base;
	r->cfg = cfg;
	snprintf(r->role, sizeof r->role, "%s", role);
	snprintf(r->name, sizeof r->name, "portada-worker:%s:%s", cfg->worker_id, role);
	pw_config_redis_display(&cfg->redis, r->display, sizeof r->display);
	if (events != NULL)
		r->events = *events;
	r->arg = arg;
	TAILQ_INIT(&r->pending);
	r->retry_ev = evtimer_new(base, on_retry, r);
	r->connect_ev = evtimer_new(base, on_connect_timeout, r);
	r->watchdog_ev = evtimer_new(base, on_watchdog, r);
	r->drop_ev = event_new(base, -1, 0, on_drop, r);
	if (r->retry_ev == NULL || r->connect_ev == NULL || r->watchdog_ev == NULL ||
	    r->drop_ev == NULL)
		pw_fatal("out of memory creating Redis timers");
	r->state = CONN_IDLE;
	return r;
}

void
pw_redis_start(struct pw_redis *r)
{
	conn_connect(r);
}

long long
pw_redis_client_id(const struct pw_redis *r)
{
	return pw_redis_ready(r) ? r->client_id : -1;
}

unsigned long
pw_redis_reconnects(const struct pw_redis *r)
{
	return r->reconnects;
}

bool
pw_redis_ready(const struct pw_redis *r)
{
	return r->state == CONN_READY && !r->drop_wanted;
}

unsigned
pw_redis_pending(const struct pw_redis *r)
{
	return r->n_pending;
}

void
pw_redis_reset(struct pw_redis *r)
{
	if (r->state == CONN_CLOSED)
		return;
	if (r->ac != NULL)
		drop(r);
}

void
pw_redis_close(struct pw_redis *r)
{
	r->state = CONN_CLOSED;
	evtimer_del(r->retry_ev);
	if (r->ac != NULL)
		drop(r);
}

void
pw_redis_destroy(struct pw_redis *r)
{
	unsigned i;

	if (r == NULL)
		return;
	r->state = CONN_CLOSED;
	r->events.down = NULL;
	if (r->ac != NULL)
		drop_now(r, "closed by the worker");
	event_free(r->retry_ev);
	event_free(r->connect_ev);
	event_free(r->watchdog_ev);
	event_free(r->drop_ev);
	for (i = 0; i < r->n_scripts; i++)
		free(r->scripts[i].body);
	free(r);
}
