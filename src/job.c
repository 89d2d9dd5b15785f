/*
 * job: one queued file through the pipeline.
 *
 *   LOAD   HGETALL file:<id>; an empty hash or an already final status is
 *          acknowledged without work
 *   MARK   status processing (a Lua write that never creates a hash)
 *   READ   source -> jsonscan -> records, no Redis involved
 *   FINISH status done or failed, with records or error_message
 *   ACK    LREM from the processing list, then the job is freed
 *
 * Every Redis step is idempotent, so a step whose reply is lost (NULL) is
 * simply sent again once the command connection is back: the job "parks".
 * A step answered with an error is retried with backoff, except WRONGTYPE,
 * which no retry can fix.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portada/log.h"
#include "worker.h"

#define RETRY_MAX_SECONDS 5

static void job_free(struct job *job);
static void job_fail(struct job *job, const struct pw_error *err);

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_step(arg);
}

/* A Redis error reply that may go away (OOM, LOADING, BUSY, READONLY...). */
static void
retry_later(struct job *job, const char *what, const char *reply)
{
	struct timeval tv = { 1, 0 };
	unsigned i;

	for (i = 0; i < job->retries && tv.tv_sec < RETRY_MAX_SECONDS; i++)
		tv.tv_sec *= 2;
	if (tv.tv_sec > RETRY_MAX_SECONDS)
		tv.tv_sec = RETRY_MAX_SECONDS;
	if (job->retries == 0)
		log_warn(job->id, "redis-error", "%s: %s; retrying", what, reply);
	job->retries++;
	if (job->retry_ev == NULL)
		job->retry_ev = evtimer_new(job->w->base, on_retry, job);
	evtimer_add(job->retry_ev, &tv);
}

/* A reply came for a job that was cancelled while waiting for it. */
static bool
reply_for_cancelled(struct job *job)
{
	job->cmd_pending = false;
	if (job->cancelled) {
		job_free(job);
		return true;
	}
	return false;
}

static void
to_ack(struct job *job)
{
	job->state = JOB_ACK;
	job->retries = 0;
	job_step(job);
}

static void
to_finish(struct job *job)
{
	job->state = JOB_FINISH;
	job->retries = 0;
	job_step(job);
}

static void
job_fail(struct job *job, const struct pw_error *err)
{
	job->outcome = PW_STATUS_FAILED;
	free(job->error);
	job->error = pw_xstrdup(err->msg);
	pw_read_destroy(job->rd);
	job->rd = NULL;
	pw_scan_destroy(job->scan);
	job->scan = NULL;
	to_finish(job);
}

/* --- READ: source -> scanner -> records ------------------------------- */

static int
on_record(void *arg, const struct pw_scan_record *rec, struct pw_error *err)
{
	struct job *job = arg;
	struct pw_record r;

	if (pw_record_parse(job->kind, rec, &r, err) != 0)
		return -1;
	/* The table writer takes the record here; until then it is only counted. */
	pw_record_finish(&r);
	job->records++;
	return 0;
}

static int
on_data(void *arg, const char *buf, size_t len, struct pw_error *err)
{
	struct job *job = arg;

	return pw_scan_feed(job->scan, buf, len, err);
}

static void
on_end(void *arg, const struct pw_error *read_err)
{
	struct job *job = arg;
	struct pw_error err;

	pw_read_destroy(job->rd);
	job->rd = NULL;
	if (read_err != NULL) {
		job_fail(job, read_err);
		return;
	}
	if (pw_scan_finish(job->scan, &err) != 0) {
		job_fail(job, &err);
		return;
	}
	pw_scan_destroy(job->scan);
	job->scan = NULL;
	job->outcome = PW_STATUS_DONE;
	to_finish(job);
}

static void
start_reading(struct job *job)
{
	static const struct pw_read_events events = { on_data, on_end };
	struct pw_scan_options opts = { 0 };
	struct pw_error err;

	job->state = JOB_READ;
	if (job->kind == PW_FILE_ENTITY && (has_suffix(job->file_path, ".yaml") ||
	    has_suffix(job->file_path, ".yml"))) {
		pw_error_set(&err, "YAML entity files are not supported; upload the "
		    "entity list as JSON: %s", job->file_path);
		job_fail(job, &err);
		return;
	}
	job->rd = pw_read_open(job->w->source, job->file_path, &events, job, &err);
	if (job->rd == NULL) {
		job_fail(job, &err);
		return;
	}
	pw_file_kind_scan_options(job->kind, &opts);
	opts.max_record_bytes = job->w->cfg->max_record_bytes;
	opts.max_depth = job->w->cfg->max_depth;
	job->scan = pw_scan_create(&opts, on_record, job);
	pw_read_start(job->rd);
}

/* --- Redis steps -------------------------------------------------------- */

static const char *
hash_field(const redisReply *reply, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    strcmp(k->str, name) == 0)
			return v->str;
	}
	return NULL;
}

