/*
 * worker: slots, the table of jobs in flight, signals and the way out.
 *
 * Stopping has three steps.  DRAINING: no more fetching, the files in
 * flight get --drain-timeout to finish.  REQUEUEING: what is left goes back
 * to the head of the queue, in order, with its status reset to pending.
 * STOPPED: the loop ends.  A second signal skips the wait, a third exits at
 * once (the ids then stay in the processing list, taken up at next start).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "portada/backoff.h"
#include "portada/log.h"
#include "portada/worker.h"
#include "portada/remote.h"
#include "preflight.h"
#include "worker.h"

#define HTTP_CONNECTIONS	64	/* to the store and source hosts, at most */
#define HTTP_HOST_CONNECTIONS	16	/* to one host */

#define REQUEUE_GRACE 5		/* seconds to reach Redis for the requeue */

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct job *
find_job(struct pw_worker *w, const char *id)
{
	struct job *job = w->buckets[hash_id(id) & (w->n_buckets - 1)];

	while (job != NULL && strcmp(job->id, id) != 0)
		job = job->next_in_bucket;
	return job;
}

void
worker_insert(struct pw_worker *w, struct job *job)
{
	struct job **b = &w->buckets[hash_id(job->id) & (w->n_buckets - 1)];

	job->next_in_bucket = *b;
	*b = job;
	job->seq = w->next_seq++;
	job->listed = true;
	TAILQ_INSERT_TAIL(&w->jobs, job, link);
	w->n_jobs++;
}

static void finish_drain(struct pw_worker *w);

void
worker_job_freed(struct pw_worker *w, struct job *job)
{
	struct job **b;

	if (job->parked) {
		TAILQ_REMOVE(&w->parked, job, park_link);
		job->parked = false;
	}
	if (w->mem_runner == job)
		w->mem_runner = NULL;
	pw_budget_set(&w->mem, PW_MEM_JOBS, &job->mem_job, 0);
	pw_budget_set(&w->mem, PW_MEM_RECORDS, &job->mem_records, 0);
	if (!job->listed)
		return;
	for (b = &w->buckets[hash_id(job->id) & (w->n_buckets - 1)]; *b != job;
	    b = &(*b)->next_in_bucket)
		;
	*b = job->next_in_bucket;
	TAILQ_REMOVE(&w->jobs, job, link);
	job->listed = false;
	w->n_jobs--;
	if (w->state == WORKER_DRAINING && w->n_jobs == 0 && w->fetch_closed) {
		finish_drain(w);
		return;
	}
	if (w->state == WORKER_RUNNING)
		pw_queue_kick(w->queue);
	worker_batch_ready(w);
}

/*
 * While draining, when --exit-when-idle found the queue empty, or when the
 * memory budget lets no more ids in, a batch need not wait for its timer
 * once every file still in flight is either in a batch or past it: nothing
 * else can join it.
 */
void
worker_batch_ready(struct pw_worker *w)
{
	struct job *job;

	if (w->failed || !(w->state == WORKER_DRAINING ||
	    (w->state == WORKER_RUNNING && (w->queue_dry || batch_memory_full(w)))))
		return;
	TAILQ_FOREACH(job, &w->jobs, link)
		if (job->state == JOB_LOAD || job->state == JOB_LOOKUP ||
		    job->state == JOB_MARK || job->state == JOB_READ)
			return;
	batch_flush_all(w);
}

void
worker_commits_settled(struct pw_worker *w)
{
	if (w->finish_waits && !batch_settling(w))
		finish_drain(w);
}

void
worker_park(struct pw_worker *w, struct job *job)
{
	if (job->parked)
		return;
	job->parked = true;
	TAILQ_INSERT_TAIL(&w->parked, job, park_link);
}

