/*
 * yamlentities: a YAML entity file read through libyaml's event API (see
 * include/portada/yamlentities.h for the rules).
 *
 * The encoding is checked in one pass before libyaml sees the input, so an
 * invalid byte is reported at its exact position and before any entity is
 * handed out (libyaml's reader decodes ahead and would report it wherever
 * its buffer refill happened to be).  Then a small recursive descent pulls
 * events: stream -> one document -> a mapping of name -> sequence of
 * scalars, or the same behind a first `names` key.  Every node event passes
 * one gate (next_event) that refuses aliases and foreign tags, so those
 * rules hold wherever the node sits.
 *
 * The current entity lives in one text buffer: the name and each voice,
 * NUL-terminated, back to back.  The buffer and the voice array are reused
 * for every entity, so memory follows the largest entity, not the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "portada/utf8.h"
#include "portada/yamlentities.h"

#define YAML_TAG_PREFIX	"tag:yaml.org,2002:"
#define NAME_SHOWN	100	/* bytes of a name shown in a message */

enum encoding {
	ENC_UTF8,
	ENC_UTF16LE,
	ENC_UTF16BE,
};

struct yent {
	yaml_parser_t parser;
	yaml_event_t ev;		/* the event being looked at */
	int have_ev;			/* ev must be deleted */
	const unsigned char *buf;
	size_t len;
	enum encoding enc;
	size_t bom;			/* bytes of BOM at the start */
	pw_yaml_entity_fn fn;
	void *ctx;
	struct pw_error *err;
	size_t nentities;		/* handed out so far */

	/* The current entity: name and voices, NUL-terminated, back to back. */
	char *text;
	size_t text_len, text_cap;
	size_t name_len;
	size_t line, column;		/* of its key, 1-based */
	struct pw_yaml_str *voices;	/* only len is kept until emit() */
	size_t nvoices, voices_cap;
};

/* --- Positions and the encoding pass ------------------------------------ */

/* The encoding libyaml will pick: its BOM rule, UTF-8 by default. */
static void
detect_encoding(struct yent *y)
{
	const unsigned char *b = y->buf;

	y->enc = ENC_UTF8;
	y->bom = 0;
	if (y->len >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
		y->enc = ENC_UTF16LE;
		y->bom = 2;
	} else if (y->len >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
		y->enc = ENC_UTF16BE;
		y->bom = 2;
	} else if (y->len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		y->bom = 3;
}

/* The UTF-16 code unit at p (two bytes there). */
static unsigned
unit16(const struct yent *y, const unsigned char *p)
{
	return y->enc == ENC_UTF16LE ? p[0] | (unsigned)p[1] << 8 :
	    (unsigned)p[0] << 8 | p[1];
}

/*
 * Decode the character at offset i (known valid) into *cp; returns its
 * width in bytes.
 */
static size_t
decode(const struct yent *y, size_t i, unsigned long *cp)
{
	const unsigned char *p = y->buf + i;
	unsigned u;

	if (y->enc != ENC_UTF8) {
		u = unit16(y, p);
		if ((u & 0xFC00) == 0xD800 && i + 4 <= y->len) {
			*cp = 0x10000 + ((unsigned long)(u & 0x3FF) << 10) +
			    (unit16(y, p + 2) & 0x3FF);
			return 4;
		}
		*cp = u;
		return 2;
	}
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xE0) {
		*cp = (unsigned long)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
		return 2;
	}
	if (p[0] < 0xF0) {
		*cp = (unsigned long)(p[0] & 0x0F) << 12 |
		    (unsigned long)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		return 3;
	}
	*cp = (unsigned long)(p[0] & 0x07) << 18 | (unsigned long)(p[1] & 0x3F) << 12 |
	    (unsigned long)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
	return 4;
}

/*
 * The 1-based line and column of byte offset off, counted as libyaml counts
 * its marks (characters after the BOM; CRLF is one break).  Everything
 * before off must be valid in the encoding.
 */
static void
position_of(const struct yent *y, size_t off, size_t *line, size_t *column)
{
	unsigned long cp;
	size_t i = y->bom;
	int after_cr = 0;

	*line = 1;
	*column = 1;
	while (i < off && i < y->len) {
		i += decode(y, i, &cp);
		if (cp == '\n' && after_cr) {
			after_cr = 0;
			continue;
		}
		after_cr = cp == '\r';
		if (cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 ||
		    cp == 0x2029) {
			(*line)++;
			*column = 1;
		} else
			(*column)++;
	}
}

