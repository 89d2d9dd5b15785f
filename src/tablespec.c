/*
 * Table specs (see include/portada/tablespec.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "portada/tablespec.h"
#include "portada/utf8.h"

/* Generated from the JSON files in tables/ by src/meson.build. */
extern const char pw_spec_ship_entries[];
extern const char pw_spec_known_entities[];

static const struct {
	const char	*name;
	enum pw_pq_type	 type;
} types[] = {
	{ "string", PW_PQ_STRING },
	{ "long", PW_PQ_LONG },
	{ "integer", PW_PQ_INTEGER },
	{ "date", PW_PQ_DATE },
	{ "timestamp", PW_PQ_TIMESTAMP },
	{ "double", PW_PQ_DOUBLE },
	{ "boolean", PW_PQ_BOOLEAN },
	{ "string_list", PW_PQ_STRING_LIST },
};

/* Each source: its name, the one type it yields, whether it can be null,
 * and the kind of file it exists for (-1: both). */
static const struct {
	const char		*name;
	enum pw_col_source	 src;
	enum pw_pq_type		 type;
	bool			 maybe_null;
	int			 kind;
	bool			 takes_field;
} sources[] = {
	{ "file_id", PW_SRC_FILE_ID, PW_PQ_STRING, false, -1, false },
	{ "record_index", PW_SRC_RECORD_INDEX, PW_PQ_LONG, false, -1, false },
	{ "uploaded_by", PW_SRC_UPLOADED_BY, PW_PQ_STRING, true, -1, false },
	{ "source_filename", PW_SRC_SOURCE_FILENAME, PW_PQ_STRING, true, -1, false },
	{ "ingested_at", PW_SRC_INGESTED_AT, PW_PQ_TIMESTAMP, false, -1, false },
	{ "field:", PW_SRC_FIELD, PW_PQ_STRING, true, PW_FILE_ENTRY, true },
	{ "date:", PW_SRC_DATE, PW_PQ_DATE, true, PW_FILE_ENTRY, true },
	{ "record", PW_SRC_RECORD, PW_PQ_STRING, false, PW_FILE_ENTRY, false },
	{ "entity_type", PW_SRC_ENTITY_TYPE, PW_PQ_STRING, false, PW_FILE_ENTITY, false },
	{ "entity_name", PW_SRC_ENTITY_NAME, PW_PQ_STRING, false, PW_FILE_ENTITY, false },
	{ "entity_voices", PW_SRC_ENTITY_VOICES, PW_PQ_STRING_LIST, true, PW_FILE_ENTITY, false },
};

const char *
pw_table_type_name(enum pw_pq_type type)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == type)
			return types[i].name;
	return "unknown";
}

const char *
pw_table_spec_default(enum pw_file_kind kind)
{
	return kind == PW_FILE_ENTRY ? pw_spec_ship_entries : pw_spec_known_entities;
}

void
pw_table_spec_finish(struct pw_table_spec *spec)
{
	for (size_t i = 0; i < spec->ncolumns; i++) {
		free(spec->columns[i].name);
		free(spec->columns[i].field);
	}
	free(spec->columns);
	free(spec->table);
	memset(spec, 0, sizeof *spec);
}

void
pw_table_spec_pq_columns(const struct pw_table_spec *spec, struct pw_pq_column *out)
{
	for (size_t i = 0; i < spec->ncolumns; i++) {
		out[i].name = spec->columns[i].name;
		out[i].type = spec->columns[i].type;
		out[i].required = !spec->columns[i].nullable;
	}
}

/* A table name becomes a directory name: keep it plain. */
static bool
plain_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int
parse_column(json_t *jc, size_t i, enum pw_file_kind kind, struct pw_table_column *c,
    struct pw_error *err)
{
	const char *name, *type, *from;
	json_t *nullable;
	size_t t, s;

