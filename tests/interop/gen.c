/*
 * gen: write the interop suite's Parquet files with src/parquet.c, each with
 * a description of exactly what went in, for check.mjs to compare with what
 * independent readers (DuckDB, hyparquet) get out.
 *
 *   gen <out-dir> [name-substring]
 *
 * For each case it writes <case>.parquet and <case>.expect.json:
 *
 *   {"case": name,
 *    "columns": [{"name", "type" (the Delta name), "required"}],
 *    "codec": "zstd" | "snappy" | "gzip" | "none",
 *    "options": {every pw_pq_options field as given to pw_pq_open()},
 *    "rows": [[value, ...], ...]          -- or --
 *    "generator": {"name", "rows", "seed"} (rows too many to list: see
 *                                           big_generate() and check.mjs)
 *    "num_rows": N,
 *    "rejected": [{"before_row", "column", "error"}],
 *    "file_stats": {num_rows, file_bytes, columns: [{null_count,
 *                   has_min_max, min_exact, max_exact, min, max}]},
 *    "checks": {what the case is meant to exercise, checked by check.mjs}}
 *
 * Values: null; strings as JSON strings (the UTF-8 bytes given to the
 * writer); long, integer, date and timestamp as decimal strings; doubles
 * as %.17g numbers or "NaN", "Infinity", "-Infinity", "-0"; booleans;
 * string lists as arrays of strings and nulls.  String statistics from
 * the writer are given as hex ("min_hex"/"max_hex") so that they are
 * exact whatever their bytes.
 *
 * gen also checks what only the writer's caller can see: rows that must
 * be refused (not UTF-8, null in a REQUIRED column, the wrong kind of
 * value, an int out of range for a 32-bit column, a row over the memory
 * limit) are, with a message naming the column and the row, and the file
 * written around them holds only the good rows.  Exit status 1 if any of
 * that fails, 2 on a usage or I/O error.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portada/error.h"
#include "portada/parquet.h"

static const char *outdir;
static const char *only;
static int failures;
static int ncases;

static void PW_PRINTF(1, 2)
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("gen: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static void PW_PRINTF(1, 2)
die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* ---- A deterministic PRNG (xorshift32), also implemented in check.mjs ---- */

struct rng {
	uint32_t x;
};

static uint32_t
rnd(struct rng *r)
{
	uint32_t x = r->x;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return r->x = x;
}

static uint32_t
rnd_below(struct rng *r, uint32_t n)
{
	return rnd(r) % n;
}

/* ---- JSON output ---- */

static void
json_str(FILE *f, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20) {
				fputs("\\u00", f);
				fputc(hex[c >> 4], f);
				fputc(hex[c & 15], f);
			} else {
				fputc(c, f);	/* UTF-8 passes through */
			}
		}
	}
	fputc('"', f);
}

static void
json_cstr(FILE *f, const char *s)
{
	json_str(f, s, strlen(s));
}

static void
json_hex(FILE *f, const char *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", (unsigned char)p[i]);
	fputc('"', f);
}

static void
json_i64(FILE *f, int64_t v)
{
	fprintf(f, "\"%" PRId64 "\"", v);
}

static void
json_u64(FILE *f, uint64_t v)
{
	fprintf(f, "\"%" PRIu64 "\"", v);
}

static void
json_double(FILE *f, double d)
{
	if (isnan(d))
		fputs("\"NaN\"", f);
	else if (isinf(d))
		fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
	else if (d == 0 && signbit(d))
		fputs("\"-0\"", f);
	else
		fprintf(f, "%.17g", d);
}

static const char *
type_json(enum pw_pq_type t)
{
	switch (t) {
	case PW_PQ_STRING:
		return "string";
	case PW_PQ_LONG:
		return "long";
	case PW_PQ_INTEGER:
		return "integer";
	case PW_PQ_DATE:
		return "date";
	case PW_PQ_TIMESTAMP:
		return "timestamp";
	case PW_PQ_DOUBLE:
		return "double";
	case PW_PQ_BOOLEAN:
		return "boolean";
	case PW_PQ_STRING_LIST:
		return "string_list";
	}
	return "?";
}

static void
json_value(FILE *f, const struct pw_pq_value *v)
{
	switch (v->kind) {
	case PW_PQ_V_NULL:
		fputs("null", f);
		break;
	case PW_PQ_V_STRING:
		json_str(f, v->u.s.p, v->u.s.n);
		break;
	case PW_PQ_V_INT:
		json_i64(f, v->u.i);
		break;
	case PW_PQ_V_DOUBLE:
		json_double(f, v->u.d);
		break;
	case PW_PQ_V_BOOL:
		fputs(v->u.b ? "true" : "false", f);
		break;
	case PW_PQ_V_LIST:
		fputc('[', f);
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct pw_pq_str *it = &v->u.list.items[i];

			if (i > 0)
				fputc(',', f);
			if (it->p == NULL)
				fputs("null", f);
			else
				json_str(f, it->p, it->n);
		}
		fputc(']', f);
		break;
	}
}

/* ---- Cases ---- */

struct sink_file {
	FILE		*f;
	uint64_t	 bytes;
};

static int
file_sink(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct sink_file *s = ctx;

	if (n == 0) {
		pw_error_set(err, "the sink was called with 0 bytes");
		return -1;
	}
	if (fwrite(p, 1, n, s->f) != n) {
		pw_error_set(err, "write: %s", strerror(errno));
		return -1;
	}
	s->bytes += n;
	return 0;
}

struct tcase {
	char			 name[128];
	char			 pq_path[4096], js_path[4096], tmp_path[4096];
	FILE			*js;
	struct sink_file	 sink;
	struct pw_pq_writer	*w;
	const struct pw_pq_column *cols;
	size_t			 ncols;
	struct pw_pq_options	 opt;
	uint64_t		 rows;
	bool			 generated;
	bool			 broken;	/* the writer failed: no expectation written */
	char			*rejected;	/* JSON array items */
	size_t			 rejected_len;
};

static bool
wanted(const char *name)
{
	return only == NULL || strstr(name, only) != NULL;
}

/*
 * Start a case.  Returns false (and does nothing) when the case is not
 * selected on the command line.
 */
static bool
case_open(struct tcase *tc, const char *name, const struct pw_pq_column *cols,
    size_t ncols, const struct pw_pq_options *opt, bool generated)
{
	struct pw_error err = { "" };
	FILE *js;

	if (!wanted(name))
		return false;
	memset(tc, 0, sizeof *tc);
	ncases++;
	snprintf(tc->name, sizeof tc->name, "%s", name);
	snprintf(tc->pq_path, sizeof tc->pq_path, "%s/%s.parquet", outdir, name);
	snprintf(tc->js_path, sizeof tc->js_path, "%s/%s.expect.json", outdir, name);
	snprintf(tc->tmp_path, sizeof tc->tmp_path, "%s/%s.expect.json.tmp", outdir, name);
	tc->cols = cols;
	tc->ncols = ncols;
	tc->opt = *opt;
	tc->generated = generated;
	remove(tc->js_path);
	if ((tc->sink.f = fopen(tc->pq_path, "wb")) == NULL)
		die("%s: %s", tc->pq_path, strerror(errno));
	if ((js = tc->js = fopen(tc->tmp_path, "w")) == NULL)
		die("%s: %s", tc->tmp_path, strerror(errno));

	tc->w = pw_pq_open(cols, ncols, opt, file_sink, &tc->sink, &err);
	if (tc->w == NULL) {
		fail("%s: pw_pq_open: %s", name, err.msg);
		tc->broken = true;
		return true;
	}

	fputs("{\"case\":", js);
	json_cstr(js, name);
	fputs(",\n\"columns\":[", js);
	for (size_t i = 0; i < ncols; i++) {
		fprintf(js, "%s{\"name\":", i ? "," : "");
		json_cstr(js, cols[i].name);
		fprintf(js, ",\"type\":\"%s\",\"required\":%s}", type_json(cols[i].type),
		    cols[i].required ? "true" : "false");
	}
	fprintf(js, "],\n\"codec\":\"%s\",\n", pw_pq_codec_name(opt->codec));
	fprintf(js, "\"options\":{\"codec\":%d,\"level\":%d,\"row_group_bytes\":%zu,"
	    "\"row_group_rows\":%" PRIu64 ",\"page_bytes\":%zu,\"dictionary_bytes\":%zu,"
	    "\"stats_bytes\":%zu,\"memory_limit\":%zu,\"created_by\":",
	    (int)opt->codec, opt->level, opt->row_group_bytes, opt->row_group_rows,
	    opt->page_bytes, opt->dictionary_bytes, opt->stats_bytes, opt->memory_limit);
	if (opt->created_by != NULL)
		json_cstr(js, opt->created_by);
	else
		fputs("null", js);
	fputs("},\n", js);
	if (!generated)
		fputs("\"rows\":[\n", js);
	return true;
}

static void
row_json(struct tcase *tc, const struct pw_pq_value *v)
{
	FILE *js = tc->js;

	fputs(tc->rows > 0 ? ",\n[" : "[", js);
	for (size_t i = 0; i < tc->ncols; i++) {
		if (i > 0)
			fputc(',', js);
		json_value(js, &v[i]);
	}
	fputc(']', js);
}

/* A row the writer must take. */
static void
case_row(struct tcase *tc, const struct pw_pq_value *v)
{
	struct pw_error err = { "" };

	if (tc->broken)
		return;
	if (pw_pq_write_row(tc->w, v, &err) == -1) {
		fail("%s: row %" PRIu64 " refused: %s", tc->name, tc->rows, err.msg);
		tc->broken = true;
		return;
	}
	if (!tc->generated)
		row_json(tc, v);
	tc->rows++;
	if (pw_pq_rows(tc->w) != tc->rows) {
		fail("%s: pw_pq_rows() is %" PRIu64 " after %" PRIu64 " rows", tc->name,
		    pw_pq_rows(tc->w), tc->rows);
		tc->broken = true;
	}
}

