/*
 * jsonscan: one byte-at-a-time state machine that validates a whole JSON
 * document (RFC 8259 grammar, UTF-8, escapes, numbers, literals) and hands
 * out its top-level records (see include/portada/jsonscan.h).
 *
 * All state lives in struct pw_scan, so a chunk may end anywhere: inside a
 * string, an escape, a UTF-8 sequence, a number, a literal or the BOM.  A
 * record that lies inside one chunk is passed as a pointer into that chunk;
 * one that spans chunks is copied into a buffer that never grows past
 * max_record_bytes.
 *
 * Every check is made at a fixed byte of the stream, so the first error (and
 * its message) does not depend on the chunking.  The one check that is not
 * naturally per byte, the record size limit, follows one rule: a record whose
 * bytes before the offending byte already exceed the limit reports the size
 * error instead, which is exactly what a check at the end of a chunk sees.
 *
 * Columns count characters: a UTF-8 continuation byte does not advance the
 * column, and a leading BOM is not a character ('[' after it is column 1).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/jsonscan.h"

#define DEFAULT_MAX_RECORD	((size_t)16 * 1024 * 1024)
#define DEFAULT_MAX_DEPTH	64

#define IS_WS(c)	\
	((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
/* A byte that can start no UTF-8 character at all. */
#define IS_BAD_UTF8(c)	(((c) >= 0x80 && (c) < 0xc2) || (c) > 0xf4)

enum state {
	/* Structural states: whitespace before the next byte is skipped. */
	ST_VALUE,		/* top level, after ':', after ',' in arrays */
	ST_ARRAY_FIRST,		/* after '[': a value or ']' */
	ST_OBJECT_FIRST,	/* after '{': a key or '}' */
	ST_KEY,			/* after ',' in an object: a key */
	ST_COLON,		/* after a key */
	ST_AFTER,		/* after a value in a container */
	ST_END,			/* after the top-level value: whitespace only */

	ST_START,		/* nothing seen yet: maybe a BOM */
	ST_BOM1,		/* seen EF */
	ST_BOM2,		/* seen EF BB */
	ST_STRING,
	ST_STR_ESC,		/* after a backslash */
	ST_STR_HEX,		/* in the hex digits of \uXXXX */
	ST_STR_UTF8,		/* in a UTF-8 sequence's continuation bytes */
	ST_NUM_MINUS,		/* "-" */
	ST_NUM_ZERO,		/* "-0", "0" */
	ST_NUM_INT,		/* "-1", "12" */
	ST_NUM_DOT,		/* "1." */
	ST_NUM_FRAC,		/* "1.5" */
	ST_NUM_EXP,		/* "1e" */
	ST_NUM_EXP_SIGN,	/* "1e+" */
	ST_NUM_EXP_DIGITS,	/* "1e5" */
	ST_LITERAL,		/* inside true, false or null */
	ST_FAILED,		/* sticky: s->err holds the message */
};

enum span_state {
	SPAN_NONE,
	SPAN_OPEN,		/* still growing */
	SPAN_DONE,		/* data and dlen are the whole span */
};

/* The raw bytes of a key or a record value, possibly spread over chunks. */
struct span {
	enum span_state state;
	const unsigned char *start;	/* first byte, if in this chunk */
	char *buf;			/* bytes from earlier chunks */
	size_t len;
	size_t cap;
	const char *data;		/* SPAN_DONE */
	size_t dlen;
	int in_chunk;			/* SPAN_DONE: data is in the chunk */
};

struct pw_scan {
	pw_scan_record_fn fn;
	void *arg;
	enum pw_scan_top top;
	size_t max_bytes;
	unsigned max_depth;
	char *unwrap_key;

	enum state state;
	unsigned long line;
	unsigned long col;		/* column of the next character */

