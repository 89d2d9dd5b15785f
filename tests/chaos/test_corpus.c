/*
 * Malformed-input corpus: one worker takes every case below twice (fresh ids
 * the second time), good files interleaved with the bad ones.  Each bad case
 * must end with status -1 and an error_message naming what was wrong and
 * where; each good one with status 2; and the worker's RSS must not grow
 * from the end of the first round to the end of the second.
 *
 * The cases: truncations at every structural point of both real entry
 * shapes (flat, structured) and of entity files, invalid and overlong
 * UTF-8, lone surrogates, NUL bytes, 10,000-deep nesting, numbers out of
 * range, a key that comes twice in one object of a record, a duplicated
 * "names" wrapper, a 100 MB string, wrong top-level types, bad BOMs, and
 * hashes whose file_path is not a readable regular file inside the ingest
 * root (or not a usable path at all).
 *
 * Accepted on purpose, so checked as a good file: a UTF-8 BOM before the
 * value.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/capability.h>

#include "harness.h"

#define MAX_CASES	128
#define BIG_STRING	((size_t)100 * 1024 * 1024)
#define DEEP		10000
/*
 * RSS growth allowed between the rounds.  After the first round every
 * buffer that grows with input has met its largest input (the scanner's
 * record buffer is capped at --max-record-bytes, the shared parse tree and
 * row builders are rebuilt past 256 KiB), so the second round should need
 * nothing new.  A leak of one 16 MiB record buffer, or of ~12 KiB per file,
 * is well over this; allocator noise and the lake's small per-commit
 * bookkeeping are well under.
 */
#define RSS_GROWTH_MAX_KB	1024
/*
 * The peak: the 100 MB string must never be held whole, only up to the
 * 16 MiB record cap (measured peak: about 19 MiB in all).
 */
#define PEAK_MAX_KB		(80 * 1024)

struct corpus_case {
	char name[48];
	char file_type[32];
	char *path;		/* may hold any byte */
	size_t path_len;
	char *expect[4];	/* substrings of error_message; NULL-ended */
	unsigned records;	/* good cases: rows expected */
	bool good;
};

static struct corpus_case cases[MAX_CASES];
static size_t n_cases;

/* The flat shape (dm-1861): plain values, two records. */
static const char FLAT[] =
	"[\n"
	"  {\n"
	"    \"source_file\": \"1861_01_01\",\n"
	"    \"ship_name\": \"Conchita\",\n"
	"    \"ship_tons_capacity\": 38,\n"
	"    \"cargo_list\": [\n"
	"      {\"cargo_name\": \"miel\", \"cargo_count\": \"38\"}\n"
	"    ],\n"
	"    \"quarantine\": false,\n"
	"    \"obs\": null\n"
	"  },\n"
	"  {\"ship_name\": \"Emilio\", \"publication_date\": \"1861-01-01\"}\n"
	"]\n";

/* The structured shape (db-1850): values inside {original,calculated,default}. */
static const char STRUCTURED[] =
	"[\n"
	"    {\n"
	"        \"model_version\": {\"original_value\": \"boat_fact-00.00.01\"},\n"
	"        \"ship_name\": {\n"
	"            \"original_value\": \"S. Joaqu\\u00edn,\",\n"
	"            \"default_value\": \"????\"\n"
	"        },\n"
	"        \"master_name\": {\"original_value\": \"Joaqu\xc3\xadn Fari\xc3\xb1os\"},\n"
	"        \"travel_duration_value\": {\"calculated_value\": 12.5},\n"
	"        \"elapsed_days_from_arrival\": {\"calculated_value\": -1},\n"
	"        \"ship_tons_capacity\": {\"original_value\": 1.5e2},\n"
	"        \"travel_port_of_call_list\": {\"calculated_value\": [\n"
	"            \"Chiclana\",\n"
	"            \"Alicante\"\n"
	"        ]},\n"
	"        \"publication_date\": {\"original_value\": \"-3786742800000\"}\n"
	"    }\n"
	"]\n";

static const char ENTITY[] =
	"{\n"
	"  \"Barcelona\": [\"Barna\", \"Barcino\"],\n"
	"  \"Marsella\": [\"Marseille\"]\n"
	"}\n";

static const char ENTITY_NAMES[] =
	"{\"names\": {\n"
	"  \"Vigo\": [\"Vigo\", \"Bigo\"]\n"
	"}}\n";

static char *
xstrdup_or_die(const char *s)
{
	char *p = strdup(s);

	ck_assert(p != NULL);
	return p;
}

static char * __attribute__((format(printf, 1, 2)))
fmt(const char *f, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return xstrdup_or_die(buf);
}

/*
 * "line L, column C" of the byte at off, as the worker counts: characters,
 * from 1.  In a static buffer: one use per expression.
 */
