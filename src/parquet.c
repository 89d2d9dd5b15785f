/*
 * A streaming Parquet writer (see include/portada/parquet.h).
 *
 * Each column keeps the page being filled (raw values and levels), the
 * finished pages of its chunk (headers and compressed bodies), a string
 * dictionary and the chunk's statistics.  A page is closed when it holds
 * opt.page_bytes of values; the row group is closed (every chunk written
 * to the sink, dictionary page first) when the buffered bytes reach
 * opt.row_group_bytes.  Each closed row group is serialised into its
 * Thrift RowGroup at once, so the footer costs a few hundred bytes per
 * column and row group and nothing else is kept.
 *
 * Rows are checked whole before any byte is added, which is what lets a
 * refused row leave the writer untouched.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/compress.h"
#include "portada/parquet.h"
#include "portada/rle.h"
#include "portada/thrift.h"
#include "portada/utf8.h"

#ifndef PW_VERSION
#define PW_VERSION "unknown"
#endif

/* parquet.thrift enums. */
enum { T_BOOLEAN = 0, T_INT32 = 1, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CT_UTF8 = 0, CT_LIST = 3, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10 };
enum { E_PLAIN = 0, E_RLE = 3, E_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

/* Pages also end at this many level entries, which bounds the scratch
 * the levels are widened into and keeps all-null pages small. */
#define PAGE_MAX_LEVELS	(1u << 17)
/* Readers take page sizes and string lengths as int32. */
#define MAX_PAGE	((size_t)INT32_MAX)
#define BUF_UNLIMITED	(SIZE_MAX / 4)
#define MAX_LIST_ITEMS	(1u << 28)

/*
 * Statistics of a chunk or a file.  Strings keep only the first
 * stats_bytes + STATS_SLACK bytes of the min and the max, and whether that
 * is the whole string: cutting a fixed number of bytes keeps the order
 * (a <= b implies cut(a) <= cut(b)), so the min of the cuts is the cut of
 * the min, and the slack is enough to cut at a character boundary later.
 * A 1 MB string therefore costs no more to track than a short one.
 */
#define STATS_SLACK	8
struct stats {
	uint64_t	nulls;
	bool		has;		/* a non-null (non-NaN) value was seen */
	int64_t		imin, imax;	/* integers, dates, timestamps, booleans */
	double		dmin, dmax;
	struct pw_buf	smin, smax;	/* strings: leading bytes */
	bool		smin_whole, smax_whole;
};

struct col {
	char		*name;
	enum pw_pq_type	 type;
	bool		 required;
	int		 phys;
	unsigned	 max_def, max_rep;

	/* The page being filled. */
	struct pw_buf	 values;	/* PLAIN values; booleans one byte each */
	struct pw_buf	 idx;		/* uint32 dictionary indices */
	struct pw_buf	 def, rep;	/* one byte per level */
	uint32_t	 levels;	/* entries: the page's num_values */
	uint32_t	 nvalues;	/* non-null values */

	/* The chunk: finished data pages, back to back. */
	struct pw_buf	 chunk;
	uint64_t	 chunk_levels;
	uint64_t	 chunk_raw;	/* pages' uncompressed size, headers included */
	uint32_t	 dict_pages, plain_pages;
	struct stats	 cs;

	/* Dictionary (strings only) for the current chunk. */
	bool		 dict_on;
	struct pw_buf	 dict;		/* PLAIN entries */
	uint32_t	*dict_off;	/* entry i's length prefix is at dict.data + dict_off[i] */
	uint64_t	*dict_hash;
	uint32_t	 dict_n, dict_cap;
	uint32_t	*slots;		/* open addressing: entry + 1; 0 is empty */
	uint32_t	 nslots;

	/* The whole file, for pw_pq_close()'s caller. */
	struct stats	 fs;
	struct pw_buf	 out_min, out_max;
};

struct pw_pq_writer {
	struct pw_pq_options	 opt;
	char			*created_by;
	pw_pq_sink_fn		 sink;
	void			*sink_ctx;
	struct pw_compressor	*comp;

	struct col		*cols;
	size_t			 ncols;

	uint64_t		 rows;		/* accepted, whole file */
	uint64_t		 group_rows;	/* in the open row group */
	uint64_t		 offset;	/* bytes given to the sink */
	size_t			 held;		/* buffered bytes: see pw_pq_held_bytes() */
	bool			 failed;	/* a sink or codec failure: nothing more */
	bool			 closed;

	struct pw_buf		 page;		/* a page body being assembled */
	struct pw_buf		 zpage;		/* ... and compressed */
	struct pw_buf		 hdr;		/* a page header */
	uint32_t		*wide;		/* levels widened for the RLE encoder */
	size_t			 wide_cap;

	struct pw_buf		 rgs;		/* serialised RowGroup structs */
	uint32_t		 nrgs;

	struct pw_pq_col_stats	*out;
	struct pw_pq_file_stats	 file_stats;
};

void
pw_pq_options_default(struct pw_pq_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->codec = PW_PQ_ZSTD;
	opt->row_group_bytes = 64u << 20;
	opt->page_bytes = 1u << 20;
	opt->dictionary_bytes = 1u << 20;
	opt->stats_bytes = 64;
	opt->memory_limit = 0;
}

int
pw_pq_codec_parse(const char *s, enum pw_pq_codec *out)
{
	if (strcmp(s, "zstd") == 0)
		*out = PW_PQ_ZSTD;
	else if (strcmp(s, "snappy") == 0)
		*out = PW_PQ_SNAPPY;
	else if (strcmp(s, "gzip") == 0)
		*out = PW_PQ_GZIP;
	else if (strcmp(s, "none") == 0 || strcmp(s, "uncompressed") == 0)
		*out = PW_PQ_UNCOMPRESSED;
	else
		return -1;
	return 0;
}

const char *
pw_pq_codec_name(enum pw_pq_codec c)
{
	switch (c) {
	case PW_PQ_UNCOMPRESSED:
		return "none";
	case PW_PQ_SNAPPY:
		return "snappy";
	case PW_PQ_GZIP:
		return "gzip";
	case PW_PQ_ZSTD:
		return "zstd";
	}
	return "unknown";
}

static const char *
type_name(enum pw_pq_type t)
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
		return "list of strings";
	}
	return "unknown";
}

static const char *
kind_name(enum pw_pq_kind k)
{
	switch (k) {
	case PW_PQ_V_NULL:
		return "null";
	case PW_PQ_V_STRING:
		return "a string";
	case PW_PQ_V_INT:
		return "an integer";
	case PW_PQ_V_DOUBLE:
		return "a double";
	case PW_PQ_V_BOOL:
		return "a boolean";
	case PW_PQ_V_LIST:
		return "a list";
	}
	return "an unknown kind of value";
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Unsigned lexicographic order, Parquet's order for strings. */
static int
bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int r = n > 0 ? memcmp(a, b, n) : 0;	/* an empty buffer's pointer may be NULL */

	if (r != 0)
		return r;
	return an < bn ? -1 : an > bn;
}

/* A word-at-a-time hash for the dictionary; quality only needs to spread
 * keys over a power-of-two table. */
static uint64_t
hash_bytes(const char *p, size_t n)
{
	const uint64_t k = 0x9E3779B97F4A7C15ULL;
	uint64_t h = 0x243F6A8885A308D3ULL ^ (n * k);
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * k;
	}
	h ^= h >> 32;
	h *= k;
	return h ^ (h >> 29);
}

static void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
	pw_buf_init(&s->smin, BUF_UNLIMITED);
	pw_buf_init(&s->smax, BUF_UNLIMITED);
}

