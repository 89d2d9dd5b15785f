/*
 * jtree against jansson (header-only, for tests/unit/test_jtree.c and
 * tests/fuzz/fuzz_jtree.c): the record path used json_loadb(JSON_DECODE_ANY
 * | JSON_ALLOW_NUL) before jtree, and jtree refuses a key that comes twice
 * in an object, as JSON_REJECT_DUPLICATES does; so with the three flags
 * both must accept the same inputs, give the same values (types, int64
 * values, doubles bit for bit, strings byte for byte, objects' members in
 * jansson's iteration order, which is the file's), and fail with the same
 * text at the same position.  One text differs: jansson's "duplicate
 * object key" does not name the key, jtree's does (jvj_same_error()).
 */
#ifndef PW_TEST_JTREE_VS_JANSSON_H
#define PW_TEST_JTREE_VS_JANSSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "portada/jtree.h"

/* Same value?  On a difference, say where in why. */
static bool
jvj_same(const json_t *j, const struct pw_jval *v, char *why, size_t n)
{
	switch (json_typeof(j)) {
	case JSON_NULL:
		return v->type == PW_JNULL;
	case JSON_TRUE:
		return v->type == PW_JTRUE;
	case JSON_FALSE:
		return v->type == PW_JFALSE;
	case JSON_INTEGER:
		if (v->type != PW_JINT || v->u.i != json_integer_value(j)) {
			snprintf(why, n, "integer %lld", (long long)json_integer_value(j));
			return false;
		}
		return true;
	case JSON_REAL: {
		double d = json_real_value(j);

		if (v->type != PW_JREAL || memcmp(&d, &v->u.d, sizeof d) != 0) {
			snprintf(why, n, "real %.17g", d);
			return false;
		}
		return true;
	}
	case JSON_STRING:
		if (v->type != PW_JSTRING || v->u.s.n != json_string_length(j) ||
		    memcmp(v->u.s.p, json_string_value(j), v->u.s.n) != 0) {
			snprintf(why, n, "string \"%s\"", json_string_value(j));
			return false;
		}
		return true;
	case JSON_ARRAY: {
		const struct pw_jval *x = pw_jval_first(v);

		if (v->type != PW_JARRAY || v->u.c.n != json_array_size(j)) {
			snprintf(why, n, "array of %zu", json_array_size(j));
			return false;
		}
		for (size_t i = 0; i < json_array_size(j); i++, x = pw_jval_next(x))
			if (x->key != NULL || !jvj_same(json_array_get(j, i), x, why, n))
				return false;
		return true;
	}
	case JSON_OBJECT: {
		const struct pw_jval *m = pw_jval_first(v);
		void *it = json_object_iter((json_t *)(uintptr_t)j);
		uint32_t i = 0;

		if (v->type != PW_JOBJECT || v->u.c.n != json_object_size(j)) {
			snprintf(why, n, "object of %zu", json_object_size(j));
			return false;
		}
		for (; it != NULL; it = json_object_iter_next((json_t *)(uintptr_t)j, it)) {
			const char *k = json_object_iter_key(it);

			if (i == v->u.c.n || m->klen != strlen(k) || memcmp(m->key, k, m->klen) != 0) {
				snprintf(why, n, "key \"%s\"", k);
				return false;
			}
			if (pw_jobject_get(v, k, strlen(k)) != m ||
			    !jvj_same(json_object_iter_value(it), m, why, n))
				return false;
			i++;
			m = pw_jval_next(m);
		}
		if (i != v->u.c.n) {
			snprintf(why, n, "a member jansson does not have");
			return false;
		}
		return true;
	}
	}
	return false;
}

/*
 * The one input jansson gets wrong, which jtree does not copy: a NUL byte right
 * after a number or a word ("[1\0]", "[true\0]") is dropped, not counted in
 * positions, and the rest parsed as if it were not there (its lexer puts
 * back the byte after a token, and a put-back NUL reads as the end of its
 * one-character buffer).  jtree reports the NUL as the token it is.  No
 * JSON text has such a byte and the scanner in front of records.c refuses
 * it, so these inputs are only parsed, not compared.
 */
static bool
jvj_jansson_drops_nul(const char *data, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (data[i] == '\0' && ((data[i - 1] >= '0' && data[i - 1] <= '9') ||
		    (data[i - 1] >= 'a' && data[i - 1] <= 'z') ||
		    (data[i - 1] >= 'A' && data[i - 1] <= 'Z')))
			return true;
	return false;
}

/*
 * Same error text?  For a duplicate key only the form of jtree's (which key
 * it names is checked in test_jtree.c's duplicate_keys).
 */
static bool
jvj_same_error(const json_error_t *je, const char *text)
{
	static const char head[] = "duplicate key \"", tail[] = "\" in an object";
	size_t n = strlen(text);

	if (json_error_code(je) != json_error_duplicate_key)
		return strcmp(je->text, text) == 0;
	return strncmp(je->text, "duplicate object key", 20) == 0 &&
	    n >= strlen(head) + strlen(tail) && strncmp(text, head, strlen(head)) == 0 &&
	    strcmp(text + n - strlen(tail), tail) == 0;
}

/* Parse data with both; false with the difference in why (n bytes). */
static bool
jvj_compare(struct pw_jtree *tree, const char *data, size_t len, char *why, size_t n)
{
	struct pw_jtree_error e;
	json_error_t je;
	json_t *j;
	const struct pw_jval *v;
	char at[200] = "";
	bool ok;

	if (jvj_jansson_drops_nul(data, len)) {
		if (pw_jtree_parse(tree, data, len, &e) == NULL && e.pos > len) {
			snprintf(why, n, "error past the end: %zu", e.pos);
			return false;
		}
		return true;
	}
	j = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
	v = pw_jtree_parse(tree, data, len, &e);

	if (j == NULL) {
		unsigned long line, column;

		if (v != NULL) {
			snprintf(why, n, "jansson fails (%s) but jtree accepts", je.text);
			return false;
		}
		pw_jtree_position(data, e.pos, &line, &column);
		if (line != (unsigned long)je.line || column != (unsigned long)je.column ||
		    e.pos != (size_t)je.position || !jvj_same_error(&je, e.text)) {
			snprintf(why, n, "jansson at %d:%d (%d) '%s', jtree at %lu:%lu (%zu) '%s'",
			    je.line, je.column, je.position, je.text, line, column, e.pos, e.text);
			return false;
		}
		return true;
	}
	if (v == NULL) {
		snprintf(why, n, "jansson accepts, jtree fails at %zu: %s", e.pos, e.text);
		json_decref(j);
		return false;
	}
	ok = jvj_same(j, v, at, sizeof at);
	if (!ok)
		snprintf(why, n, "values differ at %s", at);
	json_decref(j);
	return ok;
}

#endif
