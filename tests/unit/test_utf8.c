/*
 * Tests for src/utf8.c: strict checking against the RFC 3629 table,
 * cutting at character boundaries, and successors that bound every
 * string with a given prefix.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portada/utf8.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

START_TEST(valid)
{
	ck_assert_uint_eq(pw_utf8_check(S("")), 0);
	ck_assert_uint_eq(pw_utf8_check(S("plain ascii, long enough for words")), 34);
	ck_assert_uint_eq(pw_utf8_check(S("caf\xc3\xa9")), 5);			/* é */
	ck_assert_uint_eq(pw_utf8_check(S("\xe2\x82\xac")), 3);			/* € */
	ck_assert_uint_eq(pw_utf8_check(S("\xf0\x9f\x9a\xa2")), 4);		/* 🚢 */
	ck_assert_uint_eq(pw_utf8_check(S("\xed\x9f\xbf")), 3);			/* U+D7FF */
	ck_assert_uint_eq(pw_utf8_check(S("\xee\x80\x80")), 3);			/* U+E000 */
	ck_assert_uint_eq(pw_utf8_check(S("\xf4\x8f\xbf\xbf")), 4);		/* U+10FFFF */
	ck_assert_uint_eq(pw_utf8_check(S("\xc2\x80")), 2);			/* U+0080 */
	ck_assert_uint_eq(pw_utf8_check("a\0b", 3), 3);				/* NUL is a character */
}
END_TEST

START_TEST(invalid)
{
	ck_assert_uint_eq(pw_utf8_check(S("abc\x80")), 3);		/* lone continuation */
	ck_assert_uint_eq(pw_utf8_check(S("\xc0\xaf")), 0);		/* overlong '/' */
	ck_assert_uint_eq(pw_utf8_check(S("\xc1\xbf")), 0);
	ck_assert_uint_eq(pw_utf8_check(S("\xe0\x9f\xbf")), 0);		/* overlong 3-byte */
	ck_assert_uint_eq(pw_utf8_check(S("\xf0\x8f\xbf\xbf")), 0);	/* overlong 4-byte */
	ck_assert_uint_eq(pw_utf8_check(S("x\xed\xa0\x80")), 1);	/* surrogate U+D800 */
	ck_assert_uint_eq(pw_utf8_check(S("\xed\xbf\xbf")), 0);		/* surrogate U+DFFF */
	ck_assert_uint_eq(pw_utf8_check(S("\xf4\x90\x80\x80")), 0);	/* U+110000 */
	ck_assert_uint_eq(pw_utf8_check(S("\xf5\x80\x80\x80")), 0);
	ck_assert_uint_eq(pw_utf8_check(S("\xff")), 0);
	ck_assert_uint_eq(pw_utf8_check(S("ab\xc3")), 2);		/* truncated */
	ck_assert_uint_eq(pw_utf8_check(S("ab\xe2\x82")), 2);
	ck_assert_uint_eq(pw_utf8_check(S("ab\xf0\x9f\x9a")), 2);
	ck_assert_uint_eq(pw_utf8_check(S("\xc3(")), 0);		/* bad continuation */
	ck_assert_uint_eq(pw_utf8_check(S("12345678\xe2\x28\xa1")), 8);	/* after the fast path */
}
END_TEST

/* Every 1-, 2- and 3-byte sequence against a decoder written from the
 * definition: valid iff it decodes to a scalar value in its shortest form. */
START_TEST(exhaustive_short)
{
	for (uint32_t v = 0xE00000; v < 0xF00000; v++) {	/* 3-byte leads */
		unsigned char b[3] = { (unsigned char)(v >> 16), (unsigned char)(v >> 8),
		    (unsigned char)v };
		bool ok;
		uint32_t cp = (uint32_t)(b[0] & 0x0F) << 12 | (uint32_t)(b[1] & 0x3F) << 6 |
		    (b[2] & 0x3F);
		ok = (b[1] & 0xC0) == 0x80 && (b[2] & 0xC0) == 0x80 && cp >= 0x800 &&
		    !(cp >= 0xD800 && cp <= 0xDFFF);
		ck_assert_msg((pw_utf8_check((const char *)b, 3) == 3) == ok,
		    "%02x %02x %02x", b[0], b[1], b[2]);
	}
	for (uint32_t v = 0; v < (1u << 16); v++) {
		unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
		bool ok;

		if (b[0] < 0xC0 || b[0] >= 0xE0)
			continue;
		ok = (b[1] & 0xC0) == 0x80 && b[0] >= 0xC2;
		ck_assert_msg((pw_utf8_check((const char *)b, 2) == 2) == ok, "%02x %02x",
		    b[0], b[1]);
	}
}
END_TEST

START_TEST(cut)
{
	const char *s = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\xa2z";	/* a b é € 🚢 z */

	ck_assert_uint_eq(pw_utf8_cut(s, 12, 64), 12);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 12), 12);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 11), 11);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 10), 7);	/* not inside the ship */
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 8), 7);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 7), 7);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 6), 4);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 3), 2);
	ck_assert_uint_eq(pw_utf8_cut(s, 12, 0), 0);
}
END_TEST

static void
succ(const char *in, size_t n, const char *want, size_t wn)
{
	char out[16];
	size_t got = pw_utf8_successor(in, n, out);

	ck_assert_uint_eq(got, wn);
	ck_assert(memcmp(out, want, wn) == 0);
}

START_TEST(successor)
{
	succ(S("abc"), S("abd"));
	succ(S("a\x7f"), S("a\xc2\x80"));			/* U+007F -> U+0080 */
	succ(S("\xdf\xbf"), S("\xe0\xa0\x80"));			/* U+07FF -> U+0800 */
	succ(S("\xed\x9f\xbf"), S("\xee\x80\x80"));		/* skips the surrogates */
	succ(S("\xef\xbf\xbf"), S("\xf0\x90\x80\x80"));		/* U+FFFF -> U+10000 */
	succ(S("x\xf4\x8f\xbf\xbf"), S("y"));			/* U+10FFFF is dropped */
	succ(S("\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf"), "", 0);	/* no bound at all */
	succ("", 0, "", 0);
}
END_TEST

/* The successor of a prefix is above every string that starts with it. */
START_TEST(successor_bounds)
{
	static const char *const tails[] = { "", "\xf4\x8f\xbf\xbf", "zzzz", "\xc3\xbf" };
	static const char *const prefixes[] = { "a", "a\x7f", "\xdf\xbf", "\xef\xbf\xbf",
	    "\xed\x9f\xbf", "q\xf4\x8f\xbf\xbf" };

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		char out[16], full[32];
		size_t pn = strlen(prefixes[i]), n = pw_utf8_successor(prefixes[i], pn, out);

		ck_assert_uint_gt(n, 0);
		ck_assert_uint_eq(pw_utf8_check(out, n), n);
		for (size_t j = 0; j < sizeof tails / sizeof tails[0]; j++) {
			size_t fn = pn + strlen(tails[j]), m = fn < n ? fn : n;
			int r;

			memcpy(full, prefixes[i], pn);
			memcpy(full + pn, tails[j], strlen(tails[j]));
			r = memcmp(full, out, m);
			ck_assert(r < 0 || (r == 0 && fn < n));
		}
	}
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, valid);
	tcase_add_test(tc, invalid);
	tcase_add_test(tc, exhaustive_short);
	tcase_add_test(tc, cut);
	tcase_add_test(tc, successor);
	tcase_add_test(tc, successor_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(utf8_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
