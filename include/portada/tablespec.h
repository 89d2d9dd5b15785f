/*
 * tablespec: a table's columns as data.  A JSON spec (in tables/, the
 * defaults compiled in, --table-spec to override) names the table, the
 * kind of file that feeds it, and for every column its Delta type, whether
 * it may be null, and where its value comes from.  Pure code: no I/O.
 *
 * Sources ("from"):
 *	file_id, uploaded_by, source_filename	string: the upload's hash
 *	record_index				long: position in the file, from 0
 *	ingested_at				timestamp: when the worker took it
 *	field:<name>	(entry) string: the record's <name>, resolved
 *	date:<name>	(entry) date: the record's <name> as a date, or null
 *	record		(entry) string: the record's original JSON text
 *	entity_type, entity_name  (entity) string
 *	entity_voices	(entity) list of strings
 */
#ifndef PORTADA_TABLESPEC_H
#define PORTADA_TABLESPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "portada/error.h"
#include "portada/parquet.h"
#include "portada/records.h"

enum pw_col_source {
	PW_SRC_FILE_ID,
	PW_SRC_RECORD_INDEX,
	PW_SRC_UPLOADED_BY,
	PW_SRC_SOURCE_FILENAME,
	PW_SRC_INGESTED_AT,
	PW_SRC_FIELD,
	PW_SRC_DATE,
	PW_SRC_RECORD,
	PW_SRC_ENTITY_TYPE,
	PW_SRC_ENTITY_NAME,
	PW_SRC_ENTITY_VOICES,
};

struct pw_table_column {
	char			*name;
	enum pw_pq_type		 type;
	bool			 nullable;
	enum pw_col_source	 from;
	char			*field;		/* field: and date: sources; else NULL */
};

struct pw_table_spec {
	char			*table;		/* also the table's directory name */
	enum pw_file_kind	 files;
	struct pw_table_column	*columns;
	size_t			 ncolumns;
};

/*
 * Parse and check a spec; origin names it in errors ("table spec
 * tables/x.json: column 3 \"foo\": ...").  On success the caller owns
 * *out (pw_table_spec_finish()).
 */
int pw_table_spec_parse(const char *text, size_t len, const char *origin,
    struct pw_table_spec *out, struct pw_error *err) PW_MUST_CHECK;
void pw_table_spec_finish(struct pw_table_spec *spec);

/* The compiled-in spec for a kind of file (tables/ship_entries.json or
 * tables/known_entities.json), NUL-terminated. */
const char *pw_table_spec_default(enum pw_file_kind kind);

/* The spec as the Parquet writer's schema: out[ncolumns], names borrowed. */
void pw_table_spec_pq_columns(const struct pw_table_spec *spec, struct pw_pq_column *out);

/* The Delta / spec name of a type ("string", "long", ..., "string_list"). */
const char *pw_table_type_name(enum pw_pq_type type);

#endif
