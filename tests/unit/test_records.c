/*
 * Tests for src/records.c: file_type parsing, the scan options per kind,
 * entry records (objects only), entity records (a name decoded from its raw
 * key token and an array of string voices), and errors that the parser finds
 * inside a record, reported at the position of the whole file.
 *
 * The records are built by hand as the scanner would hand them over: for
 * an entry, line/column and value_line/value_column are where the value
 * starts; for an entity, line/column is where the key starts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/records.h"

static struct pw_record out;
static struct pw_error err;
static struct pw_jtree *tree;

static void
setup(void)
{
	memset(&out, 0, sizeof out);
	memset(&err, 0, sizeof err);
	tree = pw_jtree_create(0);
}

static void
teardown(void)
{
	pw_record_finish(&out);	/* a no-op on a cleared record */
	pw_jtree_destroy(tree);
}

static const char *
str(const struct pw_jval *v)
{
	static char s[256];

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, PW_JSTRING);
	ck_assert_uint_lt(v->u.s.n, sizeof s);
	memcpy(s, v->u.s.p, v->u.s.n);
	s[v->u.s.n] = '\0';
	return s;
}

static const struct pw_jval *
get(const struct pw_jval *obj, const char *key)
{
	return pw_jobject_get(obj, key, strlen(key));
}

static const struct pw_jval *
elem(const struct pw_jval *arr, uint32_t i)
{
	const struct pw_jval *x = pw_jval_first(arr);

	ck_assert_uint_lt(i, arr->u.c.n);
	while (i-- > 0)
		x = pw_jval_next(x);
	return x;
}

static struct pw_scan_record
entry_rec(size_t index, const char *data, unsigned long line, unsigned long column)
{
	struct pw_scan_record r;

	memset(&r, 0, sizeof r);
	r.index = index;
	r.data = data;
	r.len = strlen(data);
	r.line = r.value_line = line;
	r.column = r.value_column = column;
	return r;
}

/* key_line/key_column: where the key starts; the value is on the same line. */
static struct pw_scan_record
entity_rec(size_t index, const char *key, const char *data, unsigned long key_line,
    unsigned long key_column, unsigned long value_line, unsigned long value_column)
{
	struct pw_scan_record r;

	memset(&r, 0, sizeof r);
	r.index = index;
	r.key = key;
	r.key_len = strlen(key);
	r.data = data;
	r.len = strlen(data);
	r.line = key_line;
	r.column = key_column;
	r.value_line = value_line;
	r.value_column = value_column;
	return r;
}

static void
expect_fail(enum pw_file_kind kind, const struct pw_scan_record *r, const char *want)
{
	pw_record_finish(&out);
	memset(&err, 0, sizeof err);
	ck_assert_msg(pw_record_parse(kind, r, tree, &out, &err) == -1, "should fail with: %s", want);
	ck_assert_str_eq(err.msg, want);
	/* On failure nothing is left for the caller to free. */
	ck_assert_ptr_null(out.name);
	ck_assert_ptr_null(out.value);
}

static void
expect_ok(enum pw_file_kind kind, const struct pw_scan_record *r)
{
	pw_record_finish(&out);
	memset(&err, 0, sizeof err);
	ck_assert_msg(pw_record_parse(kind, r, tree, &out, &err) == 0, "failed: %s", err.msg);
}

/* ---- file_type ------------------------------------------------------------ */

START_TEST(file_kind_good)
{
	enum pw_file_kind kind = PW_FILE_ENTITY;
	const char *type = "junk";
	const char *ft;
	char longest[80];

	ck_assert_int_eq(pw_file_kind_parse("entry", &kind, &type, &err), 0);
	ck_assert_int_eq(kind, PW_FILE_ENTRY);
	ck_assert_ptr_null(type);

	ft = "entity_flag";
	ck_assert_int_eq(pw_file_kind_parse(ft, &kind, &type, &err), 0);
	ck_assert_int_eq(kind, PW_FILE_ENTITY);
	ck_assert_ptr_eq(type, ft + 7);	/* points into file_type */
	ck_assert_str_eq(type, "flag");

	ck_assert_int_eq(pw_file_kind_parse("entity_ship_tons", &kind, &type, &err), 0);
	ck_assert_int_eq(kind, PW_FILE_ENTITY);
	ck_assert_str_eq(type, "ship_tons");

	ck_assert_int_eq(pw_file_kind_parse("entity_2", &kind, &type, &err), 0);
	ck_assert_str_eq(type, "2");

	/* The longest type accepted is 64 characters. */
	memset(longest, 0, sizeof longest);
	memcpy(longest, "entity_", 7);
	memset(longest + 7, 'a', 64);
	ck_assert_int_eq(pw_file_kind_parse(longest, &kind, &type, &err), 0);
	ck_assert_uint_eq(strlen(type), 64);
}
END_TEST

