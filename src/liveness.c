/*
 * liveness: signs of life, and what is done when they stop.
 *
 * Heartbeat.  Every beat (--heartbeat-ttl / 6) the worker sets
 * portada:heartbeat:<worker-id> to its unix time, expiring after the TTL.
 * A confirmed write is a lease: while the last confirmed one was sent less
 * than two thirds of the TTL ago the worker may start commits
 * (liveness_lease_ok(), asked by batch.c); past that it holds them, since
 * others may soon take its files.  A write that finds the key gone means
 * the lease lapsed while this worker lived (Redis was away, or the loop
 * stood still): its files may be in other hands, so what is not yet in a
 * commit is dropped and taken up again from whatever is left in its
 * processing list (worker_fence()).
 *
 * Reaper.  On the same beat the worker holding the lock portada:reaper
 * (any live worker; one pass at a time) looks at the workers of the
 * registry portada:workers (every beat adds its worker), the candidates it
 * already watches, and one SCAN step over the processing lists (a sweep
 * across passes, for lists the registry does not know).  A list whose
 * worker has had no heartbeat on two passes a beat apart goes
 * back to the head of the queue, in one script that checks the lock and
 * the heartbeat again, atomically with the move; its files' statuses go
 * back to pending with last_error saying why, and the worker leaves the
 * registry once its list is empty.  The attempt is not taken
 * back (job.c's give_up() counts it).  A reaper must itself have been
 * connected for two beats: after an outage of Redis every live worker
 * renews its key as soon as it is back, before anyone reaps.
 *
 * Watchdog.  Free slots, a connected fetch connection and no reply to a
 * pop for longer than any pop may take (--block-timeout plus
 * --command-timeout plus a beat), while the queue holds ids: the fetch
 * loop is stuck (the classic "stopped consuming after a reconnect").  The
 * fetch connection is dropped and fetching starts over; /healthz says so
 * until a pop is answered again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portada/backoff.h"
#include "portada/log.h"
#include "portada/redis.h"
#include "portada/status.h"
#include "worker.h"

#define SCAN_COUNT	"1000"	/* keys one pass's SCAN step looks at */

/*
 * KEYS: heartbeat, the workers' registry; ARGV: value (unix time), ttl in
 * ms, worker id.  1 if the key was still there.
 */
static const char beat_script[] =
    "local old = redis.call('GET', KEYS[1])\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])\n"
    "if old then return 1 end\n"
    "return 0\n";

/* KEYS[1] the lock; ARGV: worker id, ttl in ms.  1 if this worker holds it. */
static const char lock_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "if v == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/*
 * KEYS: the processing list, its worker's heartbeat, the queue, the lock,
 * the workers' registry.  ARGV: this worker's id, hash prefix, processing
 * value or '', pending value, the list's worker id, done value, failed
 * value, '1' to reap now, last_error.  -1 lock lost, -2 alive, -3 nothing
 * to reap (the dead worker leaves the registry), -4 dead but not long
 * enough, else the ids moved (newest first, so the oldest ends at the
 * head, as a draining worker puts them back).
 */
static const char reap_script[] =
    "if redis.call('GET', KEYS[4]) ~= ARGV[1] then return -1 end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end\n"
    "if redis.call('TYPE', KEYS[1]).ok ~= 'list' or redis.call('LLEN', KEYS[1]) == 0 then\n"
    "  redis.call('ZREM', KEYS[5], ARGV[5])\n"
    "  return -3\n"
    "end\n"
    "if ARGV[8] ~= '1' then return -4 end\n"
    "local n = 0\n"
    "while true do\n"
    "  local id = redis.call('RPOP', KEYS[1])\n"
    "  if not id then break end\n"
    "  local k = ARGV[2] .. id\n"
    "  local st = redis.call('HGET', k, 'status')\n"
    "  if st ~= ARGV[6] and st ~= ARGV[7] then\n"
    "    redis.call('LPUSH', KEYS[3], id)\n"
    "    n = n + 1\n"
    "    if redis.call('HGET', k, 'worker') == ARGV[5] then\n"
    "      if ARGV[3] ~= '' and st == ARGV[3] then\n"
    "        redis.call('HSET', k, 'status', ARGV[4])\n"
    "      end\n"
    "      redis.call('HSET', k, 'last_error', ARGV[9])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('ZREM', KEYS[5], ARGV[5])\n"
    "return n\n";

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct pw_redis *
cmd(struct pw_worker *w)
{
	return pw_queue_cmd(w->queue);
}