	unsigned depth;			/* open containers */
	unsigned char *stack;		/* a bit per level: 1 object, 0 array */
	size_t stack_size;
	int in_object;			/* the innermost container's kind */
	unsigned rec_depth;		/* depth of the container of records */
	int first_member;		/* object mode: no member value yet */
	int unwrapped;

	int str_is_key;
	unsigned hex_left;
	unsigned utf_left;
	unsigned char utf_lo, utf_hi, utf_lead;
	const char *lit;		/* rest of the literal to match */
	const char *lit_name;
	int lit_top;			/* the literal is the top-level value */
	unsigned long top_line, top_col;

	const unsigned char *chunk;	/* start of the chunk being scanned */
	struct span key;
	struct span val;
	size_t nrecords;
	unsigned long rec_line, rec_col;
	unsigned long val_line, val_col;

	int finished;
	struct pw_error err;
};

/* Bytes a string holds as they are: printable ASCII except '"' and '\\'. */
static const unsigned char plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int
is_hex(unsigned c)
{
	return IS_DIGIT(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A byte as a message shows it: 'x' if printable, else 0xNN. */
static const char *
describe_byte(unsigned c, char *buf, size_t size)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", (int)c);
	else
		snprintf(buf, size, "0x%02X", c);
	return buf;
}

/* Bytes of the open span before p (p NULL: at end of input). */
static size_t
span_len_before(const struct pw_scan *s, const struct span *sp,
    const unsigned char *p)
{
	if (p == NULL)
		return sp->len;
	if (sp->start != NULL)
		return (size_t)(p - sp->start);
	return sp->len + (size_t)(p - s->chunk);
}

/* The current record (key or value) went over max_record_bytes. */
static int
size_fail(struct pw_scan *s)
{
	pw_error_set(&s->err, "record %zu at line %lu, column %lu is larger "
	    "than the %zu-byte limit", s->nrecords + 1, s->rec_line, s->rec_col,
	    s->max_bytes);
	s->state = ST_FAILED;
	return -1;
}

/*
 * Fail with the message, unless the record being scanned was already too
 * large before p: then that came first.
 */
static int PW_PRINTF(3, 4)
fail(struct pw_scan *s, const unsigned char *p, const char *fmt, ...)
{
	char msg[PW_ERROR_MAX];
	va_list ap;

	if (s->val.state == SPAN_OPEN &&
	    span_len_before(s, &s->val, p) > s->max_bytes)
		return size_fail(s);
	if (s->key.state == SPAN_OPEN &&
	    span_len_before(s, &s->key, p) > s->max_bytes)
		return size_fail(s);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pw_error_set(&s->err, "%s", msg);
	s->state = ST_FAILED;
	return -1;
}

/* Fail with "invalid JSON at line L, column C: <reason>". */
static int PW_PRINTF(5, 6)
json_fail(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, const char *fmt, ...)
{
	char reason[PW_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return fail(s, p, "invalid JSON at line %lu, column %lu: %s", line, col,
	    reason);
}

/* Fail on a byte that cannot be part of valid UTF-8 here. */
static int
utf8_fail(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, unsigned c)
{
	return fail(s, p, "invalid UTF-8 at line %lu, column %lu (byte 0x%02X)",
	    line, col, c);
}

/* Fail on a byte outside a string that starts nothing valid. */
static int
bad_char(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, unsigned c, const char *after)
{
	char desc[8];

	if (IS_BAD_UTF8(c))
		return utf8_fail(s, p, line, col, c);
	return json_fail(s, p, line, col, "unexpected character %s%s",
	    describe_byte(c, desc, sizeof desc), after);
}

/* The top-level value is not the container opts->top asked for. */
static int
top_fail(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, const char *found)
{
	const char *want = s->top == PW_SCAN_ARRAY ? "array" : "object";

	return fail(s, p, "expected a JSON %s at the top level, found %s at "
	    "line %lu, column %lu", want, found, line, col);
}

/* Append to the span's buffer, which never grows past limit. */
static void
span_append(struct span *sp, const unsigned char *from, size_t n,
    size_t limit)
{
	size_t cap;

	if (n == 0)
		return;
	assert(sp->len + n <= limit);
	if (sp->len + n > sp->cap) {
		cap = sp->cap < 256 ? 256 : sp->cap * 2;
		if (cap < sp->len + n)
			cap = sp->len + n;
		if (cap > limit)
			cap = limit;
		sp->buf = pw_xrealloc(sp->buf, cap);
		sp->cap = cap;
	}
	memcpy(sp->buf + sp->len, from, n);
	sp->len += n;
}

static void
span_open(struct span *sp, const unsigned char *p)
{
	sp->state = SPAN_OPEN;
	sp->start = p;
	sp->len = 0;
}

static void
span_reset(struct span *sp)
{
	sp->state = SPAN_NONE;
	sp->start = NULL;
	sp->len = 0;
}

/* The span ends just before end: make data/dlen the whole of it. */
static int
span_close(struct pw_scan *s, struct span *sp, const unsigned char *end)
{
	size_t n;

	if (sp->start != NULL) {
		sp->data = (const char *)sp->start;
		sp->dlen = (size_t)(end - sp->start);
		sp->in_chunk = 1;
	} else {
		n = (size_t)(end - s->chunk);
		if (sp->len + n > s->max_bytes)
			return size_fail(s);
		span_append(sp, s->chunk, n, s->max_bytes);
		sp->data = sp->buf;
		sp->dlen = sp->len;
		sp->in_chunk = 0;
	}
	if (sp->dlen > s->max_bytes)
		return size_fail(s);
	sp->state = SPAN_DONE;
	sp->start = NULL;
	return 0;
}

/* The chunk ends: copy what the spans hold of it before it goes away. */
static int
span_save(struct pw_scan *s, struct span *sp, const unsigned char *end)
{
	const unsigned char *from;
	size_t n;

	if (sp->state == SPAN_OPEN) {
		from = sp->start != NULL ? sp->start : s->chunk;
		n = (size_t)(end - from);
		if (sp->len + n > s->max_bytes)
			return size_fail(s);
		span_append(sp, from, n, s->max_bytes);
		sp->start = NULL;
	} else if (sp->state == SPAN_DONE && sp->in_chunk) {
		sp->len = 0;
		span_append(sp, (const unsigned char *)sp->data, sp->dlen,
		    s->max_bytes);
		sp->data = sp->buf;
		sp->in_chunk = 0;
	}
	return 0;
}

/* Four hex digits (already validated) as a number. */
static unsigned long
hex4(const unsigned char *t)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (IS_DIGIT(t[i]))
			v |= (unsigned long)(t[i] - '0');
		else
			v |= (unsigned long)((t[i] | 0x20) - 'a' + 10);
	}
	return v;
}

