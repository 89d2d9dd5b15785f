/*
 * One JSON value into a flat tree (see include/portada/jtree.h).  The parser
 * is iterative: an explicit stack of open containers, so deep input costs
 * memory bounded by max_depth, not C stack.
 *
 * Duplicate keys are caught as each key is read (so the error is the first
 * one in the text, as in jansson).  Every key is hashed.  While an object
 * has fewer than DUP_TABLE_MIN keys, a 64-bit filter of their hashes tells
 * most new keys apart at once; only a key whose bits are both set already
 * is compared with the keys before it.  From DUP_TABLE_MIN keys on, the
 * object's keys go into a hash table that every open object shares
 * (entries tagged with the object's node), so an object of n keys costs
 * O(n), not O(n^2).  An object's entries are the last ones in when it
 * closes, and are taken out then (the other way round from how they went
 * in, which leaves linear probing exact); so the table holds only open
 * objects' keys, and lives with the tree, reused.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/jtree.h"

struct frame {
	uint32_t	node;		/* the container */
	uint32_t	count;		/* children so far */
	uint32_t	mark;		/* object in the table: dup_used before its keys */
	uint64_t	filter;		/* object: 2 bits of 64 per key, from key_hash() */
};

/* The keys of an object that has this many go into the table (records' objects: fewer). */
#define DUP_TABLE_MIN	32

/* A key of an object with more than DUP_TABLE_MIN keys. */
struct dup_slot {
	uint32_t	hash;		/* key_hash() of the key, for this object */
	uint32_t	obj;		/* the object's node */
	uint32_t	member;		/* the member's node, which holds the key; 0
					   (the root, never a member): an empty slot */
};

struct pw_jtree {
	struct pw_jval	*nodes;
	size_t		 nnodes, nodes_cap;
	char		*text;		/* decoded strings: never more than the input */
	size_t		 text_cap;
	struct frame	*stack;
	size_t		 stack_cap;
	unsigned	 max_depth;
	struct dup_slot	*dup;		/* open addressing, linear probing */
	uint32_t	*dup_log;	/* the full slots, in the order they filled */
	size_t		 dup_cap;	/* slots: a power of 2, or 0; the log has half */
	size_t		 dup_used;	/* full slots */
	uint64_t	 seed;		/* of key_hash() */
};

struct parser {
	struct pw_jtree		*t;
	const char		*data, *end;
	char			*out;		/* next free byte of t->text */
	struct pw_jtree_error	*err;
	const char		*cut;		/* fail_token(): where a bad number ends */
	bool			 lenient;	/* fail_token(): a bad number is a token */
};

/* Bytes a string loop must stop at: '"', '\\', controls and non-ASCII. */
static const unsigned char special[256] = {
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
};

struct pw_jtree *
pw_jtree_create(unsigned max_depth)
{
	struct pw_jtree *t = pw_xcalloc(1, sizeof *t);

	t->max_depth = max_depth ? max_depth : PW_JTREE_MAX_DEPTH;
	t->seed = (uint64_t)(uintptr_t)t * UINT64_C(0xD6E8FEB86659FD93);
	return t;
}

size_t
pw_jtree_held(const struct pw_jtree *t)
{
	return t->nodes_cap * sizeof *t->nodes + t->text_cap +
	    t->stack_cap * sizeof *t->stack + t->dup_cap * sizeof *t->dup +
	    t->dup_cap / 2 * sizeof *t->dup_log;
}

void
pw_jtree_destroy(struct pw_jtree *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->text);
	free(t->stack);
	free(t->dup);
	free(t->dup_log);
	free(t);
}

/*
 * Fail with the position at (jansson counts the bytes it has read, so at
 * is just past the byte it stopped on); like jansson, add " near '<token>'"
 * when the token read so far is at most 20 bytes, " near end of file" when
 * it is empty, and nothing when tok is NULL (its UTF-8 errors).
 */