void
worker_fence(struct pw_worker *w)
{
	struct job *job, *next;

	if (w->state != WORKER_RUNNING && w->state != WORKER_DRAINING)
		return;		/* only commits already sent are left: they stand */
	w->fencing = true;	/* no new attempt starts while the others go */
	batch_abort_all(w);
	for (job = TAILQ_FIRST(&w->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, link);
		/* In a commit already sent, or past it: its outcome stands. */
		if ((job->in_batch && job->sealed != NULL && job->sealed->submitted) ||
		    job->state == JOB_FINISH || job->state == JOB_ACK)
			continue;
		job_abandon(job);
	}
	w->fencing = false;
	/* Draining, the requeue puts back what is still in the list. */
	if (w->state == WORKER_RUNNING)
		pw_queue_reconcile(w->queue);
}

/* --- queue events --------------------------------------------------------- */

/*
 * No ids without a lease (liveness.c): at start before the first heartbeat
 * is confirmed, so a reaper moving this worker's old list cannot race the
 * reconcile that adopts it, and later while heartbeats go unconfirmed.
 */
unsigned
worker_free_slots(struct pw_worker *w)
{
	if (w->state != WORKER_RUNNING || w->n_jobs >= w->cfg->max_inflight ||
	    !liveness_lease_ok(w) || batch_store_behind(w) || batch_memory_full(w))
		return 0;
	return w->cfg->max_inflight - w->n_jobs;
}

static unsigned
free_slots(void *arg)
{
	return worker_free_slots(arg);
}

static bool
has_id(void *arg, const char *id)
{
	return find_job(arg, id) != NULL;
}

static void
take(void *arg, const char *id, bool recovered)
{
	struct pw_worker *w = arg;

	w->queue_dry = false;
	if (find_job(w, id) != NULL) {
		/* The same id twice: the next reconcile takes the second copy. */
		log_warn(id, "duplicate", "already in flight; the second copy waits");
		return;
	}
	job_start(w, id, recovered);
}

static void
stop_loop(struct pw_worker *w)
{
	w->state = WORKER_STOPPED;
	event_base_loopbreak(w->base);
}

static void
idle(void *arg)
{
	struct pw_worker *w = arg;

	if (w->state != WORKER_RUNNING)
		return;
	if (w->n_jobs > 0) {
		w->queue_dry = true;
		worker_batch_ready(w);
		return;
	}
	log_info(NULL, "idle", "queue %s is empty and nothing is in flight; exiting",
	    w->cfg->queue_key);
	pw_queue_stop(w->queue);
	stop_loop(w);
}

static void send_requeue(struct pw_worker *w);

static void
fetch_closed(void *arg)
{
	struct pw_worker *w = arg;

	w->fetch_closed = true;
	if (w->state == WORKER_DRAINING && (w->n_jobs == 0 || w->drain_expired))
		finish_drain(w);
}

static void
cmd_ready(void *arg)
{
	struct pw_worker *w = arg;
	struct job_list resume;
	struct job *job;

	if (w->state == WORKER_REQUEUEING || (w->state == WORKER_PAUSED && w->requeue_pending)) {
		send_requeue(w);
		return;
	}
	liveness_cmd_ready(w);
	job_send_statuses(w);	/* attempts to take back that waited for Redis */
	preflight_redis(w);	/* the first time: Redis's version and settings */
	/* Resume parked jobs; a step that cannot be sent parks again. */
	TAILQ_INIT(&resume);
	while ((job = TAILQ_FIRST(&w->parked)) != NULL) {
		TAILQ_REMOVE(&w->parked, job, park_link);
		TAILQ_INSERT_TAIL(&resume, job, park_link);
		job->parked = false;
	}
	while ((job = TAILQ_FIRST(&resume)) != NULL) {
		TAILQ_REMOVE(&resume, job, park_link);
		job_step(job);
	}
}

/* --- stopping ------------------------------------------------------------- */

static void pause_ingestion(struct pw_worker *w);