/* A character YAML 1.1 lets into a stream (libyaml's reader rule). */
static int
allowed_char(unsigned long cp)
{
	return cp == 0x09 || cp == 0x0A || cp == 0x0D ||
	    (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
	    (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
	    (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Refuse the character at off that YAML does not allow. */
static int
control_fail(struct yent *y, size_t off, unsigned long cp)
{
	size_t line, column;

	position_of(y, off, &line, &column);
	pw_error_set(y->err, "invalid YAML at line %zu, column %zu: control "
	    "character U+%04lX is not allowed%s", line, column, cp,
	    cp == 0 && y->enc == ENC_UTF8 && y->bom == 0 ?
	    " (UTF-16 without a byte order mark?)" : "");
	return -1;
}

/* UTF-8 input: strict UTF-8, then no character libyaml would refuse. */
static int
check_utf8(struct yent *y)
{
	const unsigned char *b = y->buf;
	size_t n, i, line, column;
	unsigned long cp;

	n = y->bom + pw_utf8_check((const char *)b + y->bom, y->len - y->bom);
	if (n < y->len) {
		position_of(y, n, &line, &column);
		pw_error_set(y->err, "invalid UTF-8 at line %zu, column %zu (byte "
		    "0x%02X)", line, column, b[n]);
		return -1;
	}
	for (i = y->bom; i < y->len; i++) {
		/* Only C0, DEL, C1 (C2 80..9F) and U+FFFE/F (EF BF BE/BF) are out. */
		if (b[i] >= 0x20 && b[i] < 0x7F)
			continue;
		if (b[i] <= 0x7F || b[i] == 0xC2 || b[i] == 0xEF) {
			(void)decode(y, i, &cp);
			if (!allowed_char(cp))
				return control_fail(y, i, cp);
		}
	}
	return 0;
}

/* UTF-16 input: whole code units, paired surrogates, allowed characters. */
static int
check_utf16(struct yent *y)
{
	size_t i = y->bom, line, column;
	unsigned long cp;
	unsigned u;

	while (i < y->len) {
		if (y->len - i < 2) {
			position_of(y, i, &line, &column);
			pw_error_set(y->err, "invalid UTF-16 at line %zu, column "
			    "%zu: the file ends in the middle of a character",
			    line, column);
			return -1;
		}
		u = unit16(y, y->buf + i);
		if ((u & 0xFC00) == 0xDC00 || ((u & 0xFC00) == 0xD800 &&
		    (y->len - i < 4 || (unit16(y, y->buf + i + 2) & 0xFC00) != 0xDC00))) {
			position_of(y, i, &line, &column);
			pw_error_set(y->err, "invalid UTF-16 at line %zu, column "
			    "%zu: unpaired surrogate 0x%04X", line, column, u);
			return -1;
		}
		i += decode(y, i, &cp);
		if (!allowed_char(cp))
			return control_fail(y, i - (cp >= 0x10000 ? 4 : 2), cp);
	}
	return 0;
}

/* --- Events --------------------------------------------------------------- */

/* How a tag is shown: "!!str" for the YAML core tags, else as written. */
static void
tag_text(const char *tag, char *out, size_t size)
{
	size_t n = strlen(tag), plen = strlen(YAML_TAG_PREFIX);
	const char *pre = "";

	if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0) {
		pre = "!!";
		tag += plen;
		n -= plen;
	}
	n = pw_utf8_cut(tag, pw_utf8_check(tag, n), 60);
	snprintf(out, size, "%s%.*s%s", pre, (int)n, tag, tag[n] != '\0' ? "..." : "");
}

/* Does the tag fit this kind of node ("!" fits all; NULL is no tag)? */
static int
tag_fits(const char *tag, yaml_event_type_t type)
{
	static const char *const scalar_tags[] = {
		YAML_STR_TAG, YAML_INT_TAG, YAML_FLOAT_TAG, YAML_BOOL_TAG,
		YAML_NULL_TAG, YAML_TIMESTAMP_TAG,
	};
	size_t i;

	if (tag == NULL || strcmp(tag, "!") == 0)
		return 1;
	if (type == YAML_SEQUENCE_START_EVENT)
		return strcmp(tag, YAML_SEQ_TAG) == 0;
	if (type == YAML_MAPPING_START_EVENT)
		return strcmp(tag, YAML_MAP_TAG) == 0;
	for (i = 0; i < sizeof scalar_tags / sizeof scalar_tags[0]; i++)
		if (strcmp(tag, scalar_tags[i]) == 0)
			return 1;
	return 0;
}

/* Is the tag one of those some node kind accepts? */
static int
tag_known(const char *tag)
{
	return tag_fits(tag, YAML_SCALAR_EVENT) ||
	    tag_fits(tag, YAML_SEQUENCE_START_EVENT) ||
	    tag_fits(tag, YAML_MAPPING_START_EVENT);
}

/* A node event's kind, for messages. */
static const char *
node_kind(yaml_event_type_t type)
{
	switch (type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "a scalar";
	}
}

/* libyaml failed: its own words, at its position. */
static int
libyaml_fail(struct yent *y)
{
	const yaml_parser_t *p = &y->parser;
	size_t line, column;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		/* As pw_xmalloc(): nobody handles out of memory. */
		fprintf(stderr, "portada-worker: out of memory in libyaml\n");
		abort();
	case YAML_READER_ERROR:
		/* check_utf8/check_utf16 leave nothing for the reader to refuse. */
		position_of(y, p->problem_offset, &line, &column);
		pw_error_set(y->err, "invalid YAML at line %zu, column %zu: %s", line,
		    column, p->problem != NULL ? p->problem : "unreadable input");
		return -1;
	default:
		break;
	}
	if (p->context != NULL)
		pw_error_set(y->err, "invalid YAML at line %zu, column %zu: %s (%s at "
		    "line %zu, column %zu)", p->problem_mark.line + 1,
		    p->problem_mark.column + 1, p->problem != NULL ? p->problem :
		    "syntax error", p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	else
		pw_error_set(y->err, "invalid YAML at line %zu, column %zu: %s",
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    p->problem != NULL ? p->problem : "syntax error");
	return -1;
}

/*
 * Replace y->ev with the next event.  Refuses aliases and tags that do not
 * fit their node here, wherever the node is.
 */
static int
next_event(struct yent *y)
{
	const char *tag = NULL;
	char shown[80];

	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = 0;
	}
	if (!yaml_parser_parse(&y->parser, &y->ev))
		return libyaml_fail(y);
	y->have_ev = 1;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		pw_error_set(y->err, "alias *%.40s at line %zu, column %zu: aliases "
		    "are not allowed in entity files",
		    (const char *)y->ev.data.alias.anchor,
		    y->ev.start_mark.line + 1, y->ev.start_mark.column + 1);
		return -1;
	case YAML_SCALAR_EVENT:
		tag = (const char *)y->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		tag = (const char *)y->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		tag = (const char *)y->ev.data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (tag_fits(tag, y->ev.type))
		return 0;
	tag_text(tag, shown, sizeof shown);
	if (tag_known(tag))
		pw_error_set(y->err, "tag %s on %s at line %zu, column %zu", shown,
		    node_kind(y->ev.type), y->ev.start_mark.line + 1,
		    y->ev.start_mark.column + 1);
	else
		pw_error_set(y->err, "unsupported tag %s at line %zu, column %zu "
		    "(entity files allow !!str, !!int, !!float, !!bool, !!null, "
		    "!!timestamp, !!seq and !!map)", shown, y->ev.start_mark.line + 1,
		    y->ev.start_mark.column + 1);
	return -1;
}

/* Is the scalar event null: tagged so, or plain and spelled as null? */
static int
scalar_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;

	if (tag != NULL)
		return strcmp(tag, YAML_NULL_TAG) == 0;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') || (n == 4 &&
	    (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
	    memcmp(v, "NULL", 4) == 0));
}