static void PW_PRINTF(5, 6)
fail(struct parser *ps, const char *at, const char *tok, size_t toklen, const char *fmt, ...)
{
	struct pw_jtree_error *e = ps->err;
	char msg[120], near[21];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	e->pos = (size_t)(at - ps->data);
	if (tok == NULL || toklen > 20) {
		snprintf(e->text, sizeof e->text, "%s", msg);
	} else if (toklen == 0 || tok[0] == '\0') {
		/* jansson's test is for an empty C string */
		snprintf(e->text, sizeof e->text, "%s near end of file", msg);
	} else {
		memcpy(near, tok, toklen);
		near[toklen] = '\0';
		snprintf(e->text, sizeof e->text, "%s near '%s'", msg, near);
	}
}

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	UINT64_C(0x8080808080808080)

static uint64_t
load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

static const char *
skip_ws(const char *p, const char *end)
{
	/* pretty-printed records are mostly indentation: spaces 8 at a time */
	while (end - p >= 8 && load8(p) == ONES * ' ')
		p += 8;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Whether any of 8 bytes is special[] (a predicate only: not which one). */
static bool
has_special8(uint64_t w)
{
	uint64_t quote = w ^ (ONES * '"'), bslash = w ^ (ONES * '\\');

	return (((quote - ONES) & ~quote) | ((bslash - ONES) & ~bslash) |
	    ((w - ONES * 0x20) & ~w) | w) & HIGHS;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];

	if (c >= 0xC2 && c <= 0xDF) {
		if (end - p >= 2 && (p[1] & 0xC0) == 0x80)
			return 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		if (end - p >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
		    !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0))
			return 3;
	} else if (c >= 0xF0 && c <= 0xF4) {
		if (end - p >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
		    (p[3] & 0xC0) == 0x80 && !(c == 0xF0 && p[1] < 0x90) &&
		    !(c == 0xF4 && p[1] >= 0x90))
			return 4;
	}
	return 0;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* jansson decodes UTF-8 as it reads, also the byte right after a number or word. */
static bool
bad_utf8(const char *p, const char *end)
{
	return p < end && (unsigned char)*p >= 0x80 &&
	    utf8_len((const unsigned char *)p, (const unsigned char *)end) == 0;
}

/* The byte at p cannot be in an escape (jansson decodes its character first). */
static void
fail_escape(struct parser *ps, const char *q, const char *p)
{
	if (bad_utf8(p, ps->end))
		fail(ps, p, q, (size_t)(p - q), "unable to decode byte 0x%x", (unsigned char)*p);
	else
		fail(ps, p + 1, q, (size_t)(p + 1 - q), "invalid escape");
}

static char *
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/*
 * The string whose opening quote is at *pp.  Like jansson, lexical errors
 * (controls, bad escapes, bad UTF-8) are found first, at their byte; what
 * only decoding finds (lone surrogates, a NUL in a key) is reported at the
 * closing quote.
 */
