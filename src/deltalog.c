/*
 * deltalog: Delta transaction log actions written byte by byte in the
 * order Spark writes them (so logs from both read the same), and read with
 * jansson.  Everything the log says that this writer cannot honour is
 * refused here, by name, before a single byte of a table is written.
 */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/deltalog.h"
#include "portada/text.h"
#include "portada/utf8.h"

/* ---- small helpers -------------------------------------------------------- */

/* How many bytes of s "%.*s" may show (at most 80) without cutting a character. */
static int
shown(const char *s)
{
	return (int)pw_utf8_cut(s, strlen(s), 80);
}

/* Whether all of s is UTF-8: JSON can carry nothing else. */
static bool
valid_utf8(const char *s)
{
	size_t n = strlen(s);

	return pw_utf8_check(s, n) == n;
}

/* Locale-free lower case, for comparing names. */
static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Delta compares column names regardless of case; ASCII folding covers our names. */
static bool
same_name_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

/* Append s to a string array whose capacity is the next power of two. */
static void
push_str(char ***arr, size_t *n, const char *s)
{
	if ((*n & (*n - 1)) == 0)
		*arr = pw_xrealloc(*arr, (*n == 0 ? 1 : *n * 2) * sizeof **arr);
	(*arr)[(*n)++] = pw_xstrdup(s);
}

/* Free an array from push_str(). */
static void
free_strs(char **arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

/* ---- JSON output ---------------------------------------------------------- */

/*
 * An append that remembers running out of room, so a whole action is
 * written without a check per token and undone once at the end.
 */
struct out {
	struct pw_buf	*b;
	size_t		 start;
	bool		 full;
};

/* Start an action at the end of b. */
static void
out_init(struct out *o, struct pw_buf *b)
{
	o->b = b;
	o->start = b->len;
	o->full = false;
}

/* Bytes as they are; after the first failure, nothing more. */
static void
out_raw(struct out *o, const void *p, size_t n)
{
	if (!o->full && pw_buf_append(o->b, p, n) == -1)
		o->full = true;
}

/* A C string as it is (no quotes, no escaping). */
static void
out_str(struct out *o, const char *s)
{
	out_raw(o, s, strlen(s));
}

/* A JSON string; s must be valid UTF-8, which passes through as it is. */
static void
out_jstr_n(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char esc[6];

	out_raw(o, "\"", 1);
	if (n == 0) {		/* s may be NULL then */
		out_raw(o, "\"", 1);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			e = esc;
			elen = 6;
			break;
		}
		out_raw(o, s + run, i - run);
		out_raw(o, e, elen);
		run = i + 1;
	}
	out_raw(o, s + run, n - run);
	out_raw(o, "\"", 1);
}

/* A C string as a JSON string. */
static void
out_jstr(struct out *o, const char *s)
{
	out_jstr_n(o, s, strlen(s));
}

/* Integers as JSON numbers. */
static void
out_i64(struct out *o, int64_t v)
{
	char tmp[24];

	out_raw(o, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v));
}

/* Counts and sizes as JSON numbers. */
static void
out_u64(struct out *o, uint64_t v)
{
	char tmp[24];

	out_raw(o, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, v));
}

/* d is finite: doubles with no finite min/max get no stats. */
static void
out_double(struct out *o, double d)
{
	char tmp[PW_TEXT_DOUBLE_SIZE];

	assert(isfinite(d));
	pw_text_double(d, tmp);
	out_str(o, tmp);
}

/* Finish an action: on overflow, undo it whole. */
static int
out_end(struct out *o, struct pw_error *err)
{
	if (!o->full)
		return 0;
	pw_buf_truncate(o->b, o->start);
	pw_error_set(err, "the Delta commit would pass its size limit of %zu bytes",
	    o->b->limit);
	return -1;
}

/* ---- schema --------------------------------------------------------------- */

void
pw_delta_fields_free(struct pw_delta_field *fields, size_t n)
{
	if (fields == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(fields[i].name);
		free(fields[i].metadata);
	}
	free(fields);
}

/* Deep copy of one field into dst. */
static void
field_copy(struct pw_delta_field *dst, const struct pw_delta_field *src)
{
	dst->name = pw_xstrdup(src->name);
	dst->type = src->type;
	dst->nullable = src->nullable;
	dst->metadata = src->metadata != NULL ? pw_xstrdup(src->metadata) : NULL;
}

struct pw_delta_field *
pw_delta_fields_copy(const struct pw_delta_field *fields, size_t n)
{
	struct pw_delta_field *out;

	if (n == 0)
		return NULL;
	out = pw_xcalloc(n, sizeof *out);
	for (size_t i = 0; i < n; i++)
		field_copy(&out[i], &fields[i]);
	return out;
}

/* The Delta name of a primitive type; NULL for string_list. */
static const char *
primitive_name(enum pw_pq_type t)
{
	switch (t) {
	case PW_PQ_STRING:	return "string";
	case PW_PQ_LONG:	return "long";
	case PW_PQ_INTEGER:	return "integer";
	case PW_PQ_DATE:	return "date";
	case PW_PQ_TIMESTAMP:	return "timestamp";
	case PW_PQ_DOUBLE:	return "double";
	case PW_PQ_BOOLEAN:	return "boolean";
	case PW_PQ_STRING_LIST:	return NULL;
	}
	return NULL;
}

/* For messages: Delta's name, or array<string>. */
static const char *
type_label(enum pw_pq_type t)
{
	const char *s = primitive_name(t);

	return s != NULL ? s : "array<string>";
}

/*
 * Spark refuses these in column names unless column mapping is on (they
 * are not allowed in Parquet schemas it writes), so no table of ours
 * should carry them.
 */
static const char bad_name_chars[] = " ,;{}()\n\t=";

/* Whether fields make a schema other engines accept (see pw_delta_schema_write()). */
static int
check_schema_fields(const struct pw_delta_field *fields, size_t n, struct pw_error *err)
{
	size_t i, j;

	if (n == 0) {
		pw_error_set(err, "a Delta schema needs at least one column");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *name = fields[i].name;

		if (name == NULL || name[0] == '\0') {
			pw_error_set(err, "column %zu has an empty name", i + 1);
			return -1;
		}
		if (!valid_utf8(name)) {
			pw_error_set(err, "the name of column %zu is not valid UTF-8", i + 1);
			return -1;
		}
		if (strpbrk(name, bad_name_chars) != NULL) {
			pw_error_set(err, "column \"%.*s\": Delta allows none of "
			    "' ,;{}()\\n\\t=' in a column name without column mapping",
			    shown(name), name);
			return -1;
		}
		if (primitive_name(fields[i].type) == NULL &&
		    fields[i].type != PW_PQ_STRING_LIST) {
			pw_error_set(err, "column \"%.*s\" has an unknown type",
			    shown(name), name);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (same_name_nocase(fields[j].name, name)) {
				pw_error_set(err, "columns \"%.*s\" and \"%.*s\": Delta "
				    "column names must differ regardless of case",
				    shown(fields[j].name), fields[j].name, shown(name), name);
				return -1;
			}
		}
	}
	return 0;
}

