/*
 * Tests for src/yamlentities.c: both entity file shapes in block and flow
 * style; every kind of scalar kept as its text; UTF-8 (with a BOM) and
 * UTF-16 input; document markers and directives; every refusal with its
 * exact message; the caps; a callback that refuses; aliases refused before
 * they expand; and 100,000 entities read in memory that does not grow.
 *
 * Each entity is logged as `name=[voice|voice]@line:column` (newline and
 * NUL in a string shown as \n and \0), so a test compares one string.
 */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/utf8.h"
#include "portada/yamlentities.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

struct log {
	char *text;
	size_t len, cap;
	size_t calls;
	size_t fail_at;		/* refuse the fail_at-th entity (1-based), 0: never */
	int fail_silently;	/* refuse without setting err */
};

static struct log lg;
static struct pw_error err;

static void
setup(void)
{
	memset(&lg, 0, sizeof lg);
	memset(&err, 0, sizeof err);
}

static void
teardown(void)
{
	free(lg.text);
}

static void
log_put(struct log *l, const char *s, size_t n)
{
	if (l->cap - l->len < n + 1) {
		l->cap = (l->cap + n + 1) * 2;
		l->text = realloc(l->text, l->cap);
		ck_assert_ptr_nonnull(l->text);
	}
	memcpy(l->text + l->len, s, n);
	l->len += n;
	l->text[l->len] = '\0';
}

/* A string as the log shows it: \n and \0 escaped. */
static void
log_str(struct log *l, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			log_put(l, "\\n", 2);
		else if (s[i] == '\0')
			log_put(l, "\\0", 2);
		else
			log_put(l, s + i, 1);
	}
}

static int
on_entity(void *ctx, const char *name, size_t name_len,
    const struct pw_yaml_str *voices, size_t nvoices, size_t line,
    size_t column, struct pw_error *e)
{
	struct log *l = ctx;
	char pos[64];
	size_t i;

	/* The promises of the header, checked on every entity. */
	ck_assert_uint_eq(strlen(name), name_len);
	ck_assert_uint_eq(pw_utf8_check(name, name_len), name_len);
	for (i = 0; i < nvoices; i++) {
		ck_assert_uint_eq(pw_utf8_check(voices[i].data, voices[i].len),
		    voices[i].len);
		ck_assert_int_eq(voices[i].data[voices[i].len], '\0');
	}
	l->calls++;
	if (l->calls == l->fail_at) {
		if (!l->fail_silently)
			pw_error_set(e, "entity \"%s\" is not wanted", name);
		return -1;
	}
	log_str(l, name, name_len);
	log_put(l, "=[", 2);
	for (i = 0; i < nvoices; i++) {
		if (i > 0)
			log_put(l, "|", 1);
		log_str(l, voices[i].data, voices[i].len);
	}
	snprintf(pos, sizeof pos, "]@%zu:%zu\n", line, column);
	log_put(l, pos, strlen(pos));
	return 0;
}

static int
run(const char *doc, size_t len)
{
	return pw_yaml_entities(doc, len, on_entity, &lg, &err);
}

/* The document parses, and its entities log as `want`. */
static void
ok_n(const char *doc, size_t len, const char *want)
{
	free(lg.text);
	memset(&lg, 0, sizeof lg);
	err.msg[0] = '\0';
	if (run(doc, len) != 0)
		ck_abort_msg("unexpected error: %s\n  for: %s", err.msg, doc);
	ck_assert_str_eq(lg.text != NULL ? lg.text : "", want);
}

/* The document is refused with `msg`, after handing out `before`. */
static void
fail_n(const char *doc, size_t len, const char *before, const char *msg)
{
	free(lg.text);
	memset(&lg, 0, sizeof lg);
	err.msg[0] = '\0';
	ck_assert_int_eq(run(doc, len), -1);
	ck_assert_str_eq(err.msg, msg);
	ck_assert_str_eq(lg.text != NULL ? lg.text : "", before);
}

#define OK(doc, want)			ok_n((doc), strlen(doc), (want))
#define FAIL(doc, before, msg)		fail_n((doc), strlen(doc), (before), (msg))