/* ---- heartbeat and lease ---- */

/* Only one beat is in flight (beat_pending): its send time is in lv->beat_sent. */
static void
on_beat(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;

	(void)r;
	if (lv->gone)
		return;		/* the worker is finishing */
	lv->beat_pending = false;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {
		/* blpop mode: nobody can reap, and the ids live only here. */
		bool lapsed = reply->integer == 0 && lv->lease_from > 0 &&
		    w->cfg->fetch == PW_FETCH_BLMOVE;

		lv->lease_from = lv->beat_sent;
		if (lapsed) {
			lv->lapses++;
			log_warn(NULL, "heartbeat-lapsed", "this worker's heartbeat had expired "
			    "(Redis was away or the loop stood still for over %.0fs); its files may "
			    "have been taken by another worker, so those not yet in a commit are "
			    "dropped and taken up again from %s", w->cfg->heartbeat_ttl,
			    pw_queue_processing_key(w->queue));
			worker_fence(w);
		}
		batch_lease_renewed(w);
		if (w->state == WORKER_RUNNING)
			pw_queue_kick(w->queue);	/* ids are taken only under a lease */
	} else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_debug(NULL, "heartbeat", "%s", reply->str);
}

static void
send_beat(struct pw_worker *w)
{
	struct liveness *lv = &w->live;
	char key[400], value[64], ttl[24];
	struct timespec now;
	const char *argv[] = { "EVAL", beat_script, "2", key, PW_WORKERS_KEY, value, ttl,
	    w->cfg->worker_id };

	if (lv->beat_pending || w->queue == NULL || !pw_redis_ready(cmd(w)))
		return;		/* Redis down: the key expires, which is what it should say */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(key, sizeof key, "%s%s", PW_HEARTBEAT_PREFIX, w->cfg->worker_id);
	snprintf(value, sizeof value, "%lld.%03ld", (long long)now.tv_sec, now.tv_nsec / 1000000);
	snprintf(ttl, sizeof ttl, "%.0f", w->cfg->heartbeat_ttl * 1000);
	lv->beat_sent = mono_now();	/* before: the key lives at least TTL past it */
	if (pw_redis_command(cmd(w), on_beat, w, 0, 8, argv, NULL) != 0)
		return;
	lv->beat_pending = true;
}

bool
liveness_lease_ok(const struct pw_worker *w)
{
	const struct liveness *lv = &w->live;

	return lv->lease_from > 0 &&
	    mono_now() - lv->lease_from < w->cfg->heartbeat_ttl * 2 / 3;
}

/* ---- reaper ---- */

static struct reap_candidate *
candidate(struct liveness *lv, const char *worker, bool add)
{
	size_t i;

	for (i = 0; i < lv->n_candidates; i++)
		if (strcmp(lv->candidates[i].worker, worker) == 0)
			return &lv->candidates[i];
	if (!add)
		return NULL;
	if (lv->n_candidates == lv->cap_candidates) {
		lv->cap_candidates = lv->cap_candidates == 0 ? 8 : 2 * lv->cap_candidates;
		lv->candidates = pw_xrealloc(lv->candidates,
		    lv->cap_candidates * sizeof *lv->candidates);
	}
	lv->candidates[lv->n_candidates].worker = pw_xstrdup(worker);
	lv->candidates[lv->n_candidates].since = mono_now();
	lv->candidates[lv->n_candidates].seen = true;
	return &lv->candidates[lv->n_candidates++];
}

/* The pass is over: forget candidates it did not see dead again. */
static void
pass_end(struct pw_worker *w)
{
	struct liveness *lv = &w->live;
	size_t i = 0;

	while (i < lv->n_candidates) {
		if (!lv->candidates[i].seen) {
			free(lv->candidates[i].worker);
			lv->candidates[i] = lv->candidates[--lv->n_candidates];
			continue;
		}
		lv->candidates[i++].seen = false;
	}
	lv->reaping = false;
}