/* The struct JSON of a checked schema, keys in Spark's order. */
static void
out_schema(struct out *o, const struct pw_delta_field *fields, size_t n)
{
	out_str(o, "{\"type\":\"struct\",\"fields\":[");
	for (size_t i = 0; i < n; i++) {
		const struct pw_delta_field *f = &fields[i];
		const char *t = primitive_name(f->type);

		if (i > 0)
			out_str(o, ",");
		out_str(o, "{\"name\":");
		out_jstr(o, f->name);
		out_str(o, ",\"type\":");
		if (t != NULL)
			out_jstr(o, t);
		else
			out_str(o, "{\"type\":\"array\",\"elementType\":\"string\","
			    "\"containsNull\":true}");
		out_str(o, f->nullable ? ",\"nullable\":true" : ",\"nullable\":false");
		out_str(o, ",\"metadata\":");
		out_str(o, f->metadata != NULL ? f->metadata : "{}");
		out_str(o, "}");
	}
	out_str(o, "]}");
}

int
pw_delta_schema_write(struct pw_buf *b, const struct pw_delta_field *fields, size_t n,
    struct pw_error *err)
{
	struct out o;

	if (check_schema_fields(fields, n, err) == -1)
		return -1;
	out_init(&o, b);
	out_schema(&o, fields, n);
	return out_end(&o, err);
}

/* What to call a type we refuse, for "column \"x\" is/has <this>". */
static const char *
json_type_tag(const json_t *t)
{
	const char *s;

	if (json_is_string(t))
		return json_string_value(t);
	s = json_string_value(json_object_get(t, "type"));
	return s != NULL ? s : "?";
}

/*
 * Map one Delta type to ours, or explain (for "column \"x\" <reason>")
 * why it cannot be written.
 */
static int
parse_type(const json_t *t, enum pw_pq_type *out, char *why, size_t whysize)
{
	static const struct { const char *name; enum pw_pq_type type; } prims[] = {
		{ "string", PW_PQ_STRING }, { "long", PW_PQ_LONG },
		{ "integer", PW_PQ_INTEGER }, { "date", PW_PQ_DATE },
		{ "timestamp", PW_PQ_TIMESTAMP }, { "double", PW_PQ_DOUBLE },
		{ "boolean", PW_PQ_BOOLEAN },
	};
	static const char *const known[] = {
		"short", "byte", "float", "binary", "timestamp_ntz", "variant", "void",
	};
	const char *s, *kind;
	const json_t *elem, *cn;
	size_t i;

	if (json_is_string(t)) {
		s = json_string_value(t);
		for (i = 0; i < sizeof prims / sizeof prims[0]; i++) {
			if (strcmp(s, prims[i].name) == 0) {
				*out = prims[i].type;
				return 0;
			}
		}
		for (i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(s, known[i]) == 0)
				break;
		if (i < sizeof known / sizeof known[0] || strncmp(s, "decimal", 7) == 0)
			snprintf(why, whysize, "has type %.*s, which portada-worker cannot "
			    "write", shown(s), s);
		else
			snprintf(why, whysize, "has the unknown type \"%.*s\"", shown(s), s);
		return -1;
	}
	if (!json_is_object(t) || (kind = json_string_value(json_object_get(t, "type"))) == NULL) {
		snprintf(why, whysize, "has a type that is neither a name nor an object "
		    "with a \"type\"");
		return -1;
	}
	if (strcmp(kind, "struct") == 0) {
		snprintf(why, whysize, "is a nested struct, which portada-worker cannot write");
		return -1;
	}
	if (strcmp(kind, "map") == 0) {
		snprintf(why, whysize, "is a map, which portada-worker cannot write");
		return -1;
	}
	if (strcmp(kind, "array") != 0) {
		snprintf(why, whysize, "has the unknown type \"%.*s\"", shown(kind), kind);
		return -1;
	}
	elem = json_object_get(t, "elementType");
	if (!json_is_string(elem) || strcmp(json_string_value(elem), "string") != 0) {
		s = elem != NULL ? json_type_tag(elem) : "nothing";
		snprintf(why, whysize, "is an array of %.*s; portada-worker writes arrays "
		    "of strings only", shown(s), s);
		return -1;
	}
	cn = json_object_get(t, "containsNull");
	if (!json_is_boolean(cn)) {
		snprintf(why, whysize, "is an array without a containsNull flag");
		return -1;
	}
	if (!json_is_true(cn)) {
		snprintf(why, whysize, "is an array of strings that may not hold null "
		    "(containsNull false); portada-worker writes arrays whose items may be null");
		return -1;
	}
	*out = PW_PQ_STRING_LIST;
	return 0;
}

/* Parse a schema already loaded; fields are appended to *fields. */
static int
schema_from_json(const json_t *root, struct pw_delta_field **fields, size_t *n,
    struct pw_error *err)
{
	const json_t *arr, *f, *name, *nullable, *meta;
	struct pw_delta_field *out = NULL;
	char why[200];
	size_t i, j, count;

	if (!json_is_object(root) || !json_is_string(json_object_get(root, "type")) ||
	    strcmp(json_string_value(json_object_get(root, "type")), "struct") != 0 ||
	    !json_is_array(arr = json_object_get(root, "fields"))) {
		pw_error_set(err, "the schema is not a struct with an array of fields");
		return -1;
	}
	count = json_array_size(arr);
	if (count > 0)
		out = pw_xcalloc(count, sizeof *out);
	for (i = 0; i < count; i++) {
		f = json_array_get(arr, i);
		name = json_object_get(f, "name");
		if (!json_is_object(f) || !json_is_string(name) ||
		    json_string_length(name) == 0 ||
		    strlen(json_string_value(name)) != json_string_length(name)) {
			pw_error_set(err, "schema field %zu has no name", i + 1);
			goto fail;
		}
		out[i].name = pw_xstrdup(json_string_value(name));
		if (parse_type(json_object_get(f, "type"), &out[i].type, why, sizeof why) == -1) {
			pw_error_set(err, "column \"%.*s\" %s", shown(out[i].name), out[i].name, why);
			goto fail;
		}
		nullable = json_object_get(f, "nullable");
		if (!json_is_boolean(nullable)) {
			pw_error_set(err, "column \"%.*s\" has no nullable flag",
			    shown(out[i].name), out[i].name);
			goto fail;
		}
		out[i].nullable = json_is_true(nullable);
		meta = json_object_get(f, "metadata");
		if (meta != NULL && !json_is_null(meta) && !json_is_object(meta)) {
			pw_error_set(err, "column \"%.*s\" has metadata that is not an object",
			    shown(out[i].name), out[i].name);
			goto fail;
		}
		/* Kept for the writable check and to write back unchanged. */
		if (json_object_size(meta) > 0)
			out[i].metadata = json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
		for (j = 0; j < i; j++) {
			if (same_name_nocase(out[j].name, out[i].name)) {
				pw_error_set(err, "columns \"%.*s\" and \"%.*s\": Delta column "
				    "names must differ regardless of case", shown(out[j].name),
				    out[j].name, shown(out[i].name), out[i].name);
				goto fail;
			}
		}
	}
	*fields = out;
	*n = count;
	return 0;
fail:
	pw_delta_fields_free(out, count);
	return -1;
}