static const char *const bad_types[] = {
	"x", "entity_", "entity_Bad-Name", "entity", "Entry", "entry ", " entry", "entries",
	"entity_flag ", "entity_fl.ag", "entity_\xc3\xa9", "", "ENTITY_FLAG",
	/* 65 characters of type: one too many */
	"entity_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

START_TEST(file_kind_bad)
{
	const char *bad = bad_types[_i];
	enum pw_file_kind kind = PW_FILE_ENTRY;
	const char *type = "junk";
	char want[PW_ERROR_MAX];

	ck_assert_int_eq(pw_file_kind_parse(bad, &kind, &type, &err), -1);
	ck_assert_ptr_null(type);
	snprintf(want, sizeof want,
	    "unsupported file_type \"%s\" (expected \"entry\" or \"entity_<type>\")", bad);
	ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(file_kind_messages)
{
	enum pw_file_kind kind;
	const char *type = "junk";
	char huge[300];

	ck_assert_int_eq(pw_file_kind_parse(NULL, &kind, &type, &err), -1);
	ck_assert_str_eq(err.msg, "missing field file_type");
	ck_assert_ptr_null(type);

	ck_assert_int_eq(pw_file_kind_parse("x", &kind, &type, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "unsupported file_type \"x\""));

	/* A huge value is cut to its first 100 characters. */
	memset(huge, 'z', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	ck_assert_int_eq(pw_file_kind_parse(huge, &kind, &type, &err), -1);
	ck_assert_str_eq(err.msg, "unsupported file_type \""
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	    "\" (expected \"entry\" or \"entity_<type>\")");

	/* Bytes that are not UTF-8 are not shown: messages must be UTF-8. */
	ck_assert_int_eq(pw_file_kind_parse("entity_\xe9t\xe9", &kind, &type, &err), -1);
	ck_assert_str_eq(err.msg, "unsupported file_type: not valid UTF-8 (expected \"entry\" "
	    "or \"entity_<type>\")");

	/* err may be NULL. */
	ck_assert_int_eq(pw_file_kind_parse("nope", &kind, &type, NULL), -1);
}
END_TEST

START_TEST(scan_options)
{
	struct pw_scan_options o;

	memset(&o, 0, sizeof o);
	o.max_record_bytes = 123;
	o.max_depth = 7;
	pw_file_kind_scan_options(PW_FILE_ENTRY, &o);
	ck_assert_int_eq(o.top, PW_SCAN_ARRAY);
	ck_assert_ptr_null(o.unwrap_key);
	/* The limits are the caller's: left alone. */
	ck_assert_uint_eq(o.max_record_bytes, 123);
	ck_assert_uint_eq(o.max_depth, 7);

	pw_file_kind_scan_options(PW_FILE_ENTITY, &o);
	ck_assert_int_eq(o.top, PW_SCAN_OBJECT);
	ck_assert_str_eq(o.unwrap_key, "names");
}
END_TEST

/* ---- entry records ---------------------------------------------------------- */

START_TEST(entry_object)
{
	struct pw_scan_record r = entry_rec(0, "{\"ship\": \"Rosa\", \"tons\": 120,\n"
	    "  \"cargo\": [\"wine\", {\"qty\": 3}]}", 2, 3);

	expect_ok(PW_FILE_ENTRY, &r);
	ck_assert_ptr_null(out.name);
	ck_assert_int_eq(out.value->type, PW_JOBJECT);
	ck_assert_str_eq(str(get(out.value, "ship")), "Rosa");
	ck_assert_int_eq(get(out.value, "tons")->type, PW_JINT);
	ck_assert_int_eq(get(out.value, "tons")->u.i, 120);
	ck_assert_uint_eq(get(out.value, "cargo")->u.c.n, 2);
	pw_record_finish(&out);
	ck_assert_ptr_null(out.value);
	ck_assert_ptr_null(out.name);

	r = entry_rec(5, "{}", 1, 1);
	expect_ok(PW_FILE_ENTRY, &r);
	ck_assert_uint_eq(out.value->u.c.n, 0);
	pw_record_finish(&out);

	/* The record is exactly len bytes: what follows in the buffer is not read. */
	r = entry_rec(0, "{\"a\": 1}, {\"b\": 2}", 1, 2);
	r.len = 8;
	expect_ok(PW_FILE_ENTRY, &r);
	ck_assert_uint_eq(out.value->u.c.n, 1);
	pw_record_finish(&out);

	/*
	 * \u0000 is allowed in entry strings (JSON_ALLOW_NUL): only entity names
	 * are refused with a NUL.  The string keeps its three characters.
	 */
	r = entry_rec(0, "{\"a\": \"x\\u0000y\"}", 1, 2);
	expect_ok(PW_FILE_ENTRY, &r);
	ck_assert_uint_eq(get(out.value, "a")->u.s.n, 3);
	ck_assert_int_eq(memcmp(get(out.value, "a")->u.s.p, "x\0y", 3), 0);
}
END_TEST

/*
 * A key that comes twice in one object is refused (which value a column
 * would get must not be a guess), at any depth, at the second key's closing
 * quote: reported like the other errors jtree finds.
 */
START_TEST(entry_duplicate_keys)
{
	/*
	 * The record starts at line 2, column 3:
	 *   {"ship_name": "A",               (file line 2)
	 *      "ship_name": "B"}             (file line 3)
	 * the second key's closing quote is record line 2, column 14.
	 */
	struct pw_scan_record r = entry_rec(0, "{\"ship_name\": \"A\",\n   \"ship_name\": \"B\"}",
	    2, 3);

	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 3, column 14: "
	    "duplicate key \"ship_name\" in an object (in record 1)");

	/* On the record's first line: column 5 + 33 - 1; the key after unescaping. */
	r = entry_rec(2, "{\"cargo_list\": [{\"n\": 1, \"\\u006e\": 2}]}", 4, 5);
	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 4, column 37: "
	    "duplicate key \"n\" in an object (in record 3)");

	/* Keys that differ in a byte are different keys. */
	r = entry_rec(0, "{\"a\": 1, \"A\": 2, \"a \": 3}", 1, 2);
	expect_ok(PW_FILE_ENTRY, &r);
	ck_assert_uint_eq(out.value->u.c.n, 3);
}
END_TEST

START_TEST(entry_not_object)
{
	struct pw_scan_record r;

	r = entry_rec(2, "42", 40, 5);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 3 at line 40, column 5 is a number, expected an object");
	r = entry_rec(0, "-1.5e3", 1, 2);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 1 at line 1, column 2 is a number, expected an object");
	r = entry_rec(9, "[1, 2]", 12, 1);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 10 at line 12, column 1 is an array, expected an object");
	r = entry_rec(0, "\"text\"", 3, 4);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 1 at line 3, column 4 is a string, expected an object");
	r = entry_rec(0, "true", 3, 4);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 1 at line 3, column 4 is a boolean, expected an object");
	r = entry_rec(0, "false", 3, 4);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 1 at line 3, column 4 is a boolean, expected an object");
	r = entry_rec(0, "null", 3, 4);
	expect_fail(PW_FILE_ENTRY, &r,
	    "record 1 at line 3, column 4 is null, expected an object");
}
END_TEST

/*
 * jansson reports a bad number at its last character, counting lines and
 * columns from 1 inside the record.  A record starting at line L, column C
 * of the file maps a position (1, c) to (L, C + c - 1), and (l, c) with
 * l > 1 to (L + l - 1, c): later lines start at column 1 in both.
 */
START_TEST(entry_invalid_json_first_line)
{
	/*
	 * {"a": 1e999}: the number's last '9' is character 11 of the record,
	 * which starts at line 10, column 3: file column 3 + 11 - 1 = 13.
	 */
	struct pw_scan_record r = entry_rec(0, "{\"a\": 1e999}", 10, 3);

	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 10, column 13: "
	    "real number overflow near '1e999' (in record 1)");

	/*
	 * The integer overflow is 20 digits from record column 7 to 26:
	 * file column 3 + 26 - 1 = 28.
	 */
	r = entry_rec(3, "{\"n\": 99999999999999999999}", 10, 3);
	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 10, column 28: "
	    "too big integer near '99999999999999999999' (in record 4)");

	/*
	 * Columns count characters, not bytes: "é" is one column.  {"é": 1e999}
	 * ends the number at character 11: file column 5 + 11 - 1 = 15.
	 */
	r = entry_rec(0, "{\"\xc3\xa9\": 1e999}", 1, 5);
	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 1, column 15: "
	    "real number overflow near '1e999' (in record 1)");

	/*
	 * A lone surrogate: jansson reports it at the closing quote of the
	 * string, character 14 of {"a": "\ud800"}: file column 2 + 14 - 1 = 15.
	 */
	r = entry_rec(1, "{\"a\": \"\\ud800\"}", 4, 2);
	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 4, column 15: "
	    "invalid Unicode '\\uD800' near '\"\\ud800\"' (in record 2)");
}
END_TEST

