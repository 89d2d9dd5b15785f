/*
 * harness: what the integration tests need to run the real worker against a
 * real redis-server, in the style of dbus-broker's test harness: plain C,
 * fork/exec, every child dies with its parent (PR_SET_PDEATHSIG), every wait
 * is bounded.
 *
 * One test = one private temporary directory, one private redis-server on a
 * unix socket in it, one synchronous hiredis client for setup and checks.
 * The checked fixture (h_setup/h_teardown) creates and removes all of it, so
 * a test works the same with CK_FORK=no.
 *
 * Environment:
 *   PW_WORKER        the portada-worker binary (set by meson)
 *   PW_TEST_WRAPPER  a command line put in front of the worker, split on
 *                    spaces ("valgrind --error-exitcode=99 -q ..."); it also
 *                    stretches every timeout of the harness
 */
#ifndef PW_HARNESS_H
#define PW_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <hiredis.h>

/* Exit status for "skipped" under meson. */
#define H_SKIP 77

#define H_MAX_EVENTS 32

struct h_worker {
	pid_t pid;
	char log[PATH_MAX];		/* its stderr: the JSON log */
	char out[PATH_MAX];		/* its stdout */
	bool reaped;
	int status;			/* raw wait status, once reaped */
	off_t scan_off;			/* how far the log was scanned for events */
	struct {
		char name[32];
		unsigned count;
	} ev[H_MAX_EVENTS];
	unsigned n_ev;
};

struct harness {
	char dir[PATH_MAX];		/* private temporary directory */
	char sock[PATH_MAX];		/* <dir>/r.sock */
	char root[PATH_MAX];		/* <dir>/ingest: the worker's ingest root */
	char lake[PATH_MAX];		/* <dir>/lake: every worker's PORTADA_LAKE */
	char url[PATH_MAX + 16];	/* unix://<sock> */
	bool aof;
	pid_t redis_pid;
	redisContext *c;
	pid_t monitor_pid;
	char monitor_path[PATH_MAX];
	unsigned n_spawned;
	unsigned sentinel;
	double t_start;			/* wall clock at setup, seconds */
	char timestamp[32];		/* what the ingest API wrote as timestamp */
	pid_t children[32];		/* every process started, killed at teardown */
	unsigned n_children;
};

extern struct harness *H;

/* --- running a suite ------------------------------------------------------ */

/* Run the suite; 77 if a tool it needs is missing, else 0 or 1. */
int h_main(Suite *s, bool needs_redis);
/* Timeouts are multiplied by this (large under PW_TEST_WRAPPER). */
double h_slow(void);
/* A test case with the fixture, a generous timeout; aof: Redis persists. */
TCase *h_tcase(const char *name, bool aof);
/* A test case with a temporary directory but no redis-server. */
TCase *h_tcase_noredis(const char *name);

/* --- fixture -------------------------------------------------------------- */

void h_setup(void);		/* temp dir + redis-server without persistence */
void h_setup_aof(void);		/* temp dir + redis-server with appendfsync always */
void h_setup_noredis(void);	/* temp dir only */
void h_teardown(void);

double h_now(void);
void h_sleep(double seconds);
/* A whole file, NUL-terminated and malloc'd ("" if it does not exist). */
char *h_read_file(const char *path, size_t *len);

/* --- redis-server --------------------------------------------------------- */

void h_redis_start(void);
/* The same with extra redis-server arguments (NULL-terminated). */
void h_redis_start_with(const char *const *extra);
void h_redis_kill(void);	/* SIGKILL, reaped; the socket file stays */
void h_redis_stop(void);	/* SIGTERM (a clean shutdown), reaped */
void h_redis_restart(void);	/* SIGKILL, then start on the same socket and dir */

/* Synchronous commands through the test's own connection (reconnects). */
redisReply *h_cmd(const char *fmt, ...);
long long h_int(const char *fmt, ...);
char *h_str(const char *fmt, ...);	/* malloc'd, NULL for nil */
void h_ok(const char *fmt, ...);	/* any non-error reply */
char *h_hget(const char *id, const char *field);
/* The CLIENT LIST id of the connection with this name (the worker's "fetch"
 * or "command"), or -1. */
long long h_client_id(const char *name);
char **h_lrange(const char *key, size_t *n);
void h_strv_free(char **v, size_t n);

/* --- fixtures on disk ----------------------------------------------------- */

/*
 * Absolute path of rel inside the test directory.  The result lives in a
 * ring of 16 static buffers: valid until 16 more calls of h_path/h_write*.
 */
