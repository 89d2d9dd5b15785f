/*
 * A libFuzzer target for the streaming record scanner (src/jsonscan.c).
 *
 * Input: two control bytes, then the document.
 *   byte 0  bit 0     top level: 0 array (entry files), 1 object (entity files)
 *           bit 1     object mode: unwrap {"names": {...}} as the worker does
 *           bits 2-3  max_record_bytes: default (16 MiB), 8, 64, 1024
 *           bits 4-5  max_depth: default (64), 1, 2, 5
 *           bit 6     the callback stops the scan at record (byte 1 & 15) + 1
 *           bit 7     an empty chunk is fed before every chunk
 *   byte 1  bits 0-2  chunks are 1 .. 2^(bits) bytes long
 *           bits 3-7  a seed; each chunk's length is drawn from it, the
 *                     chunk's number and the document byte it starts at, so
 *                     the split points come from the input itself
 *
 * Oracles, beyond "no crash, no sanitizer report, no leak":
 *  - the document fed whole and fed in chunks gives the same records (index,
 *    key and value bytes, positions) and the same outcome and message;
 *  - after an error every further call fails with the same message;
 *  - each record's bytes are the input's bytes at the line and column the
 *    scanner reports (counted here independently: lines by '\n', columns by
 *    characters, a leading BOM is not one), in document order, and a value
 *    starts like a JSON value and ends with no whitespace;
 *  - pw_scan_held() stays within two records, the nesting stack and slack;
 *  - against jansson (default limits, no early stop, no unwrap): a document
 *    jansson accepts with the right top-level type and a depth within the
 *    limit is accepted with as many records as the array has elements; a
 *    document the scanner accepts is one jansson accepts or refuses only for
 *    what the scanner leaves to jtree (numbers out of range, lone surrogate
 *    escapes, NUL in keys).
 * fuzz_jsonscan_replay runs tests/fuzz/corpus/jsonscan as the unit test
 * 'fuzz-jsonscan-corpus'.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "portada/jsonscan.h"

struct rec {
	size_t		 index;
	char		*key;
	size_t		 key_len;
	bool		 has_key;
	char		*data;
	size_t		 len;
	unsigned long	 line, column, value_line, value_column;
};

struct run {
	struct rec	*recs;
	size_t		 n, cap;
	size_t		 stop_at;	/* SIZE_MAX: never */
	bool		 failed;
	struct pw_error	 err;
	size_t		 nrecords;	/* pw_scan_records() at the end */
};

static const size_t max_bytes_choice[] = { 0, 8, 64, 1024 };
static const unsigned max_depth_choice[] = { 0, 1, 2, 5 };

static char *
dup_bytes(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int
on_record(void *arg, const struct pw_scan_record *r, struct pw_error *err)
{
	struct run *run = arg;
	struct rec *x;

	if (r->index != run->n)
		fz_fail("record index %zu, expected %zu", r->index, run->n);
	if (run->n == run->stop_at) {
		pw_error_set(err, "stopped by the callback at record %zu", r->index + 1);
		return -1;
	}
	if (run->n == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 16;
		run->recs = realloc(run->recs, run->cap * sizeof *run->recs);
		if (run->recs == NULL)
			abort();
	}
	x = &run->recs[run->n++];
	x->index = r->index;
	x->has_key = r->key != NULL;
	x->key = x->has_key ? dup_bytes(r->key, r->key_len) : NULL;
	x->key_len = r->key_len;
	x->data = dup_bytes(r->data, r->len);
	x->len = r->len;
	x->line = r->line;
	x->column = r->column;
	x->value_line = r->value_line;
	x->value_column = r->value_column;
	return 0;
}

static void
run_free(struct run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		free(run->recs[i].key);
		free(run->recs[i].data);
	}
	free(run->recs);
}

/* A chunk length in 1..maxchunk from the seed, the chunk number and the byte at pos. */
static size_t
chunk_len(unsigned seed, size_t nchunk, unsigned char at, size_t maxchunk)
{
	uint32_t h = (seed + 1) * 2654435761u ^ (uint32_t)nchunk * 40503u ^ at * 2246822519u;

	h ^= h >> 15;
	h *= 2246822519u;
	h ^= h >> 13;
	return 1 + h % maxchunk;
}