static int
parse_string(struct parser *ps, const char **pp, bool is_key, const char **sp, size_t *sn)
{
	const char *q = *pp, *p = q + 1, *end = ps->end, *run = p;
	char *o = NULL;		/* decoding into t->text once an escape is met */
	char late[64];		/* a decoding error, reported at the closing quote */
	bool nul = false;

	late[0] = '\0';
	for (;;) {
		while (end - p >= 8 && !has_special8(load8(p)))
			p += 8;
		while (p < end && !special[(unsigned char)*p])
			p++;
		if (p == end) {
			fail(ps, end, q, (size_t)(end - q), "premature end of input");
			return -1;
		}
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);

			if (n == 0) {
				fail(ps, p, q, (size_t)(p - q), "unable to decode byte 0x%x", c);
				return -1;
			}
			p += n;
			continue;
		}
		if (c < 0x20) {
			if (c == '\n')
				fail(ps, p, q, (size_t)(p - q), "unexpected newline");
			else
				fail(ps, p, q, (size_t)(p - q), "control character 0x%x", c);
			return -1;
		}
		/* a backslash */
		if (o == NULL)
			o = ps->out;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p + 1 == end) {
			fail(ps, end, q, (size_t)(end - q), "invalid escape");
			return -1;
		}
		switch (p[1]) {
		case '"': case '\\': case '/':
			*o++ = p[1];
			break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			int v, v2 = -1;

			for (int i = 0; i < 4; i++) {
				if (p + 2 + i == end) {
					fail(ps, end, q, (size_t)(end - q), "invalid escape");
					return -1;
				}
				if (!is_hex(p[2 + i])) {
					fail_escape(ps, q, p + 2 + i);
					return -1;
				}
			}
			v = hex4(p + 2);
			p += 6;
			if (v >= 0xD800 && v <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && (v2 = hex4(p + 2)) >= 0) {
				p += 6;
				if (v2 >= 0xDC00 && v2 <= 0xDFFF) {
					o = put_utf8(o, ((uint32_t)(v - 0xD800) << 10) +
					    (uint32_t)(v2 - 0xDC00) + 0x10000);
				} else if (late[0] == '\0') {
					snprintf(late, sizeof late, "invalid Unicode '\\u%04X\\u%04X'",
					    (unsigned)v, (unsigned)v2);
				}
			} else if (v >= 0xD800 && v <= 0xDFFF) {
				/* the next escape, if any, is checked by the loop */
				if (late[0] == '\0')
					snprintf(late, sizeof late, "invalid Unicode '\\u%04X'",
					    (unsigned)v);
			} else {
				nul |= v == 0;
				o = put_utf8(o, (uint32_t)v);
			}
			run = p;
			continue;
		}
		default:
			fail_escape(ps, q, p + 1);
			return -1;
		}
		p += 2;
		run = p;
	}
	/* p is at the closing quote */
	if (late[0] != '\0') {
		fail(ps, p + 1, q, (size_t)(p + 1 - q), "%s", late);
		return -1;
	}
	if (o == NULL) {
		*sp = q + 1;	/* no escape: borrowed from the input */
		*sn = (size_t)(p - q - 1);
	} else {
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		*sp = ps->out;
		*sn = (size_t)(o - ps->out);
		ps->out = o;
	}
	if (is_key && nul) {
		fail(ps, p + 1, q, (size_t)(p + 1 - q), "NUL byte in object key not supported");
		return -1;
	}
	*pp = p + 1;
	return 0;
}

/* A number at *pp; the grammar is RFC 8259's, the values jansson's. */
/* A number cut at p: jansson decodes the character there before it gives up. */
static int
number_fail(struct parser *ps, const char *q, const char *p)
{
	if (bad_utf8(p, ps->end)) {
		fail(ps, p, q, (size_t)(p - q), "unable to decode byte 0x%x", (unsigned char)*p);
		return -1;
	}
	if (ps->lenient) {
		ps->cut = p;
		return 1;
	}
	fail(ps, p, q, (size_t)(p - q), "invalid token");
	return -1;
}

static int
parse_number(struct parser *ps, const char **pp, struct pw_jval *v)
{
	const char *q = *pp, *p = q, *end = ps->end;
	bool real = false;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9') {
			return number_fail(ps, q, p);
		}
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return number_fail(ps, q, p);
	}

	if (p < end && *p == '.') {
		real = true;
		p++;
		if (p == end || *p < '0' || *p > '9') {
			return number_fail(ps, q, p);
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9') {
			return number_fail(ps, q, p);
		}
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (bad_utf8(p, end)) {
		fail(ps, p, q, (size_t)(p - q), "unable to decode byte 0x%x", (unsigned char)*p);
		return -1;
	}
	*pp = p;
	if (!real) {
		bool neg = *q == '-';
		uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

		for (const char *d = q + neg; d < p; d++) {
			unsigned digit = (unsigned)(*d - '0');

			if (u > (lim - digit) / 10) {
				fail(ps, p, q, (size_t)(p - q), neg ? "too big negative integer" :
				    "too big integer");
				return -1;
			}
			u = u * 10 + digit;
		}
		v->type = PW_JINT;
		v->u.i = neg ? (int64_t)(0 - u) : (int64_t)u;
		return 0;
	}
	{
		char small[64], *s = small;
		size_t n = (size_t)(p - q);
		double d;

		if (n >= sizeof small)
			s = pw_xmalloc(n + 1);
		memcpy(s, q, n);
		s[n] = '\0';
		errno = 0;
		d = strtod(s, NULL);
		if (s != small)
			free(s);
		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
			fail(ps, p, q, n, "real number overflow");
			return -1;
		}
		v->type = PW_JREAL;
		v->u.d = d;
	}
	return 0;
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * true, false or null at *pp, or the error jansson gives for what is there
 * instead: it reads a whole token first (a run of letters, one character).
 */
