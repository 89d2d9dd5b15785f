/*
 * records: the meaning of a scanned record.  The scanner has already
 * validated the JSON grammar and UTF-8; jansson builds the value and catches
 * what a lexical scan cannot (numbers out of range, \u0000, lone surrogates).
 */
#include <stdlib.h>
#include <string.h>

#include "portada/records.h"

/* How many bytes of s, at most max, "%.*s" may show without cutting a UTF-8 character. */
static int
utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

int
pw_file_kind_parse(const char *file_type, enum pw_file_kind *kind,
    const char **entity_type, struct pw_error *err)
{
	const char *p;

	*entity_type = NULL;
	if (file_type != NULL && strcmp(file_type, "entry") == 0) {
		*kind = PW_FILE_ENTRY;
		return 0;
	}
	if (file_type != NULL && strncmp(file_type, "entity_", 7) == 0 &&
	    file_type[7] != '\0') {
		for (p = file_type + 7; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
				break;
		if (*p == '\0' && p - file_type <= 71) {
			*kind = PW_FILE_ENTITY;
			*entity_type = file_type + 7;
			return 0;
		}
	}
	if (file_type == NULL)
		pw_error_set(err, "missing field file_type");
	else
		pw_error_set(err, "unsupported file_type \"%.*s\" (expected \"entry\" or "
		    "\"entity_<type>\")", utf8_prefix(file_type, 100), file_type);
	return -1;
}

void
pw_file_kind_scan_options(enum pw_file_kind kind, struct pw_scan_options *opts)
{
	opts->top = kind == PW_FILE_ENTRY ? PW_SCAN_ARRAY : PW_SCAN_OBJECT;
	opts->unwrap_key = kind == PW_FILE_ENTITY ? "names" : NULL;
}

static const char *
json_kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* jansson's position inside the record, moved to the position in the file. */
static void
file_position(unsigned long start_line, unsigned long start_column,
    const json_error_t *je, unsigned long *line, unsigned long *column)
{
	*line = start_line + (unsigned long)(je->line > 0 ? je->line - 1 : 0);
	*column = je->line <= 1 ? start_column + (unsigned long)(je->column > 0 ?
	    je->column - 1 : 0) : (unsigned long)je->column;
}

static json_t *
load(const char *data, size_t len, unsigned long start_line,
    unsigned long start_column, const char *what, struct pw_error *err)
{
	unsigned long line, column;
	json_error_t je;
	json_t *v;

	v = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (v == NULL) {
		file_position(start_line, start_column, &je, &line, &column);
		pw_error_set(err, "invalid JSON at line %lu, column %lu: %s (in %s)",
		    line, column, je.text, what);
	}
	return v;
}

int
pw_record_parse(enum pw_file_kind kind, const struct pw_scan_record *rec,
    struct pw_record *out, struct pw_error *err)
{
	char what[64];
	json_t *key, *v;
	size_t i;

	memset(out, 0, sizeof *out);
	if (kind == PW_FILE_ENTRY) {
		snprintf(what, sizeof what, "record %zu", rec->index + 1);
		if ((v = load(rec->data, rec->len, rec->value_line, rec->value_column, what, err)) == NULL)
			return -1;
		if (!json_is_object(v)) {
			pw_error_set(err, "record %zu at line %lu, column %lu is %s, "
			    "expected an object", rec->index + 1, rec->line, rec->column,
			    json_kind_name(v));
			json_decref(v);
			return -1;
		}
		out->value = v;
		return 0;
	}

	snprintf(what, sizeof what, "the name of entity %zu", rec->index + 1);
	if ((key = load(rec->key, rec->key_len, rec->line, rec->column, what, err)) == NULL)
		return -1;
	if (json_string_length(key) == 0 || memchr(json_string_value(key), '\0',
	    json_string_length(key)) != NULL) {
		pw_error_set(err, "entity %zu at line %lu, column %lu has an empty name "
		    "or one with a NUL character", rec->index + 1, rec->line, rec->column);
		json_decref(key);
		return -1;
	}
	out->name = pw_xstrdup(json_string_value(key));
	json_decref(key);
	snprintf(what, sizeof what, "entity \"%.*s\"", utf8_prefix(out->name, 40), out->name);
	if ((v = load(rec->data, rec->len, rec->value_line, rec->value_column, what, err)) == NULL)
		goto fail;
	if (!json_is_array(v)) {
		pw_error_set(err, "entity \"%.*s\" at line %lu, column %lu: voices must "
		    "be an array of strings, found %s", utf8_prefix(out->name, 100),
		    out->name, rec->line, rec->column, json_kind_name(v));
		json_decref(v);
		goto fail;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i))) {
			pw_error_set(err, "entity \"%.*s\" at line %lu, column %lu: voices "
			    "must be an array of strings, found %s at element %zu",
			    utf8_prefix(out->name, 100), out->name, rec->line, rec->column,
			    json_kind_name(json_array_get(v, i)), i + 1);
			json_decref(v);
			goto fail;
		}
	}
	out->value = v;
	return 0;
fail:
	free(out->name);
	out->name = NULL;
	return -1;
}

void
pw_record_finish(struct pw_record *rec)
{
	free(rec->name);
	json_decref(rec->value);
	memset(rec, 0, sizeof *rec);
}