static void
scan_run(const struct pw_scan_options *opts, const unsigned char *doc, size_t len,
    bool chunked, unsigned seed, size_t maxchunk, bool empty_chunks, struct run *run)
{
	struct pw_scan *s = pw_scan_create(opts, on_record, run);
	size_t max = opts->max_record_bytes ? opts->max_record_bytes : 16u << 20;
	unsigned depth = opts->max_depth ? opts->max_depth : 64;
	size_t pos = 0, nchunk = 0;
	struct pw_error again;

	while (pos < len && !run->failed) {
		size_t n = chunked ? chunk_len(seed, nchunk++, doc[pos], maxchunk) : len;

		if (n > len - pos)
			n = len - pos;
		if (empty_chunks && pw_scan_feed(s, doc + pos, 0, &run->err) == -1)
			fz_fail("an empty chunk failed: %s", run->err.msg);
		if (pw_scan_feed(s, doc + pos, n, &run->err) == -1)
			run->failed = true;
		pos += n;
		if (pw_scan_held(s) > 2 * max + depth + 64)
			fz_fail("scanner holds %zu bytes (limit %zu, depth %u)", pw_scan_held(s),
			    max, depth);
	}
	if (!run->failed && pw_scan_finish(s, &run->err) == -1)
		run->failed = true;
	if (run->failed) {
		if (pw_scan_feed(s, "]", 1, &again) != -1 || strcmp(again.msg, run->err.msg) != 0)
			fz_fail("after \"%s\" a feed gave \"%s\"", run->err.msg, again.msg);
		if (pw_scan_finish(s, &again) != -1 || strcmp(again.msg, run->err.msg) != 0)
			fz_fail("after \"%s\" finish gave \"%s\"", run->err.msg, again.msg);
	}
	run->nrecords = pw_scan_records(s);
	pw_scan_destroy(s);
}

static void
compare_runs(const struct run *a, const struct run *b)
{
	if (a->failed != b->failed || (a->failed && strcmp(a->err.msg, b->err.msg) != 0))
		fz_fail("whole: %s; chunked: %s", a->failed ? a->err.msg : "ok",
		    b->failed ? b->err.msg : "ok");
	if (a->n != b->n || a->nrecords != b->nrecords)
		fz_fail("whole gave %zu records (%zu counted), chunked %zu (%zu)", a->n,
		    a->nrecords, b->n, b->nrecords);
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->recs[i], *y = &b->recs[i];

		if (x->has_key != y->has_key || x->key_len != y->key_len ||
		    (x->has_key && memcmp(x->key, y->key, x->key_len) != 0) ||
		    x->len != y->len || memcmp(x->data, y->data, x->len) != 0)
			fz_fail("record %zu differs whole and chunked", i + 1);
		if (x->line != y->line || x->column != y->column ||
		    x->value_line != y->value_line || x->value_column != y->value_column)
			fz_fail("record %zu at %lu:%lu (value %lu:%lu) whole, %lu:%lu (%lu:%lu) "
			    "chunked", i + 1, x->line, x->column, x->value_line, x->value_column,
			    y->line, y->column, y->value_line, y->value_column);
	}
}

