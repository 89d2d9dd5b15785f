/*
 * Tests for src/snappy.c: everything it writes is read back by a strict
 * decoder written here from format_description.txt, sharing no code with
 * the compressor, and by Google's libsnappy, on inputs that exercise
 * literals of every length form, both copy forms, long and overlapping
 * copies and fragment edges; and repetitive input must actually shrink.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "portada/snappy.h"

/* Decode a raw block; fails the test on anything the format forbids. */
static unsigned char *
decode(const unsigned char *p, size_t n, size_t *outlen)
{
	size_t i = 0, o = 0, len = 0, off;
	unsigned shift = 0;
	unsigned char *out;

	for (;;) {
		ck_assert_uint_lt(i, n);
		ck_assert_uint_lt(shift, 35);
		len |= (size_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if ((p[i++] & 0x80) == 0)
			break;
	}
	out = malloc(len + 1);
	ck_assert_ptr_nonnull(out);
	while (i < n) {
		unsigned char tag = p[i++];
		size_t l;

		switch (tag & 3) {
		case 0:
			l = tag >> 2;
			if (l >= 60) {
				size_t bytes = l - 59;

				ck_assert_uint_le(i + bytes, n);
				l = 0;
				for (size_t k = 0; k < bytes; k++)
					l |= (size_t)p[i + k] << (8 * k);
				i += bytes;
			}
			l++;
			ck_assert_uint_le(i + l, n);
			ck_assert_uint_le(o + l, len);
			memcpy(out + o, p + i, l);
			i += l;
			o += l;
			continue;
		case 1:
			ck_assert_uint_lt(i, n);
			l = 4 + ((tag >> 2) & 7);
			off = (size_t)(tag >> 5) << 8 | p[i++];
			break;
		case 2:
			ck_assert_uint_le(i + 2, n);
			l = 1 + (tag >> 2);
			off = p[i] | (size_t)p[i + 1] << 8;
			i += 2;
			break;
		default:
			ck_assert_uint_le(i + 4, n);
			l = 1 + (tag >> 2);
			off = p[i] | (size_t)p[i + 1] << 8 | (size_t)p[i + 2] << 16 |
			    (size_t)p[i + 3] << 24;
			i += 4;
			break;
		}
		ck_assert_uint_gt(off, 0);
		ck_assert_uint_le(off, o);
		ck_assert_uint_le(o + l, len);
		for (size_t k = 0; k < l; k++, o++)	/* byte by byte: copies overlap */
			out[o] = out[o - off];
	}
	ck_assert_uint_eq(o, len);
	*outlen = len;
	return out;
}

/* Compress, check the bound, decode, compare; returns the compressed size. */
static size_t
round_trip(const unsigned char *in, size_t n)
{
	size_t bound = pw_snappy_bound(n), got, back;
	unsigned char *c = malloc(bound), *d;

	ck_assert_ptr_nonnull(c);
	got = pw_snappy_compress(in, n, c);
	ck_assert_uint_le(got, bound);
	d = decode(c, got, &back);
	ck_assert_uint_eq(back, n);
	ck_assert(n == 0 || memcmp(d, in, n) == 0);
	memset(d, 0, n);
	ck_assert_int_eq(snappy_uncompress((const char *)c, got, (char *)d, &back), SNAPPY_OK);
	ck_assert_uint_eq(back, n);
	ck_assert(n == 0 || memcmp(d, in, n) == 0);
	free(c);
	free(d);
	return got;
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Every length from 0 to 300 and around each fragment edge. */
static const size_t lengths[] = { 65535, 65536, 65537, 131071, 131072, 131073, 200000 };

START_TEST(empty_and_tiny)
{
	unsigned char out[64];

	ck_assert_uint_eq(pw_snappy_compress("", 0, out), 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(pw_snappy_compress("a", 1, out), 3);
	ck_assert_mem_eq(out, "\x01\x00" "a", 3);
}
END_TEST

START_TEST(random_bytes)
{
	unsigned char *buf = malloc(200000);
	uint32_t s = 12345;

	for (size_t i = 0; i < 200000; i++)
		buf[i] = (unsigned char)rnd(&s);
	for (size_t n = 0; n <= 300; n++)
		round_trip(buf, n);
	for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
		round_trip(buf, lengths[k]);
	free(buf);
}
END_TEST

/* Short words from a small alphabet: many short copies, near and far. */
START_TEST(text_like)
{
	static const char *words[] = { "ship", " from ", "Barcelona", " to ", "Marseille",
	    "\n", "captain ", "cargo: wine, ", "oil", " 1854-03-", "12", "07", "\"x\":" };
	unsigned char *buf = malloc(300000);
	uint32_t s = 99;
	size_t n = 0;

	while (n < 290000) {
		const char *w = words[rnd(&s) % (sizeof words / sizeof words[0])];

		memcpy(buf + n, w, strlen(w));
		n += strlen(w);
	}
	for (size_t len = 0; len <= 300; len++)
		round_trip(buf, len);
	for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
		round_trip(buf, lengths[k]);
	ck_assert_uint_lt(round_trip(buf, n), n / 3);
	free(buf);
}
END_TEST

/* Runs: one byte repeated (offset 1, long copies cut in pieces), and periods. */
START_TEST(runs)
{
	unsigned char *buf = malloc(200000);

	memset(buf, 'z', 200000);
	ck_assert_uint_lt(round_trip(buf, 200000), 200000 / 20);
	for (size_t period = 2; period < 3000; period = period * 3 + 1) {
		for (size_t i = 0; i < 200000; i++)
			buf[i] = (unsigned char)(i % period * 37);
		for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
			round_trip(buf, lengths[k]);
	}
	free(buf);
}
END_TEST

/* Incompressible stretches between repeats: every literal length form. */
START_TEST(mixed)
{
	unsigned char *buf = malloc(400000);
	uint32_t s = 7;
	size_t n = 0;

	while (n < 390000) {
		size_t lit = rnd(&s) % 70000, rep = rnd(&s) % 300;

		if (n + lit + rep > 400000)
			break;
		for (size_t i = 0; i < lit; i++)
			buf[n++] = (unsigned char)rnd(&s);
		for (size_t i = 0; i < rep; i++, n++)
			buf[n] = n > 100 ? buf[n - 100] : 0;
	}
	round_trip(buf, n);
	free(buf);
}
END_TEST

static Suite *
snappy_suite(void)
{
	Suite *s = suite_create("snappy");
	TCase *tc = tcase_create("compress");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, empty_and_tiny);
	tcase_add_test(tc, random_bytes);
	tcase_add_test(tc, text_like);
	tcase_add_test(tc, runs);
	tcase_add_test(tc, mixed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(snappy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
