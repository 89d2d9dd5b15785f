/*
 * deltalog: the Delta Lake transaction log as text (pure: no I/O).
 *
 * Writing: the actions of one commit, each a JSON line ending in '\n',
 * appended to a capped struct pw_buf (protocol, metaData, add with its
 * stats, txn, commitInfo), the table schema as Spark writes it, and the
 * names of version files.  Reading: one version file's actions, a
 * schemaString, and the names found in _delta_log/.  Deciding: whether
 * portada-worker may append to a table (pw_delta_check_writable()) and how
 * a table spec's columns fit an existing schema (pw_delta_schema_merge()).
 *
 * The rules come from delta-io/delta PROTOCOL.md.  portada-worker is a
 * blind appender of plain, unpartitioned Parquet files that never writes
 * checkpoints, removes files or evaluates SQL; every table feature it
 * accepts is one that asks nothing more of such a writer.
 *
 * Errors follow include/portada/error.h.  An append that fails (the buffer
 * would pass its limit, or an input cannot be written) leaves the buffer
 * exactly as it was.
 */
#ifndef PORTADA_DELTALOG_H
#define PORTADA_DELTALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/error.h"
#include "portada/parquet.h"

/* ---- schema --------------------------------------------------------------- */

/*
 * One top-level column.  Types map to Delta as "string", "long",
 * "integer", "date", "timestamp", "double", "boolean", and string_list to
 * {"type":"array","elementType":"string","containsNull":true}.
 */
struct pw_delta_field {
	char		*name;		/* non-empty UTF-8 */
	enum pw_pq_type	 type;
	bool		 nullable;
	char		*metadata;	/* the field's metadata object as compact JSON; NULL = {} */
};

/* Free fields[0..n) and the array itself; NULL is a no-op. */
void pw_delta_fields_free(struct pw_delta_field *fields, size_t n);

/* Deep copies of fields[0..n) (metadata included); NULL when n is 0. */
struct pw_delta_field *pw_delta_fields_copy(const struct pw_delta_field *fields, size_t n);

/*
 * Append the schema as a compact struct JSON (no newline), fields in order,
 * each with its metadata ("metadata":{} when NULL).  Refuses an empty
 * schema, names that repeat regardless of case, and names with a character
 * Delta allows only under column mapping (one of " ,;{}()\n\t=").
 */
int pw_delta_schema_write(struct pw_buf *b, const struct pw_delta_field *fields,
    size_t n, struct pw_error *err) PW_MUST_CHECK;

/*
 * Parse a schemaString.  On success the caller owns *fields (free with
 * pw_delta_fields_free()).  Refuses, naming the column, any type this
 * writer cannot write: short, byte, float, binary, decimal, timestamp_ntz,
 * variant, nested structs, maps and arrays of anything but nullable strings.
 */
int pw_delta_schema_parse(const char *text, size_t len, struct pw_delta_field **fields,
    size_t *n, struct pw_error *err) PW_MUST_CHECK;

/*
 * Fit the spec's columns to a table's schema.  The result (caller owns,
 * pw_delta_fields_free()) is the table's columns in the table's order with
 * their metadata, then the spec's new columns in spec order; *changed says
 * whether any were added.  Refused, naming the column:
 *   - a column in both whose type differs, or whose name differs only in case;
 *   - a table column that is nullable while the spec's is not (a column
 *     cannot become NOT NULL), or the other way round (the spec could write
 *     nulls into a NOT NULL column);
 *   - a table column the spec lacks that is not nullable (new rows can only
 *     have null there);
 *   - a new column that is not nullable (existing rows have no value for it).
 */
int pw_delta_schema_merge(const struct pw_delta_field *table, size_t ntable,
    const struct pw_delta_field *spec, size_t nspec, struct pw_delta_field **merged,
    size_t *nmerged, bool *changed, struct pw_error *err) PW_MUST_CHECK;

/* ---- writing actions ------------------------------------------------------ */

/* Append {"protocol":{"minReaderVersion":1,"minWriterVersion":2}}. */
int pw_delta_append_protocol(struct pw_buf *b, struct pw_error *err) PW_MUST_CHECK;

/*
 * Append a new table's metaData: id (a UUID the caller made), format
 * parquet, the schema, no partition columns, empty configuration and
 * createdTime (ms since the epoch).
 */
int pw_delta_append_metadata(struct pw_buf *b, const char *id,
    const struct pw_delta_field *fields, size_t n, int64_t created_ms,
    struct pw_error *err) PW_MUST_CHECK;

struct pw_delta_metadata;

/*
 * Append a metaData that changes only the schema of an existing table:
 * old's action with its schemaString replaced by fields (id,
 * configuration, createdTime and everything else kept).
 */
