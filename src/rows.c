/*
 * Records → rows (see include/portada/rows.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/rows.h"
#include "portada/text.h"

struct pw_row_builder {
	const struct pw_table_spec	*spec;
	struct pw_pq_value		*values;
	size_t				*text_off;	/* per column: offset in text, or SIZE_MAX */
	struct pw_buf			 text;		/* the row's rendered texts */
	struct pw_pq_str		*voices;	/* pw_row_entity_json()'s scratch */
	size_t				 voices_cap;

	/*
	 * The spec's field names in an open hash table, so that
	 * pw_row_entry() reads a record's members once instead of
	 * searching the record for every column.
	 */
	size_t				*field_len;	/* per column: strlen(field) */
	uint32_t			*slot;		/* column + 1 of a field's first column; 0: empty */
	size_t				 slot_mask;
	uint32_t			*same_field;	/* per column: column + 1 of the next one
							   with the same field; 0: none */
	const struct pw_jval		**found;	/* per column: the record's value */
};

static size_t
field_hash(const char *k, size_t n)
{
	/* a few bytes are enough to tell the spec's few dozen names apart */
	if (n == 0)
		return 0;
	return n * 131 + (unsigned char)k[0] * 31 + (unsigned char)k[n / 2] * 7 +
	    (unsigned char)k[n - 1];
}

/* The first column that reads this field, as column + 1, or 0. */
static uint32_t
field_column(const struct pw_row_builder *b, const char *k, size_t n)
{
	size_t h = field_hash(k, n) & b->slot_mask;
	uint32_t c;

	while ((c = b->slot[h]) != 0) {
		if (b->field_len[c - 1] == n && memcmp(b->spec->columns[c - 1].field, k, n) == 0)
			return c;
		h = (h + 1) & b->slot_mask;
	}
	return 0;
}

struct pw_row_builder *
pw_row_builder_create(const struct pw_table_spec *spec)
{
	struct pw_row_builder *b = pw_xcalloc(1, sizeof *b);
	size_t size;

	b->spec = spec;
	b->values = pw_xcalloc(spec->ncolumns, sizeof *b->values);
	b->text_off = pw_xcalloc(spec->ncolumns, sizeof *b->text_off);
	b->field_len = pw_xcalloc(spec->ncolumns, sizeof *b->field_len);
	b->same_field = pw_xcalloc(spec->ncolumns, sizeof *b->same_field);
	b->found = pw_xcalloc(spec->ncolumns, sizeof *b->found);
	size = 16;
	while (size < spec->ncolumns * 2)
		size *= 2;
	b->slot = pw_xcalloc(size, sizeof *b->slot);
	b->slot_mask = size - 1;
	for (size_t i = 0; i < spec->ncolumns; i++) {
		const char *f = spec->columns[i].field;
		uint32_t c;
		size_t h;

		if (f == NULL)
			continue;
		b->field_len[i] = strlen(f);
		if ((c = field_column(b, f, b->field_len[i])) != 0) {
			while (b->same_field[c - 1] != 0)
				c = b->same_field[c - 1];
			b->same_field[c - 1] = (uint32_t)i + 1;
			continue;
		}
		h = field_hash(f, b->field_len[i]) & b->slot_mask;
		while (b->slot[h] != 0)
			h = (h + 1) & b->slot_mask;
		b->slot[h] = (uint32_t)i + 1;
	}
	pw_buf_init(&b->text, SIZE_MAX / 4);
	return b;
}

size_t
pw_row_builder_held(const struct pw_row_builder *b)
{
	return b->text.cap + b->voices_cap * sizeof *b->voices;
}

void
pw_row_builder_destroy(struct pw_row_builder *b)
{
	if (b == NULL)
		return;
	free(b->values);
	free(b->text_off);
	free(b->field_len);
	free(b->slot);
	free(b->same_field);
	free(b->found);
	free(b->voices);
	pw_buf_finish(&b->text);
	free(b);
}

static void
append(struct pw_buf *out, const char *p, size_t n)
{
	if (pw_buf_append(out, p, n) == -1)
		abort();	/* unlimited: the caller capped the record's size */
}

static bool
is_empty(const struct pw_jval *v)
{
	switch (v->type) {
	case PW_JNULL:
		return true;
	case PW_JSTRING:
		return v->u.s.n == 0;
	case PW_JARRAY:
	case PW_JOBJECT:
		return v->u.c.n == 0;
	default:
		return false;
	}
}

