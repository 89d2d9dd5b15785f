/*
 * Private to worker.c and job.c: the worker's state and the job
 * lifecycle.  One struct job per file in flight; its state says which
 * stage owns it.
 */
#ifndef PORTADA_WORKER_PRIVATE_H
#define PORTADA_WORKER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "portada/budget.h"
#include "portada/config.h"
#include "portada/jsonscan.h"
#include "portada/metrics.h"
#include "portada/queue.h"
#include "portada/records.h"
#include "portada/rows.h"
#include "portada/rowspool.h"
#include "portada/source.h"
#include "portada/status.h"
#include "portada/store.h"
#include "portada/table.h"

/*
 * What one file in flight costs beyond the buffers charged as they grow:
 * this struct, its hash fields, scanner state, the Redis replies.
 * Measured: 4,096 one-record files in flight at once add 7.5 MiB to the
 * resident set against one at a time (1.9 KiB each).
 */
#define JOB_BYTES	((size_t)2048)

enum job_state {
	JOB_LOAD,	/* HGETALL file:<id> */
	JOB_LOOKUP,	/* is it in a commit already? (reads the log) */
	JOB_MARK,	/* status processing */
	JOB_READ,	/* source -> scanner -> records -> rows */
	JOB_COMMIT,	/* read; waiting in its table's batch for the commit */
	JOB_FINISH,	/* final status */
	JOB_ACK,	/* LREM from the processing list */
};

struct job {
	TAILQ_ENTRY(job) link;		/* worker's jobs, in fetch order */
	TAILQ_ENTRY(job) park_link;	/* waiting for the command connection */
	TAILQ_ENTRY(job) iso_link;	/* waiting for a suspect to be read alone */
	bool iso_waiting;
	bool reading;			/* its attempt is counted and its reading not over */
	struct job *next_in_bucket;
	struct pw_worker *w;
	char *id;
	char *key;			/* file:<id> */
	uint64_t seq;
	bool recovered;
	enum job_state state;
	bool parked;
	bool listed;			/* in the worker's table and list */
	bool cmd_pending;		/* a Redis reply is owed to this job */
	bool cancelled;			/* freed when that reply comes */
	unsigned retries;		/* transient Redis errors in a row */
	struct event *retry_ev;

	char *file_path;
	char *shown_path;		/* file_path for messages: a URL without its query */
	char *file_type;		/* as the hash says, for the raw archive */
	struct pw_store_writer *raw;	/* --archive-raw: the upload's copy */
	enum pw_file_kind kind;
	struct pw_read *rd;
	struct pw_scan *scan;
	unsigned long long records;
	enum pw_status_kind outcome;	/* PW_STATUS_DONE or PW_STATUS_FAILED */
	char *error;			/* the error_message, when failed */

	/* Rows, on their way to the table (batch.c). */
	struct batch *batch;		/* the table this kind of file feeds */
	char *user, *source_filename, *entity_type;
	char *first_started_at;		/* written with "processing": the first attempt */
	unsigned attempts;		/* starts so far, from the hash (see give_up()) */
	char *last_error;		/* the hash's last_error, or NULL */
	char *last_worker;		/* the hash's worker: who made the last attempt */
	int64_t since_ms;		/* commits older than this cannot hold the upload */
	int64_t uploaded_ms;		/* the hash's timestamp, or -1 */
	struct pw_row_meta meta;
	struct pw_rowspool spool;	/* small files: rows held until the file is read */
	size_t staged;			/* the spool's charge (PW_MEM_ROWS) */
	size_t mem_job;			/* this struct and its state (PW_MEM_JOBS) */
	size_t mem_records;		/* the scanner's partial record, or the YAML text */
	struct pw_table_file *own;	/* big files: their own data file */
	struct pw_buf yaml;		/* a YAML entity file, read whole */
	bool is_yaml;
	struct pw_pq_str *voices;	/* YAML voices, converted */
	size_t nvoices_cap;
	bool storage_failed;		/* the table, not the file, failed */
	bool stream_slot;		/* counted in the worker's streams */
	bool waiting;			/* paused until a stream slot frees */
	TAILQ_ENTRY(job) wait_link;
	TAILQ_ENTRY(job) batch_link;
	bool in_batch;
	struct sealed *sealed;		/* in a sealed batch (else the open one) */
	struct pw_table_lookup lookup;
	uint64_t delta_version;		/* the commit holding the file, once done */
	bool committed;
};