int pw_delta_append_metadata_update(struct pw_buf *b, const struct pw_delta_metadata *old,
    const struct pw_delta_field *fields, size_t n, struct pw_error *err) PW_MUST_CHECK;

/*
 * Append the stats JSON of one data file (not yet quoted as a string):
 * numRecords, minValues, maxValues, nullCount, for stats->columns in
 * fields' order (stats->ncolumns must equal n).  Per type:
 *   string       the writer's min/max as they are (cut strings are bounds)
 *   long/integer JSON integers
 *   date         "YYYY-MM-DD"
 *   timestamp    "YYYY-MM-DDTHH:MM:SS.mmmZ", min rounded down and max up
 *                to the millisecond
 *   double       JSON numbers; no min/max at all unless both are finite
 *   boolean      nullCount only (as Spark)
 *   string_list  nothing at all (as Spark, which keeps no stats for arrays)
 * A column with no min/max, or one outside the years 0001..9999, gets
 * nullCount only.
 */
int pw_delta_stats_write(struct pw_buf *b, const struct pw_delta_field *fields,
    size_t n, const struct pw_pq_file_stats *stats, struct pw_error *err) PW_MUST_CHECK;

struct pw_delta_add {
	const char			*path;	/* relative to the table, not yet encoded */
	uint64_t			 size;	/* bytes */
	int64_t				 modification_ms;
	const struct pw_delta_field	*fields;
	size_t				 nfields;
	const struct pw_pq_file_stats	*stats;	/* NULL: no stats */
};

/*
 * Append an add action: the path URI-encoded (pw_delta_path_encode()),
 * partitionValues {}, size, modificationTime, dataChange true and stats
 * as a JSON string.  Refuses an empty, absolute or non-UTF-8 path.
 */
int pw_delta_append_add(struct pw_buf *b, const struct pw_delta_add *add,
    struct pw_error *err) PW_MUST_CHECK;

/* Append {"txn":{"appId":..,"version":..,"lastUpdated":..}}. */
int pw_delta_append_txn(struct pw_buf *b, const char *app_id, int64_t version,
    int64_t last_updated_ms, struct pw_error *err) PW_MUST_CHECK;

struct pw_delta_commit_info {
	int64_t			 timestamp_ms;
	const char		*version;	/* engineInfo is "portada-worker/<version>" */
	const char *const	*source_ids;	/* the uploads in this commit */
	const uint64_t		*source_records; /* rows of each, or NULL */
	size_t			 nsource_ids;
	const char		*txn_id;	/* NULL: none */
};

/*
 * Append a commitInfo for a blind append: timestamp, operation "WRITE",
 * operationParameters {"mode":"Append"}, isBlindAppend true, engineInfo,
 * txnId (if any) and our own portadaSourceIds (and portadaSourceRecords,
 * the rows each upload added, when given).  Refuses strings that are
 * not UTF-8, naming which.
 */
int pw_delta_append_commit_info(struct pw_buf *b, const struct pw_delta_commit_info *ci,
    struct pw_error *err) PW_MUST_CHECK;

/*
 * A path as Delta wants it (RFC 2396): every byte but A-Z a-z 0-9 - . _ ~
 * and '/' becomes %XX (upper-case hex).  Caller frees.
 */
char *pw_delta_path_encode(const char *path);

/* Undo %XX escapes; NULL with err set for a bad escape or an encoded NUL. */
char *pw_delta_path_decode(const char *path, struct pw_error *err);

/* ---- reading a commit ----------------------------------------------------- */

struct pw_delta_protocol {
	int	  min_reader_version;
	int	  min_writer_version;
	char	**reader_features;	/* NULL when absent */
	size_t	  nreader_features;
	char	**writer_features;	/* NULL when absent */
	size_t	  nwriter_features;
};

struct pw_delta_config {
	char	*key;
	char	*value;			/* NULL for a JSON null (delta-rs writes them) */
};

struct pw_delta_metadata {
	char			*id;
	char			*provider;	/* format.provider */
	struct pw_delta_field	*fields;	/* the schemaString, parsed */
	size_t			 nfields;
	char			**partition_columns;
	size_t			 npartition_columns;
	struct pw_delta_config	*config;	/* configuration, in log order */
	size_t			 nconfig;
	char			*json;		/* the whole action value, compact */
};

struct pw_delta_txn {
	char	*app_id;
	int64_t	 version;
};