START_TEST(block_mapping)
{
	OK("espa\xc3\xb1olas:\n"
	    "  - espa\xc3\xb1ola\n"
	    "  - espa\xc3\xb1oles\n"
	    "  - esp.\n"
	    "inglesa:\n"
	    "- ingl.\n"
	    "- brit\xc3\xa1nica\n",
	    "espa\xc3\xb1olas=[espa\xc3\xb1ola|espa\xc3\xb1oles|esp.]@1:1\n"
	    "inglesa=[ingl.|brit\xc3\xa1nica]@5:1\n");
	/* Indented top level, comments, blank lines, trailing spaces. */
	OK("# flags\n"
	    "\n"
	    "  a:   # first\n"
	    "    - b   \n"
	    "\n"
	    "  c: [d]\n",
	    "a=[b]@3:3\n"
	    "c=[d]@6:3\n");
	/* An explicit key. */
	OK("? Barcelona\n: [Barna]\n", "Barcelona=[Barna]@1:3\n");
	/* An empty top mapping: no entities, as JSON {}. */
	OK("{}\n", "");
}
END_TEST

START_TEST(flow_mapping)
{
	OK("{a: [b, c], 'd': [\"e\"], \"f\": [], g: [h,i,]}",
	    "a=[b|c]@1:2\n"
	    "d=[e]@1:13\n"
	    "f=[]@1:25\n"
	    "g=[h|i]@1:34\n");
	OK("{\n  a: [\n    b,\n    c\n  ]\n}\n", "a=[b|c]@2:3\n");
	/* Flow voices under block keys. */
	OK("a: [b]\nc:\n  - d\n", "a=[b]@1:1\nc=[d]@2:1\n");
}
END_TEST

/* The JSON examples (examples/files/entity-*.json) read as YAML alike. */
START_TEST(json_text)
{
	OK("{\n"
	    "  \"espa\xc3\xb1olas\": [\n"
	    "    \"espa\xc3\xb1ola\",\n"
	    "    \"esp.\"\n"
	    "  ],\n"
	    "  \"francesa\": [\n"
	    "    \"franc.\",\n"
	    "    \"franc\xc3\xa9s\"\n"
	    "  ]\n"
	    "}\n",
	    "espa\xc3\xb1olas=[espa\xc3\xb1ola|esp.]@2:3\n"
	    "francesa=[franc.|franc\xc3\xa9s]@6:3\n");
	OK("{\n"
	    "  \"names\": {\n"
	    "    \"Barcelona\": [\n"
	    "      \"Barna\",\n"
	    "      \"Barcelona\"\n"
	    "    ],\n"
	    "    \"La Habana\": [\"Habana\", \"la Habana\"]\n"
	    "  }\n"
	    "}\n",
	    "Barcelona=[Barna|Barcelona]@3:5\n"
	    "La Habana=[Habana|la Habana]@7:5\n");
}
END_TEST

/* The JSON path's rule: a first `names` key with a mapping value. */
START_TEST(names_wrapper)
{
	OK("names:\n"
	    "  Barcelona: [Barna, Barcelona]\n"
	    "  Castell\xc3\xb3n:\n"
	    "    - Castellon\n",
	    "Barcelona=[Barna|Barcelona]@2:3\n"
	    "Castell\xc3\xb3n=[Castellon]@3:3\n");
	OK("{names: {a: [b]}}", "a=[b]@1:10\n");
	OK("\"names\": {a: [b]}\n", "a=[b]@1:11\n");
	OK("!!str names: {a: [b]}\n", "a=[b]@1:15\n");
	OK("names: {}\n", "");
	/* A `names` inside the wrapper is an ordinary entity. */
	OK("names:\n  names: [x]\n", "names=[x]@2:3\n");
	/* Not a mapping: `names` is an ordinary entity. */
	OK("names: [a]\nb: [c]\n", "names=[a]@1:1\nb=[c]@2:1\n");
	/* Not first: an ordinary entity, whose voices are then wrong. */
	FAIL("a: [b]\nnames: {x: [y]}\n", "a=[b]@1:1\n",
	    "entity \"names\" at line 2, column 1: voices must be a sequence of "
	    "strings, found a mapping");
	FAIL("names:\n  a: [b]\nc: [d]\n", "a=[b]@2:3\n",
	    "unexpected member after the \"names\" wrapper at line 3, column 1");
	FAIL("{names: {}, ? [x] : y}", "",
	    "unexpected member after the \"names\" wrapper at line 1, column 15");
	/* Entities are counted inside the wrapper. */
	FAIL("names:\n  a: [b]\n  \"\": [c]\n", "a=[b]@2:3\n",
	    "entity 2 at line 3, column 3 has an empty name or one with a NUL "
	    "character");
}
END_TEST