static int
parse_literal(struct parser *ps, const char **pp, struct pw_jval *v)
{
	const char *p = *pp, *q = p, *end = ps->end;
	unsigned char c = (unsigned char)*p;
	size_t n;

	if (is_alpha(*p)) {
		while (q < end && is_alpha(*q))
			q++;
		n = (size_t)(q - p);
		if (bad_utf8(q, end)) {
			fail(ps, q, p, n, "unable to decode byte 0x%x", (unsigned char)*q);
			return -1;
		}
		if (n == 4 && memcmp(p, "true", 4) == 0)
			v->type = PW_JTRUE;
		else if (n == 5 && memcmp(p, "false", 5) == 0)
			v->type = PW_JFALSE;
		else if (n == 4 && memcmp(p, "null", 4) == 0)
			v->type = PW_JNULL;
		else {
			fail(ps, q, p, n, "invalid token");
			return -1;
		}
		*pp = q;
		return 0;
	}
	if (strchr("{}[]:,", c) != NULL && c != '\0') {
		fail(ps, p + 1, p, 1, "unexpected token");
	} else if (c >= 0x80) {
		if ((n = utf8_len((const unsigned char *)p, (const unsigned char *)end)) == 0)
			fail(ps, p, NULL, 0, "unable to decode byte 0x%x", c);
		else
			fail(ps, p + n, p, n, "invalid token");
	} else {
		fail(ps, p + 1, p, 1, "invalid token");
	}
	return -1;
}

/*
 * A token at p that the grammar does not allow there: like jansson, read
 * it whole first (its own errors win) and report msg at its end.
 */
static void
fail_token(struct parser *ps, const char *p, const char *msg)
{
	const char *q = p, *end = ps->end, *s;
	struct pw_jval tmp;
	size_t n;

	if (p == end) {
		fail(ps, p, p, 0, "%s", msg);
		return;
	}
	if (*p == '"') {
		if (parse_string(ps, &q, false, &s, &n) == -1)
			return;
	} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
		int r;

		ps->lenient = true;
		r = parse_number(ps, &q, &tmp);
		ps->lenient = false;
		if (r == -1)
			return;
		if (r == 1)
			q = ps->cut;
	} else if (is_alpha(*p)) {
		while (q < end && is_alpha(*q))
			q++;
		if (bad_utf8(q, end)) {
			fail(ps, q, p, (size_t)(q - p), "unable to decode byte 0x%x",
			    (unsigned char)*q);
			return;
		}
	} else if ((unsigned char)*p >= 0x80) {
		if ((n = utf8_len((const unsigned char *)p, (const unsigned char *)end)) == 0) {
			fail(ps, p, NULL, 0, "unable to decode byte 0x%x", (unsigned char)*p);
			return;
		}
		q += n;
	} else {
		q++;
	}
	fail(ps, q, p, (size_t)(q - p), "%s", msg);
}

static uint32_t
new_node(struct pw_jtree *t)
{
	if (t->nnodes == t->nodes_cap) {
		t->nodes_cap = t->nodes_cap ? t->nodes_cap * 2 : 256;
		t->nodes = pw_xrealloc(t->nodes, t->nodes_cap * sizeof *t->nodes);
	}
	return (uint32_t)t->nnodes++;
}