struct reap {
	struct pw_worker *w;
	char *worker;
};

static void
on_reaped(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct reap *rp = arg;
	struct pw_worker *w = rp->w;
	struct liveness *lv = &w->live;
	struct reap_candidate *c;

	(void)r;
	if (lv->gone) {
		free(rp->worker);
		free(rp);
		return;
	}
	lv->reaps_pending--;
	if (reply == NULL || (reply->type == REDIS_REPLY_INTEGER && reply->integer == -1)) {
		lv->pass_failed = true;	/* lost the lock or the connection: next beat */
	} else if (reply->type != REDIS_REPLY_INTEGER) {
		log_debug(NULL, "reaper", "processing list of %s: %s", rp->worker,
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	} else if (reply->integer == -4) {
		if ((c = candidate(lv, rp->worker, true)) != NULL)
			c->seen = true;
	} else if (reply->integer > 0) {
		char list[400];

		snprintf(list, sizeof list, "%s%s", w->cfg->processing_prefix, rp->worker);
		lv->reaped_workers++;
		lv->reaped_ids += (unsigned long long)reply->integer;
		log_warn(NULL, "reaped", "worker %s has had no heartbeat for over %.0fs: %lld "
		    "id(s) of %s back at the head of %s", rp->worker, w->cfg->heartbeat_ttl,
		    reply->integer, list, w->cfg->queue_key);
		if (reply->integer > 0 && w->state == WORKER_RUNNING)
			pw_queue_kick(w->queue);
	}
	free(rp->worker);
	free(rp);
	if (lv->reaps_pending == 0 && lv->listings_done)
		pass_end(w);
}

static void
reap_list(struct pw_worker *w, const char *worker)
{
	struct liveness *lv = &w->live;
	char hb[400], note[600], list[400];
	const char *pending = pw_status_value(w->cfg->status_scheme, PW_STATUS_PENDING);
	const char *processing = pw_status_value(w->cfg->status_scheme, PW_STATUS_PROCESSING);
	struct reap_candidate *c = candidate(lv, worker, false);
	bool now = c != NULL && mono_now() - c->since >= lv->interval * 0.9;
	const char *argv[] = {
		"EVAL", reap_script, "5", list, hb, w->cfg->queue_key, PW_REAPER_LOCK,
		PW_WORKERS_KEY, w->cfg->worker_id, w->cfg->hash_prefix,
		processing != NULL ? processing : "", pending, worker,
		pw_status_value(w->cfg->status_scheme, PW_STATUS_DONE),
		pw_status_value(w->cfg->status_scheme, PW_STATUS_FAILED), now ? "1" : "0", note,
	};
	struct reap *rp;

	snprintf(list, sizeof list, "%s%s", w->cfg->processing_prefix, worker);
	snprintf(hb, sizeof hb, "%s%s", PW_HEARTBEAT_PREFIX, worker);
	snprintf(note, sizeof note, "worker %s stopped sending heartbeats while it held this "
	    "file; worker %s put it back in the queue", worker, w->cfg->worker_id);
	rp = pw_xmalloc(sizeof *rp);
	rp->w = w;
	rp->worker = pw_xstrdup(worker);
	if (pw_redis_command(cmd(w), on_reaped, rp, 0, (int)(sizeof argv / sizeof argv[0]), argv,
	    NULL) != 0) {
		free(rp->worker);
		free(rp);
		lv->pass_failed = true;
		return;
	}
	lv->reaps_pending++;
}

/* A worker this pass looks at: once, never this one, a sane name. */
static void
pass_add(struct liveness *lv, const struct pw_worker *w, const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= 256 || memchr(name, '\0', len) != NULL ||
	    (strlen(w->cfg->worker_id) == len && memcmp(w->cfg->worker_id, name, len) == 0))
		return;
	for (i = 0; i < lv->n_pass; i++)
		if (strlen(lv->pass[i]) == len && memcmp(lv->pass[i], name, len) == 0)
			return;
	if (lv->n_pass == lv->cap_pass) {
		lv->cap_pass = lv->cap_pass == 0 ? 16 : 2 * lv->cap_pass;
		lv->pass = pw_xrealloc(lv->pass, lv->cap_pass * sizeof *lv->pass);
	}
	lv->pass[lv->n_pass++] = pw_xstrndup(name, len);
}