/* Every scalar style; every scalar is its text. */
START_TEST(scalars)
{
	OK("a:\n"
	    "  - plain\n"
	    "    on two lines\n"
	    "  - 'single ''quoted'' # not a comment'\n"
	    "  - \"double \\\"quoted\\\" \\u00e9 \\x41 \\t|\\\n"
	    "    joined\"\n"
	    "  - \"folded\n"
	    "    line\"\n"
	    "  - |\n"
	    "    literal\n"
	    "     kept\n"
	    "  - >-\n"
	    "    folded\n"
	    "    block\n"
	    "  - |+\n"
	    "    keep\n"
	    "\n"
	    "b: []\n",
	    "a=[plain on two lines|single 'quoted' # not a comment|"
	    "double \"quoted\" \xc3\xa9 A \t|joined|folded line|"
	    "literal\\n kept\\n|folded block|keep\\n\\n]@1:1\n"
	    "b=[]@18:1\n");
	/* What PyYAML would turn into bool, int, float, date stays text. */
	OK("NO: [yes, No, on, 1.0, 0x10, 1_000, .inf, 2001-01-01, 12:30]\n",
	    "NO=[yes|No|on|1.0|0x10|1_000|.inf|2001-01-01|12:30]@1:1\n");
	OK("1850: [true]\n3.5: [false]\n", "1850=[true]@1:1\n3.5=[false]@2:1\n");
	/* Quoted or tagged, null spellings are text. */
	OK("a: [\"null\", '~', !!str ~, ! null, \"\", '']\n",
	    "a=[null|~|~|null||]@1:1\n");
	/* Standard scalar tags keep the text as written. */
	OK("a: [!!int 012, !!float 1e3, !!bool yes, !!timestamp 2001-01-01]\n",
	    "a=[012|1e3|yes|2001-01-01]@1:1\n");
	/* Voices may hold NUL, as JSON voices may. */
	OK("a: [\"x\\0y\", \"\\0\"]\n", "a=[x\\0y|\\0]@1:1\n");
	/* Anchors alone do nothing. */
	OK("a: &v [&w b, c]\n", "a=[b|c]@1:1\n");
}
END_TEST

START_TEST(unicode)
{
	OK("Castell\xc3\xb3n: [Castell\xc3\xb3n de la Plana]\n"
	    "\xe6\x9d\xb1\xe4\xba\xac: [\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd]\n"
	    "\xf0\x9f\x9a\xa2: [\"\\U0001F6A2\", \"\\u00e9\"]\n"
	    "\xc3\xa9t\xc3\xa9: [x]\n",
	    "Castell\xc3\xb3n=[Castell\xc3\xb3n de la Plana]@1:1\n"
	    "\xe6\x9d\xb1\xe4\xba\xac=[\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd]@2:1\n"
	    "\xf0\x9f\x9a\xa2=[\xf0\x9f\x9a\xa2|\xc3\xa9]@3:1\n"
	    "\xc3\xa9t\xc3\xa9=[x]@4:1\n");
	/* Columns count characters: "é" is one column. */
	OK("{\xc3\xa9: [a], b: [c]}\n", "\xc3\xa9=[a]@1:2\nb=[c]@1:10\n");
	/* A UTF-8 BOM is not a column. */
	OK("\xef\xbb\xbf" "a: [b]\n", "a=[b]@1:1\n");
	FAIL("\xef\xbb\xbf" "a: [b\x01]\n", "",
	    "invalid YAML at line 1, column 6: control character U+0001 is not "
	    "allowed");
}
END_TEST

START_TEST(empty_voices)
{
	OK("a: []\nb: [ ]\nc: !!seq []\n", "a=[]@1:1\nb=[]@2:1\nc=[]@3:1\n");
	OK("{a: [], b: []}", "a=[]@1:2\nb=[]@1:9\n");
}
END_TEST

START_TEST(documents)
{
	OK("---\na: [b]\n", "a=[b]@2:1\n");
	OK("--- {a: [b]}\n...\n", "a=[b]@1:6\n");
	OK("%YAML 1.1\n---\na: [b]\n...\n# trailing comment\n", "a=[b]@3:1\n");
	OK("%TAG !x! tag:yaml.org,2002:\n---\na: !x!seq [b]\n", "a=[b]@3:1\n");
	OK("a: [b]\n...\n", "a=[b]@1:1\n");
	FAIL("a: [b]\n---\nc: [d]\n", "a=[b]@1:1\n",
	    "a second YAML document at line 2, column 1: an entity file holds "
	    "one document");
	/* libyaml wants `---` before content after `...`. */
	FAIL("a: [b]\n...\nc: [d]\n", "a=[b]@1:1\n",
	    "invalid YAML at line 3, column 1: did not find expected <document "
	    "start>");
	FAIL("a: [b]\n...\n---\nc: [d]\n", "a=[b]@1:1\n",
	    "a second YAML document at line 3, column 1: an entity file holds "
	    "one document");
	FAIL("--- {a: [b]}\n--- {c: [d]}\n", "a=[b]@1:6\n",
	    "a second YAML document at line 2, column 1: an entity file holds "
	    "one document");
	FAIL("%YAML 2.0\n---\na: [b]\n", "",
	    "invalid YAML at line 1, column 1: found incompatible YAML document");
}
END_TEST