/* After a requeue: the end, or, for a lake failure, a pause. */
static void
requeue_done(struct pw_worker *w)
{
	evtimer_del(w->giveup_ev);
	if (w->failed && !w->signalled)
		pause_ingestion(w);
	else
		stop_loop(w);
}

static void
on_requeued(void *arg, long long moved)
{
	struct pw_worker *w = arg;

	if (moved < 0)
		return;		/* retried when the connection is back, until on_giveup */
	if (w->state == WORKER_PAUSED && w->requeue_pending) {
		w->requeue_pending = false;
		log_info(NULL, "requeued", "%lld unfinished id(s) back at the head of %s",
		    moved, w->cfg->queue_key);
		return;
	}
	if (w->state != WORKER_REQUEUEING)
		return;
	if (moved > 0)
		log_info(NULL, "requeued", "%lld unfinished id(s) back at the head of %s",
		    moved, w->cfg->queue_key);
	requeue_done(w);
}

static void
send_requeue(struct pw_worker *w)
{
	/* A final status still waiting goes first: the requeue then drops its id. */
	job_send_statuses(w);
	if (pw_queue_requeue(w->queue, (const char *const *)w->leftover,
	    w->n_leftover, on_requeued, w) != 0)
		log_info(NULL, "requeue-wait", "waiting up to %ds for Redis to put "
		    "unfinished ids back", REQUEUE_GRACE);
}

static void
cancel_all(struct pw_worker *w)
{
	struct job *job;

	/* Rows of uncommitted uploads go with them: they are read again. */
	batch_abort_all(w);
	while ((job = TAILQ_FIRST(&w->jobs)) != NULL)
		job_abandon(job);
}

/* While commits settle: every job not waiting for one of them stops now. */
static void
cancel_unsealed(struct pw_worker *w)
{
	struct job *job, *next;

	for (job = TAILQ_FIRST(&w->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, link);
		if (!(job->in_batch && job->sealed != NULL))
			job_abandon(job);
	}
}

static void
finish_drain(struct pw_worker *w)
{
	struct timeval tv = { REQUEUE_GRACE, 0 };
	struct job *job;

	if (w->state == WORKER_REQUEUEING || w->state == WORKER_PAUSED ||
	    w->state == WORKER_STOPPED)
		return;
	evtimer_del(w->drain_ev);
	if (!w->finish_waits) {
		if (w->n_jobs > 0)
			log_warn(NULL, "drain-timeout", "%u file(s) still in flight go back to "
			    "the queue unless their commit lands", w->n_jobs);
		/* What is read and waiting for its commit need not be read again. */
		if (!w->failed)
			batch_flush_all(w);
		if (w->cfg->fetch == PW_FETCH_BLPOP) {
			/* Only memory knows blpop mode's unfinished ids, oldest first
			 * (the requeue drops those that end final meanwhile). */
			w->leftover = pw_xcalloc(w->n_jobs + 1, sizeof *w->leftover);
			TAILQ_FOREACH(job, &w->jobs, link)
				w->leftover[w->n_leftover++] = pw_xstrdup(job->id);
		}
	}
	/*
	 * A commit in flight may land later: requeued now, its uploads could
	 * be taken and committed again by another worker before it does.  So
	 * its uploads wait for it (the store's retries bound the wait); the
	 * others stop now.
	 */
	if (batch_settling(w)) {
		if (!w->finish_waits) {
			log_info(NULL, "drain", "waiting for the commits in flight");
			w->finish_waits = true;
			cancel_unsealed(w);
		}
		return;
	}
	w->finish_waits = false;
	w->state = WORKER_REQUEUEING;
	cancel_all(w);
	send_requeue(w);
	evtimer_add(w->giveup_ev, &tv);
}