START_TEST(entry_invalid_json_later_line)
{
	/*
	 * The record starts at line 10, column 3 and spans three lines:
	 *   {                              (file line 10)
	 *     "a": [1,                     (file line 11)
	 *    99999999999999999999]}        (file line 12)
	 * The number ends at jansson's line 3, column 21 (one space, then 20
	 * digits): file line 10 + 3 - 1 = 12, column 21, not shifted by 3.
	 */
	struct pw_scan_record r = entry_rec(6, "{\n  \"a\": [1,\n 99999999999999999999]}",
	    10, 3);

	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 12, column 21: "
	    "too big integer near '99999999999999999999' (in record 7)");

	/*
	 * {"a":\n1e999\n}: the number is on jansson's line 2, column 1 to 5:
	 * file line 7 + 2 - 1 = 8, column 5.
	 */
	r = entry_rec(0, "{\"a\":\n1e999\n}", 7, 40);
	expect_fail(PW_FILE_ENTRY, &r, "invalid JSON at line 8, column 5: "
	    "real number overflow near '1e999' (in record 1)");
}
END_TEST

/* ---- entity records ----------------------------------------------------------- */

START_TEST(entity_ok)
{
	/* "Barcelona\u00e9": the name comes from the raw key token, escapes decoded. */
	struct pw_scan_record r = entity_rec(0, "\"Barcelona\\u00e9\"",
	    "[\"BCN\", \"Barna\", \"Barcino\"]", 3, 5, 3, 25);

	expect_ok(PW_FILE_ENTITY, &r);
	ck_assert_str_eq(out.name, "Barcelona\xc3\xa9");
	ck_assert_int_eq(out.value->type, PW_JARRAY);
	ck_assert_uint_eq(out.value->u.c.n, 3);
	ck_assert_str_eq(str(elem(out.value, 1)), "Barna");
	pw_record_finish(&out);
	ck_assert_ptr_null(out.name);
	ck_assert_ptr_null(out.value);

	/* More escapes, and UTF-8 as it is. */
	r = entity_rec(1, "\"Sant \\\"Feliu\\\"\\t\\/ \xc3\xa0\"", "[]", 4, 3, 4, 30);
	expect_ok(PW_FILE_ENTITY, &r);
	ck_assert_str_eq(out.name, "Sant \"Feliu\"\t/ \xc3\xa0");
	ck_assert_uint_eq(out.value->u.c.n, 0);	/* empty array: fine */
	pw_record_finish(&out);

	/* A voice with \u0000 is a string like any other. */
	r = entity_rec(2, "\"Cadiz\"", "[\"C\\u0000diz\"]", 5, 3, 5, 12);
	expect_ok(PW_FILE_ENTITY, &r);
	ck_assert_str_eq(out.name, "Cadiz");
	ck_assert_uint_eq(elem(out.value, 0)->u.s.n, 5);
}
END_TEST

