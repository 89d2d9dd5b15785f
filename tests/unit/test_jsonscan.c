/*
 * Tests for src/jsonscan.c: a corpus fed whole, split at every point and a
 * byte at a time (all must agree), checked against jansson; exact error
 * messages; the depth and size limits; object mode and the "names" wrapper;
 * a callback that stops the scan; and a large document in random chunks.
 */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/jsonscan.h"

#define BOM "\xEF\xBB\xBF"

/* One record as the callback saw it, copied. */
struct rec {
	size_t index;
	char *key;
	size_t key_len;
	char *data;
	size_t len;
	unsigned long line;
	unsigned long column;
	unsigned long value_line;
	unsigned long value_column;
	int zero_copy;		/* data pointed into the chunk being fed */
	int key_zero_copy;	/* so did the key */
	size_t offset;		/* zero_copy: offset of data in the document */
	size_t key_offset;	/* key_zero_copy: offset of the key */
};

/* The whole result of scanning one document one way. */
struct outcome {
	int ok;
	char err[PW_ERROR_MAX];
	struct rec *recs;
	size_t nrecs;
	size_t cap;
	size_t counted;		/* pw_scan_records() at the end */
	unsigned long line;	/* pw_scan_line/column() at the end */
	unsigned long column;
};

struct collector {
	struct outcome *out;
	const char *chunk;	/* the chunk being fed, and where it is */
	size_t chunk_len;
	size_t chunk_off;
	size_t stop_at;		/* refuse this record index */
};

enum split {
	SPLIT_WHOLE,
	SPLIT_AT,		/* param: the split point */
	SPLIT_BYTES,
	SPLIT_RANDOM,		/* param: the seed */
};

/* Copy a record; refuse the one at stop_at. */
static int
collect(void *arg, const struct pw_scan_record *r, struct pw_error *err)
{
	struct collector *c = arg;
	struct outcome *o = c->out;
	struct rec *x;

	if (r->index == c->stop_at) {
		pw_error_set(err, "stopped at record %zu", r->index);
		return -1;
	}
	if (o->nrecs == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->recs = realloc(o->recs, o->cap * sizeof *o->recs);
		ck_assert_ptr_nonnull(o->recs);
	}
	x = &o->recs[o->nrecs++];
	memset(x, 0, sizeof *x);
	x->index = r->index;
	x->data = malloc(r->len + 1);
	memcpy(x->data, r->data, r->len);
	x->data[r->len] = '\0';
	x->len = r->len;
	if (r->key != NULL) {
		x->key = malloc(r->key_len + 1);
		memcpy(x->key, r->key, r->key_len);
		x->key[r->key_len] = '\0';
		x->key_len = r->key_len;
	}
	x->line = r->line;
	x->column = r->column;
	x->value_line = r->value_line;
	x->value_column = r->value_column;
	if (r->data >= c->chunk &&
	    r->data + r->len <= c->chunk + c->chunk_len) {
		x->zero_copy = 1;
		x->offset = c->chunk_off + (size_t)(r->data - c->chunk);
	}
	if (r->key != NULL && r->key >= c->chunk &&
	    r->key + r->key_len <= c->chunk + c->chunk_len) {
		x->key_zero_copy = 1;
		x->key_offset = c->chunk_off + (size_t)(r->key - c->chunk);
	}
	return 0;
}

static void
outcome_free(struct outcome *o)
{
	size_t i;

	for (i = 0; i < o->nrecs; i++) {
		free(o->recs[i].data);
		free(o->recs[i].key);
	}
	free(o->recs);
	memset(o, 0, sizeof *o);
}

/* A tiny deterministic generator (the tests must not depend on libc's). */
static unsigned long
rnd(unsigned long *state)
{
	*state = *state * 6364136223846793005UL + 1442695040888963407UL;
	return (*state >> 33) & 0x7fffffffUL;
}

/*
 * Scan doc, fed as the split says, each chunk in a buffer of its own size
 * (so ASan sees a read past a chunk or a stale pointer into one).
 */
static void
run_opts(const char *doc, size_t n, const struct pw_scan_options *opts,
    enum split how, unsigned long param, size_t stop_at, struct outcome *o)
{
	struct collector c;
	struct pw_scan *s;
	struct pw_error err, err2;
	unsigned long seed = param;
	size_t off = 0, len;
	char *chunk;
	int failed = 0;

	memset(o, 0, sizeof *o);
	memset(&c, 0, sizeof c);
	c.out = o;
	c.stop_at = stop_at;
	s = pw_scan_create(opts, collect, &c);
	ck_assert_ptr_nonnull(s);
	while (off < n && !failed) {
		switch (how) {
		case SPLIT_WHOLE:
			len = n;
			break;
		case SPLIT_AT:
			len = off < param ? param - off : n - off;
			break;
		case SPLIT_BYTES:
			len = 1;
			break;
		default:
			/* Mostly small chunks, now and then a large one. */
			len = rnd(&seed) % 4 == 0 ? 65536 : 700;
			len = 1 + rnd(&seed) % len;
			break;
		}
		if (len > n - off)
			len = n - off;
		chunk = malloc(len);
		memcpy(chunk, doc + off, len);
		c.chunk = chunk;
		c.chunk_len = len;
		c.chunk_off = off;
		if (pw_scan_feed(s, chunk, len, &err) == -1)
			failed = 1;
		c.chunk = NULL;
		free(chunk);
		off += len;
	}
	if (!failed && pw_scan_finish(s, &err) == -1)
		failed = 1;
	o->ok = !failed;
	if (failed) {
		snprintf(o->err, sizeof o->err, "%s", err.msg);
		/* The error sticks. */
		ck_assert_int_eq(pw_scan_feed(s, "[", 1, &err2), -1);
		ck_assert_str_eq(err2.msg, o->err);
		ck_assert_int_eq(pw_scan_finish(s, &err2), -1);
		ck_assert_str_eq(err2.msg, o->err);
	}
	o->counted = pw_scan_records(s);
	o->line = pw_scan_line(s);
	o->column = pw_scan_column(s);
	pw_scan_destroy(s);
}

static void
run(const char *doc, size_t n, enum pw_scan_top top, const char *unwrap,
    enum split how, unsigned long param, struct outcome *o)
{
	struct pw_scan_options opts;

	memset(&opts, 0, sizeof opts);
	opts.top = top;
	opts.unwrap_key = unwrap;
	run_opts(doc, n, &opts, how, param, (size_t)-1, o);
}

static void
run_whole(const char *doc, const struct pw_scan_options *opts,
    struct outcome *o)
{
	run_opts(doc, strlen(doc), opts, SPLIT_WHOLE, 0, (size_t)-1, o);
}

static void
run_str(const char *doc, enum pw_scan_top top, const char *unwrap,
    struct outcome *o)
{
	run(doc, strlen(doc), top, unwrap, SPLIT_WHOLE, 0, o);
}