static void
on_giveup(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;

	(void)fd;
	(void)what;
	if (w->state != WORKER_REQUEUEING)
		return;
	if (w->failed && !w->signalled) {
		/* Paused anyway: the requeue is sent again whenever Redis is back. */
		log_warn(NULL, "requeue-wait", "Redis unreachable: the unfinished ids go back "
		    "to the queue once it is back; pausing meanwhile");
		w->requeue_pending = true;
		requeue_done(w);
		return;
	}
	if (w->cfg->fetch == PW_FETCH_BLMOVE)
		log_warn(NULL, "requeue-failed", "Redis unreachable: unfinished ids stay "
		    "in %s and are taken up when this worker starts again",
		    pw_queue_processing_key(w->queue));
	else
		log_error(NULL, "requeue-failed", "Redis unreachable: %zu unfinished "
		    "id(s) are lost (blpop mode keeps no processing list)", w->n_leftover);
	requeue_done(w);
}

/*
 * The requeue must wait for the last pop's reply, whose ids become jobs; if
 * that reply is REQUEUE_GRACE late, the pop is abandoned (its id stays in the
 * processing list in blmove mode).
 */
static void
drain_expired(struct pw_worker *w)
{
	struct timeval tv = { REQUEUE_GRACE, 0 };

	if (w->fetch_closed) {
		finish_drain(w);
		return;
	}
	if (w->drain_expired) {
		pw_queue_abandon_fetch(w->queue);	/* calls fetch_closed() */
		return;
	}
	w->drain_expired = true;
	evtimer_add(w->drain_ev, &tv);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_expired(arg);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pw_worker *w = arg;
	struct timeval tv;

	(void)what;
	if (w->failed && !w->signalled && w->state != WORKER_RUNNING) {
		/* The lake failure is stopping the work already: this first signal
		 * only says to exit afterwards instead of pausing. */
		w->signalled = true;
		if (w->state != WORKER_PAUSED) {
			log_info(NULL, "stop", "%s: files in flight are going back to the queue "
			    "after the lake failed; exiting then, not pausing", strsignal((int)sig));
			return;
		}
		if (w->probing_lake) {
			/* Its callbacks own memory: let it end (a second signal will not wait). */
			log_info(NULL, "stop", "%s while paused: exiting once the lake probe in "
			    "flight ends", strsignal((int)sig));
			w->stop_after_probe = true;
			return;
		}
		if (w->requeue_pending)
			log_warn(NULL, "exit", "%s while paused, Redis still unreachable: the "
			    "unfinished ids stay in %s%s", strsignal((int)sig),
			    pw_queue_processing_key(w->queue), w->cfg->fetch == PW_FETCH_BLMOVE ?
			    " for a restart or a reaper" : " (blpop mode: they are lost)");
		else
			log_info(NULL, "stop", "%s while paused for the lake: nothing is in flight",
			    strsignal((int)sig));
		stop_loop(w);
		return;
	}
	w->signalled = true;
	switch (w->state) {
	case WORKER_PAUSED:	/* not reached: a paused worker has failed (above) */
		stop_loop(w);
		break;
	case WORKER_RUNNING:
		log_info(NULL, "draining", "%s: no new files; %u in flight get %.0fs to "
		    "finish", strsignal((int)sig), w->n_jobs, w->cfg->drain_timeout);
		w->state = WORKER_DRAINING;
		pw_queue_stop(w->queue);
		if (w->state != WORKER_DRAINING)
			return;		/* fetch_closed() already finished the drain */
		worker_batch_ready(w);
		if (w->state != WORKER_DRAINING)
			return;
		tv = pw_timeval(w->cfg->drain_timeout);
		evtimer_add(w->drain_ev, &tv);
		break;
	case WORKER_DRAINING:
		if (w->finish_waits) {
			/* Requeued now, those uploads might be committed twice. */
			log_warn(NULL, "exit", "another signal: exiting without waiting for the "
			    "commits in flight; ids in flight stay in %s",
			    pw_queue_processing_key(w->queue));
			stop_loop(w);
			break;
		}
		log_info(NULL, "draining", "second signal: not waiting for files in flight");
		w->drain_expired = true;
		if (w->fetch_closed)
			finish_drain(w);
		else
			pw_queue_abandon_fetch(w->queue);
		break;
	case WORKER_REQUEUEING:
	case WORKER_STOPPED:
		log_warn(NULL, "exit", "third signal: exiting now; ids in flight stay in %s",
		    pw_queue_processing_key(w->queue));
		stop_loop(w);
		break;
	}
}