static void
stats_finish(struct stats *s)
{
	pw_buf_finish(&s->smin);
	pw_buf_finish(&s->smax);
}

static void
stats_reset(struct stats *s)
{
	s->nulls = 0;
	s->has = false;
	pw_buf_reset(&s->smin);
	pw_buf_reset(&s->smax);
}

static void
set_bytes(struct pw_buf *b, const char *p, size_t n)
{
	pw_buf_reset(b);
	if (pw_buf_append(b, p, n) == -1)
		abort();	/* unlimited buffer */
}

static void
stats_string(struct stats *s, size_t keep, const char *p, size_t n, bool whole)
{
	size_t k = n < keep ? n : keep;
	int r;

	whole = whole && n <= keep;
	if (!s->has) {
		set_bytes(&s->smin, p, k);
		set_bytes(&s->smax, p, k);
		s->smin_whole = s->smax_whole = whole;
		s->has = true;
		return;
	}
	/* Equal leading bytes: a whole string is the shorter, smaller one. */
	r = bytes_cmp(p, k, s->smin.data, s->smin.len);
	if (r < 0) {
		set_bytes(&s->smin, p, k);
		s->smin_whole = whole;
	} else if (r == 0) {
		s->smin_whole = s->smin_whole || whole;
	}
	r = bytes_cmp(p, k, s->smax.data, s->smax.len);
	if (r > 0) {
		set_bytes(&s->smax, p, k);
		s->smax_whole = whole;
	} else if (r == 0) {
		s->smax_whole = s->smax_whole && whole;
	}
}

static void
stats_int(struct stats *s, int64_t v)
{
	if (!s->has) {
		s->imin = s->imax = v;
		s->has = true;
	} else if (v < s->imin) {
		s->imin = v;
	} else if (v > s->imax) {
		s->imax = v;
	}
}

/* NaN has no place in an order, so it is left out, as the spec says;
 * the sign of a zero extreme is settled when it is written. */
static void
stats_double(struct stats *s, double v)
{
	if (isnan(v))
		return;
	if (!s->has) {
		s->dmin = s->dmax = v;
		s->has = true;
		return;
	}
	if (v < s->dmin)
		s->dmin = v;
	if (v > s->dmax)
		s->dmax = v;
}

/* Fold a finished chunk's statistics into the file's. */
static void
stats_merge(struct stats *f, const struct stats *c, enum pw_pq_type type, size_t keep)
{
	f->nulls += c->nulls;
	if (!c->has)
		return;
	switch (type) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST:
		stats_string(f, keep, (const char *)c->smin.data, c->smin.len,
		    c->smin_whole);
		stats_string(f, keep, (const char *)c->smax.data, c->smax.len,
		    c->smax_whole);
		break;
	case PW_PQ_DOUBLE:
		stats_double(f, c->dmin);
		stats_double(f, c->dmax);
		break;
	default:
		stats_int(f, c->imin);
		stats_int(f, c->imax);
		break;
	}
}

static bool
is_string(const struct col *c)
{
	return c->type == PW_PQ_STRING || c->type == PW_PQ_STRING_LIST;
}

static void
col_init(struct col *c, const struct pw_pq_column *spec, bool dict)
{
	memset(c, 0, sizeof *c);
	c->name = pw_xstrdup(spec->name);
	c->type = spec->type;
	c->required = spec->required;
	switch (spec->type) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST:
		c->phys = T_BYTE_ARRAY;
		break;
	case PW_PQ_LONG:
	case PW_PQ_TIMESTAMP:
		c->phys = T_INT64;
		break;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		c->phys = T_INT32;
		break;
	case PW_PQ_DOUBLE:
		c->phys = T_DOUBLE;
		break;
	case PW_PQ_BOOLEAN:
		c->phys = T_BOOLEAN;
		break;
	}
	if (spec->type == PW_PQ_STRING_LIST) {
		/* <list> (optional?) / repeated list / optional element */
		c->max_def = (spec->required ? 0 : 1) + 2;
		c->max_rep = 1;
	} else {
		c->max_def = spec->required ? 0 : 1;
		c->max_rep = 0;
	}
	pw_buf_init(&c->values, BUF_UNLIMITED);
	pw_buf_init(&c->idx, BUF_UNLIMITED);
	pw_buf_init(&c->def, BUF_UNLIMITED);
	pw_buf_init(&c->rep, BUF_UNLIMITED);
	pw_buf_init(&c->chunk, BUF_UNLIMITED);
	pw_buf_init(&c->dict, BUF_UNLIMITED);
	pw_buf_init(&c->out_min, BUF_UNLIMITED);
	pw_buf_init(&c->out_max, BUF_UNLIMITED);
	stats_init(&c->cs);
	stats_init(&c->fs);
	c->dict_on = dict && is_string(c);
}

/* The column's row group buffers (values, levels, dictionary); its
 * statistics stay. */
static void
col_release(struct col *c)
{
	pw_buf_finish(&c->values);
	pw_buf_finish(&c->idx);
	pw_buf_finish(&c->def);
	pw_buf_finish(&c->rep);
	pw_buf_finish(&c->chunk);
	pw_buf_finish(&c->dict);
	free(c->dict_off);
	free(c->dict_hash);
	free(c->slots);
	c->dict_off = NULL;
	c->dict_hash = NULL;
	c->slots = NULL;
	c->nslots = c->dict_n = c->dict_cap = 0;
}

static void
col_finish(struct col *c)
{
	free(c->name);
	col_release(c);
	pw_buf_finish(&c->out_min);
	pw_buf_finish(&c->out_max);
	stats_finish(&c->cs);
	stats_finish(&c->fs);
}

/* What w->held should be; the running count is checked against it once
 * per row group (summing every row would cost more than the encoding). */
static size_t
held_recount(const struct pw_pq_writer *w)
{
	size_t n = w->rgs.len;

	for (size_t i = 0; i < w->ncols; i++) {
		const struct col *c = &w->cols[i];

		n += c->values.len + c->idx.len + c->def.len + c->rep.len + c->chunk.len +
		    c->dict.len + (size_t)c->dict_cap * 12 + (size_t)c->nslots * 4;
	}
	return n;
}

size_t
pw_pq_held_bytes(const struct pw_pq_writer *w)
{
	return w->held;
}

/* Append to a buffer the writer counts.  Column buffers have no limit of
 * their own: the memory limit is applied to whole rows before they go in. */
static inline void
put(struct pw_pq_writer *w, struct pw_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->cap - b->len < n && pw_buf_reserve(b, n) == -1)
		abort();
	memcpy(b->data + b->len, p, n);
	b->len += n;
	w->held += n;
}

static inline void
put_byte(struct pw_pq_writer *w, struct pw_buf *b, unsigned char v)
{
	if (b->cap == b->len && pw_buf_reserve(b, 1) == -1)
		abort();
	b->data[b->len++] = v;
	w->held++;
}

/* Empty a counted buffer, keeping its memory for the next page. */
static void
drop(struct pw_pq_writer *w, struct pw_buf *b)
{
	w->held -= b->len;
	pw_buf_reset(b);
}

uint64_t
pw_pq_rows(const struct pw_pq_writer *w)
{
	return w->rows;
}

bool
pw_pq_broken(const struct pw_pq_writer *w)
{
	return w->failed;
}

static int
emit(struct pw_pq_writer *w, const void *p, size_t n, struct pw_error *err)
{
	if (n == 0)
		return 0;
	if (w->sink(w->sink_ctx, p, n, err) == -1) {
		w->failed = true;
		return -1;
	}
	w->offset += n;
	return 0;
}

