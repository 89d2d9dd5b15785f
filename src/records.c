/*
 * records: the meaning of a scanned record.  The scanner has already
 * validated the JSON grammar and UTF-8; jtree builds the value and catches
 * what a lexical scan cannot (numbers out of range, \u0000 in keys, lone
 * surrogates, a key twice in one object).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/records.h"
#include "portada/utf8.h"

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
	else if (pw_utf8_check(file_type, strlen(file_type)) != strlen(file_type))
		/* Not shown: messages must be UTF-8 (the dashboard decodes them). */
		pw_error_set(err, "unsupported file_type: not valid UTF-8 (expected "
		    "\"entry\" or \"entity_<type>\")");
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

/* The parser's position inside the record, moved to the position in the file. */
static void
file_position(unsigned long start_line, unsigned long start_column,
    unsigned long rline, unsigned long rcolumn, unsigned long *line, unsigned long *column)
{
	*line = start_line + (rline > 0 ? rline - 1 : 0);
	*column = rline <= 1 ? start_column + (rcolumn > 0 ? rcolumn - 1 : 0) : rcolumn;
}

static const struct pw_jval *
load(struct pw_jtree *tree, const char *data, size_t len, unsigned long start_line,
    unsigned long start_column, const char *what, struct pw_error *err)
{
	unsigned long rline, rcolumn, line, column;
	struct pw_jtree_error je;
	const struct pw_jval *v;

	v = pw_jtree_parse(tree, data, len, &je);
	if (v == NULL) {
		pw_jtree_position(data, je.pos, &rline, &rcolumn);
		file_position(start_line, start_column, rline, rcolumn, &line, &column);
		pw_error_set(err, "invalid JSON at line %lu, column %lu: %s (in %s)",
		    line, column, je.text, what);
	}
	return v;
}

int
pw_record_parse(enum pw_file_kind kind, const struct pw_scan_record *rec,
    struct pw_jtree *tree, struct pw_record *out, struct pw_error *err)
{
	char what[64];
	const struct pw_jval *key, *v, *x;
	uint32_t i;

	memset(out, 0, sizeof *out);
	if (kind == PW_FILE_ENTRY) {
		snprintf(what, sizeof what, "record %zu", rec->index + 1);
		if ((v = load(tree, rec->data, rec->len, rec->value_line, rec->value_column, what,
		    err)) == NULL)
			return -1;
		if (v->type != PW_JOBJECT) {
			pw_error_set(err, "record %zu at line %lu, column %lu is %s, "
			    "expected an object", rec->index + 1, rec->line, rec->column,
			    pw_jval_kind_name(v));
			return -1;
		}
		out->value = v;
		return 0;
	}

	snprintf(what, sizeof what, "the name of entity %zu", rec->index + 1);
	if ((key = load(tree, rec->key, rec->key_len, rec->line, rec->column, what, err)) == NULL)
		return -1;
	/* the key token is always a string (the scanner read it as a key) */
	if (key->type != PW_JSTRING || key->u.s.n == 0 ||
	    memchr(key->u.s.p, '\0', key->u.s.n) != NULL) {
		pw_error_set(err, "entity %zu at line %lu, column %lu has an empty name "
		    "or one with a NUL character", rec->index + 1, rec->line, rec->column);
		return -1;
	}
	/* copied: the value's parse reuses the tree */
	out->name = pw_xstrndup(key->u.s.p, key->u.s.n);
	snprintf(what, sizeof what, "entity \"%.*s\"", utf8_prefix(out->name, 40), out->name);
	if ((v = load(tree, rec->data, rec->len, rec->value_line, rec->value_column, what,
	    err)) == NULL)
		goto fail;
	if (v->type != PW_JARRAY) {
		pw_error_set(err, "entity \"%.*s\" at line %lu, column %lu: voices must "
		    "be an array of strings, found %s", utf8_prefix(out->name, 100),
		    out->name, rec->line, rec->column, pw_jval_kind_name(v));
		goto fail;
	}
	for (i = 0, x = pw_jval_first(v); i < v->u.c.n; i++, x = pw_jval_next(x)) {
		if (x->type != PW_JSTRING) {
			pw_error_set(err, "entity \"%.*s\" at line %lu, column %lu: voices "
			    "must be an array of strings, found %s at element %u",
			    utf8_prefix(out->name, 100), out->name, rec->line, rec->column,
			    pw_jval_kind_name(x), i + 1);
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
	memset(rec, 0, sizeof *rec);
}
