/*
 * job: one queued file through the pipeline.
 *
 *   LOAD   HGETALL file:<id>; an empty hash or an already final status is
 *          acknowledged without work
 *   MARK   status processing (a Lua write that never creates a hash)
 *   READ   source -> jsonscan -> records -> rows, no Redis involved
 *   COMMIT the rows wait in their table's batch (batch.c) for the commit
 *   FINISH status done or failed, with records or error_message (and the
 *          table version that holds the rows)
 *   ACK    LREM from the processing list, then the job is freed
 *
 * Every Redis step is idempotent, so a step whose reply is lost (NULL) is
 * simply sent again once the command connection is back: the job "parks".
 * A step answered with an error is retried with backoff, except WRONGTYPE,
 * which no retry can fix.
 *
 * Failures come in two kinds, and only one is the file's:
 *   passing    Redis away or erring (park, retry_later()), the lake or the
 *              store failing (job->storage_failed: worker_fatal() pauses
 *              the worker and the file goes back to the queue unharmed)
 *   the file's bad JSON or shape, missing, outside the ingest roots, a
 *              bad file_type, a source URL that keeps failing: job_fail()
 *              ends it with status failed at once, and no retry
 * A death while the file is read is neither until it repeats: see
 * give_up().
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portada/utf8.h"
#include "portada/yamlentities.h"

#include "portada/backoff.h"
#include "portada/fault.h"
#include "portada/log.h"
#include "portada/remote.h"
#include "worker.h"

#define RETRY_MAX_SECONDS 5
#define YAML_FILE_MAX	((size_t)64 << 20)	/* read whole, so capped */

static void job_free(struct job *job);
static void job_fail(struct job *job, const struct pw_error *err);
static void job_read_ok(struct job *job);
static void reading_done(struct job *job);

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

/*
 * A Redis error reply that may go away (OOM, LOADING, BUSY, READONLY...):
 * 1 s doubling to RETRY_MAX_SECONDS, jittered over the upper half so the
 * files of a busy worker do not all come back in the same instant.
 */
static void
retry_later(struct job *job, const char *what, const char *reply)
{
	struct timeval tv = pw_timeval(pw_backoff(1, RETRY_MAX_SECONDS, job->retries));

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
	/* Failed, or not its fault: either way no death to count. */
	if (job->reading)
		job_read_ok(job);
	reading_done(job);
	if (job->storage_failed) {
		/* Not the file's fault: it goes back to the queue with the rest. */
		pw_read_destroy(job->rd);
		job->rd = NULL;
		worker_fatal(job->w, err);
		return;
	}
	batch_drop_job(job);
	job->outcome = PW_STATUS_FAILED;
	free(job->error);
	job->error = pw_xstrdup(err->msg);
	pw_read_destroy(job->rd);
	job->rd = NULL;
	pw_scan_destroy(job->scan);
	job->scan = NULL;
	pw_buf_finish(&job->yaml);
	pw_budget_set(&job->w->mem, PW_MEM_RECORDS, &job->mem_records, 0);
	to_finish(job);
}

/* --- READ: source -> scanner -> records ------------------------------- */

static int
on_record(void *arg, const struct pw_scan_record *rec, struct pw_error *err)
{
	struct job *job = arg;
	const struct pw_pq_value *row;
	struct pw_record r;
	int rc;

	if (pw_record_parse(job->kind, rec, job->w->tree, &r, err) != 0) {
		batch_scratch_trim(job->w, job->batch);
		return -1;
	}
	if (job->kind == PW_FILE_ENTRY)
		row = pw_row_entry(batch_rows(job->batch), &job->meta, job->records, r.value,
		    rec->data, rec->len);
	else
		row = pw_row_entity_json(batch_rows(job->batch), &job->meta, job->records, r.name,
		    r.value);
	rc = batch_stage_row(job, row, err);
	pw_record_finish(&r);
	batch_scratch_trim(job->w, job->batch);
	if (rc == -1) {
		if (!job->storage_failed)
			pw_error_prefix(err, "record %zu at line %lu, column %lu", rec->index + 1,
			    rec->value_line, rec->value_column);
		return -1;
	}
	job->records++;
	return 0;
}