/* CRLF is one line break; CR alone and NEL are breaks too (libyaml's rule). */
START_TEST(line_breaks)
{
	OK("a: [b]\r\nc:\r\n  - d\r\n", "a=[b]@1:1\nc=[d]@2:1\n");
	FAIL("a: [b]\r\nc: [d]\r\ne: [f\x01]\r\n", "",
	    "invalid YAML at line 3, column 6: control character U+0001 is not "
	    "allowed");
	FAIL("a: [b]\r\x7f", "",
	    "invalid YAML at line 2, column 1: control character U+007F is not "
	    "allowed");
	FAIL("a: [\xc2\x85" "b]\nc: [d\xc2\x80]", "",
	    "invalid YAML at line 3, column 6: control character U+0080 is not "
	    "allowed");
}
END_TEST

START_TEST(top_level)
{
	FAIL("", "", "empty file: no YAML document");
	FAIL("# nothing but\n\n# comments\n", "", "empty file: no YAML document");
	FAIL("\xef\xbb\xbf", "", "empty file: no YAML document");
	FAIL("---\n", "", "expected a YAML mapping at the top level, found null "
	    "at line 2, column 1");
	FAIL("--- ~\n", "", "expected a YAML mapping at the top level, found null "
	    "at line 1, column 5");
	FAIL("- a\n- b\n", "", "expected a YAML mapping at the top level, found a "
	    "sequence at line 1, column 1");
	FAIL("[a]", "", "expected a YAML mapping at the top level, found a "
	    "sequence at line 1, column 1");
	FAIL("hello\n", "", "expected a YAML mapping at the top level, found a "
	    "string at line 1, column 1");
	FAIL("\"a: [b]\"\n", "", "expected a YAML mapping at the top level, "
	    "found a string at line 1, column 1");
}
END_TEST

START_TEST(bad_names)
{
	FAIL("a: [b]\n? [x]\n: [y]\n", "a=[b]@1:1\n",
	    "entity 2 at line 2, column 3 has a sequence as its name, expected "
	    "a string");
	FAIL("{{x: y}: [z]}", "",
	    "entity 1 at line 1, column 2 has a mapping as its name, expected a "
	    "string");
	FAIL("~: [b]\n", "", "entity 1 at line 1, column 1 has a null name (~); "
	    "quote it to use it as text");
	FAIL("a: [b]\nNULL: [b]\n", "a=[b]@1:1\n",
	    "entity 2 at line 2, column 1 has a null name (NULL); quote it to use "
	    "it as text");
	FAIL("!!null x: [b]\n", "", "entity 1 at line 1, column 1 has a null name "
	    "(x); quote it to use it as text");
	FAIL("{? : [b]}", "", "entity 1 at line 1, column 4 has an empty name or "
	    "one with a NUL character");
	FAIL("\"\": [b]\n", "", "entity 1 at line 1, column 1 has an empty name or "
	    "one with a NUL character");
	FAIL("\"a\\0b\": [b]\n", "", "entity 1 at line 1, column 1 has an empty "
	    "name or one with a NUL character");
	FAIL("<<: [b]\n", "", "entity 1 at line 1, column 1 is a merge key (<<), "
	    "which entity files do not support; quote it to use it as a name");
	OK("\"<<\": [b]\n'null': [c]\n", "<<=[b]@1:1\nnull=[c]@2:1\n");
}
END_TEST

/* "a" and 54 "é" (109 bytes): a message shows "a" and 49 "é" (99 bytes). */
static void
long_name_cut(void)
{
	char doc[160], msg[300];
	size_t n = 0, m;
	int i;

	doc[n++] = 'a';
	for (i = 0; i < 54; i++) {
		memcpy(doc + n, "\xc3\xa9", 2);
		n += 2;
	}
	memcpy(doc + n, ": x\n", 4);
	n += 4;
	m = (size_t)snprintf(msg, sizeof msg, "entity \"%.99s\" at line 1, "
	    "column 1: voices must be a sequence of strings, found a string", doc);
	ck_assert_uint_lt(m, sizeof msg);
	fail_n(doc, n, "", msg);
}