static int
check_schema(const struct pw_pq_column *cols, size_t n, const struct pw_pq_options *o,
    struct pw_error *err)
{
	if (n == 0 || n > 32767) {
		pw_error_set(err, "a Parquet schema needs 1 to 32767 columns, not %zu", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = cols[i].name;

		if (name == NULL || name[0] == '\0') {
			pw_error_set(err, "column %zu has no name", i);
			return -1;
		}
		if (pw_utf8_check(name, strlen(name)) != strlen(name)) {
			pw_error_set(err, "column %zu: its name is not UTF-8", i);
			return -1;
		}
		if ((unsigned)cols[i].type > PW_PQ_STRING_LIST) {
			pw_error_set(err, "column \"%s\": unknown type %d", name,
			    (int)cols[i].type);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cols[j].name, name) == 0) {
				pw_error_set(err, "column \"%s\" appears twice", name);
				return -1;
			}
		}
	}
	if (o->page_bytes == 0 || o->page_bytes > (256u << 20)) {
		pw_error_set(err, "page_bytes must be 1 byte to 256 MiB");
		return -1;
	}
	if (o->row_group_bytes == 0) {
		pw_error_set(err, "row_group_bytes must not be 0");
		return -1;
	}
	if (o->dictionary_bytes > (1u << 30)) {
		pw_error_set(err, "dictionary_bytes must be at most 1 GiB");
		return -1;
	}
	if (o->stats_bytes == 0 || o->stats_bytes > (1u << 20)) {
		pw_error_set(err, "stats_bytes must be 1 byte to 1 MiB");
		return -1;
	}
	return 0;
}

struct pw_pq_writer *
pw_pq_open(const struct pw_pq_column *columns, size_t ncolumns,
    const struct pw_pq_options *opt, pw_pq_sink_fn sink, void *sink_ctx,
    struct pw_error *err)
{
	struct pw_pq_writer *w;
	struct pw_pq_options o;
	struct pw_compressor *comp;

	if (opt != NULL)
		o = *opt;
	else
		pw_pq_options_default(&o);
	if (check_schema(columns, ncolumns, &o, err) == -1)
		return NULL;
	if (o.memory_limit == 0)
		o.memory_limit = o.row_group_bytes > SIZE_MAX / 4 ? SIZE_MAX / 4 :
		    o.row_group_bytes * 4;
	if ((comp = pw_compressor_create(o.codec, o.level, err)) == NULL)
		return NULL;

	w = pw_xcalloc(1, sizeof *w);
	w->opt = o;
	w->created_by = o.created_by != NULL ? pw_xstrdup(o.created_by) :
	    pw_xstrdup("portada-worker version " PW_VERSION);
	w->opt.created_by = w->created_by;
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->comp = comp;
	w->ncols = ncolumns;
	w->cols = pw_xcalloc(ncolumns, sizeof *w->cols);
	for (size_t i = 0; i < ncolumns; i++)
		col_init(&w->cols[i], &columns[i], o.dictionary_bytes > 0);
	pw_buf_init(&w->page, BUF_UNLIMITED);
	pw_buf_init(&w->zpage, BUF_UNLIMITED);
	pw_buf_init(&w->hdr, BUF_UNLIMITED);
	pw_buf_init(&w->rgs, BUF_UNLIMITED);

	if (emit(w, "PAR1", 4, err) == -1) {
		pw_pq_destroy(w);
		return NULL;
	}
	return w;
}

/* The writer's page and footer scratch and its compressor. */
static void
writer_release(struct pw_pq_writer *w)
{
	pw_compressor_destroy(w->comp);
	w->comp = NULL;
	pw_buf_finish(&w->page);
	pw_buf_finish(&w->zpage);
	pw_buf_finish(&w->hdr);
	pw_buf_finish(&w->rgs);
	free(w->wide);
	w->wide = NULL;
	w->wide_cap = 0;
	w->held = 0;
}

void
pw_pq_destroy(struct pw_pq_writer *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->ncols; i++)
		col_finish(&w->cols[i]);
	free(w->cols);
	free(w->created_by);
	writer_release(w);
	free(w->out);
	free(w);
}

/* ---- Dictionary ---- */

static bool
dict_find(const struct col *c, const char *p, size_t n, uint64_t h, uint32_t *idx)
{
	uint32_t mask, slot, e;

	if (c->nslots == 0)
		return false;
	mask = c->nslots - 1;
	for (slot = (uint32_t)h & mask; (e = c->slots[slot]) != 0; slot = (slot + 1) & mask) {
		const unsigned char *d;
		uint32_t len;

		if (c->dict_hash[e - 1] != h)
			continue;
		d = c->dict.data + c->dict_off[e - 1];
		len = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
		    (uint32_t)d[3] << 24;
		if (len == n && (n == 0 || memcmp(d + 4, p, n) == 0)) {
			*idx = e - 1;
			return true;
		}
	}
	return false;
}

static void
dict_rehash(struct pw_pq_writer *w, struct col *c, uint32_t nslots)
{
	uint32_t mask = nslots - 1;

	w->held += (size_t)(nslots - c->nslots) * 4;
	free(c->slots);
	c->slots = pw_xcalloc(nslots, sizeof *c->slots);
	c->nslots = nslots;
	for (uint32_t i = 0; i < c->dict_n; i++) {
		uint32_t slot = (uint32_t)c->dict_hash[i] & mask;

		while (c->slots[slot] != 0)
			slot = (slot + 1) & mask;
		c->slots[slot] = i + 1;
	}
}

/* The caller has checked that the entry fits within dictionary_bytes. */
static uint32_t
dict_add(struct pw_pq_writer *w, struct col *c, const char *p, size_t n, uint64_t h)
{
	unsigned char len[4];
	uint32_t i = c->dict_n;

	if (c->dict_n == c->dict_cap) {
		uint32_t old = c->dict_cap;

		c->dict_cap = c->dict_cap == 0 ? 32 : c->dict_cap * 2;
		w->held += (size_t)(c->dict_cap - old) * 12;
		c->dict_off = pw_xrealloc(c->dict_off, c->dict_cap * sizeof *c->dict_off);
		c->dict_hash = pw_xrealloc(c->dict_hash, c->dict_cap * sizeof *c->dict_hash);
	}
	/* Keep the table at most half full. */
	if ((c->dict_n + 1) * 2 > c->nslots)
		dict_rehash(w, c, c->nslots == 0 ? 64 : c->nslots * 2);
	c->dict_off[i] = (uint32_t)c->dict.len;
	c->dict_hash[i] = h;
	put_le32(len, (uint32_t)n);
	put(w, &c->dict, len, 4);
	put(w, &c->dict, p, n);
	c->dict_n++;

	uint32_t mask = c->nslots - 1, slot = (uint32_t)h & mask;
	while (c->slots[slot] != 0)
		slot = (slot + 1) & mask;
	c->slots[slot] = i + 1;
	return i;
}

/* A chunk's dictionary goes with it, tables and all, so that a written row
 * group leaves nothing behind but its footer entry. */
static void
dict_reset(struct pw_pq_writer *w, struct col *c)
{
	drop(w, &c->dict);
	pw_buf_finish(&c->dict);
	w->held -= (size_t)c->dict_cap * 12 + (size_t)c->nslots * 4;
	free(c->dict_off);
	free(c->dict_hash);
	free(c->slots);
	c->dict_off = NULL;
	c->dict_hash = NULL;
	c->slots = NULL;
	c->dict_n = c->dict_cap = c->nslots = 0;
}

/* ---- Pages ---- */

static int
widen(struct pw_pq_writer *w, const struct pw_buf *levels, uint32_t n)
{
	if (n > w->wide_cap) {
		w->wide = pw_xrealloc(w->wide, (size_t)n * sizeof *w->wide);
		w->wide_cap = n;
	}
	for (uint32_t i = 0; i < n; i++)
		w->wide[i] = levels->data[i];
	return 0;
}

