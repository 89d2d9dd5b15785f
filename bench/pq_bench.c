/*
 * pq_bench: encode throughput of the Parquet writer (src/parquet.c) on the
 * rows of the future ship_entries table, built from real PortAda entry
 * files.  A benchmark, not a test: it prints figures as key=value lines on
 * stdout, for bench/parquet-encode.sh to put in a table.
 *
 *   pq_bench [-n REPS] [-r RUNS] [-o OUT.parquet] [-O DIR] [-j ROWS.ndjson]
 *            [-s SCHEMA.json] [-d DICT_BYTES] [-P PAGE_BYTES] [-1] FILE.json...
 *
 * Each FILE is a top-level JSON array of records.  All files are read,
 * repeated REPS times (each repetition of a file stands for another
 * upload of it: its own file_id, record_index from 0), and turned into rows
 * in memory before anything is timed.  Then, best of RUNS each, and only
 * this inside clock_gettime(CLOCK_MONOTONIC):
 *   - one file:   pw_pq_open + pw_pq_write_row for every row + pw_pq_close
 *                 into a sink that write(2)s OUT.parquet (opened before the
 *                 clock starts, closed before it stops; no fsync), and the
 *                 same into a sink that only counts bytes;
 *   - per upload: the same once per upload (FILES x REPS writers), into
 *                 DIR/ours-K.parquet (open(2) and close(2) inside the clock)
 *                 and into the discarding sink.
 * -j writes the same rows as NDJSON (with an extra "upload": K) and -s the
 * column types for DuckDB's read_json.  -d and -P set opt.dictionary_bytes
 * and opt.page_bytes (else the defaults: for experiments).  -1 runs one
 * single-file encode into the discarding sink and nothing else (for
 * callgrind: --toggle-collect=encode_rows).
 *
 * The rows (columns in this order):
 *   file_id string, record_index long, uploaded_by string ("bench"),
 *   source_filename string, ingested_at timestamp (fixed), publication_date
 *   date (epoch milliseconds in a string -> UTC date, or "YYYY-MM-DD";
 *   anything else null), one nullable string per PortAda field (the
 *   contract's list without publication_date, which is the date column,
 *   plus ship_agent, ship_crew, fact_type), and record: the record's
 *   complete JSON, compact.
 * A field's value: an object with calculated_value / original_value /
 * default_value resolves to the first of those present and non-empty (not
 * null, "", [] or {}), else null; strings are their text, other scalars
 * their JSON text (true, 38), arrays and other objects compact JSON text;
 * an absent field or a JSON null is null.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "portada/parquet.h"
#include "portada/rows.h"
#include "portada/tablespec.h"

/* The columns of the default ship_entries spec (tables/ship_entries.json). */
#define NCOLS 47

/* 2026-02-02T23:50:11.123456Z */
#define INGESTED_AT_US INT64_C(1770076211123456)

static struct pw_pq_column schema[NCOLS];

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "pq_bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		die("out of memory%s", "");
	return p;
}

static struct pw_table_spec spec;
static struct pw_row_builder *builder;
static struct pw_jtree *tree;

/* The schema and the mapping are the worker's own: the default table spec
 * and src/rows.c. */
static void
build_schema(void)
{
	const char *text = pw_table_spec_default(PW_FILE_ENTRY);
	struct pw_error err;

	if (pw_table_spec_parse(text, strlen(text), "default", &spec, &err) == -1)
		die("%s", err.msg);
	if (spec.ncolumns != NCOLS)
		die("the default spec no longer has 47 columns%s", "");
	pw_table_spec_pq_columns(&spec, schema);
	builder = pw_row_builder_create(&spec);
	tree = pw_jtree_create(0);
}

/* ---- string arena: every row's strings, copied, never freed ---- */

static char	*arena;
static size_t	 arena_left;

static const char *
keep(const char *p, size_t n)
{
	if (n + 1 > arena_left) {
		size_t sz = n + 1 > (16u << 20) ? n + 1 : (16u << 20);
		arena = xmalloc(sz);
		arena_left = sz;
	}
	char *q = arena;
	memcpy(q, p, n);
	q[n] = '\0';
	arena += n + 1;
	arena_left -= n + 1;
	return q;
}

