/*
 * config: the worker's options, from command-line flags and their
 * environment twins (a flag wins over its variable).  Pure code: the
 * environment is read through a lookup function so tests can supply their own.
 */
#ifndef PORTADA_CONFIG_H
#define PORTADA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "portada/error.h"
#include "portada/log.h"
#include "portada/parquet.h"

enum pw_fetch_mode {
	PW_FETCH_BLMOVE,	/* reliable: ids wait in a per-worker processing list */
	PW_FETCH_BLPOP,		/* the task guide's consumer: no processing list */
};

enum pw_status_scheme {
	PW_STATUS_TASK,		/* 0 pending, 1 processing, 2 done, -1 error */
	PW_STATUS_DASHBOARD,	/* 0 pending, 1 processed, 2 error */
};

/* Each worker's heartbeat key (prefix + worker id): its last sign of life,
 * in seconds since the epoch, refreshed every --heartbeat-ttl / 6 and gone
 * --heartbeat-ttl after the worker stopped refreshing it. */
#define PW_HEARTBEAT_PREFIX	"portada:heartbeat:"
/* Held by the worker reaping dead workers' processing lists (liveness.c). */
#define PW_REAPER_LOCK		"portada:reaper"
/* Every worker that beat lately, scored by the time of its last beat: the
 * reaper's list of whom to look at (liveness.c). */
#define PW_WORKERS_KEY		"portada:workers"

struct pw_redis_addr {
	char *host;		/* NULL for a unix socket */
	int port;
	char *path;		/* unix socket path, or NULL */
	char *user;		/* ACL user, or NULL */
	char *password;		/* or NULL; never logged */
	int db;
};

struct pw_config {
	struct pw_redis_addr redis;
	char *worker_id;
	unsigned max_inflight;
	enum pw_fetch_mode fetch;
	enum pw_status_scheme status_scheme;
	char **ingest_roots;
	size_t n_ingest_roots;
	char **source_hosts;		/* --allow-source-host: URLs allowed as file_path */
	size_t n_source_hosts;
	char *queue_key;		/* files:all */
	char *processing_prefix;	/* files:processing: */
	char *hash_prefix;		/* file: */
	double drain_timeout;		/* seconds */
	double block_timeout;		/* BLMOVE/BLPOP timeout, seconds */
	double connect_timeout;
	double command_timeout;
	double reconcile_interval;
	double heartbeat_ttl;		/* seconds */
	unsigned max_attempts;		/* starts of one file before it is given up */
	bool exit_when_idle;
	bool archive_raw;		/* keep each upload under <lake>/raw/ */
	enum pw_log_format log_format;
	enum pw_log_level log_level;
	size_t max_record_bytes;
	unsigned max_depth;
	size_t read_chunk_bytes;
	char *lake;			/* directory holding the tables */
	char *metrics_host;		/* --metrics-addr, or NULL: no HTTP endpoints */
	unsigned metrics_port;
	char **table_specs;		/* --table-spec files, replacing the defaults by kind */
	size_t n_table_specs;
	unsigned commit_interval_ms;	/* a batch waits at most this long */
	unsigned commit_max_files;	/* and holds at most this many uploads */
	size_t stage_bytes;		/* rows of one upload held before it gets its own file */
	size_t memory_budget;		/* see budget.h */
	unsigned max_streams;		/* uploads writing their own data file at once */
	enum pw_pq_codec codec;
	bool show_help;
	bool show_version;
};

typedef const char *(*pw_getenv_fn)(const char *name);

/*
 * Fill cfg from argv and the environment.  Returns -1 with a one-line
 * reason on a bad value; cfg must then still be released with
 * pw_config_finish().
 */
int pw_config_parse(struct pw_config *cfg, int argc, char **argv,
    pw_getenv_fn env, struct pw_error *err) PW_MUST_CHECK;
void pw_config_finish(struct pw_config *cfg);

/* Parse a redis:// or unix:// URL. */
int pw_config_parse_redis_url(struct pw_redis_addr *addr, const char *url,
    struct pw_error *err) PW_MUST_CHECK;

/* "redis://user:***@host:port/db": what logs may show. */
void pw_config_redis_display(const struct pw_redis_addr *addr, char *buf,
    size_t size);

void pw_config_usage(FILE *out);

#endif