static void
on_load(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct job *job = arg;
	const struct pw_config *cfg = job->w->cfg;
	const char *status, *file_type, *entity_type;
	struct pw_error err;

	(void)r;
	if (reply_for_cancelled(job))
		return;
	if (reply == NULL) {
		worker_park(job->w, job);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "WRONGTYPE", 9) == 0) {
			log_error(job->id, "skipped", "%s is not a hash; acknowledged "
			    "without processing", job->key);
			job->w->stats.missing++;
			to_ack(job);
		} else
			retry_later(job, "HGETALL", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
		log_warn(job->id, "skipped", "%s is empty or missing; acknowledged "
		    "without processing", job->key);
		job->w->stats.missing++;
		to_ack(job);
		return;
	}
	status = hash_field(reply, "status");
	if (pw_status_is_final(cfg->status_scheme, status)) {
		/* Finished before a crash or a Redis rollback: never twice. */
		log_info(job->id, "skipped", "already finished (status %s); "
		    "acknowledged without processing again", status);
		job->w->stats.skipped++;
		to_ack(job);
		return;
	}
	file_type = hash_field(reply, "file_type");
	job->file_path = pw_xstrdup(hash_field(reply, "file_path") != NULL ?
	    hash_field(reply, "file_path") : "");
	if (pw_file_kind_parse(file_type, &job->kind, &entity_type, &err) != 0) {
		job_fail(job, &err);
		return;
	}
	job->state = JOB_MARK;
	job->retries = 0;
	job_step(job);
}

/* The final status is written. */
static void
log_outcome(struct job *job)
{
	if (job->outcome == PW_STATUS_DONE) {
		job->w->stats.done++;
		job->w->stats.records += job->records;
		log_info(job->id, "done", "%llu record(s)", job->records);
	} else {
		job->w->stats.failed++;
		log_warn(job->id, "failed", "%s", job->error);
	}
}

static void
on_status(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct job *job = arg;

	(void)r;
	/*
	 * A final write that was already sent when the drain deadline cancelled
	 * the job still lands (the requeue then drops the id as final): log it,
	 * or the file's life would end without its "done" or "failed" line.
	 */
	if (job->cancelled && job->state == JOB_FINISH && reply != NULL &&
	    reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
		log_outcome(job);
	if (reply_for_cancelled(job))
		return;
	if (reply == NULL) {
		worker_park(job->w, job);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		retry_later(job, "status write", reply->str);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
		log_warn(job->id, "skipped", "%s was deleted while in flight; its status "
		    "is not written and it is acknowledged", job->key);
		job->w->stats.missing++;
		to_ack(job);
		return;
	}
	if (job->state == JOB_MARK) {
		log_info(job->id, "processing", "%s%s", job->file_path,
		    job->recovered ? " (recovered)" : "");
		start_reading(job);
		return;
	}
	log_outcome(job);
	to_ack(job);
}

static void
on_acked(void *arg, int status)
{
	struct job *job = arg;

	if (reply_for_cancelled(job))
		return;
	if (status > 0) {
		/* e.g. LOADING after a restart: parked, it would wait for a reconnect forever. */
		retry_later(job, "LREM", "Redis answered with an error");
		return;
	}
	if (status != 0) {
		worker_park(job->w, job);
		return;
	}
	log_debug(job->id, "acked", "removed from %s", pw_queue_processing_key(job->w->queue));
	job_free(job);
}

static int
send_status(struct job *job, enum pw_status_kind kind)
{
	struct pw_status_write sw;

	pw_status_build(&sw, job->w->cfg->status_scheme, kind, job->key,
	    job->w->cfg->worker_id, job->error, job->records, (long long)time(NULL));
	return pw_redis_command(pw_queue_cmd(job->w->queue), on_status, job, 0,
	    sw.argc, sw.argv, sw.argvlen);
}

/* Send the current state's command, or park until Redis is back. */
void
job_step(struct job *job)
{
	struct pw_redis *cmd = pw_queue_cmd(job->w->queue);
	int rc = 0;

	if (job->cmd_pending || job->parked)
		return;
	switch (job->state) {
	case JOB_LOAD: {
		const char *argv[] = { "HGETALL", job->key };

		rc = pw_redis_command(cmd, on_load, job, 0, 2, argv, NULL);
		break;
	}
	case JOB_MARK:
		rc = send_status(job, PW_STATUS_PROCESSING);
		break;
	case JOB_READ:
		return;
	case JOB_FINISH:
		rc = send_status(job, job->outcome);
		break;
	case JOB_ACK:
		rc = pw_queue_ack(job->w->queue, job->id, on_acked, job);
		if (rc == 1) {
			job_free(job);	/* blpop mode: nothing holds the id */
			return;
		}
		break;
	}
	if (rc != 0)
		worker_park(job->w, job);
	else
		job->cmd_pending = true;
}

void
job_start(struct pw_worker *w, const char *id, bool recovered)
{
	struct job *job = pw_xcalloc(1, sizeof *job);
	size_t n = strlen(w->cfg->hash_prefix) + strlen(id) + 1;

	job->w = w;
	job->id = pw_xstrdup(id);
	job->key = pw_xmalloc(n);
	snprintf(job->key, n, "%s%s", w->cfg->hash_prefix, id);
	job->recovered = recovered;
	job->state = JOB_LOAD;
	worker_insert(w, job);
	log_debug(job->id, "claimed", "%s", recovered ? "from the processing list" :
	    "from the queue");
	job_step(job);
}

static void
job_free(struct job *job)
{
	worker_job_freed(job->w, job);
	pw_read_destroy(job->rd);
	pw_scan_destroy(job->scan);
	if (job->retry_ev != NULL)
		event_free(job->retry_ev);
	free(job->file_path);
	free(job->error);
	free(job->key);
	free(job->id);
	free(job);
}

/* Drop a job at the drain deadline; its id goes back to the queue. */
void
job_cancel(struct job *job)
{
	if (job->cmd_pending) {
		/* The reply still owed must find the job: free it then. */
		job->cancelled = true;
		worker_job_freed(job->w, job);
		pw_read_destroy(job->rd);
		job->rd = NULL;
		return;
	}
	job_free(job);
}