START_TEST(bad_voices)
{
	FAIL("a:\n", "", "entity \"a\" at line 1, column 1: voices must be a "
	    "sequence of strings, found null");
	FAIL("a: ~\n", "", "entity \"a\" at line 1, column 1: voices must be a "
	    "sequence of strings, found null");
	FAIL("a: Barna\n", "", "entity \"a\" at line 1, column 1: voices must be a "
	    "sequence of strings, found a string");
	FAIL("a: {b: c}\n", "", "entity \"a\" at line 1, column 1: voices must be a "
	    "sequence of strings, found a mapping");
	FAIL("a: [b]\nVigo:\n  - x\n  - y\n  - {c: d}\n", "a=[b]@1:1\n",
	    "entity \"Vigo\" at line 2, column 1: voices must be a sequence of "
	    "strings, found a mapping at element 3 (line 5, column 5)");
	FAIL("a: [b, [c]]\n", "", "entity \"a\" at line 1, column 1: voices must "
	    "be a sequence of strings, found a sequence at element 2 (line 1, "
	    "column 8)");
	FAIL("a:\n  - b\n  -\n  - c\n", "", "entity \"a\" at line 1, column 1: "
	    "voices must be a sequence of strings, found null at element 2 (line "
	    "3, column 4); quote it to use it as text");
	FAIL("a: [b, null]\n", "", "entity \"a\" at line 1, column 1: voices must "
	    "be a sequence of strings, found null at element 2 (line 1, column "
	    "8); quote it to use it as text");
	FAIL("a: [b, !!null \"x\"]\n", "", "entity \"a\" at line 1, column 1: "
	    "voices must be a sequence of strings, found null at element 2 (line "
	    "1, column 8); quote it to use it as text");
	/* A long name is cut at 100 bytes, on a character boundary. */
	long_name_cut();
}
END_TEST

START_TEST(tags)
{
	OK("!!map {a: !!seq [!!str b]}\n", "a=[b]@1:8\n");
	OK("! {a: ! [! b]}\n", "a=[b]@1:4\n");
	FAIL("a: !foo [b]\n", "", "unsupported tag !foo at line 1, column 4 "
	    "(entity files allow !!str, !!int, !!float, !!bool, !!null, "
	    "!!timestamp, !!seq and !!map)");
	FAIL("a: [!!binary aGVsbG8=]\n", "", "unsupported tag !!binary at line 1, "
	    "column 5 (entity files allow !!str, !!int, !!float, !!bool, !!null, "
	    "!!timestamp, !!seq and !!map)");
	FAIL("a: !!set {b: ~}\n", "", "unsupported tag !!set at line 1, column 4 "
	    "(entity files allow !!str, !!int, !!float, !!bool, !!null, "
	    "!!timestamp, !!seq and !!map)");
	FAIL("%TAG !e! tag:example.com,2000:\n---\na: !e!x [b]\n", "",
	    "unsupported tag tag:example.com,2000:x at line 3, column 4 (entity "
	    "files allow !!str, !!int, !!float, !!bool, !!null, !!timestamp, "
	    "!!seq and !!map)");
	FAIL("a: [!!seq b]\n", "", "tag !!seq on a scalar at line 1, column 5");
	FAIL("a: !!map [b]\n", "", "tag !!map on a sequence at line 1, column 4");
	FAIL("!!seq {a: [b]}\n", "", "tag !!seq on a mapping at line 1, column 1");
	FAIL("!!str a: [b]\nb: !!str [c]\n", "a=[b]@1:1\n",
	    "tag !!str on a sequence at line 2, column 4");
}
END_TEST

START_TEST(aliases)
{
	FAIL("a: &x [b]\nc: *x\n", "a=[b]@1:1\n",
	    "alias *x at line 2, column 4: aliases are not allowed in entity "
	    "files");
	FAIL("a: [&x b, *x]\n", "", "alias *x at line 1, column 11: aliases are "
	    "not allowed in entity files");
	FAIL("&k a: [b]\n*k : [c]\n", "a=[b]@1:1\n",
	    "alias *k at line 2, column 1: aliases are not allowed in entity "
	    "files");
	FAIL("base: &b {x: [y]}\n<<: *b\n", "", "entity \"base\" at line 1, "
	    "column 1: voices must be a sequence of strings, found a mapping");
}
END_TEST

/*
 * Billion laughs: nine levels of ten aliases each would expand to 10^9
 * "lol"s.  It is refused at the first alias, with one entity handed out.
 */
