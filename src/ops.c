/*
 * ops: the worker's HTTP endpoints for operators, on libevent's evhttp,
 * served only with --metrics-addr: /metrics (Prometheus text format),
 * /healthz (the loop answers) and /readyz (Redis connected, the lake
 * usable, not stopping).  The values are the worker's own counters; the
 * queue's depth is asked of Redis every DEPTH_INTERVAL.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "portada/log.h"
#include "portada/metrics.h"
#include "portada/redis.h"
#include "worker.h"

#define DEPTH_INTERVAL	5	/* seconds between LLEN of the queue */
#define MEMORY_LOG_SECONDS 60	/* between memory lines while busy */

static const char *const stage_names[] = {
	"load", "lookup", "mark", "read", "commit", "finish", "ack",
};

static void
on_depth(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct pw_worker *w = arg;

	(void)r;
	w->depth_pending = false;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		w->queue_depth = reply->integer;
}

static void
send_depth(struct pw_worker *w)
{
	const char *argv[] = { "LLEN", w->cfg->queue_key };

	if (!w->depth_pending && w->queue != NULL &&
	    pw_redis_command(pw_queue_cmd(w->queue), on_depth, w, 0, 2, argv, NULL) == 0)
		w->depth_pending = true;
}

static void
ask_depth(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval tv = { DEPTH_INTERVAL, 0 };
	struct pw_worker *w = arg;

	(void)fd;
	(void)what;
	send_depth(w);
	evtimer_add(w->depth_ev, &tv);
}

/*
 * VmRSS and VmHWM of /proc/self/status, in bytes.  Not getrusage(): its
 * ru_maxrss survives execve(), so a worker started by a big process would
 * report that process's peak as its own.
 */
static void
rss(double *now, double *peak)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");
	long kb;

	*now = *peak = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			*now = (double)kb * 1024;
		else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			*peak = (double)kb * 1024;
	}
	fclose(f);
}

double
ops_peak_rss_bytes(void)
{
	double now, peak;

	rss(&now, &peak);
	return peak;
}

/*
 * "memory" log line: the resident set now and at its peak, and what the
 * budget holds by kind, so an operator sees what an edge VM must give.
 */
void
ops_log_memory(struct pw_worker *w, const char *when)
{
	char kinds[256];
	size_t n = 0;
	double now, peak;

	rss(&now, &peak);
	batch_memory_update(w);
	for (int k = 0; k < PW_MEM_KINDS; k++)
		n += (size_t)snprintf(kinds + n, n < sizeof kinds ? sizeof kinds - n : 0,
		    "%s %s %.1f", k == 0 ? "" : ",", pw_mem_kind_name(k),
		    (double)w->mem.by_kind[k] / 1048576);
	log_info(NULL, "memory", "%s: rss %.1f MiB, peak %.1f MiB; budget %.1f of %.1f MiB "
	    "used, peak %.1f (MiB:%s)", when, now / 1048576, peak / 1048576,
	    (double)w->mem.used / 1048576, (double)w->mem.limit / 1048576,
	    (double)w->mem.peak / 1048576, kinds);
}

/* A memory line a minute while files come, none while idle. */
void
ops_beat(struct pw_worker *w, double now)
{
	unsigned long long finished = w->stats.done + w->stats.failed + w->stats.skipped;

	if (w->memory_logged_at == 0)
		w->memory_logged_at = now;
	if (now - w->memory_logged_at < MEMORY_LOG_SECONDS)
		return;
	w->memory_logged_at = now;
	if (finished != w->beats_finished || w->n_jobs > 0)
		ops_log_memory(w, "busy");
	w->beats_finished = finished;
}

/* ---- progress of a batch run (--exit-when-idle) ---- */

#define PROGRESS_TTY_MS		1000	/* a terminal's live line */
#define PROGRESS_LOG_S		10	/* a log line otherwise */

static void
duration(double s, char *out, size_t size)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(out, size, "%ldm%02lds", t / 60, t % 60);
}

static void
progress_line(struct pw_worker *w, char *out, size_t size)
{
	const struct pw_worker_stats *st = &w->stats;
	struct timespec now;
	double elapsed, ended = (double)(st->done + st->failed + st->skipped + st->missing);
	long long left = (w->queue_depth > 0 ? w->queue_depth : 0) + (long long)w->n_jobs;
	char eta[32] = "-";

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double)(now.tv_sec - w->progress_t0.tv_sec) +
	    (double)(now.tv_nsec - w->progress_t0.tv_nsec) / 1e9;
	if (elapsed <= 0)
		elapsed = 1e-3;
	if (ended > 0 && left > 0)
		duration((double)left * elapsed / ended, eta, sizeof eta);
	else if (left == 0)
		snprintf(eta, sizeof eta, "0m00s");
	snprintf(out, size, "%llu done, %llu failed, %lld left (%u in flight) | %.1f MB/s | ETA %s",
	    st->done, st->failed, left, w->n_jobs, (double)st->bytes / 1e6 / elapsed, eta);
}