/* Encode a code point as UTF-8; returns the length. */
static size_t
utf8_encode(unsigned long cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Does a validated key token (quotes included) decode to want?  Escapes
 * are decoded; a lone surrogate or \u0000 never matches.
 */
static int
key_matches(const char *tok, size_t len, const char *want)
{
	const unsigned char *t = (const unsigned char *)tok + 1;
	const unsigned char *te = (const unsigned char *)tok + len - 1;
	const unsigned char *w = (const unsigned char *)want;
	unsigned char enc[4];
	unsigned long cp, lo;
	size_t i, n;

	while (t < te) {
		if (*t != '\\') {
			if (*w != *t)
				return 0;
			t++;
			w++;
			continue;
		}
		t++;
		switch (*t++) {
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			cp = hex4(t);
			t += 4;
			if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
				return 0;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (te - t < 6 || t[0] != '\\' || t[1] != 'u')
					return 0;
				lo = hex4(t + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return 0;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				t += 6;
			}
			break;
		default:	/* '"', '\\', '/' */
			cp = t[-1];
			break;
		}
		n = utf8_encode(cp, enc);
		for (i = 0; i < n; i++) {
			if (*w != enc[i])
				return 0;
			w++;
		}
	}
	return *w == '\0';
}

/* Open a container at p, unless that nests too deep. */
static int
push(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, unsigned c)
{
	size_t byte = s->depth / 8;
	unsigned char bit = (unsigned char)(1u << (s->depth % 8));

	if (s->depth >= s->max_depth)
		return fail(s, p, "nesting deeper than %u levels at line %lu, "
		    "column %lu", s->max_depth, line, col);
	if (byte >= s->stack_size) {
		s->stack_size = s->stack_size ? s->stack_size * 2 : 8;
		s->stack = pw_xrealloc(s->stack, s->stack_size);
	}
	if (c == '{')
		s->stack[byte] |= bit;
	else
		s->stack[byte] &= (unsigned char)~bit;
	s->depth++;
	s->in_object = c == '{';
	return 0;
}

/* Close the innermost container. */
static void
pop(struct pw_scan *s)
{
	unsigned d;

	s->depth--;
	if (s->depth > 0) {
		d = s->depth - 1;
		s->in_object = (s->stack[d / 8] >> (d % 8)) & 1;
	}
}

/*
 * A value starts with c at p, at the top level or where records live:
 * check the top-level type, or start a record (or unwrap the first member).
 */
static int
begin_value(struct pw_scan *s, const unsigned char *p, unsigned long line,
    unsigned long col, unsigned c)
{
	if (s->depth == 0) {
		if (c == (s->top == PW_SCAN_ARRAY ? '[' : '{'))
			return 0;
		switch (c) {
		case '[':
			return top_fail(s, p, line, col, "an array");
		case '{':
			return top_fail(s, p, line, col, "an object");
		case '"':
			return top_fail(s, p, line, col, "a string");
		case 't':
		case 'f':
		case 'n':
			/* Named once the literal is known to be one. */
			s->lit_top = 1;
			s->top_line = line;
			s->top_col = col;
			return 0;
		default:
			return top_fail(s, p, line, col, "a number");
		}
	}
	if (s->top == PW_SCAN_ARRAY) {
		s->rec_line = line;
		s->rec_col = col;
	} else if (s->first_member) {
		s->first_member = 0;
		if (c == '{' && s->unwrap_key != NULL &&
		    key_matches(s->key.data, s->key.dlen, s->unwrap_key)) {
			s->unwrapped = 1;
			s->rec_depth = 2;
			span_reset(&s->key);
			return 0;
		}
	}
	s->val_line = line;
	s->val_col = col;
	span_open(&s->val, p);
	return 0;
}

/* A record value ended just before end: hand it to the callback. */
static int
emit(struct pw_scan *s, const unsigned char *end)
{
	struct pw_scan_record rec;

	if (span_close(s, &s->val, end) == -1)
		return -1;
	rec.index = s->nrecords;
	if (s->top == PW_SCAN_OBJECT) {
		rec.key = s->key.data;
		rec.key_len = s->key.dlen;
	} else {
		rec.key = NULL;
		rec.key_len = 0;
	}
	rec.data = s->val.data;
	rec.len = s->val.dlen;
	rec.line = s->rec_line;
	rec.column = s->rec_col;
	rec.value_line = s->val_line;
	rec.value_column = s->val_col;
	s->err.msg[0] = '\0';
	if (s->fn(s->arg, &rec, &s->err) != 0) {
		if (s->err.msg[0] == '\0')
			pw_error_set(&s->err, "record %zu at line %lu, "
			    "column %lu was refused", s->nrecords + 1,
			    s->rec_line, s->rec_col);
		s->state = ST_FAILED;
		return -1;
	}
	s->nrecords++;
	span_reset(&s->val);
	span_reset(&s->key);
	return 0;
}

/* At the end of a chunk: keep what the open record needs of it. */
static int
flush(struct pw_scan *s, const unsigned char *end)
{
	if (span_save(s, &s->key, end) == -1)
		return -1;
	if (span_save(s, &s->val, end) == -1)
		return -1;
	return 0;
}

#define SAVE() do {							\
	s->state = state;						\
	s->line = line;							\
	s->col = col;							\
} while (0)

