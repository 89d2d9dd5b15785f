/*
 * jtree: one JSON value parsed into a flat tree, for the per-record hot path
 * (records.c, rows.c).  jansson allocates every value, string and hash
 * table; here a record costs no allocation once the tree has grown to the
 * largest record seen: the nodes live in one array reused by every parse,
 * strings without escapes point into the input, and the others are decoded
 * into one text buffer as large as the input.
 *
 * It accepts and rejects what jansson's json_loadb() does with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, and builds the
 * same values:
 * - RFC 8259 grammar, strict UTF-8 (no overlong forms, surrogates or code
 *   points above U+10FFFF), \u escapes with surrogate pairs; a lone
 *   surrogate is an error; \u0000 is allowed in strings but not in keys.
 * - A number without '.' or exponent is an integer (int64_t); one outside
 *   int64_t is an error ("too big integer"), as in jansson.  Any other number
 *   is a double from strtod(); one that overflows (1e400) is an error
 *   ("real number overflow"), one that underflows is 0.0 or a subnormal.
 * - A key that comes twice in one object, at any depth, is an error: which
 *   value a column gets must never be a guess (RFC 8259 leaves the meaning
 *   of duplicates open, and parsers disagree).  Keys are compared after
 *   unescaping, byte for byte ("a" and "\u0061" are the same key).  The
 *   error is reported at the second occurrence, as jansson reports it (just
 *   past the key's closing quote), but with our own text, which names the
 *   key: `duplicate key "ship_name" in an object`.
 * - Nesting deeper than max_depth containers is an error.
 * Errors carry jansson's text (" near '...'" context included) and its
 * position, as a byte count; tests/unit/test_jtree.c and
 * tests/fuzz/fuzz_jtree.c hold the two parsers to that.  Two differences,
 * on purpose: the duplicate-key text above (jansson's "duplicate object
 * key" does not say which), and jansson skips a NUL byte right after a
 * number or a word ("[1\0]" parses as [1]), a slip of its lexer; jtree
 * reports it like any other byte that cannot be there.
 *
 * Pure code: no I/O.
 */
#ifndef PORTADA_JTREE_H
#define PORTADA_JTREE_H

#include <stddef.h>
#include <stdint.h>

#include "portada/error.h"

enum pw_jtype {
	PW_JNULL,
	PW_JFALSE,
	PW_JTRUE,
	PW_JINT,
	PW_JREAL,
	PW_JSTRING,
	PW_JARRAY,
	PW_JOBJECT,
};

/*
 * A node.  Nodes are stored in document order, so a container's first
 * child is the node right after it and a node's next sibling is skip nodes
 * further.  An object's members are its child nodes, each with its key.
 */
struct pw_jval {
	uint8_t		 type;		/* enum pw_jtype */
	uint32_t	 skip;		/* nodes in this subtree, this one included */
	uint32_t	 klen;
	const char	*key;		/* object member: the key, decoded, not
					   NUL-terminated; NULL otherwise */
	union {
		struct {
			const char	*p;	/* not NUL-terminated, may hold NULs */
			size_t		 n;
		} s;
		struct {
			uint32_t	 n;	/* elements, or members (keys all distinct) */
		} c;
		int64_t		 i;
		double		 d;
	} u;
};

/* A parse error: the text and how many bytes of input it is after (as jansson counts). */
struct pw_jtree_error {
	size_t	pos;
	char	text[160];
};

#define PW_JTREE_MAX_DEPTH 2048		/* jansson's own limit */

struct pw_jtree;

struct pw_jtree *pw_jtree_create(unsigned max_depth);	/* 0: PW_JTREE_MAX_DEPTH */
void pw_jtree_destroy(struct pw_jtree *t);		/* NULL is a no-op */
/* Bytes the tree keeps between records (for the memory budget). */
size_t pw_jtree_held(const struct pw_jtree *t);

/*
 * Parse data[0..len) as one JSON value (surrounding whitespace allowed).
 * Returns the root, valid until the next parse with t and borrowing from
 * data, or NULL with *err filled.
 */
const struct pw_jval *pw_jtree_parse(struct pw_jtree *t, const char *data, size_t len,
    struct pw_jtree_error *err) PW_MUST_CHECK;

/* Line and column (both as jansson counts them: from 1, characters not bytes) of pos. */
void pw_jtree_position(const char *data, size_t pos, unsigned long *line,
    unsigned long *column);

/* The member value of obj (an object) with this key, or NULL. */
const struct pw_jval *pw_jobject_get(const struct pw_jval *obj, const char *key, size_t klen);

/* "an object", "a number", ... for messages. */
const char *pw_jval_kind_name(const struct pw_jval *v);

/*
 * Children: for (i = 0, x = pw_jval_first(v); i < v->u.c.n; i++, x = pw_jval_next(x)).
 * An object's children are its members: the value, with its key in x->key.
 */
static inline const struct pw_jval *
pw_jval_first(const struct pw_jval *v)
{
	return v + 1;
}

static inline const struct pw_jval *
pw_jval_next(const struct pw_jval *v)
{
	return v + v->skip;
}

#endif