static void
on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;
	struct timeval tv = { 0, 0 };
	char line[200];

	(void)fd;
	(void)what;
	send_depth(w);
	progress_line(w, line, sizeof line);
	if (w->progress_tty) {
		pw_log_status(line);
		tv.tv_usec = PROGRESS_TTY_MS * 1000;
	} else {
		log_info(NULL, "progress", "%s", line);
		tv.tv_sec = PROGRESS_LOG_S;
	}
	evtimer_add(w->progress_ev, &tv);
}

void
progress_start(struct pw_worker *w)
{
	struct timeval tv = { 0, 200 * 1000 };	/* soon: short runs get a line too */

	clock_gettime(CLOCK_MONOTONIC, &w->progress_t0);
	if (!w->cfg->exit_when_idle)
		return;
	/* Text logs on a terminal get the live line; JSON logs are for machines. */
	w->progress_tty = isatty(STDERR_FILENO) && w->cfg->log_format == PW_LOG_TEXT;
	w->progress_ev = evtimer_new(w->base, on_progress, w);
	if (w->progress_ev == NULL)
		pw_fatal("cannot create the progress timer");
	if (!w->progress_tty)
		tv = (struct timeval){ PROGRESS_LOG_S, 0 };
	evtimer_add(w->progress_ev, &tv);
}

void
progress_stop(struct pw_worker *w)
{
	char line[200];

	if (w->progress_ev == NULL)
		return;
	event_free(w->progress_ev);
	w->progress_ev = NULL;
	progress_line(w, line, sizeof line);
	if (w->progress_tty)
		pw_log_status(NULL);
	log_info(NULL, "progress", "%s", line);
}