const struct pw_jval *
pw_row_resolve(const struct pw_jval *v)
{
	static const size_t order_len[] = { 16, 14, 13 };
	static const char *const order[] = { "calculated_value", "original_value",
	    "default_value" };
	bool wrapped = false;

	if (v == NULL || v->type == PW_JNULL)
		return NULL;
	if (v->type != PW_JOBJECT)
		return v;
	for (size_t i = 0; i < 3; i++) {
		const struct pw_jval *x = pw_jobject_get(v, order[i], order_len[i]);

		if (x == NULL)
			continue;
		wrapped = true;
		if (!is_empty(x))
			return x;
	}
	return wrapped ? NULL : v;
}

static void
put_real(double d, struct pw_buf *out)
{
	char s[PW_TEXT_DOUBLE_SIZE];

	pw_text_double(d, s);	/* not "%.17g", which writes 0.1 as 0.10000000000000001 */
	append(out, s, strlen(s));
}

static void
put_json_string(const char *s, size_t n, struct pw_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	append(out, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t en = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		append(out, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
		}
		append(out, esc, en);
	}
	append(out, s + run, n - run);
	append(out, "\"", 1);
}

/* Compact JSON (no spaces), keys in the order the file had them. */
static void
put_json(const struct pw_jval *v, struct pw_buf *out)
{
	char num[32];
	const struct pw_jval *x;
	uint32_t i;

	switch (v->type) {
	case PW_JOBJECT:
		append(out, "{", 1);
		for (i = 0, x = pw_jval_first(v); i < v->u.c.n; i++, x = pw_jval_next(x)) {
			if (i > 0)
				append(out, ",", 1);
			put_json_string(x->key, x->klen, out);
			append(out, ":", 1);
			put_json(x, out);
		}
		append(out, "}", 1);
		break;
	case PW_JARRAY:
		append(out, "[", 1);
		for (i = 0, x = pw_jval_first(v); i < v->u.c.n; i++, x = pw_jval_next(x)) {
			if (i > 0)
				append(out, ",", 1);
			put_json(x, out);
		}
		append(out, "]", 1);
		break;
	case PW_JSTRING:
		put_json_string(v->u.s.p, v->u.s.n, out);
		break;
	case PW_JINT:
		snprintf(num, sizeof num, "%" PRId64, v->u.i);
		append(out, num, strlen(num));
		break;
	case PW_JREAL:
		put_real(v->u.d, out);
		break;
	case PW_JTRUE:
		append(out, "true", 4);
		break;
	case PW_JFALSE:
		append(out, "false", 5);
		break;
	case PW_JNULL:
		append(out, "null", 4);
		break;
	}
}

void
pw_row_text(const struct pw_jval *v, struct pw_buf *out)
{
	if (v->type == PW_JSTRING)
		append(out, v->u.s.p, v->u.s.n);
	else
		put_json(v, out);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
ms_to_days(int64_t ms, int32_t *days)
{
	int64_t d = ms / 86400000;

	if (ms % 86400000 != 0 && ms < 0)
		d--;		/* floor, so that a time before 1970 is the day it falls on */
	if (d < INT32_MIN || d > INT32_MAX)
		return false;
	*days = (int32_t)d;
	return true;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static bool
string_date(const char *s, size_t n, int32_t *days)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	/* epoch milliseconds */
	if (digits(s, n) || (n > 1 && s[0] == '-' && digits(s + 1, n - 1))) {
		char *end;
		long long ms;

		if (n > 19)
			return false;
		ms = strtoll(s, &end, 10);
		return end == s + n && ms_to_days(ms, days);
	}
	/* YYYY-MM-DD[(T| )...] */
	if (n >= 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' &&
	    digits(s + 8, 2) && (n == 10 || s[10] == 'T' || s[10] == ' ')) {
		unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		    (s[2] - '0') * 10 + (s[3] - '0'));
		unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
		unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		if (y == 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
		    (m == 2 && d == 29 && !leap))
			return false;
		*days = (int32_t)days_from_civil(y, m, d);
		return true;
	}
	return false;
}

bool
pw_row_date(const struct pw_jval *v, int32_t *days)
{
	v = pw_row_resolve(v);
	if (v == NULL)
		return false;
	switch (v->type) {
	case PW_JSTRING:
		return string_date(v->u.s.p, v->u.s.n, days);
	case PW_JINT:
		return ms_to_days(v->u.i, days);
	case PW_JREAL: {
		double d = v->u.d;

		if (!isfinite(d) || d != floor(d) || fabs(d) > 9.2e18)
			return false;
		return ms_to_days((int64_t)d, days);
	}
	default:
		return false;
	}
}

static struct pw_pq_value
str_or_null(const char *s)
{
	return s == NULL ? pw_pq_null() : pw_pq_string(s, strlen(s));
}

/* Texts are rendered into one buffer that may move while the row is
 * built, so their pointers are set once it is complete. */
