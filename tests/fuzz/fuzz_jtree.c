/*
 * A libFuzzer target for src/jtree.c: every input is parsed by jtree and by
 * jansson (tests/common/jtree_vs_jansson.h), which must agree on values or
 * on the error's text and position; an accepted value is also written out
 * as the rows code writes a field (pw_row_text), and an entry record goes
 * through pw_record_parse() (nothing may crash or leak).  fuzz_jtree_replay
 * runs tests/fuzz/corpus/jtree as the unit test 'fuzz-jtree-corpus'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "portada/buf.h"
#include "portada/records.h"
#include "portada/rows.h"
#include "../common/jtree_vs_jansson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_jtree *tree;
	const char *text = (const char *)data;
	struct pw_jtree_error e;
	const struct pw_jval *v;
	struct pw_scan_record rec;
	struct pw_record r;
	struct pw_error err;
	char why[600];

	if (tree == NULL)
		tree = pw_jtree_create(0);	/* reused, as the worker reuses its tree */
	if (!jvj_compare(tree, text, size, why, sizeof why)) {
		fprintf(stderr, "fuzz oracle failed: jtree vs jansson: %s\n", why);
		abort();
	}
	if ((v = pw_jtree_parse(tree, text, size, &e)) != NULL) {
		struct pw_buf b;

		pw_buf_init(&b, SIZE_MAX / 4);
		pw_row_text(v, &b);
		pw_buf_finish(&b);
	}
	memset(&rec, 0, sizeof rec);
	rec.data = text;
	rec.len = size;
	rec.line = rec.value_line = 1;
	rec.column = rec.value_column = 1;
	if (pw_record_parse(PW_FILE_ENTRY, &rec, tree, &r, &err) == 0)
		pw_record_finish(&r);
	return 0;
}