/* Two ways of feeding the same document must give the same outcome. */
static void
assert_same(const struct outcome *a, const struct outcome *b, const char *what)
{
	size_t i;

	ck_assert_msg(a->ok == b->ok, "%s: ok %d vs %d (%s / %s)", what, a->ok,
	    b->ok, a->err, b->err);
	ck_assert_msg(strcmp(a->err, b->err) == 0, "%s: error \"%s\" vs \"%s\"",
	    what, a->err, b->err);
	ck_assert_msg(a->nrecs == b->nrecs, "%s: %zu vs %zu records", what,
	    a->nrecs, b->nrecs);
	ck_assert_uint_eq(a->counted, b->counted);
	ck_assert_uint_eq(a->counted, a->nrecs);
	if (a->ok) {
		ck_assert_uint_eq(a->line, b->line);
		ck_assert_uint_eq(a->column, b->column);
	}
	for (i = 0; i < a->nrecs; i++) {
		const struct rec *x = &a->recs[i], *y = &b->recs[i];

		ck_assert_uint_eq(x->index, i);
		ck_assert_uint_eq(y->index, i);
		ck_assert_msg(x->len == y->len &&
		    memcmp(x->data, y->data, x->len) == 0,
		    "%s: record %zu data \"%s\" vs \"%s\"", what, i, x->data,
		    y->data);
		ck_assert_msg((x->key == NULL) == (y->key == NULL), "%s: key",
		    what);
		if (x->key != NULL)
			ck_assert_msg(x->key_len == y->key_len &&
			    memcmp(x->key, y->key, x->key_len) == 0,
			    "%s: record %zu key", what, i);
		ck_assert_msg(x->line == y->line && x->column == y->column,
		    "%s: record %zu at %lu:%lu vs %lu:%lu", what, i, x->line,
		    x->column, y->line, y->column);
		ck_assert_msg(x->value_line == y->value_line &&
		    x->value_column == y->value_column,
		    "%s: record %zu value at %lu:%lu vs %lu:%lu", what, i,
		    x->value_line, x->value_column, y->value_line, y->value_column);
	}
}

