/*
 * A libFuzzer target for the record mapping: a file's records turned into
 * table rows as src/job.c's on_record() does it.  The scanner splits the
 * document with the file kind's options, pw_record_parse() checks each
 * record (jtree) and pw_row_entry() / pw_row_entity_json() make its row
 * with the built-in table spec (tables/ship_entries.json or
 * tables/known_entities.json).
 *
 * Input: one control byte, then the document.
 *   byte 0  bit 0  the file kind: 0 entry (a top-level array of records),
 *                  1 entity (name -> voices, optionally {"names": {...}})
 *           bit 1  the Parquet data file gets a row group every 3 rows
 *
 * Oracles, beyond "no crash, no sanitizer report, no leak":
 *  - every row has what the rules say, checked against jansson's reading of
 *    the record: the upload's metadata and record_index; field:<name>
 *    resolved by calculated/original/default_value (first present and not
 *    empty), null when missing or null, strings byte for byte, true/false,
 *    integers as written, reals and containers as JSON text that jansson
 *    reads back to the same value; date:<name> a date or null; record the
 *    original bytes; an entity's name and every voice, none lost to null;
 *  - every row is accepted by the Parquet writer, as the worker writes it;
 *  - rows written as they are mapped (an upload streaming into its own data
 *    file) and rows packed into a rowspool and replayed (a small upload
 *    staged in memory) give byte-identical files.
 * fuzz_records_replay runs tests/fuzz/corpus/records as the unit test
 * 'fuzz-records-corpus'.
 */
#include <jansson.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "portada/buf.h"
#include "portada/jsonscan.h"
#include "portada/parquet.h"
#include "portada/records.h"
#include "portada/rows.h"
#include "portada/rowspool.h"
#include "portada/tablespec.h"

struct ctx {
	enum pw_file_kind		 kind;
	const struct pw_table_spec	*spec;
	struct pw_row_builder		*rows;
	struct pw_jtree			*tree;
	struct pw_row_meta		 meta;
	struct pw_pq_writer		*direct;
	struct pw_rowspool		 spool;
	uint64_t			 records;
};

static struct pw_table_spec specs[2];
static bool specs_loaded;

static int
sink(void *arg, const void *p, size_t n, struct pw_error *err)
{
	if (pw_buf_append(arg, p, n) == -1) {
		pw_error_set(err, "sink full");
		return -1;
	}
	return 0;
}

static void
expect_string(size_t col, const struct pw_pq_value *v, const char *p, size_t n)
{
	if (v->kind != PW_PQ_V_STRING || v->u.s.n != n || (n > 0 && memcmp(v->u.s.p, p, n) != 0))
		fz_fail("column %zu: expected the string \"%.*s\"", col, (int)(n > 80 ? 80 : n), p);
}

static void
expect_meta(size_t col, const struct pw_pq_value *v, const char *s)
{
	if (s == NULL) {
		if (v->kind != PW_PQ_V_NULL)
			fz_fail("column %zu: expected null", col);
	} else {
		expect_string(col, v, s, strlen(s));
	}
}

static bool
is_empty(const json_t *v)
{
	return json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	    (json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_object(v) && json_object_size(v) == 0);
}

/* PortAda's data layer's rule, on jansson's value. */
static const json_t *
resolve(const json_t *v)
{
	static const char *const order[] = { "calculated_value", "original_value",
	    "default_value" };
	bool wrapped = false;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v))
		return v;
	for (size_t i = 0; i < 3; i++) {
		const json_t *x = json_object_get(v, order[i]);

		if (x == NULL)
			continue;
		wrapped = true;
		if (!is_empty(x))
			return x;
	}
	return wrapped ? NULL : v;
}