	if (!json_is_object(jc)) {
		pw_error_set(err, "column %zu: not an object", i);
		return -1;
	}
	name = json_string_value(json_object_get(jc, "name"));
	if (name == NULL || *name == '\0') {
		pw_error_set(err, "column %zu: \"name\" must be a non-empty string", i);
		return -1;
	}
	if (strlen(name) > 128) {
		pw_error_set(err, "column %zu: the name is longer than 128 bytes", i);
		return -1;
	}
	/* Delta allows these only with column mapping, which we do not write. */
	if (strpbrk(name, " ,;{}()\n\t=") != NULL) {
		pw_error_set(err, "column %zu \"%s\": a Delta column name cannot hold any of "
		    "' ,;{}()=', a tab or a newline", i, name);
		return -1;
	}
	type = json_string_value(json_object_get(jc, "type"));
	from = json_string_value(json_object_get(jc, "from"));
	nullable = json_object_get(jc, "nullable");
	if (type == NULL || from == NULL || !json_is_boolean(nullable)) {
		pw_error_set(err, "column %zu \"%s\": needs \"type\" and \"from\" strings and a "
		    "\"nullable\" boolean", i, name);
		return -1;
	}
	for (t = 0; t < sizeof types / sizeof types[0]; t++)
		if (strcmp(types[t].name, type) == 0)
			break;
	if (t == sizeof types / sizeof types[0]) {
		pw_error_set(err, "column %zu \"%s\": unknown type \"%s\" (string, long, integer, "
		    "date, timestamp, double, boolean or string_list)", i, name, type);
		return -1;
	}
	for (s = 0; s < sizeof sources / sizeof sources[0]; s++) {
		size_t n = strlen(sources[s].name);

		if (sources[s].takes_field ? strncmp(from, sources[s].name, n) == 0 &&
		    from[n] != '\0' : strcmp(from, sources[s].name) == 0)
			break;
	}
	if (s == sizeof sources / sizeof sources[0]) {
		pw_error_set(err, "column %zu \"%s\": unknown source \"%s\"", i, name, from);
		return -1;
	}
	if (sources[s].kind != -1 && sources[s].kind != (int)kind) {
		pw_error_set(err, "column %zu \"%s\": source \"%s\" exists only for %s files",
		    i, name, from, sources[s].kind == PW_FILE_ENTRY ? "entry" : "entity");
		return -1;
	}
	if (sources[s].type != types[t].type) {
		pw_error_set(err, "column %zu \"%s\": source \"%s\" gives a %s, not a %s", i,
		    name, from, pw_table_type_name(sources[s].type), type);
		return -1;
	}
	if (sources[s].maybe_null && !json_is_true(nullable)) {
		pw_error_set(err, "column %zu \"%s\": source \"%s\" can be missing, so the "
		    "column must be nullable", i, name, from);
		return -1;
	}
	c->name = pw_xstrdup(name);
	c->type = types[t].type;
	c->nullable = json_is_true(nullable);
	c->from = sources[s].src;
	c->field = sources[s].takes_field ? pw_xstrdup(from + strlen(sources[s].name)) : NULL;
	return 0;
}

int
pw_table_spec_parse(const char *text, size_t len, const char *origin,
    struct pw_table_spec *out, struct pw_error *err)
{
	json_error_t jerr;
	json_t *root, *cols;
	const char *table, *files;
	enum pw_file_kind kind;
	size_t n;

	memset(out, 0, sizeof *out);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		pw_error_set(err, "table spec %s: invalid JSON at line %d, column %d: %s",
		    origin, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	table = json_string_value(json_object_get(root, "table"));
	files = json_string_value(json_object_get(root, "files"));
	cols = json_object_get(root, "columns");
	if (table == NULL || !plain_name(table)) {
		pw_error_set(err, "table spec %s: \"table\" must be a name of a-z, 0-9 and _ "
		    "(at most 64)", origin);
		goto fail;
	}
	if (files != NULL && strcmp(files, "entry") == 0) {
		kind = PW_FILE_ENTRY;
	} else if (files != NULL && strcmp(files, "entity") == 0) {
		kind = PW_FILE_ENTITY;
	} else {
		pw_error_set(err, "table spec %s: \"files\" must be \"entry\" or \"entity\"", origin);
		goto fail;
	}
	if (!json_is_array(cols) || (n = json_array_size(cols)) == 0 || n > 4096) {
		pw_error_set(err, "table spec %s: \"columns\" must be an array of 1 to 4096 "
		    "columns", origin);
		goto fail;
	}
	out->table = pw_xstrdup(table);
	out->files = kind;
	out->columns = pw_xcalloc(n, sizeof *out->columns);
	for (size_t i = 0; i < n; i++) {
		if (parse_column(json_array_get(cols, i), i, kind, &out->columns[i], err) == -1)
			goto prefix;
		out->ncolumns++;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(out->columns[j].name, out->columns[i].name) == 0) {
				pw_error_set(err, "column %zu \"%s\" appears twice", i,
				    out->columns[i].name);
				goto prefix;
			}
		}
	}
	json_decref(root);
	return 0;

prefix:
	pw_error_prefix(err, "table spec %s", origin);
fail:
	json_decref(root);
	pw_table_spec_finish(out);
	return -1;
}
