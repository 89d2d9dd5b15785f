/*
 * Tests for src/tablespec.c and src/rows.c: the default specs, what a bad
 * spec is told, and how records become rows (resolution, text, dates).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "portada/rows.h"
#include "portada/text.h"
#include "portada/tablespec.h"

static void
parse_ok(const char *text, struct pw_table_spec *spec)
{
	struct pw_error err;

	ck_assert_msg(pw_table_spec_parse(text, strlen(text), "test", spec, &err) == 0,
	    "%s", err.msg);
}

static void
parse_fails(const char *text, const char *want)
{
	struct pw_table_spec spec;
	struct pw_error err;

	ck_assert_int_eq(pw_table_spec_parse(text, strlen(text), "t.json", &spec, &err), -1);
	ck_assert_str_eq(err.msg, want);
}

START_TEST(default_specs)
{
	struct pw_table_spec s;

	parse_ok(pw_table_spec_default(PW_FILE_ENTRY), &s);
	ck_assert_str_eq(s.table, "ship_entries");
	ck_assert_int_eq(s.files, PW_FILE_ENTRY);
	ck_assert_uint_eq(s.ncolumns, 47);
	ck_assert_str_eq(s.columns[0].name, "file_id");
	ck_assert_int_eq(s.columns[5].from, PW_SRC_DATE);
	ck_assert_str_eq(s.columns[5].field, "publication_date");
	ck_assert_str_eq(s.columns[46].name, "record");
	ck_assert(!s.columns[46].nullable);
	pw_table_spec_finish(&s);

	parse_ok(pw_table_spec_default(PW_FILE_ENTITY), &s);
	ck_assert_str_eq(s.table, "known_entities");
	ck_assert_uint_eq(s.ncolumns, 5);
	ck_assert_int_eq(s.columns[3].type, PW_PQ_STRING_LIST);
	pw_table_spec_finish(&s);
}
END_TEST

START_TEST(bad_specs)
{
	parse_fails("{", "table spec t.json: invalid JSON at line 1, column 1: "
	    "string or '}' expected near end of file");
	parse_fails("{\"table\":\"Ship Entries\",\"files\":\"entry\",\"columns\":[]}",
	    "table spec t.json: \"table\" must be a name of a-z, 0-9 and _ (at most 64)");
	parse_fails("{\"table\":\"t\",\"files\":\"csv\",\"columns\":[]}",
	    "table spec t.json: \"files\" must be \"entry\" or \"entity\"");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[]}",
	    "table spec t.json: \"columns\" must be an array of 1 to 4096 columns");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"text\",\"nullable\":true,\"from\":\"record\"}]}",
	    "table spec t.json: column 0 \"a\": unknown type \"text\" (string, long, integer, "
	    "date, timestamp, double, boolean or string_list)");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"string\",\"nullable\":true,\"from\":\"field:\"}]}",
	    "table spec t.json: column 0 \"a\": unknown source \"field:\"");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"long\",\"nullable\":true,\"from\":\"field:x\"}]}",
	    "table spec t.json: column 0 \"a\": source \"field:x\" gives a string, not a long");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"string\",\"nullable\":false,\"from\":\"field:x\"}]}",
	    "table spec t.json: column 0 \"a\": source \"field:x\" can be missing, so the "
	    "column must be nullable");
	parse_fails("{\"table\":\"t\",\"files\":\"entity\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"string\",\"nullable\":false,\"from\":\"record\"}]}",
	    "table spec t.json: column 0 \"a\": source \"record\" exists only for entry files");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"string\",\"nullable\":false,\"from\":\"record\"},{\"name\":\"a\","
	    "\"type\":\"string\",\"nullable\":false,\"from\":\"file_id\"}]}",
	    "table spec t.json: column 1 \"a\" appears twice");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"ship name\","
	    "\"type\":\"string\",\"nullable\":true,\"from\":\"field:x\"}]}",
	    "table spec t.json: column 0 \"ship name\": a Delta column name cannot hold any "
	    "of ' ,;{}()=', a tab or a newline");
	parse_fails("{\"table\":\"t\",\"files\":\"entry\",\"columns\":[{\"name\":\"a\","
	    "\"type\":\"string\",\"from\":\"record\"}]}",
	    "table spec t.json: column 0 \"a\": needs \"type\" and \"from\" strings and a "
	    "\"nullable\" boolean");
}
END_TEST

static struct pw_jtree *jt;

/* text parsed, valid until the next call */
static const struct pw_jval *
j(const char *text)
{
	struct pw_jtree_error e;
	const struct pw_jval *v;

	if (jt == NULL)
		jt = pw_jtree_create(0);
	v = pw_jtree_parse(jt, text, strlen(text), &e);
	ck_assert_msg(v != NULL, "%s: %s", text, e.text);
	return v;
}

