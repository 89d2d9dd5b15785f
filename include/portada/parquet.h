/*
 * parquet: a streaming Parquet file writer (pure: no I/O of its own).
 *
 * The caller opens a writer with a flat schema (plus lists of strings),
 * hands it whole rows, and closes it.  Bytes leave through a sink callback
 * in order, so the same writer fills a local file or an upload stream.
 * Only the current row group is held in memory: it is written out once it
 * reaches opt.row_group_bytes (or row_group_rows), and no row is ever
 * accepted that would take the row group past opt.memory_limit.
 *
 * What it writes (apache/parquet-format): data pages v1; RLE/bit-packed
 * levels with their 4-byte length; PLAIN values; strings dictionary
 * encoded (DICTIONARY_PAGE + RLE_DICTIONARY) until a chunk's dictionary
 * passes opt.dictionary_bytes, then PLAIN for the rest of that chunk;
 * ZSTD, SNAPPY, GZIP or no compression; per-chunk statistics (null_count,
 * min_value, max_value, exactness flags) with the column_orders they need.
 *
 * Errors follow include/portada/error.h.  A rejected row (a null in a
 * REQUIRED column, a value of the wrong type, a string that is not UTF-8,
 * a row too big for the memory limit) changes nothing: the writer goes on
 * with the next row.  A failing sink poisons the writer: every later call
 * fails, and the bytes already written must be thrown away.
 */
#ifndef PORTADA_PARQUET_H
#define PORTADA_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portada/error.h"

/* Column types, named as in the Delta schema. */
enum pw_pq_type {
	PW_PQ_STRING,		/* BYTE_ARRAY, STRING (UTF-8 checked) */
	PW_PQ_LONG,		/* INT64 */
	PW_PQ_INTEGER,		/* INT32 */
	PW_PQ_DATE,		/* INT32 DATE: days since 1970-01-01 */
	PW_PQ_TIMESTAMP,	/* INT64 TIMESTAMP(MICROS, UTC): µs since the epoch */
	PW_PQ_DOUBLE,		/* DOUBLE */
	PW_PQ_BOOLEAN,		/* BOOLEAN */
	PW_PQ_STRING_LIST,	/* three-level LIST of nullable strings */
};

enum pw_pq_codec {
	PW_PQ_UNCOMPRESSED = 0,
	PW_PQ_SNAPPY = 1,
	PW_PQ_GZIP = 2,
	PW_PQ_ZSTD = 6,		/* numbers are Parquet's CompressionCodec */
};

struct pw_pq_column {
	const char		*name;	/* copied; non-empty UTF-8 */
	enum pw_pq_type		 type;
	bool			 required; /* REQUIRED rather than OPTIONAL */
};

struct pw_pq_options {
	enum pw_pq_codec codec;		/* default ZSTD */
	int		 level;		/* codec level; 0 = the codec's default */
	size_t		 row_group_bytes; /* buffered bytes that end a row group; default 64 MiB */
	uint64_t	 row_group_rows;  /* rows that end a row group; 0 = no limit */
	size_t		 page_bytes;	/* raw value bytes that end a page; default 1 MiB */
	size_t		 dictionary_bytes; /* per chunk; default 1 MiB; 0 = no dictionaries */
	size_t		 stats_bytes;	/* string min/max are cut to this; default 64 */
	size_t		 memory_limit;	/* cap on the open row group's bytes; default 4 × row_group_bytes */
	const char	*created_by;	/* default "portada-worker version <PW_PQ_VERSION>" */
};

/* Fill opt with the defaults above. */
void pw_pq_options_default(struct pw_pq_options *opt);

/*
 * Where the bytes go: write all n bytes (n > 0) or fail with err set.
 * Called only from pw_pq_open(), pw_pq_write_row() (when a row group is
 * full) and pw_pq_close().
 */
typedef int (*pw_pq_sink_fn)(void *ctx, const void *p, size_t n, struct pw_error *err);

/* One value of a row.  Build them with the helpers below. */
enum pw_pq_kind {
	PW_PQ_V_NULL = 0,
	PW_PQ_V_STRING,		/* u.s: string */
	PW_PQ_V_INT,		/* u.i: long, integer, date, timestamp */
	PW_PQ_V_DOUBLE,		/* u.d: double */
	PW_PQ_V_BOOL,		/* u.b: boolean */
	PW_PQ_V_LIST,		/* u.list: string list; an item with p == NULL is null */
};

struct pw_pq_str {
	const char	*p;
	size_t		 n;
};