TAILQ_HEAD(job_list, job);

/* A job's status write, copied, waiting to go out with the others of its turn. */
struct status_req {
	TAILQ_ENTRY(status_req) link;
	struct job *job;
	int argc;			/* key, field to delete, then field/value pairs */
	const char **argv;		/* into buf */
	size_t *argvlen;
	char *buf;
};

TAILQ_HEAD(status_list, status_req);

/*
 * A batch that is due: its uploads and their data files (finishing in the
 * store, or durable), committed as one version in the order sealed.
 */
struct sealed {
	TAILQ_ENTRY(sealed) link;
	struct timespec sealed_at;	/* CLOCK_MONOTONIC: for the commit latency */
	struct job_list jobs;
	unsigned njobs;
	struct pw_table_file **files;
	size_t nfiles;
	bool submitted;			/* its log entry is being put */
};

TAILQ_HEAD(sealed_list, sealed);

/*
 * One table and its group commit: uploads that are read wait in the open
 * batch; their rows are already in the shared data file (small uploads)
 * or in their own data files (big ones).  When due, the batch is sealed
 * and a new one opens while it commits.
 */
struct batch {
	struct pw_worker *w;
	struct pw_table_spec spec;
	struct pw_table *table;
	bool opening, open_failed;
	struct pw_pq_options shared_opt, own_opt;
	struct pw_row_builder *rows;	/* records -> rows, for every upload of this table */
	struct pw_table_file *shared;	/* open, or NULL */
	size_t shared_bytes;		/* spooled bytes replayed into it */
	struct pw_table_file **files;	/* own files of this batch's uploads */
	size_t nfiles, capfiles;
	struct job_list jobs;
	unsigned njobs;
	struct event *timer;
	struct sealed_list sealed;	/* oldest first; the first may be in flight */
	unsigned long commits;		/* made by this worker */
	struct pw_histogram commit_seconds;	/* sealed → durable in the log */
};

enum worker_state {
	WORKER_RUNNING,
	WORKER_DRAINING,
	WORKER_REQUEUEING,
	WORKER_PAUSED,		/* the lake failed: nothing in flight, probing it */
	WORKER_STOPPED,
};

/* A worker whose heartbeat was seen missing (liveness.c). */
struct reap_candidate {
	char *worker;
	double since;			/* first seen dead, CLOCK_MONOTONIC seconds */
	bool seen;			/* in the pass under way */
};

/* Heartbeat, lease, reaper and fetch watchdog (liveness.c). */
struct liveness {
	struct event *tick_ev;
	double interval;		/* --heartbeat-ttl / 6 */
	bool gone;			/* the worker is finishing */
	bool beat_pending;
	double beat_sent;		/* the beat in flight's send time */
	double lease_from;		/* the last confirmed heartbeat's send time, or 0 */
	double ready_since;		/* the command connection is up since, or 0 */
	unsigned long long lapses;	/* heartbeat found expired: fenced */
	/* reaper */
	bool reaping, listings_done, pass_failed;
	unsigned reaps_pending, listings_pending;
	char cursor[32];		/* the SCAN of processing lists, across passes */
	char **pass;			/* workers this pass looks at */
	size_t n_pass, cap_pass;
	struct reap_candidate *candidates;
	size_t n_candidates, cap_candidates;
	unsigned long long reaped_workers, reaped_ids;
	/* watchdog */
	unsigned long fetch_seen;	/* pop replies at the last look */
	double fetch_moved;		/* when that changed */
	bool depth_pending, stalled;
	double stalled_since;
	unsigned long long stalls;
};

struct pw_worker_stats {
	unsigned long long done, failed, skipped, missing, records;
	unsigned long long bytes;	/* of uploads read and taken */
	unsigned long long recovered;	/* ids taken up from the processing list */
	unsigned long long given_up;	/* failed for --max-attempts */
	struct pw_histogram e2e;	/* upload's timestamp → final status written */
};