static void
text_is(const char *json, const char *want)
{
	const struct pw_jval *v = j(json);
	const struct pw_jval *r = pw_row_resolve(v);
	struct pw_buf b;

	pw_buf_init(&b, 1 << 20);
	if (want == NULL) {
		ck_assert_msg(r == NULL, "%s resolved to something", json);
	} else {
		ck_assert_msg(r != NULL, "%s resolved to null", json);
		pw_row_text(r, &b);
		ck_assert_uint_eq(b.len, strlen(want));
		ck_assert_msg(memcmp(b.data, want, b.len) == 0, "%s → %.*s", json,
		    (int)b.len, b.data);
	}
	pw_buf_finish(&b);
}

START_TEST(resolution)
{
	text_is("\"Barcelona\"", "Barcelona");
	text_is("null", NULL);
	text_is("true", "true");
	text_is("38", "38");
	text_is("-7", "-7");
	text_is("0.1", "0.1");
	text_is("2.5e-7", "2.5e-07");
	text_is("3.0", "3.0");
	/* Python's repr(): fixed notation for exponents -4 to 15. */
	text_is("20.0", "20.0");
	text_is("2e1", "20.0");
	text_is("1.5E+3", "1500.0");
	text_is("100.0", "100.0");
	text_is("0.0001", "0.0001");
	text_is("0.00012", "0.00012");
	text_is("0.00001", "1e-05");
	text_is("123456789012345.6", "123456789012345.6");
	text_is("1e15", "1000000000000000.0");
	text_is("1e16", "1e+16");
	text_is("1.5e16", "1.5e+16");
	text_is("-0.0", "-0.0");
	text_is("-12.75", "-12.75");
	text_is("5e-324", "5e-324");
	text_is("1.7976931348623157e308", "1.7976931348623157e+308");
	text_is("[20.0,100.0,7.0]", "[20.0,100.0,7.0]");
	text_is("[\"a\", 1, {\"b\": null}]", "[\"a\",1,{\"b\":null}]");
	text_is("{\"z\": 1, \"a\": \"x\\\"y\\n\"}", "{\"z\":1,\"a\":\"x\\\"y\\n\"}");
	/* the calculated / original / default rule */
	text_is("{\"original_value\": \"Cadiz\", \"calculated_value\": \"Cádiz\"}", "Cádiz");
	text_is("{\"original_value\": \"Cadiz\", \"calculated_value\": \"\"}", "Cadiz");
	text_is("{\"calculated_value\": null, \"default_value\": 4}", "4");
	text_is("{\"calculated_value\": [], \"original_value\": {}, \"default_value\": \"d\"}", "d");
	text_is("{\"original_value\": [\"wine\", \"oil\"]}", "[\"wine\",\"oil\"]");
	text_is("{\"calculated_value\": \"\", \"original_value\": null}", NULL);
	text_is("{\"default_value\": false}", "false");
	text_is("{\"something\": 1}", "{\"something\":1}");
	text_is("\"\\u0001\"", "\x01");
	text_is("[\"\\u0001\"]", "[\"\\u0001\"]");
	/* Escapes decoded, then written as compact JSON again; reals as Python's repr. */
	text_is("{\"k\\u00e9\\n\": \"\\ud83d\\ude00\\t\\/\"}",
	    "{\"k\xc3\xa9\\n\":\"\xf0\x9f\x98\x80\\t/\"}");
	text_is("[0.1, 20.0, 1e16, -0.0, 1e-400, -9223372036854775808, -0]",
	    "[0.1,20.0,1e+16,-0.0,0.0,-9223372036854775808,0]");
}
END_TEST

static void
date_is(const char *json, bool ok, int32_t want)
{
	const struct pw_jval *v = j(json);
	int32_t d = 12345;

	ck_assert_msg(pw_row_date(v, &d) == ok, "%s", json);
	if (ok)
		ck_assert_msg(d == want, "%s → %d, not %d", json, d, want);
}

