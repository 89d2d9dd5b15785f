/*
 * Tests for src/budget.c: charges by holder and kind, the peak, when the
 * budget counts as used up, and the writers' sizes it plans.
 */
#include <check.h>
#include <stdlib.h>

#include "portada/budget.h"

#define MiB ((size_t)1 << 20)

START_TEST(charges_move_by_difference)
{
	struct pw_budget b;
	size_t a = 0, c = 0;

	pw_budget_init(&b, 10 * MiB);
	pw_budget_set(&b, PW_MEM_ENCODE, &a, 3 * MiB);
	pw_budget_set(&b, PW_MEM_ENCODE, &c, 2 * MiB);
	ck_assert_uint_eq(b.by_kind[PW_MEM_ENCODE], 5 * MiB);
	pw_budget_set(&b, PW_MEM_ENCODE, &a, 1 * MiB);	/* shrinks */
	ck_assert_uint_eq(a, 1 * MiB);
	ck_assert_uint_eq(b.used, 3 * MiB);
	ck_assert_uint_eq(b.peak, 5 * MiB);
	pw_budget_set(&b, PW_MEM_ENCODE, &a, 0);
	pw_budget_set(&b, PW_MEM_ENCODE, &c, 0);
	ck_assert_uint_eq(b.used, 0);
	ck_assert_uint_eq(b.by_kind[PW_MEM_ENCODE], 0);
	ck_assert_uint_eq(b.peak, 5 * MiB);
}
END_TEST

START_TEST(full_at_limit_or_half_in_spools)
{
	struct pw_budget b;
	size_t rows = 0, rec = 0, enc = 0;

	pw_budget_init(&b, 8 * MiB);
	ck_assert(!pw_budget_full(&b));
	/* Writers may take the other half and more without stopping reads... */
	pw_budget_set(&b, PW_MEM_ENCODE, &enc, 7 * MiB);
	ck_assert(!pw_budget_full(&b));
	pw_budget_set(&b, PW_MEM_ENCODE, &enc, 8 * MiB);
	ck_assert(pw_budget_full(&b));
	pw_budget_set(&b, PW_MEM_ENCODE, &enc, 0);
	/* ...spooled rows and partial records only half of it together. */
	pw_budget_set(&b, PW_MEM_ROWS, &rows, 3 * MiB);
	ck_assert(!pw_budget_full(&b));
	pw_budget_set(&b, PW_MEM_RECORDS, &rec, 1 * MiB);
	ck_assert(pw_budget_full(&b));
	pw_budget_set(&b, PW_MEM_RECORDS, &rec, 0);
	ck_assert(!pw_budget_full(&b));
}
END_TEST

START_TEST(plan_scales_with_the_budget)
{
	struct pw_budget_plan p;

	pw_budget_plan(64 * MiB, 4, &p);
	ck_assert_uint_eq(p.shared_row_group, 8 * MiB);
	ck_assert_uint_eq(p.own_row_group, 4 * MiB);
	/* Writers: two shared and four own files take half the budget. */
	ck_assert_uint_eq(2 * p.shared_row_group + 4 * p.own_row_group, 32 * MiB);
	pw_budget_plan(4 * MiB, 4, &p);
	ck_assert_uint_eq(p.shared_row_group, 512 << 10);
	ck_assert_uint_eq(p.own_row_group, 256 << 10);
	pw_budget_plan(4 * MiB, 100, &p);	/* the floor */
	ck_assert_uint_eq(p.own_row_group, 256 << 10);
	pw_budget_plan((size_t)1 << 40, 1, &p);	/* the defaults cap */
	ck_assert_uint_eq(p.shared_row_group, 64 * MiB);
	ck_assert_uint_eq(p.own_row_group, 16 * MiB);
	pw_budget_plan(64 * MiB, 0, &p);
	ck_assert_uint_eq(p.own_row_group, 16 * MiB);
}
END_TEST

START_TEST(kind_names)
{
	ck_assert_str_eq(pw_mem_kind_name(PW_MEM_JOBS), "jobs");
	ck_assert_str_eq(pw_mem_kind_name(PW_MEM_COMMIT), "commit");
	ck_assert_str_eq(pw_mem_kind_name(PW_MEM_KINDS), "?");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("budget");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, charges_move_by_difference);
	tcase_add_test(tc, full_at_limit_or_half_in_spools);
	tcase_add_test(tc, plan_scales_with_the_budget);
	tcase_add_test(tc, kind_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