const char *h_path(const char *rel);
/* Write a file (parents created) and return its absolute path (same ring). */
const char *h_write(const char *rel, const void *data, size_t len);
const char *h_write_str(const char *rel, const char *text);
/* An entry file of n records, each padded with pad bytes of text. */
const char *h_write_entries(const char *rel, unsigned n, size_t pad);

/* n load files ingest/load/<i>.json of records + step * i entries each; paths[i] owned. */
void h_write_load_files(const char **paths, unsigned n, unsigned records, unsigned step);
void h_free_paths(const char **paths, unsigned n);

/* --- the ingest API's writes ---------------------------------------------- */

enum h_api {
	H_API_OLD,	/* py_cub_front_data_ingestion: id, filename, ... */
	H_API_NEW,	/* portada_ingestion_docker: original_filename, stored_filename, ... */
};

/* HSET file:<id> like that API version, RPUSH files:all and files:user:<user>. */
void h_enqueue(enum h_api api, const char *id, const char *file_path,
    const char *file_type, const char *user);
/* The same for n ids in one pipeline; id i uses paths[i % n_paths]. */
void h_enqueue_many(enum h_api api, char **ids, size_t n, const char *const *paths,
    size_t n_paths, const char *file_type, const char *user);
/* HSET file:<id> with exactly these fields (NULL-terminated pairs), RPUSH files:all. */
void h_enqueue_fields(const char *id, ...);
/* The timestamp string h_enqueue wrote for id (same for every id of a test). */
const char *h_timestamp(void);

/* "prefix-00000" ... : n ids, malloc'd. */
char **h_ids(const char *prefix, size_t n);

/* Every id's hash has this status. */
void h_assert_all_status(char **ids, size_t n, const char *status);
/* files:all and files:processing:<worker_id> are empty. */
void h_assert_lists_empty(const char *worker_id);

/* --- the worker ----------------------------------------------------------- */

/*
 * Start the worker with --redis, --worker-id, --ingest-root and
 * --log-format json, then the given extra arguments (NULL-terminated).
 */
void h_worker_start(struct h_worker *w, const char *worker_id, ...);
/* Same with an explicit argv (no defaults); stdout to w->out, stderr to w->log. */
void h_worker_start_argv(struct h_worker *w, const char *const *args);
/* Wait for exit; kills and fails the test on timeout.  Returns the exit code. */
int h_worker_wait(struct h_worker *w, double timeout);
/* Raw wait status (for a worker that may have been killed). */
int h_worker_wait_status(struct h_worker *w, double timeout);
void h_worker_signal(struct h_worker *w, int sig);
bool h_worker_running(struct h_worker *w);
/* Lines with "event":"<event>" so far in the worker's log. */
unsigned h_worker_events(struct h_worker *w, const char *event);
/* Wait until at least n such lines; false on timeout or if the worker exited first. */
bool h_worker_wait_event(struct h_worker *w, const char *event, unsigned n, double timeout);
/* Print the lines of the log that are not JSON (valgrind, sanitizers). */
void h_worker_print_foreign(const struct h_worker *w);

/* --- the worker's JSON log ------------------------------------------------ */

struct h_log_line {
	char *level, *event, *file, *msg;
};

struct h_log {
	struct h_log_line *lines;
	size_t n;
	size_t n_foreign;		/* lines that were not JSON objects */
};

struct h_log *h_log_load(const char *path);
void h_log_free(struct h_log *log);
size_t h_log_count(const struct h_log *log, const char *event, const char *file);
/* The message of the first such line, or NULL. */
const char *h_log_msg(const struct h_log *log, const char *event, const char *file);
/* counts[i] = lines with event for ids[i]. */
void h_log_counts(const struct h_log *log, const char *event, char **ids, size_t n,
    unsigned *counts);

/* --- MONITOR -------------------------------------------------------------- */

void h_monitor_start(void);
/* Make sure everything Redis ran so far is in the monitor file. */
void h_monitor_sync(void);
void h_monitor_stop(void);
/* counts[i] = HSETs run by a Lua script that set <hash_prefix><ids[i]> status to value. */
void h_monitor_status_counts(const char *value, char **ids, size_t n, unsigned *counts);
/* Lines of the monitor file containing needle. */
size_t h_monitor_grep(const char *needle);

/* --- a small string -> index map ------------------------------------------ */

struct h_map;
struct h_map *h_map_new(char **keys, size_t n);
long h_map_get(const struct h_map *m, const char *key, size_t len);
void h_map_free(struct h_map *m);

#endif