/* Stop with the error that call sets (or has set), position saved first. */
#define FAIL(call) do {							\
	SAVE();								\
	(void)(call);							\
	s->state = ST_FAILED;						\
	return -1;							\
} while (0)

/* Run the state machine over one chunk. */
static int
scan(struct pw_scan *s, const unsigned char *p, const unsigned char *end)
{
	enum state state = s->state, next;
	unsigned long line = s->line, col = s->col;
	const unsigned char *q;
	unsigned c, closer;
	const char *what;

	while (p < end) {
		c = *p;
		if (state <= ST_END && IS_WS(c)) {
			for (;;) {
				if (c == '\n') {
					line++;
					col = 1;
				} else
					col++;
				if (++p == end)
					goto out;
				c = *p;
				if (!IS_WS(c))
					break;
			}
		}

		switch (state) {
		case ST_START:
			if (c == 0xef) {
				state = ST_BOM1;
				p++;
			} else
				state = ST_VALUE;
			continue;
		case ST_BOM1:
		case ST_BOM2:
			if (c != (state == ST_BOM1 ? 0xbbu : 0xbfu))
				FAIL(json_fail(s, p, 1, 1,
				    "unexpected character 0xEF"));
			state = state == ST_BOM1 ? ST_BOM2 : ST_VALUE;
			p++;
			continue;

		case ST_VALUE:
		case ST_ARRAY_FIRST:
			if (c == ']' && state == ST_ARRAY_FIRST)
				goto close;
			switch (c) {
			case '"':
				next = ST_STRING;
				break;
			case '[':
				next = ST_ARRAY_FIRST;
				break;
			case '{':
				next = ST_OBJECT_FIRST;
				break;
			case '-':
				next = ST_NUM_MINUS;
				break;
			case '0':
				next = ST_NUM_ZERO;
				break;
			case '1': case '2': case '3': case '4': case '5':
			case '6': case '7': case '8': case '9':
				next = ST_NUM_INT;
				break;
			case 't':
				s->lit = "rue";
				s->lit_name = "true";
				next = ST_LITERAL;
				break;
			case 'f':
				s->lit = "alse";
				s->lit_name = "false";
				next = ST_LITERAL;
				break;
			case 'n':
				s->lit = "ull";
				s->lit_name = "null";
				next = ST_LITERAL;
				break;
			default:
				if (c == ']' && s->depth > 0 && !s->in_object)
					FAIL(json_fail(s, p, line, col,
					    "trailing comma before ']'"));
				FAIL(bad_char(s, p, line, col, c, ""));
			}
			if (s->depth == 0 || s->depth == s->rec_depth) {
				if (begin_value(s, p, line, col, c) == -1)
					FAIL(0);
			}
			if (next == ST_ARRAY_FIRST || next == ST_OBJECT_FIRST) {
				if (push(s, p, line, col, c) == -1)
					FAIL(0);
			} else if (next == ST_STRING)
				s->str_is_key = 0;
			p++;
			col++;
			state = next;
			continue;

		case ST_OBJECT_FIRST:
		case ST_KEY:
			if (c == '}' && state == ST_OBJECT_FIRST)
				goto close;
			if (c != '"') {
				if (c == '}')
					FAIL(json_fail(s, p, line, col,
					    "trailing comma before '}'"));
				if (c >= 0x80)
					FAIL(bad_char(s, p, line, col, c, ""));
				FAIL(json_fail(s, p, line, col,
				    "expected a string as an object key"));
			}
			if (s->depth == s->rec_depth) {
				span_open(&s->key, p);
				s->rec_line = line;
				s->rec_col = col;
			} else if (s->unwrapped && s->depth == 1)
				FAIL(fail(s, p, "unexpected member after the "
				    "\"%s\" wrapper at line %lu, column %lu",
				    s->unwrap_key, line, col));
			s->str_is_key = 1;
			p++;
			col++;
			state = ST_STRING;
			continue;

		case ST_COLON:
			if (IS_BAD_UTF8(c))
				FAIL(utf8_fail(s, p, line, col, c));
			if (c != ':')
				FAIL(json_fail(s, p, line, col,
				    "expected ':' after an object key"));
			p++;
			col++;
			state = ST_VALUE;
			continue;

		case ST_AFTER:
			if (c == ',') {
				p++;
				col++;
				state = s->in_object ? ST_KEY : ST_VALUE;
				continue;
			}
			closer = s->in_object ? '}' : ']';
			if (c == closer)
				goto close;
			if (IS_BAD_UTF8(c))
				FAIL(utf8_fail(s, p, line, col, c));
			if (s->depth == s->rec_depth)
				what = "a record";
			else if (s->in_object)
				what = "an object member";
			else
				what = "an array element";
			FAIL(json_fail(s, p, line, col, "expected ',' or '%c' "
			    "after %s", (int)closer, what));

		case ST_END:
			FAIL(bad_char(s, p, line, col, c,
			    " after the top-level value"));

		case ST_STRING:
		string:
			q = p;
			while (p < end && plain[*p])
				p++;
			col += (unsigned long)(p - q);
			if (p == end)
				goto out;
			c = *p;
			if (c == '"') {
				p++;
				col++;
				goto string_end;
			}
			if (c == '\\') {
				p++;
				col++;
				state = ST_STR_ESC;
				if (p == end)
					goto out;
				c = *p;
				goto escape;
			}
			if (c < 0x20)
				FAIL(json_fail(s, p, line, col,
				    "control character 0x%02X in a string", c));
			/* A UTF-8 lead byte: set the range of the next byte. */
			if (IS_BAD_UTF8(c))
				FAIL(utf8_fail(s, p, line, col, c));
			s->utf_lead = (unsigned char)c;
			s->utf_lo = 0x80;
			s->utf_hi = 0xbf;
			if (c < 0xe0)
				s->utf_left = 1;
			else if (c < 0xf0) {
				s->utf_left = 2;
				if (c == 0xe0)
					s->utf_lo = 0xa0;	/* overlong */
				else if (c == 0xed)
					s->utf_hi = 0x9f;	/* surrogates */
			} else {
				s->utf_left = 3;
				if (c == 0xf0)
					s->utf_lo = 0x90;	/* overlong */
				else if (c == 0xf4)
					s->utf_hi = 0x8f;	/* > U+10FFFF */
			}
			p++;
			col++;
			state = ST_STR_UTF8;
			goto utf8;

		case ST_STR_UTF8:
		utf8:
			while (s->utf_left > 0) {
				if (p == end)
					goto out;
				c = *p;
				if (c < s->utf_lo || c > s->utf_hi)
					FAIL(utf8_fail(s, p, line, col - 1,
					    s->utf_lead));
				s->utf_lo = 0x80;
				s->utf_hi = 0xbf;
				s->utf_left--;
				p++;
			}
			state = ST_STRING;
			goto string;

		case ST_STR_ESC:
		escape:
			switch (c) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				p++;
				col++;
				state = ST_STRING;
				goto string;
			case 'u':
				p++;
				col++;
				s->hex_left = 4;
				state = ST_STR_HEX;
				goto hex;
			default:
				if (c > 0x20 && c < 0x7f)
					FAIL(json_fail(s, p, line, col,
					    "invalid escape '\\%c' in a string",
					    (int)c));
				FAIL(json_fail(s, p, line, col,
				    "invalid escape: '\\' followed by byte "
				    "0x%02X in a string", c));
			}

		case ST_STR_HEX:
		hex:
			while (s->hex_left > 0) {
				if (p == end)
					goto out;
				if (!is_hex(*p))
					FAIL(json_fail(s, p, line, col,
					    "invalid \\u escape in a string "
					    "(expected 4 hex digits)"));
				p++;
				col++;
				s->hex_left--;
			}
			state = ST_STRING;
			goto string;

		case ST_NUM_MINUS:
			if (c == '0')
				state = ST_NUM_ZERO;
			else if (IS_DIGIT(c))
				state = ST_NUM_INT;
			else
				goto bad_number;
			p++;
			col++;
			continue;

		case ST_NUM_ZERO:
			if (c == '.' || c == 'e' || c == 'E')
				goto fraction_or_exponent;
			if (IS_DIGIT(c) || c == '+' || c == '-')
				goto bad_number;
			goto done;

		case ST_NUM_INT:
			q = p;
			while (p < end && IS_DIGIT(*p))
				p++;
			col += (unsigned long)(p - q);
			if (p == end)
				goto out;
			c = *p;
			if (c == '.' || c == 'e' || c == 'E')
				goto fraction_or_exponent;
			if (c == '+' || c == '-')
				goto bad_number;
			goto done;

		fraction_or_exponent:
			state = c == '.' ? ST_NUM_DOT : ST_NUM_EXP;
			p++;
			col++;
			continue;

		case ST_NUM_DOT:
			if (!IS_DIGIT(c))
				goto bad_number;
			state = ST_NUM_FRAC;
			p++;
			col++;
			continue;

		case ST_NUM_FRAC:
			q = p;
			while (p < end && IS_DIGIT(*p))
				p++;
			col += (unsigned long)(p - q);
			if (p == end)
				goto out;
			c = *p;
			if (c == 'e' || c == 'E') {
				state = ST_NUM_EXP;
				p++;
				col++;
				continue;
			}
			if (c == '.' || c == '+' || c == '-')
				goto bad_number;
			goto done;

		case ST_NUM_EXP:
			if (c == '+' || c == '-')
				state = ST_NUM_EXP_SIGN;
			else if (IS_DIGIT(c))
				state = ST_NUM_EXP_DIGITS;
			else
				goto bad_number;
			p++;
			col++;
			continue;

		case ST_NUM_EXP_SIGN:
			if (!IS_DIGIT(c))
				goto bad_number;
			state = ST_NUM_EXP_DIGITS;
			p++;
			col++;
			continue;

		case ST_NUM_EXP_DIGITS:
			q = p;
			while (p < end && IS_DIGIT(*p))
				p++;
			col += (unsigned long)(p - q);
			if (p == end)
				goto out;
			c = *p;
			if (c == '.' || c == 'e' || c == 'E' || c == '+' ||
			    c == '-')
				goto bad_number;
			goto done;

		case ST_LITERAL:
			while (*s->lit != '\0') {
				if (p == end)
					goto out;
				if (*p != (unsigned char)*s->lit)
					FAIL(json_fail(s, p, line, col,
					    "invalid literal"));
				p++;
				col++;
				s->lit++;
			}
			if (s->lit_top)
				FAIL(top_fail(s, p, s->top_line, s->top_col,
				    s->lit_name));
			goto done;

		case ST_FAILED:
			return -1;
		}
		/* NOTREACHED: every case continues, jumps or returns. */
		abort();

	bad_number:
		FAIL(json_fail(s, p, line, col, "invalid number"));

	close:
		/* c closes the innermost container. */
		pop(s);
		p++;
		col++;
		goto done;

	string_end:
		if (s->str_is_key) {
			if (s->key.state == SPAN_OPEN &&
			    span_close(s, &s->key, p) == -1)
				FAIL(0);
			state = ST_COLON;
			continue;
		}
		/* A string value ends like any other value. */

	done:
		/* A value ended just before p. */
		if (s->depth == s->rec_depth && s->val.state == SPAN_OPEN) {
			SAVE();
			if (emit(s, p) == -1)
				return -1;
		}
		state = s->depth == 0 ? ST_END : ST_AFTER;
	}

