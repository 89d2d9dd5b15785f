/*
 * Tests for src/thrift.c: the Thrift compact protocol writer, against
 * byte vectors worked out by hand from apache/thrift
 * doc/specs/thrift-compact-protocol.md, and the buffer's hard limit.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/thrift.h"

static struct pw_buf buf;
static struct pw_thrift_w w;

static void
setup(void)
{
	pw_buf_init(&buf, 1 << 20);
	pw_thrift_w_init(&w, &buf);
}

static void
teardown(void)
{
	pw_buf_finish(&buf);
}

/* Compare the whole buffer with want, printing both on a mismatch. */
static void
expect_bytes(const unsigned char *want, size_t n)
{
	size_t i;

	if (buf.len != n || (n > 0 && memcmp(buf.data, want, n) != 0)) {
		fprintf(stderr, "got: ");
		for (i = 0; i < buf.len; i++)
			fprintf(stderr, "%02X ", buf.data[i]);
		fprintf(stderr, "\nwant:");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %02X", want[i]);
		fprintf(stderr, "\n");
	}
	ck_assert_uint_eq(buf.len, n);
	if (n > 0)
		ck_assert_mem_eq(buf.data, want, n);
}

#define EXPECT(...) do {						\
	static const unsigned char want_[] = { __VA_ARGS__ };		\
	expect_bytes(want_, sizeof want_);				\
} while (0)

START_TEST(short_deltas)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 1, 1), 0);
	ck_assert_int_eq(pw_thrift_field_i64(&w, 2, -1), 0);
	ck_assert_int_eq(pw_thrift_field_string(&w, 3, "ab"), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x15,		/* delta 1, type I32 (5) */
	    0x02,		/* zigzag(1) = 2 */
	    0x16,		/* delta 1 (id 2 after 1), type I64 (6) */
	    0x01,		/* zigzag(-1) = 1 */
	    0x18,		/* delta 1 (id 3 after 2), type BINARY (8) */
	    0x02, 'a', 'b',	/* length 2, then the bytes */
	    0x00);		/* STOP */
	ck_assert_int_eq(w.depth, 0);
}
END_TEST

START_TEST(long_form)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 1, 0), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 16, 0), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 32, 5), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 2, 0), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x15, 0x00,		/* id 1: delta 1, I32; value 0 */
	    0xF5, 0x00,		/* id 16: delta 15 is still short form */
	    0x05, 0x40, 0x0A,	/* id 32: delta 16, long form: type I32,
				   zigzag(32) = 64 = 0x40; value zigzag(5) = 10 */
	    0x05, 0x04, 0x00,	/* id 2: delta negative, long form: zigzag(2) = 4 */
	    0x00);		/* STOP */
}
END_TEST

START_TEST(jump_1_to_20)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 1, 0), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 20, 5), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x15, 0x00,		/* id 1, I32, value 0 */
	    0x05,		/* delta 19 > 15: long form, type byte I32 */
	    0x28,		/* zigzag(20) = 40 = 0x28 */
	    0x0A,		/* zigzag(5) = 10 */
	    0x00);		/* STOP */
}
END_TEST

START_TEST(zigzag_i32)
{
	ck_assert_int_eq(pw_thrift_write_i32(&w, 0), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, -1), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, 1), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, -64), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, 64), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, INT32_MAX), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, INT32_MIN), 0);
	ck_assert_int_eq(pw_thrift_write_i16(&w, -32768), 0);
	EXPECT(
	    0x00,			/* 0 -> 0 */
	    0x01,			/* -1 -> 1 */
	    0x02,			/* 1 -> 2 */
	    0x7F,			/* -64 -> 127, still one byte */
	    0x80, 0x01,			/* 64 -> 128: low 7 bits 0 + more, then 1 */
	    0xFE, 0xFF, 0xFF, 0xFF, 0x0F,	/* INT32_MAX -> 0xFFFFFFFE */
	    0xFF, 0xFF, 0xFF, 0xFF, 0x0F,	/* INT32_MIN -> 0xFFFFFFFF */
	    0xFF, 0xFF, 0x03);		/* i16 -32768 -> 65535 = 7+7+2 bits */
}
END_TEST

START_TEST(i64_extremes)
{
	ck_assert_int_eq(pw_thrift_write_i64(&w, INT64_MAX), 0);
	ck_assert_int_eq(pw_thrift_write_i64(&w, INT64_MIN), 0);
	ck_assert_int_eq(pw_thrift_write_i64(&w, -2), 0);
	EXPECT(
	    /* INT64_MAX -> 0xFFFFFFFFFFFFFFFE: low 7 bits 0x7E, then eight
	       groups of seven 1 bits (63 bits so far), then the last 1 bit */
	    0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
	    /* INT64_MIN -> 0xFFFFFFFFFFFFFFFF: nine full groups, then 1 */
	    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
	    0x03);	/* -2 -> 3 */
}
END_TEST