/* A page header (Thrift PageHeader) into w->hdr. */
static int
page_header(struct pw_pq_writer *w, int type, size_t raw, size_t packed,
    uint32_t nvalues, int encoding)
{
	struct pw_thrift_w t;

	pw_buf_reset(&w->hdr);
	pw_thrift_w_init(&t, &w->hdr);
	if (pw_thrift_struct_begin(&t) == -1 ||
	    pw_thrift_field_i32(&t, 1, type) == -1 ||
	    pw_thrift_field_i32(&t, 2, (int32_t)raw) == -1 ||
	    pw_thrift_field_i32(&t, 3, (int32_t)packed) == -1)
		return -1;
	if (type == PAGE_DATA) {
		if (pw_thrift_field_begin(&t, PW_THRIFT_STRUCT, 5) == -1 ||
		    pw_thrift_struct_begin(&t) == -1 ||
		    pw_thrift_field_i32(&t, 1, (int32_t)nvalues) == -1 ||
		    pw_thrift_field_i32(&t, 2, encoding) == -1 ||
		    pw_thrift_field_i32(&t, 3, E_RLE) == -1 ||
		    pw_thrift_field_i32(&t, 4, E_RLE) == -1 ||
		    pw_thrift_struct_end(&t) == -1)
			return -1;
	} else {
		if (pw_thrift_field_begin(&t, PW_THRIFT_STRUCT, 7) == -1 ||
		    pw_thrift_struct_begin(&t) == -1 ||
		    pw_thrift_field_i32(&t, 1, (int32_t)nvalues) == -1 ||
		    pw_thrift_field_i32(&t, 2, encoding) == -1 ||
		    pw_thrift_field_bool(&t, 3, false) == -1 ||
		    pw_thrift_struct_end(&t) == -1)
			return -1;
	}
	return pw_thrift_struct_end(&t);
}

/* Compress src into w->zpage; both must fit Parquet's int32 sizes. */
static int
compress_page(struct pw_pq_writer *w, const char *colname, const struct pw_buf *src,
    struct pw_error *err)
{
	pw_buf_reset(&w->zpage);
	if (src->len > MAX_PAGE) {
		pw_error_set(err, "column \"%s\": a page of %zu bytes is over Parquet's 2 GiB limit",
		    colname, src->len);
		return -1;
	}
	if (pw_compress(w->comp, src->data, src->len, &w->zpage, err) == -1) {
		pw_error_prefix(err, "column \"%s\"", colname);
		return -1;
	}
	if (w->zpage.len > MAX_PAGE) {
		pw_error_set(err, "column \"%s\": a compressed page is over 2 GiB", colname);
		return -1;
	}
	return 0;
}

/* Close the page being filled: levels, values, compression, header, all
 * appended to the chunk.  A failure here is a codec failure: fatal. */
static int
flush_page(struct pw_pq_writer *w, struct col *c, struct pw_error *err)
{
	bool dict = c->dict_on && c->nvalues > 0;
	unsigned bw;

	if (c->levels == 0)
		return 0;
	pw_buf_reset(&w->page);
	if (c->max_rep > 0) {
		widen(w, &c->rep, c->levels);
		if (pw_rle_encode_with_length(&w->page, w->wide, c->levels,
		    pw_rle_bit_width(c->max_rep)) == -1)
			goto internal;
	}
	if (c->max_def > 0) {
		widen(w, &c->def, c->levels);
		if (pw_rle_encode_with_length(&w->page, w->wide, c->levels,
		    pw_rle_bit_width(c->max_def)) == -1)
			goto internal;
	}
	if (dict) {
		/* Width 0 is legal but some readers trip on it. */
		bw = pw_rle_bit_width(c->dict_n - 1);
		if (bw == 0)
			bw = 1;
		if (pw_buf_append_byte(&w->page, (unsigned char)bw) == -1 ||
		    pw_rle_encode(&w->page, (const uint32_t *)(void *)c->idx.data,
		    c->nvalues, bw) == -1)
			goto internal;
	} else if (c->phys == T_BOOLEAN) {
		size_t nbytes = (c->nvalues + 7) / 8;

		if (pw_buf_reserve(&w->page, nbytes) == -1)
			goto internal;
		memset(w->page.data + w->page.len, 0, nbytes);
		for (uint32_t i = 0; i < c->nvalues; i++)
			if (c->values.data[i])
				w->page.data[w->page.len + i / 8] |= (unsigned char)(1u << (i % 8));
		w->page.len += nbytes;
	} else {
		if (pw_buf_append(&w->page, c->values.data, c->values.len) == -1)
			goto internal;
	}
	if (compress_page(w, c->name, &w->page, err) == -1)
		goto fail;
	if (page_header(w, PAGE_DATA, w->page.len, w->zpage.len, c->levels,
	    dict ? E_RLE_DICTIONARY : E_PLAIN) == -1)
		goto internal;
	put(w, &c->chunk, w->hdr.data, w->hdr.len);
	put(w, &c->chunk, w->zpage.data, w->zpage.len);
	c->chunk_raw += w->hdr.len + w->page.len;
	c->chunk_levels += c->levels;
	if (dict)
		c->dict_pages++;
	else
		c->plain_pages++;
	drop(w, &c->values);
	drop(w, &c->idx);
	drop(w, &c->def);
	drop(w, &c->rep);
	c->levels = 0;
	c->nvalues = 0;
	return 0;

internal:
	pw_error_set(err, "column \"%s\": cannot encode a page", c->name);
fail:
	w->failed = true;
	return -1;
}

/* ---- Statistics in the footer ---- */

/*
 * The bytes of a chunk's (or file's) min and max as Parquet stores them
 * (PLAIN without a length), strings cut to stats_bytes.  Returns false if
 * there is nothing to write.
 */
static bool
stat_bytes(const struct pw_pq_writer *w, const struct col *c, const struct stats *s,
    struct pw_buf *min, struct pw_buf *max, bool *min_exact, bool *max_exact)
{
	unsigned char b[8];
	size_t n;

	pw_buf_reset(min);
	pw_buf_reset(max);
	*min_exact = *max_exact = true;
	if (!s->has)
		return false;
	switch (c->phys) {
	case T_BYTE_ARRAY: {
		const char *lo = (const char *)s->smin.data, *hi = (const char *)s->smax.data;
		size_t cut = w->opt.stats_bytes;

		*min_exact = s->smin_whole && s->smin.len <= cut;
		n = pw_utf8_cut(lo, s->smin.len, cut);
		set_bytes(min, lo, n);
		if (s->smax_whole && s->smax.len <= cut) {
			set_bytes(max, hi, s->smax.len);
			return true;
		}
		/* A cut max is below the real one; its successor is above.
		 * Keep at least one character (STATS_SLACK covers it). */
		n = pw_utf8_cut(hi, s->smax.len, cut);
		if (n == 0)
			n = pw_utf8_cut(hi, s->smax.len, cut + 4);
		if (pw_buf_reserve(max, n + 1) == -1)
			abort();
		max->len = pw_utf8_successor(hi, n, (char *)max->data);
		*max_exact = false;
		return max->len > 0;
	}
	case T_DOUBLE: {
		double lo = s->dmin, hi = s->dmax;
		uint64_t u;

		/* The spec: a zero min is written -0.0, a zero max +0.0. */
		if (lo == 0)
			lo = -0.0;
		if (hi == 0)
			hi = 0.0;
		memcpy(&u, &lo, 8);
		put_le64(b, u);
		set_bytes(min, (const char *)b, 8);
		memcpy(&u, &hi, 8);
		put_le64(b, u);
		set_bytes(max, (const char *)b, 8);
		return true;
	}
	case T_INT64:
		put_le64(b, (uint64_t)s->imin);
		set_bytes(min, (const char *)b, 8);
		put_le64(b, (uint64_t)s->imax);
		set_bytes(max, (const char *)b, 8);
		return true;
	case T_INT32:
		put_le32(b, (uint32_t)(int32_t)s->imin);
		set_bytes(min, (const char *)b, 4);
		put_le32(b, (uint32_t)(int32_t)s->imax);
		set_bytes(max, (const char *)b, 4);
		return true;
	default:	/* BOOLEAN */
		b[0] = (unsigned char)s->imin;
		set_bytes(min, (const char *)b, 1);
		b[0] = (unsigned char)s->imax;
		set_bytes(max, (const char *)b, 1);
		return true;
	}
}