static uint32_t
load4(const char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

/*
 * 8 bytes at a time (the last 8 overlapping, short keys in one word),
 * seeded per tree (from its address, which ASLR varies) so that an upload
 * cannot be made of keys that all collide.
 */
static inline uint32_t
key_hash(const char *k, uint32_t n, uint64_t seed)
{
	const char *end = k + n;
	uint64_t h = seed ^ n, w;

	if (n >= 8) {
		for (; end - k > 8; k += 8)
			h = (h ^ load8(k)) * UINT64_C(0x9E3779B97F4A7C15);
		w = load8(end - 8);
	} else if (n >= 4) {
		w = load4(k) | (uint64_t)load4(end - 4) << 32;
	} else if (n > 0) {
		w = (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[n / 2] << 8 |
		    (uint64_t)(unsigned char)k[n - 1] << 16;
	} else {
		w = 0;
	}
	h = (h ^ w) * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t)(h >> 32);	/* the bits that every input bit reaches */
}

/* Where the key of hash h of object obj starts its probe. */
static inline size_t
dup_slot_of(uint32_t h, uint32_t obj, size_t mask)
{
	return (h ^ obj * UINT32_C(0x9E3779B9)) & mask;
}

/* Twice the slots; the entries go in again in the order they came. */
static void
dup_grow(struct pw_jtree *t)
{
	size_t cap = t->dup_cap ? t->dup_cap * 2 : 128, mask = cap - 1;
	struct dup_slot *d = pw_xcalloc(cap, sizeof *d);

	t->dup_log = pw_xrealloc(t->dup_log, cap / 2 * sizeof *t->dup_log);
	for (size_t i = 0; i < t->dup_used; i++) {
		const struct dup_slot *old = &t->dup[t->dup_log[i]];
		size_t h;

		for (h = dup_slot_of(old->hash, old->obj, mask); d[h].member != 0;
		    h = (h + 1) & mask)
			;
		d[h] = *old;
		t->dup_log[i] = (uint32_t)h;
	}
	free(t->dup);
	t->dup = d;
	t->dup_cap = cap;
}

/* Empty the slots filled after the first mark ones (last in, first out). */
static void
dup_pop(struct pw_jtree *t, size_t mark)
{
	while (t->dup_used > mark)
		t->dup[t->dup_log[--t->dup_used]].member = 0;
}

/*
 * Whether object obj already has this key (of hash h) in the table; if
 * not, note that member (a node that exists by the next call for obj) has
 * it.
 */
static bool
dup_add(struct pw_jtree *t, uint32_t obj, uint32_t member, uint32_t h, const char *key,
    uint32_t klen)
{
	size_t mask, i;

	if ((t->dup_used + 1) * 2 > t->dup_cap)
		dup_grow(t);
	mask = t->dup_cap - 1;
	for (i = dup_slot_of(h, obj, mask); t->dup[i].member != 0; i = (i + 1) & mask) {
		const struct dup_slot *d = &t->dup[i];
		const struct pw_jval *m = &t->nodes[d->member];

		if (d->hash == h && d->obj == obj && m->klen == klen &&
		    memcmp(m->key, key, klen) == 0)
			return true;
	}
	t->dup[i] = (struct dup_slot){ h, obj, member };
	t->dup_log[t->dup_used++] = (uint32_t)i;
	return false;
}

/* key_repeats() when the filter cannot tell. */
static bool
key_repeats_slow(struct pw_jtree *t, struct frame *f, uint32_t h, const char *key,
    uint32_t klen)
{
	const struct pw_jval *x = &t->nodes[f->node] + 1;

	if (f->count < DUP_TABLE_MIN) {
		for (uint32_t i = 0; i < f->count; i++, x += x->skip)
			if (x->klen == klen && memcmp(x->key, key, klen) == 0)
				return true;
		return false;
	}
	if (f->count == DUP_TABLE_MIN) {
		/* into the table from now on: first the keys so far (all different) */
		f->mark = (uint32_t)t->dup_used;
		for (uint32_t i = 0; i < f->count; i++, x += x->skip)
			(void)dup_add(t, f->node, (uint32_t)(x - t->nodes),
			    key_hash(x->key, x->klen, t->seed), x->key, x->klen);
	}
	return dup_add(t, f->node, (uint32_t)t->nnodes, h, key, klen);
}

/*
 * Whether the object of f has this key already (the key of its next
 * member).  Most keys are told apart by the filter alone: two bits of their
 * hash, of 64, that no key before set both of.
 */
static inline bool
key_repeats(struct pw_jtree *t, struct frame *f, const char *key, uint32_t klen)
{
	uint32_t h = key_hash(key, klen, t->seed);
	uint64_t bits = UINT64_C(1) << (h & 63) | UINT64_C(1) << (h >> 6 & 63);

	if (f->count < DUP_TABLE_MIN && (f->filter & bits) != bits) {
		f->filter |= bits;
		return false;
	}
	return key_repeats_slow(t, f, h, key, klen);
}

/*
 * A key that came before in its object; at is just past its closing quote
 * (where jansson reports it).  The key is shown with JSON escapes, cut to
 * about 80 bytes (on a character boundary: messages must be UTF-8).
 */
static void
fail_duplicate(struct parser *ps, const char *at, const char *key, size_t klen)
{
	char shown[84];
	size_t n = 0, i = 0;

	while (i < klen) {
		unsigned char c = (unsigned char)key[i];
		const char *out = key + i;
		size_t step = 1, on = 1;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out = esc;
			on = 2;
		} else if (c < 0x20 || c == 0x7F) {
			on = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
			out = esc;
		} else if (c >= 0x80) {
			/* keys are checked UTF-8: a whole character */
			step = on = utf8_len((const unsigned char *)key + i,
			    (const unsigned char *)key + klen);
			if (step == 0)
				step = on = 1;
		}
		if (n + on > sizeof shown - 4) {
			memcpy(shown + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(shown + n, out, on);
		n += on;
		i += step;
	}
	shown[n] = '\0';
	fail(ps, at, NULL, 0, "duplicate key \"%s\" in an object", shown);
}

const struct pw_jval *
pw_jtree_parse(struct pw_jtree *t, const char *data, size_t len, struct pw_jtree_error *err)
{
	struct parser ps = { t, data, data + len, NULL, err, NULL, false };
	const char *p = data, *end = data + len, *key = NULL;
	size_t depth = 0, klen = 0;
	struct pw_jval *v;
	uint32_t id;

	if (len >= UINT32_MAX) {
		fail(&ps, data, NULL, 0, "a record of 4 GiB or more is not supported");
		return NULL;
	}
	if (len + 1 > t->text_cap) {
		free(t->text);
		t->text_cap = len + 1;
		t->text = pw_xmalloc(t->text_cap);
	}
	ps.out = t->text;
	t->nnodes = 0;
	dup_pop(t, 0);		/* what a failed parse left */

	for (;;) {
		/* a value at p */
		p = skip_ws(p, end);
		id = new_node(t);
		v = &t->nodes[id];
		v->skip = 1;
		v->key = key;
		v->klen = (uint32_t)klen;
		key = NULL;
		if (depth > 0)
			t->stack[depth - 1].count++;
		if (p == end) {
			/* jansson's array loop stops at the end before it wants a value */
			fail(&ps, p, p, 0, depth > 0 && t->nodes[t->stack[depth - 1].node].type ==
			    PW_JARRAY ? "']' expected" : "unexpected token");
			return NULL;
		}
		switch (*p) {
		case '{':
		case '[':
			if (depth + 1 > t->max_depth) {
				fail(&ps, p + 1, p, 1, "maximum parsing depth reached");
				return NULL;
			}
			if (depth == t->stack_cap) {
				t->stack_cap = t->stack_cap ? t->stack_cap * 2 : 16;
				t->stack = pw_xrealloc(t->stack, t->stack_cap * sizeof *t->stack);
			}
			v->type = *p == '{' ? PW_JOBJECT : PW_JARRAY;
			t->stack[depth].node = id;
			t->stack[depth].count = 0;
			t->stack[depth].filter = 0;
			depth++;
			p = skip_ws(p + 1, end);
			if (p < end && *p == (v->type == PW_JOBJECT ? '}' : ']'))
				goto close;
			if (v->type == PW_JARRAY)
				continue;
			goto member;
		case '"':
			v->type = PW_JSTRING;
			if (parse_string(&ps, &p, false, &v->u.s.p, &v->u.s.n) == -1)
				return NULL;
			break;
		default:
			if (*p == '-' || (*p >= '0' && *p <= '9')) {
				if (parse_number(&ps, &p, v) == -1)
					return NULL;
				break;
			}
			if (parse_literal(&ps, &p, v) == -1)
				return NULL;
			break;
		}

		/* after a value: ',' or the end of its container, or of the input */
		for (;;) {
			struct frame *f;

			p = skip_ws(p, end);
			if (depth == 0) {
				if (p != end) {
					fail_token(&ps, p, "end of file expected");
					return NULL;
				}
				return &t->nodes[0];
			}
			f = &t->stack[depth - 1];
			v = &t->nodes[f->node];
			if (p == end) {
				fail(&ps, p, p, 0, v->type == PW_JOBJECT ? "'}' expected" :
				    "']' expected");
				return NULL;
			}
			if (*p == ',') {
				p = skip_ws(p + 1, end);
				if (v->type == PW_JARRAY)
					break;
				goto member;
			}
			if (*p != (v->type == PW_JOBJECT ? '}' : ']')) {
				fail_token(&ps, p, v->type == PW_JOBJECT ? "'}' expected" :
				    "']' expected");
				return NULL;
			}
close:
			/* p is at the closing bracket of the innermost container */
			f = &t->stack[depth - 1];
			v = &t->nodes[f->node];
			v->skip = (uint32_t)(t->nnodes - f->node);
			v->u.c.n = f->count;
			if (v->type == PW_JOBJECT && f->count > DUP_TABLE_MIN)
				dup_pop(t, f->mark);
			depth--;
			p++;
		}
		continue;
member:
		/* p (after whitespace) is where an object's next key must be */
		if (p == end || *p != '"') {
			fail_token(&ps, p, "string or '}' expected");
			return NULL;
		}
		if (parse_string(&ps, &p, true, &key, &klen) == -1)
			return NULL;
		if (key_repeats(t, &t->stack[depth - 1], key, (uint32_t)klen)) {
			fail_duplicate(&ps, p, key, klen);
			return NULL;
		}
		p = skip_ws(p, end);
		if (p == end || *p != ':') {
			fail_token(&ps, p, "':' expected");
			return NULL;
		}
		p++;
	}
}

void
pw_jtree_position(const char *data, size_t pos, unsigned long *line, unsigned long *column)
{
	unsigned long l = 1, c = 0;

	for (size_t i = 0; i < pos; i++) {
		unsigned char b = (unsigned char)data[i];

		if (b == '\n') {
			l++;
			c = 0;
		} else if ((b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}

const struct pw_jval *
pw_jobject_get(const struct pw_jval *obj, const char *key, size_t klen)
{
	const struct pw_jval *m = obj + 1;

	for (uint32_t i = 0; i < obj->u.c.n; i++, m += m->skip)
		if (m->klen == klen && memcmp(m->key, key, klen) == 0)
			return m;
	return NULL;
}

const char *
pw_jval_kind_name(const struct pw_jval *v)
{
	switch (v->type) {
	case PW_JOBJECT:
		return "an object";
	case PW_JARRAY:
		return "an array";
	case PW_JSTRING:
		return "a string";
	case PW_JINT:
	case PW_JREAL:
		return "a number";
	case PW_JTRUE:
	case PW_JFALSE:
		return "a boolean";
	default:
		return "null";
	}
}