struct pw_worker {
	struct event_base *base;
	const struct pw_config *cfg;
	struct pw_queue *queue;
	struct pw_source *source;
	struct pw_http *http;		/* libcurl multi on the loop, when needed */
	struct pw_remotes *remotes;	/* uploads at URLs, when allowed */
	struct pw_store *store;		/* the lake */
	struct pw_error open_err;
	bool probing, probe_failed;	/* pw_store_probe() at start */
	struct event *backlog_ev;	/* the store is behind: check again soon */
	struct evhttp *ops;		/* --metrics-addr endpoints (ops.c), or NULL */
	struct event *depth_ev;		/* LLEN of the queue, for the metrics */
	long long queue_depth;		/* -1: not known yet */
	bool depth_pending;
	time_t started_at;
	struct liveness live;
	double memory_logged_at;	/* CLOCK_MONOTONIC seconds of the last busy line */
	unsigned long long beats_finished;	/* files finished at that line */
	struct event *progress_ev;	/* --exit-when-idle: progress line or log */
	bool progress_tty;
	struct timespec progress_t0;
	enum worker_state state;
	int exit_status;

	struct job_list jobs;
	struct job_list parked;
	struct job **buckets;
	size_t n_buckets;		/* a power of two */
	unsigned n_jobs;
	uint64_t next_seq;
	struct pw_worker_stats stats;
	struct batch *batches[2];	/* by enum pw_file_kind */
	struct pw_budget mem;		/* --memory-budget; see batch.c */
	size_t mem_read, mem_encode, mem_upload, mem_commit;	/* the worker's charges */
	struct job *mem_runner;		/* reads on while the budget is used up */
	/*
	 * One record is parsed and mapped at a time, and its row copied at
	 * once (spool or writer), so every upload shares one parse tree and
	 * one row builder per table; what they keep is charged as records.
	 */
	struct pw_jtree *tree;
	size_t mem_scratch;
	unsigned streams;		/* jobs writing their own data file */
	struct job_list waiting;	/* paused for a stream slot, in order */
	struct job_list iso_wait;	/* waiting to start while a suspect is read */
	unsigned n_reading;		/* jobs whose attempt is counted, not yet read */
	bool suspect_reading;		/* one of them is a suspect: it is alone */
	bool waking;			/* in batch.c's wake() */
	struct event *fatal_ev;		/* the lake failed: stop taking ids, requeue */
	struct event *probe_ev;		/* paused: try the lake again */
	unsigned probes;		/* failed probes in a row, for the backoff */
	unsigned pause_streak;		/* pauses since the last commit, for the backoff */
	bool probing_lake;		/* batch_check_lake() in flight */
	bool stop_after_probe;		/* a signal came while it was */
	bool signalled;			/* SIGTERM/SIGINT: stopping, not pausing */
	bool requeue_pending;		/* paused, but the ids are not back yet */
	bool fencing;			/* worker_fence() is dropping jobs */
	unsigned long long pauses;	/* lake failures that paused ingestion */
	struct event *log_ev;		/* writes the log lines of this turn */
	struct status_list statuses;	/* status writes of this turn, not sent yet */
	unsigned n_statuses;
	struct event *status_ev;	/* sends them, as one script */
	struct { char *key; unsigned attempts; } *read_ok;	/* attempts to take back */
	size_t n_read_ok, cap_read_ok;
	bool fetch_closed;		/* draining: no pop in flight any more */
	bool drain_expired;		/* the drain timeout passed */
	bool failed;			/* the lake failed: paused, or exit 1 */
	bool queue_dry;			/* --exit-when-idle: the last fetch found nothing */
	bool finish_waits;		/* finish_drain() waits for commits in flight */
	int preflight;			/* preflight.c: the Redis checks' progress */

	struct event *sigterm_ev, *sigint_ev;
	struct event *drain_ev;		/* drain timeout */
	struct event *giveup_ev;	/* requeue cannot reach Redis */
	char **leftover;		/* blpop mode: unfinished ids at the drain deadline */
	size_t n_leftover;
};

/* job.c */
void job_start(struct pw_worker *w, const char *id, bool recovered);
/* Send the status writes queued this turn (also before a requeue). */
void job_send_statuses(struct pw_worker *w);
/* Stopping: statuses never sent are answered as a lost connection. */
void job_drop_statuses(struct pw_worker *w);
void job_step(struct job *job);
void job_cancel(struct job *job);
void job_abandon(struct job *job);

void job_committed(struct job *job, uint64_t version);