START_TEST(entity_shape_errors)
{
	struct pw_scan_record r = entity_rec(0, "\"Barcelona\"", "5", 7, 3, 7, 16);

	expect_fail(PW_FILE_ENTITY, &r, "entity \"Barcelona\" at line 7, column 3: "
	    "voices must be an array of strings, found a number");

	r = entity_rec(0, "\"Barcelona\"", "{\"a\": \"b\"}", 7, 3, 7, 16);
	expect_fail(PW_FILE_ENTITY, &r, "entity \"Barcelona\" at line 7, column 3: "
	    "voices must be an array of strings, found an object");

	r = entity_rec(0, "\"Barcelona\"", "\"BCN\"", 7, 3, 7, 16);
	expect_fail(PW_FILE_ENTITY, &r, "entity \"Barcelona\" at line 7, column 3: "
	    "voices must be an array of strings, found a string");

	r = entity_rec(0, "\"Barcelona\"", "[\"BCN\", null, 3]", 7, 3, 7, 16);
	expect_fail(PW_FILE_ENTITY, &r, "entity \"Barcelona\" at line 7, column 3: "
	    "voices must be an array of strings, found null at element 2");

	r = entity_rec(4, "\"Vigo\"", "[\"a\", \"b\", [\"c\"]]", 9, 1, 10, 5);
	expect_fail(PW_FILE_ENTITY, &r, "entity \"Vigo\" at line 9, column 1: "
	    "voices must be an array of strings, found an array at element 3");

	r = entity_rec(4, "\"Vigo\"", "[true]", 9, 1, 9, 9);
	expect_fail(PW_FILE_ENTITY, &r, "entity \"Vigo\" at line 9, column 1: "
	    "voices must be an array of strings, found a boolean at element 1");
}
END_TEST