struct pw_pq_value {
	enum pw_pq_kind	kind;
	union {
		struct pw_pq_str s;
		int64_t		 i;
		double		 d;
		bool		 b;
		struct {
			const struct pw_pq_str	*items;
			size_t			 n;
		} list;
	} u;
};

static inline struct pw_pq_value
pw_pq_null(void)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_NULL };
	return v;
}

static inline struct pw_pq_value
pw_pq_string(const char *p, size_t n)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_STRING, .u.s = { p, n } };
	return v;
}

static inline struct pw_pq_value
pw_pq_int(int64_t i)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_INT, .u.i = i };
	return v;
}

static inline struct pw_pq_value
pw_pq_double(double d)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_DOUBLE, .u.d = d };
	return v;
}

static inline struct pw_pq_value
pw_pq_bool(bool b)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_BOOL, .u.b = b };
	return v;
}

static inline struct pw_pq_value
pw_pq_list(const struct pw_pq_str *items, size_t n)
{
	struct pw_pq_value v = { .kind = PW_PQ_V_LIST, .u.list = { items, n } };
	return v;
}

/*
 * What a closed file holds, per column, for the Delta log's stats.
 * min/max cover the non-null leaf values of the whole file; for strings
 * they are cut to opt.stats_bytes at a character boundary: min stays a
 * lower bound, max is raised to stay an upper bound, and the *_exact flag
 * says whether the value is the real one.  has_min_max is false when a
 * column has no non-null value (or only NaNs) or a string max cannot be
 * bounded within the cut.
 */
struct pw_pq_col_stats {
	uint64_t	 null_count;	/* null leaf values (a null or empty list counts one) */
	bool		 has_min_max;
	bool		 min_exact, max_exact;
	union {
		int64_t	i;		/* long, integer, date, timestamp */
		double	d;
		bool	b;
	} min, max;
	struct pw_pq_str min_s, max_s;	/* strings and string lists; owned by the writer */
};

struct pw_pq_file_stats {
	uint64_t			 num_rows;
	uint64_t			 file_bytes;	/* everything the sink was given */
	size_t				 ncolumns;
	const struct pw_pq_col_stats	*columns;	/* in schema order */
};

struct pw_pq_writer;

/*
 * Check the schema and options, write the leading "PAR1" and return a
 * writer; NULL with err set if the schema is invalid (no columns, an empty
 * or duplicate name, an unknown type or codec) or the sink fails.
 */
struct pw_pq_writer *pw_pq_open(const struct pw_pq_column *columns, size_t ncolumns,
    const struct pw_pq_options *opt, pw_pq_sink_fn sink, void *sink_ctx,
    struct pw_error *err);

/*
 * Append one row: values[i] belongs to column i.  The values are copied
 * before it returns.  -1 with err naming the column and row ("column
 * \"x\", row 12: ...") if the row is refused; the writer is unchanged.
 */
int pw_pq_write_row(struct pw_pq_writer *w, const struct pw_pq_value *values,
    struct pw_error *err) PW_MUST_CHECK;

/* Rows accepted so far. */
uint64_t pw_pq_rows(const struct pw_pq_writer *w);

/* Whether a sink or codec failure poisoned the writer (a refused row does
 * not): callers tell a bad row from a bad disk this way. */
bool pw_pq_broken(const struct pw_pq_writer *w);

/*
 * Bytes held right now: the open row group's pages, levels and
 * dictionaries, which row_group_bytes ends and memory_limit caps, plus the
 * footer entries of the row groups already written (about 150 bytes per
 * column and row group; a caller bounds them by bounding the file).  Not
 * counted: a fixed 4 × (stats_bytes + 8) per column for statistics, and
 * the scratch of one page and its compressed form.
 */
size_t pw_pq_held_bytes(const struct pw_pq_writer *w);

/*
 * Write the last row group and the footer.  On success *stats (if not
 * NULL) describes the file and stays valid until pw_pq_destroy().
 */
int pw_pq_close(struct pw_pq_writer *w, const struct pw_pq_file_stats **stats,
    struct pw_error *err) PW_MUST_CHECK;

/* Free everything; NULL is a no-op.  Closing first is not required. */
void pw_pq_destroy(struct pw_pq_writer *w);

/* Parse "zstd", "snappy", "gzip", "none"/"uncompressed"; -1 if unknown. */
int pw_pq_codec_parse(const char *s, enum pw_pq_codec *out);
const char *pw_pq_codec_name(enum pw_pq_codec c);

#endif