/* --- a failing lake ------------------------------------------------------- */

static void
on_fatal(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;

	(void)fd;
	(void)what;
	switch (w->state) {
	case WORKER_RUNNING:
		w->state = WORKER_DRAINING;
		pw_queue_stop(w->queue);
		if (w->state != WORKER_DRAINING)
			return;
		/* FALLTHROUGH */
	case WORKER_DRAINING:
		w->drain_expired = true;
		if (w->fetch_closed)
			finish_drain(w);
		else
			pw_queue_abandon_fetch(w->queue);
		break;
	case WORKER_REQUEUEING:
	case WORKER_PAUSED:
	case WORKER_STOPPED:
		break;
	}
}

/*
 * The lake failed (a full disk, a read-only file system, the store
 * unreachable after its retries, a log changed by another writer): no
 * upload is to blame, so none is failed.  The worker stops taking ids,
 * puts every upload in flight back at the head of the queue (a commit in
 * flight is waited for first), and pauses: the lake is tried again with a
 * capped, jittered backoff, and ingestion resumes once it takes writes.
 * A lake that can never take this worker's commits again (a table whose
 * log lost its versions, or whose schema another writer changed) ends the
 * worker with exit status 1 instead.  Called from deep inside a job, so
 * the stopping happens on the next loop turn.
 */
void
worker_fatal(struct pw_worker *w, const struct pw_error *err)
{
	static const struct timeval now = { 0, 0 };

	if (w->failed)
		return;
	w->failed = true;
	log_error(NULL, "lake-failed", "%s; pausing: files in flight go back to the queue and "
	    "the lake is tried again", err->msg);
	evtimer_add(w->fatal_ev, &now);
}

/* --- paused for the lake -------------------------------------------------- */

#define PROBE_FIRST	1.0	/* seconds before the first probe of a failed lake */
#define PROBE_MAX	60.0

static void
schedule_probe(struct pw_worker *w)
{
	/* Failed probes and pauses since the last commit both back off: a disk
	 * with room for the probe but not for a data file pauses again at once.
	 * Jittered: workers sharing a lake do not probe in step. */
	unsigned n = w->probes + w->pause_streak;
	struct timeval tv = pw_timeval(pw_backoff(PROBE_FIRST, PROBE_MAX, n > 0 ? n - 1 : 0));

	evtimer_add(w->probe_ev, &tv);
}

/* blpop mode's ids to requeue, once they are back or given up. */
static void
free_leftover(struct pw_worker *w)
{
	while (w->n_leftover > 0)
		free(w->leftover[--w->n_leftover]);
	free(w->leftover);
	w->leftover = NULL;
}

static void
pause_ingestion(struct pw_worker *w)
{
	w->state = WORKER_PAUSED;
	w->pauses++;
	w->pause_streak++;
	w->probes = 0;
	log_warn(NULL, "paused", "ingestion paused for the lake %s (%u time(s) since the last "
	    "commit); trying it again with a backoff of up to %.0fs", w->cfg->lake,
	    w->pause_streak, PROBE_MAX);
	schedule_probe(w);
}

static void
resume_ingestion(struct pw_worker *w)
{
	log_info(NULL, "resumed", "the lake %s takes writes again after %u failed probe(s); "
	    "taking ids", w->cfg->lake, w->probes);
	w->failed = false;
	w->fetch_closed = false;
	w->drain_expired = false;
	w->finish_waits = false;
	free_leftover(w);
	w->state = WORKER_RUNNING;
	pw_queue_restart(w->queue);
}