static int
on_yaml_entity(void *arg, const char *name, size_t name_len, const struct pw_yaml_str *voices,
    size_t nvoices, size_t line, size_t column, struct pw_error *err)
{
	struct job *job = arg;
	const struct pw_pq_value *row;
	int rc;

	if (nvoices > job->nvoices_cap) {
		job->nvoices_cap = nvoices;
		free(job->voices);
		job->voices = pw_xcalloc(nvoices, sizeof *job->voices);
	}
	for (size_t i = 0; i < nvoices; i++) {
		job->voices[i].p = voices[i].data;
		job->voices[i].n = voices[i].len;
	}
	row = pw_row_entity(batch_rows(job->batch), &job->meta, job->records, name, name_len,
	    job->voices, nvoices);
	rc = batch_stage_row(job, row, err);
	batch_scratch_trim(job->w, job->batch);
	if (rc == -1) {
		if (!job->storage_failed)
			pw_error_prefix(err, "entity at line %zu, column %zu", line, column);
		return -1;
	}
	job->records++;
	return 0;
}

static int
on_data(void *arg, const char *buf, size_t len, struct pw_error *err)
{
	struct job *job = arg;

	switch (batch_before_chunk(job, err)) {
	case 0:
		break;
	case PW_READ_PAUSE:
		return PW_READ_PAUSE;
	default:
		return -1;
	}
	if (job->is_yaml) {
		if (pw_buf_append(&job->yaml, buf, len) == -1) {
			pw_error_set(err, "YAML entity file is larger than %zu MiB; upload it as "
			    "JSON, which has no such limit: %s", YAML_FILE_MAX >> 20, job->shown_path);
			return -1;
		}
		pw_budget_set(&job->w->mem, PW_MEM_RECORDS, &job->mem_records, job->yaml.cap);
		batch_archive_write(job, buf, len);
		job->w->stats.bytes += len;
		return 0;
	}
	if (pw_scan_feed(job->scan, buf, len, err) != 0)
		return -1;
	/* The scanner's partial record (the shared tree: batch_memory_update()). */
	pw_budget_set(&job->w->mem, PW_MEM_RECORDS, &job->mem_records, pw_scan_held(job->scan));
	batch_archive_write(job, buf, len);
	job->w->stats.bytes += len;
	return 0;
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
	if (job->is_yaml) {
		int rc = pw_yaml_entities((const char *)job->yaml.data, job->yaml.len,
		    on_yaml_entity, job, &err);

		pw_buf_finish(&job->yaml);
		if (rc != 0) {
			if (!job->storage_failed)
				pw_error_prefix(&err, "%s", job->shown_path);
			job_fail(job, &err);
			return;
		}
	} else if (pw_scan_finish(job->scan, &err) != 0) {
		job_fail(job, &err);
		return;
	}
	pw_scan_destroy(job->scan);
	job->scan = NULL;
	pw_budget_set(&job->w->mem, PW_MEM_RECORDS, &job->mem_records, 0);
	job->outcome = PW_STATUS_DONE;
	job_read_ok(job);
	reading_done(job);
	batch_add(job);		/* to JOB_COMMIT, or stopping on a lake failure */
}

/* batch.c: the commit holding the job's rows is durable. */
void
job_committed(struct job *job, uint64_t version)
{
	job->committed = true;
	job->delta_version = version;
	to_finish(job);
}