START_TEST(billion_laughs)
{
	char doc[2048];
	size_t n = 0;
	int level, i;

	n += (size_t)snprintf(doc + n, sizeof doc - n,
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
	    "\"lol\",\"lol\"]\n");
	for (level = 1; level < 9; level++) {
		n += (size_t)snprintf(doc + n, sizeof doc - n, "%c: &%c [",
		    'a' + level, 'a' + level);
		for (i = 0; i < 10; i++)
			n += (size_t)snprintf(doc + n, sizeof doc - n, "%s*%c",
			    i ? "," : "", 'a' + level - 1);
		n += (size_t)snprintf(doc + n, sizeof doc - n, "]\n");
	}
	ck_assert_uint_lt(n, sizeof doc - 1);
	fail_n(doc, n, "a=[lol|lol|lol|lol|lol|lol|lol|lol|lol|lol]@1:1\n",
	    "alias *a at line 2, column 8: aliases are not allowed in entity "
	    "files");
	ck_assert_uint_eq(lg.calls, 1);
}
END_TEST

START_TEST(syntax_errors)
{
	FAIL("a: [b\n", "", "invalid YAML at line 2, column 1: did not find "
	    "expected ',' or ']' (while parsing a flow sequence at line 1, column "
	    "4)");
	FAIL("\"a: [b]\n", "", "invalid YAML at line 2, column 1: found unexpected "
	    "end of stream (while scanning a quoted scalar at line 1, column 1)");
	FAIL("a:\n  - b\n c: [d]\n", "a=[b]@1:1\n", "invalid YAML at line 3, "
	    "column 2: did not find expected key (while parsing a block mapping at "
	    "line 1, column 1)");
	FAIL(": [b]\n", "", "invalid YAML at line 1, column 1: did not find "
	    "expected key (while parsing a block mapping at line 1, column 1)");
	FAIL("a: [b]\n\tc: [d]\n", "a=[b]@1:1\n", "invalid YAML at line 2, column "
	    "1: found character that cannot start any token (while scanning for "
	    "the next token at line 2, column 1)");
	FAIL("a: [b]\nc: @d\n", "a=[b]@1:1\n", "invalid YAML at line 2, column 4: "
	    "found character that cannot start any token (while scanning for the "
	    "next token at line 2, column 4)");
	FAIL("a: [b]\nc: &\n", "a=[b]@1:1\n", "invalid YAML at line 2, column 5: "
	    "did not find expected alphabetic or numeric character (while scanning "
	    "an anchor at line 2, column 4)");
	FAIL("a: [b] ]\n", "a=[b]@1:1\n", "invalid YAML at line 1, column 8: "
	    "did not find expected key (while parsing a block mapping at line 1, "
	    "column 1)");
}
END_TEST

START_TEST(bad_utf8)
{
	FAIL("a: [\xc3]\n", "", "invalid UTF-8 at line 1, column 5 (byte 0xC3)");
	FAIL("a: [b]\nc: [\xc3\xa9\xed\xa0\x80]\n", "",
	    "invalid UTF-8 at line 2, column 6 (byte 0xED)");
	FAIL("a: [b]\n\xff: [c]\n", "", "invalid UTF-8 at line 2, column 1 "
	    "(byte 0xFF)");
	/* Reported before any entity, wherever it is. */
	FAIL("a: [b]\nc: [d]\ne: [\xc0\xaf]\n", "", "invalid UTF-8 at line 3, "
	    "column 5 (byte 0xC0)");
	FAIL("a: [\xef\xbf\xbf]\n", "", "invalid YAML at line 1, column 5: "
	    "control character U+FFFF is not allowed");
	fail_n(S("a\0: [b]\n"), "", "invalid YAML at line 1, column 2: control "
	    "character U+0000 is not allowed (UTF-16 without a byte order mark?)");
}
END_TEST