static const char *
where(const char *doc, size_t off)
{
	static char buf[64];
	unsigned long line = 1, col = 1;
	size_t i;

	for (i = 0; i < off; i++) {
		if (doc[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)doc[i] & 0xC0) != 0x80)
			col++;
	}
	snprintf(buf, sizeof buf, "line %lu, column %lu", line, col);
	return buf;
}

static size_t
offset_of(const char *doc, size_t len, const char *mark)
{
	const char *p = memmem(doc, len, mark, strlen(mark));

	ck_assert_msg(p != NULL, "marker '%s' not in its document", mark);
	return (size_t)(p - doc);
}

static struct corpus_case *
add(const char *name, const char *file_type, const char *path)
{
	struct corpus_case *c;

	ck_assert(n_cases < MAX_CASES);
	c = &cases[n_cases++];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->file_type, sizeof c->file_type, "%s", file_type);
	c->path = xstrdup_or_die(path);
	c->path_len = strlen(path);
	return c;
}

static void
expect(struct corpus_case *c, char *a, char *b, char *d)
{
	c->expect[0] = a;
	c->expect[1] = b;
	c->expect[2] = d;
}

/* A bad file ingest/corpus/<name>.json holding data[0..len). */
static struct corpus_case *
bad(const char *name, const char *file_type, const void *data, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof rel, "ingest/corpus/%s.json", name);
	return add(name, file_type, h_write(rel, data, len));
}

#define BAD_TEXT(name, type, text) bad(name, type, text, sizeof text - 1)

static void
good(const char *name, const char *file_type, const char *ext, const char *text,
    unsigned records)
{
	char rel[128];
	struct corpus_case *c;

	snprintf(rel, sizeof rel, "ingest/corpus/%s.%s", name, ext);
	c = add(name, file_type, h_write(rel, text, strlen(text)));
	c->good = true;
	c->records = records;
}

/* The document cut just before (or after) the first mark. */
static void
truncated(const char *name, const char *file_type, const char *doc, const char *mark,
    bool after, const char *what)
{
	size_t len = strlen(doc), cut = offset_of(doc, len, mark);
	struct corpus_case *c;

	if (after)
		cut += strlen(mark);
	c = bad(name, file_type, doc, cut);
	expect(c, fmt("invalid JSON at %s: unexpected end of file: %s", where(doc, cut),
	    what), NULL, NULL);
}

/* A one-record entry file whose string value holds the given bytes. */
static void
bad_string(const char *name, const char *bytes, size_t n, const char *lead)
{
	char doc[256];
	size_t off = 0;
	struct corpus_case *c;

	off += (size_t)snprintf(doc, sizeof doc, "[\n  {\"ship_name\": \"Se");
	memcpy(doc + off, bytes, n);
	off += n;
	off += (size_t)snprintf(doc + off, sizeof doc - off, "ora\"}\n]\n");
	c = bad(name, "entry", doc, off);
	/* The error is at the first byte of the bad sequence: column 20. */
	expect(c, fmt("invalid UTF-8 at line 2, column 20 (byte %s)", lead), NULL, NULL);
}

/* A one-record entry file whose record fails in jtree: message, then "(in record 1)". */
static void
bad_record(const char *name, const char *record, const char *msg)
{
	char doc[512];
	struct corpus_case *c;
	int n;

	n = snprintf(doc, sizeof doc, "[\n  %s\n]\n", record);
	c = bad(name, "entry", doc, (size_t)n);
	expect(c, xstrdup_or_die("invalid JSON at line 2, column "), fmt("%s", msg),
	    xstrdup_or_die("(in record 1)"));
}

/*
 * DEEP '[' (or '{"a":') then as many closers, between prefix and suffix;
 * fail_col is the column of the container that would be the 65th level.
 */
static void
deep(const char *name, const char *file_type, const char *prefix, bool objects,
    const char *suffix, size_t fail_col)
{
	size_t unit = objects ? 5 : 1, size = strlen(prefix) + strlen(suffix) + DEEP * (unit + 1);
	char *doc = malloc(size + 1), *p;
	size_t i;
	struct corpus_case *c;

	ck_assert(doc != NULL);
	p = stpcpy(doc, prefix);
	for (i = 0; i < DEEP; i++)
		p = stpcpy(p, objects ? "{\"a\":" : "[");
	for (i = 0; i < DEEP; i++)
		*p++ = objects ? '}' : ']';
	p = stpcpy(p, suffix);
	c = bad(name, file_type, doc, (size_t)(p - doc));
	expect(c, fmt("nesting deeper than 64 levels at line 1, column %zu", fail_col), NULL,
	    NULL);
	free(doc);
}

