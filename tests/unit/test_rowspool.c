/*
 * Tests for src/rowspool.c: rows of every value kind come back exactly as
 * they went in, a row over the limit leaves the spool as it was, and a
 * failing callback stops the replay.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/rowspool.h"

struct collect {
	size_t		 rows;
	struct pw_pq_value got[8][6];
	char		 text[8][6][64];
	size_t		 nitems[8][6];
	char		 items[8][6][4][16];
	bool		 item_null[8][6][4];
	size_t		 fail_at;	/* 0: never */
};

static int
collect(void *ctx, const struct pw_pq_value *row, struct pw_error *err)
{
	struct collect *c = ctx;

	if (c->fail_at != 0 && c->rows + 1 == c->fail_at) {
		pw_error_set(err, "stop at row %zu", c->rows + 1);
		return -1;
	}
	for (size_t i = 0; i < 6; i++) {
		c->got[c->rows][i] = row[i];
		if (row[i].kind == PW_PQ_V_STRING)
			snprintf(c->text[c->rows][i], 64, "%.*s", (int)row[i].u.s.n, row[i].u.s.p);
		if (row[i].kind == PW_PQ_V_LIST) {
			c->nitems[c->rows][i] = row[i].u.list.n;
			for (size_t k = 0; k < row[i].u.list.n && k < 4; k++) {
				const struct pw_pq_str *it = &row[i].u.list.items[k];

				c->item_null[c->rows][i][k] = it->p == NULL;
				if (it->p != NULL)
					snprintf(c->items[c->rows][i][k], 16, "%.*s", (int)it->n, it->p);
			}
		}
	}
	c->rows++;
	return 0;
}

START_TEST(round_trip)
{
	static const struct pw_pq_str voices[] = { { "Cádiz", 6 }, { NULL, 0 }, { "", 0 } };
	struct pw_pq_value r1[6] = {
		pw_pq_string("hello", 5), pw_pq_int(-9223372036854775807LL - 1),
		pw_pq_double(-0.0), pw_pq_bool(true), pw_pq_list(voices, 3), pw_pq_null(),
	};
	struct pw_pq_value r2[6] = {
		pw_pq_string("", 0), pw_pq_int(INT64_MAX), pw_pq_double(NAN),
		pw_pq_bool(false), pw_pq_list(NULL, 0), pw_pq_string("x", 1),
	};
	struct pw_rowspool sp;
	struct collect *c = calloc(1, sizeof *c);
	struct pw_error err;

	pw_rowspool_init(&sp, 6, 1 << 20);
	ck_assert_int_eq(pw_rowspool_add(&sp, r1), 0);
	ck_assert_int_eq(pw_rowspool_add(&sp, r2), 0);
	ck_assert_uint_eq(sp.rows, 2);
	ck_assert_int_eq(pw_rowspool_replay(&sp, collect, c, &err), 0);
	ck_assert_uint_eq(c->rows, 2);
	ck_assert_str_eq(c->text[0][0], "hello");
	ck_assert(c->got[0][1].u.i == INT64_MIN);
	ck_assert(c->got[0][2].kind == PW_PQ_V_DOUBLE && c->got[0][2].u.d == 0 &&
	    signbit(c->got[0][2].u.d));
	ck_assert(c->got[0][3].kind == PW_PQ_V_BOOL && c->got[0][3].u.b);
	ck_assert_uint_eq(c->nitems[0][4], 3);
	ck_assert_str_eq(c->items[0][4][0], "Cádiz");
	ck_assert(c->item_null[0][4][1]);
	ck_assert(!c->item_null[0][4][2] && c->items[0][4][2][0] == '\0');
	ck_assert(c->got[0][5].kind == PW_PQ_V_NULL);
	ck_assert(c->got[1][0].kind == PW_PQ_V_STRING && c->got[1][0].u.s.n == 0);
	ck_assert(c->got[1][1].u.i == INT64_MAX);
	ck_assert(isnan(c->got[1][2].u.d));
	ck_assert(!c->got[1][3].u.b);
	ck_assert(c->got[1][4].kind == PW_PQ_V_LIST && c->nitems[1][4] == 0);
	ck_assert_str_eq(c->text[1][5], "x");

	/* Reset keeps nothing. */
	pw_rowspool_reset(&sp);
	memset(c, 0, sizeof *c);
	ck_assert_int_eq(pw_rowspool_replay(&sp, collect, c, &err), 0);
	ck_assert_uint_eq(c->rows, 0);
	pw_rowspool_finish(&sp);
	free(c);
}
END_TEST

START_TEST(limit_and_stop)
{
	char big[300];
	struct pw_pq_value row[6];
	struct pw_rowspool sp;
	struct collect *c = calloc(1, sizeof *c);
	struct pw_error err;
	size_t before;

	memset(big, 'a', sizeof big);
	for (size_t i = 0; i < 6; i++)
		row[i] = pw_pq_int((int64_t)i);
	pw_rowspool_init(&sp, 6, 256);
	ck_assert_int_eq(pw_rowspool_add(&sp, row), 0);
	ck_assert_uint_eq(pw_rowspool_bytes(&sp), 6 * 9);
	before = pw_rowspool_bytes(&sp);
	/* The 5th value passes the limit: the first four are taken back. */
	row[4] = pw_pq_string(big, sizeof big);
	ck_assert_int_eq(pw_rowspool_add(&sp, row), -1);
	ck_assert_uint_eq(pw_rowspool_bytes(&sp), before);
	ck_assert_uint_eq(sp.rows, 1);
	row[4] = pw_pq_int(4);
	ck_assert_int_eq(pw_rowspool_add(&sp, row), 0);
	ck_assert_int_eq(pw_rowspool_add(&sp, row), 0);
	c->fail_at = 2;
	ck_assert_int_eq(pw_rowspool_replay(&sp, collect, c, &err), -1);
	ck_assert_str_eq(err.msg, "stop at row 2");
	ck_assert_uint_eq(c->rows, 1);
	pw_rowspool_finish(&sp);
	free(c);
}
END_TEST

static Suite *
rowspool_suite(void)
{
	Suite *s = suite_create("rowspool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, limit_and_stop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rowspool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