static void
append_rejected(struct tcase *tc, const char *col, const char *msg)
{
	char *s = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&s, &n);

	if (m == NULL)
		die("open_memstream: %s", strerror(errno));
	fprintf(m, "%s{\"before_row\":%" PRIu64 ",\"column\":", tc->rejected_len ? "," : "",
	    tc->rows);
	json_cstr(m, col);
	fputs(",\"error\":", m);
	json_cstr(m, msg);
	fputc('}', m);
	fclose(m);
	tc->rejected = realloc(tc->rejected, tc->rejected_len + n + 1);
	if (tc->rejected == NULL)
		die("out of memory");
	memcpy(tc->rejected + tc->rejected_len, s, n + 1);
	tc->rejected_len += n;
	free(s);
}

/*
 * A row the writer must refuse, with a message that names `col` (NULL:
 * no column, e.g. over the memory limit) and the row it would have been.
 */
static void
case_reject(struct tcase *tc, const struct pw_pq_value *v, const char *col, const char *what)
{
	struct pw_error err = { "" };
	char want_col[300], want_row[64];
	size_t held;

	if (tc->broken)
		return;
	held = pw_pq_held_bytes(tc->w);
	if (pw_pq_write_row(tc->w, v, &err) == 0) {
		fail("%s: %s: accepted (row %" PRIu64 ")", tc->name, what, tc->rows);
		/* The file now holds a row the expectation does not: keep it
		 * honest so check.mjs does not report this twice. */
		row_json(tc, v);
		tc->rows++;
		return;
	}
	snprintf(want_row, sizeof want_row, "row %" PRIu64, tc->rows);
	if (strstr(err.msg, want_row) == NULL)
		fail("%s: %s: the message does not name %s: %s", tc->name, what, want_row, err.msg);
	if (col != NULL) {
		snprintf(want_col, sizeof want_col, "column \"%s\"", col);
		if (strstr(err.msg, want_col) == NULL)
			fail("%s: %s: the message does not name %s: %s", tc->name, what,
			    want_col, err.msg);
	}
	if (pw_pq_rows(tc->w) != tc->rows)
		fail("%s: %s: pw_pq_rows() moved to %" PRIu64, tc->name, what, pw_pq_rows(tc->w));
	if (pw_pq_held_bytes(tc->w) != held)
		fail("%s: %s: refusing the row changed the writer (held bytes %zu -> %zu: "
		    "the open row group was written out first), but a refused row must "
		    "change nothing", tc->name, what, held, pw_pq_held_bytes(tc->w));
	append_rejected(tc, col ? col : "", err.msg);
}

static void
stats_json(FILE *js, const struct pw_pq_column *col, const struct pw_pq_col_stats *s)
{
	fputs("{\"null_count\":", js);
	json_u64(js, s->null_count);
	fprintf(js, ",\"has_min_max\":%s", s->has_min_max ? "true" : "false");
	if (!s->has_min_max) {
		fputc('}', js);
		return;
	}
	fprintf(js, ",\"min_exact\":%s,\"max_exact\":%s", s->min_exact ? "true" : "false",
	    s->max_exact ? "true" : "false");
	switch (col->type) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST:
		fputs(",\"min_hex\":", js);
		json_hex(js, s->min_s.p, s->min_s.n);
		fputs(",\"max_hex\":", js);
		json_hex(js, s->max_s.p, s->max_s.n);
		break;
	case PW_PQ_DOUBLE:
		fputs(",\"min\":", js);
		json_double(js, s->min.d);
		fputs(",\"max\":", js);
		json_double(js, s->max.d);
		break;
	case PW_PQ_BOOLEAN:
		fprintf(js, ",\"min\":%s,\"max\":%s", s->min.b ? "true" : "false",
		    s->max.b ? "true" : "false");
		break;
	default:
		fputs(",\"min\":", js);
		json_i64(js, s->min.i);
		fputs(",\"max\":", js);
		json_i64(js, s->max.i);
		break;
	}
	fputc('}', js);
}

/*
 * Close the writer and finish the expectation.  `checks` is a JSON object
 * (text) of what check.mjs must also verify; `generator` the JSON of a
 * generated case.
 */
static void
case_close(struct tcase *tc, const char *checks, const char *generator)
{
	struct pw_error err = { "" };
	const struct pw_pq_file_stats *fs = NULL;
	FILE *js = tc->js;
	long size;

	if (!tc->broken && pw_pq_close(tc->w, &fs, &err) == -1) {
		fail("%s: pw_pq_close: %s", tc->name, err.msg);
		tc->broken = true;
	}
	if (fflush(tc->sink.f) != 0 || (size = ftell(tc->sink.f)) < 0)
		die("%s: %s", tc->pq_path, strerror(errno));
	if (fclose(tc->sink.f) != 0)
		die("%s: %s", tc->pq_path, strerror(errno));
	if (tc->broken) {
		/* No expectation: check.mjs reports the case as missing. */
		fclose(js);
		remove(tc->tmp_path);
		pw_pq_destroy(tc->w);
		free(tc->rejected);
		printf("gen: %-28s BROKEN\n", tc->name);
		return;
	}
	if (fs->num_rows != tc->rows)
		fail("%s: file stats say %" PRIu64 " rows, %" PRIu64 " were written", tc->name,
		    fs->num_rows, tc->rows);
	if (fs->file_bytes != tc->sink.bytes || (uint64_t)size != tc->sink.bytes)
		fail("%s: file stats say %" PRIu64 " bytes, the sink got %" PRIu64 ", the file has %ld",
		    tc->name, fs->file_bytes, tc->sink.bytes, size);
	if (fs->ncolumns != tc->ncols)
		fail("%s: file stats have %zu columns, not %zu", tc->name, fs->ncolumns, tc->ncols);

	if (!tc->generated)
		fputs("],\n", js);
	if (generator != NULL)
		fprintf(js, "\"generator\":%s,\n", generator);
	fprintf(js, "\"num_rows\":\"%" PRIu64 "\",\n", tc->rows);
	fprintf(js, "\"rejected\":[%s],\n", tc->rejected ? tc->rejected : "");
	fputs("\"file_stats\":{\"num_rows\":", js);
	json_u64(js, fs->num_rows);
	fputs(",\"file_bytes\":", js);
	json_u64(js, fs->file_bytes);
	fputs(",\"columns\":[", js);
	for (size_t i = 0; i < tc->ncols && i < fs->ncolumns; i++) {
		if (i > 0)
			fputs(",\n", js);
		stats_json(js, &tc->cols[i], &fs->columns[i]);
	}
	fputs("]},\n", js);
	fprintf(js, "\"checks\":%s}\n", checks ? checks : "{}");
	if (fclose(js) != 0)
		die("%s: %s", tc->tmp_path, strerror(errno));
	if (rename(tc->tmp_path, tc->js_path) != 0)
		die("%s: %s", tc->js_path, strerror(errno));
	printf("gen: %-28s %8" PRIu64 " rows %10" PRIu64 " bytes\n", tc->name, tc->rows,
	    fs->file_bytes);
	pw_pq_destroy(tc->w);
	free(tc->rejected);
}

/* ---- Values ---- */

#define S(lit)	pw_pq_string((lit), sizeof(lit) - 1)
#define I(lit)	((struct pw_pq_str){ (lit), sizeof(lit) - 1 })
#define NULLITEM ((struct pw_pq_str){ NULL, 0 })
#define N(a)	(sizeof(a) / sizeof((a)[0]))

static struct pw_pq_value
cstr(const char *s)
{
	return pw_pq_string(s, strlen(s));
}

/* Strings for random rows: ASCII, 2-, 3- and 4-byte characters, escapes. */
static const char *const pool[] = {
	"", "a", "b", "abc", "hello world", "Barcelona", "Cádiz", "Málaga",
	"naïve café", "Ελληνικά", "Русский текст", "中文字符", "日本語のテキスト",
	"한국어", "😀", "emoji 🚢⚓🌊", "𝄞 music", "\"quoted\"", "back\\slash",
	"tab\there", "new\nline", "cr\rlf", "\x01\x02\x1f control", "del \x7f",
	"\xef\xbb\xbf\x42OM first" /* a BOM, then "BOM first" */, "zero-width\xe2\x80\x8bspace", "\xf4\x8f\xbf\xbf max",
	"\xed\x9f\xbf before surrogates", "\xee\x80\x80 after surrogates", "\xc2\x80",
	"~", "z", "zzzz", "A", "0", "9", "-", "Z longer string with spaces and 1234567890",
};

static void
random_ascii(struct rng *r, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(0x20 + rnd_below(r, 95));
}

/* Scratch for one row's strings: valid until the next row_reset(). */
struct scratch {
	char		 buf[1 << 17];
	size_t		 used;
	struct pw_pq_str items[1024];
	size_t		 nitems;
};

static void
row_reset(struct scratch *sc)
{
	sc->used = 0;
	sc->nitems = 0;
}

static char *
sc_alloc(struct scratch *sc, size_t n)
{
	char *p;

	if (sc->used + n > sizeof sc->buf)
		die("scratch overflow");
	p = sc->buf + sc->used;
	sc->used += n;
	return p;
}