/* ingest/corpus/big-string.json: one record whose string is 100 MB, written in 1 MiB pieces. */
static void
big_string(void)
{
	static const char head[] = "[\n  {\"raw_text\": \"", tail[] = "\"}\n]\n";
	const char *path = h_write("ingest/corpus/big-string.json", head, sizeof head - 1);
	char *chunk = malloc(1 << 20);
	struct corpus_case *c;
	FILE *f;
	size_t i;

	ck_assert(chunk != NULL);
	memset(chunk, 'x', 1 << 20);
	f = fopen(path, "ab");
	ck_assert(f != NULL);
	for (i = 0; i < BIG_STRING >> 20; i++)
		ck_assert(fwrite(chunk, 1, 1 << 20, f) == 1 << 20);
	ck_assert(fwrite(tail, 1, sizeof tail - 1, f) == sizeof tail - 1);
	ck_assert(fclose(f) == 0);
	free(chunk);
	c = add("big-string", "entry", path);
	expect(c, xstrdup_or_die("record 1 at line 2, column 3 is larger than the "
	    "16777216-byte limit"), NULL, NULL);
}

/*
 * Root reads any file whatever its mode (CAP_DAC_OVERRIDE), so a mode-000
 * file is unreadable to the worker only if it runs without that capability
 * and CAP_DAC_READ_SEARCH.  Dropped from our bounding set, a worker we
 * exec as root never gets them back; it is the owner of everything else in
 * the test directory, so nothing else changes.  NULL: how; else why not.
 */
static const char *
unreadable_setup(bool *ok)
{
	*ok = true;
	if (geteuid() != 0)
		return "not root: mode 000 is enough";
	if ((prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) == 0 ||
	    prctl(PR_CAPBSET_READ, CAP_DAC_OVERRIDE, 0, 0, 0) == 0) &&
	    (prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) == 0 ||
	    prctl(PR_CAPBSET_READ, CAP_DAC_READ_SEARCH, 0, 0, 0) == 0))
		return "root: the worker runs without CAP_DAC_OVERRIDE and "
		    "CAP_DAC_READ_SEARCH (dropped from the bounding set)";
	*ok = false;
	return "root, and the capabilities cannot be dropped (no CAP_SETPCAP): "
	    "root reads a mode-000 file, so this case is not run";
}

/* Bits of the worker's capability line (CapEff) from /proc/<pid>/status. */
static unsigned long long
proc_caps(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long long caps = ~0ULL;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	text = h_read_file(path, NULL);
	if ((p = strstr(text, "CapEff:")) != NULL)
		caps = strtoull(p + 7, NULL, 16);
	free(text);
	return caps;
}

/* A line of /proc/<pid>/status in kB ("VmRSS:", "VmHWM:"), -1 if absent. */
static long
proc_kb(pid_t pid, const char *field)
{
	char path[64], *text, *p;
	long kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	text = h_read_file(path, NULL);
	if ((p = strstr(text, field)) != NULL)
		kb = strtol(p + strlen(field), NULL, 10);
	free(text);
	return kb;
}