START_TEST(empty_string)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_string(&w, 1, ""), 0);
	ck_assert_int_eq(pw_thrift_field_binary(&w, 2, NULL, 0), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x18, 0x00,	/* id 1, BINARY, length 0, no bytes */
	    0x18, 0x00,	/* id 2 (delta 1), the same */
	    0x00);	/* STOP */
}
END_TEST

START_TEST(nested_struct)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 1, 1), 0);
	ck_assert_int_eq(pw_thrift_field_begin(&w, PW_THRIFT_STRUCT, 2), 0);
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 1, 7), 0);
	ck_assert_int_eq(pw_thrift_field_bool(&w, 5, true), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	ck_assert_int_eq(pw_thrift_field_i32(&w, 3, 3), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x15, 0x02,	/* outer id 1, I32, value zigzag(1) = 2 */
	    0x1C,	/* outer id 2: delta 1, type STRUCT (12) */
	    0x15, 0x0E,	/* inner id 1: delta 1 from 0 (reset), I32, zigzag(7) = 14 */
	    0x41,	/* inner id 5: delta 4, BOOLEAN_TRUE (1), no value byte */
	    0x00,	/* inner STOP */
	    0x15, 0x06,	/* outer id 3: delta 1 from the restored 2 (not from 5,
			   which would need the long form), I32, zigzag(3) = 6 */
	    0x00);	/* outer STOP */
	ck_assert_int_eq(w.depth, 0);
}
END_TEST

START_TEST(list_short)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_begin(&w, PW_THRIFT_LIST, 1), 0);
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_I32, 3), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, 1), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, 2), 0);
	ck_assert_int_eq(pw_thrift_write_i32(&w, -3), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x19,		/* id 1, type LIST (9) */
	    0x35,		/* size 3 << 4 | I32 (5) */
	    0x02, 0x04, 0x05,	/* zigzag 1, 2, -3 */
	    0x00);		/* STOP */
}
END_TEST

START_TEST(list_long)
{
	unsigned char want[2 + 20];
	int i;

	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_I32, 20), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(pw_thrift_write_i32(&w, i), 0);
	want[0] = 0xF5;		/* long form: 0xF0 | I32 (5) */
	want[1] = 0x14;		/* varint 20 */
	for (i = 0; i < 20; i++)
		want[2 + i] = (unsigned char)(2 * i);	/* zigzag(i), all < 128 */
	expect_bytes(want, sizeof want);
}
END_TEST

START_TEST(list_sizes)
{
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_BINARY, 0), 0);
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_STRUCT, 14), 0);
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_I64, 15), 0);
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_I32, 200), 0);
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_I32, (size_t)INT32_MAX + 1), -1);
	EXPECT(
	    0x08,		/* size 0, BINARY */
	    0xEC,		/* size 14 (last short one), STRUCT (12) */
	    0xF6, 0x0F,		/* size 15: long form, I64; varint 15 */
	    0xF5, 0xC8, 0x01);	/* size 200: varint 0x48|0x80, 0x01 */
}
END_TEST

START_TEST(bool_list)
{
	ck_assert_int_eq(pw_thrift_list_begin(&w, PW_THRIFT_BOOL, 2), 0);
	ck_assert_int_eq(pw_thrift_write_bool(&w, true), 0);
	ck_assert_int_eq(pw_thrift_write_bool(&w, false), 0);
	EXPECT(
	    0x22,		/* size 2, element type BOOL (2) */
	    0x01, 0x00);	/* one byte each: true 1, false 0 */
}
END_TEST

START_TEST(bool_fields)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_bool(&w, 1, true), 0);
	ck_assert_int_eq(pw_thrift_field_bool(&w, 2, false), 0);
	ck_assert_int_eq(pw_thrift_field_bool(&w, 30, true), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x11,		/* id 1, BOOLEAN_TRUE: the type is the value */
	    0x12,		/* id 2: delta 1 << 4 | BOOLEAN_FALSE (2) */
	    0x01, 0x3C,		/* id 30 (delta 28): long form, type TRUE,
				   zigzag(30) = 60 */
	    0x00);		/* STOP */
}
END_TEST

START_TEST(double_and_byte)
{
	ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_field_double(&w, 1, 1.5), 0);
	ck_assert_int_eq(pw_thrift_field_byte(&w, 2, -1), 0);
	ck_assert_int_eq(pw_thrift_field_i16(&w, 3, 300), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	EXPECT(
	    0x17,		/* id 1, DOUBLE (7) */
	    /* 1.5 = 0x3FF8000000000000, little-endian */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,
	    0x13, 0xFF,		/* id 2, BYTE (3): raw byte, not zigzag */
	    0x14, 0xD8, 0x04,	/* id 3, I16 (4): zigzag(300) = 600 =
				   0x58|0x80, 600 >> 7 = 4 */
	    0x00);		/* STOP */
}
END_TEST

