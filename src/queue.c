/*
 * queue: taking ids from files:all and acknowledging them.
 *
 * The fetch connection runs one command at a time: a reconcile (LRANGE of
 * the processing list), a non-blocking batch (a Lua loop of LMOVE, or LPOP
 * with a count) or a blocking pop.  Batches fill many free slots in one round
 * trip while there is a backlog; the blocking pop is used only once a batch
 * came back short.  Reconcile replies are only trusted while no LREM is in
 * flight on the other connection, so a stale snapshot can never resurrect
 * an id that was just acknowledged.
 *
 * Acknowledgements asked for in one turn of the loop go out together, one
 * script of LREMs (a group commit finishes a thousand files at once); each
 * is still asked for only after its file's final status is written.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "portada/backoff.h"
#include "portada/fault.h"
#include "portada/log.h"
#include "portada/queue.h"
#include "portada/status.h"

#define BATCH_MAX 256
#define ACK_BATCH_MAX 1024	/* ids per acknowledging script */

/* Oldest first, so each LREM finds its id near the head of the list. */
static const char ack_script[] =
    "for i = 1, #ARGV do\n"
    "  redis.call('LREM', KEYS[1], 1, ARGV[i])\n"
    "end\n"
    "return #ARGV\n";

static const char batch_script[] =
    "local r = {}\n"
    "for i = 1, tonumber(ARGV[1]) do\n"
    "  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')\n"
    "  if not v then break end\n"
    "  r[#r + 1] = v\n"
    "end\n"
    "return r\n";

/*
 * Back to the head of the queue, newest first so the oldest ends at the
 * head.  Ids whose status is already final (their write raced the drain)
 * are finished: they only leave the processing list.  Only a status this
 * worker set to processing is reset to pending.  (The attempts of files
 * being read are taken back by their jobs as they are cancelled, job.c.)
 * ARGV: hash prefix, processing value or '', pending value, worker id,
 * done value, failed value[, ids oldest first (blpop mode)].
 */
#define REQUEUE_ONE \
    "  local k = ARGV[1] .. id\n" \
    "  local st = redis.call('HGET', k, 'status')\n" \
    "  if st ~= ARGV[5] and st ~= ARGV[6] then\n" \
    "    redis.call('LPUSH', KEYS[1], id)\n" \
    "    n = n + 1\n" \
    "    if ARGV[2] ~= '' and st == ARGV[2]\n" \
    "        and redis.call('HGET', k, 'worker') == ARGV[4] then\n" \
    "      redis.call('HSET', k, 'status', ARGV[3])\n" \
    "    end\n" \
    "  end\n"

static const char requeue_blmove_script[] =
    "local n = 0\n"
    "while true do\n"
    "  local id = redis.call('RPOP', KEYS[2])\n"
    "  if not id then break end\n"
    REQUEUE_ONE
    "end\n"
    "return n\n";

static const char requeue_blpop_script[] =
    "local n = 0\n"
    "for i = #ARGV, 7, -1 do\n"
    "  local id = ARGV[i]\n"
    REQUEUE_ONE
    "end\n"
    "return n\n";

enum fetch_kind {
	FETCH_NONE,
	FETCH_RECONCILE,
	FETCH_BATCH,
	FETCH_BLOCK,
};

struct deferred_ack {
	STAILQ_ENTRY(deferred_ack) link;
	const char *id;
	void (*fn)(void *, int);
	void *arg;
};

struct ack {
	struct pw_queue *q;
	size_t n;
	struct {
		const char *id;
		void (*fn)(void *, int);
		void *arg;
	} who[];
};

struct requeue {
	void (*fn)(void *, long long);
	void *arg;
};

struct pw_queue {
	struct event_base *base;
	const struct pw_config *cfg;
	struct pw_queue_events events;
	void *arg;
	char *processing_key;