START_TEST(dates)
{
	date_is("\"1970-01-01\"", true, 0);
	date_is("\"1850-03-04\"", true, -43767);
	date_is("\"1861-01-03T00:00:00\"", true, -39809);
	date_is("\"2000-02-29\"", true, 11016);
	date_is("\"1900-02-29\"", false, 0);
	date_is("\"1850-13-01\"", false, 0);
	date_is("\"1850-1-1\"", false, 0);
	/* epoch milliseconds, UTC: the last ms of a day is still that day */
	date_is("\"0\"", true, 0);
	date_is("\"86399999\"", true, 0);
	date_is("\"86400000\"", true, 1);
	date_is("\"-1\"", true, -1);
	date_is("\"-3781555200000\"", true, -43768);
	date_is("-3781555200000", true, -43768);
	date_is("{\"calculated_value\": \"-3781468800000\", \"original_value\": \"4 de marzo\"}",
	    true, -43767);
	date_is("{\"original_value\": \"4 de marzo\"}", false, 0);
	date_is("\"\"", false, 0);
	date_is("\"12345678901234567890\"", false, 0);
	date_is("1.5", false, 0);
	date_is("null", false, 0);
	date_is("true", false, 0);
}
END_TEST

START_TEST(entry_rows)
{
	struct pw_table_spec s;
	struct pw_row_builder *b;
	const char *raw = "{\"ship_name\": {\"original_value\": \"Rosa\"}, "
	    "\"ship_tons_capacity\": {\"calculated_value\": 120}, "
	    "\"publication_date\": {\"original_value\": \"-3781468800000\"}, "
	    "\"cargo_list\": [\"wine\"]}";
	const struct pw_jval *rec = j(raw);
	struct pw_row_meta meta = { "id-1", "alice", "db.json", NULL, 1700000000000000 };
	const struct pw_pq_value *v;

	parse_ok(pw_table_spec_default(PW_FILE_ENTRY), &s);
	b = pw_row_builder_create(&s);
	v = pw_row_entry(b, &meta, 7, rec, raw, strlen(raw));
	for (size_t i = 0; i < s.ncolumns; i++) {
		const char *name = s.columns[i].name;
		const struct pw_pq_value *x = &v[i];

		if (strcmp(name, "file_id") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING && strcmp(x->u.s.p, "id-1") == 0);
		else if (strcmp(name, "record_index") == 0)
			ck_assert(x->kind == PW_PQ_V_INT && x->u.i == 7);
		else if (strcmp(name, "ingested_at") == 0)
			ck_assert(x->kind == PW_PQ_V_INT && x->u.i == 1700000000000000);
		else if (strcmp(name, "publication_date") == 0)
			ck_assert(x->kind == PW_PQ_V_INT && x->u.i == -43767);
		else if (strcmp(name, "ship_name") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING && x->u.s.n == 4 &&
			    memcmp(x->u.s.p, "Rosa", 4) == 0);
		else if (strcmp(name, "ship_tons_capacity") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING && x->u.s.n == 3 &&
			    memcmp(x->u.s.p, "120", 3) == 0);
		else if (strcmp(name, "cargo_list") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING && x->u.s.n == 8 &&
			    memcmp(x->u.s.p, "[\"wine\"]", 8) == 0);
		else if (strcmp(name, "record") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING && x->u.s.p == raw &&
			    x->u.s.n == strlen(raw));
		else if (strcmp(name, "uploaded_by") == 0 || strcmp(name, "source_filename") == 0)
			ck_assert(x->kind == PW_PQ_V_STRING);
		else
			ck_assert_msg(x->kind == PW_PQ_V_NULL, "%s", name);
	}
	/* Both texts that needed rendering survive the buffer growing. */
	pw_row_builder_destroy(b);
	pw_table_spec_finish(&s);
}
END_TEST

/*
 * Columns find their fields in one pass over the record: several columns
 * may read one field, and a field may be missing.  (A key cannot come
 * twice: jtree refuses the record.)
 */