static void
on_lake_checked(struct pw_worker *w, int result, const struct pw_error *err)
{
	w->probing_lake = false;
	if (w->state != WORKER_PAUSED)
		return;		/* a signal stopped the worker meanwhile */
	if (w->stop_after_probe) {
		stop_loop(w);
		return;
	}
	if (result == 0 && w->requeue_pending) {
		/* The ids must be back in the queue before any is taken again. */
		log_debug(NULL, "lake-probe", "the lake takes writes; waiting for Redis to "
		    "take the unfinished ids back first");
		schedule_probe(w);
		return;
	}
	if (result == 0) {
		resume_ingestion(w);
		return;
	}
	if (result > 0) {
		log_error(NULL, "lake-lost", "%s; stopping (exit 1): nothing is in flight",
		    err->msg);
		w->exit_status = 1;
		stop_loop(w);
		return;
	}
	if (w->probes++ == 0)
		log_warn(NULL, "lake-probe", "the lake still fails: %s", err->msg);
	else
		log_debug(NULL, "lake-probe", "the lake still fails: %s", err->msg);
	schedule_probe(w);
}

static void
on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;

	(void)fd;
	(void)what;
	if (w->state != WORKER_PAUSED || w->probing_lake)
		return;
	w->probing_lake = true;
	batch_check_lake(w, on_lake_checked);
}

/* --- run ------------------------------------------------------------------ */

static void
on_log_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pw_log_flush();
}

static void
on_statuses(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_send_statuses(arg);
}

/* Activated from a callback, it runs in the same turn, after the others. */
static void
log_wake(void *arg)
{
	event_active(((struct pw_worker *)arg)->log_ev, EV_TIMEOUT, 0);
}

static void
worker_init(struct pw_worker *w, const struct pw_config *cfg)
{
	static const struct pw_queue_events events = {
		free_slots, has_id, take, idle, cmd_ready, fetch_closed,
	};

	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	w->base = event_base_new();
	if (w->base == NULL)
		pw_fatal("cannot create the event loop");
	TAILQ_INIT(&w->jobs);
	TAILQ_INIT(&w->parked);
	TAILQ_INIT(&w->waiting);
	TAILQ_INIT(&w->iso_wait);
	pw_budget_init(&w->mem, cfg->memory_budget);
	/* The source reads every local file through one buffer of this size. */
	pw_budget_set(&w->mem, PW_MEM_READ, &w->mem_read, cfg->read_chunk_bytes);
	for (w->n_buckets = 16; w->n_buckets < 2 * (size_t)cfg->max_inflight; )
		w->n_buckets *= 2;
	w->buckets = pw_xcalloc(w->n_buckets, sizeof *w->buckets);
	w->queue = pw_queue_create(w->base, cfg, &events, w);
	w->source = pw_source_create(w->base, cfg);
	w->tree = pw_jtree_create(cfg->max_depth);
	w->sigterm_ev = evsignal_new(w->base, SIGTERM, on_signal, w);
	w->sigint_ev = evsignal_new(w->base, SIGINT, on_signal, w);
	w->drain_ev = evtimer_new(w->base, on_drain_timeout, w);
	w->giveup_ev = evtimer_new(w->base, on_giveup, w);
	w->fatal_ev = evtimer_new(w->base, on_fatal, w);
	w->probe_ev = evtimer_new(w->base, on_probe, w);
	w->log_ev = event_new(w->base, -1, 0, on_log_flush, w);
	TAILQ_INIT(&w->statuses);
	w->status_ev = event_new(w->base, -1, 0, on_statuses, w);
	if (w->sigterm_ev == NULL || w->sigint_ev == NULL || w->drain_ev == NULL ||
	    w->giveup_ev == NULL || w->fatal_ev == NULL || w->probe_ev == NULL ||
	    w->log_ev == NULL ||
	    w->status_ev == NULL)
		pw_fatal("cannot create the worker's events");
	pw_log_defer(log_wake, w);
}