static void
check_field(size_t col, const struct pw_pq_value *v, const json_t *x)
{
	char num[32];

	if (x == NULL) {
		if (v->kind != PW_PQ_V_NULL)
			fz_fail("column %zu: expected null", col);
		return;
	}
	if (v->kind != PW_PQ_V_STRING)
		fz_fail("column %zu: expected a string", col);
	switch (json_typeof(x)) {
	case JSON_STRING:
		expect_string(col, v, json_string_value(x), json_string_length(x));
		break;
	case JSON_TRUE:
		expect_string(col, v, "true", 4);
		break;
	case JSON_FALSE:
		expect_string(col, v, "false", 5);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
		expect_string(col, v, num, strlen(num));
		break;
	default: {
		/* reals and containers: JSON text that reads back as the same value */
		json_t *back = json_loadb(v->u.s.p, v->u.s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		if (back == NULL || !json_equal(back, (json_t *)x))
			fz_fail("column %zu: \"%.*s\" does not read back as the record's value",
			    col, (int)(v->u.s.n > 200 ? 200 : v->u.s.n), v->u.s.p);
		if (json_is_real(x) && memchr(v->u.s.p, ' ', v->u.s.n) != NULL)
			fz_fail("column %zu: a real written with a space", col);
		json_decref(back);
	}
	}
}

static void
check_entry(struct ctx *c, const struct pw_pq_value *row, const struct pw_scan_record *rec)
{
	json_t *obj = json_loadb(rec->data, rec->len, JSON_ALLOW_NUL, NULL);

	for (size_t i = 0; i < c->spec->ncolumns; i++) {
		const struct pw_table_column *col = &c->spec->columns[i];
		const struct pw_pq_value *v = &row[i];

		switch (col->from) {
		case PW_SRC_FILE_ID:
			expect_meta(i, v, c->meta.file_id);
			break;
		case PW_SRC_UPLOADED_BY:
			expect_meta(i, v, c->meta.uploaded_by);
			break;
		case PW_SRC_SOURCE_FILENAME:
			expect_meta(i, v, c->meta.source_filename);
			break;
		case PW_SRC_RECORD_INDEX:
			if (v->kind != PW_PQ_V_INT || v->u.i != (int64_t)c->records)
				fz_fail("column %zu: record_index is not %" PRIu64, i, c->records);
			break;
		case PW_SRC_INGESTED_AT:
			if (v->kind != PW_PQ_V_INT || v->u.i != c->meta.ingested_at_us)
				fz_fail("column %zu: ingested_at is not the upload's", i);
			break;
		case PW_SRC_RECORD:
			expect_string(i, v, rec->data, rec->len);
			break;
		case PW_SRC_FIELD:
			/* jansson refuses what jtree accepts only for keys with
			 * NUL; fuzz_jtree compares the two parsers */
			if (obj != NULL)
				check_field(i, v, resolve(json_object_get(obj, col->field)));
			break;
		case PW_SRC_DATE: {
			const json_t *x = obj != NULL ? resolve(json_object_get(obj, col->field)) : NULL;

			if (v->kind != PW_PQ_V_NULL && v->kind != PW_PQ_V_INT)
				fz_fail("column %zu: a date is an integer or null", i);
			if (obj != NULL && v->kind == PW_PQ_V_INT && !json_is_string(x) &&
			    !json_is_number(x))
				fz_fail("column %zu: a date from neither a string nor a number", i);
			break;
		}
		default:
			fz_fail("column %zu: an entity source in the entry table", i);
		}
	}
	json_decref(obj);
}

static void
check_entity(struct ctx *c, const struct pw_pq_value *row, const struct pw_scan_record *rec)
{
	json_t *name = json_loadb(rec->key, rec->key_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	json_t *voices = json_loadb(rec->data, rec->len, JSON_ALLOW_NUL, NULL);

	if (name == NULL || !json_is_string(name) || voices == NULL || !json_is_array(voices))
		goto out;	/* what jansson and jtree disagree on is fuzz_jtree's */
	for (size_t i = 0; i < c->spec->ncolumns; i++) {
		const struct pw_table_column *col = &c->spec->columns[i];
		const struct pw_pq_value *v = &row[i];

		switch (col->from) {
		case PW_SRC_FILE_ID:
			expect_meta(i, v, c->meta.file_id);
			break;
		case PW_SRC_ENTITY_TYPE:
			expect_meta(i, v, c->meta.entity_type);
			break;
		case PW_SRC_ENTITY_NAME:
			expect_string(i, v, json_string_value(name), json_string_length(name));
			break;
		case PW_SRC_INGESTED_AT:
			if (v->kind != PW_PQ_V_INT || v->u.i != c->meta.ingested_at_us)
				fz_fail("column %zu: ingested_at is not the upload's", i);
			break;
		case PW_SRC_ENTITY_VOICES:
			if (v->kind != PW_PQ_V_LIST || v->u.list.n != json_array_size(voices))
				fz_fail("column %zu: %zu voices, the record has %zu", i,
				    v->kind == PW_PQ_V_LIST ? v->u.list.n : 0, json_array_size(voices));
			for (size_t k = 0; k < v->u.list.n; k++) {
				const struct pw_pq_str *s = &v->u.list.items[k];
				const json_t *want = json_array_get(voices, k);

				if (s->p == NULL || s->n != json_string_length(want) ||
				    memcmp(s->p, json_string_value(want), s->n) != 0)
					fz_fail("column %zu: voice %zu is not the record's", i, k + 1);
			}
			break;
		default:
			fz_fail("column %zu: an entry source in the entity table", i);
		}
	}
out:
	json_decref(name);
	json_decref(voices);
}

static int
on_record(void *arg, const struct pw_scan_record *rec, struct pw_error *err)
{
	struct ctx *c = arg;
	const struct pw_pq_value *row;
	struct pw_record r;

	if (pw_record_parse(c->kind, rec, c->tree, &r, err) != 0)
		return -1;
	if (c->kind == PW_FILE_ENTRY) {
		row = pw_row_entry(c->rows, &c->meta, c->records, r.value, rec->data, rec->len);
		check_entry(c, row, rec);
	} else {
		row = pw_row_entity_json(c->rows, &c->meta, c->records, r.name, r.value);
		check_entity(c, row, rec);
	}
	if (pw_pq_write_row(c->direct, row, err) == -1)
		fz_fail("the Parquet writer refused row %" PRIu64 ": %s", c->records, err->msg);
	if (pw_rowspool_add(&c->spool, row) == -1)
		fz_fail("the rowspool refused row %" PRIu64, c->records);
	pw_record_finish(&r);
	c->records++;
	return 0;
}

static int
replay_row(void *arg, const struct pw_pq_value *row, struct pw_error *err)
{
	return pw_pq_write_row(arg, row, err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_pq_column cols[64];
	struct pw_scan_options opts;
	struct pw_pq_options pq;
	struct pw_pq_writer *spooled;
	struct pw_buf a, b;
	struct pw_scan *scan;
	struct pw_error err;
	struct ctx c;

	if (size < 1)
		return 0;
	if (!specs_loaded) {
		for (int k = 0; k < 2; k++) {
			const char *text = pw_table_spec_default((enum pw_file_kind)k);

			if (pw_table_spec_parse(text, strlen(text), "built-in", &specs[k], &err) == -1)
				fz_fail("built-in spec: %s", err.msg);
			if (specs[k].ncolumns > sizeof cols / sizeof cols[0])
				fz_fail("built-in spec: too many columns");
		}
		specs_loaded = true;
	}
	memset(&c, 0, sizeof c);
	c.kind = data[0] & 1 ? PW_FILE_ENTITY : PW_FILE_ENTRY;
	c.spec = &specs[c.kind];
	c.rows = pw_row_builder_create(c.spec);
	c.tree = pw_jtree_create(0);
	c.meta.file_id = "9a067775-7df0-4dc3-bd56-59c7f4d183da";
	c.meta.uploaded_by = "fuzz";
	c.meta.source_filename = c.kind == PW_FILE_ENTRY ? "db-1850.json" : "entity-flag.json";
	c.meta.entity_type = c.kind == PW_FILE_ENTITY ? "flag" : NULL;
	c.meta.ingested_at_us = 1738843718123456;
	pw_rowspool_init(&c.spool, c.spec->ncolumns, SIZE_MAX / 2);

	pw_table_spec_pq_columns(c.spec, cols);
	pw_pq_options_default(&pq);
	pq.codec = PW_PQ_UNCOMPRESSED;	/* the codecs are fuzz_parquet's */
	pq.created_by = "fuzz_records";
	if (data[0] & 2)
		pq.row_group_rows = 3;
	pw_buf_init(&a, SIZE_MAX / 4);
	pw_buf_init(&b, SIZE_MAX / 4);
	if ((c.direct = pw_pq_open(cols, c.spec->ncolumns, &pq, sink, &a, &err)) == NULL)
		fz_fail("pw_pq_open: %s", err.msg);

	memset(&opts, 0, sizeof opts);
	pw_file_kind_scan_options(c.kind, &opts);
	scan = pw_scan_create(&opts, on_record, &c);
	/* a scan error (a bad record) ends the file, as in the worker */
	if (pw_scan_feed(scan, data + 1, size - 1, &err) == 0 && pw_scan_finish(scan, &err) == 0 &&
	    c.records != pw_scan_records(scan))
		fz_fail("%" PRIu64 " rows from %zu records", c.records, pw_scan_records(scan));
	pw_scan_destroy(scan);

	if ((spooled = pw_pq_open(cols, c.spec->ncolumns, &pq, sink, &b, &err)) == NULL)
		fz_fail("pw_pq_open: %s", err.msg);
	if (pw_rowspool_replay(&c.spool, replay_row, spooled, &err) == -1)
		fz_fail("a replayed row was refused: %s", err.msg);
	if (pw_pq_rows(spooled) != c.records || pw_pq_rows(c.direct) != c.records)
		fz_fail("rows: %" PRIu64 " mapped, %" PRIu64 " written, %" PRIu64 " replayed",
		    c.records, pw_pq_rows(c.direct), pw_pq_rows(spooled));
	if (pw_pq_close(c.direct, NULL, &err) == -1 || pw_pq_close(spooled, NULL, &err) == -1)
		fz_fail("pw_pq_close: %s", err.msg);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		fz_fail("rows written as mapped and replayed from the rowspool differ "
		    "(%zu and %zu bytes)", a.len, b.len);
	pw_pq_destroy(c.direct);
	pw_pq_destroy(spooled);
	pw_buf_finish(&a);
	pw_buf_finish(&b);
	pw_rowspool_finish(&c.spool);
	pw_jtree_destroy(c.tree);
	pw_row_builder_destroy(c.rows);
	return 0;
}