/* What a value that should have been a sequence was instead. */
static const char *
value_kind(const yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT)
		return scalar_is_null(ev) ? "null" : "a string";
	return node_kind(ev->type);
}

/* --- The current entity --------------------------------------------------- */

/* Append a string and its NUL to the entity's text. */
static void
text_append(struct yent *y, const char *s, size_t n)
{
	if (y->text_cap - y->text_len < n + 1) {
		size_t cap = y->text_cap ? y->text_cap : 256;

		while (cap - y->text_len < n + 1)
			cap *= 2;
		y->text = pw_xrealloc(y->text, cap);
		y->text_cap = cap;
	}
	memcpy(y->text + y->text_len, s, n);
	y->text_len += n;
	y->text[y->text_len++] = '\0';
}

/* How many bytes of the entity's name a message shows. */
static int
name_shown(const struct yent *y)
{
	return (int)pw_utf8_cut(y->text, y->name_len, NAME_SHOWN);
}

/* Start an entity with the key scalar in y->ev, checking the name. */
static int
entity_begin(struct yent *y)
{
	const yaml_event_t *ev = &y->ev;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, index = y->nentities + 1;

	y->line = ev->start_mark.line + 1;
	y->column = ev->start_mark.column + 1;
	y->text_len = 0;
	y->nvoices = 0;
	if (scalar_is_null(ev) && n > 0) {
		pw_error_set(y->err, "entity %zu at line %zu, column %zu has a null "
		    "name (%.*s); quote it to use it as text", index, y->line,
		    y->column, (int)pw_utf8_cut(v, pw_utf8_check(v, n), 40), v);
		return -1;
	}
	if (n == 2 && memcmp(v, "<<", 2) == 0 && ev->data.scalar.tag == NULL &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		pw_error_set(y->err, "entity %zu at line %zu, column %zu is a merge "
		    "key (<<), which entity files do not support; quote it to use "
		    "it as a name", index, y->line, y->column);
		return -1;
	}
	if (n == 0 || memchr(v, '\0', n) != NULL) {
		pw_error_set(y->err, "entity %zu at line %zu, column %zu has an empty "
		    "name or one with a NUL character", index, y->line, y->column);
		return -1;
	}
	if (pw_utf8_check(v, n) != n) {
		pw_error_set(y->err, "entity %zu at line %zu, column %zu: its name is "
		    "not valid UTF-8", index, y->line, y->column);
		return -1;
	}
	if (n > PW_YAML_MAX_ENTITY_BYTES) {
		pw_error_set(y->err, "entity %zu at line %zu, column %zu is larger "
		    "than the %zu-byte limit", index, y->line, y->column,
		    PW_YAML_MAX_ENTITY_BYTES);
		return -1;
	}
	text_append(y, v, n);
	y->name_len = n;
	return 0;
}

