/*
 * Tests for src/jtree.c, mostly against jansson itself (see
 * tests/common/jtree_vs_jansson.h): same values, or the same error text
 * (jansson's wording, " near '...'" context included) at the same position,
 * so a message a user sees does not depend on which parser ran.  Duplicate
 * keys are refused by both (jansson with JSON_REJECT_DUPLICATES); jtree's
 * own message for them is checked here.
 *
 * Inputs: a hand-written corpus, then the example files and the PortAda
 * samples (if present), then random mutations of small documents.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portada/jtree.h"
#include "../common/jtree_vs_jansson.h"

static struct pw_jtree *tree;

static void
setup(void)
{
	tree = pw_jtree_create(0);
}

static void
teardown(void)
{
	pw_jtree_destroy(tree);
	tree = NULL;
}

/* Parse with both; fail the test on any difference. */
static void
compare(const char *data, size_t len)
{
	char why[600];

	ck_assert_msg(jvj_compare(tree, data, len, why, sizeof why), "%s: %.*s", why, (int)len,
	    data);
}

static void
compare_str(const char *s)
{
	compare(s, strlen(s));
}

static const char *const corpus[] = {
	/* values */
	"{}", "[]", "0", "-0", "1", "-1", "42", "1.5", "-1.5e3", "1E2", "1e+2", "1e-2",
	"0.1", "20.0", "1e16", "2.5e-07", "5e-324", "1e-400", "-1e-400", "1.7976931348623157e308",
	"9223372036854775807", "-9223372036854775808", "true", "false", "null",
	"\"\"", "\"a\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\"",
	"\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"x\\u0000y\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	"\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"", "\"\xed\x9f\xbf\xee\x80\x80\"",
	" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n",
	/* duplicate keys, and errors before and after one (the first one wins) */
	"{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":1,\"a\":{},\"a\":[2]}", "{\"\":1,\"\":2}",
	"{\"a\":{\"x\":1,\"x\":2},\"b\":[{\"y\":1,\"y\":null}]}",
	"{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
	    "\"k2\":20,\"k10\":10,\"k9\":90,\"k2\":200}",
	"{\"a\\u0041\":1,\"aA\":2}", "{\"a\":1,\"\\u0061\":2}", "{\"\\/\":1,\"/\":2}",
	"{\"a\":1,\"A\":2,\"a \":3,\"\xc3\xa9\":4,\"e\\u0301\":5}",
	"{\"a\":1,\"a\":1e999}", "{\"a\":1e999,\"a\":1}", "{\"a\":1,\"a\"", "{\"a\":1,\"a\":",
	"{\"a\":1,\"a\" 2}", "{\"a\":1,\"a\\u0000\":2}", "{\"a\":1,\"a\\ud800\":2}",
	"{\"a\":{\"a\":1},\"b\":{\"a\":2}}", "[{\"a\":1},{\"a\":2},{\"a\":3,\"b\":4,\"a\":5}]",
	"{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":"
	    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9},"
	    "\"k10\":10,\"k9\":9}",
	"\n{\n  \"ship_name\": \"A\",\n  \"ship_name\": \"B\"\n}",
	"[[[[[[[[[[]]]]]]]]]]", "[{\"a\":[{\"b\":[]}]}]",
	/* numbers out of range */
	"1e400", "-1e400", "1.5e999", "{\"a\": 1e999}", "99999999999999999999",
	"9223372036854775808", "-9223372036854775809", "-99999999999999999999",
	"999999999999999999999999", "[1, 99999999999999999999]",
	/* \u escapes */
	"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "\"a\\ud800b\"",
	"\"\\ud800\\\"", "\"\\ud800\\x\"", "\"\\ud800\\u12\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\x\"",
	"\"\\udc00\\ud800\"", "\"\\ud800\\n\\udc00\"", "\"\\ud800 \\u00zz\"",
	"{\"a\\u0000b\":1}", "{\"\\u0000\":1}", "{\"a\":\"\\u0000\"}",
	"\"0123456789012345678\\ud800\"", "\"\\ud800 this string is long\"",
	/* UTF-8 */
	"\"\xc3\"", "\"\xc3\x28\"", "\"\xc0\xaf\"", "\"\xc1\xbf\"", "\"\xe0\x80\xaf\"",
	"\"\xe0\x9f\xbf\"", "\"\xed\xa0\x80\"", "\"\xed\xbf\xbf\"", "\"\xf0\x80\x80\xaf\"",
	"\"\xf0\x8f\xbf\xbf\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xff\"",
	"\"\x80\"", "\"ab\xe2\x82\"", "\xc3\xa9", "\xff", "[\xc3]", "\"\xe2\x82",
	"\"a\nb\"", "\"a\tb\"", "\"\x01\"", "\"\x7f\"",
	/* syntax */
	"", " ", "[", "{", "[1", "[1,", "[1,]", "[,1]", "{\"a\"}", "{\"a\" 1}", "{\"a\":}",
	"{\"a\":1,}", "{,}", "{1:2}", "[1 2]", "[1] x", "[1]]", "{}}", "\"abc", "\"abc\\",
	"01", "1.", ".5", "-", "-a", "1e", "1e+", "+1", "1x", "0x10", "tru", "truex", "nul",
	"True", "NaN", "Infinity", "[true false]", "{\"a\":1 \"b\":2}", "\"\\", "[\"a\",",
	"{\"a\":[1,{\"b\":\"\\q\"}]}", "\n\n  [1,\n  2x]", "[1,\n\n", "\"\xc3\xa9\xc3\xa9\" x",
	"{\"\xc3\xa9\": 1e999}", "{\n  \"a\": [1,\n 99999999999999999999]}",
};