	struct pw_redis *fetch;
	struct pw_redis *cmd;
	enum fetch_kind fetching;
	bool stopped;
	bool fetch_closed;
	unsigned fetch_errors;		/* error replies in a row */
	bool reconcile_wanted;
	bool queue_empty;		/* the last batch came back short */
	unsigned batch_asked;		/* ids the batch in flight asked for */
	unsigned long fetch_replies;	/* the watchdog's sign of progress */
	unsigned acks_inflight;
	STAILQ_HEAD(, deferred_ack) deferred;	/* acks not sent yet, in order */
	unsigned n_deferred;
	struct event *ack_ev;		/* sends the acks of this turn */
	struct event *reconcile_ev;	/* periodic */
	struct event *kick_ev;		/* fetch_next() outside callbacks */
	struct event *unblock_failed_ev;
	struct event *backoff_ev;	/* after an error reply */
};

static void fetch_next(struct pw_queue *q);
static void send_deferred_acks(struct pw_queue *q);
static void fetch_failed(struct pw_queue *q, const char *why);
static void on_kick(evutil_socket_t fd, short what, void *arg);
static void on_unblock_failed(evutil_socket_t fd, short what, void *arg);
static void on_ack_due(evutil_socket_t fd, short what, void *arg);

static bool
blmove_mode(const struct pw_queue *q)
{
	return q->cfg->fetch == PW_FETCH_BLMOVE;
}

static bool
valid_id(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING && e->len > 0 && e->len <= 1024 &&
	    memchr(e->str, '\0', e->len) == NULL;
}

static void
on_bad_id_dropped(struct pw_redis *r, redisReply *reply, void *arg)
{
	(void)r;
	(void)reply;
	(void)arg;
}

/*
 * An id no hash can have (empty, over 1 KiB, with a NUL): dropped from the
 * processing list, or it would come back at every reconcile and requeue.
 */
static void
drop_bad_id(struct pw_queue *q, const redisReply *e)
{
	const char *argv[] = { "LREM", q->processing_key, "0", e->str };
	size_t argvlen[] = { 4, strlen(q->processing_key), 1, e->len };

	log_warn(NULL, "bad-id", "dropped an id that is empty, longer than 1024 "
	    "bytes or not text (%zu bytes)", e->len);
	if (blmove_mode(q) && e->type == REDIS_REPLY_STRING &&
	    pw_redis_command(q->cmd, on_bad_id_dropped, NULL, 0, 4, argv, argvlen) != 0)
		log_debug(NULL, "bad-id", "not dropped yet: the next reconcile tries again");
}

static void
take_string(struct pw_queue *q, const redisReply *e, bool recovered)
{
	char *id;

	if (!valid_id(e)) {
		drop_bad_id(q, e);
		return;
	}
	id = pw_xstrndup(e->str, e->len);
	q->events.take(q->arg, id, recovered);
	free(id);
}