/* batch.c */
/* Open the store and both tables (running the loop until they are). */
int batch_open_all(struct pw_worker *w, struct pw_error *err);
/* Drop everything uncommitted, then close the store and the tables. */
void batch_close_all(struct pw_worker *w);
/* A job's next row: into its spool, or its own data file. */
int batch_stage_row(struct job *job, const struct pw_pq_value *row, struct pw_error *err);
/* Before a job's next chunk: 0 to go on, PW_READ_PAUSE to wait for a
 * stream slot, the store or memory, -1 on a failure. */
int batch_before_chunk(struct job *job, struct pw_error *err);
/* --archive-raw: start the upload's copy (before reading), and give it
 * each chunk the reader took. */
int batch_archive_open(struct job *job, struct pw_error *err);
void batch_archive_write(struct job *job, const char *buf, size_t len);
/* The job's file was read whole: its rows join the next commit (once its
 * raw copy is durable). */
void batch_add(struct job *job);
/* Free what a job holds for the table (a job that failed or is freed). */
void batch_drop_job(struct job *job);
/* Commit every batch now (or once the commit in flight is done). */
void batch_flush_all(struct pw_worker *w);
/* A sealed batch may still commit: its uploads must not be requeued yet,
 * or another worker could commit them again before this commit lands. */
bool batch_settling(const struct pw_worker *w);
/* S3 parts wait for the store past half the budget: take no more. */
bool batch_store_behind(struct pw_worker *w);
/* Charge what the writers, the store and the commits hold now. */
void batch_memory_update(struct pw_worker *w);
/* The row builder of a job's table (made on first use). */
struct pw_row_builder *batch_rows(struct batch *b);
/* After a record: shrink the shared tree and builder if it was a big one. */
void batch_scratch_trim(struct pw_worker *w, struct batch *b);
/* The memory budget is used up: take no more (looks again in 20 ms). */
bool batch_memory_full(struct pw_worker *w);
/* Throw away every uncommitted batch (the worker is stopping on a failure). */
void batch_abort_all(struct pw_worker *w);
/* The heartbeat was confirmed: commits held for the lease may go. */
void batch_lease_renewed(struct pw_worker *w);
/* After a lake failure: whether the store and both tables can take
 * commits again; done(w, 0) yes, 1 never (restart), -1 not yet. */
void batch_check_lake(struct pw_worker *w, void (*done)(struct pw_worker *w, int result,
    const struct pw_error *err));

/* ops.c: /metrics, /healthz, /readyz with --metrics-addr */
int ops_start(struct pw_worker *w, struct pw_error *err);
void ops_stop(struct pw_worker *w);
void ops_log_memory(struct pw_worker *w, const char *when);
double ops_peak_rss_bytes(void);	/* VmHWM */
/* On every heartbeat: a memory line a minute while files come. */
void ops_beat(struct pw_worker *w, double now);	/* now: CLOCK_MONOTONIC seconds */

/* liveness.c: heartbeat and lease, reaping dead workers, fetch watchdog */
void liveness_start(struct pw_worker *w);
void liveness_stop(struct pw_worker *w);
void liveness_cmd_ready(struct pw_worker *w);	/* the command connection is (back) up */
/* Commits may start: this worker's heartbeat is recent enough. */
bool liveness_lease_ok(const struct pw_worker *w);
/* The watchdog found the fetch loop stuck and has not seen it move since. */
bool liveness_fetch_stalled(const struct pw_worker *w, double *seconds);
/* --exit-when-idle: a live progress line on a terminal, else log lines. */
void progress_start(struct pw_worker *w);
void progress_stop(struct pw_worker *w);

/* worker.c, called by job.c, batch.c and liveness.c */
unsigned worker_free_slots(struct pw_worker *w);
/* The lease lapsed (blmove mode only: in blpop mode nobody reaps, and the
 * ids live only in memory): drop every file not yet in a commit in flight
 * and take up again what is still in the processing list. */
void worker_fence(struct pw_worker *w);
void worker_job_freed(struct pw_worker *w, struct job *job);
void worker_park(struct pw_worker *w, struct job *job);
void worker_insert(struct pw_worker *w, struct job *job);
/* The lake failed under us: stop taking files, requeue, pause (worker.c). */
void worker_fatal(struct pw_worker *w, const struct pw_error *err);
/* Draining or dry: commit at once when nothing else can join a batch. */
void worker_batch_ready(struct pw_worker *w);
/* A commit ended: a stop that waited for it goes on. */
void worker_commits_settled(struct pw_worker *w);

#endif