/* UTF-8 to UTF-16 with a BOM, little or big endian; returns the length. */
static size_t
to_utf16(const char *s, int big, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	unsigned long cp;
	unsigned units[2], k, nu;

	out[n++] = big ? 0xFE : 0xFF;
	out[n++] = big ? 0xFF : 0xFE;
	while (*p != '\0') {
		if (*p < 0x80)
			cp = *p++;
		else if (*p < 0xE0) {
			cp = (unsigned long)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
			p += 2;
		} else if (*p < 0xF0) {
			cp = (unsigned long)(p[0] & 0x0F) << 12 |
			    (unsigned long)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
			p += 3;
		} else {
			cp = (unsigned long)(p[0] & 0x07) << 18 |
			    (unsigned long)(p[1] & 0x3F) << 12 |
			    (unsigned long)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
			p += 4;
		}
		if (cp >= 0x10000) {
			units[0] = 0xD800 + (unsigned)((cp - 0x10000) >> 10);
			units[1] = 0xDC00 + (unsigned)((cp - 0x10000) & 0x3FF);
			nu = 2;
		} else {
			units[0] = (unsigned)cp;
			nu = 1;
		}
		for (k = 0; k < nu; k++) {
			out[n++] = (unsigned char)(big ? units[k] >> 8 : units[k] & 0xFF);
			out[n++] = (unsigned char)(big ? units[k] & 0xFF : units[k] >> 8);
		}
	}
	return n;
}

START_TEST(utf16)
{
	static const char doc[] = "names:\n"
	    "  Castell\xc3\xb3n: [Castellon, \"\xf0\x9f\x9a\xa2\"]\n"
	    "  b:\n"
	    "    - \"\\u00e9\"\n";
	static const char want[] = "Castell\xc3\xb3n=[Castellon|\xf0\x9f\x9a\xa2]@2:3\n"
	    "b=[\xc3\xa9]@3:3\n";
	unsigned char buf[512];
	size_t n;

	n = to_utf16(doc, 0, buf);
	ok_n((const char *)buf, n, want);
	n = to_utf16(doc, 1, buf);
	ok_n((const char *)buf, n, want);

	/* An odd number of bytes: the last character is cut. */
	n = to_utf16("a: [b]\nc", 0, buf);
	fail_n((const char *)buf, n - 1, "", "invalid UTF-16 at line 2, column 1: "
	    "the file ends in the middle of a character");
	/* Unpaired surrogates, low and high, at line 2, column 6. */
	n = to_utf16("a: [b]\nc: [dX]", 0, buf);
	buf[2 + 2 * 12] = 0x00;
	buf[2 + 2 * 12 + 1] = 0xDC;
	fail_n((const char *)buf, n, "", "invalid UTF-16 at line 2, column 6: "
	    "unpaired surrogate 0xDC00");
	n = to_utf16("a: [b]\nc: [dX]", 1, buf);
	buf[2 + 2 * 12] = 0xD8;
	buf[2 + 2 * 12 + 1] = 0x01;
	fail_n((const char *)buf, n, "", "invalid UTF-16 at line 2, column 6: "
	    "unpaired surrogate 0xD801");
	/* A control character, after a surrogate pair (one column). */
	n = to_utf16("a: [\xf0\x9f\x9a\xa2X]", 0, buf);
	buf[n - 4] = 0x07;
	buf[n - 3] = 0x00;
	fail_n((const char *)buf, n, "", "invalid YAML at line 1, column 6: "
	    "control character U+0007 is not allowed");
	/* UTF-16 without a BOM reads as UTF-8 with NULs in it. */
	n = to_utf16("a: [b]", 0, buf);
	fail_n((const char *)buf + 2, n - 2, "", "invalid YAML at line 1, column "
	    "2: control character U+0000 is not allowed (UTF-16 without a byte "
	    "order mark?)");
}
END_TEST

START_TEST(callback_refuses)
{
	lg.fail_at = 2;
	ck_assert_int_eq(run(S("a: [b]\nc: [d]\ne: [f]\n")), -1);
	ck_assert_str_eq(err.msg, "entity \"c\" is not wanted");
	ck_assert_uint_eq(lg.calls, 2);
	ck_assert_str_eq(lg.text, "a=[b]@1:1\n");

	free(lg.text);
	memset(&lg, 0, sizeof lg);
	lg.fail_at = 1;
	lg.fail_silently = 1;
	ck_assert_int_eq(run(S("{x: [y]}")), -1);
	ck_assert_str_eq(err.msg, "entity \"x\" at line 1, column 2 was refused");

	/* err may be NULL, as everywhere. */
	ck_assert_int_eq(pw_yaml_entities(S("- a"), on_entity, &lg, NULL), -1);
	ck_assert_int_eq(pw_yaml_entities(NULL, 0, on_entity, &lg, NULL), -1);
}
END_TEST

/* A document of n voices "x" for entity "a", in flow style. */
static char *
many_voices(size_t n, size_t *len)
{
	char *doc = malloc(8 + 2 * n);
	size_t i, k = 0;

	ck_assert_ptr_nonnull(doc);
	memcpy(doc, "a: [", 4);
	k = 4;
	for (i = 0; i < n; i++) {
		doc[k++] = 'x';
		doc[k++] = ',';
	}
	doc[k++] = ']';
	*len = k;
	return doc;
}

