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

#include <event2/event.h>

#include "portada/config.h"
#include "portada/jsonscan.h"
#include "portada/queue.h"
#include "portada/records.h"
#include "portada/source.h"
#include "portada/status.h"

enum job_state {
	JOB_LOAD,	/* HGETALL file:<id> */
	JOB_MARK,	/* status processing */
	JOB_READ,	/* source -> scanner -> records */
	JOB_FINISH,	/* final status */
	JOB_ACK,	/* LREM from the processing list */
};

struct job {
	TAILQ_ENTRY(job) link;		/* worker's jobs, in fetch order */
	TAILQ_ENTRY(job) park_link;	/* waiting for the command connection */
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
	enum pw_file_kind kind;
	struct pw_read *rd;
	struct pw_scan *scan;
	unsigned long long records;
	enum pw_status_kind outcome;	/* PW_STATUS_DONE or PW_STATUS_FAILED */
	char *error;			/* the error_message, when failed */
};

TAILQ_HEAD(job_list, job);

enum worker_state {
	WORKER_RUNNING,
	WORKER_DRAINING,
	WORKER_REQUEUEING,
	WORKER_STOPPED,
};

struct pw_worker_stats {
	unsigned long long done, failed, skipped, missing, records;
};

struct pw_worker {
	struct event_base *base;
	const struct pw_config *cfg;
	struct pw_queue *queue;
	struct pw_source *source;
	enum worker_state state;
	int exit_status;

	struct job_list jobs;
	struct job_list parked;
	struct job **buckets;
	size_t n_buckets;		/* a power of two */
	unsigned n_jobs;
	uint64_t next_seq;
	struct pw_worker_stats stats;
	bool fetch_closed;		/* draining: no pop in flight any more */
	bool drain_expired;		/* the drain timeout passed */

	struct event *sigterm_ev, *sigint_ev;
	struct event *drain_ev;		/* drain timeout */
	struct event *giveup_ev;	/* requeue cannot reach Redis */
	char **leftover;		/* blpop mode: unfinished ids at the drain deadline */
	size_t n_leftover;
};

/* job.c */
void job_start(struct pw_worker *w, const char *id, bool recovered);
void job_step(struct job *job);
void job_cancel(struct job *job);

/* worker.c, called by job.c */
void worker_job_freed(struct pw_worker *w, struct job *job);
void worker_park(struct pw_worker *w, struct job *job);
void worker_insert(struct pw_worker *w, struct job *job);

#endif