static void
build_corpus(bool *unreadable_ok, const char **unreadable_how)
{
	char doc[512], outside[PATH_MAX], path[PATH_MAX];
	struct corpus_case *c;
	int n, fd;

	/* Truncations of the flat shape, at each structural point. */
	good("good-flat", "entry", "json", FLAT, 2);
	truncated("flat-after-open", "entry", FLAT, "[", true, "unclosed array");
	truncated("flat-in-key", "entry", FLAT, "\"ship_na", true, "unterminated string");
	truncated("flat-after-key", "entry", FLAT, "\"ship_name\"", true, "unclosed object");
	truncated("flat-after-colon", "entry", FLAT, "\"ship_name\":", true, "no value");
	truncated("flat-in-string", "entry", FLAT, "\"Conch", true, "unterminated string");
	truncated("flat-in-integer", "entry", FLAT, "\"ship_tons_capacity\": 3", true,
	    "unclosed object");
	truncated("flat-after-value", "entry", FLAT, "\"Conchita\"", true, "unclosed object");
	truncated("flat-after-comma", "entry", FLAT, "\"Conchita\",", true, "unclosed object");
	truncated("flat-in-nested-array", "entry", FLAT, "\"cargo_list\": [\n", true,
	    "unclosed array");
	truncated("flat-in-nested-object", "entry", FLAT, "{\"cargo_name\": \"miel\", ", true,
	    "unclosed object");
	truncated("flat-in-literal", "entry", FLAT, "\"quarantine\": fal", true,
	    "incomplete literal");
	truncated("flat-before-record-close", "entry", FLAT, "\n  },", false,
	    "unclosed object");
	truncated("flat-after-record-comma", "entry", FLAT, "  },\n", true, "no value");
	truncated("flat-before-close", "entry", FLAT, "\n]\n", false, "unclosed array");

	/* ... and of the structured shape, inside its nested values. */
	good("good-structured", "entry", "json", STRUCTURED, 1);
	truncated("struct-in-nested-key", "entry", STRUCTURED, "{\"original_va", true,
	    "unterminated string");
	truncated("struct-after-nested-colon", "entry", STRUCTURED, "{\"calculated_value\":",
	    true, "no value");
	truncated("struct-in-escape", "entry", STRUCTURED, "Joaqu\\u00", true,
	    "unterminated string");
	truncated("struct-after-nested-value", "entry", STRUCTURED, "\"????\"", true,
	    "unclosed object");
	truncated("struct-in-real", "entry", STRUCTURED, "12.", true, "incomplete number");
	truncated("struct-in-negative", "entry", STRUCTURED, ": -", true, "incomplete number");
	truncated("struct-in-exponent", "entry", STRUCTURED, "1.5e", true, "incomplete number");
	truncated("struct-in-nested-array", "entry", STRUCTURED, "\"Chiclana\",\n", true,
	    "no value");
	truncated("struct-before-nested-close", "entry", STRUCTURED, "\n        ]}", false,
	    "unclosed array");
	/* Cut inside the two bytes of 'ñ': a UTF-8 error at its first byte. */
	{
		size_t cut = offset_of(STRUCTURED, sizeof STRUCTURED - 1, "Fari\xc3") + 5;

		c = bad("struct-in-utf8-char", "entry", STRUCTURED, cut);
		expect(c, fmt("invalid UTF-8 at %s (byte 0xC3)", where(STRUCTURED, cut - 1)),
		    NULL, NULL);
	}

	/* Entity files, both shapes. */
	good("good-entity", "entity_port", "json", ENTITY, 2);
	truncated("entity-after-name", "entity_port", ENTITY, "\"Marsella\"", true,
	    "unclosed object");
	truncated("entity-in-voices", "entity_port", ENTITY, "\"Barcino\"", true,
	    "unclosed array");
	truncated("names-after-voice-comma", "entity_port", ENTITY_NAMES, "[\"Vigo\", ", true,
	    "no value");
	c = BAD_TEXT("names-twice", "entity_port",
	    "{\"names\": {\"Vigo\": [\"Bigo\"]},\n \"names\": {\"Cadiz\": [\"C\xc3\xa1" "diz\"]}}\n");
	expect(c, xstrdup_or_die("unexpected member after the \"names\" wrapper at line 2, "
	    "column 2"), NULL, NULL);

	/* Invalid UTF-8 in a string: stray bytes, overlong forms, surrogates, > U+10FFFF. */
	good("good-utf8", "entry", "json",
	    "[{\"ship_name\": \"Se\xc3\xb1ora \xe2\x82\xac \xf0\x9f\x9a\xa2\"}]\n", 1);
	bad_string("utf8-ff", "\xff", 1, "0xFF");
	bad_string("utf8-lone-continuation", "\x80", 1, "0x80");
	bad_string("utf8-overlong-c0af", "\xc0\xaf", 2, "0xC0");
	bad_string("utf8-overlong-e080af", "\xe0\x80\xaf", 3, "0xE0");
	bad_string("utf8-overlong-f08080af", "\xf0\x80\x80\xaf", 4, "0xF0");
	bad_string("utf8-surrogate-eda080", "\xed\xa0\x80", 3, "0xED");
	bad_string("utf8-above-10ffff", "\xf4\x90\x80\x80", 4, "0xF4");
	bad_string("utf8-cut-sequence", "\xe2\x82" "x", 3, "0xE2");
	c = BAD_TEXT("utf8-in-key", "entry", "[\n  {\"ship_\xfe" "name\": \"A\"}\n]\n");
	expect(c, xstrdup_or_die("invalid UTF-8 at line 2, column 10 (byte 0xFE)"), NULL, NULL);
	c = BAD_TEXT("utf8-between-tokens", "entry", "[\n  {\"ship_name\":\xa0\"A\"}\n]\n");
	expect(c, xstrdup_or_die("invalid UTF-8 at line 2, column 16 (byte 0xA0)"), NULL, NULL);

	/* \u escapes that name a lone surrogate (jtree, as jansson). */
	bad_record("surrogate-high-alone", "{\"ship_name\": \"A\\uD800B\"}",
	    "invalid Unicode '\\uD800'");
	bad_record("surrogate-low-alone", "{\"ship_name\": \"A\\uDC00\"}",
	    "invalid Unicode '\\uDC00'");
	bad_record("surrogate-high-then-not-low", "{\"ship_name\": \"\\uD83D\\u0041\"}",
	    "invalid Unicode '\\uD83D\\u0041'");
	bad_record("surrogate-high-at-end", "{\"ship_name\": \"\\uDBFF\"}",
	    "invalid Unicode '\\uDBFF'");
	bad_record("nul-escape-in-key", "{\"ship\\u0000name\": \"A\"}",
	    "NUL byte in object key not supported");

	/* Raw NUL bytes, in each place. */
	c = BAD_TEXT("nul-in-string", "entry", "[\n  {\"ship_name\": \"Se\0ora\"}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 20: control character 0x00 "
	    "in a string"), NULL, NULL);
	c = BAD_TEXT("nul-in-key", "entry", "[\n  {\"ship\0name\": \"A\"}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 9: control character 0x00 "
	    "in a string"), NULL, NULL);
	c = BAD_TEXT("nul-between-tokens", "entry", "[\n  {\"ship_name\":\0\"A\"}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 16: unexpected character "
	    "0x00"), NULL, NULL);
	c = BAD_TEXT("nul-after-top-level", "entry", "[{\"ship_name\": \"A\"}]\n\0");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 1: unexpected character "
	    "0x00 after the top-level value"), NULL, NULL);
	c = BAD_TEXT("nul-first-byte", "entry", "\0[{\"ship_name\": \"A\"}]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 1, column 1: unexpected character "
	    "0x00"), NULL, NULL);

	/* 10,000 levels: refused at the 65th, the rest never looked at. */
	deep("deep-arrays-in-record", "entry", "[{\"cargo_list\":", false, "}]\n", 16 + 62);
	deep("deep-objects-in-record", "entry", "[", true, "]\n", 2 + 5 * 63);
	deep("deep-arrays-top", "entry", "", false, "\n", 65);
	deep("deep-entity-voices", "entity_port", "{\"Vigo\":", false, "}\n", 9 + 63);

	/* Numbers jansson refuses (and so the worker). */
	bad_record("integer-too-big", "{\"ship_tons_capacity\": 99999999999999999999}",
	    "too big integer");
	bad_record("integer-too-negative", "{\"ship_tons_capacity\": -9223372036854775809}",
	    "too big negative integer");
	bad_record("real-overflow", "{\"ship_tons_capacity\": 1e400}", "real number overflow");
	bad_record("real-overflow-negative", "{\"ship_tons_capacity\": -1.5e309}",
	    "real number overflow");
	c = BAD_TEXT("number-leading-zero", "entry", "[\n  {\"ship_tons_capacity\": 012}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 27: invalid number"), NULL, NULL);
	c = BAD_TEXT("number-nan", "entry", "[\n  {\"ship_tons_capacity\": NaN}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 2, column 26: unexpected character 'N'"),
	    NULL, NULL);

	/* Wrong top-level types. */
	c = BAD_TEXT("top-object-entry", "entry", "{\"ship_name\": \"A\"}\n");
	expect(c, xstrdup_or_die("expected a JSON array at the top level, found an object at "
	    "line 1, column 1"), NULL, NULL);
	c = BAD_TEXT("top-string-entry", "entry", "\n\n  \"ship_name\"\n");
	expect(c, xstrdup_or_die("expected a JSON array at the top level, found a string at "
	    "line 3, column 3"), NULL, NULL);
	c = BAD_TEXT("top-null-entry", "entry", "null");
	expect(c, xstrdup_or_die("expected a JSON array at the top level, found null at line "
	    "1, column 1"), NULL, NULL);
	c = BAD_TEXT("top-array-entity", "entity_flag", "[{\"Inglesa\": [\"ingl.\"]}]");
	expect(c, xstrdup_or_die("expected a JSON object at the top level, found an array at "
	    "line 1, column 1"), NULL, NULL);
	c = BAD_TEXT("record-is-array", "entry", "[\n  {\"ship_name\": \"A\"},\n  [\"B\"]\n]\n");
	expect(c, xstrdup_or_die("record 2 at line 3, column 3 is an array, expected an "
	    "object"), NULL, NULL);

	/* BOMs: a UTF-8 BOM before the value is allowed (good-bom); these are not. */
	good("good-bom", "entry", "json", "\xef\xbb\xbf[{\"ship_name\": \"A\"}]\n", 1);
	c = BAD_TEXT("bom-only", "entry", "\xef\xbb\xbf");
	expect(c, xstrdup_or_die("empty file: no JSON value"), NULL, NULL);
	c = BAD_TEXT("bom-cut", "entry", "\xef\xbb[{\"ship_name\": \"A\"}]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 1, column 1: unexpected character "
	    "0xEF"), NULL, NULL);
	c = BAD_TEXT("bom-between-records", "entry",
	    "[{\"ship_name\": \"A\"},\xef\xbb\xbf{\"ship_name\": \"B\"}]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 1, column 21: unexpected character "
	    "0xEF"), NULL, NULL);
	c = BAD_TEXT("bom-utf16le", "entry", "\xff\xfe[\0{\0}\0]\0");
	expect(c, xstrdup_or_die("invalid UTF-8 at line 1, column 1 (byte 0xFF)"), NULL, NULL);
	c = BAD_TEXT("bom-after-space", "entry", " \xef\xbb\xbf[]");
	expect(c, xstrdup_or_die("invalid JSON at line 1, column 2: unexpected character "
	    "0xEF"), NULL, NULL);

	/*
	 * A key twice in one object: refused (which value a column gets must
	 * not be a guess), at the second key's closing quote; at any depth,
	 * keys compared after unescaping.
	 */
	c = BAD_TEXT("duplicate-key", "entry", "[{\"ship_name\": \"A\", \"ship_name\": \"B\"}]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 1, column 31: duplicate key "
	    "\"ship_name\" in an object (in record 1)"), NULL, NULL);
	c = BAD_TEXT("duplicate-key-nested", "entry",
	    "[\n  {\"ship_name\": {\"original_value\": \"A\",\n"
	    "                 \"original_valu\\u0065\": \"B\"}}\n]\n");
	expect(c, xstrdup_or_die("invalid JSON at line 3, column 38: duplicate key "
	    "\"original_value\" in an object (in record 1)"), NULL, NULL);

	big_string();

	/* Paths that are not a readable regular file inside the ingest root. */
	snprintf(outside, sizeof outside, "%s", h_write_str("outside/secret.json",
	    "[{\"ship_name\": \"A\"}]\n"));
	snprintf(path, sizeof path, "%s", h_path("ingest/corpus/escape-link.json"));
	ck_assert_int_eq(symlink(outside, path), 0);
	c = add("symlink-outside-root", "entry", path);
	expect(c, fmt("file_path %s is outside the ingest roots", path), NULL, NULL);

	snprintf(path, sizeof path, "%s", h_path("ingest/corpus/../../outside/secret.json"));
	c = add("dotdot-outside-root", "entry", path);
	expect(c, fmt("file_path %s is outside the ingest roots", path), NULL, NULL);

	snprintf(path, sizeof path, "%s", h_path("ingest/corpus/loop.json"));
	ck_assert_int_eq(symlink("loop.json", path), 0);
	c = add("symlink-loop", "entry", path);
	expect(c, fmt("too many symbolic links in %s", path), NULL, NULL);

	*unreadable_how = unreadable_setup(unreadable_ok);
	if (*unreadable_ok) {
		snprintf(path, sizeof path, "%s", h_write_str("ingest/corpus/mode-000.json",
		    "[{\"ship_name\": \"A\"}]\n"));
		ck_assert_int_eq(chmod(path, 0), 0);
		c = add("unreadable", "entry", path);
		expect(c, fmt("permission denied: %s", path), NULL, NULL);
	}

	snprintf(path, sizeof path, "%s", h_path("ingest/corpus/dir.json"));
	ck_assert_int_eq(mkdir(path, 0700), 0);
	c = add("directory", "entry", path);
	expect(c, fmt("file_path is a directory, not a regular file: %s", path), NULL, NULL);

	snprintf(path, sizeof path, "%s", h_path("ingest/corpus/fifo.json"));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	c = add("fifo", "entry", path);
	expect(c, fmt("file_path is a FIFO, not a regular file: %s", path), NULL, NULL);

	/* A socket file: open() fails with ENXIO before fstat() could name it. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(path, sizeof path, "%s", h_path("ingest/corpus/sock.json"));
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		ck_assert(fd >= 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
		/* closed: the file stays, nobody listens */
		close(fd);
		c = add("socket", "entry", path);
		expect(c, fmt("file_path is a socket, not a regular file: %s", path), NULL, NULL);
	}

	snprintf(path, sizeof path, "%s/", h_path("ingest/corpus/good-flat.json"));
	c = add("trailing-slash", "entry", path);
	expect(c, fmt("file not found: %s (a parent is not a directory)", path), NULL, NULL);

	c = add("empty-path", "entry", "");
	expect(c, xstrdup_or_die("file_path is empty"), NULL, NULL);

	/* Not UTF-8: the file exists, but its name cannot be shown as text. */
	n = snprintf(doc, sizeof doc, "%s", h_write_str("ingest/corpus/latin1-Se\xf1ora.json",
	    "[{\"ship_name\": \"A\"}]\n"));
	ck_assert(n > 0);
	c = add("path-not-utf8", "entry", doc);
	expect(c, xstrdup_or_die("file_path is not valid UTF-8 (byte 0xF1 at"), NULL, NULL);

	c = add("file-type-not-utf8", "entity_\xe9", h_path("ingest/corpus/good-entity.json"));
	expect(c, xstrdup_or_die("unsupported file_type: not valid UTF-8"), NULL, NULL);

	/* A NUL inside file_path: the path cut short at it is a good file. */
	c = add("path-with-nul", "entry", h_path("ingest/corpus/good-flat.json"));
	c->path = realloc(c->path, c->path_len + 8);
	ck_assert(c->path != NULL);
	memcpy(c->path + c->path_len, "\0.x", 4);
	c->path_len += 3;
	expect(c, fmt("file_path contains a NUL byte at offset %zu", c->path_len - 3), NULL,
	    NULL);
}