START_TEST(limits)
{
	size_t len, big = PW_YAML_MAX_ENTITY_BYTES;
	char *doc;

	doc = many_voices(PW_YAML_MAX_VOICES, &len);
	ck_assert_int_eq(run(doc, len), 0);
	ck_assert_uint_eq(lg.calls, 1);
	free(doc);

	doc = many_voices(PW_YAML_MAX_VOICES + 1, &len);
	fail_n(doc, len, "", "entity \"a\" at line 1, column 1 has more than "
	    "100000 voices");
	free(doc);

	/* Name and voices together: exactly the limit is fine, one more is not. */
	doc = malloc(big + 32);
	ck_assert_ptr_nonnull(doc);
	memcpy(doc, "a: [", 4);
	memset(doc + 4, 'x', big - 2);
	memcpy(doc + 4 + big - 2, ", y]", 4);
	len = 4 + big - 2 + 4;
	ck_assert_int_eq(run(doc, len), 0);
	memcpy(doc + 4 + big - 2, ", yz]", 5);
	fail_n(doc, len + 1, "", "entity \"a\" at line 1, column 1 is larger than "
	    "the 16777216-byte limit");

	/* A name over the limit alone (an explicit key: simple keys are short). */
	memcpy(doc, "? ", 2);
	memset(doc + 2, 'n', big + 1);
	memcpy(doc + 2 + big + 1, "\n: []\n", 6);
	fail_n(doc, 2 + big + 1 + 6, "", "entity 1 at line 1, column 3 is larger "
	    "than the 16777216-byte limit");
	free(doc);
}
END_TEST

/* Heap in use, or 0 where it cannot be known (valgrind, not glibc). */
static size_t
heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

struct big {
	size_t calls;
	size_t heap_at_1000;
	size_t heap_growth;
	size_t voices;
};

static int
on_big(void *ctx, const char *name, size_t name_len,
    const struct pw_yaml_str *voices, size_t nvoices, size_t line,
    size_t column, struct pw_error *e)
{
	struct big *b = ctx;
	char want[32];

	b->calls++;
	snprintf(want, sizeof want, "entity%zu", b->calls);
	ck_assert_str_eq(name, want);
	ck_assert_uint_eq(line, b->calls);
	b->voices += nvoices;
	if (b->calls == 1000)
		b->heap_at_1000 = heap_in_use();
	else if (b->calls > 1000 && heap_in_use() > b->heap_at_1000 &&
	    heap_in_use() - b->heap_at_1000 > b->heap_growth)
		b->heap_growth = heap_in_use() - b->heap_at_1000;
	return 0;
}

/*
 * 100,000 entities, streamed: the heap while entity 100,000 is handed out
 * is what it was at entity 1,000 (libyaml's buffers and one entity).
 */
START_TEST(large_input)
{
	size_t cap = 100000 * 64, len = 0, i;
	char *doc = malloc(cap);
	struct big b = { 0 };

	ck_assert_ptr_nonnull(doc);
	for (i = 1; i <= 100000; i++)
		len += (size_t)snprintf(doc + len, cap - len,
		    "entity%zu: [voice %zu, \"v\xc3\xa9\", 'w']\n", i, i);
	ck_assert_uint_lt(len, cap);
	ck_assert_int_eq(pw_yaml_entities(doc, len, on_big, &b, &err), 0);
	ck_assert_uint_eq(b.calls, 100000);
	ck_assert_uint_eq(b.voices, 300000);
	ck_assert_uint_lt(b.heap_growth, 4096);
	free(doc);
}
END_TEST

static Suite *
yamlentities_suite(void)
{
	Suite *s = suite_create("yamlentities");
	TCase *tc = tcase_create("yamlentities");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, block_mapping);
	tcase_add_test(tc, flow_mapping);
	tcase_add_test(tc, json_text);
	tcase_add_test(tc, names_wrapper);
	tcase_add_test(tc, scalars);
	tcase_add_test(tc, unicode);
	tcase_add_test(tc, empty_voices);
	tcase_add_test(tc, documents);
	tcase_add_test(tc, line_breaks);
	tcase_add_test(tc, top_level);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, bad_voices);
	tcase_add_test(tc, tags);
	tcase_add_test(tc, aliases);
	tcase_add_test(tc, billion_laughs);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, bad_utf8);
	tcase_add_test(tc, utf16);
	tcase_add_test(tc, callback_refuses);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, large_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(yamlentities_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