START_TEST(against_jansson_corpus)
{
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
		compare_str(corpus[i]);
	/* Bytes after len are not read. */
	compare("[1]]", 3);
	compare("\"ab\"", 3);
	/* NUL bytes in the input. */
	compare("\"a\0b\"", 5);
	compare("[1,\0]", 5);
	compare("\0", 1);
}
END_TEST

/* jansson drops a NUL right after a number or word (jtree_vs_jansson.h); jtree does not. */
START_TEST(nul_after_token)
{
	struct pw_jtree_error e;

	ck_assert_ptr_null(pw_jtree_parse(tree, "[1\0]", 4, &e));
	ck_assert_str_eq(e.text, "']' expected near end of file");
	ck_assert_uint_eq(e.pos, 3);
	ck_assert_ptr_null(pw_jtree_parse(tree, "{\"a\":true\0}", 11, &e));
	ck_assert_str_eq(e.text, "'}' expected near end of file");
	ck_assert_uint_eq(e.pos, 10);
}
END_TEST

static void
expect_error(const char *data, const char *text, size_t pos)
{
	struct pw_jtree_error e;

	ck_assert_msg(pw_jtree_parse(tree, data, strlen(data), &e) == NULL, "accepted: %s", data);
	ck_assert_str_eq(e.text, text);
	ck_assert_uint_eq(e.pos, pos);
	compare_str(data);	/* jansson refuses it at the same place */
}

/* n members "k0": 0, "k1": 1, ... into buf, then the rest; the length. */
static size_t
keys_object(char *buf, size_t cap, const char *before, unsigned n, const char *rest)
{
	size_t len = (size_t)snprintf(buf, cap, "%s{", before);

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s\"k%u\": %u", i ? ", " : "", i, i);
	len += (size_t)snprintf(buf + len, cap - len, "%s", rest);
	ck_assert_uint_lt(len, cap);
	return len;
}

/*
 * A key twice in one object, at any depth, is an error at the second one,
 * just past its closing quote (as jansson reports it), naming the key.
 */