START_TEST(entity_bad_names)
{
	struct pw_scan_record r = entity_rec(2, "\"\"", "[\"x\"]", 7, 3, 7, 7);

	expect_fail(PW_FILE_ENTITY, &r,
	    "entity 3 at line 7, column 3 has an empty name or one with a NUL character");

	r = entity_rec(0, "\"a\\u0000b\"", "[\"x\"]", 2, 5, 2, 17);
	expect_fail(PW_FILE_ENTITY, &r,
	    "entity 1 at line 2, column 5 has an empty name or one with a NUL character");

	/*
	 * A lone low surrogate in the key: jansson reports it at the closing
	 * quote, character 8 of "\udc00"; the key starts at line 7, column 3:
	 * file column 3 + 8 - 1 = 10.
	 */
	r = entity_rec(1, "\"\\udc00\"", "[]", 7, 3, 7, 13);
	expect_fail(PW_FILE_ENTITY, &r, "invalid JSON at line 7, column 10: "
	    "invalid Unicode '\\uDC00' near '\"\\udc00\"' (in the name of entity 2)");
}
END_TEST

START_TEST(entity_invalid_voices_json)
{
	/*
	 * The value starts at line 7, column 16 (after `"Barcelona": `); the
	 * bad number's last character is character 11 of ["a", 1e999]:
	 * file column 16 + 11 - 1 = 26.
	 */
	struct pw_scan_record r = entity_rec(0, "\"Barcelona\"", "[\"a\", 1e999]", 7, 3, 7, 16);

	expect_fail(PW_FILE_ENTITY, &r, "invalid JSON at line 7, column 26: "
	    "real number overflow near '1e999' (in entity \"Barcelona\")");

	/* The value on the lines after the key: line 8 + 2 - 1, jansson's column. */
	r = entity_rec(0, "\"Barcelona\"", "[\n  \"a\",\n  1e999]", 7, 3, 8, 1);
	expect_fail(PW_FILE_ENTITY, &r, "invalid JSON at line 10, column 7: "
	    "real number overflow near '1e999' (in entity \"Barcelona\")");

	/* A long name is cut to 40 bytes in that context. */
	r = entity_rec(0, "\"0123456789012345678901234567890123456789ABCDEF\"",
	    "[1e999]", 1, 2, 1, 52);
	expect_fail(PW_FILE_ENTITY, &r, "invalid JSON at line 1, column 57: "
	    "real number overflow near '1e999' "
	    "(in entity \"0123456789012345678901234567890123456789\")");
}
END_TEST

/*
 * Names in messages are cut at a byte count; a cut must not split a UTF-8
 * character, or the error_message written to Redis is not valid UTF-8.
 */
