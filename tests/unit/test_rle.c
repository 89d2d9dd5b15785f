/*
 * Tests for src/rle.c: the Parquet RLE / bit-packing hybrid encoder.
 * Hand-checked byte vectors (one from parquet-format Encodings.md), and
 * round trips through a deliberately naive decoder written here from the
 * spec, bit by bit, sharing no code with the encoder.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/rle.h"

/* Read a ULEB128 varint at *pos; fails the test if it runs off the end. */
static uint64_t
read_varint(const unsigned char *p, size_t len, size_t *pos)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		ck_assert_uint_lt(*pos, len);
		ck_assert_uint_lt(shift, 64);
		v |= (uint64_t)(p[*pos] & 0x7F) << shift;
		shift += 7;
		if ((p[(*pos)++] & 0x80) == 0)
			return v;
	}
}

/*
 * Decode exactly n values from p[0..len) into out, checking that the data
 * ends exactly where the last run ends, that padding is zero and only in
 * the last run, and that every RLE run is at least min_rle long except a
 * final one.  Returns the number of runs.
 */
static size_t
decode(const unsigned char *p, size_t len, unsigned bw, uint32_t *out, size_t n)
{
	size_t pos = 0, got = 0, runs = 0;

	while (got < n) {
		uint64_t h = read_varint(p, len, &pos);

		runs++;
		if (h & 1) {
			uint64_t count = (h >> 1) * 8, k;
			size_t bit = pos * 8;

			ck_assert_uint_gt(count, 0);
			ck_assert_uint_le(pos + (h >> 1) * bw, len);
			for (k = 0; k < count; k++) {
				uint32_t v = 0;
				unsigned j;

				for (j = 0; j < bw; j++, bit++)
					if (p[bit / 8] >> (bit % 8) & 1)
						v |= (uint32_t)1 << j;
				if (got < n)
					out[got++] = v;
				else
					ck_assert_uint_eq(v, 0);	/* padding */
			}
			pos = bit / 8;
			ck_assert_uint_eq(bit % 8, 0);
		} else {
			uint64_t count = h >> 1, k;
			uint32_t v = 0;
			unsigned j;

			ck_assert_uint_gt(count, 0);
			ck_assert_uint_le(got + count, n);
			for (j = 0; j < (bw + 7) / 8; j++) {
				ck_assert_uint_lt(pos, len);
				v |= (uint32_t)p[pos++] << (8 * j);
			}
			if (bw < 32)
				ck_assert_uint_eq(v >> bw, 0);
			for (k = 0; k < count; k++)
				out[got++] = v;
		}
	}
	ck_assert_uint_eq(pos, len);
	return runs;
}

/* Encode, decode, compare; also check the length-prefixed variant. */
static void
round_trip(const uint32_t *values, size_t n, unsigned bw)
{
	struct pw_buf b, lb;
	uint32_t *out = malloc((n ? n : 1) * sizeof *out);
	size_t i;

	ck_assert_ptr_nonnull(out);
	pw_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(pw_rle_encode(&b, values, n, bw), 0);
	decode(b.data, b.len, bw, out, n);
	for (i = 0; i < n; i++)
		if (out[i] != values[i]) {
			fprintf(stderr, "n %zu bw %u: value %zu: got %u want %u\n",
			    n, bw, i, out[i], values[i]);
			ck_abort();
		}

	pw_buf_init(&lb, SIZE_MAX);
	ck_assert_int_eq(pw_rle_encode_with_length(&lb, values, n, bw), 0);
	ck_assert_uint_eq(lb.len, b.len + 4);
	ck_assert_uint_eq((uint32_t)lb.data[0] | (uint32_t)lb.data[1] << 8 |
	    (uint32_t)lb.data[2] << 16 | (uint32_t)lb.data[3] << 24, b.len);
	if (b.len > 0)
		ck_assert_mem_eq(lb.data + 4, b.data, b.len);

	pw_buf_finish(&b);
	pw_buf_finish(&lb);
	free(out);
}

static uint32_t
mask(unsigned bw)
{
	return bw == 32 ? UINT32_MAX : ((uint32_t)1 << bw) - 1;
}

/* A fixed xorshift, so failures reproduce on every platform. */
static uint32_t
next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void
expect_encoding(const uint32_t *values, size_t n, unsigned bw,
    const unsigned char *want, size_t wlen)
{
	struct pw_buf b;
	size_t i;

	pw_buf_init(&b, 1024);
	ck_assert_int_eq(pw_rle_encode(&b, values, n, bw), 0);
	if (b.len != wlen || memcmp(b.data, want, wlen) != 0) {
		fprintf(stderr, "got:");
		for (i = 0; i < b.len; i++)
			fprintf(stderr, " %02X", b.data[i]);
		fprintf(stderr, "\n");
	}
	ck_assert_uint_eq(b.len, wlen);
	ck_assert_mem_eq(b.data, want, wlen);
	pw_buf_finish(&b);
}

