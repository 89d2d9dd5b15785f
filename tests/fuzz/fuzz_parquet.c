/*
 * libFuzzer target for the streaming Parquet writer (src/parquet.c).
 *
 * The input bytes are decoded (see "Input format" below) into a schema of
 * 1..12 columns, writer options and a sequence of rows, some of them
 * invalid on purpose.  Then:
 *
 *  A  the valid rows alone are written; the file is read back by an
 *     independent reader (pqcheck.c) and compared value by value, level
 *     by level, with what was accepted; the file and chunk statistics are
 *     compared with statistics computed here; after each accepted row the
 *     open row group (held bytes less the footer entries of the row groups
 *     written, measured in the file) is within memory_limit and below
 *     row_group_bytes.
 *  B  all rows, the invalid ones interleaved, are written: every invalid
 *     row is refused with 'column "<name>", row <n>: ...', every valid one
 *     behaves as in A, and the bytes and statistics are identical to A's.
 *  D  if A refused rows for the memory limit, A is written again without
 *     them: a refused row must change nothing, so the bytes are identical.
 *  C  B again with a sink that fails after K bytes (K from the input): the
 *     writer hands on the sink's reason, never calls the sink again, every
 *     later call fails, and what got out is a prefix of A's file.
 *  O  (some inputs) an invalid schema or option: pw_pq_open() refuses it
 *     without touching the sink.
 *
 * Any difference aborts with "fuzz oracle failed: ..." on stderr.
 * PW_FUZZ_SKIP=held,refusal turns the held-bytes check or run D off (to
 * keep fuzzing past a known bug; page-slack lets the open row group pass
 * memory_limit by what closing a page adds, 128 bytes a column);
 * PW_FUZZ_VERBOSE=1 prints each input.
 *
 * Input format (bytes past the end read as 0):
 *   u8  head: bits 0-3 ncols - 1 (mod 12); bit 4 defaults (codec only);
 *       bits 5-7 == 7: an invalid open (O) chosen by the next byte
 *   u8  codec (bits 0-1: none, snappy, gzip, zstd), level (bits 2-3)
 *   per column: u8 type (bits 0-2), required (bit 3), name style (bits 4-5)
 *   unless defaults: 6 options (page_bytes, row_group_bytes,
 *       row_group_rows, dictionary_bytes, stats_bytes, memory_limit), each
 *       a selector u8 and a u16 parameter
 *   u16 K: the sink of run C fails after K * (file size + 1) / 65536 bytes
 *   rows until the input ends: u8 r; r >= 0xF0 repeats the last row
 *       (r - 0xEF times, or 1 + u8 times for 0xFF); 0xE0 <= r < 0xF0
 *       repeats it 2^(r & 7) (x 3 if r & 8) times with "#<n>" appended to
 *       every string; otherwise one value per column (see gen_value()).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "portada/parquet.h"

#define MAX_COLS	12
#define MAX_ROWS	4000		/* rows in the sequence, repeats included */
#define MAX_ITEMS	150000		/* list items, all rows: enough for a page of 2^17 levels */
#define MAX_STR_BYTES	(2u << 20)	/* string bytes made, all rows */

/* ---- Failing loudly ---- */

static const char *current_summary;

_Noreturn void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz oracle failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (current_summary != NULL)
		fprintf(stderr, "input: %s\n", current_summary);
	fflush(stderr);
	abort();
}

static bool skip_held, skip_refusal, page_slack, verbose;

/* PW_FUZZ_SKIP=page-slack: what a closed page may add beyond the raw bytes
 * a row was admitted with (page header, level lengths, codec framing). */
#define PAGE_SLACK	128

static void
read_env(void)
{
	static bool done;
	const char *s;

	if (done)
		return;
	done = true;
	s = getenv("PW_FUZZ_SKIP");
	if (s != NULL) {
		skip_held = strstr(s, "held") != NULL;
		skip_refusal = strstr(s, "refusal") != NULL;
		page_slack = strstr(s, "page-slack") != NULL;
	}
	s = getenv("PW_FUZZ_VERBOSE");
	verbose = s != NULL && *s != '\0' && *s != '0';
}

/* ---- Memory for one input ---- */

struct arena {
	void	**p;
	size_t	  n, cap;
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->p = realloc(a->p, a->cap * sizeof *a->p);
		if (a->p == NULL)
			abort();
	}
	a->p[a->n++] = p;
	return p;
}

static void
arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
	memset(a, 0, sizeof *a);
}

/* ---- Reading the input ---- */