/* HSET file:<id> as the newer API does, with a binary-safe file_path; RPUSH files:all. */
static void
enqueue(const char *id, const struct corpus_case *c)
{
	char stored[128], original[128];

	snprintf(stored, sizeof stored, "%s.json", id);
	snprintf(original, sizeof original, "%s.json", c->name);
	freeReplyObject(h_cmd("HSET file:%s original_filename %s stored_filename %s "
	    "file_path %b file_type %s status 0 user corpus timestamp %s", id, original,
	    stored, c->path, c->path_len, c->file_type, h_timestamp()));
	h_ok("RPUSH files:all %s", id);
}

/* Wait until every id of the round has a final status. */
static void
wait_round(struct h_worker *w, char **ids, size_t n)
{
	double deadline = h_now() + 60 * h_slow();
	size_t i, left;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			char *st = h_hget(ids[i], "status");

			if (st == NULL || (strcmp(st, "2") != 0 && strcmp(st, "-1") != 0))
				left++;
			free(st);
		}
		if (left == 0)
			return;
		ck_assert_msg(h_worker_running(w), "the worker exited with %zu ids left", left);
		ck_assert_msg(h_now() < deadline, "%zu ids still not final after 60 s", left);
		h_sleep(0.05);
	}
}

/* Every case ended as it must; the messages of the round are all different. */
static void
check_round(const struct h_log *log, char **ids, bool show, size_t *n_bad)
{
	char *msgs[MAX_CASES];
	size_t i, j, k, n_wrong = 0;

	*n_bad = 0;
	for (i = 0; i < n_cases; i++) {
		const struct corpus_case *c = &cases[i];
		char *st = h_hget(ids[i], "status"), *msg = h_hget(ids[i], "error_message");

		msgs[i] = msg;
		if (c->good) {
			char *rec = h_hget(ids[i], "records");

			ck_assert_msg(st != NULL && strcmp(st, "2") == 0, "%s: status %s, expected "
			    "2 (%s)", ids[i], st ? st : "(nil)", msg ? msg : "");
			ck_assert_msg(rec != NULL && strtoul(rec, NULL, 10) == c->records,
			    "%s: %s records, expected %u", ids[i], rec ? rec : "(nil)", c->records);
			ck_assert_int_eq(h_log_count(log, "done", ids[i]), 1);
			free(rec);
			free(st);
			continue;
		}
		(*n_bad)++;
		if (show)
			printf("%-30s %s\n", c->name, msg != NULL ? msg : "(no error_message)");
		if (st == NULL || strcmp(st, "-1") != 0 || msg == NULL) {
			printf("%s: status %s, expected -1\n", ids[i], st ? st : "(nil)");
			n_wrong++;
			free(st);
			continue;
		}
		for (k = 0; c->expect[k] != NULL; k++)
			if (strstr(msg, c->expect[k]) == NULL) {
				/* All of them, not just the first: one run shows every slip. */
				printf("%s: error_message '%s' lacks '%s'\n", ids[i], msg,
				    c->expect[k]);
				n_wrong++;
			}
		ck_assert_int_eq(h_log_count(log, "failed", ids[i]), 1);
		ck_assert_str_eq(h_log_msg(log, "failed", ids[i]), msg);
		ck_assert_int_eq(h_log_count(log, "done", ids[i]), 0);
		free(st);
	}
	ck_assert_msg(n_wrong == 0, "%zu error messages are not as expected", n_wrong);
	for (i = 0; i < n_cases; i++)
		for (j = i + 1; j < n_cases; j++)
			if (!cases[i].good && !cases[j].good && msgs[i] != NULL && msgs[j] != NULL)
				ck_assert_msg(strcmp(msgs[i], msgs[j]) != 0,
				    "%s and %s fail alike: %s", ids[i], ids[j], msgs[i]);
	for (i = 0; i < n_cases; i++)
		free(msgs[i]);
}