START_TEST(spec_example)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned char want[] = {
		0x03,	/* (1 group << 1) | 1: bit-packed */
		/* 000 001 010 011 100 101 110 111, LSB first:
		   bits 0-7:  v0=000, v1=001, v2=01(0) -> 10 001 000 = 0x88
		   bits 8-15: v2=0(1), v3=011, v4=100, v5=1(01) -> 1 100 011 0 = 0xC6
		   bits 16-23: v5=10, v6=110, v7=111 -> 111 110 10 = 0xFA */
		0x88, 0xC6, 0xFA,
	};

	expect_encoding(v, 8, 3, want, sizeof want);
}
END_TEST

START_TEST(rle_vectors)
{
	uint32_t v[100];
	static const unsigned char eight_fives[] = {
		0x10,		/* 8 << 1: RLE run of 8 */
		0x05,		/* value, ceil(3/8) = 1 byte */
	};
	static const unsigned char wide[] = {
		0x14,		/* 10 << 1 */
		0x2C, 0x01,	/* 300 in ceil(9/8) = 2 bytes, little-endian */
	};
	static const unsigned char zeros[] = {
		0xC8, 0x01,	/* 100 << 1 = 200 = 0x48|0x80, 0x01; width 0:
				   no value bytes */
	};
	static const unsigned char word[] = {
		0x10,			/* 8 << 1 */
		0xEF, 0xBE, 0xAD, 0xDE,	/* 0xDEADBEEF in 4 bytes */
	};
	static const unsigned char short_tail[] = {
		0x06,		/* 3 << 1: a lone short run is cheaper as RLE */
		0x01,
	};
	size_t i;

	for (i = 0; i < 8; i++)
		v[i] = 5;
	expect_encoding(v, 8, 3, eight_fives, sizeof eight_fives);
	for (i = 0; i < 10; i++)
		v[i] = 300;
	expect_encoding(v, 10, 9, wide, sizeof wide);
	for (i = 0; i < 100; i++)
		v[i] = 0;
	expect_encoding(v, 100, 0, zeros, sizeof zeros);
	for (i = 0; i < 8; i++)
		v[i] = 0xDEADBEEF;
	expect_encoding(v, 8, 32, word, sizeof word);
	for (i = 0; i < 3; i++)
		v[i] = 1;
	expect_encoding(v, 3, 1, short_tail, sizeof short_tail);
}
END_TEST

START_TEST(mixed_vector)
{
	uint32_t v[22];
	static const unsigned char want[] = {
		0x03,		/* 1 group, bit-packed */
		/* 1,2,3,3 at 2 bits: 01 | 10<<2 | 11<<4 | 11<<6 = 0xF9;
		   the run of twenty 3s starts mid-group and fills it */
		0xF9,
		0xFF,		/* 3,3,3,3 */
		0x1C,		/* the rest of the run: 14 << 1, RLE */
		0x03,		/* value 3, 1 byte */
	};
	size_t i;

	v[0] = 1;
	v[1] = 2;
	for (i = 2; i < 22; i++)
		v[i] = 3;
	expect_encoding(v, 22, 2, want, sizeof want);
}
END_TEST

START_TEST(length_prefix)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned char want[] = {
		0x04, 0x00, 0x00, 0x00,	/* 4 bytes follow, little-endian */
		0x03, 0x88, 0xC6, 0xFA,	/* the spec example */
	};
	struct pw_buf b;

	pw_buf_init(&b, 64);
	ck_assert_int_eq(pw_buf_append_byte(&b, 0xEE), 0);	/* not at 0 */
	ck_assert_int_eq(pw_rle_encode_with_length(&b, v, 8, 3), 0);
	ck_assert_uint_eq(b.len, 1 + sizeof want);
	ck_assert_mem_eq(b.data + 1, want, sizeof want);
	pw_buf_finish(&b);
}
END_TEST

START_TEST(bit_width)
{
	ck_assert_uint_eq(pw_rle_bit_width(0), 0);
	ck_assert_uint_eq(pw_rle_bit_width(1), 1);
	ck_assert_uint_eq(pw_rle_bit_width(2), 2);
	ck_assert_uint_eq(pw_rle_bit_width(3), 2);
	ck_assert_uint_eq(pw_rle_bit_width(4), 3);
	ck_assert_uint_eq(pw_rle_bit_width(7), 3);
	ck_assert_uint_eq(pw_rle_bit_width(8), 4);
	ck_assert_uint_eq(pw_rle_bit_width(255), 8);
	ck_assert_uint_eq(pw_rle_bit_width(256), 9);
	ck_assert_uint_eq(pw_rle_bit_width(0x7FFFFFFF), 31);
	ck_assert_uint_eq(pw_rle_bit_width(0x80000000), 32);
	ck_assert_uint_eq(pw_rle_bit_width(UINT32_MAX), 32);
}
END_TEST