static struct pw_pq_str
random_str(struct rng *r, struct scratch *sc)
{
	uint32_t k = rnd_below(r, 4);

	if (k < 2) {
		const char *s = pool[rnd_below(r, N(pool))];

		return (struct pw_pq_str){ s, strlen(s) };
	}
	if (k == 2) {
		size_t n = rnd_below(r, 80);
		char *p = sc_alloc(sc, n);

		random_ascii(r, p, n);
		return (struct pw_pq_str){ p, n };
	}
	{
		/* Random code points of every length (no surrogates). */
		size_t nch = 1 + rnd_below(r, 30), n = 0;
		char *p = sc_alloc(sc, nch * 4);

		for (size_t i = 0; i < nch; i++) {
			uint32_t cp, cls = rnd_below(r, 4);

			if (cls == 0)
				cp = 0x20 + rnd_below(r, 0x5f);
			else if (cls == 1)
				cp = 0x80 + rnd_below(r, 0x780);
			else if (cls == 2)
				do
					cp = 0x800 + rnd_below(r, 0xF800);
				while (cp >= 0xD800 && cp <= 0xDFFF);
			else
				cp = 0x10000 + rnd_below(r, 0x100000);
			if (cp < 0x80) {
				p[n++] = (char)cp;
			} else if (cp < 0x800) {
				p[n++] = (char)(0xC0 | cp >> 6);
				p[n++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				p[n++] = (char)(0xE0 | cp >> 12);
				p[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
				p[n++] = (char)(0x80 | (cp & 0x3F));
			} else {
				p[n++] = (char)(0xF0 | cp >> 18);
				p[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
				p[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
				p[n++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		return (struct pw_pq_str){ p, n };
	}
}

static int64_t
random_i64(struct rng *r)
{
	uint64_t hi = rnd(r), lo = rnd(r);

	return (int64_t)(hi << 32 | lo);
}

static double
random_double(struct rng *r)
{
	static const double special[] = {
		0.0, -0.0, 1.0, -1.0, 0.1, -2.5, 1e300, -1e-300, DBL_MAX, -DBL_MAX,
		DBL_MIN, 4.9406564584124654e-324, -4.9406564584124654e-324, 123456789.125,
		9007199254740993.0, HUGE_VAL, -HUGE_VAL,
	};
	uint32_t k = rnd_below(r, 8);
	int64_t bits;
	double d;

	if (k == 0)
		return special[rnd_below(r, N(special))];
	if (k == 1)
		return NAN;
	if (k <= 4)
		return (double)(int32_t)rnd(r) / 1024.0;
	/* Any finite bit pattern. */
	do {
		bits = random_i64(r);
		memcpy(&d, &bits, 8);
	} while (!isfinite(d));
	return d;
}

/* A random value for a column of type t; null one time in `nulls` if optional. */
static struct pw_pq_value
random_value(struct rng *r, struct scratch *sc, const struct pw_pq_column *c, uint32_t nulls)
{
	if (!c->required && nulls > 0 && rnd_below(r, nulls) == 0)
		return pw_pq_null();
	switch (c->type) {
	case PW_PQ_STRING: {
		struct pw_pq_str s = random_str(r, sc);

		return pw_pq_string(s.p, s.n);
	}
	case PW_PQ_LONG:
		switch (rnd_below(r, 6)) {
		case 0:
			return pw_pq_int(rnd_below(r, 3) == 0 ? INT64_MIN :
			    rnd_below(r, 2) ? INT64_MAX : 0);
		case 1:
			return pw_pq_int((int64_t)rnd_below(r, 1000) - 500);
		default:
			return pw_pq_int(random_i64(r));
		}
	case PW_PQ_INTEGER:
		if (rnd_below(r, 8) == 0)
			return pw_pq_int(rnd_below(r, 2) ? INT32_MIN : INT32_MAX);
		return pw_pq_int((int32_t)rnd(r));
	case PW_PQ_DATE:
		/* 0001-01-01 .. 9999-12-31 */
		return pw_pq_int(-719162 + (int64_t)rnd_below(r, 2932896 + 719162 + 1));
	case PW_PQ_TIMESTAMP:
		/* 0001-01-01 .. 9999-12-31 in µs, to the µs */
		return pw_pq_int(-62135596800000000 +
		    (int64_t)(((uint64_t)rnd(r) << 32 | rnd(r)) % 315537897600000000u));
	case PW_PQ_DOUBLE:
		return pw_pq_double(random_double(r));
	case PW_PQ_BOOLEAN:
		return pw_pq_bool(rnd(r) & 1);
	case PW_PQ_STRING_LIST: {
		size_t n = rnd_below(r, 6), first = sc->nitems;

		if (sc->nitems + n > N(sc->items))
			die("scratch items overflow");
		for (size_t i = 0; i < n; i++)
			sc->items[sc->nitems++] = rnd_below(r, 5) == 0 ? NULLITEM :
			    random_str(r, sc);
		return pw_pq_list(sc->items + first, n);
	}
	}
	return pw_pq_null();
}

/* ---- The cases ---- */

static const struct pw_pq_column all_types[] = {
	{ "s", PW_PQ_STRING, false },
	{ "s_req", PW_PQ_STRING, true },
	{ "l", PW_PQ_LONG, false },
	{ "l_req", PW_PQ_LONG, true },
	{ "i", PW_PQ_INTEGER, false },
	{ "i_req", PW_PQ_INTEGER, true },
	{ "d", PW_PQ_DATE, false },
	{ "d_req", PW_PQ_DATE, true },
	{ "t", PW_PQ_TIMESTAMP, false },
	{ "t_req", PW_PQ_TIMESTAMP, true },
	{ "x", PW_PQ_DOUBLE, false },
	{ "x_req", PW_PQ_DOUBLE, true },
	{ "b", PW_PQ_BOOLEAN, false },
	{ "b_req", PW_PQ_BOOLEAN, true },
	{ "sl", PW_PQ_STRING_LIST, false },
	{ "sl_req", PW_PQ_STRING_LIST, true },
};

static void
random_rows(struct tcase *tc, uint32_t seed, uint64_t nrows, uint32_t nulls)
{
	struct rng r = { seed };
	struct scratch *sc = xmalloc(sizeof *sc);
	struct pw_pq_value *v = xmalloc(tc->ncols * sizeof *v);

	for (uint64_t i = 0; i < nrows; i++) {
		row_reset(sc);
		for (size_t c = 0; c < tc->ncols; c++)
			v[c] = random_value(&r, sc, &tc->cols[c], nulls);
		case_row(tc, v);
	}
	free(v);
	free(sc);
}

/* Every type, OPTIONAL and REQUIRED, with every codec (and some levels). */
static void
case_types(void)
{
	static const struct {
		const char *name;
		enum pw_pq_codec codec;
		int level;
	} codecs[] = {
		{ "types_zstd", PW_PQ_ZSTD, 0 },
		{ "types_snappy", PW_PQ_SNAPPY, 0 },
		{ "types_gzip", PW_PQ_GZIP, 0 },
		{ "types_none", PW_PQ_UNCOMPRESSED, 0 },
		{ "types_zstd_level19", PW_PQ_ZSTD, 19 },
		{ "types_gzip_level9", PW_PQ_GZIP, 9 },
		{ "types_gzip_level1", PW_PQ_GZIP, 1 },
	};

	for (size_t k = 0; k < N(codecs); k++) {
		struct tcase tc;
		struct pw_pq_options o;
		char checks[128];

		pw_pq_options_default(&o);
		o.codec = codecs[k].codec;
		o.level = codecs[k].level;
		if (!case_open(&tc, codecs[k].name, all_types, N(all_types), &o, false))
			continue;
		random_rows(&tc, 0x1234567u + (uint32_t)k, 700, 6);
		snprintf(checks, sizeof checks, "{\"row_groups\":1,\"dictionary\":[\"s\",\"s_req\",\"sl\",\"sl_req\"]}");
		case_close(&tc, checks, NULL);
	}
}

/* The same with small pages, several row groups by rows, no dictionary. */
static void
case_types_paged(void)
{
	struct tcase tc;
	struct pw_pq_options o;

	pw_pq_options_default(&o);
	o.page_bytes = 700;
	o.row_group_rows = 900;
	if (case_open(&tc, "types_small_pages", all_types, N(all_types), &o, false)) {
		random_rows(&tc, 99, 4000, 4);
		case_close(&tc, "{\"row_groups\":5,\"min_pages\":{\"s\":10,\"l_req\":10,\"sl\":10,\"b\":3},"
		    "\"dictionary\":[\"s\",\"sl\"]}", NULL);
	}

	pw_pq_options_default(&o);
	o.codec = PW_PQ_SNAPPY;
	o.dictionary_bytes = 0;
	o.page_bytes = 1;	/* a page per row */
	if (case_open(&tc, "types_page_per_row", all_types, N(all_types), &o, false)) {
		random_rows(&tc, 7, 150, 3);
		case_close(&tc, "{\"row_groups\":1,\"min_pages\":{\"s_req\":150,\"i_req\":150,\"sl_req\":150},"
		    "\"no_dictionary\":true}", NULL);
	}

	pw_pq_options_default(&o);
	o.codec = PW_PQ_GZIP;
	o.row_group_bytes = 16 << 10;
	o.page_bytes = 2048;
	o.dictionary_bytes = 1024;
	if (case_open(&tc, "types_row_group_bytes", all_types, N(all_types), &o, false)) {
		random_rows(&tc, 4242, 3000, 5);
		case_close(&tc, "{\"min_row_groups\":4}", NULL);
	}
}

static const struct pw_pq_column required_only[] = {
	{ "s", PW_PQ_STRING, true },
	{ "l", PW_PQ_LONG, true },
	{ "i", PW_PQ_INTEGER, true },
	{ "d", PW_PQ_DATE, true },
	{ "t", PW_PQ_TIMESTAMP, true },
	{ "x", PW_PQ_DOUBLE, true },
	{ "b", PW_PQ_BOOLEAN, true },
	{ "sl", PW_PQ_STRING_LIST, true },
};

static const struct pw_pq_column optional_only[] = {
	{ "s", PW_PQ_STRING, false },
	{ "l", PW_PQ_LONG, false },
	{ "i", PW_PQ_INTEGER, false },
	{ "d", PW_PQ_DATE, false },
	{ "t", PW_PQ_TIMESTAMP, false },
	{ "x", PW_PQ_DOUBLE, false },
	{ "b", PW_PQ_BOOLEAN, false },
	{ "sl", PW_PQ_STRING_LIST, false },
};

static void
case_required_optional(void)
{
	struct tcase tc;
	struct pw_pq_options o;
	struct pw_pq_value v[N(optional_only)];
	static const enum pw_pq_codec codecs[] = { PW_PQ_ZSTD, PW_PQ_SNAPPY, PW_PQ_GZIP,
		PW_PQ_UNCOMPRESSED };

	for (size_t k = 0; k < N(codecs); k++) {
		char name[64];

		pw_pq_options_default(&o);
		o.codec = codecs[k];
		snprintf(name, sizeof name, "required_only_%s", pw_pq_codec_name(codecs[k]));
		if (case_open(&tc, name, required_only, N(required_only), &o, false)) {
			random_rows(&tc, 555 + (uint32_t)k, 300, 0);
			case_close(&tc, NULL, NULL);
		}
	}

	/* Optional columns that happen to have no nulls, then nothing but nulls. */
	pw_pq_options_default(&o);
	if (case_open(&tc, "optional_no_nulls", optional_only, N(optional_only), &o, false)) {
		random_rows(&tc, 556, 300, 0);
		case_close(&tc, NULL, NULL);
	}
	for (size_t k = 0; k < N(codecs); k++) {
		char name[64];

		pw_pq_options_default(&o);
		o.codec = codecs[k];
		snprintf(name, sizeof name, "all_null_%s", pw_pq_codec_name(codecs[k]));
		if (!case_open(&tc, name, optional_only, N(optional_only), &o, false))
			continue;
		for (size_t c = 0; c < N(v); c++)
			v[c] = pw_pq_null();
		for (int i = 0; i < 100; i++)
			case_row(&tc, v);
		case_close(&tc, NULL, NULL);
	}
	/* More nulls than a page holds levels. */
	pw_pq_options_default(&o);
	if (case_open(&tc, "all_null_many", optional_only, N(optional_only), &o, false)) {
		for (size_t c = 0; c < N(v); c++)
			v[c] = pw_pq_null();
		for (int i = 0; i < 300000; i++)
			case_row(&tc, v);
		case_close(&tc, "{\"row_groups\":1,\"min_pages\":{\"s\":2,\"sl\":2}}", NULL);
	}
}

static void
case_edges(void)
{
	static const struct pw_pq_column one_of_each[] = {
		{ "s", PW_PQ_STRING, false },
		{ "l", PW_PQ_LONG, true },
		{ "i", PW_PQ_INTEGER, false },
		{ "d", PW_PQ_DATE, false },
		{ "t", PW_PQ_TIMESTAMP, true },
		{ "x", PW_PQ_DOUBLE, false },
		{ "b", PW_PQ_BOOLEAN, false },
		{ "sl", PW_PQ_STRING_LIST, false },
	};
	struct tcase tc;
	struct pw_pq_options o;
	struct pw_pq_str items[] = { I("one"), NULLITEM, I("") };
	struct pw_pq_value v[] = {
		S("only"), pw_pq_int(-1), pw_pq_int(7), pw_pq_int(-1), pw_pq_int(-1),
		pw_pq_double(-0.0), pw_pq_bool(false), pw_pq_list(items, 3),
	};
	static const enum pw_pq_codec codecs[] = { PW_PQ_ZSTD, PW_PQ_SNAPPY, PW_PQ_GZIP,
		PW_PQ_UNCOMPRESSED };

	for (size_t k = 0; k < N(codecs); k++) {
		char name[64];

		pw_pq_options_default(&o);
		o.codec = codecs[k];
		snprintf(name, sizeof name, "zero_rows_%s", pw_pq_codec_name(codecs[k]));
		if (case_open(&tc, name, one_of_each, N(one_of_each), &o, false))
			case_close(&tc, NULL, NULL);
		snprintf(name, sizeof name, "one_row_%s", pw_pq_codec_name(codecs[k]));
		if (case_open(&tc, name, one_of_each, N(one_of_each), &o, false)) {
			case_row(&tc, v);
			case_close(&tc, "{\"row_groups\":1}", NULL);
		}
	}

	/* A custom created_by, and column names that need care. */
	{
		static const struct pw_pq_column names[] = {
			{ "número de página", PW_PQ_STRING, false },
			{ "日本語", PW_PQ_LONG, false },
			{ "with space", PW_PQ_INTEGER, true },
			{ "UPPER", PW_PQ_BOOLEAN, false },
			{ "emoji 🚢", PW_PQ_STRING_LIST, false },
		};
		struct pw_pq_str it[] = { I("x") };
		struct pw_pq_value w[] = { S("a"), pw_pq_int(1), pw_pq_int(2), pw_pq_bool(true),
			pw_pq_list(it, 1) };

		pw_pq_options_default(&o);
		o.created_by = "interop gen (custom created_by: ñ)";
		if (case_open(&tc, "names_created_by", names, N(names), &o, false)) {
			case_row(&tc, w);
			w[0] = pw_pq_null();
			w[1] = pw_pq_null();
			case_row(&tc, w);
			case_close(&tc, NULL, NULL);
		}
	}
}

/* Many columns: long Thrift list headers, a big footer. */
static void
case_wide(void)
{
	enum { NW = 240 };
	static struct pw_pq_column cols[NW];
	static char names[NW][24];
	struct tcase tc;
	struct pw_pq_options o;

	for (int i = 0; i < NW; i++) {
		snprintf(names[i], sizeof names[i], "c%03d_%s", i, type_json((enum pw_pq_type)(i % 8)));
		cols[i] = (struct pw_pq_column){ names[i], (enum pw_pq_type)(i % 8), i % 3 == 0 };
	}
	pw_pq_options_default(&o);
	o.codec = PW_PQ_SNAPPY;
	o.row_group_rows = 40;
	if (case_open(&tc, "wide_240_columns", cols, NW, &o, false)) {
		random_rows(&tc, 240, 100, 4);
		case_close(&tc, "{\"row_groups\":3}", NULL);
	}
}

/* Empty strings, and UTF-8 of every length and at the 64-byte cut. */
static void
case_strings(void)
{
	static const struct pw_pq_column cols[] = {
		{ "s", PW_PQ_STRING, false },
		{ "s_req", PW_PQ_STRING, true },
		{ "sl", PW_PQ_STRING_LIST, false },
	};
	struct tcase tc;
	struct pw_pq_options o;

	/* Empty strings: alone, with nulls, and as list items. */
	pw_pq_options_default(&o);
	if (case_open(&tc, "empty_strings", cols, N(cols), &o, false)) {
		struct pw_pq_str e[] = { I(""), I(""), NULLITEM };
		struct pw_pq_value v[3];

		for (int i = 0; i < 50; i++) {
			v[0] = i % 3 == 0 ? pw_pq_null() : S("");
			v[1] = S("");
			v[2] = i % 4 == 0 ? pw_pq_null() : pw_pq_list(e, (size_t)(i % 4));
			case_row(&tc, v);
		}
		case_close(&tc, NULL, NULL);
	}
	pw_pq_options_default(&o);
	o.dictionary_bytes = 0;
	if (case_open(&tc, "empty_strings_plain", cols, N(cols), &o, false)) {
		struct pw_pq_str e[] = { I("") };
		struct pw_pq_value v[3] = { S(""), S(""), pw_pq_list(e, 1) };

		for (int i = 0; i < 20; i++)
			case_row(&tc, v);
		v[0] = S("x");
		v[1] = S("\x01");
		case_row(&tc, v);
		case_close(&tc, "{\"no_dictionary\":true}", NULL);
	}

	/* Multi-byte UTF-8 everywhere. */
	pw_pq_options_default(&o);
	o.codec = PW_PQ_SNAPPY;
	if (case_open(&tc, "utf8", cols, N(cols), &o, false)) {
		struct pw_pq_value v[3];

		for (size_t i = 0; i < N(pool); i++) {
			struct pw_pq_str it[] = { { pool[i], strlen(pool[i]) },
				{ pool[(i + 7) % N(pool)], strlen(pool[(i + 7) % N(pool)]) }, NULLITEM };

			v[0] = cstr(pool[i]);
			v[1] = cstr(pool[N(pool) - 1 - i]);
			v[2] = pw_pq_list(it, 3);
			case_row(&tc, v);
		}
		/* Embedded NUL bytes are valid UTF-8. */
		v[0] = S("nul\0inside");
		v[1] = S("\0");
		v[2] = pw_pq_list((struct pw_pq_str[]){ I("\0\0"), I("a\0b") }, 2);
		case_row(&tc, v);
		case_close(&tc, NULL, NULL);
	}
}

/*
 * String statistics at the cut: one column per situation, default
 * stats_bytes (64).  A = 'a' repeated.
 */
#define A10 "aaaaaaaaaa"
#define A60 A10 A10 A10 A10 A10 A10
#define A61 A60 "a"
#define A62 A61 "a"
#define A63 A62 "a"
#define A64 A63 "a"
#define U10FFFF "\xf4\x8f\xbf\xbf"

static void
case_stats_cut(void)
{
	static const struct pw_pq_column cols[] = {
		{ "exact64", PW_PQ_STRING, false },	/* max 64 bytes: exact */
		{ "ascii65", PW_PQ_STRING, false },	/* max 65 ASCII: cut, last +1 */
		{ "two_byte_at_cut", PW_PQ_STRING, false },	/* 63 + é */
		{ "three_byte_at_cut", PW_PQ_STRING, false },	/* 62 + € */
		{ "four_byte_at_cut", PW_PQ_STRING, false },	/* 61 + 😀 */
		{ "four_byte_fits", PW_PQ_STRING, false },	/* 60 + 😀 = 64 */
		{ "del_at_cut", PW_PQ_STRING, false },	/* ...\x7f cut: successor U+0080 */
		{ "d7ff_at_cut", PW_PQ_STRING, false },	/* ... U+D7FF: successor U+E000 */
		{ "max_cp_at_cut", PW_PQ_STRING, false },	/* ...b U+10FFFF: bump the b */
		{ "unboundable", PW_PQ_STRING, false },	/* all U+10FFFF: no min/max */
		{ "min_cut", PW_PQ_STRING, false },	/* min longer than 64 */
		{ "min_multibyte_cut", PW_PQ_STRING, false },	/* min 63 + 3-byte */
		{ "equal_prefixes", PW_PQ_STRING, false },	/* many share 64 bytes */
		{ "list_cut", PW_PQ_STRING_LIST, false },
		{ "list_unboundable", PW_PQ_STRING_LIST, false },
		{ "short", PW_PQ_STRING, true },
	};
	static const char *const data[][3] = {
		{ A64, "b", "a" },
		{ "a", A64 "a", A64 "b" },
		{ "b", A63 "é", A63 "\xc3\xa9" "zzzz" },
		{ "b", A62 "€", A62 "€x" },
		{ "b", A61 "😀", A61 "😀😀" },
		{ "b", A60 "😀", A60 "😀" },
		{ "a", A63 "\x7f" "z", "a" },
		{ "b", A61 "\xed\x9f\xbf" "zz", "c" },
		{ "b", A60 "b" U10FFFF "zz", "c" },
		{ U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF
		  U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF,
		  U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF
		  U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF, NULL },
		{ A64 "zzzzz", A64 "zzzzzz", "b" },
		{ A63 "€" "1", A63 "€" "2", "b" },
		{ A64 "5", A64 "1", A64 "9" },
	};
	struct tcase tc;
	struct pw_pq_options o;
	struct pw_pq_value v[N(cols)];

	for (int k = 0; k < 2; k++) {
		pw_pq_options_default(&o);
		o.row_group_rows = k ? 1 : 0;	/* file stats merged from cut chunk stats */
		if (!case_open(&tc, k ? "stats_cut_row_groups" : "stats_cut", cols, N(cols), &o, false))
			continue;
		for (size_t r = 0; r < 3; r++) {
			struct pw_pq_str l1[] = { I(A63 "é"), NULLITEM, I("b") };
			struct pw_pq_str l2[] = { I(U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF
				U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF U10FFFF "x") };

			for (size_t c = 0; c < N(data); c++)
				v[c] = data[c][r] ? cstr(data[c][r]) : pw_pq_null();
			v[N(data)] = r == 1 ? pw_pq_null() : pw_pq_list(l1, r + 1);
			v[N(data) + 1] = r == 2 ? pw_pq_list(NULL, 0) : pw_pq_list(l2, 1);
			v[N(data) + 2] = S("x");
			case_row(&tc, v);
		}
		case_close(&tc, k ? "{\"row_groups\":3}" : NULL, NULL);
	}

	/* stats_bytes smaller than one character. */
	{
		static const struct pw_pq_column c2[] = {
			{ "four", PW_PQ_STRING, false },
			{ "two", PW_PQ_STRING, false },
			{ "ascii", PW_PQ_STRING, false },
			{ "list", PW_PQ_STRING_LIST, false },
		};
		struct pw_pq_str it[] = { I("€€"), I("\xc3\xbf\xc3\xbf") };
		struct pw_pq_value w[4];

		pw_pq_options_default(&o);
		o.stats_bytes = 3;
		if (case_open(&tc, "stats_bytes_3", c2, N(c2), &o, false)) {
			w[0] = S("😀😀");
			w[1] = S("é");
			w[2] = S("abcd");
			w[3] = pw_pq_list(it, 2);
			case_row(&tc, w);
			w[0] = S("😃");
			w[1] = S("éé");
			w[2] = S("abc");
			w[3] = pw_pq_list(it, 1);
			case_row(&tc, w);
			case_close(&tc, NULL, NULL);
		}
		pw_pq_options_default(&o);
		o.stats_bytes = 1;
		o.codec = PW_PQ_GZIP;
		if (case_open(&tc, "stats_bytes_1", c2, N(c2), &o, false)) {
			w[0] = S("😀");
			w[1] = S("\xdf\xbf");	/* U+07FF: successor is 3 bytes */
			w[2] = S("z~");
			w[3] = pw_pq_list(it, 2);
			case_row(&tc, w);
			case_close(&tc, NULL, NULL);
		}
	}
}

/* 1 MB strings (ASCII and multi-byte), with the default page size. */
static void
case_big_strings(void)
{
	static const struct pw_pq_column cols[] = {
		{ "big", PW_PQ_STRING, false },
		{ "n", PW_PQ_LONG, true },
		{ "lbig", PW_PQ_STRING_LIST, false },
	};
	const size_t mb = 1 << 20;
	char *ascii = xmalloc(mb), *multi = xmalloc(mb + 4), *ascii2 = xmalloc(mb);
	size_t nmulti = 0;
	struct tcase tc;
	struct pw_pq_options o;
	struct rng r = { 77 };

	random_ascii(&r, ascii, mb);
	memset(ascii2, 'z', mb);
	ascii2[mb - 1] = 'y';
	/* 2-, 3- and 4-byte characters in turn, 1 MB in all. */
	while (nmulti + 9 <= mb) {
		memcpy(multi + nmulti, "é€😀", 9);
		nmulti += 9;
	}
	for (int codec = 0; codec < 3; codec++) {
		static const char *const names[] = { "big_strings_zstd", "big_strings_gzip",
			"big_strings_stats_1mib" };

		pw_pq_options_default(&o);
		o.codec = codec == 1 ? PW_PQ_GZIP : PW_PQ_ZSTD;
		if (codec == 2) {
			o.stats_bytes = 1 << 20;	/* the largest: 1 MB strings uncut */
			o.codec = PW_PQ_SNAPPY;
		}
		if (!case_open(&tc, names[codec], cols, N(cols), &o, false))
			continue;
		for (int i = 0; i < 6; i++) {
			struct pw_pq_str items[] = { { ascii, mb }, NULLITEM, { multi, nmulti } };
			struct pw_pq_value v[3];

			v[0] = i == 0 ? pw_pq_string(ascii, mb) : i == 1 ? pw_pq_string(multi, nmulti) :
			    i == 2 ? pw_pq_null() : i == 3 ? pw_pq_string(ascii2, mb) :
			    i == 4 ? S("short") : pw_pq_string(ascii, mb);
			v[1] = pw_pq_int(i);
			v[2] = i == 2 ? pw_pq_list(items, 3) : i == 4 ? pw_pq_null() :
			    pw_pq_list(items + 1, 1);
			case_row(&tc, v);
		}
		case_close(&tc, "{\"min_pages\":{\"big\":4}}", NULL);
	}
	free(ascii);
	free(ascii2);
	free(multi);
}

/* Several row groups, by rows and by bytes; and a memory limit. */
static void
case_row_groups(void)
{
	static const struct pw_pq_column cols[] = {
		{ "id", PW_PQ_LONG, true },
		{ "s", PW_PQ_STRING, false },
		{ "x", PW_PQ_DOUBLE, false },
		{ "sl", PW_PQ_STRING_LIST, false },
		{ "d", PW_PQ_DATE, false },
	};
	struct tcase tc;
	struct pw_pq_options o;
	struct rng r = { 31337 };
	struct scratch *sc = xmalloc(sizeof *sc);

	pw_pq_options_default(&o);
	o.row_group_rows = 1000;
	if (case_open(&tc, "row_groups_by_rows", cols, N(cols), &o, false)) {
		for (int i = 0; i < 5500; i++) {
			struct pw_pq_value v[N(cols)];

			row_reset(sc);
			v[0] = pw_pq_int(i);
			for (size_t c = 1; c < N(cols); c++)
				v[c] = random_value(&r, sc, &cols[c], 5);
			case_row(&tc, v);
		}
		case_close(&tc, "{\"row_groups\":6,\"row_group_rows\":[1000,1000,1000,1000,1000,500]}", NULL);
	}
	pw_pq_options_default(&o);
	o.row_group_rows = 1;
	o.codec = PW_PQ_SNAPPY;
	if (case_open(&tc, "row_group_per_row", cols, N(cols), &o, false)) {
		for (int i = 0; i < 40; i++) {
			struct pw_pq_value v[N(cols)];

			row_reset(sc);
			v[0] = pw_pq_int(i);
			for (size_t c = 1; c < N(cols); c++)
				v[c] = random_value(&r, sc, &cols[c], 2);
			case_row(&tc, v);
		}
		case_close(&tc, "{\"row_groups\":40}", NULL);
	}
	pw_pq_options_default(&o);
	o.row_group_bytes = 32 << 10;
	o.page_bytes = 4096;
	if (case_open(&tc, "row_groups_by_bytes", cols, N(cols), &o, false)) {
		for (int i = 0; i < 20000; i++) {
			struct pw_pq_value v[N(cols)];

			row_reset(sc);
			v[0] = pw_pq_int(i);
			for (size_t c = 1; c < N(cols); c++)
				v[c] = random_value(&r, sc, &cols[c], 5);
			case_row(&tc, v);
		}
		case_close(&tc, "{\"min_row_groups\":5}", NULL);
	}
	free(sc);
}

/* Dictionaries that overflow to PLAIN, and no dictionaries at all. */
static void
case_dictionary(void)
{
	static const struct pw_pq_column cols[] = {
		{ "s", PW_PQ_STRING, false },
		{ "s_req", PW_PQ_STRING, true },
		{ "sl", PW_PQ_STRING_LIST, false },
		{ "few", PW_PQ_STRING, false },
	};
	struct tcase tc;
	struct pw_pq_options o;
	static const char *const names[] = { "no_dictionary", "dictionary_overflow",
		"dictionary_overflow_small_pages", "dictionary_overflow_row_groups" };

	for (int k = 0; k < 4; k++) {
		struct rng r = { 2024u + (uint32_t)k };
		const char *checks;

		pw_pq_options_default(&o);
		switch (k) {
		case 0:
			o.dictionary_bytes = 0;
			checks = "{\"no_dictionary\":true}";
			break;
		case 1:
			o.dictionary_bytes = 4096;
			checks = "{\"row_groups\":1,\"dictionary_fallback\":[\"s\",\"s_req\",\"sl\"],"
			    "\"dictionary_only\":[\"few\"]}";
			break;
		case 2:
			o.dictionary_bytes = 8192;
			o.page_bytes = 512;
			o.codec = PW_PQ_GZIP;
			checks = "{\"row_groups\":1,\"dictionary_fallback\":[\"s\",\"s_req\",\"sl\"],"
			    "\"dictionary_only\":[\"few\"],\"min_pages\":{\"s\":20}}";
			break;
		default:
			o.dictionary_bytes = 2000;
			o.row_group_rows = 1500;
			o.codec = PW_PQ_SNAPPY;
			checks = "{\"row_groups\":4,\"dictionary_fallback\":[\"s\",\"s_req\",\"sl\"]}";
			break;
		}
		if (!case_open(&tc, names[k], cols, N(cols), &o, false))
			continue;
		for (int i = 0; i < 6000; i++) {
			char a[64], b[64], c[64], d[64];
			struct pw_pq_str items[3];
			struct pw_pq_value v[4];
			uint32_t x = rnd(&r);

			/* Repeats of a few values mixed with ever new ones. */
			if (x % 3 == 0)
				snprintf(a, sizeof a, "repeat-%u", x % 7);
			else
				snprintf(a, sizeof a, "distinct-%d-%08x", i, rnd(&r));
			snprintf(b, sizeof b, "%s·%u", i % 2 ? "ünïcode" : "ascii", rnd(&r) % (1u + (unsigned)i));
			snprintf(c, sizeof c, "item %u", rnd(&r) % 5000);
			snprintf(d, sizeof d, "few %u", rnd(&r) % 4);
			items[0] = (struct pw_pq_str){ c, strlen(c) };
			items[1] = NULLITEM;
			items[2] = (struct pw_pq_str){ a, strlen(a) };
			v[0] = x % 11 == 0 ? pw_pq_null() : cstr(a);
			v[1] = cstr(b);
			v[2] = x % 13 == 0 ? pw_pq_null() : pw_pq_list(items, x % 4);
			v[3] = x % 5 == 0 ? pw_pq_null() : cstr(d);
			case_row(&tc, v);
		}
		case_close(&tc, checks, NULL);
	}
}

/* String lists: null, empty, null items, long lists across pages. */
static void
case_lists(void)
{
	static const struct pw_pq_column cols[] = {
		{ "id", PW_PQ_INTEGER, true },
		{ "sl", PW_PQ_STRING_LIST, false },
		{ "sl_req", PW_PQ_STRING_LIST, true },
	};
	struct tcase tc;
	struct pw_pq_options o;
	static struct pw_pq_str longl[5000];
	static char longbuf[5000][16];

	for (size_t i = 0; i < N(longl); i++) {
		snprintf(longbuf[i], sizeof longbuf[i], "e%zu", i * 7919 % 5000);
		longl[i] = i % 17 == 5 ? NULLITEM : (struct pw_pq_str){ longbuf[i], strlen(longbuf[i]) };
	}
	for (int k = 0; k < 3; k++) {
		static const char *const names[] = { "lists", "lists_small_pages", "lists_plain_gzip" };

		pw_pq_options_default(&o);
		if (k == 1)
			o.page_bytes = 1024;
		if (k == 2) {
			o.page_bytes = 4000;
			o.dictionary_bytes = 0;
			o.codec = PW_PQ_GZIP;
		}
		if (!case_open(&tc, names[k], cols, N(cols), &o, false))
			continue;
		{
			struct pw_pq_str n1[] = { NULLITEM }, n3[] = { NULLITEM, NULLITEM, NULLITEM };
			struct pw_pq_str mix[] = { I("a"), NULLITEM, I(""), I("ü"), NULLITEM };
			struct pw_pq_str e1[] = { I("") };
			struct pw_pq_value rows[][2] = {
				{ pw_pq_null(), pw_pq_list(NULL, 0) },
				{ pw_pq_list(NULL, 0), pw_pq_list(n1, 1) },
				{ pw_pq_list(n1, 1), pw_pq_list(n3, 3) },
				{ pw_pq_list(n3, 3), pw_pq_list(mix, 5) },
				{ pw_pq_list(mix, 5), pw_pq_list(e1, 1) },
				{ pw_pq_list(e1, 1), pw_pq_list(NULL, 0) },
				{ pw_pq_list(longl, N(longl)), pw_pq_list(longl + 1, 3000) },
				{ pw_pq_null(), pw_pq_list(longl, N(longl)) },
				{ pw_pq_list(longl + 100, 4000), pw_pq_list(n1, 1) },
				{ pw_pq_list(mix + 2, 1), pw_pq_list(NULL, 0) },
			};
			for (int rep = 0; rep < 3; rep++)
				for (size_t i = 0; i < N(rows); i++) {
					struct pw_pq_value v[3] = { pw_pq_int((int64_t)(rep * 100 + (int)i)),
						rows[i][0], rows[i][1] };

					case_row(&tc, v);
				}
		}
		case_close(&tc, k == 1 ? "{\"min_pages\":{\"sl\":6,\"sl_req\":6}}" : NULL, NULL);
	}
}

/* One list longer than a page may hold levels (2^17): a page cannot end
 * inside a row, so that page holds all of it. */
static void
case_huge_list(void)
{
	static const struct pw_pq_column cols[] = {
		{ "n", PW_PQ_LONG, true },
		{ "sl", PW_PQ_STRING_LIST, false },
	};
	enum { NI = 300000 };
	struct pw_pq_str *items = xmalloc(NI * sizeof *items);
	char *buf = xmalloc(NI * 8);
	struct tcase tc;
	struct pw_pq_options o;

	for (size_t i = 0; i < NI; i++) {
		int n = snprintf(buf + i * 8, 8, "i%zu", i % 100000);

		items[i] = i % 7 == 3 ? NULLITEM : (struct pw_pq_str){ buf + i * 8, (size_t)n };
	}
	pw_pq_options_default(&o);
	o.page_bytes = 64 << 10;
	if (case_open(&tc, "list_300k_items", cols, N(cols), &o, false)) {
		struct pw_pq_value v[2];

		v[0] = pw_pq_int(0);
		v[1] = pw_pq_list(items, 10);
		case_row(&tc, v);
		v[0] = pw_pq_int(1);
		v[1] = pw_pq_list(items, NI);
		case_row(&tc, v);
		v[0] = pw_pq_int(2);
		v[1] = pw_pq_null();
		case_row(&tc, v);
		v[0] = pw_pq_int(3);
		v[1] = pw_pq_list(items + 5, 3);
		case_row(&tc, v);
		case_close(&tc, "{\"row_groups\":1,\"min_pages\":{\"sl\":2}}", NULL);
	}
	free(items);
	free(buf);
}

/* Doubles: NaN, infinities, signed zeros, extremes; each column a stats case. */
static void
case_doubles(void)
{
	static const struct pw_pq_column cols[] = {
		{ "mixed", PW_PQ_DOUBLE, false },
		{ "all_nan", PW_PQ_DOUBLE, false },
		{ "nan_and_values", PW_PQ_DOUBLE, true },
		{ "neg_zero_only", PW_PQ_DOUBLE, false },
		{ "pos_zero_only", PW_PQ_DOUBLE, true },
		{ "zeros_and_pos", PW_PQ_DOUBLE, false },
		{ "zeros_and_neg", PW_PQ_DOUBLE, false },
		{ "infinities", PW_PQ_DOUBLE, false },
		{ "pos_inf_only", PW_PQ_DOUBLE, false },
		{ "extremes", PW_PQ_DOUBLE, false },
		{ "subnormals", PW_PQ_DOUBLE, false },
	};
	static const double data[][N(cols)] = {
		{ NAN, NAN, 1.5, -0.0, 0.0, -0.0, 0.0, INFINITY, INFINITY, DBL_MAX, 4.9406564584124654e-324 },
		{ INFINITY, NAN, NAN, -0.0, 0.0, 0.0, -0.0, -INFINITY, INFINITY, -DBL_MAX, -4.9406564584124654e-324 },
		{ -INFINITY, NAN, -2.25, -0.0, 0.0, 3.0, -7.0, 1.0, INFINITY, DBL_MIN, 2.2250738585072009e-308 },
		{ -0.0, NAN, NAN, -0.0, 0.0, 0.0, 0.0, INFINITY, INFINITY, -DBL_MIN, -2.2250738585072009e-308 },
		{ 0.0, NAN, 1e-300, -0.0, 0.0, -0.0, -0.0, -INFINITY, INFINITY, 1.7976931348623155e308, 1e-310 },
		{ 0.1, NAN, 1e300, -0.0, 0.0, 0.5, -0.5, 0.0, INFINITY, -1.7976931348623155e308, -1e-310 },
		{ 9007199254740993.0, NAN, -NAN, -0.0, 0.0, 0.0, 0.0, -0.0, INFINITY, 5e-324, 0.0 },
	};
	struct tcase tc;
	struct pw_pq_options o;
	struct pw_pq_value v[N(cols)];

	for (int k = 0; k < 2; k++) {
		pw_pq_options_default(&o);
		if (k == 1) {
			o.row_group_rows = 3;
			o.codec = PW_PQ_UNCOMPRESSED;
		}
		if (!case_open(&tc, k ? "doubles_row_groups" : "doubles", cols, N(cols), &o, false))
			continue;
		for (size_t r = 0; r < N(data); r++) {
			for (size_t c = 0; c < N(cols); c++)
				v[c] = pw_pq_double(data[r][c]);
			/* Some nulls in the optional columns. */
			if (r == 2) {
				v[1] = pw_pq_null();
				v[3] = pw_pq_null();
			}
			case_row(&tc, v);
		}
		case_close(&tc, k ? "{\"row_groups\":3}" : NULL, NULL);
	}
}

/* Integer extremes, and dates and timestamps around and before 1970. */
static void
case_ints(void)
{
	static const struct pw_pq_column cols[] = {
		{ "l", PW_PQ_LONG, false },
		{ "l_req", PW_PQ_LONG, true },
		{ "i", PW_PQ_INTEGER, false },
		{ "i_req", PW_PQ_INTEGER, true },
		{ "b", PW_PQ_BOOLEAN, false },
		{ "b_true", PW_PQ_BOOLEAN, true },
		{ "b_false", PW_PQ_BOOLEAN, false },
	};
	static const int64_t l[] = { INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1,
		(int64_t)1 << 53, ((int64_t)1 << 53) + 1, -((int64_t)1 << 53) - 1 };
	static const int64_t i32[] = { INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1, INT32_MAX - 1,
		65536, -65536, 255 };
	static const struct pw_pq_column dcols[] = {
		{ "d", PW_PQ_DATE, false },
		{ "d_req", PW_PQ_DATE, true },
		{ "t", PW_PQ_TIMESTAMP, false },
		{ "t_req", PW_PQ_TIMESTAMP, true },
	};
	/* days: 1970-01-01, 1969-12-31, 1900-01-01, 0001-01-01, 9999-12-31, 1582-10-15, 2000-02-29, 2038-01-19 */
	static const int64_t days[] = { 0, -1, -25567, -719162, 2932896, -141427, 10957, 24855 };
	/* µs: epoch, -1 µs, 1969-07-20 20:17:40.123456, 1900-01-01, 0001-01-01, 9999-12-31 23:59:59.999999, 2262 and 2038 */
	static const int64_t us[] = { 0, -1, -14182939876544, -2208988800000000, -62135596800000000,
		253402300799999999, 9223372036854775 /* INT64_MAX / 1000 */, 2147483648000000 };
	struct tcase tc;
	struct pw_pq_options o;

	pw_pq_options_default(&o);
	if (case_open(&tc, "int_extremes", cols, N(cols), &o, false)) {
		for (size_t r = 0; r < N(l); r++) {
			struct pw_pq_value v[N(cols)] = {
				r == 2 ? pw_pq_null() : pw_pq_int(l[r]), pw_pq_int(l[N(l) - 1 - r]),
				r == 3 ? pw_pq_null() : pw_pq_int(i32[r]), pw_pq_int(i32[N(i32) - 1 - r]),
				r % 4 == 0 ? pw_pq_null() : pw_pq_bool(r % 3 == 0), pw_pq_bool(true),
				r % 2 ? pw_pq_null() : pw_pq_bool(false),
			};
			case_row(&tc, v);
		}
		case_close(&tc, NULL, NULL);
	}
	for (int k = 0; k < 2; k++) {
		pw_pq_options_default(&o);
		o.codec = k ? PW_PQ_SNAPPY : PW_PQ_ZSTD;
		if (!case_open(&tc, k ? "dates_timestamps_snappy" : "dates_timestamps", dcols,
		    N(dcols), &o, false))
			continue;
		for (size_t r = 0; r < N(days); r++) {
			struct pw_pq_value v[N(dcols)] = {
				r == 4 && k ? pw_pq_null() : pw_pq_int(days[r]), pw_pq_int(days[N(days) - 1 - r]),
				r == 5 && k ? pw_pq_null() : pw_pq_int(us[r]), pw_pq_int(us[N(us) - 1 - r]),
			};
			case_row(&tc, v);
		}
		case_close(&tc, NULL, NULL);
	}
	/* The whole 32- and 64-bit ranges: readers may not show them as dates. */
	pw_pq_options_default(&o);
	if (case_open(&tc, "dates_timestamps_extremes", dcols, N(dcols), &o, false)) {
		static const int64_t dx[] = { INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1 };
		static const int64_t tx[] = { INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1 };

		for (size_t r = 0; r < N(dx); r++) {
			struct pw_pq_value v[N(dcols)] = { pw_pq_int(dx[r]), pw_pq_int(dx[3 - r]),
				pw_pq_int(tx[r]), pw_pq_int(tx[3 - r]) };

			case_row(&tc, v);
		}
		case_close(&tc, "{\"readers_may_refuse_values\":true}", NULL);
	}
}

/* ---- Refused rows, interleaved with good ones ---- */

static const struct {
	const char *what;
	const char *p;
	size_t n;
} bad_utf8[] = {
#define B(what, lit) { what, lit, sizeof(lit) - 1 }
	B("overlong '/' (2 bytes)", "\xc0\xaf"),
	B("overlong NUL (2 bytes)", "\xc0\x80"),
	B("overlong C1", "\xc1\xbf"),
	B("overlong '/' (3 bytes)", "\xe0\x80\xaf"),
	B("overlong U+07FF (3 bytes)", "\xe0\x9f\xbf"),
	B("overlong '/' (4 bytes)", "\xf0\x80\x80\xaf"),
	B("overlong U+FFFF (4 bytes)", "\xf0\x8f\xbf\xbf"),
	B("surrogate U+D800", "\xed\xa0\x80"),
	B("surrogate U+DBFF", "\xed\xaf\xbf"),
	B("surrogate U+DC00", "\xed\xb0\x80"),
	B("surrogate U+DFFF", "\xed\xbf\xbf"),
	B("CESU-8 pair", "\xed\xa0\xbd\xed\xb8\x80"),
	B("truncated 2-byte at end", "abc\xc3"),
	B("truncated 3-byte at end", "abc\xe2\x82"),
	B("truncated 4-byte at end", "abc\xf0\x9f\x98"),
	B("truncated 3-byte mid-string", "\xe2\x82" "abc"),
	B("truncated 4-byte before ASCII", "\xf0\x9f" "x"),
	B("lone continuation", "a\x80" "b"),
	B("continuation after complete char", "\xc3\xa9\xa9"),
	B("U+110000", "\xf4\x90\x80\x80"),
	B("F5 lead", "\xf5\x80\x80\x80"),
	B("F7 lead (U+1FFFFF)", "\xf7\xbf\xbf\xbf"),
	B("5-byte form", "\xf8\x88\x80\x80\x80"),
	B("6-byte form", "\xfc\x84\x80\x80\x80\x80"),
	B("FE byte", "\xfe"),
	B("FF byte", "ok\xff"),
	B("bad after 64 good bytes", A64 "\xc0\xaf"),
	B("NUL then bad", "\0\x80"),
#undef B
};

static void
case_rejects(void)
{
	static const struct pw_pq_column cols[] = {
		{ "s", PW_PQ_STRING, false },
		{ "s_req", PW_PQ_STRING, true },
		{ "l_req", PW_PQ_LONG, true },
		{ "i", PW_PQ_INTEGER, false },
		{ "d_req", PW_PQ_DATE, true },
		{ "t", PW_PQ_TIMESTAMP, false },
		{ "x_req", PW_PQ_DOUBLE, true },
		{ "b_req", PW_PQ_BOOLEAN, true },
		{ "sl", PW_PQ_STRING_LIST, false },
		{ "sl_req", PW_PQ_STRING_LIST, true },
	};
	enum { NC = N(cols) };
	struct tcase tc;
	struct pw_pq_options o;
	struct rng r = { 8080 };
	struct scratch *sc = xmalloc(sizeof *sc);
	struct pw_pq_value v[NC];
	char what[160];
	int good = 0;

	/* A good row, fresh each time. */
#define GOOD() do { \
		row_reset(sc); \
		for (size_t c_ = 0; c_ < NC; c_++) \
			v[c_] = random_value(&r, sc, &cols[c_], 3); \
		case_row(&tc, v); \
		good++; \
	} while (0)
	/* A good row with one value replaced: must be refused. */
#define BAD(col, val, ...) do { \
		row_reset(sc); \
		for (size_t c_ = 0; c_ < NC; c_++) \
			v[c_] = random_value(&r, sc, &cols[c_], 3); \
		v[col] = (val); \
		snprintf(what, sizeof what, __VA_ARGS__); \
		case_reject(&tc, v, cols[col].name, what); \
	} while (0)

	pw_pq_options_default(&o);
	o.page_bytes = 300;		/* refusals across page and dictionary state */
	o.dictionary_bytes = 2048;
	o.row_group_rows = 50;
	if (!case_open(&tc, "rejects_interleaved", cols, NC, &o, false)) {
		free(sc);
		return;
	}
	GOOD();
	for (size_t k = 0; k < N(bad_utf8); k++) {
		struct pw_pq_str items[3] = { I("fine"), NULLITEM, { bad_utf8[k].p, bad_utf8[k].n } };

		BAD(0, pw_pq_string(bad_utf8[k].p, bad_utf8[k].n), "string not UTF-8: %s", bad_utf8[k].what);
		GOOD();
		BAD(1, pw_pq_string(bad_utf8[k].p, bad_utf8[k].n), "REQUIRED string not UTF-8: %s", bad_utf8[k].what);
		BAD(8, pw_pq_list(items, 3), "list item not UTF-8: %s", bad_utf8[k].what);
		GOOD();
		BAD(9, pw_pq_list(items + 2, 1), "REQUIRED list item not UTF-8: %s", bad_utf8[k].what);
	}
	/* Null in every REQUIRED column. */
	for (size_t c = 0; c < NC; c++) {
		if (!cols[c].required)
			continue;
		BAD(c, pw_pq_null(), "null in REQUIRED %s", cols[c].name);
		GOOD();
	}
	/* Every wrong kind in every column. */
	{
		struct pw_pq_str it[] = { I("x") };
		const struct pw_pq_value kinds[] = { S("str"), pw_pq_int(1), pw_pq_double(1.0),
			pw_pq_bool(true), pw_pq_list(it, 1) };
		static const char *const kn[] = { "string", "int", "double", "bool", "list" };

		for (size_t c = 0; c < NC; c++)
			for (size_t k = 0; k < N(kinds); k++) {
				enum pw_pq_kind want;

				switch (cols[c].type) {
				case PW_PQ_STRING: want = PW_PQ_V_STRING; break;
				case PW_PQ_STRING_LIST: want = PW_PQ_V_LIST; break;
				case PW_PQ_DOUBLE: want = PW_PQ_V_DOUBLE; break;
				case PW_PQ_BOOLEAN: want = PW_PQ_V_BOOL; break;
				default: want = PW_PQ_V_INT; break;
				}
				if (kinds[k].kind == want)
					continue;
				BAD(c, kinds[k], "%s in column %s", kn[k], cols[c].name);
				if (k % 2)
					GOOD();
			}
	}
	/* Out of the 32-bit range for integer and date. */
	{
		static const int64_t out[] = { (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1,
			INT64_MAX, INT64_MIN, (int64_t)1 << 32, -((int64_t)1 << 32) };

		for (size_t k = 0; k < N(out); k++) {
			BAD(3, pw_pq_int(out[k]), "integer %" PRId64, out[k]);
			BAD(4, pw_pq_int(out[k]), "date %" PRId64, out[k]);
			GOOD();
		}
	}
	/* A list with n > 0 and no items; a string with no bytes. */
	BAD(8, pw_pq_list(NULL, 2), "list of 2 with NULL items");
	BAD(0, pw_pq_string(NULL, 3), "string of 3 with NULL bytes");
	/* Two bad values in one row: refused whole. */
	row_reset(sc);
	for (size_t c = 0; c < NC; c++)
		v[c] = random_value(&r, sc, &cols[c], 3);
	v[5] = S("not a timestamp");
	v[9] = pw_pq_null();
	if (!tc.broken) {
		struct pw_error err = { "" };

		if (pw_pq_write_row(tc.w, v, &err) == 0) {
			fail("rejects_interleaved: a row with two bad values was accepted");
			row_json(&tc, v);
			tc.rows++;
		} else {
			append_rejected(&tc, "", err.msg);
		}
	}
	for (int i = 0; i < 30; i++)
		GOOD();
	case_close(&tc, "{\"min_row_groups\":3}", NULL);
	free(sc);
#undef GOOD
#undef BAD
}

/* A row over the memory limit is refused; the writer goes on. */
static void
case_memory_limit(void)
{
	static const struct pw_pq_column cols[] = {
		{ "s", PW_PQ_STRING, false },
		{ "n", PW_PQ_LONG, true },
	};
	struct tcase tc;
	struct pw_pq_options o;
	size_t big = 300 << 10;
	char *p = xmalloc(big);
	char small[64];

	memset(p, 'm', big);
	pw_pq_options_default(&o);
	o.row_group_bytes = 64 << 10;
	o.memory_limit = 256 << 10;
	if (case_open(&tc, "memory_limit", cols, N(cols), &o, false)) {
		for (int i = 0; i < 3000; i++) {
			struct pw_pq_value v[2];

			snprintf(small, sizeof small, "row %d", i);
			v[0] = cstr(small);
			v[1] = pw_pq_int(i);
			case_row(&tc, v);
			if (i % 1000 == 500) {
				v[0] = pw_pq_string(p, big);
				case_reject(&tc, v, NULL, "300 KiB row over a 256 KiB memory limit");
			}
			if (i == 2000) {
				/* Just under the limit: fits once the buffered rows are out. */
				v[0] = pw_pq_string(p, 200 << 10);
				case_row(&tc, v);
			}
		}
		case_close(&tc, "{\"min_row_groups\":2}", NULL);
	}
	free(p);
}

/* Schemas pw_pq_open() must refuse. */
static void
check_open_refusals(void)
{
	static const struct pw_pq_column ok[] = { { "a", PW_PQ_LONG, false } };
	static const struct pw_pq_column empty_name[] = { { "", PW_PQ_LONG, false } };
	static const struct pw_pq_column dup[] = { { "a", PW_PQ_LONG, false }, { "a", PW_PQ_STRING, false } };
	static const struct pw_pq_column bad_type[] = { { "a", (enum pw_pq_type)99, false } };
	static const struct pw_pq_column bad_name[] = { { "\xc0\xaf", PW_PQ_LONG, false } };
	struct pw_pq_options o;
	struct sink_file sf = { NULL, 0 };
	struct pw_error err;
	struct {
		const char *what;
		const struct pw_pq_column *cols;
		size_t n;
		enum pw_pq_codec codec;
	} cases[] = {
		{ "no columns", ok, 0, PW_PQ_ZSTD },
		{ "empty name", empty_name, 1, PW_PQ_ZSTD },
		{ "duplicate name", dup, 2, PW_PQ_ZSTD },
		{ "unknown type", bad_type, 1, PW_PQ_ZSTD },
		{ "name not UTF-8", bad_name, 1, PW_PQ_ZSTD },
		{ "unknown codec", ok, 1, (enum pw_pq_codec)5 },
	};

	if (!wanted("open_refusals"))
		return;
	sf.f = fopen("/dev/null", "wb");
	for (size_t k = 0; k < N(cases); k++) {
		struct pw_pq_writer *w;

		pw_pq_options_default(&o);
		o.codec = cases[k].codec;
		err.msg[0] = '\0';
		w = pw_pq_open(cases[k].cols, cases[k].n, &o, file_sink, &sf, &err);
		if (w != NULL) {
			fail("pw_pq_open accepted a schema with %s", cases[k].what);
			pw_pq_destroy(w);
		} else if (err.msg[0] == '\0') {
			fail("pw_pq_open refused a schema with %s but gave no reason", cases[k].what);
		}
	}
	if (sf.f != NULL)
		fclose(sf.f);
	printf("gen: %-28s %zu refused\n", "open_refusals", N(cases));
}

/* ---- One million rows ---- */

/*
 * The rows of big_1m, from xorshift32 seeded with `seed`, in this order
 * for each row i (check.mjs generates the same):
 *   id  long      i
 *   r   long?     a = next(); a % 16 == 0 ? null : int64(next() << 32 | next())
 *   k   string?   a = next(); a % 11 == 0 ? null : "key-" + next() % 2000
 *   u   string    "u" + hex8(next()) + "-" + i
 *   x   double?   a = next(); a % 13 == 0 ? null :
 *                 ((h >> 5) * 67108864 + (l >> 6)) / 2^53 * 2e9 - 1e9, h = next(), l = next()
 *   b   boolean?  a = next(); a % 5 == 0 ? null : (a >> 8) & 1
 *   t   timestamp? a = next(); a % 7 == 0 ? null : int32(next()) * 1000000 + next() % 1000000
 *   d   date      next() % 200000 - 100000
 */
static void
case_big(uint64_t nrows, const char *name)
{
	static const struct pw_pq_column cols[] = {
		{ "id", PW_PQ_LONG, true },
		{ "r", PW_PQ_LONG, false },
		{ "k", PW_PQ_STRING, false },
		{ "u", PW_PQ_STRING, true },
		{ "x", PW_PQ_DOUBLE, false },
		{ "b", PW_PQ_BOOLEAN, false },
		{ "t", PW_PQ_TIMESTAMP, false },
		{ "d", PW_PQ_DATE, true },
	};
	const uint32_t seed = 0x9E3779B9u;
	struct rng r = { seed };
	struct tcase tc;
	struct pw_pq_options o;
	char gen[160];

	pw_pq_options_default(&o);
	o.row_group_bytes = 16 << 20;
	if (!case_open(&tc, name, cols, N(cols), &o, true))
		return;
	for (uint64_t i = 0; i < nrows && !tc.broken; i++) {
		struct pw_pq_value v[N(cols)];
		char k[32], u[48];
		uint32_t a;

		v[0] = pw_pq_int((int64_t)i);
		a = rnd(&r);
		if (a % 16 == 0) {
			v[1] = pw_pq_null();
		} else {
			uint64_t hi = rnd(&r);
			uint64_t lo = rnd(&r);

			v[1] = pw_pq_int((int64_t)(hi << 32 | lo));
		}
		a = rnd(&r);
		if (a % 11 == 0) {
			v[2] = pw_pq_null();
		} else {
			snprintf(k, sizeof k, "key-%u", rnd(&r) % 2000);
			v[2] = cstr(k);
		}
		a = rnd(&r);
		snprintf(u, sizeof u, "u%08x-%" PRIu64, a, i);
		v[3] = cstr(u);
		a = rnd(&r);
		if (a % 13 == 0) {
			v[4] = pw_pq_null();
		} else {
			uint32_t h = rnd(&r);
			uint32_t l = rnd(&r);
			double f = (double)(h >> 5) * 67108864.0;

			f += (double)(l >> 6);
			f /= 9007199254740992.0;
			f *= 2e9;
			f -= 1e9;
			v[4] = pw_pq_double(f);
		}
		a = rnd(&r);
		v[5] = a % 5 == 0 ? pw_pq_null() : pw_pq_bool((a >> 8) & 1);
		a = rnd(&r);
		if (a % 7 == 0) {
			v[6] = pw_pq_null();
		} else {
			int64_t s = (int32_t)rnd(&r);
			int64_t us = rnd(&r) % 1000000;

			v[6] = pw_pq_int(s * 1000000 + us);
		}
		v[7] = pw_pq_int((int64_t)(rnd(&r) % 200000) - 100000);
		case_row(&tc, v);
	}
	snprintf(gen, sizeof gen, "{\"name\":\"big\",\"rows\":%" PRIu64 ",\"seed\":%" PRIu32 "}",
	    nrows, seed);
	case_close(&tc, "{\"min_row_groups\":2,\"dictionary_fallback\":[\"u\"],\"dictionary_only\":[\"k\"]}",
	    gen);
}

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s <out-dir> [case-name-substring]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	only = argc > 2 ? argv[2] : NULL;
	if (mkdir(outdir, 0777) == -1 && errno != EEXIST)
		die("%s: %s", outdir, strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);

	case_types();
	case_types_paged();
	case_required_optional();
	case_edges();
	case_wide();
	case_strings();
	case_stats_cut();
	case_big_strings();
	case_row_groups();
	case_dictionary();
	case_lists();
	case_huge_list();
	case_doubles();
	case_ints();
	case_rejects();
	case_memory_limit();
	check_open_refusals();
	case_big(1000000, "big_1m");

	printf("gen: %d cases, %d failures\n", ncases, failures);
	return failures ? 1 : 0;
}