START_TEST(duplicate_keys)
{
	char buf[4096], key[400], want[200];
	struct pw_jtree_error e;
	const struct pw_jval *v;
	unsigned long line, column;
	size_t n;

	expect_error("{\"a\": 1, \"b\": 2, \"a\": 3}", "duplicate key \"a\" in an object", 20);
	expect_error("{\"\": 1, \"\": 2}", "duplicate key \"\" in an object", 10);
	/* Compared unescaped, byte for byte. */
	expect_error("{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\" in an object", 15);
	expect_error("{\"\xc3\xa9\":1,\"\\u00e9\":2}", "duplicate key \"\xc3\xa9\" in an object",
	    16);
	v = pw_jtree_parse(tree, "{\"a\":1,\"A\":2,\"a \":3,\"\xc3\xa9\":4,\"e\\u0301\":5}", 39, &e);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->u.c.n, 5);
	/* Shown with JSON escapes. */
	expect_error("{\"q\\\"\\\\\\n\\u007f\": 1, \"q\\\"\\\\\\n\\u007f\": 2}",
	    "duplicate key \"q\\\"\\\\\\u000a\\u007f\" in an object", 36);
	/* At any depth, in arrays too; another object may have the same key. */
	expect_error("{\"a\": {\"b\": [1, {\"c\": 1, \"b\": 1, \"c\": 2}]}, \"c\": 3}",
	    "duplicate key \"c\" in an object", 36);
	/* The first error in the text wins, before or after the duplicate. */
	expect_error("{\"a\": 1e999, \"a\": 1}", "real number overflow near '1e999'", 11);
	expect_error("{\"a\": 1, \"a\": 1e999}", "duplicate key \"a\" in an object", 12);

	/* Where a user sees it: line and column of the second key's closing quote. */
	v = pw_jtree_parse(tree, "{\n  \"ship_name\": \"A\",\n  \"ship_name\": \"B\"\n}", 42, &e);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(e.text, "duplicate key \"ship_name\" in an object");
	pw_jtree_position("{\n  \"ship_name\": \"A\",\n  \"ship_name\": \"B\"\n}", e.pos, &line,
	    &column);
	ck_assert_uint_eq(line, 3);
	ck_assert_uint_eq(column, 13);

	/* A long key is cut to 80 bytes and "...", on a character boundary. */
	memset(key, 'x', 200);
	key[200] = '\0';
	snprintf(buf, sizeof buf, "{\"%s\": 1, \"%s\": 2}", key, key);
	snprintf(want, sizeof want, "duplicate key \"%.80s...\" in an object", key);
	expect_error(buf, want, strlen(buf) - 4);
	n = 0;
	key[n++] = 'a';
	for (int i = 0; i < 100; i++) {
		key[n++] = '\xc3';
		key[n++] = '\xa9';
	}
	key[n] = '\0';
	snprintf(buf, sizeof buf, "{\"%s\": 1, \"%s\": 2}", key, key);
	snprintf(want, sizeof want, "duplicate key \"%.79s...\" in an object", key);
	expect_error(buf, want, strlen(buf) - 4);

	/*
	 * From 32 keys on an object's keys go into a hash table: a duplicate of
	 * one of the first 32, of a later one, one after a nested object of as
	 * many (whose keys leave the table when it closes).
	 */
	n = keys_object(buf, sizeof buf, "", 40, ", \"k3\": 3}");
	ck_assert_ptr_null(pw_jtree_parse(tree, buf, n, &e));
	ck_assert_str_eq(e.text, "duplicate key \"k3\" in an object");
	compare(buf, n);
	n = keys_object(buf, sizeof buf, "", 40, ", \"k35\": 3}");
	ck_assert_ptr_null(pw_jtree_parse(tree, buf, n, &e));
	ck_assert_str_eq(e.text, "duplicate key \"k35\" in an object");
	compare(buf, n);
	n = keys_object(buf, sizeof buf, "[", 40, "}, ");
	n += keys_object(buf + n, sizeof buf - n, "", 50, ", \"k\": ");
	n += keys_object(buf + n, sizeof buf - n, "", 36, "}, \"k3\": 1}]");
	ck_assert_ptr_null(pw_jtree_parse(tree, buf, n, &e));
	ck_assert_str_eq(e.text, "duplicate key \"k3\" in an object");
	ck_assert_uint_eq(e.pos, n - 5);
	compare(buf, n);
	/* The same keys in sibling and nested objects are fine. */
	n = keys_object(buf, sizeof buf, "[", 40, "}, ");
	n += keys_object(buf + n, sizeof buf - n, "", 40, ", \"k\": ");
	n += keys_object(buf + n, sizeof buf - n, "", 40, "}, \"k40\": 1}, ");
	n += keys_object(buf + n, sizeof buf - n, "", 40, "}]");
	v = pw_jtree_parse(tree, buf, n, &e);
	ck_assert_msg(v != NULL, "%s", e.text);
	ck_assert_uint_eq(pw_jval_next(pw_jval_first(v))->u.c.n, 42);
	compare(buf, n);
	/* A failed parse leaves nothing behind for the next one. */
	n = keys_object(buf, sizeof buf, "", 40, ",");
	ck_assert_ptr_null(pw_jtree_parse(tree, buf, n, &e));
	buf[n - 1] = '}';
	v = pw_jtree_parse(tree, buf, n, &e);
	ck_assert_msg(v != NULL, "%s", e.text);
	ck_assert_uint_eq(v->u.c.n, 40);
}
END_TEST