START_TEST(refusals)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct pw_buf b;

	pw_buf_init(&b, 4);
	ck_assert_int_eq(pw_rle_encode(&b, v, 8, 33), -1);
	ck_assert_int_eq(pw_rle_encode(&b, v, 8, 2), -1);	/* 4..7 too wide */
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(pw_buf_append_byte(&b, 0xEE), 0);
	/* Needs 4 bytes, 3 left: refused, the 0xEE stays alone. */
	ck_assert_int_eq(pw_rle_encode(&b, v, 8, 3), -1);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_int_eq(pw_rle_encode_with_length(&b, v, 1, 3), -1);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_int_eq(pw_rle_encode(&b, v, 0, 3), 0);	/* nothing */
	ck_assert_uint_eq(b.len, 1);
	pw_buf_finish(&b);

	/* With a limit mid-way through a long mixed encoding. */
	pw_buf_init(&b, 7);
	{
		uint32_t w[40];
		size_t i;

		for (i = 0; i < 40; i++)
			w[i] = i < 20 ? 9 : (uint32_t)i;
		/* RLE 20 x 9 (2 bytes), then 3 groups of 6 bits (1 + 18). */
		ck_assert_int_eq(pw_rle_encode(&b, w, 40, 6), -1);
		ck_assert_uint_eq(b.len, 0);
	}
	pw_buf_finish(&b);
}
END_TEST

static const unsigned widths[] = { 0, 1, 2, 3, 7, 8, 9, 16, 31, 32 };

START_TEST(round_trips)
{
	unsigned bw = widths[_i];
	uint32_t m = mask(bw), v[300] = { 0 }, state = 12345u + bw;
	size_t n, i, k;
	static const size_t runlens[] = { 1, 7, 8, 9, 15, 16, 17 };

	for (n = 0; n <= 100; n++) {
		/* all the same (the largest value) */
		for (i = 0; i < n; i++)
			v[i] = m;
		round_trip(v, n, bw);
		/* alternating */
		for (i = 0; i < n; i++)
			v[i] = i % 2 ? m : 0;
		round_trip(v, n, bw);
		/* counting */
		for (i = 0; i < n; i++)
			v[i] = (uint32_t)i & m;
		round_trip(v, n, bw);
		/* random */
		for (i = 0; i < n; i++)
			v[i] = next_random(&state) & m;
		round_trip(v, n, bw);
		/* runs of exactly r, values alternating, behind an offset */
		for (k = 0; k < sizeof runlens / sizeof runlens[0]; k++) {
			size_t off;

			for (off = 0; off < 3; off++) {
				for (i = 0; i < n; i++)
					v[i] = i < off ? 1 & m :
					    ((i - off) / runlens[k]) % 2 ? m : 0;
				round_trip(v, n, bw);
			}
		}
	}
	/* random run lengths and values, longer */
	for (k = 0; k < 200; k++) {
		n = 0;
		while (n < 300) {
			size_t r = next_random(&state) % 20 + 1;
			uint32_t x = next_random(&state) & m;

			for (i = 0; i < r && n < 300; i++)
				v[n++] = x;
		}
		round_trip(v, n, bw);
	}
}
END_TEST

START_TEST(long_runs_are_rle)
{
	uint32_t v[1000];
	struct pw_buf b;
	uint32_t *out = malloc(sizeof v);
	size_t i;

	/* 1000 equal values: one RLE run, 3 bytes. */
	for (i = 0; i < 1000; i++)
		v[i] = 3;
	pw_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(pw_rle_encode(&b, v, 1000, 2), 0);
	ck_assert_uint_eq(b.len, 3);	/* varint(2000) is 2 bytes + value */
	ck_assert_uint_eq(decode(b.data, b.len, 2, out, 1000), 1);
	pw_buf_finish(&b);

	/* Blocks of 8 aligned on groups: RLE, bit-packed, RLE, ... */
	for (i = 0; i < 1000; i++)
		v[i] = (i / 8) % 2 ? (uint32_t)(i % 2) : 1;
	pw_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(pw_rle_encode(&b, v, 1000, 1), 0);
	ck_assert_uint_eq(decode(b.data, b.len, 1, out, 1000), 125);
	pw_buf_finish(&b);
	free(out);
}
END_TEST

static Suite *
rle_suite(void)
{
	Suite *s = suite_create("rle");
	TCase *tc = tcase_create("encoder");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, spec_example);
	tcase_add_test(tc, rle_vectors);
	tcase_add_test(tc, mixed_vector);
	tcase_add_test(tc, length_prefix);
	tcase_add_test(tc, bit_width);
	tcase_add_test(tc, refusals);
	tcase_add_loop_test(tc, round_trips, 0, (int)(sizeof widths / sizeof widths[0]));
	tcase_add_test(tc, long_runs_are_rle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