struct row {
	struct pw_pq_value v[NCOLS];
};

static struct row	*rows;
static size_t		 nrows, rows_cap;
static uint64_t		 row_bytes;	/* value bytes: strings' lengths, 8 per long/timestamp, 4 per date */

/* Uploads: rows [upload_start[k], upload_start[k + 1]). */
static size_t	*upload_start;
static size_t	 nuploads;

/* ---- values ---- */

static struct pw_pq_value
str_value(const char *p, size_t n)
{
	row_bytes += n;
	return pw_pq_string(keep(p, n), n);
}

static void
add_row(const json_t *rec, const char *file_id, int64_t index, const char *source)
{
	struct pw_row_meta meta = { file_id, "bench", source, NULL, INGESTED_AT_US };
	const struct pw_pq_value *mapped;
	const struct pw_jval *parsed;
	struct pw_jtree_error je;
	char *raw;

	if (nrows == rows_cap) {
		rows_cap = rows_cap ? rows_cap * 2 : 4096;
		struct row *r = realloc(rows, rows_cap * sizeof *rows);
		if (r == NULL)
			die("out of memory%s", "");
		rows = r;
	}
	/*
	 * The samples are loaded whole, so the record's text is its compact
	 * form; it is parsed again as the worker parses each record (the row
	 * borrows from tree until it is copied below).
	 */
	if ((raw = json_dumps(rec, JSON_COMPACT)) == NULL)
		die("json_dumps failed%s", "");
	if ((parsed = pw_jtree_parse(tree, raw, strlen(raw), &je)) == NULL)
		die("jtree: %s", je.text);
	mapped = pw_row_entry(builder, &meta, (uint64_t)index, parsed, raw, strlen(raw));
	struct pw_pq_value *v = rows[nrows++].v;
	for (size_t c = 0; c < NCOLS; c++) {
		v[c] = mapped[c];
		if (v[c].kind == PW_PQ_V_STRING)
			v[c] = str_value(v[c].u.s.p, v[c].u.s.n);
		else if (v[c].kind == PW_PQ_V_INT)
			row_bytes += schema[c].type == PW_PQ_DATE ? 4 : 8;
	}
	free(raw);
}

/* ---- NDJSON and schema for DuckDB ---- */

static json_t *
to_json(const struct pw_pq_value *v, enum pw_pq_type t)
{
	if (v->kind == PW_PQ_V_NULL)
		return json_null();
	if (t == PW_PQ_STRING)
		return json_stringn(v->u.s.p, v->u.s.n);
	if (t == PW_PQ_LONG)
		return json_integer(v->u.i);
	if (t == PW_PQ_DATE || t == PW_PQ_TIMESTAMP) {
		int64_t secs = t == PW_PQ_DATE ? v->u.i * 86400 : v->u.i / 1000000;
		int64_t us = t == PW_PQ_DATE ? 0 : v->u.i % 1000000;
		if (us < 0) {
			us += 1000000;
			secs--;
		}
		time_t tt = (time_t)secs;
		struct tm tm;
		char buf[64], out[96];
		gmtime_r(&tt, &tm);
		strftime(buf, sizeof buf, t == PW_PQ_DATE ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S", &tm);
		if (t == PW_PQ_TIMESTAMP)
			snprintf(out, sizeof out, "%s.%06" PRId64 "+00", buf, us);
		else
			snprintf(out, sizeof out, "%s", buf);
		return json_string(out);
	}
	die("unexpected type%s", "");
	return NULL;
}

static void
write_ndjson(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("cannot write %s", path);
	size_t k = 0;
	for (size_t r = 0; r < nrows; r++) {
		json_t *o = json_object();
		while (r >= upload_start[k + 1])
			k++;
		json_object_set_new(o, "upload", json_integer((json_int_t)k));
		for (size_t c = 0; c < NCOLS; c++)
			json_object_set_new(o, schema[c].name, to_json(&rows[r].v[c], schema[c].type));
		if (json_dumpf(o, f, JSON_COMPACT) != 0)
			die("cannot write %s", path);
		fputc('\n', f);
		json_decref(o);
	}
	if (fclose(f) != 0)
		die("cannot write %s", path);
}

static void
write_schema(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("cannot write %s", path);
	json_t *a = json_array();
	for (size_t c = 0; c < NCOLS; c++) {
		const char *t = "VARCHAR";
		switch (schema[c].type) {
		case PW_PQ_LONG: t = "BIGINT"; break;
		case PW_PQ_DATE: t = "DATE"; break;
		case PW_PQ_TIMESTAMP: t = "TIMESTAMPTZ"; break;
		default: break;
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "name", schema[c].name,
		    "type", t, "required", schema[c].required));
	}
	json_dumpf(a, f, JSON_INDENT(1));
	fputc('\n', f);
	json_decref(a);
	if (fclose(f) != 0)
		die("cannot write %s", path);
}

