/*
 * rows: records → table rows, following a table spec.  Given one parsed
 * record (and the upload's metadata) it fills one value per column for the
 * Parquet writer.  Pure code: no I/O.
 *
 * The rules (the issue's, and the PortAda data layer's):
 * - field:<name>: a missing key or a JSON null is null.  An object with
 *   calculated_value / original_value / default_value resolves to the first
 *   of them that is present and not empty (null, "", [] and {} are empty),
 *   or null if none is.  The value is then written as text: strings as they
 *   are, true/false, integers as they are, reals as Python's repr() writes
 *   them (20.0, 0.1, 1e+16; see text.h), arrays and objects as compact JSON.
 * - date:<name>: the resolved value as a date: epoch milliseconds (a string
 *   of digits or a number), converted in UTC, or "YYYY-MM-DD" (optionally
 *   followed by 'T' or ' ' and a time, which is ignored).  Anything else
 *   is null, never an error.
 * - record: the record's original JSON text, byte for byte.
 */
#ifndef PORTADA_ROWS_H
#define PORTADA_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/jtree.h"
#include "portada/parquet.h"
#include "portada/tablespec.h"

/* What every row of one upload shares.  Strings are borrowed; NULL = null. */
struct pw_row_meta {
	const char	*file_id;
	const char	*uploaded_by;
	const char	*source_filename;
	const char	*entity_type;
	int64_t		 ingested_at_us;	/* µs since the epoch, UTC */
};

struct pw_row_builder;

/* A builder for spec (borrowed; it must outlive the builder). */
struct pw_row_builder *pw_row_builder_create(const struct pw_table_spec *spec);
void pw_row_builder_destroy(struct pw_row_builder *b);
/* Bytes the builder keeps between rows (the biggest row's texts so far). */
size_t pw_row_builder_held(const struct pw_row_builder *b);

/*
 * One entry record: record is the parsed object (from pw_record_parse() or
 * pw_jtree_parse()), raw[0..raw_len) its original text.  *values (one per
 * column) stays valid until the next call and borrows from record (and so
 * its tree), raw and meta.
 */
const struct pw_pq_value *pw_row_entry(struct pw_row_builder *b, const struct pw_row_meta *meta,
    uint64_t index, const struct pw_jval *record, const char *raw, size_t raw_len);

/* One entity: its canonical name and voices (an item with p == NULL is null). */
const struct pw_pq_value *pw_row_entity(struct pw_row_builder *b, const struct pw_row_meta *meta,
    uint64_t index, const char *name, size_t name_len, const struct pw_pq_str *voices,
    size_t nvoices);

/* The same, with the voices as the JSON array records.c parsed. */
const struct pw_pq_value *pw_row_entity_json(struct pw_row_builder *b,
    const struct pw_row_meta *meta, uint64_t index, const char *name,
    const struct pw_jval *voices);

/* The rules above, for tests and for other tables: resolve v to the value
 * that counts (NULL if it is null); write a value as text into out
 * (appended); turn a value into days since 1970-01-01 (false if it is not
 * a date). */
const struct pw_jval *pw_row_resolve(const struct pw_jval *v);
void pw_row_text(const struct pw_jval *v, struct pw_buf *out);
bool pw_row_date(const struct pw_jval *v, int32_t *days);

#endif