static void
render(struct pw_worker *w, struct pw_buf *b)
{
	const struct pw_worker_stats *st = &w->stats;
	unsigned long stages[sizeof stage_names / sizeof stage_names[0]] = { 0 };
	unsigned long errs[PW_S3_ERRORS] = { 0 };
	struct job *job;
	double now, peak;

	pw_metric_head(b, "portada_files_total", "counter",
	    "Uploads that ended, by outcome (done, failed; skipped: already final; missing: no hash).");
	pw_metric_sample(b, "portada_files_total", "outcome", "done", (double)st->done);
	pw_metric_sample(b, "portada_files_total", "outcome", "failed", (double)st->failed);
	pw_metric_sample(b, "portada_files_total", "outcome", "skipped", (double)st->skipped);
	pw_metric_sample(b, "portada_files_total", "outcome", "missing", (double)st->missing);
	pw_metric_head(b, "portada_records_total", "counter",
	    "Records (rows) of the uploads that ended done.");
	pw_metric_sample(b, "portada_records_total", NULL, NULL, (double)st->records);
	pw_metric_head(b, "portada_read_bytes_total", "counter",
	    "Bytes of uploads read and taken by the record scanner.");
	pw_metric_sample(b, "portada_read_bytes_total", NULL, NULL, (double)st->bytes);
	pw_metric_head(b, "portada_recovered_files_total", "counter",
	    "Uploads taken up again from this worker's processing list (after a crash).");
	pw_metric_sample(b, "portada_recovered_files_total", NULL, NULL, (double)st->recovered);
	pw_metric_head(b, "portada_given_up_files_total", "counter",
	    "Uploads failed because they were started --max-attempts times without an outcome.");
	pw_metric_sample(b, "portada_given_up_files_total", NULL, NULL, (double)st->given_up);
	pw_metric_head(b, "portada_reaped_workers_total", "counter",
	    "Dead workers whose processing list this worker put back in the queue.");
	pw_metric_sample(b, "portada_reaped_workers_total", NULL, NULL,
	    (double)w->live.reaped_workers);
	pw_metric_head(b, "portada_reaped_files_total", "counter",
	    "Ids this worker put back in the queue from dead workers' processing lists.");
	pw_metric_sample(b, "portada_reaped_files_total", NULL, NULL, (double)w->live.reaped_ids);
	pw_metric_head(b, "portada_heartbeat_lapses_total", "counter",
	    "Times this worker found its own heartbeat expired and dropped its uncommitted files.");
	pw_metric_sample(b, "portada_heartbeat_lapses_total", NULL, NULL, (double)w->live.lapses);
	pw_metric_head(b, "portada_fetch_stalls_total", "counter",
	    "Times the watchdog found the fetch loop stuck with ids queued and restarted it.");
	pw_metric_sample(b, "portada_fetch_stalls_total", NULL, NULL, (double)w->live.stalls);
	pw_metric_head(b, "portada_lake_pauses_total", "counter",
	    "Lake failures (full disk, read-only, store errors) that paused ingestion.");
	pw_metric_sample(b, "portada_lake_pauses_total", NULL, NULL, (double)w->pauses);
	pw_metric_head(b, "portada_paused", "gauge",
	    "1 while ingestion is paused for the lake.");
	pw_metric_sample(b, "portada_paused", NULL, NULL, w->state == WORKER_PAUSED ? 1 : 0);

	TAILQ_FOREACH(job, &w->jobs, link)
		if ((size_t)job->state < sizeof stages / sizeof stages[0])
			stages[job->state]++;
	pw_metric_head(b, "portada_files_in_flight", "gauge", "Uploads in flight, by stage.");
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
		pw_metric_sample(b, "portada_files_in_flight", "stage", stage_names[i],
		    (double)stages[i]);
	if (w->queue_depth >= 0) {
		pw_metric_head(b, "portada_queue_depth", "gauge",
		    "Ids waiting in the queue (LLEN, every few seconds).");
		pw_metric_sample(b, "portada_queue_depth", NULL, NULL, (double)w->queue_depth);
	}

	pw_metric_head(b, "portada_commits_total", "counter", "Delta commits made, by table.");
	for (size_t i = 0; i < 2; i++)
		if (w->batches[i] != NULL)
			pw_metric_sample(b, "portada_commits_total", "table",
			    w->batches[i]->spec.table, (double)w->batches[i]->commits);
	pw_metric_head(b, "portada_commit_conflicts_total", "counter",
	    "Versions another writer took first, so that a commit moved on, by table.");
	for (size_t i = 0; i < 2; i++)
		if (w->batches[i] != NULL && w->batches[i]->table != NULL)
			pw_metric_sample(b, "portada_commit_conflicts_total", "table",
			    w->batches[i]->spec.table,
			    (double)pw_table_conflicts(w->batches[i]->table));
	pw_metric_head(b, "portada_commit_duration_seconds", "histogram",
	    "From a batch sealed to its commit durable (data files and log entry), by table.");
	for (size_t i = 0; i < 2; i++)
		if (w->batches[i] != NULL)
			pw_metric_histogram(b, "portada_commit_duration_seconds", "table",
			    w->batches[i]->spec.table, &w->batches[i]->commit_seconds);
	pw_metric_head(b, "portada_end_to_end_seconds", "histogram",
	    "From the upload's timestamp (the ingest API's) to its final status written.");
	pw_metric_histogram(b, "portada_end_to_end_seconds", NULL, NULL, &st->e2e);

	pw_metric_head(b, "portada_redis_reconnects_total", "counter",
	    "Redis connections that came back after being lost.");
	pw_metric_sample(b, "portada_redis_reconnects_total", NULL, NULL,
	    w->queue != NULL ? (double)pw_queue_reconnects(w->queue) : 0);
	pw_store_error_counts(w->store, errs);
	pw_metric_head(b, "portada_store_errors_total", "counter",
	    "Object-store requests that failed, by kind (each attempt counts).");
	for (size_t i = 0; i < PW_S3_ERRORS; i++)
		pw_metric_sample(b, "portada_store_errors_total", "kind", pw_s3_error_kinds[i],
		    (double)errs[i]);

	batch_memory_update(w);
	pw_metric_head(b, "portada_memory_used_bytes", "gauge",
	    "Memory charged to the budget, by kind (see --memory-budget).");
	for (int k = 0; k < PW_MEM_KINDS; k++)
		pw_metric_sample(b, "portada_memory_used_bytes", "kind", pw_mem_kind_name(k),
		    (double)w->mem.by_kind[k]);
	pw_metric_head(b, "portada_memory_used_peak_bytes", "gauge",
	    "The most ever charged to the budget at once.");
	pw_metric_sample(b, "portada_memory_used_peak_bytes", NULL, NULL, (double)w->mem.peak);
	pw_metric_head(b, "portada_memory_budget_bytes", "gauge", "--memory-budget.");
	pw_metric_sample(b, "portada_memory_budget_bytes", NULL, NULL, (double)w->mem.limit);
	pw_metric_head(b, "portada_store_backlog_bytes", "gauge",
	    "Encoded bytes waiting for the object store (readers pause past half the budget).");
	pw_metric_sample(b, "portada_store_backlog_bytes", NULL, NULL,
	    w->store != NULL ? (double)pw_store_buffered(w->store) : 0);
	pw_metric_head(b, "process_resident_memory_bytes", "gauge", "Resident set size.");
	rss(&now, &peak);
	pw_metric_sample(b, "process_resident_memory_bytes", NULL, NULL, now);
	pw_metric_head(b, "process_resident_memory_peak_bytes", "gauge",
	    "The resident set's high-water mark (VmHWM).");
	pw_metric_sample(b, "process_resident_memory_peak_bytes", NULL, NULL, peak);
	pw_metric_head(b, "process_start_time_seconds", "gauge",
	    "When the worker started, in seconds since the epoch.");
	pw_metric_sample(b, "process_start_time_seconds", NULL, NULL, (double)w->started_at);
}

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *type,
    const void *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void