static void
pass_free(struct liveness *lv)
{
	while (lv->n_pass > 0)
		free(lv->pass[--lv->n_pass]);
}

/*
 * Both listings are in: the registry's workers, one step of the SCAN of
 * processing lists (for lists of workers the registry does not know, such
 * as those of older versions), and the candidates already being watched.
 */
static void
listing_done(struct pw_worker *w)
{
	struct liveness *lv = &w->live;
	size_t i;

	if (--lv->listings_pending > 0)
		return;
	for (i = 0; i < lv->n_candidates; i++)
		pass_add(lv, w, lv->candidates[i].worker, strlen(lv->candidates[i].worker));
	for (i = 0; i < lv->n_pass && !lv->pass_failed; i++)
		reap_list(w, lv->pass[i]);
	pass_free(lv);
	lv->listings_done = true;
	if (lv->reaps_pending == 0)
		pass_end(w);
}

static void
on_registry(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;
	size_t i;

	(void)r;
	if (lv->gone)
		return;
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				pass_add(lv, w, reply->element[i]->str, reply->element[i]->len);
	} else
		lv->pass_failed = true;
	listing_done(w);
}

static void
on_scan(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;
	size_t i, plen = strlen(w->cfg->processing_prefix);
	const redisReply *keys;

	(void)r;
	if (lv->gone)
		return;
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_ARRAY) {
		keys = reply->element[1];
		for (i = 0; i < keys->elements; i++)
			if (keys->element[i]->type == REDIS_REPLY_STRING &&
			    keys->element[i]->len > plen)
				pass_add(lv, w, keys->element[i]->str + plen,
				    keys->element[i]->len - plen);
		/* The cursor carries over: the sweep goes on at the next pass. */
		snprintf(lv->cursor, sizeof lv->cursor, "%s", reply->element[0]->str);
	}
	listing_done(w);
}

static void
on_lock(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;
	char pattern[300];
	const char *zargv[] = { "ZRANGE", PW_WORKERS_KEY, "0", "-1" };
	const char *sargv[] = { "SCAN", lv->cursor, "MATCH", pattern, "COUNT", SCAN_COUNT };
	const char *p;
	size_t n = 0;

	(void)r;
	if (lv->gone)
		return;
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
		pass_end(w);	/* another worker reaps this time */
		return;
	}
	/* A prefix with glob characters would match others' keys: escape them. */
	for (p = w->cfg->processing_prefix; *p != '\0' && n + 3 < sizeof pattern; p++) {
		if (strchr("*?[]\\", *p) != NULL)
			pattern[n++] = '\\';
		pattern[n++] = *p;
	}
	pattern[n++] = '*';
	pattern[n] = '\0';
	lv->listings_pending = 2;
	if (pw_redis_command(cmd(w), on_registry, w, 0, 4, zargv, NULL) != 0)
		lv->listings_pending--;
	if (pw_redis_command(cmd(w), on_scan, w, 0, 6, sargv, NULL) != 0)
		lv->listings_pending--;
	if (lv->listings_pending == 0) {
		lv->listings_pending = 1;
		listing_done(w);
	}
}

static void
start_pass(struct pw_worker *w)
{
	struct liveness *lv = &w->live;
	char ttl[24];
	const char *argv[] = { "EVAL", lock_script, "1", PW_REAPER_LOCK, w->cfg->worker_id, ttl };

	if (lv->reaping || w->cfg->fetch != PW_FETCH_BLMOVE || lv->ready_since == 0 ||
	    mono_now() - lv->ready_since < 2 * lv->interval || !pw_redis_ready(cmd(w)) ||
	    w->state == WORKER_STOPPED)
		return;
	snprintf(ttl, sizeof ttl, "%.0f", lv->interval * 2 * 1000);
	if (pw_redis_command(cmd(w), on_lock, w, 0, 6, argv, NULL) != 0)
		return;
	lv->reaping = true;
	lv->listings_done = false;
	lv->pass_failed = false;
	lv->reaps_pending = 0;
	lv->listings_pending = 0;
}