struct pw_delta_commit {
	bool			 has_protocol;
	struct pw_delta_protocol protocol;
	bool			 has_metadata;
	struct pw_delta_metadata metadata;
	char			**add_paths;	/* as written: still URI-encoded */
	uint64_t		*add_sizes;	/* add.size, per path */
	int64_t			*add_records;	/* stats.numRecords, or -1 without */
	size_t			 nadd;
	char			**remove_paths;
	size_t			 nremove;
	struct pw_delta_txn	*txns;
	size_t			 ntxns;
	bool			 has_commit_info;
	char			**source_ids;	/* commitInfo.portadaSourceIds */
	int64_t			*source_records; /* portadaSourceRecords, per id; -1 unknown */
	size_t			 nsource_ids;
	char			*txn_id;	/* commitInfo.txnId, or NULL */
	int64_t			 timestamp_ms;	/* commitInfo.timestamp, or 0 */
	char			*operation;	/* commitInfo.operation, or NULL */
	size_t			 ncdc;		/* cdc actions */
	size_t			 ndomain_metadata; /* domainMetadata actions */
	/*
	 * Actions this parser does not know.  PROTOCOL.md says readers must
	 * ignore them (anything that changes what a writer must do comes with
	 * a protocol change), so they are only counted, for the log.
	 */
	size_t			 nunknown;
	char			*first_unknown;	/* the first one's name */
};

/*
 * Parse one version file (newline-delimited JSON; CRLF, blank lines and a
 * missing final newline are fine).  On success the caller owns *out
 * (pw_delta_commit_finish()); on failure *out is left empty.  Refused with
 * the line named: invalid JSON, a line that is not one action object, a
 * known action of the wrong shape, a schemaString this writer cannot
 * write, and more than one protocol, metaData or txn per appId.
 */
int pw_delta_commit_parse(const char *text, size_t len, struct pw_delta_commit *out,
    struct pw_error *err) PW_MUST_CHECK;

/* Free what a commit holds and leave it empty; safe on an empty commit. */
void pw_delta_commit_finish(struct pw_delta_commit *c);

/*
 * Whether portada-worker may append to a table with this protocol and
 * metadata.  Accepted: reader versions 1 and 2, and 3 with the reader
 * features columnMapping and vacuumProtocolCheck; writer versions 1 to 6
 * (each the legacy set of features it implies) and 7 with the writer
 * features appendOnly, invariants, checkConstraints, generatedColumns,
 * allowColumnDefaults, changeDataFeed, columnMapping, identityColumns,
 * domainMetadata, vacuumProtocolCheck and inCommitTimestamp; each only
 * while it asks nothing of a blind appender.  So also refused, naming the
 * setting and the column: column invariants (delta.invariants), CHECK
 * constraints (delta.constraints.*), generated columns, identity columns,
 * column defaults, column mapping in id or name mode, in-commit timestamps
 * enabled, partition columns, and a format other than parquet.
 */
int pw_delta_check_writable(const struct pw_delta_protocol *protocol,
    const struct pw_delta_metadata *metadata, struct pw_error *err) PW_MUST_CHECK;

/* ---- file names ----------------------------------------------------------- */

/* Versions are Java longs in other engines: 0 .. INT64_MAX. */
#define PW_DELTA_VERSION_MAX	((uint64_t)INT64_MAX)

/* "%020d.json" plus its NUL. */
#define PW_DELTA_VERSION_NAME_SIZE 26

/* Write "00000000000000000012.json" for v (v <= PW_DELTA_VERSION_MAX). */
void pw_delta_version_name(uint64_t v, char out[PW_DELTA_VERSION_NAME_SIZE]);

enum pw_delta_log_kind {
	PW_DELTA_LOG_OTHER = 0,		/* anything else: .crc, temp files, _staged_commits, ... */
	PW_DELTA_LOG_COMMIT,		/* <v>.json */
	PW_DELTA_LOG_CHECKPOINT,	/* <v>.checkpoint.parquet */
	PW_DELTA_LOG_CHECKPOINT_PART,	/* <v>.checkpoint.<part>.<parts>.parquet */
	PW_DELTA_LOG_CHECKPOINT_V2,	/* <v>.checkpoint.<uuid>.json or .parquet */
	PW_DELTA_LOG_LAST_CHECKPOINT,	/* _last_checkpoint */
};

struct pw_delta_log_name {
	enum pw_delta_log_kind	kind;
	uint64_t		version;	/* all but OTHER and LAST_CHECKPOINT */
	uint32_t		part, parts;	/* CHECKPOINT_PART: 1 <= part <= parts */
};

/*
 * Classify one entry of _delta_log/ by its name.  Versions must be exactly
 * 20 digits (and at most PW_DELTA_VERSION_MAX), part numbers exactly 10;
 * anything else is OTHER.  Returns out->kind.
 */
enum pw_delta_log_kind pw_delta_log_name_parse(const char *name, struct pw_delta_log_name *out);

#endif