/* Add the voice scalar in y->ev, element number `element` (1-based). */
static int
entity_add_voice(struct yent *y, size_t element)
{
	const yaml_event_t *ev = &y->ev;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (scalar_is_null(ev)) {
		pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu: voices "
		    "must be a sequence of strings, found null at element %zu (line "
		    "%zu, column %zu); quote it to use it as text", name_shown(y),
		    y->text, y->line, y->column, element, ev->start_mark.line + 1,
		    ev->start_mark.column + 1);
		return -1;
	}
	if (pw_utf8_check(v, n) != n) {
		pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu: voice "
		    "%zu at line %zu, column %zu is not valid UTF-8", name_shown(y),
		    y->text, y->line, y->column, element, ev->start_mark.line + 1,
		    ev->start_mark.column + 1);
		return -1;
	}
	if (y->nvoices == PW_YAML_MAX_VOICES) {
		pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu has more "
		    "than %d voices", name_shown(y), y->text, y->line, y->column,
		    PW_YAML_MAX_VOICES);
		return -1;
	}
	/* Bytes of name and voices, NULs not counted. */
	if (n > PW_YAML_MAX_ENTITY_BYTES - (y->text_len - y->nvoices - 1)) {
		pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu is "
		    "larger than the %zu-byte limit", name_shown(y), y->text,
		    y->line, y->column, PW_YAML_MAX_ENTITY_BYTES);
		return -1;
	}
	if (y->nvoices == y->voices_cap) {
		y->voices_cap = y->voices_cap ? y->voices_cap * 2 : 16;
		y->voices = pw_xrealloc(y->voices, y->voices_cap * sizeof *y->voices);
	}
	y->voices[y->nvoices].data = NULL;	/* set by entity_emit() */
	y->voices[y->nvoices++].len = n;
	text_append(y, v, n);
	return 0;
}

/* Hand the entity to the callback. */
static int
entity_emit(struct yent *y)
{
	char *p = y->text + y->name_len + 1;
	size_t i;

	/* The text may have moved while growing: point at it only now. */
	for (i = 0; i < y->nvoices; i++) {
		y->voices[i].data = p;
		p += y->voices[i].len + 1;
	}
	if (y->err != NULL)
		y->err->msg[0] = '\0';
	if (y->fn(y->ctx, y->text, y->name_len, y->voices, y->nvoices, y->line,
	    y->column, y->err) != 0) {
		if (y->err != NULL && y->err->msg[0] == '\0')
			pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu "
			    "was refused", name_shown(y), y->text, y->line, y->column);
		return -1;
	}
	y->nentities++;
	return 0;
}

/* --- The document ------------------------------------------------------- */