out:
	SAVE();
	return flush(s, end);
}

/* A scanner in its initial state; opts is copied, unwrap_key too. */
struct pw_scan *
pw_scan_create(const struct pw_scan_options *opts, pw_scan_record_fn fn,
    void *arg)
{
	struct pw_scan *s;

	assert(opts != NULL && fn != NULL);
	s = pw_xcalloc(1, sizeof *s);
	s->fn = fn;
	s->arg = arg;
	s->top = opts->top;
	s->max_bytes = opts->max_record_bytes ? opts->max_record_bytes :
	    DEFAULT_MAX_RECORD;
	s->max_depth = opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH;
	if (opts->top == PW_SCAN_OBJECT && opts->unwrap_key != NULL)
		s->unwrap_key = pw_xstrdup(opts->unwrap_key);
	s->state = ST_START;
	s->line = 1;
	s->col = 1;
	s->rec_depth = 1;
	s->first_member = 1;
	return s;
}

void
pw_scan_destroy(struct pw_scan *s)
{
	if (s == NULL)
		return;
	free(s->key.buf);
	free(s->val.buf);
	free(s->stack);
	free(s->unwrap_key);
	free(s);
}

/* Scan one chunk; the error, once set, is returned by every later call. */
int
pw_scan_feed(struct pw_scan *s, const void *buf, size_t len,
    struct pw_error *err)
{
	int rv;