/* The fastest of 3 parses of buf, in seconds. */
static double
parse_secs(const char *buf, size_t n)
{
	double best = 1e9;

	for (int i = 0; i < 3; i++) {
		struct pw_jtree_error e;
		struct timespec t0, t1;
		const struct pw_jval *v;
		double secs;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		v = pw_jtree_parse(tree, buf, n, &e);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ck_assert_msg(v != NULL, "%s", e.text);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs < best)
			best = secs;
	}
	return best;
}

/*
 * An object of 100,000 keys: in the hash table, not compared pairwise
 * (5e9 comparisons, many seconds), so it parses about as fast as the same
 * keys in 100,000 objects of one key (timed against that, not the clock,
 * so that a slow machine or valgrind does not matter); a duplicate is found
 * at its last key.
 */
START_TEST(many_keys)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 24, n;
	char *buf = malloc(cap);
	struct pw_jtree_error e;
	const struct pw_jval *v;
	double one, many;

	ck_assert_ptr_nonnull(buf);
	n = keys_object(buf, cap, "", N, "}");
	v = pw_jtree_parse(tree, buf, n, &e);
	ck_assert_msg(v != NULL, "%s", e.text);
	ck_assert_uint_eq(v->u.c.n, N);
	ck_assert_int_eq(pw_jobject_get(v, "k99999", 6)->u.i, 99999);
	one = parse_secs(buf, n);

	n = 0;
	for (unsigned i = 0; i < N; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s{\"k%u\": %u}", i ? ", " : "[", i, i);
	buf[n++] = ']';
	many = parse_secs(buf, n);
	/* measured: 1.5 (under valgrind: 1); pairwise it would be thousands */
	ck_assert_msg(one < 4 * many, "100,000 keys in one object: %.3f s, in 100,000 objects: "
	    "%.3f s", one, many);

	n = keys_object(buf, cap, "", N, ", \"k77777\": 0}");
	ck_assert_ptr_null(pw_jtree_parse(tree, buf, n, &e));
	ck_assert_str_eq(e.text, "duplicate key \"k77777\" in an object");
	ck_assert_uint_eq(e.pos, n - 4);
	compare(buf, n);
	free(buf);
}
END_TEST