static int
write_statistics(struct pw_pq_writer *w, struct pw_thrift_w *t, const struct col *c,
    const struct stats *s)
{
	struct pw_buf min, max;
	bool mine, maxe, has;
	int rc = -1;

	pw_buf_init(&min, BUF_UNLIMITED);
	pw_buf_init(&max, BUF_UNLIMITED);
	has = stat_bytes(w, c, s, &min, &max, &mine, &maxe);
	if (pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 12) == -1 ||
	    pw_thrift_struct_begin(t) == -1 ||
	    pw_thrift_field_i64(t, 3, (int64_t)s->nulls) == -1)
		goto out;
	if (has && (pw_thrift_field_binary(t, 5, max.data, max.len) == -1 ||
	    pw_thrift_field_binary(t, 6, min.data, min.len) == -1 ||
	    pw_thrift_field_bool(t, 7, maxe) == -1 ||
	    pw_thrift_field_bool(t, 8, mine) == -1))
		goto out;
	rc = pw_thrift_struct_end(t);
out:
	pw_buf_finish(&min);
	pw_buf_finish(&max);
	return rc;
}

/* ---- Row groups ---- */

static int
write_path(struct pw_thrift_w *t, const struct col *c)
{
	if (pw_thrift_field_begin(t, PW_THRIFT_LIST, 3) == -1)
		return -1;
	if (c->type != PW_PQ_STRING_LIST)
		return pw_thrift_list_begin(t, PW_THRIFT_BINARY, 1) == -1 ||
		    pw_thrift_write_string(t, c->name) == -1 ? -1 : 0;
	return pw_thrift_list_begin(t, PW_THRIFT_BINARY, 3) == -1 ||
	    pw_thrift_write_string(t, c->name) == -1 ||
	    pw_thrift_write_string(t, "list") == -1 ||
	    pw_thrift_write_string(t, "element") == -1 ? -1 : 0;
}

/* One ColumnChunk struct, for a chunk that starts at file offset start. */
static int
write_column_chunk(struct pw_pq_writer *w, struct pw_thrift_w *t, const struct col *c,
    uint64_t start, uint64_t dict_bytes, uint64_t dict_raw)
{
	int encodings[3], nenc = 0;
	int nstats = 0;

	if (c->plain_pages > 0 || c->dict_pages > 0)
		encodings[nenc++] = E_PLAIN;
	if (c->max_def > 0 || c->max_rep > 0)
		encodings[nenc++] = E_RLE;
	if (c->dict_pages > 0)
		encodings[nenc++] = E_RLE_DICTIONARY;
	nstats = (c->dict_pages > 0) * 2 + (c->plain_pages > 0);

	if (pw_thrift_struct_begin(t) == -1 ||
	    pw_thrift_field_i64(t, 2, (int64_t)start) == -1 ||
	    pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 3) == -1 ||
	    pw_thrift_struct_begin(t) == -1 ||
	    pw_thrift_field_i32(t, 1, c->phys) == -1 ||
	    pw_thrift_field_begin(t, PW_THRIFT_LIST, 2) == -1 ||
	    pw_thrift_list_begin(t, PW_THRIFT_I32, (size_t)nenc) == -1)
		return -1;
	for (int i = 0; i < nenc; i++)
		if (pw_thrift_write_i32(t, encodings[i]) == -1)
			return -1;
	if (write_path(t, c) == -1 ||
	    pw_thrift_field_i32(t, 4, (int32_t)w->opt.codec) == -1 ||
	    pw_thrift_field_i64(t, 5, (int64_t)c->chunk_levels) == -1 ||
	    pw_thrift_field_i64(t, 6, (int64_t)(c->chunk_raw + dict_raw)) == -1 ||
	    pw_thrift_field_i64(t, 7, (int64_t)(c->chunk.len + dict_bytes)) == -1 ||
	    pw_thrift_field_i64(t, 9, (int64_t)(start + dict_bytes)) == -1)
		return -1;
	if (dict_bytes > 0 && pw_thrift_field_i64(t, 11, (int64_t)start) == -1)
		return -1;
	if (write_statistics(w, t, c, &c->cs) == -1)
		return -1;
	/* encoding_stats: lets readers see that every page is dictionary encoded. */
	if (pw_thrift_field_begin(t, PW_THRIFT_LIST, 13) == -1 ||
	    pw_thrift_list_begin(t, PW_THRIFT_STRUCT, (size_t)nstats) == -1)
		return -1;
	if (c->dict_pages > 0) {
		if (pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_i32(t, 1, PAGE_DICTIONARY) == -1 ||
		    pw_thrift_field_i32(t, 2, E_PLAIN) == -1 ||
		    pw_thrift_field_i32(t, 3, 1) == -1 ||
		    pw_thrift_struct_end(t) == -1 ||
		    pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_i32(t, 1, PAGE_DATA) == -1 ||
		    pw_thrift_field_i32(t, 2, E_RLE_DICTIONARY) == -1 ||
		    pw_thrift_field_i32(t, 3, (int32_t)c->dict_pages) == -1 ||
		    pw_thrift_struct_end(t) == -1)
			return -1;
	}
	if (c->plain_pages > 0) {
		if (pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_i32(t, 1, PAGE_DATA) == -1 ||
		    pw_thrift_field_i32(t, 2, E_PLAIN) == -1 ||
		    pw_thrift_field_i32(t, 3, (int32_t)c->plain_pages) == -1 ||
		    pw_thrift_struct_end(t) == -1)
			return -1;
	}
	return pw_thrift_struct_end(t) == -1 || pw_thrift_struct_end(t) == -1 ? -1 : 0;
}

/*
 * Write every column's chunk to the sink (its dictionary page first) and
 * append the row group's Thrift RowGroup to w->rgs.  Any failure poisons
 * the writer: part of the row group may already be out.
 */