START_TEST(limit_refuses)
{
	struct pw_buf small;
	struct pw_thrift_w sw;

	pw_buf_init(&small, 4);
	pw_thrift_w_init(&sw, &small);
	ck_assert_int_eq(pw_thrift_struct_begin(&sw), 0);
	/* Header + length + 4 bytes = 6 > 4: refused, nothing left behind. */
	ck_assert_int_eq(pw_thrift_field_string(&sw, 1, "abcd"), -1);
	ck_assert_uint_eq(small.len, 0);
	/* The last id did not move: id 1 is still a delta of 1 from 0. */
	ck_assert_int_eq(pw_thrift_field_i32(&sw, 1, 1), 0);
	/* Long form: type byte + zigzag(100) = 200 as a 2-byte varint +
	   1-byte value = 4 bytes; 2 are left. */
	ck_assert_int_eq(pw_thrift_field_i32(&sw, 100, 1), -1);
	ck_assert_uint_eq(small.len, 2);
	/* A long list header does not fit either; a 10-byte i64 neither. */
	ck_assert_int_eq(pw_thrift_list_begin(&sw, PW_THRIFT_I32, 1000), -1);
	ck_assert_int_eq(pw_thrift_write_i64(&sw, INT64_MIN), -1);
	ck_assert_int_eq(pw_thrift_write_double(&sw, 1.0), -1);
	ck_assert_uint_eq(small.len, 2);
	/* Short form again (0x11 below): the refused id 100 was not kept. */
	ck_assert_int_eq(pw_thrift_field_bool(&sw, 2, true), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&sw), 0);
	ck_assert_uint_eq(small.len, 4);
	/* Full: even the STOP of another struct is refused, depth kept. */
	ck_assert_int_eq(pw_thrift_struct_begin(&sw), 0);
	ck_assert_int_eq(pw_thrift_struct_end(&sw), -1);
	ck_assert_int_eq(sw.depth, 1);
	ck_assert_uint_eq(small.len, 4);
	ck_assert_uint_le(small.cap, 4);
	/* id 1 I32 value 1; id 2 (delta 1) BOOLEAN_TRUE; STOP */
	ck_assert_mem_eq(small.data, "\x15\x02\x11\x00", 4);
	pw_buf_finish(&small);
}
END_TEST

START_TEST(depth_limit)
{
	int i;

	for (i = 0; i < PW_THRIFT_MAX_DEPTH; i++)
		ck_assert_int_eq(pw_thrift_struct_begin(&w), 0);
	ck_assert_int_eq(pw_thrift_struct_begin(&w), -1);
	ck_assert_int_eq(w.depth, PW_THRIFT_MAX_DEPTH);
	for (i = 0; i < PW_THRIFT_MAX_DEPTH; i++)
		ck_assert_int_eq(pw_thrift_struct_end(&w), 0);
	ck_assert_uint_eq(buf.len, PW_THRIFT_MAX_DEPTH);
}
END_TEST

START_TEST(buf_basics)
{
	struct pw_buf b;
	unsigned char big[1000];

	memset(big, 0xAB, sizeof big);
	pw_buf_init(&b, 1500);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(pw_buf_append(&b, big, sizeof big), 0);
	ck_assert_int_eq(pw_buf_append(&b, big, 500), 0);
	ck_assert_uint_eq(b.len, 1500);
	ck_assert_uint_le(b.cap, 1500);
	ck_assert_int_eq(pw_buf_append_byte(&b, 1), -1);
	ck_assert_int_eq(pw_buf_append(&b, big, 0), 0);
	ck_assert_int_eq(pw_buf_reserve(&b, SIZE_MAX), -1);
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_buf_append_uvarint(&b, UINT64_MAX), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(pw_buf_append_u32le(&b, 0x01020304), 0);
	ck_assert_mem_eq(b.data + 10, "\x04\x03\x02\x01", 4);
	pw_buf_finish(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

static Suite *
thrift_suite(void)
{
	Suite *s = suite_create("thrift");
	TCase *tc = tcase_create("writer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, short_deltas);
	tcase_add_test(tc, long_form);
	tcase_add_test(tc, jump_1_to_20);
	tcase_add_test(tc, zigzag_i32);
	tcase_add_test(tc, i64_extremes);
	tcase_add_test(tc, empty_string);
	tcase_add_test(tc, nested_struct);
	tcase_add_test(tc, list_short);
	tcase_add_test(tc, list_long);
	tcase_add_test(tc, list_sizes);
	tcase_add_test(tc, bool_list);
	tcase_add_test(tc, bool_fields);
	tcase_add_test(tc, double_and_byte);
	tcase_add_test(tc, limit_refuses);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, buf_basics);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(thrift_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