static char **
round_ids(unsigned round)
{
	char **ids = calloc(n_cases, sizeof *ids);
	size_t i;

	ck_assert(ids != NULL);
	for (i = 0; i < n_cases; i++) {
		char buf[96];

		snprintf(buf, sizeof buf, "r%u-%s", round, cases[i].name);
		ids[i] = xstrdup_or_die(buf);
	}
	return ids;
}

/*
 * Enqueue the whole corpus in order, and after every third bad case one
 * more good file (ids fill[], cycling through the good cases): the worker
 * must go on serving between failures.
 */
static size_t
enqueue_round(unsigned round, char **ids, char **fill, size_t *fill_case)
{
	size_t i, n_fill = 0, n_bad = 0, goods[MAX_CASES], n_goods = 0;

	for (i = 0; i < n_cases; i++)
		if (cases[i].good)
			goods[n_goods++] = i;
	for (i = 0; i < n_cases; i++) {
		enqueue(ids[i], &cases[i]);
		if (!cases[i].good && ++n_bad % 3 == 0) {
			char buf[64];

			fill_case[n_fill] = goods[n_fill % n_goods];
			snprintf(buf, sizeof buf, "r%u-fill-%03zu", round, n_fill);
			fill[n_fill] = xstrdup_or_die(buf);
			enqueue(fill[n_fill], &cases[fill_case[n_fill]]);
			n_fill++;
		}
	}
	return n_fill;
}