static int
flush_row_group(struct pw_pq_writer *w, struct pw_error *err)
{
	struct pw_thrift_w t;
	uint64_t start = w->offset, raw_total = 0;
	size_t rgs_before;

	if (w->group_rows == 0)
		return 0;
	if (w->nrgs == INT16_MAX) {
		pw_error_set(err, "a Parquet file holds at most %d row groups", INT16_MAX);
		goto fail;
	}
	rgs_before = w->rgs.len;
	pw_thrift_w_init(&t, &w->rgs);
	if (pw_thrift_struct_begin(&t) == -1 ||
	    pw_thrift_field_begin(&t, PW_THRIFT_LIST, 1) == -1 ||
	    pw_thrift_list_begin(&t, PW_THRIFT_STRUCT, w->ncols) == -1)
		goto internal;
	for (size_t i = 0; i < w->ncols; i++) {
		struct col *c = &w->cols[i];
		uint64_t cstart = w->offset, dict_bytes = 0, dict_raw = 0;

		if (flush_page(w, c, err) == -1)
			goto fail;
		if (c->dict_pages > 0) {
			if (compress_page(w, c->name, &c->dict, err) == -1)
				goto fail;
			if (page_header(w, PAGE_DICTIONARY, c->dict.len, w->zpage.len,
			    c->dict_n, E_PLAIN) == -1)
				goto internal;
			if (emit(w, w->hdr.data, w->hdr.len, err) == -1 ||
			    emit(w, w->zpage.data, w->zpage.len, err) == -1)
				goto fail;
			dict_bytes = w->hdr.len + w->zpage.len;
			dict_raw = w->hdr.len + c->dict.len;
		}
		if (emit(w, c->chunk.data, c->chunk.len, err) == -1)
			goto fail;
		if (write_column_chunk(w, &t, c, cstart, dict_bytes, dict_raw) == -1)
			goto internal;
		raw_total += c->chunk_raw + dict_raw;

		stats_merge(&c->fs, &c->cs, c->type, w->opt.stats_bytes + STATS_SLACK);
		stats_reset(&c->cs);
		/* Give the chunk's memory back: the next row group may be
		 * smaller, and an idle writer should hold little. */
		drop(w, &c->chunk);
		pw_buf_finish(&c->chunk);
		c->chunk_levels = c->chunk_raw = 0;
		c->dict_pages = c->plain_pages = 0;
		dict_reset(w, c);
		c->dict_on = w->opt.dictionary_bytes > 0 && is_string(c);
	}
	if (pw_thrift_field_i64(&t, 2, (int64_t)raw_total) == -1 ||
	    pw_thrift_field_i64(&t, 3, (int64_t)w->group_rows) == -1 ||
	    pw_thrift_field_i64(&t, 5, (int64_t)start) == -1 ||
	    pw_thrift_field_i64(&t, 6, (int64_t)(w->offset - start)) == -1 ||
	    pw_thrift_field_i16(&t, 7, (int16_t)w->nrgs) == -1 ||
	    pw_thrift_struct_end(&t) == -1)
		goto internal;
	w->held += w->rgs.len - rgs_before;
	assert(w->held == held_recount(w));
	w->nrgs++;
	w->group_rows = 0;
	return 0;

internal:
	pw_error_set(err, "cannot encode row group %" PRIu32, w->nrgs);
fail:
	w->failed = true;
	return -1;
}

/* ---- Rows ---- */

static int refuse(struct pw_error *err, const struct pw_pq_writer *w,
    const struct col *c, const char *fmt, ...) PW_PRINTF(4, 5);

/* Every refusal names the column and the row. */
static int
refuse(struct pw_error *err, const struct pw_pq_writer *w, const struct col *c,
    const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	pw_error_set(err, "column \"%s\", row %" PRIu64 ": %s", c->name, w->rows, what);
	return -1;
}

static int
check_utf8(const struct pw_pq_writer *w, const struct col *c, const char *p, size_t n,
    const char *where, struct pw_error *err)
{
	size_t bad;

	if (p == NULL && n > 0) {
		pw_error_set(err, "column \"%s\", row %" PRIu64 ": %sstring has no bytes",
		    c->name, w->rows, where);
		return -1;
	}
	if (n > MAX_PAGE - 8) {
		pw_error_set(err, "column \"%s\", row %" PRIu64 ": %sstring of %zu bytes is over 2 GiB",
		    c->name, w->rows, where, n);
		return -1;
	}
	if ((bad = pw_utf8_check(p, n)) != n) {
		pw_error_set(err, "column \"%s\", row %" PRIu64 ": %sstring is not UTF-8 (bad byte 0x%02x at offset %zu)",
		    c->name, w->rows, where, (unsigned char)p[bad], bad);
		return -1;
	}
	return 0;
}

/* What tables holding n of cap entries in nslots grow by to take k more. */
static size_t
table_growth(size_t n, size_t cap, size_t nslots, size_t k)
{
	size_t c2 = cap, s2 = nslots;

	while (c2 < n + k)
		c2 = c2 == 0 ? 32 : c2 * 2;
	while ((n + k) * 2 > s2)
		s2 = s2 == 0 ? 64 : s2 * 2;
	return (c2 - cap) * 12 + (s2 - nslots) * 4;
}

/*
 * What a column's dictionary tables may grow by if k new strings go in:
 * the worse of the current dictionary and an empty one (making room may
 * start a new row group, whose dictionary starts from nothing).  No more
 * entries than dictionary_bytes can hold ever go in.
 */
static size_t
dict_growth(const struct pw_pq_writer *w, const struct col *c, size_t k)
{
	size_t max = w->opt.dictionary_bytes / 4 + 1, cur = 0, fresh;

	if (w->opt.dictionary_bytes == 0 || !is_string(c))
		return 0;
	fresh = table_growth(0, 0, 0, k < max ? k : max);
	if (c->dict_on) {
		size_t room = (w->opt.dictionary_bytes - c->dict.len) / 4 + 1;

		cur = table_growth(c->dict_n, c->dict_cap, c->nslots, k < room ? k : room);
	}
	return cur > fresh ? cur : fresh;
}

/* Check one value against its column; add the bytes it will take to *need. */
static int
check_value(const struct pw_pq_writer *w, const struct col *c, const struct pw_pq_value *v,
    size_t *need, struct pw_error *err)
{
	enum pw_pq_kind want;

	if (v->kind == PW_PQ_V_NULL) {
		if (c->required)
			return refuse(err, w, c, "null in a REQUIRED %s column",
			    type_name(c->type));
		*need += 1;
		return 0;
	}
	switch (c->type) {
	case PW_PQ_STRING:
		want = PW_PQ_V_STRING;
		break;
	case PW_PQ_STRING_LIST:
		want = PW_PQ_V_LIST;
		break;
	case PW_PQ_DOUBLE:
		want = PW_PQ_V_DOUBLE;
		break;
	case PW_PQ_BOOLEAN:
		want = PW_PQ_V_BOOL;
		break;
	default:
		want = PW_PQ_V_INT;
		break;
	}
	if (v->kind != want)
		return refuse(err, w, c, "a %s column cannot hold %s", type_name(c->type),
		    kind_name(v->kind));
	switch (c->type) {
	case PW_PQ_STRING:
		if (check_utf8(w, c, v->u.s.p, v->u.s.n, "", err) == -1)
			return -1;
		*need += 9 + v->u.s.n + dict_growth(w, c, 1);
		return 0;
	case PW_PQ_STRING_LIST:
		if (v->u.list.items == NULL && v->u.list.n > 0)
			return refuse(err, w, c, "a list of %zu items has no items",
			    v->u.list.n);
		/* Page headers count levels in an int32. */
		if (v->u.list.n > MAX_LIST_ITEMS)
			return refuse(err, w, c, "a list of %zu items is over the limit of %u",
			    v->u.list.n, MAX_LIST_ITEMS);
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct pw_pq_str *it = &v->u.list.items[i];
			char where[48];

			if (it->p == NULL) {
				*need += 2;
				continue;
			}
			snprintf(where, sizeof where, "list item %zu: ", i);
			if (check_utf8(w, c, it->p, it->n, where, err) == -1)
				return -1;
			*need += 10 + it->n;
		}
		*need += 2 + dict_growth(w, c, v->u.list.n);
		return 0;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		if (v->u.i < INT32_MIN || v->u.i > INT32_MAX)
			return refuse(err, w, c, "%" PRId64 " does not fit in a 32-bit %s column",
			    v->u.i, type_name(c->type));
		*need += 5;
		return 0;
	default:
		*need += 9;
		return 0;
	}
}