static void
worker_finish(struct pw_worker *w)
{
	if (w->progress_ev != NULL)
		event_free(w->progress_ev);
	w->progress_ev = NULL;
	liveness_stop(w);
	ops_stop(w);
	cancel_all(w);
	job_drop_statuses(w);
	/* Frees the connections: owed replies arrive as NULL and free their jobs. */
	pw_queue_destroy(w->queue);
	pw_source_destroy(w->source);
	batch_close_all(w);
	pw_jtree_destroy(w->tree);
	pw_remotes_destroy(w->remotes);
	pw_http_destroy(w->http);
	event_free(w->fatal_ev);
	event_free(w->probe_ev);
	event_free(w->sigterm_ev);
	event_free(w->sigint_ev);
	event_free(w->drain_ev);
	event_free(w->giveup_ev);
	event_free(w->status_ev);
	while (w->n_read_ok > 0)
		free(w->read_ok[--w->n_read_ok].key);
	free(w->read_ok);
	pw_log_defer(NULL, NULL);
	event_free(w->log_ev);
	free(w->buckets);
	free_leftover(w);
	event_base_free(w->base);
}

int
pw_worker_run(const struct pw_config *cfg)
{
	struct pw_worker w;
	struct pw_error err;
	char addr[300];

	signal(SIGPIPE, SIG_IGN);	/* hiredis writes without MSG_NOSIGNAL */
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	worker_init(&w, cfg);
	/* One libcurl multi handle for the S3 lake and remote uploads. */
	if ((strncmp(cfg->lake, "s3://", 5) == 0 || cfg->n_source_hosts > 0) &&
	    (w.http = pw_http_create(w.base, HTTP_CONNECTIONS, HTTP_HOST_CONNECTIONS,
	    &err)) == NULL) {
		log_error(NULL, "http", "%s", err.msg);
		worker_finish(&w);
		return 2;
	}
	if (cfg->n_source_hosts > 0) {
		w.remotes = pw_remotes_create(w.base, w.http, cfg, (pw_remote_getenv_fn)getenv);
		pw_source_set_remotes(w.source, w.remotes);
	}
	/* Before the signal handlers: stopping then has nothing to save. */
	if (batch_open_all(&w, &err) == -1) {
		log_error(NULL, "table", "%s", err.msg);
		worker_finish(&w);
		return 2;
	}
	if (preflight_local(&w) == -1) {	/* logged */
		worker_finish(&w);
		return 2;
	}
	if (ops_start(&w, &err) == -1) {
		log_error(NULL, "metrics", "%s", err.msg);
		worker_finish(&w);
		return 2;
	}
	event_add(w.sigterm_ev, NULL);
	event_add(w.sigint_ev, NULL);
	progress_start(&w);
	liveness_start(&w);
	pw_config_redis_display(&cfg->redis, addr, sizeof addr);
	log_info(NULL, "start", "worker %s, redis %s, queue %s, %s mode, up to %u "
	    "files in flight, memory budget %.1f MiB, lake %s", cfg->worker_id, addr,
	    cfg->queue_key, cfg->fetch == PW_FETCH_BLMOVE ? "blmove" : "blpop",
	    cfg->max_inflight, (double)cfg->memory_budget / 1048576, cfg->lake);
	ops_log_memory(&w, "idle");
	pw_queue_start(w.queue);
	event_base_dispatch(w.base);
	progress_stop(&w);
	ops_log_memory(&w, "stop");
	log_info(NULL, "stop", "done=%llu failed=%llu skipped=%llu missing=%llu "
	    "records=%llu peak_rss_kb=%.0f", w.stats.done, w.stats.failed,
	    w.stats.skipped, w.stats.missing, w.stats.records, ops_peak_rss_bytes() / 1024);
	worker_finish(&w);
	return w.exit_status;
}