/* ---- sinks and the timed part ---- */

struct sink {
	int		fd;	/* -1: discard */
	uint64_t	bytes;
};

static int
sink_write(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct sink *s = ctx;
	s->bytes += n;
	if (s->fd < 0)
		return 0;
	const char *q = p;
	while (n > 0) {
		ssize_t k = write(s->fd, q, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			pw_error_set(err, "write: %s", strerror(errno));
			return -1;
		}
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t dict_bytes = (size_t)-1;	/* -1: the default */
static size_t page_bytes = (size_t)-1;

/* Rows [from, to) into one Parquet file; its size.  Out of line for --toggle-collect. */
__attribute__((noinline)) static uint64_t
encode_rows(struct sink *s, size_t from, size_t to)
{
	struct pw_pq_options opt;
	struct pw_error err;
	const struct pw_pq_file_stats *st;

	pw_pq_options_default(&opt);
	if (dict_bytes != (size_t)-1)
		opt.dictionary_bytes = dict_bytes;
	if (page_bytes != (size_t)-1)
		opt.page_bytes = page_bytes;
	struct pw_pq_writer *w = pw_pq_open(schema, NCOLS, &opt, sink_write, s, &err);
	if (w == NULL)
		die("pw_pq_open: %s", err.msg);
	for (size_t r = from; r < to; r++)
		if (pw_pq_write_row(w, rows[r].v, &err) != 0)
			die("pw_pq_write_row: %s", err.msg);
	if (pw_pq_close(w, &st, &err) != 0)
		die("pw_pq_close: %s", err.msg);
	uint64_t fb = st->file_bytes;
	pw_pq_destroy(w);
	if (fb != s->bytes)
		die("file_bytes disagrees with the sink%s", "");
	return fb;
}

static double
timed_single(const char *out, uint64_t *bytes)
{
	struct sink s = { .fd = -1 };
	if (out != NULL) {
		s.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (s.fd < 0)
			die("cannot write %s", out);
	}
	double t0 = now();
	*bytes = encode_rows(&s, 0, nrows);
	if (s.fd >= 0 && close(s.fd) != 0)
		die("close %s failed", out);
	return now() - t0;
}

static double
timed_per_upload(const char *dir, uint64_t *bytes)
{
	char path[4096] = "";
	*bytes = 0;
	double t0 = now();
	for (size_t k = 0; k < nuploads; k++) {
		struct sink s = { .fd = -1 };
		if (dir != NULL) {
			snprintf(path, sizeof path, "%s/ours-%zu.parquet", dir, k);
			s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (s.fd < 0)
				die("cannot write %s", path);
		}
		*bytes += encode_rows(&s, upload_start[k], upload_start[k + 1]);
		if (s.fd >= 0 && close(s.fd) != 0)
			die("close %s failed", path);
	}
	return now() - t0;
}

static const char *
base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

int
main(int argc, char **argv)
{
	int reps = 32, runs = 5, opt;
	bool once = false;
	const char *out = NULL, *dir = NULL, *ndjson = NULL, *schema_out = NULL;
	static const char usage[] = "usage: pq_bench [-n REPS] [-r RUNS] [-o OUT.parquet] [-O DIR] "
	    "[-j ROWS.ndjson] [-s SCHEMA.json] [-d DICT_BYTES] [-P PAGE_BYTES] [-1] FILE.json...";

	while ((opt = getopt(argc, argv, "n:r:o:O:j:s:d:P:1")) != -1) {
		switch (opt) {
		case 'n': reps = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'O': dir = optarg; break;
		case 'j': ndjson = optarg; break;
		case 's': schema_out = optarg; break;
		case 'd': dict_bytes = (size_t)strtoull(optarg, NULL, 10); break;
		case 'P': page_bytes = (size_t)strtoull(optarg, NULL, 10); break;
		case '1': once = true; break;
		default: die("%s", usage);
		}
	}
	if (optind == argc || reps < 1 || runs < 1)
		die("%s", usage);
	build_schema();

	int nfiles = argc - optind;
	json_t **docs = xmalloc((size_t)nfiles * sizeof *docs);
	uint64_t input_bytes = 0;
	for (int f = 0; f < nfiles; f++) {
		json_error_t je;
		const char *path = argv[optind + f];
		docs[f] = json_load_file(path, 0, &je);
		if (docs[f] == NULL || !json_is_array(docs[f]))
			die("cannot parse %s as a JSON array", path);
		FILE *fp = fopen(path, "rb");
		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0)
			die("cannot read %s", path);
		input_bytes += (uint64_t)ftell(fp);
		fclose(fp);
	}
	upload_start = xmalloc(((size_t)reps * (size_t)nfiles + 1) * sizeof *upload_start);
	for (int rep = 0; rep < reps; rep++) {
		for (int f = 0; f < nfiles; f++) {
			char file_id[48];
			/* a fixed uuid per sample file and repetition */
			snprintf(file_id, sizeof file_id, "44e3f456-a0e0-4c88-9d8d-%04x%08x",
			    (unsigned)f & 0xffff, (unsigned)rep);
			const char *src = base_name(argv[optind + f]);
			upload_start[nuploads++] = nrows;
			for (size_t i = 0; i < json_array_size(docs[f]); i++)
				add_row(json_array_get(docs[f], i), file_id, (int64_t)i, src);
		}
	}
	upload_start[nuploads] = nrows;
	for (int f = 0; f < nfiles; f++)
		json_decref(docs[f]);
	input_bytes *= (uint64_t)reps;
	/* glibc would otherwise consolidate the parser's freed chunks inside
	 * the first encode (in ZSTD_createCCtx's malloc): not the writer's cost. */
	malloc_trim(0);

	if (once) {
		struct sink s = { .fd = -1 };
		uint64_t fb = encode_rows(&s, 0, nrows);
		printf("rows=%zu\nfile_bytes=%" PRIu64 "\n", nrows, fb);
		return 0;
	}
	if (schema_out != NULL)
		write_schema(schema_out);
	if (ndjson != NULL)
		write_ndjson(ndjson);

	double single_null = 1e30, single_file = 1e30, up_null = 1e30, up_file = 1e30, t;
	uint64_t single_null_b = 0, single_file_b = 0, up_null_b = 0, up_file_b = 0;
	for (int i = 0; i < runs; i++) {
		if ((t = timed_single(NULL, &single_null_b)) < single_null)
			single_null = t;
		if (out != NULL && (t = timed_single(out, &single_file_b)) < single_file)
			single_file = t;
		if ((t = timed_per_upload(NULL, &up_null_b)) < up_null)
			up_null = t;
		if (dir != NULL && (t = timed_per_upload(dir, &up_file_b)) < up_file)
			up_file = t;
	}
	printf("reps=%d\nruns=%d\nrows=%zu\ncolumns=%d\nuploads=%zu\ninput_bytes=%" PRIu64 "\n"
	    "row_bytes=%" PRIu64 "\n", reps, runs, nrows, (int)NCOLS, nuploads, input_bytes,
	    row_bytes);
	printf("single_null_s=%.6f\nsingle_null_bytes=%" PRIu64 "\n", single_null, single_null_b);
	if (out != NULL)
		printf("single_file_s=%.6f\nsingle_file_bytes=%" PRIu64 "\n", single_file, single_file_b);
	printf("upload_null_s=%.6f\nupload_null_bytes=%" PRIu64 "\n", up_null, up_null_b);
	if (dir != NULL)
		printf("upload_file_s=%.6f\nupload_file_bytes=%" PRIu64 "\n", up_file, up_file_b);
	return 0;
}