static inline void
put_level(struct pw_pq_writer *w, struct col *c, unsigned rep, unsigned def)
{
	if (c->max_rep > 0)
		put_byte(w, &c->rep, (unsigned char)rep);
	if (c->max_def > 0)
		put_byte(w, &c->def, (unsigned char)def);
	c->levels++;
	if (def < c->max_def)
		c->cs.nulls++;
}

/*
 * Append one string value to the page: its dictionary index, or PLAIN once
 * the chunk's dictionary is full.  When a new string would pass
 * dictionary_bytes, the page is closed (it ends at a row boundary: lists
 * made room for all their items first, in dict_make_room()) and the rest
 * of the chunk is written PLAIN, as parquet-mr and Arrow do.
 */
static int
put_string(struct pw_pq_writer *w, struct col *c, const char *p, size_t n,
    struct pw_error *err)
{
	if (c->dict_on) {
		uint64_t h = hash_bytes(p, n);
		uint32_t i;

		if (dict_find(c, p, n, h, &i))
			goto index;
		if (c->dict.len + 4 + n <= w->opt.dictionary_bytes &&
		    c->dict_n < UINT32_MAX / 2) {
			i = dict_add(w, c, p, n, h);
			goto index;
		}
		if (flush_page(w, c, err) == -1)
			return -1;
		c->dict_on = false;
		goto plain;
index:
		put(w, &c->idx, &i, sizeof i);
		goto done;
	}
plain:
	{
		unsigned char len[4];

		put_le32(len, (uint32_t)n);
		put(w, &c->values, len, 4);
		put(w, &c->values, p, n);
	}
done:
	c->nvalues++;
	stats_string(&c->cs, w->opt.stats_bytes + STATS_SLACK, p, n, true);
	return 0;
}

/* A list's new strings go into the dictionary all together or not at all,
 * so that a page never ends inside a row. */
static int
dict_make_room(struct pw_pq_writer *w, struct col *c, const struct pw_pq_value *v,
    struct pw_error *err)
{
	size_t add = 0, entries = 0;
	uint32_t idx;

	for (size_t i = 0; i < v->u.list.n; i++) {
		const struct pw_pq_str *it = &v->u.list.items[i];

		if (it->p != NULL && !dict_find(c, it->p, it->n,
		    hash_bytes(it->p, it->n), &idx)) {
			add += 4 + it->n;
			entries++;
		}
	}
	if (add == 0 || (c->dict.len + add <= w->opt.dictionary_bytes &&
	    c->dict_n + entries < UINT32_MAX / 2))
		return 0;
	if (flush_page(w, c, err) == -1)
		return -1;
	c->dict_on = false;
	return 0;
}

static int
put_value(struct pw_pq_writer *w, struct col *c, const struct pw_pq_value *v,
    struct pw_error *err)
{
	unsigned char b[8];

	if (v->kind == PW_PQ_V_NULL) {
		put_level(w, c, 0, 0);
		return 0;
	}
	switch (c->type) {
	case PW_PQ_STRING:
		/* Value first: a dictionary overflow closes the page, and this
		 * row's level belongs to the next one. */
		if (put_string(w, c, v->u.s.p, v->u.s.n, err) == -1)
			return -1;
		put_level(w, c, 0, c->max_def);
		return 0;
	case PW_PQ_STRING_LIST: {
		/* def: list present = max_def - 2, item present (null) = max_def - 1,
		 * item value = max_def; rep 0 starts the row, 1 continues it. */
		unsigned present = c->max_def - 2;

		if (c->dict_on && dict_make_room(w, c, v, err) == -1)
			return -1;
		if (v->u.list.n == 0) {
			put_level(w, c, 0, present);
			return 0;
		}
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct pw_pq_str *it = &v->u.list.items[i];

			if (it->p == NULL) {
				put_level(w, c, i > 0, c->max_def - 1);
			} else {
				put_level(w, c, i > 0, c->max_def);
				if (put_string(w, c, it->p, it->n, err) == -1)
					return -1;
			}
		}
		return 0;
	}
	case PW_PQ_LONG:
	case PW_PQ_TIMESTAMP:
		put_le64(b, (uint64_t)v->u.i);
		put(w, &c->values, b, 8);
		stats_int(&c->cs, v->u.i);
		break;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		put_le32(b, (uint32_t)(int32_t)v->u.i);
		put(w, &c->values, b, 4);
		stats_int(&c->cs, v->u.i);
		break;
	case PW_PQ_DOUBLE: {
		uint64_t u;

		memcpy(&u, &v->u.d, 8);
		put_le64(b, u);
		put(w, &c->values, b, 8);
		stats_double(&c->cs, v->u.d);
		break;
	}
	case PW_PQ_BOOLEAN:
		put_byte(w, &c->values, v->u.b);
		stats_int(&c->cs, v->u.b);
		break;
	}
	put_level(w, c, 0, c->max_def);
	c->nvalues++;
	return 0;
}

static int
writer_usable(const struct pw_pq_writer *w, struct pw_error *err)
{
	if (w->failed) {
		pw_error_set(err, "the Parquet writer failed earlier; its output is unusable");
		return -1;
	}
	if (w->closed) {
		pw_error_set(err, "the Parquet writer is closed");
		return -1;
	}
	return 0;
}

int
pw_pq_write_row(struct pw_pq_writer *w, const struct pw_pq_value *values,
    struct pw_error *err)
{
	size_t need = 0;

	if (writer_usable(w, err) == -1)
		return -1;
	for (size_t i = 0; i < w->ncols; i++)
		if (check_value(w, &w->cols[i], &values[i], &need, err) == -1)
			return -1;

	/*
	 * The limit caps the open row group (the footer's entries, w->rgs,
	 * grow with the file instead).  Refuse a row that cannot fit even in
	 * an empty row group before touching anything; make room for one
	 * that can.
	 */
	if (need > w->opt.memory_limit) {
		pw_error_set(err, "row %" PRIu64 ": it needs %zu bytes, over the Parquet writer's memory limit of %zu bytes",
		    w->rows, need, w->opt.memory_limit);
		return -1;
	}
	if (w->held - w->rgs.len + need > w->opt.memory_limit && flush_row_group(w, err) == -1)
		return -1;

	for (size_t i = 0; i < w->ncols; i++)
		if (put_value(w, &w->cols[i], &values[i], err) == -1)
			return -1;
	w->rows++;
	w->group_rows++;

	for (size_t i = 0; i < w->ncols; i++) {
		struct col *c = &w->cols[i];

		if (c->values.len + c->idx.len + c->levels >= w->opt.page_bytes ||
		    c->levels >= PAGE_MAX_LEVELS)
			if (flush_page(w, c, err) == -1)
				return -1;
	}
	/* A row group is measured by its own bytes, not the footer's.  Closing
	 * pages adds headers and codec framing the row was not charged for:
	 * a group that ends up over the limit is written out at once. */
	if (w->held - w->rgs.len >= w->opt.row_group_bytes ||
	    w->held - w->rgs.len > w->opt.memory_limit ||
	    (w->opt.row_group_rows > 0 && w->group_rows >= w->opt.row_group_rows))
		return flush_row_group(w, err);
	return 0;
}

/* ---- Footer ---- */

static int
write_logical(struct pw_thrift_w *t, int id)
{
	/* LogicalType union: one empty struct member. */
	return pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 10) == -1 ||
	    pw_thrift_struct_begin(t) == -1 ||
	    pw_thrift_field_begin(t, PW_THRIFT_STRUCT, (int16_t)id) == -1 ||
	    pw_thrift_struct_begin(t) == -1 ||
	    pw_thrift_struct_end(t) == -1 ||
	    pw_thrift_struct_end(t) == -1 ? -1 : 0;
}