/* The value of the entity begun: y->ev is its first event. */
static int
parse_voices(struct yent *y)
{
	size_t element = 0;

	if (y->ev.type != YAML_SEQUENCE_START_EVENT) {
		pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu: voices "
		    "must be a sequence of strings, found %s", name_shown(y), y->text,
		    y->line, y->column, value_kind(&y->ev));
		return -1;
	}
	for (;;) {
		if (next_event(y) != 0)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			return entity_emit(y);
		element++;
		if (y->ev.type != YAML_SCALAR_EVENT) {
			pw_error_set(y->err, "entity \"%.*s\" at line %zu, column %zu: "
			    "voices must be a sequence of strings, found %s at element "
			    "%zu (line %zu, column %zu)", name_shown(y), y->text, y->line,
			    y->column, node_kind(y->ev.type), element,
			    y->ev.start_mark.line + 1, y->ev.start_mark.column + 1);
			return -1;
		}
		if (entity_add_voice(y, element) != 0)
			return -1;
	}
}

/*
 * The members of a mapping of entities, after its MAPPING_START.  At the
 * top (may_unwrap), a first `names` key with a mapping value makes that
 * mapping the entities, and then nothing may follow it.
 */
static int
parse_entities(struct yent *y, int may_unwrap)
{
	int first = 1;

	for (;;) {
		if (next_event(y) != 0)
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (y->ev.type != YAML_SCALAR_EVENT) {
			pw_error_set(y->err, "entity %zu at line %zu, column %zu has %s "
			    "as its name, expected a string", y->nentities + 1,
			    y->ev.start_mark.line + 1, y->ev.start_mark.column + 1,
			    node_kind(y->ev.type));
			return -1;
		}
		if (entity_begin(y) != 0 || next_event(y) != 0)
			return -1;
		if (first && may_unwrap && y->ev.type == YAML_MAPPING_START_EVENT &&
		    y->name_len == 5 && memcmp(y->text, "names", 5) == 0) {
			if (parse_entities(y, 0) != 0 || next_event(y) != 0)
				return -1;
			if (y->ev.type == YAML_MAPPING_END_EVENT)
				return 0;
			pw_error_set(y->err, "unexpected member after the \"names\" "
			    "wrapper at line %zu, column %zu", y->ev.start_mark.line + 1,
			    y->ev.start_mark.column + 1);
			return -1;
		}
		first = 0;
		if (parse_voices(y) != 0)
			return -1;
	}
}

/* The stream: exactly one document, whose top is a mapping. */
static int
parse_stream(struct yent *y)
{
	if (next_event(y) != 0)		/* STREAM_START */
		return -1;
	if (next_event(y) != 0)
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT) {
		pw_error_set(y->err, "empty file: no YAML document");
		return -1;
	}
	if (next_event(y) != 0)		/* after DOCUMENT_START: the top node */
		return -1;
	if (y->ev.type != YAML_MAPPING_START_EVENT) {
		pw_error_set(y->err, "expected a YAML mapping at the top level, found "
		    "%s at line %zu, column %zu", value_kind(&y->ev),
		    y->ev.start_mark.line + 1, y->ev.start_mark.column + 1);
		return -1;
	}
	if (parse_entities(y, 1) != 0)
		return -1;
	if (next_event(y) != 0 || next_event(y) != 0)	/* DOCUMENT_END, then */
		return -1;
	if (y->ev.type == YAML_DOCUMENT_START_EVENT) {
		pw_error_set(y->err, "a second YAML document at line %zu, column %zu: "
		    "an entity file holds one document", y->ev.start_mark.line + 1,
		    y->ev.start_mark.column + 1);
		return -1;
	}
	return 0;	/* STREAM_END */
}

/* Check the encoding, then parse with the event API; all state on the stack. */
int
pw_yaml_entities(const char *buf, size_t len, pw_yaml_entity_fn fn, void *ctx,
    struct pw_error *err)
{
	struct yent y;
	int rc;

	memset(&y, 0, sizeof y);
	y.buf = (const unsigned char *)(buf != NULL ? buf : "");
	y.len = buf != NULL ? len : 0;
	y.fn = fn;
	y.ctx = ctx;
	y.err = err;
	detect_encoding(&y);
	if ((y.enc == ENC_UTF8 ? check_utf8(&y) : check_utf16(&y)) != 0)
		return -1;
	if (!yaml_parser_initialize(&y.parser)) {
		fprintf(stderr, "portada-worker: out of memory in libyaml\n");
		abort();
	}
	yaml_parser_set_input_string(&y.parser, y.buf, y.len);
	rc = parse_stream(&y);
	if (y.have_ev)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.parser);
	free(y.text);
	free(y.voices);
	return rc;
}