/* ---- watchdog ---- */

static void
on_depth_for_watchdog(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;

	(void)r;
	if (lv->gone)
		return;
	lv->depth_pending = false;
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer <= 0 ||
	    w->state != WORKER_RUNNING)
		return;
	if (pw_queue_fetch_replies(w->queue) != lv->fetch_seen)
		return;		/* it moved meanwhile */
	lv->stalls++;
	if (!lv->stalled) {
		lv->stalled = true;
		lv->stalled_since = lv->fetch_moved;
	}
	log_warn(NULL, "fetch-stalled", "no id taken for %.0fs though %u slot(s) are free and "
	    "%s holds %lld; starting the fetch connection over", mono_now() - lv->fetch_moved,
	    worker_free_slots(w), w->cfg->queue_key, reply->integer);
	lv->fetch_moved = mono_now();
	pw_queue_unstick(w->queue);
}

static void
watch_fetch(struct pw_worker *w)
{
	struct liveness *lv = &w->live;
	unsigned long seen = pw_queue_fetch_replies(w->queue);
	double now = mono_now();
	const char *argv[] = { "LLEN", w->cfg->queue_key };

	if (seen != lv->fetch_seen || w->state != WORKER_RUNNING || w->cfg->exit_when_idle ||
	    worker_free_slots(w) == 0 || !pw_queue_ready(w->queue)) {
		if (seen != lv->fetch_seen && lv->stalled) {
			log_info(NULL, "fetch-resumed", "ids are taken again after %.0fs",
			    now - lv->stalled_since);
			lv->stalled = false;
		}
		lv->fetch_seen = seen;
		lv->fetch_moved = now;
		return;
	}
	if (now - lv->fetch_moved < w->cfg->block_timeout + w->cfg->command_timeout +
	    lv->interval || lv->depth_pending)
		return;
	if (pw_redis_command(cmd(w), on_depth_for_watchdog, w, 0, 2, argv, NULL) == 0)
		lv->depth_pending = true;
}

bool
liveness_fetch_stalled(const struct pw_worker *w, double *seconds)
{
	/* Until a pop is answered again (the beat then logs fetch-resumed). */
	bool stalled = w->live.stalled && w->state == WORKER_RUNNING &&
	    pw_queue_fetch_replies(w->queue) == w->live.fetch_seen;

	if (stalled && seconds != NULL)
		*seconds = mono_now() - w->live.stalled_since;
	return stalled;
}

/* ---- the beat ---- */

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;
	struct liveness *lv = &w->live;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (w->queue == NULL || !pw_redis_ready(cmd(w)))
		lv->ready_since = 0;
	ops_beat(w, mono_now());
	send_beat(w);
	start_pass(w);
	watch_fetch(w);
	tv = pw_timeval(lv->interval);
	evtimer_add(lv->tick_ev, &tv);
}

void
liveness_start(struct pw_worker *w)
{
	static const struct timeval soon = { 0, 300 * 1000 };	/* once connected */
	struct liveness *lv = &w->live;

	lv->interval = w->cfg->heartbeat_ttl / 6;
	lv->fetch_moved = mono_now();
	snprintf(lv->cursor, sizeof lv->cursor, "0");
	lv->tick_ev = evtimer_new(w->base, on_tick, w);
	if (lv->tick_ev == NULL)
		pw_fatal("cannot create the heartbeat timer");
	evtimer_add(lv->tick_ev, &soon);
}

void
liveness_cmd_ready(struct pw_worker *w)
{
	struct liveness *lv = &w->live;

	lv->ready_since = mono_now();
	send_beat(w);	/* (re)connected: alive again at once */
}

void
liveness_stop(struct pw_worker *w)
{
	struct liveness *lv = &w->live;

	/* Replies still owed find gone set (their memory is theirs to free). */
	lv->gone = true;
	if (lv->tick_ev != NULL)
		event_free(lv->tick_ev);
	lv->tick_ev = NULL;
	while (lv->n_candidates > 0)
		free(lv->candidates[--lv->n_candidates].worker);
	free(lv->candidates);
	lv->candidates = NULL;
	pass_free(lv);
	free(lv->pass);
	lv->pass = NULL;
}