static void
on_reconcile(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_queue *q = arg;
	unsigned adopted = 0;
	size_t i;

	(void)r;
	q->fetching = FETCH_NONE;
	send_deferred_acks(q);
	if (reply == NULL)
		return;		/* the fetch connection is down; redone when it is back */
	if (reply->type != REDIS_REPLY_ARRAY) {
		fetch_failed(q, reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply to LRANGE");
		return;
	}
	q->reconcile_wanted = false;
	for (i = 0; i < reply->elements && !q->stopped; i++) {
		const redisReply *e = reply->element[i];
		char id[1025];

		if (!valid_id(e)) {
			drop_bad_id(q, e);
			continue;
		}
		memcpy(id, e->str, e->len);
		id[e->len] = '\0';
		if (q->events.has_id(q->arg, id))
			continue;
		if (q->events.free_slots(q->arg) == 0) {
			/* The rest waits for free slots; they are the oldest work. */
			q->reconcile_wanted = true;
			break;
		}
		take_string(q, e, true);
		adopted++;
	}
	if (adopted > 0)
		log_info(NULL, "recovered", "took up %u id(s) left in %s", adopted,
		    q->processing_key);
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

/*
 * Counts a pop's reply.  With the fault hook fetch-stall:N the Nth is
 * dropped on the floor and the fetch loop believes it still waits: the
 * stuck state the watchdog (liveness.c) must get us out of.
 */
static bool
fetch_reply_lost(struct pw_queue *q)
{
	const char *n = pw_fault_arg("fetch-stall");

	q->fetch_replies++;
	return n != NULL && q->fetch_replies == strtoul(n, NULL, 10);
}

static void
on_batch(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_queue *q = arg;
	size_t i, n = 0;

	(void)r;
	q->fetching = FETCH_NONE;
	if (reply == NULL)
		return;		/* ids it moved are found by the next reconcile */
	if (fetch_reply_lost(q)) {
		q->fetching = FETCH_BATCH;
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			take_string(q, reply->element[i], false);
		n = reply->elements;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		/* Scripts flushed: the next batch is sent whole, so at once. */
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
			event_active(q->kick_ev, EV_TIMEOUT, 0);
		else
			fetch_failed(q, reply->str);
		return;
	}
	q->fetch_errors = 0;
	/*
	 * Fewer ids than asked for (or nil): the queue is empty for now.  Not
	 * "fewer than free slots": a batch is capped at BATCH_MAX and slots
	 * free up while it is in flight, and neither means the queue ran dry.
	 */
	q->queue_empty = n < q->batch_asked;
	/* Also with a few ids: the worker may commit them without waiting. */
	if (q->queue_empty && q->cfg->exit_when_idle && !q->reconcile_wanted &&
	    q->events.idle != NULL)
		q->events.idle(q->arg);
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

static void
on_block(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_queue *q = arg;

	(void)r;
	q->fetching = FETCH_NONE;
	if (reply == NULL)
		return;
	if (fetch_reply_lost(q)) {
		q->fetching = FETCH_BLOCK;
		return;
	}
	if (reply->type == REDIS_REPLY_STRING) {		/* BLMOVE */
		take_string(q, reply, false);
		q->queue_empty = false;
	} else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {	/* BLPOP */
		take_string(q, reply->element[1], false);
		q->queue_empty = false;
	} else if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "UNBLOCKED", 9) != 0) {
		/* "UNBLOCKED force unblock" (failover) is retried at once; others wait. */
		fetch_failed(q, reply->str);
		return;
	}
	q->fetch_errors = 0;
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

/*
 * An error reply (OOM, READONLY, LOADING, WRONGTYPE on a key...) comes on a
 * healthy connection and would come again at once: wait, 1 s doubling to
 * 5 s, jittered over the upper half.
 */
static void
fetch_failed(struct pw_queue *q, const char *why)
{
	struct timeval tv = pw_timeval(pw_backoff(1, 5, q->fetch_errors > 0 ?
	    q->fetch_errors - 1 : 0));

	if (q->fetch_errors == 0)
		log_warn(NULL, "fetch-failed", "%s; retrying every few seconds", why);
	else
		log_debug(NULL, "fetch-failed", "%s", why);
	q->fetch_errors++;
	evtimer_add(q->backoff_ev, &tv);
}

static void
send_reconcile(struct pw_queue *q)
{
	const char *argv[] = { "LRANGE", q->processing_key, "0", "-1" };

	if (pw_redis_command(q->fetch, on_reconcile, q, 0, 4, argv, NULL) == 0)
		q->fetching = FETCH_RECONCILE;
}

static void
send_batch(struct pw_queue *q, unsigned n)
{
	char count[16];
	const char *argv[6];
	int argc;

	snprintf(count, sizeof count, "%u", n);
	if (blmove_mode(q)) {
		argv[0] = "EVAL";
		argv[1] = batch_script;
		argv[2] = "2";
		argv[3] = q->cfg->queue_key;
		argv[4] = q->processing_key;
		argv[5] = count;
		argc = 6;
	} else {
		argv[0] = "LPOP";
		argv[1] = q->cfg->queue_key;
		argv[2] = count;
		argc = 3;
	}
	if (pw_redis_command(q->fetch, on_batch, q, 0, argc, argv, NULL) == 0) {
		q->fetching = FETCH_BATCH;
		q->batch_asked = n;
	}
}

static void
send_block(struct pw_queue *q)
{
	char timeout[32];
	const char *argv[6];
	int argc;

	snprintf(timeout, sizeof timeout, "%.3f", q->cfg->block_timeout);
	if (blmove_mode(q)) {
		argv[0] = "BLMOVE";
		argv[1] = q->cfg->queue_key;
		argv[2] = q->processing_key;
		argv[3] = "LEFT";
		argv[4] = "RIGHT";
		argv[5] = timeout;
		argc = 6;
	} else {
		argv[0] = "BLPOP";
		argv[1] = q->cfg->queue_key;
		argv[2] = timeout;
		argc = 3;
	}
	if (pw_redis_command(q->fetch, on_block, q, q->cfg->block_timeout, argc, argv,
	    NULL) == 0)
		q->fetching = FETCH_BLOCK;
}

/* Once stopped, the fetch connection closes as soon as nothing is in flight on it. */
static void
close_fetch(struct pw_queue *q)
{
	if (q->fetch_closed)
		return;
	q->fetch_closed = true;
	pw_redis_close(q->fetch);
	if (q->events.fetch_closed != NULL)
		q->events.fetch_closed(q->arg);
}

static void
fetch_next(struct pw_queue *q)
{
	unsigned free_slots;

	if (q->stopped) {
		if (q->fetching == FETCH_NONE)
			close_fetch(q);
		return;
	}
	if (q->fetching != FETCH_NONE || !pw_redis_ready(q->fetch) ||
	    evtimer_pending(q->backoff_ev, NULL))
		return;
	free_slots = q->events.free_slots(q->arg);
	if (free_slots == 0)
		return;		/* a freed slot kicks again */
	if (q->reconcile_wanted) {
		/* A snapshot taken while an LREM is in flight could be stale. */
		if (q->acks_inflight == 0)
			send_reconcile(q);
		return;
	}
	if (!q->queue_empty)
		send_batch(q, free_slots < BATCH_MAX ? free_slots : BATCH_MAX);
	else if (q->cfg->exit_when_idle) {
		/* Batch runs never block: poll again when a slot frees up. */
		if (free_slots == q->cfg->max_inflight) {
			q->queue_empty = false;
			send_batch(q, free_slots < BATCH_MAX ? free_slots : BATCH_MAX);
		}
	} else
		send_block(q);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_next(arg);
}

static void
on_fetch_ready(struct pw_redis *r, void *arg)
{
	struct pw_queue *q = arg;

	(void)r;
	q->reconcile_wanted = blmove_mode(q);
	q->queue_empty = false;
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

static void
on_fetch_down(struct pw_redis *r, void *arg)
{
	struct pw_queue *q = arg;

	(void)r;
	q->fetching = FETCH_NONE;
	/* A lost reply may have moved an id into the processing list. */
	q->reconcile_wanted = blmove_mode(q);
	send_deferred_acks(q);
	if (q->stopped)
		close_fetch(q);
}

static void
on_cmd_ready(struct pw_redis *r, void *arg)
{
	struct pw_queue *q = arg;

	(void)r;
	if (q->events.cmd_ready != NULL)
		q->events.cmd_ready(q->arg);
}

static void
on_reconcile_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pw_queue *q = arg;

	(void)fd;
	(void)what;
	if (blmove_mode(q)) {
		q->reconcile_wanted = true;
		fetch_next(q);
	}
}

struct pw_queue *
pw_queue_create(struct event_base *base, const struct pw_config *cfg,
    const struct pw_queue_events *events, void *arg)
{
	static const struct pw_redis_events fetch_events = { on_fetch_ready, on_fetch_down };
	static const struct pw_redis_events cmd_events = { on_cmd_ready, NULL };
	struct pw_queue *q = pw_xcalloc(1, sizeof *q);
	size_t n;

	q->base = base;
	q->cfg = cfg;
	q->events = *events;
	q->arg = arg;
	n = strlen(cfg->processing_prefix) + strlen(cfg->worker_id) + 1;
	q->processing_key = pw_xmalloc(n);
	snprintf(q->processing_key, n, "%s%s", cfg->processing_prefix, cfg->worker_id);
	STAILQ_INIT(&q->deferred);
	q->fetch = pw_redis_create(base, cfg, "fetch", &fetch_events, q);
	q->cmd = pw_redis_create(base, cfg, "command", &cmd_events, q);
	q->kick_ev = event_new(base, -1, 0, on_kick, q);
	q->reconcile_ev = event_new(base, -1, EV_PERSIST, on_reconcile_timer, q);
	q->unblock_failed_ev = event_new(base, -1, 0, on_unblock_failed, q);
	q->backoff_ev = evtimer_new(base, on_kick, q);
	q->ack_ev = event_new(base, -1, 0, on_ack_due, q);
	if (q->kick_ev == NULL || q->reconcile_ev == NULL || q->unblock_failed_ev == NULL ||
	    q->backoff_ev == NULL || q->ack_ev == NULL)
		pw_fatal("out of memory creating queue events");
	return q;
}

void
pw_queue_start(struct pw_queue *q)
{
	struct timeval tv;

	tv = pw_timeval(q->cfg->reconcile_interval);
	event_add(q->reconcile_ev, &tv);
	pw_redis_start(q->cmd);
	pw_redis_start(q->fetch);
}

void
pw_queue_kick(struct pw_queue *q)
{
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

bool
pw_queue_ready(const struct pw_queue *q)
{
	return pw_redis_ready(q->fetch) && pw_redis_ready(q->cmd);
}

unsigned long
pw_queue_reconnects(const struct pw_queue *q)
{
	return pw_redis_reconnects(q->fetch) + pw_redis_reconnects(q->cmd);
}

struct pw_redis *
pw_queue_cmd(struct pw_queue *q)
{
	return q->cmd;
}

const char *
pw_queue_processing_key(const struct pw_queue *q)
{
	return q->processing_key;
}

static void
on_ack(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct ack *a = arg;
	struct pw_queue *q = a->q;
	/* An error reply (LOADING, BUSY...) comes on a live connection: 1, retry later. */
	int status = reply == NULL ? -1 : reply->type == REDIS_REPLY_INTEGER ? 0 :
	    reply->type == REDIS_REPLY_ERROR ? 1 : -1;
	size_t i;

	(void)r;
	q->acks_inflight--;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		/* Scripts flushed: the next call is sent whole, so again at once, in order. */
		for (i = a->n; i-- > 0; ) {
			struct deferred_ack *d = pw_xmalloc(sizeof *d);

			d->id = a->who[i].id;
			d->fn = a->who[i].fn;
			d->arg = a->who[i].arg;
			STAILQ_INSERT_HEAD(&q->deferred, d, link);
			q->n_deferred++;
		}
		free(a);
		event_active(q->ack_ev, EV_TIMEOUT, 0);
		return;
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_error(NULL, "ack-failed", "LREM %s: %s", q->processing_key, reply->str);
	for (i = 0; i < a->n; i++)
		a->who[i].fn(a->who[i].arg, status);
	free(a);
	if (q->acks_inflight == 0 && q->reconcile_wanted)
		event_active(q->kick_ev, EV_TIMEOUT, 0);
}

/* Up to ACK_BATCH_MAX waiting acks in one script; -1 if it was not sent. */
static int
send_acks(struct pw_queue *q)
{
	size_t n = q->n_deferred < ACK_BATCH_MAX ? q->n_deferred : ACK_BATCH_MAX;
	const char **argv = pw_xcalloc(n + 4, sizeof *argv);
	struct ack *a = pw_xmalloc(sizeof *a + n * sizeof a->who[0]);
	struct deferred_ack *d = STAILQ_FIRST(&q->deferred);
	size_t i;
	int rc;

	argv[0] = "EVAL";
	argv[1] = ack_script;
	argv[2] = "1";
	argv[3] = q->processing_key;
	a->q = q;
	a->n = n;
	for (i = 0; i < n; i++, d = STAILQ_NEXT(d, link)) {
		argv[4 + i] = d->id;
		a->who[i].id = d->id;
		a->who[i].fn = d->fn;
		a->who[i].arg = d->arg;
	}
	rc = pw_redis_command(q->cmd, on_ack, a, 0, (int)(n + 4), argv, NULL);
	free(argv);
	/* Sent or not, these leave the list: each caller hears of it. */
	for (i = 0; i < n; i++) {
		d = STAILQ_FIRST(&q->deferred);
		STAILQ_REMOVE_HEAD(&q->deferred, link);
		q->n_deferred--;
		free(d);
	}
	if (rc != 0) {
		for (i = 0; i < n; i++)
			a->who[i].fn(a->who[i].arg, -1);
		free(a);
		return -1;
	}
	q->acks_inflight++;
	return 0;
}

/* Not while a reconcile is in flight: its snapshot must not be stale. */
static void
send_deferred_acks(struct pw_queue *q)
{
	while (!STAILQ_EMPTY(&q->deferred))
		(void)send_acks(q);
}

static void
on_ack_due(evutil_socket_t fd, short what, void *arg)
{
	struct pw_queue *q = arg;

	(void)fd;
	(void)what;
	if (q->fetching != FETCH_RECONCILE)
		send_deferred_acks(q);
}

int
pw_queue_ack(struct pw_queue *q, const char *id, void (*fn)(void *, int), void *arg)
{
	struct deferred_ack *d;

	if (!blmove_mode(q))
		return 1;
	if (!pw_redis_ready(q->cmd))
		return -1;
	d = pw_xmalloc(sizeof *d);
	d->id = id;
	d->fn = fn;
	d->arg = arg;
	STAILQ_INSERT_TAIL(&q->deferred, d, link);
	q->n_deferred++;
	/* Activated from a callback, it runs later in this turn, after the others. */
	if (q->fetching != FETCH_RECONCILE)
		event_active(q->ack_ev, EV_TIMEOUT, 0);
	return 0;
}

static void
on_unblock(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_queue *q = arg;

	(void)r;
	/* Not unblocked: drop the pop (blmove mode keeps its id in the list). */
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer != 1)
		event_active(q->unblock_failed_ev, EV_TIMEOUT, 0);
}

static void
on_unblock_failed(evutil_socket_t fd, short what, void *arg)
{
	struct pw_queue *q = arg;

	(void)fd;
	(void)what;
	/* Only the stop that asked: a restarted fetch may block again since. */
	if (q->stopped && q->fetching == FETCH_BLOCK)
		close_fetch(q);
}

/*
 * A batch in flight is waited for and a blocking pop is ended with CLIENT
 * UNBLOCK, so that an id popped in the meantime reaches a job instead of a
 * closed socket (in blpop mode it would be lost).
 */
void
pw_queue_stop(struct pw_queue *q)
{
	long long id = pw_redis_client_id(q->fetch);

	q->stopped = true;
	event_del(q->reconcile_ev);
	if (q->fetching == FETCH_BLOCK && id >= 0) {
		char idbuf[24];
		const char *argv[] = { "CLIENT", "UNBLOCK", idbuf };

		snprintf(idbuf, sizeof idbuf, "%lld", id);
		if (pw_redis_command(q->cmd, on_unblock, q, 0, 3, argv, NULL) == 0)
			return;
	}
	if (q->fetching == FETCH_BATCH || q->fetching == FETCH_RECONCILE)
		return;		/* fetch_next() closes once the reply is in */
	close_fetch(q);
}

void
pw_queue_abandon_fetch(struct pw_queue *q)
{
	close_fetch(q);
}

unsigned long
pw_queue_fetch_replies(const struct pw_queue *q)
{
	return q->fetch_replies;
}

void
pw_queue_unstick(struct pw_queue *q)
{
	if (q->stopped)
		return;
	q->queue_empty = false;
	if (q->fetching != FETCH_NONE) {
		/* Whatever it waits for is not coming: a new connection, then a
		 * reconcile adopts what the lost reply moved. */
		pw_redis_reset(q->fetch);
		q->fetching = FETCH_NONE;
		return;
	}
	evtimer_del(q->backoff_ev);
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

void
pw_queue_reconcile(struct pw_queue *q)
{
	if (!blmove_mode(q) || q->stopped)
		return;
	q->reconcile_wanted = true;
	event_active(q->kick_ev, EV_TIMEOUT, 0);
}

void
pw_queue_restart(struct pw_queue *q)
{
	static const struct pw_redis_events fetch_events = { on_fetch_ready, on_fetch_down };
	struct timeval tv;

	if (!q->stopped)
		return;
	event_del(q->unblock_failed_ev);
	pw_redis_destroy(q->fetch);
	q->fetch = pw_redis_create(q->base, q->cfg, "fetch", &fetch_events, q);
	q->stopped = false;
	q->fetch_closed = false;
	q->fetching = FETCH_NONE;
	q->queue_empty = false;
	tv = pw_timeval(q->cfg->reconcile_interval);
	event_add(q->reconcile_ev, &tv);
	pw_redis_start(q->fetch);
}

static void
on_requeue(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct requeue *rq = arg;

	(void)r;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		rq->fn(rq->arg, reply->integer);
	else {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_error(NULL, "requeue-failed", "%s", reply->str);
		rq->fn(rq->arg, -1);
	}
	free(rq);
}

int
pw_queue_requeue(struct pw_queue *q, const char *const *ids, size_t n_ids,
    void (*fn)(void *, long long), void *arg)
{
	const char *processing = pw_status_value(q->cfg->status_scheme, PW_STATUS_PROCESSING);
	const char *pending = pw_status_value(q->cfg->status_scheme, PW_STATUS_PENDING);
	const char **argv;
	struct requeue *rq;
	size_t i, argc = 0;
	int rc;

	if (!blmove_mode(q) && n_ids == 0) {
		fn(arg, 0);
		return 0;
	}
	argv = pw_xcalloc(11 + n_ids, sizeof *argv);
	argv[argc++] = "EVAL";
	argv[argc++] = blmove_mode(q) ? requeue_blmove_script : requeue_blpop_script;
	argv[argc++] = blmove_mode(q) ? "2" : "1";
	argv[argc++] = q->cfg->queue_key;
	if (blmove_mode(q))
		argv[argc++] = q->processing_key;
	argv[argc++] = q->cfg->hash_prefix;
	argv[argc++] = processing != NULL ? processing : "";
	argv[argc++] = pending;
	argv[argc++] = q->cfg->worker_id;
	argv[argc++] = pw_status_value(q->cfg->status_scheme, PW_STATUS_DONE);
	argv[argc++] = pw_status_value(q->cfg->status_scheme, PW_STATUS_FAILED);
	for (i = 0; !blmove_mode(q) && i < n_ids; i++)
		argv[argc++] = ids[i];
	rq = pw_xmalloc(sizeof *rq);
	rq->fn = fn;
	rq->arg = arg;
	rc = pw_redis_command(q->cmd, on_requeue, rq, 0, (int)argc, argv, NULL);
	free(argv);
	if (rc != 0)
		free(rq);
	return rc;
}

void
pw_queue_destroy(struct pw_queue *q)
{
	struct deferred_ack *d;

	if (q == NULL)
		return;
	pw_redis_destroy(q->fetch);
	pw_redis_destroy(q->cmd);
	while ((d = STAILQ_FIRST(&q->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&q->deferred, link);
		d->fn(d->arg, -1);
		free(d);
	}
	event_free(q->ack_ev);
	event_free(q->kick_ev);
	event_free(q->reconcile_ev);
	event_free(q->unblock_failed_ev);
	event_free(q->backoff_ev);
	free(q->processing_key);
	free(q);
}