static int
write_schema_element(struct pw_thrift_w *t, int phys, int rep, const char *name,
    int children, int converted, int logical)
{
	if (pw_thrift_struct_begin(t) == -1)
		return -1;
	if (phys >= 0 && pw_thrift_field_i32(t, 1, phys) == -1)
		return -1;
	if (rep >= 0 && pw_thrift_field_i32(t, 3, rep) == -1)
		return -1;
	if (pw_thrift_field_string(t, 4, name) == -1)
		return -1;
	if (children >= 0 && pw_thrift_field_i32(t, 5, children) == -1)
		return -1;
	if (converted >= 0 && pw_thrift_field_i32(t, 6, converted) == -1)
		return -1;
	if (logical == 8) {
		/* TIMESTAMP(isAdjustedToUTC = true, unit = MICROS) */
		if (pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 10) == -1 ||
		    pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 8) == -1 ||
		    pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_bool(t, 1, true) == -1 ||
		    pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 2) == -1 ||
		    pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_field_begin(t, PW_THRIFT_STRUCT, 2) == -1 ||
		    pw_thrift_struct_begin(t) == -1 ||
		    pw_thrift_struct_end(t) == -1 ||
		    pw_thrift_struct_end(t) == -1 ||
		    pw_thrift_struct_end(t) == -1 ||
		    pw_thrift_struct_end(t) == -1)
			return -1;
	} else if (logical > 0 && write_logical(t, logical) == -1) {
		return -1;
	}
	return pw_thrift_struct_end(t);
}

static int
write_footer(struct pw_pq_writer *w, struct pw_buf *b)
{
	struct pw_thrift_w t;
	size_t nelem = 1;

	for (size_t i = 0; i < w->ncols; i++)
		nelem += w->cols[i].type == PW_PQ_STRING_LIST ? 3 : 1;

	pw_thrift_w_init(&t, b);
	if (pw_thrift_struct_begin(&t) == -1 ||
	    pw_thrift_field_i32(&t, 1, 1) == -1 ||
	    pw_thrift_field_begin(&t, PW_THRIFT_LIST, 2) == -1 ||
	    pw_thrift_list_begin(&t, PW_THRIFT_STRUCT, nelem) == -1 ||
	    write_schema_element(&t, -1, -1, "schema", (int)w->ncols, -1, 0) == -1)
		return -1;
	for (size_t i = 0; i < w->ncols; i++) {
		const struct col *c = &w->cols[i];
		int rep = c->required ? REP_REQUIRED : REP_OPTIONAL, rc;

		switch (c->type) {
		case PW_PQ_STRING:
			rc = write_schema_element(&t, T_BYTE_ARRAY, rep, c->name, -1, CT_UTF8, 1);
			break;
		case PW_PQ_DATE:
			rc = write_schema_element(&t, T_INT32, rep, c->name, -1, CT_DATE, 6);
			break;
		case PW_PQ_TIMESTAMP:
			rc = write_schema_element(&t, T_INT64, rep, c->name, -1,
			    CT_TIMESTAMP_MICROS, 8);
			break;
		case PW_PQ_STRING_LIST:
			rc = write_schema_element(&t, -1, rep, c->name, 1, CT_LIST, 3);
			if (rc == 0)
				rc = write_schema_element(&t, -1, REP_REPEATED, "list", 1, -1, 0);
			if (rc == 0)
				rc = write_schema_element(&t, T_BYTE_ARRAY, REP_OPTIONAL,
				    "element", -1, CT_UTF8, 1);
			break;
		default:
			rc = write_schema_element(&t, c->phys, rep, c->name, -1, -1, 0);
			break;
		}
		if (rc == -1)
			return -1;
	}
	if (pw_thrift_field_i64(&t, 3, (int64_t)w->rows) == -1 ||
	    pw_thrift_field_begin(&t, PW_THRIFT_LIST, 4) == -1 ||
	    pw_thrift_list_begin(&t, PW_THRIFT_STRUCT, w->nrgs) == -1 ||
	    pw_buf_append(b, w->rgs.data, w->rgs.len) == -1 ||
	    pw_thrift_field_string(&t, 6, w->created_by) == -1 ||
	    pw_thrift_field_begin(&t, PW_THRIFT_LIST, 7) == -1 ||
	    pw_thrift_list_begin(&t, PW_THRIFT_STRUCT, w->ncols) == -1)
		return -1;
	/* column_orders: TYPE_ORDER for every leaf, which min/max require. */
	for (size_t i = 0; i < w->ncols; i++)
		if (pw_thrift_struct_begin(&t) == -1 ||
		    pw_thrift_field_begin(&t, PW_THRIFT_STRUCT, 1) == -1 ||
		    pw_thrift_struct_begin(&t) == -1 ||
		    pw_thrift_struct_end(&t) == -1 ||
		    pw_thrift_struct_end(&t) == -1)
			return -1;
	return pw_thrift_struct_end(&t);
}

/*
 * A closed file's row group buffers go back at once: it may wait a while
 * for its commit, and only its statistics are still needed.
 */
static void
release_buffers(struct pw_pq_writer *w)
{
	for (size_t i = 0; i < w->ncols; i++)
		col_release(&w->cols[i]);
	writer_release(w);
}

/* The file-level statistics handed back to the caller. */

static void
fill_file_stats(struct pw_pq_writer *w)
{
	w->out = pw_xcalloc(w->ncols, sizeof *w->out);
	for (size_t i = 0; i < w->ncols; i++) {
		struct col *c = &w->cols[i];
		struct pw_pq_col_stats *o = &w->out[i];
		const struct stats *s = &c->fs;

		o->null_count = s->nulls;
		o->has_min_max = stat_bytes(w, c, s, &c->out_min, &c->out_max,
		    &o->min_exact, &o->max_exact);
		if (!o->has_min_max)
			continue;
		switch (c->type) {
		case PW_PQ_STRING:
		case PW_PQ_STRING_LIST:
			o->min_s.p = (const char *)c->out_min.data;
			o->min_s.n = c->out_min.len;
			o->max_s.p = (const char *)c->out_max.data;
			o->max_s.n = c->out_max.len;
			break;
		case PW_PQ_DOUBLE:
			o->min.d = s->dmin == 0 ? -0.0 : s->dmin;
			o->max.d = s->dmax == 0 ? 0.0 : s->dmax;
			break;
		case PW_PQ_BOOLEAN:
			o->min.b = s->imin != 0;
			o->max.b = s->imax != 0;
			break;
		default:
			o->min.i = s->imin;
			o->max.i = s->imax;
			break;
		}
	}
	w->file_stats.num_rows = w->rows;
	w->file_stats.file_bytes = w->offset;
	w->file_stats.ncolumns = w->ncols;
	w->file_stats.columns = w->out;
}

int
pw_pq_close(struct pw_pq_writer *w, const struct pw_pq_file_stats **stats,
    struct pw_error *err)
{
	unsigned char tail[8];

	if (writer_usable(w, err) == -1)
		return -1;
	if (flush_row_group(w, err) == -1)
		return -1;
	pw_buf_reset(&w->page);
	if (write_footer(w, &w->page) == -1 || w->page.len > UINT32_MAX) {
		pw_error_set(err, "cannot encode the Parquet footer");
		w->failed = true;
		return -1;
	}
	put_le32(tail, (uint32_t)w->page.len);
	memcpy(tail + 4, "PAR1", 4);
	if (emit(w, w->page.data, w->page.len, err) == -1 ||
	    emit(w, tail, 8, err) == -1)
		return -1;
	w->closed = true;
	fill_file_stats(w);
	release_buffers(w);
	if (stats != NULL)
		*stats = &w->file_stats;
	return 0;
}