/* Line and column of byte off, counted independently of the scanner. */
static void
position_of(const char *doc, size_t n, size_t off, unsigned long *line,
    unsigned long *col)
{
	size_t i = n >= 3 && memcmp(doc, BOM, 3) == 0 ? 3 : 0;

	*line = 1;
	*col = 1;
	for (; i < off; i++) {
		if (doc[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)doc[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* ---------------------------------------------------------------------- */
/* 1. The corpus. */

enum jansson_view {
	J_AGREES,	/* jansson accepts exactly what the scanner accepts */
	J_STRICTER,	/* valid for the scanner, rejected by jansson */
	J_LOOSER,	/* accepted by jansson, refused by the scanner */
};

struct doc {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	enum pw_scan_top top;
	const char *unwrap;
	int valid;
	enum jansson_view jansson;
	int inner;		/* records are the members of root[unwrap] */
	const char *error;	/* the exact message, if given */
};

/*
 * Where the scanner and jansson differ, on purpose (J_STRICTER/J_LOOSER):
 * - The scanner is a lexical splitter: it accepts "\u0000" and lone or
 *   unpaired surrogate escapes ("\uD800", "\uDC00"), which jansson rejects
 *   (without JSON_ALLOW_NUL, and always, respectively); jansson then fails
 *   on that record and says why.
 * - Numbers are checked for syntax only: 1e400 (jansson: real number
 *   overflow) and integers beyond 64 bits (jansson: too big integer) pass.
 * - A leading UTF-8 BOM is skipped; jansson refuses it, so it is given the
 *   document without it.
 * - Valid JSON that the options refuse: the wrong top-level type (jansson
 *   with flags 0 accepts any array or object) and a member after the
 *   "names" wrapper.
 * - jansson 2.14 accepts "[1\0]": a NUL byte right after a number is
 *   dropped by its lexer.  Any NUL outside a string is an error here.
 */
#define A	PW_SCAN_ARRAY
#define O	PW_SCAN_OBJECT
#define OK(n, t)		{ n, t, 0, A, NULL, 1, J_AGREES, 0, NULL }
#define OK_OBJ(n, t)		{ n, t, 0, O, NULL, 1, J_AGREES, 0, NULL }
#define STRICTER(n, t)		{ n, t, 0, A, NULL, 1, J_STRICTER, 0, NULL }
#define BAD(n, t, e)		{ n, t, 0, A, NULL, 0, J_AGREES, 0, e }
#define BAD_OBJ(n, t, e)	{ n, t, 0, O, NULL, 0, J_AGREES, 0, e }
#define BAD_LEN(n, t, e)	{ n, t, sizeof(t) - 1, A, NULL, 0, J_AGREES, 0, \
				  e }

static const struct doc corpus[] = {
	OK("portada records",
	    "[\n"
	    "  {\n"
	    "    \"model_version\": \"boat_fact-00.00.01\",\n"
	    "    \"publication_date\": \"1852-03-01\",\n"
	    "    \"publication_name\": \"Diario de Barcelona\",\n"
	    "    \"travel_departure_port\": \"Málaga\",\n"
	    "    \"ship_name\": \"Nuestra Señora del Carmen\",\n"
	    "    \"master_name\": \"José Pérez\",\n"
	    "    \"travel_duration_value\": 4,\n"
	    "    \"ship_tons_capacity\": 120.5,\n"
	    "    \"cargo_list\": [\n"
	    "      {\"cargo_merchant_name\": \"Vidal e hijos\", \"cargo\": "
	    "[{\"cargo_commodity\": \"trigo\", \"cargo_quantity\": [\"1200\"], "
	    "\"cargo_unit\": \"fanegas\"}]},\n"
	    "      {\"cargo_merchant_name\": null, \"cargo\": []}\n"
	    "    ],\n"
	    "    \"parsed_text\": \"De Málaga en 4 días, polacra "
	    "\\\"N. S. del Carmen\\\", de 120 t.\\n\",\n"
	    "    \"reviewed\": false\n"
	    "  },\n"
	    "  {\"ship_name\": \"Rosita\", \"ship_flag\": \"español\", "
	    "\"master_role\": \"cap.\", \"crew\": 12, \"reviewed\": true}\n"
	    "]\n"),
	OK("empty array", "[]"),
	OK_OBJ("empty object", "{}"),
	OK("whitespace variants", " \t\r\n[ 1 ,\n\t2\r\n, 3 ] \n\r\t "),
	OK("numbers", "[0, -0, 1, -1, 10, 123456789, 0.5, -0.25, 1e5, 1E5, 1e+5, "
	    "1e-5, 1.5e10, -1.5E-10, 0e0, 0.0, 0E-0, 9007199254740991, "
	    "-9223372036854775808, 1.7976931348623157e308, 5e-324]"),
	OK("numbers without spaces", "[1,22,333,-4,5.5,6e6,0,-0.0e+1,[7],8]"),
	OK("literals", "[true, false, null, [true], {\"a\": null}, [false,null]]"),
	OK("utf-8 of every length", "[\"ñ\", \"€ 5\", \"𝄞\", \"😀 emoji\", "
	    "\"日本語\", \"aé€😀z\"]"),
	OK("utf-8 boundaries", "[\"\x7f\", \"\xc2\x80\", \"\xdf\xbf\", "
	    "\"\xe0\xa0\x80\", \"\xed\x9f\xbf\", \"\xee\x80\x80\", \"\xef\xbf\xbf\", "
	    "\"\xf0\x90\x80\x80\", \"\xf4\x8f\xbf\xbf\"]"),
	OK("unicode escapes", "[\"\\u00e9\", \"\\u20AC\", \"\\uD834\\uDD1E\", "
	    "\"\\ud83d\\ude00 x\", \"\\u0041\\u00DF\"]"),
	OK("all escapes", "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"\\\\\\\"\"]"),
	OK("bom", BOM "[1, {\"a\": \"é\"}]"),
	OK("nested", "[[[[]]], {\"a\": {\"b\": {\"c\": [1, {\"d\": []}]}}}, [{}], "
	    "\"\", {\"\": \"\"}]"),
	OK("scalar records", "[1, \"two\", true, null, 3.0, \"]\", \"[\", \"}\"]"),
	OK("crlf pretty", "[\r\n  {\r\n    \"a\": [\r\n      1,\r\n      2\r\n"
	    "    ]\r\n  },\r\n  \"x\"\r\n]\r\n"),
	OK_OBJ("object members", "{\"a\": 1, \"b\": [1, 2], \"c\": {\"x\": \"y\"},\n"
	    " \"\\u00e9t\\u00e9\": true, \"k\\\"q\": \"v\", \"ñ\": null}"),
	OK_OBJ("object compact", "{\"a\":{},\"b\":[],\"c\":\"\",\"d\":-1.5e3}"),
	{ "names wrapper", "{\"names\": {\"Joan\": {\"n\": 1}, \"Pere\": [1],\n"
	    "  \"Josep\": \"x\"}}", 0, PW_SCAN_OBJECT, "names", 1, J_AGREES, 1,
	    NULL },
	{ "names wrapper, escaped key", " {\"n\\u0061mes\" : {\"a\": 1}} ", 0,
	    PW_SCAN_OBJECT, "names", 1, J_AGREES, 1, NULL },
	{ "names wrapper, empty", "{\"names\": {}}", 0, PW_SCAN_OBJECT, "names",
	    1, J_AGREES, 1, NULL },
	{ "names as an array", "{\"names\": [1, 2], \"other\": 3}", 0,
	    PW_SCAN_OBJECT, "names", 1, J_AGREES, 0, NULL },
	{ "names not first", "{\"a\": 1, \"names\": {\"b\": 2}}", 0,
	    PW_SCAN_OBJECT, "names", 1, J_AGREES, 0, NULL },
	{ "names prefix only", "{\"namesx\": {\"b\": 2}, \"c\": 3}", 0,
	    PW_SCAN_OBJECT, "names", 1, J_AGREES, 0, NULL },

	STRICTER("\\u0000", "[\"a\\u0000b\"]"),
	STRICTER("lone high surrogate", "[\"\\uD800\"]"),
	STRICTER("lone low surrogate", "[\"\\uDC00x\"]"),
	STRICTER("huge real", "[1e400]"),
	STRICTER("huge integer", "[123456789012345678901234567890]"),

	BAD("truncated in a string", "[{\"a\": \"xy",
	    "invalid JSON at line 1, column 11: unexpected end of file: "
	    "unterminated string"),
	BAD("truncated in an escape", "[\"a\\",
	    "invalid JSON at line 1, column 5: unexpected end of file: "
	    "unterminated string"),
	BAD("truncated in \\u", "[\"\\u00",
	    "invalid JSON at line 1, column 7: unexpected end of file: "
	    "unterminated string"),
	BAD("truncated after a comma", "[1,",
	    "invalid JSON at line 1, column 4: unexpected end of file: no value"),
	BAD_OBJ("truncated after a colon", "{\"a\":",
	    "invalid JSON at line 1, column 6: unexpected end of file: no value"),
	BAD_OBJ("truncated after a key", "{\"a\"",
	    "invalid JSON at line 1, column 5: unexpected end of file: "
	    "unclosed object"),
	BAD("truncated in a literal", "[tr",
	    "invalid JSON at line 1, column 4: unexpected end of file: "
	    "incomplete literal"),
	BAD("truncated in a number", "[1.",
	    "invalid JSON at line 1, column 4: unexpected end of file: "
	    "incomplete number"),
	BAD("truncated after a number", "[[1",
	    "invalid JSON at line 1, column 4: unexpected end of file: "
	    "unclosed array"),
	BAD("truncated after a record", "[{}\n",
	    "invalid JSON at line 2, column 1: unexpected end of file: "
	    "unclosed array"),
	BAD("missing comma", "[1 2]",
	    "invalid JSON at line 1, column 4: expected ',' or ']' after a record"),
	BAD("missing comma between objects", "[{\"a\":1}{\"b\":2}]",
	    "invalid JSON at line 1, column 9: expected ',' or ']' after a record"),
	BAD("missing comma in a member", "[{\"a\":1 \"b\":2}]",
	    "invalid JSON at line 1, column 9: expected ',' or '}' after an "
	    "object member"),
	BAD("trailing comma", "[1,2,]",
	    "invalid JSON at line 1, column 6: trailing comma before ']'"),
	BAD("trailing comma in an object", "[{\"a\":1,}]",
	    "invalid JSON at line 1, column 9: trailing comma before '}'"),
	BAD("leading comma", "[,1]",
	    "invalid JSON at line 1, column 2: unexpected character ','"),
	BAD("bad escape", "[\"\\x\"]",
	    "invalid JSON at line 1, column 4: invalid escape '\\x' in a string"),
	BAD("bad \\u", "[\"\\u12\"]",
	    "invalid JSON at line 1, column 7: invalid \\u escape in a string "
	    "(expected 4 hex digits)"),
	BAD("01", "[01]", "invalid JSON at line 1, column 3: invalid number"),
	BAD("-01", "[-01]", "invalid JSON at line 1, column 4: invalid number"),
	BAD("1.", "[1.]", "invalid JSON at line 1, column 4: invalid number"),
	BAD(".5", "[.5]",
	    "invalid JSON at line 1, column 2: unexpected character '.'"),
	BAD("-", "[-]", "invalid JSON at line 1, column 3: invalid number"),
	BAD("1e", "[1e]", "invalid JSON at line 1, column 4: invalid number"),
	BAD("1e+", "[1e+]", "invalid JSON at line 1, column 5: invalid number"),
	BAD("+1", "[+1]",
	    "invalid JSON at line 1, column 2: unexpected character '+'"),
	BAD("1.5.2", "[1.5.2]", "invalid JSON at line 1, column 5: invalid number"),
	BAD("1e5e5", "[1e5e5]", "invalid JSON at line 1, column 5: invalid number"),
	BAD("0x10", "[0x10]",
	    "invalid JSON at line 1, column 3: expected ',' or ']' after a record"),
	BAD("tru", "[tru]", "invalid JSON at line 1, column 5: invalid literal"),
	BAD("nul", "[nul]", "invalid JSON at line 1, column 5: invalid literal"),
	BAD("True", "[True]",
	    "invalid JSON at line 1, column 2: unexpected character 'T'"),
	BAD("nulll", "[nulll]",
	    "invalid JSON at line 1, column 6: expected ',' or ']' after a record"),
	BAD("raw tab in a string", "[\"a\tb\"]",
	    "invalid JSON at line 1, column 4: control character 0x09 in a string"),
	BAD("raw newline in a string", "[\"a\nb\"]",
	    "invalid JSON at line 1, column 4: control character 0x0A in a string"),
	BAD_LEN("nul byte in a string", "[\"a\0b\"]",
	    "invalid JSON at line 1, column 4: control character 0x00 in a string"),
	{ "nul byte after a number", "[1\0]", 4, PW_SCAN_ARRAY, NULL, 0,
	    J_LOOSER, 0, "invalid JSON at line 1, column 3: expected ',' or ']' "
	    "after a record" },
	BAD_LEN("nul byte outside", "[1,\0 2]",
	    "invalid JSON at line 1, column 4: unexpected character 0x00"),
	BAD("stray continuation byte", "[\"\x80\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0x80)"),
	BAD("overlong 2-byte", "[\"\xc1\xbf\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0xC1)"),
	BAD("overlong 3-byte", "[\"\xe0\x9f\xbf\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0xE0)"),
	BAD("overlong 4-byte", "[\"\xf0\x8f\xbf\xbf\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0xF0)"),
	BAD("utf-8 surrogate", "[\"ab\xed\xa0\x80\"]",
	    "invalid UTF-8 at line 1, column 5 (byte 0xED)"),
	BAD("beyond U+10FFFF", "[\"\xf4\x90\x80\x80\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0xF4)"),
	BAD("F5 lead", "[\"\xf5\x80\x80\x80\"]",
	    "invalid UTF-8 at line 1, column 3 (byte 0xF5)"),
	BAD("truncated sequence", "[\"é\xe2\x82\"]",
	    "invalid UTF-8 at line 1, column 4 (byte 0xE2)"),
	BAD("truncated sequence at the end", "[\"\xe2\x82",
	    "invalid UTF-8 at line 1, column 3 (byte 0xE2)"),
	BAD("invalid byte outside strings", "[\xff]",
	    "invalid UTF-8 at line 1, column 2 (byte 0xFF)"),
	BAD("character outside strings", "[1]é",
	    "invalid JSON at line 1, column 4: unexpected character 0xC3 after "
	    "the top-level value"),
	BAD("garbage after the value", "[1] 2",
	    "invalid JSON at line 1, column 5: unexpected character '2' after "
	    "the top-level value"),
	BAD_OBJ("two objects", "{}{}",
	    "invalid JSON at line 1, column 3: unexpected character '{' after "
	    "the top-level value"),
	BAD("extra bracket", "[]]",
	    "invalid JSON at line 1, column 3: unexpected character ']' after "
	    "the top-level value"),
	BAD("mismatched bracket", "[1}",
	    "invalid JSON at line 1, column 3: expected ',' or ']' after a record"),
	BAD("mismatched brace", "[{\"a\":1]",
	    "invalid JSON at line 1, column 8: expected ',' or '}' after an "
	    "object member"),
	BAD_OBJ("number as a key", "{1: 2}",
	    "invalid JSON at line 1, column 2: expected a string as an object key"),
	BAD("bare key", "[{a: 1}]",
	    "invalid JSON at line 1, column 3: expected a string as an object key"),
	BAD_OBJ("missing colon", "{\"a\" 1}",
	    "invalid JSON at line 1, column 6: expected ':' after an object key"),
	BAD("adjacent strings", "[\"a\"\"b\"]",
	    "invalid JSON at line 1, column 5: expected ',' or ']' after a record"),
	BAD("string at the top", "\"s\"",
	    "expected a JSON array at the top level, found a string at line 1, "
	    "column 1"),
	BAD("number at the top", "\n -1",
	    "expected a JSON array at the top level, found a number at line 2, "
	    "column 2"),
	BAD("true at the top", "true",
	    "expected a JSON array at the top level, found true at line 1, "
	    "column 1"),
	BAD_OBJ("null at the top", "null",
	    "expected a JSON object at the top level, found null at line 1, "
	    "column 1"),
	BAD("bad literal at the top", "tx",
	    "invalid JSON at line 1, column 2: invalid literal"),
	BAD("empty", "", "empty file: no JSON value"),
	BAD("only whitespace", " \r\n\t ", "empty file: no JSON value"),
	BAD("only a bom", BOM, "empty file: no JSON value"),
	BAD("partial bom", "\xEF\xBB[]",
	    "invalid JSON at line 1, column 1: unexpected character 0xEF"),
	BAD("bom after whitespace", " " BOM "[]",
	    "invalid JSON at line 1, column 2: unexpected character 0xEF"),
	BAD("two boms", BOM BOM "[]",
	    "invalid JSON at line 1, column 1: unexpected character 0xEF"),
	{ "object for an array", "{}", 0, PW_SCAN_ARRAY, NULL, 0, J_LOOSER, 0,
	    "expected a JSON array at the top level, found an object at line 1, "
	    "column 1" },
	{ "array for an object", " [1]", 0, PW_SCAN_OBJECT, NULL, 0, J_LOOSER,
	    0, "expected a JSON object at the top level, found an array at "
	    "line 1, column 2" },
	{ "member after the wrapper", "{\"names\": {\"a\": 1},\n \"x\": 2}", 0,
	    PW_SCAN_OBJECT, "names", 0, J_LOOSER, 0,
	    "unexpected member after the \"names\" wrapper at line 2, column 2" },
};

#define NCORPUS (sizeof corpus / sizeof corpus[0])

static size_t
doc_len(const struct doc *d)
{
	return d->len ? d->len : strlen(d->text);
}

/* Parse a record's bytes on their own, as the worker will. */
static json_t *
load_any(const char *data, size_t len)
{
	json_error_t jerr;

	return json_loadb(data, len, JSON_DECODE_ANY, &jerr);
}

/* (d) The records are what jansson finds in the whole document. */
static void
compare_with_jansson(const struct doc *d, const struct outcome *o)
{
	const char *text = d->text;
	size_t n = doc_len(d), i;
	json_error_t jerr;
	json_t *root, *want, *got, *key, *container;

	if (n >= 3 && memcmp(text, BOM, 3) == 0) {
		text += 3;
		n -= 3;
	}
	root = json_loadb(text, n, 0, &jerr);
	if (!d->valid && d->jansson != J_LOOSER) {
		ck_assert_msg(root == NULL, "%s: jansson accepts it", d->name);
		return;
	}
	if (d->jansson == J_STRICTER) {
		ck_assert_msg(root == NULL, "%s: jansson accepts it", d->name);
		/* And it refuses the very record it chokes on. */
		for (i = 0; i < o->nrecs; i++) {
			got = load_any(o->recs[i].data, o->recs[i].len);
			ck_assert_msg(got == NULL,
			    "%s: jansson takes record %zu", d->name, i);
		}
		return;
	}
	ck_assert_msg(root != NULL, "%s: jansson: %s at %d:%d", d->name,
	    jerr.text, jerr.line, jerr.column);
	if (!d->valid) {	/* J_LOOSER */
		json_decref(root);
		return;
	}
	container = root;
	if (d->inner)
		container = json_object_get(root, d->unwrap);
	if (d->top == PW_SCAN_ARRAY) {
		ck_assert(json_is_array(container));
		ck_assert_uint_eq(json_array_size(container), o->nrecs);
	} else {
		ck_assert(json_is_object(container));
		ck_assert_uint_eq(json_object_size(container), o->nrecs);
	}
	for (i = 0; i < o->nrecs; i++) {
		const struct rec *r = &o->recs[i];

		/* Exactly the value: no surrounding whitespace. */
		ck_assert(r->len > 0);
		ck_assert(strchr(" \t\r\n", r->data[0]) == NULL);
		ck_assert(strchr(" \t\r\n", r->data[r->len - 1]) == NULL);
		got = load_any(r->data, r->len);
		ck_assert_msg(got != NULL, "%s: record %zu unparsable",
		    d->name, i);
		if (d->top == PW_SCAN_ARRAY) {
			ck_assert_ptr_null(r->key);
			want = json_array_get(container, i);
		} else {
			ck_assert_ptr_nonnull(r->key);
			key = load_any(r->key, r->key_len);
			ck_assert(json_is_string(key));
			want = json_object_get(container,
			    json_string_value(key));
			json_decref(key);
		}
		ck_assert_msg(want != NULL && json_equal(got, want),
		    "%s: record %zu differs", d->name, i);
		json_decref(got);
	}
	json_decref(root);
}

/* Positions of records fed whole are checked against byte offsets. */
static void
check_positions(const struct doc *d, const struct outcome *o)
{
	size_t n = doc_len(d), i;
	unsigned long line, col;

	for (i = 0; i < o->nrecs; i++) {
		const struct rec *r = &o->recs[i];

		ck_assert_msg(r->zero_copy, "%s: record %zu copied", d->name,
		    i);
		ck_assert(r->key == NULL || r->key_zero_copy);
		position_of(d->text, n, r->key ? r->key_offset : r->offset,
		    &line, &col);
		ck_assert_msg(r->line == line && r->column == col,
		    "%s: record %zu at %lu:%lu, expected %lu:%lu", d->name, i,
		    r->line, r->column, line, col);
		if (r->key != NULL)
			ck_assert(d->text[r->key_offset] == '"');
		position_of(d->text, n, r->offset, &line, &col);
		ck_assert_msg(r->value_line == line && r->value_column == col,
		    "%s: record %zu value at %lu:%lu, expected %lu:%lu", d->name,
		    i, r->value_line, r->value_column, line, col);
	}
	if (o->ok) {
		position_of(d->text, n, n, &line, &col);
		ck_assert_uint_eq(o->line, line);
		ck_assert_uint_eq(o->column, col);
	}
}

START_TEST(test_corpus)
{
	const struct doc *d = &corpus[_i];
	size_t n = doc_len(d), k;
	struct outcome whole, other;
	char what[128];

	run(d->text, n, d->top, d->unwrap, SPLIT_WHOLE, 0, &whole);
	ck_assert_msg(whole.ok == d->valid, "%s: ok=%d (%s)", d->name, whole.ok,
	    whole.err);
	if (d->error != NULL)
		ck_assert_str_eq(whole.err, d->error);
	if (!whole.ok)
		ck_assert_msg(whole.err[0] != '\0', "%s: no message", d->name);
	check_positions(d, &whole);

	/* (b) Every split point. */
	for (k = 0; k <= n; k++) {
		snprintf(what, sizeof what, "%s split at %zu", d->name, k);
		run(d->text, n, d->top, d->unwrap, SPLIT_AT, k, &other);
		assert_same(&whole, &other, what);
		outcome_free(&other);
	}
	/* (c) A byte at a time. */
	snprintf(what, sizeof what, "%s byte by byte", d->name);
	run(d->text, n, d->top, d->unwrap, SPLIT_BYTES, 0, &other);
	assert_same(&whole, &other, what);
	outcome_free(&other);

	/* (d) jansson. */
	compare_with_jansson(d, &whole);
	outcome_free(&whole);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 2. Exact messages. */

struct message_case {
	const char *text;
	size_t len;
	enum pw_scan_top top;
	const char *error;
};

static const struct message_case messages[] = {
	{ "[\n  {\"a\": 1},\n  {\"b\": 2}\n  {\"c\": 3}\n]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 4, column 3: expected ',' or ']' after a record" },
	{ "[\n  {\"a\": 1}\n  {\"b\": 2}\n]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 3, column 3: expected ',' or ']' after a record" },
	{ "[\"éé\xff\"]", 0, PW_SCAN_ARRAY,
	  "invalid UTF-8 at line 1, column 5 (byte 0xFF)" },
	{ "[\n\"日本\xe8\xaa\"]", 0, PW_SCAN_ARRAY,
	  "invalid UTF-8 at line 2, column 4 (byte 0xE8)" },
	{ "[\"😀x\", @]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 8: unexpected character '@'" },
	{ "[\"a\\q\"]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 5: invalid escape '\\q' in a string" },
	{ "[\"\\é\"]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 4: invalid escape: '\\' followed by "
	  "byte 0xC3 in a string" },
	{ "[\"\\u12G4\"]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 7: invalid \\u escape in a string "
	  "(expected 4 hex digits)" },
	{ "[\"ñ\x01\"]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 4: control character 0x01 in a string" },
	{ "[\x01]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 2: unexpected character 0x01" },
	{ BOM "[x]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 2: unexpected character 'x'" },
	{ "[1, 2", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 6: unexpected end of file: "
	  "unclosed array" },
	{ "[\"abc", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 6: unexpected end of file: "
	  "unterminated string" },
	{ "{\"a\": [1, 2],\n \"b\": {\"c\": 1}", 0, PW_SCAN_OBJECT,
	  "invalid JSON at line 2, column 15: unexpected end of file: "
	  "unclosed object" },
	{ "{}", 0, PW_SCAN_ARRAY, "expected a JSON array at the top level, "
	  "found an object at line 1, column 1" },
	{ "\n\n  false", 0, PW_SCAN_OBJECT, "expected a JSON object at the top "
	  "level, found false at line 3, column 3" },
	{ "", 0, PW_SCAN_OBJECT, "empty file: no JSON value" },
	{ "\n \n", 0, PW_SCAN_ARRAY, "empty file: no JSON value" },
	{ "[1,\n 2]\n\nx", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 4, column 1: unexpected character 'x' after "
	  "the top-level value" },
	{ "[{\"a\": [1,]}]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 11: trailing comma before ']'" },
	{ "[{\"a\": 1 2}]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 10: expected ',' or '}' after an "
	  "object member" },
	{ "[[1 2]]", 0, PW_SCAN_ARRAY, "invalid JSON at line 1, column 5: "
	  "expected ',' or ']' after an array element" },
	{ "{\"a\": 1 \"b\": 2}", 0, PW_SCAN_OBJECT, "invalid JSON at line 1, "
	  "column 9: expected ',' or '}' after a record" },
	{ "[{\"a\": }]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 8: unexpected character '}'" },
	{ "[1\xff]", 0, PW_SCAN_ARRAY,
	  "invalid UTF-8 at line 1, column 3 (byte 0xFF)" },
	{ "{\"é\"\x80: 1}", 0, PW_SCAN_OBJECT,
	  "invalid UTF-8 at line 1, column 5 (byte 0x80)" },
	{ "[\"a\", é]", 0, PW_SCAN_ARRAY,
	  "invalid JSON at line 1, column 7: unexpected character 0xC3" },
};

START_TEST(test_messages)
{
	const struct message_case *m = &messages[_i];
	size_t n = m->len ? m->len : strlen(m->text);
	struct outcome o, other;

	run(m->text, n, m->top, NULL, SPLIT_WHOLE, 0, &o);
	ck_assert_int_eq(o.ok, 0);
	ck_assert_str_eq(o.err, m->error);
	run(m->text, n, m->top, NULL, SPLIT_BYTES, 0, &other);
	assert_same(&o, &other, m->text);
	outcome_free(&other);
	outcome_free(&o);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 3. Depth. */

/* n nested arrays (or objects), with a scalar in the middle. */
static char *
nested(unsigned n, int objects)
{
	char *s = malloc((size_t)n * 6 + 2), *p = s;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (objects && i > 0) {
			memcpy(p, "{\"k\":", 5);
			p += 5;
		} else
			*p++ = '[';
	}
	*p++ = '1';
	for (i = n; i > 0; i--)
		*p++ = objects && i > 1 ? '}' : ']';
	*p = '\0';
	return s;
}

START_TEST(test_depth)
{
	struct pw_scan_options opts;
	struct outcome o;
	char *doc;

	memset(&opts, 0, sizeof opts);
	opts.top = PW_SCAN_ARRAY;

	doc = nested(64, 0);
	run_opts(doc, strlen(doc), &opts, SPLIT_WHOLE, 0, (size_t)-1, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 1);
	outcome_free(&o);
	free(doc);

	doc = nested(65, 0);
	run_opts(doc, strlen(doc), &opts, SPLIT_WHOLE, 0, (size_t)-1, &o);
	ck_assert_int_eq(o.ok, 0);
	ck_assert_str_eq(o.err, "nesting deeper than 64 levels at line 1, "
	    "column 65");
	outcome_free(&o);
	run_opts(doc, strlen(doc), &opts, SPLIT_BYTES, 0, (size_t)-1, &o);
	ck_assert_str_eq(o.err, "nesting deeper than 64 levels at line 1, "
	    "column 65");
	outcome_free(&o);
	free(doc);

	/* Objects count the same; column 1 + 63 * 5 = 316. */
	doc = nested(64, 1);
	run_opts(doc, strlen(doc), &opts, SPLIT_WHOLE, 0, (size_t)-1, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	outcome_free(&o);
	free(doc);
	doc = nested(65, 1);
	run_opts(doc, strlen(doc), &opts, SPLIT_WHOLE, 0, (size_t)-1, &o);
	ck_assert_str_eq(o.err, "nesting deeper than 64 levels at line 1, "
	    "column 317");
	outcome_free(&o);
	free(doc);

	/* A custom limit, and one large enough to grow the stack. */
	opts.max_depth = 3;
	run_whole("[[[1]], [{}]]", &opts, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	outcome_free(&o);
	run_whole("[[[1]], [{\"a\": [2]}]]", &opts, &o);
	ck_assert_str_eq(o.err, "nesting deeper than 3 levels at line 1, "
	    "column 16");
	outcome_free(&o);
	opts.max_depth = 1;
	run_whole("[1, \"a\"]", &opts, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	outcome_free(&o);
	run_whole("[1, []]", &opts, &o);
	ck_assert_str_eq(o.err, "nesting deeper than 1 levels at line 1, "
	    "column 5");
	outcome_free(&o);
	opts.max_depth = 1000;
	doc = nested(1000, 0);
	run_opts(doc, strlen(doc), &opts, SPLIT_RANDOM, 7, (size_t)-1, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	outcome_free(&o);
	free(doc);
	doc = nested(1001, 1);
	run_opts(doc, strlen(doc), &opts, SPLIT_WHOLE, 0, (size_t)-1, &o);
	ck_assert_str_eq(o.err, "nesting deeper than 1000 levels at line 1, "
	    "column 4997");
	outcome_free(&o);
	free(doc);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 4. Record size and zero copy. */

/* Outcomes for every split point must equal the whole one. */
static void
assert_all_splits(const char *doc, const struct pw_scan_options *opts,
    const struct outcome *whole)
{
	size_t n = strlen(doc), k;
	struct outcome o;

	for (k = 0; k <= n; k++) {
		run_opts(doc, n, opts, SPLIT_AT, k, (size_t)-1, &o);
		assert_same(whole, &o, doc);
		outcome_free(&o);
	}
	run_opts(doc, n, opts, SPLIT_BYTES, 0, (size_t)-1, &o);
	assert_same(whole, &o, doc);
	outcome_free(&o);
}

START_TEST(test_size_limit)
{
	static const char *const docs[] = {
		"[\"12345678\", 1234567890, [1,2,3,4], \"\"]",	/* all fit */
		"[1, \"123456789\"]",			/* 11 bytes */
		"[1, 12345678901]",			/* a number */
		"[1, 12345678901 x]",			/* then an error */
		"[1, \"123456789\\q\"]",		/* error past the limit */
		"[1, \"1234567\\q\"]",			/* error within it */
		"[1, [1, 2, 3, [4]]]",			/* a container */
		"[1, [1, 2, 3, 4, 5, 6",		/* cut off */
		"[1, \"12345678901234567890",		/* cut off */
	};
	static const char *const errors[] = {
		NULL,
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"invalid JSON at line 1, column 14: invalid escape '\\q' in a string",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
		"record 2 at line 1, column 5 is larger than the 10-byte limit",
	};
	struct pw_scan_options opts;
	struct outcome o;
	size_t i;

	memset(&opts, 0, sizeof opts);
	opts.top = PW_SCAN_ARRAY;
	opts.max_record_bytes = 10;
	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		run_opts(docs[i], strlen(docs[i]), &opts, SPLIT_WHOLE, 0,
		    (size_t)-1, &o);
		if (errors[i] == NULL)
			ck_assert_msg(o.ok, "%s: %s", docs[i], o.err);
		else
			ck_assert_str_eq(o.err, errors[i]);
		assert_all_splits(docs[i], &opts, &o);
		outcome_free(&o);
	}

	/* Keys count against the limit too. */
	opts.top = PW_SCAN_OBJECT;
	run_whole("{\"a\": 1,\n \"0123456789\": 2}", &opts, &o);
	ck_assert_str_eq(o.err, "record 2 at line 2, column 2 is larger than "
	    "the 10-byte limit");
	assert_all_splits("{\"a\": 1,\n \"0123456789\": 2}", &opts, &o);
	outcome_free(&o);
	run_whole("{\"01234567\": \"01234567\"}", &opts, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	assert_all_splits("{\"01234567\": \"01234567\"}", &opts, &o);
	outcome_free(&o);
}
END_TEST

START_TEST(test_zero_copy)
{
	const char *doc =
	    "[{\"ship\": \"Rosita\", \"tons\": 120},\n \"café\", 42]";
	size_t n = strlen(doc), k, i;
	struct outcome whole, split;

	run(doc, n, PW_SCAN_ARRAY, NULL, SPLIT_WHOLE, 0, &whole);
	ck_assert_msg(whole.ok, "%s", whole.err);
	ck_assert_uint_eq(whole.nrecs, 3);
	for (i = 0; i < whole.nrecs; i++)
		ck_assert(whole.recs[i].zero_copy);
	ck_assert_uint_eq(whole.recs[0].offset, 1);
	ck_assert_uint_eq(whole.recs[1].offset, 35);
	ck_assert_str_eq(whole.recs[1].data, "\"café\"");
	ck_assert_uint_eq(whole.recs[2].len, 2);

	for (k = 1; k < n; k++) {
		run(doc, n, PW_SCAN_ARRAY, NULL, SPLIT_AT, k, &split);
		assert_same(&whole, &split, "zero copy");
		for (i = 0; i < split.nrecs; i++) {
			size_t start = whole.recs[i].offset;
			size_t stop = start + whole.recs[i].len;
			/* A record cut by the split is copied. */
			int cut = k > start && k < stop;

			/* A number ends at the delimiter after it. */
			if (whole.recs[i].data[0] == '4' && k == stop)
				cut = 1;
			ck_assert_msg(split.recs[i].zero_copy == !cut,
			    "split %zu record %zu zero_copy %d", k, i,
			    split.recs[i].zero_copy);
		}
		outcome_free(&split);
	}
	outcome_free(&whole);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 5. Object mode. */

START_TEST(test_object_mode)
{
	const char *doc = "{\"Joan\": {\"n\": 1},\n \"Pere\": [1, 2],\n"
	    "   \"J\\u00f2sep\": \"x\"}";
	const char *wrapped = "{ \"names\" : {\"Joan\": 1,\n \"Pere\": {}} }";
	struct outcome o;

	run(doc, strlen(doc), PW_SCAN_OBJECT, NULL, SPLIT_WHOLE, 0, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 3);
	ck_assert_str_eq(o.recs[0].key, "\"Joan\"");
	ck_assert_str_eq(o.recs[0].data, "{\"n\": 1}");
	ck_assert_uint_eq(o.recs[0].line, 1);
	ck_assert_uint_eq(o.recs[0].column, 2);
	ck_assert_str_eq(o.recs[1].key, "\"Pere\"");
	ck_assert_str_eq(o.recs[1].data, "[1, 2]");
	ck_assert_uint_eq(o.recs[1].line, 2);
	ck_assert_uint_eq(o.recs[1].column, 2);
	ck_assert_str_eq(o.recs[2].key, "\"J\\u00f2sep\"");
	ck_assert_uint_eq(o.recs[2].key_len, 12);
	ck_assert_str_eq(o.recs[2].data, "\"x\"");
	ck_assert_uint_eq(o.recs[2].line, 3);
	ck_assert_uint_eq(o.recs[2].column, 4);
	outcome_free(&o);

	/* The same document with unwrap_key set: "Joan" is not "names". */
	run(doc, strlen(doc), PW_SCAN_OBJECT, "names", SPLIT_WHOLE, 0, &o);
	ck_assert_uint_eq(o.nrecs, 3);
	outcome_free(&o);

	/* Without unwrap_key, the wrapper is one record. */
	run(wrapped, strlen(wrapped), PW_SCAN_OBJECT, NULL, SPLIT_WHOLE, 0, &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 1);
	ck_assert_str_eq(o.recs[0].key, "\"names\"");
	ck_assert_str_eq(o.recs[0].data, "{\"Joan\": 1,\n \"Pere\": {}}");
	outcome_free(&o);

	run(wrapped, strlen(wrapped), PW_SCAN_OBJECT, "names", SPLIT_WHOLE, 0,
	    &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 2);
	ck_assert_uint_eq(o.recs[0].index, 0);
	ck_assert_str_eq(o.recs[0].key, "\"Joan\"");
	ck_assert_str_eq(o.recs[0].data, "1");
	ck_assert_uint_eq(o.recs[0].line, 1);
	ck_assert_uint_eq(o.recs[0].column, 14);
	ck_assert_uint_eq(o.recs[1].index, 1);
	ck_assert_str_eq(o.recs[1].key, "\"Pere\"");
	ck_assert_str_eq(o.recs[1].data, "{}");
	ck_assert_uint_eq(o.recs[1].line, 2);
	ck_assert_uint_eq(o.recs[1].column, 2);
	outcome_free(&o);

	/* A further member after the wrapper. */
	run_str("{\"names\": {\"a\": 1}, \"b\": 2}", O, "names", &o);
	ck_assert_str_eq(o.err, "unexpected member after the \"names\" wrapper "
	    "at line 1, column 21");
	ck_assert_uint_eq(o.nrecs, 1);
	outcome_free(&o);
	/* ... but a trailing comma is a syntax error first. */
	run_str("{\"names\": {\"a\": 1}, }", PW_SCAN_OBJECT, "names", &o);
	ck_assert_str_eq(o.err, "invalid JSON at line 1, column 21: trailing "
	    "comma before '}'");
	outcome_free(&o);

	/* "names" with an array value is an ordinary record. */
	run_str("{\"names\": [\"a\", \"b\"], \"x\": null}", O, "names", &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 2);
	ck_assert_str_eq(o.recs[0].key, "\"names\"");
	ck_assert_str_eq(o.recs[0].data, "[\"a\", \"b\"]");
	ck_assert_str_eq(o.recs[1].key, "\"x\"");
	ck_assert_str_eq(o.recs[1].data, "null");
	outcome_free(&o);

	/* Keys that only look like "names". */
	run_str("{\"names\\u0000\": {\"a\": 1}}", PW_SCAN_OBJECT, "names", &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 1);
	outcome_free(&o);
	run_str("{\"name\": {\"a\": 1}}", PW_SCAN_OBJECT, "names", &o);
	ck_assert_uint_eq(o.nrecs, 1);
	ck_assert_str_eq(o.recs[0].key, "\"name\"");
	outcome_free(&o);
	/* A key with escapes that decodes to a non-ASCII unwrap_key. */
	run_str("{\"n\\u00f2ms\": {\"a\": 1, \"b\": 2}}", O, "nòms", &o);
	ck_assert_uint_eq(o.nrecs, 2);
	outcome_free(&o);
	run_str("{\"\\ud83d\\ude00\": {\"a\": 1}}", O, "😀", &o);
	ck_assert_msg(o.ok, "%s", o.err);
	ck_assert_uint_eq(o.nrecs, 1);
	ck_assert_str_eq(o.recs[0].key, "\"a\"");
	outcome_free(&o);

	/* unwrap_key means nothing to an array. */
	run_str("[{\"names\": {\"a\": 1}}]", PW_SCAN_ARRAY, "names", &o);
	ck_assert_uint_eq(o.nrecs, 1);
	ck_assert_ptr_null(o.recs[0].key);
	outcome_free(&o);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 6. A refusing callback. */

START_TEST(test_callback_stops)
{
	const char *doc = "[1, {\"a\": 2}, 3, 4]";
	size_t n = strlen(doc), k;
	struct pw_scan_options opts;
	struct outcome whole, o;

	memset(&opts, 0, sizeof opts);
	opts.top = PW_SCAN_ARRAY;
	run_opts(doc, n, &opts, SPLIT_WHOLE, 0, 1, &whole);
	ck_assert_int_eq(whole.ok, 0);
	ck_assert_str_eq(whole.err, "stopped at record 1");
	ck_assert_uint_eq(whole.nrecs, 1);
	ck_assert_uint_eq(whole.counted, 1);
	for (k = 0; k <= n; k++) {
		run_opts(doc, n, &opts, SPLIT_AT, k, 1, &o);
		assert_same(&whole, &o, "callback");
		outcome_free(&o);
	}
	outcome_free(&whole);

	/* A record the callback refuses at the very end, before finish. */
	run_opts(doc, n, &opts, SPLIT_BYTES, 0, 3, &o);
	ck_assert_str_eq(o.err, "stopped at record 3");
	ck_assert_uint_eq(o.counted, 3);
	outcome_free(&o);
}
END_TEST

/* A callback that refuses without saying why. */
static int
refuse_silently(void *arg, const struct pw_scan_record *r,
    struct pw_error *err)
{
	(void)arg;
	(void)r;
	(void)err;
	return -1;
}

static int
count_records(void *arg, const struct pw_scan_record *r, struct pw_error *err)
{
	(void)r;
	(void)err;
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(test_api_edges)
{
	struct pw_scan_options opts;
	struct pw_scan *s;
	struct pw_error err;
	size_t count = 0;

	pw_scan_destroy(NULL);
	memset(&opts, 0, sizeof opts);
	opts.top = PW_SCAN_ARRAY;

	s = pw_scan_create(&opts, refuse_silently, NULL);
	ck_assert_int_eq(pw_scan_feed(s, "\n [7]", 5, &err), -1);
	ck_assert_str_eq(err.msg, "record 1 at line 2, column 3 was refused");
	ck_assert_uint_eq(pw_scan_records(s), 0);
	pw_scan_destroy(s);

	/* Empty chunks are no-ops; err may be NULL; positions as we go. */
	s = pw_scan_create(&opts, count_records, &count);
	ck_assert_int_eq(pw_scan_feed(s, "", 0, NULL), 0);
	ck_assert_int_eq(pw_scan_feed(s, "[1,\n  \"é", 9, NULL), 0);
	ck_assert_uint_eq(pw_scan_records(s), 1);
	ck_assert_uint_eq(pw_scan_line(s), 2);
	ck_assert_uint_eq(pw_scan_column(s), 5);
	ck_assert_int_eq(pw_scan_feed(s, "\"]", 2, NULL), 0);
	ck_assert_int_eq(pw_scan_finish(s, NULL), 0);
	ck_assert_int_eq(pw_scan_finish(s, &err), 0);
	ck_assert_uint_eq(count, 2);
	pw_scan_destroy(s);

	s = pw_scan_create(&opts, count_records, &count);
	ck_assert_int_eq(pw_scan_feed(s, "[1 2]", 5, NULL), -1);
	ck_assert_int_eq(pw_scan_finish(s, &err), -1);
	ck_assert_str_eq(err.msg, "invalid JSON at line 1, column 4: expected "
	    "',' or ']' after a record");
	pw_scan_destroy(s);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 7. A large document. */

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Append printf output to a growing buffer. */
static void PW_PRINTF(2, 3)
append(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 4096 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < b->cap - b->len);
	b->len += (size_t)n;
}

static const char *const ships[] = {
	"Rosita", "Nuestra Señora del Carmen", "San José", "Amélie",
	"Ζέφυρος", "海丸", "La \\\"Paloma\\\"", "Bon Pastor \\u00e0 Cette",
};
static const char *const ports[] = {
	"Málaga", "Marseille", "Cádiz", "Liverpool", "La Habana", "Génova",
	"Tarragona", "Montevideo 🚢",
};

/* A PortAda-like entries file of n records; pretty says how it is laid out. */
static char *
portada_document(size_t nrec, int pretty, size_t *lenp)
{
	struct buf b = { NULL, 0, 0 };
	size_t i;
	unsigned long seed = 12345;
	const char *nl = pretty ? "\n" : "", *ind = pretty ? "    " : "";

	append(&b, "[%s", nl);
	for (i = 0; i < nrec; i++) {
		unsigned long r = rnd(&seed);

		append(&b, "%s{%s%s\"model_version\": \"boat_fact-00.00.01\","
		    "%s%s\"publication_date\": \"18%02lu-%02lu-%02lu\",%s",
		    pretty ? "  " : "", nl, ind, nl, ind, 50 + r % 50,
		    1 + r % 12, 1 + r % 28, nl);
		append(&b, "%s\"publication_name\": \"Diario de Barcelona\","
		    "%s%s\"ship_name\": \"%s\",%s%s\"travel_departure_port\": "
		    "\"%s\",%s", ind, nl, ind, ships[r % 8], nl, ind,
		    ports[(r >> 3) % 8], nl);
		append(&b, "%s\"ship_tons_capacity\": %lu.%lu,%s%s"
		    "\"travel_duration_value\": %lu,%s%s\"ratio\": %s%lu.%03lue%s%lu,%s",
		    ind, r % 900, r % 10, nl, ind, r % 60, nl, ind,
		    r % 3 ? "" : "-", r % 10, r % 1000, r % 2 ? "+" : "-", r % 20,
		    nl);
		append(&b, "%s\"cargo_list\": [{\"cargo_merchant_name\": %s, "
		    "\"cargo\": [{\"cargo_commodity\": \"trigo\", \"cargo_quantity\": "
		    "[\"%lu\"], \"cargo_unit\": \"fanegas\"}]}, {}],%s", ind,
		    r % 5 ? "\"Vidal e hijos\"" : "null", r % 5000, nl);
		append(&b, "%s\"parsed_text\": \"De %s en %lu días,\\t%s\\n"
		    "capitán Pérez.\",%s%s\"reviewed\": %s,%s%s\"crew\": %ld%s%s}%s%s",
		    ind, ports[(r >> 3) % 8], r % 60, ships[r % 8], nl, ind,
		    r % 2 ? "true" : "false", nl, ind, (long)(r % 40) - 5, nl,
		    pretty ? "  " : "", i + 1 < nrec ? "," : "", nl);
	}
	append(&b, "]%s", nl);
	*lenp = b.len;
	return b.p;
}

START_TEST(test_large_document)
{
	struct outcome whole, chunked, bytes;
	json_error_t jerr;
	json_t *root, *got;
	size_t len, i;
	char *doc;

	doc = portada_document(20000, 1, &len);
	run(doc, len, PW_SCAN_ARRAY, NULL, SPLIT_WHOLE, 0, &whole);
	ck_assert_msg(whole.ok, "%s", whole.err);
	ck_assert_uint_eq(whole.nrecs, 20000);

	run(doc, len, PW_SCAN_ARRAY, NULL, SPLIT_RANDOM, 20240229, &chunked);
	assert_same(&whole, &chunked, "random chunks");
	outcome_free(&chunked);

	root = json_loadb(doc, len, 0, &jerr);
	ck_assert_msg(root != NULL, "jansson: %s", jerr.text);
	ck_assert_uint_eq(json_array_size(root), whole.nrecs);
	for (i = 0; i < whole.nrecs; i++) {
		got = load_any(whole.recs[i].data, whole.recs[i].len);
		ck_assert_msg(got != NULL && json_equal(got,
		    json_array_get(root, i)), "record %zu", i);
		json_decref(got);
	}
	json_decref(root);
	outcome_free(&whole);
	free(doc);

	/* Compact, and byte by byte for a slice of it. */
	doc = portada_document(300, 0, &len);
	run(doc, len, PW_SCAN_ARRAY, NULL, SPLIT_WHOLE, 0, &whole);
	ck_assert_msg(whole.ok, "%s", whole.err);
	run(doc, len, PW_SCAN_ARRAY, NULL, SPLIT_BYTES, 0, &bytes);
	assert_same(&whole, &bytes, "compact byte by byte");
	outcome_free(&bytes);
	run(doc, len, PW_SCAN_ARRAY, NULL, SPLIT_RANDOM, 99, &bytes);
	assert_same(&whole, &bytes, "compact random");
	outcome_free(&bytes);
	outcome_free(&whole);
	free(doc);
}
END_TEST

static Suite *
jsonscan_suite(void)
{
	Suite *s = suite_create("jsonscan");
	TCase *tc;

	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_corpus, 0, (int)NCORPUS);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_loop_test(tc, test_messages, 0,
	    (int)(sizeof messages / sizeof messages[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_zero_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("object");
	tcase_add_test(tc, test_object_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("callback");
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_api_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("large");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_large_document);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jsonscan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