START_TEST(depth)
{
	char deep[5000];
	size_t n;

	/* jansson's limit: 2048 nested containers parse, 2049 do not. */
	for (size_t d = 2047; d <= 2050; d++) {
		n = 0;
		for (size_t i = 0; i < d; i++)
			deep[n++] = '[';
		for (size_t i = 0; i < d; i++)
			deep[n++] = ']';
		compare(deep, n);
	}
	/* A smaller limit of our own. */
	{
		struct pw_jtree *t = pw_jtree_create(3);
		struct pw_jtree_error e;

		ck_assert_ptr_nonnull(pw_jtree_parse(t, "[[[1]]]", 7, &e));
		ck_assert_ptr_null(pw_jtree_parse(t, "[[{\"a\":[]}]]", 12, &e));
		ck_assert_str_eq(e.text, "maximum parsing depth reached near '['");
		ck_assert_uint_eq(e.pos, 8);
		pw_jtree_destroy(t);
	}
}
END_TEST

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return s;
}

START_TEST(against_jansson_files)
{
	static const char *const files[] = {
		PW_EXAMPLES_DIR "/db-1850-structured.json",
		PW_EXAMPLES_DIR "/dm-1861-flat.json",
		PW_EXAMPLES_DIR "/entity-flag.json",
		PW_EXAMPLES_DIR "/entity-port.json",
		PW_EXAMPLES_DIR "/broken-truncated.json",
		PW_SAMPLES_DIR "/structured-db-1850.json",
		PW_SAMPLES_DIR "/flat-dm-1861-cabotage.json",
	};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		size_t len;
		char *s = slurp(files[i], &len);

		if (s == NULL) {
			ck_assert_msg(strncmp(files[i], PW_SAMPLES_DIR, strlen(PW_SAMPLES_DIR)) == 0,
			    "%s missing", files[i]);
			continue;	/* the samples are optional */
		}
		compare(s, len);
		free(s);
	}
}
END_TEST

/* A tiny deterministic PRNG, so a failure can be replayed. */
static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

START_TEST(against_jansson_mutations)
{
	static const char *const seeds[] = {
		"{\"ship_name\": \"Rosa\", \"ship_tons\": {\"original_value\": 120, "
		    "\"calculated_value\": null}, \"cargo\": [\"wine\", {\"qty\": 3.5}]}",
		"[\"BCN\", \"Barna\", \"Barcino\", \"Barcelona\\u00e9\"]",
		"{\"a\": \"\\ud83d\\ude00 \xc3\xa9\", \"b\": [1e5, -0.25, 12345678901234], \"a\": true}",
		"{\"k\": \"x\\n\\t\\\"\\\\\", \"n\": null, \"f\": false, \"e\": {}, \"l\": []}",
		"[{\"x\": 1}, {\"x\": 2, \"x\": 3}, [[\"deep\"]], \"\\u0000\"]",
	};
	static const char alphabet[] = "{}[],:\"\\u0123456789abcdefABCDEFeE.-+ \n\ttfnrl"
	    "\x80\xbf\xc2\xc3\xdf\xe0\xed\xef\xf0\xf4\xf5\xff";
	char buf[512];

	for (int iter = 0; iter < 100000; iter++) {
		const char *s = seeds[next_rand() % (sizeof seeds / sizeof seeds[0])];
		size_t n = strlen(s);
		int edits = 1 + (int)(next_rand() % 3);

		memcpy(buf, s, n);
		for (int k = 0; k < edits; k++) {
			size_t at = next_rand() % (n + 1);
			char c = alphabet[next_rand() % (sizeof alphabet - 1)];

			switch (next_rand() % 4) {
			case 0:		/* replace */
				if (at < n)
					buf[at] = c;
				break;
			case 1:		/* insert */
				if (n + 1 < sizeof buf) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = c;
					n++;
				}
				break;
			case 2:		/* delete */
				if (at < n) {
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
				}
				break;
			default:	/* cut */
				n = at;
				break;
			}
		}
		compare(buf, n);
	}
}
END_TEST