static void
fix_texts(struct pw_row_builder *b)
{
	for (size_t i = 0; i < b->spec->ncolumns; i++) {
		if (b->text_off[i] == SIZE_MAX)
			continue;
		b->values[i].u.s.p = (const char *)b->text.data + b->text_off[i];
	}
}

static struct pw_pq_value
common(const struct pw_table_column *c, const struct pw_row_meta *meta, uint64_t index)
{
	switch (c->from) {
	case PW_SRC_FILE_ID:
		return str_or_null(meta->file_id);
	case PW_SRC_RECORD_INDEX:
		return pw_pq_int((int64_t)index);
	case PW_SRC_UPLOADED_BY:
		return str_or_null(meta->uploaded_by);
	case PW_SRC_SOURCE_FILENAME:
		return str_or_null(meta->source_filename);
	case PW_SRC_INGESTED_AT:
		return pw_pq_int(meta->ingested_at_us);
	case PW_SRC_ENTITY_TYPE:
		return str_or_null(meta->entity_type);
	default:
		return pw_pq_null();
	}
}

const struct pw_pq_value *
pw_row_entry(struct pw_row_builder *b, const struct pw_row_meta *meta, uint64_t index,
    const struct pw_jval *record, const char *raw, size_t raw_len)
{
	const struct pw_jval *m = pw_jval_first(record);
	uint32_t k, col;

	/* Each member once (jtree refuses a key that comes twice). */
	memset(b->found, 0, b->spec->ncolumns * sizeof *b->found);
	for (k = 0; k < record->u.c.n; k++, m = pw_jval_next(m))
		for (col = field_column(b, m->key, m->klen); col != 0; col = b->same_field[col - 1])
			b->found[col - 1] = m;
	pw_buf_reset(&b->text);
	for (size_t i = 0; i < b->spec->ncolumns; i++) {
		const struct pw_table_column *c = &b->spec->columns[i];
		struct pw_pq_value *v = &b->values[i];
		const struct pw_jval *x;
		int32_t days;

		b->text_off[i] = SIZE_MAX;
		switch (c->from) {
		case PW_SRC_FIELD:
			x = pw_row_resolve(b->found[i]);
			if (x == NULL) {
				*v = pw_pq_null();
			} else if (x->type == PW_JSTRING) {
				*v = pw_pq_string(x->u.s.p, x->u.s.n);
			} else {
				size_t start = b->text.len;

				put_json(x, &b->text);
				*v = pw_pq_string(NULL, b->text.len - start);
				b->text_off[i] = start;
			}
			break;
		case PW_SRC_DATE:
			if (pw_row_date(b->found[i], &days))
				*v = pw_pq_int(days);
			else
				*v = pw_pq_null();
			break;
		case PW_SRC_RECORD:
			*v = pw_pq_string(raw, raw_len);
			break;
		default:
			*v = common(c, meta, index);
			break;
		}
	}
	fix_texts(b);
	return b->values;
}

const struct pw_pq_value *
pw_row_entity(struct pw_row_builder *b, const struct pw_row_meta *meta, uint64_t index,
    const char *name, size_t name_len, const struct pw_pq_str *voices, size_t nvoices)
{
	for (size_t i = 0; i < b->spec->ncolumns; i++) {
		const struct pw_table_column *c = &b->spec->columns[i];

		b->text_off[i] = SIZE_MAX;
		switch (c->from) {
		case PW_SRC_ENTITY_NAME:
			b->values[i] = pw_pq_string(name, name_len);
			break;
		case PW_SRC_ENTITY_VOICES:
			b->values[i] = pw_pq_list(voices, nvoices);
			break;
		default:
			b->values[i] = common(c, meta, index);
			break;
		}
	}
	return b->values;
}

const struct pw_pq_value *
pw_row_entity_json(struct pw_row_builder *b, const struct pw_row_meta *meta,
    uint64_t index, const char *name, const struct pw_jval *voices)
{
	size_t n = voices->u.c.n;
	const struct pw_jval *s = pw_jval_first(voices);

	if (n > b->voices_cap) {
		b->voices = pw_xrealloc(b->voices, n * sizeof *b->voices);
		b->voices_cap = n;
	}
	for (size_t i = 0; i < n; i++, s = pw_jval_next(s)) {
		if (s->type == PW_JSTRING) {
			b->voices[i].p = s->u.s.p;
			b->voices[i].n = s->u.s.n;
		} else {
			b->voices[i].p = NULL;	/* records.c lets only strings through */
			b->voices[i].n = 0;
		}
	}
	return pw_row_entity(b, meta, index, name, strlen(name), b->voices, n);
}