on_metrics(struct evhttp_request *req, void *arg)
{
	struct pw_buf b;

	pw_buf_init(&b, (size_t)4 << 20);
	render(arg, &b);
	reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	pw_buf_finish(&b);
}

/* The loop answers; 503 while the watchdog has the fetch loop stuck. */
static void
on_healthz(struct evhttp_request *req, void *arg)
{
	struct pw_worker *w = arg;
	char why[160];
	double secs;
	int n;

	if (liveness_fetch_stalled(w, &secs)) {
		n = snprintf(why, sizeof why, "fetch stalled: no id taken for %.0fs with ids "
		    "queued; restarting the fetch connection\n", secs);
		reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8", why, (size_t)n);
		return;
	}
	if (w->live.stalls > 0) {
		n = snprintf(why, sizeof why, "ok; the watchdog restarted the fetch loop %llu "
		    "time(s)\n", w->live.stalls);
		reply(req, 200, "OK", "text/plain; charset=utf-8", why, (size_t)n);
		return;
	}
	reply(req, 200, "OK", "text/plain; charset=utf-8", "ok\n", 3);
}

static void
on_readyz(struct evhttp_request *req, void *arg)
{
	struct pw_worker *w = arg;
	char why[256];
	size_t n = 0;

	why[0] = '\0';
	if (w->queue == NULL || !pw_queue_ready(w->queue))
		n += (size_t)snprintf(why + n, sizeof why - n, "redis: not connected\n");
	if (w->state == WORKER_PAUSED)
		n += (size_t)snprintf(why + n, sizeof why - n, "lake: failed, paused and "
		    "trying it again\n");
	else if (w->failed)
		n += (size_t)snprintf(why + n, sizeof why - n, "lake: failed\n");
	if (w->state != WORKER_RUNNING && w->state != WORKER_PAUSED)
		n += (size_t)snprintf(why + n, sizeof why - n, "worker: stopping\n");
	if (n == 0)
		reply(req, 200, "OK", "text/plain; charset=utf-8", "ready\n", 6);
	else
		reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8", why, n);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply(req, 404, "Not Found", "text/plain; charset=utf-8",
	    "not found: try /metrics, /healthz or /readyz\n", 45);
}

int
ops_start(struct pw_worker *w, struct pw_error *err)
{
	char host[260];
	size_t n;

	w->queue_depth = -1;
	w->started_at = time(NULL);
	if (w->cfg->metrics_host == NULL)
		return 0;
	/* [::1] as an address: without its brackets. */
	n = strlen(w->cfg->metrics_host);
	if (n >= 2 && w->cfg->metrics_host[0] == '[' && w->cfg->metrics_host[n - 1] == ']')
		snprintf(host, sizeof host, "%.*s", (int)(n - 2), w->cfg->metrics_host + 1);
	else
		snprintf(host, sizeof host, "%s", w->cfg->metrics_host);
	w->ops = evhttp_new(w->base);
	w->depth_ev = evtimer_new(w->base, ask_depth, w);
	if (w->ops == NULL || w->depth_ev == NULL)
		pw_fatal("cannot create the HTTP endpoints");
	evhttp_set_allowed_methods(w->ops, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(w->ops, 10);
	evhttp_set_cb(w->ops, "/metrics", on_metrics, w);
	evhttp_set_cb(w->ops, "/healthz", on_healthz, w);
	evhttp_set_cb(w->ops, "/readyz", on_readyz, w);
	evhttp_set_gencb(w->ops, on_other, w);
	if (evhttp_bind_socket(w->ops, host, (ev_uint16_t)w->cfg->metrics_port) != 0) {
		pw_error_set(err, "--metrics-addr %s:%u: cannot listen there (in use, or not an "
		    "address of this machine)", w->cfg->metrics_host, w->cfg->metrics_port);
		return -1;
	}
	log_info(NULL, "metrics", "serving /metrics, /healthz and /readyz on http://%s:%u",
	    w->cfg->metrics_host, w->cfg->metrics_port);
	ask_depth(-1, 0, w);
	return 0;
}

void
ops_stop(struct pw_worker *w)
{
	if (w->ops != NULL)
		evhttp_free(w->ops);
	w->ops = NULL;
	if (w->depth_ev != NULL)
		event_free(w->depth_ev);
	w->depth_ev = NULL;
}