	if (s->state == ST_FAILED) {
		pw_error_set(err, "%s", s->err.msg);
		return -1;
	}
	assert(!s->finished);
	if (len == 0)
		return 0;
	s->chunk = buf;
	rv = scan(s, buf, (const unsigned char *)buf + len);
	s->chunk = NULL;
	if (rv == -1) {
		pw_error_set(err, "%s", s->err.msg);
		return -1;
	}
	return 0;
}

/* Why the document cannot end in the current state. */
static int
eof_fail(struct pw_scan *s)
{
	const char *what;

	switch (s->state) {
	case ST_START:
		return fail(s, NULL, "empty file: no JSON value");
	case ST_BOM1:
	case ST_BOM2:
		return json_fail(s, NULL, 1, 1, "unexpected character 0xEF");
	case ST_VALUE:
		if (s->depth == 0)
			return fail(s, NULL, "empty file: no JSON value");
		what = "no value";
		break;
	case ST_STRING:
	case ST_STR_ESC:
	case ST_STR_HEX:
		what = "unterminated string";
		break;
	case ST_STR_UTF8:
		return utf8_fail(s, NULL, s->line, s->col - 1, s->utf_lead);
	case ST_NUM_MINUS:
	case ST_NUM_DOT:
	case ST_NUM_EXP:
	case ST_NUM_EXP_SIGN:
		what = "incomplete number";
		break;
	case ST_LITERAL:
		what = "incomplete literal";
		break;
	default:
		what = s->in_object ? "unclosed object" : "unclosed array";
		break;
	}
	return json_fail(s, NULL, s->line, s->col, "unexpected end of file: %s",
	    what);
}

/* End of input: only a complete top-level value may be behind us. */
int
pw_scan_finish(struct pw_scan *s, struct pw_error *err)
{
	if (s->state == ST_END) {
		s->finished = 1;
		return 0;
	}
	if (s->state != ST_FAILED)
		(void)eof_fail(s);
	pw_error_set(err, "%s", s->err.msg);
	return -1;
}

size_t
pw_scan_held(const struct pw_scan *s)
{
	return s->key.cap + s->val.cap + s->stack_size;
}

size_t
pw_scan_records(const struct pw_scan *s)
{
	return s->nrecords;
}

unsigned long
pw_scan_line(const struct pw_scan *s)
{
	return s->line;
}

unsigned long
pw_scan_column(const struct pw_scan *s)
{
	return s->col;
}