int
pw_delta_schema_parse(const char *text, size_t len, struct pw_delta_field **fields,
    size_t *n, struct pw_error *err)
{
	json_error_t je;
	json_t *root;
	int rc;

	*fields = NULL;
	*n = 0;
	root = json_loadb(text, len, 0, &je);
	if (root == NULL) {
		pw_error_set(err, "invalid schema JSON at column %d: %s", je.column, je.text);
		return -1;
	}
	rc = schema_from_json(root, fields, n, err);
	json_decref(root);
	return rc;
}

/* The field called name, exactly or regardless of case; NULL if none. */
static const struct pw_delta_field *
find_field(const struct pw_delta_field *fields, size_t n, const char *name, bool nocase)
{
	for (size_t i = 0; i < n; i++)
		if (nocase ? same_name_nocase(fields[i].name, name) :
		    strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int
pw_delta_schema_merge(const struct pw_delta_field *table, size_t ntable,
    const struct pw_delta_field *spec, size_t nspec, struct pw_delta_field **merged,
    size_t *nmerged, bool *changed, struct pw_error *err)
{
	const struct pw_delta_field *t, *s;
	struct pw_delta_field *out;
	size_t i, n;

	*merged = NULL;
	*nmerged = 0;
	*changed = false;
	for (i = 0; i < nspec; i++) {
		if ((s = find_field(spec, i, spec[i].name, true)) != NULL) {
			pw_error_set(err, "the spec's columns \"%.*s\" and \"%.*s\" differ "
			    "only in case", shown(s->name), s->name, shown(spec[i].name),
			    spec[i].name);
			return -1;
		}
	}
	for (i = 0; i < ntable; i++) {
		t = &table[i];
		s = find_field(spec, nspec, t->name, false);
		if (s == NULL && (s = find_field(spec, nspec, t->name, true)) != NULL) {
			pw_error_set(err, "column \"%.*s\" is \"%.*s\" in the table: names "
			    "must match exactly", shown(s->name), s->name, shown(t->name), t->name);
			return -1;
		}
		if (s == NULL) {
			if (!t->nullable) {
				pw_error_set(err, "column \"%.*s\" is not nullable in the table "
				    "but missing from the spec", shown(t->name), t->name);
				return -1;
			}
			continue;
		}
		if (s->type != t->type) {
			pw_error_set(err, "column \"%.*s\" is %s in the table but %s in the "
			    "spec", shown(t->name), t->name, type_label(t->type),
			    type_label(s->type));
			return -1;
		}
		if (t->nullable && !s->nullable) {
			pw_error_set(err, "column \"%.*s\" is nullable in the table but not in "
			    "the spec (a Delta column cannot become NOT NULL)",
			    shown(t->name), t->name);
			return -1;
		}
		if (!t->nullable && s->nullable) {
			pw_error_set(err, "column \"%.*s\" is not nullable in the table but "
			    "nullable in the spec", shown(t->name), t->name);
			return -1;
		}
	}
	n = ntable;
	for (i = 0; i < nspec; i++) {
		if (find_field(table, ntable, spec[i].name, false) != NULL)
			continue;
		if (!spec[i].nullable) {
			pw_error_set(err, "new column \"%.*s\" must be nullable: the table's "
			    "existing rows have no value for it", shown(spec[i].name),
			    spec[i].name);
			return -1;
		}
		n++;
	}
	out = n > 0 ? pw_xcalloc(n, sizeof *out) : NULL;
	for (i = 0; i < ntable; i++)
		field_copy(&out[i], &table[i]);
	n = ntable;
	for (i = 0; i < nspec; i++)
		if (find_field(table, ntable, spec[i].name, false) == NULL)
			field_copy(&out[n++], &spec[i]);
	*merged = out;
	*nmerged = n;
	*changed = n > ntable;
	return 0;
}

/* ---- writing actions ------------------------------------------------------ */

int
pw_delta_append_protocol(struct pw_buf *b, struct pw_error *err)
{
	struct out o;

	out_init(&o, b);
	out_str(&o, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
	return out_end(&o, err);
}

/* The schema as the JSON string that schemaString holds. */
static int
out_schema_string(struct out *o, const struct pw_delta_field *fields, size_t n,
    struct pw_error *err)
{
	struct pw_buf tmp;
	struct out t;

	if (check_schema_fields(fields, n, err) == -1)
		return -1;
	pw_buf_init(&tmp, o->b->limit);
	out_init(&t, &tmp);
	out_schema(&t, fields, n);
	if (t.full)
		o->full = true;
	else
		out_jstr_n(o, (const char *)tmp.data, tmp.len);
	pw_buf_finish(&tmp);
	return 0;
}

int
pw_delta_append_metadata(struct pw_buf *b, const char *id,
    const struct pw_delta_field *fields, size_t n, int64_t created_ms,
    struct pw_error *err)
{
	struct out o;

	if (!valid_utf8(id)) {
		pw_error_set(err, "the table id is not valid UTF-8");
		return -1;
	}
	out_init(&o, b);
	out_str(&o, "{\"metaData\":{\"id\":");
	out_jstr(&o, id);
	out_str(&o, ",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":");
	if (out_schema_string(&o, fields, n, err) == -1) {
		pw_buf_truncate(b, o.start);
		return -1;
	}
	out_str(&o, ",\"partitionColumns\":[],\"configuration\":{},\"createdTime\":");
	out_i64(&o, created_ms);
	out_str(&o, "}}\n");
	return out_end(&o, err);
}

int
pw_delta_append_metadata_update(struct pw_buf *b, const struct pw_delta_metadata *old,
    const struct pw_delta_field *fields, size_t n, struct pw_error *err)
{
	struct pw_buf schema;
	struct out o;
	json_t *meta, *action;
	char *text;
	int rc;

	assert(old->json != NULL);
	pw_buf_init(&schema, b->limit);
	if (pw_delta_schema_write(&schema, fields, n, err) == -1) {
		pw_buf_finish(&schema);
		return -1;
	}
	meta = json_loads(old->json, 0, NULL);
	assert(json_is_object(meta));
	json_object_set_new(meta, "schemaString",
	    json_stringn((const char *)schema.data, schema.len));
	action = json_pack("{s:o}", "metaData", meta);
	text = json_dumps(action, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(action);
	pw_buf_finish(&schema);
	if (text == NULL)
		abort();	/* jansson fails only when out of memory */
	out_init(&o, b);
	out_str(&o, text);
	out_str(&o, "\n");
	free(text);
	rc = out_end(&o, err);
	return rc;
}

/* a / b rounded down, for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return a % b < 0 ? q - 1 : q;
}

/* a / b rounded up, for b > 0. */
static int64_t
ceil_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return a % b > 0 ? q + 1 : q;
}

/* Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's civil_from_days). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" into out[11]; false outside 0001..9999 (Spark parses no other years). */
static bool
format_date(int64_t days, char *out)
{
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return false;
	snprintf(out, 11, "%04d-%02d-%02d", (int)y, m, d);
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[25]; false outside 0001..9999. */
static bool
format_ms(int64_t ms, char *out)
{
	int64_t days = floor_div(ms, 86400000), rem = ms - days * 86400000;
	char date[11], tmp[64];	/* room for any int, to keep -Wformat-truncation quiet */

	if (!format_date(days, date))
		return false;
	snprintf(tmp, sizeof tmp, "%sT%02d:%02d:%02d.%03dZ", date, (int)(rem / 3600000),
	    (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
	memcpy(out, tmp, 25);
	return true;
}

/* Whether column i gets minValues/maxValues; if so, writes them as text. */
static bool
min_max_text(const struct pw_delta_field *f, const struct pw_pq_col_stats *c,
    char *lo, char *hi)
{
	if (!c->has_min_max)
		return false;
	switch (f->type) {
	case PW_PQ_LONG:
	case PW_PQ_INTEGER:
		snprintf(lo, 40, "%" PRId64, c->min.i);
		snprintf(hi, 40, "%" PRId64, c->max.i);
		return true;
	case PW_PQ_DATE:
		if (!format_date(c->min.i, lo + 1) || !format_date(c->max.i, hi + 1))
			return false;
		break;
	case PW_PQ_TIMESTAMP:
		/*
		 * Delta keeps timestamp stats to the millisecond.  The min is
		 * truncated (still a lower bound); the max is rounded up when
		 * it has microseconds, because a reader that skips files by
		 * comparing with the max as written would otherwise skip a
		 * file holding 12:00:00.000500 for "ts > 12:00:00.000".
		 */
		if (!format_ms(floor_div(c->min.i, 1000), lo + 1) ||
		    !format_ms(ceil_div(c->max.i, 1000), hi + 1))
			return false;
		break;
	default:
		return false;	/* strings, doubles and the rest are handled by the caller */
	}
	/* Quote what is a JSON string (characters need no escaping). */
	lo[0] = hi[0] = '"';
	strcat(lo, "\"");
	strcat(hi, "\"");
	return true;
}

/* Whether a column's min and max go into the stats at all. */
static bool
has_bounds(const struct pw_delta_field *f, const struct pw_pq_col_stats *c)
{
	char lo[40], hi[40];

	if (!c->has_min_max)
		return false;
	switch (f->type) {
	case PW_PQ_STRING:
		return true;
	case PW_PQ_DOUBLE:
		/* JSON has no infinities, and a bound of ±Inf says nothing anyway. */
		return isfinite(c->min.d) && isfinite(c->max.d);
	case PW_PQ_BOOLEAN:		/* Spark keeps no min/max for booleans */
	case PW_PQ_STRING_LIST:		/* nor for arrays */
		return false;
	default:
		return min_max_text(f, c, lo, hi);
	}
}

/* A column's min or max as a JSON value (has_bounds() was true). */
static void
out_bound(struct out *o, const struct pw_delta_field *f, const struct pw_pq_col_stats *c,
    bool max)
{
	char lo[40], hi[40];

	switch (f->type) {
	case PW_PQ_STRING:
		if (max)
			out_jstr_n(o, c->max_s.p, c->max_s.n);
		else
			out_jstr_n(o, c->min_s.p, c->min_s.n);
		break;
	case PW_PQ_DOUBLE:
		out_double(o, max ? c->max.d : c->min.d);
		break;
	default:
		(void)min_max_text(f, c, lo, hi);
		out_str(o, max ? hi : lo);
		break;
	}
}

/* The stats JSON; see pw_delta_stats_write() for what goes in. */
static void
out_stats(struct out *o, const struct pw_delta_field *fields, size_t n,
    const struct pw_pq_file_stats *st)
{
	bool first;
	size_t i;
	int pass;

	out_str(o, "{\"numRecords\":");
	out_u64(o, st->num_rows);
	for (pass = 0; pass < 2; pass++) {
		out_str(o, pass == 0 ? ",\"minValues\":{" : "},\"maxValues\":{");
		first = true;
		for (i = 0; i < n; i++) {
			if (!has_bounds(&fields[i], &st->columns[i]))
				continue;
			if (!first)
				out_str(o, ",");
			first = false;
			out_jstr(o, fields[i].name);
			out_str(o, ":");
			out_bound(o, &fields[i], &st->columns[i], pass == 1);
		}
	}
	out_str(o, "},\"nullCount\":{");
	first = true;
	for (i = 0; i < n; i++) {
		if (fields[i].type == PW_PQ_STRING_LIST)
			continue;	/* Spark counts no nulls for arrays either */
		if (!first)
			out_str(o, ",");
		first = false;
		out_jstr(o, fields[i].name);
		out_str(o, ":");
		out_u64(o, st->columns[i].null_count);
	}
	out_str(o, "}}");
}

/* Inputs that would make invalid JSON, refused before writing. */
static int
check_stats_input(const struct pw_delta_field *fields, size_t n,
    const struct pw_pq_file_stats *st, struct pw_error *err)
{
	assert(st->ncolumns == n);
	for (size_t i = 0; i < n; i++) {
		if (!valid_utf8(fields[i].name)) {
			pw_error_set(err, "the name of column %zu is not valid UTF-8", i + 1);
			return -1;
		}
		if (fields[i].type == PW_PQ_STRING && st->columns[i].has_min_max &&
		    (pw_utf8_check(st->columns[i].min_s.p, st->columns[i].min_s.n) !=
		    st->columns[i].min_s.n ||
		    pw_utf8_check(st->columns[i].max_s.p, st->columns[i].max_s.n) !=
		    st->columns[i].max_s.n)) {
			pw_error_set(err, "column \"%.*s\": the string statistics are not "
			    "valid UTF-8", shown(fields[i].name), fields[i].name);
			return -1;
		}
	}
	return 0;
}

int
pw_delta_stats_write(struct pw_buf *b, const struct pw_delta_field *fields, size_t n,
    const struct pw_pq_file_stats *stats, struct pw_error *err)
{
	struct out o;

	if (check_stats_input(fields, n, stats, err) == -1)
		return -1;
	out_init(&o, b);
	out_stats(&o, fields, n, stats);
	return out_end(&o, err);
}

/* RFC 3986 unreserved characters and the path separator. */
static bool
path_keep(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

/* A path, %-encoded (see pw_delta_path_encode()). */
static void
out_path(struct out *o, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)path;
	char esc[3] = { '%', 0, 0 };
	size_t run = 0, i;

	for (i = 0; p[i] != '\0'; i++) {
		if (path_keep(p[i]))
			continue;
		out_raw(o, path + run, i - run);
		esc[1] = hex[p[i] >> 4];
		esc[2] = hex[p[i] & 15];
		out_raw(o, esc, 3);
		run = i + 1;
	}
	out_raw(o, path + run, i - run);
}

char *
pw_delta_path_encode(const char *path)
{
	struct pw_buf b;
	struct out o;
	char *s;

	pw_buf_init(&b, SIZE_MAX);
	out_init(&o, &b);
	out_path(&o, path);
	out_raw(&o, "", 1);
	assert(!o.full);
	s = (char *)b.data;	/* the buffer's memory is ours to hand over */
	return s;
}

/* The value of a hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
pw_delta_path_decode(const char *path, struct pw_error *err)
{
	size_t n = strlen(path), i, j;
	char *out = pw_xmalloc(n + 1);
	int hi, lo;

	for (i = j = 0; i < n; i++) {
		if (path[i] != '%') {
			out[j++] = path[i];
			continue;
		}
		hi = lo = -1;
		if (i + 2 < n) {
			hi = hexval(path[i + 1]);
			lo = hexval(path[i + 2]);
		}
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			pw_error_set(err, "path \"%.*s\": bad %%-escape at byte %zu",
			    shown(path), path, i + 1);
			free(out);
			return NULL;
		}
		out[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[j] = '\0';
	return out;
}

int
pw_delta_append_add(struct pw_buf *b, const struct pw_delta_add *add, struct pw_error *err)
{
	struct pw_buf stats;
	struct out o;

	if (add->path == NULL || add->path[0] == '\0' || add->path[0] == '/') {
		pw_error_set(err, "a data file's path must be relative to the table");
		return -1;
	}
	if (!valid_utf8(add->path)) {
		pw_error_set(err, "data file path \"%.*s\" is not valid UTF-8",
		    (int)pw_utf8_check(add->path, strlen(add->path)), add->path);
		return -1;
	}
	if (add->size > (uint64_t)INT64_MAX) {
		pw_error_set(err, "data file size %" PRIu64 " is too big for Delta", add->size);
		return -1;
	}
	pw_buf_init(&stats, b->limit);
	if (add->stats != NULL &&
	    pw_delta_stats_write(&stats, add->fields, add->nfields, add->stats, err) == -1) {
		pw_buf_finish(&stats);
		return -1;
	}
	out_init(&o, b);
	out_str(&o, "{\"add\":{\"path\":\"");
	out_path(&o, add->path);
	out_str(&o, "\",\"partitionValues\":{},\"size\":");
	out_u64(&o, add->size);
	out_str(&o, ",\"modificationTime\":");
	out_i64(&o, add->modification_ms);
	out_str(&o, ",\"dataChange\":true");
	if (add->stats != NULL) {
		out_str(&o, ",\"stats\":");
		out_jstr_n(&o, (const char *)stats.data, stats.len);
	}
	out_str(&o, "}}\n");
	pw_buf_finish(&stats);
	return out_end(&o, err);
}

int
pw_delta_append_txn(struct pw_buf *b, const char *app_id, int64_t version,
    int64_t last_updated_ms, struct pw_error *err)
{
	struct out o;

	if (!valid_utf8(app_id)) {
		pw_error_set(err, "the txn appId is not valid UTF-8");
		return -1;
	}
	out_init(&o, b);
	out_str(&o, "{\"txn\":{\"appId\":");
	out_jstr(&o, app_id);
	out_str(&o, ",\"version\":");
	out_i64(&o, version);
	out_str(&o, ",\"lastUpdated\":");
	out_i64(&o, last_updated_ms);
	out_str(&o, "}}\n");
	return out_end(&o, err);
}

int
pw_delta_append_commit_info(struct pw_buf *b, const struct pw_delta_commit_info *ci,
    struct pw_error *err)
{
	struct out o;
	char *engine;
	size_t i;

	if (!valid_utf8(ci->version)) {
		pw_error_set(err, "the engine version is not valid UTF-8");
		return -1;
	}
	if (ci->txn_id != NULL && !valid_utf8(ci->txn_id)) {
		pw_error_set(err, "the commit's txnId is not valid UTF-8");
		return -1;
	}
	for (i = 0; i < ci->nsource_ids; i++) {
		if (!valid_utf8(ci->source_ids[i])) {
			pw_error_set(err, "source id %zu of the commit is not valid UTF-8", i + 1);
			return -1;
		}
	}
	out_init(&o, b);
	out_str(&o, "{\"commitInfo\":{\"timestamp\":");
	out_i64(&o, ci->timestamp_ms);
	out_str(&o, ",\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"Append\"},"
	    "\"isBlindAppend\":true,\"engineInfo\":");
	engine = pw_xmalloc(strlen("portada-worker/") + strlen(ci->version) + 1);
	strcpy(engine, "portada-worker/");
	strcat(engine, ci->version);
	out_jstr(&o, engine);
	free(engine);
	if (ci->txn_id != NULL) {
		out_str(&o, ",\"txnId\":");
		out_jstr(&o, ci->txn_id);
	}
	out_str(&o, ",\"portadaSourceIds\":[");
	for (i = 0; i < ci->nsource_ids; i++) {
		if (i > 0)
			out_str(&o, ",");
		out_jstr(&o, ci->source_ids[i]);
	}
	if (ci->source_records != NULL) {
		out_str(&o, "],\"portadaSourceRecords\":[");
		for (i = 0; i < ci->nsource_ids; i++) {
			if (i > 0)
				out_str(&o, ",");
			out_i64(&o, (int64_t)ci->source_records[i]);
		}
	}
	out_str(&o, "]}}\n");
	return out_end(&o, err);
}

/* ---- reading a commit ----------------------------------------------------- */

/* Free what a parsed protocol holds. */
static void
protocol_finish(struct pw_delta_protocol *p)
{
	free_strs(p->reader_features, p->nreader_features);
	free_strs(p->writer_features, p->nwriter_features);
}

/* Free what a parsed metaData holds. */
static void
metadata_finish(struct pw_delta_metadata *m)
{
	free(m->id);
	free(m->provider);
	pw_delta_fields_free(m->fields, m->nfields);
	free_strs(m->partition_columns, m->npartition_columns);
	for (size_t i = 0; i < m->nconfig; i++) {
		free(m->config[i].key);
		free(m->config[i].value);
	}
	free(m->config);
	free(m->json);
}

void
pw_delta_commit_finish(struct pw_delta_commit *c)
{
	protocol_finish(&c->protocol);
	metadata_finish(&c->metadata);
	free_strs(c->add_paths, c->nadd);
	free(c->add_sizes);
	free(c->add_records);
	free_strs(c->remove_paths, c->nremove);
	for (size_t i = 0; i < c->ntxns; i++)
		free(c->txns[i].app_id);
	free(c->txns);
	free_strs(c->source_ids, c->nsource_ids);
	free(c->source_records);
	free(c->txn_id);
	free(c->operation);
	free(c->first_unknown);
	memset(c, 0, sizeof *c);
}

/*
 * An optional array of strings (absent or null means none) into *arr;
 * what names the field in errors.
 */
static int
get_strings(const json_t *v, char ***arr, size_t *n, const char *what, struct pw_error *err)
{
	size_t i;
	json_t *s;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		pw_error_set(err, "%s is not an array", what);
		return -1;
	}
	json_array_foreach(v, i, s) {
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
			pw_error_set(err, "%s[%zu] is not a string", what, i);
			return -1;
		}
		push_str(arr, n, json_string_value(s));
	}
	return 0;
}

/* A required integer field of an action that fits an int. */
static int
get_int(const json_t *obj, const char *key, const char *action, int *out,
    struct pw_error *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
	    json_integer_value(v) > INT_MAX) {
		pw_error_set(err, "%s.%s is missing or not an integer", action, key);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* A required string field without NUL characters. */
static const char *
get_str(const json_t *obj, const char *key, const char *action, struct pw_error *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		pw_error_set(err, "%s.%s is missing or not a string", action, key);
		return NULL;
	}
	return json_string_value(v);
}

/* The protocol action: versions and feature lists. */
static int
parse_protocol(const json_t *v, struct pw_delta_commit *c, struct pw_error *err)
{
	struct pw_delta_protocol *p = &c->protocol;

	if (c->has_protocol) {
		pw_error_set(err, "a second protocol action in one commit");
		return -1;
	}
	c->has_protocol = true;
	if (get_int(v, "minReaderVersion", "protocol", &p->min_reader_version, err) == -1 ||
	    get_int(v, "minWriterVersion", "protocol", &p->min_writer_version, err) == -1 ||
	    get_strings(json_object_get(v, "readerFeatures"), &p->reader_features,
	    &p->nreader_features, "protocol.readerFeatures", err) == -1 ||
	    get_strings(json_object_get(v, "writerFeatures"), &p->writer_features,
	    &p->nwriter_features, "protocol.writerFeatures", err) == -1)
		return -1;
	return 0;
}

/* The metaData action: id, format, schema, partitions, configuration. */
static int
parse_metadata(json_t *v, struct pw_delta_commit *c, struct pw_error *err)
{
	struct pw_delta_metadata *m = &c->metadata;
	const char *id, *provider, *schema, *key;
	const json_t *conf, *val;

	if (c->has_metadata) {
		pw_error_set(err, "a second metaData action in one commit");
		return -1;
	}
	c->has_metadata = true;
	if ((id = get_str(v, "id", "metaData", err)) == NULL)
		return -1;
	m->id = pw_xstrdup(id);
	if ((provider = get_str(json_object_get(v, "format"), "provider", "metaData.format",
	    err)) == NULL)
		return -1;
	m->provider = pw_xstrdup(provider);
	if ((schema = get_str(v, "schemaString", "metaData", err)) == NULL)
		return -1;
	if (pw_delta_schema_parse(schema, strlen(schema), &m->fields, &m->nfields, err) == -1) {
		pw_error_prefix(err, "metaData.schemaString");
		return -1;
	}
	if (get_strings(json_object_get(v, "partitionColumns"), &m->partition_columns,
	    &m->npartition_columns, "metaData.partitionColumns", err) == -1)
		return -1;
	conf = json_object_get(v, "configuration");
	if (conf != NULL && !json_is_null(conf) && !json_is_object(conf)) {
		pw_error_set(err, "metaData.configuration is not an object");
		return -1;
	}
	if (json_object_size(conf) > 0)
		m->config = pw_xcalloc(json_object_size(conf), sizeof *m->config);
	json_object_foreach((json_t *)conf, key, val) {
		struct pw_delta_config *e = &m->config[m->nconfig];

		/* delta-rs writes configuration values as Option<String>. */
		if (!json_is_null(val) && (!json_is_string(val) ||
		    strlen(json_string_value(val)) != json_string_length(val))) {
			pw_error_set(err, "metaData.configuration \"%.*s\" is not a string",
			    shown(key), key);
			return -1;
		}
		e->key = pw_xstrdup(key);
		e->value = json_is_null(val) ? NULL : pw_xstrdup(json_string_value(val));
		m->nconfig++;
	}
	m->json = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (m->json == NULL)
		abort();	/* jansson fails only when out of memory */
	return 0;
}

/* A txn action; at most one per appId in a commit. */
static int
parse_txn(const json_t *v, struct pw_delta_commit *c, struct pw_error *err)
{
	const json_t *version = json_object_get(v, "version");
	const char *app;
	size_t i;

	if ((app = get_str(v, "appId", "txn", err)) == NULL)
		return -1;
	if (!json_is_integer(version)) {
		pw_error_set(err, "txn.version is missing or not an integer");
		return -1;
	}
	for (i = 0; i < c->ntxns; i++) {
		if (strcmp(c->txns[i].app_id, app) == 0) {
			pw_error_set(err, "a second txn for appId \"%.*s\" in one commit",
			    shown(app), app);
			return -1;
		}
	}
	if ((c->ntxns & (c->ntxns - 1)) == 0)
		c->txns = pw_xrealloc(c->txns, (c->ntxns == 0 ? 1 : c->ntxns * 2) *
		    sizeof *c->txns);
	c->txns[c->ntxns].app_id = pw_xstrdup(app);
	c->txns[c->ntxns].version = (int64_t)json_integer_value(version);
	c->ntxns++;
	return 0;
}

/* commitInfo: our source ids and the txnId. */
static int
parse_commit_info(const json_t *v, struct pw_delta_commit *c, struct pw_error *err)
{
	const json_t *txn = json_object_get(v, "txnId");

	/* Nothing forbids two; the first one is the one this writer reads. */
	if (c->has_commit_info)
		return 0;
	c->has_commit_info = true;
	if (get_strings(json_object_get(v, "portadaSourceIds"), &c->source_ids,
	    &c->nsource_ids, "commitInfo.portadaSourceIds", err) == -1)
		return -1;
	if (c->nsource_ids > 0) {
		const json_t *recs = json_object_get(v, "portadaSourceRecords");

		/* Only informative (the records a recovered upload reports): a
		 * missing or odd array costs nothing but the counts. */
		c->source_records = pw_xcalloc(c->nsource_ids, sizeof *c->source_records);
		for (size_t i = 0; i < c->nsource_ids; i++) {
			const json_t *r = json_array_get(recs, i);

			c->source_records[i] = json_is_integer(r) && json_integer_value(r) >= 0 &&
			    json_array_size(recs) == c->nsource_ids ? (int64_t)json_integer_value(r) : -1;
		}
	}
	if (json_is_string(txn) && strlen(json_string_value(txn)) == json_string_length(txn))
		c->txn_id = pw_xstrdup(json_string_value(txn));
	if (json_is_integer(json_object_get(v, "timestamp")))
		c->timestamp_ms = (int64_t)json_integer_value(json_object_get(v, "timestamp"));
	if (json_is_string(json_object_get(v, "operation")))
		c->operation = pw_xstrdup(json_string_value(json_object_get(v, "operation")));
	return 0;
}

/* An add's size and numRecords (inspect's figures), before its path is
 * pushed: the arrays grow as push_str() grows add_paths. */
static void
add_sizes(const json_t *v, struct pw_delta_commit *c)
{
	const json_t *size = json_object_get(v, "size"), *stats = json_object_get(v, "stats");
	json_t *st = NULL;
	int64_t records = -1;

	if ((c->nadd & (c->nadd - 1)) == 0) {
		size_t cap = c->nadd == 0 ? 1 : c->nadd * 2;

		c->add_sizes = pw_xrealloc(c->add_sizes, cap * sizeof *c->add_sizes);
		c->add_records = pw_xrealloc(c->add_records, cap * sizeof *c->add_records);
	}
	/* Min/max values may hold U+0000 (the uploads' text does). */
	if (json_is_string(stats) &&
	    (st = json_loadb(json_string_value(stats), json_string_length(stats), JSON_ALLOW_NUL,
	    NULL)) != NULL &&
	    json_is_integer(json_object_get(st, "numRecords")))
		records = (int64_t)json_integer_value(json_object_get(st, "numRecords"));
	json_decref(st);
	c->add_sizes[c->nadd] = json_is_integer(size) && json_integer_value(size) >= 0 ?
	    (uint64_t)json_integer_value(size) : 0;
	c->add_records[c->nadd] = records;
}

/* One action line, already loaded. */
static int
parse_action(json_t *line, struct pw_delta_commit *c, struct pw_error *err)
{
	const char *name, *path;
	json_t *v;

	if (!json_is_object(line) || json_object_size(line) != 1) {
		pw_error_set(err, "a line must hold one object with one action");
		return -1;
	}
	name = json_object_iter_key(json_object_iter(line));
	v = json_object_iter_value(json_object_iter(line));
	if (strcmp(name, "protocol") != 0 && strcmp(name, "metaData") != 0 &&
	    strcmp(name, "add") != 0 && strcmp(name, "remove") != 0 &&
	    strcmp(name, "txn") != 0 && strcmp(name, "commitInfo") != 0 &&
	    strcmp(name, "cdc") != 0 && strcmp(name, "domainMetadata") != 0) {
		if (c->nunknown++ == 0)
			c->first_unknown = pw_xstrdup(name);
		return 0;
	}
	if (!json_is_object(v)) {
		pw_error_set(err, "the %.*s action is not an object", shown(name), name);
		return -1;
	}
	if (strcmp(name, "protocol") == 0)
		return parse_protocol(v, c, err);
	if (strcmp(name, "metaData") == 0)
		return parse_metadata(v, c, err);
	if (strcmp(name, "txn") == 0)
		return parse_txn(v, c, err);
	if (strcmp(name, "commitInfo") == 0)
		return parse_commit_info(v, c, err);
	if (strcmp(name, "cdc") == 0) {
		c->ncdc++;
		return 0;
	}
	if (strcmp(name, "domainMetadata") == 0) {
		c->ndomain_metadata++;
		return 0;
	}
	if ((path = get_str(v, "path", name, err)) == NULL)
		return -1;
	if (name[0] == 'a') {
		add_sizes(v, c);
		push_str(&c->add_paths, &c->nadd, path);
	} else
		push_str(&c->remove_paths, &c->nremove, path);
	return 0;
}

int
pw_delta_commit_parse(const char *text, size_t len, struct pw_delta_commit *out,
    struct pw_error *err)
{
	const char *p = text, *end = text + len, *nl;
	size_t lineno = 0, n, i;
	json_error_t je;
	json_t *line;
	int rc;

	memset(out, 0, sizeof *out);
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i < n) {
			line = json_loadb(p, n, 0, &je);
			if (line == NULL) {
				pw_error_set(err, "invalid JSON at line %zu, column %d: %s",
				    lineno, je.column, je.text);
				goto fail;
			}
			rc = parse_action(line, out, err);
			json_decref(line);
			if (rc == -1) {
				pw_error_prefix(err, "line %zu", lineno);
				goto fail;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
fail:
	pw_delta_commit_finish(out);
	return -1;
}

/* ---- may we write? -------------------------------------------------------- */

/*
 * Table features and why this writer can or cannot honour them (see
 * "Table Features" and each feature's writer requirements in PROTOCOL.md).
 * ok: honoured as long as pw_delta_check_writable()'s metadata checks pass.
 */
static const struct feature {
	const char	*name;
	bool		 ok;
	const char	*what;
} features[] = {
	{ "appendOnly", true, "append-only tables" },		/* we only append */
	{ "invariants", true, "column invariants" },		/* none may be present */
	{ "checkConstraints", true, "CHECK constraints" },	/* none may be present */
	{ "generatedColumns", true, "generated columns" },	/* none may be present */
	{ "allowColumnDefaults", true, "column defaults" },	/* none may be present */
	{ "changeDataFeed", true, "change data feed" },		/* appends need no cdc files */
	{ "columnMapping", true, "column mapping" },		/* mode none only */
	{ "identityColumns", true, "identity columns" },	/* none may be present */
	{ "domainMetadata", true, "domain metadata" },		/* we write and drop none */
	{ "vacuumProtocolCheck", true, "the VACUUM protocol check" }, /* we never vacuum */
	{ "inCommitTimestamp", true, "in-commit timestamps" },	/* only while not enabled */
	{ "deletionVectors", false, "deletion vectors" },
	{ "rowTracking", false, "row tracking (every add needs a baseRowId)" },
	{ "timestampNtz", false, "timestamps without time zone" },
	{ "v2Checkpoint", false, "v2 checkpoints" },
	{ "catalogManaged", false, "catalog-managed commits" },
	{ "icebergCompatV1", false, "Iceberg compatibility v1" },
	{ "icebergCompatV2", false, "Iceberg compatibility v2" },
	{ "clustering", false, "clustered tables" },
	{ "typeWidening", false, "type widening" },
	{ "typeWidening-preview", false, "type widening" },
	{ "variantType", false, "the variant type" },
	{ "variantType-preview", false, "the variant type" },
	{ "variantShredding", false, "variant shredding" },
	{ "variantShredding-preview", false, "variant shredding" },
};

/* Reader features worth having: all others stop a writer too (it must read first). */
static bool
reader_feature_ok(const char *name)
{
	return strcmp(name, "columnMapping") == 0 || strcmp(name, "vacuumProtocolCheck") == 0;
}

/* Refuse a table feature this writer cannot honour, naming it. */
static int
check_feature(const char *name, bool reader, struct pw_error *err)
{
	const char *kind = reader ? "reader" : "writer";
	size_t i;

	for (i = 0; i < sizeof features / sizeof features[0]; i++)
		if (strcmp(features[i].name, name) == 0)
			break;
	if (i == sizeof features / sizeof features[0]) {
		pw_error_set(err, "the table needs the unknown %s feature \"%.*s\"", kind,
		    shown(name), name);
		return -1;
	}
	if (reader ? !reader_feature_ok(name) : !features[i].ok) {
		pw_error_set(err, "the table needs the %s feature \"%s\" (%s), which "
		    "portada-worker cannot honour", kind, name, features[i].what);
		return -1;
	}
	return 0;
}

/* A configuration value ("" for a JSON null), or NULL if the key is absent. */
static const char *
config_get(const struct pw_delta_metadata *m, const char *key)
{
	for (size_t i = 0; i < m->nconfig; i++)
		if (strcmp(m->config[i].key, key) == 0)
			return m->config[i].value != NULL ? m->config[i].value : "";
	return NULL;
}

/* Column metadata keys whose columns this writer cannot fill correctly. */
static int
check_field_metadata(const struct pw_delta_field *f, struct pw_error *err)
{
	const char *key, *why = NULL;
	json_t *meta, *v;

	if (f->metadata == NULL)
		return 0;
	meta = json_loads(f->metadata, 0, NULL);
	json_object_foreach(meta, key, v) {
		if (strcmp(key, "delta.invariants") == 0)
			why = "has a column invariant (delta.invariants), which portada-worker "
			    "cannot evaluate";
		else if (strcmp(key, "delta.generationExpression") == 0)
			why = "is a generated column (delta.generationExpression), which "
			    "portada-worker cannot compute";
		else if (strncmp(key, "delta.identity.", 15) == 0)
			why = "is an identity column (delta.identity.*), which portada-worker "
			    "cannot number";
		else if (strcmp(key, "CURRENT_DEFAULT") == 0)
			why = "has a default value (CURRENT_DEFAULT), which portada-worker "
			    "cannot compute";
		if (why != NULL)
			break;
	}
	json_decref(meta);
	if (why == NULL)
		return 0;
	pw_error_set(err, "column \"%.*s\" %s", shown(f->name), f->name, why);
	return -1;
}

int
pw_delta_check_writable(const struct pw_delta_protocol *p,
    const struct pw_delta_metadata *m, struct pw_error *err)
{
	const char *v;
	size_t i;

	if (p->min_reader_version < 1 || p->min_writer_version < 1) {
		pw_error_set(err, "the table's protocol (%d, %d) is not valid",
		    p->min_reader_version, p->min_writer_version);
		return -1;
	}
	if (p->min_reader_version > 3) {
		pw_error_set(err, "the table needs Delta reader version %d; portada-worker "
		    "knows reader versions 1 to 3", p->min_reader_version);
		return -1;
	}
	if (p->min_writer_version > 7) {
		pw_error_set(err, "the table needs Delta writer version %d; portada-worker "
		    "knows writer versions 1 to 7", p->min_writer_version);
		return -1;
	}
	if (p->min_reader_version == 3 && p->min_writer_version != 7) {
		pw_error_set(err, "the table's protocol (3, %d) is not valid: reader "
		    "version 3 needs writer version 7", p->min_writer_version);
		return -1;
	}
	if (p->min_reader_version == 3)
		for (i = 0; i < p->nreader_features; i++)
			if (check_feature(p->reader_features[i], true, err) == -1)
				return -1;
	/* Versions 1 to 6 imply only features in the honoured part of the table. */
	if (p->min_writer_version == 7)
		for (i = 0; i < p->nwriter_features; i++)
			if (check_feature(p->writer_features[i], false, err) == -1)
				return -1;

	if (strcmp(m->provider, "parquet") != 0) {
		pw_error_set(err, "the table stores its data as \"%.*s\", not parquet",
		    shown(m->provider), m->provider);
		return -1;
	}
	if (m->npartition_columns > 0) {
		pw_error_set(err, "the table is partitioned by \"%.*s\"; portada-worker "
		    "writes unpartitioned tables only", shown(m->partition_columns[0]),
		    m->partition_columns[0]);
		return -1;
	}
	if ((v = config_get(m, "delta.columnMapping.mode")) != NULL && strcmp(v, "none") != 0) {
		pw_error_set(err, "the table uses column mapping mode \"%.*s\" "
		    "(delta.columnMapping.mode); portada-worker writes columns by name only",
		    shown(v), v);
		return -1;
	}
	if ((v = config_get(m, "delta.enableInCommitTimestamps")) != NULL &&
	    same_name_nocase(v, "true")) {
		pw_error_set(err, "the table has in-commit timestamps enabled "
		    "(delta.enableInCommitTimestamps), which portada-worker cannot write");
		return -1;
	}
	for (i = 0; i < m->nconfig; i++) {
		if (strncmp(m->config[i].key, "delta.constraints.", 18) == 0) {
			pw_error_set(err, "the table has the CHECK constraint \"%.*s\" (%.*s), "
			    "which portada-worker cannot evaluate",
			    shown(m->config[i].key + 18), m->config[i].key + 18,
			    shown(m->config[i].key), m->config[i].key);
			return -1;
		}
	}
	for (i = 0; i < m->nfields; i++)
		if (check_field_metadata(&m->fields[i], err) == -1)
			return -1;
	return 0;
}

/* ---- file names ----------------------------------------------------------- */

void
pw_delta_version_name(uint64_t v, char out[PW_DELTA_VERSION_NAME_SIZE])
{
	assert(v <= PW_DELTA_VERSION_MAX);
	snprintf(out, PW_DELTA_VERSION_NAME_SIZE, "%020" PRIu64 ".json", v);
}

/* Exactly n digits at s into *v; false if any is not a digit. */
static bool
digits(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* Whether s starts with a UUID in its 8-4-4-4-12 hex form. */
static bool
is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (hexval(s[i]) < 0) {
			return false;
		}
	}
	return true;
}

enum pw_delta_log_kind
pw_delta_log_name_parse(const char *name, struct pw_delta_log_name *out)
{
	uint64_t v, part, parts;
	const char *rest;

	memset(out, 0, sizeof *out);
	if (strcmp(name, "_last_checkpoint") == 0)
		return out->kind = PW_DELTA_LOG_LAST_CHECKPOINT;
	/* INT64_MAX has 19 digits, so a version's first digit is always 0. */
	if (strnlen(name, 21) < 21 || name[0] != '0' || !digits(name, 20, &v) ||
	    v > PW_DELTA_VERSION_MAX)
		return PW_DELTA_LOG_OTHER;
	rest = name + 20;
	if (strcmp(rest, ".json") == 0) {
		out->kind = PW_DELTA_LOG_COMMIT;
	} else if (strcmp(rest, ".checkpoint.parquet") == 0) {
		out->kind = PW_DELTA_LOG_CHECKPOINT;
	} else if (strncmp(rest, ".checkpoint.", 12) != 0) {
		return PW_DELTA_LOG_OTHER;
	} else if (strlen(rest + 12) == 10 + 1 + 10 + 8 && digits(rest + 12, 10, &part) &&
	    rest[22] == '.' && digits(rest + 23, 10, &parts) &&
	    strcmp(rest + 33, ".parquet") == 0) {
		if (part < 1 || part > parts || parts > UINT32_MAX)
			return PW_DELTA_LOG_OTHER;
		out->kind = PW_DELTA_LOG_CHECKPOINT_PART;
		out->part = (uint32_t)part;
		out->parts = (uint32_t)parts;
	} else if (strnlen(rest + 12, 37) >= 37 && is_uuid(rest + 12) &&
	    (strcmp(rest + 48, ".json") == 0 || strcmp(rest + 48, ".parquet") == 0)) {
		out->kind = PW_DELTA_LOG_CHECKPOINT_V2;
	} else {
		return PW_DELTA_LOG_OTHER;
	}
	out->version = v;
	return out->kind;
}