/* The good files between the bad ones are done, with all their records. */
static void
check_fill(const struct h_log *log, char **fill, const size_t *fill_case, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *st = h_hget(fill[i], "status"), *rec = h_hget(fill[i], "records");

		ck_assert_msg(st != NULL && strcmp(st, "2") == 0, "%s: status %s, expected 2",
		    fill[i], st ? st : "(nil)");
		ck_assert_msg(rec != NULL && strtoul(rec, NULL, 10) == cases[fill_case[i]].records,
		    "%s: %s records", fill[i], rec ? rec : "(nil)");
		ck_assert_int_eq(h_log_count(log, "done", fill[i]), 1);
		free(st);
		free(rec);
	}
}

START_TEST(corpus)
{
	const char *unreadable_how;
	bool unreadable_ok, wrapped = getenv("PW_TEST_WRAPPER") != NULL &&
	    *getenv("PW_TEST_WRAPPER") != '\0';
	char **ids[2], *fill[2][MAX_CASES];
	size_t fill_case[2][MAX_CASES], n_fill[2], n_all;
	long rss[2], hwm;
	size_t r, i, n_bad = 0;
	struct h_worker w;
	struct h_log *log;
	double t0 = h_now();

	build_corpus(&unreadable_ok, &unreadable_how);
	printf("corpus: %zu cases built in %.1f s; unreadable file: %s\n", n_cases,
	    h_now() - t0, unreadable_how);

	/* A short commit interval: the good files need not wait a second each. */
	h_worker_start(&w, "corpus", "--max-inflight", "4", "--commit-interval-ms", "50", NULL);
	for (r = 0; r < 2; r++) {
		double t = h_now();

		ids[r] = round_ids((unsigned)r + 1);
		n_fill[r] = enqueue_round((unsigned)r + 1, ids[r], fill[r], fill_case[r]);
		wait_round(&w, ids[r], n_cases);
		wait_round(&w, fill[r], n_fill[r]);
		rss[r] = proc_kb(w.pid, "VmRSS:");
		/* Read once the worker surely runs: before its exec the child has our caps. */
		if (unreadable_ok && geteuid() == 0)
			ck_assert_msg((proc_caps(w.pid) & (1ULL << CAP_DAC_OVERRIDE |
			    1ULL << CAP_DAC_READ_SEARCH)) == 0, "the worker can read any file");
		n_all = n_cases + n_fill[r];
		printf("round %zu: %zu files in %.1f s, worker VmRSS %ld kB\n", r + 1, n_all,
		    h_now() - t, rss[r]);
	}
	hwm = proc_kb(w.pid, "VmHWM:");
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	log = h_log_load(w.log);
	for (r = 0; r < 2; r++) {
		check_round(log, ids[r], r == 0, &n_bad);
		check_fill(log, fill[r], fill_case[r], n_fill[r]);
	}
	printf("corpus: %zu bad cases (each twice), %zu good, %zu good between them; RSS %ld -> "
	    "%ld kB (%+ld kB), peak %ld kB\n", n_bad, n_cases - n_bad, n_fill[0], rss[0], rss[1],
	    rss[1] - rss[0], hwm);
	ck_assert_msg(n_bad >= 40, "only %zu bad cases", n_bad);
	h_assert_lists_empty("corpus");
	ck_assert_int_eq(log->n_foreign, 0);
	/* valgrind's RSS is its own; ASan's quarantine keeps freed memory resident. */
#if defined(__SANITIZE_ADDRESS__)
	wrapped = true;
#endif
	if (wrapped)
		printf("RSS growth not checked (valgrind or AddressSanitizer)\n");
	else {
		ck_assert_msg(rss[1] - rss[0] < RSS_GROWTH_MAX_KB, "worker RSS grew %ld kB "
		    "in the second round", rss[1] - rss[0]);
		/* The 100 MB string was never held whole. */
		ck_assert_msg(hwm < PEAK_MAX_KB, "worker peak RSS %ld kB", hwm);
	}
	h_log_free(log);
	for (r = 0; r < 2; r++) {
		for (i = 0; i < n_cases; i++)
			free(ids[r][i]);
		free(ids[r]);
		for (i = 0; i < n_fill[r]; i++)
			free(fill[r][i]);
	}
	for (i = 0; i < n_cases; i++) {
		free(cases[i].path);
		for (r = 0; cases[i].expect[r] != NULL; r++)
			free(cases[i].expect[r]);
	}
	printf("corpus: %.1f s in all\n", h_now() - t0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("corpus");

	setvbuf(stdout, NULL, _IOLBF, 0);	/* the forked test's lines survive a failure */
	TCase *tc = h_tcase("corpus", false);

	tcase_add_test(tc, corpus);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