struct in {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t
u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t
u16(struct in *in)
{
	uint16_t lo = u8(in);

	return (uint16_t)(lo | (uint16_t)u8(in) << 8);
}

static uint32_t
u32(struct in *in)
{
	uint32_t lo = u16(in);

	return lo | (uint32_t)u16(in) << 16;
}

static uint64_t
u64(struct in *in)
{
	uint64_t lo = u32(in);

	return lo | (uint64_t)u32(in) << 32;
}

/* ---- What one input describes ---- */

struct row {
	struct pw_pq_value	*v;
	int			 bad;	/* first invalid column, or -1 */
};

struct spec {
	struct arena		 a;
	size_t			 ncols;
	struct pw_pq_column	 cols[MAX_COLS];
	char			 names[MAX_COLS][64];
	struct pw_pq_options	 opt;
	size_t			 limit;		/* the memory limit in force */
	uint16_t		 k;
	struct row		*rows;		/* the sequence, repeats share v */
	size_t			 nrows, cap;
	size_t			 items, str_bytes, nbad;
	unsigned long		 bumps;
	bool			 null_opt;	/* open with opt NULL: the same defaults */
	char			 summary[512];
};

/* Code points at the edges of UTF-8's ranges and of the successor rules. */
static const uint32_t code_points[] = {
	'a', 'b', 'z', 'A', '0', ' ', 0x00, 0x01, 0x7E, 0x7F, 0x80, 0xE9, 0x7FF, 0x800,
	0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0xFFFFF,
	0x10FFFE, 0x10FFFF, 0x10FFFF, 0x10FFFF, 0x10FFFF,
};
#define NCP (sizeof code_points / sizeof code_points[0])

/* Strings that repeat (dictionary hits) and sit on sort-order edges. */
static const struct { const char *s; size_t n; } pool[] = {
	{ "", 0 }, { "a", 1 }, { "b", 1 }, { "ab", 2 }, { "abc", 3 }, { "zzzz", 4 },
	{ "\xc3\xa9", 2 }, { "a\xc3\xa9", 3 }, { "\xed\x9f\xbf", 3 }, { "\xee\x80\x80", 3 },
	{ "\xf4\x8f\xbf\xbf", 4 }, { "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf", 8 },
	{ "x\xf4\x8f\xbf\xbf", 5 }, { "\x7f\x7f\x7f", 3 }, { "a\0b", 3 },
	{ "the quick brown fox jumps over the lazy dog", 43 },
};
#define NPOOL (sizeof pool / sizeof pool[0])

/* Not UTF-8: truncated, overlong, surrogate, too big, stray bytes. */
static const struct { const char *s; size_t n; } bad_utf8[] = {
	{ "\x80", 1 }, { "\xbf", 1 }, { "\xc0\x80", 2 }, { "\xc1\xbf", 2 }, { "\xc3", 1 },
	{ "\xe0\x80\x80", 3 }, { "\xe0\x9f\xbf", 3 }, { "\xed\xa0\x80", 3 },
	{ "\xed\xbf\xbf", 3 }, { "\xe2\x82", 2 }, { "\xf0\x80\x80\x80", 4 },
	{ "\xf0\x8f\xbf\xbf", 4 }, { "\xf4\x90\x80\x80", 4 }, { "\xf5\x80\x80\x80", 4 },
	{ "\xf8\x88\x80\x80\x80", 5 }, { "\xfe", 1 }, { "\xff", 1 }, { "\xf0\x9f\x98", 3 },
};
#define NBAD (sizeof bad_utf8 / sizeof bad_utf8[0])

static size_t
put_cp(uint32_t cp, char *o)
{
	unsigned char *u = (unsigned char *)o;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	u[0] = (unsigned char)(0xF0 | cp >> 18);
	u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	u[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A code point from one byte: the table, or a scalar value from two more. */
static uint32_t
gen_cp(struct in *in)
{
	uint8_t b = u8(in);
	uint32_t cp;

	if (b < 0xC0)
		return code_points[b % NCP];
	cp = (uint32_t)(b & 0x1F) << 16 | u16(in);
	cp %= 0x110000;
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp += 0x800;
	return cp;
}

/*
 * A string, valid or not; *valid says which.  For a list item, a NULL
 * pointer is a null item (valid); for a string value it is an empty
 * string when n == 0 and an error otherwise.
 */
static struct pw_pq_str
gen_string(struct spec *sp, struct in *in, bool *valid)
{
	uint8_t sel = u8(in);
	unsigned mode = sel & 7, param = sel >> 3;
	struct pw_pq_str s = { "", 0 };
	char *b;
	size_t n, len;

	*valid = true;
	switch (mode) {
	case 0:		/* empty, but a real pointer */
		break;
	case 1:		/* NULL, 0 */
		s.p = NULL;
		break;
	case 2:		/* raw bytes from the input, UTF-8 or not */
		n = param;
		if (n > in->n)
			n = in->n;
		b = arena_alloc(&sp->a, n);
		memcpy(b, in->p, n);
		in->p += n;
		in->n -= n;
		s.p = b, s.n = n;
		*valid = fz_utf8_valid(b, n);
		break;
	case 3:		/* characters from the edge table */
		b = arena_alloc(&sp->a, 4 * (size_t)param);
		for (n = 0; param-- > 0;)
			n += put_cp(gen_cp(in), b + n);
		s.p = b, s.n = n;
		break;
	case 4: {	/* long: a character repeated, another at the end */
		uint32_t cp = gen_cp(in), last = gen_cp(in);
		char one[4];
		size_t w = put_cp(cp, one);

		len = (size_t)32 << (param & 7);	/* 32 .. 4096 characters */
		if (param & 8)
			len += u8(in);
		if (sp->str_bytes + len * 4 + 4 > MAX_STR_BYTES)
			len = 1;
		b = arena_alloc(&sp->a, len * w + 4);
		for (n = 0; n < len * w; n += w)
			memcpy(b + n, one, w);
		n += put_cp(last, b + n);
		s.p = b, s.n = n;
		break;
	}
	case 5:		/* from the pool */
		s.p = pool[param % NPOOL].s;
		s.n = pool[param % NPOOL].n;
		break;
	case 6: {	/* a pool string with a bad sequence at some place */
		size_t at, idx = u8(in) % NPOOL, pn = pool[idx].n, bn;
		const char *ps = pool[idx].s;

		bn = bad_utf8[param % NBAD].n;
		at = pn == 0 ? 0 : u8(in) % (pn + 1);
		b = arena_alloc(&sp->a, pn + bn);
		memcpy(b, ps, at);
		memcpy(b + at, bad_utf8[param % NBAD].s, bn);
		memcpy(b + at + bn, ps + at, pn - at);
		s.p = b, s.n = pn + bn;
		*valid = fz_utf8_valid(b, s.n);	/* a cut into a character is still bad */
		break;
	}
	default:	/* NULL with a length */
		s.p = NULL;
		s.n = 1 + param;
		*valid = false;
		break;
	}
	sp->str_bytes += s.n;
	return s;
}

static const struct pw_pq_str no_items = { "", 0 };

static const int64_t ints[] = {
	0, 1, -1, 2, -2, 127, -128, 1000, -1000, 19000, -719162, 2932896,
	INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1,
	INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 1700000000000000,
	-62135596800000000, 253402300799999999, UINT32_MAX,
};
#define NINTS (sizeof ints / sizeof ints[0])

static double
gen_double(struct in *in)
{
	uint8_t sel = u8(in);
	uint64_t u;
	double d;

	switch (sel % 20) {
	case 0: return 0.0;
	case 1: return -0.0;
	case 2: return 1.0;
	case 3: return -1.0;
	case 4: return INFINITY;
	case 5: return -INFINITY;
	case 6: return NAN;
	case 7: return -NAN;
	case 8: return DBL_MIN;
	case 9: return DBL_MAX;
	case 10: return -DBL_MAX;
	case 11: return 4.9406564584124654e-324;
	case 12: return -4.9406564584124654e-324;
	case 13: return (double)(int8_t)u8(in);
	case 14: return (double)(int8_t)u8(in) / 8.0;
	case 15:	/* a NaN with a payload */
		u = 0x7FF0000000000000ull | (u64(in) & 0x000FFFFFFFFFFFFFull) | 1;
		memcpy(&d, &u, 8);
		return d;
	default:
		u = u64(in);
		memcpy(&d, &u, 8);
		return d;
	}
}

/* One value for column c; *valid is false if the writer must refuse it. */
static struct pw_pq_value
gen_value(struct spec *sp, const struct pw_pq_column *c, struct in *in, bool *valid)
{
	static const enum pw_pq_kind kinds[] = { PW_PQ_V_STRING, PW_PQ_V_INT,
		PW_PQ_V_DOUBLE, PW_PQ_V_BOOL, PW_PQ_V_LIST, (enum pw_pq_kind)7 };
	uint8_t sel = u8(in);
	struct pw_pq_value v;
	enum pw_pq_kind want;

	*valid = true;
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
	if (sel < 16) {
		*valid = !c->required;
		return pw_pq_null();
	}
	if (sel < 24) {		/* the wrong kind of value */
		memset(&v, 0, sizeof v);
		v.kind = kinds[(sel - 16) % 6];
		if (v.kind == want)
			v.kind = (enum pw_pq_kind)7;
		if (v.kind == PW_PQ_V_STRING)
			v.u.s = (struct pw_pq_str){ "1", 1 };
		*valid = false;
		return v;
	}
	switch (c->type) {
	case PW_PQ_STRING: {
		struct pw_pq_str s = gen_string(sp, in, valid);

		return pw_pq_string(s.p, s.n);
	}
	case PW_PQ_STRING_LIST: {
		uint8_t h = u8(in);
		size_t n = h & 15;
		struct pw_pq_str *items;

		if ((h >> 4) == 15)
			n = 16 + u8(in);
		if (sp->items + n > MAX_ITEMS)
			n = 0;
		if (n == 0)
			return pw_pq_list((h >> 4) & 1 ? NULL : &no_items, 0);
		if ((h >> 4) == 14) {
			*valid = false;
			return pw_pq_list(NULL, n);
		}
		sp->items += n;
		items = arena_alloc(&sp->a, n * sizeof *items);
		for (size_t i = 0; i < n; i++) {
			bool ok;

			items[i] = gen_string(sp, in, &ok);
			if (items[i].p == NULL)
				ok = true;	/* a null item, whatever n says */
			*valid = *valid && ok;
		}
		return pw_pq_list(items, n);
	}
	case PW_PQ_DOUBLE:
		return pw_pq_double(gen_double(in));
	case PW_PQ_BOOLEAN:
		return pw_pq_bool(sel & 1);
	default: {
		int64_t i;

		switch (sel % 5) {
		case 0:
		case 1:
			i = ints[u8(in) % NINTS];
			break;
		case 2:
			i = (int8_t)u8(in);
			break;
		case 3:
			i = (int32_t)u32(in);
			break;
		default:
			i = (int64_t)u64(in);
			break;
		}
		if ((c->type == PW_PQ_INTEGER || c->type == PW_PQ_DATE) &&
		    (i < INT32_MIN || i > INT32_MAX))
			*valid = false;
		return pw_pq_int(i);
	}
	}
}

/*
 * The first value the writer must refuse, or -1: the header's rules,
 * checked here without the generator's help.
 */
static int
first_bad(const struct spec *sp, const struct pw_pq_value *v)
{
	for (size_t i = 0; i < sp->ncols; i++) {
		const struct pw_pq_column *c = &sp->cols[i];
		enum pw_pq_kind want = c->type == PW_PQ_STRING ? PW_PQ_V_STRING :
		    c->type == PW_PQ_STRING_LIST ? PW_PQ_V_LIST :
		    c->type == PW_PQ_DOUBLE ? PW_PQ_V_DOUBLE :
		    c->type == PW_PQ_BOOLEAN ? PW_PQ_V_BOOL : PW_PQ_V_INT;

		if (v[i].kind == PW_PQ_V_NULL) {
			if (c->required)
				return (int)i;
			continue;
		}
		if (v[i].kind != want)
			return (int)i;
		switch (c->type) {
		case PW_PQ_STRING:
			if ((v[i].u.s.p == NULL && v[i].u.s.n > 0) ||
			    !fz_utf8_valid(v[i].u.s.p, v[i].u.s.n))
				return (int)i;
			break;
		case PW_PQ_STRING_LIST:
			if (v[i].u.list.items == NULL && v[i].u.list.n > 0)
				return (int)i;
			for (size_t k = 0; k < v[i].u.list.n; k++) {
				const struct pw_pq_str *it = &v[i].u.list.items[k];

				if (it->p != NULL && !fz_utf8_valid(it->p, it->n))
					return (int)i;
			}
			break;
		case PW_PQ_INTEGER:
		case PW_PQ_DATE:
			if (v[i].u.i < INT32_MIN || v[i].u.i > INT32_MAX)
				return (int)i;
			break;
		default:
			break;
		}
	}
	return -1;
}

/* s with "#<n>" appended (NULL stays NULL: a null item or a bad string). */
static struct pw_pq_str
bump_string(struct spec *sp, struct pw_pq_str s, unsigned long n)
{
	char num[24], *b;
	int len;

	if (s.p == NULL)
		return s;
	len = snprintf(num, sizeof num, "#%lu", n);
	b = arena_alloc(&sp->a, s.n + (size_t)len);
	if (s.n > 0)
		memcpy(b, s.p, s.n);
	memcpy(b + s.n, num, (size_t)len);
	sp->str_bytes += s.n + (size_t)len;
	return (struct pw_pq_str){ b, s.n + (size_t)len };
}

/* A copy of row v whose strings all end in a new number: distinct strings
 * in bulk, for dictionaries that grow and overflow. */
static struct pw_pq_value *
bump_row(struct spec *sp, const struct pw_pq_value *v, unsigned long n)
{
	struct pw_pq_value *b = arena_alloc(&sp->a, sp->ncols * sizeof *b);

	memcpy(b, v, sp->ncols * sizeof *b);
	for (size_t i = 0; i < sp->ncols; i++) {
		if (b[i].kind == PW_PQ_V_STRING) {
			b[i].u.s = bump_string(sp, b[i].u.s, n);
		} else if (b[i].kind == PW_PQ_V_LIST && b[i].u.list.items != NULL &&
		    b[i].u.list.n > 0) {
			struct pw_pq_str *it = arena_alloc(&sp->a, b[i].u.list.n * sizeof *it);

			for (size_t k = 0; k < b[i].u.list.n; k++)
				it[k] = bump_string(sp, b[i].u.list.items[k], n);
			b[i].u.list.items = it;
			sp->items += b[i].u.list.n;
		}
	}
	return b;
}

static void
push_row(struct spec *sp, struct pw_pq_value *v, int bad)
{
	if (sp->nrows == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 64;
		sp->rows = realloc(sp->rows, sp->cap * sizeof *sp->rows);
		if (sp->rows == NULL)
			abort();
	}
	sp->rows[sp->nrows].v = v;
	sp->rows[sp->nrows].bad = bad;
	sp->nrows++;
	sp->nbad += bad >= 0;
}

static size_t
option(struct in *in, size_t dflt, const size_t *choices, size_t nchoices)
{
	uint8_t sel = u8(in);
	uint16_t param = u16(in);

	switch (sel % 4) {
	case 0:
		return dflt;
	case 1:
		return choices[param % nchoices];
	case 2:
		return 1 + param % 256;
	default:
		return 1 + param;
	}
}

static void
decode(struct spec *sp, struct in *in, bool *defaults)
{
	static const size_t pages[] = { 1, 2, 3, 7, 8, 64, 100, 1000, 4096 };
	static const size_t groups[] = { 1, 2, 50, 100, 300, 1000, 5000, 20000 };
	static const size_t grows[] = { 0, 1, 2, 3, 7, 100 };
	static const size_t dicts[] = { 0, 1, 4, 5, 8, 16, 40, 100, 1000 };
	static const size_t stats[] = { 1, 2, 3, 4, 5, 6, 8, 64 };
	static const size_t limits[] = { 0, 1, 64, 512, 4096, 8192, 12000, 65536, 1u << 20 };
	static const enum pw_pq_codec codecs[] = { PW_PQ_UNCOMPRESSED, PW_PQ_SNAPPY,
		PW_PQ_GZIP, PW_PQ_ZSTD };
	uint8_t head = u8(in), cb = u8(in);
	unsigned level = cb >> 2 & 3;

	sp->ncols = 1 + (head & 15) % MAX_COLS;
	*defaults = head & 16;
	pw_pq_options_default(&sp->opt);
	sp->opt.codec = codecs[cb & 3];
	if (sp->opt.codec == PW_PQ_ZSTD)
		sp->opt.level = level == 3 ? 9 : (int)level;
	else if (sp->opt.codec == PW_PQ_GZIP)
		sp->opt.level = level == 3 ? 9 : (int)level;
	for (size_t i = 0; i < sp->ncols; i++) {
		uint8_t t = u8(in);

		sp->cols[i].type = (enum pw_pq_type)(t & 7);
		sp->cols[i].required = t & 8;
		switch (t >> 4 & 3) {
		case 0:
			snprintf(sp->names[i], sizeof sp->names[i], "c%zu", i);
			break;
		case 1:
			snprintf(sp->names[i], sizeof sp->names[i], "col\xc3\xa9 %zu", i);
			break;
		case 2:
			snprintf(sp->names[i], sizeof sp->names[i], "%zu \xf0\x9f\x98\x80 \"q\"", i);
			break;
		default:
			snprintf(sp->names[i], sizeof sp->names[i],
			    "a_rather_long_column_name_number_%zu", i);
			break;
		}
		sp->cols[i].name = sp->names[i];
	}
	if (!*defaults) {
		sp->opt.page_bytes = option(in, sp->opt.page_bytes, pages, 9);
		sp->opt.row_group_bytes = option(in, sp->opt.row_group_bytes, groups, 8);
		sp->opt.row_group_rows = option(in, 0, grows, 6);
		sp->opt.dictionary_bytes = option(in, sp->opt.dictionary_bytes, dicts, 9);
		sp->opt.stats_bytes = option(in, sp->opt.stats_bytes, stats, 8);
		sp->opt.memory_limit = option(in, 0, limits, 9);
	}
	sp->null_opt = *defaults && sp->opt.codec == PW_PQ_ZSTD && sp->opt.level == 0;
	sp->limit = sp->opt.memory_limit;
	if (sp->limit == 0)
		sp->limit = sp->opt.row_group_bytes > SIZE_MAX / 4 ? SIZE_MAX / 4 :
		    sp->opt.row_group_bytes * 4;
	sp->k = u16(in);
}

static void
generate_rows(struct spec *sp, struct in *in)
{
	struct pw_pq_value *last = NULL;
	int last_bad = -1;
	size_t last_items = 0, last_bytes = 0;

	while (in->n > 0 && sp->nrows < MAX_ROWS) {
		uint8_t r = u8(in);
		size_t items0 = sp->items, bytes0 = sp->str_bytes;

		if (r >= 0xE0 && r < 0xF0) {
			size_t times = ((size_t)1 << (r & 7)) * (r & 8 ? 3 : 1);

			if (last == NULL)
				continue;
			for (size_t t = 0; t < times && sp->nrows < MAX_ROWS &&
			    sp->items + last_items <= MAX_ITEMS &&
			    sp->str_bytes + 2 * last_bytes + 16 * sp->ncols <= MAX_STR_BYTES; t++) {
				struct pw_pq_value *b = bump_row(sp, last, ++sp->bumps);

				push_row(sp, b, first_bad(sp, b));
			}
			continue;
		}
		if (r >= 0xF0) {
			size_t times = r == 0xFF ? 1u + u8(in) : (size_t)r - 0xEF;

			if (last == NULL)
				continue;
			/* Repeats count against the same budgets as new rows. */
			for (size_t t = 0; t < times && sp->nrows < MAX_ROWS &&
			    sp->items + last_items <= MAX_ITEMS &&
			    sp->str_bytes + last_bytes <= MAX_STR_BYTES; t++) {
				push_row(sp, last, last_bad);
				sp->items += last_items;
				sp->str_bytes += last_bytes;
			}
			continue;
		}
		last = arena_alloc(&sp->a, sp->ncols * sizeof *last);
		last_bad = -1;
		for (size_t i = 0; i < sp->ncols; i++) {
			bool ok;

			last[i] = gen_value(sp, &sp->cols[i], in, &ok);
			if (!ok && last_bad < 0)
				last_bad = (int)i;
		}
		if (first_bad(sp, last) != last_bad)
			fz_fail("harness: the generator says column %d is the first bad one, "
			    "the validator %d", last_bad, first_bad(sp, last));
		push_row(sp, last, last_bad);
		last_items = sp->items - items0;
		last_bytes = sp->str_bytes - bytes0;
	}
}

static void
summarise(struct spec *sp, bool defaults)
{
	int n = snprintf(sp->summary, sizeof sp->summary,
	    "%zu columns [", sp->ncols);

	for (size_t i = 0; i < sp->ncols && n > 0 && (size_t)n < sizeof sp->summary; i++)
		n += snprintf(sp->summary + n, sizeof sp->summary - (size_t)n, "%s%d%s",
		    i ? " " : "", (int)sp->cols[i].type, sp->cols[i].required ? "R" : "");
	if (n > 0 && (size_t)n < sizeof sp->summary)
		snprintf(sp->summary + n, sizeof sp->summary - (size_t)n,
		    "], %s level %d%s, page_bytes %zu, row_group_bytes %zu, "
		    "row_group_rows %" PRIu64 ", dictionary_bytes %zu, stats_bytes %zu, "
		    "memory_limit %zu (in force %zu), %zu rows (%zu invalid), sink K %u",
		    pw_pq_codec_name(sp->opt.codec), sp->opt.level, defaults ? " (defaults)" : "",
		    sp->opt.page_bytes, sp->opt.row_group_bytes, sp->opt.row_group_rows,
		    sp->opt.dictionary_bytes, sp->opt.stats_bytes, sp->opt.memory_limit,
		    sp->limit, sp->nrows, sp->nbad, sp->k);
	current_summary = sp->summary;
}

/* ---- The sink ---- */

struct sink {
	uint8_t	*p;
	size_t	 n, cap;
	bool	 can_fail;
	size_t	 fail_at;
	bool	 failed;
};

static const char sink_reason[] = "fuzz sink: no space left";

static int
sink_fn(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct sink *s = ctx;

	if (s->failed)
		fz_fail("the writer called its sink again after it failed");
	if (n == 0)
		fz_fail("the sink was given 0 bytes");
	if (s->can_fail && s->n + n > s->fail_at) {
		s->failed = true;
		pw_error_set(err, "%s", sink_reason);
		return -1;
	}
	if (s->n + n > s->cap) {
		s->cap = s->n + n > 2 * s->cap ? s->n + n : 2 * s->cap;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL)
			abort();
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	return 0;
}

/* ---- Checks shared by the runs ---- */

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A refused invalid row: 'column "<name>", row <n>: ...', nothing accepted. */
static void
check_refusal(const struct spec *sp, struct pw_pq_writer *w, const struct row *r,
    int rc, const struct pw_error *err, uint64_t accepted, size_t at, const char *run)
{
	char prefix[128];

	if (rc != -1)
		fz_fail("run %s, row %zu: an invalid row (column %d) was accepted", run, at,
		    r->bad);
	snprintf(prefix, sizeof prefix, "column \"%s\", row %" PRIu64 ": ",
	    sp->cols[r->bad].name, accepted);
	if (!starts_with(err->msg, prefix))
		fz_fail("run %s, row %zu: refusal \"%s\" does not start with '%s'", run, at,
		    err->msg, prefix);
	if (pw_pq_rows(w) != accepted)
		fz_fail("run %s, row %zu: pw_pq_rows() is %" PRIu64 " after a refusal, not %" PRIu64,
		    run, at, pw_pq_rows(w), accepted);
}

static bool
is_memory_refusal(const struct pw_error *err, uint64_t accepted)
{
	char prefix[64];

	snprintf(prefix, sizeof prefix, "row %" PRIu64 ": ", accepted);
	return starts_with(err->msg, prefix) && strstr(err->msg, "memory limit") != NULL;
}

static struct pw_pq_writer *
open_writer(struct spec *sp, struct sink *s, const char *run)
{
	struct pw_error err = { "" };
	struct pw_pq_writer *w = pw_pq_open(sp->cols, sp->ncols, sp->null_opt ? NULL : &sp->opt,
	    sink_fn, s, &err);

	if (w == NULL && !(s->can_fail && s->failed))
		fz_fail("run %s: pw_pq_open failed: %s", run, err.msg);
	if (w == NULL && strstr(err.msg, sink_reason) == NULL)
		fz_fail("run %s: pw_pq_open lost the sink's reason: \"%s\"", run, err.msg);
	if (w != NULL && (s->n != 4 || memcmp(s->p, "PAR1", 4) != 0))
		fz_fail("run %s: pw_pq_open did not write PAR1", run);
	return w;
}

static void
copy_stats(const struct pw_pq_file_stats *st, struct pw_pq_file_stats *out,
    struct pw_pq_col_stats *cols, struct arena *a)
{
	*out = *st;
	for (size_t i = 0; i < st->ncolumns; i++) {
		cols[i] = st->columns[i];
		if (cols[i].min_s.n > 0 || cols[i].min_s.p != NULL) {
			char *p = arena_alloc(a, cols[i].min_s.n);

			memcpy(p, cols[i].min_s.p, cols[i].min_s.n);
			cols[i].min_s.p = p;
		}
		if (cols[i].max_s.n > 0 || cols[i].max_s.p != NULL) {
			char *p = arena_alloc(a, cols[i].max_s.n);

			memcpy(p, cols[i].max_s.p, cols[i].max_s.n);
			cols[i].max_s.p = p;
		}
	}
	out->columns = cols;
}

static bool
str_eq(struct pw_pq_str a, struct pw_pq_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static void
same_stats(const struct spec *sp, const struct pw_pq_file_stats *a,
    const struct pw_pq_file_stats *b, const char *run)
{
	if (a->num_rows != b->num_rows || a->file_bytes != b->file_bytes ||
	    a->ncolumns != b->ncolumns)
		fz_fail("run %s: file statistics differ from run A's", run);
	for (size_t i = 0; i < a->ncolumns; i++) {
		const struct pw_pq_col_stats *x = &a->columns[i], *y = &b->columns[i];
		bool same = x->null_count == y->null_count && x->has_min_max == y->has_min_max;

		if (same && x->has_min_max) {
			same = x->min_exact == y->min_exact && x->max_exact == y->max_exact;
			switch (sp->cols[i].type) {
			case PW_PQ_STRING:
			case PW_PQ_STRING_LIST:
				same = same && str_eq(x->min_s, y->min_s) && str_eq(x->max_s, y->max_s);
				break;
			case PW_PQ_DOUBLE:
				same = same && memcmp(&x->min.d, &y->min.d, 8) == 0 &&
				    memcmp(&x->max.d, &y->max.d, 8) == 0;
				break;
			case PW_PQ_BOOLEAN:
				same = same && x->min.b == y->min.b && x->max.b == y->max.b;
				break;
			default:
				same = same && x->min.i == y->min.i && x->max.i == y->max.i;
				break;
			}
		}
		if (!same)
			fz_fail("run %s: statistics of column %zu differ from run A's", run, i);
	}
}

/* (b): the statistics pw_pq_close() returned, against our own. */
static void
check_file_stats(const struct spec *sp, const struct fz_expect *e,
    const struct pw_pq_file_stats *st, const struct sink *s, uint64_t accepted)
{
	if (st == NULL)
		fz_fail("pw_pq_close gave no statistics");
	if (st->num_rows != accepted)
		fz_fail("num_rows %" PRIu64 ", but %" PRIu64 " rows were accepted", st->num_rows,
		    accepted);
	if (st->file_bytes != s->n)
		fz_fail("file_bytes %" PRIu64 ", but the sink got %zu", st->file_bytes, s->n);
	if (st->ncolumns != sp->ncols || st->columns == NULL)
		fz_fail("statistics for %zu columns, not %zu", st->ncolumns, sp->ncols);
	for (size_t i = 0; i < sp->ncols; i++) {
		const struct pw_pq_col_stats *c = &st->columns[i];
		const struct fz_col *fc = &e->cols[i];
		struct fz_stats want;
		bool ok = true;

		fz_stats_compute(fc, 0, fc->nents, sp->opt.stats_bytes, &want);
		if (c->null_count != want.nulls)
			fz_fail("column %zu: null_count %" PRIu64 ", expected %" PRIu64, i,
			    c->null_count, want.nulls);
		if (c->has_min_max != want.has)
			fz_fail("column %zu: has_min_max %d, expected %d", i, c->has_min_max,
			    want.has);
		if (!want.has) {
			fz_stats_free(&want);
			continue;
		}
		switch (fc->type) {
		case PW_PQ_STRING:
		case PW_PQ_STRING_LIST: {
			struct pw_pq_str mn = { (const char *)want.minb, want.minn };
			struct pw_pq_str mx = { (const char *)want.maxb, want.maxn };
			size_t m = c->min_s.n < c->max_s.n ? c->min_s.n : c->max_s.n;
			int r = m ? memcmp(c->min_s.p, c->max_s.p, m) : 0;

			if (r > 0 || (r == 0 && c->min_s.n > c->max_s.n))
				fz_fail("column %zu: string min above max", i);
			if (!fz_utf8_valid(c->min_s.p, c->min_s.n) ||
			    !fz_utf8_valid(c->max_s.p, c->max_s.n))
				fz_fail("column %zu: string min or max is not UTF-8", i);
			if (!str_eq(c->min_s, mn))
				fz_fail("column %zu: min \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu)",
				    i, (int)c->min_s.n, c->min_s.p, c->min_s.n, (int)mn.n, mn.p, mn.n);
			if (!str_eq(c->max_s, mx))
				fz_fail("column %zu: max \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu)",
				    i, (int)c->max_s.n, c->max_s.p, c->max_s.n, (int)mx.n, mx.p, mx.n);
			ok = c->min_exact == want.min_exact && c->max_exact == want.max_exact;
			break;
		}
		case PW_PQ_DOUBLE:
			if (!(c->min.d <= c->max.d))
				fz_fail("column %zu: min %g above max %g", i, c->min.d, c->max.d);
			ok = memcmp(&c->min.d, &want.dmin, 8) == 0 &&
			    memcmp(&c->max.d, &want.dmax, 8) == 0;
			if (!ok)
				fz_fail("column %zu: min/max %a/%a, expected %a/%a", i, c->min.d,
				    c->max.d, want.dmin, want.dmax);
			ok = c->min_exact && c->max_exact;
			break;
		case PW_PQ_BOOLEAN:
			ok = c->min.b == (want.imin != 0) && c->max.b == (want.imax != 0) &&
			    c->min.b <= c->max.b && c->min_exact && c->max_exact;
			break;
		default:
			if (c->min.i > c->max.i)
				fz_fail("column %zu: min above max", i);
			if (c->min.i != want.imin || c->max.i != want.imax)
				fz_fail("column %zu: min/max %" PRId64 "/%" PRId64 ", expected %" PRId64
				    "/%" PRId64, i, c->min.i, c->max.i, want.imin, want.imax);
			ok = c->min_exact && c->max_exact;
			break;
		}
		if (!ok)
			fz_fail("column %zu: wrong min/max or exactness flags", i);
		fz_stats_free(&want);
	}
}

/* ---- The expected file ---- */

struct expected {
	struct fz_col	 cols[MAX_COLS];
	struct fz_ent	*ents[MAX_COLS];
	size_t		 cap[MAX_COLS];
	struct fz_expect e;
};

static void
add_ent(struct expected *x, size_t i, unsigned rep, unsigned def, const struct fz_ent *v)
{
	struct fz_col *c = &x->cols[i];

	if (c->nents == x->cap[i]) {
		x->cap[i] = x->cap[i] ? x->cap[i] * 2 : 64;
		x->ents[i] = realloc(x->ents[i], x->cap[i] * sizeof *x->ents[i]);
		if (x->ents[i] == NULL)
			abort();
		c->ents = x->ents[i];
	}
	if (v != NULL)
		x->ents[i][c->nents] = *v;
	else
		memset(&x->ents[i][c->nents], 0, sizeof x->ents[i][0]);
	x->ents[i][c->nents].rep = (uint8_t)rep;
	x->ents[i][c->nents].def = (uint8_t)def;
	c->nents++;
}

static void
expected_init(struct expected *x, const struct spec *sp)
{
	memset(x, 0, sizeof *x);
	for (size_t i = 0; i < sp->ncols; i++) {
		struct fz_col *c = &x->cols[i];

		c->name = sp->cols[i].name;
		c->type = sp->cols[i].type;
		c->required = sp->cols[i].required;
		c->max_rep = c->type == PW_PQ_STRING_LIST;
		c->max_def = (c->required ? 0 : 1) + (c->type == PW_PQ_STRING_LIST ? 2 : 0);
	}
	x->e.ncols = sp->ncols;
	x->e.cols = x->cols;
	x->e.codec = sp->opt.codec;
	x->e.stats_bytes = sp->opt.stats_bytes;
	x->e.dictionary_bytes = sp->opt.dictionary_bytes;
	x->e.row_group_rows = sp->opt.row_group_rows;
}

/* The entries an accepted row adds to each column. */
static void
expected_row(struct expected *x, const struct spec *sp, const struct pw_pq_value *v)
{
	for (size_t i = 0; i < sp->ncols; i++) {
		const struct fz_col *c = &x->cols[i];
		struct fz_ent e;

		memset(&e, 0, sizeof e);
		if (v[i].kind == PW_PQ_V_NULL) {
			add_ent(x, i, 0, 0, NULL);
			continue;
		}
		switch (c->type) {
		case PW_PQ_STRING:
			e.s = v[i].u.s.p;
			e.n = v[i].u.s.n;
			add_ent(x, i, 0, c->max_def, &e);
			break;
		case PW_PQ_STRING_LIST:
			if (v[i].u.list.n == 0)
				add_ent(x, i, 0, c->max_def - 2, NULL);
			for (size_t k = 0; k < v[i].u.list.n; k++) {
				const struct pw_pq_str *it = &v[i].u.list.items[k];

				if (it->p == NULL) {
					add_ent(x, i, k > 0, c->max_def - 1, NULL);
				} else {
					e.s = it->p;
					e.n = it->n;
					add_ent(x, i, k > 0, c->max_def, &e);
				}
			}
			break;
		case PW_PQ_DOUBLE:
			e.d = v[i].u.d;
			add_ent(x, i, 0, c->max_def, &e);
			break;
		case PW_PQ_BOOLEAN:
			e.i = v[i].u.b;
			add_ent(x, i, 0, c->max_def, &e);
			break;
		default:
			e.i = v[i].u.i;
			add_ent(x, i, 0, c->max_def, &e);
			break;
		}
	}
}

static void
expected_free(struct expected *x)
{
	for (size_t i = 0; i < MAX_COLS; i++)
		free(x->ents[i]);
}

/* ---- The runs ---- */

/*
 * After each accepted row of run A: pw_pq_held_bytes() and how many bytes
 * the sink had, to be checked once the file's layout is known.
 */
struct held_log {
	size_t		*row;		/* index in the sequence */
	size_t		*held;
	size_t		*sunk;
	size_t		 n;
};

static void
held_log_add(struct held_log *h, size_t row, size_t held, size_t sunk)
{
	/* One entry per accepted row; the sequence bounds them. */
	h->row[h->n] = row;
	h->held[h->n] = held;
	h->sunk[h->n] = sunk;
	h->n++;
}

/*
 * The header's promises, with the footer entries of the row groups already
 * written (known from the file) taken out of the held bytes: no accepted
 * row takes the open row group past memory_limit, and a row group that
 * reaches row_group_bytes is written out.
 */
static void
check_held(const struct spec *sp, const struct held_log *h, const struct fz_layout *l)
{
	size_t g = 0, footer = 0;

	for (size_t k = 0; k < h->n; k++) {
		size_t open;

		while (g < l->ngroups && l->end[g] <= h->sunk[k])
			footer += l->entry[g++];
		if (h->held[k] < footer)
			fz_fail("run A, row %zu: %zu bytes held, less than the %zu bytes of the "
			    "%zu footer entries", h->row[k], h->held[k], footer, g);
		open = h->held[k] - footer;
		if (skip_held)
			continue;
		if (open > sp->limit && !(page_slack && open - sp->limit <= PAGE_SLACK * sp->ncols))
			fz_fail("run A, row %zu: the open row group holds %zu bytes (%zu held, "
			    "%zu in %zu footer entries), over the memory limit of %zu",
			    h->row[k], open, h->held[k], footer, g, sp->limit);
		if (open >= sp->opt.row_group_bytes)
			fz_fail("run A, row %zu: the open row group holds %zu bytes, "
			    "row_group_bytes is %zu, yet it was not written out",
			    h->row[k], open, sp->opt.row_group_bytes);
	}
}

/*
 * Run A: valid rows only.  outcome[i] is each row's return code (0, or -1
 * for a memory limit refusal).  Returns the accepted rows.
 */
static uint64_t
run_a(struct spec *sp, struct sink *s, int *outcome, struct expected *x,
    struct pw_pq_file_stats *st_copy, struct pw_pq_col_stats *col_copy,
    struct held_log *hl)
{
	struct pw_pq_writer *w = open_writer(sp, s, "A");
	const struct pw_pq_file_stats *st = NULL;
	struct pw_error err;
	uint64_t accepted = 0;

	for (size_t i = 0; i < sp->nrows; i++) {
		const struct row *r = &sp->rows[i];
		int rc;

		if (r->bad >= 0)
			continue;
		err.msg[0] = '\0';
		rc = pw_pq_write_row(w, r->v, &err);
		outcome[i] = rc;
		if (rc == 0) {
			accepted++;
			expected_row(x, sp, r->v);
			held_log_add(hl, i, pw_pq_held_bytes(w), s->n);
		} else if (!is_memory_refusal(&err, accepted)) {
			fz_fail("run A, row %zu: a valid row refused: \"%s\"", i, err.msg);
		}
		if (pw_pq_rows(w) != accepted)
			fz_fail("run A, row %zu: pw_pq_rows() %" PRIu64 ", accepted %" PRIu64, i,
			    pw_pq_rows(w), accepted);
	}
	if (pw_pq_close(w, &st, &err) != 0)
		fz_fail("run A: pw_pq_close failed: %s", err.msg);
	x->e.num_rows = accepted;
	check_file_stats(sp, &x->e, st, s, accepted);
	copy_stats(st, st_copy, col_copy, &sp->a);

	/* A closed writer says so and changes nothing. */
	err.msg[0] = '\0';
	if (sp->nrows > 0 && pw_pq_write_row(w, sp->rows[0].v, &err) != -1)
		fz_fail("run A: a row was accepted after pw_pq_close");
	if (sp->nrows > 0 && err.msg[0] == '\0')
		fz_fail("run A: a row after pw_pq_close failed without a reason");
	if (pw_pq_close(w, &st, &err) != -1 || err.msg[0] == '\0')
		fz_fail("run A: pw_pq_close twice did not fail with a reason");
	if (s->n != st_copy->file_bytes)
		fz_fail("run A: bytes written after pw_pq_close");
	pw_pq_destroy(w);
	return accepted;
}

/* Run B: every row in order; must match run A exactly. */
static void
run_b(struct spec *sp, struct sink *s, const int *outcome, const struct sink *a,
    const struct pw_pq_file_stats *ast)
{
	struct pw_pq_writer *w = open_writer(sp, s, "B");
	const struct pw_pq_file_stats *st = NULL;
	struct pw_error err;
	uint64_t accepted = 0;

	for (size_t i = 0; i < sp->nrows; i++) {
		const struct row *r = &sp->rows[i];
		int rc;

		err.msg[0] = '\0';
		rc = pw_pq_write_row(w, r->v, &err);
		if (r->bad >= 0) {
			check_refusal(sp, w, r, rc, &err, accepted, i, "B");
			continue;
		}
		if (rc != outcome[i])
			fz_fail("run B, row %zu: returned %d, run A %d (\"%s\")", i, rc,
			    outcome[i], err.msg);
		if (rc == 0)
			accepted++;
		else if (!is_memory_refusal(&err, accepted))
			fz_fail("run B, row %zu: refused with \"%s\"", i, err.msg);
	}
	if (pw_pq_close(w, &st, &err) != 0)
		fz_fail("run B: pw_pq_close failed: %s", err.msg);
	if (s->n != a->n || memcmp(s->p, a->p, a->n) != 0)
		fz_fail("run B: %zu bytes differ from run A's %zu: refused rows changed the output",
		    s->n, a->n);
	same_stats(sp, ast, st, "B");
	pw_pq_destroy(w);
}

/* Run D: run A without the rows it refused for the memory limit. */
static void
run_d(struct spec *sp, struct sink *s, const int *outcome, const struct sink *a)
{
	struct pw_pq_writer *w = open_writer(sp, s, "D");
	struct pw_error err;
	uint64_t accepted = 0;

	for (size_t i = 0; i < sp->nrows; i++) {
		if (sp->rows[i].bad >= 0 || outcome[i] != 0)
			continue;
		if (pw_pq_write_row(w, sp->rows[i].v, &err) != 0)
			fz_fail("run D, row %zu: refused without the rows run A refused: \"%s\"",
			    i, err.msg);
		accepted++;
	}
	if (pw_pq_close(w, NULL, &err) != 0)
		fz_fail("run D: pw_pq_close failed: %s", err.msg);
	if (s->n != a->n || memcmp(s->p, a->p, a->n) != 0)
		fz_fail("run D: the output differs (%zu bytes, run A %zu) when the rows refused "
		    "for the memory limit are left out: a refused row changed the writer",
		    s->n, a->n);
	pw_pq_destroy(w);
}

/* Run C: run B with a sink that fails after fail_at bytes. */
static void
run_c(struct spec *sp, struct sink *s, const int *outcome, const struct sink *a)
{
	struct pw_pq_writer *w = open_writer(sp, s, "C");
	const struct pw_pq_file_stats *st = NULL;
	struct pw_error err;
	uint64_t accepted = 0;
	bool dead = false;
	int rc;

	if (w == NULL)
		goto prefix;	/* failed on "PAR1": open_writer checked the reason */
	for (size_t i = 0; i < sp->nrows; i++) {
		const struct row *r = &sp->rows[i];

		err.msg[0] = '\0';
		rc = pw_pq_write_row(w, r->v, &err);
		if (dead) {
			if (rc != -1 || err.msg[0] == '\0')
				fz_fail("run C, row %zu: a call after the sink failed did not fail "
				    "with a reason", i);
			continue;
		}
		if (s->failed) {
			if (rc != -1)
				fz_fail("run C, row %zu: the sink failed but the call succeeded", i);
			if (strstr(err.msg, sink_reason) == NULL)
				fz_fail("run C, row %zu: the sink's reason was lost: \"%s\"", i,
				    err.msg);
			dead = true;
			continue;
		}
		if (r->bad >= 0) {
			check_refusal(sp, w, r, rc, &err, accepted, i, "C");
			continue;
		}
		if (rc != outcome[i])
			fz_fail("run C, row %zu: returned %d, run A %d (\"%s\")", i, rc,
			    outcome[i], err.msg);
		accepted += rc == 0;
	}
	err.msg[0] = '\0';
	rc = pw_pq_close(w, &st, &err);
	if (dead && (rc != -1 || err.msg[0] == '\0'))
		fz_fail("run C: pw_pq_close after the sink failed did not fail with a reason");
	if (!dead && s->failed && (rc != -1 || strstr(err.msg, sink_reason) == NULL))
		fz_fail("run C: pw_pq_close hid the sink's failure: rc %d, \"%s\"", rc, err.msg);
	if (!s->failed) {
		if (rc != 0)
			fz_fail("run C: pw_pq_close failed: %s", err.msg);
		if (s->n != a->n || memcmp(s->p, a->p, a->n) != 0)
			fz_fail("run C: without a sink failure the output differs from run A's");
	} else if (rc == -1) {
		/* Dead for good: rows and close keep failing. */
		err.msg[0] = '\0';
		if (sp->nrows > 0 && (pw_pq_write_row(w, sp->rows[0].v, &err) != -1 ||
		    err.msg[0] == '\0'))
			fz_fail("run C: a row after a failed close did not fail with a reason");
		if (pw_pq_close(w, &st, &err) != -1)
			fz_fail("run C: a second close after the sink failed succeeded");
	}
	(void)pw_pq_rows(w);
	(void)pw_pq_held_bytes(w);
	pw_pq_destroy(w);
prefix:
	if (s->n > a->n || (s->n > 0 && memcmp(s->p, a->p, s->n) != 0))
		fz_fail("run C: the %zu bytes before the sink failed are not a prefix of run A's",
		    s->n);
}

/* Run O: one invalid schema or option; pw_pq_open must refuse it. */
static void
run_open_invalid(struct spec *sp, struct in *in)
{
	struct pw_pq_column cols[MAX_COLS];
	struct pw_pq_options o = sp->opt;
	struct sink s;
	struct pw_error err = { "" };
	struct pw_pq_writer *w;
	size_t n = sp->ncols;
	uint8_t what = u8(in);

	memset(&s, 0, sizeof s);
	memcpy(cols, sp->cols, sizeof cols);
	o.level = 0;
	switch (what % 17) {
	case 0: n = 0; break;
	case 1: cols[n - 1].name = ""; break;
	case 2: cols[n - 1].name = NULL; break;
	case 3: cols[n - 1].name = "bad \xc3"; break;
	case 4: cols[n - 1].type = (enum pw_pq_type)(8 + u8(in) % 100); break;
	case 5:
		if (n < 2)
			n = 2;
		cols[n - 1] = cols[0];
		break;
	case 6: o.codec = (enum pw_pq_codec)3; break;
	case 7: o.page_bytes = 0; break;
	case 8: o.page_bytes = (256u << 20) + 1; break;
	case 9: o.row_group_bytes = 0; break;
	case 10: o.dictionary_bytes = (1u << 30) + 1; break;
	case 11: o.stats_bytes = 0; break;
	case 12: o.codec = PW_PQ_ZSTD, o.level = 23; break;
	case 13: o.codec = PW_PQ_GZIP, o.level = 10; break;
	case 14: o.codec = PW_PQ_SNAPPY, o.level = 1; break;
	case 15: o.codec = PW_PQ_UNCOMPRESSED, o.level = -1; break;
	default: o.stats_bytes = (1u << 20) + 1; break;
	}
	w = pw_pq_open(cols, n, &o, sink_fn, &s, &err);
	if (w != NULL)
		fz_fail("run O: pw_pq_open accepted invalid case %d", what % 17);
	if (err.msg[0] == '\0')
		fz_fail("run O: pw_pq_open refused case %d without a reason", what % 17);
	if (s.n != 0)
		fz_fail("run O: pw_pq_open wrote before refusing case %d", what % 17);
	free(s.p);
	pw_pq_destroy(NULL);
}

/* pw_pq_codec_parse() and pw_pq_codec_name() agree; once per process. */
static void
check_codec_names(void)
{
	static const enum pw_pq_codec all[] = { PW_PQ_UNCOMPRESSED, PW_PQ_SNAPPY,
		PW_PQ_GZIP, PW_PQ_ZSTD };
	static bool done;
	enum pw_pq_codec c = PW_PQ_SNAPPY;

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < 4; i++)
		if (pw_pq_codec_parse(pw_pq_codec_name(all[i]), &c) != 0 || c != all[i])
			fz_fail("codec %d: its name \"%s\" does not parse back", (int)all[i],
			    pw_pq_codec_name(all[i]));
	if (pw_pq_codec_parse("uncompressed", &c) != 0 || c != PW_PQ_UNCOMPRESSED ||
	    pw_pq_codec_parse("ZSTD", &c) != -1 || pw_pq_codec_parse("", &c) != -1 ||
	    pw_pq_codec_parse("lz4", &c) != -1)
		fz_fail("pw_pq_codec_parse accepts or refuses the wrong names");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct spec *sp = calloc(1, sizeof *sp);
	struct sink a, b, c;
	struct expected *x;
	struct pw_pq_file_stats ast;
	struct pw_pq_col_stats acols[MAX_COLS];
	int *outcome;
	bool defaults, refused;
	uint64_t accepted;
	size_t nrefused = 0;
	struct held_log hl = { NULL, NULL, NULL, 0 };
	struct fz_layout layout;

	read_env();
	if (sp == NULL)
		abort();
	check_codec_names();
	decode(sp, &in, &defaults);
	if (size > 0 && (data[0] >> 5) == 7) {
		summarise(sp, defaults);
		run_open_invalid(sp, &in);
		free(sp);
		current_summary = NULL;
		return 0;
	}
	generate_rows(sp, &in);
	summarise(sp, defaults);
	if (verbose)
		fprintf(stderr, "fuzz input: %s\n", sp->summary);

	outcome = calloc(sp->nrows + 1, sizeof *outcome);
	x = malloc(sizeof *x);
	if (outcome == NULL || x == NULL)
		abort();
	expected_init(x, sp);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&c, 0, sizeof c);

	hl.row = calloc(sp->nrows + 1, sizeof *hl.row);
	hl.held = calloc(sp->nrows + 1, sizeof *hl.held);
	hl.sunk = calloc(sp->nrows + 1, sizeof *hl.sunk);
	if (hl.row == NULL || hl.held == NULL || hl.sunk == NULL)
		abort();
	accepted = run_a(sp, &a, outcome, x, &ast, acols, &hl);
	fz_verify_file(a.p, a.n, &x->e, &layout);
	check_held(sp, &hl, &layout);
	run_b(sp, &b, outcome, &a, &ast);
	for (size_t i = 0; i < sp->nrows; i++)
		nrefused += sp->rows[i].bad < 0 && outcome[i] != 0;
	refused = nrefused > 0;
	if (verbose)
		fprintf(stderr, "fuzz: %" PRIu64 " rows accepted, %zu refused for the memory "
		    "limit, %zu invalid; %zu bytes, %zu row groups; sink fails at %zu\n",
		    accepted, nrefused, sp->nbad, a.n, layout.ngroups,
		    (size_t)(((uint64_t)sp->k * (a.n + 1)) >> 16));
	if (refused && !skip_refusal) {
		struct sink d;

		memset(&d, 0, sizeof d);
		run_d(sp, &d, outcome, &a);
		free(d.p);
	}
	c.can_fail = true;
	c.fail_at = (size_t)(((uint64_t)sp->k * (a.n + 1)) >> 16);
	run_c(sp, &c, outcome, &a);

	free(a.p);
	free(b.p);
	free(c.p);
	free(hl.row);
	free(hl.held);
	free(hl.sunk);
	fz_layout_free(&layout);
	expected_free(x);
	free(x);
	free(outcome);
	free(sp->rows);
	arena_free(&sp->a);
	free(sp);
	current_summary = NULL;
	return 0;
}