/* A random object of up to 100 keys from a pool of 1000, some escaped, some nested. */
static size_t
random_object(char *buf, size_t cap, size_t n, int level)
{
	unsigned keys = next_rand() % 101;

	buf[n++] = '{';
	for (unsigned i = 0; i < keys && n + 64 < cap; i++) {
		unsigned k = next_rand() % 1000;

		if (i > 0)
			buf[n++] = ',';
		/* "k12" or, one time in 8, the same key with its 'k' escaped */
		n += (size_t)snprintf(buf + n, cap - n, next_rand() % 8 ? "\"k%u\":" :
		    "\"\\u006b%u\":", k);
		if (level < 3 && next_rand() % 16 == 0)
			n = random_object(buf, cap, n, level + 1);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%u", i);
	}
	buf[n++] = '}';
	return n;
}

/*
 * Objects big enough for the hash table (32 keys or more), nested, with
 * duplicates anywhere or none: jtree must refuse exactly where jansson
 * does.  Most have one (about a half of those past the 32nd key), about
 * one in six has none.
 */
START_TEST(against_jansson_random_keys)
{
	static char buf[1 << 16];
	unsigned refused = 0;

	for (int iter = 0; iter < 5000; iter++) {
		struct pw_jtree_error e;
		size_t n;

		if (next_rand() % 2) {
			buf[0] = '[';
			n = random_object(buf, sizeof buf - 2, 1, 1);
			buf[n++] = ']';
		} else {
			n = random_object(buf, sizeof buf - 1, 0, 0);
		}
		compare(buf, n);
		refused += pw_jtree_parse(tree, buf, n, &e) == NULL;
	}
	ck_assert_uint_gt(refused, 2500);
	ck_assert_uint_lt(refused, 4900);
}
END_TEST

/* The tree is reused: a second parse must not see the first one's nodes or strings. */
START_TEST(reuse)
{
	struct pw_jtree_error e;
	const struct pw_jval *v;

	v = pw_jtree_parse(tree, "{\"a\\n\": \"x\\ty\", \"b\": [1, 2, 3]}", 31, &e);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->u.c.n, 2);
	ck_assert_uint_eq(v->skip, 6);
	v = pw_jtree_parse(tree, "[\"\\u00e9\"]", 10, &e);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->skip, 2);
	ck_assert_uint_eq(pw_jval_first(v)->u.s.n, 2);
	ck_assert_int_eq(memcmp(pw_jval_first(v)->u.s.p, "\xc3\xa9", 2), 0);
	ck_assert_ptr_null(pw_jtree_parse(tree, "[1,", 3, &e));
	v = pw_jtree_parse(tree, "7", 1, &e);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, PW_JINT);
	ck_assert_int_eq(v->u.i, 7);
}
END_TEST

START_TEST(positions)
{
	unsigned long line, column;

	/* As jansson: characters, not bytes; a newline is column 0 of the next line. */
	pw_jtree_position("ab\xc3\xa9x", 5, &line, &column);
	ck_assert_uint_eq(line, 1);
	ck_assert_uint_eq(column, 4);
	pw_jtree_position("ab\ncd", 3, &line, &column);
	ck_assert_uint_eq(line, 2);
	ck_assert_uint_eq(column, 0);
	pw_jtree_position("ab\ncd", 0, &line, &column);
	ck_assert_uint_eq(line, 1);
	ck_assert_uint_eq(column, 0);
}
END_TEST

static Suite *
jtree_suite(void)
{
	Suite *s = suite_create("jtree");
	TCase *tc = tcase_create("jtree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, against_jansson_corpus);
	tcase_add_test(tc, nul_after_token);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, many_keys);
	tcase_add_test(tc, depth);
	tcase_add_test(tc, against_jansson_files);
	tcase_add_test(tc, against_jansson_mutations);
	tcase_add_test(tc, against_jansson_random_keys);
	tcase_add_test(tc, reuse);
	tcase_add_test(tc, positions);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jtree_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