START_TEST(shared_fields)
{
	static const char spec[] = "{\"table\": \"t\", \"files\": \"entry\", \"columns\": ["
	    "{\"name\": \"d\", \"type\": \"date\", \"nullable\": true, \"from\": \"date:when\"},"
	    "{\"name\": \"w\", \"type\": \"string\", \"nullable\": true, \"from\": \"field:when\"},"
	    "{\"name\": \"a\", \"type\": \"string\", \"nullable\": true, \"from\": \"field:a\"},"
	    "{\"name\": \"w2\", \"type\": \"string\", \"nullable\": true, \"from\": \"field:when\"},"
	    "{\"name\": \"z\", \"type\": \"string\", \"nullable\": true, \"from\": \"field:zz\"}]}";
	const char *raw = "{\"when\": \"1970-01-02\", \"x\": {\"when\": 5}, \"a\": [2]}";
	const struct pw_jval *rec = j(raw);
	struct pw_row_meta meta = { "id", "u", "f", NULL, 0 };
	const struct pw_pq_value *v;
	struct pw_table_spec s;
	struct pw_row_builder *b;

	parse_ok(spec, &s);
	b = pw_row_builder_create(&s);
	v = pw_row_entry(b, &meta, 0, rec, raw, strlen(raw));
	ck_assert(v[0].kind == PW_PQ_V_INT && v[0].u.i == 1);
	ck_assert(v[1].kind == PW_PQ_V_STRING && v[1].u.s.n == 10);
	ck_assert(v[2].kind == PW_PQ_V_STRING && v[2].u.s.n == 3 &&
	    memcmp(v[2].u.s.p, "[2]", 3) == 0);
	ck_assert(v[3].kind == PW_PQ_V_STRING && v[3].u.s.p == v[1].u.s.p);
	ck_assert(v[4].kind == PW_PQ_V_NULL);
	/* The next record lacks them all: nothing is left from the last one. */
	rec = j("{\"x\": 1}");
	v = pw_row_entry(b, &meta, 1, rec, "{\"x\": 1}", 8);
	for (size_t i = 0; i < 5; i++)
		ck_assert(v[i].kind == PW_PQ_V_NULL);
	pw_row_builder_destroy(b);
	pw_table_spec_finish(&s);
}
END_TEST

START_TEST(entity_rows)
{
	struct pw_table_spec s;
	struct pw_row_builder *b;
	const struct pw_jval *voices = j("[\"BARNA\", \"Barna.\"]");
	struct pw_row_meta meta = { "id-2", "bob", NULL, "port", 5 };
	const struct pw_pq_value *v;

	parse_ok(pw_table_spec_default(PW_FILE_ENTITY), &s);
	b = pw_row_builder_create(&s);
	v = pw_row_entity_json(b, &meta, 0, "Barcelona", voices);
	ck_assert_str_eq(v[0].u.s.p, "id-2");
	ck_assert_str_eq(v[1].u.s.p, "port");
	ck_assert(v[2].kind == PW_PQ_V_STRING && v[2].u.s.n == 9);
	ck_assert(v[3].kind == PW_PQ_V_LIST && v[3].u.list.n == 2);
	ck_assert(v[3].u.list.items[1].n == 6);
	ck_assert(v[4].kind == PW_PQ_V_INT && v[4].u.i == 5);
	pw_row_builder_destroy(b);
	pw_table_spec_finish(&s);
}
END_TEST

/* Any finite double: the text reads back exactly and fits the buffer. */
START_TEST(double_text_round_trips)
{
	char out[PW_TEXT_DOUBLE_SIZE];
	uint64_t x = 88172645463325252ull;

	for (int i = 0; i < 20000; i++) {
		double d;

		x ^= x << 13;	/* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&d, &x, sizeof d);
		if (!isfinite(d))
			continue;
		pw_text_double(d, out);
		ck_assert_msg(strtod(out, NULL) == d, "%a wrote %s", d, out);
		ck_assert_msg(strlen(out) < sizeof out - 1 || out[sizeof out - 1] == '\0', "%s", out);
		ck_assert_msg(strchr(out, '.') != NULL || strchr(out, 'e') != NULL, "%s", out);
	}
}
END_TEST

static Suite *
rows_suite(void)
{
	Suite *s = suite_create("rows");
	TCase *tc = tcase_create("rows");

	tcase_add_test(tc, default_specs);
	tcase_add_test(tc, bad_specs);
	tcase_add_test(tc, resolution);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, entry_rows);
	tcase_add_test(tc, shared_fields);
	tcase_add_test(tc, entity_rows);
	tcase_add_test(tc, double_text_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rows_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	pw_jtree_destroy(jt);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
