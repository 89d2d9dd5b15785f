/*
 * table: one Delta table in the lake, on the local filesystem.  Opening
 * creates the table (version 0: protocol and metaData) or checks that this
 * worker may append to it and that the table spec fits its schema (adding
 * nullable columns with a metaData commit when the spec has new ones).
 * Data files are Parquet files written under a temporary name and renamed
 * into place once complete and synced; a commit adds them to the log with
 * put-if-absent, moving on to the next version when another writer took
 * one with a plain append, and stopping when the schema or protocol
 * changed under it.  Every commit lists the uploads it holds (commitInfo
 * portadaSourceIds), which is how a restarted worker finds out that an
 * upload it was working on had already been committed.
 *
 * All calls block (local files and fsync); errors follow error.h.
 */
#ifndef PORTADA_TABLE_H
#define PORTADA_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "portada/deltalog.h"
#include "portada/error.h"
#include "portada/parquet.h"
#include "portada/tablespec.h"

struct pw_table;
struct pw_table_file;

/*
 * Open <lake>/<spec->table>, creating it (and the lake) if needed.  spec
 * is borrowed and must outlive the table; version goes into engineInfo.
 */
struct pw_table *pw_table_open(const char *lake, const struct pw_table_spec *spec,
    const char *version, struct pw_error *err);
void pw_table_close(struct pw_table *t);

const char *pw_table_dir(const struct pw_table *t);
const struct pw_table_spec *pw_table_spec(const struct pw_table *t);

/* The newest version this worker knows of. */
uint64_t pw_table_version(const struct pw_table *t);

/* A new data file with the spec's columns, options as given (NULL: the
 * writer's defaults). */
struct pw_table_file *pw_table_file_create(struct pw_table *t, const struct pw_pq_options *opt,
    struct pw_error *err);
int pw_table_file_write(struct pw_table_file *f, const struct pw_pq_value *row,
    struct pw_error *err) PW_MUST_CHECK;
uint64_t pw_table_file_rows(const struct pw_table_file *f);
/* Whether a failed write broke the file (storage), rather than refusing a row. */
bool pw_table_file_broken(const struct pw_table_file *f);

/* Close the Parquet file, sync it and give it its final name. */
int pw_table_file_finish(struct pw_table_file *f, struct pw_error *err) PW_MUST_CHECK;
/* Throw an unfinished file away (nothing is left on disk), or free a
 * finished or committed one. */
void pw_table_file_destroy(struct pw_table_file *f);

/*
 * Commit finished files (nfiles may be 0) for the uploads ids[0..nids),
 * which added records[i] rows each (records may be NULL), as one new
 * version; *version is the version it became.
 */
int pw_table_commit(struct pw_table *t, struct pw_table_file *const *files, size_t nfiles,
    const char *const *ids, const uint64_t *records, size_t nids, uint64_t *version,
    struct pw_error *err) PW_MUST_CHECK;

/*
 * Whether upload id is in a commit made after since_ms (ms since the epoch,
 * when the upload was first started; commits older than that, less a
 * margin for clocks, are not read).  *found and *version say which, and
 * *records how many rows it added (-1 if the commit did not say).  The
 * ids read are kept in an index that grows with new versions; it is
 * dropped every hour and rebuilt as lookups need, so a long-running worker
 * holds about an hour's uploads, not the table's history.
 */
int pw_table_find_source(struct pw_table *t, const char *id, int64_t since_ms,
    bool *found, uint64_t *version, int64_t *records, struct pw_error *err) PW_MUST_CHECK;

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