/* The offset of (line, column), counted independently; SIZE_MAX if none. */
static size_t
offset_of(const unsigned char *doc, size_t len, unsigned long line, unsigned long column)
{
	size_t o = len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	unsigned long l = 1, c = 1;

	for (; o < len; o++) {
		if ((doc[o] & 0xC0) == 0x80)
			continue;	/* a continuation byte is no new character */
		if (l == line && c == column)
			return o;
		if (doc[o] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	return SIZE_MAX;
}

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void
check_positions(const struct run *run, const unsigned char *doc, size_t len)
{
	size_t end = 0;

	for (size_t i = 0; i < run->n; i++) {
		const struct rec *x = &run->recs[i];
		size_t vo = offset_of(doc, len, x->value_line, x->value_column), ko;

		if (vo == SIZE_MAX || vo < end || x->len == 0 || x->len > len - vo ||
		    memcmp(doc + vo, x->data, x->len) != 0)
			fz_fail("record %zu is not the input's bytes at line %lu, column %lu",
			    i + 1, x->value_line, x->value_column);
		if (strchr("[{\"-0123456789tfn", x->data[0]) == NULL || is_ws(x->data[x->len - 1]))
			fz_fail("record %zu does not look like one JSON value", i + 1);
		if (x->has_key) {
			ko = offset_of(doc, len, x->line, x->column);
			if (ko == SIZE_MAX || ko < end || x->key_len < 2 || ko + x->key_len > vo ||
			    memcmp(doc + ko, x->key, x->key_len) != 0 || x->key[0] != '"' ||
			    x->key[x->key_len - 1] != '"')
				fz_fail("the key of record %zu is not the input's bytes at line %lu, "
				    "column %lu", i + 1, x->line, x->column);
		} else if (x->line != x->value_line || x->column != x->value_column) {
			fz_fail("array record %zu: position and value position differ", i + 1);
		}
		end = vo + x->len;
	}
}

static size_t
json_depth(const json_t *v)
{
	size_t d = 0, i, k;
	const char *key;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if ((k = json_depth(x)) > d)
				d = k;
		return d + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
			if ((k = json_depth(x)) > d)
				d = k;
		return d + 1;
	}
	return 0;
}

/* What jansson refuses that the scanner leaves to jtree. */
static bool
jtree_only(const char *text)
{
	return strstr(text, "too big") != NULL || strstr(text, "real number overflow") != NULL ||
	    strstr(text, "invalid Unicode") != NULL || strstr(text, "NUL byte in object key") != NULL;
}

static void
against_jansson(const struct pw_scan_options *opts, const unsigned char *doc, size_t len,
    const struct run *run)
{
	size_t skip = len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	unsigned max_depth = opts->max_depth ? opts->max_depth : 64;
	json_error_t je;
	json_t *root;

	root = json_loadb((const char *)doc + skip, len - skip, JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		if (!run->failed && !jtree_only(je.text))
			fz_fail("the scanner accepts what jansson refuses: %s", je.text);
		return;
	}
	/* jansson stops at a NUL byte after a number or word ([1\0] parses; see
	 * tests/unit/test_jtree.c), the scanner does not */
	if ((opts->top == PW_SCAN_ARRAY ? json_is_array(root) : json_is_object(root)) &&
	    json_depth(root) <= max_depth && memchr(doc, '\0', len) == NULL) {
		if (run->failed)
			fz_fail("jansson accepts what the scanner refuses: %s", run->err.msg);
		if (opts->top == PW_SCAN_ARRAY ? run->n != json_array_size(root) :
		    run->n < json_object_size(root))
			fz_fail("%zu records, jansson has %zu values", run->n,
			    opts->top == PW_SCAN_ARRAY ? json_array_size(root) :
			    json_object_size(root));
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_scan_options opts;
	struct run whole, chunked;
	const unsigned char *doc = data + 2;
	size_t len, maxchunk;
	unsigned flags, seed;

	if (size < 2)
		return 0;
	flags = data[0];
	len = size - 2;
	memset(&opts, 0, sizeof opts);
	opts.top = flags & 1 ? PW_SCAN_OBJECT : PW_SCAN_ARRAY;
	opts.unwrap_key = flags & 2 ? "names" : NULL;
	opts.max_record_bytes = max_bytes_choice[(flags >> 2) & 3];
	opts.max_depth = max_depth_choice[(flags >> 4) & 3];
	maxchunk = (size_t)1 << (data[1] & 7);
	seed = data[1] >> 3;

	memset(&whole, 0, sizeof whole);
	memset(&chunked, 0, sizeof chunked);
	whole.stop_at = chunked.stop_at = flags & 64 ? (size_t)(data[1] & 15) : SIZE_MAX;
	scan_run(&opts, doc, len, false, 0, 0, false, &whole);
	scan_run(&opts, doc, len, true, seed, maxchunk, (flags & 128) != 0, &chunked);
	compare_runs(&whole, &chunked);
	check_positions(&whole, doc, len);
	if (!(flags & 64) && opts.unwrap_key == NULL && opts.max_record_bytes == 0)
		against_jansson(&opts, doc, len, &whole);
	run_free(&whole);
	run_free(&chunked);
	return 0;
}