static void
start_reading(struct job *job)
{
	static const struct pw_read_events events = { on_data, on_end };
	struct pw_scan_options opts = { 0 };
	struct pw_error err;

	job->state = JOB_READ;
	/* The stored name may have lost the suffix (<uuid>.json): the upload's name counts too. */
	job->is_yaml = job->kind == PW_FILE_ENTITY && (has_suffix(job->shown_path, ".yaml") ||
	    has_suffix(job->shown_path, ".yml") || (job->source_filename != NULL &&
	    (has_suffix(job->source_filename, ".yaml") || has_suffix(job->source_filename, ".yml"))));
	pw_buf_init(&job->yaml, YAML_FILE_MAX);
	job->meta.file_id = job->id;
	job->meta.uploaded_by = job->user;
	job->meta.source_filename = job->source_filename;
	job->meta.entity_type = job->entity_type;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		job->meta.ingested_at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	{
		const char *needle = pw_fault_arg("abort");

		if (needle != NULL && *needle != '\0' && strstr(job->file_path, needle) != NULL) {
			pw_log_flush();
			abort();	/* a test of --max-attempts: see fault.h */
		}
	}
	job->rd = pw_read_open(job->w->source, job->file_path, &events, job, &err);
	if (job->rd == NULL) {
		job_fail(job, &err);
		return;
	}
	if (job->w->cfg->archive_raw && batch_archive_open(job, &err) == -1) {
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

/*
 * file_path checked where its length is known: hash_field() would cut it
 * at a NUL, so another file than the one named would be read; and it is
 * shown in messages, logs and statuses, which must be UTF-8 (the dashboard
 * decodes them).  A missing one is pw_read_open()'s to report.
 */
static int
check_file_path(const redisReply *reply, struct pw_error *err)
{
	const char *nul;
	size_t i, bad;

	for (i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    strcmp(k->str, "file_path") != 0)
			continue;
		if (v->len == 0) {
			pw_error_set(err, "file_path is empty");
			return -1;
		}
		if ((nul = memchr(v->str, '\0', v->len)) != NULL) {
			pw_error_set(err, "file_path contains a NUL byte at offset %zu",
			    (size_t)(nul - v->str));
			return -1;
		}
		if ((bad = pw_utf8_check(v->str, v->len)) < v->len) {
			pw_error_set(err, "file_path is not valid UTF-8 (byte 0x%02X at "
			    "offset %zu)", (unsigned)(unsigned char)v->str[bad], bad);
			return -1;
		}
		return 0;
	}
	return 0;
}

/* A time field in seconds ("1738843718.123456"), as ms; -1 if absent or odd. */
static int64_t
field_ms(const redisReply *reply, const char *name)
{
	const char *v = hash_field(reply, name);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return -1;
	d = strtod(v, &end);
	if (*end != '\0' || !isfinite(d) || d < 0 || d > 1e13)
		return -1;
	return (int64_t)(d * 1000);
}

/*
 * When could this upload first have been worked on?  The upload time, or
 * the first attempt's start if that is earlier (a clock may be off): a
 * commit older than that cannot hold it.  The first start is kept across
 * attempts so that a worker down for days still looks back far enough.
 */
static void
note_attempts(struct job *job, const redisReply *reply)
{
	int64_t uploaded = field_ms(reply, "timestamp"), first = field_ms(reply, "first_started_at");
	int64_t started = field_ms(reply, "started_at"), now = (int64_t)time(NULL) * 1000;
	char buf[32];

	if (first < 0)
		first = started;
	job->uploaded_ms = uploaded;
	job->since_ms = now;
	if (uploaded >= 0 && uploaded < job->since_ms)
		job->since_ms = uploaded;
	if (first >= 0 && first < job->since_ms)
		job->since_ms = first;
	snprintf(buf, sizeof buf, "%" PRId64, (first >= 0 ? first : now) / 1000);
	job->first_started_at = pw_xstrdup(buf);
}

/*
 * Poison files: every start of a file counts in its hash's `attempts`
 * (written with "processing").  The count is taken back once the file is
 * read whole or fails (job_read_ok()), or when the worker drops it
 * (job_abandon(): stopping, pausing, a lapsed lease), so what is left
 * counts attempts that ended while the file was being read and its worker
 * died (a crash, a kill) or was reaped.  Past --max-attempts the file fails instead, so one that
 * crashes the worker cannot do so for ever.
 */
static void
give_up(struct job *job)
{
	struct pw_error err;

	if (job->last_error != NULL)
		pw_error_set(&err, "given up after %u attempts; the last error: %s",
		    job->attempts, job->last_error);
	else
		pw_error_set(&err, "given up after %u attempts; each ended while the file was "
		    "being read, without an outcome, the last one when worker %s stopped (a "
		    "crash, a kill or a lost heartbeat)", job->attempts,
		    job->last_worker != NULL ? job->last_worker : "(unknown)");
	job->w->stats.given_up++;
	job_fail(job, &err);
}

/*
 * Suspects: a file whose count is up was being read when a worker died.
 * It is read alone, and nothing else starts while it is, so if it kills
 * the worker again the count goes up for it only, not for the files that
 * happened to be read alongside (they are suspects once, then read fine
 * and are done).  Starts keep their order: behind a waiting suspect,
 * everyone waits.
 */
static void
begin_attempt(struct job *job)
{
	struct pw_worker *w = job->w;

	job->reading = true;
	w->n_reading++;
	if (job->attempts > 0) {
		w->suspect_reading = true;
		log_info(job->id, "suspect", "started %u time(s) before without an outcome; "
		    "read alone", job->attempts);
	}
	job->state = JOB_MARK;
	job->retries = 0;
	job_step(job);
}

static bool
may_begin(const struct pw_worker *w, const struct job *job)
{
	return !w->suspect_reading && (job->attempts == 0 || w->n_reading == 0);
}

static void
start_attempt(struct job *job)
{
	struct pw_worker *w = job->w;

	if (!TAILQ_EMPTY(&w->iso_wait) || !may_begin(w, job)) {
		job->iso_waiting = true;
		TAILQ_INSERT_TAIL(&w->iso_wait, job, iso_link);
		return;
	}
	begin_attempt(job);
}

/* The job's reading ended (or never will): let the next ones start. */
static void
reading_done(struct job *job)
{
	struct pw_worker *w = job->w;
	struct job *next;

	if (job->iso_waiting) {
		TAILQ_REMOVE(&w->iso_wait, job, iso_link);
		job->iso_waiting = false;
	}
	if (!job->reading)
		return;
	job->reading = false;
	w->n_reading--;
	if (job->attempts > 0)
		w->suspect_reading = false;
	if (w->fencing || (w->state != WORKER_RUNNING &&
	    (w->state != WORKER_DRAINING || w->finish_waits)))
		return;		/* being dropped: the waiting ones go too */
	while ((next = TAILQ_FIRST(&w->iso_wait)) != NULL && may_begin(w, next)) {
		TAILQ_REMOVE(&w->iso_wait, next, iso_link);
		next->iso_waiting = false;
		begin_attempt(next);
	}
}

static void
on_lookup(void *arg, struct pw_table_lookup *lk, const struct pw_error *err)
{
	struct job *job = arg;

	if (err != NULL) {
		job->storage_failed = true;
		job_fail(job, err);
		return;
	}
	if (!lk->found) {
		if (job->attempts >= job->w->cfg->max_attempts) {
			give_up(job);
			return;
		}
		start_attempt(job);
		return;
	}
	log_info(job->id, "already-committed", "in %s version %" PRIu64
	    "; not written again", job->batch->spec.table, lk->version);
	job->records = lk->records >= 0 ? (unsigned long long)lk->records : 0;
	job->outcome = PW_STATUS_DONE;
	job->committed = true;
	job->delta_version = lk->version;
	to_finish(job);
}

/*
 * Exactly once: a commit may hold this upload already (the worker died
 * before writing "done", or Redis lost the write).  Then it is done, with
 * the commit's figures, and is not read again.
 */
static void
look_up(struct job *job)
{
	job->state = JOB_LOOKUP;
	job->lookup.id = job->id;
	job->lookup.since_ms = job->since_ms;
	job->lookup.done = on_lookup;
	job->lookup.arg = job;
	pw_table_find_source(job->batch->table, &job->lookup);
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
	job->file_type = pw_xstrdup(file_type != NULL ? file_type : "");
	job->file_path = pw_xstrdup(hash_field(reply, "file_path") != NULL ?
	    hash_field(reply, "file_path") : "");
	/* A presigned URL's query is a credential: kept out of logs and statuses. */
	job->shown_path = pw_remote_is_url(job->file_path) ?
	    pw_xstrndup(job->file_path, strcspn(job->file_path, "?#")) :
	    pw_xstrdup(job->file_path);
	if (pw_file_kind_parse(file_type, &job->kind, &entity_type, &err) != 0 ||
	    check_file_path(reply, &err) != 0) {
		job_fail(job, &err);
		return;
	}
	job->batch = job->w->batches[job->kind];
	job->entity_type = entity_type != NULL ? pw_xstrdup(entity_type) : NULL;
	job->user = hash_field(reply, "user") != NULL ? pw_xstrdup(hash_field(reply, "user")) : NULL;
	job->source_filename = hash_field(reply, "original_filename") != NULL ?
	    pw_xstrdup(hash_field(reply, "original_filename")) :
	    hash_field(reply, "filename") != NULL ? pw_xstrdup(hash_field(reply, "filename")) : NULL;
	note_attempts(job, reply);
	{
		const char *a = hash_field(reply, "attempts"), *e = hash_field(reply, "last_error");
		const char *who = hash_field(reply, "worker");
		char *end;
		unsigned long n = a != NULL ? strtoul(a, &end, 10) : 0;

		job->attempts = a != NULL && *end == '\0' && n < 1000000000 ? (unsigned)n : 0;
		job->last_error = e != NULL && *e != '\0' ? pw_xstrdup(e) : NULL;
		job->last_worker = who != NULL ? pw_xstrdup(who) : NULL;
	}
	look_up(job);
}

/* The final status is written. */
static void
log_outcome(struct job *job)
{
	if (job->uploaded_ms >= 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		pw_histogram_observe(&job->w->stats.e2e, ((double)ts.tv_sec * 1000 +
		    (double)ts.tv_nsec / 1e6 - (double)job->uploaded_ms) / 1000);
	}
	if (job->outcome == PW_STATUS_DONE) {
		job->w->stats.done++;
		job->w->stats.records += job->records;
		log_info(job->id, "done", "%llu record(s) in %s version %" PRIu64, job->records,
		    job->batch->spec.table, job->delta_version);
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
		/* Scripts flushed: redis.c sends the next one whole, so at once. */
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
			job_step(job);
		else
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
		log_info(job->id, "processing", "%s%s", job->shown_path,
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

/*
 * Status writes asked for in one turn of the loop go out together, as one
 * script (pw_status_batch_script): each keeps its own answer, and a write
 * is still asked for only when its step is due.  Copied, since the job may
 * change before the turn ends.
 */
static int
send_status(struct job *job, enum pw_status_kind kind)
{
	struct pw_worker *w = job->w;
	struct pw_status_write sw;
	struct status_req *q;
	size_t strings = 0, off;
	char *p;
	int i;

	if (!pw_redis_ready(pw_queue_cmd(w->queue)))
		return -1;
	pw_status_build(&sw, w->cfg->status_scheme, kind, job->key, w->cfg->worker_id,
	    job->error, job->records, (long long)time(NULL));
	if (kind == PW_STATUS_PROCESSING) {
		pw_status_add(&sw, "first_started_at", job->first_started_at);
		/* The value, not HINCRBY: a write resent after a lost reply counts once. */
		pw_status_add_number(&sw, "attempts", (long long)job->attempts + 1);
		pw_status_add(&sw, "last_error", "");	/* a reaper's note on the attempt before */
	}
	if (kind == PW_STATUS_DONE && job->committed) {
		pw_status_add(&sw, "delta_table", job->batch->spec.table);
		pw_status_add_number(&sw, "delta_version", (long long)job->delta_version);
	}
	for (i = 3; i < sw.argc; i++)		/* past EVAL, the script and "1" */
		strings += sw.argvlen[i] + 1;
	q = pw_xmalloc(sizeof *q + (size_t)(sw.argc - 3) * (sizeof *q->argvlen +
	    sizeof *q->argv) + strings);
	q->job = job;
	q->argc = sw.argc - 3;
	q->argvlen = (size_t *)(q + 1);
	q->argv = (const char **)(q->argvlen + q->argc);
	p = (char *)(q->argv + q->argc);
	for (i = 0, off = 0; i < q->argc; i++) {
		memcpy(p + off, sw.argv[3 + i], sw.argvlen[3 + i]);
		p[off + sw.argvlen[3 + i]] = '\0';
		q->argv[i] = p + off;
		q->argvlen[i] = sw.argvlen[3 + i];
		off += sw.argvlen[3 + i] + 1;
	}
	TAILQ_INSERT_TAIL(&w->statuses, q, link);
	if (w->n_statuses++ == 0)
		event_active(w->status_ev, EV_TIMEOUT, 0);
	return 0;
}

#define STATUS_BATCH_MAX 512	/* keys per script: Redis runs it in one go */

struct status_batch {
	size_t n;
	struct job *jobs[];
};

static void
on_statuses(struct pw_redis *r, redisReply *reply, void *arg)
{
	static char odd[] = "unexpected reply to the status script";
	struct status_batch *b = arg;
	redisReply err = { .type = REDIS_REPLY_ERROR, .str = odd, .len = sizeof odd - 1 };
	bool each = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == b->n;
	size_t i;

	if (reply != NULL && reply->type != REDIS_REPLY_ERROR && !each)
		reply = &err;
	for (i = 0; i < b->n; i++)
		on_status(r, each ? reply->element[i] : reply, b->jobs[i]);
	free(b);
}

static void
send_status_batch(struct pw_worker *w)
{
	size_t n = w->n_statuses < STATUS_BATCH_MAX ? w->n_statuses : STATUS_BATCH_MAX;
	size_t i, argc = 3 + n, k;
	struct status_batch *b = pw_xmalloc(sizeof *b + n * sizeof b->jobs[0]);
	struct status_req *q;
	const char **argv;
	size_t *argvlen;
	char (*counts)[12], numkeys[24];
	int j, rc;

	i = 0;
	TAILQ_FOREACH(q, &w->statuses, link) {
		if (i++ == n)
			break;
		argc += (size_t)q->argc;	/* its key moves to KEYS, its count is added */
	}
	argv = pw_xcalloc(argc, sizeof *argv);
	argvlen = pw_xcalloc(argc, sizeof *argvlen);
	counts = pw_xcalloc(n, sizeof *counts);
	snprintf(numkeys, sizeof numkeys, "%zu", n);
	argv[0] = "EVAL";
	argv[1] = pw_status_batch_script;
	argv[2] = numkeys;
	k = 3 + n;
	for (i = 0, q = TAILQ_FIRST(&w->statuses); i < n; i++, q = TAILQ_NEXT(q, link)) {
		b->jobs[i] = q->job;
		argv[3 + i] = q->argv[0];
		argvlen[3 + i] = q->argvlen[0];
		snprintf(counts[i], sizeof counts[i], "%d", q->argc - 2);
		argv[k] = counts[i];
		argvlen[k++] = strlen(counts[i]);
		for (j = 1; j < q->argc; j++) {
			argv[k] = q->argv[j];
			argvlen[k++] = q->argvlen[j];
		}
	}
	for (i = 0; i < 3; i++)
		argvlen[i] = strlen(argv[i]);
	b->n = n;
	rc = pw_redis_command(pw_queue_cmd(w->queue), on_statuses, b, 0, (int)argc, argv,
	    argvlen);
	free(argv);
	free(argvlen);
	free(counts);
	for (i = 0; i < n; i++) {
		q = TAILQ_FIRST(&w->statuses);
		TAILQ_REMOVE(&w->statuses, q, link);
		w->n_statuses--;
		free(q);
	}
	if (rc != 0)
		on_statuses(NULL, NULL, b);	/* as a lost connection: the jobs park */
}

/*
 * A file read whole did not kill the worker: the attempt its "processing"
 * write counted is taken back (attempts set to what it was before), so
 * --max-attempts counts only deaths while a file was being read, the ones
 * a file can cause, and not a kill that finds it waiting for its commit.
 * Only where this worker still holds the file.  One script per turn; a
 * lost reply leaves the count up, which errs towards giving up sooner.
 */
static const char read_ok_script[] =
    "for i = 1, #KEYS do\n"
    "  if redis.call('HGET', KEYS[i], 'worker') == ARGV[1]\n"
    "      and redis.call('HGET', KEYS[i], 'attempts') == ARGV[2 * i] then\n"
    "    redis.call('HSET', KEYS[i], 'attempts', ARGV[2 * i + 1])\n"
    "  end\n"
    "end\n"
    "return #KEYS\n";

static void
on_read_ok(struct pw_redis *r, redisReply *reply, void *arg)
{
	(void)r;
	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_debug(NULL, "attempts", "not taken back: %s", reply->str);
}

static void
job_read_ok(struct job *job)
{
	struct pw_worker *w = job->w;

	if (w->n_read_ok == w->cap_read_ok) {
		w->cap_read_ok = w->cap_read_ok == 0 ? 64 : 2 * w->cap_read_ok;
		w->read_ok = pw_xrealloc(w->read_ok, w->cap_read_ok * sizeof *w->read_ok);
	}
	w->read_ok[w->n_read_ok].key = pw_xstrdup(job->key);
	w->read_ok[w->n_read_ok].attempts = job->attempts;
	w->n_read_ok++;
	event_active(w->status_ev, EV_TIMEOUT, 0);
}

/* Up to STATUS_BATCH_MAX take-backs in one script; -1 (kept for the next
 * time the connection is up) if it could not be sent. */
static int
send_read_ok(struct pw_worker *w)
{
	size_t n = w->n_read_ok < STATUS_BATCH_MAX ? w->n_read_ok : STATUS_BATCH_MAX;
	size_t argc = 4 + 3 * n, i;
	const char **argv = pw_xcalloc(argc, sizeof *argv);
	char (*nums)[2][16] = pw_xcalloc(n, sizeof *nums), numkeys[24];
	int rc;

	snprintf(numkeys, sizeof numkeys, "%zu", n);
	argv[0] = "EVAL";
	argv[1] = read_ok_script;
	argv[2] = numkeys;
	argv[3 + n] = w->cfg->worker_id;
	for (i = 0; i < n; i++) {
		argv[3 + i] = w->read_ok[i].key;
		/* Only the count this attempt wrote is taken back. */
		snprintf(nums[i][0], sizeof nums[i][0], "%u", w->read_ok[i].attempts + 1);
		snprintf(nums[i][1], sizeof nums[i][1], "%u", w->read_ok[i].attempts);
		argv[4 + n + 2 * i] = nums[i][0];
		argv[5 + n + 2 * i] = nums[i][1];
	}
	rc = pw_redis_command(pw_queue_cmd(w->queue), on_read_ok, NULL, 0, (int)argc, argv,
	    NULL);
	free(argv);
	free(nums);
	if (rc != 0)
		return -1;
	for (i = 0; i < n; i++)
		free(w->read_ok[i].key);
	memmove(w->read_ok, w->read_ok + n, (w->n_read_ok - n) * sizeof *w->read_ok);
	w->n_read_ok -= n;
	return 0;
}

void
job_send_statuses(struct pw_worker *w)
{
	while (!TAILQ_EMPTY(&w->statuses))
		send_status_batch(w);
	while (w->n_read_ok > 0 && send_read_ok(w) == 0)
		;
}

void
job_drop_statuses(struct pw_worker *w)
{
	struct status_req *q;

	while ((q = TAILQ_FIRST(&w->statuses)) != NULL) {
		struct job *job = q->job;

		TAILQ_REMOVE(&w->statuses, q, link);
		w->n_statuses--;
		free(q);
		on_status(NULL, NULL, job);
	}
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
	case JOB_LOOKUP:
	case JOB_READ:
	case JOB_COMMIT:
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
	job->uploaded_ms = -1;
	pw_budget_set(&w->mem, PW_MEM_JOBS, &job->mem_job, JOB_BYTES);
	if (recovered)
		w->stats.recovered++;
	job->state = JOB_LOAD;
	worker_insert(w, job);
	log_debug(job->id, "claimed", "%s", recovered ? "from the processing list" :
	    "from the queue");
	job_step(job);
}

static void
job_free(struct job *job)
{
	reading_done(job);
	worker_job_freed(job->w, job);
	pw_read_destroy(job->rd);
	pw_scan_destroy(job->scan);
	batch_drop_job(job);
	pw_buf_finish(&job->yaml);
	free(job->voices);
	if (job->retry_ev != NULL)
		event_free(job->retry_ev);
	free(job->user);
	free(job->source_filename);
	free(job->entity_type);
	free(job->first_started_at);
	free(job->last_error);
	free(job->last_worker);
	free(job->file_path);
	free(job->shown_path);
	free(job->file_type);
	free(job->error);
	free(job->key);
	free(job->id);
	free(job);
}

/* Dropped by the worker (the lease lapsed, stopping, pausing): not the
 * file's fault, so an attempt its reading counted is taken back first. */
void
job_abandon(struct job *job)
{
	if (job->reading)
		job_read_ok(job);
	job_cancel(job);
}

/* Drop a job at the drain deadline; its id goes back to the queue. */
void
job_cancel(struct job *job)
{
	if (job->cmd_pending) {
		/* The reply still owed must find the job: free it then. */
		reading_done(job);
		job->cancelled = true;
		worker_job_freed(job->w, job);
		pw_read_destroy(job->rd);
		job->rd = NULL;
		batch_drop_job(job);
		return;
	}
	job_free(job);
}