static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int more;

	while (*p != '\0') {
		if (*p < 0x80)
			more = 0;
		else if ((*p & 0xE0) == 0xC0)
			more = 1;
		else if ((*p & 0xF0) == 0xE0)
			more = 2;
		else if ((*p & 0xF8) == 0xF0)
			more = 3;
		else
			return 0;
		p++;
		while (more-- > 0)
			if ((*p++ & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

#define E1 "\xc3\xa9"
#define E4 E1 E1 E1 E1
#define E5 E4 E1
#define E10 E5 E5

START_TEST(long_names_stay_utf8)
{
	char key[400];
	size_t i, n;
	struct pw_scan_record r;

	/* "a" then "é" x 120: every cut after an even byte count splits an "é". */
	n = 0;
	key[n++] = '"';
	key[n++] = 'a';
	for (i = 0; i < 120; i++) {
		key[n++] = '\xc3';
		key[n++] = '\xa9';
	}
	key[n++] = '"';
	key[n] = '\0';

	/*
	 * "(in entity ...)" shows at most 40 bytes of the name: byte 40 would
	 * be the first half of the 20th "é", so "a" and 19 of them (39 bytes).
	 */
	r = entity_rec(0, key, "[1e999]", 1, 2, 1, 200);
	ck_assert_int_eq(pw_record_parse(PW_FILE_ENTITY, &r, tree, &out, &err), -1);
	ck_assert_msg(valid_utf8(err.msg), "not UTF-8: %s", err.msg);
	ck_assert_str_eq(err.msg, "invalid JSON at line 1, column 205: real number overflow "
	    "near '1e999' (in entity \"a" E10 E5 E4 "\")");

	/* The shape errors show at most 100 bytes: "a" and 49 "é" (99 bytes). */
	r = entity_rec(0, key, "7", 1, 2, 1, 200);
	ck_assert_int_eq(pw_record_parse(PW_FILE_ENTITY, &r, tree, &out, &err), -1);
	ck_assert_msg(valid_utf8(err.msg), "not UTF-8: %s", err.msg);
	ck_assert_str_eq(err.msg, "entity \"a" E10 E10 E10 E10 E5 E4 "\" at line 1, column 2: "
	    "voices must be an array of strings, found a number");

	r = entity_rec(0, key, "[\"x\", 7]", 1, 2, 1, 200);
	ck_assert_int_eq(pw_record_parse(PW_FILE_ENTITY, &r, tree, &out, &err), -1);
	ck_assert_msg(valid_utf8(err.msg), "not UTF-8: %s", err.msg);
	ck_assert_str_eq(err.msg, "entity \"a" E10 E10 E10 E10 E5 E4 "\" at line 1, column 2: "
	    "voices must be an array of strings, found a number at element 2");

	/* A file_type is cut the same way, at 100 bytes. */
	{
		enum pw_file_kind kind;
		const char *type;

		key[n - 1] = '\0';	/* drop the closing quote: "a" and 120 "é" */
		ck_assert_int_eq(pw_file_kind_parse(key + 1, &kind, &type, &err), -1);
		ck_assert_msg(valid_utf8(err.msg), "not UTF-8: %s", err.msg);
		ck_assert_str_eq(err.msg, "unsupported file_type \"a" E10 E10 E10 E10 E5 E4
		    "\" (expected \"entry\" or \"entity_<type>\")");
	}
}
END_TEST

static Suite *
records_suite(void)
{
	Suite *s = suite_create("records");
	TCase *tc;

	tc = tcase_create("file_kind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, file_kind_good);
	tcase_add_loop_test(tc, file_kind_bad, 0, (int)(sizeof bad_types / sizeof bad_types[0]));
	tcase_add_test(tc, file_kind_messages);
	tcase_add_test(tc, scan_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("entry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, entry_object);
	tcase_add_test(tc, entry_not_object);
	tcase_add_test(tc, entry_duplicate_keys);
	tcase_add_test(tc, entry_invalid_json_first_line);
	tcase_add_test(tc, entry_invalid_json_later_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("entity");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, entity_ok);
	tcase_add_test(tc, entity_shape_errors);
	tcase_add_test(tc, entity_bad_names);
	tcase_add_test(tc, entity_invalid_voices_json);
	tcase_add_test(tc, long_names_stay_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(records_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
