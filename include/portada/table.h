/*
 * table: one Delta table in the lake, on any store (store.h: a local
 * directory or S3).  Opening creates the table (version 0: protocol and
 * metaData) or checks that this worker may append to it and that the
 * table spec fits its schema (adding nullable columns with a metaData
 * commit when the spec has new ones).  Data files stream into the store as
 * they are encoded and become durable when finished; a commit adds them to
 * the log with put-if-absent, moving on to the next version when another
 * writer took one with a plain append, and stopping when the schema or
 * protocol changed under it.  Every commit lists the uploads it holds
 * (commitInfo portadaSourceIds), which is how a restarted worker finds out
 * that an upload it was working on had already been committed.
 *
 * Everything that touches the store is asynchronous and ends in one
 * callback from the event loop, never from inside the call.  A table may
 * be closed only when nothing of it is in flight, or after
 * pw_store_close(), which drops the store's callbacks.  Errors follow
 * error.h; a callback's err is NULL on success.
 */
#ifndef PORTADA_TABLE_H
#define PORTADA_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "portada/deltalog.h"
#include "portada/error.h"
#include "portada/parquet.h"
#include "portada/store.h"
#include "portada/tablespec.h"

struct pw_table;
struct pw_table_file;

typedef void (*pw_table_done_fn)(void *arg, const struct pw_error *err);

/*
 * The table <store>/<spec->table>, not yet opened.  spec is borrowed and
 * must outlive the table; version goes into engineInfo.
 */
struct pw_table *pw_table_new(struct pw_store *st, const struct pw_table_spec *spec,
    const char *version);
/* Read the log (creating the table if it has none) and fit the spec to it. */
void pw_table_open(struct pw_table *t, pw_table_done_fn done, void *arg);
void pw_table_close(struct pw_table *t);

/* "<lake>/<table>", for messages. */
const char *pw_table_name(const struct pw_table *t);
const struct pw_table_spec *pw_table_spec(const struct pw_table *t);

/*
 * After a failure of the lake: whether this table can take commits again.
 * done(arg, 0, NULL) if its newest known version is still there; 1 and why
 * if it can never (the log lost that version, or another writer changed the
 * protocol or schema: a restart must open it again); -1 and why if the
 * store cannot tell now (try again later).
 */
typedef void (*pw_table_check_fn)(void *arg, int result, const struct pw_error *err);
void pw_table_check(struct pw_table *t, pw_table_check_fn done, void *arg);
/* The newest version this worker knows of. */
uint64_t pw_table_version(const struct pw_table *t);
/* Versions another writer took first, so a commit moved on (metrics). */
uint64_t pw_table_conflicts(const struct pw_table *t);

/* A new data file with the spec's columns, options as given (NULL: the
 * writer's defaults). */
struct pw_table_file *pw_table_file_create(struct pw_table *t, const struct pw_pq_options *opt,
    struct pw_error *err);
int pw_table_file_write(struct pw_table_file *f, const struct pw_pq_value *row,
    struct pw_error *err) PW_MUST_CHECK;
uint64_t pw_table_file_rows(const struct pw_table_file *f);
/* Whether a failed write broke the file, rather than refusing a row. */
bool pw_table_file_broken(const struct pw_table_file *f);
/* Encoded bytes not yet taken by the store (S3 parts waiting to upload). */
size_t pw_table_file_buffered(const struct pw_table_file *f);

/*
 * Memory the table's open data files hold: each writer's biggest row group
 * so far (its buffers keep that size until the file is finished), and the
 * log entry being put.  For the worker's memory budget.
 */
size_t pw_table_held(const struct pw_table *t);
size_t pw_table_commit_held(const struct pw_table *t);

/*
 * Close the Parquet file and make it durable in the store; done() follows
 * (a storage failure met while writing is reported there).  -1 and no
 * callback if the file cannot be closed at all.
 */
int pw_table_file_finish(struct pw_table_file *f, pw_table_done_fn done, void *arg,
    struct pw_error *err) PW_MUST_CHECK;
bool pw_table_file_finished(const struct pw_table_file *f);
/* Throw an unfinished file away (nothing is left in the store), or free a
 * finished or committed one.  Also while finishing: done() is not called. */
void pw_table_file_destroy(struct pw_table_file *f);

typedef void (*pw_table_commit_fn)(void *arg, uint64_t version, const struct pw_error *err);

/*
 * Commit finished files (nfiles may be 0) for the uploads ids[0..nids),
 * which added records[i] rows each (records may be NULL), as one new
 * version, given to done().  One commit at a time per table; -1 and no
 * callback if the entry cannot be built.
 */
int pw_table_commit(struct pw_table *t, struct pw_table_file *const *files, size_t nfiles,
    const char *const *ids, const uint64_t *records, size_t nids, pw_table_commit_fn done,
    void *arg, struct pw_error *err) PW_MUST_CHECK;

/*
 * Whether upload id is in a commit made after since_ms (ms since the epoch,
 * when the upload was first started; commits older than that, less a
 * margin for clocks, are not read).  The caller owns the lookup and fills
 * in id (borrowed until done), since_ms, done and arg; done() gets found,
 * version and records (-1 if the commit did not say).  The ids read are
 * kept in an index that grows with new versions; it is dropped every hour
 * and rebuilt as lookups need, so a long-running worker holds about an
 * hour's uploads, not the table's history.
 */
struct pw_table_lookup;
typedef void (*pw_table_lookup_fn)(void *arg, struct pw_table_lookup *lk,
    const struct pw_error *err);

struct pw_table_lookup {
	const char			*id;
	int64_t				 since_ms;
	pw_table_lookup_fn		 done;
	void				*arg;
	/* results */
	bool				 found;
	uint64_t			 version;
	int64_t				 records;
	/* private */
	TAILQ_ENTRY(pw_table_lookup)	 link;
	int				 queue;	/* 0: none, 1: waiting, 2: being answered */
};

void pw_table_find_source(struct pw_table *t, struct pw_table_lookup *lk);
/* Forget a lookup not yet answered (its done() is not called). */
void pw_table_lookup_cancel(struct pw_table *t, struct pw_table_lookup *lk);

/* ---- reading a local table's log directly (inspect, tests) ---- */

/* What _delta_log/ holds, by name: the newest JSON commit (max, if any),
 * whether version 0 is there, whether there are checkpoints. */
struct pw_table_log {
	bool		any, has_zero, checkpoint;
	uint64_t	max;
};
int pw_table_log_scan(const char *logdir, struct pw_table_log *out,
    struct pw_error *err) PW_MUST_CHECK;

/* Read and parse version v of the log in logdir; *missing (and 0) if it
 * does not exist; *mtime_ms (if not NULL) is the file's mtime. */
int pw_table_log_read(const char *logdir, uint64_t v, struct pw_delta_commit *c,
    bool *missing, int64_t *mtime_ms, struct pw_error *err) PW_MUST_CHECK;

#endif
